"""Tests of covcore's tracer backends: covcore._tracer (sysmon, ctrace),
covcore.pytracer (python) and covcore.backend.

Every program below is run under every backend available on this Python (in
line mode and in branch mode) and must record exactly the lines and arcs
written out here, which are also what coverage.py records for it (checked by
running coverage.py in a subprocess).

The sysmon backend's arcs are read with :func:`covcore.bytecode.resolve_arcs`
and compared by what branch coverage takes from them (:func:`branch_view`):
the lines that ran, the possible arcs taken from lines with several possible
destinations, and those not taken.  They must be equal to the settrace
tracers' (and coverage.py's) in these three.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import types
from dataclasses import dataclass
from typing import Any

import pytest

from covcore import backend
from covcore.backend import Backend, available_backends, choose_backend, tracer_class
from covcore.bytecode import resolve_arcs
from covcore.errors import ConfigError, CovcoreError
from covcore.pytracer import PyTracer

BACKENDS = available_backends()
PYVER = "%d.%d" % sys.version_info[:2]

#: (backend, branch) pairs to run.
MODES = [(name, False) for name in BACKENDS] + [(name, True) for name in BACKENDS]
MODE_IDS = [f"{name}-{'arcs' if branch else 'lines'}" for name, branch in MODES]

needs_ext = pytest.mark.skipif(backend.EXTENSION_ERROR is not None, reason="no compiled extension")
needs_sysmon = pytest.mark.skipif("sysmon" not in BACKENDS, reason="sysmon needs Python 3.12+")


@dataclass
class Case:
    """A program, and the lines and arcs running it must record."""

    name: str
    source: str
    lines: Any
    arcs: Any
    #: The first Python version whose syntax the program uses.
    since: tuple = (3, 10)

    def __post_init__(self) -> None:
        self.source = textwrap.dedent(self.source)

    @property
    def supported(self) -> bool:
        return sys.version_info >= self.since


class per_version:  # noqa: N801 - reads as a function in the tables
    """Expectations that differ between Python versions: {"3.10 3.11": value, ...}."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = table

    def get(self) -> Any:
        for versions, value in self.table.items():
            if PYVER in versions.split():
                return value
        pytest.skip(f"no expectation written down for Python {PYVER}")


def expected(value: Any) -> Any:
    return value.get() if isinstance(value, per_version) else value


def no_warnings(message: str, slug: str) -> None:
    raise AssertionError(f"unexpected warning: {message} [{slug}]")


def branch_view(arcs: Any, source: str) -> tuple[set, set, set]:
    """What branch coverage takes from the arcs measured for `source`.

    coverage.py's static analysis of `source` (the reference: test-only)
    gives the possible arcs; *branch lines* are lines with more than one
    possible exit.  Returns (lines that ran, as statement first lines;
    possible arcs taken from branch lines; possible arcs from branch lines
    not taken), after reading `arcs` with :func:`resolve_arcs`.
    """
    from coverage.parser import PythonParser

    parser = PythonParser(text=source)
    parser.parse_source()
    possible = parser.arcs()
    branch_lines = {line for line, n in parser.exit_counts().items() if n > 1}
    arcs = resolve_arcs(arcs, possible)
    ran = {parser.first_line(line) for arc in arcs for line in arc if line > 0}
    taken = {arc for arc in arcs if arc in possible and arc[0] in branch_lines}
    missing = {arc for arc in possible if arc[0] in branch_lines and arc not in arcs}
    return ran, taken, missing


def assert_recorded(name: str, branch: bool, got: Any, want: Any, source: str) -> None:
    """`got` (measured by backend `name`) is `want` (settrace tracers' data).

    Exactly, except for the sysmon backend's arcs, compared by
    :func:`branch_view`.
    """
    if name in ("sysmon", "probe") and branch:
        assert branch_view(got, source) == branch_view(want, source)
    else:
        assert got == want


def make_tracer(name, data, should_trace, cache=None, *, branch=False, warn=no_warnings):
    cls = tracer_class(name)
    return cls(data, should_trace, {} if cache is None else cache, branch=branch, warn=warn)


def only(*paths: str):
    """A should_trace measuring just `paths` (under their own names)."""
    wanted = set(paths)
    return lambda filename: filename if filename in wanted else None


def run_traced(name: str, branch: bool, path: str, source: str) -> dict:
    """Run `source` (as file `path`) under a fresh tracer; return its data."""
    data: dict = {}
    code = compile(source, path, "exec")
    tracer = make_tracer(name, data, only(path), branch=branch)
    tracer.start()
    try:
        exec(code, {"__name__": "__covtest__"})
    finally:
        tracer.stop()
    return data


# What coverage.py records for a list of programs: run in a subprocess so the
# two tools never trace at once, with coverage.py's default core.
COVERAGE_SCRIPT = """\
import json, os, sys
import coverage
branch = sys.argv[1] == "1"
paths = sys.argv[2:]
cov = coverage.Coverage(data_file=None, branch=branch, config_file=False)
cov.start()
for path in paths:
    with open(path) as f:
        source = f.read()
    exec(compile(source, path, "exec"), {"__name__": "__covtest__"})
cov.stop()
data = cov.get_data()
out = {}
for filename in data.measured_files():
    out[os.path.basename(filename)] = sorted(data.arcs(filename) if branch else data.lines(filename))
print(json.dumps(out))
"""


