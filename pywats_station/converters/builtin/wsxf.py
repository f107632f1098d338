"""The WSXF converter: WATS Standard XML files (``<Reports>`` with one or more ``<Report>``).

One report per ``<Report>`` element (:func:`pywats.formats.wsxf.loads_all`). Only test (UUT)
reports exist in WSXF; other XML (TestStand, ATML…) gets confidence 0, so another converter can
claim it.

Arguments:
    strict (bool, default false): also apply the live server's consistency rules when the
        reports are checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import msgspec

from pywats._errors import ReportFormatError
from pywats.formats import wsxf
from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Validation,
)
from pywats_station.converters.builtin._common import recognised

__all__ = ["WsxfArguments", "WsxfConverter", "read_wsxf"]

_SNIFF = 4096  # bytes searched for the WSXF namespace


class WsxfArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``wsxf`` converter."""

    strict: bool = False


def read_wsxf(data: bytes) -> list[UUTReport | UURReport]:
    """Decode every report of a WSXF document.

    Raises:
        ConversionError: not well-formed XML (with line and column), not WSXF, no report, or an
            attribute of the wrong form (naming element and attribute).
    """
    try:
        reports = wsxf.loads_all(data)
    except ReportFormatError as exc:
        raise ConversionError(str(exc)) from None
    if not reports:
        raise ConversionError("the WSXF document holds no <Report> element")
    return reports


class WsxfConverter(FileConverter):
    """WATS Standard XML (``*.xml``): one report per ``<Report>``."""

    keeps_report_ids = True  # the file carries the report id
    name: ClassVar[str] = "wsxf"
    description: ClassVar[str] = "WATS Standard XML Format (WSXF) reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml",)
    Arguments: ClassVar[type[msgspec.Struct]] = WsxfArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for WSXF (with a preview), 0.6 for broken WSXF, 0.0 for any other XML."""
        data = path.read_bytes()
        try:
            reports = read_wsxf(data)
        except ConversionError as exc:
            if wsxf.NAMESPACE.encode() in data[:_SNIFF]:
                return Validation(confidence=0.6, message=str(exc))
            return Validation(confidence=0.0, message=f"not WSXF: {exc}")
        return recognised(reports)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """Decode every ``<Report>`` of the file."""
        return Converted(reports=read_wsxf(path.read_bytes()))
