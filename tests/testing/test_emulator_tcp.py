"""The emulator as a real process over TCP (``python -m pywats.testing serve``)."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import SupportsIndex

import httpx
import msgspec
import pytest

import pywats
from pywats import RetryPolicy, pyWATS
from pywats.formats import wsjf
from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from tests.fixtures import WSJF_FILES, real_file
from tests.pywats.normalise import normalise
from tests.testing.conftest import START, make_uut

pytestmark = pytest.mark.e2e

FAT = "uut-wsjf-export.json"
FAT_ID = "33a2d408-3fc8-480b-b554-6866c77fd91c"


def fixture_bytes(name: str) -> bytes:
    return real_file("wsjf", name).read_bytes()


def admin_reports(server: EmulatorProcess) -> dict[str, object]:
    with server.admin() as admin:
        answer: dict[str, object] = admin.get("/_emulator/reports").json()
    return answer


def admin_log(server: EmulatorProcess) -> list[dict[str, object]]:
    with server.admin() as admin:
        log: list[dict[str, object]] = admin.get("/_emulator/log").json()
    return log


def add_fault(server: EmulatorProcess, fault: dict[str, object]) -> None:
    with server.admin() as admin:
        admin.post("/_emulator/faults", json=fault).raise_for_status()


class RealSleeps:
    """Records the client's waits and really waits (the server's clock is real here)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, delay: float | SupportsIndex, /) -> None:
        self.calls.append(float(delay))
        time.sleep(float(delay))


def stop(server: EmulatorProcess) -> int:
    """SIGTERM the server, wait for it, and close its stdout pipe.

    ``EmulatorProcess.stop()`` leaves the pipe open (a ResourceWarning, an error under this
    project's ``filterwarnings = error``), hence this wrapper.
    """
    try:
        return server.stop()
    finally:
        if server.process.stdout is not None:
            server.process.stdout.close()


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    """The emulator over TCP with admin routes, stopped (and its pipe closed) after the test."""
    process = start_emulator()
    try:
        yield process
    finally:
        stop(process)


def test_every_real_export_round_trips_over_tcp(server: EmulatorProcess) -> None:
    with pyWATS(server.url, server.token) as api:
        for name in WSJF_FILES:
            data = fixture_bytes(name)
            receipt = api.report.submit_wsjf(data)
            assert receipt.stored_id == uuid.UUID(json.loads(data)["id"])
            back = api.report.get_report(receipt.stored_id)

            assert normalise(json.loads(data)) == normalise(
                msgspec.json.decode(wsjf.dumps(back))
            ), name

    assert admin_reports(server)["count"] == len(WSJF_FILES)


def test_submitting_twice_stores_one_report(server: EmulatorProcess) -> None:
    with pyWATS(server.url, server.token) as api:
        first = api.report.submit_wsjf(fixture_bytes(FAT))
        second = api.report.submit_wsjf(fixture_bytes(FAT))
        [header] = api.report.query_headers()

    assert first.stored_id == second.stored_id == uuid.UUID(FAT_ID)
    assert admin_reports(server) == {"count": 1, "ids": [FAT_ID]}
    assert header.receive_count == 2
    assert header.run == 1


def test_the_server_answers_like_the_api(server: EmulatorProcess) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    with pyWATS(server.url, server.token) as api:
        assert api.app.get_version() == "2026.1.5.324"
    with httpx.Client(base_url=server.url) as anonymous:
        denied = anonymous.get("/api/App/Version")
    assert denied.status_code == 401
    assert denied.json() == {"Message": "Authorization has been denied for this request."}


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    report = make_uut(sn="PERSIST-1")
    first = start_emulator(data_dir=tmp_path)
    try:
        with pyWATS(first.url, first.token) as api:
            api.report.submit_report(report)
            api.report.submit_wsjf(fixture_bytes("uur_example.json"))
    finally:
        started = time.monotonic()
        code = stop(first)
        stopped_in = time.monotonic() - started
    assert code == 0
    assert stopped_in < 5.0
    assert (tmp_path / "wats-emulator.sqlite3").is_file()

    second = start_emulator(data_dir=tmp_path)
    try:
        with pyWATS(second.url, second.token) as api:
            back = api.report.get_report(report.id)
            headers = api.report.query_headers(pywats.odata.F.serial_number == "PERSIST-1")
            newer = make_uut(sn="PERSIST-1", start=START.replace(hour=13))
            api.report.submit_report(newer)
            runs = [
                h.run
                for h in api.report.query_headers(
                    pywats.odata.F.serial_number == "PERSIST-1", orderby="start"
                )
            ]
        assert admin_reports(second)["count"] == 3
    finally:
        assert stop(second) == 0

    assert back.sn == "PERSIST-1"
    assert (
        normalise(msgspec.to_builtins(back))["root"]
        == normalise(msgspec.to_builtins(report))["root"]
    )
    assert [str(h.uuid) for h in headers] == [str(report.id)]
    assert headers[0].receive_count == 1
    assert runs == [1, 2]  # the run counter survived the restart


