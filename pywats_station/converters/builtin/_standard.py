"""What the converters of WATS's own formats share: the reports are in the file, ids included."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

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

__all__ = ["StandardFormatConverter"]

_SNIFF = 4096  # bytes looked at to tell a broken file of the format from another format


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

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """See the class: 1.0, 0.6 or 0.0."""
        data = path.read_bytes()
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
