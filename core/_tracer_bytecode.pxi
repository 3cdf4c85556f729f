# The sys.monitoring branch tracer's analysis of a code object (Python 3.12
# and 3.13), in C.  covcore/bytecode.py's analyze() is the reference: it
# documents the algorithm, and this follows it step by step, with the same
# names, so the two read side by side.  tests/test_bytecode.py checks that
# both give equal CodeMaps for every code object of the standard library.
# This file has the graph, the current lines, trails and the per-line table
# of destinations; _tracer_bytecode_map.pxi (included right after it) the
# decisions and the CodeMap.  Both come before _tracer_sysmon.pxi, whose
# _build_code_map() runs the analysis once per code object measured in
# branch mode.
#
# Per instruction k (in bytecode order) the arrays of _BcCode hold what the
# reference's _Graph holds in lists; "None" and "several lines" (_MANY) of
# the current-line data-flow are the sentinels _BC_NONE and _BC_MANY, which
# no line number can be.

from libc.limits cimport LLONG_MIN

cdef extern from "Python.h":
    bint PyCode_Check(object o)

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030C0000
    /* The byte offset just past the first RESUME, from the code object's
       _co_firsttraceable (CPython 3.12/3.13 init_code: the index of the
       first RESUME of the bytecode as compiled, or its length when there
       is none): what _resume_end(co_code) finds, without making co_code
       (a deoptimised copy of the bytecode, kept for the code object's
       life).  -1 for no RESUME. */
    static Py_ssize_t covcore_first_resume_end(PyObject *code) {
        Py_ssize_t k = ((PyCodeObject *)code)->_co_firsttraceable;
        return k < Py_SIZE(code) ? 2 * k + 2 : -1;
    }
    #else
    static Py_ssize_t covcore_first_resume_end(PyObject *code) { return -1; }
    #endif
    """
    Py_ssize_t covcore_first_resume_end(object code)

cdef long long _BC_NONE = LLONG_MIN
cdef long long _BC_MANY = LLONG_MIN + 1

# Opcode classes (bits of _bc_flags[op]).
cdef enum:
    _BC_COND = 1
    _BC_RETURN = 2
    _BC_RAISE = 4
    _BC_NEVER_LINE_START = 8
    _BC_JUMP_EVENT = 16
    _BC_BRANCH_EVENT = 32

# What a trail ends in (bytecode.T_LINE ...).
cdef enum:
    _BC_T_LINE = 1
    _BC_T_RETURN = 2
    _BC_T_BRANCH = 3
    _BC_T_NONE = 4

cdef unsigned char _bc_ncaches[256]
cdef unsigned char _bc_flags[256]


cdef int _bc_op(str name):
    cdef int op = _opcode.opmap.get(name, -1)
    return op if 0 <= op < 256 else -1


# Opcode numbers differ between 3.12 and 3.13: looked up, never written down.
cdef int _bc_RESUME = _bc_op("RESUME")
cdef int _bc_EXTENDED_ARG = _bc_op("EXTENDED_ARG")
cdef int _bc_FOR_ITER = _bc_op("FOR_ITER")
cdef int _bc_SEND = _bc_op("SEND")
cdef int _bc_END_SEND = _bc_op("END_SEND")
cdef int _bc_END_ASYNC_FOR = _bc_op("END_ASYNC_FOR")
cdef int _bc_JUMP_FORWARD = _bc_op("JUMP_FORWARD")
cdef int _bc_JUMP_BACKWARD = _bc_op("JUMP_BACKWARD")
cdef int _bc_JUMP_BACKWARD_NI = _bc_op("JUMP_BACKWARD_NO_INTERRUPT")
# (bytecode._FOR_ITER_SKIP)
cdef int _bc_for_iter_skip = 1 if sys.version_info[:2] < (3, 13) else 2


cdef void _bc_init_tables() except *:
    cdef int op
    memset(_bc_ncaches, 0, 256)
    memset(_bc_flags, 0, 256)
    # As bytecode._cache_counts(): a list by opcode on 3.12, a dict by name on 3.13.
    entries = getattr(_opcode, "_inline_cache_entries", None)
    if isinstance(entries, dict):
        for name, n in entries.items():
            op = _opcode.opmap.get(name, -1) if isinstance(name, str) else name
            if 0 <= op < 256 and n:
                _bc_ncaches[op] = n
    elif entries is not None:
        for op, n in enumerate(entries):
            if op < 256:
                _bc_ncaches[op] = n
    for bit, names in (
        (_BC_COND | _BC_BRANCH_EVENT,
         ("POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_IF_NONE", "POP_JUMP_IF_NOT_NONE")),
        (_BC_BRANCH_EVENT, ("FOR_ITER",)),
        (_BC_RETURN, ("RETURN_VALUE", "RETURN_CONST")),
        (_BC_RAISE, ("RAISE_VARARGS", "RERAISE")),
        (_BC_NEVER_LINE_START, ("END_FOR", "END_SEND", "END_ASYNC_FOR", "RESUME")),
        (_BC_JUMP_EVENT, ("JUMP_FORWARD", "JUMP_BACKWARD")),
    ):
        for name in names:
            op = _bc_op(name)
            if op >= 0:
                _bc_flags[op] |= bit


_bc_init_tables()

cdef object _bc_codemap_cls = None


cdef object _bc_codemap_class():
    """covcore.bytecode.CodeMap, imported on first use (covcore.bytecode is
    not needed before some code is measured in branch mode)."""
    global _bc_codemap_cls
    if _bc_codemap_cls is None:
        from covcore.bytecode import CodeMap
        _bc_codemap_cls = CodeMap
    return _bc_codemap_cls


cdef struct _BcCode:
    int count               # instructions
    int first_traceable
    long long first         # co_firstlineno
    int stamp               # marks trail()'s `seen` (seen[x] == stamp)
    int *offs
    int *ops
    long long *args
    int *lines              # -1: none
    int *s0                 # succ[k]: nsucc[k] of (s0[k], s1[k])
    int *s1
    int *nsucc
    int *handler            # -1: none
    int *seen
    char *marked
    long long *at           # _current_lines()
    long long *src          # sources (_BC_NONE: not a LINE location)
    long long *crumb        # crumb_lines (_BC_NONE: none)


# -- varints -----------------------------------------------------------------

cdef inline long long _bc_etab_varint(const unsigned char *t, Py_ssize_t n, Py_ssize_t *i) except? -1:
    """co_exceptiontable's varint (6-bit groups, most significant first)."""
    cdef unsigned char b
    cdef long long val
    if i[0] >= n:
        raise ValueError("truncated exception table")
    b = t[i[0]]
    i[0] += 1
    val = b & 63
    while b & 64:
        if i[0] >= n:
            raise ValueError("truncated exception table")
        b = t[i[0]]
        i[0] += 1
        val = (val << 6) | (b & 63)
    return val


