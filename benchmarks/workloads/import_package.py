"""Import-heavy workload: import every module of a large pure-Python package.

Usage: import_package.py ROOT PACKAGE

ROOT is a directory holding PACKAGE, a dotted package name (the harness uses
``pip._internal`` from a pinned copy of pip unpacked from its wheel: 147 modules,
which import ~220 more from ``pip._vendor``: rich, requests, urllib3, packaging,
...). ROOT is put first on sys.path, then every module file under ROOT/PACKAGE is
imported, in sorted order. The coverage tools measure it with
--source=ROOT/PACKAGE (as a directory), as a project measures its own package
and not its dependencies: every module of PACKAGE costs the tool its per-file
set-up (deciding to trace the file, registering it, instrumenting or parsing
it), every other module the decision not to trace it, while very little code
runs more than once. This shows set-up cost, not per-line cost.

Modules that can't be imported here (Windows- or macOS-only ones, optional
dependencies that aren't installed) fail the same way every run and are
counted; ``__main__`` modules are skipped (they would run pip).
"""

import importlib
import os
import sys
import warnings


def module_names(root, package):
    names = []
    top = os.path.join(root, *package.split("."))
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__"
                             and os.path.exists(os.path.join(dirpath, d, "__init__.py")))
        rel = os.path.relpath(dirpath, root).replace(os.sep, ".")
        for fn in sorted(filenames):
            if not fn.endswith(".py") or fn == "__main__.py":
                continue
            names.append(rel if fn == "__init__.py" else rel + "." + fn[:-3])
    return names


def main():
    root, package = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.abspath(root))
    names = module_names(root, package)
    imported, failed = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - platform-specific modules
                failed.append("%s:%s" % (name, type(exc).__name__))
            else:
                imported += 1
    mod = sys.modules[package.split(".")[0]]
    assert os.path.dirname(mod.__file__).startswith(os.path.abspath(root)), mod.__file__
    print("RESULT import_package", package, "modules", len(names), "imported", imported,
          "failed", len(failed))


if __name__ == "__main__":
    main()
