"""Report validation: the checks to make before a report is sent.

Two sets of rules (see ``docs/reports.md``):

* **structural** rules, always applied: required header members, enumerations, comparison
  operators and their limits, measurement naming, chart data, base64, field lengths, UUR unit
  hierarchy. Real server exports pass them.
* **server rules**, the consistency checks the live server's importer (2026.1) applies and
  answers with ``400``: a single-measurement step must carry its measurement's status, and a loop
  summary must agree with its iterations (``endingIndex``/``num`` counts, ``stepType``, measurement
  arrays, limits, child steps). Server exports themselves break these, which is why the emulator's
  lenient mode leaves them out.

Problems are named with the server's own path grammar (``root -> step Loops -> loop L -> Index 1:
…``) so that a message from the emulator and one from :meth:`UUTReport.validate` read the same.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pywats.models.report import (
    NUMERIC_OPS,
    STRING_OPS,
    BinaryData,
    BooleanMeasurement,
    CompOp,
    MeasurementStatus,
    NumericMeasurement,
    ReportResult,
    Step,
    StepGroup,
    StepStatus,
    StringMeasurement,
    UURReport,
    UUTReport,
)

__all__ = ["MAX_ATTACHMENT_BYTES", "FieldLimits", "Problem", "text_problems", "validate_report"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a report.

    Attributes:
        rule: a stable short name of the rule (``required``, ``status-mismatch``, ``loop-num``…).
        path: where, in the server's grammar (``root -> step Voltage``), or a header member name.
        message: what is wrong, worded as the server words it where the server has a wording.
    """

    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        # The server puts a blank before the colon after a measurement-array segment.
        sep = " : " if self.path.endswith("Meas") else ": "
        return f"{self.path}{sep}{self.message}"


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """Maximum string lengths. The defaults are the WATS C# API's (the stricter source).

    ``FieldLimits.lenient()`` gives the looser limits of the predecessor client, which the
    emulator accepts.
    """

    identity: int = 50  # pn, sn, rev
    operator: int = 128
    station: int = 50  # machineName, fixtureId, batchSN
    location: int = 255
    purpose: int = 255
    comment: int = 1000
    error_message: int = 1000
    misc_description: int = 50
    misc_text: int = 255
    part_type: int = 50
    step_name: int = 255
    seq_name: int = 255
    seq_version: int = 50
    seq_path: int = 500

    @classmethod
    def lenient(cls) -> FieldLimits:
        """The predecessor client's limits (larger where the sources disagree)."""
        return cls(
            identity=100,
            operator=128,
            station=100,
            comment=5000,
            misc_description=100,
            misc_text=255,
            step_name=255,
            seq_name=255,
            seq_version=50,
            seq_path=500,
        )


# Control characters XML 1.0 cannot carry, U+FFFE/U+FFFF, and lone surrogates (not UTF-8).
MAX_ATTACHMENT_BYTES = 100 * 1024  # a step attachment, per the WATS C# API
_INT32 = (-(2**31), 2**31 - 1)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_RESULTS = frozenset(ReportResult)
_STEP_STATUSES = frozenset(StepStatus)
_MEAS_STATUSES = frozenset(MeasurementStatus)
_GROUPS = frozenset(StepGroup)
_NUMERIC_OPS = frozenset(op.value for op in NUMERIC_OPS)
_STRING_OPS = frozenset(op.value for op in STRING_OPS)


def validate_report(
    report: UUTReport | UURReport,
    *,
    server_rules: bool = True,
    limits: FieldLimits | None = None,
) -> list[Problem]:
    """Return every problem found in ``report`` (an empty list when it is valid)."""
    checker = _Checker(limits or FieldLimits())
    checker.header(report)
    if isinstance(report, UUTReport):
        checker.uut(report)
        if report.root is not None:
            checker.steps(report.root)
            checker.problems += text_problems(report.root)
            if server_rules:
                _ServerRules(checker.problems).visit(report.root, "root")
    else:
        checker.uur(report)
    return checker.problems


