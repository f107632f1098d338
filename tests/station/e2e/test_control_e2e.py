"""The control channel of the real ``pywats-station run`` process, over TCP, with the Python client.

The daemon runs against the emulator over TCP (``listen = "127.0.0.1:0"``: the harness lets it
pick a port); the test finds the channel through the status file and the token through
``pywats-station control token``, as a script on the station would.
"""

from __future__ import annotations

import json
import signal
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import Client, ControlError, ErrorCode, open_control_client
from pywats_station.control.auth import read_control_token
from pywats_station.paths import instance_paths
from tests.station.e2e.harness import Station, emulator, make_report, server_ids

pytestmark = [pytest.mark.e2e, pytest.mark.trio]


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, server: EmulatorProcess) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    st.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "wsjf"
            kind = "wsjf"
            watch = "{inbox}"
            settle = 0.2
            """
        )
    )
    st.start()
    yield st
    if st.running():
        st.stop(signal.SIGKILL)


def inbox_of(station: Station) -> Path:
    return station.home.parent / "inbox"


async def tree_names(client: Client) -> dict[str, str]:
    """Every actor's state by name (converters included)."""
    tree = await client.call("station.tree")
    nodes = {}
    for child in tree["children"]:
        nodes[child["name"]] = child["state"]
        for grandchild in child["children"]:
            nodes[grandchild["name"]] = grandchild["state"]
    return nodes


async def wait_for_tree(client: Client, condition: Any, what: str) -> dict[str, str]:
    with trio.fail_after(20):
        while True:
            names = await tree_names(client)
            if condition(names):
                return names
            await trio.sleep(0.1)
    raise AssertionError(what)  # pragma: no cover - fail_after raises first


async def test_control_channel_end_to_end(station: Station, server: EmulatorProcess) -> None:
    url = await trio.to_thread.run_sync(station.control_url)
    path = (await trio.to_thread.run_sync(station.cli, "control", "token", "--path")).stdout
    token = (await trio.to_thread.run_sync(station.cli, "control", "token")).stdout.strip()
    token_file = trio.Path(path.strip())
    assert (await token_file.read_text()).strip() == token
    assert (await token_file.stat()).st_mode & 0o777 == 0o600
    with pytest.raises(ControlError) as caught:
        async with open_control_client(url, token="w" * 43):
            pass
    assert caught.value.code == ErrorCode.UNAUTHORIZED

    inbox = inbox_of(station)
    async with open_control_client(url, token=token) as client:
        wanted = ["file_converted", "report_queued", "report_uploaded"]
        async with client.subscribe(wanted) as events:
            reports = [make_report(i) for i in range(5)]
            for n, (_, data) in enumerate(reports):
                await trio.to_thread.run_sync((inbox / f"unit-{n}.json").write_bytes, data)
            seen: list[tuple[str, Any]] = []
            with trio.fail_after(60):
                async for event, payload in events:
                    seen.append((event, payload))
                    if sum(e == "report_uploaded" for e, _ in seen) == len(reports):
                        break
        for n, (report_id, _) in enumerate(reports):
            # Per file, in this order: converted, then queued, then uploaded.
            converted = next(
                i
                for i, (e, p) in enumerate(seen)
                if e == "file_converted" and p["path"].endswith(f"unit-{n}.json")
            )
            assert seen[converted][1]["reports"] == [report_id]
            queued = next(
                i
                for i, (e, p) in enumerate(seen)
                if e == "report_queued" and p["report_id"] == report_id
            )
            uploaded = next(
                i
                for i, (e, p) in enumerate(seen)
                if e == "report_uploaded" and p["report_id"] == report_id
            )
            assert converted < queued < uploaded
        assert set(server_ids(station.server)) >= {rid for rid, _ in reports}

        page = await client.call("queue.list")
        assert page["total"] == 0
        assert page["entries"] == []

        names = await tree_names(client)
        for actor in ("control", "connection", "sync", "uploader", "converters", "status"):
            assert names[actor] == "running"
        assert names["converter:wsjf"] == "running"

        # disable: the actor stops, the file says so; enable: it runs again.
        config_file = station.config_dir / "config.toml"
        disabled = await client.call("converters.disable", {"name": "wsjf"})
        assert disabled["state"] == "disabled"
        await wait_for_tree(client, lambda n: "converter:wsjf" not in n, "the actor gone")
        assert tomllib.loads(config_file.read_text())["converters"][0]["enabled"] is False
        enabled = await client.call("converters.enable", {"name": "wsjf"})
        assert enabled["enabled"] is True
        await wait_for_tree(
            client, lambda n: n.get("converter:wsjf") == "running", "the actor back"
        )
        assert tomllib.loads(config_file.read_text())["converters"][0]["enabled"] is True

        with pytest.raises(ControlError) as forbidden:  # the operator token cannot
            await client.call("config.set", {"key": "connection.check_interval", "value": 2.0})
        assert forbidden.value.code == ErrorCode.FORBIDDEN
        paths = instance_paths(station.instance, env=station.env)
        admin_token = read_control_token(paths.control_admin_token_file)
        async with open_control_client(url, token=admin_token) as admin:
            changed = await admin.call(
                "config.set", {"key": "connection.check_interval", "value": 2.0}
            )
        assert changed["saved"] is True
        assert "connection" in changed["restarted"]
        assert tomllib.loads(config_file.read_text())["connection"]["check_interval"] == 2.0
        got = await client.call("config.get", {"key": "connection.check_interval"})
        assert got["value"] == 2.0

        async with client.subscribe(["report_uploaded"]) as uploads:
            sent = await client.call("reports.send_test")
            with trio.fail_after(30):
                async for _, payload in uploads:
                    if payload["report_id"] == sent["report_id"]:
                        break
        assert sent["report_id"] in server_ids(station.server)

        # `status` asks the channel while the daemon runs.
        done = await trio.to_thread.run_sync(station.cli, "status", "--json")
        status = json.loads(done.stdout)
        assert status["running"] is True
        assert status["source"] == "control"
        assert status["control_connections"] >= 2  # this client and the status command's
        assert status["counters"]["uploaded"] == len(reports) + 1
        assert status["control"]["url"] == url
        [conv] = status["converters"]
        assert (conv["name"], conv["actor_state"], conv["enabled"]) == ("wsjf", "running", True)

    assert await trio.to_thread.run_sync(station.stop) == 0
    assert "Traceback" not in station.log_text()
    assert "config changed: connection" in station.log_text()


async def test_control_token_before_the_first_start(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    fresh = Station(tmp_path / "fresh", server)
    fresh.write_config()
    missing = await trio.to_thread.run_sync(lambda: fresh.cli("control", "token", check=False))
    assert missing.returncode == 3
    assert "start" in missing.stderr
    where = await trio.to_thread.run_sync(fresh.cli, "control", "token", "--path")
    assert where.stdout.strip().endswith("control-token")
    stopped = await trio.to_thread.run_sync(lambda: fresh.cli("control", "url", check=False))
    assert stopped.returncode == 5  # port 0: only known while the daemon runs
