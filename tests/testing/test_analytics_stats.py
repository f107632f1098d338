"""The pure statistics behind the emulator's analytics routes: periods, windows, wildcards,
available time, yield counts of hand-made headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pywats.models.analytics_filter import DateGrouping, WATSFilter
from pywats.models.report_query import HeaderMiscInfo, ReportHeader
from pywats.testing._analytics_stats import (
    EARLIEST,
    ReportFacts,
    available_seconds,
    count_yield,
    dimension_keys,
    kpis,
    matches,
    ordered,
    period_label,
    period_start,
    shift,
    window,
)

G = DateGrouping
NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("grouping", "start", "label", "following"),
    [
        (
            G.HOUR,
            datetime(2026, 3, 4, 15, tzinfo=UTC),
            "2026-03-04T15",
            datetime(2026, 3, 4, 16, tzinfo=UTC),
        ),
        (G.DAY, datetime(2026, 3, 4, tzinfo=UTC), "2026-03-04", datetime(2026, 3, 5, tzinfo=UTC)),
        (None, datetime(2026, 3, 4, tzinfo=UTC), "2026-03-04", datetime(2026, 3, 5, tzinfo=UTC)),
        (G.WEEK, datetime(2026, 3, 2, tzinfo=UTC), "2026-W10", datetime(2026, 3, 9, tzinfo=UTC)),
        (G.MONTH, datetime(2026, 3, 1, tzinfo=UTC), "2026-03", datetime(2026, 4, 1, tzinfo=UTC)),
        (G.QUARTER, datetime(2026, 1, 1, tzinfo=UTC), "2026-Q1", datetime(2026, 4, 1, tzinfo=UTC)),
        (G.YEAR, datetime(2026, 1, 1, tzinfo=UTC), "2026", datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_periods(
    grouping: DateGrouping | None, start: datetime, label: str, following: datetime
) -> None:
    assert period_start(NOW, grouping) == start
    assert period_label(start, grouping) == label
    assert shift(start, grouping, 1) == following


def test_months_shift_across_years() -> None:
    january = datetime(2026, 1, 1, tzinfo=UTC)
    assert shift(january, G.MONTH, -1) == datetime(2025, 12, 1, tzinfo=UTC)
    assert shift(january, G.QUARTER, -5) == datetime(2024, 10, 1, tzinfo=UTC)
    assert shift(january, G.YEAR, 3) == datetime(2029, 1, 1, tzinfo=UTC)


def test_windows() -> None:
    assert window(WATSFilter(), NOW) == (NOW - timedelta(days=30), NOW)
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    naive = WATSFilter(date_from=datetime(2026, 3, 2), date_to=datetime(2026, 3, 3))
    assert window(naive, NOW) == (monday, monday + timedelta(days=1))
    assert window(WATSFilter(date_to=monday), NOW) == (monday - timedelta(days=30), monday)
    days = WATSFilter(period_count=3, date_grouping=G.DAY)
    assert window(days, NOW) == (datetime(2026, 3, 2, tzinfo=UTC), NOW)  # Mon, Tue, today
    whole = WATSFilter(period_count=2, date_grouping=G.WEEK, include_current_period=False)
    assert window(whole, NOW) == (datetime(2026, 2, 16, tzinfo=UTC), monday)
    forever = WATSFilter(period_count=2**31 - 1, date_grouping=G.YEAR)
    assert window(forever, NOW) == (EARLIEST, NOW)


def test_wildcards() -> None:
    assert matches("PCBA-%", "pcba-100")
    assert matches("PCBA-1_0;PSU%", "PSU-200")
    assert not matches("PCBA-1_0", "PCBA-1000")
    assert matches(None, None)
    assert matches("  ", "anything")
    assert not matches("x", None)
    assert matches("50", 50)
    assert matches("a.b", "a.b")
    assert not matches("a.b", "axb")


def test_available_seconds_counts_each_weekday() -> None:
    hours = (8, 8, 8, 8, 8, 4, 0)  # Monday first
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert available_seconds(monday, monday + timedelta(days=7), hours) == 44 * 3600
    assert available_seconds(monday, monday + timedelta(days=70), hours) == 440 * 3600
    noon = monday + timedelta(hours=12)
    # Half of Monday, all of Tuesday, a quarter of Wednesday.
    assert available_seconds(noon, noon + timedelta(days=1, hours=18), hours) == 14 * 3600
    assert available_seconds(noon, noon, hours) == 0.0
    assert available_seconds(EARLIEST, monday, hours) > 0  # centuries without a loop per day


def _facts(sn: str, run: int, result: str, minute: int) -> ReportFacts:
    header = ReportHeader(
        uuid=uuid.uuid4(),
        serial_number=sn,
        part_number="PN",
        process_code=50,
        report_type="T",
        run=run,
        result=result,
        start=NOW + timedelta(minutes=minute),
    )
    return ReportFacts(header=header)


def test_yield_counts_of_hand_made_runs() -> None:
    scope = [
        _facts("A", 1, "Passed", 0),
        _facts("B", 1, "Failed", 1),
        _facts("B", 2, "Error", 2),
        _facts("B", 3, "Passed", 3),
        _facts("C", 2, "Passed", 4),  # first run not in scope: no unit, but a report
    ]
    counts = count_yield(scope)
    row = kpis(counts)
    assert (row["unitCount"], row["fpCount"], row["spCount"], row["tpCount"], row["lpCount"]) == (
        2,
        1,
        1,
        2,
        2,
    )
    assert (row["testReportCount"], row["testYieldCount"], row["retestCount"]) == (5, 3, 3)
    assert (row["fpy"], row["spy"], row["tpy"], row["lpy"], row["testYield"]) == (
        50.0,
        50.0,
        100.0,
        100.0,
        60.0,
    )
    assert kpis(count_yield([]))["fpy"] is None


def test_ordering_puts_missing_values_last() -> None:
    rows: list[dict[str, Any]] = [{"a": None, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 2}]
    numbers = rows
    assert ordered(numbers, [("a", "desc")]) == [rows[1], rows[2], rows[0]]
    assert ordered(numbers, [("b", None), ("a", "asc")]) == [rows[1], rows[0], rows[2]]


def test_several_valued_dimensions_pair_their_own_values() -> None:
    header = ReportHeader(
        uuid=uuid.uuid4(),
        part_number="PN",
        misc_info=[
            HeaderMiscInfo(description="Fixture", value="F1"),
            HeaderMiscInfo(description="Firmware", value="1.2"),
        ],
    )
    report = ReportFacts(
        header=header,
        product_groups=("All", "Boards"),
        assets=(("A-1", "Scope"), ("B-2", "DMM")),
    )
    assert dimension_keys(report, ["assetSerialNumber", "assetName"], None) == [
        ("A-1", "Scope"),
        ("B-2", "DMM"),
    ]
    keys = dimension_keys(report, ["productGroup", "miscInfoString", "miscInfoDescription"], None)
    assert keys == [
        ("All", "F1", "Fixture"),
        ("All", "1.2", "Firmware"),
        ("Boards", "F1", "Fixture"),
        ("Boards", "1.2", "Firmware"),
    ]
    assert dimension_keys(report, ["assetName"], None) == [("Scope",), ("DMM",)]
    assert dimension_keys(ReportFacts(header=header), ["assetSerialNumber", "level"], None) == [
        (None, None)
    ]
