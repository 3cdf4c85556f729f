"""Bytecode facts for covcore's ``sys.monitoring`` branch tracer, and how its
arcs are read.

Python 3.12 and 3.13 only (the module imports everywhere, but
:func:`analyze` is only meaningful where ``sys.monitoring`` exists).

The settrace tracers record an arc ``(a, b)`` whenever line ``b`` starts right
after line ``a`` in the same frame (``a`` is ``-co_firstlineno`` at the start
of a call, ``b`` is ``-co_firstlineno`` when the frame returns or an exception
leaves it).  The ``sys.monitoring`` tracer must find the same arcs while
turning every event off (``DISABLE``) as soon as it can teach nothing new, so
it cannot follow frames line by line.  Instead, :func:`analyze` works out once
per code object, from its bytecode, which event can stand for which arc:

* the *current line* (the settrace tracer's "last line") at every
  instruction, by a forward data-flow over the instruction graph (normal
  successors and exception-table edges) that applies CPython's rule for
  ``LINE`` events: an instruction that starts a line (first of its line in
  bytecode order, a jump target or an exception handler, with a line number;
  never ``END_FOR``/``END_SEND``/``END_ASYNC_FOR``/``RESUME``) fires ``LINE``
  when the previous instruction's line differs, or was a ``RESUME``;
* ``LINE`` at an instruction that can only be reached from one current line
  ``s`` records ``(s, line)``: no need to know where the frame came from;
* a conditional jump (``BRANCH`` event, both directions) is followed to the
  next ``LINE``-firing instruction, return, or further conditional jump (a
  "trail"), which gives the arc of each direction.  A direction needs its
  ``BRANCH`` event only when nothing else records its arc: a ``LINE`` with
  one possible source line, a ``JUMP`` or ``PY_RETURN`` whose current line is
  known, or a further conditional jump on the same line.  The tracer may
  ``DISABLE`` a ``BRANCH`` location once every needed direction was seen;
* ``JUMP`` (unconditional jumps) and ``PY_RETURN`` record the arc of their
  trail when their current line is known;
* a ``LINE`` reached by ``JUMP`` events and by the conditional jumps of one
  line only (a loop's exit and its breaks) needs no ``BRANCH`` event
  either: each such ``JUMP`` leaves a "crumb" for the ``LINE`` right after
  it, and a ``LINE`` without one came from that line;
* what remains, a plain fall-through into an instruction reachable from
  several lines, from a line that can go to several places (a ``with``
  line, a line that also runs a lambda...), is recorded when the ``LINE``
  that starts it fires (a "claim", made before the line ran: if the line
  raises, the claimed arc may not happen).  A line with one destination
  needs no arc at all: its self-arc is resolved (:func:`resolve_arcs`).

Every ``LINE`` also records the self-arc ``(line, line)``: "this line ran".
See :func:`resolve_arcs` for how measured arcs are to be read.

What stays on for good: a ``BRANCH`` whose untaken direction leads where
another line falls through too (``if x is None: x = 0`` where ``x`` is
never ``None``) fires each time it runs -- on 3.12 and 3.13 ``DISABLE``
would silence both directions, and no other event can tell that direction
apart.  ``PY_UNWIND`` can't be disabled.
"""

from __future__ import annotations

import opcode  # (not dis: dis imports collections, io and more at start-up)
import sys
from types import CodeType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Set, Tuple

TArc = tuple[int, int]

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


