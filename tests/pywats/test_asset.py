"""``api.asset`` against the emulator, blocking and async: assets, types, counts, calibration,
maintenance, the log and the alarm status; bad input gives named pywats errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trio

import pywats
from pywats import AsyncWATS, CompOp, ReportBuilder, RetryPolicy, pyWATS
from pywats._errors import InvalidArgumentError
from pywats.models.asset import (
    Asset,
    AssetAlarmState,
    AssetLogType,
    AssetState,
    AssetTag,
    AssetType,
)
from pywats.odata import F
from pywats.testing import FakeWATS, Fault
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()


# --- helpers ---------------------------------------------------------------------------------


def _type(api: pyWATS, name: str = "DMM", **limits: Any) -> AssetType:
    return api.asset.create_asset_type(name, **limits)


def _asset(api: pyWATS, serial: str = "DMM-1", **kwargs: Any) -> Asset:
    asset_type = kwargs.pop("asset_type", None) or _type(api)
    assert asset_type.type_id is not None
    return api.asset.create_asset(serial, asset_type.type_id, **kwargs)


def _submit_use(api: pyWATS, asset_serial: str, usage: int, unit: str = "SN-1") -> None:
    """Submit a test report that used the asset ``usage`` times."""
    uut = ReportBuilder.uut(
        pn="PN-1", sn=unit, rev="A", process_code=50,
        station="ST-1", location="Lab", purpose="Test",
    )  # fmt: skip
    uut.root.numeric("Voltage", 3.3, CompOp.GELE, low=3.0, high=3.6, unit="V")
    uut.asset(asset_serial, usage)
    api.report.submit_report(uut.build())


def _counts(api: pyWATS, serial: str) -> tuple[int | None, int | None]:
    found = api.asset.get_asset_by_serial(serial)
    return found.total_count, found.running_count


def _log(api: pyWATS, serial: str) -> list[tuple[int | None, str | None, str | None]]:
    """The asset's log, oldest first: (type, property, comment)."""
    rows = api.asset.get_asset_log(F.serial_number == serial, orderby="logId")
    return [(row.type, row.property, row.comment) for row in rows]


# --- asset types -----------------------------------------------------------------------------


def test_asset_type_created_listed_and_filtered(api: pyWATS) -> None:
    dmm = _type(api, "DMM", calibration_interval=365.0, running_count_limit=100)
    fixture = _type(api, "Fixture", maintenance_interval=30.0)
    assert dmm.type_id is not None
    assert fixture.type_id not in (None, dmm.type_id)
    assert dmm.calibration_interval == 365.0
    assert dmm.running_count_limit == 100
    assert [t.type_name for t in api.asset.get_asset_types()] == ["DMM", "Fixture"]
    found = api.asset.get_asset_types(F.calibration_interval == 365)
    assert [t.type_id for t in found] == [dmm.type_id]
    assert [t.type_name for t in api.asset.get_asset_types(orderby="typeName desc")] == [
        "Fixture",
        "DMM",
    ]


def test_asset_type_update_by_id_and_by_name(api: pyWATS) -> None:
    dmm = _type(api, "DMM", calibration_interval=365.0)
    renamed = api.asset.update_asset_type(AssetType(type_id=dmm.type_id, type_name="Meter"))
    assert renamed.type_id == dmm.type_id
    assert renamed.type_name == "Meter"
    again = _type(api, "meter", calibration_interval=180.0)  # the same name: that type
    assert again.type_id == dmm.type_id
    assert again.calibration_interval == 180.0
    assert len(api.asset.get_asset_types()) == 1


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"calibration_interval": -1.0}, "calibrationInterval"),
        ({"running_count_limit": -5}, "runningCountLimit"),
        ({"warning_threshold": 90.0, "alarm_threshold": 80.0}, "warningThreshold"),
    ],
)
def test_invalid_asset_type_is_refused_naming_the_field(
    api: pyWATS, limits: dict[str, Any], field: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=field) as caught:
        _type(api, **limits)
    assert caught.value.status == 400
    assert api.asset.get_asset_types() == []


