"""The queue after crashes and corruption: nothing lost, nothing crash-looping.

Crashes are simulated three ways: by leaving on disk what a crash at each step leaves, by
recording the order of ``fsync``/``rename``/``unlink`` calls (what a power loss can undo), and by
SIGKILLing a child process that works the queue, at random moments.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import msgspec
import pytest

from pywats_station.queue import (
    CorruptEntry,
    Entry,
    EntryNotFound,
    EntryState,
    QueueLocked,
    ReportQueue,
    VerifyReport,
)

NOW = 1_700_000_000.0


def rid(n: int) -> str:
    return str(uuid.UUID(int=n))


def body(n: int) -> bytes:
    """A WSJF stand-in, 100 bytes to 200 KB (big ones widen the window a kill can hit).

    The child process has the same function.
    """
    digest = hashlib.sha256(b"%d" % n).hexdigest().encode()
    return b'{"sn":"%d","data":"%s"}' % (n, digest * (n % 7 + (3000 if n % 5 == 0 else 0)))


def payload(qpath: Path, e: Entry) -> Path:
    return qpath / "entries" / f"{e.seq // 1000:09d}" / f"{e.seq:012d}-{e.report_id}.wsjf"


def sidecar(qpath: Path, e: Entry) -> Path:
    return payload(qpath, e).with_suffix(".state")


def corrupt_files(qpath: Path) -> list[str]:
    return sorted(p.name for p in (qpath / "corrupt").iterdir())


def all_entries(q: ReportQueue) -> dict[str, Entry]:
    return {e.report_id: e for e in q.list(limit=10**6)}


@pytest.fixture
def qpath(tmp_path: Path) -> Path:
    return tmp_path / "queue"


@pytest.fixture
def filled(qpath: Path) -> list[Entry]:
    """Five entries put and the queue closed."""
    with ReportQueue.open(qpath) as q:
        return [q.put(rid(i), body(i), now=NOW + i) for i in range(1, 6)]


def reopen(qpath: Path) -> ReportQueue:
    return ReportQueue.open(qpath)


# -- what a crash at each step leaves behind ----------------------------------------------------


def test_temp_files_of_unfinished_writes_are_deleted(qpath: Path, filled: list[Entry]) -> None:
    bucket = payload(qpath, filled[0]).parent
    # put() killed before its rename: a half-written payload under a temp name.
    (bucket / f".tmp-{filled[-1].seq + 1:012d}-{rid(9)}.wsjf.0a1b2c3d").write_bytes(b'{"v":1,"i')
    # fail() killed before its rename: the old sidecar must win.
    with reopen(qpath) as q:
        f = q.fail(q.start(filled[0]), error="first", now=NOW)
    (bucket / f".tmp-{sidecar(qpath, f).name}.deadbeef").write_bytes(b'{"v":1,"state":"dea')
    with reopen(qpath) as q:
        assert not list(bucket.glob(".tmp-*"))
        assert q.stats().depth == 5
        assert q.show("1").attempts == 1
        assert q.show("1").last_error == "first"
        assert q.put(rid(9), b"x").seq == 6  # the unfinished put left no entry


def test_payload_without_sidecar_is_queued(qpath: Path, filled: list[Entry]) -> None:
    # A new entry never has a sidecar: that is the crash-between-writes case too.
    assert not sidecar(qpath, filled[0]).exists()
    with reopen(qpath) as q:
        e = q.show("1")
        assert (e.state, e.attempts) == (EntryState.QUEUED, 0)


def test_sidecar_without_payload_is_an_orphan(qpath: Path, filled: list[Entry]) -> None:
    # complete() killed between deleting the payload and the sidecar.
    with reopen(qpath) as q:
        q.fail(q.start(filled[0]), error="x", now=NOW)
    payload(qpath, filled[0]).unlink()
    assert sidecar(qpath, filled[0]).exists()
    with reopen(qpath) as q:
        assert not sidecar(qpath, filled[0]).exists()
        s = q.stats()
        assert (s.depth, s.failed, s.corrupt) == (4, 0, 0)
        with pytest.raises(EntryNotFound):
            q.show("1")


def test_orphans_found_while_running_are_removed_by_verify(
    qpath: Path, filled: list[Entry]
) -> None:
    with reopen(qpath) as q:
        stray = sidecar(qpath, filled[0]).with_name(f"{99:012d}-{rid(99)}.state")
        stray.write_bytes(b'{"v":1,"state":"failed"}')
        assert q.verify() == VerifyReport(ok=5, corrupt=0, orphans=1)
        assert not stray.exists()


def test_an_uploading_state_on_disk_is_recovered_as_queued(
    qpath: Path, filled: list[Entry]
) -> None:
    sidecar(qpath, filled[1]).write_bytes(b'{"v":1,"state":"uploading","attempts":3}')
    with reopen(qpath) as q:
        e = q.show("2")
        assert (e.state, e.attempts) == (EntryState.QUEUED, 3)
        assert q.stats().uploading == 0
        assert q.next_due(NOW) == q.show("1")


def test_uploading_is_never_persisted(qpath: Path, filled: list[Entry]) -> None:
    q = reopen(qpath)
    q.start(filled[0])
    assert not sidecar(qpath, filled[0]).exists()
    q.close()  # as good as a crash for what is on disk
    with reopen(qpath) as q:
        assert q.next_due(NOW) == filled[0]  # sent again; the server overwrites by id


def test_temp_files_outside_buckets_are_deleted(qpath: Path, filled: list[Entry]) -> None:
    leftovers = [qpath / ".tmp-next-seq.12345678", qpath / "corrupt" / ".tmp-x.reason.txt.1"]
    for p in leftovers:
        p.write_bytes(b"half")
    with reopen(qpath) as q:
        assert not any(p.exists() for p in leftovers)
        assert q.stats().depth == 5


def test_a_verdict_the_disk_refuses_gives_the_entry_back(
    qpath: Path, filled: list[Entry], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with reopen(qpath) as q:
        e = q.start(filled[0])
        monkeypatch.setattr(os, "rename", disk_full)
        with pytest.raises(OSError, match="No space"):
            q.fail(e, error="x", now=NOW)
        assert q.stats().uploading == 0
        assert q.next_due(NOW) == filled[0]  # not stuck as UPLOADING
        e = q.start(filled[0])
        monkeypatch.setattr(os, "unlink", disk_full)
        with pytest.raises(OSError, match="No space"):
            q.complete(e)
        assert q.stats().uploading == 0
        monkeypatch.undo()
        assert q.next_due(NOW) == filled[0]
        assert not list(payload(qpath, e).parent.glob(".tmp-*"))


# -- fsync discipline: what a power loss could undo ---------------------------------------------


@pytest.fixture
def syscalls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records fsync (with the file's path), rename (the target) and unlink, in order."""
    events: list[tuple[str, str]] = []
    real_fsync, real_rename, real_unlink = os.fsync, os.rename, os.unlink

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("rename", f"{os.fspath(src)} -> {os.fspath(dst)}"))
        real_rename(src, dst)

    def unlink(path: str | os.PathLike[str]) -> None:
        events.append(("unlink", os.fspath(path)))
        real_unlink(path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "unlink", unlink)
    return events


