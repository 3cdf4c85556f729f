"""Static analysis of one Python source file: its statements and exclusions.

:class:`PythonParser` answers, for one file, the questions a line-coverage
report needs, with exactly the answers coverage.py 7.17 gives:

* which lines are executable statements (``statements``),
* which lines are excluded from measurement (``excluded``),
* how the lines of a multi-line statement map to its first line
  (``multiline_map``, ``first_line``, ``translate_lines``).

How the answers are found
-------------------------

``parse_source`` makes three passes, each over the whole text exactly once:

1. ``ast.parse`` -- syntax errors are reported here first.

2. One pass over the tokens (``tokenize``) computes both

   * the multi-line map: a logical line (ended by a NEWLINE token) that spans
     several physical lines maps each of them to the line of its first
     significant token; and
   * block exclusion: the lines matching the exclusion regex are found first
     (on raw physical lines); then when the ``:`` that ends a compound-statement
     header (any ``:`` outside brackets) belongs to a logical line with an
     excluded line, the first line of every following logical line indented
     deeper than the header is excluded too.

3. ``compile`` (of the tree from pass 1: the same code as compiling the text,
   for less work) -- the executable lines are the line numbers in the line
   tables (``co_lines()``) of the module's code object and of every code object
   nested in it.  This is what makes ``else:``, ``try:``, ``finally:``, dead
   code and so on follow the running Python's own behaviour.

Then the excluded lines are mapped to their statements' first lines, and a
walk over the tree's statements finds the docstrings (never statements) and
applies two structural rules: excluding a decorator or a ``def``/``class`` line
excludes every line of the definition (blank and comment lines included), and
an irrefutable ``case`` (``case _:``) whose body statements are all excluded
is excluded itself, as an ``else:`` would be.  The statements are the first
lines of the line-table lines, leaving out excluded and docstring lines.

Branch coverage (to come)
-------------------------

The branch-coverage work adds the possible arcs of the file here: ``arcs()``
(the set of ``(from_line, to_line)`` pairs the code can take, derived from the
AST kept in ``self._ast_root`` and normalised with :meth:`first_line`, negative
numbers meaning entry/exit of a code object) and ``exit_counts()`` (for each
non-excluded line, how many arcs leave it, ignoring arcs to excluded lines),
plus ``translate_arcs()`` and the human descriptions of missing arcs.  The
partial-branch regexes (:data:`DEFAULT_PARTIAL`, :data:`DEFAULT_PARTIAL_ALWAYS`)
are applied by the caller through :meth:`lines_matching`.  Once the arcs are
computed, ``_ast_root`` can be released.
"""

from __future__ import annotations

import ast
import io
import re
import token
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from types import CodeType

from covcore.config import DEFAULT_EXCLUDE, DEFAULT_PARTIAL, DEFAULT_PARTIAL_ALWAYS
from covcore.errors import NotPython
from covcore.pysource import read_source

__all__ = [
    "DEFAULT_EXCLUDE",
    "DEFAULT_PARTIAL",
    "DEFAULT_PARTIAL_ALWAYS",
    "PythonParser",
    "join_regex",
    "multiline_map_from_text",
]

def join_regex(regexes: Iterable[str]) -> str:
    """Combine regexes into one matching any of them (as coverage.py does)."""
    regexes = list(regexes)
    if len(regexes) == 1:
        return regexes[0]
    return "|".join(f"(?:{rx})" for rx in regexes)


# Token types the scan looks at.
_NEWLINE = token.NEWLINE
_INDENT = token.INDENT
_DEDENT = token.DEDENT
_OP = token.OP
_COMMENT = tokenize.COMMENT

_DEF_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_DOCSTRING_OWNERS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _tokens(text: str) -> Iterator[tokenize.TokenInfo]:
    return tokenize.generate_tokens(io.StringIO(text).readline)


def _record_multiline(mapping: dict[int, int], first: int, last: int) -> None:
    for lineno in range(first, last + 1):
        mapping[lineno] = first


