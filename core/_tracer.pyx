# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""covcore's compiled tracers.

Two backends live here, both satisfying :class:`covcore.types.Tracer`:

* :class:`SysMonTracer` (Python 3.12+) uses PEP 669 ``sys.monitoring``: one
  ``PY_START``/``PY_RESUME`` callback per code object decides whether its file
  is measured and turns on *local* ``LINE`` events for measured code only;
  every ``LINE`` callback records its line and returns ``DISABLE``, so each
  (code object, line) costs one callback per session.  In branch mode it
  also uses ``BRANCH``, ``JUMP``, ``PY_RETURN`` and ``PY_UNWIND``, guided by
  a per-code-object analysis of the bytecode (:mod:`covcore.bytecode`), and
  every callback but ``PY_UNWIND``'s turns itself off once it can record
  nothing new (see "Branch mode" above :class:`SysMonTracer`).

* :class:`CTracer` (every supported version) is a C trace function installed
  with ``PyEval_SetTrace`` for the current thread.

State kept by both (see :class:`CodeState`):

* Per code object, a :class:`CodeState` hung on the code object itself through
  the interpreter's "code extra" slots (``_PyCode_GetExtra``/``SetExtra``), so
  finding it costs no dict lookup.  It holds the measure/skip decision for the
  code's file, a direct reference to the file's set in ``data``, and (line
  mode) a bitmap of the lines of this code object already recorded plus the
  count of those not seen yet, computed once from ``co_lines()``; (branch
  mode) a small open-addressing hash table of the arcs already recorded.  A
  state is trusted only if its ``epoch`` equals the module-wide epoch and its
  ``owner`` is this tracer's data dict; the epoch is bumped by every
  ``start()`` and ``restart()``, so a new tracer never trusts another's stale
  state.  Re-initialising a state is cheap and happens lazily.

* Per frame (CTracer, branch mode only), a C array used as a stack parallel to
  the Python stack, holding the frame, its code state and the last line run
  in it.  Only frames of measured code are pushed.  In line mode no per-frame
  state is needed at all: the frame's code object leads straight to its
  state, so CALL and RETURN cost almost nothing.

How frames that cannot teach anything new are made cheap (CTracer):

* frames of unmeasured files get ``f_trace_lines = 0`` at CALL time, so the
  interpreter never calls us for their lines;
* (line mode) once every line of a code object has been recorded, its frames
  get ``f_trace_lines = 0`` too: the frame that recorded the last new line at
  once, new frames at CALL time;
* a line already recorded for its code object costs a bitmap test (and in
  branch mode an arc already recorded costs a hash probe): no int or tuple is
  created and the file's set is not touched.

