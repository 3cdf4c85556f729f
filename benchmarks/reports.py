"""Report generation at scale: covcore against coverage.py, same data, same run.

Makes a synthetic project of ``--files`` modules (default 2,000), measures one
program that imports them all under each tool, then times every report command
of each tool (text, html, xml, json, lcov) and a combine of ``--parallel``
parallel data files (default 1,000) measured "on another machine" and remapped
through ``[paths]``, printing wall time, peak RSS and covcore/coverage.py ratios.

    python benchmarks/reports.py                   # the running Python, which must have covcore and coverage
    python benchmarks/reports.py --python benchmarks/.work/venv-3.12/bin/python --branch
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from launch import run_measured

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "reportbench"

MODULE = '''"""Module {i}."""


def f{i}_a(x):
    if x > {i}:
        return x - {i}
    elif x < 0:
        return -x
    return x


def f{i}_b(items):
    total = 0
    for item in items:
        if item % 2:
            total += item
        else:
            total -= 1
    return total


class C{i}:
    def __init__(self, n):
        self.n = n

    def grow(self):
        while self.n < {i} + 10:
            self.n += 3
        return self.n

    def unused(self):
        try:
            return 1 / self.n
        except ZeroDivisionError:
            return None
'''


MAKE_PARALLEL = """
import glob, os, sys
tool, base, proj, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sorted(glob.glob(os.path.join(proj, 'bigpkg', '*', 'mod*.py')))
for i in range(n):
    # Measured "on another machine": the paths need [paths] remapping.
    chunk = {f.replace(proj, '/ci/build/proj'): set(range(1 + i % 7, 40, 2)) for f in files[i % 10::10]}
    if tool == 'covcore':
        from covcore.data import CoverageData
        d = CoverageData(basename=base, suffix=f'host.{i}.X{i:06d}')
        d.add_lines(chunk)
        d.write()
    else:
        from coverage import CoverageData
        d = CoverageData(basename=base, suffix=f'host.{i}.X{i:06d}')
        d.add_lines(chunk)
        d.write()
"""


def make_project(n_files: int) -> Path:
    proj = WORK / f"proj{n_files}"
    if (proj / "done").exists():
        return proj
    shutil.rmtree(proj, ignore_errors=True)
    for i in range(n_files):
        pkg = proj / "bigpkg" / f"sub{i // 100}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / f"mod{i}.py").write_text(MODULE.format(i=i))
    (proj / "bigpkg" / "__init__.py").write_text("")
    (proj / "main.py").write_text(
        "import importlib\n"
        f"for i in range({n_files}):\n"
        "    m = importlib.import_module(f'bigpkg.sub{i // 100}.mod{i}')\n"
        "    getattr(m, f'f{i}_a')(i % 7 - 2)\n"
        "    if i % 2:\n"
        "        getattr(m, f'f{i}_b')(range(5))\n"
        "        getattr(m, f'C{i}')(i).grow()\n"
    )
    (proj / "done").write_text("")
    return proj


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command, through the benchmark's
    launcher (launch.py: the child's own peak RSS); raises on failure."""
    scratch = WORK / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    res = run_measured(cmd, cwd, env, scratch, timeout=1800)
    if res.code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.code}): {res.stderr[-2000:]}")
    return res.seconds, res.rss_kb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="interpreter with covcore and coverage installed")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=1000, help="parallel data files to combine (and remap)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--branch", action="store_true")
    args = ap.parse_args()
    proj = make_project(args.files)
    paths = f"[paths]\nsource =\n    {proj}/bigpkg\n    /ci/build/proj/bigpkg\n"
    (proj / ".covcorerc").write_text(paths)
    (proj / ".coveragerc").write_text(paths)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVCORE_"))}
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = args.python
    br = ["--branch"] if args.branch else []
    tools = {
        "covcore": [py, "-m", "covcore"],
        "coverage.py": [py, "-m", "coverage"],
    }
    for name in (".covcore", ".coverage"):
        for p in proj.glob(name + "*"):
            if not p.name.endswith("rc"):
                p.unlink()
    for tool, base in tools.items():
        timed(base + ["run", *br, "--source=bigpkg", "main.py"], proj, env)
    commands = {
        "report": ["report"],
        "html": ["html", "-q", "-d", "{out}/html"],
        "xml": ["xml", "-q", "-o", "{out}/cov.xml"],
        "json": ["json", "-q", "-o", "{out}/cov.json"],
        "lcov": ["lcov", "-q", "-o", "{out}/cov.lcov"],
    }
    results: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for _ in range(args.repeat):
        for cmd, argv in commands.items():
            for tool, base in tools.items():
                out = WORK / f"out-{tool}"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir(parents=True)
                results.setdefault((cmd, tool), []).append(
                    timed(base + [a.replace("{out}", str(out)) for a in argv], proj, env))
    # combine: --parallel data files per tool, each holding a different slice
    # of the project (as from many test processes), written with each tool's API.
    for _ in range(args.repeat):
        for tool, base in tools.items():
            name = ".covcore" if tool == "covcore" else ".coverage"
            tmp = WORK / f"combine-{tool}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            subprocess.run([py, "-c", MAKE_PARALLEL, tool, str(tmp / name), str(proj), str(args.parallel)],
                           check=True, env=env)
            results.setdefault(("combine", tool), []).append(
                timed(base + ["combine", "-q", "--data-file", str(tmp / name), str(tmp)], proj, env))
    print(f"Report generation, {args.files} files{' (branch)' if args.branch else ''}, "
          f"median of {args.repeat}; combine of {args.parallel} data files; {py}")
    print(f"{'command':10} {'covcore s':>10} {'coverage.py s':>14} {'ratio':>7} {'covcore MiB':>12} {'coverage.py MiB':>16}")
    for cmd in list(commands) + ["combine"]:
        ours = results[(cmd, "covcore")]
        theirs = results[(cmd, "coverage.py")]
        t_ours = statistics.median(t for t, _ in ours)
        t_theirs = statistics.median(t for t, _ in theirs)
        m_ours = max(m for _, m in ours) / 1024
        m_theirs = max(m for _, m in theirs) / 1024
        print(f"{cmd:10} {t_ours:10.2f} {t_theirs:14.2f} {t_ours / t_theirs:6.2f}x {m_ours:12.0f} {m_theirs:16.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