def coverage_py_results(paths: list[str], branch: bool) -> dict[str, set]:
    """{basename: lines or arcs} recorded by coverage.py running `paths`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVCORE_"))}
    proc = subprocess.run(
        [sys.executable, "-c", COVERAGE_SCRIPT, "1" if branch else "0", *paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    raw = json.loads(proc.stdout)
    return {name: {tuple(x) if isinstance(x, list) else x for x in vals} for name, vals in raw.items()}


CASES = [
    Case(
        'multiline',
        '''\
        x = (1 +
             2 +
             3)
        def f(a,
              b=2):
            return [
                a,
                b,
            ]
        y = f(
            1,
        )
        s = """abc
        def"""
        if (x and
                y):
            z = {
                "k": 1,
            }
        ''',
        lines={
            1, 4, 5, 6, 7, 8, 10, 11, 13, 15, 16, 17, 18,
        },
        arcs=per_version(
            {
                '3.10 3.11': {
                    (-4, 7), (-1, 1), (1, 5), (4, 10), (5, 4), (6, -4), (7, 8), (8, 6), (10, 11),
                    (10, 13), (11, 10), (13, 15), (15, 16), (15, 18), (16, 15), (17, -1), (18, 17),
                },
                '3.12 3.13': {
                    (-4, 7), (-1, 1), (1, 5), (4, 10), (5, 4), (6, -4), (7, 8), (8, 6), (10, 11),
                    (10, 13), (11, 10), (13, 15), (15, 16), (16, 18), (17, -1), (18, 17),
                },
            }
        ),
    ),
    Case(
        'decorators',
        '''\
        import functools
        def deco(fn):
            @functools.wraps(fn)
            def wrapper(*a):
                return fn(*a) + 1
            return wrapper

        @deco
        def f(x):
            return x * 2

        class C:
            @staticmethod
            def s():
                return 1

            @property
            def p(self):
                return 2
        r = f(3) + C.s() + C().p
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20,
        },
        arcs=per_version(
            {
                '3.10': {
                    (-17, 19), (-13, 15), (-12, 12), (-8, 10), (-3, 5), (-2, 3), (-1, 1), (1, 2),
                    (2, 8), (3, 4), (4, 6), (5, -3), (6, -2), (8, 9), (9, 12), (10, -8), (12, 13),
                    (12, 20), (13, 14), (14, 17), (15, -13), (17, 18), (18, -12), (19, -17),
                    (20, -1),
                },
                '3.11 3.12 3.13': {
                    (-17, 19), (-13, 15), (-12, 12), (-8, 10), (-3, 5), (-2, 3), (-1, 1), (1, 2),
                    (2, 8), (3, 4), (4, 3), (4, 6), (5, -3), (6, -2), (8, 9), (9, 8), (9, 12),
                    (10, -8), (12, 13), (12, 20), (13, 14), (14, 13), (14, 17), (15, -13),
                    (17, 18), (18, -12), (18, 17), (19, -17), (20, -1),
                },
            }
        ),
    ),
    Case(
        'docstrings',
        '''\
        """Module docstring."""
        def f():
            """Function docstring."""
            return 1
        class C:
            """Class docstring."""
            def m(self):
                """Method
                docstring."""
                pass
        def only_doc():
            """Nothing else."""
        f(); C().m(); only_doc()
        ''',
        lines={
            1, 2, 4, 5, 6, 7, 10, 11, 13,
        },
        arcs={
            (-11, 11), (-7, 10), (-5, 5), (-2, 4), (-1, 1), (1, 2), (2, 5), (4, -2), (5, 6),
            (5, 11), (6, 7), (7, -5), (10, -7), (11, -11), (11, 13), (13, -1),
        },
    ),
    Case(
        'if_elif_else',
        '''\
        def classify(n):
            if n < 0:
                return "neg"
            elif n == 0:
                return "zero"
            elif n < 10:
                r = "small"
            else:
                r = "big"
            return r
        for v in (-1, 0, 5):
            classify(v)
        a = 1 if v else 2
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 11), (2, 3), (2, 4), (3, -1), (4, 5), (4, 6), (5, -1), (6, 7),
            (7, 10), (10, -1), (11, 12), (11, 13), (12, 11), (13, -1),
        },
    ),
    Case(
        'loops',
        '''\
        def loops(n):
            total = 0
            for i in range(n):
                if i == 1:
                    continue
                if i == 5:
                    break
                total += i
            else:
                total = -total
            j = 0
            while j < 3:
                j += 1
                if j == 10:
                    break
            else:
                total += 100
            while True:
                j -= 1
                if j <= 0:
                    break
            return total
        loops(3)
        loops(7)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 24,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 23), (2, 3), (3, 4), (3, 10), (4, 5), (4, 6), (5, 3), (6, 7),
            (6, 8), (7, 11), (8, 3), (10, 11), (11, 12), (12, 13), (12, 17), (13, 14), (14, 12),
            (17, 18), (18, 19), (19, 20), (20, 18), (20, 21), (21, 22), (22, -1), (23, 24),
            (24, -1),
        },
    ),
    Case(
        'try_except',
        '''\
        def t(x):
            try:
                if x == 1:
                    raise ValueError("one")
                y = 10 / x
            except ValueError:
                y = 1
            except ZeroDivisionError:
                y = 0
            else:
                y += 1
            finally:
                y *= 2
            return y

        def rf(x):
            try:
                if x:
                    return "early"
                z = 1
            finally:
                z = 2
            return z

        def nested():
            try:
                try:
                    raise KeyError
                finally:
                    a = 1
            except KeyError:
                a = 2
            return a
        for v in (0, 1, 2):
            t(v)
        rf(True)
        rf(False)
        nested()
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 16, 17, 18, 19, 20, 22, 23, 25, 26, 27, 28, 30,
            31, 32, 33, 34, 35, 36, 37, 38,
        },
        arcs={
            (-25, 26), (-16, 17), (-1, 1), (-1, 2), (1, 16), (2, 3), (3, 4), (3, 5), (4, 6),
            (5, 6), (5, 11), (6, 7), (6, 8), (7, 13), (8, 9), (9, 13), (11, 13), (13, 14),
            (14, -1), (16, 25), (17, 18), (18, 19), (18, 20), (19, 22), (20, 22), (22, -16),
            (22, 23), (23, -16), (25, 34), (26, 27), (27, 28), (28, 30), (30, 31), (31, 32),
            (32, 33), (33, -25), (34, 35), (34, 36), (35, 34), (36, 37), (37, 38), (38, -1),
        },
    ),
    Case(
        'with_stmt',
        '''\
        class CM:
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return True
        with CM() as c:
            a = 1
        with CM():
            raise ValueError
        b = 2
        def f():
            with CM() as c, CM() as d:
                return 3
        f()
        class Keep:
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return False
        def g():
            try:
                with Keep():
                    raise KeyError
            except KeyError:
                pass
            return 1
        g()
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
            25, 26, 27,
        },
        arcs={
            (-20, 21), (-18, 19), (-16, 17), (-15, 15), (-11, 12), (-4, 5), (-2, 3), (-1, 1),
            (1, 2), (1, 6), (2, 4), (3, -2), (4, -1), (5, -4), (6, 7), (6, 8), (7, 6), (8, 9),
            (8, 10), (9, 8), (10, 11), (11, 14), (12, -11), (12, 13), (13, 12), (14, 15), (15, 16),
            (15, 20), (16, 18), (17, -16), (18, -15), (19, -18), (20, 27), (21, 22), (22, 23),
            (22, 24), (23, 22), (24, 25), (25, 26), (26, -20), (27, -1),
        },
    ),
    Case(
        'match_case',
        '''\
        def m(v):
            match v:
                case 0:
                    return "zero"
                case [x, y]:
                    return "pair"
                case {"k": k}:
                    return k
                case str() as s if len(s) > 2:
                    return "long"
                case _:
                    return "other"
        for v in (0, [1, 2], {"k": 3}, "abcd", "a"):
            m(v)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 13), (2, 3), (3, 4), (3, 5), (4, -1), (5, 6), (5, 7), (6, -1),
            (7, 8), (7, 9), (8, -1), (9, 10), (9, 11), (10, -1), (11, 12), (12, -1), (13, -1),
            (13, 14), (14, 13),
        },
    ),
    Case(
        'async_code',
        '''\
        import asyncio
        async def inner(x):
            await asyncio.sleep(0)
            return x + 1
        async def agen():
            for i in range(2):
                yield i
        async def main():
            a = await inner(1)
            b = await asyncio.gather(inner(2), inner(3))
            c = [i async for i in agen()]
            async with asyncio.Lock():
                d = 1
            return a, b, c, d
        asyncio.run(main())
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        },
        arcs=per_version(
            {
                '3.10 3.11': {
                    (-11, 11), (-8, 9), (-5, 6), (-2, 3), (-1, 1), (1, 2), (2, 5), (3, 4), (4, -2),
                    (5, 8), (6, -5), (6, 7), (7, 6), (8, 15), (9, 10), (10, 11), (11, -11),
                    (11, 11), (11, 12), (12, 13), (12, 14), (13, 12), (14, -8), (15, -1),
                },
                '3.12 3.13': {
                    (-8, 9), (-5, 6), (-2, 3), (-1, 1), (1, 2), (2, 5), (3, 4), (4, -2), (5, 8),
                    (6, -5), (6, 7), (7, 6), (8, 15), (9, 10), (10, 11), (11, 11), (11, 12),
                    (12, 13), (12, 14), (13, 12), (14, -8), (15, -1),
                },
            }
        ),
    ),
    Case(
        'generators',
        '''\
        def gen(n):
            for i in range(n):
                yield i
            return "done"
        def delegating():
            r = yield from gen(2)
            yield r
        list(gen(3))
        list(delegating())
        g = gen(10)
        next(g)
        next(g)
        g.close()
        def gen2():
            try:
                yield 1
                yield 2
            finally:
                cleanup = True
        h = gen2()
        next(h)
        del h
        e = (x * 2 for x in range(3))
        sum(e)
        def thrower():
            try:
                yield 1
            except ValueError:
                yield 2
        t = thrower()
        next(t)
        t.throw(ValueError)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 24, 25, 26,
            27, 28, 29, 30, 31, 32,
        },
        arcs=per_version(
            {
                '3.10 3.12 3.13': {
                    (-25, 26), (-23, 23), (-14, 15), (-5, 6), (-1, 1), (-1, 2), (1, 5), (2, 3),
                    (2, 4), (3, 2), (4, -1), (5, 8), (6, 7), (7, -5), (8, 9), (9, 10), (10, 11),
                    (11, 12), (12, 13), (13, 14), (14, 20), (15, 16), (16, 19), (19, -14),
                    (20, 21), (21, 22), (22, 23), (23, -23), (23, 23), (23, 24), (24, 25),
                    (25, 30), (26, 27), (27, 28), (28, 29), (30, 31), (31, 32), (32, -1),
                },
                '3.11': {
                    (-25, 26), (-25, 28), (-23, 23), (-14, 15), (-14, 19), (-5, 6), (-1, 1),
                    (-1, 2), (1, 5), (2, 3), (2, 4), (3, 2), (4, -1), (5, 8), (6, 7), (7, -5),
                    (8, 9), (9, 10), (10, 11), (11, 12), (12, 13), (13, 14), (14, 20), (15, 16),
                    (19, -14), (20, 21), (21, 22), (22, 23), (23, -23), (23, 23), (23, 24),
                    (24, 25), (25, 30), (26, 27), (28, 29), (30, 31), (31, 32), (32, -1),
                },
            }
        ),
    ),
    Case(
        'lambdas_comprehensions',
        '''\
        f = lambda x: x + 1
        g = lambda: (
            1
        )
        a = [f(i) for i in range(3)]
        b = {i: i for i in range(3) if i}
        c = {i for i in range(3)}
        d = [j for i in range(3) for j in range(i)]
        g()
        ''',
        lines={
            1, 2, 3, 5, 6, 7, 8, 9,
        },
        arcs=per_version(
            {
                '3.10': {
                    (-8, 8), (-7, 7), (-6, 6), (-5, 5), (-2, 3), (-1, 1), (1, -1), (1, 2), (2, 5),
                    (3, -2), (5, -5), (5, 5), (5, 6), (6, -6), (6, 6), (6, 7), (7, -7), (7, 7),
                    (7, 8), (8, -8), (8, 8), (8, 9), (9, -1),
                },
                '3.11': {
                    (-8, 8), (-7, 7), (-6, 6), (-5, 5), (-2, 3), (-1, 1), (1, -1), (1, 2), (2, -2),
                    (2, 5), (3, 2), (5, -5), (5, 5), (5, 6), (6, -6), (6, 6), (6, 7), (7, -7),
                    (7, 7), (7, 8), (8, -8), (8, 8), (8, 9), (9, -1),
                },
                '3.12': {
                    (-2, 3), (-1, 1), (1, -1), (1, 2), (2, -2), (2, 5), (3, 2), (5, 5), (5, 6),
                    (6, 6), (6, 7), (7, 7), (7, 8), (8, 8), (8, 9), (9, -1),
                },
                '3.13': {
                    (-2, 3), (-1, 1), (1, -1), (1, 2), (2, 5), (3, -2), (5, 5), (5, 6), (6, 6),
                    (6, 7), (7, 7), (7, 8), (8, 8), (8, 9), (9, -1),
                },
            }
        ),
    ),
    Case(
        'classes_nested_recursion',
        '''\
        class A:
            x = 1
            def __init__(self):
                self.y = 2
            class Inner:
                z = 3
                def m(self):
                    return self.z
        def outer(n):
            def inner(m):
                return m * n
            return inner(2)
        def fact(n):
            if n <= 1:
                return 1
            return n * fact(n - 1)
        A()
        A.Inner().m()
        outer(3)
        fact(5)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        },
        arcs={
            (-13, 14), (-10, 11), (-9, 10), (-7, 8), (-5, 5), (-3, 4), (-1, 1), (1, 2), (1, 9),
            (2, 3), (3, 5), (4, -3), (5, -1), (5, 6), (6, 7), (7, -5), (8, -7), (9, 13), (10, 12),
            (11, -10), (12, -9), (13, 17), (14, 15), (14, 16), (15, -13), (16, -13), (17, 18),
            (18, 19), (19, 20), (20, -1),
        },
    ),
    Case(
        'exceptions_propagate',
        '''\
        def a():
            b()
            never = 1
        def b():
            c()
        def c():
            raise ValueError("x")
        try:
            a()
        except ValueError:
            caught = True
        def d():
            try:
                a()
            finally:
                cleanup = 1
        try:
            d()
        except ValueError:
            pass
        ''',
        lines={
            1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20,
        },
        arcs={
            (-12, 13), (-6, 7), (-4, 5), (-1, 1), (-1, 2), (1, 4), (2, -1), (4, 6), (5, -4),
            (6, 8), (7, -6), (8, 9), (9, 10), (10, 11), (11, 12), (12, 17), (13, 14), (14, 16),
            (16, -12), (17, 18), (18, 19), (19, 20), (20, -1),
        },
    ),
]

# Programs for what the ones above leave out.  Literal expectations are what
# CTracer (and coverage.py) record; the sysmon backend is compared with them
# by branch_view().
NEW_CASES = [
    Case(
        'except_star',
        '''\
        def f(n):
            try:
                if n == 1:
                    raise ExceptionGroup("g", [ValueError(1), TypeError(2)])
                if n == 2:
                    raise ExceptionGroup("g", [KeyError(3)])
                r = 0
            except* ValueError:
                r = 1
            except* TypeError:
                r = 2
            return r
        for n in (0, 1):
            f(n)
        try:
            f(2)
        except* KeyError:
            pass
        ''',
        lines=per_version(
            {
                '3.11 3.12 3.13': {
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                },
            }
        ),
        arcs=per_version(
            {
                '3.11': {
                    (-1, 1), (-1, 2), (1, 13), (2, 3), (3, 4), (3, 5), (4, 8), (5, 6), (5, 7),
                    (6, 8), (7, 12), (8, 9), (8, 10), (9, 10), (10, -1), (10, 11), (11, 12),
                    (12, -1), (13, 14), (13, 15), (14, 13), (15, 16), (16, 17), (17, -1), (17, 18),
                    (18, 17),
                },
                '3.12 3.13': {
                    (-1, 1), (-1, 2), (1, 13), (2, 3), (3, 4), (3, 5), (4, 8), (5, 6), (5, 7),
                    (6, 8), (7, 12), (8, 9), (8, 10), (9, 10), (10, -1), (10, 11), (11, 12),
                    (12, -1), (13, 14), (13, 15), (14, 13), (15, 16), (16, 17), (17, 18), (18, -1),
                },
            }
        ),
        since=(3, 11),
    ),
    Case(
        'async_for_with',
        '''\
        class AIter:
            def __init__(self, n):
                self.i, self.n = 0, n
            def __aiter__(self):
                return self
            async def __anext__(self):
                if self.i >= self.n:
                    raise StopAsyncIteration
                self.i += 1
                return self.i
        class ACM:
            async def __aenter__(self):
                return self
            async def __aexit__(self, *exc):
                return exc[0] is KeyError
        async def main():
            total = 0
            async for v in AIter(3):
                if v == 2:
                    continue
                total += v
            else:
                total += 100
            async with ACM():
                raise KeyError
            async with ACM() as cm:
                total += 1
            async for v in AIter(5):
                if v > 1:
                    break
            return total
        coro = main()
        try:
            coro.send(None)
        except StopIteration as stop:
            result = stop.value
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
            26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
        },
        arcs={
            (-16, 17), (-14, 15), (-12, 13), (-11, 11), (-6, 7), (-4, 5), (-2, 3), (-1, 1), (1, 2),
            (1, 11), (2, 4), (3, -2), (4, 6), (5, -4), (6, -1), (7, 8), (7, 9), (8, -6), (9, 10),
            (10, -6), (11, 12), (11, 16), (12, 14), (13, -12), (14, -11), (15, -14), (16, 32),
            (17, 18), (18, 19), (18, 23), (19, 20), (19, 21), (20, 18), (21, 18), (23, 24),
            (24, 25), (24, 26), (25, 24), (26, 27), (26, 28), (27, 26), (28, 29), (29, 28),
            (29, 30), (30, 31), (31, -16), (32, 33), (33, 34), (34, 35), (35, 36), (36, -1),
        },
    ),
    Case(
        'yield_from',
        '''\
        def inner(n):
            for i in range(n):
                x = yield i
                if x:
                    return "early"
            return "done"
        def outer():
            r = yield from inner(3)
            yield r
            r2 = yield from inner(2)
            yield r2
        list(outer())
        g = outer()
        next(g)
        g.send(True)
        g.close()
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        },
        arcs={
            (-7, 8), (-1, 1), (-1, 2), (1, 7), (2, 3), (2, 6), (3, 4), (4, 2), (4, 5), (5, -1),
            (6, -1), (7, 12), (8, 9), (9, 10), (10, 11), (11, -7), (12, 13), (13, 14), (14, 15),
            (15, 16), (16, -1),
        },
    ),
    Case(
        'while_true_break',
        '''\
        def find(items, target):
            i = 0
            while True:
                if i >= len(items):
                    i = -1
                    break
                if items[i] == target:
                    break
                i += 1
            return i
        find([1, 2, 3], 2)
        find([], 1)
        def spin(n):
            while True:
                n -= 1
                if n < 0:
                    return n
        spin(3)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
        },
        arcs={
            (-13, 14), (-1, 1), (-1, 2), (1, 11), (2, 3), (3, 4), (4, 5), (4, 7), (5, 6), (6, 10),
            (7, 8), (7, 9), (8, 10), (9, 3), (10, -1), (11, 12), (12, 13), (13, 18), (14, 15),
            (15, 16), (16, 14), (16, 17), (17, -13), (18, -1),
        },
    ),
    Case(
        'nested_loops_try_finally',
        '''\
        def grid(rows, cols):
            out = []
            for r in range(rows):
                for c in range(cols):
                    try:
                        if c == 1:
                            continue
                        if r == 2:
                            break
                        out.append((r, c))
                    finally:
                        out.append(None)
                else:
                    out.append("row")
                if r == 3:
                    break
            return out
        grid(5, 3)
        grid(1, 0)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 17, 18, 19,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 18), (2, 3), (3, 4), (3, 17), (4, 5), (4, 14), (5, 6), (6, 7),
            (6, 8), (7, 12), (8, 9), (8, 10), (9, 12), (10, 12), (12, 4), (12, 15), (14, 15),
            (15, 3), (15, 16), (16, 17), (17, -1), (18, 19), (19, -1),
        },
    ),
    Case(
        'short_circuit',
        '''\
        def sc(a, b, c):
            if a and b or c:
                r = 1
            else:
                r = 2
            if a or (b and not c):
                r += 10
            x = a and b
            y = a or c
            return r, x, y
        for args in [(1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), (0, 0, 0)]:
            sc(*args)
        ''',
        lines={
            1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 11), (2, 3), (2, 5), (3, 6), (5, 6), (6, 7), (6, 8), (7, 8),
            (8, 9), (9, 10), (10, -1), (11, -1), (11, 12), (12, 11),
        },
    ),
    Case(
        'ternary_assert',
        '''\
        def t(x):
            y = "pos" if x > 0 else "neg" if x < 0 else "zero"
            assert x != 99, "no 99"
            z = [i if i % 2 else -i for i in range(x)] if x > 0 else []
            return y, z
        t(3); t(-1); t(0)
        try:
            t(99)
        except AssertionError:
            pass
        def never_fails(x):
            assert isinstance(x, int)
            return x
        never_fails(1)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        },
        arcs=per_version(
            {
                '3.10 3.11': {
                    (-11, 12), (-4, 4), (-1, 1), (-1, 2), (1, 6), (2, 3), (3, -1), (3, 4), (4, -4),
                    (4, 4), (4, 5), (5, -1), (6, 7), (7, 8), (8, 9), (9, 10), (10, 11), (11, 14),
                    (12, 13), (13, -11), (14, -1),
                },
                '3.12 3.13': {
                    (-11, 12), (-1, 1), (-1, 2), (1, 6), (2, 3), (3, -1), (3, 4), (4, 4), (4, 5),
                    (5, -1), (6, 7), (7, 8), (8, 9), (9, 10), (10, 11), (11, 14), (12, 13),
                    (13, -11), (14, -1),
                },
            }
        ),
    ),
    Case(
        'comprehension_conditions',
        '''\
        data = [1, 2, 3, 4, 5, 6]
        evens = [x for x in data if x % 2 == 0]
        pairs = {x: y for x in data if x > 2 for y in data if y < x if y % 2}
        big = sum(x for x in data if x > 10)
        nested = [[y for y in range(x) if y] for x in range(3)]
        none = [x for x in [] if x]
        def f(xs):
            return [x for x in xs if x]
        f([0, 1])
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9,
        },
        arcs=per_version(
            {
                '3.10 3.11': {
                    (-8, 8), (-7, 8), (-6, 6), (-5, 5), (-4, 4), (-3, 3), (-2, 2), (-1, 1), (1, 2),
                    (2, -2), (2, 2), (2, 3), (3, -3), (3, 3), (3, 4), (4, -4), (4, 4), (4, 5),
                    (5, -5), (5, 5), (5, 6), (6, -6), (6, 7), (7, 9), (8, -8), (8, -7), (8, 8),
                    (9, -1),
                },
                '3.12 3.13': {
                    (-7, 8), (-4, 4), (-1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, -4),
                    (4, 4), (4, 5), (5, 5), (5, 6), (6, 7), (7, 9), (8, -7), (8, 8), (9, -1),
                },
            }
        ),
    ),
    Case(
        'match_guards',
        '''\
        def m(v):
            match v:
                case int(n) if n > 10:
                    return "big"
                case int(n) if n < 0:
                    return "neg"
                case [a, *rest] if rest:
                    return "list"
                case {"k": val} if val is None:
                    return "none"
                case str():
                    return "str"
            return "fallthrough"
        for v in (20, -1, 5, [1, 2], [1], {"k": None}, {"k": 1}, "s"):
            m(v)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        },
        arcs={
            (-1, 1), (-1, 2), (1, 14), (2, 3), (3, 4), (3, 5), (4, -1), (5, 6), (5, 7), (6, -1),
            (7, 8), (7, 9), (8, -1), (9, 10), (9, 11), (10, -1), (11, 12), (11, 13), (12, -1),
            (13, -1), (14, -1), (14, 15), (15, 14),
        },
    ),
    Case(
        'return_in_with',
        '''\
        class CM:
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return False
        def f(x):
            with CM():
                if x:
                    return "early"
                y = 1
            return y
        f(True)
        f(False)
        def g(x):
            with CM() as a, CM() as b:
                for i in range(3):
                    if i == x:
                        return i
            return -1
        g(1)
        g(5)
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        },
        arcs={
            (-14, 15), (-6, 7), (-4, 5), (-2, 3), (-1, 1), (1, 2), (1, 6), (2, 4), (3, -2), (4, -1),
            (5, -4), (6, 12), (7, -6), (7, 8), (7, 11), (8, 9), (8, 10), (9, 7), (10, 7), (11, -6),
            (12, 13), (13, 14), (14, 20), (15, -14), (15, 16), (15, 19), (16, 15), (16, 17),
            (17, 16), (17, 18), (18, 15), (19, -14), (20, 21), (21, -1),
        },
    ),
    Case(
        'generator_closed_in_try',
        '''\
        def gen():
            try:
                yield 1
                yield 2
            except GeneratorExit:
                closing = True
                raise
            finally:
                done = True
        def gen2():
            try:
                yield 1
            finally:
                cleanup = 1
            yield 3
        g = gen()
        next(g)
        g.close()
        g = gen()
        list(g)
        h = gen2()
        next(h)
        h.close()
        def gen3():
            for i in range(3):
                try:
                    yield i
                except ValueError:
                    continue
        k = gen3()
        next(k)
        k.throw(ValueError)
        k.close()
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
            28, 29, 30, 31, 32, 33,
        },
        arcs=per_version(
            {
                '3.10 3.12 3.13': {
                    (-24, 25), (-10, 11), (-1, 1), (-1, 2), (1, 10), (2, 3), (3, 4), (3, 5), (4, 9),
                    (5, 6), (6, 7), (7, 9), (9, -1), (10, 16), (11, 12), (12, 14), (14, -10),
                    (16, 17), (17, 18), (18, 19), (19, 20), (20, 21), (21, 22), (22, 23), (23, 24),
                    (24, 30), (25, 26), (26, 27), (27, 28), (28, -24), (28, 29), (29, 25), (30, 31),
                    (31, 32), (32, 33), (33, -1),
                },
                '3.11': {
                    (-24, 25), (-24, 28), (-10, 11), (-10, 14), (-1, 1), (-1, 2), (-1, 5), (1, 10),
                    (2, 3), (3, 4), (4, 9), (5, 6), (6, 7), (7, 9), (9, -1), (10, 16), (11, 12),
                    (14, -10), (16, 17), (17, 18), (18, 19), (19, 20), (20, 21), (21, 22), (22, 23),
                    (23, 24), (24, 30), (25, 26), (26, 27), (28, -24), (28, 29), (29, 25), (30, 31),
                    (31, 32), (32, 33), (33, -1),
                },
            }
        ),
    ),
    Case(
        'raise_catch_same_function',
        '''\
        def f(x):
            try:
                if x < 0:
                    raise ValueError("neg")
                if x == 0:
                    raise KeyError("zero")
                r = 1 / (x - 1)
            except ValueError as e:
                r = str(e)
            except (KeyError, ZeroDivisionError):
                r = None
            else:
                r = r * 2
            return r
        for x in (-1, 0, 1, 2):
            f(x)
        def g(items):
            total = 0
            for it in items:
                try:
                    total += int(it)
                except ValueError:
                    continue
                finally:
                    total += 0
            return total
        g(["1", "x", "3"])
        def h():
            try:
                raise RuntimeError
            except RuntimeError:
                try:
                    raise KeyError
                except KeyError:
                    return "inner"
        h()
        ''',
        lines={
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26,
            27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
        },
        arcs={
            (-28, 29), (-17, 18), (-1, 1), (-1, 2), (1, 15), (2, 3), (3, 4), (3, 5), (4, 8), (5, 6),
            (5, 7), (6, 8), (7, 8), (7, 13), (8, 9), (8, 10), (9, 14), (10, 11), (11, 14), (13, 14),
            (14, -1), (15, 16), (15, 17), (16, 15), (17, 27), (18, 19), (19, 20), (19, 26),
            (20, 21), (21, 22), (21, 25), (22, 23), (23, 25), (25, 19), (26, -17), (27, 28),
            (28, 36), (29, 30), (30, 31), (31, 32), (32, 33), (33, 34), (34, 35), (35, -28),
            (36, -1),
        },
    ),
    Case(
        'one_liners',
        '''\
        def f(flag):
            if flag:
                g = lambda: 1
            else:
                g = None
            h = 2
            class C: pass
            def k(): return 3
            return g, h, C, k() if flag else None
        f(True)
        f(False)
        x = [lambda: i for i in range(2)]; y = x[0]()
        if y == 0: z = 1
        for q in range(2): w = q
        ''',
        lines={
            1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        },
        arcs={
            (-12, 12), (-8, 8), (-7, 7), (-1, 1), (-1, 2), (1, 10), (2, 3), (2, 5), (3, 6), (5, 6),
            (6, 7), (7, -7), (7, 8), (8, -8), (8, 9), (9, -1), (10, 11), (11, 12), (12, -12),
            (12, 12), (12, 13), (13, 14), (14, -1), (14, 14),
        },
    ),
]

CASES += NEW_CASES
CASE_IDS = [case.name for case in CASES]


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, str]:
    """The CASES written to files: {case name: real path}."""
    where = tmp_path_factory.mktemp("tracer_programs")
    paths = {}
    for case in CASES:
        if not case.supported:
            continue
        path = where / f"{case.name}.py"
        path.write_text(case.source)
        paths[case.name] = os.path.realpath(str(path))
    return paths


@pytest.fixture(scope="module")
def coverage_py(programs):
    """coverage_py(branch) -> {basename: data}, computed once per mode."""
    pytest.importorskip("coverage")
    results: dict[bool, dict[str, set]] = {}

    def get(branch: bool) -> dict[str, set]:
        if branch not in results:
            results[branch] = coverage_py_results(list(programs.values()), branch)
        return results[branch]

    return get


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_program(name, branch, case, programs):
    if not case.supported:
        pytest.skip(f"needs Python {case.since[0]}.{case.since[1]}")
    path = programs[case.name]
    want = expected(case.arcs if branch else case.lines)
    data = run_traced(name, branch, path, case.source)
    assert set(data) == {path}
    assert_recorded(name, branch, data[path], want, case.source)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_program_matches_coveragepy(name, branch, case, programs, coverage_py):
    if not case.supported:
        pytest.skip(f"needs Python {case.since[0]}.{case.since[1]}")
    path = programs[case.name]
    data = run_traced(name, branch, path, case.source)
    assert_recorded(name, branch, data[path], coverage_py(branch)[os.path.basename(path)], case.source)


# -- files measured and not -------------------------------------------------

MAIN = """\
def callback(x):
    if x > 1:
        return x * 2
    return x
