"""Tests of covcore.bytecode: the bytecode facts behind the sysmon branch
tracer (Python 3.12+), and resolve_arcs(), how its arcs are read (every
version)."""

from __future__ import annotations

import dis
import os
import sys
import sysconfig
import textwrap
import types
import warnings
from pathlib import Path

import pytest

from covcore import backend, bytecode, bytegraph
from covcore.bytecode import CodeMap, analyze, resolve_arcs

needs_sysmon = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")


# -- resolve_arcs -------------------------------------------------------------


def test_resolve_keeps_measured_arcs():
    measured = {(-1, 1), (1, 2), (2, 3), (2, 4), (4, -1)}
    possible = {(1, 2), (2, 3), (2, 4), (3, 4), (4, -1)}
    assert resolve_arcs(measured, possible) == measured


def test_resolve_self_arc_to_the_single_destination():
    # Line 1 has one possible destination (2), which ran: (1, 1) also means
    # (1, 2).  Line 2 has two: its self-arc stays a self-arc.
    measured = {(1, 1), (2, 2), (2, 3), (3, 3)}
    possible = {(1, 2), (2, 3), (2, 4), (3, -1)}
    assert resolve_arcs(measured, possible) == measured | {(1, 2), (3, -1)}


def test_resolve_never_adds_lines():
    # Line 1's only destination, 2, never ran (line 1 raised): no (1, 2).
    measured = {(1, 1), (1, -1)}
    possible = {(1, 2), (2, -1)}
    assert resolve_arcs(measured, possible) == measured


def test_resolve_settrace_data_unchanged():
    # settrace data (here CTracer's for a one-line loop, line 5) only gains
    # the resolved arc of its self-arc, which it already has.
    measured = {(-1, 1), (1, 5), (5, 5), (5, 6), (6, -1)}
    possible = {(1, 5), (5, 6), (6, -1)}
    assert resolve_arcs(measured, possible) == measured


def test_resolve_accepts_iterables():
    assert resolve_arcs(iter([(1, 1)]), iter([(1, -1)])) == {(1, 1), (1, -1)}
    assert resolve_arcs([], []) == set()


# -- analyze ------------------------------------------------------------------


def code_of(source: str, name: str | None = None) -> types.CodeType:
    """The code object of function `name` in `source` (or the module's)."""
    code = compile(textwrap.dedent(source), "prog.py", "exec")
    if name is None:
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    raise LookupError(name)


def line_arcs(cm: CodeMap) -> set:
    """Every arc some LINE location records."""
    return {arc for arcs in cm.line_records.values() for arc in arcs}


@needs_sysmon
def test_if_else_needs_no_branch_event():
    # Both sides of the if start lines that only line 2 leads to: LINE
    # records the arcs, the BRANCH event isn't needed.
    cm = analyze(
        code_of(
            """\
            def f(x):
                if x:
                    a = 1
                else:
                    a = 2
                return a
            """,
            "f",
        )
    )
    assert cm.first_line == 1
    assert {(-1, 2), (2, 3), (2, 5)} <= line_arcs(cm)
    assert {(2, 2), (3, 3), (5, 5), (6, 6)} <= line_arcs(cm)
    assert not cm.need_branch
    assert set(cm.returns.values()) == {(6, -1)}


@needs_sysmon
def test_if_without_else_needs_branch_event():
    # Line 4 is reached from line 2 (x is not None) and from line 3, which
    # falls through: only the BRANCH event of line 2 can tell (2, 4).
    cm = analyze(
        code_of(
            """\
            def f(x):
                if x is None:
                    x = 0
                y = x + 1
                z = y * 2
                return z
            """,
            "f",
        )
    )
    ((dest0, arc0, dest1, arc1, need),) = cm.branches.values()
    assert {arc0, arc1} == {(2, 3), (2, 4)}
    assert need == (1 if arc0 == (2, 4) else 2)
    assert cm.need_branch
    assert not cm.crumb_lines


