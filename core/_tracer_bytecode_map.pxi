# analyze_c(): covcore.bytecode.analyze() in C -- the decisions, and the
# CodeMap (the graph, the current lines, trails and the per-line table of
# destinations are in _tracer_bytecode.pxi, included just before this).  The
# steps and names follow analyze(), and the result's dicts are filled in the
# reference's order, so that even their iteration order is the same.


def analyze_c(code):
    """covcore.bytecode.analyze(), in C: what each sys.monitoring event of
    `code` records in branch mode.

    `code`: a code object of Python 3.12 or 3.13 (the running Python's).

    Returns a covcore.bytecode.CodeMap equal, field by field, to what
    ``covcore.bytecode.analyze(code)`` returns (the same dict keys in the
    same order, the same tuples).

    Raises TypeError if `code` is not a code object, ValueError if its
    exception table is truncated, MemoryError.
    """
    return _bc_analyze(code)


cdef object _bc_analyze(object code, int *units_out=NULL, CodeMapC *map_out=NULL):
    """analyze_c(code); with `units_out` (room for len(co_code) // 2 ints, zeroed),
    the current line of each code unit goes there and the CodeMap's
    unwind_lines is None (the tracer keeps them in C: no list of an int
    object per code unit to make, read back and free).  With `map_out`
    (zeroed), the map is made there in C instead (see _bc_codemap_c) and
    the result is None or (crumb_lines, crumb_jumps)."""
    if not PyCode_Check(code):
        raise TypeError("analyze_c() needs a code object, not %s" % type(code).__name__)
    cdef bytes cob = code.co_code
    cdef Py_ssize_t nunits = len(cob) // 2
    cdef Py_ssize_t per = nunits + 2
    cdef unsigned int tsize = 8
    while tsize < 2 * per:
        tsize *= 2
    # Arrays per instruction (or per code unit) unless said otherwise.
    cdef int *mem = <int *>PyMem_Malloc(sizeof(int) * per * 28)
    cdef long long *lmem = <long long *>PyMem_Malloc(sizeof(long long) * per * 4)
    cdef char *cmem = <char *>PyMem_Malloc(per * 3)
    cdef _BcTrail *trails = <_BcTrail *>PyMem_Malloc(sizeof(_BcTrail) * per * 4)
    cdef _BcOut *outs = <_BcOut *>PyMem_Malloc(sizeof(_BcOut) * tsize)
    if mem == NULL or lmem == NULL or cmem == NULL or trails == NULL or outs == NULL:
        PyMem_Free(mem)
        PyMem_Free(lmem)
        PyMem_Free(cmem)
        PyMem_Free(trails)
        PyMem_Free(outs)
        raise MemoryError()
    cdef _BcCode g
    g.offs = mem
    g.ops = mem + per
    g.lines = mem + 2 * per
    g.s0 = mem + 3 * per
    g.s1 = mem + 4 * per
    g.nsucc = mem + 5 * per
    g.handler = mem + 6 * per
    g.seen = mem + 7 * per
    g.args = lmem
    g.at = lmem + per
    g.src = lmem + 2 * per
    g.crumb = lmem + 3 * per
    g.marked = cmem
    cdef char *handler_target = cmem + per
    cdef char *queued = cmem + 2 * per
    cdef int *index_of = mem + 8 * per          # by code unit
    cdef int *unit_line = mem + 9 * per         # by code unit
    cdef int *jump_target = mem + 10 * per
    cdef int *work = mem + 11 * per
    cdef int *order = mem + 12 * per            # the LINE locations, in `sources`' order
    cdef int *pstart = mem + 13 * per           # preds[x] is psrc[pstart[x]:pstart[x + 1]]
    cdef int *pfill = mem + 14 * per
    cdef int *cj_x = mem + 15 * per             # crumb_jumps[j] (-1: none)
    cdef int *cj_order = mem + 16 * per         # crumb_jumps' keys, in order
    cdef int *run_x = mem + 17 * per            # 2 * per: the LINE each run starts at
    cdef int *pe_x = mem + 19 * per             # 3 * per: preds' edges y -> x as made
    cdef int *pe_y = mem + 22 * per             # 3 * per: (-1 for an exception edge)
    cdef int *psrc = mem + 25 * per             # 3 * per
    cdef _BcTrail *runs = trails                # 2 * per: (x, ln, trail(x, nx, ln))
    cdef _BcTrail *btrails = trails + 2 * per   # 2 * per: branch_trails, [2 * b + direction]
    cdef unsigned int mask = tsize - 1
    cdef int count, k, x, y, j, m, i, e, nsrc = 0, npe = 0, ncj = 0, nrun = 0, nj, fl, ln
    cdef int nx[3]
    cdef long long cur, plain, lv
    cdef bint resume, ok
    cdef _BcTrail *t
    try:
        g.first = code.co_firstlineno
        g.stamp = 0
        for i in range(per):
            index_of[i] = -1
            unit_line[i] = -1
            g.handler[i] = -1
            g.seen[i] = 0
            cj_x[i] = -1
            pstart[i] = 0
            g.at[i] = _BC_NONE
            g.src[i] = _BC_NONE
            g.crumb[i] = _BC_NONE
        memset(cmem, 0, per * 3)
        for i in range(tsize):
            outs[i].key = _BC_NONE
        _bc_graph(&g, code, index_of, unit_line, jump_target, handler_target)
        count = g.count
        _bc_current_lines(&g, work, queued)

        # Where LINE fires, and from which current line(s) and instructions.
        for y in range(count):
            cur = g.at[y]
            if cur == _BC_NONE:
                continue
            ln = g.lines[y]
            resume = g.ops[y] == _bc_RESUME
            if resume and g.args[y] != 0 and ln >= 0:
                cur = ln
            m = _bc_all_succ(&g, y, nx)
            for j in range(m):
                x = nx[j]
                if g.marked[x] and (resume or g.lines[x] != ln):
                    if g.src[x] == _BC_NONE:
                        g.src[x] = cur
                        order[nsrc] = x
                        nsrc += 1
                    elif g.src[x] != cur:
                        g.src[x] = _BC_MANY
                    pe_x[npe] = x
                    pe_y[npe] = y if x == g.s0[y] or x == g.s1[y] else -1
                    npe += 1
        for e in range(npe):
            pstart[pe_x[e] + 1] += 1
        for x in range(count):
            pstart[x + 1] += pstart[x]
            pfill[x] = pstart[x]
        for e in range(npe):
            psrc[pfill[pe_x[e]]] = pe_y[e]
            pfill[pe_x[e]] += 1

        # Crumb lines.
        for i in range(nsrc):
            x = order[i]
            if g.src[x] != _BC_MANY:
                continue
            plain = _BC_NONE
            nj = 0
            ok = True
            for e in range(pstart[x], pstart[x + 1]):
                y = psrc[e]
                lv = _bc_at_line(&g, y) if y >= 0 else _BC_NONE
                if lv == _BC_NONE:
                    ok = False
                    break
                fl = _bc_flags[g.ops[y]]
                if fl & _BC_JUMP_EVENT:
                    nj += 1
                elif fl & _BC_BRANCH_EVENT and (plain == _BC_NONE or plain == lv):
                    plain = lv
                else:
                    ok = False
                    break
            if ok and plain != _BC_NONE and nj and plain != g.lines[x]:
                g.crumb[x] = plain
                for e in range(pstart[x], pstart[x + 1]):
                    y = psrc[e]
                    if _bc_flags[g.ops[y]] & _BC_JUMP_EVENT:
                        if cj_x[y] < 0:
                            cj_order[ncj] = y
                            ncj += 1
                        cj_x[y] = x

        # The run that each LINE starts; the destinations of lines.  (Every
        # line is in the table first, for _bc_nested_lines().)
        lv = _BC_NONE
        for k in range(count):
            if g.lines[k] >= 0 and g.lines[k] != lv:
                lv = g.lines[k]
                _bc_out(outs, mask, lv, True)
        for i in range(nsrc):
            x = order[i]
            if _bc_flags[g.ops[x]] & _BC_BRANCH_EVENT:
                continue
            ln = g.lines[x]
            for j in range(g.nsucc[x]):
                t = &runs[nrun]
                _bc_trail(&g, x, g.s1[x] if j else g.s0[x], ln, t)
                run_x[nrun] = x
                nrun += 1
                if _bc_has_arc(t):
                    _bc_add_out(outs, mask, ln, t.b)
        for k in range(count):
            if _bc_branch_loc(&g, k):
                cur = _bc_at_line(&g, k)
                for j in range(2):
                    t = &btrails[2 * k + j]
                    if cur != _BC_NONE:
                        _bc_trail(&g, k, g.s1[k] if j else g.s0[k], cur, t)
                        if _bc_has_arc(t):
                            _bc_add_out(outs, mask, cur, t.b)
                    else:
                        t.kind = _BC_T_NONE
                        t.end = g.s1[k] if j else g.s0[k]
                        t.jump_known = False
        _bc_nested_lines(code, outs, mask)
        if map_out != NULL:
            return _bc_codemap_c(&g, nunits, order, nsrc, runs, run_x, nrun, btrails, cj_x, cj_order, ncj,
                                 outs, mask, units_out, map_out)
        return _bc_codemap(&g, code, nunits, order, nsrc, runs, run_x, nrun, btrails, cj_x, cj_order, ncj,
                           outs, mask, units_out)
    finally:
        PyMem_Free(mem)
        PyMem_Free(lmem)
        PyMem_Free(cmem)
        PyMem_Free(trails)
        PyMem_Free(outs)


