"""``api.product`` against the emulator, blocking and async: products, revisions, queries.

BOMs, product groups and vendors are in ``test_product_bom.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import trio

import pywats
from pywats import AsyncWATS, RetryPolicy, pyWATS
from pywats._errors import InvalidArgumentError
from pywats.models.product import Product, ProductRevision, ProductState, ProductView
from pywats.odata import F
from pywats.testing import FakeWATS
from pywats.testing._faults import Fault
from pywats.testing._product_routes import product_state
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients
from tests.testing.contract import call

fake, api = both_clients()

XML_DATA = '<Root><Site Value="01"/><ChangedDate Value="2019-01-01 13:55:00"/></Root>'


def _products(api: pyWATS, *part_numbers: str) -> None:
    for pn in part_numbers:
        api.product.create_product(pn)


# --- products ---------------------------------------------------------------------------------


def test_created_product_is_found_by_get_and_by_query(api: pyWATS) -> None:
    saved = api.product.create_product(
        "PCB-1", name="Board", description="Main board", product_category_name="PCB"
    )
    assert saved.product_id is not None
    assert (saved.part_number, saved.name, saved.state, saved.non_serial) == (
        "PCB-1",
        "Board",
        ProductState.ACTIVE,
        False,
    )
    assert api.product.get_product("PCB-1") == saved
    assert api.product.get_product("pcb-1") == saved  # the server's collation ignores case
    assert api.product.get_products() == [
        ProductView(part_number="PCB-1", name="Board", category="PCB", non_serial=False, state=1)
    ]
    assert [p.part_number for p in api.product.get_products("PartNumber eq 'PCB-1'")] == ["PCB-1"]


def test_unknown_product_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Product 'NOPE' was not found") as caught:
        api.product.get_product("NOPE")
    assert caught.value.status == 404


def test_part_number_with_a_blank_or_question_mark_stays_one_segment(api: pyWATS) -> None:
    api.product.create_product("PCB 1?x")
    assert api.product.get_product("PCB 1?x").part_number == "PCB 1?x"


def test_product_tags_are_the_json_view_of_xml_data(api: pyWATS) -> None:
    saved = api.product.create_product("PCB-1", xml_data=XML_DATA)
    assert saved.xml_data == XML_DATA
    assert saved.tag_values == {"Site": "01", "ChangedDate": "2019-01-01 13:55:00"}


@pytest.mark.parametrize(
    ("xml_data", "reason"),
    [
        ("<Root><Site>", "not well-formed"),
        ("<Other/>", "root element must be <Root>"),
        ('<!DOCTYPE r [<!ENTITY a "b">]><Root/>', "DOCTYPE"),
    ],
)
def test_bad_xml_data_is_refused_naming_the_member(
    api: pyWATS, fake: FakeWATS, xml_data: str, reason: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=f"-> 400: xmlData: .*{reason}"):
        api.product.create_product("PCB-1", xml_data=xml_data)
    assert not product_state(fake).has_product("PCB-1")


def test_update_by_id_changes_the_product(api: pyWATS) -> None:
    saved = api.product.create_product("PCB-1", name="Board")
    saved.name = "Board v2"
    saved.state = ProductState.INACTIVE
    updated = api.product.update_product(saved)
    assert (updated.product_id, updated.name, updated.active) == (
        saved.product_id,
        "Board v2",
        False,
    )
    assert api.product.get_product("PCB-1").name == "Board v2"


def test_update_without_members_keeps_them(api: pyWATS) -> None:
    api.product.create_product("PCB-1", name="Board", description="Main", xml_data=XML_DATA)
    updated = api.product.update_product(Product(part_number="PCB-1", name="Renamed"))
    assert (updated.name, updated.description, updated.xml_data) == ("Renamed", "Main", XML_DATA)
    assert len(api.product.get_products()) == 1  # updated by part number, not added


def test_update_may_change_the_part_number(api: pyWATS, fake: FakeWATS) -> None:
    saved = api.product.create_product("PCB-1")
    api.product.create_revision("PCB-1", "A")
    saved.part_number = "PCB-2"
    api.product.update_product(saved)
    with pytest.raises(pywats.NotFoundError):
        api.product.get_product("PCB-1")
    moved = api.product.get_product("PCB-2")
    assert moved.revisions is not None
    assert [(r.part_number, r.revision) for r in moved.revisions] == [("PCB-2", "A")]
    assert product_state(fake).has_revision("PCB-2", "A")


def test_update_to_a_part_number_in_use_is_refused(api: pyWATS) -> None:
    first = api.product.create_product("PCB-1")
    api.product.create_product("PCB-2")
    first.part_number = "pcb-2"
    with pytest.raises(pywats.ValidationError, match="-> 400: partNumber: 'pcb-2' is already"):
        api.product.update_product(first)


def test_update_of_an_unknown_id_is_not_found(api: pyWATS) -> None:
    ghost = Product(part_number="PCB-1", product_id=uuid.uuid4())
    with pytest.raises(pywats.NotFoundError, match=f"productId {ghost.product_id}"):
        api.product.update_product(ghost)


def test_all_zero_id_means_a_new_product(api: pyWATS) -> None:
    # The description's own example id: "leave ProductId empty".
    saved = api.product.update_product(Product(part_number="PCB-1", product_id=uuid.UUID(int=0)))
    assert saved.product_id not in (None, uuid.UUID(int=0))


@pytest.mark.parametrize(
    ("product", "member"),
    [
        (Product(part_number="P" * 101), "partNumber"),
        (Product(part_number="PCB-1", state=5), "state"),
    ],
)
def test_invalid_product_is_refused_naming_the_member(
    api: pyWATS, fake: FakeWATS, product: Product, member: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=f"-> 400: {member}:"):
        api.product.update_product(product)
    assert product_state(fake).products == {}


def test_bulk_save_adds_and_updates(api: pyWATS) -> None:
    api.product.create_product("PCB-1", name="Old")
    saved = api.product.bulk_save_products(
        [Product(part_number="PCB-1", name="New"), Product(part_number="PCB-2", non_serial=True)]
    )
    assert [(p.part_number, p.name, p.non_serial) for p in saved] == [
        ("PCB-1", "New", False),
        ("PCB-2", None, True),
    ]
    assert [p.part_number for p in api.product.get_products()] == ["PCB-1", "PCB-2"]


def test_bulk_save_is_all_or_nothing(api: pyWATS, fake: FakeWATS) -> None:
    api.product.create_product("PCB-1", name="Old")
    batch = [Product(part_number="PCB-1", name="New"), Product(part_number="PCB-2", state=7)]
    with pytest.raises(pywats.ValidationError, match="-> 400: Item 1: state:"):
        api.product.bulk_save_products(batch)
    assert api.product.get_product("PCB-1").name == "Old"
    assert not product_state(fake).has_product("PCB-2")


def test_bulk_save_of_nothing(api: pyWATS) -> None:
    assert api.product.bulk_save_products([]) == []


# --- revisions --------------------------------------------------------------------------------


def test_revision_is_found_with_its_product(api: pyWATS) -> None:
    product = api.product.create_product("PCB-1")
    revision = api.product.create_revision(
        "PCB-1", "A", name="First", description="Prototype", xml_data=XML_DATA
    )
    assert (revision.product_id, revision.part_number, revision.revision) == (
        product.product_id,
        "PCB-1",
        "A",
    )
    assert revision.tag_values["Site"] == "01"
    assert api.product.get_revision("PCB-1", "a") == revision
    assert api.product.get_revisions("PCB-1") == [revision]
    assert api.product.get_product("PCB-1").revision("A") == revision


def test_revision_of_an_unknown_product_names_the_part_number(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="-> 400: PartNumber: product 'NOPE' does not"):
        api.product.create_revision("NOPE", "A")
    assert product_state(fake).revisions == {}


def test_revision_found_by_product_id(api: pyWATS) -> None:
    product = api.product.create_product("PCB-1")
    saved = api.product.update_revision(
        ProductRevision(revision="B", product_id=product.product_id)
    )
    assert saved.part_number == "PCB-1"


def test_revision_with_an_unknown_product_id(api: pyWATS) -> None:
    ghost = uuid.uuid4()
    with pytest.raises(
        pywats.ValidationError, match=f"-> 400: productId: no product has the id {ghost}"
    ):
        api.product.update_revision(ProductRevision(revision="B", product_id=ghost))


def test_revision_naming_no_product(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="-> 400: PartNumber: the revision must name"):
        api.product.update_revision(ProductRevision(revision="B"))


def test_revision_whose_product_id_and_part_number_disagree(api: pyWATS) -> None:
    first = api.product.create_product("PCB-1")
    api.product.create_product("PCB-2")
    wrong = ProductRevision(revision="A", product_id=first.product_id, part_number="PCB-2")
    with pytest.raises(pywats.ValidationError, match="-> 400: PartNumber: 'PCB-2' is not the part"):
        api.product.update_revision(wrong)


def test_unknown_revision_is_not_found(api: pyWATS) -> None:
    api.product.create_product("PCB-1")
    with pytest.raises(pywats.NotFoundError, match="'PCB-1' has no revision 'Z'"):
        api.product.get_revision("PCB-1", "Z")
    with pytest.raises(pywats.NotFoundError, match="Product 'PCB-9' was not found"):
        api.product.get_revision("PCB-9", "A")
    with pytest.raises(pywats.NotFoundError, match="Product 'PCB-9' was not found"):
        api.product.get_revisions("PCB-9")


def test_update_revision_by_id_renames_it(api: pyWATS, fake: FakeWATS) -> None:
    api.product.create_product("PCB-1")
    saved = api.product.create_revision("PCB-1", "A", name="First")
    saved.revision = "A1"
    renamed = api.product.update_revision(saved)
    assert (renamed.product_revision_id, renamed.revision, renamed.name) == (
        saved.product_revision_id,
        "A1",
        "First",
    )
    assert [r.revision for r in api.product.get_revisions("PCB-1")] == ["A1"]
    assert not product_state(fake).has_revision("PCB-1", "A")


def test_revision_rename_onto_another_is_refused(api: pyWATS) -> None:
    api.product.create_product("PCB-1")
    first = api.product.create_revision("PCB-1", "A")
    api.product.create_revision("PCB-1", "B")
    first.revision = "b"
    with pytest.raises(pywats.ValidationError, match="-> 400: revision: 'PCB-1' already has"):
        api.product.update_revision(first)


def test_update_of_an_unknown_revision_id_is_not_found(api: pyWATS) -> None:
    api.product.create_product("PCB-1")
    ghost = ProductRevision(revision="A", part_number="PCB-1", product_revision_id=uuid.uuid4())
    with pytest.raises(pywats.NotFoundError, match="productRevisionId"):
        api.product.update_revision(ghost)


def test_revision_id_of_another_product_is_refused(api: pyWATS) -> None:
    api.product.create_product("PCB-1")
    api.product.create_product("PCB-2")
    other = api.product.create_revision("PCB-2", "A")
    moved = ProductRevision(
        revision="A", part_number="PCB-1", product_revision_id=other.product_revision_id
    )
    with pytest.raises(pywats.ValidationError, match=r"-> 400: productRevisionId: .* belongs to"):
        api.product.update_revision(moved)


def test_bulk_revisions_are_all_or_nothing(api: pyWATS, fake: FakeWATS) -> None:
    api.product.create_product("PCB-1")
    good = ProductRevision(revision="A", part_number="PCB-1")
    bad = ProductRevision(revision="A", part_number="NOPE")
    with pytest.raises(pywats.ValidationError, match="-> 400: Item 1: PartNumber: product 'NOPE'"):
        api.product.bulk_save_revisions([good, bad])
    assert product_state(fake).revisions == {}
    saved = api.product.bulk_save_revisions(
        [good, ProductRevision(revision="B", part_number="PCB-1")]
    )
    assert [r.revision for r in saved] == ["A", "B"]
    assert [r.revision for r in api.product.get_revisions("PCB-1")] == ["A", "B"]


# --- queries ----------------------------------------------------------------------------------


def test_query_filters_by_category_and_state(api: pyWATS) -> None:
    api.product.create_product("PCB-1", product_category_name="PCB")
    api.product.create_product("BOX-1", product_category_name="Box")
    api.product.create_product("PCB-2", product_category_name="PCB", state=ProductState.INACTIVE)
    assert [p.part_number for p in api.product.get_products("Category eq 'PCB'")] == [
        "PCB-1",
        "PCB-2",
    ]
    assert [p.part_number for p in api.product.get_products(F.category == "pcb")] == [
        "PCB-1",
        "PCB-2",
    ]
    assert [p.part_number for p in api.product.get_active_products()] == ["BOX-1", "PCB-1"]


def test_query_pages_and_orders(api: pyWATS) -> None:
    _products(api, "C", "A", "B", "D")
    assert [p.part_number for p in api.product.get_products(top=2, skip=1)] == ["B", "C"]
    desc = api.product.get_products(orderby="partNumber desc", top=1)
    assert [p.part_number for p in desc] == ["D"]


def test_query_without_filter_returns_at_most_1000(fake: FakeWATS) -> None:
    st = product_state(fake)
    for n in range(1005):
        st.products[f"p{n:04}"] = {"productId": str(uuid.uuid4()), "partNumber": f"P{n:04}"}
    with pyWATS(BASE_URL, TOKEN, transport=fake, retry=RetryPolicy.never()) as sync:
        assert len(sync.product.get_products()) == 1000
        assert len(sync.product.get_products("startswith(partNumber,'P')")) == 1005
        assert len(list(sync.product.iter_products())) == 1005


def test_bad_filter_is_refused(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="query specified in the URI is not valid"):
        api.product.get_products("Colour eq 'red'")


def test_active_products_when_the_server_fails(api: pyWATS, fake: FakeWATS) -> None:
    fake.faults.add(Fault(kind="error", status=503, match="/api/Product/Query"))
    with pytest.raises(pywats.ServerError):
        api.product.get_active_products()


def test_iter_products_pages_through_everything(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as sync:
        _products(sync, "A", "B", "C", "D", "E")
        fake.log.clear()
        found = [p.part_number for p in sync.product.iter_products(page_size=2)]
        assert found == ["A", "B", "C", "D", "E"]
        queries = [e for e in fake.log if e.path == "/api/Product/Query"]
        assert len(queries) == 3  # 2 + 2 + 1: a short page ends it
        assert [p.part_number for p in sync.product.iter_products(F.part_number >= "D")] == [
            "D",
            "E",
        ]


def test_iter_products_is_lazy_and_async_on_async_wats(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as sync:
        _products(sync, "A", "B", "C", "D")

    async def main() -> list[str]:
        async with AsyncWATS(BASE_URL, TOKEN, transport=fake) as client:
            fake.log.clear()
            pages = client.product.iter_products(page_size=2)
            assert not fake.log  # nothing is asked before the first item is wanted
            return [p.part_number async for p in pages]

    assert trio.run(main) == ["A", "B", "C", "D"]
    assert len([e for e in fake.log if e.path == "/api/Product/Query"]) == 3  # 2 + 2 + 0


def _paging_ignored(top: bool, skip: bool, asked: list[str]) -> httpx.MockTransport:
    """A server holding P0..P4 that ignores ``$top`` and/or ``$skip``."""
    rows = [{"partNumber": f"P{n}"} for n in range(5)]

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url.params))
        start = 0 if skip else int(request.url.params.get("$skip", 0))
        end = None if top else start + int(request.url.params["$top"])
        return httpx.Response(200, json=rows[start:end])

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("top", "skip", "expected"),
    [
        (True, False, ["P0", "P1", "P2", "P3", "P4"]),  # everything on the first page
        (True, True, ["P0", "P1", "P2", "P3", "P4"]),
        (False, True, ["P0", "P1"]),  # the first page, again and again: all it can know
    ],
)
def test_iter_products_ends_when_the_server_ignores_paging(
    top: bool, skip: bool, expected: list[str]
) -> None:
    asked: list[str] = []
    transport = _paging_ignored(top, skip, asked)
    with pyWATS(BASE_URL, TOKEN, transport=transport) as sync:
        found = [p.part_number for p in sync.product.iter_products(page_size=2)]
    assert found == expected
    assert len(asked) <= 2, asked


def test_async_iter_products_ends_when_the_server_ignores_skip() -> None:
    asked: list[str] = []

    async def main() -> list[str]:
        transport = _paging_ignored(False, True, asked)
        async with AsyncWATS(BASE_URL, TOKEN, transport=transport) as client:
            return [p.part_number async for p in client.product.iter_products(page_size=2)]

    assert trio.run(main) == ["P0", "P1"]  # the same first page again: the server ignores $skip
    assert len(asked) == 2


def test_iter_products_with_a_bad_filter(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as sync:
        pages = sync.product.iter_products("Colour eq 'red'")
        with pytest.raises(pywats.ValidationError):
            next(pages)


# --- what the emulator accepts ----------------------------------------------------------------


def test_json_member_names_are_matched_in_any_case(fake: FakeWATS) -> None:
    answer = call(fake, "PUT", "/api/Product", body=b'{"PARTNUMBER": "PCB-1", "Name": "x"}')
    assert answer.status == 200, answer
    assert answer.json()["name"] == "x"
    revision = b'{"partNumber": "PCB-1", "REVISION": "A"}'
    assert call(fake, "PUT", "/api/Product/Revision", body=revision).status == 200


@pytest.mark.parametrize(
    ("body", "member"),
    [
        (b'{"partNumber": " "}', "partNumber: must not be empty"),
        (b'{"partNumber": 1}', "partNumber"),
        (b'{"name": "x"}', "partNumber"),
        (b'{"partNumber": "P", "productId": "zz"}', "productId"),
        (b'{"partNumber": "P", "nonSerial": "yes"}', "nonSerial"),
    ],
)
def test_malformed_product_body_names_the_member(fake: FakeWATS, body: bytes, member: str) -> None:
    answer = call(fake, "PUT", "/api/Product", body=body)
    assert answer.status == 400
    assert member in answer.json()["Message"]


def test_reset_forgets_the_products(api: pyWATS, fake: FakeWATS) -> None:
    api.product.create_product("PCB-1")
    fake.reset()
    assert api.product.get_products() == []


# --- bad arguments: named errors, nothing sent ----------------------------------------------

WRONG: Any = {"partNumber": "PCB-1"}


@pytest.mark.parametrize(
    ("operation", "args", "kwargs", "match"),
    [
        ("get_product", (123,), {}, "part_number must be a string, not int"),
        ("get_product", ("",), {}, "part_number must not be empty"),
        ("get_revision", ("PCB-1", None), {}, "revision must be a string"),
        ("get_revisions", (b"PCB-1",), {}, "part_number must be a string"),
        ("create_product", ("PCB-1",), {"state": 3}, "state must be"),
        ("create_product", ("PCB-1",), {"state": True}, "state must be"),
        ("create_revision", ("PCB-1", " "), {}, "revision must not be empty"),
        ("update_product", (WRONG,), {}, "must be a Product, not dict"),
        ("update_revision", (WRONG,), {}, "must be a ProductRevision, not dict"),
        ("update_revision", (ProductRevision(revision=""),), {}, "revision.revision"),
        ("update_product", (Product(part_number=" "),), {}, "product.part_number must not"),
        ("bulk_save_products", ("PCB-1",), {}, "must be a list of Product"),
        ("bulk_save_products", ([WRONG],), {}, r"products\[0\] must be a Product"),
        ("bulk_save_revisions", ([Product(part_number="x")],), {}, r"revisions\[0\]"),
        ("get_products", (), {"top": 0}, "top is out of range"),
        ("get_products", (), {"top": 10_001}, "top is out of range"),
        ("get_products", (), {"skip": -1}, "skip is out of range"),
        ("get_products", (), {"top": "5"}, "top must be an int"),
        ("get_products", (42,), {}, "filter must be an OData string"),
        ("iter_products", (), {"page_size": 0}, "top is out of range"),
    ],
)
def test_bad_arguments_raise_before_anything_is_sent(
    api: pyWATS, fake: FakeWATS, operation: str, args: tuple[Any, ...], kwargs: Any, match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match) as caught:
        getattr(api.product, operation)(*args, **kwargs)
    assert isinstance(caught.value, pywats.PyWATSError)
    assert isinstance(caught.value, TypeError | ValueError)
    assert not fake.log
