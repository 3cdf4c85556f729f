# The probe backend's branch-mode rewriter (Python 3.10 and 3.11), in C: the same
# plan and layout as covcore/probearcs.py describes (and implements, as the
# reference this is tested against), for every code object of every measured
# module.  Included by _tracer.pyx after _tracer_rewrite.pxi.

cdef unsigned char _NO_FALL_OP[256]
cdef unsigned char _FORWARD_OF_OP[256]
cdef int _op_RETURN_VALUE = _opcode.opmap["RETURN_VALUE"]
cdef int _op_JUMP_BACKWARD = _opcode.opmap.get("JUMP_BACKWARD", -1)
cdef int _op_JUMP_BACKWARD_NO_INTERRUPT = _opcode.opmap.get("JUMP_BACKWARD_NO_INTERRUPT", -1)

cdef int _UNSET = INT_MIN + 1       # current line: not reached yet
cdef int _TOP = INT_MIN + 2         # current line: several


cdef void _init_arc_tables():
    cdef int op
    memset(_NO_FALL_OP, 0, 256)
    memset(_FORWARD_OF_OP, 0, 256)
    for name in ("RETURN_VALUE", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD", "JUMP_BACKWARD",
                 "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE"):
        op = _opcode.opmap.get(name, -1)
        if 0 <= op < 256:
            _NO_FALL_OP[op] = 1
    for op in _opcode.hasjrel:
        name = _opcode.opname[op]
        if "BACKWARD" in name:
            fwd = _opcode.opmap.get(name.replace("BACKWARD", "FORWARD").replace("_NO_INTERRUPT", ""), -1)
            if 0 <= fwd < 256:
                _FORWARD_OF_OP[op] = fwd


_init_arc_tables()


cdef int _op_JUMP_ABSOLUTE = _opcode.opmap.get("JUMP_ABSOLUTE", -1)
# An arc probe without its EXTENDED_ARGs: 3.11 PUSH_NULL, LOAD_CONST x2,
# PRECALL (+1 cache), CALL (+4), POP_TOP; 3.10 LOAD_CONST x2,
# CALL_FUNCTION 1, POP_TOP.
cdef int _ARC_PROBE_UNITS = 4 if _PY310 else 11


cdef inline int _nprefix(long arg):
    return 0 if arg < 0x100 else 1 if arg < 0x10000 else 2 if arg < 0x1000000 else 3


cdef struct ArcPlan:
    int a
    int b


cdef void _edge_probes_c(int t, int dest, int *pred_start, int *pred_src, char *pred_jump, int *cur_in,
                         int *lines, char *passes, int *ops, int *jump_to, char *has_fall, ArcPlan *fall,
                         char *has_jump, ArcPlan *jmp, int depth):
    cdef int x, u, q, single
    for x in range(pred_start[t], pred_start[t + 1]):
        u = pred_src[x]
        q = cur_in[u] if passes[u] else lines[u]
        if q == _TOP:
            if depth > 0 and passes[u]:
                if jump_to[u] >= 0 and not _SETUP_OP[ops[u]]:
                    single = jump_to[u] if _NO_FALL_OP[ops[u]] else -1
                else:
                    single = -1 if _NO_FALL_OP[ops[u]] else u + 1
                if single == t:
                    _edge_probes_c(u, dest, pred_start, pred_src, pred_jump, cur_in, lines, passes, ops,
                                   jump_to, has_fall, fall, has_jump, jmp, depth - 1)
            continue
        if pred_jump[x]:
            has_jump[u] = 1
            jmp[u].a = q
            jmp[u].b = dest
        else:
            has_fall[t] = 1
            fall[t].a = q
            fall[t].b = dest


