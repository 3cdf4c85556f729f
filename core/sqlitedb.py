"""The SQLite module covcore reads data files with (:mod:`covcore.dataread`).

Storage only: what the tables mean lives in :mod:`covcore.data`.  Data files
are written without SQLite (:mod:`covcore.sqlitewrite`).
"""

from __future__ import annotations

try:
    # The C module sqlite3 re-exports: connect() and the exception classes
    # are the very same objects.  sqlite3's Python half (dbapi2: date and
    # time adapters, converters) costs 1.5 M instructions (3.12), and
    # covcore uses none of it.
    import _sqlite3 as sqlite3
except ImportError:  # a Python without it
    import sqlite3  # type: ignore[no-redef]

__all__ = ["sqlite3"]
