"""The probe backend (the fast path of Python 3.10 and 3.11): covcore.probes and
covcore._tracer.ProbeTracer.

The probe backend must record exactly the lines the trace function (ctrace)
records.  tests/test_tracer.py and tests/test_reference.py run all their
programs under it (it is in ``available_backends()`` on 3.10 and 3.11, and the default
there for line coverage); this file adds a differential run over real
standard-library code, the rewriter's own invariants, and what is particular
to probes: self-removal, re-arming, ``exec``, the start-up sweep, threads,
tracebacks, and when the backend is (not) chosen.
"""

from __future__ import annotations

import builtins
import dis
import json
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from cmdhelpers import clean_env, covcore
from test_tracer import branch_view
from covcore import backend

pytestmark = pytest.mark.skipif(not backend.HAS_PROBES, reason="the probe backend needs Python 3.10 or 3.11 and the extension")

HERE = Path(__file__).parent

if backend.HAS_PROBES:
    from covcore import probes
    from covcore._tracer import ProbeTracer, _arc_probe, _probe


def only(*paths: str):
    wanted = set(paths)
    return lambda filename: filename if filename in wanted else None


def no_warnings(message: str, slug: str) -> None:
    raise AssertionError(f"unexpected warning {slug}: {message}")


def _merged_lines(code: types.CodeType) -> list:
    out: list = []
    for start, end, line in code.co_lines():
        if out and out[-1][2] == line and out[-1][1] == start:
            out[-1] = (out[-1][0], end, line)
        else:
            out.append((start, end, line))
    return out


def _all_codes(code: types.CodeType):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _all_codes(c)


def _stdlib_sources(limit: int):
    root = Path(os.__file__).parent
    names = sorted(p for p in root.glob("*.py"))[:limit]
    names += sorted((root / "email").glob("*.py")) + sorted((root / "json").glob("*.py"))
    return names


# -- the rewriter's tables --------------------------------------------------

PY310 = sys.version_info[:2] == (3, 10)
PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"
only_311 = pytest.mark.skipif(PY310, reason="3.11's bytecode")


def _unit_lines(code: types.CodeType) -> dict:
    """Byte offset -> line (or None), from co_lines (3.10 and 3.11)."""
    out = {}
    for start, end, line in code.co_lines():
        for off in range(start, end, 2):
            out[off] = line
    return out


@pytest.mark.skipif(not PY310, reason="3.10's line table")
def test_line_table_round_trips_over_stdlib_310():
    # 3.10: re-encoding the line of every code unit of 150+ stdlib modules
    # gives back the same lines (co_lines), and the same bytes.
    from covcore._tracer import encode_lines_310, unit_lines_310

    count = same_bytes = 0
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for code in _all_codes(top):
            runs: list = []
            for line in unit_lines_310(code):
                if runs and runs[-1][0] == line:
                    runs[-1] = (line, runs[-1][1] + 1)
                else:
                    runs.append((line, 1))
            table = encode_lines_310(runs, code.co_firstlineno)
            again = code.replace(co_linetable=table)
            assert _unit_lines(again) == _unit_lines(code), (path, code.co_name)
            assert _merged_lines(again) == _merged_lines(code), (path, code.co_name)
            same_bytes += table == code.co_linetable
            count += 1
    assert count > 3000 and same_bytes > count * 0.9


def test_unit_positions_read_the_location_table_as_cpython_does():
    # The rewriters read each code unit's position from the location table
    # in C (covcore._tracer._unit_positions): on 3.11 exactly what
    # co_positions() gives, for every code object of 150+ stdlib modules;
    # on 3.10, co_lines()'s line.
    from covcore._tracer import unit_lines_310, unit_positions

    count = 0
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for code in _all_codes(top):
            if PY310:
                expected = [(line, None, None, None) for line in unit_lines_310(code)]
            else:
                expected = list(code.co_positions())
            assert unit_positions(code) == expected, (path, code.co_name)
            count += 1
    assert count > 3000


