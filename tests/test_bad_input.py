"""Bad input (issue 9): measured sources that are broken, unusual, gone or
changed at report time; bad configuration files; bad command lines.

Every case gives one line on stderr naming the file and the problem, and the
documented exit code (README "Exit codes"), never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cmdhelpers import clean_env, covcore, write

REPORT_COMMANDS = ["report", "html", "xml", "json", "lcov", "annotate"]

MAIN = """\
    import mod
    print("ran")
"""

# Statements 1, 2, 3, 4, 6; line 4 never runs.
MOD = """\
    def f(x):
        if x:
            return 1
        return 2

    f(1)
"""

# What each reporting command prints on stdout on success (report: its table).
WROTE = {
    "report": None,
    "html": "Wrote HTML report to htmlcov/index.html\n",
    "xml": "Wrote XML report to coverage.xml\n",
    "json": "Wrote JSON report to coverage.json\n",
    "lcov": "Wrote LCOV report to coverage.lcov\n",
    "annotate": "",
}

MAIN_ONLY_TABLE = (
    "Name      Stmts   Miss  Cover\n"
    "-----------------------------\n"
    "main.py       2      0   100%\n"
    "-----------------------------\n"
    "TOTAL         2      0   100%\n"
)
MAIN_ONLY_TABLE_BRANCH = (
    "Name      Stmts   Miss Branch BrPart  Cover\n"
    "-------------------------------------------\n"
    "main.py       2      0      0      0   100%\n"
    "-------------------------------------------\n"
    "TOTAL         2      0      0      0   100%\n"
)


def measured_project(tmp_path: Path, *run_args: str) -> Path:
    """main.py importing mod.py, measured; returns mod.py's absolute path."""
    write(tmp_path / "main.py", MAIN)
    write(tmp_path / "mod.py", MOD)
    res = covcore("run", *run_args, "main.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, "ran\n", ""), res
    return tmp_path / "mod.py"


def no_report_written(tmp_path: Path) -> bool:
    return not any(
        (tmp_path / name).exists()
        for name in ("htmlcov/index.html", "coverage.xml", "coverage.json", "coverage.lcov",
                     "main.py,cover", "mod.py,cover")
    )


def assert_every_report_fails(tmp_path: Path, message: str, every: bool = True) -> None:
    """Each reporting command (only ``report`` unless `every`) exits 1 with
    exactly ``covcore: <message>`` and writes nothing."""
    for command in REPORT_COMMANDS if every else ["report"]:
        res = covcore(command, cwd=tmp_path)
        assert (res.rc, res.out, res.err) == (1, "", f"covcore: {message}\n"), (command, res)
        assert no_report_written(tmp_path), command


def assert_every_report_skips_mod(tmp_path: Path, warning: str, table: str = MAIN_ONLY_TABLE,
                                  every: bool = True) -> None:
    """With ``-i`` each reporting command (only ``report`` unless `every`)
    exits 0, reports main.py alone, and prints `warning` (empty: nothing) on
    stderr."""
    for command in REPORT_COMMANDS if every else ["report"]:
        res = covcore(command, "-i", cwd=tmp_path)
        expected_out = table if command == "report" else WROTE[command]
        assert (res.rc, res.out, res.err) == (0, expected_out, warning), (command, res)
    if not every:
        return
    index = (tmp_path / "htmlcov" / "index.html").read_text(encoding="utf-8")
    assert "main.py" in index and "mod.py" not in index
    xml = (tmp_path / "coverage.xml").read_text(encoding="utf-8")
    assert re.findall(r'filename="([^"]*)"', xml) == ["main.py"]
    assert list(json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))["files"]) == ["main.py"]
    lcov = (tmp_path / "coverage.lcov").read_text(encoding="utf-8")
    assert [line for line in lcov.splitlines() if line.startswith("SF:")] == ["SF:main.py"]
    assert (tmp_path / "main.py,cover").exists() and not (tmp_path / "mod.py,cover").exists()