def rewrite_arcs_c(code, list consts, probe):
    """covcore.probearcs.rewrite_arcs, compiled (see there)."""
    cdef bytes co = code.co_code
    cdef const unsigned char *b = co
    cdef Py_ssize_t nunits = len(co) // 2
    cdef bytes etab = b"" if _PY310 else code.co_exceptiontable
    cdef const unsigned char *et = etab
    cdef Py_ssize_t etn = len(etab)
    cdef int n = 0, i, k, start, ext, op, arg, t, tk, nexc = 0, x, u, resume = -1, first, line, q, dest
    cdef int wtop, npred, cur, total, w, e, qv, nt, s0, e0, t0, d0
    cdef bint changed, any_arc = False, is_ret, several
    cdef Py_ssize_t per = nunits + 1
    # int arrays, each `per` long: see the names below.
    cdef int *mem = <int *>PyMem_Malloc(sizeof(int) * per * 20 + 64)
    cdef char *flags = <char *>PyMem_Malloc(per * 8 + 64)
    cdef ArcPlan *plans = <ArcPlan *>PyMem_Malloc(sizeof(ArcPlan) * per * 3 + 64)
    if mem == NULL or flags == NULL or plans == NULL:
        PyMem_Free(mem)
        PyMem_Free(flags)
        PyMem_Free(plans)
        raise MemoryError()
    cdef int *ops = mem
    cdef int *args = mem + per
    cdef int *owns = mem + 2 * per
    cdef int *starts = mem + 3 * per
    cdef int *lines = mem + 4 * per
    cdef int *jump_to = mem + 5 * per
    cdef int *index_of = mem + 6 * per
    cdef int *covering = mem + 7 * per
    cdef int *cur_in = mem + 8 * per
    cdef int *work = mem + 9 * per
    cdef int *pred_start = mem + 10 * per
    cdef int *pred_src = mem + 11 * per        # 2 * per long
    cdef int *exts = mem + 13 * per
    cdef int *block = mem + 14 * per
    cdef int *land = mem + 15 * per
    cdef int *at = mem + 16 * per
    cdef int *newarg = mem + 17 * per
    cdef int *tstart = mem + 18 * per
    cdef int *back_arg = mem + 19 * per
    cdef char *site = flags
    cdef char *passes = flags + per
    cdef char *inwork = flags + 2 * per
    cdef char *pred_jump = flags + 3 * per     # 2 * per long
    cdef char *has_site = flags + 5 * per
    cdef char *has_fall = flags + 6 * per
    cdef char *has_jump = flags + 7 * per
    cdef ArcPlan *site_p = plans
    cdef ArcPlan *fall_p = plans + per
    cdef ArcPlan *jump_p = plans + 2 * per
    cdef list exc = []
    cdef Py_ssize_t ei = 0, covered = 0
    cdef _Pos *pos = NULL
    try:
        memset(flags, 0, per * 8)
        for i in range(per):
            index_of[i] = -1
        # Decode.
        i = 0
        start = 0
        ext = 0
        while i < nunits:
            op = b[2 * i]
            arg = b[2 * i + 1] | ext
            if op == _EXTENDED_ARG:
                ext = arg << 8
                i += 1
                continue
            index_of[start] = n
            ops[n] = op
            args[n] = arg
            owns[n] = i
            starts[n] = start
            jump_to[n] = -1
            covering[n] = -1
            n += 1
            ext = 0
            i += 1 + _NCACHES[op]
            start = i
        index_of[nunits] = n
        pos = _unit_positions(code, nunits, &covered)
        for k in range(n):
            if owns[k] >= covered:
                raise ValueError("the location table of %s does not cover its code" % code.co_name)
            line = pos[owns[k]].line
            lines[k] = NO_LINE_NUMBER if line == -1 else line
            if ops[k] == _op_RESUME and resume < 0:
                resume = k
        if resume < 0 and not _PY310:      # (3.10 has no RESUME: from the first instruction)
            return None
        first = code.co_firstlineno
        for k in range(n):
            op = ops[k]
            if _is_jump(op):
                t = _jump_target(op, owns[k], args[k])
                if t < 0 or t >= nunits or index_of[t] < 0:
                    raise ValueError("jump to %d is not an instruction in %s" % (t, code.co_name))
                jump_to[k] = index_of[t]
                if _SETUP_OP[op]:
                    # 3.10: its target is an exception handler, reached
                    # from wherever the protected code raises.
                    site[index_of[t]] = 2
        # Exception table, in instructions.
        while ei < etn:
            s0 = _read_varint_be(et, etn, &ei)
            e0 = s0 + _read_varint_be(et, etn, &ei)
            t0 = _read_varint_be(et, etn, &ei)
            d0 = _read_varint_be(et, etn, &ei)
            if s0 > nunits or e0 > nunits or t0 >= nunits or index_of[s0] < 0 or index_of[e0] < 0 \
                    or index_of[t0] < 0:
                raise ValueError("exception table entry not on instructions in %s" % code.co_name)
            exc.append((index_of[s0], index_of[e0], index_of[t0], d0))
        nexc = len(exc)
        for x in range(nexc):
            s0, e0, t0, d0 = exc[x]
            for k in range(s0, e0):
                covering[k] = x
            site[t0] = 2            # a handler (2: also "is a handler")
        # Where line events fire (as the line-mode rewriter's probes).
        for k in range(n):
            if jump_to[k] >= 0 and lines[k] != lines[jump_to[k]] and site[jump_to[k]] == 0 \
                    and not _SETUP_OP[ops[k]]:
                site[jump_to[k]] = 3    # from another line (not a handler)
        for k in range(n):
            x = site[k]
            site[k] = 0
            if k <= resume or lines[k] == NO_LINE_NUMBER:
                continue
            if k == resume + 1 or lines[k] != lines[k - 1] or x != 0:
                site[k] = 2 if x == 2 else 1
        # The current line before each instruction.
        for k in range(n):
            passes[k] = k <= resume or lines[k] == NO_LINE_NUMBER or ops[k] == _op_RESUME
            cur_in[k] = _UNSET
        cur_in[0] = -first
        work[0] = 0
        inwork[0] = 1
        wtop = 1
        while wtop > 0:
            wtop -= 1
            k = work[wtop]
            inwork[k] = 0
            q = cur_in[k] if passes[k] else lines[k]
            for x in range(3):
                if x == 0:
                    t = k + 1 if (not _NO_FALL_OP[ops[k]] and k + 1 < n) else -1
                elif x == 1:
                    t = jump_to[k]
                else:
                    t = exc[covering[k]][2] if covering[k] >= 0 else -1
                if t < 0:
                    continue
                qv = cur_in[t]
                if x == 1 and _SETUP_OP[ops[k]]:
                    qv = _TOP           # 3.10: a handler, from whichever line raised
                elif qv == _UNSET:
                    qv = q
                elif qv != q:
                    qv = _TOP
                if qv != cur_in[t]:
                    cur_in[t] = qv
                    if not inwork[t]:
                        inwork[t] = 1
                        work[wtop] = t
                        wtop += 1
        # Incoming normal edges of each instruction (CSR).
        for k in range(n + 1):
            pred_start[k] = 0
        for k in range(n):
            if cur_in[k] == _UNSET:
                continue
            if not _NO_FALL_OP[ops[k]] and k + 1 < n:
                pred_start[k + 1] += 1
            if jump_to[k] >= 0 and not _SETUP_OP[ops[k]]:
                pred_start[jump_to[k]] += 1
        npred = 0
        for k in range(n + 1):
            x = pred_start[k]
            pred_start[k] = npred
            npred += x
        for k in range(n + 1):
            work[k] = pred_start[k]     # fill positions
        for k in range(n):
            if cur_in[k] == _UNSET:
                continue
            if not _NO_FALL_OP[ops[k]] and k + 1 < n:
                pred_src[work[k + 1]] = k
                pred_jump[work[k + 1]] = 0
                work[k + 1] += 1
            if jump_to[k] >= 0 and not _SETUP_OP[ops[k]]:
                pred_src[work[jump_to[k]]] = k
                pred_jump[work[jump_to[k]]] = 1
                work[jump_to[k]] += 1
        # The plan.
        for t in range(n):
            is_ret = ops[t] == _op_RETURN_VALUE
            if cur_in[t] == _UNSET or not (site[t] or is_ret):
                continue
            dest = -first if is_ret else lines[t]
            several = site[t] == 2      # a handler: reached from anywhere
            qv = _UNSET
            if t == 0:
                qv = -first             # 3.10: the code object's entry
            for x in range(pred_start[t], pred_start[t + 1]):
                u = pred_src[x]
                q = cur_in[u] if passes[u] else lines[u]
                if q == _TOP or (qv != _UNSET and q != qv):
                    several = True
                qv = q
            if not several and qv != _UNSET:
                has_site[t] = 1
                site_p[t].a = qv
                site_p[t].b = dest
                any_arc = True
                continue
            _edge_probes_c(t, dest, pred_start, pred_src, pred_jump, cur_in, lines, passes, ops, jump_to,
                           has_fall, fall_p, has_jump, jump_p, 8)
            if t == 0:
                # 3.10: the entry, as a probe before the first instruction
                # (jumps to it land after that probe).
                has_fall[0] = 1
                fall_p[0].a = -first
                fall_p[0].b = dest
            if not is_ret:
                has_site[t] = 1
                site_p[t].a = dest
                site_p[t].b = dest
            any_arc = True
        if not any_arc:
            for k in range(n):
                if has_fall[k] or has_jump[k]:
                    any_arc = True
                    break
            if not any_arc:
                return None
        return _lay_out_arcs(code, consts, probe, n, ops, args, owns, exts, pos, jump_to, exc,
                             covering, has_site, site_p, has_fall, fall_p, has_jump, jump_p, block, land,
                             at, newarg, tstart, back_arg)
    finally:
        PyMem_Free(mem)
        PyMem_Free(flags)
        PyMem_Free(plans)
        PyMem_Free(pos)


