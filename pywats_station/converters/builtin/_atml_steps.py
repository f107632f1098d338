"""ATML step elements (``Test``, ``TestGroup``, ``SessionAction``) as step descriptions.

:func:`read_step` turns one element of :mod:`._atml_xml`'s tree into a :class:`StepSpec`: what
WATS needs of it, and nothing of the XML. :mod:`._atml_emit` then adds the specs to a report
builder. What a step element holds:

* its name (a ``TestGroup``'s is the calling step's: ``callerName``, in 2.02 inside
  ``userDefinedType``), ``startDateTime``/``endDateTime``, and ``tr:Extension/ts:TSStepProperties``:
  ``StepType`` (kept verbatim as the WSJF ``stepType``), ``StepGroup``, ``StepId``,
  ``TotalTime``, ``StepCausedSequenceFailure``, ``InteractiveExecutionId`` and TestStand's loop
  data (``LoopingProperties``: a loop summary, or one iteration's ``LoopIndex``);
* its outcome (``Outcome``, ``ActionOutcome``) and error events (``Events``);
* ``Data`` (a session action's: report text, a message popup's ``ButtonHit``/``Response``, an
  executable's ``ExitCode``, anything else as additional results);
* its ``TestResult`` elements: measurements (numeric, string, boolean; with limits, or marked as
  logged, or TestStand's standard ``Numeric``/``String``/``PassFail`` data), the WATS TestStand
  add-on's ``Measurement`` collections (``ET_MNLT``/``ET_MSVT``/``ET_MPFT``), numeric arrays
  (a chart), the report text, a sequence file's version (``SeqFileVersion``), and anything
  else as the step's additional results.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from pywats.models.report import AdditionalData, AdditionalDataProperty, ChartSeries, CompOp
from pywats.validation import FieldLimits
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._atml_values import (
    Datum,
    array_series,
    datum,
    is_log,
    numeric_limits,
    outcome,
    parse_number,
    parse_time,
    prop,
    seconds,
    string_limits,
)
from pywats_station.converters.builtin._atml_xml import Node
from pywats_station.converters.builtin._equipment import EquipmentArguments

__all__ = [
    "STEP_TAGS",
    "LoopSummary",
    "Meas",
    "StepSpec",
    "error_events",
    "read_step",
    "sequence_parts",
]

STEP_TAGS = frozenset({"Test", "TestGroup", "SessionAction"})
"""The elements that are steps."""

_GROUPS = {"setup": "S", "main": "M", "cleanup": "C"}
_CALLER = re.compile(r"SequenceCallStepName\s*=\s*'(.*)'", re.DOTALL)
_LOOP_SUFFIX = re.compile(r"\s*\(Loop Index:\s*-?\d+\)\s*$")
# TestStand's data source names of its standard test steps: a result of this name is the
# step's measurement even without limits (a logged value).
_STANDARD = {"numeric": "number", "string": "string", "passfail": "boolean"}
_PASSED_STATUS = {"P": "P", "D": "P", "U": "P", "F": "F", "E": "F", "T": "F", "S": "S"}
_LIMITS = FieldLimits()  # what the server stores (the WATS C# API's limits)
_OUTCOME_WORDS = {"E": "Error", "T": "Terminated", "U": "Unknown", "D": "Done"}


@dataclass(slots=True)
class Meas:
    """One measurement: numeric (``number``, limits, unit), string (``text``, ``limit``) or
    boolean (``passed``), with its own status (P/F/S) when the file gives one."""

    kind: str
    name: str | None
    line: int
    number: float = 0.0
    text: str = ""
    passed: bool = True
    op: CompOp = CompOp.LOG
    low: float | None = None
    high: float | None = None
    limit: str | None = None
    unit: str | None = None
    status: str | None = None
    note: str | None = None  # what WATS cannot hold (a string limit without an operator)


@dataclass(slots=True)
class LoopSummary:
    """TestStand's loop summary: how many iterations ran, passed and failed."""

    num: int | None
    passed: int | None
    failed: int | None


