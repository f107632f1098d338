"""``api.barcode`` against the emulator, blocking and async: identifiers and identification."""

from __future__ import annotations

from typing import Any

import pytest

import pywats
from pywats import pyWATS
from pywats.models.barcode import BarcodeIdentifier, IdentifiedBarcode
from pywats.testing import FakeWATS
from pywats.testing._barcode_routes import MAX_CODE, barcode_state
from tests.pywats.both_clients import both_clients

fake, api = both_clients()

SERIAL_AND_PART = BarcodeIdentifier(
    pattern=r"^SN\d+-\w+$",
    serial_number=r"^(SN\d+)-",
    part_number=r"-(\w+)$",
    description="SN123-PCB1",
)


def test_no_identifiers_at_first(api: pyWATS) -> None:
    assert api.barcode.get_barcode_identifiers() == []


def test_saved_identifier_gets_an_id_and_an_order(api: pyWATS) -> None:
    first = api.barcode.save_barcode_identifier(SERIAL_AND_PART)
    second = api.barcode.save_barcode_identifier(BarcodeIdentifier(pattern="^X"))
    assert first.id is not None
    assert second.id not in (None, first.id)
    assert (first.order, second.order) == (1, 2)  # a new identifier is tried after the others
    assert first.serial_number == SERIAL_AND_PART.serial_number
    assert api.barcode.get_barcode_identifiers() == [first, second]


def test_update_replaces_the_identifier(api: pyWATS) -> None:
    saved = api.barcode.save_barcode_identifier(SERIAL_AND_PART)
    changed = BarcodeIdentifier(id=saved.id, pattern="^Q", order=7, description="Q1")
    assert api.barcode.save_barcode_identifier(changed) == changed
    assert api.barcode.get_barcode_identifiers() == [changed]


def test_update_of_an_unknown_id_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Barcode identifier 99 was not found"):
        api.barcode.save_barcode_identifier(BarcodeIdentifier(id=99, pattern="^X"))


@pytest.mark.parametrize(
    ("identifier", "field"),
    [
        (BarcodeIdentifier(pattern="("), "pattern"),
        (BarcodeIdentifier(pattern="^SN", serial_number="[a-"), "serialNumber"),
        (BarcodeIdentifier(pattern="^SN", process="(?P<x"), "process"),
        (BarcodeIdentifier(serial_number="^SN"), "pattern"),
        (BarcodeIdentifier(pattern="   "), "pattern"),
        (BarcodeIdentifier(pattern="^SN", order=2**31), "order"),
    ],
)
def test_invalid_identifier_is_refused_naming_the_field(
    api: pyWATS, identifier: BarcodeIdentifier, field: str
) -> None:
    with pytest.raises(pywats.ValidationError) as caught:
        api.barcode.save_barcode_identifier(identifier)
    assert caught.value.status == 400
    assert caught.value.message.startswith(f"{field}:"), caught.value.message
    assert api.barcode.get_barcode_identifiers() == []


def test_save_needs_an_identifier(api: pyWATS) -> None:
    wrong: Any = {"pattern": "^SN"}
    with pytest.raises(pywats.InvalidArgumentError, match="must be a BarcodeIdentifier, not dict"):
        api.barcode.save_barcode_identifier(wrong)


def test_delete_removes_the_identifier(api: pyWATS) -> None:
    kept = api.barcode.save_barcode_identifier(BarcodeIdentifier(pattern="^A"))
    gone = api.barcode.save_barcode_identifier(BarcodeIdentifier(pattern="^B"))
    assert gone.id is not None
    assert api.barcode.delete_barcode_identifier(gone.id) is None
    assert api.barcode.get_barcode_identifiers() == [kept]
    with pytest.raises(pywats.NotFoundError, match=f"Barcode identifier {gone.id} was not found"):
        api.barcode.delete_barcode_identifier(gone.id)


