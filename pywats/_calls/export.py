"""``api.export``:

Exporting reports and data (tag Export): certificate exports queued on the server, the list of
finished exports and their download.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO

import httpx
import msgspec

from pywats._call import (
    Call,
    UnexpectedResponseError,
    bytes_call,
    download_call,
    json_call,
    segment,
)
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.models.analytics_filter import WATSFilter, check_filter
from pywats.models.export import CertificateDimension, ExportQueued, NumericFormat

__all__ = ["ExportDomain"]

_queued = msgspec.json.Decoder(ExportQueued | str)
_json = msgspec.json.Encoder()


def _file_name(value: object) -> str:
    """An export's file name as it may go in the path: one name, never a path."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"file_name must be a non-empty str, not {value!r}")
    if "/" in value or "\\" in value or value in (".", ".."):
        raise InvalidArgumentError(f"file_name must be a file name, not a path: {value!r}")
    if any(ord(c) < 32 for c in value):
        raise InvalidArgumentError(f"file_name holds a control character: {value!r}")
    return value


def _choice(
    value: object, kind: type[NumericFormat] | type[CertificateDimension], what: str
) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str, not {type(value).__name__}")
    for member in kind:
        if member.value.casefold() == value.casefold():
            return member.value
    raise InvalidArgumentError(f"{what}: {value!r} is not one of {[m.value for m in kind]}")


def _dimensions(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    names = value.split(";") if isinstance(value, str) else value
    if isinstance(names, bytes) or not isinstance(names, Sequence):
        raise InvalidArgumentError("dimensions must be a str or a list of CertificateDimension")
    chosen = [_choice(n.strip() if isinstance(n, str) else n, CertificateDimension, "dimensions")
              for n in names if not isinstance(n, str) or n.strip()]  # fmt: skip
    return ";".join(chosen) or None


def _text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be True or False, not {value!r}")
    return value


def _parse_queued(response: httpx.Response) -> str:
    # The description types the answer only as "object"; its summary names exportFileName. A
    # bare JSON string (the name itself) is read too.
    try:
        answer = _queued.decode(response.content)
    except msgspec.DecodeError as exc:
        raise UnexpectedResponseError(
            f"answer is not an export receipt: {exc}", method="POST", url=str(response.request.url)
        ) from exc
    name = answer if isinstance(answer, str) else answer.export_file_name
    if not name:
        raise UnexpectedResponseError(
            "the export receipt names no file", method="POST", url=str(response.request.url)
        )
    return name


class ExportDomain(Domain[ModeT]):
    """Exporting reports and data (tag Export)."""

    @operation
    def queue_certificate_export(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
        *,
        header_data_only: bool = False,
        as_individual_files: bool = True,
        dimensions: str | Sequence[str] | None = None,
        numeric_format: NumericFormat | str | None = None,
        body_footer_tag: str | None = None,
        document_footer_tag: str | None = None,
        email: str | None = None,
    ) -> Call[str]:
        """Queue an export of the certificates (PDF) of the test reports the filter selects, and
        return the name of the zip file it will produce.

        The export runs in the background: poll :meth:`get_export_list` until the name is
        there, then download it with :meth:`get_exported_file`. Only the user or token that
        queued an export can list and download it.

        Args:
            filter: which test reports (part number, serial number, dates…); every report when
                ``None``.
            header_data_only: certificates with the header only, without the steps.
            as_individual_files: one PDF per report in the zip, else one PDF holding them all.
            dimensions: details to show (:class:`~pywats.models.export.CertificateDimension`,
                a list or a ``;``-separated str).
            numeric_format: how to write numbers the report gives no format.
            body_footer_tag: a product tag whose value (on the report's part number) becomes
                the footer text.
            document_footer_tag: a product tag whose value becomes the document footer.
            email: where the server mails the download link; required when authenticating
                with a token.

        Raises:
            ValidationError: no ``email`` with a token, or a filter or option the server
                refuses.
            InvalidArgumentError: an argument of the wrong type or an unknown choice (nothing
                is sent).
        """
        return Call(
            method="POST",
            path="/api/Export/Certificate",
            parse=_parse_queued,
            params={
                "headerDataOnly": _flag(header_data_only, "header_data_only"),
                "asIndividualFiles": _flag(as_individual_files, "as_individual_files"),
                "dimensions": _dimensions(dimensions),
                "numericFormat": (
                    _choice(numeric_format, NumericFormat, "numeric_format")
                    if numeric_format is not None
                    else None
                ),
                "bodyFooterTag": _text(body_footer_tag, "body_footer_tag"),
                "documentFooterTag": _text(document_footer_tag, "document_footer_tag"),
                "email": _text(email, "email"),
            },
            content=_json.encode(check_filter(filter)),
            content_type="application/json",
        )

    @operation
    def get_export_list(self) -> Call[list[str]]:
        """The file names of the finished exports of the calling user (or token)."""
        return json_call("GET", "/api/Export/List", list[str], empty=[])

    @operation
    def get_exported_file(self, file_name: str) -> Call[bytes]:
        """Download a finished export (a zip), by the name :meth:`queue_certificate_export`
        returned or :meth:`get_export_list` lists; the extension may be left out.

        The file is read into memory whole; :meth:`download_exported_file` writes it to a file
        in chunks instead.

        Raises:
            NotFoundError: no export of the calling user has that name.
            InvalidArgumentError: ``file_name`` is not a plain file name (a path, empty).
        """
        return bytes_call(
            "GET", f"/api/Export/{segment(_file_name(file_name))}", accept="application/zip"
        )

    @operation
    def download_exported_file(
        self, file_name: str, to: str | os.PathLike[str] | BinaryIO
    ) -> Call[int]:
        """Download a finished export (a zip) into ``to`` (a path, replaced only once the whole
        file arrived, or a binary file object), in chunks: a large export never passes through
        memory. Returns the number of bytes written.

        Raises:
            NotFoundError: no export of the calling user has that name.
            InvalidArgumentError: ``file_name`` is not a plain file name, or ``to`` is not a
                path or a binary file object.
        """
        return download_call(
            "GET",
            f"/api/Export/{segment(_file_name(file_name))}",
            to,
            accept="application/zip",
            what="the export",
        )
