"""Adding ATML step descriptions (:class:`~._atml_steps.StepSpec`) to a report builder.

Statuses are the file's (TestStand decided them; nothing is re-evaluated from the limits):

* a step with one measurement carries that measurement's status (the server rejects a step
  whose status differs from its only measurement's), which is P, F or S: a step TestStand
  marked Error or Terminated that holds one measurement becomes Failed, and the report text
  says what TestStand said;
* a failing step raises its sequence's status only where the file shows the sequence failed
  at least as badly (a step whose failure TestStand did not let fail its sequence stays
  inside a passed sequence), so every sequence keeps the file's status; the first failing step
  under the root is marked as the one that failed the unit.

Loops: TestStand writes a looped step as a summary (``NumLoops``, ``NumPassed``, ``NumFailed``)
followed by one element per iteration (``LoopIndex``, name suffixed ``(Loop Index:n)``). They
become WATS's loop: the summary with ``num``/``endingIndex``/``passed``/``failed``, then the
iterations with their ``idx``, all with the summary's name, as the server's importer wants
them (``endingIndex`` = the highest index, ``num`` = ``endingIndex`` + 1; iterations agreeing
with the summary in step type, measurements, operators and limits). Iterations that do not
agree are added as plain steps under their own names; a summary whose iterations were not
recorded keeps its counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from pywats._builder_status import is_failing, rank
from pywats.models.report import (
    Chart,
    ChartType,
    LoopInfo,
)
from pywats.report_builder import (
    Measure,
    SequenceBuilder,
    StepHandle,
    StepOptions,
    StringMeasure,
)
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._atml_steps import Meas, StepSpec, outcome_word
from pywats_station.converters.builtin._budget import OutputBudget

__all__ = ["add_steps"]

_MEAS_STATUS = {"P": "P", "D": "P", "U": "P", "F": "F", "E": "F", "T": "F", "S": "S"}


def add_steps(
    parent: SequenceBuilder, specs: Sequence[StepSpec], status: str | None, budget: OutputBudget
) -> None:
    """Add ``specs`` under ``parent``, whose own status in the file is ``status``.

    Raises:
        ConversionError: a step the builder refuses (a limit above its high limit, a name too
            long…), naming the element and its line.
        OutputTooLarge: the report is certainly over the size cap.
    """
    index = 0
    while index < len(specs):
        group = _loop_at(specs, index)
        if group is None:
            _add(parent, specs[index], status, budget)
            index += 1
            continue
        summary, iterations, taken = group
        _add_loop(parent, summary, iterations, status, budget)
        index += taken


def _same_loop(summary: StepSpec, candidate: StepSpec) -> bool:
    if candidate.loop_index is None:
        return False
    if summary.ts_guid and candidate.ts_guid:
        return summary.ts_guid == candidate.ts_guid
    return candidate.name == summary.name


def _loop_at(specs: Sequence[StepSpec], index: int) -> tuple[StepSpec, list[StepSpec], int] | None:
    """A loop starting at ``index``: its summary, iterations and how many specs it takes.

    TestStand writes the summary first; a summary after its iterations is accepted too.
    """
    first = specs[index]
    if first.loop is not None:
        iterations = []
        for spec in specs[index + 1 :]:
            if not _same_loop(first, spec):
                break
            iterations.append(spec)
        return first, iterations, 1 + len(iterations)
    if first.loop_index is None:
        return None
    iterations = [first]
    for spec in specs[index + 1 :]:
        if spec.loop is not None and _same_loop(spec, first):
            return spec, iterations, len(iterations) + 1
        if not _same_loop(first, spec):
            return None
        iterations.append(spec)
    return None


def _fail_parent(status: str | None, parent: str | None) -> bool:
    """Whether a step may raise its parent's status: only up to what the file says."""
    if not is_failing(status) or parent is None:
        return True
    return rank(parent) >= rank(status)


def _options(spec: StepSpec, parent: str | None, status: str | None) -> StepOptions:
    options = StepOptions(
        group=spec.group,
        step_type=spec.step_type,
        fail_parent=_fail_parent(status, parent),
    )
    if spec.report_text is not None:
        options["report_text"] = spec.report_text
    if spec.start is not None:
        options["start"] = spec.start
    if spec.tot_time is not None:
        options["tot_time"] = spec.tot_time
    if spec.error_code is not None:
        options["error_code"] = spec.error_code
    if spec.error_message is not None:
        options["error_message"] = spec.error_message
    if spec.ts_guid is not None:
        options["ts_guid"] = spec.ts_guid
    return options


def _meas_status(meas: Meas, step: str | None) -> str:
    if meas.status is not None:
        return meas.status
    return _MEAS_STATUS.get(step or "P", "P")


def _add(
    parent: SequenceBuilder,
    spec: StepSpec,
    parent_status: str | None,
    budget: OutputBudget,
    loop: LoopInfo | None = None,
) -> StepHandle:
    try:
        handle = _make(parent, spec, parent_status)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"{spec.where}: {exc}") from None
    step = handle.step
    step.loop = loop
    if spec.caused_seq_failure:
        step.caused_seq_failure = True
    if spec.interactive is not None:
        step.interactive_exe_num = spec.interactive
    if spec.additional:
        step.additional_results = list(spec.additional)
    if spec.series and step.chart is None:
        step.chart = Chart(chart_type=ChartType.LINE.value, label=spec.name, series=spec.series)
    budget.add_step(step, spec.line)
    if spec.children is not None:
        assert isinstance(handle, SequenceBuilder)
        add_steps(handle, spec.children, spec.status, budget)
    return handle


