# Included by _tracer.pyx (one extension module, split for reading), after
# _tracer_sysmon.pxi: SysMonTracer's straight-line code objects (line mode).
#
# A code object with no jump instruction, no exception table and no
# generator flag runs from its first instruction to its last, in order, or
# until an exception leaves it.  Line mode measures such code with one event
# instead of one per line (LINE) or per instruction (INSTRUCTION):
#
# * its local PY_RETURN records every line of the code object (a frame that
#   returns ran them all), then turns the code's events off (functions) or
#   DISABLEs itself (module and class bodies, which run once);
# * the global PY_UNWIND (an exception leaves a frame) records the lines of
#   the instructions up to the one that raised;
# * record_running() (the collector calls it before it reads the data sets:
#   saving, get_data(), a context switch) and stop() record, for each
#   straight frame still running (any thread), the lines up to its current
#   instruction (f_lasti).  restart() (a new context) then keeps each such
#   frame as "partial": its PY_RETURN or PY_UNWIND records only the lines
#   LINE events would have given after that instruction (line starts,
#   _record_units with starts_only).
#
# These are the lines LINE events record: in straight code every line that
# co_lines() names past the RESUME prefix has an instruction that runs once
# the frame gets past it, and nothing else can run.  Frames already running
# at start() are measured with LINE events as before (cs.straight = 0 for
# their code, kept for the code object's life): the lines they ran before
# start() must not be recorded.  Module bodies are nearly all straight (117
# of pip's 147, and all 235 of its class bodies): importing pip._internal
# (3.12) gives 361 PY_RETURN and 3,733 LINE and INSTRUCTION events, instead
# of 17,875 LINE and INSTRUCTION events, for the same 5,890 lines.

cdef unsigned char _st_jump[256]
cdef int _straight_policy = 0     # 0: straight code takes PY_RETURN; 1: never (tests)


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
    """0: straight-line code objects are measured with PY_RETURN and
    PY_UNWIND (the default); 1: with LINE or INSTRUCTION events, as other
    code (the reference the tests compare against)."""
    global _straight_policy
    _straight_policy = policy


def is_straight_code(code):
    """Is `code` (a code object) straight-line code, as SysMonTracer's line
    mode sees it: no jump instruction, no exception table, not a generator,
    coroutine or async generator?  (Python 3.12+; False before.)"""
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
    state is made (PY_UNWIND comes from every code object)."""
    cdef void *p = NULL
    cdef CodeState cs
    if covcore_extra_index < 0:
        return None
    covcore_get_extra(code, &p)
    if p == NULL:
        return None
    cs = <CodeState>p
    return cs if cs.straight == 1 else None


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
    for u in range(after + 1 if after >= 0 else 0, upto + 1):
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


cdef object _straight_return(SysMonTracer t, object code, int offset):
    """PY_RETURN of straight code (line mode): record all its lines."""
    cdef CodeState cs = _lookup(t, <PyObject *>code)
    cdef PyFrameObject *frame
    cdef int idx
    t.n_return += 1
    if not cs.measured or cs.straight != 1:
        return t._disable
    if t._partial:
        frame = PyEval_GetFrame()
        if frame != NULL:
            entry = t._partial.pop(id(<object>frame), None)
            if entry is not None:
                _record_units(t, cs, code, entry[1], covcore_code_size(<PyObject *>code), True)
                return None     # other frames of it may still need the event
    if _line_bitmap(cs, code) and cs.left != -2:     # (made again after an epoch change)
        for idx in range(cs.nlines):
            if cs.seen[idx] == 0:
                cs.seen[idx] = 1
                PySet_Add(cs.file_data, cs.base + idx)
        t.active = True
    cs.left = -2
    if not (covcore_code_co_flags(<PyObject *>code) & 0x1):  # not CO_OPTIMIZED
        return t._disable   # a module or class body runs once (see _record_line)
    if t._get_tool(t.tool_id) != "covcore":
        return None
    t.n_complete += 1
    t._set_local_events(t.tool_id, code, 0)
    t._completed[id(code)] = code
    if _REQUICKEN:
        _requicken(code)
    return None


cdef object _straight_unwind(SysMonTracer t, object code, int offset):
    """PY_UNWIND (line mode; global, can't be disabled): an exception leaves
    a frame; for straight code, record the lines up to where it was raised."""
    cdef CodeState cs = _st_peek(<PyObject *>code)
    cdef PyFrameObject *frame
    cdef Py_ssize_t after = -1
    if cs is None:
        return None
    cs = _lookup(t, <PyObject *>code)
    t.n_unwind += 1
    if not cs.measured or offset < 0:
        return None
    if t._partial:
        frame = PyEval_GetFrame()
        if frame != NULL:
            entry = t._partial.pop(id(<object>frame), None)
            if entry is not None:
                _record_units(t, cs, code, entry[1], offset >> 1, True)
                return None
    if cs.left != -2:
        _record_units(t, cs, code, after, offset >> 1, False)
    return None


cdef int _straight_frames(SysMonTracer t, bint record, bint keep) except -1:
    """For every running frame of straight code (any thread): with `record`,
    record the lines it has reached (since it became partial, if it is);
    with `keep` (restart), remember it as partial from where it is now;
    without, forget the partial frames."""
    cdef CodeState cs
    cdef Py_ssize_t lasti
    for frame in sys._current_frames().values():
        while frame is not None:
            code = frame.f_code
            if _st_peek(<PyObject *>code) is not None:
                cs = _lookup(t, <PyObject *>code)
                lasti = frame.f_lasti
                if cs.measured and lasti >= 0:
                    if record:
                        entry = t._partial.get(id(frame))
                        if entry is not None:
                            _record_units(t, cs, code, entry[1], lasti >> 1, True)
                        elif cs.left != -2:
                            _record_units(t, cs, code, -1, lasti >> 1, False)
                    if keep:
                        t._partial[id(frame)] = (frame, lasti >> 1)
            frame = frame.f_back
    if not keep:
        t._partial = {}
    return 0
