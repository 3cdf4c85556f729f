"""Analysis results: measured data joined with a file's static analysis.

:class:`Numbers` add up (``sum`` works), so per-file results make a total.
Percentages are 0–100.  Display rules follow coverage.py: 100% is shown only
when truly 100, 0% only when truly 0.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

from covcore.errors import ConfigError


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


def should_fail_under(total: float, fail_under: float, precision: int) -> bool:
    """Is a total percentage under the ``fail_under`` threshold?

    :param total: the total percentage, 0–100.
    :param fail_under: the threshold, 0–100; 100 must be met exactly.
    :raises ConfigError: when ``fail_under`` is outside 0–100.
    """
    if not 0 <= fail_under <= 100.0:
        raise ConfigError(f"fail_under={fail_under} is invalid. Must be between 0 and 100.")
    if fail_under == 100.0 and total != 100.0:
        return True
    return round(total, precision) < fail_under


def fail_under_message(total: float, fail_under: float, precision: int) -> str:
    """The one-line message for a failed fail-under check."""
    return (
        f"Coverage failure: total of {display_covered(total, precision)} "
        f"is less than fail-under={fail_under:.{precision}f}"
    )


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


def format_lines(statements: Iterable[int], lines: Iterable[int]) -> str:
    """Format missing lines as coverage.py does: ``"1-2, 5-11, 13"``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in line_ranges(statements, lines))


@dataclasses.dataclass
class Analysis:
    """One file's statements joined with what ran.

    All line numbers are 1-based; sets hold first lines of statements.
    """

    filename: str
    statements: set[int]
    excluded: set[int]
    executed: set[int]
    precision: int = 0

    @property
    def missing(self) -> set[int]:
        """Statements that did not run."""
        return self.statements - self.executed

    @property
    def numbers(self) -> Numbers:
        return Numbers(
            precision=self.precision,
            n_files=1,
            n_statements=len(self.statements),
            n_excluded=len(self.excluded),
            n_missing=len(self.missing),
        )

    def missing_formatted(self) -> str:
        """The missing lines as ``"33-35, 39"``."""
        return format_lines(self.statements, self.missing)
