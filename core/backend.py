"""Choosing covcore's tracer backend, and recording why.

Backends:

* ``sysmon``: :class:`covcore._tracer.SysMonTracer`, PEP 669 ``sys.monitoring``
  (Python 3.12+, compiled extension; lines, and arcs to be read with
  :func:`covcore.bytecode.resolve_arcs`).
* ``ctrace``: :class:`covcore._tracer.CTracer`, a C ``PyEval_SetTrace``
  function (compiled extension).
* ``python``: :class:`covcore.pytracer.PyTracer`, pure-Python ``sys.settrace``.

Rules of :func:`choose_backend`, in order: the ``COVCORE_CORE`` environment
variable forces a backend (an unusable choice is a :class:`ConfigError`);
``timid`` means ``python``; no extension means ``python``; Python 3.12+ means
``sysmon`` (lines or branches); otherwise ``ctrace``.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import List, NamedTuple, Optional

from covcore.errors import ConfigError
from covcore.pytracer import PyTracer

#: The environment variable that forces a backend.
ENV_VAR = "COVCORE_CORE"

#: All backend names, fastest first.
BACKEND_NAMES = ("sysmon", "ctrace", "python")

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


class Backend(NamedTuple):
    """A chosen tracer backend: its name, class, and why it was chosen.

    (A NamedTuple rather than a dataclass: this module is imported in every
    measured process, and ``dataclasses`` costs milliseconds to import.)
    """

    name: str
    tracer_class: type
    reason: str


def tracer_class(name: str) -> type:
    """The tracer class of the backend called `name` (it must be available)."""
    if name == "python":
        return PyTracer
    if name not in BACKEND_NAMES:
        raise ValueError(f"Unknown covcore backend: {name!r}")
    if _ext is None:
        raise ConfigError(f"The {name} backend needs covcore's compiled extension ({EXTENSION_ERROR})")
    if name == "sysmon" and not HAS_SYSMON:
        raise ConfigError("The sysmon backend needs Python 3.12 or later (sys.monitoring)")
    return _ext.SysMonTracer if name == "sysmon" else _ext.CTracer


def available_backends() -> List[str]:
    """The backends that can run on this Python, fastest first."""
    names = []
    if _ext is not None:
        if HAS_SYSMON:
            names.append("sysmon")
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
    return Backend(name, tracer_class(name), f"forced by {ENV_VAR}={name}")


def choose_backend(timid: bool = False, branch: bool = False) -> Backend:
    """Choose the tracer backend for this run (see the module docstring)."""
    forced = os.environ.get(ENV_VAR, "")
    if forced.strip():
        return _forced(forced, branch)
    if timid:
        return Backend("python", PyTracer, "timid: the pure-Python tracer was asked for")
    if _ext is None:
        return Backend(
            "python", PyTracer, f"covcore's compiled extension is not available ({EXTENSION_ERROR})"
        )
    if HAS_SYSMON:
        return Backend("sysmon", _ext.SysMonTracer, "sys.monitoring is available (Python 3.12+)")
    return Backend("ctrace", _ext.CTracer, "sys.monitoring is not available before Python 3.12")
