"""What a watch folder holds, and whether an input may be read: links, special files, sizes.

Anyone who can write to a watch folder decides what is in it, so nothing there is trusted:

* **symbolic links** are not followed unless the converter's ``follow_symlinks`` is on, and even
  then only to a target inside the watch folder's own tree (never ``/etc/shadow``, never another
  station's data);
* **special files** (FIFOs, sockets, devices) are never opened the ordinary way: opening a FIFO
  blocks until someone writes to it, and a blocked worker thread would jam the converter;
* a file converter's input must be a regular file, a folder converter's a folder, and an input
  bigger than ``max_file_size`` (a folder: all its files together) is refused before a byte of it
  is read.

A folder converter may have *companions* (:attr:`FolderConverter.companions`): files beside its
folder that belong to the same input (``run-7.txt`` beside ``run-7/``). They are checked like
the folder's own files (regular files, links only as allowed) and count in its size and state;
:func:`pair_state` and :func:`check_input` take them in.

An entry that is not an input at all (a link, a FIFO, a folder named like a report) is
:class:`NotAnInput`: it stays where it is, and the actor says so once. An input that must not be
read (too big, a folder holding a link or a FIFO) is :class:`InputRefused`: it goes to the error
folder with the reason. Everything here is blocking and runs in a worker thread; opening goes
through :func:`open_regular` (``O_NOFOLLOW``, ``O_NONBLOCK``), so a file swapped for a link or a
FIFO after the listing is caught when it is opened.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pywats_station._config_schema import format_size
from pywats_station._display import display_name
from pywats_station.converters.api import companion_paths

__all__ = [
    "InputPolicy",
    "InputRefused",
    "NotAnInput",
    "SourceState",
    "check_input",
    "companion_files",
    "folder_files",
    "input_state",
    "inspect",
    "open_regular",
    "pair_state",
    "read_target",
    "release_fifo",
]

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where lstat checks come first
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class SourceState:
    """Size and modification time of a file (for a folder: of its files, and the newest time)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class InputPolicy:
    """What one converter accepts from its watch folder.

    Attributes:
        root: the watch folder, resolved: links may point inside this tree only.
        folders: a folder converter (its inputs are folders, not files).
        follow_symlinks: whether links (inside ``root``) count as the file they point to.
        max_size: the largest input in bytes (a folder: its files together).
        companions: a folder converter's companion suffixes (``.txt``: ``<folder>.txt``
            beside the folder is part of the input).
    """

    root: Path
    folders: bool
    follow_symlinks: bool
    max_size: int
    companions: tuple[str, ...] = ()


class NotAnInput(Exception):
    """An entry that is not an input (a link, a special file, a folder where a file is meant).

    It stays where it is; the message says what it is (``is a FIFO (named pipe), not a file``).
    """


class InputRefused(Exception):
    """An input that is not read: too big, or a folder holding a link or a special file.

    It goes to the error folder with the message as the reason.
    """


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _link_target(path: Path, policy: InputPolicy) -> Path:
    """The file a link points to, if links may be followed and it stays inside the root.

    Raises:
        NotAnInput: links are not followed, the link is dangling (or loops), or it leaves the
            watch folder.
    """
    if not policy.follow_symlinks:
        raise NotAnInput("is a symbolic link; links are not followed (follow_symlinks = false)")
    target = Path(os.path.realpath(path))
    try:
        target.stat()
    except OSError as exc:
        try:
            pointee = os.readlink(path)
        except OSError:
            pointee = "?"
        why = "loops" if exc.errno == errno.ELOOP else "points to nothing"
        raise NotAnInput(
            f"is a dangling symbolic link: it {why} ({display_name(pointee)})"
        ) from None
    if not target.is_relative_to(policy.root):
        raise NotAnInput(
            f"is a symbolic link to {display_name(target)}, outside the watch folder "
            f"{display_name(policy.root)}"
        )
    return target


def read_target(path: Path, policy: InputPolicy) -> Path:
    """What to read for an input: itself, or for a link (if allowed) the file it points to.

    Raises:
        NotAnInput: a link that may not be followed, dangling, or leaving the root.
    """
    return _link_target(path, policy) if os.path.islink(path) else path


