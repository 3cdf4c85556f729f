"""Possible arcs of a Python file, from its syntax tree (coverage.py 7.17 rules).

:class:`ArcAnalyzer` takes a :class:`~covcore.parser.PythonParser` (parsed or
not) and answers the questions branch coverage asks, exactly as coverage.py
7.17's ``PythonParser`` / ``AstArcAnalyzer`` do:

* :meth:`ArcAnalyzer.arcs` -- every ``(from, to)`` pair the code can take,
  mapped to statement first lines (self-arcs dropped).  Entering or leaving a
  code object is ``-N``, N the first line of its definition (its first
  decorator), or ``-1`` for the module.  Arcs from and to excluded lines stay
  in the set, as in coverage.py: :meth:`exit_counts` ignores them, and the
  report ignores missing arcs into excluded lines.
* :meth:`ArcAnalyzer.exit_counts` -- how many arcs leave each line.
* :meth:`ArcAnalyzer.no_branch_lines` -- lines whose partial branches are not
  reported.
* :meth:`ArcAnalyzer.missing_arc_description` -- a missing arc in words.
* :meth:`ArcAnalyzer.translate_arcs` -- measured arcs to statement lines.

How the arcs are found
----------------------

Each code object (module, class body, function) is walked on its own.  A
*body* (a list of statements) is processed statement by statement: the
*exits* of one statement -- the places control can leave it from, each an
``(line, cause)`` pair -- get an arc to the next statement.  Statements whose
line is not in the compiled line tables (dead code) are skipped.  Compound
statements compute their own exits (an ``if`` exits from the ends of both
suites, a loop from its header and from its ``break`` statements...).  Jumps
(``break``, ``continue``, ``raise``, ``return``) go to the nearest enclosing
block that handles them: a loop, a ``try`` with handlers, the function.

Only the jumps the tracer can tell apart are modelled (coverage.py has been
trimming the analysis to real branches since 7.6): there are no arcs into
lambdas, comprehensions or generator expressions, a ``return`` leaves the
function directly even from inside ``try``/``finally``, and a ``raise`` goes
only to the first ``except`` of the nearest ``try`` (or out of the function).

The *cause* is the English reason an arc might not have been taken ("the
condition on line {lineno} was never true"); missing-arc descriptions are
assembled from these.  The arc starts are kept in sets of tuples, built with
the same set operations as coverage.py, so that when one arc gets several
causes they come out in coverage.py's order.

``with`` statements: Python 3.10+ jumps back to the ``with`` line (3.12.6+:
to the context-manager expression's line) when a body finishes, then on to
the next statement.  Those arcs are rewritten as if the body went straight on
(:meth:`translate_arcs` applies the same rewrite to measured arcs).
"""

from __future__ import annotations

import ast
import collections
import sys
from collections.abc import Iterable, Iterator
from typing import Callable

from covcore.parser import DEFAULT_PARTIAL_ALWAYS, PythonParser, case_always_matches, join_regex
from covcore.types import TArc

__all__ = ["ArcAnalyzer", "is_constant_test"]

#: An arc start: ``(line, cause)``; cause "" means no particular reason.
Start = tuple[int, str]

#: 3.12.6+ jumps from a with-body back to the context expression's line.
WITH_EXIT_THROUGH_CTXMGR = sys.version_info >= (3, 12, 6)

NEVER_TRUE = "the condition on line {lineno} was never true"
ALWAYS_TRUE = "the condition on line {lineno} was always true"

_CONSTANT_NAMES = {"True": True, "False": False, "None": None, "__debug__": __debug__}


def is_constant_test(node: ast.AST) -> tuple[bool, bool]:
    """``(is it a compile-time constant test?, its truth value)``.

    Constants, ``True``/``False``/``None``/``__debug__``, ``not`` of one, and
    ``and``/``or`` of only constants count (coverage.py's rule).
    """
    if isinstance(node, ast.Constant):
        return True, bool(node.value)
    if isinstance(node, ast.Name):
        if node.id in _CONSTANT_NAMES:
            return True, bool(_CONSTANT_NAMES[node.id])
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            const, value = is_constant_test(node.operand)
            return const, not value
    elif isinstance(node, ast.BoolOp):
        results = [is_constant_test(value) for value in node.values]
        if all(const for const, _ in results):
            combine = any if isinstance(node.op, ast.Or) else all
            return True, combine(value for _, value in results)
    return False, False


