"""The claim on a watch folder: one holder at a time, released with its holder, never fooled.

Two :class:`FolderClaims` in this process stand for two daemons (an ``flock`` belongs to the
open file, so two opens conflict even in one process); where the holder must really be another
process (its pid, its death by ``kill -9``) a child Python process holds the claim.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from pywats_station.actors import _folder_claim
from pywats_station.actors._folder_claim import (
    CLAIM_FILE,
    ClaimLost,
    ClaimRefused,
    FolderClaims,
)

FLOCK_FLAGS = {"LOCK_EX": fcntl.LOCK_EX, "LOCK_NB": fcntl.LOCK_NB}


def daemon(instance: str = "default", config: str = "/etc/pywats/config.toml") -> FolderClaims:
    return FolderClaims(instance=instance, config=Path(config))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


HOLDER = textwrap.dedent(
    """
    import sys, pathlib
    from pywats_station.actors._folder_claim import FolderClaims
    claims = FolderClaims(instance="line-2", config=pathlib.Path("/srv/line-2/config.toml"))
    claim = claims.claim(pathlib.Path(sys.argv[1]), "ict")
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    claim.release()
    """
)


@pytest.fixture
def other_process(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``folder``'s claim (instance line-2, converter ict)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    with child:  # closes the pipes
        yield child
        if child.poll() is None:
            child.kill()


def test_a_folder_held_by_another_process_is_refused_naming_it(
    folder: Path, other_process: subprocess.Popen[str]
) -> None:
    with pytest.raises(ClaimRefused) as refused:
        daemon().claim(folder, "wsjf")
    assert str(refused.value) == (
        f"watch folder {folder} is used by another pywats-station (pid {other_process.pid}, "
        "instance line-2, config /srv/line-2/config.toml, converter ict)"
    )


def test_the_claim_dies_with_its_process_even_by_kill_9(
    folder: Path, other_process: subprocess.Popen[str]
) -> None:
    other_process.send_signal(signal.SIGKILL)
    other_process.wait(30)
    assert (folder / CLAIM_FILE).exists()  # left behind: no clean-up ran
    claim = daemon().claim(folder, "wsjf")  # the stale file is simply taken over
    assert claim.unprotected is None
    assert f'"pid":{os.getpid()}' in (folder / CLAIM_FILE).read_text()
    claim.release()


def test_a_stopping_holder_leaves_the_folder_as_it_found_it(
    folder: Path, other_process: subprocess.Popen[str]
) -> None:
    assert other_process.stdin is not None
    other_process.stdin.close()
    assert other_process.wait(30) == 0
    assert list(folder.iterdir()) == []
    daemon().claim(folder, "wsjf").release()


def test_claim_refuse_release_claim(folder: Path) -> None:
    first, second = daemon("a"), daemon("b")
    claim = first.claim(folder, "wsjf")
    assert claim.folder == folder.resolve()
    assert claim.unprotected is None
    with pytest.raises(ClaimRefused, match=r"used by another pywats-station|already watched"):
        second.claim(folder, "wsjf")
    claim.release()
    claim.release()  # twice is harmless
    assert not (folder / CLAIM_FILE).exists()
    assert first.holders() == {}
    second.claim(folder, "wsjf").release()


def test_two_converters_of_one_daemon_on_one_folder(folder: Path) -> None:
    claims = daemon()
    claim = claims.claim(folder, "ict")
    with pytest.raises(ClaimRefused) as refused:
        claims.claim(folder, "ict-json")
    assert str(refused.value) == (
        f"watch folder {folder} is already watched by converter 'ict' of this station; "
        "give each converter its own folder"
    )
    claim.release()
    claims.claim(folder, "ict-json").release()


def test_a_link_to_the_folder_is_the_same_folder(tmp_path: Path, folder: Path) -> None:
    link = tmp_path / "link-to-inbox"
    link.symlink_to(folder)
    claims, other = daemon(), daemon("other")
    claim = claims.claim(link, "via-link")
    assert claim.folder == folder.resolve()
    assert (folder / CLAIM_FILE).exists()  # in the real folder, not beside the link
    with pytest.raises(ClaimRefused, match="already watched by converter 'via-link'"):
        claims.claim(folder, "direct")
    with pytest.raises(ClaimRefused):  # and so for another daemon
        other.claim(folder, "direct")
    claim.release()


def test_the_claim_file_deleted_under_the_holder_is_noticed(folder: Path) -> None:
    claim = daemon().claim(folder, "wsjf")
    claim.check()  # still ours
    (folder / CLAIM_FILE).unlink()  # someone tidying the folder
    with pytest.raises(ClaimLost, match="was deleted or replaced"):
        claim.check()
    # Meanwhile another daemon can claim the new file; our release must not delete theirs.
    theirs = daemon("other").claim(folder, "wsjf")
    claim.release()
    assert (folder / CLAIM_FILE).exists()
    theirs.check()
    theirs.release()


def test_a_file_released_between_open_and_lock_is_opened_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder deletes the file as it releases: a claimant that opened it just before must
    not believe it holds the folder through a file nobody else will ever open."""
    real_open = _folder_claim._open
    calls: list[Path] = []

    def open_then_release(path: Path) -> tuple[int, bool]:
        fd, writable = real_open(path)
        calls.append(path)
        if len(calls) == 1:
            path.unlink()  # the previous holder's release, just after our open
        return fd, writable

    monkeypatch.setattr(_folder_claim, "_open", open_then_release)
    claim = daemon().claim(folder, "wsjf")
    assert len(calls) == 2
    claim.check()  # the name leads to the file we lock
    monkeypatch.undo()
    with pytest.raises(ClaimRefused):
        daemon("other").claim(folder, "wsjf")
    claim.release()


