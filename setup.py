"""Build covcore: the package lives in ``core/`` and the Cython tracer in
``core/_tracer.pyx``.

The extension is optional: if it cannot be compiled (no compiler, no Cython,
``COVCORE_NO_EXTENSION=1``), covcore installs without it and runs its
pure-Python tracer, saying so in ``covcore debug sys`` and with a warning.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Compile the tracer, but never fail the install because of it."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure is optional
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        sys.stderr.write(
            "WARNING: covcore's C tracer could not be built (%s); "
            "covcore will use its pure-Python tracer.\n" % (exc,)
        )


def extensions():
    if os.environ.get("COVCORE_NO_EXTENSION"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        sys.stderr.write("WARNING: Cython is not available; building covcore without its C tracer.\n")
        return []
    ext = Extension("covcore._tracer", ["core/_tracer.pyx"])
    return cythonize(
        [ext],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        quiet=True,
    )


major, minor = sys.version_info[:2]
setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
    entry_points={
        "console_scripts": [
            "covcore = covcore.cli:main",
            "covcore%d = covcore.cli:main" % major,
            "covcore-%d.%d = covcore.cli:main" % (major, minor),
        ],
    },
)
