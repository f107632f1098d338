"""TestStand measurements, limits and charts as WSJF measurements and charts.

TestStand's comparison operators are WATS's (``GELE``, ``GT``, ``LOG``…, a single limit in
``Limits.Low``), with two differences handled here:

* ``EQT`` (equal within a tolerance): ``GELE`` from ``Nominal - Low`` to ``Nominal + High``,
  the tolerances scaled by ``Limits.ThresholdType`` (``Percentage`` of the nominal, ``PPM``, or
  ``Delta``, the default); the server has no ``EQT``;
* infinite limits, which JSON cannot carry: ``GELE`` from -Inf to 5 is ``LE`` 5, from -Inf to
  +Inf it is ``LOG``; a limit that still is not finite leaves the measurement logged only, and
  the step's report text says so. A value that is not finite (``NaN``) is left out the same way.

String operators: ``CASESENSIT``, ``IGNORECASE`` (any case, ``CaseSensitive`` too), ``EQ``,
``NE``, ``LOG``. A string step without an operator is logged.

Charts are the WATS add-on's ``WATS_Chart_Data``: no real file with one is at hand, so the
layout of ``PlotData`` is taken from its bounds: a 2 x n array is x (row 0) and y (row 1), an
n x 2 one x (column 0) and y (column 1), a single row or column is y alone (x counts 0, 1, 2…).
"""

from __future__ import annotations

import math
import re

from pywats.models.report import (
    NUMERIC_OPS,
    BooleanMeasurement,
    Chart,
    ChartSeries,
    ChartType,
    CompOp,
    NumericMeasurement,
    Step,
    StringMeasurement,
)
from pywats.report_builder import evaluate, evaluate_string
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._common import infer_comp_op
from pywats_station.converters.builtin._teststand_values import fit, number, parse_float, text_of
from pywats_station.converters.builtin._teststand_xml import Node, shorten

__all__ = ["chart", "numeric", "settle", "string"]

_MEASUREMENT = frozenset({"P", "F", "S"})
_STRING_OPS = {
    "log": CompOp.LOG,
    "eq": CompOp.EQ,
    "ne": CompOp.NE,
    "casesensit": CompOp.CASESENSIT,
    "casesensitive": CompOp.CASESENSIT,
    "ignorecase": CompOp.IGNORECASE,
}
# A two-limit operator with one limit at infinity compares against the other limit only.
_LOW_OPEN = {CompOp.GELE: CompOp.LE, CompOp.GTLE: CompOp.LE, CompOp.GELT: CompOp.LT,
             CompOp.GTLT: CompOp.LT, CompOp.LTGT: CompOp.GT, CompOp.LEGT: CompOp.GT,
             CompOp.LTGE: CompOp.GE, CompOp.LEGE: CompOp.GE}  # fmt: skip
_HIGH_OPEN = {CompOp.GELE: CompOp.GE, CompOp.GELT: CompOp.GE, CompOp.GTLE: CompOp.GT,
              CompOp.GTLT: CompOp.GT, CompOp.LTGT: CompOp.LT, CompOp.LTGE: CompOp.LT,
              CompOp.LEGT: CompOp.LE, CompOp.LEGE: CompOp.LE}  # fmt: skip
_INSIDE = frozenset({CompOp.GELE, CompOp.GTLE, CompOp.GELT, CompOp.GTLT})
_INDEX = re.compile(r"\[(\d{1,9})\]")
_CHART_TYPES = [ChartType.LINE, ChartType.LINE_LOG_XY, ChartType.LINE_LOG_X, ChartType.LINE_LOG_Y]


def settle(
    step: Step, meas: NumericMeasurement | StringMeasurement | BooleanMeasurement, passed: bool
) -> bool:
    """Give a one-measurement step and its measurement one status; ``False``: drop the payload.

    The server rejects a step whose status differs from its only measurement's, and a
    measurement is only Passed, Failed or Skipped.
    """
    if step.status in _MEASUREMENT:
        meas.status = step.status
        return True
    if step.status in ("D", "U"):  # no verdict in the file: the limits give it
        meas.status = step.status = "P" if passed else "F"
        return True
    return False  # Error, Terminated: the step keeps its status, the values go elsewhere


