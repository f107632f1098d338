"""The filter every ``api.analytics`` operation takes: WATS's ``PublicWatsFilter``.

One Struct for every statistic (yield, volume, top failed, OEE, measurements, step analysis,
report lists). Which members an operation reads is in that operation's description ("Supported
filters: …"); the others are ignored by the server.

Text members take the WATS wildcards: ``%`` matches any text, ``_`` one character, and ``;``
separates alternatives (``partNumber="PCBA-1%;PSU-2"``).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import msgspec

from pywats._errors import InvalidArgumentError
from pywats.models._base import Dto

__all__ = ["INT32_MAX", "STATUS_WORDS", "DateGrouping", "Run", "WATSFilter", "check_filter"]

STATUS_WORDS = ("Passed", "Failed", "Error", "Terminated", "Done", "Skipped")
"""The words ``status`` takes (full words, as report headers show them)."""

_WILDCARDS = ("%", "_")

INT32_MAX = 2**31 - 1
"""The largest number the server's integer members hold."""


class DateGrouping(enum.IntEnum):
    """``dateGrouping``: the length of one period.

    The description lists only the numbers (-1 and 0 to 5). Their names are read from the
    server's own default filter, which pairs ``dateGrouping: 1`` with ``periodCount: 30`` for
    "the last 30 days" (so 1 is a day), in the order WATS's reports offer period grouping (hour,
    day, week, month, quarter, year). A script that needs certainty can send the number.
    """

    NONE = -1
    HOUR = 0
    DAY = 1
    WEEK = 2
    MONTH = 3
    QUARTER = 4
    YEAR = 5


class Run(enum.IntEnum):
    """``run``: which run of each unit a step or measurement statistic reads.

    The values are the ones the description gives for ``TestStepAnalysis`` ("1 = first,
    2 = second, 3 = third, -1 = last run, -2 = All").
    """

    FIRST = 1
    SECOND = 2
    THIRD = 3
    LAST = -1
    ALL = -2


class WATSFilter(Dto):
    """Which reports a statistic reads, and how its rows are grouped (``PublicWatsFilter``).

    Every member is optional; ``None`` members are not sent. Python names are the description's
    member names in snake case; ``yield_`` is sent as ``yield``.

    Attributes:
        serial_number, part_number, revision, batch_number, station_name: report header
            values (wildcards allowed).
        test_operation: the test operation (process) name.
        status: report status as a full word (``Passed``, ``Failed``, ``Error``,
            ``Terminated``, ``Done``, ``Skipped``; several with ``;``).
        yield_: a yield threshold in percent, 0 to 100.
        misc_description, misc_value: a misc info's description and value.
        product_group, level: product group and level (station group) names.
        sw_filename, sw_version: the test software (root sequence file and version).
        socket: the test socket index.
        date_from, date_to: the time window (reports' start); the server's default is the
            last 30 days.
        date_grouping: the length of a period (:class:`DateGrouping`).
        period_count: how many periods back from now, when no dates are given.
        include_current_period: whether the current, unfinished period counts as one.
        max_count, min_count, top_count: limits; what each bounds depends on the operation.
        dimensions: how rows are grouped and ordered (dynamic yield and repair): dimension and
            KPI names separated by ``;``, each optionally followed by ``asc`` or ``desc``.
        run: which run of each unit step statistics read (:class:`Run`); not a member of the
            described schema, but documented by the description of ``TestStepAnalysis``.
    """

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    batch_number: str | None = None
    station_name: str | None = None
    test_operation: str | None = None
    status: str | None = None
    yield_: int | None = msgspec.field(default=None, name="yield")
    misc_description: str | None = None
    misc_value: str | None = None
    product_group: str | None = None
    level: str | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    socket: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    date_grouping: DateGrouping | None = None
    period_count: int | None = None
    include_current_period: bool | None = None
    max_count: int | None = None
    min_count: int | None = None
    top_count: int | None = None
    dimensions: str | None = None
    run: Run | None = None

    def problems(self) -> list[str]:
        """What is wrong with the values (not their types), each naming its wire member.

        Empty for a filter the server can use. The emulator answers the same problems with 400.
        """
        out: list[str] = []
        if self.yield_ is not None and not 0 <= self.yield_ <= 100:
            out.append(f"yield: must be a percentage from 0 to 100, not {self.yield_}.")
        for name, value, least in (
            ("periodCount", self.period_count, 1),
            ("topCount", self.top_count, 1),
            ("minCount", self.min_count, 0),
            ("maxCount", self.max_count, 0),
        ):
            if value is not None and value < least:
                out.append(f"{name}: must be at least {least}, not {value}.")
            elif value is not None and value > INT32_MAX:
                out.append(f"{name}: {value} does not fit in a 32-bit integer.")
        if (
            self.min_count is not None
            and self.max_count is not None
            and self.min_count > self.max_count
        ):
            out.append(f"minCount: {self.min_count} is more than maxCount ({self.max_count}).")
        if (
            self.date_from is not None
            and self.date_to is not None
            and _comparable(self.date_from) > _comparable(self.date_to)
        ):
            out.append(
                f"dateFrom: {self.date_from.isoformat()} is after dateTo "
                f"({self.date_to.isoformat()})."
            )
        if self.status is not None:
            words = {w.casefold() for w in STATUS_WORDS}
            for part in (p.strip() for p in self.status.split(";")):
                if part and not any(c in part for c in _WILDCARDS) and part.casefold() not in words:
                    out.append(
                        f"status: {part!r} is not a report status; use one of "
                        f"{', '.join(STATUS_WORDS)}."
                    )
        return out


def _comparable(value: datetime) -> datetime:
    """A datetime that compares with any other: naive ones are read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def check_filter(value: object, what: str = "filter") -> WATSFilter:
    """``value`` as a filter fit to send, or :class:`~pywats.InvalidArgumentError` naming why.

    Checks the members' types (a ``WATSFilter`` is not checked when it is made) and their
    values (:meth:`WATSFilter.problems`). ``None`` is the empty filter: the server's defaults.

    Raises:
        InvalidArgumentError: not a :class:`WATSFilter`, a member of the wrong type, or a value
            the server would refuse.
    """
    if value is None:
        return WATSFilter()
    if not isinstance(value, WATSFilter):
        raise InvalidArgumentError(f"{what} must be a WATSFilter, not {type(value).__name__}")
    try:
        # A round trip through builtins checks every member against its declared type.
        raw: Any = msgspec.to_builtins(value, builtin_types=(datetime,))
        checked = msgspec.convert(raw, WATSFilter)
    except (msgspec.ValidationError, TypeError) as exc:
        raise InvalidArgumentError(f"{what}: {exc}") from None
    problems = checked.problems()
    if problems:
        raise InvalidArgumentError(f"{what}: " + " ".join(problems))
    return checked
