"""The data file: round trips, atomic saves, clear errors for bad files."""

import os
import sqlite3

import pytest

from covcore.data import SCHEMA_VERSION, CoverageData, filename_suffix
from covcore.dataread import read_data_file
from covcore.errors import DataError


def test_lines_round_trip(tmp_path):
    path = str(tmp_path / ".covcore")
    data = CoverageData(basename=path)
    data.add_lines({"/src/a.py": {1, 2, 3, 17}, "/src/b.py": {5}})
    data.touch_files(["/src/never.py"])
    data.write()
    back = CoverageData(basename=path)
    back.read()
    assert back.measured_files() == {"/src/a.py", "/src/b.py", "/src/never.py"}
    assert back.lines("/src/a.py") == [1, 2, 3, 17]
    assert back.lines("/src/b.py") == [5]
    assert back.lines("/src/never.py") == []
    assert back.lines("/src/other.py") is None
    assert back.has_arcs() is False
    assert back.meta["has_arcs"] == "0"


def test_arcs_round_trip(tmp_path):
    path = str(tmp_path / ".covcore")
    data = CoverageData(basename=path)
    data.add_arcs({"/src/a.py": {(-1, 1), (1, 2), (2, -1), (2, 5)}})
    data.write()
    back = read_data_file(path)
    assert back.has_arcs() is True
    assert back.arcs("/src/a.py") == [(-1, 1), (1, 2), (2, -1), (2, 5)]
    assert back.lines("/src/a.py") == [1, 2, 5]


def test_contexts_kept_apart(tmp_path):
    path = str(tmp_path / ".covcore")
    data = CoverageData(basename=path)
    data.set_context("test_one")
    data.add_lines({"/a.py": {1, 2}})
    data.set_context("test_two")
    data.add_lines({"/a.py": {2, 3}})
    data.write()
    back = read_data_file(path)
    assert back.measured_contexts() == {"test_one", "test_two"}
    assert back.contexts_by_lineno("/a.py") == {1: ["test_one"], 2: ["test_one", "test_two"], 3: ["test_two"]}
    assert back.lines("/a.py") == [1, 2, 3]


def test_lines_and_arcs_do_not_mix():
    data = CoverageData(no_disk=True)
    data.add_lines({"/a.py": {1}})
    with pytest.raises(DataError, match="Can't add branch measurements to existing line data"):
        data.add_arcs({"/a.py": {(1, 2)}})
    other = CoverageData(no_disk=True)
    other.add_arcs({"/a.py": {(1, 2)}})
    with pytest.raises(DataError, match="Can't add branch measurements"):
        data.update(other)


def test_update_with_map_path():
    data = CoverageData(no_disk=True)
    data.add_lines({"/here/a.py": {1}})
    other = CoverageData(no_disk=True)
    other.add_lines({"/there/a.py": {2}, "/there/b.py": {3}})
    data.update(other, map_path=lambda p: p.replace("/there/", "/here/"))
    assert data.lines("/here/a.py") == [1, 2]
    assert data.lines("/here/b.py") == [3]


def test_parallel_suffix_names(tmp_path):
    suffix = filename_suffix(True)
    host, pid, rand = suffix.rsplit(".", 2)
    assert pid == str(os.getpid())
    assert rand.startswith("X") and len(rand) == 7
    assert filename_suffix("abc") == "abc"
    assert filename_suffix(None) is None
    data = CoverageData(basename=str(tmp_path / ".covcore"), suffix=True)
    assert data.data_filename().startswith(str(tmp_path / ".covcore."))


def test_erase_parallel(tmp_path):
    base = tmp_path / ".covcore"
    for name in (".covcore", ".covcore.host.1.X000001", ".covcore.host.2.X000002", "other"):
        (tmp_path / name).write_text("x")
    CoverageData(basename=str(base)).erase(parallel=True)
    assert sorted(os.listdir(tmp_path)) == ["other"]


