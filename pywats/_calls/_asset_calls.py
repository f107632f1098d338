"""Arguments and calls of ``api.asset`` (:mod:`pywats._calls.asset`): checking what callers
give, building the requests, paging through OData lists.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Generic, TypeVar

import httpx
import msgspec

from pywats._call import Call, Flow, QueryValue, json_call, segment
from pywats._client import AsyncClient, Client
from pywats._errors import InvalidArgumentError, NotFoundError
from pywats._paging import iterate
from pywats.models.asset import Asset, AssetTag, AssetType
from pywats.odata import Expr, F

__all__ = [
    "BASE",
    "PAGE",
    "AssetId",
    "Filter",
    "body",
    "by_serial",
    "command",
    "as_flag",
    "as_int",
    "is_guid",
    "listing",
    "one",
    "as_optional_text",
    "pages",
    "save",
    "save_type",
    "selector",
    "service",
    "as_tags",
    "as_text",
    "as_type_id",
]

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

AssetId = str | uuid.UUID
"""An asset id as callers may give it: its GUID as text or a :class:`uuid.UUID`."""

Filter = str | Expr
"""An OData ``$filter``: text, or an expression built with :data:`pywats.odata.F`."""

BASE = "/api/Asset"
PAGE = 1000  # the server's default $top for every asset list
_encoder = msgspec.json.Encoder()


# --- arguments ---------------------------------------------------------------------------


def as_text(name: str, value: object) -> str:
    """``value``, which must be a non-empty str."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{name} must not be empty")
    return value


def _asset_id(value: object) -> str:
    """An asset id as text (a UUID or its text; the server's ids are GUIDs)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return as_text("asset_id", value)


def selector(asset_id: object, serial_number: object) -> dict[str, QueryValue | None]:
    """The ``id``/``serialNumber`` query parameters naming one asset."""
    if asset_id is None and serial_number is None:
        raise InvalidArgumentError("give the asset's asset_id or its serial_number")
    if asset_id is not None and serial_number is not None:
        raise InvalidArgumentError("give the asset's asset_id or its serial_number, not both")
    if asset_id is not None:
        return {"id": _asset_id(asset_id)}
    return {"serialNumber": as_text("serial_number", serial_number)}


def as_int(name: str, value: object, minimum: int | None = None) -> int | None:
    """``value``, an int (not a bool) of at least ``minimum``, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, not {value}")
    return int(value)


def as_flag(name: str, value: object) -> bool | None:
    """``value``, a bool or ``None``."""
    if value is None or isinstance(value, bool):
        return value
    raise InvalidArgumentError(f"{name} must be a bool, not {type(value).__name__}")


def as_optional_text(name: str, value: object) -> str | None:
    """``value``, a non-empty str or ``None``."""
    return None if value is None else as_text(name, value)


def _moment(name: str, value: object) -> str | None:
    """A date-time query value in UTC (a naive ``datetime`` is local time, as Python has it)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{name} must be a datetime, not {type(value).__name__}")
    return value.astimezone(UTC).isoformat()


def as_type_id(value: object) -> uuid.UUID:
    """An asset type id: a UUID or its text."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            raise InvalidArgumentError(f"type_id {value!r} is not a GUID") from None
    raise InvalidArgumentError(f"type_id must be a uuid.UUID or a str, not {type(value).__name__}")