@only_311
def test_tables_round_trip_over_stdlib():
    # Re-encoding the location and exception tables of every code object of
    # 150+ stdlib modules gives back the same positions and the same bytes.
    count = 0
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for code in _all_codes(top):
            pos = list(code.co_positions())
            again = code.replace(co_linetable=probes.encode_locations(pos, code.co_firstlineno))
            assert list(again.co_positions()) == pos, (path, code.co_name)
            assert _merged_lines(again) == _merged_lines(code), (path, code.co_name)
            table = probes.parse_exception_table(code.co_exceptiontable)
            assert probes.encode_exception_table(table) == code.co_exceptiontable, (path, code.co_name)
            count += 1
    assert count > 3000


def test_instrumented_code_keeps_its_instructions_and_lines():
    # Every code object of 150+ stdlib modules: without the probes, the
    # instrumented code is the same instruction stream (jumps to the same
    # instructions), every instruction keeps its position, and exception
    # handlers protect the same instructions.
    ins = probes.Instrumenter(_probe, _arc_probe)
    probes_seen = 0
    if PY310:
        probes_seen = _check_instrumented_310(ins)
        assert probes_seen > 20000
        return
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        new_top = ins.instrument(top)
        for old, new in zip(_all_codes(top), _all_codes(new_top)):
            assert new.co_name == old.co_name and new.co_firstlineno == old.co_firstlineno
            old_i = [i for i in dis.get_instructions(old) if i.opname != "EXTENDED_ARG"]
            new_i = [i for i in dis.get_instructions(new) if i.opname != "EXTENDED_ARG"]
            def probe_at(k):
                if new_i[k].opname == "PUSH_NULL" and k + 1 < len(new_i) and new_i[k + 1].opname == "LOAD_CONST" \
                        and new_i[k + 1].argval is _probe:
                    assert [i.opname for i in new_i[k:k + 5]] == ["PUSH_NULL", "LOAD_CONST", "PRECALL", "CALL", "POP_TOP"]
                    assert len({i.positions for i in new_i[k:k + 6]}) == 1  # the probe has its instruction's position
                    return 5
                return 0

            kept, landing, n = _strip_probes(new_i, probe_at)
            probes_seen += n
            assert [(i.opname, i.positions) for i in kept] == [(i.opname, i.positions) for i in old_i], (path, old.co_name)
            # Jumps land on the same instruction (or on the probe just before it).
            for a, b in zip(old_i, kept):
                if a.opcode in dis.hasjrel:
                    target_old = next(i for i in old_i if i.offset >= a.argval)
                    target_new = landing[min(off for off in landing if off >= b.argval)]
                    assert (target_new.opname, target_new.positions) == (target_old.opname, target_old.positions)
            assert new.co_stacksize in (old.co_stacksize, old.co_stacksize + probes.PROBE_STACK)
            assert len(probes.parse_exception_table(new.co_exceptiontable)) == \
                len(probes.parse_exception_table(old.co_exceptiontable))
    assert probes_seen > 20000


def _strip_probes(new_i, probe_at):
    """``(kept, landing, probes)`` for the instructions `new_i` of an
    instrumented code object: the instructions that are not probes' (in
    order), each new offset mapped to the kept instruction run from there (a
    probe's offsets land on the instruction after it), and the number of
    probes; ``probe_at(k)`` is the length of the probe starting at index k, or 0."""
    kept, landing, pending = [], {}, []
    probes = 0
    k = 0
    while k < len(new_i):
        length = probe_at(k)
        if length:
            probes += 1
            pending += [i.offset for i in new_i[k:k + length]]
            k += length
            continue
        for off in pending + [new_i[k].offset]:
            landing[off] = new_i[k]
        pending = []
        kept.append(new_i[k])
        k += 1
    return kept, landing, probes