@needs_sysmon
def test_loop_exit_shared_with_break_uses_crumbs():
    # Line 5 is reached from the loop's exit and from the break (the code
    # after the loop is too long for the compiler to copy it for the break).
    # The break is a JUMP, which leaves a crumb for LINE at line 5: a LINE
    # there without one came from the loop's exit.  No BRANCH event needed.
    cm = analyze(
        code_of(
            """\
            def f(xs):
                for x in xs:
                    if x:
                        break
                y = x + 1
                z = y * 2
                return z
            """,
            "f",
        )
    )
    (loop,) = [b for b in cm.branches.values() if (2, 5) in (b[1], b[3])]
    dest0, arc0, dest1, arc1, need = loop
    assert arc0 == (2, 3)  # into the body: LINE records it
    assert arc1 == (2, 5)
    assert need == 0
    assert not cm.need_branch
    assert cm.crumb_lines == {dest1: (2, 5)}
    ((jump, target),) = cm.crumb_jumps.items()
    assert target == dest1
    assert cm.jumps[jump] == (4, 5)


@needs_sysmon
def test_conditions_on_one_line():
    # `a and b`: the first jump's fall-through leads to the second test, on
    # the same line: it records nothing.
    cm = analyze(
        code_of(
            """\
            def f(a, b):
                if a and b:
                    return 1
                return 2
            """,
            "f",
        )
    )
    arcs = [(b[1], b[3]) for b in cm.branches.values()]
    assert len(arcs) == 2
    assert (None, (2, 4)) in arcs or ((2, 4), None) in arcs
    assert not cm.need_branch


@needs_sysmon
def test_one_line_definitions_claim_their_arc():
    # Line 3 runs a lambda too (its exit is also an arc from line 3), and
    # falls through to line 4, which line 2 also leads to: LINE at line 3
    # claims (3, 4).
    cm = analyze(
        code_of(
            """\
            def f(flag):
                if flag:
                    g = lambda: 1
                return flag
            """,
            "f",
        )
    )
    assert cm.n_claims == 1
    assert (3, 4) in line_arcs(cm)


@needs_sysmon
def test_generator_resumes_and_unwinds():
    code = code_of(
        """\
        def gen():
            yield 1
            x = 2
        """,
        "gen",
    )
    cm = analyze(code)
    assert len(cm.yield_resumes) == 1
    # Resuming continues from the yield's line: LINE at line 3 records (2, 3).
    assert (2, 3) in line_arcs(cm)
    assert len(cm.unwind_lines) == len(code.co_code) // 2


