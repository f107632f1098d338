"""A scripted station for the UI tests: the :class:`~pywats_station.tui.link.Link` interface
without a daemon, a thread or trio.

Every answer it gives is checked against the control API's own result types (msgspec), so a
fake that drifts from what the daemon really sends fails the tests instead of hiding a bug.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import msgspec

from pywats_station.control import ControlError, ErrorCode
from pywats_station.control import models as m
from pywats_station.tui.link import LinkDown
from pywats_station.tui.messages import DaemonEvent, LinkState, Snapshot

Handler = Callable[[dict[str, Any]], Any]

NOW = 1_780_000_000.0
"""A fixed clock for the scripted data."""


def sample_status(**changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "instance": "default",
        "pid": 4242,
        "version": "0.1.0",
        "station": "ict-01",
        "server_url": "https://wats.example.com",
        "connection": "online",
        "server_version": "24.1.0",
        "started_at": NOW - 3600,
        "uptime": 3600.0,
        "last_online_at": NOW - 2,
        "queue": {
            "depth": 3,
            "queued": 2,
            "failed": 0,
            "uploading": 0,
            "dead": 1,
            "corrupt": 0,
            "bytes": 12_345,
            "max_bytes": 1 << 30,
            "oldest_created_at": NOW - 50,
            "next_attempt_at": None,
        },
        "counters": {
            "queued": 120,
            "uploaded": 117,
            "upload_failures": 2,
            "rejected": 1,
            "converted": 119,
            "conversion_failures": 3,
        },
        "processes_cached": 12,
        "processes_synced_at": NOW - 300,
        "control_connections": 1,
    }
    status.update(changes)
    msgspec.convert(status, m.StationStatus)
    return status


def sample_converters() -> list[dict[str, Any]]:
    converters = [
        {
            "name": "ict",
            "kind": "teradyne_spectrum",
            "type": "file",
            "enabled": True,
            "state": "watching",
            "watch": "/srv/ict/in",
            "patterns": ["*.txt"],
            "converted": 80,
            "failed": 2,
            "restarts": 0,
            "last_file": "board-17.txt",
            "last_error": "line 3: not a Spectrum log",
            "last_activity_at": NOW - 30,
        },
        {
            "name": "fct",
            "kind": "csv",
            "type": "file",
            "enabled": False,
            "state": "disabled",
            "watch": "/srv/fct/in",
            "patterns": ["*.csv"],
        },
    ]
    msgspec.convert({"converters": converters}, m.ConvertersListResult)
    return converters


def sample_tree() -> dict[str, Any]:
    child = {"kind": "child", "state": "running", "restart": "permanent", "uptime": 3600.0}
    tree = {
        "name": "station",
        "kind": "supervisor",
        "state": "running",
        "strategy": "one_for_all",
        "children": [
            {**child, "name": "connection"},
            {**child, "name": "uploader"},
            {
                "name": "converters",
                "kind": "supervisor",
                "state": "running",
                "strategy": "one_for_one",
                "children": [
                    {
                        **child,
                        "name": "converter:ict",
                        "restarts": 1,
                        "last_error": "watch folder vanished",
                    }
                ],
            },
        ],
    }
    msgspec.convert(tree, m.TreeNode)
    return tree


def unit(serial: str, result: str = "Passed") -> dict[str, Any]:
    return {
        "kind": "uut",
        "part_number": "PCBA-100",
        "serial_number": serial,
        "revision": "B",
        "process_code": 10,
        "result": result,
        "station": "ict-01",
    }


class FakeLink:
    """A station that answers from ``handlers`` (method → function of params).

    Attributes:
        calls: Every call made, in order (method, params).
    """

    def __init__(self, label: str = "ict-01", *, role: str = "admin") -> None:
        self.label = label
        self.role = role
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handlers: dict[str, Handler] = {}
        self.online = True
        self.closed = False
        self.logs_wanted = False
        self.status = sample_status()
        self.converters = sample_converters()
        self.tree = sample_tree()
        self._post: Callable[[Any], Any] | None = None

    # --- Link --------------------------------------------------------------------------------

    def attach(self, post: Callable[[Any], Any]) -> None:
        self._post = post
        if self.online:
            self.go_online()

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        params = params or {}
        self.calls.append((method, params))
        if not self.online:
            raise LinkDown(self.label, "the station closed the connection")
        handler = self.handlers.get(method)
        if handler is None:
            raise ControlError(ErrorCode.METHOD_NOT_FOUND, f"fake has no {method}")
        return copy.deepcopy(handler(params))

    def close(self) -> None:
        self.closed = True

    def want_logs(self, wanted: bool) -> None:
        self.logs_wanted = wanted

    # --- script ------------------------------------------------------------------------------

    def post(self, message: Any) -> None:
        assert self._post is not None, "attach() first"
        self._post(message)

    def go_online(self) -> None:
        self.online = True
        self.post(LinkState(self.label, "online", role=self.role))
        self.snapshot()

    def go_down(
        self, why: str = "the station closed the connection", retry_in: float = 4.0
    ) -> None:
        self.online = False
        self.post(LinkState(self.label, "retrying", detail=why, retry_at=time.time() + retry_in))

    def snapshot(self) -> None:
        self.post(
            Snapshot(
                self.label,
                copy.deepcopy(self.status),
                copy.deepcopy(self.converters),
                copy.deepcopy(self.tree),
            )
        )

    def event(self, name: str, payload: dict[str, Any]) -> None:
        self.post(DaemonEvent(self.label, name, payload))

    def refuse(self, method: str, code: ErrorCode, message: str) -> None:
        """Make ``method`` fail as the daemon would."""

        def fail(_params: dict[str, Any]) -> Any:
            raise ControlError(code, message)

        self.handlers[method] = fail