cdef inline bint _bc_claims(_BcCode *g, _BcTrail *t, long long ln, _BcOut *outs, unsigned int mask) noexcept:
    """Is the arc of trail t, from line ln, a claim?"""
    return (_bc_has_arc(t) and t.a != t.b and _bc_branchy(outs, mask, ln)
            and not _bc_recorded_elsewhere(g, t, True, ln))


cdef object _bc_codemap(_BcCode *g, object code, Py_ssize_t nunits, int *order, int nsrc,
                        _BcTrail *runs, int *run_x, int nrun, _BcTrail *btrails, int *cj_x, int *cj_order,
                        int ncj, _BcOut *outs, unsigned int mask, int *units_out):
    """The CodeMap, from the analysis (unwind_lines into `units_out` if not NULL)."""
    cdef int count = g.count, i, x, k, r = 0, need, j, end, fl
    cdef long long ln, s, cur
    cdef bint ok
    cdef int n_claims = 0
    cdef dict line_records = {}, branches = {}, jumps = {}, returns = {}, resumes = {}
    cdef dict crumb_lines = {}, crumb_jumps = {}
    cdef set yield_resumes = set()
    cdef list records, units
    cdef _BcTrail *t
    cdef _BcTrail trail
    cdef object pl, arc0 = None, arc1 = None, arc
    # LINE: the self-arc, the inferred incoming arc, the claims; the tuple
    # is made at its size (the claims' runs noted first), not from a list.
    cdef int *claimed = <int *>PyMem_Malloc((nrun + 1) * sizeof(int))
    cdef int nclaimed, has_src
    cdef tuple rec
    if claimed == NULL:
        raise MemoryError()
    try:
        for i in range(nsrc):
            x = order[i]
            ln = g.lines[x]
            pl = ln
            s = g.src[x]
            nclaimed = 0
            while r < nrun and run_x[r] == x:
                if _bc_claims(g, &runs[r], ln, outs, mask):
                    claimed[nclaimed] = r
                    nclaimed += 1
                    n_claims += 1
                r += 1
            has_src = s != _BC_MANY and s != ln
            rec = PyTuple_New(1 + has_src + nclaimed)
            arc = (pl, pl)
            Py_INCREF(arc)
            PyTuple_SET_ITEM(rec, 0, arc)
            if has_src:
                arc = (s, pl)
                Py_INCREF(arc)
                PyTuple_SET_ITEM(rec, 1, arc)
            for j in range(nclaimed):
                arc = (runs[claimed[j]].a, runs[claimed[j]].b)
                Py_INCREF(arc)
                PyTuple_SET_ITEM(rec, 1 + has_src + j, arc)
            line_records[g.offs[x]] = rec
    finally:
        PyMem_Free(claimed)
    # BRANCH locations.
    for k in range(count):
        if _bc_branch_loc(g, k):
            cur = _bc_at_line(g, k)
            need = 0
            for j in range(2):
                t = &btrails[2 * k + j]
                ok = _bc_has_arc(t) and t.a != t.b
                arc = (t.a, t.b) if ok else None
                if j:
                    arc1 = arc
                else:
                    arc0 = arc
                if cur != _BC_NONE and not _bc_recorded_elsewhere(g, t, ok, cur):
                    need |= 1 << j
            branches[g.offs[k]] = (g.offs[g.s0[k]], arc0, g.offs[g.s1[k]], arc1, need)
    # JUMP and PY_RETURN locations; resume points of generators.
    for k in range(count):
        if g.at[k] == _BC_NONE:
            continue
        fl = _bc_flags[g.ops[k]]
        if fl & _BC_JUMP_EVENT:
            cur = _bc_at_line(g, k)
            arc = None
            if cur != _BC_NONE and g.nsucc[k]:
                _bc_trail(g, k, g.s0[k], cur, &trail)
                if _bc_has_arc(&trail) and trail.a != trail.b:
                    arc = (trail.a, trail.b)
            jumps[g.offs[k]] = arc
        elif fl & _BC_RETURN:
            cur = _bc_at_line(g, k)
            returns[g.offs[k]] = (cur, -g.first) if cur != _BC_NONE else None
        elif g.ops[k] == _bc_RESUME and g.args[k] != 0:
            yield_resumes.add(g.offs[k])
            ln = g.lines[k]
            if ln < 0 or not g.nsucc[k]:
                continue
            _bc_trail(g, k, g.s0[k], ln, &trail)
            if _bc_claims(g, &trail, ln, outs, mask):
                resumes[g.offs[k]] = ((trail.a, trail.b),)
                n_claims += 1
    for i in range(nsrc):
        x = order[i]
        if g.crumb[x] != _BC_NONE:
            crumb_lines[g.offs[x]] = (g.crumb[x], g.lines[x])
    for i in range(ncj):
        crumb_jumps[g.offs[cj_order[i]]] = g.offs[cj_x[cj_order[i]]]
    # The current line of each code unit goes into units_out (zeroed by the
    # caller), or into a zeroed buffer of our own made a list for analyze_c().
    cdef int *lines_at = units_out
    if lines_at == NULL:
        lines_at = <int *>PyMem_Malloc((nunits + 1) * sizeof(int))
        if lines_at == NULL:
            raise MemoryError()
        memset(lines_at, 0, (nunits + 1) * sizeof(int))
    try:
        _bc_units_lines(g, nunits, lines_at)
        units = None if units_out != NULL else [lines_at[j] for j in range(nunits)]
    finally:
        if units_out == NULL:
            PyMem_Free(lines_at)
    cm = _bc_codemap_class().__new__(_bc_codemap_class())
    cm.first_line = g.first
    cm.line_records = line_records
    cm.branches = branches
    cm.jumps = jumps
    cm.returns = returns
    cm.resumes = resumes
    cm.unwind_lines = units
    cm.yield_resumes = yield_resumes
    cm.crumb_lines = crumb_lines
    cm.crumb_jumps = crumb_jumps
    cm.n_claims = n_claims
    return cm


