"""The covcore command end to end: run, report, erase, debug, help, exit codes."""

from __future__ import annotations

import os
import sys

import pytest

from cmdhelpers import clean_env, coveragepy, covcore, write

pytestmark = pytest.mark.backend

PROG = """\
    import sys

    def double(x):
        return 2 * x

    def unused():
        a = 1
        b = 2
        return a + b

    if len(sys.argv) > 1:
        print("args", sys.argv[1:])
    else:
        print("no args")
    print(double(21), __name__)
"""


def test_run_and_report_exact(tmp_path):
    write(tmp_path / "prog.py", PROG)
    res = covcore("run", "prog.py", "x", "--flag", cwd=tmp_path)
    assert res.rc == 0, res
    assert res.out == "args ['x', '--flag']\n42 __main__\n"
    assert res.err == ""
    assert (tmp_path / ".covcore").exists()
    rep = covcore("report", "-m", cwd=tmp_path)
    assert rep.rc == 0, rep
    assert rep.out == (
        "Name      Stmts   Miss  Cover   Missing\n"
        "---------------------------------------\n"
        "prog.py      11      4    64%   7-9, 14\n"
        "---------------------------------------\n"
        "TOTAL        11      4    64%\n"
    )


def test_report_text_equals_coveragepy(tmp_path):
    write(tmp_path / "prog.py", PROG)
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "mod.py", """\
        def f(n):
            if n > 0:
                return "pos"
            elif n < 0:
                return "neg"
            return "zero"

        class C:
            '''Doc.'''
            def m(self):  # pragma: no cover
                return 1
    """)
    write(tmp_path / "main.py", "import pkg.mod\nprint(pkg.mod.f(1))\nimport prog\n")
    assert covcore("run", "main.py", cwd=tmp_path).rc == 0
    assert coveragepy("run", "main.py", cwd=tmp_path).rc == 0
    for args in (["report"], ["report", "-m"], ["report", "-m", "--precision=2"], ["report", "--sort=-miss"],
                 ["report", "--skip-covered"], ["report", "--format=markdown"], ["report", "--format=total"],
                 ["report", "--skip-empty", "-m"]):
        ours = covcore(*args, cwd=tmp_path)
        theirs = coveragepy(*args, cwd=tmp_path)
        assert (ours.rc, ours.out) == (theirs.rc, theirs.out), (args, ours, theirs)


def test_exit_code_of_program_is_kept(tmp_path):
    write(tmp_path / "exit3.py", "import sys\nprint('bye')\nsys.exit(3)\n")
    res = covcore("run", "exit3.py", cwd=tmp_path)
    assert (res.rc, res.out) == (3, "bye\n")
    write(tmp_path / "exitmsg.py", "import sys\nsys.exit('fatal: nope')\n")
    res = covcore("run", "exitmsg.py", cwd=tmp_path)
    assert (res.rc, res.err) == (1, "fatal: nope\n")


def test_uncaught_exception_printed_like_python(tmp_path):
    write(tmp_path / "boom.py", """\
        def inner():
            raise ValueError("bad value")
        inner()
    """)
    ours = covcore("run", "boom.py", cwd=tmp_path)
    plain = __import__("subprocess").run([sys.executable, "boom.py"], cwd=tmp_path, capture_output=True, text=True)
    assert ours.rc == plain.returncode == 1
    assert ours.err == plain.stderr
    assert "covcore" not in ours.err
    # The data was saved all the same.
    rep = covcore("report", cwd=tmp_path)
    assert rep.out.splitlines()[2] == "boom.py       3      0   100%"


def test_sys_path_and_main_like_python(tmp_path):
    write(tmp_path / "sub" / "show.py", """\
        import os, sys
        print(os.path.basename(sys.path[0]), __name__, os.path.basename(__file__), sys.argv)
    """)
    res = covcore("run", "sub/show.py", "a", cwd=tmp_path)
    assert res.out == "sub __main__ show.py ['sub/show.py', 'a']\n"


def test_run_module(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "__main__.py", "import sys\nprint('main of pkg', sys.argv[1:], __name__)\n")
    write(tmp_path / "pkg" / "tool.py", "import sys\nprint('tool', sys.argv[1:], __package__)\n")
    res = covcore("run", "-m", "pkg", "1", "2", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "main of pkg ['1', '2'] __main__\n")
    res = covcore("run", "-m", "pkg.tool", "-x", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "tool ['-x'] pkg\n")
    rep = covcore("report", cwd=tmp_path)
    assert "pkg/tool.py" in rep.out and "pkg/__main__.py" not in rep.out  # not -a: data started clean


