# Included by _tracer.pyx (one extension module, split for reading), after
# _tracer_sysmon.pxi: SysMonTracer's straight-line code objects (line mode).
#
# A code object with no jump instruction, no exception table and no
# generator flag runs from its first instruction to its last, in order, or
# until an exception leaves it.  Line mode measures module and class bodies
# of that kind without any event of their own:
#
# * the builtins that run module and class bodies, exec() and
#   __build_class__(), are wrapped while covcore measures (in C: no frame of
#   their own, nothing else changes).  Only code objects whose first frame
#   was started by one of the two wrappers are measured this way
#   (covcore_st_entering), and they get no local events at all: no
#   _Py_Instrument pass, no callback.
# * when the wrapper's call returns, the body ran to its end: every line of
#   the code object is recorded (_straight_done; a body that runs again finds
#   them recorded, one comparison).
# * an exception leaving it passes the wrapper too: the exception's
#   traceback says, for each straight frame it left, the instruction that
#   raised (tb_lasti), and the lines up to it are recorded
#   (_straight_exception).  (The global PY_UNWIND event would see every
#   frame, but it costs ~450 instructions for every frame any exception
#   leaves, anywhere: +30% for code that raises through small functions.)
# * record_running() (the collector calls it before it reads the data sets:
#   saving, get_data(), a context switch) and stop() record, for each
#   straight frame still running (any thread), the lines up to its current
#   instruction (f_lasti).  restart() (a new context) then keeps each such
#   frame as "partial" and gives its code object a local PY_RETURN: that
#   event (or an exception) records only the lines LINE events would have
#   given after that instruction (line starts, _record_units with
#   starts_only), and the wrapper leaves code with local events to it.
# * a body an exception left gets a local PY_RETURN as well, so that a later
#   run of it that no wrapper starts (eval() of the same code object) is
#   still recorded when it returns.
#
# These are the lines LINE events record: in straight code every line that
# co_lines() names past the RESUME prefix has an instruction that runs once
# the frame gets past it, and nothing else can run.  Frames already running
# at start() are measured with LINE events as before (cs.straight = 0 for
# their code, kept for the code object's life): the lines they ran before
# start() must not be recorded.  Module bodies are nearly all straight (117
# of pip's 147, and all 235 of its class bodies).

