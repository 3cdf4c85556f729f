"""Write a new SQLite database file directly, in SQLite's file format.

covcore writes each data file afresh, in one go, and never changes it in
place (see :meth:`covcore.data.CoverageData.write`).  Through the ``sqlite3``
module that costs loading SQLite itself (the ``_sqlite3`` module and
``libsqlite3``: ~175 page faults), opening a connection, parsing the schema
and one statement execution per row: ~2.5 ms of every measured process
(3.12, pip's 147 modules).  This module lays the same database out itself:
the b-tree pages of each table and of each index SQLite makes for a
``PRIMARY KEY`` or ``UNIQUE`` constraint (its "autoindexes"), and page 1 with
the file header and the schema table, following the file format
documentation (https://www.sqlite.org/fileformat2.html): records, varints,
table and index b-tree pages, overflow pages.  What it writes is an
ordinary SQLite database that SQLite (and ``covcore.dataread``) reads, and
that passes ``PRAGMA integrity_check``; ``tests/test_sqlitewrite.py`` checks
that against SQLite's own writing of the same rows.

Only what covcore's data files need: text, blob, integer and NULL values;
rowid tables, with or without an ``INTEGER PRIMARY KEY`` column;
autoindexes with BINARY collation; UTF-8; 4096-byte pages.
"""

from __future__ import annotations

import os
from operator import itemgetter

_first = itemgetter(0)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Sequence

PAGE_SIZE = 4096
_USABLE = PAGE_SIZE  # no reserved bytes at the end of pages
# The largest payload a cell keeps on its page, and the least it keeps
# before spilling into overflow pages (fileformat2, "B-tree Pages").
_MAX_LOCAL_TABLE = _USABLE - 35
_MAX_LOCAL_INDEX = (_USABLE - 12) * 64 // 255 - 23
_MIN_LOCAL = (_USABLE - 12) * 32 // 255 - 23
#: The SQLite version number the header names as the file's last writer
#: (informational: any SQLite 3 reads the file; 3.37.2 is Debian 12's).
_WRITER_VERSION = 3037002


class Table:
    """A table to write: its name, its ``CREATE TABLE`` statement (stored as
    given, as SQLite stores it), its columns' count, the index of its
    ``INTEGER PRIMARY KEY`` column (its value is the rowid, stored as NULL in
    the record) or None, and its autoindexes as tuples of column indexes, in
    the order SQLite makes them (``sqlite_autoindex_<table>_<n>``)."""

    def __init__(self, name: str, sql: str, ncols: int, rowid_col: int | None = None,
                 indexes: Sequence[tuple[int, ...]] = ()) -> None:
        self.name = name
        self.sql = sql
        self.ncols = ncols
        self.rowid_col = rowid_col
        self.indexes = list(indexes)


def _py_varint(v: int) -> bytes:
    """SQLite's big-endian variable-length integer (1-9 bytes; 64-bit)."""
    v &= 0xFFFFFFFFFFFFFFFF
    if v < 0x80:
        return bytes((v,))
    if v > 0x00FFFFFFFFFFFFFF:
        out = [v & 0xFF]
        v >>= 8
        for _ in range(8):
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        return bytes(reversed(out))
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    return bytes(reversed(out))


#: An integer's serial types and sizes, smallest first (fileformat2, "Record Format").
_INT_SERIALS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (6, 8))


def _py_record(values: Sequence[Any]) -> bytes:
    """The record format: a header (its size, then a serial type per value)
    and the values' bytes.

    :raises TypeError: a value that is not None, int, str or bytes."""
    types = []
    body = []
    for v in values:
        if v is None:
            types.append(0)
        elif isinstance(v, int):
            if v == 0 or v == 1:
                types.append(8 + v)     # serial types 8 and 9: the value itself, no bytes
                continue
            for serial, nbytes in _INT_SERIALS:
                if -(1 << (8 * nbytes - 1)) <= v < 1 << (8 * nbytes - 1):
                    break
            types.append(serial)
            body.append(v.to_bytes(nbytes, "big", signed=True))
        elif isinstance(v, str):
            b = v.encode("utf-8")
            types.append(2 * len(b) + 13)
            body.append(b)
        elif isinstance(v, bytes):
            types.append(2 * len(v) + 12)
            body.append(v)
        else:
            raise TypeError(f"can't store {type(v).__name__} in a covcore data file")
    header = b"".join(_py_varint(t) for t in types)
    n = len(header) + 1  # the header's size counts its own varint
    while len(_py_varint(n)) + len(header) != n:
        n = len(_py_varint(n)) + len(header)
    return _py_varint(n) + header + b"".join(body)


