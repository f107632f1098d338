"""The step tree of :mod:`pywats.report_builder`: sequences, steps, loops and measurements.

Handles hold the steps as added; :func:`render_tree` turns them into a fresh ``Step`` tree at build
time, which is when sequence statuses are propagated and loop summaries are made (so a status
changed after the fact is still counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Self, TypedDict, Unpack

import msgspec

from pywats._builder_status import (
    Meas,
    aware,
    b64,
    check_names,
    check_numeric,
    combine_measurements,
    deciding_iteration,
    enum_value,
    integer,
    is_failing,
    loop_info,
    meas_status,
    measured_status,
    numeric_measurement,
    opt_text,
    raise_status,
    seconds,
    string_measurement,
    text,
)
from pywats.models.report import (
    Attachment,
    BooleanMeasurement,
    CallExe,
    Chart,
    ChartSeries,
    ChartType,
    CompOp,
    LoopInfo,
    MeasurementStatus,
    MessagePopup,
    NumericMeasurement,
    SequenceCall,
    Step,
    StepGroup,
    StepStatus,
    StringMeasurement,
)

__all__ = [
    "OCTET_STREAM",
    "STEP_ATTACHMENT_LIMIT",
    "Measure",
    "NumericLoop",
    "SequenceBuilder",
    "SequenceLoop",
    "StepHandle",
    "StepOptions",
    "StringMeasure",
    "render_tree",
]

STEP_ATTACHMENT_LIMIT: Final = 100 * 1024
"""Largest step attachment in bytes: the WATS C# API's 100 KB (the predecessor allowed 10 MB)."""

OCTET_STREAM: Final = "application/octet-stream"


class StepOptions(TypedDict, total=False):
    """Optional step members, accepted as keywords by every :class:`SequenceBuilder` method.

    ``fail_parent=False`` keeps a failing step from failing its sequence (TestStand's "step
    failure causes sequence failure" flag turned off).
    """

    group: StepGroup | str
    step_type: str
    report_text: str
    start: datetime
    tot_time: float
    error_code: int
    error_message: str
    ts_guid: str
    fail_parent: bool


@dataclass(frozen=True, slots=True)
class Measure:
    """One named numeric measurement of a multi-numeric (or chart) step.

    Checked when created, like :meth:`SequenceBuilder.numeric`. ``status`` overrides the status
    computed from the operator (e.g. ``"S"`` for a skipped measurement).
    """

    name: str
    value: float
    comp_op: CompOp | str = CompOp.LOG
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    status: MeasurementStatus | str | None = None

    def __post_init__(self) -> None:
        self.to_model()

    def to_model(self) -> NumericMeasurement:
        """Return the WSJF measurement, its status evaluated."""
        name = text(self.name, "measurement name")
        return numeric_measurement(
            name,
            self.value,
            self.comp_op,
            self.low,
            self.high,
            self.unit,
            self.status,
            f"measurement {name!r}",
        )


@dataclass(frozen=True, slots=True)
class StringMeasure:
    """One named string measurement of a multi-string step (a ``limit`` unless ``LOG``)."""

    name: str
    value: str
    comp_op: CompOp | str = CompOp.LOG
    limit: str | None = None
    status: MeasurementStatus | str | None = None

    def __post_init__(self) -> None:
        self.to_model()

    def to_model(self) -> StringMeasurement:
        """Return the WSJF measurement, its status evaluated."""
        name = text(self.name, "measurement name")
        return string_measurement(
            name, self.value, self.comp_op, self.limit, self.status, f"measurement {name!r}"
        )


def _passed(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what}: passed must be a bool, not {type(value).__name__}")
    return value


def attach(step: Step, name: str, data: bytes, content_type: str) -> None:
    """Give ``step`` its one attachment (base64), enforcing the C# API's rules."""
    what = f"step {step.name!r}"
    if step.attachment is not None:
        raise ValueError(f"{what} already has an attachment; WATS allows one per step")
    if step.chart is not None:
        raise ValueError(f"{what} has a chart; WATS allows no attachment beside a chart")
    encoded = b64(data, what)
    size = memoryview(data).nbytes
    if size > STEP_ATTACHMENT_LIMIT:
        raise ValueError(
            f"{what}: attachment {name!r} is {size} bytes; a step attachment may be at most "
            f"{STEP_ATTACHMENT_LIMIT} bytes (100 KB)"
        )
    step.attachment = Attachment(
        name=text(name, "attachment name"),
        content_type=text(content_type, "content type"),
        data=encoded,
    )


