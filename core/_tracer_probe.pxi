# ProbeTracer: the fast path of Python 3.10 and 3.11.  Included by _tracer.pyx.
#
# Measured code objects are rewritten with self-removing probes (see
# covcore.probes for where they go and what they look like).  A probe calls
# _probe(), which records the probe's line and then overwrites the probe's
# first code unit with JUMP_FORWARD over the rest: each probe costs one call
# per session, and then one jump.  Nothing is traced, so 3.11's adaptive
# interpreter keeps every specialisation.

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    #define COVCORE_HAS_PROBES 1
    /* The live (adaptive) bytecode of a code object: what the interpreter
       runs.  Public struct in 3.11 (Include/cpython/code.h). */
    static CYTHON_INLINE unsigned char *covcore_code_units(PyObject *code) {
        return (unsigned char *)((PyCodeObject *)code)->co_code_adaptive;
    }
    static CYTHON_INLINE Py_ssize_t covcore_code_nunits(PyObject *code) {
        return Py_SIZE(code);
    }
    #elif PY_VERSION_HEX >= 0x030A0000 && PY_VERSION_HEX < 0x030B0000
    #define COVCORE_HAS_PROBES 1
    /* 3.10 runs co_code itself (a bytes object private to the code object
       the rewriter made), so that is where a probe turns into a jump. */
    static CYTHON_INLINE unsigned char *covcore_code_units(PyObject *code) {
        return (unsigned char *)PyBytes_AS_STRING(((PyCodeObject *)code)->co_code);
    }
    static CYTHON_INLINE Py_ssize_t covcore_code_nunits(PyObject *code) {
        return PyBytes_GET_SIZE(((PyCodeObject *)code)->co_code) / 2;
    }
    #else
    #define COVCORE_HAS_PROBES 0
    static CYTHON_INLINE unsigned char *covcore_code_units(PyObject *code) { return NULL; }
    static CYTHON_INLINE Py_ssize_t covcore_code_nunits(PyObject *code) { return 0; }
    #endif

    /* builtins.exec while the probe backend measures: hands a code object
       to the hook (which may return an instrumented copy), then calls the
       real exec.  A C function, so it adds no frame to tracebacks and exec's
       default globals are still the caller's. */
    static PyObject *covcore_orig_exec = NULL;
    static PyObject *covcore_exec_hook = NULL;

    static PyObject *covcore_exec(PyObject *self, PyObject *const *args,
                                  Py_ssize_t nargsf, PyObject *kwnames) {
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        if (covcore_orig_exec == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "covcore's exec wrapper has no exec to call");
            return NULL;
        }
        if (nargs >= 1 && covcore_exec_hook != NULL && PyCode_Check(args[0])) {
            PyObject *code = PyObject_CallOneArg(covcore_exec_hook, args[0]);
            if (code == NULL) {
                PyErr_WriteUnraisable(covcore_exec_hook);
            }
            else if (code != args[0]) {
                Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
                PyObject *small[8];
                PyObject **a = small;
                PyObject *res;
                Py_ssize_t i;
                if (total > 8) {
                    a = (PyObject **)PyMem_Malloc(total * sizeof(PyObject *));
                    if (a == NULL) { Py_DECREF(code); return PyErr_NoMemory(); }
                }
                a[0] = code;
                for (i = 1; i < total; i++) a[i] = args[i];
                res = PyObject_Vectorcall(covcore_orig_exec, a, nargs, kwnames);
                if (a != small) PyMem_Free(a);
                Py_DECREF(code);
                return res;
            }
            else {
                Py_DECREF(code);
            }
        }
        return PyObject_Vectorcall(covcore_orig_exec, args, nargs, kwnames);
    }

    static PyMethodDef covcore_exec_def = {
        "exec", (PyCFunction)(void (*)(void))covcore_exec, METH_FASTCALL | METH_KEYWORDS,
        "exec(source, /, globals=None, locals=None, *, closure=None)\\n--\\n\\n"
        "The built-in exec, wrapped by covcore while it measures: code objects of\\n"
        "measured files are instrumented with probes first."
    };

    static PyObject *covcore_new_exec(PyObject *orig, PyObject *hook) {
        PyObject *modname = PyUnicode_FromString("builtins");
        PyObject *f;
        if (modname == NULL) return NULL;
        f = PyCFunction_NewEx(&covcore_exec_def, NULL, modname);
        Py_DECREF(modname);
        if (f == NULL) return NULL;
        Py_XSETREF(covcore_orig_exec, Py_NewRef(orig));
        Py_XSETREF(covcore_exec_hook, Py_NewRef(hook));
        return f;
    }
    """
    int COVCORE_HAS_PROBES
    unsigned char *covcore_code_units(PyObject *code)
    Py_ssize_t covcore_code_nunits(PyObject *code)
    object covcore_new_exec(object orig, object hook)
    int PyCode_Addr2Line(PyObject *code, int byte_offset)

#: True when this build can run the probe backend (Python 3.10 or 3.11).
HAS_PROBES = bool(COVCORE_HAS_PROBES)

cdef int _PUSH_NULL = _opcode.opmap.get("PUSH_NULL", -1)
cdef int _EXTENDED_ARG = _opcode.opmap["EXTENDED_ARG"]
cdef int _JUMP_FORWARD = _opcode.opmap.get("JUMP_FORWARD", -1)

# The probe tracer now measuring (at most one per process), or None.
cdef ProbeTracer _probe_tracer = None
# Probes that fired and turned themselves into jumps: (code, unit, the
# unit's original two bytes) triples, to re-arm on start() and restart().
cdef list _fired = []
# The instrumenter (made on first use), and the exec wrapper.
cdef object _instrumenter = None
cdef object _exec_wrapper = None
cdef object _real_exec = None
# co_filename of every code object instrumented at exec time.
cdef set _instrumented_files = set()


# 3.11 quickens EXTENDED_ARG to EXTENDED_ARG_QUICK (opcode.opmap lacks the
# specialised opcodes; dis._all_opmap has them, placed as _extended_arg_quick
# places it without importing dis).
cdef int _EXTENDED_ARG_QUICK = _extended_arg_quick()
cdef int _LOAD_CONST = _opcode.opmap["LOAD_CONST"]
cdef int _POP_TOP_OP = _opcode.opmap["POP_TOP"]
cdef int _CALL_FUNCTION_OP = _opcode.opmap.get("CALL_FUNCTION", -1)


cdef int _extended_arg_quick():
    """EXTENDED_ARG_QUICK's number on 3.11 (-2 elsewhere)."""
    if sys.version_info[:2] != (3, 11):
        return -2
    return _all_opmap().get("EXTENDED_ARG_QUICK", -2)