def test_append(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    write(tmp_path / "b.py", "print('b')\n")
    covcore("run", "a.py", cwd=tmp_path)
    covcore("run", "-a", "b.py", cwd=tmp_path)
    rep = covcore("report", cwd=tmp_path)
    assert [line.split()[0] for line in rep.out.splitlines()[2:4]] == ["a.py", "b.py"]


def test_fail_under_exit_code_2(tmp_path):
    write(tmp_path / "prog.py", PROG)
    covcore("run", "prog.py", cwd=tmp_path)
    res = covcore("report", "--fail-under=65", cwd=tmp_path)
    assert res.rc == 2
    assert res.out.splitlines()[-1] == "Coverage failure: total of 64 is less than fail-under=65"
    assert covcore("report", "--fail-under=64", cwd=tmp_path).rc == 0
    res = covcore("report", "--fail-under=63.6", cwd=tmp_path)  # compared at the threshold's precision
    assert (res.rc, res.err) == (0, "")
    res = covcore("report", "--fail-under=63.7", cwd=tmp_path)
    assert (res.rc, res.out.splitlines()[-1]) == (2, "Coverage failure: total of 63.6 is less than fail-under=63.7")
    assert covcore("report", "--fail-under=63.64", "--precision=1", cwd=tmp_path).rc == 0
    res = covcore("report", "--fail-under=63.65", "--precision=1", cwd=tmp_path)
    assert (res.rc, res.out.splitlines()[-1]) == (2, "Coverage failure: total of 63.64 is less than fail-under=63.65")
    coveragepy("run", "prog.py", cwd=tmp_path)
    import coverage

    # coverage.py 7.17 compares at the threshold's own precision; 7.16 (the newest for 3.10) did not.
    thresholds = ("65", "63.7", "63.64", "63.65", "100") if coverage.version_info >= (7, 17) else ("65", "100")
    for threshold in thresholds:
        ours = covcore("report", f"--fail-under={threshold}", cwd=tmp_path)
        theirs = coveragepy("report", f"--fail-under={threshold}", cwd=tmp_path)
        assert (ours.rc, ours.out.splitlines()[-1]) == (theirs.rc, theirs.out.splitlines()[-1]), threshold
    write(tmp_path / ".covcorerc", "[report]\nfail_under = 90\n")
    assert covcore("report", cwd=tmp_path).rc == 2


def test_erase(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    covcore("run", "a.py", cwd=tmp_path)
    assert (tmp_path / ".covcore").exists()
    assert covcore("erase", cwd=tmp_path).rc == 0
    assert not (tmp_path / ".covcore").exists()
    res = covcore("report", cwd=tmp_path)
    assert (res.rc, res.err) == (1, "covcore: No data to report.\n")


def test_data_file_option_and_env(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    covcore("run", "--data-file=custom.dat", "a.py", cwd=tmp_path)
    assert (tmp_path / "custom.dat").exists() and not (tmp_path / ".covcore").exists()
    assert covcore("report", "--data-file=custom.dat", cwd=tmp_path).rc == 0
    env = clean_env(COVCORE_FILE=str(tmp_path / "env.dat"))
    covcore("run", "a.py", cwd=tmp_path, env=env)
    assert (tmp_path / "env.dat").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["bogus"], "covcore: argument COMMAND: invalid choice: 'bogus'"),
        (["report", "--nope"], "covcore: unrecognized arguments: --nope"),
        (["run"], "covcore: Nothing to do: give a program to run"),
        (["run", "missing.py"], "covcore: No file to run: 'missing.py'"),
        (["run", "-m", "no_such_module_xyz"], "covcore: No module named 'no_such_module_xyz'"),
        (["report", "--fail-under=abc"], "covcore: argument --fail-under: invalid number: 'abc'"),
        (["report", "--rcfile=nothere.cfg"], "covcore: Couldn't read 'nothere.cfg' as a config file"),
        (["report"], "covcore: No data to report."),
    ],
)
def test_errors_are_one_line_exit_1(tmp_path, args, message):
    res = covcore(*args, cwd=tmp_path)
    assert res.rc == 1, res
    assert res.err.startswith(message), res
    assert len(res.err.strip().splitlines()) == 1, res
    assert "Traceback" not in res.err


