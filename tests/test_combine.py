"""combine: merging data files, duplicates, bad inputs, remapping."""

from __future__ import annotations

import os

import pytest

from covcore.combine import combinable_files, combine_parallel_data
from covcore.data import CoverageData
from covcore.dataread import read_data_file
from covcore.errors import DataError, NoDataError
from covcore.paths import InstalledCopyRule, PathAliases, make_remapper


def _write(path, lines=None, arcs=None, context=""):
    data = CoverageData(basename=str(path))
    data.set_context(context)
    if lines:
        data.add_lines(lines)
    if arcs:
        data.add_arcs(arcs)
    data.write()
    return path


def test_combine_merges_and_removes(tmp_path):
    _write(tmp_path / ".covcore.h.1.X000001", {"/a.py": {1, 2}})
    _write(tmp_path / ".covcore.h.2.X000002", {"/a.py": {3}, "/b.py": {7}})
    (tmp_path / "unrelated.txt").write_text("x")
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    messages = []
    assert combine_parallel_data(target, message=messages.append) == 2
    assert messages == ["Combined 2 files"]
    target.write()
    back = read_data_file(str(tmp_path / ".covcore"))
    assert back.lines("/a.py") == [1, 2, 3]
    assert back.lines("/b.py") == [7]
    assert sorted(os.listdir(tmp_path)) == [".covcore", "unrelated.txt"]


def test_keep_duplicates_and_bad_inputs(tmp_path):
    _write(tmp_path / ".covcore.h.1.X1", {"/a.py": {1}})
    _write(tmp_path / ".covcore.h.2.X2", {"/a.py": {1}})  # same measurements, another file
    (tmp_path / ".covcore.h.3.X3").write_bytes(b"garbage" * 50)
    (tmp_path / ".covcore.h.4.X4.tmp-44-1").write_bytes(b"half-written")
    warnings, messages = [], []
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    n = combine_parallel_data(target, keep=False, message=messages.append,
                              warn=lambda m, s: warnings.append((m, s)))
    assert n == 1
    assert messages == ["Combined 1 file, skipped 1, 1 file errored"]
    assert len(warnings) == 1
    assert warnings[0][1] == "couldnt-combine"
    assert repr(str(tmp_path / ".covcore.h.3.X3")) in warnings[0][0]
    # The unreadable input and the writer's temporary file are left in place;
    # the merged inputs went only once the combined data file was written.
    assert sorted(os.listdir(tmp_path)) == [".covcore", ".covcore.h.3.X3", ".covcore.h.4.X4.tmp-44-1"]


def test_keep_option(tmp_path):
    _write(tmp_path / ".covcore.a", {"/a.py": {1}})
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    combine_parallel_data(target, keep=True)
    assert os.path.exists(tmp_path / ".covcore.a")


def test_strict_and_missing_paths(tmp_path):
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    with pytest.raises(NoDataError, match="No data to combine"):
        combine_parallel_data(target, strict=True)
    with pytest.raises(NoDataError, match="Couldn't combine from non-existent path 'nope'"):
        combinable_files(str(tmp_path / ".covcore"), ["nope"])
    (tmp_path / ".covcore.bad").write_bytes(b"")
    with pytest.raises(NoDataError, match="No usable data files"):
        combine_parallel_data(target, strict=True, warn=lambda m, s: None)


def test_lines_and_arcs_cannot_mix(tmp_path):
    _write(tmp_path / ".covcore.1", {"/a.py": {1}})
    _write(tmp_path / ".covcore.2", arcs={"/a.py": {(-1, 1)}})
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    with pytest.raises(DataError, match=r"Can't combine branch data from '.*\.covcore\.2' with line data"):
        combine_parallel_data(target)


def test_explicit_files_and_dirs(tmp_path):
    sub = tmp_path / "ci-artifacts"
    sub.mkdir()
    _write(sub / ".covcore.machine1", {"/a.py": {1}})
    one = _write(tmp_path / "other.data", {"/a.py": {2}})
    assert combinable_files(str(tmp_path / ".covcore"), [str(sub), str(one)]) == sorted(
        [str(sub / ".covcore.machine1"), str(one)])


