"""The only I/O code of the library: run :class:`~pywats._call.Call` objects over httpx.

:class:`BaseClient` holds what both clients share: the base URL, authentication, building the
``httpx.Request``, turning an answer into a result or a typed error, and the retry/rate-limit
decisions. It expresses one exchange as a generator of *actions* (send this request, sleep this
long), so the blocking :class:`Client` and the async :class:`AsyncClient` each only carry out
actions with their own means: no thread hop, no event loop per sync call.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import ssl
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx

from pywats._call import Call, Flow, as_flow
from pywats._errors import (
    ConnectionError,
    InvalidArgumentError,
    PyWATSError,
    TimeoutError,
    TransportError,
    error_for_status,
)
from pywats._retry import RateLimit, RateLimiter, RetryPolicy, parse_retry_after
from pywats._version import __version__

__all__ = [
    "AsyncClient",
    "BaseClient",
    "Client",
    "Proxy",
    "Verify",
    "WaitReason",
    "normalise_base_url",
]

WaitReason = Literal["rate_limit", "retry_after", "backoff"]
"""Why the client waits before sending (see :attr:`BaseClient.on_wait`)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Send:
    request: httpx.Request
    sink: Any = None  # a pywats._body.Sink: the answer's body is written there, not read


@dataclass(frozen=True, slots=True)
class _Sleep:
    seconds: float


_Action = _Send | _Sleep
# Failures that happen before a request reaches the server: safe to retry for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_Outcome = httpx.Response | httpx.HTTPError | None


_DEFAULT_RATE_LIMIT = RateLimit()
_DOWNLOAD_CHUNK = 1 << 20

Verify = bool | str | ssl.SSLContext
"""TLS verification: ``True`` (the certifi CAs), ``False`` (none: test servers only), the path of
a CA bundle file or folder, or an ``ssl.SSLContext`` (a client certificate for mutual TLS goes
there, with ``load_cert_chain``)."""
Proxy = str | httpx.URL | httpx.Proxy
"""A proxy URL (``http://proxy:3128``), or an ``httpx.Proxy`` with its own headers."""


def normalise_base_url(url: str) -> str:
    """Return the server's base URL: scheme and host (and virtual folder), no ``/api``.

    ``https://x.wats.com/``, ``https://x.wats.com/api`` and ``x.wats.com`` all give
    ``https://x.wats.com``.

    Raises:
        ValueError: the URL is empty or not http(s).
    """
    text = url.strip()
    if not text:
        raise ValueError("the server URL is empty")
    if "://" not in text:
        text = "https://" + text
    parsed = httpx.URL(text)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"the server URL must be http(s)://host[/folder], not {url!r}")
    text = text.rstrip("/")
    if text.lower().endswith("/api"):
        text = text[: -len("/api")]
    return text.rstrip("/")


def _ssl_context(verify: Verify) -> bool | ssl.SSLContext:
    """``verify`` as httpx takes it: a CA bundle's path becomes a context (httpx deprecates
    paths), once, here."""
    if not isinstance(verify, str):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _basic(token: str | None, username: str | None, password: str | None) -> str | None:
    if token:
        return token.strip()
    if username is not None:
        raw = f"{username}:{password or ''}".encode()
        return base64.b64encode(raw).decode("ascii")
    return None