cdef extern from *:
    """
    /* The builtins exec() and __build_class__() while sysmon line mode
       measures straight code: each notes, for its thread, the code object
       it is about to run (covcore_st_entering: compared by identity only);
       when the call returns, it hands that code object to covcore_st_done,
       and an exception coming out of it to the hook with the exception set
       aside, then restores it. */
    static _Thread_local PyObject *covcore_st_entering = NULL;
    static PyObject *covcore_st_orig[2] = {NULL, NULL};
    static PyObject *covcore_st_hook = NULL;
    static void (*covcore_st_done)(PyObject *) = NULL;

    static void covcore_st_set_done(void (*done)(PyObject *)) {
        covcore_st_done = done;
    }

    static PyObject *covcore_st_call(int which, PyObject *code, PyObject *const *args,
                                     size_t nargsf, PyObject *kwnames) {
        PyObject *prev, *res;
        if (covcore_st_orig[which] == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "covcore's wrapper has no builtin to call");
            return NULL;
        }
        prev = covcore_st_entering;
        covcore_st_entering = code;
        Py_XINCREF(code);
        res = PyObject_Vectorcall(covcore_st_orig[which], args, nargsf, kwnames);
        covcore_st_entering = prev;
    #if PY_VERSION_HEX >= 0x030C0000
        if (res != NULL && code != NULL && covcore_st_done != NULL) {
            covcore_st_done(code);
        }
        Py_XDECREF(code);
        if (res == NULL && covcore_st_hook != NULL) {
            PyObject *exc = PyErr_GetRaisedException();
            if (exc != NULL) {
                PyObject *r = PyObject_CallOneArg(covcore_st_hook, exc);
                if (r == NULL) PyErr_WriteUnraisable(covcore_st_hook);
                Py_XDECREF(r);
                PyErr_SetRaisedException(exc);
            }
        }
    #else
        Py_XDECREF(code);
    #endif
        return res;
    }

    static PyObject *covcore_st_exec(PyObject *self, PyObject *const *args,
                                     size_t nargsf, PyObject *kwnames) {
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        return covcore_st_call(0, (nargs >= 1 && PyCode_Check(args[0])) ? args[0] : NULL,
                               args, nargsf, kwnames);
    }

    static PyObject *covcore_st_build_class(PyObject *self, PyObject *const *args,
                                            size_t nargsf, PyObject *kwnames) {
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        return covcore_st_call(1, (nargs >= 1 && PyFunction_Check(args[0]))
                                      ? PyFunction_GET_CODE(args[0]) : NULL,
                               args, nargsf, kwnames);
    }

    static PyMethodDef covcore_st_defs[2] = {
        {"exec", (PyCFunction)(void (*)(void))covcore_st_exec, METH_FASTCALL | METH_KEYWORDS,
         "exec(source, /, globals=None, locals=None, *, closure=None)\\n--\\n\\n"
         "The built-in exec, wrapped by covcore while it measures lines."},
        {"__build_class__", (PyCFunction)(void (*)(void))covcore_st_build_class,
         METH_FASTCALL | METH_KEYWORDS,
         "__build_class__(func, name, /, *bases, [metaclass], **kwds) -> class\\n\\n"
         "The built-in __build_class__, wrapped by covcore while it measures lines."},
    };

    /* The wrapper of builtin `which` (0 exec, 1 __build_class__) around `orig`. */
    static PyObject *covcore_st_wrapper(int which, PyObject *orig, PyObject *hook) {
        PyObject *modname = PyUnicode_FromString("builtins");
        PyObject *f;
        if (modname == NULL) return NULL;
        f = PyCFunction_NewEx(&covcore_st_defs[which], NULL, modname);
        Py_DECREF(modname);
        if (f == NULL) return NULL;
        Py_XSETREF(covcore_st_orig[which], Py_NewRef(orig));
        Py_XSETREF(covcore_st_hook, Py_XNewRef(hook));
        return f;
    }

    static CYTHON_INLINE int covcore_st_is_entering(PyObject *code) {
        return covcore_st_entering == code;
    }
    """
    object covcore_st_wrapper(int which, object orig, object hook)
    int covcore_st_is_entering(PyObject *code)
    void covcore_st_set_done(void (*done)(PyObject *) noexcept)


cdef unsigned char _st_jump[256]
cdef int _straight_policy = 0     # 0: straight code takes no event; 1: LINE events as all code (tests)


cdef void _st_init_tables() except *:
    cdef int op
    memset(_st_jump, 0, 256)
    for attr in ("hasjrel", "hasjabs", "hasjump"):
        for op in getattr(_opcode, attr, ()):
            if 0 <= op < 256:
                _st_jump[op] = 1


if _sysmon is not None:
    _st_init_tables()


def _set_straight_policy_for_tests(int policy):
    """0: straight-line module and class bodies started by exec() or
    __build_class__ are recorded by their wrappers (the default); 1: with LINE
    or INSTRUCTION events, as other code (the reference the tests compare
    against)."""
    global _straight_policy
    _straight_policy = policy


def is_straight_code(code):
    """Is `code` (a code object) straight-line code: no jump instruction, no
    exception table, not a generator, coroutine or async generator?  (Python
    3.12+; False before.)  SysMonTracer's line mode measures such a module
    or class body without events when exec() or __build_class__ starts it."""
    if _sysmon is None:
        return False
    return _is_straight(code)


cdef bint _is_straight(object code) except -1:
    """No jumps, no exception table, no generator flags (see is_straight_code)."""
    cdef bytes co_obj
    cdef const unsigned char *co
    cdef Py_ssize_t n, u = 0
    if covcore_code_co_flags(<PyObject *>code) & (_GEN_FLAGS | 0x100):   # | CO_ITERABLE_COROUTINE
        return False
    if len(code.co_exceptiontable):
        return False
    co_obj = code.co_code
    co = co_obj
    n = len(co_obj) // 2
    while u < n:
        if _st_jump[co[2 * u]]:
            return False
        u += 1 + _bc_ncaches[co[2 * u]]
    return True


