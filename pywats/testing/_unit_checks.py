"""How the emulator judges a unit: its children against the box build, its test history.

The box build of a parent is the BOM of its product revision (``ProductState.bom``). A child
matches a BOM line with its part number and, when the line names one, its revision (``*`` and
``%`` match any text, as in WATS revision masks). Verification takes the unit's test reports per
test operation, in process order, as the emulator's verification rule (it has no rule editor).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from pywats.models.production import UnitPhase
from pywats.testing._headers import utc
from pywats.testing._product_routes import BomLine, product_state
from pywats.testing._production_state import ProductionState, UnitRecord

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS
    from pywats.testing._store import StoredReport

__all__ = ["Assembly", "assembly", "finalized_phases", "grade", "revision_matches"]

VERIFIED = "Verified"
NOT_VERIFIED = "Not verified"


def revision_matches(mask: str | None, revision: str | None) -> bool:
    """Whether ``revision`` fits ``mask`` (no mask: any revision)."""
    if mask is None or not mask.strip():
        return True
    pattern = "".join(
        ".*" if ch in "*%" else "." if ch == "_" else re.escape(ch) for ch in mask.strip()
    )
    return re.fullmatch(pattern, (revision or "").strip(), re.IGNORECASE) is not None


def finalized_phases(emu: FakeWATS, unit: UnitRecord) -> set[int]:
    """The phases in which ``unit`` counts as finished for a box build: Finalized, and the one a
    ``PhaseFinalized`` tag of its product revision names (by id or name)."""
    phases = {int(UnitPhase.FINALIZED)}
    record = product_state(emu).revisions.get(
        (unit.part_number.casefold(), (unit.revision or "").casefold())
    )
    for value in _phase_finalized_tags(record):
        for phase in UnitPhase:
            if value in (str(int(phase)),) or value.casefold() in (
                phase.label.casefold(),
                phase.name.casefold(),
            ):
                phases.add(int(phase))
    return phases


def _phase_finalized_tags(record: object) -> list[str]:
    """The ``PhaseFinalized`` values of a revision record: its ``xmlData`` element
    (``<Root><PhaseFinalized Value="In storage"/></Root>``) or its ``tags``."""
    if not isinstance(record, dict):
        return []
    found: list[str] = []
    xml_data = record.get("xmlData")
    if isinstance(xml_data, str) and xml_data.strip():
        try:
            root = ElementTree.fromstring(xml_data)
        except ElementTree.ParseError:
            root = None
        for element in root.iter() if root is not None else ():
            if element.tag.casefold() == "phasefinalized":
                found.append((element.get("Value") or element.get("value") or "").strip())
    tags = record.get("tags")
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and str(tag.get("key", "")).casefold() == "phasefinalized":
            found.append(str(tag.get("value", "")).strip())
    return found


@dataclass
class Assembly:
    """A parent's children sorted against its box build."""

    children: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    extra: list[UnitRecord] = field(default_factory=list)
    unfinished: list[UnitRecord] = field(default_factory=list)

    def messages(self, *, phases: bool = True) -> list[str]:
        """One line per problem, naming the part or unit."""
        out = [
            f"Missing child: {m['partNumber']}"
            + (f" rev {m['revision']}" if m.get("revision") else "")
            + f" ({m['found']} of {m['quantity']} fitted)"
            for m in self.missing
        ]
        out.extend(f"Extra child: {u.label()} is not in the box build" for u in self.extra)
        if phases:
            out.extend(
                f"Child {u.label()} is not finalized (phase {_phase_name(u.phase_id)})"
                for u in self.unfinished
            )
        return out


def _phase_name(phase_id: int) -> str:
    try:
        return UnitPhase(phase_id).label
    except ValueError:
        return str(phase_id)


def assembly(emu: FakeWATS, state: ProductionState, parent: UnitRecord) -> Assembly:
    """Sort ``parent``'s direct children against the BOM of its product revision."""
    lines = product_state(emu).bom(parent.part_number, parent.revision or "")
    room = [line.quantity for line in lines]
    result = Assembly()
    for uid in parent.children:
        child = state.units[uid]
        slot = _slot(lines, room, child)
        finished = child.phase_id in finalized_phases(emu, child)
        message = None
        if slot is None:
            result.extra.append(child)
            message = "not in the box build"
        elif not finished:
            result.unfinished.append(child)
            message = f"not finalized (phase {_phase_name(child.phase_id)})"
        result.children.append(
            _without_none(
                {
                    "serialNumber": child.serial_number,
                    "partNumber": child.part_number,
                    "revision": child.revision,
                    "unitPhaseId": child.phase_id,
                    "valid": message is None,
                    "message": message,
                }
            )
        )
    for line, left in zip(lines, room, strict=True):
        if left > 0:
            result.missing.append(
                _without_none(
                    {
                        "partNumber": line.part_number,
                        "revision": line.revision,
                        "quantity": line.quantity,
                        "found": line.quantity - left,
                    }
                )
            )
    return result


