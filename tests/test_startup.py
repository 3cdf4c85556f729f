"""What ``covcore run`` imports.

Every measured program pays for covcore's imports.  These modules each cost
a millisecond or more and a run with the compiled extension and no config
file has no use for them, so it must not import them (they are imported
where they are used: the pure-Python tracer, INI files, error messages,
reports, combining).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from cmdhelpers import clean_env, write

from covcore import backend

NOT_IMPORTED = [
    "argparse",
    "array",
    "ast",
    "configparser",
    "copy",
    "datetime",
    "covcore.clicommands",
    "covcore.dataread",
    "covcore.parser",
    "covcore.pytracer",
    "covcore.types",
    "enum",
    "gettext",
    "glob",
    "hashlib",
    "importlib",
    "importlib.util",
    "random",
    "re",
    "shutil",
    "signal",
    "tokenize",
    "tomllib",
    "typing",
    "weakref",
]
if sys.version_info < (3, 13):  # 3.13's threading imports it (sysconfig imports threading)
    NOT_IMPORTED.append("warnings")
if sys.version_info >= (3, 12):  # before, importlib.util imports it itself
    NOT_IMPORTED.append("contextlib")
if sys.version_info >= (3, 12):  # 3.11's probe backend reads bytecode with it
    NOT_IMPORTED.append("dis")

_SCRIPT = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write("MODULES " + " ".join(sorted(sys.modules)) + "\\n"))
from covcore.cli import main
sys.exit(main(sys.argv[1:]))
"""


_API_SCRIPT = """\
import sys
import covcore
cov = covcore.Coverage(data_file=".covcore")
cov.start()
import prog
cov.stop()
cov.save()
sys.stderr.write("MODULES " + " ".join(sorted(sys.modules)) + "\\n")
"""


@pytest.mark.skipif(backend.EXTENSION_ERROR is not None, reason="the compiled extension is needed")
def test_the_api_imports_nothing_run_does_not(tmp_path):
    """``covcore.Coverage`` (a lazy attribute of the package) measures and
    saves with no more imports than ``covcore run`` makes."""
    write(tmp_path / "prog.py", "print('hello')\n")
    env = clean_env()
    env.pop("COVCORE_CORE", None)
    proc = subprocess.run([sys.executable, "-c", _API_SCRIPT], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "hello\n"), proc.stderr
    modules = proc.stderr.rpartition("MODULES ")[2].split()
    assert "covcore.session" in modules
    plain = subprocess.run([sys.executable, "-c", "import sys; print(' '.join(sys.modules))"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert [name for name in NOT_IMPORTED if name in modules and name not in plain] == []


@pytest.mark.skipif(backend.EXTENSION_ERROR is not None, reason="the compiled extension is needed")
@pytest.mark.parametrize("branch", [[], ["--branch"]])
def test_run_imports_nothing_it_does_not_need(tmp_path, branch):
    write(tmp_path / "prog.py", "print('hello')\n")
    # Another tool's configuration: not even parsed.
    write(tmp_path / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    env = clean_env()
    env.pop("COVCORE_CORE", None)
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, "run", *branch, "prog.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "hello\n")
    modules = proc.stderr.rpartition("MODULES ")[2].split()
    assert "covcore.session" in modules
    # What the interpreter imports before covcore runs is not covcore's doing
    # (a development install's setuptools editable finder imports pathlib,
    # which imports glob and contextlib on 3.13).
    plain = subprocess.run([sys.executable, "-c", "import sys; print(' '.join(sys.modules))"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert [name for name in NOT_IMPORTED if name in modules and name not in plain] == []
    # sysconfig's build variables (_sysconfigdata_*): 7 M instructions to load and copy.
    assert [name for name in modules if name.startswith("_sysconfigdata") and name not in plain] == []


def test_scheme_site_dirs_are_sysconfigs():
    # covcore.selection expands the install schemes itself (faster): the same
    # directories as sysconfig.get_paths(scheme) gives.
    import sysconfig

    from covcore.selection import _scheme_site_dirs

    expected = set()
    for scheme in sysconfig.get_scheme_names():
        try:
            paths = sysconfig.get_paths(scheme)
        except (KeyError, ValueError):
            continue
        expected.update(paths[name] for name in ("purelib", "platlib") if paths.get(name))
    assert _scheme_site_dirs() == expected


def test_every_install_scheme_path_expands_as_sysconfigs():
    # _expand with _install_vars (no sysconfig.get_config_vars()) gives what
    # sysconfig.get_paths(scheme) gives, for every path of every scheme.
    import sysconfig

    from covcore.selection import _expand, _install_vars

    checked = 0
    for scheme in sysconfig.get_scheme_names():
        try:
            expected = sysconfig.get_paths(scheme)
        except (KeyError, ValueError):
            continue
        templates = sysconfig.get_paths(scheme, expand=False)
        assert {name: _expand(templates[name], _install_vars()) for name in expected} == expected, scheme
        checked += 1
    assert checked >= 3


def test_an_unknown_scheme_variable_falls_back_to_sysconfigs_variables():
    import os
    import sysconfig

    from covcore.selection import _expand

    template = "{LIBDEST}/{py_version_short}/x"
    expected = os.path.normpath(template.format(**sysconfig.get_config_vars()))
    assert _expand(template, {"py_version_short": "0.0"}) == expected
    assert _expand(template, None) == expected
    assert _expand("{no_such_variable}/x", {}) is None


def test_stdlib_dirs_hold_the_default_schemes_stdlib():
    import os
    import sysconfig

    from covcore.files import abs_file
    from covcore.selection import _stdlib_dirs

    paths = sysconfig.get_paths()
    dirs = _stdlib_dirs()
    assert {abs_file(paths["stdlib"]), abs_file(paths["platstdlib"]), abs_file(os.path.dirname(os.__file__))} <= dirs
