"""The server over in-memory streams: built-ins, auth, malformed input, limits, batches, order."""

from __future__ import annotations

import logging
import random

import msgspec
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

from pywats_station.control import ErrorCode
from pywats_station.control.server import ControlServer

from .helpers import SECRET, TOKEN, make_server, raw_connection, request
from .helpers import error_code as code_of

pytestmark = pytest.mark.trio


# --- built-ins -----------------------------------------------------------------------------------


async def test_ping_works_without_auth_and_says_whether_authenticated() -> None:
    server = make_server()
    async with raw_connection(server) as raw:
        reply = await raw.rpc(request("station.ping", id=7))
        assert reply["id"] == 7
        assert reply["jsonrpc"] == "2.0"
        assert reply["result"]["pong"] is True
        assert reply["result"]["authenticated"] is False
        assert isinstance(reply["result"]["time"], float)
    async with raw_connection(server, token=TOKEN) as raw:
        reply = await raw.rpc(request("station.ping"))
        assert reply["result"]["authenticated"] is True


async def test_discover_returns_the_openrpc_document_without_auth() -> None:
    server = make_server()
    async with raw_connection(server) as raw:
        reply = await raw.rpc(request("rpc.discover", id="d"))
    document = reply["result"]
    assert document["openrpc"].startswith("1.2")
    names = {method["name"] for method in document["methods"]}
    assert {"rpc.discover", "station.ping", "auth.login", "queue.list", "test.echo"} <= names
    assert "x-notifications" in document


async def test_login_with_auth_login_unlocks_the_connection() -> None:
    async with raw_connection(make_server()) as raw:
        refused = await raw.rpc(request("queue.list", {}))
        assert code_of(refused) == ErrorCode.UNAUTHORIZED
        assert TOKEN not in str(refused)
        login = await raw.rpc(request("auth.login", {"token": TOKEN}, id=2))
        assert login == {
            "jsonrpc": "2.0",
            "id": 2,
            "result": {"authenticated": True, "role": "operator", "note": None},
        }
        reply = await raw.rpc(request("queue.list", {}, id=3))
        assert reply["result"]["total"] == 1


async def test_login_by_position() -> None:
    async with raw_connection(make_server()) as raw:
        assert (await raw.rpc(request("auth.login", [TOKEN])))["result"]["authenticated"]


async def test_every_method_but_the_public_ones_needs_auth() -> None:
    server = make_server()
    public = {"rpc.discover", "station.ping", "auth.login", "test.reveal"}
    async with raw_connection(server) as raw:
        for spec in server.registry.methods():
            reply = await raw.rpc(request(spec.name, {}, id=spec.name))
            if spec.name in public:
                continue
            assert code_of(reply) == ErrorCode.UNAUTHORIZED, spec.name
            assert reply["id"] == spec.name


async def test_wrong_login_is_refused_and_the_connection_stays_usable() -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc(request("auth.login", {"token": TOKEN + "x"}))
        assert code_of(reply) == ErrorCode.UNAUTHORIZED
        assert TOKEN not in str(reply)
        assert (await raw.rpc(request("station.ping")))["result"]["authenticated"] is False
        assert code_of(await raw.rpc(request("queue.list"))) == ErrorCode.UNAUTHORIZED


async def test_a_token_with_odd_characters_is_just_wrong() -> None:
    server = make_server()
    for token in ["", "é" * 40, "\x00", TOKEN[:-1], TOKEN.upper()]:
        async with raw_connection(server) as raw:
            reply = await raw.rpc(request("auth.login", {"token": token}))
            assert code_of(reply) in (ErrorCode.UNAUTHORIZED, ErrorCode.RATE_LIMITED)


