"""The emulator's yield routes: volume and yield, worst yield, dynamic yield, high volume,
top failed, OEE, computed from the reports actually stored (tag App).

How the emulator plays the server (the counting rules are in :mod:`._analytics_stats`; where the
description is silent, the choice is named):

* Every ``POST`` takes a ``PublicWatsFilter`` body (required: an empty body is a 400; ``{}`` is
  the default filter). Member names match in any letter case; a member of the wrong type or a
  value out of range is a 400 naming it.
* Only test (UUT) reports count. The window is the filter's dates, else its periods, else the
  last 30 days (``GET`` forms: the last ``days`` days).
* ``productGroupId`` and ``levelId`` of the ``GET`` forms take ids or names, ``;`` between
  several; empty means all; one that names no group or level is a 404. A report's level is the
  level of the station client (System Manager) whose name is its station name.
* Yield lists are rows per product (part number, product name) and test operation, or per
  product group and test operation; with a ``dateGrouping`` also per period. ``yield`` keeps
  rows whose first-pass yield is at most that percentage, ``minCount``/``maxCount`` bound a
  row's unit count, ``topCount`` the number of rows.
* Top failed steps count the steps without child steps that failed (status ``F``), once per
  report, per part number and test operation; ``yield`` keeps only products and operations
  whose first-pass yield is at most that percentage.
* OEE reads ``availableTime`` Monday first; the reports carry one duration (``execTime``), so
  the connection-time and execution-time bounds both apply to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pywats._errors import InvalidArgumentError
from pywats.formats import wsjf
from pywats.models.analytics_filter import INT32_MAX, DateGrouping, WATSFilter
from pywats.models.analytics_yield import YIELD_DIMENSIONS, YIELD_KPIS, parse_dimensions
from pywats.models.report import UUTReport
from pywats.testing._analytics_stats import (
    ReportFacts,
    YieldCounts,
    back,
    before,
    dimension_keys,
    kpis,
    oee,
    ordered,
    period_label,
    period_start,
    select,
    shift,
    trends,
    window,
    yield_table,
)
from pywats.testing._analytics_top_failed import failed_step_table, step_results
from pywats.testing._asset_registry import AssetRecord, asset_registry
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response
from pywats.testing._product_extra_routes import groups_of
from pywats.testing._product_routes import decode_members, product_state

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_analytics_yield_routes", "parse_filter", "report_facts"]

DEFAULT_DIMENSIONS = "unitCount desc;partNumber;testOperation"
"""Dynamic yield's dimensions when none are given (the description's default filter)."""

DEFAULT_TOP = 10
"""Dynamic yield's ``topCount`` when none is given (the description's default filter)."""

MAX_DAYS = 36_500
"""The most ``days`` a ``GET`` form looks back (a hundred years)."""

Span = tuple[datetime, datetime]
"""A time window ``[start, end)``."""

_PRODUCT = ("partNumber", "productName", "testOperation", "processCode")
_GROUP = ("productGroup", "testOperation", "processCode")


def add_analytics_yield_routes(router: Router) -> None:
    """Register the yield routes on ``router``."""
    router.add("POST", "/api/App/DynamicYield", dynamic_yield)
    router.add("GET", "/api/App/VolumeYield", _by_days(_volume_order, _PRODUCT))
    router.add("POST", "/api/App/VolumeYield", _by_filter(_volume_order, _PRODUCT))
    router.add("GET", "/api/App/HighVolume", _by_days(_high_volume_order, _PRODUCT))
    router.add("POST", "/api/App/HighVolume", _by_filter(_high_volume_order, _PRODUCT))
    router.add("POST", "/api/App/HighVolumeByProductGroup", _by_filter(_high_volume_order, _GROUP))
    router.add("GET", "/api/App/WorstYield", _by_days(_worst_order, _PRODUCT))
    router.add("POST", "/api/App/WorstYield", _by_filter(_worst_order, _PRODUCT))
    router.add("POST", "/api/App/WorstYieldByProductGroup", _by_filter(_worst_order, _GROUP))
    router.add("GET", "/api/App/TopFailed", top_failed_get)
    router.add("POST", "/api/App/TopFailed", top_failed_post)
    router.add("POST", "/api/App/OeeAnalysis", oee_analysis)


# --- the request ------------------------------------------------------------------------------


def parse_filter(req: Request) -> WATSFilter:
    """The ``PublicWatsFilter`` body of a request.

    Raises:
        HTTPFailure: 400 for a missing body, one that is not a filter (naming the member that
            is wrong), or values out of range (naming each).
    """
    if not req.body.strip():
        raise HTTPFailure(400, "The filter is required: send a PublicWatsFilter object ({}).")
    flt = decode_members(req.body, WATSFilter, "The filter is invalid.")
    problems = flt.problems()
    if problems:
        raise HTTPFailure(400, "The filter is invalid. " + " ".join(problems))
    return flt


def _int(
    req: Request, name: str, *, required: bool, least: int, most: int = INT32_MAX
) -> int | None:
    value = req.param(name)
    if value is None or (not value.strip() and not required):
        if required:
            raise HTTPFailure(400, f"The {name} parameter is required.")
        return None
    if not re.fullmatch(r"\s*[+-]?\d{1,10}\s*", value) or not least <= int(value) <= most:
        raise HTTPFailure(
            400,
            f"The value '{value[:40]}' is not valid for {name}: a whole number from "
            f"{least} to {most}.",
        )
    return int(value)


def _text(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None:
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in text.split(";") if t.strip()]


def _named(
    text: str, known: Sequence[tuple[int, str | None]], what: str, param: str
) -> set[str] | None:
    """The names a ``;``-separated list of ids or names picks (``None``: empty, all).

    Raises:
        HTTPFailure: 404 for an entry that is neither a known id nor a known name.
    """
    tokens = _tokens(text)
    if not tokens:
        return None
    by_id = {str(i): name or "" for i, name in known}
    by_name = {(name or "").casefold(): name or "" for _, name in known}
    out: set[str] = set()
    for token in tokens:
        name = by_id.get(token) or by_name.get(token.casefold())
        if name is None:
            raise HTTPFailure(404, f"{param}: {what} '{token}' was not found.")
        out.add(name)
    return out


# --- the reports --------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def report_facts(emu: FakeWATS) -> list[ReportFacts]:
    """Every stored report with what the emulator knows about it beyond the report: its
    product's name and groups (product domain), its station's level, its assets' names."""
    products = product_state(emu)
    assets = asset_registry(emu)
    state = emu.state
    with state.lock:
        groups = list(state.product_groups)
        level_names = {lv.level_id: lv.level_name for lv in state.levels}
        station_levels = {
            (c.name or "").casefold(): level_names.get(c.client_group_id or -1)
            for c in state.clients
        }
    memo: dict[tuple[str, str | None], tuple[str | None, tuple[str, ...]]] = {}
    out: list[ReportFacts] = []
    for stored in emu.reports.headers():
        h = stored.header
        key = (h.part_number or "", h.revision)
        if key not in memo:
            with products.lock:
                record = products.product(key[0])
            name = record.get("name") if record else None
            memo[key] = (
                name if isinstance(name, str) else None,
                tuple(g.product_group_name or "" for g in groups_of(groups, key[0], key[1])),
            )
        product_name, product_groups = memo[key]
        with assets.lock:
            used = tuple(
                (a.serial_number or "", _asset_name(assets.by_serial(a.serial_number or "")))
                for a in h.assets or ()
            )
        out.append(
            ReportFacts(
                header=h,
                product_name=product_name,
                product_groups=product_groups,
                level=station_levels.get((h.station_name or "").casefold()),
                assets=used,
            )
        )
    return out