_CONTAINERS = (ast.stmt, ast.excepthandler, ast.match_case)
_CODE_NODES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _code_nodes(root: ast.AST) -> Iterator[ast.AST]:
    """The nodes with code objects of their own, in coverage.py's walk order."""
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, _CODE_NODES):
            yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _CONTAINERS))


# -- blocks: where break, continue, raise and return go -----------------------


class _Loop:
    def __init__(self, top: int) -> None:
        self.top = top
        self.breaks: set[Start] = set()


class _Function:
    def __init__(self, start: int, name: str) -> None:
        self.start = start
        self.name = name


class _Try:
    def __init__(self, handler: int | None) -> None:
        #: The first ``except`` line while the try body is being processed, else None.
        self.handler = handler


class _Walker:
    """Collects the arcs of a whole tree (all its code objects)."""

    def __init__(self, statements: set[int], multiline: dict[int, int]) -> None:
        self.multiline = multiline
        self.statements = {multiline.get(line, line) for line in statements}
        self.arcs: set[TArc] = set()
        #: (from, to) -> [(cause, action), ...]: for describing missing arcs.
        self.fragments: dict[TArc, list[tuple[str | None, str | None]]] = collections.defaultdict(list)
        self.blocks: list[_Loop | _Function | _Try] = []
        # `with` bookkeeping for the jump fixers.
        self.open_withs: set[int] = set()
        self.with_starts: set[int] = set()
        self.with_entries: set[TArc] = set()
        self.with_exits: set[TArc] = set()

    def arc(self, start: int, end: int, cause: str | None = None, action: str | None = None) -> None:
        self.arcs.add((start, end))
        if start in self.open_withs:
            self.with_entries.add((start, end))
        if cause is not None or action is not None:
            self.fragments[(start, end)].append((cause, action))

    # -- line numbers --

    def line(self, node: ast.AST) -> int:
        """The line Python reports for `node`, mapped to its statement's first line."""
        cls = type(node)
        if cls in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            decorators = node.decorator_list  # type: ignore[attr-defined]
            lineno = decorators[0].lineno if decorators else node.lineno  # type: ignore[attr-defined]
        elif cls is ast.Assign:
            lineno = self.line(node.value)  # type: ignore[attr-defined]
        elif cls is ast.Dict:
            keys = node.keys  # type: ignore[attr-defined]
            if not keys:
                lineno = node.lineno  # type: ignore[attr-defined]
            elif keys[0] is not None:
                lineno = keys[0].lineno
            else:  # {**other, ...}
                lineno = node.values[0].lineno  # type: ignore[attr-defined]
        elif cls is ast.List:
            elts = node.elts  # type: ignore[attr-defined]
            lineno = self.line(elts[0]) if elts else node.lineno  # type: ignore[attr-defined]
        elif cls is ast.Module:
            lineno = 1
        else:
            lineno = node.lineno  # type: ignore[attr-defined]
        return self.multiline.get(lineno, lineno)

    # -- code objects --

    def run(self, root: ast.AST) -> None:
        for node in _code_nodes(root):
            start = self.line(node)
            if isinstance(node, ast.Module):
                if node.body:
                    for line, cause in self.body(node.body):
                        self.arc(line, -start, cause, "exit the module")
                else:
                    self.arc(start, -start)
            elif isinstance(node, ast.ClassDef):
                for line, cause in self.body(node.body):
                    self.arc(line, -start, cause, f"exit class {node.name!r}")
            else:
                self.blocks.append(_Function(start, node.name))  # type: ignore[attr-defined]
                self.jump("return", self.body(node.body))  # type: ignore[attr-defined]
                self.blocks.pop()

    # -- bodies --

    def body(self, nodes: Iterable[ast.AST], start: Start | None = None,
             prev: set[Start] | None = None) -> set[Start]:
        """Arcs through a suite entered from `start` (or from each of `prev`); its exits."""
        if prev is None:
            prev = set() if start is None else {start}
        for node in nodes:
            lineno = self.line(node)
            if lineno not in self.statements:
                continue  # Dead code: no arcs.
            for line, cause in prev:
                self.arc(line, lineno, cause)
            prev = self.exits(node)
        return prev

    def exits(self, node: ast.AST) -> set[Start]:
        handler = _HANDLERS.get(type(node).__name__)
        if handler is None:  # A simple statement.
            return {(self.line(node), "")}
        return handler(self, node)

    def jump(self, kind: str, starts: set[Start]) -> None:
        """Send break/continue/raise/return exits to the nearest block taking them."""
        for block in reversed(self.blocks):
            if isinstance(block, _Loop):
                if kind == "break":
                    block.breaks.update(starts)
                    return
                if kind == "continue":
                    for line, cause in starts:
                        self.arc(line, block.top, cause)
                    return
            elif isinstance(block, _Function):
                if kind in ("raise", "return"):
                    action = "except" if kind == "raise" else "return"
                    for line, cause in starts:
                        self.arc(line, -block.start, cause, f"{action} from function {block.name!r}")
                    return
            elif kind == "raise":  # A try block takes every raise.
                if block.handler is not None:
                    for line, cause in starts:
                        self.arc(line, block.handler, cause)
                return

    # -- statements --

    def _jumper(kind: str) -> Callable[[_Walker, ast.AST], set[Start]]:  # type: ignore[misc]
        def handle(self: _Walker, node: ast.AST) -> set[Start]:
            self.jump(kind, {(self.line(node), f"the {kind} on line {{lineno}} wasn't executed")})
            return set()
        return handle

    do_Break = _jumper("break")
    do_Continue = _jumper("continue")
    do_Raise = _jumper("raise")
    do_Return = _jumper("return")

    def do_def(self, node: ast.AST) -> set[Start]:
        # The body belongs to another code object; only the decorators flow here.
        last: int = node.lineno  # type: ignore[attr-defined]
        decorators = node.decorator_list  # type: ignore[attr-defined]
        if decorators:
            prev: int | None = None
            for decorator in decorators:
                here = self.line(decorator)
                if prev is not None and here != prev:
                    self.arc(prev, here)
                prev = here
            assert prev is not None
            self.arc(prev, last)
        return {(last, "")}

    def do_If(self, node: ast.If) -> set[Start]:
        test = self.line(node.test)
        const, value = is_constant_test(node.test)
        exits: set[Start] = set()
        if not const or value:
            exits |= self.body(node.body, (test, NEVER_TRUE))
        if not const or not value:
            exits |= self.body(node.orelse, (test, ALWAYS_TRUE))
        return exits

    def do_For(self, node: ast.For) -> set[Start]:
        top = self.line(node.iter)
        loop = _Loop(top)
        self.blocks.append(loop)
        for line, cause in self.body(node.body, (top, "the loop on line {lineno} never started")):
            self.arc(line, top, cause)
        self.blocks.pop()
        exits = loop.breaks
        done = (top, "the loop on line {lineno} didn't complete")
        if node.orelse:
            exits |= self.body(node.orelse, done)
        else:
            exits.add(done)
        return exits

    def do_While(self, node: ast.While) -> set[Start]:
        top = self.line(node.test)
        const, _ = is_constant_test(node.test)
        loop = _Loop(top)
        self.blocks.append(loop)
        for line, cause in self.body(node.body, (top, NEVER_TRUE)):
            self.arc(line, top, cause)
        self.blocks.pop()
        exits: set[Start] = set()
        exits.update(loop.breaks)
        if node.orelse:
            exits |= self.body(node.orelse, (top, ALWAYS_TRUE))
        elif not const:
            exits.add((top, ALWAYS_TRUE))
        return exits

    def do_Try(self, node: ast.Try) -> set[Start]:
        block = _Try(self.line(node.handlers[0]) if node.handlers else None)
        self.blocks.append(block)
        exits = self.body(node.body, (self.line(node), ""))
        # Past the try body, exceptions aren't handled here; the block stays
        # while the handlers and else run only when there is a finally.
        if node.finalbody:
            block.handler = None
        else:
            self.blocks.pop()
        handler_exits: set[Start] = set()
        for handler in node.handlers:
            cause = "the exception caught by line {lineno} didn't happen"
            handler_exits |= self.body(handler.body, (self.line(handler), cause))
        if node.orelse:
            exits = self.body(node.orelse, prev=exits)
        exits |= handler_exits
        if node.finalbody:
            self.blocks.pop()
            final_exits = self.body(node.finalbody, prev=exits)
            if exits:
                # The finally's exits count only if something can reach it normally.
                exits = final_exits
        return exits

    def do_With(self, node: ast.With) -> set[Start]:
        if WITH_EXIT_THROUGH_CTXMGR:
            starts = [self.line(item.context_expr) for item in node.items]
        else:
            starts = [self.line(node)]
        self.open_withs.update(starts)
        self.with_starts.update(starts)
        start = starts[-1]
        exits = self.body(node.body, (start, ""))
        self.open_withs.discard(start)
        if exits:
            for line, _ in exits:
                self.arc(line, start)
                self.with_exits.add((line, start))
            exits = {(start, "")}
        return exits

    def do_Match(self, node: ast.AST) -> set[Start]:
        prev = self.line(node)
        exits: set[Start] = set()
        for case in node.cases:  # type: ignore[attr-defined]
            here = self.line(case.pattern)
            self.arc(prev, here, "the pattern on line {lineno} always matched")
            exits |= self.body(case.body, (here, "the pattern on line {lineno} never matched"))
            prev = here
        if not case_always_matches(case):  # the last case
            exits.add((prev, "the pattern on line {lineno} always matched"))
        return exits

    # -- with jump fixers --

    def with_fixers(self) -> dict[TArc, TArc | None]:
        """Arcs to rewrite (or drop, None) so `with` bodies seem to flow straight on."""
        onward: dict[int, int] = {}
        for start in self.with_starts:
            dests = {b for a, b in self.arcs if a == start and (a, b) not in self.with_entries}
            if dests:
                assert len(dests) == 1, f"one arc expected from the with on line {start}: {dests}"
                onward[start] = dests.pop()

        def landing(start: int) -> int:
            # A with ending an outer with's body jumps to the outer start, then on.
            nxt = onward[start]
            while (start, nxt) in self.with_exits and nxt in onward:
                start, nxt = nxt, onward[nxt]
            return nxt

        fixers: dict[TArc, TArc | None] = {}
        for end, start in self.with_exits:
            if start in onward:
                fixers[(end, start)] = (end, landing(start))
        for start, nxt in onward.items():
            if (start, start) not in self.with_exits:
                fixers[(start, nxt)] = None
        return fixers


