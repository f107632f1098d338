"""WSXF writing: :class:`~pywats.models.report.UUTReport` → XML bytes.

The public entry points and the element/attribute mapping are in :mod:`pywats.formats.wsxf`.

Members that are ``None`` are left out. Attributes that exist only in WSXF (``StepIndex``,
``MeasIndex``, ``MeasOrderNumber``, misc-info ``idx``/``order_no``, chart ``idx``, sequence-call
``Filename``) are computed here from the tree's shape.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime

from pywats._errors import ReportFormatError
from pywats.formats._nesting import MAX_XML_NESTING
from pywats.formats._wsxf_read import GROUP_WORDS, NAMESPACE, REPORT_TYPE_UUT, STATUS_WORDS
from pywats.models.report import (
    Chart,
    LoopInfo,
    MiscInfo,
    SequenceCall,
    Step,
    SubUnit,
    UUTInfo,
    UUTReport,
)

__all__ = ["write_report"]

# Characters XML 1.0 cannot carry at all, not even as character references.
# A step at level n (the root step is level 1) is element n + 2 (<Reports><Report> first) and its
# deepest content, <Chart><Series>, two more: what the reader accepts, the writer writes.
_MAX_STEP_LEVEL = MAX_XML_NESTING - 4
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# ElementTree escapes CR in attributes but writes it raw in text, where every parser turns it
# into LF. Text CRs are therefore written as this placeholder (NUL, which _NOT_XML keeps out of
# real data) and swapped for a character reference in the finished bytes.
_CR_PLACEHOLDER = "\x00"

_Value = str | int | float | bool | datetime | uuid.UUID | None


def write_report(report: UUTReport) -> bytes:
    """Return ``report`` as a WSXF document: XML declaration, ``<Reports>``, one ``<Report>``."""
    # The namespace is written as a plain attribute: ElementTree's default_namespace option
    # rejects the unqualified attribute names WSXF uses.
    root = ET.Element("Reports", {"xmlns": NAMESPACE})
    _report(ET.SubElement(root, "Report"), report)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body.replace(_CR_PLACEHOLDER.encode(), b"&#13;")


# --- values ---------------------------------------------------------------------------------


def _check_chars(value: str, where: str) -> str:
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise ReportFormatError(
            f"{where}: contains the character U+{ord(bad.group()):04X}, which XML cannot "
            "represent; remove it or send the report as WSJF"
        )
    return value


def _format(value: _Value, where: str) -> str | None:
    """Render one attribute value the way .NET's XmlSerializer reads it back."""
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"  # xsd:double spelling
        return repr(value)  # shortest form that reads back to the same double
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value).upper()
    return _check_chars(value, where)


def _set(elem: ET.Element, where: str, **attributes: _Value) -> None:
    """Set the attributes that are not ``None``, in the order given."""
    for name, value in attributes.items():
        text = _format(value, f"{where} attribute {name}")
        if text is not None:
            elem.set(name, text)


def _word(code: str | None, words: dict[str, str], where: str) -> str | None:
    if code is None:
        return None
    try:
        return words[code]
    except KeyError:
        raise ReportFormatError(
            f"{where}: {code!r} has no WSXF word; expected one of {', '.join(words)}"
        ) from None


def _text_child(parent: ET.Element, tag: str, text: str | None, where: str) -> None:
    if text is None:
        return
    child = ET.SubElement(parent, tag)
    child.text = _check_chars(text, f"{where}/{tag}").replace("\r", _CR_PLACEHOLDER)


# --- report header --------------------------------------------------------------------------


