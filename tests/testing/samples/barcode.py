"""Contract samples of ``api.barcode`` (barcode identifiers)."""

from __future__ import annotations

import json

from pywats.models.barcode import BarcodeIdentifier
from pywats.testing import FakeWATS
from tests.testing.contract import call
from tests.testing.samples import Args, ContractSeed, Probe

SAMPLES: dict[str, list[Args]] = {
    "barcode.get_barcode_identifiers": [((), {})],
    "barcode.save_barcode_identifier": [((BarcodeIdentifier(pattern="^SN"),), {})],
    "barcode.delete_barcode_identifier": [((1,), {})],
    "barcode.identify_barcode": [(("SN1/PN1",), {})],
}

_BASE = "/api/BarcodeIdentifiers"
_IDENTIFIER = {
    "pattern": r"^SN\d+-",
    "serialNumber": r"^(SN\d+)-",
    "partNumber": r"-(\w+)$",
    "order": 1,
    "description": "SN123-PCB1",
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """One identifier (deleted by the DELETE probe) and a request per route."""
    body = json.dumps(_IDENTIFIER).encode()
    saved = call(fake, "PUT", f"{_BASE}/BarcodeIdentifier", body=body)
    assert saved.status == 200, f"seeding barcode identifiers: {saved}"
    identifier_id = saved.json()["id"]
    update = json.dumps({**_IDENTIFIER, "id": identifier_id, "order": 2}).encode()
    return ContractSeed(
        bodies={"PUT /api/BarcodeIdentifiers/BarcodeIdentifier": (body, "application/json")},
        probes={
            "GET /api/BarcodeIdentifiers/BarcodeIdentifiers": [
                Probe(f"{_BASE}/BarcodeIdentifiers")
            ],
            "PUT /api/BarcodeIdentifiers/BarcodeIdentifier": [
                Probe(f"{_BASE}/BarcodeIdentifier", body=body),
                Probe(f"{_BASE}/BarcodeIdentifier", body=update),
            ],
            "DELETE /api/BarcodeIdentifiers/BarcodeIdentifier/{id}": [
                Probe(f"{_BASE}/BarcodeIdentifier/{identifier_id}"),
                Probe(
                    f"{_BASE}/BarcodeIdentifier/{identifier_id}",
                    expect=404,
                    why="deleted by the probe before",
                ),
            ],
            "GET /api/BarcodeIdentifiers/IdentifyBarcode": [
                Probe(f"{_BASE}/IdentifyBarcode", (("code", "SN123-PCB1"),)),
                Probe(f"{_BASE}/IdentifyBarcode", (("code", "SN9/PN9/A/B7/50"),)),
                Probe(
                    f"{_BASE}/IdentifyBarcode",
                    (("code", "a/b/c/d/e/f"),),
                    expect=404,
                    why="neither an identifier nor the default format reads it",
                ),
            ],
        },
    )