def _make(parent: SequenceBuilder, spec: StepSpec, parent_status: str | None) -> StepHandle:
    """The builder call for one spec."""
    status = spec.status
    if spec.children is not None:
        return parent.sequence(
            spec.name,
            path=spec.seq_path,
            seq_name=spec.seq_name,
            version=spec.seq_version,
            status=status,
            **_options(spec, parent_status, status),
        )
    if spec.meas:
        return _measured(parent, spec, parent_status)
    if spec.popup is not None:
        response, button = spec.popup
        return parent.message_popup(
            spec.name,
            response=response,
            button=button,
            status=status,
            **_options(spec, parent_status, status),
        )
    if spec.exit_code is not None:
        return parent.call_exe(
            spec.name, spec.exit_code, status=status, **_options(spec, parent_status, status)
        )
    if spec.series:
        return parent.chart(
            spec.name,
            spec.series,
            label=spec.name,
            status=status,
            **_options(spec, parent_status, status),
        )
    if spec.tag == "Test" and status in ("P", "F"):
        # A test without data (TestStand's pass/fail step): its outcome is the measurement.
        return parent.pass_fail(
            spec.name, status == "P", status=status, **_options(spec, parent_status, status)
        )
    return parent.action(spec.name, status=status, **_options(spec, parent_status, status))


def _measured(parent: SequenceBuilder, spec: StepSpec, parent_status: str | None) -> StepHandle:
    meas = spec.meas
    status = spec.status
    if len(meas) == 1:
        # One measurement: the step must carry its status (P, F or S).
        own = _meas_status(meas[0], status)
        if status in ("E", "T"):
            spec.texts.append(f"TestStand step outcome: {outcome_word(status)}")
        status = own
    options = _options(spec, parent_status, status)
    kind = meas[0].kind
    if spec.single:
        one = meas[0]
        if kind == "number":
            return parent.numeric(
                spec.name,
                one.number,
                one.op,
                low=one.low,
                high=one.high,
                unit=one.unit,
                status=status,
                **options,
            )
        if kind == "string":
            return parent.string(
                spec.name, one.text, one.op, limit=one.limit, status=status, **options
            )
        return parent.pass_fail(spec.name, one.passed, status=status, **options)
    if kind == "number":
        measures = [
            Measure(
                m.name or "",
                m.number,
                m.op,
                low=m.low,
                high=m.high,
                unit=m.unit,
                status=_meas_status(m, spec.status),
            )
            for m in meas
        ]
        return parent.multi_numeric(spec.name, measures, status=status, **options)
    if kind == "string":
        strings = [
            StringMeasure(
                m.name or "", m.text, m.op, limit=m.limit, status=_meas_status(m, spec.status)
            )
            for m in meas
        ]
        return parent.multi_string(spec.name, strings, status=status, **options)
    results = {m.name or "": _meas_status(m, spec.status) != "F" for m in meas}
    return parent.multi_pass_fail(spec.name, results, status=status, **options)


# --- loops ----------------------------------------------------------------------------------


def _signature(spec: StepSpec) -> tuple[object, ...]:
    """What the server's importer compares between a loop's summary and its iterations."""
    meas = tuple((m.kind, m.name, m.op, m.low, m.high, m.limit) for m in spec.meas)
    children = tuple(c.name for c in spec.children) if spec.children is not None else None
    kind = "sequence" if spec.children is not None else ("meas" if spec.meas else spec.tag)
    return spec.step_type, kind, spec.single, meas, children


def _agrees(summary: StepSpec, iteration: StepSpec) -> bool:
    if _signature(summary) != _signature(iteration):
        # A sequence summary TestStand wrote without children agrees with any iteration:
        # the importer compares only the summary's children.
        if summary.children == [] and iteration.children is not None:
            return summary.step_type == iteration.step_type
        return False
    return True


def _add_loop(
    parent: SequenceBuilder,
    summary: StepSpec,
    iterations: list[StepSpec],
    status: str | None,
    budget: OutputBudget,
) -> None:
    counts = summary.loop
    if not iterations:
        loop = None
        if counts is not None and counts.num is not None and counts.num > 0:
            loop = LoopInfo(
                num=counts.num,
                ending_index=counts.num - 1,
                passed=counts.passed,
                failed=counts.failed,
            )
        _add(parent, summary, status, budget, loop)
        return
    if not all(_agrees(summary, it) for it in iterations):
        _add(parent, summary, status, budget)
        for it in iterations:
            it.name = f"{it.name} (Loop Index:{it.loop_index})"
            _add(parent, it, status, budget)
        return
    indexes = [it.loop_index for it in iterations]
    if len(set(indexes)) != len(indexes) or any(i is None or i < 0 for i in indexes):
        indexes = list(range(len(iterations)))
    highest = max(i for i in indexes if i is not None)
    failed = sum(1 for it in iterations if is_failing(it.status))
    loop = LoopInfo(
        num=highest + 1,
        ending_index=highest,
        passed=counts.passed if counts and counts.passed is not None else len(indexes) - failed,
        failed=counts.failed if counts and counts.failed is not None else failed,
    )
    _add(parent, summary, status, budget, loop)
    for index, it in zip(indexes, iterations, strict=True):
        it.name = summary.name
        _add(parent, it, status, budget, LoopInfo(idx=index))
