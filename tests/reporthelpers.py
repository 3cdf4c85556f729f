"""Helpers shared by the reporter tests (XML, JSON, LCOV, HTML, annotate).

* ``sample_project(dir)``: copies ``tests/gold/sample`` (statements,
  exclusions, branches, nested functions, classes) into ``dir``.
* ``reference_analyses(dir)``: runs the sample under coverage.py with
  ``--branch`` and builds covcore :class:`~covcore.analysis.Analysis` objects
  from coverage.py's own static analysis and measurement (possible arcs,
  executed arcs, exit counts, no-branch lines, missing-branch explanations).
  These hand-built analyses let the reporters' branch rendering be checked
  against coverage.py's reports before covcore's own static branch analysis
  fills the branch fields.
* ``check_gold(name, text)``: compares with ``tests/gold/<name>``;
  ``COVCORE_REGOLD=1`` rewrites the gold file instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cmdhelpers import clean_env, coveragepy

TESTS = Path(__file__).parent
GOLD = TESTS / "gold"
SAMPLE = GOLD / "sample"

#: Fixed values for the parts of reports that change from run to run.
FIXED_VERSION = "0.0.test"
FIXED_TIMESTAMP = "2026-01-01T00:00:00"


def sample_project(work: Path) -> Path:
    """Copy the sample project into ``work`` (which may exist); return ``work``."""
    shutil.copytree(SAMPLE, work, dirs_exist_ok=True)
    return work


_DUMP = r"""
import json, sys
import coverage
cov = coverage.Coverage()
cov.load()
out = {}
for filename in sorted(cov.get_data().measured_files()):
    fr = cov._get_file_reporter(filename)
    a = cov._analyze(filename)
    descr = {}
    for l1, l2 in a.arc_possibilities:
        descr[f"{l1},{l2}"] = fr.missing_arc_description(l1, l2)
    actions = {}
    for l1, l2 in a.arc_possibilities:
        actions[f"{l1},{l2}"] = fr.arc_description(l1, l2)
    out[fr.relative_filename()] = dict(
        filename=filename,
        statements=sorted(a.statements), excluded=sorted(a.excluded), executed=sorted(a.executed),
        has_arcs=a.has_arcs, arc_possibilities=sorted(a.arc_possibilities_set),
        arcs_executed=sorted(a.arcs_executed_set),
        exit_counts=sorted(a.exit_counts.items()), no_branch=sorted(a.no_branch),
        descriptions=descr, actions=actions,
    )
print(json.dumps(out))
"""


def reference_dump(work: Path, *, branch: bool = True, run: bool = True) -> dict:
    """coverage.py's analysis of the program measured in ``work`` (``main.py``)."""
    if run:
        args = ["run", "--source=."] + (["--branch"] if branch else []) + ["main.py"]
        res = coveragepy(*args, cwd=work)
        assert res.rc == 0, res
    proc = subprocess.run([sys.executable, "-c", _DUMP], cwd=work, env=clean_env(), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def analyses_from_dump(dump: dict, precision: int = 0) -> list:
    """``(report name, Analysis)`` pairs built from :func:`reference_dump`."""
    from covcore.analysis import Analysis

    out = []
    for name, d in sorted(dump.items()):
        descriptions = {tuple(map(int, k.split(","))): v for k, v in d["descriptions"].items()}
        out.append((name, Analysis(
            filename=d["filename"],
            statements=set(d["statements"]),
            excluded=set(d["excluded"]),
            executed=set(d["executed"]),
            precision=precision,
            has_arcs=d["has_arcs"],
            arc_possibilities={tuple(a) for a in d["arc_possibilities"]},
            arcs_executed={tuple(a) for a in d["arcs_executed"]},
            exit_counts={int(k): v for k, v in d["exit_counts"]},
            no_branch=set(d["no_branch"]),
            arc_description=(lambda descr: (lambda a, b: descr[(a, b)]))(descriptions),
        )))
    return out


def reference_analyses(work: Path, *, branch: bool = True, precision: int = 0) -> list:
    """Measure the sample in ``work`` with coverage.py and build covcore analyses from it."""
    return analyses_from_dump(reference_dump(work, branch=branch), precision)


def in_dir(path: Path):
    """Context manager: chdir into ``path`` for the block."""
    import contextlib

    @contextlib.contextmanager
    def _cd():
        old = os.getcwd()
        os.chdir(path)
        try:
            yield path
        finally:
            os.chdir(old)

    return _cd()


def check_gold(name: str, text: str) -> None:
    """``text`` must equal ``tests/gold/<name>`` (``COVCORE_REGOLD=1``: rewrite it)."""
    gold = GOLD / name
    if os.environ.get("COVCORE_REGOLD"):
        gold.parent.mkdir(parents=True, exist_ok=True)
        gold.write_text(text, encoding="utf-8")
        return
    expected = gold.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its gold file (COVCORE_REGOLD=1 rewrites it)"