cdef inline unsigned int _lt_varint(const unsigned char *t, Py_ssize_t n, Py_ssize_t *i) noexcept:
    """co_linetable's unsigned varint at i[0] (6-bit groups, least significant
    first, bit 6 = more), advancing i[0] past it: CPython's read_varint().
    (Keeps 30 bits, where CPython's unsigned int would overflow: no real line
    delta or column comes near.)"""
    cdef unsigned int b = 64, val = 0, shift = 0
    while b & 64 and i[0] < n:
        b = t[i[0]]
        i[0] += 1
        if shift <= 24:
            val |= (b & 63) << shift
        shift += 6
    return val


cdef inline int _lt_svarint(const unsigned char *t, Py_ssize_t n, Py_ssize_t *i) noexcept:
    """co_linetable's signed varint (bit 0 = sign): read_signed_varint()."""
    cdef unsigned int uval = _lt_varint(t, n, i)
    return -<int>(uval >> 1) if uval & 1 else <int>(uval >> 1)


cdef inline Py_ssize_t _bc_linetable_entry(const unsigned char *t, Py_ssize_t n, Py_ssize_t i,
                                            long long *line, long long *entry_line, int *length) noexcept:
    """Read the co_linetable entry at i (Objects/locations.md): its length in
    code units and its line (-1: none, as co_lines() gives None), advancing
    `line`, the running line number.  Returns where the next entry starts."""
    cdef unsigned char b = t[i]
    cdef int c = (b >> 3) & 15
    length[0] = (b & 7) + 1
    cdef Py_ssize_t j = i + 1
    if c == 13 or c == 14:
        line[0] += _lt_svarint(t, n, &j)
    elif 10 <= c <= 12:
        line[0] += c - 10
    entry_line[0] = -1 if c == 15 else line[0]
    # Only the first byte of an entry has its top bit set (as CPython skips).
    i += 1
    while i < n and not (t[i] & 128):
        i += 1
    return i


