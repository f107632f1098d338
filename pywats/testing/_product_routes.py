"""The emulator's ``product`` routes:

Products, revisions, BOMs, product groups and vendors (tag Product).

:class:`ProductState` is what the other domains' routes read (a unit's product, a revision's
BOM for unit verification): keep its documented methods when the routes grow.

How the emulator behaves where the server's description leaves it open:

* Products are keyed by part number, revisions by part number and revision, both compared
  case-insensitively (SQL Server's collation). A product ``PUT`` without ``productId`` updates
  the product with that part number if there is one; a revision ``PUT`` without
  ``productRevisionId`` likewise.
* On update, members sent as ``null`` (or left out) keep their stored value.
* JSON member names are matched case-insensitively, as the server's JSON.NET does.
* A revision's BOM is shown inside its ``xmlData`` (``<Root>`` holds the WSBF ``<BOM>``); a
  revision ``PUT`` whose ``xmlData`` holds a ``<BOM>`` sets the BOM too.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

import msgspec

from pywats.formats import wsbf
from pywats.models.product import Bom, BomComponent, Product, ProductRevision
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response
from pywats.testing._odata import ODataError, apply, parse_query

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = [
    "MAX_NAME",
    "BomLine",
    "ProductState",
    "add_product_routes",
    "decode_members",
    "product_state",
]

_T = TypeVar("_T")

MAX_NAME = 100
"""The longest part number or revision accepted (the looser of the known limits)."""

_NIL = uuid.UUID(int=0)
_VIEW_FIELDS = ("partNumber", "name", "category", "nonSerial", "state")
_MAX_TOP = 10_000
_DEFAULT_TOP = 1000  # the server's own default when no $filter is given


@dataclass(frozen=True)
class BomLine:
    """One line of a revision's bill of materials: a child part and how many of it."""

    part_number: str
    revision: str | None
    quantity: int = 1
    description: str | None = None
    reference: str | None = None  # component references, ";"-separated
    function_block: str | None = None


@dataclass
class ProductState:
    """Every product the emulator was told about (``emu.domain_state("product", …)``).

    Records are dicts of the members the server shows (wire names, ``None`` left out), with
    ``tags`` (``[{"key": …, "value": …}]``) kept up to date from ``xmlData``; a revision's BOM
    is kept in :attr:`boms`, not in its record's ``xmlData``.
    """

    # part number (case-insensitive key: casefolded) -> product record
    products: dict[str, dict[str, object]] = field(default_factory=dict)
    # (part number casefolded, revision casefolded) -> revision record
    revisions: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    # (part number casefolded, revision casefolded) -> the revision's BOM
    boms: dict[tuple[str, str], list[BomLine]] = field(default_factory=dict)
    # (part number casefolded, revision casefolded) -> the BOM's own Desc attribute
    bom_descriptions: dict[tuple[str, str], str | None] = field(default_factory=dict)
    vendors: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def has_product(self, part_number: str) -> bool:
        """Whether the product exists."""
        return part_number.casefold() in self.products

    def has_revision(self, part_number: str, revision: str) -> bool:
        """Whether the product's revision exists."""
        return (part_number.casefold(), revision.casefold()) in self.revisions

    def bom(self, part_number: str, revision: str) -> list[BomLine]:
        """The revision's BOM (empty when it has none)."""
        return list(self.boms.get((part_number.casefold(), revision.casefold()), []))

    def product(self, part_number: str) -> dict[str, object] | None:
        """The product record with this part number, or ``None``."""
        return self.products.get(part_number.casefold())

    def revision(self, part_number: str, revision: str) -> dict[str, object] | None:
        """The revision record, or ``None``."""
        return self.revisions.get((part_number.casefold(), revision.casefold()))

    def revisions_of(self, part_number: str) -> list[dict[str, object]]:
        """The product's revision records, in the order they were added."""
        folded = part_number.casefold()
        return [r for (pn, _), r in self.revisions.items() if pn == folded]

    def set_bom(self, bom: Bom) -> None:
        """Store a revision's BOM (the revision is not checked here)."""
        key = (bom.part_number.casefold(), bom.revision.casefold())
        self.boms[key] = [
            BomLine(
                part_number=c.part_number,
                revision=c.revision,
                quantity=c.quantity,
                description=c.description,
                reference=c.reference,
                function_block=c.function_block,
            )
            for c in bom.components
        ]
        self.bom_descriptions[key] = bom.description

    def bom_document(self, part_number: str, revision: str) -> Bom | None:
        """The revision's BOM as a WSBF model, or ``None`` when it has none."""
        key = (part_number.casefold(), revision.casefold())
        lines = self.boms.get(key)
        record = self.revisions.get(key)
        if lines is None or record is None:
            return None
        return Bom(
            part_number=str(record["PartNumber"]),
            revision=str(record["revision"]),
            description=self.bom_descriptions.get(key),
            components=[
                BomComponent(
                    part_number=line.part_number,
                    revision=line.revision,
                    quantity=line.quantity,
                    description=line.description,
                    reference=line.reference,
                    function_block=line.function_block,
                )
                for line in lines
            ],
        )


