"""The run cache (covcore.importcache): covcore's start-up modules from one file."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import py_compile
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from covcore import importcache


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    """A package `cachepkg` (with a module `mod`) on sys.path, its .pyc files
    written (timestamp-checked) and imported once; forgotten afterwards."""
    root = tmp_path / "src"
    (root / "cachepkg").mkdir(parents=True)
    (root / "cachepkg" / "__init__.py").write_text("PKG = 'package'\n")
    (root / "cachepkg" / "mod.py").write_text(textwrap.dedent("""\
        from cachepkg import PKG

        def answer():
            return (PKG, 42)
    """))
    for name in ("__init__.py", "mod.py"):
        src = str(root / "cachepkg" / name)
        py_compile.compile(src, cfile=importlib.util.cache_from_source(src), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    importlib.invalidate_caches()
    importlib.import_module("cachepkg.mod")
    yield root / "cachepkg"
    for name in ("cachepkg", "cachepkg.mod"):
        sys.modules.pop(name, None)


def forget():
    for name in ("cachepkg.mod", "cachepkg"):
        sys.modules.pop(name, None)


def import_through(cache):
    """Import cachepkg.mod afresh through a finder for `cache`; (module, finder)."""
    forget()
    finder = importcache.RunCacheFinder(cache)
    sys.meta_path.insert(0, finder)
    try:
        mod = importlib.import_module("cachepkg.mod")
    finally:
        importcache.uninstall(finder)
    return mod, finder


def test_modules_come_from_the_cache_as_they_would_from_their_files(pkg, tmp_path):
    path = str(tmp_path / "run.bundle")
    assert importcache.write_cache(["cachepkg", "cachepkg.mod"], path) is True
    cache = importcache.read_cache(path)
    assert sorted(cache.entries) == ["cachepkg", "cachepkg.mod"]
    assert cache.entries["cachepkg.mod"][0] == str(pkg / "mod.py")
    mod, finder = import_through(cache)
    assert finder not in sys.meta_path
    assert cache.fd == -1   # closed with the finder
    assert finder.served == ["cachepkg", "cachepkg.mod"]   # the package first, as always
    assert type(mod.__spec__.loader).__name__ == "_CachedLoader"
    assert mod.answer() == ("package", 42)
    assert mod.__file__ == str(pkg / "mod.py")
    assert mod.__cached__ == importlib.util.cache_from_source(str(pkg / "mod.py"))
    package = sys.modules["cachepkg"]
    assert package.__path__ == [str(pkg)]
    assert package.mod is mod
    assert inspect.getsource(mod.answer) == "def answer():\n    return (PKG, 42)\n"


def test_a_changed_source_makes_the_whole_cache_unused(pkg, tmp_path):
    path = str(tmp_path / "run.bundle")
    importcache.write_cache(["cachepkg", "cachepkg.mod"], path)
    source = pkg / "mod.py"
    st = source.stat()
    os.utime(source, (st.st_atime, st.st_mtime + 10))        # same size, newer
    assert importcache.read_cache(path) is None
    os.utime(source, (st.st_atime, st.st_mtime))
    cache = importcache.read_cache(path)
    assert cache is not None
    cache.close()
    source.write_text(source.read_text() + "# more\n")      # another size
    os.utime(source, (st.st_atime, st.st_mtime))
    assert importcache.read_cache(path) is None
    source.unlink()
    assert importcache.read_cache(path) is None


@pytest.mark.parametrize("content", [b"", b"not marshal data", None, "format", "magic"])
def test_a_cache_that_is_not_ours_is_unused(tmp_path, content):
    import marshal

    path = tmp_path / "run.bundle"
    if content == "format":
        index = marshal.dumps((99, importcache.MAGIC_NUMBER, {}))
        content = len(index).to_bytes(4, "little") + index
    elif content == "magic":
        index = marshal.dumps((importcache._FORMAT, b"\0\0\r\n", {}))
        content = len(index).to_bytes(4, "little") + index
    if content is not None:
        path.write_bytes(content)
    assert importcache.read_cache(str(path)) is None


def test_only_timestamp_checked_pycs_that_match_go_in(pkg, tmp_path):
    mod_src = str(pkg / "mod.py")
    py_compile.compile(mod_src, cfile=importlib.util.cache_from_source(mod_src), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    path = str(tmp_path / "run.bundle")
    assert importcache.write_cache(["cachepkg", "cachepkg.mod", "no.such.module"], path) is True
    assert sorted(importcache.read_cache(path).entries) == ["cachepkg"]
    # A .pyc older than its source is left out as well.
    init_src = pkg / "__init__.py"
    st = init_src.stat()
    os.utime(init_src, (st.st_atime, st.st_mtime + 10))
    assert importcache.write_cache(["cachepkg", "cachepkg.mod"], path) is False


def test_nothing_is_written_without_bytecode_writing(pkg, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "run.bundle"
    assert importcache.write_cache(["cachepkg", "cachepkg.mod"], str(path)) is False
    assert not path.exists()


def test_an_unwritable_place_is_no_error(pkg, tmp_path):
    path = tmp_path / "no-such-dir" / "run.bundle"
    assert importcache.write_cache(["cachepkg", "cachepkg.mod"], str(path)) is False
    assert not path.parent.exists()


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.delenv("COVCORE_NO_RUN_CACHE", raising=False)
    path = importcache.cache_path()
    assert path == os.path.join(os.path.dirname(importcache.__file__), "__pycache__",
                                f"runpath.{sys.implementation.cache_tag}.bundle")
    monkeypatch.setenv("COVCORE_NO_RUN_CACHE", "1")
    assert importcache.cache_path() is None
    assert importcache.install() is None
    assert importcache.describe() == "-off- (COVCORE_NO_RUN_CACHE)"


DRIVER = """\
import sys
from covcore import cli, importcache
importcache.cache_path = lambda: {cache!r}
sys.exit(cli.main(["run", *{options!r}, "--source=.", "prog.py"]))
"""

PROG = """\
import gc, sys
print(type(sys.modules["covcore.session"].__spec__.loader).__name__)
print([f for f in sys.meta_path if type(f).__name__ == "RunCacheFinder"], gc.isenabled())
x = 1
if x:
    y = 2
