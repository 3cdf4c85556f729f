"""What the sysmon tracer leaves out to cost less, and that it changes nothing
it shouldn't: unmeasured files' nested code objects skip CPython's
instrumentation (core/_tracer_sysmon_skip.pxi): what is recorded stays exactly
the same, no PY_START comes from them, and no other tool loses an event; and
stop_at_exit() leaves local events behind, with nothing left to call."""

from __future__ import annotations

import contextlib
import gc
import sys

import pytest

from covcore.backend import tracer_class

pytestmark = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")

MODULE = """\
def f(n):
    g = lambda x: x + 1
    return g(n) * 2

class C:
    def m(self):
        return [i for i in range(2)]

    class D:
        def deep(self):
            return 5

def unused():
    def inner():
        pass
    return inner

value = f(1)
"""
# Nested code objects: f, its lambda, C, m, D, deep, unused, inner (3.12+
# inline the comprehension).
NESTED = 8

MEASURED = """\
import other_mod

def h(a):
    if a:
        return other_mod.f(a)
    return 0

h(2)
"""


@contextlib.contextmanager
def other_tool(seen: list, tool: int):
    """Another sys.monitoring tool, `tool`, with a global PY_START that
    appends each starting code object's name to `seen`."""
    mon = sys.monitoring
    mon.use_tool_id(tool, "other")
    try:
        mon.register_callback(tool, mon.events.PY_START, lambda code, offset: seen.append(code.co_name))
        mon.set_events(tool, mon.events.PY_START)
        yield
    finally:
        mon.set_events(tool, 0)
        mon.register_callback(tool, mon.events.PY_START, None)
        mon.free_tool_id(tool)


def free_tool() -> int:
    """The highest free tool id (covcore takes the low ones)."""
    return next(t for t in range(5, -1, -1) if sys.monitoring.get_tool(t) is None)


def skip_setting(on: bool) -> bool:
    from covcore._tracer import _set_skip_unmeasured_for_tests

    return _set_skip_unmeasured_for_tests(on)


@pytest.fixture(params=[True, False], ids=["skip", "noskip"])
def skip(request):
    old = skip_setting(request.param)
    yield request.param
    skip_setting(old)


def run(tmp_path, *, measured_too=False):
    """Run MODULE (unmeasured, as other_mod.py) and, if asked, MEASURED (as
    main.py, measured) under a fresh sysmon tracer; return (data, event counts,
    the module's namespace)."""
    other = str(tmp_path / "other_mod.py")
    main = str(tmp_path / "main.py")
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: f if f == main else None, {}, branch=False)
    mod_ns: dict = {"__name__": "other_mod"}
    # No collection in the window: finalizers of other tests' objects would
    # run code of their own there, and the counts are exact.
    gc.collect()
    gc.disable()
    tracer.start()
    try:
        exec(compile(MODULE, other, "exec"), mod_ns)
        if measured_too:
            fake = type(sys)("other_mod")
            fake.__dict__.update(mod_ns)
            sys.modules["other_mod"] = fake
            try:
                exec(compile(MEASURED, main, "exec"), {"__name__": "main"})
            finally:
                del sys.modules["other_mod"]
        mod_ns["C"]().m()
        mod_ns["C"].D().deep()
    finally:
        tracer.stop()
        gc.enable()
    return data, tracer.event_counts(), mod_ns


def test_unmeasured_nested_code_gives_no_py_start(tmp_path, skip):
    data, counts, ns = run(tmp_path)
    assert data == {}
    assert ns["value"] == 4
    if skip:
        # Only the module body started; every nested code object was marked.
        assert counts["start"] == 1
        assert counts["skipped"] == NESTED
    else:
        # The module body, f, the lambda, C, D (class bodies), m, deep.
        assert counts["start"] == 7
        assert counts["skipped"] == 0


def test_measured_lines_are_the_same_either_way(tmp_path, skip):
    data, counts, _ = run(tmp_path, measured_too=True)
    assert data == {str(tmp_path / "main.py"): {1, 3, 4, 5, 8}}
    assert counts["skipped"] == (NESTED if skip else 0)