``f_trace_lines`` is written straight into the frame struct where the layout
is known (3.10's public struct; the common prefix of 3.11-3.13's, checked at
import time) and through ``setattr`` otherwise.
"""

cimport cython
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_DECREF, Py_XDECREF
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.set cimport PySet_Add
from libc.string cimport memset
from libc.stdint cimport uint64_t, uint32_t
from libc.limits cimport INT_MIN

import dis
import sys
from types import FrameType as _FrameType

from covcore.errors import CovcoreError


cdef extern from *:
    """
    #include "frameobject.h"
    #include "pythread.h"

    #if PY_VERSION_HEX >= 0x030C0000
    #define COVCORE_GET_EXTRA PyUnstable_Code_GetExtra
    #define COVCORE_SET_EXTRA PyUnstable_Code_SetExtra
    #define COVCORE_REQUEST_EXTRA PyUnstable_Eval_RequestCodeExtraIndex
    #else
    #define COVCORE_GET_EXTRA _PyCode_GetExtra
    #define COVCORE_SET_EXTRA _PyCode_SetExtra
    #define COVCORE_REQUEST_EXTRA _PyEval_RequestCodeExtraIndex
    #endif

    /* The first fields of PyFrameObject, identical in 3.11, 3.12 and 3.13
       (Include/internal/pycore_frame.h).  Used only after the self-check in
       covcore_check_frame_layout() has passed. */
    typedef struct {
        PyObject_HEAD
        PyObject *f_back;
        void *f_frame;
        PyObject *f_trace;
        int f_lineno;
        char f_trace_lines;
        char f_trace_opcodes;
    } covcore_frame_head;

    static int covcore_direct_frames = 0;
    static PyObject *covcore_str_f_trace_lines = NULL;
    static Py_ssize_t covcore_extra_index = -1;

    static void covcore_free_extra(void *p) { Py_XDECREF((PyObject *)p); }

    static int covcore_setup(void) {
        covcore_str_f_trace_lines = PyUnicode_InternFromString("f_trace_lines");
        if (covcore_str_f_trace_lines == NULL) {
            return -1;
        }
        covcore_extra_index = COVCORE_REQUEST_EXTRA(covcore_free_extra);
        return 0;
    }

    /* Borrowed reference to the frame's code object. */
    static CYTHON_INLINE PyObject *covcore_frame_code(PyFrameObject *f) {
    #if PY_VERSION_HEX < 0x030B0000
        return (PyObject *)f->f_code;
    #else
        PyCodeObject *c = PyFrame_GetCode(f);
        Py_DECREF(c);   /* the frame keeps it alive */
        return (PyObject *)c;
    #endif
    }

    static CYTHON_INLINE int covcore_frame_lineno(PyFrameObject *f) {
    #if PY_VERSION_HEX < 0x030B0000
        /* call_trace() sets f_lineno for the duration of a trace call. */
        if (f->f_lineno > 0) {
            return f->f_lineno;
        }
    #endif
        return PyFrame_GetLineNumber(f);
    }

    /* Offset in bytes of the last instruction, -1 if not started (3.10). */
    static CYTHON_INLINE int covcore_frame_lasti(PyFrameObject *f) {
    #if PY_VERSION_HEX < 0x030B0000
        return f->f_lasti < 0 ? -1 : f->f_lasti * 2;
    #else
        return PyFrame_GetLasti(f);
    #endif
    }

    static CYTHON_INLINE char *covcore_trace_lines_ptr(PyFrameObject *f) {
    #if PY_VERSION_HEX < 0x030B0000
        return &f->f_trace_lines;
    #elif PY_VERSION_HEX < 0x030E0000
        return covcore_direct_frames ? &((covcore_frame_head *)f)->f_trace_lines : NULL;
    #else
        return NULL;
    #endif
    }

    /* Turn a frame's line events off (0) or on (1). */
    static CYTHON_INLINE int covcore_set_trace_lines(PyFrameObject *f, int on) {
        char *p = covcore_trace_lines_ptr(f);
        if (p != NULL) {
            *p = (char)on;
            return 0;
        }
        return PyObject_SetAttr((PyObject *)f, covcore_str_f_trace_lines, on ? Py_True : Py_False);
    }

    /* Make sure a frame's line events are on; only where that is a plain
       store (it undoes a stale 0 left by an earlier session). */
    static CYTHON_INLINE void covcore_trace_lines_on(PyFrameObject *f) {
        char *p = covcore_trace_lines_ptr(f);
        if (p != NULL) {
            *p = 1;
        }
    }

    /* Check that the struct prefix above matches this interpreter's frames,
       using a frame object nobody else is running (a fresh generator's). */
    static int covcore_check_frame_layout(PyObject *frame, PyObject *marker) {
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
        covcore_frame_head *h = (covcore_frame_head *)frame;
        int ok = 1;
        if (PyObject_SetAttrString(frame, "f_trace", marker) < 0) return -1;
        ok = ok && (h->f_trace == marker);
        if (PyObject_SetAttr(frame, covcore_str_f_trace_lines, Py_False) < 0) return -1;
        ok = ok && (h->f_trace_lines == 0);
        if (PyObject_SetAttr(frame, covcore_str_f_trace_lines, Py_True) < 0) return -1;
        ok = ok && (h->f_trace_lines == 1);
        if (PyObject_SetAttrString(frame, "f_trace", Py_None) < 0) return -1;
        ok = ok && (h->f_trace == NULL);
        covcore_direct_frames = ok;
    #endif
        return 0;
    }

    static CYTHON_INLINE int covcore_get_extra(PyObject *code, void **extra) {
        return COVCORE_GET_EXTRA(code, covcore_extra_index, extra);
    }

    static CYTHON_INLINE int covcore_set_extra(PyObject *code, void *extra) {
        return COVCORE_SET_EXTRA(code, covcore_extra_index, extra);
    }

    static CYTHON_INLINE void covcore_clear_trace(void) {
        PyEval_SetTrace(NULL, NULL);
    }
    """
    ctypedef struct PyFrameObject
    ctypedef int (*covcore_tracefunc)(PyObject*, PyFrameObject*, int, PyObject*) except -1
    void PyEval_SetTrace(covcore_tracefunc func, PyObject* obj)
    void covcore_clear_trace()
    unsigned long PyThread_get_thread_ident()
    PyFrameObject* PyEval_GetFrame()

    int covcore_direct_frames
    Py_ssize_t covcore_extra_index
    int covcore_setup() except -1
    int covcore_check_frame_layout(object frame, object marker) except -1
    PyObject* covcore_frame_code(PyFrameObject* f)
    int covcore_frame_lineno(PyFrameObject* f)
    int covcore_frame_lasti(PyFrameObject* f)
    int covcore_set_trace_lines(PyFrameObject* f, int on) except -1
    void covcore_trace_lines_on(PyFrameObject* f)
    int covcore_get_extra(PyObject* code, void** extra) except -1
    int covcore_set_extra(PyObject* code, void* extra) except -1

    enum:
        PyTrace_CALL
        PyTrace_EXCEPTION
        PyTrace_LINE
        PyTrace_RETURN


# -- module state -----------------------------------------------------------

# Bumped by every start() and restart(): a CodeState is valid only while its
# epoch is the current one (and its owner is the tracer's data dict).
cdef long _epoch = 1

# Opcodes used to tell a real call/return of a generator from a resume/yield.
cdef int _RESUME = dis.opmap.get("RESUME", -1)
cdef int _YIELD_VALUE = dis.opmap.get("YIELD_VALUE", -1)
cdef int _YIELD_FROM = dis.opmap.get("YIELD_FROM", -1)
# On a yield, f_lasti is the YIELD_VALUE (whose next instruction is a RESUME)
# except on 3.13, where it is already the RESUME.
cdef bint _LASTI_IS_YIELD = sys.version_info[:2] != (3, 13)
# CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
cdef int _GEN_FLAGS = 0x20 | 0x80 | 0x200

# "No previous line" for a frame adopted from a LINE event (it was already
# running when the tracer started): its first line records no arc.
cdef int NO_LINE = INT_MIN

cdef object _MISSING = object()

covcore_setup()


def _layout_probe():
    yield


covcore_check_frame_layout(_layout_probe().gi_frame, _layout_probe)

#: True when f_trace_lines is written straight into the frame struct.
DIRECT_FRAME_ACCESS = bool(covcore_direct_frames) or sys.version_info < (3, 11)
#: True when per-code-object state hangs on code objects (code extra slot).
CODE_EXTRA = covcore_extra_index >= 0


# -- per code object state --------------------------------------------------

cdef struct BranchLoc:
    # A BRANCH location (SysMonTracer, branch mode): its two destinations
    # (fall-through, jump), the arc each records (borrowed from the CodeMap,
    # NULL: none), and which directions only the BRANCH event can record.
    int dest0
    int dest1
    PyObject *arc0
    PyObject *arc1
    unsigned char need


@cython.final
cdef class CodeState:
    """What a tracer knows about one code object (see the module docstring)."""

    cdef long epoch             # valid while == _epoch ...
    cdef object owner           # ... and owner is the tracer's data dict
    cdef object file_data       # the file's set in data, or None
    cdef bint measured
    cdef bint is_gen            # generator, coroutine or async generator
    cdef int first_line         # co_firstlineno
    cdef long local_epoch       # sysmon: epoch when local LINE events were set
    # Branch mode, generators only: the bytecode, to tell yield from return.
    cdef bytes co_code
    cdef const unsigned char *code_bytes
    cdef Py_ssize_t code_len
    # Line mode: seen[line - base] is 0 (not run yet), 1 (recorded) or
    # 2 (not a line co_lines() promises); left counts the 0s, -1 = never done.
    cdef int base
    cdef int nlines
    cdef int left
    cdef unsigned char *seen
    # Branch mode: open-addressing set of packed arcs already recorded.
    cdef uint64_t *arcs
    cdef Py_ssize_t arcs_mask
    cdef Py_ssize_t arcs_used
    # Only without a code-extra slot: keeps the code object (and its id) alive.
    cdef object code_ref
    # The tracer whose `states` list holds this state (identity only).
    cdef void *lister
    # SysMonTracer, branch mode: what each event records (see
    # covcore.bytecode.CodeMap).  Depends only on the code object, so it is
    # computed once and kept across epochs and tracers; only `bseen` (the
    # directions seen at each BRANCH location) belongs to an epoch.
    cdef object cmap            # the CodeMap, or None before it is made
    cdef dict line_records      # offset -> arcs recorded by LINE there
    cdef dict jump_arcs         # offset -> arc recorded by JUMP there
    cdef dict return_arcs       # offset -> arc recorded by PY_RETURN there
    cdef dict resume_arcs       # offset -> arcs recorded by PY_RESUME there
    cdef int *bslot             # per code unit: index into blocs, or -1
    cdef BranchLoc *blocs
    cdef Py_ssize_t nbranch
    cdef Py_ssize_t nunits      # code units in co_code
    cdef int *unwind_lines      # per code unit: current line, 0 = unknown
    cdef bint need_branch       # does some BRANCH location need its event?
    cdef unsigned char *bseen   # per BRANCH location: directions seen (epoch)
    cdef dict crumb_lines       # LINE offset -> arc of its arrival without a crumb
    cdef dict crumb_jumps       # JUMP offset -> the LINE offset it leaves a crumb for
    cdef set crumb_done         # crumb LINE offsets whose arc was recorded (epoch)

    def __cinit__(self):
        self.left = -1

    def __dealloc__(self):
        PyMem_Free(self.seen)
        PyMem_Free(self.arcs)
        PyMem_Free(self.bslot)
        PyMem_Free(self.blocs)
        PyMem_Free(self.unwind_lines)
        PyMem_Free(self.bseen)

    cdef void release(self):
        """Forget everything (invalid until re-initialised)."""
        self.epoch = 0
        self.owner = None
        self.file_data = None
        self.measured = False
        self.co_code = None
        self.code_bytes = NULL
        self.code_len = 0
        PyMem_Free(self.seen)
        self.seen = NULL
        self.nlines = 0
        self.base = 0
        self.left = -1
        PyMem_Free(self.arcs)
        self.arcs = NULL
        self.arcs_mask = 0
        self.arcs_used = 0
        # The code map stays (it only depends on the code object); the
        # directions seen are forgotten.
        if self.bseen != NULL and self.nbranch > 0:
            memset(self.bseen, 0, self.nbranch)
        self.crumb_done = None

    def __repr__(self):
        return "<CodeState measured=%r left=%d epoch=%d>" % (self.measured, self.left, self.epoch)


cdef int _compute_lines(CodeState cs, object code) except -1:
    """Fill cs's line bitmap from code.co_lines()."""
    cdef bytes co = code.co_code
    cdef const unsigned char *b = co
    cdef Py_ssize_t n = len(co)
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t prefix_end = -1
    cdef int lo, hi, nl, line
    # Instructions up to the first RESUME (3.11+: RETURN_GENERATOR, MAKE_CELL,
    # COPY_FREE_VARS, RESUME...) never produce a line event: lines only found
    # there would keep the code object from ever being complete.
    if _RESUME >= 0:
        while i < n:
            if b[i] == _RESUME:
                prefix_end = i + 2
                break
            i += 2
    lines = set()
    for start, end, lineno in code.co_lines():
        if lineno is None:
            continue
        if prefix_end >= 0 and end <= prefix_end:
            continue
        lines.add(lineno)
    if not lines:
        return 0
    lo = min(lines)
    hi = max(lines)
    if lo < 0 or hi - lo > 1000000:
        return 0
    nl = hi - lo + 1
    cs.seen = <unsigned char *>PyMem_Malloc(nl)
    if cs.seen == NULL:
        raise MemoryError()
    memset(cs.seen, 2, nl)
    for lineno in lines:
        line = lineno
        cs.seen[line - lo] = 0
    cs.base = lo
    cs.nlines = nl
    cs.left = len(lines)
    return 0