def inspect(path: Path, policy: InputPolicy) -> tuple[Path, os.stat_result] | None:
    """What a watch-folder entry is: the input to read (itself, or a link's target) and its
    status, or ``None`` if it is gone or simply not an input (a file beside folder inputs).

    Only ``lstat``/``stat``: nothing is opened.

    Raises:
        NotAnInput: a link that may not be followed, a special file, a folder named like a
            file converter's input.
    """
    try:
        st = os.lstat(path)
        target = path
        if stat.S_ISLNK(st.st_mode):
            target = _link_target(path, policy)
            st = os.stat(target)
    except FileNotFoundError:
        return None  # gone meanwhile
    mode = st.st_mode
    if policy.folders:
        if stat.S_ISDIR(mode):
            return target, st
        if stat.S_ISREG(mode):
            return None
        raise NotAnInput(f"is {_kind(mode)}, not a folder")
    if stat.S_ISREG(mode):
        return target, st
    raise NotAnInput(f"is {_kind(mode)}, not a file")


def input_state(target: Path, st: os.stat_result, policy: InputPolicy) -> SourceState:
    """The state an input settles on: a file's size and time; a folder's files' (walked)."""
    if policy.folders:
        return _folder_state(target, st, policy, strict=False)
    return SourceState(st.st_size, st.st_mtime_ns)


def companion_files(folder: Path, policy: InputPolicy) -> list[tuple[Path, Path, os.stat_result]]:
    """The companions of a folder input that exist: ``(path, file to read, status)`` each.

    Only ``lstat``/``stat``: nothing is opened.

    Raises:
        NotAnInput: a companion is not a regular file (a FIFO, a folder) or a link that may
            not be followed; the message names it.
    """
    found: list[tuple[Path, Path, os.stat_result]] = []
    for companion in companion_paths(folder, policy.companions):
        name = display_name(companion.name)
        try:
            st = os.lstat(companion)
            target = companion
            if stat.S_ISLNK(st.st_mode):
                target = _link_target(companion, policy)
                st = os.stat(target)
        except FileNotFoundError:
            continue  # gone meanwhile
        except NotAnInput as exc:
            raise NotAnInput(f"has {name} beside it, which {exc}") from None
        if not stat.S_ISREG(st.st_mode):
            raise NotAnInput(f"has {name} beside it, which is {_kind(st.st_mode)}, not a file")
        found.append((companion, target, st))
    return found


def pair_state(
    folder: tuple[Path, os.stat_result] | None,
    companions: list[tuple[Path, Path, os.stat_result]],
    policy: InputPolicy,
) -> SourceState:
    """The state of a folder input with companions: the folder's (if there) and theirs."""
    size, newest = 0, 0
    if folder is not None:
        state = _folder_state(folder[0], folder[1], policy, strict=False)
        size, newest = state.size, state.mtime_ns
    for _, _, st in companions:
        size += st.st_size
        newest = max(newest, st.st_mtime_ns)
    return SourceState(size, newest)


