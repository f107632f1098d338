"""WSXF reading: XML text → :class:`~pywats.models.report.UUTReport`.

The public entry points and the element/attribute mapping are in :mod:`pywats.formats.wsxf`.

The vocabulary tables (full-word statuses and groups, the namespace) live here too; the writer
inverts them, so the two directions cannot drift apart.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import msgspec

from pywats._errors import ReportFormatError
from pywats.formats._nesting import MAX_XML_NESTING, DepthLimitedTreeBuilder, NestingTooDeep
from pywats.models.report import (
    BooleanMeasurement,
    CallExe,
    Chart,
    ChartSeries,
    LoopInfo,
    MessagePopup,
    MiscInfo,
    NumericMeasurement,
    SequenceCall,
    Step,
    StringMeasurement,
    SubUnit,
    UUTInfo,
    UUTReport,
)

__all__ = ["GROUP_WORDS", "NAMESPACE", "REPORT_TYPE_UUT", "STATUS_WORDS", "read_reports"]

NAMESPACE = "http://wats.virinco.com/schemas/WATS/Report/wsxf"

# Statuses and results are full words in WSXF and one letter in the model. One table serves the
# report result, step status and measurement status: which letters are *allowed* where is the
# validator's business, not the codec's, so an odd value survives a round trip unchanged.
STATUS_WORDS: dict[str, str] = {
    "P": "Passed",
    "F": "Failed",
    "D": "Done",
    "S": "Skipped",
    "E": "Error",
    "T": "Terminated",
    "U": "Unknown",
}
# Only "Main" occurs in the real export; "Setup"/"Cleanup" follow the TestStand group names.
GROUP_WORDS: dict[str, str] = {"M": "Main", "S": "Setup", "C": "Cleanup"}
REPORT_TYPE_UUT = "UUT"
_REPORT_TYPE_UUR = "UUR"

_BOOLS = {"true": True, "1": True, "false": False, "0": False}  # xsd:boolean lexical space


# --- document level -------------------------------------------------------------------------


class _DoctypeFound(Exception):
    """Raised from inside the parser the moment a DOCTYPE declaration starts."""


class _NoDoctypeBuilder(DepthLimitedTreeBuilder):
    """A tree builder that refuses DOCTYPE declarations and elements nested too deeply.

    ElementTree never fetches external entities, but internal ``<!ENTITY>`` declarations (the
    "billion laughs" bomb) live inside a DOCTYPE, and WSXF never needs one. Refusing the DOCTYPE
    when it *starts* means no declaration inside it is ever processed. The nesting limit keeps
    the reader, which recurses once per level of steps, far from the interpreter's limit.
    """

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeFound(name)


def _parse_xml(data: bytes | str) -> ET.Element:
    parser = ET.XMLParser(target=_NoDoctypeBuilder(MAX_XML_NESTING))
    try:
        parser.feed(data)
        return parser.close()
    except _DoctypeFound as exc:
        raise ReportFormatError(
            f"WSXF documents must not contain a DOCTYPE declaration (found <!DOCTYPE {exc}>); "
            "remove it (WSXF needs no DTD or entity declarations)"
        ) from None
    except NestingTooDeep as exc:
        raise ReportFormatError(
            f"WSXF elements are nested more than {exc.limit} levels deep; the limit is "
            f"{exc.limit} (about {exc.limit - 3} levels of nested steps)"
        ) from None
    except ET.ParseError as exc:
        # The message already ends with "line L, column C" (column is 0-based, as expat counts).
        raise ReportFormatError(f"WSXF is not well-formed XML: {exc}") from exc
    except (LookupError, ValueError) as exc:
        # The XML declaration names an encoding without a codec ("uAf-8"), one that is no text
        # encoding ("rot13") or one expat cannot feed ("utf-32"): ElementTree lets those out.
        raise ReportFormatError(
            f"WSXF is not readable: its XML declaration (line 1) names an encoding that cannot "
            f"be read: {exc}"
        ) from None


def _localise(root: ET.Element) -> None:
    """Strip the WSXF namespace from every tag in place, so the reader matches plain names.

    Elements of other namespaces keep their ``{ns}`` tag and are thereby ignored, like unknown
    WSJF members. A document without any namespace is accepted as well (hand-written files).
    """
    prefix = "{" + NAMESPACE + "}"
    for elem in root.iter():
        if isinstance(elem.tag, str) and elem.tag.startswith(prefix):
            elem.tag = elem.tag[len(prefix) :]


def read_reports(data: bytes | str) -> list[UUTReport]:
    """Parse a WSXF document and return its reports in document order.

    Raises:
        ReportFormatError: the document is not well-formed, has a DOCTYPE, has the wrong root,
            holds a repair (UUR) or unknown report type, or an attribute has the wrong form.
    """
    root = _parse_xml(data)
    _localise(root)
    if root.tag != "Reports":
        raise ReportFormatError(
            f"not a WSXF document: the root element is <{_describe_tag(root.tag)}>, expected "
            f"<Reports> in namespace {NAMESPACE}"
        )
    # No RecursionError to fear below: the parser refused anything nested deeper than
    # MAX_XML_NESTING elements, and the reader recurses once per element level of steps.
    return [_read_report(elem, f"Report #{n + 1}") for n, elem in enumerate(root.findall("Report"))]


def _describe_tag(tag: str) -> str:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return f"{local} xmlns={namespace!r}"
    return tag


# --- attribute access -----------------------------------------------------------------------


class _Attrs:
    """Typed access to one element's attributes; errors name the element and the attribute.

    An empty attribute reads as absent: the server writes ``Units=""``, ``Version=""``,
    ``Response=""``, ``ProductName=""`` … where its JSON export of the same report has ``null``.
    """

    def __init__(self, elem: ET.Element, where: str) -> None:
        self._elem = elem
        self.where = where

    def text(self, name: str) -> str | None:
        value = self._elem.get(name)
        return value if value else None

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise self._error(name, raw, "is not an integer") from None

    def number(self, name: str) -> float | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            # float() also reads the xsd:double specials NaN, INF and -INF that .NET writes.
            return float(raw)
        except ValueError:
            raise self._error(name, raw, "is not a number") from None

    def boolean(self, name: str) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return _BOOLS[raw.strip().lower()]
        except KeyError:
            raise self._error(name, raw, "is not a boolean (true/false)") from None

    def instant(self, name: str) -> datetime | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            # msgspec parses exactly like the WSJF decoder (7 fractional digits rounded to 6).
            return msgspec.convert(raw, datetime)
        except msgspec.ValidationError:
            raise self._error(name, raw, "is not an ISO 8601 date-time") from None

    def guid(self, name: str) -> uuid.UUID | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise self._error(name, raw, "is not a GUID") from None

    def word(self, name: str, words: dict[str, str]) -> str | None:
        """Read a full-word enumeration (``Passed``) and return its one-letter code (``P``).

        ``words`` maps code to word. .NET reads these case-sensitively; accepting ``passed`` as
        well costs nothing and helps hand-written files.
        """
        raw = self.text(name)
        if raw is None:
            return None
        for code, word in words.items():
            if word.lower() == raw.strip().lower():
                return code
        raise self._error(name, raw, f"is not one of {', '.join(words.values())}")

    def _error(self, name: str, raw: str, problem: str) -> ReportFormatError:
        return ReportFormatError(f"{self.where}: attribute {name}={raw!r} {problem}")


def _child_text(elem: ET.Element, tag: str) -> str | None:
    child = elem.find(tag)
    if child is None or not child.text:
        return None
    return child.text


# --- report header --------------------------------------------------------------------------


def _read_report(elem: ET.Element, where: str) -> UUTReport:
    attrs = _Attrs(elem, where)
    kind = elem.get("type")
    if kind == _REPORT_TYPE_UUR:
        raise ReportFormatError(
            f'{where}: WSXF repair reports (type="UUR") are not supported; use WSJF '
            "(pywats.formats.wsjf) for repair reports"
        )
    if kind != REPORT_TYPE_UUT:
        raise ReportFormatError(
            f'{where}: unknown Report type {kind!r}; expected type="UUT" '
            "(WSXF repair reports are not supported, use WSJF)"
        )
    process = elem.find("Process")
    process_attrs = _Attrs(process, f"{where}/Process") if process is not None else None
    uut = elem.find("UUT")
    steps = elem.findall("Step")
    if len(steps) > 1:
        raise ReportFormatError(
            f"{where}: has {len(steps)} top-level <Step> elements; a report has one root step"
        )
    report = UUTReport(
        pn=attrs.text("PN"),
        sn=attrs.text("SN"),
        rev=attrs.text("Rev"),
        product_name=attrs.text("ProductName"),
        process_code=process_attrs.integer("Code") if process_attrs else None,
        process_name=process_attrs.text("Name") if process_attrs else None,
        result=attrs.word("Result", STATUS_WORDS),
        machine_name=attrs.text("MachineName"),
        location=attrs.text("Location"),
        purpose=attrs.text("Purpose"),
        origin=attrs.text("origin"),
        start=attrs.instant("Start"),
        start_utc=attrs.instant("Start_utc"),
        # WSXF cannot tell an empty list from an absent one; the lists are always present, as
        # in the server's own exports.
        misc_infos=[
            _read_misc_info(e, f"{where}/MiscInfo #{n + 1}")
            for n, e in enumerate(elem.findall("MiscInfo"))
        ],
        sub_units=[
            _read_sub_unit(e, f"{where}/ReportUnitHierarchy #{n + 1}")
            for n, e in enumerate(elem.findall("ReportUnitHierarchy"))
        ],
        uut=_read_uut(uut, f"{where}/UUT") if uut is not None else None,
        root=_read_step(steps[0], where, f"{where}/Step") if steps else None,
    )
    ident = attrs.guid("ID")
    if ident is not None:  # otherwise keep the model's fresh id, as WSJF does
        report.id = ident
    return report


def _read_uut(elem: ET.Element, where: str) -> UUTInfo:
    attrs = _Attrs(elem, where)
    return UUTInfo(
        user=attrs.text("UserLoginName"),
        comment=_child_text(elem, "Comment"),
        exec_time=attrs.number("ExecutionTime"),
        test_socket_index=attrs.integer("TestSocketIndex"),
        batch_sn=attrs.text("BatchSN"),
        batch_fail_count=attrs.integer("BatchFailCount"),
        error_code=attrs.integer("ErrorCode"),
        error_message=attrs.text("ErrorMessage"),
        fixture_id=attrs.text("FixtureId"),
        step_id_caused_uut_failure=attrs.integer("StepIdCausedUUTFailure"),
    )


def _read_misc_info(elem: ET.Element, where: str) -> MiscInfo:
    # idx and order_no are positions, derived again on write.
    attrs = _Attrs(elem, where)
    return MiscInfo(
        description=attrs.text("Description"),
        text=elem.text or None,
        numeric=attrs.integer("Numeric"),
        typedef=attrs.text("Typedef"),
    )


def _read_sub_unit(elem: ET.Element, where: str) -> SubUnit:
    attrs = _Attrs(elem, where)
    return SubUnit(
        part_type=attrs.text("PartType"),
        pn=attrs.text("PN"),
        rev=attrs.text("Rev"),
        sn=attrs.text("SN"),
        position=attrs.integer("Position"),
    )


# --- steps ----------------------------------------------------------------------------------


def _read_step(elem: ET.Element, report: str, where: str) -> Step:
    """Read a step and its children; ``where`` names it in messages (replaced by its Id if any)."""
    step_id = elem.get("Id")
    if step_id:  # ids are unique within a report, the shortest precise location
        where = f"{report}/Step Id={step_id}"
    attrs = _Attrs(elem, where)
    seq_call = elem.find("SequenceCall")
    loop = elem.find("Loop")
    popup = elem.find("MessagePopup")
    call_exe = elem.find("Callexe")
    chart = elem.find("Chart")
    children = elem.findall("Step")
    return Step(
        id=attrs.integer("Id"),
        group=attrs.word("Group", GROUP_WORDS),
        step_type=attrs.text("StepType"),
        name=attrs.text("Name"),
        status=attrs.word("Status", STATUS_WORDS),
        tot_time=attrs.number("total_time"),
        error_code=attrs.integer("StepErrorCode"),
        error_message=attrs.text("StepErrorMessage"),
        report_text=_child_text(elem, "ReportText"),
        caused_uut_failure=attrs.boolean("StepCausedUUTFailure"),
        loop=_read_loop(loop, f"{where}/Loop") if loop is not None else None,
        seq_call=(
            _read_seq_call(seq_call, f"{where}/SequenceCall") if seq_call is not None else None
        ),
        numeric_meas=_read_all(elem, "NumericLimit", where, _read_numeric),
        string_meas=_read_all(elem, "StringValue", where, _read_string),
        boolean_meas=_read_all(elem, "PassFail", where, _read_boolean),
        call_exe=_read_call_exe(call_exe, f"{where}/Callexe") if call_exe is not None else None,
        message_popup=(_read_popup(popup, f"{where}/MessagePopup") if popup is not None else None),
        chart=_read_chart(chart, f"{where}/Chart") if chart is not None else None,
        steps=[
            _read_step(child, report, f"{where}/Step #{n + 1}") for n, child in enumerate(children)
        ]
        or None,
    )


_T = TypeVar("_T")


def _read_all(
    elem: ET.Element, tag: str, where: str, read: Callable[[_Attrs], _T]
) -> list[_T] | None:
    """Read every ``tag`` child with ``read``; ``None`` when there is none (as in WSJF exports)."""
    found = elem.findall(tag)
    if not found:
        return None
    return [read(_Attrs(e, f"{where}/{tag} #{n + 1}")) for n, e in enumerate(found)]


def _read_numeric(attrs: _Attrs) -> NumericMeasurement:
    # MeasIndex and MeasOrderNumber are positions, derived again on write.
    return NumericMeasurement(
        name=attrs.text("Name"),
        status=attrs.word("Status", STATUS_WORDS),
        value=attrs.number("NumericValue"),
        unit=attrs.text("Units"),
        comp_op=attrs.text("CompOperator"),
        low_limit=attrs.number("LowLimit"),
        high_limit=attrs.number("HighLimit"),
    )


def _read_string(attrs: _Attrs) -> StringMeasurement:
    return StringMeasurement(
        name=attrs.text("Name"),
        status=attrs.word("Status", STATUS_WORDS),
        value=attrs.text("StringValue"),
        limit=attrs.text("StringLimit"),
        comp_op=attrs.text("CompOperator"),
    )


def _read_boolean(attrs: _Attrs) -> BooleanMeasurement:
    return BooleanMeasurement(name=attrs.text("Name"), status=attrs.word("Status", STATUS_WORDS))


def _read_seq_call(elem: ET.Element, where: str) -> SequenceCall:
    attrs = _Attrs(elem, where)
    # Filename is the file-name part of Filepath (derived on write); it is only a fallback here.
    return SequenceCall(
        path=attrs.text("Filepath") or attrs.text("Filename"),
        name=attrs.text("Name"),
        version=attrs.text("Version"),
    )


def _read_loop(elem: ET.Element, where: str) -> LoopInfo:
    attrs = _Attrs(elem, where)
    return LoopInfo(
        idx=attrs.integer("index"),
        num=attrs.integer("num"),
        ending_index=attrs.integer("ending_index"),
        passed=attrs.integer("passed"),
        failed=attrs.integer("failed"),
    )


def _read_popup(elem: ET.Element, where: str) -> MessagePopup:
    attrs = _Attrs(elem, where)
    return MessagePopup(response=attrs.text("Response"), button=attrs.integer("Button"))


def _read_call_exe(elem: ET.Element, where: str) -> CallExe:
    return CallExe(exit_code=_Attrs(elem, where).number("ExitCode"))


def _read_chart(elem: ET.Element, where: str) -> Chart:
    attrs = _Attrs(elem, where)
    series = [
        _read_series(e, f"{where}/Series #{n + 1}") for n, e in enumerate(elem.findall("Series"))
    ]
    return Chart(
        chart_type=attrs.text("ChartType"),
        label=attrs.text("Label"),
        x_label=attrs.text("XLabel"),
        x_unit=attrs.text("XUnit"),
        y_label=attrs.text("YLabel"),
        y_unit=attrs.text("YUnit"),
        series=series or None,
    )


def _read_series(elem: ET.Element, where: str) -> ChartSeries:
    attrs = _Attrs(elem, where)
    return ChartSeries(
        data_type=attrs.text("DataType"),
        name=attrs.text("Name"),
        xdata=_child_text(elem, "xdata"),
        ydata=_child_text(elem, "ydata"),
    )
