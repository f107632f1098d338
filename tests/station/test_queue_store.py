"""The durable report queue on disk: the upload protocol, human commands, bounds, lock, streaming.

Crash and corruption cases are in ``test_queue_crash.py``. ``bench_open`` at the bottom prints the
open time and memory of a 100,000-entry queue; it is not a test (run this file as a script).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.queue import (
    Backoff,
    Entry,
    EntryNotFound,
    EntryState,
    InvalidTransition,
    QueueError,
    QueueFull,
    QueueLocked,
    ReportQueue,
    _recovery,
)
from pywats_station.queue._folder import Ref
from pywats_station.queue._format import Header, read_header

NOW = 1_700_000_000.0
NO_JITTER = Backoff(jitter=0.0)


def rid(n: int) -> str:
    """A deterministic report id (a GUID string)."""
    return str(uuid.UUID(int=n))


def wsjf(n: int) -> bytes:
    return b'{"id":"%s","type":"T","sn":"SN-%d"}' % (rid(n).encode(), n)


def payload_files(path: Path) -> list[Path]:
    return sorted((path / "entries").glob("*/*.wsjf"))


@pytest.fixture
def qpath(tmp_path: Path) -> Path:
    return tmp_path / "queue"


@pytest.fixture
def queue(qpath: Path) -> Iterator[ReportQueue]:
    with ReportQueue.open(qpath, backoff=NO_JITTER) as q:
        yield q


def put_n(q: ReportQueue, n: int, start: int = 1) -> list[Entry]:
    return [q.put(rid(i), wsjf(i), now=NOW + i) for i in range(start, start + n)]


def upload(q: ReportQueue) -> Entry:
    """Take the next due entry, check its bytes, complete it."""
    e = q.next_due(NOW + 10**6)
    assert e is not None
    e = q.start(e)
    assert q.read(e) == wsjf(int(uuid.UUID(e.report_id)))
    q.complete(e)
    return e


# -- put / read / complete ----------------------------------------------------------------------


def test_put_read_complete_round_trip(queue: ReportQueue, qpath: Path) -> None:
    data = wsjf(1)
    e = queue.put(rid(1), data, source="spea:board.csv", now=NOW)
    assert e.seq == 1
    assert e.state is EntryState.QUEUED
    assert e.size == len(data)
    assert e.checksum == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (e.created_at, e.source, e.attempts) == (NOW, "spea:board.csv", 0)
    assert queue.stats().depth == 1

    due = queue.next_due(NOW)
    assert due == e  # the entry read back from its file equals the one put returned
    started = queue.start(due)
    assert started.state is EntryState.UPLOADING
    assert queue.read(started) == data
    queue.complete(started)

    assert queue.next_due(NOW) is None
    assert payload_files(qpath) == []
    assert list((qpath / "entries").glob("*/*")) == []
    s = queue.stats()
    assert (s.depth, s.bytes, s.uploading) == (0, 0, 0)


def test_put_is_on_disk_when_it_returns(queue: ReportQueue, qpath: Path) -> None:
    e = queue.put(rid(1), wsjf(1))
    [f] = payload_files(qpath)
    assert f.name == f"{e.seq:012d}-{rid(1)}.wsjf"
    header, _, body = f.read_bytes().partition(b"\n")
    assert body == wsjf(1)
    assert b'"checksum":"sha256:' in header
    assert not list(f.parent.glob(".tmp-*"))


def test_empty_payload_and_binary_bytes(queue: ReportQueue) -> None:
    queue.put(rid(1), b"")
    queue.put(rid(2), bytes(range(256)) * 3)
    assert queue.read(queue.start(queue.next_due(NOW) or pytest.fail("nothing due"))) == b""
    e = queue.next_due(NOW)
    assert e is not None
    assert queue.read(e) == bytes(range(256)) * 3


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/b", ".hidden", "x" * 129, "id with space"])
def test_put_refuses_ids_unfit_for_a_file_name(queue: ReportQueue, qpath: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="report id"):
        queue.put(bad, b"{}")
    assert payload_files(qpath) == []
    assert queue.stats().depth == 0


def test_same_report_id_twice_is_two_entries(queue: ReportQueue) -> None:
    a = queue.put(rid(1), b"first")
    b = queue.put(rid(1), b"second")
    assert a.seq < b.seq
    assert queue.show(rid(1)) == a  # the oldest
    assert [e.seq for e in queue.list()] == [a.seq, b.seq]


# -- FIFO and seq -------------------------------------------------------------------------------


def test_fifo_order_survives_reopen(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        put_n(q, 5)
    with ReportQueue.open(qpath) as q:
        assert [upload(q).report_id for _ in range(5)] == [rid(i) for i in range(1, 6)]
        assert q.next_due(NOW) is None


def test_seq_continues_after_reopen(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        put_n(q, 3)
        upload(q)
    with ReportQueue.open(qpath) as q:
        assert q.put(rid(9), b"x").seq == 4


def test_seq_continues_even_after_the_queue_ran_empty(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        put_n(q, 3)
        for _ in range(3):
            upload(q)
    with ReportQueue.open(qpath) as q:
        assert q.put(rid(9), b"x").seq == 4


def test_seq_continues_after_a_crash_from_the_entries_left(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        put_n(q, 3)
    (qpath / "next-seq").unlink()  # as if killed before close wrote it
    with ReportQueue.open(qpath) as q:
        assert q.put(rid(9), b"x").seq == 4


def test_fifo_across_buckets_and_empty_buckets_are_removed(qpath: Path) -> None:
    with ReportQueue.open(qpath, fsync=False) as q:
        put_n(q, 2100)
        assert len(list((qpath / "entries").iterdir())) == 3  # buckets 0, 1, 2
        page = q.list(offset=995, limit=10)
        assert [e.seq for e in page] == list(range(996, 1006))
        for expected in range(1, 1101):
            assert upload(q).seq == expected
        # Bucket 0 (seqs 1-999) and 1 (1000-1999) are drained apart from 1101-1999.
        assert sorted(p.name for p in (qpath / "entries").iterdir()) == ["000000001", "000000002"]
        assert q.stats().depth == 1000


# -- next_due, take, start, abandon -------------------------------------------------------------


def test_next_due_marks_nothing_and_honours_exclude(queue: ReportQueue) -> None:
    a, b, c = put_n(queue, 3)
    assert queue.next_due(NOW) == a
    assert queue.next_due(NOW) == a
    assert queue.next_due(NOW, exclude={a.seq}) == b
    assert queue.next_due(NOW, exclude=[a.seq, b.seq]) == c
    assert queue.next_due(NOW, exclude={a.seq, b.seq, c.seq}) is None
    assert queue.next_due(NOW, frozenset({a.seq})) == b  # as trio.to_thread.run_sync passes it


def test_started_entries_are_not_due(queue: ReportQueue) -> None:
    a, b = put_n(queue, 2)
    queue.start(a)
    assert queue.next_due(NOW) == b
    s = queue.stats()
    assert (s.queued, s.uploading, s.depth) == (1, 1, 2)


def test_take_claims_a_batch_atomically(queue: ReportQueue) -> None:
    put_n(queue, 5)
    first = queue.take(NOW, 3)
    assert [e.seq for e in first] == [1, 2, 3]
    assert all(e.state is EntryState.UPLOADING for e in first)
    assert [e.seq for e in queue.take(NOW, 3)] == [4, 5]
    assert queue.take(NOW, 3) == []
    assert queue.stats().uploading == 5


def test_claim_returns_entries_with_their_bytes_each_file_read_once(
    queue: ReportQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_n(queue, 5)
    opened: list[str] = []
    real_open = open

    def counting_open(file: str, *args: object, **kwargs: object) -> object:
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting_open)
    got = queue.claim(NOW, 3)
    assert [(e.seq, e.state) for e, _ in got] == [(n, EntryState.UPLOADING) for n in (1, 2, 3)]
    assert [data for _, data in got] == [wsjf(n) for n in (1, 2, 3)]
    assert len(opened) == 3  # one read per entry: header, checksum and bytes together
    monkeypatch.undo()
    assert [e.seq for e, _ in queue.claim(NOW, 3)] == [4, 5]
    assert queue.claim(NOW, 3) == []
    for entry, _ in got:
        queue.complete(entry)
    s = queue.stats()
    assert (s.depth, s.uploading, s.queued) == (2, 2, 0)
    assert len(payload_files(queue.path)) == 2


def test_claim_put_claims_just_put_entries_without_reading_them(
    queue: ReportQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uploader's hand-over: the bytes the converter holds, no file opened, exclusive."""
    put = [(e, wsjf(e.seq)) for e in put_n(queue, 3)]
    opened: list[str] = []
    real_open = open

    def counting_open(file: str, *args: object, **kwargs: object) -> object:
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting_open)
    got = queue.claim_put(put)
    monkeypatch.undo()
    assert got is not None
    assert [(e.seq, e.state) for e, _ in got] == [(n, EntryState.UPLOADING) for n in (1, 2, 3)]
    assert [data for _, data in got] == [wsjf(n) for n in (1, 2, 3)]
    assert opened == []
    assert queue.claim(NOW, 10) == []  # exclusive: a walk does not claim them again
    assert queue.claim_put(put) is None  # nor does a second hand-over
    for entry, _ in got:
        queue.complete(entry)
    assert (queue.depth(), payload_files(queue.path)) == (0, [])
    assert queue.stats().bytes == 0  # the sizes the stat recorded were the files' own