cdef inline bint _bc_branch_loc(_BcCode *g, int k) noexcept:
    """Is instruction `k` a BRANCH location: a conditional jump whose event
    fires, reached, with its two successors?"""
    return (_bc_flags[g.ops[k]] & _BC_BRANCH_EVENT) != 0 and g.at[k] != _BC_NONE and g.nsucc[k] == 2


cdef int _codemap_c_alloc(CodeMapC *m, Py_ssize_t n, Py_ssize_t nrec_keys, Py_ssize_t nbranch) except -1:
    """Make `m`'s arrays for `n` code units (+ 1), room for `nrec_keys` record
    keys and `nbranch` BRANCH locations, with no LINE record, BRANCH location
    or arc anywhere yet.  On MemoryError the caller frees what was made."""
    cdef Py_ssize_t i
    m.rec_at = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    m.rec_keys = <uint64_t *>PyMem_Malloc((nrec_keys + 1) * sizeof(uint64_t))
    m.jump_keys = <uint64_t *>PyMem_Malloc(3 * (n + 1) * sizeof(uint64_t))
    m.bslot = <int *>PyMem_Malloc((n + 1) * sizeof(int))
    m.blocs = <BranchLoc *>PyMem_Malloc((nbranch + 1) * sizeof(BranchLoc))
    if m.rec_at == NULL or m.rec_keys == NULL or m.jump_keys == NULL or m.bslot == NULL or m.blocs == NULL:
        raise MemoryError()
    m.return_keys = m.jump_keys + (n + 1)
    m.resume_keys = m.jump_keys + 2 * (n + 1)
    for i in range(n + 1):
        m.rec_at[i] = -1
        m.bslot[i] = -1
    for i in range(3 * (n + 1)):
        m.jump_keys[i] = _ARC_NONE
    return 0


