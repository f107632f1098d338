"""One watch folder, one converter: the claim, an ``flock`` on a hidden file inside the folder.

Two daemons started with the same configuration (two ``PYWATS_STATION_HOME``\\ s, a copied
unit, a test instance left running) would otherwise both take files from the same folder: some
inputs converted twice, moves racing each other. So a converter *claims* its watch folder
before it watches it, and a folder has one claimant at a time:

* the claim is an exclusive, non-blocking ``flock`` on :data:`CLAIM_FILE` inside the folder
  (the real one: links are resolved first, so a link to a folder and the folder itself are one
  claim). ``flock`` belongs to the open file, and the kernel drops it when the holder dies,
  ``kill -9`` included: a claim never outlives its daemon. The file is hidden, and converters
  pass over hidden names, so it is never taken for an input;
* the holder writes who it is into the file (pid, host, instance, config file, converter), so
  the one refused can say who holds the folder; that text is the holder's to write and is only
  ever shown (escaped), never trusted;
* in one daemon, :class:`FolderClaims` also knows which converter holds which folder (by device
  and inode, so a bind mount or a link is the same folder): a second converter of the same
  daemon on the same folder is refused naming the first;
* a release deletes the file while still holding it, then closes it; a claimant that locked a
  file that was deleted meanwhile sees that the name no longer leads to its file and starts
  over. So a folder is left as it was found when its daemon stops (a ``kill -9`` leaves the
  file, which the next claimant simply takes over);
* where locks cannot be taken (a share without lock support, a watch folder the daemon may only
  read) the converter watches *unprotected*: the claim says why, the converter logs it once.

Everything here blocks (file system calls, possibly on a share): the converter actor runs it in
a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from pywats_station._display import display_name, display_text
from pywats_station._failpoints import failpoint

__all__ = [
    "CLAIM_FILE",
    "ClaimLost",
    "ClaimRefused",
    "FolderClaim",
    "FolderClaims",
    "Holder",
    "already_watched",
]

CLAIM_FILE = ".pywats-station.lock"
"""The claim's file, inside the watch folder (hidden: never an input)."""

_MAX_HOLDER = 4096  # bytes of a holder's note read: it is written by whoever holds the lock
_ATTEMPTS = 5  # takes of a file deleted under us before giving up for this round
# flock's answers on file systems that cannot lock (NFS without lockd, some FUSE mounts).
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_HELD = {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES}


class ClaimRefused(Exception):
    """The folder is claimed by someone else (or its claim file is not usable); try later."""


class ClaimLost(Exception):
    """The claim's file was deleted or replaced while held: the claim protects nothing now."""


