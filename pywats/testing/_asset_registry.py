"""The emulator's assets: records, types, the log, counts and alarm status.

:class:`AssetRegistry` is the ``asset`` domain's state (``emu.domain_state("asset", …)``); the
routes in :mod:`pywats.testing._asset_routes` read and change it under its lock.

Counts: an asset's total and running counts are what the Count operation added, plus what
stored test reports used it (WSJF ``assets[].usageCount``, which the emulator already totals per
asset serial number: :func:`report_usage`). Reports stored before the asset was created do not
count (the server ignores assets it does not know); a reset of the running count, and a
calibration, start the running count again from what the reports used so far.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from pywats.models.asset import AssetAlarmState, AssetLogType, AssetState, AssetType
from pywats.testing._http import HTTPFailure

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = [
    "AssetRecord",
    "AssetRegistry",
    "asset_registry",
    "report_stats",
    "report_usage",
]


def report_usage(emu: FakeWATS, serial_number: str) -> int:
    """How much the test reports the emulator stored used the asset ``serial_number``.

    The emulator totals each report's ``assets[].usageCount`` per serial number when it stores
    the report.
    """
    return emu.asset_usage(serial_number)


@dataclass
class AssetRecord:
    """One asset as the emulator keeps it (the counts without the reports' usage)."""

    asset_id: str  # lower-case GUID
    serial_number: str
    type_id: str  # lower-case GUID
    first_seen_date: datetime
    parent_asset_id: str | None = None
    asset_name: str | None = None
    part_number: str | None = None
    revision: str | None = None
    client_id: int | None = None
    state: int = AssetState.UNKNOWN
    description: str | None = None
    location: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)
    last_seen_date: datetime | None = None
    last_calibration_date: datetime | None = None
    next_calibration_date: datetime | None = None
    last_maintenance_date: datetime | None = None
    next_maintenance_date: datetime | None = None
    # Count = base + (report usage now - report usage at the mark): see the module docstring.
    total_base: int = 0
    running_base: int = 0
    total_mark: int = 0
    running_mark: int = 0


