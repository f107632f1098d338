"""Schedules of scheduled converters: ``every 5m`` intervals and five-field cron expressions.

Accepted forms (see :func:`parse_schedule`):

* ``every <n><unit>`` with units ``s``, ``m``, ``h``, ``d`` (also ``sec``, ``min``, ``hour``,
  ``day`` and plurals); parts may be combined (``every 1h30m``) and ``n`` may be a decimal
  (``every 1.5h``). The next run is the interval after the previous one.
* ``minute hour day-of-month month day-of-week`` cron, each field ``*``, a number, a range
  ``a-b``, a step ``*/n`` or ``a-b/n`` or ``a/n``, or a comma-separated list of those. Months
  and week days may be named (``jan`` to ``dec``, ``sun`` to ``sat``, any case); Sunday is 0 or 7.
  As in classic cron, when both day fields are restricted a day matches if *either* matches.
  ``@hourly``, ``@daily``/``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``/``@annually``
  are shorthands.

Cron is evaluated in the wall-clock time of the datetime given to ``next_after`` (its own time
zone; a naive datetime stays naive). No dependency: the whole thing is small enough to own.
"""

from __future__ import annotations

import abc
import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["CronSchedule", "IntervalSchedule", "Schedule", "parse_schedule"]


class Schedule(abc.ABC):
    """When a scheduled converter runs."""

    @abc.abstractmethod
    def next_after(self, dt: datetime) -> datetime:
        """The first run time strictly after ``dt`` (same time zone as ``dt``)."""


@dataclass(frozen=True)
class IntervalSchedule(Schedule):
    """Runs every ``seconds`` seconds."""

    seconds: float

    def next_after(self, dt: datetime) -> datetime:
        """``dt`` plus the interval."""
        return dt + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return f"every {self.seconds:g}s"


_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
# (name, low, high, names) of the five cron fields.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_SEARCH_YEARS = 9  # Feb 29 on a given week day can be 8 years away (e.g. across 2100).


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """A five-field cron expression, parsed into the sets of values each field allows."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool

    def _day_ok(self, dt: datetime) -> bool:
        weekday = (dt.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
        in_days, in_weekdays = dt.day in self.days, weekday in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays  # classic cron: either day field may match
        return in_days and in_weekdays

    def next_after(self, dt: datetime) -> datetime:
        """The first minute strictly after ``dt`` that the expression matches."""
        t = dt.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = dt.year + _SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_ok(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise ValueError(f"cron {self.text!r} matches no time in {_SEARCH_YEARS} years")

    def __str__(self) -> str:
        return self.text


def parse_schedule(text: str) -> Schedule:
    """Parse ``every 5m`` or a cron expression (see the module docstring).

    Raises:
        ValueError: the text is neither; the message says which part is wrong.
    """
    stripped = " ".join(text.split())
    lowered = stripped.lower()
    if lowered.startswith("every"):
        return _parse_interval(stripped, lowered[len("every") :])
    if lowered in _MACROS:
        return _parse_cron(_MACROS[lowered], stripped)
    return _parse_cron(stripped, stripped)


def _parse_interval(text: str, rest: str) -> IntervalSchedule:
    if not rest.strip():
        raise ValueError(f"schedule {text!r}: 'every' needs an interval such as 30s, 5m, 2h, 1d")
    seconds = 0.0
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(
                f"schedule {text!r}: {rest[pos:].strip()!r} is not an interval "
                "(use a number and a unit: s, m, h or d, e.g. 'every 15m')"
            )
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if seconds <= 0:
        raise ValueError(f"schedule {text!r}: the interval must be longer than 0 s")
    return IntervalSchedule(seconds)


def _parse_cron(expr: str, original: str) -> CronSchedule:
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"schedule {original!r}: a cron expression has 5 fields (minute hour day-of-month "
            f"month day-of-week), got {len(fields)}; or use 'every 5m'"
        )
    sets = [_parse_field(f, *spec, original) for f, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    schedule = CronSchedule(
        text=original,
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=weekdays,
        days_restricted=not fields[2].startswith("*"),
        weekdays_restricted=not fields[4].startswith("*"),
    )
    # Refuse a date that never exists (31 April, 30 February) now rather than at run time.
    if not schedule.weekdays_restricted and not any(
        day <= _longest_month(month) for month in schedule.months for day in schedule.days
    ):
        raise ValueError(f"schedule {original!r}: no month in it has such a day")
    return schedule


def _longest_month(month: int) -> int:
    return calendar.monthrange(2000, month)[1]  # 2000 is a leap year: February has 29 days


def _parse_field(
    text: str, what: str, low: int, high: int, names: dict[str, int], original: str
) -> frozenset[int]:
    def number(token: str) -> int:
        value = names.get(token.lower())
        if value is None:
            if not token.isdigit():
                raise ValueError(f"schedule {original!r}: {what} {token!r} is not a number")
            value = int(token)
        if not low <= value <= high:
            raise ValueError(
                f"schedule {original!r}: {what} {value} is out of range ({low}-{high})"
            )
        return value

    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"schedule {original!r}: {what} step {step_text!r} is invalid")
            step = int(step_text)
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, stop = number(first), number(last)
            if start > stop:
                raise ValueError(f"schedule {original!r}: {what} range {base!r} is backwards")
        elif base:
            start = number(base)
            stop = high if step_text else start  # "5/15" means 5, 20, 35, 50
        else:
            raise ValueError(f"schedule {original!r}: empty {what} in {text!r}")
        values.update(range(start, stop + 1, step))
    return frozenset(values)
