"""Where ``config.set`` may point the station: roots, user code, TLS, and the API token's server.

A real daemon in this process (``running_station``); every change goes through the control
channel with the admin token, the strongest a client can hold.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pywats_station.control import ControlError, ErrorCode
from pywats_station.runtime import ConnectionState
from pywats_station.token_binding import read_binding

from .daemon_helpers import Station, running_station, wait_until

pytestmark = pytest.mark.trio


async def _refused(station: Station, key: str, value: object) -> ControlError:
    async with station.client(token=station.daemon.admin_token) as client:
        with pytest.raises(ControlError) as caught:
            await client.call("config.set", {"key": key, "value": value})
    return caught.value


async def test_paths_must_stay_inside_the_declared_roots(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "ict").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # A link inside the root to a folder outside it is outside.
    (root / "escape").symlink_to(outside, target_is_directory=True)
    async with running_station(tmp_path, control=f'roots = ["{root}"]') as station:
        before = station.config_text()
        for key, value in (
            ("converters.wsjf.watch", "/etc"),
            ("converters.wsjf.done", "/etc/cron.d"),
            ("converters.wsjf.error", str(root / "escape" / "errors")),
            ("converters.wsjf.watch", str(root / ".." / "elsewhere")),
            ("queue.path", str(outside / "queue")),
            ("converters.new", {"kind": "wsjf", "watch": "/"}),
        ):
            error = await _refused(station, key, value)
            assert error.code == ErrorCode.VALIDATION_FAILED, key
            assert "cannot be set over the control channel" in error.message, key
            assert "not inside [control] roots" in error.message, key
            assert error.data is not None
            assert error.data["problems"][0]["path"].startswith(key.split(".")[0]), key
        assert station.config_text() == before

        async with station.client(token=station.daemon.admin_token) as client:
            result = await client.call(
                "config.set", {"key": "converters.wsjf.done", "value": str(root / "ict" / "Done")}
            )
        assert result["saved"] is True
        assert str(root / "ict" / "Done") in station.config_text()


async def test_without_declared_roots_no_path_can_be_set(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        error = await _refused(station, "converters.wsjf.watch", str(tmp_path / "inbox2"))
        assert "no [control] roots are declared in the configuration file" in error.message
        # Everything else still works: a change that sets no path.
        async with station.client(token=station.daemon.admin_token) as client:
            result = await client.call("config.set", {"key": "sync.interval", "value": 120})
        assert result["saved"] is True


async def test_user_code_only_as_a_py_file_inside_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    outside = tmp_path / "evil.py"
    outside.write_text("raise SystemExit('never imported')\n", encoding="utf-8")
    async with running_station(tmp_path, control=f'roots = ["{root}"]') as station:
        error = await _refused(station, "converters.wsjf.kind", "subprocess:Popen")
        assert "module:Class only in the file" in error.message
        error = await _refused(station, "converters.wsjf.kind", str(outside))
        assert "not inside [control] roots" in error.message
        error = await _refused(station, "converters.wsjf.kind", "../evil.py")
        assert "not inside [control] roots" in error.message


async def test_credentials_and_tls_cannot_be_touched(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        before = station.config_text()
        for key, value in (
            ("server.token", "planted"),
            ("server.token_file", "/tmp/token"),
            ("server.verify_tls", False),
            ("server", {"verify_tls": False}),
            # Whom the token is trusted to and which way it travels: the file's owner's.
            ("server.ca_file", "/tmp/planted-ca.pem"),
            ("server.proxy", "http://proxy.attacker.example:3128"),
            ("server.proxy", "none"),
            ("server", {"proxy": "http://proxy.attacker.example:3128"}),
        ):
            error = await _refused(station, key, value)
            assert error.code == ErrorCode.VALIDATION_FAILED, key
            assert "cannot be set over the control channel" in error.message, key
        assert station.config_text() == before


async def test_a_new_server_gets_no_token_until_login_confirms_it(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        daemon = station.daemon
        await wait_until(lambda: daemon.runtime.connection is ConnectionState.ONLINE, what="online")
        assert read_binding(station.paths).origin == "http://wats.test:80"
        async with station.client(token=daemon.admin_token) as client:
            await client.call(
                "config.set", {"key": "server.url", "value": "https://collector.example"}
            )
        assert daemon.config.server.url == "https://collector.example"
        assert daemon.api_token is None  # the client for the new server has no token
        assert daemon.credential_problem is not None
        assert "https://collector.example:443" in daemon.credential_problem
        assert "pywats-station login" in daemon.credential_problem
        await wait_until(
            lambda: daemon.runtime.connection is ConnectionState.AUTH_FAILED, what="auth_failed"
        )
        assert daemon.runtime.connection_error == daemon.credential_problem
        # Back to the confirmed server: the token goes there again, without a login.
        async with station.client(token=daemon.admin_token) as client:
            await client.call("config.set", {"key": "server.url", "value": "http://wats.test"})
        await wait_until(lambda: daemon.runtime.connection is ConnectionState.ONLINE, what="online")
        assert daemon.api_token is not None


async def test_a_hand_edit_of_the_server_moves_the_binding(tmp_path: Path) -> None:
    """The file's owner changed it: no confirmation needed (only channel changes need one)."""
    async with running_station(tmp_path) as station:
        daemon = station.daemon
        await wait_until(lambda: daemon.runtime.connection is ConnectionState.ONLINE, what="online")
        text = station.config_text().replace("http://wats.test", "http://wats2.test")
        station.paths.config_file.write_text(text, encoding="utf-8")
        await wait_until(lambda: daemon.config.server.url == "http://wats2.test", what="reload")
        # The emulator answers every host: online again, with the token.
        await wait_until(lambda: daemon.runtime.connection is ConnectionState.ONLINE, what="online")
        assert daemon.api_token is not None
        assert read_binding(station.paths).origin == "http://wats2.test:80"
        assert os.stat(station.paths.secrets_dir / "server-binding.json").st_mode & 0o077 == 0