@dataclass(slots=True)
class StepSpec:
    """What a report needs of one step element (see the module docstring)."""

    tag: str
    name: str
    line: int
    step_type: str
    group: str = "M"
    status: str | None = None
    start: datetime | None = None
    tot_time: float | None = None
    ts_guid: str | None = None
    caused_seq_failure: bool = False
    interactive: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    texts: list[str] = field(default_factory=list)
    meas: list[Meas] = field(default_factory=list)
    single: bool = False  # one unnamed measurement (a standard TestStand test step)
    series: list[ChartSeries] = field(default_factory=list)
    popup: tuple[str | None, int | None] | None = None
    exit_code: float | None = None
    additional: list[AdditionalData] = field(default_factory=list)
    children: list[StepSpec] | None = None  # a sequence call's steps (None: not a sequence)
    seq_path: str | None = None
    seq_name: str | None = None
    seq_version: str | None = None
    loop: LoopSummary | None = None
    loop_index: int | None = None

    @property
    def report_text(self) -> str | None:
        """The report text parts joined by line breaks (``None`` when there are none)."""
        return "\n".join(self.texts) if self.texts else None

    @property
    def where(self) -> str:
        """``<Test name="Video Test"> at line 12``."""
        name = self.name if len(self.name) <= 60 else self.name[:59] + "…"
        return f'<{self.tag} name="{name}"> at line {self.line}'


def sequence_parts(name: str | None) -> tuple[str | None, str | None]:
    """``C:\\dir\\file.seq#Sequence`` → (``C:\\dir\\file.seq``, ``Sequence``)."""
    if not name:
        return None, None
    path, sep, sequence = name.partition("#")
    return (path.strip() or None), (sequence.strip() or None) if sep else None


def _name(node: Node) -> str:
    if node.tag == "TestGroup":
        caller = node.get("callerName")
        if caller is None:
            found = _CALLER.search(node.get("userDefinedType") or "")
            caller = found.group(1).strip() if found else None
        if caller:
            return caller
        _, sequence = sequence_parts(node.get("name"))
        if sequence:
            return sequence
    return node.get("name") or node.get("ID") or node.tag


def _value(node: Node | None) -> str | None:
    """A ``value`` attribute, or the element's text."""
    if node is None:
        return None
    return node.get("value") or node.text or None


def _integer(node: Node | None, where: str) -> int | None:
    raw = _value(node)
    if raw is None:
        return None
    number = parse_number(raw, where)
    if not math.isfinite(number) or not number.is_integer() or abs(number) >= 2**31:
        return None
    return int(number)


def read_step(node: Node, args: EquipmentArguments, children: list[StepSpec] | None) -> StepSpec:
    """Describe one step element; ``children`` are its child steps, already read.

    Raises:
        ConversionError: a value that cannot be read (a number, a time, limits), naming the
            element and its line.
    """
    props = node.child("Extension", "TSStepProperties")
    step_type = (props.child("StepType") if props else None) or None
    type_text = step_type.text if step_type is not None else ""
    name = _name(node)
    _check_length(node, "step name", name, _LIMITS.step_name)
    spec = StepSpec(
        tag=node.tag,
        name=name,
        line=node.line,
        step_type=type_text or _DEFAULT_TYPES.get(node.tag, "Action"),
    )
    where = spec.where
    if props is not None:
        _properties(spec, props, where)
    # 5.00 and 6.01 write TestStand's step id as an attribute; 2.02 as ts:StepId.
    spec.ts_guid = spec.ts_guid or node.get("testReferenceID")
    spec.status = outcome(node.child("Outcome") or node.child("ActionOutcome"))
    _times(spec, node, args, where)
    _events(spec, node.child("Events"), where)
    data = node.child("Data")
    if data is not None:
        _data(spec, data, where)
    is_sequence = node.tag == "TestGroup" or "seqcall" in type_text.casefold().replace(
        "sequencecall", "seqcall"
    )
    if is_sequence:
        spec.children = children or []
        path, sequence = sequence_parts(node.get("name"))
        spec.seq_path = path if sequence is not None else None
        spec.seq_name = sequence or name
        _check_length(node, "sequence file path", spec.seq_path, _LIMITS.seq_path)
        _check_length(node, "sequence name", spec.seq_name, _LIMITS.seq_name)
    for result in node.all("TestResult"):
        _result(spec, result, where)
    if spec.loop_index is not None:
        spec.name = _LOOP_SUFFIX.sub("", spec.name) or spec.name
    _finish_measurements(spec)
    return spec


