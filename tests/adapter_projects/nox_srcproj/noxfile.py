"""A measured tests session over two Pythons, and the report session."""

import fcntl
import os

import nox

import covcore_nox


@covcore_nox.session(python=["3.11", "3.12"], reuse_venv=True, allow_parallel=True)
def tests(session):
    # Under --parallel both Pythons' pip would build the project in the same
    # source tree (setuptools' build/) at once: one at a time.
    with open(".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        session.install(".")
    session.run("python", "-m", "unittest", "discover", "-s", "tests", *session.posargs)


@nox.session(python="3.11", reuse_venv=True, default=False)
def lint(session):
    session.run("python", "-c", "print('lint ok')")


covcore_nox.report_session(fail_under=os.environ.get("CALC_FAIL_UNDER"))
