"""The station's configuration: one TOML file per instance, a typed schema, named errors.

The predecessor lost settings in every direction: five files that disagreed, 21 keys its
serialiser forgot, package defaults in a schema its loader silently discarded, tokens in plain
text. This module is the opposite:

* one file, found by :func:`pywats_station.paths.instance_paths`;
* a msgspec schema in which every key has a default, so an empty file is a valid configuration;
* validation that reports *every* problem at once, each named by its TOML key
  (``converters[1].post_action: must be one of move, delete, zip, keep; got 'archive'``);
* unknown keys are tolerated (a newer version may have written them) and reported as warnings,
  never dropped without a word; a file for a newer schema version is refused;
* saving is atomic (temp file, fsync, rename) and keeps ``config.toml.bak``, the previous good
  file, which :func:`read_config` can fall back to. Every key of the schema survives a save and
  a load (a test checks this generically); comments and unknown keys do not;
* environment overrides: ``PYWATS_SERVER_URL`` replaces ``server.url`` in the loaded
  configuration and is never written back by :func:`save_config`. ``PYWATS_API_TOKEN`` is
  deliberately *not* copied into the configuration object, so it can never be saved or shown;
  :func:`pywats_station.secrets.resolve_token` reads it first.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

import msgspec
import tomli_w

from pywats.validation import FieldLimits
from pywats_station._config_schema import (
    BYTE_SIZE,
    SCHEMA_VERSION,
    ConnectionConfig,
    ControlConfig,
    ConverterConfig,
    ConverterStation,
    LogConfig,
    QueueConfig,
    ServerConfig,
    StationConfig,
    StationInfo,
    SyncConfig,
    document,
    format_size,
    is_loopback,
    parse_listen,
    parse_size,
)
from pywats_station._config_text import default_config_text, redacted
from pywats_station.paths import atomic_write

__all__ = [
    "SCHEMA_VERSION",
    "ConfigError",
    "ConfigProblem",
    "ConnectionConfig",
    "ControlConfig",
    "ConverterConfig",
    "ConverterStation",
    "LoadedConfig",
    "LogConfig",
    "QueueConfig",
    "ServerConfig",
    "StationConfig",
    "StationInfo",
    "SyncConfig",
    "config_from_dict",
    "default_config_text",
    "diff_config",
    "format_size",
    "load_config",
    "parse_listen",
    "parse_size",
    "read_config",
    "redacted",
    "save_config",
    "set_server_url",
    "set_server_value",
    "validate",
]

_log = logging.getLogger(__name__)
URL_ENV = "PYWATS_SERVER_URL"

# --- problems -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One problem (or warning) in a configuration, named by its TOML key path."""

    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(Exception):
    """A configuration that cannot be used; ``problems`` lists every reason at once.

    Attributes:
        problems: All errors found (never empty).
        path: The file, when the configuration came from one.
        line: 1-based line of a TOML syntax error.
        column: 1-based column of a TOML syntax error.
    """

    def __init__(
        self,
        problems: list[ConfigProblem],
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problems = problems
        self.path = path
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) if self.path else "configuration"
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        if len(self.problems) == 1:
            return f"{where}: {self.problems[0]}"
        return f"{where}: {len(self.problems)} problems:\n" + "\n".join(
            f"  {problem}" for problem in self.problems
        )


@dataclass(frozen=True)
class LoadedConfig:
    """What :func:`read_config` found.

    Attributes:
        config: The effective configuration (environment overrides applied).
        path: The file actually read (the ``.bak`` after a fallback).
        from_backup: Whether the main file was unusable and the previous good copy was used.
        warnings: Unknown keys, readable plain-text tokens, the fallback itself.
        overrides: Keys replaced from the environment, with the variable's name.
    """

    config: StationConfig
    path: Path
    from_backup: bool = False
    warnings: list[ConfigProblem] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)


# --- decoding: raw TOML -> schema, collecting every problem -------------------------------------


