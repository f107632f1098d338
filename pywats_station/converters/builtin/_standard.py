"""What the converters of WATS's own formats share: the reports are in the file, ids included.

Neither JSON (msgspec) nor XML (ElementTree) is decoded piece by piece here: a file is read and
decoded whole, which takes several times its size in memory. ``validate()`` therefore decodes
only files of at most :data:`DECODE_LIMIT` bytes and judges a bigger one by its first bytes
(the station converts big files in a child process, whose memory is given back when it ends).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._budget import human_size
from pywats_station.converters.builtin._common import BOMS, read_head, recognised

__all__ = ["DECODE_LIMIT", "StandardFormatConverter"]

_SNIFF = 4096  # bytes looked at to tell a broken file of the format from another format
DECODE_LIMIT = 1 << 20
"""The largest file ``validate()`` decodes (a few MB of memory, in the daemon's thread)."""


class StandardFormatConverter(FileConverter):
    """A file in one of WATS's formats: decoded as it is, its reports keep their ids.

    Confidence: 1.0 for a file that decodes (with a preview), 0.6 for a broken file that looks
    like the format, 0.0 for anything else, so that another converter can claim it.
    """

    keeps_report_ids = True  # the file carries the report id
    not_ours: ClassVar[str]  # how the message starts for input of another format

    def read(self, data: bytes) -> list[UUTReport | UURReport]:
        """Decode the file's reports (``ConversionError`` saying what is wrong)."""
        raise NotImplementedError

    def looks_like(self, head: bytes) -> bool:
        """Whether the first bytes of a file that did not decode are of this format."""
        raise NotImplementedError

    def preview(self, head: bytes) -> Preview:
        """What the first bytes of a file too big to decode in ``validate()`` tell."""
        raise NotImplementedError

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """See the class: 1.0, 0.6 or 0.0; 0.9 for a file too big to decode here that starts
        like the format (with what its first bytes tell as preview)."""
        data = read_head(path, DECODE_LIMIT + 1)
        if len(data) > DECODE_LIMIT:
            size = human_size(os.stat(path).st_size)
            text = _utf8(data)
            if self.looks_like(text[:_SNIFF]):
                return Validation(
                    confidence=0.9,
                    preview=self.preview(text),
                    message=f"{size}: decoded when converted (files over "
                    f"{human_size(DECODE_LIMIT)} are not decoded to be validated)",
                )
            return Validation(
                confidence=0.0,
                message=f"{self.not_ours}: nothing of the format in the first "
                f"{human_size(_SNIFF)} of {size}",
            )
        try:
            reports = self.read(data)
        except ConversionError as exc:
            if self.looks_like(data[:_SNIFF]):
                return Validation(confidence=0.6, message=str(exc))
            return Validation(confidence=0.0, message=f"{self.not_ours}: {exc}")
        return recognised(reports)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """The file's reports; the station validates them before queueing."""
        return Converted(reports=self.read(path.read_bytes()))


def _utf8(head: bytes) -> bytes:
    """The first bytes of a file as UTF-8, a byte-order mark decoded (a cut character dropped)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(name, "ignore").encode()
    return head
