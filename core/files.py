"""File names: canonical forms and glob matching for ``include``/``omit``.

Canonical file names are absolute, with links resolved and (on
case-insensitive systems) case normalised, so that one file always has one
name in the data file.  Glob patterns follow coverage.py's semantics: ``*``
and ``?`` do not cross a slash, ``**/`` matches any number of directories, a
leading ``*/`` matches any prefix, a trailing ``/*`` any suffix, either slash
style matches either, and a pattern with no slash matches a file name
anywhere in the tree.
"""

from __future__ import annotations

import os
import sys
from functools import partial
from stat import S_ISDIR as _S_ISDIR
from stat import S_ISLNK as _S_ISLNK

from covcore.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    import re
    from typing import Callable, Iterable

_CANONICAL_CACHE: dict[str, str] = {}

#: POSIX file names: ``os.path.normcase`` is a no-op and ``/`` the only separator.
_POSIX = os.name == "posix"


#: Absolute directory name -> its ``os.path.realpath``, for directories that
#: existed when first resolved (one that didn't may yet be made, as a link).
_REAL_DIRS: dict[str, str] = {}


def _os_lstat_kind(path: str) -> int:
    """``covcore._tracer.lstat_kind`` with ``os.lstat``: -1 if lstat fails
    (or the name can't be a file's), 1 for a link, 2 for a directory, else 0."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return -1
    return 1 if _S_ISLNK(mode) else 2 if _S_ISDIR(mode) else 0


def _no_known_dir_file(path: str) -> None:
    """The pure-Python install's known-directory lookup: never answers."""
    return None


#: What :func:`known_dir_file_function` returns, once resolved.
_KNOWN_DIR_FILE: Callable[[str], tuple[str, str] | None] | None = None


def _load_compiled() -> None:
    """Bind :func:`_lstat_kind` and the known-directory lookup to the
    compiled extension's helpers when it is built (``lstat_kind`` makes no
    ``os.stat_result``: 6 K instructions less a file), else to the Python
    fallbacks.  Done on first use: ``import covcore.files`` loads nothing."""
    global _lstat_kind, _KNOWN_DIR_FILE
    try:
        from covcore._tracer import HAS_LSTAT, lstat_kind, real_file_in_known_dir
    except ImportError:  # the pure-Python install
        HAS_LSTAT = False
    _lstat_kind = lstat_kind if HAS_LSTAT else _os_lstat_kind
    _KNOWN_DIR_FILE = partial(real_file_in_known_dir, _REAL_DIRS) if _POSIX and HAS_LSTAT else _no_known_dir_file


def _lstat_kind(path: str) -> int:
    """The first call: see :func:`_load_compiled`."""
    _load_compiled()
    return _lstat_kind(path)


def known_dirs() -> dict[str, str] | None:
    """The table the compiled lookup of :func:`known_dir_file_function`
    reads (absolute directory name -> its real path, filled as directories
    are resolved), or None when that lookup never answers (off POSIX, or the
    pure-Python install)."""
    return _REAL_DIRS if known_dir_file_function() is not _no_known_dir_file else None


def known_dir_file_function() -> Callable[[str], tuple[str, str] | None]:
    """A function of a file name ``path`` (str) that returns
    ``(real directory, real file name)`` when ``path``'s directory was
    resolved before and the answer is one ``lstat`` away, else None (see
    ``covcore._tracer.real_file_in_known_dir``).  The real file name is then
    what :func:`abs_file` returns.  Off POSIX, or without the compiled
    extension, the function always returns None."""
    if _KNOWN_DIR_FILE is None:
        _load_compiled()
    assert _KNOWN_DIR_FILE is not None
    return _KNOWN_DIR_FILE


