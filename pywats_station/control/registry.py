"""The method registry: where the daemon binds handlers to method names, and the built-in methods.

::

    registry = Registry()

    @registry.implement(methods.QUEUE_LIST)          # name, types, summary, errors from the spec
    async def queue_list(ctx: CallContext, params: QueueListParams) -> QueueListResult:
        ...

    @registry.method("station.reboot", params=NoParams, result=RebootResult,
                     summary="Reboot the station.")  # a method outside the catalogue
    async def reboot(ctx: CallContext, params: NoParams) -> RebootResult:
        ...

A handler gets a :class:`CallContext` and its params already decoded into the params type
(by-name object or positional array; a mismatch is answered with -32602 naming the field before
the handler runs). It returns the result (encoded with msgspec) or raises
:class:`~pywats_station.control.protocol.ControlError`; any other exception is answered with a
generic -32603 and logged with its traceback.

Every registry holds the framework's built-ins: ``rpc.discover``, ``station.ping``,
``auth.login``, ``events.subscribe`` and ``events.unsubscribe``.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from pywats._version import __version__
from pywats_station.control import methods as catalogue_module
from pywats_station.control._connection import ALL_EVENTS, ControlConnection
from pywats_station.control._openrpc import build_openrpc
from pywats_station.control._spec import (
    EventsParams,
    EventsResult,
    LoginParams,
    LoginResult,
    MethodSpec,
    NoParams,
    NotificationSpec,
    PingResult,
)
from pywats_station.control.protocol import ControlError, ErrorCode, RequestId, echo
from pywats_station.control.roles import Role

__all__ = [
    "CallContext",
    "Handler",
    "MethodSpec",
    "NoParams",
    "NotificationSpec",
    "RegisteredMethod",
    "Registry",
    "decode_params",
]

DEFAULT_TITLE = "pywats-station control API"
Handler = Callable[[Any, Any], Awaitable[Any]]
"""``async def handler(ctx: CallContext, params: P) -> R``."""
H = TypeVar("H", bound=Handler)

_AT_PATH = re.compile(r"- at `\$([^`]*)`")
_NAMED = re.compile(r"field `([^`]+)`")


@dataclass(frozen=True)
class CallContext:
    """What a handler knows about the call.

    Attributes:
        connection: The client's connection (subscriptions, statistics).
        method: The method name called.
        id: The request id; ``None`` for a notification (no reply is sent).
    """

    connection: ControlConnection
    method: str
    id: RequestId

    @property
    def peer(self) -> str:
        """The client's address."""
        return self.connection.peer

    @property
    def authenticated(self) -> bool:
        """Whether the connection is authenticated (always true in methods that need it)."""
        return self.connection.authenticated

    @property
    def role(self) -> Role:
        """What the connection may do; at least the method's ``role``, for per-call checks.

        A handler that allows more to admins than to operators checks it itself, e.g.
        ``if ctx.role < Role.ADMIN: raise ControlError(ErrorCode.FORBIDDEN, ...)``.
        """
        return self.connection.role


@dataclass(frozen=True)
class RegisteredMethod:
    """A spec bound to its handler.

    Attributes:
        spec: The method's spec.
        handler: The coroutine function called.
        inline: Run in the connection's reader, in message order, before the next message is
            read (the built-ins, so that a login takes effect for the very next message);
            otherwise each call runs in its own task.
    """

    spec: MethodSpec
    handler: Handler
    inline: bool = False