@dataclass
class AssetRegistry:
    """Every asset, asset type and log record the emulator was told about."""

    assets: dict[str, AssetRecord] = field(default_factory=dict)  # by asset id
    types: dict[str, AssetType] = field(default_factory=dict)  # by type id (lower-case GUID)
    log: list[dict[str, Any]] = field(default_factory=list)
    next_log_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- finding ----------------------------------------------------------------------

    def by_serial(self, serial_number: str) -> AssetRecord | None:
        """The asset with this serial number (compared case-insensitively, as SQL Server does)."""
        wanted = serial_number.casefold()
        return next((a for a in self.assets.values() if a.serial_number.casefold() == wanted), None)

    def by_id(self, asset_id: str) -> AssetRecord | None:
        """The asset with this id (any letter case), or ``None``."""
        key = _guid(asset_id)
        return self.assets.get(key) if key else None

    def find(self, asset_id: str | None, serial_number: str | None) -> AssetRecord:
        """The asset named by ``id`` (first) or ``serialNumber``.

        Raises:
            HTTPFailure: 404 when neither is given or nothing matches.
        """
        if asset_id:
            found = self.by_id(asset_id)
            if found is None:
                raise HTTPFailure(404, f"Asset with id '{asset_id}' was not found.")
            return found
        if serial_number:
            found = self.by_serial(serial_number)
            if found is None:
                raise HTTPFailure(404, f"Asset with serial number '{serial_number}' was not found.")
            return found
        # Both are optional in the server's description: naming no asset finds none.
        raise HTTPFailure(404, "No asset was found: give its id or serialNumber.")

    def asset_type(self, record: AssetRecord) -> AssetType:
        """The record's type (a blank one if it was somehow lost)."""
        return self.types.get(record.type_id) or AssetType(type_id=uuid.UUID(record.type_id))

    def children(self, record: AssetRecord) -> list[AssetRecord]:
        """The direct sub-assets, by serial number."""
        found = [a for a in self.assets.values() if a.parent_asset_id == record.asset_id]
        return sorted(found, key=lambda a: a.serial_number.casefold())

    def descendants(self, record: AssetRecord, levels: int = 0) -> Iterator[AssetRecord]:
        """Sub-assets, breadth first, ``levels`` deep (0: all)."""
        current, depth = [record], 0
        while current and (levels == 0 or depth < levels):
            current = [child for parent in current for child in self.children(parent)]
            depth += 1
            yield from current

    def parent(self, record: AssetRecord) -> AssetRecord | None:
        """The parent asset, if any."""
        return self.assets.get(record.parent_asset_id) if record.parent_asset_id else None

    # --- the log ----------------------------------------------------------------------

    def write_log(
        self,
        record: AssetRecord,
        kind: AssetLogType,
        user: str | None,
        *,
        prop: str | None = None,
        value: str | None = None,
        comment: str | None = None,
        when: datetime | None = None,
    ) -> None:
        """Add a record to the asset's log."""
        self.log.append(
            {
                "logId": self.next_log_id,
                "assetId": record.asset_id,
                "serialNumber": record.serial_number,
                "date": when or now(),
                "user": user,
                "type": int(kind),
                "property": prop,
                "value": value,
                "comment": comment,
            }
        )
        self.next_log_id += 1

    def forget(self, record: AssetRecord) -> None:
        """Delete an asset and its log; its sub-assets move up to its parent."""
        for child in self.children(record):
            child.parent_asset_id = record.parent_asset_id
        self.log = [row for row in self.log if row["assetId"] != record.asset_id]
        del self.assets[record.asset_id]

    # --- counts -----------------------------------------------------------------------

    def counts(self, emu: FakeWATS, record: AssetRecord) -> tuple[int, int]:
        """``(total, running)`` counts, the reports' usage included."""
        used = report_usage(emu, record.serial_number)
        return (
            record.total_base + used - record.total_mark,
            record.running_base + used - record.running_mark,
        )

    def start_counting(
        self, emu: FakeWATS, record: AssetRecord, total: int = 0, running: int = 0
    ) -> None:
        """Count from ``total``/``running`` and the reports' usage from now on (a new asset, a
        new serial number: reports stored before do not count)."""
        record.total_base, record.running_base = total, running
        record.total_mark = record.running_mark = report_usage(emu, record.serial_number)

    def add_count(self, record: AssetRecord, delta: int) -> None:
        """Add ``delta`` uses to the total and running counts."""
        record.total_base += delta
        record.running_base += delta

    def reset_running(self, emu: FakeWATS, record: AssetRecord) -> None:
        """Set the running count to 0 (the total stays)."""
        record.running_base = 0
        record.running_mark = report_usage(emu, record.serial_number)

    def schedule(self, record: AssetRecord, kind: AssetLogType, when: datetime) -> None:
        """Record a calibration or maintenance at ``when`` and move the next one by the
        type's interval (none without an interval)."""
        asset_type = self.asset_type(record)
        if kind == AssetLogType.CALIBRATION:
            record.last_calibration_date = when
            record.next_calibration_date = _plus_days(when, asset_type.calibration_interval)
        else:
            record.last_maintenance_date = when
            record.next_maintenance_date = _plus_days(when, asset_type.maintenance_interval)

    # --- answers ----------------------------------------------------------------------

    def row(self, emu: FakeWATS, record: AssetRecord) -> dict[str, Any]:
        """The asset as ``GET /api/Asset`` lists it (the OData ``Asset``)."""
        total, running = self.counts(emu, record)
        parent = self.parent(record)
        return {
            "assetId": record.asset_id,
            "parentAssetId": record.parent_asset_id,
            "assetName": record.asset_name,
            "serialNumber": record.serial_number,
            "parentSerialNumber": parent.serial_number if parent else None,
            "partNumber": record.part_number,
            "revision": record.revision,
            "typeId": record.type_id,
            "state": record.state,
            "description": record.description,
            "location": record.location,
            "firstSeenDate": record.first_seen_date,
            "lastSeenDate": record.last_seen_date,
            "lastMaintenanceDate": record.last_maintenance_date,
            "nextMaintenanceDate": record.next_maintenance_date,
            "lastCalibrationDate": record.last_calibration_date,
            "nextCalibrationDate": record.next_calibration_date,
            "totalCount": total,
            "runningCount": running,
            "xmlData": tags_xml(record.tags),
        }

    def asset(self, emu: FakeWATS, record: AssetRecord, *, children: bool = True) -> dict[str, Any]:
        """The asset as ``GET /api/Asset/{assetId}`` gives it: type, tags and direct children."""
        out = self.row(emu, record)
        del out["xmlData"]
        out["ClientId"] = record.client_id
        out["tags"] = [{"key": k, "value": v} for k, v in record.tags.items()]
        out["assetType"] = type_row(self.asset_type(record))
        if children:
            out["assetChildren"] = [
                self.asset(emu, child, children=False) for child in self.children(record)
            ]
        return out

    def status(self, emu: FakeWATS, record: AssetRecord) -> dict[str, Any]:
        """The asset's alarm status against its type (``GET /api/Asset/Status``)."""
        asset_type = self.asset_type(record)
        total, running = self.counts(emu, record)
        moment = now()
        checks = [
            _count_check("Running count", running, asset_type.running_count_limit, asset_type),
            _count_check("Total count", total, asset_type.total_count_limit, asset_type),
            _date_check(
                "Calibration",
                record.last_calibration_date,
                record.next_calibration_date,
                asset_type.calibration_interval,
                asset_type,
                moment,
            ),
            _date_check(
                "Maintenance",
                record.last_maintenance_date,
                record.next_maintenance_date,
                asset_type.maintenance_interval,
                asset_type,
                moment,
            ),
        ]
        level = max(check.level for check in checks)
        messages = [check.message for check in checks if check.level > AssetAlarmState.OK]
        calibration, maintenance = checks[2], checks[3]
        return {
            "assetId": record.asset_id,
            "serialNumber": record.serial_number,
            "alarmState": level,
            "message": "; ".join(messages) if messages else "OK",
            "runningCount": running,
            "runningCountLimit": asset_type.running_count_limit,
            "runningCountExceeded": checks[0].over,
            "totalCount": total,
            "totalCountLimit": asset_type.total_count_limit,
            "totalCountExceeded": checks[1].over,
            "lastCalibrationDate": record.last_calibration_date,
            "nextCalibrationDate": record.next_calibration_date,
            "daysSinceCalibration": calibration.used,
            "calibrationDaysOverdue": calibration.over,
            "isDaysSinceCalibrationUnknown": record.last_calibration_date is None,
            "lastMaintenanceDate": record.last_maintenance_date,
            "nextMaintenanceDate": record.next_maintenance_date,
            "daysSinceMaintenance": maintenance.used,
            "maintenanceDaysOverdue": maintenance.over,
            "isDaysSinceMaintenanceUnknown": record.last_maintenance_date is None,
        }