def body(name: str, value: S, kind: type[S]) -> bytes:
    """``value`` as JSON, its members checked against their types (a wrong one is named)."""
    if not isinstance(value, kind):
        raise InvalidArgumentError(f"{name} must be a {kind.__name__}, not {type(value).__name__}")
    try:
        data = _encoder.encode(value)
        msgspec.json.decode(data, type=kind)  # the member types, checked the way the server reads
    except (msgspec.EncodeError, msgspec.ValidationError, TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{name}: {exc}") from exc
    return data


def as_tags(value: object) -> list[AssetTag] | None:
    """Tags as a dict (key to value) or a list of :class:`AssetTag`, as the list sent."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return [AssetTag(key=str(k), value=None if v is None else str(v)) for k, v in value.items()]
    if isinstance(value, list) and all(isinstance(t, AssetTag) for t in value):
        return list(value)
    raise InvalidArgumentError("tags must be a dict of str to str or a list of AssetTag")


def is_guid(text: str) -> bool:
    """Whether the server would read ``text`` in a path as an asset id (a GUID)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# --- calls -------------------------------------------------------------------------------


def _nothing(response: httpx.Response) -> None:
    """These answers are described only as "object": nothing the caller needs."""


def command(
    method: str,
    path: str,
    params: Mapping[str, QueryValue | None],
    *,
    content: bytes | None = None,
    idempotent: bool | None = None,
) -> Call[None]:
    """A call whose answer carries nothing for the caller."""
    return Call(
        method=method,
        path=path,
        parse=_nothing,
        params=params,
        content=content,
        content_type="application/json" if content is not None else None,
        idempotent=idempotent,
    )


def listing(
    path: str,
    result: type[T],
    filter: Filter | None,  # noqa: A002 - OData's own name
    top: object,
    skip: object,
    orderby: object,
) -> Call[list[T]]:
    """An OData list query (``$filter``, ``$top``, ``$skip``, ``$orderby``)."""
    if filter is not None and not isinstance(filter, str | Expr):
        raise InvalidArgumentError(
            f"filter must be a str or a pywats.odata expression, not {type(filter).__name__}"
        )
    return json_call(
        "GET",
        path,
        list[result],  # type: ignore[valid-type]
        params={
            "$filter": str(filter) if filter is not None else None,
            "$top": as_int("top", top, 0),
            "$skip": as_int("skip", skip, 0),
            "$orderby": as_optional_text("orderby", orderby),
        },
        empty=[],
    )


def _paging(orderby: object, key: str) -> str:
    """An order that pages stably: ``orderby`` with ``key`` last (default: ``key`` alone)."""
    text = as_optional_text("orderby", orderby)
    if text is None:
        return key
    names = {item.split()[0].casefold() for item in text.split(",") if item.strip()}
    return text if key.casefold() in names else f"{text},{key}"


def one(found: list[Asset], what: str, method: str, path: str) -> Asset:
    """The first asset of a query by id or serial number, or a 404 as the path would give."""
    if not found:
        raise NotFoundError(404, f"No asset has {what}.", method=method, url=path)
    return found[0]


class _OffsetPager(Generic[T]):
    """``$top``/``$skip`` pages; a short page is the last, and a server that ignores ``$top``
    (a page longer than asked for) cannot make items repeat."""

    def __init__(self, page: Callable[[int], Call[list[T]]], size: int) -> None:
        self.page, self.size, self.skip = page, size, 0
        self.done = False

    def next_call(self) -> Call[list[T]] | None:
        return None if self.done else self.page(self.skip)

    def take(self, found: list[T]) -> list[T]:
        self.done = len(found) < self.size
        self.skip += self.size
        return found[: self.size]


def pages(
    client: Client | AsyncClient,
    path: str,
    result: type[T],
    filter: Filter | None,  # noqa: A002 - OData's own name
    orderby: object,
    key: str,
    page_size: object,
) -> Iterator[T] | AsyncIterator[T]:
    """Every item of an OData list, ``page_size`` at a time as the caller iterates: an
    iterator for the blocking client, an async iterator for the async one.

    The order is ``orderby`` and then ``key`` (unique), so paging skips and repeats nothing.
    """
    size = as_int("page_size", page_size, 1)
    assert size is not None
    order = _paging(orderby, key)
    listing(path, result, filter, size, 0, order)  # checks the arguments now, not on first use

    def page(skip: int) -> Call[list[T]]:
        return listing(path, result, filter, size, skip, order)

    return iterate(client, _OffsetPager(page, size))


def by_serial(serial_number: str) -> Flow[Asset]:
    """The asset with this serial number, by path (by query when it looks like a GUID)."""
    if not is_guid(serial_number):
        found: Asset = yield json_call("GET", f"{BASE}/{segment(serial_number)}", Asset)
        return found
    # A GUID in the path would be read as an asset id: ask by query instead.
    rows: list[Asset] = yield listing(BASE, Asset, F.serial_number == serial_number, 1, None, None)
    return one(rows, f"the serial number {serial_number!r}", "GET", BASE)


def save(asset: Asset, name: str) -> Call[Asset]:
    """``PUT /api/Asset``: create or update; the answer is the saved asset."""
    return json_call("PUT", BASE, Asset, raw_body=body(name, asset, Asset))


def save_type(asset_type: AssetType) -> Call[AssetType]:
    """``PUT /api/Asset/Types``: create or update; the answer is the saved type."""
    content = body("asset_type", asset_type, AssetType)
    return json_call("PUT", f"{BASE}/Types", AssetType, raw_body=content)


def service(
    what: str,
    asset_id: AssetId | None,
    serial_number: str | None,
    date_time: datetime | None,
    comment: str | None,
) -> Call[None]:
    """``POST /api/Asset/Calibration`` or ``/Maintenance`` (``what``)."""
    params = selector(asset_id, serial_number)
    params["dateTime"] = _moment("date_time", date_time)
    params["comment"] = as_optional_text("comment", comment)
    return command("POST", f"{BASE}/{what}", params)
