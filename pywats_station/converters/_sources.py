"""What happens to a source file or folder after conversion: done, error, zip, delete, keep.

Every function here runs in a worker thread (blocking file I/O) and is called only *after* the
reports are safely in the queue (done, delete, zip, keep) or after a conversion failed (error).
Names never collide: an existing name in the target folder gets a time stamp and a counter.

A source's name is whatever bytes it had: a moved source keeps them exactly. Names derived from
it (a time-stamped variant, ``<name>.error.txt``, the ``keep`` marker, ``<name>.zip``) are cut to
the name length limit when they must be, with a digest of the full name so that they stay
distinct; what is *written* about a name (the error note, names inside a zip) is escaped by
:func:`~pywats_station._display.display_name`. Sources are read through
:func:`~pywats_station.converters._intake.open_regular`: never a FIFO, never a link that was not
allowed.

A folder input with companions (``run-7/`` and ``run-7.txt`` beside it, see
:attr:`~pywats_station.converters.api.FolderConverter.companions`) is one source: its id digest
covers both, and it is moved, zipped, deleted or sent to Error as a whole, the companions keeping
their suffix on the folder's (possibly time-stamped) name, the ``.error.txt`` note beside them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import zipfile
from pathlib import Path

from pywats_station._display import display_name, display_text
from pywats_station._failpoints import failpoint
from pywats_station.converters._intake import (
    InputPolicy,
    NotAnInput,
    SourceState,
    folder_files,
    open_regular,
    read_target,
)
from pywats_station.converters.api import companion_paths
from pywats_station.paths import fsync_directory

__all__ = [
    "SourceState",
    "content_key",
    "fit_name",
    "is_kept",
    "move_to",
    "post_process",
    "to_error",
    "unique_target",
]

NAME_MAX = 255
"""Bytes in a name on nearly every file system (ext4, XFS, Btrfs; NTFS and FAT count chars)."""
_DIGEST = 12  # hex characters of the full name's digest in a shortened name
_HASH_CHUNK = 1 << 16  # bytes read at a time when hashing an input
_ZIP_EARLIEST = (1980, 1, 1, 0, 0, 0)  # a zip cannot hold older times (a clock never set)
_ZIP_LATEST = (2107, 12, 31, 23, 59, 58)


def fit_name(name: str, suffix: str = "") -> str:
    """``name + suffix``, shortened to :data:`NAME_MAX` bytes with a digest of ``name``.

    A source's name may already use every byte a name may have; what is added to it (a time
    stamp, ``.error.txt``) makes room by cutting the name, never the suffix, and the digest of
    the whole name keeps two long names that start alike apart.
    """
    full = name + suffix
    if len(os.fsencode(full)) <= NAME_MAX:
        return full
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:_DIGEST]
    room = NAME_MAX - len(os.fsencode(tag + suffix))
    if room < 16:  # an absurdly long suffix: it is cut as well
        return fit_name(full)
    return os.fsdecode(_cut(os.fsencode(name), room)) + tag + suffix


def _cut(raw: bytes, size: int) -> bytes:
    """The first ``size`` bytes, without half a UTF-8 character at the end."""
    head = raw[:size]
    start = len(head)
    while start > 0 and len(head) - start < 3 and head[start - 1] & 0xC0 == 0x80:
        start -= 1
    if start > 0 and head[start - 1] >= 0xC0:
        lead = head[start - 1]
        need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if len(head) - (start - 1) < need:
            return head[: start - 1]
    return head


def _hash_file(digest: hashlib._Hash, path: Path, buffer: bytearray) -> None:
    view = memoryview(buffer)
    with open(open_regular(path), "rb", buffering=0, closefd=True) as handle:
        while n := handle.readinto(buffer):
            digest.update(view[:n])


def content_key(path: Path, policy: InputPolicy) -> str:
    """A digest of the content (for a folder: of every file's relative name and content).

    Used to give reports made from the same input the same id, whatever its name. Files are
    opened with :func:`open_regular`; links count only as ``policy`` allows.
    """
    digest = hashlib.sha256()
    # One buffer, filled with readinto: read(1 MiB) of a small file allocates 1 MiB and shrinks
    # it, which fragments the heap (a station hashing every file grew ~0.5 MiB per 1,000).
    buffer = bytearray(_HASH_CHUNK)
    if policy.folders:
        folder = read_target(path, policy)
        files: list[tuple[Path, Path]] = []
        if not policy.companions or os.path.isdir(path):
            files = sorted((p.relative_to(folder), t) for p, t, _ in folder_files(folder, policy))
        for relative, target in files:
            digest.update(os.fsencode(relative) + b"\0")
            _hash_file(digest, target, buffer)
        # Companions by their suffix (the name they share with the folder is not content).
        for companion in companion_paths(path, policy.companions):
            digest.update(b"\0companion\0" + os.fsencode(companion.name[len(path.name) :]))
            _hash_file(digest, read_target(companion, policy), buffer)
    else:
        _hash_file(digest, read_target(path, policy), buffer)
    return digest.hexdigest()


def unique_target(folder: Path, name: str) -> Path:
    """``folder/name``, or a free variant with a time stamp (``name.20261122-103000-2.csv``)."""
    target = folder / fit_name(name)
    if not target.exists() and not target.is_symlink():
        return target
    stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        candidate = folder / fit_name(f"{stem}.{stamp}-{n}", f"{dot}{suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def move_to(source: Path, folder: Path) -> Path:
    """Move ``source`` (file or folder) into ``folder`` under a free name; return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_target(folder, source.name)
    try:
        os.rename(source, target)
    except OSError:
        # Another file system: copy, then remove the original (a link is moved as a link).
        shutil.move(str(source), str(target))
    failpoint("source.moved")  # renamed, the done folder not yet flushed
    fsync_directory(folder)
    return target


def _pair_name(folder: Path, name: str, suffixes: tuple[str, ...]) -> str:
    """A name free in ``folder`` for a folder and each of its companion suffixes together.

    ``name`` itself if all are free, else a time-stamped variant (as :func:`unique_target`);
    cut so that the longest companion name still fits, so every part keeps the same stem.
    """
    longest = max(suffixes, key=lambda s: len(os.fsencode(s)), default="")

    def fitted(stem: str) -> str:
        return fit_name(stem, longest)[: len(fit_name(stem, longest)) - len(longest)]

    def free(stem: str) -> bool:
        return not any(os.path.lexists(folder / (stem + s)) for s in ("", *suffixes))

    candidate = fitted(name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 0
    while not free(candidate):
        n += 1
        candidate = fitted(f"{name}.{stamp}-{n}")
    return candidate


def _pair_parts(source: Path, policy: InputPolicy) -> list[tuple[Path, str]]:
    """The parts of a folder input with companions that exist: (path, suffix after its name)."""
    parts = [(source, "")] if os.path.isdir(source) else []
    for companion in companion_paths(source, policy.companions):
        parts.append((companion, companion.name[len(source.name) :]))
    return parts


def _move_pair(source: Path, folder: Path, policy: InputPolicy) -> Path:
    """Move a folder input and its companions into ``folder`` under one free stem."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = _pair_name(folder, source.name, policy.companions)
    for part, suffix in _pair_parts(source, policy):
        target = folder / (stem + suffix)
        try:
            os.rename(part, target)
        except OSError:
            shutil.move(str(part), str(target))
    fsync_directory(folder)
    return folder / stem


def _zip_info(arcname: str, mtime: float) -> zipfile.ZipInfo:
    when = time.localtime(mtime)[:6]
    when = min(max(when, _ZIP_EARLIEST), _ZIP_LATEST)
    info = zipfile.ZipInfo(arcname, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _zip_add(archive: zipfile.ZipFile, path: Path, arcname: str, buffer: bytearray) -> None:
    with open(open_regular(path), "rb", closefd=True) as handle:
        info = _zip_info(arcname, os.fstat(handle.fileno()).st_mtime)
        with archive.open(info, "w", force_zip64=True) as out:
            while n := handle.readinto(buffer):
                out.write(memoryview(buffer)[:n])


def _arcname(*parts: str | Path) -> str:
    # Names inside a zip are text: bytes that are not UTF-8 cannot be stored, so every part is
    # shown escaped, as in the log.
    return "/".join(display_name(p) for part in parts for p in Path(part).parts)


def _zip(source: Path, folder: Path, policy: InputPolicy) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_target(folder, fit_name(source.name, ".zip"))
    tmp = target.with_name(fit_name(f".{target.name}", ".tmp"))
    buffer = bytearray(_HASH_CHUNK)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            if policy.folders and policy.companions:
                for part, suffix in _pair_parts(source, policy):
                    if suffix:
                        _zip_add(archive, read_target(part, policy), _arcname(part.name), buffer)
                        continue
                    root = read_target(part, policy)
                    for path, file, _ in sorted(folder_files(root, policy)):
                        _zip_add(archive, file, _arcname(part.name, path.relative_to(root)), buffer)
            elif policy.folders:
                root = read_target(source, policy)
                for path, file, _ in sorted(folder_files(root, policy)):
                    _zip_add(archive, file, _arcname(source.name, path.relative_to(root)), buffer)
            else:
                _zip_add(archive, read_target(source, policy), _arcname(source.name), buffer)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(folder)
    _remove(source, policy)
    return target


def _remove(source: Path, policy: InputPolicy | None = None) -> None:
    if policy is not None and policy.folders and policy.companions:
        for part, _ in _pair_parts(source, policy):
            _remove(part)
        return
    if source.is_dir() and not source.is_symlink():
        shutil.rmtree(source)
    else:
        source.unlink()


def _marker(done: Path, source: Path) -> Path:
    return done / ".kept" / fit_name(source.name, ".converted")


def is_kept(done: Path, source: Path, state: SourceState) -> bool:
    """Whether ``source`` was converted before and kept in place (post action ``keep``)."""
    try:
        # Opened like a source: the marker folder may lie inside the watch folder, where anyone
        # writing to it could put a FIFO in the marker's place.
        with open(open_regular(_marker(done, source)), "rb", closefd=True) as handle:
            recorded = handle.read(256).decode("ascii", "replace").split()
    except (OSError, NotAnInput):
        return False
    return recorded == [str(state.size), str(state.mtime_ns)]


def post_process(
    action: str, source: Path, done: Path, state: SourceState, policy: InputPolicy
) -> Path | None:
    """Apply the post action of a converted source; return where it went (``None``: deleted/kept).

    Args:
        action: ``move`` (into ``done``), ``delete``, ``zip`` (into ``done``) or ``keep``
            (leave it, with a marker so it is not converted twice).
        source: the converted file or folder (a link is moved or deleted as a link).
        done: the done folder.
        state: the source's state when it was converted (recorded for ``keep``).
        policy: what may be read of it (``zip`` reads it).
    """
    if action in ("move", "zip", "delete"):
        if action == "delete":
            _remove(source, policy)
            target = None
        elif action == "zip":
            target = _zip(source, done, policy)
        elif policy.folders and policy.companions:
            target = _move_pair(source, done, policy)
        else:
            target = move_to(source, done)
        # The source's name is gone from the watch folder only once that folder is flushed:
        # else a power cut brings it back, and it is converted (and uploaded) a second time.
        fsync_directory(source.parent)
        return target
    marker = _marker(done, source)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{state.size} {state.mtime_ns}\n", encoding="utf-8")
    return None


def to_error(
    source: Path,
    error_dir: Path,
    *,
    converter: str,
    reason: str,
    policy: InputPolicy | None = None,
) -> Path:
    """Move a source that failed into the error folder with ``<name>.error.txt`` beside it.

    The source keeps its exact name; the note shows names escaped and the reason on one line,
    so that neither can forge a line of the note. With a ``policy`` that has companions, the
    folder and its companions go together (those that exist), the note beside them.
    """
    if policy is not None and policy.folders and policy.companions:
        target = _move_pair(source, error_dir, policy)
    else:
        target = move_to(source, error_dir)
    note = target.with_name(fit_name(target.name, ".error.txt"))
    note.write_text(
        f"converter: {display_text(converter)}\n"
        f"source: {display_name(source)}\n"
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
        f"reason: {display_text(reason)}\n",
        encoding="utf-8",
    )
    return target
