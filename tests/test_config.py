"""Tests of covcore.config: the option table and the layered loader."""

from __future__ import annotations

import os
import pathlib
import re
import textwrap

import pytest

from covcore import config as configmod
from covcore.config import OPTIONS, CovcoreConfig, Option, read_config
from covcore.errors import ConfigError, CovcoreWarning

# coverage.py 7.17's defaults, spelled out so that a change is noticed.
COVERAGE_DEFAULT_EXCLUDE = [
    r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)",
    r"^\s*(((async )?def .*?)?[\])]+(\s*->.*?)?:\s*)?\.\.\.\s*(#|$)",
    r"^\s*if (typing\.)?TYPE_CHECKING:",
]
COVERAGE_DEFAULT_PARTIAL = [r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(branch|BRANCH)"]
COVERAGE_DEFAULT_PARTIAL_ALWAYS = [r"^\s*while (True|1|False|0):", r"^\s*if (True|1|False|0):"]

SEARCHED = [
    ".covcorerc",
    ".covcorerc.toml",
    "setup.cfg",
    "tox.ini",
    "pyproject.toml",
    ".coveragerc",
    ".coveragerc.toml",
]


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """Run each test in an empty directory, without covcore's variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("COVCORE_RCFILE", "COVCORE_FILE", "COVCORE_CORE", "COVCORE_DEBUG"):
        monkeypatch.delenv(name, raising=False)


class Warnings(list):
    """A `warn` callback that records (message, slug) pairs."""

    def __call__(self, message, slug):
        self.append((message, slug))


@pytest.fixture
def warned():
    return Warnings()


def write(name, text):
    pathlib.Path(name).write_text(textwrap.dedent(text), encoding="utf-8")


def abspath(name):
    return os.path.abspath(name)


def regex_error(regex):
    try:
        re.compile(regex)
    except re.error as err:
        return str(err)
    raise AssertionError(f"{regex!r} compiles")


# -- the option table ---------------------------------------------------------


def test_option_table_is_complete():
    attrs = [option.attr for option in OPTIONS]
    assert len(attrs) == len(set(attrs))
    assert len({option.key for option in OPTIONS}) == len(OPTIONS)
    for option in OPTIONS:
        assert isinstance(option, Option)
        assert option.description
        assert option.type in ("bool", "int", "float", "str", "file", "list", "regexlist", "paths", "thresholds")
        assert getattr(CovcoreConfig, option.attr) is option
    keys = {option.key: option.attr for option in OPTIONS}
    expected = {
        "run:branch": "branch", "run:command_line": "command_line",
        "run:concurrency": "concurrency", "run:context": "context", "run:core": "core",
        "run:cover_pylib": "cover_pylib", "run:data_file": "data_file", "run:debug": "debug",
        "run:debug_file": "debug_file", "run:disable_warnings": "disable_warnings",
        "run:dynamic_context": "dynamic_context", "run:gc_freeze": "gc_freeze", "run:include": "run_include",
        "run:omit": "run_omit", "run:parallel": "parallel", "run:patch": "patch",
        "run:plugins": "plugins", "run:relative_files": "relative_files", "run:remap_installed": "remap_installed",
        "run:sigterm": "sigterm", "run:source": "source", "run:source_pkgs": "source_pkgs",
        "run:source_dirs": "source_dirs", "run:timid": "timid",
        "report:exclude_lines": "exclude_list", "report:exclude_also": "exclude_also",
        "report:fail_under": "fail_under", "report:fail_under_files": "fail_under_files",
        "report:format": "format",
        "report:ignore_errors": "ignore_errors",
        "report:include_namespace_packages": "include_namespace_packages",
        "report:partial_branches_always": "partial_always_list",
        "report:partial_branches": "partial_list", "report:partial_also": "partial_also",
        "report:precision": "precision", "report:contexts": "report_contexts",
        "report:include": "report_include", "report:omit": "report_omit",
        "report:show_missing": "show_missing", "report:skip_covered": "skip_covered",
        "report:skip_empty": "skip_empty", "report:sort": "sort",
        "html:extra_css": "extra_css", "html:directory": "html_dir",
        "html:skip_covered": "html_skip_covered", "html:skip_empty": "html_skip_empty",
        "html:title": "html_title", "html:show_contexts": "show_contexts",
        "xml:output": "xml_output", "xml:package_depth": "xml_package_depth",
        "json:output": "json_output", "json:pretty_print": "json_pretty_print",
        "json:show_contexts": "json_show_contexts",
        "lcov:output": "lcov_output", "lcov:line_checksums": "lcov_line_checksums",
        "paths": "paths",
    }  # fmt: skip
    assert keys == expected


def test_defaults():
    config = read_config(False)
    assert config.config_file is None
    assert config.config_files_read == []
    assert config.config_files_attempted == []
    expected = {
        "branch": False, "command_line": None, "concurrency": [], "context": None,
        "core": None, "cover_pylib": False, "data_file": ".covcore", "debug": [],
        "debug_file": None, "disable_warnings": [], "dynamic_context": None, "gc_freeze": True,
        "run_include": [], "run_omit": [], "parallel": False, "patch": [], "plugins": [],
        "relative_files": False, "remap_installed": True, "sigterm": False, "source": None, "source_pkgs": [],
        "source_dirs": [], "timid": False,
        "exclude_list": COVERAGE_DEFAULT_EXCLUDE, "exclude_also": [], "fail_under": 0.0, "fail_under_files": {},
        "format": None, "ignore_errors": False, "include_namespace_packages": False,
        "partial_always_list": COVERAGE_DEFAULT_PARTIAL_ALWAYS,
        "partial_list": COVERAGE_DEFAULT_PARTIAL, "partial_also": [], "precision": 0,
        "report_contexts": None, "report_include": None, "report_omit": None,
        "show_missing": False, "skip_covered": False, "skip_empty": False, "sort": None,
        "extra_css": None, "html_dir": "htmlcov", "html_skip_covered": None,
        "html_skip_empty": None, "html_title": "Coverage report", "show_contexts": False,
        "xml_output": "coverage.xml", "xml_package_depth": 99,
        "json_output": "coverage.json", "json_pretty_print": False,
        "json_show_contexts": False, "lcov_output": "coverage.lcov",
        "lcov_line_checksums": False, "paths": {},
    }  # fmt: skip
    assert {option.attr: getattr(config, option.attr) for option in OPTIONS} == expected
    assert type(config.fail_under) is float
    assert configmod.DEFAULT_EXCLUDE == COVERAGE_DEFAULT_EXCLUDE
    assert configmod.DEFAULT_PARTIAL == COVERAGE_DEFAULT_PARTIAL
    assert configmod.DEFAULT_PARTIAL_ALWAYS == COVERAGE_DEFAULT_PARTIAL_ALWAYS


def test_reprs():
    assert repr(CovcoreConfig.branch) == "<Option branch [run:branch] bool>"
    assert repr(CovcoreConfig.paths) == "<Option paths [paths] paths>"
    write(".covcorerc", "")
    assert repr(read_config()) == f"<CovcoreConfig from {abspath('.covcorerc')!r}>"


def test_defaults_are_not_shared():
    first = read_config(False)
    first.debug.append("trace")
    first.exclude_list.append("xyzzy")
    second = read_config(False)
    assert second.debug == []
    assert second.exclude_list == COVERAGE_DEFAULT_EXCLUDE
    assert configmod.DEFAULT_EXCLUDE == COVERAGE_DEFAULT_EXCLUDE


def test_as_dict():
    config = read_config(False, branch=True)
    values = config.as_dict()
    assert values["branch"] is True
    assert values["data_file"] == ".covcore"
    assert values["config_file"] is None
    assert values["config_files_read"] == []
    assert set(values) == {o.attr for o in OPTIONS} | {
        "config_file", "config_files_read", "plugin_options"
    }


# -- which file is read -------------------------------------------------------

FILE_KINDS = [
    (".covcorerc", "[run]\nbranch = true\n[report]\nprecision = 2\n"),
    (".covcorerc", "[covcore:run]\nbranch = true\n[covcore:report]\nprecision = 2\n"),
    (".covcorerc.toml", "[run]\nbranch = true\n[report]\nprecision = 2\n"),
    ("setup.cfg", "[covcore:run]\nbranch = true\n[covcore:report]\nprecision = 2\n"),
    ("tox.ini", "[covcore:run]\nbranch = true\n[covcore:report]\nprecision = 2\n"),
    ("pyproject.toml", "[tool.covcore.run]\nbranch = true\n[tool.covcore.report]\nprecision = 2\n"),
    (".coveragerc", "[run]\nbranch = true\n[report]\nprecision = 2\n"),
    (".coveragerc", "[coverage:run]\nbranch = true\n[coverage:report]\nprecision = 2\n"),
    (".coveragerc.toml", "[run]\nbranch = true\n[report]\nprecision = 2\n"),
    ("setup.cfg", "[coverage:run]\nbranch = true\n[coverage:report]\nprecision = 2\n"),
    ("tox.ini", "[coverage:run]\nbranch = true\n[coverage:report]\nprecision = 2\n"),
    (
        "pyproject.toml",
        "[tool.coverage.run]\nbranch = true\n[tool.coverage.report]\nprecision = 2\n",
    ),
]


@pytest.mark.parametrize("filename, text", FILE_KINDS)
def test_file_kinds(filename, text, warned):
    write(filename, text)
    config = read_config(warn=warned)
    assert config.branch is True
    assert config.precision == 2
    assert config.config_file == abspath(filename)
    assert abspath(filename) in config.config_files_read
    assert warned == []


@pytest.mark.parametrize("filename, text", FILE_KINDS)
def test_explicit_file_kinds(filename, text, warned):
    write(filename, text)
    config = read_config(filename, warn=warned)
    assert (config.branch, config.precision) == (True, 2)
    assert config.config_file == abspath(filename)
    assert config.config_files_read == [abspath(filename)]
    assert warned == []


def test_no_config_file_anywhere():
    config = read_config()
    assert config.config_file is None
    assert config.config_files_read == []
    assert config.config_files_attempted == [abspath(name) for name in SEARCHED]
    assert config.branch is False


def test_search_order_covcore_files():
    write(".covcorerc", "[run]\ndata_file = rc\n")
    write("setup.cfg", "[covcore:run]\ndata_file = setup\n")
    write("tox.ini", "[covcore:run]\ndata_file = tox\n")
    write("pyproject.toml", '[tool.covcore.run]\ndata_file = "pyproject"\n')
    assert read_config().data_file == "rc"
    os.remove(".covcorerc")
    assert read_config().data_file == "setup"
    os.remove("setup.cfg")
    assert read_config().data_file == "tox"
    os.remove("tox.ini")
    assert read_config().data_file == "pyproject"


def test_search_order_coverage_files():
    write(".coveragerc", "[run]\ndata_file = rc\n")
    write("setup.cfg", "[coverage:run]\ndata_file = setup\n")
    write("tox.ini", "[coverage:run]\ndata_file = tox\n")
    write("pyproject.toml", '[tool.coverage.run]\ndata_file = "pyproject"\n')
    assert read_config().data_file == "rc"
    os.remove(".coveragerc")
    assert read_config().data_file == "setup"
    os.remove("setup.cfg")
    assert read_config().data_file == "tox"
    os.remove("tox.ini")
    assert read_config().data_file == "pyproject"


@pytest.mark.parametrize("filename, text, ours", [
    (".covcorerc", "[run]\nbranch = true\n", True),
    (".covcorerc", "[covcore:run]\nbranch = true\n", True),
    ("setup.cfg", "[covcore:run]\nbranch = true\n", True),
    ("tox.ini", "[covcore:report]\nshow_missing = true\n", True),
    ("pyproject.toml", "[tool.covcore.run]\nbranch = true\n", True),
    (".coveragerc", "[run]\nbranch = true\n", False),
    ("setup.cfg", "[coverage:run]\nbranch = true\n", False),
    ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n", False),
    ("setup.cfg", "[metadata]\nname = x\n", False),
])
def test_covcore_config_says_whose_file_was_used(filename, text, ours):
    write(filename, text)
    config = read_config()
    assert config.covcore_config is ours
    assert config.branch is ("branch" in text)
    os.rename(filename, "explicit.cfg")
    assert read_config("explicit.cfg").covcore_config is True  # named by the user: theirs for covcore


def test_covcore_config_beats_coverage_config():
    write(".coveragerc", "[run]\ndata_file = coveragerc\n")
    write("setup.cfg", "[coverage:run]\ndata_file = setup-coverage\n")
    write("pyproject.toml", '[tool.covcore.run]\ndata_file = "pyproject-covcore"\n')
    config = read_config()
    assert config.data_file == "pyproject-covcore"
    assert config.config_file == abspath("pyproject.toml")


def test_covcore_sections_beat_coverage_sections_in_one_file():
    write(
        "setup.cfg",
        """\
        [coverage:run]
        branch = true
        data_file = from-coverage
        [coverage:report]
        precision = 3
        [covcore:run]
        data_file = from-covcore
        """,
    )
    config = read_config()
    # Only covcore's sections count: none of coverage.py's are merged in.
    assert (config.data_file, config.branch, config.precision) == ("from-covcore", False, 0)


def test_only_one_file_is_used():
    write(".covcorerc", "[run]\nbranch = true\n")
    write("setup.cfg", "[covcore:report]\nprecision = 4\n")
    config = read_config()
    assert (config.branch, config.precision) == (True, 0)
    assert config.config_files_read == [abspath(".covcorerc")]


def test_shared_file_without_our_sections_is_read_but_not_used(warned):
    write("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\naddopts = -q\n")
    write("tox.ini", "[covcore:run]\nbranch = on\n")
    config = read_config(warn=warned)
    assert config.branch is True
    assert config.config_file == abspath("tox.ini")
    assert config.config_files_read == [abspath("setup.cfg"), abspath("tox.ini")]
    assert warned == []


def test_empty_rc_file_is_used():
    write(".covcorerc", "")
    write("setup.cfg", "[covcore:run]\nbranch = true\n")
    config = read_config()
    assert config.branch is False
    assert config.config_file == abspath(".covcorerc")


def test_empty_covcore_table_in_pyproject_beats_coveragerc():
    write("pyproject.toml", "[tool.covcore]\n")
    write(".coveragerc", "[run]\nbranch = true\n")
    config = read_config()
    assert config.branch is False
    assert config.config_file == abspath("pyproject.toml")


def test_explicit_file_beats_search():
    write(".covcorerc", "[run]\ndata_file = rc\n")
    write("my.cfg", "[run]\ndata_file = mine\n")
    config = read_config("my.cfg")
    assert config.data_file == "mine"
    assert config.config_file == abspath("my.cfg")
    assert config.config_files_attempted == [abspath("my.cfg")]


def test_explicit_file_may_be_a_path(tmp_path):
    write("my.cfg", "[run]\nbranch = 1\n")
    assert read_config(tmp_path / "my.cfg").branch is True


def test_explicit_file_prefers_covcore_then_coverage_then_bare():
    write("my.cfg", "[run]\ndata_file = bare\n[coverage:run]\ndata_file = coverage\n")
    assert read_config("my.cfg").data_file == "coverage"
    write("my.cfg", "[run]\ndata_file = bare\n[covcore:run]\ndata_file = covcore\n")
    assert read_config("my.cfg").data_file == "covcore"
    write("my.toml", '[run]\ndata_file = "bare"\n[tool.coverage.run]\ndata_file = "coverage"\n')
    assert read_config("my.toml").data_file == "coverage"


def test_explicit_shared_file_with_unprefixed_sections(warned):
    write("setup.cfg", "[metadata]\nname = x\n[run]\nbranch = true\n")
    config = read_config("setup.cfg", warn=warned)
    assert config.branch is True
    assert warned == []  # [metadata] is not ours


def test_explicit_pyproject_with_unprefixed_tables(warned):
    write("pyproject.toml", 'requires = "x"\n[project]\nname = "x"\n[run]\nbranch = true\n')
    config = read_config("pyproject.toml", warn=warned)
    assert config.branch is True
    assert warned == []  # requires= and [project] are not ours


def test_explicit_file_without_settings_is_still_used():
    write("setup.cfg", "[metadata]\nname = x\n")
    config = read_config("setup.cfg")
    assert config.config_file == abspath("setup.cfg")
    assert config.branch is False


def test_missing_explicit_file():
    write(".covcorerc", "[run]\nbranch = true\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config("x.cfg")
    assert str(exc_info.value) == "Couldn't read 'x.cfg' as a config file"
    assert exc_info.value.slug == "config"


def test_rcfile_environment_variable(monkeypatch):
    write(".covcorerc", "[run]\ndata_file = rc\n")
    write("other.cfg", "[run]\ndata_file = other\n")
    write("explicit.cfg", "[run]\ndata_file = explicit\n")
    monkeypatch.setenv("COVCORE_RCFILE", "other.cfg")
    assert read_config().data_file == "other"
    assert read_config(None).data_file == "other"
    assert read_config("explicit.cfg").data_file == "explicit"
    assert read_config(False).data_file == ".covcore"
    assert read_config(False).config_file is None
    monkeypatch.setenv("COVCORE_RCFILE", "")
    assert read_config().data_file == "rc"


def test_missing_rcfile_environment_variable(monkeypatch):
    monkeypatch.setenv("COVCORE_RCFILE", "nope.ini")
    with pytest.raises(ConfigError, match=r"^Couldn't read 'nope.ini' as a config file$"):
        read_config()


def test_false_reads_no_file():
    write(".covcorerc", "[run]\nbranch = true\n")
    config = read_config(False)
    assert config.branch is False
    assert config.config_files_attempted == []


# -- value types in INI files ---------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True), ("false", False), ("1", True), ("0", False), ("yes", True),
        ("no", False), ("on", True), ("off", False), ("TRUE", True), ("Off", False),
        ("  Yes  ", True),
    ],
)  # fmt: skip
def test_ini_booleans(text, value):
    write(".covcorerc", f"[run]\nbranch = {text}\ntimid = {text}\n")
    config = read_config()
    assert config.branch is value
    assert config.timid is value


def test_ini_bad_boolean():
    write(".covcorerc", "[run]\nbranch = maybe\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        "Config option [run] branch: invalid value 'maybe' (expected a boolean) in '.covcorerc'"
    )


def test_ini_lists():
    write(
        "setup.cfg",
        """\
        [covcore:run]
        source = a, b,,
            c
            d ,e

        omit = */test_*.py
        concurrency =
        """,
    )
    config = read_config()
    assert config.source == ["a", "b", "c", "d", "e"]
    assert config.run_omit == ["*/test_*.py"]
    assert config.concurrency == []


def test_ini_regex_lists():
    write(
        ".covcorerc",
        """\
        [report]
        exclude_lines =
            pragma: no cover

            def __repr__, and more
        exclude_also =   raise AssertionError
            if 0:
        partial_branches = while True:
        partial_also =
            for x in (a, b):
        partial_branches_always = ^if DEBUG:
        """,
    )
    config = read_config()
    assert config.exclude_list == [
        "pragma: no cover", "def __repr__, and more", "raise AssertionError", "if 0:",
    ]  # fmt: skip
    assert config.exclude_also == ["raise AssertionError", "if 0:"]
    assert config.partial_list == ["while True:", "for x in (a, b):"]
    assert config.partial_also == ["for x in (a, b):"]
    assert config.partial_always_list == ["^if DEBUG:"]


def test_exclude_also_adds_to_default_excludes():
    write("pyproject.toml", '[tool.covcore.report]\nexclude_also = ["def main"]\n')
    assert read_config().exclude_list == COVERAGE_DEFAULT_EXCLUDE + ["def main"]


def test_ini_bad_regex():
    write("setup.cfg", "[covcore:report]\nexclude_lines =\n    ok\n    bad(\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        "Config option [covcore:report] exclude_lines: "
        f"invalid regex 'bad(' ({regex_error('bad(')}) in 'setup.cfg'"
    )


def test_ini_numbers():
    write(".covcorerc", "[report]\nfail_under = 87.5\nprecision = 2\n[xml]\npackage_depth = 3\n")
    config = read_config()
    assert (config.fail_under, config.precision, config.xml_package_depth) == (87.5, 2, 3)
    assert type(config.fail_under) is float
    write(".covcorerc", "[report]\nfail_under = 100\nprecision = 10\n")
    config = read_config()
    assert (config.fail_under, config.precision) == (100.0, 10)
    write(".covcorerc", "[report]\nfail_under = 0\nprecision = 0\n")
    assert (read_config().fail_under, read_config().precision) == (0.0, 0)


@pytest.mark.parametrize(
    "section, option, text, expected",
    [
        ("report", "fail_under", "abc", "a number from 0 to 100"),
        ("report", "fail_under", "150", "a number from 0 to 100"),
        ("report", "fail_under", "-0.5", "a number from 0 to 100"),
        ("report", "fail_under", "nan", "a number from 0 to 100"),
        ("report", "precision", "x", "an integer from 0 to 10"),
        ("report", "precision", "2.5", "an integer from 0 to 10"),
        ("report", "precision", "11", "an integer from 0 to 10"),
        ("report", "precision", "-1", "an integer from 0 to 10"),
        ("xml", "package_depth", "deep", "an integer"),
        ("json", "pretty_print", "2", "a boolean"),
    ],
)
def test_ini_bad_numbers(section, option, text, expected):
    write("setup.cfg", f"[covcore:{section}]\n{option} = {text}\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        f"Config option [covcore:{section}] {option}: "
        f"invalid value {text!r} (expected {expected}) in 'setup.cfg'"
    )


def test_ini_strings_and_files(monkeypatch):
    monkeypatch.setenv("HOME", "/home/me")
    write(
        ".covcorerc",
        """\
        [run]
        data_file = ~/data/.covcore
        context = ~ctx
        debug_file = ~/debug.txt
        [html]
        directory = ~/html
        title = My ~ report
        extra_css = extra.css
        [xml]
        output = ~/cov.xml
        [json]
        output = out.json
        pretty_print = true
        show_contexts = true
        [lcov]
        output = out.lcov
        line_checksums = yes
        """,
    )
    config = read_config()
    assert config.data_file == "/home/me/data/.covcore"
    assert config.context == "~ctx"
    assert config.debug_file == "/home/me/debug.txt"
    assert config.html_dir == "/home/me/html"
    assert config.html_title == "My ~ report"
    assert config.extra_css == "extra.css"
    assert config.xml_output == "/home/me/cov.xml"
    assert (config.json_output, config.json_pretty_print, config.json_show_contexts) == (
        "out.json", True, True,
    )  # fmt: skip
    assert (config.lcov_output, config.lcov_line_checksums) == ("out.lcov", True)


def test_ini_paths_keep_their_order(monkeypatch):
    monkeypatch.setenv("HOME", "/home/me")
    write(
        "setup.cfg",
        """\
        [covcore:paths]
        zeta =
            src/
            */site-packages/
        alpha = lib/, ~/lib/
        """,
    )
    config = read_config()
    assert list(config.paths) == ["zeta", "alpha"]
    assert config.paths == {"zeta": ["src/", "*/site-packages/"], "alpha": ["lib/", "/home/me/lib/"]}


def test_every_known_option_in_every_section(warned):
    write(
        "setup.cfg",
        """\
        [covcore:run]
        branch = 1
        command_line = -m pytest
        concurrency = thread
        context = ctx
        core = sysmon
        cover_pylib = 1
        data_file = d
        debug = trace
        debug_file = dbg
        disable_warnings = no-data-collected
        dynamic_context = test_function
        include = i
        omit = o
        parallel = 1
        patch = subprocess
        plugins = plug
        relative_files = 1
        sigterm = 1
        source = s
        source_pkgs = sp
        source_dirs = sd
        timid = 1
        [covcore:report]
        contexts = c
        exclude_lines = x
        exclude_also = y
        fail_under = 1
        format = markdown
        ignore_errors = 1
        include = ri
        include_namespace_packages = 1
        omit = ro
        partial_branches = p
        partial_branches_always = pa
        partial_also = q
        precision = 1
        show_missing = 1
        skip_covered = 1
        skip_empty = 1
        sort = cover
        [covcore:html]
        directory = h
        extra_css = e
        show_contexts = 1
        skip_covered = 0
        skip_empty = 0
        title = t
        [covcore:xml]
        output = x.xml
        package_depth = 2
        [covcore:json]
        output = j
        pretty_print = 1
        show_contexts = 1
        [covcore:lcov]
        output = l
        line_checksums = 1
        [covcore:paths]
        p = a, b
        [covcore:plug]
        opt = 1
        """,
    )
    config = read_config(warn=warned)
    assert warned == []
    assert config.command_line == "-m pytest"
    assert (config.run_include, config.run_omit) == (["i"], ["o"])
    assert (config.report_include, config.report_omit) == (["ri"], ["ro"])
    assert (config.exclude_list, config.partial_list) == (["x", "y"], ["p", "q"])
    assert config.partial_always_list == ["pa"]
    assert (config.html_skip_covered, config.html_skip_empty) == (False, False)
    assert config.report_contexts == ["c"]
    assert config.plugin_options == {"plug": {"opt": "1"}}


# -- value types in TOML files --------------------------------------------------


def test_toml_values(monkeypatch):
    monkeypatch.setenv("HOME", "/home/me")
    write(
        "pyproject.toml",
        """\
        [tool.covcore.run]
        branch = true
        source = ["a", "b"]
        omit = "*/tests/*"
        data_file = "~/x/.covcore"
        [tool.covcore.report]
        fail_under = 80
        precision = 1
        exclude_also = ["  raise NotImplementedError  ", ""]
        partial_also = "while more:"
        skip_covered = false
        [tool.covcore.xml]
        package_depth = 4
        [tool.covcore.paths]
        zeta = ["src/", "*/src/"]
        alpha = "lib/"
        """,
    )
    config = read_config()
    assert config.branch is True
    assert config.source == ["a", "b"]
    assert config.run_omit == ["*/tests/*"]  # a string is a one-element list
    assert config.data_file == "/home/me/x/.covcore"
    assert config.fail_under == 80.0
    assert type(config.fail_under) is float
    assert config.precision == 1
    assert config.exclude_list == COVERAGE_DEFAULT_EXCLUDE + ["raise NotImplementedError"]
    assert config.partial_list == COVERAGE_DEFAULT_PARTIAL + ["while more:"]
    assert config.skip_covered is False
    assert config.xml_package_depth == 4
    assert list(config.paths.items()) == [("zeta", ["src/", "*/src/"]), ("alpha", ["lib/"])]


def test_toml_strings_for_scalars_as_coverage_py_accepts():
    write(
        "pyproject.toml",
        '[tool.coverage.run]\nbranch = "true"\n[tool.coverage.report]\n'
        'fail_under = "90.5"\nprecision = "2"\n',
    )
    config = read_config()
    assert (config.branch, config.fail_under, config.precision) == (True, 90.5, 2)


@pytest.mark.parametrize(
    "section, line, shown, expected",
    [
        ("run", "branch = 1", "1", "a boolean"),
        ("run", 'branch = "maybe"', "'maybe'", "a boolean"),
        ("run", "data_file = 5", "5", "a string"),
        ("run", "context = [\"a\"]", "['a']", "a string"),
        ("run", "source = [1, 2]", "[1, 2]", "a list of strings"),
        ("run", "source = 5", "5", "a list of strings"),
        ("run", "source = {a = 1}", "{'a': 1}", "a list of strings"),
        ("report", "exclude_lines = true", "True", "a list of strings"),
        ("report", "fail_under = true", "True", "a number from 0 to 100"),
        ("report", "fail_under = 100.5", "100.5", "a number from 0 to 100"),
        ("report", 'fail_under = "abc"', "'abc'", "a number from 0 to 100"),
        ("report", "precision = 2.0", "2.0", "an integer from 0 to 10"),
        ("report", "precision = 11", "11", "an integer from 0 to 10"),
        ("xml", "package_depth = false", "False", "an integer"),
        ("paths", "source = 3", "3", "a list of strings"),
    ],
)
def test_toml_bad_types(section, line, shown, expected):
    write("pyproject.toml", f"[tool.covcore.{section}]\n{line}\n")
    option = line.split()[0]
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        f"Config option [tool.covcore.{section}] {option}: "
        f"invalid value {shown} (expected {expected}) in 'pyproject.toml'"
    )


def test_toml_bad_regex():
    write("pyproject.toml", '[tool.coverage.report]\npartial_branches = ["[z-a]"]\n')
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        "Config option [tool.coverage.report] partial_branches: "
        f"invalid regex '[z-a]' ({regex_error('[z-a]')}) in 'pyproject.toml'"
    )


def test_toml_section_that_is_not_a_table():
    write("pyproject.toml", "[tool.covcore]\nrun = 5\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        "Config section [tool.covcore.run] is not a table in 'pyproject.toml'"
    )
    write("pyproject.toml", "[tool]\ncovcore = 5\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == "Config section [tool.covcore] is not a table in 'pyproject.toml'"


# -- environment variables in values ------------------------------------------


def test_ini_variable_expansion(monkeypatch):
    monkeypatch.setenv("COV_DIR", "/data")
    monkeypatch.setenv("COV_NAME", "run1")
    monkeypatch.delenv("COV_UNSET", raising=False)
    write(
        ".covcorerc",
        """\
        [run]
        data_file = $COV_DIR/${COV_NAME}.db
        context = [${COV_UNSET-fallback}] [$COV_UNSET] [${COV_UNSET}] $$COV_DIR $ ${-x}
        source = $COV_NAME, ${COV_UNSET-b}
        [report]
        exclude_lines = ^\\s*raise$
        [paths]
        src = ${COV_DIR}/src
        """,
    )
    config = read_config()
    assert config.data_file == "/data/run1.db"
    assert config.context == "[fallback] [] [] $COV_DIR $ ${-x}"
    assert config.source == ["run1", "b"]
    assert config.exclude_list == [r"^\s*raise$"]
    assert config.paths == {"src": ["/data/src"]}


def test_toml_variable_expansion(monkeypatch):
    monkeypatch.setenv("COV_DIR", "/data")
    monkeypatch.delenv("COV_UNSET", raising=False)
    write(
        "pyproject.toml",
        """\
        [tool.covcore.run]
        data_file = "${COV_DIR}/.covcore"
        source = ["$COV_DIR/a", "${COV_UNSET-b}"]
        [tool.covcore.report]
        sort = "$$COV_DIR"
        [tool.covcore.paths]
        src = ["${COV_DIR}/src"]
        """,
    )
    config = read_config()
    assert config.data_file == "/data/.covcore"
    assert config.source == ["/data/a", "b"]
    assert config.sort == "$COV_DIR"
    assert config.paths == {"src": ["/data/src"]}


def test_strict_variable_must_be_set(monkeypatch):
    monkeypatch.delenv("COV_UNSET", raising=False)
    write("setup.cfg", "[covcore:run]\ndata_file = x${COV_UNSET?}\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == (
        "Config option [covcore:run] data_file: environment variable COV_UNSET is not set "
        "in 'setup.cfg'"
    )
    monkeypatch.setenv("COV_UNSET", "set")
    assert read_config().data_file == "xset"


# -- the environment layer ------------------------------------------------------


def test_environment_layer(monkeypatch):
    write(".covcorerc", "[run]\ndata_file = from-file\ncore = ctrace\ndebug = sys\n")
    monkeypatch.setenv("COVCORE_FILE", "from-env")
    monkeypatch.setenv("COVCORE_CORE", "pytrace")
    monkeypatch.setenv("COVCORE_DEBUG", " trace, ,config ")
    config = read_config()
    assert config.data_file == "from-env"
    assert config.core == "pytrace"
    assert config.debug == ["sys", "trace", "config"]


def test_empty_environment_variables_are_ignored(monkeypatch):
    write(".covcorerc", "[run]\ndata_file = from-file\ncore = ctrace\ndebug = sys\n")
    for name in ("COVCORE_FILE", "COVCORE_CORE", "COVCORE_DEBUG"):
        monkeypatch.setenv(name, "")
    config = read_config()
    assert (config.data_file, config.core, config.debug) == ("from-file", "ctrace", ["sys"])


def test_environment_layer_without_file(monkeypatch):
    monkeypatch.setenv("COVCORE_FILE", "env.db")
    monkeypatch.setenv("COVCORE_DEBUG", "trace")
    config = read_config(False)
    assert (config.data_file, config.debug) == ("env.db", ["trace"])


# -- the arguments layer --------------------------------------------------------


def test_arguments_override_everything(monkeypatch):
    write(".covcorerc", "[run]\ndata_file = file\nbranch = false\ndebug = sys\n[report]\n"
          "fail_under = 50\n")  # fmt: skip
    monkeypatch.setenv("COVCORE_FILE", "env")
    monkeypatch.setenv("COVCORE_DEBUG", "trace")
    config = read_config(
        data_file="arg", branch=True, debug=["config"], fail_under=75, source=["pkg"],
        run_omit=("a", "b"), report_include="x/*", precision=None,
    )  # fmt: skip
    assert config.data_file == "arg"
    assert config.branch is True
    assert config.debug == ["config"]
    assert config.fail_under == 75.0
    assert type(config.fail_under) is float
    assert config.source == ["pkg"]
    assert config.run_omit == ["a", "b"]
    assert config.report_include == ["x/*"]  # a string is a one-element list
    assert config.precision == 0  # None means "not given"


def test_none_arguments_keep_file_values():
    write(".covcorerc", "[run]\nbranch = true\nsource = a\n")
    config = read_config(branch=None, source=None)
    assert (config.branch, config.source) == (True, ["a"])


def test_argument_strings_are_parsed():
    config = read_config(False, branch="yes", fail_under="82.5", precision="3")
    assert (config.branch, config.fail_under, config.precision) == (True, 82.5, 3)


def test_regex_and_paths_arguments():
    config = read_config(False, exclude_also=["def main"], paths={"b": ["x"], "a": "y"})
    assert config.exclude_list == COVERAGE_DEFAULT_EXCLUDE + ["def main"]
    assert list(config.paths.items()) == [("b", ["x"]), ("a", ["y"])]
    config = read_config(False, exclude_list=["only this"], partial_also=["more"])
    assert config.exclude_list == ["only this"]
    assert config.partial_list == COVERAGE_DEFAULT_PARTIAL + ["more"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"branch": "maybe"}, "Argument branch: invalid value 'maybe' (expected a boolean)"),
        ({"branch": 1}, "Argument branch: invalid value 1 (expected a boolean)"),
        (
            {"fail_under": 150},
            "Argument fail_under: invalid value 150 (expected a number from 0 to 100)",
        ),
        (
            {"fail_under": -1.0},
            "Argument fail_under: invalid value -1.0 (expected a number from 0 to 100)",
        ),
        ({"precision": 11}, "Argument precision: invalid value 11 (expected an integer from 0 to 10)"),
        ({"precision": -1}, "Argument precision: invalid value -1 (expected an integer from 0 to 10)"),
        ({"source": [1]}, "Argument source: invalid value [1] (expected a list of strings)"),
        ({"data_file": 3}, "Argument data_file: invalid value 3 (expected a string)"),
        (
            {"exclude_also": ["("]},
            f"Argument exclude_also: invalid regex '(' ({regex_error('(')})",
        ),
        (
            {"paths": ["a"]},
            "Argument paths: invalid value ['a'] (expected a mapping of names to lists of paths)",
        ),
        ({"paths": {"a": 1}}, "Argument paths a: invalid value 1 (expected a list of strings)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError) as exc_info:
        read_config(False, **kwargs)
    assert str(exc_info.value) == message


def test_unknown_argument():
    with pytest.raises(TypeError, match=r"^read_config\(\) got an unexpected keyword argument 'brnch'$"):
        read_config(False, brnch=True)


def test_patch_subprocess_implies_parallel():
    assert read_config(False, patch=["subprocess"]).parallel is True
    assert read_config(False, patch=["_exit"]).parallel is False


# -- warnings -------------------------------------------------------------------


def test_unknown_options_warn(warned):
    write(
        "setup.cfg",
        """\
        [covcore:run]
        branch = true
        brnch = true
        [covcore:report]
        fail_undr = 90
        [covcore:html]
        dir = x
        [covcore:paths]
        anything = goes
        [covcore:runn]
        branch = true
        [tool:pytest]
        addopts = -q
        [coverage:run]
        nonsense = 1
        """,
    )
    config = read_config(warn=warned)
    assert config.branch is True
    assert warned == [
        ("Unrecognized option '[covcore:run] brnch=' in config file 'setup.cfg'", "unknown-option"),
        (
            "Unrecognized option '[covcore:report] fail_undr=' in config file 'setup.cfg'",
            "unknown-option",
        ),
        ("Unrecognized option '[covcore:html] dir=' in config file 'setup.cfg'", "unknown-option"),
        ("Unrecognized section '[covcore:runn]' in config file 'setup.cfg'", "unknown-section"),
    ]


def test_unknown_options_warn_in_rc_file(warned):
    write(".coveragerc", "[run]\n_crash = x\n[report]\nshow_misssing = 1\n[xmll]\noutput = x\n")
    read_config(warn=warned)
    assert warned == [
        ("Unrecognized option '[run] _crash=' in config file '.coveragerc'", "unknown-option"),
        (
            "Unrecognized option '[report] show_misssing=' in config file '.coveragerc'",
            "unknown-option",
        ),
        ("Unrecognized section '[xmll]' in config file '.coveragerc'", "unknown-section"),
    ]


def test_unknown_options_warn_in_toml(warned):
    write(
        "pyproject.toml",
        """\
        [project]
        name = "x"
        [tool.covcore]
        branch = true
        [tool.covcore.run]
        sourc = ["x"]
        [tool.covcore.lcov]
        output = "x.lcov"
        [tool.covcore.jsn]
        output = "x"
        [tool.coverage.run]
        whatever = 1
        """,
    )
    config = read_config(warn=warned)
    assert config.lcov_output == "x.lcov"
    assert warned == [
        ("Unrecognized option '[tool.covcore] branch=' in config file 'pyproject.toml'", "unknown-option"),
        (
            "Unrecognized option '[tool.covcore.run] sourc=' in config file 'pyproject.toml'",
            "unknown-option",
        ),
        ("Unrecognized section '[tool.covcore.jsn]' in config file 'pyproject.toml'", "unknown-section"),
    ]


def test_default_warning_is_a_covcore_warning():
    write(".covcorerc", "[run]\nbrnch = 1\n")
    with pytest.warns(CovcoreWarning) as record:
        read_config()
    assert [str(w.message) for w in record] == [
        "Unrecognized option '[run] brnch=' in config file '.covcorerc'"
    ]


def test_plugin_sections(monkeypatch, warned):
    monkeypatch.setenv("COV_X", "42")
    write(
        ".covcorerc",
        "[run]\nplugins = my_plugin\n[my_plugin]\nlevel = $COV_X\n[other_plugin]\nx = 1\n",
    )
    config = read_config(warn=warned)
    assert config.plugin_options == {"my_plugin": {"level": "42"}}
    assert config.get_plugin_options("my_plugin") == {"level": "42"}
    assert config.get_plugin_options("nope") == {}
    assert config.get_option("my_plugin:level") == "42"
    config.set_option("my_plugin:level", "7")
    assert config.get_option("my_plugin:level") == "7"
    assert warned == [
        ("Unrecognized section '[other_plugin]' in config file '.covcorerc'", "unknown-section")
    ]


# -- malformed files ------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, text, message",
    [
        (
            ".covcorerc",
            "[run]\nbranch = 1\nbranch = 2\n",
            "Couldn't read config file '.covcorerc': line 3: option 'branch' is set twice in section [run]",
        ),
        (
            "setup.cfg",
            "branch = 1\n[coverage:run]\n",
            "Couldn't read config file 'setup.cfg': line 1: 'branch = 1' comes before any [section] header",
        ),
        (
            "tox.ini",
            "[covcore:run]\nbranch\n",
            "Couldn't read config file 'tox.ini': line 2: can't parse 'branch'",
        ),
        (
            "pyproject.toml",
            "[tool.covcore.run]\nbranch = \n",
            "Couldn't read config file 'pyproject.toml': Invalid value (at line 2, column 10)",
        ),
        (
            ".covcorerc.toml",
            "a = 1\na = 2\n",
            "Couldn't read config file '.covcorerc.toml': "
            "Cannot overwrite a value (at line 2, column 6)",
        ),
    ],
)
def test_malformed_files(filename, text, message):
    write(filename, text)
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value) == message
    assert "\n" not in str(exc_info.value)


@pytest.mark.parametrize(
    "filename, text",
    [
        ("setup.cfg", "branch = 1\n[metadata]\n"),
        ("tox.ini", "[tox]\nenvlist\n"),
        ("pyproject.toml", "[tool.black]\nline-length = \n"),
    ],
)
def test_shared_file_not_mentioning_us_is_not_parsed(filename, text):
    # Another tool's file: even a syntax error in it is that tool's business.
    write(filename, text)
    write(".coveragerc", "[run]\nbranch = true\n")
    config = read_config()
    assert (config.branch, config.config_file) == (True, abspath(".coveragerc"))
    assert abspath(filename) in config.config_files_read


def test_shared_file_mentioning_us_is_parsed():
    # The names may appear anywhere; a TOML escape could spell them in a quoted key.
    write("pyproject.toml", '[tool."\\u0063ovcore".run]\nbranch = true\n')
    assert read_config().branch is True


def test_malformed_explicit_file():
    write("bad.toml", "[run\n")
    with pytest.raises(ConfigError, match=r"^Couldn't read config file 'bad.toml': "):
        read_config("bad.toml")


def test_not_utf8():
    pathlib.Path(".covcorerc").write_bytes(b"[run]\ndata_file = \xff\n")
    with pytest.raises(ConfigError) as exc_info:
        read_config()
    assert str(exc_info.value).startswith(
        "Couldn't read config file '.covcorerc': line 2: can't decode byte 0xff as utf-8: invalid start byte"
    )


def test_ini_default_section_is_not_inherited(warned):
    write("setup.cfg", "[DEFAULT]\nfoo = 1\n[covcore:run]\nbranch = 1\n")
    config = read_config(warn=warned)
    assert config.branch is True
    assert warned == []


# -- get_option and set_option ----------------------------------------------------


def test_get_option():
    write(".covcorerc", "[run]\nbranch = 1\n[html]\ndirectory = h\n[paths]\ns = a\n")
    config = read_config()
    assert config.get_option("run:branch") is True
    assert config.get_option("html:directory") == "h"
    assert config.get_option("report:exclude_lines") == COVERAGE_DEFAULT_EXCLUDE
    assert config.get_option("paths") == {"s": ["a"]}
    with pytest.raises(ConfigError, match=r"^No such option: 'run:brnch'$"):
        config.get_option("run:brnch")


def test_set_option():
    config = read_config(False)
    config.set_option("report:fail_under", 90)
    assert config.fail_under == 90.0
    assert type(config.fail_under) is float
    config.set_option("run:branch", True)
    config.set_option("run:source", "pkg")
    config.set_option("report:include", ["a", "b"])
    config.set_option("paths", {"src": ["a", "b"]})
    config.set_option("run:context", None)
    assert (config.branch, config.source, config.report_include) == (True, ["pkg"], ["a", "b"])
    assert config.paths == {"src": ["a", "b"]}
    assert config.get_option("report:fail_under") == 90.0
    with pytest.raises(ConfigError) as exc_info:
        config.set_option("report:fail_under", 101)
    assert str(exc_info.value) == (
        "Option 'report:fail_under': invalid value 101 (expected a number from 0 to 100)"
    )
    with pytest.raises(ConfigError) as exc_info:
        config.set_option("run:branch", None)
    assert str(exc_info.value) == "Option 'run:branch': invalid value None (expected a boolean)"
    with pytest.raises(ConfigError, match=r"^No such option: 'report:fail'$"):
        config.set_option("report:fail", 1)
    assert config.fail_under == 90.0
