"""Line mode stops listening to a code object once all its lines are recorded.

ctrace turns a frame's line events off when its code object is complete;
sysmon removes the code object's local events (3.12/3.13 run code with local
events a few percent slower even when every location was DISABLEd).  Both
count the lines of :func:`covcore._tracer.countable_lines`.
"""

from __future__ import annotations

import sys
import sysconfig
import types
from pathlib import Path

import pytest

from covcore import backend

pytestmark = pytest.mark.skipif(backend.EXTENSION_ERROR is not None, reason="needs the compiled extension")


def _reference_lines(code: types.CodeType) -> list[int]:
    """co_lines()'s lines, without those only found up to the first RESUME."""
    import opcode

    resume = opcode.opmap.get("RESUME", -1)
    prefix_end = -1
    raw = code.co_code
    if resume >= 0:
        for i in range(0, len(raw), 2):
            if raw[i] == resume:
                prefix_end = i + 2
                break
    return sorted({line for _, end, line in code.co_lines() if line is not None and not (0 <= prefix_end >= end)})


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def test_countable_lines_equal_co_lines_over_the_stdlib():
    from covcore._tracer import countable_lines

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("json/*.py")) + sorted(stdlib.glob("asyncio/*.py"))
    compared = 0
    for path in files:
        try:
            module = compile(path.read_bytes(), str(path), "exec")
        except SyntaxError:
            continue
        for code in _code_objects(module):
            assert countable_lines(code) == _reference_lines(code), f"{path}: {code.co_name} line {code.co_firstlineno}"
            compared += 1
    assert compared > 5000


WORK = """\
def work(hook):
    for i in range(3):
        hook(i)

def partial(flag):
    if flag:
        return 1
    return 2
"""


def _tool_id() -> int:
    return next(i for i in range(6) if sys.monitoring.get_tool(i) == "covcore")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is Python 3.12+")
def test_sysmon_complete_code_loses_its_events_and_gets_them_back_on_restart(tmp_path):
    from covcore._tracer import SysMonTracer, countable_lines

    path = str(tmp_path / "work.py")
    ns: dict = {}
    data: dict = {}
    module = compile(WORK, path, "exec")
    tracer = SysMonTracer(data, lambda f: f if f == path else None, {})
    seen = []

    def hook(i):
        code = ns["work"].__code__
        seen.append(sys.monitoring.get_local_events(_tool_id(), code))
        if i == 0:
            # Every line of work() has run: its events are off.  A new
            # context starts while work() runs.
            seen.append(sorted(data.pop(path)))
            tracer.restart()
            seen.append(sys.monitoring.get_local_events(_tool_id(), code))

    tracer.start()
    try:
        exec(module, ns)
        assert countable_lines(ns["work"].__code__) == [2, 3]
        ns["work"](hook)
        ns["partial"](True)
        partial_events = sys.monitoring.get_local_events(_tool_id(), ns["partial"].__code__)
    finally:
        tracer.stop()
    line = sys.monitoring.events.LINE
    # Off once complete, on again after the restart, off once complete again.
    assert seen == [0, [1, 2, 3, 5], line, 0, 0]
    # Recorded again after the restart, in the running frame; partial() has
    # a line still to run, so it keeps its events.
    assert data == {path: {2, 3, 6, 7}}
    assert partial_events == line


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is Python 3.12+")
def test_sysmon_generator_resumed_after_restart_records_again(tmp_path):
    from covcore._tracer import SysMonTracer

    path = str(tmp_path / "gen.py")
    ns: dict = {}
    data: dict = {}
    source = "def gen():\n    n = 0\n    while True:\n        n += 1\n        yield n\n"
    tracer = SysMonTracer(data, lambda f: f if f == path else None, {})
    tracer.start()
    try:
        exec(compile(source, path, "exec"), ns)
        g = ns["gen"]()
        assert (next(g), next(g)) == (1, 2)
        first = data.pop(path)
        tracer.restart()
        assert next(g) == 3
    finally:
        tracer.stop()
    assert first == {1, 2, 3, 4, 5}
    assert data == {path: {3, 4, 5}}
