"""Branch mode of the probe backend (Python 3.11): where arc probes go.

(The reference implementation, in Python, for 3.11's bytecode;
``covcore._tracer.rewrite_arcs_c`` is the same in C, and is what runs, on
3.11 and on 3.10.  On 3.10 it follows the same plan in 3.10's bytecode (see
:mod:`covcore.probes`): an arc probe is ``LOAD_CONST _arc_probe; LOAD_CONST
arc; CALL_FUNCTION 1; POP_TOP``; a ``SETUP_*`` target is a handler, reached
with "several" current lines; the entry edge of a code object whose first
instruction has a line is a probe before that instruction; trampolines jump
back with ``JUMP_ABSOLUTE``.  tests/test_probes.py compares 3.10's arcs with
ctrace's over the standard library, as on 3.11.)

A trace function records the arc ``(a, b)`` when line ``b`` fires a line
event in a frame whose previous line event was ``a`` (``a`` is
``-co_firstlineno`` at the start of a call; ``b`` is ``-co_firstlineno`` at a
return).  A self-removing probe can't know where execution came from, so
this module works that out beforehand, per code object:

* the *current line* at every instruction (the trace function's "last
  line"), by a forward data-flow over the instruction graph (normal and
  exception-table edges): after an instruction with a line number it is that
  line (a line event fired there, or the line was current already); an
  instruction without one, ``RESUME`` and the prefix before it pass on what
  they received; the code object's entry is ``-co_firstlineno``.  A value is
  one line, or "several" when paths disagree;
* *targets*: the instructions where line events fire (those the line-mode
  probes mark: :mod:`covcore.probes`), and ``RETURN_VALUE`` (a real return:
  the arc to ``-co_firstlineno``; a ``yield`` records nothing, as with a
  trace function);
* at a target whose every incoming edge brings the same known line ``q``,
  one probe records ``(q, dest)``; otherwise each incoming normal edge whose
  line ``q`` is known gets a probe recording ``(q, dest)`` (on a
  fall-through, just before the target; on a jump, in a trampoline after
  the code: probe, then a jump to the target), and the target itself gets a
  probe recording the self-arc ``(line, line)``, "this line ran", which
  reports read as such (:func:`covcore.bytecode.resolve_arcs`).  An edge
  from an instruction without a line number that can only go on to the
  target (3.11's jump back to a loop's head after an ``if`` at the end of
  its body) is followed back to the edges into that instruction.

Arcs into exception handlers (from whichever line raised) are not recorded
as such: the handler records its self-arc.  Reports only use the lines that
ran and the arcs from lines with several possible destinations (branch
lines), which never include exception arcs; what this records gives both
exactly as the trace function does (``tests/test_probes.py`` compares the
two on the test programs, the snippets and the standard library).

Trampolines keep what the jump they replace did: a backward jump becomes a
forward jump to its trampoline, whose jump back checks for interrupts as the
original did, inside the same exception handler.
"""

from __future__ import annotations

import opcode
from types import CodeType

from covcore.probes import parse_exception_table, encode_exception_table

TOP = object()      # "several lines"

_OP = opcode.opmap
_CACHES = list(getattr(opcode, "_inline_cache_entries", [0] * 256))
_JREL = frozenset(opcode.hasjrel)
_BACKWARD = frozenset(op for op in _JREL if "BACKWARD" in opcode.opname[op])
EXTENDED_ARG = _OP["EXTENDED_ARG"]
RESUME = _OP.get("RESUME", -1)
RETURN_VALUE = _OP["RETURN_VALUE"]
PUSH_NULL = _OP.get("PUSH_NULL", -1)
LOAD_CONST = _OP["LOAD_CONST"]
PRECALL = _OP.get("PRECALL", -1)
CALL = _OP.get("CALL", -1)
POP_TOP = _OP["POP_TOP"]
KW_NAMES = _OP.get("KW_NAMES", -1)
COMPARE_OP = _OP["COMPARE_OP"]
JUMP_FORWARD = _OP["JUMP_FORWARD"]
JUMP_BACKWARD = _OP.get("JUMP_BACKWARD", -1)
JUMP_BACKWARD_NO_INTERRUPT = _OP.get("JUMP_BACKWARD_NO_INTERRUPT", -1)
_NO_FALL = frozenset(_OP[n] for n in ("RETURN_VALUE", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD",
                                      "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT") if n in _OP)
