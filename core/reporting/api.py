"""The reporting half of the :class:`covcore.Coverage` facade.

:class:`ReportMethods` is a mixin of ``Coverage`` (kept in its own module so
that neither half grows past a readable size): each method builds a reporter
from explicit configuration values and hands it the analyses.  It relies on
the facade's ``config``, ``get_data()``, ``_exclude_regex()``, ``_warn``,
``_message`` and debug plumbing.
"""

from __future__ import annotations

import os
import sys

from covcore.files import abs_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import IO, Any, Iterable, Iterator

    from covcore.analysis import Numbers
    from covcore.data import CoverageData

# The analysis machinery (ast, tokenize, the parsers) is imported when a
# report is made, not when covcore starts measuring a process.


class ReportMethods:
    """``analysis2``, ``report``, ``html_report``, ``xml_report``, ``json_report``,
    ``lcov_report``, ``annotate`` and the fail-under checks of :class:`covcore.Coverage`."""

    config: Any
    _reported: list[tuple[str, str, Numbers]]


    def analysis2(self, morf: Any) -> tuple[str, list[int], list[int], list[int], str]:
        """Analyse one file.

        :param morf: a file name or a module object.
        :returns: ``(filename, statements, excluded, missing, missing_formatted)``,
            line numbers 1-based and sorted, missing formatted as ``"33-35, 39"``.
        :raises NoSource, NotPython: the source can't be read or parsed.
        """
        from covcore.analysis import format_lines
        from covcore.reporting.common import analyze_file, resolve_morfs

        filename = getattr(morf, "__file__", morf)
        filename = resolve_morfs([filename])[0] if not os.path.isabs(filename) else abs_file(filename)
        analysis = analyze_file(filename, self.get_data(), self._exclude_regex(),
                                partial_list=self.config.partial_list,
                                partial_always_list=self.config.partial_always_list)
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
        contexts: Iterable[str] | None = None,
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
            contexts=contexts,
        )
        return total.pc_covered

    def _report_numbers(self, reporter: Any, *, morfs: Any, ignore_errors: Any, omit: Any, include: Any,
                        precision: Any, file: IO[str] | None, contexts: Any = None) -> Numbers:
        analyses = self._report_analyses(self._report_data(contexts), morfs=morfs, ignore_errors=ignore_errors,
                                         omit=omit, include=include, precision=precision)
        return reporter.report(analyses, file or sys.stdout)  # type: ignore[no-any-return]

    def _report_data(self, contexts: Iterable[str] | None) -> CoverageData:
        """The data to report: all of it, or only the contexts matching ``contexts``
        (regexes; default ``[report] contexts``)."""
        from covcore.reporting.contexts import data_for_contexts

        self._debug_startup()
        if isinstance(contexts, str):
            contexts = [contexts]
        return data_for_contexts(self.get_data(), _pick(contexts, self.config.report_contexts))

    def _report_analyses(self, data: CoverageData, *, morfs: Any, ignore_errors: Any, omit: Any, include: Any,
                         precision: Any) -> Iterator[tuple[str, Any]]:
        """``(report name, Analysis)`` for each file to report, each one recorded
        for the per-file thresholds (:meth:`fail_under_messages`)."""
        from covcore.reporting.common import analyses_to_report

        if isinstance(omit, str):
            omit = [omit]
        if isinstance(include, str):
            include = [include]
        morf_names = None
        if morfs:
            morf_names = [getattr(m, "__file__", m) for m in morfs]
        analyses = analyses_to_report(
            data,
            exclude_regex=self._exclude_regex(),
            morfs=morf_names,
            include=_pick(include, self.config.report_include),
            omit=_pick(omit, self.config.report_omit),
            ignore_errors=bool(_pick(ignore_errors, self.config.ignore_errors)),
            precision=_pick(precision, self.config.precision),
            warn=self._warn,
            partial_list=self.config.partial_list,
            partial_always_list=self.config.partial_always_list,
        )
        self._reported = []
        for name, analysis in analyses:
            self._reported.append((name, analysis.filename, analysis.numbers))
            yield name, analysis

    def fail_under_messages(self, total: float, fail_under: float | None = None,
                            precision: int | None = None) -> list[str]:
        """The ``Coverage failure: ...`` lines for the latest report: the total
        under ``fail_under`` (default ``[report] fail_under``), then each file
        under its ``[report] fail_under_files`` threshold.  Empty: success.

        :param total: the percentage the report returned.
        :raises ConfigError: ``fail_under`` outside 0-100.
        """
        from covcore.analysis import fail_under_message, should_fail_under
        from covcore.reporting.thresholds import file_threshold_failures

        fail_under = _pick(fail_under, self.config.fail_under)
        precision = _pick(precision, self.config.precision)
        messages = []
        if fail_under and should_fail_under(total, fail_under, precision):
            messages.append(fail_under_message(total, fail_under, precision))
        messages += file_threshold_failures(self._reported, self.config.fail_under_files or {}, precision)
        return messages

    def _file_report(self, name: str, outfile: str | None, options: Any, *, morfs: Any,
                     ignore_errors: Any, omit: Any, include: Any, contexts: Any, precision: Any = None) -> float:
        """Run a one-file reporter from the registry into ``outfile`` (``-``: stdout)."""
        from covcore.reporting.output import STDOUT, open_output
        from covcore.reporting.registry import default_registry

        spec = default_registry().get(name)
        data = self._report_data(contexts)
        reporter = spec.create(**options(data) if callable(options) else options)
        path = outfile or self.config.get_option(spec.output_option)
        analyses = self._report_analyses(data, morfs=morfs, ignore_errors=ignore_errors, omit=omit,
                                         include=include, precision=precision)
        with open_output(path) as out:
            total = reporter.report(analyses, out)
        if path != STDOUT:
            self._message(f"Wrote {spec.report_type} to {path}")
        return _percent(total)

    def html_report(
        self,
        morfs: Iterable[Any] | None = None,
        directory: str | None = None,
        ignore_errors: bool | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        extra_css: str | None = None,
        title: str | None = None,
        skip_covered: bool | None = None,
        skip_empty: bool | None = None,
        show_contexts: bool | None = None,
        contexts: Iterable[str] | None = None,
        precision: int | None = None,
    ) -> float:
        """Write the HTML report (default directory ``htmlcov``); return the
        total percentage covered (0 when there are no statements).

        Arguments override the ``[html]`` and ``[report]`` configuration.
        :raises NoDataError, NoSource, NotPython, ConfigError, OutputError.
        """
        from covcore.reporting.registry import default_registry

        data = self._report_data(contexts)
        cfg = self.config
        reporter = default_registry().get("html").create(
            directory=_pick(directory, cfg.html_dir),
            title=_pick(title, cfg.html_title),
            extra_css=_pick(extra_css, cfg.extra_css),
            skip_covered=bool(_pick(skip_covered, _pick(cfg.html_skip_covered, cfg.skip_covered))),
            skip_empty=bool(_pick(skip_empty, _pick(cfg.html_skip_empty, cfg.skip_empty))),
            show_contexts=bool(_pick(show_contexts, cfg.show_contexts)),
            precision=_pick(precision, cfg.precision),
            branches=data.has_arcs(),
            contexts_by_lineno=data.contexts_by_lineno,
            measured_contexts=data.measured_contexts(),
            warn=self._warn,
        )
        total = reporter.report(self._report_analyses(data, morfs=morfs, ignore_errors=ignore_errors, omit=omit,
                                                      include=include, precision=precision))
        self._message(f"Wrote HTML report to {reporter.index_file}")
        return _percent(total)

    def xml_report(
        self,
        morfs: Iterable[Any] | None = None,
        outfile: str | None = None,
        ignore_errors: bool | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        contexts: Iterable[str] | None = None,
        skip_empty: bool | None = None,
    ) -> float:
        """Write the Cobertura XML report to ``outfile`` (default ``coverage.xml``,
        ``-`` for stdout); return the total percentage covered."""
        cfg = self.config
        return self._file_report(
            "xml", outfile,
            lambda data: dict(source=cfg.source or [], relative_files=bool(cfg.relative_files),
                              package_depth=cfg.xml_package_depth,
                              skip_empty=bool(_pick(skip_empty, cfg.skip_empty)), branches=data.has_arcs()),
            morfs=morfs, ignore_errors=ignore_errors, omit=omit, include=include, contexts=contexts,
        )

    def json_report(
        self,
        morfs: Iterable[Any] | None = None,
        outfile: str | None = None,
        ignore_errors: bool | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        contexts: Iterable[str] | None = None,
        pretty_print: bool | None = None,
        show_contexts: bool | None = None,
    ) -> float:
        """Write the JSON report (coverage.py's format) to ``outfile`` (default
        ``coverage.json``, ``-`` for stdout); return the total percentage covered."""
        cfg = self.config
        return self._file_report(
            "json", outfile,
            lambda data: dict(precision=cfg.precision, pretty_print=bool(_pick(pretty_print, cfg.json_pretty_print)),
                              show_contexts=bool(_pick(show_contexts, cfg.json_show_contexts)),
                              branches=data.has_arcs(), contexts_by_lineno=data.contexts_by_lineno),
            morfs=morfs, ignore_errors=ignore_errors, omit=omit, include=include, contexts=contexts,
        )

    def lcov_report(
        self,
        morfs: Iterable[Any] | None = None,
        outfile: str | None = None,
        ignore_errors: bool | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        contexts: Iterable[str] | None = None,
    ) -> float:
        """Write the LCOV report to ``outfile`` (default ``coverage.lcov``, ``-``
        for stdout); return the total percentage covered."""
        cfg = self.config
        return self._file_report(
            "lcov", outfile,
            dict(line_checksums=bool(cfg.lcov_line_checksums), skip_empty=bool(cfg.skip_empty),
                 precision=cfg.precision),
            morfs=morfs, ignore_errors=ignore_errors, omit=omit, include=include, contexts=contexts,
        )

    def annotate(
        self,
        morfs: Iterable[Any] | None = None,
        directory: str | None = None,
        ignore_errors: bool | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        contexts: Iterable[str] | None = None,
    ) -> None:
        """Write annotated copies of the source files (``FILE,cover``), beside
        the sources or into ``directory``."""
        from covcore.reporting.registry import default_registry

        data = self._report_data(contexts)
        reporter = default_registry().get("annotate").create(directory=directory, precision=self.config.precision)
        reporter.report(self._report_analyses(data, morfs=morfs, ignore_errors=ignore_errors, omit=omit,
                                              include=include, precision=None))

    def run_report(self, name: str, outfile: str | None = None) -> float | None:
        """Run a report by its registered name, with its configured options:
        ``text`` (the summary table), ``html``, ``xml``, ``json``, ``lcov``,
        ``annotate``, or a reporter a plugin registered
        (:func:`covcore.hookspecs.covcore_register_reporters`).

        A plugin's reporter is built with ``config=`` (the
        :class:`~covcore.config.CovcoreConfig`) and ``branches=`` (bool)
        keyword arguments; a file reporter writes to ``outfile`` (default: its
        ``output_option``, else ``coverage.NAME``; ``-`` is stdout), a
        directory reporter into ``outfile`` (default: its ``output_option``,
        else ``NAMEcov``).

        :param name: the reporter's name.
        :param outfile: the output file or directory; None: the configured one.
        :returns: the total percentage covered (0-100); None for ``annotate``.
        :raises ConfigError: ``Unknown reporter 'x'``.
        :raises NoDataError, NoSource, NotPython, OutputError: as the reports do.
        """
        from covcore.reporting.output import STDOUT, open_output
        from covcore.reporting.registry import default_registry

        builtin = {
            "text": lambda: self.report(),
            "html": lambda: self.html_report(directory=outfile),
            "xml": lambda: self.xml_report(outfile=outfile),
            "json": lambda: self.json_report(outfile=outfile),
            "lcov": lambda: self.lcov_report(outfile=outfile),
            "annotate": lambda: self.annotate(directory=outfile),
        }
        spec = default_registry().get(name)
        if name in builtin and isinstance(spec.factory, str) and spec.factory.startswith("covcore."):
            return builtin[name]()  # type: ignore[no-any-return]
        data = self._report_data(None)
        options = dict(config=self.config, branches=data.has_arcs())
        default = self.config.get_option(spec.output_option) if spec.output_option else None
        analyses = self._report_analyses(data, morfs=None, ignore_errors=None, omit=None, include=None,
                                         precision=None)
        if spec.output == "directory":
            directory = outfile or default or f"{name}cov"
            total = spec.create(directory=directory, **options).report(analyses)
            self._message(f"Wrote {spec.report_type} to {directory}")
        else:
            path = outfile or default or f"coverage.{name}"
            with open_output(path) as out:
                total = spec.create(**options).report(analyses, out)
            if path != STDOUT:
                self._message(f"Wrote {spec.report_type} to {path}")
        return _percent(total)


def _pick(given: Any, configured: Any) -> Any:
    return configured if given is None else given


def _percent(total: Numbers) -> float:
    """A report's return value: the percentage covered, 0.0 when there is nothing to cover."""
    return total.pc_covered if total.n_statements else 0.0