@needs_sysmon
def test_unwind_lines_cover_inline_caches():
    # An exception leaving the frame in a call is reported at the call's
    # last inline cache on 3.12: every code unit of the call knows its line.
    code = code_of(
        """\
        def f():
            g()
            return 1
        """,
        "f",
    )
    cm = analyze(code)
    (call,) = [i for i in dis.get_instructions(code) if i.opname == "CALL"]
    size = 2 + 2 * bytegraph._CACHES[call.opcode]
    for offset in range(call.offset, call.offset + size, 2):
        assert cm.unwind_lines[offset // 2] == 2


@needs_sysmon
def test_exception_handlers_start_lines():
    cm = analyze(
        code_of(
            """\
            def f():
                try:
                    g()
                except KeyError:
                    return 1
                return 2
            """,
            "f",
        )
    )
    lines_with_events = {arcs[0][0] for arcs in cm.line_records.values()}
    assert {2, 3, 4, 5, 6} <= lines_with_events


def test_parse_exception_table():
    # (start, length, handler, depth/lasti) as varints, 6 bits each, 0x40
    # continues, 0x80 marks an entry's start: offsets are in code units.
    table = bytes([0x80 | 2, 3, 10, 0, 0x80 | 0x40 | 1, 0, 1, 20, 2])
    assert bytegraph._parse_exception_table(table) == [(4, 10, 20), (128, 130, 40)]


@needs_sysmon
def test_analyze_whole_modules():
    # Every code object of a few sizeable standard modules is analysed without
    # error, and every BRANCH location knows its two destinations.
    import argparse
    import asyncio.base_events
    import json.decoder

    for module in (argparse, asyncio.base_events, json.decoder, dis):
        with open(module.__file__, encoding="utf-8") as f:
            code = compile(f.read(), module.__file__, "exec")
        todo = [code]
        while todo:
            code = todo.pop()
            todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
            cm = analyze(code)
            for offset, (dest0, arc0, dest1, arc1, need) in cm.branches.items():
                assert dest0 != dest1
                assert 0 <= need <= 3
            assert all(arcs[0][0] == arcs[0][1] for arcs in cm.line_records.values())


# -- analyze_c: the compiled analysis equals the reference ---------------------

needs_analyze_c = pytest.mark.skipif(
    sys.version_info < (3, 12) or backend.EXTENSION_ERROR is not None,
    reason="analyze_c is the compiled extension's, for sys.monitoring (3.12+)",
)


def _all_codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _all_codes(const)


def _compared(cm: CodeMap, field: str):
    value = getattr(cm, field)
    # Dicts in their order too: the sysmon tracer copies them as they come.
    return list(value.items()) if isinstance(value, dict) else value


def _differing_fields(code: types.CodeType) -> list:
    from covcore._tracer import analyze_c

    ref = analyze(code)
    got = analyze_c(code)
    assert type(got) is CodeMap
    return [f for f in CodeMap.__slots__ if _compared(got, f) != _compared(ref, f)]


def _c_map_differs(code: types.CodeType) -> list:
    """The fields in which the sysmon tracer's code map in C (arcs packed,
    arrays by code unit) differs from the CodeMap analyze_c() makes."""
    from covcore._tracer import _code_map_c_for_tests, analyze_c

    cm = analyze_c(code)
    expected = (cm.line_records, cm.branches, {k: v for k, v in cm.jumps.items() if v is not None},
                {k: v for k, v in cm.returns.items() if v is not None}, cm.resumes, cm.crumb_lines,
                cm.crumb_jumps, cm.need_branch, cm.unwind_lines)
    names = ("line_records", "branches", "jumps", "returns", "resumes", "crumb_lines", "crumb_jumps",
             "need_branch", "unwind_lines")
    return [name for name, got, want in zip(names, _code_map_c_for_tests(code), expected) if got != want]


TRICKY = [
    '''
    def matcher(x):
        match x:
            case [1, *rest] if rest:
                return rest
            case {"k": v} | {"j": v}:
                return v
            case Point(x=0, y=yy) as p:
                return p
            case str() | bytes():
                pass
            case _:
                return None
        return 1
    ''',
    '''
    def groups():
        try:
            f()
        except* ValueError as eg:
            g(eg)
        except* (TypeError, KeyError):
            h()
        else:
            i()
        finally:
            j()
        try:
            return k()
        except Exception:
            if m():
                raise
            return 2
        finally:
            n()
    ''',
    '''
    async def agen(src, lock):
        async with lock, other() as o:
            async for item in src:
                if item:
                    yield item
                else:
                    continue
            else:
                await o.done()
        async for a in src:
            break

    async def acoro(src):
        async with lock() as a, lock() as b:
            pass
        return [b async for b in src if await b]
    ''',
    '''
    def delegating(it):
        x = yield from it
        while x:
            x = yield x
            if x is None:
                break
        else:
            yield from (y for y in it if y)
        return x
    ''',
    '''
    def comprehensions(rows):
        grid = [[c for c in row if c] for row in rows if row]
        flat = {c: [d for d in grid if d != c] for r in grid for c in r}
        total = sum(x * y for x in flat for y in (lambda z: z)(x) if x if y)
        return grid, flat, total
    ''',
    '''
    def loops(n):
        i = 0
        while i < n:
            i += 1
            if i == 3:
                continue
            if i == 7:
                break
        else:
            i = -1
        for j in range(n):
            pass
        else:
            j = None
        while True:
            if n: break
        return i, j
    ''',
    '''
    import functools
    key = lambda x: x if x else (lambda: 0)()
    @functools.lru_cache(maxsize=None)
    @(lambda f: f)
    def decorated(a, b=lambda: 1, *, c=[i for i in range(3)]):
        return a and b or c
    class K(Base, metaclass=M):
        @property
        def p(self): return self._p if self else None
        @staticmethod
        def s(): yield
    ''',
]


@needs_analyze_c
@pytest.mark.parametrize("source", TRICKY, ids=["match", "try-star-finally", "async", "yield-from",
                                                 "comprehensions", "while-else", "lambdas-decorators"])
def test_analyze_c_equals_reference_on_tricky_code(source):
    top = compile(textwrap.dedent(source), "tricky.py", "exec")
    for code in _all_codes(top):
        assert _differing_fields(code) == [], (code.co_name, code.co_firstlineno)
        assert _c_map_differs(code) == [], (code.co_name, code.co_firstlineno)


@needs_analyze_c
def test_analyze_c_equals_reference_over_stdlib():
    # Every code object of the running Python's standard library (its test
    # suite and IDLE left out, for time): the compiled analysis gives the
    # reference's CodeMap, every field equal (dicts in the same order too).
    root = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("test", "idlelib", "site-packages", "dist-packages"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                top = compile(path.read_bytes(), str(path), "exec")
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        for code in _all_codes(top):
            differ = _differing_fields(code) + _c_map_differs(code)
            assert differ == [], f"{rel}: {code.co_qualname} (line {code.co_firstlineno}) differs in {differ}"
            count += 1
    assert count > 10000


def _slice_tops(*more: str) -> list:
    """The tricky sources and a slice of the standard library (generators,
    coroutines, closures, try/finally, match, comprehensions), plus the
    stdlib files named in `more`, compiled: their module code objects."""
    root = Path(sysconfig.get_paths()["stdlib"])
    tops = [compile(textwrap.dedent(source), "tricky.py", "exec") for source in TRICKY]
    for name in ("asyncio/tasks.py", "email/_header_value_parser.py", "contextlib.py", "dataclasses.py",
                 "json/decoder.py", "zipfile/__init__.py", *more):
        path = root / name
        if path.exists():
            tops.append(compile(path.read_text(encoding="utf-8"), str(path), "exec"))
    return tops


@needs_analyze_c
def test_tracer_code_map_in_c_equals_analyze_c_over_a_stdlib_slice():
    # The sysmon tracer keeps each code object's map in C arrays with arcs
    # packed in 64 bits: decoded, every field equals the CodeMap analyze_c()
    # makes, for every code object of a slice of the standard library
    # (generators, coroutines, try/finally, match, comprehensions) and the
    # tricky sources.  (The whole library: test_analyze_c_equals_reference_over_stdlib.)
    from covcore._tracer import analyze_c

    count = branches = crumbs = 0
    for top in _slice_tops("inspect.py", "re/_parser.py", "ast.py"):
        for code in _all_codes(top):
            assert _c_map_differs(code) == [], (code.co_name, code.co_firstlineno)
            count += 1
            cm = analyze_c(code)
            branches += len(cm.branches)
            crumbs += len(cm.crumb_lines) + len(cm.crumb_jumps)
    assert count > 900 and branches > 900 and crumbs > 0


@needs_analyze_c
def test_first_resume_end_from_the_code_object_equals_the_bytecode_scan():
    # The analysis finds nested code objects' prologues from their
    # _co_firsttraceable field, not their co_code: the same offset as the
    # scan of co_code for every code object of a slice of the standard
    # library (closures, generators, coroutines, classes, lambdas) and the
    # tricky sources, made before and after running.
    from covcore._tracer import _first_resume_end_for_tests

    count = 0
    for top in _slice_tops("functools.py", "inspect.py", "typing.py"):
        for code in _all_codes(top):
            field, scanned = _first_resume_end_for_tests(code)
            assert field == scanned > 0, (code.co_name, code.co_firstlineno)
            count += 1
    assert count > 1000

    def gen(a):
        b = [a for _ in range(2)]
        yield lambda: a + b[0]

    next(gen(1))()
    for code in _all_codes(gen.__code__):
        field, scanned = _first_resume_end_for_tests(code)
        assert field == scanned > 0, code.co_name


@needs_analyze_c
def test_analyze_c_wants_a_code_object():
    from covcore._tracer import analyze_c

    with pytest.raises(TypeError):
        analyze_c(lambda: 0)


def test_module_imports_everywhere():
    # The module is imported on every version (resolve_arcs is used by the
    # analysis whatever the tracer).
    assert os.path.basename(bytecode.__file__).startswith("bytecode")
    assert os.path.basename(bytegraph.__file__).startswith("bytegraph")
