"""Coverage data: what was measured, and the data file that keeps it.

A :class:`CoverageData` holds, per measured file and per context, the set of
executed lines (statement coverage) or of executed arcs (branch coverage).
It writes covcore's SQLite data file, laying out the database itself
(:mod:`covcore.sqlitewrite`: no SQLite library in a measured process);
:mod:`covcore.dataread` reads it with :mod:`sqlite3` (imported when a file is
read: a measured process only writes).

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

import os
import sys
import time

from covcore.datafiles import TEMP_MARK, dead_temp_files, hostname
from covcore.errors import DataError
from covcore.numbits import numbits_packer
from covcore.sqlitewrite import Table, write_database

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


def _tables() -> list[Table]:
    """:data:`_SCHEMA`'s tables as :mod:`covcore.sqlitewrite` writes them:
    the statements as SQLite stores them, the ``INTEGER PRIMARY KEY``
    columns (the rowids), and the autoindexes of the ``PRIMARY KEY`` and
    ``UNIQUE`` constraints."""
    sql = {stmt.split()[2]: stmt for stmt in (s.strip() for s in _SCHEMA.split(";")) if stmt}
    return [
        Table("covcore_schema", sql["covcore_schema"], 1),
        Table("meta", sql["meta"], 2, indexes=[(0,)]),
        Table("file", sql["file"], 2, rowid_col=0, indexes=[(1,)]),
        Table("context", sql["context"], 2, rowid_col=0, indexes=[(1,)]),
        Table("line_bits", sql["line_bits"], 3, indexes=[(0, 1)]),
        Table("arc_pairs", sql["arc_pairs"], 3, indexes=[(0, 1)]),
        Table("tracer", sql["tracer"], 2, rowid_col=0),
    ]


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
    from array import array  # the pure-Python install only: the C packer is used otherwise

    flat = array("i")
    for a, b in sorted(arcs):
        flat.append(a)
        flat.append(b)
    if sys.byteorder == "big":
        flat.byteswap()
    return flat.tobytes()


def _to_db(text: str) -> str | bytes:
    """A path or context as stored: the str, or (for a name that isn't valid
    Unicode, like a non-UTF-8 file name decoded with surrogateescape) its
    bytes, stored as a BLOB."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


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
        #: For data read from a file: a digest of what it measured (see covcore.dataread.read_data_file).
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
        from covcore.dataread import read_data_file

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
            write_database(tmp, _tables(), self._rows())
            os.replace(tmp, filename)
        except (OSError, TypeError, ValueError) as exc:
            # The system's own reason ("No space left on device", "File too
            # large", "Permission denied"); TypeError, ValueError: data that
            # can't be stored (covcore's own sets never hold such).
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise DataError(f"Couldn't write data file {filename!r}: {reason}") from None

    def _rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows, as :meth:`write` stores them."""
        from covcore import __version__

        meta = dict(self.meta)
        meta.update(
            has_arcs="1" if self._has_arcs else "0",
            covcore_version=__version__,
            when=time.strftime("%Y-%m-%dT%H:%M:%S"),  # datetime's isoformat(timespec="seconds")
        )
        files = sorted(self.measured_files())
        file_ids = {f: i for i, f in enumerate(files, 1)}
        contexts = sorted(self.measured_contexts() | {""})
        ctx_ids = {c: i for i, c in enumerate(contexts, 1)}
        nums_to_numbits = numbits_packer()
        pack_arcs = arcs_packer()
        return {
            "covcore_schema": [(SCHEMA_VERSION,)],
            "meta": [(k, _to_db(v)) for k, v in meta.items()],
            "file": [(i, _to_db(f)) for f, i in file_ids.items()],
            "context": [(i, _to_db(c)) for c, i in ctx_ids.items()],
            "line_bits": [
                (file_ids[f], ctx_ids[c], nums_to_numbits(lines))
                for f, by_ctx in self._lines.items()
                for c, lines in by_ctx.items()
            ],
            "arc_pairs": [
                (file_ids[f], ctx_ids[c], pack_arcs(arcs))
                for f, by_ctx in self._arcs.items()
                for c, arcs in by_ctx.items()
            ],
            "tracer": [(file_ids[f], t) for f, t in self._tracers.items() if t and f in file_ids],
        }
