"""File names and glob matching (coverage.py's semantics)."""

import os
import sys

import pytest

from covcore.errors import ConfigError
from covcore.files import GlobMatcher, TreeMatcher, abs_file, canonical_filename, relative_filename


@pytest.mark.parametrize(
    "pattern, matches, non_matches",
    [
        ("*/tests/*", ["/a/tests/x.py", "/tests/y.py"], ["/a/tests", "/a/testsx/y.py"]),
        ("*.py", ["/a/b.py", "b.py"], ["/a/b.pyc"]),
        ("abc.py", ["/x/abc.py", "/abc.py"], ["/x/zabc.py"]),
        ("/src/**/m.py", ["/src/m.py", "/src/a/b/m.py"], ["/other/m.py"]),
        ("/src/*/m.py", ["/src/a/m.py"], ["/src/m.py", "/src/a/b/m.py"]),
        ("/src/?.py", ["/src/a.py"], ["/src/ab.py"]),
        ("/src/[ab].py", ["/src/a.py", "/src/b.py"], ["/src/c.py"]),
        ("*\\win\\*", ["C:\\x\\win\\y.py", "/x/win/y.py"], ["/x/winx/y.py"]),
    ],
)
def test_glob_matcher(pattern, matches, non_matches):
    m = GlobMatcher([pattern])
    for path in matches:
        assert m.match(path), path
    for path in non_matches:
        assert not m.match(path), path


def test_glob_matcher_agrees_with_coveragepy():
    ref = pytest.importorskip("coverage.files")
    pats = ["*/tests/*", "*.py", "/src/**/m.py", "src/*", "a?c/*.txt", "*/x/**/y/*"]
    paths = ["/a/tests/x.py", "/src/m.py", "/src/q/r/m.py", os.path.abspath("src/z.py"), "/w/abc/f.txt",
             "/w/x/y/z.py", "/w/x/1/2/y/z.py", "/nope.txt"]
    for pat in pats:
        ours = GlobMatcher([pat])
        theirs = ref.GlobMatcher(ref.prep_patterns([pat]))
        for path in paths:
            assert ours.match(path) == theirs.match(path), (pat, path)


@pytest.mark.parametrize("bad", ["***", "x**", "**x", "**/**", "a[b"])
def test_bad_globs(bad):
    with pytest.raises(ConfigError, match="File pattern can't include"):
        GlobMatcher([bad])


def test_relative_patterns_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = GlobMatcher(["sub/*.py"])
    assert m.match(abs_file(str(tmp_path / "sub" / "a.py")))
    assert not m.match(abs_file(str(tmp_path / "other" / "a.py")))


def test_tree_matcher():
    m = TreeMatcher(["/src/pkg", "/lib/mod.py"])
    assert m.match("/src/pkg/a.py")
    assert m.match("/src/pkg")
    assert m.match("/lib/mod.py")
    assert not m.match("/src/pkg2/a.py")
    assert not m.match("/lib/mod.pyc")


