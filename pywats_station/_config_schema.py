"""The configuration schema: every section of ``config.toml`` as a msgspec Struct with defaults.

Re-exported by :mod:`pywats_station.config`, which loads, checks and saves it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from pywats_station.paths import InstancePaths

__all__ = [
    "BYTE_SIZE",
    "SCHEMA_VERSION",
    "ConnectionConfig",
    "ControlConfig",
    "ConverterConfig",
    "ConverterStation",
    "LogConfig",
    "QueueConfig",
    "ServerConfig",
    "StationConfig",
    "StationInfo",
    "SyncConfig",
    "document",
    "format_size",
    "is_loopback",
    "parse_listen",
    "parse_size",
]

SCHEMA_VERSION = 1

BYTE_SIZE = "byte-size"  # Annotated marker: accepts 123 or "500 MB", stored as int bytes.
ByteSize = Annotated[int, BYTE_SIZE]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
PostAction = Literal["move", "delete", "zip", "keep"]
ConverterType = Literal["file", "folder", "scheduled"]
_S = TypeVar("_S", bound=msgspec.Struct)


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """Base of every table: keyword-only fields, unknown keys tolerated (reported by checks)."""


class ServerConfig(_Section):
    """``[server]``: the WATS server. ``url`` empty means "not configured" (reports queue up)."""

    url: str = ""
    token: str = ""  # Discouraged: shown wherever the file goes. Use `login` or token_file.
    token_file: str = ""  # $VARS expanded (e.g. ${CREDENTIALS_DIRECTORY}/token).
    timeout: float = 30.0
    verify_tls: bool = True
    # A PEM bundle of the CAs that sign the server's certificate (a private CA), used instead
    # of the system's; an absolute path. Empty: the CAs of certifi.
    ca_file: str = ""
    # "system": the environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY; "none": connect directly;
    # or a URL (http://user@proxy:3128) whose password `pywats-station proxy` stores encrypted.
    proxy: str = "system"
    # WATS allows 500 API requests a minute; 0 lifts the client-side limit (own servers).
    requests_per_minute: int = 500


class StationInfo(_Section):
    """``[station]``: how this station identifies itself in its reports."""

    name: str = ""  # Empty: the host name.
    location: str = ""
    purpose: str = "Production"

    @property
    def effective_name(self) -> str:
        """The configured name, or the host name when none is set."""
        return self.name or socket.gethostname()


class QueueConfig(_Section):
    """``[queue]``: the durable report queue."""

    path: str = ""  # Empty: InstancePaths.queue_dir.
    max_bytes: ByteSize = 1 << 30
    upload_workers: int = 4

    def directory(self, paths: InstancePaths) -> Path:
        """The queue folder: ``path`` if set, else the instance's default queue folder."""
        return Path(self.path).expanduser() if self.path else paths.queue_dir


class SyncConfig(_Section):
    """``[sync]``: how often process/product lists are fetched for offline use (seconds)."""

    interval: float = 3600.0


class ConnectionConfig(_Section):
    """``[connection]``: how often the server's health is checked (seconds)."""

    check_interval: float = 30.0


class ControlConfig(_Section):
    """``[control]``: the websocket control channel.

    ``allow_remote`` must be set to listen on a non-loopback address without TLS: it is the
    explicit acknowledgement that the control token then crosses the network in clear text.
    ``remote_admin`` lets a client on another machine hold the admin role (``config.set``…)
    with the admin token; without it such a client gets the operator role whatever token it
    presents. It needs a non-loopback ``listen`` with TLS (the admin token must not cross the
    network in clear text).
    """

    listen: str = "127.0.0.1:8765"
    tls_cert: str = ""
    tls_key: str = ""
    allow_remote: bool = False
    # Folders that paths set over the channel (config.set) must lie inside: converters' watch,
    # done and error folders, a user converter's .py file, queue.path. Only the file declares
    # them ([control] cannot be changed over the channel); none: no path can be set that way.
    roots: list[str] = msgspec.field(default_factory=list)
    remote_admin: bool = False


class LogConfig(_Section):
    """``[log]``: log verbosity."""

    level: LogLevel = "info"


class ConverterStation(_Section):
    """``[converters.station]``: the station this converter's reports name, where it is not
    ``[station]`` ("hub mode": one Pi collects the files of several testers, each reporting as
    itself). A key left empty takes ``[station]``'s value.
    """

    name: str = ""
    location: str = ""
    purpose: str = ""

    def over(self, station: _S) -> _S:
        """``station`` (name, location, purpose) with the keys set here put over it."""
        mine = {key: value for key, value in msgspec.structs.asdict(self).items() if value}
        return msgspec.structs.replace(station, **mine)


