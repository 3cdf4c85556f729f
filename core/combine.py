"""Combine data files: parallel-mode files, other machines' files, remapped.

Files are read one at a time and merged into the target, so memory holds the
combined result and one input, never all inputs at once.
"""

from __future__ import annotations

import glob
import os
from typing import Callable, Iterable

from covcore.data import CoverageData, _unpack_arcs, read_raw_data_file
from covcore.errors import DataError, NoDataError
from covcore.numbits import numbits_to_nums


def combinable_files(data_file: str, data_paths: Iterable[str] | None = None) -> list[str]:
    """The data files to combine, sorted.

    :param data_file: the (combined) data file's name; inputs are files named
        like it with a dotted suffix (``.covcore.<anything>``).
    :param data_paths: files and directories to take inputs from (default:
        the data file's directory).  Files are used as given; directories are
        searched for ``<data file name>.*``.
    :raises NoDataError: a path that does not exist.
    """
    data_dir, local = os.path.split(os.path.abspath(data_file))
    found: list[str] = []
    for path in list(data_paths or []) or [data_dir]:
        if os.path.isfile(path):
            found.append(os.path.abspath(path))
        elif os.path.isdir(path):
            found.extend(glob.glob(glob.escape(os.path.join(os.path.abspath(path), local)) + ".*"))
        else:
            raise NoDataError(f"Couldn't combine from non-existent path '{path}'")
    # Never a writer's temporary file (it is renamed into place when complete).
    return sorted(f for f in found if ".tmp-" not in os.path.basename(f) and not f.endswith("-journal"))


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

    Each readable input is merged (remapped through ``map_path``) and, unless
    ``keep``, removed.  Inputs with the same measurements as one already
    merged are counted once (and removed).  An unreadable input gives a
    warning naming it (slug ``couldnt-combine``) and is left in place.

    :returns: the number of files merged.
    :raises NoDataError: with ``strict``, when there was nothing to combine,
        or no input could be used.
    :raises DataError: line data and branch data mixed.
    """
    files = combinable_files(data.base_filename(), data_paths)
    if strict and not files:
        raise NoDataError("No data to combine")
    seen: set[str] = set()
    combined = skipped = errored = 0
    target = os.path.abspath(data.data_filename())
    remap = map_path or (lambda p: p)
    # Line data is merged packed: bitmaps OR-ed as integers, unpacked once per
    # file and context at the end, so memory holds the result and one input.
    line_acc: dict[tuple[str, str], int] = {}
    arc_acc: dict[tuple[str, str], set] = {}
    measured: set[str] = set()
    tracers: dict[str, str] = {}
    kind = "branch" if data.has_arcs() else ("line" if data else None)
    for f in files:
        if f == target:
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
                        f"Can't combine {theirs} data from {f!r} with {kind} data: "
                        "measure every run with the same --branch setting"
                    )
                kind = theirs
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
        if not keep:
            try:
                os.remove(f)
            except OSError as exc:
                if warn:
                    warn(f"Couldn't remove combined data file {f!r}: {exc.strerror}", "couldnt-remove")
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
    if strict and not combined:
        raise NoDataError("No usable data files")
    if message and (combined + skipped + errored):
        msg = f"Combined {combined} file{'s' if combined != 1 else ''}"
        if skipped:
            msg += f", skipped {skipped}"
        if errored:
            msg += f", {errored} file{'s' if errored != 1 else ''} errored"
        message(msg)
    return combined
