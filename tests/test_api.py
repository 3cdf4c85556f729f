"""The Python API: covcore.Coverage, shaped like coverage.py's class."""

from __future__ import annotations

import importlib
import io
import os
import sys
import threading

import pytest

import covcore
from cmdhelpers import write

pytestmark = pytest.mark.backend

MOD = """\
def f(x):
    if x:
        return 1
    return 2


def g():  # pragma: no cover
    return 3


def h():
    return 4
"""


@pytest.fixture
def mod_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path / "apimod.py", MOD)
    yield tmp_path
    sys.modules.pop("apimod", None)


def _import_apimod():
    sys.modules.pop("apimod", None)
    return importlib.import_module("apimod")


def test_start_stop_analysis2_in_memory(mod_dir):
    cov = covcore.Coverage(data_file=None, source=["."])
    cov.start()
    mod = _import_apimod()
    mod.f(1)
    cov.stop()
    filename, statements, excluded, missing, formatted = cov.analysis2(mod)
    assert filename == os.path.realpath(str(mod_dir / "apimod.py"))
    assert statements == [1, 2, 3, 4, 11, 12]
    assert excluded == [7, 8]
    assert missing == [4, 12]
    assert formatted == "4, 12"
    assert not os.path.exists(mod_dir / ".covcore")


def test_report_returns_total_and_writes_table(mod_dir):
    cov = covcore.Coverage(data_file=None, include=["*apimod.py"])
    with cov:
        _import_apimod().f(0)
    out = io.StringIO()
    total = cov.report(file=out, show_missing=True)
    assert total == pytest.approx(100 * 4 / 6)
    assert out.getvalue() == (
        "Name        Stmts   Miss  Cover   Missing\n"
        "-----------------------------------------\n"
        "apimod.py       6      2    67%   3, 12\n"
        "-----------------------------------------\n"
        "TOTAL           6      2    67%\n"
    )


def test_save_load_erase(mod_dir):
    cov = covcore.Coverage(source=["."])
    cov.start()
    _import_apimod().h()
    cov.stop()
    cov.save()
    assert (mod_dir / ".covcore").exists()
    again = covcore.Coverage(source=["."])
    again.load()
    assert again.get_data().lines(os.path.realpath(str(mod_dir / "apimod.py"))) == [1, 7, 11, 12]
    again.erase()
    assert not (mod_dir / ".covcore").exists()


def test_exclude_api(mod_dir):
    cov = covcore.Coverage(data_file=None, source=["."])
    assert cov.get_exclude_list()[0].startswith("#\\s*(pragma|PRAGMA)")
    cov.exclude("return 4")
    with cov:
        _import_apimod().f(1)
    assert cov.analysis2("apimod.py")[2] == [7, 8, 12]
    cov.clear_exclude()
    assert cov.get_exclude_list() == []
    assert cov.analysis2("apimod.py")[1:4] == ([1, 2, 3, 4, 7, 8, 11, 12], [], [4, 8, 12])
    with pytest.raises(covcore.ConfigError, match="Unknown exclusion kind"):
        cov.exclude("x", which="bogus")


def test_start_mid_function_measures_rest(mod_dir):
    write(mod_dir / "midfunc.py", """\
        def run(cov):
            a = 1
            cov.start()
            b = 2
            c = 3
            cov.stop()
            d = 4
            return a + b + c + d
    """)
    sys.modules.pop("midfunc", None)
    mod = importlib.import_module("midfunc")
    cov = covcore.Coverage(data_file=None, source=["."])
    mod.run(cov)
    data = cov.get_data()
    assert data.lines(os.path.realpath(str(mod_dir / "midfunc.py"))) == [4, 5, 6]


def test_threads_started_after_start_are_measured(mod_dir):
    write(mod_dir / "thr_mod.py", "def work(n):\n    return n * 2\n")
    sys.modules.pop("thr_mod", None)
    cov = covcore.Coverage(data_file=None, source=["."])
    cov.start()
    mod = importlib.import_module("thr_mod")
    t = threading.Thread(target=mod.work, args=(2,))
    t.start()
    t.join()
    cov.stop()
    assert cov.get_data().lines(os.path.realpath(str(mod_dir / "thr_mod.py"))) == [1, 2]


def test_restart_after_stop(mod_dir):
    cov = covcore.Coverage(data_file=None, source=["."])
    with cov:
        mod = _import_apimod()
        mod.f(1)
    mod.h()  # not measured
    with cov:
        mod.f(0)
    assert cov.analysis2("apimod.py")[3] == [12]


def test_many_sessions_in_one_process(mod_dir):
    for _ in range(20):
        cov = covcore.Coverage(data_file=None, source=["."])
        with cov:
            _import_apimod().h()
        assert cov.analysis2("apimod.py")[3] == [2, 3, 4]


def test_sys_info_names_backend(mod_dir):
    cov = covcore.Coverage(data_file=None)
    info = dict(cov.sys_info())
    assert info["covcore_version"] == covcore.__version__
    assert info["tracer_backend"] in ("sysmon", "probe", "ctrace", "python")
    if os.environ.get("COVCORE_CORE"):
        assert info["tracer_backend"] == os.environ["COVCORE_CORE"]


def test_options_and_config_file(mod_dir):
    write(mod_dir / "pyproject.toml", "[tool.covcore.run]\nbranch = false\nomit = ['x.py']\n[tool.covcore.report]\nprecision = 2\n")
    cov = covcore.Coverage(data_file=None)
    assert cov.get_option("report:precision") == 2
    assert cov.config.config_file.endswith("pyproject.toml")
    cov.set_option("report:precision", 1)
    assert cov.get_option("report:precision") == 1


def test_report_without_data(mod_dir):
    cov = covcore.Coverage(data_file=None)
    with pytest.raises(covcore.NoDataError, match="No data to report."):
        cov.report(file=io.StringIO())


def test_unsupported_concurrency(mod_dir):
    with pytest.raises(covcore.ConfigError, match="Unsupported concurrency choice: 'twisted'"):
        covcore.Coverage(data_file=None, concurrency="twisted")


def test_switch_context_records_each_context(mod_dir):
    write(mod_dir / "ctxmod.py", """\
        def shared():
            return 1

        def only_b():
            return 2
    """)
    sys.modules.pop("ctxmod", None)
    cov = covcore.Coverage(data_file=None, source=["."], context="static")
    with pytest.raises(covcore.CovcoreError, match="not started"):
        cov.switch_context("a")
    cov.start()
    mod = importlib.import_module("ctxmod")
    cov.switch_context("test_a")
    mod.shared()
    cov.switch_context("test_b")
    mod.shared()
    mod.only_b()
    cov.stop()
    data = cov.get_data()
    path = os.path.realpath(str(mod_dir / "ctxmod.py"))
    assert data.measured_contexts() == {"static", "static|test_a", "static|test_b"}
    assert data.contexts_by_lineno(path) == {
        1: ["static"],
        2: ["static|test_a", "static|test_b"],
        4: ["static"],
        5: ["static|test_b"],
    }
