"""The instruction graph of a code object, for :mod:`covcore.bytecode`.

Python 3.12 and 3.13 only (the module imports everywhere).  What
:func:`covcore.bytecode.analyze` works from: the opcodes that matter to
``sys.monitoring`` events, each instruction's successors (normal and
exception-table edges), which instructions start a line (CPython's rule for
``LINE`` events), and the *current line* at each instruction by a forward
data-flow over that graph (:func:`_current_lines`).  Offsets are byte
offsets, as ``sys.monitoring`` reports them.
"""

from __future__ import annotations

import opcode  # (not dis: dis imports collections, io and more at start-up)
import sys
from types import CodeType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import List, Optional, Set, Tuple

PYVERSION = sys.version_info[:2]


def _op(name: str) -> int:
    return opcode.opmap.get(name, -1)


def _cache_counts() -> List[int]:
    counts = [0] * 256
    entries = getattr(opcode, "_inline_cache_entries", None)
    if isinstance(entries, dict):  # 3.13: opname -> count
        for name, n in entries.items():
            op = opcode.opmap.get(name, -1) if isinstance(name, str) else name
            if 0 <= op < 256 and n:
                counts[op] = n
    elif entries is not None:  # 3.12: a list indexed by opcode
        for op, n in enumerate(entries):
            if op < 256:
                counts[op] = n
    return counts


_CACHES = _cache_counts()
_CACHE = _op("CACHE")
_EXTENDED_ARG = _op("EXTENDED_ARG")
_RESUME = _op("RESUME")
_YIELD_VALUE = _op("YIELD_VALUE")
_FOR_ITER = _op("FOR_ITER")
_SEND = _op("SEND")
_END_FOR = _op("END_FOR")
_END_SEND = _op("END_SEND")
_END_ASYNC_FOR = _op("END_ASYNC_FOR")
_JUMP_FORWARD = _op("JUMP_FORWARD")
_JUMP_BACKWARD = _op("JUMP_BACKWARD")
_JUMP_BACKWARD_NI = _op("JUMP_BACKWARD_NO_INTERRUPT")
_COND_JUMPS = frozenset(
    op
    for op in (
        _op("POP_JUMP_IF_FALSE"),
        _op("POP_JUMP_IF_TRUE"),
        _op("POP_JUMP_IF_NONE"),
        _op("POP_JUMP_IF_NOT_NONE"),
    )
    if op >= 0
)
_RETURNS = frozenset(op for op in (_op("RETURN_VALUE"), _op("RETURN_CONST")) if op >= 0)
_RAISES = frozenset(op for op in (_op("RAISE_VARARGS"), _op("RERAISE")) if op >= 0)
#: Instructions that never start a line (CPython's instrumentation skips them).
_NEVER_LINE_START = frozenset(op for op in (_END_FOR, _END_SEND, _END_ASYNC_FOR, _RESUME) if op >= 0)
#: FOR_ITER, when the iterator is exhausted, jumps past END_FOR (3.12) or
#: END_FOR and POP_TOP (3.13): this many code units after its target.
_FOR_ITER_SKIP = 1 if PYVERSION < (3, 13) else 2
#: Instructions that give a JUMP event.
_JUMP_EVENTS = frozenset(op for op in (_JUMP_FORWARD, _JUMP_BACKWARD) if op >= 0)
#: Instructions that give a BRANCH event.
_BRANCH_EVENTS = _COND_JUMPS | ({_FOR_ITER} if _FOR_ITER >= 0 else set())

# What a trail (the path from an edge to the next event that decides the arc)
# ends in.
T_LINE = 1  # a LINE-firing instruction
T_RETURN = 2  # a return
T_BRANCH = 3  # another conditional jump
T_NONE = 4  # an exception, a loop, or something a trail can't follow


def _parse_exception_table(table: bytes) -> List[Tuple[int, int, int]]:
    """(start, end, handler) byte offsets of each entry of co_exceptiontable."""
    out = []
    i = 0
    n = len(table)

    def varint() -> int:
        nonlocal i
        b = table[i]
        i += 1
        val = b & 63
        while b & 64:
            b = table[i]
            i += 1
            val = (val << 6) | (b & 63)
        return val

    while i < n:
        start = varint() * 2
        length = varint() * 2
        handler = varint() * 2
        varint()  # depth and lasti
        out.append((start, start + length, handler))
    return out


#: "Several lines" in the data-flow lattice (None: unreached; an int: that line).
_MANY = -(1 << 40)


