"""What ``config show`` and ``config init`` print: the redacted configuration, the starter file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec
import tomli_w

from pywats_station._config_schema import (
    SCHEMA_VERSION,
    ConverterConfig,
    StationConfig,
    document,
    format_size,
)
from pywats_station.paths import InstancePaths
from pywats_station.server_access import proxy_without_password

__all__ = ["default_config_text", "redacted"]

_SECRET_NAME = re.compile(r"pass|secret|token|key|credential|auth", re.IGNORECASE)


def _redact_arguments(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_NAME.search(k) else _redact_arguments(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_arguments(item) for item in value]
    return value


def redacted(config: StationConfig) -> dict[str, Any]:
    """The configuration as a plain dict that is safe to show (``config show``, control channel).

    The token becomes ``"***"`` (empty stays empty, so "no token here" is still visible), a
    password in the server URL or the proxy URL becomes ``***``, and converter arguments whose
    name suggests a secret (password, token, key, …) become ``"***"``.
    """
    doc = document(config)
    server = doc["server"]
    if server["token"]:
        server["token"] = "***"
    parts = urlsplit(server["url"])
    if parts.password is not None:
        server["url"] = parts._replace(
            netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        ).geturl()
    # The proxy's password belongs in the secret store (`pywats-station proxy`); if the file
    # has one in the URL all the same, it is not shown.
    server["proxy"] = proxy_without_password(server["proxy"])
    for conv in doc["converters"]:
        conv["arguments"] = _redact_arguments(conv["arguments"])
    return msgspec.to_builtins(doc)  # type: ignore[no-any-return]  # JSON-safe


def _inline(value: Any) -> str:
    """A TOML inline value (tomli-w only writes arrays over several lines)."""
    if isinstance(value, list):
        return "[" + ", ".join(map(_inline, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + "}"
    return tomli_w.dumps({"v": value})[4:].strip()


_HELP = {
    "server.url": "empty = not configured (reports wait in the queue)",
    "server.token": "discouraged: use `pywats-station login`",
    "server.token_file": "e.g. ${CREDENTIALS_DIRECTORY}/token",
    "server.timeout": "seconds per request",
    "server.verify_tls": "check the server's TLS certificate",
    "server.ca_file": "PEM bundle of a private CA (absolute path)",
    "server.proxy": '"system" (environment), "none" or a URL',
    "server.requests_per_minute": "client-side limit (WATS allows 500); 0: none",
    "station.name": "default: the host name",
    "queue.path": "default: {queue_dir}",
    "queue.max_bytes": 'bytes, or "500 MB", "2 GiB"; full = files wait',
    "queue.upload_workers": "parallel uploads, 1-64",
    "sync.interval": "seconds between process/product list syncs",
    "connection.check_interval": "seconds between server health checks",
    "control.listen": "loopback only, unless TLS or allow_remote; port 0: any",
    "control.tls_cert": "PEM files; both set = the channel uses TLS",
    "control.allow_remote": "non-loopback listen without TLS",
    "log.level": "debug, info, warning, error or critical",
    "converters.name": "unique",
    "converters.kind": 'built-in kind, "module:Class" or a .py file',
    "converters.enabled": "false keeps the entry but does not run it",
    "converters.type": "file, folder (a sub-folder per input), scheduled",
    "converters.done": "default: <watch>/Done",
    "converters.error": "default: <watch>/Error",
    "converters.post_action": "move (to done), delete, zip or keep",
    "converters.patterns": "file (folder: sub-folder) names, any case; [] = the converter's",
    "converters.settle": "seconds a file must stay unchanged",
    "converters.timeout": "seconds one conversion may take in a child process",
    "converters.memory_mb": "memory limit of a converter's child process",
    "converters.worker_max_files": "inputs a user converter's child serves before a fresh one",
    "converters.worker_idle_exit": "seconds idle before that child ends (0: never)",
    "converters.max_file_size": "bigger inputs go to Error unread",
    "converters.follow_symlinks": "convert links that stay inside the watch folder",
    "converters.max_report_size": "largest report (WSJF) the server accepts",
    "converters.max_output_size": "most WSJF of reports from one input",
    "converters.child_process_above": "built-ins convert bigger inputs in a child",
    "converters.alarm_threshold": "confidence below this is flagged",
    "converters.reject_threshold": "confidence below this is rejected",
    "converters.ready_marker": "folder type: ready once this file exists",
    "converters.min_files": "folder type: ... or holds this many files",
    "converters.schedule": 'scheduled type: "every 5m" or cron expression',
    "converters.run_at_startup": "scheduled type: also run once at start",
    "converters.arguments": "converter-specific, checked by the converter",
}


def _section_lines(section: str, values: Mapping[str, Any], paths: InstancePaths) -> list[str]:
    lines = []
    for key, value in values.items():
        shown = f"{key} = {_inline(value)}"
        if not (section == "server" and key == "url"):  # the one key everybody sets
            shown = "# " + shown
        help_text = _HELP.get(f"{section}.{key}", "").replace("{queue_dir}", str(paths.queue_dir))
        lines.append(f"{shown:<36} # {help_text}" if help_text else shown)
    return lines


def default_config_text(paths: InstancePaths) -> str:
    """The commented configuration ``pywats-station config init`` writes.

    Every key appears with its default (commented out, except ``server.url``), so the file
    documents itself and is valid as written.

    Args:
        paths: The instance the file is for (its folders appear in the comments).
    """
    doc = document(StationConfig())
    lines = [
        f"# pywats-station configuration, instance {paths.instance!r} ({paths.config_file}).",
        "# Every key is optional; a commented line shows the default. Check the file with",
        "# `pywats-station config check`. Store the API token with `pywats-station login`",
        f"# (encrypted, in {paths.secrets_dir}), not here.",
        "",
        f"schema_version = {SCHEMA_VERSION}",
    ]
    for section, values in doc.items():
        if isinstance(values, dict):
            lines += ["", f"[{section}]", *_section_lines(section, values, paths)]
    example = msgspec.to_builtins(
        ConverterConfig(
            name="wsjf", kind="wsjf", watch="/srv/test-results/wsjf", patterns=["*.json"]
        )
    )
    for key in ("max_file_size", "max_report_size", "max_output_size", "child_process_above"):
        example[key] = format_size(example[key])
    lines += ["", "# One [[converters]] table per watched folder, for example:", "# [[converters]]"]
    lines += _section_lines("converters", example, paths)
    if paths.instance != "default":
        # Only one instance can have the default control port: a named one takes any free port
        # (`pywats-station --instance NAME control url` tells which).
        lines = [
            'listen = "127.0.0.1:0"  # any free port: see `pywats-station control url`'
            if line.lstrip("# ").startswith("listen =")
            else line
            for line in lines
        ]
    return "\n".join(lines) + "\n"
