"""WSJF, the WATS Standard JSON Format: one JSON document per report.

``loads`` picks the report class from the ``type`` member (``T`` → :class:`UUTReport`,
``R`` → :class:`UURReport`). ``dumps`` writes compact UTF-8 JSON without ``null`` members.

A document may nest JSON arrays and objects at most :data:`MAX_NESTING` levels deep (a real
TestStand export nests about 13; each level of sequence calls adds two). Deeper documents are
refused both ways, before anything recurses into them.
"""

from __future__ import annotations

import msgspec

from pywats._errors import ReportFormatError
from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep
from pywats.models.report import UURReport, UUTReport

__all__ = ["MAX_NESTING", "Report", "dumps", "loads"]

Report = UUTReport | UURReport

MAX_NESTING = MAX_JSON_NESTING
"""The most JSON arrays and objects a WSJF document may nest inside each other (256)."""

_decoder: msgspec.json.Decoder[UUTReport | UURReport] = msgspec.json.Decoder(Report)
_encoder = msgspec.json.Encoder()


def _too_deep(depth: int | str) -> str:
    return (
        f"the document nests JSON arrays and objects {depth} levels deep; WSJF allows at most "
        f"{MAX_NESTING} (about 125 levels of nested steps)"
    )


def loads(data: bytes | str) -> UUTReport | UURReport:
    """Decode one WSJF document.

    Raises:
        ReportFormatError: the text is not JSON (or not UTF-8), not an object, has no known
            ``type``, nests deeper than :data:`MAX_NESTING`, or a member has the wrong JSON
            type or an out-of-range value; the message names the member
            (``$.root.steps[3].status``).
    """
    depth = json_too_deep(data, MAX_NESTING)
    if depth is not None:
        raise ReportFormatError(f"invalid WSJF: {_too_deep(depth)}")
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ReportFormatError(f"invalid WSJF: {exc}") from exc


def dumps(report: UUTReport | UURReport) -> bytes:
    """Encode a report as WSJF (UTF-8 JSON bytes).

    Raises:
        ReportFormatError: the report nests deeper than :data:`MAX_NESTING` (it could not be
            read back).
    """
    try:
        data = _encoder.encode(report)
    except RecursionError:
        # msgspec's own guard (it checks the interpreter's limit before each level, then
        # unwinds cleanly): the report is far deeper than the limit checked below.
        deeper = f"more than {MAX_NESTING}"
        raise ReportFormatError(f"cannot write WSJF: {_too_deep(deeper)}") from None
    depth = json_too_deep(data, MAX_NESTING)
    if depth is not None:
        raise ReportFormatError(f"cannot write WSJF: {_too_deep(depth)}")
    return data