def multiline_map_from_text(text: str) -> dict[int, int]:
    """Map each line of the multi-line statements of `text` to its first line.

    Lines of one-line statements are not in the map.  Raises
    ``tokenize.TokenError``, ``IndentationError`` or ``SyntaxError`` if `text`
    cannot be tokenized.
    """
    mapping: dict[int, int] = {}
    first = 0
    for tok in _tokens(text):
        ttype = tok.type
        if ttype == _NEWLINE:
            end = tok.end[0]
            if first and end != first:
                _record_multiline(mapping, first, end)
            first = 0
        elif not first and ttype != _COMMENT and tok.string.strip():
            first = tok.start[0]
    return mapping


def _lines_matching(regex: str, text: str, mapping: dict[int, int]) -> set[int]:
    """The (mapped) lines touched by matches of `regex` in `text`.

    A match touches the lines from the one it starts on to the one it ends on.
    """
    lines: set[int] = set()
    pos = 0
    line0 = 0  # zero-based line number at `pos`
    count = text.count
    for match in re.finditer(regex, text, flags=re.MULTILINE):
        start, end = match.span()
        start0 = line0 + count("\n", pos, start)
        end0 = start0 + count("\n", start, end)
        for lineno in range(start0 + 1, end0 + 2):
            lines.add(mapping.get(lineno, lineno))
        pos, line0 = start, start0
    return lines


def _code_lines(code: CodeType) -> set[int]:
    """Every line number in the line tables of `code` and its nested code.

    Code objects named ``__annotate__`` (deferred annotations, 3.14+) are
    almost never run: their own lines don't count (code nested in them does).
    """
    lines: set[int] = set()
    stack = [code]
    while stack:
        code = stack.pop()
        stack.extend(const for const in code.co_consts if isinstance(const, CodeType))
        if code.co_name != "__annotate__":
            lines.update(line for _, _, line in code.co_lines() if line)
    return lines


# The fields holding statements (or except/case clauses), by node class, in
# the order of the class's _fields (the order ast.iter_child_nodes uses).
_STMT_FIELDS = frozenset({"body", "orelse", "handlers", "finalbody", "cases"})
_fields_cache: dict[type, tuple[str, ...]] = {}


def _statement_fields(cls: type) -> tuple[str, ...]:
    fields = _fields_cache.get(cls)
    if fields is None:
        fields = tuple(f for f in cls._fields if f in _STMT_FIELDS)  # type: ignore[attr-defined]
        _fields_cache[cls] = fields
    return fields


def _walk_statements(root: ast.AST) -> Iterator[ast.AST]:
    """`root` and its statement-level descendants, parents before children.

    The order (depth first, last child first) is coverage.py's: the rules
    applied while walking can depend on it in contrived cases.
    """
    todo = [root]
    while todo:
        node = todo.pop()
        yield node
        for field in _statement_fields(type(node)):
            todo.extend(getattr(node, field))


def _docstring_lines(node: ast.AST) -> range | None:
    body = getattr(node, "body", None)
    if body:
        first = body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            return range(first.lineno, first.end_lineno + 1)  # type: ignore[operator]
    return None


def case_always_matches(case: ast.match_case) -> bool:
    """Is `case` irrefutable (``case _:``, ``case x:``, ``case 1 | _:``, ...)?

    Only the last alternative of an or-pattern and the innermost pattern of
    ``as`` captures are looked at, as coverage.py does.
    """
    if case.guard is not None:
        return False
    pattern = case.pattern
    while isinstance(pattern, ast.MatchOr):
        pattern = pattern.patterns[-1]
    while isinstance(pattern, ast.MatchAs) and pattern.pattern is not None:
        pattern = pattern.pattern
    return isinstance(pattern, ast.MatchAs) and pattern.pattern is None


