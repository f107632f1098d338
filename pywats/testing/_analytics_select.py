"""Which stored reports a ``PublicWatsFilter`` selects, for the analytics data and export routes.

Text members match the report header case-insensitively with the WATS wildcards (``%`` any
text, ``_`` one character, ``;`` between alternatives). ``testOperation`` is the report's own
process: its name, or its code when the filter is a number. ``productGroup`` takes in the
reports whose part number (and revision) the named groups' filters take in; ``level`` the reports
of stations registered in the named levels. Dates compare with the report's start, naive dates
read as UTC; ``dateFrom`` is inclusive, ``dateTo`` exclusive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from pywats.models.analytics_filter import Run, WATSFilter
from pywats.models.report_query import HeaderMiscInfo, ReportHeader
from pywats.testing._http import HTTPFailure, decode_json
from pywats.testing._store import StoredReport

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["decode_filter", "like", "select_reports", "utc"]


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are read as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern[str]:
    alternatives = [
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in part.strip())
        for part in text.split(";")
        if part.strip()
    ]
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)", re.I | re.S)


def like(pattern: str | None, value: object) -> bool:
    """Whether ``value`` matches a WATS wildcard filter text (``None``/blank: anything)."""
    if pattern is None or not pattern.strip():
        return True
    if value is None:
        return False
    return _pattern(pattern).fullmatch(str(value)) is not None


def decode_filter(body: bytes) -> WATSFilter:
    """The request's filter, or 400 naming what is wrong (the body is required)."""
    if not body.strip():
        raise HTTPFailure(400, "The request is invalid. A filter (JSON object) is required.")
    flt = decode_json(body, WATSFilter, "The request is invalid. filter:")
    problems = flt.problems()
    if problems:
        raise HTTPFailure(400, "The request is invalid. " + " ".join(problems))
    return flt


def _operation_matches(pattern: str | None, header: ReportHeader) -> bool:
    if pattern is None or not pattern.strip():
        return True
    return any(
        (part.strip().isdigit() and header.process_code == int(part.strip()))
        or like(part, header.process_name)
        for part in pattern.split(";")
        if part.strip()
    )


def _misc(header: ReportHeader) -> list[HeaderMiscInfo]:
    return [*(header.misc_info or ()), *(header.uur_misc_info or ())]


def _misc_matches(flt: WATSFilter, header: ReportHeader) -> bool:
    if not (flt.misc_description or flt.misc_value):
        return True
    return any(
        like(flt.misc_description, m.description) and like(flt.misc_value, m.value)
        for m in _misc(header)
    )


def _group_test(emu: FakeWATS, pattern: str | None) -> Callable[[ReportHeader], bool]:
    if pattern is None or not pattern.strip():
        return lambda header: True
    from pywats.testing._product_extra_routes import groups_of

    groups = [g for g in emu.state.product_groups if like(pattern, g.product_group_name)]

    def test(header: ReportHeader) -> bool:
        return bool(groups) and bool(groups_of(groups, header.part_number or "", header.revision))

    return test


def _level_test(emu: FakeWATS, pattern: str | None) -> Callable[[ReportHeader], bool]:
    if pattern is None or not pattern.strip():
        return lambda header: True
    level_ids = {lv.level_id for lv in emu.state.levels if like(pattern, lv.level_name)}
    stations = {
        (c.name or "").casefold() for c in emu.state.clients if c.client_group_id in level_ids
    }
    return lambda header: (header.station_name or "").casefold() in stations


def _window(flt: WATSFilter, default_days: int | None) -> tuple[datetime | None, datetime | None]:
    start = utc(flt.date_from) if flt.date_from is not None else None
    end = utc(flt.date_to) if flt.date_to is not None else None
    if start is None and end is None and default_days is not None:
        start = datetime.now(UTC) - timedelta(days=default_days)
    return start, end


def _last_runs(reports: Iterable[StoredReport]) -> dict[tuple[str, str, int], int]:
    last: dict[tuple[str, str, int], int] = {}
    for stored in reports:
        if stored.run_key is not None and stored.header.run is not None:
            last[stored.run_key] = max(last.get(stored.run_key, 0), stored.header.run)
    return last


def select_reports(
    emu: FakeWATS,
    flt: WATSFilter,
    *,
    report_type: str | None = "T",
    default_days: int | None = None,
    run: Run = Run.ALL,
) -> list[StoredReport]:
    """The stored reports ``flt`` selects, oldest first (by start, then arrival).

    Args:
        report_type: ``T`` (test reports), ``R`` (repair reports) or ``None`` (both).
        default_days: the window, back from now, when the filter gives no dates.
        run: which run of each unit (serial number, part number, operation) to keep.
    """
    everything = list(emu.reports.headers())
    start, end = _window(flt, default_days)
    in_group = _group_test(emu, flt.product_group)
    in_level = _level_test(emu, flt.level)
    last = _last_runs(everything) if run == Run.LAST else {}
    out: list[StoredReport] = []
    for stored in everything:
        h = stored.header
        if report_type is not None and stored.type != report_type:
            continue
        when = utc(h.start) if h.start is not None else None
        if start is not None and (when is None or when < start):
            continue
        if end is not None and (when is None or when >= end):
            continue
        if run == Run.LAST and (stored.run_key is None or h.run != last.get(stored.run_key)):
            continue
        if run not in (Run.ALL, Run.LAST) and h.run != int(run):
            continue
        texts = (
            (flt.serial_number, h.serial_number),
            (flt.part_number, h.part_number),
            (flt.revision, h.revision),
            (flt.batch_number, h.batch_number),
            (flt.station_name, h.station_name),
            (flt.status, h.result),
            (flt.sw_filename, h.sw_filename),
            (flt.sw_version, h.sw_version),
            (flt.socket, h.test_socket_index),
        )
        if not all(like(pattern, value) for pattern, value in texts):
            continue
        if not _operation_matches(flt.test_operation, h) or not _misc_matches(flt, h):
            continue
        if in_group(h) and in_level(h):
            out.append(stored)
    out.sort(
        key=lambda s: (utc(s.header.start) if s.header.start else _EPOCH, s.header.time_stamp or 0)
    )
    return out


_EPOCH = datetime(1, 1, 1, tzinfo=UTC)
