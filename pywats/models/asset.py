"""Assets: test equipment (fixtures, instruments…), their types, log and alarm status.

An asset is identified by its ``asset_id`` (a GUID the server gives it) or its
``serial_number`` (unique). Its *type* says how often it must be calibrated and maintained and
how much it may be used (count limits), with warning and alarm thresholds in percent.

The server's asset and asset-list answers differ a little (the list has ``xmlData`` and no
collections); :class:`Asset` reads both.
"""

from __future__ import annotations

import builtins
import enum
import uuid
from datetime import datetime
from typing import TypeVar

import msgspec

from pywats.models._base import Dto

_E = TypeVar("_E", bound=enum.IntEnum)

__all__ = [
    "Asset",
    "AssetAlarmState",
    "AssetLog",
    "AssetLogType",
    "AssetMessage",
    "AssetState",
    "AssetStatus",
    "AssetTag",
    "AssetType",
]


class AssetState(enum.IntEnum):
    """Where an asset is in its life (``state``), as the server numbers it."""

    UNKNOWN = 0
    IN_OPERATION = 1
    IN_TRANSIT = 2
    IN_MAINTENANCE = 3
    IN_CALIBRATION = 4
    IN_STORAGE = 5
    SCRAPPED = 6


class AssetLogType(enum.IntEnum):
    """What an asset log record is about (``AssetLog.type``).

    The server's description names 0 to 5; 6 (state change) is what the server writes when
    the state is set. :attr:`AssetLog.type` stays a plain ``int``, so a kind the server adds
    later (the description reserves 7 and 8) does not make a log unreadable; compare it with
    these members.
    """

    MESSAGE = 0
    REGISTER = 1  # the asset was created
    UPDATE = 2  # a property was changed (``property``/``value`` say which, to what)
    RESET_COUNT = 3  # the running count was reset
    CALIBRATION = 4
    MAINTENANCE = 5
    STATE_CHANGE = 6


class AssetAlarmState(enum.IntEnum):
    """How an asset stands against its type's limits (:attr:`AssetStatus.alarm_state`)."""

    OK = 0
    WARNING = 1
    ALARM = 2


def _known(kind: type[_E], value: int | None) -> _E | int | None:
    """``value`` as a member of ``kind``, or the number itself when ``kind`` has no such member."""
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return value


class AssetTag(Dto):
    """A tag of an asset: a key and its value (the server's ``Setting``)."""

    key: str
    value: str | None = None
    change: int | None = None  # the server's change marker; not needed to set a tag


class AssetType(Dto):
    """An asset type: its limits and intervals, shared by every asset of the type.

    Attributes:
        type_id: the type's GUID (given by the server when the type is created).
        type_name: the name (required).
        running_count_limit: uses allowed until the next calibration.
        total_count_limit: uses allowed in the asset's lifetime.
        calibration_interval: days between calibrations (fractions allowed).
        maintenance_interval: days between maintenances.
        warning_threshold: percent of a limit or interval at which the asset is in warning.
        alarm_threshold: percent at which it is in alarm.
        is_readonly: a type the server ships and does not let you change.
    """

    type_id: uuid.UUID | None = None
    type_name: str | None = None
    running_count_limit: int | None = None
    total_count_limit: int | None = None
    maintenance_interval: float | None = None
    calibration_interval: float | None = None
    warning_threshold: float | None = None
    alarm_threshold: float | None = None
    is_readonly: bool | None = None
    icon: str | None = None


class AssetLog(Dto):
    """One record of an asset's log: a message, a change, a calibration…

    ``type`` is an :class:`AssetLogType` number; ``property`` and ``value`` name a changed
    property and its new value (update and state-change records); ``comment`` holds a
    message's text or the comment given with a calibration, maintenance or reset.
    """

    log_id: int | None = None
    asset_id: str | None = None
    serial_number: str | None = None
    date: datetime | None = None
    user: str | None = None
    type: int | None = None
    property: str | None = None
    value: str | None = None
    comment: str | None = None

    # `property` is a field name here: the decorator is reached through builtins.
    @builtins.property
    def kind(self) -> AssetLogType | int | None:
        """``type`` as an :class:`AssetLogType` (the number if it is a new one)."""
        return _known(AssetLogType, self.type)


class Asset(Dto):
    """An asset (a fixture, an instrument…).

    To create one, ``serial_number`` and ``type_id`` are required; ``asset_id`` is given by the
    server. Counts and calibration/maintenance dates are read-only here: the server changes
    them through its own operations (``increment_count``, ``record_calibration``…).

    ``tags``, ``asset_children`` (direct sub-assets) and ``asset_type`` come with a single asset
    (:meth:`~pywats._calls.asset.AssetDomain.get_asset`); ``xml_data`` (the tags as XML) with
    asset lists.
    """

    asset_id: str | None = None
    parent_asset_id: str | None = None
    serial_number: str | None = None
    parent_serial_number: str | None = None
    asset_name: str | None = None
    part_number: str | None = None
    revision: str | None = None
    type_id: uuid.UUID | None = None
    client_id: int | None = msgspec.field(default=None, name="ClientId")
    state: AssetState | None = None
    description: str | None = None
    location: str | None = None
    first_seen_date: datetime | None = None
    last_seen_date: datetime | None = None
    last_maintenance_date: datetime | None = None
    next_maintenance_date: datetime | None = None
    last_calibration_date: datetime | None = None
    next_calibration_date: datetime | None = None
    total_count: int | None = None
    running_count: int | None = None
    tags: list[AssetTag] | None = None
    asset_children: list[Asset] | None = None
    asset_type: AssetType | None = None
    asset_log: list[AssetLog] | None = None
    xml_data: str | None = None


class AssetMessage(Dto):
    """The body of a message posted to an asset's log."""

    content: str


class AssetStatus(Dto):
    """An asset's alarm status against its type's limits and intervals.

    ``alarm_state`` is the worst of the four checks (running count, total count, days since
    calibration, days since maintenance); ``message`` says which check raised it. The
    ``*_exceeded`` counts and ``*_days_overdue`` are 0 while within the limit; the
    ``is_days_since_*_unknown`` flags are set while the asset was never calibrated/maintained.
    Any member may be absent: the server describes this answer only as an object.
    """

    alarm_state: int | None = None
    message: str | None = None
    asset_id: str | None = None
    serial_number: str | None = None
    running_count: int | None = None
    running_count_limit: int | None = None
    running_count_exceeded: int | None = None
    total_count: int | None = None
    total_count_limit: int | None = None
    total_count_exceeded: int | None = None
    last_calibration_date: datetime | None = None
    next_calibration_date: datetime | None = None
    days_since_calibration: float | None = None
    calibration_days_overdue: float | None = None
    is_days_since_calibration_unknown: bool | None = None
    last_maintenance_date: datetime | None = None
    next_maintenance_date: datetime | None = None
    days_since_maintenance: float | None = None
    maintenance_days_overdue: float | None = None
    is_days_since_maintenance_unknown: bool | None = None

    @property
    def alarm(self) -> AssetAlarmState | int | None:
        """``alarm_state`` as an :class:`AssetAlarmState` (the number if it is a new one)."""
        return _known(AssetAlarmState, self.alarm_state)
