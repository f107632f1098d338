"""What a TestStand report says about the unit besides its identity, and what failed it.

* ``UUT.MiscUUTResult.Misc_UUT_Info[]`` (``Description``, ``Data_String``, ``Data_Numeric``) are
  misc infos, ``UUT_Part_Info[]`` (``Part_Type``, ``Part_Number``, ``Part_Serial_Number``,
  ``Part_Revision_Number``) sub-units;
* each child of ``UUT.AdditionalData`` is an additional data entry of its name, and what the
  ``UUT``, ``StationInfo`` and ReportInfo members hold that no report member took is kept in the
  additional data entries ``UUT``, ``StationInfo`` and ``ReportInfo``, in TestStand's property
  shape (empty values left out);
* the step that failed the unit is the result ``UUT.CriticalFailureStack`` names last (its
  ``ResultId`` is the result's ``TS.Id``); without a stack, the first failing step down the
  failing branch.
"""

from __future__ import annotations

import math

from pywats.models.report import (
    AdditionalData,
    AdditionalDataProperty,
    MiscInfo,
    Step,
    SubUnit,
    UUTReport,
)
from pywats_station.converters.builtin._teststand_values import (
    additional,
    entry,
    fit,
    identity,
    parse_float,
    text_of,
)
from pywats_station.converters.builtin._teststand_xml import Node

__all__ = ["additional_data", "blame", "misc_infos", "sub_units"]

_UUT_TAKEN = frozenset(
    {
        "SerialNumber",
        "PartNumber",
        "UUTPartNumber",
        "UUTPartRevisionNumber",
        "UUTOperationType",
        "Comment",
        "UUT_Fixture_ID",
        "BatchSerialNumber",
        "TestSocketIndex",
        "UUTLoopIndex",
        "BatchFailCount",
        "AdditionalData",
        "CriticalFailureStack",
        "MiscUUTResult",
    }
)
_MISC_TAKEN = frozenset({"Misc_UUT_Info", "UUT_Part_Info"})
_REPORT_TAKEN = frozenset({"UUT", "StationInfo", "StartTime", "StartDate"})
_INFO_TAKEN = frozenset({"ID", "Start", "StartUTC", "SN", "PN", "Rev", "PCode"})


def _items(uut: Node | None, name: str) -> list[Node]:
    array = uut.prop("MiscUUTResult", name) if uut is not None else None
    if array is None:
        return []
    return [obj for item in array.values() if (obj := next(item.props(), None)) is not None]


def misc_infos(uut: Node | None) -> list[MiscInfo]:
    """The misc infos of ``Misc_UUT_Info[]`` (entries without a description left out)."""
    infos = []
    for obj in _items(uut, "Misc_UUT_Info"):
        description = (text_of(obj.prop("Description")) or "").strip()
        if not description:
            continue
        text = fit(text_of(obj.prop("Data_String")), 255) or None
        numeric: int | None = None
        value = parse_float(text_of(obj.prop("Data_Numeric")) or "")
        if value is not None and value.is_integer() and abs(value) < 2**31:
            numeric = int(value)
        elif value is not None and math.isfinite(value):
            text = f"{text} ({value!r})" if text else repr(value)  # WATS keeps whole numbers
        infos.append(MiscInfo(description=fit(description, 50), text=text, numeric=numeric))
    return infos


def sub_units(uut: Node | None) -> list[SubUnit]:
    """The sub-units of ``UUT_Part_Info[]`` (entries with neither part nor serial number left
    out)."""
    units = []
    for obj in _items(uut, "UUT_Part_Info"):
        part_type = fit((text_of(obj.prop("Part_Type")) or "").strip(), 50) or None
        pn = identity([(obj, "Part_Number")], what="sub-unit part number")
        sn = identity([(obj, "Part_Serial_Number")], what="sub-unit serial number")
        rev = identity([(obj, "Part_Revision_Number")], what="sub-unit revision")
        if pn or sn:
            units.append(SubUnit(part_type=part_type, pn=pn, sn=sn, rev=rev))
    return units


def additional_data(
    report: Node,
    main: Node,
    info: dict[str, Node],
    uut: Node | None,
    station: Node | None,
    station_used: set[str],
) -> list[AdditionalData]:
    """The additional data entries (see the module docstring); ``station_used``: the
    ``StationInfo`` members the report's station took."""
    found: list[AdditionalData | None] = []
    extra = uut.prop("AdditionalData") if uut is not None else None
    if extra is not None:
        found += [entry(child) for child in extra.props() if not child.is_empty()]
    if uut is not None:
        rest = [p for p in uut.props() if p.name not in _UUT_TAKEN]
        misc = uut.prop("MiscUUTResult")
        rest += [p for p in misc.props() if p.name not in _MISC_TAKEN] if misc else []
        found.append(additional("UUT", rest))
    if station is not None:
        taken = {"LoginName", *station_used}
        found.append(additional("StationInfo", [p for p in station.props() if p.name not in taken]))
    leftover = [n for key, n in info.items() if key not in _INFO_TAKEN]
    if leftover:
        found.append(_info_entry(leftover))
    found += [
        entry(p)
        for p in report.props()
        if p is not main and p.name not in _REPORT_TAKEN and not p.is_empty()
    ]
    return [item for item in found if item is not None]


def _info_entry(nodes: list[Node]) -> AdditionalData:
    props = [
        AdditionalDataProperty(
            name=n.attrs.get("key"), type=n.attrs.get("type"), value=n.attrs.get("value")
        )
        for n in nodes
    ]
    return AdditionalData(name="ReportInfo", props=props)


def blame(report: UUTReport, uut: Node | None, by_result_id: dict[int, Step]) -> None:
    """Mark the step that failed the unit (only in a report that did not pass)."""
    if report.result not in ("F", "E", "T") or report.root is None or report.uut is None:
        return
    order = {id(step): index for index, step in enumerate(report.root.walk())}
    named: list[Step] = []
    for obj in _stack(uut):
        found = parse_float(text_of(obj.prop("ResultId")) or "")
        if found is not None and found.is_integer() and int(found) in by_result_id:
            named.append(by_result_id[int(found)])
    culprit = max(named, key=lambda s: order.get(id(s), -1)) if named else _failing(report.root)
    if culprit is not None and culprit is not report.root:
        culprit.caused_uut_failure = True
        report.uut.step_id_caused_uut_failure = culprit.id


def _stack(uut: Node | None) -> list[Node]:
    array = uut.prop("CriticalFailureStack") if uut is not None else None
    if array is None:
        return []
    return [obj for item in array.values() if (obj := next(item.props(), None)) is not None]


def _failing(root: Step) -> Step | None:
    """Down the failing branch: the first failing child, until one has no failing child."""
    step = root
    while True:
        child = next((c for c in step.steps or () if c.status in ("F", "E", "T")), None)
        if child is None:
            return step
        step = child
