"""The setuptools adapter (``plugins/setuptools_cov``): real ``python setup.py
coverage`` with setuptools >= 72 (the latest) running real sample projects
in throwaway virtualenvs on Python 3.11 and 3.12.

Each virtualenv holds ``covcore[setuptools]``, installed from a wheel of this
checkout (:mod:`adapterhelpers`); the 3.12 one has pytest too, so the test
command defaults to pytest there and to ``unittest discover`` on 3.11.  The
sample projects (``tests/adapter_projects/setuptools_*``) are copied into a
temporary directory for each test:

* ``setuptools_classic``: a classic ``setup.py`` (no pyproject.toml), flat
  layout, ``[coverage] report = term-missing`` in ``setup.cfg``;
* ``setuptools_pyproject``: a ``pyproject.toml`` project with a one-line
  ``setup.py``, src layout, ``[tool.covcore.setuptools] report =
  ["term-missing"]``.

Both hold the package ``calc`` (15 statements): line 12 runs only on Python
3.12+, line 14 only before, line 26 never; lines 19-22 run only in a
subprocess that the tests start (so they are covered only if the
subprocess is measured).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from adapterhelpers import CACHE, calc_report, install_env, make_venv, python_exe, report_of, sample_project

pytestmark = pytest.mark.adapters

@pytest.fixture(scope="module")
def venvs():
    """``{"3.11": python, "3.12": python}``: virtualenvs with covcore[setuptools]
    (3.12 with pytest too); and the environment to run them in."""
    out = {}
    for version, extra in (("3.11", []), ("3.12", ["pytest"])):
        if python_exe(version) is None:
            pytest.skip(f"Python {version} is not installed")
        out[version] = make_venv(CACHE / f"venv-setuptools-{version}", version, ["covcore[setuptools]", *extra])
    env = install_env(("3.11", "3.12"))
    env.pop("CALC_BREAK", None)
    return out, env


class SetupPy:
    """``python setup.py ...`` of one copied sample project."""

    def __init__(self, venvs, project: Path) -> None:
        self.pythons, self.env = venvs
        self.project = project

    def __call__(self, *args: str, python: str = "3.11", **extra_env: str) -> subprocess.CompletedProcess:
        env = dict(self.env, **extra_env)
        proc = subprocess.run([str(self.pythons[python]), "setup.py", *args], cwd=self.project, env=env,
                              capture_output=True, text=True, timeout=300)
        proc.output = proc.stdout + proc.stderr  # type: ignore[attr-defined]
        return proc

    def covcore(self, *args: str, python: str = "3.11") -> subprocess.CompletedProcess:
        return subprocess.run([str(self.pythons[python].parent / "covcore"), *args], cwd=self.project,
                              env=self.env, capture_output=True, text=True, timeout=300)

    def tree(self) -> set[str]:
        """Every file and directory below the project (``__pycache__`` left out)."""
        return {str(p.relative_to(self.project)) for p in self.project.rglob("*") if "__pycache__" not in p.parts}


def project(tmp_path: Path, venvs, name: str) -> SetupPy:
    return SetupPy(venvs, sample_project(name, tmp_path / name))


def test_help_names_every_option_and_setuptools_is_recent(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_classic")
    for python in ("3.11", "3.12"):
        version = subprocess.run([str(setup.pythons[python]), "-c", "import setuptools; print(setuptools.__version__)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert int(version.split(".")[0]) >= 72, version  # no 'setup.py test' any more
    res = setup("--help", "coverage")
    assert res.returncode == 0, res.output
    options = [line.split()[0] for line in res.stdout.splitlines() if line.startswith("  --")]
    # The global options first, then the command's own, in this order.
    assert options[-6:] == ["--test-command", "--branch", "--source", "--fail-under", "--report", "--parallel"]
    words = "".join(res.stdout.split())  # the help is wrapped, at hyphens too
    for text in ("'python-mpytest'", "'python-munittestdiscover'", "[report]fail_under", "term-missing", "lcov",
                 "'covcorecombine'"):
        assert text in words, text
    res = setup("--help-commands")
    assert res.returncode == 0, res.output
    assert "  coverage          run the project's tests under covcore and report coverage" in res.stdout.splitlines()
    # A registered command: no deprecation warning, on either Python.
    for python in ("3.11", "3.12"):
        res = setup("coverage", "--report=", python=python)
        assert res.returncode == 0, res.output
        assert "Deprecat" not in res.output and "Warning" not in res.output, res.output


def test_classic_flat_project_with_unittest(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_classic")
    before = setup.tree()
    res = setup("coverage")  # 3.11 has no pytest: unittest discover -s tests
    assert res.returncode == 0, res.output
    assert f"covcore: running {setup.pythons['3.11']} -m unittest discover -s tests" in res.stdout.splitlines()
    assert "Ran 3 tests" in res.stderr
    # setup.cfg's [coverage] report = term-missing; lines 19-22 ran in the
    # tests' subprocess; calc imported from the source tree, not installed.
    assert report_of(res.stdout) == calc_report(False, 2, "87%", "12, 26")
    assert "Coverage failure" not in res.output
    # Nothing left behind but the data file: no build/, no *.egg-info, no
    # data directory.
    assert setup.tree() - before == {".covcore"}
    # The data is a normal covcore data file; the session's name is its context.
    res = setup.covcore("json", "--show-contexts", "-o", "-")
    data = json.loads(res.stdout)
    assert data["files"]["calc/__init__.py"]["contexts"]["20"] == ["setuptools"]


def test_pyproject_src_project_with_pytest(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_pyproject")
    assert (setup.project / "setup.py").read_text() == "from setuptools import setup; setup()\n"
    before = setup.tree()
    res = setup("coverage", python="3.12")  # pytest is importable there: the default
    assert res.returncode == 0, res.output
    assert f"covcore: running {setup.pythons['3.12']} -m pytest" in res.stdout.splitlines()
    assert "3 passed" in res.stdout
    # [tool.covcore.setuptools] report = ["term-missing"]; src/ on PYTHONPATH.
    assert report_of(res.stdout) == calc_report(True, 2, "87%", "14, 26")
    new = {p for p in setup.tree() - before if not p.startswith(".pytest_cache")}  # pytest's own
    assert new == {".covcore"}
    assert not list(setup.project.rglob("*.egg-info")) and not (setup.project / "build").exists()

    # The same project on 3.11, with unittest: the other version branch is missed.
    res = setup("coverage", python="3.11")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == calc_report(True, 2, "87%", "12, 26")
    assert not list(setup.project.rglob("*.egg-info")) and not (setup.project / "build").exists()


def test_exit_codes_fail_under_and_failing_tests(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_classic")
    res = setup("coverage", "--fail-under=80")
    assert res.returncode == 0, res.output
    assert "Coverage failure" not in res.output

    res = setup("coverage", "--fail-under=90")
    assert res.returncode == 2, res.output
    assert report_of(res.stdout) == calc_report(False, 2, "87%", "12, 26")
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=90"

    # Failing tests: the test command's status (1), reported all the same.
    res = setup("coverage", "--fail-under=90", CALC_BREAK="1")
    assert res.returncode == 1, res.output
    assert "CALC_BREAK is set" in res.stderr
    assert report_of(res.stdout) == calc_report(False, 2, "87%", "12, 26")
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=90"

    # A test command's own exit status passes through.
    res = setup("coverage", "--test-command=python -c 'import calc, sys; sys.exit(5)'")
    assert res.returncode == 5, res.output

    # fail_under from setup.cfg [coverage], then from [covcore:setuptools],
    # then from [report] fail_under; the command line wins over all.
    cfg = setup.project / "setup.cfg"
    cfg.write_text("[coverage]\nreport = term\nfail_under = 95\n")
    res = setup("coverage")
    assert res.returncode == 2, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=95"
    res = setup("coverage", "--fail-under=50")
    assert res.returncode == 0, res.output
    cfg.write_text("[covcore:setuptools]\nfail_under = 99\n")
    res = setup("coverage")
    assert res.returncode == 2, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=99"
    cfg.write_text("[covcore:report]\nfail_under = 88\n")
    res = setup("coverage")
    assert res.returncode == 2, res.output
    assert res.stdout.splitlines()[-1] == "Coverage failure: total of 87 is less than fail-under=88"


def test_reports_branch_and_source(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_pyproject")
    res = setup("coverage", "--branch", "--source=calc",
                "--report=term,xml:out/cov.xml,html:out/html,json,lcov", python="3.12")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == "\n".join([
        "Name                   Stmts   Miss Branch BrPart  Cover",
        "-" * 56,
        "src/calc/__init__.py      15      2      4      1    84%",
        "-" * 56,
        "TOTAL                     15      2      4      1    84%",
    ])
    for line in ("Wrote XML report to out/cov.xml", "Wrote HTML report to out/html/index.html",
                 "Wrote JSON report to coverage.json", "Wrote LCOV report to coverage.lcov"):
        assert line in res.stdout.splitlines(), line
    assert 'filename="src/calc/__init__.py"' in (setup.project / "out" / "cov.xml").read_text()
    assert (setup.project / "out" / "html" / "index.html").is_file()
    totals = json.loads((setup.project / "coverage.json").read_text())["totals"]
    assert (totals["num_branches"], totals["covered_branches"], totals["percent_covered_display"]) == (4, 3, "84")
    assert (setup.project / "coverage.lcov").read_text().startswith("SF:src/calc/__init__.py\n")

    # No reports at all.
    res = setup("coverage", "--report=", python="3.12")
    assert res.returncode == 0, res.output
    assert "TOTAL" not in res.output


def test_options_from_setup_cfg_and_tool_covcore(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_classic")
    # setup.cfg [coverage]: setuptools hands the section to the command.
    (setup.project / "setup.cfg").write_text(
        "[coverage]\n"
        "test_command = python -m unittest tests/test_calc.py\n"
        "branch = true\n"
        "report = term-missing, json\n"
    )
    res = setup("coverage", python="3.12")
    assert res.returncode == 0, res.output
    assert f"covcore: running {setup.pythons['3.12']} -m unittest tests/test_calc.py" in res.stdout.splitlines()
    assert report_of(res.stdout) == "\n".join([
        "Name               Stmts   Miss Branch BrPart  Cover   Missing",
        "-" * 62,
        "calc/__init__.py      15      2      4      1    84%   14, 26",  # 11->14 leads to a missed line
        "-" * 62,
        "TOTAL                 15      2      4      1    84%",
    ])
    assert "Wrote JSON report to coverage.json" in res.stdout
    # The command line wins over setup.cfg.
    res = setup("coverage", "--report=term", "--test-command=python -m unittest discover -s tests", python="3.12")
    assert res.returncode == 0, res.output
    assert res.stdout.splitlines()[-1] == "TOTAL                 15      2      4      1    84%"

    # [tool.covcore.setuptools] in pyproject.toml.
    setup = project(tmp_path, venvs, "setuptools_pyproject")
    pyproject = setup.project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'report = ["term-missing"]\n',
        'report = ["term"]\n'
        'test_command = "python -m unittest discover -s tests -p test_*.py"\n'
        "branch = true\n"
        "fail_under = 85\n",
    ))
    res = setup("coverage", python="3.12")
    assert res.returncode == 2, res.output
    assert f"covcore: running {setup.pythons['3.12']} -m unittest discover -s tests -p 'test_*.py'" in res.stdout
    assert res.stdout.splitlines()[-2:] == [
        "TOTAL                     15      2      4      1    84%",
        "Coverage failure: total of 84 is less than fail-under=85",
    ]


def test_parallel_keeps_data_files_for_combine(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_pyproject")
    for python in ("3.11", "3.12"):
        res = setup("coverage", "--parallel", "--fail-under=100", python=python)
        assert res.returncode == 0, res.output  # no fail-under on a part of the data
        assert "TOTAL" not in res.output
        assert res.stdout.splitlines()[-1] == (
            "covcore: kept 2 parallel data files beside .covcore (combine them with 'covcore combine')")
    # The tests' process and its subprocess, on each Python; the earlier
    # run's files were not erased.
    kept = sorted(p.name for p in setup.project.glob(".covcore.setuptools.*"))
    assert len(kept) == 4, kept
    assert not (setup.project / ".covcore").exists() and not (setup.project / ".covcore-setuptools").exists()
    res = setup.covcore("combine")
    assert res.returncode == 0, res.stdout + res.stderr
    # The two subprocesses measured the same lines: counted once.
    assert res.stdout.strip() == "Combined 3 files, skipped 1"
    res = setup.covcore("report", "-m", "--fail-under=90")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == calc_report(True, 1, "93%", "26")  # 3.11 + 3.12: only the dead function

    # A run without --parallel starts afresh.
    res = setup("coverage", python="3.11")
    assert res.returncode == 0, res.output
    assert report_of(res.stdout) == calc_report(True, 2, "87%", "12, 26")


def test_bad_options_are_one_line_errors(tmp_path, venvs):
    setup = project(tmp_path, venvs, "setuptools_classic")
    res = setup("coverage", "--fail-under=lots")
    assert res.returncode == 1, res.output
    assert res.stderr.strip().splitlines()[-1] == "covcore: --fail-under: 'lots' is not a number"
    assert "Traceback" not in res.output and "Ran " not in res.output  # the tests did not run

    (setup.project / "setup.cfg").write_text("[coverage]\nfail_under = 101\n")
    res = setup("coverage")
    assert res.returncode == 1, res.output
    assert res.stderr.strip().splitlines()[-1] == "covcore: --fail-under: '101' is not a percentage between 0 and 100"

    (setup.project / "setup.cfg").write_text("[covcore:setuptools]\nparallel = maybe\n")
    res = setup("coverage")
    assert res.returncode == 1, res.output
    assert res.stderr.strip().splitlines()[-1] == "covcore: [setuptools] parallel: 'maybe' is not true or false"

    (setup.project / "setup.cfg").write_text("[coverage]\n")
    res = setup("coverage", "--test-command=no-such-test-runner --all")
    assert res.returncode == 1, res.output
    assert res.stderr.strip().splitlines()[-1] == (
        "covcore: can't run the test command 'no-such-test-runner': not found")
    assert "Traceback" not in res.output
    assert not (setup.project / ".covcore-setuptools").exists()