def _posix_realpath(path: str) -> str:
    """``os.path.realpath(path)`` on POSIX, resolving each directory once per process.

    ``realpath(d/name)`` equals ``realpath(realpath(d)/name)`` for a plain
    name, so only the last component is looked at again (one ``lstat``):
    ``realpath`` alone costs one system call and a Python loop per component
    of every file name, 30 µs for each of the ~500 files a large import loads.
    Written with ``str`` methods rather than ``os.path`` calls: this runs once
    for every file any code runs from (the tracers ask about each), and each
    Python-level call costs as much as the rest of the work.
    """
    found = (_KNOWN_DIR_FILE or known_dir_file_function())(path)
    if found is not None:
        return found[1]
    if path[:1] != "/":
        path = os.path.join(os.getcwd(), path)
    head, _, tail = path.rpartition("/")
    if not head or tail in ("", ".", ".."):
        return os.path.realpath(path)
    real_head = _REAL_DIRS.get(head)
    if real_head is None:
        real_head = _real_dir(head)
    candidate = real_head + tail if real_head[-1:] == "/" else real_head + "/" + tail
    # -1 (missing, or a name no system call takes) is os.path.islink's False.
    if _lstat_kind(candidate) == 1:
        return os.path.realpath(candidate)
    return candidate


def _real_dir(path: str) -> str:
    """``os.path.realpath(path)`` for an absolute directory name, through
    its parent's cached answer (one ``lstat`` for a new directory whose
    parent was seen, instead of one per component); cached if it exists."""
    real = _REAL_DIRS.get(path)
    if real is not None:
        return real
    head, tail = os.path.split(path)
    if not head or head == path or tail in ("", os.curdir, os.pardir):
        real = os.path.realpath(path)
        is_dir = os.path.isdir(real)
    else:
        real = os.path.join(_real_dir(head), tail)
        kind = _lstat_kind(real)
        if kind == 1:
            real = os.path.realpath(real)
            is_dir = os.path.isdir(real)
        else:
            is_dir = kind == 2
    if is_dir:
        _REAL_DIRS[path] = real
    return real


def abs_file(path: str) -> str:
    """The absolute, link-resolved, case-normalised form of ``path`` (str)."""
    if _POSIX:
        return _posix_realpath(path)  # absolute and normalised already; normcase is a no-op
    return os.path.normcase(os.path.abspath(os.path.realpath(path)))


def canonical_filename(filename: str) -> str:
    """The canonical name of a measured file.

    A relative name (as a code object may carry) is looked up relative to the
    current directory and then each ``sys.path`` entry, as coverage.py does.
    Results are cached: the answer for a name never changes in one process.
    """
    result = _CANONICAL_CACHE.get(filename)  # not try/except: most names are asked about once
    if result is not None:
        return result
    if _POSIX and filename[:1] == "/":
        result = _CANONICAL_CACHE[filename] = _posix_realpath(filename)
        return result
    found = filename
    if not os.path.isabs(filename):
        for base in [os.curdir, *sys.path]:
            candidate = os.path.join(base, filename)
            try:
                if os.path.exists(candidate):
                    found = candidate
                    break
            except (UnicodeError, ValueError):
                continue
    result = _CANONICAL_CACHE[filename] = abs_file(found)
    return result


def relative_filename(filename: str, base: str | None = None) -> str:
    """``filename`` relative to ``base`` (default: the current directory),
    if it lies below it; otherwise unchanged.  Used for report names."""
    base = os.path.normcase(os.path.abspath(base or os.getcwd()))
    norm = os.path.normcase(filename)
    if not base.endswith(os.sep):
        base += os.sep
    if norm.startswith(base):
        return filename[len(base):]
    return filename


