"""The argparse parsers of the ``covcore`` command line (see :mod:`covcore.cli`).

A module of its own so that ``covcore run`` imports argparse only when
:func:`covcore.runargs.parse_run_args` can't read its command line.
"""

from __future__ import annotations

import argparse

from covcore.cli import _EPILOG, COMMANDS, UsageError
from covcore.runargs import split_csv

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any


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
    return split_csv(text)


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
