"""Types shared between covcore's modules: the tracer Protocol and aliases.

Line numbers are 1-based everywhere.  An *arc* is ``(from_line, to_line)``;
entering or leaving a code object uses the negative first line number of that
code object (coverage.py's convention).
"""

from __future__ import annotations

from typing import Callable, Dict, Protocol, Set, Tuple, Union

#: An arc between two lines, ``(from_line, to_line)``.
TArc = Tuple[int, int]

#: What a tracer records for one file: executed line numbers, or arcs.
TFileData = Union[Set[int], Set[TArc]]

#: All that a tracer records: canonical file name -> lines (or arcs).
TTraceData = Dict[str, TFileData]

#: Decides whether code from a file is measured.  Called with a code object's
#: ``co_filename``; returns the canonical file name to record under, or None
#: when the file is not measured.  Tracers cache its answer per file name.
TShouldTrace = Callable[[str], "str | None"]

#: Shows a warning: ``warn(message, slug)``.
TWarn = Callable[[str, str], None]


class Tracer(Protocol):
    """What every tracer backend provides (Cython ``sysmon`` and ``ctrace``, pure-Python ``python``).

    A tracer is constructed as ``Tracer(data, should_trace, should_trace_cache,
    branch=False, warn=None)`` where ``data`` is the :data:`TTraceData` dict it
    adds to, ``should_trace_cache`` a dict (file name -> canonical name or
    None) shared by all tracers of one collector, and ``warn`` a :data:`TWarn`.
    """

    #: The backend's name: ``"sysmon"``, ``"ctrace"`` or ``"python"``.
    name: str
    #: True when one tracer measures every thread of the process (sysmon);
    #: False when each thread needs a tracer of its own (settrace style).
    process_wide: bool

    def start(self) -> None:
        """Start measuring (this thread, or the process when ``process_wide``).

        Frames already running in this thread are measured from their next line.
        """

    def stop(self) -> None:
        """Stop measuring.  Warns ``trace-changed`` if another tool replaced ours."""

    def restart(self) -> None:
        """Forget which locations were already recorded, so that every line
        (or arc) executed from now on is recorded again (used when the data
        dict is emptied, e.g. on a context switch)."""

    def activity(self) -> bool:
        """Has anything been recorded since the last :meth:`reset_activity`?"""

    def reset_activity(self) -> None:
        """Clear the activity flag."""