# -- the graph ----------------------------------------------------------------

cdef inline int _bc_index(int *index_of, Py_ssize_t n, long long offset) noexcept:
    return index_of[offset >> 1] if 0 <= offset < n else -1


cdef int _bc_graph(_BcCode *g, object code, int *index_of, int *unit_line, int *jump_target,
                   char *handler_target) except -1:
    """_Graph.__init__: decode, lines, successors, exception edges, the
    instructions that start a line."""
    cdef bytes cob = code.co_code
    cdef const unsigned char *co = cob
    cdef Py_ssize_t n = len(cob)
    cdef Py_ssize_t nunits = n // 2
    cdef bytes ltb = code.co_linetable
    cdef const unsigned char *lt = ltb
    cdef Py_ssize_t ltn = len(ltb)
    cdef bytes etb = code.co_exceptiontable
    cdef const unsigned char *et = etb
    cdef Py_ssize_t etn = len(etb)
    cdef Py_ssize_t i, u, o, stop, ei
    cdef long long ext = 0, arg, nxt, line, entry_line = -1, start, end, target, current
    cdef int op, k, t, h, count = 0, length, fl, ft
    i = 0
    while i < n:
        op = co[i]
        arg = co[i + 1] | ext
        index_of[i >> 1] = count
        g.offs[count] = <int>i
        g.ops[count] = op
        g.args[count] = arg
        count += 1
        ext = (arg << 8) if op == _bc_EXTENDED_ARG else 0
        i += 2 + 2 * _bc_ncaches[op]
    g.count = count
    # Lines, from co_linetable as co_lines() reads it.
    line = g.first
    u = 0
    i = 0
    while i < ltn:
        i = _bc_linetable_entry(lt, ltn, i, &line, &entry_line, &length)
        if entry_line >= 0:
            stop = min(u + length, nunits)
            for o in range(u, stop):
                unit_line[o] = <int>entry_line
        u += length
    for k in range(count):
        g.lines[k] = unit_line[g.offs[k] >> 1]
    ft = 0
    for k in range(count):
        if g.ops[k] == _bc_RESUME:
            ft = k
            break
    g.first_traceable = ft
    # Successors.
    for k in range(count):
        op = g.ops[k]
        fl = _bc_flags[op]
        arg = g.args[k]
        nxt = g.offs[k] + 2 + 2 * _bc_ncaches[op]
        jump_target[k] = -1
        g.nsucc[k] = 1
        g.s0[k] = _bc_index(index_of, n, nxt)
        g.s1[k] = -1
        if fl & _BC_COND:
            t = _bc_index(index_of, n, nxt + 2 * arg)
            jump_target[k] = t
            g.nsucc[k] = 2
            g.s1[k] = t
        elif op == _bc_FOR_ITER:
            jump_target[k] = _bc_index(index_of, n, nxt + 2 * arg + 2)
            g.nsucc[k] = 2
            g.s1[k] = _bc_index(index_of, n, nxt + 2 * arg + 2 * _bc_for_iter_skip)
        elif op == _bc_JUMP_FORWARD:
            t = _bc_index(index_of, n, nxt + 2 * arg)
            jump_target[k] = t
            g.s0[k] = t
        elif op == _bc_JUMP_BACKWARD or op == _bc_JUMP_BACKWARD_NI:
            t = _bc_index(index_of, n, nxt - 2 * arg)
            jump_target[k] = t
            g.s0[k] = t
        elif fl & (_BC_RETURN | _BC_RAISE):
            g.nsucc[k] = 0
            g.s0[k] = -1
            continue
        elif op == _bc_SEND:
            t = _bc_index(index_of, n, nxt + 2 * arg)
            jump_target[k] = _bc_index(index_of, n, nxt + 2 * arg + 2)
            if t >= 0 and g.ops[t] == _bc_END_SEND:
                t = jump_target[k]
            g.nsucc[k] = 2
            g.s1[k] = t
        # (Successors outside the code are dropped, keeping the order.)
        if g.nsucc[k] == 2 and g.s1[k] < 0:
            g.nsucc[k] = 1
        if g.s0[k] < 0:
            g.s0[k] = g.s1[k]
            g.s1[k] = -1
            g.nsucc[k] -= 1
    # Exception edges: the last entry covering an instruction wins.
    ei = 0
    while ei < etn:
        start = _bc_etab_varint(et, etn, &ei) * 2
        end = start + _bc_etab_varint(et, etn, &ei) * 2
        target = _bc_etab_varint(et, etn, &ei) * 2
        _bc_etab_varint(et, etn, &ei)   # depth and lasti
        h = _bc_index(index_of, n, target)
        if h < 0:
            continue
        handler_target[h] = 1
        o = start
        while o < end and o < n:
            k = index_of[o >> 1]
            if k >= 0:
                g.handler[k] = h
            o += 2
    # Which instructions start a line (CPython's initialize_lines()).
    current = -2
    for k in range(ft, count):
        if _bc_flags[g.ops[k]] & _BC_NEVER_LINE_START:
            continue
        line = g.lines[k]
        if line >= 0 and line != current:
            g.marked[k] = 1
        current = line
    for k in range(ft, count):
        t = jump_target[k]
        if t >= 0 and g.lines[t] >= 0:
            g.marked[t] = 1
    for h in range(ft, count):
        if handler_target[h] and g.lines[h] >= 0 and g.ops[h] != _bc_END_ASYNC_FOR:
            g.marked[h] = 1
    for k in range(min(ft + 1, count)):
        g.marked[k] = 0
    return 0


