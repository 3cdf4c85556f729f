"""Tests of the benchmark's launcher (benchmarks/launch.c, benchmarks/launch.py):
the figures every benchmark table is made of -- exit code, wall time, and a
peak RSS that is the measured program's own, not its parent's."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
try:
    import launch
finally:
    sys.path.remove(str(BENCH))

pytestmark = pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler for benchmarks/launch.c")


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    # The launcher is compiled into a work directory of the test's own.
    monkeypatch.setattr(launch, "WORK", tmp_path / "work")
    launch.launcher.cache_clear()
    out = tmp_path / "scratch"
    out.mkdir()
    yield out
    launch.launcher.cache_clear()  # its executable goes with tmp_path


def run(scratch: Path, code: str, timeout: float = 60) -> launch.RunResult:
    return launch.run_measured([sys.executable, "-S", "-c", code], scratch, {}, scratch, timeout)


def test_exit_code_output_and_times(scratch):
    res = run(scratch, "import sys, time; print('out'); print('err', file=sys.stderr); time.sleep(0.2); sys.exit(3)")
    assert launch.launcher() is not None
    assert (res.code, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert 0.2 <= res.seconds < 30
    assert 0 <= res.cpu < res.seconds


def test_peak_rss_is_the_programs_own_not_its_parents(scratch):
    # This process holds 200 MiB more; a program forked straight from it
    # would measure at least that much.
    ballast = bytearray(200 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = run(scratch, "pass")
    big = run(scratch, "b = bytearray(100 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])")
    assert small.code == big.code == 0
    assert small.rss_kb < 60 * 1024
    # 100 MiB touched, give or take the interpreter's own pages.
    assert 95 * 1024 < big.rss_kb - small.rss_kb < 110 * 1024
    del ballast


def test_killed_by_a_signal_and_by_the_timeout(scratch):
    assert run(scratch, "import os, signal; os.kill(os.getpid(), signal.SIGTERM)").code == -15
    res = run(scratch, "import time; time.sleep(30)", timeout=0.5)
    assert res.code is None
    assert res.seconds < 10


def test_command_that_cannot_run(scratch):
    res = launch.run_measured([str(scratch / "no-such-program")], scratch, {}, scratch, 60)
    assert res.code == 127
    assert "no-such-program" in res.stderr


def test_a_compiler_that_is_not_there_is_a_warning_and_the_floor(scratch, monkeypatch, capsys):
    monkeypatch.setenv("CC", str(scratch / "no-such-cc"))
    assert launch.launcher() is None
    out = capsys.readouterr().out  # the benchmark's log
    assert launch.RSS_FLOOR_NOTE in out and "no-such-cc: No such file or directory" in out
    res = run(scratch, "import sys; sys.exit(4)")
    assert res.code == 4
