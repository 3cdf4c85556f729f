"""The nox adapter: measured nox sessions and a combine/report session.

nox has no plugin system, so this is a small library that a noxfile imports
(``pip install covcore[nox]``).  Built only on covcore's public surface:
:class:`covcore.measure.MeasuredSession` and the hooks behind it::

    import nox
    import covcore_nox

    @covcore_nox.session(python=["3.11", "3.12"], reuse_venv=True)
    def tests(session):
        session.install(".")              # pip: not measured
        session.run("python", "-m", "pytest", *session.posargs)   # measured

    covcore_nox.report_session()          # "coverage": combine, report, fail-under

How it works:

* :func:`session` is ``nox.session`` (same arguments) around a function that
  installs covcore into the session's environment and runs the session's
  body inside :func:`measure`, then (sequential runs) ``session.notify``-es
  the report session.
* :func:`measure` makes ``session.run(...)`` measured for a block: every
  Python process the commands start -- subprocesses too, through
  ``covcore.pth`` -- writes a parallel data file of its own, named after the
  session (``tests-3.11``), which is also the data's static context.
  ``session.install`` and ``session.run_install`` stay unmeasured: the
  variables are given to ``session.run`` only, not put in ``session.env``.
* :func:`report_session` registers a session (no virtualenv: it runs in
  nox's own Python) that combines this run's data, maps installed copies
  (``.nox/tests-3-11/lib/python3.11/site-packages/calc``) back to the source
  tree, prints and writes the reports and applies fail-under; under
  fail-under it fails with a one-line message (nox's exit code is then 1).
  It ``requires=`` every measured session, so it runs after them under
  ``nox --parallel`` (where ``session.notify`` raises) and ``nox -s
  coverage`` runs the tests first; in a sequential run the measured sessions
  also notify it, so ``nox -s tests`` reports too.  Posargs never reach it
  (it is notified with empty posargs, and it ignores its own).

Where the state lives, and stale data.  Under ``nox --parallel`` every
session runs in a worker process of its own (``nox -s NAME
--no-dependencies``, started by the scheduling nox process), so nothing is
shared in memory: the state is on disk, in the data directory
(:attr:`MeasuredSession.data_dir`, ``.covcore-nox/`` beside the data file).
Each nox invocation has a run ID (:data:`ENV_RUN_ID`), made when the first
nox process of the invocation imports this module and inherited by its
parallel workers through the environment (a worker accepts an inherited ID
only when it was made by its parent process or itself, so an ID left in a
shell or passed down from an unrelated process never joins two runs).  The
measured processes of a run write into ``.covcore-nox/run-<ID>/``; the first
measured session of a run (elected under a file lock,
``.covcore-nox/.lock``, as several workers may start at once) removes the
directories of earlier runs and calls :meth:`MeasuredSession.begin`, which
erases the combined data file of earlier runs.  The report session combines
only its own run's directory.  So data of an earlier invocation -- even one
that was killed, or whose report session never ran -- cannot count, while
every session of this invocation, in whichever process it ran, is seen.
(Erasing each session's own files at its start instead would not do: a
session that was not selected this time would leave its old files behind
for the report to pick up.)

A measured session that fails makes nox skip the report session (a
prerequisite failed; in a sequential run a failing session also does not
notify it), sequentially and under ``--parallel`` alike; its data stays in
its run directory and is removed by the next run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import nox

if TYPE_CHECKING:
    from covcore.measure import MeasuredSession

#: The environment variable carrying the nox invocation's run ID
#: (``<pid of the process that made it>.<random hex>``).
ENV_RUN_ID = "COVCORE_NOX_RUN"

#: The adapter's name: the ``[tool.covcore.nox]`` / ``[covcore:nox]``
#: section and the data directory ``.covcore-nox``.
ADAPTER = "nox"

_RUN_PREFIX = "run-"
_LOCK_NAME = ".lock"


def _run_id() -> str:
    """This nox invocation's run ID: the inherited one when this process or
    its parent made it (a ``--parallel`` worker), else a new one, put in the
    environment for the workers this process may start."""
    given = os.environ.get(ENV_RUN_ID, "")
    maker, _, token = given.partition(".")
    if token and maker in (str(os.getpid()), str(os.getppid())):
        return given
    new = f"{os.getpid()}.{uuid.uuid4().hex[:12]}"
    os.environ[ENV_RUN_ID] = new
    return new


#: Set on import: the first nox process of an invocation imports the
#: noxfile (and so this module) before it starts any worker.
RUN_ID = _run_id()

#: Names of the sessions decorated with :func:`session`, in order.
_MEASURED: list[str] = []

#: The report session: ``{"name": str, "func": nox's Func, "explicit": bool}``.
_REPORT: dict[str, Any] = {}

#: ``id(session) -> variables`` for the sessions measured right now.
_ACTIVE: dict[int, dict[str, str]] = {}


# -- measured sessions -------------------------------------------------------


class _MeasuredNoxSession(nox.Session):
    """A :class:`nox.Session` whose :meth:`run` adds the measuring variables
    (``session.__class__`` is switched to this class inside :func:`measure`;
    same slots, so the object stays the one nox and the noxfile hold)."""

    __slots__ = ()

    def run(self, *args: Any, env: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        variables = _ACTIVE.get(id(self))
        if variables:
            env = {**variables, **(env or {})}
        return super().run(*args, env=env, **kwargs)


def _measured_session(root: str | None = None, **kwargs: Any) -> MeasuredSession:
    from covcore.measure import MeasuredSession

    return MeasuredSession(ADAPTER, root=root or os.getcwd(), **kwargs)


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    """Hold an exclusive lock on ``directory/.lock`` (POSIX ``flock``,
    Windows ``msvcrt.locking``) for the block."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, _LOCK_NAME), "a+") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _use_run_dir(measured: MeasuredSession) -> str:
    """Point ``measured`` at this run's directory (``.covcore-nox/run-<ID>``)
    and return the data directory it is in (``.covcore-nox``)."""
    base = measured.data_dir
    measured.data_dir = os.path.join(base, _RUN_PREFIX + RUN_ID)
    return base


