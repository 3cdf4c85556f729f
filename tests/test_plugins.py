"""The hook specs, the plugin manager, and a real third-party plugin."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from covcore import hookspecs, plugins
from covcore.data import CoverageData
from covcore.hookspecs import hookimpl
from covcore.measure import MeasuredSession
from covcore.session import Coverage

from cmdhelpers import clean_env, covcore, write

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def fresh_plugin_manager(monkeypatch):
    monkeypatch.delenv(plugins.ENV_DISABLED, raising=False)
    plugins.reset_plugin_manager()
    yield
    plugins.reset_plugin_manager()


def test_hookspecs_are_named_documented_and_keyword_only():
    specs = {name: fn for name, fn in vars(hookspecs).items() if name.startswith("covcore_")}
    assert sorted(specs) == [
        "covcore_addhooks", "covcore_check_thresholds", "covcore_configure", "covcore_data_combined",
        "covcore_env_requirements", "covcore_env_vars", "covcore_exit_code", "covcore_path_aliases",
        "covcore_register_reporters", "covcore_report", "covcore_session_finish", "covcore_session_start",
    ]
    for name, fn in specs.items():
        assert fn.__doc__ and len(fn.__doc__.split()) > 15, name
        opts = fn.covcore_spec
        assert isinstance(opts, dict)
    firstresult = {n for n, fn in specs.items() if fn.covcore_spec.get("firstresult")}
    historic = {n for n, fn in specs.items() if fn.covcore_spec.get("historic")}
    assert firstresult == {"covcore_report", "covcore_check_thresholds", "covcore_exit_code"}
    assert historic == {"covcore_addhooks", "covcore_configure"}


def test_builtin_plugins_are_registered_in_order():
    pm = plugins.get_plugin_manager()
    assert [name for name, _ in pm.list_name_plugin()][:3] == [
        "covcore.reporters", "covcore.environment", "covcore.thresholds",
    ]
    from covcore.reporting.registry import default_registry

    assert default_registry().names() == ["text", "html", "xml", "json", "lcov", "annotate"]


def test_disabled_plugins_are_blocked(monkeypatch, tmp_path):
    monkeypatch.setenv(plugins.ENV_DISABLED, "covcore.reporters, other")
    plugins.reset_plugin_manager()
    pm = plugins.get_plugin_manager()
    assert pm.is_blocked("covcore.reporters") and pm.is_blocked("other")
    assert "covcore.reporters (blocked)" in plugins.plugin_descriptions(pm)
    from covcore.errors import ConfigError
    from covcore.reporting.registry import default_registry

    assert default_registry().names() == []
    with pytest.raises(ConfigError, match="Unknown reporter 'html'"):
        default_registry().get("html")


class Recorder:
    """A plugin that records hook calls and changes combine and thresholds."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def covcore_configure(self, config):
        self.calls.append(("configure", config.branch))

    @hookimpl
    def covcore_path_aliases(self, config):
        return [("/elsewhere/proj/", os.getcwd() + os.sep)]

    @hookimpl
    def covcore_data_combined(self, data, session):
        self.calls.append(("combined", sorted(os.path.basename(f) for f in data.measured_files()), session))

    @hookimpl(tryfirst=True)
    def covcore_check_thresholds(self, cov, total, fail_under):
        return [f"Plugin failure: total {total:.0f}"] if total < 100 else []