def _new_step(name: str, step_type: str, status: str | None = StepStatus.DONE.value) -> Step:
    # Steps without a pass/fail outcome (actions, popups, executables, charts) are "Done".
    return Step(
        group=StepGroup.MAIN.value, step_type=step_type, name=text(name, "step name"), status=status
    )


def _apply(step: Step, options: StepOptions) -> bool:
    """Set the optional members on ``step``; return its fail-parent flag."""
    if "group" in options:
        step.group = enum_value(StepGroup, options["group"], "group")
    if "step_type" in options:
        step.step_type = text(options["step_type"], "step_type")
    if "report_text" in options:
        step.report_text = opt_text(options["report_text"], "report_text")
    if "start" in options:
        step.start = aware(options["start"])
    if "tot_time" in options:
        step.tot_time = seconds(options["tot_time"], "tot_time")
    if "error_code" in options:
        step.error_code = integer(options["error_code"], "error_code")
    if "error_message" in options:
        step.error_message = opt_text(options["error_message"], "error_message")
    if "ts_guid" in options:
        step.ts_guid = opt_text(options["ts_guid"], "ts_guid")
    fail_parent = options.get("fail_parent", True)
    if not isinstance(fail_parent, bool):
        raise TypeError("fail_parent must be a bool")
    return fail_parent


class _Render:
    """State of one rendering: the first failing step whose failure reached the root."""

    def __init__(self) -> None:
        self.culprit: Step | None = None

    def note(self, step: Step, record: bool) -> None:
        if record and self.culprit is None and is_failing(step.status):
            self.culprit = step


class _Node:
    """What a sequence holds: one step, or a loop (several sibling steps)."""

    _fail_parent: bool

    def _render(self, ctx: _Render, record: bool) -> list[Step]:
        raise NotImplementedError


