"""Report security: what the measured code controls (its source, its file and
directory names, its context labels) and what the user passes (``--title``)
can never turn into markup, a script, a file outside the report directory,
a forged record or a malformed document.

1. HTML: hostile source, file names, context labels and titles are rendered
   as text: checked in the generated pages (an HTML parser lists every
   element, attribute and comment) and in Chromium (no dialog, no injected
   element, the payload shown as text).
2. Report file names derived from measured paths stay in ``-d DIR``: ``..``,
   absolute paths, drive letters, control characters, non-UTF-8 names, very
   long names, names that differ only by case or by ``.``/``_``, a file
   named ``index``; NUL in a measured name.
3. XML (strict parsers, defusedxml, the Cobertura DTD), LCOV (one record per
   file, a newline can't forge one), JSON and the text table for any name.
4. covcore never parses XML at runtime without defusedxml (an AST scan of
   ``core/`` and ``plugins/``; writing XML with ``xml.dom.minidom`` is fine).
"""

from __future__ import annotations

import ast
import html.parser
import io
import json
import os
import re
from pathlib import Path

import pytest

from cmdhelpers import clean_env, covcore, write
from reporthelpers import TESTS
from test_html import browser  # noqa: F401  (the Chromium fixture: skips, saying why, without Chromium)

ROOT = TESTS.parent
DTD = TESTS / "coverage-04.dtd"

STATIC_CTX = "<script>alert(6)</script>"
TITLE = "T </title><script>alert(7)</script> \"'& <!-- ]]>"
MODULE_NAME = "</script><img src=x onerror=alert(5)>"
DYNAMIC_CTX = f"{STATIC_CTX}|{MODULE_NAME}.test_markup"
HOSTILE_DIR = "pk<b>\"'&"
HOSTILE_FILE = "x\"'><img src=x onerror=alert(1)>.py"
HOSTILE_NAME = f"{HOSTILE_DIR}/{HOSTILE_FILE}"
RTL_NAME = "\u202egnp.py"
HOSTILE_SOURCE = (
    's1 = "</script><script>alert(2)</script>"\n'
    "s2 = '<!-- ]]> &amp; <img src=x onerror=alert(3)> -->'\n"
    's3 = "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \U0001d4e4 \\"\'"\n'
    "def never():\n"
    '    return "<svg onload=alert(4)>"\n'
)
MAIN_SOURCE = (
    "import glob, runpy\n"
    f"__name__ = {MODULE_NAME!r}\n"
    "def test_markup():\n"
    '    for path in sorted(glob.glob("pk*/*.py")) + sorted(glob.glob("\\u202e*.py")):\n'
    "        runpy.run_path(path)\n"
    "test_markup()\n"
)
RTL_SOURCE = 'x = "<b>rtl</b>"\n'

#: Every element the HTML report itself writes.
REPORT_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "div", "h1", "b", "span", "button",
    "svg", "rect", "path", "aside", "p", "table", "tr", "td", "kbd", "nav", "a", "main", "details", "summary",
    "ul", "li", "footer", "form", "input", "label", "thead", "tbody", "tfoot", "th",
}


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory):
    """A measured project whose file names, source, contexts and title carry
    markup, reported with ``covcore html --show-contexts``."""
    work = tmp_path_factory.mktemp("hostile") / "proj"
    write(work / HOSTILE_DIR / HOSTILE_FILE, HOSTILE_SOURCE)
    write(work / RTL_NAME, RTL_SOURCE)
    write(work / "main.py", MAIN_SOURCE)
    write(work / ".covcorerc", "[run]\ndynamic_context = test_function\n")
    res = covcore("run", "--source=.", f"--context={STATIC_CTX}", "main.py", cwd=work)
    assert res.rc == 0 and res.err == "", res
    res = covcore("html", "--show-contexts", f"--title={TITLE}", cwd=work)
    assert res.rc == 0 and res.out == "Wrote HTML report to htmlcov/index.html\n" and res.err == "", res
    pages = {p.name: p for p in (work / "htmlcov").glob("*.html")}
    assert len(pages) == 4, sorted(pages)
    return work, pages