def test_missing_source_at_report(tmp_path):
    write(tmp_path / "gone.py", "x = 1\n")
    write(tmp_path / "kept.py", "import gone\ny = 2\n")
    covcore("run", "kept.py", cwd=tmp_path)
    os.remove(tmp_path / "gone.py")
    res = covcore("report", cwd=tmp_path)
    assert res.rc == 1
    assert res.err == f"covcore: No source for code: '{tmp_path / 'gone.py'}'.\n"
    res = covcore("report", "-i", cwd=tmp_path)
    assert res.rc == 0
    assert res.out.splitlines()[2].split() == ["kept.py", "2", "0", "100%"]


def test_version_help_and_debug(tmp_path):
    res = covcore("--version", cwd=tmp_path)
    assert res.rc == 0 and res.out.startswith("covcore, version 0.1.0 with the ")
    for cmd in ("run", "report", "erase", "debug"):
        res = covcore("help", cmd, cwd=tmp_path)
        assert res.rc == 0 and res.out.startswith(f"usage: covcore {cmd}"), res
        assert covcore(cmd, "--help", cwd=tmp_path).out == res.out
    res = covcore("debug", "sys", cwd=tmp_path)
    assert res.rc == 0
    backend = os.environ.get("COVCORE_CORE")
    if backend:
        assert f"tracer_backend: {backend}" in res.out.replace("  ", " ")


def test_console_script_aliases():
    bindir = os.path.dirname(sys.executable)
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for name in ("covcore", f"covcore{sys.version_info[0]}", f"covcore-{ver}"):
        assert os.path.exists(os.path.join(bindir, name)), name


def test_threads_are_measured(tmp_path):
    write(tmp_path / "thr.py", """\
        import threading

        def work(out, n):
            out.append(n * n)

        out = []
        ts = [threading.Thread(target=work, args=(out, i)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print(sorted(out))
    """)
    res = covcore("run", "thr.py", cwd=tmp_path)
    assert res.out == "[0, 1, 4, 9]\n"
    rep = covcore("report", "-m", cwd=tmp_path)
    assert rep.out.splitlines()[2].split() == ["thr.py", "10", "0", "100%"]


def test_source_selects_and_reports_unimported(tmp_path):
    write(tmp_path / "src" / "lib" / "__init__.py", "")
    write(tmp_path / "src" / "lib" / "used.py", "def f():\n    return 1\n")
    write(tmp_path / "src" / "lib" / "unused.py", "x = 1\ny = 2\n")
    write(tmp_path / "main.py", "import sys\nsys.path.insert(0, 'src')\nimport lib.used\nlib.used.f()\n")
    res = covcore("run", "--source=src", "main.py", cwd=tmp_path)
    assert res.rc == 0, res
    rep = covcore("report", "-m", cwd=tmp_path)
    assert rep.out == (
        "Name                  Stmts   Miss  Cover   Missing\n"
        "---------------------------------------------------\n"
        "src/lib/__init__.py       0      0   100%\n"
        "src/lib/unused.py         2      2     0%   1-2\n"
        "src/lib/used.py           2      0   100%\n"
        "---------------------------------------------------\n"
        "TOTAL                     4      2    50%\n"
    )


