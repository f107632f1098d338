"""Contract samples of ``api.production`` (units, assemblies, verification, serial numbers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pywats.models.production import ProductionBatch, Unit, UnitPhase
from pywats.testing import FakeWATS
from pywats.testing._product_routes import BomLine, product_state
from tests.testing.contract import call
from tests.testing.samples import Args, ContractSeed, Probe

_WHEN = datetime(2026, 1, 1, tzinfo=UTC)

SAMPLES: dict[str, list[Args]] = {
    "production.get_unit": [(("SN-1", "PN-1"), {})],
    "production.create_units": [(([Unit(serial_number="SN-1", part_number="PN-1")],), {})],
    "production.update_unit": [((Unit(serial_number="SN-1", part_number="PN-1"),), {})],
    "production.set_unit_phase": [
        (("SN-1", "PN-1", UnitPhase.FINALIZED), {}),
        (("SN-1", "", "Finalized"), {}),
    ],
    "production.set_unit_process": [(("SN-1", "PN-1", "Functional Test"), {})],
    "production.get_unit_changes": [((), {}), ((), {"max_count": 5})],
    "production.delete_unit_change": [((1,), {})],
    "production.acknowledge_unit_change": [((1,), {})],
    "production.add_child_to_assembly": [
        (("SN-1", "PN-1", "SN-2", "PN-2"), {}),
        (("SN-1", "PN-1", "SN-2", "PN-2"), {"check_part_number": "PN-2", "check_revision": "A"}),
    ],
    "production.remove_child_from_assembly": [(("SN-1", "PN-1", "SN-2", "PN-2"), {})],
    "production.verify_assembly": [(("SN-1", "PN-1"), {})],
    "production.get_unit_grade": [(("SN-1",), {}), (("SN-1", "PN-1"), {})],
    "production.verify_unit": [(("SN-1",), {"part_number": "PN-1"})],
    "production.save_batches": [(([ProductionBatch(batch_number="B-1", batch_size=5)],), {})],
    "production.get_serial_number_types": [((), {})],
    "production.allocate_serial_numbers": [
        (("SerialNumber",), {}),
        (
            ("SerialNumber", 3),
            {
                "ref_sn": "SN-1",
                "ref_pn": "PN-1",
                "station_name": "ST-1",
                "only_in_sequence": True,
                "format": "CSV",
            },
        ),
    ],
    "production.find_serial_numbers_in_range": [
        (("SerialNumber", "000001", "000010"), {"start_date": _WHEN, "end_date": _WHEN})
    ],
    "production.find_serial_numbers_by_reference": [
        (("SerialNumber",), {"ref_sn": "SN-1"}),
        (("SerialNumber",), {"ref_pn": "PN-1", "start_date": _WHEN}),
    ],
    "production.export_serial_numbers": [
        (("SerialNumber",), {}),
        (("SerialNumber", "CSV"), {"start_address": "000001", "end_address": "000010"}),
    ],
    "production.import_serial_numbers": [(("SerialNumber", b"000001\r\n"), {})],
}

_P = "/api/Production"
_JSON = "application/json"


def _put_units(fake: FakeWATS, units: list[dict[str, object]]) -> None:
    answer = call(fake, "PUT", f"{_P}/Units", body=json.dumps(units).encode())
    assert answer.status == 200, f"seeding units: {answer}"


def _query(fake: FakeWATS, method: str, path: str, **params: str) -> None:
    answer = call(fake, method, f"{_P}/{path}", list(params.items()))
    assert answer.status == 200, f"seeding production: {answer}"


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """A box (BOX-1) with one of its two boards fitted, a second board ready, a unit change, and
    serial numbers taken for the box."""
    product_state(fake).boms[("ctr-box", "a")] = [BomLine("CTR-PCB", "B", 2)]
    _put_units(
        fake,
        [
            {"serialNumber": "CTR-BOX-1", "partNumber": "CTR-BOX", "revision": "A"},
            {"serialNumber": "CTR-PCB-1", "partNumber": "CTR-PCB", "revision": "B"},
            {"serialNumber": "CTR-PCB-2", "partNumber": "CTR-PCB", "revision": "B"},
        ],
    )
    for board in ("CTR-PCB-1", "CTR-PCB-2"):
        _query(fake, "PUT", "SetUnitPhase", serialNumber=board, partNumber="CTR-PCB", phase="16")
    fitted = {
        "parentSerialNumber": "CTR-BOX-1",
        "parentPartNumber": "CTR-BOX",
        "childSerialNumber": "CTR-PCB-1",
        "childPartNumber": "CTR-PCB",
    }
    _query(fake, "POST", "AddChildUnit", **fitted, checkPartNumber="", checkRevision="")
    _query(
        fake,
        "POST",
        "SerialNumbers/Take",
        serialNumberType="SerialNumber",
        quantity="2",
        refSN="CTR-BOX-1",
        refPN="CTR-BOX",
    )
    changes = call(fake, "GET", f"{_P}/Units/Changes", [("maxCount", "1")])
    change_id = changes.json()[0]["id"]
    second = (
        ("parentSerialNumber", "CTR-BOX-1"),
        ("parentPartNumber", "CTR-BOX"),
        ("childSerialNumber", "CTR-PCB-2"),
        ("childPartNumber", "CTR-PCB"),
    )
    units = json.dumps(
        [
            {
                "serialNumber": "CTR-BOX-2",
                "partNumber": "CTR-BOX",
                "revision": "A",
                "batchNumber": "B1",
            }
        ]
    ).encode()
    batches = json.dumps([{"batchNumber": "B1", "batchSize": 10}]).encode()
    csv = b"id,state\r\n000100,Free\r\n000101,Taken\r\n"
    xml = b'<SerialNumbers><SN id="000102" state="Free"/></SerialNumbers>'
    sn = (("serialNumberType", "SerialNumber"),)
    return ContractSeed(
        # {partNumber} comes from the product samples: GET Unit needs only some value for it.
        path_values={"serialNumber": "CTR-BOX-1"},
        bodies={
            "PUT /api/Production/Units": (units, _JSON),
            "PUT /api/Production/Batches": (batches, _JSON),
            "PUT /api/Production/SetUnitPhase": (b"", _JSON),
            "PUT /api/Production/SetUnitProcess": (b"", _JSON),
            "POST /api/Production/AddChildUnit": (b"", _JSON),
            "POST /api/Production/RemoveChildUnit": (b"", _JSON),
            "POST /api/Production/SerialNumbers/Take": (b"", _JSON),
            "PUT /api/Production/SerialNumbers": (csv, "text/csv"),
        },
        probes={
            "GET /api/Production/Unit/{serialNumber}/{partNumber}": [
                Probe(f"{_P}/Unit/CTR-BOX-1/CTR-BOX"),
                Probe(f"{_P}/Unit/ctr-pcb-1/ctr-pcb"),
                Probe(f"{_P}/Unit/NOPE/CTR-BOX", expect=404, why="no such unit"),
            ],
            "PUT /api/Production/Units": [
                Probe(f"{_P}/Units", body=units),
                Probe(f"{_P}/Units", body=b"[{}]", expect=400, why="serialNumber missing"),
            ],
            "PUT /api/Production/SetUnitPhase": [
                Probe(
                    f"{_P}/SetUnitPhase",
                    (("serialNumber", "CTR-BOX-1"), ("partNumber", "CTR-BOX"), ("phase", "64")),
                ),
                Probe(
                    f"{_P}/SetUnitPhase",
                    (("serialNumber", "CTR-BOX-1"), ("partNumber", ""), ("phase", "3")),
                    expect=400,
                    why="3 is not a phase",
                ),
            ],
            "PUT /api/Production/SetUnitProcess": [
                Probe(
                    f"{_P}/SetUnitProcess",
                    (
                        ("serialNumber", "CTR-BOX-1"),
                        ("partNumber", "CTR-BOX"),
                        ("processName", "Functional Test"),
                    ),
                )
            ],
            "GET /api/Production/Units/Changes": [
                Probe(f"{_P}/Units/Changes", (("maxCount", "10"),)),
                Probe(f"{_P}/Units/Changes", (("maxCount", "0"),), expect=400, why="at least 1"),
            ],
            "DELETE /api/Production/Units/Changes/{id}": [
                Probe(f"{_P}/Units/Changes/{change_id}"),
                Probe(f"{_P}/Units/Changes/{change_id}", expect=404, why="deleted just before"),
            ],
            "POST /api/Production/AddChildUnit": [
                Probe(
                    f"{_P}/AddChildUnit",
                    (*second, ("checkPartNumber", ""), ("checkRevision", "")),
                ),
                Probe(
                    f"{_P}/AddChildUnit",
                    (*second, ("checkPartNumber", ""), ("checkRevision", "")),
                    expect=400,
                    why="the child has a parent now",
                ),
            ],
            "POST /api/Production/RemoveChildUnit": [
                Probe(f"{_P}/RemoveChildUnit", tuple(fitted.items())),
                Probe(
                    f"{_P}/RemoveChildUnit",
                    tuple(fitted.items()),
                    expect=400,
                    why="removed just before",
                ),
            ],
            "GET /api/Production/CheckChildUnits": [
                Probe(
                    f"{_P}/CheckChildUnits",
                    (("parentSerialNumber", "CTR-BOX-1"), ("parentPartNumber", "CTR-BOX")),
                )
            ],
            "GET /api/Production/UnitVerification": [
                Probe(f"{_P}/UnitVerification", (("serialNumber", "CTR-BOX-1"),)),
                Probe(
                    f"{_P}/UnitVerification",
                    (("serialNumber", "CTR-PCB-1"), ("partNumber", "CTR-PCB")),
                ),
            ],
            "PUT /api/Production/Batches": [Probe(f"{_P}/Batches", body=batches)],
            "GET /api/Production/SerialNumbers/Types": [Probe(f"{_P}/SerialNumbers/Types")],
            "POST /api/Production/SerialNumbers/Take": [
                Probe(f"{_P}/SerialNumbers/Take", (*sn, ("quantity", "3"))),
                Probe(
                    f"{_P}/SerialNumbers/Take",
                    (*sn, ("quantity", "2"), ("format", "CSV"), ("onlyInSequence", "true")),
                ),
            ],
            "GET /api/Production/SerialNumbers/ByRange": [
                Probe(
                    f"{_P}/SerialNumbers/ByRange",
                    (*sn, ("startAddress", "000001"), ("endAddress", "000005")),
                )
            ],
            "GET /api/Production/SerialNumbers/ByReference": [
                Probe(f"{_P}/SerialNumbers/ByReference", (*sn, ("refSN", "CTR-BOX-1")))
            ],
            "GET /api/Production/SerialNumbers": [
                Probe(f"{_P}/SerialNumbers", (*sn, ("format", "XML"), ("endAddress", "000010"))),
                Probe(f"{_P}/SerialNumbers", (*sn, ("format", "CSV"))),
            ],
            "PUT /api/Production/SerialNumbers": [
                Probe(f"{_P}/SerialNumbers", (*sn, ("format", "CSV")), csv, "text/csv"),
                Probe(f"{_P}/SerialNumbers", (*sn, ("format", "XML")), xml, "application/xml"),
            ],
        },
    )
