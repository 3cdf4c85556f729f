"""The :class:`Coverage` facade: the public Python API, shaped like coverage.py's.

It wires config, selection, collection, data and reporting together and
keeps no logic of its own beyond that wiring.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import IO, Any, Iterable

from covcore import backend as _backend
from covcore.analysis import Numbers, format_lines
from covcore.collector import Collector
from covcore.config import CovcoreConfig, read_config
from covcore.data import CoverageData
from covcore.errors import ConfigError, CovcoreError
from covcore.files import abs_file
from covcore.reporting.common import analyses_to_report, analyze_file, join_regex, resolve_morfs
from covcore.selection import Selector

_DEFAULT = object()


class Coverage:
    """Measure code coverage; the shape of coverage.py's ``Coverage`` class.

    Arguments given here override the configuration file, which overrides
    the defaults (see :mod:`covcore.config`).

    :param data_file: the data file's name (str); None keeps data in memory
        only; omitted: ``[run] data_file`` (default ``.covcore``).
    :param data_suffix: True for a parallel-mode suffix, or a suffix string.
    :param cover_pylib: measure the standard library too.
    :param auto_data: load existing data at start and save at process exit.
    :param timid: use the pure-Python tracer.
    :param branch: measure branch coverage (arcs).
    :param config_file: True to search for config files, False for none, or a path.
    :param source: directories or package names to measure (list of str).
    :param source_pkgs: package names to measure (list of str).
    :param omit: file globs not to measure (list of str).
    :param include: file globs to measure (list of str), ignored with ``source``.
    :param debug: debug options (list of str), e.g. ``["trace", "sys"]``.
    :param concurrency: concurrency libraries in use (list of str); ``thread``.
    :raises ConfigError: for a bad configuration (when first used).
    """

    def __init__(
        self,
        data_file: Any = _DEFAULT,
        data_suffix: str | bool | None = None,
        cover_pylib: bool | None = None,
        auto_data: bool = False,
        timid: bool | None = None,
        branch: bool | None = None,
        config_file: str | bool = True,
        source: Iterable[str] | None = None,
        source_pkgs: Iterable[str] | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        debug: Iterable[str] | None = None,
        concurrency: str | Iterable[str] | None = None,
        context: str | None = None,
        messages: bool = False,
    ) -> None:
        if isinstance(omit, str):
            omit = [omit]
        if isinstance(include, str):
            include = [include]
        if isinstance(concurrency, str):
            concurrency = [concurrency]
        self._no_disk = data_file is None
        self._warned: set[str] = set()
        self._messages = messages
        self.config: CovcoreConfig = read_config(
            config_file=config_file,
            warn=self._warn,
            data_file=None if data_file is _DEFAULT or data_file is None else os.fspath(data_file),
            cover_pylib=cover_pylib,
            timid=timid,
            branch=branch,
            source=list(source) if source is not None else None,
            source_pkgs=list(source_pkgs) if source_pkgs is not None else None,
            run_omit=list(omit) if omit is not None else None,
            run_include=list(include) if include is not None else None,
            debug=list(debug) if debug is not None else None,
            concurrency=list(concurrency) if concurrency is not None else None,
            context=context,
            parallel=bool(data_suffix) if data_suffix is not None else None,
        )
        for conc in self.config.concurrency or []:
            if conc != "thread":
                raise ConfigError(f"Unsupported concurrency choice: {conc!r} (covcore supports 'thread')")
        self._data_suffix = data_suffix if data_suffix is not None else (True if self.config.parallel else None)
        self._auto_data = auto_data
        self._selector: Selector | None = None
        self._collector: Collector | None = None
        self._data: CoverageData | None = None
        self._backend: _backend.Backend | None = None
        self._started = False
        self._atexit_registered = False
        self._debug_out: IO[str] | None = None

    # -- plumbing -----------------------------------------------------------

    def _warn(self, message: str, slug: str, once: bool = False) -> None:
        """Show a warning unless ``[run] disable_warnings`` names its slug."""
        cfg = getattr(self, "config", None)
        if cfg is not None and slug in (cfg.disable_warnings or []):
            return
        if once and slug in self._warned:
            return
        self._warned.add(slug)
        sys.stderr.write(f"covcore: Warning: {message} ({slug})\n")
        sys.stderr.flush()

    def _debug(self, message: str) -> None:
        if self._debug_out is None:
            if self.config.debug_file:
                self._debug_out = open(self.config.debug_file, "a", encoding="utf-8")  # noqa: SIM115
            else:
                self._debug_out = sys.stderr
        self._debug_out.write(message + "\n")
        self._debug_out.flush()

    def _debugging(self, option: str) -> bool:
        return option in (self.config.debug or [])

    def _get_selector(self) -> Selector:
        if self._selector is None:
            if self.config.source and self.config.run_include:
                self._warn("--include is ignored because --source is set", "include-ignored")
            self._selector = Selector(
                source=self.config.source or (),
                source_pkgs=self.config.source_pkgs or (),
                include=self.config.run_include or (),
                omit=self.config.run_omit or (),
                cover_pylib=bool(self.config.cover_pylib),
                debug=self._debug if self._debugging("trace") else None,
            )
        return self._selector

    def get_data(self) -> CoverageData:
        """The collected data (including what the running tracers recorded so far)."""
        if self._data is None:
            self._data = CoverageData(
                basename=self.config.data_file,
                suffix=self._data_suffix,
                no_disk=self._no_disk,
                warn=self._warn,
            )
        if self._collector is not None:
            self._data.set_context(self.config.context)
            self._collector.flush_into(self._data)
        return self._data

    # -- measuring ----------------------------------------------------------

    def start(self) -> None:
        """Start measuring code (this thread, threads started later, and, with
        ``sys.monitoring``, every thread).

        :raises ConfigError: e.g. ``COVCORE_CORE`` names a backend that is not available.
        """
        if self._started:
            return
        if self._collector is None:
            self._backend = _backend.choose_backend(timid=bool(self.config.timid), branch=bool(self.config.branch))
            if self._backend.name == "python" and _backend.EXTENSION_ERROR and not self.config.timid:
                if not os.environ.get("COVCORE_CORE"):
                    self._warn(
                        f"covcore's C tracer is not available ({_backend.EXTENSION_ERROR}); "
                        "using the slower pure-Python tracer",
                        "no-ctracer",
                        once=True,
                    )
            if self._debugging("sys"):
                for key, value in self.sys_info():
                    self._debug(f"{key:>20}: {value}")
            selector = self._get_selector()
            self._collector = Collector(self._backend, selector.should_trace, bool(self.config.branch), self._warn)
            if self._auto_data:
                self.load()
        if self._auto_data and not self._atexit_registered:
            atexit.register(self._atexit)
            self._atexit_registered = True
        self._collector.start()
        self._started = True

    def stop(self) -> None:
        """Stop measuring.  Measurement can be started again with :meth:`start`."""
        if self._started and self._collector is not None:
            self._collector.stop()
        self._started = False

    def _atexit(self) -> None:
        self.stop()
        if self._auto_data:
            self.save()

    def __enter__(self) -> Coverage:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ---------------------------------------------------------------

    def load(self) -> None:
        """Load the data file (replacing data in memory).

        :raises DataError: the data file is not readable covcore data.
        """
        self._data = None
        data = self.get_data()
        data.read()

    def erase(self) -> None:
        """Erase collected data, in memory and on disk (in parallel mode, every
        parallel data file too)."""
        data = CoverageData(basename=self.config.data_file, no_disk=self._no_disk)
        data.erase(parallel=bool(self.config.parallel))
        self._data = None
        if self._collector is not None:
            self._collector.data.clear()
            for tracer in self._collector.tracers:
                tracer.restart()

    def save(self) -> None:
        """Save collected data to the data file in one step.

        Files below ``source`` that were never imported are recorded as
        measured with nothing executed, so reports show them at 0%.

        :raises DataError: the data file can't be written (names the path).
        """
        data = self.get_data()
        selector = self._get_selector()
        if self._collector is not None:
            for message, slug in selector.source_warnings():
                self._warn(message, slug)
            if not data and not any(self._collector.data.values()):
                self._warn("No data was collected.", "no-data-collected", once=True)
        if selector.has_source:
            measured = data.measured_files()
            unexecuted = [f for f in selector.unexecuted_source_files() if f not in measured]
            data.touch_files(unexecuted)
        data.meta["sys_argv"] = " ".join(sys.argv)
        data.write()

    # -- exclusions ---------------------------------------------------------

    def _exclude_attr(self, which: str) -> str:
        if which not in ("exclude", "partial"):
            raise ConfigError(f"Unknown exclusion kind: {which!r} (expected 'exclude' or 'partial')")
        return f"{which}_list"

    def exclude(self, regex: str, which: str = "exclude") -> None:
        """Add a regex to the lines excluded from reporting (``which="exclude"``)
        or to the partial-branch exclusions (``which="partial"``)."""
        attr = self._exclude_attr(which)
        setattr(self.config, attr, list(getattr(self.config, attr)) + [regex])

    def clear_exclude(self, which: str = "exclude") -> None:
        """Remove every exclusion regex of one kind (the defaults too)."""
        setattr(self.config, self._exclude_attr(which), [])

    def get_exclude_list(self, which: str = "exclude") -> list[str]:
        """The exclusion regexes of one kind, as a list of str."""
        return list(getattr(self.config, self._exclude_attr(which)))

    def _exclude_regex(self) -> str | None:
        return join_regex(self.config.exclude_list) if self.config.exclude_list else None

    # -- reporting ----------------------------------------------------------

    def analysis2(self, morf: Any) -> tuple[str, list[int], list[int], list[int], str]:
        """Analyse one file.

        :param morf: a file name or a module object.
        :returns: ``(filename, statements, excluded, missing, missing_formatted)``,
            line numbers 1-based and sorted, missing formatted as ``"33-35, 39"``.
        :raises NoSource, NotPython: the source can't be read or parsed.
        """
        filename = getattr(morf, "__file__", morf)
        filename = resolve_morfs([filename])[0] if not os.path.isabs(filename) else abs_file(filename)
        analysis = analyze_file(filename, self.get_data(), self._exclude_regex())
        missing = sorted(analysis.missing)
        return (
            filename,
            sorted(analysis.statements),
            sorted(analysis.excluded),
            missing,
            format_lines(analysis.statements, missing),
        )

    def report(
        self,
        morfs: Iterable[Any] | None = None,
        show_missing: bool | None = None,
        ignore_errors: bool | None = None,
        file: IO[str] | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        skip_covered: bool | None = None,
        skip_empty: bool | None = None,
        precision: int | None = None,
        sort: str | None = None,
        output_format: str | None = None,
    ) -> float:
        """Write the summary table (coverage.py's text report) and return the
        total percentage covered, 0–100.

        Arguments override the ``[report]`` configuration.
        :raises NoDataError: there is nothing to report.
        :raises NoSource, NotPython: a file can't be analysed (unless ignore_errors).
        :raises ConfigError: bad sort column or format.
        """
        from covcore.reporting.text import TextReporter

        total = self._report_numbers(
            TextReporter(
                show_missing=_pick(show_missing, self.config.show_missing),
                skip_covered=_pick(skip_covered, self.config.skip_covered),
                skip_empty=_pick(skip_empty, self.config.skip_empty),
                precision=_pick(precision, self.config.precision),
                sort=_pick(sort, self.config.sort),
                output_format=_pick(output_format, self.config.format),
                branches=self.get_data().has_arcs(),
            ),
            morfs=morfs,
            ignore_errors=ignore_errors,
            omit=omit,
            include=include,
            precision=precision,
            file=file,
        )
        return total.pc_covered

    def _report_numbers(self, reporter: Any, *, morfs: Any, ignore_errors: Any, omit: Any, include: Any,
                        precision: Any, file: IO[str] | None) -> Numbers:
        if isinstance(omit, str):
            omit = [omit]
        if isinstance(include, str):
            include = [include]
        morf_names = None
        if morfs:
            morf_names = [getattr(m, "__file__", m) for m in morfs]
        analyses = analyses_to_report(
            self.get_data(),
            exclude_regex=self._exclude_regex(),
            morfs=morf_names,
            include=_pick(include, self.config.report_include),
            omit=_pick(omit, self.config.report_omit),
            ignore_errors=bool(_pick(ignore_errors, self.config.ignore_errors)),
            precision=_pick(precision, self.config.precision),
            warn=self._warn,
        )
        return reporter.report(analyses, file or sys.stdout)

    # -- information --------------------------------------------------------

    def sys_info(self) -> list[tuple[str, Any]]:
        """Facts about this installation, as ``(name, value)`` pairs (``covcore debug sys``)."""
        from covcore import __version__

        chosen = self._backend
        if chosen is None:
            try:
                chosen = _backend.choose_backend(timid=bool(self.config.timid), branch=bool(self.config.branch))
            except CovcoreError as exc:
                chosen = None
                reason = str(exc)
        return [
            ("covcore_version", __version__),
            ("covcore_module", os.path.dirname(__file__)),
            ("tracer_backend", chosen.name if chosen else "none"),
            ("backend_reason", chosen.reason if chosen else reason),
            ("c_extension", "available" if _backend.EXTENSION_ERROR is None else f"missing ({_backend.EXTENSION_ERROR})"),
            ("available_backends", ", ".join(_backend.available_backends())),
            ("config_files_read", ", ".join(self.config.config_files_read) or "-none-"),
            ("config_file", self.config.config_file or "-none-"),
            ("data_file", self.get_data().data_filename() if not self._no_disk else "-none- (in memory)"),
            ("python", sys.version.replace("\n", " ")),
            ("platform", sys.platform),
            ("executable", sys.executable),
            ("cwd", os.getcwd()),
            ("branch", bool(self.config.branch)),
            ("source", self.config.source or []),
        ]

    def get_option(self, name: str) -> Any:
        """A configuration option by its ``section:name`` (e.g. ``"run:branch"``)."""
        return self.config.get_option(name)

    def set_option(self, name: str, value: Any) -> None:
        """Set a configuration option by its ``section:name``."""
        self.config.set_option(name, value)


def _pick(given: Any, configured: Any) -> Any:
    return configured if given is None else given
