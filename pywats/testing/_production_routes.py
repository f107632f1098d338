"""The emulator's ``production`` routes:

Units, assemblies, verification, batches and serial numbers (tag Production).

Units live in :class:`~pywats.testing._production_state.ProductionState`; a unit's phase,
process, part number, revision and parent changes are recorded as unit changes, listed by
``GET Units/Changes`` until deleted. Box builds are the product revisions' BOMs of the product
routes; serial numbers are in :mod:`pywats.testing._serial_number_routes`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pywats.models.production import ProductionBatch, Unit, UnitPhase
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response
from pywats.testing._product_routes import product_state
from pywats.testing._production_state import (
    MAX_UNIT_DEPTH,
    ProductionState,
    UnitRecord,
    production_state,
)
from pywats.testing._serial_number_routes import add_serial_number_routes
from pywats.testing._unit_checks import (
    check_children,
    finalized_phases,
    grade,
    has_reports,
    revision_matches,
)

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["ProductionState", "add_production_routes", "production_state"]

_PHASES = {int(p) for p in UnitPhase}


def add_production_routes(router: Router) -> None:
    """Register the production routes on ``router``."""
    router.add("GET", "/api/Production/Unit/{serialNumber}/{partNumber}", get_unit)
    router.add("PUT", "/api/Production/Units", put_units)
    router.add("PUT", "/api/Production/SetUnitPhase", set_unit_phase)
    router.add("PUT", "/api/Production/SetUnitProcess", set_unit_process)
    router.add("GET", "/api/Production/Units/Changes", get_unit_changes)
    router.add("DELETE", "/api/Production/Units/Changes/{id}", delete_unit_change)
    router.add("POST", "/api/Production/AddChildUnit", add_child_unit)
    router.add("POST", "/api/Production/RemoveChildUnit", remove_child_unit)
    router.add("GET", "/api/Production/CheckChildUnits", check_child_units)
    router.add("GET", "/api/Production/UnitVerification", unit_verification)
    router.add("PUT", "/api/Production/Batches", put_batches)
    add_serial_number_routes(router)


# --- parameters -------------------------------------------------------------------------------


def required(req: Request, name: str, *, empty: bool = False) -> str:
    """A required query parameter (400 when absent, or empty unless ``empty``)."""
    value = req.param(name)
    if value is None:
        raise HTTPFailure(400, f"The {name} parameter is required.")
    if not empty and not value.strip():
        raise HTTPFailure(400, f"The {name} parameter must not be empty.")
    return value.strip()


def int_value(name: str, value: str) -> int:
    """An Int32 query or path value, or 400 in ASP.NET's words."""
    try:
        number = int(value.strip())
    except ValueError:
        raise HTTPFailure(400, f"The value '{value[:100]}' is not valid for {name}.") from None
    if not -(2**31) <= number < 2**31:
        raise HTTPFailure(400, f"The value '{value[:100]}' is not valid for {name}.")
    return number


# --- views ------------------------------------------------------------------------------------


_PRODUCT_KEYS = (
    "productId",
    "nonSerial",
    "partNumber",
    "name",
    "description",
    "state",
    "productCategoryId",
    "productCategoryName",
)
_REVISION_KEYS = (
    "productRevisionId",
    "productId",
    "revision",
    "name",
    "description",
    "state",
    "PartNumber",
)


def _pick(record: object, keys: tuple[str, ...], **identity: object) -> dict[str, Any] | None:
    """The scalar members of a product record the Unit answer carries (the record's other
    members are the product routes' business), with the unit's identity of it."""
    if not isinstance(record, dict):
        return None
    picked = {k: record[k] for k in keys if isinstance(record.get(k), str | int | bool)}
    return {**identity, **picked}


def _phase_label(phase_id: int) -> str | None:
    return UnitPhase(phase_id).label if phase_id in _PHASES else None


