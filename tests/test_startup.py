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
    "ast",
    "configparser",
    "covcore.parser",
    "covcore.pytracer",
    "covcore.types",
    "enum",
    "gettext",
    "glob",
    "hashlib",
    "random",
    "re",
    "shutil",
    "signal",
    "tokenize",
    "tomllib",
    "typing",
]
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
