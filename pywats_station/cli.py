"""``pywats-station``: run the daemon and manage an instance from a shell.

Exit codes (stable, documented in ``docs/operations.md``):

=====  =========================================================
0      success
1      unexpected error
2      usage error (bad arguments)
3      configuration missing or invalid
4      the queue is locked: another daemon of this instance runs (`run`), or
       the running daemon's control channel does not answer (`queue …`)
5      server unreachable
6      the server refused the token
7      the server rejected the report
8      no such queue entry
130    interrupted (Ctrl-C)
=====  =========================================================
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pywats import __version__
from pywats_station._cli_common import CliError, ExitCode
from pywats_station._cli_common import load_instance_config as _config
from pywats_station._cli_common import paths_of as _paths
from pywats_station._cli_queue import cmd_queue
from pywats_station._cli_status import cmd_control, cmd_status

__all__ = ["ExitCode", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pywats-station",
        description="The pyWATS test-station daemon: converts test files into WATS reports "
        "and uploads them, never losing one.",
    )
    parser.add_argument("--version", action="version", version=f"pywats-station {__version__}")
    parser.add_argument("--config", type=Path, help="configuration file (default: per instance)")
    parser.add_argument("--instance", help="instance name (default: $PYWATS_INSTANCE or default)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run the daemon in the foreground (as systemd does)")

    status = commands.add_parser("status", help="show the instance's state")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    control = commands.add_parser("control", help="the control channel (TUI, MES tools, scripts)")
    control_cmd = control.add_subparsers(dest="control_command", required=True, metavar="ACTION")
    token = control_cmd.add_parser(
        "token", help="print the operator control token (the one to give MES tools and TUIs)"
    )
    token.add_argument("--path", action="store_true", help="print the token file's path instead")
    token.add_argument(
        "--admin",
        action="store_true",
        help="the admin token instead (config.set, user code): keep it on the station",
    )
    control_cmd.add_parser("url", help="print where the control channel listens")

    login = commands.add_parser("login", help="store the API token, encrypted")
    login.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    login.add_argument("--url", help="also set server.url in the configuration")
    commands.add_parser("logout", help="delete the stored API token")

    config = commands.add_parser("config", help="show, check or create the configuration")
    config_cmd = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    config_cmd.add_parser("path", help="print the configuration file's path")
    config_cmd.add_parser("show", help="print the effective configuration (secrets hidden)")
    config_cmd.add_parser("check", help="validate the configuration")
    init = config_cmd.add_parser("init", help="write a commented starter configuration")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    queue = commands.add_parser("queue", help="inspect and manage the upload queue")
    queue_cmd = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    qlist = queue_cmd.add_parser("list", help="list entries, oldest first")
    qlist.add_argument("--state", choices=["queued", "failed", "dead"], help="only this state")
    qlist.add_argument("--offset", type=int, default=0)
    qlist.add_argument("--limit", type=int, default=50)
    qlist.add_argument("--json", action="store_true")
    show = queue_cmd.add_parser("show", help="show one entry (by report id or sequence number)")
    show.add_argument("entry")
    show.add_argument("--json", action="store_true")
    retry = queue_cmd.add_parser("retry", help="queue dead or failed entries again")
    retry.add_argument("selector", help="report id, sequence number, dead, failed or all")
    purge = queue_cmd.add_parser("purge", help="delete entries (they will not be uploaded)")
    purge.add_argument("selector", help="report id, sequence number, dead or all")
    purge.add_argument("--yes", action="store_true", help="do not ask")
    queue_cmd.add_parser("verify", help="check every entry's checksum; set corrupt ones aside")

    test = commands.add_parser("send-test-report", help="send a small test report to the server")
    test.add_argument("--json", action="store_true")

    convert = commands.add_parser("convert", help="convert one file without the daemon")
    convert.add_argument("file", type=Path, help="the file (or folder) to convert")
    which = convert.add_mutually_exclusive_group()
    which.add_argument("--converter", help="use this configured converter (its arguments too)")
    which.add_argument("--kind", help="a converter kind: wsjf, wsxf, wstf, csv, module:Class, x.py")
    convert.add_argument("--json", action="store_true", help="print the reports as WSJF")

    converters = commands.add_parser("converters", help="the configured converters")
    conv_cmd = converters.add_subparsers(dest="converters_command", required=True, metavar="ACTION")
    clist = conv_cmd.add_parser("list", help="list configured and built-in converters")
    clist.add_argument("--json", action="store_true")

    demo = commands.add_parser(
        "demo", help="run a station on the embedded emulator with sample files"
    )
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument("--dir", type=Path, help="work folder (default: a new temporary one)")

    unit = commands.add_parser("systemd-unit", help="print a systemd unit for this instance")
    unit.add_argument("--user", default="pywats", help="the service user (default pywats)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pywats-station``; returns the exit code."""
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.command)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _cmd_run,
        "status": cmd_status,
        "control": cmd_control,
        "login": _cmd_login,
        "logout": _cmd_logout,
        "config": _cmd_config,
        "queue": cmd_queue,
        "send-test-report": _cmd_send_test_report,
        "convert": _cmd_convert,
        "converters": _cmd_converters,
        "demo": _cmd_demo,
        "systemd-unit": _cmd_systemd_unit,
    }
    try:
        return handlers[args.command](args)
    except CliError as exc:
        print(f"pywats-station: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


def _setup_logging(verbose: int, command: str) -> None:
    from pywats_station.systemd import JournalFormatter, under_systemd

    level = (
        logging.DEBUG
        if verbose > 1
        else logging.INFO
        if verbose or command == "run"
        else (logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    if under_systemd():
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request, watchfiles every change at INFO: far too chatty for a journal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)


# --- run ------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    import trio

    from pywats_station.control import ControlTokenError
    from pywats_station.daemon import run_daemon
    from pywats_station.queue import QueueLocked

    paths = _paths(args)
    config = _config(paths)  # fail early, with the exit code for config problems
    if not args.verbose:  # -v on the command line wins over [log] level
        logging.getLogger().setLevel(config.log.level.upper())
    # trio handles SIGTERM/SIGINT while the daemon runs and then puts back what was there
    # before: a no-op, so that a repeated SIGTERM during the last milliseconds of the exit
    # does not turn a clean stop into death by signal.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        trio.run(run_daemon, paths)
    except QueueLocked as exc:
        raise CliError(f"{exc}; is the daemon already running?", ExitCode.LOCKED) from exc
    except ControlTokenError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from exc
    return ExitCode.OK


# --- login ----------------------------------------------------------------------------------


def _cmd_login(args: argparse.Namespace) -> int:
    from pywats_station.config import ConfigError, set_server_url
    from pywats_station.secrets import store_token

    paths = _paths(args)
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = getpass.getpass("API token: ").strip()
    if not token:
        raise CliError("no token given", ExitCode.USAGE)
    where = store_token(paths, token)
    print(f"token stored encrypted in {where}")
    if args.url:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            set_server_url(paths.config_file, args.url)
        except ConfigError as exc:
            raise CliError(f"server.url not set:\n{exc}", ExitCode.CONFIG) from exc
        print(f"server.url set to {args.url} in {paths.config_file}")
    _confirm_server(paths)
    _tell_running_daemon(paths)
    return ExitCode.OK


def _confirm_server(paths: Any) -> None:
    """Bind the token to the configured server (``token_binding``): login is the confirmation."""
    from pywats_station.config import URL_ENV, ConfigError, load_config
    from pywats_station.token_binding import bind_origin, read_binding

    try:
        config = load_config(paths.config_file)
    except (ConfigError, OSError):
        return  # no usable config yet: the first start binds the server it names
    url = os.environ.get(URL_ENV) or config.server.url
    if not url or os.environ.get(URL_ENV):
        return  # none yet, or from the environment (always trusted)
    before = read_binding(paths)
    try:
        origin = bind_origin(paths, url)
    except ValueError:
        return
    if before.pending == origin:
        print(f"{url} was set over the control channel; the token is now confirmed for it")
    else:
        print(f"the token is confirmed for {origin}")


def _cmd_logout(args: argparse.Namespace) -> int:
    from pywats_station.secrets import delete_token

    paths = _paths(args)
    delete_token(paths)
    print("stored token deleted")
    _tell_running_daemon(paths)
    return ExitCode.OK


def _tell_running_daemon(paths: Any) -> None:
    """A running daemon notices a changed token or config within seconds: say so."""
    from pywats_station.status import read_status

    snapshot = read_status(paths)
    if snapshot is not None:
        print(f"the running daemon (pid {snapshot.pid}) reconnects with it within a few seconds")


# --- config ---------------------------------------------------------------------------------


def _cmd_config(args: argparse.Namespace) -> int:
    from pywats_station.config import default_config_text, redacted
    from pywats_station.paths import atomic_write

    paths = _paths(args)
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
        return _check_config(paths)
    config = _config(paths)
    print(json.dumps(redacted(config), indent=2))
    return ExitCode.OK


def _check_config(paths: Any) -> int:
    """``config check``: errors exit 3 (as everywhere); warnings are listed, not only logged."""
    from pywats_station.config import ConfigError, read_config

    if not paths.config_file.exists():
        _config(paths)  # the usual "no configuration … config init" error
    try:
        loaded = read_config(paths.config_file)
    except ConfigError as exc:
        raise CliError(
            f"invalid configuration {paths.config_file}:\n{exc}", ExitCode.CONFIG
        ) from exc
    if not loaded.warnings:
        print(f"{paths.config_file}: OK")
        return ExitCode.OK
    count = len(loaded.warnings)
    print(f"{paths.config_file}: OK, with {count} warning{'s' if count > 1 else ''}:")
    for warning in loaded.warnings:
        print(f"  {warning}")
    return ExitCode.OK


# --- send-test-report -----------------------------------------------------------------------


def _cmd_send_test_report(args: argparse.Namespace) -> int:
    from pywats import (
        AuthenticationError,
        AuthorizationError,
        CompOp,
        ReportBuilder,
        TransportError,
        ValidationError,
        pyWATS,
    )
    from pywats_station.secrets import SecretsError, resolve_token

    paths = _paths(args)
    config = _config(paths)
    if not config.server.url:
        raise CliError("server.url is not configured", ExitCode.CONFIG)
    station = config.station.effective_name
    builder = ReportBuilder.uut(
        pn="PYWATS-TEST",
        sn=f"TEST-{time.strftime('%Y%m%d-%H%M%S')}",
        rev="1",
        process_code=_test_operation(paths),
        station=station,
        location=config.station.location or "Unknown",
        purpose=config.station.purpose or "Test",
        operator=getpass.getuser(),
    )
    builder.root.numeric("Supply voltage", 5.0, CompOp.GELE, low=4.75, high=5.25, unit="V")
    builder.root.pass_fail("Connection test", True)
    report = builder.build()
    try:
        token = resolve_token(config, paths, os.environ)
    except SecretsError as exc:
        raise CliError(f"the API token cannot be used: {exc}", ExitCode.AUTH) from exc
    try:
        with pyWATS(config.server.url, token, timeout=config.server.timeout) as api:
            report_id = api.report.submit_report(report)
    except (AuthenticationError, AuthorizationError) as exc:
        raise CliError(f"the server refused the token: {exc.message}", ExitCode.AUTH) from exc
    except ValidationError as exc:
        raise CliError(
            f"the server rejected the report:\n{exc.message}", ExitCode.REJECTED
        ) from exc
    except TransportError as exc:
        raise CliError(f"server unreachable: {exc}", ExitCode.UNREACHABLE) from exc
    if args.json:
        print(json.dumps({"id": report_id, "sn": report.sn, "pn": report.pn}))
    else:
        print(f"test report {report_id} ({report.pn} {report.sn}) accepted by {config.server.url}")
    return ExitCode.OK


def _test_operation(paths: Any) -> int:
    """A test operation for the test report: the first cached one (synced by the daemon), or 10."""
    from pywats_station.actors.sync import load_cache

    cache = load_cache(paths.cache_dir / "metadata.json")
    tests = [p.code for p in cache.processes if p.is_test_operation and p.active]
    return tests[0] if tests else 10


def _cmd_convert(args: argparse.Namespace) -> int:
    from pywats.formats import wsjf
    from pywats_station.converters import Converted, StationInfo
    from pywats_station.converters.tryit import render, try_convert

    paths = _paths(args)
    config = _config(paths, required=False)
    kind, arguments = args.kind, None
    alarm, reject = 0.5, 0.2
    if args.converter:
        entry = next((c for c in config.converters if c.name == args.converter), None)
        if entry is None:
            names = ", ".join(c.name for c in config.converters) or "none configured"
            raise CliError(f"no converter named {args.converter!r} ({names})", ExitCode.NOT_FOUND)
        kind, arguments = entry.kind, dict(entry.arguments)
        alarm, reject = entry.alarm_threshold, entry.reject_threshold
    if not args.file.exists():
        raise CliError(f"{args.file} does not exist", ExitCode.USAGE)
    station = config.station
    result = try_convert(
        args.file,
        kind=kind,
        arguments=arguments,
        station=StationInfo(
            name=station.effective_name,
            location=station.location or "Unknown",
            purpose=station.purpose or "Production",
        ),
        processes=_cached_processes(paths),
        base_dir=paths.config_file.parent,
        alarm=alarm,
        reject=reject,
    )
    converted = isinstance(result.result, Converted)
    if args.json and converted:
        assert isinstance(result.result, Converted)
        reports = [json.loads(wsjf.dumps(r)) for r in result.result.reports]
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    else:
        print(render(result))
    return ExitCode.OK if converted else ExitCode.ERROR


def _cached_processes(paths: Any) -> list[Any]:
    from pywats_station.actors.sync import load_cache

    return list(load_cache(paths.cache_dir / "metadata.json").processes)


def _cmd_converters(args: argparse.Namespace) -> int:
    from pywats_station.converters.registry import BUILTINS

    paths = _paths(args)
    config = _config(paths, required=False)
    configured = [
        {
            "name": c.name,
            "kind": c.kind,
            "type": c.type,
            "enabled": c.enabled,
            "watch": c.watch,
            "post_action": c.post_action,
        }
        for c in config.converters
    ]
    builtins = [
        {"kind": name, "description": getattr(cls, "description", "")}
        for name, cls in sorted(BUILTINS.items())
    ]
    if args.json:
        print(json.dumps({"configured": configured, "builtin": builtins}, indent=2))
        return ExitCode.OK
    print("configured:" if configured else "configured: none")
    for c in configured:
        state = "" if c["enabled"] else " (disabled)"
        print(f"  {c['name']}: {c['kind']} {c['type']} converter on {c['watch'] or '-'}{state}")
    print("built-in kinds:")
    for b in builtins:
        print(f"  {b['kind']}: {b['description']}")
    return ExitCode.OK


def _cmd_demo(args: argparse.Namespace) -> int:
    import trio

    from pywats_station.demo import run_demo

    code: int = trio.run(run_demo, args.duration, args.dir)
    return code


def _cmd_systemd_unit(args: argparse.Namespace) -> int:
    from pywats_station.systemd import unit_file

    paths = _paths(args)
    print(unit_file(instance=paths.instance, user=args.user, config_file=args.config), end="")
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
