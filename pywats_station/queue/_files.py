"""Crash-safe file primitives: atomic replace with fsync discipline, and the single-instance lock.

POSIX only (``fcntl``, directory ``fsync``), like the station daemon.

Why each step of ``write_atomic`` is needed:

1. write to a temp file *in the same folder* - ``rename`` is atomic only within one file system;
2. ``fsync`` the file - otherwise the rename can reach the disk before the data, and a power loss
   leaves a complete-looking name over an empty or partial file (the classic ext4 zero-length file);
3. ``rename`` over the final name - readers see either the old or the new content, never a mix;
4. ``fsync`` the folder - the rename itself lives in the folder; until the folder is flushed, a
   power loss can forget the new name even though the data is on disk.

Temp files start with ``TEMP_PREFIX``; whatever a crash leaves of them is deleted on the next open.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from pywats_station._failpoints import failpoint

from ._errors import QueueLocked

__all__ = [
    "TEMP_PREFIX",
    "LockFile",
    "ensure_dir",
    "fsync_dir",
    "unlink_if_exists",
    "write_atomic",
]

TEMP_PREFIX = ".tmp-"
"""Names of files being written; never valid entries, deleted on open."""


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new, renamed and deleted names) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, chunks: Iterable[bytes], *, fsync: bool = True) -> None:
    """Create or replace ``path`` so that after a crash it holds either the old or the new content.

    Args:
        path: the final name.
        chunks: the new content, written in order (saves joining a header and a large payload).
        fsync: flush the file and its folder before returning. Turn off only where durability is
            not the point (fast test set-up); the rename stays atomic either way.
    """
    folder = path.parent
    tmp = folder / f"{TEMP_PREFIX}{path.name}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
    try:
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:  # os.write may write less than asked (signals, big buffers)
                    view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        failpoint("queue.write.before_rename")
        os.rename(tmp, path)
    except BaseException:
        unlink_if_exists(tmp)
        raise
    failpoint("queue.write.before_dir_fsync")
    if fsync:
        fsync_dir(folder)


def unlink_if_exists(path: str | Path) -> bool:
    """Delete a file; ``False`` if it was not there (someone else removed it first)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def ensure_dir(path: Path, *, fsync: bool = True) -> None:
    """Create a folder (and its parents) durably: a new folder's name lives in its parent."""
    if path.is_dir():
        return
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    if fsync:
        for p in missing:
            fsync_dir(p.parent)


class LockFile:
    """An exclusive ``flock`` on a file, held while the queue is open.

    ``flock`` locks belong to the open file description, so a second ``acquire`` fails even in the
    same process, and the kernel releases the lock when the holder dies (even by ``kill -9``): no
    stale locks to clean up. The holder's pid is written into the file for the error message only.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise at once.

        Raises:
            QueueLocked: another holder has it; the message names the path and its pid.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise QueueLocked(self.path.parent, self._read_pid()) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up; the file stays (deleting it would race with the next opener)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock

    def _read_pid(self) -> int | None:
        try:
            return int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):  # unreadable, or the holder has not written it yet
            return None
