"""The emulator's repair statistics: ``POST /api/App/DynamicRepair`` and
``GET /api/App/RelatedRepairHistory``, from the stored repair (UUR) reports.

A *repair* is one failure a repair report records (on the repaired unit or a sub-unit); a repair
report without failures still counts as a repair report. Dimensions named ``test…`` (and batch
number, test software) come from the test report the repair references (``uur.refUUT``);
``testOperation`` is the test operation the unit failed (``uur.processCode``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pywats._errors import InvalidArgumentError
from pywats.models.analytics_data import (
    DEFAULT_REPAIR_DIMENSIONS,
    PATH_SEPARATOR,
    REPAIR_DIMENSIONS,
    REPAIR_KPIS,
    RepairHistoryRecord,
    RepairStatistics,
)
from pywats.models.analytics_filter import DateGrouping, WATSFilter
from pywats.models.analytics_yield import parse_dimensions
from pywats.models.report import Failure, MiscInfo, SubUnit, UURReport, UUTReport
from pywats.testing._analytics_select import (
    ALL_TIME,
    decode_filter,
    documents,
    select_reports,
    statistics_window,
)
from pywats.testing._analytics_stats import ReportFacts, ordered, period_label, period_start
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_repair_routes"]

_DEFAULT_TOP = 10


def add_repair_routes(router: Router) -> None:
    """Register the repair statistics routes on ``router``."""
    router.add("POST", "/api/App/DynamicRepair", dynamic_repair)
    router.add("GET", "/api/App/RelatedRepairHistory", related_repair_history)


# --- repairs ----------------------------------------------------------------------------------


def _period(when: datetime | None, grouping: DateGrouping | None) -> str | None:
    """The period a time is in, named as the yield rows name periods (``2026-03-02``…)."""
    return period_label(period_start(when, grouping), grouping) if when is not None else None


@dataclass(frozen=True, slots=True)
class _Repair:
    """One failure of one repair report (``failure`` is ``None`` for a report without any)."""

    facts: ReportFacts
    report: UURReport
    number: int  # of the failure within its report
    unit: SubUnit | None
    failure: Failure | None
    test: ReportFacts | None  # the referenced test report's
    test_report: UUTReport | None


def _repairs(emu: FakeWATS, flt: WATSFilter, span: tuple[datetime, datetime]) -> Iterator[_Repair]:
    from pywats.testing._analytics_yield_routes import report_facts

    everything = report_facts(emu)
    by_id = {str(f.header.uuid): f for f in everything}
    tests: dict[str, UUTReport | None] = {}

    def referenced(report: UURReport) -> tuple[ReportFacts | None, UUTReport | None]:
        ref = str(report.uur.ref_uut) if report.uur and report.uur.ref_uut else None
        facts = by_id.get(ref) if ref is not None else None
        if facts is None or ref is None:
            return None, None
        if ref not in tests:
            found = [doc for _, doc in documents(emu, [facts])]
            tests[ref] = found[0] if found and isinstance(found[0], UUTReport) else None
        return facts, tests[ref]

    chosen = select_reports(emu, flt, report_type="R", span=span, facts=everything)
    for facts, report in documents(emu, chosen):
        if not isinstance(report, UURReport):
            continue
        test, test_report = referenced(report)
        failures = [(u, f) for u in report.sub_units or () for f in u.failures or ()]
        for number, (unit, failure) in enumerate(failures or [(None, None)]):
            yield _Repair(facts, report, number, unit, failure, test, test_report)


def _step_of(repair: _Repair) -> tuple[str | None, str | None]:
    """Name and path (``¶``-joined) of the test step the failure refers to."""
    failure = repair.failure
    if failure is None:
        return None, None
    report = repair.test_report
    if failure.ref_step_id is not None and report is not None and report.root is not None:
        stack = [(report.root, report.root.name or "")]
        while stack:
            step, path = stack.pop()
            if step.id == failure.ref_step_id:
                return step.name, path
            stack.extend(
                (child, f"{path}{PATH_SEPARATOR}{child.name or ''}") for child in step.steps or ()
            )
    return failure.ref_step_name, None


_Value = Callable[["FakeWATS", _Repair, DateGrouping | None], str | None]


def _fail(get: Callable[[Failure], str | None]) -> _Value:
    return lambda emu, r, g: get(r.failure) if r.failure is not None else None


def _test(get: Callable[[ReportFacts], str | None]) -> _Value:
    return lambda emu, r, g: get(r.test) if r.test is not None else None


def _process_name(emu: FakeWATS, code: int | None) -> str | None:
    process = emu.state.process(code) if code is not None else None
    return process.name if process else None


_DIMENSION_VALUES: dict[str, _Value] = {
    "partNumber": lambda emu, r, g: r.facts.header.part_number,
    "revision": lambda emu, r, g: r.facts.header.revision,
    "productName": lambda emu, r, g: r.facts.product_name or r.report.product_name,
    "productGroup": lambda emu, r, g: ";".join(r.facts.product_groups) or None,
    "unitType": lambda emu, r, g: r.unit.part_type if r.unit else None,
    "repairOperation": lambda emu, r, g: r.facts.header.process_name,
    "period": lambda emu, r, g: _period(r.facts.start, g),
    "level": lambda emu, r, g: r.facts.level,
    "stationName": lambda emu, r, g: r.facts.header.station_name,
    "location": lambda emu, r, g: r.facts.header.location,
    "purpose": lambda emu, r, g: r.facts.header.purpose,
    "operator": lambda emu, r, g: r.facts.header.user_name,
    # One row per misc info of the repair report: filled in by dynamic_repair.
    "miscInfoDescription": lambda emu, r, g: None,
    "miscInfoString": lambda emu, r, g: None,
    "repairCode": _fail(lambda f: f.code),
    "repairCategory": _fail(lambda f: f.category),
    "repairType": lambda emu, r, g: None,  # the repair type of a fail code is not in the report
    "componentRef": _fail(lambda f: f.com_ref),
    "componentNumber": _fail(lambda f: f.art_number),
    "componentRevision": _fail(lambda f: f.art_rev),
    "componentVendor": _fail(lambda f: f.art_vendor),
    "componentDescription": _fail(lambda f: f.art_description),
    "functionBlock": _fail(lambda f: f.func_block),
    "referencedStep": lambda emu, r, g: _step_of(r)[0],
    "referencedStepPath": lambda emu, r, g: _step_of(r)[1],
    "testOperation": lambda emu, r, g: _process_name(
        emu, r.report.uur.process_code if r.report.uur else None
    ),
    "testPeriod": lambda emu, r, g: _period(r.test.start, g) if r.test else None,
    "testLevel": _test(lambda t: t.level),
    "testStationName": _test(lambda t: t.header.station_name),
    "testLocation": _test(lambda t: t.header.location),
    "testPurpose": _test(lambda t: t.header.purpose),
    "testOperator": _test(lambda t: t.header.user_name),
    "batchNumber": _test(lambda t: t.header.batch_number),
    "swFilename": _test(lambda t: t.header.sw_filename),
    "swVersion": _test(lambda t: t.header.sw_version),
}

_MISC = ("miscInfoDescription", "miscInfoString")


def _misc_values(report: UURReport) -> list[tuple[str | None, str | None]]:
    infos: list[MiscInfo] = list(report.misc_infos or ())
    return [
        (
            m.description,
            m.text if m.text is not None else (str(m.numeric) if m.numeric is not None else None),
        )
        for m in infos
    ] or [(None, None)]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def dynamic_repair(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/DynamicRepair``: repair counts grouped by the requested dimensions."""
    flt = decode_filter(req)
    text = req.param("dimensions") or flt.dimensions or DEFAULT_REPAIR_DIMENSIONS
    try:
        order = parse_dimensions(text, REPAIR_DIMENSIONS, REPAIR_KPIS) or parse_dimensions(
            DEFAULT_REPAIR_DIMENSIONS, REPAIR_DIMENSIONS, REPAIR_KPIS
        )
    except InvalidArgumentError as exc:
        raise HTTPFailure(400, f"The request is invalid. {exc}") from None
    dims = [name for name, _ in order if name not in REPAIR_KPIS]
    grouping = flt.date_grouping
    top = flt.top_count
    if top is None and flt == WATSFilter():
        top = _DEFAULT_TOP  # the server's default filter: the top 10
    rows: dict[tuple[str | None, ...], tuple[set[str], set[tuple[str, int]]]] = {}
    for repair in _repairs(emu, flt, statistics_window(flt)):
        values = {d: _DIMENSION_VALUES[d](emu, repair, grouping) for d in dims if d not in _MISC}
        for description, value in (
            _misc_values(repair.report) if set(_MISC) & set(dims) else [(None, None)]
        ):
            values.update(miscInfoDescription=description, miscInfoString=value)
            key = tuple(values.get(d) for d in dims)
            reports, failures = rows.setdefault(key, (set(), set()))
            reports.add(str(repair.facts.header.uuid))
            if repair.failure is not None:
                failures.add((str(repair.facts.header.uuid), repair.number))
    answer: list[dict[str, Any]] = [
        {
            **{_snake(d): v for d, v in zip(dims, key, strict=True)},
            "repair_report_count": len(reports),
            "repair_count": len(failures),
        }
        for key, (reports, failures) in rows.items()
    ]
    answer = ordered(answer, [(_snake(name), direction) for name, direction in order])
    if top is not None:
        answer = answer[:top]
    return json_response([RepairStatistics(**row) for row in answer])


