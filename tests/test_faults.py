"""Process faults: simultaneous writers, SIGKILL while saving, abnormal exits,
an unwritable data file, and measured code that disturbs measurement
(issue 9, "Faults").  Every test runs real processes.

Cases already covered elsewhere: ``covcore run`` of a program that ends with
``os._exit(7)`` or kills itself with SIGTERM is
``test_processes.py::test_os_exit_and_sigterm_keep_data``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from cmdhelpers import clean_env, covcore, coveragepy, write

COVCORE = [sys.executable, "-m", "covcore"]


def _lines(data_file, name):
    """The executed lines of the measured file called `name` in a data file."""
    from covcore.dataread import read_data_file

    data = read_data_file(str(data_file))
    found = {os.path.basename(f): f for f in data.measured_files()}
    return set(data.lines(found[name]))


def _backend():
    """The backend the covcore processes of this test run will use."""
    from covcore.backend import choose_backend

    return choose_backend().name


# -- 1. many processes saving at the same moment ---------------------------


def test_simultaneous_parallel_writers_lose_nothing(tmp_path):
    n = 16
    # f0..f17; only f0..f15 are called, one per process: line 2*i+2 is
    # executed by process i alone.
    write(tmp_path / "shared.py", "".join(f"def f{i}():\n    return {i}\n" for i in range(n + 2)))
    write(tmp_path / "w.py", """\
        import sys
        import shared
        i = int(sys.argv[1])
        print("ready", flush=True)
        sys.stdin.read()
        getattr(shared, f"f{i}")()
    """)
    procs = [
        subprocess.Popen(COVCORE + ["run", "-p", "w.py", str(i)], cwd=tmp_path, env=clean_env(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(n)
    ]
    try:
        # The barrier: every process is blocked reading its stdin...
        assert [p.stdout.readline() for p in procs] == ["ready\n"] * n
        # ...until all are released at once; each then runs its function and saves.
        for p in procs:
            p.stdin.close()
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert results == [(0, "", "")] * n
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == n
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, f"Combined {n} files\n", "")
    assert _lines(tmp_path / ".covcore", "shared.py") == (
        {2 * i + 1 for i in range(n + 2)} | {2 * i + 2 for i in range(n)})
    assert _lines(tmp_path / ".covcore", "w.py") == {1, 2, 3, 4, 5, 6}


# -- 2. SIGKILL while saving ------------------------------------------------

# Enough measured files that saving takes a while (tens of milliseconds).
N_MODULES = 600


def _kill_while_saving(cwd, args, delay):
    """Run covcore with `args`; once its temporary data file appears, wait
    `delay` seconds and SIGKILL it.  Returns the exit code (-9 if killed)."""
    data_dir = cwd / "data"
    proc = subprocess.Popen(COVCORE + args, cwd=cwd, env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        before = set(os.listdir(data_dir))
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if any(".tmp-" in name for name in set(os.listdir(data_dir)) - before):
                end = time.perf_counter() + delay
                while time.perf_counter() < end:
                    pass
                proc.send_signal(signal.SIGKILL)
                break
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_while_saving_leaves_old_or_new_data(tmp_path):
    from covcore.dataread import read_data_file

    for i in range(N_MODULES):
        write(tmp_path / "mods" / f"m{i}.py", "a = 1\nb = 2\nc = 3\n")
    write(tmp_path / "big.py", """\
        import sys
        import importlib
        sys.path.insert(0, "mods")
        if sys.argv[1] == "old":
            old = True
        else:
            new = True
        for i in range(600):
            importlib.import_module(f"m{i}")
    """)
    write(tmp_path / "other.py", """\
        import sys
        n = int(sys.argv[1])
        if n == 0:
            zero = True
        elif n == 1:
            one = True
        else:
            two = True
    """)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    victim = data_dir / ".covcore.victim"
    run_victim = ["run", f"--data-file={victim}", "big.py"]
    old_lines, new_lines = {1, 2, 3, 4, 5, 8, 9}, {1, 2, 3, 4, 7, 8, 9}
    # The old data file, complete.
    assert subprocess.run(COVCORE + run_victim + ["old"], cwd=tmp_path, env=clean_env(),
                          capture_output=True).returncode == 0
    assert _lines(victim, "big.py") == old_lines
    old_bytes = victim.read_bytes()
    outcomes = []
    for delay in (0.0, 0.0, 0.0, 0.001, 0.003, 0.01, 0.05):
        victim.write_bytes(old_bytes)
        before = {p.name for p in data_dir.iterdir() if ".tmp-" in p.name}
        rc = _kill_while_saving(tmp_path, run_victim + ["new"], delay)
        left = {p.name for p in data_dir.iterdir() if ".tmp-" in p.name} - before
        # Whatever the moment of the kill, the data file is complete: killed
        # before the rename (its temporary file is left), the old file is
        # untouched; after it, the new file is all there.
        if left:
            assert (rc, victim.read_bytes()) == (-signal.SIGKILL, old_bytes)
        else:
            assert len(read_data_file(str(victim)).measured_files()) == N_MODULES + 1
            assert _lines(victim, "big.py") == new_lines
        outcomes.append(len(left))
    # At least one kill hit a save in the middle.
    assert set(outcomes) - {0}, outcomes
    victim_lines = _lines(victim, "big.py")
    # The other processes' data, then combine: the temporary files are
    # neither read nor warned about, and nothing is lost.
    for n in range(3):
        res = covcore("run", "-p", f"--data-file={data_dir / '.covcore'}", "other.py", str(n), cwd=tmp_path)
        assert (res.rc, res.err) == (0, ""), res
    res = covcore("combine", f"--data-file={data_dir / '.covcore'}", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, "Combined 4 files\n", ""), res
    combined = data_dir / ".covcore"
    assert _lines(combined, "other.py") == {1, 2, 3, 4, 5, 6, 8}
    assert _lines(combined, "big.py") == victim_lines
    assert _lines(combined, "m599.py") == {1, 2, 3}
    assert len(read_data_file(str(combined)).measured_files()) == N_MODULES + 2
    temps = sorted(p.name for p in data_dir.iterdir() if ".tmp-" in p.name)
    assert len(temps) == sum(outcomes)
    # The temporary files' writers are dead: erase removes them too.
    res = covcore("erase", f"--data-file={data_dir / '.covcore'}", cwd=tmp_path)
    assert (res.rc, res.err) == (0, "")
    assert sorted(os.listdir(data_dir)) == []


def test_erase_keeps_a_live_writers_temporary_file(tmp_path):
    from covcore.datafiles import dead_temp_files

    live = tmp_path / f".covcore.tmp-{os.uname().nodename}-{os.getpid()}-1"
    elsewhere = tmp_path / f".covcore.h.1.X000001.tmp-another-host-{os.getpid() + 1}-2"
    for path in (live, elsewhere):
        path.write_bytes(b"")
    sleeper = subprocess.Popen([sys.executable, "-c", "pass"])
    sleeper.wait()  # its process id is now free
    dead = tmp_path / f".covcore.h.1.X000001.tmp-{os.uname().nodename}-{sleeper.pid}-3"
    dead.write_bytes(b"")
    assert dead_temp_files(str(tmp_path / ".covcore")) == [str(dead)]
    res = covcore("erase", cwd=tmp_path)
    assert (res.rc, res.err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, elsewhere.name])


# -- 3. abnormal exits --------------------------------------------------------

_EXIT_PROGRAM = """\
import os, signal, sys
def before():
    return 1
