"""What happens to a source file or folder after conversion: done, error, zip, delete, keep.

Every function here runs in a worker thread (blocking file I/O) and is called only *after* the
reports are safely in the queue (done, delete, zip, keep) or after a conversion failed (error).
Names never collide: an existing name in the target folder gets a time stamp and a counter.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pywats_station.paths import fsync_directory

__all__ = [
    "SourceState",
    "content_key",
    "is_kept",
    "move_to",
    "post_process",
    "source_state",
    "to_error",
    "unique_target",
]


@dataclass(frozen=True, slots=True)
class SourceState:
    """Size and modification time of a file (for a folder: of its newest file, and its size)."""

    size: int
    mtime_ns: int


def source_state(path: Path) -> SourceState | None:
    """The state of a file or folder now, or ``None`` if it is gone."""
    try:
        if path.is_dir():
            size, newest = 0, path.stat().st_mtime_ns
            for entry in path.rglob("*"):
                st = entry.stat()
                size += st.st_size if entry.is_file() else 0
                newest = max(newest, st.st_mtime_ns)
            return SourceState(size, newest)
        st = path.stat()
    except OSError:
        return None
    return SourceState(st.st_size, st.st_mtime_ns)


_HASH_CHUNK = 1 << 16  # bytes read at a time when hashing an input


def content_key(path: Path) -> str:
    """A digest of the content (for a folder: of every file's relative name and content).

    Used to give reports made from the same input the same id, whatever its name.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    # One buffer, filled with readinto: read(1 MiB) of a small file allocates 1 MiB and shrinks
    # it, which fragments the heap (a station hashing every file grew ~0.5 MiB per 1,000).
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb", buffering=0) as handle:
            while n := handle.readinto(buffer):
                digest.update(view[:n])
    return digest.hexdigest()


def unique_target(folder: Path, name: str) -> Path:
    """``folder/name``, or a free variant with a time stamp (``name.20261122-103000-2.csv``)."""
    target = folder / name
    if not target.exists() and not target.is_symlink():
        return target
    stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        candidate = folder / f"{stem}.{stamp}-{n}{dot}{suffix}"
        if not candidate.exists():
            return candidate
        n += 1


def move_to(source: Path, folder: Path) -> Path:
    """Move ``source`` (file or folder) into ``folder`` under a free name; return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_target(folder, source.name)
    try:
        os.rename(source, target)
    except OSError:
        # Another file system: copy, then remove the original.
        shutil.move(str(source), str(target))
    fsync_directory(folder)
    return target


def _zip(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = unique_target(folder, source.name + ".zip")
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        if source.is_dir():
            for file in sorted(source.rglob("*")):
                if file.is_file():
                    archive.write(file, f"{source.name}/{file.relative_to(source)}")
        else:
            archive.write(source, source.name)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    fsync_directory(folder)
    _remove(source)
    return target


def _remove(source: Path) -> None:
    if source.is_dir():
        shutil.rmtree(source)
    else:
        source.unlink()


def _marker(done: Path, source: Path) -> Path:
    return done / ".kept" / f"{source.name}.converted"


def is_kept(done: Path, source: Path, state: SourceState) -> bool:
    """Whether ``source`` was converted before and kept in place (post action ``keep``)."""
    try:
        recorded = _marker(done, source).read_text(encoding="utf-8").split()
    except OSError:
        return False
    return recorded == [str(state.size), str(state.mtime_ns)]


def post_process(action: str, source: Path, done: Path, state: SourceState) -> Path | None:
    """Apply the post action of a converted source; return where it went (``None``: deleted/kept).

    Args:
        action: ``move`` (into ``done``), ``delete``, ``zip`` (into ``done``) or ``keep``
            (leave it, with a marker so it is not converted twice).
        source: the converted file or folder.
        done: the done folder.
        state: the source's state when it was converted (recorded for ``keep``).
    """
    if action == "move":
        return move_to(source, done)
    if action == "zip":
        return _zip(source, done)
    if action == "delete":
        _remove(source)
        return None
    marker = _marker(done, source)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{state.size} {state.mtime_ns}\n", encoding="utf-8")
    return None


def to_error(source: Path, error_dir: Path, *, converter: str, reason: str) -> Path:
    """Move a source that failed into the error folder with ``<name>.error.txt`` beside it."""
    target = move_to(source, error_dir)
    note = target.with_name(target.name + ".error.txt")
    note.write_text(
        f"converter: {converter}\n"
        f"source: {source}\n"
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
        f"reason: {reason}\n",
        encoding="utf-8",
    )
    return target