def product_state(emu: FakeWATS) -> ProductState:
    """The emulator's products."""
    return emu.domain_state("product", ProductState)


def add_product_routes(router: Router) -> None:
    """Register the product routes on ``router``."""
    from pywats.testing._product_extra_routes import add_extra_routes

    # Literal routes first: GET /api/Product/Query must not be read as a part number.
    router.add("GET", "/api/Product/Query", query_products)
    router.add("PUT", "/api/Product", put_product)
    router.add("PUT", "/api/Product/Revision", put_revision)
    router.add("PUT", "/api/Products", put_products)
    router.add("PUT", "/api/Products/Revisions", put_revisions)
    add_extra_routes(router)
    router.add("GET", "/api/Product/{partNumber}", get_product)
    router.add("GET", "/api/Product/{partNumber}/{revision}", get_revision)


# --- decoding ---------------------------------------------------------------------------------


def _canonical(value: Any, cls: type[Any]) -> Any:
    """``value`` with the members of ``cls`` renamed to their exact wire names."""
    if not isinstance(value, dict):
        return value
    names = {f.encode_name.casefold(): f.encode_name for f in msgspec.structs.fields(cls)}
    out = {names.get(str(k).casefold(), k): v for k, v in value.items()}
    if cls is Product and isinstance(out.get("revisions"), list):
        out["revisions"] = [_canonical(r, ProductRevision) for r in out["revisions"]]
    return out


def decode_members(body: bytes, cls: type[_T], prefix: str = "The request is invalid.") -> _T:
    """Decode a JSON body as ``cls`` (a Struct or ``list[Struct]``), member names in any case.

    Raises:
        HTTPFailure: 400 naming the member that is wrong.
    """
    raw: Any = decode_json(body, Any, prefix)
    canonical: Any = raw
    if get_origin(cls) is list:
        if isinstance(raw, list):
            canonical = [_canonical(v, get_args(cls)[0]) for v in raw]
    else:
        canonical = _canonical(raw, cls)
    try:
        return msgspec.convert(canonical, cls)
    except msgspec.ValidationError as exc:
        raise HTTPFailure(400, f"{prefix} {exc}") from exc


# --- checks -----------------------------------------------------------------------------------


def _id(value: uuid.UUID | None) -> uuid.UUID | None:
    """An id as sent, with the all-zero id (the description's example) meaning none."""
    return None if value is None or value == _NIL else value


def _identity(value: str, member: str) -> str:
    if not value.strip():
        raise HTTPFailure(400, f"{member}: must not be empty.")
    if len(value) > MAX_NAME:
        raise HTTPFailure(400, f"{member}: at most {MAX_NAME} characters, not {len(value)}.")
    return value


def _check_state(value: int | None) -> None:
    if value is not None and value not in (0, 1):
        raise HTTPFailure(400, f"state: must be 1 (active) or 0 (inactive), not {value}.")


def _check_xml_data(value: str | None) -> Bom | None:
    """Check an ``xmlData`` document; return the BOM it holds, if any."""
    if value is None or not value.strip():
        return None
    try:
        root = wsbf.parse_xml(wsbf.strip_declaration(value), "xmlData")
        if root.tag != "Root":
            raise HTTPFailure(400, f"xmlData: the root element must be <Root>, not <{root.tag}>.")
        return wsbf.from_xml_data(value)
    except wsbf.BomFormatError as exc:
        raise HTTPFailure(400, f"xmlData: {exc}") from exc


