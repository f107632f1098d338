"""Retry and rate-limit policy as pure functions and small value objects, used by both clients.

What is retried (see ``docs/library.md``):

* network failures, timeouts and the answers 408, 429, 500, 502, 503 and 504;
* only for calls that are safe to repeat (GET, PUT, DELETE and the report submit, which is
  idempotent by report id). A POST that is not is never repeated, except after a failure to
  *connect*, when nothing reached the server;
* with exponential backoff and full jitter (``uniform(0, min(cap, base * 2**attempt))``), or exactly
  the server's ``Retry-After`` (seconds or an HTTP date) when it sends one; a ``Retry-After``
  longer than ``max_delay`` is not waited out: the error is raised with ``retry_after`` set, so the
  caller can decide (the station's uploader schedules it).

When the client gives up, the error says why (:meth:`RetryPolicy.decide`): how many attempts were
made, or that the server's ``Retry-After`` was longer than ``max_delay``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

__all__ = ["RateLimit", "RateLimiter", "Retry", "RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Retry(NamedTuple):
    """A decision after a failed attempt: wait ``delay`` seconds and try again, or give up.

    ``reason`` says why a failure worth retrying is given up, for the error's text (``None``
    while retrying, and for a failure no retry could help, such as a 400).
    """

    delay: float | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before sending a failed call again.

    Attributes:
        max_attempts: attempts in all, the first included (1 disables retrying).
        base_delay: the backoff of the first retry before jitter, in seconds.
        max_delay: the longest wait between two attempts, in seconds.
        statuses: answer statuses worth another attempt.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(0, ceiling)

    def delay(
        self,
        *,
        attempt: int,
        retry_safe: bool,
        status: int | None = None,
        network_error: bool = False,
        connect_error: bool = False,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Decide whether to try again after attempt number ``attempt`` (from 0) failed.

        Returns:
            The seconds to wait before the next attempt, or ``None`` to give up.
        """
        return self.decide(
            attempt=attempt,
            retry_safe=retry_safe,
            status=status,
            network_error=network_error,
            connect_error=connect_error,
            retry_after=retry_after,
            rng=rng,
        ).delay

    def decide(
        self,
        *,
        attempt: int,
        retry_safe: bool,
        status: int | None = None,
        network_error: bool = False,
        connect_error: bool = False,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> Retry:
        """Like :meth:`delay`, with the reason for giving up (for the error's message)."""
        if status is not None:
            if status not in self.statuses or not retry_safe:
                return Retry(None)
        elif connect_error:
            pass  # nothing reached the server: safe whatever the method
        elif not (network_error and retry_safe):
            return Retry(None)
        made = attempt + 1
        if made >= self.max_attempts:
            if self.max_attempts == 1:
                return Retry(None)  # retrying is off: nothing was given up
            return Retry(None, "all that RetryPolicy.max_attempts allows")
        if retry_after is not None:
            if retry_after <= self.max_delay:
                return Retry(retry_after)
            return Retry(
                None, f"longer than RetryPolicy.max_delay, {self.max_delay:g} s: not waited"
            )
        return Retry(self.backoff(attempt, rng))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date form)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` requests in any ``period`` seconds (WATS allows 500 per minute)."""

    requests: int = 500
    period: float = 60.0

    def __post_init__(self) -> None:
        if self.requests < 1 or self.period <= 0:
            raise ValueError("RateLimit needs requests >= 1 and period > 0")


class RateLimiter:
    """A sliding-window limiter that hands out send times instead of sleeping itself.

    :meth:`reserve` books the next free slot and returns how long to wait for it, so both the
    blocking and the async client sleep with their own means. Booking is a plain method call with
    no await inside, hence atomic for one event loop; the sync client guards it with a lock.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._sent: deque[float] = deque()

    def reserve(self, now: float) -> float:
        """Book a send slot at or after ``now`` (monotonic seconds); return the wait until it."""
        window = self.limit.period
        sent = self._sent
        while sent and sent[0] <= now - window:
            sent.popleft()
        # Full window: the slot frees up when the booking `requests` places back leaves it.
        at = now if len(sent) < self.limit.requests else sent[-self.limit.requests] + window
        if sent and sent[-1] > at:
            at = sent[-1]  # keep bookings in order, so the window arithmetic above holds
        sent.append(at)
        return max(0.0, at - now)
