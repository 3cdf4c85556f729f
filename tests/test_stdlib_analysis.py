"""The static analyser over every ``.py`` file of this Python's standard library.

For each file (everything under ``sysconfig.get_paths()["stdlib"]``, ``test/``
and ``lib2to3`` included, ``site-packages`` left out: that is third-party
code): covcore's statements, exclusions and possible arcs, the same answer
from coverage.py's parser, and whether CPython itself compiles the file.
Files CPython rejects (the deliberate bad-syntax and bad-encoding test files)
must give covcore's "Couldn't parse" :class:`NotPython`; no file may give any
other exception.  On Python 3.12+ the ``sys.monitoring`` tracer's per-code-
object bytecode analysis (:func:`covcore.bytecode.analyze`) runs over every
code object of every file too.

The files are analysed once per session, in a pool of two processes; the
figures (files, rejected files, statements, branch points, wall time, peak
memory) are printed by ``test_stdlib_figures``.
"""

from __future__ import annotations

import concurrent.futures
import os
import resource
import sys
import sysconfig
import time
import traceback
import warnings

import pytest

from covcore.astarcs import ArcAnalyzer
from covcore.errors import NotPython
from covcore.parser import DEFAULT_EXCLUDE, PythonParser, join_regex

pytestmark = pytest.mark.stdlib

STDLIB = sysconfig.get_paths()["stdlib"]
EXCLUDE = join_regex(DEFAULT_EXCLUDE)


def stdlib_files() -> list[str]:
    """Every .py file of the standard library, sorted (site-packages left out)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(STDLIB):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "dist-packages", "__pycache__"))
        found.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))
    return sorted(found)


def _cpython_compiles(filename: str) -> bool:
    with open(filename, "rb") as f:
        source = f.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):  # ValueError: null bytes, on 3.10
        return False
    return True


def _code_objects(code):
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))


def analyse(filename: str) -> dict:
    """Everything the tests check about one file (run in a worker process)."""
    out: dict = {"file": filename, "cpython_ok": _cpython_compiles(filename), "crash": None}
    start = time.perf_counter()
    try:
        parser = PythonParser(filename=filename, exclude=EXCLUDE)
        parser.parse_source()
        arcs = ArcAnalyzer(parser)
        possible = arcs.arcs()
        exits = arcs.exit_counts()
        arcs.no_branch_lines(None)
        for a, b in sorted(possible)[:50]:
            arcs.missing_arc_description(a, b)
    except NotPython as exc:
        out["notpython"] = str(exc)
    except Exception:  # noqa: BLE001 - any other exception is the bug we look for
        out["crash"] = traceback.format_exc()
    else:
        out["notpython"] = None
        out["statements"] = len(parser.statements)
        out["excluded"] = len(parser.excluded)
        out["arcs"] = len(possible)
        out["branch_points"] = sum(1 for n in exits.values() if n > 1)
    out["seconds"] = time.perf_counter() - start  # covcore's own time
    if not out["crash"] and out.get("notpython") is None:
        out["coverage_diff"] = _compare_with_coveragepy(filename, parser, possible)
    if sys.version_info >= (3, 12) and out["cpython_ok"]:
        from covcore.bytecode import analyze

        with open(filename, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = compile(f.read(), filename, "exec", dont_inherit=True)
        out["code_objects"] = 0
        for c in _code_objects(code):
            try:
                analyze(c)
            except Exception:  # noqa: BLE001
                out["crash"] = f"bytecode.analyze({c.co_name} at line {c.co_firstlineno}):\n{traceback.format_exc()}"
                break
            out["code_objects"] += 1
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def _coverage_version() -> tuple[int, ...]:
    import coverage

    return tuple(coverage.version_info[:2])


def _has_with(parser: PythonParser) -> bool:
    import ast

    return any(isinstance(node, (ast.With, ast.AsyncWith)) for node in ast.walk(parser._ast_root))


def _compare_with_coveragepy(filename: str, parser: PythonParser, possible: set) -> str | None:
    """How coverage.py's parser disagrees (statements, exclusions, arcs), or None."""
    try:
        from coverage.config import DEFAULT_EXCLUDE as COV_EXCLUDE
        from coverage.parser import PythonParser as CovParser
    except ImportError:
        return None
    cov = CovParser(filename=filename, exclude=join_regex(COV_EXCLUDE))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cov.parse_source()
            cov_arcs = cov.arcs()
    except Exception as exc:  # noqa: BLE001
        return f"coverage.py can't parse it ({exc}); covcore can"
    compared = [("statements", parser.statements, cov.statements),
                ("excluded", parser.excluded, cov.excluded)]
    # coverage.py 7.16 (the newest for Python 3.10) fixes `with` jumps
    # differently from 7.17, whose rules covcore follows (as tests/test_arcs.py):
    # with 7.16, the arcs of files with `with` statements are not compared.
    if _coverage_version() >= (7, 17) or not _has_with(parser):
        compared.append(("arcs", possible, cov_arcs))
    problems = []
    for what, ours, theirs in compared:
        if ours != theirs:
            problems.append(f"{what}: only covcore {sorted(ours - theirs)[:8]}, "
                            f"only coverage.py {sorted(theirs - ours)[:8]}")
    return "; ".join(problems) or None


