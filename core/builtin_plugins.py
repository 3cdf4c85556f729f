"""covcore's own parts, registered on its hooks exactly as a third-party
plugin's would be (:mod:`covcore.hookspecs`).

* ``covcore.reporters``: registers the built-in report formats (first, so a
  plugin replacing one passes ``replace=True``) and runs any registered
  reporter by name (last, so a plugin can take over a name first).
* ``covcore.environment``: what a measured environment needs: the
  ``COVCORE_PROCESS_CONFIG`` variable and covcore itself as a requirement.
* ``covcore.thresholds``: fail-under checks and the exit-code rule.

Each can be blocked by name with ``COVCORE_DISABLED_PLUGINS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covcore.hookspecs import hookimpl

if TYPE_CHECKING:
    from covcore.measure import MeasuredSession
    from covcore.reporting.registry import ReporterRegistry
    from covcore.session import Coverage


class Reporters:
    """The built-in reporters."""

    @hookimpl(tryfirst=True)
    def covcore_register_reporters(self, registry: ReporterRegistry) -> None:
        from covcore.reporting.registry import register_builtin_reporters

        register_builtin_reporters(registry)

    @hookimpl(trylast=True)
    def covcore_report(self, cov: Coverage, name: str, outfile: str | None) -> float | None:
        return cov.run_report(name, outfile)


class Environment:
    """A measured environment's variables and requirements."""

    @hookimpl(tryfirst=True)
    def covcore_env_vars(self, session: MeasuredSession, env_name: str) -> dict[str, str]:
        return session.process_environment(env_name)

    @hookimpl(tryfirst=True)
    def covcore_env_requirements(self, session: MeasuredSession, env_name: str) -> list[str]:
        from covcore.measure import install_requirement

        return [install_requirement()]


class Thresholds:
    """``fail_under``, ``fail_under_files`` and the exit code."""

    @hookimpl(trylast=True)
    def covcore_check_thresholds(self, cov: Coverage, total: float, fail_under: float | None) -> list[str]:
        return cov.fail_under_messages(total, fail_under)

    @hookimpl(trylast=True)
    def covcore_exit_code(self, session: Any, test_status: int, failures: list[str]) -> int:
        from covcore.errors import EXIT_FAIL_UNDER, EXIT_OK

        if test_status:
            return test_status
        return EXIT_FAIL_UNDER if failures else EXIT_OK


#: ``(name, plugin)`` of every built-in plugin, in registration order.
PLUGINS: list[tuple[str, Any]] = [
    ("covcore.reporters", Reporters()),
    ("covcore.environment", Environment()),
    ("covcore.thresholds", Thresholds()),
]
