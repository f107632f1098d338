"""The inotify watcher: what it reports, and that it reports it without polling."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest
import trio

from pywats_station.actors import _folder_watch, _inotify
from pywats_station.actors._folder_watch import FolderWatch, network_file_system
from pywats_station.actors._inotify import Changes, Inotify

needs_inotify = pytest.mark.skipif(not _inotify.available(), reason="Linux inotify")


async def next_changes(watch: Inotify) -> Changes:
    with trio.fail_after(5):
        return await watch.read()


@needs_inotify
@pytest.mark.trio
async def test_a_rename_into_place_and_a_close_after_writing_are_marked_complete(
    tmp_path: Path,
) -> None:
    with Inotify(tmp_path, recursive=False) as watch:
        staged = tmp_path / ".r.json.tmp"
        with open(staged, "wb") as handle:  # noqa: ASYNC230 - the writer under test
            handle.write(b"{")
            handle.flush()
            changes = await next_changes(watch)  # created: not (yet) complete
            assert staged in changes.paths
            assert changes.complete == set()
        changes = await next_changes(watch)  # closed after writing
        assert changes.complete == {staged}
        staged.rename(tmp_path / "r.json")
        changes = await next_changes(watch)
        assert tmp_path / "r.json" in changes.complete
        assert not changes.lost


@needs_inotify
@pytest.mark.trio
async def test_nothing_is_read_while_nothing_changes(tmp_path: Path) -> None:
    with Inotify(tmp_path, recursive=False) as watch:
        with trio.move_on_after(0.3) as waited:
            await watch.read()
        assert waited.cancelled_caught
        (tmp_path / "a").write_bytes(b"x")
        assert tmp_path / "a" in (await next_changes(watch)).paths


@needs_inotify
@pytest.mark.trio
async def test_the_folder_going_away_is_reported_lost(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with Inotify(folder, recursive=False) as watch:
        folder.rename(tmp_path / "old")
        lost = False
        with trio.fail_after(5):
            while not lost:
                lost = (await watch.read()).lost
        assert lost


@needs_inotify
@pytest.mark.trio
async def test_recursive_watches_follow_new_subfolders(tmp_path: Path) -> None:
    with Inotify(tmp_path, recursive=True) as watch:
        sub = tmp_path / "run-7"
        sub.mkdir()
        assert sub in (await next_changes(watch)).paths
        (sub / "data.csv").write_bytes(b"1;2\n")
        seen: set[Path] = set()
        with trio.fail_after(5):
            while sub / "data.csv" not in seen:
                seen |= (await watch.read()).paths


@needs_inotify
def test_a_folder_that_is_not_there_cannot_be_watched(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Inotify(tmp_path / "missing", recursive=False)


def test_network_file_systems_are_recognised_by_the_mount_table(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/export /mnt/share nfs4 rw 0 0\n"
        "//nas/tests /mnt/my\\040nas cifs rw 0 0\n"
        "sshfs#me@host: /mnt/ssh fuse.sshfs rw 0 0\n",
        encoding="utf-8",
    )
    assert network_file_system(Path("/home/pi/inbox"), mounts) is None
    assert network_file_system(Path("/mnt/share/line-1"), mounts) == "nfs4"
    assert network_file_system(Path("/mnt/my nas/in"), mounts) == "cifs"
    assert network_file_system(Path("/mnt/ssh"), mounts) == "fuse.sshfs"
    assert network_file_system(Path("/mnt/sharex"), mounts) is None  # not under /mnt/share
    assert network_file_system(Path(os.sep), tmp_path / "no-such-table") is None


async def kicks_until(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> FolderWatch:
    """Run a FolderWatch on ``folder`` until a kick names ``folder / name`` (written once the
    watch has started); returns the watch, still as it was then."""
    up, event = trio.Event(), trio.Event()

    def kick(changes: Changes) -> None:
        up.set()
        if folder / name in changes.paths:
            event.set()

    watch = FolderWatch(
        folder, kick, recursive=False, log=logging.getLogger("test"), name="t", max_pause=1.0
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch.run)
        with trio.fail_after(10):
            await up.wait()  # the first kick: the watch is up
            await trio.sleep(0.3)
            (folder / name).write_bytes(b"{}")
            await event.wait()
        nursery.cancel_scope.cancel()
    return watch


@needs_inotify
@pytest.mark.trio
async def test_a_local_folder_watched_with_inotify_needs_no_rescans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_folder_watch, "network_file_system", lambda folder: None)
    watch = await kicks_until(tmp_path, monkeypatch, "a.json")
    assert watch.complete


@needs_inotify
@pytest.mark.trio
async def test_a_share_or_the_inotify_limit_keeps_the_rescans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_folder_watch, "network_file_system", lambda folder: "nfs4")
    assert not (await kicks_until(tmp_path, monkeypatch, "a.json")).complete

    def no_more_instances(*args: object, **kwargs: object) -> Inotify:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(_folder_watch, "Inotify", no_more_instances)
    # Polled by watchfiles instead: the new file is still seen.
    assert not (await kicks_until(tmp_path, monkeypatch, "b.json")).complete