def run():
    total = helper.apply(callback, [1, 2])
    return total
run()
"""

HELPER = """\
def apply(fn, items):
    out = 0
    for i in items:
        out += fn(i)
    return out
"""

MAIN_LINES = {1, 2, 3, 4, 5, 6, 7, 8}
MAIN_ARCS = {
    (-1, 1), (1, 5), (5, 8), (8, -1),
    (-1, 2), (2, 3), (2, 4), (3, -1), (4, -1),
    (-5, 6), (6, 7), (7, -5),
}  # fmt: skip


def run_main_and_helper(name, branch, tmp_path, should_trace, cache=None):
    main = str(tmp_path / "main.py")
    helper = str(tmp_path / "helper.py")
    data: dict = {}
    tracer = make_tracer(name, data, should_trace, cache, branch=branch)
    tracer.start()
    try:
        # The helper's module code runs under the tracer too.
        mod = types.ModuleType("covtest_helper")
        exec(compile(HELPER, helper, "exec"), mod.__dict__)
        exec(compile(MAIN, main, "exec"), {"__name__": "__covtest__", "helper": mod})
    finally:
        tracer.stop()
    return data, main, helper


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_measured_and_unmeasured_files(name, branch, tmp_path):
    # main (measured) calls helper (not measured), which calls back into main.
    asked: list[str] = []
    main = str(tmp_path / "main.py")

    def should_trace(filename):
        asked.append(filename)
        return "MAIN" if filename == main else None

    data, main, helper = run_main_and_helper(name, branch, tmp_path, should_trace)
    assert set(data) == {"MAIN"}
    assert_recorded(name, branch, data["MAIN"], MAIN_ARCS if branch else MAIN_LINES, MAIN)
    # Asked once per file, however often its code ran.
    assert asked.count(main) == 1
    assert asked.count(helper) == 1
    assert len(asked) == len(set(asked))


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_should_trace_cache_is_shared(name, branch, tmp_path):
    main = str(tmp_path / "main.py")
    asked: list[str] = []

    def should_trace(filename):
        asked.append(filename)
        return filename if filename == main else None

    cache: dict = {}
    data1, _, helper = run_main_and_helper(name, branch, tmp_path, should_trace, cache)
    assert cache[main] == main
    assert cache[helper] is None
    n_asked = len(asked)
    data2, _, _ = run_main_and_helper(name, branch, tmp_path, should_trace, cache)
    # The second tracer used the cache for both files.  (Other code may run
    # while it traces — a finalizer of an earlier test's generator, a garbage
    # collection callback — and be asked about, once: it is not main or helper.)
    assert main in asked[:n_asked] and helper in asked[:n_asked]
    assert main not in asked[n_asked:] and helper not in asked[n_asked:]
    assert data1 == data2
    assert set(data1) == {main}
    assert_recorded(name, branch, data1[main], MAIN_ARCS if branch else MAIN_LINES, MAIN)


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_unmeasured_files_record_nothing(name, branch, tmp_path):
    data, _, _ = run_main_and_helper(name, branch, tmp_path, lambda filename: None)
    assert data == {}


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_canonical_names(name, branch, tmp_path):
    # Two file names with one canonical name share one set.
    main = str(tmp_path / "main.py")
    helper = str(tmp_path / "helper.py")
    data, _, _ = run_main_and_helper(
        name, branch, tmp_path, lambda fn: "BOTH" if fn in (main, helper) else None
    )
    assert set(data) == {"BOTH"}
    if branch:
        assert data["BOTH"] >= MAIN_ARCS | {(-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)}
    else:
        assert data["BOTH"] == MAIN_LINES


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_should_trace_failing(name, branch, tmp_path):
    # A failing should_trace is a warning, and the file isn't measured.
    main = str(tmp_path / "main.py")
    warnings: list = []

    def should_trace(filename):
        if filename == main:
            raise RuntimeError("policy broke")
        return None

    data: dict = {}
    tracer = make_tracer(
        name, data, should_trace, branch=branch, warn=lambda m, s: warnings.append((m, s))
    )
    tracer.start()
    try:
        ns = {"__name__": "__covtest__", "helper": types.SimpleNamespace(apply=lambda fn, xs: 0)}
        exec(compile(MAIN, main, "exec"), ns)
    finally:
        tracer.stop()
    assert data == {}
    assert warnings == [
        (
            f"Disabling measurement of {main}: should_trace failed: RuntimeError: policy broke",
            "should-trace-error",
        )
    ]


DEEP = """\
def down(n):
    if n:
        return down(n - 1) + 1
    return 0
