# Included by _tracer.pyx (one extension module, split for reading): the C trace function backend, CTracer.

# -- CTracer ------------------------------------------------------------------

cdef struct FrameEntry:
    PyFrameObject *frame        # identity only
    PyObject *code              # identity only
    PyObject *cs                # owned reference to the code's CodeState
    int last_line


cdef int _trace_func(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) except -1:
    """The C trace function (Py_tracefunc)."""
    cdef CTracer self = <CTracer>obj
    if not self.started:
        # stop() was called from another thread: remove ourselves here.
        covcore_clear_trace()
        return 0
    if what == PyTrace_LINE:
        if self.branch:
            return self._line_arcs(frame)
        return self._line_lines(frame)
    if what == PyTrace_CALL:
        return self._call(frame)
    if what == PyTrace_RETURN and self.branch:
        return self._return_arcs(frame)
    return 0


@cython.final
cdef class CTracer(_TracerBase):
    """A C trace function installed with ``PyEval_SetTrace`` (this thread).

    ``CTracer(data, should_trace, should_trace_cache, *, branch=False, warn=None)``
    """

    name = "ctrace"
    process_wide = False

    cdef FrameEntry *stack
    cdef Py_ssize_t depth
    cdef Py_ssize_t cap
    cdef unsigned long thread_id

    def __cinit__(self):
        self.depth = -1

    def __init__(self, data, should_trace, should_trace_cache, *, branch=False, warn=None):
        self._setup(data, should_trace, should_trace_cache, branch, warn)
        self.want_bitmap = not self.branch

    def __dealloc__(self):
        self._clear_stack()
        PyMem_Free(self.stack)

    # -- the frame stack (branch mode) --

    cdef void _clear_stack(self):
        while self.depth >= 0:
            Py_XDECREF(self.stack[self.depth].cs)
            self.depth -= 1

    cdef FrameEntry *_push(self, PyFrameObject *frame, PyObject *code, CodeState cs, int last_line) except NULL:
        cdef FrameEntry *bigger
        cdef Py_ssize_t newcap
        if self.depth + 1 >= self.cap:
            newcap = self.cap * 2 if self.cap else 64
            bigger = <FrameEntry *>PyMem_Realloc(self.stack, newcap * sizeof(FrameEntry))
            if bigger == NULL:
                raise MemoryError()
            self.stack = bigger
            self.cap = newcap
        self.depth += 1
        cdef FrameEntry *e = &self.stack[self.depth]
        e.frame = frame
        e.code = code
        Py_INCREF(cs)
        e.cs = <PyObject *>cs
        e.last_line = last_line
        return e

    cdef void _pop(self):
        Py_XDECREF(self.stack[self.depth].cs)
        self.depth -= 1

    cdef FrameEntry *_adopt(self, PyFrameObject *frame, PyObject *code, CodeState cs) except NULL:
        """A LINE for a measured frame that is not on top of our stack.

        Either events were missed (it is deeper in the stack: drop what is
        above it), or it was running before start() (push it; its first line
        records no arc).
        """
        cdef Py_ssize_t i = self.depth - 1
        while i >= 0:
            if self.stack[i].frame == frame and self.stack[i].code == code:
                while self.depth > i:
                    self._pop()
                return &self.stack[i]
            i -= 1
        return self._push(frame, code, cs, NO_LINE)

    # -- events --

    cdef int _call(self, PyFrameObject *frame) except -1:
        cdef PyObject *code = covcore_frame_code(frame)
        cdef CodeState cs = _lookup(self, code)
        if not cs.measured or cs.left == 0:
            # Unmeasured, or (line mode) every line already recorded: no
            # line events at all for this frame.
            return covcore_set_trace_lines(frame, 0)
        covcore_trace_lines_on(frame)
        self.active = True
        if self.branch:
            if _real_call(cs, frame):
                self._push(frame, code, cs, -cs.first_line)
            else:
                self._push(frame, code, cs, covcore_frame_lineno(frame))
        return 0

    cdef int _line_lines(self, PyFrameObject *frame) except -1:
        cdef CodeState cs = _lookup(self, covcore_frame_code(frame))
        cdef int lineno, idx, s
        if not cs.measured:
            return covcore_set_trace_lines(frame, 0)
        lineno = covcore_frame_lineno(frame)
        idx = lineno - cs.base
        if <unsigned int>idx < <unsigned int>cs.nlines:
            s = cs.seen[idx]
            if s == 1:
                if cs.left == 0:
                    return covcore_set_trace_lines(frame, 0)
                return 0
            cs.seen[idx] = 1
            if s == 0:
                cs.left -= 1
        PySet_Add(cs.file_data, lineno)
        self.active = True
        if cs.left == 0:
            return covcore_set_trace_lines(frame, 0)
        return 0

    cdef int _line_arcs(self, PyFrameObject *frame) except -1:
        cdef PyObject *code = covcore_frame_code(frame)
        cdef FrameEntry *e
        cdef CodeState cs
        cdef int lineno
        if self.depth >= 0 and self.stack[self.depth].frame == frame and self.stack[self.depth].code == code:
            e = &self.stack[self.depth]
            cs = <CodeState>e.cs
            if not (cs.epoch == _epoch and cs.owner is self.data):
                cs = _lookup(self, code)
                if not cs.measured:
                    self._pop()
                    return covcore_set_trace_lines(frame, 0)
                e = &self.stack[self.depth]
                if e.cs != <PyObject *>cs:
                    Py_INCREF(cs)
                    Py_XDECREF(e.cs)
                    e.cs = <PyObject *>cs
        else:
            cs = _lookup(self, code)
            if not cs.measured:
                return covcore_set_trace_lines(frame, 0)
            e = self._adopt(frame, code, cs)
        lineno = covcore_frame_lineno(frame)
        if e.last_line != NO_LINE:
            _record_arc(self, cs, e.last_line, lineno)
        else:
            self.active = True
        e.last_line = lineno
        return 0

    cdef int _return_arcs(self, PyFrameObject *frame) except -1:
        cdef PyObject *code
        cdef FrameEntry *e
        cdef CodeState cs
        if self.depth < 0:
            return 0
        e = &self.stack[self.depth]
        if e.frame != frame:
            return 0            # not a frame we measure
        code = covcore_frame_code(frame)
        if e.code != code:
            return 0
        cs = <CodeState>e.cs
        if not (cs.epoch == _epoch and cs.owner is self.data):
            cs = _lookup(self, code)
        if cs.measured and e.last_line != NO_LINE:
            if _real_return(cs, frame):
                _record_arc(self, cs, e.last_line, -cs.first_line)
        self._pop()
        return 0

    # -- Python-level API --

    def __call__(self, frame, event, arg, lineno=None):
        """Make ``sys.settrace(sys.gettrace())`` keep working with us."""
        cdef int what = -1
        if event == "line":
            what = PyTrace_LINE
        elif event == "call":
            what = PyTrace_CALL
        elif event == "return":
            what = PyTrace_RETURN
        elif event == "exception":
            what = PyTrace_EXCEPTION
        if type(frame) is not _FrameType:
            raise TypeError("expected a frame, got %s" % type(frame).__name__)
        if what >= 0:
            _trace_func(<PyObject *>self, <PyFrameObject *>frame, what, <PyObject *>arg)
        if what == PyTrace_CALL and self.started:
            # A new trace function only takes effect at a call: go back to
            # being called the C way.
            PyEval_SetTrace(_trace_func, <PyObject *>self)
        return self

    def start(self):
        """Start measuring this thread; running frames from their next line."""
        global _epoch
        if self.started:
            return
        _epoch += 1
        self._clear_stack()
        # Undo f_trace_lines = 0 left on running frames by earlier sessions.
        _frames_lines_on([sys._getframe(0)])
        self.thread_id = PyThread_get_thread_ident()
        self.started = True
        PyEval_SetTrace(_trace_func, <PyObject *>self)

    def stop(self):
        """Stop measuring.  Warns ``trace-changed`` if our function was replaced."""
        if not self.started:
            return
        self.started = False
        if PyThread_get_thread_ident() != self.thread_id:
            # Our trace function removes itself from its own thread at its
            # next event.
            return
        tf = sys.gettrace()
        if tf is self:
            covcore_clear_trace()
        # Give the frames back their line events (a debugger may want them).
        _frames_lines_on([sys._getframe(0)])
        self._clear_stack()
        self._release_states()
        if tf is not self and self.warn is not None:
            self.warn(
                "Trace function changed, data is likely wrong: %r != %r" % (tf, self),
                "trace-changed",
            )

    def restart(self):
        """Record every line (arc) again from now on, into the current data sets."""
        global _epoch
        _epoch += 1
        # Frames whose lines were switched off as complete must report again.
        _frames_lines_on(sys._current_frames().values())


