"""An ElementTree builder that refuses XML nested too deeply (see :mod:`pywats.formats._nesting`).

Kept out of ``_nesting`` so that ElementTree loads only when XML is read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pywats.formats._nesting import MAX_XML_NESTING, NestingTooDeep

__all__ = ["DepthLimitedTreeBuilder"]


class DepthLimitedTreeBuilder(ET.TreeBuilder):
    """An ElementTree builder that stops the parse at the first element nested too deeply.

    Checking while parsing (rather than walking the finished tree) refuses a hostile document
    before its millions of elements are built.
    """

    def __init__(self, limit: int = MAX_XML_NESTING) -> None:
        super().__init__()
        self._limit = limit
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        """Open an element, or raise :class:`NestingTooDeep` past the limit."""
        self._depth += 1
        if self._depth > self._limit:
            raise NestingTooDeep(self._limit)
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        """Close an element."""
        self._depth -= 1
        return super().end(tag)