_HANDLERS: dict[str, Callable[[_Walker, ast.AST], set[Start]]] = {
    "Break": _Walker.do_Break,
    "Continue": _Walker.do_Continue,
    "Raise": _Walker.do_Raise,
    "Return": _Walker.do_Return,
    "FunctionDef": _Walker.do_def,
    "AsyncFunctionDef": _Walker.do_def,
    "ClassDef": _Walker.do_def,
    "If": _Walker.do_If,  # type: ignore[dict-item]
    "For": _Walker.do_For,  # type: ignore[dict-item]
    "AsyncFor": _Walker.do_For,  # type: ignore[dict-item]
    "While": _Walker.do_While,  # type: ignore[dict-item]
    "Try": _Walker.do_Try,  # type: ignore[dict-item]
    "TryStar": _Walker.do_Try,  # type: ignore[dict-item]
    "With": _Walker.do_With,  # type: ignore[dict-item]
    "AsyncWith": _Walker.do_With,  # type: ignore[dict-item]
    "Match": _Walker.do_Match,
}


def _regex_list(regexes: str | Iterable[str] | None) -> list[str]:
    if regexes is None:
        return []
    if isinstance(regexes, str):
        return [regexes]
    return list(regexes)


class ArcAnalyzer:
    """The possible arcs of the file `parser` reads (parsed here if need be).

    The analysis runs on first use.  Raises :class:`~covcore.errors.NotPython`
    (from parsing) if the source is not valid Python.
    """

    def __init__(self, parser: PythonParser) -> None:
        parser.parse_source()
        self.parser = parser
        self._arcs: set[TArc] | None = None
        self._fixers: dict[TArc, TArc | None] = {}
        self._fragments: dict[TArc, list[tuple[str | None, str | None]]] = {}

    def _analyze(self) -> set[TArc]:
        if self._arcs is None:
            parser = self.parser
            root = parser._ast_root
            assert root is not None, "the parser has no syntax tree"
            walker = _Walker(parser.raw_statements, parser.multiline_map)
            walker.run(root)
            self._fixers = walker.with_fixers()
            self._fragments = walker.fragments
            first_line = parser.first_line
            arcs = set()
            for a, b in self._fix_with_jumps(walker.arcs):
                a, b = first_line(a), first_line(b)
                if a != b:
                    arcs.add((a, b))
            self._arcs = arcs
        return self._arcs

    def _fix_with_jumps(self, arcs: Iterable[TArc]) -> set[TArc]:
        fixers = self._fixers
        if not fixers:
            return set(arcs)
        fixed = set()
        for arc in arcs:
            arc2 = fixers.get(arc, arc)
            if arc2 is not None:
                fixed.add(arc2)
        return fixed

    def arcs(self) -> set[TArc]:
        """The possible arcs, between statement first lines (see the module docstring)."""
        return self._analyze()

    def exit_counts(self) -> dict[int, int]:
        """For each line, the number of its arcs (arcs from or to excluded lines left out)."""
        excluded = self.parser.excluded
        counts: dict[int, int] = collections.defaultdict(int)
        for a, b in self._analyze():
            if a not in excluded and b not in excluded:
                counts[a] += 1
        return counts

    def translate_arcs(self, arcs: Iterable[TArc]) -> set[TArc]:
        """Measured arcs -> arcs between statement first lines, `with` jumps fixed."""
        self._analyze()
        first_line = self.parser.first_line
        return {(first_line(a), first_line(b)) for a, b in self._fix_with_jumps(arcs)}

    def no_branch_lines(
        self,
        partial_regex: str | Iterable[str] | None,
        partial_always: str | Iterable[str] | None = DEFAULT_PARTIAL_ALWAYS,
    ) -> set[int]:
        """Lines whose missing branches aren't reported.

        :param partial_regex: ``[report] partial_branches`` (with
            ``partial_also``): a regex or a list of them.
        :param partial_always: ``[report] partial_branches_always`` (by
            default ``while True:``, ``if 0:`` and the like).
        The lines touched by a match of any of them count, as in coverage.py
        (which, given no regex at all, matches the empty regex: every line).
        """
        regexes = _regex_list(partial_regex) + _regex_list(partial_always)
        return self.parser.lines_matching(join_regex(regexes))

    def _action(self, action: str | None, end: int) -> str:
        if action is None:
            action = "jump to the function exit" if end < 0 else "jump to line {lineno}"
        return action.format(lineno=end)

    def missing_arc_description(self, start: int, end: int) -> str:
        """Why arc `start` -> `end` might not have run, in coverage.py's words:
        "line 2 didn't jump to line 4 because the condition on line 2 was never true"."""
        self._analyze()
        messages = []
        for cause, action in self._fragments.get((start, end), [(None, None)]):
            message = f"line {start} didn't {self._action(action, end)}"
            if cause is not None:
                message += f" because {cause.format(lineno=start)}"
            messages.append(message)
        return " or ".join(messages)

    def arc_description(self, start: int, end: int) -> str:
        """What arc `start` -> `end` does: "jump to line 4", "return from function 'f'"."""
        self._analyze()
        fragments = self._fragments.get((start, end), [(None, None)])
        return self._action(fragments[0][1], end)