def test_put_fsyncs_file_then_renames_then_fsyncs_folder(
    qpath: Path, syscalls: list[tuple[str, str]]
) -> None:
    with ReportQueue.open(qpath) as q:
        syscalls.clear()
        e = q.put(rid(1), body(1))
        final = str(payload(qpath, e))
        bucket = str(payload(qpath, e).parent)
        [(_, tmp)] = [ev for ev in syscalls if ev[0] == "fsync" and ".tmp-" in ev[1]]
        assert syscalls[-3:] == [
            ("fsync", tmp),
            ("rename", f"{tmp} -> {final}"),
            ("fsync", bucket),  # only then does put() return
        ]
        # The new bucket folder was itself made durable in its parent first.
        assert ("fsync", str(qpath / "entries")) in syscalls[:-3]


def test_fail_replaces_the_sidecar_durably(qpath: Path, syscalls: list[tuple[str, str]]) -> None:
    with ReportQueue.open(qpath) as q:
        e = q.start(q.put(rid(1), body(1)))
        syscalls.clear()
        q.fail(e, error="x", now=NOW)
        final = str(sidecar(qpath, e))
        tmp = syscalls[0][1]
        assert ".tmp-" in tmp
        assert syscalls == [
            ("fsync", tmp),
            ("rename", f"{tmp} -> {final}"),
            ("fsync", str(payload(qpath, e).parent)),
        ]


