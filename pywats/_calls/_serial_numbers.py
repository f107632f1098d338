"""The serial-number operations of ``api.production``: types, take, look up, export, import."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from pywats._call import Call, UnexpectedResponseError, bytes_call, json_call
from pywats._calls._production_args import (
    Upload,
    date_param,
    int_param,
    optional_text,
    read_upload,
    text_param,
)
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.models.serial_numbers import (
    SerialNumber,
    SerialNumberFormat,
    SerialNumberType,
    parse_serial_numbers,
)

__all__ = ["SerialNumberOperations"]

_CONTENT_TYPES = {SerialNumberFormat.XML: "application/xml", SerialNumberFormat.CSV: "text/csv"}


def _format(value: object, *, name: str = "format") -> SerialNumberFormat:
    if isinstance(value, SerialNumberFormat):
        return value
    if isinstance(value, str):
        try:
            return SerialNumberFormat(value.upper())
        except ValueError:
            pass
    raise InvalidArgumentError(f"{name} must be XML or CSV, not {value!r}")


def _guess_format(data: bytes, name: str) -> SerialNumberFormat:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in ("xml", "csv"):
        return SerialNumberFormat(suffix.upper())
    return SerialNumberFormat.XML if data.lstrip().startswith(b"<") else SerialNumberFormat.CSV


def _multipart(data: bytes, filename: str, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file part, as the server's description asks."""
    boundary = f"pywats-{uuid.uuid4().hex}"
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "") or "serialnumbers"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def _taken(response: httpx.Response) -> list[str]:
    try:
        return parse_serial_numbers(response.content)
    except InvalidArgumentError as exc:
        raise UnexpectedResponseError(
            str(exc), method="POST", url=str(response.request.url)
        ) from exc


