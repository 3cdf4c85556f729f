"""Many processes: subprocesses, multiprocessing, fork, os._exit, SIGTERM, combine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from cmdhelpers import clean_env, covcore, write

pytestmark = pytest.mark.backend


def _report_lines(tmp_path, *args):
    res = covcore("report", "-m", *args, cwd=tmp_path)
    assert res.rc == 0, res
    return {line.split()[0]: line.split()[1:] for line in res.out.splitlines()[2:-2]}


def test_subprocess_patch_measures_children(tmp_path):
    write(tmp_path / ".covcorerc", "[run]\npatch = subprocess\nsource = .\n")
    write(tmp_path / "child.py", """\
        import sys
        def work(n):
            if n:
                return n + 1
            return 1
        print("child", work(int(sys.argv[1])))
    """)
    write(tmp_path / "parent.py", """\
        import subprocess, sys
        for i in range(2):
            subprocess.run([sys.executable, "child.py", str(i)], check=True)
    """)
    res = covcore("run", "parent.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "child 1\nchild 2\n"), res
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".covcore."))
    assert len(files) == 3  # parent + two children, each its own parallel file
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 3 files\n"), res
    assert _report_lines(tmp_path) == {"child.py": ["6", "0", "100%"], "parent.py": ["3", "0", "100%"]}


def test_process_start_env_in_plain_python(tmp_path):
    write(tmp_path / ".covcorerc", "[run]\nsource = .\n")
    write(tmp_path / "prog.py", "def f():\n    return 1\nf()\n")
    env = clean_env(COVCORE_PROCESS_START=str(tmp_path / ".covcorerc"))
    proc = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == 1
    assert covcore("combine", cwd=tmp_path).rc == 0
    assert _report_lines(tmp_path) == {"prog.py": ["3", "0", "100%"]}


def test_unset_variable_costs_nothing(tmp_path):
    write(tmp_path / "prog.py", "import sys\nprint('covcore.process' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert proc.stdout == "False\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".covcore")]


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_start_methods(tmp_path, method):
    write(tmp_path / ".covcorerc", "[run]\nconcurrency = multiprocessing\nsource = .\n")
    write(tmp_path / "mp.py", f"""\
        import multiprocessing

        def square(x):
            return x * x

        def cube(x):
            return x * x * x

        if __name__ == "__main__":
            multiprocessing.set_start_method({method!r})
            with multiprocessing.Pool(2) as pool:
                print(sum(pool.map(square, range(5))))
            p = multiprocessing.Process(target=cube, args=(2,))
            p.start()
            p.join()
    """)
    res = covcore("run", "mp.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "30\n"), res
    res = covcore("combine", cwd=tmp_path)
    assert res.rc == 0, res
    assert _report_lines(tmp_path) == {"mp.py": ["12", "0", "100%"]}


def test_os_fork_child_writes_its_own_data(tmp_path):
    write(tmp_path / "forker.py", """\
        import os

        def in_child():
            return "child"

        def in_parent():
            return "parent"

        pid = os.fork()
        if pid == 0:
            in_child()
            os._exit(0)
        os.waitpid(pid, 0)
        in_parent()
    """)
    res = covcore("run", "-p", "forker.py", cwd=tmp_path)
    assert res.rc == 0, res
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == 2
    assert covcore("combine", cwd=tmp_path).rc == 0
    assert _report_lines(tmp_path) == {"forker.py": ["11", "0", "100%"]}


def test_os_exit_and_sigterm_keep_data(tmp_path):
    write(tmp_path / "exits.py", "import os\nprint('x', flush=True)\nos._exit(7)\nprint('never')\n")
    res = covcore("run", "exits.py", cwd=tmp_path)
    assert (res.rc, res.out) == (7, "x\n")
    assert _report_lines(tmp_path) == {"exits.py": ["4", "1", "75%", "4"]}
    write(tmp_path / "term.py", "import os, signal\nprint('y', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\nprint('never')\n")
    proc = subprocess.run([sys.executable, "-m", "covcore", "run", "term.py"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGTERM
    assert proc.stdout == "y\n"
    assert _report_lines(tmp_path) == {"term.py": ["4", "1", "75%", "4"]}


def test_sigterm_right_after_fork_still_kills_the_child(tmp_path):
    # CPython drops the signals that reach a forked child before it ran
    # PyOS_AfterFork_Child (bpo-9535).  With covcore's Python-level SIGTERM
    # handler, a child killed at once would live on (29 of 30 here, before
    # the fix); covcore blocks SIGTERM across fork(),
    # so every child dies of it, as without covcore, and the program's signal
    # mask is what it was.
    write(tmp_path / "killer.py", """\
        import os, signal, time
        survived = 0
        for _ in range(30):
            pid = os.fork()
            if pid == 0:
                time.sleep(1)
                os._exit(0)
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
            survived += not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
        print("survived", survived, sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
    """)
    res = covcore("run", "killer.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "survived 0 []\n"), res


def test_reporting_combines_parallel_files_first(tmp_path):
    write(tmp_path / "a.py", "x = 1\n")
    covcore("run", "-p", "a.py", cwd=tmp_path)
    res = covcore("report", cwd=tmp_path)
    assert res.rc == 0
    assert res.out.splitlines()[0] == "Combined 1 file"
    assert res.out.splitlines()[3].split() == ["a.py", "1", "0", "100%"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".covcore")] == [".covcore"]


def test_combine_command_options(tmp_path):
    write(tmp_path / "a.py", "import sys\nif sys.argv[1:]:\n    x = 1\nelse:\n    x = 2\n")
    covcore("run", "-p", "a.py", cwd=tmp_path)
    covcore("run", "-p", "a.py", "arg", cwd=tmp_path)
    res = covcore("combine", "--keep", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 2 files\n")
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == 2
    res = covcore("combine", "-q", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "")
    assert _report_lines(tmp_path) == {"a.py": ["4", "0", "100%"]}
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.err) == (1, "covcore: No data to combine\n")
    covcore("run", "-p", "a.py", cwd=tmp_path)
    assert covcore("combine", "--append", cwd=tmp_path).rc == 0
    assert _report_lines(tmp_path) == {"a.py": ["4", "0", "100%"]}


def test_combine_from_another_machine_with_paths(tmp_path):
    # Data measured on "another machine" where the project lived in /ci/build/src.
    from covcore.data import CoverageData

    write(tmp_path / "src" / "pkg" / "__init__.py", "")
    write(tmp_path / "src" / "pkg" / "mod.py", "a = 1\nb = 2\nc = 3\n")
    other = CoverageData(basename=str(tmp_path / "artifacts" / ".covcore.ci-1"))
    os.makedirs(tmp_path / "artifacts")
    other.add_lines({"/ci/build/src/pkg/mod.py": {1, 2}, "/ci/build/src/pkg/__init__.py": set()})
    other.write()
    venv = CoverageData(basename=str(tmp_path / "artifacts" / ".covcore.ci-2"))
    venv.add_lines({"/home/u/.tox/py312/lib/python3.12/site-packages/pkg/mod.py": {3}})
    venv.write()
    write(tmp_path / ".covcorerc", "[paths]\nsource =\n    src/\n    /ci/build/src/\n")
    res = covcore("combine", "artifacts", cwd=tmp_path)
    assert res.rc == 0, res
    assert _report_lines(tmp_path) == {"src/pkg/__init__.py": ["0", "0", "100%"], "src/pkg/mod.py": ["3", "0", "100%"]}


def test_debug_pathmap_explains(tmp_path):
    from covcore.data import CoverageData

    write(tmp_path / "src" / "m.py", "a = 1\n")
    other = CoverageData(basename=str(tmp_path / ".covcore.ci"))
    other.add_lines({"/ci/build/src/m.py": {1}})
    other.write()
    write(tmp_path / ".covcorerc", "[paths]\nsource =\n    src/\n    /ci/build/src/\n")
    res = covcore("combine", "--debug=pathmap", cwd=tmp_path)
    assert res.rc == 0, res
    assert f"Matched path '/ci/build/src/m.py' to rule '/ci/build/src/' -> " in res.err


def test_dynamic_context_test_function_matches_coveragepy(tmp_path):
    import json

    from cmdhelpers import coveragepy

    write(tmp_path / "lib.py", """\
        def shared(x):
            if x:
                return "yes"
            return "no"

        def only_in_b():
            return 3
    """)
    write(tmp_path / "test_things.py", """\
        import lib

        def test_a():
            assert lib.shared(1) == "yes"

        class TestGroup:
            def test_b(self):
                lib.shared(0)
                lib.only_in_b()

        def test_raises():
            lib.shared(1)
            raise ValueError("expected")
    """)
    write(tmp_path / "runner.py", """\
        import test_things
        test_things.test_a()
        test_things.TestGroup().test_b()
        try:
            test_things.test_raises()
        except ValueError:
            pass
        test_things.lib.shared(0)
    """)
    write(tmp_path / ".covcorerc", "[run]\ndynamic_context = test_function\nsource = .\nomit = runner.py\n")
    write(tmp_path / ".coveragerc", "[run]\ndynamic_context = test_function\nsource = .\nomit = runner.py\n")
    assert covcore("run", "runner.py", cwd=tmp_path).rc == 0
    assert coveragepy("run", "runner.py", cwd=tmp_path).rc == 0
    ours = covcore("json", "--show-contexts", "-o", "-", cwd=tmp_path)
    theirs = coveragepy("json", "--show-contexts", "-o", "-", cwd=tmp_path)
    assert ours.rc == theirs.rc == 0, (ours, theirs)
    ours_ctx = {f: d["contexts"] for f, d in json.loads(ours.out)["files"].items()}
    # coverage.py lists a line's contexts in no particular order; ours are sorted.
    theirs_ctx = {f: {n: sorted(c) for n, c in d["contexts"].items()} for f, d in json.loads(theirs.out)["files"].items()}
    assert ours_ctx == theirs_ctx
    assert ours_ctx["lib.py"]["2"] == ["", "test_things.TestGroup.test_b", "test_things.test_a",
                                      "test_things.test_raises"]
    assert ours_ctx["lib.py"]["7"] == ["test_things.TestGroup.test_b"]


@pytest.mark.parametrize("library", ["greenlet", "gevent"])
def test_greenlet_concurrency(tmp_path, library):
    pytest.importorskip(library)
    write(tmp_path / ".covcorerc", f"[run]\nconcurrency = {library}\nsource = .\n")
    if library == "greenlet":
        write(tmp_path / "g.py", """\
            from greenlet import greenlet

            def ping(n):
                for i in range(n):
                    other.switch(i)
                return "ping done"

            def pong(i):
                while True:
                    i = main.switch(i * 10)

            main = greenlet.getcurrent()
            other = greenlet(pong)
            g = greenlet(ping)
            print(g.switch(3))
        """)
        # ping never finishes: pong always switches back to main, so line 6 never runs.
        expected = {"g.py": ["12", "1", "92%", "6"]}
    else:
        write(tmp_path / "g.py", """\
            import gevent

            def worker(n):
                gevent.sleep(0)
                return n * 2

            jobs = [gevent.spawn(worker, i) for i in range(3)]
            gevent.joinall(jobs)
            print(sorted(j.value for j in jobs))
        """)
        expected = {"g.py": ["7", "0", "100%"]}
    res = covcore("run", "g.py", cwd=tmp_path)
    assert res.rc == 0, res
    assert _report_lines(tmp_path) == expected


def test_concurrency_library_missing(tmp_path):
    write(tmp_path / "a.py", "x = 1\n")
    res = covcore("run", "--concurrency=eventlet", "a.py", cwd=tmp_path, env=clean_env(PYTHONPATH=str(tmp_path / "none")))
    import importlib.util

    if importlib.util.find_spec("eventlet") is None:
        assert (res.rc, res.err) == (1, "covcore: Couldn't trace with concurrency=eventlet, the module isn't installed.\n")
    else:
        assert res.rc == 0


def test_relative_files_and_installed_copy_switch(tmp_path):
    from covcore.data import CoverageData
    from covcore.dataread import read_data_file

    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "m.py", "a = 1\n")
    write(tmp_path / "main.py", "import pkg.m\n")
    write(tmp_path / ".covcorerc", "[run]\nrelative_files = true\n")
    assert covcore("run", "main.py", cwd=tmp_path).rc == 0
    assert read_data_file(str(tmp_path / ".covcore")).measured_files() == {
        "main.py", os.path.join("pkg", "__init__.py"), os.path.join("pkg", "m.py")}
    assert _report_lines(tmp_path) == {"main.py": ["1", "0", "100%"], "pkg/__init__.py": ["0", "0", "100%"],
                                       "pkg/m.py": ["1", "0", "100%"]}
    # An installed copy maps back to the checkout, unless remap_installed is off.
    site = "/v/.nox/tests/lib/python3.12/site-packages"
    for remap, expected in (("true", {"pkg/m.py"}), ("false", {f"{site}/pkg/m.py"})):
        other = CoverageData(basename=str(tmp_path / ".covcore.venv"))
        other.add_lines({f"{site}/pkg/m.py": {1}})
        other.write()
        write(tmp_path / ".covcorerc", f"[run]\nremap_installed = {remap}\n")
        assert covcore("combine", cwd=tmp_path).rc == 0
        files = read_data_file(str(tmp_path / ".covcore")).measured_files()
        assert {os.path.relpath(f, tmp_path) if f.startswith(str(tmp_path)) else f for f in files} == expected


def test_execv_patch_saves_before_exec(tmp_path):
    write(tmp_path / ".covcorerc", "[run]\npatch = execv, subprocess\nsource = .\n")
    write(tmp_path / "second.py", "print('second')\n")
    write(tmp_path / "first.py", """\
        import os, sys
        print('first', flush=True)
        os.execv(sys.executable, [sys.executable, "second.py"])
    """)
    res = covcore("run", "first.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "first\nsecond\n"), res
    assert covcore("combine", cwd=tmp_path).rc == 0
    assert _report_lines(tmp_path) == {"first.py": ["3", "0", "100%"], "second.py": ["1", "0", "100%"]}


def test_many_concurrent_writers(tmp_path):
    write(tmp_path / "w.py", """\
        import sys
        n = int(sys.argv[1])
        if n % 2:
            odd = True
        else:
            even = True
        for i in range(n):
            pass
    """)
    procs = [subprocess.Popen([sys.executable, "-m", "covcore", "run", "-p", "w.py", str(i)], cwd=tmp_path,
                              env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(12)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 12
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]) == 12
    res = covcore("combine", cwd=tmp_path)
    assert res.rc == 0 and res.out.startswith("Combined "), res
    assert _report_lines(tmp_path) == {"w.py": ["7", "0", "100%"]}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".covcore")] == [".covcore"]


def test_process_startup_api(tmp_path):
    write(tmp_path / ".covcorerc", "[run]\nsource = .\n")
    write(tmp_path / "prog.py", """\
        import covcore
        print(covcore.process_startup())
        def later():
            return 1
        later()
    """)
    # No variable: nothing starts.
    proc = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "None\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".covcore.")]
    # With it, covcore.pth already started measuring at interpreter start: a second call does nothing.
    env = clean_env(COVCORE_PROCESS_START=str(tmp_path / ".covcorerc"))
    proc = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "None\n"), proc.stderr
    assert covcore("combine", cwd=tmp_path).rc == 0
    assert _report_lines(tmp_path) == {"prog.py": ["5", "0", "100%"]}