cdef inline bint _real_call(CodeState cs, PyFrameObject *frame):
    """Is this CALL a real start of the frame (not a generator resuming)?"""
    cdef int lasti
    if not cs.is_gen:
        return True
    lasti = covcore_frame_lasti(frame)
    if lasti < 0:
        return True
    if _RESUME < 0:
        return False        # 3.10: a started frame has f_lasti >= 0
    # 3.11+: we are at a RESUME; its oparg is 0 only at the start.
    if lasti + 1 < cs.code_len:
        return cs.code_bytes[lasti + 1] == 0
    return True


cdef inline bint _real_return(CodeState cs, PyFrameObject *frame):
    """Is this RETURN the end of the frame (not a generator yielding)?"""
    cdef Py_ssize_t lasti, n
    if not cs.is_gen:
        return True
    lasti = covcore_frame_lasti(frame)
    n = cs.code_len
    if lasti < 0:
        return True
    if _RESUME >= 0:
        if lasti == n - 2:
            return True
        if _LASTI_IS_YIELD:
            lasti += 2
        if lasti < n:
            return cs.code_bytes[lasti] != _RESUME
        return True
    # 3.10: a yield stops at YIELD_VALUE; yield from / await re-executes the
    # YIELD_FROM, with f_lasti on the instruction before it.
    if lasti < n and cs.code_bytes[lasti] == _YIELD_VALUE:
        return False
    if lasti + 2 < n and cs.code_bytes[lasti + 2] == _YIELD_FROM:
        return False
    return True
