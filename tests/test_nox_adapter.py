"""The nox adapter (``plugins/nox_cov``, ``covcore_nox``): real nox running
a real sample project in real virtualenvs on Python 3.11 and 3.12.

nox runs from a virtualenv (Python 3.11) holding ``covcore[nox]``, installed
from a wheel of this checkout (:mod:`adapterhelpers`); every session's
virtualenv gets covcore from the same wheelhouse.  The sample project
(``tests/adapter_projects/nox_srcproj``: ``srcproj`` plus noxfiles) is
copied into a temporary directory for each test; the sessions' virtualenvs
are shared between tests (``--envdir`` in the cache, one per source state;
the sessions say ``reuse_venv=True``).

The package ``calc`` has 15 statements: line 12 runs only on Python 3.12+,
line 14 only before, line 26 never; lines 19-22 run only in a subprocess
that the tests start.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapterhelpers import (CACHE, ToolRun, calc_report, report_of, sample_project, source_hash, tool_host,
                            write_full_data)

pytestmark = pytest.mark.adapters

REPORT_311 = calc_report(True, 2, "87%", "12, 26")       # one Python: the other's branch is missing
REPORT_COMBINED = calc_report(True, 1, "93%", "26")      # tests-3.11 + tests-3.12: only the dead function


@pytest.fixture(scope="module")
def nox_host():
    """``(nox executable, environment, envdir)``: nox on Python 3.11 with covcore[nox]."""
    bindir, env = tool_host("nox")
    env.pop("COVCORE_NOX_RUN", None)
    # The sessions' virtualenvs, shared by the tests; covcore in them is the
    # wheel of this source state (pip would keep an older wheel of the same version).
    envdir = CACHE / f"nox-envs-{source_hash()}"
    for old in CACHE.glob("nox-envs-*"):
        if old != envdir:
            shutil.rmtree(old, ignore_errors=True)
    return bindir / "nox", env, envdir


def project(tmp_path: Path, nox_host, name: str = "nox_srcproj") -> ToolRun:
    return ToolRun([nox_host[0], "--envdir", nox_host[2]], nox_host[1], sample_project(name, tmp_path / name))


def test_sequential_run_over_two_pythons(tmp_path, nox_host):
    nox = project(tmp_path, nox_host)
    res = nox()  # every default session: tests-3.11, tests-3.12, coverage
    assert res.returncode == 0, res.output
    # Each session's data: the unittest process and its subprocess; pip (session.install)
    # wrote none.  The installed copies (site-packages/calc) are reported as src/calc.
    assert "Combined 4 files" in res.stdout
    assert report_of(res.stdout) == REPORT_COMBINED
    assert res.stdout.count("TOTAL ") == 1
    assert "nox > * coverage: success" in res.stderr
    assert (nox.project / ".covcore").is_file()
    assert not (nox.project / ".covcore-nox").exists()
    # Each Python of the parametrised session is the static context of its own data.
    res = nox.covcore("json", "--show-contexts", "-o", "-")
    contexts = json.loads(res.stdout)["files"]["src/calc/__init__.py"]["contexts"]
    assert contexts["12"] == ["tests-3.12"]
    assert contexts["14"] == ["tests-3.11"]
    assert sorted(contexts["20"]) == ["tests-3.11", "tests-3.12"]


def test_one_session_with_posargs_ignores_stale_data(tmp_path, nox_host):
    nox = project(tmp_path, nox_host)
    # Stale data of earlier runs: a combined file that covered everything, and a
    # run directory left by a killed run -- whose ID is even in the environment
    # (not made by nox's parent process, so not joined).
    source = nox.project / "src" / "calc" / "__init__.py"
    write_full_data(nox.project / ".covcore", source)
    stale = nox.project / ".covcore-nox" / "run-1.0123456789ab"
    write_full_data(stale / ".covcore.tests-3.11.host.1.X1", source)
    res = nox("-s", "tests-3.11", "--", "-v", COVCORE_NOX_RUN="1.0123456789ab")
    assert res.returncode == 0, res.output
    assert "test_add (test_calc.CalcTests.test_add) ... ok" in res.output  # the posargs (-v) reached unittest
    # The notified report session ran after it; posargs did not reach it.
    assert "nox > * coverage: success" in res.stderr
    assert "Combined 2 files" in res.stdout
    assert report_of(res.stdout) == REPORT_311
    assert not (nox.project / ".covcore-nox").exists()


def test_parallel_runs_report_after_the_sessions(tmp_path, nox_host):
    nox = project(tmp_path, nox_host)
    res = nox("--parallel", "2")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_COMBINED
    assert res.stdout.count("TOTAL ") == 1
    assert "Combined 4 files" in res.stdout
    # The report session's block comes after both measured sessions' blocks.
    blocks = [line for line in res.stdout.splitlines() if line.startswith("========== ")]
    names = [block.split()[2].rstrip(":") for block in blocks]
    assert names[-1] == "coverage" and sorted(names[:-1]) == ["tests-3.11", "tests-3.12"], blocks
    assert blocks[-1].startswith("========== ✓ coverage: success")

    # `nox --parallel -s coverage` runs the measured sessions first (requires=);
    # fail-under fails the report session with one line; nox exits 1.
    res = nox("--parallel", "2", "-s", "coverage", CALC_FAIL_UNDER="95")
    assert res.returncode == 1, res.output
    assert report_of(res.stdout) == REPORT_COMBINED
    assert "Combined 4 files" in res.stdout  # this run's files only
    assert "Coverage failure: total of 93 is less than fail-under=95" in res.stdout.splitlines()
    assert "nox > Session coverage aborted: Coverage failure: total of 93 is less than fail-under=95." \
        in res.stdout.splitlines()


def test_fail_under_pass_and_fail(tmp_path, nox_host):
    nox = project(tmp_path, nox_host)
    res = nox("-s", "tests-3.11", CALC_FAIL_UNDER="80")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_311
    assert "Coverage failure" not in res.output

    res = nox("-s", "tests-3.11", CALC_FAIL_UNDER="95")
    assert res.returncode == 1, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=95"
    assert "nox > Session coverage aborted: Coverage failure: total of 87 is less than fail-under=95." \
        in res.stderr.splitlines()
    assert "nox > * tests-3.11: success" in res.stderr

    # The threshold from [tool.covcore.nox] when the registration gives none.
    pyproject = nox.project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.covcore.nox]\nfail_under = 90\n")
    res = nox("-s", "tests-3.11")
    assert res.returncode == 1, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=90"

    # Failing tests fail the run (exit code 1); the report session is not queued.
    res = nox("-s", "tests-3.11", CALC_BREAK="1")
    assert res.returncode == 1, res.output
    assert "CALC_BREAK is set" in res.output
    assert "TOTAL" not in res.stdout
    assert res.stderr.splitlines()[-1] == "nox > Session tests-3.11 failed."


def test_measure_part_of_a_plain_session_and_configured_reports(tmp_path, nox_host):
    nox = project(tmp_path, nox_host)
    res = nox("-f", "noxfile_measure.py")
    assert res.returncode == 0, res.output
    # Only the command inside `with covcore_nox.measure(session)` was measured:
    # add() ran, never_called() ran outside the block and stays missing.
    assert "Combined 1 file" in res.stdout
    assert report_of(res.stdout) == calc_report(True, 9, "40%", "11-15, 19-22, 26")
    assert "Wrote JSON report to out/cov.json" in res.stdout
    report = json.loads((nox.project / "out" / "cov.json").read_text())
    assert list(report["files"]) == ["src/calc/__init__.py"]
    assert report["files"]["src/calc/__init__.py"]["executed_lines"] == [3, 6, 7, 10, 18, 25]
    assert not (nox.project / ".covcore-nox").exists()


def test_bad_fail_under_is_one_line_error(tmp_path, nox_host):
    (tmp_path / "noxfile.py").write_text('import covcore_nox\ncovcore_nox.report_session(fail_under="lots")\n')
    nox = ToolRun([nox_host[0], "--envdir", nox_host[2]], nox_host[1], tmp_path)
    res = nox("-s", "coverage")
    assert res.returncode == 1, res.output
    assert ("nox > Session coverage aborted: covcore: report_session(fail_under='lots'): 'lots' is not a number."
            in res.stderr.splitlines())
    assert "Traceback" not in res.output