def test_canonical_filename(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text("")
    assert canonical_filename("m.py") == abs_file(str(tmp_path / "m.py"))
    link = tmp_path / "link.py"
    link.symlink_to(tmp_path / "m.py")
    assert canonical_filename(str(link)) == abs_file(str(tmp_path / "m.py"))


def _lstat_kinds() -> list:
    from covcore import files

    kinds = [pytest.param(files._os_lstat_kind, id="os.lstat")]
    try:
        from covcore._tracer import HAS_LSTAT, lstat_kind
    except ImportError:
        HAS_LSTAT = False
    if HAS_LSTAT:
        kinds.append(pytest.param(lstat_kind, id="compiled"))
    return kinds


@pytest.mark.skipif(os.name == "nt", reason="posix links")
@pytest.mark.parametrize("kind", _lstat_kinds())
def test_lstat_kind(tmp_path, kind):
    """Both ways of asking lstat give the same answers: 1 link (dangling
    too), 2 directory, 0 file, -1 missing or a name no file can have."""
    (tmp_path / "d").mkdir()
    (tmp_path / "f.py").write_text("")
    (tmp_path / "l").symlink_to(tmp_path / "d")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert kind(str(tmp_path / "d")) == 2
    assert kind(str(tmp_path / "f.py")) == 0
    assert kind(str(tmp_path / "l")) == 1
    assert kind(str(tmp_path / "dangling")) == 1
    assert kind(str(tmp_path / "nowhere")) == -1
    assert kind(str(tmp_path / "f.py" / "x")) == -1   # ENOTDIR
    assert kind(str(tmp_path / "a\0b")) == -1
    assert kind(str(tmp_path / "\ud800")) == -1       # a surrogate no file name encodes
    assert kind("/") == 2


def _known_dir_files() -> list:
    from covcore import files

    found = [pytest.param(files._no_known_dir_file, id="python")]
    if files.known_dir_file_function() is not files._no_known_dir_file:
        found.append(pytest.param(files.known_dir_file_function(), id="known-dir"))
    return found


@pytest.mark.skipif(os.name == "nt", reason="posix links")
@pytest.mark.parametrize("kind", _lstat_kinds())
@pytest.mark.parametrize("known", _known_dir_files())
def test_abs_file_equals_realpath(tmp_path, monkeypatch, kind, known):
    """abs_file resolves each directory once and then only the last
    component: the result must be os.path.realpath's for linked directories,
    linked files, links to links, '..' after a link, relative and missing names
    (with either way of asking lstat, and with or without the compiled
    known-directory lookup)."""
    from covcore import files

    monkeypatch.setattr(files, "_lstat_kind", kind)
    monkeypatch.setattr(files, "_KNOWN_DIR_FILE", known)
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "m.py").write_text("")
    (real / "other.py").write_text("")
    (tmp_path / "dirlink").symlink_to(real)
    (real / "sub" / "filelink.py").symlink_to(real / "other.py")
    (real / "sub" / "chain.py").symlink_to(real / "sub" / "filelink.py")
    (real / "sub" / "uplink").symlink_to(real / "sub" / "..")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    # Directory links below a directory already resolved (through the
    # parent's cached answer): absolute, relative, and a link to a link.
    (real / "sub" / "deep" / "deeper").mkdir(parents=True)
    (real / "sub" / "deep" / "deeper" / "d.py").write_text("")
    (real / "sub" / "deep" / "abs").symlink_to(real)
    (real / "sub" / "deep" / "rel").symlink_to("../..")
    (real / "sub" / "deep" / "relrel").symlink_to("rel/sub")
    monkeypatch.chdir(tmp_path / "dirlink" / "sub")
    names = [
        "dirlink/sub/m.py", "dirlink/sub/filelink.py", "dirlink/sub/chain.py",
        "dirlink/sub/../other.py", "dirlink/sub/uplink/other.py", "dirlink/sub/uplink/sub/m.py",
        "dirlink/missing/x.py", "dangling.py", "dirlink//sub/./m.py", "dirlink/sub/",
        "real/sub/deep/deeper/d.py", "real/sub/deep/abs/other.py", "real/sub/deep/rel/sub/m.py",
        "real/sub/deep/relrel/deep/deeper/d.py", "dirlink/sub/deep/relrel/deep/abs/sub/m.py",
        "real/sub/deep/rel/sub/deep/rel/other.py",
    ]
    cases = [str(tmp_path / name) for name in names] + ["m.py", "../other.py", "./chain.py", ".."]
    for name in cases * 2:  # twice: the second time through the directory cache
        assert abs_file(name) == os.path.realpath(name), name
    # A directory that didn't exist when first resolved, made later as a link.
    (real / "missing").symlink_to(real / "sub")
    name = str(tmp_path / "dirlink" / "missing" / "x.py")
    assert abs_file(name) == os.path.realpath(name) == str(real / "sub" / "x.py")


@pytest.mark.skipif(os.name == "nt", reason="posix links")
def test_real_file_in_known_dir_answers_only_what_posix_realpath_would(tmp_path):
    """The compiled lookup answers (real directory, realpath) for a name in
    a directory already resolved whose last component is not a link, and
    None (ask the Python code) for everything else."""
    _tracer = pytest.importorskip("covcore._tracer")
    if not _tracer.HAS_LSTAT:
        pytest.skip("no lstat in this build")
    real = tmp_path / "real"
    real.mkdir()
    (real / "m.py").write_text("")
    (real / "other.py").write_text("")
    (real / "link.py").symlink_to(real / "other.py")
    (tmp_path / "dirlink").symlink_to(real)
    r = os.path.realpath(real)
    dirs = {str(real): r, str(tmp_path / "dirlink"): r, "/": "/", str(tmp_path / "slash"): r + "/"}
    look = _tracer.real_file_in_known_dir
    assert look(dirs, str(real / "m.py")) == (r, os.path.join(r, "m.py"))
    assert look(dirs, str(tmp_path / "dirlink" / "m.py")) == (r, os.path.join(r, "m.py"))
    assert look(dirs, str(real / "missing.py")) == (r, os.path.join(r, "missing.py"))
    assert look(dirs, str(tmp_path / "slash" / "m.py")) == (r + "/", os.path.join(r, "m.py"))
    for name in [str(real / "link.py"),                 # a link: realpath follows it
                 str(tmp_path / "unknown" / "m.py"),    # directory not resolved yet
                 "/m.py", "/", "m.py", "real/m.py", "",  # root files, relative names
                 str(real) + "/", str(real / "."), str(real / ".."),
                 str(real / "a\0b.py"), str(real / "\ud800.py")]:
        assert look(dirs, name) is None, name
    for name in [str(real / "m.py"), str(tmp_path / "dirlink" / "m.py"), str(real / "missing.py")]:
        assert look(dirs, name)[1] == os.path.realpath(name)