cdef object _lay_out_arcs(code, list consts, probe, int n, int *ops, int *args, int *owns, int *exts,
                          const _Pos *pos, int *jump_to, list exc, int *covering, char *has_site,
                          ArcPlan *site_p, char *has_fall, ArcPlan *fall_p, char *has_jump,
                          ArcPlan *jump_p, int *block, int *land, int *at, int *newarg, int *tstart,
                          int *back_arg):
    cdef dict const_of = {}
    cdef int k, cur, total, w, e, arg, u, tk, probe_const, pl, after, dest, ci, j
    cdef bint changed
    cdef list tramps = []
    cdef int *checks = NULL
    # Constants: each arc once, then the probe (last: it marks the code).
    for k in range(n):
        for kind in range(3):
            if kind == 0 and has_fall[k]:
                arc = (fall_p[k].a, fall_p[k].b)
            elif kind == 1 and has_site[k]:
                arc = (site_p[k].a, site_p[k].b)
            elif kind == 2 and has_jump[k]:
                arc = (jump_p[k].a, jump_p[k].b)
            else:
                continue
            if arc not in const_of:
                const_of[arc] = len(consts)
                consts.append(arc)
    probe_const = len(consts)
    consts.append(probe)
    # Backward jumps that go to a trampoline go forward; their trampolines
    # jump back checking for interrupts as they did.
    # ... and per run of one position in the new code (at most one per
    # instruction and one per trampoline): its position (a unit of the old
    # code) and its length in units (see _encode_positions).
    cdef int *orig_op = <int *>PyMem_Malloc(sizeof(int) * (5 * n + 3))
    if orig_op == NULL:
        raise MemoryError()
    cdef int *run_pos = orig_op + (n + 1)
    cdef int *run_units = orig_op + (3 * n + 2)
    cdef Py_ssize_t nruns = 0
    try:
        for k in range(n):
            orig_op[k] = ops[k]
            if has_jump[k]:
                tramps.append(k)
                if _JREL_OP[ops[k]] == 2:
                    ops[k] = _FORWARD_OF_OP[ops[k]]
            exts[k] = 0 if jump_to[k] >= 0 else _nprefix(args[k])
            back_arg[k] = 0
        ntr = len(tramps)
        # back_ext per trampoline, kept in tstart's twin: use newarg for main, a list here
        back_ext = [0] * ntr
        while True:
            cur = 0
            for k in range(n):
                block[k] = cur
                if has_fall[k]:
                    cur += _ARC_PROBE_UNITS + _nprefix(probe_const) + _nprefix(const_of[(fall_p[k].a, fall_p[k].b)])
                land[k] = cur
                if has_site[k]:
                    cur += _ARC_PROBE_UNITS + _nprefix(probe_const) + _nprefix(const_of[(site_p[k].a, site_p[k].b)])
                at[k] = cur
                cur += exts[k] + 1 + _NCACHES[ops[k]]
            block[n] = cur
            for j in range(ntr):
                u = tramps[j]
                tstart[u] = cur
                cur += _ARC_PROBE_UNITS + _nprefix(probe_const) + _nprefix(const_of[(jump_p[u].a, jump_p[u].b)]) \
                    + <int>back_ext[j] + 1
            total = cur
            changed = False
            for k in range(n):
                tk = jump_to[k]
                if tk < 0:
                    newarg[k] = args[k]
                    continue
                after = at[k] + exts[k] + 1 + _NCACHES[ops[k]]
                dest = tstart[k] if has_jump[k] else land[tk]
                arg = _jump_arg(ops[k], after, dest)
                if arg < 0:
                    raise ValueError("jump changed direction in %s" % code.co_name)
                if _nprefix(arg) > exts[k]:
                    exts[k] = _nprefix(arg)
                    changed = True
                newarg[k] = arg
            for j in range(ntr):
                u = tramps[j]
                pl = _ARC_PROBE_UNITS + _nprefix(probe_const) + _nprefix(const_of[(jump_p[u].a, jump_p[u].b)])
                after = tstart[u] + pl + <int>back_ext[j] + 1
                # (3.10: back with JUMP_ABSOLUTE, which checks for interrupts.)
                arg = land[jump_to[u]] if _PY310 else after - land[jump_to[u]]
                if _nprefix(arg) > <int>back_ext[j]:
                    back_ext[j] = _nprefix(arg)
                    changed = True
                back_arg[u] = arg
            if not changed:
                break
        out = bytearray(2 * total)
        ob = <unsigned char *>(<char *>out)
        w = 0
        for k in range(n):
            start_w = w
            if has_fall[k]:
                w = _emit_arc_probe(ob, w, probe_const, const_of[(fall_p[k].a, fall_p[k].b)])
            if has_site[k]:
                w = _emit_arc_probe(ob, w, probe_const, const_of[(site_p[k].a, site_p[k].b)])
            w = _emit_op(ob, w, ops[k], newarg[k], exts[k])
            nruns = _add_run(pos, run_pos, run_units, nruns, owns[k], w - start_w, True)
        new_exc = [(block[s0], block[e0], land[t0], d0) for s0, e0, t0, d0 in exc]
        for j in range(ntr):
            u = tramps[j]
            start_w = w
            w = _emit_arc_probe(ob, w, probe_const, const_of[(jump_p[u].a, jump_p[u].b)])
            if _PY310:
                back = _op_JUMP_ABSOLUTE
            elif _JREL_OP[orig_op[u]] == 2 and orig_op[u] != _op_JUMP_BACKWARD_NO_INTERRUPT:
                back = _op_JUMP_BACKWARD
            else:
                back = _op_JUMP_BACKWARD_NO_INTERRUPT
            w = _emit_op(ob, w, back, back_arg[u], back_ext[j])
            nruns = _add_run(pos, run_pos, run_units, nruns, owns[u], w - start_w, True)
            if covering[u] >= 0:
                s0, e0, t0, d0 = exc[covering[u]]
                new_exc.append((start_w, w, land[t0], d0))
        if w != total:
            raise ValueError("layout error in %s" % code.co_name)
        if _PY310:
            return code.replace(
                co_code=bytes(out),
                co_consts=tuple(consts),
                co_linetable=_encode_positions(pos, run_pos, run_units, nruns, code.co_firstlineno, True),
                co_stacksize=code.co_stacksize + 2,
            )
        return code.replace(
            co_code=bytes(out),
            co_consts=tuple(consts),
            co_linetable=_encode_positions(pos, run_pos, run_units, nruns, code.co_firstlineno, False),
            co_exceptiontable=_encode_exception_table(new_exc),
            co_stacksize=code.co_stacksize + 3,
        )
    finally:
        PyMem_Free(orig_op)