@pytest.fixture(scope="module")
def results():
    files = stdlib_files()
    assert len(files) > 1000, f"only {len(files)} files under {STDLIB}"
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(analyse, files, chunksize=16))
    return found, time.perf_counter() - start


def test_no_file_crashes_the_analyser(results):
    found, _ = results
    crashes = [(r["file"], r["crash"]) for r in found if r["crash"]]
    assert crashes == [], "\n\n".join(f"{f}:\n{tb}" for f, tb in crashes[:5])


def test_notpython_exactly_for_files_cpython_rejects(results):
    found, _ = results
    rejected = [r for r in found if not r["cpython_ok"]]
    assert rejected, "the standard library has deliberately broken test files"
    disagree = [(r["file"], r["cpython_ok"], r.get("notpython")) for r in found
                if not r["crash"] and (r["notpython"] is None) != r["cpython_ok"]]
    assert disagree == []
    for r in rejected:
        assert r["notpython"].startswith(f"Couldn't parse '{r['file']}' as Python source: "), r["notpython"]
        assert "\n" not in r["notpython"]


def test_same_statements_exclusions_and_arcs_as_coveragepy(results):
    pytest.importorskip("coverage.parser")
    found, _ = results
    differ = [(r["file"], r["coverage_diff"]) for r in found if r.get("coverage_diff")]
    assert differ == [], "\n".join(f"{f}: {d}" for f, d in differ[:10]) + f"\n({len(differ)} files)"


def test_stdlib_figures(results, capsys):
    """Not a check: prints the figures for docs/reliability.md."""
    found, wall = results
    parsed = [r for r in found if not r["crash"] and r["notpython"] is None]
    slowest = max(found, key=lambda r: r["seconds"])
    line = (
        f"stdlib analysis, Python {sys.version.split()[0]}: {len(found)} files, "
        f"{sum(not r['cpython_ok'] for r in found)} rejected by CPython, "
        f"{sum(r['statements'] for r in parsed)} statements, "
        f"{sum(r['excluded'] for r in parsed)} excluded lines, "
        f"{sum(r['arcs'] for r in parsed)} possible arcs, "
        f"{sum(r['branch_points'] for r in parsed)} branch points, "
        + (f"{sum(r.get('code_objects', 0) for r in found)} code objects through bytecode.analyze, "
           if sys.version_info >= (3, 12) else "")
        + f"{wall:.1f} s wall (2 processes; covcore's analysis alone "
        f"{sum(r['seconds'] for r in found):.1f} s of it), slowest file {slowest['seconds']:.2f} s "
        f"({os.path.relpath(slowest['file'], STDLIB)}, covcore's analysis only), "
        f"peak worker memory {max(r['maxrss_kb'] for r in found) // 1024} MB"
    )
    with capsys.disabled():
        print("\n" + line)
    assert parsed