class _Invalid(Exception):
    """A value that does not fit its field; ``where`` names an item inside it (``[1]``)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


def _join(prefix: str, key: str) -> str:
    name = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else repr(key)
    return f"{prefix}.{name}" if prefix else name


def _is_struct(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _decode_struct(cls: Any, raw: object, key: str, problems: list[ConfigProblem]) -> Any:
    """Build ``cls`` from a TOML table, converting field by field so every bad key is reported."""
    if not isinstance(raw, dict):
        problems.append(ConfigProblem(key, f"must be a table; got {type(raw).__name__}"))
        return cls()
    fields = {info.encode_name: info for info in msgspec.structs.fields(cls)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        sub = _join(key, name)
        info = fields.get(name)
        if info is None:
            # A typo is the usual cause: name the key that was probably meant.
            close = difflib.get_close_matches(name, fields, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(ConfigProblem(sub, f"unknown key (ignored){hint}", "warning"))
            continue
        try:
            values[info.name] = _decode_value(info.type, value, sub, problems)
        except _Invalid as exc:
            problems.append(ConfigProblem(sub + exc.where, str(exc)))
    return cls(**values)


def _decode_value(tp: Any, value: object, key: str, problems: list[ConfigProblem]) -> Any:
    if _is_struct(tp):
        return _decode_struct(tp, value, key, problems)
    origin, args = get_origin(tp), get_args(tp)
    if origin is list and _is_struct(args[0]):
        if not isinstance(value, list):
            raise _Invalid(f"must be an array of tables ([[{key}]]); got {type(value).__name__}")
        return [
            _decode_struct(args[0], item, f"{key}[{i}]", problems) for i, item in enumerate(value)
        ]
    if origin is Annotated and BYTE_SIZE in args[1:]:
        try:
            return parse_size(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
    if origin is Literal:
        # Enumerations are case-insensitive ("INFO" is as clear as "info").
        choice = value.lower() if isinstance(value, str) else value
        if choice not in args:
            raise _Invalid(f"must be one of {', '.join(args)}; got {value!r}")
        return choice
    try:
        return msgspec.convert(value, tp)
    except msgspec.ValidationError as exc:
        # "Expected `str`, got `int` - at `$[1]`" -> "key[1]: expected str, got int"
        text, _, where = str(exc).partition(" - at `$")
        text = text.replace("`", "")
        raise _Invalid(text[:1].lower() + text[1:], where.rstrip("`")) from None


def _check_version(raw: dict[str, Any]) -> None:
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        message = f"must be a positive integer; got {version!r}"
    elif version > SCHEMA_VERSION:
        message = (
            f"this file is for schema version {version}, written by a newer pywats-station; this "
            f"one reads version {SCHEMA_VERSION} and older: upgrade pywats-station"
        )
    else:
        # Older versions get migrated here (and the upgrade reported) once version 2 exists.
        return
    raise ConfigError([ConfigProblem("schema_version", message)])


def config_from_dict(
    raw: dict[str, Any], *, env: Mapping[str, str] | None = None
) -> tuple[StationConfig, list[ConfigProblem], dict[str, str]]:
    """Decode and validate a parsed TOML document.

    Args:
        raw: The document, as returned by ``tomllib``.
        env: Environment for the overrides (none when ``None``).

    Returns:
        The effective configuration, its warnings, and the keys overridden from ``env``.

    Raises:
        ConfigError: With every problem found.
    """
    _check_version(raw)
    problems: list[ConfigProblem] = []
    config: StationConfig = _decode_struct(StationConfig, raw, "", problems)
    config = _builtin_types(config, raw)
    overrides: dict[str, str] = {}
    if env and env.get(URL_ENV):
        config = msgspec.structs.replace(
            config, server=msgspec.structs.replace(config.server, url=env[URL_ENV])
        )
        overrides["server.url"] = URL_ENV
    reported = {problem.key for problem in problems}
    # A value that failed to decode was replaced by its default; checks that then fail on the
    # default (e.g. a threshold pair) would only add noise next to the real problem.
    for problem in validate(config):
        if problem.key in overrides:
            problem = ConfigProblem(
                problem.key, f"{problem.message} (set by {overrides[problem.key]})"
            )
        if problem.key not in reported:
            problems.append(problem)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return config, [p for p in problems if p.severity == "warning"], overrides


def _builtin_types(config: StationConfig, raw: dict[str, Any]) -> StationConfig:
    """A built-in converter whose entry says no ``type`` gets its own (``kind = "klippel"`` is
    a folder converter without ``type = "folder"``); a user converter's stays ``file``."""
    entries = raw.get("converters")
    if not isinstance(entries, list) or len(entries) != len(config.converters):
        return config
    changed = False
    converters = list(config.converters)
    for index, (entry, conv) in enumerate(zip(entries, converters, strict=True)):
        if not isinstance(entry, dict) or "type" in entry or not conv.kind:
            continue
        from pywats_station.converters.registry import BUILTINS  # only when a kind may need it

        cls = BUILTINS.get(conv.kind.strip().lower())
        own = str(getattr(cls, "type", "file")) if cls is not None else "file"
        if own != conv.type and own in ("file", "folder", "scheduled"):
            converters[index] = msgspec.structs.replace(conv, type=own)
            changed = True
    return msgspec.structs.replace(config, converters=converters) if changed else config