class CodeMap:
    """What the branch tracer needs about one code object (see the module doc).

    All offsets are byte offsets, as ``sys.monitoring`` reports them.

    * ``line_records[off]``: arcs to record when ``LINE`` fires at ``off``.
    * ``branches[off]``: ``(dest0, arc0, dest1, arc1, need)`` for a ``BRANCH``
      location: the two destinations (fall-through, jump) and their arcs
      (None: nothing to record), and ``need``, a bit mask of the directions
      (1: dest0, 2: dest1) that only the ``BRANCH`` event can record.
    * ``jumps[off]``: the arc a ``JUMP`` at ``off`` records, or None.
    * ``returns[off]``: the arc a ``PY_RETURN`` at ``off`` records, or None.
    * ``resumes[off]``: arcs to record when a generator resumes at ``off``
      (its ``PY_RESUME`` event).
    * ``unwind_lines[off // 2]``: the current line at each instruction when it
      is known (0 when not), for the exit arc of an exception leaving the frame.
    * ``yield_resumes``: offsets of the ``RESUME`` instructions that follow
      yields (an exception leaving the frame there is a generator being
      closed, which records no arc).
    * ``crumb_lines[off]``: for a ``LINE`` location reached by jumps
      (``JUMP`` events) and by the conditional jumps of one line ``p``
      only, the arc ``(p, line)``: a ``LINE`` there that no ``JUMP`` just
      announced (a "crumb") came from ``p``.  Until it has, that ``LINE``
      and the ``JUMP`` events of ``crumb_jumps`` stay on.
    * ``crumb_jumps[off]``: the ``LINE`` location a ``JUMP`` at ``off``
      leads to, when that is in ``crumb_lines``.
    """

    __slots__ = (
        "first_line",
        "line_records",
        "branches",
        "jumps",
        "returns",
        "resumes",
        "unwind_lines",
        "yield_resumes",
        "crumb_lines",
        "crumb_jumps",
        "n_claims",
    )

    def __init__(self) -> None:
        self.first_line = 0
        self.line_records: Dict[int, Tuple[TArc, ...]] = {}
        self.branches: Dict[int, Tuple[int, Optional[TArc], int, Optional[TArc], int]] = {}
        self.jumps: Dict[int, Optional[TArc]] = {}
        self.returns: Dict[int, Optional[TArc]] = {}
        self.resumes: Dict[int, Tuple[TArc, ...]] = {}
        self.unwind_lines: List[int] = []
        self.yield_resumes: Set[int] = set()
        self.crumb_lines: Dict[int, TArc] = {}
        self.crumb_jumps: Dict[int, int] = {}
        self.n_claims = 0

    @property
    def need_branch(self) -> bool:
        """Does some BRANCH location need its event?"""
        return any(b[4] for b in self.branches.values())


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


