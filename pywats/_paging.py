"""Lazy paging for every domain: a sans-IO :class:`Pager` says which request comes next and
what its answer yields; :func:`iterate` runs it on either client.

``for item in api.asset.iter_assets()`` on ``pyWATS`` and ``async for`` on ``AsyncWATS`` come
from the same pager, and each domain writes only what its server's paging looks like
(OData ``$top``/``$skip``, SCIM ``startIndex``…), never the loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol, TypeVar

from pywats._call import Call
from pywats._client import AsyncClient, Client

__all__ = ["Pager", "iterate"]

T = TypeVar("T")


class Pager(Protocol[T]):
    """The pages of one listing."""

    def next_call(self) -> Call[Any] | None:
        """The request for the next page, or ``None`` after the last."""

    def take(self, answer: Any) -> list[T]:
        """The items of an answered page to hand out (and what to ask next)."""


def iterate(client: Client | AsyncClient, pager: Pager[T]) -> Iterator[T] | AsyncIterator[T]:
    """The pager's items, a page at a time as the caller iterates: an iterator on a blocking
    client, an async iterator on an async one."""
    if isinstance(client, Client):
        return _sync(client, pager)
    return _async(client, pager)


def _sync(client: Client, pager: Pager[T]) -> Iterator[T]:
    while (call := pager.next_call()) is not None:
        yield from pager.take(client.run(call))


async def _async(client: AsyncClient, pager: Pager[T]) -> AsyncIterator[T]:
    while (call := pager.next_call()) is not None:
        for item in pager.take(await client.run(call)):
            yield item