# -- shared tracer machinery ------------------------------------------------

cdef object _ask_should_trace(object should_trace, object warn, object filename):
    """should_trace(filename); if it fails, warn and don't measure the file.

    An exception escaping a trace function would be raised again at every
    event of the measured program, so it is turned into a warning.
    """
    try:
        return should_trace(filename)
    except Exception as exc:
        if warn is not None:
            warn(
                "Disabling measurement of %s: should_trace failed: %s: %s"
                % (filename, type(exc).__name__, exc),
                "should-trace-error",
            )
        return None


cdef class _TracerBase:
    """Fields and code-state management shared by the compiled tracers."""

    cdef object data
    cdef object should_trace
    cdef object should_trace_cache
    cdef object warn
    cdef bint branch
    cdef bint started
    cdef bint active
    cdef bint want_bitmap
    cdef list states            # CodeStates initialised by this tracer
    cdef dict fallback          # id(code) -> CodeState, without code extra

    cdef int _setup(self, data, should_trace, should_trace_cache, branch, warn) except -1:
        if not isinstance(data, dict):
            raise TypeError("data must be a dict, not %s" % type(data).__name__)
        if not isinstance(should_trace_cache, dict):
            raise TypeError("should_trace_cache must be a dict, not %s" % type(should_trace_cache).__name__)
        self.data = data
        self.should_trace = should_trace
        self.should_trace_cache = should_trace_cache
        self.warn = warn
        self.branch = bool(branch)
        self.states = []
        self.fallback = {}
        return 0

    cdef CodeState _slow_state(self, object code):
        """Find (or hang) the CodeState of `code`, re-initialised if stale."""
        cdef void *p = NULL
        cdef CodeState cs
        if covcore_extra_index >= 0:
            covcore_get_extra(<PyObject *>code, &p)
            if p != NULL:
                cs = <CodeState>p
            else:
                cs = CodeState.__new__(CodeState)
                Py_INCREF(cs)           # owned by the code object from now on
                try:
                    covcore_set_extra(<PyObject *>code, <void *>cs)
                except BaseException:
                    Py_DECREF(cs)
                    raise
        else:
            cs = self.fallback.get(id(code))
            if cs is None:
                cs = CodeState.__new__(CodeState)
                cs.code_ref = code
                self.fallback[id(code)] = cs
        if not (cs.epoch == _epoch and cs.owner is self.data):
            self._init_state(cs, code)
        return cs

    cdef int _init_state(self, CodeState cs, object code) except -1:
        cdef object filename = code.co_filename
        cdef object canonical = self.should_trace_cache.get(filename, _MISSING)
        if canonical is _MISSING:
            canonical = _ask_should_trace(self.should_trace, self.warn, filename)
            self.should_trace_cache[filename] = canonical
        cs.release()
        if canonical is not None:
            file_data = self.data.get(canonical)
            if file_data is None:
                file_data = set()
                self.data[canonical] = file_data
            cs.file_data = file_data
            cs.measured = True
            cs.first_line = code.co_firstlineno
            cs.is_gen = (code.co_flags & _GEN_FLAGS) != 0
            if self.branch:
                if cs.is_gen:
                    cs.co_code = code.co_code
                    cs.code_bytes = cs.co_code
                    cs.code_len = len(cs.co_code)
            elif self.want_bitmap:
                _compute_lines(cs, code)
        cs.owner = self.data
        cs.epoch = _epoch
        if cs.lister != <void *>self:
            cs.lister = <void *>self
            self.states.append(cs)
        return 0

    def __dealloc__(self):
        cdef CodeState cs
        if self.states is not None:
            for cs in self.states:
                if cs.lister == <void *>self:
                    cs.lister = NULL

    cdef void _release_states(self):
        cdef CodeState cs
        for cs in self.states:
            if cs.owner is self.data:
                cs.release()
            if cs.lister == <void *>self:
                cs.lister = NULL
        self.states = []
        self.fallback = {}

    def activity(self):
        """Has anything been recorded since the last :meth:`reset_activity`?"""
        return bool(self.active)

    def reset_activity(self):
        """Clear the activity flag."""
        self.active = False

    def __repr__(self):
        points = sum(len(v) for v in self.data.values())
        return "<%s at %#x: %d data points in %d files>" % (
            type(self).__name__, id(self), points, len(self.data)
        )


