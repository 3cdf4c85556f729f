"""Setting up the benchmark: the Pythons, one virtualenv per Python with covcore
(from a copy of the checkout), coverage.py, slipcover and pytest, and the pinned
downloads the workloads run (more-itertools, toolz, pip).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Optional

from results import Env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
DOWNLOADS = WORK / "downloads"


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
        shutil.rmtree(tmp)  # unchanged: keep the old copy
    else:
        shutil.rmtree(dest, ignore_errors=True)
        (tmp / ".bench-hash").write_text(digest)
        tmp.chmod(0o755)  # mkdtemp made it private
        try:
            tmp.rename(dest)
        except OSError:  # another invocation put its copy there first
            if not (stamp.exists() and stamp.read_text() == digest):
                raise
            shutil.rmtree(tmp)
    return dest, digest



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
        # From a copy of this Python's own: pip builds in the source tree (build/), and
        # two invocations measuring two Pythons at once (as --metric instructions
        # suggests) collided there ("File exists: build/bdist...").
        own = WORK / ("covcore-src-" + ver)
        shutil.rmtree(own, ignore_errors=True)
        shutil.copytree(src, own)
        ok, out = pip(py, "install", "-q", str(own), logfile=logfile)
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
            from covcore.backend import available_backends, choose_backend
            out["backends"] = available_backends()
            out["default"] = {mode: choose_backend(branch=mode == "branch").name
                              for mode in ("line", "branch")}
        except Exception as exc:
            out["backends_error"] = "%s: %s" % (type(exc).__name__, exc)
        print(json.dumps(out))
    """)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COVCORE_")}
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=clean)
    info = json.loads(res.stdout) if res.returncode == 0 else {}
    env.tool_versions = {k: v for k, v in info.items()
                         if not k.startswith("backends") and k != "default"}
    env.backends = info.get("backends", [])
    env.default_backends = info.get("default", {})
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