def analyze(code: CodeType) -> CodeMap:
    """Work out what each event of `code` records (see the module docstring)."""
    g = _Graph(code)
    at = _current_lines(g)
    count = len(g.offs)
    lines = g.lines
    ops = g.ops
    args = g.args
    offs = g.offs
    succ = g.succ
    marked = g.marked
    first = g.first
    exit_line = -first
    cm = CodeMap()
    cm.first_line = first
    branch_events = _BRANCH_EVENTS
    jump_events = _JUMP_EVENTS
    returns = _RETURNS

    # Where LINE fires, and from which current line(s) and instructions.
    sources: Dict[int, int] = {}
    preds: Dict[int, List[int]] = {}
    for y in range(count):
        cur = at[y]
        if cur is None:
            continue
        ly = lines[y]
        resume = ops[y] == _RESUME
        if resume and args[y] != 0 and ly >= 0:
            cur = ly
        for x in g.all_succ[y]:
            if marked[x] and (resume or lines[x] != ly):
                old = sources.get(x)
                sources[x] = cur if old is None else _join(old, cur)
                # (-1: an exception edge.)
                preds.setdefault(x, []).append(y if x in succ[y] else -1)

    def at_line(k: int) -> Optional[int]:
        """The one current line at k, or None."""
        v = at[k]
        return v if v is not None and v != _MANY and ops[k] != _RESUME else None

    def trail(y: int, x: int, cur: int):
        """Follow the edge y -> x with current line `cur` to what decides it.

        Returns (kind, index, arc, jumps): jumps are the JUMP-event
        instructions passed on the way.
        """
        jumps: List[int] = []
        seen: Set[int] = set()
        while True:
            if marked[x] and (lines[y] != lines[x] or ops[y] == _RESUME):
                return T_LINE, x, (cur, lines[x]), jumps
            if x in seen:
                return T_NONE, x, None, jumps
            seen.add(x)
            op = ops[x]
            if op in returns:
                return T_RETURN, x, (cur, exit_line), jumps
            if op in branch_events:
                return T_BRANCH, x, None, jumps
            if op == _RESUME and args[x] != 0 and lines[x] >= 0:
                cur = lines[x]
            if op in jump_events:
                jumps.append(x)
            nexts = succ[x]
            if len(nexts) != 1:
                return T_NONE, x, None, jumps
            y, x = x, nexts[0]

    # "Crumb" lines: LINE at x is reached from several lines, but all of
    # them jumps (JUMP events) save for one line's conditional jumps (say a
    # loop's exit and its breaks).  A JUMP leaves a crumb that the LINE right
    # after it finds: a LINE without a crumb came from that one line.  So
    # those conditional jumps need no BRANCH event, while JUMPs and LINE
    # there stay on until that line's arrival was seen.
    crumb_lines: Dict[int, int] = {}  # x -> the one line without a jump
    crumb_jumps: Dict[int, int] = {}  # jump -> x
    for x, src in sources.items():
        if src != _MANY:
            continue
        plain = None
        jumps_in: List[int] = []
        for y in preds[x]:
            line_y = at_line(y) if y >= 0 else None
            if line_y is None:
                break
            if ops[y] in jump_events:
                jumps_in.append(y)
            elif ops[y] in branch_events and (plain is None or plain == line_y):
                plain = line_y
            else:
                break
        else:
            if plain is not None and jumps_in and plain != lines[x]:
                crumb_lines[x] = plain
                for j in jumps_in:
                    crumb_jumps[j] = x

    def recorded_elsewhere(kind: int, x: int, arc, jumps: List[int], cur: int) -> bool:
        """Is this trail's arc recorded by some event other than its start?"""
        if kind == T_NONE or arc is None:
            return True
        if kind == T_BRANCH:
            return at[x] == cur
        for j in jumps:
            if at_line(j) is not None:
                return True
        if kind == T_LINE:
            return sources.get(x, _MANY) != _MANY or crumb_lines.get(x) == cur
        if kind == T_RETURN:
            return at_line(x) is not None
        return False

    # LINE: the self-arc and the inferred incoming arc.
    line_records: Dict[int, List[TArc]] = {}
    for x, src in sources.items():
        ln = lines[x]
        if src != _MANY and src != ln:
            line_records[offs[x]] = [(ln, ln), (src, ln)]
        else:
            line_records[offs[x]] = [(ln, ln)]

    # The run that each LINE starts, up to what decides where it goes.
    runs = []
    for x in sources:
        if ops[x] in branch_events:
            continue
        ln = lines[x]
        for nx in succ[x]:
            runs.append((x, ln, trail(x, nx, ln)))

    # Lines that can go to several places: only their arcs matter to branch
    # coverage (a line with one destination is resolved from its self-arc).
    outs: Dict[int, Set[int]] = {}
    for x, ln, (kind, end, arc, jumps) in runs:
        if arc is not None:
            outs.setdefault(ln, set()).add(arc[1])
    branch_trails = []
    for b in range(count):
        if ops[b] in branch_events and at[b] is not None and len(succ[b]) == 2:
            cur = at_line(b)
            for nx in succ[b]:
                t = trail(b, nx, cur) if cur is not None else (T_NONE, nx, None, [])
                branch_trails.append((b, nx, cur, t))
                if t[2] is not None:
                    outs.setdefault(cur, set()).add(t[2][1])
    shared = _nested_lines(code)

    def branchy(line: int) -> bool:
        return len(outs.get(line, ())) > 1 or line in shared

    # Claims: a fall-through from a line that can go to several places, into
    # an instruction that several lines lead to, that no other event records.
    for x, ln, (kind, end, arc, jumps) in runs:
        if kind in (T_LINE, T_RETURN) and arc is not None and arc[0] != arc[1] and branchy(ln):
            if not recorded_elsewhere(kind, end, arc, jumps, ln):
                line_records[offs[x]].append(arc)
                cm.n_claims += 1

    # BRANCH locations.
    info_by_b: Dict[int, List] = {}
    for b, nx, cur, (kind, end, arc, jumps) in branch_trails:
        info = info_by_b.setdefault(b, [0])
        if arc is not None and arc[0] == arc[1]:
            arc = None
        info.extend((offs[nx], arc))
        if cur is not None and not recorded_elsewhere(kind, end, arc, jumps, cur):
            info[0] |= 1 << ((len(info) - 3) // 2)
    for b, info in info_by_b.items():
        cm.branches[offs[b]] = (info[1], info[2], info[3], info[4], info[0])

    # JUMP and PY_RETURN locations; resume points of generators (claims for
    # what follows them).
    resumes: Dict[int, List[TArc]] = {}
    for k in range(count):
        op = ops[k]
        if at[k] is None:
            continue
        if op in jump_events:
            cur = at_line(k)
            arc = None
            if cur is not None and succ[k]:
                kind, end, arc, jumps = trail(k, succ[k][0], cur)
                if kind not in (T_LINE, T_RETURN) or (arc is not None and arc[0] == arc[1]):
                    arc = None
            cm.jumps[offs[k]] = arc
        elif op in returns:
            cur = at_line(k)
            cm.returns[offs[k]] = (cur, exit_line) if cur is not None else None
        elif op == _RESUME and args[k] != 0:
            cm.yield_resumes.add(offs[k])
            ln = lines[k]
            if ln < 0 or not succ[k]:
                continue
            kind, end, arc, jumps = trail(k, succ[k][0], ln)
            if kind in (T_LINE, T_RETURN) and arc is not None and arc[0] != arc[1] and branchy(ln):
                if not recorded_elsewhere(kind, end, arc, jumps, ln):
                    resumes.setdefault(offs[k], []).append(arc)
                    cm.n_claims += 1

    cm.line_records = {o: tuple(v) for o, v in line_records.items()}
    cm.resumes = {o: tuple(v) for o, v in resumes.items()}
    cm.crumb_lines = {offs[x]: (p, lines[x]) for x, p in crumb_lines.items()}
    cm.crumb_jumps = {offs[j]: offs[x] for j, x in crumb_jumps.items()}
    # (An exception can leave the frame "at" any code unit of an instruction,
    # its inline caches included: 3.12 reports the last one of a CALL.)
    nunits = len(code.co_code) // 2
    units = [0] * nunits
    for k in range(count):
        ln = at[k]
        if ln is not None and ln > 0:
            end = offs[k + 1] >> 1 if k + 1 < count else nunits
            start = offs[k] >> 1
            if end == start + 1:
                units[start] = ln
            else:
                units[start:end] = [ln] * (end - start)
    cm.unwind_lines = units
    return cm


def resolve_arcs(measured: Iterable[TArc], possible: Iterable[TArc]) -> Set[TArc]:
    """Read the arcs measured for one file as settrace tracers would have them.

    ``measured``: the arcs recorded for the file (by any covcore tracer).
    ``possible``: the file's possible arcs from static analysis (as
    coverage.py's ``PythonParser.arcs()``), used for their sources and
    destinations only.

    The sysmon tracer (branch mode) records, besides real arcs ``(a, b)``,
    a self-arc ``(l, l)`` for every line ``l`` that ran, which stands for
    "``l`` ran, and went on to its next line".  Arcs from lines with several
    possible destinations are always recorded as real arcs; a line with a
    single possible destination only gets its self-arc.  (settrace tracers
    record self-arcs too, for a loop on one line.)

    Returns every measured arc (self-arcs included: they only say that a
    line ran, and no possible arc is a self-arc), plus ``(l, d)`` for every
    self-arc ``(l, l)`` whose line has exactly one possible destination ``d``
    when ``d`` is an exit (negative) or a line that appears in ``measured``.
    This is the reading coverage.py gives its own sys.monitoring data
    (``results.analysis_from_file_reporter``) with two guarantees: the
    positive line numbers of the result are exactly those of ``measured``,
    and arcs from lines with several possible destinations are exactly the
    measured ones.  Applied to settrace tracers' data it changes nothing but
    adding such resolved arcs for one-line loops.
    """
    measured = set(measured)
    seen_lines: Set[int] = set()
    for a, b in measured:
        seen_lines.add(a)
        seen_lines.add(b)
    dests: Dict[int, Set[int]] = {}
    for a, b in possible:
        dests.setdefault(a, set()).add(b)
    out = set(measured)
    for a, b in measured:
        if a == b:
            d = dests.get(a)
            if d is not None and len(d) == 1:
                for only in d:
                    if only < 0 or only in seen_lines:
                        out.add((a, only))
    return out
