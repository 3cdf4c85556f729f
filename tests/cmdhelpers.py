"""Helpers for tests that run covcore (and coverage.py, the reference) as commands."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


class Result:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self) -> str:
        return f"<Result rc={self.rc}\n--stdout--\n{self.out}\n--stderr--\n{self.err}>"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVCORE_RCFILE", "COVERAGE_", "COVCORE_FILE"))}
    env.update(extra)
    return env


def covcore(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Run ``python -m covcore ARGS`` in ``cwd``."""
    proc = subprocess.run(
        [sys.executable, "-m", "covcore", *args],
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, input=stdin, timeout=300,
    )
    return Result(proc)


def coveragepy(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run coverage.py (the reference) as ``python -m coverage ARGS`` in ``cwd``."""
    proc = subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=300,
    )
    return Result(proc)


def write(path: Path, text: str) -> Path:
    """Write dedented text to a file, making directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
