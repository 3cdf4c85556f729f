"""Build covcore: the package lives in ``core/`` and the Cython tracer in
``core/_tracer.pyx``.

The extension is optional: if it cannot be compiled (no compiler, no Cython,
``COVCORE_NO_EXTENSION=1``), covcore installs without it and runs its
pure-Python tracer, saying so in ``covcore debug sys`` and with a warning.
"""

import glob
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py


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


class BuildPyWithPth(build_py):
    """Also put ``covcore.pth`` at the top of site-packages: it starts
    measurement in processes whose environment asks for it
    (``COVCORE_PROCESS_START`` / ``COVCORE_PROCESS_CONFIG``) and costs two
    environment lookups otherwise."""

    def run(self):
        super().run()
        self.copy_file(os.path.join("core", "covcore.pth"), os.path.join(self.build_lib, "covcore.pth"),
                       preserve_mode=0)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, "covcore.pth")]


def extensions():
    if os.environ.get("COVCORE_NO_EXTENSION"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        sys.stderr.write("WARNING: Cython is not available; building covcore without its C tracer.\n")
        return []
    ext = Extension(
        "covcore._tracer",
        ["core/_tracer.pyx"],
        # The .pxi files _tracer.pyx includes (all of core/'s, as MANIFEST.in ships them).
        depends=sorted(glob.glob("core/*.pxi")),
    )
    return cythonize(
        [ext],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        quiet=True,
    )


major, minor = sys.version_info[:2]
setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithPth},
    entry_points={
        "console_scripts": [
            "covcore = covcore.cli:main",
            "covcore%d = covcore.cli:main" % major,
            "covcore-%d.%d = covcore.cli:main" % (major, minor),
        ],
        # The adapters: tox finds its plugins in the "tox" group; setuptools
        # its commands in "distutils.commands".  (nox has no plugin system:
        # noxfiles import covcore_nox.)
        "tox": ["covcore = covcore_tox.plugin"],
        "distutils.commands": ["coverage = covcore_setuptools.command:CoverageCommand"],
    },
)