@contextmanager
def _transaction(st: ProductState) -> Iterator[None]:
    """All or nothing: a bulk request that fails part-way leaves the state as it was."""
    with st.lock:
        saved = copy.deepcopy((st.products, st.revisions, st.boms, st.bom_descriptions))
        try:
            yield
        except BaseException:
            st.products, st.revisions, st.boms, st.bom_descriptions = saved
            raise


# --- what the server shows ----------------------------------------------------------------------


def _tags(xml_data: object) -> list[dict[str, str]]:
    """The read-only JSON view of an ``xmlData``: its elements that carry a ``Value``."""
    if not isinstance(xml_data, str) or not xml_data.strip():
        return []
    try:
        root = wsbf.parse_xml(wsbf.strip_declaration(xml_data), "xmlData")
    except wsbf.BomFormatError:
        return []
    out = []
    for child in root:
        if not isinstance(child.tag, str):
            continue
        value = next((v for k, v in child.attrib.items() if k.lower() == "value"), None)
        if value is not None:
            out.append({"key": child.tag.rsplit("}", 1)[-1], "value": value})
    return out


def revision_view(st: ProductState, record: dict[str, object]) -> dict[str, object]:
    """A revision as the server shows it: its BOM inside ``xmlData``."""
    out = dict(record)
    bom = st.bom_document(str(record["PartNumber"]), str(record["revision"]))
    stored = record.get("xmlData")
    if bom is not None:
        out["xmlData"] = wsbf.replace_in_xml_data(stored if isinstance(stored, str) else None, bom)
    return out


def product_view(st: ProductState, record: dict[str, object]) -> dict[str, object]:
    """A product as the server shows it, with its revisions and tags."""
    out = dict(record)
    out["revisions"] = [revision_view(st, r) for r in st.revisions_of(str(record["partNumber"]))]
    return out


def _row(record: dict[str, object]) -> dict[str, object]:
    return {
        "partNumber": record["partNumber"],
        "name": record.get("name"),
        "category": record.get("productCategoryName"),
        "nonSerial": record.get("nonSerial", False),
        "state": record.get("state", 1),
    }


def _product_by_id(st: ProductState, product_id: uuid.UUID) -> dict[str, object] | None:
    wanted = str(product_id)
    return next((p for p in st.products.values() if p["productId"] == wanted), None)


# --- saving -----------------------------------------------------------------------------------


def _merge(record: dict[str, object], sent: dict[str, object]) -> None:
    for key, value in sent.items():
        if value is not None:
            record[key] = value
    record["tags"] = _tags(record.get("xmlData"))  # other domains read them (PhaseFinalized)


def _move_revision(st: ProductState, old: tuple[str, str], new: tuple[str, str]) -> None:
    """Re-key a revision and its BOM (a product or revision renamed)."""
    st.revisions[new] = st.revisions.pop(old)
    if old in st.boms:
        st.boms[new] = st.boms.pop(old)
    if old in st.bom_descriptions:
        st.bom_descriptions[new] = st.bom_descriptions.pop(old)


def _rename_product(st: ProductState, old: str, new: str) -> None:
    """Move a product and everything keyed by its part number to a new part number."""
    old_key, new_key = old.casefold(), new.casefold()
    st.products[new_key] = st.products.pop(old_key)
    for key in [k for k in st.revisions if k[0] == old_key]:
        _move_revision(st, key, (new_key, key[1]))
    for (pn, _), record in st.revisions.items():
        if pn == new_key:
            record["PartNumber"] = new


