#!/usr/bin/env python3
"""covcore's overhead benchmark: covcore vs coverage.py vs slipcover.

    python benchmarks/run.py [--python 3.11,3.12,...] [--repeat N] [--quick] [--markdown]
    python benchmarks/run.py --smoke [--python 3.13,3.11]     # CI: every configuration once

For each Python (default: each of 3.10-3.13 found), makes or reuses a virtualenv
in benchmarks/.work/venv-3.X with covcore (installed, not editable, from a copy
of this checkout; reinstalled when core/, setup.py or pyproject.toml change),
coverage.py, slipcover (when it installs on that Python) and pytest. Then runs
every workload under every configuration, each run a separate process, round
robin, and reports the median wall time of each and its ratio to plain python
measured in the same invocation: one table per Python, then one combined table
(render.py). --smoke runs every configuration once on tiny inputs, to prove that
each runs and prints what plain python prints (exit 1 if a covcore one fails).
See benchmarks/README.md.

Needs only the standard library (Python 3.10+) and the Pythons to measure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Optional

import render
import results
from results import Cell, Config, Env, PyResults, Workload, from_json, to_json
from launch import CALLGRIND, CALLGRIND_SLOWDOWN, callgrind_total, launcher, run_measured
from venvs import (MORE_ITERTOOLS, PIP_FOR_IMPORTS, REPO, TOOLZ, WORK, covcore_snapshot,
                   download_and_extract, ensure_venv, find_python, log)

WORKLOADS = Path(__file__).resolve().parent / "workloads"

DEFAULT_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


# --------------------------------------------------------------------------------------
# Workloads and configurations

#: The CPU workloads' size argument under --smoke (1.0 takes ~0.5 s without coverage).
SMOKE_SCALE = "0.05"
#: The more-itertools tests that --quick and --smoke run (130 tests of the 664).
QUICK_TESTS = "tests/test_recipes.py"


def make_workloads(names: list, mode: str, pipdir: Optional[Path], scratch: Path) -> list:
    """The workloads called `names`, sized for `mode` ("full", "quick" or "smoke")."""
    # The CPU workloads take ~0.5 s at 1.0 (their argument scales them).
    scale = SMOKE_SCALE if mode == "smoke" else "1.0"
    tests = "tests" if mode == "full" else QUICK_TESTS
    cpu_src = str(WORKLOADS)
    all_workloads = {
        "dispatch": lambda: Workload(
            "dispatch", "cpu", "object-method dispatch: classes, attributes, polymorphic calls",
            [str(WORKLOADS / "cpu_dispatch.py"), scale], scratch, cpu_src, cpu_src),
        "nbody": lambda: Workload(
            "nbody", "cpu", "float loops (n-body simulation)",
            [str(WORKLOADS / "cpu_nbody.py"), scale], scratch, cpu_src, cpu_src),
        "generators": lambda: Workload(
            "generators", "cpu", "generator / iterator pipelines",
            [str(WORKLOADS / "cpu_generators.py"), scale], scratch, cpu_src, cpu_src),
        "text": lambda: Workload(
            "text", "cpu", "text processing: split/partition/join, dict counting",
            [str(WORKLOADS / "cpu_text.py"), scale], scratch, cpu_src, cpu_src),
        "import-pip": lambda: Workload(
            "import-pip", "import",
            "import each of the 147 modules of pip %s's pip._internal, measured with "
            "--source=that directory (its ~220 vendored dependencies load too, unmeasured)"
            % PIP_FOR_IMPORTS,
            [str(WORKLOADS / "import_package.py"), str(pipdir), "pip._internal"], scratch,
            str(pipdir / "pip" / "_internal"), str(pipdir / "pip" / "_internal")),
        "startup": lambda: Workload(
            "startup", "startup", "a program that does almost nothing: the tool's fixed cost "
            "per process (import, configuration, start, saving, exit)",
            [str(WORKLOADS / "startup.py")], scratch, cpu_src, cpu_src),
        "import-stdlib": lambda: Workload(
            "import-stdlib", "import", "import ~260 stdlib modules (measured with --pylib)",
            [str(WORKLOADS / "import_stdlib.py")], scratch, None, None),
        "more-itertools": lambda: Workload(
            "more-itertools", "suite",
            "more-itertools %s test suite (pytest, --source=more_itertools)%s"
            % (MORE_ITERTOOLS, "" if tests == "tests" else ", %s only (--%s)" % (tests, mode)),
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", tests],
            WORK / ("more-itertools-" + MORE_ITERTOOLS), "more_itertools", "more_itertools",
            check_output=False, must_pass=True),
        "toolz": lambda: Workload(
            "toolz", "suite", "toolz %s test suite (pytest, --source=toolz)" % TOOLZ,
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", "toolz/tests"],
            WORK / ("toolz-" + TOOLZ), "toolz", "toolz", check_output=False, must_pass=True),
    }
    return [all_workloads[name]() for name in names]


ALL_WORKLOADS = ["dispatch", "nbody", "generators", "text", "import-pip", "import-stdlib",
                 "more-itertools", "toolz", "startup"]
DEFAULT_WORKLOADS = ["dispatch", "nbody", "generators", "text", "import-pip", "more-itertools",
                     "startup"]


def make_configs(version: tuple, backends: list) -> list:
    configs = [Config("none", "plain python", "none")]
    for name in backends:
        env = {"COVCORE_CORE": name}
        configs.append(Config("covcore-%s" % name, "covcore %s" % name, "covcore",
                              env=env, backend=name))
        configs.append(Config("covcore-%s-branch" % name, "covcore %s --branch" % name,
                              "covcore", branch=True, env=env, backend=name))
    configs.append(Config("coverage", "coverage.py", "coverage"))
    configs.append(Config("coverage-branch", "coverage.py --branch", "coverage", branch=True))
    if version >= (3, 12):
        configs.append(Config("coverage-sysmon", "coverage.py sysmon", "coverage",
                              env={"COVERAGE_CORE": "sysmon"}))
    configs.append(Config("slipcover", "slipcover", "slipcover"))
    configs.append(Config("slipcover-branch", "slipcover --branch", "slipcover", branch=True))
    return configs


def command(cfg: Config, wl: Workload, py: Path, scratch: Path) -> Optional[list]:
    """The command line running `wl` under `cfg`, or None if the tool can't."""
    if cfg.tool == "none":
        return [str(py), *wl.argv]
    branch = ["--branch"] if cfg.branch else []
    if cfg.tool in ("covcore", "coverage"):
        select = ["--source=" + wl.source] if wl.source is not None else ["-L"]
        prog = wl.argv if wl.argv[0] != "-m" else ["-m", *wl.argv[1:]]
        return [str(py), "-m", cfg.tool, "run", *branch, *select, *prog]
    if cfg.tool == "slipcover":
        if wl.slipcover_source is None:
            return None
        out = ["--json", "--out", str(scratch / "slipcover.json")]
        return [str(py), "-m", "slipcover", *branch, *out, "--source=" + wl.slipcover_source,
                *wl.argv]
    raise ValueError(cfg.tool)