class _Checker:
    def __init__(self, limits: FieldLimits) -> None:
        self.limits = limits
        self.problems: list[Problem] = []

    def add(self, rule: str, path: str, message: str) -> None:
        self.problems.append(Problem(rule, path, message))

    def text(self, path: str, value: str | None, limit: int, *, required: bool = False) -> None:
        if value is None or (required and not value.strip()):
            if required:
                self.add("required", path, "is required and must not be empty")
            return
        if len(value) > limit:
            self.add("length", path, f"is {len(value)} characters long; the limit is {limit}")
        if _XML_INVALID.search(value):
            self.add(
                "characters",
                path,
                "contains characters that XML cannot carry (control characters, lone surrogates)",
            )

    def header(self, r: UUTReport | UURReport) -> None:
        lim = self.limits
        for name, value in (("pn", r.pn), ("sn", r.sn), ("rev", r.rev)):
            self.text(name, value, lim.identity, required=True)
        self.text("machineName", r.machine_name, lim.station, required=True)
        self.text("location", r.location, lim.location, required=True)
        self.text("purpose", r.purpose, lim.purpose, required=True)
        if r.process_code is None:
            self.add("required", "processCode", "is required")
        if r.result is None:
            self.add("required", "result", "is required")
        elif r.result not in _RESULTS:
            self.add("enum", "result", f"{r.result!r} is not one of P, F, E, T")
        if r.start is None:
            self.add("required", "start", "is required")
        for i, misc in enumerate(r.misc_infos or ()):
            path = f"miscInfos[{i}]"
            self.text(f"{path}.description", misc.description, lim.misc_description, required=True)
            self.text(f"{path}.text", misc.text, lim.misc_text)
            if misc.numeric is not None and not _INT32[0] <= misc.numeric <= _INT32[1]:
                self.add("range", f"{path}.numeric", "must fit in a 32-bit integer")
        for i, unit in enumerate(r.sub_units or ()):
            path = f"subUnits[{i}]"
            self.text(f"{path}.partType", unit.part_type, lim.part_type)
            for name, value in (("pn", unit.pn), ("sn", unit.sn), ("rev", unit.rev)):
                self.text(f"{path}.{name}", value, lim.identity)
        for i, asset in enumerate(r.assets or ()):
            self.text(f"assets[{i}].assetSN", asset.asset_sn, lim.station * 2, required=True)
        for i, blob in enumerate(r.binary_data or ()):
            self.binary(f"binaryData[{i}]", blob)

    def binary(self, path: str, blob: BinaryData) -> None:
        if blob.data is not None and not _is_base64(blob.data):
            self.add("base64", f"{path}.data", "is not valid base64")

    def uut(self, r: UUTReport) -> None:
        if r.binary_data:
            self.add("uut-binary-data", "binaryData", "report-level binary data is for repairs")
        if r.uut is None:
            self.add("required", "uut", "is required in a test report")
        else:
            self.text("uut.user", r.uut.user, self.limits.operator)
            self.text("uut.comment", r.uut.comment, self.limits.comment)
            self.text("uut.fixtureId", r.uut.fixture_id, self.limits.station)
            self.text("uut.batchSN", r.uut.batch_sn, self.limits.station)
            self.text("uut.errorMessage", r.uut.error_message, self.limits.error_message)
        if r.root is None:
            self.add("required", "root", "is required in a test report")
        elif r.root.seq_call is None:
            self.add("root-seqcall", "root", "the root step must be a sequence call (seqCall)")

    def uur(self, r: UURReport) -> None:
        if r.uur is None:
            self.add("required", "uur", "is required in a repair report")
        else:
            self.text("uur.user", r.uur.user, self.limits.operator)
            self.text("uur.comment", r.uur.comment, self.limits.comment)
        units = r.sub_units or []
        indexes = [u.idx for u in units if u.idx is not None]
        if indexes.count(0) != 1:
            self.add(
                "uur-main-unit",
                "subUnits",
                "a repair report needs exactly one sub-unit with idx 0 (the repaired unit)",
            )
        if len(set(indexes)) != len(indexes):
            self.add("uur-idx-unique", "subUnits", "sub-unit idx values must be unique")
        known = set(indexes)
        for i, unit in enumerate(units):
            if unit.parent_idx is not None and unit.parent_idx not in known:
                self.add(
                    "uur-parent-idx",
                    f"subUnits[{i}].parentIdx",
                    f"refers to idx {unit.parent_idx}, which no sub-unit has",
                )
            for j, failure in enumerate(unit.failures or ()):
                for k, blob in enumerate(failure.attachments or ()):
                    self.binary(f"subUnits[{i}].failures[{j}].attachments[{k}]", blob)

    def steps(self, root: Step) -> None:
        seen: set[int] = set()
        stack: list[tuple[Step, str]] = [(root, "root")]
        while stack:
            step, path = stack.pop()
            self.step(step, path)
            if step.id is not None:
                if step.id in seen:
                    self.add("step-id-unique", path, f"step id {step.id} is used twice")
                seen.add(step.id)
            for child in reversed(step.steps or ()):
                stack.append((child, f"{path} -> step {child.name}"))

    def step(self, step: Step, path: str) -> None:
        if step.status is None:
            self.add("required", path, "status is required")
        elif step.status not in _STEP_STATUSES:
            self.add("enum", path, f"status {step.status!r} is not one of P, F, D, S, E, T, U")
        if step.group is not None and step.group not in _GROUPS:
            self.add("enum", path, f"group {step.group!r} is not one of S, M, C")
        if step.name is not None and len(step.name) > self.limits.step_name:
            self.add("length", path, f"name is longer than {self.limits.step_name} characters")
        if step.seq_call is not None:
            seq = step.seq_call
            self.text(f"{path} -> seqCall.name", seq.name, self.limits.seq_name)
            self.text(f"{path} -> seqCall.version", seq.version, self.limits.seq_version)
            self.text(f"{path} -> seqCall.path", seq.path, self.limits.seq_path)
        self.names(path, "numericMeas", step.numeric_meas)
        self.names(path, "stringMeas", step.string_meas)
        self.names(path, "booleanMeas", step.boolean_meas)
        for m in step.numeric_meas or ():
            self.numeric(f"{path} -> numericMeas", m)
        for s in step.string_meas or ():
            self.string(f"{path} -> stringMeas", s)
        for b in step.boolean_meas or ():
            self.meas_status(f"{path} -> booleanMeas", b.status)
        if step.chart is not None:
            for series in step.chart.series or ():
                try:
                    x, y = series.points()
                except ValueError:
                    x, y = [math.nan], []
                if not all(math.isfinite(n) for n in (*x, *y)):
                    self.add(
                        "chart-data",
                        f"{path} -> chart",
                        f"series {series.name!r}: xdata/ydata must be ';'-separated finite numbers",
                    )
                elif series.xdata is not None and len(x) != len(y):
                    self.add(
                        "chart-data",
                        f"{path} -> chart",
                        f"series {series.name!r} has {len(x)} x values and {len(y)} y values",
                    )
        data = step.attachment.data if step.attachment is not None else None
        if data is not None:
            if not _is_base64(data):
                self.add("base64", f"{path} -> attachment", "data is not valid base64")
            elif len(data) * 3 // 4 - data[-2:].count("=") > MAX_ATTACHMENT_BYTES:
                self.add(
                    "attachment-size",
                    f"{path} -> attachment",
                    f"is larger than {MAX_ATTACHMENT_BYTES // 1024} KB",
                )
        if step.attachment is not None and step.chart is not None:
            self.add("attachment-chart", path, "a step cannot carry both a chart and an attachment")

    def names(
        self,
        path: str,
        kind: str,
        meas: Sequence[NumericMeasurement | StringMeasurement | BooleanMeasurement] | None,
    ) -> None:
        if not meas or len(meas) == 1:
            return
        names = [m.name for m in meas]
        if any(n is None for n in names):
            self.add(
                "meas-names",
                f"{path} -> {kind}",
                "a step with several measurements must name every one of them",
            )
        elif len(set(names)) != len(names):
            self.add("meas-names", f"{path} -> {kind}", "measurement names must be unique")

    def meas_status(self, path: str, status: str | None) -> None:
        if status is None:
            self.add("required", path, "status is required")
        elif status not in _MEAS_STATUSES:
            self.add("enum", path, f"status {status!r} is not one of P, F, S")

    def numeric(self, path: str, m: NumericMeasurement) -> None:
        self.meas_status(path, m.status)
        if m.comp_op is None:
            return
        op = m.comp_op.upper()
        if op not in _NUMERIC_OPS:
            self.add("comp-op", path, f"compOp {m.comp_op!r} is not a numeric comparison operator")
            return
        needed = CompOp(op).limit_count
        if needed >= 1 and m.low_limit is None:
            self.add("limits", path, f"compOp {op} needs lowLimit")
        if needed == 2 and m.high_limit is None:
            self.add("limits", path, f"compOp {op} needs highLimit")

    def string(self, path: str, m: StringMeasurement) -> None:
        self.meas_status(path, m.status)
        if m.comp_op is None:
            return
        op = m.comp_op.upper()
        if op not in _STRING_OPS:
            self.add("comp-op", path, f"compOp {m.comp_op!r} is not a string comparison operator")
        elif op != CompOp.LOG and m.limit is None:
            self.add("limits", path, f"compOp {op} needs a limit")


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_MEAS_KINDS = ("numericMeas", "stringMeas", "booleanMeas")


