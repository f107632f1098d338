"""Linux inotify on trio: a watch folder's changes, with nothing awake while nothing changes.

watchfiles (the portable watcher) polls: its Rust loop sleeps ``step`` milliseconds, takes the
GIL to look for changes and asks Python whether to stop, twenty times a second per watched
folder, whether anything changed or not. On Linux the kernel tells us instead: the inotify
descriptor is waited on by trio's own I/O loop (:func:`trio.lowlevel.wait_readable`), so a
quiet folder costs no wake-up at all.

It also says *how* a file changed, which watchfiles does not: ``IN_CLOSE_WRITE`` (a writer
closed it) and ``IN_MOVED_TO`` (renamed into the folder) mark a file that may be complete, so
the converter can look at it at once instead of waiting out the settle time (see
:mod:`pywats_station.converters._complete`). Writes themselves (``IN_MODIFY``) are not
watched: a file being written is rescanned on the settle timer anyway, and a copy of a large
file would otherwise wake us on every block.

Folders are watched recursively on request (folder converters): a sub-folder that appears is
watched as soon as it is seen, and the folder is reported changed so that what was written
into it before its watch existed is found by the next listing.
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

__all__ = ["Changes", "Inotify", "available"]

# The kernel's event bits (inotify(7)); inotify_simple wraps the three system calls.
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_ISDIR = 0x40000000

_MASK = (
    IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
)
_COMPLETE = IN_CLOSE_WRITE | IN_MOVED_TO
MAX_WATCHES = 4096  # folders of one recursive watch; beyond, the timer's rescans must do


def _library() -> Any:
    """inotify_simple, imported on first use (it loads the C library when imported)."""
    import inotify_simple

    return inotify_simple


def available() -> bool:
    """Whether this system has inotify (Linux with a C library that wraps it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        _library()
    except (ImportError, OSError, AttributeError):
        return False
    return True


@dataclass
class Changes:
    """What one read of the descriptor said.

    Attributes:
        paths: every path named by an event (files and folders, created, closed, moved, deleted).
        complete: files closed after writing or renamed into place: maybe complete.
        lost: the watched folder itself went away (deleted, moved, unmounted).
        overflow: the kernel dropped events; only a full listing can tell what changed.
    """

    paths: set[Path] = field(default_factory=set)
    complete: set[Path] = field(default_factory=set)
    lost: bool = False
    overflow: bool = False


class Inotify:
    """An inotify descriptor watching one folder (and, ``recursive``, the folders below it).

    Raises:
        OSError: on creation, when the folder cannot be watched (gone, not a folder, the
            user's limit of watches or instances reached).
    """

    def __init__(self, folder: Path, *, recursive: bool) -> None:
        self._notify: Any = _library().INotify(nonblocking=True)
        self.folder = folder
        self.recursive = recursive
        self.truncated = False  # more folders than MAX_WATCHES: some are not watched
        self._dirs: dict[int, Path] = {}
        try:
            self._add(folder, follow=True)  # the watch folder itself may be a link
            if recursive:
                self._add_tree(folder)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        self._notify.close()

    def __enter__(self) -> Inotify:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _add(self, folder: Path, *, follow: bool = False) -> None:
        mask = _MASK if follow else _MASK | IN_DONT_FOLLOW
        try:
            wd: int = self._notify.add_watch(folder, mask)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(folder)) from None
        self._dirs[wd] = folder

    def _add_tree(self, top: Path) -> None:
        """Watch the folders below ``top`` (not followed through links)."""
        for root, dirs, _ in os.walk(top):
            for name in dirs:
                if len(self._dirs) >= MAX_WATCHES:
                    self.truncated = True
                    return
                try:
                    self._add(Path(root) / name)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.ENOMEM):
                        self.truncated = True
                        return
                    # gone or unreadable meanwhile: the listing will say what it is

    async def read(self) -> Changes:
        """Wait for events (no wake-up until there is one) and return what they say."""
        await trio.lowlevel.wait_readable(self._notify.fileno())
        try:
            events = self._notify.read(timeout=0)
        except BlockingIOError:
            return Changes()
        return self._parse(events)

    def _parse(self, events: list[Any]) -> Changes:
        changes = Changes()
        for wd, mask, _cookie, name in events:
            if mask & IN_Q_OVERFLOW:
                changes.overflow = True
                continue
            folder = self._dirs.get(wd)
            if folder is None:
                continue
            if mask & IN_IGNORED:
                del self._dirs[wd]  # its folder went away (or was unmounted)
                if folder == self.folder:
                    changes.lost = True
                continue
            if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                if folder == self.folder:
                    changes.lost = True
                changes.paths.add(folder)
                continue
            path = folder / name if name else folder
            changes.paths.add(path)
            if mask & IN_ISDIR:
                if self.recursive and mask & (IN_CREATE | IN_MOVED_TO):
                    self._watch_new(path)
            elif mask & _COMPLETE:
                changes.complete.add(path)
        return changes

    def _watch_new(self, path: Path) -> None:
        if len(self._dirs) >= MAX_WATCHES:
            self.truncated = True
            return
        try:
            self._add(path)
        except OSError:
            return  # gone again, or the limit: the listing says what is there
        self._add_tree(path)