def test_paths_aliases_semantics(tmp_path):
    src = tmp_path / "src" / "pkg"
    src.mkdir(parents=True)
    (src / "mod.py").write_text("x = 1\n")
    aliases = PathAliases.from_config({"source": [str(tmp_path / "src"), "/ci/build/*/src", "C:\\build\\src"]})
    assert aliases.map("/ci/build/job17/src/pkg/mod.py") == os.path.realpath(str(src / "mod.py"))
    assert aliases.map("C:\\build\\src\\pkg\\mod.py") == os.path.realpath(str(src / "mod.py"))
    assert aliases.map("c:\\BUILD\\src\\pkg\\mod.py") == os.path.realpath(str(src / "mod.py"))
    # Only used when the result exists.
    assert aliases.map("/ci/build/job17/src/pkg/gone.py") == "/ci/build/job17/src/pkg/gone.py"
    assert aliases.map("/elsewhere/pkg/mod.py") == "/elsewhere/pkg/mod.py"


def test_paths_pattern_errors():
    with pytest.raises(Exception, match="Pattern must not end with wildcards"):
        PathAliases().add("/ci/*", "/src")


def test_paths_agree_with_coveragepy(tmp_path, monkeypatch):
    ref = pytest.importorskip("coverage.files")
    monkeypatch.chdir(tmp_path)
    for rel in ("src/pkg/a.py", "lib/b.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    config = {"one": ["src/", "*/site-packages/", "/old/root/src"], "two": ["lib", "**/vendored/lib"]}
    ours = PathAliases.from_config(config)
    theirs = ref.PathAliases()
    for entries in config.values():
        for pattern in entries[1:]:
            theirs.add(pattern, entries[0])
    for path in ["/venv/lib/python3.12/site-packages/pkg/a.py", "/old/root/src/pkg/a.py", "/x/y/vendored/lib/b.py",
                 "/old/root/src/pkg/nope.py", "/unrelated/b.py"]:
        assert os.path.realpath(ours.map(path)) == os.path.realpath(theirs.map(path)), path


def test_installed_copy_rule(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "m.py").write_text("")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "top.py").write_text("")
    rule = InstalledCopyRule(roots=[str(tmp_path / "src"), str(tmp_path / "flat")])
    site = "/w/.tox/py311/lib/python3.11/site-packages"
    assert rule.map(f"{site}/pkg/m.py") == os.path.realpath(str(tmp_path / "src" / "pkg" / "m.py"))
    assert rule.map("/w/.nox/tests-3-12/lib/python3.12/site-packages/top.py") == os.path.realpath(
        str(tmp_path / "flat" / "top.py"))
    assert rule.map("C:\\venv\\Lib\\site-packages\\pkg\\m.py") == os.path.realpath(
        str(tmp_path / "src" / "pkg" / "m.py"))
    assert rule.map(f"{site}/other/m.py") is None
    assert rule.map(str(tmp_path / "src" / "pkg" / "m.py")) is None
    remap = make_remapper(None, rule)
    assert remap(f"{site}/pkg/m.py") == os.path.realpath(str(tmp_path / "src" / "pkg" / "m.py"))


def test_inputs_differing_only_in_a_file_tracer_are_not_duplicates(tmp_path):
    _write(tmp_path / ".covcore.h.1.X1", {"/t.html": {1, 2}})
    data = CoverageData(basename=str(tmp_path / ".covcore.h.2.X2"))
    data.add_lines({"/t.html": {1, 2}})
    data.add_file_tracers({"/t.html": "templates.Plugin"})
    data.write()
    target = CoverageData(basename=str(tmp_path / ".covcore"))
    messages = []
    assert combine_parallel_data(target, message=messages.append) == 2
    assert messages == ["Combined 2 files"]
    assert target.file_tracer("/t.html") == "templates.Plugin"
    assert target.lines("/t.html") == [1, 2]