def test_claim_put_declines_when_others_are_due_or_it_was_claimed(queue: ReportQueue) -> None:
    """FIFO holds: an older entry (or a failed one) is claimed by a walk first; an entry a walk
    claimed already is not claimed twice; a purged one is left out."""
    [older] = put_n(queue, 1)
    [new] = put_n(queue, 1, start=2)
    assert queue.claim_put([(new, wsjf(2))]) is None  # entry 1 is older: walk
    [(claimed, _)] = queue.claim(NOW, 1)
    assert claimed.seq == older.seq
    queue.fail(claimed, error="x", now=NOW)
    assert queue.claim_put([(new, wsjf(2))]) is None  # a failed entry waits: walk
    queue.purge(older.report_id)
    [(walked, _)] = queue.claim(NOW, 1)
    assert walked.seq == new.seq
    assert queue.claim_put([(new, wsjf(2))]) is None  # claimed by the walk already
    queue.complete(walked)
    [third] = put_n(queue, 1, start=3)
    [fourth] = put_n(queue, 1, start=4)
    queue.purge(third.report_id)
    got = queue.claim_put([(third, wsjf(3)), (fourth, wsjf(4))])
    assert got is not None
    assert [e.seq for e, _ in got] == [fourth.seq]


def test_claim_put_never_waits_for_the_lock(queue: ReportQueue) -> None:
    put = [(e, wsjf(e.seq)) for e in put_n(queue, 1)]
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        with queue._lock:
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        holding.wait()
        assert queue.claim_put(put) is None
    finally:
        release.set()
        holder.join()
    assert queue.claim_put(put) is not None


