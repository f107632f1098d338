"""Configuration files: atomic save with backup, corrupt files, round trips, diff, redaction."""

from __future__ import annotations

import json
import os
import stat
import tempfile
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, get_args, get_origin

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywats_station.config import (
    ConfigError,
    ControlConfig,
    ConverterConfig,
    QueueConfig,
    ServerConfig,
    StationConfig,
    diff_config,
    format_size,
    load_config,
    parse_size,
    read_config,
    redacted,
    save_config,
    validate,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "config-examples"
GOOD = '[server]\nurl = "https://good.example"\n'
T = datetime(2024, 5, 1, 12, 30)


def configured(**server: Any) -> StationConfig:
    arguments = {"a": 1, "since": T, "day": T.date()}
    converter = ConverterConfig(name="wsjf", kind="wsjf", watch="/in", arguments=arguments)
    return StationConfig(server=ServerConfig(**server), converters=[converter])


# --- atomic save and backup -------------------------------------------------------------------


def test_save_writes_every_key_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    save_config(configured(url="https://a.example"), path, env={})
    assert os.listdir(path.parent) == ["config.toml"]
    document = tomllib.loads(path.read_text())
    # Every key of the schema is in the file: nothing is dropped by the serialiser.
    expected = msgspec.to_builtins(configured())
    assert document.keys() == expected.keys()
    for section, values in expected.items():
        if isinstance(values, dict):
            assert document[section].keys() == values.keys(), section
    assert document["converters"][0].keys() == expected["converters"][0].keys()


def test_save_keeps_the_previous_good_file_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(configured(url="https://one.example"), path, env={})
    first = path.read_bytes()
    save_config(configured(url="https://two.example"), path, env={})
    assert (tmp_path / "config.toml.bak").read_bytes() == first
    assert load_config(path, env={}) == configured(url="https://two.example")
    assert sorted(os.listdir(tmp_path)) == ["config.toml", "config.toml.bak"]


def test_a_corrupt_file_never_replaces_a_good_backup(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    (tmp_path / "config.toml.bak").write_text(GOOD)
    path.write_text("[server\n")
    save_config(configured(url="https://new.example"), path, env={})
    assert (tmp_path / "config.toml.bak").read_text() == GOOD


def test_an_invalid_config_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    with pytest.raises(ConfigError, match=r"queue\.upload_workers"):
        save_config(StationConfig(queue=QueueConfig(upload_workers=0)), path, env={})
    assert path.read_text() == GOOD
    assert os.listdir(tmp_path) == ["config.toml"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_save_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "config.toml"
    save_config(configured(url="https://old.example"), path, env={})
    old = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space"):
        save_config(configured(url="https://new.example"), path, env={})
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_file_modes(tmp_path: Path) -> None:
    plain, secret = tmp_path / "plain.toml", tmp_path / "secret.toml"
    save_config(configured(), plain, env={})
    save_config(configured(token="t"), secret, env={})
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    plain.chmod(0o640)  # an administrator's choice survives later saves
    save_config(configured(url="https://x.example"), plain, env={})
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640


# --- corrupt and missing files ----------------------------------------------------------------


def test_a_corrupt_file_is_reported_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nurl = "https://x"\ntimeout = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    error = info.value
    assert (error.path, error.line, error.column) == (path, 3, 11)
    assert str(error).startswith(f"{path}:3:11: not valid TOML: ")


def test_truncated_file_points_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nurl = "https://x')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.line == 2


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[station]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, env={})


def test_fallback_to_the_backup_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(configured(url="https://good.example"), path, env={})
    save_config(configured(url="https://newer.example"), path, env={})
    path.write_text("[server\nurl = ")  # e.g. a half-finished manual edit
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})
    loaded = read_config(path, env={}, use_backup=True)
    assert loaded.from_backup
    assert loaded.path == tmp_path / "config.toml.bak"
    assert loaded.config.server.url == "https://good.example"
    assert "not valid TOML" in loaded.warnings[0].message
    assert "previous good copy" in loaded.warnings[0].message


def test_no_backup_means_the_original_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={}, use_backup=True)
    (tmp_path / "config.toml.bak").write_text("also broken = \n")
    with pytest.raises(ConfigError, match=r"config\.toml:1:8: not valid TOML: Expected .]."):
        load_config(path, env={}, use_backup=True)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config init"):
        load_config(tmp_path / "none.toml", env={})
    assert load_config(tmp_path / "none.toml", env={}, missing_ok=True) == StationConfig()


