"""Reading the source text of Python files.

:func:`read_source` returns the text of a Python source file the way the
reporters and the parser want it: decoded as Python decodes it (a UTF-8 BOM or a
PEP 263 coding cookie decides the encoding, UTF-8 otherwise), with every line
ending turned into ``"\\n"`` and a final newline guaranteed.

The text is also normalised the way coverage.py normalises it, so that line
numbers and regex matches agree with coverage.py's:

* form feeds are replaced by spaces (CPython's tokenizer and compiler have
  disagreed about ``\\f``, https://bugs.python.org/issue19035);
* a missing newline at the end of the last line is added.

A file that Python itself could not load is rejected with :class:`NotPython`:
bytes that the declared (or default) encoding cannot decode, an unknown or
contradictory encoding declaration, and null bytes.  (coverage.py decodes with
``errors="replace"`` and so reports on such files; they cannot have been run.)

Source inside a zip archive (a path such as ``/x/lib.zip/pkg/mod.py``, as
zipimport reports it in ``__file__``) is read from the archive.
"""

from __future__ import annotations

import codecs
import io
import os

from covcore.errors import NoSource, NotPython

__all__ = ["read_source", "read_source_bytes", "decode_source", "zip_location"]

#: Archive extensions whose members Python can import (as coverage.py knows them).
ZIP_EXTENSIONS = (".zip", ".whl", ".egg", ".pex", ".par")

# PEP 263: the coding cookie is a comment on line 1 or 2.
_COOKIE = rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+"


def _is_cookie(line: bytes) -> bool:
    """Is `line` a PEP 263 coding declaration?  (``re`` is imported only for
    a line that may be one: ``covcore run`` needs no regex otherwise.)"""
    if b"coding" not in line:
        return False
    import re

    return re.match(_COOKIE, line) is not None


def _path_sep(path: str) -> str:
    """The separator `path` uses (the first slash or backslash in it)."""
    for char in path:
        if char in "\\/":
            return char
    return os.sep


def zip_location(filename: str) -> tuple[str, str] | None:
    """Split `filename` into ``(archive, member)`` if it points into an archive.

    Only returns a pair when the archive file exists; whether the member is in
    the archive is not checked.
    """
    separator = _path_sep(filename)
    for ext in ZIP_EXTENSIONS:
        base, found, inner = filename.partition(ext + separator)
        if found:
            archive = base + ext
            if os.path.exists(archive):
                return archive, inner
    return None


def _read_zip_member(filename: str) -> bytes | None:
    """The bytes of `filename` if it names a member of an existing archive."""
    location = zip_location(filename)
    if location is None:
        return None
    archive, inner = location
    member = inner.replace("\\", "/")
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError, RuntimeError):
        return None


def read_source_bytes(filename: str) -> bytes:
    """The raw bytes of the source file `filename` (a file or an archive member).

    Raises :class:`NoSource` if there is no such file or it cannot be read.
    """
    base, ext = os.path.splitext(filename)
    candidates = [filename]
    if ext == ".py" and os.name == "nt":
        # As coverage.py does: a script may also be a .pyw file on Windows.
        candidates.append(base + ".pyw")
    for candidate in candidates:
        if os.path.exists(candidate):
            try:
                with open(candidate, "rb") as f:
                    return f.read()
            except OSError as err:
                raise NoSource(f"No source for code: '{filename}'.") from err
        data = _read_zip_member(candidate)
        if data is not None:
            return data
    raise NoSource(f"No source for code: '{filename}'.")


def _cookie_line(source: bytes) -> int:
    """The line (1 or 2) holding the coding declaration, for error messages."""
    lines = source.split(b"\n", 2)
    for lineno, line in enumerate(lines[:2], start=1):
        if _is_cookie(line):
            return lineno
    return 1


def _not_python(filename: str, problem: str, lineno: int) -> NotPython:
    return NotPython(
        f"Couldn't parse '{filename}' as Python source: {problem!r} at line {lineno}"
    )


def decode_source(source: bytes, filename: str = "<code>") -> str:
    """Decode the bytes of a Python source file into normalised text.

    See the module docstring for the normalisation.  Raises :class:`NotPython`
    naming `filename` if Python could not read the bytes as source.
    """
    source = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    source = source.replace(b"\f", b" ")

    if not source.startswith(codecs.BOM_UTF8) and not any(
        _is_cookie(line) for line in source.split(b"\n", 2)[:2]
    ):
        # No BOM and no declaration: UTF-8, as tokenize.detect_encoding() says
        # (or it complains that line 1 or 2 isn't UTF-8, which decoding below
        # reports, naming the byte).  tokenize is imported only when needed:
        # 1 ms of every ``covcore run``, which reads the program's source.
        encoding = "utf-8"
    else:
        import tokenize

        readline = io.BytesIO(source).readline
        try:
            encoding, _ = tokenize.detect_encoding(readline)
        except SyntaxError as err:
            head = source[len(codecs.BOM_UTF8):] if source.startswith(codecs.BOM_UTF8) else source
            declared = any(_is_cookie(line) for line in head.split(b"\n", 2)[:2])
            if declared or not str(err.args[0]).startswith("invalid or missing encoding declaration"):
                raise _not_python(filename, str(err.args[0]), _cookie_line(source)) from err
            # No declaration, and bytes that aren't UTF-8 on line 1 or 2: name
            # the byte and the line, as for such bytes further on.
            encoding = "utf-8"

    try:
        text = source.decode(encoding)
    except UnicodeDecodeError as err:
        lineno = source.count(b"\n", 0, err.start) + 1
        byte = source[err.start]
        problem = f"can't decode byte 0x{byte:02x} as {encoding}: {err.reason}"
        raise _not_python(filename, problem, lineno) from err
    except LookupError as err:  # pragma: no cover -- detect_encoding checks names
        raise _not_python(filename, str(err), _cookie_line(source)) from err

    null = text.find("\0")
    if null >= 0:
        lineno = text.count("\n", 0, null) + 1
        raise _not_python(filename, "source code cannot contain null bytes", lineno)

    if text and not text.endswith("\n"):
        text += "\n"
    return text


def read_source(filename: str) -> str:
    """Read the Python source file `filename` as text (see the module docstring).

    Raises :class:`NoSource` if the file is missing or unreadable, and
    :class:`NotPython` if its bytes are not Python source text.
    """
    return decode_source(read_source_bytes(filename), filename)