def test_warnings_and_disable_warnings(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    res = covcore("run", "--source=nosuchpkg_abc", "a.py", cwd=tmp_path)
    assert res.err == (
        "covcore: Warning: Module nosuchpkg_abc was never imported. (module-not-imported)\n"
        "covcore: Warning: No data was collected. (no-data-collected)\n"
    )
    write(tmp_path / ".covcorerc", "[run]\ndisable_warnings = module-not-imported, no-data-collected\n")
    res = covcore("run", "--source=nosuchpkg_abc", "a.py", cwd=tmp_path)
    assert res.err == ""
    res = covcore("run", "--source=.", "--include=a.py", "a.py", cwd=tmp_path)
    assert res.err == "covcore: Warning: --include is ignored because --source is set (include-ignored)\n"


def test_omit_include_and_report_filters(tmp_path):
    write(tmp_path / "a.py", "import b, c\n")
    write(tmp_path / "b.py", "x = 1\n")
    write(tmp_path / "c.py", "y = 1\n")
    covcore("run", "--omit=c.py", "a.py", cwd=tmp_path)
    rep = covcore("report", cwd=tmp_path)
    assert [l.split()[0] for l in rep.out.splitlines()[2:-2]] == ["a.py", "b.py"]
    rep = covcore("report", "--include=b*", cwd=tmp_path)
    assert [l.split()[0] for l in rep.out.splitlines()[2:-2]] == ["b.py"]
    rep = covcore("report", "b.py", cwd=tmp_path)
    assert [l.split()[0] for l in rep.out.splitlines()[2:-2]] == ["b.py"]
    covcore("run", "--include=c*", "a.py", cwd=tmp_path)
    rep = covcore("report", cwd=tmp_path)
    assert [l.split()[0] for l in rep.out.splitlines()[2:-2]] == ["c.py"]


def test_debug_trace_explains(tmp_path):
    write(tmp_path / "a.py", "import json\n")
    res = covcore("run", "--debug=trace", "a.py", cwd=tmp_path)
    assert f"Tracing '{tmp_path / 'a.py'}'" in res.err
    assert "json/__init__.py': is in the stdlib" in res.err


def test_stdlib_with_pylib(tmp_path):
    write(tmp_path / "a.py", "import colorsys\ncolorsys.rgb_to_hsv(0.1, 0.2, 0.3)\n")
    covcore("run", "a.py", cwd=tmp_path)
    assert "colorsys" not in covcore("report", cwd=tmp_path).out
    covcore("run", "-L", "a.py", cwd=tmp_path)
    assert "colorsys.py" in covcore("report", cwd=tmp_path).out


def test_python_dash_m_covcore(tmp_path):
    write(tmp_path / "a.py", "print('hi')\n")
    res = covcore("run", "a.py", cwd=tmp_path)
    assert res.out == "hi\n"


def test_command_line_from_config_and_parallel_append(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "__main__.py", "import sys\nprint('configured', sys.argv[1:])\n")
    write(tmp_path / ".covcorerc", "[run]\ncommand_line = -m pkg one two\n")
    res = covcore("run", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "configured ['one', 'two']\n")
    res = covcore("run", "-a", "-p", "-m", "pkg", cwd=tmp_path)
    assert (res.rc, res.err) == (1, "covcore: Can't append to data files in parallel mode.\n")


def test_parallel_mode_file_names(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    covcore("run", "-p", "a.py", cwd=tmp_path)
    covcore("run", "-p", "a.py", cwd=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".covcore"))
    assert len(names) == 2
    for name in names:
        host, pid, rand = name[len(".covcore."):].rsplit(".", 2)
        assert host and pid.isdigit() and rand.startswith("X") and rand[1:].isdigit()


def test_source_package_warnings(tmp_path):
    write(tmp_path / "a.py", "import json\nprint('a')\n")
    res = covcore("run", "--source=math", "a.py", cwd=tmp_path)
    assert res.err.splitlines()[0] == "covcore: Warning: Module math has no Python source. (module-not-python)"
    write(tmp_path / "pre.py", """\
        import sys, covcore
        import email  # imported before measurement starts
        cov = covcore.Coverage(data_file=None, source_pkgs=["email"])
        cov.start()
        cov.stop()
        cov.save()
    """)
    res = covcore("run", "pre.py", cwd=tmp_path)  # the outer run measures pre.py
    assert "covcore: Warning: Module email was previously imported, but not measured (module-not-measured)\n" in res.err


def test_source_changed_to_unparsable_before_report(tmp_path):
    write(tmp_path / "mod.py", "x = 1\n")
    write(tmp_path / "main.py", "import mod\n")
    covcore("run", "main.py", cwd=tmp_path)
    write(tmp_path / "mod.py", "def broken(:\n")
    res = covcore("report", cwd=tmp_path)
    assert res.rc == 1
    assert res.err.startswith(f"covcore: Couldn't parse '{tmp_path / 'mod.py'}' as Python source: ")
    assert len(res.err.splitlines()) == 1
    res = covcore("report", "-i", cwd=tmp_path)
    assert res.rc == 0 and "main.py" in res.out and "mod.py" not in res.out


def test_works_without_the_c_extension(tmp_path):
    write(tmp_path / "a.py", "def f():\n    return 1\nf()\n")
    script = ("import sys; sys.modules['covcore._tracer'] = None\n"
              "from covcore.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    env = clean_env()
    env.pop("COVCORE_CORE", None)
    proc = __import__("subprocess").run([sys.executable, "-c", script, "run", "a.py"], cwd=tmp_path, env=env,
                                        capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr.startswith("covcore: Warning: covcore's C tracer is not available (")
    assert proc.stderr.endswith("using the slower pure-Python tracer (no-ctracer)\n")
    proc = __import__("subprocess").run([sys.executable, "-c", script, "debug", "sys"], cwd=tmp_path, env=env,
                                        capture_output=True, text=True)
    assert "tracer_backend: python" in " ".join(proc.stdout.split())
    assert "c_extension: missing (" in " ".join(proc.stdout.split())
    assert "opcode_tables: -none- (no C extension)" in " ".join(proc.stdout.split())
    assert covcore("report", cwd=tmp_path).out.splitlines()[2].split() == ["a.py", "3", "0", "100%"]


def test_trace_changed_warning(tmp_path):
    write(tmp_path / "meddle.py", """\
        import sys
        sys.settrace(None)
        if sys.version_info >= (3, 12):
            import covcore.backend  # sysmon: another tool takes over our monitoring tool id
            for tool in range(6):
                if sys.monitoring.get_tool(tool) == "covcore":
                    sys.monitoring.free_tool_id(tool)
                    sys.monitoring.use_tool_id(tool, "intruder")
        print("meddled")
    """)
    # (On 3.11 the probe backend traces nothing, so sys.settrace can't disturb it: ctrace here.)
    env = clean_env(COVCORE_CORE="ctrace") if sys.version_info < (3, 12) else None
    res = covcore("run", "meddle.py", cwd=tmp_path, env=env)
    assert res.out == "meddled\n"
    assert "(trace-changed)" in res.err


def test_console_script_itself_not_measured(tmp_path):
    write(tmp_path / "a.py", "print('a')\n")
    script = os.path.join(os.path.dirname(sys.executable), "covcore")
    import subprocess

    proc = subprocess.run([script, "run", "a.py"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "a\n")
    rep = covcore("report", cwd=tmp_path)
    assert [line.split()[0] for line in rep.out.splitlines()[2:-2]] == ["a.py"]


# -- `covcore run` without argparse (covcore.runargs) ---------------------------


def _run_subparser():
    from covcore.cliparser import build_parser

    parser = build_parser("run")
    sub = next(a for a in parser._actions if a.dest == "command")
    return parser, sub.choices["run"]


def test_run_option_table_matches_argparse():
    from covcore.runargs import RUN_DEFAULTS, RUN_OPTIONS

    parser, run = _run_subparser()
    table = {}
    for action in run._actions:
        if action.dest in ("help", "program"):
            continue
        kind = "true" if action.nargs == 0 else ("csv" if action.type is not None else "str")
        for option in action.option_strings:
            table[option] = (action.dest, kind)
    assert table == RUN_OPTIONS
    assert vars(parser.parse_args(["run"])) == RUN_DEFAULTS


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["prog.py"],
        ["prog.py", "--branch", "-x", "a=b"],
        ["--branch", "--source=src,lib", "prog.py", "arg"],
        ["--source", "src, lib ,", "--omit=*/t/*", "--include", "a*", "-m", "pkg.mod", "-q"],
        ["-a", "-p", "-L", "--timid", "--context=ctx", "--concurrency", "thread", "prog.py"],
        ["--rcfile", "my.cfg", "--debug=trace,sys", "--data-file", "out.data", "prog.py"],
        ["--source=", "--context=", "prog.py"],
        ["--source=-odd", "prog.py"],
        ["--branch", "--branch", "--source=a", "--source=b", "prog.py"],
        ["-", "x"],
        ["--append", "--module", "--pylib", "--parallel-mode", "m"],
    ],
)
def test_run_args_without_argparse_equal_argparse(argv):
    from covcore.runargs import parse_run_args

    parser, _ = _run_subparser()
    fast = parse_run_args(argv)
    assert fast is not None
    assert vars(fast) == vars(parser.parse_args(["run", *argv]))


@pytest.mark.parametrize(
    "argv",
    [
        ["-h"],
        ["--help"],
        ["--bra", "prog.py"],              # argparse's abbreviations
        ["-ap", "prog.py"],                # combined short flags
        ["-mpkg"],
        ["--branch=yes", "prog.py"],
        ["--source", "-x", "prog.py"],     # argparse: "expected one argument"
        ["--source"],
        ["--", "prog.py"],
        ["--unknown", "prog.py"],
        ["-a=1", "prog.py"],
    ],
)
def test_run_args_left_to_argparse(argv):
    from covcore.runargs import parse_run_args

    assert parse_run_args(argv) is None


def test_run_usage_errors_still_come_from_argparse(tmp_path):
    write(tmp_path / "prog.py", "print('hi')\n")
    proc = covcore("run", "--source", "--branch", "prog.py", cwd=tmp_path)
    assert (proc.rc, proc.err) == (
        1, "covcore: argument --source: expected one argument (see 'covcore run --help')\n"
    )
    proc = covcore("run", "--bra", "prog.py", cwd=tmp_path)
    assert (proc.rc, proc.out) == (0, "hi\n")