def test_complete_deletes_payload_before_sidecar(
    qpath: Path, syscalls: list[tuple[str, str]]
) -> None:
    with ReportQueue.open(qpath) as q:
        e = q.put(rid(1), body(1))
        q.fail(q.start(e), error="x", now=NOW)
        e2 = q.start(q.next_due(NOW + 10**6) or pytest.fail("not due"))
        syscalls.clear()
        q.complete(e2)
        # No directory fsync: a completed entry brought back by a power cut is only sent again,
        # and the server overwrites it by report id.
        assert syscalls == [
            ("unlink", str(payload(qpath, e))),
            ("unlink", str(sidecar(qpath, e))),
        ]
        e3 = q.put(rid(2), body(2))
        syscalls.clear()
        q.purge(e3.report_id)
        assert syscalls[-1] == ("fsync", str(payload(qpath, e3).parent))  # a purge is durable


def test_fsync_false_skips_only_the_flushes(qpath: Path, syscalls: list[tuple[str, str]]) -> None:
    with ReportQueue.open(qpath, fsync=False) as q:
        q.put(rid(1), body(1))
    assert [ev for ev in syscalls if ev[0] == "fsync"] == []
    assert any(ev[0] == "rename" for ev in syscalls)  # still atomic


# -- corruption ---------------------------------------------------------------------------------


def flip_byte(path: Path, offset_from_end: int = 3) -> None:
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_is_caught_on_read(qpath: Path, filled: list[Entry]) -> None:
    flip_byte(payload(qpath, filled[0]))
    with reopen(qpath) as q:
        e = q.start(q.next_due(NOW) or pytest.fail("nothing due"))
        with pytest.raises(CorruptEntry, match="checksum") as info:
            q.read(e)
        assert info.value.name == payload(qpath, e).name
        q.complete(e)  # the upload worker's verdict after the error: nothing left, no error
        s = q.stats()
        assert (s.corrupt, s.depth, s.uploading) == (1, 4, 0)
        name = payload(qpath, e).name
        assert corrupt_files(qpath) == [name, name + ".reason.txt"]
        reason = (qpath / "corrupt" / (name + ".reason.txt")).read_text()
        assert "checksum mismatch" in reason
        assert q.next_due(NOW) == filled[1]  # the others are still served


def test_truncated_payload_is_moved_aside_when_met(qpath: Path, filled: list[Entry]) -> None:
    p = payload(qpath, filled[0])
    p.write_bytes(p.read_bytes()[:-5])
    with reopen(qpath) as q:
        assert q.next_due(NOW) == filled[1]
        assert q.stats().corrupt == 1
        assert "truncated" in (qpath / "corrupt" / (p.name + ".reason.txt")).read_text()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (b"", "no header line"),
        (b"garbage without newline", "no header line"),
        (b"not json at all\n{}", "unreadable header"),
        (b'{"v":2,"id":"x","size":2,"checksum":"sha256:","created_at":0}\n{}', "version"),
    ],
    ids=["empty", "no-newline", "not-json", "future-version"],
)
def test_bad_header_is_moved_aside(
    qpath: Path, filled: list[Entry], damage: bytes, reason: str
) -> None:
    payload(qpath, filled[2]).write_bytes(damage)
    with reopen(qpath) as q:
        assert [e.seq for e in q.list()] == [1, 2, 4, 5]
        assert q.stats().corrupt == 1
        assert q.stats().depth == 4
        name = payload(qpath, filled[2]).name
        assert reason in (qpath / "corrupt" / (name + ".reason.txt")).read_text()


def test_header_naming_another_report_is_corrupt(qpath: Path, filled: list[Entry]) -> None:
    a, b = payload(qpath, filled[0]), payload(qpath, filled[1])
    a.write_bytes(b.read_bytes())  # the file of report 2 under the name of report 1
    with reopen(qpath) as q:
        assert q.next_due(NOW) == filled[1]
        assert "header names report" in (qpath / "corrupt" / (a.name + ".reason.txt")).read_text()


def test_entry_in_the_wrong_bucket_is_moved_aside(qpath: Path, filled: list[Entry]) -> None:
    src = payload(qpath, filled[0])
    elsewhere = qpath / "entries" / "000000007"
    elsewhere.mkdir()
    os.rename(src, elsewhere / src.name)  # a human's copy by hand
    with reopen(qpath) as q:
        assert [e.seq for e in q.list()] == [2, 3, 4, 5]
        assert q.stats().corrupt == 1
        assert "not in bucket 7" in (qpath / "corrupt" / (src.name + ".reason.txt")).read_text()
        assert not elsewhere.exists()