def base_env(scratch: Path) -> dict:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("COVERAGE_", "COVCORE_", "SLIPCOVER_", "PYTEST_")) or name in (
                "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
                "PYTHONWARNINGS", "VIRTUAL_ENV", "PYTHONBREAKPOINT"):
            del env[name]
    env["PYTHONHASHSEED"] = "0"
    # The virtualenvs of 3.10/3.11 have setuptools, whose distutils hack hooks every
    # import of a module called "pip" and breaks under slipcover (it expects __file__
    # to be a str); this turns the hook off, for every configuration alike.
    env["SETUPTOOLS_USE_DISTUTILS"] = "stdlib"
    env["COVERAGE_FILE"] = str(scratch / ".coverage")
    env["COVCORE_FILE"] = str(scratch / ".covcore")
    return env


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def result_lines(stdout: str) -> list:
    return [line for line in stdout.splitlines() if line.startswith("RESULT ")]



# --------------------------------------------------------------------------------------
# Probing what each configuration can do on this Python


PROBE = "def f(x):\n    if x:\n        return 1\n    return 2\n\nprint('RESULT probe', f(1) + f(0))\n"


def probe_configs(env: Env, configs: list, scratch: Path) -> None:
    """Run a tiny program under each configuration: mark the ones that can't run
    (n/a: the tool says it can't, e.g. sysmon branches; FAILED: anything else)."""
    probe_dir = scratch / "probe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / "probe.py").write_text(PROBE)
    wl = Workload("probe", "cpu", "probe", [str(probe_dir / "probe.py")], scratch,
                  str(probe_dir), str(probe_dir))
    for cfg in configs:
        if cfg.tool == "covcore" and env.covcore_error:
            cfg.failed = "covcore is not installed: " + env.covcore_error
            continue
        if cfg.tool == "slipcover" and env.slipcover_error:
            cfg.na = "slipcover " + env.slipcover_error.splitlines()[0]
            continue
        argv = command(cfg, wl, env.py, scratch)
        if cfg.tool in ("covcore", "coverage"):
            argv.insert(argv.index("run") + 1, "--debug=sys")
        res = run_measured(argv, scratch, {**base_env(scratch), **cfg.env}, scratch, 120)
        text = res.stdout + res.stderr
        if res.code == 0 and result_lines(res.stdout) == ["RESULT probe 3"]:
            if cfg.tool == "coverage":
                m = re.search(r"^\s*core: (\S+)", text, re.M)
                cfg.note = "core: %s" % m.group(1) if m else ""
                if "no-sysmon" in text:
                    cfg.note += " (sysmon refused: %s)" % tail(res.stderr, 2).strip()
            elif cfg.tool == "covcore":
                m = re.search(r"tracer_backend: (\S+)", text)
                if m and m.group(1) != cfg.backend:
                    why = re.search(r"backend_reason: (.*)", text)
                    problem = "ran backend %s instead of %s%s" % (
                        m.group(1), cfg.backend, ": " + why.group(1).strip() if why else "")
                    if cfg.branch:  # a backend that records lines only (said why): n/a
                        cfg.na = problem
                    else:
                        cfg.failed = problem
            continue
        if cfg.branch and re.search(r"branch|arcs", res.stderr, re.I) and res.code not in (0, None):
            cfg.na = tail(res.stderr, 1).strip()
        else:
            cfg.failed = "probe run failed (exit %s):\n%s" % (res.code, tail(res.stderr))