cdef Py_ssize_t _probe_start(PyFrameObject *f, PyObject *code, unsigned char *units, Py_ssize_t n,
                             Py_ssize_t *end):
    """The first unit (PUSH_NULL) of the probe calling us from frame `f`, and
    (in `end`) the unit after its POP_TOP; -1 if this is not a probe.

    The frame's last instruction is the probe's CALL (or PRECALL, had that
    been specialised to make the call), a few units after its PUSH_NULL.
    A probe is PUSH_NULL, one or two LOAD_CONSTs (each maybe with
    EXTENDED_ARGs, which 3.11 quickens to EXTENDED_ARG_QUICK), PRECALL (+1
    cache unit), CALL (+4) and POP_TOP: its end is 8 units after the PRECALL.
    """
    cdef Py_ssize_t call = covcore_frame_lasti(f) // 2
    cdef Py_ssize_t start = -1, k, i
    cdef int op, nargs
    if units == NULL or call < 1 or call >= n:
        return -1
    if _PY310:
        # 1 + nargs LOAD_CONSTs (the probe, its arc), each maybe with
        # EXTENDED_ARGs, CALL_FUNCTION nargs (the frame's last instruction),
        # POP_TOP.  An EXTENDED_ARG only prefixes the instruction after it:
        # those before a LOAD_CONST are the probe's.
        nargs = units[2 * call + 1]
        if units[2 * call] != _CALL_FUNCTION_OP or nargs > 1 or call + 1 >= n \
                or units[2 * (call + 1)] != _POP_TOP_OP:
            return -1
        i = call
        for k in range(nargs + 1):
            i -= 1
            if i < 0 or units[2 * i] != _LOAD_CONST:
                return -1
            while i > 0 and units[2 * (i - 1)] == _EXTENDED_ARG:
                i -= 1
        end[0] = call + 2
        return i
    if call < 2:
        return -1
    for k in range(2, 10):
        if call - k >= 0 and units[2 * (call - k)] == _PUSH_NULL:
            start = call - k
            break
    if start < 0:
        return -1
    i = start + 1
    while i < call:
        op = units[2 * i]
        if op != _EXTENDED_ARG and op != _EXTENDED_ARG_QUICK and op != _LOAD_CONST:
            break
        i += 1
    if i + 8 > n or units[2 * (i + 7)] != _POP_TOP_OP:
        return -1
    end[0] = i + 8
    return start


cdef inline void _disarm(PyObject *code, unsigned char *units, Py_ssize_t start, Py_ssize_t end):
    """Turn the probe at `start` into a jump to `end` (remembered for _rearm)."""
    _fired.append((<object>code, start, units[2 * start] | (units[2 * start + 1] << 8)))
    units[2 * start + 1] = <unsigned char>(end - start - 1)
    units[2 * start] = <unsigned char>_JUMP_FORWARD


