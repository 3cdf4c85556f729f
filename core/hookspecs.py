"""covcore's extension surface: the pluggy hook specifications.

Every hook is named ``covcore_*`` and takes keyword arguments only.  Plugins
implement them with :data:`hookimpl`::

    from covcore.hookspecs import hookimpl
    from covcore.reporting.registry import ReporterSpec

    @hookimpl
    def covcore_register_reporters(registry):
        registry.register(ReporterSpec("sonar", "my_plugin:SonarReporter", "Sonar report",
                                       output_option=None))

and are found through the ``covcore`` entry-point group (see
:mod:`covcore.plugins`).  covcore's own parts -- the reporters, the
environment a measured process needs, the exit-code rule -- are registered
on these same hooks as built-in plugins (:mod:`covcore.builtin_plugins`), so
a third-party plugin can add to them or, with ``tryfirst`` and a
``firstresult`` hook, replace them.

Where the hooks fire:

* in any process that reports, combines or runs ``covcore debug sys``:
  :func:`covcore_addhooks`, :func:`covcore_configure`,
  :func:`covcore_register_reporters`, :func:`covcore_path_aliases`,
  :func:`covcore_report`, :func:`covcore_check_thresholds`;
* in the process that drives a *measured session* -- the tox, nox and
  setuptools adapters, through :class:`covcore.measure.MeasuredSession` --
  additionally :func:`covcore_session_start`, :func:`covcore_env_vars`,
  :func:`covcore_env_requirements`, :func:`covcore_data_combined`,
  :func:`covcore_exit_code` and :func:`covcore_session_finish`.

Measured processes themselves (``covcore run``'s program, subprocesses
started through ``covcore.pth``) load no plugins: measurement start-up stays
cheap, and what a measured process needs reaches it through the environment
built by :func:`covcore_env_vars`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from covcore.analysis import Numbers
    from covcore.config import CovcoreConfig
    from covcore.data import CoverageData
    from covcore.measure import MeasuredSession
    from covcore.reporting.registry import ReporterRegistry
    from covcore.session import Coverage

#: The project name of covcore's hooks (and its entry-point group).
PROJECT = "covcore"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorate a plugin's functions with this to implement covcore hooks.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def covcore_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Called once when a plugin is registered, so that it can add hook
    specifications of its own (``pluginmanager.add_hookspecs(module)``).

    :param pluginmanager: covcore's :class:`pluggy.PluginManager`.
    """


@hookspec(historic=True)
def covcore_configure(config: CovcoreConfig) -> None:
    """The configuration has been read (files, environment, arguments) in a
    process that reports or drives a measured session.  Plugins may read
    their options (``config.get_plugin_options(name)``, the
    ``[covcore:NAME]``/``[tool.covcore.NAME]`` section of a plugin named in
    ``[run] plugins``) and change options with ``config.set_option``.

    Historic: a plugin registered later is called with the latest
    configuration.

    :param config: the :class:`covcore.config.CovcoreConfig` in force.
    """


@hookspec
def covcore_register_reporters(registry: ReporterRegistry) -> None:
    """Add report formats, once per process, when the reporter registry is
    first used: call ``registry.register(ReporterSpec(...))``
    (:class:`covcore.reporting.registry.ReporterSpec`).  covcore's own
    ``text``, ``html``, ``xml``, ``json``, ``lcov`` and ``annotate`` are
    registered by this hook too.  A plugin's reporter is run by the command
    ``covcore NAME [-o OUTPUT]``, the adapters' ``--cov-report=NAME`` and
    :meth:`covcore.Coverage.run_report`.

    :param registry: the :class:`~covcore.reporting.registry.ReporterRegistry`.
    """


@hookspec
def covcore_session_start(session: MeasuredSession) -> None:
    """A measured session begins (before any measured environment runs);
    stale data of an earlier run has just been erased.

    :param session: the :class:`covcore.measure.MeasuredSession`; its
        ``name`` (``"tox"``, ``"nox"``, ``"setuptools"``), ``root``,
        ``config`` and ``data_dir`` are set.
    """