class _Elements(html.parser.HTMLParser):
    """Every start tag with its attributes, every comment and declaration."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.decls: list[str] = []
        self.pis: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.decls.append(decl)

    def handle_pi(self, data):
        self.pis.append(data)

    def unknown_decl(self, data):
        self.decls.append(data)


def _elements(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    parser.close()
    return parser


def test_html_pages_hold_only_the_reports_own_markup(hostile_html):
    """Parsed as HTML, every page has only the report's own elements: one
    external script, no inline script (so no JSON blob to break out of), no
    event handler but the index's form, no comment, no injected element."""
    _, pages = hostile_html
    for name, page in pages.items():
        parsed = _elements(page.read_text(encoding="utf-8"))
        tags = [tag for tag, _ in parsed.tags]
        assert set(tags) <= REPORT_TAGS, (name, set(tags) - REPORT_TAGS)
        assert [attrs for tag, attrs in parsed.tags if tag == "script"] == [{"src": "covcore.js", "defer": None}], name
        assert tags.count("svg") == 1, name  # the keyboard icon
        assert [attrs.get("class") for tag, attrs in parsed.tags if tag == "b"] == (
            [] if name == "index.html" else ["filename"]), name
        handlers = [(tag, a) for tag, attrs in parsed.tags for a in attrs if a.startswith("on")]
        assert handlers == ([("form", "onsubmit")] if name == "index.html" else []), name
        assert parsed.comments == [] and parsed.pis == [] and parsed.decls == ["DOCTYPE html"], name
        hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag in ("a", "link") and "href" in attrs]
        for href in hrefs:
            assert re.fullmatch(r"(#t\d+|covcore\.css|[A-Za-z0-9_-]+\.html)", href), (name, href)


_TRAP = """
window.__dialogs = [];
["alert", "confirm", "prompt", "print"].forEach(function (f) {
  window[f] = function (m) { window.__dialogs.push(f + ":" + m); };
});
"""


def _open_trapped(driver, path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    driver.get(path.resolve().as_uri())
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    # A page's own scripts ran (defer) before this: onerror of a broken image fires too.
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.execute_script("return window.__dialogs") == []


def _dom_summary(driver) -> dict:
    return driver.execute_script("""
        var all = Array.prototype.slice.call(document.querySelectorAll("*"));
        var handlers = [];
        all.forEach(function (el) {
          Array.prototype.forEach.call(el.attributes, function (a) {
            if (a.name.indexOf("on") === 0) { handlers.push(el.tagName.toLowerCase() + "[" + a.name + "]"); }
          });
        });
        var tags = {};
        all.forEach(function (el) { tags[el.tagName.toLowerCase()] = 1; });
        return {
          scripts: Array.prototype.map.call(document.scripts, function (s) { return s.getAttribute("src"); }),
          handlers: handlers,
          tags: Object.keys(tags).sort(),
          imgs: document.querySelectorAll("img, iframe, object, embed").length,
          svgs: document.querySelectorAll("svg").length,
          bolds: Array.prototype.map.call(document.querySelectorAll("b"), function (b) { return b.className; }),
        };
    """)


def _text(driver, selector: str) -> list[str]:
    return driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll(arguments[0]), "
        "function (e) { return e.textContent; })", selector)


