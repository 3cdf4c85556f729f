"""Output files of reports: ``-`` for stdout, directories made, no half-written file.

Every report file is written to a temporary file beside its destination and
renamed into place only when the report is complete, so a failure while
reporting (a source file that can't be read, a full disk, ^C) leaves the old
report, or none, never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import IO, Iterator

from covcore.errors import CovcoreError

#: The output name that means "standard output".
STDOUT = "-"


class OutputError(CovcoreError):
    """A report file or directory can't be written."""

    slug = "output"


def ensure_dir(directory: str) -> None:
    """Make ``directory`` (and its parents) if it doesn't exist.

    :raises OutputError: naming the directory, when it can't be made.
    """
    if not directory:
        return
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Couldn't make directory {directory!r}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def open_output(path: str, *, binary: bool = False) -> Iterator[IO]:
    """Open a report's output for writing; the file appears only on success.

    ``path`` ``-`` yields ``sys.stdout`` (not closed).  Otherwise the parent
    directory is created, a temporary file in it is yielded, and when the
    ``with`` block ends without an exception the temporary file is renamed to
    ``path``; with an exception it is removed and ``path`` is left untouched.

    :raises OutputError: naming the path, when it can't be written.
    """
    if path == STDOUT:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        # A device or a pipe (/dev/null, /dev/stdout, a FIFO): write to it as it
        # is; renaming a file over it would replace the device itself.
        try:
            special: IO = open(path, "wb") if binary else open(path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(f"Couldn't write {path!r}: {exc.strerror or exc}") from None
        with special:
            yield special
        return
    directory = os.path.dirname(os.path.abspath(path))
    ensure_dir(directory)
    try:
        # The temporary name is cut so that it is never longer than the name
        # allowed for the destination itself.
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)[:100]}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"Couldn't write {path!r}: {exc.strerror or exc}") from None
    try:
        if binary:
            f: IO = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with f:
            yield f
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _replace(tmp: str, path: str) -> None:
    try:
        # mkstemp makes 0600 files; a report is an ordinary file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"Couldn't write {path!r}: {exc.strerror or exc}") from None


def write_file(path: str, content: str | bytes) -> None:
    """Write a whole file at once (text as UTF-8), atomically as :func:`open_output` does."""
    if isinstance(content, bytes):
        with open_output(path, binary=True) as f:
            f.write(content)
    else:
        with open_output(path) as f:
            f.write(content)


def remove_file(path: str) -> None:
    """Remove a file if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
