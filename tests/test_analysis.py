"""Numbers, percentages, missing-line formatting and the text table."""

import io

import pytest

from covcore.analysis import (
    Analysis,
    Numbers,
    display_covered,
    fail_under_message,
    format_lines,
    should_fail_under,
)
from covcore.errors import ConfigError, NoDataError
from covcore.reporting.text import TextReporter


def test_format_lines_skips_non_statements():
    statements = [1, 2, 3, 5, 6, 8, 10, 11, 12, 20]
    assert format_lines(statements, [2, 3, 5, 10, 11, 20]) == "2-5, 10-11, 20"
    assert format_lines(statements, []) == ""
    assert format_lines([33, 34, 35, 39], [33, 34, 35, 39]) == "33-39"
    assert format_lines([33, 34, 35, 37, 39], [33, 34, 35, 39]) == "33-35, 39"


def test_format_lines_agrees_with_coveragepy():
    ref = pytest.importorskip("coverage.results")
    import random

    rnd = random.Random(1234)
    for _ in range(200):
        statements = sorted(rnd.sample(range(1, 80), 30))
        missing = [s for s in statements if rnd.random() < 0.4]
        assert format_lines(statements, missing) == ref.format_lines(statements, missing)


@pytest.mark.parametrize(
    "pc, precision, text",
    [(0, 0, "0"), (0.1, 0, "1"), (99.9, 0, "99"), (100, 0, "100"), (50.5, 0, "50"), (66.666, 2, "66.67"),
     (99.999, 2, "99.99"), (0.0001, 2, "0.01")],
)
def test_display_covered(pc, precision, text):
    assert display_covered(pc, precision) == text


def test_fail_under():
    assert should_fail_under(79.4, 80, 0) is True
    assert should_fail_under(79.5, 80, 0) is False  # rounds to 80
    assert should_fail_under(99.99, 100, 2) is True
    assert should_fail_under(100.0, 100, 0) is False
    assert fail_under_message(79.4, 80, 0) == "Coverage failure: total of 79 is less than fail-under=80"
    assert should_fail_under(97.249, 97.25, 0) is False  # compared at the threshold's 2 decimals
    assert should_fail_under(97.244, 97.25, 0) is True
    assert fail_under_message(97.244, 97.25, 0) == "Coverage failure: total of 97.24 is less than fail-under=97.25"
    assert fail_under_message(99.99, 100, 0) == "Coverage failure: total of 99 is less than fail-under=100"
    with pytest.raises(ConfigError, match="fail_under=101"):
        should_fail_under(50, 101, 0)


def test_numbers_add_up():
    a = Numbers(n_files=1, n_statements=10, n_missing=3)
    b = Numbers(n_files=1, n_statements=5, n_missing=0, n_excluded=2)
    total = sum([a, b])
    assert (total.n_files, total.n_statements, total.n_missing, total.n_excluded) == (2, 15, 3, 2)
    assert total.pc_covered == pytest.approx(80.0)
    assert Numbers().pc_covered == 100.0


def _analyses():
    return [
        ("pkg/mod10.py", Analysis("/p/pkg/mod10.py", {1, 2, 3, 4}, set(), {1, 2, 3, 4})),
        ("pkg/mod2.py", Analysis("/p/pkg/mod2.py", {1, 2, 3, 5, 6, 9}, {7}, {1, 2, 9})),
        ("empty.py", Analysis("/p/empty.py", set(), set(), set())),
    ]


def test_text_table_exact():
    out = io.StringIO()
    total = TextReporter(show_missing=True).report(_analyses(), out)
    assert out.getvalue() == (
        "Name           Stmts   Miss  Cover   Missing\n"
        "--------------------------------------------\n"
        "empty.py           0      0   100%\n"
        "pkg/mod2.py        6      3    50%   3-6\n"
        "pkg/mod10.py       4      0   100%\n"
        "--------------------------------------------\n"
        "TOTAL             10      3    70%\n"
    )
    assert total.pc_covered == 70.0


