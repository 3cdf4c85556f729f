"""``[run] gc_freeze``: the objects alive before the program starts are frozen.

``covcore run`` and a subprocess measured from start-up call ``gc.freeze()``
once measuring has started, so that neither the program's full collections
nor the interpreter's exit traverse the interpreter's and covcore's own
objects again (see :func:`covcore.process.freeze_startup_objects`).  What the
program sees must be only what ``gc.freeze()`` documents: its own objects are
collected, and finalized at exit, exactly as without covcore.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from cmdhelpers import clean_env, covcore, write

pytestmark = pytest.mark.backend

# The frozen count, and whether a module object made before the program (the
# `encodings` package, imported by every interpreter at start-up) is still
# among the objects the collector hands out.
PROBE = """\
import gc, sys
print("frozen", gc.get_freeze_count())
print("visible", any(o is sys.modules["encodings"] for o in gc.get_objects()))
"""

# A reference cycle with a finalizer made by the program: collected by the
# program's gc.collect() and, for the one still referenced, at exit.
CYCLES = """\
import gc


class Node:
    def __init__(self, name):
        self.name = name
        self.me = self

    def __del__(self):
        print("finalized", self.name)


kept = Node("kept")
Node("dropped")
print("collected", gc.collect() > 0)
print("end")
"""


def _plain(tmp_path, name):
    proc = subprocess.run([sys.executable, name], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _counts(out):
    frozen, visible = out.splitlines()
    return int(frozen.split()[1]), visible


def test_run_freezes_what_exists_before_the_program(tmp_path):
    write(tmp_path / "probe.py", PROBE)
    plain_frozen, plain_visible = _counts(_plain(tmp_path, "probe.py"))
    assert plain_visible == "visible True"
    res = covcore("run", "probe.py", cwd=tmp_path)
    assert res.rc == 0, res
    frozen, visible = _counts(res.out)
    # The interpreter's and covcore's objects: thousands of them.
    assert frozen > plain_frozen + 5000, (frozen, plain_frozen)
    assert visible == "visible False"


def test_gc_freeze_false_leaves_the_collector_as_it_was(tmp_path):
    write(tmp_path / "probe.py", PROBE)
    write(tmp_path / ".covcorerc", "[run]\ngc_freeze = false\n")
    plain = _counts(_plain(tmp_path, "probe.py"))
    res = covcore("run", "probe.py", cwd=tmp_path)
    assert res.rc == 0, res
    assert _counts(res.out) == plain  # 375 objects frozen by CPython 3.12 itself, else 0


@pytest.mark.parametrize("branch", [[], ["--branch"]])
def test_the_programs_cycles_are_collected_and_finalized_as_without_covcore(tmp_path, branch):
    write(tmp_path / "cycles.py", CYCLES)
    expected = _plain(tmp_path, "cycles.py")  # the same text on every version
    assert expected == "finalized dropped\ncollected True\nend\nfinalized kept\n"
    res = covcore("run", *branch, "cycles.py", cwd=tmp_path)
    assert (res.rc, res.out) == (0, expected), res
    res = covcore("report", "-m", cwd=tmp_path)
    assert res.rc == 0, res
    assert res.out.splitlines()[2].split() == ["cycles.py", "11", "0", *(["0", "0"] if branch else []), "100%"]


def test_a_subprocess_measured_from_start_up_freezes_too(tmp_path):
    write(tmp_path / "probe.py", PROBE)
    plain_frozen, _ = _counts(_plain(tmp_path, "probe.py"))
    write(tmp_path / ".covcorerc", "[run]\nsource = .\n")
    env = clean_env(COVCORE_PROCESS_START=str(tmp_path / ".covcorerc"))
    proc = subprocess.run([sys.executable, "probe.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    frozen, visible = _counts(proc.stdout)
    assert frozen > plain_frozen + 5000, (frozen, plain_frozen)
    assert visible == "visible False"
    write(tmp_path / ".covcorerc", "[run]\nsource = .\ngc_freeze = off\n")
    proc = subprocess.run([sys.executable, "probe.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _counts(proc.stdout) == (plain_frozen, "visible True")
