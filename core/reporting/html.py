"""The HTML report: ``covcore html``.

Writes, into one directory (default ``htmlcov``):

* ``index.html``: every reported file with its statements, missing,
  excluded, (branches, partial) and coverage; columns sort on click, a
  filter box and a "hide covered" toggle hide rows (the totals follow);
* one page per file: its source, highlighted with a small tokenizer-based
  highlighter (no third-party code), each line marked executed, missing,
  excluded or partial (with the missing branches explained); the counts at
  the top toggle each highlighting; keyboard shortcuts (``?`` lists them);
  with ``show_contexts``, the contexts that ran each line;
* ``covcore.css``, ``covcore.js`` (and the ``extra_css`` file, copied), so
  the report works from ``file://`` with no network;
* ``status.json``: a hash per page.  Regenerating into the same directory
  rewrites only the pages whose source, data or settings changed.

Every piece of source text, file name, context name and title is
HTML-escaped; nothing from the measured code is put in a script.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import html
import json
import os
import re
import tokenize
import urllib.parse
from typing import Any, Callable, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.reporting.filenames import page_name, unique_names
from covcore.reporting.htmlsource import source_token_lines
from covcore.reporting.output import ensure_dir, remove_file, write_file

STATIC_DIR = os.path.join(os.path.dirname(__file__), "htmlfiles")
STATIC_FILES = ("covcore.css", "covcore.js")
STATUS_FILE = "status.json"
STATUS_FORMAT = 1
#: Bumped whenever the page layout changes, so old pages are regenerated.
LAYOUT_VERSION = "1"


_SURROGATES = re.compile("[\ud800-\udfff]")


def escape(text: str) -> str:
    """HTML-escape ``text`` (str) for element content and quoted attribute
    values.  A lone surrogate (a file name or context that isn't valid
    UTF-8, decoded with ``surrogateescape``) becomes U+FFFD, so the page can
    always be written as UTF-8."""
    if not text.isascii():
        text = _SURROGATES.sub("\ufffd", text)
    return html.escape(text, quote=True)


def _plural(n: int, thing: str, things: str = "") -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {things or thing + 's'}"


# -- data for the pages ------------------------------------------------------------


@dataclasses.dataclass
class LineData:
    number: int
    tokens: list[tuple[str, str]]
    category: str  # run, mis, exc, par; run2, mis2, exc2, par2 for continuation lines; "" otherwise
    short_annotations: list[str]
    long_annotations: list[str]
    contexts: list[str]


@dataclasses.dataclass
class IndexEntry:
    name: str
    url: str
    nums: Numbers


_CATEGORY_CLASSES = {
    "run": "run", "mis": "mis", "exc": "exc", "par": "par",
    "run2": "run run2", "mis2": "mis mis2", "exc2": "exc exc2", "par2": "par par2",
}

KEYS_PYFILE = [
    ("r m x p", "toggle highlighting of run, missing, excluded, partial lines"),
    ("j k", "next / previous highlighted chunk (missing or partial lines)"),
    ("1", "first highlighted chunk"),
    ("0", "top of the page"),
    ("[ ]", "previous / next file"),
    ("u", "up to the index"),
    ("?", "show / hide this help"),
]
KEYS_INDEX = [
    ("/", "focus the filter box"),
    ("n s m x b p c", "sort by name, statements, missing, excluded, branches, partial, coverage"),
    ("[ ]", "last / first file"),
    ("?", "show / hide this help"),
]

_KEYBOARD_SVG = (
    '<svg viewBox="0 0 24 16" width="24" height="16" aria-hidden="true" focusable="false">'
    '<rect x="0.5" y="0.5" width="23" height="15" rx="2" fill="none" stroke="currentColor"/>'
    '<path d="M3 4h2v2H3zM7 4h2v2H7zM11 4h2v2h-2zM15 4h2v2h-2zM19 4h2v2h-2zM3 8h2v2H3zM7 8h2v2H7z'
    'M11 8h2v2h-2zM15 8h2v2h-2zM19 8h2v2h-2zM6 12h12v1.5H6z" fill="currentColor"/></svg>'
)


class HtmlReporter:
    """Writes the HTML report into ``directory``.

    :param directory: ``[html] directory``.
    :param title: ``[html] title``.
    :param extra_css: a CSS file to copy into the report and link from every page.
    :param skip_covered: leave fully covered files out.
    :param skip_empty: leave files without statements out.
    :param show_contexts: show the contexts that ran each line.
    :param precision: decimals in percentages.
    :param branches: the data has branch measurements.
    :param contexts_by_lineno: ``f(filename) -> {line: [context, ...]}``.
    :param measured_contexts: every context in the data (to warn when
        ``show_contexts`` has nothing to show).
    :param read_source: ``f(filename) -> text`` (default: read the file).
    :param warn: ``warn(message, slug)``.
    :param version, timestamp: shown in page footers (defaults: covcore's, now).

    After :meth:`report`, ``pages_written`` and ``pages_skipped`` list the
    page names written and reused, and ``index_file`` is the index's path.
    """

    report_type = "HTML report"

    def __init__(
        self,
        *,
        directory: str = "htmlcov",
        title: str = "Coverage report",
        extra_css: str | None = None,
        skip_covered: bool = False,
        skip_empty: bool = False,
        show_contexts: bool = False,
        precision: int = 0,
        branches: bool = False,
        contexts_by_lineno: Callable[[str], dict[int, list[str]]] | None = None,
        measured_contexts: Iterable[str] | None = None,
        read_source: Callable[[str], str] | None = None,
        warn: Callable[[str, str], None] | None = None,
        version: str | None = None,
        timestamp: str | None = None,
    ) -> None:
        if read_source is None:
            from covcore.pysource import read_source
        if version is None:
            from covcore import __version__ as version
        self.directory = directory
        self.title = title
        self.extra_css = extra_css
        self.skip_covered = skip_covered
        self.skip_empty = skip_empty
        self.show_contexts = show_contexts
        self.precision = precision
        self.branches = branches
        self.contexts_by_lineno = contexts_by_lineno or (lambda filename: {})
        self.measured_contexts = set(measured_contexts) if measured_contexts is not None else None
        self.read_source = read_source
        self.warn = warn
        self.version = version
        self.timestamp = timestamp or datetime.datetime.now().strftime("%Y-%m-%d %H:%M %z").strip()
        self.pages_written: list[str] = []
        self.pages_skipped: list[str] = []
        self.index_file = os.path.join(directory, "index.html")
        self.extra_css_name = os.path.basename(extra_css) if extra_css else None

    # -- the whole report --------------------------------------------------------

    def report(self, analyses: Iterable[tuple[str, Analysis]]) -> Numbers:
        """Write the report; return the total numbers of all analysed files."""
        from covcore.errors import NoDataError

        if self.show_contexts and self.measured_contexts is not None and self.measured_contexts <= {""}:
            if self.warn:
                self.warn("No contexts were measured", "no-contexts")
        total = Numbers(precision=self.precision)
        to_report: list[tuple[str, Analysis]] = []
        skipped_covered = skipped_empty = 0
        seen = False
        for name, analysis in analyses:
            seen = True
            nums = analysis.numbers
            total += nums
            if self.skip_covered and nums.fully_covered:
                skipped_covered += 1
                remove_file(os.path.join(self.directory, page_name(name)))
            elif self.skip_empty and nums.n_statements == 0:
                skipped_empty += 1
                remove_file(os.path.join(self.directory, page_name(name)))
            else:
                to_report.append((name, analysis))
        if not seen:
            raise NoDataError("No data to report.")

        was_empty = not os.path.isdir(self.directory) or not os.listdir(self.directory)
        ensure_dir(self.directory)
        assets_hash = self._copy_static_files(was_empty)
        globals_hash = self._hash(
            LAYOUT_VERSION, self.version, self.title, self.extra_css_name or "", self.show_contexts,
            self.precision, self.branches, assets_hash,
        )
        status = self._read_status()
        old_pages: dict[str, str] = {}
        if status.get("format") == STATUS_FORMAT and status.get("globals") == globals_hash:
            old_pages = {k: v for k, v in status.get("files", {}).items() if isinstance(v, str)}

        pages = unique_names([name for name, _ in to_report], page_name, ".html", reserved=("index.html",))
        entries: list[IndexEntry] = []
        new_pages: dict[str, str] = {}
        for i, (name, analysis) in enumerate(to_report):
            prev_page = pages[i - 1] if i > 0 else "index.html"
            next_page = pages[i + 1] if i + 1 < len(pages) else "index.html"
            page = pages[i]
            entries.append(IndexEntry(name, page, analysis.numbers))
            source = self.read_source(analysis.filename)
            contexts = self.contexts_by_lineno(analysis.filename) if self.show_contexts else {}
            page_hash = self._hash(
                name, source, sorted(analysis.statements), sorted(analysis.excluded), sorted(analysis.executed),
                analysis.has_arcs, sorted(analysis.arc_possibilities), sorted(analysis.arcs_executed),
                sorted(analysis.exit_counts.items()), sorted(analysis.no_branch),
                sorted((k, sorted(v)) for k, v in contexts.items()), prev_page, next_page,
            )
            new_pages[page] = page_hash
            path = os.path.join(self.directory, page)
            if old_pages.get(page) == page_hash and os.path.exists(path):
                self.pages_skipped.append(page)
                continue
            lines = self.file_lines(source, analysis, contexts)
            write_file(path, self.render_file_page(name, analysis, lines, prev_page, next_page))
            self.pages_written.append(page)

        first_page = pages[0] if pages else "index.html"
        last_page = pages[-1] if pages else "index.html"
        write_file(self.index_file, self.render_index(entries, total, skipped_covered, skipped_empty,
                                                      first_page, last_page))
        status = {
            "note": "covcore's record of the pages it wrote, to skip unchanged ones next time. Not for other uses.",
            "format": STATUS_FORMAT,
            "version": self.version,
            "globals": globals_hash,
            "files": new_pages,
        }
        write_file(os.path.join(self.directory, STATUS_FILE), json.dumps(status, indent=1, sort_keys=True) + "\n")
        return total

    @staticmethod
    def _hash(*parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8", "surrogateescape")).hexdigest()

    def _read_status(self) -> dict[str, Any]:
        try:
            with open(os.path.join(self.directory, STATUS_FILE), encoding="utf-8") as f:
                status = json.load(f)
        except (OSError, ValueError):
            return {}
        return status if isinstance(status, dict) else {}

    def _copy_static_files(self, was_empty: bool) -> str:
        digest = hashlib.sha256()
        for name in STATIC_FILES:
            with open(os.path.join(STATIC_DIR, name), "rb") as f:
                content = f.read()
            digest.update(content)
            dest = os.path.join(self.directory, name)
            try:
                with open(dest, "rb") as f:
                    same = f.read() == content
            except OSError:
                same = False
            if not same:
                write_file(dest, content)
        if self.extra_css:
            from covcore.errors import ConfigError

            try:
                with open(self.extra_css, "rb") as f:
                    content = f.read()
            except OSError as exc:
                raise ConfigError(f"Couldn't read extra_css file {self.extra_css!r}: {exc.strerror}") from None
            digest.update(content)
            write_file(os.path.join(self.directory, self.extra_css_name or "extra.css"), content)
        if was_empty:
            write_file(os.path.join(self.directory, ".gitignore"), "# Created by covcore\n*\n")
        return digest.hexdigest()

    # -- one file ---------------------------------------------------------------

    def file_lines(self, source: str, analysis: Analysis, contexts: dict[int, list[str]]) -> list[LineData]:
        """The per-line data of one file's page."""
        from covcore.parser import multiline_map_from_text

        try:
            multiline = multiline_map_from_text(source)
        except (tokenize.TokenError, SyntaxError):
            multiline = {}
        has_arcs = self.branches and analysis.has_arcs
        mba = analysis.missing_branch_arcs() if has_arcs else {}
        stats = analysis.branch_stats() if has_arcs else {}
        missing = analysis.missing
        lines = []
        for lineno, tokens in enumerate(source_token_lines(source), start=1):
            category = ""
            shorts: list[str] = []
            longs: list[str] = []
            if lineno in analysis.excluded:
                category = "exc"
            elif lineno in missing:
                category = "mis"
            elif has_arcs and lineno in mba:
                category = "par"
                if len(mba[lineno]) == stats.get(lineno, (0, 0))[0]:
                    shorts.append("anywhere")
                    longs.append(f"line {lineno} didn't jump anywhere: it always raised an exception.")
                else:
                    for dest in mba[lineno]:
                        shorts.append("exit" if dest < 0 else str(dest))
                        longs.append(analysis.describe_missing_branch(lineno, dest))
            elif lineno in analysis.statements:
                category = "run"
            else:
                first = multiline.get(lineno)
                if first is not None and first != lineno:
                    if first in analysis.excluded:
                        category = "exc2"
                    elif first in missing:
                        category = "mis2"
                    elif has_arcs and first in mba:
                        category = "par2"
                    elif first in analysis.statements:
                        category = "run2"
            ctx: list[str] = []
            if self.show_contexts and category in ("run", "mis", "exc", "par"):
                ctx = sorted((c or "(empty)" for c in contexts.get(lineno, ())), key=_human_key)
            lines.append(LineData(lineno, tokens, category, shorts, longs, ctx))
        return lines

    def _pc(self, nums: Numbers) -> str:
        return f"{nums.pc_covered_str}%"

    def _head(self, title: str) -> str:
        extra = ""
        if self.extra_css_name:
            extra = f'\n<link rel="stylesheet" href="{escape(urllib.parse.quote(self.extra_css_name))}">'
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n"
            f"<link rel=\"stylesheet\" href=\"covcore.css\">{extra}\n"
            "<script src=\"covcore.js\" defer></script>\n</head>\n"
        )

    def _help(self, keys: list[tuple[str, str]]) -> str:
        rows = "".join(
            f"<tr><td>{' '.join(f'<kbd>{escape(k)}</kbd>' for k in key.split())}</td><td>{escape(what)}</td></tr>"
            for key, what in keys
        )
        return (
            '<button type="button" id="keyboard_icon" class="keyboard" aria-controls="help_panel" '
            f'aria-expanded="false" title="Keyboard shortcuts (?)">{_KEYBOARD_SVG}'
            '<span class="sr">Keyboard shortcuts</span></button>\n'
            '<aside id="help_panel" class="help" hidden>\n'
            '<button type="button" id="help_close" class="close" title="Close (Esc)">&times;</button>\n'
            f"<p class=\"legend\">Keyboard shortcuts</p>\n<table>{rows}</table>\n</aside>\n"
        )

    def _footer(self) -> str:
        return (
            f'<footer><p>Created by covcore {escape(self.version)} at {escape(self.timestamp)}</p></footer>\n'
            "</body>\n</html>\n"
        )

    def render_file_page(self, name: str, analysis: Analysis, lines: list[LineData], prev_page: str,
                         next_page: str) -> str:
        nums = analysis.numbers
        has_arcs = self.branches and analysis.has_arcs
        out = [self._head(f"Coverage for {name}: {self._pc(nums)}")]
        out.append(
            f'<body class="pyfile" data-prev="{escape(prev_page)}" data-next="{escape(next_page)}" '
            'data-index="index.html">\n<header>\n<div class="content">\n'
        )
        out.append(
            f'<h1>Coverage for <b class="filename">{escape(name)}</b>: '
            f'<span class="pc_cov">{escape(self._pc(nums))}</span></h1>\n'
        )
        out.append(self._help(KEYS_PYFILE))
        buttons = [
            ("run", nums.n_executed, "run"),
            ("mis", nums.n_missing, "missing"),
            ("exc", nums.n_excluded, "excluded"),
        ]
        if has_arcs:
            buttons.append(("par", nums.n_partial_branches, "partial"))
        out.append('<p class="toggles">\n')
        for cat, count, label in buttons:
            out.append(
                f'<button type="button" class="toggle {cat}" data-category="{cat}" aria-pressed="true" '
                f'title="Toggle highlighting ({label[0]})"><span class="count">{count}</span> {label}</button>\n'
            )
        out.append("</p>\n")
        out.append(
            '<nav class="files">'
            f'<a id="prevFileLink" href="{escape(prev_page)}" title="previous file ([)">&#x2190; prev</a> '
            '<a id="indexLink" href="index.html" title="index (u)">&#x2191; index</a> '
            f'<a id="nextFileLink" href="{escape(next_page)}" title="next file (])">next &#x2192;</a>'
            "</nav>\n</div>\n</header>\n"
        )
        out.append('<main id="source">\n')
        for ld in lines:
            cls = "line" + (f" {_CATEGORY_CLASSES[ld.category]}" if ld.category else "")
            text = "".join(
                escape(t) if c == "ws" else f'<span class="{c}">{escape(t)}</span>' for c, t in ld.tokens
            ) or "&nbsp;"
            annot = ""
            if ld.short_annotations:
                short = ",&nbsp;&nbsp; ".join(
                    f"{ld.number}&#x202F;&#x219B;&#x202F;{escape(s)}" for s in ld.short_annotations
                )
                long = escape("; ".join(ld.long_annotations))
                annot = (
                    f'<span class="annotate"><span class="short" title="{long}">{short}</span>'
                    f'<span class="long">{long}</span></span>'
                )
            ctx = ""
            if ld.contexts:
                if ld.contexts == ["(empty)"]:
                    ctx = '<span class="ctxs empty">(empty)</span>'
                else:
                    items = "".join(f'<li>{escape(c)}</li>' for c in ld.contexts)
                    ctx = (f'<details class="ctxs"><summary>{len(ld.contexts)} ctx</summary>'
                           f'<ul>{items}</ul></details>')
            out.append(
                f'<div class="{cls}" id="t{ld.number}"><span class="n"><a href="#t{ld.number}">{ld.number}</a>'
                f'</span><span class="t">{text}</span>{annot}{ctx}</div>\n'
            )
        out.append("</main>\n")
        out.append(self._footer())
        return "".join(out)

    # -- the index ----------------------------------------------------------------

    def render_index(self, entries: list[IndexEntry], total: Numbers, skipped_covered: int, skipped_empty: int,
                     first_page: str, last_page: str) -> str:
        out = [self._head(self.title)]
        out.append(
            f'<body class="indexfile" data-first="{escape(first_page)}" data-last="{escape(last_page)}">\n'
            '<header>\n<div class="content">\n'
            f'<h1>{escape(self.title)}: <span class="pc_cov">{escape(self._pc(total))}</span></h1>\n'
        )
        out.append(self._help(KEYS_INDEX))
        out.append(
            '<form class="controls" role="search" onsubmit="return false">\n'
            '<input id="filter" type="search" placeholder="filter..." aria-label="Filter files by name">\n'
            '<label><input id="hide100" type="checkbox"> hide covered</label>\n'
            "</form>\n</div>\n</header>\n<main id=\"index\">\n"
        )
        columns = [("name", "File", "text"), ("statements", "statements", "number"),
                   ("missing", "missing", "number"), ("excluded", "excluded", "number")]
        if self.branches:
            columns += [("branches", "branches", "number"), ("partial", "partial", "number")]
        columns.append(("coverage", "coverage", "number"))
        out.append(f'<table class="index" data-precision="{self.precision}">\n<thead>\n<tr class="tablehead">')
        for key, label, kind in columns:
            sort = ' aria-sort="ascending"' if key == "name" else ""
            out.append(
                f'<th class="{key}" data-col="{key}" data-type="{kind}"{sort}>'
                f'<button type="button" class="sort">{label}</button></th>'
            )
        out.append("</tr>\n</thead>\n<tbody>\n")

        def cells(nums: Numbers) -> list[tuple[str, int]]:
            values = [("statements", nums.n_statements), ("missing", nums.n_missing),
                      ("excluded", nums.n_excluded)]
            if self.branches:
                values += [("branches", nums.n_branches), ("partial", nums.n_partial_branches)]
            return values

        def coverage_cell(nums: Numbers) -> str:
            num = nums.n_executed + nums.n_executed_branches
            den = nums.n_statements + nums.n_branches
            return (f'<td class="coverage" data-sort-value="{nums.pc_covered!r}" data-ratio="{num} {den}">'
                    f"{escape(self._pc(nums))}</td>")

        for entry in entries:
            nums = entry.nums
            covered = int(nums.n_missing == 0 and nums.n_partial_branches == 0)
            out.append(
                f'<tr class="file" data-covered="{covered}"><td class="name" data-sort-value="{escape(entry.name)}">'
                f'<a href="{escape(urllib.parse.quote(entry.url))}">{escape(entry.name)}</a></td>'
            )
            out.extend(f'<td class="{k}" data-sort-value="{v}">{v}</td>' for k, v in cells(nums))
            out.append(coverage_cell(nums) + "</tr>\n")
        out.append('</tbody>\n<tfoot>\n<tr class="total"><td class="name">Total</td>')
        out.extend(f'<td class="{k}">{v}</td>' for k, v in cells(total))
        out.append(coverage_cell(total) + "</tr>\n</tfoot>\n</table>\n")
        out.append('<p id="no_rows" hidden>No items found using the specified filter.</p>\n')
        if skipped_covered:
            out.append(f"<p class=\"skipped\">{_plural(skipped_covered, 'file')} skipped due to complete coverage.</p>\n")
        if skipped_empty:
            out.append(f"<p class=\"skipped\">{_plural(skipped_empty, 'empty file')} skipped.</p>\n")
        out.append("</main>\n")
        out.append(self._footer())
        return "".join(out)


def _human_key(text: str) -> tuple[list[object], str]:
    parts: list[object] = []
    for chunk in re.split(r"(\d+)", text):
        try:
            parts.append(int(chunk))
        except ValueError:
            parts.append(chunk)
    return (parts, text)


__all__ = ["HtmlReporter", "page_name", "source_token_lines", "escape"]
