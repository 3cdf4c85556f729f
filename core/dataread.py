"""Reading covcore's data files (the schema is in :mod:`covcore.data`), and
the checks that tell, before SQLite opens a file, whether it can be a
covcore data file at all.

Every problem with a data file is worded by :func:`unusable`:
``Couldn't use data file '<path>': <problem>``.

Kept apart from :mod:`covcore.data`, which writes them, because a measured
process only writes: ``covcore run`` never imports this module (~30 KB of
bytecode less at every start).  Reports, ``combine`` and ``debug data`` read.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from array import array

from covcore.data import SCHEMA_VERSION, CoverageData
from covcore.errors import DataError
from covcore.numbits import numbits_to_nums
from covcore.sqlitedb import sqlite3

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from covcore.types import TArc


def _unpack_arcs(blob: bytes) -> set[TArc]:
    flat = array("i")
    flat.frombytes(blob)
    if sys.byteorder == "big":
        flat.byteswap()
    return set(zip(flat[0::2], flat[1::2]))


def _from_db(value: str | bytes) -> str:
    """The inverse of :func:`covcore.data._to_db`."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


#: The first 16 bytes of every SQLite 3 database file.
_SQLITE_MAGIC = b"SQLite format 3\x00"


def unusable(filename: str, problem: str) -> DataError:
    """The error for a data file covcore can't use: ``Couldn't use data file '<path>': <problem>``.

    :param filename: the data file's path.
    :param problem: what is wrong; SQLite's messages can quote a damaged
        schema over several lines, which are joined into one.
    """
    problem = " ".join(line.strip() for line in problem.splitlines())
    return DataError(f"Couldn't use data file {filename!r}: {problem}")


