# Included by _tracer.pyx (one extension module, split for reading), before
# _tracer_sysmon.pxi: making and keeping a code object's branch-mode map
# (CodeMapC) for SysMonTracer, from the analysis of _tracer_bytecode_map.pxi.


cdef int _build_code_map(_TracerBase t, CodeState cs, object code) except -1:
    """Analyse `code` once (see covcore.bytecode) and keep the result in cs.

    The garbage collector is off meanwhile: the analysis makes thousands of
    tuples and dicts, enough to schedule collections that would scan them
    all at the next Python code, though the map's containers are untracked
    at the end.  Made with it off, they are never scanned (import-pip,
    3.12, branch: 2.3 M instructions less over 398 code objects).  It is
    turned back on only if it was on.
    """
    cdef int gc_was_on = PyGC_Disable()
    try:
        _make_code_map(t, cs, code)
    finally:
        if gc_was_on:
            PyGC_Enable()
    return 0


cdef int _codemap_c_empty(CodeMapC *m, Py_ssize_t n) except -1:
    """A map of `n` code units where no event records anything but LINE's
    self-arc (what a failed analysis leaves)."""
    cdef Py_ssize_t i
    m.rec_at = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    m.jump_keys = <uint64_t *>PyMem_Malloc(3 * (n + 1) * sizeof(uint64_t))
    m.bslot = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    m.blocs = <BranchLoc *>PyMem_Malloc(sizeof(BranchLoc))
    if m.rec_at == NULL or m.jump_keys == NULL or m.bslot == NULL or m.blocs == NULL:
        raise MemoryError()
    m.return_keys = m.jump_keys + (n + 1)
    m.resume_keys = m.jump_keys + 2 * (n + 1)
    for i in range(n + 1):
        m.rec_at[i] = -1
        m.bslot[i] = -1
    for i in range(3 * (n + 1)):
        m.jump_keys[i] = _ARC_NONE
    return 0


cdef int _make_code_map(_TracerBase t, CodeState cs, object code) except -1:
    cdef Py_ssize_t n = len(code.co_code) // 2
    cdef CodeMapC m
    cdef unsigned char *bseen
    # The current line of each code unit (0: unknown), written by the analysis
    # into this zeroed array.
    cdef int *units = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    if units == NULL:
        raise MemoryError()
    memset(units, 0, (n + 1) * sizeof(int))
    memset(&m, 0, sizeof(CodeMapC))
    try:
        try:
            crumbs = _bc_analyze(code, units, &m)
        except Exception as exc:
            # Never expected; measure the code's lines and returns at least.
            _codemap_c_free(&m)
            memset(units, 0, (n + 1) * sizeof(int))
            crumbs = None
            _codemap_c_empty(&m, n)
            if t.warn is not None:
                t.warn(
                    "Couldn't analyse the bytecode of %s (%s line %d), its branches may be "
                    "wrong: %s: %s"
                    % (code.co_name, code.co_filename, code.co_firstlineno, type(exc).__name__, exc),
                    "trace-changed",
                )
        if cs.cmap is not None:
            # Another thread ran while the analysis did (only possible through
            # the warning above: the collector is off) and finished first: its
            # result stands.
            _codemap_c_free(&m)
            PyMem_Free(units)
            return 0
        bseen = <unsigned char *>PyMem_Malloc(m.nbranch + 1)
        if bseen == NULL:
            raise MemoryError()
    except BaseException:
        _codemap_c_free(&m)
        PyMem_Free(units)
        raise
    memset(bseen, 0, m.nbranch + 1)
    _codemap_c_free(&cs.m)
    cs.m = m
    PyMem_Free(cs.unwind_lines)
    cs.unwind_lines = units
    PyMem_Free(cs.bseen)
    cs.bseen = bseen
    cs.nunits = n
    if crumbs is not None:
        cs.crumb_lines = crumbs[0] or None
        cs.crumb_jumps = crumbs[1] or None
        for part in crumbs:
            if part is not None:
                covcore_untrack_atoms(part, 0)
    cs.cmap = True
    return 0


cdef inline int _add_record(CodeState cs, Py_ssize_t unit) except -1:
    """Add the arcs of the LINE record at code unit `unit` (there is one)
    to the file's set."""
    cdef Py_ssize_t k = cs.m.rec_at[unit], j
    for j in range(<Py_ssize_t>cs.m.rec_keys[k]):
        _add_key(cs, cs.m.rec_keys[k + 1 + j])
    return 0
