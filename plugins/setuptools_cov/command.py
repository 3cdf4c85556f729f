"""``python setup.py coverage``: run the project's tests under covcore and
report, the test-and-coverage command that setuptools no longer has (it
removed ``setup.py test`` in version 72).

Registered in setuptools' ``distutils.commands`` entry-point group
(``pip install covcore[setuptools]``), which setuptools still honours (84
included) with no deprecation warning.  Built only on covcore's public
surface: :class:`covcore.measure.MeasuredSession` and the hooks behind it.

What one run does:

1. Reads its options: the command line, else the ``[coverage]`` section of
   ``setup.cfg`` (setuptools gives every command the setup.cfg section named
   after it; keys are spelled with underscores: ``test_command``,
   ``fail_under``), else covcore's ``[tool.covcore.setuptools]`` /
   ``[covcore:setuptools]`` section, else covcore's own configuration
   (``[run] branch``, ``[run] source``, ``[report] fail_under``).
2. Erases stale data (``.covcore`` and ``.covcore-setuptools/`` of an
   earlier run), then runs the test command as a subprocess of this Python
   (``sys.executable``), in the project directory, with the variables that
   make every Python process it starts -- subprocesses too -- measure itself
   into a parallel data file, and with ``PYTHONPATH`` extended by the
   directory holding the project's packages (``src/`` for a src layout,
   else the project directory; from the distribution's ``package_dir``), so
   the packages are imported from the source tree with nothing built or
   installed.  No other setuptools command is run: nothing like ``build/``
   or ``*.egg-info`` is created.
3. Combines the data into ``.covcore``, prints the report and writes the
   others, applies fail-under.

Exit status (setuptools commands report failure through ``SystemExit``):
the test command's own status when it is non-zero (a command killed by
signal N gives 128+N); else 2 when the total is under ``--fail-under``
(the one line ``Coverage failure: total of 87 is less than fail-under=90``
on stdout); else 0.  1 with a one-line ``covcore: ...`` message on stderr
for a bad option or configuration, or a test command that can't be started.

``--parallel`` is ``[run] parallel`` for the whole run: each measured
process's data file is kept, beside the data file
(``.covcore.setuptools.<host>.<pid>.X<random>``), rather than combined;
earlier parallel files are not erased; no report is printed and fail-under
is not applied, since both are about the combined total: run several of
these (other Pythons, other machines), then ``covcore combine`` and
``covcore report --fail-under=N``.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from typing import Any

from setuptools import Command

#: The session's name: the config section ``[tool.covcore.setuptools]``, the
#: data directory ``.covcore-setuptools`` and the static context of the data.
NAME = "setuptools"

#: First words of ``--test-command`` that mean "this Python".
_PYTHON_WORDS = ("python", "python3", "python%d" % sys.version_info[0], "python%d.%d" % sys.version_info[:2])


class CoverageCommand(Command):
    """``python setup.py coverage [--test-command=CMD] [--branch]
    [--source=PKGS] [--fail-under=MIN] [--report=TYPES] [--parallel]``."""

    #: distutils names a command by its class unless told (in its messages
    #: about setup.cfg, for one).
    command_name = "coverage"
    description = "run the project's tests under covcore and report coverage"

    user_options = [
        ("test-command=", "t",
         "the command that runs the tests (split like a shell would; a first word 'python' means this "
         "Python) [default: 'python -m pytest' when pytest is importable, else "
         "'python -m unittest discover' (with '-s tests' when there is a tests/ directory)]"),
        ("branch", "b", "measure branch coverage too ([run] branch)"),
        ("source=", "s",
         "what to measure, comma-separated packages or directories ([run] source) "
         "[default: [run] source, else the project's own packages]"),
        ("fail-under=", None,
         "exit with 2 when the total coverage is below MIN percent (0-100) "
         "[default: [report] fail_under]"),
        ("report=", "r",
         "the reports to produce, comma-separated: term, term-missing[:skip-covered], markdown, "
         "xml[:FILE], html[:DIR], json[:FILE], lcov[:FILE], annotate[:DIR], a plugin's NAME[:OUT]; "
         "empty for none [default: term]"),
        ("parallel", "p",
         "keep each measured process's data file beside the data file for a later 'covcore combine' "
         "(earlier ones are kept too); no report, no fail-under"),
    ]
    boolean_options = ["branch", "parallel"]

    def initialize_options(self) -> None:
        self.test_command: str | None = None
        self.branch: Any = None
        self.source: str | None = None
        self.fail_under: Any = None
        self.report: str | None = None
        self.parallel: Any = None

    def finalize_options(self) -> None:
        pass  # validated in run(), together with covcore's own configuration

    # -- running -------------------------------------------------------------

    def run(self) -> None:
        """Measure the tests; raises ``SystemExit`` with the exit code when
        it is not 0 (see the module's docstring)."""
        from covcore.errors import EXIT_ERROR

        root = os.path.abspath(getattr(self.distribution, "src_root", None) or os.getcwd())
        try:
            session, argv, parallel = self._prepare(root)
        except Exception as exc:  # noqa: BLE001 - covcore's errors (bad config, bad option)
            sys.stdout.flush()
            print(f"covcore: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_ERROR) from None
        code = self._measure(session, argv, parallel, root)
        if code:
            raise SystemExit(code)

    def _prepare(self, root: str) -> tuple[Any, list[str], bool]:
        """The measured session and the test command's argv.

        :raises covcore.errors.ConfigError: a bad option or configuration.
        """
        from covcore.errors import ConfigError
        from covcore.measure import MeasuredSession, parse_flag, parse_percentage, split_list

        overrides: dict[str, Any] = {}
        branch = parse_flag(self.branch, "--branch")
        if branch is not None:
            overrides["run:branch"] = branch
        if self.source is not None and str(self.source).strip():
            overrides["run:source"] = split_list(self.source)
        reports = split_list(self.report) if self.report is not None else None
        fail_under = parse_percentage(self.fail_under, "--fail-under")
        session = MeasuredSession(NAME, root=root, options=overrides, reports=reports, fail_under=fail_under)

        # Fall back to [tool.covcore.setuptools] / [covcore:setuptools] (the
        # session itself reads ``report`` and ``fail_under`` from there).
        adapter = session.adapter_options
        where = "[setuptools]"  # [tool.covcore.setuptools] or [covcore:setuptools]
        if branch is None:
            configured = parse_flag(adapter.get("branch"), f"{where} branch")
            if configured is not None:
                session.cov.set_option("run:branch", configured)
        if "run:source" not in overrides and adapter.get("source"):
            session.cov.set_option("run:source", split_list(adapter["source"]))
        parallel = parse_flag(self.parallel, "--parallel")
        if parallel is None:
            parallel = parse_flag(adapter.get("parallel"), f"{where} parallel")
        command = self.test_command if self.test_command is not None else adapter.get("test_command")
        argv = self._test_argv(command, root)
        if not argv:
            raise ConfigError("--test-command: the command is empty")
        if os.sep not in argv[0] and shutil.which(argv[0]) is None:
            raise ConfigError(f"can't run the test command {argv[0]!r}: not found")
        return session, argv, bool(parallel)

    def _test_argv(self, command: Any, root: str) -> list[str]:
        if command is None or not str(command).strip():
            if importlib.util.find_spec("pytest") is not None:
                return [sys.executable, "-m", "pytest"]
            argv = [sys.executable, "-m", "unittest", "discover"]
            for tests in ("tests", "test"):
                if os.path.isdir(os.path.join(root, tests)):
                    return argv + ["-s", tests]
            return argv
        argv = list(command) if isinstance(command, (list, tuple)) else shlex.split(str(command))
        if argv and argv[0] in _PYTHON_WORDS:
            argv[0] = sys.executable
        return [str(a) for a in argv]

    def _import_dirs(self, root: str) -> list[str]:
        """The directories that make the project's packages importable from
        the source tree, from the distribution's ``package_dir``: its ``""``
        entry (``src`` for a src layout; the project directory when there is
        none), then the parent of each top-level package mapped to a
        directory of its own name (``{"calc": "lib/calc"}`` gives ``lib``).
        A package mapped to a directory of another name can't be imported
        without installing and is left to the test command."""
        package_dir = getattr(self.distribution, "package_dir", None) or {}
        dirs = [os.path.normpath(os.path.join(root, package_dir.get("", "")))]
        for name, path in package_dir.items():
            path = os.path.normpath(os.path.join(root, path))
            if name and "." not in name and os.path.basename(path) == name:
                dirs.append(os.path.dirname(path))
        return list(dict.fromkeys(dirs))

    def _measure(self, session: Any, argv: list[str], parallel: bool, root: str) -> int:
        from covcore.errors import EXIT_ERROR

        if parallel:
            # Keep what earlier --parallel runs left beside the data file:
            # only the data directory of a killed run is stale.
            shutil.rmtree(session.data_dir, ignore_errors=True)
            os.makedirs(session.data_dir, exist_ok=True)
            session.pm.hook.covcore_session_start(session=session)
        else:
            session.begin()
        env = dict(os.environ)
        env.update(session.environment(NAME))
        paths = self._import_dirs(root) + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        print("covcore: running " + " ".join(shlex.quote(a) for a in argv), flush=True)
        sys.stderr.flush()
        try:
            status = subprocess.run(argv, cwd=root, env=env).returncode
        except OSError as exc:  # a path that is not an executable
            print(f"covcore: can't run the test command {argv[0]!r}: {exc.strerror or exc}", file=sys.stderr)
            shutil.rmtree(session.data_dir, ignore_errors=True)
            return EXIT_ERROR
        if status < 0:  # killed by a signal
            status = 128 - status
        sys.stdout.flush()
        if parallel:
            return self._keep_parallel(session, status)
        return session.finish(status)

    def _keep_parallel(self, session: Any, status: int) -> int:
        """Move the run's data files beside the data file, uncombined."""
        target = os.path.dirname(session.config.data_file)
        kept = 0
        for entry in sorted(os.listdir(session.data_dir)):
            shutil.move(os.path.join(session.data_dir, entry), os.path.join(target, entry))
            kept += 1
        shutil.rmtree(session.data_dir, ignore_errors=True)
        where = os.path.relpath(session.config.data_file, session.root)
        print(f"covcore: kept {kept} parallel data file{'s' if kept != 1 else ''} beside {where} "
              "(combine them with 'covcore combine')")
        session.pm.hook.covcore_session_finish(session=session, exit_code=status, total=None)
        return status
