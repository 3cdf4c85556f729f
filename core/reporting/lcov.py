"""The LCOV report: ``covcore lcov``.

One record per file, sorted by report name, as coverage.py 7.17 writes them
(``coverage/lcovreport.py``)::

    SF:<report name>
    DA:<line>,<0|1>[,<md5 checksum>]     one per statement
    LF:<statements>  LH:<executed>       (files with statements)
    FN:<first>,<last>,<name>             one per function with statements
    FNDA:<0|1>,<name>
    FNF:<functions>  FNH:<functions run>
    BRDA:<line>,0,<arc description>,<1|0|->   branch data only
    BRF:<branches>  BRH:<branches taken>
    end_of_record
"""

from __future__ import annotations

import base64
import hashlib
from typing import IO, Callable, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.reporting.regions import AnalysisNarrower, arc_action, code_regions


def lcov_field(text: str) -> str:
    """``text`` safe as one LCOV field: control characters (a newline in a
    file name would forge records) become ``?``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def line_hash(line: str) -> str:
    """LCOV's line checksum: base64 MD5 without the ``=`` padding (not a security use)."""
    digest = hashlib.md5(line.encode("utf-8"), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii").rstrip("=")


class LcovReporter:
    """Writes an LCOV tracefile.

    :param line_checksums: ``[lcov] line_checksums``: add each line's checksum.
    :param skip_empty: leave out files with no statements.
    :param read_source: ``f(filename) -> text`` (default: read the file).
    """

    report_type = "LCOV report"

    def __init__(
        self,
        *,
        line_checksums: bool = False,
        skip_empty: bool = False,
        precision: int = 0,
        read_source: Callable[[str], str] | None = None,
    ) -> None:
        if read_source is None:
            from covcore.pysource import read_source
        self.line_checksums = line_checksums
        self.skip_empty = skip_empty
        self.precision = precision
        self.read_source = read_source

    def report(self, analyses: Iterable[tuple[str, Analysis]], outfile: IO[str]) -> Numbers:
        """Write the records for ``analyses``; return the total numbers."""
        total = Numbers(precision=self.precision)
        for name, analysis in sorted(analyses, key=lambda item: item[0]):
            total += analysis.numbers
            self.lcov_file(name, analysis, outfile)
        return total

    def lcov_file(self, name: str, analysis: Analysis, outfile: IO[str]) -> None:
        nums = analysis.numbers
        if nums.n_statements == 0 and self.skip_empty:
            return
        outfile.write(f"SF:{lcov_field(name)}\n")
        source = self.read_source(analysis.filename)
        lines = sorted(analysis.statements)
        source_lines = source.splitlines() if self.line_checksums else []

        missing = analysis.missing
        for line in lines:
            suffix = f",{line_hash(source_lines[line - 1])}" if source_lines else ""
            outfile.write(f"DA:{line},{int(line not in missing)}{suffix}\n")
        if nums.n_statements > 0:
            outfile.write(f"LF:{nums.n_statements}\n")
            outfile.write(f"LH:{nums.n_executed}\n")

        self._functions(source, analysis, outfile)
        if analysis.has_arcs:
            self._arcs(analysis, lines, outfile)
        outfile.write("end_of_record\n")

    @staticmethod
    def _functions(source: str, file_analysis: Analysis, outfile: IO[str]) -> None:
        functions = [
            (min(region.start, min(region.lines)), max(region.start, max(region.lines)), region)
            for region in code_regions(source)
            if region.kind == "function" and region.lines
        ]
        if not functions:
            return
        narrower = AnalysisNarrower(file_analysis)
        narrower.add_regions(r.lines for _, _, r in functions)
        functions.sort(key=lambda f: (f[0], f[1], f[2].name, f[2].start))
        found = hit_count = 0
        names: set[str] = set()
        for first_line, last_line, region in functions:
            analysis = narrower.narrow(region.lines)
            nums = analysis.numbers
            if nums.n_statements == 0:
                continue
            found += 1
            hit = int(nums.n_executed > 0)
            hit_count += hit
            name = lcov_field(region.name)
            if name in names:
                name += f"@{first_line}"
            else:
                names.add(name)
            outfile.write(f"FN:{first_line},{last_line},{name}\n")
            outfile.write(f"FNDA:{hit},{name}\n")
        outfile.write(f"FNF:{found}\n")
        outfile.write(f"FNH:{hit_count}\n")

    @staticmethod
    def _arcs(analysis: Analysis, lines: list[int], outfile: IO[str]) -> None:
        branch_stats = analysis.branch_stats()
        executed_arcs = analysis.executed_branch_arcs()
        missing_arcs = analysis.missing_branch_arcs()
        for line in lines:
            if line not in branch_stats:
                continue
            _, taken = branch_stats[line]
            if taken == 0:
                # No exit taken: the line always raised (or never ran).
                destinations = [(dst, "-") for dst in missing_arcs.get(line, [])]
            else:
                destinations = [(dst, "1") for dst in executed_arcs.get(line, [])]
                destinations.extend((dst, "0") for dst in missing_arcs.get(line, []))
            # Exits after ordinary jumps, as coverage.py orders them.
            destinations.sort(key=lambda d: (d[0] < 0, d))
            for dst, hit in destinations:
                outfile.write(f"BRDA:{line},0,{lcov_field(arc_action(analysis, line, dst))},{hit}\n")
        brf = sum(t for t, _ in branch_stats.values())
        brh = brf - sum(t - k for t, k in branch_stats.values())
        if brf > 0:
            outfile.write(f"BRF:{brf}\n")
            outfile.write(f"BRH:{brh}\n")