def _meas(
    step: Step, kind: str
) -> list[NumericMeasurement | StringMeasurement | BooleanMeasurement]:
    if kind == "numericMeas":
        return list(step.numeric_meas or ())
    if kind == "stringMeas":
        return list(step.string_meas or ())
    return list(step.boolean_meas or ())


class _ServerRules:
    """The live importer's consistency rules, applied in the importer's order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def add(self, rule: str, path: str, message: str) -> None:
        self.problems.append(Problem(rule, path, message))

    def visit(self, root: Step, path: str) -> None:
        # An explicit stack, not recursion: a report built in Python can nest steps deeper than
        # the interpreter's recursion limit. Problems come out in the recursive order: a step's
        # status, then per child its loop agreement followed by the child's whole subtree.
        stack: list[tuple[Step, str] | tuple[Step, list[Step], str]] = [(root, path)]
        while stack:
            item = stack.pop()
            if len(item) == 3:
                summary, iterations, loop_path = item
                self.loop(summary, iterations, loop_path)
                continue
            step, here = item
            self.status(step, here)
            children = step.steps or []
            for child in reversed(children):
                stack.append((child, f"{here} -> step {child.name}"))
                loop = child.loop
                if loop is not None and loop.is_summary:
                    iterations = [
                        c
                        for c in children
                        if c is not child
                        and c.name == child.name
                        and c.loop is not None
                        and c.loop.idx is not None
                    ]
                    if iterations:
                        stack.append((child, iterations, f"{here} -> loop {child.name}"))

    def status(self, step: Step, path: str) -> None:
        meas = [*(step.numeric_meas or ()), *(step.string_meas or ()), *(step.boolean_meas or ())]
        if len(meas) == 1 and meas[0].status != step.status:
            self.add("status-mismatch", path, "Status cannot be different from measurement status.")

    def loop(self, summary: Step, iterations: list[Step], path: str) -> None:
        assert summary.loop is not None
        highest = max(it.loop.idx for it in iterations if it.loop and it.loop.idx is not None)
        ending = summary.loop.ending_index
        if ending != highest:
            self.add(
                "loop-ending-index",
                path,
                "endingIndex is required to be the same as highest index.",
            )
        if summary.loop.num is None or ending is None or summary.loop.num != ending + 1:
            self.add("loop-num", path, "num is required to be one more than endingIndex.")
        for it in sorted(iterations, key=lambda s: s.loop.idx if s.loop and s.loop.idx else 0):
            assert it.loop is not None
            ipath = f"{path} -> Index {it.loop.idx}"
            if it.step_type != summary.step_type:
                self.add("loop-step-type", ipath, "stepType is required to match Summary step.")
            self.measurements(summary, it, ipath)
            by_name = {c.name: c for c in it.steps or ()}
            for child in summary.steps or ():
                match = by_name.get(child.name)
                if match is None:
                    self.add(
                        "loop-child",
                        ipath,
                        f"step {child.name} in Summary step requires a match.",
                    )
                else:
                    self.measurements(child, match, f"{ipath} -> step {child.name}")

    def measurements(self, summary: Step, it: Step, path: str) -> None:
        for kind in _MEAS_KINDS:
            want, got = _meas(summary, kind), _meas(it, kind)
            if [m.name for m in want] != [m.name for m in got]:
                self.add("loop-meas", path, f"{kind} is required to match Summary step.")
                continue
            for w, g in zip(want, got, strict=True):
                self.limits(w, g, f"{path} -> {kind}")

    def limits(
        self,
        want: NumericMeasurement | StringMeasurement | BooleanMeasurement,
        got: NumericMeasurement | StringMeasurement | BooleanMeasurement,
        path: str,
    ) -> None:
        if isinstance(want, BooleanMeasurement) or isinstance(got, BooleanMeasurement):
            return
        if _norm_op(want.comp_op) != _norm_op(got.comp_op):
            self.add("loop-comp-op", path, "compOp is required to match Summary step.")
        if isinstance(want, StringMeasurement) and isinstance(got, StringMeasurement):
            if want.limit != got.limit:
                self.add("loop-limit", path, "limit is required to match Summary step.")
        elif isinstance(want, NumericMeasurement) and isinstance(got, NumericMeasurement):
            if want.low_limit != got.low_limit:
                self.add("loop-limit", path, "lowLimit is required to match Summary step.")
            if want.high_limit != got.high_limit:
                self.add("loop-limit", path, "highLimit is required to match Summary step.")


def _norm_op(op: str | None) -> str | None:
    return op.upper() if op is not None else None


def text_problems(root: Step) -> list[Problem]:
    """Find step and measurement texts with characters XML cannot carry (lone surrogates too).

    WSXF and the server's storage are XML-based, and a lone surrogate cannot even be encoded.
    """
    problems: list[Problem] = []
    stack: list[tuple[Step, str]] = [(root, "root")]
    while stack:
        step, path = stack.pop()
        texts: list[tuple[str, str | None]] = [
            ("name", step.name),
            ("stepType", step.step_type),
            ("reportText", step.report_text),
            ("errorMessage", step.error_message),
        ]
        for meas in (*(step.numeric_meas or ()), *(step.boolean_meas or ())):
            texts.append(("measurement name", meas.name))
        for num in step.numeric_meas or ():
            texts.append(("unit", num.unit))
        for text in step.string_meas or ():
            texts += [("measurement name", text.name), ("value", text.value), ("limit", text.limit)]
        if step.seq_call is not None:
            texts += [("seqCall.name", step.seq_call.name), ("seqCall.path", step.seq_call.path)]
        if step.chart is not None:
            texts += [
                ("chart label", step.chart.label),
                ("chart xLabel", step.chart.x_label),
                ("chart yLabel", step.chart.y_label),
                ("chart xUnit", step.chart.x_unit),
                ("chart yUnit", step.chart.y_unit),
            ]
            texts += [("series name", series.name) for series in step.chart.series or ()]
        if step.message_popup is not None:
            texts.append(("popup response", step.message_popup.response))
        if step.attachment is not None:
            texts.append(("attachment name", step.attachment.name))
        for what, value in texts:
            if value is not None and _XML_INVALID.search(value):
                problems.append(
                    Problem("characters", path, f"{what} contains characters that XML cannot carry")
                )
        for child in step.steps or ():
            stack.append((child, f"{path} -> step {child.name}"))
    return problems
