"""Statistics computed from stored reports, for the emulator's analytics routes.

Pure functions: reports in, numbers out (no emulator, no clock: ``now`` is an argument). A
report is a :class:`ReportFacts`: its header row plus what the emulator knows about it apart
from the report (product name, product groups, level, asset names), resolved by the caller.

How WATS counts, and so the emulator (``docs/analytics.md`` shows worked examples):

* A **unit** is one serial number of one part number in one test operation (process code);
  its **runs** are its test reports there, numbered in the order they arrived (the header's
  ``run``).
* A unit is counted where it was **first seen**: in the row (period, station…) of its first run,
  and only when that first run is among the reports selected. Its later runs count towards its
  second, third and last pass wherever they ran.
* Only ``Passed`` passes; ``Failed``, ``Error`` and ``Terminated`` do not.
* Report counts (``testReportCount``, ``testYieldCount``, ``retestCount``) count each report in
  its own row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pywats.models.analytics_filter import DateGrouping, WATSFilter
from pywats.models.report_query import ReportHeader

__all__ = [
    "DEFAULT_DAYS",
    "EARLIEST",
    "STEP_PATH_SEPARATOR",
    "ReportFacts",
    "YieldCounts",
    "available_seconds",
    "back",
    "before",
    "count_yield",
    "dimension_keys",
    "kpis",
    "matches",
    "oee",
    "ordered",
    "period_label",
    "percent",
    "period_start",
    "select",
    "selected",
    "shift",
    "trends",
    "window",
    "yield_table",
]

DEFAULT_DAYS = 30
"""The window when a filter gives neither dates nor a period count: the last 30 days."""

STEP_PATH_SEPARATOR = "¶"
"""Between the step names of a step path (the separator of the description's measurement
paths): ``MainSequence Callback¶Power¶3V3``."""

# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """One stored report as the statistics read it.

    Attributes:
        header: the report's header row (as ``GET /api/Report/Query/Header`` shows it).
        product_name: the name of its product (product domain), if known.
        product_groups: the names of the product groups its product belongs to.
        level: the name of the level (station group) its station is in, if known.
        assets: ``(serial number, asset name)`` of each asset the report used.
    """

    header: ReportHeader
    product_name: str | None = None
    product_groups: tuple[str, ...] = ()
    level: str | None = None
    assets: tuple[tuple[str, str | None], ...] = field(default=())

    @property
    def unit(self) -> tuple[str, str, int]:
        """``(part number, serial number, process code)``: what makes runs one unit's."""
        h = self.header
        return (h.part_number or "", h.serial_number or "", h.process_code or 0)

    @property
    def run(self) -> int:
        """The report's run number (1 for the unit's first test in the operation)."""
        return self.header.run or 1

    @property
    def passed(self) -> bool:
        """Whether the report's result is ``Passed``."""
        return self.header.result == "Passed"

    @property
    def start(self) -> datetime:
        """When the report started, in UTC (the epoch when it has no start)."""
        return utc(self.header.start) or datetime(1970, 1, 1, tzinfo=UTC)


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is read as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- wildcards and filters -------------------------------------------------------------------


@lru_cache(maxsize=512)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """A WATS wildcard text as a regular expression: ``%`` any text, ``_`` one character, ``;``
    between alternatives; letter case ignored (as the server's database compares)."""
    alternatives = [
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in part.strip())
        for part in pattern.split(";")
        if part.strip()
    ]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE | re.DOTALL)


def matches(pattern: str | None, value: object) -> bool:
    """Whether ``value`` matches a filter member (``None`` or blank: no filter; a value that is
    ``None`` matches no filter)."""
    if pattern is None or not pattern.strip():
        return True
    if value is None:
        return False
    return _wildcard(pattern).fullmatch(str(value)) is not None


def _any_matches(pattern: str | None, values: Iterable[object]) -> bool:
    if pattern is None or not pattern.strip():
        return True
    return any(matches(pattern, v) for v in values)


def _misc_matches(flt: WATSFilter, header: ReportHeader) -> bool:
    """``miscDescription`` and ``miscValue`` must be met by one and the same misc info."""
    if not (flt.misc_description or "").strip() and not (flt.misc_value or "").strip():
        return True
    return any(
        matches(flt.misc_description, m.description) and matches(flt.misc_value, m.value)
        for m in (*(header.misc_info or ()), *(header.uur_misc_info or ()))
    )


