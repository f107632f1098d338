"""Sample arguments of ``api.product`` and its part of the contract test's seeded emulator."""

from __future__ import annotations

import json

from pywats import pyWATS
from pywats.formats import wsbf
from pywats.models.product import Bom, BomComponent, Product, ProductRevision
from pywats.testing import FakeWATS
from tests.testing.samples import Args, ContractSeed, Probe

PART_NUMBER = "CTR-BOX"  # the production samples seed units of this product
REVISION = "A"
VENDOR = "Contract Vendor"

_BOM = Bom(
    part_number=PART_NUMBER,
    revision=REVISION,
    description="Contract board",
    components=[BomComponent(part_number="R-100", revision="1", quantity=2, reference="R1;R2")],
)

SAMPLES: dict[str, list[Args]] = {
    "product.get_products": [((), {}), (("partNumber eq 'X'",), {"top": 10, "skip": 5})],
    "product.get_active_products": [((), {})],
    "product.get_product": [((PART_NUMBER,), {})],
    "product.create_product": [((PART_NUMBER,), {"name": "Board"})],
    "product.update_product": [((Product(part_number=PART_NUMBER),), {})],
    "product.bulk_save_products": [(([Product(part_number=PART_NUMBER)],), {})],
    "product.get_revision": [((PART_NUMBER, REVISION), {})],
    "product.get_revisions": [((PART_NUMBER,), {})],
    "product.create_revision": [((PART_NUMBER, REVISION), {})],
    "product.update_revision": [
        ((ProductRevision(revision=REVISION, part_number=PART_NUMBER),), {})
    ],
    "product.bulk_save_revisions": [(([ProductRevision(revision=REVISION)],), {})],
    "product.update_bom": [((PART_NUMBER, REVISION, _BOM.components), {})],
    "product.upload_wsbf": [((_BOM,), {})],
    "product.get_bom": [((PART_NUMBER, REVISION), {})],
    "product.add_product_group_filter": [
        (("All products", "PCB-%"), {"revision": "A", "exclude": True})
    ],
    "product.get_groups_for_product": [((PART_NUMBER,), {"revision": REVISION})],
    "product.get_vendors": [((), {})],
    "product.save_vendors": [((["Acme"],), {})],
    "product.save_vendor": [(("Acme",), {})],
    "product.delete_vendors": [((["Acme"],), {})],
    "product.delete_vendor": [(("Acme",), {})],
}


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """A product with a revision, its BOM and a vendor; valid requests for every product route."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        api.product.create_product(PART_NUMBER, name="Board", product_category_name="PCB")
        api.product.create_revision(
            PART_NUMBER, REVISION, xml_data='<Root><Site Value="01"/></Root>'
        )
        api.product.upload_wsbf(_BOM)
        api.product.save_vendor(VENDOR)
    product = _json({"partNumber": PART_NUMBER, "name": "Board 2"})
    revision = _json({"PartNumber": PART_NUMBER, "revision": REVISION, "name": "First"})
    new_revision = _json([{"PartNumber": PART_NUMBER, "revision": "B"}])
    vendors = _json([{"VendorName": VENDOR}])
    bom = wsbf.dumps(_BOM)
    query = "/api/Product/Query"
    return ContractSeed(
        path_values={"partNumber": PART_NUMBER, "revision": REVISION},
        bodies={
            "PUT /api/Product": (product, "application/json"),
            "PUT /api/Product/Revision": (revision, "application/json"),
            "PUT /api/Products": (_json([{"partNumber": "CTR-NEW"}]), "application/json"),
            "PUT /api/Products/Revisions": (new_revision, "application/json"),
            "PUT /api/Product/BOM": (bom, "application/xml"),
            "POST /api/Product/ProductGroupFilter": (b"", "application/json"),
            "PUT /api/Product/Vendors": (vendors, "application/json"),
        },
        probes={
            "GET /api/Product/Query": [
                Probe(query),
                Probe(query, (("$filter", f"PartNumber eq '{PART_NUMBER}'"),)),
                Probe(query, (("$filter", "Category eq 'PCB'"), ("$top", "5"))),
            ],
            "GET /api/Product/{partNumber}": [Probe(f"/api/Product/{PART_NUMBER}")],
            "GET /api/Product/{partNumber}/{revision}": [
                Probe(f"/api/Product/{PART_NUMBER}/{REVISION}"),
                Probe(f"/api/Product/{PART_NUMBER.lower()}/{REVISION.lower()}"),
            ],
            "PUT /api/Product": [Probe("/api/Product", body=product)],
            "PUT /api/Product/Revision": [Probe("/api/Product/Revision", body=revision)],
            "PUT /api/Products": [Probe("/api/Products", body=_json([{"partNumber": "CTR-NEW"}]))],
            "PUT /api/Products/Revisions": [Probe("/api/Products/Revisions", body=new_revision)],
            "PUT /api/Product/BOM": [
                Probe("/api/Product/BOM", body=bom, content_type="application/xml")
            ],
            "POST /api/Product/ProductGroupFilter": [
                Probe(
                    "/api/Product/ProductGroupFilter",
                    (("productGroup", "All products"), ("partNumber", "CTR-%")),
                )
            ],
            "GET /api/Product/ProductGroupsByProduct": [
                Probe("/api/Product/ProductGroupsByProduct", (("partNumber", PART_NUMBER),)),
                Probe(
                    "/api/Product/ProductGroupsByProduct",
                    (("partNumber", PART_NUMBER), ("revision", REVISION)),
                ),
            ],
            "GET /api/Product/Vendors": [Probe("/api/Product/Vendors")],
            "PUT /api/Product/Vendors": [Probe("/api/Product/Vendors", body=vendors)],
            "DELETE /api/Product/Vendors": [Probe("/api/Product/Vendors", body=vendors)],
        },
    )
