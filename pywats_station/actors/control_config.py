"""``config.get`` and ``config.set``: the configuration over the control channel.

``config.get`` reads the running configuration, redacted (:func:`~pywats_station.config.redacted`).
``config.set`` changes the *file*, never only the memory, so a change survives a restart:

1. read the file and decode it (with the environment's overrides, as the daemon does);
2. apply the change to that document; a key that names nothing is -32010, a change the schema or
   the checks refuse is -32012 with every problem in ``data.problems``, nothing written;
3. read the file again just before writing: if it changed meanwhile (an editor, another client)
   the call is -32011 and nothing is written, so no one's edit is lost silently;
4. save atomically (:func:`~pywats_station.config.save_config` keeps ``config.toml.bak``) and
   let the daemon's reload restart only what changed (``AdminPort.change_config`` runs 1-4).

Keys are TOML paths: ``queue.upload_workers``, ``queue`` (a table of fields to change), and for
converters their *name*: ``converters.ict.enabled``, ``converters.ict`` (a table of fields; a
new name adds a converter, ``null`` removes it) or ``converters.ict.arguments.layout``.
Secrets cannot be set here: ``server.token`` and ``server.token_file`` are refused (use
``pywats-station login``), so the channel can neither read nor plant a credential.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pywats_station.config import (
    ConfigError,
    ConfigProblem,
    ConverterConfig,
    StationConfig,
    config_from_dict,
    redacted,
    save_config,
)
from pywats_station.control import CallContext, ControlError, ErrorCode, Registry
from pywats_station.control import methods as m

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pywats_station.actors.control_port import AdminPort, OperatorPort

__all__ = ["ConfigChange", "commit_change", "lookup", "plan_change", "register_config_methods"]

_SECTIONS = {
    info.encode_name: info.type
    for info in msgspec.structs.fields(StationConfig)
    if info.encode_name not in ("schema_version", "converters")
}
_CONVERTER_FIELDS = {info.encode_name for info in msgspec.structs.fields(ConverterConfig)}
_REFUSED = {
    "server.token": "cannot be set over the control channel: use `pywats-station login`",
    "server.token_file": "cannot be set over the control channel: edit the file as root",
}
_INDEXED = re.compile(r"^converters\[(\d+)\]")


@dataclass(frozen=True)
class ConfigChange:
    """A validated change, ready to be written.

    Attributes:
        config: The new configuration.
        changed: TOML paths whose values change.
        original: The file's bytes the change was made against (to detect a concurrent edit).
    """

    config: StationConfig
    changed: list[str]
    original: bytes


def _not_found(key: str, why: str) -> ControlError:
    return ControlError(ErrorCode.NOT_FOUND, f"no configuration key {key!r}: {why}", {"key": key})


def _refused(problems: list[ConfigProblem], document: dict[str, Any]) -> ControlError:
    names = [conv.get("name", "") for conv in document.get("converters", [])]

    def path(key: str) -> str:
        # converters[2].watch -> converters.<name>.watch: the form config.set takes.
        match = _INDEXED.match(key)
        if match and int(match[1]) < len(names) and names[int(match[1])]:
            return f"converters.{names[int(match[1])]}" + key[match.end() :]
        return key

    items = [{"path": path(p.key), "message": p.message} for p in problems]
    text = "; ".join(f"{item['path']}: {item['message']}" for item in items)
    return ControlError(ErrorCode.VALIDATION_FAILED, f"refused: {text}", {"problems": items})


def lookup(document: dict[str, Any], key: str | None) -> Any:
    """The value at ``key`` in a configuration document (converters by name).

    Raises:
        ControlError: -32010 when the key names nothing.
    """
    if key is None:
        return document
    value: Any = document
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if depth == 1 and parts[0] == "converters":
            found = [conv for conv in value if conv.get("name") == part]
            if not found:
                raise _not_found(key, f"no converter named {part!r}")
            value = found[0]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise _not_found(key, f"{'.'.join(parts[: depth + 1])!r} does not exist")
    return value


def _apply(document: dict[str, Any], key: str, value: Any) -> None:
    """Change ``document`` in place as ``config.set`` describes; unknown keys are -32010."""
    if key in _REFUSED:
        raise _refused([ConfigProblem(key, _REFUSED[key])], document)
    parts = key.split(".")
    head = parts[0]
    if head == "converters":
        _apply_converter(document, key, parts[1:], value)
        return
    if head not in _SECTIONS:
        raise _not_found(key, f"there is no section {head!r}")
    fields = {info.encode_name for info in msgspec.structs.fields(_SECTIONS[head])}
    if len(parts) == 1:
        if not isinstance(value, dict):
            raise _not_found(key, "a section takes a table of its fields") from None
        for name in value:
            if name not in fields:
                raise _not_found(f"{key}.{name}", f"{head!r} has no field {name!r}")
            if f"{head}.{name}" in _REFUSED:
                raise _refused([ConfigProblem(f"{head}.{name}", _REFUSED[f"{head}.{name}"])], {})
        document[head].update(value)
    elif len(parts) == 2 and parts[1] in fields:
        document[head][parts[1]] = value
    else:
        raise _not_found(key, f"{head!r} has no field {'.'.join(parts[1:])!r}")


def _apply_converter(document: dict[str, Any], key: str, rest: list[str], value: Any) -> None:
    converters: list[dict[str, Any]] = document["converters"]
    if not rest:
        raise _not_found(key, "name a converter: converters.<name>[.<field>]")
    name, rest = rest[0], rest[1:]
    index = next((i for i, conv in enumerate(converters) if conv.get("name") == name), None)
    if not rest:  # the whole entry: update, add or (null) remove
        if value is None:
            if index is None:
                raise _not_found(key, f"no converter named {name!r}")
            del converters[index]
            return
        if not isinstance(value, dict):
            raise _not_found(key, "a converter takes a table of its fields (null removes it)")
        for field in value:
            if field not in _CONVERTER_FIELDS:
                raise _not_found(f"{key}.{field}", f"a converter has no field {field!r}")
        if index is None:
            converters.append({"name": name, **value})
        else:
            converters[index].update(value)
        return
    if index is None:
        raise _not_found(key, f"no converter named {name!r}")
    field = rest[0]
    if field not in _CONVERTER_FIELDS:
        raise _not_found(key, f"a converter has no field {field!r}")
    if len(rest) == 1:
        converters[index][field] = value
    elif len(rest) == 2 and field == "arguments":
        converters[index]["arguments"][rest[1]] = value
    else:
        raise _not_found(key, f"a converter has no field {'.'.join(rest)!r}")


def _flatten(document: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, values in document.items():
        if section == "converters":
            for conv in values:
                for field, value in conv.items():
                    flat[f"converters.{conv.get('name', '')}.{field}"] = value
        elif isinstance(values, dict):
            for field, value in values.items():
                flat[f"{section}.{field}"] = value
        else:
            flat[section] = values
    return flat


def _document(config: StationConfig) -> dict[str, Any]:
    # TOML dates and times in converter arguments stay what they are.
    document: dict[str, Any] = msgspec.to_builtins(config, builtin_types=(date, datetime, time))
    return document


def plan_change(path: Path, env: Mapping[str, str], key: str, value: Any) -> ConfigChange:
    """Apply ``key = value`` to the configuration file's content and validate it (no writing).

    Raises:
        ControlError: -32010 unknown key, -32011 the file is unusable as it is, -32012 refused.
    """
    try:
        original = path.read_bytes()
    except FileNotFoundError:
        original = b""
    try:
        old, _, _ = config_from_dict(tomllib.loads(original.decode("utf-8")), env=env)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ControlError(
            ErrorCode.CONFLICT,
            f"the configuration file {path} cannot be used as it is ({exc}); fix it first",
        ) from None
    before = _document(old)
    document = copy.deepcopy(before)
    _apply(document, key, value)
    try:
        new, _, _ = config_from_dict(document, env=env)
    except ConfigError as exc:
        raise _refused(exc.problems, document) from None
    after = _flatten(_document(new))
    old_flat = _flatten(before)
    changed = sorted(k for k in old_flat.keys() | after.keys() if old_flat.get(k) != after.get(k))
    return ConfigChange(new, changed, original)


def commit_change(path: Path, env: Mapping[str, str], change: ConfigChange) -> None:
    """Write a planned change, unless the file changed since it was planned.

    Raises:
        ControlError: -32011 the file changed meanwhile, -32013 it cannot be written.
    """
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = b""
    if current != change.original:
        raise ControlError(
            ErrorCode.CONFLICT,
            f"{path} changed on disk meanwhile; nothing was written: read it again and retry",
        )
    try:
        save_config(change.config, path, env=env)
    except OSError as exc:
        raise ControlError(
            ErrorCode.STATION_ERROR, f"cannot write {path}: {exc}", {"reason": "write_failed"}
        ) from None


def register_config_methods(registry: Registry, station: OperatorPort, admin: AdminPort) -> None:
    """Register ``config.get`` (operator) and ``config.set`` (admin)."""

    @registry.implement(m.CONFIG_GET)
    async def config_get(ctx: CallContext, params: m.ConfigGetParams) -> m.ConfigGetResult:
        value = lookup(redacted(station.config), params.key)
        return m.ConfigGetResult(key=params.key, value=value, path=str(station.config_file))

    @registry.implement(m.CONFIG_SET)
    async def config_set(ctx: CallContext, params: m.ConfigSetParams) -> m.ConfigSetResult:
        return await admin.change_config(params.key, params.value, dry_run=params.dry_run)
