"""A real daemon in this process (tree, queue, converters) against the in-process emulator."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import trio

from pywats.testing import FakeWATS
from pywats_station.actors.control import control_server
from pywats_station.control import Client, ControlServer, open_memory_client
from pywats_station.daemon import Daemon, run_daemon
from pywats_station.paths import InstancePaths, instance_paths

API_TOKEN = "station-api-token-7f3a9c"  # in the config file: config.get must redact it


@dataclass
class Station:
    """A running daemon and what a test needs around it."""

    daemon: Daemon
    fake: FakeWATS
    paths: InstancePaths
    inbox: Path
    server: ControlServer

    @asynccontextmanager
    async def client(self, **options: Any) -> AsyncIterator[Client]:
        """An authenticated client over an in-memory stream (``token=None``: none)."""
        options.setdefault("token", self.daemon.control_token)
        async with open_memory_client(self.server, **options) as client:
            yield client

    def config_text(self) -> str:
        return self.paths.config_file.read_text(encoding="utf-8")


def config(inbox: Path, *, listen: str = "127.0.0.1:0", extra: str = "", control: str = "") -> str:
    """A station configuration with one WSJF converter watching ``inbox``.

    ``control`` goes into the ``[control]`` table, ``extra`` at the end.
    """
    return textwrap.dedent(
        f"""
        [server]
        url = "http://wats.test"
        token = "{API_TOKEN}"
        timeout = 5.0
        [station]
        name = "unit-station"
        location = "Lab"
        [connection]
        check_interval = 1.0
        [control]
        listen = "{listen}"
        {{control}}
        [[converters]]
        name = "wsjf"
        kind = "wsjf"
        watch = "{inbox}"
        settle = 0.05
        """
    ).replace("{control}", control) + textwrap.dedent(extra)


@asynccontextmanager
async def running_station(
    tmp_path: Path,
    *,
    listen: str = "127.0.0.1:0",
    extra: str = "",
    control: str = "",
    fake: FakeWATS | None = None,
    prepare: Callable[[InstancePaths], None] | None = None,
) -> AsyncIterator[Station]:
    """Start the daemon (as ``pywats-station run`` does, with the emulator as transport).

    ``fake`` is the emulator to use (faults set before the daemon starts); ``prepare`` runs
    on the instance's paths, the configuration written, just before the daemon starts.
    """
    env = {"PYWATS_STATION_HOME": str(tmp_path / "home")}
    paths = instance_paths("default", env=env)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(
        config(inbox, listen=listen, extra=extra, control=control), encoding="utf-8"
    )
    paths.config_file.chmod(0o600)
    if prepare is not None:
        prepare(paths)
    fake = fake or FakeWATS(token=API_TOKEN)
    async with trio.open_nursery() as nursery:
        daemon: Daemon = await nursery.start(partial(run_daemon, paths, env=env, transport=fake))
        try:
            yield Station(daemon, fake, paths, inbox, control_server(daemon))
        finally:
            daemon.stop()


async def wait_until(condition: Any, seconds: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition()`` (sync) every 20 ms; fail after ``seconds``.

    Polling on purpose: the conditions are the daemon's state (queue, emulator, runtime),
    which has no event to wait on.
    """
    with trio.move_on_after(seconds):
        while not condition():  # noqa: ASYNC110 - see the docstring
            await trio.sleep(0.02)
        return
    raise AssertionError(f"timed out waiting for {what}")


def no_secret(value: Any) -> bool:
    """Whether a JSON value is free of the API token."""
    return API_TOKEN not in json.dumps(value)