def _py_sort_key(values: Sequence[Any]) -> bytes:
    """Bytes ordering index keys as SQLite's BINARY collation orders them:
    NULL, then numbers, then text (by UTF-8 bytes), then blobs (by bytes),
    column by column (a text or blob ends with two zero bytes, and a zero
    byte in it is written as zero, 0xFF, so that a shorter value that is a
    prefix of a longer one comes first)."""
    out = bytearray()
    for v in values:
        if v is None:
            out.append(0)
        elif isinstance(v, int):
            out.append(1)
            out += ((v ^ (1 << 63)) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        else:
            if isinstance(v, str):
                b = v.encode("utf-8")
                out.append(2)
            else:
                b = bytes(v)
                out.append(3)
            out += b.replace(b"\0", b"\0\xff") + b"\0\0"
    return bytes(out)


def _py_cells(records: list[bytes], rowids: list[int] | None, max_local: int) -> list[bytes | None]:
    """Each record's b-tree cell: ``varint(size)``, ``varint(rowid)`` (a
    table's), the record; None for a record longer than `max_local` (it
    needs overflow pages: :meth:`_Writer.spill`)."""
    out: list[bytes | None] = []
    for i, rec in enumerate(records):
        if len(rec) > max_local:
            out.append(None)
        elif rowids is None:
            out.append(_varint(len(rec)) + rec)
        else:
            out.append(_varint(len(rec)) + _varint(rowids[i]) + rec)
    return out


def _py_partition(cells: list[bytes], hsize: int, separators: bool) -> list[tuple[int, int]]:
    """Cut cells (in key order) into pages ``[a, b)``, each filled as far
    as it goes.  With `separators` (index b-trees), exactly one cell is left
    out between two pages (it goes up a level) and every page keeps at least
    one cell.

    :raises ValueError: a cell doesn't fit in a page."""
    groups = []
    a, n = 0, len(cells)
    while True:
        b, total = a, 0
        while b < n and hsize + 2 * (b - a + 1) + total + len(cells[b]) <= PAGE_SIZE:
            total += len(cells[b])
            b += 1
        if b >= n:
            groups.append((a, n))
            return groups
        if not separators:
            if b <= a:
                raise ValueError("a cell too large for a page")
            groups.append((a, b))
            a = b
            continue
        if b + 1 == n:
            b -= 1  # cell b would go up with nothing after it: the one before goes up
        if b <= a:
            raise ValueError("a cell too large for a page")
        groups.append((a, b))
        a = b + 1




class _Writer:
    """The pages of one database file, numbered from 1 as they are made."""

    def __init__(self) -> None:
        self.pages: list[bytes | None] = [None]  # page 1: written last

    def new_page(self, data: bytes | None = None) -> int:
        self.pages.append(data)
        return len(self.pages)

    def set_page(self, number: int, data: bytes) -> None:
        self.pages[number - 1] = data

    def spill(self, payload: bytes, max_local: int) -> tuple[bytes, int]:
        """``(the part kept in the cell, first overflow page or 0)`` for a
        payload, writing its overflow chain if it needs one."""
        size = len(payload)
        if size <= max_local:
            return payload, 0
        local = _MIN_LOCAL + (size - _MIN_LOCAL) % (_USABLE - 4)
        if local > max_local:
            local = _MIN_LOCAL
        rest = payload[local:]
        chunks = [rest[i:i + _USABLE - 4] for i in range(0, len(rest), _USABLE - 4)]
        first = len(self.pages) + 1
        for i, chunk in enumerate(chunks):
            nxt = first + i + 1 if i + 1 < len(chunks) else 0
            self.new_page(nxt.to_bytes(4, "big") + chunk.ljust(_USABLE - 4, b"\0"))
        return payload[:local], first


def _py_page(kind: int, cells: list[bytes], right: int | None, offset: int = 0) -> bytes:
    """One b-tree page: the header at `offset` (100 on page 1), the cell
    pointer array, the cells packed at the end of the page, in order."""
    hsize = 12 if right is not None else 8
    content = PAGE_SIZE
    pointers = []
    for cell in cells:
        content -= len(cell)
        pointers.append(content)
    start = offset + hsize + 2 * len(cells)
    if start > content:
        raise ValueError("cells don't fit in one page")
    header = bytes((kind,)) + b"\0\0" + len(cells).to_bytes(2, "big") + \
        (content if content < 65536 else 0).to_bytes(2, "big") + b"\0"
    if right is not None:
        header += right.to_bytes(4, "big")
    body = b"".join(p.to_bytes(2, "big") for p in pointers)
    gap = content - start
    return b"\0" * offset + header + body + b"\0" * gap + b"".join(reversed(cells))


_varint, _record, _sort_key = _py_varint, _py_record, _py_sort_key
_cells, _partition, _page = _py_cells, _py_partition, _py_page
try:
    # The same, in C (covcore._tracer): in Python they cost more than
    # SQLite takes to insert the rows.
    from covcore._tracer import sqlite_page as _page  # type: ignore[no-redef]
    from covcore._tracer import sqlite_cells as _cells  # type: ignore[no-redef]
    from covcore._tracer import sqlite_partition as _partition  # type: ignore[no-redef]
    from covcore._tracer import sqlite_record as _record  # type: ignore[no-redef]
    from covcore._tracer import sqlite_sort_key as _sort_key  # type: ignore[no-redef]
    from covcore._tracer import sqlite_varint as _varint  # type: ignore[no-redef]
except ImportError:  # the pure-Python install
    pass


def _complete(w: _Writer, cells: list[bytes | None], records: Sequence[bytes],
              rowids: Sequence[int] | None, max_local: int) -> list[bytes]:
    """`cells` with the cells of the records that need overflow pages made."""
    for i, cell in enumerate(cells):
        if cell is None:
            rec = records[i]
            local, overflow = w.spill(rec, max_local)
            key = _varint(rowids[i]) if rowids is not None else b""
            cells[i] = _varint(len(rec)) + key + local + overflow.to_bytes(4, "big")
    return cells  # type: ignore[return-value]


def _table_btree(w: _Writer, rowids: list[int], records: list[bytes]) -> int:
    """Write the b-tree of a table (rows in rowid order); returns its root
    page.  Leaves hold the rows; an interior page has a cell ``(child, its
    largest rowid)`` for each child but its last (the right-most pointer)."""
    cells = _cells(records, rowids, _MAX_LOCAL_TABLE)
    if None in cells:
        cells = _complete(w, cells, records, rowids, _MAX_LOCAL_TABLE)
    level = [(w.new_page(_page(13, cells[a:b], None)), rowids[b - 1] if b else 0)
             for a, b in _partition(cells, 8, False)]
    while len(level) > 1:
        cell_of = [page.to_bytes(4, "big") + _varint(key) for page, key in level]
        # Every child but the last can be a cell; the one left out between
        # two pages (and the very last child) is a page's right-most child.
        groups = _partition(cell_of[:-1], 12, True)
        parents = []
        for k, (a, b) in enumerate(groups):
            right = b if k + 1 < len(groups) else len(level) - 1
            parents.append((w.new_page(_page(5, cell_of[a:b], level[right][0])), level[right][1]))
        level = parents
    return level[0][0]


def _index_btree(w: _Writer, keys: list[bytes]) -> int:
    """Write the b-tree of an index (`keys`: records, sorted); returns its
    root page.  Unlike a table's, an index b-tree holds each key once: the
    key between two pages lives in their parent, in the cell of the page
    before it."""
    cells = _cells(keys, None, _MAX_LOCAL_INDEX)
    if None in cells:
        cells = _complete(w, cells, keys, None, _MAX_LOCAL_INDEX)
    groups = _partition(cells, 8, True)
    children = [w.new_page(_page(10, cells[a:b], None)) for a, b in groups]
    seps = [cells[b] for a, b in groups[:-1]]
    while len(children) > 1:
        items = [children[j].to_bytes(4, "big") + seps[j] for j in range(len(seps))]
        groups = _partition(items, 12, True)
        up = []
        for k, (a, b) in enumerate(groups):
            right = children[b] if k + 1 < len(groups) else children[-1]
            up.append(w.new_page(_page(2, items[a:b], right)))
        seps = [seps[b] for a, b in groups[:-1]]
        children = up
    return children[0]


def write_database(path: str, tables: Sequence[Table], rows: dict[str, Sequence[Sequence[Any]]]) -> None:
    """Write a new SQLite database at `path` (which must not exist as a
    database to keep: it is created or truncated) holding `tables`, each
    with its `rows` (sequences of column values: None, int, str or bytes;
    a table's rowids are its ``INTEGER PRIMARY KEY`` values, else 1, 2, ...
    in the given order).  Autoindex keys must be unique, as SQLite would
    insist.

    :raises TypeError: a value of another type.
    :raises ValueError: duplicate keys in a ``UNIQUE`` or ``PRIMARY KEY``
        column, or a row with another number of values than its table's columns.
    :raises OSError: the file can't be written.
    """
    w = _Writer()
    schema: list[tuple[Any, ...]] = []
    for table in tables:
        trows = [tuple(r) for r in rows.get(table.name, ())]
        for r in trows:
            if len(r) != table.ncols:
                raise ValueError(f"a row of {len(r)} values for table {table.name} of {table.ncols} columns")
        rc = table.rowid_col
        if rc is None:
            keyed = list(enumerate(trows, 1))
            records = [_record(r) for r in trows]
        else:
            keyed = sorted([(r[rc], r) for r in trows], key=_first)
            records = [_record(r[:rc] + (None,) + r[rc + 1:]) for _, r in keyed]
        rowids = [k for k, _ in keyed]
        if rc is not None and len(set(rowids)) != len(rowids):
            raise ValueError(f"duplicate rowids in table {table.name}")
        root = _table_btree(w, rowids, records)
        schema.append(("table", table.name, table.name, root, table.sql))
        for n, cols in enumerate(table.indexes, 1):
            entries = sorted([(_sort_key(vals), rowid, vals)
                              for rowid, vals in ((rowid, tuple([r[c] for c in cols])) for rowid, r in keyed)])
            for a, b in zip(entries, entries[1:]):
                if a[0] == b[0]:
                    raise ValueError(f"duplicate key {a[2]!r} in a unique index of table {table.name}")
            iroot = _index_btree(w, [_record(vals + (rowid,)) for _, rowid, vals in entries])
            schema.append(("index", f"sqlite_autoindex_{table.name}_{n}", table.name, iroot, None))
    records = [_record(entry) for entry in schema]
    rowids = list(range(1, len(schema) + 1))
    cells = _complete(w, _cells(records, rowids, _MAX_LOCAL_TABLE), records, rowids, _MAX_LOCAL_TABLE)
    page1 = bytearray(_page(13, cells, None, offset=100))
    npages = len(w.pages)
    header = bytearray(100)
    header[0:16] = b"SQLite format 3\0"
    header[16:18] = PAGE_SIZE.to_bytes(2, "big")
    header[18] = header[19] = 1              # legacy (rollback journal) read/write versions
    header[20] = 0                           # no reserved bytes per page
    header[21], header[22], header[23] = 64, 32, 32
    header[24:28] = (1).to_bytes(4, "big")   # file change counter
    header[28:32] = npages.to_bytes(4, "big")
    header[40:44] = (1).to_bytes(4, "big")   # schema cookie
    header[44:48] = (4).to_bytes(4, "big")   # schema format number
    header[56:60] = (1).to_bytes(4, "big")   # text encoding: UTF-8
    header[92:96] = (1).to_bytes(4, "big")   # version-valid-for: the change counter
    header[96:100] = _WRITER_VERSION.to_bytes(4, "big")
    page1[0:100] = header
    w.set_page(1, bytes(page1))
    data = b"".join(w.pages)  # type: ignore[arg-type]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)