def _asset_name(record: AssetRecord | None) -> str | None:
    return record.asset_name if record is not None else None


def _scope(
    emu: FakeWATS,
    flt: WATSFilter,
    span: Span,
    groups: set[str] | None = None,
    levels: set[str] | None = None,
) -> list[ReportFacts]:
    """The test reports the filter selects in ``span``, then only those of the ``groups`` and
    ``levels`` named (``None``: any)."""
    found = select(report_facts(emu), flt, span)
    return [
        r
        for r in found
        if (groups is None or groups.intersection(r.product_groups))
        and (levels is None or r.level in levels)
    ]


def _days_params(req: Request) -> tuple[int, str, str]:
    """``days``, ``productGroupId`` and ``levelId`` of a ``GET`` form, checked (400)."""
    days = _int(req, "days", required=True, least=1, most=MAX_DAYS) or 1
    return days, _text(req, "productGroupId"), _text(req, "levelId")


def _days_filter(
    emu: FakeWATS, days: int, group_text: str, level_text: str
) -> tuple[Span, set[str] | None, set[str] | None]:
    """The window of a ``GET`` form and the product groups and levels it names (404 for a
    name or id the emulator does not know)."""
    with emu.state.lock:
        groups = [(g.product_group_id, g.product_group_name) for g in emu.state.product_groups]
        levels = [(lv.level_id, lv.level_name) for lv in emu.state.levels]
    now = _now()
    return (
        (now - timedelta(days=days), now),
        _named(group_text, groups, "product group", "productGroupId"),
        _named(level_text, levels, "level", "levelId"),
    )


