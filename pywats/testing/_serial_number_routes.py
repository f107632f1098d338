"""The emulator's serial-number routes (tag Production): types, take, look-ups, export, import.

Files (take answers, exports, imports) are XML::

    <SerialNumbers type="SerialNumber">
      <SN id="000001" state="Taken" taken="2026-01-01T12:00:00+00:00" refSN="…" refPN="…"
          stationName="…"/>
      <SN id="000002" state="Free"/>
    </SerialNumbers>

or CSV with the header ``id,state,taken,refSN,refPN,stationName`` (an imported CSV may also be
one value per line, all free). A take answer in CSV is one value per line.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response
from pywats.testing._serial_number_files import file_part, read_file
from pywats.testing._serial_number_pools import Pool, Taken, serial_number_state

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_serial_number_routes"]

MAX_TAKE = 10_000
MAX_RANGE = 100_000
_CSV_HEADER = ["id", "state", "taken", "refSN", "refPN", "stationName"]
_CONTENT_TYPES = {"XML": "application/xml; charset=utf-8", "CSV": "text/csv; charset=utf-8"}


def add_serial_number_routes(router: Router) -> None:
    """Register the serial-number routes on ``router``."""
    router.add("GET", "/api/Production/SerialNumbers/Types", get_types)
    router.add("POST", "/api/Production/SerialNumbers/Take", take)
    router.add("GET", "/api/Production/SerialNumbers/ByRange", by_range)
    router.add("GET", "/api/Production/SerialNumbers/ByReference", by_reference)
    router.add("GET", "/api/Production/SerialNumbers", export)
    router.add("PUT", "/api/Production/SerialNumbers", upload)


# --- parameters -------------------------------------------------------------------------------


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value.strip()


def _pool(emu: FakeWATS, name: str) -> Pool:
    pool = serial_number_state(emu).pools.get(name.casefold())
    if pool is None:
        raise HTTPFailure(404, f"Serial number type '{name[:100]}' was not found.")
    return pool


def _format(value: str | None, *, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if value is None or value.strip().upper() not in _CONTENT_TYPES:
        raise HTTPFailure(400, f"format: '{(value or '')[:100]}' is not XML or CSV.")
    return value.strip().upper()


def _address(pool: Pool, req: Request, name: str) -> int | None:
    text = req.param(name)
    if text is None or not text.strip():
        return None
    value = pool.codec.value(text)
    if value is None:
        raise HTTPFailure(
            400, f"{name}: '{text[:100]}' is not a {pool.name} value ({pool.codec.regex})."
        )
    return value


def _date(req: Request, name: str) -> datetime | None:
    text = req.param(name)
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise HTTPFailure(400, f"The value '{text[:100]}' is not valid for {name}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _flag(req: Request, name: str) -> bool:
    text = req.param(name)
    if text is None or not text.strip():
        return False
    if text.strip().lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{text[:100]}' is not valid for {name}.")
    return text.strip().lower() == "true"


def _in_period(taken: Taken, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or taken.date >= start) and (end is None or taken.date <= end)


# --- records and files ------------------------------------------------------------------------


def _record(pool: Pool, value: int) -> dict[str, Any]:
    taken = pool.taken.get(value)
    out: dict[str, Any] = {
        "serialNumber": pool.codec.text(value),
        "serialNumberType": pool.name,
        "state": "Taken" if taken else "Free",
    }
    if taken is not None:
        out["takenDate"] = taken.date
        extra = {"refSN": taken.ref_sn, "refPN": taken.ref_pn, "stationName": taken.station_name}
        out.update({k: v for k, v in extra.items() if v})
    return out


def _xml(pool: Pool, values: list[int]) -> bytes:
    root = ElementTree.Element("SerialNumbers", type=pool.name)
    for value in values:
        element = ElementTree.SubElement(root, "SN", id=pool.codec.text(value))
        taken = pool.taken.get(value)
        element.set("state", "Taken" if taken else "Free")
        if taken is not None:
            element.set("taken", taken.date.isoformat())
            for key, text in (
                ("refSN", taken.ref_sn),
                ("refPN", taken.ref_pn),
                ("stationName", taken.station_name),
            ):
                if text:
                    element.set(key, text)
    data: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _csv(pool: Pool, values: list[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_HEADER)
    for value in values:
        taken = pool.taken.get(value)
        if taken is None:
            writer.writerow([pool.codec.text(value), "Free", "", "", "", ""])
        else:
            writer.writerow(
                [
                    pool.codec.text(value),
                    "Taken",
                    taken.date.isoformat(),
                    taken.ref_sn or "",
                    taken.ref_pn or "",
                    taken.station_name or "",
                ]
            )
    return out.getvalue().encode("utf-8")


# --- routes -----------------------------------------------------------------------------------


def get_types(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/SerialNumbers/Types``."""
    state = serial_number_state(emu)
    with state.lock:
        return json_response([pool.type for pool in state.pools.values()])