def _start_run(measured: MeasuredSession) -> None:
    """Make sure this run has begun: the first measured session of the run
    (in whichever process) removes earlier runs' directories and calls
    :meth:`MeasuredSession.begin`; later ones find the run directory."""
    base = _use_run_dir(measured)
    with _locked(base):
        if os.path.isdir(measured.data_dir):
            return
        for entry in os.listdir(base):
            if entry.startswith(_RUN_PREFIX):
                shutil.rmtree(os.path.join(base, entry), ignore_errors=True)
        measured.begin()


@contextlib.contextmanager
def measure(session: nox.Session, *, install: bool = True) -> Iterator[nox.Session]:
    """Measure the commands a session runs with ``session.run(...)`` inside
    the block (subprocesses included)::

        @nox.session
        def tests(session):
            session.install(".")
            with covcore_nox.measure(session):
                session.run("pytest")

    :param session: the nox session.
    :param install: install covcore into the session's environment first
        (pip; skipped when the session has no virtualenv, ``venv_backend="none"``,
        whose Python must then have covcore already).
    :returns: a context manager; the block gets ``session`` itself.

    The data goes to this run's directory under ``.covcore-nox/`` (see the
    module's docstring), in parallel files named after the session, which
    is also the data's static context.  ``session.install`` and
    ``session.run_install`` are not measured, inside the block or out.
    Nested use (in a session decorated with :func:`session`) does nothing
    more.
    """
    if id(session) in _ACTIVE:
        yield session
        return
    measured = _measured_session()
    _start_run(measured)
    if install and session.venv_backend != "none":
        requirements = measured.requirements(session.name)
        if requirements:
            session.install(*requirements)
    _ACTIVE[id(session)] = measured.environment(session.name)
    old_class = session.__class__
    session.__class__ = _MeasuredNoxSession
    try:
        yield session
    finally:
        session.__class__ = old_class
        _ACTIVE.pop(id(session), None)


