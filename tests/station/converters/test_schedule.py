"""Schedules: ``every …`` intervals and five-field cron expressions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pywats_station.converters.schedule import CronSchedule, IntervalSchedule, parse_schedule

T0 = datetime(2024, 3, 1, 10, 17, 42, 123456)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("every 30s", 30),
        ("every 5m", 300),
        ("every 2h", 7200),
        ("every 1d", 86400),
        ("Every 1h30m", 5400),
        ("every 1.5h", 5400),
        ("every 90 seconds", 90),
        ("every  10 min", 600),
    ],
)
def test_intervals(text: str, seconds: float) -> None:
    schedule = parse_schedule(text)
    assert schedule == IntervalSchedule(seconds)
    assert schedule.next_after(T0) == T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("every", "needs an interval"),
        ("every 5", "is not an interval"),
        ("every 5 fortnights", "'5 fortnights' is not an interval"),
        ("every 0s", "longer than 0 s"),
        ("every -5m", "is not an interval"),
    ],
)
def test_bad_intervals(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_schedule(text)


def nxt(expr: str, after: datetime) -> datetime:
    return parse_schedule(expr).next_after(after)


def test_every_five_minutes_is_strictly_after() -> None:
    assert nxt("*/5 * * * *", T0) == datetime(2024, 3, 1, 10, 20)
    on_the_dot = datetime(2024, 3, 1, 10, 20)
    assert nxt("*/5 * * * *", on_the_dot) == datetime(2024, 3, 1, 10, 25)
    assert nxt("* * * * *", on_the_dot) == datetime(2024, 3, 1, 10, 21)


def test_lists_ranges_and_steps() -> None:
    expr = "0,30 8-17/3 * * *"  # 8, 11, 14, 17 o'clock, on the hour and half hour
    assert nxt(expr, T0) == datetime(2024, 3, 1, 11, 0)
    assert nxt(expr, datetime(2024, 3, 1, 11, 0)) == datetime(2024, 3, 1, 11, 30)
    assert nxt(expr, datetime(2024, 3, 1, 17, 30)) == datetime(2024, 3, 2, 8, 0)
    assert nxt("5/20 * * * *", T0) == datetime(2024, 3, 1, 10, 25)  # 5, 25, 45


def test_next_after_crosses_month_and_year() -> None:
    assert nxt("0 0 1 * *", T0) == datetime(2024, 4, 1)
    assert nxt("30 23 31 * *", datetime(2024, 4, 1)) == datetime(2024, 5, 31, 23, 30)
    assert nxt("0 6 * * *", datetime(2024, 12, 31, 7, 0)) == datetime(2025, 1, 1, 6, 0)
    assert nxt("@yearly", datetime(2024, 6, 1)) == datetime(2025, 1, 1)
    assert nxt("59 23 31 12 *", datetime(2024, 12, 31, 23, 59)) == datetime(2025, 12, 31, 23, 59)


def test_leap_day() -> None:
    assert nxt("0 12 29 2 *", datetime(2024, 3, 1)) == datetime(2028, 2, 29, 12, 0)
    assert nxt("0 12 29 feb *", datetime(2023, 1, 1)) == datetime(2024, 2, 29, 12, 0)


def test_week_days_by_number_and_name() -> None:
    # 2024-03-01 is a Friday.
    assert nxt("0 9 * * 1", T0) == datetime(2024, 3, 4, 9, 0)  # Monday
    assert nxt("0 9 * * MON-FRI", datetime(2024, 3, 1, 9, 0)) == datetime(2024, 3, 4, 9, 0)
    assert nxt("0 9 * * 0", T0) == datetime(2024, 3, 3, 9, 0)  # Sunday as 0 …
    assert nxt("0 9 * * 7", T0) == datetime(2024, 3, 3, 9, 0)  # … and as 7
    assert nxt("0 9 * * sun", T0) == datetime(2024, 3, 3, 9, 0)


def test_month_names() -> None:
    assert nxt("0 0 1 jan,Jul *", T0) == datetime(2024, 7, 1)
    assert nxt("0 0 1 jun-aug *", datetime(2024, 8, 2)) == datetime(2025, 6, 1)


def test_both_day_fields_restricted_match_either() -> None:
    # Classic cron: the 15th OR any Monday.
    assert nxt("0 0 15 * 1", T0) == datetime(2024, 3, 4)
    assert nxt("0 0 15 * 1", datetime(2024, 3, 12)) == datetime(2024, 3, 15)
    # One day field "*": only the other decides.
    assert nxt("0 0 15 * *", T0) == datetime(2024, 3, 15)
    assert nxt("0 0 * * 1", datetime(2024, 3, 12)) == datetime(2024, 3, 18)


def test_macros() -> None:
    assert nxt("@hourly", T0) == datetime(2024, 3, 1, 11, 0)
    assert nxt("@daily", T0) == datetime(2024, 3, 2)
    assert nxt("@weekly", T0) == datetime(2024, 3, 3)
    assert nxt("@monthly", T0) == datetime(2024, 4, 1)


def test_time_zone_is_kept() -> None:
    tz = timezone(timedelta(hours=2))
    after = datetime(2024, 3, 1, 23, 59, 30, tzinfo=tz)
    result = nxt("0 0 * * *", after)
    assert result == datetime(2024, 3, 2, tzinfo=tz)
    assert result.tzinfo is tz
    assert nxt("0 0 * * *", after.astimezone(UTC)) == datetime(2024, 3, 2, tzinfo=UTC)


def test_cron_text_is_kept() -> None:
    schedule = parse_schedule("*/15 6-22 * * 1-5")
    assert isinstance(schedule, CronSchedule)
    assert str(schedule) == "*/15 6-22 * * 1-5"
    assert schedule.hours == frozenset(range(6, 23))
    assert schedule.weekdays == frozenset(range(1, 6))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("* * * *", "has 5 fields .* got 4"),
        ("* * * * * *", "got 6"),
        ("60 * * * *", "minute 60 is out of range"),
        ("* 24 * * *", "hour 24 is out of range"),
        ("* * 0 * *", "day of month 0 is out of range"),
        ("* * * 13 *", "month 13 is out of range"),
        ("* * * * 8", "day of week 8 is out of range"),
        ("* * * foo *", "month 'foo' is not a number"),
        ("10-5 * * * *", "range '10-5' is backwards"),
        ("*/0 * * * *", "step '0' is invalid"),
        ("1,,2 * * * *", "empty minute"),
        ("0 0 30 2 *", "no month in it has such a day"),
        ("0 0 31 4,6 *", "no month in it has such a day"),
        ("hourly", "got 1"),
    ],
)
def test_bad_cron(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_schedule(text)


def test_impossible_day_with_a_week_day_still_runs() -> None:
    # Feb 30 never comes, but "or a Monday in February" does.
    assert nxt("0 0 30 2 1", T0) == datetime(2025, 2, 3)
