"""The real ``pywats-station run`` process against the emulator over TCP."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.queue import EntryState, ReportQueue
from tests.station.e2e.harness import (
    Station,
    add_fault,
    count_reports,
    emulator,
    make_report,
    server_ids,
    server_log,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, server: EmulatorProcess) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    st.write_config()
    yield st
    if st.running():
        st.stop(signal.SIGKILL)


def test_queued_reports_upload_and_status_reports_it(
    station: Station, server: EmulatorProcess
) -> None:
    reports = [make_report(i) for i in range(40)]
    station.enqueue(reports)
    offline = station.status()
    assert offline["running"] is False
    assert offline["queue"]["depth"] == 40

    station.start()
    wait_for(lambda: len(server_ids(server)) == 40, what="40 reports on the server")
    wait_for(lambda: station.status().get("counters", {}).get("uploaded") == 40, what="status")
    status = station.status()
    assert status["running"] is True
    assert status["connection"] == "online"
    assert status["queue"]["depth"] == 0
    assert status["processes_cached"] >= 1
    assert sorted(server_ids(server)) == sorted(rid for rid, _ in reports)
    assert station.stop() == 0
    assert "Traceback" not in station.log_text()


def test_outage_then_everything_arrives(station: Station, server: EmulatorProcess) -> None:
    reports = [make_report(i) for i in range(25)]
    station.enqueue(reports)
    add_fault(server, kind="down", seconds=5.0)
    station.start()
    wait_for(lambda: ": offline (" in station.log_text(), what="the daemon to notice the outage")
    assert station.status()["queue"]["depth"] == 25  # nothing lost, nothing sent
    wait_for(lambda: count_reports(server) == 25, timeout=40, what="reports after the outage")
    wait_for(lambda: station.status()["queue"]["depth"] == 0, what="an empty queue")
    assert station.status()["connection"] == "online"
    assert station.stop() == 0


def test_rate_limit_with_retry_after_is_honoured(station: Station, server: EmulatorProcess) -> None:
    reports = [make_report(i) for i in range(5)]
    station.enqueue(reports)
    add_fault(server, kind="rate_limit", retry_after=2, count=3, match="/api/Report/WSJF")
    station.start()
    wait_for(lambda: len(server_ids(server)) == 5, timeout=40, what="all reports")
    submits = [e for e in server_log(server) if e["method"] == "POST" and "WSJF" in e["path"]]
    limited = [e for e in submits if e["status"] == 429]
    assert len(limited) == 3
    # Each refused report came back no sooner than the server asked.
    for entry in limited:
        later = [
            e for e in submits if e["report_id"] == entry["report_id"] and e["time"] > entry["time"]
        ]
        assert later, f"report {entry['report_id']} was never sent again"
        assert later[0]["time"] - entry["time"] >= 1.9
    assert station.stop() == 0


def test_a_rejected_report_goes_to_the_dead_letter_and_the_rest_flow(
    station: Station, server: EmulatorProcess
) -> None:
    good = [make_report(i) for i in range(10)]
    bad_id, bad = make_report(99, process_code=12345)  # unknown process: the server says 400
    station.enqueue([*good[:5], (bad_id, bad), *good[5:]])
    station.start()
    wait_for(lambda: len(server_ids(server)) == 10, what="the good reports")
    wait_for(lambda: station.status()["queue"]["dead"] == 1, what="one dead letter")
    assert bad_id not in server_ids(server)
    assert station.stop() == 0

    listed = station.cli("queue", "list", "--state", "dead", "--json")
    [dead] = json.loads(listed.stdout)
    assert dead["report_id"] == bad_id
    assert dead["state"] == "dead"
    assert "12345 is not a known process" in dead["dead_reason"]
    # A human fixes the cause and retries: here the server learns the process.
    assert station.cli("queue", "retry", "dead").stdout == "1 entry queued again\n"


def test_second_daemon_of_an_instance_is_refused(station: Station) -> None:
    station.start()
    wait_for(lambda: station.status().get("running") is True, what="the first daemon")
    second = station.cli("run", check=False)
    assert second.returncode == 4
    assert "already running" in second.stderr
    assert station.stop() == 0


def test_a_command_reading_the_queue_as_the_daemon_starts_does_not_stop_it(
    station: Station,
) -> None:
    """`status` and the queue commands hold the queue's lock for a moment; a daemon that starts
    in that moment waits for it instead of exiting as if another daemon ran."""
    station.write_config()
    station.enqueue([make_report(0)])
    with ReportQueue.open(station.queue_dir, fsync=False):
        station.start()
        time.sleep(1.0)  # the daemon finds the queue locked, as it would under `status`
        assert station.running()
    wait_for(lambda: station.status().get("connection") == "online", what="online")
    wait_for(lambda: count_reports(station.server) == 1, what="the queued report")
    assert station.stop() == 0
    assert "is locked by pid" in station.log_text()


def test_two_instances_keep_to_their_own_files(tmp_path: Path, server: EmulatorProcess) -> None:
    home = tmp_path / "home"
    a, b = Station(home, server, instance="line-a"), Station(home, server, instance="line-b")
    for st, first in ((a, 0), (b, 100)):
        st.write_config()
        st.enqueue([make_report(first + i) for i in range(8)])
    a.start()
    b.start()
    try:
        wait_for(lambda: len(server_ids(server)) == 16, what="both instances' reports")
        assert a.status()["instance"] == "line-a"
        assert b.status()["instance"] == "line-b"
        assert a.queue_dir != b.queue_dir
    finally:
        assert a.stop() == 0
        assert b.stop() == 0


def test_sigterm_exits_promptly_and_cleanly(station: Station) -> None:
    station.start()
    wait_for(lambda: station.status().get("connection") == "online", what="online")
    assert station.stop(timeout=10) == 0  # the target (5 s) is measured in bench/station.py
    assert "SIGTERM: stopping" in station.log_text()
    assert station.status()["running"] is False


def test_systemd_notify_ready_status_watchdog_stopping(station: Station, tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(20)
        station.start({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        seen: list[str] = []
        while not any("WATCHDOG=1" in m for m in seen):
            seen.append(sock.recv(4096).decode())
        assert any(m.startswith("READY=1") for m in seen)
        assert any("STATUS=" in m for m in seen)
        station.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        while "STOPPING=1" not in seen:
            seen.append(sock.recv(4096).decode())
        assert station.stop() == 0
    ready = next(m for m in seen if m.startswith("READY=1"))
    assert "queue" in ready


def test_status_and_queue_commands_without_a_daemon(station: Station) -> None:
    station.enqueue([make_report(i) for i in range(3)])
    status = station.status()
    assert status == {
        "running": False,
        "instance": "default",
        "queue": status["queue"],
        "config_problem": None,
        "healthy": False,
        "reasons": ["the daemon is not running"],
    }
    assert status["queue"]["queued"] == 3
    listed = json.loads(station.cli("queue", "list", "--json").stdout)
    assert [e["state"] for e in listed] == ["queued"] * 3
    shown = station.cli("queue", "show", str(listed[0]["seq"])).stdout
    assert listed[0]["report_id"] in shown
    verify = json.loads(station.cli("queue", "verify", "--json").stdout)
    assert verify["ok"] == 3
    missing = station.cli("queue", "show", "no-such-entry", check=False)
    assert missing.returncode == 8
    with ReportQueue.open(station.queue_dir) as queue:
        assert queue.stats().queued == 3
        assert all(e.state is EntryState.QUEUED for e in queue.list())


def test_queue_commands_go_through_the_daemon_while_it_runs(
    station: Station, server: EmulatorProcess
) -> None:
    good = [make_report(i) for i in range(3)]
    bad_id, bad = make_report(77, process_code=12345)  # the server refuses it: a dead letter
    station.enqueue([*good, (bad_id, bad)])
    station.start()
    wait_for(lambda: station.status()["queue"].get("dead") == 1, what="one dead letter")
    wait_for(lambda: len(server_ids(server)) == 3, what="the good reports")

    # The daemon holds the queue's lock: every command is answered over its control channel.
    [dead] = json.loads(station.cli("queue", "list", "--state", "dead", "--json").stdout)
    assert (dead["report_id"], dead["state"], dead["attempts"]) == (bad_id, "dead", 1)
    assert "12345 is not a known process" in dead["dead_reason"]
    text = station.cli("queue", "list").stdout
    assert f"{bad_id} dead" in text

    shown = json.loads(station.cli("queue", "show", bad_id, "--json").stdout)
    assert shown["entry"]["seq"] == dead["seq"]
    assert shown["report"]["process_code"] == 12345  # read from the queued report itself
    text = station.cli("queue", "show", str(dead["seq"])).stdout
    assert "report.serial_number: E2E-000077\n" in text
    assert "next_attempt_at: -\n" in text
    assert "created_at: 20" in text  # a date, not seconds since 1970

    assert json.loads(station.cli("queue", "verify", "--json").stdout) == {
        "ok": 1,
        "corrupt": 0,
        "orphans": 0,
    }
    missing = station.cli("queue", "show", "no-such-entry", check=False)
    assert (missing.returncode, "no queue entry" in missing.stderr) == (8, True)

    # Retried while running: the uploader sends it again at once; still refused, dead again.
    assert station.cli("queue", "retry", "dead").stdout == "1 entry queued again\n"
    wait_for(
        lambda: (
            json.loads(station.cli("queue", "show", bad_id, "--json").stdout)["entry"]["attempts"]
            == 2
        ),
        what="a second attempt",
    )
    assert station.cli("queue", "purge", bad_id, "--yes").stdout == "1 entry deleted\n"
    wait_for(lambda: station.status()["queue"]["dead"] == 0, what="the purge")
    assert station.cli("queue", "list").stdout.strip() == "no entries"
    assert station.stop() == 0
    with ReportQueue.open(station.queue_dir) as queue:
        assert queue.stats().depth == 0
        assert queue.stats().dead == 0
