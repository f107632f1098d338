"""Reading an uploaded serial-number file: the multipart envelope, then its XML or CSV rows.

Every problem is a 400 naming the element or line, as a user fixing the file needs.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from xml.etree import ElementTree

from pywats.testing._http import HTTPFailure
from pywats.testing._serial_number_pools import Pool, Taken

__all__ = ["file_part", "read_file"]

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_HEADER_NAMES = frozenset({"id", "sn", "serialnumber", "serial number", "serial_number"})


def file_part(body: bytes, content_type: str) -> bytes:
    """The file of a multipart/form-data body (its first part), or the body when it is raw."""
    if not content_type.lower().startswith("multipart/"):
        return body
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise HTTPFailure(400, "The multipart body has no boundary.")
    delimiter = b"--" + found.group(1).encode("latin-1", errors="replace")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        _head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        return content
    raise HTTPFailure(400, "The multipart body has no file part.")


def _taken(
    where: str, state: str, date: str, ref_sn: str, ref_pn: str, station: str
) -> Taken | None:
    kind = state.strip().casefold()
    if kind in ("", "free", "reserved"):
        return None
    if kind != "taken":
        raise HTTPFailure(400, f"{where}: state '{state[:50]}' is not Free, Reserved or Taken.")
    when = datetime.now(UTC)
    if date.strip():
        try:
            when = datetime.fromisoformat(date.strip().replace("Z", "+00:00"))
        except ValueError:
            raise HTTPFailure(400, f"{where}: '{date[:50]}' is not a date-time.") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return Taken(when, ref_sn or None, ref_pn or None, station or None)


def _value(pool: Pool, where: str, text: str) -> int:
    value = pool.codec.value(text)
    if value is None:
        raise HTTPFailure(
            400, f"{where}: '{text[:50]}' is not a {pool.name} value ({pool.codec.regex})."
        )
    return value


def read_file(pool: Pool, data: bytes, fmt: str) -> list[tuple[int, Taken | None]]:
    """The values of an uploaded file with their taken state (``None``: free).

    Raises:
        HTTPFailure: 400 for an empty file, bad XML, or a value or state the pool cannot hold.
    """
    if not data.strip():
        raise HTTPFailure(400, "The file is empty.")
    rows = _read_xml(pool, data) if fmt == "XML" else _read_csv(pool, data)
    if not rows:
        raise HTTPFailure(400, "The file holds no serial numbers.")
    return rows


def _read_xml(pool: Pool, data: bytes) -> list[tuple[int, Taken | None]]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise HTTPFailure(400, f"The XML file does not parse: {exc}") from None
    rows: list[tuple[int, Taken | None]] = []
    for n, element in enumerate(e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "SN"):
        where = f"SN element {n + 1}"
        text = element.get("id")
        if text is None:
            raise HTTPFailure(400, f"{where}: the id attribute is missing.")
        attrs = element.attrib
        taken = _taken(
            where,
            attrs.get("state", ""),
            attrs.get("taken", ""),
            attrs.get("refSN", ""),
            attrs.get("refPN", ""),
            attrs.get("stationName", ""),
        )
        rows.append((_value(pool, where, text), taken))
    return rows


def _read_csv(pool: Pool, data: bytes) -> list[tuple[int, Taken | None]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPFailure(400, f"The CSV file is not UTF-8: {exc}") from None
    rows: list[tuple[int, Taken | None]] = []
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise HTTPFailure(400, f"The CSV file does not parse: {exc}") from None
    for n, row in enumerate(lines):
        cells = [c.strip() for c in row] + [""] * 6
        if not cells[0]:
            continue
        if n == 0 and cells[0].casefold() in _HEADER_NAMES:
            continue
        where = f"Line {n + 1}"
        taken = _taken(where, cells[1], cells[2], cells[3], cells[4], cells[5])
        rows.append((_value(pool, where, cells[0]), taken))
    return rows
