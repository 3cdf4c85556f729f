"""Python 3.11 code-object instrumentation for the ``probe`` backend.

Under ``sys.settrace`` on Python 3.11 every instruction of every frame takes
the interpreter's slow tracing path (no specialisation, a check per
instruction), so a trace function can't be cheap.  The ``probe`` backend
instead rewrites the code objects of measured files as they are executed:
before each instruction where the trace function would have seen a new line,
it inserts a *probe*::

    PUSH_NULL
    LOAD_CONST   covcore._tracer._probe
    PRECALL 0    (+1 cache unit)
    CALL 0       (+4 cache units)
    POP_TOP

(10 code units; 11 when the constant's index needs an ``EXTENDED_ARG``).  The
first time a probe runs, ``_probe()`` records the line and overwrites the
probe's first unit with ``JUMP_FORWARD`` over the rest, so from then on the
probe costs one jump and the code runs at full speed with every adaptive
specialisation of 3.11.  A context switch (or a new session) writes the
``PUSH_NULL`` back: see :class:`covcore._tracer.ProbeTracer`.

Where probes go (so that the lines recorded are exactly the lines a trace
function records, ``covcore._tracer.CTracer`` on 3.11, which reports a line
when an instruction of it runs right after one of another line, or after a
backward jump):

* at the first instruction after the code object's first ``RESUME`` (3.11
  reports its line even when it is the ``RESUME``'s own: the instruction
  before is at or before ``_co_firsttraceable``), and at every later
  instruction whose line differs from the line of the instruction before it;
* at every jump target reached from an instruction of another line, and at
  every exception handler;
* never before ``RESUME`` (3.11's ``yield from`` finds its delegate by
  looking at the instruction after the ``YIELD_VALUE``), ``CALL`` (its
  ``PRECALL`` may skip it), after ``KW_NAMES`` (it sets state the next
  ``PRECALL`` reads) or between ``COMPARE_OP`` and a conditional jump (they
  specialise as a pair).  None of these starts a line in code CPython
  compiles; if one did, the probe is moved to the next instruction of the
  same line.

Everything else is kept: jump offsets, the exception table and the location
table are recomputed for the new layout (the probe's units carry the
location of the instruction they precede), ``co_stacksize`` grows by 2.

Code objects reach the instrumentation in two ways (:func:`install`): every
``exec()`` of a code object (``builtins.exec`` is replaced by a C function
while measuring: imports, ``runpy``, pytest's assertion rewriter and
``covcore run`` all execute module code through it), and, at start, a sweep
of the functions already defined in measured modules imported before
measurement started.
"""

from __future__ import annotations

import builtins
import gc
import opcode
import sys
from types import CodeType, FunctionType
from typing import Callable, Dict, List, Optional, Set, Tuple

#: True on the Pythons whose bytecode this module knows how to rewrite.
SUPPORTED = sys.version_info[:2] == (3, 11)

_OP = opcode.opmap
PUSH_NULL = _OP.get("PUSH_NULL", -1)
LOAD_CONST = _OP["LOAD_CONST"]
PRECALL = _OP.get("PRECALL", -1)
CALL = _OP.get("CALL", -1)
POP_TOP = _OP["POP_TOP"]
EXTENDED_ARG = _OP["EXTENDED_ARG"]
RESUME = _OP.get("RESUME", -1)
KW_NAMES = _OP.get("KW_NAMES", -1)
COMPARE_OP = _OP["COMPARE_OP"]
JUMP_FORWARD = _OP["JUMP_FORWARD"]
_CACHES: List[int] = list(getattr(opcode, "_inline_cache_entries", [0] * 256))
_JREL = frozenset(opcode.hasjrel)
_BACKWARD = frozenset(op for op in _JREL if "BACKWARD" in opcode.opname[op])
#: Instructions a probe may not be inserted before.
_NOT_BEFORE = frozenset((RESUME, CALL))
#: Instructions a probe may not be inserted after.
_NOT_AFTER = frozenset((KW_NAMES, EXTENDED_ARG))
#: COMPARE_OP specialises together with a conditional jump right after it.
_POP_JUMPS = frozenset(op for op in _JREL if opcode.opname[op].startswith("POP_JUMP"))

#: Extra stack a probe needs (NULL and the callable; the result replaces them).
PROBE_STACK = 2

Position = Tuple[Optional[int], Optional[int], Optional[int], Optional[int]]


def _decode(co: bytes) -> Tuple[List[int], List[int], List[int], List[int], List[int]]:
    """Split bytecode into instructions: (start unit incl. EXTENDED_ARG
    prefixes, opcode, argument, number of prefixes, own unit index)."""
    starts: List[int] = []
    ops: List[int] = []
    args: List[int] = []
    exts: List[int] = []
    owns: List[int] = []
    n = len(co) // 2
    i = 0
    start = 0
    ext = 0
    caches = _CACHES
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
        exts.append(i - start)
        owns.append(i)
        ext = 0
        i += 1 + caches[op]
        start = i
    return starts, ops, args, exts, owns


