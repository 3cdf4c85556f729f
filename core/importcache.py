"""One file holding the compiled modules a measured process imports.

Every measured process (``covcore run``, and each subprocess measured through
``covcore.pth``) imports ~17 of covcore's modules before its program starts.
The import system spends more on finding and loading each of them than on
running it: a search of ``sys.meta_path`` and the package directory, a
``stat`` of the source, an ``open`` and ``read`` of the ``.pyc``, and ~300 K
instructions of importlib's own Python code (3.12) — about 1 ms of every
measured process in all.

The run cache, ``covcore/__pycache__/runpath.<cache tag>.bundle``, keeps the
compiled code of those modules in one file.  ``covcore run`` writes it when
it found none, or a stale one, from the ``.pyc`` files the import system wrote
in that run (never when ``sys.dont_write_bytecode`` is set, as with
``PYTHONDONTWRITEBYTECODE``).  A process that finds it valid serves those
modules from it through a finder first on ``sys.meta_path`` until its program
starts, then removes the finder.  Valid means: this interpreter's bytecode
magic number, and for every module the size and modification time its
source file had when its ``.pyc`` was written, as the import system checks
a ``.pyc`` (one ``stat`` per module); a stale entry makes the whole file
unused.  Modules the file lacks load as usual.  ``COVCORE_NO_RUN_CACHE=1``
turns it off; ``covcore debug sys`` says whether it is used.

:class:`Startup` is that window, from covcore's first line to the program's
(the run cache's finder, and the cyclic collector off), for ``covcore run``
and for subprocesses measured from start-up alike.
"""

from __future__ import annotations

import marshal
import os
import sys

from _frozen_importlib_external import MAGIC_NUMBER, SourceFileLoader, cache_from_source, spec_from_file_location

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType
    from typing import Iterable, Sequence

_FORMAT = 2
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: covcore's modules already imported when install() ran: they come before
#: any cache could serve them, so a cache written later leaves them out.
_preloaded: frozenset[str] = frozenset()


def cache_path() -> str | None:
    """The run cache's file name for this interpreter, or None when there is
    none to use: ``COVCORE_NO_RUN_CACHE`` set, ``-O`` (other ``.pyc`` files),
    or an implementation without a cache tag."""
    tag = sys.implementation.cache_tag
    if tag is None or sys.flags.optimize or os.environ.get("COVCORE_NO_RUN_CACHE"):
        return None
    return os.path.join(_PACKAGE_DIR, "__pycache__", f"runpath.{tag}.bundle")


class _CachedLoader(SourceFileLoader):
    """A source file loader whose code comes from the run cache (source,
    file name and ``is_package`` as the usual loader's)."""

    def __init__(self, fullname: str, path: str, cache: RunCache, offset: int, length: int) -> None:
        super().__init__(fullname, path)
        self._where = (cache, offset, length)

    def get_code(self, fullname: str) -> CodeType:
        cache, offset, length = self._where
        if cache.fd < 0:
            # The cache is closed (the program runs): importlib.reload()
            # and the like get the module the usual way.
            return super().get_code(fullname)
        return marshal.loads(cache.read(offset, length))


class RunCache:
    """An open, valid run cache: ``entries`` ``{module name: (source file,
    offset, length)}`` of each module's marshalled code in the file, read
    with :meth:`read` from the file as it was opened (a cache written again
    meanwhile is another file).  Each module's code is read only when it is
    imported, into memory the next one reuses: reading the whole file and
    keeping it would touch ~160 more pages (3.12, 18 modules)."""

    def __init__(self, fd: int, entries: dict[str, tuple[str, int, int]]) -> None:
        self.fd = fd
        self.entries = entries

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise ImportError("covcore's run cache is truncated")
        return data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class RunCacheFinder:
    """The meta path finder serving the modules of a valid run cache, each
    at most once (a module imported again is in ``sys.modules``)."""

    def __init__(self, cache: RunCache) -> None:
        self.cache = cache
        self.served: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        entry = self.cache.entries.pop(fullname, None)
        if entry is None:
            return None
        origin, offset, length = entry
        self.served.append(fullname)
        loader = _CachedLoader(fullname, origin, self.cache, offset, length)
        return spec_from_file_location(fullname, origin, loader=loader)


def _source_stamp(origin: str) -> tuple[int, int]:
    """(mtime, size) of a source file as a ``.pyc`` header holds them.
    :raises OSError: the file can't be looked at."""
    st = os.stat(origin)
    return int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF


