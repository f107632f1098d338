"""The registry and the protocol's pure parts: registration rules, params decoding, parsing."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from pywats_station.control import (
    CallContext,
    ControlError,
    ErrorCode,
    MethodSpec,
    NoParams,
    NotificationSpec,
    Registry,
)
from pywats_station.control import methods as m
from pywats_station.control.protocol import MAX_BATCH, Request, Response, parse_frame
from pywats_station.control.registry import decode_params
from pywats_station.control.roles import Role


async def handler(ctx: CallContext, params: Any) -> dict[str, Any]:
    return {}


def test_a_new_registry_holds_the_builtins_and_the_catalogue_events() -> None:
    registry = Registry()
    assert [spec.name for spec in registry.methods()] == [spec.name for spec in m.BUILTINS]
    assert {n.event for n in registry.notifications()} == {n.event for n in m.notifications()}
    assert registry.missing() == [spec.name for spec in m.catalogue() if spec not in m.BUILTINS]
    assert Registry(notifications=[]).notifications() == []


def test_implementing_the_whole_catalogue_leaves_nothing_missing() -> None:
    registry = Registry()
    for spec in m.catalogue():
        if registry.get(spec.name) is None:
            registry.implement(spec)(handler)
    assert registry.missing() == []
    assert registry.get("queue.list") is not None
    entry = registry.get("queue.list")
    assert entry is not None
    assert entry.spec is m.QUEUE_LIST
    assert not entry.inline


def test_registration_rules() -> None:
    registry = Registry()
    registry.method("area.verb", result=dict, summary="x")(handler)
    with pytest.raises(ValueError, match="already registered"):
        registry.method("area.verb", result=dict, summary="x")(handler)
    with pytest.raises(ValueError, match="already registered"):
        registry.implement(m.STATION_PING)(handler)

    def not_async(ctx: CallContext, params: Any) -> None: ...

    with pytest.raises(TypeError, match="async"):
        registry.method("area.sync", result=dict, summary="x")(not_async)  # type: ignore[type-var]
    for name in ("noarea", "Area.verb", "area.", "area..verb", "area.verb-x", "notify.thing"):
        with pytest.raises(ValueError, match=r"name|reserved"):
            MethodSpec(name, NoParams, dict, "x")
    with pytest.raises(TypeError, match="Struct"):
        MethodSpec("area.verb", dict, dict, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="snake"):
        NotificationSpec("Report-Uploaded", m.ReportUploaded, "x")
    with pytest.raises(ValueError, match="already declared"):
        registry.add_notification(m.notifications()[0])


def test_catalogue_is_complete_and_consistent() -> None:
    names = [spec.name for spec in m.catalogue()]
    assert len(names) == len(set(names))
    expected = {
        "station.status", "station.tree", "queue.list", "queue.show", "queue.retry",
        "queue.purge", "queue.verify", "converters.list", "converters.enable", "converters.disable",
        "converters.restart", "converters.convert_file", "config.get", "config.set",
        "connection.test", "processes.list", "reports.send_test", "logs.tail",
        "events.subscribe",
        "events.unsubscribe", "rpc.discover", "station.ping", "auth.login",
    }  # fmt: skip
    assert set(names) == expected
    assert {n.event for n in m.notifications()} == {
        "report_queued", "report_uploaded", "report_rejected", "file_converted",
        "file_failed", "actor_state", "log_record", "counters", "upload_waiting",
    }  # fmt: skip
    public = {spec.name for spec in m.catalogue() if spec.role is Role.NONE}
    assert public == {"rpc.discover", "station.ping", "auth.login"}
    admin = {spec.name for spec in m.catalogue() if spec.role is Role.ADMIN}
    assert admin == {"config.set"}
    rest = [spec for spec in m.catalogue() if spec.name not in public | admin]
    assert all(spec.role is Role.OPERATOR for spec in rest)
    for spec in m.catalogue():
        assert spec.summary.endswith("."), spec.name
        assert spec.params.__doc__, spec.name
        if isinstance(spec.result, type):
            assert spec.result.__doc__, spec.name


class Sample(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    count: int = 1
    tags: list[str] = msgspec.field(default_factory=list)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"name": "a"}, Sample(name="a")),
        (["a", 3], Sample(name="a", count=3)),
        (["a", 3, ["x"]], Sample(name="a", count=3, tags=["x"])),
        ({"name": "a", "tags": []}, Sample(name="a")),
    ],
)
def test_params_by_name_and_by_position(raw: Any, expected: Sample) -> None:
    assert decode_params(Sample, raw) == expected


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({}, "name", "missing required field `name`"),
        ([], "name", "missing required field `name`"),
        ({"name": 1}, "name", "at `params.name`"),
        ({"name": "a", "count": "2"}, "count", "Expected `int`"),
        ({"name": "a", "tags": [1]}, "tags[0]", "at `params.tags[0]`"),
        ({"name": "a", "colour": 1}, "colour", "unknown field `colour`"),
        (["a", 1, [], 4], None, "at most 3 positional params"),
    ],
)
def test_invalid_params_name_the_field(raw: Any, field: str | None, words: str) -> None:
    with pytest.raises(ControlError) as error:
        decode_params(Sample, raw)
    assert error.value.code == ErrorCode.INVALID_PARAMS
    assert words in error.value.message
    assert error.value.data == ({"field": field} if field else None)


def test_no_params_accepts_nothing_empty_and_null() -> None:
    raw: Any
    for raw in (msgspec.UNSET, None, {}, []):
        assert decode_params(NoParams, raw) == NoParams()
    with pytest.raises(ControlError):
        decode_params(NoParams, {"x": 1})


def test_parse_frame_requests_notifications_and_batches() -> None:
    frame = parse_frame('{"jsonrpc": "2.0", "id": "x", "method": "a.b", "params": [1]}')
    assert not frame.batch
    (item,) = frame.items
    assert isinstance(item, Request)
    assert (item.id, item.method, item.params, item.is_notification) == ("x", "a.b", [1], False)
    note = parse_frame('{"jsonrpc": "2.0", "method": "a.b"}').items[0]
    assert isinstance(note, Request)
    assert note.is_notification
    assert note.reply_id is None
    null_id = parse_frame('{"jsonrpc": "2.0", "method": "a.b", "id": null}').items[0]
    assert isinstance(null_id, Request)
    assert not null_id.is_notification
    batch = parse_frame('[{"jsonrpc": "2.0", "method": "a.b", "id": 1}, 5]')
    assert batch.batch
    assert isinstance(batch.items[0], Request)
    assert isinstance(batch.items[1], Response)
    big = parse_frame("[" + ",".join(['{"jsonrpc":"2.0","method":"a.b"}'] * MAX_BATCH) + "]")
    assert len(big.items) == MAX_BATCH


def test_control_error_defaults_and_wire_form() -> None:
    error = ControlError(ErrorCode.NOT_FOUND)
    assert error.message == "not found"
    assert error.to_object() == msgspec.convert(
        {"code": -32010, "message": "not found"}, type(error.to_object())
    )
    assert ControlError(-1).message == "error"
    assert ControlError(ErrorCode.CONFLICT, "busy", {"a": 1}).to_object().data == {"a": 1}
