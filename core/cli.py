"""The ``covcore`` command line: run, report, html, xml, json, lcov, annotate,
erase, debug, help.

Exit codes: 0 ok, 1 error (one line, no traceback), 2 fail-under.  The
measured program's own exit code becomes ``covcore run``'s.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from covcore.errors import EXIT_ERROR, EXIT_OK, CovcoreError, one_line

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Sequence

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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a CovcoreError (exit 1), never exit 2:
    2 means fail-under."""

    _for_help = False

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # Every add_argument() makes a formatter only to check the metavar;
        # asking for the terminal's width there imports shutil (2 ms of
        # every `covcore run`).  Help and usage text get the real width.
        if self._for_help:
            return super()._get_formatter()
        return self.formatter_class(prog=self.prog, width=80)

    def format_usage(self) -> str:
        self._for_help = True
        try:
            return super().format_usage()
        finally:
            self._for_help = False

    def format_help(self) -> str:
        self._for_help = True
        try:
            return super().format_help()
        finally:
            self._for_help = False


def _percent(text: str) -> float:
    """A ``--fail-under`` value: a number from 0 to 100.

    :raises argparse.ArgumentTypeError: (a usage error, exit 1) for anything
        else, before any report is written.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"invalid value {text!r} (expected a number from 0 to 100)")
    return value


def _precision(text: str) -> int:
    """A ``--precision`` value: an integer from 0 to 10 (as ``[report] precision``).

    :raises argparse.ArgumentTypeError: (a usage error, exit 1) for anything else.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"invalid value {text!r} (expected an integer from 0 to 10)")
    return value


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rcfile", metavar="RCFILE", help="Specify configuration file. By default '.covcorerc', setup.cfg, tox.ini and pyproject.toml are tried, then coverage.py's config. [env: COVCORE_RCFILE]")
    p.add_argument("--debug", metavar="OPTS", type=_csv, help="Debug options, separated by commas: config, sys, trace, dataio, process, pid, callers. Output goes to stderr or $COVCORE_DEBUG_FILE. [env: COVCORE_DEBUG]")
    p.add_argument("--data-file", metavar="DATAFILE", help="Base name of the data file. Defaults to '.covcore'. [env: COVCORE_FILE]")


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--include", metavar="PAT1,PAT2,...", type=_csv, help="Include only files whose paths match one of these patterns. Accepts shell-style wildcards, which must be quoted.")
    p.add_argument("--omit", metavar="PAT1,PAT2,...", type=_csv, help="Omit files whose paths match one of these patterns. Accepts shell-style wildcards, which must be quoted.")


def _add_reporting(p: argparse.ArgumentParser, *, fail_under: bool = True, quiet: bool = True,
                   contexts: bool = False) -> None:
    """The options every reporting command has."""
    if contexts:
        p.add_argument("--contexts", metavar="REGEX1,REGEX2,...", type=_csv, help="Only display data from lines covered in the given contexts. Accepts Python regexes, which must be quoted.")
    if fail_under:
        p.add_argument("--fail-under", metavar="MIN", type=_percent, help="Exit with a status of 2 if the total coverage is less than MIN (or a file is under its [report] fail_under_files threshold).")
    p.add_argument("-i", "--ignore-errors", action="store_true", default=None, help="Ignore errors while reading source files.")
    p.add_argument("--keep-combined", action="store_true", help="Keep parallel data files that reporting combines first (otherwise they are removed once combined).")
    if quiet:
        p.add_argument("-q", "--quiet", action="store_true", help="Don't print messages about what is happening.")
    _add_filters(p)
    _add_common(p)
    p.add_argument("modules", nargs="*", metavar="MODULES", help="Files or modules to report on (default: all measured).")