async def test_failed_logins_are_throttled_per_address_but_never_the_right_token(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(login_failures=(3, 6.0))  # 3 at once, then one every 2 s
    for _ in range(3):  # one connection each: a connection has its own limit (below)
        async with raw_connection(server) as raw:
            reply = await raw.rpc(request("auth.login", {"token": "wrong-token"}))
            assert code_of(reply) == ErrorCode.UNAUTHORIZED
    async with raw_connection(server) as raw:
        # Throttled: a wrong token is refused at once with a hint when to retry ...
        reply = await raw.rpc(request("auth.login", {"token": "wrong-again"}))
        assert code_of(reply) == ErrorCode.RATE_LIMITED
        assert 0 < reply["error"]["data"]["retry_after"] <= 2.0
        # ... and the right one is accepted all the same.
        reply = await raw.rpc(request("auth.login", {"token": TOKEN}))
        assert reply["result"]["role"] == "operator"
    # A header with the right token gets in too.
    async with raw_connection(server, token=TOKEN) as raw:
        assert (await raw.rpc(request("station.ping")))["result"]["authenticated"] is True
    await trio.sleep(2.0)  # one failure's worth refilled
    async with raw_connection(server) as raw:
        reply = await raw.rpc(request("auth.login", {"token": "wrong-token"}))
        assert code_of(reply) == ErrorCode.UNAUTHORIZED


async def test_a_login_ahead_of_other_requests_covers_them() -> None:
    """Built-ins run in message order, so pipelined requests see the login."""
    async with raw_connection(make_server()) as raw:
        await raw.send(request("auth.login", {"token": TOKEN}, id=1))
        await raw.send(request("queue.list", {}, id=2))
        replies = {r["id"]: r for r in [await raw.receive(), await raw.receive()]}
        assert replies[1]["result"]["authenticated"] is True
        assert replies[2]["result"]["total"] == 1


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "reply_id"),
    [
        ("{not json", ErrorCode.PARSE_ERROR, None),
        ("", ErrorCode.PARSE_ERROR, None),
        ("[" * 5000, ErrorCode.PARSE_ERROR, None),
        (
            '{"jsonrpc": "2.0", "id": 1, "method": "x", "params": 1e999}',
            ErrorCode.PARSE_ERROR,
            None,
        ),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "station.ping"}', ErrorCode.PARSE_ERROR, None),
        ("42", ErrorCode.INVALID_REQUEST, None),
        ('"station.ping"', ErrorCode.INVALID_REQUEST, None),
        ("null", ErrorCode.INVALID_REQUEST, None),
        ("[]", ErrorCode.INVALID_REQUEST, None),
        ('{"jsonrpc": "2.0", "id": 5}', ErrorCode.INVALID_REQUEST, 5),
        ('{"jsonrpc": "1.0", "id": 5, "method": "station.ping"}', ErrorCode.INVALID_REQUEST, 5),
        ('{"id": 5, "method": "station.ping"}', ErrorCode.INVALID_REQUEST, 5),
        ('{"jsonrpc": "2.0", "id": "a", "method": 3}', ErrorCode.INVALID_REQUEST, "a"),
        ('{"jsonrpc": "2.0", "id": "a", "method": ""}', ErrorCode.INVALID_REQUEST, "a"),
        ('{"jsonrpc": "2.0", "id": 1, "method": "m", "params": 3}', ErrorCode.INVALID_REQUEST, 1),
        ('{"jsonrpc": "2.0", "id": 1, "method": "m", "params": "x"}', ErrorCode.INVALID_REQUEST, 1),
        ('{"jsonrpc": "2.0", "id": 1, "method": "m", "param": {}}', ErrorCode.INVALID_REQUEST, 1),
        (
            '{"jsonrpc": "2.0", "id": true, "method": "station.ping"}',
            ErrorCode.INVALID_REQUEST,
            None,
        ),
        (
            '{"jsonrpc": "2.0", "id": 1.5, "method": "station.ping"}',
            ErrorCode.INVALID_REQUEST,
            None,
        ),
        (
            '{"jsonrpc": "2.0", "id": [1], "method": "station.ping"}',
            ErrorCode.INVALID_REQUEST,
            None,
        ),
        ('{"jsonrpc": "2.0", "id": 9, "method": "no.such"}', ErrorCode.METHOD_NOT_FOUND, 9),
        ('{"jsonrpc": "2.0", "id": 9, "method": "notify.counters"}', ErrorCode.METHOD_NOT_FOUND, 9),
    ],
)
async def test_malformed_frames_get_an_error_and_the_connection_stays_usable(
    frame: str | bytes, code: ErrorCode, reply_id: object
) -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc(frame)
        assert code_of(reply) == code
        assert reply["id"] == reply_id
        assert reply["jsonrpc"] == "2.0"
        assert (await raw.rpc(request("station.ping", id=2)))["result"]["pong"] is True


