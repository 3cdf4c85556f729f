"""Report file names made from measured paths: the HTML report's pages and
``annotate -d``'s ``,cover`` files.

A measured path can hold anything a file name can (``..``, a drive letter,
control characters, bytes that aren't UTF-8, 250 characters), and two paths
can flatten to one name.  Every name made here is a plain file name, bounded
in length, that never leaves the output directory; :func:`unique_names`
keeps two files from sharing one, even on a case-insensitive file system.
The ordinary names are coverage.py's (``z_<directory hash>_<base>``).
"""

from __future__ import annotations

import hashlib
import ntpath
import os
import re
from typing import Callable, Iterable

#: The longest base name (before ``.html``) of a file's page, well under the
#: 255 bytes file systems allow, leaving room for the temporary file's name.
MAX_PAGE_STEM = 120


def page_name(relative_name: str) -> str:
    """The HTML page (str) for a reported file (``relative_name``, str):
    ``z_<dir hash>_<base>_py.html``.

    coverage.py's naming, with every character outside ``[A-Za-z0-9_-]``
    replaced (plus a hash of the name when that changed anything), and a
    long name cut to :data:`MAX_PAGE_STEM` characters plus a hash, so a page
    name is always a plain file name, safe in a URL and on any file system:
    it never holds a path separator, ``..``, a drive letter or a control
    character.  Never raises (a name that isn't valid UTF-8 is hashed as
    its original bytes).
    """
    dirname, basename = os.path.split(relative_name.replace("\\", "/"))
    prefix = ""
    if dirname:
        digest = hashlib.new("sha3_256", dirname.encode("utf-8", "surrogateescape"),
                             usedforsecurity=False).hexdigest()[:16]
        prefix = f"z_{digest}_"
    flat = basename.replace(".", "_")
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", flat)
    base_digest = hashlib.sha256(basename.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    if safe != flat:
        safe += "_" + base_digest
    if len(prefix) + len(safe) > MAX_PAGE_STEM:
        safe = safe[: MAX_PAGE_STEM - len(prefix) - 9] + "_" + base_digest
    return prefix + safe + ".html"


#: Characters never put in a ``,cover`` file's name: controls (NUL, newline...),
#: lone surrogates (names that aren't valid UTF-8), and those Windows forbids.
_UNSAFE_NAME_CHARS = re.compile('[\x00-\x1f\x7f<>:"|?*\ud800-\udfff]')
#: The longest ``,cover`` file name, well under the 255 bytes file systems
#: allow, leaving room for the temporary file's name.
MAX_COVER_NAME = 120


def flat_rootname(filename: str) -> str:
    """A flat name (str) for ``filename`` (str): ``a/b/c.py`` -> ``z_86bbcbe134d28fd2_c_py``
    (coverage.py's: a hash of the directory, then the base name with ``.`` as ``_``).
    Never raises (a name that isn't valid UTF-8 is hashed as its original bytes)."""
    dirname, basename = ntpath.split(filename)
    if dirname:
        digest = hashlib.new("sha3_256", dirname.encode("UTF-8", "surrogateescape"),
                             usedforsecurity=False).hexdigest()[:16]
        prefix = f"z_{digest}_"
    else:
        prefix = ""
    return prefix + basename.replace(".", "_")


def cover_name(name: str) -> str:
    """The ``,cover`` file's name (str) for a reported file (``name``, str)
    in ``annotate -d DIR``: :func:`flat_rootname` with the extension kept
    (``a/b/c.py`` -> ``z_86bbcbe134d28fd2_c.py,cover``, coverage.py's), and
    any character in :data:`_UNSAFE_NAME_CHARS` replaced or a name longer
    than :data:`MAX_COVER_NAME` cut, plus a hash of the name.  Never raises."""
    flat = flat_rootname(name)
    # flat_rootname turned the extension's dot into "_": put the extension back.
    ext = os.path.splitext(ntpath.basename(name))[1]
    if ext and flat.endswith(ext.replace(".", "_")):
        flat = flat[: len(flat) - len(ext)] + ext
    safe = _UNSAFE_NAME_CHARS.sub("_", flat)
    if safe != flat or len(safe) > MAX_COVER_NAME:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        safe = f"{safe[: MAX_COVER_NAME - 9]}_{digest}"
    return safe + ",cover"


def unique_names(
    names: Iterable[str], make: Callable[[str], str], suffix: str, reserved: Iterable[str] = ()
) -> list[str]:
    """``make(name)`` for each of ``names``, made unique ignoring case, so no
    two files (``a.b.py`` and ``a_b.py``; ``A.py`` and ``a.py`` on a
    case-insensitive file system; a file named ``index``) share one, and none
    is one of the ``reserved`` names.

    :param names: the reported files' names, in report order.
    :param make: the file name for one of them, ending in ``suffix``.
    :param suffix: the names' common ending (``.html``, ``,cover``): a name
        that would clash gets a hash of the reported name before it; the
        first file (in the given order) keeps the plain name.
    :param reserved: names no file may take (``index.html``).
    :returns: one name per file, in the order given; stable from run to run.
    """
    used = {r.lower() for r in reserved}
    made = []
    for name in names:
        plain = make(name)
        unique, salt = plain, 0
        while unique.lower() in used:
            salt += 1
            digest = hashlib.sha256(f"{salt}:{name}".encode("utf-8", "surrogateescape")).hexdigest()[:8]
            unique = f"{plain[: -len(suffix)]}_{digest}{suffix}"
        used.add(unique.lower())
        made.append(unique)
    return made
