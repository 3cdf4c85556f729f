# Included by _tracer.pyx (one extension module, split for reading): what a
# tracer keeps per code object -- CodeState, and the C structs of branch
# mode's per-code map -- and the line bitmaps made from a code object's line
# table.

cdef struct BranchLoc:
    # A BRANCH location (SysMonTracer, branch mode): its two destinations
    # (fall-through, jump), the arc each records (packed, see _arc_key;
    # _ARC_NONE: none), and which directions only the BRANCH event can record.
    int dest0
    int dest1
    uint64_t key0
    uint64_t key1
    unsigned char need


cdef struct CodeMapC:
    # SysMonTracer, branch mode: what each event of a code object records,
    # in C (covcore.bytecode.CodeMap's line_records, branches, jumps, returns
    # and resumes, without a tuple per arc or a dict per kind: made for
    # every measured code object, they were most of the objects a branch-mode
    # run allocated, and what made its collections more often).  Arcs are
    # packed with _arc_key; per code unit (n = len(co_code) // 2, + 1):
    int *rec_at             # where its LINE record starts in rec_keys, -1: none
    uint64_t *rec_keys      # records: a count, then that many arcs
    uint64_t *jump_keys     # the arc a JUMP there records (_ARC_NONE: none)
    uint64_t *return_keys   # the arc a PY_RETURN there records
    uint64_t *resume_keys   # the arc a PY_RESUME there records
    int *bslot              # index into blocs, -1: not a BRANCH location
    BranchLoc *blocs
    Py_ssize_t nbranch
    bint need_branch        # does some BRANCH location need its event?
    bint has_resumes


cdef inline void _codemap_c_free(CodeMapC *m) noexcept:
    PyMem_Free(m.rec_at)
    PyMem_Free(m.rec_keys)
    PyMem_Free(m.jump_keys)     # return_keys and resume_keys share its block
    PyMem_Free(m.bslot)
    PyMem_Free(m.blocs)
    memset(m, 0, sizeof(CodeMapC))


cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)


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
    # sysmon line mode, code objects whose LINE events would make CPython
    # search the line table (see SysMonTracer._enable_code): per code unit,
    # the line an INSTRUCTION event there records (-1: none), or NULL.
    cdef int *unit_lines
    cdef Py_ssize_t nunit_lines
    # sysmon on 3.12: superinstructions written back this epoch (unmeasured code)
    cdef bint requickened
    # sysmon line mode: is it straight-line code the exec/__build_class__ wrappers record
    # (_tracer_sysmon_straight.pxi)?  -1 undecided, 0 no, 1 yes; decided at
    # its first _enable_code and kept for the code object's life.
    cdef signed char straight
    # ... and the last code unit up to which its lines were recorded this
    # epoch by an exception leaving it (read in the exec/__build_class__
    # wrappers) or a look at a running frame; -1: none (the same again
    # costs a comparison).
    cdef Py_ssize_t straight_upto
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
    cdef object cmap            # True once the map is made, None before
    cdef CodeMapC m             # the map (see CodeMapC)
    cdef Py_ssize_t nunits      # code units in co_code
    cdef int *unwind_lines      # per code unit: current line, 0 = unknown
    cdef unsigned char *bseen   # per BRANCH location: directions seen (epoch)
    cdef dict crumb_lines       # LINE offset -> arc of its arrival without a crumb
    cdef dict crumb_jumps       # JUMP offset -> the LINE offset it leaves a crumb for
    cdef set crumb_done         # crumb LINE offsets whose arc was recorded (epoch)

    def __cinit__(self):
        self.left = -1
        self.straight = -1
        self.straight_upto = -1
        # Never part of a reference cycle: nothing it refers to (the data
        # dict and sets, bytes, a CodeMap, a code object without a code
        # extra slot) refers back to a CodeState.  Tracked, each of the
        # thousands a large import makes is scanned by every collection of
        # its generation (import-pip, 3.12: 2.4 M instructions less in line
        # mode, 3.9 M in branch mode).
        PyObject_GC_UnTrack(<void *>self)

    def __dealloc__(self):
        PyMem_Free(self.seen)
        PyMem_Free(self.unit_lines)
        PyMem_Free(self.arcs)
        _codemap_c_free(&self.m)
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
        PyMem_Free(self.unit_lines)
        self.unit_lines = NULL
        self.nunit_lines = 0
        self.requickened = False
        self.straight_upto = -1
        self.nlines = 0
        self.base = 0
        self.left = -1
        PyMem_Free(self.arcs)
        self.arcs = NULL
        self.arcs_mask = 0
        self.arcs_used = 0
        # The code map stays (it only depends on the code object); the
        # directions seen are forgotten.
        if self.bseen != NULL and self.m.nbranch > 0:
            memset(self.bseen, 0, self.m.nbranch)
        self.crumb_done = None

    def __repr__(self):
        return "<CodeState measured=%r left=%d epoch=%d>" % (self.measured, self.left, self.epoch)