cdef inline int _bc_all_succ(_BcCode *g, int y, int *out) noexcept:
    """all_succ[y] into out (up to 3); returns how many."""
    cdef int m = g.nsucc[y]
    out[0] = g.s0[y]
    out[1] = g.s1[y]
    if g.handler[y] >= 0:
        out[m] = g.handler[y]
        m += 1
    return m


cdef void _bc_current_lines(_BcCode *g, int *work, char *queued) noexcept:
    """_current_lines(): the least fixpoint, so the visiting order doesn't
    matter (the reference's LIFO order is kept anyway)."""
    cdef int count = g.count, top = 0, y, x, m, j, ly
    cdef int nx[3]
    cdef long long cur, new, old
    cdef bint resume
    if g.first_traceable >= count:
        return
    y = g.first_traceable
    g.at[y] = -g.first
    work[top] = y
    top += 1
    queued[y] = 1
    while top:
        top -= 1
        y = work[top]
        queued[y] = 0
        cur = g.at[y]
        ly = g.lines[y]
        resume = g.ops[y] == _bc_RESUME
        if resume and g.args[y] != 0 and ly >= 0:
            cur = ly
        m = _bc_all_succ(g, y, nx)
        for j in range(m):
            x = nx[j]
            if g.marked[x] and (resume or g.lines[x] != ly):
                new = g.lines[x]
            else:
                new = cur
            old = g.at[x]
            if old == new or old == _BC_MANY:
                continue
            g.at[x] = new if old == _BC_NONE else _BC_MANY
            if not queued[x]:
                queued[x] = 1
                work[top] = x
                top += 1



# -- trails -------------------------------------------------------------------

cdef inline long long _bc_at_line(_BcCode *g, int k) noexcept:
    """at_line(): the one current line at k, or _BC_NONE."""
    cdef long long v = g.at[k]
    if v == _BC_NONE or v == _BC_MANY or g.ops[k] == _bc_RESUME:
        return _BC_NONE
    return v


cdef struct _BcTrail:
    int kind
    int end                 # the instruction it ends at
    long long a             # its arc, for T_LINE and T_RETURN (the others have none)
    long long b
    bint jump_known         # a JUMP on the way has a known current line


cdef void _bc_trail(_BcCode *g, int y, int x, long long cur, _BcTrail *t) noexcept:
    """trail(): follow the edge y -> x with current line `cur`.  (The
    reference's list of JUMPs passed is only ever asked whether one of them
    has a known current line: jump_known.)"""
    cdef int op, fl
    g.stamp += 1
    t.jump_known = False
    while True:
        t.end = x
        if g.marked[x] and (g.lines[y] != g.lines[x] or g.ops[y] == _bc_RESUME):
            t.kind = _BC_T_LINE
            t.a = cur
            t.b = g.lines[x]
            return
        if g.seen[x] == g.stamp:
            t.kind = _BC_T_NONE
            return
        g.seen[x] = g.stamp
        op = g.ops[x]
        fl = _bc_flags[op]
        if fl & _BC_RETURN:
            t.kind = _BC_T_RETURN
            t.a = cur
            t.b = -g.first
            return
        if fl & _BC_BRANCH_EVENT:
            t.kind = _BC_T_BRANCH
            return
        if op == _bc_RESUME and g.args[x] != 0 and g.lines[x] >= 0:
            cur = g.lines[x]
        if fl & _BC_JUMP_EVENT and _bc_at_line(g, x) != _BC_NONE:
            t.jump_known = True
        if g.nsucc[x] != 1:
            t.kind = _BC_T_NONE
            return
        y = x
        x = g.s0[x]


