"""``--debug`` output: config, dataio, process, pid, callers; COVCORE_DEBUG_FILE."""

from __future__ import annotations

import io
import os
import re

import pytest

from cmdhelpers import clean_env, covcore, write


def test_debug_output_decorations():
    from covcore.debug import DebugOutput

    out = io.StringIO()
    DebugOutput(["pid"], stream=out).write("one\ntwo")
    lines = out.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["one", "two"]
    assert all(line.startswith(f"{os.getpid():5d}.") for line in lines)

    out = io.StringIO()
    DebugOutput(["callers"], stream=out).write("here")
    lines = out.getvalue().splitlines()
    assert lines[0] == "here"
    assert re.search(r"test_debug_output\.py:\d+ test_debug_output_decorations$", lines[-1])
    assert not any("debug.py" in line for line in lines[1:])


@pytest.mark.backend
def test_run_and_report_debug(tmp_path):
    write(tmp_path / "prog.py", "x = 1\n")
    res = covcore("run", "--debug=process,config,dataio,pid", "prog.py", cwd=tmp_path)
    assert res.rc == 0, res
    err = res.err.splitlines()
    pid = err[0].split(".", 1)[0].strip()
    assert all(line.startswith(f"{pid:>5}.") for line in err), res.err
    text = "\n".join(line.split(": ", 1)[1] if ": " in line else "" for line in err)
    assert re.search(r"New process: pid=\d+, ppid=\d+, executable=", text)
    assert "-- config " in res.err and "data_file" in res.err
    assert re.search(r"Writing data to '.*\.covcore': 1 files, 1 lines, 1 contexts", text), res.err

    res = covcore("report", "--debug=dataio", cwd=tmp_path)
    assert res.rc == 0, res
    assert re.search(r"Reading data from '.*\.covcore'\nRead data from '.*\.covcore': 1 files, 1 lines, 1 contexts",
                     res.err), res.err
    assert "prog.py" in res.out

    res = covcore("erase", "--debug=dataio", cwd=tmp_path)
    assert re.search(r"Erasing data file '.*\.covcore'", res.err), res


@pytest.mark.backend
def test_debug_file_env_and_callers(tmp_path):
    write(tmp_path / "prog.py", "x = 1\n")
    log = tmp_path / "debug.log"
    res = covcore("run", "--debug=dataio,callers", "prog.py", cwd=tmp_path,
                  env=clean_env(COVCORE_DEBUG_FILE=str(log)))
    assert res.rc == 0, res
    assert res.err == ""
    text = log.read_text()
    assert "Writing data to" in text
    assert re.search(r"\n    .*session\.py:\d+ save\n", text), text
    assert re.search(r"\n    .*cli\.py:\d+ cmd_run\n", text), text
