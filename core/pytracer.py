"""PyTracer: covcore's pure-Python ``sys.settrace`` tracer.

Used with ``--timid`` or when the compiled extension is missing.  It records
exactly what :class:`covcore._tracer.CTracer` records (lines, or arcs with
coverage.py's conventions), only more slowly.

Design:

* The global trace function only sees ``call`` events.  For a frame of an
  unmeasured file it returns None, so the frame gets no line events at all.
* Line mode: one local trace function per measured file, shared by all its
  frames; it adds ``frame.f_lineno`` to the file's set.
* Branch mode: one local trace function (a closure) per measured frame,
  holding the last line run in that frame.
* Local functions reach the file's set through a one-element "slot" list, so
  :meth:`PyTracer.restart` can point every frame of every thread (and
  suspended generators) at the data dict's new sets at once.
"""

from __future__ import annotations

import dis
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Callable, Dict, List, Optional

from covcore.types import TShouldTrace, TTraceData, TWarn

# Opcodes to tell a generator's real call/return from a resume/yield.
_RESUME = dis.opmap.get("RESUME", -1)
_YIELD_VALUE = dis.opmap.get("YIELD_VALUE", -1)
_YIELD_FROM = dis.opmap.get("YIELD_FROM", -1)
# On a yield f_lasti is the YIELD_VALUE, except on 3.13 where it is the RESUME.
_LASTI_IS_YIELD = sys.version_info[:2] != (3, 13)
# CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
_GEN_FLAGS = 0x20 | 0x80 | 0x200

_MISSING = object()

# This file's own frames (start(), stop()) are never traced.
_THIS_FILE = __file__

TLocal = Callable[[FrameType, str, Any], Any]


def _real_call(frame: FrameType) -> bool:
    """Is this ``call`` event the start of the frame (not a generator resuming)?"""
    lasti = frame.f_lasti
    if lasti < 0:
        return True
    if _RESUME < 0:
        return False  # 3.10: a started frame has f_lasti >= 0
    code = frame.f_code.co_code
    # 3.11+: we are at a RESUME, whose oparg is 0 only at the start.
    if lasti + 1 < len(code):
        return code[lasti + 1] == 0
    return True


def _real_return(frame: FrameType, code: bytes) -> bool:
    """Is this ``return`` event the end of the frame (not a generator yielding)?"""
    lasti = frame.f_lasti
    n = len(code)
    if lasti < 0:
        return True
    if _RESUME >= 0:
        if lasti == n - 2:
            return True
        if _LASTI_IS_YIELD:
            lasti += 2
        if lasti < n:
            return code[lasti] != _RESUME
        return True
    # 3.10: yield stops at YIELD_VALUE; yield from / await re-executes the
    # YIELD_FROM with f_lasti on the instruction before it.
    if lasti < n and code[lasti] == _YIELD_VALUE:
        return False
    if lasti + 2 < n and code[lasti + 2] == _YIELD_FROM:
        return False
    return True


class _FileSlot:
    """Where the local functions of one file find the file's set."""

    __slots__ = ("canonical", "slot", "line_local")

    def __init__(self, canonical: str) -> None:
        self.canonical = canonical
        # slot[0] is the file's set in data, or None until first needed.
        self.slot: List[Optional[set]] = [None]
        self.line_local: Optional[TLocal] = None


