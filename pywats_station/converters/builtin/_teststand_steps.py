"""TestStand step results (``<Prop Type='TEResult'>``) as WSJF steps.

Each result in a ``TS.SequenceCall.ResultList`` (and ``TS.PostAction.ResultList``) becomes one
step, its children those of the sequence it called. The step keeps TestStand's own step type
text; what it carries decides its WATS kind:

=============================  ===========================================================
result property                WATS payload
=============================  ===========================================================
``TS.SequenceCall``            ``seqCall`` (file, sequence, version) and the child steps
``Numeric``                    one numeric measurement: ``Units``, ``Limits.Low/High``,
                               ``Comp`` (TestStand's names are WATS's; ``EQT`` becomes
                               ``GELE`` around ``Nominal``)
``PassFail``                   one boolean measurement
``String``                     one string measurement: ``Limits.String``, ``Comp``
``Measurement[]``              named measurements (numeric ``Data``, string ``StringData``
                               or ``Data``, boolean ``PassFail``), each with its ``Status``
``Chart`` (WATS add-on)        a chart, beside the measurements if any
``ButtonHit``/``Response``     message popup
``ExitCode``                   call executable
anything else                  ``additionalResults``, in TestStand's property shape
=============================  ===========================================================

Statuses are TestStand's: nothing is computed or propagated (TestStand already did). The one
correction is the server's rule that a step with one measurement has that measurement's status:
a ``Done`` step takes the status its limits give, and an ``Error``/``Terminated`` step keeps its
status while its measurement, which no measurement status can describe, goes to
``additionalResults``. A skipped step carries no payload.

Loops: TestStand records each iteration (``TS.LoopIndex``) and a loop result (``TS.NumLoops``,
``NumPassed``, ``NumFailed``); WATS wants the summary first, then the iterations, indexed from 0
with ``num`` = iterations and ``endingIndex`` = ``num - 1`` (the server's rule).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pywats.models.report import (
    Attachment,
    BooleanMeasurement,
    CallExe,
    LoopInfo,
    MessagePopup,
    NumericMeasurement,
    SequenceCall,
    Step,
    StringMeasurement,
)
from pywats.report_builder import STEP_ATTACHMENT_LIMIT
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._teststand_meas import chart, numeric, settle, string
from pywats_station.converters.builtin._teststand_values import (
    boolean,
    entry,
    fit,
    group,
    integer,
    number,
    parse_float,
    status,
    text_of,
)
from pywats_station.converters.builtin._teststand_xml import Node

__all__ = ["StepReader", "Timing", "results_of"]

_NAME_LIMIT = 255  # step and sequence names (the WATS C# API's limit)
_MEAS_STATUS = {"passed": "P", "failed": "F", "skipped": "S"}
_BASE = frozenset({"Error", "Status", "ReportText", "TS", "AdditionalResults"})
_NUMERIC = frozenset({"Numeric", "Units", "Limits", "RawLimits", "Comp"})
_STRING = frozenset({"String", "Limits", "RawLimits", "Comp"})


@dataclass(frozen=True)
class Timing:
    """Where TestStand's step times (seconds since the engine started) are on the clock.

    Attributes:
        origin: the time at engine second 0 (with the report's UTC offset), ``None`` if unknown.
    """

    origin: datetime | None

    def at(self, seconds: float) -> datetime | None:
        """The time ``seconds`` after the engine started (``None`` without an origin)."""
        if self.origin is None:
            return None
        return self.origin + timedelta(seconds=seconds)


def results_of(result_list: Node | None) -> list[Node]:
    """The step results of a ``ResultList`` array, in order (items holding no result skipped)."""
    if result_list is None:
        return []
    found = []
    for item in result_list.values():
        inner = next((p for p in item.props() if p.type == "TEResult"), None)
        if inner is not None:
            found.append(inner)
    return found


@dataclass
class _Loop:
    """A looped step: its loop result (if recorded) and its iterations, in order."""

    summary: Node | None
    iterations: list[Node] = field(default_factory=list)


def _loop_role(result: Node) -> str | None:
    ts = result.prop("TS")
    if ts is None:
        return None
    if ts.prop("NumLoops") is not None:
        return "summary"
    if ts.prop("LoopIndex") is not None:
        return "iteration"
    return None


def _step_key(result: Node) -> str | None:
    return text_of(result.prop("TS", "StepId")) or text_of(result.prop("TS", "StepName"))


def _runs(results: list[Node]) -> list[Node | _Loop]:
    """The results with each loop's iterations and loop result taken together.

    TestStand writes the iterations first and the loop result last; a summary written first
    is read too.
    """
    out: list[Node | _Loop] = []
    index = 0
    while index < len(results):
        first = results[index]
        role = _loop_role(first)
        if role is None:
            out.append(first)
            index += 1
            continue
        key = _step_key(first)
        loop = _Loop(summary=first if role == "summary" else None)
        if role == "iteration":
            loop.iterations.append(first)
        index += 1
        while index < len(results) and _step_key(results[index]) == key:
            next_role = _loop_role(results[index])
            if next_role == "iteration":
                loop.iterations.append(results[index])
            elif next_role == "summary" and loop.summary is None:
                loop.summary = results[index]
                index += 1
                break  # the loop result ends the loop
            else:
                break
            index += 1
        out.append(loop)
    return out


class StepReader:
    """Builds the steps of one report, counting each against the output budget.

    Attributes:
        by_result_id: steps by their result's ``TS.Id``, for the critical failure stack.
    """

    def __init__(self, timing: Timing, budget: OutputBudget) -> None:
        self.timing = timing
        self.budget = budget
        self.by_result_id: dict[int, Step] = {}

    def root(self, main: Node) -> Step:
        """The root step: the main sequence's result (``MainSequence Callback``)."""
        step = self.step(main)
        step.loop = None
        if step.seq_call is None:
            step.seq_call = SequenceCall(name=step.name)
        return step

    def children(self, result_list: Node | None) -> list[Step]:
        """The steps of a result list, loops as summary + iterations."""
        steps: list[Step] = []
        for run in _runs(results_of(result_list)):
            if isinstance(run, Node):
                steps.append(self.step(run))
            else:
                steps.extend(self._loop(run))
        return steps

    def _loop(self, loop: _Loop) -> list[Step]:
        iterations = [self.step(result) for result in loop.iterations]
        for idx, step in enumerate(iterations):
            step.loop = LoopInfo(idx=idx)
        if loop.summary is None:  # iterations whose loop result was not recorded
            return iterations
        summary = self.step(loop.summary)
        ts = loop.summary.prop("TS")
        assert ts is not None  # it has TS.NumLoops
        count = len(iterations) if iterations else max(0, _count(ts, "NumLoops") or 0)
        failing = sum(1 for s in iterations if s.status in ("F", "E", "T"))
        passed, failed = _count(ts, "NumPassed"), _count(ts, "NumFailed")
        summary.loop = LoopInfo(
            num=count,
            ending_index=count - 1 if count else None,
            passed=passed if passed is not None else len(iterations) - failing,
            failed=failed if failed is not None else failing,
        )
        return [summary, *iterations]

    def step(self, result: Node) -> Step:
        """One result as a step, with its children."""
        ts = result.prop("TS")
        step_type = fit(_text(ts, "StepType"), _NAME_LIMIT) or (
            "SequenceCall" if ts is not None and ts.prop("SequenceCall") is not None else "Action"
        )
        step = Step(
            group=group(_text(ts, "StepGroup")),
            step_type=step_type,
            name=fit(_text(ts, "StepName"), _NAME_LIMIT) or step_type,
            status=status(text_of(result.prop("Status"))),
            ts_guid=fit(_text(ts, "StepId"), _NAME_LIMIT),
            report_text=text_of(result.prop("ReportText")) or None,
        )
        if ts is not None:
            self._times(step, ts)
            self._flags(step, ts)
        self._error(step, result.prop("Error"))
        used = set(_BASE)
        notes: list[str] = []
        seq = ts.prop("SequenceCall") if ts is not None else None
        skipped = step.status == "S"  # no payload, no children, nothing kept (as WATS does)
        if not skipped:
            if seq is not None:
                step.seq_call = SequenceCall(
                    path=_path(text_of(seq.prop("SequenceFile"))),
                    name=fit(text_of(seq.prop("Sequence")), _NAME_LIMIT),
                    version=fit(
                        text_of(seq.prop("SequenceFileVersion"))
                        or text_of(seq.prop("SeqFileVersion")),
                        50,
                    ),
                )
            self._measurements(step, result, used, notes)
            self._other_payloads(step, result, used)
        if notes:
            step.report_text = "\n".join([*filter(None, [step.report_text]), *notes])
        if not skipped:
            extra = [entry(c) for c in _results_of(result, "AdditionalResults")]
            extra += [entry(p) for p in result.props() if p.name not in used and not p.is_empty()]
            step.additional_results = extra or None
        self.budget.add_step(step, result.line)
        if not skipped and ts is not None:
            children = self.children(seq.prop("ResultList")) if seq is not None else []
            children += self.children(ts.prop("PostAction", "ResultList"))
            step.steps = children or None
        return step

    # --- step members -------------------------------------------------------------------------

    def _times(self, step: Step, ts: Node) -> None:
        total = ts.prop("TotalTime")
        if total is not None:
            seconds = number(total)
            if not (math.isfinite(seconds) and seconds >= 0):
                raise ConversionError(f"{total.where()}: {seconds!r} is not a step time")
            step.tot_time = seconds
        start = ts.prop("StartTime")
        if start is not None:
            offset = number(start)
            try:
                step.start = self.timing.at(offset) if math.isfinite(offset) else None
            except OverflowError:
                raise ConversionError(
                    f"{start.where()}: {offset!r} seconds after the engine started is not a time"
                ) from None
        result_id = ts.prop("Id")
        if result_id is not None:
            found = parse_float(text_of(result_id) or "")
            if found is not None and found.is_integer():
                self.by_result_id.setdefault(int(found), step)

    def _flags(self, step: Step, ts: Node) -> None:
        caused = ts.prop("StepCausedSequenceFailure")
        if caused is not None and boolean(caused):
            step.caused_seq_failure = True
        exe_num = ts.prop("InteractiveExeNum")
        if exe_num is not None:
            step.interactive_exe_num = integer(exe_num)

    def _error(self, step: Step, error: Node | None) -> None:
        if error is None:
            return
        code, occurred = error.prop("Code"), error.prop("Occurred")
        value = integer(code) if code is not None else 0
        if value or (occurred is not None and boolean(occurred)):
            step.error_code = value
        step.error_message = fit(text_of(error.prop("Msg")), 1000) or None

    # --- measurements -------------------------------------------------------------------------

    def _measurements(self, step: Step, result: Node, used: set[str], notes: list[str]) -> None:
        value, passfail = result.prop("Numeric"), result.prop("PassFail")
        text, multi = result.prop("String"), result.prop("Measurement")
        # An array of numbers or booleans (a custom step's data) is no single measurement: it
        # stays in the additional results.
        if value is not None and value.type in ("Number", ""):
            meas, passed = numeric(result, value, None, notes)
            if settle(step, meas, passed):
                step.numeric_meas = [meas]
                used.update(_NUMERIC)
        elif passfail is not None and passfail.type in ("Boolean", ""):
            ok = boolean(passfail)
            flag = BooleanMeasurement()
            if settle(step, flag, ok):
                step.boolean_meas = [flag]
                used.add("PassFail")
        elif text is not None and text.type == "String":
            limit = result.scalar("Limits", "String")
            smeas, passed = string(result, text, limit, result.prop("Comp"), None)
            if settle(step, smeas, passed):
                step.string_meas = [smeas]
                used.update(_STRING)
        elif multi is not None and multi.type == "Array" and self._multi(step, multi, notes):
            used.add("Measurement")

    def _multi(self, step: Step, array: Node, notes: list[str]) -> bool:
        found: list[tuple[NumericMeasurement | StringMeasurement | BooleanMeasurement, bool]] = []
        for index, item in enumerate(array.values()):
            obj = next(item.props(), None)
            if obj is None:
                raise ConversionError(f"{item.where()}: a measurement holds no property")
            said = (text_of(obj.prop("MeasName")) or "").strip()
            name = fit(said or obj.name or f"Measurement {index}", 100) or ""
            data, sdata, pdata = obj.prop("Data"), obj.prop("StringData"), obj.prop("PassFail")
            meas: NumericMeasurement | StringMeasurement | BooleanMeasurement
            if data is not None and data.type != "String" and data.type != "Boolean":
                meas, passed = numeric(obj, data, name, notes)
            elif (data is not None and data.type == "String") or sdata is not None:
                value = sdata if sdata is not None else data
                assert value is not None
                limit = text_of(obj.prop("StringLimit")) or obj.scalar("Limits", "String")
                meas, passed = string(obj, value, limit, obj.prop("Comp"), name)
            elif pdata is not None or data is not None:
                flag = pdata if pdata is not None else data
                assert flag is not None
                meas, passed = BooleanMeasurement(name=name), boolean(flag)
            else:
                raise ConversionError(
                    f"{obj.where()}: a measurement without Data, StringData or PassFail"
                )
            verdict = _MEAS_STATUS.get((text_of(obj.prop("Status")) or "").strip().lower())
            meas.status = verdict or ("P" if passed else "F")
            found.append((meas, passed))
        if not found or (len(found) == 1 and not settle(step, found[0][0], found[0][1])):
            return False
        step.numeric_meas = [m for m, _ in found if isinstance(m, NumericMeasurement)] or None
        step.string_meas = [m for m, _ in found if isinstance(m, StringMeasurement)] or None
        step.boolean_meas = [m for m, _ in found if isinstance(m, BooleanMeasurement)] or None
        return True

    # --- other payloads -----------------------------------------------------------------------

    def _other_payloads(self, step: Step, result: Node, used: set[str]) -> None:
        drawn = result.prop("Chart")
        if drawn is not None and not drawn.is_empty():
            step.chart = chart(drawn)
            used.add("Chart")
        button, response = result.prop("ButtonHit"), result.prop("Response")
        if button is not None or response is not None:
            step.message_popup = MessagePopup(
                button=integer(button) if button is not None else None,
                response=text_of(response) if response is not None else None,
            )
            used.update(("ButtonHit", "Response"))
        exit_code = result.prop("ExitCode")
        if exit_code is not None:
            code = number(exit_code)
            if not math.isfinite(code):
                raise ConversionError(f"{exit_code.where()}: {code!r} is not an exit code")
            step.call_exe = CallExe(exit_code=code)
            used.add("ExitCode")
        xml = text_of(result.prop("XMLString"))
        if xml and step.chart is None:
            data = xml.encode("utf-8")
            if len(data) <= STEP_ATTACHMENT_LIMIT:  # bigger: kept in additionalResults
                step.attachment = Attachment(
                    name="stepdata.xml",
                    content_type="text/xml",
                    data=base64.b64encode(data).decode("ascii"),
                )
                used.add("XMLString")


# --- helpers ----------------------------------------------------------------------------------


def _text(ts: Node | None, name: str) -> str | None:
    return text_of(ts.prop(name)) if ts is not None else None


def _path(path: str | None) -> str | None:
    # Keep the end of a long path: the file name says more than the drive.
    if path is None or len(path) <= 500:
        return path
    return "…" + path[-499:]


def _count(ts: Node, name: str) -> int | None:
    prop = ts.prop(name)
    return integer(prop) if prop is not None else None


def _results_of(result: Node, name: str) -> list[Node]:
    container = result.prop(name)
    if container is None:
        return []
    return [p for p in container.props() if not p.is_empty()]
