# The probe backend's bytecode rewriter (Python 3.10 and 3.11), in C for speed: it
# runs once per code object of every measured module, at import time.
# Included by _tracer.pyx; what it does and why is described in
# covcore/probes.py, whose Instrumenter calls rewrite_code().  (_opcode: _tracer.pyx's
# _opcode_tables().)

cdef unsigned char _NCACHES[256]
cdef unsigned char _JREL_OP[256]        # 1: relative jump, 2: backward
cdef unsigned char _POPJUMP_OP[256]
cdef unsigned char _JABS_OP[256]        # 3.10: absolute jump (in code units)
cdef unsigned char _SETUP_OP[256]       # 3.10: SETUP_FINALLY/_WITH/_ASYNC_WITH (target: a handler)
# 3.10's bytecode: no inline caches, no exception table (handlers are the
# targets of SETUP_* instructions), absolute jumps, a probe is
# LOAD_CONST; CALL_FUNCTION 0; POP_TOP.
cdef int _op_CALL_FUNCTION = _opcode.opmap.get("CALL_FUNCTION", -1)
cdef int _op_RESUME = _opcode.opmap.get("RESUME", -1)
cdef int _op_CALL = _opcode.opmap.get("CALL", -1)
cdef int _op_PRECALL = _opcode.opmap.get("PRECALL", -1)
cdef int _op_KW_NAMES = _opcode.opmap.get("KW_NAMES", -1)
cdef int _op_COMPARE_OP = _opcode.opmap["COMPARE_OP"]
cdef int _op_LOAD_CONST = _opcode.opmap["LOAD_CONST"]
cdef int _op_POP_TOP = _opcode.opmap["POP_TOP"]


cdef void _init_opcode_tables():
    cdef int op
    memset(_NCACHES, 0, 256)
    memset(_JREL_OP, 0, 256)
    memset(_POPJUMP_OP, 0, 256)
    memset(_JABS_OP, 0, 256)
    memset(_SETUP_OP, 0, 256)
    if _PY310:
        for op in _opcode.hasjrel:
            _JREL_OP[op] = 1
            if _opcode.opname[op].startswith("SETUP_"):
                _SETUP_OP[op] = 1
        for op in _opcode.hasjabs:
            _JABS_OP[op] = 1
        return
    entries = getattr(_opcode, "_inline_cache_entries", [])
    if not isinstance(entries, list):
        return      # 3.13+: a dict; the rewriter is for 3.11 only
    for op, n in enumerate(entries):
        if op < 256:
            _NCACHES[op] = n
    for op in _opcode.hasjrel:
        _JREL_OP[op] = 2 if "BACKWARD" in _opcode.opname[op] else 1
        if _opcode.opname[op].startswith("POP_JUMP"):
            _POPJUMP_OP[op] = 1


_init_opcode_tables()

cdef int NO_LINE_NUMBER = INT_MIN


cdef inline int _is_jump(int op):
    return _JREL_OP[op] or _JABS_OP[op]


cdef inline long _jump_target(int op, long own, long arg):
    """The code unit a jump (`op` at unit `own`, argument `arg`) goes to:
    absolute (3.10), or relative to the unit after its inline caches."""
    if _JABS_OP[op]:
        return arg
    cdef long after = own + 1 + _NCACHES[op]
    return after - arg if _JREL_OP[op] == 2 else after + arg


cdef inline long _jump_arg(int op, long after, long dest):
    """The argument that makes a jump `op` ending at unit `after` (its
    inline caches included) go to unit `dest` (_jump_target's inverse);
    negative if the jump would have to change direction."""
    if _JABS_OP[op]:
        return dest
    return after - dest if _JREL_OP[op] == 2 else dest - after