cdef inline CodeState _lookup(_TracerBase t, PyObject *code):
    """The valid CodeState of `code`: the fast path is one slot read."""
    cdef void *p = NULL
    cdef CodeState cs
    if covcore_extra_index >= 0:
        covcore_get_extra(code, &p)
        if p != NULL:
            cs = <CodeState>p
            if cs.epoch == _epoch and cs.owner is t.data:
                return cs
    return t._slow_state(<object>code)


cdef void _frames_lines_on(object frames):
    """Set f_trace_lines on every frame of the given stacks (undo our 0s)."""
    for frame in frames:
        while frame is not None:
            if not frame.f_trace_lines:
                frame.f_trace_lines = True
            frame = frame.f_back


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


cdef inline uint64_t _arc_slot_hash(uint64_t key):
    key *= <uint64_t>0x9E3779B97F4A7C15ULL
    return key ^ (key >> 29)


cdef int _arcs_grow(CodeState cs) except -1:
    cdef Py_ssize_t newcap = (cs.arcs_mask + 1) * 2 if cs.arcs != NULL else 16
    cdef uint64_t *old = cs.arcs
    cdef Py_ssize_t oldcap = cs.arcs_mask + 1 if old != NULL else 0
    cdef uint64_t *tab = <uint64_t *>PyMem_Malloc(newcap * sizeof(uint64_t))
    cdef Py_ssize_t i, j
    cdef uint64_t k
    if tab == NULL:
        raise MemoryError()
    memset(tab, 0, newcap * sizeof(uint64_t))
    for i in range(oldcap):
        k = old[i]
        if k != 0:
            j = <Py_ssize_t>(_arc_slot_hash(k) & <uint64_t>(newcap - 1))
            while tab[j] != 0:
                j = (j + 1) & (newcap - 1)
            tab[j] = k
    cs.arcs = tab
    cs.arcs_mask = newcap - 1
    PyMem_Free(old)
    return 0