def _report(elem: ET.Element, report: UUTReport) -> None:
    where = "Report"
    _set(
        elem,
        where,
        type=REPORT_TYPE_UUT,
        ID=report.id,
        Start=report.start,
        Start_utc=report.start_utc,
        Result=_word(report.result, STATUS_WORDS, f"{where} result"),
        SN=report.sn,
        PN=report.pn,
        Rev=report.rev,
        origin=report.origin,
        MachineName=report.machine_name,
        Location=report.location,
        Purpose=report.purpose,
        ProductName=report.product_name,
    )
    if report.uut is not None:
        _uut(ET.SubElement(elem, "UUT"), report.uut)
    if report.process_code is not None or report.process_name is not None:
        _set(
            ET.SubElement(elem, "Process"),
            f"{where}/Process",
            Code=report.process_code,
            Name=report.process_name,
        )
    for n, misc in enumerate(report.misc_infos or []):
        _misc_info(ET.SubElement(elem, "MiscInfo"), misc, n)
    for n, unit in enumerate(report.sub_units or []):
        _sub_unit(ET.SubElement(elem, "ReportUnitHierarchy"), unit, n)
    if report.root is not None:
        _step(ET.SubElement(elem, "Step"), report.root, 0, itertools.count(-1), 1)


def _uut(elem: ET.Element, uut: UUTInfo) -> None:
    where = "Report/UUT"
    _set(
        elem,
        where,
        UserLoginName=uut.user,
        BatchSN=uut.batch_sn,
        TestSocketIndex=uut.test_socket_index,
        ExecutionTime=uut.exec_time,
        FixtureId=uut.fixture_id,
        ErrorCode=uut.error_code,
        ErrorMessage=uut.error_message,
        BatchFailCount=uut.batch_fail_count,
        StepIdCausedUUTFailure=uut.step_id_caused_uut_failure,
    )
    _text_child(elem, "Comment", uut.comment, where)


def _misc_info(elem: ET.Element, misc: MiscInfo, position: int) -> None:
    where = f"Report/MiscInfo #{position + 1}"
    # idx and order_no are both the position in the real export.
    _set(
        elem,
        where,
        Typedef=misc.typedef,
        Description=misc.description,
        Numeric=misc.numeric,
        idx=position,
        order_no=position,
    )
    if misc.text is not None:
        elem.text = _check_chars(misc.text, where).replace("\r", _CR_PLACEHOLDER)


def _sub_unit(elem: ET.Element, unit: SubUnit, position: int) -> None:
    _set(
        elem,
        f"Report/ReportUnitHierarchy #{position + 1}",
        PartType=unit.part_type,
        PN=unit.pn,
        SN=unit.sn,
        Rev=unit.rev,
        Position=unit.position,
    )


# --- steps ----------------------------------------------------------------------------------


def _step(elem: ET.Element, step: Step, step_index: int, order: Iterator[int], level: int) -> None:
    """Write ``step`` and its children.

    Args:
        step_index: the step's ``StepIndex`` (see :func:`_step_indexes`).
        order: the report-wide ``MeasOrderNumber`` counter; the real export numbers its
            measurements -1, 0, 1, … in document order, so it starts at -1.
        level: how deep the step is nested (1 for the root step); checked before recursing
            further, so a step tree of any depth fails with a clear message.
    """
    where = f"Step Id={step.id}" if step.id is not None else f"Step {step.name!r}"
    if level > _MAX_STEP_LEVEL:
        raise ReportFormatError(
            f"{where}: steps are nested {level} levels deep here; WSXF allows at most "
            f"{_MAX_STEP_LEVEL} (documents nest at most {MAX_XML_NESTING} elements)"
        )
    _set(
        elem,
        where,
        Id=step.id,
        Group=_word(step.group, GROUP_WORDS, f"{where} group"),
        Name=step.name,
        StepType=step.step_type,
        Status=_word(step.status, STATUS_WORDS, f"{where} status"),
        total_time=step.tot_time,
        StepIndex=step_index,
        StepErrorCode=step.error_code,
        StepErrorMessage=step.error_message,
        StepCausedUUTFailure=step.caused_uut_failure,
    )
    if step.loop is not None:
        _loop(ET.SubElement(elem, "Loop"), step.loop, where)
    _text_child(elem, "ReportText", step.report_text, where)
    if step.seq_call is not None:
        _seq_call(ET.SubElement(elem, "SequenceCall"), step.seq_call, where)
    _measurements(elem, step, where, order)
    if step.message_popup is not None:
        popup = step.message_popup
        _set(
            ET.SubElement(elem, "MessagePopup"),
            f"{where}/MessagePopup",
            Button=popup.button,
            Response=popup.response,
            MeasIndex=0,
        )
    if step.call_exe is not None:
        _set(
            ET.SubElement(elem, "Callexe"),
            f"{where}/Callexe",
            ExitCode=step.call_exe.exit_code,
            MeasIndex=0,
        )
    if step.chart is not None:
        _chart(ET.SubElement(elem, "Chart"), step.chart, where)
    children = step.steps or []
    for child, index in zip(children, _step_indexes(children), strict=True):
        _step(ET.SubElement(elem, "Step"), child, index, order, level + 1)


