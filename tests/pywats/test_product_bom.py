"""``api.product`` against the emulator, blocking and async: BOMs, product groups, vendors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import pywats
from pywats import pyWATS
from pywats._calls import _product_calls as product_calls
from pywats._errors import InvalidArgumentError
from pywats.formats import wsbf
from pywats.formats.wsbf import BomFormatError
from pywats.models.app import ProductGroup
from pywats.models.product import Bom, BomComponent, ProductRevision, Vendor
from pywats.testing import FakeWATS
from pywats.testing._faults import Fault
from pywats.testing._product_routes import BomLine, product_state
from tests.pywats.both_clients import both_clients
from tests.testing.contract import call

fake, api = both_clients()

COMPONENTS = [
    BomComponent(
        part_number="100200",
        revision="1.0",
        quantity=2,
        description="Resistor",
        reference="R1;R2",
        function_block="A",
    ),
    BomComponent(part_number="100201", revision="1.1", quantity=1),
]

# The example of the server's own description (note the blank ending its namespace).
SERVER_EXAMPLE = """<?xml version="1.0" encoding="utf-16"?>
<BOM Partnumber="100100" Revision="1.0" Desc="Product Description" xmlns="http://wats.virinco.com/schemas/WATS/wsbf ">
 <Component Number="100200" Rev="1.0" Qty="2" Desc="Component Description" Ref="A30;A31" FunctionBlock="A" />
 <Component Number="100201" Rev="1.1" Qty="2" Desc="Component Description" Ref="A32;A34" FunctionBlock="B" />
