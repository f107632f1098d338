"""The entry points: :class:`pyWATS` (blocking) and :class:`AsyncWATS` (async).

Both expose the same domains with the same methods; one implementation serves both
(see ``pywats._domain``)::

    with pyWATS("https://mycompany.wats.com", token=TOKEN) as api:
        api.report.submit_report(report)

    async with AsyncWATS("https://mycompany.wats.com", token=TOKEN) as api:
        await api.report.submit_report(report)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from pywats._client import _DEFAULT_RATE_LIMIT, AsyncClient, Client, Proxy, Verify
from pywats._errors import PyWATSError
from pywats._retry import RateLimit, RetryPolicy

if TYPE_CHECKING:
    from pywats._calls.analytics import AnalyticsDomain
    from pywats._calls.app import AppDomain, ProcessDomain
    from pywats._calls.asset import AssetDomain
    from pywats._calls.auth import AuthDomain
    from pywats._calls.barcode import BarcodeDomain
    from pywats._calls.export import ExportDomain
    from pywats._calls.product import ProductDomain
    from pywats._calls.production import ProductionDomain
    from pywats._calls.report import ReportDomain
    from pywats._calls.rootcause import RootCauseDomain
    from pywats._calls.scim import ScimDomain
    from pywats._calls.software import SoftwareDomain
    from pywats._calls.system import SystemDomain
    from pywats._calls.workflow import WorkflowDomain
    from pywats._domain import Async, Sync

__all__ = ["DOMAINS", "AsyncWATS", "pyWATS"]

DOMAINS: dict[str, tuple[str, str]] = {
    # attribute: (module, class)
    "report": ("pywats._calls.report", "ReportDomain"),
    "app": ("pywats._calls.app", "AppDomain"),
    "process": ("pywats._calls.app", "ProcessDomain"),
    "auth": ("pywats._calls.auth", "AuthDomain"),
    "system": ("pywats._calls.system", "SystemDomain"),
    "product": ("pywats._calls.product", "ProductDomain"),
    "production": ("pywats._calls.production", "ProductionDomain"),
    "asset": ("pywats._calls.asset", "AssetDomain"),
    "barcode": ("pywats._calls.barcode", "BarcodeDomain"),
    "workflow": ("pywats._calls.workflow", "WorkflowDomain"),
    "analytics": ("pywats._calls.analytics", "AnalyticsDomain"),
    "software": ("pywats._calls.software", "SoftwareDomain"),
    "rootcause": ("pywats._calls.rootcause", "RootCauseDomain"),
    "scim": ("pywats._calls.scim", "ScimDomain"),
    "export": ("pywats._calls.export", "ExportDomain"),
}
"""Every domain of the client. Each is imported on first use (``api.asset`` the first time),
so ``import pywats`` stays as fast as it was with five domains however many arrive."""


def _renamed(old: str) -> None:
    """Warn once that ``old`` is the predecessor's name of ``api.app.get_version()``."""
    # Imported here: only a script that uses an old name pays for it (import pywats stays small).
    from pywats._deprecated import warn_renamed

    # Frames: warn_renamed <- _renamed <- the old method <- the script's line.
    warn_renamed(old, "api.app.get_version()", stacklevel=3, note="see docs/migrating.md")