_POP_JUMPS = frozenset(op for op in _JREL if opcode.opname[op].startswith("POP_JUMP"))
#: A backward jump and the forward jump that replaces it (its trampoline is after the code).
_FORWARD_OF = {
    op: _OP[opcode.opname[op].replace("BACKWARD", "FORWARD").replace("_NO_INTERRUPT", "")]
    for op in _BACKWARD
}
#: Backward jumps that check for interrupts (their trampoline's jump back must too).
_CHECKS = frozenset(op for op in _BACKWARD if op != JUMP_BACKWARD_NO_INTERRUPT)

#: Extra stack an arc probe needs (NULL, the callable, the arc).
PROBE_STACK = 3


def _ext_count(arg: int) -> int:
    return 0 if arg < 0x100 else 1 if arg < 0x10000 else 2 if arg < 0x1000000 else 3


def _decode(co: bytes):
    starts, ops, args, owns = [], [], [], []
    n = len(co) // 2
    i = start = ext = 0
    while i < n:
        op = co[2 * i]
        arg = co[2 * i + 1] | ext
        if op == EXTENDED_ARG:
            ext = arg << 8
            i += 1
            continue
        starts.append(start)
        ops.append(op)
        args.append(arg)
        owns.append(i)
        ext = 0
        i += 1 + _CACHES[op]
        start = i
    return starts, ops, args, owns


def rewrite_arcs(code: CodeType, consts: list, probe) -> "CodeType | None":
    """`code` with arc probes (see the module docstring) and ``consts``
    (nested code objects already replaced) as constants, or None if nothing
    in it gets a probe.

    This is the reference implementation; covcore runs the compiled one,
    ``covcore._tracer.rewrite_arcs_c``, which tests/test_probes.py checks
    gives byte-identical code objects.

    :raises ValueError: a jump or exception-table entry that doesn't land on
        an instruction.
    """
    co = code.co_code
    starts, ops, args, owns = _decode(co)
    n = len(ops)
    nunits = len(co) // 2
    positions = list(code.co_positions())
    lines = [positions[owns[k]][0] for k in range(n)]
    index_of = {s: k for k, s in enumerate(starts)}
    index_of[nunits] = n
    first = code.co_firstlineno
    resume = next((k for k in range(n) if ops[k] == RESUME), -1)
    if resume < 0:
        return None
    jump_to = {}
    for k in range(n):
        op = ops[k]
        if op in _JREL:
            after = owns[k] + 1 + _CACHES[op]
            t = after - args[k] if op in _BACKWARD else after + args[k]
            tk = index_of.get(t)
            if tk is None or tk >= n:
                raise ValueError(f"jump to {t} is not an instruction in {code.co_name}")
            jump_to[k] = tk
    try:
        exc = [(index_of[s], index_of[e], index_of[t], dl)
               for s, e, t, dl in parse_exception_table(code.co_exceptiontable)]
    except KeyError:
        raise ValueError(f"exception table entry not on instructions in {code.co_name}") from None
    handlers = {t for _, _, t, _ in exc}
    covering = [-1] * n          # the exception entry covering each instruction
    for x, (s, e, _, _) in enumerate(exc):
        for k in range(s, e):
            covering[k] = x
    from_other_line = set()
    for k, tk in jump_to.items():
        if lines[k] != lines[tk]:
            from_other_line.add(tk)
    # Where line events fire (as covcore.probes places line probes).
    site = [False] * n
    for k in range(resume + 1, n):
        line = lines[k]
        if line is not None and (k == resume + 1 or line != lines[k - 1] or k in handlers
                                 or k in from_other_line):
            site[k] = True
    # The current line before each instruction.
    passes = [k <= resume or lines[k] is None or ops[k] == RESUME for k in range(n)]
    cur_in: list = [None] * n
    cur_in[0] = -first
    work = [0]
    while work:
        k = work.pop()
        out = cur_in[k] if passes[k] else lines[k]
        succ = []
        if ops[k] not in _NO_FALL and k + 1 < n:
            succ.append(k + 1)
        if k in jump_to:
            succ.append(jump_to[k])
        if covering[k] >= 0:
            succ.append(exc[covering[k]][2])
        for t in succ:
            old = cur_in[t]
            new = out if old is None or old == out else TOP
            if new is not old and new != old:
                cur_in[t] = new
                work.append(t)

    def cur_out(k):
        return cur_in[k] if passes[k] else lines[k]

    preds: list = [[] for _ in range(n)]
    for k in range(n):
        if cur_in[k] is None:
            continue                # unreachable
        if ops[k] not in _NO_FALL and k + 1 < n:
            preds[k + 1].append((k, False))
        if k in jump_to:
            preds[jump_to[k]].append((k, True))
    site_arc = {}                   # k -> arc recorded just before instruction k
    fall_arc = {}                   # k -> arc of the fall-through from k - 1 into k
    jump_arc = {}                   # k -> arc of k's jump (in a trampoline)
    for t in range(n):
        is_ret = ops[t] == RETURN_VALUE
        if cur_in[t] is None or not (site[t] or is_ret):
            continue
        dest = -first if is_ret else lines[t]
        qs = {cur_out(u) for u, _ in preds[t]}
        if t in handlers:
            qs.add(TOP)
        if len(qs) == 1 and TOP not in qs:
            site_arc[t] = (next(iter(qs)), dest)
            continue
        _edge_probes(t, dest, preds, cur_out, passes, ops, jump_to, fall_arc, jump_arc, 8)
        if not is_ret:
            site_arc[t] = (dest, dest)
    if not (site_arc or fall_arc or jump_arc):
        return None
    return _lay_out(code, consts, probe, starts, ops, args, owns, positions, jump_to, exc, covering,
                    site_arc, fall_arc, jump_arc)


