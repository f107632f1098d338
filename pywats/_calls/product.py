"""``api.product``: products, revisions, BOMs, product groups and vendors (tag Product).

Method names follow the predecessor client where it had the same operation (``get_product``,
``create_revision``, ``update_bom``, ``get_vendors``…), so scripts move over; parameters follow the
server's description.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import IO, Any, overload

import httpx
import msgspec

from pywats._call import Call, Flow, UnexpectedResponseError, json_call, segment
from pywats._client import Client
from pywats._domain import Async, Domain, ModeT, Sync, operation
from pywats._errors import InvalidArgumentError
from pywats.models.app import ProductGroup
from pywats.models.product import (
    Bom,
    BomComponent,
    Product,
    ProductRevision,
    ProductState,
    ProductView,
    Vendor,
)
from pywats.odata import Expr

__all__ = ["MAX_BOM_BYTES", "MAX_PRODUCT_TOP", "ProductDomain"]

MAX_BOM_BYTES = 30_000_000
"""The largest WSBF document sent: IIS's default request limit, which WATS servers run behind."""

MAX_PRODUCT_TOP = 10_000
"""The most products asked for in one product query."""

BomSource = Bom | bytes | str | os.PathLike[str] | IO[bytes]
"""A BOM to upload: a :class:`Bom`, WSBF bytes or text, a file path or a binary file object."""

_ANY = msgspec.json.Decoder()


# --- argument checks -------------------------------------------------------------------------


def _name(value: object, what: str) -> str:
    """A part number, revision or name that must be a non-empty string."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{what} must not be empty")
    return value


def _optional_name(value: object, what: str) -> str | None:
    return None if value is None else _name(value, what)


def _instances(values: object, cls: type[Any], what: str) -> list[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidArgumentError(f"{what} must be a list of {cls.__name__}")
    for n, value in enumerate(values):
        if not isinstance(value, cls):
            raise InvalidArgumentError(
                f"{what}[{n}] must be a {cls.__name__}, not {type(value).__name__}"
            )
    return list(values)


def _vendors(names: object) -> list[Vendor]:
    if isinstance(names, str | Vendor):
        names = [names]
    if not isinstance(names, Sequence):
        raise InvalidArgumentError("vendors must be a list of names or Vendor objects")
    out: list[Vendor] = []
    for n, item in enumerate(names):
        name = item.vendor_name if isinstance(item, Vendor) else item
        out.append(Vendor(vendor_name=_name(name, f"vendors[{n}]")))
    return out


def _state(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1):
        raise InvalidArgumentError(
            f"state must be ProductState.ACTIVE (1) or ProductState.INACTIVE (0), not {value!r}"
        )
    return int(value)


# --- answers ---------------------------------------------------------------------------------


def _ignore(response: httpx.Response) -> None:
    """The server answers writes whose result the description leaves open: nothing to return."""


def _saved_list(result: Any) -> Any:
    """Parse a bulk answer (``result`` is ``list[Item]``): the items the server lists, or ``[]``."""

    def parse(response: httpx.Response) -> list[Any]:
        if not response.content.strip():
            return []
        try:
            value = _ANY.decode(response.content)
            if not isinstance(value, list):
                return []  # a summary object or ``true``: the description leaves it open
            items: list[Any] = msgspec.convert(value, result)
            return items
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise UnexpectedResponseError(
                f"answer does not match the expected shape: {exc}",
                method=response.request.method,
                url=str(response.request.url),
            ) from exc

    return parse


def _bulk(path: str, body: list[Any], result: Any) -> Call[Any]:
    return Call(
        method="PUT",
        path=path,
        parse=_saved_list(result),
        content=msgspec.json.encode(body),
        content_type="application/json",
    )


def _write(method: str, path: str, *, body: Any = msgspec.UNSET, params: Any = None) -> Call[None]:
    content = msgspec.json.encode(body) if body is not msgspec.UNSET else None
    return Call(
        method=method,
        path=path,
        parse=_ignore,
        params=params,
        content=content,
        content_type="application/json" if content is not None else None,
    )


# --- queries ---------------------------------------------------------------------------------


def _query(
    filter: str | Expr | None,  # noqa: A002 - OData's own name
    top: int | None,
    skip: int | None,
    orderby: str | None,
) -> Call[list[ProductView]]:
    if filter is not None and not isinstance(filter, str | Expr):
        raise InvalidArgumentError(
            f"filter must be an OData string or an Expr, not {type(filter).__name__}"
        )
    for what, value, low in (("top", top, 1), ("skip", skip, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(f"{what} must be an int, not {type(value).__name__}")
        if not low <= value <= (MAX_PRODUCT_TOP if what == "top" else 2**31 - 1):
            raise InvalidArgumentError(f"{what} is out of range: {value}")
    if orderby is not None and not isinstance(orderby, str):
        raise InvalidArgumentError(f"orderby must be a string, not {type(orderby).__name__}")
    return json_call(
        "GET",
        "/api/Product/Query",
        list[ProductView],
        params={
            "$filter": str(filter) if filter is not None else None,
            "$top": top,
            "$skip": skip,
            "$orderby": orderby,
        },
        empty=[],
    )


def _pages(
    filter: str | Expr | None,  # noqa: A002 - OData's own name
    page_size: int,
) -> Iterator[Call[list[ProductView]]]:
    """The page calls of a product query, while the caller reports each page's length."""
    skip = 0
    while True:
        yield _query(filter, page_size, skip or None, None)
        skip += page_size