def selected(
    facts: ReportFacts, flt: WATSFilter, start: datetime, end: datetime, report_type: str = "T"
) -> bool:
    """Whether the report is one the filter selects, started in ``[start, end)``.

    ``testOperation`` matches the process name or code; ``status`` the result word;
    ``productGroup`` any of the product's groups; ``socket`` the test socket index.
    """
    h = facts.header
    return (
        (h.report_type or "T") == report_type
        and start <= facts.start < end
        and matches(flt.serial_number, h.serial_number)
        and matches(flt.part_number, h.part_number)
        and matches(flt.revision, h.revision)
        and matches(flt.batch_number, h.batch_number)
        and matches(flt.station_name, h.station_name)
        and _any_matches(flt.test_operation, (h.process_name, h.process_code))
        and matches(flt.status, h.result)
        and _misc_matches(flt, h)
        and _any_matches(flt.product_group, facts.product_groups)
        and matches(flt.level, facts.level)
        and matches(flt.sw_filename, h.sw_filename)
        and matches(flt.sw_version, h.sw_version)
        and matches(flt.socket, h.test_socket_index)
    )


def select(
    reports: Iterable[ReportFacts],
    flt: WATSFilter,
    span: tuple[datetime, datetime],
    report_type: str = "T",
) -> list[ReportFacts]:
    """The reports the filter selects in the window ``span``, oldest first."""
    chosen = [r for r in reports if selected(r, flt, span[0], span[1], report_type)]
    return sorted(chosen, key=lambda r: (r.start, r.run))


# --- time: windows and periods ---------------------------------------------------------------


def _grouping(value: DateGrouping | None) -> DateGrouping:
    """The grouping periods are cut by: a day unless one is given."""
    return DateGrouping.DAY if value is None or value == DateGrouping.NONE else value


def period_start(moment: datetime, grouping: DateGrouping | None) -> datetime:
    """The start (UTC) of the period ``moment`` is in; weeks start on Monday."""
    g = _grouping(grouping)
    t = utc(moment) or moment
    if g == DateGrouping.HOUR:
        return t.replace(minute=0, second=0, microsecond=0)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if g == DateGrouping.DAY:
        return day
    if g == DateGrouping.WEEK:
        return day - timedelta(days=day.weekday())
    if g == DateGrouping.MONTH:
        return day.replace(day=1)
    if g == DateGrouping.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def shift(start: datetime, grouping: DateGrouping | None, periods: int) -> datetime:
    """The start of the period ``periods`` after the one starting at ``start`` (may be < 0)."""
    g = _grouping(grouping)
    if g == DateGrouping.HOUR:
        return start + timedelta(hours=periods)
    if g == DateGrouping.DAY:
        return start + timedelta(days=periods)
    if g == DateGrouping.WEEK:
        return start + timedelta(weeks=periods)
    months = {DateGrouping.MONTH: 1, DateGrouping.QUARTER: 3, DateGrouping.YEAR: 12}[g] * periods
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1, day=1)


def period_label(start: datetime, grouping: DateGrouping | None) -> str:
    """How a period is named in rows: ``2026-03-02T14`` (hour), ``2026-03-02`` (day),
    ``2026-W10`` (ISO week), ``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year)."""
    g = _grouping(grouping)
    if g == DateGrouping.HOUR:
        return start.strftime("%Y-%m-%dT%H")
    if g == DateGrouping.DAY:
        return start.strftime("%Y-%m-%d")
    if g == DateGrouping.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if g == DateGrouping.MONTH:
        return start.strftime("%Y-%m")
    if g == DateGrouping.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
"""Where a window reaching back further than datetimes go starts."""


def back(moment: datetime, periods: int, grouping: DateGrouping | None) -> datetime:
    """The start of the period ``periods`` before the one starting at ``moment``; windows that
    would reach before year 1 start at :data:`EARLIEST`."""
    try:
        return shift(moment, grouping, -periods)
    except (OverflowError, ValueError):
        return EARLIEST


def before(moment: datetime, delta: timedelta) -> datetime:
    """``moment - delta``, or :data:`EARLIEST` when that is before year 1."""
    try:
        return moment - delta
    except OverflowError:
        return EARLIEST