def save_product(st: ProductState, product: Product) -> dict[str, object]:
    """Add or update one product (the caller holds ``st.lock``); returns its record.

    Raises:
        HTTPFailure: 400 for a bad member (named), 404 for an unknown ``productId``.
    """
    part_number = _identity(product.part_number, "partNumber")
    _check_state(product.state)
    _check_xml_data(product.xml_data)  # a BOM in a product's xmlData is kept as it is
    product_id = _id(product.product_id)
    if product_id is not None:
        record = _product_by_id(st, product_id)
        if record is None:
            raise HTTPFailure(404, f"Product with productId {product_id} was not found.")
    else:
        record = st.product(part_number)
    category_id = _id(product.product_category_id)
    if category_id is None and product.product_category_name:
        # Categories are managed elsewhere (internal API): a name gets a stable id of its own.
        category_id = uuid.uuid5(
            uuid.NAMESPACE_URL,
            f"pywats-emulator/category/{product.product_category_name.casefold()}",
        )
    sent: dict[str, object] = {
        "partNumber": part_number,
        "name": product.name,
        "description": product.description,
        "nonSerial": product.non_serial,
        "state": product.state,
        "xmlData": product.xml_data,
        "productCategoryId": str(category_id) if category_id else None,
        "productCategoryName": product.product_category_name,
    }
    if record is None:
        record = {"productId": str(uuid.uuid4()), "nonSerial": False, "state": 1}
        _merge(record, sent)
        st.products[part_number.casefold()] = record
        return record
    old = str(record["partNumber"])
    if old.casefold() != part_number.casefold():
        if st.has_product(part_number):
            raise HTTPFailure(
                400, f"partNumber: '{part_number}' is already the part number of another product."
            )
        _rename_product(st, old, part_number)
    _merge(record, sent)
    return record


def _owner(st: ProductState, revision: ProductRevision) -> dict[str, object]:
    """The product a revision belongs to, from its ``productId`` or ``PartNumber``."""
    product_id = _id(revision.product_id)
    by_id = _product_by_id(st, product_id) if product_id is not None else None
    if product_id is not None and by_id is None:
        raise HTTPFailure(400, f"productId: no product has the id {product_id}.")
    if revision.part_number is not None and revision.part_number.strip():
        by_pn = st.product(revision.part_number)
        if by_pn is None:
            raise HTTPFailure(
                400,
                f"PartNumber: product '{revision.part_number}' does not exist; "
                "add it first (PUT /api/Product).",
            )
        if by_id is not None and by_id is not by_pn:
            raise HTTPFailure(
                400,
                f"PartNumber: '{revision.part_number}' is not the part number of product "
                f"{product_id} ('{by_id['partNumber']}').",
            )
        return by_pn
    if by_id is None:
        raise HTTPFailure(
            400, "PartNumber: the revision must name its product (PartNumber or productId)."
        )
    return by_id


def save_revision(st: ProductState, revision: ProductRevision) -> dict[str, object]:
    """Add or update one revision (the caller holds ``st.lock``); returns its record.

    Raises:
        HTTPFailure: 400 for a bad member or an unknown product (named), 404 for an unknown
            ``productRevisionId``.
    """
    name = _identity(revision.revision, "revision")
    _check_state(revision.state)
    bom = _check_xml_data(revision.xml_data)
    product = _owner(st, revision)
    part_number = str(product["partNumber"])
    pn_key = part_number.casefold()
    revision_id = _id(revision.product_revision_id)
    record: dict[str, object] | None
    if revision_id is not None:
        wanted = str(revision_id)
        key, record = next(
            ((k, r) for k, r in st.revisions.items() if r["productRevisionId"] == wanted),
            (None, None),
        )
        if record is None or key is None:
            raise HTTPFailure(
                404, f"Product revision with productRevisionId {revision_id} was not found."
            )
        if key[0] != pn_key:
            raise HTTPFailure(
                400,
                f"productRevisionId: revision {revision_id} belongs to product "
                f"'{record['PartNumber']}', not '{part_number}'.",
            )
        if key[1] != name.casefold() and (pn_key, name.casefold()) in st.revisions:
            raise HTTPFailure(400, f"revision: '{part_number}' already has a revision '{name}'.")
    else:
        key = (pn_key, name.casefold())
        record = st.revisions.get(key)
    # A revision read back holds its BOM under the name it had: renaming it keeps the BOM.
    names = {name.casefold(), key[1]}
    if bom is not None and (
        bom.part_number.casefold() != pn_key or bom.revision.casefold() not in names
    ):
        raise HTTPFailure(
            400,
            f"xmlData: the BOM is for {bom.part_number} revision {bom.revision}, "
            f"not {part_number} revision {name}.",
        )
    if key[1] != name.casefold():  # checked above: nothing is changed before the checks
        _move_revision(st, key, (pn_key, name.casefold()))
    xml_data = revision.xml_data
    if bom is not None:
        xml_data = wsbf.replace_in_xml_data(xml_data, None)  # the BOM is kept on its own
    sent: dict[str, object] = {
        "revision": name,
        "name": revision.name,
        "description": revision.description,
        "state": revision.state,
        "xmlData": xml_data,
    }
    if record is None:
        record = {
            "productRevisionId": str(uuid.uuid4()),
            "productId": product["productId"],
            "PartNumber": part_number,
            "state": 1,
        }
        st.revisions[(pn_key, name.casefold())] = record
    _merge(record, sent)
    if bom is not None:
        st.set_bom(msgspec.structs.replace(bom, part_number=part_number, revision=name))
    return record