def _product_call(part_number: str) -> Call[Product]:
    pn = _name(part_number, "part_number")
    return json_call("GET", f"/api/Product/{segment(pn)}", Product)


def _revision_call(part_number: str, revision: str) -> Call[ProductRevision]:
    pn = _name(part_number, "part_number")
    rev = _name(revision, "revision")
    return json_call("GET", f"/api/Product/{segment(pn)}/{segment(rev)}", ProductRevision)


# --- BOM documents ---------------------------------------------------------------------------


def _read_source(source: os.PathLike[str] | IO[bytes]) -> bytes:
    """The bytes of a path or binary file, refusing more than :data:`MAX_BOM_BYTES`."""
    if isinstance(source, os.PathLike):
        try:
            with open(source, "rb") as handle:
                return _read_source(handle)
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read the BOM file {source!s}: {exc}") from exc
    data = source.read(MAX_BOM_BYTES + 1)
    if not isinstance(data, bytes):
        raise InvalidArgumentError("a BOM file object must be opened in binary mode ('rb')")
    return data


def _wsbf_bytes(source: object) -> bytes:
    """The WSBF document to send, checked: a readable BOM, at most :data:`MAX_BOM_BYTES`."""
    from pywats.formats import wsbf  # ElementTree loads when XML is first handled

    if isinstance(source, Bom):
        data = wsbf.dumps(source)
    elif isinstance(source, str):
        # Sent as UTF-8: an XML declaration naming another encoding would then lie.
        data = wsbf.strip_declaration(source).encode("utf-8", "surrogatepass")
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, os.PathLike) or hasattr(source, "read"):
        data = _read_source(source)  # type: ignore[arg-type]
    else:
        raise InvalidArgumentError(
            "a BOM must be a Bom, WSBF bytes or text, a path or a binary file object, "
            f"not {type(source).__name__}"
        )
    if len(data) > MAX_BOM_BYTES:
        raise InvalidArgumentError(
            f"the BOM document is larger than {MAX_BOM_BYTES:,} bytes, the server's request limit"
        )
    wsbf.loads(data)  # raises BomFormatError naming the problem, before anything is sent
    return data


def _bom_call(data: bytes) -> Call[None]:
    return Call(
        method="PUT",
        path="/api/Product/BOM",
        parse=_ignore,
        content=data,
        content_type="application/xml",
    )


