"""The JSON report: ``covcore json``.

The schema is coverage.py 7.17's (format 3): ``meta``; ``files`` keyed by
report name, each with ``executed_lines``, ``summary``, ``missing_lines``,
``excluded_lines`` (``contexts`` with ``show_contexts``;
``executed_branches`` / ``missing_branches`` with branch data) and the
``functions`` / ``classes`` regions; and ``totals``.  Tools that read
coverage.py's JSON read this unchanged.  ``meta.version`` is the version of
the tool that wrote the file (covcore's); ``meta.tool`` says ``"covcore"``
and ``meta.coverage_py_format`` names the coverage.py release whose format
this is.
"""

from __future__ import annotations

import datetime
import json
from typing import IO, Any, Callable, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.reporting.regions import (
    REGION_KINDS,
    AnalysisNarrower,
    code_regions,
    pc_branches,
    pc_branches_str,
    pc_statements,
    pc_statements_str,
)

#: coverage.py's JSON format number (3: functions and classes regions).
FORMAT_VERSION = 3
#: The coverage.py release whose JSON this is.
COVERAGE_PY_FORMAT = "7.17"

JsonObj = dict[str, Any]


def make_summary(nums: Numbers) -> JsonObj:
    return {
        "covered_lines": nums.n_executed,
        "num_statements": nums.n_statements,
        "percent_covered": nums.pc_covered,
        "percent_covered_display": nums.pc_covered_str,
        "missing_lines": nums.n_missing,
        "excluded_lines": nums.n_excluded,
        "percent_statements_covered": pc_statements(nums),
        "percent_statements_covered_display": pc_statements_str(nums),
    }


def make_branch_summary(nums: Numbers) -> JsonObj:
    return {
        "num_branches": nums.n_branches,
        "num_partial_branches": nums.n_partial_branches,
        "covered_branches": nums.n_executed_branches,
        "missing_branches": nums.n_missing_branches,
        "percent_branches_covered": pc_branches(nums),
        "percent_branches_covered_display": pc_branches_str(nums),
    }


def _pairs(branch_arcs: dict[int, list[int]]) -> list[list[int]]:
    return [[src, dst] for src, dsts in branch_arcs.items() for dst in dsts]


class JsonReporter:
    """Writes coverage.py-format JSON.

    :param precision: ``[report] precision`` for the ``*_display`` strings.
    :param pretty_print: indent by 4.
    :param show_contexts: add ``contexts`` (line -> context names) per file.
    :param branches: the data has branch measurements.
    :param contexts_by_lineno: ``f(filename) -> {line: [context, ...]}``
        (needed with ``show_contexts``).
    :param read_source: ``f(filename) -> text`` (default: read the file).
    :param version: ``meta.version`` (default covcore's).
    :param timestamp: ``meta.timestamp`` (default now, ISO format).
    """

    report_type = "JSON report"

    def __init__(
        self,
        *,
        precision: int = 0,
        pretty_print: bool = False,
        show_contexts: bool = False,
        branches: bool = False,
        contexts_by_lineno: Callable[[str], dict[int, list[str]]] | None = None,
        read_source: Callable[[str], str] | None = None,
        version: str | None = None,
        timestamp: str | None = None,
    ) -> None:
        if read_source is None:
            from covcore.pysource import read_source
        if version is None:
            from covcore import __version__ as version
        self.precision = precision
        self.pretty_print = pretty_print
        self.show_contexts = show_contexts
        self.branches = branches
        self._contexts_by_lineno = contexts_by_lineno or (lambda filename: {})
        self._contexts_cache: dict[str, dict[int, list[str]]] = {}
        self.read_source = read_source
        self.version = version
        self.timestamp = timestamp

    def report(self, analyses: Iterable[tuple[str, Analysis]], outfile: IO[str]) -> Numbers:
        """Write the JSON for ``analyses``; return the total numbers."""
        data: JsonObj = {
            "meta": {
                "format": FORMAT_VERSION,
                "version": self.version,
                "timestamp": self.timestamp or datetime.datetime.now().isoformat(),
                "branch_coverage": self.branches,
                "show_contexts": self.show_contexts,
                "tool": "covcore",
                "coverage_py_format": COVERAGE_PY_FORMAT,
            },
        }
        total = Numbers(precision=self.precision)
        files: JsonObj = {}
        for name, analysis in analyses:
            total += analysis.numbers
            files[name] = self.report_one_file(analysis)
        data["files"] = files
        data["totals"] = make_summary(total)
        if self.branches:
            data["totals"].update(make_branch_summary(total))
        json.dump(data, outfile, indent=4 if self.pretty_print else None)
        return total

    def _record(
        self, analysis: Analysis, start_line: int | None = None, lines: set[int] | None = None
    ) -> JsonObj:
        """The lines (and branches) of a file or, given its ``start_line`` and
        ``lines``, of one of its regions, in coverage.py's key order.  A
        region's ``contexts`` list only the region's own lines (coverage.py
        7.17)."""
        nums = analysis.numbers
        summary = make_summary(nums)
        record: JsonObj = {
            "executed_lines": sorted(analysis.executed),
            "summary": summary,
            "missing_lines": sorted(analysis.missing),
            "excluded_lines": sorted(analysis.excluded),
        }
        if start_line is not None:
            record["start_line"] = start_line
        if self.show_contexts:
            contexts = self.contexts_by_lineno(analysis.filename)
            if lines is not None:
                contexts = {lineno: names for lineno, names in contexts.items() if lineno in lines}
            record["contexts"] = contexts
        if self.branches:
            summary.update(make_branch_summary(nums))
            record["executed_branches"] = _pairs(analysis.executed_branch_arcs())
            record["missing_branches"] = _pairs(analysis.missing_branch_arcs())
        return record

    def report_one_file(self, analysis: Analysis) -> JsonObj:
        reported = self._record(analysis)

        source = self.read_source(analysis.filename)
        num_lines = len(source.splitlines())
        regions = code_regions(source)
        for noun, plural in REGION_KINDS:
            outside = set(range(1, num_lines + 1))
            for region in regions:
                if region.kind == noun:
                    outside -= region.lines
            narrower = AnalysisNarrower(analysis)
            narrower.add_regions(r.lines for r in regions if r.kind == noun)
            narrower.add_regions([outside])

            region_data: JsonObj = {}
            reported[plural] = region_data
            noun_regions = [
                (r, narrower.narrow(r.lines)) for r in sorted(regions, key=lambda r: r.start) if r.kind == noun
            ]
            # As the LCOV report: the first same-named region with statements keeps the name.
            names = {r.name for r, narrowed in noun_regions if narrowed.numbers.n_statements}
            for region, narrowed in noun_regions:
                key = region.name
                if key in region_data or (key in names and not narrowed.numbers.n_statements):
                    key += f"@{region.start}"
                region_data[key] = self.make_region_data(narrowed, region.start, region.lines)
            region_data[""] = self.make_region_data(narrower.narrow(outside), min(outside, default=1), outside)
        return reported

    def contexts_by_lineno(self, filename: str) -> dict[int, list[str]]:
        if filename not in self._contexts_cache:
            self._contexts_cache = {filename: self._contexts_by_lineno(filename)}
        return self._contexts_cache[filename]

    def make_region_data(self, narrowed: Analysis, start_line: int, lines: set[int]) -> JsonObj:
        return self._record(narrowed, start_line, lines)