# -- sources that can't be read as Python at report time ---------------------
#
# Every reporting command goes through the same analysis step: the cases in
# EVERY_COMMAND are checked with all six commands, the others with `report`.

BAD_SOURCES = {
    "syntax-error": (b"x = 1\ndef f(:\n    pass\n", "'invalid syntax' at line 2"),
    "unclosed-bracket": (b"x = (1,\n\n", "\"'(' was never closed\" at line 1"),
    "null-byte": (b"x = 1\ny = 2\0\n", "'source code cannot contain null bytes' at line 2"),
    "coding-lies": (
        "# -*- coding: ascii -*-\nx = 1\ns = 'café'\n".encode("utf-8"),
        "\"can't decode byte 0xc3 as ascii: ordinal not in range(128)\" at line 3",
    ),
    "unknown-codec": (b"# -*- coding: klingon -*-\nx = 1\n", "'unknown encoding: klingon' at line 1"),
    "latin1-undeclared-line1": (
        "s = 'café'\n".encode("latin-1"),
        "\"can't decode byte 0xe9 as utf-8: invalid continuation byte\" at line 1",
    ),
    "latin1-undeclared-line4": (
        "x = 1\n\n\ns = 'café'\n".encode("latin-1"),
        "\"can't decode byte 0xe9 as utf-8: invalid continuation byte\" at line 4",
    ),
    "binary-png": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        "\"can't decode byte 0x89 as utf-8: invalid start byte\" at line 1",
    ),
}


EVERY_COMMAND = {"syntax-error", "binary-png"}


@pytest.mark.backend
@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_unparsable_source_fails_every_report_and_ignore_errors_skips_it(tmp_path, case):
    content, problem = BAD_SOURCES[case]
    mod = measured_project(tmp_path)
    mod.write_bytes(content)
    every = case in EVERY_COMMAND
    assert_every_report_fails(tmp_path, f"Couldn't parse '{mod}' as Python source: {problem}", every)
    assert_every_report_skips_mod(tmp_path, f"covcore: Warning: Couldn't parse Python file '{mod}' (couldnt-parse)\n",
                                  every=every)


