#!/usr/bin/env bash
# The test command (README): for every supported Python found on this machine,
# install covcore (compiling its Cython tracer) with its test dependencies into
# a fresh virtualenv, run the whole suite with the default tracer backend, then
# the backend-dependent tests again under every other backend that Python has.
#
#   bash ci/test.sh                 # all of 3.10-3.13 that are installed
#   PYTHONS="3.12" bash ci/test.sh  # just one
#   bash ci/test.sh -k report       # extra arguments go to pytest
set -uo pipefail
cd "$(dirname "$0")/.."

if command -v pyenv >/dev/null 2>&1 && [ -z "${PYENV_VERSION:-}" ]; then
    export PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0
fi
PYTHONS=${PYTHONS:-"3.10 3.11 3.12 3.13"}

# The reporters' tests use real consumers: Chromium (the HTML report, through
# selenium) and genhtml (the LCOV report).  Install them where we can; without
# them those tests skip, saying why.
need_pkgs=""
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || need_pkgs="chromium chromium-driver"
command -v genhtml >/dev/null 2>&1 || need_pkgs="$need_pkgs lcov"
if [ -n "$need_pkgs" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "=== installing $need_pkgs (Debian packages) for the report tests"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q >/dev/null && apt-get install -y -q $need_pkgs >/dev/null; } \
        || echo "WARNING: could not install $need_pkgs: their tests will be skipped" >&2
fi
export PYTHONHASHSEED=0
failed=()
ran=0

run_pytest() {  # pytest's exit code 5 (no tests collected) is not a failure here
    "$@"
    local rc=$?
    if [ $rc -eq 5 ]; then rc=0; fi
    return $rc
}

# The adapters' tests (marker "adapters") drive tox, nox and setup.py in
# virtualenvs of their own, on the Pythons they name, whatever Python runs
# pytest, and spend most of their time in pip and virtualenv: they run once,
# in the background beside the other passes, from the first Python's
# virtualenv; their output is printed at the end.  ADAPTERS=0 leaves them out.
adapters_log=".venvs/adapters.log"
adapters_pid=""

for ver in $PYTHONS; do
    py="python$ver"
    if ! command -v "$py" >/dev/null 2>&1; then
        echo "=== Python $ver: not installed, skipped"
        continue
    fi
    venv=".venvs/py$ver"
    echo "=== Python $ver: installing covcore into $venv"
    rm -rf "$venv"
    "$py" -m venv "$venv" || { failed+=("$ver:venv"); continue; }
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check ".[test]"; then
        failed+=("$ver:install"); continue
    fi
    if ! "$venv/bin/python" -c "import covcore._tracer" 2>/dev/null && [ -z "${COVCORE_NO_EXTENSION:-}" ]; then
        echo "=== Python $ver: the C tracer was not built" >&2
        failed+=("$ver:extension"); continue
    fi
    backends=$("$venv/bin/python" -c "from covcore.backend import available_backends; print(' '.join(available_backends()))")
    default=$("$venv/bin/python" -c "from covcore.backend import choose_backend; print(choose_backend().name)")
    echo "=== Python $ver: backends: $backends (default $default)"
    ran=1
    if [ -z "$adapters_pid" ] && [ "${ADAPTERS:-1}" != 0 ]; then
        echo "=== Python $ver: the adapters' tests, in the background (output at the end)"
        ( COVCORE_CORE=$default run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m adapters tests "$@" \
            > "$adapters_log" 2>&1 ) &
        adapters_pid=$!
    fi
    echo "=== Python $ver: whole suite but the adapters' tests, backend $default"
    COVCORE_CORE=$default run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m "not adapters" tests "$@" || failed+=("$ver:$default")
    for core in $backends; do
        [ "$core" = "$default" ] && continue
        echo "=== Python $ver: backend-dependent tests, backend $core"
        COVCORE_CORE=$core run_pytest "$venv/bin/python" -m pytest -p no:cacheprovider -q -m backend tests "$@" || failed+=("$ver:$core")
    done
done

if [ -n "$adapters_pid" ]; then
    wait "$adapters_pid"
    adapters_rc=$?
    echo "=== the adapters' tests (tox, nox, setuptools)"
    cat "$adapters_log"
    [ $adapters_rc -eq 0 ] || failed+=("adapters")
fi

if [ $ran -eq 0 ]; then
    echo "No supported Python was found." >&2
    exit 1
fi
if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "All test runs passed."