cdef inline bint _bc_has_arc(_BcTrail *t) noexcept:
    return t.kind == _BC_T_LINE or t.kind == _BC_T_RETURN


cdef bint _bc_recorded_elsewhere(_BcCode *g, _BcTrail *t, bint has_arc, long long cur) noexcept:
    """recorded_elsewhere(): is this trail's arc recorded by some event other
    than its start?  (has_arc: False where the reference's arc is None.)"""
    cdef long long s
    if t.kind == _BC_T_NONE or not has_arc:
        return True
    if t.kind == _BC_T_BRANCH:
        return g.at[t.end] == cur
    if t.jump_known:
        return True
    if t.kind == _BC_T_LINE:
        s = g.src[t.end]
        return (s != _BC_NONE and s != _BC_MANY) or (g.crumb[t.end] != _BC_NONE and g.crumb[t.end] == cur)
    if t.kind == _BC_T_RETURN:
        return _bc_at_line(g, t.end) != _BC_NONE
    return False


# -- outs: per line, its destinations (one, or several) -----------------------

cdef enum:
    _BC_OUT_ONE = 1         # has a destination (dest)
    _BC_OUT_SEVERAL = 2     # has several
    _BC_OUT_SHARED = 4      # a nested code object runs it too (_nested_lines())


cdef struct _BcOut:
    long long key           # a line (_BC_NONE: free slot)
    long long dest
    int flags


cdef inline _BcOut *_bc_out(_BcOut *tab, unsigned int mask, long long key, bint insert) noexcept:
    """The slot of line `key` in the open-addressing table (NULL if absent and
    not inserted).  The table is at least twice as big as there are lines."""
    cdef unsigned long long h = <unsigned long long>key
    cdef unsigned int i = <unsigned int>(((h ^ (h >> 29)) * 0x45d9f3b) >> 7) & mask
    while True:
        if tab[i].key == key:
            return &tab[i]
        if tab[i].key == _BC_NONE:
            if not insert:
                return NULL
            tab[i].key = key
            tab[i].dest = 0
            tab[i].flags = 0
            return &tab[i]
        i = (i + 1) & mask


cdef inline void _bc_add_out(_BcOut *tab, unsigned int mask, long long line, long long dest) noexcept:
    cdef _BcOut *e = _bc_out(tab, mask, line, True)
    if not e.flags & _BC_OUT_ONE:
        e.flags |= _BC_OUT_ONE
        e.dest = dest
    elif e.dest != dest:
        e.flags |= _BC_OUT_SEVERAL


cdef inline bint _bc_branchy(_BcOut *tab, unsigned int mask, long long line) noexcept:
    cdef _BcOut *e = _bc_out(tab, mask, line, False)
    return e != NULL and (e.flags & (_BC_OUT_SEVERAL | _BC_OUT_SHARED)) != 0


cdef int _bc_nested_lines(object code, _BcOut *tab, unsigned int mask) except -1:
    """_nested_lines(), as a flag on the lines already in the table (the only
    ones branchy() is asked about)."""
    cdef bytes ltb
    cdef const unsigned char *lt
    cdef Py_ssize_t ltn, i, prefix_end, u
    cdef long long line, entry_line = -1
    cdef int length
    cdef _BcOut *e
    for const in code.co_consts:
        if not PyCode_Check(const):
            continue
        # (Most nested code objects never run: asking their co_code would
        # make a copy of each one's bytecode for nothing.)
        prefix_end = _prefix_end(const)
        ltb = const.co_linetable
        lt = ltb
        ltn = len(ltb)
        line = const.co_firstlineno
        u = 0
        i = 0
        while i < ltn:
            i = _bc_linetable_entry(lt, ltn, i, &line, &entry_line, &length)
            u += length
            # (co_lines() merges neighbouring entries of a line: the same test.)
            if entry_line != -1 and 2 * u > prefix_end:
                e = _bc_out(tab, mask, entry_line, False)
                if e != NULL:
                    e.flags |= _BC_OUT_SHARED
    return 0
