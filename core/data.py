"""Coverage data: what was measured, and the data file that keeps it.

A :class:`CoverageData` holds, per measured file and per context, the set of
executed lines (statement coverage) or of executed arcs (branch coverage).
It reads and writes covcore's SQLite data file.

The data file (schema version :data:`SCHEMA_VERSION`)::

    covcore_schema(version)                      one row
    meta(key PRIMARY KEY, value)                 has_arcs, covcore_version, when, sys_argv
    file(id PRIMARY KEY, path UNIQUE)            measured files, canonical names
    context(id PRIMARY KEY, context UNIQUE)      "" is the default context
    line_bits(file_id, context_id, numbits)      executed lines, packed (covcore.numbits)
    arc_pairs(file_id, context_id, pairs)        executed arcs, little-endian int32 pairs
    tracer(file_id PRIMARY KEY, tracer)          file tracer plugin, for files not measured as Python

Saving writes a complete new file beside the old one and renames it into
place, so a crash while saving leaves the old file or the new one, never a
half-written one.  Parallel-mode data files are named
``<basename>.<host>.<pid>.X<random>`` so concurrent writers never share one;
``combine`` merges them with :meth:`CoverageData.update`.
"""

from __future__ import annotations

import datetime
import os
import sys
from array import array

from covcore.datafiles import (
    TEMP_MARK,
    check_contents,
    check_data_file,
    dead_temp_files,
    hostname,
    unusable,
    write_failure,
)
from covcore.errors import DataError
from covcore.numbits import numbits_packer, numbits_to_nums
from covcore.sqlitedb import SqliteDb, sqlite3

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Collection, Iterable, Mapping

    from covcore.types import TArc