def _selector_cases(tmp_path):
    """(Selector keyword arguments, file names) with every tree rule in play."""
    from covcore.selection import _stdlib_dirs

    proj = tmp_path / "proj"
    for sub in ["pkg/sub", "pkg/tests", ".venv/lib/python3/site-packages/dep", "solo"]:
        (proj / sub).mkdir(parents=True)
    for name in ["pkg/a.py", "pkg/sub/b.py", "pkg/tests/t.py", ".venv/lib/python3/site-packages/dep/d.py",
                 "solo/one.py", "solo/two.py", "top.py"]:
        (proj / name).write_text("")
    (proj / "linked").symlink_to(proj / "pkg")
    (proj / "pkg" / "alias.py").symlink_to(proj / "top.py")
    names = [str(proj / n) for n in ["pkg/a.py", "pkg/sub/b.py", "pkg/tests/t.py", "solo/one.py",
                                     "solo/two.py", "top.py", "linked/a.py", "linked/sub/b.py", "pkg/alias.py",
                                     "pkg/missing.py", "pkg/x.pyc", "pkg/y.pyw",
                                     ".venv/lib/python3/site-packages/dep/d.py"]]
    names += [os.__file__, os.path.join(sorted(_stdlib_dirs())[0], "json", "__init__.py"), "<string>", "",
              "relative.py", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "files.py")]
    site = str(proj / ".venv/lib/python3/site-packages")
    configs = [
        {"source": [str(proj)]},
        {"source": [str(proj / "pkg")], "omit": ["*/tests/*"]},
        {"source": [str(proj / "solo" / "one.py"), str(proj / "pkg" / "sub")]},
        {"source": [str(proj)], "omit": ["*/two.py"]},
        {},
        {"cover_pylib": True},
        {"include": [str(proj / "pkg" / "*")]},
        {"omit": [str(proj / "solo" / "*")]},
        {"source": ["pkg", "solo"], "source_pkgs": ["nowhere_such_pkg"]},
    ]
    return configs, names, site


@pytest.mark.skipif(os.name == "nt", reason="posix links")
def test_should_trace_by_directory_agrees_with_explain(tmp_path, monkeypatch):
    """should_trace decides most files by their real directory; its answer
    must be explain()'s for every file, asked first, again, and in another
    order (so that each is seen both before and after its directory's
    answer is cached), with source dirs, a source file, omit, include,
    third-party and stdlib rules."""
    from covcore import selection

    configs, names, site = _selector_cases(tmp_path)
    monkeypatch.setattr(selection, "_third_party_dirs", lambda: {site})
    monkeypatch.chdir(tmp_path / "proj")
    monkeypatch.syspath_prepend(str(tmp_path / "proj"))
    (tmp_path / "proj" / "pkg" / "__init__.py").write_text("")
    for config in configs:
        for order in (names, names[::-1]):
            fast = selection.Selector(**config)
            slow = selection.Selector(**config)
            for name in order * 2:
                assert fast.should_trace(name) == slow.explain(name)[0], (config, name)
            assert fast.pkgs_seen == slow.pkgs_seen
    checked = selection.Selector(source=[str(tmp_path / "proj")])
    assert checked._by_dir is not None
    assert [checked.should_trace(n) for n in names[:3]] == [os.path.realpath(n) for n in names[:3]]
    assert checked.should_trace(names[0]) == os.path.realpath(names[0])
    assert len(checked._by_dir) >= 1  # the short way was taken


