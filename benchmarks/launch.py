"""Running one measured process: wall time, peak RSS, CPU time, exit code.

Every measured process is started by a small C launcher (``launch.c``, built
with the machine's C compiler into ``.work/`` on first use): Linux starts a
child's peak RSS (``ru_maxrss``) at the size of the process that forked it and
keeps it across ``exec``, so a program forked straight from the benchmark's
own Python (~23 MB) measured at least that much whatever it did.  The launcher
is ~1 MB.  It also takes the wall time, from just before its fork to the
child's exit.  Without a C compiler the process is forked from here and the
peak RSS has that floor (:data:`RSS_FLOOR_NOTE` says so).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from venvs import WORK, log

HERE = Path(__file__).resolve().parent

RSS_FLOOR_NOTE = ("peak RSS is at least the benchmark's own (no C compiler for launch.c): "
                  "small programs' RSS ratios are not measured")

#: --metric instructions: each measured run is this + the command.  callgrind counts
#: every user-mode instruction of the process (not its children; none of the
#: workloads starts any), without cache simulation; the count of a
#: deterministic program is the same on every run, however busy the machine.
CALLGRIND = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
CALLGRIND_SLOWDOWN = 100  # timeouts are multiplied by this under valgrind


@dataclass
class RunResult:
    seconds: float
    rss_kb: int
    cpu: float
    code: Optional[int]  # exit code (-N: killed by signal N); None when killed by the timeout
    stdout: str
    stderr: str


@functools.lru_cache(maxsize=None)
def launcher() -> Optional[str]:
    """The launcher's executable, compiled on first use (kept per source
    hash in ``.work/``), or None without a working C compiler.  Decided
    once per process."""
    source = HERE / "launch.c"
    exe = WORK / ("launch-" + hashlib.sha256(source.read_bytes()).hexdigest()[:12])
    if not exe.exists():
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            log("WARNING: " + RSS_FLOOR_NOTE)
            return None
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_name(exe.name + ".tmp%d" % os.getpid())
        try:
            proc = subprocess.run([cc, "-O2", "-o", str(tmp), str(source)], capture_output=True, text=True)
        except OSError as exc:  # e.g. $CC names no program
            log("WARNING: %s\n%s: %s" % (RSS_FLOOR_NOTE, cc, exc.strerror or exc))
            return None
        if proc.returncode != 0:
            log("WARNING: %s\n%s" % (RSS_FLOOR_NOTE, proc.stderr.strip()))
            return None
        os.replace(tmp, exe)
    return str(exe)


def _stats(path: Path) -> Optional[tuple]:
    """The launcher's line: (exit code, wall seconds, peak RSS KiB, CPU seconds)."""
    try:
        code, wall, rss, cpu = path.read_text().split()
        return int(code), float(wall), int(rss), float(cpu)
    except (OSError, ValueError):
        return None


def run_measured(argv: list, cwd: Path, env: dict, scratch: Path, timeout: float) -> RunResult:
    """Run one process through the launcher; its wall time, its own peak RSS, its
    user+sys CPU time and exit code.  Killed (with its process group) after
    `timeout` seconds: code None."""
    out_path, err_path = scratch / "stdout.txt", scratch / "stderr.txt"
    stats_path = scratch / "launch-stats.txt"
    for stale in [*scratch.glob(".coverage*"), *scratch.glob(".covcore*"), stats_path]:
        stale.unlink(missing_ok=True)
    (scratch / "slipcover.json").unlink(missing_ok=True)
    launch = launcher()
    full = [launch, str(stats_path), *argv] if launch else argv
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        lock = threading.Lock()
        state = {"exited": False, "killed": False}

        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)

        def kill():
            with lock:
                if not state["exited"]:
                    state["killed"] = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        # Wait for the exit without reaping, so the timer can't kill a reused pid...
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        t1 = time.perf_counter()
        with lock:
            state["exited"] = True
        timer.cancel()
        # ...then reap it, getting the rusage of this one child (and its children).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    if state["killed"]:
        return RunResult(t1 - t0, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, None, *text)
    stats = _stats(stats_path) if launch else None
    if stats is None:  # no launcher (or it failed: its own message is in stderr)
        return RunResult(t1 - t0, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, proc.returncode, *text)
    code, wall, rss, cpu = stats
    return RunResult(wall, rss, cpu, code, *text)


def callgrind_total(log_path: Path) -> Optional[int]:
    """The instructions callgrind counted ("Collected : N" in its log), or None."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return None
    m = re.search(r"Collected\s*:\s*(\d+)", text)
    return int(m.group(1)) if m else None