before()
print("ready", flush=True); sys.stdin.readline()
{statement}
print("never")
"""

_EXITS = {
    # kind: (statement on line 6, exit code, line 6 runs)
    "exception": ('raise ValueError("boom")', 1, True),
    "sys_exit": ("sys.exit(3)", 3, True),
    "os_exit": ("os._exit(7)", 7, True),
    "sigterm": ("pass", -signal.SIGTERM, False),
}


def _run_until_exit(cmd, cwd, env, kind):
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        if kind == "sigterm":
            proc.send_signal(signal.SIGTERM)  # on line 5, whose LINE event came before "ready"
        else:
            proc.stdin.write("go\n")
        proc.stdin.close()
        out, err = proc.stdout.read(), proc.stderr.read()
        return proc.wait(timeout=60), out, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.backend
@pytest.mark.parametrize("how, kind", [
    ("run", "exception"), ("run", "sys_exit"),  # os._exit, SIGTERM: test_processes.py
    ("subprocess", "exception"), ("subprocess", "sys_exit"), ("subprocess", "os_exit"), ("subprocess", "sigterm"),
])
def test_abnormal_exit_saves_data_and_keeps_exit_code(tmp_path, how, kind):
    statement, code, line6 = _EXITS[kind]
    write(tmp_path / "prog.py", _EXIT_PROGRAM.format(statement=statement))
    plain = _run_until_exit([sys.executable, "prog.py"], tmp_path, clean_env(), kind)
    assert plain[0] == code
    if how == "run":
        ours = _run_until_exit(COVCORE + ["run", "prog.py"], tmp_path, clean_env(), kind)
        data_file = tmp_path / ".covcore"
    else:
        write(tmp_path / ".covcorerc", "[run]\nsource = .\npatch = _exit\n")
        env = clean_env(COVCORE_PROCESS_START=str(tmp_path / ".covcorerc"))
        ours = _run_until_exit([sys.executable, "prog.py"], tmp_path, env, kind)
        assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == 1
        assert covcore("combine", cwd=tmp_path).rc == 0
        data_file = tmp_path / ".covcore"
    # Same exit code, same output, and the same stderr (a traceback exactly
    # as Python prints it), with nothing added by covcore.
    assert ours == plain
    if kind == "exception":
        assert plain[2].startswith("Traceback (most recent call last):\n")
        assert plain[2].endswith("ValueError: boom\n")
    assert _lines(data_file, "prog.py") == {1, 2, 3, 4, 5} | ({6} if line6 else set())


def _has_sigterm_guard():
    try:
        from covcore import _tracer
    except ImportError:
        return False
    return sys.platform.startswith("linux") and hasattr(_tracer, "sigterm_guard_install")


_needs_guard = pytest.mark.skipif(not _has_sigterm_guard(), reason="the SIGTERM guard is the compiled extension's, on Linux")


@_needs_guard
def test_sigterm_that_wakes_nothing_still_ends_the_process(tmp_path):
    # The SIGTERM reaches another thread while the main thread is blocked on
    # a lock: CPython notes it, but nothing wakes the main thread to run a
    # Python-level handler (the same as a SIGTERM landing just before a pool
    # worker blocks on its queue's lock).  With a plain Python handler this
    # program never ends; covcore's guard repeats the signal to the main
    # thread, whose handler saves the data, and the process dies of SIGTERM.
    write(tmp_path / "blocked.py", """\
        import signal, threading, time
        lock = threading.Lock()
        lock.acquire()

        def poke():
            time.sleep(1)  # (the main thread is blocked by then)
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

        threading.Thread(target=poke).start()
        lock.acquire()
        print("never")
    """)
    started = time.monotonic()
    proc = subprocess.run(COVCORE + ["run", "blocked.py"], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (-signal.SIGTERM, "", "")
    assert time.monotonic() - started < 20
    assert _lines(tmp_path / ".covcore", "blocked.py") == {1, 2, 3, 5, 6, 7, 9, 10}


@_needs_guard
def test_sigterm_during_a_long_c_call_gives_up_after_5_seconds(tmp_path):
    # A C call that never returns to Python leaves the handler no chance to
    # run: after 5 s of repeating the signal the guard lets SIGTERM's default
    # action end the process, as it would without covcore (and the data is
    # not saved: nothing can save it).
    write(tmp_path / "busy.py", 'print("start", flush=True)\nsum(range(10**12))\n')
    proc = subprocess.Popen(COVCORE + ["run", "busy.py"], cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "start\n"
        time.sleep(1)  # (it is in sum() by then)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == -signal.SIGTERM
        assert 4.5 < time.monotonic() - started < 30
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (tmp_path / ".covcore").exists()


@_needs_guard
def test_sigterm_guard_follows_fork_and_handler_changes(tmp_path):
    write(tmp_path / "forks.py", """\
        import os, signal
        from covcore import _tracer
        print("parent", _tracer.sigterm_guard_active())
        pid = os.fork()
        if pid == 0:
            print("child", _tracer.sigterm_guard_active(), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        signal.signal(signal.SIGTERM, lambda *a: None)
        print("own handler", _tracer.sigterm_guard_active())
    """)
    res = covcore("run", "forks.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, "parent True\nchild True\nown handler False\n", ""), res


# -- 4. the data file can't be written ---------------------------------------

_PROGRAMS = {
    # name: (source, the program's own exit code)
    "ok": ('print("out")\n', 0),
    "sys_exit": ('import sys\nprint("out")\nsys.exit(3)\n', 3),
    "exception": ('print("out")\nraise ValueError("boom")\n', 1),
    "os_exit_0": ('import os\nprint("out", flush=True)\nos._exit(0)\n', 0),
    "os_exit_7": ('import os\nprint("out", flush=True)\nos._exit(7)\n', 7),
}


def _unwritable(tmp_path, how, request):
    """Make a data file name that can't be written; returns (name, reason,
    preexec_fn for the covcore process)."""
    if how == "not_a_directory":
        write(tmp_path / "afile", "")
        return str(tmp_path / "afile" / ".covcore"), "Not a directory", None
    if how == "read_only_directory":
        ro = tmp_path / "ro"
        ro.mkdir()
        if os.geteuid() != 0:
            ro.chmod(0o555)
            return str(ro / ".covcore"), "Permission denied", None
        # Root writes into any mode-0555 directory; an immutable one
        # (chattr +i) refuses even root, with EPERM.
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(ro)], capture_output=True).returncode:
            pytest.skip("root writes into read-only directories, and chattr +i is not available here")
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(ro)], check=True))
        return str(ro / ".covcore"), "Operation not permitted", None
    if how == "not_a_regular_file":
        (tmp_path / "adir").mkdir()
        return str(tmp_path / "adir"), "it exists and is not a regular file", None
    assert how == "disk_full"

    def limit_file_size():
        # No file may grow: writing fails with EFBIG, as a full disk fails with ENOSPC.
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    return str(tmp_path / ".covcore"), "File too large", limit_file_size


@pytest.mark.parametrize("how", ["not_a_directory", "read_only_directory", "not_a_regular_file", "disk_full"])
@pytest.mark.parametrize("program", sorted(_PROGRAMS))
def test_unwritable_data_file_is_one_clear_error(tmp_path, how, program, request):
    source, own_code = _PROGRAMS[program]
    write(tmp_path / "prog.py", source)
    data_file, reason, preexec = _unwritable(tmp_path, how, request)
    plain = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=clean_env(), capture_output=True,
                           text=True)
    proc = subprocess.run(COVCORE + ["run", f"--data-file={data_file}", "prog.py"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, preexec_fn=preexec)
    # The program's output is intact, its own failure code stands (else 1),
    # and covcore adds one line naming the file and the problem.
    assert (proc.returncode, proc.stdout) == (own_code or 1, plain.stdout) == (own_code or 1, "out\n")
    assert proc.stderr == plain.stderr + f"covcore: Couldn't write data file {data_file!r}: {reason}\n"
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


@pytest.mark.parametrize("program", ["ok", "sys_exit", "os_exit_7"])
def test_unwritable_data_file_in_measured_subprocess(tmp_path, program):
    source, own_code = _PROGRAMS[program]
    write(tmp_path / "prog.py", source)
    write(tmp_path / "afile", "")
    write(tmp_path / ".covcorerc", "[run]\ndata_file = afile/.covcore\npatch = _exit\n")
    env = clean_env(COVCORE_PROCESS_START=str(tmp_path / ".covcorerc"))
    proc = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    # A measured subprocess saves at exit: one line, no traceback, and the
    # process keeps its own exit code (README, "Exit codes").
    assert (proc.returncode, proc.stdout) == (own_code, "out\n")
    assert re.fullmatch(
        rf"covcore: Couldn't write data file '{re.escape(str(tmp_path))}/afile/\.covcore\.[^']+': Not a directory\n",
        proc.stderr,
    ), proc.stderr


# -- 5. measured code that disturbs measurement ------------------------------

_REFERENCE_CORE = {"ctrace": "ctrace", "probe": "ctrace", "python": "pytrace", "sysmon": "sysmon"}


def _compare_with_coveragepy(tmp_path, program, branch, *args):
    """Run `program` under covcore and under coverage.py (same core); both
    JSON reports' lines and branches.  Returns (ours, theirs, covcore's stderr)."""
    opts = ["--branch"] if branch else []
    ours = covcore("run", *opts, program, *args, cwd=tmp_path)
    theirs = coveragepy("run", *opts, program, *args, cwd=tmp_path,
                        env=clean_env(COVERAGE_CORE=_REFERENCE_CORE[_backend()]))
    assert ours.rc == theirs.rc == 0, (ours, theirs)
    assert ours.out == theirs.out
    keys = ("executed_lines", "missing_lines", "executed_branches", "missing_branches")

    def summary(result):
        assert result.rc == 0, result
        return {name: {k: v for k, v in data.items() if k in keys} for name, data in json.loads(result.out)["files"].items()}

    return (summary(covcore("json", "-o", "-", cwd=tmp_path)), summary(coveragepy("json", "-o", "-", cwd=tmp_path)),
            ours.err)


@pytest.mark.backend
def test_program_replacing_the_trace_function(tmp_path):
    write(tmp_path / "st.py", """\
        import sys
        def a():
            return 1
        a()
        def other(frame, event, arg):
            return None
        sys.settrace(other)
        def b():
            return 2
        b()
        sys.settrace(None)
        x = 3
    """)
    res = covcore("run", "st.py", cwd=tmp_path)
    assert res.rc == 0, res
    backend = _backend()
    lines = _lines(tmp_path / ".covcore", "st.py")
    if backend == "sysmon":
        # sys.settrace doesn't touch sys.monitoring: nothing is disturbed.
        assert (res.err, lines) == ("", {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12})
        return
    if backend == "probe":
        # Nor probes; and `other`'s own line 6 runs (as a trace function,
        # which sys.monitoring doesn't see), so its probe records it.
        assert (res.err, lines) == ("", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
        return
    # One warning; what ran before sys.settrace(other) is kept.
    tracer = "CTracer" if backend == "ctrace" else "bound method PyTracer._global_trace of <PyTracer"
    assert re.fullmatch(rf"covcore: Warning: Trace function changed, data is likely wrong: "
                        rf"None != <{tracer} at 0x[0-9a-f]+: .*> \(trace-changed\)\n", res.err), res.err
    if backend == "ctrace":
        assert lines == {1, 2, 3, 4, 5, 7}
    else:
        # The module frame's own (local) trace function keeps receiving its
        # line events through `other` until sys.settrace(None), as with coverage.py's.
        assert lines == {1, 2, 3, 4, 5, 7, 8, 10, 11}


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is Python 3.12+")
@pytest.mark.backend
def test_program_using_sys_monitoring(tmp_path):
    if _backend() != "sysmon":
        pytest.skip("covcore's sys.monitoring backend only")
    write(tmp_path / "mon.py", """\
        import sys
        mon = sys.monitoring
        def a(n):
            if n:
                return 1
            return 0
        a(1)
        mon.use_tool_id(mon.PROFILER_ID, "prof")
        starts = []
        mon.register_callback(mon.PROFILER_ID, mon.events.PY_START, lambda code, off: starts.append(code.co_name))
        mon.set_events(mon.PROFILER_ID, mon.events.PY_START)
        a(0)
        mon.set_events(mon.PROFILER_ID, 0)
        mon.free_tool_id(mon.PROFILER_ID)
        try:
            mon.use_tool_id(mon.COVERAGE_ID, "mine")
        except ValueError as exc:
            print(starts, exc)
    """)
    for branch in ([], ["--branch"]):
        res = covcore("run", *branch, "mon.py", cwd=tmp_path)
        # Another tool beside covcore's: no warning, every line measured;
        # covcore's own tool id is not the program's to take.
        assert (res.rc, res.out, res.err) == (0, "['a'] tool 1 is already in use\n", ""), res
        assert _lines(tmp_path / ".covcore", "mon.py") == set(range(1, 19))
    # The program frees covcore's tool id: no crash, a warning, and what ran
    # before is kept (code first run after it is not measured).
    write(tmp_path / "free.py", """\
        import sys
        mon = sys.monitoring
        def a(n):
            if n:
                return 1
            return 0
        a(1)
        mon.free_tool_id(mon.COVERAGE_ID)
        a(0)
        def later():
            return 3
        later()
        print("done")
    """)
    for branch in ([], ["--branch"]):
        res = covcore("run", *branch, "free.py", cwd=tmp_path)
        assert (res.rc, res.out, res.err) == (
            0, "done\n", "covcore: Warning: Trace function changed, data is likely wrong: "
                         "sys.monitoring tool id 1 now belongs to None (trace-changed)\n"), res
        lines = _lines(tmp_path / ".covcore", "free.py")
        assert {1, 2, 3, 4, 5, 7, 8} <= lines and 11 not in lines


@pytest.mark.backend
def test_recursion_near_the_limit(tmp_path):
    write(tmp_path / "rec.py", """\
        import sys

        def depth():
            n = 0
            f = sys._getframe()
            while f is not None:
                n += 1
                f = f.f_back
            return n

        def down(n, limit):
            if n >= limit:
                return n
            return down(n + 1, limit)

        def overflow(n):
            return overflow(n + 1)

        limit = sys.getrecursionlimit() - 6
        print(down(depth(), limit) == limit)
        try:
            overflow(0)
        except RecursionError:
            print("caught")
        print(down(0, 10))
    """)
    ours, theirs, err = _compare_with_coveragepy(tmp_path, "rec.py", True)
    executed = set(ours["rec.py"]["executed_lines"])
    if _backend() == "python":
        # A Python trace function needs stack of its own: the RecursionError
        # reaches it and Python removes it.  As with coverage.py, a warning,
        # and what ran until then is kept.
        assert ours == theirs
        assert {1, 3, 11, 12, 13, 14, 16, 17, 19, 20, 21, 22} <= executed
        assert err.startswith("covcore: Warning: Trace function changed, data is likely wrong: None != ")
    else:
        assert err == ""
        assert ours["rec.py"]["missing_lines"] == [] and ours["rec.py"]["missing_branches"] == []
        assert ours == theirs


@pytest.mark.backend
@pytest.mark.parametrize("branch", [False, True])
def test_thousands_of_threads(tmp_path, branch):
    n = 2000
    # Thread i alone runs line 2*i+2 of funcs.py.
    write(tmp_path / "funcs.py", "".join(f"def t{i}(hits):\n    hits[{i}] = {i}\n" for i in range(n)))
    write(tmp_path / "thr.py", f"""\
        import threading
        import funcs

        hits = [None] * {n}

        def work(i):
            if i % 2:
                getattr(funcs, f"t{{i}}")(hits)
            else:
                getattr(funcs, f"t{{i}}")(hits)

        threads = [threading.Thread(target=work, args=(i,)) for i in range({n})]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(hits == list(range({n})))
    """)
    ours, theirs, err = _compare_with_coveragepy(tmp_path, "thr.py", branch)
    assert err == ""
    for name in ("funcs.py", "thr.py"):
        assert ours[name]["missing_lines"] == [] and ours[name].get("missing_branches", []) == []
    assert len(ours["funcs.py"]["executed_lines"]) == 2 * n
    assert ours == theirs


@pytest.mark.backend
@pytest.mark.parametrize("branch", [False, True])
def test_abandoned_generators_and_coroutines(tmp_path, branch):
    write(tmp_path / "gen.py", """\
        import asyncio
        import gc

        def numbers():
            try:
                yield 1
                yield 2
                print("not reached")
            finally:
                print("gen cleanup")

        def plain(n):
            for i in range(n):
                if i == 5:
                    return "five"
                yield i
            return "end"

        async def agen():
            try:
                yield 1
                yield 2
            finally:
                print("agen cleanup")

        async def coro():
            await asyncio.sleep(0)
            return 1

        def drop_generators():
            g = numbers()
            next(g)
            del g
            p = plain(10)
            next(p)
            p = None
            c = coro()
            c.send(None)
            c.close()
            cycle = [plain(3)]
            next(cycle[0])
            cycle.append(cycle)
            del cycle
            gc.collect()

        async def drop_async():
            a = agen()
            await a.__anext__()
            await a.aclose()
            b = agen()
            await b.__anext__()
            del b
            gc.collect()

        drop_generators()
        asyncio.run(drop_async())
    """)
    ours, theirs, err = _compare_with_coveragepy(tmp_path, "gen.py", branch)
    assert err == ""
    assert ours == theirs
    assert {8, 15, 17} <= set(ours["gen.py"]["missing_lines"])
