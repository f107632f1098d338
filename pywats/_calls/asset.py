"""``api.asset``: assets (fixtures, instruments), their types, counts, calibration, maintenance,
log and alarm status (tag Asset of the server's API description).

Most operations name one asset by ``asset_id`` or ``serial_number`` (give one of the two). The
server reads ``GET /api/Asset/{segment}`` as an asset id when the segment is a GUID and as a
serial number otherwise, so :meth:`AssetDomain.get_asset` and
:meth:`AssetDomain.get_asset_by_serial` fall back to an OData query when the value would be read
the other way (a serial number that looks like a GUID).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import overload

import msgspec

from pywats._call import Call, Flow, json_call, segment
from pywats._calls._asset_calls import (
    BASE,
    PAGE,
    AssetId,
    Filter,
    as_flag,
    as_int,
    as_optional_text,
    as_tags,
    as_text,
    as_type_id,
    body,
    by_serial,
    command,
    is_guid,
    listing,
    one,
    pages,
    save,
    save_type,
    selector,
    service,
)
from pywats._domain import Async, Domain, ModeT, Sync, operation
from pywats._errors import InvalidArgumentError
from pywats.models.asset import (
    Asset,
    AssetLog,
    AssetMessage,
    AssetState,
    AssetStatus,
    AssetTag,
    AssetType,
)
from pywats.odata import F

__all__ = ["AssetDomain", "AssetId"]


class AssetDomain(Domain[ModeT]):
    """Assets, asset types, counts, calibration and maintenance, the asset log and status."""

    # --- assets ---------------------------------------------------------------------------

    @operation
    def get_assets(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | None = None,
    ) -> Call[list[Asset]]:
        """Assets matching an OData ``filter`` (e.g. ``F.running_count > 1000``).

        The server returns at most 1000 unless ``top`` says otherwise, ordered by ``assetId``
        unless ``orderby`` says otherwise (e.g. ``"firstSeenDate desc"``); use
        :meth:`iter_assets` for all of them. The list carries the tags as ``xml_data``, not
        ``tags``/children/type (:meth:`get_asset` has those).
        """
        return listing(BASE, Asset, filter, top, skip, orderby)

    @overload
    def iter_assets(
        self: AssetDomain[Sync],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[Asset]: ...

    @overload
    def iter_assets(
        self: AssetDomain[Async],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> AsyncIterator[Asset]: ...

    def iter_assets(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[Asset] | AsyncIterator[Asset]:
        """Every asset matching ``filter``, fetched ``page_size`` at a time as you iterate.

        On ``pyWATS`` an iterator, on ``AsyncWATS`` an async iterator (``async for``). Pages
        are ordered by ``orderby`` and then by ``assetId``, so none is skipped or repeated.
        """
        return pages(self._client, BASE, Asset, filter, orderby, "assetId", page_size)

    @operation
    def get_asset(
        self, asset_id: AssetId | None = None, serial_number: str | None = None
    ) -> Flow[Asset]:
        """One asset, with its tags, its type and its direct sub-assets.

        Give ``asset_id`` or ``serial_number``.

        Raises:
            NotFoundError: no such asset.
            InvalidArgumentError: neither or both given, or not text.
        """
        selected = selector(asset_id, serial_number)
        if "serialNumber" in selected:
            found: Asset = yield from by_serial(str(selected["serialNumber"]))
            return found
        text = str(selected["id"])
        if is_guid(text):
            found = yield json_call("GET", f"{BASE}/{segment(text)}", Asset)
            return found
        # The server would read a segment that is not a GUID as a serial number.
        rows: list[Asset] = yield listing(BASE, Asset, F.asset_id == text, 1, None, None)
        return one(rows, f"the id {text!r}", "GET", BASE)

    @operation
    def get_asset_by_serial(self, serial_number: str) -> Flow[Asset]:
        """The asset with this serial number (see :meth:`get_asset`).

        Raises:
            NotFoundError: no asset has this serial number.
        """
        found: Asset = yield from by_serial(as_text("serial_number", serial_number))
        return found

    @operation
    def create_asset(
        self,
        serial_number: str,
        type_id: uuid.UUID | str,
        asset_name: str | None = None,
        description: str | None = None,
        location: str | None = None,
        parent_asset_id: AssetId | None = None,
        parent_serial_number: str | None = None,
        *,
        part_number: str | None = None,
        revision: str | None = None,
        state: AssetState | None = None,
        client_id: int | None = None,
        tags: Mapping[str, str] | list[AssetTag] | None = None,
    ) -> Call[Asset]:
        """Create an asset of the type ``type_id`` and return it as saved (with its id).

        If an asset already has ``serial_number``, the server updates that one instead.
        ``parent_asset_id`` or ``parent_serial_number`` makes it a sub-asset.

        Raises:
            ValidationError: the server refused it (an unknown type, parent…; the message
                names the field).
            InvalidArgumentError: an argument of the wrong type.
        """
        asset = Asset(
            serial_number=as_text("serial_number", serial_number),
            type_id=as_type_id(type_id),
            asset_name=asset_name,
            description=description,
            location=location,
            parent_asset_id=str(parent_asset_id) if parent_asset_id is not None else None,
            parent_serial_number=parent_serial_number,
            part_number=part_number,
            revision=revision,
            state=state,
            client_id=client_id,
            tags=as_tags(tags),
        )
        return save(asset, "asset")

    @operation
    def update_asset(self, asset: Asset) -> Call[Asset]:
        """Save changes to an asset (found by ``asset_id``, else by ``serial_number``).

        Members left ``None`` keep their value (``""`` clears one); counts and calibration/
        maintenance dates are not changed this way (use :meth:`increment_count`,
        :meth:`record_calibration`…). Returns the asset as saved.
        """
        if not isinstance(asset, Asset):
            raise InvalidArgumentError(f"asset must be an Asset, not {type(asset).__name__}")
        # What the server computes or lists separately is not sent back.
        sent = msgspec.structs.replace(
            asset, asset_children=None, asset_type=None, asset_log=None, xml_data=None
        )
        return save(sent, "asset")

    @operation
    def delete_asset(
        self, asset_id: AssetId | None = None, serial_number: str | None = None
    ) -> Call[None]:
        """Delete an asset and its log; its sub-assets move to its parent.

        Raises:
            NotFoundError: no such asset.
        """
        return command("DELETE", BASE, selector(asset_id, serial_number))

    @operation
    def get_child_assets(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        level: int | None = None,
    ) -> Call[list[Asset]]:
        """The sub-assets of an asset: ``level`` 1 for its direct children, 0 (default) for
        all of them, breadth first.

        Raises:
            NotFoundError: no such asset.
        """
        params = selector(asset_id, serial_number)
        params["level"] = as_int("level", level, 0)
        return json_call("GET", f"{BASE}/SubAssets", list[Asset], params=params, empty=[])

    # --- state, status, counts --------------------------------------------------------------

    @operation
    def get_status(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        *,
        translate: bool | None = None,
        culture_code: str | None = None,
    ) -> Call[AssetStatus]:
        """The asset's alarm status: OK, warning or alarm against its type's count limits and
        calibration/maintenance intervals, and a message saying why.

        Args:
            translate: translate the message (the server's default: yes).
            culture_code: into this language, e.g. ``zh-CN``.
        """
        params = selector(asset_id, serial_number)
        params["translate"] = as_flag("translate", translate)
        params["cultureCode"] = as_optional_text("culture_code", culture_code)
        return json_call("GET", f"{BASE}/Status", AssetStatus, params=params)

    @operation
    def set_asset_state(
        self,
        state: AssetState | int,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
    ) -> Call[None]:
        """Set the asset's :class:`~pywats.models.asset.AssetState` (written to its log)."""
        value = as_int("state", state)
        if value not in {s.value for s in AssetState}:
            raise InvalidArgumentError(f"state must be an AssetState (0 to 6), not {state!r}")
        params = selector(asset_id, serial_number)
        params["state"] = value
        return command("PUT", f"{BASE}/State", params)

    @operation
    def increment_count(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        amount: int | None = None,
        increment_children: bool = False,
        *,
        total_count: int | None = None,
        culture_code: str | None = None,
    ) -> Call[None]:
        """Add uses to the asset's running and total counts.

        Args:
            amount: uses to add (default 1).
            increment_children: add them to every sub-asset too.
            total_count: instead of ``amount``: the new total count; the difference to the
                current one is added to both counts.

        Not retried after a lost answer when adding ``amount`` (it would count twice).
        """
        if amount is not None and total_count is not None:
            raise InvalidArgumentError("give amount or total_count, not both")
        params = selector(asset_id, serial_number)
        params["totalCount"] = as_int("total_count", total_count, 0)
        if total_count is None:
            params["incrementBy"] = as_int("amount", 1 if amount is None else amount, 0)
        params["incrementChildren"] = as_flag("increment_children", increment_children) or None
        params["cultureCode"] = as_optional_text("culture_code", culture_code)
        return command("PUT", f"{BASE}/Count", params, idempotent=total_count is not None)

    @operation
    def reset_running_count(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        comment: str | None = None,
    ) -> Call[None]:
        """Set the running count to 0 (the total count stays); ``comment`` goes to the log."""
        params = selector(asset_id, serial_number)
        params["comment"] = as_optional_text("comment", comment)
        return command("POST", f"{BASE}/ResetRunningCount", params)

    # --- calibration, maintenance, log ------------------------------------------------------

    @operation
    def record_calibration(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        date_time: datetime | None = None,
        comment: str | None = None,
    ) -> Call[None]:
        """Record that the asset was calibrated (at ``date_time``, default now).

        The next calibration is then due one calibration interval (of the asset's type) later.
        """
        return service("Calibration", asset_id, serial_number, date_time, comment)

    @operation
    def record_maintenance(
        self,
        asset_id: AssetId | None = None,
        serial_number: str | None = None,
        date_time: datetime | None = None,
        comment: str | None = None,
    ) -> Call[None]:
        """Record that the asset had maintenance (at ``date_time``, default now).

        The next maintenance is then due one maintenance interval (of its type) later.
        """
        return service("Maintenance", asset_id, serial_number, date_time, comment)

    @operation
    def add_log_message(
        self,
        asset_id: AssetId | None = None,
        message: str = "",
        *,
        serial_number: str | None = None,
        culture_code: str | None = None,
    ) -> Call[None]:
        """Write ``message`` to the asset's log (the server records who wrote it).

        Raises:
            ValidationError: ``message`` is empty.
        """
        params = selector(asset_id, serial_number)
        params["cultureCode"] = as_optional_text("culture_code", culture_code)
        content = body("message", AssetMessage(content=message), AssetMessage)
        return command("POST", f"{BASE}/Message", params, content=content)

    @operation
    def get_asset_log(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | None = None,
    ) -> Call[list[AssetLog]]:
        """Asset log records matching an OData ``filter`` (e.g. ``F.serial_number == "X"``).

        Newest first and at most 1000 unless ``orderby``/``top`` say otherwise; use
        :meth:`iter_asset_log` for all of them. ``type`` is an
        :class:`~pywats.models.asset.AssetLogType` number.
        """
        return listing(f"{BASE}/Log", AssetLog, filter, top, skip, orderby)

    @overload
    def iter_asset_log(
        self: AssetDomain[Sync],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[AssetLog]: ...

    @overload
    def iter_asset_log(
        self: AssetDomain[Async],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> AsyncIterator[AssetLog]: ...

    def iter_asset_log(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[AssetLog] | AsyncIterator[AssetLog]:
        """Every log record matching ``filter``, fetched a page at a time (see
        :meth:`iter_assets`); newest first unless ``orderby`` says otherwise."""
        order = orderby if orderby is not None else "date desc"
        return pages(self._client, f"{BASE}/Log", AssetLog, filter, order, "logId", page_size)

    # --- types ------------------------------------------------------------------------------

    @operation
    def get_asset_types(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | None = None,
    ) -> Call[list[AssetType]]:
        """Asset types matching an OData ``filter``, by name unless ``orderby`` says otherwise
        (at most 1000 unless ``top`` says otherwise)."""
        return listing(f"{BASE}/Types", AssetType, filter, top, skip, orderby)

    @overload
    def iter_asset_types(
        self: AssetDomain[Sync],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[AssetType]: ...

    @overload
    def iter_asset_types(
        self: AssetDomain[Async],
        filter: Filter | None = None,
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> AsyncIterator[AssetType]: ...

    def iter_asset_types(
        self,
        filter: Filter | None = None,  # noqa: A002 - OData's own name
        *,
        orderby: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[AssetType] | AsyncIterator[AssetType]:
        """Every asset type matching ``filter``, a page at a time (see :meth:`iter_assets`)."""
        order = orderby if orderby is not None else "typeName"
        return pages(self._client, f"{BASE}/Types", AssetType, filter, order, "typeId", page_size)

    @operation
    def create_asset_type(
        self,
        type_name: str,
        running_count_limit: int | None = None,
        total_count_limit: int | None = None,
        calibration_interval: float | None = None,
        maintenance_interval: float | None = None,
        warning_threshold: float | None = None,
        alarm_threshold: float | None = None,
        *,
        icon: str | None = None,
    ) -> Call[AssetType]:
        """Create an asset type (or update the one with this name); returns it with its id.

        Args:
            running_count_limit: uses allowed between calibrations.
            total_count_limit: uses allowed in an asset's life.
            calibration_interval: days between calibrations (e.g. 365 or 0.5).
            maintenance_interval: days between maintenances.
            warning_threshold: percent of a limit/interval from which an asset is in warning.
            alarm_threshold: percent from which it is in alarm.
        """
        asset_type = AssetType(
            type_name=as_text("type_name", type_name),
            running_count_limit=running_count_limit,
            total_count_limit=total_count_limit,
            calibration_interval=calibration_interval,
            maintenance_interval=maintenance_interval,
            warning_threshold=warning_threshold,
            alarm_threshold=alarm_threshold,
            icon=icon,
        )
        return save_type(asset_type)

    @operation
    def update_asset_type(self, asset_type: AssetType) -> Call[AssetType]:
        """Save an asset type (found by ``type_id``, else by ``type_name``); returns it."""
        return save_type(asset_type)
