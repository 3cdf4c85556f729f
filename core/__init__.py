"""covcore: code coverage measurement for Python.

The public API is :class:`Coverage` (the shape of coverage.py's class),
:class:`CoverageData`, and the exceptions in :mod:`covcore.errors`.
"""

from covcore.version import __version__
from covcore.data import CoverageData
from covcore.errors import CovcoreError, CovcoreWarning, ConfigError, DataError, NoDataError, NoSource, NotPython
from covcore.session import Coverage

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
]
