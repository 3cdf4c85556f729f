"""A small wrapper around :mod:`sqlite3` that names the file in every error.

Storage only: what the tables mean lives in :mod:`covcore.data`.
"""

from __future__ import annotations

try:
    # The C module sqlite3 re-exports: connect() and the exception classes
    # are the very same objects.  sqlite3's Python half (dbapi2: date and
    # time adapters, converters) is 1.5 M instructions of every measured
    # process's save (3.12), and covcore uses none of it.
    import _sqlite3 as sqlite3
except ImportError:  # a Python without it
    import sqlite3  # type: ignore[no-redef]

from covcore.errors import DataError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Iterable, Iterator


class SqliteDb:
    """One connection to one SQLite file (or ``":memory:"``).

    Every :class:`sqlite3.Error` becomes a :class:`DataError` whose message
    names the file: ``Couldn't use data file '<path>': <problem>``.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.con: sqlite3.Connection | None = None

    def _error(self, exc: BaseException) -> DataError:
        return DataError(f"Couldn't use data file {self.filename!r}: {exc}")

    def __enter__(self) -> SqliteDb:
        try:
            # isolation_level=None: we open transactions ourselves.
            self.con = sqlite3.connect(self.filename, isolation_level=None, check_same_thread=False)
            # A crash can never leave a half-written file: covcore writes a
            # fresh file and renames it, so the journal only costs time.
            self.con.execute("PRAGMA journal_mode=OFF")
            self.con.execute("PRAGMA synchronous=OFF")
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all its rows."""
        assert self.con is not None
        try:
            return self.con.execute(sql, tuple(params)).fetchall()
        except (sqlite3.Error, OverflowError) as exc:
            raise self._error(exc) from None

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement for each parameter row."""
        assert self.con is not None
        try:
            self.con.executemany(sql, rows)
        except (sqlite3.Error, OverflowError) as exc:
            raise self._error(exc) from None

    def executescript(self, script: str) -> None:
        """Run several statements (no parameters)."""
        assert self.con is not None
        try:
            self.con.executescript(script)
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def rows(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Iterate over the rows of a query."""
        yield from self.execute(sql, params)
