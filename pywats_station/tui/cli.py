"""``pywats-tui``: which stations to show, then the app.

::

    pywats-tui                                   # this machine's default instance
    pywats-tui --instance line-b                 # another local instance
    pywats-tui --url ws://10.0.0.7:8765 --token-file line-a.token [--cafile ca.pem]
    pywats-tui --instance a --url wss://… --token-file t   # several: the line view
    pywats-tui --stations stations.toml          # [[stations]] from a file

A local instance is found as ``pywats-station control url`` finds it (the daemon's status
file), with the admin token when this user may read it and the operator token otherwise
(``--operator`` forces the latter). Nothing here connects: the links do, in the app, and keep
trying; so a station that is down at start shows as down instead of stopping the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pywats import __version__

__all__ = ["StationSpec", "load_stations", "main"]

_EXIT_USAGE = 2
_STATION_KEYS = frozenset({"name", "url", "token_file", "cafile", "instance", "config"})


class UsageError(Exception):
    """Bad arguments or stations file; the message names the problem."""


class StationSpec:
    """One station to show: local (``instance``/``config``) or remote (``url``+``token_file``)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        url: str | None = None,
        token_file: Path | None = None,
        cafile: Path | None = None,
        instance: str | None = None,
        config: Path | None = None,
    ) -> None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("ws", "wss") or not parts.hostname:
                raise UsageError(f"not a ws:// or wss:// URL: {url!r}")
            if token_file is None:
                raise UsageError(f"{url}: a remote station needs --token-file (its control token)")
        self.url, self.token_file, self.cafile = url, token_file, cafile
        self.instance, self.config = instance, config
        self.name = name or (parts.netloc if url is not None else None)

    def link(self, *, operator: bool) -> Any:
        from pywats_station.tui.link import StationLink, local_resolver, remote_resolver

        if self.url is not None:
            assert self.token_file is not None
            resolve = remote_resolver(self.url, self.token_file, self.cafile)
            return StationLink(self.name or self.url, resolve)
        from pywats_station.paths import InvalidInstanceError, instance_paths, resolve_instance

        try:
            paths = instance_paths(resolve_instance(self.instance), config_file=self.config)
        except InvalidInstanceError as exc:
            raise UsageError(str(exc)) from None
        resolve = local_resolver(paths, admin=False if operator else None)
        return StationLink(self.name or paths.instance, resolve)


def load_stations(path: Path) -> list[StationSpec]:
    """The ``[[stations]]`` of a TOML file; relative file names are relative to it.

    Raises:
        UsageError: unreadable, not TOML, or an entry naming the key and the problem.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    entries = data.get("stations")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{path}: no [[stations]] entries")
    specs = []
    for index, entry in enumerate(entries):
        where = f"{path}: stations[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: not a table")
        unknown = set(entry) - _STATION_KEYS
        if unknown:
            raise UsageError(
                f"{where}: unknown key {sorted(unknown)[0]!r} "
                f"(known: {', '.join(sorted(_STATION_KEYS))})"
            )
        for key, value in entry.items():
            if not isinstance(value, str):
                raise UsageError(f"{where}.{key}: must be a string")

        def file(key: str, entry: dict[str, Any] = entry) -> Path | None:
            value = entry.get(key)
            if value is None:
                return None
            found = Path(os.path.expandvars(value)).expanduser()
            return found if found.is_absolute() else path.parent / found

        try:
            specs.append(
                StationSpec(
                    name=entry.get("name"),
                    url=entry.get("url"),
                    token_file=file("token_file"),
                    cafile=file("cafile"),
                    instance=entry.get("instance"),
                    config=file("config"),
                )
            )
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
    return specs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pywats-tui",
        description="The terminal UI of pywats-station: one station, or a whole line.",
        epilog="Keys: 1-6 screens, l the line, F1 or ? help, Ctrl+P commands, Ctrl+Q quit.",
    )
    parser.add_argument("--version", action="version", version=f"pywats-tui {__version__}")
    parser.add_argument(
        "--instance",
        action="append",
        default=[],
        metavar="NAME",
        help="a local instance (repeat for several)",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="the local instance whose configuration is FILE"
    )
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="a station's control channel, ws:// or wss:// (repeat for several)",
    )
    parser.add_argument(
        "--token-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="the control token for each --url, in order (one for all is fine)",
    )
    parser.add_argument(
        "--cafile",
        type=Path,
        metavar="PEM",
        help="CA certificate(s) that sign the stations' wss:// certificates",
    )
    parser.add_argument(
        "--stations",
        type=Path,
        metavar="FILE",
        help="a TOML file with [[stations]] (name, url, token_file, cafile, instance, config)",
    )
    parser.add_argument(
        "--operator",
        action="store_true",
        help="use the operator token even where the admin token is readable",
    )
    return parser


def specs_of(args: argparse.Namespace) -> list[StationSpec]:
    specs: list[StationSpec] = []
    if args.stations is not None:
        specs += load_stations(args.stations)
    specs += [StationSpec(instance=name, config=args.config) for name in args.instance]
    if args.config is not None and not args.instance:
        specs.append(StationSpec(config=args.config))
    tokens: list[Path] = args.token_file
    if len(tokens) > 1 and len(tokens) != len(args.url):
        raise UsageError(
            f"{len(args.url)} --url but {len(tokens)} --token-file: give one "
            "for all or one per --url"
        )
    for index, url in enumerate(args.url):
        token = tokens[index] if len(tokens) > 1 else (tokens[0] if tokens else None)
        specs.append(StationSpec(url=url, token_file=token, cafile=args.cafile))
    if tokens and not args.url:
        raise UsageError("--token-file is for a --url")
    if not specs:
        specs.append(StationSpec())  # this machine's default instance
    names = [spec.name for spec in specs]
    for spec in specs:
        if spec.name is not None and names.count(spec.name) > 1:
            raise UsageError(
                f"two stations are named {spec.name!r}: give them names in a --stations file"
            )
    return specs


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pywats-tui``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        specs = specs_of(args)
        links = [spec.link(operator=args.operator) for spec in specs]
    except UsageError as exc:
        print(f"pywats-tui: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    labels = [link.label for link in links]
    if len(set(labels)) != len(labels):
        print(
            f"pywats-tui: two stations are both shown as {labels!r}; name them in a "
            "--stations file",
            file=sys.stderr,
        )
        return _EXIT_USAGE
    from pywats_station.tui.app import StationTui

    app = StationTui(links)
    app.run()
    return app.return_code or 0