def _parse_varint_be(tab: bytes, i: int) -> Tuple[int, int]:
    b = tab[i]
    val = b & 63
    i += 1
    while b & 64:
        b = tab[i]
        val = (val << 6) | (b & 63)
        i += 1
    return val, i


def parse_exception_table(tab: bytes) -> List[Tuple[int, int, int, int]]:
    """3.11's ``co_exceptiontable``: (start, end, target, depth_lasti) in code units, end exclusive."""
    out = []
    i = 0
    n = len(tab)
    while i < n:
        start, i = _parse_varint_be(tab, i)
        size, i = _parse_varint_be(tab, i)
        target, i = _parse_varint_be(tab, i)
        dl, i = _parse_varint_be(tab, i)
        out.append((start, start + size, target, dl))
    return out


def _emit_varint_be(out: bytearray, val: int, first: bool) -> None:
    chunks = [val & 63]
    val >>= 6
    while val:
        chunks.append(val & 63)
        val >>= 6
    last = len(chunks) - 1
    for j, c in enumerate(reversed(chunks)):
        if j < last:
            c |= 64
        if j == 0 and first:
            c |= 128
        out.append(c)


def encode_exception_table(entries: List[Tuple[int, int, int, int]]) -> bytes:
    """The inverse of :func:`parse_exception_table`."""
    out = bytearray()
    for start, end, target, dl in entries:
        _emit_varint_be(out, start, True)
        _emit_varint_be(out, end - start, False)
        _emit_varint_be(out, target, False)
        _emit_varint_be(out, dl, False)
    return bytes(out)


def _emit_varint(out: bytearray, val: int) -> None:
    while val >= 64:
        out.append(64 | (val & 63))
        val >>= 6
    out.append(val)


def encode_locations(positions: List[Position], first_line: int) -> bytes:
    """3.11's location table (Objects/locations.md) for one position per code
    unit, in the long form (or "no location")."""
    out = bytearray()
    line_now = first_line
    n = len(positions)
    i = 0
    while i < n:
        pos = positions[i]
        j = i + 1
        while j < n and j - i < 8 and positions[j] == pos:
            j += 1
        length = j - i
        line, end_line, col, end_col = pos
        if line is None:
            out.append(0x80 | (15 << 3) | (length - 1))
        else:
            out.append(0x80 | (14 << 3) | (length - 1))
            delta = line - line_now
            _emit_varint(out, (-delta << 1) | 1 if delta < 0 else delta << 1)
            line_now = line
            _emit_varint(out, (end_line - line) if end_line is not None else 0)
            _emit_varint(out, col + 1 if col is not None else 0)
            _emit_varint(out, end_col + 1 if end_col is not None else 0)
        i = j
    return bytes(out)