async def test_unknown_method_names_are_shortened_in_the_message() -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc(request("x" * 10_000))
    assert code_of(reply) == ErrorCode.METHOD_NOT_FOUND
    assert len(reply["error"]["message"]) < 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"state": "lost"}, "state"),
        ({"offset": -1}, "offset"),
        ({"limt": 5}, "limt"),
        ([None, 0, 5000], "limit"),
    ],
)
async def test_invalid_params_name_the_field(params: object, field: str) -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        reply = await raw.rpc(request("queue.list", params))
        assert code_of(reply) == ErrorCode.INVALID_PARAMS
        assert reply["error"]["data"] == {"field": field}
        assert field in reply["error"]["message"]


async def test_missing_and_surplus_params() -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        reply = await raw.rpc(request("queue.show", {}))
        assert code_of(reply) == ErrorCode.INVALID_PARAMS
        assert reply["error"]["data"] == {"field": "entry"}
        reply = await raw.rpc(request("queue.list", [None, 0, 10, "extra"]))
        assert code_of(reply) == ErrorCode.INVALID_PARAMS
        assert "at most 3" in reply["error"]["message"]
        # No params, {}, [] and positional params all work.
        for params in (msgspec.UNSET, {}, [], [None, 0, 1], {"state": "queued"}):
            assert "result" in await raw.rpc(request("queue.list", params))


async def test_application_errors_pass_through() -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        reply = await raw.rpc(request("queue.show", {"entry": "42"}))
    assert reply["error"] == {
        "code": ErrorCode.NOT_FOUND,
        "message": "no queue entry 42",
        "data": {"entry": "?"},
    }


async def test_handler_crash_is_a_generic_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        reply = await raw.rpc(request("test.crash"))
        assert code_of(reply) == ErrorCode.INTERNAL_ERROR
        assert reply["error"]["message"] == "internal error"
        assert SECRET not in str(reply)
        assert "boom" not in str(reply)
        incident = reply["error"]["data"]["incident"]
        assert "result" in await raw.rpc(request("station.ping"))
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None  # the traceback is in the log


async def test_results_and_errors_holding_secrets_are_never_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with raw_connection(make_server(), token=TOKEN) as raw:
        for method in ("test.leak", "test.leak_error", "test.unencodable"):
            reply = await raw.rpc(request(method))
            assert code_of(reply) == ErrorCode.INTERNAL_ERROR
        reply = await raw.rpc(request("test.reveal", {"token": TOKEN}))
        assert code_of(reply) == ErrorCode.INTERNAL_ERROR
        sent = "".join(map(str, raw.frames))
    assert TOKEN not in sent
    assert SECRET not in sent
    assert not any(TOKEN in record.getMessage() for record in caplog.records)


# --- notifications, batches ----------------------------------------------------------------------


async def test_notifications_get_no_reply_even_when_they_fail(
    autojump_clock: trio.testing.MockClock,
) -> None:
    registry_server = make_server()
    async with raw_connection(registry_server, token=TOKEN) as raw:
        for message in (
            request("test.notified", id=msgspec.UNSET),
            request("no.such", id=msgspec.UNSET),
            request("queue.list", {"limit": 0}, id=msgspec.UNSET),
            request("test.crash", id=msgspec.UNSET),
        ):
            await raw.send(message)
        assert await raw.nothing_within(5)
        assert (await raw.rpc(request("station.ping", id=1)))["id"] == 1


async def test_notification_runs_the_method() -> None:
    from .helpers import make_registry

    registry, state = make_registry()
    server = ControlServer(registry, token=TOKEN)
    async with raw_connection(server, token=TOKEN) as raw:
        await raw.send(request("test.notified", id=msgspec.UNSET))
        await state["notified"].wait()


