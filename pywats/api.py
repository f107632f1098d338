"""The entry points: :class:`pyWATS` (blocking) and :class:`AsyncWATS` (async).

Both expose the same domains with the same methods; one implementation serves both
(see ``pywats._domain``)::

    with pyWATS("https://mycompany.wats.com", token=TOKEN) as api:
        api.report.submit_report(report)

    async with AsyncWATS("https://mycompany.wats.com", token=TOKEN) as api:
        await api.report.submit_report(report)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from pywats._calls.app import AppDomain, ProcessDomain
from pywats._calls.auth import AuthDomain
from pywats._calls.report import ReportDomain
from pywats._calls.system import SystemDomain
from pywats._client import AsyncClient, Client
from pywats._domain import Async, Sync

__all__ = ["AsyncWATS", "pyWATS"]


class pyWATS:
    """The blocking WATS client.

    Args:
        base_url: the server, e.g. ``https://mycompany.wats.com`` (``/api`` is optional).
        token: the API token, sent verbatim as ``Authorization: Basic <token>``.
        **kwargs: ``username``/``password`` instead of a token, ``timeout`` (seconds, default
            30), ``retry`` (:class:`~pywats.RetryPolicy`), ``rate_limit``
            (:class:`~pywats.RateLimit` or ``None``), and anything ``httpx.Client`` takes
            (``transport``, ``verify``, ``proxy``…).

    Attributes:
        report: submit, read and query reports.
        app: server version, processes, levels, product groups.
        process: process look-ups (test/repair operations).
        auth: API tokens.
        system: system status and station clients.
    """

    def __init__(self, base_url: str, token: str | None = None, **kwargs: Any) -> None:
        self.client = Client(base_url, token, **kwargs)
        self.report: ReportDomain[Sync] = ReportDomain(self.client)
        self.app: AppDomain[Sync] = AppDomain(self.client)
        self.process: ProcessDomain[Sync] = ProcessDomain(self.client)
        self.auth: AuthDomain[Sync] = AuthDomain(self.client)
        self.system: SystemDomain[Sync] = SystemDomain(self.client)

    @property
    def base_url(self) -> str:
        """The normalised server URL."""
        return self.client.base_url

    def __repr__(self) -> str:
        return f"pyWATS({self.base_url!r})"

    def close(self) -> None:
        """Close the connections."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncWATS:
    """The async WATS client (trio or asyncio); same arguments and domains as :class:`pyWATS`."""

    def __init__(self, base_url: str, token: str | None = None, **kwargs: Any) -> None:
        self.client = AsyncClient(base_url, token, **kwargs)
        self.report: ReportDomain[Async] = ReportDomain(self.client)
        self.app: AppDomain[Async] = AppDomain(self.client)
        self.process: ProcessDomain[Async] = ProcessDomain(self.client)
        self.auth: AuthDomain[Async] = AuthDomain(self.client)
        self.system: SystemDomain[Async] = SystemDomain(self.client)

    @property
    def base_url(self) -> str:
        """The normalised server URL."""
        return self.client.base_url

    def __repr__(self) -> str:
        return f"AsyncWATS({self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connections."""
        await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