def unit_view(
    emu: FakeWATS, state: ProductionState, unit: UnitRecord, depth: int = 0
) -> dict[str, Any]:
    """A unit as the server answers it, with its children (``subUnits``) when ``depth`` allows."""
    parent = state.units.get(unit.parent) if unit.parent is not None else None
    products = product_state(emu)
    view: dict[str, Any] = {
        "serialNumber": unit.serial_number,
        "partNumber": unit.part_number,
        "revision": unit.revision,
        "parentSerialNumber": parent.serial_number if parent else None,
        "batchNumber": unit.batch_number,
        "serialDate": unit.serial_date,
        "currentLocation": unit.current_location,
        "xmlData": unit.xml_data,
        "unitPhaseId": unit.phase_id,
        "unitPhase": _phase_label(unit.phase_id),
        "processCode": unit.process_code,
        "product": _pick(
            products.products.get(unit.part_number.casefold()),
            _PRODUCT_KEYS,
            partNumber=unit.part_number,
        ),
        "productRevision": _pick(
            products.revisions.get((unit.part_number.casefold(), (unit.revision or "").casefold())),
            _REVISION_KEYS,
            revision=unit.revision,
            PartNumber=unit.part_number,
        ),
    }
    if depth < MAX_UNIT_DEPTH:
        view["subUnits"] = [
            unit_view(emu, state, state.units[uid], depth + 1) for uid in unit.children
        ]
    return {k: v for k, v in view.items() if v is not None}


# --- units ------------------------------------------------------------------------------------


def get_unit(emu: FakeWATS, req: Request, serialNumber: str, partNumber: str) -> Response:
    """``GET /api/Production/Unit/{serialNumber}/{partNumber}``: the unit and its sub-units."""
    state = production_state(emu)
    with state.lock:
        unit = state.get(serialNumber, partNumber)
        return json_response(unit_view(emu, state, unit))


def _check_unit(state: ProductionState, i: int, unit: Unit) -> None:
    where = f"units[{i}]"
    if not unit.serial_number.strip():
        raise HTTPFailure(400, f"{where}.serialNumber must not be empty.")
    if not unit.part_number.strip():
        raise HTTPFailure(400, f"{where}.partNumber must not be empty.")
    if unit.unit_phase_id is not None and unit.unit_phase_id not in _PHASES:
        raise HTTPFailure(400, f"{where}.unitPhaseId: {unit.unit_phase_id} is not a unit phase.")
    if unit.parent_serial_number:
        parents = state.by_serial(unit.parent_serial_number)
        if not parents:
            raise HTTPFailure(
                400, f"{where}.parentSerialNumber: unit {unit.parent_serial_number} was not found."
            )
        record = _target(state, unit)
        if record is not None and (parents[0] is record or record in state.ancestors(parents[0])):
            raise HTTPFailure(400, f"{where}.parentSerialNumber: the relation would make a loop.")


def _target(state: ProductionState, unit: Unit) -> UnitRecord | None:
    """The stored unit a PUT updates: the one with the same serial and part number (a serial
    number may be used by several products, so another part number is another unit)."""
    return state.find(unit.serial_number, unit.part_number)


