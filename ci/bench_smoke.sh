#!/usr/bin/env bash
# The benchmark's smoke run (benchmarks/run.py --smoke): every configuration
# (each covcore backend, coverage.py, slipcover; line and --branch) runs every
# workload once on tiny inputs, on the newest Python found (CI's run: each more
# Python costs ~70 s, its own virtualenvs and covcore build; the tracers of
# every Python are the test suite's).  It proves each configuration runs and
# prints what plain python prints; it asserts no timing.  Exit 1 if plain
# python or a covcore configuration fails (coverage.py and slipcover failures
# only warn).  Virtualenvs and downloads go to benchmarks/.work (reused by the
# next run).
#
#   bash ci/bench_smoke.sh
#   PYTHONS="3.13 3.11" bash ci/bench_smoke.sh  # these (3.11: the probe backend)
#   bash ci/bench_smoke.sh --only coverage      # extra arguments go to run.py
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v pyenv >/dev/null 2>&1 && [ -z "${PYENV_VERSION:-}" ]; then
    export PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0
fi
if [ -z "${PYTHONS:-}" ]; then
    newest=""
    for ver in 3.10 3.11 3.12 3.13; do
        command -v "python$ver" >/dev/null 2>&1 && newest=$ver
    done
    if [ -z "$newest" ]; then
        echo "No supported Python was found." >&2
        exit 1
    fi
    PYTHONS=$newest
fi
runner=python${PYTHONS%% *}
echo "=== benchmark smoke run: Python ${PYTHONS// /, }"
start=$SECONDS
rc=0
"$runner" benchmarks/run.py --smoke --python "${PYTHONS// /,}" "$@" || rc=$?
echo "=== benchmark smoke run ended after $((SECONDS - start)) s, exit code $rc"
exit $rc