def release_fifo(path: Path) -> bool:
    """If ``path`` is a FIFO now, open and close its write end; return whether it was one.

    A converter that opened its input the ordinary way after it was swapped for a FIFO waits
    for a writer for ever: this writer writes nothing and leaves, so the reader gets end of
    file and the conversion fails (the input goes to the error folder) instead of hanging.
    """
    try:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return False
        # Never blocks: with nobody reading, it fails with ENXIO, which is just as well.
        fd = os.open(path, os.O_WRONLY | _O_NONBLOCK | _O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def folder_files(
    folder: Path, policy: InputPolicy, *, strict: bool = True
) -> Iterator[tuple[Path, Path, os.stat_result]]:
    """Every regular file in a folder input (sub-folders too), sorted by name within a folder.

    Yields ``(path, target, status)``: where it is in the folder, the file to read (the same
    path, or for a link the file it points to) and that file's status. A link (where links may
    be followed) counts as the file it points to inside the root; links to folders are never
    followed (no loops, no second path to the same tree).

    Args:
        folder: the folder input.
        policy: the converter's policy.
        strict: raise for anything that is not a regular file or a sub-folder; otherwise pass
            it over (while settling, the check comes once the folder is ready).

    Raises:
        InputRefused: ``strict`` and the folder holds a link that may not be followed, or a
            special file; the message names it.
    """
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            if strict:
                raise
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                target, st = _inner_status(entry, path, policy)
            except FileNotFoundError:
                continue
            except NotAnInput as exc:
                if strict:
                    raise InputRefused(
                        f"holds {display_name(path.relative_to(folder))}, which {exc}"
                    ) from None
                continue
            if stat.S_ISDIR(st.st_mode):
                pending.append(path)
            elif stat.S_ISREG(st.st_mode):
                yield path, target, st
            elif strict:
                raise InputRefused(
                    f"holds {display_name(path.relative_to(folder))}, which is "
                    f"{_kind(st.st_mode)}: only files and folders are read"
                )


def _inner_status(
    entry: os.DirEntry[str], path: Path, policy: InputPolicy
) -> tuple[Path, os.stat_result]:
    """An entry inside a folder input: what to read and its status (a link's target's)."""
    st = entry.stat(follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        return path, st
    target = _link_target(path, policy)
    st = os.stat(target)
    if not stat.S_ISREG(st.st_mode):
        raise NotAnInput(f"is a symbolic link to {_kind(st.st_mode)}")
    return target, st


def _require_regular(fd: int) -> None:
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        raise NotAnInput(f"is {_kind(mode)}, not a file")


def open_regular(path: Path, *, follow_symlinks: bool = False) -> int:
    """Open a file for reading, never blocking and never through a link unless allowed.

    ``O_NONBLOCK`` makes opening a FIFO return at once (instead of waiting for a writer), and
    the file is then refused for not being a regular file; ``O_NOFOLLOW`` refuses a link, e.g.
    one swapped in after the folder was listed.

    Returns:
        A file descriptor (blocking again, so reads behave as usual); the caller closes it.

    Raises:
        NotAnInput: it is a link (and links are not allowed) or not a regular file.
        OSError: it cannot be opened (gone, permissions).
    """
    flags = os.O_RDONLY | _O_NONBLOCK | _O_BINARY | _O_CLOEXEC
    if not follow_symlinks:
        flags |= _O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise NotAnInput("is a symbolic link; links are not followed") from None
        raise
    try:
        _require_regular(fd)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_input(path: Path, policy: InputPolicy) -> SourceState:
    """Check an input just before it is read: what it is now, and its size against the limit.

    The listing may be seconds old: the file may have been replaced by a link or a FIFO since,
    or grown. A file is opened (:func:`open_regular`) and measured with ``fstat``, so what is
    checked is the file itself, not whatever the name points to now.

    Raises:
        NotAnInput: not a regular file (folder converters: not a folder), or a link that may
            not be followed.
        InputRefused: bigger than ``policy.max_size`` (a folder: its files together), or a
            folder holding a link or a special file.
        OSError: it cannot be opened (gone, permissions).
    """
    if policy.folders and policy.companions:
        return _check_pair(path, policy)
    target = read_target(path, policy)
    if policy.folders:
        st = os.stat(target, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            raise NotAnInput(f"is {_kind(st.st_mode)}, not a folder")
        state = _folder_state(target, st, policy, strict=True)
        if state.size > policy.max_size:
            raise InputRefused(_too_big("its files together are", state.size, policy))
        return state
    fd = open_regular(target)
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if st.st_size > policy.max_size:
        raise InputRefused(_too_big("it is", st.st_size, policy))
    return SourceState(st.st_size, st.st_mtime_ns)


def _check_pair(path: Path, policy: InputPolicy) -> SourceState:
    """:func:`check_input` of a folder input with companions; the folder may be missing."""
    size, newest, parts = 0, 0, 0
    if os.path.lexists(path):
        target = read_target(path, policy)
        st = os.stat(target, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            raise NotAnInput(f"is {_kind(st.st_mode)}, not a folder")
        state = _folder_state(target, st, policy, strict=True)
        size, newest, parts = state.size, state.mtime_ns, 1
    for _, target, _ in companion_files(path, policy):
        fd = open_regular(target)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        size, newest, parts = size + st.st_size, max(newest, st.st_mtime_ns), parts + 1
    if not parts:
        raise FileNotFoundError(f"neither {display_name(path.name)} nor its companions exist")
    if size > policy.max_size:
        raise InputRefused(_too_big("it and its companions together are", size, policy))
    return SourceState(size, newest)


def _folder_state(
    folder: Path, st: os.stat_result, policy: InputPolicy, *, strict: bool
) -> SourceState:
    size, newest = 0, st.st_mtime_ns
    for _, _, file_st in folder_files(folder, policy, strict=strict):
        size += file_st.st_size
        newest = max(newest, file_st.st_mtime_ns)
    return SourceState(size, newest)


def _too_big(what: str, size: int, policy: InputPolicy) -> str:
    limit = format_size(policy.max_size)
    return (
        f"{what} {_human(size)} ({size} bytes), over the "
        f"converter's max_file_size of {limit if isinstance(limit, str) else f'{limit} bytes'}; "
        "not read"
    )


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover
