"""The arguments every equipment converter shares: process resolution and local times."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import msgspec
import pytest

from pywats.models.app import Process
from pywats_station.converters.api import ConversionError, ConverterContext, StationInfo
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
    resolve_process,
)

PROCESSES = [
    msgspec.convert({"code": 30, "name": "ICT"}, Process),
    msgspec.convert({"code": 31, "name": "ICT bottom"}, Process),
    msgspec.convert({"code": 10, "name": "SW Debug"}, Process),
]


def ctx(processes: list[Process]) -> ConverterContext:
    station = StationInfo(name="s", location="l", purpose="p")
    return ConverterContext(station, processes, None, logging.getLogger("test"))


def test_the_map_wins_then_the_argument_then_the_files_own_name_then_the_default() -> None:
    args = EquipmentArguments(process_map={"bottom": "ICT bottom"}, process=None)
    assert resolve_process(ctx(PROCESSES), args, "BOTTOM", 30) == 31
    assert resolve_process(ctx(PROCESSES), args, "sw debug", 30) == 10  # a synced name
    assert resolve_process(ctx(PROCESSES), args, "top", 30) == 30  # unknown: the default
    assert resolve_process(ctx(PROCESSES), args, None, "ICT") == 30
    pinned = EquipmentArguments(process="SW Debug")
    assert resolve_process(ctx(PROCESSES), pinned, "ICT", 30) == 10


def test_an_unknown_mapped_process_is_an_error_naming_the_known_ones() -> None:
    args = EquipmentArguments(process_map={"TOP": "Flying probe"})
    with pytest.raises(ConversionError, match=r"unknown process 'Flying probe'.*31 ICT bottom"):
        resolve_process(ctx(PROCESSES), args, "top", 30)


def test_codes_pass_while_no_process_list_is_synced() -> None:
    assert resolve_process(ctx([]), EquipmentArguments(), None, 30) == 30
    with pytest.raises(ConversionError, match="no process list has been synced"):
        resolve_process(ctx([]), EquipmentArguments(), None, "ICT")


def test_local_times_take_the_configured_zone_or_the_stations() -> None:
    naive = datetime(2024, 7, 1, 12, 0)
    oslo = local_time(naive, EquipmentArguments(timezone="Europe/Oslo"))
    assert oslo.utcoffset() == timedelta(hours=2)
    assert local_time(naive, EquipmentArguments()).utcoffset() is not None
    aware = datetime(2024, 7, 1, 12, 0).astimezone()
    assert local_time(aware, EquipmentArguments(timezone="Asia/Tokyo")) is aware


def test_a_wrong_zone_name_is_refused_when_configured() -> None:
    with pytest.raises(msgspec.ValidationError, match="not a time zone name"):
        msgspec.convert({"timezone": "Mars/Olympus"}, EquipmentArguments)
