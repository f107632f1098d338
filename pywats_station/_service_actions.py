"""The system changes ``install-service`` and ``uninstall-service`` make, as a list of actions.

Every change goes through one :class:`Action`: the installer first *plans* (looks at the system,
changes nothing) and gets the list of actions still needed, then ``--dry-run`` prints that list
and a real run prints and applies the very same list. A second run plans an empty list, which is
how the installer knows, and says, that nothing is left to do.

:class:`System` is the machine the actions act on: a root folder that every absolute path is
taken relative to (``/`` for real; a temporary folder in tests), a command runner, and the user
database. Tests replace the runner and the users with fakes that keep state, so the planning
and idempotence logic runs for real against real files without touching the machine.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Action",
    "MakeDir",
    "RemoveTree",
    "Run",
    "SetOwnerMode",
    "System",
    "WriteFile",
]


@dataclass(frozen=True)
class Owner:
    """A user and group by id."""

    uid: int
    gid: int


class System:
    """The machine the installer acts on: a root folder, a command runner, the user database."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root

    def path(self, path: Path) -> Path:
        """An absolute path of the managed system, as this process reaches it."""
        return self.root / path.relative_to(path.anchor)

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run a command; never raises for a non-zero exit (the caller decides)."""
        try:
            return subprocess.run(
                list(argv), capture_output=True, text=True, check=False, timeout=120
            )
        except FileNotFoundError as exc:
            return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: {exc.strerror}")

    def owner_of(self, user: str) -> Owner | None:
        """The user's id and primary group, or ``None`` if there is no such user."""
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            return None
        return Owner(entry.pw_uid, entry.pw_gid)

    def user_label(self, uid: int, gid: int) -> str:
        """``user:group`` for messages (numbers when unknown)."""
        try:
            user = pwd.getpwuid(uid).pw_name
        except KeyError:
            user = str(uid)
        try:
            group = grp.getgrgid(gid).gr_name
        except KeyError:
            group = str(gid)
        return f"{user}:{group}"


class ActionError(Exception):
    """An action that failed; the message says which and why."""


class Action:
    """One change to the system, described before it is made."""

    def describe(self) -> str:
        """The change in one line, shell-like, for the dry run and the real run alike."""
        raise NotImplementedError

    def apply(self, system: System) -> None:
        """Make the change (raises :class:`ActionError`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Run(Action):
    """Run a command (``useradd``, ``systemctl …``)."""

    argv: tuple[str, ...]

    def describe(self) -> str:
        return " ".join(self.argv)

    def apply(self, system: System) -> None:
        done = system.run(self.argv)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"
            raise ActionError(f"`{self.describe()}` failed: {detail}")


def _owner(system: System, user: str, path: Path) -> Owner:
    """``user``'s entry (uid, gid), or :class:`ActionError` naming what it was to own."""
    owner = system.owner_of(user)
    if owner is None:
        raise ActionError(f"no user {user!r} to own {path}")
    return owner


def _chown_chmod(target: Path, owner: Owner, mode: int) -> None:
    os.chown(target, owner.uid, owner.gid, follow_symlinks=False)
    os.chmod(target, mode)


@dataclass(frozen=True)
class MakeDir(Action):
    """Create a folder (missing parents too, owned by root, mode 0755) with an owner and mode."""

    path: Path
    user: str
    mode: int

    def describe(self) -> str:
        return f"mkdir {self.path}  (owner {self.user}, mode {self.mode:04o})"

    def apply(self, system: System) -> None:
        owner = _owner(system, self.user, self.path)
        try:
            target = system.path(self.path)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            target.mkdir(mode=0o700, exist_ok=True)
            _chown_chmod(target, owner, self.mode)
        except OSError as exc:
            raise ActionError(f"cannot create {self.path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class SetOwnerMode(Action):
    """Give an existing folder or file of the station its owner and mode."""

    path: Path
    user: str
    mode: int

    def describe(self) -> str:
        return f"chown {self.user}: {self.path} && chmod {self.mode:04o} {self.path}"

    def apply(self, system: System) -> None:
        owner = _owner(system, self.user, self.path)
        try:
            _chown_chmod(system.path(self.path), owner, self.mode)
        except OSError as exc:
            raise ActionError(f"cannot change {self.path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class WriteFile(Action):
    """Write a whole file atomically, with an owner (``None``: root) and a mode."""

    path: Path
    text: str
    mode: int
    user: str | None = None

    def describe(self) -> str:
        owner = f"owner {self.user}, " if self.user else ""
        return f"write {self.path}  ({owner}mode {self.mode:04o}, {len(self.text)} bytes)"

    def apply(self, system: System) -> None:
        from pywats_station.paths import atomic_write

        target = system.path(self.path)
        try:
            atomic_write(target, self.text.encode("utf-8"), mode=self.mode)
            if self.user is not None:
                owner = system.owner_of(self.user)
                if owner is None:
                    raise ActionError(f"no user {self.user!r} to own {self.path}")
                os.chown(target, owner.uid, owner.gid, follow_symlinks=False)
        except OSError as exc:
            raise ActionError(f"cannot write {self.path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class RemoveTree(Action):
    """Delete a file or a folder with everything in it (``uninstall-service``)."""

    path: Path
    why: str = ""

    def describe(self) -> str:
        return f"rm -r {self.path}" + (f"  ({self.why})" if self.why else "")

    def apply(self, system: System) -> None:
        target = system.path(self.path)
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        except OSError as exc:
            raise ActionError(f"cannot remove {self.path}: {exc.strerror}") from exc
