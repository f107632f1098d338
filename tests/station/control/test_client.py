"""The trio client over in-memory streams: results, errors, correlation, cancellation, closing."""

from __future__ import annotations

import random
from functools import partial

import pytest
import trio
import trio.testing

from pywats_station.control import ControlConnectionError, ControlError, ErrorCode
from pywats_station.control import methods as m
from pywats_station.control.client import open_control_client, open_memory_client

from .helpers import TOKEN, EchoResult, make_registry, make_server

pytestmark = pytest.mark.trio


async def test_call_returns_plain_json_or_the_type_asked_for() -> None:
    async with open_memory_client(make_server(), token=TOKEN) as client:
        plain = await client.call("queue.list", {"limit": 5})
        assert plain["entries"][0]["report_id"] == "r-1"
        typed = await client.call(
            "queue.list", m.QueueListParams(state="queued"), result_type=m.QueueListResult
        )
        assert isinstance(typed, m.QueueListResult)
        assert typed.entries[0].state == "queued"
        assert (await client.call("queue.list", [None, 0, 1]))["limit"] == 1
        ping = await client.call("station.ping", result_type=m.PingResult)
        assert ping.authenticated


async def test_errors_carry_code_message_and_data() -> None:
    async with open_memory_client(make_server(), token=TOKEN) as client:
        with pytest.raises(ControlError) as error:
            await client.call("queue.show", {"entry": "7"})
        assert error.value.code == ErrorCode.NOT_FOUND
        assert error.value.message == "no queue entry 7"
        assert error.value.data == {"entry": "?"}
        assert "(-32010)" in str(error.value)
        with pytest.raises(ControlError) as error:
            await client.call("queue.list", {"limit": "x"})
        assert error.value.code == ErrorCode.INVALID_PARAMS
        assert error.value.data == {"field": "limit"}
        with pytest.raises(ControlError) as error:
            await client.call("no.such")
        assert error.value.code == ErrorCode.METHOD_NOT_FOUND
        assert not isinstance(error.value, ControlConnectionError)


async def test_unauthenticated_client_can_log_in() -> None:
    async with open_memory_client(make_server()) as client:
        with pytest.raises(ControlError) as error:
            await client.call("queue.list")
        assert error.value.code == ErrorCode.UNAUTHORIZED
        await client.call("auth.login", {"token": TOKEN})
        assert (await client.call("queue.list"))["total"] == 1


async def test_handshake_refusals_become_control_errors() -> None:
    server = make_server()
    with pytest.raises(ControlError) as error:
        async with open_memory_client(server, token="wrong-" + TOKEN):
            pytest.fail("connected with a wrong token")
    assert error.value.code == ErrorCode.UNAUTHORIZED
    with pytest.raises(ControlError) as error:
        async with open_memory_client(server, headers=[("Origin", "https://evil.example")]):
            pytest.fail("connected from a forbidden origin")
    assert error.value.code == ErrorCode.FORBIDDEN_ORIGIN


async def test_many_concurrent_calls_each_get_their_own_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    rng = random.Random(3)
    results: dict[int, int] = {}
    async with open_memory_client(make_server(rate=(1000, 1.0)), token=TOKEN) as client:

        async def one(n: int) -> None:
            delay = rng.choice([0.0, 0.001, 0.3, 1.0, 5.0])
            reply = await client.call(
                "test.echo", {"value": n, "delay": delay}, result_type=EchoResult
            )
            results[n] = reply.value

        async with trio.open_nursery() as nursery:
            for n in range(300):
                nursery.start_soon(one, n)
    assert results == {n: n for n in range(300)}


async def test_a_cancelled_call_does_not_swallow_the_next_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_memory_client(make_server(), token=TOKEN) as client:
        with trio.move_on_after(1):
            await client.call("test.echo", {"value": 1, "delay": 2})
        # The first call's reply arrives while this one waits: it must not be taken for it.
        reply = await client.call("test.echo", {"value": 2, "delay": 3})
        assert reply == {"value": 2}
        assert not client._pending


async def test_notify_runs_the_method_without_a_reply() -> None:
    registry, state = make_registry()
    from pywats_station.control import ControlServer

    server = ControlServer(registry, token=TOKEN)
    async with open_memory_client(server, token=TOKEN) as client:
        await client.notify("test.notified")
        await state["notified"].wait()
        await client.notify("no.such.method")  # no error comes back for a notification
        assert (await client.call("station.ping"))["pong"]


async def test_pending_calls_fail_when_the_server_closes() -> None:
    async with open_memory_client(make_server(), token=TOKEN) as client:
        with pytest.raises(ControlConnectionError) as error:
            await client.call("test.drop", {"code": 1008, "reason": "bye"})
        assert error.value.code == ErrorCode.CONNECTION_CLOSED
        assert error.value.close_code == 1008
        assert error.value.close_reason == "bye"
        assert client.closed
        with pytest.raises(ControlConnectionError):
            await client.call("station.ping")
        with pytest.raises(ControlConnectionError):
            await client.notify("station.ping")


async def test_too_large_call_reports_the_servers_reason() -> None:
    async with open_memory_client(make_server(max_message_bytes=1024), token=TOKEN) as client:
        with pytest.raises(ControlConnectionError) as error:
            await client.call("queue.show", {"entry": "x" * 1500})
    assert error.value.close_code == 1009
    assert "message too large" in error.value.message


async def test_errors_in_the_body_propagate_unwrapped() -> None:
    async def use_and_fail() -> None:
        async with open_memory_client(make_server(), token=TOKEN) as client:
            await client.call("station.ping")
            raise KeyError("mine")

    with pytest.raises(KeyError):  # not an ExceptionGroup
        await use_and_fail()


async def test_calls_after_the_client_closed_fail_clearly() -> None:
    async with open_memory_client(make_server(), token=TOKEN) as client:
        pass
    assert client.closed
    with pytest.raises(ControlConnectionError, match="closed"):
        await client.call("station.ping")


async def test_a_server_closing_during_the_handshake_is_retried_then_reported() -> None:
    """trio-websocket alone waits out the connect timeout (10 s), then says "no handshake"."""
    attempts: list[int] = []

    async def close_at_once(stream: trio.SocketStream) -> None:
        attempts.append(1)
        await stream.receive_some()
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        serve = partial(trio.serve_tcp, close_at_once, 0, host="127.0.0.1")
        listeners = await nursery.start(serve)
        port = listeners[0].socket.getsockname()[1]
        with pytest.raises(ControlConnectionError) as error:
            async with open_control_client(f"ws://127.0.0.1:{port}", token=TOKEN):
                pass  # pragma: no cover
        assert "closed the connection during the handshake" in error.value.message
        assert len(attempts) == 4  # nothing was done: tried again three times
        nursery.cancel_scope.cancel()


async def test_a_handshake_closed_once_is_tried_again() -> None:
    server = make_server()
    attempts: list[int] = []

    async def flaky(stream: trio.SocketStream) -> None:
        attempts.append(1)
        if len(attempts) == 1:  # the first is pushed out, as by a server under a flood
            await stream.aclose()
            return
        await server.serve_stream(stream)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, flaky, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        async with open_control_client(f"ws://127.0.0.1:{port}", token=TOKEN) as client:
            assert (await client.ping()).role == "operator"
        assert len(attempts) == 2
        nursery.cancel_scope.cancel()