def _step_indexes(children: list[Step]) -> list[int]:
    """``StepIndex`` of each child: its position in the sequence.

    Loop iterations are runs of the same sequence step as their summary, so in the real export
    they repeat the index of the step before them instead of taking a new one.
    """
    indexes: list[int] = []
    current = -1
    for child in children:
        iteration = child.loop is not None and child.loop.idx is not None
        if not (iteration and current >= 0):
            current += 1
        indexes.append(current)
    return indexes


def _loop(elem: ET.Element, loop: LoopInfo, where: str) -> None:
    _set(
        elem,
        f"{where}/Loop",
        index=loop.idx,
        num=loop.num,
        passed=loop.passed,
        failed=loop.failed,
        ending_index=loop.ending_index,
    )


def _seq_call(elem: ET.Element, call: SequenceCall, where: str) -> None:
    # Filename is the last component of the path (either separator: paths come from Windows).
    filename = re.split(r"[\\/]", call.path)[-1] if call.path is not None else None
    _set(
        elem,
        f"{where}/SequenceCall",
        Name=call.name,
        Version=call.version,
        Filename=filename,
        Filepath=call.path,
        MeasIndex=0,
    )


def _measurements(elem: ET.Element, step: Step, where: str, order: Iterator[int]) -> None:
    """Write the step's measurements; ``MeasIndex`` counts within the step, across kinds."""
    index = itertools.count()
    for n, num in enumerate(step.numeric_meas or []):
        _set(
            ET.SubElement(elem, "NumericLimit"),
            f"{where}/NumericLimit #{n + 1}",
            Name=num.name,
            NumericValue=num.value,
            Units=num.unit,
            CompOperator=num.comp_op,
            HighLimit=num.high_limit,
            LowLimit=num.low_limit,
            Status=_word(num.status, STATUS_WORDS, f"{where}/NumericLimit #{n + 1} status"),
            MeasIndex=next(index),
            MeasOrderNumber=next(order),
        )
    for n, boolean in enumerate(step.boolean_meas or []):
        _set(
            ET.SubElement(elem, "PassFail"),
            f"{where}/PassFail #{n + 1}",
            Name=boolean.name,
            MeasIndex=next(index),
            Status=_word(boolean.status, STATUS_WORDS, f"{where}/PassFail #{n + 1} status"),
            MeasOrderNumber=next(order),
        )
    for n, string in enumerate(step.string_meas or []):
        _set(
            ET.SubElement(elem, "StringValue"),
            f"{where}/StringValue #{n + 1}",
            Name=string.name,
            CompOperator=string.comp_op,
            StringLimit=string.limit,
            StringValue=string.value,
            Status=_word(string.status, STATUS_WORDS, f"{where}/StringValue #{n + 1} status"),
            MeasOrderNumber=next(order),
            MeasIndex=next(index),
        )


def _chart(elem: ET.Element, chart: Chart, where: str) -> None:
    where = f"{where}/Chart"
    _set(
        elem,
        where,
        idx=0,  # a step has at most one chart
        ChartType=chart.chart_type,
        Label=chart.label,
        XLabel=chart.x_label,
        XUnit=chart.x_unit,
        YLabel=chart.y_label,
        YUnit=chart.y_unit,
    )
    for n, series in enumerate(chart.series or []):
        series_where = f"{where}/Series #{n + 1}"
        child = ET.SubElement(elem, "Series")
        _set(child, series_where, Name=series.name, DataType=series.data_type)
        _text_child(child, "ydata", series.ydata, series_where)
        _text_child(child, "xdata", series.xdata, series_where)