class PythonParser:
    """Find the executable and the excluded lines of one Python source file.

    `text` is the source; if it is None it is read from `filename` with
    :func:`covcore.pysource.read_source`.  `exclude` is one regex (join several
    with :func:`join_regex`), or None to exclude nothing.

    Call :meth:`parse_source` once, then read the attributes.
    """

    def __init__(
        self,
        text: str | None = None,
        filename: str | None = None,
        exclude: str | None = None,
    ) -> None:
        if text is None and filename is None:
            raise ValueError("PythonParser needs either text or filename")
        self.filename: str = filename or "<code>"
        self.text: str = text if text is not None else read_source(self.filename)
        self.exclude = exclude

        #: Executable statement lines (first lines), without the excluded lines.
        self.statements: set[int] = set()
        #: Excluded lines, as coverage.py reports them.
        self.excluded: set[int] = set()
        #: The lines in the compiled line tables (not mapped to first lines).
        self.raw_statements: set[int] = set()
        #: The physical lines matching the exclusion regex.
        self.raw_excluded: set[int] = set()
        #: The lines of docstrings.
        self.raw_docstrings: set[int] = set()
        #: Every line of a multi-line statement -> the statement's first line.
        self.multiline_map: dict[int, int] = {}
        #: The lines holding code: every line from the first to the last line
        #: of each logical line (blank and comment-only lines between
        #: statements are left out).  Only code lines can have run.
        self.code_lines: set[int] = set()
        #: The number of lines in the text.
        self.n_lines: int = 0

        # The syntax tree, kept for the branch analysis (see the module docstring).
        self._ast_root: ast.Module | None = None
        self._parsed = False
        self._first_line_cache: dict[int, int] = {}

    # -- line numbers -------------------------------------------------------

    def first_line(self, lineno: int) -> int:
        """The first line of the statement containing `lineno`.

        Negative numbers (code-object entries and exits in arcs) map to the
        negated first line.
        """
        first = self._first_line_cache.get(lineno)
        if first is None:
            if lineno < 0:
                first = -self.multiline_map.get(-lineno, -lineno)
            else:
                first = self.multiline_map.get(lineno, lineno)
            self._first_line_cache[lineno] = first
        return first

    def first_lines(self, linenos: Iterable[int]) -> set[int]:
        """The first lines of the statements containing `linenos`."""
        first_line = self.first_line
        return {first_line(lineno) for lineno in linenos}

    def translate_lines(self, lines: Iterable[int]) -> set[int]:
        """Measured line numbers -> the first lines of their statements."""
        return self.first_lines(lines)

    def lines_matching(self, regex: str) -> set[int]:
        """The lines touched by a match of `regex` (searched with re.MULTILINE).

        A match may span lines; every line it touches counts.  After
        :meth:`parse_source`, lines are mapped to their statements' first lines.
        """
        return _lines_matching(regex, self.text, self.multiline_map)

    # -- branch coverage ----------------------------------------------------
    #
    # The branch-coverage issue adds ``arcs()`` and ``exit_counts()`` here,
    # computed lazily from ``self._ast_root``; see the module docstring.

    # -- parsing ------------------------------------------------------------

    def parse_source(self) -> None:
        """Compute the statements, exclusions and multi-line map.

        Raises :class:`NotPython` if the text is not valid Python.  Calling it
        again does nothing.
        """
        if self._parsed:
            return
        try:
            with warnings.catch_warnings():
                # Invalid escapes and the like: Python warned when it ran the
                # code; a report shouldn't warn again.
                warnings.simplefilter("ignore")
                self._ast_root = ast.parse(self.text)
                self._scan_tokens()
                if not self._empty:
                    # Compiling the tree gives the same code (and the same
                    # compile-time errors) as compiling the text, for less work.
                    code = compile(self._ast_root, self.filename, "exec", dont_inherit=True)
                    self.raw_statements = _code_lines(code)
        except (tokenize.TokenError, SyntaxError) as err:
            # SyntaxError includes IndentationError; TokenError carries the
            # position in its arguments.
            lineno = getattr(err, "lineno", None)
            if lineno is None and not isinstance(err, SyntaxError):
                lineno = err.args[1][0]
            raise NotPython(
                f"Couldn't parse '{self.filename}' as Python source: "
                f"{err.args[0]!r} at line {lineno}"
            ) from err
        except ValueError as err:
            # Null bytes in the text (Python 3.10 raises ValueError, not SyntaxError).
            lineno = self.text.count("\n", 0, max(self.text.find("\0"), 0)) + 1
            raise NotPython(
                f"Couldn't parse '{self.filename}' as Python source: {err.args[0]!r} at line {lineno}"
            ) from err

        self._apply_ast()
        ignore = self.excluded | self.raw_docstrings
        self.statements = self.first_lines(self.raw_statements - ignore) - ignore
        self._parsed = True

    def _scan_tokens(self) -> None:
        """One pass over the tokens: the multi-line map and block exclusion.

        Sets ``multiline_map``, ``code_lines``, ``n_lines``, ``raw_excluded``,
        ``excluded`` (not yet mapped to first lines) and ``_empty``.
        """
        excluded: set[int] = set()
        if self.exclude:
            self.raw_excluded = _lines_matching(self.exclude, self.text, {})
            excluded = set(self.raw_excluded)
        check_blocks = bool(excluded)

        mapping: dict[int, int] = {}
        code_lines: set[int] = set()
        indent = 0  # the current INDENT depth
        nesting = 0  # bracket depth
        first = 0  # the first line of the current logical line, or 0
        excluding = False  # are we in an excluded block?
        exclude_indent = 0  # the depth of the header of that block
        empty = True

        for ttype, ttext, (sline, _), (eline, _), _ in _tokens(self.text):
            if ttype == _NEWLINE:
                if first:
                    if eline != first:
                        _record_multiline(mapping, first, eline)
                        code_lines.update(range(first, eline + 1))
                    else:
                        code_lines.add(first)
                first = 0
                continue
            if ttype == _INDENT:
                indent += 1
                continue
            if ttype == _DEDENT:
                indent -= 1
                continue
            if ttype == _COMMENT or not ttext.strip():
                continue
            # A significant token.
            if ttype == _OP and check_blocks:
                if ttext == ":":
                    if nesting == 0 and not excluding:
                        # The end of a block header (or a lambda / annotation
                        # colon, which the next statement at this depth ends).
                        if any(line in excluded for line in range(first, eline + 1)):
                            excluded.add(eline)
                            exclude_indent = indent
                            excluding = True
                elif ttext in ("(", "[", "{"):
                    nesting += 1
                elif ttext in (")", "]", "}"):
                    nesting -= 1
            if not first:
                # The first token of a logical line.
                first = sline
                empty = False
                if excluding:
                    if indent <= exclude_indent:
                        excluding = False
                    else:
                        excluded.add(eline)

        self.multiline_map = mapping
        self.code_lines = code_lines
        self.n_lines = self.text.count("\n") + bool(self.text and not self.text.endswith("\n"))
        self._first_line_cache.clear()
        self.excluded = excluded
        self._empty = empty

    def _apply_ast(self) -> None:
        """Docstrings, and the exclusions that follow the tree's structure."""
        assert self._ast_root is not None
        excluded = self.excluded = self.first_lines(self.excluded)
        docstrings = self.raw_docstrings
        for node in _walk_statements(self._ast_root):
            if isinstance(node, _DOCSTRING_OWNERS):
                lines = _docstring_lines(node)
                if lines is not None:
                    docstrings.update(lines)
            if not excluded:
                continue
            if isinstance(node, _DEF_NODES):
                # Excluding a decorator or the def/class line excludes it all.
                start = min((d.lineno for d in node.decorator_list), default=node.lineno)
                if any(line in excluded for line in range(start, node.lineno + 1)):
                    excluded.update(range(start, node.end_lineno + 1))  # type: ignore[operator]
            elif isinstance(node, ast.match_case) and case_always_matches(node):
                # A `case _:` whose body is all excluded is excluded, like `else:`.
                body = range(node.body[0].lineno, node.body[-1].end_lineno + 1)  # type: ignore[operator]
                body_statements = self.raw_statements.intersection(body)
                if body_statements and body_statements <= excluded:
                    pattern = node.pattern
                    excluded.update(range(pattern.lineno, pattern.end_lineno + 1))