def test_no_marking_while_another_tool_has_events(tmp_path):
    # Another sys.monitoring tool with a global PY_START: nothing is marked,
    # and that tool sees every code object start.
    seen: list = []
    with other_tool(seen, free_tool()):
        data, counts, _ = run(tmp_path)
    assert data == {}
    assert counts["skipped"] == 0
    assert sorted(set(seen) & {"<module>", "f", "<lambda>", "C", "m", "D", "deep"}) == [
        "<lambda>", "<module>", "C", "D", "deep", "f", "m",
    ]


def test_marked_code_is_instrumented_again_for_a_later_tool(tmp_path):
    # Marked code objects are up to date only until anyone changes events: a
    # tool that starts later sees their PY_START (here f's and the lambda's).
    data, counts, ns = run(tmp_path)
    assert counts["skipped"] == NESTED
    seen: list = []
    with other_tool(seen, free_tool()):
        assert ns["f"](5) == 12
    assert [name for name in seen if name in ("f", "<lambda>", "<module>", "C")] == ["f", "<lambda>"]


def test_marked_code_is_traced_by_settrace(tmp_path):
    # sys.settrace (a monitoring tool itself on 3.12+) started after the
    # marking still gets every call and line of the marked code.
    data, counts, ns = run(tmp_path)
    assert counts["skipped"] == NESTED
    events = []

    def trace(frame, event, arg):
        if frame.f_code.co_filename.endswith("other_mod.py"):
            events.append((event, frame.f_code.co_name, frame.f_lineno))
        return trace

    sys.settrace(trace)
    try:
        result = ns["f"](5)
    finally:
        sys.settrace(None)
    assert result == 12
    assert events == [
        ("call", "f", 1),
        ("line", "f", 2),
        ("line", "f", 3),
        ("call", "<lambda>", 2),
        ("line", "<lambda>", 2),
        ("return", "<lambda>", 2),
        ("return", "f", 3),
    ]


def test_no_marking_while_settrace_is_on(tmp_path):
    # A thread tracing with sys.settrace while covcore starts: the module's
    # code is instrumented for it too, so nothing is marked, and the trace
    # function sees the nested calls.
    calls = []

    def trace(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.endswith("other_mod.py"):
            calls.append(frame.f_code.co_name)
        return None

    sys.settrace(trace)
    try:
        data, counts, _ = run(tmp_path)
    finally:
        sys.settrace(None)
    assert counts["skipped"] == 0
    assert calls == ["<module>", "C", "D", "f", "<lambda>", "m", "deep"]


def run_f_then(tmp_path, stop: str):
    """Measure f(1) of a small file, then stop the tracer with its method
    `stop`; return (f, data, covcore's tool id, the file name, the tracer)."""
    path = str(tmp_path / "m.py")
    ns: dict = {}
    exec(compile("def f(a):\n    if a:\n        return 1\n    return 2\n", path, "exec"), ns)
    f = ns["f"]
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda name: name if name == path else None, {}, branch=False)
    tracer.start()
    tool = next(t for t in range(6) if sys.monitoring.get_tool(t) == "covcore")
    try:
        assert f(1) == 1
    finally:
        getattr(tracer, stop)()
    assert data == {path: {2, 3}}
    return f, data, tool, path, tracer


def test_stop_at_exit_leaves_local_events_but_calls_nothing(tmp_path):
    f, data, tool, path, tracer = run_f_then(tmp_path, "stop_at_exit")
    mon = sys.monitoring
    try:
        # Line 4 never ran: f still has its local events, and the tool id
        # stays taken so that no other tool can be handed them.
        assert mon.get_tool(tool) == "covcore"
        assert mon.get_events(tool) == 0
        assert mon.get_local_events(tool, f.__code__) != 0
        assert f(0) == 2
        assert data == {path: {2, 3}}
        tracer.stop()       # a no-op now
        assert mon.get_tool(tool) == "covcore"
    finally:
        mon.set_local_events(tool, f.__code__, 0)
        mon.free_tool_id(tool)


