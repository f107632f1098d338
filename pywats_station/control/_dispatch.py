"""From a parsed request to its response: rate, method, role and params checks, then the handler.

The server's reader calls :meth:`Dispatcher.dispatch` for each message in the order received;
the checks happen there, in that order, so a login sent ahead of other requests covers them.
Built-in (inline) methods run before the next message is read; the others in their own task,
at most ``max_in_flight`` per connection. Every response is checked for secrets before it is
queued: a result or error holding one is replaced by a generic -32603.
"""

from __future__ import annotations

import logging
import secrets as _secrets
from typing import Any

import msgspec
import trio

from pywats_station.control._connection import ControlConnection
from pywats_station.control.hub import ControlHub
from pywats_station.control.protocol import (
    ControlError,
    ErrorCode,
    Request,
    Response,
    encode,
    error_response,
)
from pywats_station.control.registry import CallContext, RegisteredMethod, Registry, decode_params
from pywats_station.control.roles import Role

__all__ = ["Dispatcher", "Reply", "encode_result"]

log = logging.getLogger("pywats_station.control")


class Reply:
    """Where the responses to one frame go: straight out, or collected into a batch array."""

    def __init__(self, conn: ControlConnection, expected: int, batch: bool) -> None:
        self._conn = conn
        self._remaining = expected
        self._batch = batch
        self._responses: list[Response] = []

    async def add(self, response: Response | None) -> None:
        """One message's response (``None``: a notification's, which gets none)."""
        if not self._batch:
            if response is not None:
                await self._conn.put(encode(response).decode())
            return
        if response is not None:
            self._responses.append(response)
        self._remaining -= 1
        if self._remaining == 0 and self._responses:  # an all-notification batch gets nothing
            await self._conn.put(encode(self._responses).decode())


class Dispatcher:
    """Runs requests against a registry on behalf of connections.

    Args:
        registry: The methods.
        hub: Knows the secrets no response may contain.
    """

    def __init__(self, registry: Registry, hub: ControlHub) -> None:
        self.registry = registry
        self.hub = hub

    async def dispatch(
        self, conn: ControlConnection, request: Request, reply: Reply, nursery: trio.Nursery
    ) -> None:
        """Check rate, method, role and params in message order; then run the handler."""
        rid = request.reply_id
        refusal: Response | None = None
        entry = self.registry.get(request.method)
        now = trio.current_time()
        params: Any = None
        if not conn.rate.take(now):
            retry = round(conn.rate.retry_after(now), 3)
            refusal = error_response(
                rid,
                ErrorCode.RATE_LIMITED,
                "rate limited: too many requests",
                {"retry_after": retry},
            )
        elif entry is None:
            refusal = error_response(
                rid, ErrorCode.METHOD_NOT_FOUND, f"method not found: {_name(request.method)}"
            )
        elif entry.spec.role > conn.role:
            refusal = _refuse_role(rid, entry.spec.name, entry.spec.role, conn.role)
        else:
            try:
                params = decode_params(entry.spec.params, request.params)
            except ControlError as exc:
                refusal = Response(id=rid, error=exc.to_object())
        if refusal is not None or entry is None:
            await reply.add(None if request.is_notification else refusal)
        elif entry.inline:
            await reply.add(await self._invoke(conn, entry, request, params))
        else:
            await conn.in_flight.acquire()
            nursery.start_soon(self._run, conn, entry, request, params, reply)

    async def _run(
        self,
        conn: ControlConnection,
        entry: RegisteredMethod,
        request: Request,
        params: Any,
        reply: Reply,
    ) -> None:
        try:
            await reply.add(await self._invoke(conn, entry, request, params))
        finally:
            conn.in_flight.release()

    async def _invoke(
        self, conn: ControlConnection, entry: RegisteredMethod, request: Request, params: Any
    ) -> Response | None:
        """Call the handler; its result or error as a response (``None`` for a notification)."""
        rid = request.reply_id
        ctx = CallContext(connection=conn, method=entry.spec.name, id=rid)
        try:
            value = await entry.handler(ctx, params)
            response = self._result(rid, value)
        except ControlError as exc:
            response = self._error(rid, exc)
        except Exception:
            response = self._internal(rid, f"control method {entry.spec.name} failed")
        if request.is_notification:
            if response.error is not msgspec.UNSET:
                log.debug("notification %s failed: %s", entry.spec.name, response.error)
            return None
        return response

    def _result(self, rid: Any, value: Any) -> Response:
        try:
            raw = encode_result(value)
        except (TypeError, ValueError, OverflowError):
            return self._internal(rid, "a control method returned a value that cannot be sent")
        if self.hub._leaks(raw):
            return self._internal(rid, "a control method's result contained a secret", tb=False)
        return Response(id=rid, result=msgspec.Raw(raw))

    def _error(self, rid: Any, exc: ControlError) -> Response:
        error = exc.to_object()
        try:
            raw = encode_result(error)
        except (TypeError, ValueError, OverflowError):
            return self._internal(rid, "a control method raised an error that cannot be sent")
        if self.hub._leaks(raw):
            return self._internal(rid, "a control method's error contained a secret", tb=False)
        return Response(id=rid, error=error)

    def _internal(self, rid: Any, what: str, *, tb: bool = True) -> Response:
        incident = _secrets.token_hex(4)
        log.error("%s (incident %s)", what, incident, exc_info=tb)
        return error_response(
            rid, ErrorCode.INTERNAL_ERROR, "internal error", {"incident": incident}
        )


def _refuse_role(rid: Any, method: str, needs: Role, holds: Role) -> Response:
    if holds is Role.NONE:
        return error_response(
            rid,
            ErrorCode.UNAUTHORIZED,
            "unauthorized: log in first (auth.login, or the Authorization header)",
        )
    return error_response(
        rid,
        ErrorCode.FORBIDDEN,
        f"forbidden: {method} needs the {needs.label} role; this connection holds {holds.label}",
        {"needs": needs.label, "holds": holds.label},
    )


_result_encoder = msgspec.json.Encoder()


def encode_result(value: Any) -> bytes:
    """Encode a handler's result (or error object) as JSON."""
    return _result_encoder.encode(value)


def _name(method: str) -> str:
    return repr(method if len(method) <= 80 else method[:80] + "…")