# --- round trip of every key ------------------------------------------------------------------

_SIMPLE: dict[Any, st.SearchStrategy[Any]] = {
    bool: st.booleans(),
    int: st.integers(0, 2**40),
    float: st.floats(min_value=1e-3, max_value=1e9, allow_nan=False),
    str: st.text(),
    list[str]: st.lists(st.text(min_size=1), min_size=1, max_size=3),
}
_TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(),
    st.datetimes(),
    st.dates(),
    st.times(),
)
_TOML_VALUES = st.recursive(
    _TOML_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
# A station's name, location or purpose: one line WATS takes (empty: inherited or the default).
_STATION_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    max_size=50,
).filter(lambda text: not text or text.strip())
# Keys with rules beyond their type get a strategy producing valid values; every other key is
# generated from its type alone, so a key added to the schema is covered without editing this.
_RULES: dict[str, st.SearchStrategy[Any]] = {
    "schema_version": st.just(1),
    "server.url": st.sampled_from(["", "https://wats.example", "http://localhost:8080/w"]),
    "server.proxy": st.sampled_from(["system", "none", "http://u@proxy.example:3128"]),
    "server.ca_file": st.just(""),  # a path must name a PEM file that exists
    "queue.max_bytes": st.integers(1, 2**50),
    "queue.upload_workers": st.integers(1, 64),
    "control.listen": st.sampled_from(["127.0.0.1:8765", "[::1]:1", "localhost:65535"]),
    "converters.name": st.text(min_size=1),
    "converters.kind": st.text(min_size=1),
    "converters.watch": st.text(min_size=1),
    "converters.schedule": st.sampled_from(["every 5m", "0 * * * *", "every 1 h"]),
    "converters.alarm_threshold": st.floats(0.5, 1.0),
    "converters.reject_threshold": st.floats(0.0, 0.5),
    "converters.memory_mb": st.integers(64, 2**20),
    "converters.worker_max_files": st.integers(1, 2**31),
    "converters.max_file_size": st.integers(1, 2**50),
    "converters.max_report_size": st.integers(1, 2**50),
    "converters.max_output_size": st.integers(1, 2**50),
    "converters.child_process_above": st.integers(0, 2**50),
    "converters.arguments": st.dictionaries(st.text(), _TOML_VALUES, max_size=4),
    **{
        f"{table}.{key}": _STATION_TEXT
        for table in ("station", "converters.station")
        for key in ("name", "location", "purpose")
    },
}


def _strategy(tp: Any, key: str) -> st.SearchStrategy[Any]:
    if key in _RULES:
        return _RULES[key]
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        fields = {
            info.name: _strategy(info.type, f"{key}.{info.encode_name}".lstrip("."))
            for info in msgspec.structs.fields(tp)
        }
        return st.builds(tp, **fields)
    origin, args = get_origin(tp), get_args(tp)
    if origin is list and isinstance(args[0], type) and issubclass(args[0], msgspec.Struct):
        return st.lists(_strategy(args[0], key), max_size=3, unique_by=lambda c: c.name)
    if str(origin) == "typing.Literal":
        return st.sampled_from(args)
    if str(origin) == "typing.Annotated":
        return _strategy(args[0], key)
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    raise TypeError(f"no strategy for {key}: {tp!r}; add one to _SIMPLE or _RULES")


def _consistent(config: StationConfig) -> StationConfig:
    # Cross-key rules (one of token/token_file, TLS files in pairs) by adjusting, not filtering.
    if config.server.token and config.server.token_file:
        config.server.token_file = ""
    if bool(config.control.tls_cert) != bool(config.control.tls_key):
        config.control = ControlConfig(listen=config.control.listen)
    if not config.control.tls_cert:  # remote_admin needs TLS
        config.control.remote_admin = False
    return config


CONFIGS = _strategy(StationConfig, "").map(_consistent)


@settings(max_examples=150, deadline=None)
@given(CONFIGS)
def test_every_key_survives_save_and_load(config: StationConfig) -> None:
    assert validate(config) == []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        save_config(config, path, env={})
        assert load_config(path, env={}) == config
        save_config(config, path, env={})  # and again, over the previous file
        assert load_config(path, env={}) == config


