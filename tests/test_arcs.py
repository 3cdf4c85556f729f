"""Branch analysis (covcore.astarcs): possible arcs, exit counts, no-branch lines
and missing-arc descriptions, checked three ways:

1. literal expectations for snippets covering every construct (the possible
   arcs of CASES are identical on Python 3.10-3.13; ``exceptstar`` needs 3.11+);
2. against coverage.py's own ``PythonParser`` on the running Python, for the
   snippets and a corpus of standard-library packages (on 3.10 the reference
   is coverage.py 7.16.2, whose ``with`` jump fixing differs from 7.17's: those
   comparisons are skipped there, see ``_reference_is_717``);
3. end to end: ``covcore run --branch`` + ``covcore report -m`` give the same
   text as coverage.py (marked ``backend``: rerun under each tracer backend).
"""

from __future__ import annotations

import ast
import random
import shutil
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

from cmdhelpers import coveragepy, covcore, write

from covcore.astarcs import ArcAnalyzer, is_constant_test
from covcore.parser import DEFAULT_EXCLUDE, DEFAULT_PARTIAL, DEFAULT_PARTIAL_ALWAYS, PythonParser, join_regex

SNIPPETS = Path(__file__).parent / "snippets"
SNIPPET_NAMES = sorted(p.stem for p in SNIPPETS.glob("*.py") if p.stem != "runner")
EXCLUDE = join_regex(DEFAULT_EXCLUDE)

# Programs for every construct; each runs some of its code when imported.
CASES: dict[str, str] = {
"ifelse": '''\
def f(a, b):
    if a:
        x = 1
    elif b:
        x = 2
    else:
        x = 3
    if a and b:
        x += 1
    return x

f(1, 0)
f(0, 1)
''',
"loops": '''\
def f(items):
    for i in items:
        if i < 0:
            break
        if i == 0:
            continue
        print(i)
    else:
        print("done")
    n = 0
    while n < len(items):
        n += 1
        if n > 10:
            break
    else:
        n = -1
    return n

f([1, 0])
''',
"constants": '''\
import sys
while True:
    if sys:
        break
while 1:
    break
if 0:
    x = 1
if __debug__:
    y = 2
if not True:
    z = 3
if True or sys:
    w = 4
while False:  # pragma: no branch
    pass
''',
"tryfinally": '''\
def f(x):
    for i in range(3):
        try:
            if x == i:
                continue
            if x > 5:
                break
            if x < 0:
                return -1
            v = 1 / x
        except ZeroDivisionError:
            v = 0
        except (TypeError, ValueError) as e:
            raise RuntimeError() from e
        else:
            v += 1
        finally:
            w = 2
    return v

f(1)
f(0)
f(2)
''',
"raises": '''\
def g(x):
    try:
        if x:
            raise ValueError
    finally:
        print("f")
    return 1

def h():
    try:
        g(1)
    except ValueError:
        return 2

h()
''',
"withs": '''\
import contextlib

def f(flag):
    with contextlib.nullcontext() as a:
        if flag:
            return 1
        b = 2
    with contextlib.nullcontext(), \\
            contextlib.nullcontext():
        with contextlib.nullcontext():
            c = 3
    with contextlib.nullcontext(): d = 4
    return b + c + d

f(0)
''',
"asyncs": '''\
import asyncio

async def agen():
    yield 1
    yield 2

async def main(flag):
    async for v in agen():
        if v > flag:
            break
    async with asyncio.Lock() as lock:
        if flag:
            await asyncio.sleep(0)
    return [x async for x in agen() if x]

asyncio.run(main(1))
''',
"generators": '''\
def gen(n):
    while n:
        n -= 1
        x = yield n
        if x:
            return
    yield from range(2)

list(gen(2))
g = (i for i in range(3) if i)
list(g)
''',
"classes_decorators": '''\
import functools

def deco(f):
    return f

@deco
@functools.lru_cache(
    maxsize=None,
)
def cached(n):
    return n

class A(
    object,
):
    if cached(1):
        x = 1
    else:
        x = 2
    def method(self):
        def inner():
            return 3
        return inner()

@deco
class B:
    pass

A().method()
''',
"matches": '''\
def m(v):
    match v:
        case 1 | 2:
            r = "small"
        case [x, *_] if x:
            r = "list"
        case {"k": k}:
            r = k
        case str() as s:
            r = s

def n(v):
    match v:
        case 0:
            return 0
        case other:
            return other

m(1)
m([1])
n(5)
''',
"exceptstar": '''\
def f(n):
    try:
        if n:
            raise ExceptionGroup("g", [ValueError(), TypeError()])
    except* ValueError:
        x = 1
    except* TypeError:
        x = 2
    return n

f(0)
try:
    f(1)
except Exception:
    pass
''',
"lambdas_comprehensions": '''\
f = lambda x: x if x else -x
ys = [y for y in range(5) if y % 2]
d = {k: v for k, v in zip("ab", ys)}
g = (z for z in ys)
def h(a):
    return [b for b in a if b] or None
h([])
''',
"dead_code": '''\
def f(x):
    return x
    print("dead")

def g(x):
    while x:
        x -= 1
        continue
        print("dead too")
    raise ValueError
    y = 2

f(1)
''',
"nested_try": '''\
def f(a):
    try:
        try:
            if a:
                raise KeyError
            return 1
        except KeyError:
            if a > 1:
                raise
            return 2
        finally:
            a += 1
    except KeyError:
        return 3

f(0)
f(1)
''',
"partials": '''\
def f(x):
    if x:  # pragma: no branch
        x += 1
    while x > 100:  # MY PARTIAL
        x -= 1
    if x == 42:  # pragma: no cover
        x = 0
    for i in range(x):  # pragma: no branch
        pass
    return x

f(1)
''',
}