def test_asset_type_needs_a_name(api: pyWATS) -> None:
    with pytest.raises(InvalidArgumentError, match="type_name"):
        api.asset.create_asset_type("  ")
    with pytest.raises(pywats.ValidationError, match="typeName"):
        api.asset.update_asset_type(AssetType(calibration_interval=1.0))
    wrong: Any = {"typeName": "DMM"}
    with pytest.raises(InvalidArgumentError, match="must be a AssetType, not dict"):
        api.asset.update_asset_type(wrong)


def test_asset_types_bad_query_is_a_validation_error(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="unknown property"):
        api.asset.get_asset_types(orderby="color")


# --- assets ----------------------------------------------------------------------------------


def test_created_asset_is_found_by_id_serial_number_and_query(api: pyWATS) -> None:
    created = _asset(api, "DMM-1", asset_name="Bench DMM", location="Lab 1", tags={"Cal": "A"})
    assert created.asset_id is not None
    assert uuid.UUID(created.asset_id)
    assert created.state == AssetState.UNKNOWN
    assert created.first_seen_date is not None
    by_id = api.asset.get_asset(created.asset_id)
    assert by_id.serial_number == "DMM-1"
    assert by_id.asset_name == "Bench DMM"
    assert by_id.tags == [AssetTag(key="Cal", value="A")]
    assert by_id.asset_type is not None
    assert by_id.asset_type.type_name == "DMM"
    assert api.asset.get_asset(uuid.UUID(created.asset_id)).asset_id == created.asset_id
    assert api.asset.get_asset_by_serial("dmm-1").asset_id == created.asset_id
    assert api.asset.get_asset(serial_number="DMM-1").asset_id == created.asset_id
    listed = api.asset.get_assets(F.location == "Lab 1")
    assert [a.asset_id for a in listed] == [created.asset_id]
    assert listed[0].xml_data is not None
    assert 'Key="Cal"' in listed[0].xml_data
    assert api.asset.get_assets(F.location == "Lab 2") == []
    assert [a.serial_number for a in api.asset.get_assets(top=1)] == ["DMM-1"]


def test_serial_number_that_looks_like_a_guid(api: pyWATS) -> None:
    serial = str(uuid.uuid4())
    created = _asset(api, serial)
    # The path would read the GUID as an id: the client asks by query instead.
    assert api.asset.get_asset_by_serial(serial).asset_id == created.asset_id


def test_unknown_asset_is_not_found(api: pyWATS) -> None:
    _asset(api)
    with pytest.raises(pywats.NotFoundError, match="NOPE"):
        api.asset.get_asset_by_serial("NOPE")
    with pytest.raises(pywats.NotFoundError):
        api.asset.get_asset(str(uuid.uuid4()))
    with pytest.raises(pywats.NotFoundError, match="not-a-guid"):
        api.asset.get_asset("not-a-guid")
    with pytest.raises(pywats.NotFoundError):
        api.asset.get_asset(serial_number=str(uuid.uuid4()))


def test_asset_needs_a_known_type(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="typeId") as caught:
        api.asset.create_asset("DMM-1", uuid.uuid4())
    assert caught.value.status == 400
    with pytest.raises(InvalidArgumentError, match="type_id"):
        api.asset.create_asset("DMM-1", "not-a-guid")
    with pytest.raises(InvalidArgumentError, match="serial_number"):
        api.asset.create_asset("", uuid.uuid4())


def test_update_changes_members_and_logs_them(api: pyWATS) -> None:
    created = _asset(api, location="Lab 1")
    changed = api.asset.update_asset(
        Asset(asset_id=created.asset_id, serial_number="DMM-1", type_id=created.type_id,
              location="Lab 2", description="Bench")
    )  # fmt: skip
    assert (changed.location, changed.description, changed.asset_name) == ("Lab 2", "Bench", None)
    assert _log(api, "DMM-1")[1:] == [
        (AssetLogType.UPDATE, "description", None),
        (AssetLogType.UPDATE, "location", None),
    ]
    assert _log(api, "DMM-1")[0][0] == AssetLogType.REGISTER


def test_update_of_a_fetched_asset_round_trips(api: pyWATS) -> None:
    created = _asset(api, location="Lab 1")
    fetched = api.asset.get_asset(created.asset_id)
    fetched.location = "Lab 3"
    saved = api.asset.update_asset(fetched)
    assert saved.location == "Lab 3"
    assert saved.asset_id == created.asset_id
    assert len(api.asset.get_assets()) == 1