def test_text_table_skips_and_sort():
    out = io.StringIO()
    TextReporter(skip_covered=True, skip_empty=True, sort="-cover").report(_analyses(), out)
    assert out.getvalue() == (
        "Name          Stmts   Miss  Cover\n"
        "---------------------------------\n"
        "pkg/mod2.py       6      3    50%\n"
        "---------------------------------\n"
        "TOTAL            10      3    70%\n"
        "\n"
        "2 files skipped due to complete coverage.\n"
    )


def test_total_and_markdown_formats():
    out = io.StringIO()
    TextReporter(output_format="total", precision=1).report(_analyses(), out)
    assert out.getvalue() == "70.0\n"
    out = io.StringIO()
    TextReporter(output_format="markdown").report(_analyses()[:2], out)
    assert out.getvalue() == (
        "| Name         |    Stmts |     Miss |   Cover |\n"
        "|------------- | -------: | -------: | ------: |\n"
        "| pkg/mod2.py  |        6 |        3 |     50% |\n"
        "| pkg/mod10.py |        4 |        0 |    100% |\n"
        "| **TOTAL**    |   **10** |    **3** | **70%** |\n"
    )


def test_report_errors():
    with pytest.raises(NoDataError, match="No data to report."):
        TextReporter().report([], io.StringIO())
    with pytest.raises(ConfigError, match="Invalid sorting option: 'bogus'"):
        TextReporter(sort="bogus").report(_analyses(), io.StringIO())
    with pytest.raises(ConfigError, match="Unknown report format choice: 'xml'"):
        TextReporter(output_format="xml")


def test_branch_analysis_numbers_and_formatting():
    from covcore.analysis import resolve_executed_arcs

    possible = {(-1, 1), (1, 2), (2, 3), (2, 5), (3, 4), (4, -1), (5, 6), (6, 7), (6, -1), (7, -1)}
    measured = {(-1, 1), (1, 2), (2, 3), (3, 3), (4, -1)}
    executed = resolve_executed_arcs(measured, possible)
    assert executed == {(-1, 1), (1, 2), (2, 3), (3, 4), (4, -1)}
    a = Analysis("/p/m.py", {1, 2, 3, 4, 5, 6, 7}, set(), {1, 2, 3, 4}, has_arcs=True,
                 arc_possibilities=possible, arcs_executed=executed,
                 exit_counts={1: 1, 2: 2, 3: 1, 4: 1, 5: 1, 6: 2, 7: 1})
    assert a.branch_lines() == {2, 6}
    assert dict(a.missing_branch_arcs()) == {2: [5], 6: [-1, 7]}
    assert dict(a.executed_branch_arcs()) == {2: [3]}
    assert a.branch_stats() == {2: (2, 1), 6: (2, 0)}
    nums = a.numbers
    assert (nums.n_branches, nums.n_partial_branches, nums.n_missing_branches) == (4, 1, 3)
    assert nums.pc_covered == pytest.approx(100 * (4 + 1) / (7 + 4))
    assert a.missing_formatted() == "5-7"  # 2->5 is not shown: line 5 itself is missing
    b = Analysis("/p/m.py", {1, 2, 3, 4, 5, 6, 7}, set(), {1, 2, 3, 4, 5, 6}, has_arcs=True,
                 arc_possibilities=possible, arcs_executed=executed | {(2, 5), (5, 6)},
                 exit_counts={1: 1, 2: 2, 3: 1, 4: 1, 5: 1, 6: 2, 7: 1})
    assert b.missing_formatted() == "6->exit, 7"
    out = io.StringIO()
    TextReporter(show_missing=True, branches=True).report([("m.py", b)], out)
    assert out.getvalue() == (
        "Name    Stmts   Miss Branch BrPart  Cover   Missing\n"
        "---------------------------------------------------\n"
        "m.py        7      1      4      2    73%   6->exit, 7\n"
        "---------------------------------------------------\n"
        "TOTAL       7      1      4      2    73%\n"
    )
