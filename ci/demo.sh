#!/usr/bin/env bash
# README command 1: install covcore into a fresh virtualenv and measure a real
# test suite (more-itertools 10.5.0, from its source distribution), then print
# the report.  PYTHON=python3.12 bash ci/demo.sh picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if command -v pyenv >/dev/null 2>&1 && [ -z "${PYENV_VERSION:-}" ]; then
    export PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0
fi
PYTHON=${PYTHON:-python3}
work=ci/.work/demo
rm -rf "$work"
mkdir -p "$work"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$repo" pytest
"$work/venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    more-itertools==10.5.0 -d "$work"
tar -xzf "$work"/more-itertools-10.5.0.tar.gz -C "$work"
cd "$work/more-itertools-10.5.0"
../venv/bin/covcore --version
../venv/bin/covcore run --source=more_itertools -m pytest -q -p no:cacheprovider tests
../venv/bin/covcore report -m