def _check_instrumented_310(ins) -> int:
    # 3.10: a probe is LOAD_CONST _probe, CALL_FUNCTION 0, POP_TOP with the
    # line of the instruction it precedes; jumps (relative and absolute,
    # SETUP_* handlers included) land on the same instruction or its probe.
    probes_seen = 0
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        new_top = ins.instrument(top)
        for old, new in zip(_all_codes(top), _all_codes(new_top)):
            assert new.co_name == old.co_name and new.co_firstlineno == old.co_firstlineno
            old_lines, new_lines = _unit_lines(old), _unit_lines(new)
            old_i = [i for i in dis.get_instructions(old) if i.opname != "EXTENDED_ARG"]
            new_i = [i for i in dis.get_instructions(new) if i.opname != "EXTENDED_ARG"]
            def probe_at(k):
                if new_i[k].opname == "LOAD_CONST" and new_i[k].argval is _probe:
                    assert [(i.opname, i.arg) for i in new_i[k + 1:k + 3]] == [("CALL_FUNCTION", 0), ("POP_TOP", None)]
                    assert len({new_lines[i.offset] for i in new_i[k:k + 4]}) == 1
                    return 3
                return 0

            kept, landing, n = _strip_probes(new_i, probe_at)
            probes_seen += n
            assert [(i.opname, new_lines[i.offset]) for i in kept] == \
                [(i.opname, old_lines[i.offset]) for i in old_i], (path, old.co_name)
            new_of = {id(b): a for a, b in zip(old_i, kept)}
            for a, b in zip(old_i, kept):
                if a.opcode in dis.hasjrel or a.opcode in dis.hasjabs:
                    target_old = next(i for i in old_i if i.offset >= a.argval)
                    target_new = landing[min(off for off in landing if off >= b.argval)]
                    assert new_of[id(target_new)] is target_old, (path, old.co_name, a)
            assert new.co_stacksize in (old.co_stacksize, old.co_stacksize + probes.PROBE_STACK)
    return probes_seen


@only_311
def test_compiled_arc_rewriter_equals_reference():
    # covcore._tracer.rewrite_arcs_c (what runs) and covcore.probearcs.rewrite_arcs
    # (the reference, in Python) make byte-identical code objects.
    from covcore import probearcs
    from covcore._tracer import rewrite_arcs_c

    count = rewritten = 0
    for path in _stdlib_sources(150):
        top = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for code in _all_codes(top):
            ref = probearcs.rewrite_arcs(code, list(code.co_consts), _arc_probe)
            got = rewrite_arcs_c(code, list(code.co_consts), _arc_probe)
            count += 1
            if ref is None:
                assert got is None, (path, code.co_name)
                continue
            rewritten += 1
            fields = ("co_code", "co_consts", "co_linetable", "co_exceptiontable", "co_stacksize")
            assert [getattr(got, f) for f in fields] == [getattr(ref, f) for f in fields], (path, code.co_name)
    assert count > 3000 and rewritten > 3000


# -- differential: probe vs ctrace on real code ------------------------------

MEASURE_STDLIB = """\
import json, sys
from covcore import Coverage
cov = Coverage(data_file=None, cover_pylib=True, config_file=False)
cov.start()
import runpy
runpy.run_path(sys.argv[1], run_name="__main__")
cov.stop()
data = cov.get_data()
print("@@" + json.dumps({f: sorted(data.lines(f)) for f in data.measured_files()}))
"""


def _measure_stdlib(core: str) -> dict:
    env = clean_env(COVCORE_CORE=core)
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE_STDLIB, str(HERE / "probe_corpus" / "exercise_stdlib.py")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.split("@@", 1)[1])


def test_stdlib_lines_equal_ctrace():
    # argparse, ast, configparser, csv, dataclasses, difflib, email, enum,
    # fractions, inspect, ipaddress, json, pprint, shlex, statistics,
    # string, textwrap, tomllib, typing, urllib.parse ... measured with
    # cover_pylib: the same files, the same lines, under both backends.
    probe = _measure_stdlib("probe")
    ctrace = _measure_stdlib("ctrace")
    # Under ctrace, covcore itself runs threading.settrace(None) while its
    # tracer is on (Collector.stop): not the program's lines.
    assert {k for k in ctrace if k.endswith("threading.py")} == {threading.__file__}
    del ctrace[threading.__file__]
    assert sorted(probe) == sorted(ctrace)
    differ = {f: (sorted(set(ctrace[f]) - set(probe[f])), sorted(set(probe[f]) - set(ctrace[f])))
              for f in ctrace if probe[f] != ctrace[f]}
    assert differ == {}
    assert len(ctrace) > 60 and sum(len(v) for v in ctrace.values()) > 5000


MEASURE_STDLIB_ARCS = MEASURE_STDLIB.replace("cover_pylib=True,", "cover_pylib=True, branch=True,").replace(
    "data.lines(f)", "data.arcs(f)")


