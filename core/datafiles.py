"""The data file on disk, outside its contents: the temporary files that
saving leaves while it writes, and the checks that tell, before SQLite opens
a file, whether it can be a covcore data file at all.

Saving (:meth:`covcore.data.CoverageData.write`) writes
``<data file>.tmp-<host>-<pid>-<random>`` and renames it into place, so a
process killed while saving leaves the old data file or the new one and, at
worst, its temporary file: ``combine`` never reads those, and ``erase``
removes the ones whose writer is provably dead (:func:`dead_temp_files`).

Every problem with a data file is worded by :func:`unusable`:
``Couldn't use data file '<path>': <problem>``.
"""

from __future__ import annotations

import errno
import os
import stat

from covcore.errors import DataError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from covcore.data import RawData


#: What a data file's temporary twin adds to its name (see :meth:`covcore.data.CoverageData.write`).
TEMP_MARK = ".tmp-"


def write_failure(path: str) -> str | None:
    """Why the system refuses to write more to `path` (e.g. "No space left
    on device", "File too large"), or None if it doesn't."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        return exc.strerror
    try:
        os.write(fd, bytes(65536))
        os.fsync(fd)
    except OSError as exc:
        return exc.strerror
    finally:
        os.close(fd)
    return None


def hostname() -> str:
    """This machine's name (``os.uname`` is cheaper to import than ``socket``)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def temp_file_owner(path: str) -> tuple[str, int] | None:
    """The ``(host, pid)`` of the process that wrote a temporary data file
    (named ``<data file>.tmp-<host>-<pid>-<random>``), or None if `path` is
    not one."""
    _, mark, rest = os.path.basename(path).rpartition(TEMP_MARK)
    parts = rest.rsplit("-", 2) if mark else []
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1])


def dead_temp_files(basename: str) -> list[str]:
    """Temporary files of a data file family (``<basename>`` and its
    parallel files) whose writer is provably gone: it ran on this machine
    and no process with its id exists now, e.g. it was killed while saving.

    A writer on another machine sharing the directory, or a live process
    (perhaps a new one that reused the id), keeps its file: deleting it
    could break a save in progress.  Always empty where process ids can't
    be probed safely (Windows).

    :param basename: the data file's name without a suffix.
    :returns: sorted absolute paths.
    """
    if os.name != "posix":
        return []
    import glob  # only here: glob imports contextlib and fnmatch (1 ms of every start)

    pattern = glob.escape(os.path.abspath(basename))
    names = set(glob.glob(pattern + TEMP_MARK + "*")) | set(glob.glob(pattern + ".*" + TEMP_MARK + "*"))
    host = hostname()
    dead = []
    for name in names:
        owner = temp_file_owner(name)
        if owner is None or owner[0] != host or owner[1] == os.getpid():
            continue
        try:
            os.kill(owner[1], 0)
        except ProcessLookupError:
            dead.append(name)
        except OSError:
            pass  # exists, someone else's
    return sorted(dead)


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