# --- handlers ---------------------------------------------------------------------------------


def query_products(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Product/Query``: OData ``$filter``/``$top`` (and ``$skip``, ``$orderby``)."""
    params = {k: v for k, v in req.query if k.startswith("$")}
    filtered = any(k.lower() == "$filter" and v.strip() for k, v in params.items())
    try:
        query = parse_query(
            params,
            properties=_VIEW_FIELDS,
            orderable=_VIEW_FIELDS,
            expandable=(),
            default_top=None if filtered else _DEFAULT_TOP,
            max_top=_MAX_TOP,
            default_orderby=[("partNumber", False)],
        )
        st = product_state(emu)
        with st.lock:
            rows = [_row(p) for p in st.products.values()]
        found = apply(query, rows)
    except ODataError as exc:
        raise HTTPFailure(400, f"The query specified in the URI is not valid. {exc}") from exc
    return json_response(found)


def get_product(emu: FakeWATS, req: Request, partNumber: str) -> Response:
    """``GET /api/Product/{partNumber}``: the product with its revisions."""
    st = product_state(emu)
    with st.lock:
        record = st.product(partNumber)
        if record is None:
            raise HTTPFailure(404, f"Product '{partNumber}' was not found.")
        return json_response(product_view(st, record))


def get_revision(emu: FakeWATS, req: Request, partNumber: str, revision: str) -> Response:
    """``GET /api/Product/{partNumber}/{revision}``."""
    st = product_state(emu)
    with st.lock:
        if not st.has_product(partNumber):
            raise HTTPFailure(404, f"Product '{partNumber}' was not found.")
        record = st.revision(partNumber, revision)
        if record is None:
            raise HTTPFailure(404, f"Product '{partNumber}' has no revision '{revision}'.")
        return json_response(revision_view(st, record))


def put_product(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Product``: add (no ``productId``) or update a product."""
    product = decode_members(req.body, Product, "The product is invalid.")
    st = product_state(emu)
    with st.lock:
        return json_response(product_view(st, save_product(st, product)))


def put_revision(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Product/Revision``: add (no ``productRevisionId``) or update a revision."""
    revision = decode_members(req.body, ProductRevision, "The revision is invalid.")
    st = product_state(emu)
    with st.lock:
        return json_response(revision_view(st, save_revision(st, revision)))


def _item_failure(n: int, exc: HTTPFailure) -> HTTPFailure:
    return HTTPFailure(exc.status, f"Item {n}: {exc.message}")


def put_products(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Products``: add or update many products, all or none."""
    products = decode_members(req.body, list[Product], "The products are invalid.")
    st = product_state(emu)
    saved = []
    with _transaction(st):
        for n, product in enumerate(products):
            try:
                saved.append(product_view(st, save_product(st, product)))
            except HTTPFailure as exc:
                raise _item_failure(n, exc) from exc
    return json_response(saved)


def put_revisions(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Products/Revisions``: add or update many revisions, all or none."""
    revisions = decode_members(req.body, list[ProductRevision], "The revisions are invalid.")
    st = product_state(emu)
    saved = []
    with _transaction(st):
        for n, revision in enumerate(revisions):
            try:
                saved.append(revision_view(st, save_revision(st, revision)))
            except HTTPFailure as exc:
                raise _item_failure(n, exc) from exc
    return json_response(saved)