down(700)
"""


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_deep_recursion(name, branch, tmp_path):
    path = str(tmp_path / "deep.py")
    data = run_traced(name, branch, path, DEEP)
    if branch:
        want = {(-1, 1), (1, 5), (5, -1), (-1, 2), (2, 3), (2, 4), (3, -1), (4, -1)}
    else:
        want = {1, 2, 3, 4, 5}
    assert set(data) == {path}
    assert_recorded(name, branch, data[path], want, DEEP)


# -- starting in the middle of things ---------------------------------------

MID = """\
def target(start):
    a = 1
    start()
    b = 2
    c = 3
    return b + c
def caller(start):
    x = target(start)
    y = x + 1
    return y
"""


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_start_in_the_middle_of_a_function(name, branch, tmp_path):
    # start() measures the rest of the running function, and its callers
    # after it returns; their first line seen records no arc.
    path = str(tmp_path / "mid.py")
    ns: dict = {}
    exec(compile(MID, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    try:
        assert ns["caller"](tracer.start) == 6
    finally:
        tracer.stop()
    if name == "probe":
        # Probes reach code executed or called after start(): not these
        # frames (a session started inside measured code uses ctrace:
        # tests/test_probes.py::test_start_inside_measured_code_uses_ctrace).
        assert data == {}
    elif branch:
        want = {(4, 5), (5, 6), (6, -1), (9, 10), (10, -7)}
        if name == "sysmon":
            # Its own convention: "ran" self-arcs, arcs into lines that one
            # line only leads to (none into a frame's first line after
            # start(), as CTracer), exits.
            assert data == {
                path: {(4, 4), (5, 5), (4, 5), (6, 6), (5, 6), (6, -1), (9, 9), (10, 10), (9, 10), (10, -7)}
            }
        assert set(data) == {path}
        assert_recorded(name, branch, data[path], want, MID)
    else:
        assert data == {path: {4, 5, 6, 9, 10}}


GEN_BEFORE = """\
def gen():
    yield 1
    yield 2
    yield 3
