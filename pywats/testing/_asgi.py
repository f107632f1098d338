"""The emulator as an ASGI application: the request body read within limits, then answered.

hypercorn (see :mod:`pywats.testing._serve`) hands the application a request once its headers
are in; the body still has to arrive. A client that promises more than it sends, stops after the
headers or trickles a byte at a time would hold the request forever, so the whole body must
arrive within the emulator's ``read_timeout`` (408 otherwise), and it may not be longer than
``max_body`` bytes (413, answered from ``Content-Length`` before reading, or as soon as a
chunked body passes the limit). Either answer closes the connection: the rest of the body is
never read, so the connection cannot carry another request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from pywats.testing._http import Request, Response, error

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["Dropped", "serve_asgi"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Dropped(Exception):
    """Raised by the ASGI app to make the server abort the connection."""


class _BodyRefused(Exception):
    """The body cannot be read: answer ``response`` and close."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


async def serve_asgi(emu: FakeWATS, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one ASGI connection scope (``lifespan`` or ``http``) for ``emu``."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        body = await _read_body(emu, headers, receive)
    except _BodyRefused as refused:
        request = Request(method=scope["method"], path=scope["path"], headers=headers)
        emu.log_answer(request, refused.response)
        refused.response.headers["Connection"] = "close"
        await _send(send, refused.response)
        return
    if body is None:
        return  # the client went away before sending its body: nobody to answer
    raw_query = scope.get("query_string", b"").decode("latin-1")
    req = Request(
        method=scope["method"],
        path=scope["path"],
        query=list(httpx.QueryParams(raw_query).multi_items()),
        headers=headers,
        body=body,
    )
    outcome, response = await anyio.to_thread.run_sync(emu.handle, req)
    if outcome.delay > 0:
        await anyio.sleep(outcome.delay)
    if outcome.refuse or outcome.drop:
        # Promise a full body, send half of it, then give up: the client sees the
        # connection close mid-answer.
        await send(
            {
                "type": "http.response.start",
                "status": response.status or 200,
                "headers": [(b"content-length", b"%d" % (len(response.body) + 64))],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise Dropped("connection dropped by fault injection")
    await _send(send, response)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(emu: FakeWATS, headers: dict[str, str], receive: Receive) -> bytes | None:
    """The whole request body, or ``None`` if the client disconnected first.

    Raises:
        _BodyRefused: 413 for a body over ``emu.max_body``, 408 for one that did not arrive
            within ``emu.read_timeout``.
    """
    # h11 has already answered a malformed Content-Length with 400; None for a chunked body.
    declared = headers.get("content-length", "").strip()
    announced = int(declared) if declared.isdigit() else None
    if announced is not None and announced > emu.max_body:
        raise _BodyRefused(_too_large(emu, f"Content-Length {announced:,} bytes"))
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(emu.read_timeout):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > emu.max_body:
                raise _BodyRefused(_too_large(emu, f"more than {emu.max_body:,} bytes"))
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)
    of = f" of the {announced:,} announced" if announced is not None else ""
    raise _BodyRefused(
        error(
            408,
            f"The request body did not arrive within the read timeout of {emu.read_timeout:g} "
            f"seconds ({size:,} bytes received{of}).",
        )
    )


def _too_large(emu: FakeWATS, what: str) -> Response:
    return error(
        413, f"The request body is too large: {what}; the limit is {emu.max_body:,} bytes."
    )


async def _send(send: Send, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode(), v.encode()) for k, v in response.header_list()],
        }
    )
    await send({"type": "http.response.body", "body": response.body})
