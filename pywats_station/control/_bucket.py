"""A token bucket: the one rate-limit primitive of the control channel.

Used for each connection's request rate and for the failed logins of each client address.
Time is passed in (``trio.current_time()``), so tests drive it with ``autojump_clock``.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """A token bucket: ``burst`` tokens at most, refilled at ``burst / period`` per second.

    Args:
        burst: Capacity: how many takes may happen at once.
        period: Seconds to refill an empty bucket.
        now: The current time (``trio.current_time()``).

    Raises:
        ValueError: ``burst`` below 1 or ``period`` not positive.
    """

    def __init__(self, burst: int, period: float, *, now: float) -> None:
        if burst < 1 or period <= 0:
            raise ValueError(f"rate limit needs burst >= 1 and period > 0, got {burst}/{period}")
        self.capacity = float(burst)
        self.per_second = burst / period
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.per_second)
        self._stamp = now

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def available(self, now: float) -> bool:
        """Whether a take would succeed now (takes nothing)."""
        self._refill(now)
        return self._tokens >= 1.0

    def full(self, now: float) -> bool:
        """Whether the bucket is back to its capacity."""
        self._refill(now)
        return self._tokens >= self.capacity

    def retry_after(self, now: float) -> float:
        """Seconds until one token is available."""
        self._refill(now)
        return max(0.0, (1.0 - self._tokens) / self.per_second)
