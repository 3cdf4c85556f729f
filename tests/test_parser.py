"""Tests of covcore.parser (statements, exclusions) and covcore.pysource.

Every snippet has its exact expected statements and excluded lines written
out here, and is also checked against coverage.py's own parser on the running
Python (coverage.py is the reference covcore must agree with).  A corpus test
compares the two parsers over a few hundred standard-library files.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import sys
import sysconfig
import textwrap
import time
import warnings
import zipfile

import pytest

from covcore.errors import NoSource, NotPython
from covcore.parser import (
    DEFAULT_EXCLUDE,
    DEFAULT_PARTIAL,
    DEFAULT_PARTIAL_ALWAYS,
    PythonParser,
    join_regex,
    multiline_map_from_text,
)
from covcore.pysource import read_source

PY = sys.version_info[:2]
DEFAULT = join_regex(DEFAULT_EXCLUDE)


def ref_parser_class():
    """coverage.py's PythonParser, the reference (skip if it isn't installed)."""
    ref = pytest.importorskip("coverage.parser")
    return ref.PythonParser


def by_version(table: dict[tuple[int, int], object]) -> object:
    """The entry of `table` for the running Python: the latest key <= it."""
    key = max(k for k in table if k <= PY)
    return table[key]


@dataclasses.dataclass
class Case:
    name: str
    source: str
    statements: set[int] | dict[tuple[int, int], set[int]]
    excluded: set[int] | dict[tuple[int, int], set[int]]
    exclude: str | None = DEFAULT
    min_version: tuple[int, int] = (3, 10)

    def expected(self) -> tuple[set[int], set[int]]:
        stmts, excl = self.statements, self.excluded
        if isinstance(stmts, dict):
            stmts = by_version(stmts)
        if isinstance(excl, dict):
            excl = by_version(excl)
        return stmts, excl  # type: ignore[return-value]


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    Case(
        "multiline",
        src('''
            x = foo(
                1,
                2,
            )
            d = {
                "a": 1,
                "b": 2,
            }
            s = """
            line
            """
            t = 1 + \\
                2
            u = ("abc"
                 "def")
            print(x,
                  d, s, t)
            '''),
        statements={1, 5, 9, 12, 14, 16},
        excluded=set(),
    ),
    Case(
        "decorators",
        src('''
            import functools

            @functools.lru_cache
            def f(x):
                return x

            @functools.wraps(
                f,
            )
            @staticmethod
            def g(
                a,
                b,
            ):
                return a + b

            @dataclass
            class C:
                x: int = 1
            '''),
        statements={1, 3, 4, 5, 7, 10, 11, 15, 17, 18, 19},
        excluded=set(),
    ),
    Case(
        "docstrings",
        src('''
            """Module docstring.

            More text.
            """

            def f():
                """Function docstring."""
                return 1

            class C:
                """Class
                docstring."""

                def m(self):
                    \'\'\'Method docstring.\'\'\'
                    "not a docstring"
                    x = """also
                    not"""
                    return x

            async def af():
                "Async docstring."
                b"bytes are not docstrings"

            def g():
                x = 1
                "not a docstring"
                return x

            "a module-level string that is not a docstring"
            y = f"{1}"

            def only_doc():
                """Nothing but a docstring."""

            class OnlyDoc:
                """Nothing but a docstring."""
            '''),
        statements={6, 8, 10, 14, 16, 17, 19, 21, 23, 25, 26, 27, 28, 30, 31, 33, 36},
        excluded=set(),
    ),
    Case(
        "if_elif_else",
        src('''
            def f(a):
                if a == 1:
                    x = 1
                elif a == 2:
                    x = 2
                elif (a ==
                      3):
                    x = 3
                else:
                    x = 4
                if a: pass
                else: x = 5
                return x
            '''),
        statements={1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13},
        excluded=set(),
    ),
    Case(
        "loops_else",
        src('''
            def f(items):
                for i in items:
                    if i:
                        break
                else:
                    i = None
                while items:
                    items.pop()
                    if not items:
                        continue
                else:
                    done = True
                for a, b in zip(
                    items,
                    items,
                ):
                    pass
                return i
            '''),
        statements={1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 17, 18},
        excluded=set(),
    ),
    Case(
        "try",
        src('''
            def f():
                try:
                    a = 1
                except ValueError:
                    a = 2
                except (TypeError,
                        KeyError) as e:
                    a = 3
                else:
                    a = 4
                finally:
                    a = 5
                try:
                    b = 1
                finally:
                    b = 2
                return a, b
            '''),
        statements={1, 2, 3, 4, 5, 6, 8, 10, 12, 13, 14, 16, 17},
        excluded=set(),
    ),
    Case(
        "except_star",
        src('''
            def f():
                try:
                    raise ExceptionGroup("eg", [ValueError(1)])
                except* ValueError:
                    a = 1
                except* TypeError as e:
                    a = 2
                else:
                    a = 3
                finally:
                    a = 4
                return a
            '''),
        statements={1, 2, 3, 4, 5, 6, 7, 11, 12},
        excluded=set(),
        min_version=(3, 11),
    ),
    Case(
        "with",
        src('''
            def f(a, b):
                with a:
                    x = 1
                with a as p, b as q:
                    x = 2
                with (
                    a as p,
                    b as q,
                ):
                    x = 3
                with (a, b):
                    x = 4
                return x
            '''),
        statements={1, 2, 3, 4, 5, 6, 10, 11, 12, 13},
        excluded=set(),
    ),
    Case(
        "match",
        src('''
            def f(command):
                match command.split():
                    case [action]:
                        x = 1
                    case [action, obj]:
                        x = 2
                    case Point(x=0, y=0) | Point(
                        x=1, y=1,
                    ):
                        x = 3
                    case {"k": v} if v > 0:
                        x = 4
                    case _:
                        x = 5
                return x
            '''),
        statements={1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15},
        excluded=set(),
    ),
    Case(
        "async",
        src('''
            import asyncio

            async def f(aiter, cm):
                async for x in aiter:
                    await asyncio.sleep(0)
                else:
                    x = None
                async with cm as c:
                    y = await c.get(
                        x,
                    )
                return [z async for z in aiter]

            async def g():
                await f(
                    None, None)
            '''),
        statements={1, 3, 4, 5, 7, 8, 9, 12, 14, 15},
        excluded=set(),
    ),
    Case(
        "generators_lambdas_comprehensions",
        src('''
            def gen(n):
                for i in range(n):
                    yield i
                yield from range(
                    n)

            square = lambda x: x * x
            other = lambda x: (
                x + 1
            )
            lst = [i for i in range(3)]
            dct = {
                i: i
                for i in range(3)
                if i
            }
            st = {i for i in range(3)}
            g = (i for i in
                 range(3))
            '''),
        statements={1, 2, 3, 4, 7, 8, 11, 12, 17, 18},
        excluded=set(),
    ),
    Case(
        "classes_nested",
        src('''
            class A:
                x = 1

                class B:
                    y = 2

                    def m(self):
                        def inner():
                            def innermost():
                                return 3
                            return innermost
                        return inner

                def n(self):
                    pass

            class C(A,
                    metaclass=type):
                pass

            class D: pass
            '''),
        statements={1, 2, 4, 5, 7, 8, 9, 10, 11, 12, 14, 15, 17, 19, 21},
        excluded=set(),
    ),
    Case(
        # Code the compiler drops as dead: each Python differs.
        "dead_code",
        src('''
            if 0:
                def f():
                    return 1
                g = lambda: 2
            x = 3
            if True:
                class A:
                    pass
            else:
                class B:
                    """doc"""
                    y = 1
            '''),
        statements={
            (3, 10): {1, 3, 4, 5, 6, 7, 8, 10, 12},
            (3, 11): {1, 2, 3, 4, 5, 6, 7, 8, 10, 12},
            (3, 12): {1, 5, 6, 7, 8},
        },
        excluded=set(),
    ),
    Case(
        "after_return_in_finally",
        src('''
            def f(out):
                try:
                    out.append(2)
                finally:
                    out.append(4)
                    return
                    try:
                        out.append(8)
                    finally:
                        out.append(10)
                    pass
                out.append(12)
            '''),
        statements={
            (3, 10): {1, 2, 3, 5, 6},
            (3, 11): {1, 2, 3, 5, 6, 11},
            (3, 12): {1, 2, 3, 5, 6},
        },
        excluded=set(),
    ),
    Case(
        "match_unreachable",
        src('''
            def f(command):
                match command:
                    case 1:
                        if False:
                            return 1
                    case _:
                        if False:
                            return 0
            '''),
        statements={
            (3, 10): {1, 2, 3, 4, 5, 6, 7},
            (3, 11): {1, 2, 3, 4, 6, 7},
        },
        excluded=set(),
    ),
    Case(
        "type_checking",
        src('''
            from typing import TYPE_CHECKING
            import typing

            if TYPE_CHECKING:
                import os
                from collections import (
                    OrderedDict,
                )

            if typing.TYPE_CHECKING:
                import sys
            else:
                sys = None

            def f():
                if TYPE_CHECKING:
                    import re
                return 1

            x = 1  # if TYPE_CHECKING: only at the start of a line counts
            '''),
        statements={1, 2, 13, 15, 18, 20},
        excluded={3, 4, 5, 6, 9, 10, 11, 16, 17},
    ),
    Case(
        "ellipsis",
        src('''
            from typing import Protocol, overload

            class P(Protocol):
                def meth(self) -> int: ...
                def other(self,
                          x: int) -> str: ...
                async def am(self): ...

            @overload
            def f(x: int) -> int: ...
            @overload
            def f(x: str) -> str:
                ...
            def f(x):
                return x

            def g():
                ...

            x = ...
            '''),
        statements={1, 3, 5, 14, 15, 20},
        excluded={4, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19},
    ),
    Case(
        "pragmas",
        src('''
            a = 1  # pragma: no cover
            b = 2  #pragma:no cover
            c = 3  # PRAGMA: NO COVER
            d = 4  # pragma no cover
            e = 5  # pragma: nocover

            def f():  # pragma: no cover
                x = 1
                return x

            @decorator  # pragma: no cover
            def g():
                return 2

            @decorator(
                arg,  # pragma: no cover
            )
            @other
            class K:
                pass

            v = call(
                1,
                2,  # pragma: no cover
            )

            if a:
                y = 1
            else:  # pragma: no cover
                y = 2
                z = 3

            while a:  # pragma: no cover
                pass
            w = 9
            f = 10  # Pragma: No Cover is not a pragma
            '''),
        statements={27, 28, 35, 36},
        excluded={1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18, 19, 20, 22, 29, 30, 31, 33, 34},
    ),
    Case(
        "pragma_blocks",
        src('''
            def f(a):
                if a:  # pragma: no cover
                    x = 1
                    if x:
                        y = 2
                elif a > 2:
                    x = 2
                try:
                    x = 3
                except ValueError:  # pragma: no cover
                    x = 4
                finally:
                    x = 5
                for i in a:
                    pass
                else:  # pragma: no cover
                    pass
                with (
                    open("f") as fh  # pragma: no cover
                ):
                    x = fh.read()
                return x

            class C:  # pragma: no cover
                def m(self):
                    return 1

            def g(
                a,  # pragma: no cover
            ):
                return a
            '''),
        statements={1, 6, 7, 8, 9, 13, 14, 15, 22},
        excluded={2, 3, 4, 5, 10, 11, 16, 17, 18, 21, 24, 25, 26, 28, 29, 30, 31},
    ),
    Case(
        "pragma_one_line_blocks",
        src('''
            if x: y = 1  # pragma: no cover
            z = 2
            for i in x: pass  # pragma: no cover
            while z:  # pragma: no cover
                z -= 1
            else:
                z = 3
            '''),
        statements={2, 7},
        excluded={1, 3, 4, 5},
    ),
    Case(
        "match_excluded",
        src('''
            def f(v):
                match v:
                    case 1:
                        x = 1
                    case 2:  # pragma: no cover
                        x = 2
                    case _:
                        raise ValueError(v)  # pragma: no cover
                match v:
                    case [a] if a:
                        x = 3  # pragma: no cover
                    case other:
                        x = 4  # pragma: no cover
                return x
            '''),
        statements={1, 2, 3, 4, 9, 10, 14},
        excluded={5, 6, 7, 8, 11, 12, 13},
    ),
    Case(
        "custom_raise",
        src('''
            class Base:
                def run(self):
                    raise NotImplementedError

                def stop(self):
                    raise NotImplementedError(
                        "stop"
                    )

                def go(self):
                    return 1
            '''),
        statements={1, 2, 5, 10, 11},
        excluded={3, 6},
        exclude=r"raise NotImplementedError",
    ),
    Case(
        "custom_def",
        src('''
            class A:
                def __init__(self):
                    self.x = 1

                def __repr__(self):
                    return (
                        f"A({self.x})"
                    )

                def __str__(self):
                    return "a"
            '''),
        statements={1, 2, 3, 10, 11},
        excluded={5, 6, 7, 8},
        exclude=r"def __repr__",
    ),
    Case(
        "custom_if_debug",
        src('''
            DEBUG = False
            if DEBUG:
                print("debug")
                for i in range(3):
                    print(i)
            elif DEBUG is None:
                pass
            print("done")
            '''),
        statements={1, 6, 7, 8},
        excluded={2, 3, 4, 5},
        exclude=r"^\s*if DEBUG:",
    ),
    Case(
        "custom_regex_across_lines",
        src('''
            x = 1
            y = 2
            z = 3
            '''),
        statements={3},
        excluded={1, 2},
        exclude=r"x = 1\ny = 2",
    ),
    Case(
        "custom_joined_with_defaults",
        src('''
            import logging
            log = logging.getLogger()
            def f(a):
                if a:  # pragma: no cover
                    return 1
                log.debug(
                    "a=%s", a)
                return 2
            '''),
        statements={1, 2, 3, 8},
        excluded={4, 5, 6},
        exclude=join_regex(DEFAULT_EXCLUDE + [r"log\.debug\("]),
    ),
    Case(
        "no_exclude",
        src('''
            a = 1  # pragma: no cover
            if a:  # pragma: no cover
                b = 2
            '''),
        statements={1, 2, 3},
        excluded=set(),
        exclude=None,
    ),
    Case(
        # Colons that don't open blocks, next to excluded lines.
        "colon_quirks",
        src('''
            f = lambda: 1  # pragma: no cover
            if f:
                g = 2
            h: int = 3  # pragma: no cover
            d = {"k": 4}  # pragma: no cover
            s = [1, 2][0:1]  # pragma: no cover
            if (n := len(s)):  # pragma: no cover
                m = 5
            t = f"{n:>10}"
            if f"{n:>10}":  # pragma: no cover
                u = 6
            a = 1; b = 2  # pragma: no cover
            c = 3
            '''),
        statements={2, 3, 9, 13},
        excluded={1, 4, 5, 6, 7, 8, 10, 11, 12},
    ),
    Case(
        "pragma_continuations",
        src('''
            if a and \\
                    b:  # pragma: no cover
                x = 1
            y = """
            text
            """  # pragma: no cover
            z = (
                1
            )
            @one
            @two(  # pragma: no cover
                3,
            )
            class K:
                k = 4

            w = 5
            '''),
        statements={7, 17},
        excluded={1, 3, 4, 10, 11, 12, 13, 14, 15},
    ),
    Case(
        "multiline_fstring",
        src('''
            name = "x"
            msg = f"""
            hello {name:>{10}}
            {name!r}
            """
            if msg:
                out = f"{
                    name  # pragma: no cover
                }"
                more = 1
            '''),
        statements={1, 2, 6, 10},
        excluded={7},
        min_version=(3, 12),
    ),
    Case(
        "type_params",
        src('''
            type Alias = list[int]
            type Pair[T] = tuple[
                T, T]

            def first[T](items: list[T]) -> T:
                return items[0]

            class Box[T: (int, str)]:  # pragma: no cover
                def get(self) -> T:
                    return self.item
            '''),
        statements={1, 2, 5, 6},
        excluded={8, 9, 10},
        min_version=(3, 12),
    ),
    Case("empty", "", statements=set(), excluded=set()),
    Case(
        "comments_only",
        "# just a comment\n\n# pragma: no cover\n",
        statements=set(),
        excluded={3},
    ),
]

CASES_BY_NAME = {case.name: case for case in CASES}


def case_params() -> list:
    params = []
    for case in CASES:
        marks = []
        if PY < case.min_version:
            marks.append(pytest.mark.skip(reason=f"needs Python {case.min_version}"))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def parse(text: str, exclude: str | None = DEFAULT, filename: str | None = None) -> PythonParser:
    parser = PythonParser(text=text, filename=filename, exclude=exclude)
    parser.parse_source()
    return parser


@pytest.mark.parametrize("case", case_params())
def test_statements_and_excluded(case: Case) -> None:
    parser = parse(case.source, case.exclude)
    statements, excluded = case.expected()
    assert parser.statements == statements
    assert parser.excluded == excluded


@pytest.mark.parametrize("case", case_params())
def test_same_as_coverage_py(case: Case) -> None:
    RefParser = ref_parser_class()
    ref = RefParser(text=case.source, filename="snippet.py", exclude=case.exclude)
    ref.parse_source()
    parser = parse(case.source, case.exclude, filename="snippet.py")
    assert parser.statements == ref.statements
    assert parser.excluded == ref.excluded
    assert parser.raw_statements == ref.raw_statements
    assert parser.multiline_map == ref.multiline_map
    assert parser.lines_matching(DEFAULT) == ref.lines_matching(DEFAULT)


def test_except_star_is_a_syntax_error_before_311() -> None:
    if PY >= (3, 11):
        pytest.skip("except* is valid")
    with pytest.raises(NotPython, match=r"^Couldn't parse '<code>' as Python source: 'invalid syntax' at line 4$"):
        parse(CASES_BY_NAME["except_star"].source)


# -- line numbers ------------------------------------------------------------


def test_multiline_map_and_first_lines() -> None:
    parser = parse(CASES_BY_NAME["multiline"].source)
    assert parser.multiline_map == {
        1: 1, 2: 1, 3: 1, 4: 1,
        5: 5, 6: 5, 7: 5, 8: 5,
        9: 9, 10: 9, 11: 9,
        12: 12, 13: 12,
        14: 14, 15: 14,
        16: 16, 17: 16,
    }  # fmt: skip
    assert multiline_map_from_text(parser.text) == parser.multiline_map
    assert parser.first_line(3) == 1
    assert parser.first_line(1) == 1
    assert parser.first_line(-4) == -1
    assert parser.first_line(99) == 99
    assert parser.first_lines([2, 3, 6, 13, 17]) == {1, 5, 12, 16}
    assert parser.translate_lines([1, 2, 3, 4, 10, 15, 16]) == {1, 9, 14, 16}


def test_lines_matching() -> None:
    text = src('''
        a = 1  # here
        b = f(
            2,  # here
        )
        c = 3
        ''')
    parser = PythonParser(text=text)
    # Before parsing, lines are raw; after, mapped to statement first lines.
    assert parser.lines_matching("# here") == {1, 3}
    parser.parse_source()
    assert parser.lines_matching("# here") == {1, 2}
    assert parser.lines_matching(r"^c") == {5}
    assert parser.lines_matching(r"1.*\n.*f\(") == {1, 2}
    assert parser.lines_matching("nothing") == set()


def test_parse_source_twice_changes_nothing() -> None:
    parser = parse(CASES_BY_NAME["pragmas"].source)
    statements, excluded = set(parser.statements), set(parser.excluded)
    parser.parse_source()
    assert (parser.statements, parser.excluded) == (statements, excluded)


def test_raw_sets() -> None:
    text = src('''
        """Doc."""
        x = 1  # pragma: no cover
        y = (2,
             3)
        ''')
    parser = parse(text)
    assert parser.raw_docstrings == {1}
    assert parser.raw_excluded == {2}
    assert parser.raw_statements == {1, 2, 3}
    assert parser.statements == {3}
    assert parser.excluded == {2}


def test_default_regexes() -> None:
    assert DEFAULT_EXCLUDE == [
        r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)",
        r"^\s*(((async )?def .*?)?[\])]+(\s*->.*?)?:\s*)?\.\.\.\s*(#|$)",
        r"^\s*if (typing\.)?TYPE_CHECKING:",
    ]
    assert DEFAULT_PARTIAL == [r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(branch|BRANCH)"]
    assert DEFAULT_PARTIAL_ALWAYS == [
        r"^\s*while (True|1|False|0):",
        r"^\s*if (True|1|False|0):",
    ]
    assert join_regex(["a"]) == "a"
    assert join_regex(["a", "b|c"]) == "(?:a)|(?:b|c)"
    config = pytest.importorskip("coverage.config")
    import coverage

    if coverage.version_info >= (7, 17):
        assert DEFAULT_EXCLUDE == config.DEFAULT_EXCLUDE
        assert DEFAULT_PARTIAL == config.DEFAULT_PARTIAL
        assert DEFAULT_PARTIAL_ALWAYS == config.DEFAULT_PARTIAL_ALWAYS


# -- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("x = 1\n  y = 2\n", "'unexpected indent' at line 2"),
        ("def f():\n    pass\nreturn 1\n", "\"'return' outside function\" at line 3"),
        ("x = 1\nbreak\n", "\"'break' outside loop\" at line 2"),
        ("def f():\n    x = 1\n    nonlocal x\n", None),
        ("x = (1,\n", None),
        ("a b c\n", None),
        ('x = """\n', None),
    ],
)
def test_syntax_errors(text: str, message: str | None) -> None:
    with pytest.raises(NotPython) as exc_info:
        parse(text, filename="bad.py")
    got = str(exc_info.value)
    assert got.startswith("Couldn't parse 'bad.py' as Python source: ")
    if message is not None:
        assert got.endswith(message)
    # The message is coverage.py's.
    RefParser = ref_parser_class()
    from coverage.exceptions import NotPython as RefNotPython

    with pytest.raises(RefNotPython) as ref_info:
        ref = RefParser(text=text, filename="bad.py")
        ref.parse_source()
    assert got == str(ref_info.value)