# --- yield lists ----------------------------------------------------------------------------------


Order = list[tuple[str, str | None]]


def _volume_order(dims: Sequence[str]) -> Order:
    return [(d, None) for d in dims if d not in ("productName", "testOperation")]


def _high_volume_order(dims: Sequence[str]) -> Order:
    return [("unitCount", "desc"), *_volume_order(dims)]


def _worst_order(dims: Sequence[str]) -> Order:
    return [("fpy", None), ("unitCount", "desc"), *_volume_order(dims)]


def _grouped_by(flt: WATSFilter, dims: Sequence[str]) -> list[str]:
    """The dimensions of a yield list: with a date grouping, per period too."""
    period = flt.date_grouping is not None and flt.date_grouping != DateGrouping.NONE
    return [*dims, "period"] if period else list(dims)


def _yield_rows(
    scope: Sequence[ReportFacts], dims: Sequence[str], flt: WATSFilter
) -> list[dict[str, Any]]:
    """One row per combination of dimension values: the values, then every KPI."""
    grouping = flt.date_grouping
    table = yield_table(scope, lambda r: dimension_keys(r, dims, grouping))
    return [{**dict(zip(dims, key, strict=True)), **kpis(counts)} for key, counts in table.items()]


def _limited(rows: list[dict[str, Any]], flt: WATSFilter) -> list[dict[str, Any]]:
    """Rows within the filter's ``yield``, ``minCount`` and ``maxCount``."""
    out = rows
    if flt.yield_ is not None:
        out = [r for r in out if r["fpy"] is not None and r["fpy"] <= flt.yield_]
    if flt.min_count is not None:
        out = [r for r in out if r["unitCount"] >= flt.min_count]
    if flt.max_count is not None:
        out = [r for r in out if r["unitCount"] <= flt.max_count]
    return out


def _yield_list(
    scope: Sequence[ReportFacts],
    flt: WATSFilter,
    dims: Sequence[str],
    order: Callable[[Sequence[str]], Order],
) -> list[dict[str, Any]]:
    grouped = _grouped_by(flt, dims)
    rows = ordered(_limited(_yield_rows(scope, grouped, flt), flt), order(grouped))
    return rows[: flt.top_count] if flt.top_count is not None else rows


Handler = Callable[..., Response]


def _by_filter(order: Callable[[Sequence[str]], Order], dims: Sequence[str]) -> Handler:
    """A ``POST`` yield list: the filter's reports, rows by ``dims``, sorted by ``order``."""

    def handle(emu: FakeWATS, req: Request) -> Response:
        flt = parse_filter(req)
        scope = _scope(emu, flt, window(flt, _now()))
        return json_response(_yield_list(scope, flt, dims, order))

    return handle


def _by_days(order: Callable[[Sequence[str]], Order], dims: Sequence[str]) -> Handler:
    """A ``GET`` yield list: the last ``days`` days, of the groups and levels named."""

    def handle(emu: FakeWATS, req: Request) -> Response:
        span, groups, levels = _days_filter(emu, *_days_params(req))
        flt = WATSFilter()
        scope = _scope(emu, flt, span, groups, levels)
        return json_response(_yield_list(scope, flt, dims, order))

    return handle


# --- dynamic yield ------------------------------------------------------------------------------


def _previous_span(span: Span, flt: WATSFilter, by_period: bool) -> Span:
    """The reports a row's previous values come from: the window as long before the window,
    or (rows per period) from one period before the window on."""
    if by_period:
        return back(period_start(span[0], flt.date_grouping), 1, flt.date_grouping), span[1]
    return before(span[0], span[1] - span[0]), span[0]


def _with_trends(
    emu: FakeWATS,
    rows: list[dict[str, Any]],
    dims: Sequence[str],
    flt: WATSFilter,
    span: Span,
) -> None:
    """Add ``previous…`` and ``…Trend`` KPIs to ``rows``: against the same dimension values
    in the window before, or, for rows per period, in the period before."""
    by_period = "period" in dims
    previous = _previous_span(span, flt, by_period)
    table = {
        key: kpis(counts)
        for key, counts in yield_table(
            _scope(emu, flt, previous),
            lambda r: dimension_keys(r, dims, flt.date_grouping),
        ).items()
    }
    for row in rows:
        values = {d: row[d] for d in dims}
        if by_period and row["firstUtc"] is not None:
            start = period_start(row["firstUtc"], flt.date_grouping)
            values["period"] = period_label(shift(start, flt.date_grouping, -1), flt.date_grouping)
        before_row = table.get(tuple(values[d] for d in dims)) or kpis(YieldCounts())
        row.update(trends(row, before_row))