@hookspec
def covcore_env_vars(session: MeasuredSession, env_name: str) -> dict[str, str] | None:
    """The environment variables a measured environment needs so that every
    Python process started in it is measured into a parallel data file of
    its own.

    Every implementation's mapping is applied, covcore's built-in one first
    (it sets ``COVCORE_PROCESS_CONFIG``), so a plugin can add or override
    variables.

    :param session: the measured session.
    :param env_name: the environment's name (a tox env, a nox session);
        it becomes the data files' static context when ``[run] context`` is
        not set.
    :returns: ``{name: value}`` or None.
    """


@hookspec
def covcore_env_requirements(session: MeasuredSession, env_name: str) -> list[str] | None:
    """The pip requirements to install into a measured environment.

    covcore's built-in implementation returns covcore itself, from the same
    source as the running covcore (see :func:`covcore.measure.install_requirement`).

    :returns: a list of requirement strings, or None.
    """


@hookspec
def covcore_path_aliases(config: CovcoreConfig) -> list[tuple[str, str]] | None:
    """More path remapping rules for ``combine``, applied after ``[paths]``
    and before the installed-copy rule.

    :returns: ``[(pattern, result), ...]`` with ``[paths]`` semantics: a
        file whose path matches ``pattern`` (a glob prefix) is renamed
        under ``result``.
    """


@hookspec
def covcore_data_combined(data: CoverageData, session: MeasuredSession | None) -> None:
    """Data files were combined (``covcore combine``, a reporting command's
    automatic combine, or a measured session's end) and the result is about
    to be saved.  Plugins may inspect or add to ``data``.

    :param data: the combined :class:`covcore.data.CoverageData`.
    :param session: the measured session, or None for the CLI and API.
    """


@hookspec(firstresult=True)
def covcore_report(cov: Coverage, name: str, outfile: str | None) -> float | None:
    """Run the report named ``name`` (``"term"``, ``"term-missing"``,
    ``"xml"``, ``"html"``, a plugin's reporter...) for a measured session
    or :meth:`covcore.Coverage.run_report`.

    First result wins; covcore's built-in implementation runs any reporter
    in the registry.

    :param cov: the :class:`covcore.Coverage` holding the combined data.
    :param name: the report's name.
    :param outfile: the output file or directory (None: the configured one).
    :returns: the total percentage covered (0-100), or None when the name
        is not this implementation's.
    """


@hookspec(firstresult=True)
def covcore_check_thresholds(cov: Coverage, total: float, fail_under: float | None) -> list[str] | None:
    """The fail-under failures after a report: one ``Coverage failure: ...``
    line each.  First result wins; covcore's built-in implementation checks
    the total against ``fail_under`` (default ``[report] fail_under``) and
    each file against ``[report] fail_under_files``, with coverage.py's
    rounding rules.

    :param total: the reported total percentage, 0-100.
    :param fail_under: the threshold given on the command line, or None.
    :returns: the failure lines (empty: success).
    """


@hookspec(firstresult=True)
def covcore_exit_code(session: MeasuredSession | None, test_status: int, failures: list[str]) -> int | None:
    """The final exit code.  First result wins; covcore's built-in rule: the
    test command's own non-zero status stays; otherwise 2 if there are
    fail-under failures, else 0.

    :param session: the measured session, or None for the CLI.
    :param test_status: the exit status of what was measured (0: passed).
    :param failures: the lines :func:`covcore_check_thresholds` returned.
    """


@hookspec
def covcore_session_finish(session: MeasuredSession, exit_code: int, total: Numbers | None) -> None:
    """A measured session has ended: reports written, exit code decided.

    :param exit_code: the exit code the adapter will return.
    :param total: the combined :class:`covcore.analysis.Numbers`, or None
        when there was no data to report.
    """