def numeric(
    holder: Node, value_prop: Node, name: str | None, notes: list[str]
) -> tuple[NumericMeasurement, bool]:
    """A numeric measurement from ``holder``'s value, limits, operator and unit."""
    value: float | None = number(value_prop)
    limits = holder.prop("Limits")
    low = _limit(limits, "Low")
    high = _limit(limits, "High")
    comp = holder.prop("Comp")
    word = (text_of(comp) or "").strip()
    label = f"measurement {name!r}" if name else "the measurement"
    assert comp is not None or not word
    if word.upper() == "EQT":
        assert comp is not None
        op, low, high = CompOp.GELE, *_tolerance(holder, comp)
    elif word:
        assert comp is not None
        try:
            op = CompOp.parse(word)
        except ValueError:
            op = CompOp.CASESENSIT  # not numeric: refused below
        if op not in NUMERIC_OPS:
            raise ConversionError(
                f"{comp.where()}: {shorten(word)!r} is not a numeric comparison operator"
            )
    else:
        op, low, high = infer_comp_op(None, low, high, label)  # no Comp: from the limits
    if op is CompOp.LOG:
        low = high = None
    elif op.limit_count == 1:
        low, high = (low if low is not None else high), None
        if low is None:
            raise ConversionError(f"{holder.where()}: {op.value} needs a limit (Limits.Low)")
    elif low is None or high is None:
        raise ConversionError(f"{holder.where()}: {op.value} needs Limits.Low and Limits.High")
    op, low, high = _open_limits(op, low, high, label, notes)
    assert value is not None
    if not math.isfinite(value):
        # JSON has no NaN or infinity: the value is left out and said in the report text.
        notes.append(f"{label[0].upper()}{label[1:]} is {value!r}: no value in WATS")
        value = None
    passed = value is not None and evaluate(op, value, low, high)
    unit = (text_of(holder.prop("Units")) or "").strip() or None
    meas = NumericMeasurement(
        name=name, value=value, unit=unit, comp_op=op.value, low_limit=low, high_limit=high
    )
    return meas, passed


def _limit(limits: Node | None, name: str) -> float | None:
    prop = limits.prop(name) if limits is not None else None
    return number(prop) if prop is not None else None


def _open_limits(
    op: CompOp, low: float | None, high: float | None, label: str, notes: list[str]
) -> tuple[CompOp, float | None, float | None]:
    """The operator and limits with infinite limits taken out (JSON has no infinity).

    ``GELE`` from -inf to 5 is ``LE`` 5; from -inf to +inf it is ``LOG``. A limit that still is not
    a finite number leaves the measurement logged only, with a note.
    """
    if op.limit_count == 2 and low is not None and high is not None:
        if low == -math.inf and high == math.inf and op in _INSIDE:
            return CompOp.LOG, None, None
        if low == -math.inf and math.isfinite(high):
            return _LOW_OPEN[op], high, None
        if high == math.inf and math.isfinite(low):
            return _HIGH_OPEN[op], low, None
    if all(v is None or math.isfinite(v) for v in (low, high)):
        return op, low, high
    notes.append(
        f"{label[0].upper()}{label[1:]}: {op.value} limits {low!r}, {high!r} are not finite"
    )
    return CompOp.LOG, None, None


def _tolerance(holder: Node, comp: Node) -> tuple[float, float]:
    """Low and high limits of an ``EQT`` (equal within a tolerance) comparison."""
    raw = holder.prop("RawLimits") or holder.prop("Limits")
    limits = holder.prop("Limits")
    nominal = _limit(raw, "Nominal")
    low, high = _limit(raw, "Low"), _limit(raw, "High")
    if nominal is None or low is None or high is None:
        raise ConversionError(f"{comp.where()}: EQT needs Nominal, Low and High limits")
    kind = (text_of(limits.prop("ThresholdType")) if limits is not None else None) or text_of(
        raw.prop("ThresholdType") if raw is not None else None
    )
    word = (kind or "delta").strip().lower()
    if "percent" in word:
        scale = abs(nominal) / 100
    elif "ppm" in word:
        scale = abs(nominal) / 1e6
    elif word in ("delta", "offset", "absolute", ""):
        scale = 1.0
    else:
        raise ConversionError(
            f"{comp.where()}: EQT threshold type {shorten(kind or '')!r} is not "
            "Percentage, PPM or Delta"
        )
    return nominal - low * scale, nominal + high * scale