def window(flt: WATSFilter, now: datetime) -> tuple[datetime, datetime]:
    """The time window ``[start, end)`` a filter selects, in UTC.

    Dates given win (a missing end is ``now``; a missing start is 30 days before the end).
    Else ``periodCount`` periods of ``dateGrouping`` (days without one) back from now: with
    ``includeCurrentPeriod`` (the default) the current period is the last of them and the
    window ends now; without it the window ends where the current period starts. Else the
    last 30 days.
    """
    now = utc(now) or now
    if flt.date_from is not None or flt.date_to is not None:
        end = utc(flt.date_to) or now
        return utc(flt.date_from) or before(end, timedelta(days=DEFAULT_DAYS)), end
    if flt.period_count is not None:
        current = period_start(now, flt.date_grouping)
        if flt.include_current_period is False:
            return back(current, flt.period_count, flt.date_grouping), current
        return back(current, flt.period_count - 1, flt.date_grouping), now
    return before(now, timedelta(days=DEFAULT_DAYS)), now


# --- yield -----------------------------------------------------------------------------------


@dataclass
class YieldCounts:
    """What one row of a yield statistic counts (see the module docstring)."""

    unit_count: int = 0
    fp_count: int = 0
    sp_count: int = 0
    tp_count: int = 0
    lp_count: int = 0
    report_count: int = 0
    passed_reports: int = 0
    retests: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add_report(self, report: ReportFacts) -> None:
        """Count one report of the row."""
        self.report_count += 1
        self.passed_reports += report.passed
        self.retests += report.run > 1
        self.first = report.start if self.first is None else min(self.first, report.start)
        self.last = report.start if self.last is None else max(self.last, report.start)

    def add_unit(self, runs: Sequence[ReportFacts]) -> None:
        """Count one unit first seen in the row, from its runs (in run order)."""
        self.unit_count += 1
        self.fp_count += any(r.passed and r.run <= 1 for r in runs)
        self.sp_count += any(r.passed and r.run <= 2 for r in runs)
        self.tp_count += any(r.passed and r.run <= 3 for r in runs)
        self.lp_count += runs[-1].passed


def _units(scope: Iterable[ReportFacts]) -> dict[tuple[str, str, int], list[ReportFacts]]:
    """The reports of each unit, in run order."""
    out: dict[tuple[str, str, int], list[ReportFacts]] = {}
    for report in scope:
        out.setdefault(report.unit, []).append(report)
    for runs in out.values():
        runs.sort(key=lambda r: (r.run, r.start))
    return out


def yield_table(
    scope: Sequence[ReportFacts], keys_of: Callable[[ReportFacts], Iterable[tuple[Any, ...]]]
) -> dict[tuple[Any, ...], YieldCounts]:
    """Yield counts per row key; ``keys_of`` gives the rows a report belongs to (several when a
    dimension has several values, such as product groups). Rows keep the order first seen."""
    table: dict[tuple[Any, ...], YieldCounts] = {}
    for report in scope:
        for key in keys_of(report):
            table.setdefault(key, YieldCounts()).add_report(report)
    for runs in _units(scope).values():
        if runs[0].run != 1:
            continue  # first seen before the window (or its first run is filtered out)
        for key in keys_of(runs[0]):
            table.setdefault(key, YieldCounts()).add_unit(runs)
    return table


def count_yield(scope: Sequence[ReportFacts]) -> YieldCounts:
    """The yield counts of all of ``scope`` as one row."""
    return yield_table(scope, lambda report: [()]).get((), YieldCounts())


def percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` (``None`` when ``whole`` is 0)."""
    return 100.0 * part / whole if whole else None


def _ppm(part: int, whole: int) -> float | None:
    return 1_000_000.0 * (whole - part) / whole if whole else None


def kpis(c: YieldCounts) -> dict[str, Any]:
    """Every KPI of one row, by its wire name (yields in percent; ``None`` without units)."""
    return {
        "unitCount": c.unit_count,
        "fpCount": c.fp_count,
        "spCount": c.sp_count,
        "tpCount": c.tp_count,
        "lpCount": c.lp_count,
        "fpy": percent(c.fp_count, c.unit_count),
        "spy": percent(c.sp_count, c.unit_count),
        "tpy": percent(c.tp_count, c.unit_count),
        "lpy": percent(c.lp_count, c.unit_count),
        "testYieldCount": c.passed_reports,
        "testReportCount": c.report_count,
        "testYield": percent(c.passed_reports, c.report_count),
        "firstUtc": c.first,
        "lastUtc": c.last,
        "fpFailCount": c.unit_count - c.fp_count,
        "spFailCount": c.unit_count - c.sp_count,
        "tpFailCount": c.unit_count - c.tp_count,
        "lpFailCount": c.unit_count - c.lp_count,
        "retestCount": c.retests,
        "ppmFpy": _ppm(c.fp_count, c.unit_count),
        "ppmSpy": _ppm(c.sp_count, c.unit_count),
        "ppmTpy": _ppm(c.tp_count, c.unit_count),
        "ppmLpy": _ppm(c.lp_count, c.unit_count),
        "ppmTestYield": _ppm(c.passed_reports, c.report_count),
    }


_TRENDED = (
    "fpy",
    "spy",
    "tpy",
    "lpy",
    "unitCount",
    "fpCount",
    "spCount",
    "tpCount",
    "lpCount",
    "testReportCount",
    "testYieldCount",
    "testYield",
    "ppmFpy",
    "ppmSpy",
    "ppmTpy",
    "ppmLpy",
    "ppmTestYield",
)


def trends(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """``previousUnitCount``, ``previousTestReportCount`` and each ``…Trend`` (the KPI minus its
    previous value; ``None`` when either is missing)."""
    out: dict[str, Any] = {
        "previousUnitCount": previous.get("unitCount", 0),
        "previousTestReportCount": previous.get("testReportCount", 0),
    }
    for name in _TRENDED:
        now, before = current.get(name), previous.get(name)
        out[f"{name}Trend"] = None if now is None or before is None else now - before
    return out


# --- dimensions --------------------------------------------------------------------------------


def _header_value(attribute: str) -> Callable[[ReportFacts, DateGrouping | None], tuple[Any, ...]]:
    return lambda r, g: (getattr(r.header, attribute),)


_DIMENSIONS: dict[str, Callable[[ReportFacts, DateGrouping | None], tuple[Any, ...]]] = {
    "partNumber": _header_value("part_number"),
    "productName": lambda r, g: (r.product_name,),
    "stationName": _header_value("station_name"),
    "location": _header_value("location"),
    "purpose": _header_value("purpose"),
    "revision": _header_value("revision"),
    "testOperation": _header_value("process_name"),
    "processCode": _header_value("process_code"),
    "swFilename": _header_value("sw_filename"),
    "swVersion": _header_value("sw_version"),
    "productGroup": lambda r, g: r.product_groups or (None,),
    "level": lambda r, g: (r.level,),
    "period": lambda r, g: (period_label(period_start(r.start, g), g),),
    "batchNumber": _header_value("batch_number"),
    "operator": _header_value("user_name"),
    "fixtureId": _header_value("fixture_id"),
    "socketIndex": _header_value("test_socket_index"),
    "errorCode": _header_value("error_code"),
    "miscInfoDescription": lambda r, g: (
        tuple(m.description for m in r.header.misc_info or ()) or (None,)
    ),
    "miscInfoString": lambda r, g: tuple(m.value for m in r.header.misc_info or ()) or (None,),
    "stepCausedUutFailure": _header_value("caused_uut_failure"),
    "stepPathCausedUutFailure": _header_value("caused_uut_failure_path"),
    "assetSerialNumber": lambda r, g: tuple(sn for sn, _ in r.assets) or (None,),
    "assetName": lambda r, g: tuple(name for _, name in r.assets) or (None,),
}


def _items(report: ReportFacts, first: str) -> list[tuple[Any, Any]]:
    """The (description, value) of each misc info, or (serial number, name) of each asset."""
    if first == "miscInfoDescription":
        found = [(m.description, m.value) for m in report.header.misc_info or ()]
    else:
        found = list(report.assets)
    return found or [(None, None)]


_PAIRED = (("miscInfoDescription", "miscInfoString"), ("assetSerialNumber", "assetName"))


def dimension_keys(
    report: ReportFacts, dimensions: Sequence[str], grouping: DateGrouping | None
) -> list[tuple[Any, ...]]:
    """The row keys of a report: one value per dimension, every combination when a dimension
    has several values (product groups, misc infos, assets).

    Asked together, ``miscInfoDescription`` and ``miscInfoString`` pair each misc info's
    description with its own value, and ``assetSerialNumber`` and ``assetName`` each asset's
    serial number with its own name.
    """
    # Slots: the dimensions one choice fills (one, or a pair), and the choices.
    slots: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    paired = [pair for pair in _PAIRED if pair[0] in dimensions and pair[1] in dimensions]
    for name in dimensions:
        pair = next((p for p in paired if name in p), None)
        if pair is None:
            slots.append(((name,), [(v,) for v in _DIMENSIONS[name](report, grouping)]))
        elif name == next(d for d in dimensions if d in pair):  # the pair's first: its slot
            slots.append((pair, _items(report, pair[0])))
    keys: dict[tuple[Any, ...], None] = {}
    for combination in itertools.product(*(choices for _, choices in slots)):
        values: dict[str, Any] = {}
        for (names, _), chosen in zip(slots, combination, strict=True):
            values.update(zip(names, chosen, strict=True))
        keys[tuple(values[d] for d in dimensions)] = None
    return list(keys)


# --- ordering --------------------------------------------------------------------------------


def ordered(
    rows: list[dict[str, Any]], order: Sequence[tuple[str, str | None]]
) -> list[dict[str, Any]]:
    """``rows`` sorted by each ``(member, "asc" | "desc" | None)`` in turn (ascending unless
    ``desc``); rows without a value for a member come after those with one."""
    out = list(rows)
    for name, direction in reversed(order):
        present = [r for r in out if r.get(name) is not None]
        missing = [r for r in out if r.get(name) is None]
        present.sort(key=lambda r: _sortable(r[name]), reverse=direction == "desc")
        out = present + missing
    return out


def _sortable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


# --- OEE -------------------------------------------------------------------------------------


def _scaled(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def available_seconds(start: datetime, end: datetime, hours: Sequence[float]) -> float:
    """The available time of one station in ``[start, end)``, in seconds: each day gives its
    weekday's hours (``hours[0]`` Monday … ``hours[6]`` Sunday), in proportion to how much of
    the day the window covers."""
    if end <= start:
        return 0.0

    def share(day: datetime, seconds: float) -> float:
        return hours[day.weekday()] * seconds / 24.0

    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    after_first = first + timedelta(days=1)
    if end <= after_first:
        return share(first, (end - start).total_seconds())
    last = end.replace(hour=0, minute=0, second=0, microsecond=0)
    total = share(first, (after_first - start).total_seconds())
    total += share(last, (end - last).total_seconds())
    # Whole days between: whole weeks at once (a window may span centuries), then the rest.
    weeks, rest = divmod((last - after_first).days, 7)
    total += weeks * sum(hours) * 3600.0
    total += sum(hours[(after_first.weekday() + i) % 7] * 3600.0 for i in range(rest))
    return total


def oee(
    scope: Sequence[ReportFacts],
    span: tuple[datetime, datetime],
    hours: Sequence[float],
    target_output: int | None = None,
) -> dict[str, Any]:
    """Overall equipment effectiveness of the stations that ran ``scope`` in ``span``.

    * planned time = the available hours in the window (``hours`` per weekday, Monday first)
      * the stations that ran tests;
    * run time = the reports' execution times added up;
    * availability = run time / planned time;
    * performance = tests / target, where target = ``target_output`` per day * days in the
      window; without a target, (ideal cycle time * tests) / run time, the ideal cycle time
      being the shortest test;
    * quality = passed tests / tests;
    * OEE = availability * performance * quality.

    ``idealCycleTime`` is the shortest test, or with a target the planned time per targeted
    test. Percentages; ``None`` where a divisor is 0.
    """
    stations = {r.header.station_name for r in scope}
    planned = available_seconds(span[0], span[1], hours) * len(stations)
    times = [r.header.execution_time or 0.0 for r in scope]
    run_time = sum(times)
    total, good = len(scope), sum(r.passed for r in scope)
    performance: float | None
    if target_output:
        target = target_output * (span[1] - span[0]).total_seconds() / 86400.0
        ideal = planned / target if target > 0 else None
        performance = total / target if target > 0 else None
    else:
        ideal = min((t for t in times if t > 0), default=None)
        performance = ideal * total / run_time if ideal is not None and run_time else None
    availability = run_time / planned if planned else None
    quality = good / total if total else None
    overall = None
    if availability is not None and performance is not None and quality is not None:
        overall = availability * performance * quality
    return {
        "oee": _scaled(overall),
        "availability": _scaled(availability),
        "performance": _scaled(performance),
        "quality": _scaled(quality),
        "plannedProductionTime": planned,
        "runTime": run_time,
        "downTime": planned - run_time,
        "totalCount": total,
        "goodCount": good,
        "rejectCount": total - good,
        "idealCycleTime": ideal,
        "actualCycleTime": run_time / total if total else None,
        "stationCount": len(stations),
        "dateFrom": span[0],
        "dateTo": span[1],
    }