if sys.version_info < (3, 11):
    del CASES["exceptstar"]  # except* is 3.11+

# The possible arcs of each case: the same on Python 3.10, 3.11, 3.12 and 3.13
# (3.12.6+ jumps from a with-body back through the context expression's line,
# not the with line, but after the with-jump fixing the arcs are the same).
EXPECTED_ARCS: dict[str, set[tuple[int, int]]] = {
    "ifelse": {
        (1, 12), (2, 3), (2, 4), (3, 8), (4, 5), (4, 7), (5, 8), (7, 8), (8, 9), (8, 10), (9, 10), (10, -1),
        (12, 13), (13, -1),
    },
    "loops": {
        (1, 19), (2, 3), (2, 9), (3, 4), (3, 5), (4, 10), (5, 6), (5, 7), (6, 2), (7, 2), (9, 10), (10, 11),
        (11, 12), (11, 16), (12, 13), (13, 11), (13, 14), (14, 17), (16, 17), (17, -1), (19, -1),
    },
    "constants": {
        (1, 2), (2, 3), (3, 2), (3, 4), (4, 5), (5, 6), (6, 7), (7, 9), (9, 10), (10, 11), (11, 13),
        (13, 14), (13, 15), (14, 15),
    },
    "tryfinally": {
        (1, 21), (2, 3), (2, 19), (3, 4), (4, 5), (4, 6), (5, 2), (6, 7), (6, 8), (7, 19), (8, 9), (8, 10),
        (9, -1), (10, 16), (11, 12), (12, 18), (13, 14), (16, 18), (18, 2), (19, -1), (21, 22), (22, 23),
        (23, -1),
    },
    "raises": {
        (1, 9), (2, 3), (3, 4), (3, 6), (6, 7), (7, -1), (9, 15), (10, 11), (11, -9), (12, 13), (13, -9),
        (15, -1),
    },
    "withs": {
        (1, 3), (3, 15), (4, 5), (5, 6), (5, 7), (6, -3), (7, 8), (8, 10), (10, 11), (11, 12), (12, 13),
        (13, -3), (15, -1),
    },
    "asyncs": {
        (1, 3), (3, 7), (4, 5), (5, -3), (7, 16), (8, 9), (8, 11), (9, 8), (9, 10), (10, 11), (11, 12),
        (12, 13), (12, 14), (13, 14), (14, -7), (16, -1),
    },
    "generators": {
        (1, 9), (2, 3), (2, 7), (3, 4), (4, 5), (5, 2), (5, 6), (6, -1), (7, -1), (9, 10), (10, 11),
        (11, -1),
    },
    "classes_decorators": {
        (1, 3), (3, 6), (4, -3), (6, 7), (7, 10), (10, 13), (11, -6), (13, 25), (16, 17), (16, 19), (17, 20),
        (19, 20), (20, -13), (21, 23), (22, -21), (23, -20), (25, 26), (26, 29), (27, -25), (29, -1),
    },
    "matches": {
        (1, 12), (2, 3), (3, 4), (3, 5), (4, -1), (5, 6), (5, 7), (6, -1), (7, 8), (7, 9), (8, -1), (9, -1),
        (9, 10), (10, -1), (12, 19), (13, 14), (14, 15), (14, 16), (15, -12), (16, 17), (17, -12), (19, 20),
        (20, 21), (21, -1),
    },
    "exceptstar": {
        (1, 11), (2, 3), (3, 4), (3, 9), (4, 5), (5, 6), (6, 9), (7, 8), (8, 9), (9, -1), (11, 12), (12, 13),
        (13, -1), (14, 15), (15, -1),
    },
    "lambdas_comprehensions": {
        (1, 2), (2, 3), (3, 4), (4, 5), (5, 7), (6, -5), (7, -1),
    },
    "dead_code": {
        (1, 5), (2, -1), (5, 13), (6, 7), (6, 10), (7, 8), (8, 6), (10, -5), (13, -1),
    },
    "nested_try": {
        (1, 16), (2, 3), (3, 4), (4, 5), (4, 6), (5, 7), (6, -1), (7, 8), (8, 9), (8, 10), (10, -1),
        (13, 14), (14, -1), (16, 17), (17, -1),
    },
    "partials": {
        (1, 12), (2, 3), (2, 4), (3, 4), (4, 5), (4, 6), (5, 4), (6, 7), (6, 8), (7, 8), (8, 9), (8, 10),
        (9, 8), (10, -1), (12, -1),
    },
}

