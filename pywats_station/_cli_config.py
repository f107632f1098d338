"""``pywats-station config path|show|check|init``: the instance's configuration file.

``config check`` checks what the daemon would refuse, not only the schema: after the file's own
checks (every problem named by its key, see :mod:`pywats_station.config`) it loads every
converter the way the daemon does (:func:`pywats_station.actors.converters.load_converters`): a
built-in's arguments are parsed here, a user converter is imported, described and its arguments
checked in a child process only, so no user code ever runs in this process. A converter the
daemon would show ``broken`` is an error named by its key::

    converters.ict.kind: unknown converter kind 'cvs': …; did you mean 'csv'?
    converters.ict.arguments.part_numbr: unknown argument (known: …)

A disabled converter is checked too (enabling it must not be the moment its typo shows), and its
problems are warnings.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import msgspec

from pywats_station._cli_common import CliError, ExitCode, load_instance_config, paths_of

__all__ = ["cmd_config", "converter_problems"]

# The converter loader logs every broken converter as an error: `config check` prints them
# itself, once, named by their keys.
_LOADER_LOG = "pywats_station.converters"


def cmd_config(args: argparse.Namespace) -> int:
    """``pywats-station config ACTION``."""
    from pywats_station.config import default_config_text, redacted
    from pywats_station.paths import atomic_write

    paths = paths_of(args)
    action = args.config_command
    if action == "path":
        print(paths.config_file)
        return ExitCode.OK
    if action == "init":
        if paths.config_file.exists() and not args.force:
            raise CliError(
                f"{paths.config_file} exists; use --force to overwrite it", ExitCode.CONFIG
            )
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(paths.config_file, default_config_text(paths).encode("utf-8"), mode=0o644)
        print(f"wrote {paths.config_file}")
        return ExitCode.OK
    if action == "check":
        return _check(paths)
    config = load_instance_config(paths)
    print(json.dumps(redacted(config), indent=2))
    return ExitCode.OK


def _check(paths: Any) -> int:
    """``config check``: errors exit 3 (as everywhere); warnings are listed, not only logged."""
    from pywats_station.config import ConfigError, read_config

    if not paths.config_file.exists():
        load_instance_config(paths)  # the usual "no configuration … config init" error
    try:
        loaded = read_config(paths.config_file)
    except ConfigError as exc:
        raise CliError(
            f"invalid configuration {paths.config_file}:\n{exc}", ExitCode.CONFIG
        ) from exc
    errors, warnings = converter_problems(loaded.config, paths)
    warnings = [*loaded.warnings, *warnings]
    if errors:
        text = f"invalid configuration {ConfigError(errors, path=paths.config_file)}"
        if warnings:
            text += "\nwarnings:\n" + "\n".join(f"  {warning}" for warning in warnings)
        raise CliError(text, ExitCode.CONFIG)
    if not warnings:
        print(f"{paths.config_file}: OK")
        return ExitCode.OK
    count = len(warnings)
    print(f"{paths.config_file}: OK, with {count} warning{'s' if count > 1 else ''}:")
    for warning in warnings:
        print(f"  {warning}")
    return ExitCode.OK


def converter_problems(config: Any, paths: Any) -> tuple[list[Any], list[Any]]:
    """Load every converter of ``config`` as the daemon does; name what it would find broken.

    Args:
        config: A configuration that passed the file's own checks (unique, non-empty names).
        paths: The instance (relative converter files are found next to its config file).

    Returns:
        ``(errors, warnings)`` as :class:`~pywats_station.config.ConfigProblem` lists: enabled
        converters the daemon would not run, and disabled ones it would not run once enabled.
    """
    from pywats_station.actors.converters import load_converters
    from pywats_station.config import ConfigProblem
    from pywats_station.converters import StationInfo

    station = config.station
    info = StationInfo(  # as Daemon.station_info: what the converters' reports would say
        name=station.effective_name,
        location=station.location or "Unknown",
        purpose=station.purpose or "Production",
    )
    # A disabled converter is loaded as if enabled: the daemon skips it, the check must not.
    as_enabled = [msgspec.structs.replace(c, enabled=True) for c in config.converters]
    with _quiet(_LOADER_LOG):
        loaded = load_converters(as_enabled, base_dir=paths.config_file.parent, station=info)
    errors: list[ConfigProblem] = []
    warnings: list[ConfigProblem] = []
    for cfg, conv in zip(config.converters, loaded, strict=True):
        if conv.stats.state != "broken":
            continue
        key, message = _named(cfg, conv.description.type, conv.stats.error or "broken")
        if cfg.enabled:
            errors.append(ConfigProblem(key, message))
        else:
            note = " (disabled now; it would be broken once enabled)"
            warnings.append(ConfigProblem(key, message + note, "warning"))
    return errors, warnings


def _named(cfg: Any, described_type: str, error: str) -> tuple[str, str]:
    """The key a load failure is about, and its message.

    An argument problem is a ``ConverterConfigError``, whose text starts with the argument's key
    (``arguments.part_numbr: …``), in this process or from the child alike. A type that does
    not match the converter's is the ``type`` key's; a message that starts with another key of
    the entry is that key's (``watch folder … is already watched …``). Anything else is the
    ``kind``'s: the converter cannot be found, imported, created or described.
    """
    from pywats_station.config import ConverterConfig

    base = f"converters.{_toml_key(cfg.name)}"
    head, sep, rest = error.partition(": ")
    if sep and re.fullmatch(r"arguments(?:[.\[].*)?", head):
        return f"{base}.{head}", rest
    if described_type != cfg.type:
        return f"{base}.type", error
    first = re.match(r"[a-z_]+", error)
    if first is not None and first[0] in ConverterConfig.__struct_fields__:
        return f"{base}.{first[0]}", error
    return f"{base}.kind", error + _kind_hint(cfg.kind, error)


def _kind_hint(kind: str, error: str) -> str:
    """``; did you mean 'csv'?`` for a misspelt built-in kind (unless the message says it)."""
    from pywats_station.converters.registry import BUILTINS

    text = kind.strip().lower()
    if text in BUILTINS or "did you mean" in error or not re.fullmatch(r"[a-z0-9_-]+", text):
        return ""  # a built-in, a module, a file, or a message that already guesses
    close = difflib.get_close_matches(text, list(BUILTINS), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _toml_key(name: str) -> str:
    """A converter's name as a TOML key segment (quoted unless it is a bare key)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before
