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
from cpython.exc cimport PyErr_WriteUnraisable
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.string cimport memset, strlen, memcpy
from libc.stdint cimport uint64_t, uint32_t
from libc.limits cimport INT_MIN, INT_MAX

import sys
from types import FrameType as _FrameType


def _opcode_tables():
    """The opcode tables of this Python: ``covcore._opcodes3XY`` (written by
    ``ci/gen_opcode_tables.py`` from the ``opcode`` module) if its bytecode
    magic number is this interpreter's, else the ``opcode`` module itself.

    ``import opcode`` costs 3.2 M instructions (3.12) in a measured process
    whose program doesn't import it (or ``dis``) itself; the table module
    costs 0.9 M."""
    try:
        tables = __import__("covcore._opcodes%d%d" % sys.version_info[:2], None, None, ["opmap"])
        if tables.MAGIC_NUMBER == sys.modules["_frozen_importlib_external"].MAGIC_NUMBER:
            return tables
    except (ImportError, AttributeError, KeyError):
        pass
    import opcode
    return opcode


_opcode = _opcode_tables()


cdef dict _all_opmap():
    """``opmap`` with the specialised opcodes (3.11, 3.12) added, placed as
    dis places them in ``_all_opmap``: in the empty (``<N>``) slots of
    ``opname``, in the order of ``_specialized_instructions``."""
    allmap = dict(_opcode.opmap)
    empty = [slot for slot, name in enumerate(_opcode.opname) if name.startswith("<")]
    for slot, name in zip(empty, getattr(_opcode, "_specialized_instructions", ())):
        allmap[name] = slot
    return allmap

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

    /* Public fields of every code object (3.10-3.13), without the
       attribute lookups _init_state would make for each code object. */
    static CYTHON_INLINE PyObject *covcore_code_filename(PyObject *code) {
        return ((PyCodeObject *)code)->co_filename;
    }
    static CYTHON_INLINE int covcore_code_firstlineno(PyObject *code) {
        return ((PyCodeObject *)code)->co_firstlineno;
    }
    static CYTHON_INLINE int covcore_code_co_flags(PyObject *code) {
        return ((PyCodeObject *)code)->co_flags;
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
    PyObject *covcore_code_filename(PyObject *code)
    int covcore_code_firstlineno(PyObject *code)
    int covcore_code_co_flags(PyObject *code)

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
# (opcode, not dis: dis imports collections, io and more, 1 ms of every start)
cdef int _RESUME = _opcode.opmap.get("RESUME", -1)
# Python 3.11+ code objects have the location table of Objects/locations.md.
cdef bint _LINETABLE_311 = sys.version_info >= (3, 11)
# Code objects carry the index of their first RESUME (_co_firsttraceable,
# read by covcore_first_resume_end): 3.12+.
cdef bint _HAS_FIRSTTRACEABLE = sys.version_info >= (3, 12)
cdef bint _PY310 = sys.version_info[:2] == (3, 10)
cdef int _YIELD_VALUE = _opcode.opmap.get("YIELD_VALUE", -1)
cdef int _YIELD_FROM = _opcode.opmap.get("YIELD_FROM", -1)
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


include "_tracer_codestate.pxi"     # CodeState, line bitmaps
include "_tracer_services.pxi"
include "_tracer_sqlite.pxi"       # covcore.sqlitewrite's records and varints
include "_tracer_sigterm.pxi"


def untracked_copies(dict data):
    """``{name: set(items)}`` for a tracer's data dict (``{file name: set of
    lines or arcs}``), each new set left out of the cyclic collector's lists,
    as the tracers' own sets are (they hold ints and tuples of ints only).
    The collector hands these to CoverageData, which keeps them until the
    process ends; tracked, each full collection would visit every entry."""
    cdef dict out = {}
    for name, items in list(data.items()):
        copy = set(items)
        PyObject_GC_UnTrack(<void *>copy)
        out[name] = copy
    return out


def countable_lines(code):
    """The lines of `code` (a code object) that line mode counts before it
    calls the code object complete, as a sorted list of 1-based line numbers:
    those of ``code.co_lines()`` outside the prologue up to the first
    ``RESUME``.  For tests."""
    cdef CodeState cs = CodeState.__new__(CodeState)
    _compute_lines(cs, code)
    if cs.seen == NULL:
        return []
    return [cs.base + i for i in range(cs.nlines) if cs.seen[i] == 0]


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
    # The file selection's short way, taken here (set_fast_rules()):
    cdef bint has_fast
    cdef bint fast_omit
    cdef dict fast_dirs         # directory name -> real path (covcore.files._REAL_DIRS)
    cdef dict fast_by_dir       # real directory -> are its files measured
    cdef object fast_excluded   # names should_trace itself must decide

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
        # (data and should_trace_cache are dicts: _setup checks.  Read with
        # the dict C API and the code object's fields, not method calls and
        # attribute lookups: this runs for every code object that runs.)
        cdef object filename = <object>covcore_code_filename(<PyObject *>code)
        cdef object canonical = self._known_decision(filename)
        if canonical is _MISSING:
            canonical = _ask_should_trace(self.should_trace, self.warn, filename)
            (<dict>self.should_trace_cache)[filename] = canonical
            _watch_decided()    # the code watcher's "not decided yet" may be stale now
        cs.release()
        if canonical is not None:
            file_data = (<dict>self.data).get(canonical)
            if file_data is None:
                file_data = set()
                # Only ints (lines) or tuples of two ints (arcs) go in: no
                # cycle can run through it, so the cyclic collector needn't
                # visit its thousands of entries at every full collection
                # (sets, unlike tuples and dicts, are never untracked by
                # CPython itself).
                PyObject_GC_UnTrack(<void *>file_data)
                (<dict>self.data)[canonical] = file_data
            cs.file_data = file_data
            cs.measured = True
            cs.first_line = covcore_code_firstlineno(<PyObject *>code)
            cs.is_gen = (covcore_code_co_flags(<PyObject *>code) & _GEN_FLAGS) != 0
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

    def set_fast_rules(self, rules):
        """Decide files as ``Selector.should_trace`` does by its short way,
        without calling it, where the answer is known: `rules` is what
        ``Selector.fast_rules()`` returns, ``(known directories, measured by
        real directory, names should_trace must decide, whether omit patterns
        are set)``, all read live; None turns this off.  A file whose
        directory was decided before is then one ``lstat`` and a few lookups
        (~3.5 K instructions, against ~6.7 K through should_trace, 3.12)."""
        if rules is None:
            self.has_fast = False
            return
        dirs, by_dir, excluded, omit = rules
        if not isinstance(dirs, dict) or not isinstance(by_dir, dict):
            raise TypeError("fast rules need two dicts")
        self.fast_dirs = dirs
        self.fast_by_dir = by_dir
        self.fast_excluded = excluded
        self.fast_omit = bool(omit)
        self.has_fast = True

    def _fast_decision_for_tests(self, str filename):
        """What set_fast_rules()'s short way says of `filename`: the
        canonical name or None, or ``"<ask>"`` when should_trace must."""
        decided = self._fast_decide(filename) if self.has_fast else _MISSING
        return "<ask>" if decided is _MISSING else decided

    cdef object _known_decision(self, object filename):
        """should_trace(filename) as far as it is known without calling it:
        from its cache, or by the short way (set_fast_rules(); the answer
        then goes into the cache); _MISSING if it must be asked."""
        decided = (<dict>self.should_trace_cache).get(filename, _MISSING)
        if decided is _MISSING and self.has_fast and type(filename) is str:
            decided = self._fast_decide(<str>filename)
            if decided is not _MISSING:
                (<dict>self.should_trace_cache)[filename] = decided
        return decided

    cdef object _fast_decide(self, str filename):
        """should_trace(filename) by the short way, or _MISSING: ask it."""
        cdef Py_ssize_t n = len(filename)
        if n < 4 or PyUnicode_Tailmatch(filename, u".py", n - 3, n, 1) != 1:
            return _MISSING
        found = _real_file_in_known_dir(self.fast_dirs, filename)
        if found is None:
            return _MISSING
        real_dir, canonical = <tuple>found
        if canonical in self.fast_excluded:
            return _MISSING
        measured = self.fast_by_dir.get(real_dir)
        if measured is None:
            return _MISSING
        if not measured:
            return None
        if self.fast_omit:
            return _MISSING
        return canonical

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


include "_tracer_ctrace.pxi"
include "_tracer_arcs.pxi"
include "_tracer_bytecode.pxi"
include "_tracer_bytecode_map.pxi"
include "_tracer_requicken.pxi"
include "_tracer_sysmon_map.pxi"
include "_tracer_sysmon_skip.pxi"
include "_tracer_sysmon_lines.pxi"
include "_tracer_sysmon.pxi"
include "_tracer_sysmon_straight.pxi"
include "_tracer_sysmon_callbacks.pxi"
include "_tracer_probe.pxi"
include "_tracer_positions.pxi"    # source positions of code units, location tables
include "_tracer_rewrite.pxi"
include "_tracer_rewrite_arcs.pxi"