def decode_params(params_type: type[msgspec.Struct], raw: Any) -> Any:
    """Decode a request's params into ``params_type``.

    Args:
        params_type: The method's params Struct.
        raw: ``params`` as received: a dict (by name), a list (by position, in field order), or
            ``msgspec.UNSET``/``None`` (no params).

    Raises:
        ControlError: -32602 naming the offending field (also in ``data.field``).
    """
    if raw is msgspec.UNSET or raw is None:
        raw = {}
    if isinstance(raw, list):
        fields = msgspec.structs.fields(params_type)
        if len(raw) > len(fields):
            raise ControlError(
                ErrorCode.INVALID_PARAMS,
                f"invalid params: at most {len(fields)} positional params, got {len(raw)}",
            )
        raw = {info.encode_name: value for info, value in zip(fields, raw, strict=False)}
    try:
        return msgspec.convert(raw, params_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = _AT_PATH.search(message)
        named = _NAMED.search(message)
        field = (at.group(1).lstrip(".") if at else "") or (named.group(1) if named else "")
        message = _AT_PATH.sub(lambda m: f"- at `params{m.group(1)}`", message)
        data = {"field": field} if field else None
        raise ControlError(ErrorCode.INVALID_PARAMS, f"invalid params: {message}", data) from None


class Registry:
    """Methods and notifications of a control server; see the module docstring.

    Args:
        notifications: The events clients may subscribe to; the catalogue's by default.
        title: ``info.title`` of the OpenRPC document.
        version: ``info.version`` of the OpenRPC document; the package version by default.
    """

    def __init__(
        self,
        *,
        notifications: Iterable[NotificationSpec] | None = None,
        title: str = DEFAULT_TITLE,
        version: str = __version__,
    ) -> None:
        self.title = title
        self.version = version
        self._methods: dict[str, RegisteredMethod] = {}
        self._notifications: dict[str, NotificationSpec] = {}
        self._openrpc: dict[str, Any] | None = None
        for note in catalogue_module.notifications() if notifications is None else notifications:
            self.add_notification(note)
        self._add_builtins()

    # -- registration --------------------------------------------------------------------------

    def add(self, spec: MethodSpec, handler: Handler, *, inline: bool = False) -> None:
        """Register ``handler`` for ``spec``.

        Raises:
            ValueError: If the name is taken.
            TypeError: If ``handler`` is not a coroutine function.
        """
        if spec.name in self._methods:
            raise ValueError(f"method {spec.name!r} is already registered")
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"{spec.name}: the handler must be an async function")
        self._methods[spec.name] = RegisteredMethod(spec, handler, inline)
        self._openrpc = None

    def implement(self, spec: MethodSpec) -> Callable[[H], H]:
        """Decorator: register the handler of a catalogue method (``methods.QUEUE_LIST`` …)."""

        def register(handler: H) -> H:
            self.add(spec, handler)
            return handler

        return register

    def method(
        self,
        name: str,
        *,
        params: type[msgspec.Struct] = NoParams,
        result: Any,
        summary: str,
        description: str = "",
        role: Role = Role.OPERATOR,
        errors: Sequence[ErrorCode] = (),
    ) -> Callable[[H], H]:
        """Decorator: register a handler under ``name`` with its types; see :class:`MethodSpec`."""
        spec = MethodSpec(name, params, result, summary, description, role, tuple(errors))
        return self.implement(spec)

    def add_notification(self, spec: NotificationSpec) -> None:
        """Declare an event clients may subscribe to."""
        if spec.event in self._notifications:
            raise ValueError(f"event {spec.event!r} is already declared")
        self._notifications[spec.event] = spec
        self._openrpc = None

    # -- queries -------------------------------------------------------------------------------

    def get(self, name: str) -> RegisteredMethod | None:
        """The method registered under ``name``, if any."""
        return self._methods.get(name)

    def methods(self) -> list[MethodSpec]:
        """Every registered method, in registration order (built-ins first)."""
        return [entry.spec for entry in self._methods.values()]

    def notification(self, event: str) -> NotificationSpec | None:
        """The declared event ``event``, if any."""
        return self._notifications.get(event)

    def notifications(self) -> list[NotificationSpec]:
        """Every declared event."""
        return list(self._notifications.values())

    def missing(self, specs: Iterable[MethodSpec] | None = None) -> list[str]:
        """Names of catalogue methods (or ``specs``) without a registered handler.

        The daemon's tests assert this is empty: no declared-but-missing commands.
        """
        wanted = catalogue_module.catalogue() if specs is None else specs
        return [spec.name for spec in wanted if spec.name not in self._methods]

    def openrpc(self, title: str | None = None, version: str | None = None) -> dict[str, Any]:
        """The OpenRPC 1.2 document of the registered methods and declared notifications."""
        if title is not None or version is not None:
            return self._build(title or self.title, version or self.version)
        if self._openrpc is None:
            self._openrpc = self._build(self.title, self.version)
        return self._openrpc

    def _build(self, title: str, version: str) -> dict[str, Any]:
        return build_openrpc(
            self.methods(),
            self.notifications(),
            title=title,
            version=version,
            description="JSON-RPC 2.0 over a websocket; see docs/control-api.md.",
        )

    # -- built-ins -----------------------------------------------------------------------------

    def _add_builtins(self) -> None:
        builtins: list[tuple[MethodSpec, Handler]] = [
            (catalogue_module.RPC_DISCOVER, self._discover),
            (catalogue_module.STATION_PING, _ping),
            (catalogue_module.AUTH_LOGIN, _login),
            (catalogue_module.EVENTS_SUBSCRIBE, self._subscribe),
            (catalogue_module.EVENTS_UNSUBSCRIBE, self._unsubscribe),
        ]
        for spec, handler in builtins:
            self.add(spec, handler, inline=True)

    async def _discover(self, ctx: CallContext, params: NoParams) -> dict[str, Any]:
        return self.openrpc()

    def _check_events(self, events: list[str]) -> set[str]:
        for event in events:
            if event != ALL_EVENTS and event not in self._notifications:
                known = ", ".join(sorted(self._notifications)) or "none"
                raise ControlError(
                    ErrorCode.INVALID_PARAMS,
                    f"invalid params: unknown event {echo(event)!r} (known: {known}, or *)",
                    {"field": "events"},
                )
        return set(events)

    async def _subscribe(self, ctx: CallContext, params: EventsParams) -> EventsResult:
        ctx.connection.subscriptions |= self._check_events(params.events)
        return EventsResult(events=sorted(ctx.connection.subscriptions))

    async def _unsubscribe(self, ctx: CallContext, params: EventsParams) -> EventsResult:
        ctx.connection.subscriptions -= self._check_events(params.events)
        return EventsResult(events=sorted(ctx.connection.subscriptions))


async def _ping(ctx: CallContext, params: NoParams) -> PingResult:
    return PingResult(authenticated=ctx.authenticated, role=ctx.role.label, time=time.time())


async def _login(ctx: CallContext, params: LoginParams) -> LoginResult:
    grant = await ctx.connection.login(params.token)
    return LoginResult(role=grant.role.label, note=grant.note)
