"""Straight-line code under the ``sys.monitoring`` tracer's line mode.

A module or class body without jumps, exception table or generator flags,
started by ``exec()`` or ``__build_class__()``, is measured with no event
at all instead of a LINE or INSTRUCTION event per line: covcore's wrappers of
those two builtins record all its lines when the call returns, and read an
exception leaving it from its traceback; running frames are looked at when
the data is read, at stop and at a context switch (which gives the frames'
code a local PY_RETURN): see ``core/_tracer_sysmon_straight.pxi``.  The
lines recorded must be exactly those LINE events record; the tests compare
with the same run measured the old way, and state the lines they expect.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from covcore import backend

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 12) or backend.EXTENSION_ERROR is not None,
    reason="the sysmon tracer (Python 3.12+, compiled extension)",
)

SNIPPETS = Path(__file__).parent / "snippets"
CORPUS = Path(__file__).parent / "probe_corpus" / "exercise_stdlib.py"


def policy(value: int) -> None:
    from covcore._tracer import _set_straight_policy_for_tests

    _set_straight_policy_for_tests(value)


def make(data: dict, root: str, straight: bool):
    from covcore.backend import tracer_class

    policy(0 if straight else 1)
    try:
        return tracer_class("sysmon")(data, lambda f: f if f.startswith(root) else None, {}, branch=False)
    finally:
        policy(0)


def write(path: Path, source: str) -> str:
    path.write_text(textwrap.dedent(source))
    return str(path)


def measure(path: str, straight: bool, *, catch=()) -> tuple[dict, dict]:
    """Run `path` (compiled afresh: new code objects) under a new tracer."""
    data: dict = {}
    tracer = make(data, str(Path(path).parent), straight)
    tracer.start()
    try:
        runpy.run_path(path, run_name="straight_test")
    except catch:
        pass
    finally:
        tracer.stop()
    return {f: set(v) for f, v in data.items()}, tracer.event_counts()


def fresh(path: str, straight: bool):
    """`path`'s code compiled afresh (no state from another run), and a new
    tracer (not started) with its data dict."""
    data: dict = {}
    return compile(Path(path).read_text(), path, "exec"), data, make(data, str(Path(path).parent), straight)


def lines_of(data: dict) -> dict:
    return {f: set(v) for f, v in data.items()}


def both(path: str, *, catch=()) -> tuple[dict, dict]:
    """Measure `path` both ways; the lines must be the same.  The straight
    run's (data, counts)."""
    new, counts = measure(path, True, catch=catch)
    old, _ = measure(path, False, catch=catch)
    assert new == old
    return new, counts


def test_which_code_is_straight():
    from covcore._tracer import is_straight_code

    source = textwrap.dedent("""\
        def plain(a):
            b = a + 1
            return b
        def branchy(a):
            return 1 if a else 2
        def looping(a):
            for x in a:
                pass
        def tried():
            try:
                return 1
            except ValueError:
                return 2
        def within(f):
            with f:
                return 1
        def gen():
            yield 1
        async def coro():
            return 1
        def comp(a):
            return [x for x in a]
        def anded(a, b):
            return a and b
        class K:
            x = 1
            def m(self):
                return self.x
    """)
    module = compile(source, "straight_kinds.py", "exec")
    codes = {c.co_name: c for c in module.co_consts if hasattr(c, "co_code")}
    assert {name: is_straight_code(code) for name, code in codes.items()} == {
        "plain": True, "branchy": False, "looping": False, "tried": False, "within": False,
        "gen": False, "coro": False, "comp": False, "anded": False, "K": True,
    }
    assert is_straight_code(module)
    assert not is_straight_code(compile("if a:\n    b = 1\n", "m.py", "exec"))


