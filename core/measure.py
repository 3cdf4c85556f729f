"""Measured sessions: coverage of commands run in environments of their own
(tox environments, nox sessions, ``python setup.py coverage``).

An adapter drives one :class:`MeasuredSession` per run of its tool::

    session = MeasuredSession("tox", root=project_dir, reports=["term-missing", "xml"])
    session.begin()                               # erase stale data, fire covcore_session_start
    for env in environments:
        requirements = session.requirements(env)  # install these into the environment
        variables = session.environment(env)      # set these for the commands it runs
        ...                                       # the tool runs the commands
    exit_code = session.finish(test_status)       # combine, report, fail-under

Every Python process started with :meth:`MeasuredSession.environment`'s
variables (and covcore installed) is measured from interpreter start
(``covcore.pth``), subprocesses included, each into a parallel-mode data
file in :attr:`MeasuredSession.data_dir`.  :meth:`~MeasuredSession.finish`
combines those files into the project's data file, mapping installed copies
(``.tox/<env>/lib/python3.X/site-packages/pkg/...``) back to the source tree
with no ``[paths]`` configuration, prints the report and writes the others,
then applies fail-under.  It goes through the hooks of
:mod:`covcore.hookspecs` at each step, so plugins see and shape all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from typing import IO, Any, Iterable, Iterator, Mapping

from covcore.errors import EXIT_ERROR, ConfigError, CovcoreError

#: Overrides :func:`install_requirement` (a requirement string for pip).
ENV_REQUIREMENT = "COVCORE_INSTALL_REQUIREMENT"

#: Report names a measured session knows besides the registered reporters.
TERM_REPORTS = ("term", "term-missing", "markdown")


def install_requirement() -> str:
    """The pip requirement that installs, into another environment, the
    covcore that is running now: ``$COVCORE_INSTALL_REQUIREMENT`` if set;
    else the directory, VCS checkout or archive it was installed from
    (pip's ``direct_url.json``, PEP 610), so a development checkout works;
    else ``covcore==<version>`` from the package index.

    A binary wheel is only reused when it fits any Python (``py3-none-any``);
    otherwise the version pin is returned, with the wheel's directory being
    the place to point ``PIP_FIND_LINKS`` at.
    """
    given = os.environ.get(ENV_REQUIREMENT, "").strip()
    if given:
        return given
    from importlib import metadata

    from covcore import __version__

    try:
        dist = metadata.distribution("covcore")
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except (metadata.PackageNotFoundError, ValueError):
        direct = None
    if isinstance(direct, dict) and direct.get("url"):
        url = direct["url"]
        if "dir_info" in direct:
            return f"covcore @ {url}"
        if "vcs_info" in direct:
            vcs = direct["vcs_info"]
            return f"covcore @ {vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
        if "archive_info" in direct and not (url.endswith(".whl") and not url.endswith("-py3-none-any.whl")):
            return f"covcore @ {url}"
    return f"covcore=={__version__}"


def infer_source(root: str) -> tuple[list[str], list[str]]:
    """The project's own packages, for a session with no ``source`` set:
    ``(source directories, package names)``.

    The packages are the directories with an ``__init__.py`` directly in
    ``root/src`` (a src layout) or, without ``src``, in ``root`` (a flat
    layout; ``tests``, ``test``, ``docs`` and hidden directories left out).
    Both the checkout's directories and the package names are returned, so
    the package is measured wherever it is imported from (the checkout, or
    an installed copy, mapped back at combine).
    """
    base = os.path.join(root, "src") if os.path.isdir(os.path.join(root, "src")) else root
    dirs, names = [], []
    for entry in sorted(os.listdir(base)):
        path = os.path.join(base, entry)
        if entry.startswith((".", "_")) or entry in ("tests", "test", "docs", "build", "dist"):
            continue
        if os.path.isfile(os.path.join(path, "__init__.py")):
            dirs.append(path)
            names.append(entry)
    return dirs, names


class MeasuredSession:
    """One measured run of an adapter's tool (tox, nox, setuptools).

    :param name: the adapter's name (``"tox"``); also the config section read
        for its options (``[tool.covcore.NAME]``, ``[covcore:NAME]``) and the
        name of the data directory (``.covcore-NAME``).
    :param root: the project directory (str); config files are found there,
        relative paths resolved against it, and reports name files relative
        to it.
    :param config_file: as for :class:`covcore.Coverage`: True to search,
        False for none, or a path.
    :param options: ``{"section:option": value}`` overriding the configuration
        (e.g. ``{"run:branch": True}``).
    :param reports: the reports to produce at the end (pytest-cov's syntax:
        ``term``, ``term-missing``, ``term-missing:skip-covered``,
        ``markdown``, ``html[:DIR]``, ``xml[:FILE]``, ``json[:FILE]``,
        ``lcov[:FILE]``, ``annotate[:DIR]``, or a plugin reporter
        ``NAME[:OUTPUT]``); None: the adapter section's ``report`` option,
        else ``["term"]``; ``[]`` for none.
    :param fail_under: the minimum total percentage (0-100); None: the
        adapter section's ``fail_under``, else ``[report] fail_under``.
    :param out: where the report and messages are written (default stdout).
    :raises ConfigError: a bad configuration.
    """

    def __init__(
        self,
        name: str,
        *,
        root: str | None = None,
        config_file: str | bool = True,
        options: Mapping[str, Any] | None = None,
        reports: Iterable[str] | None = None,
        fail_under: float | None = None,
        out: IO[str] | None = None,
    ) -> None:
        self.name = name
        self.root = os.path.abspath(root or os.getcwd())
        self.out = out
        with self.in_root():
            from covcore.plugins import configure
            from covcore.session import Coverage

            if isinstance(config_file, str):
                config_file = os.path.abspath(config_file)
            self._config_file = config_file
            self.cov = Coverage(config_file=config_file, messages=True)
            for key, value in (options or {}).items():
                self.cov.set_option(key, value)
            self.config = self.cov.config
            self.config.data_file = os.path.abspath(self.config.data_file)
            self.adapter_options: dict[str, Any] = dict(self.config.get_plugin_options(name))
            self.pm = configure(self.config)
        #: Where measured processes write their parallel data files.
        self.data_dir = os.path.join(os.path.dirname(self.config.data_file), f".covcore-{name}")
        if reports is None:
            configured = self.adapter_options.get("report")
            reports = split_list(configured) if configured is not None else ["term"]
        self.reports = [r for r in reports if r]
        if fail_under is None:
            fail_under = parse_percentage(self.adapter_options.get("fail_under"), f"[{name}] fail_under")
        self.fail_under = fail_under
        #: The fail-under failure lines of :meth:`finish` (empty: none).
        self.failures: list[str] = []
        self.cov._measured_session = self  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def in_root(self) -> Iterator[None]:
        """Run a block with the project directory as the current directory."""
        old = os.getcwd()
        os.chdir(self.root)
        try:
            yield
        finally:
            os.chdir(old)

    def _print(self, text: str) -> None:
        print(text, file=self.out or sys.stdout)

    # -- before the environments run -------------------------------------

    def begin(self) -> None:
        """Start the session: erase stale data (the data directory and the
        combined data file of an earlier run), so nothing of it can leak
        into this run's total; then call ``covcore_session_start``."""
        if os.path.isdir(self.data_dir):
            shutil.rmtree(self.data_dir, ignore_errors=True)
        os.makedirs(self.data_dir, exist_ok=True)
        with self.in_root():
            self.cov.erase()
        self.pm.hook.covcore_session_start(session=self)

    def requirements(self, env_name: str) -> list[str]:
        """The pip requirements to install into environment ``env_name``
        (``covcore_env_requirements``: covcore itself, and plugins' additions)."""
        out: list[str] = []
        for reqs in reversed(self.pm.hook.covcore_env_requirements(session=self, env_name=env_name)):
            for req in reqs or []:
                if req not in out:
                    out.append(req)
        return out

    def environment(self, env_name: str) -> dict[str, str]:
        """The environment variables for the commands of ``env_name``
        (``covcore_env_vars``; later plugins override earlier ones)."""
        env: dict[str, str] = {}
        for part in reversed(self.pm.hook.covcore_env_vars(session=self, env_name=env_name)):
            env.update(part or {})
        return env

    def process_environment(self, env_name: str) -> dict[str, str]:
        """covcore's own variables for a measured environment:
        ``COVCORE_PROCESS_CONFIG`` carrying this configuration, with the data
        file in :attr:`data_dir` (named after the environment), parallel
        mode on, source directories made absolute, and the environment's
        name as the static context when ``[run] context`` is not set (so
        ``--show-contexts`` tells which environment ran each line)."""
        from covcore.process import ENV_CONFIG, serialize_config

        values = json.loads(serialize_config(self.config))
        base = os.path.basename(self.config.data_file)
        safe_env = "".join(c if c.isalnum() or c in "-_." else "_" for c in env_name) or "env"
        values["data_file"] = os.path.join(self.data_dir, f"{base}.{safe_env}")
        if not values.get("context"):
            values["context"] = env_name
        source = values.get("source")
        if source:
            values["source"] = [
                os.path.join(self.root, s) if os.path.exists(os.path.join(self.root, s)) else s for s in source
            ]
        elif not values.get("source_pkgs") and not values.get("run_include"):
            dirs, names = infer_source(self.root)
            if names:
                values["source"] = dirs
                values["source_pkgs"] = names
        return {ENV_CONFIG: json.dumps(values)}

    # -- after the environments ran --------------------------------------

    def finish(self, test_status: int = 0) -> int:
        """Combine, report and check thresholds; returns the exit code.

        The parallel data files of :attr:`data_dir` are combined into the
        data file (``[run] data_file``, default ``.covcore``) and removed;
        the reports of :attr:`reports` are produced; fail-under failures are
        printed one line each; ``covcore_exit_code`` decides the result: the
        test status when it is non-zero, else 2 under fail-under, else 0.
        A covcore error (unreadable config, a report that can't be written)
        is printed as one line and gives 1 (or the test status, if non-zero).

        :param test_status: the exit status of what was measured.
        """
        with self.in_root():
            try:
                return self._finish(test_status)
            except CovcoreError as exc:
                sys.stdout.flush()
                print(f"covcore: {exc}", file=sys.stderr)
                return test_status or EXIT_ERROR

    def _finish(self, test_status: int) -> int:
        cov = self.cov
        merged = cov.combine(data_paths=[self.data_dir], strict=False, keep=False) if os.path.isdir(self.data_dir) else 0
        with contextlib.suppress(OSError):
            os.rmdir(self.data_dir)
        if not merged:
            print(f"covcore: Warning: no data was collected in {self.name} (no measured process ran) (no-data-collected)",
                  file=sys.stderr)
            code = self.pm.hook.covcore_exit_code(session=self, test_status=test_status, failures=[])
            self.pm.hook.covcore_session_finish(session=self, exit_code=code, total=None)
            return int(code)
        cov.save()
        total: float | None = None
        for spec in self.reports:
            name, _, arg = spec.partition(":")
            result = self._run_report(name, arg or None)
            if total is None and result is not None:
                total = result
        if total is None:
            with open(os.devnull, "w") as devnull:
                total = cov.report(file=devnull)
        failures = self.pm.hook.covcore_check_thresholds(cov=cov, total=total, fail_under=self.fail_under) or []
        self.failures = list(failures)
        for line in failures:
            self._print(line)
        code = self.pm.hook.covcore_exit_code(session=self, test_status=test_status, failures=failures)
        numbers = _total_numbers(cov)
        self.pm.hook.covcore_session_finish(session=self, exit_code=code, total=numbers)
        return int(code)

    def _run_report(self, name: str, arg: str | None) -> float | None:
        if name in TERM_REPORTS:
            return self.cov.report(
                show_missing=True if name == "term-missing" else None,
                skip_covered=True if arg == "skip-covered" else None,
                output_format="markdown" if name == "markdown" else None,
                file=self.out,
            )
        result = self.pm.hook.covcore_report(cov=self.cov, name=name, outfile=arg)
        return None if result is None else float(result)


def split_list(value: Any) -> list[str]:
    """An option's list value: a string of comma- or newline-separated items,
    or a list (or other iterable) of such strings, as a list of the
    non-empty items, stripped.  ``None`` gives ``[]``."""
    if value is None:
        return []
    parts = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for part in parts:
        out.extend(item.strip() for item in str(part).replace("\n", ",").split(","))
    return [item for item in out if item]


def parse_percentage(value: Any, where: str) -> float | None:
    """An adapter's fail-under value (a number or a string) as a float.

    :param where: names the option in the error (``"--cov-fail-under"``).
    :returns: None when ``value`` is None or blank.
    :raises ConfigError: not a number, or outside 0-100.
    """
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    if not 0 <= number <= 100:
        raise ConfigError(f"{where}: {value!r} is not a percentage between 0 and 100")
    return number


def parse_flag(value: Any, where: str) -> bool | None:
    """An adapter's on/off value: a bool, an int (distutils' 0/1), or one of
    ``1 true yes on`` / ``0 false no off`` (any case).

    :param where: names the option in the error.
    :returns: None when ``value`` is None or blank.
    :raises ConfigError: anything else.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{where}: {value!r} is not true or false")


def _total_numbers(cov: Any) -> Any:
    from covcore.analysis import Numbers

    total = Numbers()
    for _, _, nums in cov._reported:
        total = total + nums
    return total
