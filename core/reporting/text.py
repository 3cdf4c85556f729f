"""The text (and markdown) summary table: ``covcore report``.

The layout is coverage.py's: ``Name  Stmts  Miss  Cover  [Missing]``, a rule,
one row per file, a rule, and a ``TOTAL`` row.  Trailing spaces are trimmed.
"""

from __future__ import annotations

from typing import IO, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.errors import ConfigError, NoDataError
from covcore.reporting.common import human_key

_COLUMNS = {"name": 0, "stmts": 1, "miss": 2, "branch": 3, "brpart": 4, "cover": -1}


def _plural(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


class TextReporter:
    """Writes the summary table.

    :param output_format: ``"text"``, ``"markdown"`` or ``"total"`` (just the
        total percentage).
    :param sort: a column name (name, stmts, miss, cover), optionally with a
        leading ``-`` for descending; None sorts by name.
    :raises ConfigError: for an unknown format or sort column.
    """

    def __init__(
        self,
        *,
        show_missing: bool = False,
        skip_covered: bool = False,
        skip_empty: bool = False,
        precision: int = 0,
        sort: str | None = None,
        output_format: str | None = None,
        branches: bool = False,
    ) -> None:
        self.branches = branches
        self.show_missing = show_missing
        self.skip_covered = skip_covered
        self.skip_empty = skip_empty
        self.precision = precision
        self.sort = sort
        self.output_format = output_format or "text"
        if self.output_format not in ("text", "markdown", "total"):
            raise ConfigError(f"Unknown report format choice: {self.output_format!r}")

    def report(self, analyses: Iterable[tuple[str, Analysis]], outfile: IO[str]) -> Numbers:
        """Write the table for ``analyses`` (``(name, Analysis)`` pairs); return the total.

        :raises NoDataError: when there were no files at all.
        """
        total = Numbers(precision=self.precision)
        rows: list[tuple[str, Analysis]] = []
        skipped = empty = 0
        for name, analysis in analyses:
            nums = analysis.numbers
            total += nums
            if self.skip_covered and nums.fully_covered:
                skipped += 1
            elif self.skip_empty and nums.n_statements == 0:
                empty += 1
            else:
                rows.append((name, analysis))
        if not total.n_files and not skipped:
            raise NoDataError("No data to report.")

        def write(line: str) -> None:
            outfile.write(line.rstrip() + "\n")

        if self.output_format == "total":
            write(total.pc_covered_str)
            return total

        header = ["Name", "Stmts", "Miss"] + (["Branch", "BrPart"] if self.branches else []) + ["Cover"]
        header += ["Missing"] if self.show_missing else []
        values = []
        for name, analysis in rows:
            nums = analysis.numbers
            # Control characters (a newline, a terminal escape) and lone surrogates
            # (a name that isn't valid UTF-8) would forge rows or fail to print.
            shown = name if name.isprintable() else "".join(ch if ch.isprintable() else "?" for ch in name)
            row: list[object] = [shown, nums.n_statements, nums.n_missing]
            if self.branches:
                row += [nums.n_branches, nums.n_partial_branches]
            row.append(nums.pc_covered_str)
            if self.show_missing:
                row.append(analysis.missing_formatted(branches=True))
            values.append((row, nums.pc_covered))
        values = self._sorted(values)
        total_row: list[object] = ["TOTAL", total.n_statements, total.n_missing]
        if self.branches:
            total_row += [total.n_branches, total.n_partial_branches]
        total_row.append(total.pc_covered_str)
        if self.show_missing:
            total_row.append("")
        end_lines = []
        if self.skip_covered and skipped:
            end_lines.append(f"\n{_plural(skipped, 'file')} skipped due to complete coverage.")
        if self.skip_empty and empty:
            end_lines.append(f"\n{_plural(empty, 'empty file')} skipped.")
        rows_only = [row for row, _ in values]
        if self.output_format == "markdown":
            self._markdown(write, header, rows_only, total_row)
        else:
            self._text(write, header, rows_only, total_row)
        for line in end_lines:
            write(line)
        return total

    def _sorted(self, values: list[tuple[list[object], float]]) -> list[tuple[list[object], float]]:
        option = (self.sort or "name").lower()
        reverse = option.startswith("-")
        option = option.lstrip("+-")
        if option not in _COLUMNS or (option in ("branch", "brpart") and not self.branches):
            raise ConfigError(f"Invalid sorting option: {self.sort!r}")
        if option == "name":
            return sorted(values, key=lambda v: human_key(str(v[0][0])), reverse=reverse)
        idx = _COLUMNS[option]
        if idx == -1:
            return sorted(values, key=lambda v: (v[1], str(v[0][0])), reverse=reverse)
        return sorted(values, key=lambda v: (v[0][idx], str(v[0][0])), reverse=reverse)  # type: ignore[return-value]

    @staticmethod
    def _text(write, header: list[str], rows: list[list[object]], total_row: list[object]) -> None:  # type: ignore[no-untyped-def]
        cover = header.index("Cover")
        name_len = max([len(str(r[0])) for r in rows] + [5]) + 1
        n = max(len(str(total_row[cover])) + 2, len(" Cover")) + 1
        n = max([n] + [len(str(r[cover])) + 2 for r in rows])
        head_fmt = {"Name": f"{{:{name_len}}}", "Stmts": "{:>7}", "Miss": "{:>7}", "Branch": "{:>7}", "BrPart": "{:>7}",
                    "Cover": f"{{:>{n}}}", "Missing": "{:>10}"}
        header_str = "".join(head_fmt[h].format(h) for h in header)
        rule = "-" * len(header_str)
        row_fmt = dict(head_fmt, Cover=f"{{:>{n - 1}}}%", Missing="   {:9}")
        write(header_str)
        write(rule)
        for row in rows:
            write("".join(row_fmt[h].format(str(v)) for h, v in zip(header, row)))
        if rows:
            write(rule)
        write("".join(row_fmt[h].format(str(v)) for h, v in zip(header, total_row)))

    @staticmethod
    def _markdown(write, header: list[str], rows: list[list[object]], total_row: list[object]) -> None:  # type: ignore[no-untyped-def]
        def esc(text: str) -> str:
            return text.replace("_", "\\_").replace("*", "\\*")

        cover = header.index("Cover")
        name_len = max([len(esc(str(r[0]))) for r in rows] + [0])
        name_len = max(name_len, len("**TOTAL**")) + 1
        fmt = {"Name": f"| {{:{name_len}}}|", "Stmts": "{:>9} |", "Miss": "{:>9} |", "Branch": "{:>9} |",
               "BrPart": "{:>9} |", "Missing": "{:>10} |"}
        n = max(len(str(total_row[cover])) + 6, len(" Cover "))
        fmt["Cover"] = f"{{:>{n}}} |"
        items = [fmt[h].format(h) for h in header]
        write("".join(items))
        write("|" + " ".join(["- |".rjust(len(items[0]) - 1, "-")] + ["-: |".rjust(len(i) - 1, "-") for i in items[1:]]))
        row_fmt = dict(fmt, Cover=f"{{:>{n - 1}}}% |")
        for row in rows:
            write("".join(row_fmt[h].format(esc(str(v))) for h, v in zip(header, row)))
        tot_fmt = dict(fmt, Name=f"|{{:{name_len}}} |", Cover=f"{{:>{n}}} |")
        parts = []
        for h, v in zip(header, total_row):
            if v == "":
                text = ""
            elif h == "Cover":
                text = f" **{v}%**"
            else:
                text = f" **{v}**"
            parts.append(tot_fmt[h].format(text))
        write("".join(parts))
