"""The JSON report: coverage.py 7.17's schema and values, byte for byte apart
from the meta fields that name the tool, its version and the time."""

from __future__ import annotations

import io
import json

import coverage
import pytest

from cmdhelpers import coveragepy, covcore, write
from reporthelpers import FIXED_TIMESTAMP, FIXED_VERSION, check_gold, reference_analyses, sample_project

TOOL_META = ("version", "timestamp", "tool", "coverage_py_format")


def without_tool_meta(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    for key in TOOL_META:
        report["meta"].pop(key, None)
    return report


def sort_contexts(obj):
    """coverage.py lists a line's contexts in set order; compare them sorted."""
    if isinstance(obj, dict):
        return {k: (sorted(v) if k.isdigit() and isinstance(v, list) else sort_contexts(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [sort_contexts(v) for v in obj]
    return obj


def render(analyses, **kwargs) -> str:
    from covcore.reporting.jsonreport import JsonReporter

    out = io.StringIO()
    JsonReporter(version=FIXED_VERSION, timestamp=FIXED_TIMESTAMP, **kwargs).report(analyses, out)
    return out.getvalue()


def test_branch_json_equals_coveragepy_and_gold(tmp_path):
    """executed_branches / missing_branches, branch summaries, regions, from
    hand-built analyses (coverage.py's static analysis)."""
    work = sample_project(tmp_path / "s")
    analyses = reference_analyses(work)
    ours = json.loads(render(analyses, branches=True, pretty_print=True))
    assert coveragepy("json", "-o", "ref.json", cwd=work).rc == 0
    theirs = json.loads((work / "ref.json").read_text())
    assert without_tool_meta(ours) == without_tool_meta(theirs)
    shapes = ours["files"]["pkg/shapes.py"]
    assert [37, 39] not in shapes["executed_branches"] and [36, 37] in shapes["missing_branches"]
    assert set(shapes["functions"]) >= {"Shape.describe", "classify", "walk", "walk.inner", ""}
    assert ours["meta"]["tool"] == "covcore" and ours["meta"]["format"] == 3
    check_gold("json/sample_branch.json", render(analyses, branches=True, pretty_print=True) + "\n")


def test_pretty_print_and_compact():
    from covcore.analysis import Analysis

    a = Analysis(filename="x.py", statements={1, 2}, excluded=set(), executed={1})
    compact = render([("x.py", a)], read_source=lambda f: "a = 1\nb = 2\n")
    pretty = render([("x.py", a)], read_source=lambda f: "a = 1\nb = 2\n", pretty_print=True)
    assert "\n" not in compact
    assert pretty.startswith('{\n    "meta": {\n        "format": 3,')
    assert json.loads(compact) == json.loads(pretty)
    assert json.loads(compact)["totals"]["percent_covered_display"] == "50"


def test_same_named_regions_get_suffixes():
    from covcore.analysis import Analysis

    source = "def f():\n    return 1\n\n\ndef f():\n    return 2\n\n\nclass C:\n    def f(self):\n        pass\n"
    a = Analysis(filename="x.py", statements={1, 2, 5, 6, 9, 10, 11}, excluded=set(), executed={1, 5, 9, 10, 6})
    report = json.loads(render([("x.py", a)], read_source=lambda f: source))
    assert list(report["files"]["x.py"]["functions"]) == ["f", "f@5", "C.f", ""]
    assert report["files"]["x.py"]["functions"]["f@5"]["executed_lines"] == [6]
    assert list(report["files"]["x.py"]["classes"]) == ["C", ""]


@pytest.mark.backend
def test_measured_json_equals_coveragepy(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0
    assert coveragepy("run", "--source=.", "main.py", cwd=work).rc == 0
    res = covcore("json", cwd=work)
    assert res.rc == 0, res
    assert res.out == "Wrote JSON report to coverage.json\n"
    assert coveragepy("json", "-o", "ref.json", cwd=work).rc == 0
    ours = json.loads((work / "coverage.json").read_text())
    theirs = json.loads((work / "ref.json").read_text())
    assert without_tool_meta(ours) == without_tool_meta(theirs)
    # Key order too: a reader that walks the document sees the same sequence.
    assert list(ours) == list(theirs) == ["meta", "files", "totals"]
    assert list(ours["files"]["pkg/shapes.py"]) == list(theirs["files"]["pkg/shapes.py"])


@pytest.mark.backend
def test_show_contexts_and_contexts_filter(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--context=first", "main.py", cwd=work).rc == 0
    assert coveragepy("run", "--context=first", "main.py", cwd=work).rc == 0
    res = covcore("json", "--show-contexts", "--pretty-print", "-o", "ours.json", cwd=work)
    assert res.rc == 0, res
    assert coveragepy("json", "--show-contexts", "--pretty-print", "-o", "ref.json", cwd=work).rc == 0
    ours = json.loads((work / "ours.json").read_text())
    theirs = json.loads((work / "ref.json").read_text())
    # A region's contexts are those of its own lines that ran (coverage.py 7.17.5).
    for record in ours["files"].values():
        for kind in ("functions", "classes"):
            for name, region in record[kind].items():
                ran = set(map(int, region["contexts"]))
                assert set(region["executed_lines"]) <= ran
                if name:  # a function or class: nothing before its first line
                    assert min(ran, default=region["start_line"]) >= region["start_line"]
    if coverage.version_info < (7, 17):
        # 7.16 (the newest for 3.10) listed every line's contexts in each region.
        for report in (ours, theirs):
            for record in report["files"].values():
                for kind in ("functions", "classes"):
                    for region in record[kind].values():
                        region.pop("contexts")
    assert sort_contexts(without_tool_meta(ours)) == sort_contexts(without_tool_meta(theirs))
    assert ours["files"]["main.py"]["contexts"]["1"] == ["first"]
    # --contexts keeps only data from matching contexts.
    res = covcore("json", "--contexts=nomatch", "-o", "none.json", cwd=work)
    assert res.rc == 0, res
    assert coveragepy("json", "--contexts=nomatch", "-o", "refnone.json", cwd=work).rc == 0
    ours = json.loads((work / "none.json").read_text())
    assert ours["totals"]["covered_lines"] == 0
    assert without_tool_meta(ours) == without_tool_meta(json.loads((work / "refnone.json").read_text()))
    res = covcore("json", "--contexts=fir", "-o", "fir.json", cwd=work)
    assert json.loads((work / "fir.json").read_text())["totals"]["covered_lines"] > 0
    res = covcore("report", "--contexts=nomatch,other", cwd=work)
    assert res.rc == 0 and res.out.splitlines()[-1].split() == ["TOTAL", "54", "54", "0%"], res
    res = covcore("report", "--contexts=(", cwd=work)
    assert res.rc == 1 and "Invalid context regex '('" in res.err, res


def test_registry_builtins_and_third_party():
    from covcore.errors import ConfigError
    from covcore.reporting.registry import ReporterRegistry, ReporterSpec, default_registry, register_builtin_reporters

    assert default_registry().names() == ["text", "html", "xml", "json", "lcov", "annotate"]
    assert default_registry().get("json").load().__name__ == "JsonReporter"
    assert default_registry().get("html").output == "directory"

    class Mine:
        report_type = "mine"

        def __init__(self, **options):
            self.options = options

    registry = ReporterRegistry()
    register_builtin_reporters(registry)
    registry.register(ReporterSpec("mine", Mine, "my report", output_option="json:output"))
    assert registry.get("mine").create(a=1).options == {"a": 1}
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(ReporterSpec("xml", Mine, "again"))
    with pytest.raises(ConfigError, match="Unknown reporter 'nope'"):
        registry.get("nope")


@pytest.mark.backend
def test_json_options_from_config_and_stdout(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "main.py", cwd=work).rc == 0
    write(work / ".covcorerc", "[json]\noutput = out/report.json\npretty_print = true\n")
    res = covcore("json", cwd=work)
    assert res.rc == 0 and res.out == "Wrote JSON report to out/report.json\n", res
    assert (work / "out/report.json").read_text().startswith("{\n    ")
    res = covcore("json", "-o", "-", cwd=work)
    assert res.rc == 0, res
    assert json.loads(res.out)["meta"]["format"] == 3
    res = covcore("json", "-q", cwd=work)
    assert res.rc == 0 and res.out == ""