def _check_length(node: Node, what: str, text: str | None, limit: int) -> None:
    """Refuse a text longer than WATS stores, naming the element (a cut name would merge
    steps that differ only at the end)."""
    if text is not None and len(text) > limit:
        raise ConversionError(
            f"{node.where()}: the {what} is {len(text):,} characters long; WATS takes at most "
            f"{limit}"
        )


_DEFAULT_TYPES = {
    "Test": "Test",
    "TestGroup": "SequenceCall",
    "SessionAction": "Action",
    "ResultSet": "SequenceCall",
}


def _properties(spec: StepSpec, props: Node, where: str) -> None:
    group = props.child("StepGroup")
    if group is not None:
        spec.group = _GROUPS.get(group.text.casefold(), "M")
    step_id = props.child("StepId")
    if step_id is not None and step_id.text:
        spec.ts_guid = step_id.text
    spec.tot_time = seconds(props.child("TotalTime"), where)
    caused = _value(props.child("StepCausedSequenceFailure"))
    spec.caused_seq_failure = (caused or "").casefold() in ("true", "1")
    spec.interactive = _integer(props.child("InteractiveExecutionId"), where)
    looping = props.child("LoopingProperties")
    if looping is not None:
        index = _integer(looping.child("LoopIndex"), where)
        if index is not None:
            spec.loop_index = index
        elif looping.child("NumLoops") is not None:
            spec.loop = LoopSummary(
                num=_integer(looping.child("NumLoops"), where),
                passed=_integer(looping.child("NumPassed"), where),
                failed=_integer(looping.child("NumFailed"), where),
            )


def _times(spec: StepSpec, node: Node, args: EquipmentArguments, where: str) -> None:
    start_text, end_text = node.get("startDateTime"), node.get("endDateTime")
    if start_text is not None:
        spec.start = parse_time(start_text, where, args)
    if spec.tot_time is None and spec.start is not None and end_text is not None:
        elapsed = (parse_time(end_text, where, args) - spec.start).total_seconds()
        spec.tot_time = elapsed if elapsed >= 0 else None


def error_events(events: Node | None, where: str) -> tuple[int | None, str | None]:
    """The error code and message of an ``Events`` element (TestStand's ``Error Code`` and
    ``Error Message`` events), each ``None`` when absent."""
    code: int | None = None
    message: str | None = None
    for event in events.all("Event") if events is not None else []:
        found = datum(event.child("Data"), where)
        kind = (event.get("ID") or "").casefold()
        if kind == "error message" and found.text:
            message = found.text
        elif kind == "error code" and found.number is not None:
            number = found.number
            if math.isfinite(number) and number.is_integer() and abs(number) < 2**31:
                code = int(number)
    return code, message


def _events(spec: StepSpec, events: Node | None, where: str) -> None:
    spec.error_code, spec.error_message = error_events(events, where)