def test_payload_deleted_by_hand_while_uploading(qpath: Path, filled: list[Entry]) -> None:
    with reopen(qpath) as q:
        e = q.start(filled[0])
        payload(qpath, e).unlink()
        with pytest.raises(EntryNotFound):
            q.fail(e, error="x", now=NOW)
        assert q.stats().uploading == 0
        assert not sidecar(qpath, e).exists()


def test_garbage_sidecar_keeps_the_report(qpath: Path, filled: list[Entry]) -> None:
    with reopen(qpath) as q:
        q.reject(q.start(filled[3]), reason="400")
    sc = sidecar(qpath, filled[3])
    sc.write_bytes(b"\x00\xffnot json")
    with reopen(qpath) as q:
        assert corrupt_files(qpath) == [sc.name, sc.name + ".reason.txt"]
        e = q.show("4")
        assert (e.state, e.attempts) == (EntryState.QUEUED, 0)  # the report is what matters
        s = q.stats()
        assert (s.corrupt, s.dead, s.queued) == (1, 0, 5)
        assert q.read(e) == body(4)


def test_verify_checks_everything_and_moves_corrupt_ones(qpath: Path, filled: list[Entry]) -> None:
    with reopen(qpath) as q:
        q.fail(q.start(filled[4]), error="x", now=NOW)
        flip_byte(payload(qpath, filled[0]))
        flip_byte(payload(qpath, filled[1]), offset_from_end=1)
        sidecar(qpath, filled[4]).write_bytes(b"{broken")
        report = q.verify()
        assert report == VerifyReport(ok=2, corrupt=3, orphans=0)  # 5: its sidecar
        s = q.stats()
        assert (s.depth, s.corrupt, s.failed) == (3, 3, 0)
        assert q.verify() == VerifyReport(ok=3, corrupt=0, orphans=0)
        assert [e.seq for e in q.list()] == [3, 4, 5]


def test_corrupt_entries_do_not_crash_loop(qpath: Path, filled: list[Entry]) -> None:
    flip_byte(payload(qpath, filled[0]))
    payload(qpath, filled[1]).write_bytes(b"junk")
    sidecar(qpath, filled[2]).write_bytes(b"junk")
    with reopen(qpath) as q:
        q.verify()
        first = (q.stats(), corrupt_files(qpath))
    for _ in range(3):
        with reopen(qpath) as q:
            assert (q.stats(), corrupt_files(qpath)) == first
            assert q.verify().corrupt == 0
    assert first[0].corrupt == 3
    assert first[0].depth == 3


def test_the_seq_of_a_corrupt_entry_is_not_reused(qpath: Path, filled: list[Entry]) -> None:
    with reopen(qpath) as q:
        for _ in range(4):
            e = q.start(q.next_due(NOW) or pytest.fail("nothing due"))
            q.complete(e)
        last = q.start(q.next_due(NOW) or pytest.fail("nothing due"))
    flip_byte(payload(qpath, last))
    (qpath / "next-seq").unlink()  # as after a crash: only the files tell
    with reopen(qpath) as q, pytest.raises(CorruptEntry):
        q.read(last)
    (qpath / "next-seq").unlink()
    with reopen(qpath) as q:
        assert q.put(rid(9), b"x").seq == 6


def test_the_same_entry_corrupt_twice_gets_distinct_names(qpath: Path) -> None:
    with ReportQueue.open(qpath) as q:
        e = q.put(rid(1), body(1))
        q.fail(q.start(e), error="x", now=NOW)
        sidecar(qpath, e).write_bytes(b"junk")
        assert q.verify().corrupt == 1
        q.fail(q.start(e), error="y", now=NOW)
        sidecar(qpath, e).write_bytes(b"junk again")
        assert q.verify().corrupt == 1
    name = sidecar(qpath, e).name
    assert corrupt_files(qpath) == [
        name,
        name + ".1",
        name + ".1.reason.txt",
        name + ".reason.txt",
    ]


# -- SIGKILL at random moments ------------------------------------------------------------------

