"""The ``covcore`` command line: run, report, html, xml, json, lcov, annotate,
erase, debug, help.

Exit codes: 0 ok, 1 error (one line, no traceback), 2 fail-under.  The
measured program's own exit code becomes ``covcore run``'s.  This module
parses the command line and runs ``covcore run``; the other commands are in
:mod:`covcore.clicommands`, imported only for them.
"""

from __future__ import annotations

import os
import sys

from covcore.errors import EXIT_ERROR, EXIT_OK, CovcoreError, one_line

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    import argparse
    from typing import Any, Sequence

    from covcore.importcache import Startup

COMMANDS = {
    "run": "Run a Python program and measure code execution.",
    "report": "Report coverage statistics on modules.",
    "html": "Create an HTML report of the coverage of the files.",
    "xml": "Create an XML report of coverage results (Cobertura).",
    "json": "Create a JSON report of coverage results (coverage.py's format).",
    "lcov": "Create an LCOV report of coverage results.",
    "annotate": "Annotate source files with execution information.",
    "combine": "Combine a number of data files.",
    "erase": "Erase previously collected coverage data.",
    "debug": "Display information about the internals of covcore.",
    "help": "Describe how to use covcore.",
}

_EPILOG = "Full documentation is in the README: the command set is coverage.py's."


class UsageError(CovcoreError):
    """The command line itself is wrong."""

    slug = "usage"


def _coverage(args: argparse.Namespace, **kwargs: Any) -> Any:
    from covcore.session import Coverage

    if args.data_file:
        kwargs["data_file"] = args.data_file
    return Coverage(config_file=args.rcfile or True, debug=args.debug, **kwargs)


def cmd_run(args: argparse.Namespace, startup: Startup | None = None) -> int:
    """``covcore run``.  `startup`: what main() set up for the run's start
    (:class:`covcore.importcache.Startup`), ended here before the program
    starts."""
    from covcore.execfile import ProgramRunner, strip_traceback

    cov = _coverage(
        args,
        branch=args.branch,
        cover_pylib=args.pylib,
        timid=args.timid,
        source=args.source,
        include=args.include,
        omit=args.omit,
        concurrency=args.concurrency,
        context=args.context,
        data_suffix=True if args.parallel_mode else None,
    )
    program = list(args.program)
    as_module = args.module
    if not program and cov.config.command_line:
        import shlex

        program = shlex.split(cov.config.command_line)
        if program and program[0] in ("-m", "--module"):
            as_module, program = True, program[1:]
    if not program:
        if as_module:
            raise UsageError("No module specified for -m")
        raise UsageError("Nothing to do: give a program to run ('covcore run PROGRAM' or 'covcore run -m MODULE')")
    if args.append and cov.config.parallel:
        raise UsageError("Can't append to data files in parallel mode.")
    runner = ProgramRunner(program, as_module=as_module)
    runner.prepare()
    if args.append:
        cov.load()
    status = EXIT_OK
    interrupted = False
    from covcore import process

    # Whatever the configuration, `covcore run` loses no data when the
    # program ends with os._exit() or is killed with SIGTERM.
    process.apply_patches(cov, ["_exit"], cov._warn)
    process.install_sigterm_handler()
    cov.start()
    process.freeze_startup_objects(cov)
    cache_names = None
    if startup is not None:
        from covcore import importcache

        startup.end()
        if startup.finder is None and not args.debug:
            # (--debug imports modules of its own: not what runs need.)
            cache_names = importcache.run_modules()  # written once the data is saved
    try:
        runner.run()
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            sys.stderr.write(f"{code}\n")
            status = 1
    except KeyboardInterrupt:
        interrupted = True
        cov.stop()
        typ, err, tb = sys.exc_info()
        assert err is not None
        err.__traceback__ = strip_traceback(tb)
        import traceback

        traceback.print_exception(typ, err, err.__traceback__)
        status = 130
    except BaseException:  # noqa: BLE001 - the program's own exception, shown as Python shows it
        cov.stop()
        typ, err, tb = sys.exc_info()
        assert err is not None
        err.__traceback__ = strip_traceback(tb)
        sys.excepthook(typ, err, err.__traceback__)  # type: ignore[arg-type]
        status = 1
    finally:
        cov._stop(at_exit=True)
        sys.stdout.flush()
        try:
            cov.save()
        except CovcoreError as exc:
            # One line; a program that failed keeps its own exit code, else 1.
            print(f"covcore: {one_line(str(exc))}", file=sys.stderr)
            status = status or EXIT_ERROR
    if cache_names:
        importcache.write_cache(cache_names)
    if interrupted:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``covcore`` command; returns the exit code (0, 1 or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    startup = None
    if argv and argv[0] == "run":
        from covcore.importcache import Startup

        startup = Startup()
    if sys.argv and sys.argv[0] and os.path.exists(sys.argv[0]):
        from covcore.selection import never_measure

        never_measure(sys.argv[0])  # the console script is on the stack when `run` starts
    # A command's own parser is all it needs (help lists every command); the
    # usual `covcore run` command lines need none (see covcore.runargs).
    command = argv[0] if argv and argv[0] in COMMANDS and argv[0] != "help" else None
    parser = None
    try:
        args = None
        if command == "run":
            from covcore.runargs import parse_run_args

            args = parse_run_args(argv[1:])
        if args is None:
            from covcore.clicommands import _plugin_report_command

            plugin_status = _plugin_report_command(argv)
            if plugin_status is not None:
                return plugin_status
            from covcore.cliparser import build_parser

            parser = build_parser(command)
            args, extras = parser.parse_known_args(argv)
            if extras:
                where = f"covcore {args.command}" if args.command else "covcore"
                raise UsageError(f"unrecognized arguments: {' '.join(extras)} (see '{where} --help')")
        if args.version:
            from covcore import __version__
            from covcore.backend import choose_backend

            try:
                how = f"with the {choose_backend().name} tracer"
            except CovcoreError as exc:
                how = f"({exc})"
            print(f"covcore, version {__version__} {how}")
            return EXIT_OK
        if args.command is None:
            assert parser is not None
            parser.print_help()
            return EXIT_OK
        if args.command == "help":
            assert parser is not None
            if args.topic is None:
                parser.print_help()
            elif args.topic in COMMANDS and args.topic != "help":
                parser.parse_args([args.topic, "--help"])
            else:
                raise UsageError(f"Don't know topic {args.topic!r}")
            return EXIT_OK
        if args.command == "run":
            return cmd_run(args, startup)
        from covcore import clicommands  # the other commands: not in every measured process

        return getattr(clicommands, f"cmd_{args.command}")(args)
    except CovcoreError as exc:
        sys.stdout.flush()
        print(f"covcore: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:
        # Output piped into e.g. `head`, which stopped reading: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    finally:
        if startup is not None:
            startup.end()  # done already, unless the run failed before its program started


def main_exit() -> None:
    sys.exit(main())
