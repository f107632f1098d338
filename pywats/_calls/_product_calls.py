"""The requests ``api.product`` is made of, and the checks of its arguments (sans-IO).

:mod:`pywats._calls.product` holds the operations; this module the pieces they share: argument
checks that raise :class:`~pywats.InvalidArgumentError` before anything is sent, the calls of the
product query and look-ups, tolerant parsing of the answers the description leaves open, and the
WSBF documents a BOM upload sends.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any, BinaryIO, cast

import httpx
import msgspec

from pywats._call import Call, UnexpectedResponseError, json_call, segment
from pywats._errors import InvalidArgumentError
from pywats._upload import read_upload
from pywats.models.product import Bom, Product, ProductRevision, ProductView, Vendor
from pywats.odata import Expr

__all__ = [
    "MAX_BOM_BYTES",
    "MAX_PRODUCT_TOP",
    "BomSource",
    "bom_call",
    "bulk_call",
    "check_instances",
    "check_name",
    "check_optional_name",
    "check_state",
    "check_vendors",
    "product_call",
    "QueryPager",
    "query_call",
    "revision_call",
    "write_call",
    "wsbf_bytes",
]

MAX_BOM_BYTES = 30_000_000
"""The largest WSBF document sent: IIS's default request limit, which WATS servers run behind."""

MAX_PRODUCT_TOP = 10_000
"""The most products asked for in one product query."""

BomSource = Bom | bytes | str | os.PathLike[str] | IO[bytes]
"""A BOM to upload: a :class:`Bom`, WSBF bytes or text, a file path or a binary file object."""

_ANY = msgspec.json.Decoder()


# --- argument checks -------------------------------------------------------------------------