def test_same_serial_number_updates_the_asset(api: pyWATS) -> None:
    asset_type = _type(api)
    first = _asset(api, asset_type=asset_type)
    second = _asset(api, "dmm-1", asset_type=asset_type, location="Lab 9")
    assert second.asset_id == first.asset_id
    assert second.location == "Lab 9"


def test_serial_number_of_another_asset_is_refused(api: pyWATS) -> None:
    asset_type = _type(api)
    _asset(api, "DMM-1", asset_type=asset_type)
    other = _asset(api, "DMM-2", asset_type=asset_type)
    with pytest.raises(pywats.ValidationError, match="serialNumber"):
        api.asset.update_asset(
            Asset(asset_id=other.asset_id, serial_number="DMM-1", type_id=asset_type.type_id)
        )


def test_wrong_member_types_are_named_before_sending(api: pyWATS, fake: FakeWATS) -> None:
    asset_type = _type(api)
    sent = len(fake.log)
    bad: Any = 12
    with pytest.raises(InvalidArgumentError, match=r"serialNumber"):
        api.asset.update_asset(Asset(serial_number=bad, type_id=asset_type.type_id))
    with pytest.raises(InvalidArgumentError, match=r"\$\.state"):
        api.asset.create_asset("DMM-1", asset_type.type_id or uuid.uuid4(), state=bad)
    with pytest.raises(InvalidArgumentError, match="tags"):
        api.asset.create_asset("DMM-1", asset_type.type_id or uuid.uuid4(), tags=bad)
    with pytest.raises(InvalidArgumentError, match="must be an Asset"):
        api.asset.update_asset(bad)
    unsendable: Any = object()
    with pytest.raises(InvalidArgumentError, match="asset"):
        api.asset.create_asset("DMM-1", asset_type.type_id or uuid.uuid4(), location=unsendable)
    assert len(fake.log) == sent  # nothing was sent


def test_sub_assets_by_level(api: pyWATS) -> None:
    asset_type = _type(api)
    station = _asset(api, "ST-1", asset_type=asset_type)
    fixture = _asset(api, "FX-1", asset_type=asset_type, parent_serial_number="ST-1")
    _asset(api, "PIN-1", asset_type=asset_type, parent_asset_id=fixture.asset_id)
    _asset(api, "DMM-1", asset_type=asset_type, parent_asset_id=station.asset_id)
    direct = api.asset.get_child_assets(station.asset_id, level=1)
    assert [a.serial_number for a in direct] == ["DMM-1", "FX-1"]
    every = api.asset.get_child_assets(serial_number="ST-1")
    assert [a.serial_number for a in every] == ["DMM-1", "FX-1", "PIN-1"]
    assert every[2].parent_serial_number == "FX-1"
    children = api.asset.get_asset(station.asset_id).asset_children or []
    assert [a.serial_number for a in children] == ["DMM-1", "FX-1"]
    assert api.asset.get_child_assets(serial_number="PIN-1") == []
    with pytest.raises(pywats.NotFoundError):
        api.asset.get_child_assets(serial_number="NOPE")
    with pytest.raises(InvalidArgumentError, match="level"):
        api.asset.get_child_assets(station.asset_id, level=-1)


def test_parent_must_exist_and_not_be_a_descendant(api: pyWATS) -> None:
    asset_type = _type(api)
    top = _asset(api, "TOP", asset_type=asset_type)
    _asset(api, "MID", asset_type=asset_type, parent_serial_number="TOP")
    with pytest.raises(pywats.ValidationError, match="parentSerialNumber"):
        _asset(api, "X", asset_type=asset_type, parent_serial_number="NOPE")
    with pytest.raises(pywats.ValidationError, match="parentAssetId"):
        api.asset.update_asset(
            Asset(asset_id=top.asset_id, serial_number="TOP", type_id=asset_type.type_id,
                  parent_serial_number="MID")
        )  # fmt: skip