async def test_unauthenticated_notifications_do_nothing() -> None:
    from .helpers import make_registry

    registry, state = make_registry()
    async with raw_connection(ControlServer(registry, token=TOKEN)) as raw:
        await raw.send(request("test.notified", id=msgspec.UNSET))
        await raw.rpc(request("station.ping"))
        await trio.testing.wait_all_tasks_blocked()
        assert not state["notified"].is_set()


async def test_batch_replies_in_one_array_without_the_notifications() -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc(
            [
                request("station.ping", id=1),
                request("station.ping", id=msgspec.UNSET),
                request("auth.login", {"token": TOKEN}, id=2),
                request("queue.list", {"limit": 1}, id=3),  # covered by the login before it
                request("no.such", id=4),
                {"jsonrpc": "2.0", "id": 5},
                17,
            ]
        )
    assert isinstance(reply, list)
    by_id = {item["id"]: item for item in reply if item["id"] is not None}
    assert set(by_id) == {1, 2, 3, 4, 5}
    assert len(reply) == 6  # plus the error for 17, with id null
    assert by_id[3]["result"]["total"] == 1
    assert code_of(by_id[4]) == ErrorCode.METHOD_NOT_FOUND
    assert code_of(by_id[5]) == ErrorCode.INVALID_REQUEST


async def test_batch_of_notifications_gets_nothing(autojump_clock: trio.testing.MockClock) -> None:
    async with raw_connection(make_server()) as raw:
        await raw.send([request("station.ping", id=msgspec.UNSET)] * 3)
        assert await raw.nothing_within(5)


async def test_oversized_batch_is_refused_whole() -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc([request("station.ping", id=i) for i in range(101)])
        assert code_of(reply) == ErrorCode.INVALID_REQUEST
        assert "100" in reply["error"]["message"]
        full = await raw.rpc([request("station.ping", id=i) for i in range(50)])
        assert sorted(item["id"] for item in full) == list(range(50))


# --- limits --------------------------------------------------------------------------------------


async def test_rate_limit_answers_excess_requests_and_keeps_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(rate=(5, 1.0))
    async with raw_connection(server) as raw:
        replies = await raw.rpc([request("station.ping", id=i) for i in range(8)])
        codes = sorted(code_of(r) if "error" in r else 0 for r in replies)
        assert codes == [ErrorCode.RATE_LIMITED] * 3 + [0] * 5
        limited = [r for r in replies if "error" in r]
        assert all(0 < r["error"]["data"]["retry_after"] <= 0.2 for r in limited)
        await trio.sleep(0.2)  # 50 per second: one token back
        assert "result" in await raw.rpc(request("station.ping"))
        assert code_of(await raw.rpc(request("station.ping"))) == ErrorCode.RATE_LIMITED
        await trio.sleep(1.0)
        replies = await raw.rpc([request("station.ping", id=i) for i in range(5)])
        assert all("result" in r for r in replies)


async def test_oversize_message_gets_an_error_then_a_close() -> None:
    server = make_server(max_message_bytes=1024)
    for frame in ("x" * 1025, "€" * 400):  # characters vs bytes: 400 euros are 1200 bytes
        async with raw_connection(server) as raw:
            reply = await raw.rpc(frame)
            assert code_of(reply) == ErrorCode.MESSAGE_TOO_LARGE
            assert reply["id"] is None
            assert reply["error"]["data"] == {"limit": 1024}
            with pytest.raises(ConnectionClosed) as closed:
                await raw.receive()
            assert closed.value.reason is not None
            assert closed.value.reason.code == 1009
    async with raw_connection(server) as raw:  # exactly at the limit is fine
        padded = request("station.ping", id="p" * 900)
        reply = await raw.rpc(padded)
        assert "result" in reply


async def test_huge_message_is_cut_off_by_the_websocket_layer() -> None:
    server = make_server(max_message_bytes=1024)
    async with raw_connection(server) as raw:
        await raw.send("x" * 10_000)
        with pytest.raises(ConnectionClosed) as closed:
            await raw.receive()
        assert closed.value.reason is not None
        assert closed.value.reason.code == 1009
    async with raw_connection(server) as raw:  # the server is fine
        assert "result" in await raw.rpc(request("station.ping"))