def test_relative_filename(tmp_path):
    assert relative_filename(str(tmp_path / "a" / "b.py"), str(tmp_path)) == os.path.join("a", "b.py")
    assert relative_filename("/elsewhere/b.py", str(tmp_path)) == "/elsewhere/b.py"


def test_unexecuted_source_files_skips_names_that_are_not_modules(tmp_path):
    """Files below --source that no import could load (editor backups,
    names with punctuation, packages without __init__.py) are not reported
    as unexecuted (coverage.py's rule), and the rest are, in sorted order."""
    from covcore.selection import Selector

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "notpkg").mkdir()
    for name in ["__init__.py", "a.py", "b.pyw", ".#a.py", "a~.py", "x-y.py", "c.d.py", "e(1).py",
                 "f,g.py", "z=1.py", "ok_2.py", ".py", "README.txt"]:
        (pkg / name).write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "m.py").write_text("")
    (pkg / "notpkg" / "n.py").write_text("")
    found = Selector(source=[str(pkg)]).unexecuted_source_files()
    real = os.path.realpath(pkg)
    assert found == [os.path.join(real, name) for name in
                     ["__init__.py", "a.py", "b.pyw", "ok_2.py", "x-y.py", os.path.join("sub", "__init__.py"),
                      os.path.join("sub", "m.py")]]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_unexecuted_source_files_resolve_links_as_realpath_does(tmp_path):
    """Reached through a linked --source directory, files get their real
    names (the directory's, resolved once); a linked file gets its target's
    name; a linked subdirectory is not entered (as os.walk)."""
    from covcore.selection import Selector

    real = tmp_path / "real" / "pkg"
    (real / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "target.py").write_text("")
    (tmp_path / "elsewhere" / "pkg2").mkdir()
    (tmp_path / "elsewhere" / "pkg2" / "__init__.py").write_text("")
    for name in ["__init__.py", "b.py"]:
        (real / name).write_text("")
    (real / "sub" / "__init__.py").write_text("")
    (real / "a.py").symlink_to(tmp_path / "elsewhere" / "target.py")
    (real / "linked").symlink_to(tmp_path / "elsewhere" / "pkg2")
    (tmp_path / "via").symlink_to(tmp_path / "real")
    found = Selector(source=[str(tmp_path / "via" / "pkg")]).unexecuted_source_files()
    base = os.path.realpath(tmp_path)
    assert found == [
        os.path.join(base, "real", "pkg", "__init__.py"),
        os.path.join(base, "elsewhere", "target.py"),
        os.path.join(base, "real", "pkg", "b.py"),
        os.path.join(base, "real", "pkg", "sub", "__init__.py"),
    ]


@pytest.mark.skipif(os.name == "nt", reason="posix links")
def test_tracers_short_way_agrees_with_should_trace(tmp_path, monkeypatch):
    """The compiled tracers decide a file themselves (set_fast_rules) only
    when should_trace's short way knows the answer, and then give the same
    answer explain() gives; files of a directory decided before never reach
    should_trace, unless omit patterns are set."""
    from covcore import selection
    from covcore.backend import EXTENSION_ERROR, tracer_class

    if EXTENSION_ERROR:
        pytest.skip("the compiled tracers")
    configs, names, site = _selector_cases(tmp_path)
    monkeypatch.setattr(selection, "_third_party_dirs", lambda: {site})
    monkeypatch.chdir(tmp_path / "proj")
    monkeypatch.syspath_prepend(str(tmp_path / "proj"))
    (tmp_path / "proj" / "pkg" / "__init__.py").write_text("")
    cls = tracer_class("sysmon" if sys.version_info >= (3, 12) else "ctrace")
    for config in configs:
        sel = selection.Selector(**config)
        rules = sel.fast_rules()
        tracer = cls({}, sel.should_trace, {}, branch=False)
        if "include" in config:
            assert rules is None
            continue
        tracer.set_fast_rules(rules)
        short = 0
        for name in names * 2:
            got = tracer._fast_decision_for_tests(name)
            want = selection.Selector(**config).explain(name)[0]
            if got != "<ask>":
                short += 1
                assert got == want, (config, name)
            assert sel.should_trace(name) == want
        py_names = [n for n in names if n.endswith(".py") and not os.path.islink(n)]
        if "omit" not in config and "source" in config:
            # The second time round, each real .py file's directory is known.
            assert short >= len(py_names), config
    tracer.set_fast_rules(None)
    assert tracer._fast_decision_for_tests(names[0]) == "<ask>"
