"""covcore.sqlitewrite lays out SQLite databases itself: SQLite must read
them back exactly as the same rows inserted through SQLite, and find them
sound (PRAGMA integrity_check)."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from covcore import sqlitewrite as sw
from covcore.data import CoverageData, _SCHEMA, _tables

TABLES = _tables()
NAMES = [t.name for t in TABLES]


def through_sqlite(path, rows):
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript("BEGIN;\n" + _SCHEMA)
    for name in NAMES:
        for row in rows.get(name, ()):
            con.execute("INSERT INTO %s VALUES (%s)" % (name, ",".join("?" * len(row))), row)
    con.execute("COMMIT")
    con.close()


def dump(path):
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        out = {"schema": con.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name").fetchall()}
        for name in NAMES:
            out[name] = con.execute("SELECT rowid, * FROM %s ORDER BY rowid" % name).fetchall()
        # The indexes themselves, in their own order (as queries use them).
        out["by_path"] = con.execute("SELECT path, id FROM file INDEXED BY sqlite_autoindex_file_1 "
                                     "ORDER BY path").fetchall()
        out["by_key"] = con.execute("SELECT file_id, context_id FROM line_bits INDEXED BY "
                                    "sqlite_autoindex_line_bits_1 ORDER BY file_id, context_id").fetchall()
        out["meta_keys"] = con.execute("SELECT key FROM meta INDEXED BY sqlite_autoindex_meta_1 "
                                       "ORDER BY key").fetchall()
        return out
    finally:
        con.close()


def make_rows(nfiles, seed, *, big_blobs=False, long_paths=False):
    rnd = random.Random(seed)
    files = []
    for i in range(1, nfiles + 1):
        middle = "d" * (rnd.randint(1100, 3000) if long_paths and rnd.random() < 0.2 else rnd.randint(0, 40))
        path = "/home/u/proj/%s/mod_%d.py" % (middle, i)
        if rnd.random() < 0.05:
            path = path.encode("utf-8") + b"\xff"      # a non-UTF-8 name, kept as a BLOB
        elif rnd.random() < 0.05:
            path = path.replace("mod", "módulo\0x")      # non-ASCII, and a NUL
        files.append((i, path))
    rnd.shuffle(files)
    blob = (lambda: os.urandom(rnd.choice([1, 40, 4061, 4062, 9000, 20000]))) if big_blobs \
        else (lambda: os.urandom(rnd.randint(1, 60)))
    return {
        "covcore_schema": [(1,)],
        "meta": [("has_arcs", "0"), ("covcore_version", "0.1.0"), ("when", "2026-12-07T23:59:59"),
                 ("sys_argv", "x" * 5000), ("empty", ""), ("none", None)],
        "file": files,
        "context": [(1, ""), (2, "test_a|run"), (3, b"\xff\xfe"), (4, "x" * 3000)],
        "line_bits": [(f, c, blob()) for f, _ in files for c in (1, 2, 4)],
        "arc_pairs": [(f, 3, blob()) for f, _ in files[: nfiles // 3]],
        "tracer": [(f, "plugin.tracer") for f, _ in files[:3]],
    }


@pytest.fixture(params=["c", "python"])
def impl(request, monkeypatch):
    """The writer as installed (C helpers) and in pure Python."""
    if request.param == "python":
        for name in ("_varint", "_record", "_sort_key", "_cells", "_partition", "_page"):
            monkeypatch.setattr(sw, name, getattr(sw, "_py" + name))
    elif sw._record is sw._py_record:
        pytest.skip("no compiled extension")
    return request.param


@pytest.mark.parametrize("nfiles, kwargs", [
    (0, {}),
    (1, {}),
    (147, {}),
    (2500, {}),                                   # several levels of interior pages
    (300, {"big_blobs": True}),                   # overflow chains, at and around the limits
    (400, {"long_paths": True}),                  # index keys on overflow pages, interior ones too
    (12000, {}),
])
def test_sqlite_reads_back_what_sqlite_would_have_written(tmp_path, impl, nfiles, kwargs):
    rows = make_rows(nfiles, nfiles, **kwargs)
    ours, theirs = str(tmp_path / "ours.db"), str(tmp_path / "theirs.db")
    sw.write_database(ours, TABLES, rows)
    through_sqlite(theirs, rows)
    assert dump(ours) == dump(theirs)


def test_small_databases_are_the_same_size(tmp_path):
    rows = make_rows(147, 3)
    sw.write_database(str(tmp_path / "ours.db"), TABLES, rows)
    through_sqlite(str(tmp_path / "theirs.db"), rows)
    assert os.path.getsize(tmp_path / "ours.db") == os.path.getsize(tmp_path / "theirs.db") == 26 * 4096


def test_the_c_helpers_are_the_python_ones():
    from covcore import _tracer

    rnd = random.Random(7)
    values = [None, 0, 1, -1, 127, 128, -128, -129, 2**15, -2**15 - 1, 2**23, 2**31 - 1, -2**31, 2**47,
              -2**47 - 1, 2**63 - 1, -2**63, "", "x", "é" * 100, b"", b"\0" * 200, "a\0b", b"a\0", "a"]
    for _ in range(2000):
        row = tuple(rnd.choice(values) for _ in range(rnd.randint(0, 70)))
        assert _tracer.sqlite_record(row) == sw._py_record(row)
        assert _tracer.sqlite_sort_key(row) == sw._py_sort_key(row)
    for v in (0, 1, 127, 128, 2**14, 2**21, 2**56 - 1, 2**56, 2**63, 2**64 - 1, -1, -2**63):
        assert _tracer.sqlite_varint(v) == sw._py_varint(v)
    records = [os.urandom(rnd.choice([0, 5, 100, 1002, 1003, 4061, 4062, 9000])) for _ in range(400)]
    rowids = [rnd.randint(-2**63, 2**63 - 1) for _ in records]
    for max_local in (sw._MAX_LOCAL_TABLE, sw._MAX_LOCAL_INDEX):
        assert _tracer.sqlite_cells(records, rowids, max_local) == sw._py_cells(records, rowids, max_local)
        assert _tracer.sqlite_cells(records, None, max_local) == sw._py_cells(records, None, max_local)
    for n, right, offset in ((0, None, 0), (3, None, 100), (5, 77, 0), (40, 2**32 - 1, 0)):
        page_cells = [os.urandom(rnd.choice([4, 10, 90])) for _ in range(n)]
        assert _tracer.sqlite_page(13, page_cells, right, offset) == sw._py_page(13, page_cells, right, offset)
    with pytest.raises(ValueError, match="don't fit"):
        _tracer.sqlite_page(10, [b"x" * 2100] * 2, None)
    cells = [os.urandom(rnd.choice([4, 10, 100, 1000])) for _ in range(2000)]
    for hsize in (8, 12):
        for separators in (True, False):
            for n in (0, 1, 2, 3, 5, 50, 2000):
                assert _tracer.sqlite_partition(cells[:n], hsize, separators) == \
                    sw._py_partition(cells[:n], hsize, separators)


def test_index_order_is_sqlites(tmp_path):
    rnd = random.Random(11)
    values = [None, 0, 1, -1, 2**40, -2**40, "", "a", "a\0", "a\0b", "ab", "é", b"", b"a", b"a\0", b"\xff"]
    rows = [(rnd.choice(values), rnd.choice(values)) for _ in range(500)]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a, b)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    theirs = con.execute("SELECT a, b FROM t ORDER BY a, b").fetchall()
    ours = sorted(rows, key=sw._sort_key)
    assert [sw._py_sort_key(r) for r in ours] == [sw._py_sort_key(r) for r in theirs]


def test_bad_values_and_duplicates_are_errors(tmp_path):
    path = str(tmp_path / "x.db")
    with pytest.raises(TypeError, match="can't store float"):
        sw.write_database(path, TABLES, {"meta": [("k", 1.5)]})
    with pytest.raises(ValueError, match="duplicate rowids in table file"):
        sw.write_database(path, TABLES, {"file": [(1, "a"), (1, "b")]})
    with pytest.raises(ValueError, match="duplicate key"):
        sw.write_database(path, TABLES, {"file": [(1, "a"), (2, "a")]})
    with pytest.raises(ValueError, match="a row of 3 values for table file of 2 columns"):
        sw.write_database(path, TABLES, {"file": [(1, "a", "b")]})


def test_a_data_file_written_this_way_reads_back(tmp_path):
    data = CoverageData(basename=str(tmp_path / ".covcore"))
    data.add_lines({"/p/a.py": {1, 2, 3, 500}, "/p/b.py": set(), "/p/\udcff.py": {7}})
    data.set_context("test_x")
    data.add_lines({"/p/a.py": {9}})
    data.write()
    back = CoverageData(basename=str(tmp_path / ".covcore"))
    back.read()
    assert sorted(back.measured_files()) == ["/p/a.py", "/p/b.py", "/p/\udcff.py"]
    assert sorted(back.lines("/p/a.py")) == [1, 2, 3, 9, 500]
    assert sorted(back.measured_contexts()) == ["", "test_x"]
    con = sqlite3.connect(str(tmp_path / ".covcore"))
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
