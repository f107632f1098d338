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

What the channel may not do, whatever the role (``docs/security.md``): set the API token
(``server.token``, ``server.token_file``), turn TLS verification off or change whom it trusts
(``server.verify_tls``, ``server.ca_file``) or route the requests (``server.proxy``);
change ``[control]`` (who reaches the channel, with which rights, and the roots below); point a
path (converters' ``watch``/``done``/``error``, a user converter's ``.py``, ``queue.path``)
outside the folders ``[control] roots`` declares; name a user converter as ``module:Class``.
A new ``server.url`` is saved, but the API token is not sent there until someone on the station
confirms it with ``pywats-station login`` (:mod:`pywats_station.token_binding`).

Keys are TOML paths: ``queue.upload_workers``, ``queue`` (a table of fields to change), and for
converters their *name*: ``converters.ict.enabled``, ``converters.ict`` (a table of fields; a
new name adds a converter, ``null`` removes it) or ``converters.ict.arguments.layout``.
Secrets cannot be set here: ``server.token`` and ``server.token_file`` are refused (use
``pywats-station login``), so the channel can neither read nor plant a credential.
"""

from __future__ import annotations

import copy
import os
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
from pywats_station.converters.registry import is_builtin

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pywats_station.actors.control_port import AdminPort, OperatorPort

__all__ = [
    "ConfigChange",
    "commit_change",
    "lookup",
    "out_of_reach",
    "plan_change",
    "register_config_methods",
]

_SECTIONS = {
    info.encode_name: info.type
    for info in msgspec.structs.fields(StationConfig)
    if info.encode_name not in ("schema_version", "converters")
}
_CONVERTER_FIELDS = {info.encode_name for info in msgspec.structs.fields(ConverterConfig)}
_REFUSED = {
    "server.token": "cannot be set over the control channel: use `pywats-station login`",
    "server.token_file": "cannot be set over the control channel: edit the file as root",
    # Off, it would let a machine in the middle read the API token: the owner's decision.
    "server.verify_tls": "cannot be set over the control channel: edit the file",
    # A CA bundle decides whom the token is sent to, as verify_tls does; a proxy sees every
    # request (all of it, to an http:// server) and may carry credentials: the owner's too.
    "server.ca_file": "cannot be set over the control channel: edit the file",
    "server.proxy": "cannot be set over the control channel: use `pywats-station proxy`",
}
# Who may reach the channel, with which rights, and where paths may point: the file's owner's.
_REFUSED_SECTIONS = {
    "control": "the [control] section cannot be changed over the control channel: edit the file",
}
_CONVERTER_PATHS = ("watch", "done", "error")
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
    if head in _REFUSED_SECTIONS:
        raise _refused([ConfigProblem(key, _REFUSED_SECTIONS[head])], document)
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
    problems = out_of_reach(new, changed, roots=old.control.roots, base_dir=path.parent)
    if problems:
        raise _refused(problems, document)
    return ConfigChange(new, changed, original)


def out_of_reach(
    config: StationConfig, changed: list[str], *, roots: list[str], base_dir: Path
) -> list[ConfigProblem]:
    """The changed keys that point where the control channel may not point the station.

    Paths (converters' ``watch``/``done``/``error``, a user converter's ``.py`` file,
    ``queue.path``) must resolve inside one of ``roots`` (``[control] roots``, declared in the
    file only); symlinks are resolved first, so a link inside a root to a folder outside does
    not count as inside. A user converter named as ``module:Class`` can run any installed
    module's code: only the file may name one.

    Args:
        config: The configuration after the change.
        changed: The flattened keys that change (``converters.<name>.<field>``).
        roots: The declared roots (``~`` and ``$VARS`` expanded).
        base_dir: Relative ``.py`` paths are relative to it (the config file's folder).
    """
    allowed = [_real(os.path.expandvars(root)) for root in roots if root.strip()]
    by_name = {conv.name: conv for conv in config.converters}
    problems: list[ConfigProblem] = []

    def check(key: str, raw: str, path: Path) -> None:
        real = _real(str(path))
        if any(real == root or root in real.parents for root in allowed):
            return
        if not allowed:
            why = "no [control] roots are declared in the configuration file"
        else:
            why = "it is not inside [control] roots (" + ", ".join(map(str, allowed)) + ")"
        problems.append(
            ConfigProblem(key, f"{raw!r} cannot be set over the control channel: {why}")
        )

    for key in changed:
        parts = key.split(".")
        if parts[:2] == ["queue", "path"] and config.queue.path:
            check(key, config.queue.path, Path(config.queue.path))
        if len(parts) != 3 or parts[0] != "converters" or parts[1] not in by_name:
            continue
        conv = by_name[parts[1]]
        if parts[2] in _CONVERTER_PATHS:
            raw = getattr(conv, parts[2])
            if raw:
                check(key, raw, Path(raw))
        elif parts[2] == "kind" and conv.kind and not is_builtin(conv.kind):
            file_part = conv.kind.rpartition(":")[0] if _names_class(conv.kind) else conv.kind
            if not file_part.lower().endswith(".py"):
                problems.append(
                    ConfigProblem(
                        key,
                        f"{conv.kind!r} cannot be set over the control channel: a user "
                        "converter is set over the channel only as a .py file inside "
                        "[control] roots (module:Class only in the file)",
                    )
                )
                continue
            target = Path(file_part).expanduser()
            check(key, conv.kind, target if target.is_absolute() else base_dir / target)
    return problems


def _names_class(kind: str) -> bool:
    head, sep, tail = kind.rpartition(":")
    return bool(sep) and tail.isidentifier() and len(head) > 1


def _real(raw: str) -> Path:
    return Path(os.path.realpath(Path(raw).expanduser()))


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
