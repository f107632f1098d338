"""Serial-number types and the serial numbers of their pools (taken, free), and their files.

The server hands out serial numbers (and MAC addresses, IMEIs) from pools, one pool per
:class:`SerialNumberType`. Taken numbers come back, and pools are exported and imported, as
XML or CSV files; :func:`parse_serial_numbers` reads either.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from datetime import datetime
from xml.etree import ElementTree

import msgspec

from pywats._errors import InvalidArgumentError
from pywats.models._base import Dto

__all__ = [
    "SerialNumber",
    "SerialNumberFormat",
    "SerialNumberIdentifier",
    "SerialNumberType",
    "parse_serial_numbers",
]


class SerialNumberIdentifier(enum.IntEnum):
    """What a serial-number type's values identify (``identifier``)."""

    SERIAL_NUMBER = 0
    MAC_ADDRESS = 1
    IMEI = 2


class SerialNumberFormat(enum.StrEnum):
    """The file format of taken, exported and imported serial numbers."""

    XML = "XML"
    CSV = "CSV"


class SerialNumberType(Dto):
    """A pool of serial numbers: its name, what the values look like (``reg_ex``) and identify.

    ``identifier_name`` is the server's name of ``identifier`` (read-only).
    """

    name: str
    description: str | None = None
    format: str | None = None
    reg_ex: str | None = None
    identifier: SerialNumberIdentifier | None = None
    identifier_name: str | None = None


class SerialNumber(Dto):
    """One serial number of a pool: ``state`` is ``Free``, ``Reserved`` or ``Taken``.

    A taken number carries when it was taken and the reference unit and station it was taken
    for. The server describes these answers only as objects: the members are the emulator's
    (``pywats.testing``).
    """

    serial_number: str
    serial_number_type: str | None = None
    state: str | None = None
    taken_date: datetime | None = None
    ref_sn: str | None = msgspec.field(default=None, name="refSN")
    ref_pn: str | None = msgspec.field(default=None, name="refPN")
    station_name: str | None = None


_HEADER_NAMES = frozenset({"id", "sn", "serialnumber", "serial number", "serial_number"})
_XML_START = re.compile(rb"^\s*(<\?xml|<)")


def parse_serial_numbers(data: bytes | str) -> list[str]:
    """The serial numbers in a take answer or an export file, in file order.

    XML: the ``id`` of every ``SN`` element (``<SerialNumbers><SN id="…"/>…``). CSV: the first
    column of every line, a header line (``id``/``serialNumber``) left out.

    Raises:
        InvalidArgumentError: XML that does not parse.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        return []
    if _XML_START.match(raw):
        try:
            # The server's own answer or the user's own file; entity expansion of the standard
            # library parser is limited to the predefined entities (no external ones).
            root = ElementTree.fromstring(raw)
        except ElementTree.ParseError as exc:
            raise InvalidArgumentError(f"the serial-number XML does not parse: {exc}") from exc
        return [
            element.attrib["id"]
            for element in root.iter()
            if _local(element.tag) == "SN" and "id" in element.attrib
        ]
    text = raw.decode("utf-8-sig", errors="replace")
    out: list[str] = []
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or not row[0].strip():
            continue
        value = row[0].strip()
        if i == 0 and value.casefold() in _HEADER_NAMES:
            continue
        out.append(value)
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