class ConverterConfig(_Section):
    """One ``[[converters]]`` entry: a watched folder (or a schedule) and what converts it.

    ``kind`` is a built-in converter name, ``"module:Class"``, or a path to a ``.py`` file.
    ``type`` is ``file`` (each matching file is one input), ``folder`` (a matching sub-folder is
    one input, ready when ``ready_marker`` exists or it holds ``min_files`` files) or
    ``scheduled`` (run on ``schedule``: ``"every 5m"``, a five-field cron expression or
    ``@daily`` and friends, as :mod:`pywats_station.converters.schedule` parses them).
    """

    name: str = ""
    kind: str = ""
    enabled: bool = True
    type: ConverterType = "file"
    watch: str = ""
    done: str = ""  # Empty: <watch>/Done.
    error: str = ""  # Empty: <watch>/Error.
    post_action: PostAction = "move"
    patterns: list[str] = msgspec.field(default_factory=list)  # Empty: the converter's own.
    settle: float = 2.0  # Seconds a file must stay unchanged before it is read.
    timeout: float = 120.0  # Seconds one conversion may take in a child process.
    memory_mb: int = 1024  # Memory limit of a converter's child process.
    # A user converter's warm child serves this many inputs, then a fresh one takes over.
    worker_max_files: int = 500
    # ... and ends after this many seconds without an input (its memory goes back); 0: never.
    worker_idle_exit: float = 600.0
    # Larger inputs (a folder input: all its files) go to Error unread. Real exports are KBs to
    # a few MB; parsing takes several times the file's size in memory.
    max_file_size: ByteSize = 100 * 10**6
    follow_symlinks: bool = False  # True: links into the watch folder's tree are converted.
    # The largest report, in bytes of WSJF: WATS runs on IIS, whose default request limit
    # (maxAllowedContentLength) is 30,000,000 bytes; a bigger report could never be uploaded.
    max_report_size: ByteSize = 30_000_000
    # All reports of one input together: the daemon holds them in memory (several times this)
    # while it queues them.
    max_output_size: ByteSize = 30_000_000
    # Built-in converters convert a bigger input (or one that makes more WSJF than this) in a
    # child process, whose memory goes back to the system when it ends; 0: every input.
    child_process_above: ByteSize = 1 << 20
    alarm_threshold: float = 0.5
    reject_threshold: float = 0.2
    ready_marker: str = ""
    min_files: int = 0
    schedule: str = ""
    run_at_startup: bool = False
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)
    station: ConverterStation = msgspec.field(default_factory=ConverterStation)

    @property
    def done_dir(self) -> Path:
        """Where converted sources go (``done``, or ``<watch>/Done``)."""
        return Path(self.done).expanduser() if self.done else Path(self.watch).expanduser() / "Done"

    @property
    def error_dir(self) -> Path:
        """Where sources that failed to convert go (``error``, or ``<watch>/Error``)."""
        return (
            Path(self.error).expanduser() if self.error else Path(self.watch).expanduser() / "Error"
        )


class StationConfig(_Section):
    """The whole configuration file."""

    schema_version: int = SCHEMA_VERSION
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    station: StationInfo = msgspec.field(default_factory=StationInfo)
    queue: QueueConfig = msgspec.field(default_factory=QueueConfig)
    sync: SyncConfig = msgspec.field(default_factory=SyncConfig)
    connection: ConnectionConfig = msgspec.field(default_factory=ConnectionConfig)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)
    converters: list[ConverterConfig] = msgspec.field(default_factory=list)


# --- sizes and addresses ----------------------------------------------------------------------

_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*")
_DECIMAL_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_BINARY_UNITS = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS |= _DECIMAL_UNITS | _BINARY_UNITS
_UNIT_NAMES = {"kib": "KiB", "mib": "MiB", "gib": "GiB", "tib": "TiB"}
_UNIT_NAMES |= {"kb": "kB", "mb": "MB", "gb": "GB", "tb": "TB"}


def parse_size(value: object) -> int:
    """Parse a byte count: an integer, or a string such as ``"500 MB"`` or ``"1.5 GiB"``.

    Decimal units (kB, MB, GB, TB) are powers of 1000, binary ones (KiB … TiB) of 1024; units are
    case-insensitive and a fractional result is rounded down.

    Raises:
        ValueError: If ``value`` is negative, a bool, or not a size.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and (match := _SIZE_RE.fullmatch(value)):
        unit = _UNITS.get(match.group(2).lower())
        if unit is not None:
            try:
                return int(Decimal(match.group(1)) * unit)
            except InvalidOperation:  # pragma: no cover - the regex admits only digits
                pass
    raise ValueError(
        f'must be a number of bytes or a size such as "500 MB" or "1 GiB"; got {value!r}'
    )


def format_size(size: int) -> int | str:
    """Render a byte count the way a person would write it, exactly: ``1 GiB``, ``500 MB``.

    Returns the integer itself when no unit divides it, so ``parse_size(format_size(n)) == n``.
    """
    for unit in ("tib", "gib", "mib", "kib", "tb", "gb", "mb", "kb"):
        factor = _UNITS[unit]
        if size >= factor and size % factor == 0:
            return f"{size // factor} {_UNIT_NAMES[unit]}"
    return size


def parse_listen(listen: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:8765`` for IPv6) into host and port.

    Port ``0`` means "any free port" (tests, several daemons on one machine): the daemon writes
    the port it got to the status file and ``<runtime>/control.port``.

    Raises:
        ValueError: If the address is malformed or the port is not 0-65535.
    """
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^\s:\[\]]+):(\d{1,5})", listen)
    if not match:
        raise ValueError(f'must be "host:port" (IPv6: "[::1]:port"); got {listen!r}')
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0-65535 (0: any free port); got {port}")
    return host, port


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # A host name other than localhost may resolve anywhere.
        return False


def document(config: StationConfig) -> dict[str, Any]:
    """The configuration as a TOML-ready dict (sizes written the way people write them)."""
    # TOML has dates and times of its own: keep those in converter arguments as they are.
    document: dict[str, Any] = msgspec.to_builtins(config, builtin_types=(date, datetime, time))
    document["queue"]["max_bytes"] = format_size(config.queue.max_bytes)
    for conv, conv_doc in zip(config.converters, document["converters"], strict=True):
        conv_doc["max_file_size"] = format_size(conv.max_file_size)
        for key in ("max_report_size", "max_output_size", "child_process_above"):
            conv_doc[key] = format_size(getattr(conv, key))
    return document