def test_stdlib_branches_equal_ctrace():
    # Branch mode over the same standard-library run: in every file, the
    # lines that ran and the arcs taken and not taken from branch lines are
    # the same as ctrace's (arcs into exception handlers and self-arcs may
    # differ: no report uses them).
    env = {"COVCORE_CORE": "probe"}
    results = {}
    for core in ("probe", "ctrace"):
        env = clean_env(COVCORE_CORE=core)
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE_STDLIB_ARCS, str(HERE / "probe_corpus" / "exercise_stdlib.py")],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        results[core] = json.loads(proc.stdout.split("@@", 1)[1])
    probe, ctrace = results["probe"], results["ctrace"]
    ctrace.pop(threading.__file__, None)   # covcore's own threading.settrace(None), under ctrace only
    assert sorted(probe) == sorted(ctrace)
    differ = {}
    branches = 0
    for f in ctrace:
        source = Path(f).read_text(encoding="utf-8")
        if not source.strip():
            # An empty module (email/mime/__init__.py, urllib/__init__.py):
            # no statements, no branches.  3.10 still runs (and traces) its
            # "return None" as line 1; 3.11 gives it no line.
            assert {x for a in probe[f] for x in a if x > 0} == {x for a in ctrace[f] for x in a if x > 0} \
                == ({1} if PY310 else set())
            continue
        want = branch_view({tuple(a) for a in ctrace[f]}, source)
        got = branch_view({tuple(a) for a in probe[f]}, source)
        branches += len(want[1])
        if want != got:
            differ[f] = (sorted(want[0] ^ got[0]), sorted(want[1] - got[1]), sorted(got[1] - want[1]))
    assert differ == {}
    assert branches > 1000


# -- probe mechanics --------------------------------------------------------

LOOP = """\
def f(n):
    t = 0
    for i in range(n):
        t += i
    return t
"""


def test_probe_turns_into_a_jump_and_restart_rearms(tmp_path):
    path = str(tmp_path / "loop.py")
    data: dict = {}
    tracer = ProbeTracer(data, only(path), {}, warn=no_warnings)
    tracer.start()
    try:
        ns: dict = {}
        exec(compile(LOOP, path, "exec"), ns)
        code = ns["f"].__code__
        lines = _unit_lines(code)
        probe_lines = [lines[i.offset] for i in dis.get_instructions(code) if i.argval is _probe]
        assert probe_lines == [2, 3, 3, 4, 5]  # FOR_ITER is the loop's jump target from line 4
        assert ns["f"](3) == 3
        assert data == {path: {1, 2, 3, 4, 5}}
        # The fired probes are jumps over the rest of the probe now (3.11: 9
        # units, PRECALL and CALL with their caches, POP_TOP; 3.10: 2 units).
        live = bytes(code.co_code) if PY310 else bytes(code._co_code_adaptive)
        over = 2 if PY310 else 9
        jumps = [k for k in range(0, len(live), 2) if live[k] == dis.opmap["JUMP_FORWARD"] and live[k + 1] == over]
        assert len(jumps) == 5
        data[path].clear()
        assert ns["f"](3) == 3
        assert data[path] == set()  # nothing fires again
        tracer.restart()
        assert ns["f"](2) == 1
        assert data[path] == {2, 3, 4, 5}
    finally:
        tracer.stop()


@pytest.mark.parametrize("branch", [False, True])
def test_probe_quickened_before_it_runs(tmp_path, branch):
    # 300 constants: the probes' LOAD_CONSTs need EXTENDED_ARG, which 3.11
    # quickens (to EXTENDED_ARG_QUICK) once the function is warm, before the
    # probe on line 3 ever runs; it must still jump to its own end.
    path = str(tmp_path / "many.py")
    values = ", ".join(f"{i}.5" for i in range(300))
    source = f"def f(flag):\n    if flag:\n        x = [{values}]\n        return len(x)\n    return 0\n"
    data: dict = {}
    t = ProbeTracer(data, only(path), {}, branch=branch, warn=no_warnings)
    t.start()
    try:
        ns: dict = {}
        exec(compile(source, path, "exec"), ns)
        assert [ns["f"](False) for _ in range(50)] == [0] * 50
        assert ns["f"](True) == 300
        assert ns["f"](True) == 300
    finally:
        t.stop()
    if branch:
        assert data[path] >= {(-1, 1), (1, -1), (-1, 2), (2, 3), (2, 5), (3, 4), (4, -1), (5, -1)}
    else:
        assert data == {path: {1, 2, 3, 4, 5}}


