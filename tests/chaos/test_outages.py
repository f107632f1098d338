"""Server outages of every kind while reports keep coming: all arrive once, backoff stays capped.

One daemon runs through six fault rounds in a row against the emulator over TCP, ten source
files dropped in its watch folder per round:

1. the emulator process stopped (its port closed), then started again on the same port with
   the same data folder;
2. a 429 storm with ``Retry-After`` on most report submits;
3. a burst of 503 answers to most submits;
4. connections dropped mid-answer (the report was stored: a re-send must not duplicate it);
5. answers slower than the client's timeout (stored too, after the client gave up);
6. a ``down`` fault (the listener closed for a few seconds, as the admin route does it).

After each round the faults are cleared and the round's reports must all arrive. Meanwhile the
status file is sampled: it must say ``offline`` while the server is gone and show the retries
(failed entries waiting, or the server's ``Retry-After``) while it misbehaves. At the end the
delivery invariants (:class:`tests.chaos._scenario.Scenario`) hold, and every wait the uploader
logged (``next in W s``) is the queue's capped backoff: never above the cap of the policy the
daemon's queue uses (:class:`pywats_station.queue.Backoff`, read from ``ReportQueue.open``), never
above the exponential step for its attempt, and exactly the ``Retry-After`` the server sent.
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.queue import Backoff, ReportQueue
from tests.chaos._scenario import Scenario
from tests.station.e2e.harness import (
    TOKEN,
    Station,
    add_fault,
    make_report,
    server_ids,
    server_log,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

FILES_PER_ROUND = 10
CLIENT_TIMEOUT = 1.0  # server.timeout: the slow round's answers take longer
RETRY_AFTER = 1.0
SUBMIT = "/api/report/ws"  # the report submit routes (WSJF, WSXF)
WAIT_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*?"
    r"report (?P<id>\S+) not uploaded \(attempt (?P<attempt>\d+), next in (?P<wait>[\d.]+) s\): "
    r"(?P<error>.*)$",
    re.MULTILINE,
)
LATE = 5.0  # seconds an attempt may come after its wait ends (a loaded CI machine)


def retries(station: Station, error: str) -> int:
    """Waits the uploader has logged so far for failures starting with ``error``."""
    return sum(1 for m in WAIT_LINE.finditer(station.log_text()) if m["error"].startswith(error))


def queue_backoff() -> Backoff:
    """The backoff policy the daemon's queue gets (it opens the queue with the default)."""
    default = inspect.signature(ReportQueue.open).parameters["backoff"].default
    assert isinstance(default, Backoff)
    return default


@dataclass
class Seen:
    """What the status file said while a round's faults were in force."""

    connection: set[str] = field(default_factory=set)
    failed: int = 0  # most entries waiting for a retry at once
    retry_after: int = 0  # samples showing the server's Retry-After wait
    samples: int = 0


def stored(server: EmulatorProcess) -> set[str]:
    """The ids the server holds; none while it refuses connections (admin routes too)."""
    try:
        return set(server_ids(server))
    except httpx.HTTPError:
        return set()


def _status_file(station: Station) -> Path:
    found = sorted(station.home.rglob("status.json"))
    assert found, "the daemon wrote no status file"
    return found[0]


@contextmanager
def sampling(station: Station) -> Iterator[Seen]:
    """Read the daemon's status file every 0.1 s while the body runs (what ``status`` reads)."""
    seen, stop = Seen(), threading.Event()
    path = _status_file(station)

    def sample() -> None:
        while not stop.wait(0.1):
            try:
                status: dict[str, Any] = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue  # being replaced
            seen.samples += 1
            seen.connection.add(status["connection"])
            seen.failed = max(seen.failed, status["queue"]["failed"])
            wait = status.get("upload_wait") or {}
            seen.retry_after += wait.get("reason") == "retry_after"

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(5)