# `covcore report -m` "Missing" column for each case after importing it
# (identical on 3.10-3.13 and every backend; `.coveragerc` adds the
# partial_also regex "MY PARTIAL").
EXPECTED_MISSING = {
    "asyncs": "8->11, 12->14",
    "classes_decorators": "19",
    "constants": "3->2, 13->15",
    "dead_code": "6-10",
    "exceptstar": "14-15",
    "generators": "6",
    "ifelse": "7, 9",
    "lambdas_comprehensions": "",
    "loops": "4, 14",
    "matches": "7-10, 15",
    "nested_try": "9, 13-14",
    "partials": "5",
    "raises": "3->6, 7",
    "tryfinally": "7, 9, 13-14",
    "withs": "6",
}


def analyzer(text: str, exclude: str | None = EXCLUDE) -> ArcAnalyzer:
    return ArcAnalyzer(PythonParser(text=text, exclude=exclude))


# -- 1. literal expectations ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_arcs(name):
    assert analyzer(CASES[name]).arcs() == EXPECTED_ARCS[name]


def test_exit_counts_leave_out_excluded_lines():
    counts = analyzer(CASES["partials"]).exit_counts()
    # Line 6 (`if x == 42:  # pragma: no cover`) is excluded with its body:
    # not counted, and the arcs into it from line 4 don't count either.
    assert 6 not in counts and 7 not in counts
    assert counts[2] == 2 and counts[4] == 1 and counts[8] == 2
    assert {line for line, n in counts.items() if n > 1} == {2, 8}


def test_exit_counts_branch_lines():
    counts = analyzer(CASES["loops"]).exit_counts()
    assert {line for line, n in counts.items() if n > 1} == {2, 3, 5, 11, 13}
    assert all(n == 2 for line, n in counts.items() if n > 1)


def test_no_branch_lines():
    a = analyzer(CASES["partials"])
    assert a.no_branch_lines(DEFAULT_PARTIAL) == {2, 8}
    assert a.no_branch_lines(DEFAULT_PARTIAL + ["MY PARTIAL"]) == {2, 4, 8}
    # partial_branches_always: constant tests.
    c = analyzer(CASES["constants"])
    assert c.no_branch_lines(DEFAULT_PARTIAL) == {2, 5, 7, 15}  # not `if not True:` (11)
    assert c.no_branch_lines(DEFAULT_PARTIAL, []) == {15}
    assert c.no_branch_lines([], DEFAULT_PARTIAL_ALWAYS) == {2, 5, 7, 15}


@pytest.mark.parametrize("expr, result", [
    ("True", (True, True)), ("0", (True, False)), ("__debug__", (True, True)), ("None", (True, False)),
    ("not 1", (True, False)), ("True or x", (False, False)), ("1 and 'a'", (True, True)), ("x", (False, False)),
    ("-1", (False, False)),
])
def test_constant_tests(expr, result):
    assert is_constant_test(ast.parse(expr, mode="eval").body) == result


