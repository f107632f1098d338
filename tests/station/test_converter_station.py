"""``[converters.station]``: a converter's own station name, location and purpose (hub mode).

The daemon end to end is in ``tests/station/e2e/test_hub_mode.py``; here the configuration:
what overrides what, what WATS would refuse (checked like every other key), what is saved, and
that a change reloads the converter.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from pywats_station.actors.converters import load_one, own_station
from pywats_station.config import (
    ConfigError,
    ConverterStation,
    config_from_dict,
    diff_config,
    load_config,
    save_config,
)
from pywats_station.converters import StationInfo

HUB = StationInfo(name="pi-7", location="Plant A", purpose="Production")


def load(text: str) -> dict[str, object]:
    return tomllib.loads(textwrap.dedent(text))


ENTRY = """
[[converters]]
name = "ict-1"
kind = "wsjf"
watch = "/in/ict-1"
"""


def test_its_keys_override_the_stations_and_empty_ones_inherit() -> None:
    assert ConverterStation().over(HUB) == HUB
    assert ConverterStation(name="ICT-1").over(HUB) == StationInfo(
        name="ICT-1", location="Plant A", purpose="Production"
    )
    own = ConverterStation(name="FP-1", location="Line 3", purpose="Debug")
    assert own.over(HUB) == StationInfo(name="FP-1", location="Line 3", purpose="Debug")


def test_the_table_loads_and_goes_into_the_converters_status(tmp_path: Path) -> None:
    config, warnings, _ = config_from_dict(
        load(ENTRY + '[converters.station]\nname = "ICT-1"\nlocation = "Line 3"\n')
    )
    assert warnings == []  # a key of the schema, not an unknown one
    (conv,) = config.converters
    assert conv.station == ConverterStation(name="ICT-1", location="Line 3")
    loaded = load_one(conv, base_dir=tmp_path, station=HUB)
    assert loaded.stats.station == StationInfo(
        name="ICT-1", location="Line 3", purpose="Production"
    )
    plain, _, _ = config_from_dict(load(ENTRY))
    assert own_station(plain.converters[0], HUB) is None  # status shows nothing extra


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        (f'name = "{"X" * 51}"', "converters[0].station.name", "is 51 characters long; WATS "),
        (f'location = "{"L" * 256}"', "converters[0].station.location", "is 256 characters"),
        ('name = "ICT\\n1"', "converters[0].station.name", "must be one line of text"),
        ('purpose = "  "', "converters[0].station.purpose", "must not be blank"),
    ],
)
def test_what_wats_would_refuse_is_an_error_naming_the_key(
    table: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(load(ENTRY + "[converters.station]\n" + table + "\n"))
    found = {p.key: p.message for p in caught.value.problems}
    assert found[key].startswith(problem), found


def test_the_stations_own_name_is_checked_the_same_way() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(load(f'[station]\nname = "{"S" * 60}"\n'))
    assert [p.key for p in caught.value.problems] == ["station.name"]


def test_saved_and_read_back(tmp_path: Path) -> None:
    text = ENTRY + '[converters.station]\nname = "ICT-1"\n' + ENTRY.replace("ict-1", "ict-2")
    config, _, _ = config_from_dict(load(text))
    path = tmp_path / "config.toml"
    save_config(config, path)
    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["converters"][0]["station"] == {"name": "ICT-1", "location": "", "purpose": ""}
    assert saved["converters"][1]["station"] == {"name": "", "location": "", "purpose": ""}
    assert load_config(path) == config


def test_a_changed_station_reloads_only_that_converter() -> None:
    before, _, _ = config_from_dict(load(ENTRY + ENTRY.replace("ict-1", "ict-2")))
    after, _, _ = config_from_dict(
        load(ENTRY + '[converters.station]\nname = "ICT-1"\n' + ENTRY.replace("ict-1", "ict-2"))
    )
    assert diff_config(before, after) == {"converters:ict-1"}