class SerialNumberOperations(Domain[ModeT]):
    """Serial-number pools: one per :class:`~pywats.models.serial_numbers.SerialNumberType`."""

    @operation
    def get_serial_number_types(self) -> Call[list[SerialNumberType]]:
        """Every serial-number type (pool) of the server: name, format, regular expression."""
        return json_call(
            "GET", "/api/Production/SerialNumbers/Types", list[SerialNumberType], empty=[]
        )

    @operation
    def allocate_serial_numbers(
        self,
        serial_number_type: str,
        quantity: int = 1,
        *,
        ref_sn: str | None = None,
        ref_pn: str | None = None,
        station_name: str | None = None,
        only_in_sequence: bool | None = None,
        format: SerialNumberFormat | str = SerialNumberFormat.XML,  # noqa: A002 - the server's name
    ) -> Call[list[str]]:
        """Take free serial numbers from a pool and return them, in order.

        A taken number is never handed out again. When fewer than ``quantity`` are free the
        server takes all that are left.

        Args:
            serial_number_type: the pool (a type's ``name``).
            quantity: how many to take.
            ref_sn, ref_pn: the unit (serial and part number) to register them with.
            station_name: the station that takes them.
            only_in_sequence: take only consecutive numbers (fails when no free run is long
                enough).
            format: how the server sends them (XML or CSV); the result is the same.

        Raises:
            NotFoundError: no such serial-number type.
            ValidationError: ``only_in_sequence`` and no free run long enough.
        """
        fmt = _format(format)
        if only_in_sequence is not None and not isinstance(only_in_sequence, bool):
            raise InvalidArgumentError("only_in_sequence must be True or False")
        return Call(
            method="POST",
            path="/api/Production/SerialNumbers/Take",
            parse=_taken,
            params={
                "serialNumberType": text_param("serial_number_type", serial_number_type),
                "quantity": int_param("quantity", quantity, minimum=1),
                "refSN": optional_text("ref_sn", ref_sn),
                "refPN": optional_text("ref_pn", ref_pn),
                "stationName": optional_text("station_name", station_name),
                "onlyInSequence": only_in_sequence,
                "format": fmt.value,
            },
            accept=_CONTENT_TYPES[fmt],
        )

    @operation
    def find_serial_numbers_in_range(
        self,
        serial_number_type: str,
        start_address: str,
        end_address: str,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Call[list[SerialNumber]]:
        """The serial numbers of a pool from ``start_address`` to ``end_address``, with states.

        ``start_date``/``end_date`` keep those taken in that period.
        """
        return json_call(
            "GET",
            "/api/Production/SerialNumbers/ByRange",
            list[SerialNumber],
            params={
                "serialNumberType": text_param("serial_number_type", serial_number_type),
                "startAddress": text_param("start_address", start_address),
                "endAddress": text_param("end_address", end_address),
                "startDate": date_param("start_date", start_date),
                "endDate": date_param("end_date", end_date),
            },
            empty=[],
        )

    @operation
    def find_serial_numbers_by_reference(
        self,
        serial_number_type: str,
        *,
        ref_sn: str | None = None,
        ref_pn: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Call[list[SerialNumber]]:
        """The numbers of a pool taken for a reference serial number and/or part number."""
        if ref_sn is None and ref_pn is None:
            raise InvalidArgumentError("give ref_sn, ref_pn or both")
        return json_call(
            "GET",
            "/api/Production/SerialNumbers/ByReference",
            list[SerialNumber],
            params={
                "serialNumberType": text_param("serial_number_type", serial_number_type),
                "refSN": optional_text("ref_sn", ref_sn),
                "refPN": optional_text("ref_pn", ref_pn),
                "startDate": date_param("start_date", start_date),
                "endDate": date_param("end_date", end_date),
            },
            empty=[],
        )

    @operation
    def export_serial_numbers(
        self,
        serial_number_type: str,
        format: SerialNumberFormat | str = SerialNumberFormat.XML,  # noqa: A002 - the server's name
        *,
        start_address: str | None = None,
        end_address: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> Call[bytes]:
        """Export a pool's serial numbers (free and taken) as an XML or CSV file's bytes.

        The file can be imported again with :meth:`import_serial_numbers`;
        :func:`~pywats.models.serial_numbers.parse_serial_numbers` lists the numbers in it.
        """
        fmt = _format(format)
        return bytes_call(
            "GET",
            "/api/Production/SerialNumbers",
            params={
                "serialNumberType": text_param("serial_number_type", serial_number_type),
                "format": fmt.value,
                "startAddress": optional_text("start_address", start_address),
                "endAddress": optional_text("end_address", end_address),
                "startDate": date_param("start_date", start_date),
                "endDate": date_param("end_date", end_date),
            },
            accept=_CONTENT_TYPES[fmt],
        )

    @operation
    def import_serial_numbers(
        self,
        serial_number_type: str,
        file: Upload,
        format: SerialNumberFormat | str | None = None,  # noqa: A002 - the server's name
    ) -> Call[None]:
        """Upload an XML or CSV file of serial numbers into a pool (multipart/form-data).

        Free numbers join the pool; numbers marked taken stay taken (an import never frees a
        taken number).

        Args:
            file: the file's bytes, its path, or a file opened in binary mode (at most
                :data:`~pywats._calls._production_args.MAX_UPLOAD_BYTES`).
            format: XML or CSV; by default from the file name, else from the content.

        Raises:
            InvalidArgumentError: the file cannot be read or is too large (nothing is sent).
            ValidationError: the server refused a line of the file (the message names it).
        """
        data, name = read_upload(file, "serial-number file")
        fmt = _guess_format(data, name) if format is None else _format(format)
        if "." not in name:
            name = f"{name}.{fmt.value.lower()}"
        body, content_type = _multipart(data, name, _CONTENT_TYPES[fmt])

        def parse(response: httpx.Response) -> None:
            return None

        return Call(
            method="PUT",
            path="/api/Production/SerialNumbers",
            parse=parse,
            params={
                "serialNumberType": text_param("serial_number_type", serial_number_type),
                "format": fmt.value,
            },
            content=body,
            content_type=content_type,
        )