def put_units(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Production/Units``: add or update units; answers the saved units."""
    units = decode_json(req.body, list[Unit], "The units are invalid.")
    state = production_state(emu)
    nonserial = {
        pn
        for pn, record in product_state(emu).products.items()
        if isinstance(record, dict) and record.get("nonSerial") is True
    }
    with state.lock:
        for i, unit in enumerate(units):
            _check_unit(state, i, unit)
            if unit.part_number.casefold() in nonserial:
                raise HTTPFailure(
                    400, f"units[{i}].partNumber: product {unit.part_number} cannot have units."
                )
        saved = [_save(state, unit) for unit in units]
        return json_response([unit_view(emu, state, u) for u in saved])


def _save(state: ProductionState, unit: Unit) -> UnitRecord:
    record = _target(state, unit)
    created = record is None
    if record is None:
        record = state.add(unit.serial_number.strip(), unit.part_number.strip())
        record.serial_date = unit.serial_date
    before = (record.revision, record.phase_id, record.parent)
    for name in ("revision", "batch_number", "current_location", "xml_data", "process_code"):
        value = getattr(unit, name)
        if value is not None:
            setattr(record, name, value)
    if unit.serial_date is not None:
        record.serial_date = unit.serial_date
    if unit.unit_phase_id is not None:
        record.phase_id = unit.unit_phase_id
    if unit.parent_serial_number:
        parent = state.by_serial(unit.parent_serial_number)[0]
        if record.parent != parent.uid:
            _detach(state, record)
            record.parent = parent.uid
            parent.children.append(record.uid)
    after = (record.revision, record.phase_id, record.parent)
    if not created and before != after:
        state.record_change(record)
    return record


def _detach(state: ProductionState, child: UnitRecord) -> None:
    if child.parent is not None:
        state.units[child.parent].children.remove(child.uid)
        child.parent = None


def set_unit_phase(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Production/SetUnitPhase?serialNumber=&partNumber=&phase=``."""
    serial = required(req, "serialNumber")
    part = required(req, "partNumber", empty=True)
    phase = int_value("phase", required(req, "phase"))
    state = production_state(emu)
    with state.lock:
        unit = state.get(serial, part)
        if phase not in _PHASES:
            raise HTTPFailure(400, f"phase: {phase} is not a unit phase.")
        if unit.phase_id != phase:
            unit.phase_id = phase
            state.record_change(unit)
        return json_response(unit_view(emu, state, unit, MAX_UNIT_DEPTH))


def set_unit_process(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Production/SetUnitProcess?serialNumber=&partNumber=&processName=``."""
    serial = required(req, "serialNumber")
    part = required(req, "partNumber", empty=True)
    name = required(req, "processName")
    state = production_state(emu)
    with state.lock:
        unit = state.get(serial, part)
        process = next(
            (p for p in emu.state.processes if (p.name or "").casefold() == name.casefold()), None
        )
        if process is None:
            raise HTTPFailure(400, f"processName: '{name}' is not a known process.")
        code = str(process.code)
        if unit.process_code != code:
            unit.process_code = code
            state.record_change(unit)
        return json_response(unit_view(emu, state, unit, MAX_UNIT_DEPTH))


# --- unit changes -----------------------------------------------------------------------------


def get_unit_changes(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/Units/Changes?maxCount=``: the oldest changes first."""
    count = int_value("maxCount", required(req, "maxCount"))
    if count < 1:
        raise HTTPFailure(400, "maxCount must be at least 1.")
    state = production_state(emu)
    with state.lock:
        return json_response(list(state.changes.values())[:count])


def delete_unit_change(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``DELETE /api/Production/Units/Changes/{id}``: a handled change goes."""
    change = int_value("id", id)
    state = production_state(emu)
    with state.lock:
        if state.changes.pop(change, None) is None:
            raise HTTPFailure(404, f"Unit change {change} was not found.")
    return json_response(True)


# --- assemblies -------------------------------------------------------------------------------


def _check_box_build(
    emu: FakeWATS, state: ProductionState, parent: UnitRecord, child: UnitRecord, req: Request
) -> None:
    check_part = required(req, "checkPartNumber", empty=True)
    check_revision = required(req, "checkRevision", empty=True)
    if check_part:
        if child.part_number.casefold() != check_part.casefold() or not revision_matches(
            check_revision, child.revision
        ):
            expected = check_part + (f" rev {check_revision}" if check_revision else "")
            raise HTTPFailure(
                400, f"childPartNumber: unit {child.label()} is not the expected {expected}."
            )
        return
    lines = [
        line
        for line in product_state(emu).bom(parent.part_number, parent.revision or "")
        if line.part_number.casefold() == child.part_number.casefold()
        and revision_matches(line.revision, child.revision)
    ]
    if not lines:
        raise HTTPFailure(
            400,
            f"childPartNumber: the box build of {parent.part_number} rev {parent.revision or '?'}"
            f" does not list {child.part_number} rev {child.revision or '?'}.",
        )
    allowed = sum(line.quantity for line in lines)
    fitted = sum(
        1
        for uid in parent.children
        if state.units[uid].part_number.casefold() == child.part_number.casefold()
    )
    if fitted >= allowed:
        raise HTTPFailure(
            400,
            f"childPartNumber: unit {parent.label()} already has {fitted} of {allowed} "
            f"{child.part_number}.",
        )


def add_child_unit(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Production/AddChildUnit``: fit a finalized child into its parent."""
    parent_sn = required(req, "parentSerialNumber")
    parent_pn = required(req, "parentPartNumber", empty=True)
    child_sn = required(req, "childSerialNumber")
    child_pn = required(req, "childPartNumber", empty=True)
    required(req, "checkPartNumber", empty=True)
    required(req, "checkRevision", empty=True)
    state = production_state(emu)
    with state.lock:
        parent = state.get(parent_sn, parent_pn, "Parent unit")
        child = state.get(child_sn, child_pn, "Child unit")
        if child is parent:
            raise HTTPFailure(400, "childSerialNumber: a unit cannot be its own child.")
        if child.parent is not None:
            current = state.units[child.parent]
            raise HTTPFailure(
                400,
                f"childSerialNumber: unit {child.label()} already has parent {current.label()}.",
            )
        if child in state.ancestors(parent):
            raise HTTPFailure(
                400,
                f"childSerialNumber: unit {child.label()} contains {parent.label()}; "
                "the relation would make a loop.",
            )
        if child.phase_id not in finalized_phases(emu, child):
            raise HTTPFailure(
                400,
                f"childSerialNumber: unit {child.label()} is in phase "
                f"'{_phase_label(child.phase_id) or child.phase_id}'; a child must be finalized.",
            )
        _check_box_build(emu, state, parent, child, req)
        child.parent = parent.uid
        parent.children.append(child.uid)
        state.record_change(child)
        return json_response(unit_view(emu, state, parent))


def remove_child_unit(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Production/RemoveChildUnit``: the relation must exist."""
    parent_sn = required(req, "parentSerialNumber")
    parent_pn = required(req, "parentPartNumber", empty=True)
    child_sn = required(req, "childSerialNumber")
    child_pn = required(req, "childPartNumber", empty=True)
    state = production_state(emu)
    with state.lock:
        parent = state.get(parent_sn, parent_pn, "Parent unit")
        child = state.get(child_sn, child_pn, "Child unit")
        if child.parent != parent.uid:
            raise HTTPFailure(
                400, f"childSerialNumber: unit {child.label()} is not a child of {parent.label()}."
            )
        _detach(state, child)
        state.record_change(child)
        return json_response(unit_view(emu, state, parent))


def check_child_units(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/CheckChildUnits``: the direct children against the box build."""
    parent_sn = required(req, "parentSerialNumber")
    parent_pn = required(req, "parentPartNumber", empty=True)
    state = production_state(emu)
    with state.lock:
        parent = state.get(parent_sn, parent_pn)
        return json_response(check_children(emu, state, parent))


def unit_verification(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/UnitVerification?serialNumber=&partNumber=``."""
    serial = required(req, "serialNumber")
    part = req.param("partNumber")
    part = part.strip() if part else None
    state = production_state(emu)
    with state.lock:
        unit = state.find(serial, part)
        if unit is None and not has_reports(emu, serial, part):
            pn = f" ({part})" if part else ""
            raise HTTPFailure(404, f"Unit {serial}{pn} was not found.")
        return json_response(grade(emu, state, serial, part, unit))


# --- batches ----------------------------------------------------------------------------------


def put_batches(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Production/Batches``: add or update batches by number."""
    batches = decode_json(req.body, list[ProductionBatch], "The batches are invalid.")
    for i, batch in enumerate(batches):
        if not batch.batch_number.strip():
            raise HTTPFailure(400, f"batches[{i}].batchNumber must not be empty.")
        if batch.batch_size is not None and batch.batch_size < 0:
            raise HTTPFailure(400, f"batches[{i}].batchSize must not be negative.")
    state = production_state(emu)
    with state.lock:
        for batch in batches:
            state.batches[batch.batch_number.strip().casefold()] = {
                "batchNumber": batch.batch_number.strip(),
                "batchSize": batch.batch_size,
                "saved": datetime.now().astimezone(),
            }
    return json_response(
        [{"batchNumber": b.batch_number, "batchSize": b.batch_size} for b in batches]
    )