def test_delete_removes_the_asset_and_its_log_and_moves_children_up(api: pyWATS) -> None:
    asset_type = _type(api)
    _asset(api, "ST-1", asset_type=asset_type)
    middle = _asset(api, "FX-1", asset_type=asset_type, parent_serial_number="ST-1")
    _asset(api, "PIN-1", asset_type=asset_type, parent_serial_number="FX-1")
    assert api.asset.delete_asset(middle.asset_id) is None
    with pytest.raises(pywats.NotFoundError):
        api.asset.get_asset(middle.asset_id)
    assert _log(api, "FX-1") == []
    assert api.asset.get_asset_by_serial("PIN-1").parent_serial_number == "ST-1"
    api.asset.delete_asset(serial_number="PIN-1")
    assert [a.serial_number for a in api.asset.get_assets()] == ["ST-1"]
    with pytest.raises(pywats.NotFoundError):
        api.asset.delete_asset(serial_number="PIN-1")


# --- counts ----------------------------------------------------------------------------------


def test_counts_grow_with_count_and_with_reports(api: pyWATS) -> None:
    _asset(api, "DMM-1")
    api.asset.increment_count(serial_number="DMM-1")
    api.asset.increment_count(serial_number="DMM-1", amount=4)
    assert _counts(api, "DMM-1") == (5, 5)
    _submit_use(api, "DMM-1", 3)
    _submit_use(api, "DMM-1", 2, unit="SN-2")
    assert _counts(api, "DMM-1") == (10, 10)
    listed = api.asset.get_assets(F.running_count > 9)
    assert [a.serial_number for a in listed] == ["DMM-1"]


def test_reports_before_the_asset_existed_do_not_count(api: pyWATS) -> None:
    _submit_use(api, "DMM-1", 7)
    _asset(api, "DMM-1")
    assert _counts(api, "DMM-1") == (0, 0)
    _submit_use(api, "DMM-1", 1, unit="SN-2")
    assert _counts(api, "DMM-1") == (1, 1)


def test_new_total_count_adds_the_difference(api: pyWATS) -> None:
    created = _asset(api)
    api.asset.increment_count(created.asset_id, amount=3)
    api.asset.increment_count(created.asset_id, total_count=10)
    assert _counts(api, "DMM-1") == (10, 10)
    with pytest.raises(pywats.ValidationError, match="totalCount") as caught:
        api.asset.increment_count(created.asset_id, total_count=4)
    assert caught.value.status == 400
    with pytest.raises(InvalidArgumentError, match="amount or total_count"):
        api.asset.increment_count(created.asset_id, amount=1, total_count=20)
    with pytest.raises(InvalidArgumentError, match="amount"):
        api.asset.increment_count(created.asset_id, amount=-1)
    with pytest.raises(pywats.NotFoundError):
        api.asset.increment_count(serial_number="NOPE")


def test_increment_children_counts_every_sub_asset(api: pyWATS) -> None:
    asset_type = _type(api)
    _asset(api, "ST-1", asset_type=asset_type)
    _asset(api, "FX-1", asset_type=asset_type, parent_serial_number="ST-1")
    _asset(api, "PIN-1", asset_type=asset_type, parent_serial_number="FX-1")
    _asset(api, "OTHER", asset_type=asset_type)
    api.asset.increment_count(serial_number="ST-1", amount=2, increment_children=True)
    api.asset.increment_count(serial_number="ST-1", amount=1)
    assert [_counts(api, sn)[0] for sn in ("ST-1", "FX-1", "PIN-1", "OTHER")] == [3, 2, 2, 0]


def test_reset_running_count_keeps_the_total(api: pyWATS) -> None:
    _asset(api)
    api.asset.increment_count(serial_number="DMM-1", amount=4)
    _submit_use(api, "DMM-1", 2)
    api.asset.reset_running_count(serial_number="DMM-1", comment="new probe tips")
    assert _counts(api, "DMM-1") == (6, 0)
    _submit_use(api, "DMM-1", 1, unit="SN-2")
    assert _counts(api, "DMM-1") == (7, 1)
    assert _log(api, "DMM-1")[-1] == (AssetLogType.RESET_COUNT, None, "new probe tips")
    with pytest.raises(pywats.NotFoundError):
        api.asset.reset_running_count(serial_number="NOPE")