class _Lazy:
    """A domain attribute: imported and built on first access, then an instance attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        module, cls = DOMAINS[self._name]
        domain = getattr(importlib.import_module(module), cls)(obj.client)
        obj.__dict__[self._name] = domain  # next time the instance attribute answers
        return domain


class pyWATS:
    """The blocking WATS client.

    Args:
        base_url: the server, e.g. ``https://mycompany.wats.com`` (``/api`` is optional).
        token: the API token, sent verbatim as ``Authorization: Basic <token>``.
        username: with ``password``, basic credentials instead of a token.
        password: the password of ``username``.
        timeout: seconds for connecting, reading and writing (default 30).
        retry: the retry policy (:class:`~pywats.RetryPolicy`; ``RetryPolicy.never()`` to
            disable).
        rate_limit: the client-side request budget (:class:`~pywats.RateLimit`, 500 requests a
            minute by default; ``None`` to disable).
        user_agent: the ``User-Agent`` header (``pywats/<version>`` by default).
        headers: more headers for every request.
        verify: TLS certificate verification: ``True``, ``False`` (test servers only), the path
            of a CA bundle, or an ``ssl.SSLContext`` (with ``load_cert_chain`` for a client
            certificate).
        proxy: a proxy URL, or an ``httpx.Proxy``.
        trust_env: read proxies and CA bundles from the environment, as httpx does.
        transport: an ``httpx`` transport to send through instead of the network (the emulator,
            ``pywats.testing.FakeWATS``).

    Every option is a keyword argument: a misspelt one (``timout=5``) is a type error, and a
    ``TypeError`` naming it when run.

    Attributes:
        report: submit, read and query reports.
        app: server version, processes, levels, product groups.
        process: process look-ups (test/repair operations).
        auth: API tokens.
        system: system status and station clients.
        product: products, revisions, BOMs, product groups, vendors.
        production: units, assemblies, verification, batches, serial numbers.
        asset: assets (fixtures, instruments), their counts, calibration and maintenance.
        barcode: barcode identifiers.
        workflow: starting and ending a test in a workflow.
        analytics: yield, top failed, measurement statistics, OEE, unit histories.
        software: software packages for stations.
        rootcause: root-cause tickets.
        scim: users (SCIM provisioning).
        export: exporting reports and data.
    """

    if TYPE_CHECKING:
        report: ReportDomain[Sync]
        app: AppDomain[Sync]
        process: ProcessDomain[Sync]
        auth: AuthDomain[Sync]
        system: SystemDomain[Sync]
        product: ProductDomain[Sync]
        production: ProductionDomain[Sync]
        asset: AssetDomain[Sync]
        barcode: BarcodeDomain[Sync]
        workflow: WorkflowDomain[Sync]
        analytics: AnalyticsDomain[Sync]
        software: SoftwareDomain[Sync]
        rootcause: RootCauseDomain[Sync]
        scim: ScimDomain[Sync]
        export: ExportDomain[Sync]
    else:  # one descriptor each: each learns its own name
        report, app, process, auth, system = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()
        product, production, asset, barcode, workflow = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()
        analytics, software, rootcause, scim, export = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()

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
        self.client = Client(
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
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        """The normalised server URL."""
        return self.client.base_url

    def __repr__(self) -> str:
        return f"pyWATS({self.base_url!r})"

    def close(self) -> None:
        """Close the connections."""
        self.client.close()

    # --- the predecessor's names (docs/migrating.md) ---------------------------------------

    def get_version(self) -> str:
        """Deprecated: ``api.app.get_version()``, the server's version."""
        _renamed("api.get_version()")
        return self.app.get_version()

    def test_connection(self) -> bool:
        """Deprecated: whether ``api.app.get_version()`` answers (``False`` on any pywats error).

        ``api.app.get_version()`` says why when it fails: prefer it.
        """
        _renamed("api.test_connection()")
        try:
            self.app.get_version()
        except PyWATSError:
            return False
        return True

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
    """The async WATS client (trio or asyncio); same arguments and domains as :class:`pyWATS`.

    ``transport`` is an ``httpx.AsyncBaseTransport`` here.
    """

    if TYPE_CHECKING:
        report: ReportDomain[Async]
        app: AppDomain[Async]
        process: ProcessDomain[Async]
        auth: AuthDomain[Async]
        system: SystemDomain[Async]
        product: ProductDomain[Async]
        production: ProductionDomain[Async]
        asset: AssetDomain[Async]
        barcode: BarcodeDomain[Async]
        workflow: WorkflowDomain[Async]
        analytics: AnalyticsDomain[Async]
        software: SoftwareDomain[Async]
        rootcause: RootCauseDomain[Async]
        scim: ScimDomain[Async]
        export: ExportDomain[Async]
    else:  # one descriptor each: each learns its own name
        report, app, process, auth, system = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()
        product, production, asset, barcode, workflow = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()
        analytics, software, rootcause, scim, export = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()

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
        self.client = AsyncClient(
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
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        """The normalised server URL."""
        return self.client.base_url

    def __repr__(self) -> str:
        return f"AsyncWATS({self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connections."""
        await self.client.aclose()

    # --- the predecessor's names (docs/migrating.md) ---------------------------------------

    async def get_version(self) -> str:
        """Deprecated: ``await api.app.get_version()``, the server's version."""
        _renamed("api.get_version()")
        return await self.app.get_version()

    async def test_connection(self) -> bool:
        """Deprecated: whether ``api.app.get_version()`` answers (``False`` on any pywats error)."""
        _renamed("api.test_connection()")
        try:
            await self.app.get_version()
        except PyWATSError:
            return False
        return True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
