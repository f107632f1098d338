"""Strangers flooding the real daemon's control port while it works (issue 10).

``pywats-station run`` is started with the open-file limit services get by default (soft 1024;
the hard limit is pinned to 1024 too, so the daemon cannot raise its way out and the control
channel's own limits are what is tested). Meanwhile, on loopback (one address for everyone):

* 2,000 TCP connections are opened to the control port and never say a word; whenever the
  daemon closes one, it is opened again 2 s later;
* one client fails ``auth.login`` every 50 ms, reconnecting whenever it is closed;
* a client with the token keeps asking ``station.status``, new clients with the token (header
  or ``auth.login``) keep connecting, and report files keep arriving in the watch folder.

Before the fix, ~1,100 idle connections exhausted the descriptors and the daemon exited, and
the failing client locked every correct client of its address out.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import ControlError, ErrorCode, open_control_client
from pywats_station.control.auth import read_control_token
from pywats_station.paths import instance_paths
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.trio,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

IDLE = 2000
SERVICE_NOFILE = 1024  # what a service gets unless its unit says otherwise
WRONG = "w" * 43


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    """This process holds the 2,000 idle sockets: it needs more than 1024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE + 1024
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"needs {wanted} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def _service_limits() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVICE_NOFILE, SERVICE_NOFILE))


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
            post_action = "delete"
            """
        )
    )
    log = st.home / "daemon-flood.log"
    st.logs.append(log)
    with open(log, "w") as handle:
        st.process = subprocess.Popen(  # as Station.start, with a service's descriptor limit
            [sys.executable, "-m", "pywats_station", "run"],
            env=st.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_service_limits,
        )
    yield st
    if st.running():
        st.stop(signal.SIGKILL)


def _proc(pid: int, field: str) -> int:
    """A ``kB`` or count field of ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _idle(host: str, port: int, tally: Counter[str], stop: trio.Event) -> None:
    """One silent connection, opened again 2 s after the daemon closes it."""
    while not stop.is_set():
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            tally["connect failed"] += 1
            await trio.sleep(0.5)
            continue
        tally["opened"] += 1
        async with stream:
            try:
                with trio.move_on_after(60):
                    await stream.receive_some()  # b"": the daemon closed it
                    tally["closed by the daemon"] += 1
            except trio.BrokenResourceError:
                tally["closed by the daemon"] += 1
        await trio.sleep(2.0)


async def _fail_logins(url: str, tally: Counter[str], stop: trio.Event) -> None:
    """A client failing auth.login every 50 ms, reconnecting whenever it is closed."""
    while not stop.is_set():
        try:
            async with open_control_client(url) as client:
                while True:
                    try:
                        await client.call("auth.login", {"token": WRONG})
                    except ControlError as exc:
                        tally[f"login {exc.code}"] += 1
                        if exc.code == ErrorCode.CONNECTION_CLOSED:
                            break
                    await trio.sleep(0.05)
        except ControlError as exc:  # refused at the handshake, or closed
            tally[f"connect {exc.code}"] += 1
            await trio.sleep(0.05)