# --------------------------------------------------------------------------------------
# Measuring



def measure(env: Env, workloads: list, configs: list, repeat: int, warmup: int,
            timeout: float, scratch: Path, verbose: bool, warmup_all: bool) -> PyResults:
    ver = "%d.%d" % env.version
    cells = {}
    for wl in workloads:
        for cfg in configs:
            cell = Cell()
            if cfg.failed:
                cell.status, cell.error = "FAILED", cfg.failed
            elif cfg.na:
                cell.status, cell.error = "n/a", cfg.na
            elif command(cfg, wl, env.py, scratch) is None:
                cell.status, cell.error = "n/a", "%s can't measure this workload" % cfg.tool
            cells[wl.name, cfg.key] = cell
    out = PyResults(env, workloads, configs, cells, repeat)
    out.load_before = os.getloadavg()[0]
    reference = {}  # workload -> RESULT lines of plain python
    start = time.perf_counter()
    rounds = warmup + repeat
    for rnd in range(rounds):
        t_round = time.perf_counter()
        # Round robin; the order rotates each round so no configuration always
        # follows the same one.
        order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
        if rnd == 0:
            order = configs  # plain python first: it checks each workload works
        if rnd < warmup and not warmup_all:
            order = [c for c in configs if c.key == "none"]
        for wl in workloads:
            if cells[wl.name, "none"].status != "ok":
                continue
            for cfg in order:
                cell = cells[wl.name, cfg.key]
                if cell.status != "ok":
                    continue
                argv = command(cfg, wl, env.py, scratch)
                counted = results.METRIC == "instructions" and rnd >= warmup
                if counted:
                    argv = CALLGRIND + ["--log-file=%s" % (scratch / "callgrind.log")] + argv
                res = run_measured(argv, wl.cwd, {**base_env(scratch), **cfg.env}, scratch,
                                   timeout * (CALLGRIND_SLOWDOWN if counted else 1))
                if verbose:
                    log("    [%s] round %d %-15s %-28s %7.2fs exit %s" % (
                        ver, rnd + 1, wl.name, cfg.label, res.seconds, res.code))
                problem = None
                if res.code is None:
                    cell.status = "TIMEOUT"
                    problem = "killed after %ss" % timeout
                elif res.code != 0:
                    cell.status = "FAILED"
                    problem = "exit %s" % res.code
                elif wl.check_output:
                    lines = result_lines(res.stdout)
                    if cfg.key == "none":
                        reference.setdefault(wl.name, lines)
                        if not lines:
                            cell.status, problem = "FAILED", "printed no RESULT line"
                    elif lines != reference.get(wl.name):
                        cell.status = "FAILED"
                        problem = "output differs from plain python: %r vs %r" % (
                            lines, reference.get(wl.name))
                if problem:
                    cell.error = "%s\n  command: %s\n  cwd: %s\n%s" % (
                        problem, " ".join(argv), wl.cwd,
                        textwrap.indent(tail(res.stderr + "\n" + res.stdout, 25), "  | "))
                    log("  [%s] %s under %s: %s" % (ver, wl.name, cfg.label, cell.status))
                    log(cell.error)
                    if cfg.key == "none" and wl.must_pass:
                        out.error = (
                            "the %s suite does not pass under plain Python %s (%s): the "
                            "benchmark of this Python stopped.\n%s" % (
                                wl.name, env.version_str, problem, cell.error))
                        out.seconds = time.perf_counter() - start
                        return out
                    continue
                if rnd >= warmup:
                    cell.times.append(res.seconds)
                    cell.cpu.append(res.cpu)
                    if counted:
                        count = callgrind_total(scratch / "callgrind.log")
                        if count is None:
                            cell.status = "FAILED"
                            cell.error = "no instruction count in %s" % (scratch / "callgrind.log")
                            continue
                        cell.instructions.append(count)
                    else:
                        cell.rss_kb.append(res.rss_kb)  # valgrind's own would be no measure
        log("  [%s] round %d/%d%s done in %.0fs (load average %.1f)" % (
            ver, rnd + 1, rounds, " (warm-up)" if rnd < warmup else "",
            time.perf_counter() - t_round, os.getloadavg()[0]))
        out.loads.append(os.getloadavg()[0])
    out.seconds = time.perf_counter() - start
    return out