def _slot(lines: list[BomLine], room: list[int], child: UnitRecord) -> int | None:
    for i, line in enumerate(lines):
        if (
            room[i] > 0
            and line.part_number.casefold() == child.part_number.casefold()
            and revision_matches(line.revision, child.revision)
        ):
            room[i] -= 1
            return i
    return None


def check_children(emu: FakeWATS, state: ProductionState, parent: UnitRecord) -> dict[str, Any]:
    """The answer of ``GET CheckChildUnits``."""
    found = assembly(emu, state, parent)
    messages = found.messages()
    return {
        "valid": not messages,
        "messages": messages,
        "children": found.children,
        "missing": found.missing,
    }


def _without_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


# --- verification ---------------------------------------------------------------------------


def _reports_of(emu: FakeWATS, serial: str, part: str | None) -> list[StoredReport]:
    sn, pn = serial.casefold(), (part or "").casefold()
    return [
        s
        for s in emu.reports.headers()
        if (s.header.serial_number or "").casefold() == sn
        and (not pn or (s.header.part_number or "").casefold() == pn)
    ]


def has_reports(emu: FakeWATS, serial: str, part: str | None) -> bool:
    """Whether any report names this unit."""
    return bool(_reports_of(emu, serial, part))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _start(stored: StoredReport) -> datetime:
    return utc(stored.header.start) or _EPOCH


def grade(
    emu: FakeWATS,
    state: ProductionState,
    serial: str,
    part: str | None,
    unit: UnitRecord | None,
) -> dict[str, Any]:
    """The ``UnitVerificationGrade`` of a unit: its test history and its assembly."""
    reports = _reports_of(emu, serial, unit.part_number if unit else part)
    tests = sorted((s for s in reports if s.type == "T"), key=_start)
    repairs = [s for s in reports if s.type == "R"]
    by_process: dict[int, list[StoredReport]] = {}
    for stored in tests:
        by_process.setdefault(stored.header.process_code or 0, []).append(stored)
    test_ids = {str(s.header.uuid).lower(): s.header.process_code or 0 for s in tests}
    results: list[dict[str, Any]] = []
    for code, runs in by_process.items():
        process = emu.state.process(code)
        last = runs[-1]
        repaired = sum(
            1 for r in repairs if r.ref_uut is not None and test_ids.get(r.ref_uut.lower()) == code
        )
        results.append(
            _without_none(
                {
                    "processCode": code,
                    "processName": process.name if process else last.header.process_name,
                    "processIndex": process.process_index if process else None,
                    "status": last.header.result or "Unknown",
                    "startUtc": utc(last.header.start),
                    "stationName": last.header.station_name,
                    "totalCount": len(runs),
                    "nonPassedCount": sum(1 for r in runs if r.header.result != "Passed"),
                    "repairCount": repaired,
                }
            )
        )
    results.sort(key=lambda r: (r.get("processIndex") is None, r.get("processIndex") or 0))
    # First runs in time order must follow the process order.
    firsts = [by_process[code][0] for code in by_process]
    firsts.sort(key=_start)
    indexes = [
        (p.process_index or 0) if (p := emu.state.process(s.header.process_code or 0)) else 0
        for s in firsts
    ]
    in_order = all(a <= b for a, b in itertools.pairwise(indexes))
    first_pass = all(runs[0].header.result == "Passed" for runs in by_process.values())
    any_pass = all(any(r.header.result == "Passed" for r in runs) for runs in by_process.values())
    last_pass = all(runs[-1].header.result == "Passed" for runs in by_process.values())
    problems = [
        f"{r.get('processName') or r['processCode']} ({r['processCode']}): {r['status']}"
        for r in results
        if r["status"] != "Passed"
    ]
    if unit is not None:
        problems.extend(assembly(emu, state, unit).messages(phases=False))
    return {
        "status": "; ".join(problems) if problems else "OK",
        "grade": NOT_VERIFIED if problems else VERIFIED,
        "allProcessesExecutedInCorrectOrder": in_order,
        "allProcessesPassedFirstRun": first_pass,
        "allProcessesPassedAnyRun": any_pass,
        "allProcessesPassedLastRun": last_pass,
        "noRepairs": not repairs,
        "results": results,
    }
