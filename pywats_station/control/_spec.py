"""What a method or notification *is*, independent of any handler: name, types, summary, errors.

The catalogue (:mod:`pywats_station.control.methods`) is a list of these specs, so the
documentation and the OpenRPC document exist before the daemon registers a single handler; the
registry (:mod:`pywats_station.control.registry`) binds specs to handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from pywats_station.control.protocol import NOTIFY_PREFIX, ErrorCode
from pywats_station.control.roles import Role, RoleName

__all__ = [
    "Event",
    "EventsParams",
    "EventsResult",
    "LoginParams",
    "LoginResult",
    "MethodSpec",
    "NoParams",
    "NotificationSpec",
    "Params",
    "PingResult",
    "Result",
]

_METHOD_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Params(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of every method's params: unknown names are refused (a typo is an error)."""


class NoParams(Params):
    """No parameters: send no ``params`` member, ``{}`` or ``[]``."""


class Result(msgspec.Struct, kw_only=True):
    """Base of every method's result."""


class Event(msgspec.Struct, kw_only=True):
    """Base of every notification payload."""


# --- the built-in methods' types (the framework implements them in every registry) ---------


class PingResult(Result, kw_only=True):
    """The answer to ``station.ping``.

    Attributes:
        pong: Always true.
        authenticated: Whether this connection is authenticated.
        role: What this connection may do: `none` (not authenticated), `operator` or `admin`.
        time: The station's clock (seconds since the epoch).
    """

    pong: bool = True
    authenticated: bool
    role: RoleName
    time: float


class LoginParams(Params, kw_only=True):
    """Authenticate this connection.

    Attributes:
        token: The operator token (the daemon's ``control-token`` file) or the admin token
            (``control-admin-token``).
    """

    token: str


class LoginResult(Result, kw_only=True):
    """A successful login (a refused one is error -32001).

    Attributes:
        authenticated: Always true.
        role: The role the connection now holds: `operator` or `admin`.
        note: Why the role is lower than the token's (an admin token from another machine
            while `[control] remote_admin` is off); null otherwise.
    """

    authenticated: bool = True
    role: RoleName
    note: str | None = None


class EventsParams(Params, kw_only=True):
    """Events to (un)subscribe.

    Attributes:
        events: Event names (see the notification catalogue), or ``["*"]`` for all of them.
    """

    events: Annotated[list[str], msgspec.Meta(min_length=1, max_length=64)]


class EventsResult(Result, kw_only=True):
    """The connection's subscriptions after the change.

    Attributes:
        events: Subscribed event names, sorted; ``"*"`` stands for every event.
    """

    events: list[str]


@dataclass(frozen=True)
class MethodSpec:
    """One method of the control channel.

    Attributes:
        name: ``area.verb`` (lower case, dot separated), e.g. ``queue.list``.
        params: The params type: a :class:`msgspec.Struct`, decoded from a by-name object or a
            positional array (in field order).
        result: The result type (a Struct, or any type msgspec can encode and describe).
        summary: One line for tables.
        description: More prose for the OpenRPC document and the reference.
        role: The role a connection needs to call it (:mod:`~pywats_station.control.roles`):
            ``Role.NONE`` for the public ones (discovery, ping, login).
        errors: Application error codes the method may answer with, besides the generic ones
            (-32602 when it has params, -32001 when it needs a role, -32005 when it needs
            admin, -32003, -32603).
    """

    name: str
    params: type[msgspec.Struct]
    result: Any
    summary: str
    description: str = ""
    role: Role = Role.OPERATOR
    errors: tuple[ErrorCode, ...] = ()

    def __post_init__(self) -> None:
        if not _METHOD_NAME.fullmatch(self.name):
            raise ValueError(
                f"method name {self.name!r} is not area.verb (lower case, dot separated)"
            )
        if self.name.startswith(NOTIFY_PREFIX):
            raise ValueError(f"{self.name!r}: the notify. prefix is reserved for notifications")
        if not (isinstance(self.params, type) and issubclass(self.params, msgspec.Struct)):
            raise TypeError(f"{self.name}: params must be a msgspec.Struct type")
        if not isinstance(self.role, Role):
            raise TypeError(f"{self.name}: role must be a Role, not {self.role!r}")


@dataclass(frozen=True)
class NotificationSpec:
    """One server-to-client event, sent as the notification ``notify.<event>``.

    Attributes:
        event: The event name used with ``events.subscribe`` (``report_uploaded``).
        payload: The payload type; it is the notification's ``params`` (by name).
        summary: One line for tables.
        description: More prose.
    """

    event: str
    payload: type[msgspec.Struct]
    summary: str
    description: str = ""

    def __post_init__(self) -> None:
        if not _EVENT_NAME.fullmatch(self.event):
            raise ValueError(f"event name {self.event!r} must be lower_snake_case")

    @property
    def method(self) -> str:
        """The JSON-RPC method name of the notification."""
        return NOTIFY_PREFIX + self.event