# --------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Overhead of covcore, coverage.py and slipcover on CPU-bound workloads, "
                    "a real test suite and an import-heavy workload.")
    p.add_argument("--python", default=None,
                   help="comma-separated Pythons: versions (3.12) or paths "
                        "(default: each of %s found)" % ", ".join(DEFAULT_PYTHONS))
    p.add_argument("--repeat", type=int, default=None,
                   help="measured runs per configuration (default 5, 3 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="3 runs, warm-up runs of plain python only, and only "
                        "more-itertools' tests/test_recipes.py")
    p.add_argument("--smoke", action="store_true",
                   help="for CI: every configuration once (no warm-up) on tiny inputs, "
                        "checking each runs and prints plain python's RESULT lines; exit 1 if "
                        "plain python or a covcore configuration fails (coverage.py and "
                        "slipcover failures only warn). Times mean nothing")
    p.add_argument("--markdown", action="store_true",
                   help="also print the tables as markdown (for benchmarks/README.md)")
    p.add_argument("--workloads", default=None,
                   help="comma-separated, from: %s; 'all' for every one (default: %s)" % (
                       ", ".join(ALL_WORKLOADS), ", ".join(DEFAULT_WORKLOADS)))
    p.add_argument("--backends", default=None,
                   help="covcore backends to measure, comma-separated, or 'all' (default: "
                        "every available one but the pure-Python 'python' backend)")
    p.add_argument("--only", default=None,
                   help="measure only these configurations (comma-separated keys such as "
                        "coverage,slipcover-branch; plain python is always measured)")
    p.add_argument("--warmup", choices=["all", "plain"], default=None,
                   help="warm-up run (not counted) of every configuration (default), or of "
                        "plain python only (the default with --quick)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds before one run is killed and reported as TIMEOUT (default 300)")
    p.add_argument("--reinstall", action="store_true",
                   help="reinstall covcore even if its source did not change")
    p.add_argument("--from-json", action="store_true",
                   help="measure nothing: print the tables of the saved results-3.X.json "
                        "(of --python, or every one found; results-smoke-3.X.json with "
                        "--smoke, results-instructions-3.X.json with --metric "
                        "instructions)")
    p.add_argument("--metric", choices=["wall", "cpu", "instructions"], default="wall",
                   help="what the tables compare: wall time (default), the CPU time "
                        "(user+sys) of the process, less sensitive to a busy machine, or "
                        "the user-mode instructions it executes, counted by valgrind's "
                        "callgrind: the same on every run whatever the machine's load "
                        "(runs ~50x slower; one run each unless --repeat; no peak RSS)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = p.parse_args(argv)
    if args.smoke and (args.quick or args.repeat is not None or args.warmup is not None):
        p.error("--smoke is one run of each, without warm-up: no --quick, --repeat, --warmup")
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.smoke:
        args.repeat, args.warmup = 1, "none"
    if args.metric == "instructions":
        if shutil.which("valgrind") is None:
            p.error("--metric instructions needs valgrind on PATH")
        if args.repeat is None:
            args.repeat = 1  # the count is deterministic
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.warmup is None:
        args.warmup = "plain" if args.quick else "all"
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    results.METRIC = args.metric
    if "PYENV_VERSION" not in os.environ and shutil.which("pyenv"):
        # With pyenv, python3.X shims only work for the selected versions.
        res = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
        versions = [v for v in res.stdout.split() if re.match(r"^3\.\d+\.\d+$", v)]
        if versions:
            os.environ["PYENV_VERSION"] = ":".join(versions)
    WORK.mkdir(parents=True, exist_ok=True)
    specs = args.python.split(",") if args.python else DEFAULT_PYTHONS
    prefix = ("results-smoke-" if args.smoke else
              "results-instructions-" if args.metric == "instructions" else "results-")

    if args.from_json:
        if args.python:
            paths = [WORK / ("%s%s.json" % (prefix, spec)) for spec in specs]
            paths = [p for p in paths if p.exists()]
        else:
            paths = sorted(WORK.glob(prefix + "3.*.json"),
                           key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)])
        if not paths:
            raise SystemExit("error: no %s3.X.json in %s" % (prefix, WORK.relative_to(REPO)))
        all_results = [from_json(json.loads(p.read_text()), WORK) for p in paths]
        print_tables(all_results, args.markdown, per_python=True)
        return 0

    names = (ALL_WORKLOADS if args.workloads == "all" else
             args.workloads.split(",") if args.workloads else DEFAULT_WORKLOADS)
    unknown = [n for n in names if n not in ALL_WORKLOADS]
    if unknown:
        raise SystemExit("error: unknown workload(s) %s; choose from %s" % (
            ", ".join(unknown), ", ".join(ALL_WORKLOADS)))

    pythons = []
    for spec in specs:
        found = find_python(spec.strip())
        if found is None:
            log("Python %s: not found, skipped" % spec)
            continue
        if found[1] < (3, 10):
            log("Python %s: covcore needs 3.10+, skipped" % spec)
            continue
        pythons.append(found)
    if not pythons:
        raise SystemExit("error: none of the Pythons %s was found" % ", ".join(specs))

    log("Setting up %s in %s" % (", ".join(p[2] for p in pythons), WORK.relative_to(REPO)))
    src, digest = covcore_snapshot()
    launcher()  # built now, or a warning now: peak RSS is floored without it (launch.py)
    envs = [ensure_venv(exe, version, vstr, args.reinstall, src, digest)
            for exe, version, vstr in pythons]
    logfile = WORK / "downloads.log"
    if "more-itertools" in names:
        download_and_extract(envs[0].py, "more-itertools==" + MORE_ITERTOOLS, "sdist",
                             WORK / ("more-itertools-" + MORE_ITERTOOLS), logfile)
    if "toolz" in names:
        download_and_extract(envs[0].py, "toolz==" + TOOLZ, "sdist", WORK / ("toolz-" + TOOLZ),
                             logfile)
    pipdir = WORK / ("pip-" + PIP_FOR_IMPORTS)
    if "import-pip" in names:
        download_and_extract(envs[0].py, "pip==" + PIP_FOR_IMPORTS, "wheel", pipdir, logfile)

    warmup = 0 if args.smoke else 1
    exit_code = 0
    all_results = []
    t_all = time.perf_counter()
    for env in envs:
        ver = "%d.%d" % env.version
        scratch = WORK / ("scratch-" + ver)
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        workloads = make_workloads(names, args.mode, pipdir, scratch)
        if env.covcore_error:
            # Not installed: show the backends it would have, as FAILED.
            backends = ["sysmon", "ctrace"] if env.version >= (3, 12) else ["ctrace"]
        else:
            backends = [b for b in env.backends if b != "python"]
        if args.backends == "all":
            backends = env.backends or backends + ["python"]
        elif args.backends:
            backends = args.backends.split(",")
        configs = make_configs(env.version, backends)
        if args.only:
            keep = set(args.only.split(",")) | {"none"}
            unknown = keep - {c.key for c in configs}
            if unknown:
                log("  --only: no configuration %s on Python %s (there are: %s)" % (
                    ", ".join(sorted(unknown)), env.version_str,
                    ", ".join(c.key for c in configs)))
            configs = [c for c in configs if c.key in keep]
        for cfg in configs:
            if cfg.tool == "covcore" and not env.covcore_error and cfg.backend not in env.backends:
                cfg.na = "backend %s is not available on this Python (available: %s)" % (
                    cfg.backend, ", ".join(env.backends))
        log("")
        warmup_what = {"all": "every configuration", "plain": "plain python only",
                       "none": "none"}[args.warmup]
        log("Python %s: %d workloads x %d configurations, %d warm-up (%s) + %d measured "
            "rounds%s" % (env.version_str, len(workloads), len(configs), warmup, warmup_what,
                          args.repeat, " (smoke: tiny inputs)" if args.smoke else ""))
        probe_configs(env, configs, scratch)
        for cfg in configs:
            if cfg.failed:
                log("  %s: FAILED before measuring: %s" % (cfg.label, cfg.failed.splitlines()[0]))
            elif cfg.na:
                log("  %s: n/a: %s" % (cfg.label, cfg.na))
        res = measure(env, workloads, configs, args.repeat, warmup, args.timeout, scratch,
                      args.verbose, warmup_all=args.warmup == "all")
        res.warmup = warmup_what
        res.mode = args.mode
        all_results.append(res)
        (WORK / ("%s%s.json" % (prefix, ver))).write_text(json.dumps(to_json(res), indent=1))
        log("")
        log(render.render(res, False))
        if res.error:
            exit_code = 1
    log("")
    log("All results (%.0f s in all; JSON in %s):" % (
        time.perf_counter() - t_all, WORK.relative_to(REPO)))
    # (--smoke: its per-Python tables were just printed, and are not worth a second look.)
    print_tables(all_results, args.markdown,
                 per_python=args.markdown or (len(all_results) > 1 and not args.smoke))
    if args.smoke:
        exit_code = max(exit_code, smoke_verdict(all_results))
    return exit_code


def print_tables(all_results: list, markdown: bool, per_python: bool) -> None:
    """The per-Python tables (plain text, or markdown), then the combined table (both)."""
    if per_python:
        for res in all_results:
            log("")
            log(render.render(res, markdown))
    log("")
    log(render.render_combined(all_results, False))
    if markdown:
        log("")
        log(render.render_combined(all_results, True))


def smoke_verdict(all_results: list) -> int:
    """Print what --smoke proved; 1 if plain python or a covcore configuration did not
    run (FAILED or TIMEOUT) on some workload, else 0. Other tools' failures only warn."""
    errors, warnings, ran = [], [], 0
    for res in all_results:
        if res.error:
            errors.append("Python %s: %s" % (res.env.version_str, res.error.splitlines()[0]))
            continue
        for cfg in res.configs:
            for wl in res.workloads:
                cell = res.cells[wl.name, cfg.key]
                ran += cell.status == "ok" and bool(cell.times)
                if cell.status in ("FAILED", "TIMEOUT"):
                    what = "Python %s, %s under %s: %s" % (
                        res.env.version_str, wl.name, cfg.label, cell.status)
                    (errors if cfg.tool in ("none", "covcore") else warnings).append(what)
    log("")
    for what in warnings:
        log("smoke WARNING (not covcore's): " + what)
    for what in errors:
        log("smoke FAILED: " + what)
    if errors:
        return 1
    log("smoke OK on %s: %d runs, each exited 0 and printed plain python's RESULT lines; "
        "no covcore configuration failed" % (
            ", ".join(r.env.version_str for r in all_results), ran))
    return 0


if __name__ == "__main__":
    sys.exit(main())
