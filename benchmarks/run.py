#!/usr/bin/env python3
"""covcore's overhead benchmark: covcore vs coverage.py vs slipcover.

    python benchmarks/run.py [--python 3.11,3.12,...] [--repeat N] [--quick] [--markdown]

For each Python (default: each of 3.10-3.13 found), makes or reuses a virtualenv
in benchmarks/.work/venv-3.X with covcore (installed, not editable, from a copy
of this checkout; reinstalled when core/, setup.py or pyproject.toml change),
coverage.py, slipcover (when it installs on that Python) and pytest. Then runs
every workload under every configuration, each run a separate process, round
robin, and reports the median wall time of each and its ratio to plain python
measured in the same invocation. See benchmarks/README.md.

Needs only the standard library (Python 3.10+) and the Pythons to measure.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
WORKLOADS = HERE / "workloads"
DOWNLOADS = WORK / "downloads"

DEFAULT_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# Pinned versions: results are only comparable for the same tools and suites.
MORE_ITERTOOLS = "10.5.0"
TOOLZ = "1.2.0"
PIP_FOR_IMPORTS = "25.0.1"  # the package whose modules the import workload imports
PYTEST_SPEC = "pytest==8.4.*"
SLIPCOVER_SPEC = "slipcover==1.1.*"


def coverage_spec(version: tuple) -> str:
    return "coverage==7.16.*" if version < (3, 11) else "coverage==7.17.*"


def covcore_source_files(root: Path) -> list:
    """The files whose content decides whether covcore must be reinstalled."""
    files = [root / "setup.py", root / "pyproject.toml"]
    for path in sorted((root / "core").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if path.suffix in (".so", ".pyc", ".pyd", ".html") or path.name == "_tracer.c":
            continue  # build products (the .c is generated from the .pyx)
        files.append(path)
    return files


# --------------------------------------------------------------------------------------
# Workloads and configurations


@dataclass
class Workload:
    name: str
    kind: str  # "cpu", "suite" or "import"
    title: str
    argv: list  # what follows "python": a script and its arguments, or ["-m", "pytest", ...]
    cwd: Path
    source: Optional[str]  # --source for the tools; None: measure with --pylib (-L)
    slipcover_source: Optional[str]  # None: slipcover can't measure this (n/a)
    check_output: bool = True  # the RESULT lines must equal plain python's
    must_pass: bool = False  # plain python must succeed, or the run stops


@dataclass
class Config:
    key: str
    label: str
    tool: str  # "none", "covcore", "coverage", "slipcover"
    branch: bool = False
    env: dict = field(default_factory=dict)
    backend: Optional[str] = None
    # Decided per Python before measuring: None (ok), or a reason it is not measured.
    na: Optional[str] = None  # "n/a": the tool can't do this (not an error)
    failed: Optional[str] = None  # FAILED before measuring (install, probe)
    note: str = ""


#: What the tables compare: "wall" (wall time, the default) or "cpu" (user+sys time).
METRIC = "wall"


@dataclass
class Cell:
    status: str = "ok"  # ok, FAILED, TIMEOUT, n/a
    times: list = field(default_factory=list)
    rss_kb: list = field(default_factory=list)
    cpu: list = field(default_factory=list)
    error: str = ""

    def median(self) -> Optional[float]:
        values = self.cpu if METRIC == "cpu" else self.times
        return statistics.median(values) if self.status == "ok" and values else None

    def median_rss(self) -> Optional[float]:
        return statistics.median(self.rss_kb) if self.status == "ok" and self.rss_kb else None


def make_workloads(names: list, quick: bool, pipdir: Optional[Path], scratch: Path) -> list:
    scale = "1.0"  # the CPU workloads take ~0.5 s at 1.0 (their argument scales them)
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
        "import-stdlib": lambda: Workload(
            "import-stdlib", "import", "import ~260 stdlib modules (measured with --pylib)",
            [str(WORKLOADS / "import_stdlib.py")], scratch, None, None),
        "more-itertools": lambda: Workload(
            "more-itertools", "suite",
            "more-itertools %s test suite (pytest, --source=more_itertools)%s"
            % (MORE_ITERTOOLS, ", tests/test_recipes.py only (--quick)" if quick else ""),
            ["-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_recipes.py" if quick else "tests"],
            WORK / ("more-itertools-" + MORE_ITERTOOLS), "more_itertools", "more_itertools",
            check_output=False, must_pass=True),
        "toolz": lambda: Workload(
            "toolz", "suite", "toolz %s test suite (pytest, --source=toolz)" % TOOLZ,
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", "toolz/tests"],
            WORK / ("toolz-" + TOOLZ), "toolz", "toolz", check_output=False, must_pass=True),
    }
    return [all_workloads[name]() for name in names]


ALL_WORKLOADS = ["dispatch", "nbody", "generators", "text", "import-pip", "import-stdlib",
                 "more-itertools", "toolz"]
DEFAULT_WORKLOADS = ["dispatch", "nbody", "generators", "text", "import-pip", "more-itertools"]


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


# --------------------------------------------------------------------------------------
# Running one process


@dataclass
class RunResult:
    seconds: float
    rss_kb: int
    cpu: float
    code: Optional[int]  # exit code; None when killed by the timeout
    stdout: str
    stderr: str


def run_measured(argv: list, cwd: Path, env: dict, scratch: Path, timeout: float) -> RunResult:
    """Run one process; wall time around it, its own peak RSS (wait4's rusage)."""
    out_path, err_path = scratch / "stdout.txt", scratch / "stderr.txt"
    for stale in scratch.glob(".coverage*"):
        stale.unlink()
    for stale in scratch.glob(".covcore*"):
        stale.unlink()
    (scratch / "slipcover.json").unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        lock = threading.Lock()
        state = {"exited": False, "killed": False}

        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)

        def kill():
            with lock:
                if not state["exited"]:
                    state["killed"] = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        # Wait for the exit without reaping, so the timer can't kill a reused pid...
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        t1 = time.perf_counter()
        with lock:
            state["exited"] = True
        timer.cancel()
        # ...then reap it, getting the rusage of this one child (and its children).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    code = None if state["killed"] else proc.returncode
    return RunResult(t1 - t0, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, code,
                     out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def result_lines(stdout: str) -> list:
    return [line for line in stdout.splitlines() if line.startswith("RESULT ")]


# --------------------------------------------------------------------------------------
# Setting up: pythons, virtualenvs, downloads


def log(msg: str = "") -> None:
    print(msg, flush=True)


def find_python(spec: str) -> Optional[tuple]:
    """(executable, version tuple, full version string) for "3.12" or a path, or None."""
    exe = shutil.which(spec if os.sep in spec else "python" + spec) or (
        spec if os.path.exists(spec) else None)
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None  # e.g. a pyenv shim for a version that isn't selected
    parts = tuple(int(p) for p in out.stdout.split())
    return exe, parts[:2], ".".join(map(str, parts))


def pip(py: Path, *args: str, logfile: Path) -> tuple:
    """Run pip; (ok, tail of its output)."""
    with open(logfile, "a") as f:
        f.write("\n$ pip %s\n" % " ".join(args))
        f.flush()
        res = subprocess.run([str(py), "-m", "pip", *args, "--disable-pip-version-check"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        f.write(res.stdout)
    lines = [l for l in res.stdout.splitlines() if "is ignored: it is neither a file nor" not in l]
    return res.returncode == 0, "\n".join(lines[-20:])


def source_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in covcore_source_files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def covcore_snapshot() -> tuple:
    """Copy the checkout's installable files to .work/covcore-src: (directory, hash).

    Every Python of one invocation installs this same copy, even while core/ is being
    edited, and installing it writes nothing (build/, *.egg-info, the generated .c)
    into the work tree. The hash is that of the copy."""
    tmp = Path(tempfile.mkdtemp(dir=WORK, prefix="covcore-src-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "_tracer.c", "_tracer.html")
    shutil.copytree(REPO / "core", tmp / "core", ignore=ignore)
    for name in os.listdir(REPO):
        path = REPO / name
        if path.is_file() and (name in ("setup.py", "pyproject.toml", "setup.cfg", "MANIFEST.in")
                               or name.upper().startswith(("README", "LICENSE", "LICENCE"))):
            shutil.copy2(path, tmp / name)
    if (REPO / "plugins").is_dir():
        shutil.copytree(REPO / "plugins", tmp / "plugins", ignore=ignore)
    digest = source_hash(tmp)
    dest = WORK / "covcore-src"
    stamp = dest / ".bench-hash"
    if stamp.exists() and stamp.read_text() == digest:
        shutil.rmtree(tmp)  # unchanged: keep the old copy (and its build/ directory)
    else:
        shutil.rmtree(dest, ignore_errors=True)
        (tmp / ".bench-hash").write_text(digest)
        tmp.chmod(0o755)  # mkdtemp made it private
        tmp.rename(dest)
    return dest, digest


@dataclass
class Env:
    """One Python's virtualenv and what's installed in it."""
    version: tuple
    version_str: str
    base_exe: str
    py: Path
    covcore_error: Optional[str] = None
    backends: list = field(default_factory=list)
    slipcover_error: Optional[str] = None
    tool_versions: dict = field(default_factory=dict)
    covcore_hash: Optional[str] = None  # hash of the covcore source installed


def ensure_venv(base_exe: str, version: tuple, version_str: str, reinstall: bool,
                src: Path, digest: str) -> Env:
    ver = "%d.%d" % version
    vdir = WORK / ("venv-" + ver)
    py = vdir / "bin" / "python"
    statefile = vdir / "bench-state.json"
    logfile = vdir / "install.log"
    if py.exists():
        # The venv must still run on the same interpreter (pyenv may have changed it).
        probe = subprocess.run([str(py), "-c", "import sys; print(*sys.version_info[:3])"],
                               capture_output=True, text=True)
        if probe.returncode != 0 or ".".join(probe.stdout.split()) != version_str:
            log("  [%s] virtualenv is stale, recreating it" % ver)
            shutil.rmtree(vdir)
    if not py.exists():
        log("  [%s] creating %s" % (ver, vdir.relative_to(REPO)))
        subprocess.run([base_exe, "-m", "venv", str(vdir)], check=True)
    state = json.loads(statefile.read_text()) if statefile.exists() else {}
    env = Env(version, version_str, base_exe, py)

    tools = [coverage_spec(version), PYTEST_SPEC]
    if state.get("tools") != tools:
        log("  [%s] installing %s" % (ver, " ".join(tools)))
        ok, out = pip(py, "install", "-q", *tools, logfile=logfile)
        if not ok:
            raise SystemExit("error: could not install %s into %s:\n%s" % (tools, vdir, out))
        state["tools"] = tools
    if state.get("slipcover_spec") != SLIPCOVER_SPEC:
        log("  [%s] installing %s" % (ver, SLIPCOVER_SPEC))
        ok, out = pip(py, "install", "-q", SLIPCOVER_SPEC, logfile=logfile)
        state["slipcover_spec"] = SLIPCOVER_SPEC
        state["slipcover_error"] = None if ok else "does not install on Python %s:\n%s" % (ver, out)
    env.slipcover_error = state.get("slipcover_error")

    if state.get("covcore_hash") != digest or reinstall:
        log("  [%s] installing covcore from the checkout (source hash %s)" % (ver, digest))
        pip(py, "uninstall", "-y", "covcore", logfile=logfile)
        ok, out = pip(py, "install", "-q", str(src), logfile=logfile)
        state["covcore_hash"] = digest
        state["covcore_error"] = None if ok else "pip install failed:\n" + out
        if not ok:
            log("  [%s] covcore does not install; its configurations will be FAILED" % ver)
    elif state.get("covcore_error"):
        log("  [%s] covcore failed to install from this same source before "
            "(--reinstall retries)" % ver)
    env.covcore_error = state.get("covcore_error")
    env.covcore_hash = state.get("covcore_hash")
    statefile.write_text(json.dumps(state, indent=1))

    # What's really there.
    code = textwrap.dedent("""
        import json, importlib.metadata as md
        out = {}
        for name in ("covcore", "coverage", "slipcover", "pytest"):
            try:
                out[name] = md.version(name)
            except md.PackageNotFoundError:
                pass
        try:
            from covcore.backend import available_backends
            out["backends"] = available_backends()
        except Exception as exc:
            out["backends_error"] = "%s: %s" % (type(exc).__name__, exc)
        print(json.dumps(out))
    """)
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    info = json.loads(res.stdout) if res.returncode == 0 else {}
    env.tool_versions = {k: v for k, v in info.items() if not k.startswith("backends")}
    env.backends = info.get("backends", [])
    if not env.covcore_error and "covcore" not in info:
        env.covcore_error = "covcore is not importable in %s" % vdir
    if not env.covcore_error and "backends_error" in info:
        env.covcore_error = "covcore.backend.available_backends() failed: " + info["backends_error"]
    if "slipcover" not in info and not env.slipcover_error:
        env.slipcover_error = "not installed"
    return env


def download_and_extract(py: Path, requirement: str, kind: str, dest: Path, logfile: Path) -> None:
    """Download an sdist (kind "sdist") or wheel ("wheel") with pip and unpack it as `dest`."""
    if dest.exists():
        return
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    name, version = requirement.split("==")
    binary = ["--no-binary", ":all:"] if kind == "sdist" else ["--only-binary", ":all:"]
    log("  downloading %s (%s)" % (requirement, kind))
    ok, out = pip(py, "download", "-q", "--no-deps", *binary, requirement, "-d", str(DOWNLOADS),
                  logfile=logfile)
    if not ok:
        raise SystemExit("error: could not download %s:\n%s" % (requirement, out))
    norm = name.replace("-", "_").lower()
    candidates = [p for p in DOWNLOADS.iterdir()
                  if p.name.replace("-", "_").lower().startswith(norm + "_" + version)
                  and (p.name.endswith((".tar.gz", ".zip")) if kind == "sdist"
                       else p.name.endswith(".whl"))]
    if not candidates:
        raise SystemExit("error: pip downloaded no %s of %s into %s" % (kind, requirement, DOWNLOADS))
    archive = candidates[0]
    tmp = Path(tempfile.mkdtemp(dir=WORK))
    try:
        if archive.name.endswith(".tar.gz"):
            with tarfile.open(archive) as tf:
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(tmp, filter="data")
                else:
                    tf.extractall(tmp)
            (top,) = list(tmp.iterdir())
            top.rename(dest)
        else:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
            if kind == "wheel":
                tmp.chmod(0o755)  # mkdtemp made it private
                tmp.rename(dest)
                tmp = None
            else:
                (top,) = list(tmp.iterdir())
                top.rename(dest)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


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
                    cfg.failed = "ran backend %s instead of %s" % (m.group(1), cfg.backend)
            continue
        if cfg.branch and re.search(r"branch|arcs", res.stderr, re.I) and res.code not in (0, None):
            cfg.na = tail(res.stderr, 1).strip()
        else:
            cfg.failed = "probe run failed (exit %s):\n%s" % (res.code, tail(res.stderr))


# --------------------------------------------------------------------------------------
# Measuring


@dataclass
class PyResults:
    env: Env
    workloads: list
    configs: list
    cells: dict  # (workload name, config key) -> Cell
    repeat: int
    seconds: float = 0.0
    error: Optional[str] = None
    load_before: float = 0.0
    loads: list = field(default_factory=list)  # 1-minute load average after each round
    warmup: str = "every configuration"

    def busy(self) -> Optional[str]:
        """A warning if other processes competed for the CPUs while measuring."""
        loads = [self.load_before] + self.loads
        # Our own runs account for about 1 (one process at a time, plus the harness).
        cores = os.cpu_count() or 1
        if max(loads) > max(1.5, cores * 0.75):
            return ("the machine was busy while measuring (1-minute load average up to %.1f "
                    "on %d cores, ~1 of it this benchmark): other processes competed for "
                    "the CPUs, so times are inflated and ratios noisier than usual"
                    % (max(loads), cores))
        return None


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
    results = PyResults(env, workloads, configs, cells, repeat)
    results.load_before = os.getloadavg()[0]
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
                res = run_measured(argv, wl.cwd, {**base_env(scratch), **cfg.env}, scratch,
                                   timeout)
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
                        results.error = (
                            "the %s suite does not pass under plain Python %s (%s): the "
                            "benchmark of this Python stopped.\n%s" % (
                                wl.name, env.version_str, problem, cell.error))
                        results.seconds = time.perf_counter() - start
                        return results
                    continue
                if rnd >= warmup:
                    cell.times.append(res.seconds)
                    cell.rss_kb.append(res.rss_kb)
                    cell.cpu.append(res.cpu)
        log("  [%s] round %d/%d%s done in %.0fs (load average %.1f)" % (
            ver, rnd + 1, rounds, " (warm-up)" if rnd < warmup else "",
            time.perf_counter() - t_round, os.getloadavg()[0]))
        results.loads.append(os.getloadavg()[0])
    results.seconds = time.perf_counter() - start
    return results


# --------------------------------------------------------------------------------------
# Reporting


def ratio(cell: Cell, base: Cell) -> Optional[float]:
    m, b = cell.median(), base.median()
    return m / b if m is not None and b else None


def rss_ratio(cell: Cell, base: Cell) -> Optional[float]:
    m, b = cell.median_rss(), base.median_rss()
    return m / b if m is not None and b else None


def fmt_cell(cell: Cell, base: Cell, is_base: bool) -> str:
    if cell.status != "ok":
        return cell.status
    m = cell.median()
    if m is None:
        return "-"
    if is_base:
        return "%.2fs" % m
    r = ratio(cell, base)
    return "%.2fs %s" % (m, "%.2fx" % r if r is not None else "?")


def summary(res: PyResults, cfg: Config) -> dict:
    cpu = [ratio(res.cells[w.name, cfg.key], res.cells[w.name, "none"])
           for w in res.workloads if w.kind == "cpu"]
    cpu_statuses = [res.cells[w.name, cfg.key].status for w in res.workloads if w.kind == "cpu"]
    out = {"cpu_max_ratio": None, "cpu_status": "ok" if cpu_statuses else "-"}
    bad = [s for s in cpu_statuses if s != "ok"]
    if bad:
        out["cpu_status"] = bad[0]
    elif cpu and all(r is not None for r in cpu):
        out["cpu_max_ratio"] = max(cpu)
    for w in res.workloads:
        if w.kind == "suite":
            cell, base = res.cells[w.name, cfg.key], res.cells[w.name, "none"]
            out[w.name] = {"status": cell.status, "ratio": ratio(cell, base),
                           "rss_ratio": rss_ratio(cell, base),
                           "rss_mb": cell.median_rss() / 1024 if cell.median_rss() else None}
    return out


def render_table(res: PyResults, markdown: bool) -> str:
    wls, cfgs = res.workloads, res.configs
    suites = [w for w in wls if w.kind == "suite"]
    header = ["configuration"] + [w.name for w in wls] + ["CPU max"] + [
        "%s RSS" % w.name for w in suites]
    rows = []
    for cfg in cfgs:
        row = [cfg.label]
        for w in wls:
            row.append(fmt_cell(res.cells[w.name, cfg.key], res.cells[w.name, "none"],
                                cfg.key == "none"))
        s = summary(res, cfg)
        if cfg.key == "none":
            row.append("1.00x" if s["cpu_status"] == "ok" else "-")
        else:
            row.append("%.2fx" % s["cpu_max_ratio"] if s["cpu_max_ratio"] is not None
                       else s["cpu_status"] if s["cpu_status"] != "ok" else "-")
        for w in suites:
            cell, base = res.cells[w.name, cfg.key], res.cells[w.name, "none"]
            if cell.status != "ok" or not cell.rss_kb:
                row.append(cell.status if cell.status != "ok" else "-")
            elif cfg.key == "none":
                row.append("%.0f MB" % (cell.median_rss() / 1024))
            else:
                row.append("%.0f MB %.2fx" % (cell.median_rss() / 1024, rss_ratio(cell, base)))
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    def line(r):
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                         for i, c in enumerate(r))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render(res: PyResults, markdown: bool) -> str:
    env = res.env
    out = []
    tools = ", ".join("%s %s" % kv for kv in sorted(env.tool_versions.items()))
    if env.covcore_hash and "covcore" in env.tool_versions:
        tools = tools.replace("covcore %s" % env.tool_versions["covcore"], "covcore %s (source "
                              "%s)" % (env.tool_versions["covcore"], env.covcore_hash[:8]))
    title = "Python %s: median of %d runs (%s seconds) and ratio to plain python" % (
        env.version_str, res.repeat, "wall" if METRIC == "wall" else "CPU (user+sys)")
    if markdown:
        out.append("#### " + title)
        out.append("")
        out.append("Tools: %s. Measured %s on %s." % (
            tools, datetime.date.today().isoformat(), machine_description()))
        out.append("")
    else:
        out.append("=" * len(title))
        out.append(title)
        out.append("tools: " + tools)
    if res.error:
        out.append("ERROR: " + res.error)
        return "\n".join(out)
    if res.busy():
        out.append("WARNING: " + res.busy())
        if markdown:
            out.append("")
    out.append(render_table(res, markdown))
    out.append("")
    notes = []
    for cfg in res.configs:
        if cfg.note:
            notes.append("%s: %s" % (cfg.label, cfg.note))
        if cfg.na:
            notes.append("%s: n/a: %s" % (cfg.label, cfg.na))
        if cfg.failed:
            notes.append("%s: FAILED before measuring: %s" % (
                cfg.label, " ".join(cfg.failed.split())[:300]))
    if notes:
        out.append(("\n".join("- " + n for n in notes) if markdown else
                    "notes:\n" + "\n".join("  " + n for n in notes)))
        out.append("")
    if not markdown:
        out.append("summary (max ratio over the CPU workloads; ratio and peak-RSS ratio on "
                   "the real suites):")
        for cfg in res.configs:
            if cfg.key == "none":
                continue
            s = summary(res, cfg)
            parts = ["CPU max " + ("%.2fx" % s["cpu_max_ratio"] if s["cpu_max_ratio"]
                                   is not None else s["cpu_status"])] if s["cpu_status"] != "-" else []
            for w in res.workloads:
                if w.kind == "suite":
                    d = s[w.name]
                    parts.append("%s %s" % (w.name, "%.2fx (RSS %.2fx)" % (d["ratio"], d["rss_ratio"])
                                            if d["ratio"] is not None else d["status"]))
            out.append("  %-26s %s" % (cfg.label, "   ".join(parts)))
        failures = [(w, c) for w in res.workloads for c in res.configs
                    if res.cells[w.name, c.key].status in ("FAILED", "TIMEOUT")]
        if failures:
            out.append("")
            out.append("failures (stderr tails):")
            # Configurations that failed before measuring fail every workload the same
            # way: one entry for each distinct error.
            before = {}
            for c in res.configs:
                if c.failed:
                    before.setdefault(c.failed, []).append(c.label)
            for err, labels in before.items():
                out.append("  all workloads / %s:" % ", ".join(labels))
                out.append(textwrap.indent(err.rstrip(), "    "))
            for w, c in failures:
                if not c.failed:
                    out.append("  %s / %s:" % (w.name, c.label))
                    out.append(textwrap.indent(res.cells[w.name, c.key].error.rstrip(), "    "))
        out.append("(took %.0f s)" % res.seconds)
    return "\n".join(out)


def machine_description() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, %s" % (model, os.cpu_count() or 0, platform.system())


def to_json(res: PyResults, args: argparse.Namespace) -> dict:
    env = res.env
    return {
        "python": env.version_str,
        "python_executable": env.base_exe,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_description(),
        "tools": env.tool_versions,
        "covcore_backends": env.backends,
        "covcore_error": env.covcore_error,
        "covcore_source_hash": env.covcore_hash,
        "slipcover_error": env.slipcover_error,
        "repeat": res.repeat,
        "quick": args.quick,
        "seconds": round(res.seconds, 1),
        "warmup": res.warmup,
        "load_average": {"before": res.load_before, "after_each_round": res.loads},
        "error": res.error,
        "workloads": [{"name": w.name, "kind": w.kind, "title": w.title,
                       "command": w.argv} for w in res.workloads],
        "configs": [{"key": c.key, "label": c.label, "tool": c.tool, "branch": c.branch,
                     "env": c.env, "note": c.note, "na": c.na, "failed": c.failed}
                    for c in res.configs],
        "results": {
            w.name: {
                c.key: {
                    "status": res.cells[w.name, c.key].status,
                    "median_s": res.cells[w.name, c.key].median(),
                    "min_s": min(res.cells[w.name, c.key].times, default=None),
                    "ratio": ratio(res.cells[w.name, c.key], res.cells[w.name, "none"]),
                    "times_s": [round(t, 4) for t in res.cells[w.name, c.key].times],
                    "cpu_s": [round(t, 4) for t in res.cells[w.name, c.key].cpu],
                    "peak_rss_kb": res.cells[w.name, c.key].rss_kb,
                    "rss_ratio": rss_ratio(res.cells[w.name, c.key], res.cells[w.name, "none"]),
                    "error": res.cells[w.name, c.key].error or None,
                } for c in res.configs
            } for w in res.workloads
        },
        "summary": {c.key: summary(res, c) for c in res.configs if c.key != "none"},
    }


def from_json(data: dict) -> PyResults:
    """Rebuild results from a results-3.X.json (for --from-json)."""
    version = tuple(int(p) for p in data["python"].split(".")[:2])
    env = Env(version, data["python"], data["python_executable"], Path("?"),
              data.get("covcore_error"), data.get("covcore_backends", []),
              data.get("slipcover_error"), data.get("tools", {}),
              data.get("covcore_source_hash"))
    wls = [Workload(w["name"], w["kind"], w["title"], w["command"], WORK, None, None)
           for w in data["workloads"]]
    cfgs = [Config(c["key"], c["label"], c["tool"], c["branch"], c["env"], None, c["na"],
                   c["failed"], c["note"]) for c in data["configs"]]
    cells = {}
    for w in wls:
        for c in cfgs:
            d = data["results"][w.name][c.key]
            cells[w.name, c.key] = Cell(d["status"], d["times_s"], d["peak_rss_kb"], d["cpu_s"],
                                        d["error"] or "")
    load = data.get("load_average", {})
    return PyResults(env, wls, cfgs, cells, data["repeat"], data["seconds"], data["error"],
                     load.get("before", 0.0), load.get("after_each_round", []),
                     data.get("warmup", "?"))


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
                   help="measure nothing: print the tables of the saved results-3.X.json")
    p.add_argument("--metric", choices=["wall", "cpu"], default="wall",
                   help="what the tables compare: wall time (default) or the CPU time "
                        "(user+sys) of the process, less sensitive to a busy machine")
    p.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.warmup is None:
        args.warmup = "plain" if args.quick else "all"
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    global METRIC
    METRIC = args.metric
    if "PYENV_VERSION" not in os.environ and shutil.which("pyenv"):
        # With pyenv, python3.X shims only work for the selected versions.
        res = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
        versions = [v for v in res.stdout.split() if re.match(r"^3\.\d+\.\d+$", v)]
        if versions:
            os.environ["PYENV_VERSION"] = ":".join(versions)
    WORK.mkdir(parents=True, exist_ok=True)
    specs = args.python.split(",") if args.python else DEFAULT_PYTHONS

    if args.from_json:
        for spec in specs:
            path = WORK / ("results-%s.json" % spec)
            if path.exists():
                res = from_json(json.loads(path.read_text()))
                log(render(res, False))
                if args.markdown:
                    log("")
                    log(render(res, True))
                log("")
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

    warmup = 1
    exit_code = 0
    all_results = []
    t_all = time.perf_counter()
    for env in envs:
        ver = "%d.%d" % env.version
        scratch = WORK / ("scratch-" + ver)
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        workloads = make_workloads(names, args.quick, pipdir, scratch)
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
        log("Python %s: %d workloads x %d configurations, %d warm-up (%s) + %d measured "
            "rounds" % (env.version_str, len(workloads), len(configs), warmup,
                        "every configuration" if args.warmup == "all" else "plain python only",
                        args.repeat))
        probe_configs(env, configs, scratch)
        for cfg in configs:
            if cfg.failed:
                log("  %s: FAILED before measuring: %s" % (cfg.label, cfg.failed.splitlines()[0]))
            elif cfg.na:
                log("  %s: n/a: %s" % (cfg.label, cfg.na))
        res = measure(env, workloads, configs, args.repeat, warmup, args.timeout, scratch,
                      args.verbose, warmup_all=args.warmup == "all")
        res.warmup = "every configuration" if args.warmup == "all" else "plain python only"
        all_results.append(res)
        (WORK / ("results-%s.json" % ver)).write_text(json.dumps(to_json(res, args), indent=1))
        log("")
        log(render(res, False))
        if res.error:
            exit_code = 1
    if len(all_results) > 1 or args.markdown:
        log("")
        log("All results (%.0f s in all; JSON in %s):" % (
            time.perf_counter() - t_all, WORK.relative_to(REPO)))
        for res in all_results:
            log("")
            log(render(res, args.markdown))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
