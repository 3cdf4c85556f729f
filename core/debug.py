"""``covcore debug TOPIC``: what covcore knows about itself and its data;
and the output side of ``--debug=OPTIONS`` (:class:`DebugOutput`).

Debug options (``--debug``, ``[run] debug``, ``COVCORE_DEBUG``):

* ``config``: the configuration in force, when measuring or reporting starts;
* ``sys``: the installation and the tracer backend, when measuring starts;
* ``trace``: each decision to measure a file or not, with its reason;
* ``dataio``: each read and write of a data file, with its path and counts;
* ``process``: the process's start: pid, parent pid, executable, argv, cwd;
* ``pid``: prefix every debug line with the process id;
* ``callers``: after each debug message, the stack of the code that wrote it.

Debug output goes to stderr, or appended to the file named by
``COVCORE_DEBUG_FILE`` (else ``[run] debug_file``).
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
from typing import IO, Any, Iterable

#: Every --debug option covcore knows.
DEBUG_OPTIONS = ("callers", "config", "dataio", "pid", "process", "sys", "trace")


class DebugOutput:
    """Writes debug messages for a set of options.

    :param options: the debug options in force.
    :param filename: where to write (appended); None: ``$COVCORE_DEBUG_FILE``,
        else stderr.
    :param stream: a stream to write to instead of a file.
    """

    def __init__(self, options: Iterable[str], filename: str | None = None, stream: IO[str] | None = None) -> None:
        self.options = set(options)
        self._filename = os.environ.get("COVCORE_DEBUG_FILE") or filename
        self._stream = stream

    def should(self, option: str) -> bool:
        """Is debug option ``option`` on?"""
        return option in self.options

    def _out(self) -> IO[str]:
        if self._stream is None:
            if self._filename:
                self._stream = open(self._filename, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            else:
                return sys.stderr
        return self._stream

    def write(self, message: str) -> None:
        """Write one message (may span lines), decorated as the options say."""
        lines = message.splitlines() or [""]
        if "callers" in self.options:
            lines += [f"    {entry}" for entry in caller_stack()]
        if "pid" in self.options:
            prefix = f"{os.getpid():5d}.{threading.get_ident() & 0xFFFF:04x}: "
            lines = [prefix + line for line in lines]
        out = self._out()
        out.write("\n".join(lines) + "\n")
        out.flush()


def caller_stack(skip_internal: bool = True) -> list[str]:
    """The calling stack, outermost first, as ``file:line function`` strings,
    without the debug machinery's own frames."""
    here = os.path.abspath(__file__)
    entries = []
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        internal = os.path.abspath(code.co_filename) == here or code.co_name in ("_debug", "_debug_output")
        if not (skip_internal and internal):
            entries.append(f"{code.co_filename}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back  # type: ignore[assignment]
    return entries[::-1]


def process_info() -> str:
    """One line about this process, for ``--debug=process``."""
    return (
        f"New process: pid={os.getpid()}, ppid={os.getppid()}, executable={sys.executable!r}, "
        f"argv={sys.argv!r}, cwd={os.getcwd()!r}"
    )

from covcore.dataread import read_data_file


def _table(title: str, rows: list[tuple[str, Any]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    lines = [f"-- {title} " + "-" * max(0, 60 - len(title))]
    for key, value in rows:
        if key == "plugins" and isinstance(value, list) and value:
            # One plugin a line, as coverage.py lists its plugins.
            lines.append(f"{key:>{width}}: {value[0]}")
            lines.extend(f"{'':>{width}}  {item}" for item in value[1:])
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value)) or "-none-"
        lines.append(f"{key:>{width}}: {value}")
    return "\n".join(lines)


def describe(topic: str, cov: Any) -> str:
    """The text of ``covcore debug <topic>`` for a :class:`covcore.Coverage`.

    :param topic: ``sys``, ``config``, ``data`` or ``premain``.
    :raises DataError: (``data``) the data file is unreadable.
    """
    if topic == "sys":
        return _table("sys", cov.sys_info())
    if topic == "config":
        return _table("config", sorted(cov.config.as_dict().items()))
    if topic == "premain":
        stack = inspect.stack()[1:]
        return _table("premain", [(str(i), f"{f.filename}:{f.lineno} {f.function}") for i, f in enumerate(stack)])
    # data
    filename = cov.get_data().data_filename()
    if not os.path.exists(filename):
        return _table("data", [("path", filename), ("has_data", "no data file")])
    data = read_data_file(filename)
    files = sorted(data.measured_files())
    rows: list[tuple[str, Any]] = [
        ("path", filename),
        ("has_arcs", data.has_arcs()),
        ("files", len(files)),
        ("contexts", sorted(data.measured_contexts()) or ["(empty)"]),
    ]
    for key in sorted(data.meta):
        rows.append((f"meta.{key}", data.meta[key]))
    out = [_table("data", rows)]
    for f in files:
        n = len(data.lines(f) or [])
        out.append(f"{f}: {n} line{'s' if n != 1 else ''}" + (" [arcs]" if data.has_arcs() else ""))
    return "\n".join(out)