@pytest.mark.parametrize("planted", ["symlink", "fifo", "hardlink"])
def test_a_planted_claim_file_is_never_written_through(
    tmp_path: Path, folder: Path, planted: str
) -> None:
    """Whoever writes the watch folder may plant the name: we never write into their target."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    name = folder / CLAIM_FILE
    if planted == "symlink":
        name.symlink_to(target)
    elif planted == "fifo":
        os.mkfifo(name)
    else:
        os.link(target, name)
    with pytest.raises(ClaimRefused, match=f"{CLAIM_FILE} is .*remove it"):
        daemon().claim(folder, "wsjf")
    assert target.read_text() == "keep me\n"


def test_a_read_only_folder_is_watched_unprotected(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """post_action = "keep" on a read-only share, say: no claim file can be made there."""

    def read_only(path: Path) -> tuple[int, bool]:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(_folder_claim, "_open", read_only)
    claims = daemon()
    claim = claims.claim(folder, "wsjf")
    assert claim.unprotected == f"{folder / CLAIM_FILE} cannot be opened (Read-only file system)"
    with pytest.raises(ClaimRefused, match="already watched by converter 'wsjf'"):
        claims.claim(folder, "again")  # the daemon itself still knows
    claim.release()
    claims.claim(folder, "again").release()


def test_a_file_system_without_locks_is_watched_unprotected(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS without a lock daemon answers ENOLCK: watch anyway, and say it is unprotected."""

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(_folder_claim, "fcntl", SimpleNamespace(flock=no_locks, **FLOCK_FLAGS))
    claim = daemon().claim(folder, "wsjf")
    assert claim.unprotected == f"the file system of {folder} has no locks (No locks available)"
    claim.release()


def test_another_users_claim_file_on_nfs_is_watched_unprotected(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS locks a whole file only through a writable descriptor (EBADF otherwise)."""
    (folder / CLAIM_FILE).write_text("")

    def read_only(path: Path) -> tuple[int, bool]:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC), False

    def nfs_flock(fd: int, operation: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(_folder_claim, "_open", read_only)
    monkeypatch.setattr(_folder_claim, "fcntl", SimpleNamespace(flock=nfs_flock, **FLOCK_FLAGS))
    claim = daemon().claim(folder, "wsjf")
    assert claim.unprotected == f"{folder / CLAIM_FILE} is not writable for this daemon"
    claim.release()
    assert (folder / CLAIM_FILE).exists()  # not ours to delete


def test_a_folder_that_is_gone_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        daemon().claim(tmp_path / "missing", "wsjf")
    assert daemon().holders() == {}


def test_an_unreadable_note_still_refuses(folder: Path) -> None:
    claim = daemon().claim(folder, "wsjf")
    (folder / CLAIM_FILE).write_bytes(b"\x1b[2J not json")  # hostile or half-written
    with pytest.raises(ClaimRefused) as refused:
        daemon("other").claim(folder, "wsjf")
    assert "used by another pywats-station (it has not said who it is" in str(refused.value)
    claim.release()


def test_a_note_from_another_host_names_the_host(folder: Path) -> None:
    claim = daemon().claim(folder, "wsjf")
    (folder / CLAIM_FILE).write_text(
        '{"pid": 4242, "host": "pi-7\\n", "instance": "default", "converter": "wsjf"}'
    )
    with pytest.raises(ClaimRefused) as refused:
        daemon("other").claim(folder, "wsjf")
    # Another machine on the same share: its pid means nothing without the host (escaped).
    assert "(pid 4242 on host pi-7\\n, instance default, converter wsjf)" in str(refused.value)
    claim.release()
