"""Dynamic contexts: ``[run] dynamic_context = test_function``.

While a test function runs (a function whose name starts with ``test``, or a
``runTest`` method), what is measured is recorded under the context named by
its qualified name (``module.Class.test_name``, as coverage.py names it); when
it returns, recording goes back to the static context.

On Python 3.12+ the detector is a second ``sys.monitoring`` tool: one
``PY_START`` per code object decides (and disables itself for everything that
isn't a test function), so the cost is one callback per test call and per
first call of every other function.  Before 3.12 it is a profile function
(``sys.setprofile``), which is called for every Python call.
"""

from __future__ import annotations

import inspect
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Callable

from covcore.errors import ConfigError, CovcoreError

TSwitch = Callable[["str | None"], None]


def is_test_code(code: CodeType) -> bool:
    """Does this code object belong to a test function (coverage.py's rule)?"""
    return code.co_name.startswith("test") or code.co_name == "runTest"


def qualname_from_frame(frame: FrameType) -> str | None:
    """A test's context label: ``module.Class.method`` or ``module.function``."""
    co = frame.f_code
    name = co.co_name
    method = None
    if co.co_argcount and co.co_varnames and co.co_varnames[0] == "self":
        self_obj = frame.f_locals.get("self")
        method = getattr(self_obj, name, None)
        if method is not None:
            func = getattr(method, "__func__", None)
            if func is None:
                cls = type(self_obj)
                return f"{cls.__module__}.{cls.__name__}.{name}"
            return f"{func.__module__}.{func.__qualname__}"
    func = frame.f_globals.get(name)
    if func is None:
        qualname = getattr(co, "co_qualname", name)
        if co.co_flags & inspect.CO_OPTIMIZED and "<locals>" not in qualname:
            return f"{frame.f_globals.get('__name__')}.{qualname}"
        return None
    return f"{getattr(func, '__module__', frame.f_globals.get('__name__'))}.{name}"


class _Detector:
    """Calls ``switch(label)`` when a test function starts and ``switch(None)`` when it ends."""

    def __init__(self, switch: TSwitch) -> None:
        self.switch = switch
        self.active: FrameType | None = None

    def _begin(self, frame: FrameType) -> bool:
        if self.active is not None:
            return False
        label = qualname_from_frame(frame)
        if label is None:
            return False
        self.active = frame
        self.switch(label)
        return True

    def _end(self, frame: FrameType) -> None:
        if frame is self.active:
            self.active = None
            self.switch(None)


class SysMonDetector(_Detector):
    """The ``sys.monitoring`` detector (Python 3.12+)."""

    def __init__(self, switch: TSwitch) -> None:
        super().__init__(switch)
        self.tool = -1
        self.mon: Any = sys.monitoring  # type: ignore[attr-defined]

    def start(self) -> None:
        mon = self.mon
        for tool in range(6):
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "covcore-contexts")
                self.tool = tool
                break
        else:
            raise CovcoreError("No free sys.monitoring tool id for dynamic contexts")
        ev = mon.events
        mon.register_callback(self.tool, ev.PY_START, self._py_start)
        mon.register_callback(self.tool, ev.PY_RETURN, self._py_return)
        mon.register_callback(self.tool, ev.PY_UNWIND, self._py_unwind)
        mon.set_events(self.tool, ev.PY_START)

    def stop(self) -> None:
        if self.tool < 0:
            return
        mon = self.mon
        mon.set_events(self.tool, 0)
        for event in (mon.events.PY_START, mon.events.PY_RETURN, mon.events.PY_UNWIND):
            mon.register_callback(self.tool, event, None)
        mon.free_tool_id(self.tool)
        self.tool = -1

    def _py_start(self, code: CodeType, offset: int) -> Any:
        if not is_test_code(code):
            return self.mon.DISABLE
        if self._begin(sys._getframe(1)):
            ev = self.mon.events
            self.mon.set_local_events(self.tool, code, ev.PY_RETURN)
            self.mon.set_events(self.tool, ev.PY_START | ev.PY_UNWIND)
        return None

    def _py_return(self, code: CodeType, offset: int, value: Any) -> Any:
        self._ended(sys._getframe(1))
        return None

    def _py_unwind(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        self._ended(sys._getframe(1))
        return None

    def _ended(self, frame: FrameType) -> None:
        if frame is self.active:
            self._end(frame)
            if self.tool >= 0:
                self.mon.set_events(self.tool, self.mon.events.PY_START)


class ProfileDetector(_Detector):
    """The ``sys.setprofile`` detector (before Python 3.12)."""

    def start(self) -> None:
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)

    def stop(self) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            if self.active is None and is_test_code(frame.f_code):
                self._begin(frame)
        elif event == "return" and frame is self.active:
            self._end(frame)


def make_detector(setting: str | None, switch: TSwitch) -> _Detector | None:
    """The detector for ``[run] dynamic_context``, or None when it is unset.

    :raises ConfigError: for a setting other than ``test_function``.
    """
    if not setting:
        return None
    if setting != "test_function":
        raise ConfigError(f"Don't understand dynamic_context setting: {setting!r} (covcore knows 'test_function')")
    if hasattr(sys, "monitoring"):
        return SysMonDetector(switch)
    return ProfileDetector(switch)
