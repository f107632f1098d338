"""One XJTAG test run (``<testrun>``, from a ``.xjlog`` member or the XML export) → one report.

The mapping (the converter's page, ``docs/converters/xjtag.md``, has it as a table):

* header: ``testruninfo/serial`` → serial number, ``user`` → operator (else the ``operator``
  argument), ``testrun@datetime`` (UTC) → start, shown in the configured zone or the
  station's; ``result`` → result (``Passed`` P, ``Failed`` F, ``Error`` E, ``Terminated``/
  ``Aborted``/``Stopped`` T; any other word F, as WATS's converter does, with the word kept as
  a misc info); ``time-taken`` (ms), else the summary's total → execution time;
  ``project-description`` → comment and root sequence name; ``xjtag-version`` → root sequence
  version; ``xjlink-name`` (else ``xjlink-serial``) → fixture id; ``xjlink-serial``,
  ``xjlink-name``, ``xjtag-version`` and any other ``testruninfo`` child → misc infos.
* steps: each ``testgroup`` → a sequence; each ``testfunction`` → a pass/fail step (``ET_PFT``)
  whose status is its ``result@value``: Passed and Failed carry the pass/fail measurement,
  Skipped, Error and Terminated are ``ET_PFT`` steps without one (as WATS exports skipped
  steps), an unknown word is status Unknown. Report text: the function's text outputs and
  inline HTML outputs in order, as text (what XJTAG's own ``plain-text`` shows); step time:
  ``time-taken`` (ms), else the summary's; circuit references and connection-test errors →
  the step's additional results; the connection-test data file a step links to → its
  attachment. Text written between groups goes to the preceding group's sequence, the run's
  ``header`` banner to the root step.
* The summary (:mod:`._xjtag_summary`) fills in what older logs lack: times, and functions
  skipped without an element of their own (skipped steps at their place).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pywats._errors import ReportInvalidError
from pywats.models.report import UUTReport
from pywats.report_builder import ReportBuilder, UUTBuilder
from pywats_station.converters.api import ConversionError, ConverterContext
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._equipment import EquipmentArguments, local_time
from pywats_station.converters.builtin._xjtag_steps import (
    LIMITS,
    STATUSES,
    Fetch,
    add_function,
    checked,
    clean,
    cut,
    milliseconds,
    step_name,
)
from pywats_station.converters.builtin._xjtag_summary import (
    SummaryFunction,
    SummaryGroup,
    read_summary,
    strip_tags,
)
from pywats_station.converters.builtin._xjtag_xml import Node

__all__ = ["DEFAULT_PART_NUMBER", "DEFAULT_REVISION", "Run", "run_report"]

DEFAULT_PART_NUMBER = "PN"
"""The part number when neither the log nor ``arguments.part_number`` gives one (WATS's
XJTAG converter's default: an XJTAG log names no part)."""
DEFAULT_REVISION = "1.0"
"""The revision when ``arguments.revision`` gives none (WATS's XJTAG converter's default)."""

MAX_MISC = 50
"""The most misc infos of one report (a real run gives 2 or 3)."""

_RESULTS = {
    "passed": "P",
    "failed": "F",
    "error": "E",
    "terminated": "T",
    "aborted": "T",
    "stopped": "T",
}
# The testruninfo children with a place of their own (the rest become misc infos).
_KNOWN_INFO = frozenset(
    {"project-description", "user", "serial", "xjlink-serial", "xjlink-name", "result",
     "time-taken", "xjtag-version"}
)  # fmt: skip


@dataclass
class Run:
    """One run to convert, and what the input around it knows.

    Attributes:
        root: the ``<testrun>`` element.
        label: how messages name the run's document (``"member 'Run 1.xml', "`` or ``""``).
        number: the run's number in its log (from 1).
        count: how many runs the log holds.
        project_path: the XJTAG project (``Info.xml``'s ``ProjectPath``), if known.
        source: the input's file name (the root sequence's path without a project).
        fetch: finds the connection-test data files the run links to.
    """

    root: Node
    label: str
    number: int = 1
    count: int = 1
    project_path: str | None = None
    source: str = ""
    fetch: Fetch | None = None


def _start(run: Run, args: EquipmentArguments) -> datetime:
    raw = run.root.attrs.get("datetime", "").strip()
    if not raw:
        raise ConversionError(f"{run.label}{run.root.where} has no datetime attribute")
    try:
        # XJTAG writes 7 fraction digits (.NET ticks); Python reads at most 6.
        when = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", raw).replace("Z", "+00:00"))
    except ValueError:
        raise ConversionError(
            f"{run.label}{run.root.where}: datetime {raw!r} is not an ISO 8601 time"
        ) from None
    try:
        if when.tzinfo is None:
            return local_time(when, args)
        # An instant (XJTAG writes UTC): shown in the configured zone, else the station's.
        return when.astimezone(ZoneInfo(args.timezone)) if args.timezone else when.astimezone()
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 shifted out of range
        raise ConversionError(
            f"{run.label}{run.root.where}: datetime {raw!r} is out of range"
        ) from None


def _info(run: Run) -> tuple[Node, dict[str, tuple[Node, str]]]:
    info = run.root.child("testruninfo")
    if info is None:
        raise ConversionError(
            f"{run.label}{run.root.where} has no <testruninfo> (serial number, result): the "
            "run is incomplete"
        )
    values: dict[str, tuple[Node, str]] = {}
    for node in info.children:
        values.setdefault(node.tag, (node, clean(node.text())))
    return info, values


def _required(run: Run, info: Node, values: dict[str, tuple[Node, str]], tag: str) -> str:
    found = values.get(tag)
    if found is None or not found[1].strip():
        where = found[0].where if found else f"{info.where}: no <{tag}>"
        raise ConversionError(f"{run.label}{where}: the run has no {tag}")
    return found[1].strip()


def run_report(
    run: Run,
    ctx: ConverterContext,
    args: EquipmentArguments,
    process_code: Callable[[], int],
    budget: OutputBudget,
) -> UUTReport:
    """The report of one run.

    Args:
        run: the run and what its input knows.
        ctx: the conversion's context (station identity).
        args: the converter's arguments.
        process_code: gives the process, once the run is known to make a report.
        budget: the output budget the steps and the report are counted against.

    Raises:
        ConversionError: the run lacks what a report needs (serial number, result, start), a
            value is too long for WATS, or the report would be over the output budget; the
            message names the element and its line.
    """
    if run.root.tag != "testrun":
        raise ConversionError(
            f"{run.label}{run.root.where}: the root element is <{run.root.tag}>, not "
            "<testrun>: not an XJTAG run"
        )
    info, values = _info(run)
    serial_node = values.get("serial", (info, ""))[0]
    sn = checked(
        run.label, serial_node, _required(run, info, values, "serial"), 50, "serial number"
    )
    result_word = _required(run, info, values, "result")
    user = values.get("user", (info, ""))
    operator = user[1].strip() or args.operator
    if operator:
        operator = checked(run.label, user[0], operator, LIMITS.operator, "operator")
    builder = ReportBuilder.uut(
        pn=args.part_number or DEFAULT_PART_NUMBER,
        sn=sn,
        rev=args.revision or DEFAULT_REVISION,
        process_code=process_code(),
        station=ctx.station.name,
        location=ctx.station.location,
        purpose=ctx.station.purpose,
        operator=operator or None,
        start=_start(run, args),
    )
    summary = read_summary(run.root)
    _header(run, builder, values, result_word, summary.total if summary else None)
    budget.start_report()
    _steps(run, builder, summary.groups if summary else None, budget)
    try:
        report = builder.build()
    except (ReportInvalidError, ValueError, TypeError) as exc:
        raise ConversionError(f"{run.label}{run.root.where}: the run's report: {exc}") from None
    budget.add_report(report, run.root.line)
    return report


def _header(
    run: Run,
    builder: UUTBuilder,
    values: dict[str, tuple[Node, str]],
    result_word: str,
    total: float | None,
) -> None:
    def value(tag: str) -> str:
        return values[tag][1].strip() if tag in values else ""

    result = _RESULTS.get(result_word.casefold())
    builder.result(result or "F")  # WATS's converter: anything but Passed fails the unit
    exec_time = total
    if "time-taken" in values:
        taken = milliseconds(run.label, values["time-taken"][0])
        exec_time = taken if taken is not None else total
    description, version = value("project-description"), value("xjtag-version")
    link_name, link_serial = value("xjlink-name"), value("xjlink-serial")
    fixture = link_name or link_serial
    builder.details(
        comment=cut(description, LIMITS.comment) if description else None,
        exec_time=exec_time,
        fixture_id=fixture[: LIMITS.station] if fixture else None,
    )
    builder.sequence_info(
        path=(run.project_path or run.source or "XJTAG")[: LIMITS.seq_path],
        name=(description or "XJTAG")[: LIMITS.seq_name],
        version=(version or "unknown")[: LIMITS.seq_version],
    )
    misc = [("XJLink serial", link_serial), ("XJLink name", link_name)]
    misc.append(("XJTAG version", version))
    if result is None:
        misc.append(("XJTAG result", result_word))
    if run.count > 1:
        misc.append(("XJTAG run", f"{run.number} of {run.count}"))
    misc += [(tag, text.strip()) for tag, (_, text) in values.items() if tag not in _KNOWN_INFO]
    misc = [(key, text) for key, text in misc if text]
    if len(misc) > MAX_MISC:  # a hostile testruninfo: the rest is said, not dropped silently
        left = ", ".join(key for key, _ in misc[MAX_MISC - 1 :])
        misc = [*misc[: MAX_MISC - 1], ("More testruninfo", f"not kept: {left}")]
    for key, text in misc:
        builder.misc_info(clean(key)[: LIMITS.misc_description] or "?", cut(text, LIMITS.misc_text))
    header = run.root.child("header")
    if header is not None and header.text().strip():
        builder.root.step.report_text = cut(clean(strip_tags(header.text()).strip("\r\n")))


def _steps(
    run: Run, builder: UUTBuilder, summary: list[SummaryGroup] | None, budget: OutputBudget
) -> None:
    groups = [node for node in run.root.children if node.tag == "testgroup"]
    plan = _merge(groups, summary) if summary is not None else None
    if plan is None:  # no summary, or one that disagrees with the run: the run alone
        plan = [(group, _Entries(None, [(f, None) for f in _functions(group)])) for group in groups]
    texts: dict[int, list[str]] = {}  # run-level text by the index of the group it follows
    index = -1
    for node in run.root.children:
        if node.tag == "testgroup":
            index += 1
        elif node.tag == "text-output":
            texts.setdefault(index, []).append(strip_tags(node.text()))
    root_text = "".join(texts.get(-1, ()))
    if root_text.strip():
        before = builder.root.step.report_text
        joined = f"{before}\n{root_text}" if before else root_text
        builder.root.step.report_text = cut(clean(joined.strip("\r\n")))
    number = -1
    for group, entries in plan:
        if group is not None:
            number += 1
            seq = builder.root.sequence(step_name(run.label, group))
            text = "".join(texts.get(number, ()))
            if text.strip():
                seq.step.report_text = cut(clean(text.strip("\r\n")))
        else:  # a group only the summary lists: all its functions were skipped
            assert entries.group is not None
            seq = builder.root.sequence(clean(entries.group.name)[: LIMITS.step_name])
        times: list[float | None] = []
        for function, row in entries.rows:
            handle = add_function(run.label, seq, function, row, run.fetch)
            line = function.line if isinstance(function, Node) else run.root.line
            budget.add_step(handle.step, line)
            times.append(handle.step.tot_time)
        group_time = entries.group.seconds if entries.group is not None else None
        if group_time is None and times and None not in times:
            group_time = round(sum(t for t in times if t is not None), 6)
        if group_time is not None:
            seq.step.tot_time = group_time


def _functions(group: Node) -> list[Node]:
    return [node for node in group.children if node.tag == "testfunction"]


@dataclass
class _Entries:
    """A group's steps in order: each an element with its summary row (if matched), or the
    name of a function only the summary lists, with its row."""

    group: SummaryGroup | None
    rows: list[tuple[Node | str, SummaryFunction | None]]


def _merge(
    groups: list[Node], summary: list[SummaryGroup]
) -> list[tuple[Node | None, _Entries]] | None:
    """The run's groups with the summary's rows merged in; ``None`` if the two disagree.

    The run's groups must come in the summary's order, and a group only the summary lists must
    be all skipped (it is added at its place); within a group the same holds for functions.
    """
    plan: list[tuple[Node | None, _Entries]] = []
    pending = list(groups)
    for row in summary:
        if pending and pending[0].attrs.get("name", "").strip() == row.name.strip():
            group = pending.pop(0)
            merged = _merge_functions(_functions(group), row)
            if merged is None:
                return None
            plan.append((group, merged))
        elif _all_skipped(row):
            plan.append((None, _Entries(row, [(f.name, f) for f in row.functions])))
        else:
            return None
    return None if pending else plan


def _all_skipped(group: SummaryGroup) -> bool:
    return bool(group.functions) and all(
        STATUSES.get(f.result.casefold()) == "S" for f in group.functions
    )


def _merge_functions(functions: list[Node], group: SummaryGroup) -> _Entries | None:
    if not group.functions:  # a group row without its snippet: only the group's time
        return _Entries(group, [(f, None) for f in functions])
    rows: list[tuple[Node | str, SummaryFunction | None]] = []
    pending = list(functions)
    for row in group.functions:
        if pending and pending[0].attrs.get("name", "").strip() == row.name.strip():
            rows.append((pending.pop(0), row))
        elif STATUSES.get(row.result.casefold()) == "S":
            rows.append((row.name, row))
        else:
            return None
    return None if pending else _Entries(group, rows)
