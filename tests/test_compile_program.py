"""covcore._tracer.compile_program: what ``covcore run PROGRAM`` compiles the
program with, the builtin ``compile(..., "exec", dont_inherit=True)`` without
its AST check (which builds the ``_ast`` types, 11 M instructions, on first
use)."""

from __future__ import annotations

import pytest

from covcore import backend

pytestmark = pytest.mark.skipif(backend.EXTENSION_ERROR is not None, reason="no compiled extension")

SOURCES = {
    "plain": "x = 1\nif x:\n    y = 2\n",
    "cookie-ignored": "# -*- coding: latin-1 -*-\ns = 'café'\n",
    "future": "from __future__ import annotations\ndef f(a: Undefined) -> None:\n    return a\n",
    "no-final-newline": "def g():\n    return 1",
    "non-ascii-names": "café = 'ü'\nλ = lambda: café\n",
    "crlf": "a = 1\r\nb = 2\r\n",
    "surrogate-free-emoji": "s = '\U0001f600'\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_same_code_as_builtin(name):
    from covcore._tracer import compile_program

    source = SOURCES[name]
    got = compile_program(source, "/x/prog.py")
    want = compile(source, "/x/prog.py", "exec", dont_inherit=True)
    assert got == want
    assert got.co_filename == "/x/prog.py"
    ns_got: dict = {}
    exec(got, ns_got)
    ns_want: dict = {}
    exec(want, ns_want)
    assert {k: v for k, v in ns_got.items() if k != "__builtins__" and not callable(v)} == {
        k: v for k, v in ns_want.items() if k != "__builtins__" and not callable(v)
    }


@pytest.mark.parametrize("source", ["x = (\n", "def f(:\n    pass\n", "a = 1\n  b = 2\n", "x = 1\0\n"])
def test_same_error_as_builtin(source):
    # SyntaxError (a NUL character: ValueError on 3.10, SyntaxError after).
    from covcore._tracer import compile_program

    with pytest.raises((SyntaxError, ValueError)) as want:
        compile(source, "/x/bad.py", "exec", dont_inherit=True)
    with pytest.raises((SyntaxError, ValueError)) as got:
        compile_program(source, "/x/bad.py")
    assert type(got.value) is type(want.value)
    assert got.value.args == want.value.args


def test_caller_futures_not_inherited():
    # This module has `from __future__ import annotations`; the program doesn't.
    from covcore._tracer import compile_program

    ns: dict = {}
    exec(compile_program("def f(a: int) -> None: pass\nann = f.__annotations__\n", "/x/p.py"), ns)
    assert ns["ann"] == {"a": int, "return": None}


def test_covcore_run_compiles_with_it():
    from covcore import _tracer, execfile

    assert execfile._compile_program is _tracer.compile_program