cdef inline CodeState _st_peek(PyObject *code):
    """The CodeState hung on `code` if it is straight code, else None: no
    state is made (the wrappers' tracebacks hold any frames)."""
    cdef void *p = NULL
    cdef CodeState cs
    if covcore_extra_index < 0:
        return None
    covcore_get_extra(code, &p)
    if p == NULL:
        return None
    cs = <CodeState>p
    return cs if cs.straight == 1 else None


cdef CodeState _st_state(SysMonTracer t, object code):
    """The valid CodeState of `code` if it is measured straight code, else
    None (and no state made)."""
    cdef CodeState cs
    if _st_peek(<PyObject *>code) is None:
        return None
    cs = _lookup(t, <PyObject *>code)
    return cs if cs.measured else None


cdef int _record_units(SysMonTracer t, CodeState cs, object code, Py_ssize_t after, Py_ssize_t upto,
                       bint starts_only) except -1:
    """Record the lines of code units after..upto (inclusive; `after` -1:
    from the start).  With `starts_only`, only where the line changes from
    the unit before, as LINE events fire once the unit at `after` has run."""
    cdef Py_ssize_t u
    cdef int line, prev, idx
    if cs.file_data is None:
        return 0
    _line_bitmap(cs, code)
    if cs.unit_lines == NULL:
        _compute_unit_lines(cs, code)
    if upto >= cs.nunit_lines:
        upto = cs.nunit_lines - 1
    prev = cs.unit_lines[after] if starts_only and 0 <= after < cs.nunit_lines else -2
    for u in range(after + 1, upto + 1):
        line = cs.unit_lines[u]
        if line >= 0 and (not starts_only or line != prev):
            idx = line - cs.base
            if cs.seen != NULL and 0 <= idx < cs.nlines:
                if cs.seen[idx] == 0:
                    cs.seen[idx] = 1
                    if cs.left > 0:
                        cs.left -= 1
                    PySet_Add(cs.file_data, line)
                    t.active = True
            else:
                PySet_Add(cs.file_data, line)
                t.active = True
        prev = line
    return 0


cdef int _record_reached(SysMonTracer t, CodeState cs, object code, object entry,
                         Py_ssize_t unit) except -1:
    """A frame of `code` has reached code unit `unit`: record the lines up to
    it, or with `entry` (its partial-frame entry) only the line starts since
    the entry's unit, as LINE events would give them."""
    if entry is not None:
        _record_units(t, cs, code, entry[1], unit, True)
    elif cs.left != -2 and unit > cs.straight_upto:
        _record_units(t, cs, code, cs.straight_upto, unit, False)
        cs.straight_upto = unit
    return 0


cdef int _record_all(SysMonTracer t, CodeState cs, object code) except -1:
    """A frame of straight `code` ran to its end: record all its lines."""
    cdef int idx
    if _line_bitmap(cs, code) and cs.left != -2:     # (made again after an epoch change)
        for idx in range(cs.nlines):
            if cs.seen[idx] == 0:
                cs.seen[idx] = 1
                PySet_Add(cs.file_data, cs.base + idx)
        t.active = True
    cs.left = -2
    return 0


cdef void _straight_done(PyObject *code) noexcept:
    """The wrappers' exec() or __build_class__() call that started `code`
    (a code object) returned: if it is measured straight code without local
    events, it ran to its end; record all its lines."""
    cdef SysMonTracer t = _st_tracer
    cdef CodeState cs
    if t is None or not t.started:
        return
    cs = _st_peek(code)
    if cs is None or (cs.left == -2 and cs.epoch == _epoch and cs.owner is t.data):
        return      # not straight, or recorded already this epoch
    try:
        if id(<object>code) in t._local_codes:
            return      # its PY_RETURN records it (partial frames; see restart())
        cs = _lookup(t, code)
        if cs.measured and cs.straight == 1:
            t.n_straight += 1
            _record_all(t, cs, <object>code)
    except BaseException:
        PyErr_WriteUnraisable(<object>code)


if _sysmon is not None:
    covcore_st_set_done(_straight_done)


