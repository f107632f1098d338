"""Contract samples of ``api.export`` (certificate exports, their list and download) and its
share of the contract test's seeded emulator."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from pywats import pyWATS
from pywats.models.analytics_filter import WATSFilter
from pywats.models.export import CertificateDimension, NumericFormat
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract"]

SAMPLES: dict[str, list[Args]] = {
    "export.queue_certificate_export": [
        ((), {}),
        (
            (WATSFilter(part_number="PN-1"),),
            {
                "header_data_only": True,
                "as_individual_files": False,
                "dimensions": [CertificateDimension.OPERATOR, CertificateDimension.MEASUREMENT],
                "numeric_format": NumericFormat.SCIENTIFIC,
                "body_footer_tag": "Footer",
                "document_footer_tag": "DocFooter",
                "email": "qa@example.com",
            },
        ),
    ],
    "export.get_export_list": [((), {})],
    "export.get_exported_file": [(("CertificateExport_1.zip",), {})],
    "export.download_exported_file": [(("CertificateExport_1", io.BytesIO()), {})],
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """One finished certificate export (of the seeded reports), and a request per route."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        name = api.export.queue_certificate_export(email="qa@example.com")
    body = json.dumps({"partNumber": "%", "topCount": 5}).encode()
    queue = (("headerDataOnly", "false"), ("asIndividualFiles", "true"))
    probes = {
        "POST /api/Export/Certificate": [
            Probe("/api/Export/Certificate", queue, body=body),
            Probe(
                "/api/Export/Certificate",
                (
                    ("headerDataOnly", "true"),
                    ("asIndividualFiles", "false"),
                    ("dimensions", "operator;measurement;units"),
                    ("numericFormat", "decimal"),
                    ("email", "qa@example.com"),
                ),
                body=b"{}",
            ),
        ],
        "GET /api/Export/List": [Probe("/api/Export/List")],
        "GET /api/Export/{fileName}": [
            Probe(f"/api/Export/{name}"),
            Probe(f"/api/Export/{name.removesuffix('.zip')}"),
            Probe("/api/Export/NoSuchExport.zip", expect=404, why="no export has that name"),
        ],
    }
    return ContractSeed(
        path_values={"fileName": name},
        bodies={"POST /api/Export/Certificate": (body, "application/json")},
        probes=probes,
    )
