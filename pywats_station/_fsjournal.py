"""A file-system journal for the power-cut test: what a strict POSIX disk would still hold.

A test facility, like :mod:`pywats_station._failpoints`: inert unless the daemon is started with
``PYWATS_STATION_FS_JOURNAL`` naming a folder (and ``PYWATS_STATION_FS_JOURNAL_ROOTS``, the
folders to watch, separated by ``os.pathsep``). Then :func:`install_from_env` wraps three
functions of the ``os`` module, through which every durable write of the daemon passes (the
queue, the converters' post actions, the status and the secrets all call ``os.fsync``):

* ``os.fsync`` / ``os.fdatasync`` of a regular file under a root: a copy of the file's content
  at that moment is kept, and a record says "inode N now durably holds this";
* ``os.fsync`` of a folder under a root: a record lists the folder's entries (name, inode,
  kind) at that moment, "these names now durably exist";
* ``os.open`` with ``O_CREAT`` that made a new file under a root: "inode N starts a new
  generation, empty": a number freed by an unlink that was never flushed and then reused must
  not make the old name show the new file.

After a SIGKILL, ``tests/chaos/_powercut.py`` rebuilds, from the state the daemon started on
and these records, what a disk that keeps *only* what was fsynced would show: each file's content
as of its last fsync (empty if never), each folder's entries as of its last folder fsync
(creations, renames and deletions since then undone). That is stricter than ext4, which
journals a rename atomically and often writes data back within seconds; see docs/reliability.md
for what the model assumes.

Each record is one ``write`` of one line to a file opened ``O_APPEND``, after the real fsync
returned: a kill before the record leaves the operation undone (a power cut during the fsync,
which is a possible outcome). A global lock keeps a folder's listing and its record together,
so the last record of a folder is the latest listing that was flushed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ENV", "ROOTS_ENV", "install_from_env"]

ENV = "PYWATS_STATION_FS_JOURNAL"
ROOTS_ENV = "PYWATS_STATION_FS_JOURNAL_ROOTS"


class _Journal:
    def __init__(self, folder: Path, roots: list[str]) -> None:
        self.blobs = folder / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.roots = [os.path.realpath(r) for r in roots if r]
        self.lock = threading.Lock()
        self.counter = itertools.count()
        self.fd = os.open(folder / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.real_fsync = os.fsync
        self.real_fdatasync = os.fdatasync
        self.real_open = os.open

    def watched(self, path: str) -> bool:
        return any(path == r or path.startswith(r + os.sep) for r in self.roots)

    def record(self, **fields: Any) -> None:
        os.write(self.fd, (json.dumps(fields) + "\n").encode())

    def synced(self, fd: int, real: Callable[[int], None]) -> None:
        """Run the real fsync of ``fd`` and record what it made durable."""
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
            st = os.fstat(fd)
        except OSError:
            real(fd)
            return
        if not self.watched(path):
            real(fd)
            return
        with self.lock:
            if stat.S_ISDIR(st.st_mode):
                entries = {}
                with os.scandir(path) as it:
                    for e in it:
                        kind = "d" if e.is_dir(follow_symlinks=False) else "f"
                        if e.is_symlink():
                            kind = "l"
                        entries[e.name] = [e.inode(), kind]
                real(fd)
                self.record(op="D", path=path, entries=entries)
            elif stat.S_ISREG(st.st_mode):
                blob = self.blobs / str(next(self.counter))
                # The fd may be write-only: read the file through /proc instead.
                with open(f"/proc/self/fd/{fd}", "rb") as src:
                    data = src.read()
                blob.write_bytes(data)
                real(fd)
                self.record(op="F", ino=st.st_ino, blob=blob.name)
            else:
                real(fd)

    def create(self, path: Any, flags: int, mode: int, dir_fd: int | None) -> int:
        """``os.open`` with ``O_CREAT``: record a new file's inode (a new generation of it).

        Under the lock, so that no folder listing is recorded between the file's creation and
        this record (it would name the new file by its inode's previous generation).
        """
        with self.lock:
            existed = os.path.lexists(path) if dir_fd is None else True
            fd = self.real_open(path, flags, mode, dir_fd=dir_fd)
            if not existed:
                with contextlib.suppress(OSError):
                    if self.watched(os.readlink(f"/proc/self/fd/{fd}")):
                        self.record(op="N", ino=os.fstat(fd).st_ino)
            return fd


def install_from_env() -> bool:
    """Install the journal if ``PYWATS_STATION_FS_JOURNAL`` is set; ``True`` if installed."""
    folder = os.environ.get(ENV)
    if not folder:
        return False
    journal = _Journal(Path(folder), os.environ.get(ROOTS_ENV, "").split(os.pathsep))

    def fsync(fd: Any) -> None:
        n = fd if isinstance(fd, int) else fd.fileno()
        journal.synced(n, journal.real_fsync)

    def fdatasync(fd: Any) -> None:
        n = fd if isinstance(fd, int) else fd.fileno()
        journal.synced(n, journal.real_fdatasync)

    def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if flags & os.O_CREAT:
            return journal.create(path, flags, mode, dir_fd)
        return journal.real_open(path, flags, mode, dir_fd=dir_fd)

    os.fsync = fsync
    os.fdatasync = fdatasync
    os.open = open_
    return True
