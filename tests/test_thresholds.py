"""Fail-under: the total (coverage.py's rules) and per-file thresholds
(``[report] fail_under_files``), on every reporting command."""

from __future__ import annotations

import pytest

from cmdhelpers import covcore, write
from reporthelpers import sample_project


def test_parse_ini_and_mappings():
    from covcore.reporting.thresholds import parse_thresholds

    text = "\n  src/*.py = 80\n  # a comment\n\n  tests/**/*.py=50.5\n"
    assert parse_thresholds(text, "opt") == {"src/*.py": 80.0, "tests/**/*.py": 50.5}
    assert parse_thresholds({"a.py": 100, "b/*": 0.5}, "opt") == {"a.py": 100.0, "b/*": 0.5}
    for bad in ("src/*.py", "src/*.py = lots", "x = 101", "= 50"):
        with pytest.raises(Exception, match="opt"):
            parse_thresholds(bad, "opt")
    with pytest.raises(Exception, match="opt"):
        parse_thresholds({"a.py": True}, "opt")


def test_config_file_forms(tmp_path):
    from covcore.config import read_config
    from covcore.errors import ConfigError

    ini = write(tmp_path / "a.ini", """\
        [report]
        fail_under_files =
            pkg/*.py = 90
            main.py = 50
        """)
    assert read_config(str(ini)).fail_under_files == {"pkg/*.py": 90.0, "main.py": 50.0}
    toml = write(tmp_path / "b.toml", """\
        [tool.covcore.report]
        fail_under_files = { "pkg/*.py" = 90, "main.py" = 50 }
        """)
    assert read_config(str(toml)).fail_under_files == {"pkg/*.py": 90.0, "main.py": 50.0}
    table = write(tmp_path / "c.toml", """\
        [tool.covcore.report.fail_under_files]
        "pkg/*.py" = 75.5
        """)
    assert read_config(str(table)).fail_under_files == {"pkg/*.py": 75.5}
    bad = write(tmp_path / "d.ini", "[report]\nfail_under_files =\n    pkg/*.py = ninety\n")
    with pytest.raises(ConfigError, match=r"\[report\] fail_under_files.*d\.ini"):
        read_config(str(bad))
    assert read_config(False).fail_under_files == {}


def test_failures_first_glob_wins_and_precision():
    from covcore.analysis import Numbers
    from covcore.reporting.thresholds import file_threshold_failures

    def nums(run, stmts):
        return Numbers(n_files=1, n_statements=stmts, n_missing=stmts - run)

    files = [("src/a.py", "/w/src/a.py", nums(71, 100)), ("src/b.py", "/w/src/b.py", nums(95, 100)),
             ("lib/c.py", "/w/lib/c.py", nums(1, 3))]
    thresholds = {"src/a.py": 70, "src/*.py": 80, "*/c.py": 33.3}
    # a.py matches "src/a.py" first (70): passes.  b.py: 95 >= 80.  c.py: 33.33 rounds to 33.3 at 1 decimal.
    assert file_threshold_failures(files, thresholds, 0) == []
    assert file_threshold_failures(files, {"src/*.py": 80, "*/c.py": 34}, 0) == [
        "Coverage failure: src/a.py total of 71 is less than fail-under=80 (src/*.py)",
        "Coverage failure: lib/c.py total of 33 is less than fail-under=34 (*/c.py)",
    ]
    assert file_threshold_failures(files, {"src/a.py": 71.5}, 0) == [
        "Coverage failure: src/a.py total of 71.0 is less than fail-under=71.5 (src/a.py)"]
    assert file_threshold_failures(files, {"src/b.py": 100}, 2) == [
        "Coverage failure: src/b.py total of 95.00 is less than fail-under=100.00 (src/b.py)"]


SAMPLE_NUMBERS = "main.py 100%, pkg/__init__.py 100%, pkg/shapes.py 37/47 = 78.7%, total 44/54 = 81.5%"


@pytest.mark.backend
@pytest.mark.parametrize("command", ["report", "html", "xml", "json", "lcov"])
def test_every_report_command_checks(tmp_path, command):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0, SAMPLE_NUMBERS
    quiet = [] if command == "report" else ["-q"]
    res = covcore(command, *quiet, "--fail-under=80", cwd=work)
    assert res.rc == 0, res
    res = covcore(command, *quiet, "--fail-under=82", cwd=work)
    assert res.rc == 2, res
    assert res.out.splitlines()[-1] == "Coverage failure: total of 81 is less than fail-under=82"
    write(work / ".covcorerc", """\
        [report]
        fail_under = 90
        fail_under_files =
            main.py = 100
            pkg/*.py = 80
        """)
    res = covcore(command, *quiet, cwd=work)
    assert res.rc == 2, res
    assert res.out.splitlines()[-2:] == [
        "Coverage failure: total of 81 is less than fail-under=90",
        "Coverage failure: pkg/shapes.py total of 79 is less than fail-under=80 (pkg/*.py)",
    ]
    res = covcore(command, *quiet, "--fail-under=0", cwd=work)
    assert res.rc == 2 and res.out.splitlines()[-1].startswith("Coverage failure: pkg/shapes.py"), res
    write(work / ".covcorerc", "[report]\nfail_under_files =\n    pkg/*.py = 78.7\n")
    res = covcore(command, *quiet, cwd=work)
    assert res.rc == 0, res
    res = covcore(command, *quiet, "--omit=pkg/shapes.py", "--fail-under=100", cwd=work)
    assert res.rc == 0, res


@pytest.mark.backend
def test_precision_rules_and_api(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0
    res = covcore("report", "--fail-under=81.49", cwd=work)
    assert res.rc == 2 and res.out.splitlines()[-1] == (
        "Coverage failure: total of 81.48 is less than fail-under=81.49"), res
    assert covcore("report", "--fail-under=81.48", cwd=work).rc == 0
    res = covcore("json", "-q", "--fail-under=100", cwd=work)
    assert res.out == "Coverage failure: total of 81 is less than fail-under=100\n"

    import os

    old = os.getcwd()
    os.chdir(work)
    try:
        import covcore as api

        cov = api.Coverage(config_file=False)
        cov.load()
        cov.set_option("report:fail_under_files", {"pkg/*.py": 90})
        total = cov.json_report(outfile=os.devnull)
        assert cov.fail_under_messages(total) == [
            "Coverage failure: pkg/shapes.py total of 79 is less than fail-under=90 (pkg/*.py)"]
        assert cov.fail_under_messages(total, fail_under=95) == [
            "Coverage failure: total of 81 is less than fail-under=95",
            "Coverage failure: pkg/shapes.py total of 79 is less than fail-under=90 (pkg/*.py)"]
    finally:
        os.chdir(old)


def test_output_to_a_device_writes_through_it(tmp_path):
    """Reporting to /dev/null (or a FIFO) writes to it; it is never replaced by a file."""
    import os
    import stat
    import threading

    from covcore.reporting.output import open_output

    with open_output(os.devnull) as f:
        f.write("discarded")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    with open_output(str(fifo)) as f:
        f.write("through the pipe")
    reader.join(10)
    assert got == ["through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