def report_stats(emu: FakeWATS, serial_number: str | None) -> dict[str, Any] | None:
    """A report's ``assetStats[]`` entry for a known asset (``None`` for an unknown one): its
    counts, how far over its type's limits, and days since calibration and maintenance.

    For ``FakeWATS.asset_stats``; the reports' usage comes from ``FakeWATS.asset_usage``.
    """
    registry = asset_registry(emu)
    with registry.lock:
        record = registry.by_serial(serial_number) if serial_number else None
        if record is None:
            return None
        status = registry.status(emu, record)
    return {
        "assetSN": record.serial_number,
        "runningCount": status["runningCount"],
        "runningCountExceeded": status["runningCountExceeded"],
        "totalCount": status["totalCount"],
        "totalCountExceeded": status["totalCountExceeded"],
        "daysSinceCalibration": status["daysSinceCalibration"],
        "calibrationDaysOverdue": status["calibrationDaysOverdue"],
        "isDaysSinceCalibrationUnknown": status["isDaysSinceCalibrationUnknown"],
        "daysSinceMaintenance": status["daysSinceMaintenance"],
        "maintenanceDaysOverdue": status["maintenanceDaysOverdue"],
        "isDaysSinceMaintenanceUnknown": status["isDaysSinceMaintenanceUnknown"],
        "message": status["message"],
    }


