"""The ``covcore`` commands other than ``run``: report, html, xml, json,
lcov, annotate, combine, erase, debug, and reporters that plugins register.

Kept apart from :mod:`covcore.cli` (which parses the command line and runs
``covcore run``) because every measured process imports that one: these
are imported only when one of them is the command.  Exit codes as
:mod:`covcore.cli`: 0 ok, 1 error, 2 fail-under.
"""

from __future__ import annotations

import sys

from covcore.cli import COMMANDS, _coverage
from covcore.errors import EXIT_OK

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    import argparse
    from typing import Any


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
    from covcore.cliparser import _add_common, _Parser, _percent

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
