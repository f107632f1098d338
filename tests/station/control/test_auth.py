"""The control token file: created once, private, refused when others can reach it."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.control.auth import (
    ControlTokenError,
    ensure_control_token,
    read_control_token,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """Run with umask 0, so the modes checked below come from the code, not the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_once_private_and_strong(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secrets" / "control-token"
    token = ensure_control_token(path)
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert ensure_control_token(path) == token
    assert read_control_token(path) == token
    assert [p.name for p in path.parent.iterdir()] == ["control-token"]  # no temp files left
    other = tmp_path / "other" / "control-token"
    assert ensure_control_token(other) != token


def test_a_readable_token_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "control-token"
    ensure_control_token(path)
    for loose in (0o640, 0o604, 0o660):
        path.chmod(loose)
        with pytest.raises(ControlTokenError, match="accessible by other users"):
            read_control_token(path)
        with pytest.raises(ControlTokenError, match="exposed"):
            ensure_control_token(path)


def test_a_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    with pytest.raises(ControlTokenError, match="chmod 700"):
        ensure_control_token(folder / "control-token")
    assert not (folder / "control-token").exists()


@pytest.mark.parametrize(
    "content", [b"", b"\n", b"short\n", b"has spaces in it, 1234567890\n", b"\xff" * 40]
)
def test_a_damaged_token_file_is_refused_not_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "control-token"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ControlTokenError, match="valid control token"):
        ensure_control_token(path)
    assert path.read_bytes() == content


def test_missing_token_says_who_creates_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="daemon creates it"):
        read_control_token(tmp_path / "control-token")


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("A" * 43)
    target.chmod(0o600)
    link = tmp_path / "control-token"
    link.symlink_to(target)
    with pytest.raises(ControlTokenError, match="cannot read"):
        read_control_token(link)


def test_a_token_created_meanwhile_by_another_daemon_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "control-token"
    theirs = "T" * 43
    real_link = os.link

    def racing_link(source: str | Path, destination: str | Path) -> None:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, theirs.encode())
        os.close(fd)
        real_link(source, destination)  # raises FileExistsError, as in a real race

    monkeypatch.setattr(os, "link", racing_link)
    assert ensure_control_token(path) == theirs
    assert [p.name for p in tmp_path.iterdir()] == ["control-token"]
