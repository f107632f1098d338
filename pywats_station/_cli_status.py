"""``pywats-station status`` and ``pywats-station control …``: the running daemon seen from a shell.

``status`` asks the daemon over its control channel when it runs (``station.status``,
``converters.list`` and ``station.tree``, fresh to the moment) and merges that over the status
file it writes every two seconds; when the channel cannot be reached (an old token, TLS it cannot
verify, the channel still binding) the file alone answers. ``"source"`` in the JSON says which.

Neither needs a valid configuration file: the daemon is found through the instance's paths (the
status file names the channel's URL and certificate, the token has its own file), so an invalid
file saved while the daemon runs does not blind the operator. ``status`` shows that problem
(``config_problem``: the daemon's own report, or the command's check of the file), says whether
the station is healthy and why not (:mod:`pywats_station._cli_health`), and exits accordingly.

``control token`` prints the control token (``--path``: its file); ``control url`` where the
channel listens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import ssl
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from pywats_station._cli_common import (
    CliError,
    ExitCode,
    InstanceConfig,
    instance_config,
    load_instance_config,
    paths_of,
)
from pywats_station._cli_health import exit_code, reasons

__all__ = ["cmd_control", "cmd_status", "daemon_url", "live_status", "open_daemon_client"]

log = logging.getLogger("pywats_station.cli")

_TIMEOUT = 5.0
# What the channel's converter entries add to (or refresh in) the status file's: its `state`
# stays the converter's own (watching, scheduled, broken …); the actor's is `actor_state`.
_CONVERTER_FIELDS = (
    "enabled",
    "converted",
    "failed",
    "restarts",
    "last_file",
    "refused",
    "last_refused",
)


def _client_ssl(url: str, cert: str | None) -> ssl.SSLContext | None:
    """For ``wss://`` on this machine: trust the channel's certificate (often self-signed)."""
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context()
    # A certificate from a public CA verifies without it.
    if cert is not None:
        with contextlib.suppress(OSError, ssl.SSLError):
            context.load_verify_locations(cafile=cert)
    # The certificate names the station; we connect to it over loopback.
    context.check_hostname = False
    return context


def _tls_cert(paths: Any, snapshot: Any) -> str | None:
    """The channel's certificate: the running daemon's (status file), else the config's."""
    if snapshot is not None and snapshot.control_tls_cert:
        return str(snapshot.control_tls_cert)
    found = instance_config(paths)
    cert = found.config.control.tls_cert
    if found.problem is not None or not cert:
        return None
    path = Path(os.path.expandvars(cert)).expanduser()
    return str(path if path.is_absolute() else paths.config_file.parent / path)


def open_daemon_client(paths: Any, url: str, snapshot: Any = None) -> Any:
    """A connected ``BlockingClient`` to the daemon's channel at ``url``; the caller closes it.

    Args:
        paths: The instance (its control token file).
        url: The channel (:func:`daemon_url`).
        snapshot: The daemon's status file, read already (for a ``wss://`` certificate).

    Raises:
        ControlError, ControlTokenError, OSError, TimeoutError, ValueError: it cannot be used.
    """
    from pywats_station.control import BlockingClient, read_control_token

    token = read_control_token(paths.control_token_file)
    options: dict[str, Any] = {"connect_timeout": _TIMEOUT}
    context = _client_ssl(url, _tls_cert(paths, snapshot))
    if context is not None:
        options["ssl_context"] = context
    client = BlockingClient(url, token, timeout=_TIMEOUT, **options)
    client.open()
    return client


def daemon_url(paths: Any, snapshot: Any = None) -> str | None:
    """The running daemon's control channel URL from its status file, if it is listening."""
    from pywats_station.status import read_status

    snapshot = snapshot if snapshot is not None else read_status(paths)
    control = (snapshot.control or {}) if snapshot is not None else {}
    url = control.get("url")
    return url if isinstance(url, str) and control.get("state") == "listening" else None