def test_null_bytes_in_text() -> None:
    with pytest.raises(NotPython, match="^Couldn't parse 'nul.py' as Python source: .*null bytes"):
        parse("x = 1\x00\n", filename="nul.py")


def test_needs_text_or_filename() -> None:
    with pytest.raises(ValueError):
        PythonParser()


# -- reading source ----------------------------------------------------------


def test_parser_reads_the_file(tmp_path) -> None:
    path = tmp_path / "mod.py"
    path.write_bytes(b"# coding: latin-1\r\nx = 'caf\xe9'\r\nif x:  # pragma: no cover\r\n    y = 1")
    parser = PythonParser(filename=str(path), exclude=DEFAULT)
    assert parser.text == "# coding: latin-1\nx = 'caf\xe9'\nif x:  # pragma: no cover\n    y = 1\n"
    parser.parse_source()
    assert parser.statements == {2}
    assert parser.excluded == {3, 4}


def test_parser_missing_file(tmp_path) -> None:
    missing = str(tmp_path / "missing.py")
    with pytest.raises(NoSource) as exc_info:
        PythonParser(filename=missing)
    assert str(exc_info.value) == f"No source for code: '{missing}'."


def test_read_source_missing(tmp_path) -> None:
    missing = str(tmp_path / "nope.py")
    with pytest.raises(NoSource) as exc_info:
        read_source(missing)
    assert str(exc_info.value) == f"No source for code: '{missing}'."
    assert exc_info.value.slug == "no-source"
    # A directory can't be read either.
    with pytest.raises(NoSource):
        read_source(str(tmp_path))