def build_parser(command: str | None = None) -> _Parser:
    """The command line's parser; with `command`, only that command's
    sub-parser is made (what ``covcore run`` pays for at every start)."""

    def wanted(name: str) -> bool:
        return command is None or command == name

    parser = _Parser(prog="covcore", description="covcore: code coverage for Python.", epilog=_EPILOG)
    parser.add_argument("--version", action="store_true", help="Display version information and exit.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    if wanted("run"):
        run = sub.add_parser("run", help=COMMANDS["run"], description=COMMANDS["run"], usage="covcore run [options] <pyfile> [program options]\n       covcore run [options] -m <module> [program options]")
        run.add_argument("-a", "--append", action="store_true", help="Append data to the data file. Otherwise it starts clean each time.")
        run.add_argument("--branch", action="store_true", default=None, help="Measure branch coverage in addition to statement coverage.")
        run.add_argument("--concurrency", metavar="LIBS", type=_csv, help="Properly measure code using a concurrency library: thread.")
        run.add_argument("--context", metavar="LABEL", help="The context label to record for this coverage run.")
        run.add_argument("-m", "--module", action="store_true", help="<pyfile> is an importable Python module, not a script path, to be run as 'python -m' would run it.")
        run.add_argument("-L", "--pylib", action="store_true", default=None, help="Measure coverage even inside the Python installed library, which isn't done by default.")
        run.add_argument("-p", "--parallel-mode", action="store_true", default=None, help="Append the machine name, process id and random number to the data file name to simplify collecting data from many processes.")
        run.add_argument("--source", metavar="SRC1,SRC2,...", type=_csv, help="A list of directories or importable names of code to measure.")
        run.add_argument("--timid", action="store_true", default=None, help="Use the slower Python trace function core.")
        _add_filters(run)
        _add_common(run)
        run.add_argument("program", nargs=argparse.REMAINDER, help="The program (or module) to run and its arguments.")

    if wanted("report"):
        rep = sub.add_parser("report", help=COMMANDS["report"], description=COMMANDS["report"])
        rep.add_argument("--contexts", metavar="REGEX1,REGEX2,...", type=_csv, help="Only display data from lines covered in the given contexts. Accepts Python regexes, which must be quoted.")
        rep.add_argument("--fail-under", metavar="MIN", type=_percent, help="Exit with a status of 2 if the total coverage is less than MIN (or a file is under its [report] fail_under_files threshold).")
        rep.add_argument("--format", metavar="FORMAT", choices=["text", "markdown", "total"], help="Output format, either text (default), markdown, or total.")
        rep.add_argument("-i", "--ignore-errors", action="store_true", default=None, help="Ignore errors while reading source files.")
        rep.add_argument("-m", "--show-missing", action="store_true", default=None, help="Show line numbers of statements in each module that weren't executed.")
        rep.add_argument("--precision", metavar="N", type=_precision, help="Number of digits after the decimal point to display for reported coverage percentages.")
        rep.add_argument("--skip-covered", action="store_true", default=None, help="Skip files with 100%% coverage.")
        rep.add_argument("--no-skip-covered", action="store_false", dest="skip_covered", help="Disable --skip-covered.")
        rep.add_argument("--skip-empty", action="store_true", default=None, help="Skip files with no code.")
        rep.add_argument("--sort", metavar="COLUMN", help="Sort the report by the named column: name, stmts, miss, or cover. Prefix with '-' for descending.")
        _add_filters(rep)
        _add_common(rep)
        rep.add_argument("modules", nargs="*", metavar="MODULES", help="Files or modules to report on (default: all measured).")

    if wanted("html"):
        htm = sub.add_parser("html", help=COMMANDS["html"], description=COMMANDS["html"] + " Each file gets its own page, with the source decorated to show executed, excluded, and missed lines.")
        htm.add_argument("-d", "--directory", metavar="DIR", help="Write the output files to DIR (default: [html] directory, htmlcov).")
        htm.add_argument("--precision", metavar="N", type=_precision, help="Number of digits after the decimal point to display for reported coverage percentages.")
        htm.add_argument("--show-contexts", action="store_true", default=None, help="Show contexts for covered lines.")
        htm.add_argument("--skip-covered", action="store_true", default=None, help="Skip files with 100%% coverage.")
        htm.add_argument("--no-skip-covered", action="store_false", dest="skip_covered", help="Disable --skip-covered.")
        htm.add_argument("--skip-empty", action="store_true", default=None, help="Skip files with no code.")
        htm.add_argument("--title", metavar="TITLE", help="A text string to use as the title on the HTML.")
        _add_reporting(htm, contexts=True)

    if wanted("xml"):
        xml = sub.add_parser("xml", help=COMMANDS["xml"], description=COMMANDS["xml"])
        xml.add_argument("-o", dest="outfile", metavar="OUTFILE", help="Write the XML report to this file, '-' for stdout (default: [xml] output, coverage.xml).")
        xml.add_argument("--skip-empty", action="store_true", default=None, help="Skip files with no code.")
        _add_reporting(xml)

    if wanted("json"):
        jsn = sub.add_parser("json", help=COMMANDS["json"], description=COMMANDS["json"])
        jsn.add_argument("-o", dest="outfile", metavar="OUTFILE", help="Write the JSON report to this file, '-' for stdout (default: [json] output, coverage.json).")
        jsn.add_argument("--pretty-print", action="store_true", default=None, help="Format the JSON for human readers.")
        jsn.add_argument("--show-contexts", action="store_true", default=None, help="Show contexts for covered lines.")
        _add_reporting(jsn, contexts=True)

    if wanted("lcov"):
        lcv = sub.add_parser("lcov", help=COMMANDS["lcov"], description=COMMANDS["lcov"])
        lcv.add_argument("-o", dest="outfile", metavar="OUTFILE", help="Write the LCOV report to this file, '-' for stdout (default: [lcov] output, coverage.lcov).")
        _add_reporting(lcv)

    if wanted("annotate"):
        ann = sub.add_parser("annotate", help=COMMANDS["annotate"], description=COMMANDS["annotate"] + " Each FILE is copied to FILE,cover with a margin: '>' executed, '!' missing, '-' excluded.")
        ann.add_argument("-d", "--directory", metavar="DIR", help="Write the output files to DIR (flattened names) instead of beside each source file.")
        _add_reporting(ann, fail_under=False, quiet=False)

    if wanted("combine"):
        com = sub.add_parser("combine", help=COMMANDS["combine"], description=COMMANDS["combine"] + " Data files named like the data file with a dotted suffix ('.covcore.*') in the data file's directory, or in the directories and files named, are merged into the data file, remapped through [paths] and from installed copies back to the source tree.")
        com.add_argument("-a", "--append", action="store_true", help="Append data to the data file. Otherwise it starts clean each time.")
        com.add_argument("--keep", action="store_true", help="Keep original data files, otherwise they are deleted.")
        com.add_argument("-q", "--quiet", action="store_true", help="Don't print messages about what is happening.")
        _add_common(com)
        com.add_argument("paths", nargs="*", metavar="PATH", help="Data files or directories to combine.")

    if wanted("erase"):
        era = sub.add_parser("erase", help=COMMANDS["erase"], description=COMMANDS["erase"])
        _add_common(era)

    if wanted("debug"):
        dbg = sub.add_parser("debug", help=COMMANDS["debug"], description=COMMANDS["debug"] + " TOPIC is one of: sys (installation and tracer backend), config (the configuration in force), data (what the data file holds), premain (where covcore was called from).")
        dbg.add_argument("topic", choices=["sys", "config", "data", "premain"], metavar="TOPIC", help="sys, config, data or premain.")
        _add_common(dbg)

    if wanted("help"):
        hlp = sub.add_parser("help", help=COMMANDS["help"], description=COMMANDS["help"])
        hlp.add_argument("topic", nargs="?", metavar="COMMAND")
    return parser


def _coverage(args: argparse.Namespace, **kwargs: Any) -> Any:
    from covcore.session import Coverage

    if args.data_file:
        kwargs["data_file"] = args.data_file
    return Coverage(config_file=args.rcfile or True, debug=args.debug, **kwargs)


def cmd_run(args: argparse.Namespace) -> int:
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
        cov.stop()
        sys.stdout.flush()
        try:
            cov.save()
        except CovcoreError as exc:
            # One line; a program that failed keeps its own exit code, else 1.
            print(f"covcore: {one_line(str(exc))}", file=sys.stderr)
            status = status or EXIT_ERROR
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return status


def _check_fail_under(cov: Any, total: float, args: argparse.Namespace) -> int:
    """The fail-under checks after a report: the total against ``--fail-under``
    (or ``[report] fail_under``) and each file against ``[report]
    fail_under_files``.  Prints one line per failure; 2 if any, else 0."""
    precision = getattr(args, "precision", None)
    if precision is not None:
        cov.config.precision = precision
    from covcore.plugins import configure

    pm = configure(cov.config)
    messages = pm.hook.covcore_check_thresholds(cov=cov, total=total, fail_under=args.fail_under) or []
    for message in messages:
        print(message)
    return int(pm.hook.covcore_exit_code(session=None, test_status=EXIT_OK, failures=messages))


def _report_args(args: argparse.Namespace) -> dict[str, Any]:
    return dict(morfs=args.modules or None, ignore_errors=args.ignore_errors, omit=args.omit, include=args.include)


def _reporting_coverage(args: argparse.Namespace, messages: bool | None = None) -> Any:
    """A Coverage with the data loaded, for a reporting command.

    As coverage.py 7.17 does, parallel data files lying beside the data file
    are combined into it first (and removed, unless ``--keep-combined``).
    """
    cov = _coverage(args, messages=not getattr(args, "quiet", False) if messages is None else messages)
    # Plugins and e.g. Django settings may import from the current directory, as coverage.py allows.
    if "" not in sys.path:
        sys.path.insert(0, "")
    cov.load()
    if cov.combine(strict=False, keep=bool(getattr(args, "keep_combined", False))):
        cov.save()
    return cov


def cmd_html(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args)
    total = cov.html_report(directory=args.directory, precision=args.precision, skip_covered=args.skip_covered,
                            skip_empty=args.skip_empty, show_contexts=args.show_contexts, title=args.title,
                            contexts=args.contexts, **_report_args(args))
    return _check_fail_under(cov, total, args)


def cmd_xml(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args)
    total = cov.xml_report(outfile=args.outfile, skip_empty=args.skip_empty, **_report_args(args))
    return _check_fail_under(cov, total, args)


def cmd_json(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args)
    total = cov.json_report(outfile=args.outfile, pretty_print=args.pretty_print, show_contexts=args.show_contexts,
                            contexts=args.contexts, **_report_args(args))
    return _check_fail_under(cov, total, args)


def cmd_lcov(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args)
    total = cov.lcov_report(outfile=args.outfile, **_report_args(args))
    return _check_fail_under(cov, total, args)


def cmd_annotate(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args)
    cov.annotate(directory=args.directory, **_report_args(args))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    cov = _reporting_coverage(args, messages=True)
    total = cov.report(
        morfs=args.modules or None,
        show_missing=args.show_missing,
        ignore_errors=args.ignore_errors,
        omit=args.omit,
        include=args.include,
        skip_covered=args.skip_covered,
        skip_empty=args.skip_empty,
        precision=args.precision,
        sort=args.sort,
        output_format=args.format,
        contexts=args.contexts,
    )
    return _check_fail_under(cov, total, args)


def cmd_combine(args: argparse.Namespace) -> int:
    cov = _coverage(args, messages=not args.quiet)
    if args.append:
        cov.load()
    cov.combine(data_paths=args.paths or None, strict=True, keep=args.keep)
    cov.save()
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    cov = _coverage(args)
    cov.erase()
    return EXIT_OK


def cmd_debug(args: argparse.Namespace) -> int:
    from covcore import debug

    cov = _coverage(args)
    print(debug.describe(args.topic, cov))
    return EXIT_OK


def _plugin_report_command(argv: list[str]) -> int | None:
    """``covcore NAME [-o OUTPUT] [--fail-under=MIN] [-q]`` for a reporter
    a plugin registered (:func:`covcore.hookspecs.covcore_register_reporters`);
    None when ``argv`` names no such reporter."""
    if not argv or argv[0] in COMMANDS or argv[0].startswith("-"):
        return None
    from covcore.reporting.registry import default_registry

    registry = default_registry()
    if argv[0] not in registry:
        return None
    spec = registry.get(argv[0])
    parser = _Parser(prog=f"covcore {spec.name}", description=f"{spec.description or spec.report_type} (a plugin's reporter)")
    where = "directory" if spec.output == "directory" else "file ('-' for stdout)"
    parser.add_argument("-o", dest="outfile", metavar="OUTPUT", help=f"Write the report to this {where}.")
    parser.add_argument("--fail-under", metavar="MIN", type=_percent, help="Exit with a status of 2 if the total coverage is less than MIN.")
    parser.add_argument("-q", "--quiet", action="store_true", help="Don't print messages about what is happening.")
    parser.add_argument("--keep-combined", action="store_true", help="Keep parallel data files that reporting combines first.")
    _add_common(parser)
    args = parser.parse_args(argv[1:])
    cov = _reporting_coverage(args)
    total = cov.run_report(spec.name, args.outfile)
    return _check_fail_under(cov, total or 0.0, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``covcore`` command; returns the exit code (0, 1 or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.argv and sys.argv[0] and os.path.exists(sys.argv[0]):
        from covcore.selection import never_measure

        never_measure(sys.argv[0])  # the console script is on the stack when `run` starts
    # A command's own parser is all it needs (help lists every command).
    command = argv[0] if argv and argv[0] in COMMANDS and argv[0] != "help" else None
    parser = build_parser(command)
    try:
        plugin_status = _plugin_report_command(argv)
        if plugin_status is not None:
            return plugin_status
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
            parser.print_help()
            return EXIT_OK
        if args.command == "help":
            if args.topic is None:
                parser.print_help()
            elif args.topic in COMMANDS and args.topic != "help":
                parser.parse_args([args.topic, "--help"])
            else:
                raise UsageError(f"Don't know topic {args.topic!r}")
            return EXIT_OK
        handler = {
            "run": cmd_run, "report": cmd_report, "html": cmd_html, "xml": cmd_xml, "json": cmd_json,
            "lcov": cmd_lcov, "annotate": cmd_annotate, "combine": cmd_combine, "erase": cmd_erase,
            "debug": cmd_debug,
        }[args.command]
        return handler(args)
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


def main_exit() -> None:
    sys.exit(main())