def test_count_is_not_retried_after_a_lost_answer(fake: FakeWATS) -> None:
    """Adding uses is not idempotent: a retry after a lost answer would count twice."""
    with pyWATS(BASE_URL, TOKEN, transport=fake, retry=RetryPolicy(base_delay=0.0)) as api:
        _asset(api)
        fake.faults.add(Fault(kind="drop", count=1, match="/api/Asset/Count"))
        with pytest.raises(pywats.ConnectionError):
            api.asset.increment_count(serial_number="DMM-1", amount=2)
        assert _counts(api, "DMM-1") == (2, 2)  # handled once, never resent


# --- calibration, maintenance, state, messages, log -------------------------------------------


def test_calibration_moves_the_next_due_date_and_restarts_the_running_count(api: pyWATS) -> None:
    asset_type = _type(api, calibration_interval=365.0, maintenance_interval=30.5)
    _asset(api, asset_type=asset_type)
    api.asset.increment_count(serial_number="DMM-1", amount=5)
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    api.asset.record_calibration(serial_number="DMM-1", date_time=when, comment="lab")
    found = api.asset.get_asset_by_serial("DMM-1")
    assert found.last_calibration_date == when
    assert found.next_calibration_date == when + timedelta(days=365)
    assert (found.total_count, found.running_count) == (5, 0)
    api.asset.record_maintenance(serial_number="DMM-1", date_time=when)
    found = api.asset.get_asset_by_serial("DMM-1")
    assert found.next_maintenance_date == when + timedelta(days=30.5)
    assert found.next_calibration_date == when + timedelta(days=365)
    assert [row[0] for row in _log(api, "DMM-1")[-2:]] == [
        AssetLogType.CALIBRATION,
        AssetLogType.MAINTENANCE,
    ]
    calibration = api.asset.get_asset_log(F.type == AssetLogType.CALIBRATION)
    assert [(row.comment, row.date) for row in calibration] == [("lab", when)]


def test_calibration_defaults_to_now(api: pyWATS) -> None:
    _asset(api, asset_type=_type(api, calibration_interval=1.0))
    before = datetime.now(UTC)
    api.asset.record_calibration(serial_number="DMM-1")
    found = api.asset.get_asset_by_serial("DMM-1")
    assert found.last_calibration_date is not None
    assert found.last_calibration_date >= before
    assert found.next_calibration_date == found.last_calibration_date + timedelta(days=1)


