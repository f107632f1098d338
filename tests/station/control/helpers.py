"""Shared pieces of the control channel tests: a test registry, servers, raw connections."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import msgspec
import trio
import trio.testing
from trio_websocket import ConnectionRejected, WebSocketConnection, wrap_client_stream

from pywats_station.control import (
    CallContext,
    ControlError,
    ControlServer,
    ErrorCode,
    NoParams,
    Params,
    Registry,
    Result,
)
from pywats_station.control import methods as m
from pywats_station.control.roles import Role

TOKEN = "control-token-" + "Q" * 30
ADMIN_TOKEN = "admin-token-" + "Z" * 32
SECRET = "the-wats-api-token-Zx81"  # the daemon would register its API token like this


class EchoParams(Params, kw_only=True):
    """Echo a value after a delay."""

    value: int
    delay: float = 0.0


class EchoResult(Result, kw_only=True):
    """The value echoed."""

    value: int


class RevealParams(Params, kw_only=True):
    """Ask for the secret."""

    token: str


class DropParams(Params, kw_only=True):
    """How to drop the connection."""

    code: int = 1008
    reason: str = "bye"


def make_registry() -> tuple[Registry, dict[str, Any]]:
    """A registry with the catalogue's ``queue.list`` plus test methods; ``state`` records calls."""
    registry = Registry()
    state: dict[str, Any] = {"notified": trio.Event(), "calls": 0}

    @registry.implement(m.QUEUE_LIST)
    async def queue_list(ctx: CallContext, params: m.QueueListParams) -> m.QueueListResult:
        state["calls"] += 1
        entry = m.QueueEntry(
            seq=1, report_id="r-1", state="queued", size=10, checksum="sha256:00", created_at=1.0
        )
        entries = [entry] if params.state in (None, "queued") else []
        return m.QueueListResult(
            entries=entries[params.offset : params.offset + params.limit],
            total=len(entries),
            offset=params.offset,
            limit=params.limit,
        )

    @registry.implement(m.QUEUE_SHOW)
    async def queue_show(ctx: CallContext, params: m.QueueShowParams) -> m.QueueShowResult:
        raise ControlError(ErrorCode.NOT_FOUND, f"no queue entry {params.entry}", {"entry": "?"})

    @registry.method("test.echo", params=EchoParams, result=EchoResult, summary="Echo.")
    async def echo(ctx: CallContext, params: EchoParams) -> EchoResult:
        await trio.sleep(params.delay)
        return EchoResult(value=params.value)

    @registry.method("test.crash", result=EchoResult, summary="Fail unexpectedly.")
    async def crash(ctx: CallContext, params: NoParams) -> EchoResult:
        raise RuntimeError(f"boom with {SECRET}")  # the message must not reach the client

    @registry.method("test.leak", result=dict, summary="Return a secret (a bug).")
    async def leak(ctx: CallContext, params: NoParams) -> dict[str, str]:
        return {"oops": f"token={TOKEN}", "api": SECRET}

    @registry.method("test.leak_error", result=dict, summary="Raise an error holding a secret.")
    async def leak_error(ctx: CallContext, params: NoParams) -> dict[str, str]:
        raise ControlError(ErrorCode.STATION_ERROR, f"server refused {SECRET}")

    @registry.method(
        "test.reveal", params=RevealParams, result=dict, role=Role.NONE, summary="Secret by token."
    )
    async def reveal(ctx: CallContext, params: RevealParams) -> dict[str, str]:
        # Only the right token opens it; and even then the server must not send it.
        if params.token == TOKEN:
            return {"secret": SECRET}
        raise ControlError(ErrorCode.UNAUTHORIZED)

    @registry.method("test.unencodable", result=dict, summary="Return something unencodable.")
    async def unencodable(ctx: CallContext, params: NoParams) -> object:
        return object()

    @registry.method("test.notified", result=dict, summary="Set an event.")
    async def notified(ctx: CallContext, params: NoParams) -> dict[str, bool]:
        state["notified"].set()
        return {"ok": True}

    @registry.method("test.role", result=dict, summary="The connection's role (ctx.role).")
    async def role(ctx: CallContext, params: NoParams) -> dict[str, str]:
        return {"role": ctx.role.label}

    @registry.method("test.admin", result=dict, role=Role.ADMIN, summary="Admins only.")
    async def admin(ctx: CallContext, params: NoParams) -> dict[str, bool]:
        return {"ok": True}

    @registry.method("test.drop", params=DropParams, result=dict, summary="Drop the connection.")
    async def drop(ctx: CallContext, params: DropParams) -> dict[str, bool]:
        ctx.connection.drop(params.code, params.reason)
        await trio.sleep_forever()

    return registry, state


