"""``api.barcode``: barcode identifiers, and reading a scanned barcode with them.

Tag BarcodeIdentifiers of the server's API description.
"""

from __future__ import annotations

import httpx

from pywats._call import Call, Flow, json_call, segment
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError, NotFoundError
from pywats.models.barcode import BarcodeIdentifier, IdentifiedBarcode

__all__ = ["BarcodeDomain"]

_BASE = "/api/BarcodeIdentifiers"


def _nothing(response: httpx.Response) -> None:
    """The answer of a delete carries nothing the caller needs."""


class BarcodeDomain(Domain[ModeT]):
    """Barcode identifiers: list, add or update, delete; identify a scanned barcode."""

    @operation
    def get_barcode_identifiers(self) -> Call[list[BarcodeIdentifier]]:
        """Every barcode identifier, as stored (the order the server tries them: ``order``)."""
        return json_call("GET", f"{_BASE}/BarcodeIdentifiers", list[BarcodeIdentifier], empty=[])

    @operation
    def save_barcode_identifier(self, identifier: BarcodeIdentifier) -> Call[BarcodeIdentifier]:
        """Add an identifier (``id`` left out) or update one (``id`` given); returns it as stored.

        Raises:
            InvalidArgumentError: ``identifier`` is not a
                :class:`~pywats.models.barcode.BarcodeIdentifier` (nothing is sent).
            ValidationError: the server refused it (e.g. a pattern that is not a regular
                expression; the message names the field).
            NotFoundError: no identifier has the ``id`` given.
        """
        if not isinstance(identifier, BarcodeIdentifier):
            raise InvalidArgumentError(
                f"identifier must be a BarcodeIdentifier, not {type(identifier).__name__}"
            )
        return json_call("PUT", f"{_BASE}/BarcodeIdentifier", BarcodeIdentifier, body=identifier)

    @operation
    def delete_barcode_identifier(self, identifier_id: int) -> Call[None]:
        """Delete the identifier with this id.

        Raises:
            NotFoundError: no identifier has this id.
            ValidationError: ``identifier_id`` is not a number the server takes.
        """
        return Call(
            method="DELETE",
            path=f"{_BASE}/BarcodeIdentifier/{segment(identifier_id)}",
            parse=_nothing,
        )

    @operation
    def identify_barcode(self, code: str) -> Flow[IdentifiedBarcode | None]:
        """Read a scanned barcode with the server's identifiers.

        The identifiers are tried in ``order``; the first whose ``pattern`` matches gives the
        fields. When none matches the server reads ``code`` in the default format
        ``SerialNumber/PartNumber/Revision/BatchNumber/Process`` (``identified_by`` is then
        ``None``).

        Returns:
            The fields found, or ``None`` when the server could not read ``code`` at all.
        """
        try:
            found: IdentifiedBarcode = yield json_call(
                "GET", f"{_BASE}/IdentifyBarcode", IdentifiedBarcode, params={"code": code}
            )
        except NotFoundError:
            return None
        return found