def test_straight_bodies_take_no_event(tmp_path):
    path = write(tmp_path / "flat.py", """\
        import os
        A = 1

        class K:
            x = 2

            def m(self):
                return self.x

        def f(a,
              b):
            c = (a +
                 b)
            return c

        f(1, 2)
        K().m()
        B = [
            1,
        ]
    """)
    data, counts = both(path)
    assert data == {path: {1, 2, 4, 5, 7, 8, 10, 12, 13, 14, 16, 17, 18, 19}}
    # The module body (run by runpy's exec) and K's body: recorded by the
    # wrappers, no event.  Functions keep LINE events: an exception could
    # leave them unseen.
    assert (counts["straight"], counts["return"], counts["instruction"], counts["unwind"]) == (2, 0, 0, 0)
    assert counts["line"] > 0


def test_an_exception_ends_the_lines(tmp_path):
    path = write(tmp_path / "raising.py", """\
        def boom(n):
            m = n + 1
            raise ValueError(m)
            return m

        class Half:
            a = 1
            b = boom(a)
            c = 3

        Y = 2
    """)
    data, counts = both(path, catch=ValueError)
    assert data == {path: {1, 2, 3, 6, 7, 8}}
    assert (counts["straight"], counts["return"]) == (0, 0)


def test_an_exception_in_the_first_line_and_in_a_name(tmp_path):
    path = write(tmp_path / "names.py", """\
        A = 1
        B = undefined_name
        C = 3
    """)
    data, _ = both(path, catch=NameError)
    assert data == {path: {1, 2}}
    path = write(tmp_path / "first.py", """\
        import no_such_module_anywhere
        A = 1
    """)
    data, _ = both(path, catch=ImportError)
    assert data == {path: {1}}


