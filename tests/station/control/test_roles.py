"""Roles on the server side: which token grants what, from where, and what the methods need."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio

from pywats_station.config import config_from_dict
from pywats_station.control import ControlError, ErrorCode, open_memory_client
from pywats_station.control import methods as m
from pywats_station.control.roles import Role

from .daemon_helpers import running_station
from .helpers import ADMIN_TOKEN, TOKEN, make_server, raw_connection, request
from .helpers import error_code as code_of

pytestmark = pytest.mark.trio

REMOTE = ("192.0.2.7", 40000)


async def test_an_operator_is_refused_an_admin_method_with_a_clear_message() -> None:
    server = make_server()
    async with raw_connection(server, token=TOKEN) as raw:
        reply = await raw.rpc(request("test.admin"))
        assert code_of(reply) == ErrorCode.FORBIDDEN
        assert int(ErrorCode.FORBIDDEN) == -32005
        assert reply["error"]["message"] == (
            "forbidden: test.admin needs the admin role; this connection holds operator"
        )
        assert reply["error"]["data"] == {"needs": "admin", "holds": "operator"}
        assert (await raw.rpc(request("test.role")))["result"] == {"role": "operator"}
    async with raw_connection(server, token=ADMIN_TOKEN) as raw:
        assert (await raw.rpc(request("test.admin")))["result"] == {"ok": True}
        assert (await raw.rpc(request("test.role")))["result"] == {"role": "admin"}
        ping = (await raw.rpc(request("station.ping")))["result"]
        assert (ping["authenticated"], ping["role"]) == (True, "admin")


async def test_login_says_the_role_and_a_new_login_changes_it() -> None:
    async with raw_connection(make_server()) as raw:
        ping = (await raw.rpc(request("station.ping")))["result"]
        assert (ping["authenticated"], ping["role"]) == (False, "none")
        assert code_of(await raw.rpc(request("test.admin"))) == ErrorCode.UNAUTHORIZED
        login = await raw.rpc(request("auth.login", {"token": TOKEN}))
        assert login["result"] == {"authenticated": True, "role": "operator", "note": None}
        assert code_of(await raw.rpc(request("test.admin"))) == ErrorCode.FORBIDDEN
        login = await raw.rpc(request("auth.login", [ADMIN_TOKEN]))
        assert login["result"]["role"] == "admin"
        assert (await raw.rpc(request("test.admin")))["result"] == {"ok": True}


async def test_a_connection_from_another_machine_holds_at_most_operator(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "pywats_station.control")
    server = make_server()
    async with raw_connection(server, token=ADMIN_TOKEN, remote=REMOTE) as raw:
        assert (await raw.rpc(request("station.ping")))["result"]["role"] == "operator"
        assert code_of(await raw.rpc(request("test.admin"))) == ErrorCode.FORBIDDEN
    async with raw_connection(server, remote=REMOTE) as raw:
        login = (await raw.rpc(request("auth.login", {"token": ADMIN_TOKEN})))["result"]
        assert login["role"] == "operator"
        assert login["note"] == (
            "the admin token grants operator to a connection from another machine "
            "([control] remote_admin is off)"
        )
        assert code_of(await raw.rpc(request("test.admin"))) == ErrorCode.FORBIDDEN
    capped = [r for r in caplog.records if "remote_admin is off" in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in capped] == ["control client 192.0.2.7"] * 2


async def test_remote_admin_lets_other_machines_hold_admin() -> None:
    server = make_server(remote_admin=True)
    async with raw_connection(server, token=ADMIN_TOKEN, remote=REMOTE) as raw:
        assert (await raw.rpc(request("test.admin")))["result"] == {"ok": True}


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost"]
)
async def test_loopback_clients_get_their_tokens_role(address: str) -> None:
    async with raw_connection(make_server(), token=ADMIN_TOKEN, remote=(address, 1)) as raw:
        assert (await raw.rpc(request("station.ping")))["result"]["role"] == "admin"


async def test_the_client_offers_the_role_it_got() -> None:
    server = make_server()
    async with open_memory_client(server, token=ADMIN_TOKEN) as client:
        assert client.role is None  # not asked yet
        assert (await client.ping()).role == "admin"
        assert client.role is Role.ADMIN
    async with open_memory_client(server) as client:
        assert (await client.ping()).role == "none"
        assert client.role is Role.NONE
        assert (await client.login(TOKEN)).role == "operator"
        assert client.role is Role.OPERATOR
        with pytest.raises(ControlError) as refused:
            await client.call("test.admin")
        assert refused.value.code == ErrorCode.FORBIDDEN


async def test_statistics_show_each_connections_role() -> None:
    server = make_server()
    async with (
        raw_connection(server, token=TOKEN) as operator,
        raw_connection(server, token=ADMIN_TOKEN),
        raw_connection(server),
    ):
        await operator.rpc(request("station.ping"))
        assert sorted(c.role for c in server.hub.connections()) == ["admin", "none", "operator"]


async def test_catalogue_roles_on_the_daemon(tmp_path: Path) -> None:
    """The daemon's own registry: config.set needs admin, the rest of the catalogue operator."""
    async with running_station(tmp_path) as station:
        change = {"key": "connection.check_interval", "value": 3.0, "dry_run": True}
        async with station.client() as operator:
            assert (await operator.ping()).role == "operator"
            with pytest.raises(ControlError) as refused:
                await operator.call("config.set", change)
            assert refused.value.code == ErrorCode.FORBIDDEN
            assert refused.value.message == (
                "forbidden: config.set needs the admin role; this connection holds operator"
            )
            forbidden = []
            for spec in m.catalogue():  # everything else answers an operator (or its params)
                if spec.role is Role.OPERATOR and not spec.name.startswith("events."):
                    with trio.fail_after(30):
                        try:
                            await operator.call(spec.name, {})
                        except ControlError as exc:
                            if exc.code == ErrorCode.FORBIDDEN:
                                forbidden.append(spec.name)
            assert forbidden == []
        async with station.client(token=station.daemon.admin_token) as admin:
            assert (await admin.ping()).role == "admin"
            result = await admin.call("config.set", change)
            assert result["saved"] is False  # a dry run


async def test_remote_admin_needs_tls() -> None:
    base = {"server": {"url": "https://wats.example"}}
    with pytest.raises(Exception, match="remote_admin") as caught:
        config_from_dict({**base, "control": {"remote_admin": True}})
    assert "TLS" in str(caught.value)
    config, _, _ = config_from_dict(
        {**base, "control": {"remote_admin": True, "tls_cert": "c.pem", "tls_key": "k.pem"}}
    )
    assert config.control.remote_admin is True
