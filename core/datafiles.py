"""The data file on disk, outside its contents: the temporary files that
saving leaves while it writes (the checks that tell, before SQLite opens a
file, whether it can be a covcore data file at all are in
:mod:`covcore.dataread`).

Saving (:meth:`covcore.data.CoverageData.write`) writes
``<data file>.tmp-<host>-<pid>-<random>`` and renames it into place, so a
process killed while saving leaves the old data file or the new one and, at
worst, its temporary file: ``combine`` never reads those, and ``erase``
removes the ones whose writer is provably dead (:func:`dead_temp_files`).

Every problem with a data file is worded by
:func:`covcore.dataread.unusable`: ``Couldn't use data file '<path>': <problem>``.
"""

from __future__ import annotations

import os

#: What a data file's temporary twin adds to its name (see :meth:`covcore.data.CoverageData.write`).
TEMP_MARK = ".tmp-"


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
