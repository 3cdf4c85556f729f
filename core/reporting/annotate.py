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


#: Characters never put in a ``,cover`` file's name: controls (NUL, newline...),
#: lone surrogates (names that aren't valid UTF-8), and those Windows forbids.
_UNSAFE_NAME_CHARS = re.compile('[\x00-\x1f\x7f<>:"|?*\ud800-\udfff]')
#: The longest ``,cover`` file name, well under the 255 bytes file systems
#: allow, leaving room for the temporary file's name.
MAX_COVER_NAME = 120


def flat_rootname(filename: str) -> str:
    """A flat name (str) for ``filename`` (str): ``a/b/c.py`` -> ``z_86bbcbe134d28fd2_c_py``
    (coverage.py's: a hash of the directory, then the base name with ``.`` as ``_``).
    Never raises (a name that isn't valid UTF-8 is hashed as its original bytes)."""
    dirname, basename = ntpath.split(filename)
    if dirname:
        digest = hashlib.new("sha3_256", dirname.encode("UTF-8", "surrogateescape"),
                             usedforsecurity=False).hexdigest()[:16]
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
        flat = flat_rootname(name)
        # flat_rootname turned the extension's dot into "_": put the extension back.
        ext = os.path.splitext(ntpath.basename(name))[1]
        if ext and flat.endswith(ext.replace(".", "_")):
            flat = flat[: len(flat) - len(ext)] + ext
        safe = _UNSAFE_NAME_CHARS.sub("_", flat)
        if safe != flat or len(safe) > MAX_COVER_NAME:
            digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
            safe = f"{safe[: MAX_COVER_NAME - 9]}_{digest}"
        return os.path.join(self.directory, safe + ",cover")

    def report(self, analyses: Iterable[tuple[str, Analysis]]) -> Numbers:
        """Annotate every file; return the total numbers."""
        total = Numbers(precision=self.precision)
        used: set[str] = set()
        # Analyse every file, and check every destination, before writing
        # any: a source that can't be reported leaves no partial set of files.
        analyses = list(analyses)
        if not self.directory:
            for name, analysis in analyses:
                self.destination(name, analysis)
        for name, analysis in analyses:
            total += analysis.numbers
            if self.directory:
                ensure_dir(self.directory)
            source = self.read_source(analysis.filename)
            dest = self.destination(name, analysis)
            if self.directory:
                # Two files with one flat name (a.b.py and a_b.py; A.py and a.py
                # on a case-insensitive file system) must not overwrite each other.
                salt = 0
                while dest.lower() in used:
                    salt += 1
                    digest = hashlib.sha256(f"{salt}:{name}".encode("utf-8", "surrogateescape")).hexdigest()[:8]
                    dest = f"{self.destination(name, analysis)[: -len(',cover')]}_{digest},cover"
                used.add(dest.lower())
            with open_output(dest) as out:
                out.writelines(annotate_lines(source, analysis))
            self.files_written.append(dest)
        return total
