"""One scripted station that answers every call the screens make, for the snapshot tests.

It is :class:`~tests.tui.fake.FakeLink` with a handler for each method a screen calls, built
from the helpers of the screens' own test modules (so it answers as those tests have checked
the daemon answers), and with data that fills every panel: a queue with dead letters, a log
with every level, a configuration file handled by the daemon's own code. Every result is
checked against the control API's types, and every event against its payload type.

All its times are fixed offsets from :data:`tests.tui.fake.NOW`: with the clock frozen there,
what the screens show is the same on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

import pywats_station
from pywats_station.control import models as m
from pywats_station.control.events import decode_event
from tests.tui.fake import NOW, FakeLink, unit
from tests.tui.test_config_screen import serve_config
from tests.tui.test_connection_screen import REPORT_ID, answer
from tests.tui.test_converters_screen import info, real_conversion
from tests.tui.test_log_screen import record, serve_tail
from tests.tui.test_queue_screen import ScriptedQueue, entry

__all__ = [
    "CONFIG_PATH",
    "TRY_FILE",
    "TRY_KIND",
    "activity",
    "counters_event",
    "log_records",
    "queue_entries",
    "scripted_station",
]

CONFIG_PATH = "/etc/pywats-station/config.toml"
"""Where ``config.get`` says the configuration file is: the real file is in the test's
temporary folder, whose name changes with every run and would change the picture."""

TRY_FILE = Path(pywats_station.__file__).parent / "demo_samples" / "43420_BIO2.LOG"
"""The real file ``converters.convert_file`` converts (three reports, a failed one among them):
the copy the package ships for its demo (tests/fixtures' real file, byte for byte), so the
snapshots never depend on fixtures a machine may not have (a skipped snapshot test leaves its
snapshot unused, which fails the run)."""
TRY_KIND = "teradyne_gr228x"

SECRET = "eyJhbGciOiJIUzI1NiJ9.c3RhdGlvbg.c2lnbmF0dXJl"
"""A token in a log line, which the log screen must show masked."""


def queue_entries() -> list[dict[str, Any]]:
    """Two dead letters (each with the server's reason), a failed upload, one uploading,
    two queued."""
    return [
        entry(3, "dead"),
        entry(
            7,
            "dead",
            unit=unit("SN-0007", "Failed"),
            dead_reason="400 Bad Request: serial number SN-0007 is already registered as "
            "scrapped on this server",
        ),
        entry(9, "failed"),
        entry(10, "uploading", attempts=1),
        entry(11),
        entry(12, unit=unit("SN-0012", "Failed")),
    ]


def log_records() -> list[dict[str, Any]]:
    """The last hour of a daemon's log: start-up, a conversion failure, an upload failure, a
    rejection, a debug line (hidden at the info level) and a token to be masked."""
    lines = [
        (-3590, "info", "station", "pywats-station 0.1.0 started (instance default, pid 4242)"),
        (-3589, "info", "control", "control channel listening on 127.0.0.1:8765"),
        (-3588, "info", "connection", "online: https://wats.example.com (WATS 24.1.0)"),
        (-3500, "info", "sync", "12 processes synced"),
        (
            -500,
            "error",
            "uploader",
            "report-0003 rejected for good: 400 Bad Request: process code 10 is not a test "
            "operation on this server",
        ),
        (-420, "warning", "uploader", "report-0009: connection refused; next attempt in 30 s"),
        (
            -400,
            "warning",
            "converters.ict",
            "board-17.txt: line 3: not a Spectrum log; moved to /srv/ict/error",
        ),
        (-236, "info", "uploader", "uploaded report-0008 (SN SN-0008) in 0.19 s"),
        (
            -180,
            "warning",
            "converters.ict",
            "board-19.txt: line 1: no PROGRAM_NAME header; moved to /srv/ict/error",
        ),
        (-130, "debug", "queue", "compacted the queue index (6 entries)"),
        (-60, "info", "http", f"GET /api/internal/Process Authorization: Bearer {SECRET} → 200"),
        (-58, "info", "uploader", "uploaded report-0010 (SN SN-0010) in 0.23 s"),
    ]
    records = []
    for offset, level, logger, message in lines:
        rec = {**record(message, level, f"pywats_station.{logger}"), "time": NOW + offset}
        decode_event("log_record", rec)
        records.append(rec)
    return records


def activity() -> list[tuple[float, str, dict[str, Any]]]:
    """Events of the last minutes as ``(seconds before NOW, event, payload)``: reports queued,
    uploaded and rejected with their units, a file that failed to convert."""
    events: list[tuple[float, str, dict[str, Any]]] = [
        (
            -240,
            "report_queued",
            {
                "report_id": "report-0010",
                "seq": 10,
                "source": "ict: board-10.txt",
                "size": 1010,
                "depth": 3,
                "unit": unit("SN-0010"),
            },
        ),
        (
            -236,
            "report_uploaded",
            {
                "report_id": "report-0008",
                "seq": 8,
                "attempts": 1,
                "duration": 0.19,
                "depth": 2,
                "unit": unit("SN-0008"),
            },
        ),
        (
            -180,
            "file_failed",
            {
                "converter": "ict",
                "path": "/srv/ict/in/board-19.txt",
                "error": "line 1: no PROGRAM_NAME header",
                "moved_to": "/srv/ict/error/board-19.txt",
            },
        ),
        (
            -120,
            "report_rejected",
            {
                "report_id": "report-0007",
                "seq": 7,
                "reason": "400 Bad Request: serial number SN-0007 is already registered as "
                "scrapped on this server",
                "status": 400,
                "unit": unit("SN-0007", "Failed"),
            },
        ),
        (
            -61,
            "report_queued",
            {
                "report_id": "report-0011",
                "seq": 11,
                "source": "ict: board-11.txt",
                "size": 1011,
                "depth": 3,
                "unit": unit("SN-0011"),
            },
        ),
        (
            -58,
            "report_uploaded",
            {
                "report_id": "report-0010",
                "seq": 10,
                "duration": 0.23,
                "depth": 2,
                "unit": unit("SN-0010"),
            },
        ),
        (
            -12,
            "report_queued",
            {
                "report_id": "report-0012",
                "seq": 12,
                "source": "ict: board-12.txt",
                "size": 1012,
                "depth": 3,
                "unit": unit("SN-0012", "Failed"),
            },
        ),
    ]
    for _, name, payload in events:
        decode_event(name, payload)
    return events


def counters_event(link: FakeLink) -> dict[str, Any]:
    """The periodic ``counters`` event the daemon sends, from the station's status."""
    status = link.status
    payload = {"time": NOW, "counters": status["counters"], "queue": status["queue"]}
    decode_event("counters", payload)
    return payload


def scripted_station(folder: Path, label: str = "ict-01") -> FakeLink:
    """A station answering every method the screens call.

    Args:
        folder: Where its configuration file is written (a test's ``tmp_path``).
        label: Its label (several are needed for the line view).
    """
    link = FakeLink(label)
    # The converter's last failure is older than the UI's connection (the dashboard's test
    # connects 300 s before NOW): listed as the oldest failure, as it is.
    link.converters[0]["last_activity_at"] = NOW - 400
    # Sets the status's queue counts from the entries, so the dashboard and the queue agree.
    ScriptedQueue(link, queue_entries())

    # --- converters --------------------------------------------------------------------------
    link.handlers["converters.enable"] = lambda p: info(
        link, p["name"], enabled=True, state="watching"
    )
    link.handlers["converters.disable"] = lambda p: info(
        link, p["name"], enabled=False, state="disabled"
    )
    link.handlers["converters.restart"] = lambda p: info(link, p["name"], state="starting")
    converted: list[dict[str, Any]] = []

    def convert_file(params: dict[str, Any]) -> dict[str, Any]:
        msgspec.convert(params, m.ConvertFileParams)
        # Converted when first asked (a real conversion takes a moment), whatever the path:
        # the UI runs on a machine without the station's folders.
        if not converted:
            converted.append(real_conversion(TRY_FILE, TRY_KIND))
        return converted[0]

    link.handlers["converters.convert_file"] = convert_file

    # --- log ---------------------------------------------------------------------------------
    serve_tail(link, log_records())

    # --- configuration (config.get serves the connection screen's identity too) --------------
    serve_config(link, folder / f"{label}.toml")
    served = link.handlers["config.get"]

    def config_get(params: dict[str, Any]) -> dict[str, Any]:
        result = {**served(params), "path": CONFIG_PATH}
        msgspec.convert(result, m.ConfigGetResult)
        return result

    link.handlers["config.get"] = config_get

    # --- connection --------------------------------------------------------------------------
    link.handlers["processes.list"] = answer(
        {
            "synced_at": NOW - 300,
            "server_version": "24.1.0",
            "processes": [
                {"code": 10, "name": "ICT", "test": True},
                {"code": 20, "name": "Flying probe", "test": True},
                {"code": 50, "name": "FCT", "test": True},
                {"code": 40, "name": "Old FCT", "test": True, "active": False},
                {"code": 500, "name": "Repair", "repair": True},
                {"code": 600, "name": "Assembly", "wip": True},
            ],
        },
        m.ProcessesListResult,
    )
    link.handlers["connection.test"] = answer(
        {"url": "https://wats.example.com", "server_version": "24.1.0", "latency": 0.0421},
        m.ConnectionTestResult,
    )
    link.handlers["reports.send_test"] = answer(
        {"report_id": REPORT_ID, "seq": 813}, m.SendTestResult
    )
    return link