def dynamic_yield(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/DynamicYield?dimensions=``: yield by any dimensions, ordered as asked."""
    flt = parse_filter(req)
    text = req.param("dimensions") or flt.dimensions or DEFAULT_DIMENSIONS
    try:
        items = parse_dimensions(text)
    except InvalidArgumentError as exc:
        raise HTTPFailure(400, str(exc)) from None
    dims = [name for name, _ in items if name in YIELD_DIMENSIONS]
    wanted = [name for name, _ in items if name in YIELD_KPIS] or list(YIELD_KPIS)
    span = window(flt, _now())
    scope = _scope(emu, flt, span)
    rows = _limited(_yield_rows(scope, dims, flt), flt)
    if any(k.startswith("previous") or k.endswith("Trend") for k in wanted):
        _with_trends(emu, rows, dims, flt, span)
    rows = ordered(rows, items)
    top = flt.top_count if flt.top_count is not None else DEFAULT_TOP
    shown = [*dims, *wanted]
    return json_response([{k: row[k] for k in shown if k in row} for row in rows[:top]])


# --- top failed ---------------------------------------------------------------------------------


def _top_failed(
    emu: FakeWATS, scope: Sequence[ReportFacts], top: int | None
) -> list[dict[str, Any]]:
    pairs = []
    for facts in scope:
        stored = emu.reports.get(str(facts.header.uuid))
        if stored is None:
            continue  # deleted since the scope was taken
        report = wsjf.loads(stored.wsjf)
        if isinstance(report, UUTReport):
            pairs.append((facts, step_results(report)))
    rows = [c.row() for c in failed_step_table(pairs)]
    return rows[:top] if top is not None else rows


def top_failed_get(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/App/TopFailed``: the steps that failed most in the last ``days`` days."""
    part_number, codes_text = _text(req, "partNumber"), _text(req, "processCode")
    days = _days_params(req)
    count = _int(req, "count", required=True, least=1)
    span, groups, levels = _days_filter(emu, *days)
    with emu.state.lock:
        processes = [(p.code, p.name) for p in emu.state.processes]
    names = _named(codes_text, processes, "process", "processCode")
    codes = None if names is None else {c for c, n in processes if n in names}
    flt = WATSFilter(part_number=part_number or None)
    scope = [
        r
        for r in _scope(emu, flt, span, groups, levels)
        if codes is None or r.header.process_code in codes
    ]
    return json_response(_top_failed(emu, scope, count))


def top_failed_post(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/TopFailed``: the steps that failed most in the filter's reports."""
    flt = parse_filter(req)
    scope = _scope(emu, flt, window(flt, _now()))
    if flt.yield_ is not None:
        rows = _yield_rows(scope, ("partNumber", "processCode"), flt)
        keep = {(r["partNumber"], r["processCode"]) for r in _limited(rows, flt)}
        scope = [r for r in scope if (r.header.part_number, r.header.process_code) in keep]
    return json_response(_top_failed(emu, scope, flt.top_count))


# --- OEE ------------------------------------------------------------------------------------------


def _hours(req: Request) -> list[float]:
    """``availableTime``: seven numbers of hours, 0 to 24, Monday first."""
    text = _text(req, "availableTime")
    parts = text.split(",")
    try:
        hours = [float(p) for p in parts]
    except ValueError:
        hours = []
    if len(hours) != 7 or not all(0 <= h <= 24 for h in hours):
        raise HTTPFailure(
            400,
            f"The value '{text[:60]}' is not valid for availableTime: seven numbers of hours "
            "from 0 to 24, Monday first, separated by commas (24,24,24,24,24,24,24).",
        )
    return hours


def oee_analysis(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/App/OeeAnalysis?availableTime=``: availability, performance, quality."""
    hours = _hours(req)
    bounds = {
        name: _int(req, name, required=False, least=0)
        for name in (
            "minConnectionTime",
            "maxConnectionTime",
            "minExecutionTime",
            "maxExecutionTime",
        )
    }
    target = _int(req, "targetOutput", required=False, least=1)
    flt = parse_filter(req)
    span = window(flt, _now())
    least = max(
        (v for k, v in bounds.items() if k.startswith("min") and v is not None), default=None
    )
    most = min(
        (v for k, v in bounds.items() if k.startswith("max") and v is not None), default=None
    )
    scope = [
        r
        for r in _scope(emu, flt, span)
        if (least is None or (r.header.execution_time or 0) >= least)
        and (most is None or (r.header.execution_time or 0) <= most)
    ]
    return json_response(oee(scope, span, hours, target))