class StepHandle(_Node):
    """A step added to a sequence: attach a file, change its status, or read it."""

    def __init__(self, step: Step, *, fail_parent: bool = True) -> None:
        self._step = step
        self._fail_parent = fail_parent

    @property
    def step(self) -> Step:
        """The step as added; ``build()`` works on copies (ids, loop data, propagated status)."""
        return self._step

    @property
    def name(self) -> str:
        """The step name."""
        return self._step.name or ""

    def attach(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Attach one file of at most :data:`STEP_ATTACHMENT_LIMIT` bytes to the step.

        Raises:
            ValueError: the step already has an attachment or a chart, or ``data`` is too large.
        """
        attach(self._step, name, data, content_type)
        return self

    def set_status(self, status: StepStatus | str) -> Self:
        """Override the status (on a one-measurement step: P, F or S, written to both).

        A sequence's status is still raised by failing children when the report is built.
        """
        meas: list[Meas] = [
            *(self._step.numeric_meas or ()),
            *(self._step.string_meas or ()),
            *(self._step.boolean_meas or ()),
        ]
        self._step.status = measured_status(meas, status)
        return self

    def _render(self, ctx: _Render, record: bool) -> list[Step]:
        step = msgspec.structs.replace(self._step)
        ctx.note(step, record)
        return [step]


class SequenceBuilder(StepHandle):
    """A sequence-call step; its methods add child steps and return them."""

    def __init__(self, step: Step, *, fail_parent: bool = True) -> None:
        super().__init__(step, fail_parent=fail_parent)
        self._children: list[_Node] = []

    def _add(
        self, step: Step, options: StepOptions, status: object, meas: Sequence[Meas] = ()
    ) -> StepHandle:
        if meas:
            step.status = measured_status(meas, status)
        elif status is not None:
            step.status = enum_value(StepStatus, status, "step status")
        handle = StepHandle(step, fail_parent=_apply(step, options))
        self._children.append(handle)
        return handle

    def sequence(
        self,
        name: str,
        *,
        path: str | None = None,
        seq_name: str | None = None,
        version: str | None = None,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> SequenceBuilder:
        """Add a nested sequence call (``seq_name`` defaults to the step name).

        A given ``status`` (e.g. ``E``) stays unless a child raises it further.
        """
        step = _new_step(name, "SequenceCall", None)
        if status is not None:
            step.status = enum_value(StepStatus, status, "step status")
        step.seq_call = SequenceCall(
            path=opt_text(path, "path"),
            name=opt_text(seq_name, "seq_name") or name,
            version=opt_text(version, "version"),
        )
        child = SequenceBuilder(step, fail_parent=_apply(step, options))
        self._children.append(child)
        return child

    def numeric(
        self,
        name: str,
        value: float,
        comp_op: CompOp | str = CompOp.LOG,
        *,
        low: float | None = None,
        high: float | None = None,
        unit: str | None = None,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a numeric limit step (``ET_NLT``); single-limit operators use ``low`` only."""
        meas = numeric_measurement(None, value, comp_op, low, high, unit, None, f"step {name!r}")
        step = _new_step(name, "ET_NLT")
        step.numeric_meas = [meas]
        return self._add(step, options, status, [meas])

    def multi_numeric(
        self,
        name: str,
        measures: Sequence[Measure],
        *,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a multiple numeric limit step (``ET_MNLT``) of uniquely named measurements."""
        meas = [m.to_model() for m in measures]
        check_names(meas, f"step {name!r}")
        step = _new_step(name, "ET_MNLT")
        step.numeric_meas = meas
        return self._add(step, options, status, meas)

    def pass_fail(
        self,
        name: str,
        passed: bool,
        *,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a pass/fail step (``ET_PFT``)."""
        meas = BooleanMeasurement(status=meas_status(None, _passed(passed, f"step {name!r}")))
        step = _new_step(name, "ET_PFT")
        step.boolean_meas = [meas]
        return self._add(step, options, status, [meas])

    def multi_pass_fail(
        self,
        name: str,
        results: Mapping[str, bool],
        *,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a multiple pass/fail step (``ET_MPFT``) from measurement name → passed."""
        meas = [
            BooleanMeasurement(
                name=text(key, "measurement name"),
                status=meas_status(None, _passed(ok, f"measurement {key!r}")),
            )
            for key, ok in results.items()
        ]
        check_names(meas, f"step {name!r}")
        step = _new_step(name, "ET_MPFT")
        step.boolean_meas = meas
        return self._add(step, options, status, meas)

    def string(
        self,
        name: str,
        value: str,
        comp_op: CompOp | str = CompOp.LOG,
        *,
        limit: str | None = None,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a string value step (``ET_SVT``); ``EQ``/``NE``/``CASESENSIT`` are case-sensitive."""
        meas = string_measurement(None, value, comp_op, limit, None, f"step {name!r}")
        step = _new_step(name, "ET_SVT")
        step.string_meas = [meas]
        return self._add(step, options, status, [meas])

    def multi_string(
        self,
        name: str,
        measures: Sequence[StringMeasure],
        *,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a multiple string value step (``ET_MSVT``)."""
        meas = [m.to_model() for m in measures]
        check_names(meas, f"step {name!r}")
        step = _new_step(name, "ET_MSVT")
        step.string_meas = meas
        return self._add(step, options, status, meas)

    def chart(
        self,
        name: str,
        series: Sequence[ChartSeries],
        *,
        chart_type: ChartType | str = ChartType.LINE,
        label: str | None = None,
        x_label: str | None = None,
        x_unit: str | None = None,
        y_label: str | None = None,
        y_unit: str | None = None,
        measures: Sequence[Measure] = (),
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a chart step: ``Chart``, or ``WATS_XYGMNLT`` with numeric ``measures``.

        Make series with :meth:`ChartSeries.from_points`. A chart step takes no attachment.
        """
        if not series:
            raise ValueError(f"chart {name!r} needs at least one series")
        for one in series:
            if not isinstance(one, ChartSeries):
                raise TypeError(f"chart {name!r}: series must be ChartSeries (see from_points)")
            one.points()  # a ValueError now rather than a validation problem at build time
        meas = [m.to_model() for m in measures]
        if meas:
            check_names(meas, f"step {name!r}")
        step = _new_step(name, "WATS_XYGMNLT" if meas else "Chart")
        step.chart = Chart(
            chart_type=enum_value(ChartType, chart_type, "chart type"),
            label=opt_text(label, "label"),
            x_label=opt_text(x_label, "x_label"),
            x_unit=opt_text(x_unit, "x_unit"),
            y_label=opt_text(y_label, "y_label"),
            y_unit=opt_text(y_unit, "y_unit"),
            series=list(series),
        )
        step.numeric_meas = meas or None
        return self._add(step, options, status, meas)

    def call_exe(
        self,
        name: str,
        exit_code: float = 0,
        *,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a call-executable step (status ``D`` unless given)."""
        _, code, _, _ = check_numeric(CompOp.LOG, exit_code, None, None, what="exit_code")
        step = _new_step(name, "CallExecutable")
        step.call_exe = CallExe(exit_code=code)
        return self._add(step, options, status)

    def message_popup(
        self,
        name: str,
        *,
        response: str | None = None,
        button: int | None = None,
        status: StepStatus | str | None = None,
        **options: Unpack[StepOptions],
    ) -> StepHandle:
        """Add a message-popup step: the operator's typed ``response`` and ``button`` index."""
        step = _new_step(name, "MessagePopup")
        step.message_popup = MessagePopup(
            response=opt_text(response, "response"),
            button=None if button is None else integer(button, "button"),
        )
        return self._add(step, options, status)

    def action(
        self, name: str, *, status: StepStatus | str | None = None, **options: Unpack[StepOptions]
    ) -> StepHandle:
        """Add a step without payload (``Action``; pass ``step_type=`` for ``NI_Wait`` etc.)."""
        return self._add(_new_step(name, "Action"), options, status)

    def numeric_loop(
        self,
        name: str,
        values: Sequence[float],
        comp_op: CompOp | str = CompOp.LOG,
        *,
        low: float | None = None,
        high: float | None = None,
        unit: str | None = None,
        **options: Unpack[StepOptions],
    ) -> NumericLoop:
        """Add a numeric step looped once per value: a summary step plus one step per iteration.

        All are siblings with the same name, step type, operator and limits. The summary fails
        when an iteration failed, and repeats the first failing (else the last) iteration's
        measurement.
        """
        if not values:
            raise ValueError(f"loop {name!r} needs at least one value")
        iterations: list[StepHandle] = []
        for idx, value in enumerate(values):
            what = f"loop {name!r} value {idx}"
            meas = numeric_measurement(None, value, comp_op, low, high, unit, None, what)
            step = _new_step(name, "ET_NLT", meas.status)
            step.numeric_meas = [meas]
            step.loop = LoopInfo(idx=idx)
            iterations.append(StepHandle(step, fail_parent=_apply(step, options)))
        summary = msgspec.structs.replace(iterations[0].step, loop=None)
        loop = NumericLoop(summary, iterations, fail_parent=iterations[0]._fail_parent)
        self._children.append(loop)
        return loop

    def sequence_loop(
        self,
        name: str,
        *,
        path: str | None = None,
        seq_name: str | None = None,
        version: str | None = None,
        **options: Unpack[StepOptions],
    ) -> SequenceLoop:
        """Add a looped sequence call; add each pass with :meth:`SequenceLoop.iteration`.

        Every iteration must hold the same child steps (names, operators, limits): the summary
        repeats the children of the first failing (else the last) iteration, and the server's
        loop rules, checked by ``build()``, compare them with every iteration's.
        """
        template = _new_step(name, "SequenceCall", None)
        template.seq_call = SequenceCall(
            path=opt_text(path, "path"),
            name=opt_text(seq_name, "seq_name") or name,
            version=opt_text(version, "version"),
        )
        loop = SequenceLoop(template, fail_parent=_apply(template, options))
        self._children.append(loop)
        return loop

    def _render_children(self, ctx: _Render, record: bool, status: str) -> tuple[list[Step], str]:
        steps: list[Step] = []
        for child in self._children:
            rendered = child._render(ctx, record and child._fail_parent)
            steps.extend(rendered)
            if child._fail_parent:
                for step in rendered:
                    status = raise_status(status, step.status)
        return steps, status

    def _render(self, ctx: _Render, record: bool) -> list[Step]:
        step = msgspec.structs.replace(self._step)
        start = self._step.status or StepStatus.PASSED.value
        step.steps, step.status = self._render_children(ctx, record, start)
        ctx.note(step, record)  # after its children: a sequence is the culprit only if none is
        return [step]


class NumericLoop(_Node):
    """A looped numeric step, as returned by :meth:`SequenceBuilder.numeric_loop`."""

    def __init__(self, summary: Step, iterations: list[StepHandle], *, fail_parent: bool) -> None:
        self._summary = summary
        self._iterations = iterations
        self._fail_parent = fail_parent

    @property
    def iterations(self) -> list[StepHandle]:
        """One handle per iteration, in order."""
        return list(self._iterations)

    def attach(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Attach one file to the summary step (see :meth:`StepHandle.attach`)."""
        attach(self._summary, name, data, content_type)
        return self

    def _render(self, ctx: _Render, record: bool) -> list[Step]:
        steps = [h._render(ctx, record)[0] for h in self._iterations]
        statuses = [s.status for s in steps]
        status = combine_measurements(statuses)
        pick = steps[deciding_iteration(statuses, status)]
        summary = msgspec.structs.replace(
            self._summary,
            status=status,
            loop=loop_info(statuses),
            numeric_meas=[msgspec.structs.replace(m) for m in pick.numeric_meas or ()],
        )
        return [summary, *steps]


class SequenceLoop(_Node):
    """A looped sequence call, as returned by :meth:`SequenceBuilder.sequence_loop`."""

    def __init__(self, template: Step, *, fail_parent: bool) -> None:
        self._template = template
        self._iterations: list[SequenceBuilder] = []
        self._fail_parent = fail_parent

    @property
    def iterations(self) -> list[SequenceBuilder]:
        """The iterations added so far."""
        return list(self._iterations)

    def iteration(self) -> SequenceBuilder:
        """Add the next iteration and return it, to be filled with the loop's child steps."""
        step = msgspec.structs.replace(
            self._template,
            loop=LoopInfo(idx=len(self._iterations)),
            seq_call=msgspec.structs.replace(self._template.seq_call or SequenceCall()),
            attachment=None,
        )
        builder = SequenceBuilder(step)
        self._iterations.append(builder)
        return builder

    def attach(self, name: str, data: bytes, content_type: str = OCTET_STREAM) -> Self:
        """Attach one file to the summary step (see :meth:`StepHandle.attach`)."""
        attach(self._template, name, data, content_type)
        return self

    def _render(self, ctx: _Render, record: bool) -> list[Step]:
        if not self._iterations:
            raise ValueError(f"sequence loop {self._template.name!r} has no iteration")
        steps = [b._render(ctx, record)[0] for b in self._iterations]
        statuses = [s.status for s in steps]
        status = StepStatus.PASSED.value
        for one in statuses:
            status = raise_status(status, one)
        pick = self._iterations[deciding_iteration(statuses, status)]
        children, _ = pick._render_children(ctx, False, status)  # copies: never the culprit
        summary = msgspec.structs.replace(
            self._template, status=status, loop=loop_info(statuses), steps=children
        )
        return [summary, *steps]


def render_tree(root: SequenceBuilder) -> tuple[Step, Step | None]:
    """Render the tree under ``root`` with ids from 1, depth-first pre-order.

    Returns:
        The root step, and the first failing step whose failure reached the root (the step that
        caused the unit to fail), if any.
    """
    ctx = _Render()
    step = root._render(ctx, True)[0]
    for number, one in enumerate(step.walk(), start=1):
        one.id = number
    return step, ctx.culprit
