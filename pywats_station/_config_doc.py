"""``docs/configuration.md``: every key of ``config.toml``, generated from the schema itself.

The keys, their types and defaults are read from the msgspec Structs of
:mod:`pywats_station._config_schema`; what each key means is written once, in :data:`MEANINGS`
below. A key of the schema without a meaning fails :func:`render` (and so the test that keeps
the page in sync), so a new key cannot reach the schema undocumented::

    python -m pywats_station._config_doc --write    # (re)write docs/configuration.md
    python -m pywats_station._config_doc --check    # exit 1 when the page is stale
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

from pywats_station._config_schema import (
    BYTE_SIZE,
    StationConfig,
    format_size,
)

__all__ = ["MEANINGS", "PAGE", "Key", "documented_keys", "main", "render"]

# The page in a checkout (the wheel carries no docs: --write and --check are for the checkout).
PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

# What each key means, by its dotted name ("converters" for every [[converters]] entry). Say
# what a user needs to choose a value: the unit, what empty or 0 means, what it interacts with.
MEANINGS: dict[str, str] = {
    "schema_version": "The version of this file's layout. Leave it as `config init` wrote it.",
    "server.url": (
        "The WATS server, `https://mycompany.wats.com`. Empty: not configured; converted "
        "reports wait in the queue until it is set. `PYWATS_SERVER_URL` overrides it."
    ),
    "server.token": (
        "The API token in clear text. Discouraged: it goes wherever the file goes. Use "
        "`pywats-station login` (stored encrypted) or `token_file`. `PYWATS_API_TOKEN` overrides "
        "every other source."
    ),
    "server.token_file": (
        "A file holding the API token, such as a systemd credential "
        "(`${CREDENTIALS_DIRECTORY}/token`); `$VARS` are expanded. Must not be readable by others."
    ),
    "server.timeout": "Seconds one request to the server may take.",
    "server.verify_tls": (
        "Check the server's TLS certificate. Turn off only for a test server: without it anyone "
        "on the path can read the token."
    ),
    "server.ca_file": (
        "A PEM bundle of the certificate authorities that sign the server's certificate (a "
        "private CA), used instead of the system's; an absolute path. Empty: the usual CAs."
    ),
    "server.proxy": (
        '`"system"`: the proxy of the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); '
        '`"none"`: connect directly; or a proxy URL such as `http://user@proxy:3128`, whose '
        "password is stored encrypted, never in this file."
    ),
    "server.requests_per_minute": (
        "The client's own limit on requests to the server (WATS allows 500 a minute); 0: none, "
        "for a server of your own."
    ),
    "station.name": "The station name reports carry. Empty: the machine's host name.",
    "station.location": "The location reports carry (free text, as WATS shows it).",
    "station.purpose": "The purpose reports carry, such as `Production` or `Development`.",
    "queue.path": (
        "The folder of the durable report queue. Empty: the instance's state folder "
        "(`pywats-station config path` tells the instance). Point it at a USB SSD to spare an "
        "SD card; the service's unit must be allowed to write there."
    ),
    "queue.max_bytes": (
        'The most the queue holds, in bytes or as `"500 MB"`, `"2 GiB"`. When full, new files '
        "wait in their watch folders until uploads make room (nothing is lost)."
    ),
    "queue.upload_workers": "Reports uploaded in parallel, 1 to 64.",
    "sync.interval": (
        "Seconds between fetches of the server's process and product lists, kept on disk for "
        "converting while offline."
    ),
    "connection.check_interval": "Seconds between checks of the server's health while online.",
    "control.listen": (
        "Where the control channel (`pywats-tui`, MES tools) listens, `host:port`. Loopback "
        "only, unless `tls_cert` and `tls_key` are set or `allow_remote` is true; port 0: any "
        "free port (`pywats-station control url` tells which)."
    ),
    "control.tls_cert": "A PEM certificate; with `tls_key` set too, the channel uses TLS.",
    "control.tls_key": "The PEM private key of `tls_cert`.",
    "control.allow_remote": (
        "Listen on a non-loopback address without TLS: the control token then crosses the "
        "network in clear text."
    ),
    "control.roots": (
        "Folders inside which paths set over the control channel (`config.set`) must lie: "
        "watch, done and error folders, a converter's `.py` file, `queue.path`. Empty: no path "
        "can be set that way. Set in the file only."
    ),
    "control.remote_admin": (
        "Let a client on another machine hold the admin role with the admin token. Needs a "
        "non-loopback `listen` with TLS."
    ),
    "log.level": "The least severe messages logged (to the journal under systemd).",
    "converters.name": "The converter's name, unique in the file; logs and the TUI show it.",
    "converters.kind": (
        "A built-in converter (`atml`, `teststand`, `wsjf`, …: the [converter guide]"
        "(converters.md)), "
        '`"module:Class"`, or the path of a `.py` file holding one converter class.'
    ),
    "converters.enabled": "`false` keeps the entry but does not run it.",
    "converters.type": (
        "`file`: each matching file is one input; `folder`: each matching sub-folder is one "
        "input; `scheduled`: the converter runs on `schedule` instead of watching."
    ),
    "converters.watch": "The folder the equipment writes into.",
    "converters.done": 'Where converted inputs go (`post_action = "move"`). Empty: `<watch>/Done`.',
    "converters.error": "Where inputs that failed to convert go. Empty: `<watch>/Error`.",
    "converters.post_action": (
        "What happens to an input once its reports are safely queued: `move` (to `done`), "
        "`delete`, `zip` (into `done`) or `keep`."
    ),
    "converters.patterns": (
        "Names of the files (sub-folders for `folder`) to convert, such as `*.xml`, any case. "
        "Empty: the converter's own patterns."
    ),
    "converters.settle": (
        "Seconds an input must stay unchanged before it is read. A few seconds for SMB/NFS shares."
    ),
    "converters.timeout": "Seconds one conversion may take in a child process.",
    "converters.memory_mb": "The memory limit of a conversion's child process, in MB (64 or more).",
    "converters.worker_max_files": (
        "A user converter's inputs go to one warm child process, replaced by a fresh one after "
        "this many inputs (and at once after a crash, a timeout or running out of memory)."
    ),
    "converters.worker_idle_exit": (
        "Seconds without an input after which a user converter's warm child process ends, "
        "giving its memory back (the next input starts a fresh one); 0: never."
    ),
    "converters.max_file_size": "Bigger inputs (a folder: all its files) go to Error unread.",
    "converters.follow_symlinks": "Convert links that point inside the watch folder's tree.",
    "converters.max_report_size": (
        "The largest report, in bytes of WSJF; bigger ones are refused. WATS (IIS) accepts at "
        "most 30,000,000 bytes a request."
    ),
    "converters.max_output_size": "The most WSJF all reports of one input may make together.",
    "converters.child_process_above": (
        "Built-in converters convert inputs bigger than this in a child process, whose memory "
        "goes back to the system when it ends; 0: every input."
    ),
    "converters.alarm_threshold": "A conversion with a confidence below this (0-1) is flagged.",
    "converters.reject_threshold": "A conversion with a confidence below this (0-1) is rejected.",
    "converters.ready_marker": "`folder` type: a sub-folder is ready once this file exists in it.",
    "converters.min_files": "`folder` type: … or once it holds this many files (0: not used).",
    "converters.schedule": (
        '`scheduled` type: `"every 5m"`, a five-field cron expression, or `@hourly`, `@daily` …'
    ),
    "converters.run_at_startup": "`scheduled` type: also run once when the daemon starts.",
    "converters.arguments": (
        "The converter's own settings (a table), checked by the converter; each built-in's page "
        "lists them."
    ),
    "converters.station.name": "The station name its reports carry. Empty: `[station]`'s.",
    "converters.station.location": "Their location. Empty: `[station]`'s.",
    "converters.station.purpose": "Their purpose. Empty: `[station]`'s.",
}

_INTRO = """\
# Configuration reference

