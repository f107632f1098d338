"""Which stored reports a ``PublicWatsFilter`` selects, for the analytics data and export routes.

The matching is the yield routes' (:func:`pywats.testing._analytics_stats.select`: WATS
wildcards, ``testOperation`` by process name or code, product groups of the product, the level
of the station), so every analytics answer reads a filter the same way. What is added here: both
report types at once, a window that is all time unless the filter gives dates, and the ``run``
member (first, second, third, last or every run of each unit).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pywats.formats import wsjf
from pywats.models.analytics_filter import Run, WATSFilter
from pywats.models.report import UURReport, UUTReport
from pywats.testing._analytics_stats import EARLIEST, ReportFacts, select, utc, window
from pywats.testing._http import Request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pywats.testing._emulator import FakeWATS

__all__ = ["ALL_TIME", "decode_filter", "documents", "select_reports", "statistics_window"]

_END_OF_TIME = datetime.max.replace(tzinfo=UTC)

ALL_TIME = (EARLIEST, _END_OF_TIME)
"""A window holding every report."""


def decode_filter(req: Request) -> WATSFilter:
    """The request's filter (required), or 400 naming what is wrong (as the yield routes)."""
    from pywats.testing._analytics_yield_routes import parse_filter

    return parse_filter(req)


def statistics_window(flt: WATSFilter) -> tuple[datetime, datetime]:
    """The window of a statistic: the filter's dates, else its periods, else the last 30 days."""
    return window(flt, datetime.now(UTC))


def _dated(flt: WATSFilter) -> tuple[datetime, datetime]:
    """All time, narrowed by the dates the filter gives (a report list has no default window)."""
    start = utc(flt.date_from) or EARLIEST
    end = utc(flt.date_to) or _END_OF_TIME
    return start, end


def _runs(found: list[ReportFacts], everything: list[ReportFacts], run: Run) -> list[ReportFacts]:
    if run == Run.ALL:
        return found
    if run == Run.LAST:
        last: dict[tuple[str, str, int], int] = {}
        for facts in everything:
            last[facts.unit] = max(last.get(facts.unit, 0), facts.run)
        return [f for f in found if f.run == last.get(f.unit)]
    return [f for f in found if f.run == int(run)]


def select_reports(
    emu: FakeWATS,
    flt: WATSFilter,
    *,
    report_type: str | None = "T",
    span: tuple[datetime, datetime] | None = None,
    run: Run = Run.ALL,
    facts: list[ReportFacts] | None = None,
) -> list[ReportFacts]:
    """The stored reports ``flt`` selects, oldest first.

    Args:
        report_type: ``T`` (test reports), ``R`` (repair reports) or ``None`` (both).
        span: the window ``[start, end)``; by default all time, narrowed by the filter's dates.
        run: which run of each unit (part number, serial number, operation) to keep.
        facts: every stored report's facts, when the caller has them already.
    """
    from pywats.testing._analytics_yield_routes import report_facts

    everything = facts if facts is not None else report_facts(emu)
    window_ = span or _dated(flt)
    kinds = ("T", "R") if report_type is None else (report_type,)
    found = [f for kind in kinds for f in select(everything, flt, window_, kind)]
    found.sort(key=lambda f: (f.start, f.header.time_stamp or 0))
    return _runs(found, everything, run)


def documents(
    emu: FakeWATS, chosen: list[ReportFacts]
) -> Iterator[tuple[ReportFacts, UUTReport | UURReport]]:
    """The chosen reports with their documents, in the order given."""
    for facts in chosen:
        stored = emu.reports.get(str(facts.header.uuid))
        if stored is not None:
            yield facts, wsjf.loads(stored.wsjf)
