"""The tox 4 plugin: ``tox -e py311`` measures coverage with no change to
``commands``.

Registered in tox's ``tox`` entry-point group (``pip install covcore[tox]``,
or ``requires = covcore[tox]`` in the tox configuration).  Built only on
covcore's public surface: :class:`covcore.measure.MeasuredSession` and the
hooks behind it.

How it works (tox 4 has no hook that fires after all environments finish):

* ``tox_add_option`` adds ``--cov[=SOURCE]``, ``--no-cov``,
  ``--cov-fail-under=MIN`` and ``--cov-report=TYPE`` (tox reads each from
  ``TOX_COV``, ``TOX_NO_COV``, ``TOX_COV_FAIL_UNDER``, ``TOX_COV_REPORT`` too)
  and wraps the handlers of the commands that run environments (``run``,
  ``run-parallel``, ``legacy`` and their aliases).  The wrapper decides
  whether this run is measured, runs tox's own handler, then combines,
  reports and applies fail-under, and returns the exit code.
* ``tox_add_core_config`` adds ``cov``, ``cov_fail_under`` and
  ``cov_report`` to the ``[tox]`` section (``tox.toml``: top level);
  ``tox_add_env_config`` adds ``cov`` (default true) to every environment,
  so ``cov = false`` leaves one environment unmeasured.
* ``tox_on_install`` installs covcore into each measured environment after
  its ``deps`` (from the same source as the running covcore).
* ``tox_before_run_commands`` erases stale data once (the first measured
  environment of the run), then adds the variables that make every Python
  process of the environment's commands -- subprocesses too -- measure
  itself into a parallel data file of its own.

Under ``tox -p`` environments run in threads of this process: the state
below is guarded by a lock.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any, Callable

from tox.plugin import impl

if TYPE_CHECKING:
    from tox.config.cli.parser import ToxParser
    from tox.config.sets import ConfigSet, EnvConfigSet
    from tox.session.state import State
    from tox.tox_env.api import ToxEnv

    from covcore.measure import MeasuredSession

#: The tox commands whose handlers run environments.
RUN_COMMANDS = ("run", "r", "run-parallel", "p", "legacy", "le")


class _Run:
    """The measured part of one tox invocation."""

    def __init__(self, session: MeasuredSession) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.begun = False


_ACTIVE: _Run | None = None


# -- options and configuration ----------------------------------------------


@impl(trylast=True)
def tox_add_option(parser: ToxParser) -> None:
    """Add the ``--cov*`` options and wrap the run handlers (idempotent:
    tox may call this hook more than once)."""
    if not any(action.dest == "cov_fail_under" for action in parser._actions):
        parser.add_argument(
            "--cov", dest="cov", nargs="?", const="", default=None, of_type=str, metavar="SOURCE",
            help="measure coverage of the commands (SOURCE: comma-separated packages or directories; "
            "default: [run] source, else the project's own packages)",
        )
        parser.add_argument("--no-cov", dest="no_cov", action="store_true", default=False,
                            help="do not measure coverage, whatever the configuration says")
        parser.add_argument("--cov-fail-under", dest="cov_fail_under", default=None, of_type=str, metavar="MIN",
                            help="exit with 2 when the total coverage is below MIN percent (0-100)")
        parser.add_argument("--cov-report", dest="cov_report", action="append", default=None, of_type=list[str],
                            metavar="TYPE",
                            help="report to produce, repeatable: term, term-missing[:skip-covered], markdown, "
                            "html[:DIR], xml[:FILE], json[:FILE], lcov[:FILE], annotate[:DIR], a plugin's NAME[:OUT]; "
                            "an empty value for none")
    for name in RUN_COMMANDS:
        if name in parser.handlers:
            sub_parser, handler = parser.handlers[name]
            if not getattr(handler, "covcore_wrapped", False):
                parser.handlers[name] = (sub_parser, _wrap(handler))


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    core_conf.add_config(keys=["cov"], of_type=str, default="",
                         desc="covcore: measure coverage (true/false; default: when covcore is configured)")
    core_conf.add_config(keys=["cov_fail_under"], of_type=str, default="",
                         desc="covcore: minimum total coverage percentage (0-100)")
    core_conf.add_config(keys=["cov_report"], of_type=list[str], default=[],
                         desc="covcore: the reports to produce (term, term-missing, xml, html, json, lcov, ...)")


@impl
def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
    env_conf.add_config(keys=["cov"], of_type=bool, default=True,
                        desc="covcore: measure this environment's commands (when coverage is on)")


# -- the environments --------------------------------------------------------


def _measured(tox_env: ToxEnv) -> _Run | None:
    run = _ACTIVE
    if run is None:
        return None
    from tox.tox_env.runner import RunToxEnv

    if not isinstance(tox_env, RunToxEnv) or not tox_env.conf["cov"]:
        return None
    return run


@impl
def tox_on_install(tox_env: ToxEnv, arguments: Any, section: str, of_type: str) -> None:
    """Right before a measured environment's ``deps`` are installed, install
    covcore (and what plugins ask for) into it, tracked by tox as an
    installation of its own so that it is redone only when it changes."""
    run = _measured(tox_env)
    if run is None or of_type not in ("deps", "pylock"):
        return
    from packaging.requirements import Requirement

    env_name = tox_env.conf["env_name"]
    requirements = [Requirement(req) for req in run.session.requirements(env_name)]
    if requirements:
        tox_env.installer.install(requirements, "covcore", "requirements")


@impl
def tox_before_run_commands(tox_env: ToxEnv) -> None:
    """Start the session on the first measured environment (stale data is
    erased then, not earlier: a run that measures nothing keeps the last
    data), then set the environment's measuring variables."""
    run = _measured(tox_env)
    if run is None:
        return
    env_name = tox_env.conf["env_name"]
    with run.lock:
        if not run.begun:
            run.session.begin()
            run.begun = True
        variables = run.session.environment(env_name)
    tox_env.conf["set_env"].update(variables)


