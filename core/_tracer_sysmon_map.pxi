# Included by _tracer.pyx (one extension module, split for reading), before
# _tracer_sysmon.pxi: making and keeping a code object's branch-mode map
# (CodeMapC) for SysMonTracer, from the analysis of _tracer_bytecode_map.pxi.


cdef extern from *:
    """
    /* Take ints, and tuples and dicts made only of those, out of the cyclic
       garbage collector's lists: they can't be part of a cycle.  CPython
       untracks such tuples (and dicts) itself, but only when a collection
       has looked at them; a code map is thousands of them, scanned by every
       young collection until then.  A dict that later gets a tracked value
       is tracked again by CPython (MAINTAIN_TRACKING in dictobject.c).
       Returns 1 if `o` is untracked now. */
    static int covcore_untrack_atoms(PyObject *o, int depth) {
        if (!PyObject_IS_GC(o)) {
            return 1;
        }
        if (depth > 4) {
            return !PyObject_GC_IsTracked(o);
        }
        if (PyTuple_CheckExact(o)) {
            Py_ssize_t i, n = PyTuple_GET_SIZE(o);
            for (i = 0; i < n; i++) {
                if (!covcore_untrack_atoms(PyTuple_GET_ITEM(o, i), depth + 1)) {
                    return 0;
                }
            }
        }
        else if (PyDict_CheckExact(o)) {
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            int all = 1;
            while (PyDict_Next(o, &pos, &k, &v)) {
                if (!covcore_untrack_atoms(k, depth + 1) || !covcore_untrack_atoms(v, depth + 1)) {
                    all = 0;
                }
            }
            if (!all) {
                return 0;
            }
        }
        else {
            return !PyObject_GC_IsTracked(o);
        }
        if (PyObject_GC_IsTracked(o)) {
            PyObject_GC_UnTrack(o);
        }
        return 1;
    }
    """
    int covcore_untrack_atoms(object o, int depth)


cdef int _build_code_map(_TracerBase t, CodeState cs, object code) except -1:
    """Analyse `code` once (see covcore.bytecode) and keep the result in cs:
    the map in C arrays (CodeMapC), the current line of each code unit, and
    the crumbs, if any (rare, the only Python objects it makes)."""
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
            _codemap_c_alloc(&m, n, 0, 0)   # no event records anything but LINE's self-arc
            if t.warn is not None:
                t.warn(
                    "Couldn't analyse the bytecode of %s (%s line %d), its branches may be "
                    "wrong: %s: %s"
                    % (code.co_name, code.co_filename, code.co_firstlineno, type(exc).__name__, exc),
                    "trace-changed",
                )
        if cs.cmap is not None:
            # Another thread ran while the analysis did (only possible if
            # Python code ran meanwhile: the warning above, or a finalizer)
            # and finished first: its result stands.
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