class Holder(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who holds a claim, as written into the claim file."""

    pid: int
    host: str = ""
    instance: str = ""
    config: str = ""
    converter: str = ""

    def describe(self, here: str) -> str:
        """``pid 12, instance default, config …, converter ict`` (the host if not ``here``)."""
        where = f" on host {self.host}" if self.host and self.host != here else ""
        parts = [f"pid {self.pid}{where}"]
        parts += [f"{key} {value}" for key, value in self._named() if value]
        return display_text(", ".join(parts))

    def _named(self) -> list[tuple[str, str]]:
        return [("instance", self.instance), ("config", self.config), ("converter", self.converter)]


_decode_holder = msgspec.json.Decoder(Holder).decode


@dataclass
class FolderClaim:
    """A held claim on one folder; :meth:`release` it (idempotent).

    Attributes:
        folder: the real (resolved) folder.
        converter: who in this daemon holds it.
        unprotected: why no lock could be taken (``None``: the folder is locked).
    """

    folder: Path
    converter: str
    unprotected: str | None = None
    _owner: FolderClaims | None = field(default=None, repr=False)
    _key: tuple[int, int] = (0, 0)
    _fd: int | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        """The claim file."""
        return self.folder / CLAIM_FILE

    def check(self) -> None:
        """Make sure the claim file is still ours (someone may have deleted it).

        Raises:
            ClaimLost: the name no longer leads to the file we lock; another daemon may be
                holding a new one by now.
        """
        if self._fd is None:
            return
        try:
            ours = _same_file(self._fd, self.path)
        except OSError:  # a share's hiccup is not a lost claim; the next check will tell
            return
        if not ours:
            raise ClaimLost(
                f"the claim file {display_name(self.path)} was deleted or replaced by someone"
            )

    def release(self) -> None:
        """Give the folder up: delete the claim file (if still ours), then unlock it."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                # Deleted while locked: whoever opens the name next makes a new file, and a
                # claimant that opened ours meanwhile sees it is gone (see _lock_file).
                if _same_file(fd, self.path):
                    os.unlink(self.path)
            os.close(fd)  # closing the last descriptor releases the flock
        if self._owner is not None:
            self._owner.forget(self)
            self._owner = None


class FolderClaims:
    """The folders one daemon holds, and how it claims more (thread-safe).

    Args:
        instance: this daemon's instance name, written for others to read.
        config: this daemon's configuration file, likewise.
    """

    def __init__(self, *, instance: str, config: Path | None) -> None:
        self.host = socket.gethostname()
        self._me = Holder(
            pid=os.getpid(), host=self.host, instance=instance, config=str(config or "")
        )
        self._lock = threading.Lock()  # guards _held only; no I/O under it
        self._held: dict[tuple[int, int], str] = {}

    def holders(self) -> dict[tuple[int, int], str]:
        """The folders held now (device, inode) and by which converter."""
        with self._lock:
            return dict(self._held)

    def claim(self, folder: Path, converter: str) -> FolderClaim:
        """Claim ``folder`` (a link is followed to the real folder) for ``converter``.

        Returns:
            The claim; ``unprotected`` says why it is not locked where locks are unavailable.

        Raises:
            ClaimRefused: another converter of this daemon, or another process, holds it; the
                message names the folder and the holder.
            OSError: the folder cannot be found or inspected (it went away).
        """
        try:
            real = folder.resolve(strict=True)
        except RuntimeError as exc:  # a loop of links (3.11 says so with RuntimeError)
            raise OSError(errno.ELOOP, str(exc), str(folder)) from None
        st = os.stat(real)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(real))
        key = (st.st_dev, st.st_ino)
        with self._lock:
            other = self._held.get(key)
            if other is None:
                self._held[key] = converter
        if other is not None:
            raise ClaimRefused(already_watched(real, other))
        claim = FolderClaim(real, converter, _owner=self, _key=key)
        try:
            claim._fd, claim.unprotected = self._take(claim.path, converter)
        except BaseException:
            self.forget(claim)
            raise
        failpoint("claim.taken")
        return claim

    def forget(self, claim: FolderClaim) -> None:
        """Drop a claim from this daemon's table (its file is already closed)."""
        with self._lock:
            if self._held.get(claim._key) == claim.converter:
                del self._held[claim._key]

    def _take(self, path: Path, converter: str) -> tuple[int | None, str | None]:
        """Lock the claim file: ``(fd, None)``, or ``(None, why)`` where no lock can be taken."""
        for _ in range(_ATTEMPTS):
            try:
                fd, writable = _open(path)
            except FileNotFoundError:
                # Cannot be created (a read-only folder) and not there: nothing to lock.
                return None, f"{display_name(path)} cannot be created (the folder is read-only)"
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link where the file goes
                    raise ClaimRefused(
                        f"watch folder {display_name(path.parent)}: {CLAIM_FILE} is a "
                        "symbolic link, not a claim file; remove it"
                    ) from None
                if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                    why = display_text(exc.strerror or str(exc))
                    return None, f"{display_name(path)} cannot be opened ({why})"
                raise
            try:
                taken = self._lock_file(fd, path, writable, converter)
            except BaseException:
                os.close(fd)
                raise
            if taken is not None:
                return taken
            os.close(fd)  # locked a file that was deleted meanwhile: open the name again
        raise ClaimRefused(
            f"watch folder {display_name(path.parent)}: its claim file keeps changing"
        )

    def _lock_file(
        self, fd: int, path: Path, writable: bool, converter: str
    ) -> tuple[int | None, str | None] | None:
        """Lock an open claim file; ``None`` when the name no longer leads to it (retry)."""
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            # A FIFO, a device, or a hard link to some other file: we would write into it.
            raise ClaimRefused(
                f"watch folder {display_name(path.parent)}: {CLAIM_FILE} is not a claim file "
                "(not a plain file, or linked elsewhere); remove it"
            )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in _HELD:
                raise ClaimRefused(self._refusal(fd, path)) from None
            if exc.errno in _NO_LOCKS:
                why = display_text(exc.strerror or str(exc))
                os.close(fd)
                return None, f"the file system of {display_name(path.parent)} has no locks ({why})"
            if exc.errno == errno.EBADF and not writable:
                # NFS locks a whole file for writing only: another user's claim file, which we
                # may only read, cannot be locked by us there.
                os.close(fd)
                return None, f"{display_name(path)} is not writable for this daemon"
            raise
        if not _same_file(fd, path):
            return None  # the holder released (deleted) it between our open and our lock
        if writable:
            note = msgspec.json.encode(msgspec.structs.replace(self._me, converter=converter))
            os.ftruncate(fd, 0)
            os.pwrite(fd, note + b"\n", 0)
        return fd, None

    def _refusal(self, fd: int, path: Path) -> str:
        """Who holds the claim file open on ``fd``, as the refused converter says it."""
        folder = display_name(path.parent)
        try:
            holder: Holder | None = _decode_holder(os.pread(fd, _MAX_HOLDER, 0).strip())
        except (OSError, msgspec.DecodeError):  # not written yet, or not ours to read
            holder = None
        if holder is None:
            return (
                f"watch folder {folder} is used by another pywats-station "
                f"(it has not said who it is in {CLAIM_FILE})"
            )
        who = holder.describe(self.host)
        if holder.pid == self._me.pid and holder.host == self.host:
            # Our own pid: another claim in this process that our table does not know of
            # (the same folder through a path we could not match, or a second FolderClaims).
            return f"watch folder {folder} is already watched in this station ({who})"
        return f"watch folder {folder} is used by another pywats-station ({who})"


def already_watched(folder: Path, holder: str) -> str:
    """Why a converter may not watch ``folder``: converter ``holder`` of this daemon does."""
    return (
        f"watch folder {display_name(folder)} is already watched by converter "
        f"{display_text(holder)!r} of this station; give each converter its own folder"
    )


def _open(path: Path) -> tuple[int, bool]:
    """Open (creating) the claim file without following a link or waiting on a FIFO.

    Returns:
        The descriptor, and whether it is writable: a claim file another user's daemon made
        can still be locked through a read-only descriptor.
    """
    flags = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o644), True
    except PermissionError:
        return os.open(path, os.O_RDONLY | flags), False
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
        return os.open(path, os.O_RDONLY | flags), False


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open on ``fd`` (not deleted, not replaced)."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