# -- the run as a whole ------------------------------------------------------


def _wrap(handler: Callable[[State], int]) -> Callable[[State], int]:
    def covcore_measured_run(state: State) -> int:
        global _ACTIVE
        if _ACTIVE is not None:  # a nested handler (legacy -> run-parallel): already measured
            return handler(state)
        try:
            session = _session_for(state)
        except Exception as exc:  # noqa: BLE001 - covcore's errors (bad config) and their causes
            from covcore.errors import EXIT_ERROR

            print(f"covcore: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if session is None:
            return handler(state)
        run = _ACTIVE = _Run(session)
        try:
            status = handler(state)
        finally:
            _ACTIVE = None
        if not run.begun:  # no measured environment ran its commands
            return status
        sys.stdout.flush()
        return session.finish(status)

    covcore_measured_run.covcore_wrapped = True  # type: ignore[attr-defined]
    covcore_measured_run.__wrapped__ = handler  # type: ignore[attr-defined]
    return covcore_measured_run


def _session_for(state: State) -> MeasuredSession | None:
    """The measured session of this tox run, or None when coverage is off.

    On: ``--cov``; else the ``[tox] cov`` key; else ``[tool.covcore.tox]
    enabled``; else whether the project has covcore configuration.
    ``--no-cov`` wins over all of them.

    :raises covcore.errors.ConfigError: a bad option or configuration.
    """
    from covcore.measure import MeasuredSession, parse_flag, parse_percentage, split_list

    options = state.conf.options
    if getattr(options, "no_cov", False):
        return None
    core = state.conf.core
    root = str(core["tox_root"])
    cli_source = getattr(options, "cov", None)
    overrides: dict[str, Any] = {}
    if cli_source:
        overrides["run:source"] = [s.strip() for s in cli_source.split(",") if s.strip()]
    cli_reports = getattr(options, "cov_report", None)
    reports = split_list(cli_reports) if cli_reports is not None else (split_list(core["cov_report"]) or None)
    fail_under = parse_percentage(getattr(options, "cov_fail_under", None), "--cov-fail-under")
    if fail_under is None:
        fail_under = parse_percentage(core["cov_fail_under"], "[tox] cov_fail_under")
    session = MeasuredSession("tox", root=root, options=overrides, reports=reports, fail_under=fail_under)
    if cli_source is not None:
        return session
    enabled = parse_flag(core["cov"], "[tox] cov")
    if enabled is None:
        enabled = parse_flag(session.adapter_options.get("enabled"), "[tool.covcore.tox] enabled")
    if enabled is None:
        enabled = session.config.covcore_config
    return session if enabled else None