def test_calibration_and_maintenance_of_unknown_asset(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.asset.record_calibration(serial_number="NOPE")
    with pytest.raises(pywats.NotFoundError):
        api.asset.record_maintenance(str(uuid.uuid4()))
    with pytest.raises(InvalidArgumentError, match="date_time must be a datetime"):
        api.asset.record_calibration(serial_number="X", date_time="2026-01-01")  # type: ignore[arg-type]


def test_state_change_shows_in_the_log(api: pyWATS) -> None:
    created = _asset(api)
    api.asset.set_asset_state(AssetState.IN_CALIBRATION, created.asset_id)
    assert api.asset.get_asset(created.asset_id).state == AssetState.IN_CALIBRATION
    api.asset.set_asset_state(1, serial_number="DMM-1")
    entries = api.asset.get_asset_log(F.type == AssetLogType.STATE_CHANGE, orderby="logId")
    assert [(e.kind, e.property, e.value) for e in entries] == [
        (AssetLogType.STATE_CHANGE, "state", "4"),
        (AssetLogType.STATE_CHANGE, "state", "1"),
    ]
    assert entries[0].user == "api"
    with pytest.raises(pywats.NotFoundError):
        api.asset.set_asset_state(AssetState.SCRAPPED, serial_number="NOPE")
    with pytest.raises(InvalidArgumentError, match="state"):
        api.asset.set_asset_state(9, created.asset_id)


def test_messages_show_in_the_log_newest_first(api: pyWATS) -> None:
    created = _asset(api)
    api.asset.add_log_message(created.asset_id, "first")
    api.asset.add_log_message(message="second", serial_number="DMM-1")
    messages = api.asset.get_asset_log(F.type == AssetLogType.MESSAGE)
    assert [m.comment for m in messages] == ["second", "first"]
    assert all(m.asset_id == created.asset_id and m.serial_number == "DMM-1" for m in messages)
    with pytest.raises(pywats.ValidationError, match="content"):
        api.asset.add_log_message(created.asset_id, "  ")
    with pytest.raises(pywats.NotFoundError):
        api.asset.add_log_message(serial_number="NOPE", message="x")
    with pytest.raises(InvalidArgumentError, match="content"):
        api.asset.add_log_message(created.asset_id, 5)  # type: ignore[arg-type]


def test_asset_log_bad_filter_is_a_validation_error(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="not valid"):
        api.asset.get_asset_log("type eq")
    with pytest.raises(pywats.ValidationError):
        api.asset.get_assets("color eq 'red'")


# --- status ----------------------------------------------------------------------------------


def test_status_ok_warning_alarm_by_running_count(api: pyWATS) -> None:
    asset_type = _type(
        api,
        running_count_limit=10,
        total_count_limit=1000,
        warning_threshold=80,
        alarm_threshold=100,
    )
    _asset(api, asset_type=asset_type)
    status = api.asset.get_status(serial_number="DMM-1")
    assert (status.alarm, status.running_count, status.running_count_limit) == (
        AssetAlarmState.OK,
        0,
        10,
    )
    api.asset.increment_count(serial_number="DMM-1", amount=8)
    status = api.asset.get_status(serial_number="DMM-1")
    assert status.alarm == AssetAlarmState.WARNING
    assert status.message is not None
    assert "Running count 8 of 10" in status.message
    _submit_use(api, "DMM-1", 3)
    status = api.asset.get_status(serial_number="DMM-1", translate=False, culture_code="en-US")
    assert (status.alarm, status.running_count_exceeded, status.total_count) == (
        AssetAlarmState.ALARM,
        1,
        11,
    )
    api.asset.reset_running_count(serial_number="DMM-1")
    assert api.asset.get_status(serial_number="DMM-1").alarm == AssetAlarmState.OK


def test_status_by_calibration_due(api: pyWATS) -> None:
    asset_type = _type(api, calibration_interval=100.0, warning_threshold=75.0)
    created = _asset(api, asset_type=asset_type)
    status = api.asset.get_status(created.asset_id)
    assert status.is_days_since_calibration_unknown is True
    assert status.alarm == AssetAlarmState.OK
    now = datetime.now(UTC)
    api.asset.record_calibration(created.asset_id, date_time=now - timedelta(days=80))
    status = api.asset.get_status(created.asset_id)
    assert status.alarm == AssetAlarmState.WARNING
    assert status.days_since_calibration is not None
    assert 79.9 < status.days_since_calibration < 80.1
    assert status.calibration_days_overdue == 0
    api.asset.record_calibration(created.asset_id, date_time=now - timedelta(days=103))
    status = api.asset.get_status(created.asset_id)
    assert status.alarm == AssetAlarmState.ALARM
    assert status.calibration_days_overdue is not None
    assert status.calibration_days_overdue > 2.9
    assert status.message is not None
    assert "Calibration" in status.message


def test_status_by_maintenance_without_thresholds(api: pyWATS) -> None:
    asset_type = _type(api, maintenance_interval=10.0)
    _asset(api, asset_type=asset_type)
    now = datetime.now(UTC)
    api.asset.record_maintenance(serial_number="DMM-1", date_time=now - timedelta(days=9))
    assert api.asset.get_status(serial_number="DMM-1").alarm == AssetAlarmState.OK
    api.asset.record_maintenance(serial_number="DMM-1", date_time=now - timedelta(days=11))
    status = api.asset.get_status(serial_number="DMM-1")
    assert status.alarm == AssetAlarmState.ALARM
    assert status.maintenance_days_overdue


def test_status_of_unknown_asset(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.asset.get_status(serial_number="NOPE")
    with pytest.raises(InvalidArgumentError, match="translate"):
        api.asset.get_status(serial_number="X", translate="no")  # type: ignore[arg-type]


# --- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "delete_asset",
        "get_status",
        "set_asset_state",
        "increment_count",
        "reset_running_count",
        "record_calibration",
        "record_maintenance",
        "add_log_message",
        "get_child_assets",
        "get_asset",
    ],
)
def test_an_asset_must_be_named_once(api: pyWATS, method: str) -> None:
    run = getattr(api.asset, method)
    lead: tuple[Any, ...] = (AssetState.IN_OPERATION,) if method == "set_asset_state" else ()
    with pytest.raises(InvalidArgumentError, match="asset_id or its serial_number"):
        run(*lead)
    with pytest.raises(InvalidArgumentError, match="not both"):
        run(*lead, asset_id=str(uuid.uuid4()), serial_number="DMM-1")
    with pytest.raises(InvalidArgumentError, match="asset_id must be a str"):
        run(*lead, asset_id=12)
    with pytest.raises(InvalidArgumentError, match="serial_number must not be empty"):
        run(*lead, serial_number=" ")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top": -1}, "top must be at least 0"),
        ({"top": True}, "top must be an int"),
        ({"skip": "2"}, "skip must be an int"),
        ({"orderby": 3}, "orderby must be a str"),
        ({"filter": 3}, "filter must be a str"),
    ],
)
def test_list_arguments_are_checked(api: pyWATS, kwargs: dict[str, Any], match: str) -> None:
    for method in (api.asset.get_assets, api.asset.get_asset_log, api.asset.get_asset_types):
        with pytest.raises(InvalidArgumentError, match=match):
            method(**kwargs)