class BaseClient:
    """What the sync and async clients share; not used on its own.

    Every option is a keyword argument of its own (here, on :class:`Client`,
    :class:`AsyncClient`, ``pyWATS`` and ``AsyncWATS``), so a misspelt one is a type error and a
    ``TypeError`` naming it, never an option silently ignored.

    Args:
        base_url: the WATS server, e.g. ``https://mycompany.wats.com``.
        token: the API token (sent as ``Authorization: Basic <token>``, verbatim).
        username: with ``password``, basic credentials instead of a token.
        password: the password of ``username``.
        timeout: seconds for connecting, reading and writing.
        retry: the retry policy (``RetryPolicy.never()`` to disable).
        rate_limit: the client-side request budget (``None`` to disable).
        user_agent: the ``User-Agent`` header (``pywats/<version>`` by default).
        headers: more headers for every request (the token's ``Authorization`` wins).
        verify: TLS certificate verification (:data:`Verify`).
        proxy: send requests through this proxy (:data:`Proxy`).
        trust_env: read proxies and CA bundles from the environment (``HTTPS_PROXY``,
            ``SSL_CERT_FILE``…) and ``.netrc``, as httpx does.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = _DEFAULT_RATE_LIMIT,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        proxy: Proxy | None = None,
        trust_env: bool = True,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self._rng = random.Random()
        self._headers = {
            "Accept": "application/json",
            "User-Agent": user_agent or f"pywats/{__version__}",
            **(headers or {}),
        }
        auth = _basic(token, username, password)
        if auth:
            self._headers["Authorization"] = f"Basic {auth}"
        # What the httpx client of either kind is built with.
        self._http_options: dict[str, Any] = {
            "verify": _ssl_context(verify),
            "proxy": proxy,
            "trust_env": trust_env,
        }
        # Monotonic clock for rate limiting; tests replace it.
        self._clock = time.monotonic
        self.on_wait: Callable[[WaitReason, float], None] | None = None
        """Told before each wait of the client's own, with why and for how many seconds:
        ``"rate_limit"`` (the request budget is spent), ``"retry_after"`` (the server's
        ``Retry-After``, honoured) or ``"backoff"`` (before another attempt after a failure).
        For a monitor (the station shows its uploads' waits); it must not block. What it
        raises is not the request's business: it is ignored."""

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client-side request budget (``None``: none)."""
        return self._limiter.limit if self._limiter is not None else None

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}({self.base_url!r})"

    def _request(self, call: Call[Any], http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = {}
        if call.accept != "application/json":
            headers["Accept"] = call.accept
        if call.content_type is not None:
            headers["Content-Type"] = call.content_type
        if call.internal:
            headers["Referer"] = self.base_url
        headers.update(call.headers)
        params: list[tuple[str, str | int | float | bool | None]] = list(call.query())
        content: Any = call.content
        bytes_like = content is None or isinstance(content, bytes | bytearray | memoryview)
        if not bytes_like and not _streamed(content):
            raise InvalidArgumentError(
                f"{call.method} {call.path}: the body must be bytes, not {type(content).__name__}"
            )
        if _streamed(content):
            # Sent in chunks from its files; a fresh iterator for every request built.
            headers["Content-Length"] = str(content.length)
            content = content.achunks() if isinstance(http, httpx.AsyncClient) else content.chunks()
        try:
            return http.build_request(
                call.method,
                call.path,
                params=params,
                content=content,
                headers=headers,
            )
        except (TypeError, ValueError) as exc:  # a body or a parameter httpx cannot send
            raise InvalidArgumentError(f"{call.method} {call.path}: cannot send: {exc}") from exc

    def _exchange(
        self, call: Call[T], http: httpx.Client | httpx.AsyncClient
    ) -> Generator[_Action, _Outcome, T]:
        """One call with rate limiting and retries, as actions for a driver to carry out."""
        request = self._request(call, http)
        method, url = request.method, str(request.url)
        attempt = 0
        while True:
            if self._limiter is not None:
                wait = self._reserve()
                if wait > 0:
                    self._waiting("rate_limit", wait)
                    yield _Sleep(wait)
            if attempt and _streamed(call.content):
                request = self._request(call, http)  # the last attempt consumed the body
            outcome = yield _Send(request, call.sink)
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    return call.parse(outcome)
                retry_after = parse_retry_after(outcome.headers.get("Retry-After"))
                decision = self.retry.decide(
                    attempt=attempt,
                    retry_safe=call.retry_safe,
                    status=outcome.status_code,
                    retry_after=retry_after,
                    rng=self._rng,
                )
                if decision.delay is None:
                    raise error_for_status(
                        outcome.status_code,
                        outcome.content,
                        method=method,
                        url=url,
                        retry_after=retry_after,
                        attempts=attempt + 1,
                        gave_up=decision.reason,
                    )
            else:
                assert outcome is not None
                decision = self.retry.decide(
                    attempt=attempt,
                    retry_safe=call.retry_safe,
                    network_error=True,
                    connect_error=isinstance(outcome, _NOT_SENT),
                    rng=self._rng,
                )
                if decision.delay is None:
                    raise _transport_error(outcome, method, url, attempt + 1, decision.reason)
            honoured = isinstance(outcome, httpx.Response) and retry_after == decision.delay
            self._waiting("retry_after" if honoured else "backoff", decision.delay)
            yield _Sleep(decision.delay)
            attempt += 1

    def _waiting(self, reason: WaitReason, seconds: float) -> None:
        if self.on_wait is not None:
            with contextlib.suppress(Exception):  # a monitor's bug must not fail the request
                self.on_wait(reason, seconds)

    def _reserve(self) -> float:
        assert self._limiter is not None
        return self._limiter.reserve(self._clock())


def _first_call(flow: Flow[Any]) -> Call[Any]:
    """The flow's first call. The flow's code up to it only looks at its arguments (no I/O has
    happened), so what it raises there is about them: see :func:`pywats._domain.bad_arguments`.
    """
    from pywats._domain import _ARGUMENT_ERRORS, bad_arguments

    try:
        return flow.send(None)
    except _ARGUMENT_ERRORS as exc:
        name = getattr(flow, "__qualname__", "the operation")
        error = bad_arguments(str(name).removesuffix("Domain"), exc)
        if error is exc:
            raise
        raise error from exc


def _streamed(content: object) -> bool:
    """Whether a body is a :class:`~pywats._body.StreamBody` (without importing it: only an
    upload does, and then it is loaded already)."""
    body = sys.modules.get("pywats._body")
    return body is not None and isinstance(content, body.StreamBody)


def _transport_error(
    exc: httpx.HTTPError, method: str, url: str, attempts: int, gave_up: str | None
) -> TransportError:
    detail = _reason(exc)
    error: TransportError
    if isinstance(exc, httpx.TimeoutException):
        error = TimeoutError(
            f"timed out ({detail})", method=method, url=url, attempts=attempts, gave_up=gave_up
        )
    else:
        error = ConnectionError(detail, method=method, url=url, attempts=attempts, gave_up=gave_up)
    # Raised where the httpx error is no longer being handled: chain it by hand, for callers
    # that look for the cause (a certificate not trusted, a proxy's 407).
    error.__cause__ = exc
    return error


def _reason(exc: BaseException) -> str:
    """The first message along ``exc``'s causes: httpx's errors under trio often carry none of
    their own (a TLS failure is an empty ``ConnectError`` caused by the ``ssl`` error)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        if str(current):
            return str(current)
        seen.append(current)
        current = current.__cause__ or current.__context__
    return type(exc).__name__


class Client(BaseClient):
    """The blocking client: runs calls with an ``httpx.Client``.

    Use as a context manager, or call :meth:`close`. The options are :class:`BaseClient`'s, and
    ``transport``: an ``httpx.BaseTransport`` to send through instead of the network (the
    emulator, ``pywats.testing.FakeWATS``, is one).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = _DEFAULT_RATE_LIMIT,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        proxy: Proxy | None = None,
        trust_env: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token,
            username=username,
            password=password,
            timeout=timeout,
            retry=retry,
            rate_limit=rate_limit,
            user_agent=user_agent,
            headers=headers,
            verify=verify,
            proxy=proxy,
            trust_env=trust_env,
        )
        self._lock = threading.Lock()
        self._sleep: Callable[[float], None] = time.sleep
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self.timeout,
            transport=transport,
            **self._http_options,
        )

    def _reserve(self) -> float:
        with self._lock:  # the blocking client may be shared between threads
            return super()._reserve()

    def send(self, call: Call[T]) -> T:
        """Run one call (with retries) and return its parsed result."""
        actions = self._exchange(call, self.http)
        outcome: _Outcome = None
        while True:
            try:
                action = actions.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result
            if isinstance(action, _Sleep):
                self._sleep(action.seconds)
                outcome = None
            else:
                try:
                    if action.sink is None:
                        outcome = self.http.send(action.request)
                    else:
                        outcome = self._download(action)
                except httpx.HTTPError as exc:
                    outcome = exc

    def _download(self, action: _Send) -> httpx.Response:
        """Send, and write a successful answer's body into the sink as it arrives."""
        response = self.http.send(action.request, stream=True)
        try:
            if response.is_success:
                action.sink.receive(response.iter_bytes(_DOWNLOAD_CHUNK))
            else:
                response.read()  # an error's body names the problem
        finally:
            response.close()
        return response

    def run(self, op: Call[T] | Flow[T]) -> T:
        """Run a call or a multi-call flow and return its result."""
        flow = as_flow(op)
        try:
            call = _first_call(flow)
            while True:
                try:
                    value = self.send(call)
                except PyWATSError as exc:
                    call = flow.throw(exc)  # the flow may handle it (e.g. 404 as "absent")
                else:
                    call = flow.send(value)
        except StopIteration as done:
            result: T = done.value
            return result

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _anyio_sleep(seconds: float) -> None:
    """``anyio.sleep``, imported on the first wait: most clients never wait, and ``import pywats``
    stays close to ``import httpx, msgspec``."""
    import anyio

    await anyio.sleep(seconds)


class AsyncClient(BaseClient):
    """The async client: awaits calls with an ``httpx.AsyncClient``; works under trio and asyncio.

    Sleeps go through anyio, which uses whichever event loop is running. The options are
    :class:`BaseClient`'s, and ``transport``: an ``httpx.AsyncBaseTransport``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = _DEFAULT_RATE_LIMIT,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: Verify = True,
        proxy: Proxy | None = None,
        trust_env: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token,
            username=username,
            password=password,
            timeout=timeout,
            retry=retry,
            rate_limit=rate_limit,
            user_agent=user_agent,
            headers=headers,
            verify=verify,
            proxy=proxy,
            trust_env=trust_env,
        )
        self._sleep: Callable[[float], Awaitable[None]] = _anyio_sleep
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self.timeout,
            transport=transport,
            **self._http_options,
        )

    async def send(self, call: Call[T]) -> T:
        """Run one call (with retries) and return its parsed result."""
        actions = self._exchange(call, self.http)
        outcome: _Outcome = None
        while True:
            try:
                action = actions.send(outcome)
            except StopIteration as done:
                result: T = done.value
                return result
            if isinstance(action, _Sleep):
                await self._sleep(action.seconds)
                outcome = None
            else:
                try:
                    if action.sink is None:
                        outcome = await self.http.send(action.request)
                    else:
                        outcome = await self._download(action)
                except httpx.HTTPError as exc:
                    outcome = exc

    async def _download(self, action: _Send) -> httpx.Response:
        """Send, and write a successful answer's body into the sink as it arrives."""
        response = await self.http.send(action.request, stream=True)
        try:
            if response.is_success:
                await action.sink.areceive(response.aiter_bytes(_DOWNLOAD_CHUNK))
            else:
                await response.aread()
        finally:
            await response.aclose()
        return response

    async def run(self, op: Call[T] | Flow[T]) -> T:
        """Run a call or a multi-call flow and return its result."""
        flow = as_flow(op)
        try:
            call = _first_call(flow)
            while True:
                try:
                    value = await self.send(call)
                except PyWATSError as exc:
                    call = flow.throw(exc)  # the flow may handle it (e.g. 404 as "absent")
                else:
                    call = flow.send(value)
        except StopIteration as done:
            result: T = done.value
            return result

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