cdef int _table_lines(CodeState cs, object code, Py_ssize_t prefix_end) except -1:
    """_compute_lines() for Python 3.11+, reading ``co_linetable`` (the
    location table of CPython's Objects/locations.md, entry by entry with
    _bc_linetable_entry) directly: the lines of the entries that end after
    `prefix_end` (a byte offset).  The same lines as co_lines() gives,
    without a tuple per entry: 1 us per code object instead of 5, which
    every measured code object pays on 3.12+.  The table is decoded once:
    the lines go to a scratch array while their range is found."""
    cdef bytes table_obj = code.co_linetable
    cdef const unsigned char *t = table_obj
    cdef Py_ssize_t n = len(table_obj)
    cdef Py_ssize_t k = 0, entry_end = 0, count = 0, i
    cdef long long line = code.co_firstlineno, entry_line
    cdef int length, lo = 0, hi = -1, at
    cdef bint found = False
    cdef int *lines
    if n == 0:
        return 0
    lines = <int *>PyMem_Malloc(n * sizeof(int))   # an entry is at least a byte
    if lines == NULL:
        raise MemoryError()
    try:
        while k < n:
            k = _bc_linetable_entry(t, n, k, &line, &entry_line, &length)
            entry_end += 2 * length
            if entry_line == -1 or entry_end <= prefix_end:
                continue
            lines[count] = <int>entry_line
            count += 1
            if not found:
                lo = hi = <int>entry_line
                found = True
            elif entry_line < lo:
                lo = <int>entry_line
            elif entry_line > hi:
                hi = <int>entry_line
        if not found or not _alloc_seen(cs, lo, hi):
            return 0
        for i in range(count):
            at = lines[i] - lo
            if cs.seen[at] == 2:
                cs.seen[at] = 0
                cs.left += 1
    finally:
        PyMem_Free(lines)
    return 0


cdef bint _alloc_seen(CodeState cs, int lo, int hi) except -1:
    """Give cs a bitmap for lines lo..hi, none of them countable yet (left
    0); False (and none) for lines that make no sense."""
    if lo < 0 or hi - lo > 1000000:
        return False
    cs.seen = <unsigned char *>PyMem_Malloc(hi - lo + 1)
    if cs.seen == NULL:
        raise MemoryError()
    memset(cs.seen, 2, hi - lo + 1)
    cs.base = lo
    cs.nlines = hi - lo + 1
    cs.left = 0
    return True


cdef Py_ssize_t _resume_end(bytes co):
    """The byte offset just past co's first RESUME, or -1 (none, or Python
    3.10).  Instructions up to the first RESUME (3.11+: RETURN_GENERATOR,
    MAKE_CELL, COPY_FREE_VARS, RESUME...) never produce a line event."""
    cdef const unsigned char *b = co
    cdef Py_ssize_t n = len(co)
    cdef Py_ssize_t i = 0
    if _RESUME >= 0:
        while i < n:
            if b[i] == _RESUME:
                return i + 2
            i += 2
    return -1


cdef Py_ssize_t _prefix_end(object code) except -2:
    """The byte offset just past `code`'s first RESUME (-1: none): on 3.12+
    from the code object's _co_firsttraceable, before that by scanning
    co_code (which on 3.12+ would make a deoptimised copy of the bytecode)."""
    if _HAS_FIRSTTRACEABLE:
        return covcore_first_resume_end(code)
    return _resume_end(code.co_code)


cdef int _compute_unit_lines(CodeState cs, object code) except -1:
    """Fill cs.unit_lines (Python 3.11+ line tables, read as _table_lines
    does): per code unit, the line an INSTRUCTION event there stands for, -1
    for units of no line and for the prologue up to the first RESUME (whose
    lines _compute_lines doesn't count either)."""
    cdef Py_ssize_t nunits = covcore_code_size(<PyObject *>code)
    cdef Py_ssize_t prefix_end = _prefix_end(code)
    cdef bytes table_obj = code.co_linetable
    cdef const unsigned char *t = table_obj
    cdef Py_ssize_t n = len(table_obj)
    cdef Py_ssize_t k = 0, unit = 0, u, stop
    cdef long long line = code.co_firstlineno, entry_line
    cdef int length
    cdef int *lines = <int *>PyMem_Malloc((nunits + 1) * sizeof(int))
    if lines == NULL:
        raise MemoryError()
    for u in range(nunits + 1):
        lines[u] = -1
    while k < n and unit < nunits:
        k = _bc_linetable_entry(t, n, k, &line, &entry_line, &length)
        stop = min(unit + length, nunits)
        if entry_line >= 0 and entry_line <= 0x7fffffff:
            for u in range(unit, stop):
                if 2 * u >= prefix_end:
                    lines[u] = <int>entry_line
        unit += length
    PyMem_Free(cs.unit_lines)
    cs.unit_lines = lines
    cs.nunit_lines = nunits
    return 0


cdef int _compute_lines(CodeState cs, object code) except -1:
    """Fill cs's line bitmap from code.co_lines()."""
    cdef Py_ssize_t prefix_end = _prefix_end(code)
    cdef int line
    if _LINETABLE_311:
        return _table_lines(cs, code, prefix_end)
    lines = set()
    for start, end, lineno in code.co_lines():
        if lineno is None:
            continue
        if prefix_end >= 0 and end <= prefix_end:
            continue
        lines.add(lineno)
    if not lines or not _alloc_seen(cs, min(lines), max(lines)):
        return 0
    for lineno in lines:
        line = lineno
        cs.seen[line - cs.base] = 0
    cs.left = len(lines)
    return 0