# Threads (idents) whose probe is deciding whether a code object is
# measured.  A probe that runs meanwhile on such a thread is covcore's own
# file selection running measured code (3.10's posixpath, under --pylib): a
# trace function isn't called there either, so it records nothing and stays
# armed (turning into a jump would lose the program's own run of the line).
cdef set _selecting = set()


cdef CodeState _probe_state(ProbeTracer t, PyObject *code):
    """The CodeState for a probe in `code`, or None when re-entered from
    covcore's own file selection on this thread."""
    cdef void *p = NULL
    cdef CodeState cs
    if _selecting and PyThread_get_thread_ident() in _selecting:
        return None
    if covcore_extra_index >= 0:
        covcore_get_extra(code, &p)
        if p != NULL:
            cs = <CodeState>p
            if cs.epoch == _epoch and cs.owner is t.data:
                return cs
    me = PyThread_get_thread_ident()
    _selecting.add(me)
    try:
        return t._slow_state(<object>code)
    finally:
        _selecting.discard(me)


cdef object _selecting_ask(ProbeTracer t, filename):
    """should_trace's answer for `filename`, asked with this thread's probes
    quiet (see _selecting)."""
    me = PyThread_get_thread_ident()
    if me in _selecting:
        return _ask_should_trace(t.should_trace, t.warn, filename)
    _selecting.add(me)
    try:
        return _ask_should_trace(t.should_trace, t.warn, filename)
    finally:
        _selecting.discard(me)


cdef int _probe_line(CodeState cs, PyObject *code, Py_ssize_t start) except? -2:
    """The line of the probe at code unit `start` of `code`: what
    PyCode_Addr2Line says.  On 3.11 read from cs.unit_lines, the line table
    decoded once per code object: PyCode_Addr2Line walks the table from its
    start at each call (94 M instructions of import-pip's probes, ~11 K each
    in long module bodies)."""
    if _LINETABLE_311:
        if cs.unit_lines == NULL:
            _compute_unit_lines(cs, <object>code)
        if start < cs.nunit_lines and cs.unit_lines[start] >= 0:
            return cs.unit_lines[start]
    return PyCode_Addr2Line(code, <int>(start * 2))


def _probe():
    """Called by a line probe: record its line, then turn it into a jump."""
    cdef PyFrameObject *f = PyEval_GetFrame()
    cdef PyObject *code
    cdef unsigned char *units
    cdef Py_ssize_t start, end = 0
    cdef ProbeTracer t = _probe_tracer
    cdef CodeState cs
    cdef int line
    if f == NULL:
        return None
    code = covcore_frame_code(f)
    units = covcore_code_units(code)
    start = _probe_start(f, code, units, covcore_code_nunits(code), &end)
    if start < 0:
        return None
    # Not measuring: the probe still becomes a jump (so code keeps its speed
    # after stop()); the next start() re-arms it.
    if t is not None and t.started:
        cs = _probe_state(t, code)
        if cs is None:
            return None
        if cs.measured:
            line = _probe_line(cs, code, start)
            # (Line probes met by a branch-mode session: "this line ran".)
            if t.branch:
                PySet_Add(cs.file_data, (line, line))
            else:
                PySet_Add(cs.file_data, line)
            t.active = True
    _disarm(code, units, start, end)
    return None


def _arc_probe(arc):
    """Called by an arc probe (branch mode): record `arc`, a (from, to)
    tuple of line numbers, then turn the probe into a jump."""
    cdef PyFrameObject *f = PyEval_GetFrame()
    cdef PyObject *code
    cdef unsigned char *units
    cdef Py_ssize_t start, end = 0
    cdef ProbeTracer t = _probe_tracer
    cdef CodeState cs
    if f == NULL:
        return None
    code = covcore_frame_code(f)
    units = covcore_code_units(code)
    start = _probe_start(f, code, units, covcore_code_nunits(code), &end)
    if start < 0:
        return None
    if t is not None and t.started:
        cs = _probe_state(t, code)
        if cs is None:
            return None
        if cs.measured:
            if t.branch:
                PySet_Add(cs.file_data, arc)
            else:
                # (Arc probes met by a line-mode session: both lines ran.)
                for line in arc:
                    if line > 0:
                        PySet_Add(cs.file_data, line)
            t.active = True
    _disarm(code, units, start, end)
    return None


