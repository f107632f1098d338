"""A Klippel QC run as a WATS report: one sequence per task, a chart step per curve.

* Each **task** (``Impedance``, ``Sound Pressure``: a data file's name up to its last ``-``)
  is a sequence, in the order of its files' names.
* Each **curve** is a chart step named after its result (``imp``) with the measurements ``avg``,
  ``min`` and ``max`` of the curve (logged) and ``OutOfBounds``, the number of frequencies
  outside the limit curves (``LT 1``: passes when none is), and a ``LineLogX`` chart: the
  result (series ``values``) and its limit curves (series ``max``, ``min``).
* Each **single value** is a numeric step: both limits ``GELE``, ``max`` alone ``LE``, ``min``
  alone ``GE``, none ``LOG``. A value not measured (``-``) is a step without measurement whose
  status is Klippel's verdict for it (``S`` when the header names none).
* Results the header judges (``Results_Pass``, ``Results_Fail``…) without data in any file
  become steps of the sequence ``Results without data``, with that verdict.

A curve step's status is Klippel's verdict for that result when the header gives one (it may
weigh the limits otherwise than the plain count); a single value's status follows its limits
(the server requires a one-measurement step to agree with its measurement), and a differing
verdict is said in its report text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pywats import ReportInvalidError
from pywats.models.report import (
    AdditionalData,
    AdditionalDataProperty,
    ChartSeries,
    ChartType,
    CompOp,
    UUTReport,
)
from pywats.report_builder import Measure, ReportBuilder, SequenceBuilder, StepHandle
from pywats_station.converters.api import ConversionError, StationInfo
from pywats_station.converters.builtin._budget import OutputTooLarge, current_budget
from pywats_station.converters.builtin._common import infer_comp_op
from pywats_station.converters.builtin._klippel_data import Curve, NotRead, ValueRow, Values
from pywats_station.converters.builtin._klippel_header import KlippelHeader

__all__ = ["DEFAULT_UNITS", "Run", "build_report"]

DEFAULT_UNITS: dict[str, str] = {
    "imp": "Ohm",
    "re": "Ohm",
    "fs": "Hz",
    "resp": "dB",
    "level": "dB",
    "rbz": "dB",
    "thd": "dB",
}
"""Units of Klippel QC's standard results (the files carry none); ``arguments.units`` adds or
overrides."""

_STATUS = {"Pass": "P", "Fail": "F", "Warning": "P", "Void": "S", "Noise": "E", "Invalid": "E"}
_MISC_TEXT = 255  # WATS's limit on a misc info's text
_SEQ_PATH = 500  # … on a sequence file path


@dataclass
class Run:
    """What one run is made of, read and checked.

    Attributes:
        header: the header file.
        header_name: its name as shown.
        files: the folder's files, read (curves, values) or not (with the reason), in order.
        serial_number, part_number, revision, operator: the unit and who tested it.
        process_code: the test operation.
        start: the start time with its offset.
        exec_time: seconds from the start to the newest file, when known.
    """

    header: KlippelHeader
    header_name: str
    files: list[Curve | Values | NotRead]
    serial_number: str
    part_number: str
    revision: str
    operator: str | None
    process_code: int
    start: datetime
    result: str
    verdict_word: str
    exec_time: float | None = None
    units: dict[str, str] = field(default_factory=dict)


def build_report(run: Run, station: StationInfo) -> UUTReport:
    """Build the report of a run (see the module docstring).

    Raises:
        ConversionError: a value cannot be a measurement (its limits cross), the report is
            over the size cap, or it does not validate (naming the problems).
    """
    b = ReportBuilder.uut(
        pn=run.part_number,
        sn=run.serial_number,
        rev=run.revision,
        process_code=run.process_code,
        station=station.name,
        location=station.location,
        purpose=station.purpose,
        operator=run.operator,
        start=run.start,
    )
    database = run.header.get("Cfg_DatabasePath")
    b.sequence_info(path=database if 0 < len(database) <= _SEQ_PATH else None, name="Klippel QC")
    b.result(run.result)
    error = run.header.get("Ctrl_ErrorGeneral")
    b.details(exec_time=run.exec_time, error_message=error[:1000] if error else None)
    for key in ("Cfg_LoginMode", "Cfg_Speaker"):
        if value := run.header.get(key):
            b.misc_info(key, _cut(value))
    b.misc_info("FileName", _cut(run.header_name))
    b.misc_info("Verdict", run.verdict_word)
    steps = _Steps(run)
    tasks: dict[str, SequenceBuilder] = {}
    for data in run.files:
        if isinstance(data, NotRead):
            continue
        sequence = tasks.get(data.task)
        if sequence is None:
            sequence = tasks[data.task] = b.root.sequence(data.task)
        if isinstance(data, Curve):
            steps.curve(sequence, data)
        else:
            steps.values(sequence, data)
    steps.without_data(b.root)
    try:
        report = b.build()
    except ReportInvalidError as exc:
        problems = "; ".join(str(p) for p in exc.problems[:5])
        raise ConversionError(f"the report does not validate: {problems}") from None
    report.additional_data = [
        AdditionalData(name="Klippel header", props=list(_header_props(run.header))),
        AdditionalData(name="Klippel files", props=list(_file_props(run.files))),
    ]
    current_budget().add_report(report, steps.line)
    return report


def _cut(text: str, limit: int = _MISC_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Steps:
    """Adds the steps of a run, counting each against the output budget."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.verdicts = run.header.result_verdicts()
        self.done: set[str] = set()  # results that have a step (casefolded)
        self.budget = current_budget()
        self.budget.start_report()
        self.line = 0

    def unit(self, result: str) -> str | None:
        units = {k.casefold(): v for k, v in (DEFAULT_UNITS | self.run.units).items()}
        return units.get(result.casefold()) or None

    def count(self, handle: StepHandle, file: str, line: int) -> None:
        self.line = line
        try:
            self.budget.add_step(handle.step, line)
        except OutputTooLarge as exc:
            raise OutputTooLarge(f"{file}: {exc}") from None

    def curve(self, sequence: SequenceBuilder, curve: Curve) -> None:
        unit = self.unit(curve.result)
        measures: list[Measure] = []
        if curve.count:
            measures += [
                Measure("avg", curve.total / curve.count, unit=unit),
                Measure("min", curve.low, unit=unit),
                Measure("max", curve.high, unit=unit),
            ]
        measures.append(Measure("OutOfBounds", curve.out_of_bounds, CompOp.LT, low=1, unit="#"))
        word = self.verdicts.get(curve.result.casefold())
        status = _STATUS[word] if word else None
        if status is not None and len(measures) == 1 and status not in ("P", "F", "S"):
            status = None  # one measurement: the step must carry its status (said below)
        series = _series(curve)
        if series:
            handle = sequence.chart(
                curve.result,
                series,
                chart_type=ChartType.LINE_LOG_X,
                label=curve.result,
                x_label="Frequency",
                x_unit="Hz",
                y_label=curve.result,
                y_unit=unit,
                measures=measures,
                status=status,
            )
        else:  # no value and no limit anywhere: the measurements alone
            handle = sequence.multi_numeric(curve.result, measures, status=status)
        handle.step.report_text = _curve_notes(curve, word) or None
        self.done.add(curve.result.casefold())
        self.count(handle, curve.file, curve.last_line)

    def values(self, sequence: SequenceBuilder, values: Values) -> None:
        for row in values.rows:
            self.done.add(row.name.casefold())
            handle = self.value(sequence, values.file, row)
            self.count(handle, values.file, row.line)

    def value(self, sequence: SequenceBuilder, file: str, row: ValueRow) -> StepHandle:
        word = self.verdicts.get(row.name.casefold())
        limits = _limits_text(row)
        extra = [f"{name}: {text}" for name, text in row.extra]
        if row.value is None:
            why = "NaN or infinite in the file" if row.not_finite else "not measured ('-')"
            notes = [f"no value: {why}", *([limits] if limits else []), *extra]
            if word:
                notes.insert(0, f"Klippel's verdict: {word}")
            status = _STATUS[word] if word else "S"
            return sequence.action(row.name, status=status, report_text="; ".join(notes))
        op, low, high = infer_comp_op(None, row.low, row.high, row.name)
        try:
            handle = sequence.numeric(
                row.name, row.value, op, low=low, high=high, unit=self.unit(row.name)
            )
        except ValueError as exc:
            raise ConversionError(f"{file} line {row.line}: {exc}") from None
        notes = list(extra)
        if word and _STATUS[word] != handle.step.status:
            notes.insert(0, f"Klippel's verdict: {word}")
        if notes:
            handle.step.report_text = "; ".join(notes)
        return handle

    def without_data(self, root: SequenceBuilder) -> None:
        missing = [
            name for name in self.run.header.result_names() if name.casefold() not in self.done
        ]
        if not missing:
            return
        sequence = root.sequence("Results without data")
        for name in missing:
            word = self.verdicts[name.casefold()]
            handle = sequence.action(
                name,
                status=_STATUS[word],
                report_text=f"Klippel's verdict: {word}; no file of the run holds this result",
            )
            self.count(handle, self.run.header_name, self.line)


