"""Reporting on some contexts only: ``--contexts`` / ``[report] contexts``.

As coverage.py's ``set_query_contexts``: each pattern is a regex, searched
(``re.search``) in each context name; data recorded under any matching
context is reported, the rest is left out.
"""

from __future__ import annotations

import re
from typing import Iterable

from covcore.data import CoverageData
from covcore.errors import ConfigError


def context_matcher(patterns: Iterable[str]) -> re.Pattern[str]:
    """One compiled regex searching for any of ``patterns``.

    :raises ConfigError: ``Invalid context regex '(': ...``.
    """
    patterns = list(patterns)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"Invalid context regex {pattern!r}: {exc}") from None
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def data_for_contexts(data: CoverageData, patterns: Iterable[str] | None) -> CoverageData:
    """``data`` restricted to the contexts matching ``patterns`` (all of it when
    there are none).  The result is a new, in-memory :class:`CoverageData`;
    files with no data in the chosen contexts stay measured, with nothing run.
    """
    patterns = [p for p in (patterns or []) if p]
    if not patterns:
        return data
    matcher = context_matcher(patterns)
    out = CoverageData(no_disk=True)
    out.meta = dict(data.meta)
    # CoverageData keeps lines/arcs per file and context; it has no per-context
    # query yet, so read its tables here (the only place that does).
    tables = data._arcs if data.has_arcs() else data._lines  # noqa: SLF001
    if data.has_arcs():
        out._choose(arcs=True)  # noqa: SLF001 - branch data stays branch data, even if empty
    for filename, by_context in tables.items():
        for context, items in by_context.items():
            if matcher.search(context):
                out.set_context(context)
                if data.has_arcs():
                    out.add_arcs({filename: items})
                else:
                    out.add_lines({filename: items})
    out.set_context(None)
    out.touch_files(data.measured_files())
    for filename in data.measured_files():
        tracer = data.file_tracer(filename)
        if tracer:
            out.add_file_tracers({filename: tracer})
    return out