@pytest.mark.parametrize("bad", ["abc", "1.5", "99999999999", True])
def test_delete_with_an_id_that_is_not_one(api: pyWATS, bad: Any) -> None:
    with pytest.raises(pywats.ValidationError, match="is not valid for id"):
        api.barcode.delete_barcode_identifier(bad)


def test_identify_reads_the_fields_of_the_matching_identifier(api: pyWATS) -> None:
    saved = api.barcode.save_barcode_identifier(
        BarcodeIdentifier(
            pattern=r"^SN\d+-\w+/\d+$",
            serial_number=r"^(SN\d+)-",
            part_number=r"-(\w+)/",
            revision=r"REV(\w)",  # finds nothing: left out
            process=r"\d+$",  # no group: the whole match
            description="SN123-PCB1/50",
        )
    )
    found = api.barcode.identify_barcode("SN123-PCB1/50")
    assert found == IdentifiedBarcode(
        id=saved.id,
        pattern=saved.pattern,
        serial_number="SN123",
        part_number="PCB1",
        process="50",
        order=saved.order,
        description="SN123-PCB1/50",
    )
    assert found.identified_by == saved.id
    assert found.process_code == 50


def test_identifiers_are_tried_in_order(api: pyWATS) -> None:
    late = api.barcode.save_barcode_identifier(
        BarcodeIdentifier(pattern="^SN", serial_number="^(SN..)", order=5)
    )
    early = api.barcode.save_barcode_identifier(
        BarcodeIdentifier(pattern="^SN", serial_number="^(SN.)", order=1)
    )
    found = api.barcode.identify_barcode("SN12345")
    assert found is not None
    assert (found.identified_by, found.serial_number) == (early.id, "SN1")
    assert early.id is not None
    api.barcode.delete_barcode_identifier(early.id)
    found = api.barcode.identify_barcode("SN12345")
    assert found is not None
    assert (found.identified_by, found.serial_number) == (late.id, "SN12")


def test_net_named_groups_are_read(api: pyWATS) -> None:
    api.barcode.save_barcode_identifier(
        BarcodeIdentifier(pattern="^P", part_number=r"^P(?<part>\d+)")
    )
    found = api.barcode.identify_barcode("P42")
    assert found is not None
    assert found.part_number == "42"


@pytest.mark.parametrize(
    ("code", "fields"),
    [
        ("SN1", ("SN1", None, None, None, None)),
        ("SN1/PN1/A/B7/50", ("SN1", "PN1", "A", "B7", "50")),
        ("SN1//A", ("SN1", None, "A", None, None)),
    ],
)
def test_without_a_matching_identifier_the_default_format_applies(
    api: pyWATS, code: str, fields: tuple[str | None, ...]
) -> None:
    api.barcode.save_barcode_identifier(BarcodeIdentifier(pattern="^NEVER"))
    found = api.barcode.identify_barcode(code)
    assert found is not None
    assert found.identified_by is None
    got = (
        found.serial_number,
        found.part_number,
        found.revision,
        found.batch_number,
        found.process,
    )
    assert got == fields


def test_a_code_nothing_can_read_is_none(api: pyWATS) -> None:
    assert api.barcode.identify_barcode("a/b/c/d/e/f") is None


@pytest.mark.parametrize("code", ["", "x" * (MAX_CODE + 1)])
def test_identify_refuses_an_empty_or_oversize_code(api: pyWATS, code: str) -> None:
    with pytest.raises(pywats.ValidationError, match="code"):
        api.barcode.identify_barcode(code)


def test_process_code_of_a_process_that_is_not_a_number() -> None:
    assert IdentifiedBarcode(process="ICT").process_code is None
    assert IdentifiedBarcode().process_code is None
    assert IdentifiedBarcode(id=0).identified_by is None


def test_reset_forgets_the_identifiers(api: pyWATS, fake: FakeWATS) -> None:
    api.barcode.save_barcode_identifier(SERIAL_AND_PART)
    assert len(barcode_state(fake).identifiers) == 1
    fake.reset()
    assert api.barcode.get_barcode_identifiers() == []