def _single_successor(u, ops, jump_to):
    """The one instruction `u` always goes on to (no line event in between), or None."""
    if u in jump_to:
        return jump_to[u] if ops[u] in _NO_FALL else None
    return None if ops[u] in _NO_FALL else u + 1


def _edge_probes(t, dest, preds, cur_out, passes, ops, jump_to, fall_arc, jump_arc, depth):
    """Arc probes on the edges into `t` whose current line is known.  An edge
    from an instruction without a line of its own that can only go on to `t`
    (a jump back to a loop's head, say), reached from several lines, is
    followed back to the edges into it."""
    for u, by_jump in preds[t]:
        q = cur_out(u)
        if q is TOP:
            if depth > 0 and passes[u] and _single_successor(u, ops, jump_to) == t:
                _edge_probes(u, dest, preds, cur_out, passes, ops, jump_to, fall_arc, jump_arc, depth - 1)
            continue
        if by_jump:
            jump_arc[u] = (q, dest)
        else:
            fall_arc[t] = (q, dest)


def _lay_out(code, consts, probe, starts, ops, args, owns, positions, jump_to, exc, covering,
             site_arc, fall_arc, jump_arc):
    n = len(ops)
    const_index: dict = {}

    def const(value) -> int:
        key = (type(value), value)
        if key not in const_index:
            const_index[key] = len(consts)
            consts.append(value)
        return const_index[key]

    arc_consts = {}
    for k in range(n):
        for arcs in (fall_arc, site_arc, jump_arc):
            arc = arcs.get(k)
            if arc is not None and arc not in arc_consts:
                arc_consts[arc] = const(arc)
    probe_const = len(consts)
    consts.append(probe)            # last: it marks the code as instrumented

    def probe_len(arc) -> int:
        return 11 + _ext_count(probe_const) + _ext_count(arc_consts[arc])

    ops = list(ops)
    for u in jump_arc:              # backward jumps to a trampoline go forward
        if ops[u] in _BACKWARD:
            ops[u] = _FORWARD_OF[ops[u]]
    tramps = sorted(jump_arc)
    ext = [0] * n
    back_ext = {u: 0 for u in tramps}
    block = [0] * (n + 1)           # where instruction k's probes begin
    land = [0] * n                  # where jumps to k land (its site probe, or itself)
    at = [0] * n                    # instruction k itself
    tstart = {}
    newarg = list(args)
    back_arg = {}
    for k in range(n):
        if k not in jump_to:
            ext[k] = _ext_count(args[k])
    while True:
        cur = 0
        for k in range(n):
            block[k] = cur
            if k in fall_arc:
                cur += probe_len(fall_arc[k])
            land[k] = cur
            if k in site_arc:
                cur += probe_len(site_arc[k])
            at[k] = cur
            cur += ext[k] + 1 + _CACHES[ops[k]]
        block[n] = cur
        for u in tramps:
            tstart[u] = cur
            cur += probe_len(jump_arc[u]) + back_ext[u] + 1
        total = cur
        changed = False
        for k, tk in jump_to.items():
            after = at[k] + ext[k] + 1 + _CACHES[ops[k]]
            dest = tstart[k] if k in jump_arc else land[tk]
            arg = after - dest if ops[k] in _BACKWARD else dest - after
            if arg < 0:
                raise ValueError(f"jump changed direction in {code.co_name}")
            if _ext_count(arg) > ext[k]:
                ext[k] = _ext_count(arg)
                changed = True
            newarg[k] = arg
        for u in tramps:
            after = tstart[u] + probe_len(jump_arc[u]) + back_ext[u] + 1
            arg = after - land[jump_to[u]]
            if _ext_count(arg) > back_ext[u]:
                back_ext[u] = _ext_count(arg)
                changed = True
            back_arg[u] = arg
        if not changed:
            break
    out = bytearray(2 * total)
    runs: list = []

    def emit(w, op, arg, nprefix):
        for e in range(nprefix, 0, -1):
            out[2 * w] = EXTENDED_ARG
            out[2 * w + 1] = (arg >> (8 * e)) & 0xFF
            w += 1
        out[2 * w] = op
        out[2 * w + 1] = arg & 0xFF
        return w + 1 + _CACHES[op]

    def emit_probe(w, arc):
        out[2 * w] = PUSH_NULL
        w = emit(w + 1, LOAD_CONST, probe_const, _ext_count(probe_const))
        a = arc_consts[arc]
        w = emit(w, LOAD_CONST, a, _ext_count(a))
        w = emit(w, PRECALL, 1, 0)
        w = emit(w, CALL, 1, 0)
        out[2 * w] = POP_TOP
        return w + 1

    def add_run(pos, units):
        if runs and runs[-1][0] == pos:
            runs[-1] = (pos, runs[-1][1] + units)
        else:
            runs.append((pos, units))

    w = 0
    for k in range(n):
        start = w
        if k in fall_arc:
            w = emit_probe(w, fall_arc[k])
        if k in site_arc:
            w = emit_probe(w, site_arc[k])
        w = emit(w, ops[k], newarg[k], ext[k])
        add_run(positions[owns[k]], w - start)
    new_exc = [(block[s], block[e], land[t], dl) for s, e, t, dl in exc]
    for u in tramps:
        start = w
        w = emit_probe(w, jump_arc[u])
        back = JUMP_BACKWARD if ops_original_checks(code, u, starts, args) else JUMP_BACKWARD_NO_INTERRUPT
        w = emit(w, back, back_arg[u], back_ext[u])
        add_run(positions[owns[u]], w - start)
        if covering[u] >= 0:
            _, _, t, dl = exc[covering[u]]
            new_exc.append((start, w, land[t], dl))
    if w != total:
        raise ValueError(f"layout error in {code.co_name}")
    from covcore._tracer import encode_runs

    return code.replace(
        co_code=bytes(out),
        co_consts=tuple(consts),
        co_linetable=encode_runs(runs, code.co_firstlineno),
        co_exceptiontable=encode_exception_table(new_exc),
        co_stacksize=code.co_stacksize + PROBE_STACK,
    )


def ops_original_checks(code: CodeType, u: int, starts: list, args: list) -> bool:
    """Did instruction `u` of `code` (a jump now going to its trampoline)
    check for interrupts, as backward jumps other than
    JUMP_BACKWARD_NO_INTERRUPT do?"""
    co = code.co_code
    unit = starts[u]
    while co[2 * unit] == EXTENDED_ARG:
        unit += 1
    return co[2 * unit] in _CHECKS
