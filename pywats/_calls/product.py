"""``api.product``: products, revisions, BOMs, product groups and vendors (tag Product).

Method names follow the predecessor client where it had the same operation (``get_product``,
``create_revision``, ``update_bom``, ``get_vendors``…), so scripts move over; parameters follow the
server's description. The requests and argument checks are in :mod:`pywats._calls._product_calls`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import overload

from pywats._call import Call, Flow, json_call
from pywats._calls._product_calls import (
    MAX_BOM_BYTES,
    MAX_PRODUCT_TOP,
    BomSource,
    QueryPager,
    bom_call,
    bulk_call,
    check_instances,
    check_name,
    check_optional_name,
    check_state,
    check_vendors,
    product_call,
    query_call,
    revision_call,
    write_call,
    wsbf_bytes,
)
from pywats._domain import Async, Domain, ModeT, Sync, operation
from pywats._errors import InvalidArgumentError
from pywats._paging import iterate
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

__all__ = ["MAX_BOM_BYTES", "MAX_PRODUCT_TOP", "BomSource", "ProductDomain"]


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
        return query_call(filter, top, skip, orderby)

    @operation
    def get_active_products(self) -> Call[list[ProductView]]:
        """The active products (``state eq 1``)."""
        return query_call(f"state eq {int(ProductState.ACTIVE)}", None, None, None)

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
        pager = QueryPager(filter, page_size)  # checks the arguments now, not at the first page
        return iterate(self._client, pager)

    @operation
    def get_product(self, part_number: str) -> Call[Product]:
        """The product with this part number, with its revisions and tags.

        Raises:
            NotFoundError: no product has this part number.
        """
        return product_call(part_number)

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
            part_number=check_name(part_number, "part_number"),
            name=name,
            description=description,
            non_serial=bool(non_serial),
            state=check_state(state),
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
        check_name(product.part_number, "product.part_number")
        return json_call("PUT", "/api/Product", Product, body=product)

    @operation
    def bulk_save_products(self, products: Sequence[Product]) -> Call[list[Product]]:
        """Add or update many products at once (``PUT /api/Products``, for ERP integration).

        Returns the saved products when the server lists them, otherwise an empty list.
        """
        items = check_instances(products, Product, "products")
        for n, product in enumerate(items):
            check_name(product.part_number, f"products[{n}].part_number")
        saved: Call[list[Product]] = bulk_call("/api/Products", items, list[Product])
        return saved

    # --- revisions ---------------------------------------------------------------------------

    @operation
    def get_revision(self, part_number: str, revision: str) -> Call[ProductRevision]:
        """One revision of a product.

        Raises:
            NotFoundError: no such product, or it has no such revision.
        """
        return revision_call(part_number, revision)

    @operation
    def get_revisions(self, part_number: str) -> Flow[list[ProductRevision]]:
        """Every revision of a product (read with the product).

        Raises:
            NotFoundError: no product has this part number.
        """
        product: Product = yield product_call(part_number)
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
            part_number=check_name(part_number, "part_number"),
            revision=check_name(revision, "revision"),
            name=name,
            description=description,
            state=check_state(state),
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
        check_name(revision.revision, "revision.revision")
        return json_call("PUT", "/api/Product/Revision", ProductRevision, body=revision)

    @operation
    def bulk_save_revisions(
        self, revisions: Sequence[ProductRevision]
    ) -> Call[list[ProductRevision]]:
        """Add or update many revisions at once (``PUT /api/Products/Revisions``, for ERP).

        Returns the saved revisions when the server lists them, otherwise an empty list.
        """
        items = check_instances(revisions, ProductRevision, "revisions")
        for n, item in enumerate(items):
            check_name(item.revision, f"revisions[{n}].revision")
        saved: Call[list[ProductRevision]] = bulk_call(
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
            part_number=check_name(part_number, "part_number"),
            revision=check_name(revision, "revision"),
            description=description,
            components=check_instances(components, BomComponent, "components"),
        )
        from pywats.formats import wsbf  # ElementTree loads when XML is first handled

        return bom_call(wsbf.dumps(bom))

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
        return bom_call(wsbf_bytes(document))

    @operation
    def get_bom(self, part_number: str, revision: str) -> Flow[list[BomComponent]]:
        """A revision's bill of materials (empty when it has none), read from its ``xmlData``.

        Raises:
            NotFoundError: no such product or revision.
            BomFormatError: the BOM the server holds cannot be read.
        """
        found: ProductRevision = yield revision_call(part_number, revision)
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
        return write_call(
            "POST",
            "/api/Product/ProductGroupFilter",
            params={
                "productGroup": check_name(product_group, "product_group"),
                "partNumber": check_name(part_number, "part_number"),
                "revision": check_optional_name(revision, "revision"),
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
                "partNumber": check_name(part_number, "part_number"),
                "revision": check_optional_name(revision, "revision"),
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
        return write_call("PUT", "/api/Product/Vendors", body=check_vendors(vendors))

    @operation
    def save_vendor(self, name: str) -> Call[None]:
        """Add one vendor (nothing changes if it is already there)."""
        return write_call(
            "PUT", "/api/Product/Vendors", body=check_vendors([check_name(name, "name")])
        )

    @operation
    def delete_vendors(self, vendors: Sequence[str | Vendor]) -> Call[None]:
        """Delete vendors (by name).

        Raises:
            NotFoundError: one of them does not exist (the emulator then deletes none).
        """
        return write_call("DELETE", "/api/Product/Vendors", body=check_vendors(vendors))

    @operation
    def delete_vendor(self, name: str) -> Call[None]:
        """Delete one vendor.

        Raises:
            NotFoundError: no vendor has this name.
        """
        return write_call(
            "DELETE", "/api/Product/Vendors", body=check_vendors([check_name(name, "name")])
        )