def test_hooks_shape_combine_and_thresholds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mod.py", """\
        a = 1
        if a == 2:
            b = 3
        """)
    other = CoverageData(basename=str(tmp_path / ".covcore"), suffix="other")
    other.add_lines({"/elsewhere/proj/mod.py": {1, 2}})
    other.write()
    rec = Recorder()
    plugins.get_plugin_manager().register(rec, name="recorder")
    cov = Coverage(data_file=str(tmp_path / ".covcore"), branch=False)
    assert cov.combine() == 1
    assert rec.calls == [("configure", False), ("combined", ["mod.py"], None)]
    data = cov.get_data()
    assert data.measured_files() == {str(tmp_path / "mod.py")}
    assert data.lines(str(tmp_path / "mod.py")) == [1, 2]
    cov.save()
    # The CLI's fail-under goes through covcore_check_thresholds and covcore_exit_code.
    from covcore import cli

    assert cli.main(["report", "--data-file", str(tmp_path / ".covcore")]) == 2


def test_measured_session_environment_and_finish(tmp_path):
    write(tmp_path / "src" / "pkg" / "__init__.py", """\
        def f(x):
            if x:
                return 1
            return 2
        """)
    write(tmp_path / "pyproject.toml", """\
        [tool.covcore.tox]
        report = ["term-missing", "json"]
        fail_under = 80
        """)
    out_lines = []

    class Watcher:
        @hookimpl
        def covcore_env_vars(self, session, env_name):
            return {"EXTRA": env_name}

        @hookimpl
        def covcore_session_finish(self, session, exit_code, total):
            out_lines.append((exit_code, total.n_statements, total.n_missing))

    plugins.get_plugin_manager().register(Watcher(), name="watcher")
    import io
    import json

    buf = io.StringIO()
    session = MeasuredSession("tox", root=str(tmp_path), out=buf)
    assert session.reports == ["term-missing", "json"] and session.fail_under == 80
    session.begin()
    env = session.environment("py3.11")
    assert env["EXTRA"] == "py3.11"
    values = json.loads(env["COVCORE_PROCESS_CONFIG"])
    assert values["data_file"] == str(tmp_path / ".covcore-tox" / ".covcore.py3.11")
    assert values["parallel"] is True
    assert values["context"] == "py3.11"  # the environment's name, [run] context being unset
    assert values["source"] == [str(tmp_path / "src" / "pkg")] and values["source_pkgs"] == ["pkg"]
    run_env = clean_env(**env, PYTHONPATH=str(tmp_path / "src"))
    subprocess.run([sys.executable, "-c", "import pkg; pkg.f(1)"], cwd=tmp_path, env=run_env, check=True)
    assert len(list((tmp_path / ".covcore-tox").iterdir())) == 1
    assert session.finish(0) == 2
    assert buf.getvalue() == (
        "Name                  Stmts   Miss  Cover   Missing\n"
        "---------------------------------------------------\n"
        f"src{os.sep}pkg{os.sep}__init__.py       4      1    75%   4\n"
        "---------------------------------------------------\n"
        "TOTAL                     4      1    75%\n"
        "Coverage failure: total of 75 is less than fail-under=80\n"
    )
    assert json.loads((tmp_path / "coverage.json").read_text())["totals"]["percent_covered"] == 75.0
    assert out_lines == [(2, 4, 1)]
    assert not (tmp_path / ".covcore-tox").exists()
    # A failing test run keeps its own status.
    session.begin()
    assert not (tmp_path / ".covcore").exists()  # stale data erased
    subprocess.run([sys.executable, "-c", "import pkg; pkg.f(0); pkg.f(1)"], cwd=tmp_path, env=run_env, check=True)
    assert session.finish(3) == 3
    assert "TOTAL                     4      0   100%\n" in buf.getvalue()


def test_install_requirement(monkeypatch):
    from covcore.measure import install_requirement

    monkeypatch.setenv("COVCORE_INSTALL_REQUIREMENT", "covcore==9.9")
    assert install_requirement() == "covcore==9.9"
    monkeypatch.delenv("COVCORE_INSTALL_REQUIREMENT")
    req = install_requirement()
    assert req.startswith("covcore @ file://") or req.startswith("covcore==")


@pytest.mark.adapters
def test_third_party_plugin_installed_through_its_entry_point(tmp_path):
    """A real plugin package, pip-installed into a throwaway venv, adds a reporter."""
    from adapterhelpers import install_env, make_venv

    version = "%d.%d" % sys.version_info[:2]
    py = make_venv(tmp_path / "venv", version, ["covcore", str(HERE / "plugin_projects" / "covcore_demo_reporter")])
    bindir = py.parent
    proj = tmp_path / "proj"
    write(proj / "mod.py", """\
        def f(x):
            if x:
                return 1
            return 2
        f(1)
        """)
    env = install_env((version,))

    def run(*args, extra=None):
        e = dict(env, **(extra or {}))
        return subprocess.run([str(bindir / "covcore"), *args], cwd=proj, env=e, capture_output=True, text=True)

    assert run("run", "mod.py").returncode == 0
    r = run("demo", "-o", "demo.txt")
    assert (r.returncode, r.stdout, r.stderr) == (0, "Wrote demo report to demo.txt\n", "")
    assert (proj / "demo.txt").read_text() == (
        "mod.py: 5 statements, 1 missing, missing lines [4]\n"
        "branches: False\n"
    )
    r = run("demo", "-o", "-", "--fail-under", "90")
    assert r.returncode == 2
    assert r.stdout.endswith("Coverage failure: total of 80 is less than fail-under=90\n")
    r = run("debug", "sys")
    assert "plugins: covcore.reporters (covcore.builtin_plugins, built in)" in r.stdout
    assert "demo (covcore_demo_reporter, entry point of covcore-demo-reporter 1.0)" in r.stdout
    # Blocked: never imported, and its command is unknown.
    blocked = {"COVCORE_DISABLED_PLUGINS": "demo"}
    r = run("debug", "sys", extra=blocked)
    assert "demo (blocked)" in r.stdout and "covcore_demo_reporter" not in r.stdout
    r = run("demo", "-o", "demo2.txt", extra=blocked)
    assert r.returncode == 1 and r.stderr.startswith("covcore: argument COMMAND: invalid choice: 'demo'")
    # A measured session runs the plugin's reporter by name too.
    write(proj / "drive.py", """\
        import os, subprocess, sys
        from covcore.measure import MeasuredSession
        session = MeasuredSession("tox", reports=["demo:session.txt"])
        session.begin()
        subprocess.run([sys.executable, "mod.py"], env=dict(os.environ, **session.environment("e1")), check=True)
        sys.exit(session.finish(0))
        """)
    r = subprocess.run([str(py), "drive.py"], cwd=proj, env=env, capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (0, ""), r.stdout
    assert (proj / "session.txt").read_text() == (
        "mod.py: 5 statements, 1 missing, missing lines [4]\n"
        "branches: False\n"
    )


def test_adapter_option_parsers():
    from covcore.errors import ConfigError
    from covcore.measure import parse_flag, parse_percentage, split_list

    assert split_list("term-missing, xml:out/c.xml\nhtml") == ["term-missing", "xml:out/c.xml", "html"]
    assert split_list(["term", "xml,json", ""]) == ["term", "xml", "json"]
    assert split_list("") == [] and split_list(None) == []
    assert parse_percentage("87.5", "--x") == 87.5 and parse_percentage(90, "--x") == 90.0
    assert parse_percentage(" ", "--x") is None and parse_percentage(None, "--x") is None
    with pytest.raises(ConfigError, match=r"^--cov-fail-under: 'lots' is not a number$"):
        parse_percentage("lots", "--cov-fail-under")
    with pytest.raises(ConfigError, match=r"^\[tox\] cov_fail_under: '101' is not a percentage between 0 and 100$"):
        parse_percentage("101", "[tox] cov_fail_under")
    assert [parse_flag(v, "x") for v in (True, 0, 1, "Yes", "off", "", None)] == [True, False, True, True, False, None, None]
    with pytest.raises(ConfigError, match=r"^\[tox\] cov: 'maybe' is not true or false$"):
        parse_flag("maybe", "[tox] cov")