def session(func: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    """``nox.session`` for a measured session: the same arguments
    (``python=``, ``py=``, ``name=``, ``reuse_venv=``, ``venv_backend=``,
    ``venv_params=``, ``tags=``, ``default=``, ``requires=``,
    ``allow_parallel=``; ``@nox.parametrize`` below it works as usual), with
    or without parentheses.

    Every ``session.run(...)`` of the session is measured (see
    :func:`measure`), covcore having been installed into its environment
    first; each session, and each Python or parameter set of a parametrised
    one, writes parallel data files of its own.  When the session succeeds
    in a sequential run, it notifies the report session (empty posargs).
    """
    if func is None:
        return functools.partial(session, **kwargs)
    name = kwargs.get("name") or func.__name__
    if name not in _MEASURED:
        _MEASURED.append(name)
    if _REPORT and not _REPORT["explicit"]:
        _REPORT["func"].requires = list(_MEASURED)

    @functools.wraps(func)
    def measured_session(session: nox.Session, *args: Any, **kw: Any) -> Any:
        with measure(session):
            result = func(session, *args, **kw)
        _notify_report(session)
        return result

    return nox.session(measured_session, **kwargs)


def _notify_report(session: nox.Session) -> None:
    """Queue the report session after this one in a sequential run (under
    ``--parallel`` it is ordered by its ``requires=`` instead; there
    ``session.notify`` raises).

    nox runs a queued session only if each of its ``requires=`` has run and
    succeeded, and the report session requires every measured session, of
    which ``nox -s tests-3.11`` runs only one: so the report session's
    prerequisites are narrowed here to the measured sessions that ran in
    this nox process (this one included).  That needs nox's session runner
    (``session._runner``); without it, nothing is narrowed.
    """
    if not _REPORT or session.parallel:
        return
    name = _REPORT["name"]
    runner = getattr(session, "_runner", None)
    manifest = getattr(runner, "manifest", None)
    if manifest is not None and not _REPORT["explicit"]:
        ran = []
        report_runners = []
        for other, _selected in manifest.list_all_sessions():
            if other.name == name:
                report_runners.append(other)
            elif other.name in _MEASURED and (other is runner or other.result is not None):
                ran.append(other.signatures[0] if other.signatures else other.name)
        for report in report_runners:
            report.func.requires = ran
    session.notify(name, posargs=[])


# -- the report session ------------------------------------------------------


def report_session(
    name: str = "coverage",
    *,
    reports: Iterable[str] | str | None = None,
    fail_under: float | str | None = None,
    requires: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    default: bool = True,
) -> Any:
    """Register the session that combines, reports and applies fail-under.

    :param name: the session's name (``nox -s coverage``).
    :param reports: the reports, as ``--cov-report`` of the tox adapter:
        ``term``, ``term-missing[:skip-covered]``, ``markdown``,
        ``html[:DIR]``, ``xml[:FILE]``, ``json[:FILE]``, ``lcov[:FILE]``,
        ``annotate[:DIR]``, a plugin reporter ``NAME[:OUT]``; a list or a
        comma-separated string; ``[]`` for none.  None: ``report`` of
        ``[tool.covcore.nox]`` / ``[covcore:nox]``, else ``term``.
    :param fail_under: the minimum total percentage (0-100).  None:
        ``fail_under`` of ``[tool.covcore.nox]``, else ``[report] fail_under``.
    :param requires: the sessions it runs after; default: every session
        decorated with :func:`session` (those decorated later too).
    :param tags: nox tags for the session.
    :param default: whether plain ``nox`` runs it.
    :returns: nox's registered session function.

    The session has no virtualenv (it runs in nox's own Python, where
    covcore is installed) and never runs concurrently with another.  It
    combines this run's data into the data file (``.covcore``), removes the
    run's directory, prints the terminal report, writes the other reports
    with paths relative to the project (the noxfile's directory), and fails
    -- nox's exit code 1 -- with a one-line message when the total (or a
    file, ``[report] fail_under_files``) is under the threshold or covcore
    fails.  Its posargs are ignored.  A bad ``fail_under`` (or configuration)
    fails the session with a one-line ``covcore: ...`` message.
    """
    from covcore.measure import split_list

    wanted_reports = None if reports is None else split_list(reports)
    explicit = requires is not None

    def covcore_report(session: nox.Session) -> None:
        _report(session, wanted_reports, fail_under)

    covcore_report.__doc__ = "Combine the measured sessions' coverage, report it and apply fail-under."
    func = nox.session(
        covcore_report,
        name=name,
        venv_backend="none",
        tags=list(tags or []),
        default=default,
        requires=list(requires) if explicit else list(_MEASURED),
        allow_parallel=False,
    )
    _REPORT.update(name=name, func=func, explicit=explicit)
    return func


def _report(session: nox.Session, reports: list[str] | None, fail_under: Any) -> None:
    from covcore.errors import CovcoreError
    from covcore.measure import parse_percentage

    try:
        threshold = parse_percentage(fail_under, f"report_session(fail_under={fail_under!r})")
        measured = _measured_session(reports=reports, fail_under=threshold)
    except CovcoreError as exc:
        session.error(f"covcore: {exc}")
    base = _use_run_dir(measured)
    sys.stdout.flush()
    code = measured.finish(0)
    sys.stdout.flush()
    _tidy(base)
    if code == 0:
        return
    if measured.failures:
        more = f" (and {len(measured.failures) - 1} more)" if len(measured.failures) > 1 else ""
        session.error(measured.failures[0] + more)
    session.error(f"covcore: combining or reporting failed (exit code {code})")


def _tidy(base: str) -> None:
    """Remove the data directory when only its lock file is left."""
    with contextlib.suppress(OSError):
        with _locked(base):
            if set(os.listdir(base)) - {_LOCK_NAME}:
                return
            os.remove(os.path.join(base, _LOCK_NAME))
        os.rmdir(base)
