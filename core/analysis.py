"""Analysis results: measured data joined with a file's static analysis.

:class:`Numbers` add up (``sum`` works), so per-file results make a total.
Percentages are 0–100.  Display rules follow coverage.py: 100% is shown only
when truly 100, 0% only when truly 0.
"""

from __future__ import annotations

import collections
import dataclasses
from decimal import Decimal
from typing import AbstractSet, Callable, Iterable, Mapping

from covcore.errors import ConfigError, SourceChanged
from covcore.types import TArc


def display_covered(pc: float, precision: int) -> str:
    """Format a percentage (0–100) with ``precision`` decimals.

    A value just above 0 never rounds to 0, and a value just below 100 never
    rounds to 100 (coverage.py semantics).
    """
    near0 = 1.0 / 10**precision
    if 0 < pc < near0:
        pc = near0
    elif (100.0 - near0) < pc < 100:
        pc = 100.0 - near0
    else:
        pc = round(pc, precision)
    return "%.*f" % (precision, pc)


def _fail_under_precision(fail_under: float, precision: int) -> int:
    """At least enough decimals to represent the threshold itself (coverage.py 7.17)."""
    if fail_under == int(fail_under):
        return precision
    exponent = Decimal(str(fail_under)).as_tuple().exponent
    assert isinstance(exponent, int)
    return max(precision, -exponent)


def should_fail_under(total: float, fail_under: float, precision: int) -> bool:
    """Is a total percentage under the ``fail_under`` threshold?

    Semantics of coverage.py 7.17: the total is rounded to ``precision``
    decimals, or to as many as the threshold has (``--fail-under=97.25``
    compares at 2 decimals); 100 must be met exactly.

    :param total: the total percentage, 0–100.
    :param fail_under: the threshold, 0–100.
    :raises ConfigError: when ``fail_under`` is outside 0–100.
    """
    if not 0 <= fail_under <= 100.0:
        raise ConfigError(f"fail_under={fail_under} is invalid. Must be between 0 and 100.")
    if fail_under == 100.0 and total != 100.0:
        return True
    return round(total, _fail_under_precision(fail_under, precision)) < fail_under


def fail_under_message(total: float, fail_under: float, precision: int) -> str:
    """The one-line message for a failed fail-under check (coverage.py's wording)."""
    precision = _fail_under_precision(fail_under, precision)
    if fail_under == 100.0 and total != 100.0:
        shown = display_covered(total, precision)
    else:
        shown = f"{round(total, precision):.{precision}f}"
    return f"Coverage failure: total of {shown} is less than fail-under={fail_under:.{precision}f}"


@dataclasses.dataclass(frozen=True)
class Numbers:
    """Counts for one file or a total.  Add them with ``+``."""

    precision: int = 0
    n_files: int = 0
    n_statements: int = 0
    n_excluded: int = 0
    n_missing: int = 0
    n_branches: int = 0
    n_partial_branches: int = 0
    n_missing_branches: int = 0

    @property
    def n_executed(self) -> int:
        return self.n_statements - self.n_missing

    @property
    def n_executed_branches(self) -> int:
        return self.n_branches - self.n_missing_branches

    @property
    def fully_covered(self) -> bool:
        """Nothing missing: no missing statement and no partial branch
        (what ``--skip-covered`` skips)."""
        return self.n_missing == 0 and self.n_partial_branches == 0

    @property
    def pc_covered(self) -> float:
        """The percentage covered, 0–100 (100 for a file with nothing to run)."""
        denom = self.n_statements + self.n_branches
        if denom == 0:
            return 100.0
        return 100.0 * (self.n_executed + self.n_executed_branches) / denom

    @property
    def pc_covered_str(self) -> str:
        """:attr:`pc_covered` formatted with :func:`display_covered`."""
        return display_covered(self.pc_covered, self.precision)

    def __add__(self, other: Numbers) -> Numbers:
        return Numbers(
            precision=max(self.precision, other.precision),
            n_files=self.n_files + other.n_files,
            n_statements=self.n_statements + other.n_statements,
            n_excluded=self.n_excluded + other.n_excluded,
            n_missing=self.n_missing + other.n_missing,
            n_branches=self.n_branches + other.n_branches,
            n_partial_branches=self.n_partial_branches + other.n_partial_branches,
            n_missing_branches=self.n_missing_branches + other.n_missing_branches,
        )

    def __radd__(self, other: int) -> Numbers:
        # Lets sum() start from 0.
        if other == 0:
            return self
        return NotImplemented