def test_claim_stops_at_its_byte_budget_but_always_claims_one(queue: ReportQueue) -> None:
    put_n(queue, 6)
    size = len(wsjf(1))
    assert [e.seq for e, _ in queue.claim(NOW, 10, (), 2 * size)] == [1, 2]
    assert [e.seq for e, _ in queue.claim(NOW, 10, (), 1)] == [3]
    assert [e.seq for e, _ in queue.claim(NOW, 10, (), 10**6)] == [4, 5, 6]


def test_claim_includes_failed_entries_that_are_due_again(queue: ReportQueue) -> None:
    a, _b = put_n(queue, 2)
    queue.fail(queue.start(a), error="x", now=NOW)
    [(b_claimed, _)] = queue.claim(NOW, 5)
    assert b_claimed.seq == 2  # a waits for its backoff
    later = queue.claim(NOW + 10**6, 5)
    assert [(e.seq, e.attempts, data) for e, data in later] == [(1, 1, wsjf(1))]
    queue.complete(later[0][0])
    assert not list(queue.path.glob("entries/*/*.state"))  # its sidecar went with it


def test_claim_sets_a_corrupt_entry_aside_and_goes_on(queue: ReportQueue) -> None:
    put_n(queue, 3)
    broken = payload_files(queue.path)[1]
    broken.write_bytes(broken.read_bytes()[:-3] + b"XYZ")
    got = queue.claim(NOW, 5)
    assert [e.seq for e, _ in got] == [1, 3]
    s = queue.stats()
    assert (s.corrupt, s.depth) == (1, 2)


def test_a_bucket_is_removed_when_its_last_entry_is_uploaded(qpath: Path) -> None:
    with ReportQueue.open(qpath, fsync=False) as q:
        put_n(q, 1005)  # bucket 0: seqs 1-999, bucket 1: 1000-1005 (where puts go)
        buckets = qpath / "entries"
        done = 0
        while done < 999:
            for entry, _ in q.claim(NOW, 100, (), 10**9):
                if entry.seq < 1000:
                    assert (buckets / "000000000").is_dir()  # not empty yet
                    q.complete(entry)
                    done += 1
                else:
                    q.abandon(entry)
        assert sorted(p.name for p in buckets.iterdir()) == ["000000001"]
        for entry, _ in q.claim(NOW, 100):
            q.complete(entry)
        assert sorted(p.name for p in buckets.iterdir()) == ["000000001"]  # puts go there
    with ReportQueue.open(qpath, fsync=False) as q:
        assert q.stats().depth == 0


