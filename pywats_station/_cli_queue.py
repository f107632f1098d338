"""``pywats-station queue list|show|retry|purge|verify``: the upload queue from a shell.

While the daemon runs, the queue's lock is the daemon's: the command asks the daemon over its
control channel (``queue.list``, ``queue.show`` …). With the daemon stopped the command opens the
queue itself (it takes the queue's lock). So the same command works either way and prints the
same thing. Only when neither is possible (the daemon holds the lock but its channel does not
answer) does it fail, with exit code 4 and the reason.

Finding the running daemon needs no valid configuration (its status file and control token say
where and how): a file made invalid while the daemon runs is reported on stderr, and the command
goes on. Only the daemon-less way needs the file, for the queue's folder (``queue.path``).

One word for a human: an entry the queue calls ``failed`` (a transient failure, sent again
after a backoff) is shown, selected and documented as ``retrying``, as ``status`` counts it; the
JSON output keeps the control API's ``failed``.
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

from pywats_station._cli_common import CliError, ExitCode, instance_config, paths_of

__all__ = ["STATE_CHOICES", "cmd_queue", "shown_state"]

_TIMES = frozenset({"created_at", "next_attempt_at"})  # seconds since the epoch in the data
# The queue's (and the control API's) word for a state -> the one people read, and back.
_SHOWN = {"failed": "retrying"}
_API = {shown: state for state, shown in _SHOWN.items()}
STATE_CHOICES = ("queued", "retrying", "dead")
_HEADER = f"{'SEQ':>8} {'REPORT ID':<36} {'STATE':<9} {'CREATED':<19} NOTE"


def shown_state(state: str) -> str:
    """The word a person reads for a queue entry's state (``failed`` is ``retrying``)."""
    return _SHOWN.get(state, state)


def _api_word(word: str) -> str:
    """A state or selector as the queue and the control API name it (``retrying`` -> ``failed``)."""
    return _API.get(word, word)


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
    """The running daemon's queue over its control channel, else the queue itself."""
    from pywats_station._cli_status import daemon_url, open_daemon_client
    from pywats_station.queue import QueueLocked, ReportQueue
    from pywats_station.status import read_status

    found = instance_config(paths)
    invalid = found.problem is not None and not found.missing
    snapshot = read_status(paths)
    why = "it is not running"
    if snapshot is not None:
        if invalid or snapshot.config_problem:
            _warn_config(snapshot.config_problem or found.problem)
        url = daemon_url(paths, snapshot)
        why = "its control channel is not listening"
        if url is not None:
            try:
                client = open_daemon_client(paths, url, snapshot)
            except Exception as exc:
                why = f"its control channel did not answer ({exc})"
            else:
                with closing(client):
                    yield _Remote(client)
                return
    if invalid:
        if snapshot is not None:  # running, but not answering: the queue is its
            raise CliError(
                f"the daemon is running but {why}: stop it to use the queue directly",
                ExitCode.LOCKED,
            )
        raise CliError(
            f"{found.problem}\nthe queue's folder (queue.path) is read from this file: fix it "
            "first (`pywats-station config check` names every problem)",
            ExitCode.CONFIG,
        )
    config = found.config
    try:
        queue = ReportQueue.open(config.queue.directory(paths), max_bytes=config.queue.max_bytes)
    except QueueLocked as exc:
        raise CliError(
            f"{exc}; the daemon is running but {why}: stop it to use the queue directly",
            ExitCode.LOCKED,
        ) from exc
    with queue:
        yield _Local(queue)


def _warn_config(problem: str | None) -> None:
    """Say on stderr that the file on disk is not what the daemon runs on (stdout stays data)."""
    print(
        "pywats-station: warning: the configuration file is invalid and was not applied; the "
        "daemon runs on the configuration it loaded before:",
        file=sys.stderr,
    )
    for line in str(problem).splitlines():
        print(f"  {line}", file=sys.stderr)


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
        state = _api_word(args.state) if args.state else None
        entries = queue.list(state, args.offset, args.limit)
        if args.json:
            print(json.dumps(entries, indent=2))
        else:
            _print_list(entries, args.state)
        return ExitCode.OK
    if action == "show":
        shown = queue.show(args.entry)
        if args.json:
            print(json.dumps(shown, indent=2))
            return ExitCode.OK
        for key, value in shown["entry"].items():
            if key in _TIMES and isinstance(value, (int, float)):
                value = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(value))
            elif key == "state":
                value = shown_state(value)
            print(f"{key}: {'-' if value is None else value}")
        for key, value in (shown.get("report") or {}).items():
            print(f"report.{key}: {value}")
        return ExitCode.OK
    if action == "retry":
        print(f"{_entries(queue.retry(_api_word(args.selector)))} queued again")
        return ExitCode.OK
    if action == "purge":
        if not args.yes and sys.stdin.isatty():
            answer = input(f"delete {args.selector!r} from the queue for good? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                return ExitCode.OK
        print(f"{_entries(queue.purge(_api_word(args.selector)))} deleted")
        return ExitCode.OK
    verified = queue.verify()
    if args.json:
        print(json.dumps(verified, indent=2))
    else:
        print(
            f"{_entries(verified['ok'])} ok, {verified['corrupt']} corrupt (set aside in the "
            f"queue's corrupt/ folder), {verified['orphans']} orphan files removed"
        )
    return ExitCode.OK


def _print_list(entries: list[dict[str, Any]], state: str | None) -> None:
    if not entries:
        print("no entries" + (f" in state {state}" if state else ""))
        return
    print(_HEADER)
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["created_at"]))
        note = e.get("dead_reason") or e.get("last_error") or ""
        note = note.splitlines()[0] if note else ""
        row = f"{e['seq']:>8} {e['report_id']:<36} {shown_state(e['state']):<9} {when} {note}"
        print(row.rstrip())


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"
