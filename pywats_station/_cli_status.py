"""``pywats-station status`` and ``pywats-station control …``: the running daemon seen from a shell.

``status`` asks the daemon over its control channel when it runs (``station.status`` and
``converters.list``, fresh to the moment) and merges that over the status file it writes every
two seconds; when the channel cannot be reached (an old token, TLS it cannot verify, the
channel still binding) the file alone answers. ``"source"`` in the JSON says which.

``control token`` prints the control token (``--path``: its file); ``control url`` where the
channel listens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import ssl
from pathlib import Path
from typing import Any

import msgspec

from pywats_station._cli_common import CliError, ExitCode, load_instance_config, paths_of

__all__ = ["cmd_control", "cmd_status", "daemon_url", "live_status", "open_daemon_client"]

log = logging.getLogger("pywats_station.cli")

_TIMEOUT = 5.0
# What the channel's converter entries add to (or refresh in) the status file's: its `state`
# stays the converter's own (watching, scheduled, broken …); the actor's is `actor_state`.
_CONVERTER_FIELDS = ("enabled", "converted", "failed", "restarts", "last_file")


def _client_ssl(url: str, config: Any, base_dir: Path) -> ssl.SSLContext | None:
    """For ``wss://`` on this machine: trust the configured certificate (often self-signed)."""
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context()
    cert = Path(config.control.tls_cert).expanduser()
    if not cert.is_absolute():
        cert = base_dir / cert  # as the daemon resolves it
    # A certificate from a public CA verifies without it.
    with contextlib.suppress(OSError, ssl.SSLError):
        context.load_verify_locations(cafile=cert)
    # The certificate names the station; we connect to it over loopback.
    context.check_hostname = False
    return context


def open_daemon_client(paths: Any, url: str, config: Any) -> Any:
    """A connected ``BlockingClient`` to the daemon's channel at ``url``; the caller closes it.

    Raises:
        ControlError, ControlTokenError, OSError, TimeoutError, ValueError: it cannot be used.
    """
    from pywats_station.control import BlockingClient, read_control_token

    token = read_control_token(paths.control_token_file)
    options: dict[str, Any] = {"connect_timeout": _TIMEOUT}
    context = _client_ssl(url, config, paths.config_file.parent)
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


def live_status(paths: Any, url: str, config: Any) -> dict[str, Any] | None:
    """``station.status`` with the converters, over the control channel; ``None`` if it fails."""
    from pywats_station.control import ControlError
    from pywats_station.control.auth import ControlTokenError

    try:
        with contextlib.closing(open_daemon_client(paths, url, config)) as client:
            status: dict[str, Any] = client.call("station.status")
            status["converters"] = client.call("converters.list")["converters"]
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
        entry.update({name: info[name] for name in _CONVERTER_FIELDS})
        entry.setdefault("state", info["state"])
        entry["actor_state"] = info["state"]
        converters.append(entry)
    merged["converters"] = converters + list(by_name.values())
    merged["source"] = "control"
    return merged


def cmd_status(args: argparse.Namespace) -> int:
    """``pywats-station status [--json]``."""
    from pywats_station.status import read_status

    paths = paths_of(args)
    snapshot = read_status(paths)
    if snapshot is None:
        data: dict[str, Any] = {
            "running": False,
            "instance": paths.instance,
            "queue": _offline_queue_stats(paths),
        }
    else:
        data = {"running": True, **msgspec.to_builtins(snapshot), "source": "status_file"}
        url = daemon_url(paths, snapshot)
        if url is not None:
            config = load_instance_config(paths, required=False)
            live = live_status(paths, url, config)
            if live is not None:
                data = _merge(data, live)
    if args.json:
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    _print_status(data)
    return ExitCode.OK


def _print_status(data: dict[str, Any]) -> None:
    if not data["running"]:
        print(f"instance {data['instance']}: daemon not running")
        queue = data["queue"]
        if "error" in queue:
            print(f"queue: {queue['error']}")
        else:
            print(f"queue: {queue['depth']} waiting, {queue['dead']} dead, {queue['bytes']} bytes")
        return
    q, counters = data["queue"], data["counters"]
    uptime = _duration(data["uptime"])
    print(f"instance {data['instance']}: running (pid {data['pid']}, up {uptime})")
    print(f"station: {data['station']}")
    error = data.get("connection_error")
    conn = data["connection"] + (f" ({error})" if error else "")
    print(f"server: {data['server_url'] or '(not configured)'}: {conn}")
    print(
        f"queue: {q.get('depth')} waiting, {q.get('dead')} dead, {q.get('failed')} retrying; "
        f"uploaded {counters['uploaded']} since start"
    )
    print(f"processes cached: {data['processes_cached']}")
    for conv in data.get("converters", []):
        note = f" ({conv['error']})" if conv.get("error") else ""
        print(
            f"converter {conv['name']}: {conv.get('state')}{note}, converted "
            f"{conv.get('converted', 0)}, failed {conv.get('failed', 0)}"
        )
    control = data.get("control") or {}
    if control.get("state") == "listening":
        print(f"control channel: {control['url']}")
    elif control.get("state") == "retrying":
        print(f"control channel: not listening ({control.get('error')}); retrying")
    if data.get("source") == "status_file":
        print("(from the status file: the control channel did not answer)")


def _offline_queue_stats(paths: Any) -> dict[str, Any]:
    from pywats_station.queue import QueueError, ReportQueue

    config = load_instance_config(paths, required=False)
    queue_dir = config.queue.directory(paths)
    if not queue_dir.exists():
        return {"depth": 0, "dead": 0, "bytes": 0}
    try:
        with ReportQueue.open(queue_dir, max_bytes=config.queue.max_bytes) as queue:
            stats: dict[str, Any] = msgspec.to_builtins(queue.stats())
            return stats
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
