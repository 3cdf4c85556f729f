"""Tricky Python, measured end to end and compared with coverage.py.

Each snippet in ``tests/snippets`` is run under covcore (the backend chosen by
``COVCORE_CORE``) and under coverage.py; statements, excluded lines and
missing lines must be identical, and the missing lines must also equal the
literal expectations below.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmdhelpers import clean_env, coveragepy, covcore

pytestmark = pytest.mark.backend

SNIPPETS = Path(__file__).parent / "snippets"
NAMES = sorted(p.stem for p in SNIPPETS.glob("*.py") if p.stem != "runner")

# Missing statements of each snippet (identical on 3.10-3.13).
EXPECTED_MISSING = {
    "asyncs": [28, 29],
    "branches": [5, 7, 18],
    "classes": [15, 21, 30],
    "decorators": [29, 39],
    "exceptions": [8, 9, 24],
    "excluded": [],
    "generators": [9, 10, 15, 16],
    "lambdas": [],
    "matching": [8, 10, 13, 14],
    "multiline": [20],
    "withs": [21, 22],
}

ANALYSE = """\
import json, sys
mod = __import__(sys.argv[1])
cov = mod.Coverage()
cov.load()
out = {}
for name in sys.argv[2:]:
    _, stmts, excl, miss, fmt = cov.analysis2(name + ".py")
    out[name] = [stmts, excl, miss, fmt]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    work = tmp_path_factory.mktemp("snippets")
    for p in SNIPPETS.glob("*.py"):
        shutil.copy(p, work / p.name)
    (work / "analyse.py").write_text(ANALYSE)
    res = covcore("run", "--source=.", "--omit=runner.py,analyse.py", "runner.py", *NAMES, cwd=work)
    assert res.rc == 0, res
    res = coveragepy("run", "--source=.", "--omit=runner.py,analyse.py", "runner.py", *NAMES, cwd=work)
    assert res.rc == 0, res
    results = {}
    for tool in ("covcore", "coverage"):
        proc = subprocess.run([sys.executable, "analyse.py", tool, *NAMES], cwd=work, env=clean_env(),
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        results[tool] = json.loads(proc.stdout)
    return results


def _coverage_version() -> tuple[int, ...]:
    import coverage

    return tuple(int(p) for p in coverage.__version__.split(".")[:2])


@pytest.mark.parametrize("name", NAMES)
def test_same_as_coveragepy(measured, name):
    if name == "excluded" and _coverage_version() < (7, 17):
        pytest.skip("coverage.py before 7.17 (the newest for Python 3.10 is 7.16) has other default exclusions")
    ours, theirs = measured["covcore"][name], measured["coverage"][name]
    assert ours[0] == theirs[0], "statements differ"
    assert ours[1] == theirs[1], "excluded lines differ"
    assert ours[2] == theirs[2], "missing lines differ"
    assert ours[3] == theirs[3], "formatted missing differs"


@pytest.mark.parametrize("name", NAMES)
def test_missing_lines_exact(measured, name):
    assert measured["covcore"][name][2] == EXPECTED_MISSING[name]
