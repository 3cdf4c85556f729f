"""The opcode tables covcore's tracer reads instead of importing ``opcode``
(``core/_opcodes3XY.py``, written by ``ci/gen_opcode_tables.py``)."""

import importlib
import importlib.util
import opcode
import os
import subprocess
import sys

import pytest

from covcore import _tracer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "ci"))
import gen_opcode_tables  # noqa: E402

TABLE = "covcore._opcodes%d%d" % sys.version_info[:2]


def test_this_pythons_table_is_its_opcode_module():
    tables = importlib.import_module(TABLE)
    assert tables.MAGIC_NUMBER == importlib.util.MAGIC_NUMBER
    names = [name for name in gen_opcode_tables.NAMES if hasattr(opcode, name)]
    assert "opmap" in names and "opname" in names
    for name in names:
        assert getattr(tables, name) == getattr(opcode, name), name
    # Nothing the opcode module lacks, nothing left over.
    assert sorted(n for n in vars(tables) if not n.startswith("__")) == sorted(names + ["MAGIC_NUMBER"])


def test_the_checked_in_table_is_what_the_generator_writes():
    with open(os.path.join(ROOT, "core", TABLE.split(".")[1] + ".py"), encoding="utf-8") as f:
        checked_in = f.read()
    generated = gen_opcode_tables.table_source()
    # The patch version in the header may differ (a table serves a bytecode format).
    strip = lambda text: [line for line in text.splitlines() if "from Python 3." not in line]
    assert strip(checked_in) == strip(generated)


def test_the_tracer_reads_the_table():
    assert _tracer._opcode.__name__ == TABLE
    assert _tracer._opcode_tables() is importlib.import_module(TABLE)


def test_a_table_of_another_bytecode_format_is_not_used(monkeypatch):
    tables = importlib.import_module(TABLE)
    monkeypatch.setattr(tables, "MAGIC_NUMBER", b"\x00\x00\r\n")
    assert _tracer._opcode_tables() is opcode


def test_a_missing_table_falls_back_to_the_opcode_module(monkeypatch):
    monkeypatch.setitem(sys.modules, TABLE, None)  # import raises ImportError
    assert _tracer._opcode_tables() is opcode


def test_a_measured_process_imports_neither_opcode_nor_dis(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("import sys\nprint(sorted({'opcode', 'dis'} & set(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-m", "covcore", "run", str(prog)], cwd=str(tmp_path),
                         capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_debug_sys_names_the_table(tmp_path):
    out = subprocess.run([sys.executable, "-m", "covcore", "debug", "sys"], cwd=str(tmp_path),
                         capture_output=True, text=True, check=True).stdout
    assert "opcode_tables: %s" % TABLE in [" ".join(line.split()) for line in out.splitlines()]


def test_debug_sys_says_when_the_opcode_module_is_used(monkeypatch):
    from covcore.session import _opcode_tables_in_use

    assert _opcode_tables_in_use() == TABLE
    monkeypatch.setattr(_tracer, "_opcode", opcode)
    assert _opcode_tables_in_use() == "opcode (covcore has no table for this Python's bytecode)"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="EXTENDED_ARG_QUICK is 3.11's")
def test_extended_arg_quick_is_where_dis_puts_it():
    import dis

    assert _tracer._opcode_numbers_for_tests()["EXTENDED_ARG_QUICK"] == dis._all_opmap["EXTENDED_ARG_QUICK"]
