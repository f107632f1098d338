"""Failed logins slow down and close the failing client, never the good clients of its address."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

from pywats_station.control import ErrorCode, open_memory_client
from pywats_station.control.server import ControlServer

from .helpers import ADMIN_TOKEN, TOKEN, Raw, connect, make_server, raw_connection, request
from .helpers import error_code as code_of

pytestmark = pytest.mark.trio

WRONG = "w" * 43


async def _fail_forever(server: ControlServer, seen: dict[str, int]) -> None:
    """A client failing ``auth.login`` every 50 ms, reconnecting whenever it is closed."""
    while True:
        async with AsyncExitStack() as stack:
            raw = await connect(stack, server)
            if not isinstance(raw, Raw):
                seen["refused"] += 1
                await trio.sleep(0.05)
                continue
            try:
                while True:
                    reply = await raw.rpc(request("auth.login", {"token": WRONG}))
                    seen[str(code_of(reply))] += 1
                    await trio.sleep(0.05)
            except ConnectionClosed as closed:
                reason = closed.reason
                seen[f"closed {reason.code} {reason.reason}" if reason else "closed"] += 1


async def test_a_correct_token_is_accepted_while_a_failing_client_is_throttled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """One client failing every 50 ms used to lock out every correct client of its address."""
    server = make_server()
    seen: dict[str, int] = {
        "refused": 0,
        str(int(ErrorCode.UNAUTHORIZED)): 0,
        str(int(ErrorCode.RATE_LIMITED)): 0,
        "closed 1008 too many failed logins": 0,
        "closed": 0,
    }
    logged_in: list[str] = []
    async with trio.open_nursery() as nursery:
        for _ in range(3):  # three of them, on the same address as everyone here
            nursery.start_soon(_fail_forever, server, seen)
        await trio.sleep(5.0)
        for n in range(10):
            if n % 2:  # with the header ...
                async with open_memory_client(server, token=TOKEN) as client:
                    logged_in.append((await client.ping()).role)
            else:  # ... or with auth.login
                async with raw_connection(server) as raw:
                    reply = await raw.rpc(request("auth.login", {"token": ADMIN_TOKEN}))
                    logged_in.append(reply["result"]["role"])
            await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    assert logged_in == ["admin", "operator"] * 5
    # The failing clients were throttled and their connections closed, again and again.
    assert seen[str(int(ErrorCode.RATE_LIMITED))] > 10
    assert seen["closed 1008 too many failed logins"] > 5


async def test_a_failing_connection_waits_before_each_attempt_and_is_closed_after_three(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with raw_connection(make_server()) as raw:
        started = trio.current_time()
        for n in range(4):  # all sent at once
            await raw.send(request("auth.login", {"token": WRONG}, id=n))
        replies = []
        for _ in range(3):
            replies.append((await raw.receive(), trio.current_time() - started))
        assert [(reply["id"], code_of(reply)) for reply, _ in replies] == [
            (0, ErrorCode.UNAUTHORIZED),
            (1, ErrorCode.UNAUTHORIZED),
            (2, ErrorCode.UNAUTHORIZED),
        ]
        # Each next attempt was looked at a second after the failure before it.
        assert [at for _, at in replies] == pytest.approx([0.0, 1.0, 2.0])
        with pytest.raises(ConnectionClosed) as closed:
            await raw.receive()  # the fourth is never answered: closed after the third
        assert closed.value.reason is not None
        assert (closed.value.reason.code, closed.value.reason.reason) == (
            1008,
            "too many failed logins",
        )


async def test_a_mistyped_token_can_be_corrected_on_the_same_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with raw_connection(make_server()) as raw:
        failed = await raw.rpc(request("auth.login", {"token": WRONG}))
        assert code_of(failed) == ErrorCode.UNAUTHORIZED
        reply = await raw.rpc(request("auth.login", {"token": TOKEN}))
        assert reply["result"]["role"] == "operator"
        assert trio.current_time() == pytest.approx(1.0)  # the one wait after the failure


async def test_wrong_tokens_from_a_throttled_address_are_refused_at_once(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "pywats_station.control")
    server = make_server(login_failures=(3, 6.0))
    codes = []
    for _ in range(8):
        async with raw_connection(server) as raw:
            codes.append(code_of(await raw.rpc(request("auth.login", {"token": WRONG}))))
    assert codes == [ErrorCode.UNAUTHORIZED] * 3 + [ErrorCode.RATE_LIMITED] * 5
    assert trio.current_time() == 0  # none of them waited
    await trio.sleep(6.0)
    async with raw_connection(server) as raw:
        failed = await raw.rpc(request("auth.login", {"token": WRONG}))
        assert code_of(failed) == ErrorCode.UNAUTHORIZED
    lines = [r.getMessage() for r in caplog.records if "control logins from" in r.getMessage()]
    assert lines == [  # once when it starts, once when it is over: not once per guess
        "control logins from in-process: too many wrong tokens; more are refused at once "
        "(correct tokens are still accepted)",
        "control logins from in-process: throttle over (5 refused)",
    ]


async def test_a_long_throttle_is_summarised_once_a_minute(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "pywats_station.control")
    server = make_server(login_failures=(1, 1000.0))  # one failure, then throttled for long
    for _ in range(27):  # a wrong token every 5 s for 130 s
        async with raw_connection(server) as raw:
            await raw.rpc(request("auth.login", {"token": WRONG}))
        await trio.sleep(5.0)
    lines = [r.getMessage() for r in caplog.records if "control logins from" in r.getMessage()]
    assert lines == [
        "control logins from in-process: too many wrong tokens; more are refused at once "
        "(correct tokens are still accepted)",
        "control logins from in-process: 12 more wrong tokens refused in the last 60 s",
        "control logins from in-process: 12 more wrong tokens refused in the last 60 s",
    ]
