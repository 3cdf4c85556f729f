"""The LCOV report: the records coverage.py 7.17 writes, accepted by genhtml."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from cmdhelpers import coveragepy, covcore, write
from reporthelpers import check_gold, reference_analyses, sample_project


def render(analyses, **kwargs) -> str:
    from covcore.reporting.lcov import LcovReporter

    out = io.StringIO()
    LcovReporter(**kwargs).report(analyses, out)
    return out.getvalue()


def genhtml(work, tracefile: str, *branch: str) -> None:
    if shutil.which("genhtml") is None:
        pytest.skip("genhtml is not installed (Debian package lcov)")
    proc = subprocess.run(["genhtml", *branch, "-q", "-o", "genhtml-out", tracefile], cwd=work,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "genhtml-out" / "index.html").exists()


def test_branch_lcov_equals_coveragepy_and_gold(tmp_path):
    """BRDA/BRF/BRH from hand-built analyses (coverage.py's static analysis),
    including the arc descriptions."""
    work = sample_project(tmp_path / "s")
    analyses = reference_analyses(work)
    ours = render(analyses)
    assert coveragepy("lcov", "-o", "ref.lcov", cwd=work).rc == 0
    assert ours == (work / "ref.lcov").read_text()
    assert "BRDA:36,0,jump to line 37,0\n" in ours
    assert "BRF:22\nBRH:16\n" in ours
    check_gold("lcov/sample_branch.lcov", ours)
    (work / "ours.lcov").write_text(ours)
    genhtml(work, "ours.lcov", "--branch-coverage")


def test_line_checksums_and_field_safety():
    from covcore.analysis import Analysis
    from covcore.reporting.lcov import lcov_field, line_hash

    assert lcov_field("a\nb.py") == "a?b.py"
    assert line_hash("x = 1") == "03/8VLZ86N4fAe+x8uM2iQ"  # base64 MD5, no padding
    a = Analysis(filename="x.py", statements={1, 2}, excluded=set(), executed={2})
    text = render([("x.py", a)], line_checksums=True, read_source=lambda f: "x = 1\ny = 2\n")
    assert text == (f"SF:x.py\nDA:1,0,{line_hash('x = 1')}\nDA:2,1,{line_hash('y = 2')}\n"
                    "LF:2\nLH:1\nend_of_record\n")


@pytest.mark.backend
def test_measured_lcov_equals_coveragepy_genhtml_accepts(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0
    assert coveragepy("run", "--source=.", "main.py", cwd=work).rc == 0
    res = covcore("lcov", cwd=work)
    assert res.rc == 0 and res.out == "Wrote LCOV report to coverage.lcov\n", res
    assert coveragepy("lcov", "-o", "ref.lcov", cwd=work).rc == 0
    ours = (work / "coverage.lcov").read_text()
    assert ours == (work / "ref.lcov").read_text()
    assert "FN:35,47,classify\nFNDA:1,classify\n" in ours
    check_gold("lcov/sample_lines.lcov", ours)
    genhtml(work, "coverage.lcov")


@pytest.mark.backend
def test_checksums_skip_empty_from_config_and_stdout(tmp_path):
    work = sample_project(tmp_path / "s")
    assert covcore("run", "--source=.", "main.py", cwd=work).rc == 0
    assert coveragepy("run", "--source=.", "main.py", cwd=work).rc == 0
    write(work / ".coveragerc", "[lcov]\nline_checksums = true\n[report]\nskip_empty = true\n")
    res = covcore("lcov", "-o", "-", cwd=work)
    assert res.rc == 0, res
    assert coveragepy("lcov", "-o", "ref.lcov", cwd=work).rc == 0
    assert res.out == (work / "ref.lcov").read_text()
    assert "SF:pkg/__init__.py" not in res.out
    assert "DA:1,1," in res.out