def asset_registry(emu: FakeWATS) -> AssetRegistry:
    """The emulator's assets."""
    return emu.domain_state("asset", AssetRegistry)


def now() -> datetime:
    """The emulator's clock (UTC)."""
    return datetime.now(UTC)


def type_row(asset_type: AssetType) -> dict[str, Any]:
    """An asset type as the server lists it (every member, nulls included)."""
    return {
        "typeId": str(asset_type.type_id) if asset_type.type_id else None,
        "typeName": asset_type.type_name,
        "runningCountLimit": asset_type.running_count_limit,
        "totalCountLimit": asset_type.total_count_limit,
        "maintenanceInterval": asset_type.maintenance_interval,
        "calibrationInterval": asset_type.calibration_interval,
        "warningThreshold": asset_type.warning_threshold,
        "alarmThreshold": asset_type.alarm_threshold,
        "isReadonly": bool(asset_type.is_readonly),
        "icon": asset_type.icon,
    }


def tags_xml(tags: dict[str, str | None]) -> str | None:
    """The tags as the list's ``xmlData`` (a ``<Root>`` of key/value elements), or ``None``."""
    if not tags:
        return None
    items = "".join(
        f"<Tag Key={quoteattr(key)} Value={quoteattr(value or '')}/>" for key, value in tags.items()
    )
    return f"<Root>{items}</Root>"


def _guid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _plus_days(when: datetime, days: float | None) -> datetime | None:
    return when + timedelta(days=days) if days else None


@dataclass(frozen=True)
class _Check:
    """One limit check of the status: how much is used, by how much it is over, the level."""

    level: int = AssetAlarmState.OK
    message: str = ""
    used: Any = None  # a count (int) or days (float); None when unknown
    over: Any = None


def _level(percent: float, asset_type: AssetType) -> int:
    """The alarm level at ``percent`` of a limit: alarm from the alarm threshold (100 % when
    the type has none), warning from the warning threshold."""
    alarm = asset_type.alarm_threshold or 100.0
    if percent >= alarm:
        return AssetAlarmState.ALARM
    warning = asset_type.warning_threshold
    if warning and percent >= warning:
        return AssetAlarmState.WARNING
    return AssetAlarmState.OK


def _describe(level: int, asset_type: AssetType) -> str:
    if level == AssetAlarmState.ALARM:
        return f"the alarm threshold ({asset_type.alarm_threshold or 100.0:g} %)"
    return f"the warning threshold ({asset_type.warning_threshold:g} %)"


def _count_check(name: str, count: int, limit: int | None, asset_type: AssetType) -> _Check:
    if not limit:
        return _Check(used=count, over=0)
    percent = 100.0 * count / limit
    level = _level(percent, asset_type)
    message = ""
    if level:
        message = (
            f"{name} {count} of {limit} ({percent:.0f} %) reached {_describe(level, asset_type)}"
        )
    return _Check(level, message, count, max(0, count - limit))


def _date_check(
    name: str,
    last: datetime | None,
    due: datetime | None,
    interval: float | None,
    asset_type: AssetType,
    moment: datetime,
) -> _Check:
    if last is None:
        return _Check()  # never done: the days since are unknown, no alarm from them
    days = (moment - last).total_seconds() / 86400
    overdue = max(0.0, (moment - due).total_seconds() / 86400) if due else 0.0
    if not interval:
        return _Check(used=round(days, 2), over=round(overdue, 2))
    percent = 100.0 * days / interval
    level = max(_level(percent, asset_type), AssetAlarmState.ALARM if overdue > 0 else 0)
    message = ""
    if level:
        message = (
            f"{name} {days:.1f} of {interval:g} days ({percent:.0f} %) "
            f"reached {_describe(level, asset_type)}"
        )
    return _Check(level, message, round(days, 2), round(overdue, 2))