def test_write_is_atomic_replace(tmp_path):
    path = str(tmp_path / ".covcore")
    first = CoverageData(basename=path)
    first.add_lines({"/a.py": {1}})
    first.write()
    second = CoverageData(basename=path)
    second.add_lines({"/a.py": {2}})
    second.write()
    assert read_data_file(path).lines("/a.py") == [2]
    assert sorted(os.listdir(tmp_path)) == [".covcore"]


def test_write_to_readonly_dir_names_path(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/covcore-cannot-write-here/.covcore"
    else:  # pragma: no cover - CI runs as root
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro / ".covcore")
    data = CoverageData(basename=target)
    data.add_lines({"/a.py": {1}})
    with pytest.raises(DataError) as info:
        data.write()
    assert str(info.value).startswith(f"Couldn't write data file {target!r}: ")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"\x00\x01garbage" * 100, "file is not a database"),
        (b"SQLite format 3\x00" + b"\x00" * 20, ""),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad data"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_data_file(str(path))
    text = str(info.value)
    assert repr(str(path)) in text
    assert message in text


def test_foreign_sqlite_and_coveragepy_files(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="doesn't seem to be a covcore data file"):
        read_data_file(str(other))
    cov = tmp_path / ".coverage"
    con = sqlite3.connect(cov)
    con.execute("CREATE TABLE coverage_schema (version integer)")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="is a coverage.py data file, not covcore's"):
        read_data_file(str(cov))


def test_other_schema_version(tmp_path):
    path = str(tmp_path / ".covcore")
    data = CoverageData(basename=path)
    data.add_lines({"/a.py": {1}})
    data.write()
    con = sqlite3.connect(path)
    con.execute("UPDATE covcore_schema SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(DataError, match=f"has schema version 99, but this covcore reads version {SCHEMA_VERSION}"):
        read_data_file(path)


def test_unicode_and_spaces_in_names(tmp_path):
    path = str(tmp_path / "dätä fïle")
    data = CoverageData(basename=path)
    data.add_lines({"/src/mödule with space.py": {3}})
    data.write()
    assert read_data_file(path).lines("/src/mödule with space.py") == [3]


def test_no_disk_does_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = CoverageData(no_disk=True)
    data.add_lines({"/a.py": {1}})
    data.write()
    data.read()
    assert os.listdir(tmp_path) == []
    assert data.lines("/a.py") == [1]


def test_adopted_sets_are_kept_and_merged():
    """What the collector hands over (its own fresh copies) is kept as it
    is, then merged into; lines and arcs still don't mix."""
    data = CoverageData(no_disk=True)
    first = {1, 2}
    data._adopt({"a.py": first}, arcs=False)
    assert data._lines["a.py"][""] is first
    data._adopt({"a.py": {3}, "b.py": {5}}, arcs=False)
    assert data.lines("a.py") == [1, 2, 3]
    assert data.lines("b.py") == [5]
    with pytest.raises(DataError):
        data._adopt({"a.py": {(1, 2)}}, arcs=True)


def test_measured_data_is_left_out_of_the_cyclic_collector(tmp_path):
    """The tracers' sets, and the copies CoverageData keeps, hold only ints
    (or tuples of ints): the compiled tracers untrack them, so full
    collections don't visit every recorded line."""
    import gc

    from covcore import Coverage
    from covcore.backend import EXTENSION_ERROR

    if EXTENSION_ERROR:
        pytest.skip("the compiled tracers")
    path = tmp_path / "prog.py"
    path.write_text("a = 1\nb = a + 1\n")
    cov = Coverage(data_file=str(tmp_path / ".covcore"), source=[str(tmp_path)])
    cov.start()
    try:
        exec(compile(path.read_text(), str(path), "exec"), {})
    finally:
        cov.stop()
    name = os.path.realpath(path)
    tracer_sets = list(cov._collector.data.values())
    assert tracer_sets and not any(gc.is_tracked(s) for s in tracer_sets)
    data = cov.get_data()
    assert data.lines(name) == [1, 2]
    assert not gc.is_tracked(data._lines[name][""])
