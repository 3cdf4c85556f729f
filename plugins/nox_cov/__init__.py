"""covcore for nox (``pip install covcore[nox]``): measured sessions and a
combine/report session for noxfiles.

``@covcore_nox.session(...)`` is ``nox.session`` with every ``session.run``
measured; ``with covcore_nox.measure(session):`` measures part of a plain
session; ``covcore_nox.report_session()`` registers the session that
combines, reports and applies fail-under.  See :mod:`covcore_nox.plugin`.
"""

from covcore_nox.plugin import ENV_RUN_ID, measure, report_session, session

__all__ = ["ENV_RUN_ID", "measure", "report_session", "session"]
