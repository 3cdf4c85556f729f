"""Functions and classes of a source file, and analyses narrowed to them.

The JSON report (``functions``/``classes``) and the LCOV report (``FN``
records) describe code regions exactly as coverage.py 7.17 does
(``coverage/regions.py`` and ``AnalysisNarrower`` in ``coverage/results.py``):

* a function's lines are its body's lines (``def`` line excluded), minus the
  bodies of functions nested in it;
* a class's lines are the lines of its methods' bodies (its own body
  statements are not in it), minus nested classes;
* the lines outside every region of a kind form the file's ``""`` region.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
from typing import Iterable

from covcore.analysis import Analysis, Numbers, display_covered
from covcore.types import TArc

#: The region kinds of a Python file, with their plural (coverage.py's order).
REGION_KINDS = (("function", "functions"), ("class", "classes"))

_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


@dataclasses.dataclass
class CodeRegion:
    """One function or class: ``kind`` ("function"/"class"), dotted ``name``,
    ``start`` (its ``def``/``class`` line) and ``lines`` (see the module doc)."""

    kind: str
    name: str
    start: int
    lines: set[int]


@dataclasses.dataclass
class _Context:
    name: str
    kind: str
    lines: set[int]


class _RegionFinder:
    def __init__(self) -> None:
        self.regions: list[CodeRegion] = []
        self.context: list[_Context] = []

    def qualname(self) -> str:
        return ".".join(c.name for c in self.context)

    def handle(self, node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.handle_function(node)
        elif isinstance(node, ast.ClassDef):
            self.handle_class(node)
        else:
            self.handle_body(node)

    def handle_body(self, node: ast.AST) -> None:
        for field in _STATEMENT_FIELDS:
            for child in getattr(node, field, ()):
                self.handle(child)

    def handle_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        end = node.body[-1].end_lineno
        assert end is not None
        lines = set(range(node.body[0].lineno, end + 1))
        if self.context and self.context[-1].kind == "class":
            self.context[-1].lines |= lines
        for ancestor in reversed(self.context):
            if ancestor.kind == "function":
                ancestor.lines -= lines
                break
        self.context.append(_Context(node.name, "function", lines))
        self.regions.append(CodeRegion("function", self.qualname(), node.lineno, lines))
        self.handle_body(node)
        self.context.pop()

    def handle_class(self, node: ast.ClassDef) -> None:
        lines: set[int] = set()
        self.context.append(_Context(node.name, "class", lines))
        self.regions.append(CodeRegion("class", self.qualname(), node.lineno, lines))
        self.handle_body(node)
        self.context.pop()
        for ancestor in reversed(self.context):
            if ancestor.kind == "class":
                ancestor.lines -= lines


def code_regions(source: str) -> list[CodeRegion]:
    """The functions and classes of Python ``source``, in source order.

    :raises SyntaxError: when ``source`` doesn't parse (an analysed file always does).
    """
    finder = _RegionFinder()
    finder.handle(ast.parse(source))
    return finder.regions


class AnalysisNarrower:
    """Make :class:`Analysis` objects restricted to sets of lines.

    Add every region's lines with :meth:`add_regions` first (linear work),
    then :meth:`narrow` to one of them.
    """

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._arc_possibilities: dict[frozenset[int], set[TArc]] = collections.defaultdict(set)
        self._arcs_executed: dict[frozenset[int], set[TArc]] = collections.defaultdict(set)
        self._exit_counts: dict[frozenset[int], dict[int, int]] = collections.defaultdict(dict)

    def add_regions(self, liness: Iterable[set[int]]) -> None:
        if not self.analysis.has_arcs:
            return
        line2region: dict[int, frozenset[int]] = {}
        for lines in liness:
            frozen = frozenset(lines)
            for line in lines:
                line2region[line] = frozen

        def collect(arcs: Iterable[TArc], into: dict[frozenset[int], set[TArc]]) -> None:
            for a, b in arcs:
                region = line2region.get(a)
                if region:
                    into[region].add((a, b))
                region = line2region.get(b)
                if region:
                    into[region].add((a, b))

        collect(self.analysis.arc_possibilities, self._arc_possibilities)
        collect(self.analysis.arcs_executed, self._arcs_executed)
        for line, count in self.analysis.exit_counts.items():
            region = line2region.get(line)
            if region:
                self._exit_counts[region][line] = count

    def narrow(self, lines: set[int]) -> Analysis:
        a = self.analysis
        if a.has_arcs:
            frozen = frozenset(lines)
            possibilities = set(self._arc_possibilities[frozen])
            executed_arcs = set(self._arcs_executed[frozen])
            exit_counts = dict(self._exit_counts[frozen])
            no_branch = a.no_branch & lines
        else:
            possibilities, executed_arcs, exit_counts, no_branch = set(), set(), {}, set()
        return Analysis(
            filename=a.filename,
            statements=a.statements & lines,
            excluded=a.excluded & lines,
            executed=a.executed & lines,
            precision=a.precision,
            has_arcs=a.has_arcs,
            arc_possibilities=possibilities,
            arcs_executed=executed_arcs,
            exit_counts=exit_counts,
            no_branch=no_branch,
            arc_description=a.arc_description,
        )


def pc_statements(nums: Numbers) -> float:
    """Percentage of statements covered (100 when there are none)."""
    return 100.0 * nums.n_executed / nums.n_statements if nums.n_statements else 100.0


def pc_branches(nums: Numbers) -> float:
    """Percentage of branches covered (100 when there are none)."""
    return 100.0 * nums.n_executed_branches / nums.n_branches if nums.n_branches else 100.0


def pc_statements_str(nums: Numbers) -> str:
    return display_covered(pc_statements(nums), nums.precision)


def pc_branches_str(nums: Numbers) -> str:
    return display_covered(pc_branches(nums), nums.precision)


def arc_action(analysis: Analysis, from_line: int, to_line: int) -> str:
    """The short description of an arc's effect ("jump to line 5", "return
    from function 'f'"), coverage.py's ``arc_description``.

    Derived from the missing-branch explanation, whose first alternative reads
    ``line N didn't <action>[ because <cause>]``; without static help, the
    default actions coverage.py uses.
    """
    if analysis.arc_description is None:
        return "jump to the function exit" if to_line < 0 else f"jump to line {to_line}"
    text = analysis.describe_missing_branch(from_line, to_line)
    prefix = f"line {from_line} didn't "
    first = text.split(f" or {prefix}", 1)[0]
    if first.startswith(prefix):
        first = first[len(prefix):]
    return first.split(" because ", 1)[0]