cdef int _bc_units_lines(_BcCode *g, Py_ssize_t nunits, int *lines_at) except -1:
    """The current line of each code unit into `lines_at` (zeroed).  (An
    exception can leave the frame "at" any code unit of an instruction, its
    inline caches included.)"""
    cdef int k, j, end
    cdef long long ln
    for k in range(g.count):
        ln = g.at[k]
        if ln != _BC_NONE and 0 < ln <= 0x7fffffff:
            end = g.offs[k + 1] >> 1 if k + 1 < g.count else <int>nunits
            for j in range(g.offs[k] >> 1, end):
                lines_at[j] = <int>ln
    return 0


cdef object _bc_codemap_c(_BcCode *g, Py_ssize_t nunits, int *order, int nsrc,
                          _BcTrail *runs, int *run_x, int nrun, _BcTrail *btrails, int *cj_x, int *cj_order,
                          int ncj, _BcOut *outs, unsigned int mask, int *units_out, CodeMapC *m):
    """_bc_codemap()'s line_records, branches, jumps, returns and resumes,
    made in `m` (zeroed; freed by the caller, even on error) with arcs
    packed (_arc_key), in the order _bc_codemap() makes them; the current
    line of each code unit into `units_out`.  Returns None, or
    (crumb_lines, crumb_jumps) when there are crumbs (the same dicts as
    _bc_codemap()'s; rare)."""
    cdef int count = g.count, i, x, k, r = 0, need, j, nb = 0, nrec
    cdef Py_ssize_t n = nunits + 1, used = 0
    cdef long long ln, s, cur
    cdef bint ok
    cdef _BcTrail *t
    cdef _BcTrail trail
    cdef BranchLoc *b
    cdef uint64_t key
    for k in range(count):
        if _bc_branch_loc(g, k):
            nb += 1
    # A record is a count, the self-arc, perhaps the inferred incoming arc,
    # then claims (a run is claimed at most once).
    _codemap_c_alloc(m, nunits, 3 * <Py_ssize_t>nsrc + nrun, nb)
    # LINE: the self-arc, the inferred incoming arc, the claims.
    for i in range(nsrc):
        x = order[i]
        ln = g.lines[x]
        s = g.src[x]
        nrec = used
        used += 1
        m.rec_keys[used] = _arc_key(ln, ln)
        used += 1
        if s != _BC_MANY and s != ln:
            m.rec_keys[used] = _arc_key(s, ln)
            used += 1
        while r < nrun and run_x[r] == x:
            if _bc_claims(g, &runs[r], ln, outs, mask):
                m.rec_keys[used] = _arc_key(runs[r].a, runs[r].b)
                used += 1
            r += 1
        m.rec_keys[nrec] = <uint64_t>(used - nrec - 1)
        if 0 <= g.offs[x] >> 1 < n:
            m.rec_at[g.offs[x] >> 1] = <int>nrec
    # BRANCH locations.
    nb = 0
    for k in range(count):
        if _bc_branch_loc(g, k):
            cur = _bc_at_line(g, k)
            b = &m.blocs[nb]
            b.dest0 = g.offs[g.s0[k]]
            b.dest1 = g.offs[g.s1[k]]
            need = 0
            for j in range(2):
                t = &btrails[2 * k + j]
                ok = _bc_has_arc(t) and t.a != t.b
                key = _arc_key(t.a, t.b) if ok else _ARC_NONE
                if j:
                    b.key1 = key
                else:
                    b.key0 = key
                if cur != _BC_NONE and not _bc_recorded_elsewhere(g, t, ok, cur):
                    need |= 1 << j
            b.need = <unsigned char>need
            if need:
                m.need_branch = True
            if 0 <= g.offs[k] >> 1 < n:
                m.bslot[g.offs[k] >> 1] = nb
            nb += 1
    m.nbranch = nb
    # JUMP and PY_RETURN locations; resume points of generators.
    for k in range(count):
        if g.at[k] == _BC_NONE or not (0 <= g.offs[k] >> 1 < n):
            continue
        i = g.offs[k] >> 1
        fl = _bc_flags[g.ops[k]]
        if fl & _BC_JUMP_EVENT:
            cur = _bc_at_line(g, k)
            if cur != _BC_NONE and g.nsucc[k]:
                _bc_trail(g, k, g.s0[k], cur, &trail)
                if _bc_has_arc(&trail) and trail.a != trail.b:
                    m.jump_keys[i] = _arc_key(trail.a, trail.b)
        elif fl & _BC_RETURN:
            cur = _bc_at_line(g, k)
            if cur != _BC_NONE:
                m.return_keys[i] = _arc_key(cur, -g.first)
        elif g.ops[k] == _bc_RESUME and g.args[k] != 0:
            ln = g.lines[k]
            if ln < 0 or not g.nsucc[k]:
                continue
            _bc_trail(g, k, g.s0[k], ln, &trail)
            if _bc_claims(g, &trail, ln, outs, mask):
                m.resume_keys[i] = _arc_key(trail.a, trail.b)
                m.has_resumes = True
    _bc_units_lines(g, nunits, units_out)
    crumb_lines = None
    crumb_jumps = None
    for i in range(nsrc):
        x = order[i]
        if g.crumb[x] != _BC_NONE:
            if crumb_lines is None:
                crumb_lines = {}
            crumb_lines[g.offs[x]] = (g.crumb[x], g.lines[x])
    for i in range(ncj):
        if crumb_jumps is None:
            crumb_jumps = {}
        crumb_jumps[g.offs[cj_order[i]]] = g.offs[cj_x[cj_order[i]]]
    if crumb_lines is None and crumb_jumps is None:
        return None
    return crumb_lines, crumb_jumps