def check_name(value: object, what: str) -> str:
    """A part number, revision or name that must be a non-empty string."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{what} must not be empty")
    return value


def check_optional_name(value: object, what: str) -> str | None:
    return None if value is None else check_name(value, what)


def check_instances(values: object, cls: type[Any], what: str) -> list[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidArgumentError(f"{what} must be a list of {cls.__name__}")
    for n, value in enumerate(values):
        if not isinstance(value, cls):
            raise InvalidArgumentError(
                f"{what}[{n}] must be a {cls.__name__}, not {type(value).__name__}"
            )
    return list(values)


def check_vendors(names: object) -> list[Vendor]:
    if isinstance(names, str | Vendor):
        names = [names]
    if not isinstance(names, Sequence):
        raise InvalidArgumentError("vendors must be a list of names or Vendor objects")
    out: list[Vendor] = []
    for n, item in enumerate(names):
        name = item.vendor_name if isinstance(item, Vendor) else item
        out.append(Vendor(vendor_name=check_name(name, f"vendors[{n}]")))
    return out


def check_state(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1):
        raise InvalidArgumentError(
            f"state must be ProductState.ACTIVE (1) or ProductState.INACTIVE (0), not {value!r}"
        )
    return int(value)


# --- answers ---------------------------------------------------------------------------------


def _ignore(response: httpx.Response) -> None:
    """The server answers writes whose result the description leaves open: nothing to return."""


def _saved_list(result: Any) -> Any:
    """Parse a bulk answer (``result`` is ``list[Item]``): the items the server lists, or ``[]``."""

    def parse(response: httpx.Response) -> list[Any]:
        if not response.content.strip():
            return []
        try:
            value = _ANY.decode(response.content)
            if not isinstance(value, list):
                return []  # a summary object or ``true``: the description leaves it open
            items: list[Any] = msgspec.convert(value, result)
            return items
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise UnexpectedResponseError(
                f"answer does not match the expected shape: {exc}",
                method=response.request.method,
                url=str(response.request.url),
            ) from exc

    return parse


def bulk_call(path: str, body: list[Any], result: Any) -> Call[Any]:
    return Call(
        method="PUT",
        path=path,
        parse=_saved_list(result),
        content=msgspec.json.encode(body),
        content_type="application/json",
    )


def write_call(
    method: str, path: str, *, body: Any = msgspec.UNSET, params: Any = None
) -> Call[None]:
    content = msgspec.json.encode(body) if body is not msgspec.UNSET else None
    return Call(
        method=method,
        path=path,
        parse=_ignore,
        params=params,
        content=content,
        content_type="application/json" if content is not None else None,
    )


# --- queries ---------------------------------------------------------------------------------


def query_call(
    filter: str | Expr | None,  # noqa: A002 - OData's own name
    top: int | None,
    skip: int | None,
    orderby: str | None,
) -> Call[list[ProductView]]:
    if filter is not None and not isinstance(filter, str | Expr):
        raise InvalidArgumentError(
            f"filter must be an OData string or an Expr, not {type(filter).__name__}"
        )
    for what, value, low in (("top", top, 1), ("skip", skip, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(f"{what} must be an int, not {type(value).__name__}")
        if not low <= value <= (MAX_PRODUCT_TOP if what == "top" else 2**31 - 1):
            raise InvalidArgumentError(f"{what} is out of range: {value}")
    if orderby is not None and not isinstance(orderby, str):
        raise InvalidArgumentError(f"orderby must be a string, not {type(orderby).__name__}")
    return json_call(
        "GET",
        "/api/Product/Query",
        list[ProductView],
        params={
            "$filter": str(filter) if filter is not None else None,
            "$top": top,
            "$skip": skip,
            "$orderby": orderby,
        },
        empty=[],
    )


class QueryPager:
    """The pages of a product query (``$top``/``$skip``) and what to make of each answer.

    Sans-IO: :meth:`next_call` gives the next request (``None`` when done), :meth:`take` turns
    its answer into the products to hand out. A server that ignores ``$top`` (a page longer than
    asked for: everything at once) or ``$skip`` (a page of products already seen) ends the
    paging instead of repeating it forever.
    """

    def __init__(
        self,
        filter: str | Expr | None,  # noqa: A002 - OData's own name
        page_size: int,
    ) -> None:
        query_call(filter, page_size, None, None)  # check the arguments now
        self.filter = filter
        self.page_size = page_size
        self.skip = 0
        self.done = False
        self._seen: set[str] = set()

    def next_call(self) -> Call[list[ProductView]] | None:
        """The request for the next page, or ``None`` after the last."""
        if self.done:
            return None
        return query_call(self.filter, self.page_size, self.skip or None, None)

    def take(self, page: list[ProductView]) -> list[ProductView]:
        """The products of an answered page not handed out before."""
        fresh = [p for p in page if p.part_number.casefold() not in self._seen]
        self._seen.update(p.part_number.casefold() for p in fresh)
        if len(page) != self.page_size or not fresh:
            self.done = True  # a short page is the last; a long or stale one: paging ignored
        self.skip += self.page_size
        return fresh


def product_call(part_number: str) -> Call[Product]:
    pn = check_name(part_number, "part_number")
    return json_call("GET", f"/api/Product/{segment(pn)}", Product)


def revision_call(part_number: str, revision: str) -> Call[ProductRevision]:
    pn = check_name(part_number, "part_number")
    rev = check_name(revision, "revision")
    return json_call("GET", f"/api/Product/{segment(pn)}/{segment(rev)}", ProductRevision)


# --- BOM documents ---------------------------------------------------------------------------


def wsbf_bytes(source: object) -> bytes:
    """The WSBF document to send, checked: a readable BOM, at most :data:`MAX_BOM_BYTES`."""
    from pywats.formats import wsbf  # ElementTree loads when XML is first handled

    if isinstance(source, Bom):
        data = wsbf.dumps(source)
    elif isinstance(source, str):
        # Sent as UTF-8: an XML declaration naming another encoding would then lie.
        data = wsbf.strip_declaration(source).encode("utf-8", "surrogatepass")
    elif isinstance(source, bytes | bytearray | memoryview | os.PathLike):
        data, _ = read_upload(source, "bom.xml", max_size=MAX_BOM_BYTES, what="the BOM")
    elif callable(getattr(source, "read", None)):
        # A seekable file too large is refused before it is read (read_upload).
        stream = cast(BinaryIO, source)
        data, _ = read_upload(stream, "bom.xml", max_size=MAX_BOM_BYTES, what="the BOM")
    else:
        raise InvalidArgumentError(
            "a BOM must be a Bom, WSBF bytes or text, a path or a binary file object, "
            f"not {type(source).__name__}"
        )
    if len(data) > MAX_BOM_BYTES:  # a Bom or text (read_upload checked the others)
        raise InvalidArgumentError(
            f"the BOM is {len(data):,} bytes; the limit is {MAX_BOM_BYTES:,} bytes: "
            "nothing was sent"
        )
    wsbf.loads(data)  # raises BomFormatError naming the problem, before anything is sent
    return data


def bom_call(data: bytes) -> Call[None]:
    return Call(
        method="PUT",
        path="/api/Product/BOM",
        parse=_ignore,
        content=data,
        content_type="application/xml",
    )