def why_not_a_file(path: str) -> tuple[os.stat_result | None, str | None]:
    """Examine ``path`` (found or named as a data file) without opening it.

    :param path: the path.
    :returns: ``(stat, None)`` for a regular file (or a symbolic link to
        one); else ``(stat or None, problem)``, the problem worded to follow
        "it is": ``a symbolic link in a loop (to 'x')``, ``a symbolic link to
        'x', which doesn't exist``, ``a directory, not a data file`` (or a
        FIFO, which would block a reader, or a special file).
    :raises OSError: ``path`` is not a symbolic link and can't be examined
        (it doesn't exist, or permission is denied).
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if not os.path.islink(path):
            raise
        target = os.readlink(path)
        if exc.errno == errno.ELOOP:
            return None, f"a symbolic link in a loop (to {target!r})"
        return None, f"a symbolic link to {target!r}, which doesn't exist"
    if stat.S_ISREG(st.st_mode):
        return st, None
    kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a special file"
    return st, f"{kind}, not a data file"


def check_data_file(filename: str) -> None:
    """Check, before SQLite opens it, that ``filename`` can be a complete SQLite file.

    Reads at most the 100-byte SQLite header; never opens anything but a
    regular file (a FIFO would block).

    :param filename: the data file's path.
    :raises DataError: naming the file: missing (or a broken symbolic link),
        unreadable, not a regular file, empty, not an SQLite database, or
        shorter than its header says (truncated).
    """
    try:
        st, problem = why_not_a_file(filename)
    except OSError as exc:
        raise unusable(filename, exc.strerror or str(exc)) from None
    if problem is not None:
        raise unusable(filename, f"it is {problem}")
    try:
        with open(filename, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise unusable(filename, exc.strerror or str(exc)) from None
    if not header:
        raise unusable(filename, "the file is empty")
    if not header.startswith(_SQLITE_MAGIC[: len(header)]):
        raise unusable(filename, "file is not a database")
    if len(header) < 100:
        raise unusable(filename, "the file is truncated (shorter than an SQLite header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is valid when the "version-valid-for" number
    # matches the change counter (every SQLite since 3.7.0 writes it so).
    if pages and header[24:28] == header[92:96] and st.st_size < pages * page_size:
        raise unusable(filename, f"the file is truncated ({st.st_size} of its {pages * page_size} bytes)")


def check_contents(raw: RawData, paths: dict, contexts: dict, tracers: list) -> str | None:
    """The first inconsistency in a data file's rows (as read), or None.

    Checks what SQLite's loose typing lets a damaged or hand-edited file hold:
    names that aren't text, packed data that isn't a BLOB (or not whole arc
    pairs), ids that refer to no row, line data in a branch data file.
    """
    has_arcs = raw.meta.get("has_arcs")
    if has_arcs not in ("0", "1"):
        return f"meta has_arcs is {has_arcs!r}, not '0' or '1'"
    for table, names in (("file", paths), ("context", contexts)):
        for key, name in names.items():
            if not isinstance(name, str):
                return f"the {table} table's row {key!r} holds {name!r}, not a name"
    for table, rows in (("line_bits", raw.lines), ("arc_pairs", raw.arcs)):
        for file_id, ctx_id, blob in rows:
            if file_id not in paths:
                return f"a {table} row refers to file id {file_id!r}, which is not in the file table"
            if ctx_id not in contexts:
                return f"a {table} row refers to context id {ctx_id!r}, which is not in the context table"
            where = f"{table} for {paths[file_id]!r}"
            if not isinstance(blob, bytes):
                return f"{where} holds {type(blob).__name__} {blob!r:.40}, not packed data (a BLOB)"
            if table == "arc_pairs" and len(blob) % 8:
                return f"{where} holds {len(blob)} bytes, not whole (from, to) pairs of 4-byte numbers"
    if raw.lines and raw.has_arcs:
        return "it is branch data (meta has_arcs = '1') but holds line data (line_bits rows)"
    if raw.arcs and not raw.has_arcs:
        return "it is line data (meta has_arcs = '0') but holds branch data (arc_pairs rows)"
    for file_id, tracer in tracers:
        if file_id not in paths:
            return f"a tracer row refers to file id {file_id!r}, which is not in the file table"
        if not isinstance(tracer, str):
            return f"the tracer of {paths[file_id]!r} is {tracer!r}, not a name"
    return None


class RawData:
    """One data file's contents as stored (packed), for fast merging.

    :ivar has_arcs: arc data (True) or line data.
    :ivar meta: the ``meta`` table.
    :ivar lines: ``[(path, context, numbits), ...]``.
    :ivar arcs: ``[(path, context, packed pairs), ...]``.
    :ivar paths: every measured file, including those with nothing executed.
    :ivar tracers: ``{path: file tracer}``.
    :ivar digest: a digest of what was measured (not when or by whom), so that
        combine counts identical inputs once.
    """

    def __init__(self) -> None:
        self.has_arcs = False
        self.meta: dict[str, str] = {}
        self.lines: list[tuple[str, str, bytes]] = []
        self.arcs: list[tuple[str, str, bytes]] = []
        self.paths: list[str] = []
        self.tracers: dict[str, str] = {}
        self.digest = ""


def read_raw_data_file(filename: str) -> RawData:
    """Read one data file without unpacking it.

    Every problem becomes a :class:`DataError` whose message is ``Couldn't use
    data file '<path>': <problem>``: the file is missing, empty, truncated, not
    a database, not covcore's (e.g. a coverage.py data file), of another
    schema version, corrupt, or holds values of the wrong type or out of range.

    :param filename: the data file's path.
    :returns: the file's contents, packed.
    :raises DataError: naming the file and the problem, as above.
    """
    check_data_file(filename)
    uri = "file:" + filename.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise unusable(filename, str(exc)) from None
    raw = RawData()
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "covcore_schema" not in tables:
            if "coverage_schema" in tables:
                raise unusable(
                    filename,
                    "it is a coverage.py data file, not covcore's; measure with covcore, or report it with coverage.py",
                )
            raise unusable(filename, "it doesn't seem to be a covcore data file (it has no covcore_schema table)")
        rows = con.execute("SELECT version FROM covcore_schema").fetchall()
        version = rows[0][0] if rows else None
        if version != SCHEMA_VERSION:
            if isinstance(version, int) and version > SCHEMA_VERSION:
                hint = "it was written by a newer covcore: report it with that version"
            elif isinstance(version, int):
                hint = "it was written by an older covcore: measure again"
            else:
                hint = "the file is damaged"
            raise unusable(
                filename,
                f"it has schema version {version!r}, but this covcore reads version {SCHEMA_VERSION}; {hint}",
            )
        raw.meta = {k: _from_db(v) for k, v in con.execute("SELECT key, value FROM meta")}
        raw.has_arcs = raw.meta.get("has_arcs") == "1"
        paths = {i: _from_db(p) for i, p in con.execute("SELECT id, path FROM file")}
        contexts = {i: _from_db(c) for i, c in con.execute("SELECT id, context FROM context")}
        raw.lines = con.execute("SELECT file_id, context_id, numbits FROM line_bits").fetchall()
        raw.arcs = con.execute("SELECT file_id, context_id, pairs FROM arc_pairs").fetchall()
        tracers = con.execute("SELECT file_id, tracer FROM tracer").fetchall()
    except sqlite3.Error as exc:
        raise unusable(filename, str(exc)) from None
    except UnicodeDecodeError as exc:  # a damaged schema or TEXT value
        raise unusable(filename, f"it holds text that isn't UTF-8 ({exc.reason} at byte {exc.start})") from None
    finally:
        con.close()
    problem = check_contents(raw, paths, contexts, tracers)
    if problem:
        raise unusable(filename, problem)
    raw.paths = sorted(paths.values())
    raw.lines = [(paths[f], contexts[c], b) for f, c, b in raw.lines]
    raw.arcs = [(paths[f], contexts[c], b) for f, c, b in raw.arcs]
    raw.tracers = {paths[fid]: t for fid, t in tracers}
    import hashlib

    digest = hashlib.sha256(b"arcs" if raw.has_arcs else b"lines")
    for path, ctx, blob in sorted(raw.lines + raw.arcs):
        digest.update(f"{path}\0{ctx}\0{len(blob)}\0".encode("utf-8", "surrogateescape"))
        digest.update(blob)
    for path in raw.paths:
        digest.update(path.encode("utf-8", "surrogateescape") + b"\1")
    for path, tracer in sorted(raw.tracers.items()):  # a file tracer is part of what was measured
        digest.update(f"{path}\0{tracer}\2".encode("utf-8", "surrogateescape"))
    raw.digest = digest.hexdigest()
    return raw

def read_data_file(filename: str) -> CoverageData:
    """Read one data file into a new :class:`CoverageData`.

    :raises DataError: naming the file: not a database, not covcore's (e.g. a
        coverage.py data file), another schema version, or corrupt.
    """
    raw = read_raw_data_file(filename)
    data = CoverageData(basename=filename, no_disk=True)
    data._filename = filename
    data.meta = raw.meta
    data.content_digest = raw.digest
    for path, ctx, numbits in raw.lines:
        data._lines.setdefault(path, {})[ctx] = set(numbits_to_nums(numbits))
    for path, ctx, pairs in raw.arcs:
        data._arcs.setdefault(path, {})[ctx] = _unpack_arcs(pairs)
    data._tracers = raw.tracers
    data._has_arcs = raw.has_arcs
    data._has_lines = not raw.has_arcs and bool(raw.paths)
    # Files measured with nothing executed.
    for path in raw.paths:
        (data._arcs if raw.has_arcs else data._lines).setdefault(path, {})
    return data
