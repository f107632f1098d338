"""How deeply a document nests, measured before anything recurses into it.

msgspec (and every other JSON decoder in reach) recurses once per nested array or object, so a
hostile document of a few kilobytes (``[[[[…``) makes it raise :class:`RecursionError`, at a depth
that depends on the caller's own stack. The codecs therefore measure the nesting first, without
recursion, and refuse a document deeper than their limit with a message that names the limit.

The limits are far above real data: the deepest real WATS export we have nests 13 JSON levels
(5 levels of steps) and 8 XML elements. A level of steps costs two JSON levels (the ``steps``
array and the step object) and one XML element, so both limits leave room for about 125 levels
of nested sequence calls, and whatever one format reads the other can write.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

__all__ = [
    "MAX_JSON_NESTING",
    "MAX_XML_NESTING",
    "DepthLimitedTreeBuilder",
    "NestingTooDeep",
    "json_too_deep",
]

MAX_JSON_NESTING = 256
"""The most JSON arrays and objects a WSJF document may nest inside each other."""

MAX_XML_NESTING = 128
"""The most XML elements a WSXF document may nest inside each other (``<Reports>`` included)."""

# Only quotes and brackets matter for the nesting, and backslashes for telling an escaped quote
# from a real one. Every other byte is dropped in C-level passes (bytes.translate), which keeps
# the scan fast on a 30 MB document; the characters an escape may put after a backslash are kept
# until the escapes are gone, so that no backslash moves next to a byte it did not escape.
_ESCAPED = b'"\\/bfnrtu'
_NOT_SHAPE_OR_ESCAPE = bytes(b for b in range(256) if b not in b"[]{}" + _ESCAPED)
_ESCAPE_ONLY = bytes(b for b in _ESCAPED if b != ord('"'))
_STRING = re.compile(rb'"[^"]*"')
# +1 for an opening bracket, -1 (0xFF as a signed byte) for a closing one.
_SIGNED = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_too_deep(data: bytes | bytearray | memoryview | str, limit: int) -> int | None:
    """Measure the nesting of a JSON text without recursion.

    The text need not be valid JSON. Whatever it holds, the result is at least the depth a
    decoder reaches before it fails, so a decoder never recurses deeper than reported here.

    Args:
        data: the JSON text (str or UTF-8 bytes).
        limit: the most nesting levels allowed.

    Returns:
        ``None`` when the text nests at most ``limit`` arrays and objects; otherwise the depth
        it reaches.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    shape = raw.translate(None, _NOT_SHAPE_OR_ESCAPE)
    if shape.count(b"[") + shape.count(b"{") <= limit:
        return None  # the common case for small documents: no need to pair anything
    if b"\\" in shape:
        # Drop escaped backslashes, then escaped quotes: left to right, exactly as a JSON
        # decoder pairs them, so every quote left delimits a string (outside strings a
        # backslash is invalid JSON, and a decoder stops there before nesting any deeper).
        shape = shape.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = shape.translate(None, _ESCAPE_ONLY)
    # Drop strings (brackets in them are text). Removing two adjacent quotes keeps every other
    # quote's open/close role, so the cheap replace shrinks the work left for the regex.
    shape = shape.replace(b'""', b"")
    if b'"' in shape:
        shape = _STRING.sub(b"", shape)
    if not shape:
        return None
    steps = memoryview(shape.translate(_SIGNED)).cast("b")
    deepest = max(itertools.accumulate(steps))
    return deepest if deepest > limit else None


class NestingTooDeep(Exception):
    """Raised from inside the XML parser the moment an element is nested too deeply."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} nested elements")
        self.limit = limit


if TYPE_CHECKING:
    from pywats.formats._xml_nesting import DepthLimitedTreeBuilder
else:

    def __getattr__(name: str) -> Any:
        # The XML builder lives apart: ElementTree (and pyexpat) load only when XML is read,
        # not with every ``import pywats`` (this module is needed for JSON too).
        if name == "DepthLimitedTreeBuilder":
            from pywats.formats._xml_nesting import DepthLimitedTreeBuilder

            return DepthLimitedTreeBuilder
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
