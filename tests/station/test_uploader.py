"""The uploader actor in-process: a real queue on disk, the emulator as the client's transport.

The real daemon process is exercised in ``e2e/``; these tests reach into timing a process
cannot show: what the uploader does while another thread holds the queue's lock.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import msgspec
import pytest
import trio

from pywats import AsyncWATS, RetryPolicy
from pywats.testing import FakeWATS
from pywats.testing.pytest_plugin import BASE_URL as URL
from pywats.testing.pytest_plugin import TOKEN, fake_wats
from pywats_station._supervisor import ChildSpec, Supervisor
from pywats_station.actors.uploader import run_uploader
from pywats_station.control.events import ReportUploaded
from pywats_station.queue import Backoff, ReportQueue
from pywats_station.runtime import Runtime
from tests.station.e2e.harness import make_report as report

pytestmark = pytest.mark.trio

# The plugin's fixture, imported by name (``pytest_plugins`` belongs in a rootdir conftest).
fake = fake_wats


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[ReportQueue]:
    with ReportQueue.open(tmp_path / "queue", fsync=False) as q:
        yield q


def stored_ids(fake: FakeWATS) -> set[str]:
    return {
        str(e.report_id).lower()
        for e in fake.log
        if e.method == "POST" and e.status == 200 and e.report_id
    }


class Uploader:
    """``run_uploader`` under a supervisor, with the events it publishes."""

    def __init__(self, queue: ReportQueue, fake: FakeWATS) -> None:
        self.queue = queue
        self.api = AsyncWATS(URL, TOKEN, transport=fake, retry=RetryPolicy(base_delay=0.0))
        self.runtime = Runtime(instance="test", station_name="UP", server_url=URL)
        self.runtime.online.set()
        self.events: list[tuple[str, msgspec.Struct]] = []
        run = partial(
            run_uploader,
            queue,
            self.api,
            self.runtime,
            workers=4,
            publish=lambda event, payload: self.events.append((event, payload)),
        )
        self.tree = Supervisor("test", [ChildSpec("uploader", run)])

    async def wait_until(self, check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
        with trio.move_on_after(seconds):
            while not check():  # noqa: ASYNC110 - state changed by other threads too
                await trio.sleep(0.01)
            return
        pytest.fail(f"not within {seconds} s: {what}")


async def test_every_queued_report_is_uploaded_once_and_removed(
    queue: ReportQueue, fake: FakeWATS
) -> None:
    reports = [report(n) for n in range(60)]
    for report_id, data in reports:
        queue.put(report_id, data)
    up = Uploader(queue, fake)
    async with trio.open_nursery() as nursery:
        await nursery.start(up.tree.run)
        await up.wait_until(lambda: queue.depth() == 0, "an empty queue")
        await up.tree.stop()
    assert stored_ids(fake) == {i.lower() for i, _ in reports}
    assert sum(e.method == "POST" for e in fake.log) == 60  # each sent once
    uploaded = [p for name, p in up.events if isinstance(p, ReportUploaded)]
    assert {name for name, _ in up.events} == {"report_uploaded"}
    assert sorted(p.report_id for p in uploaded) == sorted(i for i, _ in reports)
    assert up.runtime.counters.uploaded == 60
    assert not list(queue.path.glob("entries/*/*"))


async def test_an_upload_accepted_while_the_queue_is_busy_is_removed_once_it_is_free(
    queue: ReportQueue, fake: FakeWATS
) -> None:
    report_id, data = report(1)
    queue.put(report_id, data)
    fake.faults.latency(0.5, match="/report")  # the answer comes while the lock is taken
    up = Uploader(queue, fake)
    release, holding = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # what a long `queue.list` for the TUI or a verify does
        with queue._lock:
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold_the_lock)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(up.tree.run)
            # The entry is claimed and on its way; the feeder found nothing else and waits.
            await up.wait_until(lambda: stored_ids(fake) == {report_id.lower()}, "the submit")
            holder.start()
            await trio.to_thread.run_sync(holding.wait)
            await trio.sleep(0.7)  # the server's answer arrives now: the queue is busy
            assert up.runtime.counters.uploaded == 0  # accepted, not yet removed
            release.set()
            # Nothing else happens in the queue: the uploader has to come back by itself, well
            # before its idle poll (5 s).
            await up.wait_until(lambda: up.runtime.counters.uploaded == 1, "the removal", 1.0)
            assert queue.depth() == 0
            await up.tree.stop()
    finally:
        release.set()
        if holder.is_alive():
            holder.join()
    assert sum(e.method == "POST" for e in fake.log) == 1
    assert not list(queue.path.glob("entries/*/*"))


async def test_a_verdict_a_full_disk_cannot_record_keeps_the_uploader_running(
    queue: ReportQueue, fake: FakeWATS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue cannot write a failed attempt down (disk full): the report stays queued and the
    uploader keeps running (it was restarted by its supervisor, over and over, before)."""
    report_id, data = report(1)
    queue.put(report_id, data)
    refused: list[int] = []

    def disk_full(entry: object) -> None:
        refused.append(1)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(queue._folder, "write_sidecar", disk_full)
    fake.faults.errors(503, count=None, match="/report")
    up = Uploader(queue, fake)
    async with trio.open_nursery() as nursery:
        await nursery.start(up.tree.run)
        await up.wait_until(lambda: len(refused) >= 1, "a failure the disk refused")
        [uploader] = up.tree.statistics().children
        assert uploader.restarts == 0
        assert queue.depth() == 1
        fake.faults.clear()
        monkeypatch.undo()  # room on the disk again
        await up.wait_until(lambda: queue.depth() == 0, "the upload after the pause", 10.0)
        [uploader] = up.tree.statistics().children
        assert uploader.restarts == 0
        await up.tree.stop()
    assert stored_ids(fake) == {report_id.lower()}


