"""``pywats-station``: run the daemon and manage an instance from a shell.

The global options (``--config``, ``--instance``, ``-v``) are accepted before the command and
after it alike: ``pywats-station --instance line-b status`` and ``pywats-station status
--instance line-b`` are the same.

Exit codes (stable, documented in ``docs/operations.md``):

=====  =========================================================
0      success (``status``: the daemon runs and is healthy)
1      unexpected error
2      usage error (bad arguments)
3      configuration missing or invalid (``config check``: also a converter the daemon
       would show broken)
4      the queue is locked: another daemon of this instance runs (`run`), or
       the running daemon's control channel does not answer (`queue …`)
5      server unreachable
6      no usable API token: none is set, or the server refused it (``login``:
       the token tried was refused, and not stored)
7      the server rejected the report
8      no such queue entry
9      ``status``: the daemon runs but is not healthy (the reasons are listed: an
       actor given up on, auth_failed, no server configured, a broken converter,
       dead letters, an invalid configuration file not applied); ``diagnose``: a check failed
10     ``status``: the daemon is not running
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
from pywats_station._cli_common import CliError, ExitCode, instance_config
from pywats_station._cli_common import load_instance_config as _config
from pywats_station._cli_common import paths_of as _paths
from pywats_station._cli_config import cmd_config
from pywats_station._cli_diagnose import cmd_diagnose
from pywats_station._cli_login import cmd_login, cmd_logout
from pywats_station._cli_proxy import cmd_proxy
from pywats_station._cli_queue import STATE_CHOICES, cmd_queue
from pywats_station._cli_service import (
    add_service_commands,
    cmd_install_service,
    cmd_uninstall_service,
)
from pywats_station._cli_status import cmd_control, cmd_status

__all__ = ["ExitCode", "main"]


def _global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name.

    After the name they are the subcommand's: there ``SUPPRESS`` is their default, so that an
    option given before the name is not reset by the subcommand.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--config",
        type=Path,
        default=default(None),
        help="configuration file (default: per instance)",
    )
    options.add_argument(
        "--instance",
        default=default(None),
        help="instance name (default: $PYWATS_INSTANCE or default)",
    )
    options.add_argument(
        "-v", "--verbose", action="count", default=default(0), help="more log output"
    )
    return options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pywats-station",
        description="The pyWATS test-station daemon: converts test files into WATS reports "
        "and uploads them, never losing one.",
        parents=[_global_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"pywats-station {__version__}")
    common = [_global_options(suppress=True)]
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(group: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        """A (sub)command that also takes the global options."""
        sub: argparse.ArgumentParser = group.add_parser(name, help=help_text, parents=common)
        return sub

    command(commands, "run", "run the daemon in the foreground (as systemd does)")

    status = command(commands, "status", "show the instance's state; the exit code says if healthy")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    control = command(commands, "control", "the control channel (TUI, MES tools, scripts)")
    control_cmd = control.add_subparsers(dest="control_command", required=True, metavar="ACTION")
    token = command(
        control_cmd,
        "token",
        "print the operator control token (the one to give MES tools and TUIs)",
    )
    token.add_argument("--path", action="store_true", help="print the token file's path instead")
    token.add_argument(
        "--admin",
        action="store_true",
        help="the admin token instead (config.set, user code): keep it on the station",
    )
    command(control_cmd, "url", "print where the control channel listens")

    login = command(commands, "login", "try the API token on the server and store it, encrypted")
    login.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    login.add_argument("--url", help="also set server.url in the configuration")
    login.add_argument(
        "--force", action="store_true", help="store the token even if the server refuses it"
    )
    command(commands, "logout", "delete the stored API token")

    proxy = command(
        commands,
        "proxy",
        "show or set server.proxy (system, none or a URL); a password is stored encrypted",
    )
    proxy.add_argument(
        "setting",
        nargs="?",
        help="system (the environment's HTTPS_PROXY...), none, or http://[USER@]HOST:PORT; "
        "a USER is asked for the password (default: show the current setting)",
    )
    proxy.add_argument(
        "--password-stdin", action="store_true", help="read the proxy password from stdin"
    )

    config = command(commands, "config", "show, check or create the configuration")
    config_cmd = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    command(config_cmd, "path", "print the configuration file's path")
    command(config_cmd, "show", "print the effective configuration (secrets hidden)")
    command(config_cmd, "check", "validate the configuration and load its converters")
    init = command(config_cmd, "init", "write a commented starter configuration")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    queue = command(commands, "queue", "inspect and manage the upload queue")
    queue_cmd = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    qlist = command(queue_cmd, "list", "list entries, oldest first")
    qlist.add_argument(
        "--state",
        # `failed` is the queue's own word for `retrying`: still understood, never shown.
        choices=[*STATE_CHOICES, "failed"],
        metavar="{" + ",".join(STATE_CHOICES) + "}",
        help="only this state",
    )
    qlist.add_argument("--offset", type=int, default=0)
    qlist.add_argument("--limit", type=int, default=50)
    qlist.add_argument("--json", action="store_true")
    show = command(queue_cmd, "show", "show one entry (by report id or sequence number)")
    show.add_argument("entry")
    show.add_argument("--json", action="store_true")
    retry = command(queue_cmd, "retry", "send dead or retrying entries again now")
    retry.add_argument("selector", help="report id, sequence number, dead, retrying or all")
    purge = command(queue_cmd, "purge", "delete entries (they will not be uploaded)")
    purge.add_argument("selector", help="report id, sequence number, dead, retrying or all")
    purge.add_argument("--yes", action="store_true", help="do not ask")
    verify = command(queue_cmd, "verify", "check every entry's checksum; set corrupt ones aside")
    verify.add_argument("--json", action="store_true")

    diagnose = command(
        commands, "diagnose", "check the station, the route to the server and the service"
    )
    diagnose.add_argument("--json", action="store_true", help="machine-readable output")

    test = command(commands, "send-test-report", "send a small test report to the server")
    test.add_argument("--json", action="store_true")

    convert = command(commands, "convert", "convert one file without the daemon")
    convert.add_argument("file", type=Path, help="the file (or folder) to convert")
    which = convert.add_mutually_exclusive_group()
    which.add_argument("--converter", help="use this configured converter (its arguments too)")
    which.add_argument(
        "--kind",
        help="a converter kind: a built-in (converters list), module:Class or x.py; without "
        "--kind or --converter the built-in most sure of the file converts it",
    )
    convert.add_argument("--json", action="store_true", help="print the reports as WSJF")

    converters = command(commands, "converters", "the configured converters")
    conv_cmd = converters.add_subparsers(dest="converters_command", required=True, metavar="ACTION")
    clist = command(conv_cmd, "list", "list configured and built-in converters")
    clist.add_argument("--json", action="store_true")

    demo = command(commands, "demo", "run a station on the embedded emulator with sample files")
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: at Ctrl-C)"
    )
    demo.add_argument("--dir", type=Path, help="work folder (default: a new temporary one)")

    unit = command(commands, "systemd-unit", "print a systemd unit for this instance")
    unit.add_argument("--user", default="pywats", help="the service user (default pywats)")
    unit.add_argument(
        "--token-credential",
        type=Path,
        metavar="FILE",
        help="pass the API token from FILE with LoadCredential= (see install-service)",
    )
    add_service_commands(command, commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pywats-station``; returns the exit code."""
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.command)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _cmd_run,
        "status": cmd_status,
        "control": cmd_control,
        "login": cmd_login,
        "logout": cmd_logout,
        "proxy": cmd_proxy,
        "config": cmd_config,
        "queue": cmd_queue,
        "diagnose": cmd_diagnose,
        "send-test-report": _cmd_send_test_report,
        "convert": _cmd_convert,
        "converters": _cmd_converters,
        "demo": _cmd_demo,
        "systemd-unit": _cmd_systemd_unit,
        "install-service": cmd_install_service,
        "uninstall-service": cmd_uninstall_service,
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

    from pywats_station._fsjournal import install_from_env

    install_from_env()  # the power-cut test's journal; inert unless its variable is set
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