def test_browser_runs_no_injected_script(browser, hostile_html):  # noqa: F811
    """In Chromium: no dialog was opened (a trap installed before any script
    runs records every alert/confirm/prompt), no element or handler beyond
    the report's own, and every payload is on the page as its exact text."""
    work, pages = hostile_html
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _TRAP})
    browser.get((work / "htmlcov" / "index.html").resolve().as_uri())
    browser.execute_script("try { localStorage.clear(); } catch (e) {}")
    assert browser.execute_script("window.alert('probe'); return window.__dialogs") == ["alert:probe"]

    _open_trapped(browser, pages["index.html"])
    summary = _dom_summary(browser)
    assert summary["scripts"] == ["covcore.js"]
    assert summary["handlers"] == ["form[onsubmit]"]
    assert set(summary["tags"]) <= REPORT_TAGS, summary["tags"]
    assert summary["imgs"] == 0 and summary["svgs"] == 1 and summary["bolds"] == []
    assert browser.title == TITLE
    assert _text(browser, "h1")[0] == f"{TITLE}: 92%"
    assert _text(browser, "td.name a") == ["main.py", HOSTILE_NAME, RTL_NAME]

    sources = {"main.py": MAIN_SOURCE, HOSTILE_NAME: HOSTILE_SOURCE, RTL_NAME: RTL_SOURCE}
    expected_contexts = {
        "main.py": {1: [STATIC_CTX], 2: [STATIC_CTX], 3: [STATIC_CTX], 4: [DYNAMIC_CTX], 5: [DYNAMIC_CTX],
                    6: [STATIC_CTX]},
        HOSTILE_NAME: {1: [DYNAMIC_CTX], 2: [DYNAMIC_CTX], 3: [DYNAMIC_CTX], 4: [DYNAMIC_CTX]},
        RTL_NAME: {1: [DYNAMIC_CTX]},
    }
    links = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('td.name a'), "
        "function (a) { return [a.textContent, a.getAttribute('href')]; })")
    for name, href in links:
        _open_trapped(browser, pages[href])
        summary = _dom_summary(browser)
        assert summary["scripts"] == ["covcore.js"], name
        assert summary["handlers"] == [], name
        assert set(summary["tags"]) <= REPORT_TAGS, (name, summary["tags"])
        assert summary["imgs"] == 0 and summary["svgs"] == 1 and summary["bolds"] == ["filename"], name
        assert _text(browser, "h1 b.filename") == [name]
        assert browser.title.startswith(f"Coverage for {name}: ")
        lines = sources[name].splitlines()
        assert _text(browser, "#source .line .t") == [line or "\xa0" for line in lines]
        contexts = {}
        for n in range(1, len(lines) + 1):
            items = _text(browser, f"#t{n} .ctxs li")
            if items:
                contexts[n] = items
        assert contexts == expected_contexts[name]
        assert browser.execute_script("return window.__dialogs") == []


# -- 2. report file names ---------------------------------------------------------------------

BAD_BYTES_NAME = os.fsdecode(b"bad\xff\xfe.py")  # not UTF-8: surrogateescape
LONG_NAME = "long" + "l" * 236 + ".py"  # 243 characters: a legal name, too long with a suffix


def _hostile_paths(root: Path) -> list[str]:
    """Measured names (as stored in data) for files that exist; cwd is root/a/b/proj."""
    return [
        "../../etc/x.py",
        str(root / "abs" / "x.py"),
        "sub/../../../escape.py",
        "C:\\evil\\x.py",
        "C:\\evil\\X.py",
        LONG_NAME,
        "A.py", "a.py",
        "a.b.py", "a_b.py",
        "index", "Index",
        "nl\nSF:evil.py\nend_of_record\n.py",
        "ctl\x01\x1f]]>\"'<&.py",
        BAD_BYTES_NAME,
    ]


def _make_named_data(root: Path, names: list[str]) -> tuple[Path, dict[str, str]]:
    """Source files for ``names`` (each different) and a data file measuring them."""
    from covcore.data import CoverageData

    proj = root / "a" / "b" / "proj"
    (proj / "sub").mkdir(parents=True)
    sources = {}
    for i, name in enumerate(names):
        path = Path(os.path.join(proj, name))
        path.parent.mkdir(parents=True, exist_ok=True)
        sources[name] = f"a = {i}\nif a:\n    b = {i}\n"
        path.write_text(sources[name], encoding="utf-8")
    data = CoverageData(str(proj / ".covcore"))
    data.add_lines({name: {1, 2} for name in names})
    data.write()
    return proj, sources