def unit_lines_310(code):
    """3.10: the line number (or None) of each code unit of `code`."""
    cdef list out = [None] * (len(code.co_code) // 2)
    cdef Py_ssize_t u
    for start, end, line in code.co_lines():
        for u in range(start // 2, end // 2):
            out[u] = line
    return out


cdef int _read_varint_be(const unsigned char *t, Py_ssize_t n, Py_ssize_t *i) except -2:
    cdef int b, val
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


def rewrite_code(code, list consts, probe):
    """`code` with probes before the instructions covcore.probes describes,
    ``consts`` (nested code objects already replaced) as its constants, or
    None if no instruction gets a probe.

    :raises ValueError: a jump or exception-table entry that doesn't land
        on an instruction (bytecode this rewriter doesn't know).
    """
    cdef bytes co = code.co_code
    cdef const unsigned char *b = co
    cdef Py_ssize_t nunits = len(co) // 2
    cdef bytes etab = b"" if _PY310 else code.co_exceptiontable
    cdef const unsigned char *et = etab
    cdef Py_ssize_t etn = len(etab)
    cdef Py_ssize_t n = 0, i, k, start, ext, op, arg, t, tk, w, e, resume, cur, total, nexc, j
    cdef int line, pending, probe_len, probe_const, need, nu
    cdef bint wanted, changed, any_probe = False
    # One block: per instruction (at most nunits of them) ...
    cdef int *mem = <int *>PyMem_Malloc(sizeof(int) * (10 * nunits + 4 * (nunits + 1) + 8))
    if mem == NULL:
        raise MemoryError()
    cdef int *ops = mem
    cdef int *args = mem + nunits
    cdef int *exts = mem + 2 * nunits
    cdef int *owns = mem + 3 * nunits
    cdef int *lines = mem + 4 * nunits
    cdef int *jump_to = mem + 5 * nunits
    cdef int *flags = mem + 6 * nunits      # 1: jump target from another line, 2: handler
    cdef int *want = mem + 7 * nunits
    cdef int *istart = mem + 8 * nunits
    cdef int *newarg = mem + 9 * nunits
    # ... and per code unit (+1): the instruction starting there, or -1.
    cdef int *index_of = mem + 10 * nunits
    cdef int *pstart = mem + 10 * nunits + (nunits + 1)
    # ... and per run of one position in the new code: its position (a unit
    # of the old code) and its length in units (see _encode_positions).
    cdef int *run_pos = mem + 10 * nunits + 2 * (nunits + 1)
    cdef int *run_units = mem + 10 * nunits + 3 * (nunits + 1)
    cdef Py_ssize_t nruns = 0, covered = 0
    cdef _Pos *pos = NULL
    cdef list exc = []
    try:
        for i in range(nunits + 1):
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
            exts[n] = i - start
            owns[n] = i
            jump_to[n] = -1
            flags[n] = 0
            want[n] = 0
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
        # Jumps.
        for k in range(n):
            op = ops[k]
            if _is_jump(op):
                t = _jump_target(op, owns[k], args[k])
                if t < 0 or t > nunits or index_of[t] < 0:
                    raise ValueError("jump to %d is not an instruction in %s" % (t, code.co_name))
                tk = index_of[t]
                jump_to[k] = tk
                if tk < n and lines[k] != lines[tk]:
                    flags[tk] |= 1
                if tk < n and _SETUP_OP[op]:
                    flags[tk] |= 2
        # Exception table: (start, end, target, depth_lasti) in instructions.
        i = 0
        while i < etn:
            start = _read_varint_be(et, etn, &i)
            e = start + _read_varint_be(et, etn, &i)
            t = _read_varint_be(et, etn, &i)
            j = _read_varint_be(et, etn, &i)
            if start > nunits or e > nunits or t > nunits or index_of[start] < 0 or index_of[e] < 0 \
                    or index_of[t] < 0:
                raise ValueError("exception table entry not on instructions in %s" % code.co_name)
            exc.append((index_of[start], index_of[e], index_of[t], j))
            if index_of[t] < n:
                flags[index_of[t]] |= 2
        # Where probes go.
        resume = -1
        for k in range(n):
            if ops[k] == _op_RESUME:
                resume = k
                break
        if resume >= 0 or _PY310:     # (3.10 has no RESUME: from the first instruction)
            pending = NO_LINE_NUMBER
            for k in range(resume + 1, n):
                line = lines[k]
                if line == NO_LINE_NUMBER:
                    pending = NO_LINE_NUMBER
                    continue
                wanted = (k == resume + 1 or line != lines[k - 1] or flags[k] != 0
                          or (pending != NO_LINE_NUMBER and pending == line))
                if not wanted:
                    continue
                if ops[k] == _op_RESUME or ops[k] == _op_CALL or (k > 0 and (ops[k - 1] == _op_KW_NAMES or (
                        ops[k - 1] == _op_COMPARE_OP and _POPJUMP_OP[ops[k]]))):
                    pending = line
                    continue
                want[k] = 1
                any_probe = True
                pending = NO_LINE_NUMBER
        if not any_probe:
            return None
        probe_const = len(consts)
        consts.append(probe)
        if _PY310:
            probe_len = 3 if probe_const < 256 else 4
        else:
            probe_len = 10 if probe_const < 256 else 11
        # Lay out, growing EXTENDED_ARG prefixes of jumps until stable.
        while True:
            cur = 0
            for k in range(n):
                pstart[k] = cur
                if want[k]:
                    cur += probe_len
                istart[k] = cur
                cur += exts[k] + 1 + _NCACHES[ops[k]]
            pstart[n] = cur
            changed = False
            for k in range(n):
                tk = jump_to[k]
                if tk < 0:
                    newarg[k] = args[k]
                    continue
                t = istart[k] + exts[k] + 1 + _NCACHES[ops[k]]
                arg = _jump_arg(ops[k], t, pstart[tk])
                if arg < 0:
                    raise ValueError("jump changed direction in %s" % code.co_name)
                need = 0 if arg < 0x100 else 1 if arg < 0x10000 else 2 if arg < 0x1000000 else 3
                if need > exts[k]:
                    exts[k] = need
                    changed = True
                newarg[k] = arg
            if not changed:
                break
        total = pstart[n]
        out = bytearray(2 * total)
        ob = <unsigned char *>(<char *>out)
        w = 0
        for k in range(n):
            nu = exts[k] + 1 + _NCACHES[ops[k]]
            if want[k] and _PY310:
                if probe_len == 4:
                    ob[2 * w] = _EXTENDED_ARG
                    ob[2 * w + 1] = probe_const >> 8
                    w += 1
                ob[2 * w] = _op_LOAD_CONST
                ob[2 * w + 1] = probe_const & 0xFF
                ob[2 * w + 2] = _op_CALL_FUNCTION
                ob[2 * w + 4] = _op_POP_TOP
                w += 3
                nu += probe_len
            elif want[k]:
                ob[2 * w] = _PUSH_NULL
                if probe_len == 11:
                    ob[2 * w + 2] = _EXTENDED_ARG
                    ob[2 * w + 3] = probe_const >> 8
                    w += 1
                ob[2 * w + 2] = _op_LOAD_CONST
                ob[2 * w + 3] = probe_const & 0xFF
                ob[2 * w + 4] = _op_PRECALL
                ob[2 * w + 8] = _op_CALL
                ob[2 * w + 18] = _op_POP_TOP
                w += 10
                nu += probe_len
            arg = newarg[k]
            for e in range(exts[k], 0, -1):
                ob[2 * w] = _EXTENDED_ARG
                ob[2 * w + 1] = (arg >> (8 * e)) & 0xFF
                w += 1
            ob[2 * w] = ops[k]
            ob[2 * w + 1] = arg & 0xFF
            w += 1 + _NCACHES[ops[k]]
            # A run per position (each instruction's probe shares its position);
            # on 3.10, instructions of no line each get their own.
            nruns = _add_run(pos, run_pos, run_units, nruns, owns[k], nu,
                             not (_PY310 and pos[owns[k]].line == -1))
        if w != total:
            raise ValueError("layout error in %s" % code.co_name)
        if _PY310:
            return code.replace(
                co_code=bytes(out),
                co_consts=tuple(consts),
                co_linetable=_encode_positions(pos, run_pos, run_units, nruns, code.co_firstlineno, True),
                co_stacksize=code.co_stacksize + 1,
            )
        new_exc = [(pstart[s], pstart[en], pstart[tg], dl) for s, en, tg, dl in exc]
        return code.replace(
            co_code=bytes(out),
            co_consts=tuple(consts),
            co_linetable=_encode_positions(pos, run_pos, run_units, nruns, code.co_firstlineno, False),
            co_exceptiontable=_encode_exception_table(new_exc),
            co_stacksize=code.co_stacksize + 2,
        )
    finally:
        PyMem_Free(mem)
        PyMem_Free(pos)


cdef inline void _put_varint_be(bytearray out, unsigned int val, bint first):
    cdef unsigned char chunks[6]
    cdef int m = 0, j
    cdef unsigned char c
    chunks[0] = val & 63
    m = 1
    val >>= 6
    while val:
        chunks[m] = val & 63
        m += 1
        val >>= 6
    for j in range(m):
        c = chunks[m - 1 - j]
        if j < m - 1:
            c |= 64
        if j == 0 and first:
            c |= 128
        out.append(c)


def _encode_exception_table(list entries):
    """3.11's co_exceptiontable for (start, end, target, depth_lasti) in code units."""
    cdef bytearray out = bytearray()
    for s, en, tg, dl in entries:
        _put_varint_be(out, s, True)
        _put_varint_be(out, en - s, False)
        _put_varint_be(out, tg, False)
        _put_varint_be(out, dl, False)
    return bytes(out)
