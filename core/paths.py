"""Path remapping for combine: ``[paths]`` aliases and the installed-copy rule.

``[paths]`` follows coverage.py's semantics: in each list the first entry is
the canonical location and the rest are patterns; patterns are globs (``*``,
``**``, a leading ``*/``, either slash style) matched case-insensitively
against the start of a measured path; lists are tried in order; a mapping is
used only when the mapped file exists.

Beyond coverage.py, :class:`InstalledCopyRule` maps a file measured in an
installed copy of the project (``site-packages`` of any virtualenv, tox and
nox environments, Windows ``Lib/site-packages``) back to the source checkout
(``src/`` layout or flat) when the same package-relative file exists there.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Iterable, Mapping

from covcore.errors import ConfigError
from covcore.files import canonical_filename, glob_to_regex

TDebug = Callable[[str], None]


def _sep(path: str) -> str:
    """The path separator a string uses (``/`` or ``\\``), or ``os.sep``."""
    m = re.search(r"[\\/]", path)
    return m.group(0) if m else os.sep


def _isabs_anywhere(path: str) -> bool:
    """Is ``path`` absolute on POSIX or Windows?"""
    return path.startswith(("/", "\\")) or bool(re.match(r"^[a-zA-Z]:", path))


class PathAliases:
    """An ordered list of ``pattern -> result`` remappings.

    :param relative: store results relative (``[run] relative_files``).
    :param debug: ``debug(message)`` explains each mapping (``--debug=pathmap``).
    """

    def __init__(self, relative: bool = False, debug: TDebug | None = None) -> None:
        self.relative = relative
        self.debug = debug
        self.aliases: list[tuple[str, re.Pattern[str], str]] = []

    def add(self, pattern: str, result: str) -> None:
        """Map paths that start with ``pattern`` (a glob) to start with ``result``.

        :raises ConfigError: a pattern that ends with a wildcard, is not a
            valid glob, or holds a null character (as does ``result``).
        """
        if "\0" in pattern or "\0" in result:
            raise ConfigError(f"Null character in [paths] entry: {pattern!r} -> {result!r}")
        original = pattern
        pattern_sep = _sep(pattern)
        if len(pattern) > 1:
            pattern = pattern.rstrip("\\/")
        if pattern.endswith("*"):
            raise ConfigError(f"Pattern must not end with wildcards: {original!r} in [paths]")
        if not self.relative and not pattern.startswith("*") and not _isabs_anywhere(pattern + pattern_sep):
            pattern = os.path.abspath(pattern)
        if not pattern.endswith(pattern_sep):
            pattern += pattern_sep
        regex = re.compile(glob_to_regex(pattern), re.IGNORECASE)
        result_sep = _sep(result)
        result = result.rstrip("\\/") + result_sep
        self.aliases.append((original, regex, result))

    def map(self, path: str, exists: Callable[[str], bool] = os.path.exists) -> str:
        """Map ``path`` through the first alias that matches and gives an existing file.

        :param path: a measured file's name, as a data file holds it.
        :param exists: tells whether a mapped name is an existing file.
        :returns: the mapped name, or ``path`` unchanged when no alias
            applies (always unchanged for a name holding a null character,
            which can name no file).  Never raises for any string.
        """
        if "\0" in path:
            if self.debug:
                self.debug(f"Path {path!r} holds a null character, it is unchanged")
            return path
        for original, regex, result in self.aliases:
            m = regex.match(path)
            if not m:
                continue
            new = path.replace(m.group(0), result, 1)
            new = new.replace(_sep(path), _sep(result))
            if not self.relative:
                new = canonical_filename(new)
            dot_start = result.startswith(("./", ".\\")) and len(result) > 2
            if new.startswith(("./", ".\\")) and not dot_start:
                new = new[2:]
            if not exists(new):
                if self.debug:
                    self.debug(f"Rule {original!r} changes {path!r} to {new!r}, which doesn't exist; continuing")
                continue
            if self.debug:
                self.debug(f"Matched path {path!r} to rule {original!r} -> {result!r}, producing {new!r}")
            return new
        if self.relative and not _isabs_anywhere(path):
            return path
        if self.debug:
            self.debug(f"No rules match, path {path!r} is unchanged")
        return path

    @classmethod
    def from_config(cls, paths: Mapping[str, Iterable[str]], relative: bool = False,
                    debug: TDebug | None = None) -> PathAliases:
        """Build from the ``[paths]`` section: ``{name: [canonical, pattern, ...]}``."""
        aliases = cls(relative=relative, debug=debug)
        for entries in paths.values():
            entries = list(entries)
            if not entries:
                continue
            for pattern in entries[1:]:
                aliases.add(pattern, entries[0])
        return aliases


#: Directories that hold an installed copy of a package, as a regex on a
#: forward-slash path: everything up to and including the ``site-packages``
#: (or ``dist-packages``) directory of any virtualenv, tox or nox environment.
_INSTALLED_RX = re.compile(r"^(?P<prefix>.*/(?:site|dist)-packages)/(?P<rel>.+)$", re.IGNORECASE)


class InstalledCopyRule:
    """Map files measured in an installed copy back to the source checkout.

    :param roots: source roots to look in, in order (default: the current
        directory's ``src/`` then the current directory itself).
    :param debug: ``debug(message)`` explains each mapping.

    ``/x/.tox/py311/lib/python3.11/site-packages/pkg/mod.py`` maps to
    ``<root>/pkg/mod.py`` for the first root where that file exists.
    """

    def __init__(self, roots: Iterable[str] | None = None, debug: TDebug | None = None) -> None:
        if roots is None:
            cwd = os.getcwd()
            roots = [os.path.join(cwd, "src"), cwd]
        self.roots = [os.path.abspath(r) for r in roots]
        self.debug = debug

    def map(self, path: str, exists: Callable[[str], bool] = os.path.isfile) -> str | None:
        """The source-checkout file for an installed file, or None."""
        m = _INSTALLED_RX.match(path.replace("\\", "/"))
        if not m:
            return None
        rel = m.group("rel")
        for root in self.roots:
            candidate = os.path.join(root, *rel.split("/"))
            if exists(candidate):
                new = canonical_filename(candidate)
                if self.debug:
                    self.debug(f"Installed copy {path!r} maps to source {new!r}")
                return new
        return None


def make_remapper(aliases: PathAliases | None, installed: InstalledCopyRule | None) -> Callable[[str], str]:
    """One function applying ``[paths]`` first, then the installed-copy rule."""
    cache: dict[str, str] = {}

    def remap(path: str) -> str:
        try:
            return cache[path]
        except KeyError:
            pass
        new = aliases.map(path) if aliases is not None else path
        if new == path and installed is not None:
            new = installed.map(path) or path
        cache[path] = new
        return new

    return remap