def _join(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _MANY


class _Graph:
    """The instruction graph of a code object."""

    def __init__(self, code: CodeType) -> None:
        co = code.co_code
        n = len(co)
        nunits = n // 2
        self.code = code
        self.first = code.co_firstlineno
        # Per instruction (index k), parallel lists; index_of[unit] is the
        # index of the instruction starting at that code unit, or -1.
        offs: List[int] = []
        ops: List[int] = []
        args: List[int] = []
        index_of = [-1] * (nunits + 1)
        caches = _CACHES
        i = 0
        ext = 0
        while i < n:
            op = co[i]
            arg = co[i + 1] | ext
            index_of[i >> 1] = len(offs)
            offs.append(i)
            ops.append(op)
            args.append(arg)
            ext = (arg << 8) if op == _EXTENDED_ARG else 0
            i += 2 + 2 * caches[op]
        self.offs = offs
        self.ops = ops
        self.args = args
        self.index_of = index_of
        count = len(offs)
        # Lines (-1: none).
        unit_line = [-1] * (nunits + 1)
        for start, end, line in code.co_lines():
            if line is not None and line >= 0 and end > start:
                unit_line[start >> 1 : end >> 1] = [line] * ((end - start) >> 1)
        lines = [unit_line[o >> 1] for o in offs]
        self.lines = lines
        # The first traceable instruction: the first RESUME.
        first_traceable = 0
        for k, op in enumerate(ops):
            if op == _RESUME:
                first_traceable = k
                break
        self.first_traceable = first_traceable

        def index(offset: int) -> int:
            return index_of[offset >> 1] if 0 <= offset < n else -1

        # Successors.
        succ: List[Tuple[int, ...]] = [()] * count
        jump_target = [-1] * count  # the instruction a jump marks as a line start
        cond = _COND_JUMPS
        for k in range(count):
            op = ops[k]
            nxt = offs[k] + 2 + 2 * caches[op]
            if op in cond:
                t = index(nxt + 2 * args[k])
                jump_target[k] = t
                succ[k] = (index(nxt), t)
            elif op == _FOR_ITER:
                jump_target[k] = index(nxt + 2 * args[k] + 2)
                succ[k] = (index(nxt), index(nxt + 2 * args[k] + 2 * _FOR_ITER_SKIP))
            elif op == _JUMP_FORWARD:
                t = index(nxt + 2 * args[k])
                jump_target[k] = t
                succ[k] = (t,)
            elif op == _JUMP_BACKWARD or op == _JUMP_BACKWARD_NI:
                t = index(nxt - 2 * args[k])
                jump_target[k] = t
                succ[k] = (t,)
            elif op in _RETURNS or op in _RAISES:
                continue
            elif op == _SEND:
                t = index(nxt + 2 * args[k])
                jump_target[k] = index(nxt + 2 * args[k] + 2)
                if t >= 0 and ops[t] == _END_SEND:
                    t = jump_target[k]
                succ[k] = (index(nxt), t)
            else:
                succ[k] = (index(nxt),)
            if -1 in succ[k]:
                succ[k] = tuple(t for t in succ[k] if t >= 0)
        self.succ = succ
        # Exception edges: instruction -> handler.
        handler = [-1] * count
        handler_targets: Set[int] = set()
        for start, end, target in _parse_exception_table(code.co_exceptiontable):
            h = index(target)
            if h < 0:
                continue
            handler_targets.add(h)
            for o in range(start, min(end, n), 2):
                k = index_of[o >> 1]
                if k >= 0:
                    handler[k] = h
        self.handler = handler
        self.all_succ = [succ[k] + (handler[k],) if handler[k] >= 0 else succ[k] for k in range(count)]
        # Which instructions start a line (CPython's initialize_lines()).
        marked = [False] * count
        current = -2
        never = _NEVER_LINE_START
        for k in range(first_traceable, count):
            if ops[k] in never:
                continue
            line = lines[k]
            if line >= 0 and line != current:
                marked[k] = True
            current = line
        for k in range(first_traceable, count):
            t = jump_target[k]
            if t >= 0 and lines[t] >= 0:
                marked[t] = True
        for h in handler_targets:
            if lines[h] >= 0 and ops[h] != _END_ASYNC_FOR and h >= first_traceable:
                marked[h] = True
        for k in range(min(first_traceable + 1, count)):
            marked[k] = False
        self.marked = marked

    def fires(self, y: int, x: int) -> bool:
        """Does LINE fire at x when x runs right after y?"""
        return self.marked[x] and (self.lines[y] != self.lines[x] or self.ops[y] == _RESUME)


def _current_lines(g: _Graph) -> List[Optional[int]]:
    """at[k]: the current line while instruction k runs (None: unreachable,
    _MANY: several possible)."""
    count = len(g.offs)
    at: List[Optional[int]] = [None] * count
    if g.first_traceable >= count:
        return at
    start = g.first_traceable
    at[start] = -g.first
    work = [start]
    queued = [False] * count
    queued[start] = True
    lines = g.lines
    ops = g.ops
    args = g.args
    marked = g.marked
    all_succ = g.all_succ
    while work:
        y = work.pop()
        queued[y] = False
        cur = at[y]
        ly = lines[y]
        resume = ops[y] == _RESUME
        if resume and args[y] != 0 and ly >= 0:
            # A generator resuming: settrace tracers take the frame's line.
            cur = ly
        for x in all_succ[y]:
            if marked[x] and (resume or lines[x] != ly):
                new = lines[x]
            else:
                new = cur
            old = at[x]
            if old == new or old == _MANY:
                continue
            at[x] = new if old is None else _MANY
            if not queued[x]:
                queued[x] = True
                work.append(x)
    return at


def _nested_lines(code: CodeType) -> Set[int]:
    """Lines that code objects nested in `code` also run (lambdas, one-line
    definitions, generator expressions...): the static analysis counts their
    exits too, so in `code` such a line may have several destinations."""
    out: Set[int] = set()
    for const in code.co_consts:
        if isinstance(const, CodeType):
            co = const.co_code
            prefix_end = -1
            for i in range(0, len(co), 2):
                if co[i] == _RESUME:
                    prefix_end = i + 2
                    break
            for start, end, line in const.co_lines():
                if line is not None and end > prefix_end:
                    out.add(line)
    return out
