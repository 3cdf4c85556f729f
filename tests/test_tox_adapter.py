"""The tox adapter (``plugins/tox_cov``): real tox 4 running real sample
projects in real virtualenvs on Python 3.11 and 3.12.

tox itself runs from a virtualenv (Python 3.11) holding ``covcore[tox]``,
installed from a wheel of this checkout (:mod:`adapterhelpers`); every
environment tox makes gets covcore from the same wheelhouse.  The sample
projects (``tests/adapter_projects/``) are copied into a temporary
directory for each test.

Both samples hold the package ``calc`` (15 statements): line 12 runs only on
Python 3.12+, line 14 only before, line 26 never; lines 19-22 run only in a
subprocess that the tests start.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapterhelpers import ToolRun, calc_report, report_of, sample_project, tool_host, write_full_data

pytestmark = pytest.mark.adapters

REPORT_311 = calc_report(True, 2, "87%", "12, 26")       # one Python: the other's branch is missing
REPORT_COMBINED = calc_report(True, 1, "93%", "26")      # py311 + py312: only the dead function


@pytest.fixture(scope="module")
def tox_host():
    """``(tox executable, environment)``: tox on Python 3.11 with covcore[tox]."""
    bindir, env = tool_host("tox")
    return bindir / "tox", env


def project(tmp_path: Path, tox_host, name: str) -> ToolRun:
    return ToolRun([tox_host[0]], tox_host[1], sample_project(name, tmp_path / name))


def test_one_environment_measures_commands_and_subprocesses(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    res = tox("-e", "py311")
    assert res.returncode == 0, res.output
    # The installed copy (.tox/py311/lib/python3.11/site-packages/calc) is
    # reported as the source tree's src/calc, with no [paths]; lines 19-22
    # ran in the test's subprocess.
    assert report_of(res.stdout) == REPORT_311
    assert "Coverage failure" not in res.output
    assert (tox.project / ".covcore").is_file()
    assert not (tox.project / ".covcore-tox").exists()
    # Each environment is the static context of its data.
    res = tox.covcore("json", "--show-contexts", "-o", "-")
    data = json.loads(res.stdout)
    contexts = data["files"]["src/calc/__init__.py"]["contexts"]
    assert contexts["20"] == ["py311"]


def test_two_environments_combine_to_more_than_either(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    res = tox()  # the default env_list: py311, py312
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_COMBINED
    # Each environment alone covered less: its own context's report.
    py311 = tox.covcore("report", "--contexts=py311")
    py312 = tox.covcore("report", "--contexts=py312")
    assert py311.stdout.splitlines()[2] == "src/calc/__init__.py      15      2    87%   12, 26"
    assert py312.stdout.splitlines()[2] == "src/calc/__init__.py      15      2    87%   14, 26"


def test_parallel_run_combines_once(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    res = tox("-p", "-e", "py311,py312")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_COMBINED
    assert res.stdout.count("TOTAL ") == 1
    # The same through the run-parallel command.
    res = tox("run-parallel", "-e", "py311,py312")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_COMBINED


def test_fail_under_exit_codes_and_stale_data(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    # Stale data of an earlier run: a combined file that covered everything,
    # and a parallel file left by a killed run.  Neither may count.
    source = tox.project / "src" / "calc" / "__init__.py"
    for stale in (tox.project / ".covcore", tox.project / ".covcore-tox" / ".covcore.py311.old.X1"):
        write_full_data(stale, source)
    res = tox("-e", "py311", "--cov-fail-under=80")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == REPORT_311
    assert "Coverage failure" not in res.output

    res = tox("-e", "py311", TOX_COV_FAIL_UNDER="95")
    assert res.returncode == 2, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=95"

    # A failing test run still fails as before (1, not 2), and is reported.
    res = tox("-e", "py311", "--cov-fail-under=95", CALC_BREAK="1")
    assert res.returncode == 1, res.output
    assert "CALC_BREAK is set" in res.output
    assert "Coverage failure: total of 87 is less than fail-under=95" in res.stdout

    # The threshold from the tox configuration.
    ini = tox.project / "tox.ini"
    ini.write_text(ini.read_text().replace("[tox]\n", "[tox]\ncov_fail_under = 90\n"))
    res = tox("-e", "py311")
    assert res.returncode == 2, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=90"


def test_no_cov_and_unmeasured_environment(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    res = tox("-e", "py311", "--no-cov")
    assert res.returncode == 0, res.output
    assert "TOTAL" not in res.output
    assert not (tox.project / ".covcore").exists()
    assert "covcore" not in (tox.project / ".tox" / "py311" / ".tox-info.json").read_text()

    res = tox("-e", "lint")  # cov = false in [testenv:lint]
    assert res.returncode == 0, res.output
    assert "lint ok" in res.stdout
    assert "TOTAL" not in res.output
    assert not (tox.project / ".covcore").exists()

    res = tox("-e", "py311", TOX_NO_COV="1")
    assert res.returncode == 0, res.output
    assert "TOTAL" not in res.output


def test_flat_layout_and_configured_reports(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "flatproj")
    res = tox("--cov-report=term-missing", "--cov-report=xml:out/cov.xml")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == calc_report(False, 2, "87%", "12, 26")
    xml = (tox.project / "out" / "cov.xml").read_text()
    assert 'filename="calc/__init__.py"' in xml
    assert "Wrote XML report to out/cov.xml" in res.stdout

    # The reports named in [tool.covcore.tox] when none is given.
    (tox.project / "tox.ini").write_text((tox.project / "tox.ini").read_text() + "\n[covcore:tox]\nreport = json, lcov\n")
    res = tox("-e", "py311")
    assert res.returncode == 0, res.output
    assert "TOTAL" not in res.stdout
    assert json.loads((tox.project / "coverage.json").read_text())["totals"]["percent_covered_display"] == "87"
    assert (tox.project / "coverage.lcov").read_text().startswith("SF:calc/__init__.py\n")


def test_project_without_covcore_config_is_measured_only_when_asked(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "flatproj")
    ini = tox.project / "tox.ini"
    ini.write_text(ini.read_text().split("[covcore:report]")[0])
    res = tox("-e", "py311")
    assert res.returncode == 0, res.output
    assert "TOTAL" not in res.output
    res = tox("-e", "py311", "--cov=calc")
    assert res.returncode == 0, res.output
    assert res.stdout.splitlines()[-1] == "TOTAL                 15      2    87%"

    # tox.toml: the same keys at its top level.
    ini.unlink()
    (tox.project / "tox.toml").write_text(
        'env_list = ["py311"]\n'
        'cov = "true"\n'
        'cov_report = ["term-missing"]\n'
        'cov_fail_under = "99"\n'
        "[env_run_base]\n"
        'commands = [["python", "-m", "unittest", "discover", "-s", "tests"]]\n'
    )
    res = tox()
    assert res.returncode == 2, res.output
    assert "calc/__init__.py      15      2    87%   12, 26" in res.stdout
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=99"


def test_bad_option_is_one_line_error(tmp_path, tox_host):
    tox = project(tmp_path, tox_host, "srcproj")
    res = tox("-e", "py311", "--cov-fail-under=lots")
    assert res.returncode == 1, res.output
    assert res.stderr.strip().splitlines()[-1] == "covcore: --cov-fail-under: 'lots' is not a number"
    assert "Traceback" not in res.output