#: The tokens of a file-path glob, tried in order: (regex, its translation, or
#: None for a token that is an error).  Compiled on first use (14 regexes: 1 ms
#: of every start otherwise).
_GLOB_TOKENS: list[tuple[re.Pattern[str], str | None]] = []
_GLOB_TOKEN_SOURCES: list[tuple[str, str | None]] = [
    (r"\*\*\*+", None),
    (r"[^/]+\*\*+", None),
    (r"\*\*+[^/]+", None),
    (r"\*\*/\*\*", None),
    (r"^\*+/", r"(.*[/\\\\])?"),
    (r"/\*+$", r"[/\\\\].*"),
    (r"\*\*/", r"(.*[/\\\\])?"),
    (r"/", r"[/\\\\]"),
    (r"\*", r"[^/\\\\]*"),
    (r"\?", r"[^/\\\\]"),
    (r"\[.*?\]", r"\g<0>"),
    (r"[a-zA-Z0-9_-]+", r"\g<0>"),
    (r"[\[\]]", None),
    (r"[\s\S]", r"\\\g<0>"),
]


def glob_to_regex(pattern: str) -> str:
    """Translate one file-path glob into a regex string.

    :raises ConfigError: for patterns that cannot mean anything (``***``,
        ``x**``, ``**x``, ``**/**``, a lone ``[`` or ``]``, a bracket
        expression that is not a valid character class such as ``[z-a]``).
    """
    original = pattern
    pattern = pattern.replace("\\", "/")
    if "/" not in pattern:
        pattern = "**/" + pattern
    import re  # only here: a `covcore run` without --include/--omit needs no regex

    if not _GLOB_TOKENS:
        _GLOB_TOKENS[:] = [(re.compile(rx), sub) for rx, sub in _GLOB_TOKEN_SOURCES]
    out = []
    pos = 0
    while pos < len(pattern):
        for rx, sub in _GLOB_TOKENS:
            m = rx.match(pattern, pos=pos)
            if m:
                if sub is None:
                    raise ConfigError(f"File pattern can't include {m[0]!r}")
                out.append(m.expand(sub))
                pos = m.end()
                break
    regex = "".join(out)
    try:
        re.compile(regex)
    except re.error as err:  # e.g. a bad character range: "[z-a]"
        raise ConfigError(f"File pattern {original!r} is invalid: {err.msg}") from None
    return regex


class GlobMatcher:
    """Matches file names against a list of glob patterns.

    :param patterns: globs; a pattern that does not start with a wildcard is
        taken relative to the current directory (coverage.py semantics), and
        is matched in both its given and its absolute form.
    :param name: what the matcher is for, shown by ``--debug``.
    """

    def __init__(self, patterns: Iterable[str], name: str = "unknown") -> None:
        self.patterns = list(patterns)
        self.name = name
        prepped: list[str] = []
        for pat in self.patterns:
            prepped.append(pat)
            if not pat.startswith(("*", "?")):
                prepped.append(abs_file(pat))
        import re

        flags = re.IGNORECASE if os.path.normcase("A") == "a" else 0
        rx = "|".join(f"(?:{glob_to_regex(p)})" for p in prepped) or r"(?!)"
        self._re = re.compile(rf"(?:{rx})\Z", flags)

    def __repr__(self) -> str:
        return f"<GlobMatcher {self.name} {self.patterns!r}>"

    def match(self, path: str) -> bool:
        """Does ``path`` (an absolute file name) match one of the patterns?"""
        return self._re.match(path) is not None


class TreeMatcher:
    """Matches file names that lie in one of a set of directories (or are one of a set of files)."""

    def __init__(self, paths: Iterable[str], name: str = "unknown") -> None:
        self.paths = sorted({os.path.normcase(p) for p in paths})
        self.name = name
        self._exact = frozenset(self.paths)
        self._prefixes = tuple(d.rstrip(os.sep) + os.sep for d in self.paths)

    def __repr__(self) -> str:
        return f"<TreeMatcher {self.name} {self.paths!r}>"

    def match(self, path: str) -> bool:
        """Is ``path`` one of the directories' descendants, or one of the files?"""
        if not _POSIX:
            path = os.path.normcase(path)
        return path in self._exact or path.startswith(self._prefixes)
