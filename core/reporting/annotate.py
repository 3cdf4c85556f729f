"""Annotated source: ``covcore annotate``.

Each reported file is copied to ``FILE,cover`` (beside the source, or into a
directory under a flattened name) with a two-character margin, exactly as
coverage.py 7.17's ``annotate``::

    > executed statement
    ! statement that did not run
    - excluded line
      (two spaces) blank lines, comments, and lines that are not statements

A line that is not a statement takes the mark of the statement before it (so
the continuation lines of a multi-line statement, and a docstring, follow
it); a bare ``else:`` takes the mark of the statement after it.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.reporting.filenames import cover_name, unique_names
from covcore.reporting.output import ensure_dir, open_output

_BLANK_RE = re.compile(r"\s*(#|$)")
_ELSE_RE = re.compile(r"\s*else\s*:\s*(#|$)")


def annotate_lines(source: str, analysis: Analysis) -> Iterable[str]:
    """The annotated lines of ``source`` (each ends as the source line does)."""
    statements = sorted(analysis.statements)
    missing = sorted(analysis.missing)
    excluded = analysis.excluded
    i = j = 0
    covered = True
    for lineno, line in enumerate(source.splitlines(True), start=1):
        while i < len(statements) and statements[i] < lineno:
            i += 1
        while j < len(missing) and missing[j] < lineno:
            j += 1
        if i < len(statements) and statements[i] == lineno:
            covered = j >= len(missing) or missing[j] > lineno
        if _BLANK_RE.match(line):
            mark = "  "
        elif _ELSE_RE.match(line):
            # A bare else: follows the statement after it.
            if j >= len(missing):
                mark = "> "
            elif i < len(statements) and statements[i] == missing[j]:
                mark = "! "
            else:
                mark = "> "
        elif lineno in excluded:
            mark = "- "
        elif covered:
            mark = "> "
        else:
            mark = "! "
        yield mark + line


class AnnotateReporter:
    """Writes ``,cover`` files.

    :param directory: where to write them (flattened names); None: beside
        each source file.
    :param read_source: ``f(filename) -> text`` (default: read the file).
    """

    report_type = "annotated source"

    def __init__(
        self,
        *,
        directory: str | None = None,
        precision: int = 0,
        read_source: Callable[[str], str] | None = None,
    ) -> None:
        if read_source is None:
            from covcore.pysource import read_source
        self.directory = directory
        self.precision = precision
        self.read_source = read_source
        self.files_written: list[str] = []

    def destination(self, name: str, analysis: Analysis) -> str:
        """The ``,cover`` file (str) for one reported file (``name``: its report name).

        With a directory: coverage.py's flat name, inside the directory
        whatever ``name`` holds (``..``, an absolute path, a drive letter),
        with unsafe characters (controls, lone surrogates, ``<>:"|?*``)
        replaced and long names cut, each with a hash of ``name`` added.
        Without one: beside the source file.

        :raises OutputError: without a directory, for a source inside a zip
            archive (there is no "beside" to write to).
        """
        if not self.directory:
            from covcore.pysource import zip_location
            from covcore.reporting.output import OutputError

            location = zip_location(analysis.filename)
            if location is not None:
                raise OutputError(
                    f"Can't write '{analysis.filename},cover' beside its source: the source is "
                    f"inside the archive '{location[0]}' (use 'covcore annotate -d DIR')"
                )
            return analysis.filename + ",cover"
        return os.path.join(self.directory, cover_name(name))

    def report(self, analyses: Iterable[tuple[str, Analysis]]) -> Numbers:
        """Annotate every file; return the total numbers."""
        total = Numbers(precision=self.precision)
        # Analyse every file, and check every destination, before writing
        # any: a source that can't be reported leaves no partial set of files.
        analyses = list(analyses)
        if self.directory:
            # Two files with one flat name (a.b.py and a_b.py; A.py and a.py
            # on a case-insensitive file system) must not overwrite each other.
            names = unique_names([name for name, _ in analyses], cover_name, ",cover")
            dests = [os.path.join(self.directory, n) for n in names]
        else:
            dests = [self.destination(name, analysis) for name, analysis in analyses]
        for (name, analysis), dest in zip(analyses, dests):
            total += analysis.numbers
            if self.directory:
                ensure_dir(self.directory)
            source = self.read_source(analysis.filename)
            with open_output(dest) as out:
                out.writelines(annotate_lines(source, analysis))
            self.files_written.append(dest)
        return total
