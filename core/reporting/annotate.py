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

import hashlib
import ntpath
import os
import re
from typing import Callable, Iterable

from covcore.analysis import Analysis, Numbers
from covcore.reporting.output import ensure_dir, open_output

_BLANK_RE = re.compile(r"\s*(#|$)")
_ELSE_RE = re.compile(r"\s*else\s*:\s*(#|$)")


def flat_rootname(filename: str) -> str:
    """A flat name for ``filename``: ``a/b/c.py`` -> ``z_86bbcbe134d28fd2_c_py``
    (coverage.py's: a hash of the directory, then the base name with ``.`` as ``_``)."""
    dirname, basename = ntpath.split(filename)
    if dirname:
        digest = hashlib.new("sha3_256", dirname.encode("UTF-8"), usedforsecurity=False).hexdigest()[:16]
        prefix = f"z_{digest}_"
    else:
        prefix = ""
    return prefix + basename.replace(".", "_")


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
        """The ``,cover`` file for one reported file."""
        if self.directory:
            dest = os.path.join(self.directory, flat_rootname(name))
            # flat_rootname turned the extension's dot into "_": put the extension back.
            ext = os.path.splitext(name)[1]
            dest = dest[: len(dest) - len(ext)] + ext
        else:
            dest = analysis.filename
        return dest + ",cover"

    def report(self, analyses: Iterable[tuple[str, Analysis]]) -> Numbers:
        """Annotate every file; return the total numbers."""
        total = Numbers(precision=self.precision)
        for name, analysis in analyses:
            total += analysis.numbers
            if self.directory:
                ensure_dir(self.directory)
            source = self.read_source(analysis.filename)
            dest = self.destination(name, analysis)
            with open_output(dest) as out:
                out.writelines(annotate_lines(source, analysis))
            self.files_written.append(dest)
        return total
