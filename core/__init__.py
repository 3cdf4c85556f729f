"""covcore: code coverage measurement for Python.

The public API is :class:`Coverage` (the shape of coverage.py's class),
:class:`CoverageData`, and the exceptions in :mod:`covcore.errors`.  Names
are imported on first use, so ``import covcore`` stays cheap (it runs in every
measured process).
"""

from __future__ import annotations

from covcore.errors import ConfigError, CovcoreError, CovcoreWarning, DataError, NoDataError, NoSource, NotPython
from covcore.version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Coverage",
    "CoverageData",
    "CovcoreError",
    "CovcoreWarning",
    "ConfigError",
    "DataError",
    "NoDataError",
    "NoSource",
    "NotPython",
    "__version__",
    "process_startup",
]

_LAZY = {"Coverage": "covcore.session", "CoverageData": "covcore.data", "process_startup": "covcore.process"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        # __import__, not importlib.import_module: importing importlib (and
        # the warnings module it imports) would cost every measured process.
        value = getattr(__import__(_LAZY[name], fromlist=[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'covcore' has no attribute {name!r}")