# --- semantic checks ------------------------------------------------------------------------


def _positive(problems: list[ConfigProblem], key: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        problems.append(ConfigProblem(key, f"must be a number greater than 0; got {value!r}"))


# Control characters (tab and line breaks included): a station's name is one line of text.
_CONTROL = re.compile("[\x00-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def _check_station(
    problems: list[ConfigProblem], key: str, station: StationInfo | ConverterStation
) -> None:
    """Name, location and purpose as WATS takes them: each goes into every report's header."""
    limits = FieldLimits()  # the server's (the C# API's) lengths: stricter than the clients'
    for name, limit in (
        ("name", limits.station),
        ("location", limits.location),
        ("purpose", limits.purpose),
    ):
        value: str = getattr(station, name)
        if value and not value.strip():
            problems.append(ConfigProblem(f"{key}.{name}", "must not be blank (leave it empty)"))
        elif len(value) > limit:
            problems.append(
                ConfigProblem(
                    f"{key}.{name}", f"is {len(value)} characters long; WATS takes at most {limit}"
                )
            )
        elif _CONTROL.search(value):
            problems.append(
                ConfigProblem(
                    f"{key}.{name}", "must be one line of text, without control characters"
                )
            )


def _check_converters(converters: list[ConverterConfig], problems: list[ConfigProblem]) -> None:
    first_index: dict[str, int] = {}
    for i, conv in enumerate(converters):
        key = f"converters[{i}]"

        def bad(name: str, message: str, key: str = key) -> None:
            problems.append(ConfigProblem(f"{key}.{name}", message))

        if not conv.name:
            bad("name", "is required (a unique name for this converter)")
        elif conv.name in first_index:
            bad("name", f"duplicate name {conv.name!r} (also converters[{first_index[conv.name]}])")
        else:
            first_index[conv.name] = i
        if not conv.kind:
            bad("kind", 'is required: a built-in kind, "module:Class" or a path to a .py file')
        if conv.type in ("file", "folder") and not conv.watch:
            bad("watch", f"is required for a {conv.type} converter")
        if conv.type == "scheduled" and not conv.schedule:
            bad("schedule", "is required for a scheduled converter")
        if conv.schedule:
            # Imported here: the converter package is heavier than reading a config needs.
            from pywats_station.converters.schedule import parse_schedule

            try:
                parse_schedule(conv.schedule)
            except ValueError as exc:
                bad("schedule", str(exc))
        if not all(conv.patterns):
            bad(
                "patterns", "must not contain empty patterns (leave the list empty for the default)"
            )
        if not (math.isfinite(conv.timeout) and conv.timeout > 0):
            bad("timeout", f"must be more than 0 seconds; got {conv.timeout!r}")
        if conv.memory_mb < 64:
            bad("memory_mb", f"must be at least 64; got {conv.memory_mb}")
        if conv.worker_max_files < 1:
            bad("worker_max_files", f"must be at least 1; got {conv.worker_max_files}")
        if not (math.isfinite(conv.worker_idle_exit) and conv.worker_idle_exit >= 0):
            bad("worker_idle_exit", f"must be 0 or more seconds; got {conv.worker_idle_exit!r}")
        if conv.max_file_size <= 0:
            bad("max_file_size", f"must be greater than 0; got {conv.max_file_size}")
        for name in ("max_report_size", "max_output_size"):
            if getattr(conv, name) <= 0:
                bad(name, f"must be greater than 0; got {getattr(conv, name)}")
        if not (math.isfinite(conv.settle) and conv.settle >= 0):
            bad("settle", f"must be 0 or more seconds; got {conv.settle!r}")
        if conv.min_files < 0:
            bad("min_files", f"must be 0 or more; got {conv.min_files}")
        for name in ("alarm_threshold", "reject_threshold"):
            value = getattr(conv, name)
            if not 0.0 <= value <= 1.0:
                bad(name, f"must be between 0 and 1; got {value!r}")
        _check_station(problems, f"{key}.station", conv.station)
        if conv.reject_threshold > conv.alarm_threshold:
            bad(
                "reject_threshold",
                f"must not exceed alarm_threshold ({conv.alarm_threshold!r}); "
                f"got {conv.reject_threshold!r}",
            )


def validate(config: StationConfig) -> list[ConfigProblem]:
    """Check the rules a type cannot express; returns every error found (empty when valid).

    Args:
        config: The configuration to check.

    Returns:
        The problems, in key order; all of severity ``error``.
    """
    problems: list[ConfigProblem] = []
    server = config.server
    if server.url:
        try:
            parts = urlsplit(server.url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            valid = False
        if not valid or any(ch.isspace() for ch in server.url):
            problems.append(
                ConfigProblem(
                    "server.url", f"must be an http:// or https:// URL; got {server.url!r}"
                )
            )
    if server.token and server.token_file:
        problems.append(ConfigProblem("server.token", "set either token or token_file, not both"))
    # Imported here: server_access imports this module's types for its own hints.
    from pywats_station.server_access import check_ca_file, check_proxy

    for name, problem in (
        ("proxy", check_proxy(server.proxy)),
        ("ca_file", check_ca_file(server.ca_file)),
    ):
        if problem is not None:
            problems.append(ConfigProblem(f"server.{name}", problem))
    _positive(problems, "server.timeout", server.timeout)
    if server.requests_per_minute < 0:
        problems.append(ConfigProblem("server.requests_per_minute", "must be 0 (no limit) or more"))
    if config.queue.max_bytes <= 0:
        problems.append(ConfigProblem("queue.max_bytes", "must be greater than 0"))
    if not 1 <= config.queue.upload_workers <= 64:
        problems.append(
            ConfigProblem(
                "queue.upload_workers", f"must be 1-64; got {config.queue.upload_workers}"
            )
        )
    _positive(problems, "sync.interval", config.sync.interval)
    _positive(problems, "connection.check_interval", config.connection.check_interval)
    control = config.control
    try:
        host, _port = parse_listen(control.listen)
    except ValueError as exc:
        problems.append(ConfigProblem("control.listen", str(exc)))
    else:
        tls = bool(control.tls_cert and control.tls_key)
        if not is_loopback(host) and not tls and not control.allow_remote:
            problems.append(
                ConfigProblem(
                    "control.listen",
                    f"{host} is not a loopback address: set tls_cert and tls_key, or "
                    "allow_remote = true to accept the control token in clear text",
                )
            )
    if bool(control.tls_cert) != bool(control.tls_key):
        problems.append(ConfigProblem("control.tls_key", "tls_cert and tls_key go together"))
    if control.remote_admin and not (control.tls_cert and control.tls_key):
        problems.append(
            ConfigProblem(
                "control.remote_admin",
                "needs TLS (tls_cert and tls_key): the admin token must not cross the network "
                "in clear text",
            )
        )
    _check_station(problems, "station", config.station)
    _check_converters(config.converters, problems)
    return problems


# --- files ----------------------------------------------------------------------------------


def _backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def _parse(data: bytes, path: Path, env: Mapping[str, str] | None) -> LoadedConfig:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = ConfigProblem("", f"not UTF-8 text (byte {exc.start})")
        raise ConfigError([problem], path=path) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's exception has no lineno/colno attributes; the message carries them.
        reason, _, where = str(exc).rpartition(" (at ")
        match = re.fullmatch(r"line (\d+), column (\d+)\)", where)
        line, column = (int(match[1]), int(match[2])) if match else (text.count("\n") + 1, 1)
        problem = ConfigProblem("", f"not valid TOML: {reason or exc}")
        raise ConfigError([problem], path=path, line=line, column=column) from None
    try:
        config, warnings, overrides = config_from_dict(raw, env=env)
    except ConfigError as exc:
        raise ConfigError(exc.problems, path=path) from None
    return LoadedConfig(config, path, warnings=warnings, overrides=overrides)


def _read(path: Path, env: Mapping[str, str] | None, missing_ok: bool) -> LoadedConfig:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return _parse(b"", path, env)
        message = "no configuration file (create one with `pywats-station config init`)"
        raise ConfigError([ConfigProblem("", message)], path=path) from None
    except OSError as exc:
        raise ConfigError([ConfigProblem("", f"cannot read: {exc.strerror}")], path=path) from None
    loaded = _parse(data, path, env)
    if loaded.config.server.token and os.name == "posix" and path.stat().st_mode & 0o077:
        loaded.warnings.append(
            ConfigProblem(
                "server.token",
                "the API token is in plain text in a file other users can read: use "
                "`pywats-station login` or server.token_file instead",
                "warning",
            )
        )
    return loaded


def read_config(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    missing_ok: bool = False,
    use_backup: bool = False,
) -> LoadedConfig:
    """Load, decode and validate a configuration file, with its warnings.

    Args:
        path: The TOML file.
        env: Environment for the overrides (``os.environ`` when ``None``).
        missing_ok: Return the defaults when the file does not exist.
        use_backup: When the file is unusable (unreadable, not TOML, invalid), load the previous
            good copy ``<path>.bak`` instead and say so in the warnings.

    Returns:
        The configuration and what was noticed while loading it.

    Raises:
        ConfigError: The file (and, if asked, its backup) is unusable; lists every problem, with
            line and column for a TOML syntax error.
    """
    environ = os.environ if env is None else env
    try:
        return _read(path, environ, missing_ok)
    except ConfigError as exc:
        primary = exc
    backup = _backup_path(path)
    if not use_backup or not backup.exists():
        raise primary
    try:
        loaded = _read(backup, environ, missing_ok=False)
    except ConfigError:
        raise primary from None
    fallback = ConfigProblem("", f"{primary}; using the previous good copy {backup}", "warning")
    return LoadedConfig(loaded.config, backup, True, [fallback, *loaded.warnings], loaded.overrides)


def load_config(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    missing_ok: bool = False,
    use_backup: bool = False,
) -> StationConfig:
    """Like :func:`read_config`, returning only the configuration and logging the warnings."""
    loaded = read_config(path, env=env, missing_ok=missing_ok, use_backup=use_backup)
    for warning in loaded.warnings:
        _log.warning("%s: %s", loaded.path, warning)
    return loaded.config


def save_config(config: StationConfig, path: Path, *, env: Mapping[str, str] | None = None) -> None:
    """Validate and atomically write ``config`` to ``path``, keeping the previous good file.

    ``<path>.bak`` receives the current file first, if that one is valid (a corrupt file never
    replaces a good backup). A ``server.url`` equal to ``$PYWATS_SERVER_URL`` is an environment
    override, not a setting: the file keeps the URL it had. A new file gets mode 0644, or 0600
    when it holds a token; an existing file keeps its mode.

    Args:
        config: The configuration to write.
        path: The target file.
        env: Environment whose overrides must not be written back (``os.environ`` when ``None``).

    Raises:
        ConfigError: The configuration is invalid; nothing was written.
        OSError: Writing failed; the old file and its backup are intact, no temp file is left.
    """
    if errors := validate(config):
        raise ConfigError(errors, path=path)
    environ = os.environ if env is None else env
    doc = document(config)
    try:
        old: bytes | None = path.read_bytes()
    except FileNotFoundError:
        old = None
    if environ.get(URL_ENV) and config.server.url == environ[URL_ENV]:
        try:
            on_disk = tomllib.loads((old or b"").decode())["server"]["url"]
        except (KeyError, TypeError, ValueError):
            on_disk = ""
        doc["server"]["url"] = on_disk if isinstance(on_disk, str) else ""
    if not doc.get("converters"):
        # `converters = []` at the top would make a [[converters]] table added by hand later
        # invalid TOML: leave the key out (no converters is the default).
        doc.pop("converters", None)
    text = (
        "# pywats-station configuration. Written by pywats-station: comments are not kept.\n"
        "# Check it with `pywats-station config check`.\n\n" + tomli_w.dumps(doc)
    )
    if old is None:
        mode = 0o600 if config.server.token else 0o644
    else:
        mode = stat.S_IMODE(path.stat().st_mode)
        try:
            _parse(old, path, env={})
        except ConfigError:
            pass  # Keep the last good backup rather than replace it with a broken file.
        else:
            atomic_write(_backup_path(path), old, mode=mode)
    atomic_write(path, text.encode("utf-8"), mode=mode)


def set_server_url(path: Path, url: str) -> None:
    """Set ``server.url`` in the file, keeping its comments and layout (``login --url``).

    The ``url =`` line of the ``[server]`` table is replaced (a commented one is uncommented);
    without one, the key is added to the table, or a ``[server]`` table is added.

    Raises:
        ConfigError: The result is not a valid configuration; nothing was written.
    """
    set_server_value(path, "url", url)


def set_server_value(path: Path, key: str, value: str) -> None:
    """Set the string ``server.<key>`` in the file as :func:`set_server_url` does ``url``.

    Raises:
        ConfigError: The result is not a valid configuration; nothing was written.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    line = f"{key} = {tomli_w.dumps({key: value}).split('=', 1)[1].strip()}"
    lines = text.splitlines()
    section: str | None = None
    done = False
    for i, current in enumerate(lines):
        stripped = current.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped.strip("[] ")
        elif stripped.startswith("[["):
            section = None
        elif section == "server" and re.match(rf"#?\s*{re.escape(key)}\s*=", stripped):
            lines[i] = line
            done = True
            break
    if not done:
        header = next((i for i, cur in enumerate(lines) if cur.strip() == "[server]"), None)
        if header is None:
            lines = ["[server]", line, "", *lines]
        else:
            lines.insert(header + 1, line)
    new_text = "\n".join(lines) + "\n"
    _parse(new_text.encode("utf-8"), path, env={})  # refuse to write an invalid file
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    atomic_write(path, new_text.encode("utf-8"), mode=mode)


# --- hot reload, display, first file --------------------------------------------------------


def diff_config(old: StationConfig, new: StationConfig) -> set[str]:
    """Name what changed, so the daemon restarts only the affected actors.

    Returns:
        Section names (``"server"``, ``"queue"``, ``"control"`` …) whose values differ, plus
        ``"converters:<name>"`` for each converter added, removed or changed (order ignored).
    """
    changed = {
        info.name
        for info in msgspec.structs.fields(StationConfig)
        if info.name not in ("converters", "schema_version")
        and getattr(old, info.name) != getattr(new, info.name)
    }
    before = {conv.name: conv for conv in old.converters}
    after = {conv.name: conv for conv in new.converters}
    changed |= {
        f"converters:{name}"
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    return changed
