"""Change events of one watch folder: inotify where there is, watchfiles elsewhere.

:class:`FolderWatch` calls ``kick`` with the :class:`~pywats_station.actors._inotify.Changes`
it sees; the converter actor lists its folder on each kick. Whether it must also list it on
a timer (a "safety-net rescan") depends on how much the events can be trusted, which
:attr:`FolderWatch.complete` says:

* Linux, a local file system: inotify reports every change made on this machine, and nothing
  wakes while nothing changes. No timer needed.
* A network file system (NFS, SMB/CIFS, FUSE mounts such as sshfs, …): inotify sees only what
  this machine writes, not what the test equipment writes over the network; the timer stays.
* No inotify (other systems, or the user's inotify limits reached): watchfiles, which polls
  twenty times a second, and the timer too.

Either watcher can fail (a name that is not UTF-8 breaks watchfiles; a folder that goes
away ends an inotify watch): the watch starts again, backing off, and a kick goes out at once
so that the change that broke it is listed.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio
import watchfiles

from pywats_station._display import display_name
from pywats_station.actors import _inotify
from pywats_station.actors._inotify import Changes, Inotify
from pywats_station.actors._watching import exception_line

__all__ = ["NETWORK_FILE_SYSTEMS", "FolderWatch", "network_file_system"]

# File systems whose changes may come from another machine, unseen by inotify.
NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "afs", "ceph", "glusterfs", "lustre"}
)


def network_file_system(folder: Path, mounts: Path = Path("/proc/self/mounts")) -> str | None:
    """The type of the network file system ``folder`` is on, or ``None`` (local, or unknown).

    FUSE file systems (``fuse.sshfs``, ``fuse.rclone``, …) count as network ones: most are.
    """
    try:
        text = mounts.read_text(encoding="utf-8", errors="replace")
        real = os.path.realpath(folder)
    except OSError:
        return None
    best, kind = "", ""
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # Mount points escape spaces and the like as octal (\040).
        point = fields[1].encode().decode("unicode_escape")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    if kind in NETWORK_FILE_SYSTEMS or kind.startswith("fuse"):
        return kind
    return None


@dataclass
class FolderWatch:
    """Watch ``folder`` (``recursive``: and below) and ``kick`` on every change, until cancelled.

    Attributes:
        complete: whether the events report every change (inotify on a local file system),
            so that no rescan on a timer is needed. False until the watch runs.
    """

    folder: Path
    kick: Callable[[Changes], None]
    recursive: bool
    log: logging.Logger
    name: str
    max_pause: float
    complete: bool = False

    async def run(self) -> None:
        failures = 0
        use_inotify = _inotify.available()
        while True:
            try:
                if use_inotify:
                    await self._inotify()
                else:
                    await self._watchfiles()
                why = "the watcher ended"
            except _InotifyLimit as exc:
                # The user's inotify limits (instances, watches) are reached: watchfiles
                # for this folder from now on, rescans included.
                use_inotify = False
                self.log.warning(
                    "%s: cannot watch %s with inotify (%s); polling it instead",
                    self.name,
                    display_name(self.folder),
                    exc,
                )
                self.kick(Changes(overflow=True))
                continue
            except _FolderGone:
                # Expected: the listing the kick brings raises WatchFolderLost, and the actor
                # starts over on the folder that is (or will be) at that path.
                why = ""
            except Exception as exc:  # groups too: awatch runs a task group of its own
                why = exception_line(exc)
            self.complete = False
            failures += 1
            if failures == 1 and why:
                self.log.warning(
                    "%s: watching %s failed (%s); rescanning, and watching again",
                    self.name,
                    display_name(self.folder),
                    why,
                )
            self.kick(Changes(overflow=True))
            await trio.sleep(min(self.max_pause, 0.5 * 2**failures))

    async def _inotify(self) -> None:
        network = network_file_system(self.folder)
        try:
            watch = Inotify(self.folder, recursive=self.recursive)
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOSPC, errno.ENOMEM):
                raise _InotifyLimit(exc.strerror or str(exc)) from None
            raise
        with watch:
            self.complete = network is None and not watch.truncated
            if network is not None:
                self.log.info(
                    "%s: %s is on %s: changes made by other machines are found by rescans",
                    self.name,
                    display_name(self.folder),
                    network,
                )
            self.kick(Changes(overflow=True))  # what changed before the watch existed
            while True:
                changes = await watch.read()
                if watch.truncated:
                    self.complete = False
                self.kick(changes)
                if changes.lost:
                    raise _FolderGone

    async def _watchfiles(self) -> None:
        async for found in watchfiles.awatch(
            self.folder, recursive=self.recursive, debounce=200, step=50, rust_timeout=500
        ):
            changes = Changes()
            for change, name in found:
                path = Path(name)
                changes.paths.add(path)
                if change == watchfiles.Change.added:
                    changes.complete.add(path)  # maybe: the format check decides
            self.kick(changes)


class _InotifyLimit(Exception):
    """No inotify instance or watch can be had (the user's limits): poll instead."""


class _FolderGone(Exception):
    """The watched folder itself was deleted, moved or unmounted."""