def test_stopped_tracer_records_nothing_and_next_session_records_again(tmp_path):
    path = str(tmp_path / "loop.py")
    data1: dict = {}
    t1 = ProbeTracer(data1, only(path), {}, warn=no_warnings)
    t1.start()
    ns: dict = {}
    exec(compile(LOOP, path, "exec"), ns)
    assert ns["f"](1) == 0
    t1.stop()
    assert data1 == {path: {1, 2, 3, 4, 5}}
    assert builtins.exec is not None and builtins.exec.__module__ == "builtins"
    assert ns["f"](2) == 1  # not measuring: nothing recorded
    assert data1 == {path: {1, 2, 3, 4, 5}}
    ns["g"] = None
    exec_g = compile("def g():\n    return 5\n", path, "exec")
    builtins.exec(exec_g, ns)  # not measuring: not instrumented either
    assert ns["g"]() == 5 and data1 == {path: {1, 2, 3, 4, 5}}
    exec_h = compile("\n" * 5 + "def h():\n    return 9\n", path, "exec")
    t1.start()
    builtins.exec(exec_h, ns)  # instrumented: h's line 7 has a probe ...
    t1.stop()
    assert ns["h"]() == 9  # ... which runs while not measuring: a jump now, nothing recorded
    assert data1 == {path: {1, 2, 3, 4, 5, 6}}
    data2: dict = {}
    t2 = ProbeTracer(data2, only(path), {}, warn=no_warnings)
    t2.start()  # re-arms every probe that became a jump
    try:
        assert ns["f"](0) == 0
        assert ns["h"]() == 9
    finally:
        t2.stop()
    assert data2 == {path: {2, 3, 5, 7}}


def test_exec_is_wrapped_only_while_measuring(tmp_path):
    real = builtins.exec
    t = ProbeTracer({}, only("x"), {}, warn=no_warnings)
    t.start()
    try:
        assert builtins.exec is not real
        assert type(builtins.exec) is type(len)  # a C function: no frame in tracebacks
        ns = {}
        builtins.exec("y = 41 + 1", ns)  # strings, and the caller's globals by default
        assert ns["y"] == 42
        z = 5
        builtins.exec("assert z == 5")  # the caller's locals by default
        assert z == 5
    finally:
        t.stop()
    assert builtins.exec is real


def test_tracebacks_of_instrumented_code(tmp_path):
    path = tmp_path / "boom.py"
    path.write_text("def f(x):\n    y = x + 1\n    return (y /\n            0)\n\ntry:\n    f(1)\nexcept ZeroDivisionError as e:\n    tb = e.__traceback__\n")
    data: dict = {}
    t = ProbeTracer(data, only(str(path)), {}, warn=no_warnings)
    t.start()
    try:
        ns: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), ns)
    finally:
        t.stop()
    import traceback
    frames = traceback.extract_tb(ns["tb"])
    if PY310:       # (no columns on 3.10; the line of the division's last instruction)
        assert [(os.path.basename(fr.filename), fr.lineno) for fr in frames] == [("boom.py", 7), ("boom.py", 3)]
    else:
        assert [(os.path.basename(fr.filename), fr.lineno, fr.end_lineno, fr.colno, fr.end_colno)
                for fr in frames] == [("boom.py", 7, 7, 4, 8), ("boom.py", 3, 4, 12, 13)]
    assert data == {str(path): {1, 2, 3, 4, 6, 7, 8, 9}}  # as ctrace: LOAD_CONST 0 is on line 4


def test_threads_are_measured(tmp_path):
    path = str(tmp_path / "loop.py")
    data: dict = {}
    t = ProbeTracer(data, only(path), {}, warn=no_warnings)
    t.start()
    try:
        ns: dict = {}
        exec(compile("def g():\n    return 7\n", path, "exec"), ns)
        th = threading.Thread(target=ns["g"])
        th.start()
        th.join()
    finally:
        t.stop()
    assert data == {path: {1, 2}}


