"""WSJF, the WATS Standard JSON Format: one JSON document per report.

``loads`` picks the report class from the ``type`` member (``T`` → :class:`UUTReport`,
``R`` → :class:`UURReport`). ``dumps`` writes compact UTF-8 JSON without ``null`` members.
"""

from __future__ import annotations

import msgspec

from pywats._errors import ReportFormatError
from pywats.models.report import UURReport, UUTReport

__all__ = ["Report", "dumps", "loads"]

Report = UUTReport | UURReport

_decoder: msgspec.json.Decoder[UUTReport | UURReport] = msgspec.json.Decoder(Report)
_encoder = msgspec.json.Encoder()


def loads(data: bytes | str) -> UUTReport | UURReport:
    """Decode one WSJF document.

    Raises:
        ReportFormatError: the text is not JSON, not an object, has no known ``type``, or a member
            has the wrong JSON type; the message names the member (``$.root.steps[3].status``).
    """
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ReportFormatError(f"invalid WSJF: {exc}") from exc


def dumps(report: UUTReport | UURReport) -> bytes:
    """Encode a report as WSJF (UTF-8 JSON bytes)."""
    return _encoder.encode(report)