def _data(spec: StepSpec, data: Node, where: str) -> None:
    """A step's ``Data`` collection: report text, popup, exit code, the rest as additional."""
    collection = data.child("Collection")
    if collection is None:
        return
    rest: list[AdditionalDataProperty] = []
    button: int | None = None
    response: str | None = None
    popup = False
    for item in collection.all("Item"):
        key = item.get("name") or ""
        found = datum(item, where)
        if key == "ReportText":
            if found.text:
                spec.texts.append(found.text)
        elif key == "ButtonHit" and found.kind == "number" and found.number is not None:
            popup = True
            button = int(found.number) if math.isfinite(found.number) else None
        elif key == "Response" and found.kind == "string":
            popup = True
            response = found.text
        elif key == "ExitCode" and found.kind == "number" and found.number is not None:
            if math.isfinite(found.number):
                spec.exit_code = found.number
        else:
            rest.append(prop(key or f"[{len(rest)}]", found.node))
    if popup:
        spec.popup = (response, button)
    if rest:
        spec.additional.append(AdditionalData(name="Data", props=rest))


def _result(spec: StepSpec, result: Node, where: str) -> None:
    """One ``TestResult``: a measurement, the report text, a chart, or additional data."""
    name = result.get("name") or result.get("ID") or "Result"
    found = datum(result.child("TestData"), where)
    here = f"{where}, <TestResult> at line {result.line}"
    if name == "ReportText":
        if found.text:
            spec.texts.append(found.text)
        return
    if name == "SeqFileVersion" and spec.children is not None and found.text:
        _check_length(result, "sequence file version", found.text, _LIMITS.seq_version)
        spec.seq_version = found.text
        return
    addon = name == "Measurement" and found.kind == "collection" and found.node is not None
    if addon and found.node is not None and _addon_measurements(spec, found.node, here):
        return
    limited = result.child("TestLimits") is not None or is_log(result)
    standard = _STANDARD.get(name.casefold()) == found.kind
    if found.kind in ("number", "string", "boolean") and (limited or standard):
        spec.meas.append(_measurement(name, result, found, here))
        return
    if found.kind == "array" and found.node is not None:
        series = array_series(found.node, name, here)
        if series:
            spec.series.extend(series)
            return
    spec.additional.append(AdditionalData(name=name, props=[prop(name, found.node)]))


def _own_status(result: Node) -> str | None:
    status = outcome(result.child("Outcome"))
    return None if status is None else _PASSED_STATUS.get(status, "P")


def _measurement(name: str, result: Node, found: Datum, where: str) -> Meas:
    meas = Meas(kind=found.kind, name=name, line=result.line, status=_own_status(result))
    if found.kind == "number":
        assert found.number is not None
        meas.number = found.number
        meas.unit = found.unit
        limits = numeric_limits(result, where)
        meas.op, meas.low, meas.high = limits.op, limits.low, limits.high
    elif found.kind == "string":
        meas.text = found.text or ""
        meas.op, meas.limit, meas.note = string_limits(result, where)
    else:
        meas.passed = bool(found.number)
    return meas


def _item(collection: Node, key: str, where: str) -> Datum:
    item = next((i for i in collection.all("Item") if i.get("name") == key), None)
    return datum(item, where) if item is not None else Datum("none")


def _addon_measurements(spec: StepSpec, collection: Node, where: str) -> bool:
    """The WATS TestStand add-on's ``Measurement`` array (multiple string, pass/fail or
    numeric measurements, one ``Measurement[i]`` collection each). False when it is not."""
    found: list[Meas] = []
    for item in collection.all("Item"):
        inner = item.child("Collection")
        if inner is None:
            return False
        name = _item(inner, "MeasName", where).text or item.get("name") or "Measurement"
        status_text = _item(inner, "Status", where).text
        status = None
        if status_text:
            word = outcome(Node("Outcome", "", {"value": status_text}, item.line, 1))
            status = _PASSED_STATUS.get(word or "U", "P")
        comp = (_item(inner, "Comp", where).text or "LOG").strip()
        meas = Meas(kind="", name=name, line=item.line, status=status)
        data = _item(inner, "Data", where)
        if data.kind == "number" and data.number is not None:
            meas.kind, meas.number = "number", data.number
            meas.unit = _item(inner, "Units", where).text or data.unit
            _addon_numeric_limits(meas, inner, comp, where)
        elif (strings := _item(inner, "StringData", where)).kind == "string":
            meas.kind, meas.text = "string", strings.text or ""
            meas.op = _ADDON_STRING_OPS.get(comp.replace(" ", "").casefold(), CompOp.LOG)
            limit = _item(inner, "StringLimit", where).text
            if meas.op is not CompOp.LOG:
                meas.limit = limit or ""
            elif comp.upper() != "LOG" and limit:
                spec.texts.append(f"{name}: limit ({comp}): {limit}")
        elif (flag := _item(inner, "PassFail", where)).kind == "boolean":
            meas.kind, meas.passed = "boolean", bool(flag.number)
        else:
            return False
        found.append(meas)
    spec.meas.extend(found)
    return bool(found)


