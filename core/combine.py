"""Combine data files: parallel-mode files, other machines' files, remapped.

Files are read one at a time and merged into the target, so memory holds the
combined result and one input, never all inputs at once.

Nothing is lost or touched by mistake: a directory is searched without
following symbolic links out of it; an input is removed only after it was
merged and the data file holding it was written; unusable inputs, skipped
entries, the target itself and writers' temporary files are never removed;
an error (line data mixed with branch data) changes and removes nothing.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable

from covcore.data import CoverageData
from covcore.dataread import _unpack_arcs, read_raw_data_file, why_not_a_file
from covcore.errors import DataError, NoDataError
from covcore.numbits import numbits_to_nums


#: Names a writer uses while a data file is not complete: never inputs.
_TEMPORARY_MARKS = (".tmp-",)
_TEMPORARY_ENDINGS = ("-journal", "-wal", "-shm")


def _is_temporary(path: str) -> bool:
    name = os.path.basename(path)
    return any(m in name for m in _TEMPORARY_MARKS) or name.endswith(_TEMPORARY_ENDINGS)


def _inside(path: str, directory: str) -> bool:
    """Is ``path`` (a real path) ``directory`` (a real path) or below it?"""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _scan_directory(directory: str, prefix: str, warn: Callable[[str, str], None] | None) -> list[str]:
    """The data files named ``<prefix>.*`` directly in ``directory``.

    A symbolic link is used only when what it points to is inside
    ``directory``; other links (and links in a loop, or broken), directories
    and special files are skipped with a warning (slug ``combine-skipped``).
    """
    found: list[str] = []
    real_dir = os.path.realpath(directory)
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise NoDataError(f"Couldn't combine from directory {directory!r}: {exc.strerror}") from None
    for name in names:
        if not name.startswith(prefix + "."):
            continue
        path = os.path.join(directory, name)
        if _is_temporary(path):
            continue
        try:
            st, skip = why_not_a_file(path)
        except OSError:
            continue  # gone since the listing
        if st is not None and os.path.islink(path):
            real = os.path.realpath(path)
            if not _inside(real, real_dir):
                skip = f"a symbolic link to {real!r}, outside {directory!r} (name it on the command line to combine it)"
        if skip is not None:
            if warn:
                warn(f"Skipping {path!r}: {skip}", "combine-skipped")
            continue
        found.append(path)
    return found


def combinable_files(
    data_file: str,
    data_paths: Iterable[str] | None = None,
    warn: Callable[[str, str], None] | None = None,
) -> list[str]:
    """The data files to combine, sorted, each once.

    :param data_file: the (combined) data file's name; inputs are files named
        like it with a dotted suffix (``.covcore.<anything>``).
    :param data_paths: files and directories to take inputs from (default:
        the data file's directory).  Files named are used as given (symbolic
        links included); directories are searched for ``<data file name>.*``,
        not following symbolic links out of the directory (see
        :func:`_scan_directory`).  A writer's temporary files
        (``*.tmp-*``, ``*-journal``, ``*-wal``, ``*-shm``) are never inputs.
    :param warn: ``warn(message, slug)`` for each entry skipped.
    :returns: absolute paths.
    :raises NoDataError: a path that does not exist, or a directory that
        can't be listed.
    """
    data_dir, local = os.path.split(os.path.abspath(data_file))
    found: list[str] = []
    for path in list(data_paths or []) or [data_dir]:
        if os.path.isdir(path):
            found.extend(_scan_directory(os.path.abspath(path), local, warn))
        elif os.path.exists(path):
            if not _is_temporary(path):
                found.append(os.path.abspath(path))
        else:
            raise NoDataError(f"Couldn't combine from non-existent path '{path}'")
    return sorted(set(found))


def combine_parallel_data(
    data: CoverageData,
    map_path: Callable[[str], str] | None = None,
    data_paths: Iterable[str] | None = None,
    strict: bool = False,
    keep: bool = False,
    message: Callable[[str], None] | None = None,
    warn: Callable[[str, str], None] | None = None,
    debug: Callable[[str], None] | None = None,
) -> int:
    """Merge data files into ``data``.

    Each readable input is merged (remapped through ``map_path``).  Inputs
    with the same measurements as one already merged are counted once.  An
    unusable input gives a warning naming it (``Couldn't use data file
    '<path>': <problem>``, slug ``couldnt-combine``) and is left in place, as
    are the entries :func:`combinable_files` skips and the target file itself.

    Nothing is lost: every input is read before ``data`` changes (so an error
    leaves ``data`` as it was and removes nothing), and unless ``keep`` the
    merged inputs (and their duplicates) are removed only after ``data`` has
    been written to its data file.

    :returns: the number of files merged.
    :raises NoDataError: with ``strict``, when there was nothing to combine,
        or no input could be used.
    :raises DataError: line data and branch data mixed (naming both files),
        or the combined data can't be written.
    """
    files = combinable_files(data.base_filename(), data_paths, warn)
    if strict and not files:
        raise NoDataError("No data to combine")
    seen: set[str] = set()
    combined = skipped = errored = 0
    target = os.path.realpath(data.data_filename())
    remap = map_path or (lambda p: p)
    # Line data is merged packed: bitmaps OR-ed as integers, unpacked once per
    # file and context at the end, so memory holds the result and one input.
    line_acc: dict[tuple[str, str], int] = {}
    arc_acc: dict[tuple[str, str], set] = {}
    measured: set[str] = set()
    tracers: dict[str, str] = {}
    kind = "branch" if data.has_arcs() else ("line" if data else None)
    kind_from = data.data_filename()
    merged_files: list[str] = []
    for f in files:
        if os.path.realpath(f) == target:
            continue
        rel = os.path.relpath(f) if not f.startswith("\\\\") else f
        try:
            raw = read_raw_data_file(f)
        except DataError as exc:
            errored += 1
            if warn:
                warn(str(exc), "couldnt-combine")
            continue
        if raw.digest in seen:
            skipped += 1
            if debug:
                debug(f"Skipping duplicate data {rel}")
        else:
            seen.add(raw.digest)
            theirs = "branch" if raw.has_arcs else "line"
            if raw.paths:
                if kind is not None and kind != theirs:
                    raise DataError(
                        f"Can't combine {theirs} data from {f!r} with {kind} data from {kind_from!r}: "
                        "measure every run with the same --branch setting"
                    )
                if kind is None:
                    kind, kind_from = theirs, f
            for path, ctx, blob in raw.lines:
                key = (remap(path), ctx)
                line_acc[key] = line_acc.get(key, 0) | int.from_bytes(blob, "little")
            for path, ctx, blob in raw.arcs:
                arc_acc.setdefault((remap(path), ctx), set()).update(_unpack_arcs(blob))
            measured.update(remap(p) for p in raw.paths)
            tracers.update({remap(p): t for p, t in raw.tracers.items()})
            combined += 1
            if debug:
                debug(f"Combined data file {rel}")
        merged_files.append(f)
    if strict and not combined:
        raise NoDataError("No usable data files")
    if kind is not None:
        data.set_kind(arcs=kind == "branch")
    context = data.current_context
    try:
        for (path, ctx), bits in line_acc.items():
            data.set_context(ctx)
            data.add_lines({path: numbits_to_nums(bits.to_bytes((bits.bit_length() + 7) // 8, "little"))})
        for (path, ctx), arcs in arc_acc.items():
            data.set_context(ctx)
            data.add_arcs({path: arcs})
    finally:
        data.set_context(context)
    data.touch_files(sorted(measured))
    data.add_file_tracers(tracers)
    if not keep and merged_files:
        # The inputs go only once what they held is safely in the data file.
        data.write()
        for f in merged_files:
            try:
                os.remove(f)
            except OSError as exc:
                if warn:
                    warn(f"Couldn't remove combined data file {f!r}: {exc.strerror}", "couldnt-remove")
    if message and (combined + skipped + errored):
        msg = f"Combined {combined} file{'s' if combined != 1 else ''}"
        if skipped:
            msg += f", skipped {skipped}"
        if errored:
            msg += f", {errored} file{'s' if errored != 1 else ''} errored"
        message(msg)
    return combined
