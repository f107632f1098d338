"""Fluent construction of WATS test (UUT) and repair (UUR) reports.

::

    b = ReportBuilder.uut(pn="PN-100", sn="SN-1", rev="A", process_code=10, station="ST-1",
                          location="Lab", purpose="Production", operator="op1")
    rails = b.root.sequence("Power rails")
    rails.numeric("3V3", 3.31, CompOp.GELE, low=3.2, high=3.4, unit="V")
    rails.numeric_loop("Ripple", [0.01, 0.02], CompOp.LE, low=0.05, unit="V")
    report = b.build()

    r = ReportBuilder.uur(repairing=report, process_code=500, station="REPAIR-1",
                          location="Lab", operator="tech1")
    r.failure(category="Component", code="Defect Component", com_ref="U1", ref_step=5)
    repair = r.build()

Statuses follow the WATS "Active" mode (``wats-api.md`` §5.13, §5.17): a measurement's status
comes from its comparison operator (``LT``/``LE`` against the *low* limit), a step with one
measurement carries that measurement's status, a failed, errored or terminated step raises its
parent sequence's status and so on up to the report result, and nothing is ever lowered.

Wrong arguments raise ``TypeError``/``ValueError`` when the step is added. :meth:`build` numbers
the steps (depth-first pre-order from 1, as the server does), marks the first failing step as the
one that failed the unit, and raises :class:`pywats.ReportInvalidError` unless
:meth:`UUTReport.validate` (server rules included) finds nothing: a built report always
validates.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Generic, Self, TypeVar

import msgspec

from pywats._builder_status import (
    aware,
    b64,
    enum_value,
    evaluate,
    evaluate_string,
    integer,
    opt_text,
    raise_status,
    result_for,
    seconds,
)
from pywats._builder_status import text as nonblank
from pywats._builder_steps import (
    OCTET_STREAM,
    STEP_ATTACHMENT_LIMIT,
    Measure,
    NumericLoop,
    SequenceBuilder,
    SequenceLoop,
    StepHandle,
    StepOptions,
    StringMeasure,
    render_tree,
)
from pywats._deprecated import warn_renamed
from pywats._errors import ReportInvalidError
from pywats._ids import ReportId, as_report_id
from pywats._version import __version__
from pywats.models.report import (
    Asset,
    BinaryData,
    Failure,
    MiscInfo,
    ReportResult,
    SequenceCall,
    Step,
    StepGroup,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)
from pywats.validation import Problem

__all__ = [
    "ROOT_NAME",
    "STEP_ATTACHMENT_LIMIT",
    "FailureHandle",
    "Measure",
    "NumericLoop",
    "ReportBuilder",
    "SequenceBuilder",
    "SequenceLoop",
    "StepHandle",
    "StepOptions",
    "StringMeasure",
    "UURBuilder",
    "UUTBuilder",
    "evaluate",
    "evaluate_string",
]

ROOT_NAME = "MainSequence Callback"
"""The conventional name of the root sequence call."""

R = TypeVar("R", UUTReport, UURReport)


def _new_id(report_id: ReportId | None) -> uuid.UUID:
    return uuid.uuid4() if report_id is None else as_report_id(report_id)


class ReportBuilder(Generic[R]):
    """What test and repair builders share; start one with :meth:`uut` or :meth:`uur`."""

    def __init__(self, report: R) -> None:
        self._report: R = report
        self._result: str = ReportResult.PASSED.value

    @staticmethod
    def uut(
        *,
        pn: str,
        sn: str,
        rev: str,
        process_code: int,
        station: str,
        location: str,
        purpose: str,
        operator: str | None = None,
        start: datetime | None = None,
        report_id: ReportId | None = None,
    ) -> UUTBuilder:
        """Start a test report.

        Args:
            pn: part number.
            sn: serial number.
            rev: part revision.
            process_code: the test operation.
            station: the station (``machineName``).
            location: the station's location.
            purpose: the station's purpose (``Production``, ``Development``…).
            operator: the operator (``uut.user``).
            start: when the test started; defaults to now, in local time with its UTC offset.
                A naive time is taken as local time.
            report_id: the report id (a UUID or its text); a new random one by default.

        Raises:
            TypeError: an argument has the wrong type (``pn=None``), naming it.
            ValueError: a required text is empty or blank (``sn=""``), naming it.
        """
        # What the server requires is refused here, naming the argument, rather than by build().
        report = UUTReport(
            id=_new_id(report_id),
            pn=nonblank(pn, "pn"),
            sn=nonblank(sn, "sn"),
            rev=nonblank(rev, "rev"),
            process_code=integer(process_code, "process_code"),
            machine_name=nonblank(station, "station"),
            location=nonblank(location, "location"),
            purpose=nonblank(purpose, "purpose"),
            start=aware(start or datetime.now()),
            uut=UUTInfo(user=opt_text(operator, "operator")),
        )
        return UUTBuilder(report)

    @staticmethod
    def uur(
        *,
        process_code: int,
        station: str,
        location: str,
        purpose: str = "Repair",
        operator: str | None = None,
        repairing: UUTReport | UUTBuilder | None = None,
        pn: str | None = None,
        sn: str | None = None,
        rev: str | None = None,
        test_process_code: int | None = None,
        start: datetime | None = None,
        report_id: ReportId | None = None,
    ) -> UURBuilder:
        """Start a repair report; ``process_code`` is the repair operation.

        With ``repairing`` (a test report, or its builder, which is then built), the unit
        (pn/sn/rev), the failed test operation (``uur.processCode``) and the sub-units come from
        that test report, and ``uur.refUUT`` is its id. For a
        standalone repair give ``pn``, ``sn``, ``rev`` and ``test_process_code`` instead. The
        repaired unit is sub-unit idx 0; copied sub-units follow as its children (idx 1…).

        Raises:
            ValueError: both or neither of ``repairing`` and the explicit unit were given, or a
                required text (``station``, ``location``, ``purpose``, the unit) is blank.
        """
        given: dict[str, object] = {
            "pn": pn,
            "sn": sn,
            "rev": rev,
            "test_process_code": test_process_code,
        }
        units: list[SubUnit] = []
        if isinstance(repairing, UUTBuilder):
            repairing = repairing.build()
        if repairing is not None:
            if not isinstance(repairing, UUTReport):
                raise TypeError(f"repairing must be a UUTReport, not {type(repairing).__name__}")
            if any(v is not None for v in given.values()):
                raise ValueError("give either repairing= or pn/sn/rev/test_process_code, not both")
            given = {
                "pn": repairing.pn,
                "sn": repairing.sn,
                "rev": repairing.rev,
                "test_process_code": repairing.process_code,
            }
            # The tested unit's components become children of the repaired unit.
            units = [
                SubUnit(
                    part_type=u.part_type,
                    pn=u.pn,
                    rev=u.rev,
                    sn=u.sn,
                    position=u.position,
                    idx=idx,
                    parent_idx=0,
                )
                for idx, u in enumerate(repairing.sub_units or (), start=1)
            ]
        missing = [key for key, value in given.items() if value is None]
        if missing:
            raise ValueError(f"a repair report needs {', '.join(missing)} (or repairing=)")
        unit_pn, unit_sn, unit_rev = (nonblank(given[k], k) for k in ("pn", "sn", "rev"))
        now = datetime.now(UTC)
        main = SubUnit(part_type="Main", pn=unit_pn, rev=unit_rev, sn=unit_sn, idx=0)
        report = UURReport(
            id=_new_id(report_id),
            pn=unit_pn,
            sn=unit_sn,
            rev=unit_rev,
            process_code=integer(process_code, "process_code"),
            machine_name=nonblank(station, "station"),
            location=nonblank(location, "location"),
            purpose=nonblank(purpose, "purpose"),
            start=aware(start or datetime.now()),
            uur=UURInfo(
                user=opt_text(operator, "operator"),
                process_code=integer(given["test_process_code"], "test_process_code"),
                ref_uut=repairing.id if repairing is not None else None,
                confirm_date=now,
                finalize_date=now,
                exec_time=0.0,
            ),
            sub_units=[main, *units],
        )
        return UURBuilder(report, repairing)

    @property
    def id(self) -> uuid.UUID:
        """The report id (the same for every :meth:`build`, so a re-submit overwrites)."""
        return self._report.id

    def result(self, result: ReportResult | str) -> Self:
        """Set the result, e.g. ``E`` or ``T``; failing steps still raise it, nothing lowers it."""
        self._result = enum_value(ReportResult, result, "result")
        return self

    def misc_info(
        self, description: str, text: str | None = None, *, numeric: int | None = None
    ) -> Self:
        """Add a searchable header key/value; ``numeric`` is an int32 (both may be given)."""
        if numeric is not None and not -(2**31) <= integer(numeric, "numeric") < 2**31:
            raise ValueError(f"misc info {description!r}: numeric {numeric} is not an int32")
        info = MiscInfo(
            description=nonblank(description, "misc info description"),
            text=opt_text(text, "misc info text"),
            numeric=numeric,
        )
        self._report.misc_infos = [*(self._report.misc_infos or ()), info]
        return self

    def build(self) -> R:
        """Return the finished report: a new, independent copy on every call.

        Raises:
            ReportInvalidError: validation (server rules included) found problems, listed in
                its ``problems``.
            ValueError: a sequence loop has no iteration.
        """
        report = self._assemble()
        problems = report.validate()
        if not problems:
            try:
                encoded = msgspec.json.encode(report)
            except UnicodeEncodeError as exc:  # a lone surrogate somewhere
                bad = exc.object[exc.start : exc.end]
                problems = [Problem("characters", "report", f"{bad!r} cannot be sent as UTF-8")]
            else:
                # The decoded WSJF: exactly what the wire carries, sharing nothing with the builder.
                return msgspec.json.decode(encoded, type=type(report))
        raise ReportInvalidError(problems)

    def _assemble(self) -> R:
        raise NotImplementedError


class UUTBuilder(ReportBuilder[UUTReport]):
    """Builds a test report: steps under :attr:`root`, header data, sub-units and assets."""

    def __init__(self, report: UUTReport) -> None:
        super().__init__(report)
        # swFilename/swVersion in the report header come from the root seqCall; until the
        # caller names its sequence file (sequence_info), say what wrote the report.
        root = Step(
            group=StepGroup.MAIN.value,
            step_type="SequenceCall",
            name=ROOT_NAME,
            seq_call=SequenceCall(path="pywats", name=ROOT_NAME, version=__version__),
        )
        self._root = SequenceBuilder(root)

    @property
    def root(self) -> SequenceBuilder:
        """The root sequence call (``MainSequence Callback``)."""
        return self._root

    def sequence_info(
        self, *, path: str | None = None, name: str | None = None, version: str | None = None
    ) -> Self:
        """Set the root's sequence file ``path``, sequence ``name`` and ``version`` (if given)."""
        seq = self._root.step.seq_call
        assert seq is not None
        if path is not None:
            seq.path = opt_text(path, "path")
        if name is not None:
            seq.name = opt_text(name, "name")
        if version is not None:
            seq.version = opt_text(version, "version")
        return self

    def details(
        self,
        *,
        comment: str | None = None,
        exec_time: float | None = None,
        fixture_id: str | None = None,
        batch_sn: str | None = None,
        test_socket_index: int | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> Self:
        """Set ``uut`` header members (those given); ``exec_time`` in seconds."""
        uut = self._report.uut
        assert uut is not None
        if comment is not None:
            uut.comment = opt_text(comment, "comment")
        if exec_time is not None:
            uut.exec_time = seconds(exec_time, "exec_time")
        if fixture_id is not None:
            uut.fixture_id = opt_text(fixture_id, "fixture_id")
        if batch_sn is not None:
            uut.batch_sn = opt_text(batch_sn, "batch_sn")
        if test_socket_index is not None:
            uut.test_socket_index = integer(test_socket_index, "test_socket_index")
        if error_code is not None:
            uut.error_code = integer(error_code, "error_code")
        if error_message is not None:
            uut.error_message = opt_text(error_message, "error_message")
        return self

    def sub_unit(
        self, part_type: str, *, pn: str, sn: str, rev: str, position: int | None = None
    ) -> Self:
        """Add a component of the tested unit."""
        unit = SubUnit(
            part_type=nonblank(part_type, "part_type"),
            pn=nonblank(pn, "pn"),
            sn=nonblank(sn, "sn"),
            rev=nonblank(rev, "rev"),
            position=None if position is None else integer(position, "position"),
        )
        self._report.sub_units = [*(self._report.sub_units or ()), unit]
        return self

    def asset(self, serial: str, usage_count: int = 1) -> Self:
        """Record test equipment used in the test; ``usage_count`` adds to its counters."""
        asset = Asset(
            asset_sn=nonblank(serial, "asset serial"),
            usage_count=integer(usage_count, "usage_count"),
        )
        self._report.assets = [*(self._report.assets or ()), asset]
        return self

    def _assemble(self) -> UUTReport:
        root, culprit = render_tree(self._root)
        uut = msgspec.structs.replace(self._report.uut or UUTInfo())
        if culprit is not None:
            culprit.caused_uut_failure = True
            uut.step_id_caused_uut_failure = culprit.id
        result = result_for(raise_status(self._result, root.status)).value
        return msgspec.structs.replace(self._report, root=root, uut=uut, result=result)


class FailureHandle:
    """A failure added by :meth:`UURBuilder.failure`; attach images or documents to it."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure

    def attach(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Attach a file to the failure (``failures[].attachments``, base64)."""
        blob = BinaryData(
            name=nonblank(name, "attachment name"),
            content_type=nonblank(content_type, "content type"),
            data=b64(data, f"failure attachment {name!r}"),
            id=uuid.uuid4(),
        )
        self.failure.attachments = [*(self.failure.attachments or ()), blob]
        return self


class UURBuilder(ReportBuilder[UURReport]):
    """Builds a repair report: the unit hierarchy (idx 0 = the repaired unit) and failures."""

    def __init__(self, report: UURReport, repairing: UUTReport | None) -> None:
        super().__init__(report)
        # Step ids of the repaired report, to check failure references against.
        self._uut_steps = {s.id for s in repairing.steps()} if repairing is not None else None

    def details(
        self,
        *,
        comment: str | None = None,
        exec_time: float | None = None,
        confirm_date: datetime | None = None,
        finalize_date: datetime | None = None,
    ) -> Self:
        """Set ``uur`` header members (those given); the dates default to the builder's start."""
        uur = self._report.uur
        assert uur is not None
        if comment is not None:
            uur.comment = opt_text(comment, "comment")
        if exec_time is not None:
            uur.exec_time = seconds(exec_time, "exec_time")
        if confirm_date is not None:
            uur.confirm_date = aware(confirm_date)
        if finalize_date is not None:
            uur.finalize_date = aware(finalize_date)
        return self

    def _unit(self, idx: int, what: str) -> SubUnit:
        for unit in self._report.sub_units or ():
            if unit.idx == integer(idx, what):
                return unit
        raise ValueError(f"{what}: no sub-unit has idx {idx}")

    def sub_unit(
        self,
        part_type: str,
        *,
        pn: str,
        sn: str,
        rev: str,
        position: int | None = None,
        parent_idx: int = 0,
        replaced_idx: int | None = None,
    ) -> int:
        """Add a unit to the repair hierarchy, a child of ``parent_idx``; return its idx."""
        self._unit(parent_idx, "parent_idx")
        if replaced_idx is not None:
            self._unit(replaced_idx, "replaced_idx")
        units = self._report.sub_units or []
        idx = max((u.idx or 0 for u in units), default=0) + 1
        units.append(
            SubUnit(
                part_type=nonblank(part_type, "part_type"),
                pn=nonblank(pn, "pn"),
                sn=nonblank(sn, "sn"),
                rev=nonblank(rev, "rev"),
                position=None if position is None else integer(position, "position"),
                idx=idx,
                parent_idx=parent_idx,
                replaced_idx=replaced_idx,
            )
        )
        self._report.sub_units = units
        return idx

    def failure(
        self,
        category: str,
        code: str,
        *,
        com_ref: str | None = None,
        ref_step: int | Step | None = None,
        comment: str | None = None,
        unit_idx: int = 0,
        func_block: str | None = None,
        art_number: str | None = None,
        art_rev: str | None = None,
        art_vendor: str | None = None,
        art_description: str | None = None,
    ) -> FailureHandle:
        """Record a failure found on sub-unit ``unit_idx`` (0 = the repaired unit).

        Args:
            category: fail-code category of the repair operation.
            code: fail code within that category.
            com_ref: component reference (``U1``, ``R12``).
            ref_step: the UUT step that revealed the failure, or its id; when the repair was
                started from a UUT report it must be one of that report's steps.
            comment: free text.
            unit_idx: the sub-unit the failure was found on.
            func_block: function block.
            art_number: failed component's article number.
            art_rev: its revision.
            art_vendor: its vendor.
            art_description: its description.

        Raises:
            ValueError: no such sub-unit, or ``ref_step`` is not a step of the repaired report.
        """
        unit = self._unit(unit_idx, "unit_idx")
        step_id = ref_step.id if isinstance(ref_step, Step) else ref_step
        if ref_step is not None and (step_id is None or integer(step_id, "ref_step") < 0):
            raise ValueError("ref_step must be a step id >= 0, or a Step that has an id")
        if step_id and self._uut_steps is not None and step_id not in self._uut_steps:
            raise ValueError(f"ref_step: the repaired UUT report has no step with id {step_id}")
        failure = Failure(
            category=nonblank(category, "category"),
            code=nonblank(code, "code"),
            comment=opt_text(comment, "comment"),
            com_ref=opt_text(com_ref, "com_ref"),
            func_block=opt_text(func_block, "func_block"),
            ref_step_id=step_id,
            art_number=opt_text(art_number, "art_number"),
            art_rev=opt_text(art_rev, "art_rev"),
            art_vendor=opt_text(art_vendor, "art_vendor"),
            art_description=opt_text(art_description, "art_description"),
        )
        unit.failures = [*(unit.failures or ()), failure]
        return FailureHandle(failure)

    def attach(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Attach a file to the repair report (``binaryData``, base64, with a new id).

        The same name as a step's and a failure's ``attach``.
        """
        blob = BinaryData(
            name=nonblank(name, "attachment name"),
            content_type=nonblank(content_type, "content type"),
            data=b64(data, f"attachment {name!r}"),
            id=uuid.uuid4(),
        )
        self._report.binary_data = [*(self._report.binary_data or ()), blob]
        return self

    def attachment(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Deprecated: :meth:`attach` (every builder attaches files with ``attach``)."""
        warn_renamed("UURBuilder.attachment()", "UURBuilder.attach()")
        return self.attach(name, data, content_type)

    def _assemble(self) -> UURReport:
        return msgspec.structs.replace(self._report, result=self._result)