class ProductDomain(Domain[ModeT]):
    """Products, revisions, BOMs, product groups and vendors (tag Product)."""

    # --- products ----------------------------------------------------------------------------

    @operation
    def get_products(
        self,
        filter: str | Expr | None = None,  # noqa: A002 - OData's own name
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | None = None,
    ) -> Call[list[ProductView]]:
        """Query products (headlines: part number, name, category, non-serial, state).

        Without a ``filter`` the server returns at most 1000; :meth:`iter_products` pages
        through all of them.

        Args:
            filter: an OData ``$filter``, e.g. ``F.part_number == "PCB-1"`` or
                ``"Category eq 'PCB'"`` (names are matched case-insensitively).
            top: at most this many.
            skip: leave out this many first.
            orderby: e.g. ``"partNumber desc"``.
        """
        return _query(filter, top, skip, orderby)

    @operation
    def get_active_products(self) -> Call[list[ProductView]]:
        """The active products (``state eq 1``)."""
        return _query(f"state eq {int(ProductState.ACTIVE)}", None, None, None)

    @overload
    def iter_products(
        self: ProductDomain[Sync],
        filter: str | Expr | None = None,
        *,
        page_size: int = 1000,
    ) -> Iterator[ProductView]: ...

    @overload
    def iter_products(
        self: ProductDomain[Async],
        filter: str | Expr | None = None,
        *,
        page_size: int = 1000,
    ) -> AsyncIterator[ProductView]: ...

    def iter_products(
        self,
        filter: str | Expr | None = None,  # noqa: A002 - OData's own name
        *,
        page_size: int = 1000,
    ) -> Iterator[ProductView] | AsyncIterator[ProductView]:
        """Every matching product, fetched a page (``$top``/``$skip``) at a time as you iterate.

        A plain iterator on ``pyWATS``, an async one on ``AsyncWATS`` (``async for``).
        """
        _query(filter, page_size, None, None)  # check the arguments now, not at the first page
        if isinstance(self._client, Client):
            return self._iter_sync(filter, page_size)
        return self._iter_async(filter, page_size)

    def _iter_sync(
        self,
        filter: str | Expr | None,  # noqa: A002
        page_size: int,
    ) -> Iterator[ProductView]:
        client = self._client
        assert isinstance(client, Client)
        for call in _pages(filter, page_size):
            page = client.run(call)
            yield from page[:page_size]
            if len(page) < page_size:
                return

    async def _iter_async(
        self,
        filter: str | Expr | None,  # noqa: A002
        page_size: int,
    ) -> AsyncIterator[ProductView]:
        client = self._client
        assert not isinstance(client, Client)
        for call in _pages(filter, page_size):
            page = await client.run(call)
            for product in page[:page_size]:
                yield product
            if len(page) < page_size:
                return

    @operation
    def get_product(self, part_number: str) -> Call[Product]:
        """The product with this part number, with its revisions and tags.

        Raises:
            NotFoundError: no product has this part number.
        """
        return _product_call(part_number)

    @operation
    def create_product(
        self,
        part_number: str,
        *,
        name: str | None = None,
        description: str | None = None,
        non_serial: bool = False,
        state: int = ProductState.ACTIVE,
        xml_data: str | None = None,
        product_category_name: str | None = None,
    ) -> Call[Product]:
        """Add a product and return it as saved (with its new ``product_id``).

        The server adds a product when no ``productId`` is sent; the emulator updates the one
        with this part number if it exists.

        Raises:
            ValidationError: the server refused a field (the message names it).
        """
        product = Product(
            part_number=_name(part_number, "part_number"),
            name=name,
            description=description,
            non_serial=bool(non_serial),
            state=_state(state),
            xml_data=xml_data,
            product_category_name=product_category_name,
        )
        return json_call("PUT", "/api/Product", Product, body=product)

    @operation
    def update_product(self, product: Product) -> Call[Product]:
        """Save a product (as read with :meth:`get_product` and changed) and return it as saved.

        With ``product_id`` set the server updates that product (the part number may change);
        without it, it adds one. ``revisions`` and ``tags`` are not saved here.

        Raises:
            NotFoundError: no product has that ``product_id``.
            ValidationError: the server refused a field (the message names it).
        """
        if not isinstance(product, Product):
            raise InvalidArgumentError(f"product must be a Product, not {type(product).__name__}")
        _name(product.part_number, "product.part_number")
        return json_call("PUT", "/api/Product", Product, body=product)

    @operation
    def bulk_save_products(self, products: Sequence[Product]) -> Call[list[Product]]:
        """Add or update many products at once (``PUT /api/Products``, for ERP integration).

        Returns the saved products when the server lists them, otherwise an empty list.
        """
        items = _instances(products, Product, "products")
        for n, product in enumerate(items):
            _name(product.part_number, f"products[{n}].part_number")
        saved: Call[list[Product]] = _bulk("/api/Products", items, list[Product])
        return saved

    # --- revisions ---------------------------------------------------------------------------

    @operation
    def get_revision(self, part_number: str, revision: str) -> Call[ProductRevision]:
        """One revision of a product.

        Raises:
            NotFoundError: no such product, or it has no such revision.
        """
        return _revision_call(part_number, revision)

    @operation
    def get_revisions(self, part_number: str) -> Flow[list[ProductRevision]]:
        """Every revision of a product (read with the product).

        Raises:
            NotFoundError: no product has this part number.
        """
        product: Product = yield _product_call(part_number)
        return list(product.revisions or ())

    @operation
    def create_revision(
        self,
        part_number: str,
        revision: str,
        *,
        name: str | None = None,
        description: str | None = None,
        state: int = ProductState.ACTIVE,
        xml_data: str | None = None,
    ) -> Call[ProductRevision]:
        """Add a revision to an existing product and return it as saved.

        Raises:
            ValidationError: the product does not exist (the message names the part number),
                or the server refused another field.
        """
        body = ProductRevision(
            part_number=_name(part_number, "part_number"),
            revision=_name(revision, "revision"),
            name=name,
            description=description,
            state=_state(state),
            xml_data=xml_data,
        )
        return json_call("PUT", "/api/Product/Revision", ProductRevision, body=body)

    @operation
    def update_revision(self, revision: ProductRevision) -> Call[ProductRevision]:
        """Save a revision (as read and changed) and return it as saved.

        With ``product_revision_id`` set the server updates that revision; without it, it adds
        one to the product named by ``part_number`` (or ``product_id``).

        Raises:
            NotFoundError: no revision has that ``product_revision_id``.
            ValidationError: the product does not exist, or a field was refused.
        """
        if not isinstance(revision, ProductRevision):
            raise InvalidArgumentError(
                f"revision must be a ProductRevision, not {type(revision).__name__}"
            )
        _name(revision.revision, "revision.revision")
        return json_call("PUT", "/api/Product/Revision", ProductRevision, body=revision)

    @operation
    def bulk_save_revisions(
        self, revisions: Sequence[ProductRevision]
    ) -> Call[list[ProductRevision]]:
        """Add or update many revisions at once (``PUT /api/Products/Revisions``, for ERP).

        Returns the saved revisions when the server lists them, otherwise an empty list.
        """
        items = _instances(revisions, ProductRevision, "revisions")
        for n, item in enumerate(items):
            _name(item.revision, f"revisions[{n}].revision")
        saved: Call[list[ProductRevision]] = _bulk(
            "/api/Products/Revisions", items, list[ProductRevision]
        )
        return saved

    # --- BOM ---------------------------------------------------------------------------------

    @operation
    def update_bom(
        self,
        part_number: str,
        revision: str,
        components: Sequence[BomComponent],
        *,
        description: str | None = None,
    ) -> Call[None]:
        """Set a revision's bill of materials (sent as a WSBF document).

        Raises:
            BomFormatError: a component cannot be written (no part number, a negative quantity,
                a character XML cannot carry); nothing was sent.
            ValidationError: the product or revision does not exist.
        """
        bom = Bom(
            part_number=_name(part_number, "part_number"),
            revision=_name(revision, "revision"),
            description=description,
            components=_instances(components, BomComponent, "components"),
        )
        from pywats.formats import wsbf  # ElementTree loads when XML is first handled

        return _bom_call(wsbf.dumps(bom))

    @operation
    def upload_wsbf(self, document: BomSource) -> Call[None]:
        """Upload a ready BOM: a :class:`Bom`, WSBF bytes or text, a path or a binary file.

        The document names its product revision (``Partnumber``, ``Revision``). It is read whole
        (at most :data:`MAX_BOM_BYTES`) and checked before it is sent.

        Raises:
            BomFormatError: the document is not a readable WSBF BOM.
            InvalidArgumentError: the file cannot be read or is too large.
            ValidationError: the product or revision does not exist.
        """
        return _bom_call(_wsbf_bytes(document))

    @operation
    def get_bom(self, part_number: str, revision: str) -> Flow[list[BomComponent]]:
        """A revision's bill of materials (empty when it has none), read from its ``xmlData``.

        Raises:
            NotFoundError: no such product or revision.
            BomFormatError: the BOM the server holds cannot be read.
        """
        found: ProductRevision = yield _revision_call(part_number, revision)
        from pywats.formats import wsbf  # ElementTree loads when XML is first handled

        bom = wsbf.from_xml_data(found.xml_data)
        return list(bom.components) if bom is not None else []

    # --- product groups ----------------------------------------------------------------------

    @operation
    def add_product_group_filter(
        self,
        product_group: str,
        part_number: str,
        *,
        revision: str | None = None,
        exclude: bool = False,
    ) -> Call[None]:
        """Add a part-number filter to an existing product group.

        ``part_number`` and ``revision`` may use WATS wildcards (``%`` any text, ``_`` one
        character, ``;`` between alternatives). An ``exclude`` filter takes matching products
        out of the group.

        Raises:
            NotFoundError: no product group has this name.
        """
        return _write(
            "POST",
            "/api/Product/ProductGroupFilter",
            params={
                "productGroup": _name(product_group, "product_group"),
                "partNumber": _name(part_number, "part_number"),
                "revision": _optional_name(revision, "revision"),
                "exclude": bool(exclude) or None,
            },
        )

    @operation
    def get_groups_for_product(
        self, part_number: str, *, revision: str | None = None
    ) -> Call[list[ProductGroup]]:
        """The product groups whose filters take in this product (and revision).

        Raises:
            NotFoundError: no such product (or revision).
        """
        return json_call(
            "GET",
            "/api/Product/ProductGroupsByProduct",
            list[ProductGroup],
            params={
                "partNumber": _name(part_number, "part_number"),
                "revision": _optional_name(revision, "revision"),
            },
            empty=[],
        )

    # --- vendors -----------------------------------------------------------------------------

    @operation
    def get_vendors(self) -> Call[list[Vendor]]:
        """Every vendor."""
        return json_call("GET", "/api/Product/Vendors", list[Vendor], empty=[])

    @operation
    def save_vendors(self, vendors: Sequence[str | Vendor]) -> Call[None]:
        """Add vendors (by name); names already there are left as they are."""
        return _write("PUT", "/api/Product/Vendors", body=_vendors(vendors))

    @operation
    def save_vendor(self, name: str) -> Call[None]:
        """Add one vendor (nothing changes if it is already there)."""
        return _write("PUT", "/api/Product/Vendors", body=_vendors([_name(name, "name")]))

    @operation
    def delete_vendors(self, vendors: Sequence[str | Vendor]) -> Call[None]:
        """Delete vendors (by name).

        Raises:
            NotFoundError: one of them does not exist (the emulator then deletes none).
        """
        return _write("DELETE", "/api/Product/Vendors", body=_vendors(vendors))

    @operation
    def delete_vendor(self, name: str) -> Call[None]:
        """Delete one vendor.

        Raises:
            NotFoundError: no vendor has this name.
        """
        return _write("DELETE", "/api/Product/Vendors", body=_vendors([_name(name, "name")]))