class PyTracer:
    """A ``sys.settrace`` tracer for the current thread.

    ``PyTracer(data, should_trace, should_trace_cache, *, branch=False, warn=None)``
    """

    name = "python"
    process_wide = False

    def __init__(
        self,
        data: TTraceData,
        should_trace: TShouldTrace,
        should_trace_cache: Dict[str, Optional[str]],
        *,
        branch: bool = False,
        warn: Optional[TWarn] = None,
    ) -> None:
        self.data = data
        self.should_trace = should_trace
        self.should_trace_cache = should_trace_cache
        self.branch = bool(branch)
        self.warn = warn
        # co_filename -> _FileSlot, or None for files not measured.
        self._files: Dict[str, Optional[_FileSlot]] = {}
        # canonical name -> _FileSlot
        self._slots: Dict[str, _FileSlot] = {}
        self._activity = False
        self._started = False
        self._thread_id: Optional[int] = None
        # One bound method object, so sys.gettrace() can be compared to it.
        self._trace_fn = self._global_trace

    def __repr__(self) -> str:
        points = sum(len(v) for v in self.data.values())
        return f"<PyTracer at {id(self):#x}: {points} data points in {len(self.data)} files>"

    # -- deciding about files --

    def _file(self, filename: str) -> Optional[_FileSlot]:
        """The slot of a file, or None if it isn't measured (cached)."""
        try:
            return self._files[filename]
        except KeyError:
            pass
        if filename == _THIS_FILE:
            self._files[filename] = None
            return None
        canonical = self.should_trace_cache.get(filename, _MISSING)
        if canonical is _MISSING:
            try:
                canonical = self.should_trace(filename)
            except Exception as exc:
                # Escaping the trace function would turn tracing off.
                if self.warn is not None:
                    self.warn(
                        f"Disabling measurement of {filename}: should_trace failed: "
                        f"{type(exc).__name__}: {exc}",
                        "should-trace-error",
                    )
                canonical = None
            self.should_trace_cache[filename] = canonical
        fslot = None
        if canonical is not None:
            # Files with one canonical name share a slot.
            fslot = self._slots.get(canonical)
            if fslot is None:
                fslot = self._slots[canonical] = _FileSlot(canonical)
                fslot.line_local = self._make_line_local(fslot.slot, fslot.canonical)
        self._files[filename] = fslot
        return fslot

    def _refill(self, slot: List[Optional[set]], canonical: str) -> set:
        """Point a slot at the data dict's set for its file (creating it)."""
        file_data = self.data.get(canonical)
        if file_data is None:
            file_data = self.data[canonical] = set()
        slot[0] = file_data
        return file_data

    # -- local trace functions --

    def _make_line_local(self, slot: List[Optional[set]], canonical: str) -> TLocal:
        tracer = self
        refill = self._refill

        def _line_local(frame: FrameType, event: str, arg: Any) -> TLocal:
            if event == "line" and tracer._started:
                file_data = slot[0]
                if file_data is None:
                    file_data = refill(slot, canonical)
                file_data.add(frame.f_lineno)
                tracer._activity = True
            return _line_local

        return _line_local

    def _make_arc_local(
        self, slot: List[Optional[set]], canonical: str, code: CodeType, last: Optional[int]
    ) -> TLocal:
        """A local function for one frame; `last` None: no arc into its first line."""
        tracer = self
        refill = self._refill
        first = code.co_firstlineno
        gen_code = code.co_code if code.co_flags & _GEN_FLAGS else None

        def _arc_local(frame: FrameType, event: str, arg: Any) -> TLocal:
            nonlocal last
            if not tracer._started:
                # stopped from another thread
                pass
            elif event == "line":
                lineno = frame.f_lineno
                if last is not None:
                    file_data = slot[0]
                    if file_data is None:
                        file_data = refill(slot, canonical)
                    file_data.add((last, lineno))
                tracer._activity = True
                last = lineno
            elif event == "return":
                if last is not None and (gen_code is None or _real_return(frame, gen_code)):
                    file_data = slot[0]
                    if file_data is None:
                        file_data = refill(slot, canonical)
                    file_data.add((last, -first))
                last = None
            return _arc_local

        return _arc_local

    # -- the global trace function --

    def _global_trace(self, frame: FrameType, event: str, arg: Any) -> Optional[TLocal]:
        """sys.settrace's function: only ``call`` events come here."""
        if not self._started:
            # stop() was called from another thread: remove ourselves here.
            sys.settrace(None)
            return None
        if event != "call":
            return None
        code = frame.f_code
        try:
            fslot = self._files[code.co_filename]
        except KeyError:
            fslot = self._file(code.co_filename)
        if fslot is None:
            return None
        self._activity = True
        if not self.branch:
            return fslot.line_local
        if code.co_flags & _GEN_FLAGS and not _real_call(frame):
            last: Optional[int] = frame.f_lineno
        else:
            last = -code.co_firstlineno
        return self._make_arc_local(fslot.slot, fslot.canonical, code, last)

    # -- the Tracer API --

    def _is_our_local(self, fn: Any) -> bool:
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                if cell.cell_contents is self:
                    return True
            except ValueError:  # an empty cell
                pass
        return False

    def start(self) -> None:
        """Start measuring this thread; running frames from their next line."""
        if self._started:
            return
        self._started = True
        self._thread_id = threading.get_ident()
        # Frames already running never get a call event: give the measured
        # ones a local function now.  Done before settrace, so none of this
        # is traced.
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None:
            fslot = self._file(frame.f_code.co_filename)
            if fslot is not None:
                if self.branch:
                    frame.f_trace = self._make_arc_local(
                        fslot.slot, fslot.canonical, frame.f_code, None
                    )
                else:
                    frame.f_trace = fslot.line_local
                frame.f_trace_lines = True
            frame = frame.f_back
        sys.settrace(self._trace_fn)

    def stop(self) -> None:
        """Stop measuring.  Warns ``trace-changed`` if our function was replaced."""
        if not self._started:
            return
        self._started = False
        if threading.get_ident() != self._thread_id:
            return  # _global_trace removes itself from its thread
        tf = sys.gettrace()
        if tf == self._trace_fn:
            sys.settrace(None)
        # Our local functions must not go on running in these frames.
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None:
            if frame.f_trace is not None and self._is_our_local(frame.f_trace):
                frame.f_trace = None
            frame = frame.f_back
        if tf != self._trace_fn and self.warn is not None:
            self.warn(
                f"Trace function changed, data is likely wrong: {tf!r} != {self._trace_fn!r}",
                "trace-changed",
            )

    def restart(self) -> None:
        """Record into the data dict's current sets from now on."""
        for fslot in self._slots.values():
            fslot.slot[0] = None

    def activity(self) -> bool:
        """Has anything been recorded since the last :meth:`reset_activity`?"""
        return self._activity

    def reset_activity(self) -> None:
        """Clear the activity flag."""
        self._activity = False