def string(
    holder: Node, value_prop: Node, limit: str | None, comp: Node | None, name: str | None
) -> tuple[StringMeasurement, bool]:
    """A string measurement (``LOG`` when the file has no operator)."""
    value = text_of(value_prop) or ""
    word = (text_of(comp) or "").strip()
    key = word.replace(" ", "").replace("_", "").lower()
    op = _STRING_OPS.get(key) if key else CompOp.LOG
    if op is None:
        assert comp is not None
        raise ConversionError(
            f"{comp.where()}: {shorten(word)!r} is not a string comparison operator"
        )
    kept = None if op is CompOp.LOG else (limit or "")
    passed = evaluate_string(op, value, kept)
    return StringMeasurement(name=name, value=value, limit=kept, comp_op=op.value), passed


def chart(node: Node) -> Chart:
    """The WATS add-on's chart (``WATS_Chart_Data``) with a series per plot."""
    kind = (text_of(node.prop("ChartType")) or "").strip()
    chart_type = next((t for t in ChartType if t.value.lower() == kind.lower()), None)
    if chart_type is None and kind.isdigit() and int(kind) < len(_CHART_TYPES):
        chart_type = _CHART_TYPES[int(kind)]
    series: list[ChartSeries] = []
    plots = node.prop("Plots")
    for item in plots.values() if plots is not None else []:
        plot = next(item.props(), None)
        data = plot.prop("PlotData") if plot is not None else None
        if plot is None or data is None:
            continue
        x, y = _plot_data(data)
        if y:
            name = fit(text_of(plot.prop("PlotName")), 100) or f"Plot {len(series)}"
            kind_of = (text_of(plot.prop("PlotDataType")) or "").strip() or "XYG"
            series.append(ChartSeries.from_points(name, x, y, data_type=kind_of))
    return Chart(
        chart_type=(chart_type or ChartType.LINE).value,
        label=fit(text_of(node.prop("ChartLabel")), 100) or None,
        x_label=fit(text_of(node.prop("Xlabel")), 100) or None,
        x_unit=fit(text_of(node.prop("Xunit")), 100) or None,
        y_label=fit(text_of(node.prop("Ylabel")), 100) or None,
        y_unit=fit(text_of(node.prop("Yunit")), 100) or None,
        series=series,
    )


def _plot_data(data: Node) -> tuple[list[float] | None, list[float]]:
    """x and y of a plot's ``PlotData``: a 2 x n or n x 2 array (x first), or y alone."""
    cells: dict[tuple[int, ...], float] = {}
    for item in data.values():
        index = tuple(int(i) for i in _INDEX.findall(item.attrs.get("ID", "")))
        if not index:
            raise ConversionError(f"{item.where()}: an array item without an index [i][j]")
        value = parse_float(item.text)
        if value is None or not math.isfinite(value):
            raise ConversionError(
                f"{item.where()}: {shorten(item.text.strip())!r} is not a finite number"
            )
        cells[index] = value
    if not cells:
        return None, []
    dims = {len(k) for k in cells}
    if dims == {1}:
        return None, [cells[k] for k in sorted(cells)]
    rows = sorted({k[0] for k in cells})
    cols = sorted({k[1] for k in cells})
    if dims != {2} or len(cells) != len(rows) * len(cols):
        raise ConversionError(f"{data.where()}: PlotData is not a full 1-D or 2-D array")
    if len(rows) == 2:
        return [cells[(rows[0], c)] for c in cols], [cells[(rows[1], c)] for c in cols]
    if len(cols) == 2:
        return [cells[(r, cols[0])] for r in rows], [cells[(r, cols[1])] for r in rows]
    if len(rows) == 1:
        return None, [cells[(rows[0], c)] for c in cols]
    if len(cols) == 1:
        return None, [cells[(r, cols[0])] for r in rows]
    raise ConversionError(
        f"{data.where()}: PlotData is {len(rows)} x {len(cols)}; a plot is x and y (2 x n or n x 2)"
    )