"""


def test_covcore_run_writes_the_cache_then_uses_it(tmp_path):
    cache = str(tmp_path / "runpath.bundle")
    (tmp_path / "driver.py").write_text(DRIVER.format(cache=cache, options=[]))
    (tmp_path / "prog.py").write_text(PROG)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "COVCORE_NO_RUN_CACHE") and not k.startswith("COVCORE_PROCESS")}
    env["COVCORE_FILE"] = str(tmp_path / ".covcore")
    outputs = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        outputs.append(res.stdout)
        report = subprocess.run([sys.executable, "-m", "covcore", "report", "--show-missing"], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=120)
        outputs.append(report.stdout)
    # First run: the usual loader, and the cache written at the end; second
    # run: served from it, the finder gone once the program runs.  The data
    # is the same.
    # The collector, off while covcore starts, is on again for the program.
    assert outputs[0] == "SourceFileLoader\n[] True\n"
    assert outputs[2] == "_CachedLoader\n[] True\n"
    assert outputs[1] == outputs[3]
    assert "prog.py" in outputs[1] and "100%" in outputs[1]
    entries = importcache.read_cache(cache).entries
    assert "covcore.session" in entries and "covcore.cli" not in entries
    assert all(Path(origin).parent == Path(importcache.__file__).parent
               or Path(origin).parent.parent == Path(importcache.__file__).parent
               for origin, _, _ in entries.values())


def test_debug_sys_says_what_the_cache_holds(pkg, tmp_path, monkeypatch):
    monkeypatch.delenv("COVCORE_NO_RUN_CACHE", raising=False)
    path = str(tmp_path / "run.bundle")
    monkeypatch.setattr(importcache, "cache_path", lambda: path)
    assert importcache.describe() == f"{path} (not written yet: written by the next 'covcore run')"
    importcache.write_cache(["cachepkg", "cachepkg.mod"], path)
    assert importcache.describe() == f"{path} (2 modules)"
    Path(path).write_bytes(b"junk")
    assert importcache.describe() == f"{path} (stale or unreadable: written by the next 'covcore run')"
    from covcore import Coverage

    info = dict(Coverage(data_file=None).sys_info())
    assert info["run_cache"] == importcache.describe()


def test_a_debug_run_writes_no_cache(tmp_path):
    # --debug imports modules of its own before the program starts.
    cache = tmp_path / "runpath.bundle"
    (tmp_path / "driver.py").write_text(DRIVER.format(cache=str(cache), options=["--debug=sys"]))
    (tmp_path / "prog.py").write_text(PROG)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "COVCORE_NO_RUN_CACHE") and not k.startswith("COVCORE_PROCESS")}
    env["COVCORE_FILE"] = str(tmp_path / ".covcore")
    res = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "run_cache:" in res.stdout + res.stderr
    assert not cache.exists()


def test_modules_are_read_from_the_file_as_it_was_opened(pkg, tmp_path):
    # The file is replaced (another run writing it) after it was opened and
    # checked: the modules still come from the file that was checked.
    path = str(tmp_path / "run.bundle")
    importcache.write_cache(["cachepkg", "cachepkg.mod"], path)
    cache = importcache.read_cache(path)
    os.replace(path, path + ".old")
    Path(path).write_bytes(b"\0" * 100000)
    mod, _ = import_through(cache)
    assert mod.answer() == ("package", 42)
    assert type(mod.__spec__.loader).__name__ == "_CachedLoader"


def test_a_served_module_reloads_once_the_cache_is_closed(pkg, tmp_path):
    path = str(tmp_path / "run.bundle")
    importcache.write_cache(["cachepkg", "cachepkg.mod"], path)
    mod, finder = import_through(importcache.read_cache(path))
    assert finder.cache.fd == -1
    (pkg / "mod.py").write_text("def answer():\n    return 'reloaded'\n")
    assert importlib.reload(mod).answer() == "reloaded"


def test_a_run_that_fails_early_leaves_no_finder(pkg, tmp_path, monkeypatch, capsys):
    from covcore import cli

    path = str(tmp_path / "run.bundle")
    importcache.write_cache(["cachepkg", "cachepkg.mod"], path)
    monkeypatch.setattr(importcache, "cache_path", lambda: path)
    monkeypatch.delenv("COVCORE_NO_RUN_CACHE", raising=False)
    finders = []
    real_install = importcache.install
    monkeypatch.setattr(importcache, "install", lambda: finders.append(real_install()) or finders[-1])
    assert cli.main(["run", str(tmp_path / "no_such_program.py")]) == 1
    assert "No file to run" in capsys.readouterr().err
    assert finders and finders[0] is not None
    assert finders[0] not in sys.meta_path and finders[0].cache.fd == -1


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_as_it_was_once_the_program_runs(tmp_path, enabled):
    # In a process of its own: `covcore run` ends measuring as a process
    # that is about to exit does (its sys.monitoring tool id stays taken).
    prog = tmp_path / "prog.py"
    prog.write_text("import gc\nraise SystemExit(3 if gc.isenabled() else 4)\n")
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""\
        import gc, sys
        from covcore import cli
        {"gc.enable()" if enabled else "gc.disable()"}
        status = cli.main(["run", "--data-file", {str(tmp_path / ".covcore")!r}, {str(prog)!r}])
        print(status, gc.isenabled())
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVCORE_PROCESS")}
    env["COVCORE_NO_RUN_CACHE"] = "1"
    res = subprocess.run([sys.executable, str(driver)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ("3 True\n" if enabled else "4 False\n")
