"""The clients' options are keyword arguments of their own: a misspelt one never passes silently.

``pyWATS(url, token, timout=5)`` is a type error (the ``type: ignore[call-arg]`` comments below
are needed: mypy --strict reports an unused one, so if an option were swallowed by ``**kwargs``
again, mypy would fail on this file) and a ``TypeError`` naming the word when run.
"""

from __future__ import annotations

import inspect
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest

from pywats import AsyncWATS, RateLimit, RetryPolicy, pyWATS
from pywats._client import AsyncClient, Client
from pywats.testing import FakeWATS
from tests.doc_examples import ROOT

URL = "http://wats.test"
TOKEN = "test-token"
ENTRY_POINTS: list[Callable[..., Any]] = [pyWATS, AsyncWATS, Client, AsyncClient]


def test_a_misspelt_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        pyWATS(URL, TOKEN, timout=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'verify_ssl'"):
        AsyncWATS(URL, TOKEN, verify_ssl=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'retries'"):
        Client(URL, TOKEN, retries=RetryPolicy())  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'proxies'"):
        AsyncClient(URL, TOKEN, proxies="http://proxy:3128")  # type: ignore[call-arg]


def _options(entry: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return {
        name: p
        for name, p in inspect.signature(entry).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def test_the_four_entry_points_take_the_same_options() -> None:
    sync, *others = (_options(entry) for entry in ENTRY_POINTS)
    assert set(sync) == {
        "username", "password", "timeout", "retry", "rate_limit", "user_agent", "headers",
        "verify", "proxy", "trust_env", "transport",
    }  # fmt: skip
    for options in others:
        assert options.keys() == sync.keys()
        for name, param in options.items():
            assert param.default == sync[name].default, name
            if name != "transport":  # an httpx.BaseTransport, or an AsyncBaseTransport
                assert param.annotation == sync[name].annotation, name


def test_the_user_guide_names_every_option() -> None:
    guide = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^  \| `(\w+)`(?:, `(\w+)`)? \|", guide, re.MULTILINE))
    names = {name for pair in documented for name in pair if name}
    assert names == set(_options(pyWATS))


def test_the_options_reach_the_http_client() -> None:
    context = ssl.create_default_context()
    api = pyWATS(
        URL,
        TOKEN,
        timeout=7.5,
        headers={"X-Line": "L1"},
        user_agent="line-script/2",
        verify=context,
        trust_env=False,
        retry=RetryPolicy.never(),
        rate_limit=None,
        transport=FakeWATS(token=TOKEN),
    )
    with api:
        http = api.client.http
        assert http.timeout == httpx.Timeout(7.5)
        assert http.headers["X-Line"] == "L1"
        assert http.headers["User-Agent"] == "line-script/2"
        assert http.headers["Authorization"] == f"Basic {TOKEN}"
        assert http.trust_env is False
        assert api.client.retry == RetryPolicy.never()
        assert api.client._limiter is None
        assert api.app.get_version()  # the transport is the emulator


def test_extra_headers_do_not_replace_the_token() -> None:
    with pyWATS(URL, TOKEN, headers={"Authorization": "Basic other"}) as api:
        assert api.client.http.headers["Authorization"] == f"Basic {TOKEN}"


@pytest.mark.parametrize("client_class", ["Client", "AsyncClient"])
def test_tls_and_proxy_options_go_to_httpx(
    client_class: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    real = getattr(httpx, client_class)

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(httpx, client_class, Recording)
    entry = pyWATS if client_class == "Client" else AsyncWATS
    context = ssl.create_default_context()
    entry(URL, TOKEN, verify=context, proxy="http://proxy.example:3128")

    assert seen["verify"] is context
    assert seen["proxy"] == "http://proxy.example:3128"


def test_rate_limit_and_retry_are_kept() -> None:
    limit = RateLimit(requests=10, period=1.0)
    with pyWATS(URL, TOKEN, rate_limit=limit, retry=RetryPolicy(max_attempts=2)) as api:
        assert api.client._limiter is not None
        assert api.client._limiter.limit == limit
        assert api.client.retry.max_attempts == 2


def test_a_ca_bundle_path_is_taken_without_httpx_deprecation_warnings(tmp_path: Path) -> None:
    # Warnings are errors in the tests: httpx's own path handling would warn.
    bundle = certifi.where()
    with pyWATS(URL, TOKEN, verify=bundle) as api:
        assert isinstance(api.client._http_options["verify"], ssl.SSLContext)
    folder = tmp_path / "certs"
    folder.mkdir()
    with pyWATS(URL, TOKEN, verify=str(folder)) as api:
        assert isinstance(api.client._http_options["verify"], ssl.SSLContext)