class Instrumenter:
    """Rewrites code objects with probes (see the module docstring).

    :param probe: the callable the probes call (``covcore._tracer._probe``).
    """

    def __init__(self, probe: Callable[[], None]) -> None:
        self.probe = probe
        #: id(original code) -> (original, instrumented), for the start-up sweep.
        self.done: Dict[int, Tuple[CodeType, CodeType]] = {}

    def is_instrumented(self, code: CodeType) -> bool:
        consts = code.co_consts
        return bool(consts) and consts[-1] is self.probe

    def instrument(self, code: CodeType) -> CodeType:
        """`code` with probes, and its nested code objects too.

        :raises ValueError: the bytecode has a form this rewriter doesn't know
            (the caller then runs the code uninstrumented and warns).
        """
        if self.is_instrumented(code):
            return code
        consts = list(code.co_consts)
        nested = False
        for k, c in enumerate(consts):
            if type(c) is CodeType:
                consts[k] = self.instrument(c)
                nested = True
        new = self._rewrite(code, consts, nested)
        return new

    def _sites(self, ops: List[int], owns: List[int], lines: List[Optional[int]],
               targets: Dict[int, Set[Optional[int]]], handlers: Set[int]) -> List[bool]:
        n = len(ops)
        want = [False] * n
        resume = -1
        for k in range(n):
            if ops[k] == RESUME:
                resume = k
                break
        if resume < 0:
            return want
        pending: Optional[int] = None   # a line whose probe had to move on
        for k in range(resume + 1, n):
            line = lines[k]
            if line is None:
                pending = None
                continue
            wanted = k == resume + 1 or line != lines[k - 1] or k in handlers or pending == line
            if not wanted and k in targets:
                srcs = targets[k]
                wanted = any(s != line for s in srcs)
            if not wanted:
                continue
            if ops[k] in _NOT_BEFORE or ops[k - 1] in _NOT_AFTER or (
                ops[k - 1] == COMPARE_OP and ops[k] in _POP_JUMPS
            ):
                pending = line
                continue
            want[k] = True
            pending = None
        return want

    def _rewrite(self, code: CodeType, consts: list, nested: bool) -> CodeType:
        co = code.co_code
        starts, ops, args, exts, owns = _decode(co)
        n = len(ops)
        nunits = len(co) // 2
        positions = list(code.co_positions())
        lines = [positions[owns[k]][0] for k in range(n)]
        index_of = {s: k for k, s in enumerate(starts)}
        index_of[nunits] = n
        caches = _CACHES
        # Jumps: instruction -> target instruction.
        jump_to: Dict[int, int] = {}
        targets: Dict[int, Set[Optional[int]]] = {}
        for k in range(n):
            op = ops[k]
            if op in _JREL:
                after = owns[k] + 1 + caches[op]
                t = after - args[k] if op in _BACKWARD else after + args[k]
                tk = index_of.get(t)
                if tk is None:
                    raise ValueError(f"jump to {t} is not an instruction in {code.co_name}")
                jump_to[k] = tk
                targets.setdefault(tk, set()).add(lines[k])
        exc = parse_exception_table(code.co_exceptiontable)
        exc_k = []
        for start, end, target, dl in exc:
            try:
                exc_k.append((index_of[start], index_of[end], index_of[target], dl))
            except KeyError:
                raise ValueError(f"exception table entry not on instructions in {code.co_name}") from None
        handlers = {t for _, _, t, _ in exc_k}
        want = self._sites(ops, owns, lines, targets, handlers)
        if not any(want):
            if not nested:
                return code
            return code.replace(co_consts=tuple(consts))
        probe_const = len(consts)
        consts.append(self.probe)
        probe_len = 10 if probe_const < 256 else 11
        # Lay out, growing EXTENDED_ARG prefixes of jumps until stable.
        ext = list(exts)
        pstart = [0] * (n + 1)
        istart = [0] * n
        newarg = list(args)
        while True:
            cur = 0
            for k in range(n):
                pstart[k] = cur
                if want[k]:
                    cur += probe_len
                istart[k] = cur
                cur += ext[k] + 1 + caches[ops[k]]
            pstart[n] = cur
            changed = False
            for k, tk in jump_to.items():
                after = istart[k] + ext[k] + 1 + caches[ops[k]]
                arg = after - pstart[tk] if ops[k] in _BACKWARD else pstart[tk] - after
                if arg < 0:
                    raise ValueError(f"jump changed direction in {code.co_name}")
                need = 0 if arg < 0x100 else 1 if arg < 0x10000 else 2 if arg < 0x1000000 else 3
                if need > ext[k]:
                    ext[k] = need
                    changed = True
                newarg[k] = arg
            if not changed:
                break
        total = pstart[n]
        out = bytearray(2 * total)
        pos_out: List[Position] = [(None, None, None, None)] * total
        w = 0
        for k in range(n):
            pos = positions[owns[k]]
            if want[k]:
                out[2 * w] = PUSH_NULL
                if probe_len == 11:
                    out[2 * w + 2] = EXTENDED_ARG
                    out[2 * w + 3] = probe_const >> 8
                    w += 1
                out[2 * w + 2] = LOAD_CONST
                out[2 * w + 3] = probe_const & 0xFF
                out[2 * w + 4] = PRECALL
                out[2 * w + 8] = CALL
                out[2 * w + 18] = POP_TOP
                w += 10
                for u in range(pstart[k], w):
                    pos_out[u] = pos
            arg = newarg[k]
            for e in range(ext[k], 0, -1):
                out[2 * w] = EXTENDED_ARG
                out[2 * w + 1] = (arg >> (8 * e)) & 0xFF
                pos_out[w] = pos
                w += 1
            out[2 * w] = ops[k]
            out[2 * w + 1] = arg & 0xFF
            pos_out[w] = pos
            w += 1
            for _ in range(caches[ops[k]]):
                pos_out[w] = pos
                w += 1
        assert w == total
        new_exc = [(pstart[s], pstart[e], pstart[t], dl) for s, e, t, dl in exc_k]
        return code.replace(
            co_code=bytes(out),
            co_consts=tuple(consts),
            co_linetable=encode_locations(pos_out, code.co_firstlineno),
            co_exceptiontable=encode_exception_table(new_exc),
            co_stacksize=code.co_stacksize + PROBE_STACK,
        )

    def sweep(self, measured: Callable[[str], bool]) -> int:
        """Give every existing function of a measured file instrumented code.

        Functions already running keep their code (and are not measured until
        they are called again).  Returns the number of functions changed.
        """
        changed = 0
        for obj in gc.get_objects():
            if type(obj) is not FunctionType:
                continue
            code = obj.__code__
            if self.is_instrumented(code) or not measured(code.co_filename):
                continue
            pair = self.done.get(id(code))
            if pair is None or pair[0] is not code:
                try:
                    new = self.instrument(code)
                except ValueError:
                    continue
                pair = (code, new)
                self.done[id(code)] = pair
            obj.__code__ = pair[1]
            changed += 1
        return changed


def modules_needing_sweep(measured: Callable[[str], bool], seen: Set[str]) -> bool:
    """Is a module of a measured file already imported whose code was not
    instrumented (its file is not in `seen`)?"""
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if isinstance(f, str) and f.endswith(".py") and f not in seen and measured(f):
            return True
    return False


__all__ = ["Instrumenter", "SUPPORTED", "builtins"]
