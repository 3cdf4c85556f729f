"""Exceptions and warnings raised by covcore.

Every error a user can cause derives from :class:`CovcoreError`, which carries a
short ``slug`` naming the kind of problem.  The command line prints
``covcore: <message> [<slug>]`` and exits with code 1 (no traceback); the
fail-under check exits with code 2 (see :data:`EXIT_FAIL_UNDER`).
"""

from __future__ import annotations

#: Exit codes of the ``covcore`` command (the same as coverage.py's).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_FAIL_UNDER = 2


def one_line(message: str) -> str:
    """``message`` as it is printed on stderr: one line of printable text.

    Characters that are not printable (a NUL, a newline, an escape sequence,
    a lone surrogate from a file name that isn't UTF-8), which a measured
    path can carry into a message, are shown as Python escapes (``\\x00``,
    ``\\n``), so no message spans two lines or drives the terminal.

    :param message: the message text.
    :returns: the text to print.
    """
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


class CovcoreError(Exception):
    """A problem covcore reports to the user as one line.

    :param message: the text shown to the user; it names the file and the
        problem where there is one.
    :param slug: a short machine-readable name for the kind of problem.
    """

    slug = "error"

    def __init__(self, message: str, *, slug: str | None = None) -> None:
        super().__init__(message)
        if slug is not None:
            self.slug = slug


class ConfigError(CovcoreError, ValueError):
    """A configuration file or option is malformed or has a wrong type."""

    slug = "config"


class DataError(CovcoreError):
    """A data file cannot be read, written or understood."""

    slug = "data"


class NoSource(CovcoreError, FileNotFoundError):
    """The source of a measured file (or the program to run) cannot be found."""

    slug = "no-source"


class NotPython(CovcoreError):
    """A file that should be Python source cannot be parsed as Python."""

    slug = "not-python"


class SourceChanged(NotPython):
    """A measured file's source was changed after it was measured: its
    current text can't be the code that ran (see
    :func:`covcore.analysis.check_source_unchanged`)."""

    slug = "source-changed"


class NoDataError(CovcoreError):
    """A report was asked for, but there is no data to report on."""

    slug = "no-data"


class ExceptionDuringRun(CovcoreError):
    """The measured program raised an exception (carried as ``exc_info``)."""

    slug = "exception-during-run"


class CovcoreWarning(Warning):
    """A warning covcore shows (also printed as ``covcore: Warning: ...``)."""