SWEEP_MOD = """\
def helper(x):
    if x:
        return 1
    return 2

class K:
    def m(self):
        return helper(0)
    @staticmethod
    def s():
        return 3
"""


def test_modules_imported_before_start_are_swept(tmp_path):
    path = str(tmp_path / "swept_mod.py")
    mod = types.ModuleType("swept_mod")
    mod.__file__ = path
    builtins.exec(compile(SWEEP_MOD, path, "exec"), mod.__dict__)
    sys.modules["swept_mod"] = mod
    try:
        data: dict = {}
        t = ProbeTracer(data, only(path), {}, warn=no_warnings)
        t.start()
        try:
            assert mod.K().m() == 2
            assert mod.K.s() == 3
        finally:
            t.stop()
        assert data == {path: {2, 4, 8, 11}}
    finally:
        del sys.modules["swept_mod"]


def test_unknown_bytecode_warns_and_runs_uninstrumented(tmp_path, monkeypatch):
    path = str(tmp_path / "odd.py")
    from covcore import _tracer

    def refuse(self, code, branch=False):
        raise ValueError("jump to 99 is not an instruction in <module>")

    monkeypatch.setattr(probes.Instrumenter, "instrument", refuse)
    monkeypatch.setattr(_tracer, "_instrumenter", None, raising=False)
    warnings: list = []
    data: dict = {}
    t = ProbeTracer(data, only(path), {}, warn=lambda m, s: warnings.append((s, m)))
    t.start()
    try:
        ns: dict = {}
        exec(compile("x = 1\n", path, "exec"), ns)
    finally:
        t.stop()
    assert ns["x"] == 1
    assert data == {}
    assert warnings == [("cant-instrument", f"Couldn't instrument {path} for the probe backend "
                         "(ValueError: jump to 99 is not an instruction in <module>); it is not measured")]


# -- choosing the backend ---------------------------------------------------

def test_chosen_for_lines_and_branches(monkeypatch):
    monkeypatch.delenv("COVCORE_CORE", raising=False)
    for branch, what in [(False, "probes"), (True, "arc probes")]:
        chosen = backend.choose_backend(branch=branch)
        assert (chosen.name, chosen.reason) == (
            "probe", f"Python {PYVER}: measured code gets self-removing {what}, nothing is traced")


START_INSIDE = """\
from covcore import Coverage
cov = Coverage(data_file=None, config_file=False, source=["."])
cov.start()
a = 1
b = 2
cov.stop()
print(sorted(cov.get_data().lines(__file__)), cov.sys_info()[2][1])
"""


def test_start_inside_measured_code_uses_ctrace(tmp_path):
    # Probes can't reach the rest of a frame already running: ctrace then.
    (tmp_path / "inside.py").write_text(START_INSIDE)
    proc = subprocess.run([sys.executable, "inside.py"], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[4, 5, 6] ctrace\n"


def test_debug_sys_explains_the_choice(tmp_path):
    env = clean_env()
    env.pop("COVCORE_CORE", None)
    res = covcore("debug", "sys", cwd=tmp_path, env=env)
    assert res.rc == 0, res
    assert "tracer_backend: probe" in res.out
    assert f"backend_reason: Python {PYVER}: measured code gets self-removing probes, nothing is traced" in res.out


PYTEST_PROJECT = {
    "mylib.py": "def add(a, b):\n    if a < 0:\n        return 0\n    return a + b\n",
    "test_mylib.py": "from mylib import add\n\ndef test_add():\n    assert add(1, 2) == 3\n\ndef helper():\n    return 1\n",
}


@pytest.mark.parametrize("core", ["probe", "ctrace"])
def test_pytest_rewritten_test_files_are_measured(tmp_path, core):
    # pytest compiles test files itself (assertion rewriting) and exec()s them.
    for name, text in PYTEST_PROJECT.items():
        (tmp_path / name).write_text(text)
    env = clean_env(COVCORE_CORE=core)
    res = covcore("run", "--source=.", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path, env=env)
    assert res.rc == 0, res
    res = covcore("report", "-m", cwd=tmp_path, env=env)
    assert res.out.splitlines()[2:4] == [
        "mylib.py            4      1    75%   3",
        "test_mylib.py       5      1    80%   7",
    ], res
