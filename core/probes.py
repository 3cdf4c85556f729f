"""Code-object instrumentation for the ``probe`` backend (Python 3.10 and 3.11).

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

Python 3.10 (its trace function is as slow: every instruction of a traced
frame takes the eval loop's slow path) gets the same probes in 3.10's
bytecode, ``LOAD_CONST _probe; CALL_FUNCTION 0; POP_TOP`` (3 code units, 4
with an ``EXTENDED_ARG``), written into the code object's ``co_code``, which
3.10 runs as it is; a fired probe's first unit becomes ``JUMP_FORWARD 2``
(re-arming writes the unit back).  3.10 has no ``RESUME`` (the first probe
goes before the first instruction with a line), no inline caches, absolute
jumps beside relative ones, no exception table (handlers are the targets of
``SETUP_FINALLY``/``SETUP_WITH``/``SETUP_ASYNC_WITH``, kept by relocating
those like jumps) and its own line table (``Objects/lnotab_notes.txt``).
Its trace function reports a line on the same rule (a new line, or a
backward jump), so probes go where they go on 3.11.

Everything else is kept: jump offsets, the exception table and the location
table are recomputed for the new layout (by ``covcore._tracer.rewrite_code``,
in C: it runs for every code object of every measured module) (the probe's units carry the
location of the instruction they precede), ``co_stacksize`` grows by 2 (1 on 3.10).

In branch mode the probes record arcs instead, and where they go is worked
out by :mod:`covcore.probearcs` (run compiled, as ``covcore._tracer.rewrite_arcs_c``).

Code objects reach the instrumentation in two ways (``ProbeTracer.start()``): every
``exec()`` of a code object (``builtins.exec`` is replaced by a C function
while measuring: imports, ``runpy``, pytest's assertion rewriter and
``covcore run`` all execute module code through it), and, at start, a sweep
of the functions already defined in measured modules imported before
measurement started.
"""

from __future__ import annotations

import gc
import sys
from types import CodeType, FunctionType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Callable, Dict, List, Set, Tuple

#: True on the Pythons whose bytecode this module knows how to rewrite.
SUPPORTED = sys.version_info[:2] in ((3, 10), (3, 11))

#: Extra stack a probe needs (3.11: NULL and the callable; 3.10: the
#: callable; the result replaces them).
PROBE_STACK = 1 if sys.version_info[:2] == (3, 10) else 2

Position = tuple[int | None, int | None, int | None, int | None]


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


def encode_exception_table(entries: List[Tuple[int, int, int, int]]) -> bytes:
    """The inverse of :func:`parse_exception_table`."""
    from covcore._tracer import _encode_exception_table

    return _encode_exception_table(list(entries))


def encode_locations(positions: List[Position], first_line: int) -> bytes:
    """3.11's location table (Objects/locations.md) for one position per code
    unit, in the long form (or "no location")."""
    from covcore._tracer import encode_runs

    runs: List[Tuple[Position, int]] = []
    for pos in positions:
        if runs and runs[-1][0] == pos:
            runs[-1] = (pos, runs[-1][1] + 1)
        else:
            runs.append((pos, 1))
    return encode_runs(runs, first_line)


class Instrumenter:
    """Rewrites code objects with probes (see the module docstring).

    :param probe: the callable line probes call (``covcore._tracer._probe``).
    :param arc_probe: the callable arc probes call, branch mode
        (``covcore._tracer._arc_probe``; see :mod:`covcore.probearcs`).

    Code is rewritten for one mode (the probe callable, its last constant,
    says which).  Code already rewritten for the other mode is left as it is:
    its probes then record what they can for the session running it (line
    probes a self-arc "this line ran", arc probes the lines of their arc).
    """

    def __init__(self, probe: Callable[[], None], arc_probe: Callable[[tuple], None]) -> None:
        self.probe = probe
        self.arc_probe = arc_probe
        #: (branch, id(original code)) -> (original, instrumented), for the start-up sweep.
        self.done: Dict[tuple, tuple] = {}

    def is_instrumented(self, code: CodeType) -> bool:
        consts = code.co_consts
        return bool(consts) and (consts[-1] is self.probe or consts[-1] is self.arc_probe)

    def instrument(self, code: CodeType, branch: bool = False) -> CodeType:
        """`code` with probes (arc probes if `branch`), and its nested code
        objects too.

        :raises ValueError: the bytecode has a form this rewriter doesn't know
            (the caller then runs the code uninstrumented and warns).
        """
        if self.is_instrumented(code):
            return code
        consts = list(code.co_consts)
        nested = False
        for k, c in enumerate(consts):
            if type(c) is CodeType:
                consts[k] = self.instrument(c, branch)
                nested = True
        if branch:
            from covcore._tracer import rewrite_arcs_c  # covcore.probearcs, compiled

            new = rewrite_arcs_c(code, consts, self.arc_probe)
        else:
            from covcore._tracer import rewrite_code  # the compiled rewriter

            new = rewrite_code(code, consts, self.probe)
        if new is not None:
            return new
        return code.replace(co_consts=tuple(consts)) if nested else code

    def sweep(self, measured: Callable[[str], bool], branch: bool = False) -> int:
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
            pair = self.done.get((branch, id(code)))
            if pair is None or pair[0] is not code:
                try:
                    new = self.instrument(code, branch)
                except ValueError:
                    continue
                pair = (code, new)
                self.done[(branch, id(code))] = pair
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