"""


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_generator_started_before_start(name, branch, tmp_path):
    path = str(tmp_path / "genbefore.py")
    ns: dict = {}
    exec(compile(GEN_BEFORE, path, "exec"), ns)
    g = ns["gen"]()
    assert next(g) == 1
    data: dict = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    tracer.start()
    try:
        assert list(g) == [2, 3]
    finally:
        tracer.stop()
    if name == "probe":
        assert data == {}  # a generator made before start() runs its original code
    elif branch:
        assert set(data) == {path}
        assert_recorded(name, branch, data[path], {(2, 3), (3, 4), (4, -1)}, GEN_BEFORE)
    else:
        assert data == {path: {3, 4}}


# -- sessions ---------------------------------------------------------------

LOOPY = """\
def f(n):
    t = 0
    for i in range(n):
        t += i
    return t
f(3)
"""


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_many_start_stop_cycles(name, branch, tmp_path):
    path = str(tmp_path / "loopy.py")
    code = compile(LOOPY, path, "exec")
    want_lines = {1, 2, 3, 4, 5, 6}
    want_arcs = {(-1, 1), (1, 6), (6, -1), (-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)}
    want = want_arcs if branch else want_lines
    for _ in range(25):  # new tracers, one after another
        data: dict = {}
        tracer = make_tracer(name, data, only(path), branch=branch)
        tracer.start()
        exec(code, {})
        tracer.stop()
        assert set(data) == {path}
        assert_recorded(name, branch, data[path], want, LOOPY)
    data = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    for _ in range(25):  # one tracer, started again and again
        tracer.start()
        exec(code, {})
        tracer.stop()
        assert set(data) == {path}
        assert_recorded(name, branch, data[path], want, LOOPY)
    assert sys.gettrace() is None


def test_backends_one_after_another(tmp_path):
    path = str(tmp_path / "loopy.py")
    code = compile(LOOPY, path, "exec")
    for _ in range(5):
        for name, branch in MODES:
            data: dict = {}
            tracer = make_tracer(name, data, only(path), branch=branch)
            tracer.start()
            exec(code, {})
            tracer.stop()
            if name == "probe" and branch:
                # (3, 3): the loop's test, reached from line 2 and from line 4, says it ran.
                assert data[path] == {(-1, 1), (1, 6), (6, -1), (-1, 2), (2, 3), (3, 3), (3, 4), (4, 3),
                                      (3, 5), (5, -1)}
            elif name == "sysmon" and branch:
                # A self-arc for each of the 6 lines that ran; arcs into
                # lines that only one line leads to (entries included);
                # (4, 3), the loop's jump; (3, 5), the loop's exit, recorded
                # by LINE as (3, 4) is; returns.
                assert data[path] == {
                    (1, 1), (-1, 1), (6, 6), (1, 6), (6, -1), (2, 2), (-1, 2), (3, 3), (2, 3),
                    (3, 4), (4, 4), (4, 3), (3, 5), (5, 5), (5, -1),
                }  # fmt: skip
            else:
                assert len(data[path]) == (9 if branch else 6), (name, branch)


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_restart_records_again(name, branch, tmp_path):
    path = str(tmp_path / "loopy.py")
    code = compile(LOOPY, path, "exec")
    ns: dict = {}
    data: dict = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    tracer.start()
    try:
        exec(code, ns)
        first = data.pop(path)  # the collector took the data away ...
        tracer.restart()  # ... and says so
        ns["f"](2)
        ns["f"](2)
    finally:
        tracer.stop()
    if branch:
        assert_recorded(
            name, branch, first, {(-1, 1), (1, 6), (6, -1), (-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)}, LOOPY
        )
        assert set(data) == {path}
        assert_recorded(name, branch, data[path], {(-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)}, LOOPY)
    else:
        assert first == {1, 2, 3, 4, 5, 6}
        assert data == {path: {2, 3, 4, 5}}


ACTIVE = """\
def f():
    return 1
