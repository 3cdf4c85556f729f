#!/usr/bin/env bash
# The test command (README): for every supported Python found on this machine,
# install covcore (its wheel, compiling the Cython tracer once per Python) with
# its test dependencies into a fresh virtualenv, run the whole suite with the
# default tracer backend, then the backend-dependent tests again under every
# other backend that Python has (SKIP_RERUNS leaves out 3.13's ctrace and
# python, and 3.10's python: see below).  One more job runs the adapters'
# tests (real tox, nox, setup.py), once, then the static analyser over the
# newest Python's whole standard library (marker stdlib).  The jobs run JOBS at
# a time (default 2, this machine's cores); each job's output is printed,
# whole, when it ends.
#
#   bash ci/test.sh                 # all of 3.10-3.13 that are installed
#   PYTHONS="3.12" bash ci/test.sh  # just one
#   JOBS=1 ADAPTERS=0 STDLIB=0 bash ci/test.sh
#   bash ci/test.sh -k report       # extra arguments go to pytest
set -uo pipefail
cd "$(dirname "$0")/.."

if command -v pyenv >/dev/null 2>&1 && [ -z "${PYENV_VERSION:-}" ]; then
    export PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0
fi
PYTHONS=${PYTHONS:-"3.10 3.11 3.12 3.13"}

export PYTHONHASHSEED=0
JOBS=${JOBS:-2}
# The property-based tests' examples per test (tests/test_fuzz.py; 200 when run alone).
export COVCORE_FUZZ_EXAMPLES=${COVCORE_FUZZ_EXAMPLES:-50}
# Backend reruns left out: "PYTHON:BACKEND ...".  Every backend's tracing is
# checked in-process on every Python by the default run (tests/test_tracer.py
# runs each available backend); the reruns repeat the command-line and report
# tests.  ctrace is never the default on 3.12+ (3.12 reruns it); the pure-Python
# tracer is the same Python code on every version (3.11 and 3.12 rerun it).
SKIP_RERUNS=${SKIP_RERUNS-"3.13:ctrace 3.13:python 3.10:python"}
logs=".venvs/logs"
rm -rf "$logs"
mkdir -p "$logs"

# The reporters' tests use real consumers: Chromium (the HTML report, through
# selenium) and genhtml (the LCOV report).  Install them where we can, in the
# background while the virtualenvs are made (each job's pytest waits for it);
# without them those tests skip, saying why.
need_pkgs=""
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || need_pkgs="chromium chromium-driver"
command -v genhtml >/dev/null 2>&1 || need_pkgs="$need_pkgs lcov"
if [ -n "$need_pkgs" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "=== installing $need_pkgs (Debian packages) for the report tests, in the background"
    (
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -q >/dev/null && apt-get install -y -q $need_pkgs >/dev/null; } \
            || echo "WARNING: could not install $need_pkgs: their tests will be skipped"
        echo "=== Debian packages: done after $SECONDS s"
        touch "$logs/apt.done"
    ) > "$logs/apt.log" 2>&1 &
else
    touch "$logs/apt.done"
fi
wait_for_packages() {  # before a pytest run: the Debian packages are in (or failed)
    while [ ! -e "$logs/apt.done" ]; do sleep 2; done
}

run_pytest() {  # pytest's exit code 5 (no tests collected) is not a failure here
    "$@"
    local rc=$?
    if [ $rc -eq 5 ]; then rc=0; fi
    return $rc
}

make_venv() {  # make_venv PYTHON DIR: a fresh virtualenv with covcore and its test extra
    rm -rf "$2"
    "$1" -m venv "$2" || return 1
    if [ -n "${COVCORE_NO_EXTENSION:-}" ]; then
        # Built in the source tree (build/): one at a time.
        flock .venvs/install.lock "$2/bin/python" -m pip install -q --disable-pip-version-check ".[test]"
    else
        # The wheel the adapters' tests install too (tests/adapterhelpers.py,
        # .adapter-cache/): built once per Python and source state.
        local wheel
        wheel=$("$1" tests/adapterhelpers.py) || return 1
        "$2/bin/python" -m pip install -q --disable-pip-version-check "$wheel[test]"
    fi
}