async def test_a_closed_connection_is_forgotten() -> None:
    server = make_server()
    async with raw_connection(server) as raw:
        await raw.rpc(request("station.ping"))
        assert len(server.hub.connections()) == 1
    await trio.testing.wait_all_tasks_blocked()
    assert server.hub.connections() == []


# --- correlation and order -----------------------------------------------------------------------


async def test_every_request_gets_exactly_one_reply_with_its_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rng = random.Random(7)
    server = make_server(rate=(500, 1.0))
    async with raw_connection(server, token=TOKEN) as raw:
        ids = [f"req-{i}" for i in range(200)]
        for n, rid in enumerate(ids):
            delay = rng.choice([0, 0, 0.01, 0.5, 2.0])
            await raw.send(request("test.echo", {"value": n, "delay": delay}, id=rid))
        replies = [await raw.receive() for _ in ids]
        assert sorted(r["id"] for r in replies) == sorted(ids)
        for reply in replies:
            assert reply["result"]["value"] == ids.index(reply["id"])
        assert await raw.nothing_within(10)  # nothing late, nothing twice


async def test_slow_methods_do_not_hold_up_fast_ones(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        await raw.send(request("test.echo", {"value": 1, "delay": 60}, id="slow"))
        reply = await raw.rpc(request("station.ping", id="fast"))
        assert reply["id"] == "fast"
        assert trio.current_time() < 1
        assert (await raw.receive())["id"] == "slow"


async def test_requests_in_flight_are_capped(autojump_clock: trio.testing.MockClock) -> None:
    async with raw_connection(make_server(max_in_flight=2), token=TOKEN) as raw:
        for n in range(3):
            await raw.send(request("test.echo", {"value": n, "delay": 10}, id=n))
        await raw.send(request("station.ping", id="ping"))
        first = await raw.receive()
        # The third echo waited for a slot, and the ping (read after it) waited too.
        assert first["id"] in (0, 1)
        assert trio.current_time() >= 10
        rest = [await raw.receive() for _ in range(3)]
        assert {r["id"] for r in rest} == {0, 1, 2, "ping"} - {first["id"]}


async def test_server_refuses_weak_tokens_and_bad_limits() -> None:
    from .helpers import make_registry

    registry, _ = make_registry()
    for token in ("short", "x" * 15, "has space in it 1234", "tab\there-0123456789"):
        with pytest.raises(ValueError, match="control token"):
            ControlServer(registry, token=token)
    with pytest.raises(ValueError, match="limits"):
        ControlServer(registry, token=TOKEN, send_queue=0)
    with pytest.raises(ValueError, match="rate"):
        ControlServer(registry, token=TOKEN, rate=(0, 1.0))
    other, _ = make_registry()
    with pytest.raises(ValueError, match="registry"):
        ControlServer(registry, token=TOKEN, hub=ControlServer(other, token=TOKEN).hub)


async def test_a_silent_client_is_dropped_after_the_handshake_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server()
    client_stream, server_stream = trio.testing.memory_stream_pair()
    with trio.fail_after(60):
        await server.serve_stream(server_stream)  # returns: the handshake never came
    assert trio.current_time() == pytest.approx(10.0)
    assert await client_stream.receive_some() == b""  # closed


async def test_an_idle_authenticated_connection_stays_open(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with raw_connection(make_server(), token=TOKEN) as raw:
        await trio.sleep(3600)
        assert (await raw.rpc(request("station.ping")))["result"]["pong"]


async def test_garbage_instead_of_a_handshake_is_contained() -> None:
    server = make_server()
    for garbage in (b"GET / HTTP/1.1\r\n\r\n", b"\x00" * 100, b"HELLO\r\n\r\n"):
        client_stream, server_stream = trio.testing.memory_stream_pair()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.serve_stream, server_stream)
            await client_stream.send_all(garbage)
            await client_stream.aclose()
    async with raw_connection(server) as raw:
        assert (await raw.rpc(request("station.ping")))["result"]["pong"]