_ADDON_STRING_OPS = {
    "equal": CompOp.CASESENSIT,
    "eq": CompOp.CASESENSIT,
    "casesensit": CompOp.CASESENSIT,
    "casesensitive": CompOp.CASESENSIT,
    "ignorecase": CompOp.IGNORECASE,
    "notequal": CompOp.NE,
    "ne": CompOp.NE,
    "log": CompOp.LOG,
}


def _addon_numeric_limits(meas: Meas, inner: Node, comp: str, where: str) -> None:
    limits = next((i for i in inner.all("Item") if i.get("name") == "Limits"), None)
    bounds = limits.child("Collection") if limits is not None else None
    low = _item(bounds, "Low", where).number if bounds is not None else None
    high = _item(bounds, "High", where).number if bounds is not None else None
    try:
        op = CompOp.parse(comp)
    except ValueError:
        op = CompOp.GELE if comp.upper() == "EQT" else CompOp.LOG
    if op.limit_count == 0:
        return
    if low is None or not math.isfinite(low):
        return
    if op.limit_count == 2 and (high is None or not math.isfinite(high)):
        return
    meas.op, meas.low = op, low
    meas.high = high if op.limit_count == 2 else None


def _finish_measurements(spec: StepSpec) -> None:
    """Keep one kind of measurement (numeric before string before boolean: the step's own),
    note what WATS cannot hold, and name them uniquely."""
    if not spec.meas:
        return
    if spec.children is not None:
        # A sequence call that also measured (a test step calling a sequence through its
        # adapter): a sequence step carries no measurement in WATS; its data is kept.
        spec.additional.extend(_as_additional(m) for m in spec.meas)
        spec.meas = []
        return
    kinds = [m.kind for m in spec.meas]
    main = next(k for k in ("number", "string", "boolean") if k in kinds)
    kept: list[Meas] = []
    for meas in spec.meas:
        if meas.kind != main:
            spec.additional.append(_as_additional(meas))
            continue
        if meas.kind == "number" and not math.isfinite(meas.number):
            # JSON has no NaN or infinity: the value is kept as text beside the step.
            spec.texts.append(f"{meas.name}: value {meas.number!r} (WATS holds finite numbers)")
            continue
        if meas.note:
            spec.texts.append(f"{meas.name}: {meas.note}")
        kept.append(meas)
    spec.meas = kept
    if len(kept) == 1 and (kept[0].name or "").casefold() in _STANDARD:
        spec.single = True
        kept[0].name = None
        return
    seen: dict[str, int] = {}
    for meas in kept:
        base = meas.name or "Measurement"
        seen[base] = seen.get(base, 0) + 1
        meas.name = base if seen[base] == 1 else f"{base} ({seen[base]})"


def _as_additional(meas: Meas) -> AdditionalData:
    if meas.kind == "number":
        value, kind = repr(meas.number), "Number"
    elif meas.kind == "string":
        value, kind = meas.text, "String"
    else:
        value, kind = ("True" if meas.passed else "False"), "Boolean"
    name = meas.name or "Result"
    return AdditionalData(
        name=name, props=[AdditionalDataProperty(name=name, type=kind, value=value)]
    )


def outcome_word(status: str) -> str:
    """The TestStand word for a status WATS cannot put on a measured step (``Error``…)."""
    return _OUTCOME_WORDS.get(status, status)