cdef inline int _emit_op(unsigned char *ob, int w, int op, long arg, int nprefix):
    cdef int e
    for e in range(nprefix, 0, -1):
        ob[2 * w] = _EXTENDED_ARG
        ob[2 * w + 1] = (arg >> (8 * e)) & 0xFF
        w += 1
    ob[2 * w] = op
    ob[2 * w + 1] = arg & 0xFF
    return w + 1 + _NCACHES[op]


cdef inline int _emit_arc_probe(unsigned char *ob, int w, int probe_const, int arc_const):
    if _PY310:
        w = _emit_op(ob, w, _op_LOAD_CONST, probe_const, _nprefix(probe_const))
        w = _emit_op(ob, w, _op_LOAD_CONST, arc_const, _nprefix(arc_const))
        w = _emit_op(ob, w, _op_CALL_FUNCTION, 1, 0)
        ob[2 * w] = _op_POP_TOP
        return w + 1
    ob[2 * w] = _PUSH_NULL
    w = _emit_op(ob, w + 1, _op_LOAD_CONST, probe_const, _nprefix(probe_const))
    w = _emit_op(ob, w, _op_LOAD_CONST, arc_const, _nprefix(arc_const))
    w = _emit_op(ob, w, _op_PRECALL, 1, 0)
    w = _emit_op(ob, w, _op_CALL, 1, 0)
    ob[2 * w] = _op_POP_TOP
    return w + 1