def _config(station: Station, watch: Path) -> None:
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "wsjf"
            kind = "wsjf"
            watch = "{watch}"
            settle = 0.2
            """
        )
    )
    config = station.config_dir / "config.toml"
    text = config.read_text()
    assert "timeout = 5.0" in text
    config.write_text(text.replace("timeout = 5.0", f"timeout = {CLIENT_TIMEOUT}", 1))


def test_outages_storms_and_slow_answers_deliver_everything_once(tmp_path: Path) -> None:
    data = tmp_path / "emulator-data"
    server: EmulatorProcess = start_emulator(token=TOKEN, data_dir=data)
    port = urlsplit(server.url).port
    assert port is not None
    inbox = tmp_path / "inbox"
    station = Station(tmp_path / "home", server, workers=4)
    _config(station, inbox)
    n = 0
    seen: dict[str, Seen] = {}
    try:
        with Scenario("outages", tmp_path, server, station) as sc:
            sc.watch(inbox)
            station.start()
            wait_for(
                lambda: station.status().get("connection") == "online", 30, "the daemon online"
            )

            def feed(label: str) -> set[str]:
                nonlocal n
                ids = set()
                for i in range(FILES_PER_ROUND):
                    rid, body = make_report(n)
                    n += 1
                    sc.drop(inbox, f"{label}-{i}.json", body, rid)
                    ids.add(rid)
                return ids

            def arrived(ids: set[str], timeout: float = 60.0) -> Callable[[], None]:
                def wait() -> None:
                    wait_for(
                        lambda: ids.issubset(stored(sc.server)), timeout, f"{len(ids)} reports"
                    )

                return wait

            # 1. The emulator process stopped: its port closed, nothing answers.
            with sampling(station) as seen["stopped"]:
                sc.server.stop()
                ids = feed("stopped")
                wait_for(
                    lambda: "offline" in seen["stopped"].connection, 30, "status saying offline"
                )
                time.sleep(2.0)  # the station keeps converting and queueing meanwhile
                server = start_emulator(token=TOKEN, data_dir=data, port=port)
                sc.server = station.server = server
                arrived(ids)()
            sc.counts.rounds += 1

            # 2-5. Faults on most report submits, until the queue's own backoff has been
            # reached (the client's two attempts both failed for some report); then cleared.
            faults: list[tuple[str, str, dict[str, Any]]] = [
                ("429", "429", {"kind": "rate_limit", "retry_after": RETRY_AFTER, "fraction": 0.7}),
                ("503", "503", {"kind": "error", "status": 503, "fraction": 0.8}),
                ("dropped", "", {"kind": "drop", "fraction": 0.95}),
                ("slow", "", {"kind": "latency", "seconds": CLIENT_TIMEOUT * 2, "fraction": 0.8}),
            ]
            for label, error, fault in faults:
                with sampling(station) as seen[label]:
                    before = retries(station, error)
                    add_fault(server, match=SUBMIT, **fault)
                    ids = feed(label)
                    wait_for(
                        lambda e=error, b=before: retries(station, e) > b,  # type: ignore[misc]
                        60,
                        f"the queue's backoff during {label}",
                    )
                    wait_for(
                        lambda s=seen[label]: s.failed > 0 or s.retry_after > 0,  # type: ignore[misc]
                        15,
                        f"status showing retries during {label}",
                    )
                    with server.admin() as admin:
                        admin.delete("/_emulator/faults").raise_for_status()
                    arrived(ids)()
                sc.counts.rounds += 1

            # 6. The listener closed by the emulator itself for a few seconds.
            with sampling(station) as seen["down"]:
                add_fault(server, kind="down", seconds=4.0)
                ids = feed("down")
                wait_for(lambda: "offline" in seen["down"].connection, 30, "status saying offline")
                arrived(ids)()
            sc.counts.rounds += 1

            sc.drain(timeout=120)
            waits = [m.groupdict() for m in WAIT_LINE.finditer(station.log_text())]
            extra = sc.counts.extra
            extra["faults"] = len(faults) + 2
            extra["retries_logged"] = len(waits)
            extra["longest_wait"] = max((float(w["wait"]) for w in waits), default=0.0)
            extra["status"] = {
                k: [*sorted(v.connection), f"failed<={v.failed}", f"retry_after={v.retry_after}"]
                for k, v in seen.items()
            }
            extra["longest_actual_wait"] = check_actual_waits(waits, server_log(server))
            check_waits(waits)
            sc.check()
    finally:
        server.stop()


def check_waits(waits: list[dict[str, str]]) -> None:
    """Each logged wait is the capped backoff of its attempt, or the server's Retry-After."""
    policy = queue_backoff()
    assert waits, "no retry logged: the faults did not reach the uploader"
    retry_after = [w for w in waits if w["error"].startswith("429")]
    assert retry_after, "no 429 reached the queue's backoff"
    for w in waits:
        wait, attempt = float(w["wait"]), int(w["attempt"])
        assert wait <= policy.max, f"waited {wait} s, above the cap of {policy.max} s: {w}"
        if w in retry_after:
            # Logged with one decimal; the server's value wins over the backoff.
            assert abs(wait - RETRY_AFTER) <= 0.1, f"Retry-After {RETRY_AFTER} s not honoured: {w}"
        else:
            step = policy.base_delay(attempt) * (1 + policy.jitter)
            assert wait <= step + 0.05, f"attempt {attempt} waited {wait} s, more than {step}: {w}"