def _limits_text(row: ValueRow) -> str:
    if row.low is not None and row.high is not None:
        return f"limits {row.low:g} to {row.high:g}"
    if row.high is not None:
        return f"max {row.high:g}"
    if row.low is not None:
        return f"min {row.low:g}"
    return ""


def _curve_notes(curve: Curve, word: str | None) -> str:
    notes = []
    status = "P" if curve.out_of_bounds == 0 else "F"
    if word and _STATUS[word] != status:
        notes.append(
            f"Klippel's verdict: {word}; {curve.out_of_bounds} of {curve.rows} frequencies "
            "outside the limits"
        )
    if curve.missing:
        notes.append(f"{curve.missing} of {curve.rows} frequencies without a value ('-')")
    if curve.not_finite:
        notes.append(f"{curve.not_finite} values NaN or infinite in the file, left out")
    if curve.rows > len(curve.kept):
        notes.append(f"the chart shows {len(curve.kept):,} of {curve.rows:,} frequencies")
    return "; ".join(notes)


def _series(curve: Curve) -> list[ChartSeries]:
    """The chart's series: the result's values and each other column, finite points only."""
    series = []
    for index, column in enumerate(curve.columns, start=1):
        points = [(row[0], row[index]) for row in curve.kept if math.isfinite(row[index])]
        if not points:
            continue
        name = "values" if index == 1 else column
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        series.append(ChartSeries.from_points(name, xs, ys))
    return series


def _header_props(header: KlippelHeader) -> Iterable[AdditionalDataProperty]:
    for entry in header.entries.values():
        yield AdditionalDataProperty(
            name=entry.key, type="String", value=entry.value, comment=entry.comment or None
        )


def _file_props(files: list[Curve | Values | NotRead]) -> Iterable[AdditionalDataProperty]:
    for data in files:
        if isinstance(data, Curve):
            what = f"curve {data.result}: {data.rows} frequencies, columns frq, "
            what += ", ".join(data.columns)
        elif isinstance(data, Values):
            what = f"values: {', '.join(row.name for row in data.rows) or 'none'}"
        else:
            what = f"not read: {data.reason}"
        yield AdditionalDataProperty(name=data.file, type="String", value=what)
