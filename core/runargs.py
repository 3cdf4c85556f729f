"""``covcore run``'s command line, parsed without argparse.

Importing argparse costs about 9 ms (it imports ``re``, ``gettext`` and
``enum``), and building its parser 2 ms more: a quarter of what ``covcore run``
adds to a short program.  :func:`parse_run_args` reads the usual command lines
of ``run`` -- long options spelled out in full (``--opt=value`` or ``--opt
value``), the short flags one by one, then the program and its arguments --
into the same namespace argparse would make, and gives up (None) on anything
else: ``-h``, an abbreviation, ``-ap``, a value that starts with ``-``,
``--``, an unknown option.  Then :mod:`covcore.cli` lets argparse parse it,
with its help and its error messages.  ``tests/test_cli.py`` checks that
:data:`RUN_OPTIONS` says what the argparse sub-parser of ``run`` says, and
that both parse the same command lines to the same namespace.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Sequence

#: ``run``'s options: option string -> (dest, kind); kind is "true" (a flag:
#: True when given), "str" (takes a value) or "csv" (a value split at commas).
RUN_OPTIONS: dict[str, tuple[str, str]] = {
    "-a": ("append", "true"),
    "--append": ("append", "true"),
    "--branch": ("branch", "true"),
    "--concurrency": ("concurrency", "csv"),
    "--context": ("context", "str"),
    "-m": ("module", "true"),
    "--module": ("module", "true"),
    "-L": ("pylib", "true"),
    "--pylib": ("pylib", "true"),
    "-p": ("parallel_mode", "true"),
    "--parallel-mode": ("parallel_mode", "true"),
    "--source": ("source", "csv"),
    "--timid": ("timid", "true"),
    "--include": ("include", "csv"),
    "--omit": ("omit", "csv"),
    "--rcfile": ("rcfile", "str"),
    "--debug": ("debug", "csv"),
    "--data-file": ("data_file", "str"),
}

#: The namespace's values when an option is absent (argparse's defaults:
#: False for the flags declared without ``default=None``).
RUN_DEFAULTS: dict[str, Any] = {
    "version": False,
    "command": "run",
    "append": False,
    "branch": None,
    "concurrency": None,
    "context": None,
    "module": False,
    "pylib": None,
    "parallel_mode": None,
    "source": None,
    "timid": None,
    "include": None,
    "omit": None,
    "rcfile": None,
    "debug": None,
    "data_file": None,
    "program": [],
}


class RunArgs:
    """A plain namespace, as ``argparse.Namespace`` (attributes, ``vars()``, ``==``)."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other)

    def __repr__(self) -> str:
        return "RunArgs(%s)" % ", ".join(f"{k}={v!r}" for k, v in sorted(vars(self).items()))


def split_csv(text: str) -> list[str]:
    """A comma-separated option value as a list, blanks dropped (``"a, b,"`` -> ``["a", "b"]``)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_run_args(argv: Sequence[str]) -> RunArgs | None:
    """``covcore run``'s arguments (``argv`` without ``"run"``) as the
    namespace argparse would make, or None when argparse must parse them.

    :param argv: the arguments after ``run``, e.g. ``["--branch",
        "--source=src", "prog.py", "-x"]``.
    :returns: a :class:`RunArgs` with the attributes of :data:`RUN_DEFAULTS`;
        ``program`` is the program and its own arguments (everything from the
        first argument that is not an option on).  None for a command line this
        parser leaves to argparse (see the module docstring); it never raises.
    """
    values = dict(RUN_DEFAULTS)
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        if not arg.startswith("-") or arg == "-":
            values["program"] = list(argv[i:])
            return RunArgs(**values)
        name, eq, value = arg.partition("=")
        spec = RUN_OPTIONS.get(name)
        if spec is None or (eq and name[1] != "-"):
            return None
        dest, kind = spec
        if kind == "true":
            if eq:
                return None
            values[dest] = True
            i += 1
            continue
        if not eq:
            if i + 1 >= n:
                return None
            value = argv[i + 1]
            if value.startswith("-"):
                return None
            i += 2
        else:
            i += 1
        values[dest] = split_csv(value) if kind == "csv" else value
    return RunArgs(**values)