async def test_a_failed_upload_is_retried_when_its_backoff_ends_not_at_the_idle_poll(
    tmp_path: Path, fake: FakeWATS
) -> None:
    """The feeder slept (nothing claimable: the entry was in flight) when the upload failed; the
    failure must wake it to the entry's next attempt, not leave it to the 60 s idle poll."""
    with ReportQueue.open(
        tmp_path / "q", fsync=False, backoff=Backoff(initial=0.2, jitter=0.0)
    ) as queue:
        report_id, data = report(1)
        queue.put(report_id, data)
        fake.faults.errors(503, count=4, match="/report")  # the client's 4 attempts: all fail
        up = Uploader(queue, fake)
        async with trio.open_nursery() as nursery:
            await nursery.start(up.tree.run)
            await up.wait_until(lambda: queue.depth() == 0, "the retry after 0.2 s", 10.0)
            await up.tree.stop()
        assert up.runtime.counters.upload_failures == 1
        assert stored_ids(fake) == {report_id.lower()}


def uploaded(up: Uploader, n: int) -> bool:
    return up.runtime.counters.uploaded == n


async def test_reports_handed_over_by_a_converter_are_uploaded_without_a_folder_walk(
    queue: ReportQueue, fake: FakeWATS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a converter queues is offered in memory (``Runtime.hand_over``): the uploader claims
    it with the bytes in hand, and walks the queue's folder only at its start."""
    walks: list[int] = []
    real_claim = queue.claim

    def counted_claim(*args: object) -> object:
        walks.append(1)
        return real_claim(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(queue, "claim", counted_claim)
    up = Uploader(queue, fake)
    reports = [report(n) for n in range(20)]
    async with trio.open_nursery() as nursery:
        await nursery.start(up.tree.run)
        await up.wait_until(lambda: len(walks) == 1, "the first look at the queue")
        for n, (report_id, data) in enumerate(reports, start=1):
            entry = queue.put(report_id, data)
            up.runtime.hand_over([(entry, data)])
            await up.wait_until(partial(uploaded, up, n), f"upload {n}")
        await up.tree.stop()
    assert walks == [1]
    assert stored_ids(fake) == {i.lower() for i, _ in reports}
    assert sum(e.method == "POST" for e in fake.log) == 20  # each sent once
    assert queue.depth() == 0
    assert not list(queue.path.glob("entries/*/*"))


async def test_a_hand_over_is_only_a_hint(queue: ReportQueue, fake: FakeWATS) -> None:
    """Offline, nothing is held in memory; an entry queued before (found by a walk) and the one
    handed over are each sent once (which goes first: tests/station/test_queue_store.py)."""
    older_id, older = report(1)
    queue.put(older_id, older)
    up = Uploader(queue, fake)
    up.runtime.online = trio.Event()  # offline
    newer_id, newer = report(2)
    entry = queue.put(newer_id, newer)
    up.runtime.hand_over([(entry, newer)])
    assert up.runtime.just_queued == []
    up.runtime.online.set()
    up.runtime.hand_over([(entry, newer)])
    assert len(up.runtime.just_queued) == 1
    async with trio.open_nursery() as nursery:
        await nursery.start(up.tree.run)
        await up.wait_until(lambda: queue.depth() == 0, "both uploads")
        await up.tree.stop()
    posted = sorted(str(e.report_id).lower() for e in fake.log if e.method == "POST")
    assert posted == sorted([older_id.lower(), newer_id.lower()])
