"""The emulator's analytics data routes: measurements, aggregated measurements, test-step
analysis, serial-number history, UUT/UUR report lists, repair statistics, computed from the
reports actually stored.

What the emulator decides where the description is silent (``docs/analytics.md``):

* Measurements, aggregated measurements and test-step analysis need ``partNumber`` and
  ``testOperation`` in the filter (400 naming them otherwise); without dates they read the last
  30 days. Measurements answer one group per requested path (every path found when none is
  requested), at most ``maxCount`` (10,000) measurements, the newest.
* Test-step analysis reads the first run of each unit unless ``run`` says otherwise, at most
  ``maxCount`` (10,000) reports, the newest.
* Report lists answer the newest ``topCount`` (1000) reports, newest first; the serial-number
  history answers every report of the selection, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from pywats.models.analytics_data import (
    PATHS_SEPARATOR,
    AggregatedMeasurement,
    MeasurementData,
    MeasurementGroup,
)
from pywats.models.analytics_filter import Run, WATSFilter
from pywats.models.report import UUTReport
from pywats.models.report_query import ReportHeader
from pywats.testing._analytics_measures import (
    STATUS_WORDS,
    Execution,
    Point,
    executions,
    folded,
    spec_limits,
    summary,
)
from pywats.testing._analytics_select import (
    decode_filter,
    documents,
    select_reports,
    statistics_window,
)
from pywats.testing._analytics_stats import ReportFacts
from pywats.testing._analytics_steps import step_analysis
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_analytics_data_routes"]

_MAX_MEASUREMENTS = 10_000
_MAX_REPORTS = 10_000
_DEFAULT_TOP = 1000


def add_analytics_data_routes(router: Router) -> None:
    """Register the analytics data routes on ``router``."""
    from pywats.testing._analytics_repair_routes import add_repair_routes

    router.add("POST", "/api/App/Measurements", measurements)
    router.add("POST", "/api/App/AggregatedMeasurements", aggregated_measurements)
    router.add("POST", "/api/App/TestStepAnalysis", test_step_analysis)
    router.add("POST", "/api/App/SerialNumberHistory", serial_number_history)
    router.add("GET", "/api/App/UutReport", uut_reports_by_query)
    router.add("POST", "/api/App/UutReport", uut_reports)
    router.add("POST", "/api/App/UurReport", uur_reports)
    add_repair_routes(router)


# --- reading reports --------------------------------------------------------------------------


def _tested(emu: FakeWATS, chosen: list[ReportFacts]) -> Iterator[Execution]:
    for facts, report in documents(emu, chosen):
        if isinstance(report, UUTReport):
            yield from executions(report, facts.header)


def _statistics_filter(req: Request) -> WATSFilter:
    flt = decode_filter(req)
    missing = [
        name
        for name, value in (("partNumber", flt.part_number), ("testOperation", flt.test_operation))
        if not (value and value.strip())
    ]
    if missing:
        raise HTTPFailure(400, f"The request is invalid. The filter needs {' and '.join(missing)}.")
    return flt


def _requested_paths(req: Request) -> list[str] | None:
    text = req.param("measurementPaths")
    if text is None or not text.strip():
        return None
    return [p.strip() for p in text.split(PATHS_SEPARATOR) if p.strip()]


def _points_by_path(
    emu: FakeWATS, flt: WATSFilter, req: Request
) -> dict[str, tuple[str, list[tuple[int, Point]]]]:
    """Selected measurements by folded path: the path as asked (or found) and its points,
    oldest first, each numbered in the order of all points (the reports' order)."""
    chosen = select_reports(emu, flt, span=statistics_window(flt), run=flt.run or Run.ALL)
    wanted = _requested_paths(req)
    groups: dict[str, tuple[str, list[tuple[int, Point]]]] = {
        folded(p): (p, []) for p in wanted or ()
    }
    number = 0
    for execution in _tested(emu, chosen):
        for point in execution.points:
            key = folded(point.path)
            if wanted is None and key not in groups:
                groups[key] = (point.path, [])
            if key in groups:
                groups[key][1].append((number, point))
                number += 1
    return groups


def _measurement(point: Point, path: str) -> MeasurementData:
    h = point.header
    return MeasurementData(
        measurement_path=path,
        report_id=h.uuid,
        serial_number=h.serial_number,
        part_number=h.part_number,
        revision=h.revision,
        process_code=h.process_code,
        test_operation=h.process_name,
        station_name=h.station_name,
        start_utc=h.start,
        run=h.run,
        step_name=point.step_name,
        step_path=point.step_path,
        measure_name=point.measure_name,
        value=point.value,
        unit=point.unit,
        comp_operator=point.comp_op,
        limit1=point.low,
        limit2=point.high,
        status=STATUS_WORDS.get(point.status or "", point.status),
    )


def measurements(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/Measurements``: the measurements of each path, oldest first."""
    flt = _statistics_filter(req)
    groups = _points_by_path(emu, flt, req)
    limit = flt.max_count if flt.max_count is not None else _MAX_MEASUREMENTS
    total = sum(len(points) for _, points in groups.values())
    first_kept = total - limit  # the newest `limit` measurements of all paths together
    answer = [
        MeasurementGroup(
            measurement_path=path,
            measurements=[_measurement(p, path) for n, p in points if n >= first_kept],
        )
        for path, points in groups.values()
    ]
    return json_response(answer)


def aggregated_measurements(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/AggregatedMeasurements``: one statistics row per path."""
    flt = _statistics_filter(req)
    rows: list[AggregatedMeasurement] = []
    for path, numbered in _points_by_path(emu, flt, req).values():
        points = [p for _, p in numbered]
        newest = points[-1] if points else None
        lsl, usl = spec_limits(newest.comp_op, newest.low, newest.high) if newest else (None, None)
        stats = summary((p.value for p in points if p.value is not None), lsl, usl)
        rows.append(
            AggregatedMeasurement(
                measurement_path=path,
                step_name=newest.step_name if newest else None,
                step_path=newest.step_path if newest else None,
                measure_name=newest.measure_name if newest else None,
                part_number=newest.header.part_number if newest else None,
                passed_count=sum(1 for p in points if p.status == "P"),
                failed_count=sum(1 for p in points if p.status == "F"),
                unit=newest.unit if newest else None,
                comp_operator=newest.comp_op if newest else None,
                limit1=newest.low if newest else None,
                limit2=newest.high if newest else None,
                **stats,
            )
        )
    return json_response(rows)


def test_step_analysis(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/TestStepAnalysis``: statistics per step of the selected reports."""
    flt = _statistics_filter(req)
    chosen = select_reports(emu, flt, span=statistics_window(flt), run=flt.run or Run.FIRST)
    limit = flt.max_count if flt.max_count is not None else _MAX_REPORTS
    chosen = chosen[len(chosen) - limit :] if limit else []
    return json_response(step_analysis(_tested(emu, chosen)))


# --- report lists -----------------------------------------------------------------------------


def _headers(chosen: list[ReportFacts]) -> list[ReportHeader]:
    return [facts.header for facts in chosen]


def _newest(chosen: list[ReportFacts], top: int | None) -> list[ReportHeader]:
    count = top if top is not None else _DEFAULT_TOP
    return _headers(list(reversed(chosen))[:count])


def serial_number_history(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/SerialNumberHistory``: every report of the selected units, oldest first."""
    flt = decode_filter(req)
    # Only the members the description lists select; the others would narrow a history.
    history = WATSFilter(
        serial_number=flt.serial_number,
        part_number=flt.part_number,
        batch_number=flt.batch_number,
        misc_value=flt.misc_value,
        product_group=flt.product_group,
        level=flt.level,
    )
    return json_response(_headers(select_reports(emu, history, report_type=None)))


def uut_reports(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/UutReport``: the newest test reports the filter selects."""
    flt = decode_filter(req)
    return json_response(_newest(select_reports(emu, flt, report_type="T"), flt.top_count))


def uur_reports(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/UurReport``: the newest repair reports the filter selects."""
    flt = decode_filter(req)
    return json_response(_newest(select_reports(emu, flt, report_type="R"), flt.top_count))


def _names(req: Request, name: str, known: list[tuple[int, str | None]], what: str) -> str | None:
    """The names a ``;``-separated list of ids or names picks, ``;``-joined (``None``: all).

    Raises:
        HTTPFailure: 404 for an entry that is neither a known id nor a known name.
    """
    text = req.param(name)
    tokens = [t.strip() for t in (text or "").split(";") if t.strip()]
    if not tokens:
        return None
    by_id = {str(i): n or "" for i, n in known}
    by_name = {(n or "").casefold(): n or "" for _, n in known}
    out: list[str] = []
    for token in tokens:
        found = by_id.get(token) or by_name.get(token.casefold())
        if found is None:
            raise HTTPFailure(404, f"{name}: {what} '{token}' was not found.")
        out.append(found)
    return ";".join(out)


def _when(req: Request, name: str) -> datetime | None:
    text = req.param(name)
    if text is None or not text.strip():
        return None
    try:
        return msgspec.convert(text.strip(), datetime)
    except msgspec.ValidationError:
        raise HTTPFailure(400, f"The value '{text}' is not valid for {name}.") from None


def uut_reports_by_query(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/UutReport``: the 1000 newest test reports matching the query."""
    groups = _names(
        req,
        "productGroupId",
        [(g.product_group_id, g.product_group_name) for g in emu.state.product_groups],
        "product group",
    )
    levels = _names(
        req, "levelId", [(lv.level_id, lv.level_name) for lv in emu.state.levels], "level"
    )
    flt = WATSFilter(
        serial_number=req.param("serialNumber"),
        part_number=req.param("partNumber"),
        revision=req.param("revision"),
        batch_number=req.param("batchNumber"),
        station_name=req.param("stationName"),
        test_operation=req.param("testOperation"),
        status=req.param("status"),
        date_from=_when(req, "dateFrom"),
        date_to=_when(req, "dateTo"),
    )
    problems = flt.problems()
    if problems:
        raise HTTPFailure(400, "The request is invalid. " + " ".join(problems))
    flt = msgspec.structs.replace(flt, product_group=groups, level=levels)
    return json_response(_newest(select_reports(emu, flt, report_type="T"), None))