def test_unparsable_file_named_on_the_command_line(tmp_path):
    # Not measured, but asked for: still an error naming it, -i skips it.
    measured_project(tmp_path)
    write(tmp_path / "notes.py", "These are notes, not Python.\n")
    res = covcore("report", "notes.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (
        1, "", f"covcore: Couldn't parse '{tmp_path / 'notes.py'}' as Python source: 'invalid syntax' at line 1\n"), res
    res = covcore("report", "-i", "notes.py", "main.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, MAIN_ONLY_TABLE), res


@pytest.mark.backend
def test_source_deleted_after_run(tmp_path):
    mod = measured_project(tmp_path)
    mod.unlink()
    assert_every_report_fails(tmp_path, f"No source for code: '{mod}'.")
    # As coverage.py: a missing source is skipped silently under -i.
    assert_every_report_skips_mod(tmp_path, "")


@pytest.mark.backend
@pytest.mark.parametrize("branch", [False, True], ids=["lines", "arcs"])
@pytest.mark.parametrize(
    "case, new_text, problem",
    [
        ("truncated", "def f(x):\n    return 1\n", "line 3 ran, but the file now has 2 lines"),
        ("lines-inserted", "# A new comment\n\n" + textwrap.dedent(MOD), "line 2 ran, but it holds no code now"),
        ("emptied", "", "line 2 ran, but the file now has 0 lines"),
    ],
    ids=["truncated", "lines-inserted", "emptied"],
)
def test_source_changed_after_run(tmp_path, branch, case, new_text, problem):
    mod = measured_project(tmp_path, *(["--branch"] if branch else []))
    mod.write_text(new_text, encoding="utf-8")
    message = f"'{mod}' changed after it was measured: {problem}"
    every = case == "truncated" and not branch
    assert_every_report_fails(tmp_path, message, every)
    assert_every_report_skips_mod(tmp_path, f"covcore: Warning: {message}; skipped (source-changed)\n",
                                  MAIN_ONLY_TABLE_BRANCH if branch else MAIN_ONLY_TABLE, every=every)


@pytest.mark.backend
def test_source_rewritten_unchanged_is_not_a_change(tmp_path):
    mod = measured_project(tmp_path)
    text = mod.read_bytes()
    mod.unlink()
    mod.write_bytes(text)
    os.utime(mod, (1, 1))
    res = covcore("report", "-m", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    assert res.out.splitlines()[3].split() == ["mod.py", "5", "1", "80%", "4"]


@pytest.mark.backend
def test_comment_only_and_empty_modules_are_not_changes(tmp_path):
    # Python 3.10 puts an empty module's code on line 1, 3.11+ on line 0:
    # neither is proof of a change.
    write(tmp_path / "main.py", "import empty, comments\n")
    write(tmp_path / "empty.py", "")
    write(tmp_path / "comments.py", "# nothing\n\n# here\n")
    assert covcore("run", "--branch", "main.py", cwd=tmp_path).rc == 0
    res = covcore("report", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    assert [line.split() for line in res.out.splitlines()[2:5]] == [
        ["comments.py", "0", "0", "0", "0", "100%"],
        ["empty.py", "0", "0", "0", "0", "100%"],
        ["main.py", "1", "0", "0", "0", "100%"],
    ]


METHOD = [
    "    def m{m}(self, x):",
    "        a = x + 1",
    "        if a > 1:",
    "            b = 2",
    "        else:",
    "            b = 3",
    "        c = a + b",
    "        d = c * 2",
    "        return d",
    "",
]


@pytest.mark.backend
def test_huge_file_and_huge_line_are_reported_exactly(tmp_path):
    # 100,102 lines: 100 classes of 100 methods, m0 of each called once.
    # (Many code objects: on Python 3.12+ tracing one code object of 100,000
    # lines is quadratic in CPython itself, for coverage.py as for covcore:
    # https://github.com/python/cpython/issues/127953.)
    lines: list[str] = []
    executed: list[int] = []
    missing: list[int] = []
    for c in range(100):
        lines.append(f"class C{c}:")
        executed.append(len(lines))
        for m in range(100):
            base = len(lines) + 1
            lines += [line.format(m=m) for line in METHOD]
            body = [base + 1, base + 2, base + 3, base + 5, base + 6, base + 7, base + 8]
            executed.append(base)
            if m == 0:
                executed += [n for n in body if n != base + 5]
                missing.append(base + 5)
            else:
                missing += body
    lines += ["for k in range(100):", "    globals()[f'C{k}']().m0(1)"]
    executed += [len(lines) - 1, len(lines)]
    assert len(lines) == 100_102
    (tmp_path / "big.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A 50,000-character line.
    wide = "w = [" + ", ".join(str(i % 10) for i in range(16_700)) + "]"
    assert len(wide) >= 50_000
    write(tmp_path / "wide.py", f"{wide}\nif w[0]:\n    never()\nv = 2\n")
    write(tmp_path / "main.py", "import big, wide\n")
    res = covcore("run", "main.py", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    # One report (JSON: every number and line) keeps the test short; every
    # report shares its analysis.
    res = covcore("json", "-o", "-", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    report = json.loads(res.out)
    files = report["files"]
    assert files["big.py"]["executed_lines"] == sorted(executed)
    assert files["big.py"]["missing_lines"] == sorted(missing)
    assert (len(executed), len(missing)) == (10_702, 69_400)
    assert files["wide.py"]["executed_lines"] == [1, 2, 4]
    assert files["wide.py"]["missing_lines"] == [3]
    assert (report["totals"]["num_statements"], report["totals"]["missing_lines"]) == (80_102 + 1 + 4, 69_401)


# -- sources without a file of their own -------------------------------------

def make_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "lib.zip", "w") as zf:
        zf.writestr("zmod.py", "def g(x):\n    if x:\n        return 1\n    return 2\n")


@pytest.mark.backend
def test_module_imported_from_a_zip_is_reported_from_the_zip(tmp_path):
    make_zip(tmp_path)
    write(tmp_path / "main.py", """\
        import sys
        sys.path.insert(0, "lib.zip")
        import zmod
        zmod.g(1)
    """)
    assert covcore("run", "main.py", cwd=tmp_path).rc == 0
    res = covcore("report", "-m", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    assert res.out == (
        "Name              Stmts   Miss  Cover   Missing\n"
        "-----------------------------------------------\n"
        "lib.zip/zmod.py       4      1    75%   4\n"
        "main.py               4      0   100%\n"
        "-----------------------------------------------\n"
        "TOTAL                 8      1    88%\n"
    )
    res = covcore("json", "-o", "-", cwd=tmp_path)
    assert json.loads(res.out)["files"]["lib.zip/zmod.py"]["missing_lines"] == [4]
    res = covcore("lcov", "-o", "-", cwd=tmp_path)
    assert "SF:lib.zip/zmod.py\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,0\n" in res.out
    res = covcore("xml", "-o", "-", cwd=tmp_path)
    assert re.findall(r'filename="([^"]*)"', res.out) == ["main.py", "lib.zip/zmod.py"]
    res = covcore("html", cwd=tmp_path)
    assert res.rc == 0, res
    assert "lib.zip/zmod.py" in (tmp_path / "htmlcov" / "index.html").read_text(encoding="utf-8")
    # annotate writes beside each source: there is no beside inside an archive.
    res = covcore("annotate", cwd=tmp_path)
    assert (res.rc, res.err) == (1, (
        f"covcore: Can't write '{tmp_path / 'lib.zip' / 'zmod.py'},cover' beside its source: "
        f"the source is inside the archive '{tmp_path / 'lib.zip'}' (use 'covcore annotate -d DIR')\n")), res
    res = covcore("annotate", "-d", "ann", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    [zcover] = [p for p in (tmp_path / "ann").iterdir() if p.name.endswith("_zmod.py,cover")]
    assert zcover.read_text(encoding="utf-8") == (
        "> def g(x):\n>     if x:\n>         return 1\n!     return 2\n"
    )


@pytest.mark.backend
def test_code_without_a_source_file_is_never_reported(tmp_path):
    write(tmp_path / "mod.py", MOD)
    write(tmp_path / "main.py", """\
        exec("a = 1\\nb = 2\\n")
        exec(compile("c = 3\\n", "<string>", "exec"))
        eval("1 + 1")
        import mod
    """)
    res = covcore("run", "main.py", cwd=tmp_path)
    assert (res.rc, res.err) == (0, ""), res
    table = (
        "Name      Stmts   Miss  Cover   Missing\n"
        "---------------------------------------\n"
        "main.py       4      0   100%\n"
        "mod.py        5      1    80%   4\n"
        "---------------------------------------\n"
        "TOTAL         9      1    89%\n"
    )
    res = covcore("report", "-m", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, table, ""), res
    # `python -c` and `python -` (<stdin>) measuring themselves with the API.
    api = "import covcore; cov = covcore.Coverage(); cov.start(); exec('z = 1'); import mod; cov.stop(); cov.save()"
    env = clean_env()
    for argv, stdin in ([[sys.executable, "-c", api], None], [[sys.executable, "-"], api]):
        (tmp_path / ".covcore").unlink()
        proc = subprocess.run(argv, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=120)
        assert (proc.returncode, proc.stderr) == (0, ""), proc
        res = covcore("report", "-m", cwd=tmp_path)
        assert (res.rc, res.err) == (0, ""), res
        assert res.out == (
            "Name     Stmts   Miss  Cover   Missing\n"
            "--------------------------------------\n"
            "mod.py       5      1    80%   4\n"
            "--------------------------------------\n"
            "TOTAL        5      1    80%\n"
        ), (argv, res)


# -- configuration -----------------------------------------------------------

def simple_project(tmp_path: Path) -> None:
    write(tmp_path / "prog.py", "x = 1\nprint('ran')\n")


@pytest.mark.parametrize(
    "filename, text, shown",
    [
        (".covcorerc", "[run]\nfoo = 1\n[report]\nshow_missing = true\n[bar]\nx = 1\n",
         ["Unrecognized option '[run] foo=' in config file '.covcorerc' (unknown-option)",
          "Unrecognized section '[bar]' in config file '.covcorerc' (unknown-section)"]),
        (".coveragerc", "[run]\nfoo = 1\n",
         ["Unrecognized option '[run] foo=' in config file '.coveragerc' (unknown-option)"]),
        ("setup.cfg", "[covcore:run]\nfoo = 1\n[covcore:report]\nbaz = 2\n[flake8]\nmax = 1\n",
         ["Unrecognized option '[covcore:run] foo=' in config file 'setup.cfg' (unknown-option)",
          "Unrecognized option '[covcore:report] baz=' in config file 'setup.cfg' (unknown-option)"]),
        ("pyproject.toml", "[tool.covcore.run]\nfoo = 1\n[tool.covcore.bar]\nx = 1\n[tool.black]\nline = 1\n",
         ["Unrecognized option '[tool.covcore.run] foo=' in config file 'pyproject.toml' (unknown-option)",
          "Unrecognized section '[tool.covcore.bar]' in config file 'pyproject.toml' (unknown-section)"]),
    ],
)
def test_unknown_options_and_sections_warn(tmp_path, filename, text, shown):
    simple_project(tmp_path)
    write(tmp_path / filename, text)
    warnings = "".join(f"covcore: Warning: {line}\n" for line in shown)
    res = covcore("run", "prog.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (0, "ran\n", warnings), res
    res = covcore("report", cwd=tmp_path)
    assert (res.rc, res.err) == (0, warnings), res
    assert res.out.splitlines()[2].split()[0] == "prog.py"


WRONG_TYPES = [
    (".covcorerc", "[run]\nbranch = maybe\n", "Config option [run] branch: invalid value 'maybe' (expected a boolean) in '.covcorerc'"),
    (".covcorerc", "[report]\nfail_under = lots\n",
     "Config option [report] fail_under: invalid value 'lots' (expected a number from 0 to 100) in '.covcorerc'"),
    (".covcorerc", "[report]\nprecision = -1\n",
     "Config option [report] precision: invalid value '-1' (expected an integer from 0 to 10) in '.covcorerc'"),
    ("setup.cfg", "[covcore:report]\nskip_covered = sometimes\n",
     "Config option [covcore:report] skip_covered: invalid value 'sometimes' (expected a boolean) in 'setup.cfg'"),
    ("pyproject.toml", "[tool.covcore.run]\nbranch = \"maybe\"\n",
     "Config option [tool.covcore.run] branch: invalid value 'maybe' (expected a boolean) in 'pyproject.toml'"),
    ("pyproject.toml", "[tool.covcore.report]\nfail_under = \"lots\"\n",
     "Config option [tool.covcore.report] fail_under: invalid value 'lots' (expected a number from 0 to 100) in 'pyproject.toml'"),
    ("pyproject.toml", "[tool.covcore.report]\nprecision = -1\n",
     "Config option [tool.covcore.report] precision: invalid value -1 (expected an integer from 0 to 10) in 'pyproject.toml'"),
    ("pyproject.toml", "[tool.covcore.run]\nomit = 3\n",
     "Config option [tool.covcore.run] omit: invalid value 3 (expected a list of strings) in 'pyproject.toml'"),
]

MALFORMED = [
    (".covcorerc", "[report\nprecision = 1\n", "line 1: unclosed section header '[report'"),
    (".covcorerc", "[run]\nbranch = true\n[report\n", "line 3: unclosed section header '[report'"),
    (".covcorerc", "[run]\nbranch = true\nbranch = false\n", "line 3: option 'branch' is set twice in section [run]"),
    (".covcorerc", "[run]\nbranch = true\n[run]\n", "line 3: section [run] appears twice"),
    (".covcorerc", "branch = true\n[run]\n", "line 1: 'branch = true' comes before any [section] header"),
    (".covcorerc", "[run]\nbranch = true\n\"quoted\n", "line 3: can't parse '\"quoted'"),
    ("pyproject.toml", "[tool.covcore.run\nbranch = true\n",
     "Expected ']' at the end of a table declaration (at line 1, column 18)"),
    ("pyproject.toml", "[tool.covcore.run]\nbranch = true\nbranch = false\n", "Cannot overwrite a value (at line 3, column 15)"),
    ("pyproject.toml", "[tool.covcore.run]\nsource = \"src\n", "Illegal character '\\n' (at line 2, column 14)"),
]


BAD_CONFIGS = WRONG_TYPES + [
    (filename, text, f"Couldn't read config file '{filename}': {problem}") for filename, text, problem in MALFORMED
]


@pytest.mark.parametrize("filename, text, message", BAD_CONFIGS)
def test_bad_config_is_an_error(tmp_path, filename, text, message):
    simple_project(tmp_path)
    write(tmp_path / filename, text)
    res = covcore("report", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", f"covcore: {message}\n"), res


@pytest.mark.parametrize("case", [0, 5, 8, 14], ids=lambda i: f"{BAD_CONFIGS[i][0]}-{i}")
def test_bad_config_is_an_error_for_every_command(tmp_path, case):
    filename, text, message = BAD_CONFIGS[case]
    simple_project(tmp_path)
    assert covcore("run", "prog.py", cwd=tmp_path).rc == 0
    write(tmp_path / filename, text)
    os.remove(tmp_path / ".covcore")
    res = covcore("run", "prog.py", cwd=tmp_path)
    # The program doesn't run under a configuration that can't be read.
    assert (res.rc, res.out, res.err) == (1, "", f"covcore: {message}\n"), res
    assert not (tmp_path / ".covcore").exists()
    for command in REPORT_COMMANDS + ["combine", "erase", "debug config"]:
        res = covcore(*command.split(), cwd=tmp_path)
        assert (res.rc, res.out, res.err) == (1, "", f"covcore: {message}\n"), (command, res)


def test_rcfile_that_does_not_exist(tmp_path):
    simple_project(tmp_path)
    for command in ["run prog.py", "report", "xml"]:
        args = command.split()
        res = covcore(args[0], "--rcfile=nothere.cfg", *args[1:], cwd=tmp_path)
        assert (res.rc, res.out, res.err) == (1, "", "covcore: Couldn't read 'nothere.cfg' as a config file\n"), res
    res = covcore("report", cwd=tmp_path, env=clean_env(COVCORE_RCFILE="nothere.toml"))
    assert (res.rc, res.out, res.err) == (1, "", "covcore: Couldn't read 'nothere.toml' as a config file\n"), res
    assert not (tmp_path / ".covcore").exists()


def test_source_with_include_warns_and_ignores_include(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "VERSION = 1\n")
    write(tmp_path / "pkg" / "a.py", "A = 1\n")
    write(tmp_path / "other.py", "B = 2\n")
    write(tmp_path / "prog.py", "import pkg.a, other\n")
    expected = "covcore: Warning: --include is ignored because --source is set (include-ignored)\n"
    table = (
        "Name              Stmts   Miss  Cover\n"
        "-------------------------------------\n"
        "pkg/__init__.py       1      0   100%\n"
        "pkg/a.py              1      0   100%\n"
        "-------------------------------------\n"
        "TOTAL                 2      0   100%\n"
    )
    res = covcore("run", "--source=pkg", "--include=other.py", "prog.py", cwd=tmp_path)
    assert (res.rc, res.err) == (0, expected), res
    assert covcore("report", cwd=tmp_path).out == table
    write(tmp_path / ".covcorerc", "[run]\nsource = pkg\ninclude = other.py\n")
    res = covcore("run", "prog.py", cwd=tmp_path)
    assert (res.rc, res.err) == (0, expected), res
    assert covcore("report", cwd=tmp_path).out == table


def test_parallel_with_append_is_an_error(tmp_path):
    simple_project(tmp_path)
    message = "covcore: Can't append to data files in parallel mode.\n"
    res = covcore("run", "-p", "-a", "prog.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", message), res
    write(tmp_path / ".covcorerc", "[run]\nparallel = true\n")
    res = covcore("run", "-a", "prog.py", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", message), res
    assert sorted(p.name for p in tmp_path.iterdir()) == [".covcorerc", "prog.py"]


# -- the command line ----------------------------------------------------------

CLI_ERRORS = [
    (["frob"], "argument COMMAND: invalid choice: 'frob' (choose from 'run', 'report', 'html', 'xml', 'json', "
               "'lcov', 'annotate', 'combine', 'erase', 'debug', 'help') (see 'covcore --help')"),
    (["--frob"], "unrecognized arguments: --frob (see 'covcore --help')"),
    (["run", "--frob", "prog.py"], "unrecognized arguments: --frob (see 'covcore run --help')"),
    (["report", "--frob"], "unrecognized arguments: --frob (see 'covcore report --help')"),
    (["html", "-x"], "unrecognized arguments: -x (see 'covcore html --help')"),
    (["run"], "Nothing to do: give a program to run ('covcore run PROGRAM' or 'covcore run -m MODULE')"),
    (["run", "-m"], "No module specified for -m"),
    (["run", "missing.py"], "No file to run: 'missing.py'"),
    (["run", "-m", "no_such_module_xyz"], "No module named 'no_such_module_xyz'"),
    (["run", "-m", "no_such_pkg_xyz.sub"], "No module named 'no_such_pkg_xyz.sub' (No module named 'no_such_pkg_xyz')"),
    (["run", "syntax.py"], "Couldn't run 'syntax.py': invalid syntax (line 2)"),
    (["report", "--precision=x"], "argument --precision: invalid integer: 'x' (see 'covcore report --help')"),
    (["html", "--precision=x"], "argument --precision: invalid integer: 'x' (see 'covcore html --help')"),
    (["report", "--precision=11"],
     "argument --precision: invalid value '11' (expected an integer from 0 to 10) (see 'covcore report --help')"),
    (["report", "--precision=-1"],
     "argument --precision: invalid value '-1' (expected an integer from 0 to 10) (see 'covcore report --help')"),
    (["report", "--sort=size"], "Invalid sorting option: 'size'"),
    (["report", "--format=pdf"],
     "argument --format: invalid choice: 'pdf' (choose from 'text', 'markdown', 'total') (see 'covcore report --help')"),
    (["debug", "nothing"],
     "argument TOPIC: invalid choice: 'nothing' (choose from 'sys', 'config', 'data', 'premain') (see 'covcore debug --help')"),
    (["help", "frob"], "Don't know topic 'frob'"),
] + [
    ([command, "--fail-under=lots"], f"argument --fail-under: invalid number: 'lots' (see 'covcore {command} --help')")
    for command in ["report", "html", "xml", "json", "lcov"]
] + [
    ([command, f"--fail-under={value}"],
     f"argument --fail-under: invalid value '{value}' (expected a number from 0 to 100) (see 'covcore {command} --help')")
    for command, value in [("report", "101"), ("xml", "-5"), ("lcov", "nan")]
]


@pytest.mark.parametrize("args, message", CLI_ERRORS, ids=[" ".join(a) for a, _ in CLI_ERRORS])
def test_command_line_errors(tmp_path, args, message):
    write(tmp_path / "prog.py", "print('ran')\n")
    write(tmp_path / "syntax.py", "x = 1\ndef f(:\n")
    if "--sort=size" in args:  # checked once the data is read
        assert covcore("run", "prog.py", cwd=tmp_path).rc == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    res = covcore(*args, cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", f"covcore: {message}\n"), res
    # Nothing measured, nothing written.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