cdef int _record_arc(_TracerBase t, CodeState cs, int l1, int l2) except -1:
    """Add (l1, l2) to the file's set unless this code object already did."""
    cdef uint64_t key = ((<uint64_t><uint32_t>l1) << 32) | <uint64_t><uint32_t>l2
    cdef Py_ssize_t j
    if key != 0:
        if cs.arcs == NULL or (cs.arcs_used + 1) * 2 > cs.arcs_mask + 1:
            _arcs_grow(cs)
        j = <Py_ssize_t>(_arc_slot_hash(key) & <uint64_t>cs.arcs_mask)
        while cs.arcs[j] != 0:
            if cs.arcs[j] == key:
                return 0
            j = (j + 1) & cs.arcs_mask
        cs.arcs[j] = key
        cs.arcs_used += 1
    PySet_Add(cs.file_data, (l1, l2))
    t.active = True
    return 0


# -- SysMonTracer ---------------------------------------------------------------

# Branch mode (how SysMonTracer finds the arcs settrace tracers record, with
# events that turn themselves off; the bytecode side is covcore.bytecode):
#
# * PY_START/PY_RESUME (global, DISABLEd per location) decide once per code
#   object; measured code gets local LINE, JUMP, PY_RETURN, and BRANCH only if
#   one of its conditional jumps needs it.  PY_UNWIND is global and can't be
#   disabled: its callback is a code-extra read for unmeasured code.
# * Per code object, once: covcore.bytecode.analyze() says what each event
#   location records (kept in the CodeState as dicts, and C arrays for BRANCH,
#   the only event that may fire repeatedly).
# * LINE (offset from the frame) records the self-arc (line, line), the arc
#   into the line when only one line can lead there, and claims; DISABLE.
# * BRANCH records the arc of the direction taken; DISABLE once every
#   direction no other event records was seen (bseen, reset per epoch).
# * A LINE reached by jumps and by one line's conditional jumps only (a
#   loop's exit and its breaks) needs no BRANCH event: each JUMP there leaves
#   a per-thread crumb for the LINE right after it, and a LINE without one
#   came from that line.  They stay on until that has happened once.
# * JUMP, PY_RETURN record their arc; DISABLE.  PY_RESUME records claims for
#   what follows a yield.  PY_UNWIND records (current line, -co_firstlineno)
#   unless a generator is being closed at a yield (as CTracer).
# * Frames already running at start() (in any thread) behave as CTracer's
#   adopted frames: their first LINE records no arc into it, and nothing is
#   recorded for them before it.
# * What is recorded must be read with covcore.bytecode.resolve_arcs().

