"""Barcode identifiers: rules that tell the server how to read the barcodes operators scan.

An identifier is a ``pattern`` (a regular expression) that recognises a kind of barcode, plus one
regular expression per field to pull out of it (serial number, part number, revision, batch
number, process code). ``GET /api/BarcodeIdentifiers/IdentifyBarcode`` tries the identifiers in
``order`` and answers with the fields it found, in the same shape: :class:`IdentifiedBarcode`.
Without a matching identifier the server reads the barcode in its default format,
``SerialNumber/PartNumber/Revision/BatchNumber/Process``.
"""

from __future__ import annotations

from pywats.models._base import Dto

__all__ = ["DEFAULT_FORMAT", "BarcodeIdentifier", "IdentifiedBarcode"]

DEFAULT_FORMAT = ("serialNumber", "partNumber", "revision", "batchNumber", "process")
"""The fields of a barcode read without an identifier, in order, separated by ``/``."""


class BarcodeIdentifier(Dto):
    """One barcode identifier (``Tdm.BarcodeIdentifier``).

    Every field but ``id``, ``order`` and ``description`` is a regular expression: ``pattern``
    decides whether a barcode is of this kind, the others find a value in it.

    Attributes:
        id: the server's id; leave it out to add a new identifier, give it to update one.
        pattern: recognises barcodes of this kind, e.g. ``^SN\\d{6}/``.
        serial_number: finds the serial number.
        part_number: finds the part number.
        revision: finds the revision.
        batch_number: finds the batch number.
        process: finds the process (operation type) code.
        order: identifiers are tried in increasing order (1 before 2).
        description: free text, typically an example of such a barcode.
    """

    id: int | None = None
    pattern: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    batch_number: str | None = None
    process: str | None = None
    order: int | None = None
    description: str | None = None


class IdentifiedBarcode(Dto):
    """What the server read from a barcode (the answer of ``identify_barcode``).

    The server answers in the shape of a :class:`BarcodeIdentifier`, with the fields holding the
    values found instead of expressions. ``id``, ``pattern``, ``order`` and ``description`` are
    those of the identifier that matched; none are given when the barcode was read in the
    default format (see :attr:`identified_by`).
    """

    id: int | None = None
    pattern: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    batch_number: str | None = None
    process: str | None = None
    order: int | None = None
    description: str | None = None

    @property
    def identified_by(self) -> int | None:
        """The id of the identifier that matched, or ``None`` for the default format."""
        return self.id or None

    @property
    def process_code(self) -> int | None:
        """``process`` as a process code, or ``None`` when it is absent or not a number."""
        text = (self.process or "").strip()
        try:
            return int(text)
        except ValueError:
            return None
