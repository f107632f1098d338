"""The emulator's ``asset`` routes:

Assets (fixtures, instruments), counts, calibration, maintenance (tag Asset).

``GET /api/Asset/{assetId}`` and ``GET /api/Asset/{serialNumber}`` are one route shape: a segment
that is a GUID names an asset id, anything else a serial number (asset ids are GUIDs; ASP.NET
tells the two actions apart with a ``guid`` route constraint). The literal routes
(``/api/Asset/Log``…) are registered first, so they win over the segment.

Operations that name an asset take ``id`` or ``serialNumber`` (``id`` wins when both are
given); naming none, or one that does not exist, is a 404. The state lives in
:mod:`pywats.testing._asset_registry`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from pywats.models.asset import Asset, AssetLogType, AssetMessage, AssetState, AssetType
from pywats.testing._asset_registry import (
    AssetRecord,
    AssetRegistry,
    asset_registry,
    now,
    type_row,
)
from pywats.testing._http import (
    HTTPFailure,
    Request,
    Response,
    Router,
    decode_json,
    json_response,
)
from pywats.testing._odata import ODataError, Query, apply, parse_query

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_asset_routes"]

_INT32 = 2**31
_DEFAULT_TOP = 1000  # "Returns top 1000 … unless the $top query parameter" (the description)
_MAX_TOP = _INT32 - 1  # the description gives no maximum; $top is an Int32

_ASSET_ROW = (
    "assetId", "parentAssetId", "assetName", "serialNumber", "parentSerialNumber", "partNumber",
    "revision", "typeId", "state", "description", "location", "firstSeenDate", "lastSeenDate",
    "lastMaintenanceDate", "nextMaintenanceDate", "lastCalibrationDate", "nextCalibrationDate",
    "totalCount", "runningCount", "xmlData",
)  # fmt: skip
_LOG_ROW = (
    "logId", "assetId", "serialNumber", "date", "user", "type", "property", "value", "comment"
)  # fmt: skip
_TYPE_ROW = tuple(type_row(AssetType()))


def add_asset_routes(router: Router) -> None:
    """Register the asset routes on ``router``."""
    router.add("GET", "/api/Asset", get_assets)
    router.add("PUT", "/api/Asset", put_asset)
    router.add("DELETE", "/api/Asset", delete_asset)
    router.add("POST", "/api/Asset/Calibration", post_calibration)
    router.add("PUT", "/api/Asset/Count", put_count)
    router.add("GET", "/api/Asset/Log", get_log)
    router.add("POST", "/api/Asset/Maintenance", post_maintenance)
    router.add("POST", "/api/Asset/Message", post_message)
    router.add("POST", "/api/Asset/ResetRunningCount", reset_running_count)
    router.add("PUT", "/api/Asset/State", put_state)
    router.add("GET", "/api/Asset/Status", get_status)
    router.add("GET", "/api/Asset/SubAssets", get_sub_assets)
    router.add("GET", "/api/Asset/Types", get_types)
    router.add("PUT", "/api/Asset/Types", put_type)
    # Last: the segment would match every literal route above.
    router.add("GET", "/api/Asset/{assetId}", get_asset)


# --- query values --------------------------------------------------------------------------


def _invalid(name: str, value: str) -> HTTPFailure:
    return HTTPFailure(400, f"The value '{value}' is not valid for {name}.")


def _int(req: Request, name: str) -> int | None:
    value = req.param(name)
    if value is None or value == "":
        return None
    if not re.fullmatch(r"\s*[+-]?\d{1,10}\s*", value) or not -_INT32 <= int(value) < _INT32:
        raise _invalid(name, value)
    return int(value)


def _bool(req: Request, name: str) -> bool | None:
    value = req.param(name)
    if value is None or value == "":
        return None
    if value.lower() not in ("true", "false"):
        raise _invalid(name, value)
    return value.lower() == "true"


def _when(req: Request, name: str) -> datetime | None:
    value = req.param(name)
    if value is None or value == "":
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # .NET sends 7 fractional digits
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(name, value) from None
    # Without an offset the server takes its own clock's zone: UTC here.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _find(emu: FakeWATS, req: Request) -> tuple[AssetRegistry, AssetRecord]:
    registry = asset_registry(emu)
    return registry, registry.find(req.param("id"), req.param("serialNumber"))


def _odata(req: Request, properties: tuple[str, ...], orderby: list[tuple[str, bool]]) -> Query:
    params = {k: v for k, v in req.query if k.startswith("$")}
    try:
        return parse_query(
            params,
            properties=properties,
            orderable=properties,
            expandable=(),
            default_top=_DEFAULT_TOP,
            max_top=_MAX_TOP,
            default_orderby=orderby,
        )
    except ODataError as exc:
        raise HTTPFailure(400, f"The query specified in the URI is not valid. {exc}") from exc


def _answer(query: Query, rows: list[dict[str, Any]]) -> Response:
    try:
        return json_response(apply(query, rows))
    except ODataError as exc:
        raise HTTPFailure(400, f"The query specified in the URI is not valid. {exc}") from exc


# --- assets --------------------------------------------------------------------------------


def get_assets(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Asset``: OData; top 1000 by ``assetId`` unless told otherwise."""
    query = _odata(req, _ASSET_ROW, [("assetId", False)])
    registry = asset_registry(emu)
    with registry.lock:
        rows = [registry.row(emu, record) for record in registry.assets.values()]
    return _answer(query, rows)


