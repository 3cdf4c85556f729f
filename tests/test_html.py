"""The HTML report: pages, highlighting, escaping, incremental regeneration,
and its behaviour in a real headless browser (Chromium through selenium)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from cmdhelpers import covcore, write
from reporthelpers import FIXED_VERSION, check_gold, in_dir, reference_analyses, sample_project

SNIPPETS = Path(__file__).parent / "snippets"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HOSTILE = "</script><script>alert(1)</script>"
HOSTILE_NAME = '<img src=x onerror="alert(2)">.py'


def make_reporter(directory, **kwargs):
    from covcore.reporting.html import HtmlReporter

    kwargs.setdefault("version", FIXED_VERSION)
    kwargs.setdefault("timestamp", "2026-01-01 00:00")
    return HtmlReporter(directory=str(directory), **kwargs)


def analysis(filename, statements, executed, excluded=()):
    from covcore.analysis import Analysis

    return Analysis(filename=str(filename), statements=set(statements), excluded=set(excluded),
                    executed=set(executed))


@pytest.fixture(scope="module")
def branch_report(tmp_path_factory):
    """The sample project with branch analyses, rendered to HTML."""
    work = sample_project(tmp_path_factory.mktemp("branch") / "s")
    analyses = reference_analyses(work)
    with in_dir(work):
        reporter = make_reporter(work / "htmlcov", branches=True, title="Sample & <friends>")
        reporter.report(analyses)
    return work, analyses


# -- highlighting --------------------------------------------------------------------------


def _all_sources():
    sources = {p.name: p.read_text() for p in SNIPPETS.glob("*.py")}
    sources.update({p.name: p.read_text() for p in (Path(__file__).parent / "gold" / "sample").rglob("*.py")})
    sources["hostile.py"] = f"x = '{HOSTILE}'\ny = f\"{{x!r:>10}} {{{{braces}}}}\"\nz = '''multi\n  line''' \\\n    + 'x'\n"
    return sources


@pytest.mark.parametrize("name", sorted(_all_sources()))
def test_highlighter_reproduces_source(name):
    from covcore.reporting.htmlsource import source_token_lines

    source = _all_sources()[name]
    lines = source_token_lines(source)
    assert ["".join(text for _, text in line) for line in lines] == source.splitlines()


def test_highlighter_classes():
    from covcore.reporting.htmlsource import source_token_lines

    source = (
        "def f(x=1):  # note\n"
        "    return f'{x}' + \"s\"\n"
        "match x:\n"
        "    case [1, 2]:\n"
        "        match = 3\n"
    )
    lines = source_token_lines(source)
    assert lines[0][:4] == [("key", "def"), ("ws", " "), ("nam", "f"), ("op", "(")]
    assert ("num", "1") in lines[0] and ("com", "# note") in lines[0]
    assert lines[1][0] == ("ws", "    ") and lines[1][1] == ("key", "return")
    assert all(cls == "str" for cls, text in lines[1] if "'" in text or '"' in text)
    assert lines[2][0] == ("key", "match")
    assert ("key", "case") in lines[3]
    assert ("nam", "match") in lines[4]  # a soft keyword used as a name


def test_page_names_are_safe():
    from covcore.reporting.html import page_name

    assert page_name("main.py") == "main_py.html"
    assert page_name("pkg/shapes.py") == "z_8580997e71e7a198_shapes_py.html"
    hostile = page_name(HOSTILE_NAME)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", hostile)
    assert page_name("a-b.py") != page_name("a b.py")


# -- rendering ---------------------------------------------------------------------------


def test_gold_pages_with_branches(branch_report):
    work, _ = branch_report
    html = (work / "htmlcov" / "z_8580997e71e7a198_shapes_py.html").read_text()
    assert '<div class="line par" id="t36">' in html
    assert "line 36 didn&#x27;t jump to line 37 because the condition on line 36 was never true" in html
    assert "36&#x202F;&#x219B;&#x202F;37" in html
    assert '<span class="count">6</span> partial' in html
    index = (work / "htmlcov" / "index.html").read_text()
    assert "<title>Sample &amp; &lt;friends&gt;</title>" in index
    assert '<th class="branches"' in index and '<th class="partial"' in index
    check_gold("html/index.html", index)
    check_gold("html/z_8580997e71e7a198_shapes_py.html", html)


def test_categories_and_continuation_lines(tmp_path):
    src = write(tmp_path / "m.py", """\
        a = (1,
             2)
        if a:  # pragma: no cover
            b = 3
        c = 4
        """)
    rep = make_reporter(tmp_path / "out")
    with in_dir(tmp_path):
        rep.report([("m.py", analysis(src, {1, 5}, {1}, excluded={3, 4}))])
    html = (tmp_path / "out" / "m_py.html").read_text()
    assert '<div class="line run" id="t1">' in html
    assert '<div class="line run run2" id="t2">' in html
    assert '<div class="line exc" id="t3">' in html
    assert '<div class="line mis" id="t5">' in html
    assert '<span class="count">1</span> run' in html and '<span class="count">1</span> missing' in html
    assert "data-category=\"par\"" not in html  # no branch data: no partial button


def test_hostile_source_and_file_name_are_escaped(tmp_path):
    src = write(tmp_path / HOSTILE_NAME, f"x = '{HOSTILE}'\n# {HOSTILE}\n")
    rep = make_reporter(tmp_path / "out", title=HOSTILE)
    with in_dir(tmp_path):
        rep.report([(HOSTILE_NAME, analysis(src, {1}, {1}))])
    for page in (tmp_path / "out").glob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text, page.name
        assert "<img src=x" not in text, page.name
    (page,) = [p for p in (tmp_path / "out").glob("*.html") if p.name != "index.html"]
    text = page.read_text()
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;.py" in text


def test_incremental_regeneration(tmp_path):
    a = write(tmp_path / "a.py", "x = 1\ny = 2\n")
    b = write(tmp_path / "b.py", "z = 3\n")
    out = tmp_path / "out"

    def run(executed_a, **kwargs):
        rep = make_reporter(out, **kwargs)
        with in_dir(tmp_path):
            rep.report([("a.py", analysis(a, {1, 2}, executed_a)), ("b.py", analysis(b, {1}, {1}))])
        return rep

    first = run({1})
    assert sorted(first.pages_written) == ["a_py.html", "b_py.html"] and first.pages_skipped == []
    status = json.loads((out / "status.json").read_text())
    assert status["format"] == 1 and sorted(status["files"]) == ["a_py.html", "b_py.html"]
    old = time.time() - 1000
    for page in ("a_py.html", "b_py.html"):
        os.utime(out / page, (old, old))

    second = run({1})
    assert second.pages_written == [] and sorted(second.pages_skipped) == ["a_py.html", "b_py.html"]
    assert (out / "a_py.html").stat().st_mtime == old

    third = run({1, 2})  # a.py's data changed
    assert third.pages_written == ["a_py.html"] and third.pages_skipped == ["b_py.html"]
    assert (out / "b_py.html").stat().st_mtime == old
    assert "100%" in (out / "index.html").read_text()

    write(tmp_path / "b.py", "z = 4\n")  # b.py's source changed
    assert run({1, 2}).pages_written == ["b_py.html"]

    assert sorted(run({1, 2}, title="Other").pages_written) == ["a_py.html", "b_py.html"]  # settings changed
    (out / "a_py.html").unlink()  # a page removed by hand is written again
    assert run({1, 2}, title="Other").pages_written == ["a_py.html"]


def test_skip_covered_skip_empty_and_extra_css(tmp_path):
    a = write(tmp_path / "a.py", "x = 1\n")
    b = write(tmp_path / "b.py", "y = 2\n")
    e = write(tmp_path / "e.py", "")
    css = write(tmp_path / "my style.css", "body { color: red; }\n")
    out = tmp_path / "out"
    analyses = [("a.py", analysis(a, {1}, {1})), ("b.py", analysis(b, {1}, set())), ("e.py", analysis(e, (), ()))]
    with in_dir(tmp_path):
        make_reporter(out).report(analyses)
        assert (out / "a_py.html").exists()
        total = make_reporter(out, skip_covered=True, skip_empty=True, extra_css=str(css)).report(analyses)
    assert total.n_files == 3 and total.n_statements == 2
    assert not (out / "a_py.html").exists() and not (out / "e_py.html").exists()
    index = (out / "index.html").read_text()
    # As coverage.py: skip_covered is checked first, and an empty file is fully covered.
    assert "2 files skipped due to complete coverage." in index
    with in_dir(tmp_path):
        make_reporter(out, skip_empty=True, extra_css=str(css)).report(analyses)
    assert "1 empty file skipped." in (out / "index.html").read_text()
    assert (out / "a_py.html").exists() and not (out / "e_py.html").exists()
    index = (out / "index.html").read_text()
    assert (out / "my style.css").read_text() == "body { color: red; }\n"
    assert '<link rel="stylesheet" href="my%20style.css">' in index
    assert (out / ".gitignore").read_text() == "# Created by covcore\n*\n"
    assert (out / "covcore.js").exists() and (out / "covcore.css").exists()


def test_show_contexts(tmp_path):
    src = write(tmp_path / "m.py", "a = 1\nb = 2\nc = 3\n")
    contexts = {1: ["test_one", "test_two"], 2: [""]}
    warnings = []
    with in_dir(tmp_path):
        make_reporter(tmp_path / "out", show_contexts=True, contexts_by_lineno=lambda f: contexts,
                      measured_contexts={"", "test_one", "test_two"}).report(
            [("m.py", analysis(src, {1, 2, 3}, {1, 2}))])
        make_reporter(tmp_path / "out2", show_contexts=True, measured_contexts={""},
                      warn=lambda msg, slug: warnings.append(msg)).report([("m.py", analysis(src, {1}, {1}))])
    html = (tmp_path / "out" / "m_py.html").read_text()
    assert '<summary>2 ctx</summary><ul><li>test_one</li><li>test_two</li></ul>' in html
    assert '<span class="ctxs empty">(empty)</span>' in html
    assert warnings == ["No contexts were measured"]


@pytest.mark.backend
def test_html_command(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--context=ctx", "main.py", cwd=work).rc == 0
    res = covcore("html", cwd=work)
    assert res.rc == 0 and res.out == "Wrote HTML report to htmlcov/index.html\n", res
    assert (work / "htmlcov" / "z_8580997e71e7a198_shapes_py.html").exists()
    res = covcore("html", "-q", "-d", "other", "--title=My <title>", "--show-contexts", "--precision=2",
                  "--skip-covered", cwd=work)
    assert res.rc == 0 and res.out == "", res
    index = (work / "other" / "index.html").read_text()
    assert "My &lt;title&gt;: <span class=\"pc_cov\">81.48%</span>" in index
    assert "main.py" not in index
    assert "<summary>" not in index
    assert "ctx" in (work / "other" / "z_8580997e71e7a198_shapes_py.html").read_text()
    write(work / ".covcorerc", "[html]\ndirectory = fromcfg\ntitle = Configured\n")
    res = covcore("html", "--fail-under=90", cwd=work)
    assert res.rc == 2, res
    assert res.out == ("Wrote HTML report to fromcfg/index.html\n"
                       "Coverage failure: total of 81 is less than fail-under=90\n")
    assert "<title>Configured</title>" in (work / "fromcfg" / "index.html").read_text()


# -- in a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,700", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(driver, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    driver.execute_script("try { localStorage.clear(); } catch (e) {}")
    driver.get(path.resolve().as_uri())


def _rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.find_element(By.CSS_SELECTOR, "td.name").text
            for row in driver.find_elements(By.CSS_SELECTOR, "table.index tbody tr") if row.is_displayed()]


def test_browser_index_sorts_and_filters(browser, branch_report):
    from selenium.webdriver.common.by import By

    work, analyses = branch_report
    _open(browser, work / "htmlcov" / "index.html")
    assert browser.title == "Sample & <friends>"
    assert _rows(browser) == ["main.py", "pkg/__init__.py", "pkg/shapes.py"]
    missing = {name: a.numbers.n_missing for name, a in analyses}
    browser.find_element(By.CSS_SELECTOR, "th.missing button").click()
    assert _rows(browser) == sorted(missing, key=lambda n: (missing[n], n))
    assert browser.find_element(By.CSS_SELECTOR, "th.missing").get_attribute("aria-sort") == "ascending"
    browser.find_element(By.CSS_SELECTOR, "th.missing button").click()
    assert _rows(browser)[0] == "pkg/shapes.py"
    assert browser.find_element(By.CSS_SELECTOR, "th.missing").get_attribute("aria-sort") == "descending"
    browser.find_element(By.CSS_SELECTOR, "th.name button").click()

    box = browser.find_element(By.ID, "filter")
    box.send_keys("shap")
    assert _rows(browser) == ["pkg/shapes.py"]
    shapes = dict(analyses)["pkg/shapes.py"].numbers
    assert browser.find_element(By.CSS_SELECTOR, "tfoot td.statements").text == str(shapes.n_statements)
    box.clear()
    box.send_keys("nothing-matches")
    assert _rows(browser) == []
    assert browser.find_element(By.ID, "no_rows").is_displayed()
    box.clear()
    box.send_keys(" ")  # an input event with an empty filter
    assert len(_rows(browser)) == 3
    browser.find_element(By.ID, "hide100").click()
    assert _rows(browser) == ["pkg/shapes.py"]
    browser.find_element(By.ID, "hide100").click()
    assert len(_rows(browser)) == 3

    help_panel = browser.find_element(By.ID, "help_panel")
    assert not help_panel.is_displayed()
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("?")
    assert help_panel.is_displayed()
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("\ue00c")  # Escape
    assert not help_panel.is_displayed()

    browser.find_element(By.LINK_TEXT, "pkg/shapes.py").click()
    assert browser.current_url.endswith("/z_8580997e71e7a198_shapes_py.html")


def test_browser_file_page_highlights_and_navigates(browser, branch_report):
    from selenium.webdriver.common.by import By

    work, analyses = branch_report
    _open(browser, work / "htmlcov" / "z_8580997e71e7a198_shapes_py.html")

    def background(line: int) -> str:
        return browser.find_element(By.CSS_SELECTOR, f"#t{line} .t").value_of_css_property("background-color")

    shapes = dict(analyses)["pkg/shapes.py"]
    first_missing = min(shapes.missing)
    assert background(first_missing) == "rgba(255, 221, 221, 1)"  # missing: red
    assert background(3) == "rgba(221, 255, 221, 1)"  # run: green
    assert background(9) == "rgba(238, 238, 238, 1)"  # excluded: gray
    assert background(36) == "rgba(255, 255, 204, 1)"  # partial: yellow
    toggle = browser.find_element(By.CSS_SELECTOR, 'button.toggle[data-category="mis"]')
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert background(first_missing) == "rgba(0, 0, 0, 0)"
    toggle.click()
    assert background(first_missing) == "rgba(255, 221, 221, 1)"

    # j: the next chunk of missing or partial lines is selected and scrolled to.
    chunks = []
    prev = None
    categories = {ln for ln in shapes.missing} | set(shapes.missing_branch_arcs())
    for line in sorted(categories):
        if prev is None or line != prev + 1:  # a chunk is a run of adjacent lines
            chunks.append(line)
        prev = line
    body = browser.find_element(By.CSS_SELECTOR, "body")
    assert browser.execute_script("return window.scrollY") == 0
    body.send_keys("j")
    assert browser.find_element(By.CSS_SELECTOR, ".line.highlight").get_attribute("id") == f"t{chunks[0]}"
    scrolls = []
    for chunk in chunks[1:]:
        body.send_keys("j")
        assert browser.find_element(By.CSS_SELECTOR, ".line.highlight").get_attribute("id") == f"t{chunk}"
        scrolls.append(browser.execute_script("return window.scrollY"))
    assert max(scrolls) > 0, "j never scrolled the page"
    body.send_keys("k")
    assert browser.find_element(By.CSS_SELECTOR, ".line.highlight").get_attribute("id") == f"t{chunks[-2]}"

    body.send_keys("]")
    assert browser.current_url.endswith("/index.html")
    _open(browser, work / "htmlcov" / "z_8580997e71e7a198_shapes_py.html")
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("[")
    assert browser.current_url.endswith("/z_8580997e71e7a198___init___py.html")


def test_browser_hostile_names_run_no_script(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    src = write(tmp_path / HOSTILE_NAME, f"x = '{HOSTILE}'\n")
    with in_dir(tmp_path):
        make_reporter(tmp_path / "out", title=HOSTILE).report([(HOSTILE_NAME, analysis(src, {1}, {1}))])
    _open(browser, tmp_path / "out" / "index.html")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.find_element(By.CSS_SELECTOR, "td.name").text == HOSTILE_NAME
    browser.find_element(By.CSS_SELECTOR, "td.name a").click()
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert HOSTILE in browser.find_element(By.CSS_SELECTOR, "#t1 .t").text
    assert browser.find_element(By.CSS_SELECTOR, "h1 b.filename").text == HOSTILE_NAME

