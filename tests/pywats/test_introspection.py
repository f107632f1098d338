"""What ``help()``, ``inspect.signature`` and editors show of an operation: what the caller gets.

An operation is written once as a method that *builds* a call (``-> Call[list[ReportHeader]]``,
``self`` first); on ``api.report`` it must present itself as the function the caller runs.
"""

from __future__ import annotations

import importlib
import inspect
import pydoc
import typing
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from pywats import AsyncWATS, pyWATS
from pywats._domain import Domain, operation
from pywats.api import DOMAINS
from pywats.models.report_query import ReportHeader
from pywats.odata import F
from pywats.testing import FakeWATS

QUERY_HEADERS = (
    "(filter: str | Expr | None = None, *, top: int | None = None, skip: int | None = None, "
    "orderby: str | None = None, expand: list[str] | None = None, "
    "select: list[str] | None = None) -> list[ReportHeader]"
)


def help_text(thing: object) -> str:
    """What ``help(thing)`` prints, without the terminal's bold."""
    return pydoc.plain(pydoc.render_doc(thing))


@pytest.fixture
def api() -> Iterator[pyWATS]:
    with pyWATS("http://wats.test", "test-token", transport=FakeWATS()) as client:
        yield client


@pytest.fixture
def async_api() -> AsyncWATS:
    return AsyncWATS("http://wats.test", "test-token", transport=FakeWATS())


def test_a_bound_operation_shows_the_callers_signature(api: pyWATS) -> None:
    method = api.report.query_headers

    assert str(inspect.signature(method)) == QUERY_HEADERS
    assert method.__name__ == "query_headers"
    assert method.__qualname__ == "ReportDomain.query_headers"
    assert method.__module__ == "pywats._calls.report"
    assert (method.__doc__ or "").startswith("Query report headers with OData options")
    assert typing.get_type_hints(method)["return"] == list[ReportHeader]


def test_a_flow_shows_what_it_returns(api: pyWATS) -> None:
    assert str(inspect.signature(api.report.submit_report)) == (
        "(report: UUTReport | UURReport, *, validate: bool = True) -> uuid.UUID"
    )
    assert typing.get_type_hints(api.report.submit_report)["return"] is uuid.UUID


def test_on_the_async_client_an_operation_is_a_coroutine_function(async_api: AsyncWATS) -> None:
    method = async_api.report.query_headers

    assert inspect.iscoroutinefunction(method)
    assert str(inspect.signature(method)) == QUERY_HEADERS
    text = help_text(method)
    assert "async query_headers(filter: str | Expr | None = None" in text


def test_help_of_a_bound_operation(api: pyWATS) -> None:
    text = help_text(api.report.query_headers)

    assert "\nquery_headers" + QUERY_HEADERS + "\n" in text
    assert "Call[" not in text


def test_help_of_a_domain_lists_its_operations_as_methods(api: pyWATS) -> None:
    text = help_text(api.report)

    assert "operation object" not in text
    methods = text.split("Methods defined here:")[1]
    assert "query_headers(self, filter: str | Expr | None = None, *, top:" in methods
    assert "-> list[ReportHeader]" in methods
    assert "Call[" not in methods
    assert "Flow[" not in methods


def test_the_class_attribute_runs_like_an_unbound_method(api: pyWATS) -> None:
    cls = type(api.report)
    assert cls.query_headers(api.report, F.serial_number == "none") == []


def _domain_operations() -> list[tuple[str, str]]:
    found = []
    for attr, (module, cls) in DOMAINS.items():
        domain_cls = getattr(importlib.import_module(module), cls)
        for klass in domain_cls.__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, operation):
                    found.append((attr, name))
    return sorted(set(found))


@pytest.mark.parametrize(("attr", "name"), _domain_operations())
def test_every_operation_of_every_domain_presents_itself(
    attr: str, name: str, api: pyWATS, async_api: AsyncWATS
) -> None:
    domain: Domain[Any] = getattr(api, attr)
    for method in (getattr(domain, name), getattr(getattr(async_api, attr), name)):
        signature = inspect.signature(method)
        assert "self" not in signature.parameters
        shown = str(signature.return_annotation)
        assert not shown.startswith(("Call[", "Flow[", "'")), shown
        assert method.__name__ == name
    on_class = getattr(type(domain), name)
    assert str(inspect.signature(on_class)).startswith("(self")
    assert inspect.isroutine(on_class)


def test_async_operations_still_run(async_api: AsyncWATS) -> None:
    async def main() -> list[ReportHeader]:
        async with async_api:
            return await async_api.report.query_headers()

    assert trio.run(main) == []
