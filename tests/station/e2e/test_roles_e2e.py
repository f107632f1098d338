"""Roles against the real daemon: what an operator token cannot do, and where the API token goes.

Two emulators over TCP: the station's server, and a "collector" on another port standing for a
host an attacker controls. Both accept the same API token, so a request the collector answers
with 200 is one that carried the token.
"""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import ControlError, ErrorCode, open_control_client
from pywats_station.paths import instance_paths
from tests.station.e2e.harness import Station, emulator, server_log, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.trio]

USER_CONVERTER = """
from pywats_station.converters import FileConverter, Failed

class Probe(FileConverter):
    patterns = ("*.probe",)

    def convert(self, path, ctx):
        return Failed("never meant to convert")
"""


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def collector() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, server: EmulatorProcess) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    (data / "probe.py").write_text(USER_CONVERTER, encoding="utf-8")
    st.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "wsjf"
            kind = "wsjf"
            watch = "{data / "inbox"}"
            [[converters]]
            name = "probe"
            kind = "{data / "probe.py"}"
            watch = "{data / "probes"}"
            """
        ),
        control=f'roots = ["{data}"]',
    )
    st.start()
    yield st
    if st.running():
        st.stop(signal.SIGKILL)


def tokens(station: Station) -> tuple[str, str]:
    """The operator and admin tokens, as the station's owner gets them (``control token``)."""
    paths = instance_paths(station.instance, env=station.env)
    wait_for(paths.control_admin_token_file.exists, what="the admin token")
    operator = station.cli("control", "token").stdout.strip()
    admin = station.cli("control", "token", "--admin").stdout.strip()
    assert station.cli("control", "token", "--admin", "--path").stdout.strip() == str(
        paths.control_admin_token_file
    )
    assert operator != admin
    return operator, admin


async def test_an_operator_token_operates_but_cannot_reconfigure(
    station: Station, tmp_path: Path
) -> None:
    url = await trio.to_thread.run_sync(station.control_url)
    operator, _ = await trio.to_thread.run_sync(tokens, station)
    probe = tmp_path / "data" / "probes" / "x.probe"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text("1\n", encoding="utf-8")
    async with open_control_client(url, token=operator) as client:
        assert (await client.call("station.ping"))["role"] == "operator"
        await client.call("station.status")
        await client.call("queue.list")
        with pytest.raises(ControlError) as refused:
            await client.call("config.set", {"key": "sync.interval", "value": 60})
        assert refused.value.code == ErrorCode.FORBIDDEN
        assert "admin" in refused.value.message
        # A dry run of user code is running code: admin only.
        with pytest.raises(ControlError) as refused:
            await client.call("converters.convert_file", {"path": str(probe), "converter": "probe"})
        assert refused.value.code == ErrorCode.FORBIDDEN
        assert "user code" in refused.value.message
        # And a dry run is no way to read files the station does not read.
        with pytest.raises(ControlError) as refused:
            await client.call("converters.convert_file", {"path": "/etc/passwd", "kind": "csv"})
        assert refused.value.code == ErrorCode.FORBIDDEN
        # Nor may anyone name user code by path.
        with pytest.raises(ControlError) as refused:
            await client.call(
                "converters.convert_file", {"path": str(probe), "kind": str(probe.parent)}
            )
        assert refused.value.code == ErrorCode.INVALID_PARAMS


async def test_a_server_set_over_the_channel_never_receives_the_token(
    station: Station, collector: EmulatorProcess
) -> None:
    url = await trio.to_thread.run_sync(station.control_url)
    _, admin = await trio.to_thread.run_sync(tokens, station)
    async with open_control_client(url, token=admin) as client:
        assert (await client.call("station.ping"))["role"] == "admin"
        await client.call("config.set", {"key": "server.url", "value": collector.url})
        with trio.fail_after(20):
            while True:
                status = await client.call("station.status")
                if status["connection"] == "auth_failed":
                    break
                await trio.sleep(0.1)
        assert "pywats-station login" in status["connection_error"]
    await trio.sleep(3)  # a few health-check periods
    answered = [e for e in server_log(collector) if e["status"] == 200]
    assert answered == [], answered  # nothing authenticated reached the collector

    # Someone on the station confirms it: from now on the token goes there.
    done = await trio.to_thread.run_sync(
        lambda: station.cli("login", "--token-stdin", check=False, input_text=station.server.token)
    )
    assert done.returncode == 0, done.stderr
    assert "confirmed" in done.stdout
    await trio.to_thread.run_sync(
        lambda: wait_for(
            lambda: any(e["status"] == 200 for e in server_log(collector)),
            what="the confirmed server to get authenticated requests",
        )
    )