def _tree(root: Path) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def _shown(name: str) -> str:
    """A name as the HTML page shows it: lone surrogates as U+FFFD."""
    return re.sub("[\ud800-\udfff]", "\ufffd", name)


def test_report_files_stay_in_the_output_directory(tmp_path):
    """``covcore html -d`` and ``covcore annotate -d``: one file per measured
    file, all inside the directory, none overwriting another, whatever the
    measured names hold."""
    root = tmp_path / "root"
    names = _hostile_paths(root)
    proj, sources = _make_named_data(root, names)
    before = _tree(root)
    env = clean_env(PYTHONIOENCODING="utf-8:strict")
    res = covcore("html", "-d", "out", cwd=proj, env=env)
    assert res.rc == 0 and res.out == "Wrote HTML report to out/index.html\n" and res.err == "", res
    res = covcore("annotate", "-d", "ann", cwd=proj, env=env)
    assert res.rc == 0 and res.out == "" and res.err == "", res

    created = _tree(root) - before
    out_files = {p for p in created if p.startswith("a/b/proj/out/")}
    ann_files = {p for p in created if p.startswith("a/b/proj/ann/")}
    assert created == {"a/b/proj/out", "a/b/proj/ann"} | out_files | ann_files

    own = {"index.html", "covcore.css", "covcore.js", "status.json", ".gitignore"}
    pages = sorted(os.path.basename(p) for p in out_files if os.path.basename(p) not in own)
    assert own <= {os.path.basename(p) for p in out_files}
    assert len(pages) == len(names)
    assert len({p.lower() for p in pages}) == len(names)  # distinct even on a case-insensitive disk
    for page in pages:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,120}\.html", page), page
    shown = []
    for page in pages:
        parsed = _FileName()
        parsed.feed((proj / "out" / page).read_text(encoding="utf-8"))
        shown.append(parsed.filename)
    assert sorted(shown) == sorted(_shown(n) for n in names)
    assert "indexfile" in (proj / "out" / "index.html").read_text(encoding="utf-8")

    covers = sorted(os.path.basename(p) for p in ann_files)
    assert len(covers) == len(names) and len({c.lower() for c in covers}) == len(names)
    for cover in covers:
        assert re.fullmatch(r"[^\x00-\x1f\x7f<>:\"|?*\\/\ud800-\udfff]{1,127},cover", cover), repr(cover)
    contents = sorted((proj / "ann" / c).read_text(encoding="utf-8") for c in covers)
    expected = sorted(
        "".join(mark + line for mark, line in zip(("> ", "> ", "! "), src.splitlines(True)))
        for src in sources.values())
    assert contents == expected


