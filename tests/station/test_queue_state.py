"""The queue entry's pure state machine: every transition, every refused one, and the backoff."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywats_station.queue import Backoff, Entry, EntryState, InvalidTransition, QueueError
from pywats_station.queue._state import (
    failed,
    is_due,
    recovered,
    rejected,
    retried,
    started,
    succeeded,
)

NOW = 1_700_000_000.0
NO_JITTER = Backoff(jitter=0.0)


def entry(state: EntryState = EntryState.QUEUED, **fields: Any) -> Entry:
    base: dict[str, Any] = {
        "seq": 7,
        "report_id": "0b7a3c1e-2f4d-4e5a-9b6c-7d8e9f0a1b2c",
        "state": state,
        "size": 123,
        "checksum": "sha256:" + "0" * 64,
        "created_at": NOW - 60,
        "source": "spea:board.csv",
    }
    base.update(fields)
    return Entry(**base)


def fail(e: Entry, *, retry_after: float | None = None, backoff: Backoff = NO_JITTER) -> Entry:
    return failed(
        e, now=NOW, error="timeout", retry_after=retry_after, backoff=backoff, rng=random.Random(1)
    )


ALL_STATES = list(EntryState)


# -- transitions that are allowed ---------------------------------------------------------------


@pytest.mark.parametrize("state", [EntryState.QUEUED, EntryState.FAILED])
def test_started_from_queued_or_failed(state: EntryState) -> None:
    e = entry(state, attempts=2, next_attempt_at=NOW - 1)
    s = started(e)
    assert s.state is EntryState.UPLOADING
    assert s.attempts == 2  # starting is not an attempt yet; only its outcome counts
    assert (s.seq, s.report_id, s.checksum) == (e.seq, e.report_id, e.checksum)


def test_succeeded_from_uploading_removes() -> None:
    succeeded(entry(EntryState.UPLOADING))  # no entry comes back: it leaves the queue


def test_failed_counts_the_attempt_and_schedules_the_next() -> None:
    e = fail(entry(EntryState.UPLOADING, attempts=3))
    assert e.state is EntryState.FAILED
    assert e.attempts == 4
    assert e.last_error == "timeout"
    assert e.next_attempt_at == NOW + NO_JITTER.base_delay(4) == NOW + 16.0


def test_rejected_keeps_the_reason_verbatim_and_counts_the_attempt() -> None:
    reason = 'Line 1: bad\r\nLine 2: ünïcode \t and "quotes"\n'
    e = rejected(entry(EntryState.UPLOADING, attempts=1, next_attempt_at=NOW), reason=reason)
    assert e.state is EntryState.DEAD
    assert e.dead_reason == reason
    assert e.attempts == 2
    assert e.next_attempt_at is None


@pytest.mark.parametrize("state", [EntryState.DEAD, EntryState.FAILED])
def test_retried_requeues_and_keeps_the_history(state: EntryState) -> None:
    e = entry(state, attempts=5, next_attempt_at=NOW + 100, last_error="503", dead_reason="nope")
    r = retried(e)
    assert r.state is EntryState.QUEUED
    assert r.attempts == 5  # a manual retry never resets the counter
    assert r.last_error == "503"
    assert r.next_attempt_at is None
    assert r.dead_reason is None
    assert is_due(r, NOW)


def test_recovered_turns_uploading_into_queued() -> None:
    r = recovered(entry(EntryState.UPLOADING, attempts=2))
    assert r.state is EntryState.QUEUED
    assert r.attempts == 2


@pytest.mark.parametrize("state", [EntryState.QUEUED, EntryState.FAILED, EntryState.DEAD])
def test_recovered_leaves_other_states_alone(state: EntryState) -> None:
    e = entry(state, attempts=1, next_attempt_at=NOW + 5)
    assert recovered(e) is e


def test_a_full_life() -> None:
    e = entry()
    e = fail(started(e))
    e = fail(started(e))
    e = rejected(started(e), reason="400 Bad Request")
    e = retried(e)
    assert e.attempts == 3
    succeeded(started(e))


# -- transitions that are refused ---------------------------------------------------------------


@pytest.mark.parametrize("state", [EntryState.UPLOADING, EntryState.DEAD])
def test_started_refused(state: EntryState) -> None:
    with pytest.raises(InvalidTransition, match="cannot start"):
        started(entry(state))


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s is not EntryState.UPLOADING])
def test_succeeded_refused_unless_uploading(state: EntryState) -> None:
    with pytest.raises(InvalidTransition, match="cannot complete"):
        succeeded(entry(state))


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s is not EntryState.UPLOADING])
def test_failed_refused_unless_uploading(state: EntryState) -> None:
    with pytest.raises(InvalidTransition, match="cannot fail"):
        fail(entry(state))


@pytest.mark.parametrize("state", [s for s in ALL_STATES if s is not EntryState.UPLOADING])
def test_rejected_refused_unless_uploading(state: EntryState) -> None:
    with pytest.raises(InvalidTransition, match="cannot reject"):
        rejected(entry(state), reason="x")


@pytest.mark.parametrize("state", [EntryState.QUEUED, EntryState.UPLOADING])
def test_retried_refused(state: EntryState) -> None:
    with pytest.raises(InvalidTransition, match="cannot retry"):
        retried(entry(state))


def test_invalid_transition_is_a_queue_error_naming_the_entry() -> None:
    with pytest.raises(QueueError, match=r"entry 7 .*DEAD"):
        started(entry(EntryState.DEAD))


# -- is_due -------------------------------------------------------------------------------------


def test_is_due() -> None:
    assert is_due(entry(EntryState.QUEUED), NOW)
    assert not is_due(entry(EntryState.UPLOADING), NOW)
    assert not is_due(entry(EntryState.DEAD), NOW)
    failed_entry = entry(EntryState.FAILED, next_attempt_at=NOW + 10)
    assert not is_due(failed_entry, NOW)
    assert not is_due(failed_entry, NOW + 9.999)
    assert is_due(failed_entry, NOW + 10)
    assert is_due(failed_entry, NOW + 11)
    assert is_due(entry(EntryState.FAILED, next_attempt_at=None), NOW)


# -- backoff ------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    b = Backoff(initial=2.0, factor=2.0, max=300.0)
    assert [b.base_delay(n) for n in range(1, 10)] == [2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert b.base_delay(10_000) == 300.0  # no overflow, however old the entry


def test_backoff_delay_grows_with_each_stored_attempt() -> None:
    e = entry()
    delays = []
    for _ in range(6):
        e = fail(started(e))
        assert e.next_attempt_at is not None
        delays.append(e.next_attempt_at - NOW)
    assert delays == [2, 4, 8, 16, 32, 64]
    assert e.attempts == 6


def test_transient_failures_retry_forever_within_the_cap() -> None:
    b = Backoff()
    rng = random.Random(7)
    e = entry()
    for _ in range(500):
        e = failed(started(e), now=NOW, error="503", retry_after=None, backoff=b, rng=rng)
        assert e.state is EntryState.FAILED
        assert e.next_attempt_at is not None
        assert NOW < e.next_attempt_at <= NOW + b.max
    assert e.attempts == 500


@given(attempts=st.integers(1, 2000), seed=st.integers(0, 2**32))
def test_jitter_stays_within_bounds(attempts: int, seed: int) -> None:
    b = Backoff()
    base = b.base_delay(attempts)
    d = b.delay(attempts, random.Random(seed))
    assert base * (1 - b.jitter) <= d <= min(base * (1 + b.jitter), b.max)


def test_jitter_actually_spreads() -> None:
    b = Backoff()
    delays = {b.delay(3, random.Random(seed)) for seed in range(50)}
    assert len(delays) > 40
    assert min(delays) < 8.0 < max(delays)


@pytest.mark.parametrize(
    ("attempts", "retry_after"),
    [(0, 120.0), (20, 5.0), (3, 0.0)],
    ids=["longer-than-backoff", "shorter-than-backoff", "zero"],
)
def test_retry_after_wins_over_the_backoff(attempts: int, retry_after: float) -> None:
    e = fail(
        entry(EntryState.UPLOADING, attempts=attempts), retry_after=retry_after, backoff=Backoff()
    )
    assert e.next_attempt_at == NOW + retry_after
    assert e.attempts == attempts + 1


def test_negative_retry_after_means_now() -> None:
    e = fail(entry(EntryState.UPLOADING), retry_after=-3.0)
    assert e.next_attempt_at == NOW


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1.0}, {"max": -1.0}, {"factor": 0.5}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**kwargs)
