"""``covcore annotate``: the same ``,cover`` files as ``coverage annotate``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmdhelpers import coveragepy, covcore
from reporthelpers import check_gold, sample_project

SNIPPETS = Path(__file__).parent / "snippets"


def test_marks_and_else_rule():
    from covcore.analysis import Analysis
    from covcore.reporting.annotate import annotate_lines

    source = (
        "def h(x):\n"
        "    if 0:   # pragma: no cover\n"
        "        pass\n"
        "    if x == 1:\n"
        "        a = 1\n"
        "    else:\n"
        "        a = 2\n"
        "    y = (a,\n"
        "         2)\n"
        "\n"
        "# a comment\n"
        "h(2)\n"
    )
    a = Analysis(filename="h.py", statements={1, 4, 5, 7, 8, 12}, excluded={2, 3}, executed={1, 4, 7, 8, 12})
    assert "".join(annotate_lines(source, a)) == (
        "> def h(x):\n"
        "-     if 0:   # pragma: no cover\n"
        "-         pass\n"
        ">     if x == 1:\n"
        "!         a = 1\n"
        ">     else:\n"
        ">         a = 2\n"
        ">     y = (a,\n"
        ">          2)\n"
        "  \n"
        "  # a comment\n"
        "> h(2)\n"
    )
    # The else: follows the statement after it: when that one is missing, so is the else.
    a = Analysis(filename="h.py", statements={1, 4, 5, 7, 8, 12}, excluded={2, 3}, executed={1, 4, 5, 8, 12})
    lines = list(annotate_lines(source, a))
    assert lines[5] == "!     else:\n" and lines[6] == "!         a = 2\n"


def test_flat_names():
    from covcore.reporting.filenames import flat_rootname

    assert flat_rootname("a/b/c.py") == "z_86bbcbe134d28fd2_c_py"
    assert flat_rootname("c.py") == "c_py"


@pytest.mark.backend
def test_annotate_equals_coveragepy_on_snippets(tmp_path):
    """Every snippet (else:, multi-line statements, decorators, excluded blocks...)."""
    names = sorted(p.stem for p in SNIPPETS.glob("*.py") if p.stem != "runner")
    for tool, where in ((covcore, "ours"), (coveragepy, "theirs")):
        work = tmp_path / where
        shutil.copytree(SNIPPETS, work)
        res = tool("run", "--source=.", "--omit=runner.py", "runner.py", *names, cwd=work)
        assert res.rc == 0, res
        res = tool("annotate", cwd=work)
        assert res.rc == 0, res
        assert res.out == ""
    for name in names:
        ours = (tmp_path / "ours" / f"{name}.py,cover").read_text()
        theirs = (tmp_path / "theirs" / f"{name}.py,cover").read_text()
        assert ours == theirs, name


@pytest.mark.backend
def test_annotate_directory_equals_coveragepy(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0
    assert coveragepy("run", "--source=.", "main.py", cwd=work).rc == 0
    assert covcore("annotate", "-d", "ours", cwd=work).rc == 0
    assert coveragepy("annotate", "-d", "theirs", cwd=work).rc == 0
    ours = sorted(p.name for p in (work / "ours").iterdir())
    assert ours == sorted(p.name for p in (work / "theirs").iterdir())
    assert "z_8580997e71e7a198_shapes.py,cover" in ours
    for name in ours:
        assert (work / "ours" / name).read_text() == (work / "theirs" / name).read_text(), name
    check_gold("annotate/shapes.py,cover", (work / "ours" / "z_8580997e71e7a198_shapes.py,cover").read_text())
    # Only some files, by name, and omit.
    res = covcore("annotate", "-d", "some", "--omit=main.py", cwd=work)
    assert res.rc == 0, res
    assert sorted(p.name for p in (work / "some").iterdir()) == [
        "z_8580997e71e7a198___init__.py,cover", "z_8580997e71e7a198_shapes.py,cover"]
    res = covcore("annotate", "-d", "one", "pkg/shapes.py", cwd=work)
    assert res.rc == 0, res
    assert [p.name for p in (work / "one").iterdir()] == ["z_8580997e71e7a198_shapes.py,cover"]
