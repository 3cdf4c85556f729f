"""Choosing covcore's tracer backend, and recording why.

Backends:

* ``sysmon``: :class:`covcore._tracer.SysMonTracer`, PEP 669 ``sys.monitoring``
  (Python 3.12+, compiled extension; lines, and arcs to be read with
  :func:`covcore.bytecode.resolve_arcs`).
* ``probe`` (Python 3.10 and 3.11): :class:`covcore._tracer.ProbeTracer`,
  measured code objects rewritten with self-removing probes as they are
  executed (:mod:`covcore.probes`; arc probes in branch mode:
  :mod:`covcore.probearcs`); nothing is traced, so the interpreter runs at
  full speed (3.11's adaptive interpreter keeps its specialisations).
* ``ctrace``: :class:`covcore._tracer.CTracer`, a C ``PyEval_SetTrace``
  function (compiled extension).
* ``python``: :class:`covcore.pytracer.PyTracer`, pure-Python ``sys.settrace``.

Rules of :func:`choose_backend`, in order: the ``COVCORE_CORE`` environment
variable forces a backend (an unusable choice is a :class:`ConfigError`);
``timid`` means ``python``; no extension means ``python``; Python 3.12+ means
``sysmon`` (lines or branches); Python 3.10 and 3.11 mean ``probe`` (lines or
branches); otherwise ``ctrace``.

One more rule is applied when measuring starts (:func:`running_measured_frame`):
probes only reach code executed (or called) after the start, so if a frame of
a measured file is already running, as when ``Coverage.start()`` is called in
the middle of a measured function, ``ctrace`` is used instead of ``probe``, so
that the rest of that function is measured as coverage.py would measure it.  The
same holds when measuring starts at interpreter start-up (``covcore.pth``)
before ``python prog.py`` runs a measured ``prog.py``: the interpreter runs it
without ``exec()`` (:func:`main_script_to_come`).  ``python -m`` programs and
scripts that are not measured keep the probes.
"""

from __future__ import annotations

import os
import sys

from covcore.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Callable, List, Optional

#: The environment variable that forces a backend.
ENV_VAR = "COVCORE_CORE"

_PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"

#: All backend names, fastest first.
BACKEND_NAMES = ("sysmon", "probe", "ctrace", "python")

_ext: Optional[ModuleType]
#: Why ``covcore._tracer`` could not be imported, or None if it was.
EXTENSION_ERROR: Optional[str]

try:
    from covcore import _tracer as _ext
except ImportError as exc:  # pragma: no cover - depends on the build
    _ext = None
    EXTENSION_ERROR = " ".join(f"{type(exc).__name__}: {exc}".split())
else:
    EXTENSION_ERROR = None

#: sys.monitoring exists (Python 3.12+).
HAS_SYSMON = hasattr(sys, "monitoring")
#: The probe backend can run (Python 3.10 or 3.11 and the compiled extension).
HAS_PROBES = bool(_ext is not None and getattr(_ext, "HAS_PROBES", False))


class Backend:
    """A chosen tracer backend: its `name` (str), `tracer_class` (type), and
    why it was chosen (`reason`, str).  Equal to another with the same three.

    (A plain class rather than a named tuple, a dataclass or a
    ``typing.NamedTuple``: this module is imported in every measured process,
    and each of those runs or imports code at import time.)
    """

    __slots__ = ("name", "tracer_class", "reason")

    def __init__(self, name: str, tracer_class: type, reason: str) -> None:
        self.name = name
        self.tracer_class = tracer_class
        self.reason = reason

    def _key(self) -> tuple[str, type, str]:
        return (self.name, self.tracer_class, self.reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Backend):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Backend(name={self.name!r}, tracer_class={self.tracer_class!r}, reason={self.reason!r})"


def tracer_class(name: str) -> type:
    """The tracer class of the backend called `name` (it must be available)."""
    if name == "python":
        # Imported only when asked for: with the compiled extension, a run
        # never needs it (dis, covcore.types: 2 ms of every start).
        from covcore.pytracer import PyTracer

        return PyTracer
    if name not in BACKEND_NAMES:
        raise ValueError(f"Unknown covcore backend: {name!r}")
    if _ext is None:
        raise ConfigError(f"The {name} backend needs covcore's compiled extension ({EXTENSION_ERROR})")
    if name == "sysmon" and not HAS_SYSMON:
        raise ConfigError("The sysmon backend needs Python 3.12 or later (sys.monitoring)")
    if name == "probe" and not HAS_PROBES:
        raise ConfigError("The probe backend needs Python 3.10 or 3.11")
    return {"sysmon": _ext.SysMonTracer, "probe": _ext.ProbeTracer}.get(name, _ext.CTracer)


