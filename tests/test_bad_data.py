"""Bad data files, and combine's safety: every command that reads data gives
one clear line naming the file and the problem (no traceback, exit code 1),
combine skips what it can't or mustn't use and never loses or deletes data it
did not combine, and names with spaces, unicode and URI characters just work.

Real processes throughout (``python -m covcore``, ``python -m coverage``); the
good data files are made once per module by real ``covcore run`` runs.
"""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from cmdhelpers import covcore, coveragepy, write
from covcore.combine import combine_parallel_data
from covcore.data import CoverageData
from covcore.dataread import read_data_file
from covcore.errors import DataError

PROG = """\
import sys

def f(x):
    if x:
        return 1
    return 2

f(len(sys.argv) > 1)
"""
#: The lines of PROG a run without arguments executes, and one with an argument.
LINES_A = [1, 3, 4, 6, 8]
LINES_B = [1, 3, 4, 5, 8]

#: Every command that reads the data file.
READERS = [["report"], ["html"], ["xml"], ["json"], ["lcov"], ["annotate"], ["debug", "data"]]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Real data files, as bytes: covcore line and branch data of runs without
    (``*_a``) and with (``*_b``) an argument, and a coverage.py data file."""
    src = tmp_path_factory.mktemp("src").resolve()
    write(src / "prog.py", PROG)
    out = {"src": src, "prog": str(src / "prog.py")}
    for name, args in [("line_a", []), ("line_b", ["x"]), ("branch_a", []), ("branch_b", ["x"])]:
        branch = ["--branch"] if name.startswith("branch") else []
        res = covcore("run", *branch, "prog.py", *args, cwd=src)
        assert (res.rc, res.err) == (0, ""), res
        out[name] = (src / ".covcore").read_bytes()
        (src / ".covcore").unlink()
    res = coveragepy("run", "prog.py", cwd=src)
    assert res.rc == 0, res
    out["coveragepy"] = (src / ".coverage").read_bytes()
    (src / ".coverage").unlink()
    return out


def _unusable(path: Path, problem: str) -> str:
    return f"Couldn't use data file {str(path)!r}: {problem}"


def _damaged(made: dict, scratch: Path, base: str, *sql: str) -> bytes:
    """A real data file, changed with SQL: still a valid SQLite file."""
    path = scratch / f"damaged-{len(list(scratch.iterdir()))}"
    path.write_bytes(made[base])
    con = sqlite3.connect(path)
    for statement in sql:
        con.execute(statement)
    con.commit()
    con.close()
    return path.read_bytes()


# -- 1. Bad data files: every reader ------------------------------------------

FILE_KINDS = ["empty", "truncated-1", "truncated-4096", "truncated-last-byte", "random", "foreign-sqlite", "newer-schema", "older-schema", "coverage.py"]


def _bad_file(kind: str, made: dict, scratch: Path) -> tuple[bytes, str]:
    """(content, problem) for each kind of bad data file."""
    good = made["line_a"]
    size = len(good)
    if kind == "empty":
        return b"", "the file is empty"
    if kind.startswith("truncated-"):
        cut = {"1": 1, "100": 100, "4096": 4096, "half": size // 2, "last-byte": size - 1}[kind.split("-", 1)[1]]
        assert cut < size
        if cut < 100:
            return good[:cut], "the file is truncated (shorter than an SQLite header)"
        return good[:cut], f"the file is truncated ({cut} of its {size} bytes)"
    if kind == "random":
        content = random.Random(1).randbytes(5000)
        assert not content.startswith(b"S")
        return content, "file is not a database"
    if kind == "foreign-sqlite":
        path = scratch / "foreign.db"
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
        return path.read_bytes(), "it doesn't seem to be a covcore data file (it has no covcore_schema table)"
    if kind == "newer-schema":
        return (_damaged(made, scratch, "line_a", "UPDATE covcore_schema SET version = 2"),
                "it has schema version 2, but this covcore reads version 1; "
                "it was written by a newer covcore: report it with that version")
    if kind == "older-schema":
        return (_damaged(made, scratch, "line_a", "UPDATE covcore_schema SET version = 0"),
                "it has schema version 0, but this covcore reads version 1; "
                "it was written by an older covcore: measure again")
    if kind == "coverage.py":
        return (made["coveragepy"],
                "it is a coverage.py data file, not covcore's; measure with covcore, or report it with coverage.py")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_bad_data_file_every_reader(tmp_path, made, kind):
    """report, html, xml, json, lcov, annotate and debug data: exit 1, one
    line naming the file and the problem; the file is left as it was and no
    report is written."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proj = tmp_path / "proj"
    proj.mkdir()
    content, problem = _bad_file(kind, made, scratch)
    path = proj / ".covcore"
    path.write_bytes(content)
    expected = f"covcore: {_unusable(path, problem)}\n"
    for args in READERS:
        res = covcore(*args, cwd=proj)
        assert (res.rc, res.out, res.err) == (1, "", expected), (args, res)
    assert path.read_bytes() == content
    assert os.listdir(proj) == [".covcore"]


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_bad_input_to_combine_is_skipped_and_kept(tmp_path, made, kind):
    """combine warns about the bad input (naming it), combines the good one,
    removes only the good one, exits 0; with only the bad one left it exits 1
    ("No usable data files") and changes nothing."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proj = tmp_path / "proj"
    proj.mkdir()
    content, problem = _bad_file(kind, made, scratch)
    bad = proj / ".covcore.bad"
    bad.write_bytes(content)
    (proj / ".covcore.good").write_bytes(made["line_a"])
    warning = f"covcore: Warning: {_unusable(bad, problem)} (couldnt-combine)\n"

    res = covcore("combine", cwd=proj)
    assert (res.rc, res.out, res.err) == (0, "Combined 1 file, 1 file errored\n", warning)
    assert sorted(os.listdir(proj)) == [".covcore", ".covcore.bad"]
    assert bad.read_bytes() == content
    assert read_data_file(str(proj / ".covcore")).lines(made["prog"]) == LINES_A

    before = (proj / ".covcore").read_bytes()
    res = covcore("combine", cwd=proj)
    assert (res.rc, res.out, res.err) == (1, "", warning + "covcore: No usable data files\n")
    assert bad.read_bytes() == content
    assert (proj / ".covcore").read_bytes() == before


def test_report_combines_beside_a_bad_parallel_file(tmp_path):
    """A report combines the parallel files beside the data file first: a bad
    one is a warning and is kept, the report is made."""
    write(tmp_path / "prog.py", PROG)
    assert covcore("run", "-p", "prog.py", cwd=tmp_path).rc == 0
    bad = tmp_path / ".covcore.bad"
    bad.write_bytes(b"")
    res = covcore("report", "-m", cwd=tmp_path)
    assert res.rc == 0, res
    assert res.err == f"covcore: Warning: {_unusable(bad, 'the file is empty')} (couldnt-combine)\n"
    assert res.out == (
        "Combined 1 file, 1 file errored\n"
        "Name      Stmts   Miss  Cover   Missing\n"
        "---------------------------------------\n"
        "prog.py       6      1    83%   5\n"
        "---------------------------------------\n"
        "TOTAL         6      1    83%\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".covcore", ".covcore.bad", "prog.py"]


# -- 1 and 4. Line data with branch data: an error, and nothing lost ------------

def test_line_and_branch_data_never_mix_and_nothing_is_lost(tmp_path, made):
    target = tmp_path / ".covcore"
    target.write_bytes(made["line_a"])
    line_in = tmp_path / ".covcore.1-line"
    line_in.write_bytes(made["line_b"])
    branch_in = tmp_path / ".covcore.2-branch"
    branch_in.write_bytes(made["branch_b"])
    files = {p: p.read_bytes() for p in (target, line_in, branch_in)}
    advice = ": measure every run with the same --branch setting\n"

    def unchanged():
        assert {p: p.read_bytes() for p in tmp_path.iterdir()} == files

    # --append: the data file holds line data; the line input was merged first
    # but is not removed, since the combine fails.
    res = covcore("combine", "--append", cwd=tmp_path)
    assert (res.rc, res.out) == (1, "")
    assert res.err == f"covcore: Can't combine branch data from {str(branch_in)!r} with line data from {str(target)!r}{advice}"
    unchanged()
    # Without --append the data file would be replaced, but only on success.
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out) == (1, "")
    assert res.err == f"covcore: Can't combine branch data from {str(branch_in)!r} with line data from {str(line_in)!r}{advice}"
    unchanged()
    # A report combines the parallel files first: the same error, nothing lost.
    for args in READERS:
        if args == ["debug", "data"]:
            continue  # reads the data file only, combines nothing
        res = covcore(*args, cwd=tmp_path)
        assert (res.rc, res.out) == (1, ""), (args, res)
        assert res.err == f"covcore: Can't combine branch data from {str(branch_in)!r} with line data from {str(target)!r}{advice}"
        unchanged()


def test_failing_combine_changes_nothing_in_memory(tmp_path, made):
    """The API: a DataError from combine leaves the CoverageData as it was."""
    (tmp_path / ".covcore.1").write_bytes(made["line_b"])
    (tmp_path / ".covcore.2").write_bytes(made["branch_b"])
    data = CoverageData(basename=str(tmp_path / ".covcore"))
    data.add_lines({"/other.py": {7}})
    with pytest.raises(DataError, match="^Can't combine branch data from .* with line data from "):
        combine_parallel_data(data)
    assert data.measured_files() == {"/other.py"}
    assert sorted(os.listdir(tmp_path)) == [".covcore.1", ".covcore.2"]


def test_failing_combine_keeps_existing_data_file(tmp_path, made):
    """"No data to combine" and "No usable data files" leave the data file alone."""
    target = tmp_path / ".covcore"
    target.write_bytes(made["line_a"])
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", "covcore: No data to combine\n")
    assert target.read_bytes() == made["line_a"]
    # The data file itself, named: not an input.
    res = covcore("combine", "--append", ".covcore", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", "covcore: No usable data files\n")
    assert os.listdir(tmp_path) == [".covcore"]
    assert target.read_bytes() == made["line_a"]
    # A bad data file with --append: an error before anything is combined.
    target.write_bytes(b"junk" * 100)
    (tmp_path / ".covcore.good").write_bytes(made["line_b"])
    res = covcore("combine", "--append", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", f"covcore: {_unusable(target, 'file is not a database')}\n")
    assert target.read_bytes() == b"junk" * 100
    assert (tmp_path / ".covcore.good").read_bytes() == made["line_b"]


# -- 1. Names with spaces, unicode and URI characters ---------------------------

def test_data_file_name_with_spaces_unicode_and_uri_characters(tmp_path):
    proj = tmp_path / "prøject dïr"
    write(proj / "prog.py", PROG)
    name = "dätä fïle #1 %20?.db"
    assert covcore("run", "-p", f"--data-file={name}", "prog.py", cwd=proj).rc == 0
    assert covcore("run", "-p", f"--data-file={name}", "prog.py", "x", cwd=proj).rc == 0
    assert len([p for p in os.listdir(proj) if p.startswith(name + ".")]) == 2
    res = covcore("combine", f"--data-file={name}", cwd=proj)
    assert (res.rc, res.out, res.err) == (0, "Combined 2 files\n", "")
    assert sorted(os.listdir(proj)) == [name, "prog.py"]
    res = covcore("report", "-m", f"--data-file={name}", cwd=proj)
    assert (res.rc, res.err) == (0, "")
    assert res.out == (
        "Name      Stmts   Miss  Cover   Missing\n"
        "---------------------------------------\n"
        "prog.py       6      0   100%\n"
        "---------------------------------------\n"
        "TOTAL         6      0   100%\n"
    )
    res = covcore("debug", "data", f"--data-file={name}", cwd=proj)
    assert res.rc == 0 and str(proj / name) in res.out, res
    # Run again into the combined file, not in parallel mode.
    assert covcore("run", "--append", f"--data-file={name}", "prog.py", cwd=proj).rc == 0
    assert read_data_file(str(proj / name)).lines(str(proj / "prog.py")) == [1, 3, 4, 5, 6, 8]


# -- 2. combine and symbolic links; what it never deletes ------------------------

def _warning(path: Path, why: str) -> str:
    return f"covcore: Warning: Skipping {str(path)!r}: {why} (combine-skipped)\n"


def test_combine_does_not_follow_links_out_of_the_directory(tmp_path, made):
    tmp_path = tmp_path.resolve()
    proj, outside = tmp_path / "proj", tmp_path / "outside"
    proj.mkdir()
    outside.mkdir()
    (proj / ".covcore.good").write_bytes(made["line_a"])
    (outside / ".covcore.x").write_bytes(made["line_b"])
    (proj / ".covcore.link").symlink_to(outside / ".covcore.x")
    (proj / ".covcore.dirlink").symlink_to(outside)
    res = covcore("combine", cwd=proj)
    hint = f"outside {str(proj)!r} (name it on the command line to combine it)"
    assert (res.rc, res.out) == (0, "Combined 1 file\n")
    assert res.err == (
        _warning(proj / ".covcore.dirlink", f"a symbolic link to {str(outside)!r}, {hint}")
        + _warning(proj / ".covcore.link", f"a symbolic link to {str(outside / '.covcore.x')!r}, {hint}")
    )
    assert read_data_file(str(proj / ".covcore")).lines(made["prog"]) == LINES_A
    assert sorted(os.listdir(proj)) == [".covcore", ".covcore.dirlink", ".covcore.link"]
    assert os.listdir(outside) == [".covcore.x"]

    # Named on the command line, a link is used as given ("asked"): the link
    # is removed once combined, what it points to never.
    res = covcore("combine", "--append", ".covcore.link", cwd=proj)
    assert (res.rc, res.out, res.err) == (0, "Combined 1 file\n", "")
    assert read_data_file(str(proj / ".covcore")).lines(made["prog"]) == [1, 3, 4, 5, 6, 8]
    assert sorted(os.listdir(proj)) == [".covcore", ".covcore.dirlink"]
    assert (outside / ".covcore.x").read_bytes() == made["line_b"]

    # A named directory (here a link to one) is searched; --keep removes nothing.
    (outside / ".covcore.y").write_bytes(made["line_a"])
    res = covcore("combine", "--keep", ".covcore.dirlink", cwd=proj)
    assert (res.rc, res.out, res.err) == (0, "Combined 2 files\n", "")
    assert sorted(os.listdir(outside)) == [".covcore.x", ".covcore.y"]
    assert read_data_file(str(proj / ".covcore")).lines(made["prog"]) == [1, 3, 4, 5, 6, 8]


def test_combine_skips_and_keeps_what_it_does_not_combine(tmp_path, made):
    """Links inside the directory are followed; link loops, broken links,
    directories, FIFOs, temporary files and the data file itself (through a
    link) are skipped and never removed."""
    tmp_path = tmp_path.resolve()
    (tmp_path / ".covcore.good").write_bytes(made["line_a"])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.db").write_bytes(made["line_b"])
    (tmp_path / ".covcore.inside").symlink_to("sub/data.db")
    (tmp_path / ".covcore.loop").symlink_to(".covcore.loop")
    (tmp_path / ".covcore.ping").symlink_to(".covcore.pong")
    (tmp_path / ".covcore.pong").symlink_to(".covcore.ping")
    (tmp_path / ".covcore.dangling").symlink_to("nowhere")
    (tmp_path / ".covcore.dir").mkdir()
    os.mkfifo(tmp_path / ".covcore.fifo")
    (tmp_path / ".covcore.w.tmp-12-34").write_bytes(made["line_b"][:4096])
    (tmp_path / ".covcore.w-journal").write_bytes(b"journal")
    old = CoverageData(basename=str(tmp_path / ".covcore"))
    old.add_lines({"/old/data.py": {1}})
    old.write()
    (tmp_path / ".covcore.self").symlink_to(".covcore")

    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 2 files\n"), res
    assert res.err == (
        _warning(tmp_path / ".covcore.dangling", "a symbolic link to 'nowhere', which doesn't exist")
        + _warning(tmp_path / ".covcore.dir", "a directory, not a data file")
        + _warning(tmp_path / ".covcore.fifo", "a FIFO, not a data file")
        + _warning(tmp_path / ".covcore.loop", "a symbolic link in a loop (to '.covcore.loop')")
        + _warning(tmp_path / ".covcore.ping", "a symbolic link in a loop (to '.covcore.pong')")
        + _warning(tmp_path / ".covcore.pong", "a symbolic link in a loop (to '.covcore.ping')")
    )
    data = read_data_file(str(tmp_path / ".covcore"))
    assert data.measured_files() == {made["prog"]}  # not the old data, through .covcore.self
    assert data.lines(made["prog"]) == [1, 3, 4, 5, 6, 8]
    assert sorted(os.listdir(tmp_path)) == [
        ".covcore", ".covcore.dangling", ".covcore.dir", ".covcore.fifo", ".covcore.loop", ".covcore.ping",
        ".covcore.pong", ".covcore.self", ".covcore.w-journal", ".covcore.w.tmp-12-34", "sub",
    ]
    assert (tmp_path / "sub" / "data.db").read_bytes() == made["line_b"]
    assert (tmp_path / ".covcore.w-journal").read_bytes() == b"journal"

    # A loop named on the command line: an error, nothing changed.
    before = (tmp_path / ".covcore").read_bytes()
    res = covcore("combine", ".covcore.loop", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", "covcore: Couldn't combine from non-existent path '.covcore.loop'\n")
    assert (tmp_path / ".covcore").read_bytes() == before


def test_keep_removes_nothing(tmp_path, made):
    (tmp_path / ".covcore.1").write_bytes(made["line_a"])
    (tmp_path / ".covcore.2").write_bytes(made["line_a"])  # a duplicate
    (tmp_path / ".covcore.3").write_bytes(made["line_b"])
    (tmp_path / ".covcore.4").write_bytes(b"")
    res = covcore("combine", "--keep", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 2 files, skipped 1, 1 file errored\n")
    assert sorted(os.listdir(tmp_path)) == [".covcore", ".covcore.1", ".covcore.2", ".covcore.3", ".covcore.4"]
    # Without --keep, a duplicate goes with the input it duplicates (its
    # measurements are in the data file); the unusable input stays.
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 2 files, skipped 1, 1 file errored\n")
    assert sorted(os.listdir(tmp_path)) == [".covcore", ".covcore.4"]
    assert read_data_file(str(tmp_path / ".covcore")).lines(made["prog"]) == [1, 3, 4, 5, 6, 8]


# -- 3. Valid SQLite, damaged contents: a DataError naming the file ------------

def _decode_error(made: dict, scratch: Path, sql: str, query: str) -> str:
    """What this Python's sqlite3 says when it reads text that isn't UTF-8."""
    path = scratch / "probe"
    path.write_bytes(_damaged(made, scratch, "line_a", sql))
    con = sqlite3.connect(path)
    try:
        con.execute(query).fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        con.close()
    raise AssertionError("no decode error")


DAMAGE = {
    # id: (base file, SQL, problem; "{prog}" is the measured file's path)
    "numbits-text": ("line_a", ["UPDATE line_bits SET numbits = 'abc'"],
                     "line_bits for {prog!r} holds str 'abc', not packed data (a BLOB)"),
    "numbits-integer": ("line_a", ["UPDATE line_bits SET numbits = 42"],
                        "line_bits for {prog!r} holds int 42, not packed data (a BLOB)"),
    "numbits-null": ("line_a", ["CREATE TABLE lb (file_id INTEGER, context_id INTEGER, numbits BLOB)",
                                "INSERT INTO lb SELECT file_id, context_id, NULL FROM line_bits",
                                "DROP TABLE line_bits", "ALTER TABLE lb RENAME TO line_bits"],
                     "line_bits for {prog!r} holds NoneType None, not packed data (a BLOB)"),
    "arc-pairs-odd-length": ("branch_a", ["UPDATE arc_pairs SET pairs = x'0102030405'"],
                             "arc_pairs for {prog!r} holds 5 bytes, not whole (from, to) pairs of 4-byte numbers"),
    "arc-pairs-text": ("branch_a", ["UPDATE arc_pairs SET pairs = 'x'"],
                       "arc_pairs for {prog!r} holds str 'x', not packed data (a BLOB)"),
    "unknown-file-id": ("line_a", ["UPDATE line_bits SET file_id = 99"],
                        "a line_bits row refers to file id 99, which is not in the file table"),
    "negative-context-id": ("line_a", ["UPDATE line_bits SET context_id = -5"],
                            "a line_bits row refers to context id -5, which is not in the context table"),
    "has-arcs-not-a-flag": ("line_a", ["UPDATE meta SET value = 'yes' WHERE key = 'has_arcs'"],
                            "meta has_arcs is 'yes', not '0' or '1'"),
    "has-arcs-missing": ("line_a", ["DELETE FROM meta WHERE key = 'has_arcs'"],
                         "meta has_arcs is None, not '0' or '1'"),
    "lines-in-branch-file": ("line_a", ["UPDATE meta SET value = '1' WHERE key = 'has_arcs'"],
                             "it is branch data (meta has_arcs = '1') but holds line data (line_bits rows)"),
    "arcs-in-line-file": ("branch_a", ["UPDATE meta SET value = '0' WHERE key = 'has_arcs'"],
                          "it is line data (meta has_arcs = '0') but holds branch data (arc_pairs rows)"),
    "tracer-blob": ("line_a", ["INSERT INTO tracer VALUES (1, x'00ff')"],
                    "the tracer of {prog!r} is b'\\x00\\xff', not a name"),
    "tracer-unknown-file": ("line_a", ["INSERT INTO tracer VALUES (77, 'plugin')"],
                            "a tracer row refers to file id 77, which is not in the file table"),
    "schema-version-text": ("line_a", ["UPDATE covcore_schema SET version = 'one'"],
                            "it has schema version 'one', but this covcore reads version 1; the file is damaged"),
    "table-missing": ("line_a", ["DROP TABLE line_bits"], "no such table: line_bits"),
    "path-not-utf8": ("line_a", ["UPDATE file SET path = CAST(x'2f61ff62' AS TEXT)"], "decode:SELECT path FROM file"),
}


def _damage(kind: str, made: dict, scratch: Path) -> tuple[bytes, str]:
    base, sql, problem = DAMAGE[kind]
    if problem.startswith("decode:"):
        problem = _decode_error(made, scratch, sql[0], problem[len("decode:"):])
    return _damaged(made, scratch, base, *sql), problem.format(prog=made["prog"])


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_contents_are_a_data_error(tmp_path, made, kind):
    """Wrong types and values in a valid SQLite file: one line naming the file
    (report exits 1; combine warns, combines the rest and keeps the file);
    from the API, a DataError and never another exception."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    content, problem = _damage(kind, made, scratch)
    path = tmp_path / ".covcore"
    path.write_bytes(content)

    with pytest.raises(DataError) as info:
        read_data_file(str(path))
    assert str(info.value) == _unusable(path, problem)

    res = covcore("report", cwd=tmp_path)
    assert (res.rc, res.out, res.err) == (1, "", f"covcore: {_unusable(path, problem)}\n")

    bad = tmp_path / ".covcore.bad"
    path.rename(bad)
    (tmp_path / ".covcore.good").write_bytes(made["line_b"])
    res = covcore("combine", cwd=tmp_path)
    assert (res.rc, res.out) == (0, "Combined 1 file, 1 file errored\n")
    assert res.err == f"covcore: Warning: {_unusable(bad, problem)} (couldnt-combine)\n"
    assert sorted(os.listdir(tmp_path)) == [".covcore", ".covcore.bad", "scratch"]
    assert bad.read_bytes() == content


