"""The life of one queue entry as a pure state machine: values in, values out, no I/O.

=============  ==========================  =============================================
function       transition                  when
=============  ==========================  =============================================
``started``    QUEUED, FAILED → UPLOADING  an upload worker takes it (FAILED once due)
``succeeded``  UPLOADING → removed         the server accepted it
``failed``     UPLOADING → FAILED          transient failure: network, 408, 429, 5xx
``rejected``   UPLOADING → DEAD            permanent rejection: any other 4xx
``retried``    FAILED, DEAD → QUEUED       a human asks for it
``recovered``  UPLOADING → QUEUED          start-up after a crash
=============  ==========================  =============================================

Transient failures (network, 408, 429, 5xx) retry forever with capped exponential backoff and
jitter, or exactly after the server's ``Retry-After``; permanent rejections (other 4xx) are dead
letters that only a human sends again. ``attempts`` only ever grows: the predecessor reset it on
every failure, so its backoff never grew.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

import msgspec

from ._errors import InvalidTransition
from ._unit import Unit

__all__ = [
    "Backoff",
    "Entry",
    "EntryState",
    "failed",
    "is_due",
    "recovered",
    "rejected",
    "retried",
    "started",
    "succeeded",
]


class EntryState(enum.StrEnum):
    """Where an entry is in its life."""

    QUEUED = "queued"
    """Waiting for its first (or a manually requested) upload."""
    UPLOADING = "uploading"
    """Being sent now; held in memory only, a crash turns it back into QUEUED."""
    FAILED = "failed"
    """A transient failure; sent again once ``next_attempt_at`` has passed."""
    DEAD = "dead"
    """Rejected by the server (dead letter); waits for a human to retry or purge it."""


class Entry(msgspec.Struct, frozen=True):
    """One report in the queue, as the queue's callers see it.

    Attributes:
        seq: position in the queue; lower numbers are older (FIFO order).
        report_id: the report's id (a GUID string); the server overwrites a report posted twice
            with the same id, which makes re-sending safe.
        state: see ``EntryState``.
        size: length of the WSJF bytes.
        checksum: ``"sha256:<hex>"`` of the WSJF bytes.
        created_at: when it was queued (seconds since the epoch).
        attempts: upload attempts that ended in a failure or rejection; never reset.
        next_attempt_at: when a FAILED entry is due again (seconds since the epoch).
        last_error: the last transient failure, for humans.
        source: where the report came from (converter and file name), for humans.
        dead_reason: the server's rejection message, verbatim.
        unit: which unit the report is about, recorded when it was queued; ``None`` for an
            entry queued without one (by a version before it, or by a caller that gave none).
    """

    seq: int
    report_id: str
    state: EntryState
    size: int
    checksum: str
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    last_error: str | None = None
    source: str | None = None
    dead_reason: str | None = None
    unit: Unit | None = None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter for transient upload failures.

    Attributes:
        initial: the delay after the first failure, in seconds (before jitter).
        factor: growth per further failure.
        max: the longest delay, in seconds; jitter never exceeds it.
        jitter: relative spread, ``0.2`` = ±20 %, so that stations that failed together (the
            server went down) do not all come back at the same instant.
    """

    initial: float = 2.0
    factor: float = 2.0
    max: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial < 0 or self.max < 0:
            raise ValueError("Backoff delays must not be negative")
        if self.factor < 1:
            raise ValueError("Backoff.factor must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("Backoff.jitter must be in [0, 1)")

    def base_delay(self, attempts: int) -> float:
        """The delay after ``attempts`` failures (counting from 1), before jitter, capped."""
        exponent = max(attempts - 1, 0)
        try:
            raw = self.initial * self.factor**exponent
        except OverflowError:  # a very old entry; the cap applies long before this
            return self.max
        return min(raw, self.max)

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The jittered delay after ``attempts`` failures, never above ``max``."""
        base = self.base_delay(attempts)
        return min(base * rng.uniform(1 - self.jitter, 1 + self.jitter), self.max)


def _require(e: Entry, action: str, *allowed: EntryState) -> None:
    if e.state not in allowed:
        names = "/".join(s.name for s in allowed)
        raise InvalidTransition(
            f"cannot {action} entry {e.seq} ({e.report_id}): it is {e.state.name}, not {names}"
        )


def started(e: Entry) -> Entry:
    """QUEUED or FAILED → UPLOADING.

    Whether a FAILED entry is due is the caller's business (``is_due``): a human may ask for an
    early attempt.

    Raises:
        InvalidTransition: the entry is already uploading or dead.
    """
    _require(e, "start", EntryState.QUEUED, EntryState.FAILED)
    return msgspec.structs.replace(e, state=EntryState.UPLOADING)


def succeeded(e: Entry) -> None:
    """UPLOADING → removed: the server accepted the report (or already had it).

    Raises:
        InvalidTransition: the entry is not uploading.
    """
    _require(e, "complete", EntryState.UPLOADING)


def failed(
    e: Entry,
    *,
    now: float,
    error: str,
    retry_after: float | None,
    backoff: Backoff,
    rng: random.Random,
) -> Entry:
    """UPLOADING → FAILED after a transient failure; it will be retried, forever.

    Args:
        e: the entry being uploaded.
        now: the current time (seconds since the epoch).
        error: what went wrong, for humans.
        retry_after: the server's ``Retry-After`` in seconds, if it sent one. It wins over the
            computed backoff, in both directions: the server knows when it will take reports
            again, and sending earlier would only earn another 429. This matches the library's
            own retry policy (``pywats._retry``).
        backoff: the policy for failures without ``Retry-After``.
        rng: source of the jitter (seeded in tests).

    Raises:
        InvalidTransition: the entry is not uploading.
    """
    _require(e, "fail", EntryState.UPLOADING)
    attempts = e.attempts + 1
    delay = max(retry_after, 0.0) if retry_after is not None else backoff.delay(attempts, rng)
    return msgspec.structs.replace(
        e,
        state=EntryState.FAILED,
        attempts=attempts,
        next_attempt_at=now + delay,
        last_error=error,
    )


def rejected(e: Entry, *, reason: str) -> Entry:
    """UPLOADING → DEAD: the server refused the report for good; ``reason`` is kept verbatim.

    The rejection counts as an attempt, so that ``attempts`` tells how often it was sent.

    Raises:
        InvalidTransition: the entry is not uploading.
    """
    _require(e, "reject", EntryState.UPLOADING)
    return msgspec.structs.replace(
        e,
        state=EntryState.DEAD,
        attempts=e.attempts + 1,
        next_attempt_at=None,
        dead_reason=reason,
    )


def retried(e: Entry) -> Entry:
    """DEAD or FAILED → QUEUED, by hand: due at once; ``attempts`` and the last error are kept.

    Raises:
        InvalidTransition: the entry is queued or uploading already.
    """
    _require(e, "retry", EntryState.DEAD, EntryState.FAILED)
    return msgspec.structs.replace(
        e, state=EntryState.QUEUED, next_attempt_at=None, dead_reason=None
    )


def recovered(e: Entry) -> Entry:
    """At start-up: UPLOADING → QUEUED; any other state is returned unchanged.

    UPLOADING is never written to disk, so this only guards against a state file written by a
    future or buggy version. Sending again is safe: the server overwrites by report id.
    """
    if e.state is EntryState.UPLOADING:
        return msgspec.structs.replace(e, state=EntryState.QUEUED, next_attempt_at=None)
    return e


def is_due(e: Entry, now: float) -> bool:
    """Whether the entry may be uploaded at ``now``: QUEUED, or FAILED and its time has come."""
    if e.state is EntryState.QUEUED:
        return True
    if e.state is EntryState.FAILED:
        return e.next_attempt_at is None or e.next_attempt_at <= now
    return False