def g():
    return 2
"""


@pytest.mark.parametrize("name, branch", MODES, ids=MODE_IDS)
def test_activity(name, branch, tmp_path):
    path = str(tmp_path / "active.py")
    ns: dict = {}
    tracer = make_tracer(name, {}, only(path), branch=branch)
    assert not tracer.activity()
    tracer.start()
    try:
        exec(compile(ACTIVE, path, "exec"), ns)  # after start(): the probe backend instruments it
        tracer.reset_activity()
        ns["f"]()
        assert tracer.activity()
        tracer.reset_activity()
        assert not tracer.activity()
        ns["g"]()  # something new is recorded
        assert tracer.activity()
    finally:
        tracer.stop()


@pytest.mark.parametrize("name", BACKENDS)
def test_names(name):
    tracer = make_tracer(name, {}, lambda fn: None)
    assert tracer.name == name
    assert tracer.process_wide is (name in ("sysmon", "probe"))


# -- another tool replacing ours --------------------------------------------


@pytest.mark.parametrize("name, branch", [m for m in MODES if m[0] not in ("sysmon", "probe")])
def test_trace_changed_warning(name, branch):
    warnings: list = []
    tracer = make_tracer(
        name, {}, lambda fn: None, branch=branch, warn=lambda msg, slug: warnings.append((msg, slug))
    )

    def other(frame, event, arg):
        return None

    tracer.start()
    sys.settrace(other)
    tracer.stop()
    assert sys.gettrace() is other  # not ours to remove
    sys.settrace(None)
    assert len(warnings) == 1
    msg, slug = warnings[0]
    assert slug == "trace-changed"
    assert msg.startswith("Trace function changed, data is likely wrong: ")

    warnings.clear()
    tracer.start()
    sys.settrace(None)
    tracer.stop()
    assert [slug for _, slug in warnings] == ["trace-changed"]

    warnings.clear()
    tracer.start()
    tracer.stop()
    assert warnings == []
    assert sys.gettrace() is None


@pytest.mark.parametrize("name, branch", [m for m in MODES if m[0] not in ("sysmon", "probe")])
def test_stop_from_another_thread(name, branch, tmp_path):
    # The collector stops every thread's tracer from its own thread: the
    # tracer stops recording at once and leaves its thread at its next event.
    path = str(tmp_path / "active.py")
    ns: dict = {}
    exec(compile(ACTIVE, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    started, stopped = threading.Event(), threading.Event()
    seen: dict = {}

    def worker():
        tracer.start()
        ns["f"]()
        started.set()
        stopped.wait()
        ns["g"]()
        seen["trace"] = sys.gettrace()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    tracer.stop()
    stopped.set()
    thread.join()
    assert data == {path: {(-1, 2), (2, -1)} if branch else {2}}
    assert seen["trace"] is None


@needs_ext
@pytest.mark.parametrize("branch", [False, True])
def test_ctracer_survives_settrace_gettrace(branch, tmp_path):
    # sys.settrace(sys.gettrace()) (done by debuggers, pytest, ...) keeps the
    # CTracer working, through its __call__.
    path = str(tmp_path / "loopy.py")
    ns: dict = {"sys": sys}
    exec(compile(LOOPY, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer("ctrace", data, only(path), branch=branch)
    tracer.start()
    try:
        sys.settrace(sys.gettrace())
        ns["f"](3)
    finally:
        tracer.stop()
    want = {(-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)} if branch else {2, 3, 4, 5}
    assert data == {path: want}
    assert sys.gettrace() is None


DONE = """\
import sys
def f(n):
    t = sys._getframe().f_trace_lines
    return t
"""


@needs_ext
def test_ctracer_skips_lines_of_complete_code(tmp_path):
    # Once every line of a code object is recorded, its new frames get no
    # line events; neither do frames of unmeasured files.  stop() gives
    # frames their line events back.
    path = str(tmp_path / "done.py")
    other = str(tmp_path / "other.py")
    ns: dict = {}
    exec(compile(DONE, path, "exec"), ns)
    ns_other: dict = {}
    exec(compile(DONE, other, "exec"), ns_other)
    data: dict = {}
    tracer = make_tracer("ctrace", data, only(path))
    tracer.start()
    try:
        first = ns["f"](1)
        second = ns["f"](2)
        unmeasured = ns_other["f"](3)
    finally:
        tracer.stop()
    assert (first, second, unmeasured) == (True, False, False)
    assert data == {path: {3, 4}}
    assert sys._getframe().f_trace_lines


# -- sysmon specifics -------------------------------------------------------


@needs_ext
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="sys.monitoring exists here")
def test_sysmon_needs_312():
    from covcore import _tracer

    with pytest.raises(CovcoreError, match="needs sys.monitoring"):
        _tracer.SysMonTracer({}, lambda fn: None, {})


SNIPPETS = os.path.join(os.path.dirname(__file__), "snippets")


def _snippet_programs() -> list[str]:
    return sorted(
        os.path.join(SNIPPETS, name)
        for name in os.listdir(SNIPPETS)
        if name.endswith(".py") and name != "runner.py"
    )


@needs_sysmon
@pytest.mark.parametrize("path", _snippet_programs(), ids=os.path.basename)
def test_sysmon_branches_equal_ctrace_snippets(path):
    # Every snippet, as a program: sysmon's branch results are CTracer's.
    with open(path) as f:
        source = f.read()
    path = os.path.realpath(path)
    got = run_traced("sysmon", True, path, source).get(path, set())
    want = run_traced("ctrace", True, path, source).get(path, set())
    assert want
    assert branch_view(got, source) == branch_view(want, source)


@needs_sysmon
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sysmon_branches_equal_ctrace(case, programs):
    if not case.supported:
        pytest.skip(f"needs Python {case.since[0]}.{case.since[1]}")
    path = programs[case.name]
    got = run_traced("sysmon", True, path, case.source)[path]
    want = run_traced("ctrace", True, path, case.source)[path]
    assert branch_view(got, case.source) == branch_view(want, case.source)


HOT = """\
def search(items, target):
    for i, item in enumerate(items):
        if item == target:
            break
    else:
        return -1
    return i