<!-- Generated from the configuration schema by `python -m pywats_station._config_doc --write`;
edit pywats_station/_config_doc.py (meanings) or the schema, not this page. -->

Every key of a station's `config.toml`, with its type and its default. Every key is optional: a
file holding only `[server] url` is a working configuration. `pywats-station config init` writes
a starter file with every key commented out at its default, `pywats-station config path` prints
which file the instance uses, and `pywats-station config check` names every problem by its key
(`converters[1].post_action: must be one of move, delete, zip, keep; got 'archive'`).
Commented examples: `config-examples/` in the repository. How the station uses the file: the
[user guide](user-guide.md#2-configure-your-station) and [operations](operations.md#configure).

Environment variables: `PYWATS_SERVER_URL` overrides `server.url`; `PYWATS_API_TOKEN` overrides
every other source of the token; `PYWATS_INSTANCE` chooses the instance (as `--instance`);
`PYWATS_STATION_HOME` puts every folder of every instance under one folder.

Sizes (*byte size*) are a number of bytes or a string such as `"500 MB"` or `"1.5 GiB"` (kB, MB,
GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024).
"""

_SECTION_TITLES = {
    "": "Top level",
    "converters": "`[[converters]]`: one table per watched folder (or schedule)",
    "converters.station": "`[converters.station]`: the station a converter's reports name",
}


@dataclass(frozen=True)
class Key:
    """One key of the file: where it is, its type and default as a reader writes them."""

    section: str  # "" (top level), "server", …, "converters", "converters.station"
    name: str
    type: str
    default: str

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}" if self.section else self.name


def _type_name(annotation: Any) -> str:
    """A TOML-minded name for a field's type: ``string``, ``byte size``, ``one of: a, b``."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *marks = typing.get_args(annotation)
        return "byte size" if BYTE_SIZE in marks else _type_name(base)
    if typing.get_origin(annotation) is Literal:
        return "one of: " + ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"array of {_type_name(item)}s"
    if origin is dict:
        return "table"
    if isinstance(annotation, types.UnionType):  # pragma: no cover - none in the schema today
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in names:
        return names[annotation]
    raise TypeError(f"no documented name for the type {annotation!r}")


def _default(value: Any, type_name: str) -> str:
    if type_name == "byte size":
        shown = format_size(value)
        return f'`"{shown}"`' if isinstance(shown, str) else f"`{shown}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else "empty"
    if isinstance(value, list | dict):
        return "empty" if not value else f"`{value!r}`"
    return f"`{value!r}`"


def _fields(struct: type[msgspec.Struct], section: str) -> Iterator[Key]:
    hints = typing.get_type_hints(struct, include_extras=True)
    defaults = struct()
    for field in msgspec.structs.fields(struct):
        annotation = hints[field.name]
        nested = annotation if isinstance(annotation, type) else None
        if nested is not None and issubclass(nested, msgspec.Struct):
            yield from _fields(nested, f"{section}.{field.name}" if section else field.name)
            continue
        if typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            if isinstance(item, type) and issubclass(item, msgspec.Struct):
                yield from _fields(item, field.name)
                continue
        type_name = _type_name(annotation)
        yield Key(
            section, field.name, type_name, _default(getattr(defaults, field.name), type_name)
        )


def documented_keys() -> list[Key]:
    """Every key of the schema, in the order of the file (top-level keys, then each table)."""
    return list(_fields(StationConfig, ""))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The page, from the schema and :data:`MEANINGS`.

    Raises:
        KeyError: A key of the schema has no meaning in :data:`MEANINGS` (add one).
    """
    found = documented_keys()
    missing = [key.dotted for key in found if key.dotted not in MEANINGS]
    if missing:
        raise KeyError(
            f"no meaning for {', '.join(missing)}: add it to MEANINGS in {Path(__file__).name}"
        )
    lines = [_INTRO]
    section: str | None = None
    for key in found:
        if key.section != section:
            section = key.section
            title = _SECTION_TITLES.get(section, f"`[{section}]`")
            lines += [
                "",
                f"## {title}",
                "",
                "| key | type | default | meaning |",
                "|---|---|---|---|",
            ]
        row = (f"`{key.name}`", key.type, key.default, MEANINGS[key.dotted])
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pywats_station._config_doc", description=__doc__.splitlines()[0]
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"write docs/{PAGE.name}")
    action.add_argument("--check", action="store_true", help=f"exit 1 if docs/{PAGE.name} is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote docs/{PAGE.name}: {len(documented_keys())} keys")
        return 0
    if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
        print(
            f"docs/{PAGE.name} is stale: run python -m pywats_station._config_doc --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