def read_cache(path: str) -> RunCache | None:
    """The run cache `path`, open, if it is valid for this interpreter and
    every source file is as it was (see the module's docstring), else None.
    The file's layout: the length of its index (4 bytes, little-endian),
    the index ``marshal((format, magic number, {module name: (source file,
    mtime, size, offset, length)}))``, then each module's marshalled code.
    Raises nothing."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        head = os.read(fd, 16384)
        size = int.from_bytes(head[:4], "little")
        if len(head) < 4 + size:
            head += os.pread(fd, 4 + size - len(head), len(head))
        fmt, magic, index = marshal.loads(head[4:4 + size])
        if fmt != _FORMAT or magic != MAGIC_NUMBER:
            raise ValueError("another format")
        entries = {}
        for name, (origin, mtime, srcsize, offset, length) in index.items():
            if _source_stamp(origin) != (mtime, srcsize):
                raise ValueError("stale")
            entries[name] = (origin, offset, length)
        return RunCache(fd, entries)
    except Exception:  # noqa: BLE001 - unreadable, corrupt, another format, stale: not used
        os.close(fd)
        return None


class Startup:
    """What a measured process does from covcore's first line (``covcore
    run``, :func:`covcore.process.process_startup`) to its program's:

    * covcore's modules come from the run cache if there is a valid one
      (:func:`install`);
    * the cyclic garbage collector is off: every object made then lives to
      the end of the process and is frozen before the program starts
      (:func:`covcore.process.freeze_startup_objects`), so collecting them
      is work for nothing (6 young and 1 older collection, ~4 M
      instructions, 3.12).

    :meth:`end` undoes both (once), before the program runs; the collector
    is then as it was."""

    def __init__(self) -> None:
        import gc

        self.gc_enabled = gc.isenabled()
        gc.disable()
        self.finder = install()
        self.ended = False

    def end(self) -> None:
        if self.ended:
            return
        import gc

        self.ended = True
        uninstall(self.finder)
        if self.gc_enabled:
            gc.enable()


def install() -> RunCacheFinder | None:
    """Put a finder for the valid run cache first on ``sys.meta_path`` and
    return it; None (and nothing changed) when there is no valid cache.
    Modules already imported are left out.  Raises nothing."""
    global _preloaded
    _preloaded = frozenset(name for name in sys.modules if name == "covcore" or name.startswith("covcore."))
    path = cache_path()
    if path is None:
        return None
    cache = read_cache(path)
    if cache is None:
        return None
    for name in list(cache.entries):
        if name in sys.modules:
            del cache.entries[name]
    finder = RunCacheFinder(cache)
    sys.meta_path.insert(0, finder)
    return finder


def uninstall(finder: RunCacheFinder | None) -> None:
    """Take `finder` (from :func:`install`, or None) off ``sys.meta_path``
    and close its file."""
    if finder is not None:
        try:
            sys.meta_path.remove(finder)
        except ValueError:
            pass
        finder.cache.close()


def run_modules() -> list[str]:
    """The names of covcore's modules imported now from source files of this
    package, but not before :func:`install` ran (what a run cache written now
    would hold)."""
    names = []
    for name, module in list(sys.modules.items()):
        if (name == "covcore" or name.startswith("covcore.")) and name not in _preloaded:
            origin = getattr(getattr(module, "__spec__", None), "origin", None)
            if isinstance(origin, str) and origin.endswith(".py") and \
                    _inside_package(os.path.dirname(os.path.abspath(origin))):
                names.append(name)
    return names


def _inside_package(directory: str) -> bool:
    """Is `directory` this package's directory or one below it?"""
    return directory == _PACKAGE_DIR or directory.startswith(_PACKAGE_DIR + os.sep)


def write_cache(names: Iterable[str], path: str | None = None) -> bool:
    """Write the run cache (`path`, by default :func:`cache_path`) for the
    modules `names` (imported now), from their ``.pyc`` files: only those
    whose ``.pyc`` is timestamp-checked and matches its source now.  Written
    to a temporary file and renamed into place; nothing when
    ``sys.dont_write_bytecode`` is set.  Returns whether it was written;
    raises nothing (a read-only install simply has no run cache)."""
    if path is None:
        path = cache_path()
    if path is None or sys.dont_write_bytecode:
        return False
    entries = {}
    for name in names:
        origin = getattr(getattr(sys.modules.get(name), "__spec__", None), "origin", None)
        if not isinstance(origin, str) or not origin.endswith(".py"):
            continue
        try:
            with open(cache_from_source(origin), "rb") as f:
                pyc = f.read()
            stamp = _source_stamp(origin)
        except (OSError, ValueError, NotImplementedError):
            continue
        # The header: magic, flags (0: checked by timestamp), mtime, size.
        if len(pyc) <= 16 or pyc[:4] != MAGIC_NUMBER or pyc[4:8] != b"\0\0\0\0":
            continue
        mtime, size = int.from_bytes(pyc[8:12], "little"), int.from_bytes(pyc[12:16], "little")
        if (mtime, size) != stamp:
            continue
        entries[name] = (origin, mtime, size, pyc[16:])
    if not entries:
        return False
    # The index's size depends on the offsets, whose marshalled size can
    # change with them: lay it out until it holds still.
    offsets: dict[str, tuple[str, int, int, int, int]] = {}
    index = b""
    while True:
        pos = 4 + len(index)
        new_offsets = {}
        for name, (origin, mtime, size, code) in entries.items():
            new_offsets[name] = (origin, mtime, size, pos, len(code))
            pos += len(code)
        new_index = marshal.dumps((_FORMAT, MAGIC_NUMBER, new_offsets))
        if new_offsets == offsets and len(new_index) == len(index):
            break
        offsets, index = new_offsets, new_index
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(len(index).to_bytes(4, "little") + index)
            for name in entries:
                f.write(entries[name][3])
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        return False
    return True


def describe() -> str:
    """The run cache's state for ``covcore debug sys``: its file name and
    how many modules it holds, or why there is none to use."""
    if os.environ.get("COVCORE_NO_RUN_CACHE"):
        return "-off- (COVCORE_NO_RUN_CACHE)"
    path = cache_path()
    if path is None:
        return "-none- (no .pyc cache tag, or -O)"
    cache = read_cache(path)
    if cache is None:
        state = "stale or unreadable" if os.path.exists(path) else "not written yet"
        return f"{path} ({state}: written by the next 'covcore run')"
    cache.close()
    return f"{path} ({len(cache.entries)} modules)"