def test_read_source_newlines(tmp_path) -> None:
    path = tmp_path / "nl.py"
    path.write_bytes(b"a = 1\r\nb = 2\rc = 3\nd = '\xc3\xa9'")
    assert read_source(str(path)) == "a = 1\nb = 2\nc = 3\nd = '\xe9'\n"
    empty = tmp_path / "empty.py"
    empty.write_bytes(b"")
    assert read_source(str(empty)) == ""


def test_read_source_form_feed(tmp_path) -> None:
    # Form feeds become spaces, as coverage.py has them.
    path = tmp_path / "ff.py"
    path.write_bytes(b"a = 1\n\x0c\ndef f():\n    return 2\n")
    assert read_source(str(path)) == "a = 1\n \ndef f():\n    return 2\n"


def test_read_source_bom(tmp_path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbfx = '\xe2\x82\xac'\n")
    assert read_source(str(path)) == "x = '\u20ac'\n"
    both = tmp_path / "bom_cookie.py"
    both.write_bytes(b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nx = 1\n")
    assert read_source(str(both)) == "# -*- coding: utf-8 -*-\nx = 1\n"


def test_read_source_bom_with_other_cookie(tmp_path) -> None:
    path = tmp_path / "bad_bom.py"
    path.write_bytes(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")
    with pytest.raises(NotPython, match=rf"^Couldn't parse '{_re(path)}' as Python source: .* at line 1$"):
        read_source(str(path))


def test_read_source_cookie(tmp_path) -> None:
    path = tmp_path / "cookie.py"
    path.write_bytes(b"#!/usr/bin/env python\n# -*- coding: cp1252 -*-\nx = '\x80'\n")
    assert read_source(str(path)) == "#!/usr/bin/env python\n# -*- coding: cp1252 -*-\nx = '\u20ac'\n"


def test_read_source_unknown_encoding(tmp_path) -> None:
    path = tmp_path / "unknown.py"
    path.write_bytes(b"#!/usr/bin/env python\n# coding: no-such-codec\nx = 1\n")
    with pytest.raises(NotPython) as exc_info:
        read_source(str(path))
    msg = str(exc_info.value)
    assert msg.startswith(f"Couldn't parse '{path}' as Python source: ")
    assert "no-such-codec" in msg
    assert msg.endswith(" at line 2")


def test_read_source_undecodable(tmp_path) -> None:
    path = tmp_path / "bad_utf8.py"
    path.write_bytes(b"x = 1\ny = '\xff\xfe'\n")
    with pytest.raises(NotPython) as exc_info:
        read_source(str(path))
    msg = str(exc_info.value)
    assert msg.startswith(f"Couldn't parse '{path}' as Python source: ")
    assert "utf-8" in msg and msg.endswith(" at line 2")
    assert exc_info.value.slug == "not-python"


def test_read_source_lying_cookie(tmp_path) -> None:
    # Declared ASCII, but the file has UTF-8 bytes.
    path = tmp_path / "liar.py"
    path.write_bytes(b"# coding: ascii\nx = 1\ny = 'caf\xc3\xa9'\n")
    with pytest.raises(NotPython) as exc_info:
        read_source(str(path))
    msg = str(exc_info.value)
    assert msg.startswith(f"Couldn't parse '{path}' as Python source: ")
    assert "ascii" in msg and msg.endswith(" at line 3")


def test_read_source_null_bytes(tmp_path) -> None:
    path = tmp_path / "nul.py"
    path.write_bytes(b"x = 1\ny = 2\x00\n")
    with pytest.raises(NotPython) as exc_info:
        read_source(str(path))
    msg = str(exc_info.value)
    assert msg == f"Couldn't parse '{path}' as Python source: 'source code cannot contain null bytes' at line 2"


def test_read_source_zip(tmp_path) -> None:
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zpkg_covcore_test/__init__.py", "")
        zf.writestr("zpkg_covcore_test/mod.py", "def f():\r\n    return 'z'  # pragma: no cover")
    sys.path.insert(0, str(archive))
    try:
        import zpkg_covcore_test.mod as mod
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("zpkg_covcore_test.mod", None)
        sys.modules.pop("zpkg_covcore_test", None)
    assert mod.f() == "z"
    assert mod.__file__ == os.path.join(str(archive), "zpkg_covcore_test", "mod.py")
    assert read_source(mod.__file__) == "def f():\n    return 'z'  # pragma: no cover\n"
    parser = PythonParser(filename=mod.__file__, exclude=DEFAULT)
    parser.parse_source()
    assert parser.statements == {1}
    assert parser.excluded == {2}
    assert read_source(os.path.join(str(archive), "zpkg_covcore_test", "__init__.py")) == ""
    missing = os.path.join(str(archive), "zpkg_covcore_test", "nope.py")
    with pytest.raises(NoSource, match="No source for code"):
        read_source(missing)


def _re(path) -> str:
    import re

    return re.escape(str(path))


# -- many real files ---------------------------------------------------------

STDLIB = sysconfig.get_paths()["stdlib"]
CORPUS_PACKAGES = [
    "json", "email", "asyncio", "concurrent", "importlib", "unittest",
    "xml", "logging", "http", "urllib", "multiprocessing", "idlelib",
]  # fmt: skip
CORPUS_MODULES = [
    "test/test_patma.py", "test/test_except_star.py", "test/test_grammar.py",
    "test/test_coroutines.py", "test/test_sys_settrace.py", "test/test_syntax.py",
    "test/test_compile.py", "test/test_exceptions.py", "argparse.py", "typing.py",
    "dataclasses.py", "inspect.py",
]  # fmt: skip
# An exclusion regex that hits every kind of block header, and one that hits
# lines in the middle of statements and bodies.
BLOCK_REGEX = r"^\s*(if|elif|else|try|except|finally|with|for|while|def|class|@|match|case|async)\b"
SCATTER_REGEX = r"return|raise|yield|\(\s*$|,\s*$|#"


def corpus_files(package: str) -> list[str]:
    path = os.path.join(STDLIB, package)
    if package.endswith(".py"):
        return [path] if os.path.exists(path) else []
    return sorted(glob.glob(os.path.join(path, "**", "*.py"), recursive=True))


def compare_with_reference(filename: str, exclude: str) -> bool:
    """Check covcore against coverage.py on one file; False if not comparable."""
    RefParser = ref_parser_class()
    from coverage.exceptions import NotPython as RefNotPython

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reference warns about odd escapes
            ref = RefParser(filename=filename, exclude=exclude)
            ref.parse_source()
    except RefNotPython:
        # coverage.py can't parse it: neither can we.
        with pytest.raises(NotPython):
            parse(read_source(filename), exclude, filename)
        return False
    except Exception:  # the reference itself fails (e.g. odd bytes)
        return False
    parser = PythonParser(filename=filename, exclude=exclude)
    assert parser.text == ref.text, filename
    parser.parse_source()
    assert parser.statements == ref.statements, filename
    assert parser.excluded == ref.excluded, filename
    assert parser.multiline_map == ref.multiline_map, filename
    return True


@pytest.mark.stdlib  # with the whole-stdlib run (tests/test_stdlib_analysis.py): ci/test.sh runs it once
@pytest.mark.parametrize("package", CORPUS_PACKAGES + ["single modules"])
def test_corpus_same_as_coverage_py(package: str) -> None:
    if package == "single modules":
        files = [f for m in CORPUS_MODULES for f in corpus_files(m)]
    else:
        files = corpus_files(package)
    if not files:
        pytest.skip(f"{package} isn't in this Python's standard library")
    compared = 0
    for filename in files:
        if compare_with_reference(filename, DEFAULT):
            compared += 1
            compare_with_reference(filename, BLOCK_REGEX)
            compare_with_reference(filename, SCATTER_REGEX)
    assert compared >= len(files) * 0.9


def test_big_file_is_fast(tmp_path) -> None:
    chunk = read_source(os.path.join(STDLIB, "argparse.py"))
    text = chunk * (100_000 // chunk.count("\n") + 1)
    assert text.count("\n") >= 100_000
    start = time.perf_counter()
    parser = parse(text, DEFAULT)
    elapsed = time.perf_counter() - start
    assert len(parser.statements) > 30_000
    # A few seconds normally; generous for busy machines.
    assert elapsed < 60, f"parsing 100k lines took {elapsed:.1f}s"