async def test_strangers_cannot_stop_the_station(
    many_descriptors: None, station: Station, server: EmulatorProcess
) -> None:
    assert station.process is not None
    pid = station.process.pid
    assert _proc(pid, "Pid") == pid
    url = await trio.to_thread.run_sync(station.control_url)
    parts = urlsplit(url)
    host, port = str(parts.hostname), int(parts.port or 0)
    paths = instance_paths(station.instance, env=station.env)
    token = read_control_token(paths.control_token_file)
    admin_token = read_control_token(paths.control_admin_token_file)
    inbox = station.home.parent / "inbox"

    # Warm up: the first reports through, then the figures to compare with.
    warm = [make_report(n) for n in range(5)]
    for n, (_, data) in enumerate(warm):
        (inbox / f"warm-{n}.json").write_bytes(data)
    await trio.to_thread.run_sync(
        lambda: wait_for(
            lambda: {rid for rid, _ in warm} <= set(server_ids(server)), 60, "the warm-up"
        )
    )
    rss_idle = _proc(pid, "VmRSS")

    idle: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    answered = Counter[str]()
    reports = [make_report(100 + n) for n in range(40)]
    stop = trio.Event()
    peak = {"rss": rss_idle, "fds": 0}
    with trio.fail_after(300):  # a bound, not a measurement
        async with trio.open_nursery() as nursery:
            for _ in range(IDLE):
                nursery.start_soon(_idle, host, port, idle, stop)
            nursery.start_soon(_fail_logins, url, failing, stop)
            # Polled: the counters are the flood tasks' tallies, which have no event.
            while idle["opened"] < IDLE or failing[f"login {int(ErrorCode.RATE_LIMITED)}"] < 5:  # noqa: ASYNC110
                await trio.sleep(0.1)
            async with open_control_client(url, token=token) as steady:
                for n, (_, data) in enumerate(reports):
                    (inbox / f"flood-{n}.json").write_bytes(data)  # arrive during the flood
                    status = await steady.call("station.status")
                    assert status["connection"] == "online"
                    answered["steady status"] += 1
                    if n % 4 == 0:  # new clients with a token keep getting in
                        async with open_control_client(url, token=token) as fresh:
                            await fresh.call("station.status")
                            answered["new with the header"] += 1
                    elif n % 4 == 2:  # ... with auth.login too, while the address is throttled
                        async with open_control_client(url) as fresh:
                            assert (await fresh.login(admin_token)).role == "admin"
                            await fresh.call("station.status")
                            answered["new with auth.login"] += 1
                    peak["rss"] = max(peak["rss"], _proc(pid, "VmRSS"))
                    peak["fds"] = max(peak["fds"], _descriptors(pid))
                    await trio.sleep(0.1)
                uploaded = {rid for rid, _ in reports}
                # Until every report is through and the daemon has closed as many silent
                # sockets as there are (the kernel holds them back while they say nothing,
                # TCP_DEFER_ACCEPT, then they meet the pool of pending handshakes).
                while idle["closed by the daemon"] < IDLE or not uploaded <= set(
                    await trio.to_thread.run_sync(server_ids, server)
                ):
                    assert (await steady.call("station.status"))["connection"] == "online"
                    answered["steady status"] += 1
                    peak["rss"] = max(peak["rss"], _proc(pid, "VmRSS"))
                    peak["fds"] = max(peak["fds"], _descriptors(pid))
                    await trio.sleep(0.2)
            stop.set()
            nursery.cancel_scope.cancel()

    assert station.running(), station.log_text()[-3000:]
    assert answered == {
        "steady status": answered["steady status"],
        "new with the header": 10,
        "new with auth.login": 10,
    }
    assert answered["steady status"] >= len(reports)
    # The strangers were there, and were dealt with: the idle ones closed, the failing client
    # throttled and closed.
    assert idle["closed by the daemon"] >= IDLE
    assert failing[f"login {int(ErrorCode.RATE_LIMITED)}"] >= 5
    assert failing[f"login {int(ErrorCode.CONNECTION_CLOSED)}"] >= 1
    # Bounded: descriptors far below the limit, memory within a few MB of idle.
    assert peak["fds"] < SERVICE_NOFILE // 2, peak
    growth_mib = (peak["rss"] - rss_idle) / 1024
    assert growth_mib < 16, f"RSS grew by {growth_mib:.1f} MiB under the flood"
    print(  # shown with -s: the figures behind the bound
        f"\nflood: {idle['opened']} idle connections opened, {sum(failing.values())} failed "
        f"logins; RSS {rss_idle / 1024:.1f} -> peak {peak['rss'] / 1024:.1f} MiB; "
        f"peak {peak['fds']} descriptors"
    )
    # Still fine afterwards, and says so in few words.
    async with open_control_client(url, token=token) as client:
        assert (await client.call("station.status"))["connection"] == "online"
    assert await trio.to_thread.run_sync(station.stop) == 0
    log = station.log_text()
    assert "Traceback" not in log
    assert "EMFILE" not in log
    flood_lines = [line for line in log.splitlines() if "control" in line]
    assert len(flood_lines) < 60, "\n".join(flood_lines[-20:])