def get_asset(emu: FakeWATS, req: Request, assetId: str) -> Response:
    """``GET /api/Asset/{assetId}`` (a GUID) or ``/api/Asset/{serialNumber}`` (anything else)."""
    registry = asset_registry(emu)
    with registry.lock:
        by_id = _is_guid(assetId)
        record = registry.find(assetId if by_id else None, None if by_id else assetId)
        return json_response(registry.asset(emu, record))


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _text(value: str | None) -> str | None:
    """A string member: ``None`` (absent) leaves a value as it is, ``""`` clears it."""
    return value if value is None else value.strip() or ""


def put_asset(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Asset``: create, or update the asset with this ``assetId`` or serial number.

    Members left out keep their value (``""`` clears one); counts and calibration/maintenance
    dates are ignored (the description: they have operations of their own).
    """
    body = decode_json(req.body, Asset, "The asset is invalid.")
    serial = (body.serial_number or "").strip()
    if not serial:
        raise HTTPFailure(400, "The asset is invalid. serialNumber: the field is required.")
    if body.type_id is None:
        raise HTTPFailure(400, "The asset is invalid. typeId: the field is required.")
    asset_id = (body.asset_id or "").strip()
    if asset_id and not _is_guid(asset_id):
        raise HTTPFailure(400, f"The asset is invalid. assetId: '{asset_id}' is not a GUID.")
    type_id = str(body.type_id)
    registry = asset_registry(emu)
    user = req.user
    with registry.lock:
        if type_id not in registry.types:
            raise HTTPFailure(400, f"The asset is invalid. typeId: no asset type has id {type_id}.")
        record = registry.by_id(asset_id) if asset_id else None
        owner = registry.by_serial(serial)
        if record is None and owner is not None and not asset_id:
            record = owner  # no id: the serial number names the asset to update
        if owner is not None and owner is not record:
            raise HTTPFailure(
                400,
                f"The asset is invalid. serialNumber: '{serial}' belongs to asset "
                f"{owner.asset_id}.",
            )
        parent = _parent(registry, body, record)
        if record is None:
            record = AssetRecord(
                asset_id=str(uuid.UUID(asset_id)) if asset_id else str(uuid.uuid4()),
                serial_number=serial,
                type_id=type_id,
                first_seen_date=now(),
                state=int(body.state) if body.state is not None else AssetState.UNKNOWN,
            )
            registry.assets[record.asset_id] = record
            registry.start_counting(emu, record)
            _update(registry, record, body, parent, user, log=False)
            registry.write_log(record, AssetLogType.REGISTER, user, comment="Asset created")
        else:
            if record.serial_number != serial:
                total, running = registry.counts(emu, record)
                _change(registry, record, "serialNumber", serial, user)
                registry.start_counting(emu, record, total, running)
            if record.type_id != type_id:
                _change(registry, record, "typeId", type_id, user)
            _update(registry, record, body, parent, user, log=True)
        return json_response(registry.asset(emu, record))


_SCALARS = (
    ("asset_name", "assetName"),
    ("part_number", "partNumber"),
    ("revision", "revision"),
    ("description", "description"),
    ("location", "location"),
)


def _parent(registry: AssetRegistry, body: Asset, record: AssetRecord | None) -> str | None:
    """The parent's id the body asks for: ``None`` to keep it, ``""`` for none."""
    by_id, by_serial = _text(body.parent_asset_id), _text(body.parent_serial_number)
    if by_id is None and by_serial is None:
        return None
    if by_id:
        parent = registry.by_id(by_id)
        if parent is None:
            raise HTTPFailure(
                400, f"The asset is invalid. parentAssetId: no asset has id '{by_id}'."
            )
    elif by_serial:
        parent = registry.by_serial(by_serial)
        if parent is None:
            raise HTTPFailure(
                400,
                f"The asset is invalid. parentSerialNumber: no asset has serial number "
                f"'{by_serial}'.",
            )
    else:
        return ""
    if record is not None and (
        parent is record or any(d is parent for d in registry.descendants(record))
    ):
        raise HTTPFailure(
            400,
            f"The asset is invalid. parentAssetId: asset {parent.serial_number} is "
            f"{record.serial_number} itself or one of its sub-assets.",
        )
    return parent.asset_id


def _change(
    registry: AssetRegistry, record: AssetRecord, name: str, value: Any, user: str | None
) -> None:
    attr = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if getattr(record, attr) == value:
        return
    setattr(record, attr, value)
    text = None if value is None else str(value)
    registry.write_log(record, AssetLogType.UPDATE, user, prop=name, value=text)


def _update(
    registry: AssetRegistry,
    record: AssetRecord,
    body: Asset,
    parent: str | None,
    user: str | None,
    *,
    log: bool,
) -> None:
    def change(name: str, value: Any) -> None:
        if log:
            _change(registry, record, name, value, user)
        else:
            attr = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            setattr(record, attr, value)

    for attr, name in _SCALARS:
        value = _text(getattr(body, attr))
        if value is not None:
            change(name, value or None)
    if parent is not None:
        change("parentAssetId", parent or None)
    if body.client_id is not None:
        change("clientId", body.client_id)
    if log and body.state is not None and int(body.state) != record.state:
        _set_state(registry, record, int(body.state), user)
    if body.tags is not None:
        tags: dict[str, str | None] = {}
        for i, tag in enumerate(body.tags):
            if not tag.key.strip():
                raise HTTPFailure(400, f"The asset is invalid. tags[{i}].key: must not be empty.")
            tags[tag.key] = tag.value
        if tags != record.tags:
            record.tags = tags
            if log:
                registry.write_log(record, AssetLogType.UPDATE, user, prop="tags")


def _set_state(registry: AssetRegistry, record: AssetRecord, state: int, user: str | None) -> None:
    old = AssetState(record.state).name
    record.state = state
    registry.write_log(
        record,
        AssetLogType.STATE_CHANGE,
        user,
        prop="state",
        value=str(state),
        comment=f"State changed from {old} to {AssetState(state).name}",
    )


def delete_asset(emu: FakeWATS, req: Request) -> Response:
    """``DELETE /api/Asset?id=|serialNumber=``: the asset and its log; sub-assets move up."""
    registry, record = _find(emu, req)
    with registry.lock:
        registry.forget(record)
    return json_response(True)


def get_sub_assets(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Asset/SubAssets``: sub-assets, ``level`` deep (0 or absent: all)."""
    level = _int(req, "level") or 0
    if level < 0:
        raise HTTPFailure(400, f"The value '{level}' is not valid for level: 0 or more.")
    registry, record = _find(emu, req)
    with registry.lock:
        found = list(registry.descendants(record, level))
        return json_response([registry.asset(emu, child, children=False) for child in found])


# --- counts, state, calibration, maintenance, messages ---------------------------------------


def put_count(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Asset/Count``: add ``incrementBy`` uses, or up to a new ``totalCount``."""
    total = _int(req, "totalCount")
    increment = _int(req, "incrementBy")
    children = bool(_bool(req, "incrementChildren"))
    if (total is None) == (increment is None):
        raise HTTPFailure(400, "Give either totalCount or incrementBy.")
    if increment is not None and increment < 0:
        raise HTTPFailure(400, f"incrementBy: {increment} is negative; counts only grow.")
    registry, record = _find(emu, req)
    with registry.lock:
        current, _ = registry.counts(emu, record)
        delta = increment if increment is not None else (total or 0) - current
        if delta < 0:
            raise HTTPFailure(
                400, f"totalCount: {total} is less than the asset's total count {current}."
            )
        targets = [record, *(registry.descendants(record) if children else ())]
        for target in targets:
            registry.add_count(target, delta)
            target.last_seen_date = now()
        return json_response(registry.asset(emu, record))


def reset_running_count(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Asset/ResetRunningCount``: the running count to 0 (the total stays)."""
    registry, record = _find(emu, req)
    with registry.lock:
        registry.reset_running(emu, record)
        registry.write_log(record, AssetLogType.RESET_COUNT, req.user, comment=req.param("comment"))
        return json_response(registry.asset(emu, record))


def put_state(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Asset/State?state=``: 0 Unknown … 6 Scrapped; written to the log."""
    raw = req.param("state")
    if raw is None or raw == "":
        raise HTTPFailure(400, "The state parameter is required.")
    state = _int(req, "state")
    if state not in {s.value for s in AssetState}:
        raise HTTPFailure(400, f"The value '{raw}' is not valid for state: 0 to 6.")
    registry, record = _find(emu, req)
    with registry.lock:
        _set_state(registry, record, state, req.user)
        return json_response(registry.asset(emu, record))


def _service(emu: FakeWATS, req: Request, kind: AssetLogType) -> Response:
    when = _when(req, "dateTime") or now()
    registry, record = _find(emu, req)
    with registry.lock:
        registry.schedule(record, kind, when)
        if kind == AssetLogType.CALIBRATION:
            # The running count limit is "max count until next calibration": it counts anew.
            registry.reset_running(emu, record)
        registry.write_log(record, kind, req.user, comment=req.param("comment"), when=when)
        return json_response(registry.asset(emu, record))


def post_calibration(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Asset/Calibration``: calibrated at ``dateTime`` (default now); the next one
    is due a calibration interval later, and the running count starts again."""
    return _service(emu, req, AssetLogType.CALIBRATION)


def post_maintenance(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Asset/Maintenance``: maintained at ``dateTime`` (default now); the next one
    is due a maintenance interval later."""
    return _service(emu, req, AssetLogType.MAINTENANCE)


def post_message(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Asset/Message`` with ``{"content": …}``: a message in the asset's log."""
    message = decode_json(req.body, AssetMessage, "The message is invalid.")
    if not message.content.strip():
        raise HTTPFailure(400, "The message is invalid. content: the field is required.")
    registry, record = _find(emu, req)
    with registry.lock:
        registry.write_log(record, AssetLogType.MESSAGE, req.user, comment=message.content)
        return json_response(registry.asset(emu, record))


def get_status(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Asset/Status``: the alarm state against the type's limits and intervals."""
    _bool(req, "translate")  # accepted: the emulator's messages are English only
    registry, record = _find(emu, req)
    with registry.lock:
        return json_response(registry.status(emu, record))


def get_log(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Asset/Log``: OData; top 1000, newest first unless told otherwise."""
    query = _odata(req, _LOG_ROW, [("date", True), ("logId", True)])
    registry = asset_registry(emu)
    with registry.lock:
        rows = list(registry.log)
    return _answer(query, rows)


# --- types ---------------------------------------------------------------------------------


def get_types(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Asset/Types``: OData; top 1000 by name unless told otherwise."""
    query = _odata(req, _TYPE_ROW, [("typeName", False)])
    registry = asset_registry(emu)
    with registry.lock:
        rows = [type_row(t) for t in registry.types.values()]
    return _answer(query, rows)


def _check_type(asset_type: AssetType) -> None:
    prefix = "The asset type is invalid."
    if not (asset_type.type_name or "").strip():
        raise HTTPFailure(400, f"{prefix} typeName: the field is required.")
    for name in (
        "running_count_limit",
        "total_count_limit",
        "maintenance_interval",
        "calibration_interval",
        "warning_threshold",
        "alarm_threshold",
    ):
        value = getattr(asset_type, name)
        if value is not None and value < 0:
            wire = msgspec.structs.fields(AssetType)
            field = next(f.encode_name for f in wire if f.name == name)
            raise HTTPFailure(400, f"{prefix} {field}: {value} is negative.")
    warning, alarm = asset_type.warning_threshold, asset_type.alarm_threshold
    if warning is not None and alarm is not None and warning > alarm:
        raise HTTPFailure(
            400, f"{prefix} warningThreshold: {warning} is above the alarmThreshold {alarm}."
        )


def put_type(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Asset/Types``: create, or update the type with this ``typeId`` or name."""
    asset_type = decode_json(req.body, AssetType, "The asset type is invalid.")
    _check_type(asset_type)
    name = (asset_type.type_name or "").strip()
    registry = asset_registry(emu)
    with registry.lock:
        named = next(
            (
                t
                for t in registry.types.values()
                if (t.type_name or "").casefold() == name.casefold()
            ),
            None,
        )
        type_id = asset_type.type_id or (named.type_id if named is not None else None)
        if named is not None and named.type_id != type_id:
            raise HTTPFailure(
                400,
                f"The asset type is invalid. typeName: '{name}' is used by type {named.type_id}.",
            )
        saved = msgspec.structs.replace(
            asset_type, type_id=type_id or uuid.uuid4(), type_name=name, is_readonly=False
        )
        registry.types[str(saved.type_id)] = saved
        return json_response(type_row(saved))
