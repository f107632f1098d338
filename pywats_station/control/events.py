"""The control channel's events: the payload of each ``notify.<event>`` notification.

The daemon publishes them with ``hub.publish("report_uploaded", ReportUploaded(...))``; clients
subscribe with ``events.subscribe`` and may turn a received payload back into its type with
:func:`decode_event`. The docstrings are the reference (``docs/control-api.md`` is generated
from them). Times are seconds since the epoch; durations, seconds.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec

from pywats_station.control._spec import Event, NotificationSpec, Result

__all__ = [
    "ActorState",
    "Counters",
    "CountersUpdate",
    "FileConverted",
    "FileFailed",
    "LogLevel",
    "LogRecord",
    "QueueStats",
    "ReportHeader",
    "ReportQueued",
    "ReportRejected",
    "ReportUploaded",
    "UploadWait",
    "UploadWaiting",
    "decode_event",
    "notifications",
]

LogLevel = Literal["debug", "info", "warning", "error", "critical"]

# --- parts shared with method results ----------------------------------------------------------


class Counters(Result, kw_only=True):
    """Totals since the daemon started.

    Attributes:
        queued: Reports put in the queue.
        uploaded: Reports the server accepted.
        upload_failures: Transient upload failures (each retried).
        rejected: Reports the server rejected for good (dead letters).
        converted: Files converted.
        conversion_failures: Files that failed to convert.
    """

    queued: int = 0
    uploaded: int = 0
    upload_failures: int = 0
    rejected: int = 0
    converted: int = 0
    conversion_failures: int = 0


class QueueStats(Result, kw_only=True):
    """The report queue at a glance.

    Attributes:
        depth: Entries still to deliver (queued, failed and uploading; not dead).
        queued: Waiting for an upload worker.
        failed: Waiting for their next attempt after a transient failure.
        uploading: Being sent now.
        dead: Rejected by the server; waiting for a human (``queue.retry``/``queue.purge``).
        corrupt: Entries found damaged and moved aside.
        bytes: Size of all payloads (dead ones included).
        max_bytes: The queue's bound; when full, source files wait in their folders.
        oldest_created_at: When the oldest entry still to deliver was queued.
        next_attempt_at: When the next failed entry is due.
    """

    depth: int
    queued: int
    failed: int
    uploading: int
    dead: int
    corrupt: int
    bytes: int
    max_bytes: int
    oldest_created_at: float | None = None
    next_attempt_at: float | None = None


class ReportHeader(Result, kw_only=True):
    """What a report is about, read from its WSJF header (fields the report lacks are null).
    Its texts come from outside and are shown as names are: one printable line (control
    characters, undecodable bytes and the like escaped: ``\\n``, ``\\xff``, ``\\u202e``), each
    cut to 256 characters.

    Attributes:
        kind: ``uut`` (a test) or ``uur`` (a repair).
        part_number: The product's part number.
        serial_number: The unit's serial number.
        revision: The product revision.
        process_code: The test operation code.
        result: ``Passed``, ``Failed``, ``Error``, ``Terminated`` (UUT only).
        start: Start time as written in the report (ISO 8601).
        station: The station name in the report.
    """

    kind: Literal["uut", "uur"]
    part_number: str | None = None
    serial_number: str | None = None
    revision: str | None = None
    process_code: int | None = None
    result: str | None = None
    start: str | None = None
    station: str | None = None


class LogRecord(Event, kw_only=True):
    """One log record (also the payload of ``log_record``).

    Attributes:
        time: When it was logged.
        level: ``debug`` … ``critical``.
        logger: The logger's name.
        message: The formatted message (tracebacks included).
    """

    time: float
    level: LogLevel
    logger: str
    message: str


# --- notification payloads -------------------------------------------------------------------


class ReportQueued(Event, kw_only=True):
    """A report was put in the queue (durably: its source may now be moved).

    Attributes:
        report_id: The report's id.
        seq: Its queue position.
        source: The converter and file it came from.
        size: Bytes of its payload.
        depth: Queue depth after it.
        unit: Which unit the report is about (serial and part number, result…).
    """

    report_id: str
    seq: int
    source: str | None = None
    size: int
    depth: int
    unit: ReportHeader | None = None


class ReportUploaded(Event, kw_only=True):
    """The server accepted a report; it has left the queue.

    Attributes:
        report_id: The report's id.
        seq: Its former queue position.
        attempts: Failed attempts before this one.
        duration: Seconds the upload took.
        depth: Queue depth after it.
        unit: Which unit the report is about, as recorded when it was queued; null for a
            report queued by a version that did not record it.
    """

    report_id: str
    seq: int
    attempts: int = 0
    duration: float
    depth: int
    unit: ReportHeader | None = None


class ReportRejected(Event, kw_only=True):
    """The server rejected a report for good: it is a dead letter now.

    Attributes:
        report_id: The report's id.
        seq: Its queue position.
        reason: The server's message, verbatim.
        status: The HTTP status, when there was one.
        unit: Which unit the report is about, as recorded when it was queued; null for a
            report queued by a version that did not record it.
    """

    report_id: str
    seq: int
    reason: str
    status: int | None = None
    unit: ReportHeader | None = None


class FileConverted(Event, kw_only=True):
    """A converter turned a file into reports (queued).

    Attributes:
        converter: The converter's name.
        path: The source file.
        reports: Ids of the reports produced.
        duration: Seconds the conversion took.
        units: Which unit each report is about, in the order of ``reports``.
    """

    converter: str
    path: str
    reports: list[str]
    duration: float
    units: list[ReportHeader] = msgspec.field(default_factory=list)


class FileFailed(Event, kw_only=True):
    """A file could not be converted.

    Attributes:
        converter: The converter's name.
        path: The source file.
        error: Why, one line.
        moved_to: Where the file went (the error folder), if it was moved.
    """

    converter: str
    path: str
    error: str
    moved_to: str | None = None


class ActorState(Event, kw_only=True):
    """An actor or supervisor changed state.

    Attributes:
        path: Its place in the tree, ``/``-separated (``station/converters/converter:ict``).
        state: The new state.
        previous: The state before.
        restarts: Restarts so far.
        last_error: The failure that caused the change, one line.
    """

    path: str
    state: str
    previous: str | None = None
    restarts: int = 0
    last_error: str | None = None


class UploadWait(Result, kw_only=True):
    """Uploads wait, and until when.

    Attributes:
        reason: ``rate_limit``: the client's request budget (``server.requests_per_minute``)
            is spent; ``retry_after``: the server answered with ``Retry-After``.
        until: When the wait ends (wall clock, seconds since the epoch).
        detail: The same in words.
    """

    reason: Literal["rate_limit", "retry_after"]
    until: float
    detail: str


class UploadWaiting(Event, kw_only=True):
    """Uploads wait: for the request budget or a server's ``Retry-After``, until ``until``.

    Published when a wait begins, when its reason changes and when its end moves later by five
    seconds or more; ``station.status`` has the wait in effect (``upload_wait``).

    Attributes:
        reason: ``rate_limit`` (the client's request budget is spent) or ``retry_after``
            (the server answered with ``Retry-After``).
        until: When the wait ends (wall clock, seconds since the epoch).
        detail: The same in words.
    """

    reason: Literal["rate_limit", "retry_after"]
    until: float
    detail: str


class CountersUpdate(Event, kw_only=True):
    """Periodic totals (every few seconds while something changes).

    Attributes:
        time: When they were taken.
        counters: Totals since start.
        queue: The queue at that moment.
    """

    time: float
    counters: Counters
    queue: QueueStats


_NOTIFICATIONS: Final = (
    NotificationSpec("report_queued", ReportQueued, "A report was queued."),
    NotificationSpec("report_uploaded", ReportUploaded, "The server accepted a report."),
    NotificationSpec("report_rejected", ReportRejected, "The server rejected a report for good."),
    NotificationSpec("file_converted", FileConverted, "A file was converted."),
    NotificationSpec("file_failed", FileFailed, "A file could not be converted."),
    NotificationSpec("actor_state", ActorState, "An actor changed state."),
    NotificationSpec("log_record", LogRecord, "A log record (at the daemon's log level)."),
    NotificationSpec("counters", CountersUpdate, "Periodic totals and queue statistics."),
    NotificationSpec(
        "upload_waiting", UploadWaiting, "Uploads wait for the request budget or Retry-After."
    ),
)
_PAYLOADS: Final = {spec.event: spec.payload for spec in _NOTIFICATIONS}


def notifications() -> list[NotificationSpec]:
    """Every event a client can subscribe to."""
    return list(_NOTIFICATIONS)


def decode_event(event: str, payload: Any) -> msgspec.Struct:
    """Turn a received ``(event, payload)`` into its payload type (``ReportUploaded`` …).

    Args:
        event: The event name (without ``notify.``).
        payload: The notification's params as received (a dict).

    Raises:
        KeyError: For an event not in the catalogue.
        msgspec.ValidationError: If the payload does not fit its type.
    """
    return msgspec.convert(payload, _PAYLOADS[event])