CHILD = r"""
import hashlib, random, sys, time, uuid
from pathlib import Path
from pywats_station.queue import ReportQueue

def body(n):
    digest = hashlib.sha256(b"%d" % n).hexdigest().encode()
    return b'{"sn":"%d","data":"%s"}' % (n, digest * (n % 7 + (3000 if n % 5 == 0 else 0)))

def say(*parts):
    # One write per line: with PYTHONUNBUFFERED set, print() writes each part on its own and a
    # kill between two of them leaves half a line.
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()

path, first, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
q = ReportQueue.open(path)
say("ready")
n = first
while True:
    q.put(str(uuid.UUID(int=n)), body(n), source=f"child:{n}")
    say("P", n)
    n += 1
    e = q.next_due(time.time())
    if e is None:
        continue
    roll = rng.random()
    if roll < 0.3:
        e = q.start(e)
        assert q.read(e) == body(uuid.UUID(e.report_id).int)
        say("S", uuid.UUID(e.report_id).int)  # may be gone from here on
        q.complete(e)
        say("C", uuid.UUID(e.report_id).int)
    elif roll < 0.45:
        f = q.fail(q.start(e), error="flaky", retry_after=0)
        say("F", uuid.UUID(f.report_id).int, f.attempts)
    elif roll < 0.5:
        d = q.reject(q.start(e), reason="rejected\r\nby test")
        say("D", uuid.UUID(d.report_id).int)
"""


class Expected:
    """What the children reported as done (printed only after the call returned)."""

    def __init__(self) -> None:
        self.put: set[int] = set()
        self.completed: set[int] = set()
        self.completing: set[int] = set()
        self.attempts: dict[int, int] = {}
        self.dead: set[int] = set()

    def record(self, line: str) -> None:
        kind, *args = line.split()
        n = int(args[0])
        if kind == "P":
            self.put.add(n)
        elif kind == "S":
            self.completing.add(n)
        elif kind == "C":
            self.completed.add(n)
        elif kind == "F":
            self.attempts[n] = int(args[1])
            self.dead.discard(n)
        elif kind == "D":
            self.dead.add(n)

    def check(self, q: ReportQueue) -> None:
        entries = all_entries(q)
        by_n = {uuid.UUID(k).int: e for k, e in entries.items()}
        assert not self.completed & by_n.keys(), "a completed entry came back"
        missing = self.put - self.completed - self.completing - by_n.keys()
        assert not missing, f"entries lost: {sorted(missing)}"
        for n in self.put - self.completed:
            e = by_n.get(n)
            if e is None:  # killed inside complete(), after the server's "accepted"
                continue
            assert q.read(e) == body(n)
            assert e.attempts >= self.attempts.get(n, 0), "attempts went backwards"
            if n in self.dead:
                assert e.state is EntryState.DEAD
                assert e.dead_reason == "rejected\r\nby test"


def test_sigkill_at_random_moments_loses_nothing(qpath: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    expected = Expected()
    deadline = time.monotonic() + 60
    iterations = 16
    for i in range(iterations):
        assert time.monotonic() < deadline, f"too slow (seed {seed})"
        first_n, child_seed = i * 100_000 + 1, rng.randrange(2**32)
        args = [sys.executable, "-c", CHILD, str(qpath), str(first_n), str(child_seed)]
        with subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None
            assert proc.stderr is not None
            if proc.stdout.readline().strip() != "ready":
                pytest.fail(f"child failed to start: {proc.stderr.read()}")
            for _ in range(rng.randint(1, 120)):
                line = proc.stdout.readline()
                if not line:
                    break
                expected.record(line)
            proc.send_signal(signal.SIGKILL)
            # Not communicate(): it reads the pipe's fd and would miss lines already buffered.
            for line in proc.stdout.read().splitlines():  # printed before the kill
                expected.record(line)
            stderr = proc.stderr.read()
            assert proc.wait(timeout=30) == -signal.SIGKILL, f"child died by itself: {stderr}"
        with ReportQueue.open(qpath) as q:  # the kernel released the dead child's lock
            expected.check(q)
            assert q.stats().corrupt == 0, f"seed {seed}"
            assert q.verify().corrupt == 0, f"seed {seed}"
    assert len(expected.put) >= iterations


def test_lock_of_a_killed_holder_is_released(qpath: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from pywats_station.queue import ReportQueue\n"
        "q = ReportQueue.open(Path(sys.argv[1])); print('ready', flush=True); sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(qpath)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(QueueLocked, match=f"pid {proc.pid}"):
            ReportQueue.open(qpath)
        proc.kill()
        proc.communicate(timeout=30)
    with ReportQueue.open(qpath) as q:
        assert q.stats().depth == 0


def test_sidecar_json_is_readable_by_humans(qpath: Path, filled: list[Entry]) -> None:
    with reopen(qpath) as q:
        q.reject(q.start(filled[0]), reason="400: bad\r\nreport")
    state = msgspec.json.decode(sidecar(qpath, filled[0]).read_bytes())
    assert state["state"] == "dead"
    assert state["dead_reason"] == "400: bad\r\nreport"
    assert state["attempts"] == 1
