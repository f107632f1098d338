"""The control channel's catalogue: every method, its params and result types, and the events.

The daemon implements each method with ``@registry.implement(methods.QUEUE_LIST)`` and so on
(:meth:`Registry.implement <pywats_station.control.registry.Registry.implement>` takes the name,
types, summary and errors from the spec) and publishes each event with
``hub.publish("report_uploaded", ReportUploaded(...))``. ``docs/control-api.md`` and the OpenRPC
document are generated from :func:`catalogue` and :func:`notifications`.

The types live in :mod:`~pywats_station.control.models` (params and results) and
:mod:`~pywats_station.control.events` (event payloads); they are re-exported here so that one
import serves a handler or a client.
"""

from __future__ import annotations

from typing import Any, Final

from pywats_station.control._spec import (
    EventsParams,
    EventsResult,
    LoginParams,
    LoginResult,
    MethodSpec,
    NoParams,
    NotificationSpec,
    PingResult,
)
from pywats_station.control.events import (
    ActorState,
    Counters,
    CountersUpdate,
    FileConverted,
    FileFailed,
    LogRecord,
    QueueStats,
    ReportQueued,
    ReportRejected,
    ReportUploaded,
    decode_event,
    notifications,
)
from pywats_station.control.models import (
    ConfigGetParams,
    ConfigGetResult,
    ConfigSetParams,
    ConfigSetResult,
    ConnectionTestResult,
    ConvertedReport,
    ConverterInfo,
    ConverterNameParams,
    ConvertersListResult,
    ConvertFileParams,
    ConvertFileResult,
    LogsTailParams,
    LogsTailResult,
    ProcessesListResult,
    ProcessInfo,
    QueueCountResult,
    QueueEntry,
    QueueListParams,
    QueueListResult,
    QueuePurgeParams,
    QueueRetryParams,
    QueueShowParams,
    QueueShowResult,
    QueueVerifyResult,
    ReportHeader,
    SendTestParams,
    SendTestResult,
    StationStatus,
    TreeNode,
)
from pywats_station.control.protocol import ErrorCode
from pywats_station.control.roles import Role

__all__ = [
    "AUTH_LOGIN",
    "ActorState",
    "BUILTINS",
    "CONFIG_GET",
    "CONFIG_SET",
    "CONNECTION_TEST",
    "CONVERTERS_CONVERT_FILE",
    "CONVERTERS_DISABLE",
    "CONVERTERS_ENABLE",
    "CONVERTERS_LIST",
    "CONVERTERS_RESTART",
    "ConfigGetParams",
    "ConfigGetResult",
    "ConfigSetParams",
    "ConfigSetResult",
    "ConnectionTestResult",
    "PROCESSES_LIST",
    "ProcessInfo",
    "ProcessesListResult",
    "ConvertFileParams",
    "ConvertFileResult",
    "ConvertedReport",
    "ConverterInfo",
    "ConverterNameParams",
    "ConvertersListResult",
    "Counters",
    "CountersUpdate",
    "EVENTS_SUBSCRIBE",
    "EVENTS_UNSUBSCRIBE",
    "EventsParams",
    "EventsResult",
    "FileConverted",
    "FileFailed",
    "LOGS_TAIL",
    "LogRecord",
    "LoginParams",
    "LoginResult",
    "LogsTailParams",
    "LogsTailResult",
    "MethodSpec",
    "NoParams",
    "NotificationSpec",
    "PingResult",
    "QUEUE_LIST",
    "QUEUE_PURGE",
    "QUEUE_RETRY",
    "QUEUE_SHOW",
    "QUEUE_VERIFY",
    "QueueCountResult",
    "QueueEntry",
    "QueueListParams",
    "QueueListResult",
    "QueuePurgeParams",
    "QueueRetryParams",
    "QueueShowParams",
    "QueueShowResult",
    "QueueStats",
    "QueueVerifyResult",
    "REPORTS_SEND_TEST",
    "RPC_DISCOVER",
    "ReportHeader",
    "ReportQueued",
    "ReportRejected",
    "ReportUploaded",
    "STATION_PING",
    "STATION_STATUS",
    "STATION_TREE",
    "SendTestParams",
    "SendTestResult",
    "StationStatus",
    "TreeNode",
    "catalogue",
    "decode_event",
    "notifications",
]

