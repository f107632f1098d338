"""``api.production`` against the emulator, blocking and async: units, phases, processes, unit
changes, assemblies (box builds), unit verification and batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import pywats
from pywats import pyWATS
from pywats._call import UnexpectedResponseError
from pywats._errors import InvalidArgumentError
from pywats.models.production import ProductionBatch, Unit, UnitPhase
from pywats.models.report import (
    NumericMeasurement,
    SequenceCall,
    Step,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)
from pywats.testing import FakeWATS
from pywats.testing._product_routes import BomLine, product_state
from pywats.testing._production_state import production_state
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _units(api: pyWATS, *units: tuple[str, str, str]) -> None:
    api.production.create_units(
        [Unit(serial_number=sn, part_number=pn, revision=rev) for sn, pn, rev in units]
    )


def _box_with_bom(api: pyWATS, fake: FakeWATS, boards: int = 2) -> None:
    """BOX-1 (BOX rev A, whose BOM is 2 PCB rev B and 1 PSU) and finalized parts."""
    product_state(fake).boms[("box", "a")] = [BomLine("PCB", "B", 2), BomLine("PSU", None, 1)]
    _units(api, ("BOX-1", "BOX", "A"), ("PSU-1", "PSU", "1"))
    for i in range(1, boards + 1):
        _units(api, (f"PCB-{i}", "PCB", "B"))
    for sn, pn in [("PSU-1", "PSU")] + [(f"PCB-{i}", "PCB") for i in range(1, boards + 1)]:
        api.production.set_unit_phase(sn, pn, UnitPhase.FINALIZED)


def _fit(api: pyWATS, child_sn: str, child_pn: str, parent_sn: str = "BOX-1") -> None:
    api.production.add_child_to_assembly(parent_sn, "BOX", child_sn, child_pn)


def _uut(sn: str, pn: str, process_code: int, result: str, minutes: int) -> UUTReport:
    step = Step(
        group="M",
        step_type="ET_NLT",
        name="Voltage",
        status=result,
        numeric_meas=[
            NumericMeasurement(
                status=result, value=5.0, unit="V", comp_op="GELE", low_limit=4.5, high_limit=5.5
            )
        ],
    )
    return UUTReport(
        pn=pn,
        sn=sn,
        rev="A",
        process_code=process_code,
        result=result,
        machine_name="STATION-1",
        location="Lab",
        purpose="Production",
        start=START + timedelta(minutes=minutes),
        uut=UUTInfo(user="operator"),
        root=Step(
            group="M",
            step_type="SequenceCall",
            name="MainSequence Callback",
            status=result,
            seq_call=SequenceCall(path="main.seq", name="main.seq", version="1"),
            steps=[step],
        ),
    )


# --- units --------------------------------------------------------------------------------------


def test_created_unit_is_found(api: pyWATS) -> None:
    made = api.production.create_units(
        [
            Unit(
                serial_number="SN-1",
                part_number="PN-1",
                revision="A",
                batch_number="B-7",
                current_location="Line 2",
                serial_date=START,
            )
        ]
    )
    assert [u.serial_number for u in made] == ["SN-1"]
    unit = api.production.get_unit("SN-1", "PN-1")
    assert (unit.revision, unit.batch_number, unit.current_location) == ("A", "B-7", "Line 2")
    assert unit.serial_date == START
    assert unit.phase is UnitPhase.UNDER_PRODUCTION  # a new unit is under production
    assert unit.unit_phase == "Under production"
    assert unit.sub_units == []
    assert api.production.get_unit("sn-1", "pn-1").serial_number == "SN-1"  # case-insensitive


def test_unknown_unit_is_not_found(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    with pytest.raises(pywats.NotFoundError, match="Unit SN-2 \\(PN-1\\) was not found"):
        api.production.get_unit("SN-2", "PN-1")
    with pytest.raises(pywats.NotFoundError):
        api.production.get_unit("SN-1", "PN-2")


def test_unit_shows_its_product_when_the_product_is_known(api: pyWATS) -> None:
    _units(api, ("SN-0", "PN-0", "A"))
    assert api.production.get_unit("SN-0", "PN-0").product is None
    product = api.product.create_product("PN-1", name="Controller")
    api.product.create_revision("PN-1", "A", name="First")
    _units(api, ("SN-1", "PN-1", "A"))
    unit = api.production.get_unit("SN-1", "PN-1")
    assert unit.product is not None
    assert (unit.product.name, unit.product.product_id) == ("Controller", product.product_id)
    assert unit.product_revision is not None
    assert (unit.product_revision.revision, unit.product_revision.name) == ("A", "First")
    assert unit.product_revision.part_number == "PN-1"


def test_revision_update_is_recorded(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    api.production.update_unit(Unit(serial_number="SN-1", part_number="pn-1", revision="B"))
    assert api.production.get_unit("SN-1", "PN-1").revision == "B"
    [change] = api.production.get_unit_changes()
    assert (change.unit_serial_number, change.new_part_number, change.new_revision) == (
        "SN-1",
        "PN-1",
        "B",
    )


def test_same_serial_number_in_another_product_is_another_unit(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"), ("SN-1", "PN-2", "B"))
    assert api.production.get_unit("SN-1", "PN-1").revision == "A"
    assert api.production.get_unit("SN-1", "PN-2").revision == "B"


def test_update_keeps_what_it_does_not_name(api: pyWATS) -> None:
    api.production.create_units(
        [Unit(serial_number="SN-1", part_number="PN-1", revision="A", batch_number="B-1")]
    )
    api.production.update_unit(Unit(serial_number="SN-1", part_number="PN-1", xml_data="<Root/>"))
    unit = api.production.get_unit("SN-1", "PN-1")
    assert (unit.revision, unit.batch_number, unit.xml_data) == ("A", "B-1", "<Root/>")
    assert api.production.get_unit_changes() == []  # no parent, part, revision or phase change


@pytest.mark.parametrize(
    ("unit", "field"),
    [
        (Unit(serial_number="SN-1", part_number="PN-1", unit_phase_id=3), "units[0].unitPhaseId"),
        (
            Unit(serial_number="SN-1", part_number="PN-1", parent_serial_number="NOPE"),
            "units[0].parentSerialNumber",
        ),
    ],
)
def test_invalid_unit_is_refused_naming_the_field(api: pyWATS, unit: Unit, field: str) -> None:
    with pytest.raises(pywats.ValidationError) as caught:
        api.production.create_units([unit])
    assert caught.value.message.startswith(field), caught.value.message
    with pytest.raises(pywats.NotFoundError):
        api.production.get_unit("SN-1", "PN-1")


def test_units_of_a_non_serial_product_are_refused(api: pyWATS, fake: FakeWATS) -> None:
    product_state(fake).products["glue"] = {"partNumber": "GLUE", "nonSerial": True}
    with pytest.raises(pywats.ValidationError, match=r"units\[0\].partNumber"):
        _units(api, ("G-1", "GLUE", "A"))


def test_parent_given_with_the_unit(api: pyWATS) -> None:
    _units(api, ("BOX-1", "BOX", "A"))
    api.production.create_units(
        [Unit(serial_number="PCB-1", part_number="PCB", parent_serial_number="BOX-1")]
    )
    box = api.production.get_unit("BOX-1", "BOX")
    assert [u.serial_number for u in box.sub_units or []] == ["PCB-1"]
    loop = Unit(serial_number="BOX-1", part_number="BOX", parent_serial_number="PCB-1")
    with pytest.raises(pywats.ValidationError, match="loop"):
        api.production.create_units([loop])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: p.create_units("SN-1"), "units\\[0\\] must be a Unit, not str"),
        (lambda p: p.create_units(Unit(serial_number="S", part_number="P")), "list of Unit"),
        (lambda p: p.create_units([{"serialNumber": "S"}]), "must be a Unit, not dict"),
        (lambda p: p.create_units([Unit(serial_number=" ", part_number="P")]), "serial_number"),
        (lambda p: p.update_unit("SN-1"), "must be a Unit"),
        (lambda p: p.get_unit(17, "PN-1"), "serial_number must be text, not int"),
        (lambda p: p.get_unit("SN-1", ""), "part_number must not be empty"),
        (lambda p: p.set_unit_phase("SN-1", "PN-1", "Sold"), "not a unit phase name"),
        (lambda p: p.set_unit_phase("SN-1", "PN-1", 0), "phase must be at least 1"),
        (lambda p: p.set_unit_phase("SN-1", "PN-1", True), "phase must be an integer"),
        (lambda p: p.set_unit_process("SN-1", "PN-1", None), "process_name must be text"),
        (lambda p: p.get_unit_changes(0), "max_count must be at least 1"),
        (lambda p: p.get_unit_changes(2**40), "32 bits"),
        (lambda p: p.delete_unit_change("7"), "change_id must be an integer, not str"),
        (lambda p: p.add_child_to_assembly("", "P", "C", "P"), "parent_serial_number"),
        (lambda p: p.remove_child_from_assembly("A", "P", b"C", "P"), "child_serial_number"),
        (lambda p: p.verify_assembly(None, "P"), "parent_serial_number"),
        (lambda p: p.get_unit_grade("SN-1", 5), "part_number must be text"),
        (lambda p: p.save_batches([ProductionBatch(batch_number="")]), "batch_number"),
        (lambda p: p.save_batches(["B-1"]), "must be a ProductionBatch, not str"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    api: pyWATS, fake: FakeWATS, call: Any, match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        call(api.production)
    assert not fake.log  # nothing was sent


def test_summary_answer_with_errors_is_an_error() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errorCount": 1, "message": "bad unit"})

    with (
        pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(server)) as client,
        pytest.raises(UnexpectedResponseError, match="refused 1 of 1 units"),
    ):
        client.production.create_units([Unit(serial_number="S", part_number="P")])


def test_summary_answer_without_errors_returns_the_units_sent() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errorCount": 0})

    sent = [Unit(serial_number="S", part_number="P")]
    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(server)) as client:
        assert client.production.create_units(sent) == sent


# --- phase and process ----------------------------------------------------------------------


def test_phase_change_is_recorded(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    api.production.set_unit_phase("SN-1", "PN-1", UnitPhase.FINALIZED)
    api.production.set_unit_phase("SN-1", "PN-1", "Finalized")  # the same phase: no change
    api.production.set_unit_phase("SN-1", "", 2048)  # the part number may be left empty
    unit = api.production.get_unit("SN-1", "PN-1")
    assert unit.phase is UnitPhase.SHIPPED
    changes = api.production.get_unit_changes()
    assert [c.new_unit_phase_id for c in changes] == [16, 2048]


def test_phase_errors(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    with pytest.raises(pywats.NotFoundError, match="SN-9"):
        api.production.set_unit_phase("SN-9", "PN-1", UnitPhase.FINALIZED)
    with pytest.raises(pywats.ValidationError, match="phase: 3 is not a unit phase"):
        api.production.set_unit_phase("SN-1", "PN-1", 3)


def test_process_change_is_recorded(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    api.production.set_unit_process("SN-1", "PN-1", "functional test")
    assert api.production.get_unit("SN-1", "PN-1").process_code == "60"
    [change] = api.production.get_unit_changes()
    assert change.unit_serial_number == "SN-1"
    with pytest.raises(pywats.ValidationError, match="processName: 'Painting'"):
        api.production.set_unit_process("SN-1", "PN-1", "Painting")
    with pytest.raises(pywats.NotFoundError):
        api.production.set_unit_process("SN-9", "PN-1", "Functional Test")


def test_serial_number_alone_must_be_unique(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"), ("SN-1", "PN-2", "A"))
    with pytest.raises(pywats.ValidationError, match="several products"):
        api.production.set_unit_phase("SN-1", "", UnitPhase.SCRAPPED)


# --- unit changes ---------------------------------------------------------------------------


def test_changes_are_listed_oldest_first_and_deleted_by_id(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"), ("SN-2", "PN-1", "A"))
    api.production.set_unit_phase("SN-1", "PN-1", UnitPhase.FINALIZED)
    api.production.set_unit_phase("SN-2", "PN-1", UnitPhase.SCRAPPED)
    api.production.set_unit_phase("SN-1", "PN-1", UnitPhase.SHIPPED)
    first_two = api.production.get_unit_changes(2)
    assert [c.unit_serial_number for c in first_two] == ["SN-1", "SN-2"]
    api.production.delete_unit_change(first_two[0].id)
    api.production.acknowledge_unit_change(first_two[1].id)
    [left] = api.production.get_unit_changes()
    assert (left.unit_serial_number, left.new_unit_phase_id) == ("SN-1", 2048)
    with pytest.raises(pywats.NotFoundError, match=f"Unit change {first_two[0].id}"):
        api.production.delete_unit_change(first_two[0].id)


# --- assemblies -----------------------------------------------------------------------------


def test_fitted_child_shows_until_removed(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    _fit(api, "PCB-1", "PCB")
    box = api.production.get_unit("BOX-1", "BOX")
    assert [u.serial_number for u in box.sub_units or []] == ["PCB-1"]
    assert api.production.get_unit("PCB-1", "PCB").parent_serial_number == "BOX-1"
    check = api.production.verify_assembly("BOX-1", "BOX")
    assert [c.serial_number for c in check.children] == ["PCB-1"]
    api.production.remove_child_from_assembly("BOX-1", "BOX", "PCB-1", "PCB")
    assert api.production.get_unit("BOX-1", "BOX").sub_units == []
    assert api.production.verify_assembly("BOX-1", "BOX").children == []
    changes = api.production.get_unit_changes()
    assert [c.new_parent_serial_number for c in changes if c.unit_serial_number == "PCB-1"][
        -2:
    ] == ["BOX-1", None]
    with pytest.raises(pywats.ValidationError, match="PCB-1 \\(PCB\\) is not a child of BOX-1"):
        api.production.remove_child_from_assembly("BOX-1", "BOX", "PCB-1", "PCB")


def test_complete_assembly_checks_valid(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    for sn, pn in [("PCB-1", "PCB"), ("PCB-2", "PCB"), ("PSU-1", "PSU")]:
        _fit(api, sn, pn)
    check = api.production.verify_assembly("BOX-1", "")
    assert check.valid is True
    assert check.messages == []
    assert check.missing == []
    assert all(c.valid for c in check.children)


def test_check_names_missing_and_unfinished_children(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    _fit(api, "PCB-1", "PCB")
    api.production.set_unit_phase("PCB-1", "PCB", UnitPhase.PRODUCTION_REPAIR)
    check = api.production.verify_assembly("BOX-1", "BOX")
    assert check.valid is False
    assert check.messages == [
        "Missing child: PCB rev B (1 of 2 fitted)",
        "Missing child: PSU (0 of 1 fitted)",
        "Child PCB-1 (PCB) is not finalized (phase Production repair)",
    ]
    assert [(m.part_number, m.found, m.quantity) for m in check.missing] == [
        ("PCB", 1, 2),
        ("PSU", 0, 1),
    ]
    with pytest.raises(pywats.NotFoundError):
        api.production.verify_assembly("BOX-9", "BOX")


@pytest.mark.parametrize(
    ("setup", "child", "match"),
    [
        (None, ("PCB-3", "PCB"), "phase 'Under production'; a child must be finalized"),
        (None, ("CBL-1", "CBL"), "box build of BOX rev A does not list CBL rev 1"),
        ("third board", ("PCB-3", "PCB"), "already has 2 of 2 PCB"),
        ("fitted elsewhere", ("PCB-1", "PCB"), "already has parent BOX-2 \\(BOX\\)"),
        (None, ("BOX-1", "BOX"), "its own child"),
    ],
)
def test_child_rules(
    api: pyWATS, fake: FakeWATS, setup: str | None, child: tuple[str, str], match: str
) -> None:
    _box_with_bom(api, fake)
    _units(api, ("PCB-3", "PCB", "B"), ("CBL-1", "CBL", "1"), ("BOX-2", "BOX", "A"))
    api.production.set_unit_phase("CBL-1", "CBL", UnitPhase.FINALIZED)
    if setup == "third board":
        _fit(api, "PCB-1", "PCB")
        _fit(api, "PCB-2", "PCB")
        api.production.set_unit_phase("PCB-3", "PCB", UnitPhase.FINALIZED)
    if setup == "fitted elsewhere":
        _fit(api, "PCB-1", "PCB", parent_sn="BOX-2")
    with pytest.raises(pywats.ValidationError, match=match):
        _fit(api, *child)


def test_assembly_loop_is_refused(api: pyWATS, fake: FakeWATS) -> None:
    product_state(fake).boms[("box", "a")] = [BomLine("BOX", None, 1)]
    _units(api, ("BOX-1", "BOX", "A"), ("BOX-2", "BOX", "A"))
    for sn in ("BOX-1", "BOX-2"):
        api.production.set_unit_phase(sn, "BOX", UnitPhase.FINALIZED)
    api.production.add_child_to_assembly("BOX-1", "BOX", "BOX-2", "BOX")
    api.production.remove_child_from_assembly("BOX-1", "BOX", "BOX-2", "BOX")
    api.production.add_child_to_assembly("BOX-2", "BOX", "BOX-1", "BOX")
    with pytest.raises(pywats.ValidationError, match="loop"):
        api.production.add_child_to_assembly("BOX-1", "BOX", "BOX-2", "BOX")


def test_unknown_units_in_an_assembly_are_not_found(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    with pytest.raises(pywats.NotFoundError, match="Parent unit BOX-9"):
        _fit(api, "PCB-1", "PCB", parent_sn="BOX-9")
    with pytest.raises(pywats.NotFoundError, match="Child unit PCB-9"):
        _fit(api, "PCB-9", "PCB")
    with pytest.raises(pywats.NotFoundError, match="Child unit PCB-9"):
        api.production.remove_child_from_assembly("BOX-1", "BOX", "PCB-9", "PCB")


def test_check_part_overrides_the_box_build(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    _units(api, ("CBL-1", "CBL", "2"))
    api.production.set_unit_phase("CBL-1", "CBL", UnitPhase.FINALIZED)
    with pytest.raises(pywats.ValidationError, match="is not the expected CBL rev 1"):
        api.production.add_child_to_assembly(
            "BOX-1", "BOX", "CBL-1", "", check_part_number="CBL", check_revision="1"
        )
    api.production.add_child_to_assembly(
        "BOX-1", "BOX", "CBL-1", "", check_part_number="CBL", check_revision="*"
    )
    check = api.production.verify_assembly("BOX-1", "BOX")
    assert "Extra child: CBL-1 (CBL) is not in the box build" in check.messages


def test_phase_finalized_of_the_revision_xml_data_counts(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    api.product.create_product("PSU")
    api.product.create_revision(
        "PSU", "1", xml_data='<Root><PhaseFinalized Value="Shipped"/></Root>'
    )
    api.production.set_unit_phase("PSU-1", "PSU", UnitPhase.IN_STORAGE)
    with pytest.raises(pywats.ValidationError, match="must be finalized"):
        _fit(api, "PSU-1", "PSU")
    api.production.set_unit_phase("PSU-1", "PSU", UnitPhase.SHIPPED)
    _fit(api, "PSU-1", "PSU")
    assert api.production.get_unit("PSU-1", "PSU").parent_serial_number == "BOX-1"


def test_phase_finalized_tag_of_the_revision_counts(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    product_state(fake).revisions[("psu", "1")] = {
        "revision": "1",
        "tags": [{"key": "PhaseFinalized", "value": "In storage"}],
    }
    api.production.set_unit_phase("PSU-1", "PSU", UnitPhase.IN_STORAGE)
    _fit(api, "PSU-1", "PSU")
    assert api.production.get_unit("PSU-1", "PSU").parent_serial_number == "BOX-1"


# --- verification ---------------------------------------------------------------------------


def test_unit_matching_its_bom_is_verified(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    for sn, pn in [("PCB-1", "PCB"), ("PCB-2", "PCB"), ("PSU-1", "PSU")]:
        _fit(api, sn, pn)
    grade = api.production.get_unit_grade("BOX-1", "BOX")
    assert (grade.grade, grade.status) == ("Verified", "OK")
    assert grade.no_repairs is True
    assert api.production.verify_unit("BOX-1").grade == "Verified"


def test_missing_and_extra_children_are_named(api: pyWATS, fake: FakeWATS) -> None:
    _box_with_bom(api, fake)
    _units(api, ("CBL-1", "CBL", "1"))
    api.production.set_unit_phase("CBL-1", "CBL", UnitPhase.FINALIZED)
    _fit(api, "PCB-1", "PCB")
    _fit(api, "PSU-1", "PSU")
    api.production.add_child_to_assembly("BOX-1", "BOX", "CBL-1", "CBL", check_part_number="CBL")
    grade = api.production.get_unit_grade("BOX-1")
    assert grade.grade == "Not verified"
    assert grade.status == (
        "Missing child: PCB rev B (1 of 2 fitted); Extra child: CBL-1 (CBL) is not in the box build"
    )


def test_grade_follows_the_test_history(api: pyWATS) -> None:
    _units(api, ("SN-1", "PN-1", "A"))
    for report in (
        _uut("SN-1", "PN-1", 30, "P", 0),
        _uut("SN-1", "PN-1", 60, "F", 10),
        _uut("SN-1", "PN-1", 60, "P", 20),
        _uut("SN-2", "PN-1", 60, "F", 30),  # another unit: not counted
    ):
        api.report.submit_report(report)
    grade = api.production.get_unit_grade("SN-1", "PN-1")
    assert grade.grade == "Verified"
    assert (grade.all_processes_passed_first_run, grade.all_processes_passed_any_run) == (
        False,
        True,
    )
    assert grade.all_processes_passed_last_run is True
    assert grade.all_processes_executed_in_correct_order is True
    ict, functional = grade.results
    assert (ict.process_code, ict.process_name, ict.total_count) == (30, "In-Circuit Test", 1)
    assert (functional.process_code, functional.total_count, functional.non_passed_count) == (
        60,
        2,
        1,
    )
    assert functional.status == "Passed"
    assert functional.start_utc == START + timedelta(minutes=20)
    assert functional.station_name == "STATION-1"


def test_failed_last_run_and_repairs_are_graded(api: pyWATS) -> None:
    failed = _uut("SN-1", "PN-1", 60, "F", 0)
    api.report.submit_report(failed)
    api.report.submit_report(_uut("SN-1", "PN-1", 30, "P", 5))  # ICT after functional test
    repair = UURReport(
        pn="PN-1",
        sn="SN-1",
        rev="A",
        process_code=500,
        result="P",
        machine_name="REPAIR-1",
        location="Lab",
        purpose="Repair",
        start=START + timedelta(minutes=30),
        uur=UURInfo(user="technician", process_code=60, ref_uut=failed.id),
        sub_units=[SubUnit(idx=0, part_type="Main", pn="PN-1", sn="SN-1", rev="A")],
    )
    api.report.submit_report(repair)
    # No unit record: the grade is still found from the reports.
    grade = api.production.get_unit_grade("SN-1")
    assert grade.grade == "Not verified"
    assert grade.status == "Functional Test (60): Failed"
    assert grade.all_processes_executed_in_correct_order is False
    assert grade.no_repairs is False
    assert [r.repair_count for r in grade.results] == [0, 1]


def test_grade_of_an_unknown_unit_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Unit SN-404 was not found"):
        api.production.get_unit_grade("SN-404")


# --- batches --------------------------------------------------------------------------------


def test_batches_are_saved(api: pyWATS, fake: FakeWATS) -> None:
    api.production.save_batches(
        [ProductionBatch(batch_number="B-1", batch_size=10), ProductionBatch(batch_number="B-2")]
    )
    api.production.save_batches([ProductionBatch(batch_number="b-1", batch_size=12)])
    saved = production_state(fake).batches
    assert sorted(saved) == ["b-1", "b-2"]
    assert saved["b-1"]["batchSize"] == 12


def test_negative_batch_size_is_refused(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match=r"batches\[0\].batchSize"):
        api.production.save_batches([ProductionBatch(batch_number="B-1", batch_size=-1)])
