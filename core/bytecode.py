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

from types import CodeType

from covcore.bytegraph import (
    _BRANCH_EVENTS,
    _JUMP_EVENTS,
    _MANY,
    _RESUME,
    _RETURNS,
    T_BRANCH,
    T_LINE,
    T_NONE,
    T_RETURN,
    _current_lines,
    _Graph,
    _join,
    _nested_lines,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Set, Tuple

TArc = tuple[int, int]


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