class _FileName(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.filename: str | None = None
        self._in = False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "b" and ("class", "filename") in attrs

    def handle_data(self, data):
        if self._in:
            self.filename = (self.filename or "") + data

    def handle_endtag(self, tag):
        self._in = False


@pytest.mark.parametrize("name", [
    "../../etc/passwd.py", "/abs/x.py", "C:\\evil\\x.py", "C:x.py", "\\\\server\\share\\x.py",
    "a\x00b.py", "nl\n.py", "..", ".", BAD_BYTES_NAME, LONG_NAME, "é" * 200 + ".py", "a/" * 100 + "x.py",
])
def test_page_names_are_plain_file_names(name):
    from covcore.reporting.html import page_name

    assert re.fullmatch(r"[A-Za-z0-9_-]{1,120}\.html", page_name(name)), page_name(name)


def test_unique_page_names():
    from covcore.reporting.filenames import cover_name, page_name, unique_names

    names = ["a.b.py", "a_b.py", "A.py", "a.py", "index", "INDEX", "pkg/m.py"]
    pages = unique_names(names, page_name, ".html", reserved=("index.html",))
    assert pages[0] == "a_b_py.html" and pages[2] == "A_py.html" and pages[6] == page_name("pkg/m.py")
    assert len({p.lower() for p in pages} | {"index.html"}) == len(names) + 1
    assert re.fullmatch(r"a_b_py_[0-9a-f]{8}\.html", pages[1]) and re.fullmatch(r"index_[0-9a-f]{8}\.html", pages[4])
    assert unique_names(names, page_name, ".html", reserved=("index.html",)) == pages  # stable from run to run
    covers = unique_names(names, cover_name, ",cover")
    assert covers[0] == "a_b.py,cover" and covers[2] == "A.py,cover" and covers[4] == "index,cover"
    assert re.fullmatch(r"a_b\.py_[0-9a-f]{8},cover", covers[1]), covers[1]
    assert len({c.lower() for c in covers}) == len(names)


def test_nul_in_a_measured_name(tmp_path):
    """A NUL can't be in a real file name: the file has no source (an error
    naming it; skipped with -i), and nothing is written outside -d."""
    root = tmp_path / "root"
    proj, _ = _make_named_data(root, ["ok.py"])
    from covcore.data import CoverageData

    data = CoverageData(str(proj / ".covcore"))
    data.read()
    data.add_lines({"a\x00b.py": {1}})
    data.write()
    before = _tree(root)
    res = covcore("html", "-d", "out", cwd=proj)
    assert res.rc == 1 and res.out == "" and res.err == "covcore: No source for code: 'a\\x00b.py'.\n", res
    res = covcore("html", "-i", "-d", "out", cwd=proj)
    assert res.rc == 0 and res.out == "Wrote HTML report to out/index.html\n", res
    res = covcore("annotate", "-i", "-d", "ann", cwd=proj)
    assert res.rc == 0 and res.out == "", res
    assert _tree(root) - before == {
        "a/b/proj/out", "a/b/proj/ann", "a/b/proj/ann/ok.py,cover",
        *(f"a/b/proj/out/{n}" for n in ("index.html", "ok_py.html", "covcore.css", "covcore.js", "status.json",
                                         ".gitignore")),
    }


# -- 3. XML, LCOV, JSON and the text table for any name -------------------------------------

PROJECT_DIR = "root ]]>&\"'<\x07"
RAW_NAMES = [
    b"ctl\x01\x1b[31m\x1f]]>\"'<&.py",
    b"nl\nSF:forged.py\nend_of_record\n.py",
    b"d\xff/m\xfe]]>.py",
    b"tab\there.py",
]


def _neutral(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@pytest.fixture(scope="module")
def hostile_names_project(tmp_path_factory):
    """A real measured project whose directory and file names hold control
    characters, ``]]>``, quotes, a newline and bytes that aren't UTF-8."""
    work = tmp_path_factory.mktemp("names") / PROJECT_DIR
    work.mkdir()
    for raw in RAW_NAMES:
        path = os.path.join(os.fsencode(work), raw)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"s = ']]> <!-- \"&'\nif s:\n    t = 1\nelse:\n    t = 2\n")
    write(work / "main.py", f"""\
        import os, runpy
        for raw in {RAW_NAMES!r}:
            runpy.run_path(os.fsdecode(raw))
        """)
    res = covcore("run", "--branch", "--source=.", "main.py", cwd=work)
    assert res.rc == 0 and res.err == "", res
    names = ["main.py"] + [os.fsdecode(raw) for raw in RAW_NAMES]
    return work, names


def test_xml_is_well_formed_and_valid_for_any_name(hostile_names_project):
    lxml_etree = pytest.importorskip("lxml.etree", reason="lxml is not installed (pip install .[test])")
    work, names = hostile_names_project
    res = covcore("xml", "-o", "cov.xml", cwd=work)
    assert res.rc == 0 and res.out == "Wrote XML report to cov.xml\n", res
    raw = (work / "cov.xml").read_bytes()
    raw.decode("utf-8")  # strictly UTF-8

    strict = lxml_etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=False)
    doc = lxml_etree.fromstring(raw, strict)
    dtd = lxml_etree.DTD(io.StringIO(DTD.read_text(encoding="utf-8") +
                                     "<!ATTLIST line missing-branches CDATA #IMPLIED>\n"))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    assert [s.text for s in doc.iter("source")] == [_neutral(os.path.realpath(work))]
    assert sorted(c.get("filename") for c in doc.iter("class")) == sorted(_neutral(n) for n in names)
    assert sorted(p.get("name") for p in doc.iter("package")) == [".", "d?"]

    defused = pytest.importorskip("defusedxml.ElementTree",
                                  reason="defusedxml is not installed (pip install defusedxml)")
    tree = defused.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    assert sorted(c.get("filename") for c in tree.iter("class")) == sorted(_neutral(n) for n in names)