@given(st.integers(0, 2**62))
def test_sizes_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("bad", ["", "1 XB", "-1", "1e3", "GiB", "1 GiB extra", -1, True, 1.5])
def test_invalid_sizes(bad: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(bad)


# --- hot reload -------------------------------------------------------------------------------


def test_diff_config_names_changed_sections_and_converters() -> None:
    a = ConverterConfig(name="a", kind="wsjf", watch="/a")
    b = ConverterConfig(name="b", kind="wsxf", watch="/b")
    old = StationConfig(converters=[a, b])
    assert diff_config(old, StationConfig(converters=[b, a])) == set()
    changed_a = ConverterConfig(name="a", kind="wsjf", watch="/a", settle=5.0)
    c = ConverterConfig(name="c", kind="csv", watch="/c")
    new = StationConfig(
        server=ServerConfig(url="https://x.example"),
        queue=QueueConfig(upload_workers=2),
        converters=[changed_a, c],
    )
    assert diff_config(old, new) == {
        "server",
        "queue",
        "converters:a",
        "converters:b",
        "converters:c",
    }
    assert diff_config(new, new) == set()


# --- redaction --------------------------------------------------------------------------------


def test_redacted_never_contains_secrets() -> None:
    token = "tok-3f9a1c-VERY-SECRET"
    config = StationConfig(
        server=ServerConfig(url=f"https://user:pw-{token}@wats.example/", token=token),
        converters=[
            ConverterConfig(
                name="db",
                kind="k",
                watch="/in",
                arguments={"password": token, "nested": [{"api_key": token}], "table": "r", "t": T},
            )
        ],
    )
    shown = redacted(config)
    text = json.dumps(shown)
    assert token not in text
    assert shown["server"]["token"] == "***"
    assert shown["server"]["url"] == "https://user:***@wats.example/"
    assert shown["converters"][0]["arguments"] == {
        "password": "***",
        "nested": [{"api_key": "***"}],
        "table": "r",
        "t": "2024-05-01T12:30:00",
    }
    assert redacted(StationConfig())["server"]["token"] == ""


# --- examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.glob("*.toml")))
def test_examples_load_without_warnings(name: str) -> None:
    loaded = read_config(EXAMPLES / name, env={})
    assert loaded.warnings == []
    assert loaded.config.converters
    assert loaded.config.server.url


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.glob("*.toml")))
def test_example_arguments_suit_the_builtin_converters(name: str) -> None:
    from pywats_station.converters import parse_arguments
    from pywats_station.converters.registry import is_builtin, load_converter

    for conv in load_config(EXAMPLES / name, env={}).converters:
        if is_builtin(conv.kind):
            parse_arguments(load_converter(conv.kind), conv.arguments)


def test_examples_cover_what_they_promise() -> None:
    pi = load_config(EXAMPLES / "raspberry-pi.toml", env={})
    assert pi.queue.upload_workers == 2
    assert pi.queue.path.startswith("/var/lib/pywats")
    assert all(conv.watch.startswith("/srv/test-results") for conv in pi.converters)
    multi = load_config(EXAMPLES / "multi-converter.toml", env={})
    kinds = {(conv.kind, conv.type) for conv in multi.converters}
    assert {("wsjf", "file"), ("wsxf", "file"), ("csv", "file")} <= kinds
    assert {conv.type for conv in multi.converters} == {"file", "folder", "scheduled"}
    assert any(conv.ready_marker for conv in multi.converters)
    assert next(conv for conv in multi.converters if conv.kind == "csv").arguments
    assert load_config(EXAMPLES / "minimal.toml", env={}).converters[0].kind == "wsjf"


def test_set_server_url_keeps_the_starter_files_comments(tmp_path: Path) -> None:
    from pywats_station.config import default_config_text, set_server_url
    from pywats_station.paths import instance_paths

    path = tmp_path / "config.toml"
    path.write_text(default_config_text(instance_paths("default", env={})), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    set_server_url(path, "https://wats.example.com")
    after = path.read_text(encoding="utf-8")
    assert load_config(path, env={}).server.url == "https://wats.example.com"
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1  # one line, the rest (comments included) as it was
    # A converter table added by hand afterwards still makes a valid file.
    path.write_text(after + '\n[[converters]]\nname = "w"\nkind = "wsjf"\nwatch = "/in"\n')
    assert load_config(path, env={}).converters[0].name == "w"
    with pytest.raises(ConfigError):
        set_server_url(path, "ftp://nope")
    assert load_config(path, env={}).server.url == "https://wats.example.com"


def test_saved_file_takes_converter_tables_added_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(StationConfig(), path)
    assert "converters" not in path.read_text(encoding="utf-8")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('\n[[converters]]\nname = "w"\nkind = "wsjf"\nwatch = "/in"\n')
    assert [c.name for c in load_config(path, env={}).converters] == ["w"]
