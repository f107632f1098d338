"""What the control channel logs per connection: routine at DEBUG.

Every ``pywats-station status`` is one connection: the daemon's log (INFO by default) must not
grow by two lines per call. Refusals and throttling stay at INFO and WARNING
(``test_login_throttle.py``).
"""

from __future__ import annotations

import logging

import pytest

from .helpers import TOKEN, make_server, raw_connection, request

pytestmark = pytest.mark.trio

LOGGER = "pywats_station.control"


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(LOGGER) and record.levelno == level
    ]


async def test_a_client_with_the_token_in_its_handshake_logs_nothing_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    server = make_server()
    async with raw_connection(server, token=TOKEN) as raw:
        assert "result" in await raw.rpc(request("station.ping"))
    assert _lines(caplog, logging.INFO) == []
    debug = _lines(caplog, logging.DEBUG)
    assert any("connected (#" in line for line in debug), debug
    assert any("disconnected (" in line for line in debug), debug


async def test_a_client_that_logs_in_by_message_logs_nothing_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    server = make_server()
    async with raw_connection(server) as raw:
        assert "result" in await raw.rpc(request("auth.login", {"token": TOKEN}))
    assert _lines(caplog, logging.INFO) == []
    assert any("logged in (operator)" in line for line in _lines(caplog, logging.DEBUG))
