"""The configuration loader on any TOML text and any value for each key.

``pywats-station`` reads ``config.toml`` at start and on every reload: a file an operator edited
by hand, a value of the wrong type, a number out of range, a broken line. Whatever it holds,
:func:`~pywats_station.config.read_config` returns a configuration or raises
:class:`~pywats_station.config.ConfigError` whose problems name the key at fault, never another
exception. The keys are read from the schema at collection time, so a key added later is
fuzzed without touching this file.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tomli_w
from hypothesis import example, given
from hypothesis import strategies as st

from pywats_station.config import ConfigError, ConverterConfig, StationConfig, read_config
from pywats_station.converters.registry import BUILTINS
from tests.fuzz._mutate import EDITS, Edit, apply
from tests.fuzz._profile import fuzz, no_hang


def _keys(cls: type[msgspec.Struct], prefix: str = "") -> list[str]:
    """Every leaf key of the schema, as a dotted path (tables of tables walked into)."""
    keys = []
    for info in msgspec.structs.fields(cls):
        tp = info.type
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            keys += _keys(tp, f"{prefix}{info.encode_name}.")
        elif info.encode_name != "converters":
            keys.append(prefix + info.encode_name)
    return keys


TOP_KEYS = _keys(StationConfig)
CONVERTER_KEYS = _keys(ConverterConfig)
# A converter entry valid on its own, so a problem found is the fuzzed key's.
_CONVERTER = {"name": "fuzz", "kind": "csv", "watch": "incoming"}

_TEXT = st.text(max_size=40) | st.sampled_from(
    ["", " ", "0", "-1", "1e309", "500 MB", "1 KiB", "127.0.0.1:0", "[::1]:99999", "http://", "~"]
)
_VALUES = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()  # nan and ±inf included: TOML has them
    | _TEXT
    | st.datetimes()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.dates()
    | st.times(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _place(doc: dict[str, Any], key: str, value: Any) -> None:
    *tables, leaf = key.split(".")
    for table in tables:
        doc = doc.setdefault(table, {})
    doc[leaf] = value


def _names(problem_key: str, message: str, key: str) -> bool:
    """Whether a problem is about ``key`` (the key itself, inside it, or naming it)."""
    leaf = key.rsplit(".", 1)[-1].split("]")[-1]
    return (
        problem_key == key
        or problem_key.startswith((key + ".", key + "["))
        or leaf in message
        or leaf in problem_key
    )


def _read(text: bytes) -> ConfigError | None:
    """Load ``text`` as a config file: the error it raised, or ``None`` when it loaded."""
    with tempfile.TemporaryDirectory(prefix="pywats-fuzz-config-") as tmp:
        path = Path(tmp, "config.toml")
        path.write_bytes(text)
        path.chmod(0o600)
        with no_hang():
            try:
                read_config(path, env={})
            except ConfigError as exc:
                error = exc
            else:
                return None
    assert error.problems, "a ConfigError without a problem"
    return error


def _check_named(doc: dict[str, Any], key: str) -> None:
    error = _read(tomli_w.dumps(doc).encode())
    if error is None:
        return
    for problem in error.problems:
        assert _names(problem.key, problem.message, key), (
            f"{key} was fuzzed; the error names {problem.key!r}: {problem.message}"
        )


@fuzz(ci_examples=300)
@given(key=st.sampled_from(TOP_KEYS), value=_VALUES)
@example(key="schema_version", value=2**63 - 1)
@example(key="queue.max_bytes", value=math.inf)
@example(key="control.listen", value="[::1]:99999")
def test_any_value_for_a_key_is_refused_by_name(key: str, value: Any) -> None:
    doc: dict[str, Any] = {}
    _place(doc, key, value)
    _check_named(doc, key)


@fuzz(ci_examples=300)
@given(key=st.sampled_from(CONVERTER_KEYS), value=_VALUES, kind=st.sampled_from(sorted(BUILTINS)))
@example(key="schedule", value="*/0 * * * *", kind="csv")
@example(key="max_file_size", value="1e400 GB", kind="csv")
def test_any_value_for_a_converter_key_is_refused_by_name(key: str, value: Any, kind: str) -> None:
    entry = dict(_CONVERTER, kind=kind)
    if kind in {"klippel"}:
        entry["type"] = "folder"
    _place(entry, key, value)
    _check_named({"converters": [entry]}, f"converters[0].{key}")


@fuzz(ci_examples=150)
@given(
    kind=st.sampled_from(sorted(BUILTINS)), arguments=st.dictionaries(_TEXT, _VALUES, max_size=4)
)
def test_any_converter_arguments_are_refused_by_name(kind: str, arguments: dict[str, Any]) -> None:
    entry = dict(_CONVERTER, kind=kind, arguments=arguments)
    _check_named({"converters": [entry]}, "converters[0].arguments")


_GOOD = tomli_w.dumps(
    {
        "server": {"url": "https://wats.example.com", "timeout": 5.0},
        "station": {"name": "ST-1", "location": "Lab"},
        "queue": {"max_bytes": "500 MB", "upload_workers": 4},
        "control": {"listen": "127.0.0.1:8765"},
        "converters": [dict(_CONVERTER, patterns=["*.csv"], settle=1.0)],
    }
).encode()


@fuzz(ci_examples=200)
@given(edits=EDITS)
def test_a_broken_config_file_is_a_config_error(edits: list[Edit]) -> None:
    _read(apply(_GOOD, edits))


@fuzz(ci_examples=150)
@given(text=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_config_file(text: bytes) -> None:
    _read(text)


def test_the_keys_come_from_the_schema() -> None:
    """The fuzzed keys are the schema's (a renamed key would otherwise go unfuzzed)."""
    assert {"server.url", "queue.max_bytes", "control.listen", "log.level"} <= set(TOP_KEYS)
    assert {"watch", "settle", "max_file_size", "station.name"} <= set(CONVERTER_KEYS)
    with pytest.raises(AssertionError):
        _check_named({"queue": {"upload_workers": 0}}, "server.url")
