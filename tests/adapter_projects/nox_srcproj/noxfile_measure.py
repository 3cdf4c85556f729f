"""A plain nox session measuring only part of itself, and the report session."""

import nox

import covcore_nox


@nox.session(python="3.11", reuse_venv=True)
def partial(session):
    session.install(".")
    with covcore_nox.measure(session):
        session.run("python", "-c", "import calc; calc.add(1, 2)")
    session.run("python", "-c", "import calc; calc.never_called()")  # not measured


covcore_nox.report_session(requires=["partial"], reports=["term-missing", "json:out/cov.json"])
