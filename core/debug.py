"""``covcore debug TOPIC``: what covcore knows about itself and its data."""

from __future__ import annotations

import inspect
import os
from typing import Any

from covcore.data import read_data_file


def _table(title: str, rows: list[tuple[str, Any]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    lines = [f"-- {title} " + "-" * max(0, 60 - len(title))]
    for key, value in rows:
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