def take(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Production/SerialNumbers/Take``: the lowest free values, as XML or CSV."""
    name = _required(req, "serialNumberType")
    text = _required(req, "quantity")
    try:
        quantity = int(text)
    except ValueError:
        raise HTTPFailure(400, f"The value '{text[:100]}' is not valid for quantity.") from None
    in_sequence = _flag(req, "onlyInSequence")
    state = serial_number_state(emu)
    with state.lock:
        pool = _pool(emu, name)
        fmt = _format(req.param("format"), default="XML")
        if not 1 <= quantity <= MAX_TAKE:
            raise HTTPFailure(400, f"quantity must be between 1 and {MAX_TAKE}, not {quantity}.")
        values = pool.take(quantity, in_sequence=in_sequence)
        if values is None:
            longest = max((end - start + 1 for start, end in pool.free), default=0)
            raise HTTPFailure(
                400,
                f"onlyInSequence: no {quantity} free {pool.name} values in sequence "
                f"(the longest free sequence has {longest}).",
            )
        now = datetime.now(UTC)
        for value in values:
            pool.taken[value] = Taken(
                now, req.param("refSN"), req.param("refPN"), req.param("stationName")
            )
        if fmt == "CSV":
            body = "".join(f"{pool.codec.text(v)}\r\n" for v in values).encode()
        else:
            body = _xml(pool, values)
    return Response(body=body, content_type=_CONTENT_TYPES[fmt])


def by_range(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/SerialNumbers/ByRange``: every known value in the range."""
    name = _required(req, "serialNumberType")
    _required(req, "startAddress")
    _required(req, "endAddress")
    start_date, end_date = _date(req, "startDate"), _date(req, "endDate")
    state = serial_number_state(emu)
    with state.lock:
        pool = _pool(emu, name)
        low, high = _address(pool, req, "startAddress"), _address(pool, req, "endAddress")
        assert low is not None
        assert high is not None
        if low > high:
            raise HTTPFailure(400, "endAddress must not come before startAddress.")
        if high - low >= MAX_RANGE:
            raise HTTPFailure(400, f"The range holds more than {MAX_RANGE} values.")
        values = pool.values_between(low, high)
        if start_date is not None or end_date is not None:
            values = [
                v
                for v in values
                if v in pool.taken and _in_period(pool.taken[v], start_date, end_date)
            ]
        return json_response([_record(pool, v) for v in values])


def by_reference(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/SerialNumbers/ByReference``: values taken for a unit or part."""
    name = _required(req, "serialNumberType")
    ref_sn, ref_pn = (req.param("refSN") or "").strip(), (req.param("refPN") or "").strip()
    start_date, end_date = _date(req, "startDate"), _date(req, "endDate")
    state = serial_number_state(emu)
    with state.lock:
        pool = _pool(emu, name)
        if not ref_sn and not ref_pn:
            raise HTTPFailure(400, "Either refSN or refPN is required.")
        found = [
            value
            for value, taken in sorted(pool.taken.items())
            if (not ref_sn or (taken.ref_sn or "").casefold() == ref_sn.casefold())
            and (not ref_pn or (taken.ref_pn or "").casefold() == ref_pn.casefold())
            and _in_period(taken, start_date, end_date)
        ]
        return json_response([_record(pool, v) for v in found])


def export(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Production/SerialNumbers``: a pool (or a range of it) as an XML or CSV file."""
    name = _required(req, "serialNumberType")
    fmt_text = _required(req, "format")
    start_date, end_date = _date(req, "startDate"), _date(req, "endDate")
    state = serial_number_state(emu)
    with state.lock:
        pool = _pool(emu, name)
        fmt = _format(fmt_text)
        values = pool.values_between(
            _address(pool, req, "startAddress"), _address(pool, req, "endAddress")
        )
        if start_date is not None or end_date is not None:
            values = [
                v
                for v in values
                if v in pool.taken and _in_period(pool.taken[v], start_date, end_date)
            ]
        body = _xml(pool, values) if fmt == "XML" else _csv(pool, values)
    response = Response(body=body, content_type=_CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{pool.name}.{fmt.lower()}"'
    return response


def upload(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/Production/SerialNumbers``: import a file (multipart/form-data, or raw)."""
    name = _required(req, "serialNumberType")
    fmt_text = _required(req, "format")
    state = serial_number_state(emu)
    with state.lock:
        pool = _pool(emu, name)
        fmt = _format(fmt_text)
        data = file_part(req.body, req.headers.get("content-type", ""))
        rows = read_file(pool, data, fmt)
        free = [value for value, taken in rows if taken is None]
        for value, taken in rows:
            if taken is not None and value not in pool.taken:
                pool.taken[value] = taken
                pool.remove(value)
        pool.add_free(free)
        taken_count = sum(1 for _, taken in rows if taken is not None)
    return json_response({"imported": len(rows), "free": len(free), "taken": taken_count})