def make_server(**options: Any) -> ControlServer:
    """A server over the test registry, with both tokens; ``options`` go to ``ControlServer``."""
    registry, _ = make_registry()
    options.setdefault("secrets", [SECRET])
    options.setdefault("admin_token", ADMIN_TOKEN)
    return ControlServer(registry, token=TOKEN, **options)


class Raw:
    """A raw websocket peer: send any frame, read frames as JSON."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.frames: list[str | bytes] = []

    async def send(self, frame: str | bytes | Any) -> None:
        if not isinstance(frame, str | bytes):
            frame = json.dumps(frame)
        await self.ws.send_message(frame)

    async def receive(self) -> Any:
        frame = await self.ws.get_message()
        self.frames.append(frame)
        return json.loads(frame)

    async def rpc(self, frame: Any) -> Any:
        await self.send(frame)
        return await self.receive()

    async def nothing_within(self, seconds: float = 1.0) -> bool:
        """Whether no frame arrives within ``seconds`` (use with the autojump clock)."""
        with trio.move_on_after(seconds):
            await self.receive()
            return False
        return True


def request(method: str, params: Any = msgspec.UNSET, id: Any = 1) -> dict[str, Any]:  # noqa: A002
    """A JSON-RPC request as a dict (``id=msgspec.UNSET``: a notification)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not msgspec.UNSET:
        message["params"] = params
    if id is not msgspec.UNSET:
        message["id"] = id
    return message


@asynccontextmanager
async def raw_connection(
    server: ControlServer,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    token: str | None = None,
    lockstep: bool = False,
    remote: tuple[str, int] | None = None,
) -> AsyncIterator[Raw]:
    """A raw websocket to ``server`` over an in-memory stream (``remote``: as if from there)."""
    pair = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
    client_stream, server_stream = pair()
    extra = list(headers)
    if token is not None:
        extra.append((b"authorization", b"Bearer " + token.encode()))
    served = trio.Event()
    async with trio.open_nursery() as nursery:

        async def serve() -> None:
            await server.serve_stream(server_stream, remote=remote)
            served.set()

        nursery.start_soon(serve)
        ws = await wrap_client_stream(
            nursery,
            client_stream,  # type: ignore[arg-type]  # any stream works
            "localhost",
            "/",
            extra_headers=extra,
            max_message_size=1 << 24,
        )
        try:
            yield Raw(ws)
        finally:
            with trio.move_on_after(10):
                await ws.aclose()
                await served.wait()  # the server's side ends cleanly (its reader runs here)
            nursery.cancel_scope.cancel()


def error_code(reply: Any) -> int:
    """The error code of a JSON reply (fails the test if it is a result)."""
    assert "error" in reply, reply
    code: int = reply["error"]["code"]
    return code


def rejection(error: BaseException) -> tuple[int, bytes] | None:
    """``(status, body)`` of a refused handshake found in ``error`` (or its group), else None."""
    if isinstance(error, ConnectionRejected):
        return error.status_code, error.body or b""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = rejection(inner)
            if found is not None:
                return found
    return None


async def connect(
    stack: AsyncExitStack,
    server: ControlServer,
    *,
    token: str | None = None,
    remote: tuple[str, int] | None = None,
) -> Raw | tuple[int, bytes]:
    """A raw connection kept open by ``stack``, or ``(status, body)`` if it was refused."""
    try:
        return await stack.enter_async_context(raw_connection(server, token=token, remote=remote))
    except (ConnectionRejected, BaseExceptionGroup) as error:  # refusals come in groups
        found = rejection(error)
        if found is None:
            raise
        return found