#: The version of the data file's schema this covcore reads and writes.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE covcore_schema (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE file (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
CREATE TABLE context (id INTEGER PRIMARY KEY, context TEXT NOT NULL UNIQUE);
CREATE TABLE line_bits (
    file_id INTEGER NOT NULL REFERENCES file (id),
    context_id INTEGER NOT NULL REFERENCES context (id),
    numbits BLOB NOT NULL,
    PRIMARY KEY (file_id, context_id)
);
CREATE TABLE arc_pairs (
    file_id INTEGER NOT NULL REFERENCES file (id),
    context_id INTEGER NOT NULL REFERENCES context (id),
    pairs BLOB NOT NULL,
    PRIMARY KEY (file_id, context_id)
);
CREATE TABLE tracer (file_id INTEGER PRIMARY KEY REFERENCES file (id), tracer TEXT NOT NULL);
"""


def filename_suffix(suffix: str | bool | None) -> str | None:
    """The suffix of a data file's name.

    :param suffix: True for a parallel-mode suffix ``<host>.<pid>.X<random>``;
        a string is used as given; None or False for no suffix.
    """
    if suffix is True:
        import socket

        import random

        rand = random.Random(os.urandom(8)).randint(0, 999999)
        return f"{socket.gethostname()}.{os.getpid()}.X{rand:06d}"
    if suffix is False:
        return None
    return suffix


def _random_int(top: int) -> int:
    """A random int from 0 to `top`, without importing :mod:`random` (1 ms
    of every measured process that saves)."""
    return int.from_bytes(os.urandom(8), "little") % (top + 1)


def arcs_packer() -> Callable[[Iterable[TArc]], bytes]:
    """:func:`_pack_arcs`, in C when the tracer extension is built
    (``covcore._tracer.pack_arcs``: the same bytes, 1 K instructions an arc
    cheaper); it falls back to :func:`_pack_arcs` for arcs that are not
    2-tuples of ints.  Imported only when writing."""
    try:
        from covcore._tracer import pack_arcs
    except ImportError:  # the pure-Python install
        return _pack_arcs

    def pack(arcs: Iterable[TArc]) -> bytes:
        if not isinstance(arcs, (set, frozenset, list, tuple)):
            arcs = list(arcs)  # read once, for either packer
        try:
            return pack_arcs(arcs)  # type: ignore[no-any-return]
        except TypeError:
            return _pack_arcs(arcs)

    return pack


def _pack_arcs(arcs: Iterable[TArc]) -> bytes:
    """The arcs sorted, as 32-bit signed little-endian (from, to) ints."""
    flat = array("i")
    for a, b in sorted(arcs):
        flat.append(a)
        flat.append(b)
    if sys.byteorder == "big":
        flat.byteswap()
    return flat.tobytes()


def _unpack_arcs(blob: bytes) -> set[TArc]:
    flat = array("i")
    flat.frombytes(blob)
    if sys.byteorder == "big":
        flat.byteswap()
    return set(zip(flat[0::2], flat[1::2]))


def _to_db(text: str) -> str | bytes:
    """A path or context as stored: the str, or (for a name that isn't valid
    Unicode, like a non-UTF-8 file name decoded with surrogateescape) its
    bytes, stored as a BLOB."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def _from_db(value: str | bytes) -> str:
    """The inverse of :func:`_to_db`."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


class CoverageData:
    """Measured lines or arcs, per file and context, and their data file.

    :param basename: the data file's name (default ``.covcore``); relative
        names are relative to the current directory.
    :param suffix: see :func:`filename_suffix`.
    :param no_disk: keep data in memory only; :meth:`read` and :meth:`write`
        do nothing.
    :param warn: ``warn(message, slug)`` for warnings.

    A ``CoverageData`` holds lines *or* arcs, never both: adding arcs to
    line data (or lines to arc data) raises :class:`DataError`.
    """

    def __init__(
        self,
        basename: str | None = None,
        suffix: str | bool | None = None,
        no_disk: bool = False,
        warn: Callable[[str, str], None] | None = None,
    ) -> None:
        self._no_disk = no_disk
        self._basename = os.path.abspath(basename or ".covcore")
        self._suffix = suffix
        self._filename: str | None = None
        self._warn = warn
        self._context = ""
        # file name -> context -> lines / arcs
        self._lines: dict[str, dict[str, set[int]]] = {}
        self._arcs: dict[str, dict[str, set[TArc]]] = {}
        self._tracers: dict[str, str] = {}
        self._has_lines = False
        self._has_arcs = False
        self.meta: dict[str, str] = {}
        #: For data read from a file: a digest of what it measured (see read_data_file).
        self.content_digest: str | None = None

    def __repr__(self) -> str:
        return f"<CoverageData {self.data_filename()!r} files={len(self.measured_files())}>"

    # -- names --------------------------------------------------------------

    def base_filename(self) -> str:
        """The data file's name without any suffix (absolute)."""
        return self._basename

    def data_filename(self) -> str:
        """The data file's name, with its suffix (absolute)."""
        if self._filename is None:
            suffix = filename_suffix(self._suffix)
            self._filename = self._basename + (f".{suffix}" if suffix else "")
        return self._filename

    # -- adding -------------------------------------------------------------

    @property
    def current_context(self) -> str:
        """The context what is added now is recorded under ("" is the default)."""
        return self._context

    def set_context(self, context: str | None) -> None:
        """Record what is added from now on under ``context`` ("" or None: the default)."""
        self._context = context or ""

    def _choose(self, arcs: bool) -> None:
        if arcs and self._has_lines:
            raise DataError(f"Can't add branch measurements to existing line data in {self.data_filename()!r}")
        if not arcs and self._has_arcs:
            raise DataError(f"Can't add line measurements to existing branch data in {self.data_filename()!r}")
        if arcs:
            self._has_arcs = True
        else:
            self._has_lines = True

    def set_kind(self, arcs: bool) -> None:
        """Declare that this data holds arcs (True) or lines (False).

        :raises DataError: it already holds the other kind.
        """
        self._choose(arcs=arcs)

    def add_lines(self, line_data: Mapping[str, Collection[int]]) -> None:
        """Add executed lines: ``{filename: iterable of 1-based line numbers}``."""
        if not line_data:
            return
        self._choose(arcs=False)
        for filename, lines in line_data.items():
            self._lines.setdefault(filename, {}).setdefault(self._context, set()).update(lines)

    def add_arcs(self, arc_data: Mapping[str, Collection[TArc]]) -> None:
        """Add executed arcs: ``{filename: iterable of (from_line, to_line)}``."""
        if not arc_data:
            return
        self._choose(arcs=True)
        for filename, arcs in arc_data.items():
            self._arcs.setdefault(filename, {}).setdefault(self._context, set()).update(arcs)

    def _adopt(self, data: dict[str, set[Any]], arcs: bool) -> None:
        """:meth:`add_lines` (or :meth:`add_arcs`) of sets this object may
        keep as they are: the collector's fresh copies (left out of the
        cyclic collector, see ``covcore._tracer.untracked_copies``)."""
        if not data:
            return
        self._choose(arcs=arcs)
        table = self._arcs if arcs else self._lines
        context = self._context
        for filename, items in data.items():
            by_ctx = table.setdefault(filename, {})
            existing = by_ctx.get(context)
            if existing is None:
                by_ctx[context] = items
            else:
                existing.update(items)

    def touch_files(self, filenames: Iterable[str], tracer: str = "") -> None:
        """Mark files as measured even if nothing in them ran."""
        for filename in filenames:
            table = self._arcs if self._has_arcs else self._lines
            table.setdefault(filename, {})
            if tracer:
                self._tracers[filename] = tracer

    def add_file_tracers(self, tracers: Mapping[str, str]) -> None:
        """Record the file tracer plugin that measured each file."""
        self._tracers.update(tracers)

    # -- querying -----------------------------------------------------------

    def __bool__(self) -> bool:
        return bool(self._lines or self._arcs)

    def has_arcs(self) -> bool:
        """Does this data hold arcs (branch coverage) rather than lines?"""
        return self._has_arcs

    def measured_files(self) -> set[str]:
        """The names of all files with data."""
        return set(self._lines) | set(self._arcs)

    def measured_contexts(self) -> set[str]:
        """The names of all contexts with data."""
        contexts: set[str] = set()
        for table in (self._lines, self._arcs):
            for by_context in table.values():
                contexts.update(by_context)
        return contexts

    def lines(self, filename: str) -> list[int] | None:
        """The executed lines of a file, sorted; None if the file was not measured.

        For arc data, the lines are those the arcs touch (positive line numbers).
        """
        if filename in self._arcs:
            lines = {n for arcs in self._arcs[filename].values() for arc in arcs for n in arc if n > 0}
            return sorted(lines)
        if filename in self._lines:
            return sorted(set().union(*self._lines[filename].values()))
        return None

    def arcs(self, filename: str) -> list[TArc] | None:
        """The executed arcs of a file, sorted; None if it has no arc data."""
        if filename not in self._arcs:
            return None
        return sorted(set().union(*self._arcs[filename].values()))

    def raw_measurements(self, filename: str) -> dict[str, set]:
        """A file's measurements as stored: ``{context: set of lines or arcs}``."""
        table = self._arcs if filename in self._arcs else self._lines
        return {ctx: set(items) for ctx, items in table.get(filename, {}).items()}

    def contexts_by_lineno(self, filename: str) -> dict[int, list[str]]:
        """For each executed line of a file, the sorted contexts that ran it."""
        result: dict[int, set[str]] = {}
        if filename in self._arcs:
            for ctx, arcs in self._arcs[filename].items():
                for arc in arcs:
                    for n in arc:
                        if n > 0:
                            result.setdefault(n, set()).add(ctx)
        for ctx, lines in self._lines.get(filename, {}).items():
            for n in lines:
                result.setdefault(n, set()).add(ctx)
        return {n: sorted(c) for n, c in result.items()}

    def file_tracer(self, filename: str) -> str | None:
        """The file tracer plugin for a file: "" for Python files, None if not measured."""
        if filename not in self._lines and filename not in self._arcs:
            return None
        return self._tracers.get(filename, "")

    # -- merging ------------------------------------------------------------

    def update(self, other: CoverageData, map_path: Callable[[str], str] | None = None) -> None:
        """Add another data object's measurements to this one.

        :param map_path: maps the other data's file names to this data's
            (``[paths]`` remapping); identity by default.
        :raises DataError: when one holds lines and the other arcs.
        """
        map_path = map_path or (lambda p: p)
        if other._has_lines:
            self._choose(arcs=False)
        if other._has_arcs:
            self._choose(arcs=True)
        for src, dst in ((other._lines, self._lines), (other._arcs, self._arcs)):
            for filename, by_context in src.items():
                mine = dst.setdefault(map_path(filename), {})
                for ctx, items in by_context.items():
                    mine.setdefault(ctx, set()).update(items)
        for filename, tracer in other._tracers.items():
            self._tracers[map_path(filename)] = tracer

    # -- disk ---------------------------------------------------------------

    def erase(self, parallel: bool = False) -> None:
        """Forget all data and remove the data file (and, with ``parallel``,
        every parallel-mode data file beside it; without it, the temporary
        files that writers killed while saving left, see :func:`covcore.datafiles.dead_temp_files`).

        :raises DataError: a file can't be removed (names it).
        """
        self._lines.clear()
        self._arcs.clear()
        self._tracers.clear()
        self._has_lines = self._has_arcs = False
        if self._no_disk:
            return
        names = [self.data_filename()]
        if parallel:
            import glob

            names += glob.glob(glob.escape(self._basename) + ".*")
        else:
            names += dead_temp_files(self._basename)
        for name in names:
            try:
                os.remove(name)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise DataError(f"Couldn't remove data file {name!r}: {exc.strerror}") from None

    def read(self) -> None:
        """Load the data file, replacing what is in memory.  A missing file is no data
        (a broken symbolic link in its place is an error).

        :raises DataError: the file is not a covcore data file, is corrupt, or
            has another schema version; the message names the file.
        """
        if self._no_disk:
            return
        filename = self.data_filename()
        if not os.path.lexists(filename):
            return
        loaded = read_data_file(filename)
        self._lines, self._arcs, self._tracers = loaded._lines, loaded._arcs, loaded._tracers
        self._has_lines, self._has_arcs, self.meta = loaded._has_lines, loaded._has_arcs, loaded.meta

    def write(self) -> None:
        """Save to the data file in one step: a new file renamed over the old.

        The new file is written as ``<data file>.tmp-<host>-<pid>-<random>``
        (see :func:`covcore.datafiles.temp_file_owner`) and renamed into place when complete, so
        a process killed while saving leaves the old data file or the new
        one, never a half-written one (and perhaps a temporary file, which
        ``combine`` never reads and :meth:`erase` removes once its writer is
        dead).

        :raises DataError: the file cannot be written (the message names the
            path and the reason, e.g. a read-only directory, a full disk, or
            a data file name that is a directory or a device).
        """
        if self._no_disk:
            return
        filename = self.data_filename()
        if os.path.exists(filename) and not os.path.isfile(filename):
            # Renaming over it would replace e.g. /dev/null for every user.
            raise DataError(f"Couldn't write data file {filename!r}: it exists and is not a regular file")
        tmp = f"{filename}{TEMP_MARK}{hostname()}-{os.getpid()}-{_random_int(10**9)}"
        try:
            # Created first, by us: a directory that can't take it fails here
            # with the system's own reason ("Permission denied", "Not a
            # directory"), not SQLite's "unable to open database file".
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            with SqliteDb(tmp) as db:
                self._write_to(db)
            os.replace(tmp, filename)
        except (OSError, DataError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if isinstance(exc, DataError):
                # SQLite says "disk I/O error" for a full disk or a file size
                # limit: the system's own reason is clearer.
                reason = write_failure(tmp) or str(exc).split(": ", 1)[-1]
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise DataError(f"Couldn't write data file {filename!r}: {reason}") from None

    def _write_to(self, db: SqliteDb) -> None:
        from covcore import __version__

        # One transaction from the first table to the last row: each
        # statement outside one would be a commit of its own.
        db.executescript("BEGIN;\n" + _SCHEMA)
        db.execute("INSERT INTO covcore_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        meta = dict(self.meta)
        meta.update(
            has_arcs="1" if self._has_arcs else "0",
            covcore_version=__version__,
            when=datetime.datetime.now().isoformat(timespec="seconds"),
        )
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", ((k, _to_db(v)) for k, v in meta.items()))
        files = sorted(self.measured_files())
        file_ids = {f: i for i, f in enumerate(files, 1)}
        db.executemany("INSERT INTO file (id, path) VALUES (?, ?)", ((i, _to_db(f)) for f, i in file_ids.items()))
        contexts = sorted(self.measured_contexts() | {""})
        ctx_ids = {c: i for i, c in enumerate(contexts, 1)}
        db.executemany("INSERT INTO context (id, context) VALUES (?, ?)", ((i, _to_db(c)) for c, i in ctx_ids.items()))
        nums_to_numbits = numbits_packer()
        pack_arcs = arcs_packer()
        db.executemany(
            "INSERT INTO line_bits (file_id, context_id, numbits) VALUES (?, ?, ?)",
            (
                (file_ids[f], ctx_ids[c], nums_to_numbits(lines))
                for f, by_ctx in self._lines.items()
                for c, lines in by_ctx.items()
            ),
        )
        db.executemany(
            "INSERT INTO arc_pairs (file_id, context_id, pairs) VALUES (?, ?, ?)",
            (
                (file_ids[f], ctx_ids[c], pack_arcs(arcs))
                for f, by_ctx in self._arcs.items()
                for c, arcs in by_ctx.items()
            ),
        )
        db.executemany(
            "INSERT INTO tracer (file_id, tracer) VALUES (?, ?)",
            ((file_ids[f], t) for f, t in self._tracers.items() if t and f in file_ids),
        )
        db.execute("COMMIT")


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
