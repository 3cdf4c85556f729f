"""Start and stop measurement: one tracer per thread (or one per process
with ``sys.monitoring``), and hand what they recorded to a CoverageData.

The collector owns the policy the tracers must not know: which backend,
which threads, and where recorded data goes.
"""

from __future__ import annotations

import sys
from _thread import allocate_lock, get_ident

from covcore.backend import Backend
from covcore.data import CoverageData

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    from covcore.types import Tracer, TShouldTrace, TTraceData, TWarn


class Collector:
    """Runs tracers of one backend and gathers their data.

    :param backend: the chosen tracer backend (:func:`covcore.backend.choose_backend`).
    :param should_trace: the file selection policy (see :data:`covcore.types.TShouldTrace`).
    :param branch: record arcs rather than lines.
    :param warn: ``warn(message, slug)``.
    :param fast_rules: ``Selector.fast_rules()``: compiled tracers then decide
        most files themselves, as ``should_trace`` would (None: always ask it).
    :param frames_suspend: frames may be suspended without returning and be
        out of every thread's stack (``concurrency`` greenlet, eventlet or
        gevent): tracers that record straight-line code when its frames end
        (the ``sys.monitoring`` tracer) record it line by line instead.
    """

    def __init__(
        self,
        backend: Backend,
        should_trace: TShouldTrace,
        branch: bool,
        warn: TWarn,
        fast_rules: Any = None,
        frames_suspend: bool = False,
    ) -> None:
        self.backend = backend
        self.should_trace = should_trace
        self.fast_rules = fast_rules
        self.frames_suspend = frames_suspend
        self.branch = branch
        self.warn = warn
        self.data: TTraceData = {}
        self.should_trace_cache: dict[str, str | None] = {}
        self.tracers: list[Tracer] = []
        self._thread_tracers: dict[int, Tracer] = {}
        self._lock = allocate_lock()
        self.started = False

    def _new_tracer(self) -> Tracer:
        tracer: Tracer = self.backend.tracer_class(
            self.data, self.should_trace, self.should_trace_cache, branch=self.branch, warn=self.warn
        )
        if self.fast_rules is not None:
            set_rules = getattr(tracer, "set_fast_rules", None)
            if set_rules is not None:
                set_rules(self.fast_rules)
        if self.frames_suspend:
            keep = getattr(tracer, "keep_line_events", None)
            if keep is not None:
                keep()
        with self._lock:
            self.tracers.append(tracer)
            self._thread_tracers[get_ident()] = tracer
        tracer.start()
        return tracer

    def _installation_trace(self, frame: Any, event: str, arg: Any) -> None:
        """Called by ``threading`` in each new thread: install a tracer there."""
        sys.settrace(None)
        if self.started:
            self._new_tracer()
        return None

    def start(self) -> None:
        """Start measuring the current thread, and threads started from now on."""
        if self.started:
            return
        self.started = True
        if self.backend.tracer_class.process_wide:
            self._new_tracer()
        else:
            # Only here: sys.monitoring measures every thread by itself, and
            # threading (with functools, collections) is 3 ms of a start.
            import threading

            threading.settrace(self._installation_trace)
            self._new_tracer()

    def stop(self, at_exit: bool = False) -> None:
        """Stop measuring.  Threads' tracers stop recording too.

        :param at_exit: the process is ending: tracers that can stop more
            cheaply then (the sysmon tracer's ``stop_at_exit``) do so.
        """
        if not self.started:
            return
        self.started = False
        if not self.backend.tracer_class.process_wide:
            import threading

            threading.settrace(None)  # type: ignore[arg-type]
        with self._lock:
            tracers = list(self.tracers)
            self.tracers.clear()
            self._thread_tracers.clear()
        for tracer in tracers:
            stop = getattr(tracer, "stop_at_exit", None) if at_exit else None
            (stop or tracer.stop)()

    def switch_context(self, covdata: CoverageData, context: str) -> None:
        """Record into ``covdata`` under its current context what was measured
        so far, then measure afresh for ``context``: the tracers forget which
        lines they have seen, so every line that runs from now on is recorded
        again (under ``sys.monitoring`` this re-enables disabled events)."""
        self.flush_into(covdata)
        for items in list(self.data.values()):
            items.clear()  # in place: tracers hold references to these sets
        with self._lock:
            tracers = list(self.tracers)
        for tracer in tracers:
            tracer.restart()
        covdata.set_context(context)

    def flush_into(self, covdata: CoverageData) -> bool:
        """Add everything recorded so far to ``covdata``; True if there was any.

        Tracers that record straight-line code when its frames end (the
        ``sys.monitoring`` tracer's ``record_running``) first record what
        their running frames have reached."""
        # (Not under self._lock: this runs at exit too, in forked children,
        # where a lock held by another thread at the fork stays held.)
        for tracer in list(self.tracers):
            record_running = getattr(tracer, "record_running", None)
            if record_running is not None:
                record_running()
        data = _copies(self.data)
        if self.branch:
            covdata._adopt(data, arcs=True)
        else:
            covdata._adopt(data, arcs=False)
        return bool(data)


def _python_copies(data: dict[str, set[Any]]) -> dict[str, set[Any]]:
    return {f: set(items) for f, items in list(data.items())}


try:
    from covcore._tracer import untracked_copies as _copies
except ImportError:  # the pure-Python install
    _copies = _python_copies