def test_stop_frees_the_tool_id_and_local_events(tmp_path):
    f, data, tool, path, tracer = run_f_then(tmp_path, "stop")
    mon = sys.monitoring
    assert mon.get_tool(tool) is None
    mon.use_tool_id(tool, "probe")
    try:
        assert mon.get_local_events(tool, f.__code__) == 0
    finally:
        mon.free_tool_id(tool)


def test_code_made_for_an_unmeasured_file_is_marked_at_once(tmp_path):
    # The code watcher: a module compiled (imported, exec'd) after its file
    # was decided unmeasured never gives a PY_START, not even its body.
    other = str(tmp_path / "other_mod.py")
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: None, {}, branch=False)
    # Garbage of earlier tests collected now, not between the two exec()s:
    # finalizers run Python code (PY_STARTs), and one that frees a
    # sys.monitoring tool makes every mark out of date.
    gc.collect()
    tracer.start()
    try:
        exec(compile(MODULE, other, "exec"), {"__name__": "other_mod"})
        first = tracer.event_counts()
        again: dict = {"__name__": "other_mod"}
        exec(compile(MODULE, other, "exec"), again)   # 1 module + NESTED code objects made
        assert again["f"](2) == 6
        second = tracer.event_counts()
    finally:
        tracer.stop()
    assert data == {}
    assert first["start"] == 1 and first["skipped"] == NESTED
    assert second["start"] == 1
    assert second["skipped"] == NESTED + 1 + NESTED


def test_code_made_for_a_measured_file_is_measured(tmp_path):
    main = str(tmp_path / "main.py")
    src = "def h(a):\n    return a + 1\n\nh(1)\n"
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: f if f == main else None, {}, branch=False)
    tracer.start()
    try:
        exec(compile(src, main, "exec"), {})
        assert data == {main: {1, 2, 4}}
        data[main].clear()
        ns: dict = {}
        exec(compile(src, main, "exec"), ns)
        counts = tracer.event_counts()
    finally:
        tracer.stop()
    assert data == {main: {1, 2, 4}}
    assert counts["skipped"] == 0


def test_no_marking_at_creation_while_another_tool_has_events(tmp_path):
    other = str(tmp_path / "other_mod.py")
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: None, {}, branch=False)
    tool = free_tool()      # chosen before start(): no code of ours runs measured after
    tracer.start()
    seen: list = []
    try:
        exec(compile(MODULE, other, "exec"), {"__name__": "other_mod"})   # decides the file, marks
        with other_tool(seen, tool):
            exec(compile(MODULE, other, "exec"), {"__name__": "other_mod"})
            # Made after an unmeasured PY_START that saw the other tool.
            seen.clear()
            exec(compile(MODULE, other, "exec"), {"__name__": "other_mod"})
        counts = tracer.event_counts()
    finally:
        tracer.stop()
    # (Code made while the other tool is on may still be marked, at the
    # version before its events: stale, so instrumented all the same.)
    assert sorted(set(seen) & {"<module>", "f", "<lambda>", "C", "D"}) == ["<lambda>", "<module>", "C", "D", "f"]
    assert counts["start"] >= 1 + 5 + 5


def test_code_made_before_its_file_is_decided_is_marked_after(tmp_path):
    # The code watcher's answer "not decided yet" for a file (code compiled
    # before any of it ran) must not outlive the decision: code compiled for
    # it afterwards is marked, and gives no PY_START.
    warm = str(tmp_path / "warm_mod.py")
    other = str(tmp_path / "other_mod.py")
    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: None, {}, branch=False)
    tracer.start()
    try:
        exec(compile("w = 1\n", warm, "exec"), {})           # an unmeasured start: marking is safe now
        code = compile(MODULE, other, "exec")                  # asked about before it is decided
        exec(code, {"__name__": "other_mod"})                  # decided (unmeasured) here
        first = tracer.event_counts()
        exec(compile(MODULE, other, "exec"), {"__name__": "other_mod"})
        second = tracer.event_counts()
    finally:
        tracer.stop()
    assert data == {}
    assert second["start"] == first["start"]
    assert second["skipped"] == first["skipped"] + 1 + NESTED
