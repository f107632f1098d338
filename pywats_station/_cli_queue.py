"""``pywats-station queue list|show|retry|purge|verify``: the upload queue from a shell.

With the daemon stopped the command opens the queue itself (it takes the queue's lock). While
the daemon runs, the lock is the daemon's: the command then asks the daemon over its control
channel (``queue.list``, ``queue.show`` …), so the same command works either way and prints the
same thing. Only when neither is possible (the daemon holds the lock but its channel does not
answer) does it fail, with exit code 4 and the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any, Protocol

import msgspec

from pywats_station._cli_common import CliError, ExitCode, load_instance_config, paths_of

__all__ = ["cmd_queue"]

_TIMES = frozenset({"created_at", "next_attempt_at"})  # seconds since the epoch in the data


class _Queue(Protocol):
    """What the commands need, from the queue itself or from the daemon; plain JSON values."""

    def list(self, state: str | None, offset: int, limit: int) -> list[dict[str, Any]]: ...
    def show(self, selector: str) -> dict[str, Any]: ...
    def retry(self, selector: str) -> int: ...
    def purge(self, selector: str) -> int: ...
    def verify(self) -> dict[str, Any]: ...


class _Local:
    """The queue opened by this process (the daemon is not running)."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def list(self, state: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
        from pywats_station.queue import EntryState

        wanted = EntryState(state) if state else None
        entries = self._queue.list(state=wanted, offset=offset, limit=limit)
        return [msgspec.to_builtins(e) for e in entries]

    def show(self, selector: str) -> dict[str, Any]:
        from pywats.formats import wsjf
        from pywats_station.actors.control_methods import report_header
        from pywats_station.queue import CorruptEntry, EntryNotFound

        entry = self._queue.show(selector)
        try:
            report = msgspec.to_builtins(report_header(wsjf.loads(self._queue.read(entry))))
        except (CorruptEntry, EntryNotFound, msgspec.DecodeError, ValueError):
            report = None  # unreadable (now set aside): the entry still says a lot
        return {"entry": msgspec.to_builtins(entry), "report": report}

    def retry(self, selector: str) -> int:
        count: int = self._queue.retry(selector)
        return count

    def purge(self, selector: str) -> int:
        count: int = self._queue.purge(selector)
        return count

    def verify(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self._queue.verify())
        return result


class _Remote:
    """The running daemon's queue, through its control channel."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def list(self, state: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if state:
            params["state"] = state
        entries: list[dict[str, Any]] = self._client.call("queue.list", params)["entries"]
        return entries

    def show(self, selector: str) -> dict[str, Any]:
        shown: dict[str, Any] = self._client.call("queue.show", {"entry": selector})
        return shown

    def retry(self, selector: str) -> int:
        count: int = self._client.call("queue.retry", {"selector": selector})["count"]
        return count

    def purge(self, selector: str) -> int:
        count: int = self._client.call("queue.purge", {"selector": selector})["count"]
        return count

    def verify(self) -> dict[str, Any]:
        # Reads every payload: allow it the time a big backlog needs.
        result: dict[str, Any] = self._client.call("queue.verify", timeout=3600)
        return result


@contextmanager
def _open(paths: Any) -> Iterator[_Queue]:
    """The queue itself if free, else the daemon's over the control channel."""
    from pywats_station.queue import QueueLocked, ReportQueue

    config = load_instance_config(paths, required=False)
    try:
        queue = ReportQueue.open(config.queue.directory(paths), max_bytes=config.queue.max_bytes)
    except QueueLocked as exc:
        with _daemon_client(paths, config, exc) as client:
            yield _Remote(client)
        return
    with queue:
        yield _Local(queue)


@contextmanager
def _daemon_client(paths: Any, config: Any, locked: Exception) -> Iterator[Any]:
    from pywats_station._cli_status import daemon_url, open_daemon_client

    url = daemon_url(paths)
    if url is None:
        why = "its control channel is not listening"
    else:
        try:
            client = open_daemon_client(paths, url, config)
        except Exception as exc:
            why = f"its control channel did not answer ({exc})"
        else:
            with closing(client):
                yield client
            return
    raise CliError(
        f"{locked}; the daemon is running but {why}: stop it to use the queue directly",
        ExitCode.LOCKED,
    )


def cmd_queue(args: argparse.Namespace) -> int:
    """``pywats-station queue ACTION``."""
    from pywats_station.control import ControlError, ErrorCode
    from pywats_station.queue import EntryNotFound

    paths = paths_of(args)
    try:
        with _open(paths) as queue:
            return _run(args, queue)
    except EntryNotFound as exc:
        raise CliError(str(exc), ExitCode.NOT_FOUND) from exc
    except ValueError as exc:  # a selector that is neither a seq, an id nor a keyword
        raise CliError(str(exc), ExitCode.USAGE) from exc
    except ControlError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise CliError(exc.message, ExitCode.NOT_FOUND) from exc
        if exc.code == ErrorCode.INVALID_PARAMS:
            raise CliError(exc.message, ExitCode.USAGE) from exc
        raise CliError(f"the daemon answered: {exc.message}", ExitCode.ERROR) from exc


def _run(args: argparse.Namespace, queue: _Queue) -> int:
    action = args.queue_command
    if action == "list":
        entries = queue.list(args.state, args.offset, args.limit)
        if args.json:
            print(json.dumps(entries, indent=2))
        elif not entries:
            print("no entries" + (f" in state {args.state}" if args.state else ""))
        for e in [] if args.json else entries:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["created_at"]))
            note = e.get("dead_reason") or e.get("last_error") or ""
            note = note.splitlines()[0] if note else ""
            print(f"{e['seq']:>8} {e['report_id']} {e['state']:<9} {when} {note}".rstrip())
        return ExitCode.OK
    if action == "show":
        shown = queue.show(args.entry)
        if args.json:
            print(json.dumps(shown, indent=2))
            return ExitCode.OK
        for key, value in shown["entry"].items():
            if key in _TIMES and isinstance(value, (int, float)):
                value = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(value))
            print(f"{key}: {'-' if value is None else value}")
        for key, value in (shown.get("report") or {}).items():
            print(f"report.{key}: {value}")
        return ExitCode.OK
    if action == "retry":
        print(f"{_entries(queue.retry(args.selector))} queued again")
        return ExitCode.OK
    if action == "purge":
        if not args.yes and sys.stdin.isatty():
            answer = input(f"delete {args.selector!r} from the queue for good? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                return ExitCode.OK
        print(f"{_entries(queue.purge(args.selector))} deleted")
        return ExitCode.OK
    print(json.dumps(queue.verify(), indent=2))
    return ExitCode.OK


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"
