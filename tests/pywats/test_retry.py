"""The pure retry and rate-limit policy: ``RetryPolicy``, ``parse_retry_after``, ``RateLimiter``."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywats._retry import (
    RETRY_STATUSES,
    RateLimit,
    RateLimiter,
    Retry,
    RetryPolicy,
    parse_retry_after,
)

# --- RetryPolicy ------------------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay) == (4, 0.5, 30.0)
    assert policy.statuses == frozenset({408, 429, 500, 502, 503, 504}) == RETRY_STATUSES


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"max_attempts": -1}, {"base_delay": -0.1}, {"max_delay": -1.0}],
)
def test_invalid_policy(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 42, 2026])
def test_backoff_is_full_jitter_with_seeded_rng(seed: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    rng = random.Random(seed)
    expected = random.Random(seed)
    for attempt in range(10):
        ceiling = min(30.0, 0.5 * 2**attempt)
        wait = policy.backoff(attempt, rng)
        assert wait == expected.uniform(0, ceiling)
        assert 0.0 <= wait <= ceiling


def test_backoff_bounds_over_many_draws() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(7)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (20, 10.0)]:
        draws = [policy.backoff(attempt, rng) for _ in range(2000)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # Full jitter: the draws spread over the whole range, not just near the ceiling.
        assert min(draws) < 0.05 * ceiling
        assert max(draws) > 0.95 * ceiling


def test_backoff_with_zero_base_is_zero() -> None:
    policy = RetryPolicy(base_delay=0.0)
    assert [policy.backoff(a, random.Random(1)) for a in range(5)] == [0.0] * 5


def test_backoff_without_rng_uses_the_module_random() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=3.0)
    for _ in range(100):
        assert 0.0 <= policy.backoff(5) <= 3.0


@pytest.mark.parametrize("code", sorted(RETRY_STATUSES))
def test_delay_retries_retryable_statuses_of_safe_calls(code: int) -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=1.0)
    expected = random.Random(5)
    rng = random.Random(5)
    assert policy.delay(attempt=0, retry_safe=True, status=code, rng=rng) == expected.uniform(0, 1)
    assert policy.delay(attempt=1, retry_safe=True, status=code, rng=rng) == expected.uniform(0, 2)
    # attempt 2 was the third and last one
    assert policy.delay(attempt=2, retry_safe=True, status=code, rng=rng) is None


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 418, 422, 501, 505])
def test_delay_gives_up_on_other_statuses(code: int) -> None:
    assert RetryPolicy().delay(attempt=0, retry_safe=True, status=code) is None


@pytest.mark.parametrize("code", sorted(RETRY_STATUSES))
def test_delay_never_repeats_an_unsafe_call_after_an_answer(code: int) -> None:
    policy = RetryPolicy()
    assert policy.delay(attempt=0, retry_safe=False, status=code) is None
    assert policy.delay(attempt=0, retry_safe=False, status=code, retry_after=1.0) is None


def test_delay_after_network_errors() -> None:
    policy = RetryPolicy(max_attempts=2, base_delay=0.0)
    assert policy.delay(attempt=0, retry_safe=True, network_error=True) == 0.0
    assert policy.delay(attempt=0, retry_safe=False, network_error=True) is None
    # A failed connect reached no server: safe to repeat whatever the method.
    assert policy.delay(attempt=0, retry_safe=False, network_error=True, connect_error=True) == 0.0
    assert policy.delay(attempt=0, retry_safe=False, connect_error=True) == 0.0
    assert policy.delay(attempt=1, retry_safe=True, network_error=True, connect_error=True) is None
    # Neither an answer nor a network error: nothing to retry.
    assert policy.delay(attempt=0, retry_safe=True) is None


def test_delay_uses_retry_after_up_to_max_delay() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=100.0, max_delay=10.0)
    assert policy.delay(attempt=0, retry_safe=True, status=429, retry_after=2.0) == 2.0
    assert policy.delay(attempt=3, retry_safe=True, status=503, retry_after=10.0) == 10.0
    assert policy.delay(attempt=0, retry_safe=True, status=429, retry_after=0.0) == 0.0
    assert policy.delay(attempt=0, retry_safe=True, status=429, retry_after=10.5) is None
    assert policy.delay(attempt=4, retry_safe=True, status=429, retry_after=1.0) is None
    assert policy.delay(attempt=0, retry_safe=True, status=404, retry_after=1.0) is None


def test_never() -> None:
    policy = RetryPolicy.never()
    assert policy.max_attempts == 1
    assert policy.delay(attempt=0, retry_safe=True, status=503) is None
    assert policy.delay(attempt=0, retry_safe=True, network_error=True, connect_error=True) is None


@given(
    attempt=st.integers(0, 60),
    base=st.floats(0.0, 100.0),
    cap=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**32),
)
def test_backoff_never_exceeds_its_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=base, max_delay=cap)
    wait = policy.delay(attempt=attempt, retry_safe=True, status=503, rng=random.Random(seed))
    assert wait is not None
    assert 0.0 <= wait <= min(cap, base * 2**attempt)


# --- parse_retry_after ------------------------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("2", 2.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("120", 120.0),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: no wait
        ("Wed, 21 Oct 2015 09:28:30 +0200", 90.0),
        ("Wed, 21 Oct 2015 07:29:00 -0000", 120.0),  # -0000: no zone given, read as UTC
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_parse_retry_after_http_date_against_the_real_clock() -> None:
    header = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    wait = parse_retry_after(header)
    assert wait is not None
    assert 28.0 < wait <= 30.0


def test_parse_retry_after_with_a_non_utc_now() -> None:
    now = datetime(2015, 10, 21, 9, 27, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:10 GMT", now=now) == 10.0


# --- RateLimit / RateLimiter ------------------------------------------------------------------


def test_rate_limit_defaults_and_validation() -> None:
    assert (RateLimit().requests, RateLimit().period) == (500, 60.0)
    for bad in [{"requests": 0}, {"period": 0.0}, {"period": -1.0}]:
        with pytest.raises(ValueError, match="RateLimit"):
            RateLimit(**bad)  # type: ignore[arg-type]


def test_reserve_window_arithmetic() -> None:
    limiter = RateLimiter(RateLimit(requests=3, period=10.0))
    assert limiter.reserve(0.0) == 0.0
    assert limiter.reserve(1.0) == 0.0
    assert limiter.reserve(2.0) == 0.0
    # Full: the 4th may go when the 1st (t=0) leaves the window, at t=10.
    assert limiter.reserve(3.0) == 7.0
    # The 5th: when the 2nd (t=1) leaves, at 11; the 6th when the 3rd leaves, at 12.
    assert limiter.reserve(4.0) == 7.0
    assert limiter.reserve(5.0) == 7.0
    # The 7th: when the 4th (booked at 10) leaves, at 20.
    assert limiter.reserve(6.0) == 14.0
    # Long after: the window has emptied.
    assert limiter.reserve(100.0) == 0.0
    assert limiter.reserve(100.0) == 0.0
    assert limiter.reserve(100.0) == 0.0
    assert limiter.reserve(100.0) == 10.0


def test_reserve_slot_frees_exactly_after_period() -> None:
    limiter = RateLimiter(RateLimit(requests=1, period=5.0))
    assert limiter.reserve(0.0) == 0.0
    assert limiter.reserve(4.0) == 1.0  # booked at 5
    assert limiter.reserve(10.0) == 0.0  # the booking at 5 left the window at 10
    assert limiter.reserve(10.0) == 5.0


def test_reserve_keeps_bookings_in_order() -> None:
    limiter = RateLimiter(RateLimit(requests=2, period=10.0))
    assert [limiter.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 10.0, 10.0, 20.0]
    # A caller arriving at t=1 queues behind the booking at t=20.
    assert limiter.reserve(1.0) == 19.0


def _max_in_window(bookings: list[float], period: float) -> int:
    """The most bookings in any half-open window ``[t, t + period)``."""
    ordered = sorted(bookings)
    return max(sum(1 for b in ordered if start <= b < start + period) for start in ordered)


@settings(max_examples=300)
@given(
    requests=st.integers(1, 6),
    period_quarters=st.integers(1, 200),
    gaps=st.lists(st.integers(0, 80), min_size=1, max_size=60),
)
def test_reserve_never_books_more_than_requests_per_period(
    requests: int, period_quarters: int, gaps: list[int]
) -> None:
    # Times are multiples of 1/4 second: exact in binary floating point.
    period = period_quarters / 4
    limiter = RateLimiter(RateLimit(requests=requests, period=period))
    now = 0.0
    bookings: list[float] = []
    for gap in gaps:
        now += gap / 4
        wait = limiter.reserve(now)
        assert wait >= 0.0
        at = now + wait
        if wait > 0:
            # No needless wait: the slot is the end of a full window, or the queue's tail.
            assert at in bookings or (at - period) in bookings
        bookings.append(at)
    assert bookings == sorted(bookings)
    assert _max_in_window(bookings, period) <= requests
    if len(gaps) >= requests and all(g == 0 for g in gaps):
        assert _max_in_window(bookings, period) == requests


@settings(max_examples=200)
@given(
    requests=st.integers(1, 5),
    period=st.floats(0.01, 100.0),
    arrivals=st.lists(st.floats(0.0, 1000.0), min_size=1, max_size=40),
)
def test_reserve_window_property_with_arbitrary_floats(
    requests: int, period: float, arrivals: list[float]
) -> None:
    limiter = RateLimiter(RateLimit(requests=requests, period=period))
    bookings = []
    for now in sorted(arrivals):
        wait = limiter.reserve(now)
        assert wait >= 0.0
        bookings.append(now + wait)
    # Float rounding of `now + wait` may shift a booking by an ulp; allow for it.
    eps = 1e-9 * max(1.0, max(bookings))
    ordered = sorted(bookings)
    for start in ordered:
        assert sum(1 for b in ordered if start <= b < start + period - eps) <= requests


def test_decide_says_why_it_gives_up() -> None:
    policy = RetryPolicy(max_attempts=3, max_delay=30.0)
    rng = random.Random(0)
    assert policy.decide(attempt=0, retry_safe=True, status=503, rng=rng).reason is None
    assert policy.decide(attempt=2, retry_safe=True, status=503) == Retry(
        None, "all that RetryPolicy.max_attempts allows"
    )
    assert policy.decide(attempt=0, retry_safe=True, status=429, retry_after=120.0) == Retry(
        None, "longer than RetryPolicy.max_delay, 30 s: not waited"
    )
    assert policy.decide(attempt=0, retry_safe=True, status=429, retry_after=2.0) == Retry(2.0)
    # Nothing to explain: no retry could help, or retrying is off.
    assert policy.decide(attempt=0, retry_safe=True, status=400) == Retry(None)
    assert policy.decide(attempt=0, retry_safe=False, status=503) == Retry(None)
    assert RetryPolicy.never().decide(attempt=0, retry_safe=True, status=503) == Retry(None)