def test_lcov_has_one_record_per_file_for_any_name(hostile_names_project):
    work, names = hostile_names_project
    res = covcore("lcov", "-o", "cov.lcov", cwd=work)
    assert res.rc == 0 and res.out == "Wrote LCOV report to cov.lcov\n", res
    text = (work / "cov.lcov").read_bytes().decode("utf-8")
    record = re.compile(r"(SF:[^\n]*|DA:\d+,[01]|LF:\d+|LH:\d+|BRDA:\d+,0,[^\n]*,[01-]|BRF:\d+|BRH:\d+"
                        r"|FN:\d+,\d+,\w+|FNDA:[01],\w+|FNF:\d+|FNH:\d+|end_of_record)")
    files = []
    inside = False
    for line in text.split("\n")[:-1]:
        assert record.fullmatch(line), repr(line)
        assert line.isprintable(), repr(line)
        if line.startswith("SF:"):
            assert not inside, repr(line)
            inside = True
            files.append(line[3:])
        elif line == "end_of_record":
            assert inside
            inside = False
        else:
            assert inside, repr(line)
    assert not inside and text.endswith("end_of_record\n")
    assert sorted(files) == sorted(_neutral(n) for n in names)


def test_json_is_valid_for_any_name(hostile_names_project):
    work, names = hostile_names_project
    res = covcore("json", "-o", "cov.json", cwd=work)
    assert res.rc == 0 and res.out == "Wrote JSON report to cov.json\n", res
    text = (work / "cov.json").read_bytes().decode("utf-8")
    assert text.isascii()  # non-ASCII (and lone surrogates) as \\u escapes

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    report = json.loads(text, parse_constant=no_constants)
    assert sorted(report["files"]) == sorted(names)  # the names exactly, surrogates included


def test_text_table_and_html_for_any_name(hostile_names_project):
    """The summary table prints one row per file (no newline or terminal
    escape from a name) even on a strict UTF-8 terminal; the HTML report
    writes a page per file."""
    work, names = hostile_names_project
    env = clean_env(PYTHONIOENCODING="utf-8:strict")
    res = covcore("report", cwd=work, env=env)
    assert res.rc == 0 and res.err == "", res
    lines = res.out.splitlines()
    assert len(lines) == 2 + len(names) + 2
    assert sorted(line.split("  ")[0] for line in lines[2:-2]) == sorted(_neutral(n) for n in names)
    assert all(line.isprintable() for line in lines)
    res = covcore("html", cwd=work, env=env)
    assert res.rc == 0 and res.out == "Wrote HTML report to htmlcov/index.html\n" and res.err == "", res
    assert len(list((work / "htmlcov").glob("*.html"))) == len(names) + 1


# -- 4. XML parsing at runtime ---------------------------------------------------------------

#: Modules whose only use is parsing XML.
PARSER_MODULES = ("xml.sax", "xml.parsers", "xml.dom.pulldom", "xml.dom.expatbuilder", "xml.dom.xmlbuilder",
                  "pyexpat", "lxml", "xmlrpc", "xml.etree.cElementTree")
#: Functions and classes of xml.etree / xml.dom that parse.
PARSER_NAMES = {"parse", "parseString", "fromstring", "fromstringlist", "XML", "XMLID", "iterparse",
                "XMLParser", "XMLPullParser", "ParserCreate", "make_parser", "DOMBuilder"}