def check_actual_waits(waits: list[dict[str, str]], requests: list[dict[str, Any]]) -> float:
    """After an HTTP error answer (429, 5xx: the server was up), the next attempt at that report
    reached the server when its wait ended: not before, and not much later (the uploader once
    slept to its one-minute idle poll instead). Returns the longest actual wait."""
    posts: dict[str, list[float]] = {}
    for request in requests:
        if request.get("method") == "POST" and request.get("report_id"):
            posts.setdefault(request["report_id"].lower(), []).append(request["time"])
    longest = 0.0
    checked = 0
    for w in waits:
        if not w["error"][:3].isdigit():
            continue  # no answer: the uploader waits for the connection, not for the backoff
        logged = datetime.strptime(w["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        later = [t for t in posts.get(w["id"].lower(), []) if t > logged]
        if not later:
            continue  # before the emulator's restart: its request log went with it
        actual, wait = min(later) - logged, float(w["wait"])
        assert actual >= wait - 0.2, f"sent again after {actual:.1f} s, before its wait: {w}"
        assert actual <= wait + LATE, f"sent again only after {actual:.1f} s: {w}"
        longest, checked = max(longest, actual), checked + 1
    assert checked, "no retry after an HTTP error could be timed"
    return round(longest, 1)


def test_the_wait_check_catches_a_wait_above_the_cap() -> None:
    """``check_waits`` fails on an uncapped wait and a Retry-After not honoured."""
    cap = queue_backoff().max
    ok = {"id": "a", "attempt": "1", "wait": "1.9", "error": "503: down"}
    late = {"id": "b", "attempt": "1", "wait": "2.9", "error": "503: down"}
    uncapped = {"id": "c", "attempt": "40", "wait": f"{cap + 1}", "error": "ConnectError"}
    ignored = {"id": "d", "attempt": "1", "wait": "2.0", "error": "429: Too many requests."}
    honoured = {"id": "e", "attempt": "1", "wait": "1.0", "error": "429: Too many requests."}
    check_waits([ok, honoured])
    for bad in (late, uncapped, ignored):
        with pytest.raises(AssertionError):
            check_waits([ok, honoured, bad])


def test_the_actual_wait_check_catches_a_late_and_an_early_retry() -> None:
    """``check_actual_waits`` fails on a retry a minute late or before its wait ended."""
    at = "2026-12-06 10:00:00,000"
    start = datetime.strptime(at, "%Y-%m-%d %H:%M:%S,%f").timestamp()
    waits = [{"at": at, "id": "A", "attempt": "1", "wait": "2.0", "error": "503: down"}]

    def sent_after(seconds: float) -> list[dict[str, Any]]:
        return [{"method": "POST", "report_id": "a", "time": start + seconds}]

    assert check_actual_waits(waits, sent_after(2.5)) == 2.5
    for bad in (60.0, 0.5):
        with pytest.raises(AssertionError):
            check_actual_waits(waits, sent_after(bad))
