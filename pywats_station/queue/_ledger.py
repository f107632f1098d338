"""What the queue knows in memory: counters, and the few entries whose state is not on their name.

The ledger is the queue's bookkeeping, kept in step with the folder by ``_store.ReportQueue``
(which does the I/O first and records it here after). It never holds an object per entry: only
the entries that have a sidecar (FAILED, DEAD, retried by hand) and those being uploaded. Any
other entry is a payload without sidecar, which means QUEUED and never attempted.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator

import msgspec

from ._format import BUCKET_SIZE
from ._state import Entry, EntryState, is_due

__all__ = ["Ledger", "QueueStats", "by_seq"]


class QueueStats(msgspec.Struct, frozen=True):
    """The queue at a glance, for the control channel and the TUI.

    Attributes:
        depth: entries still to deliver: queued, failed and uploading (dead ones are not).
        queued: waiting for an upload worker.
        failed: waiting for their next attempt after a transient failure.
        uploading: being sent right now.
        dead: rejected by the server, waiting for a human.
        corrupt: entries moved to ``corrupt/`` (until a human cleans that folder).
        bytes: size of all payload files, dead ones included; what ``max_bytes`` bounds.
        max_bytes: the bound.
        oldest_created_at: when the oldest entry still to deliver was queued.
        next_attempt_at: the earliest time a FAILED entry becomes due.
    """

    depth: int
    queued: int
    failed: int
    uploading: int
    dead: int
    corrupt: int
    bytes: int
    max_bytes: int
    oldest_created_at: float | None
    next_attempt_at: float | None


class Ledger:
    """Counters and the in-memory entries of one queue; not thread-safe (the queue locks).

    Attributes:
        next_seq: the seq of the next ``put``.
        bytes: the sum of payload file sizes.
        corrupt: entries moved to ``corrupt/``.
        counts: entries per current state (UPLOADING included).
        floor: every payload without a sidecar has ``seq >= floor``; lets the search for the
            oldest due entry pass over a head of dead letters once, not on every call.
        per_bucket: payloads per bucket (one int per 1,000 seqs), so that an emptied bucket is
            removed without asking the file system after every upload.
    """

    def __init__(
        self,
        *,
        next_seq: int,
        size: int,
        counts: dict[EntryState, int],
        held: dict[int, Entry],
        per_bucket: dict[int, int] | None = None,
    ) -> None:
        self.next_seq = next_seq
        self.bytes = size
        self.corrupt = 0
        self.counts = counts
        self.floor = 0
        self.per_bucket = per_bucket if per_bucket is not None else {}
        # Entries that have a sidecar, in their persisted state.
        self._held = held
        # seq -> (entry before start, entry while uploading); never persisted.
        self._uploading: dict[int, tuple[Entry, Entry]] = {}
        # seq -> payload file size of entries being uploaded, when the claim read it: the
        # upload's removal then needs no stat.
        self._sizes: dict[int, int] = {}

    # -- looking up ---------------------------------------------------------------------------

    def known(self, seq: int) -> Entry | None:
        """The entry's current state if memory has it (uploading, or it has a sidecar)."""
        up = self._uploading.get(seq)
        if up is not None:
            return up[1]
        return self._held.get(seq)

    def is_uploading(self, seq: int) -> bool:
        """Whether the entry has been started and has no verdict yet."""
        return seq in self._uploading

    def has_sidecar(self, seq: int) -> bool:
        """Whether the entry has a sidecar (and so is not simply QUEUED by its name)."""
        return seq in self._held

    def entries(self) -> Iterator[Entry]:
        """Every entry memory has, in its current state (UPLOADING over the persisted one)."""
        for seq, e in self._held.items():
            if seq not in self._uploading:
                yield e
        for _, current in self._uploading.values():
            yield current

    def busy(self, exclude: Collection[int]) -> set[int]:
        """``exclude`` plus the seqs being uploaded."""
        return set(exclude) | self._uploading.keys()

    def due(self, now: float, busy: set[int], limit: int) -> list[Entry]:
        """The oldest ``limit`` entries with a sidecar that are due at ``now``, FIFO order."""
        candidates = (e for e in self._held.values() if e.seq not in busy and is_due(e, now))
        return heapq.nsmallest(limit, candidates, key=by_seq)

    def next_wakeup(self) -> float | None:
        """The earliest ``next_attempt_at`` among FAILED entries."""
        times = [
            e.next_attempt_at
            for e in self.entries()
            if e.state is EntryState.FAILED and e.next_attempt_at is not None
        ]
        return min(times, default=None)

    def oldest_held(self) -> tuple[int, float] | None:
        """``(seq, created_at)`` of the oldest entry with a sidecar still to deliver."""
        live = (
            (e.seq, e.created_at) for e in self._held.values() if e.state is not EntryState.DEAD
        )
        return min(live, default=None)

    def file_size(self, seq: int) -> int | None:
        """The payload file size of an entry being uploaded, if its claim recorded it."""
        return self._sizes.get(seq)

    def depth(self) -> int:
        """Entries still to deliver (queued, failed, uploading)."""
        c = self.counts
        return c[EntryState.QUEUED] + c[EntryState.FAILED] + c[EntryState.UPLOADING]

    def stats(self, max_bytes: int, oldest_created_at: float | None) -> QueueStats:
        """The counters as a ``QueueStats``."""
        c = self.counts
        return QueueStats(
            depth=self.depth(),
            queued=c[EntryState.QUEUED],
            failed=c[EntryState.FAILED],
            uploading=c[EntryState.UPLOADING],
            dead=c[EntryState.DEAD],
            corrupt=self.corrupt,
            bytes=self.bytes,
            max_bytes=max_bytes,
            oldest_created_at=oldest_created_at,
            next_attempt_at=self.next_wakeup(),
        )

    # -- recording changes (after the folder has them) ----------------------------------------

    def added(self, seq: int, file_size: int) -> None:
        """A ``put`` wrote a payload."""
        self.bytes += file_size
        self.counts[EntryState.QUEUED] += 1
        bucket = seq // BUCKET_SIZE
        self.per_bucket[bucket] = self.per_bucket.get(bucket, 0) + 1

    def started(self, before: Entry, now_uploading: Entry, file_size: int | None = None) -> None:
        """An entry is being uploaded (not persisted); ``file_size`` if the claim read it."""
        self._uploading[before.seq] = (before, now_uploading)
        if file_size is not None:
            self._sizes[before.seq] = file_size
        self._move(before.state, EntryState.UPLOADING)

    def abandoned(self, seq: int) -> None:
        """An upload ended without a verdict: back to the state before it started."""
        up = self._uploading.pop(seq, None)
        self._sizes.pop(seq, None)
        if up is not None:
            self._move(EntryState.UPLOADING, up[0].state)

    def changed(self, new: Entry) -> None:
        """An entry's sidecar was written (a verdict on an upload, or a human's retry)."""
        self._sizes.pop(new.seq, None)
        if self._uploading.pop(new.seq, None) is not None:
            old_state = EntryState.UPLOADING
        else:
            old = self._held.get(new.seq)
            old_state = old.state if old else EntryState.QUEUED
        self._move(old_state, new.state)
        self._held[new.seq] = new

    def sidecar_lost(self, seq: int) -> None:
        """A corrupt sidecar was moved aside: the entry is a plain QUEUED payload again."""
        old = self._held.pop(seq, None)
        if old is not None and seq not in self._uploading:
            self._move(old.state, EntryState.QUEUED)
        self.floor = min(self.floor, seq)

    def removed(self, seq: int, file_size: int) -> bool:
        """An entry's payload was deleted (completed, purged) or moved aside (corrupt).

        Returns:
            Whether its bucket holds no payload any more, as far as the queue knows.
        """
        self._sizes.pop(seq, None)
        up = self._uploading.pop(seq, None)
        held = self._held.pop(seq, None)
        if up is not None:
            state = EntryState.UPLOADING
        elif held is not None:
            state = held.state
        else:
            state = EntryState.QUEUED
        self.counts[state] -= 1
        self.bytes -= file_size
        bucket = seq // BUCKET_SIZE
        left = self.per_bucket.get(bucket, 0) - 1
        if left > 0:
            self.per_bucket[bucket] = left
            return False
        # Zero, or below after files were removed by hand: the caller's rmdir will tell.
        self.per_bucket.pop(bucket, None)
        return True

    def _move(self, old: EntryState, new: EntryState) -> None:
        self.counts[old] -= 1
        self.counts[new] += 1


def by_seq(e: Entry) -> int:
    """Sort key: FIFO order."""
    return e.seq
