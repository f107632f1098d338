"""The WSJF converter: WATS Standard JSON files, as exported by WATS or written by TestStand.

A file holds one report (a JSON object with ``type`` ``T`` or ``R``) or several (a JSON array
of such objects). The reports are taken as they are: their statuses and ids are kept, so a file
converted twice overwrites the same report on the server instead of duplicating it.

Arguments:
    strict (bool, default false): also apply the live server's consistency rules when the
        reports are checked. Real server exports break them, hence off by default.
"""

from __future__ import annotations

import re
from typing import ClassVar

import msgspec

from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep
from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import ConversionError, Preview
from pywats_station.converters.builtin._common import decode_text
from pywats_station.converters.builtin._json_where import path_place, truncation
from pywats_station.converters.builtin._standard import StandardFormatConverter
from pywats_station.converters.builtin._where import place

__all__ = ["WsjfArguments", "WsjfConverter", "read_wsjf"]

_Report = UUTReport | UURReport
_one: msgspec.json.Decoder[UUTReport | UURReport] = msgspec.json.Decoder(_Report)
_many: msgspec.json.Decoder[list[UUTReport | UURReport]] = msgspec.json.Decoder(list[_Report])
_BYTE = re.compile(r"\(byte (\d+)\)")
_PATH = re.compile(r" - at `([^`]*)`$")
_TRUNCATED = "Input data was truncated"  # msgspec's whole message: where is for us to say
_TRAILING = "JSON is malformed: trailing characters"
# JSON is UTF-8 (RFC 8259); Windows tools may write UTF-16 with a mark. No argument changes it.
_NOT_UTF8 = "WSJF files are UTF-8 (or UTF-16 with a byte-order mark)"


class WsjfArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``wsjf`` converter."""

    strict: bool = False


def read_wsjf(data: bytes) -> list[UUTReport | UURReport]:
    """Decode a WSJF file: one report, or a JSON array of reports.

    Raises:
        ConversionError: the file is not UTF-8 (or UTF-16 with a byte-order mark), the JSON is
            malformed or cut short, or a member is wrong (with its path,
            ``$.root.steps[3].status``), always with the line and column; or the array is empty.
    """
    try:
        text = decode_text(data, hint=_NOT_UTF8).encode()  # a BOM stripped, UTF-16 re-encoded
    except ConversionError as exc:
        raise ConversionError(f"invalid WSJF: {exc}") from None
    # msgspec recurses per nesting level: measure first, so a hostile file is a clear error.
    depth = json_too_deep(text, MAX_JSON_NESTING)
    if depth is not None:
        raise ConversionError(
            f"invalid WSJF: it nests {depth} levels deep; at most {MAX_JSON_NESTING} are "
            "accepted (a real report nests a few dozen)"
        )
    try:
        is_array = text.lstrip()[:1] == b"["
        reports = _many.decode(text) if is_array else [_one.decode(text)]
    except msgspec.ValidationError as exc:
        raise ConversionError(f"invalid WSJF: {_at_path(text, str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ConversionError(f"invalid WSJF: {_malformed(text, str(exc))}") from None
    if not reports:
        raise ConversionError("invalid WSJF: the JSON array holds no report")
    return reports


def _malformed(text: bytes, message: str) -> str:
    """msgspec's message about malformed JSON, with the line and column instead of the byte."""
    at = _BYTE.search(message)
    offset = int(at.group(1)) if at is not None else None
    if offset is not None and message.startswith(_TRAILING):
        offset -= 1  # msgspec counts the byte after the first trailing one
    # Out of input: said outright, or as a malformed token at the very end (``12.``).
    if message == _TRUNCATED or (offset is not None and offset >= len(text)):
        return truncation(text)
    if at is None or offset is None:
        return message
    where = place(text[:offset].decode("utf-8", "replace"))
    return f"{message[: at.start()]}({where}){message[at.end() :]}"


def _at_path(text: bytes, message: str) -> str:
    """msgspec's message with the line and column of the path it names, when found."""
    found = _PATH.search(message)
    path = found.group(1) if found else "$"  # a message without a path is about the top
    where = path_place(text, path)
    return f"{message} ({where})" if where else message


class WsjfConverter(StandardFormatConverter):
    """WATS Standard JSON (``*.json``): one report per object, an array for several."""

    name: ClassVar[str] = "wsjf"
    description: ClassVar[str] = "WATS Standard JSON Format (WSJF) reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.json",)
    Arguments: ClassVar[type[msgspec.Struct]] = WsjfArguments
    not_ours: ClassVar[str] = "not a WSJF report"

    def read(self, data: bytes) -> list[UUTReport | UURReport]:
        """See :func:`read_wsjf`."""
        return read_wsjf(data)

    def looks_like(self, head: bytes) -> bool:
        """A report names its type early in an export and always has one of these members."""
        return _looks_like_report(head)

    def preview(self, head: bytes) -> Preview:
        """The first ``sn``, ``pn`` and ``result`` members (a report's header comes first)."""
        found = {key: _member(head, key) for key in ("sn", "pn", "result")}
        return Preview(serial_number=found["sn"], part_number=found["pn"], result=found["result"])


def _member(head: bytes, key: str) -> str | None:
    match = re.search(rb'"' + key.encode() + rb'"\s*:\s*("(?:[^"\\]|\\.)*")', head)
    if match is None:
        return None
    try:
        value = msgspec.json.decode(match.group(1))
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, str) else None


def _looks_like_report(head: bytes) -> bool:
    return bool(re.search(rb'"type"\s*:\s*"[TR]"', head)) or (b'"root"' in head and b'"sn"' in head)