def test_invalid_argument_error_is_a_value_and_type_error() -> None:
    assert issubclass(InvalidArgumentError, ValueError | TypeError)
    assert issubclass(InvalidArgumentError, pywats.PyWATSError)


# --- paging ----------------------------------------------------------------------------------


@pytest.fixture
def many(fake: FakeWATS) -> Iterator[list[str]]:
    """Seven assets of one type (serial numbers returned), made through a blocking client."""
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        asset_type = _type(client, "Probe")
        serials = [f"P-{i}" for i in range(7)]
        for serial in serials:
            _asset(client, serial, asset_type=asset_type)
            client.asset.add_log_message(message=f"hello {serial}", serial_number=serial)
        yield serials


def _list_requests(fake: FakeWATS, path: str) -> int:
    return sum(1 for entry in fake.log if entry.method == "GET" and entry.path == path)


def test_iter_assets_pages_lazily(fake: FakeWATS, many: list[str]) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        before = _list_requests(fake, "/api/Asset")
        found = client.asset.iter_assets(page_size=3, orderby="serialNumber desc")
        assert _list_requests(fake, "/api/Asset") == before  # nothing asked until iterated
        assert next(found).serial_number == "P-6"
        assert _list_requests(fake, "/api/Asset") == before + 1
        rest = [a.serial_number for a in found]
        assert ["P-6", *rest] == sorted(many, reverse=True)
        assert _list_requests(fake, "/api/Asset") == before + 3  # 3 + 3 + 1
        log = list(client.asset.iter_asset_log(F.type == AssetLogType.MESSAGE, page_size=2))
        assert [e.comment for e in log] == [f"hello {s}" for s in reversed(many)]
        types = list(client.asset.iter_asset_types(page_size=1))
        assert [t.type_name for t in types] == ["Probe"]
        assert list(client.asset.iter_assets(F.serial_number == "none")) == []


