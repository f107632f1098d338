"""Params and result types of every control method (the catalogue is in ``methods``).

Plain on purpose (str, int, float, bool, lists, dicts and Structs): a client in any language
reads them as JSON. The docstrings are the reference: ``docs/control-api.md`` and the OpenRPC
document are generated from them, each ``Attributes:`` entry describing its field. Times are
seconds since the epoch (UTC) as floats; durations are seconds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from pywats_station.control._spec import Params, Result
from pywats_station.control.events import (
    Counters,
    LogLevel,
    LogRecord,
    QueueStats,
    ReportHeader,
    UploadWait,
)

__all__ = [
    "ConfigGetParams",
    "ConfigGetResult",
    "ConfigSetParams",
    "ConfigSetResult",
    "ConnectionTestResult",
    "ConvertFileParams",
    "ConvertFileResult",
    "ConvertedReport",
    "ConverterInfo",
    "ConverterNameParams",
    "ConvertersListResult",
    "LogsTailParams",
    "LogsTailResult",
    "QueueCountResult",
    "QueueEntry",
    "QueueListParams",
    "QueueListResult",
    "QueuePurgeParams",
    "QueueRetryParams",
    "QueueShowParams",
    "QueueShowResult",
    "QueueState",
    "ReportHeader",
    "ReportStation",
    "SendTestParams",
    "SendTestResult",
    "StationStatus",
    "TreeNode",
]

QueueState = Literal["queued", "uploading", "failed", "dead"]

# --- shared parts -----------------------------------------------------------------------------


class QueueEntry(Result, kw_only=True):
    """One report in the queue.

    Attributes:
        seq: Position in the queue; lower is older.
        report_id: The report's id (GUID); re-sending it is harmless.
        state: ``queued``, ``uploading``, ``failed`` or ``dead``.
        size: Bytes of the WSJF payload.
        checksum: ``sha256:<hex>`` of the payload.
        created_at: When it was queued.
        attempts: Failed or rejected upload attempts (never reset).
        next_attempt_at: When a failed entry is due again.
        last_error: The last transient failure.
        source: The converter and file it came from.
        dead_reason: The server's rejection message, verbatim.
        unit: Which unit the report is about (serial and part number, result…), as recorded
            when it was queued; null for an entry queued by a version that did not record it
            (``queue.show`` reads it from the report then).
    """

    seq: int
    report_id: str
    state: QueueState
    size: int
    checksum: str
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    last_error: str | None = None
    source: str | None = None
    dead_reason: str | None = None
    unit: ReportHeader | None = None


# --- station ----------------------------------------------------------------------------------


class StationStatus(Result, kw_only=True):
    """The daemon's status (what ``pywats-station status`` shows).

    Attributes:
        instance: The instance name.
        pid: The daemon's process id.
        version: The pywats version.
        station: The station name reports carry.
        server_url: The WATS server (a password in the URL shows as ``***``).
        connection: ``unconfigured``, ``connecting``, ``online``, ``offline`` or ``auth_failed``.
        connection_error: Why the station is not online.
        server_version: The server's version, once known.
        started_at: When the daemon started.
        uptime: Seconds since then.
        last_online_at: When the server last answered.
        queue: The report queue.
        counters: Totals since start.
        processes_cached: Processes in the offline cache.
        processes_synced_at: When they were last synced.
        control_connections: Clients connected to the control channel now.
        config_problem: Why the configuration file on disk was not applied: it is invalid
            (every problem, each named by its key), and the daemon runs on the configuration it
            loaded before; ``null`` while the file in force is the one on disk.
        upload_wait: Uploads wait for the client's request budget or a server's
            ``Retry-After``: why and until when; ``null`` while they do not.
    """

    instance: str
    pid: int
    version: str
    station: str
    server_url: str
    connection: str
    connection_error: str | None = None
    server_version: str | None = None
    started_at: float
    uptime: float
    last_online_at: float | None = None
    queue: QueueStats
    counters: Counters
    processes_cached: int = 0
    processes_synced_at: float | None = None
    control_connections: int = 0
    config_problem: str | None = None
    upload_wait: UploadWait | None = None


class TreeNode(Result, kw_only=True):
    """One node of the supervision tree: a supervisor (with children) or an actor.

    Attributes:
        name: The child's name (``uploader``, ``converter:ict``).
        kind: ``supervisor`` or ``child``.
        state: ``starting``, ``running``, ``stopping``, ``backoff``, ``stopped`` or ``failed``.
        strategy: A supervisor's restart strategy (``one_for_one`` …).
        restart: The child's restart policy (``permanent``, ``transient``, ``temporary``).
        restarts: Restarts so far.
        restarts_in_window: A supervisor's restarts within its intensity window.
        last_error: The last failure, one line (tracebacks stay in the log).
        started_at: When it last started.
        uptime: Seconds since then.
        last_exit: When it last stopped or failed.
        children: A supervisor's children, in start order.
    """

    name: str
    kind: Literal["supervisor", "child"]
    state: str
    strategy: str | None = None
    restart: str | None = None
    restarts: int = 0
    restarts_in_window: int | None = None
    last_error: str | None = None
    started_at: float | None = None
    uptime: float | None = None
    last_exit: float | None = None
    children: list[TreeNode] = msgspec.field(default_factory=list)


# --- queue ------------------------------------------------------------------------------------


class QueueListParams(Params, kw_only=True):
    """Filter and page the queue.

    Attributes:
        state: Only entries in this state.
        offset: Matching entries to skip (FIFO order).
        limit: The most entries to return (1-1000).
    """

    state: QueueState | None = None
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class QueueListResult(Result, kw_only=True):
    """A page of queue entries, oldest first.

    Attributes:
        entries: The page.
        total: Entries matching the filter (all pages).
        offset: The offset asked for.
        limit: The limit asked for.
    """

    entries: list[QueueEntry]
    total: int
    offset: int
    limit: int


class QueueShowParams(Params, kw_only=True):
    """Which entry to show.

    Attributes:
        entry: A report id, or a seq number as digits.
    """

    entry: str


class QueueShowResult(Result, kw_only=True):
    """One entry and what its report is about.

    Attributes:
        entry: The entry.
        report: The report's header; null if the payload cannot be read.
    """

    entry: QueueEntry
    report: ReportHeader | None = None


class QueueRetryParams(Params, kw_only=True):
    """Which entries to send again now.

    Attributes:
        selector: A report id, a seq (digits), ``dead``, ``failed`` or ``all`` (dead and failed).
    """

    selector: str = "all"


class QueuePurgeParams(Params, kw_only=True):
    """Which entries to delete for good (no default: purging is deliberate).

    Attributes:
        selector: A report id, a seq (digits), ``dead``, ``failed`` or ``all``.
    """

    selector: str


class QueueCountResult(Result, kw_only=True):
    """How many entries an operation touched.

    Attributes:
        count: The number of entries.
    """

    count: int


class QueueVerifyResult(Result, kw_only=True):
    """What a full check of the queue found.

    Attributes:
        ok: Entries whose files passed every check.
        corrupt: Entries (or their state files) moved to the queue's ``corrupt/`` folder.
        orphans: Leftover temp files and state files without a payload, deleted.
    """

    ok: int
    corrupt: int
    orphans: int


# --- converters -------------------------------------------------------------------------------


class ReportStation(Result, kw_only=True):
    """The station a converter's reports name (their ``machineName``, location and purpose).

    Attributes:
        name: The station name (``machineName``).
        location: Where the station is.
        purpose: What it is for (``Production``, ``Development``…).
    """

    name: str
    location: str
    purpose: str


class ConverterInfo(Result, kw_only=True):
    """One configured converter and how it is doing.

    Attributes:
        name: The converter's unique name (``[[converters]] name``).
        kind: Built-in kind, ``module:Class`` or a ``.py`` file.
        type: ``file``, ``folder`` or ``scheduled``.
        enabled: Whether it is configured to run.
        state: The actor's state (as in ``station.tree``), ``disabled`` if not enabled.
        watch: The watched folder (null for scheduled converters).
        patterns: File (or folder) name patterns.
        converted: Files converted since start.
        failed: Files that failed since start.
        restarts: Actor restarts since start.
        last_file: The last file handled.
        last_error: The last failure, one line.
        last_activity_at: When it last handled a file.
        refused: Entries in the watch folder it leaves alone, now: links it may not follow,
            dangling links, FIFOs, devices, folders named like inputs (each logged once).
        last_refused: The latest of them and why, the name escaped (``x.json is a dangling
            symbolic link``); null if none was ever refused.
        station: The station its reports name: ``[station]``, with the converter's own
            ``[converters.station]`` over it where it has one (hub mode: one station collecting
            the files of several testers, each reporting as itself).
    """

    name: str
    kind: str
    type: Literal["file", "folder", "scheduled"]
    enabled: bool
    state: str
    watch: str | None = None
    patterns: list[str] = msgspec.field(default_factory=list)
    converted: int = 0
    failed: int = 0
    restarts: int = 0
    last_file: str | None = None
    last_error: str | None = None
    last_activity_at: float | None = None
    refused: int = 0
    last_refused: str | None = None
    station: ReportStation | None = None


class ConvertersListResult(Result, kw_only=True):
    """Every configured converter, in configuration order.

    Attributes:
        converters: The converters.
    """

    converters: list[ConverterInfo]


class ConverterNameParams(Params, kw_only=True):
    """Which converter.

    Attributes:
        name: The converter's name.
    """

    name: str


class ConvertFileParams(Params, kw_only=True):
    """A file to convert as a dry run: nothing is queued and the file is neither moved nor changed.

    Attributes:
        path: The file (or folder) on the station, as the daemon sees it.
        converter: A configured converter's name; by default the first whose patterns match.
        kind: A converter kind to use instead of a configured converter.
        include_report: Also return each report whole (``ConvertedReport.report``), to show
            it as a tree; at most 32 MiB of WSJF in one reply (a report past that is left
            out, with a warning).
    """

    path: str
    converter: str | None = None
    kind: str | None = None
    include_report: bool = False


class ConvertedReport(Result, kw_only=True):
    """A report a conversion produced.

    Attributes:
        report_id: The report's id.
        header: What it is about.
        steps: Number of steps (all levels).
        valid: Whether it passed the WSJF validation done before queueing.
        problems: Validation problems, if any.
        report: The whole report when ``include_report`` was asked for, else null: the WSJF
            JSON object the station would queue and the server would receive (steps with
            their status, measurements with limits and units, sub-units, misc info…). A
            converter whose reports do not keep an id of their own gets, when its file is
            queued, an id derived from the file's content instead of this one.
    """

    report_id: str
    header: ReportHeader
    steps: int = 0
    valid: bool = True
    problems: list[str] = msgspec.field(default_factory=list)
    report: dict[str, Any] | None = None


class ConvertFileResult(Result, kw_only=True):
    """What converting the file would produce.

    Attributes:
        ok: Whether the conversion succeeded.
        converter: The converter used (name, or the kind for ``kind``).
        reports: The reports produced.
        confidence: The converter's confidence (0-1), if it reports one.
        warnings: Warnings from the converter.
        error: Why it failed (``ok`` false).
        duration: Seconds the conversion took.
    """

    ok: bool
    converter: str
    reports: list[ConvertedReport] = msgspec.field(default_factory=list)
    confidence: float | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    error: str | None = None
    duration: float = 0.0


# --- config -----------------------------------------------------------------------------------


class ConfigGetParams(Params, kw_only=True):
    """Which part of the configuration.

    Attributes:
        key: A TOML path (``queue``, ``queue.upload_workers``, ``converters.ict``,
            ``converters.ict.watch``); the whole configuration when omitted.
    """

    key: str | None = None


class ConfigGetResult(Result, kw_only=True):
    """Configuration values, with secrets redacted (a set token shows as ``"***"``).

    Attributes:
        key: The key asked for (null: everything).
        value: The value: a table for a section, a scalar for a field.
        path: The configuration file.
    """

    key: str | None
    value: Any
    path: str


class ConfigSetParams(Params, kw_only=True):
    """A change to the configuration, validated, saved atomically and applied (hot reload).

    Attributes:
        key: A TOML path to a field (``queue.upload_workers``), a section (``queue``; the
            value is then a table of its fields to change) or a converter by name
            (``converters.<name>.<field>``; ``converters.<name>`` with a table changes or adds
            it, with null removes it). ``server.token`` and ``server.token_file`` cannot be
            set here: use ``pywats-station login``.
        value: The new value, as in TOML (sizes may be ``"500 MB"``).
        dry_run: Validate only; change nothing.
    """

    key: str
    value: Any
    dry_run: bool = False


class ConfigSetResult(Result, kw_only=True):
    """What the change did.

    Attributes:
        changed: TOML paths whose values changed.
        restarted: Actors restarted to apply it.
        saved: Whether the file was written (false for a dry run or no change).
    """

    changed: list[str]
    restarted: list[str] = msgspec.field(default_factory=list)
    saved: bool


# --- connection, reports, logs ---------------------------------------------------------------


class ConnectionTestResult(Result, kw_only=True):
    """The WATS server answered and accepted the station's token.

    Attributes:
        url: The server tested.
        server_version: The server's version.
        latency: Seconds the check took.
    """

    url: str
    server_version: str | None = None
    latency: float


class ProcessInfo(Result, kw_only=True):
    """A process (operation type) the station has from the server.

    Attributes:
        code: The process code reports carry.
        name: Its name.
        description: Its description.
        test: A test operation.
        repair: A repair operation.
        wip: A WIP (work in progress) operation.
        active: Active on the server (inactive processes are refused in reports).
    """

    code: int
    name: str | None = None
    description: str | None = None
    test: bool = False
    repair: bool = False
    wip: bool = False
    active: bool = True


class ProcessesListResult(Result, kw_only=True):
    """The processes the station synced from the server (its offline cache).

    Attributes:
        synced_at: When they were last synced (null: never).
        server_version: The server's version at that time.
        processes: Every process, in the server's order.
    """

    synced_at: float | None = None
    server_version: str | None = None
    processes: list[ProcessInfo] = msgspec.field(default_factory=list)


class SendTestParams(Params, kw_only=True):
    """A small passing UUT report to send through the queue, to check the whole path.

    Attributes:
        part_number: The report's part number.
        serial_number: The report's serial number; a unique one by default.
        process_code: The operation code; the first test operation in the cache by default.
    """

    part_number: str = "PYWATS-TEST"
    serial_number: str | None = None
    process_code: int | None = None


class SendTestResult(Result, kw_only=True):
    """The test report, queued (watch ``report_uploaded`` for its upload).

    Attributes:
        report_id: The report's id.
        seq: Its queue position.
    """

    report_id: str
    seq: int


class LogsTailParams(Params, kw_only=True):
    """Recent log records.

    Attributes:
        lines: How many records, newest last (1-5000).
        level: The lowest level to include.
    """

    lines: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 100
    level: LogLevel = "info"


class LogsTailResult(Result, kw_only=True):
    """The records asked for.

    Attributes:
        records: Oldest first.
    """

    records: list[LogRecord]
