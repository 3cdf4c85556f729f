"""Run a program the way ``python PROGRAM ARGS`` or ``python -m MODULE ARGS`` would.

``sys.argv``, ``sys.path[0]``, ``__main__`` and ``__file__`` are set as Python
sets them; an exception in the program propagates to the caller (the CLI
prints it as Python would, without covcore's frames).
"""

from __future__ import annotations

import os
import sys

# The import system's own SourceFileLoader (importlib.machinery re-exports
# it): plain python sets a script's __loader__ to one.  Importing importlib
# (and the warnings module it imports) would cost every `covcore run`.
from _frozen_importlib_external import SourceFileLoader

from covcore.errors import NoSource
from covcore.pysource import read_source

try:
    from covcore._tracer import compile_program as _compile_program
except ImportError:  # no compiled extension: the builtin does the same
    def _compile_program(source: str, filename: str) -> CodeType:
        return compile(source, filename, "exec", dont_inherit=True)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import CodeType
    from typing import Any


class ProgramRunner:
    """Prepares and runs one program.

    :param args: ``[PROGRAM, *ARGS]``, or ``[MODULE, *ARGS]`` with ``as_module``.
    :param as_module: run ``args[0]`` as ``python -m`` would.
    :raises NoSource: (from :meth:`prepare`) when the program or module doesn't exist.
    """

    def __init__(self, args: list[str], as_module: bool = False) -> None:
        self.args = list(args)
        self.as_module = as_module
        self.spec: ModuleSpec | None = None
        self.code: CodeType | None = None
        self.path0 = ""

    def prepare(self) -> None:
        """Find and compile the program, before measurement starts."""
        if self.as_module:
            self.path0 = os.getcwd()
            self._set_path0()
            name = self.args[0]
            spec = self._find_module(name)
            assert spec.loader is not None
            try:
                code = spec.loader.get_code(spec.name)  # type: ignore[attr-defined]
            except ImportError as exc:
                raise NoSource(f"No module named {name!r}: {exc}") from None
            if code is None:
                raise NoSource(f"No code object available for {name!r}")
            self.spec, self.code = spec, code
            self.args[0] = spec.origin or name
        else:
            path = self.args[0]
            if os.path.isdir(path):
                for main in ("__main__.py",):
                    candidate = os.path.join(path, main)
                    if os.path.exists(candidate):
                        self.path0 = os.path.abspath(path)
                        path = candidate
                        break
                else:
                    raise NoSource(f"Can't find '__main__' module in {self.args[0]!r}")
            else:
                self.path0 = os.path.dirname(os.path.abspath(path))
            filename = os.path.abspath(path)
            if not os.path.exists(filename):
                raise NoSource(f"No file to run: {self.args[0]!r}")
            source = read_source(filename)
            try:
                self.code = _compile_program(source, filename)
            except SyntaxError as exc:
                raise NoSource(f"Couldn't run {self.args[0]!r}: {exc.msg} (line {exc.lineno})") from None
            self.filename = filename
            self._set_path0()

    def _find_module(self, name: str) -> ModuleSpec:
        import importlib.util  # -m only

        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError) as exc:
            raise NoSource(f"No module named {name!r} ({exc})") from None
        if spec is None:
            raise NoSource(f"No module named {name!r}")
        if spec.submodule_search_locations is not None:
            main = name + ".__main__"
            try:
                spec = importlib.util.find_spec(main)
            except ImportError:
                spec = None
            if spec is None:
                raise NoSource(f"No module named {main!r}; {name!r} is a package and cannot be directly executed")
        if spec.loader is None:
            raise NoSource(f"No module named {name!r}")
        return spec

    def run(self) -> None:
        """Run the prepared program in a fresh ``__main__`` module."""
        assert self.code is not None
        main = type(sys)("__main__")
        main.__dict__["__builtins__"] = sys.modules["builtins"]
        if self.spec is not None:
            main.__file__ = self.spec.origin  # type: ignore[assignment]
            main.__spec__ = self.spec
            main.__loader__ = self.spec.loader
            main.__package__ = self.spec.parent
            main.__cached__ = getattr(self.spec, "cached", None)  # type: ignore[attr-defined]
        else:
            main.__file__ = self.filename
            main.__spec__ = None
            main.__package__ = None
            main.__loader__ = SourceFileLoader("__main__", self.filename)
            main.__cached__ = None  # type: ignore[attr-defined]
        sys.modules["__main__"] = main
        sys.argv = self.args
        exec(self.code, main.__dict__)

    def _set_path0(self) -> None:
        # Python puts the script's directory (or, for -m, the current
        # directory) first on sys.path, in place of covcore's own.
        if sys.path:
            sys.path[0] = self.path0
        else:
            sys.path.insert(0, self.path0)


def strip_traceback(tb: Any) -> Any:
    """Drop covcore's own frames from the top of a traceback, so that an
    exception in the measured program is shown as Python would show it."""
    ours = os.path.dirname(__file__) + os.sep
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(ours):
        tb = tb.tb_next
    return tb
