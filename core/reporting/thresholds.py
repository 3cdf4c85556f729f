"""Per-file coverage thresholds: ``[report] fail_under_files``.

Beyond coverage.py: each entry maps a file glob (``include``/``omit`` glob
syntax) to a minimum percentage.  A reported file is checked against the
first glob, in configuration order, that matches it; each file under its
threshold gives one line::

    Coverage failure: src/a.py total of 71 is less than fail-under=80 (src/*.py)

The comparison and the numbers shown follow ``fail_under``'s rules
(:func:`covcore.analysis.should_fail_under`).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from covcore.analysis import Numbers, fail_under_message, should_fail_under
from covcore.errors import ConfigError
from covcore.files import GlobMatcher


def parse_thresholds(value: Any, where: str) -> dict[str, float]:
    """Read ``fail_under_files`` from a config value.

    :param value: INI text (lines of ``GLOB = PERCENT``, blank lines and
        ``#`` comments ignored) or a mapping ``{glob: percent}`` (TOML, API).
    :param where: names the option for error messages.
    :raises ConfigError: a line without ``=``, a percentage that isn't a
        number from 0 to 100, an unusable glob.
    """
    items: list[tuple[str, Any]] = []
    if isinstance(value, str):
        for line in value.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            glob, sep, pct = line.rpartition("=")
            if not sep or not glob.strip():
                raise ConfigError(f"{where}: expected 'GLOB = PERCENT', got {line!r}")
            items.append((glob.strip(), pct.strip()))
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise ConfigError(f"{where}: expected a table of glob = percent, got {value!r}")
    out: dict[str, float] = {}
    for glob, pct in items:
        if not isinstance(glob, str) or not glob:
            raise ConfigError(f"{where}: {glob!r} is not a file pattern")
        try:
            number = float(pct) if not isinstance(pct, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not 0 <= number <= 100:
            raise ConfigError(f"{where}: {glob} = {pct!r} must be a number from 0 to 100")
        GlobMatcher([glob], "fail_under_files")  # raises ConfigError for a bad pattern
        out[glob] = number
    return out


def file_threshold_failures(
    files: Iterable[tuple[str, str, Numbers]],
    thresholds: Mapping[str, float],
    precision: int,
) -> list[str]:
    """The failure lines for the files under their threshold.

    :param files: ``(report name, absolute file name, Numbers)`` per file.
    :param thresholds: ``{glob: percent}``, first match wins.
    :param precision: ``[report] precision``.
    """
    if not thresholds:
        return []
    matchers = [(glob, pct, GlobMatcher([glob], "fail_under_files")) for glob, pct in thresholds.items()]
    failures = []
    for name, filename, nums in files:
        for glob, pct, matcher in matchers:
            if matcher.match(filename) or matcher.match(name):
                if pct and should_fail_under(nums.pc_covered, pct, precision):
                    msg = fail_under_message(nums.pc_covered, pct, precision)
                    msg = msg.replace("Coverage failure: total of", f"Coverage failure: {name} total of", 1)
                    failures.append(f"{msg} ({glob})")
                break
    return failures
