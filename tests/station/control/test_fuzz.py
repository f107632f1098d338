"""Random frames at the server: it never crashes, always answers a ping, never leaks a secret."""

from __future__ import annotations

import json
import logging
from typing import Any

import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed

from pywats_station.control import methods as m

from .helpers import SECRET, TOKEN, make_server, raw_connection, request

# Text without lone surrogates: a websocket text frame is UTF-8, so no client can send them.
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
method_names = (
    st.sampled_from(
        [spec.name for spec in m.catalogue()]
        + ["test.echo", "test.reveal", "test.crash", "test.leak", "notify.counters", "rpc.", ""]
    )
    | text
)
guesses = st.sampled_from([TOKEN[:-1], TOKEN.upper(), TOKEN + " ", " " + TOKEN]) | text
params = (
    json_values
    | st.fixed_dictionaries({"token": guesses})
    | st.fixed_dictionaries({"events": st.lists(text | st.just("*"), max_size=3)})
    | st.fixed_dictionaries({"value": st.integers(), "delay": st.floats(-1, 1)})
    | st.fixed_dictionaries({"limit": json_values, "state": json_values})
)
messages = st.fixed_dictionaries(
    {"method": method_names},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2]) | json_values,
        "id": st.integers() | text | st.none() | st.booleans() | st.floats(allow_nan=False),
        "params": params,
        "extra": json_values,
    },
)
frames = st.one_of(
    st.binary(max_size=200),
    text.map(str),
    json_values.map(json.dumps),
    messages.map(json.dumps),
    st.lists(messages, min_size=0, max_size=5).map(json.dumps),
    # Deep nesting: msgspec raises RecursionError (hypothesis raises the recursion limit).
    st.sampled_from([1, 64, 1200, 7000]).map(lambda n: "[" * n + "]" * (n % 7)),
    st.integers(7000, 20000).map(lambda n: json.dumps(request("station.ping", id="x" * n))),
)


class Collect(logging.Handler):
    """Collects the server's log records (the secret must not be logged either)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _exercise(sent: list[str | bytes]) -> list[str | bytes]:
    server = make_server(max_message_bytes=8192)
    received: list[str | bytes] = []
    async with raw_connection(server) as raw:
        for frame in sent:
            try:
                await raw.send(frame)
                while not await raw.nothing_within(1):
                    pass
            except ConnectionClosed:
                break  # a too-large frame closes the connection (1009): a fresh one follows
        received += raw.frames
        try:
            reply = await raw.rpc(request("station.ping", id="alive"))
            assert reply["id"] == "alive"
        except ConnectionClosed:
            assert raw.ws.closed is not None
            assert raw.ws.closed.code == 1009
    async with raw_connection(server) as raw:  # the server itself is fine
        reply = await raw.rpc(request("station.ping", id="fresh"))
        assert reply["result"]["pong"] is True
        assert reply["result"]["authenticated"] is False
        received += raw.frames
    return received


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(frames, min_size=1, max_size=8))
def test_random_frames_never_crash_the_server_nor_leak(sent: list[Any]) -> None:
    collect = Collect()
    logger = logging.getLogger("pywats_station.control")
    logger.addHandler(collect)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        received = trio.run(_exercise, sent, clock=trio.testing.MockClock(autojump_threshold=0))
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    for frame in received:
        body = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        assert TOKEN not in body
        assert SECRET not in body
        json.loads(body)  # every frame the server sends is JSON
    crashes = [r for r in collect.records if r.getMessage() == "control connection failed"]
    assert not crashes, crashes[0].exc_info
    for record in collect.records:
        assert TOKEN not in record.getMessage()