def _module_prefix(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def xml_parsing_uses(source: str) -> list[str]:
    """Where ``source`` parses XML without defusedxml: imports of parser
    modules, and uses (imported names, attribute chains) of parsing
    functions of ``xml.*``.  Building and writing XML (``xml.dom.minidom``'s
    ``getDOMImplementation``, ``Document``, ElementTree's ``Element``,
    ``tostring``) is not parsing."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> dotted module or object
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _module_prefix(alias.name, PARSER_MODULES):
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parser_module = _module_prefix(node.module, PARSER_MODULES)
            if parser_module:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = full
                if parser_module:
                    continue
                if _module_prefix(full, PARSER_MODULES):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                elif node.module.startswith("xml") and alias.name in PARSER_NAMES:
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")

    def dotted(expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return aliases.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = dotted(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            full = dotted(node)
            if full and full.startswith("xml.") and node.attr in PARSER_NAMES:
                found.append(f"line {node.lineno}: {full}")
            elif full and _module_prefix(full, PARSER_MODULES) and not _module_prefix(
                    dotted(node.value) or "", PARSER_MODULES):
                found.append(f"line {node.lineno}: {full}")
    return sorted(set(found))


@pytest.mark.parametrize("source, expected", [
    ("import xml.dom.minidom\nxml.dom.minidom.parseString(s)\n", ["line 2: xml.dom.minidom.parseString"]),
    ("from xml.dom import minidom\nminidom.parse(f)\n", ["line 2: xml.dom.minidom.parse"]),
    ("import xml.etree.ElementTree as ET\nET.fromstring(s)\n", ["line 2: xml.etree.ElementTree.fromstring"]),
    ("from xml.etree.ElementTree import XML\n", ["line 1: from xml.etree.ElementTree import XML"]),
    ("from xml.etree import ElementTree\nElementTree.iterparse(f)\n", ["line 2: xml.etree.ElementTree.iterparse"]),
    ("import xml.sax\n", ["line 1: import xml.sax"]),
    ("from xml.parsers import expat\n", ["line 1: from xml.parsers import ..."]),
    ("from lxml import etree\n", ["line 1: from lxml import ..."]),
    ("import lxml.etree as le\n", ["line 1: import lxml.etree"]),
    ("import xml\nxml.sax.parseString(s, h)\n", ["line 2: xml.sax", "line 2: xml.sax.parseString"]),
    # Building and writing XML, and defusedxml, are fine.
    ("import xml.dom.minidom\nimpl = xml.dom.minidom.getDOMImplementation()\nd.toprettyxml()\n", []),
    ("import xml.etree.ElementTree as ET\nET.tostring(ET.Element('a'))\n", []),
    ("import defusedxml.ElementTree as DET\nDET.fromstring(s)\n", []),
    ("from defusedxml.minidom import parseString\n", []),
])
def test_xml_parsing_scanner(source, expected):
    """The scanner below finds parsing and lets writing through."""
    assert xml_parsing_uses(source) == expected


def test_covcore_parses_no_xml_without_defusedxml():
    """No module of covcore or its adapters parses XML, except through defusedxml."""
    sources = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])
    assert ROOT / "core" / "reporting" / "xml.py" in sources
    problems = {}
    xml_users = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        uses = xml_parsing_uses(text)
        if uses:
            problems[str(path.relative_to(ROOT))] = uses
        if re.search(r"^\s*(import|from)\s+(xml|lxml|defusedxml)\b", text, re.MULTILINE):
            xml_users.append(str(path.relative_to(ROOT)))
    assert problems == {}
    # The scan saw covcore's one XML module, the writer.
    assert xml_users == ["core/reporting/xml.py"]
    # The Cython tracer can't be parsed by ast: it must not mention XML at all.
    for pyx in [*(ROOT / "core").glob("*.pyx"), *(ROOT / "core").glob("*.pxi")]:
        assert not re.search(r"\b(xml|lxml|expat)\b", pyx.read_text(encoding="utf-8")), pyx
