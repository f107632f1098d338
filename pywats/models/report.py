"""The WSJF report model: UUT (test) and UUR (repair) reports and the step tree.

Wire names follow the server's own schema (``Virinco.WATS.Schemas.WSJF.*``); Python attributes are
snake_case. Every member is optional on decode so that a broken report still parses and
:meth:`UUTReport.validate` can name what is wrong, instead of the decoder failing on the first gap.

``null`` and an absent member mean the same thing here: ``None`` is never encoded
(``omit_defaults``), so a decoded server export re-encodes without its ``null`` members. Empty
arrays are kept as given. Unknown members are ignored on decode (the server evolves).

A step is one Struct for every step type. ``stepType`` is free text (TestStand names such as
``ET_NLT`` or ``NI_Wait``) and is kept verbatim; what a step *is* follows from the payload it
carries, exposed as :attr:`Step.kind`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import msgspec

if TYPE_CHECKING:
    from pywats.validation import Problem

__all__ = [
    "AdditionalData",
    "AdditionalDataArray",
    "AdditionalDataIndex",
    "AdditionalDataProperty",
    "Asset",
    "AssetStats",
    "Attachment",
    "BinaryData",
    "BooleanMeasurement",
    "CallExe",
    "Chart",
    "ChartSeries",
    "ChartType",
    "CompOp",
    "Failure",
    "LoopInfo",
    "MeasurementStatus",
    "MessagePopup",
    "MiscInfo",
    "NumericMeasurement",
    "RefUUR",
    "ReportResult",
    "ReportType",
    "SequenceCall",
    "Step",
    "StepGroup",
    "StepKind",
    "StepStatus",
    "StringMeasurement",
    "SubUnit",
    "UURInfo",
    "UURReport",
    "UUTInfo",
    "UUTReport",
]


class ReportType(enum.StrEnum):
    """Report ``type``: ``T`` for a test (UUT) report, ``R`` for a repair (UUR) report."""

    UUT = "T"
    UUR = "R"


class ReportResult(enum.StrEnum):
    """Report ``result``. The server accepts these four only (``D`` is a step status)."""

    PASSED = "P"
    FAILED = "F"
    ERROR = "E"
    TERMINATED = "T"


class StepStatus(enum.StrEnum):
    """Step ``status``."""

    PASSED = "P"
    FAILED = "F"
    DONE = "D"
    SKIPPED = "S"
    ERROR = "E"
    TERMINATED = "T"
    UNKNOWN = "U"


class MeasurementStatus(enum.StrEnum):
    """Measurement ``status`` (numeric, string and boolean measurements)."""

    PASSED = "P"
    FAILED = "F"
    SKIPPED = "S"


class StepGroup(enum.StrEnum):
    """Step ``group``: the TestStand step group the step ran in."""

    SETUP = "S"
    MAIN = "M"
    CLEANUP = "C"


class CompOp(enum.StrEnum):
    """Comparison operators of numeric and string measurements.

    Single-limit operators compare against ``lowLimit``; dual-limit ones use both limits.
    ``LT``/``LE`` use the *low* limit too (the predecessor gets this wrong).
    """

    LOG = "LOG"
    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    GE = "GE"
    LT = "LT"
    LE = "LE"
    GTLT = "GTLT"
    GTLE = "GTLE"
    GELT = "GELT"
    GELE = "GELE"
    LTGT = "LTGT"
    LTGE = "LTGE"
    LEGT = "LEGT"
    LEGE = "LEGE"
    CASESENSIT = "CASESENSIT"
    IGNORECASE = "IGNORECASE"

    @property
    def limit_count(self) -> int:
        """How many limits the operator uses (0, 1 or 2)."""
        if self is CompOp.LOG:
            return 0
        return 2 if self in DUAL_LIMIT_OPS else 1

    @classmethod
    def parse(cls, text: str) -> CompOp:
        """Return the operator for ``text``, compared case-insensitively (``IgnoreCase`` occurs).

        Raises:
            ValueError: ``text`` names no operator.
        """
        return cls(text.upper())


DUAL_LIMIT_OPS: frozenset[CompOp] = frozenset(
    {
        CompOp.GTLT,
        CompOp.GTLE,
        CompOp.GELT,
        CompOp.GELE,
        CompOp.LTGT,
        CompOp.LTGE,
        CompOp.LEGT,
        CompOp.LEGE,
    }
)
NUMERIC_OPS: frozenset[CompOp] = frozenset(CompOp) - {CompOp.CASESENSIT, CompOp.IGNORECASE}
STRING_OPS: frozenset[CompOp] = frozenset(
    {CompOp.LOG, CompOp.EQ, CompOp.NE, CompOp.CASESENSIT, CompOp.IGNORECASE}
)


class ChartType(enum.StrEnum):
    """``chart.chartType``."""

    LINE = "Line"
    LINE_LOG_XY = "LineLogXY"
    LINE_LOG_X = "LineLogX"
    LINE_LOG_Y = "LineLogY"


class StepKind(enum.Enum):
    """What a step is, derived from the payload it carries (never from ``stepType``)."""

    SEQUENCE_CALL = "sequence_call"
    NUMERIC_LIMIT = "numeric_limit"
    MULTI_NUMERIC_LIMIT = "multi_numeric_limit"
    PASS_FAIL = "pass_fail"
    MULTI_PASS_FAIL = "multi_pass_fail"
    STRING_VALUE = "string_value"
    MULTI_STRING_VALUE = "multi_string_value"
    CHART = "chart"
    CALL_EXE = "call_exe"
    MESSAGE_POPUP = "message_popup"
    GENERIC = "generic"


class _Wire(msgspec.Struct, omit_defaults=True, kw_only=True, rename="camel"):
    """Base of every WSJF Struct: camelCase wire names, ``None`` never written."""


# --- header parts ---------------------------------------------------------------------------


class MiscInfo(_Wire):
    """A searchable key/value pair in the report header (``miscInfos[]``)."""

    description: str | None = None
    text: str | None = None
    numeric: int | None = None
    numeric_format: str | None = None
    typedef: str | None = None
    id: uuid.UUID | None = None


class Asset(_Wire):
    """Test equipment used by the test (``assets[]``); ``usageCount`` adds to its counters."""

    asset_sn: str | None = msgspec.field(default=None, name="assetSN")
    usage_count: int | None = None
    usage_count_format: str | None = None


class AssetStats(_Wire):
    """Asset state computed by the server when it processed the report (``assetStats[]``)."""

    asset_sn: str | None = msgspec.field(default=None, name="assetSN")
    running_count: int | None = None
    running_count_exceeded: int | None = None
    total_count: int | None = None
    total_count_exceeded: int | None = None
    days_since_calibration: float | None = None
    calibration_days_overdue: float | None = None
    days_since_maintenance: float | None = None
    maintenance_days_overdue: float | None = None
    is_days_since_calibration_unknown: bool | None = None
    is_days_since_maintenance_unknown: bool | None = None
    message: str | None = None


class BinaryData(_Wire):
    """A report-level (UUR) or failure attachment; ``data`` is standard padded base64."""

    content_type: str | None = None
    data: str | None = None
    name: str | None = None
    id: uuid.UUID | None = None


class Failure(_Wire):
    """A failure found on a unit during repair (``subUnits[].failures[]``, UUR only)."""

    category: str | None = None
    code: str | None = None
    comment: str | None = None
    com_ref: str | None = None
    func_block: str | None = None
    ref_step_id: int | None = None
    ref_step_name: str | None = None
    art_number: str | None = None
    art_rev: str | None = None
    art_vendor: str | None = None
    art_description: str | None = None
    attachments: list[BinaryData] | None = None


class SubUnit(_Wire):
    """A component of the unit (``subUnits[]``); for a UUR, ``idx`` 0 is the repaired unit."""

    part_type: str | None = None
    pn: str | None = None
    rev: str | None = None
    sn: str | None = None
    position: int | None = None
    idx: int | None = None
    parent_idx: int | None = None
    replaced_idx: int | None = None
    failures: list[Failure] | None = None


class AdditionalDataIndex(_Wire):
    """One element of an additional-data array."""

    text: str | None = None
    indexes: list[int] | None = None
    value: AdditionalDataProperty | None = None


class AdditionalDataArray(_Wire):
    """An array-valued additional-data property."""

    dimension: int | None = None
    type: str | None = None
    indexes: list[AdditionalDataIndex] | None = None


class AdditionalDataProperty(_Wire):
    """A TestStand-style property: a value, an object (``props``) or an array."""

    name: str | None = None
    type: str | None = None
    flags: int | None = None
    value: str | None = None
    num_format: str | None = None
    comment: str | None = None
    props: list[AdditionalDataProperty] | None = None
    array: AdditionalDataArray | None = None


class AdditionalData(_Wire):
    """Structured extra data: ``additionalData[]`` (report), ``additionalResults[]`` (step)."""

    name: str | None = None
    props: list[AdditionalDataProperty] | None = None


class RefUUR(_Wire):
    """A repair report that references a UUT (``uut.refUURs[]``, filled by the server)."""

    id: uuid.UUID | None = None
    start: datetime | None = None


class UUTInfo(_Wire):
    """The ``uut`` header extension of a test report."""

    user: str | None = None
    comment: str | None = None
    exec_time: float | None = None
    exec_time_format: str | None = None
    test_socket_index: int | None = None
    test_socket_index_format: str | None = None
    batch_sn: str | None = msgspec.field(default=None, name="batchSN")
    batch_fail_count: int | None = None
    batch_fail_count_format: str | None = None
    batch_loop_index: int | None = None
    batch_loop_index_format: str | None = None
    error_code: int | None = None
    error_code_format: str | None = None
    error_message: str | None = None
    fixture_id: str | None = None
    step_id_caused_uut_failure: int | None = msgspec.field(
        default=None, name="stepIdCausedUUTFailure"
    )
    ref_uurs: list[RefUUR] | None = msgspec.field(default=None, name="refUURs")


class UURInfo(_Wire):
    """The ``uur`` header extension of a repair report.

    ``process_code`` here is the *test* operation during which the failure was found; the
    report's own ``processCode`` is the repair operation.
    """

    user: str | None = None
    comment: str | None = None
    process_code: int | None = None
    process_code_format: str | None = None
    process_name: str | None = None
    ref_uut: uuid.UUID | None = msgspec.field(default=None, name="refUUT")
    confirm_date: datetime | None = None
    finalize_date: datetime | None = None
    exec_time: float | None = None
    parent: uuid.UUID | None = None
    children: list[uuid.UUID] | None = None


# --- step payloads --------------------------------------------------------------------------


class NumericMeasurement(_Wire):
    """A numeric limit measurement (``numericMeas[]``).

    Single-limit operators (``EQ``, ``NE``, ``GT``, ``GE``, ``LT``, ``LE``) use ``low_limit``.
    """

    name: str | None = None
    status: str | None = None
    value: float | None = None
    value_format: str | None = None
    unit: str | None = None
    comp_op: str | None = None
    low_limit: float | None = None
    low_limit_format: str | None = None
    high_limit: float | None = None
    high_limit_format: str | None = None


class StringMeasurement(_Wire):
    """A string value measurement (``stringMeas[]``)."""

    name: str | None = None
    status: str | None = None
    value: str | None = None
    limit: str | None = None
    comp_op: str | None = None


class BooleanMeasurement(_Wire):
    """A pass/fail measurement (``booleanMeas[]``): the outcome *is* the status."""

    name: str | None = None
    status: str | None = None


class SequenceCall(_Wire):
    """The ``seqCall`` payload of a sequence-call step."""

    path: str | None = None
    name: str | None = None
    version: str | None = None


class CallExe(_Wire):
    """The ``callExe`` payload of a call-executable step."""

    exit_code: float | None = None
    exit_code_format: str | None = None


class MessagePopup(_Wire):
    """The ``messagePopup`` payload: what the operator typed and which button they pressed."""

    response: str | None = None
    button: int | None = None
    button_format: str | None = None


class ChartSeries(_Wire):
    """One chart series; ``xdata``/``ydata`` are ``;``-separated numbers with ``.`` decimals."""

    data_type: str | None = None
    name: str | None = None
    xdata: str | None = None
    ydata: str | None = None

    @classmethod
    def from_points(
        cls, name: str, x: list[float] | None, y: list[float], data_type: str = "XYG"
    ) -> ChartSeries:
        """Build a series from numbers; x defaults to 0, 1, 2, … (always written, to be safe)."""
        xs = list(range(len(y))) if x is None else x
        if len(xs) != len(y):
            raise ValueError(f"series {name!r}: {len(xs)} x values but {len(y)} y values")
        return cls(
            data_type=data_type,
            name=name,
            xdata=";".join(_num(v) for v in xs),
            ydata=";".join(_num(v) for v in y),
        )

    def points(self) -> tuple[list[float], list[float]]:
        """Return the series as (x, y) lists of floats."""
        y = _split_numbers(self.ydata)
        x = (
            _split_numbers(self.xdata)
            if self.xdata is not None
            else [float(i) for i in range(len(y))]
        )
        return x, y


def _num(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _split_numbers(text: str | None) -> list[float]:
    if not text:
        return []
    return [float(part) for part in text.split(";") if part.strip()]


class Chart(_Wire):
    """The ``chart`` payload: at most one per step."""

    chart_type: str | None = None
    label: str | None = None
    x_label: str | None = None
    x_unit: str | None = None
    y_label: str | None = None
    y_unit: str | None = None
    series: list[ChartSeries] | None = None


class Attachment(_Wire):
    """The one attachment a UUT step may carry (``attachment``)."""

    name: str | None = None
    content_type: str | None = None
    data: str | None = None


class LoopInfo(_Wire):
    """Loop data of a looped step.

    A summary step has ``idx`` unset and counts; each iteration step has its 0-based ``idx``.
    """

    idx: int | None = None
    num: int | None = None
    ending_index: int | None = None
    passed: int | None = None
    failed: int | None = None

    @property
    def is_summary(self) -> bool:
        """True for the summary step of a loop (it has no iteration index)."""
        return self.idx is None


class Step(_Wire):
    """One step of the step tree; :attr:`kind` says what it is."""

    id: int | None = None
    group: str | None = None
    step_type: str | None = None
    name: str | None = None
    status: str | None = None
    start: datetime | None = None
    tot_time: float | None = None
    tot_time_format: str | None = None
    error_code: int | None = None
    error_code_format: str | None = None
    error_message: str | None = None
    report_text: str | None = None
    ts_guid: str | None = None
    interactive_exe_num: int | None = None
    interactive_exe_num_format: str | None = None
    caused_seq_failure: bool | None = None
    caused_uut_failure: bool | None = msgspec.field(default=None, name="causedUUTFailure")
    loop: LoopInfo | None = None
    seq_call: SequenceCall | None = None
    numeric_meas: list[NumericMeasurement] | None = None
    string_meas: list[StringMeasurement] | None = None
    boolean_meas: list[BooleanMeasurement] | None = None
    call_exe: CallExe | None = None
    message_popup: MessagePopup | None = None
    chart: Chart | None = None
    attachment: Attachment | None = None
    additional_results: list[AdditionalData] | None = None
    steps: list[Step] | None = None

    @property
    def kind(self) -> StepKind:
        """The kind of step, from its payload (a chart beside numeric data counts as numeric)."""
        if self.seq_call is not None or self.steps:
            return StepKind.SEQUENCE_CALL
        if self.numeric_meas:
            return _single_or_multi(self.numeric_meas, StepKind.NUMERIC_LIMIT)
        if self.boolean_meas:
            return _single_or_multi(self.boolean_meas, StepKind.PASS_FAIL)
        if self.string_meas:
            return _single_or_multi(self.string_meas, StepKind.STRING_VALUE)
        if self.call_exe is not None:
            return StepKind.CALL_EXE
        if self.message_popup is not None:
            return StepKind.MESSAGE_POPUP
        if self.chart is not None:
            return StepKind.CHART
        return StepKind.GENERIC

    def walk(self) -> list[Step]:
        """Return this step and every descendant, depth-first pre-order (the server's id order)."""
        out: list[Step] = []
        stack = [self]
        while stack:
            step = stack.pop()
            out.append(step)
            if step.steps:
                stack.extend(reversed(step.steps))
        return out


_MULTI = {
    StepKind.NUMERIC_LIMIT: StepKind.MULTI_NUMERIC_LIMIT,
    StepKind.PASS_FAIL: StepKind.MULTI_PASS_FAIL,
    StepKind.STRING_VALUE: StepKind.MULTI_STRING_VALUE,
}


def _single_or_multi(
    meas: list[NumericMeasurement] | list[BooleanMeasurement] | list[StringMeasurement],
    single: StepKind,
) -> StepKind:
    if len(meas) == 1 and meas[0].name is None:
        return single
    return _MULTI[single]


# --- reports --------------------------------------------------------------------------------


class _Report(_Wire, tag_field="type"):
    """Members shared by UUT and UUR reports (the envelope)."""

    id: uuid.UUID = msgspec.field(default_factory=uuid.uuid4)
    pn: str | None = None
    sn: str | None = None
    rev: str | None = None
    product_name: str | None = None
    process_code: int | None = None
    process_code_format: str | None = None
    process_name: str | None = None
    result: str | None = None
    machine_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    origin: str | None = None
    start: datetime | None = None
    start_utc: datetime | None = msgspec.field(default=None, name="startUTC")
    misc_infos: list[MiscInfo] | None = None
    sub_units: list[SubUnit] | None = None
    assets: list[Asset] | None = None
    asset_stats: list[AssetStats] | None = None
    binary_data: list[BinaryData] | None = None
    additional_data: list[AdditionalData] | None = None

    report_type: ClassVar[ReportType]

    def steps(self) -> list[Step]:
        """Every step, root first, depth-first pre-order (none in a repair report)."""
        return []

    def validate(self, *, server_rules: bool = True) -> list[Problem]:
        """Check the report before it is sent; return the problems found (empty when valid).

        Args:
            server_rules: also apply the consistency rules the live server's importer enforces
                (single-measurement status, loop counts and loop/summary agreement). Real server
                exports break some of them, so the emulator's lenient mode turns them off.
        """
        from pywats.validation import validate_report

        assert isinstance(self, UUTReport | UURReport)
        return validate_report(self, server_rules=server_rules)


class UUTReport(_Report, tag="T"):
    """A test report: header, ``uut`` extension and the ``root`` step tree."""

    uut: UUTInfo | None = None
    root: Step | None = None

    report_type: ClassVar[ReportType] = ReportType.UUT

    def steps(self) -> list[Step]:
        """Every step, root first, depth-first pre-order."""
        return self.root.walk() if self.root is not None else []


class UURReport(_Report, tag="R"):
    """A repair report: header, ``uur`` extension, and sub-units carrying the failures."""

    uur: UURInfo | None = None

    report_type: ClassVar[ReportType] = ReportType.UUR
