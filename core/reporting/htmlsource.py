"""Syntax highlighting for the HTML report's file pages: Python source split
into lines of ``(css class, text)`` tokens, with the standard library's
tokenizer (no third-party highlighter)."""

from __future__ import annotations

import ast
import io
import keyword
import token
import tokenize


def _soft_keyword_lines(source: str) -> set[int]:
    if "match" not in source and "case" not in source and "type" not in source:
        return set()
    lines: set[int] = set()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return lines
    type_alias = getattr(ast, "TypeAlias", None)
    for node in ast.walk(tree):
        if isinstance(node, ast.Match):
            lines.add(node.lineno)
            for case in node.cases:
                lines.add(case.pattern.lineno)
        elif type_alias is not None and isinstance(node, type_alias):
            lines.add(node.lineno)
    return lines


_STRING_TOKENS = {token.STRING}
# Python 3.12+ tokenizes f-strings (3.14: t-strings) into pieces; they are shown
# whole, as one string, the way earlier Pythons tokenize them.
_FSTRING_START = {getattr(token, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(token, n)}
_FSTRING_END = {getattr(token, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(token, n)}
_SKIP_TOKENS = {token.INDENT, token.DEDENT, token.NEWLINE, tokenize.NL, token.ENDMARKER}


def source_token_lines(source: str) -> list[list[tuple[str, str]]]:
    """Split ``source`` into lines of ``(css class, text)`` tokens.

    Classes: ``key`` (keywords, and soft keywords where they act as such),
    ``nam``, ``op``, ``num``, ``str``, ``com``, ``ws`` (whitespace and line
    continuations) and ``pln``.  Joining each line's texts gives the source
    line back exactly (a token spanning lines, like a triple-quoted string,
    is split at the line ends).  Source that can't be tokenized comes back
    as plain text.
    """
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[list[tuple[str, str]]] = [[] for _ in lines]
    if not lines:
        return out

    def emit(cls: str, start: tuple[int, int], end: tuple[int, int]) -> None:
        (srow, scol), (erow, ecol) = start, end
        for row in range(srow, erow + 1):
            if row > len(lines):
                break
            text = lines[row - 1]
            piece = text[scol if row == srow else 0: ecol if row == erow else len(text)]
            if piece:
                out[row - 1].append((cls, piece))

    soft = _soft_keyword_lines(source)
    try:
        cursor = (1, 0)
        line_start = True
        fstring_depth = 0
        fstring_start = (0, 0)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _FSTRING_START:
                if fstring_depth == 0:
                    fstring_start = tok.start
                fstring_depth += 1
                continue
            if fstring_depth:
                if tok.type in _FSTRING_END:
                    fstring_depth -= 1
                    if fstring_depth == 0:
                        if fstring_start > cursor:
                            emit("ws", cursor, fstring_start)
                        emit("str", fstring_start, tok.end)
                        cursor = max(cursor, tok.end)
                        line_start = False
                continue
            if tok.type in _SKIP_TOKENS:
                if tok.type in (token.NEWLINE, tokenize.NL):
                    line_start = True
                continue
            if tok.start > cursor:
                emit("ws", cursor, tok.start)
            if tok.type == token.NAME:
                if keyword.iskeyword(tok.string):
                    cls = "key"
                elif keyword.issoftkeyword(tok.string) and line_start and tok.start[0] in soft:
                    cls = "key"
                else:
                    cls = "nam"
            elif tok.type == token.OP:
                cls = "op"
            elif tok.type == token.NUMBER:
                cls = "num"
            elif tok.type in _STRING_TOKENS:
                cls = "str"
            elif tok.type == token.COMMENT:
                cls = "com"
            else:
                cls = "pln"
            emit(cls, tok.start, tok.end)
            cursor = max(cursor, tok.end)
            line_start = False
        emit("ws", cursor, (len(lines), len(lines[-1])))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [[("pln", text)] if text else [] for text in lines]
    # Safety net: a line whose tokens don't add up to its text is shown plain.
    for i, text in enumerate(lines):
        if "".join(t for _, t in out[i]) != text:
            out[i] = [("pln", text)] if text else []
    return out
