"""Strangers on the control port: bounded pools, pushed-out handshakes, the login deadline."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

from pywats_station.control import ErrorCode
from pywats_station.control._admission import ConnectionLimits, HeardStream
from pywats_station.control.server import ControlServer

from .helpers import ADMIN_TOKEN, TOKEN, Raw, connect, make_server, raw_connection, request
from .helpers import error_code as code_of

pytestmark = pytest.mark.trio

NEAR: tuple[str, int] = ("192.0.2.10", 40000)  # a documentation address: "another machine"
FAR: tuple[str, int] = ("198.51.100.20", 40000)


async def _ping(raw: Raw) -> object:
    reply = await raw.rpc(request("station.ping"))
    return reply["result"]["role"]


async def test_connections_without_a_token_cannot_lock_out_the_clients_with_one() -> None:
    """64 idle strangers used to fill every place: the token holders then got HTTP 503."""
    server = make_server()
    async with AsyncExitStack() as stack:
        results = [await connect(stack, server) for _ in range(64)]
        admitted = [result for result in results if isinstance(result, Raw)]
        refused = [result for result in results if not isinstance(result, Raw)]
        assert len(admitted) == 8  # per address (in-process clients share one)
        assert {status for status, _ in refused} == {503}
        assert refused[0][1] == b"too many control connections without a token from this address\n"
        for token, role in ((TOKEN, "operator"), (ADMIN_TOKEN, "admin")):
            raw = await connect(stack, server, token=token)
            assert isinstance(raw, Raw), raw
            assert await _ping(raw) == role
        stats = server.statistics()
        assert (stats.unauthenticated, stats.authenticated, stats.refused) == (8, 2, 56)


async def test_the_pool_without_a_token_is_bounded_in_total_and_per_address() -> None:
    server = make_server()
    async with AsyncExitStack() as stack:
        for remote in (None, NEAR):
            for _ in range(8):
                assert isinstance(await connect(stack, server, remote=remote), Raw)
        refused = await connect(stack, server, remote=FAR)
        assert refused == (503, b"too many control connections without a token\n")
        # From another machine too, a correct token gets in (as operator: see test_roles).
        raw = await connect(stack, server, token=TOKEN, remote=FAR)
        assert isinstance(raw, Raw)
        assert await _ping(raw) == "operator"


async def test_a_login_moves_the_connection_to_the_authenticated_pool() -> None:
    server = make_server()
    async with AsyncExitStack() as stack:
        strangers = [await connect(stack, server) for _ in range(8)]
        assert all(isinstance(raw, Raw) for raw in strangers)
        assert not isinstance(await connect(stack, server), Raw)
        first = strangers[0]
        assert isinstance(first, Raw)
        login = await first.rpc(request("auth.login", {"token": TOKEN}))
        assert login["result"]["role"] == "operator"
        assert isinstance(await connect(stack, server), Raw)  # its place was given back
        stats = server.statistics()
        assert (stats.unauthenticated, stats.authenticated) == (8, 1)


async def test_no_room_among_the_authenticated_is_said_at_login() -> None:
    server = make_server(max_connections=1)
    async with raw_connection(server, token=TOKEN), raw_connection(server) as second:
        reply = await second.rpc(request("auth.login", {"token": ADMIN_TOKEN}))
        assert code_of(reply) == ErrorCode.RATE_LIMITED
        assert reply["error"]["message"].startswith("too many authenticated control connections")
        assert await _ping(second) == "none"


async def test_every_place_is_given_back(autojump_clock: trio.testing.MockClock) -> None:
    server = make_server()
    for _ in range(3):
        async with AsyncExitStack() as stack:
            for _ in range(20):
                await connect(stack, server)
            await connect(stack, server, token=TOKEN)
        async with raw_connection(server):
            await trio.sleep(11)  # closed for not logging in
    stats = server.statistics()
    assert (stats.pending, stats.unauthenticated, stats.authenticated) == (0, 0, 0)
    assert stats.auth_timeouts == 3


async def test_idle_sockets_are_pushed_out_by_newer_connections(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(limits=ConnectionLimits(max_pending=4))
    idle: list[trio.abc.ReceiveStream] = []
    async with trio.open_nursery() as nursery:
        talker, served = trio.testing.memory_stream_pair()  # the oldest, but it talks
        nursery.start_soon(server.serve_stream, served)
        await talker.send_all(b"GET / HTTP/1.1\r\n")  # a slow handshake, under way
        for _ in range(9):  # connect, never send a thing
            client, served = trio.testing.memory_stream_pair()
            nursery.start_soon(server.serve_stream, served)
            idle.append(client.receive_stream)
            await trio.testing.wait_all_tasks_blocked()
        stats = server.statistics()
        assert (stats.pending, stats.pushed_out) == (4, 6)
        for stream in idle[:6]:  # the oldest silent ones are closed at once, not after 10 s
            assert await stream.receive_some() == b""
        assert trio.current_time() == 0
        # A real client sends its handshake at once: through, pushing out one more silent one.
        async with raw_connection(server, token=TOKEN) as raw:
            assert await _ping(raw) == "operator"
        assert server.statistics().pushed_out == 7
        assert await idle[6].receive_some() == b""
        # Only silent ones were pushed out: the talker's handshake goes on, until its deadline.
        with trio.move_on_after(1):
            assert await talker.receive_some() == b""
            raise AssertionError("the talker was pushed out")
        nursery.cancel_scope.cancel()


async def test_silent_sockets_go_first_then_stalled_handshakes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(limits=ConnectionLimits(max_pending=2))
    streams: dict[str, trio.abc.HalfCloseableStream] = {}
    async with trio.open_nursery() as nursery:
        for name, sends in (
            ("A", b"GET / HTTP/1.1\r\n"),
            ("B", b"GET / HT"),
            ("C", b""),
            ("D", b""),
        ):
            client, served = trio.testing.memory_stream_pair()
            nursery.start_soon(server.serve_stream, served)
            if sends:
                await client.send_all(sends)  # part of a request, then nothing more
            streams[name] = client
            await trio.testing.wait_all_tasks_blocked()
        # C pushed out the oldest stalled one (A: nobody was silent); D pushed out C, the
        # silent one, although B is older.
        closed = {}
        for name, stream in streams.items():
            with trio.move_on_after(1):
                closed[name] = await stream.receive_some() == b""
        assert closed == {"A": True, "C": True}
        assert server.statistics().pending == 2
        nursery.cancel_scope.cancel()


async def test_a_flood_of_refusals_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "pywats_station.control")
    server = make_server(max_connections=1)
    async with AsyncExitStack() as stack:
        await connect(stack, server, token=TOKEN)
        for _ in range(50):
            await connect(stack, server, token=TOKEN)  # the authenticated pool is full
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "control connections refused: pool full (in-process); more are counted and logged "
        "at most every 60 s"
    ]


async def test_a_connection_that_never_logs_in_is_closed_after_10_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with raw_connection(make_server()) as raw:
        started = trio.current_time()
        assert await _ping(raw) == "none"  # it may use the public methods meanwhile
        with trio.fail_after(3600), pytest.raises(ConnectionClosed) as closed:
            await raw.receive()
        reason = closed.value.reason
        assert reason is not None
        assert reason.code == 1008
        assert reason.reason == ("authentication timeout: no login within 10 s of connecting")
        assert trio.current_time() - started == pytest.approx(10.0)


async def test_the_deadline_counts_from_connecting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(limits=ConnectionLimits(auth_timeout=3.0))
    async with raw_connection(server) as late:
        await trio.sleep(2.0)
        login = await late.rpc(request("auth.login", {"token": TOKEN}))
        assert login["result"]["authenticated"] is True
        await trio.sleep(3600)  # logged in in time: never closed
        assert await _ping(late) == "operator"


async def test_limits_are_checked_and_fit_a_descriptor_budget() -> None:
    limits = ConnectionLimits()
    assert limits.descriptors == 64 + 16 + 64
    assert limits.fit(1000) is limits
    small = limits.fit(72)
    assert small.descriptors <= 72
    assert small.max_unauthenticated_per_address <= small.max_unauthenticated
    assert min(small.max_pending, small.max_unauthenticated, small.max_authenticated) >= 1
    assert limits.fit(0).descriptors == 3
    for bad in ({"max_pending": 0}, {"auth_timeout": 0}, {"max_unauthenticated_per_address": 0}):
        with pytest.raises(ValueError, match=r"limit|timeout"):
            ConnectionLimits(**bad)
    with pytest.raises(ValueError, match="differ"):
        ControlServer(make_server().registry, token=TOKEN, admin_token=TOKEN)


async def test_bytes_waiting_in_the_kernel_count_as_spoken_a_closed_peer_does_not() -> None:
    """Under a flood the accept loop runs ahead of the connections' tasks: ask the kernel."""
    for sends, closes, spoke in (
        (b"", False, False),
        (b"GET / HTTP/1.1\r\n\r\n", False, True),
        (b"", True, False),
    ):
        client, served = trio.socket.socketpair()
        with client, served:
            heard = HeardStream(trio.SocketStream(served))
            if sends:
                await client.send(sends)
            if closes:
                client.shutdown(trio.socket.SHUT_WR)
            assert heard.spoke() is spoke
            assert heard.heard is False  # nothing was read
