"""Contract samples of ``api.asset`` (assets, asset types, counts, calibration, log, status)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from pywats.models.asset import Asset, AssetState, AssetType
from pywats.testing import FakeWATS
from tests.testing.contract import call
from tests.testing.samples import Args, ContractSeed, Probe

_ID = "5d7a0f0e-5f0b-4c51-9a0e-3b1f2a6c9d10"
_TYPE = uuid.UUID("0f0e5d7a-4c51-5f0b-9a0e-9d103b1f2a6c")

SAMPLES: dict[str, list[Args]] = {
    "asset.get_assets": [((), {}), (("serialNumber eq 'X'",), {"top": 5, "orderby": "assetId"})],
    "asset.get_asset": [
        ((_ID,), {}),
        (("not-a-guid",), {}),  # asked by query: the path would read it as a serial number
        ((), {"serial_number": "DMM-1"}),
    ],
    "asset.get_asset_by_serial": [(("DMM-1",), {}), ((_ID,), {})],
    "asset.create_asset": [(("DMM-1", _TYPE), {"asset_name": "DMM"})],
    "asset.update_asset": [((Asset(serial_number="DMM-1", type_id=_TYPE),), {})],
    "asset.delete_asset": [((_ID,), {}), ((), {"serial_number": "DMM-1"})],
    "asset.get_child_assets": [((_ID,), {"level": 1})],
    "asset.get_status": [((), {"serial_number": "DMM-1", "translate": False})],
    "asset.set_asset_state": [((AssetState.IN_OPERATION, _ID), {})],
    "asset.increment_count": [
        ((_ID,), {"amount": 2, "increment_children": True}),
        ((), {"serial_number": "DMM-1", "total_count": 10}),
    ],
    "asset.reset_running_count": [((_ID,), {"comment": "new probe"})],
    "asset.record_calibration": [
        ((_ID,), {"date_time": datetime(2026, 1, 1, tzinfo=UTC), "comment": "lab"})
    ],
    "asset.record_maintenance": [((), {"serial_number": "DMM-1"})],
    "asset.add_log_message": [((_ID, "cleaned"), {})],
    "asset.get_asset_log": [((), {}), (("type eq 4",), {"top": 10})],
    "asset.get_asset_types": [((), {})],
    "asset.create_asset_type": [(("DMM",), {"calibration_interval": 365.0})],
    "asset.update_asset_type": [((AssetType(type_id=_TYPE, type_name="DMM"),), {})],
}

_TYPE_BODY = {
    "typeName": "Contract DMM",
    "runningCountLimit": 100,
    "totalCountLimit": 1000,
    "calibrationInterval": 365.0,
    "maintenanceInterval": 90.0,
    "warningThreshold": 80.0,
    "alarmThreshold": 100.0,
}


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """An asset type, an asset with a sub-asset (both used by a count), and a request per route.

    The DELETE probe deletes an asset of its own, so the other probes keep theirs.
    """
    saved_type = call(fake, "PUT", "/api/Asset/Types", body=_json(_TYPE_BODY))
    assert saved_type.status == 200, f"seeding asset types: {saved_type}"
    type_id = saved_type.json()["typeId"]
    assets = {}
    for serial, parent in (("CT-DMM-1", None), ("CT-PROBE-1", "CT-DMM-1"), ("CT-GONE-1", None)):
        body = {"serialNumber": serial, "typeId": type_id, "assetName": serial}
        if parent:
            body["parentSerialNumber"] = parent
        saved = call(fake, "PUT", "/api/Asset", body=_json(body))
        assert saved.status == 200, f"seeding assets: {saved}"
        assets[serial] = saved.json()["assetId"]
    counted = call(
        fake, "PUT", "/api/Asset/Count", [("id", assets["CT-DMM-1"]), ("incrementBy", "3")]
    )
    assert counted.status == 200, f"seeding asset counts: {counted}"
    asset_id = assets["CT-DMM-1"]
    by_id = (("id", asset_id),)
    by_serial = (("serialNumber", "CT-DMM-1"),)
    asset_body = _json({"serialNumber": "CT-DMM-1", "typeId": type_id, "location": "Lab 2"})
    message = _json({"content": "Probe tips replaced"})
    return ContractSeed(
        path_values={"assetId": asset_id},
        bodies={
            "PUT /api/Asset": (asset_body, "application/json"),
            "PUT /api/Asset/Types": (_json(_TYPE_BODY), "application/json"),
            "POST /api/Asset/Message": (message, "application/json"),
            "POST /api/Asset/Calibration": (b"", "application/json"),
            "POST /api/Asset/Maintenance": (b"", "application/json"),
            "POST /api/Asset/ResetRunningCount": (b"", "application/json"),
            "PUT /api/Asset/Count": (b"", "application/json"),
            "PUT /api/Asset/State": (b"", "application/json"),
        },
        probes={
            "GET /api/Asset": [
                Probe("/api/Asset"),
                Probe("/api/Asset", (("$filter", "runningCount gt 1"), ("$top", "1"))),
                Probe(
                    "/api/Asset",
                    (("$filter", f"typeId eq {type_id}"), ("$orderby", "firstSeenDate desc")),
                ),
            ],
            "PUT /api/Asset": [
                Probe("/api/Asset", body=asset_body),
                Probe(
                    "/api/Asset",
                    body=_json({"serialNumber": "CT-NEW-1", "typeId": type_id}),
                ),
            ],
            "DELETE /api/Asset": [
                Probe("/api/Asset", (("serialNumber", "CT-GONE-1"),)),
                Probe(
                    "/api/Asset",
                    (("serialNumber", "CT-GONE-1"),),
                    expect=404,
                    why="deleted by the probe before",
                ),
            ],
            "GET /api/Asset/{assetId}": [
                Probe(f"/api/Asset/{asset_id}"),
                Probe("/api/Asset/CT-DMM-1"),
                Probe("/api/Asset/CT-NONE", expect=404, why="no asset has this serial number"),
            ],
            "POST /api/Asset/Calibration": [
                Probe("/api/Asset/Calibration", by_id),
                Probe(
                    "/api/Asset/Calibration",
                    (*by_serial, ("dateTime", "2026-01-01T00:00:00Z"), ("comment", "lab")),
                ),
            ],
            "POST /api/Asset/Maintenance": [
                Probe("/api/Asset/Maintenance", (*by_id, ("comment", "cleaned"))),
            ],
            "PUT /api/Asset/Count": [
                Probe("/api/Asset/Count", (*by_id, ("incrementBy", "2"))),
                Probe(
                    "/api/Asset/Count",
                    (*by_serial, ("totalCount", "50"), ("incrementChildren", "true")),
                ),
            ],
            "POST /api/Asset/ResetRunningCount": [
                Probe("/api/Asset/ResetRunningCount", (*by_id, ("comment", "new probe"))),
            ],
            "PUT /api/Asset/State": [
                Probe("/api/Asset/State", (*by_id, ("state", "3"))),
            ],
            "POST /api/Asset/Message": [
                Probe("/api/Asset/Message", by_serial, body=message),
            ],
            "GET /api/Asset/Log": [
                Probe("/api/Asset/Log"),
                Probe("/api/Asset/Log", (("$filter", f"assetId eq '{asset_id}' and type eq 1"),)),
            ],
            "GET /api/Asset/Status": [
                Probe("/api/Asset/Status", by_id),
                Probe("/api/Asset/Status", (*by_serial, ("translate", "false"))),
            ],
            "GET /api/Asset/SubAssets": [
                Probe("/api/Asset/SubAssets", by_id),
                Probe("/api/Asset/SubAssets", (*by_serial, ("level", "1"))),
            ],
            "GET /api/Asset/Types": [
                Probe("/api/Asset/Types"),
                Probe("/api/Asset/Types", (("$filter", "calibrationInterval eq 365"),)),
            ],
            "PUT /api/Asset/Types": [
                Probe("/api/Asset/Types", body=_json(_TYPE_BODY)),
                Probe("/api/Asset/Types", body=_json({"typeName": "Contract fixture"})),
            ],
        },
    )
