# Included by _tracer.pyx (one extension module, split for reading): recording arcs once per code object (a small open-addressing set).

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


# Arcs packed in 64 bits (the code maps of SysMonTracer's branch mode, see
# CodeMapC): the from line's 32 bits, then the to line's.  No arc is
# (INT_MIN, INT_MIN): lines are positive, exits and entries minus a first
# line (>= 0).
cdef extern from *:
    """
    #define COVCORE_ARC_NONE 0x8000000080000000ULL
    """
    uint64_t _ARC_NONE "COVCORE_ARC_NONE"


cdef inline uint64_t _arc_key(long long a, long long b) noexcept:
    return ((<uint64_t><uint32_t>(<int>a)) << 32) | <uint64_t><uint32_t>(<int>b)


cdef inline int _add_key(CodeState cs, uint64_t key) except -1:
    """Add the packed arc `key` to the file's set, as an (int, int) tuple."""
    PySet_Add(cs.file_data, (<int>(<uint32_t>(key >> 32)), <int>(<uint32_t>key)))
    return 0


cdef int _record_arc(_TracerBase t, CodeState cs, int l1, int l2) except -1:
    """Add (l1, l2) to the file's set unless this code object already did."""
    cdef uint64_t key = _arc_key(l1, l2)
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