def test_an_exception_from_a_nested_import(tmp_path, monkeypatch):
    # inner.py (straight) fails half-way; outer.py catches it, so only the
    # exec() that ran inner.py saw the exception go by.
    write(tmp_path / "inner.py", """\
        X = 1
        Y = 1 / 0
        Z = 3
    """)
    path = write(tmp_path / "outer.py", """\
        try:
            import inner
        except ZeroDivisionError:
            caught = True
        class After:
            done = True
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    results = []
    for straight in (True, False):
        sys.modules.pop("inner", None)
        data, counts = measure(path, straight)
        results.append(data)
    assert results[0] == results[1] == {
        path: {1, 2, 3, 4, 5, 6},
        str(tmp_path / "inner.py"): {1, 2},
    }


def test_only_bodies_that_exec_or_a_class_statement_start(tmp_path):
    # A string given to exec() compiles into a new code object exec() never
    # saw, and a function's code object is not a body: LINE events for both.
    path = str(tmp_path / "strings.py")
    data: dict = {}
    tracer = make(data, str(tmp_path), True)
    tracer.start()
    try:
        exec(compile("A = 1\nB = 2\n", path, "exec"))         # a code object: no event
        exec(f"C = 3\nD = 4\n# {path}\n")                     # a string: <string>, unmeasured
        func_code = compile("def g():\n    x = 1\n    return x\n", path, "exec").co_consts[0]
        exec(func_code)                                          # a function's code: LINE
    finally:
        tracer.stop()
    assert lines_of(data) == {path: {1, 2, 3}}
    counts = tracer.event_counts()
    assert (counts["straight"], counts["return"], counts["line"]) == (1, 0, 2)


def test_snippets_and_corpus_record_the_same_lines(tmp_path):
    compared = 0
    for path in sorted(SNIPPETS.glob("*.py")) + [CORPUS]:
        if path.name == "runner.py":
            continue
        copy = tmp_path / path.name
        copy.write_text(path.read_text())
        sys.path.insert(0, str(SNIPPETS))
        try:
            data, counts = both(str(copy))
        finally:
            sys.path.remove(str(SNIPPETS))
        assert data and data[str(copy)], path.name
        compared += 1
    assert compared == 12


def test_builtins_are_wrapped_only_while_measuring(tmp_path):
    import builtins

    original = (builtins.exec, builtins.__build_class__)
    data: dict = {}
    tracer = make(data, str(tmp_path), True)
    tracer.start()
    try:
        wrapped = (builtins.exec, builtins.__build_class__)
        assert wrapped[0] is not original[0] and wrapped[1] is not original[1]
        assert wrapped[0].__name__ == "exec" and wrapped[1].__name__ == "__build_class__"
        ns: dict = {}
        exec("class Q:\n    v = 7\n", ns)      # they still do their jobs
        assert ns["Q"].v == 7
    finally:
        tracer.stop()
    assert (builtins.exec, builtins.__build_class__) == original
    # Without straight-line measuring nothing is wrapped.
    tracer = make(data, str(tmp_path), False)
    tracer.start()
    try:
        assert (builtins.exec, builtins.__build_class__) == original
    finally:
        tracer.stop()


def test_stop_inside_a_straight_body(tmp_path):
    path = write(tmp_path / "stopper.py", """\
        a = 1
        TRACER.stop()
        b = 2
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        tracer.start()
        exec(code, {"TRACER": tracer})
        assert lines_of(data) == {path: {1, 2}}, straight


def test_start_inside_a_straight_body(tmp_path):
    # The frame running at start() is measured with LINE events: the lines it
    # ran before are not recorded, the ones after are.
    path = write(tmp_path / "starter.py", """\
        a = 1
        TRACER.start()
        b = 2
        c = 3
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        exec(code, {"TRACER": tracer})
        assert lines_of(data) == {path: {3, 4}}, straight
        exec(code, {"TRACER": tracer})      # again, now measured from its start
        tracer.stop()
        assert lines_of(data) == {path: {1, 2, 3, 4}}, straight


def test_reading_the_data_sees_running_frames(tmp_path):
    # Reading the data while a straight body runs (here: from inside it)
    # gets the lines it has reached; its return adds the rest.
    path = write(tmp_path / "reader.py", """\
        a = 1
        PEEK()
        b = 2
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        seen = []

        def peek():
            tracer.record_running()     # as the collector does before reading
            seen.append(lines_of(data))

        tracer.start()
        exec(code, {"PEEK": peek})
        tracer.stop()
        assert seen == [{path: {1, 2}}], straight
        assert lines_of(data) == {path: {1, 2, 3}}, straight


def test_a_context_switch_inside_a_straight_body(tmp_path):
    # As the collector switches contexts: read (record_running), clear, restart.
    path = write(tmp_path / "switcher.py", """\
        a = 1
        class Inner:
            x = 1
            SWITCH()
            y = 2
        b = 2
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        before = {}

        def switch():
            tracer.record_running()
            before.update(lines_of(data))
            for items in data.values():
                items.clear()
            tracer.restart()

        tracer.start()
        exec(code, {"SWITCH": switch})
        tracer.stop()
        assert before == {path: {1, 2, 3, 4}}, straight
        assert lines_of(data) == {path: {5, 6}}, straight
        if straight:
            # Both frames were partial: their code objects got a local
            # PY_RETURN, and the wrappers left them to it.
            counts = tracer.event_counts()
            assert (counts["return"], counts["straight"]) == (2, 0)


def test_a_body_an_exception_left_is_recorded_when_eval_runs_it_again(tmp_path):
    # exec() (wrapped) runs it first and it fails at line 2; eval() (not
    # wrapped) runs the same code object again, to its end: the local
    # PY_RETURN the exception gave it records lines 3 and 4.
    path = write(tmp_path / "again.py", """\
        a = 1
        b = 1 / DIVISOR
        c = 3
        d = 4
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        tracer.start()
        try:
            with pytest.raises(ZeroDivisionError):
                exec(code, {"DIVISOR": 0})
            assert lines_of(data) == {path: {1, 2}}, straight
            eval(code, {"DIVISOR": 1})
        finally:
            tracer.stop()
        assert lines_of(data) == {path: {1, 2, 3, 4}}, straight
        if straight:
            counts = tracer.event_counts()
            assert (counts["straight"], counts["return"], counts["line"]) == (0, 1, 0)


def test_a_body_run_again_is_recorded_once(tmp_path):
    path = write(tmp_path / "twice.py", """\
        class K:
            a = 1
            b = 2
    """)
    code, data, tracer = fresh(path, True)
    tracer.start()
    try:
        exec(code, {})
        exec(code, {})
    finally:
        tracer.stop()
    assert lines_of(data) == {path: {1, 2, 3}}
    counts = tracer.event_counts()
    # The module body and K's, each once; the second run finds them recorded.
    assert (counts["straight"], counts["return"], counts["line"]) == (2, 0, 0)


def test_a_straight_body_in_another_thread_at_stop(tmp_path):
    path = write(tmp_path / "threaded.py", """\
        a = 1
        STARTED.set()
        RELEASE.wait()
        b = 2
    """)
    for straight in (True, False):
        code, data, tracer = fresh(path, straight)
        started, release = threading.Event(), threading.Event()
        tracer.start()
        thread = threading.Thread(target=exec, args=(code, {"STARTED": started, "RELEASE": release}))
        thread.start()
        started.wait(10)
        tracer.stop()
        release.set()
        thread.join(10)
        assert lines_of(data) == {path: {1, 2, 3}}, straight


def test_exceptions_cost_no_event_in_line_mode(tmp_path):
    from covcore.backend import tracer_class

    data: dict = {}
    tracer = tracer_class("sysmon")(data, lambda f: None, {}, branch=False)

    def raiser():
        raise KeyError(1)

    tracer.start()
    try:
        for _ in range(100):
            try:
                raiser()
            except KeyError:
                pass
    finally:
        tracer.stop()
    assert data == {}
    assert tracer.event_counts()["unwind"] == 0


def test_greenlet_concurrency_keeps_line_events(tmp_path):
    # A greenlet suspended inside straight code is in no thread's stack when
    # measuring stops: with concurrency=greenlet such code gets LINE events.
    # (In a process of its own: greenlet leaves state behind that makes
    # other tests' event counts move.)
    pytest.importorskip("greenlet")
    path = write(tmp_path / "suspended.py", """\
        from greenlet import greenlet

        def part():
            class K:
                a = 1
                main.switch()
                b = 2
            return K

        main = greenlet.getcurrent()
        g = greenlet(part)
        g.switch()
        Z = 3
    """)
    driver = write(tmp_path / "driver.py", f"""\
        import json, runpy, sys
        import covcore

        results = {{}}
        for concurrency in (["greenlet"], None):
            cov = covcore.Coverage(data_file=None, source=[{str(tmp_path)!r}], concurrency=concurrency)
            cov.start()
            tracers = list(cov._collector.tracers)
            namespace = runpy.run_path({path!r}, run_name="suspended")   # keeps g (and K's frame) alive
            cov.stop()
            results[str(bool(concurrency))] = [sorted(cov.get_data().lines({path!r})),
                                               tracers[0].event_counts()["straight"]]
            namespace["g"].throw()      # GreenletExit: it ends quietly
        print(json.dumps(results))
    """)
    res = subprocess.run([sys.executable, driver], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)
    assert results["True"] == [[1, 3, 4, 5, 6, 10, 11, 12, 13], 0]
    # Without it K's suspended frame is out of reach at stop (what the
    # option is for): its lines 5 and 6 are not recorded.
    assert results["False"] == [[1, 3, 4, 10, 11, 12, 13], 1]


def test_keep_line_events_only_before_start():
    from covcore.errors import CovcoreError

    data: dict = {}
    tracer = make(data, "/nonexistent-root", True)
    tracer.start()
    try:
        with pytest.raises(CovcoreError, match="before start"):
            tracer.keep_line_events()
    finally:
        tracer.stop()