def live_status(paths: Any, url: str, snapshot: Any = None) -> dict[str, Any] | None:
    """``station.status``, the converters and the tree over the channel; ``None`` if it fails."""
    from pywats_station.control import ControlError
    from pywats_station.control.auth import ControlTokenError

    try:
        with contextlib.closing(open_daemon_client(paths, url, snapshot)) as client:
            status: dict[str, Any] = client.call("station.status")
            status["converters"] = client.call("converters.list")["converters"]
            status["tree"] = client.call("station.tree")
            return status
    except (ControlError, ControlTokenError, OSError, TimeoutError, ValueError) as exc:
        log.info("control channel %s not usable (%s); showing the status file", url, exc)
        return None


def _merge(data: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The status file's data with the channel's fresher values over it."""
    by_name = {conv["name"]: conv for conv in data.get("converters", [])}
    merged = {**data, **{k: v for k, v in live.items() if k != "converters"}}
    converters = []
    for info in live["converters"]:
        entry = dict(by_name.pop(info["name"], {"name": info["name"], "kind": info["kind"]}))
        entry.update({name: info[name] for name in _CONVERTER_FIELDS if name in info})
        entry.setdefault("state", info["state"])
        if entry["state"] == "broken" and not entry.get("error"):
            entry["error"] = info.get("last_error")  # broken since the status file was written
        entry["actor_state"] = info["state"]
        converters.append(entry)
    merged["converters"] = converters + list(by_name.values())
    merged["source"] = "control"
    return merged


def cmd_status(args: argparse.Namespace) -> int:
    """``pywats-station status [--json]``: the exit code says whether the station is healthy."""
    from pywats_station.status import read_status

    paths = paths_of(args)
    found = instance_config(paths)
    snapshot = read_status(paths)
    if snapshot is None:
        queue = _offline_queue_stats(paths, found)
        data: dict[str, Any] = {"running": False, "instance": paths.instance, "queue": queue}
        if queue.pop("starting", False):
            data["starting"] = True
    else:
        data = {"running": True, **msgspec.to_builtins(snapshot), "source": "status_file"}
        # An idle daemon writes its status only when it changes: its uptime is counted here.
        data["uptime"] = max(0.0, time.time() - snapshot.started_at)
        url = daemon_url(paths, snapshot)
        if url is not None:
            live = live_status(paths, url, snapshot)
            if live is not None:
                data = _merge(data, live)
    # The daemon's own report first (it knows what it refused); else this command's check of
    # the file, which also covers the moments before the daemon next looks at it.
    data["config_problem"] = data.get("config_problem") or found.problem
    found_reasons = reasons(data)
    data["healthy"] = not found_reasons
    data["reasons"] = found_reasons
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_status(data)
    return exit_code(data, found_reasons)


def _print_status(data: dict[str, Any]) -> None:
    if data.get("starting"):
        print(
            f"instance {data['instance']}: starting (a daemon holds the queue; its status "
            "follows in a few seconds)"
        )
    elif not data["running"]:
        print(f"instance {data['instance']}: daemon not running")
        queue = data["queue"]
        if "error" in queue:
            print(f"queue: {queue['error']}")
        else:
            print(f"queue: {queue['depth']} waiting, {queue['dead']} dead, {queue['bytes']} bytes")
    else:
        _print_running(data)
    problem = data.get("config_problem")
    if problem:
        if data["running"]:
            print(
                "config file: invalid and not applied (the daemon runs on the configuration it "
                "loaded before; fix the file, `pywats-station config check` names every problem):"
            )
        else:
            print("config file: cannot be used:")
        for line in str(problem).splitlines():
            print(f"  {line}")
    if data["healthy"]:
        print("healthy")
        return
    print("needs attention:")
    for reason in data["reasons"]:
        print(f"  - {reason}")


def _print_running(data: dict[str, Any]) -> None:
    q, counters = data["queue"], data["counters"]
    uptime = _duration(data["uptime"])
    print(f"instance {data['instance']}: running (pid {data['pid']}, up {uptime})")
    print(f"station: {data['station']}")
    # The daemon's own words: "no API token is set: run `pywats-station login` …", "401: …".
    error = data.get("connection_error")
    conn = data["connection"] + (f" ({error})" if error else "")
    print(f"server: {data['server_url'] or '(not configured)'}: {conn}")
    print(
        f"queue: {q.get('depth')} waiting, {q.get('dead')} dead, {q.get('failed')} retrying; "
        f"uploaded {counters['uploaded']} since start"
    )
    wait = data.get("upload_wait")
    if wait and float(wait["until"]) > time.time():  # the status file may be older than its end
        until = datetime.fromtimestamp(float(wait["until"])).astimezone()
        left = _duration(float(wait["until"]) - time.time() + 0.999)  # rounded up
        print(
            f"uploads: waiting until {until.isoformat(sep=' ', timespec='seconds')} "
            f"(in {left}): {wait['detail']}"
        )
    print(f"processes cached: {data['processes_cached']}")
    for conv in data.get("converters", []):
        note = f" ({conv['error']})" if conv.get("error") else ""
        # Hub mode: a converter with a [converters.station] of its own says whom it reports as.
        own = conv.get("station") or {}
        station = f", as station {own['name']} ({own['location']}, {own['purpose']})" if own else ""
        print(
            f"converter {conv['name']}: {conv.get('state')}{note}, converted "
            f"{conv.get('converted', 0)}, failed {conv.get('failed', 0)}{station}"
        )
        if conv.get("refused"):
            # Links, FIFOs, folders named like reports: left where they are, said here too.
            print(f"  {conv['refused']} left alone in the watch folder: {conv.get('last_refused')}")
    control = data.get("control") or {}
    if control.get("state") == "listening":
        print(f"control channel: {control['url']}")
    elif control.get("state") == "retrying":
        print(f"control channel: not listening ({control.get('error')}); retrying")
    if data.get("source") == "status_file":
        print("(from the status file: the control channel did not answer)")


def _offline_queue_stats(paths: Any, found: InstanceConfig) -> dict[str, Any]:
    from pywats_station.queue import QueueError, QueueLocked, ReportQueue

    if found.problem is not None and not found.missing:
        # `queue.path` may move the queue: an invalid file cannot say where it is.
        return {"error": "not read: the configuration that says where the queue is is invalid"}
    config = found.config
    queue_dir = config.queue.directory(paths)
    if not queue_dir.exists():
        return {"depth": 0, "dead": 0, "bytes": 0}
    try:
        with ReportQueue.open(queue_dir, max_bytes=config.queue.max_bytes) as queue:
            stats: dict[str, Any] = msgspec.to_builtins(queue.stats())
            return stats
    except QueueLocked:
        # A daemon holds the queue but has not written its status yet: it is starting.
        return {"starting": True}
    except QueueError as exc:
        return {"error": str(exc)}


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def cmd_control(args: argparse.Namespace) -> int:
    """``pywats-station control token [--admin] [--path]`` and ``pywats-station control url``."""
    paths = paths_of(args)
    if args.control_command == "url":
        print(_control_url(paths))
        return ExitCode.OK
    path = paths.control_admin_token_file if args.admin else paths.control_token_file
    if args.path:
        print(path)  # also before the daemon created it: where it will be
        return ExitCode.OK
    from pywats_station.control import read_control_token
    from pywats_station.control.auth import ControlTokenError

    try:
        print(read_control_token(path))
    except FileNotFoundError:
        raise CliError(
            f"no control token at {path} yet: the daemon creates it when it "
            "starts; start it once (pywats-station run, or its systemd service)",
            ExitCode.CONFIG,
        ) from None
    except ControlTokenError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from exc
    return ExitCode.OK


def _control_url(paths: Any) -> str:
    """The running daemon's channel URL, else the one the configuration promises."""
    from pywats_station.actors.control import client_url
    from pywats_station.config import parse_listen
    from pywats_station.status import read_status

    snapshot = read_status(paths)
    control = (snapshot.control or {}) if snapshot is not None else {}
    if isinstance(control.get("url"), str):
        return str(control["url"])
    config = load_instance_config(paths, required=False)
    host, port = parse_listen(config.control.listen)
    if port == 0:
        raise CliError(
            "the control port is chosen when the daemon starts (listen port 0), and it is not "
            "listening now",
            ExitCode.UNREACHABLE,
        )
    return client_url(host, port, tls=bool(config.control.tls_cert))
