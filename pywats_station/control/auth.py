"""The control token file: created once by the daemon, read by the clients on the same machine.

The daemon calls :func:`ensure_control_token` at start: the first time it creates the token
(``secrets.token_urlsafe(32)``, 256 random bits) in a file only its user can read; later it
reads it back. Clients (``pywats-tui``, scripts run by the same user or root) call
:func:`read_control_token`. To change the token, delete the file and restart the daemon.

Guarantees:

* the file never exists with other content than a complete token, and is never readable by
  anyone else, even for an instant: the token is written to a temporary file created with
  ``O_CREAT | O_EXCL`` and mode 0600, fsynced, then *linked* to its name (which fails rather
  than replace a file another daemon created meanwhile) and the temporary name removed;
* the folder is created with mode 0700;
* a token file that group or others can access, or whose folder others can write to, is refused
  with a clear error (the token must be considered exposed).

On Windows the permissions are those of the user's profile (ACLs); the mode checks are skipped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import string
import sys
from pathlib import Path

from pywats_station.paths import fsync_directory

__all__ = ["ControlTokenError", "ensure_control_token", "read_control_token"]

_POSIX = sys.platform != "win32"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_.~+/=")
MIN_LENGTH = 16


class ControlTokenError(Exception):
    """The control token file is missing, unsafe or damaged; the message says what to do."""


def ensure_control_token(path: Path) -> str:
    """Return the control token stored at ``path``, creating it the first time.

    Args:
        path: The token file (``InstancePaths.control_token_file``).

    Raises:
        ControlTokenError: The existing file (or its folder) is accessible by others, or holds
            no valid token.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        if _POSIX:
            os.chmod(folder, 0o700)  # mkdir's mode is reduced by the umask, never widened
    _check_folder(folder)
    try:
        return read_control_token(path)
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    temp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as stream:
            stream.write(token + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:  # another process created it first: use theirs
            return read_control_token(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    fsync_directory(folder)
    return token


def read_control_token(path: Path) -> str:
    """Read the control token (clients: the TUI, scripts).

    Args:
        path: The token file.

    Raises:
        FileNotFoundError: No token file: the daemon has not started yet (it creates it).
        ControlTokenError: The file is accessible by others, unreadable or not a token.
    """
    try:
        # O_NOFOLLOW: a symlink planted in place of the file is not followed.
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no control token at {path}: the daemon creates it when it starts"
        ) from None
    except OSError as exc:
        raise ControlTokenError(f"cannot read the control token {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(stream.fileno()).st_mode
        if _POSIX and mode & 0o077:
            raise ControlTokenError(
                f"{path} is accessible by other users (mode {mode & 0o777:o}); refusing to use "
                f"it. Consider the token exposed: delete the file and restart the daemon to get "
                f"a new one (it is created with mode 600)."
            )
        data = stream.read(4096)
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        token = ""
    if len(token) < MIN_LENGTH or not set(token) <= _ALPHABET:
        raise ControlTokenError(
            f"{path} does not hold a valid control token; delete it and restart the daemon"
        )
    return token


def _check_folder(folder: Path) -> None:
    if not _POSIX:
        return
    mode = folder.stat().st_mode
    if mode & 0o022:
        raise ControlTokenError(
            f"{folder} can be changed by other users (mode {mode & 0o777:o}); refusing to keep "
            f"the control token there. Restrict it with `chmod 700 {folder}`."
        )