def test_iter_assets_checks_arguments_at_once(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        with pytest.raises(InvalidArgumentError, match="page_size must be at least 1"):
            client.asset.iter_assets(page_size=0)
        with pytest.raises(InvalidArgumentError, match="filter"):
            client.asset.iter_asset_log(filter=3)  # type: ignore[arg-type]


def test_async_iterators_page_under_trio(fake: FakeWATS, many: list[str]) -> None:
    async def main() -> tuple[list[str | None], list[str | None], list[str | None]]:
        async with AsyncWATS(BASE_URL, TOKEN, transport=fake) as client:
            assets = [a.serial_number async for a in client.asset.iter_assets(page_size=2)]
            log = client.asset.iter_asset_log(F.type == AssetLogType.MESSAGE, page_size=4)
            messages = [e.comment async for e in log]
            types = [t.type_name async for t in client.asset.iter_asset_types()]
            return assets, messages, types

    assets, messages, types = trio.run(main)
    by_id = sorted(many, key=lambda sn: fake_id(fake, sn))
    assert assets == by_id  # ordered by assetId
    assert messages == [f"hello {s}" for s in reversed(many)]
    assert types == ["Probe"]


def fake_id(fake: FakeWATS, serial: str) -> str:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        return client.asset.get_asset_by_serial(serial).asset_id or ""


# --- the emulator ----------------------------------------------------------------------------


def test_emulator_reset_forgets_assets(api: pyWATS, fake: FakeWATS) -> None:
    _asset(api)
    fake.reset()
    assert api.asset.get_assets() == []
    assert api.asset.get_asset_types() == []
    assert api.asset.get_asset_log() == []


def test_emulator_path_segment_is_an_id_when_it_is_a_guid(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        created = _asset(client, "FX-1")
        http = client.client.http
        assert http.get(f"/api/Asset/{created.asset_id}").json()["serialNumber"] == "FX-1"
        upper = str(created.asset_id).upper()
        assert http.get(f"/api/Asset/{upper}").json()["serialNumber"] == "FX-1"
        assert http.get("/api/Asset/fx-1").json()["assetId"] == created.asset_id
        missing = http.get(f"/api/Asset/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert "was not found" in missing.json()["Message"]
        # Literal routes win over the segment.
        assert http.get("/api/Asset/Types").json()[0]["typeName"] == "DMM"
        unnamed = http.put("/api/Asset/State", params={"state": "1"})
        assert unnamed.status_code == 404  # id and serialNumber are optional: none names no asset
        bad = http.put("/api/Asset/State", params={"state": "7", "serialNumber": "FX-1"})
        assert bad.status_code == 400
        assert "state" in bad.json()["Message"]


_NOT_TEXT: Any = 5
_ID = "5d7a0f0e-5f0b-4c51-9a0e-3b1f2a6c9d10"


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "match"),
    [
        ("get_asset_by_serial", (_NOT_TEXT,), {}, "serial_number must be a str"),
        ("create_asset", ("X", _ID), {"asset_name": _NOT_TEXT}, r"\$\.assetName"),
        ("create_asset", ("X", _NOT_TEXT), {}, "type_id must be a uuid.UUID or a str"),
        ("create_asset_type", ("T",), {"running_count_limit": "x"}, r"\$\.runningCountLimit"),
        ("create_asset_type", (_NOT_TEXT,), {}, "type_name must be a str"),
        ("get_child_assets", (_ID,), {"level": "1"}, "level must be an int"),
        ("increment_count", (_ID,), {"amount": 1.5}, "amount must be an int"),
        ("increment_count", (_ID,), {"increment_children": "yes"}, "increment_children"),
        ("increment_count", (_ID,), {"total_count": -1}, "total_count must be at least 0"),
        ("reset_running_count", (_ID,), {"comment": _NOT_TEXT}, "comment must be a str"),
        ("record_maintenance", (_ID,), {"comment": ""}, "comment must not be empty"),
        ("set_asset_state", ("1", _ID), {}, "state must be an int"),
        ("get_status", (_ID,), {"culture_code": _NOT_TEXT}, "culture_code must be a str"),
        ("add_log_message", (_ID, "x"), {"culture_code": 1}, "culture_code must be a str"),
        ("get_asset_types", (), {"orderby": ["typeName"]}, "orderby must be a str"),
    ],
)
def test_wrong_argument_types_are_refused_before_sending(
    api: pyWATS,
    fake: FakeWATS,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    match: str,
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        getattr(api.asset, method)(*args, **kwargs)
    assert len(fake.log) == 0


def test_report_stats_of_an_asset(api: pyWATS, fake: FakeWATS) -> None:
    from pywats.testing._asset_registry import report_stats

    asset_type = _type(api, running_count_limit=2, calibration_interval=10.0)
    _asset(api, asset_type=asset_type)
    _submit_use(api, "DMM-1", 3)
    api.asset.record_maintenance(serial_number="DMM-1")
    stats = report_stats(fake, "dmm-1")
    assert stats is not None
    assert (stats["assetSN"], stats["runningCount"], stats["runningCountExceeded"]) == (
        "DMM-1",
        3,
        1,
    )
    assert stats["isDaysSinceCalibrationUnknown"] is True
    assert stats["isDaysSinceMaintenanceUnknown"] is False
    assert "Running count 3 of 2" in stats["message"]
    assert report_stats(fake, "NOPE") is None
    assert report_stats(fake, None) is None