def test_no_other_exception_from_any_truncation(tmp_path, made):
    """Every cut of a real data file (each 97th byte, and each page boundary)
    is a DataError naming the file, never another exception, never data."""
    good = made["branch_a"]
    path = tmp_path / "cut"
    cuts = sorted(set(range(0, len(good), 97)) | set(range(0, len(good), 4096)) | {len(good) - 1})
    for cut in cuts:
        path.write_bytes(good[:cut])
        with pytest.raises(DataError) as info:
            read_data_file(str(path))
        assert str(info.value).startswith(f"Couldn't use data file {str(path)!r}: the file is "), cut
        assert "\n" not in str(info.value)


def test_a_multi_line_sqlite_message_is_one_line(tmp_path):
    """SQLite quotes a damaged schema over several lines: the error is still one line."""
    path = tmp_path / ".covcore"
    data = CoverageData(str(path))
    data.add_lines({"/p/a.py": {1, 2}})
    data.write()
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema = ON")
    con.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE line_bits (\n  [s (file_id\n)' WHERE name = 'line_bits'")
    con.commit()
    con.close()
    with pytest.raises(DataError) as info:
        read_data_file(str(path))
    assert str(info.value) == (
        f"Couldn't use data file {str(path)!r}: malformed database schema (line_bits) - "
        "unrecognized token: \"[s (file_id )\""
    )