def count(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += 1
        elif i < 0:
            total -= 1
        total += search((1, 2, 3), i % 5)
    return total
count(3000)
"""


@needs_sysmon
def test_sysmon_branch_events_turn_off(tmp_path):
    # Every event turns itself off once it can teach nothing new: running
    # hot loops costs a handful of callbacks, not one per iteration.
    path = str(tmp_path / "hot.py")
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path), branch=True)
    tracer.start()
    try:
        exec(compile(HOT, path, "exec"), {})
    finally:
        tracer.stop()
    counts = tracer.event_counts()
    assert sum(counts.values()) < 100, counts
    assert branch_view(data[path], HOT) == branch_view(run_traced("ctrace", True, path, HOT)[path], HOT)


def long_module(blocks: int) -> str:
    """A module whose body, and one generator's body, run far past line
    128 of their code objects: decorators, multi-line statements, loops,
    try/except/finally, with, match, lambdas, comprehensions, and an
    exception caught at module level."""
    out = ["import contextlib", "x = 0", "def gen(n):"]
    for i in range(70):
        out += [
            f"    if n > {i}:",
            f"        yield {i}",
            "    else:",
            "        n += 1",
        ]
    out += ["    return n"]
    for i in range(blocks):
        out += [
            "@contextlib.contextmanager",
            f"def cm{i}():",
            "    yield 1",
            f"def f{i}(a):",
            f"    if a > {i}:",
            "        return a",
            "    for j in range(2):",
            "        try:",
            "            a += j",
            "        except ValueError:",
            "            pass",
            "        finally:",
            "            a -= 0",
            "    return [k for k in range(a) if k % 2]",
            f"x += len(f{i}(x % 3)) + (",
            "    1 if x > 5",
            "    else 2)",
            "try:",
            f"    raise KeyError({i}) if x % 2 else ValueError({i})",
            "except KeyError:",
            "    x += 1",
            "except ValueError:",
            "    x -= 1",
            f"with cm{i}() as y:",
            "    y = (lambda q: q + 1)(x)",
            "match x % 3:",
            "    case 0:",
            "        x += 2",
            "    case _:",
            "        x += 3",
        ]
    out += ["total = sum(gen(x))"]
    return "\n".join(out) + "\n"


@needs_sysmon
def test_sysmon_long_code_objects_use_instruction_events(tmp_path):
    # A LINE event more than 127 lines past co_firstlineno makes CPython
    # search the line table from its start; such code objects are measured
    # with INSTRUCTION events instead, and must record the same lines.
    source = long_module(12)
    path = str(tmp_path / "long.py")
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path))
    tracer.start()
    try:
        exec(compile(source, path, "exec"), {"__name__": "__covtest__"})
    finally:
        tracer.stop()
    counts = tracer.event_counts()
    assert counts["instruction"] > 0, counts
    want = run_traced("python", False, path, source)[path]
    assert data[path] == want
    assert len(want) == 412
    # The short functions still use LINE events.
    assert counts["line"] > 0, counts


@needs_sysmon
@pytest.mark.parametrize("policy", [1, 2], ids=["instruction", "line"])
def test_sysmon_long_code_objects_same_lines_either_way(tmp_path, policy):
    # Whichever events measure a long code object, the lines are the same.
    from covcore import _tracer
    source = long_module(12)
    path = str(tmp_path / "long.py")
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path))
    _tracer._set_long_lines_policy_for_tests(policy)
    try:
        tracer.start()
        try:
            exec(compile(source, path, "exec"), {"__name__": "__covtest__"})
        finally:
            tracer.stop()
    finally:
        _tracer._set_long_lines_policy_for_tests(0)
    counts = tracer.event_counts()
    assert (counts["instruction"] > 0) == (policy == 1 and sys.version_info[:2] in ((3, 12), (3, 13)))
    assert data[path] == run_traced("python", False, path, source)[path]


@pytest.fixture
def no_straight():
    """Sysmon tracers made meanwhile measure straight-line code with LINE or
    INSTRUCTION events, as other code (_tracer_sysmon_straight.pxi)."""
    from covcore._tracer import _set_straight_policy_for_tests

    _set_straight_policy_for_tests(1)
    yield
    _set_straight_policy_for_tests(0)


@needs_sysmon
@pytest.mark.parametrize("kind, statement, instruction_events", [
    ("assign", "v{i} = {i}", True),     # one instruction a line: walks cost more
    ("call", "abs(-{i})", False),       # several a line: extra events cost more
])
def test_sysmon_long_code_objects_priced(tmp_path, kind, statement, instruction_events, no_straight):
    # _long_lines prices the line table walks of far LINE events against the
    # extra INSTRUCTION events (benchmarks/line_events.py counted both).
    # (Straight-line code, as all of it is here, takes one PY_RETURN instead:
    # no_straight prices what other code gets.)
    n = 400 if instruction_events else 150
    source = "\n".join(statement.format(i=i) for i in range(n)) + "\n"
    path = str(tmp_path / f"{kind}.py")
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path))
    tracer.start()
    try:
        exec(compile(source, path, "exec"), {})
    finally:
        tracer.stop()
    counts = tracer.event_counts()
    far_walks = sys.version_info[:2] in ((3, 12), (3, 13))
    assert (counts["instruction"] > 0) == (instruction_events and far_walks), counts
    assert data[path] == set(range(1, n + 1))


@needs_sysmon
def test_sysmon_long_code_objects_restart(tmp_path):
    # restart() forgets what was recorded: the next run records every line again.
    source = long_module(4)
    path = str(tmp_path / "long.py")
    code = compile(source, path, "exec")
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path))
    tracer.start()
    try:
        exec(code, {"__name__": "__covtest__"})
        first = set(data[path])
        data[path].clear()
        tracer.restart()
        exec(code, {"__name__": "__covtest__"})
    finally:
        tracer.stop()
    assert data[path] == first == run_traced("python", False, path, source)[path]


SUPERS = """\
def f(n):
    x = 1.5
    y = 0.0
    for _ in range(n):
        y = y + x * x
        z = y
        w = z
    return w
def g(n):
    a = n
    b = a
    if n < 0:
        b = -a
    return a + b
"""


def superinstructions(func) -> int:
    import dis

    return sum("__" in ins.opname for ins in dis.get_instructions(func, adaptive=True))


@pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="3.12's superinstructions")
def test_sysmon_312_superinstructions_come_back(tmp_path):
    # 3.12 takes LOAD_FAST__LOAD_FAST and its kind out of a code object it
    # instruments; once a code object's every line was recorded and its
    # events are off, covcore writes them back (a float loop runs 5% fewer
    # instructions).  A code object still waiting for a line keeps its events
    # and is left alone; a new epoch takes them out again and every line is
    # recorded again.
    path = str(tmp_path / "supers.py")
    ns: dict = {}
    exec(compile(SUPERS, path, "exec"), ns)
    f, g = ns["f"], ns["g"]
    f(3)
    g(3)
    plain_f, plain_g = superinstructions(f), superinstructions(g)
    assert plain_f >= 3 and plain_g >= 2
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path))
    tracer.start()
    try:
        assert f(3) == 6.75
        assert g(3) == 6
        assert superinstructions(f) == plain_f
        assert superinstructions(g) == 0   # line 13 never ran
        lines = set(data[path])
        assert lines == {2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 14}
        data[path].clear()
        tracer.restart()
        assert f(3) == 6.75
        assert set(data[path]) == {2, 3, 4, 5, 6, 7, 8}
    finally:
        tracer.stop()
    assert superinstructions(f) == plain_f
    assert f(3) == 6.75


@pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="3.12's superinstructions")
def test_sysmon_312_superinstructions_of_unmeasured_code(tmp_path):
    # Code that is not measured gets one PY_START, which 3.12 instruments
    # (taking the superinstructions out) and covcore DISABLEs at once: they
    # are written back then.  A generator's resumptions keep working.
    path = str(tmp_path / "supers.py")
    ns: dict = {}
    exec(compile(SUPERS + "def gen(n):\n    a = n\n    b = a\n    yield a + b\n    c = b\n    yield c\n", path, "exec"), ns)
    f, gen = ns["f"], ns["gen"]
    f(3)
    plain_f = superinstructions(f)
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(str(tmp_path / "other.py")))
    tracer.start()
    try:
        assert f(3) == 6.75
        assert superinstructions(f) == plain_f
        assert list(gen(2)) == [4, 2]
        assert list(gen(5)) == [10, 5]
    finally:
        tracer.stop()
    assert data == {}
    assert f(3) == 6.75


@pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="3.12's superinstructions")
def test_sysmon_312_run_once_bodies_not_requickened(tmp_path):
    # Module and class bodies (not CO_OPTIMIZED) run once: covcore doesn't
    # scan them to write superinstructions back after their only PY_START,
    # while an unmeasured function run in the same module gets them back.
    # (With the marking of unmeasured nested code objects on, the class body
    # is never instrumented at all: tests/test_sysmon_savings.py.)
    from covcore._tracer import _requicken_for_tests, _set_skip_unmeasured_for_tests

    # Inlined comprehensions give the bodies fast locals (STORE_FAST__LOAD_FAST).
    comp = "[x + 1 for x in range(3) if x]\n"
    src = "a = " + comp + "class C:\n    y = " + comp + SUPERS + "f(2)\n"
    module_code = compile(src, str(tmp_path / "bodies.py"), "exec")
    class_code = next(c for c in module_code.co_consts if getattr(c, "co_name", "") == "C")
    ns: dict = {}
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(str(tmp_path / "other.py")))
    skip = _set_skip_unmeasured_for_tests(False)
    tracer.start()
    try:
        exec(module_code, ns)
        assert ns["f"](3) == 6.75
    finally:
        tracer.stop()
        _set_skip_unmeasured_for_tests(skip)
    assert data == {}

    assert superinstructions(ns["f"]) >= 3
    assert superinstructions(module_code) == 0 and superinstructions(class_code) == 0
    # ...though they could have had some: the skip is what left them out.
    assert _requicken_for_tests(module_code) > 0
    assert _requicken_for_tests(class_code) > 0


@pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="3.12's superinstructions")
def test_312_superinstructions_left_alone_while_another_tool_has_events():
    # Writing them back while some instruction is instrumented (here another
    # tool's LINE events) would hide that tool's events: nothing is written.
    from covcore._tracer import _requicken_for_tests

    ns: dict = {}
    exec(compile(SUPERS, "/x/supers.py", "exec"), ns)
    f = ns["f"]
    f(3)
    mon = sys.monitoring
    tool = next(i for i in range(6) if mon.get_tool(i) is None)
    mon.use_tool_id(tool, "other")
    seen = []
    try:
        mon.register_callback(tool, mon.events.LINE, lambda code, line: seen.append(line))
        mon.set_local_events(tool, f.__code__, mon.events.LINE)
        assert superinstructions(f) == 0
        assert _requicken_for_tests(f.__code__) == 0
        f(2)
        assert set(seen) == {2, 3, 4, 5, 6, 7, 8}
        mon.set_local_events(tool, f.__code__, 0)
        assert _requicken_for_tests(f.__code__) == superinstructions(f) > 0
    finally:
        mon.set_local_events(tool, f.__code__, 0)
        mon.register_callback(tool, mon.events.LINE, None)
        mon.free_tool_id(tool)
    assert f(3) == 6.75


IFFY = """\
def f(x):
    if x is None:
        x = 0
    y = x + 1
    z = y * 2
    return z
"""


@needs_sysmon
def test_sysmon_restart_forgets_branch_directions(tmp_path):
    # Line 4 is reached from line 3 too: only the BRANCH event of line 2 can
    # tell (2, 4).  After restart() the event must fire again, and the
    # direction count as not seen.
    path = str(tmp_path / "iffy.py")
    ns: dict = {}
    exec(compile(IFFY, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path), branch=True)
    tracer.start()
    try:
        for _ in range(10):
            ns["f"](None)
        assert (2, 4) not in data[path]
        ns["f"](1)
        assert (2, 4) in data[path]
        data.pop(path)
        tracer.restart()
        ns["f"](1)
        ns["f"](2)
    finally:
        tracer.stop()
    want = {(-1, 2), (2, 4), (4, 5), (5, 6), (6, -1)}
    assert branch_view(data[path], IFFY) == branch_view(want, IFFY)
    assert (2, 4) in data[path]


BREAKY = """\
def first_true(xs):
    for x in xs:
        if x:
            break
    y = x + 1
    z = y * 2
    return z
"""


@needs_sysmon
def test_sysmon_loop_exit_with_breaks(tmp_path):
    # The loop's exit (2 to 5) and the break (4 to 5) reach line 5: no
    # BRANCH event per iteration, but a JUMP and a LINE per call while the
    # exit hasn't been seen; then none.  Also after restart().
    path = str(tmp_path / "breaky.py")
    ns: dict = {}
    exec(compile(BREAKY, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path), branch=True)
    tracer.start()
    try:
        for _ in range(20):
            ns["first_true"]([0] * 100 + [1])
        assert (2, 5) not in data[path]
        assert tracer.event_counts()["branch"] < 10
        ns["first_true"]([0, 0])
        assert (2, 5) in data[path]
        ns["first_true"]([1])  # the break's JUMP turns itself off
        counts = tracer.event_counts()
        for _ in range(20):
            ns["first_true"]([0] * 100 + [1])
        assert tracer.event_counts() == counts
        data.pop(path)
        tracer.restart()
        ns["first_true"]([1])
        ns["first_true"]([0])
    finally:
        tracer.stop()
    want = {(-1, 2), (2, 3), (3, 2), (2, 5), (3, 4), (4, 5), (5, 6), (6, 7), (7, -1)}
    assert branch_view(data[path], BREAKY) == branch_view(want, BREAKY)
    assert {(2, 5), (3, 2), (3, 4), (4, 5)} <= data[path]


THREADED = """\
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total
"""


@needs_sysmon
@pytest.mark.parametrize("branch", [False, True])
def test_sysmon_measures_all_threads(branch, tmp_path):
    path = str(tmp_path / "threaded.py")
    ns: dict = {}
    exec(compile(THREADED, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path), branch=branch)
    tracer.start()
    try:
        thread = threading.Thread(target=ns["work"], args=(3,))
        thread.start()
        thread.join()
    finally:
        tracer.stop()
    assert set(data) == {path}
    want = {(-1, 2), (2, 3), (3, 4), (4, 3), (3, 5), (5, -1)} if branch else {2, 3, 4, 5}
    assert_recorded("sysmon", branch, data[path], want, THREADED)


THREAD_BRANCHES = """\
def work(flag, n, started, go):
    started.set()
    go.wait()
    total = 0
    for i in range(n):
        if flag:
            total += i
        else:
            total -= i
    return total
"""


@needs_sysmon
def test_sysmon_branches_in_threads(tmp_path):
    # Threads take the two sides of a branch at the same time; one of them
    # was already running when start() was called: its first line after
    # start() records no arc into it (as a settrace tracer would).
    import time

    path = str(tmp_path / "threads.py")
    ns: dict = {}
    exec(compile(THREAD_BRANCHES, path, "exec"), ns)
    data: dict = {}
    tracer = make_tracer("sysmon", data, only(path), branch=True)
    early_started, early_go = threading.Event(), threading.Event()
    early = threading.Thread(target=ns["work"], args=(True, 200, early_started, early_go))
    early.start()
    early_started.wait()
    time.sleep(0.01)  # let it reach go.wait()
    tracer.start()
    try:
        late_started, late_go = threading.Event(), threading.Event()
        late = threading.Thread(target=ns["work"], args=(False, 200, late_started, late_go))
        late.start()
        late_started.wait()
        early_go.set()
        late_go.set()
        early.join()
        late.join()
    finally:
        tracer.stop()
    want = {
        (-1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (6, 9), (7, 5), (9, 5), (5, 10), (10, -1),
    }  # fmt: skip
    assert branch_view(data[path], THREAD_BRANCHES) == branch_view(want, THREAD_BRANCHES)


# -- choosing a backend -----------------------------------------------------


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("COVCORE_CORE", raising=False)


def test_available_backends():
    names = available_backends()
    assert names[-1] == "python"
    assert ("sysmon" in names) == (sys.version_info >= (3, 12) and backend.EXTENSION_ERROR is None)
    assert ("ctrace" in names) == (backend.EXTENSION_ERROR is None)


@needs_ext
def test_choose_default(no_env):
    chosen = choose_backend()
    assert isinstance(chosen, Backend)
    assert chosen.name == ("sysmon" if sys.version_info >= (3, 12) else "probe")
    assert chosen.tracer_class is tracer_class(chosen.name)
    assert chosen.reason


@needs_ext
def test_choose_branch(no_env):
    chosen = choose_backend(branch=True)
    assert chosen.name == ("sysmon" if sys.version_info >= (3, 12) else "probe")
    assert chosen.name == choose_backend(branch=False).name


def test_choose_timid(no_env):
    chosen = choose_backend(timid=True)
    assert chosen == Backend("python", PyTracer, chosen.reason)
    assert "timid" in chosen.reason


def test_choose_without_extension(no_env, monkeypatch):
    monkeypatch.setattr(backend, "_ext", None)
    monkeypatch.setattr(backend, "EXTENSION_ERROR", "ImportError: no _tracer here")
    chosen = choose_backend()
    assert chosen.name == "python"
    assert "no _tracer here" in chosen.reason
    assert available_backends() == ["python"]
    monkeypatch.setenv("COVCORE_CORE", "ctrace")
    with pytest.raises(ConfigError, match="COVCORE_CORE=ctrace.*no _tracer here"):
        choose_backend()


@pytest.mark.parametrize("name", BACKENDS)
def test_env_forces_backend(monkeypatch, name):
    monkeypatch.setenv("COVCORE_CORE", name)
    chosen = choose_backend(timid=True)
    assert chosen.name == name
    assert chosen.tracer_class is tracer_class(name)
    assert "COVCORE_CORE" in chosen.reason


def test_env_invalid(monkeypatch):
    monkeypatch.setenv("COVCORE_CORE", "turbo")
    with pytest.raises(ConfigError, match="COVCORE_CORE='turbo' is not a covcore backend") as exc:
        choose_backend()
    assert "\n" not in str(exc.value)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="sysmon exists here")
def test_env_sysmon_too_old(monkeypatch):
    monkeypatch.setenv("COVCORE_CORE", "sysmon")
    with pytest.raises(ConfigError, match="COVCORE_CORE=sysmon needs Python 3.12"):
        choose_backend()


@needs_sysmon
def test_env_sysmon_branch(monkeypatch):
    monkeypatch.setenv("COVCORE_CORE", "sysmon")
    chosen = choose_backend(branch=True)
    assert chosen.name == "sysmon"
    assert chosen.tracer_class is tracer_class("sysmon")


@pytest.mark.parametrize("branch", [False, True], ids=["line", "branch"])
@pytest.mark.parametrize("name", [n for n in BACKENDS if n != "python"])
def test_code_states_not_tracked_by_the_gc(tmp_path, name, branch):
    # The compiled tracers' per-code-object states can't be in a reference
    # cycle, so the garbage collector doesn't scan them; nothing is lost by
    # a collection while measuring, and measuring leaves the collector on.
    import gc

    path = str(tmp_path / "m.py")
    src = "def f(x):\n    if x:\n        return [y for y in range(x)]\n    return []\nf(2)\nf(0)\n"
    data: dict = {}
    tracer = make_tracer(name, data, only(path), branch=branch)
    assert gc.isenabled()
    tracer.start()
    try:
        exec(compile(src, path, "exec"), {})
        gc.collect()
        states = [o for o in gc.get_objects() if type(o).__name__ == "CodeState"]
    finally:
        tracer.stop()
    assert gc.isenabled()
    assert states == []
    if branch:
        assert branch_view(data[path], src) == branch_view(run_traced("python", True, path, src)[path], src)
    else:
        assert set(data[path]) == {1, 2, 3, 4, 5, 6}
