from __future__ import annotations

import enum
from collections.abc import Callable

import httpx
import pytest

import pywats
from pywats._errors import server_message
from pywats.odata import F
from tests.pywats.client_scenarios import BASE, FAST_RETRY, TOKEN, Server, ok


def _api(server: Server) -> pywats.pyWATS:
    api = pywats.pyWATS(BASE, TOKEN, transport=server.transport(), retry=FAST_RETRY)
    api.client._sleep = lambda s: None
    return api


@pytest.mark.parametrize("exc", [httpx.ConnectTimeout, httpx.PoolTimeout])
def test_post_is_retried_after_a_connect_timeout(exc: type[httpx.TransportError]) -> None:
    # Nothing reached the server, exactly as after httpx.ConnectError.
    server = Server(exc, ok(5))
    with _api(server) as api:
        assert api.system.create_level(["Site"]) == 5
    assert len(server.requests) == 2


def test_odata_literal_of_an_int_enum() -> None:
    class Kind(enum.IntEnum):
        CLIENT = 5

    assert str(F.type == Kind.CLIENT) == "type eq 5"


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (
            lambda api: api.auth.get_token("a/../../App/Version"),
            "/api/Auth/GetToken/a%2F..%2F..%2FApp%2FVersion",
        ),
        (lambda api: api.auth.get_token("who?reset=true"), "/api/Auth/GetToken/who%3Freset%3Dtrue"),
    ],
)
def test_path_parameters_are_escaped(call: Callable[[pywats.pyWATS], object], path: str) -> None:
    server = Server(ok("x"))
    with _api(server) as api:
        call(api)
    assert server.requests[0].url.raw_path.decode().split("?")[0] == path


def test_empty_json_string_error_body_names_the_status() -> None:
    assert server_message(500, b'""') == "HTTP 500"


def test_query_all_headers_respects_limit_when_server_ignores_top() -> None:
    page = ok([{"uuid": f"00000000-0000-0000-0000-00000000000{i}"} for i in range(1, 6)])
    with _api(Server(page)) as api:
        assert len(api.report.query_all_headers(page_size=2, limit=2)) == 2


def test_odata_float_specials() -> None:
    assert str(F.value == float("inf")) == "value eq INF"
