"""The control channel's JSON-RPC layer on any frame, from either side.

The server parses every incoming frame with :func:`~pywats_station.control.protocol.parse_frame`:
whatever arrives (bytes, broken JSON, nesting thousands deep, wrong shapes, batches), it yields
requests to dispatch or JSON-RPC error responses with a known code, and what it yields encodes
back to JSON. The client reads whatever a server (or a man in the middle on a plain connection)
sends without raising. The whole server (websocket handshake, authentication, dispatch,
rate limits) gets random frames in :mod:`tests.station.control.test_fuzz`; here its cases run
again under this suite's profile, so a long run reaches the server as well.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import msgspec
import trio
import trio.testing
from hypothesis import example, given
from hypothesis import strategies as st

from pywats_station.control.client import Client, Subscription
from pywats_station.control.protocol import (
    MAX_BATCH,
    ErrorCode,
    Request,
    Response,
    encode,
    parse_frame,
)
from tests.fuzz._mutate import EDITS, Edit, apply
from tests.fuzz._profile import fuzz, no_hang
from tests.station.control import test_fuzz as server_fuzz
from tests.station.control.helpers import TOKEN

_KNOWN_CODES = {int(code) for code in ErrorCode}
_VALID = json.dumps(
    [
        {"jsonrpc": "2.0", "id": 1, "method": "station.ping"},
        {"jsonrpc": "2.0", "method": "events.subscribe", "params": {"events": ["*"]}},
        {"jsonrpc": "2.0", "id": "q", "method": "queue.list", "params": [1, 2]},
    ]
).encode()


def _check_frame(data: str | bytes) -> None:
    with no_hang():
        frame = parse_frame(data)
    assert frame.items, "a frame that yields nothing (not even an error)"
    if not frame.batch:
        assert len(frame.items) == 1
    assert len(frame.items) <= MAX_BATCH
    for item in frame.items:
        if isinstance(item, Request):
            assert isinstance(item.method, str)
            assert item.method
            assert item.params is msgspec.UNSET or isinstance(item.params, dict | list)
            assert item.id is msgspec.UNSET or item.id is None or isinstance(item.id, int | str)
            continue
        assert isinstance(item, Response)
        assert item.result is msgspec.UNSET
        assert not isinstance(item.error, msgspec.UnsetType)
        assert item.error.code in _KNOWN_CODES
        assert item.error.message
    replies = [item for item in frame.items if isinstance(item, Response)]
    # What the server sends back is JSON a client reads (the error echoes client text).
    if replies:
        json.loads(encode(replies if frame.batch else replies[0]))


@fuzz(ci_examples=200)
@given(data=server_fuzz.frames)
@example(data="[" * 100_000)
@example(data='{"jsonrpc":"2.0","id":1,"method":"x","params":' + "[" * 5000 + "]" * 5000 + "}")
@example(data=json.dumps([{}] * (MAX_BATCH + 1)))
@example(data="\ud800")
def test_any_frame_parses_to_requests_or_errors(data: str | bytes) -> None:
    _check_frame(data)


@fuzz(ci_examples=200)
@given(edits=EDITS, binary=st.booleans())
def test_a_broken_batch_parses_to_requests_or_errors(edits: list[Edit], binary: bool) -> None:
    broken = apply(_VALID, edits)
    _check_frame(broken if binary else broken.decode("utf-8", "replace"))


def _client() -> Client:
    # The reading side only: no connection is needed to hand it frames.
    client = Client(ws=None)  # type: ignore[arg-type]
    sub = Subscription(client, ["*"], buffer=2)
    client._subscriptions.add(sub)
    return client


_SERVER_MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.just("2.0") | server_fuzz.json_values,
        "id": st.integers(-2, 3) | st.none() | server_fuzz.text,
        "result": server_fuzz.json_values,
        "error": st.fixed_dictionaries(
            {"code": st.integers(-33000, 0), "message": server_fuzz.text}
        )
        | server_fuzz.json_values,
        "method": st.sampled_from(["notify.report_uploaded", "notify.", "x"]) | server_fuzz.text,
        "params": server_fuzz.json_values,
    },
)


@fuzz(ci_examples=200)
@given(
    frames=st.lists(
        server_fuzz.frames
        | _SERVER_MESSAGES.map(json.dumps)
        | st.lists(_SERVER_MESSAGES, max_size=4).map(json.dumps),
        min_size=1,
        max_size=6,
    )
)
@example(frames=['{"jsonrpc":"2.0","method":"notify.x","params":' + "[" * 3000 + "]" * 3000 + "}"])
@example(frames=["[" * 100_000])
def test_the_client_reads_any_server_frame(frames: list[str | bytes]) -> None:
    client = _client()
    with no_hang():
        for frame in frames:
            client._on_frame(frame)


@fuzz(ci_examples=8)
@given(sent=st.lists(server_fuzz.frames, min_size=1, max_size=8))
def test_the_server_survives_any_frames(sent: list[Any]) -> None:
    """The cases of ``tests/station/control/test_fuzz.py`` against the real server code."""
    logger = logging.getLogger("pywats_station.control")
    old_level = logger.level
    logger.setLevel(logging.WARNING)  # the CI test collects DEBUG records; a long run need not
    try:
        with no_hang(60):
            received = trio.run(
                server_fuzz._exercise, sent, clock=trio.testing.MockClock(autojump_threshold=0)
            )
    finally:
        logger.setLevel(old_level)
    for frame in received:
        body = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        assert TOKEN not in body


# --- findings of the fuzz runs, kept as regression tests ------------------------------------


def test_a_server_frame_nested_too_deep_is_ignored(caplog: Any) -> None:
    """msgspec raised RecursionError out of the client's reading loop (ending the client, and
    the TUI with it) for a notification whose params nested a few thousand levels deep."""
    deep = '{"jsonrpc":"2.0","method":"notify.x","params":' + "[" * 3000 + "]" * 3000 + "}"
    client = _client()
    with caplog.at_level(logging.WARNING, logger="pywats_station.control.client"):
        client._on_frame(deep)
        client._on_frame("[" * 100_000)
    assert caplog.text.count("ignored an unreadable frame") == 2