# --- related repair history -------------------------------------------------------------------


def _code_param(req: Request, name: str) -> int | None:
    text = req.param(name)
    if text is None or not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise HTTPFailure(400, f"The value '{text}' is not valid for {name}.") from None


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The request is invalid. {name} is required.")
    return value.strip()


def related_repair_history(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/RelatedRepairHistory``: the repaired failures of a part, newest first."""
    part_number = _required(req, "partNumber").casefold()
    revision = _required(req, "revision").casefold()
    repair_code = _code_param(req, "repairOperationCode")
    test_code = _code_param(req, "testOperationCode")
    # Newest repair report first; a report's failures in the order it records them.
    by_report: dict[str, list[RepairHistoryRecord]] = {}
    for repair in _repairs(emu, WATSFilter(), ALL_TIME):
        failure, unit, report = repair.failure, repair.unit, repair.report
        if failure is None:
            continue
        on_report = ((report.pn or "").casefold(), (report.rev or "").casefold())
        on_unit = ((unit.pn or "").casefold(), (unit.rev or "").casefold()) if unit else on_report
        if (part_number, revision) not in (on_report, on_unit):
            continue
        tested = report.uur.process_code if report.uur else None
        if repair_code is not None and report.process_code != repair_code:
            continue
        if test_code is not None and tested != test_code:
            continue
        by_report.setdefault(str(report.id), []).append(
            RepairHistoryRecord(
                report_id=report.id,
                referenced_uut=report.uur.ref_uut if report.uur else None,
                serial_number=report.sn,
                part_number=report.pn,
                revision=report.rev,
                repair_date=repair.facts.header.start,
                repair_operation_code=report.process_code,
                repair_operation=repair.facts.header.process_name,
                test_operation_code=tested,
                test_operation=_process_name(emu, tested),
                operator=repair.facts.header.user_name,
                station_name=repair.facts.header.station_name,
                unit_serial_number=unit.sn if unit else None,
                unit_part_number=unit.pn if unit else None,
                unit_revision=unit.rev if unit else None,
                repair_category=failure.category,
                repair_code=failure.code,
                component_ref=failure.com_ref,
                component_number=failure.art_number,
                component_revision=failure.art_rev,
                component_vendor=failure.art_vendor,
                component_description=failure.art_description,
                function_block=failure.func_block,
                referenced_step=_step_of(repair)[0],
                comment=failure.comment,
            )
        )
    return json_response([r for records in reversed(by_report.values()) for r in records])