def _code_map_c_for_tests(code):
    """The tracer's code map of `code` (_bc_codemap_c), as the CodeMap fields
    it stands for: ``(line_records, branches, jumps, returns, resumes,
    crumb_lines, crumb_jumps, need_branch, unwind_lines)``, with the jumps
    and returns that record nothing left out (None in the CodeMap) and
    empty dicts for no crumbs.  For tests."""
    cdef Py_ssize_t nunits = len(code.co_code) // 2, i, k
    cdef CodeMapC m
    cdef BranchLoc *b
    cdef int *units = <int *>PyMem_Malloc((nunits + 1) * sizeof(int))
    if units == NULL:
        raise MemoryError()
    memset(units, 0, (nunits + 1) * sizeof(int))
    memset(&m, 0, sizeof(CodeMapC))
    def arc(uint64_t key):
        return (<int>(<uint32_t>(key >> 32)), <int>(<uint32_t>key))
    try:
        crumbs = _bc_analyze(code, units, &m)
        records = {}
        branches = {}
        jumps = {}
        returns = {}
        resumes = {}
        for i in range(nunits + 1):
            if m.rec_at[i] >= 0:
                k = m.rec_at[i]
                records[2 * i] = tuple(arc(m.rec_keys[k + 1 + j]) for j in range(<Py_ssize_t>m.rec_keys[k]))
            if m.bslot[i] >= 0:
                b = &m.blocs[m.bslot[i]]
                branches[2 * i] = (b.dest0, arc(b.key0) if b.key0 != _ARC_NONE else None,
                                   b.dest1, arc(b.key1) if b.key1 != _ARC_NONE else None, b.need)
            if m.jump_keys[i] != _ARC_NONE:
                jumps[2 * i] = arc(m.jump_keys[i])
            if m.return_keys[i] != _ARC_NONE:
                returns[2 * i] = arc(m.return_keys[i])
            if m.resume_keys[i] != _ARC_NONE:
                resumes[2 * i] = (arc(m.resume_keys[i]),)
        crumb_lines, crumb_jumps = crumbs if crumbs is not None else ({}, {})
        return (records, branches, jumps, returns, resumes, crumb_lines or {}, crumb_jumps or {},
                bool(m.need_branch), [units[i] for i in range(nunits)])
    finally:
        _codemap_c_free(&m)
        PyMem_Free(units)


def _first_resume_end_for_tests(code):
    """(covcore_first_resume_end(code), _resume_end(code.co_code)), for
    tests: the code object's field and the scan of its bytecode."""
    return covcore_first_resume_end(code), _resume_end(code.co_code)
