"""The WSXF converter: WATS Standard XML files (``<Reports>`` with one or more ``<Report>``).

One report per ``<Report>`` element (:func:`pywats.formats.wsxf.loads_all`). Only test (UUT)
reports exist in WSXF; other XML (TestStand, ATML…) gets confidence 0, so another converter can
claim it.

Arguments:
    strict (bool, default false): also apply the live server's consistency rules when the
        reports are checked.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import ClassVar

import msgspec

from pywats._errors import ReportFormatError
from pywats.formats import wsxf
from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import ConversionError, Preview
from pywats_station.converters.builtin._standard import StandardFormatConverter
from pywats_station.converters.builtin._xml_where import describe

__all__ = ["WsxfArguments", "WsxfConverter", "read_wsxf"]

_RESULTS = {"Passed": "P", "Failed": "F", "Error": "E", "Terminated": "T"}


class WsxfArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``wsxf`` converter."""

    strict: bool = False


def read_wsxf(data: bytes) -> list[UUTReport | UURReport]:
    """Decode every report of a WSXF document.

    Raises:
        ConversionError: not well-formed XML or cut short, not WSXF, no report, or an
            attribute of the wrong form (naming element and attribute); with the line and
            column of the place.
    """
    try:
        reports = wsxf.loads_all(data)
    except ReportFormatError as exc:
        malformed = isinstance(exc.__cause__, ET.ParseError)
        raise ConversionError(describe(data, str(exc), malformed=malformed)) from None
    if not reports:
        raise ConversionError("the WSXF document holds no <Report> element")
    return reports


class WsxfConverter(StandardFormatConverter):
    """WATS Standard XML (``*.xml``): one report per ``<Report>``."""

    name: ClassVar[str] = "wsxf"
    description: ClassVar[str] = "WATS Standard XML Format (WSXF) reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml",)
    Arguments: ClassVar[type[msgspec.Struct]] = WsxfArguments
    not_ours: ClassVar[str] = "not WSXF"

    def read(self, data: bytes) -> list[UUTReport | UURReport]:
        """See :func:`read_wsxf`."""
        return read_wsxf(data)

    def looks_like(self, head: bytes) -> bool:
        """XML in the WSXF namespace."""
        return wsxf.NAMESPACE.encode() in head

    def preview(self, head: bytes) -> Preview:
        """The ``SN``, ``PN`` and ``Result`` attributes of the first ``<Report>``."""
        match = re.search(rb"<Report\b[^>]*>", head)
        if match is None:
            return Preview()

        def attribute(name: str) -> str | None:
            found = re.search(rb"\s" + name.encode() + rb'\s*=\s*"([^"]*)"', match.group(0))
            return html.unescape(found.group(1).decode("utf-8", "replace")) if found else None

        result = attribute("Result")
        return Preview(
            serial_number=attribute("SN"),
            part_number=attribute("PN"),
            result=_RESULTS.get(result, result) if result else None,
        )