NotFound, Conflict, Invalid, Station, Forbidden = (
    ErrorCode.NOT_FOUND,
    ErrorCode.CONFLICT,
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.STATION_ERROR,
    ErrorCode.FORBIDDEN,
)

# --- the catalogue ----------------------------------------------------------------------------
# Roles (pywats_station.control.roles): a method is OPERATOR unless it says otherwise; ADMIN is
# for what changes what the daemon runs, where it reads and writes, or where it sends the API
# token.

RPC_DISCOVER: Final = MethodSpec(
    "rpc.discover",
    NoParams,
    dict[str, Any],
    "This API as an OpenRPC 1.2 document.",
    "Needs no authentication: the API is public, the data is not.",
    role=Role.NONE,
)
STATION_PING: Final = MethodSpec(
    "station.ping",
    NoParams,
    PingResult,
    "Check the connection; says whether it is authenticated, and its role.",
    role=Role.NONE,
)
AUTH_LOGIN: Final = MethodSpec(
    "auth.login",
    LoginParams,
    LoginResult,
    "Authenticate this connection with the operator or the admin token.",
    "Alternative to the `Authorization: Bearer` handshake header, for clients that cannot set "
    "headers (browsers). The result says the role the connection now holds. A connection "
    "waits 1 s after a failed login before its next one is looked at, and is closed (1008) "
    "after 3; wrong tokens from an address that failed too often are -32003 at once. A "
    "correct token is always accepted. A connection that has not logged in within 10 s of "
    "connecting is closed (1008).",
    role=Role.NONE,
    errors=(ErrorCode.UNAUTHORIZED,),
)
EVENTS_SUBSCRIBE: Final = MethodSpec(
    "events.subscribe",
    EventsParams,
    EventsResult,
    "Receive the named events as `notify.<event>` notifications.",
    "Subscriptions add up; an unknown event name is -32602. A client that does not read its "
    "notifications fast enough is disconnected (close code 1008).",
)
EVENTS_UNSUBSCRIBE: Final = MethodSpec(
    "events.unsubscribe",
    EventsParams,
    EventsResult,
    "Stop receiving the named events (`*` removes the catch-all subscription).",
)
STATION_STATUS: Final = MethodSpec(
    "station.status", NoParams, StationStatus, "The daemon's status."
)
STATION_TREE: Final = MethodSpec(
    "station.tree", NoParams, TreeNode, "The supervision tree: every actor's state and restarts."
)
QUEUE_LIST: Final = MethodSpec(
    "queue.list", QueueListParams, QueueListResult, "A page of queue entries, oldest first."
)
QUEUE_SHOW: Final = MethodSpec(
    "queue.show", QueueShowParams, QueueShowResult, "One queue entry.", errors=(NotFound,)
)
QUEUE_RETRY: Final = MethodSpec(
    "queue.retry",
    QueueRetryParams,
    QueueCountResult,
    "Send dead and failed entries again now (attempt counts are kept).",
    errors=(NotFound,),
)
QUEUE_PURGE: Final = MethodSpec(
    "queue.purge",
    QueuePurgeParams,
    QueueCountResult,
    "Delete entries for good (reports that must never be sent).",
    errors=(NotFound,),
)
QUEUE_VERIFY: Final = MethodSpec(
    "queue.verify",
    NoParams,
    QueueVerifyResult,
    "Check every entry's checksum; set corrupt ones aside.",
    "Reads every queued report, so it takes a while on a big backlog; uploads go on meanwhile.",
)
CONVERTERS_LIST: Final = MethodSpec(
    "converters.list", NoParams, ConvertersListResult, "Every configured converter and its state."
)
CONVERTERS_ENABLE: Final = MethodSpec(
    "converters.enable",
    ConverterNameParams,
    ConverterInfo,
    "Enable a converter and start it.",
    "Persistent: sets `enabled = true` in the configuration file.",
    errors=(NotFound,),
)
CONVERTERS_DISABLE: Final = MethodSpec(
    "converters.disable",
    ConverterNameParams,
    ConverterInfo,
    "Stop a converter and disable it.",
    "Persistent: sets `enabled = false` in the configuration file. Files already converted "
    "stay queued.",
    errors=(NotFound,),
)
CONVERTERS_RESTART: Final = MethodSpec(
    "converters.restart",
    ConverterNameParams,
    ConverterInfo,
    "Restart a converter's actor (reloads user converter code).",
    errors=(NotFound, Conflict),
)
CONVERTERS_CONVERT_FILE: Final = MethodSpec(
    "converters.convert_file",
    ConvertFileParams,
    ConvertFileResult,
    "Convert a file as a dry run and show the reports it would produce.",
    "Nothing is queued, the file is not moved. A converter failure is a result with "
    "`ok: false`; a missing file or unknown converter is -32010, no matching converter -32012. "
    "A user-code converter (not a built-in one) needs the admin role (-32005). With "
    "`include_report: true` each report also comes whole, as the WSJF object the station would "
    "queue (`report`), for a client to show its steps and measurements.",
    errors=(NotFound, Invalid, Forbidden),
)
CONFIG_GET: Final = MethodSpec(
    "config.get",
    ConfigGetParams,
    ConfigGetResult,
    "Read the configuration, secrets redacted.",
    errors=(NotFound,),
)
CONFIG_SET: Final = MethodSpec(
    "config.set",
    ConfigSetParams,
    ConfigSetResult,
    "Change one field or section; validated, saved atomically, applied at once.",
    "Refused values are -32012 with `data.problems` (`[{path, message}]`); nothing is "
    "changed then. A file changed on disk meanwhile is -32011. Needs the admin role.",
    role=Role.ADMIN,
    errors=(NotFound, Conflict, Invalid),
)
CONNECTION_TEST: Final = MethodSpec(
    "connection.test",
    NoParams,
    ConnectionTestResult,
    "Check the WATS server now: reachable, and accepting the station's token.",
    "Unreachable, refusing the token or not configured: -32013 with `data.reason`.",
    errors=(Station,),
)
PROCESSES_LIST: Final = MethodSpec(
    "processes.list",
    NoParams,
    ProcessesListResult,
    "The processes synced from the server, as the station validates and names reports with.",
)
REPORTS_SEND_TEST: Final = MethodSpec(
    "reports.send_test",
    SendTestParams,
    SendTestResult,
    "Queue a small passing test report, to check the way to the server.",
    errors=(Station,),
)
LOGS_TAIL: Final = MethodSpec(
    "logs.tail", LogsTailParams, LogsTailResult, "The latest log records (secrets never logged)."
)

BUILTINS: Final = (RPC_DISCOVER, STATION_PING, AUTH_LOGIN, EVENTS_SUBSCRIBE, EVENTS_UNSUBSCRIBE)
"""Implemented by the framework itself in every registry."""

_METHODS: Final = (
    *BUILTINS,
    STATION_STATUS,
    STATION_TREE,
    PROCESSES_LIST,
    QUEUE_LIST,
    QUEUE_SHOW,
    QUEUE_RETRY,
    QUEUE_PURGE,
    QUEUE_VERIFY,
    CONVERTERS_LIST,
    CONVERTERS_ENABLE,
    CONVERTERS_DISABLE,
    CONVERTERS_RESTART,
    CONVERTERS_CONVERT_FILE,
    CONFIG_GET,
    CONFIG_SET,
    CONNECTION_TEST,
    REPORTS_SEND_TEST,
    LOGS_TAIL,
)


def catalogue() -> list[MethodSpec]:
    """Every method of the control channel, the framework's built-ins first."""
    return list(_METHODS)