def test_down_fault_closes_the_listener_and_the_client_retries(server: EmulatorProcess) -> None:
    add_fault(server, {"kind": "down", "seconds": 1.0})

    refused = False
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # the listener closes within the server's 50 ms poll
        try:
            httpx.get(f"{server.url}/api/App/Version", timeout=1.0)
        except httpx.ConnectError:
            refused = True
            break
        except httpx.RemoteProtocolError:
            pass  # until then, requests that get in are dropped (see the report)
        time.sleep(0.02)
    assert refused

    sleeps = RealSleeps()
    policy = RetryPolicy(max_attempts=8, base_delay=0.3, max_delay=1.0)
    with pyWATS(server.url, server.token, retry=policy) as api:
        api.client._sleep = sleeps
        api.client._rng = random.Random(1)  # waits 0.04, 0.51, 0.76, … s: 3.2 s in all
        assert api.app.get_version() == "2026.1.5.324"

    assert len(sleeps.calls) >= 1
    assert server.process.poll() is None  # the same process, on the same port again


def test_drop_fault_over_tcp_fails_a_non_idempotent_call(server: EmulatorProcess) -> None:
    add_fault(server, {"kind": "drop", "count": 1})
    sleeps = RealSleeps()

    with pyWATS(server.url, server.token) as api:
        api.client._sleep = sleeps
        with pytest.raises(pywats.ConnectionError):
            api.system.create_level(["Plant", "Line 1"])
        # The server processed the POST before the connection dropped.
        assert api.system.get_level(["Plant", "Line 1"]) is not None

    assert sleeps.calls == []
    posts = [e for e in admin_log(server) if e["method"] == "POST"]
    assert [(e["path"], e["status"], e["dropped"]) for e in posts] == [
        ("/api/SystemManager/Level", 200, True)
    ]


def test_drop_fault_over_tcp_on_a_submit_is_retried(server: EmulatorProcess) -> None:
    add_fault(server, {"kind": "drop", "count": 1, "match": "/api/Report/WSJF"})
    report = make_uut()

    with pyWATS(server.url, server.token, retry=RetryPolicy(base_delay=0.05)) as api:
        assert api.report.submit_report(report) == report.id
        [header] = api.report.query_headers()

    assert header.receive_count == 2
    assert admin_reports(server) == {"count": 1, "ids": [str(report.id)]}


def test_rate_limit_over_tcp_honours_retry_after(server: EmulatorProcess) -> None:
    add_fault(server, {"kind": "rate_limit", "retry_after": 1, "count": 1})
    sleeps = RealSleeps()
    started = time.monotonic()

    with pyWATS(server.url, server.token) as api:
        api.client._sleep = sleeps
        assert api.app.get_version() == "2026.1.5.324"

    assert sleeps.calls == [1.0]
    assert time.monotonic() - started >= 1.0
    assert [e["status"] for e in admin_log(server)] == [429, 200]


def test_strict_server_rejects_the_fat_export() -> None:
    server = start_emulator(strict=True)
    try:
        with pyWATS(server.url, server.token) as api:
            with pytest.raises(pywats.ValidationError) as info:
                api.report.submit_wsjf(fixture_bytes(FAT))
            api.report.submit_report(make_uut())  # a valid report still goes in
        assert admin_reports(server)["count"] == 1
    finally:
        assert stop(server) == 0

    assert info.value.status == 400
    lines = info.value.message.split("\r\n")
    assert len(lines) == 50
    assert lines[0] == (
        "root -> step Pass/Fail tests -> step SinglePassDone: "
        "Status cannot be different from measurement status."
    )


def test_cli_tokens_and_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "pywats.testing", "serve", "--port", "0"),
            *("--token", "first", "--token", "second", "--lenient"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("serving WATS emulator on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        for token in ("first", "second"):
            with pyWATS(url, token) as api:
                assert api.app.get_version() == "2026.1.5.324"
        with (
            pyWATS(url, "test-token", retry=RetryPolicy.never()) as api,
            pytest.raises(pywats.AuthenticationError),
        ):
            api.app.get_version()
        with httpx.Client(base_url=url, headers={"Authorization": "Basic first"}) as http:
            assert http.get("/_emulator/faults").status_code == 404  # no --admin
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)

    assert process.returncode == 0
    assert "WATS emulator stopped" in err


def test_cli_on_a_port_in_use_exits_non_zero() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pywats.testing", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode != 0
    assert result.stdout == ""
    assert "Address already in use" in result.stderr