cdef void _rearm():
    """Turn every fired probe back into its first unit (3.11: PUSH_NULL;
    3.10: LOAD_CONST or EXTENDED_ARG): it records again."""
    cdef unsigned char *units
    cdef Py_ssize_t start
    cdef int orig
    for code, pystart, pyorig in _fired:
        start = pystart
        orig = pyorig
        units = covcore_code_units(<PyObject *>code)
        if units != NULL and units[2 * start] == _JUMP_FORWARD:
            units[2 * start] = <unsigned char>(orig & 0xFF)
            units[2 * start + 1] = <unsigned char>(orig >> 8)
    del _fired[:]


def _exec_hook(code):
    """builtins.exec's hook: the code to run instead of `code`."""
    cdef ProbeTracer t = _probe_tracer
    if t is None or not t.started or _instrumenter.is_instrumented(code):
        return code
    filename = code.co_filename
    if not t.measures(filename):
        return code
    try:
        new = _instrumenter.instrument(code, t.branch)
    except Exception as exc:
        t._warn_once(
            "Couldn't instrument %s for the probe backend (%s: %s); it is not measured"
            % (filename, type(exc).__name__, exc)
        )
        return code
    _instrumented_files.add(filename)
    return new


@cython.final
cdef class ProbeTracer(_TracerBase):
    """The fast path of Python 3.10 and 3.11: measured code is instrumented with
    self-removing probes as it is executed (see :mod:`covcore.probes`; in
    branch mode, arc probes: :mod:`covcore.probearcs`).

    One tracer measures every thread.  Code already running when it starts
    is not measured until it is called again (the backend is not chosen when
    frames of measured files are running: see :mod:`covcore.backend`).
    """

    name = "probe"
    process_wide = True

    cdef set warned

    def __init__(self, data, should_trace, should_trace_cache, *, branch=False, warn=None):
        if not HAS_PROBES:
            raise CovcoreError("The probe backend needs Python 3.10 or 3.11")
        self._setup(data, should_trace, should_trace_cache, branch, warn)
        self.warned = set()

    cpdef bint measures(self, filename):
        """Does this tracer measure code from the file `filename` (a co_filename)?"""
        canonical = self.should_trace_cache.get(filename, _MISSING)
        if canonical is _MISSING:
            canonical = _selecting_ask(self, filename)
            self.should_trace_cache[filename] = canonical
        return canonical is not None

    def _warn_once(self, message):
        if self.warn is not None and message not in self.warned:
            self.warned.add(message)
            self.warn(message, "cant-instrument")

    def start(self):
        """Start measuring: instrument code as it is executed, and the
        functions of measured modules imported before now."""
        global _epoch, _probe_tracer, _instrumenter, _exec_wrapper, _real_exec
        if self.started:
            return
        _epoch += 1
        _rearm()
        if _instrumenter is None:
            from covcore.probes import Instrumenter
            _instrumenter = Instrumenter(_probe, _arc_probe)
        import builtins
        if _exec_wrapper is None:
            _real_exec = builtins.exec
            _exec_wrapper = covcore_new_exec(_real_exec, _exec_hook)
        if builtins.exec is not _exec_wrapper:
            builtins.exec = _exec_wrapper
        _probe_tracer = self
        self.started = True
        self._sweep()

    def _sweep(self):
        """Instrument the functions of measured modules imported before now.

        Asking should_trace about a file usually means its code is running;
        here it is not, so what the sweep asks is kept out of the shared
        cache, and the selection's record of packages seen (coverage.py's
        "module-not-measured" warning) is left as it was.
        """
        from covcore.probes import modules_needing_sweep
        selection = getattr(self.should_trace, "__self__", None)
        seen = getattr(selection, "pkgs_seen", None)
        before = set(seen) if isinstance(seen, set) else None
        answers = {}

        def measured(filename):
            canonical = answers.get(filename, _MISSING)
            if canonical is _MISSING:
                canonical = self.should_trace_cache.get(filename, _MISSING)
                if canonical is _MISSING:
                    canonical = _selecting_ask(self, filename)
                answers[filename] = canonical
            return canonical is not None

        try:
            if modules_needing_sweep(measured, _instrumented_files):
                _instrumenter.sweep(measured, self.branch)
        finally:
            if before is not None:
                seen.intersection_update(before)

    def stop(self):
        """Stop measuring.  Probes stay in the code; until the next start()
        one that runs records nothing and turns into a jump."""
        global _probe_tracer
        if not self.started:
            return
        self.started = False
        if _probe_tracer is self:
            _probe_tracer = None
            import builtins
            if builtins.exec is _exec_wrapper and _real_exec is not None:
                builtins.exec = _real_exec
        self._release_states()

    def restart(self):
        """Record every line again from now on, into the current data sets."""
        global _epoch
        _epoch += 1
        _rearm()


def _opcode_numbers_for_tests():
    """Opcode numbers the probe backend computed at import (tests compare them
    with dis's)."""
    return {"EXTENDED_ARG_QUICK": _EXTENDED_ARG_QUICK}