from covcore.bytecode import analyze as _analyze, CodeMap as _CodeMap

cdef object _sysmon = getattr(sys, "monitoring", None)


cdef int _build_code_map(_TracerBase t, CodeState cs, object code) except -1:
    """Analyse `code` once (see covcore.bytecode) and keep the result in cs."""
    cdef Py_ssize_t n, i, k
    cdef BranchLoc *b
    try:
        cm = _analyze(code)
    except Exception as exc:
        # Never expected; measure the code's lines and returns at least.
        if t.warn is not None:
            t.warn(
                "Couldn't analyse the bytecode of %s (%s line %d), its branches may be "
                "wrong: %s: %s"
                % (code.co_name, code.co_filename, code.co_firstlineno, type(exc).__name__, exc),
                "trace-changed",
            )
        cm = _CodeMap()
        cm.first_line = code.co_firstlineno
    if cs.cmap is not None:
        # Another thread ran while analyze() did (it is Python code) and
        # finished first: its result stands.
        return 0
    n = len(code.co_code) // 2
    cs.line_records = cm.line_records
    cs.jump_arcs = cm.jumps
    cs.return_arcs = cm.returns
    cs.resume_arcs = cm.resumes if cm.resumes else None
    cs.bslot = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    cs.unwind_lines = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    nb = len(cm.branches)
    cs.blocs = <BranchLoc *>PyMem_Malloc((nb + 1) * sizeof(BranchLoc))
    cs.bseen = <unsigned char *>PyMem_Malloc(nb + 1)
    if cs.bslot == NULL or cs.unwind_lines == NULL or cs.blocs == NULL or cs.bseen == NULL:
        raise MemoryError()
    cs.nunits = n
    cs.nbranch = nb
    memset(cs.bseen, 0, nb + 1)
    for i in range(n + 1):
        cs.bslot[i] = -1
        cs.unwind_lines[i] = 0
    units = cm.unwind_lines
    for i in range(min(n, len(units))):
        cs.unwind_lines[i] = units[i]
    k = 0
    for off, info in cm.branches.items():
        b = &cs.blocs[k]
        b.dest0 = info[0]
        b.arc0 = <PyObject *>info[1] if info[1] is not None else NULL
        b.dest1 = info[2]
        b.arc1 = <PyObject *>info[3] if info[3] is not None else NULL
        b.need = info[4]
        if 0 <= off // 2 < n:
            cs.bslot[off // 2] = <int>k
        k += 1
    cs.need_branch = cm.need_branch
    cs.crumb_lines = cm.crumb_lines if cm.crumb_lines else None
    cs.crumb_jumps = cm.crumb_jumps if cm.crumb_jumps else None
    cs.cmap = cm     # keeps the arcs borrowed by blocs alive
    return 0


cdef inline int _add_arcs(CodeState cs, object arcs) except -1:
    """Add each arc of the tuple `arcs` to the file's set."""
    cdef Py_ssize_t i
    for i in range(len(<tuple>arcs)):
        PySet_Add(cs.file_data, (<tuple>arcs)[i])
    return 0


@cython.final
cdef class SysMonTracer(_TracerBase):
    """PEP 669 (``sys.monitoring``) tracer, Python 3.12+; measures every thread.

    ``SysMonTracer(data, should_trace, should_trace_cache, *, branch=False, warn=None)``

    In branch mode, what it records must be read with
    :func:`covcore.bytecode.resolve_arcs` (self-arcs, claims).
    """

    name = "sysmon"
    process_wide = True

    cdef int tool_id
    cdef object _disable
    cdef object _set_local_events
    cdef int _ev_line
    cdef int _ev_local_arcs     # LINE | JUMP | PY_RETURN
    cdef int _ev_branch
    cdef dict _local_codes      # id(code) -> code with local events set by us
    cdef dict _adopted          # id(frame) -> frame running at start() (branch)
    cdef dict _crumbs           # thread id -> (id(code), LINE offset) of its last crumb JUMP
    cdef object _cb_start
    cdef object _cb_line
    cdef object _cb_branch
    cdef object _cb_jump
    cdef object _cb_return
    cdef object _cb_unwind
    # How many callbacks of each kind ran (see event_counts()).
    cdef long n_start, n_line, n_branch, n_jump, n_return, n_unwind

    def __init__(self, data, should_trace, should_trace_cache, *, branch=False, warn=None):
        if _sysmon is None:
            raise CovcoreError(
                "The sysmon tracer needs sys.monitoring (Python 3.12+), not Python %d.%d"
                % sys.version_info[:2]
            )
        self._setup(data, should_trace, should_trace_cache, branch, warn)
        self.want_bitmap = False
        self.tool_id = -1
        self._disable = _sysmon.DISABLE
        self._set_local_events = _sysmon.set_local_events
        ev = _sysmon.events
        self._ev_line = ev.LINE
        self._ev_local_arcs = ev.LINE | ev.JUMP | ev.PY_RETURN
        self._ev_branch = ev.BRANCH
        self._local_codes = {}
        self._adopted = {}
        self._crumbs = {}
        self._cb_start = self._py_start
        self._cb_line = self._line_arcs if self.branch else self._line
        self._cb_branch = self._branch_event
        self._cb_jump = self._jump_event
        self._cb_return = self._return_event
        self._cb_unwind = self._unwind_event

    cdef int _enable_code(self, object code, CodeState cs) except -1:
        cdef int events = self._ev_line
        if self.branch:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            events = self._ev_local_arcs
            if cs.need_branch:
                events |= self._ev_branch
        self._set_local_events(self.tool_id, code, events)
        self._local_codes[id(code)] = code
        return 0

    cdef inline bint _adopted_frame(self, bint forget):
        """Is the running frame one that was already running at start()?"""
        cdef PyFrameObject *frame = PyEval_GetFrame()
        key = id(<object>frame) if frame != NULL else 0
        if key in self._adopted:
            if forget:
                del self._adopted[key]
            return True
        return False

    def _py_start(self, code, int offset):
        """PY_START / PY_RESUME: decide once per code object, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        self.n_start += 1
        if cs.measured:
            self.active = True
            if cs.local_epoch != _epoch and self.started:
                cs.local_epoch = _epoch
                self._enable_code(code, cs)
            if self.branch and cs.resume_arcs is not None:
                arcs = cs.resume_arcs.get(offset)
                if arcs is not None:
                    if self._adopted and self._adopted_frame(False):
                        return None
                    _add_arcs(cs, arcs)
        return self._disable

    def _line(self, code, line):
        """LINE (line mode; local, measured code only): record, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        self.n_line += 1
        if cs.measured:
            PySet_Add(cs.file_data, line)
            self.active = True
        return self._disable

    def _line_arcs(self, code, int line):
        """LINE (branch mode): record what this location stands for, DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef PyFrameObject *frame
        cdef int offset
        self.n_line += 1
        if not cs.measured:
            return self._disable
        if cs.cmap is None:
            _build_code_map(self, cs, code)
        self.active = True
        if self._adopted and self._adopted_frame(True):
            # Its first line after start(): no arc into it (as CTracer).
            PySet_Add(cs.file_data, (line, line))
            return None
        frame = PyEval_GetFrame()
        offset = covcore_frame_lasti(frame) if frame != NULL else -1
        arcs = cs.line_records.get(offset)
        if arcs is None:
            PySet_Add(cs.file_data, (line, line))
        else:
            _add_arcs(cs, arcs)
        if cs.crumb_lines is not None:
            arc = cs.crumb_lines.get(offset)
            if arc is not None:
                crumb = self._crumbs.pop(PyThread_get_thread_ident(), None)
                if crumb is not None and crumb == (id(code), offset):
                    # Came by a JUMP, which recorded its arc: stay on until
                    # the one other way here is seen.
                    return None
                PySet_Add(cs.file_data, arc)
                if cs.crumb_done is None:
                    cs.crumb_done = set()
                cs.crumb_done.add(offset)
        return self._disable

    def _branch_event(self, code, int src, int dst):
        """BRANCH: record the direction's arc; DISABLE once nothing is left to learn."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef BranchLoc *b
        cdef int k
        cdef unsigned char bit, seen
        cdef PyObject *arc
        self.n_branch += 1
        if not cs.measured:
            return self._disable
        if cs.cmap is None:
            _build_code_map(self, cs, code)
        if src < 0 or (src >> 1) >= cs.nunits:
            return self._disable
        k = cs.bslot[src >> 1]
        if k < 0:
            return self._disable
        b = &cs.blocs[k]
        if dst == b.dest0:
            bit = 1
            arc = b.arc0
        elif dst == b.dest1:
            bit = 2
            arc = b.arc1
        else:
            return None
        seen = cs.bseen[k]
        if not (seen & bit):
            if self._adopted and self._adopted_frame(False):
                return None
            if arc != NULL:
                PySet_Add(cs.file_data, <object>arc)
                self.active = True
            seen |= bit
            cs.bseen[k] = seen
        if ((seen | ~b.need) & 3) == 3:
            return self._disable
        return None

    def _jump_event(self, code, int src, int dst):
        """JUMP: record the arc of this jump, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        self.n_jump += 1
        if cs.measured:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            arc = cs.jump_arcs.get(src)
            if arc is not None:
                if self._adopted and self._adopted_frame(False):
                    return None
                PySet_Add(cs.file_data, arc)
                self.active = True
            if cs.crumb_jumps is not None:
                target = cs.crumb_jumps.get(src)
                if target is not None and (cs.crumb_done is None or target not in cs.crumb_done):
                    # Tell the LINE right after this jump where it came from.
                    self._crumbs[PyThread_get_thread_ident()] = (id(code), target)
                    return None
        return self._disable

    def _return_event(self, code, int offset, retval):
        """PY_RETURN: record the exit arc, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        self.n_return += 1
        if cs.measured:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            arc = cs.return_arcs.get(offset)
            if arc is not None:
                if self._adopted and self._adopted_frame(True):
                    return None
                PySet_Add(cs.file_data, arc)
                self.active = True
        return self._disable

    def _unwind_event(self, code, int offset, exc):
        """PY_UNWIND (global, can't be disabled): an exception leaves a frame."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef PyFrameObject *frame
        cdef int line
        self.n_unwind += 1
        if not cs.measured or cs.cmap is None:
            return None
        if offset < 0 or (offset >> 1) >= cs.nunits:
            return None
        line = cs.unwind_lines[offset >> 1]
        if line == 0:
            return None
        if self._adopted and self._adopted_frame(True):
            return None
        if cs.is_gen:
            # A generator closed at a yield: not a return (as CTracer).
            frame = PyEval_GetFrame()
            if frame != NULL and not _real_return(cs, frame):
                return None
        _record_arc(self, cs, line, -cs.first_line)
        return None

    def start(self):
        """Start measuring every thread; running frames from their next line."""
        global _epoch
        if self.started:
            return
        mon = _sysmon
        candidates = [mon.COVERAGE_ID, 3, 4, 2, 0, 5]
        for tool_id in candidates:
            if mon.get_tool(tool_id) is None:
                try:
                    mon.use_tool_id(tool_id, "covcore")
                except ValueError:
                    continue
                break
        else:
            raise CovcoreError(
                "No sys.monitoring tool id is free for covcore: ids 0-5 are used by %s"
                % ", ".join("%d=%s" % (i, mon.get_tool(i)) for i in range(6)),
                slug="no-tool-id",
            )
        self.tool_id = tool_id
        _epoch += 1
        self._local_codes = {}
        self._adopted = {}
        self.started = True
        events = mon.events
        try:
            # Frames already running (in every thread) never give a PY_START:
            # turn their line events on now.  Done before our callbacks are
            # registered, so should_trace's own code is not looked at.
            for frame in sys._current_frames().values():
                while frame is not None:
                    code = frame.f_code
                    cs = _lookup(self, <PyObject *>code)
                    if cs.measured:
                        if cs.local_epoch != _epoch:
                            cs.local_epoch = _epoch
                            self._enable_code(code, cs)
                        if self.branch:
                            self._adopted[id(frame)] = frame
                    frame = frame.f_back
            mon.register_callback(tool_id, events.PY_START, self._cb_start)
            mon.register_callback(tool_id, events.PY_RESUME, self._cb_start)
            mon.register_callback(tool_id, events.LINE, self._cb_line)
            wanted = events.PY_START | events.PY_RESUME
            if self.branch:
                mon.register_callback(tool_id, events.BRANCH, self._cb_branch)
                mon.register_callback(tool_id, events.JUMP, self._cb_jump)
                mon.register_callback(tool_id, events.PY_RETURN, self._cb_return)
                mon.register_callback(tool_id, events.PY_UNWIND, self._cb_unwind)
                wanted |= events.PY_UNWIND
            mon.set_events(tool_id, wanted)
            # Locations DISABLEd by an earlier session must fire again.
            mon.restart_events()
        except BaseException:
            self._shutdown()
            raise

    cdef void _shutdown(self):
        mon = _sysmon
        tool_id = self.tool_id
        events = mon.events
        self.started = False
        try:
            if mon.get_tool(tool_id) == "covcore":
                mon.set_events(tool_id, 0)
                for code in self._local_codes.values():
                    mon.set_local_events(tool_id, code, 0)
                for event in (
                    events.PY_START, events.PY_RESUME, events.LINE, events.BRANCH,
                    events.JUMP, events.PY_RETURN, events.PY_UNWIND,
                ):
                    mon.register_callback(tool_id, event, None)
                clear = getattr(mon, "clear_tool_id", None)
                if clear is not None:
                    clear(tool_id)
                mon.free_tool_id(tool_id)
        finally:
            self._local_codes = {}
            self._adopted = {}
            self._crumbs = {}
            self.tool_id = -1

    def stop(self):
        """Stop measuring: events off, callbacks unregistered, tool id freed."""
        if not self.started:
            return
        tool_id = self.tool_id
        owner = _sysmon.get_tool(tool_id)
        self._shutdown()
        self._release_states()
        if owner != "covcore" and self.warn is not None:
            self.warn(
                "Trace function changed, data is likely wrong: "
                "sys.monitoring tool id %d now belongs to %r" % (tool_id, owner),
                "trace-changed",
            )

    def restart(self):
        """Record every line (arc) again from now on, into the current data sets."""
        global _epoch
        _epoch += 1
        _sysmon.restart_events()

    def event_counts(self):
        """How many callbacks of each kind ran since this tracer was made
        (every thread), for tests and ``--debug``: each callback turns itself
        off once it can record nothing new, so these stay small."""
        return {
            "start": self.n_start,
            "line": self.n_line,
            "branch": self.n_branch,
            "jump": self.n_jump,
            "return": self.n_return,
            "unwind": self.n_unwind,
        }