def test_bucket_counts_survive_reopening(qpath: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReportQueue.open(qpath, fsync=False) as q:
        put_n(q, 1003)
    rmdirs: list[str] = []
    real_rmdir = os.rmdir

    def counting_rmdir(path: str) -> None:
        rmdirs.append(os.path.basename(path))
        real_rmdir(path)

    with ReportQueue.open(qpath, fsync=False) as q:
        put_n(q, 1000, start=2000)  # seqs 1004-2003: bucket 2 is where puts go now
        monkeypatch.setattr(os, "rmdir", counting_rmdir)
        done = 0
        while done < 1999:
            for entry, _ in q.claim(NOW, 200, (), 10**9):
                if entry.seq < 2000:
                    q.complete(entry)
                    done += 1
                else:
                    q.abandon(entry)
        # Buckets 0 and 1 were emptied, counted from what the reopened queue found on disk:
        # each is removed once, with no attempt on a bucket that still has entries.
        assert rmdirs == ["000000000", "000000001"]
        assert sorted(p.name for p in (qpath / "entries").iterdir()) == ["000000002"]


def test_start_twice_is_refused(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    queue.start(a)
    with pytest.raises(InvalidTransition):
        queue.start(a)


def test_verdicts_need_a_started_entry(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    with pytest.raises(InvalidTransition):
        queue.complete(a)
    with pytest.raises(InvalidTransition):
        queue.fail(a, error="x", now=NOW)
    with pytest.raises(InvalidTransition):
        queue.reject(a, reason="x")
    assert queue.stats().queued == 1


def test_start_of_an_unknown_entry(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    ghost = Entry(
        seq=99, report_id=rid(99), state=EntryState.QUEUED, size=1, checksum="", created_at=NOW
    )
    with pytest.raises(EntryNotFound):
        queue.start(ghost)
    with pytest.raises(EntryNotFound):
        queue.read(ghost)
    queue.complete(ghost)  # nothing to remove: not an error
    assert queue.stats().depth == 1
    assert queue.next_due(NOW) == a


def test_abandon_gives_the_entry_back(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    queue.abandon(queue.start(a))
    assert queue.next_due(NOW) == a
    assert queue.stats().uploading == 0
    queue.abandon(a)  # not started: no-op
    assert queue.stats().queued == 1


def test_abandon_restores_a_failed_entry(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    f = queue.fail(queue.start(a), error="503", now=NOW)
    assert f.next_attempt_at is not None
    queue.abandon(queue.start(f))
    s = queue.stats()
    assert (s.failed, s.uploading) == (1, 0)
    assert queue.next_due(NOW) is None
    assert queue.next_due(f.next_attempt_at) == f


# -- fail: persisted, never reset ---------------------------------------------------------------


def test_fail_persists_attempts_across_reopen(qpath: Path) -> None:
    # The predecessor rewrote attempts = 1 on every failure, so its backoff never grew.
    now = NOW
    for attempt in range(1, 6):
        with ReportQueue.open(qpath, backoff=NO_JITTER) as q:
            if attempt == 1:
                put_n(q, 1)
            e = q.next_due(now)
            assert e is not None
            assert e.attempts == attempt - 1
            f = q.fail(q.start(e), error=f"timeout #{attempt}", now=now)
            assert f.attempts == attempt
            assert f.next_attempt_at is not None
            assert f.next_attempt_at == now + 2.0 * 2 ** (attempt - 1)
            now = f.next_attempt_at
    with ReportQueue.open(qpath) as q:
        [e] = q.list()
        assert (e.state, e.attempts, e.last_error) == (EntryState.FAILED, 5, "timeout #5")
        assert e.next_attempt_at == now
        assert q.stats().failed == 1


def test_failed_entry_waits_and_does_not_block_newer_ones(queue: ReportQueue) -> None:
    a, b = put_n(queue, 2)
    f = queue.fail(queue.start(a), error="503", now=NOW)
    assert f.next_attempt_at == NOW + 2.0
    assert queue.next_due(NOW) == b  # no head-of-line blocking
    assert queue.next_due(NOW + 1.9, exclude={b.seq}) is None
    assert queue.next_due(NOW + 2.0) == f  # due again: older, so first
    assert queue.next_wakeup() == NOW + 2.0
    assert queue.stats().next_attempt_at == NOW + 2.0


def test_fail_honours_retry_after(queue: ReportQueue) -> None:
    [a] = put_n(queue, 1)
    f = queue.fail(queue.start(a), error="429 Too Many Requests", retry_after=90.0, now=NOW)
    assert f.next_attempt_at == NOW + 90.0
    assert queue.next_wakeup() == NOW + 90.0


def test_next_wakeup_is_the_earliest_failure(queue: ReportQueue) -> None:
    assert queue.next_wakeup() is None
    a, b = put_n(queue, 2)
    queue.fail(queue.start(a), error="x", retry_after=50, now=NOW)
    queue.fail(queue.start(b), error="x", retry_after=10, now=NOW)
    assert queue.next_wakeup() == NOW + 10
    queue.start(queue.next_due(NOW + 10) or pytest.fail("nothing due"))
    assert queue.next_wakeup() == NOW + 50  # the one uploading no longer waits


# -- reject -------------------------------------------------------------------------------------


def test_reject_keeps_the_reason_verbatim_across_reopen(qpath: Path) -> None:
    reason = 'HTTP 400: {"message":"Invalid report"}\r\nLine 2:\tpart number missing\r\n ÆØÅ ✓\n'
    with ReportQueue.open(qpath) as q:
        [a] = put_n(q, 1)
        d = q.reject(q.start(a), reason=reason)
        assert d.state is EntryState.DEAD
        assert d.dead_reason == reason
        assert q.next_due(NOW + 10**9) is None
    with ReportQueue.open(qpath) as q:
        [d] = q.list(state=EntryState.DEAD)
        assert d.dead_reason == reason
        assert d.attempts == 1
        s = q.stats()
        assert (s.dead, s.depth, s.oldest_created_at) == (1, 0, None)
        assert q.next_due(NOW + 10**9) is None


# -- names from outside -------------------------------------------------------------------------

# What a converter hands over: "<converter>:<file name>", where a file name is any bytes.
HOSTILE_SOURCES = [
    ("wsjf:" + os.fsdecode(b"bad\xff\xfename.json"), "wsjf:bad\\xff\\xfename.json"),
    ("wsjf:two\nlines.json", "wsjf:two\\nlines.json"),
    ("wsjf:\x1b[2Jclear\x00.json", "wsjf:\\x1b[2Jclear\\x00.json"),
    ("wsjf:\ud800", "wsjf:\\ud800"),
    ("wsjf:Prüfung ✓.json", "wsjf:Prüfung ✓.json"),
]


@pytest.mark.parametrize(("source", "stored"), HOSTILE_SOURCES)
def test_any_source_is_queued_escaped_and_reads_back_the_same(
    qpath: Path, source: str, stored: str
) -> None:
    with ReportQueue.open(qpath) as q:
        e = q.put(rid(1), wsjf(1), source=source, now=NOW)
        assert e.source == stored
    [f] = payload_files(qpath)
    header = f.read_bytes().partition(b"\n")[0]
    header.decode("utf-8")  # valid UTF-8: any JSON reader can read it
    with ReportQueue.open(qpath) as q:
        [back] = q.list()
        assert back == e
        assert q.read(q.start(back)) == wsjf(1)


def test_a_huge_source_is_cut_and_the_entry_stays_readable(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        e = q.put(rid(1), wsjf(1), source="\n" * 100_000, now=NOW)
        assert e.source is not None
        assert len(e.source) <= 4096
        assert e.source.endswith("…")
    with ReportQueue.open(qpath) as q:
        [back] = q.list()
        assert back.source == e.source
        assert q.verify().corrupt == 0


def test_an_error_quoting_an_undecodable_name_is_kept(qpath: Path) -> None:
    error = "cannot read " + os.fsdecode(b"\xff.json")
    with ReportQueue.open(qpath) as q:
        [a] = put_n(q, 1)
        f = q.fail(q.start(a), error=error, now=NOW)
        d = q.reject(q.start(f), reason=error)
    with ReportQueue.open(qpath) as q:
        [back] = q.list()
        assert back.seq == d.seq
        assert back.dead_reason == "cannot read \\xff.json"
        assert back.last_error == "cannot read \\xff.json"


# -- retry and purge ----------------------------------------------------------------------------


@pytest.fixture
def mixed(queue: ReportQueue) -> dict[str, Entry]:
    """seq 1 dead, 2 failed, 3 queued, 4 dead."""
    a, b, c, d = put_n(queue, 4)
    return {
        "dead1": queue.reject(queue.start(a), reason="400"),
        "failed": queue.fail(queue.start(b), error="503", retry_after=600, now=NOW),
        "queued": c,
        "dead2": queue.reject(queue.start(d), reason="422"),
    }


def states(q: ReportQueue) -> dict[int, EntryState]:
    return {e.seq: e.state for e in q.list(limit=1000)}


def test_retry_by_report_id_any_case(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.retry(rid(1).upper()) == 1
    assert states(queue)[1] is EntryState.QUEUED
    r = queue.show("1")
    assert r.attempts == 1  # kept
    assert queue.next_due(NOW) == r


def test_retry_by_seq(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.retry("2") == 1
    assert states(queue) == {
        1: EntryState.DEAD,
        2: EntryState.QUEUED,
        3: EntryState.QUEUED,
        4: EntryState.DEAD,
    }


def test_retry_keywords(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.retry("dead") == 2
    assert queue.stats().dead == 0
    assert queue.retry("failed") == 1
    assert queue.retry("all") == 0
    assert set(states(queue).values()) == {EntryState.QUEUED}


def test_retry_default_is_dead_and_failed(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.retry() == 3
    s = queue.stats()
    assert (s.queued, s.failed, s.dead, s.depth) == (4, 0, 0, 4)
    assert [upload(queue).seq for _ in range(4)] == [1, 2, 3, 4]


def test_retry_of_a_queued_entry_does_nothing(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.retry("3") == 0


def test_retry_unknown(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    with pytest.raises(EntryNotFound):
        queue.retry(rid(42))
    with pytest.raises(EntryNotFound):
        queue.retry("42")
    with pytest.raises(ValueError, match="report id"):
        queue.retry("no/such thing")


def test_retry_survives_reopen(qpath: Path, queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    queue.retry("dead")
    queue.close()
    with ReportQueue.open(qpath) as q:
        assert states(q) == {
            1: EntryState.QUEUED,
            2: EntryState.FAILED,
            3: EntryState.QUEUED,
            4: EntryState.QUEUED,
        }
        assert q.show("4").attempts == 1


def test_purge_selectors(queue: ReportQueue, mixed: dict[str, Entry], qpath: Path) -> None:
    bytes_before = queue.stats().bytes
    assert queue.purge("dead") == 2
    assert queue.stats().bytes < bytes_before
    assert queue.purge(rid(2)) == 1
    assert queue.purge("3") == 1
    assert queue.stats().depth == 0
    assert payload_files(qpath) == []
    with pytest.raises(EntryNotFound):
        queue.purge("3")


def test_purge_failed_and_all(queue: ReportQueue, mixed: dict[str, Entry], qpath: Path) -> None:
    assert queue.purge("failed") == 1
    assert queue.purge("all") == 3
    s = queue.stats()
    assert (s.depth, s.dead, s.bytes) == (0, 0, 0)
    assert list((qpath / "entries").glob("*/*")) == []


def test_purge_while_uploading(queue: ReportQueue) -> None:
    a, b = put_n(queue, 2)
    a = queue.start(a)
    b = queue.start(b)
    assert queue.purge("all") == 2
    assert queue.stats().uploading == 0
    queue.complete(a)  # accepted after all: nothing left to remove
    with pytest.raises(EntryNotFound):
        queue.fail(b, error="x", now=NOW)
    assert queue.stats().depth == 0


# -- list and show ------------------------------------------------------------------------------


def test_list_filters_and_pages(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    put_n(queue, 3, start=5)
    assert [e.seq for e in queue.list()] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.seq for e in queue.list(offset=2, limit=3)] == [3, 4, 5]
    assert [e.seq for e in queue.list(state=EntryState.QUEUED)] == [3, 5, 6, 7]
    assert [e.seq for e in queue.list(state=EntryState.QUEUED, offset=1, limit=2)] == [5, 6]
    assert [e.seq for e in queue.list(state=EntryState.DEAD)] == [1, 4]
    assert [e.seq for e in queue.list(state=EntryState.DEAD, offset=1)] == [4]
    assert [e.seq for e in queue.list(state=EntryState.FAILED)] == [2]
    queue.start(queue.show("6"))
    assert [e.seq for e in queue.list(state=EntryState.UPLOADING)] == [6]
    assert queue.show("6").state is EntryState.UPLOADING
    assert queue.list(limit=0) == []


def test_show(queue: ReportQueue, mixed: dict[str, Entry]) -> None:
    assert queue.show("1") == mixed["dead1"]
    assert queue.show(rid(2)) == mixed["failed"]
    assert queue.show("000000000003") == mixed["queued"]
    with pytest.raises(EntryNotFound):
        queue.show("77")


# -- stats --------------------------------------------------------------------------------------


def test_stats_track_every_change(queue: ReportQueue) -> None:
    s = queue.stats()
    assert (s.depth, s.bytes, s.oldest_created_at, s.next_attempt_at) == (0, 0, None, None)
    a, b, c = put_n(queue, 3)
    assert queue.stats().oldest_created_at == a.created_at
    upload(queue)
    assert queue.stats().oldest_created_at == b.created_at
    queue.reject(queue.start(b), reason="no")
    s = queue.stats()
    assert (s.queued, s.dead, s.depth, s.oldest_created_at) == (1, 1, 1, c.created_at)
    queue.retry("dead")
    assert queue.stats().oldest_created_at == b.created_at
    assert queue.stats().max_bytes == 1 << 30


def test_stats_and_would_fit_do_not_touch_the_folder(
    queue: ReportQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_n(queue, 3)
    queue.stats()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("folder scanned")

    monkeypatch.setattr(os, "scandir", forbidden)
    monkeypatch.setattr(os, "listdir", forbidden)
    for _ in range(3):
        s = queue.stats()
    assert s.depth == 3
    assert queue.would_fit(10)
    assert queue.free_bytes > 0


# -- bounded in bytes ---------------------------------------------------------------------------


def test_queue_full(qpath: Path, tmp_path: Path) -> None:
    with ReportQueue.open(tmp_path / "scratch") as scratch:
        scratch.put(rid(1), wsjf(1), now=NOW + 1)
        one = scratch.stats().bytes  # one entry with its header
    with ReportQueue.open(qpath, max_bytes=3 * one) as q:
        put_n(q, 3)
        s = q.stats()
        assert s.bytes <= 3 * one
        assert q.free_bytes == 3 * one - s.bytes
        assert not q.would_fit(len(wsjf(4)))
        with pytest.raises(QueueFull) as info:
            q.put(rid(4), wsjf(4), now=NOW + 4)
        assert (info.value.current, info.value.limit) == (s.bytes, 3 * one)
        assert info.value.needed > len(wsjf(4))
        assert str(s.bytes) in str(info.value)
        assert q.stats().depth == 3
        assert len(payload_files(qpath)) == 3
        # Dead letters count: rejecting frees nothing.
        q.reject(q.start(q.next_due(NOW) or pytest.fail("nothing due")), reason="400")
        with pytest.raises(QueueFull):
            q.put(rid(4), wsjf(4), now=NOW + 4)
        q.purge("dead")
        assert q.put(rid(4), wsjf(4), now=NOW + 4).seq == 4  # a refused put used no seq


def test_would_fit_reserves_room_for_the_header(qpath: Path) -> None:
    with ReportQueue.open(qpath, max_bytes=10_000) as q:
        assert q.would_fit(8_000)
        assert not q.would_fit(9_500)
        assert q.free_bytes == 10_000


def test_bytes_are_recounted_on_open(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        put_n(q, 10)
        before = q.stats().bytes
    assert before == sum(f.stat().st_size for f in payload_files(qpath))
    with ReportQueue.open(qpath) as q:
        assert q.stats().bytes == before


def test_max_bytes_must_be_positive(qpath: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        ReportQueue.open(qpath, max_bytes=0)


# -- lock ---------------------------------------------------------------------------------------

TRY_OPEN = """
import sys
from pathlib import Path
from pywats_station.queue import QueueLocked, ReportQueue
try:
    ReportQueue.open(Path(sys.argv[1])).close()
except QueueLocked as exc:
    print("locked", exc.pid, exc)
else:
    print("opened")
"""


def try_open_in_subprocess(path: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", TRY_OPEN, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


def test_second_open_in_the_same_process_is_locked(qpath: Path) -> None:
    q = ReportQueue.open(qpath)
    with pytest.raises(QueueLocked) as info:
        ReportQueue.open(qpath)
    assert info.value.pid == os.getpid()
    assert str(qpath) in str(info.value)
    assert f"pid {os.getpid()}" in str(info.value)
    q.put(rid(1), b"still usable")
    q.close()
    with ReportQueue.open(qpath) as again:
        assert again.stats().depth == 1


def test_open_from_another_process_is_locked(qpath: Path) -> None:
    with ReportQueue.open(qpath):
        answer = try_open_in_subprocess(qpath)
        assert answer.startswith(f"locked {os.getpid()} ")
        assert str(qpath) in answer
    assert try_open_in_subprocess(qpath) == "opened"


def test_closed_queue_refuses(qpath: Path) -> None:
    q = ReportQueue.open(qpath)
    [a] = put_n(q, 1)
    q.close()
    q.close()  # idempotent
    with pytest.raises(QueueError, match="closed"):
        q.put(rid(2), b"x")
    with pytest.raises(QueueError, match="closed"):
        q.next_due(NOW)
    with pytest.raises(QueueError, match="closed"):
        q.read(a)
    with pytest.raises(QueueError, match="closed"):
        q.stats()


# -- threads ------------------------------------------------------------------------------------


def test_concurrent_workers_deliver_each_entry_once(qpath: Path) -> None:
    with ReportQueue.open(qpath, fsync=False) as q:
        put_n(q, 300)
        delivered: list[int] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                while batch := q.take(NOW, 2):
                    for e in batch:
                        assert q.read(e) == wsjf(e.seq)
                        if e.seq % 7 == 0 and e.attempts == 0:
                            q.fail(e, error="flaky", retry_after=0, now=NOW)
                            continue
                        q.complete(e)
                        with lock:
                            delivered.append(e.seq)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        assert sorted(delivered) == list(range(1, 301))
        s = q.stats()
        assert (s.depth, s.bytes, s.uploading) == (0, 0, 0)


# -- streaming: the backlog is never loaded whole -----------------------------------------------

STREAM_N = 20_000


@pytest.fixture(scope="module")
def big_queue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "queue"
    with ReportQueue.open(path, fsync=False) as q:  # set-up only: durability is not tested here
        for i in range(1, STREAM_N + 1):
            q.put(rid(i), wsjf(i), now=NOW + i)
    return path


def test_open_does_not_materialise_the_backlog(
    big_queue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = read_header

    def counting(path: str, report_id: str) -> tuple[Header, int]:
        reads.append(path)
        return real(path, report_id)

    monkeypatch.setattr(_recovery, "read_header", counting)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        q = ReportQueue.open(big_queue, fsync=False)
        _, peak_open = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        page = q.list(limit=10)
        due = q.next_due(NOW)
        stats = q.stats()
        deep_page = q.list(offset=STREAM_N - 5, limit=10)
        _, peak_use = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert reads == []  # no payload was opened to count the queue
        assert stats.depth == STREAM_N
        assert [e.seq for e in page] == list(range(1, 11))
        assert due is not None
        assert due.seq == 1
        assert [e.seq for e in deep_page] == list(range(STREAM_N - 4, STREAM_N + 1))
        # 20,000 Entry objects would take ~5 MB, 20,000 names ~2 MB: far above these.
        assert peak_open < 1_000_000, peak_open
        assert peak_use < 1_000_000, peak_use
    finally:
        q.close()


def test_next_due_reads_one_header(big_queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[object] = []
    with ReportQueue.open(big_queue, fsync=False) as q:
        original = q._load_fresh

        def counting(ref: Ref) -> Entry | None:
            reads.append(ref)
            return original(ref)

        monkeypatch.setattr(q, "_load_fresh", counting)
        assert q.next_due(NOW) is not None
        assert len(reads) == 1
        assert [e.seq for e in q.list(offset=1000, limit=5)] == list(range(1001, 1006))
        assert len(reads) == 6  # skipping 1000 entries went by their names


# -- benchmark (not a test) ---------------------------------------------------------------------

_MEASURE = """
import sys, time
from pathlib import Path
from pywats_station.queue import ReportQueue
def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
before = rss_kib()
t = time.perf_counter()
q = ReportQueue.open(Path(sys.argv[1]))
opened = time.perf_counter() - t
t = time.perf_counter()
q.next_due(time.time()); q.list(limit=10); q.stats()
ops = time.perf_counter() - t
print(f"{opened:.3f} {ops * 1000:.1f} {rss_kib() - before} {q.stats().depth}")
q.close()
"""


def bench_open(n: int = 100_000) -> None:
    """Print open time and RSS growth for a queue of ``n`` entries against an empty one."""
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp) / "empty", Path(tmp) / "full"
        ReportQueue.open(empty).close()
        t = time.perf_counter()
        with ReportQueue.open(full, fsync=False) as q:
            for i in range(n):
                q.put(str(uuid.uuid4()), wsjf(i) * 20)
        print(f"created {n} entries in {time.perf_counter() - t:.1f} s")
        for label, path in (("empty", empty), (f"{n}", full)):
            out = subprocess.run(
                [sys.executable, "-c", _MEASURE, str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            print(
                f"{label:>7}: open {out[0]} s, next_due+list+stats {out[1]} ms, "
                f"RSS +{out[2]} KiB over the interpreter, depth {out[3]}"
            )


if __name__ == "__main__":
    bench_open(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)


def test_try_complete_never_waits_for_a_busy_queue(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        a, b = q.put(rid(1), wsjf(1)), q.put(rid(2), wsjf(2))
        first, second = q.take(NOW, 2)
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with q._lock:  # as a folder walk in the feeder's thread does
                holding.set()
                release.wait(5)

        thread = threading.Thread(target=hold)
        thread.start()
        holding.wait(5)
        started = time.perf_counter()
        assert q.try_complete(first) is None  # busy: the caller keeps it for later
        assert time.perf_counter() - started < 0.5
        release.set()
        thread.join()
        assert q.try_complete(first) == 1  # done; one entry (uploading) left
        q.complete(second)
        assert q.stats().depth == 0
        assert [e.report_id for e in q.list()] == []
        assert {a.seq, b.seq} == {first.seq, second.seq}