@pytest.mark.parametrize("name, start, end, text", [
    ("ifelse", 2, 4, "line 2 didn't jump to line 4 because the condition on line 2 was always true"),
    ("ifelse", 2, 3, "line 2 didn't jump to line 3 because the condition on line 2 was never true"),
    ("ifelse", 10, -1, "line 10 didn't return from function 'f' because the return on line 10 wasn't executed"),
    ("ifelse", 13, -1, "line 13 didn't exit the module because "),
    ("loops", 2, 3, "line 2 didn't jump to line 3 because the loop on line 2 never started"),
    ("loops", 2, 9, "line 2 didn't jump to line 9 because the loop on line 2 didn't complete"),
    ("loops", 4, 10, "line 4 didn't jump to line 10 because the break on line 4 wasn't executed"),
    ("loops", 6, 2, "line 6 didn't jump to line 2 because the continue on line 6 wasn't executed"),
    ("loops", 11, 16, "line 11 didn't jump to line 16 because the condition on line 11 was always true"),
    ("loops", 7, 2, "line 7 didn't jump to line 2 because "),  # sic: coverage.py's empty cause
    ("tryfinally", 11, 12, "line 11 didn't jump to line 12 because the exception caught by line 11 didn't happen"),
    ("tryfinally", 9, -1, "line 9 didn't return from function 'f' because the return on line 9 wasn't executed"),
    ("raises", 11, -9, "line 11 didn't return from function 'h' because "),
    ("raises", 13, -9, "line 13 didn't return from function 'h' because the return on line 13 wasn't executed"),
    ("matches", 3, 5, "line 3 didn't jump to line 5 because the pattern on line 3 always matched"),
    ("matches", 3, 4, "line 3 didn't jump to line 4 because the pattern on line 3 never matched"),
    ("matches", 9, -1, "line 9 didn't return from function 'm' because the pattern on line 9 always matched"),
    ("classes_decorators", 20, -13, "line 20 didn't exit class 'A' because "),
    ("withs", 6, -3, "line 6 didn't return from function 'f' because the return on line 6 wasn't executed"),
    ("withs", 4, 5, "line 4 didn't jump to line 5 because "),
    ("classes_decorators", 7, 10, "line 7 didn't jump to line 10"),  # decorator arcs have no cause
    ("dead_code", 10, -5, "line 10 didn't except from function 'g' because the raise on line 10 wasn't executed"),
])
def test_missing_arc_description(name, start, end, text):
    assert analyzer(CASES[name]).missing_arc_description(start, end) == text


def test_translate_arcs_fixes_with_jumps():
    a = analyzer(CASES["withs"])
    # A body's jump back to its `with` (7->4, 11->10, 10->8) and on (4->8, 8->12)
    # becomes one arc to the next statement; line 9 maps to its first line 8;
    # a one-line with (12->12) goes on to 13.
    measured = {(7, 4), (4, 8), (9, 10), (11, 10), (10, 8), (8, 12), (12, 12), (13, -3)}
    assert a.translate_arcs(measured) == {(7, 8), (8, 10), (11, 12), (12, 13), (13, -3)}


# -- 2. against coverage.py's parser ----------------------------------------------

coverage_parser = pytest.importorskip("coverage.parser")
import coverage  # noqa: E402

#: coverage.py 7.16 (the newest for Python 3.10) fixes `with` jumps differently
#: from 7.17: there, files with `with` statements are not compared.
_reference_is_717 = tuple(int(p) for p in coverage.__version__.split(".")[:2]) >= (7, 17)

STDLIB = Path(sysconfig.get_paths()["stdlib"])
CORPUS_PACKAGES = ["json", "email", "asyncio", "concurrent", "importlib", "unittest", "logging", "http",
                   "xml", "urllib", "collections", "multiprocessing", "sqlite3", "html", "zoneinfo", "wsgiref"]
CORPUS_FILES = [
    "test/test_grammar.py", "test/test_patma.py", "test/test_exceptions.py", "test/test_with.py",
    "test/test_coroutines.py", "test/test_generators.py", "test/test_except_star.py", "test/test_contextlib.py",
    "test/test_contextlib_async.py", "test/test_scope.py", "test/test_sys_settrace.py", "test/test_compile.py",
    "subprocess.py", "typing.py", "inspect.py", "argparse.py", "dataclasses.py", "enum.py", "functools.py",
    "pathlib.py", "shutil.py", "tarfile.py", "zipfile.py", "ast.py", "traceback.py", "pdb.py", "threading.py",
]


def _has_with(tree: ast.AST) -> bool:
    return any(isinstance(node, (ast.With, ast.AsyncWith)) for node in ast.walk(tree))