def line_ranges(statements: Iterable[int], lines: Iterable[int]) -> list[tuple[int, int]]:
    """Group ``lines`` into ranges that are consecutive among ``statements``.

    A range may jump over line numbers that are not statements (blank lines,
    comments), as coverage.py's "Missing" column does.
    """
    wanted = set(lines)
    ranges: list[tuple[int, int]] = []
    start = end = None
    for stmt in sorted(statements):
        if stmt in wanted:
            if start is None:
                start = stmt
            end = stmt
        elif start is not None:
            ranges.append((start, end))  # type: ignore[arg-type]
            start = None
    if start is not None:
        ranges.append((start, end))  # type: ignore[arg-type]
    return ranges


def format_lines(
    statements: Iterable[int],
    lines: Iterable[int],
    arcs: Mapping[int, Iterable[int]] | None = None,
) -> str:
    """Format missing lines (and missing branches) as coverage.py does.

    :param statements: all statement lines.
    :param lines: the missing lines: ``"1-2, 5-11, 13"``.
    :param arcs: missing branches, ``{from_line: [to_line, ...]}``; each is
        shown as ``"36->38"`` (or ``"40->exit"`` for a negative destination)
        unless its source or destination line is itself missing.
    """
    lines = set(lines)
    items = [(a, str(a) if a == b else f"{a}-{b}") for a, b in line_ranges(statements, lines)]
    if arcs is not None:
        for line, exits in sorted(arcs.items()):
            for ex in sorted(exits):
                if line not in lines and ex not in lines:
                    items.append((line, f"{line}->{ex if ex > 0 else 'exit'}"))
    return ", ".join(text for _, text in sorted(items))


def check_source_unchanged(
    filename: str, measured: Iterable[int], code_lines: AbstractSet[int], n_lines: int
) -> None:
    """Check that the measured lines of a file can have run in its current text.

    A line that ran is a line of code of the text that ran.  So a measured
    line beyond the end of the current text, or on a line that now holds no
    code (a blank or comment-only line outside any statement), proves that
    the file was changed after it was measured.  Line 1 is never taken as
    proof: Python 3.10 puts the code of an empty module on line 1.

    This is a heuristic: an edit that keeps every measured line on a line of
    code (changing a statement in place, or moving code so that the lines
    that ran still land on code) is not detected.

    :param filename: the file's name, for the message.
    :param measured: the measured line numbers (1-based; others are ignored).
    :param code_lines: the lines holding code in the current text
        (:attr:`covcore.parser.PythonParser.code_lines`).
    :param n_lines: the number of lines in the current text.
    :raises SourceChanged: ``'/p/mod.py' changed after it was measured: line
        12 ran, but the file now has 10 lines`` (or ``... line 7 ran, but it
        holds no code now``), naming the first such line.
    """
    for line in sorted(measured):
        if line <= 1 or line in code_lines:
            continue
        if line > n_lines:
            problem = f"the file now has {n_lines} line{'' if n_lines == 1 else 's'}"
        else:
            problem = "it holds no code now"
        raise SourceChanged(f"'{filename}' changed after it was measured: line {line} ran, but {problem}")


def resolve_executed_arcs(measured: Iterable[TArc], possible: Iterable[TArc]) -> set[TArc]:
    """Turn measured arcs into executed arcs, as coverage.py 7.17 does.

    A self-arc ``(n, n)`` (recorded by a tracer that only knew line ``n``
    ran) stands for the line's exit when static analysis gives that line
    exactly one possible destination; otherwise it is dropped.  All other
    arcs are kept as measured.
    """
    dests: dict[int, set[int]] = collections.defaultdict(set)
    for a, b in possible:
        dests[a].add(b)
    out = set()
    for a, b in measured:
        if a != b:
            out.add((a, b))
        elif len(dests.get(a, ())) == 1:
            out.add((a, next(iter(dests[a]))))
    return out