# --- send-test-report -----------------------------------------------------------------------


def _cmd_send_test_report(args: argparse.Namespace) -> int:
    from pywats import (
        AuthenticationError,
        AuthorizationError,
        CompOp,
        HTTPError,
        ReportBuilder,
        TransportError,
        ValidationError,
        pyWATS,
    )
    from pywats_station._cli_proxy import access_of
    from pywats_station.secrets import TOKEN_ENV, SecretsError, resolve_token
    from pywats_station.server_access import explain

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
    if not token:
        # Sending none would only earn a 401 and the false news that the token was refused.
        raise CliError(
            "no API token is set: run `pywats-station login` (or set "
            f"${TOKEN_ENV} or server.token_file)",
            ExitCode.AUTH,
        )
    access = access_of(config, paths)  # the CA and proxy, as the daemon reaches the server
    try:
        with pyWATS(
            config.server.url, token, timeout=config.server.timeout, **access.client_options()
        ) as api:
            report_id = api.report.submit_report(report)
    except (AuthenticationError, AuthorizationError) as exc:
        raise CliError(f"the server refused the token: {exc.message}", ExitCode.AUTH) from exc
    except ValidationError as exc:
        raise CliError(
            f"the server rejected the report:\n{exc.message}", ExitCode.REJECTED
        ) from exc
    except (TransportError, HTTPError) as exc:
        why = explain(exc, access)
        if why is None and isinstance(exc, HTTPError):
            raise
        raise CliError(f"server unreachable: {why or exc}", ExitCode.UNREACHABLE) from exc
    if args.json:
        print(json.dumps({"id": str(report_id), "sn": report.sn, "pn": report.pn}))
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
    if args.converter:
        config = _config(paths, required=False)  # the converter's entry is in the file
    else:
        # Only the station's name and place come from the file: an invalid one must not stop
        # a dry run with a kind given on the command line.
        found = instance_config(paths)
        config = found.config
        if found.problem is not None and not found.missing:
            print(
                f"pywats-station: warning: the configuration is not used ({found.problem}); "
                "the reports carry the default station name and place",
                file=sys.stderr,
            )
    kind, arguments, entry = args.kind, None, None
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
    station = StationInfo(
        name=config.station.effective_name,
        location=config.station.location or "Unknown",
        purpose=config.station.purpose or "Production",
    )
    if entry is not None:  # its own [converters.station], as the daemon would use it
        station = entry.station.over(station)
    result = try_convert(
        args.file,
        kind=kind,
        arguments=arguments,
        station=station,
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
    from pywats_station.systemd import unit_file, writable_paths

    paths = _paths(args)
    # The unit install-service writes: its writable folders come from the configuration.
    config = _config(paths, required=False)
    credential = args.token_credential.absolute() if args.token_credential else None
    text = unit_file(
        instance=paths.instance,
        user=args.user,
        config_file=args.config.absolute() if args.config else None,
        read_write_paths=writable_paths(config, paths),
        token_credential=credential,
    )
    print(text, end="")
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
