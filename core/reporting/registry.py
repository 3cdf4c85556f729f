"""The reporters covcore knows, by name.

A reporter is a class built with its configuration values as keyword
arguments and then given the analyses explicitly:

* a *file* reporter (``output="file"``): ``report(analyses, outfile) -> Numbers``
  writes one stream (``-`` is stdout);
* a *directory* reporter (``output="directory"``): built with a
  ``directory=`` argument, ``report(analyses) -> Numbers`` writes files there.

``analyses`` is an iterable of ``(report name, Analysis)`` pairs
(:func:`covcore.reporting.common.analyses_to_report`); the returned
:class:`~covcore.analysis.Numbers` is the total of every analysed file.

Every reporter, covcore's own included, is registered through the
``covcore_register_reporters`` hook (:mod:`covcore.hookspecs`), which calls
:meth:`ReporterRegistry.register`; covcore's built-in plugin does it with
:func:`register_builtin_reporters`.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

from covcore.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ReporterSpec:
    """One registered reporter.

    :param name: the command/format name (``"xml"``).
    :param factory: the reporter class (or any callable making one), or a
        ``"module:attribute"`` string imported when first used.
    :param report_type: for messages: ``Wrote <report_type> to <path>``.
    :param output: ``"file"`` or ``"directory"`` (see the module doc).
    :param output_option: the ``section:option`` holding the default
        output file or directory (``"xml:output"``), or None.
    :param description: one line for help texts.
    """

    name: str
    factory: Callable[..., Any] | str
    report_type: str
    output: str = "file"
    output_option: str | None = None
    description: str = ""

    def load(self) -> Callable[..., Any]:
        """The reporter class (importing it if it was named by a string)."""
        if isinstance(self.factory, str):
            module, _, attr = self.factory.partition(":")
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        return self.factory

    def create(self, **options: Any) -> Any:
        """Build the reporter with its configuration values."""
        return self.load()(**options)


class ReporterRegistry:
    """Reporter specs by name, in registration order."""

    def __init__(self) -> None:
        self._specs: dict[str, ReporterSpec] = {}

    def register(self, spec: ReporterSpec, *, replace: bool = False) -> None:
        """Add a reporter.

        :raises ConfigError: the name is taken (unless ``replace``) or the
            output kind is unknown.
        """
        if spec.output not in ("file", "directory"):
            raise ConfigError(f"Reporter {spec.name!r}: unknown output kind {spec.output!r}")
        if spec.name in self._specs and not replace:
            raise ConfigError(f"A reporter named {spec.name!r} is already registered")
        self._specs[spec.name] = spec

    def get(self, name: str) -> ReporterSpec:
        """The spec of a reporter.  :raises ConfigError: ``Unknown reporter 'x'``."""
        try:
            return self._specs[name]
        except KeyError:
            raise ConfigError(f"Unknown reporter {name!r} (known: {', '.join(self._specs)})") from None

    def names(self) -> list[str]:
        return list(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def register_builtin_reporters(registry: ReporterRegistry) -> None:
    """covcore's own reporters, registered as any plugin's would be."""
    for spec in (
        ReporterSpec("text", "covcore.reporting.text:TextReporter", "text report",
                     description="The summary table (also markdown and total)."),
        ReporterSpec("html", "covcore.reporting.html:HtmlReporter", "HTML report", output="directory",
                     output_option="html:directory", description="Browsable HTML pages."),
        ReporterSpec("xml", "covcore.reporting.xml:XmlReporter", "XML report",
                     output_option="xml:output", description="Cobertura XML."),
        ReporterSpec("json", "covcore.reporting.jsonreport:JsonReporter", "JSON report",
                     output_option="json:output", description="coverage.py's JSON format."),
        ReporterSpec("lcov", "covcore.reporting.lcov:LcovReporter", "LCOV report",
                     output_option="lcov:output", description="LCOV tracefile."),
        ReporterSpec("annotate", "covcore.reporting.annotate:AnnotateReporter", "annotated source",
                     output="directory", description="Source copies marked line by line."),
    ):
        registry.register(spec)


_DEFAULT: ReporterRegistry | None = None


def default_registry() -> ReporterRegistry:
    """The process-wide registry, filled on first use by the
    ``covcore_register_reporters`` hook (built-in and plugins' reporters).

    :raises ConfigError: a plugin can't be loaded, or registers a name twice.
    """
    global _DEFAULT
    if _DEFAULT is None:
        from covcore.plugins import get_plugin_manager

        registry = ReporterRegistry()
        get_plugin_manager().hook.covcore_register_reporters(registry=registry)
        _DEFAULT = registry
    return _DEFAULT