def available_backends() -> List[str]:
    """The backends that can run on this Python, fastest first."""
    names = []
    if _ext is not None:
        if HAS_SYSMON:
            names.append("sysmon")
        if HAS_PROBES:
            names.append("probe")
        names.append("ctrace")
    names.append("python")
    return names


def _forced(value: str, branch: bool) -> Backend:
    name = value.strip().lower()
    if name not in BACKEND_NAMES:
        raise ConfigError(
            f"{ENV_VAR}={value!r} is not a covcore backend: use one of {', '.join(BACKEND_NAMES)}"
        )
    if name == "sysmon":
        if not HAS_SYSMON:
            raise ConfigError(
                f"{ENV_VAR}=sysmon needs Python 3.12 or later (sys.monitoring), "
                f"this is Python {sys.version_info[0]}.{sys.version_info[1]}"
            )
    if name != "python" and _ext is None:
        raise ConfigError(
            f"{ENV_VAR}={name} needs covcore's compiled extension, which could not be "
            f"imported ({EXTENSION_ERROR})"
        )
    if name == "probe":
        if not HAS_PROBES:
            raise ConfigError(
                f"{ENV_VAR}=probe needs Python 3.10 or 3.11, "
                f"this is Python {sys.version_info[0]}.{sys.version_info[1]}"
            )
    return Backend(name, tracer_class(name), f"forced by {ENV_VAR}={name}")


def choose_backend(timid: bool = False, branch: bool = False) -> Backend:
    """Choose the tracer backend for this run (see the module docstring)."""
    forced = os.environ.get(ENV_VAR, "")
    if forced.strip():
        return _forced(forced, branch)
    if timid:
        return Backend("python", tracer_class("python"), "timid: the pure-Python tracer was asked for")
    if _ext is None:
        return Backend(
            "python", tracer_class("python"), f"covcore's compiled extension is not available ({EXTENSION_ERROR})"
        )
    if HAS_SYSMON:
        return Backend("sysmon", _ext.SysMonTracer, "sys.monitoring is available (Python 3.12+)")
    if HAS_PROBES:
        what = "arc probes" if branch else "probes"
        return Backend(
            "probe", _ext.ProbeTracer,
            f"Python {sys.version_info[0]}.{sys.version_info[1]}: measured code gets self-removing {what}, "
            "nothing is traced",
        )
    return Backend("ctrace", _ext.CTracer, "sys.monitoring is not available before Python 3.12")


def running_measured_frame(should_trace: Callable[[str], "str | None"]) -> Optional[str]:
    """``"file:line"`` of the innermost running frame of the current thread
    whose file is measured (covcore's own frames left out), or None.

    :param should_trace: the selection policy, ``should_trace(co_filename)``.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(here + os.sep):
            try:
                measured = should_trace(filename) is not None
            except Exception:
                measured = False
            if measured:
                return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def main_script_to_come(should_trace: Callable[[str], "str | None"]) -> Optional[str]:
    """The measured script the interpreter will run as ``__main__`` once
    start-up is over (``python prog.py`` measured from ``covcore.pth``), or None."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__file__", None) is not None or not sys.argv or not sys.argv[0]:
        return None
    path = os.path.abspath(sys.argv[0])
    if not os.path.isfile(path):
        return None
    try:
        return path if should_trace(path) is not None else None
    except Exception:
        return None


def for_running_frames(backend: Backend, should_trace: Callable[[str], "str | None"]) -> Backend:
    """`backend`, or ``ctrace`` if it is ``probe`` (chosen or forced) and a
    frame of a measured file is running, or a measured main script is still
    to come (see the module docstring)."""
    if backend.name != "probe":
        return backend
    script = main_script_to_come(should_trace)
    if script is not None:
        return Backend(
            "ctrace", tracer_class("ctrace"),
            f"Python {_PYVER}: measuring started at interpreter start-up, and the interpreter itself will "
            f"run the measured main script {script} (not through exec(), where probes are added)",
        )
    where = running_measured_frame(should_trace)
    if where is None:
        return backend
    return Backend(
        "ctrace", tracer_class("ctrace"),
        f"Python {_PYVER}: measuring started inside measured code ({where}), which only the "
        "trace function can measure from its next line (probes reach code called after the start)",
    )
