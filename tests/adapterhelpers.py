"""Shared helpers for the adapters' tests (tox, nox, setuptools): real
virtualenvs into which covcore is installed from this checkout.

Building covcore (its Cython tracer) takes most of a minute per Python, so a
wheel of the checkout is built once per Python and per source state and
kept in a wheelhouse (``$COVCORE_TEST_CACHE``, default
``<repo>/.adapter-cache``, git-ignored).  :func:`install_env` gives the
environment variables that make every pip in a test (tox's, nox's, ours)
install covcore from there: ``COVCORE_INSTALL_REQUIREMENT=covcore==<version>``
(read by :func:`covcore.measure.install_requirement`) and ``PIP_FIND_LINKS``
with the wheelhouse added.

Tests that use these are marked ``adapters`` (``pytest -m adapters`` selects
them, ``-m "not adapters"`` leaves them out).

``ci/test.sh`` installs covcore from the same wheelhouse, so that each Python
compiles the tracer once per CI run: ``python3.X tests/adapterhelpers.py``
builds (or finds) the running Python's wheel and prints its path.  Run that
way, this module needs only the standard library.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import time

from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("COVCORE_TEST_CACHE") or REPO / ".adapter-cache")

#: The files whose content makes a covcore wheel.
_SOURCE_GLOBS = ("core/**/*", "plugins/**/*", "setup.py", "pyproject.toml", "README.md")


def covcore_version() -> str:
    ns: dict[str, str] = {}
    exec((REPO / "core" / "version.py").read_text(), ns)
    return ns["__version__"]


def source_hash() -> str:
    """A hash of everything that goes into covcore's wheel."""
    h = hashlib.sha256()
    for pattern in _SOURCE_GLOBS:
        for path in sorted(REPO.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".so", ".c", ".pyc"):
                h.update(str(path.relative_to(REPO)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def python_exe(version: str) -> str | None:
    """The real executable of ``python<version>`` (e.g. "3.12"), or None if
    it is not installed (a pyenv shim of a version not selected doesn't count)."""
    if version == "%d.%d" % sys.version_info[:2]:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        return None
    try:
        out = subprocess.run([found, "-c", "import sys; print(sys.executable)"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _skip(reason: str) -> None:
    import pytest  # not at the top: ci/test.sh runs this module without pytest

    pytest.skip(reason)


def wheelhouse(versions: tuple[str, ...] = ("3.11", "3.12")) -> Path:
    """A directory holding a covcore wheel of this checkout for each of
    ``versions`` that is installed (built on first use; a lock keeps
    parallel builders apart)."""
    house = CACHE / f"wheels-{source_hash()}"
    house.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("wheels-*"):  # wheels of earlier source states, unused for an hour
        if old != house and time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    import fcntl

    with open(house / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for version in versions:
            exe = python_exe(version)
            if exe is None:
                continue
            tag = "cp" + version.replace(".", "")
            if any(house.glob(f"covcore-*-{tag}-*.whl")):
                continue
            build = CACHE / f"build-{tag}"
            shutil.rmtree(build, ignore_errors=True)
            # Build from a copy: pip must not write build/ or *.egg-info into the checkout.
            src = build / "src"
            shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
                ".git", ".venvs", ".adapter-cache", "benchmarks", "tests", "ci", "*.so", "build", "*.egg-info",
                ".tox", ".nox", "__pycache__"))
            subprocess.run([exe, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(house), str(src)],
                           check=True, env=_clean_env())
            shutil.rmtree(build, ignore_errors=True)
    return house


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("COVCORE_", "COVERAGE_", "TOX_", "NOX_", "PYTEST_"))}


def install_env(versions: tuple[str, ...] = ("3.11", "3.12")) -> dict[str, str]:
    """An environment for running tox/nox/setup.py in tests: no covcore or
    coverage variables of the test run itself, and covcore installed from
    this checkout's wheels wherever pip installs it."""
    env = _clean_env()
    house = wheelhouse(versions)
    env["COVCORE_INSTALL_REQUIREMENT"] = f"covcore=={covcore_version()}"
    env["PIP_FIND_LINKS"] = " ".join([str(house)] + env.get("PIP_FIND_LINKS", "").split())
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def make_venv(path: Path, version: str, packages: list[str]) -> Path:
    """A virtualenv at ``path`` for Python ``version`` with ``packages``
    installed (pip requirement strings; ``covcore[tox]`` etc. come from
    the wheelhouse).  Reused when it already exists with the same packages
    and source hash.  Returns its python executable."""
    exe = python_exe(version)
    if exe is None:
        _skip(f"Python {version} is not installed")
    stamp = path / ".covcore-test-stamp"
    want = source_hash() + "\n" + "\n".join(packages)
    py = path / "bin" / "python"
    if stamp.exists() and stamp.read_text() == want and py.exists():
        return py
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([exe, "-m", "venv", str(path)], check=True)
    env = install_env((version,))
    subprocess.run([str(py), "-m", "pip", "install", "-q", *packages], check=True, env=env)
    stamp.write_text(want)
    return py


#: The sample projects: each folder holds a project's configuration; the
#: package ``calc`` and its tests are shared (``_shared``) and put in place by
#: :func:`sample_project`.
PROJECTS = REPO / "tests" / "adapter_projects"

#: The sample projects with a src layout (``src/calc``); the others are flat (``calc``).
SRC_LAYOUT = ("srcproj", "nox_srcproj", "setuptools_pyproject")


def sample_project(name: str, dest: Path) -> Path:
    """Copy sample project ``name`` to ``dest``, with the package ``calc``
    (15 statements: line 12 runs only on Python 3.12+, line 14 only before,
    line 26 never; lines 19-22 only in a subprocess its tests start) at
    ``src/calc`` or ``calc``, and its unittest tests in ``tests/``."""
    ignore = shutil.ignore_patterns("__pycache__", ".covcore*", ".tox", ".nox", "build", "*.egg-info")
    shutil.copytree(PROJECTS / name, dest, ignore=ignore)
    package = dest / "src" / "calc" if name in SRC_LAYOUT else dest / "calc"
    shutil.copytree(PROJECTS / "_shared" / "calc", package, ignore=ignore)
    shutil.copytree(PROJECTS / "_shared" / "tests", dest / "tests", ignore=ignore)
    return dest


class ToolRun:
    """Runs a tool (``[tox]``, ``[nox, "--envdir", DIR]``) and covcore's
    command, from the same virtualenv, in a copied sample project."""

    def __init__(self, argv: list[str], env: dict[str, str], project: Path) -> None:
        self.argv, self.env, self.project = [str(a) for a in argv], env, project

    def __call__(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """Run the tool with ``args`` (and ``extra_env`` added to its
        environment); the result has ``output``: stdout + stderr."""
        proc = subprocess.run([*self.argv, *args], cwd=self.project, env=dict(self.env, **extra_env),
                              capture_output=True, text=True, timeout=600)
        proc.output = proc.stdout + proc.stderr  # type: ignore[attr-defined]
        return proc

    def covcore(self, *args: str) -> subprocess.CompletedProcess:
        """Run the ``covcore`` command of the tool's virtualenv."""
        return subprocess.run([str(Path(self.argv[0]).parent / "covcore"), *args], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=300)


def write_full_data(path: Path, source: Path) -> None:
    """Write a covcore data file at ``path`` (directories made) in which every
    line of ``calc``'s ``source`` ran: stale data that must never count."""
    from covcore.data import CoverageData

    path.parent.mkdir(parents=True, exist_ok=True)
    data = CoverageData(str(path))
    data.add_lines({str(source): range(1, 27)})
    data.write()


def calc_report(src: bool, miss: int, cover: str, missing: str) -> str:
    """covcore's text report of the package ``calc`` alone (``src/calc`` if ``src``)."""
    name = "src/calc/__init__.py" if src else "calc/__init__.py"
    width = len(name) + 32
    return "\n".join([
        "Name".ljust(len(name) + 3) + "Stmts   Miss  Cover   Missing",
        "-" * width,
        f"{name}      15      {miss}    {cover}   {missing}",
        "-" * width,
        "TOTAL".ljust(len(name) + 6) + f"15      {miss}    {cover}",
    ])


def report_of(output: str) -> str:
    """The text report in a tool's output: from the header to the TOTAL line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Name "))
    end = next(i for i, line in enumerate(lines) if line.startswith("TOTAL"))
    return "\n".join(lines[start:end + 1])


def tool_host(tool: str) -> tuple[Path, dict[str, str]]:
    """``(bin directory, environment)`` for running ``tool`` (``"tox"``,
    ``"nox"``): a Python 3.11 virtualenv with ``covcore[TOOL]``, and
    :func:`tool_env` for 3.11 and 3.12.  Skips the test when either
    Python is missing."""
    for version in ("3.11", "3.12"):
        if python_exe(version) is None:
            _skip(f"Python {version} is not installed")
    py = make_venv(CACHE / f"venv-{tool}-3.11", "3.11", [f"covcore[{tool}]"])
    return py.parent, tool_env(("3.11", "3.12"))


def tool_env(versions: tuple[str, ...] = ("3.11", "3.12")) -> dict[str, str]:
    """:func:`install_env`, with the real interpreters of ``versions`` first
    on PATH (tox and nox look for ``python3.X`` there; pyenv shims of
    versions not selected don't run) and no ``CALC_*`` variables of the
    sample projects' own."""
    env = install_env(versions)
    dirs = [os.path.dirname(exe) for exe in map(python_exe, versions) if exe]
    env["PATH"] = os.pathsep.join(dirs + [env.get("PATH", "")])
    for name in [k for k in env if k.startswith("CALC_")]:
        del env[name]
    return env


__all__ = ["PROJECTS", "ToolRun", "SRC_LAYOUT", "calc_report", "report_of", "sample_project", "tool_env", "tool_host", "write_full_data",
           "REPO", "CACHE", "covcore_version", "install_env", "make_venv", "python_exe", "source_hash", "wheelhouse"]


if __name__ == "__main__":
    # ci/test.sh: this checkout's wheel for the running Python, built on first use.
    this = "%d.%d" % sys.version_info[:2]
    print(next(wheelhouse((this,)).glob(f"covcore-*-cp{this.replace('.', '')}-*.whl")))