</BOM>"""  # noqa: E501 - verbatim


@pytest.fixture
def board(api: pyWATS) -> pyWATS:
    """``api`` with product 100100 and its revision 1.0."""
    api.product.create_product("100100", name="Product")
    api.product.create_revision("100100", "1.0", xml_data='<Root><Site Value="01"/></Root>')
    return api


# --- BOM --------------------------------------------------------------------------------------


def test_bom_round_trips(board: pyWATS, fake: FakeWATS) -> None:
    board.product.update_bom("100100", "1.0", COMPONENTS, description="Product")
    assert board.product.get_bom("100100", "1.0") == COMPONENTS
    assert COMPONENTS[0].references == ["R1", "R2"]
    # Where the description shows it: inside the revision's xmlData, next to its tags.
    revision = board.product.get_revision("100100", "1.0")
    assert wsbf.from_xml_data(revision.xml_data) == Bom(
        part_number="100100", revision="1.0", description="Product", components=COMPONENTS
    )
    assert revision.tag_values == {"Site": "01"}
    # What the production domain's unit verification reads.
    assert product_state(fake).bom("100100", "1.0") == [
        BomLine("100200", "1.0", 2, "Resistor", "R1;R2", "A"),
        BomLine("100201", "1.1", 1),
    ]


def test_a_new_bom_replaces_the_old(board: pyWATS) -> None:
    board.product.update_bom("100100", "1.0", COMPONENTS)
    board.product.update_bom("100100", "1.0", COMPONENTS[1:])
    assert board.product.get_bom("100100", "1.0") == COMPONENTS[1:]


def test_a_revision_without_bom_has_an_empty_one(board: pyWATS) -> None:
    assert board.product.get_bom("100100", "1.0") == []


def test_bom_of_an_unknown_revision_is_not_found(board: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match=r"has no revision '9\.9'"):
        board.product.get_bom("100100", "9.9")


@pytest.mark.parametrize(
    ("part_number", "revision", "reason"),
    [
        ("NOPE", "1.0", "Partnumber: product 'NOPE' does not exist"),
        ("100100", "9.9", "Revision: product '100100' has no revision '9.9'"),
    ],
)
def test_bom_for_an_unknown_product_or_revision(
    board: pyWATS, fake: FakeWATS, part_number: str, revision: str, reason: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=reason):
        board.product.update_bom(part_number, revision, COMPONENTS)
    assert product_state(fake).boms == {}


def test_server_example_uploads_from_every_source(
    board: pyWATS, fake: FakeWATS, tmp_path: Path
) -> None:
    path = tmp_path / "bom.xml"
    path.write_bytes(SERVER_EXAMPLE.encode("utf-16"))
    expected = [("100200", 2, "A30;A31", "A"), ("100201", 2, "A32;A34", "B")]
    sources: list[Any] = [
        SERVER_EXAMPLE,  # text: sent as UTF-8 without its utf-16 declaration
        SERVER_EXAMPLE.encode("utf-16"),
        path,
        io.BytesIO(SERVER_EXAMPLE.encode("utf-16")),
        wsbf.loads(SERVER_EXAMPLE),
    ]
    for source in sources:
        product_state(fake).boms.clear()
        board.product.upload_wsbf(source)
        got = board.product.get_bom("100100", "1.0")
        assert [(c.part_number, c.quantity, c.reference, c.function_block) for c in got] == expected


def test_bom_in_other_letter_case_is_stored_under_the_known_names(board: pyWATS) -> None:
    board.product.create_product("PCB-1")
    board.product.create_revision("PCB-1", "A")
    board.product.upload_wsbf(Bom(part_number="pcb-1", revision="a", components=COMPONENTS))
    shown = wsbf.from_xml_data(board.product.get_revision("PCB-1", "A").xml_data)
    assert shown is not None
    assert (shown.part_number, shown.revision) == ("PCB-1", "A")


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"<BOM", "not well-formed"),
        (b"<Other/>", "root element is <Other>"),
        (b'<BOM Revision="1"/>', "the Partnumber attribute is required"),
        (b'<BOM Partnumber="1" Revision="1"><Component Qty="1"/></BOM>', "Number attribute"),
        (b'<BOM Partnumber="1" Revision="1"><Component Number="2" Qty="x"/></BOM>', "Qty"),
        (b'<BOM Partnumber="1" Revision="1"><Component Number="2" Qty="-1"/></BOM>', "Qty"),
        (b'<!DOCTYPE BOM [<!ENTITY a "b">]><BOM/>', "DOCTYPE"),
    ],
)
def test_unreadable_bom_is_not_sent(
    board: pyWATS, fake: FakeWATS, document: bytes, reason: str
) -> None:
    fake.log.clear()
    with pytest.raises(BomFormatError, match=reason):
        board.product.upload_wsbf(document)
    assert not fake.log


@pytest.mark.parametrize(
    "component",
    [
        BomComponent(part_number=""),
        BomComponent(part_number="1", quantity=-1),
        BomComponent(part_number="1", description="bell\x07"),
    ],
)
def test_component_that_cannot_be_written_is_not_sent(
    board: pyWATS, fake: FakeWATS, component: BomComponent
) -> None:
    fake.log.clear()
    with pytest.raises(BomFormatError):
        board.product.update_bom("100100", "1.0", [component])
    assert not fake.log


def test_oversize_bom_is_refused_before_sending(
    board: pyWATS, fake: FakeWATS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(product_calls, "MAX_BOM_BYTES", 100)  # where wsbf_bytes reads it
    document = wsbf.dumps(Bom(part_number="100100", revision="1.0", components=COMPONENTS))
    path = tmp_path / "big.xml"
    path.write_bytes(document)
    fake.log.clear()
    for source in (document, path, io.BytesIO(document)):
        with pytest.raises(InvalidArgumentError, match="the limit is 100 bytes"):
            board.product.upload_wsbf(source)
    assert not fake.log


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (123, "not int"),
        (io.StringIO("<BOM/>"), "open it with 'rb'"),
        (Path("/nonexistent/bom.xml"), "is not a file"),
    ],
)
def test_bom_source_of_the_wrong_kind(board: pyWATS, source: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        board.product.upload_wsbf(source)


def test_components_must_be_bom_components(board: pyWATS) -> None:
    wrong: Any = [{"part_number": "1"}]
    with pytest.raises(InvalidArgumentError, match=r"components\[0\] must be a BomComponent"):
        board.product.update_bom("100100", "1.0", wrong)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "must be a WSBF BOM document"),
        (b"{}", "The BOM is invalid"),
        (b'<BOM Partnumber="100100"/>', "Revision attribute is required"),
    ],
)
def test_emulator_refuses_an_invalid_bom_with_400(
    board: pyWATS, fake: FakeWATS, body: bytes, reason: str
) -> None:
    answer = call(fake, "PUT", "/api/Product/BOM", body=body, content_type="application/xml")
    assert answer.status == 400  # the server documents 500; see _product_extra_routes
    assert reason in answer.json()["Message"]


def test_revision_saved_as_read_keeps_its_bom(board: pyWATS) -> None:
    board.product.update_bom("100100", "1.0", COMPONENTS)
    revision = board.product.get_revision("100100", "1.0")
    revision.name = "Released"
    board.product.update_revision(revision)
    assert board.product.get_bom("100100", "1.0") == COMPONENTS
    # and xmlData without a BOM leaves the BOM alone
    revision.xml_data = '<Root><Site Value="02"/></Root>'
    saved = board.product.update_revision(revision)
    assert saved.tag_values == {"Site": "02"}
    assert board.product.get_bom("100100", "1.0") == COMPONENTS


def test_bom_inside_a_revision_xml_data_sets_the_bom(board: pyWATS) -> None:
    bom = Bom(part_number="100100", revision="1.0", components=COMPONENTS[1:])
    xml_data = wsbf.replace_in_xml_data('<Root><Site Value="03"/></Root>', bom)
    saved = board.product.update_revision(
        ProductRevision(revision="1.0", part_number="100100", xml_data=xml_data)
    )
    assert saved.tag_values == {"Site": "03"}
    assert board.product.get_bom("100100", "1.0") == COMPONENTS[1:]


def test_bom_in_xml_data_must_be_for_that_revision(board: pyWATS) -> None:
    other = Bom(part_number="999", revision="1.0", components=COMPONENTS)
    wrong = ProductRevision(
        revision="1.0", part_number="100100", xml_data=wsbf.replace_in_xml_data(None, other)
    )
    with pytest.raises(pywats.ValidationError, match="xmlData: the BOM is for 999"):
        board.product.update_revision(wrong)


def test_renamed_revision_keeps_its_bom(board: pyWATS, fake: FakeWATS) -> None:
    board.product.update_bom("100100", "1.0", COMPONENTS)
    revision = board.product.get_revision("100100", "1.0")
    revision.revision = "1.1"
    board.product.update_revision(revision)
    assert board.product.get_bom("100100", "1.1") == COMPONENTS
    assert product_state(fake).bom("100100", "1.0") == []


# --- product groups ---------------------------------------------------------------------------


def _groups(fake: FakeWATS) -> None:
    fake.state.product_groups = [
        ProductGroup(product_group_id=1, product_group_name="All products"),
        ProductGroup(product_group_id=2, product_group_name="Boards", filters=[]),
        ProductGroup(product_group_id=3, product_group_name="Boxes", filters=[]),
    ]


def _names(groups: list[ProductGroup]) -> list[str | None]:
    return [g.product_group_name for g in groups]


def test_a_group_without_filters_takes_every_product(board: pyWATS) -> None:
    assert _names(board.product.get_groups_for_product("100100")) == ["All products"]


def test_groups_follow_their_filters(board: pyWATS, fake: FakeWATS) -> None:
    _groups(fake)
    board.product.create_product("BOX-7")
    board.product.add_product_group_filter("Boards", "1001%")
    board.product.add_product_group_filter("boxes", "BOX-_;CASE-%")
    assert _names(board.product.get_groups_for_product("100100")) == ["All products", "Boards"]
    assert _names(board.product.get_groups_for_product("box-7")) == ["All products", "Boxes"]
    board.product.add_product_group_filter("All products", "BOX-%", exclude=True)
    assert _names(board.product.get_groups_for_product("BOX-7")) == ["Boxes"]


def test_revision_filters(board: pyWATS, fake: FakeWATS) -> None:
    _groups(fake)
    board.product.create_revision("100100", "2.0")
    board.product.add_product_group_filter("Boards", "100100", revision="1.%")
    assert "Boards" in _names(board.product.get_groups_for_product("100100", revision="1.0"))
    assert "Boards" not in _names(board.product.get_groups_for_product("100100", revision="2.0"))
    assert "Boards" not in _names(board.product.get_groups_for_product("100100"))


def test_added_filters_show_in_the_product_groups(board: pyWATS, fake: FakeWATS) -> None:
    _groups(fake)
    board.product.add_product_group_filter("Boards", "PCB-%", revision="A", exclude=True)
    board.product.add_product_group_filter("Boards", "PCB-%", revision="A", exclude=True)
    boards = board.app.get_product_groups(include_filters=True)[1]
    assert boards.filters == [{"partNumber": "PCB-%", "exclude": True, "revision": "A"}]


def test_filter_for_an_unknown_group_is_not_found(board: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Product group 'Cables' was not found"):
        board.product.add_product_group_filter("Cables", "100100")


def test_groups_of_an_unknown_product_are_not_found(board: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Product 'NOPE' was not found"):
        board.product.get_groups_for_product("NOPE")
    with pytest.raises(pywats.NotFoundError, match="has no revision '9'"):
        board.product.get_groups_for_product("100100", revision="9")


def test_bad_exclude_flag_is_refused(fake: FakeWATS) -> None:
    query = [("productGroup", "All products"), ("partNumber", "X"), ("exclude", "maybe")]
    answer = call(fake, "POST", "/api/Product/ProductGroupFilter", query)
    assert answer.status == 400
    assert "exclude" in answer.json()["Message"]


# --- vendors ----------------------------------------------------------------------------------


def test_vendors_are_added_listed_and_deleted(api: pyWATS) -> None:
    assert api.product.get_vendors() == []
    api.product.save_vendors(["Acme", Vendor(vendor_name="Bolt & Co")])
    api.product.save_vendor("ACME")  # already there, in another letter case
    assert api.product.get_vendors() == [
        Vendor(vendor_name="Acme"),
        Vendor(vendor_name="Bolt & Co"),
    ]
    api.product.delete_vendor("acme")
    assert api.product.get_vendors() == [Vendor(vendor_name="Bolt & Co")]
    api.product.delete_vendors(["Bolt & Co"])
    assert api.product.get_vendors() == []


def test_deleting_an_unknown_vendor_deletes_none(api: pyWATS) -> None:
    api.product.save_vendors(["Acme"])
    with pytest.raises(pywats.NotFoundError, match="Vendor 'Nobody' was not found"):
        api.product.delete_vendors(["Acme", "Nobody"])
    with pytest.raises(pywats.NotFoundError, match="Vendor 'Nobody' was not found"):
        api.product.delete_vendor("Nobody")
    assert api.product.get_vendors() == [Vendor(vendor_name="Acme")]


def test_vendor_list_when_the_server_fails(api: pyWATS, fake: FakeWATS) -> None:
    fake.faults.add(Fault(kind="error", status=503, match="/api/Product/Vendors"))
    with pytest.raises(pywats.ServerError):
        api.product.get_vendors()


@pytest.mark.parametrize(
    ("operation", "argument", "match"),
    [
        ("save_vendors", [""], r"vendors\[0\] must not be empty"),
        ("save_vendors", [1], r"vendors\[0\] must be a string"),
        ("save_vendors", 5, "list of names"),
        ("save_vendor", None, "name must be a string"),
        ("delete_vendors", ["  "], r"vendors\[0\] must not be empty"),
        ("delete_vendor", "", "name must not be empty"),
    ],
)
def test_bad_vendor_names_are_not_sent(
    api: pyWATS, fake: FakeWATS, operation: str, argument: Any, match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        getattr(api.product, operation)(argument)
    assert not fake.log


def test_emulator_refuses_an_empty_vendor_name(fake: FakeWATS) -> None:
    answer = call(fake, "PUT", "/api/Product/Vendors", body=b'[{"vendorname": " "}]')
    assert answer.status == 400
    assert answer.json()["Message"] == "Item 0: VendorName: must not be empty."


def test_reset_forgets_boms_and_vendors(board: pyWATS, fake: FakeWATS) -> None:
    board.product.update_bom("100100", "1.0", COMPONENTS)
    board.product.save_vendor("Acme")
    fake.reset()
    assert product_state(fake).boms == {}
    assert board.product.get_vendors() == []
