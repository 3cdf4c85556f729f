# Included by _tracer.pyx (one extension module, split for reading): Python
# 3.12's superinstructions, written back into code objects that
# instrumentation took them out of (see _requicken), and the code-object
# accessors (live units, size) the sysmon backend reads without
# attribute lookups.

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
    /* The live (adaptive) bytecode: public struct in 3.12 (Include/cpython/code.h). */
    static CYTHON_INLINE unsigned char *covcore_live_units_312(PyObject *code) {
        return (unsigned char *)((PyCodeObject *)code)->co_code_adaptive;
    }
    #else
    static CYTHON_INLINE unsigned char *covcore_live_units_312(PyObject *code) { return NULL; }
    #endif
    /* Code units in a 3.11+ code object, without making co_code. */
    static CYTHON_INLINE Py_ssize_t covcore_code_size(PyObject *code) { return Py_SIZE(code); }
    """
    unsigned char *covcore_live_units_312(PyObject *code)
    Py_ssize_t covcore_code_size(PyObject *code)


# Python 3.12 only: what _requicken() needs to know of each opcode (built
# from the opcode module at import, as dis builds _all_opmap): its base
# opcode (255: one it must not step over) and its inline cache units.
cdef bint _REQUICKEN = sys.version_info[:2] == (3, 12)
cdef unsigned char _rq_base[256]
cdef unsigned char _rq_caches[256]
cdef int _rq_pair[5][3]      # (first base, second base, superinstruction)


cdef int _init_requicken() except -1:
    global _REQUICKEN
    cdef int op, k
    for op in range(256):
        _rq_base[op] = 255
        _rq_caches[op] = 0
    try:
        allmap = _all_opmap()
        low = _opcode.MIN_INSTRUMENTED_OPCODE
        caches = _opcode._inline_cache_entries
        for name, op in _opcode.opmap.items():
            if op < low:
                _rq_base[op] = op
                _rq_caches[op] = caches[op]
        # A RESUME whose PY_START/PY_RESUME event is still on (no caches).
        _rq_base[_opcode.opmap["INSTRUMENTED_RESUME"]] = _opcode.opmap["RESUME"]
        for base, specs in _opcode._specializations.items():
            for name in specs:
                op = allmap[name]
                _rq_base[op] = _opcode.opmap[base]
                _rq_caches[op] = caches[_opcode.opmap[base]]
        pairs = [("LOAD_CONST", "LOAD_FAST"), ("LOAD_FAST", "LOAD_CONST"), ("LOAD_FAST", "LOAD_FAST"),
                 ("STORE_FAST", "LOAD_FAST"), ("STORE_FAST", "STORE_FAST")]
        for k in range(5):
            first, second = pairs[k]
            _rq_pair[k][0] = _opcode.opmap[first]
            _rq_pair[k][1] = _opcode.opmap[second]
            _rq_pair[k][2] = allmap["%s__%s" % (first, second)]
    except (AttributeError, KeyError, IndexError, TypeError):
        _REQUICKEN = False
    return 0


if _REQUICKEN:
    _init_requicken()


cdef int _requicken(object code) except -1:
    """Python 3.12: put back the superinstructions (LOAD_FAST__LOAD_FAST and
    four more) that instrumenting `code` took out: measured code once it has
    no local events left, other code when its PY_START goes off.  CPython 3.12 writes them in _PyCode_Quicken when it makes a
    code object and rewrites them to single instructions whenever it
    instruments one (even for one PY_START), so measured code would run ~5%
    more instructions for good.  Done exactly as _PyCode_Quicken does, and only
    when every instruction is a known plain, specialised or RESUME one: an
    instruction another tool instrumented leaves the code as it is.  Any
    later instrumentation takes them out again first.  Returns how many were
    written."""
    cdef unsigned char *u = covcore_live_units_312(<PyObject *>code)
    cdef Py_ssize_t n = covcore_code_size(<PyObject *>code)
    cdef Py_ssize_t i
    cdef int op, base, prev, k, written = 0
    if u == NULL or not _REQUICKEN:
        return 0
    i = 0
    while i < n:
        base = _rq_base[u[2 * i]]
        if base == 255:
            return 0
        i += 1 + _rq_caches[u[2 * i]]
    i = 0
    prev = -1
    while i < n:
        op = u[2 * i]
        base = _rq_base[op]
        for k in range(5):
            if prev == _rq_pair[k][0] and base == _rq_pair[k][1]:
                u[2 * (i - 1)] = <unsigned char>_rq_pair[k][2]
                written += 1
                break
        prev = base
        i += 1 + _rq_caches[op]
    return written


def _requicken_for_tests(code):
    """_requicken(code), for tests: how many superinstructions were written."""
    return _requicken(code)