def compare_with_coveragepy(text: str, filename: str, n_descriptions: int | None = None) -> list[str]:
    """The ways ArcAnalyzer disagrees with coverage.py's parser on `text` ([] if none)."""
    theirs = coverage_parser.PythonParser(text=text, filename=filename, exclude=EXCLUDE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.parse_source()
    except Exception:  # Not parseable by this Python: nothing to compare.
        return []
    if not _reference_is_717 and _has_with(ast.parse(text)):
        return []
    ours = analyzer(text)
    problems = []
    arcs, their_arcs = ours.arcs(), theirs.arcs()
    if arcs != their_arcs:
        problems.append(f"{filename}: arcs: ours only {sorted(arcs - their_arcs)}, "
                        f"theirs only {sorted(their_arcs - arcs)}")
    if dict(ours.exit_counts()) != dict(theirs.exit_counts()):
        problems.append(f"{filename}: exit counts differ")
    if ours.no_branch_lines(DEFAULT_PARTIAL) != theirs.lines_matching(
            join_regex(DEFAULT_PARTIAL + DEFAULT_PARTIAL_ALWAYS)):
        problems.append(f"{filename}: no-branch lines differ")
    sample = sorted(their_arcs)
    if n_descriptions is not None and len(sample) > n_descriptions:
        sample = random.Random(filename).sample(sample, n_descriptions)
    for start, end in sample:
        mine, ref = ours.missing_arc_description(start, end), theirs.missing_arc_description(start, end)
        if mine != ref:
            problems.append(f"{filename}: {start}->{end}: {mine!r} != {ref!r}")
            break
    # Measured arcs look like possible arcs plus with-jumps and mid-statement lines.
    measured = set(sample) | {(b, a) for a, b in sample} | {(a, a) for a, _ in sample}
    if ours.translate_arcs(measured) != theirs.translate_arcs(measured):
        problems.append(f"{filename}: translate_arcs differs")
    return problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_like_coveragepy(name):
    assert compare_with_coveragepy(CASES[name], f"{name}.py") == []


@pytest.mark.parametrize("name", SNIPPET_NAMES)
def test_snippet_like_coveragepy(name):
    path = SNIPPETS / f"{name}.py"
    assert compare_with_coveragepy(path.read_text(encoding="utf-8"), str(path)) == []


def _corpus(group: str) -> list[Path]:
    if group == "files":
        return [STDLIB / f for f in CORPUS_FILES if (STDLIB / f).exists()]
    return sorted((STDLIB / group).rglob("*.py"))


@pytest.mark.stdlib  # with the whole-stdlib run (tests/test_stdlib_analysis.py): ci/test.sh runs it once
@pytest.mark.parametrize("group", CORPUS_PACKAGES + ["files"])
def test_stdlib_like_coveragepy(group):
    files = _corpus(group)
    if not files:
        pytest.skip(f"no {group} in this stdlib")
    problems = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        problems += compare_with_coveragepy(text, str(path), n_descriptions=200)
    assert problems == []


# -- 3. end to end -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """`report -m` text of covcore and coverage.py after running every snippet and case."""
    work = tmp_path_factory.mktemp("arcs")
    for path in SNIPPETS.glob("*.py"):
        shutil.copy(path, work / path.name)
    for name, text in CASES.items():
        (work / f"c_{name}.py").write_text(text, encoding="utf-8")
    write(work / ".coveragerc", """\
        [report]
        partial_also =
            MY PARTIAL
        """)
    modules = SNIPPET_NAMES + [f"c_{name}" for name in sorted(CASES)]
    out = {}
    for tool, run in (("covcore", covcore), ("coverage", coveragepy)):
        res = run("run", "--branch", "--source=.", "--omit=runner.py", "runner.py", *modules, cwd=work)
        assert res.rc == 0, res
        res = run("report", "-m", cwd=work)
        assert res.rc == 0, res
        out[tool] = res.out
    return out


def _missing_column(report: str) -> dict[str, str]:
    """{module: "Missing" column} from a `report -m` table."""
    columns = {}
    for line in report.splitlines():
        parts = line.split(None, 6)
        if line.endswith(".py") or (len(parts) >= 6 and parts[0].endswith(".py")):
            columns[parts[0][:-3]] = parts[6] if len(parts) > 6 else ""
    return columns


@pytest.mark.backend
def test_report_same_as_coveragepy(reports):
    assert reports["covcore"] == reports["coverage"]


@pytest.mark.backend
@pytest.mark.parametrize("name", sorted(CASES))
def test_report_missing_branches(reports, name):
    assert _missing_column(reports["covcore"])[f"c_{name}"] == EXPECTED_MISSING[name]