# One job per Python: install, the whole suite (but the adapters' tests) with
# the default backend, then the backend-dependent tests under the others.
# Prints "JOB FAILED: <what>" lines for the summary.
python_job() {
    local ver=$1; shift
    local venv=".venvs/py$ver" failed=0
    echo "=== Python $ver: installing covcore into $venv"
    make_venv "python$ver" "$venv" || { echo "JOB FAILED: $ver:install"; return 1; }
    if ! "$venv/bin/python" -c "import covcore._tracer" 2>/dev/null && [ -z "${COVCORE_NO_EXTENSION:-}" ]; then
        echo "=== Python $ver: the C tracer was not built"
        echo "JOB FAILED: $ver:extension"; return 1
    fi
    local backends default
    backends=$("$venv/bin/python" -c "from covcore.backend import available_backends; print(' '.join(available_backends()))")
    default=$("$venv/bin/python" -c "from covcore.backend import choose_backend; print(choose_backend().name)")
    echo "=== Python $ver: backends: $backends (default $default); whole suite, backend $default"
    wait_for_packages
    COVCORE_CORE=$default run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m "not adapters and not stdlib" tests "$@" \
        || { echo "JOB FAILED: $ver:$default"; failed=1; }
    for core in $backends; do
        [ "$core" = "$default" ] && continue
        case " $SKIP_RERUNS " in *" $ver:$core "*) echo "=== Python $ver: backend $core left out (SKIP_RERUNS)"; continue ;; esac
        echo "=== Python $ver: backend-dependent tests, backend $core"
        COVCORE_CORE=$core run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m backend tests "$@" \
            || { echo "JOB FAILED: $ver:$core"; failed=1; }
    done
    if [ "$ver" = "$NEWEST" ] && [ "${ADAPTERS:-1}" = 0 ]; then
        stdlib_tests "$venv" "$@" || failed=1
    fi
    return $failed
}

stdlib_tests() {  # stdlib_tests VENV: the analyser over its Python's standard library
    [ "${STDLIB:-1}" = 0 ] && return 0
    local venv=$1; shift
    echo "=== Python $NEWEST: the analyser over the standard library, against coverage.py"
    run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m stdlib tests "$@" \
        || { echo "JOB FAILED: $NEWEST:stdlib"; return 1; }
}

# The adapters' tests (marker "adapters") drive tox, nox and setup.py in
# virtualenvs of their own, on the Pythons they name, whatever Python runs
# pytest: one run, from a virtualenv of the newest Python.  The same job then
# runs the stdlib tests (the longest two runs share a job: the others balance).
adapters_job() {
    local ver=$1; shift
    local venv=".venvs/adapters" failed=0
    echo "=== the adapters' tests (tox, nox, setuptools), from Python $ver"
    make_venv "python$ver" "$venv" || { echo "JOB FAILED: adapters:install"; return 1; }
    run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m adapters tests "$@" \
        || { echo "JOB FAILED: adapters"; failed=1; }
    stdlib_tests "$venv" "$@" || failed=1
    return $failed
}

jobs=()
for ver in $PYTHONS; do
    if command -v "python$ver" >/dev/null 2>&1; then
        jobs+=("py$ver")
    else
        echo "=== Python $ver: not installed, skipped"
    fi
done
if [ ${#jobs[@]} -eq 0 ]; then
    echo "No supported Python was found." >&2
    exit 1
fi
NEWEST=${jobs[-1]#py}
# The longest jobs first: the adapters' tests, then the newest Pythons.
ordered=()
[ "${ADAPTERS:-1}" != 0 ] && ordered=("adapters:$NEWEST")
for ((i = ${#jobs[@]} - 1; i >= 0; i--)); do ordered+=("${jobs[$i]}"); done
jobs=("${ordered[@]}")

declare -A pids=()
finish_one() {  # wait for one running job to end; print its log
    local done_pid="" rc name
    wait -n -p done_pid "${pids[@]}"
    rc=$?
    for name in "${!pids[@]}"; do
        if [ "${pids[$name]}" = "$done_pid" ]; then
            echo "$rc" > "$logs/$name.rc"
            cat "$logs/$name.log"
            echo "=== $name ended after $((SECONDS - start)) s, exit code $rc"
            unset "pids[$name]"
        fi
    done
}
start=$SECONDS
for job in "${jobs[@]}"; do
    while [ ${#pids[@]} -ge "$JOBS" ]; do finish_one; done
    name=${job%%:*}
    echo "=== starting $name ($((SECONDS - start)) s)"
    case $job in
        adapters:*) adapters_job "${job#adapters:}" "$@" > "$logs/$name.log" 2>&1 & ;;
        py*) python_job "${job#py}" "$@" > "$logs/$name.log" 2>&1 & ;;
    esac
    pids[$name]=$!
done
while [ ${#pids[@]} -gt 0 ]; do finish_one; done

failed=$(cat "$logs"/*.log | grep -h '^JOB FAILED: ' | cut -d' ' -f3- | tr '\n' ' ')
for rcfile in "$logs"/*.rc; do
    if [ "$(cat "$rcfile")" != 0 ] && [ -z "$failed" ]; then failed="$(basename "$rcfile" .rc)"; fi
done
wait  # the Debian packages' installer, if it is still running
cat "$logs/apt.log" 2>/dev/null
echo "=== all jobs ended in $((SECONDS - start)) s"
if [ -n "$failed" ]; then
    echo "FAILED: $failed" >&2
    exit 1
fi
echo "All test runs passed."