cdef int _st_return_events(SysMonTracer t, object code) except -1:
    """Give straight `code` a local PY_RETURN (see the top of this file)."""
    if id(code) in t._local_codes:
        return 0
    return t._set_code_events(code, t._ev_return)


cdef object _straight_return(SysMonTracer t, object code, int offset):
    """PY_RETURN of a straight module or class body that has local events
    (partial frames at a restart(), or left by an exception before): record
    all its lines, or a partial frame's, then DISABLE once no partial frame
    is left."""
    cdef CodeState cs = _lookup(t, <PyObject *>code)
    cdef PyFrameObject *frame
    t.n_return += 1
    if not cs.measured or cs.straight != 1:
        return t._disable
    if t._partial:
        frame = PyEval_GetFrame()
        if frame != NULL:
            entry = t._partial.pop(id(<object>frame), None)
            if entry is not None:
                _record_reached(t, cs, code, entry, covcore_code_size(<PyObject *>code))
                return None     # other frames of it may still need the event
    _record_all(t, cs, code)
    return t._disable


# The sysmon tracer measuring straight code now (at most one), and the two
# wrappers (made on first use) with the builtins they replaced.
cdef SysMonTracer _st_tracer = None
cdef object _st_wrappers = None
cdef object _st_originals = None


def _straight_exception(exc):
    """The wrappers' hook: `exc` (an exception) came out of exec() or
    __build_class__(); record, for each frame of measured straight code its
    traceback passes (any depth: nested imports, class bodies), the lines up
    to the instruction that raised (tb_lasti)."""
    cdef SysMonTracer t = _st_tracer
    cdef CodeState cs
    if t is None or not t.started:
        return
    tb = getattr(exc, "__traceback__", None)
    while tb is not None:
        frame = tb.tb_frame
        cs = _st_state(t, frame.f_code)
        if cs is not None and tb.tb_lasti >= 0:
            entry = t._partial.pop(id(frame), None) if t._partial else None
            _record_reached(t, cs, frame.f_code, entry, tb.tb_lasti >> 1)
            _st_return_events(t, frame.f_code)
        tb = tb.tb_next


cdef int _st_install(SysMonTracer t) except -1:
    """Wrap builtins.exec and builtins.__build_class__ for `t` (start())."""
    global _st_tracer, _st_wrappers, _st_originals
    import builtins
    current = (builtins.exec, builtins.__build_class__)
    # The wrappers made before serve while the builtins are the ones they
    # wrap (or still the wrappers themselves).
    if current != _st_wrappers and current != _st_originals:
        _st_originals = current
        _st_wrappers = (covcore_st_wrapper(0, current[0], _straight_exception),
                        covcore_st_wrapper(1, current[1], _straight_exception))
    builtins.exec, builtins.__build_class__ = _st_wrappers
    _st_tracer = t
    return 0


cdef int _st_uninstall(SysMonTracer t) except -1:
    """Give builtins their exec and __build_class__ back, where they are
    still ours (a program that replaced them since keeps its own)."""
    global _st_tracer
    import builtins
    if _st_tracer is t:
        _st_tracer = None
    if _st_wrappers is not None:
        if builtins.exec is _st_wrappers[0]:
            builtins.exec = _st_originals[0]
        if builtins.__build_class__ is _st_wrappers[1]:
            builtins.__build_class__ = _st_originals[1]
    return 0


cdef int _straight_frames(SysMonTracer t, bint record, bint keep) except -1:
    """For every running frame of measured straight code (any thread): with
    `record`, record the lines it has reached (since it became partial, if it
    is); with `keep` (restart), remember it as partial from where it is now.
    (_shutdown forgets the partial frames.)"""
    cdef CodeState cs
    cdef Py_ssize_t lasti
    for frame in sys._current_frames().values():
        while frame is not None:
            cs = _st_state(t, frame.f_code)
            lasti = frame.f_lasti
            if cs is not None and lasti >= 0:
                if record:
                    _record_reached(t, cs, frame.f_code, t._partial.get(id(frame)), lasti >> 1)
                if keep:
                    t._partial[id(frame)] = (frame, lasti >> 1)
                    _st_return_events(t, frame.f_code)
            frame = frame.f_back
    return 0
