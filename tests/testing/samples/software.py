"""Sample arguments for ``api.software`` and its share of the contract test's seeded emulator."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from pywats import pyWATS
from pywats._upload import multipart_body
from pywats.models.software import FileAttribute, Package
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract", "zip_of"]

_ID = uuid.UUID("6f0a3c2e-1b2d-4c5e-8f90-123456789abc")


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip holding ``files`` (path inside the zip -> content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


_ZIP = zip_of({"bin/tool.exe": b"MZ tool", "config/tool.ini": b"[tool]\n"})

SAMPLES: dict[str, list[Args]] = {
    "software.get_packages": [((), {})],
    "software.get_package": [((_ID,), {})],
    "software.get_package_by_name": [
        (("Tool",), {}),
        (("Tool",), {"status": "Draft", "version": 2}),
    ],
    "software.get_released_package": [(("Tool",), {})],
    "software.get_packages_by_tag": [(("Line", "1"), {})],
    "software.get_package_files": [((_ID,), {})],
    "software.get_virtual_folders": [((), {})],
    "software.create_package": [(("Tool",), {"tags": {"Line": "1"}, "priority": 1})],
    "software.update_package": [((Package(package_id=_ID, name="Tool"),), {})],
    "software.delete_package": [((_ID,), {})],
    "software.delete_package_by_name": [(("Tool", 1), {})],
    "software.set_package_status": [((_ID, "Pending"), {})],
    "software.submit_for_review": [((_ID,), {})],
    "software.return_to_draft": [((_ID,), {})],
    "software.release_package": [((_ID,), {})],
    "software.revoke_package": [((_ID,), {})],
    "software.upload_zip": [((_ID, _ZIP), {}), ((_ID, _ZIP), {"clean_install": True})],
    "software.upload_folder": [((_ID, Path(__file__).parent), {"folder_name": "samples"})],
    "software.update_file_attribute": [((_ID, FileAttribute.TOP_LEVEL_FILE), {})],
}


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """Packages in each status the probes need, one of them with files."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        sw = api.software
        tool = sw.create_package("contract-tool", tags={"Line": "1"}, description="v1")
        assert tool.package_id is not None
        sw.upload_zip(tool.package_id, _ZIP)
        file_id = str(sw.get_package_files(tool.package_id)[0].package_file_id)
        released = sw.create_package("contract-tool", tags={"Line": "1"})
        assert released.package_id is not None
        sw.submit_for_review(released.package_id)
        sw.release_package(released.package_id)
        doomed = sw.create_package("contract-doomed")
        review = sw.create_package("contract-review")
    create = json.dumps({"name": "contract-new", "tags": [{"key": "Line", "value": "1"}]}).encode()
    upload, upload_type = multipart_body("file", "tool.zip", _ZIP)
    return ContractSeed(
        bodies={
            "POST /api/Software/Package": (create, "application/json"),
            "PUT /api/Software/Package/{id}": (create, "application/json"),
            "POST /api/Software/Package/FileAttribute/{id}": (b"", "application/json"),
            "POST /api/Software/Package/UploadZip/{id}": (upload, upload_type),
            "POST /api/Software/PackageStatus/{id}": (b"", "application/json"),
        },
        probes={
            "POST /api/Software/Package": [Probe("/api/Software/Package", body=create)],
            "GET /api/Software/Package/{id}": [Probe(f"/api/Software/Package/{tool.package_id}")],
            "PUT /api/Software/Package/{id}": [
                Probe(
                    f"/api/Software/Package/{tool.package_id}",
                    body=json.dumps({"name": "contract-tool", "description": "v1.1"}).encode(),
                )
            ],
            "DELETE /api/Software/Package/{id}": [
                Probe(
                    f"/api/Software/Package/{doomed.package_id}",
                    expect=204,
                    why="a deleted package: 204 No Content, as described",
                )
            ],
            "POST /api/Software/Package/FileAttribute/{id}": [
                Probe(
                    f"/api/Software/Package/FileAttribute/{file_id}",
                    (("attribute", "TopLevelFile"),),
                )
            ],
            "POST /api/Software/Package/UploadZip/{id}": [
                Probe(
                    f"/api/Software/Package/UploadZip/{tool.package_id}",
                    body=upload,
                    content_type=upload_type,
                ),
                Probe(
                    f"/api/Software/Package/UploadZip/{tool.package_id}",
                    (("cleanInstall", "true"),),
                    body=upload,
                    content_type=upload_type,
                ),
            ],
            "GET /api/Software/PackageByName": [
                Probe(
                    "/api/Software/PackageByName",
                    (("name", "contract-tool"), ("status", "Released")),
                ),
                Probe(
                    "/api/Software/PackageByName",
                    (("name", "CONTRACT-TOOL"), ("status", "draft"), ("version", "1")),
                ),
            ],
            "DELETE /api/Software/PackageByName": [
                Probe(
                    "/api/Software/PackageByName",
                    (("name", "contract-review"), ("version", "1")),
                    expect=204,
                    why="a deleted package: 204 No Content, as described",
                )
            ],
            "GET /api/Software/PackageFiles/{id}": [
                Probe(f"/api/Software/PackageFiles/{tool.package_id}")
            ],
            "GET /api/Software/Packages": [Probe("/api/Software/Packages")],
            "GET /api/Software/PackagesByTag": [
                Probe("/api/Software/PackagesByTag", (("tag", "Line=1"), ("status", "Released")))
            ],
            "POST /api/Software/PackageStatus/{id}": [
                Probe(f"/api/Software/PackageStatus/{review.package_id}", (("status", "Pending"),))
            ],
            "GET /api/Software/VirtualFolders": [Probe("/api/Software/VirtualFolders")],
        },
    )
