"""What every reporter needs: the files to report and their analyses."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
from typing import Callable, Iterable, Iterator

from covcore.analysis import Analysis, check_source_unchanged, resolve_executed_arcs
from covcore.astarcs import ArcAnalyzer
from covcore.data import CoverageData
from covcore.errors import CovcoreError, NoDataError, NoSource, NotPython, SourceChanged
from covcore.files import GlobMatcher, abs_file, relative_filename
from covcore.parser import DEFAULT_PARTIAL, DEFAULT_PARTIAL_ALWAYS, PythonParser


def human_key(name: str) -> list[object]:
    """Sort key that orders ``file2`` before ``file10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def resolve_morfs(morfs: Iterable[str]) -> list[str]:
    """File names or importable module names → absolute file names (globs expand)."""
    out = []
    for morf in morfs:
        if os.path.exists(morf):
            out.append(abs_file(morf))
            continue
        expanded = glob.glob(morf)
        if expanded:
            out.extend(abs_file(p) for p in expanded)
            continue
        try:
            spec = importlib.util.find_spec(morf)
        except (ImportError, ValueError, AttributeError):
            spec = None
        if spec is not None and spec.origin and os.path.exists(spec.origin):
            out.append(abs_file(spec.origin))
        else:
            out.append(abs_file(morf))
    return out


def analyze_file(
    filename: str,
    data: CoverageData,
    exclude_regex: str | None,
    precision: int = 0,
    partial_list: Iterable[str] = DEFAULT_PARTIAL,
    partial_always_list: Iterable[str] = DEFAULT_PARTIAL_ALWAYS,
) -> Analysis:
    """Join one file's statements (and, for branch data, its possible arcs)
    with what was measured.

    :param partial_list: ``[report] partial_branches`` plus ``partial_also``:
        regexes of lines whose missing branches aren't reported.
    :param partial_always_list: ``[report] partial_branches_always``.
    :raises NoSource: the source file is gone.
    :raises NotPython: the source cannot be parsed.
    :raises SourceChanged: (a NotPython) the source was changed after it was
        measured (:func:`covcore.analysis.check_source_unchanged`).
    """
    parser = PythonParser(filename=filename, exclude=exclude_regex)
    parser.parse_source()
    measured_lines = data.lines(filename) or ()
    check_source_unchanged(filename, measured_lines, parser.code_lines, parser.n_lines)
    executed = parser.translate_lines(measured_lines)
    analysis = Analysis(
        filename=filename,
        statements=set(parser.statements),
        excluded=set(parser.excluded),
        executed=executed & set(parser.statements),
        precision=precision,
    )
    if data.has_arcs():
        arcs = ArcAnalyzer(parser)
        possible = arcs.arcs()
        measured = arcs.translate_arcs(data.arcs(filename) or ())
        analysis.has_arcs = True
        analysis.arc_possibilities = set(possible)
        # coverage.py translates the resolved arcs once more (a no-op but for
        # contrived `with` nesting).
        analysis.arcs_executed = arcs.translate_arcs(resolve_executed_arcs(measured, possible))
        analysis.exit_counts = dict(arcs.exit_counts())
        analysis.no_branch = arcs.no_branch_lines(list(partial_list), list(partial_always_list))
        analysis.arc_description = arcs.missing_arc_description
    return analysis


def analyses_to_report(
    data: CoverageData,
    *,
    exclude_regex: str | None,
    morfs: Iterable[str] | None = None,
    include: Iterable[str] | None = None,
    omit: Iterable[str] | None = None,
    ignore_errors: bool = False,
    precision: int = 0,
    warn: Callable[[str, str], None] | None = None,
    partial_list: Iterable[str] = DEFAULT_PARTIAL,
    partial_always_list: Iterable[str] = DEFAULT_PARTIAL_ALWAYS,
) -> Iterator[tuple[str, Analysis]]:
    """Yield ``(report name, Analysis)`` for each file to report, sorted by name.

    :param partial_list, partial_always_list: the partial-branch regexes
        (see :func:`analyze_file`).
    :raises NoDataError: when there is no data at all.
    :raises NoSource, NotPython: for a file that can't be analysed, unless
        ``ignore_errors`` (then the file is skipped; for a NotPython, with a
        ``warn``: "Couldn't parse Python file '<file>'" as coverage.py says,
        or the SourceChanged message).
    """
    files = sorted(data.measured_files())
    if morfs:
        wanted = set(resolve_morfs(morfs))
        files = [f for f in files if f in wanted] + sorted(w for w in wanted if w not in set(files))
    if include:
        inc = GlobMatcher(include, "report_include")
        files = [f for f in files if inc.match(f)]
    if omit:
        om = GlobMatcher(omit, "report_omit")
        files = [f for f in files if not om.match(f)]
    if not files:
        raise NoDataError("No data to report.")
    for filename in files:
        try:
            analysis = analyze_file(filename, data, exclude_regex, precision, partial_list, partial_always_list)
        except (NoSource, NotPython) as exc:
            if ignore_errors:
                if isinstance(exc, SourceChanged):
                    if warn:
                        warn(f"{exc}; skipped", "source-changed")
                elif isinstance(exc, NotPython) and warn:
                    warn(f"Couldn't parse Python file '{filename}'", "couldnt-parse")
                continue
            raise
        except CovcoreError:
            raise
        yield relative_filename(filename), analysis