@dataclasses.dataclass
class Analysis:
    """One file's statements (and possible arcs) joined with what ran.

    Line numbers are 1-based; statement sets hold first lines of statements.
    Branch fields are empty unless the data has arcs (``has_arcs``).  The
    semantics are coverage.py 7.17's (``coverage/results.py``):

    :param arc_possibilities: every arc static analysis allows.
    :param arcs_executed: measured arcs, already translated to statement
        lines (see :func:`covcore.analysis.resolve_executed_arcs`).
    :param exit_counts: for each line, how many distinct exits it has; lines
        with more than one are *branch lines*.
    :param no_branch: lines whose partial branches are not reported
        (``# pragma: no branch``, ``[report] partial_branches``).
    :param arc_description: ``arc_description(from_line, to_line)`` gives the
        plain-English explanation of a missing branch ("line 2 didn't jump to
        line 4 because the condition on line 2 was never true"), or None when
        static analysis didn't provide one.
    """

    filename: str
    statements: set[int]
    excluded: set[int]
    executed: set[int]
    precision: int = 0
    has_arcs: bool = False
    arc_possibilities: set[TArc] = dataclasses.field(default_factory=set)
    arcs_executed: set[TArc] = dataclasses.field(default_factory=set)
    exit_counts: dict[int, int] = dataclasses.field(default_factory=dict)
    no_branch: set[int] = dataclasses.field(default_factory=set)
    arc_description: Callable[[int, int], str] | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def missing(self) -> set[int]:
        """Statements that did not run."""
        return self.statements - self.executed

    def branch_lines(self) -> set[int]:
        """Lines with more than one possible exit."""
        return {line for line, count in self.exit_counts.items() if count > 1}

    def arcs_missing(self) -> list[TArc]:
        """Possible arcs that did not run, sorted (from no-branch lines and
        into excluded lines left out)."""
        return sorted(
            arc
            for arc in self.arc_possibilities
            if arc not in self.arcs_executed and arc[0] not in self.no_branch and arc[1] not in self.excluded
        )

    def missing_branch_arcs(self) -> dict[int, list[int]]:
        """Branches not taken: ``{branch_line: [destination, ...]}`` (negative destination: exit)."""
        branch_lines = self.branch_lines()
        mba: dict[int, list[int]] = collections.defaultdict(list)
        for l1, l2 in self.arcs_missing():
            if l1 in branch_lines:
                mba[l1].append(l2)
        return mba

    def executed_branch_arcs(self) -> dict[int, list[int]]:
        """Branches taken: ``{branch_line: [destination, ...]}``, possible arcs only."""
        branch_lines = self.branch_lines()
        eba: dict[int, list[int]] = collections.defaultdict(list)
        for l1, l2 in sorted(self.arcs_executed):
            if l1 in branch_lines and (l1, l2) in self.arc_possibilities:
                eba[l1].append(l2)
        return eba

    def describe_missing_branch(self, from_line: int, to_line: int) -> str:
        """Explain one missing branch in words (falls back to a plain
        "line N didn't jump to line M" / "didn't exit" without static help)."""
        if self.arc_description is not None:
            return self.arc_description(from_line, to_line)
        if to_line < 0:
            return f"line {from_line} didn't exit the code object"
        return f"line {from_line} didn't jump to line {to_line}"

    def branch_stats(self) -> dict[int, tuple[int, int]]:
        """For each branch line, ``(total exits, exits taken)``."""
        mba = self.missing_branch_arcs()
        return {
            line: (self.exit_counts[line], self.exit_counts[line] - len(mba.get(line, ())))
            for line in sorted(self.branch_lines())
        }

    @property
    def numbers(self) -> Numbers:
        n_branches = n_partial = n_missing_br = 0
        if self.has_arcs:
            n_branches = sum(count for count in self.exit_counts.values() if count > 1)
            missing = self.missing
            mba = self.missing_branch_arcs()
            n_partial = sum(len(v) for k, v in mba.items() if k not in missing)
            n_missing_br = sum(len(v) for v in mba.values())
        return Numbers(
            precision=self.precision,
            n_files=1,
            n_statements=len(self.statements),
            n_excluded=len(self.excluded),
            n_missing=len(self.missing),
            n_branches=n_branches,
            n_partial_branches=n_partial,
            n_missing_branches=n_missing_br,
        )

    def missing_formatted(self, branches: bool = True) -> str:
        """The missing lines as ``"33-35, 39"``; with ``branches`` and branch
        data, the missing branches too: ``"33-35, 36->38, 39"``."""
        arcs = self.missing_branch_arcs() if branches and self.has_arcs else None
        return format_lines(self.statements, self.missing, arcs)
