"""``api.production`` serial numbers against the emulator, blocking and async: types, taking,
look-ups by range and reference, export and import."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import pywats
from pywats import pyWATS
from pywats._call import UnexpectedResponseError
from pywats._calls import _production_args
from pywats._errors import InvalidArgumentError
from pywats.models.serial_numbers import SerialNumberIdentifier, parse_serial_numbers
from pywats.testing import FakeWATS
from pywats.testing._serial_number_pools import serial_number_state
from tests.pywats.both_clients import BASE_URL, TOKEN, api_for, both_clients

fake, api = both_clients()

NUMBERS = "SerialNumber"
MACS = "MACAddress"


def test_seeded_types(api: pyWATS) -> None:
    types = {t.name: t for t in api.production.get_serial_number_types()}
    assert set(types) == {NUMBERS, MACS}
    assert types[NUMBERS].identifier is SerialNumberIdentifier.SERIAL_NUMBER
    assert types[MACS].identifier is SerialNumberIdentifier.MAC_ADDRESS
    assert types[MACS].reg_ex == "^([0-9A-F]{2}:){5}[0-9A-F]{2}$"


def test_taken_numbers_are_contiguous_and_never_given_twice(api: pyWATS) -> None:
    first = api.production.allocate_serial_numbers(NUMBERS, 3)
    second = api.production.allocate_serial_numbers(NUMBERS, 2, format="CSV")
    assert first == ["000001", "000002", "000003"]
    assert second == ["000004", "000005"]
    macs = api.production.allocate_serial_numbers(MACS, 2)
    assert macs == ["00:1B:C5:0A:00:00", "00:1B:C5:0A:00:01"]
    assert api.production.allocate_serial_numbers(MACS)[0] == "00:1B:C5:0A:00:02"


def test_too_few_left_takes_all(api: pyWATS, fake: FakeWATS) -> None:
    serial_number_state(fake).pools[NUMBERS.casefold()].free = [(7, 8)]
    assert api.production.allocate_serial_numbers(NUMBERS, 5) == ["000007", "000008"]
    assert api.production.allocate_serial_numbers(NUMBERS, 5) == []


def test_only_in_sequence_skips_short_runs(api: pyWATS, fake: FakeWATS) -> None:
    serial_number_state(fake).pools[NUMBERS.casefold()].free = [(1, 2), (5, 10)]
    taken = api.production.allocate_serial_numbers(NUMBERS, 3, only_in_sequence=True)
    assert taken == ["000005", "000006", "000007"]
    with pytest.raises(pywats.ValidationError, match=r"onlyInSequence: no 4 free .* has 3"):
        api.production.allocate_serial_numbers(NUMBERS, 4, only_in_sequence=True)
    # Without the sequence rule the gaps do not matter.
    assert api.production.allocate_serial_numbers(NUMBERS, 4) == [
        "000001",
        "000002",
        "000008",
        "000009",
    ]


def test_take_errors(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Serial number type 'IMEI' was not found"):
        api.production.allocate_serial_numbers("IMEI", 1)
    with pytest.raises(pywats.ValidationError, match="quantity must be between 1 and 10000"):
        api.production.allocate_serial_numbers(NUMBERS, 10_001)


def test_lookups_find_what_was_taken(api: pyWATS) -> None:
    taken = api.production.allocate_serial_numbers(
        NUMBERS, 2, ref_sn="BOX-1", ref_pn="BOX", station_name="ST-1"
    )
    api.production.allocate_serial_numbers(NUMBERS, 1, ref_sn="BOX-2", ref_pn="BOX")
    by_sn = api.production.find_serial_numbers_by_reference(NUMBERS, ref_sn="box-1")
    assert [n.serial_number for n in by_sn] == taken
    assert {(n.state, n.ref_pn, n.station_name) for n in by_sn} == {("Taken", "BOX", "ST-1")}
    by_pn = api.production.find_serial_numbers_by_reference(NUMBERS, ref_pn="BOX")
    assert [n.serial_number for n in by_pn] == ["000001", "000002", "000003"]
    in_range = api.production.find_serial_numbers_in_range(NUMBERS, "000002", "000005")
    assert [(n.serial_number, n.state) for n in in_range] == [
        ("000002", "Taken"),
        ("000003", "Taken"),
        ("000004", "Free"),
        ("000005", "Free"),
    ]
    assert in_range[0].ref_sn == "BOX-1"
    assert in_range[0].taken_date is not None


def test_lookups_by_date(api: pyWATS) -> None:
    api.production.allocate_serial_numbers(NUMBERS, 2, ref_pn="BOX")
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    assert (
        api.production.find_serial_numbers_in_range(NUMBERS, "000001", "000009", start_date=later)
        == []
    )
    found = api.production.find_serial_numbers_in_range(NUMBERS, "000001", "000009", end_date=later)
    assert [n.serial_number for n in found] == ["000001", "000002"]  # only taken ones have dates
    assert (
        api.production.find_serial_numbers_by_reference(NUMBERS, ref_pn="BOX", start_date=later)
        == []
    )


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("12", "000005", "startAddress: '12' is not a SerialNumber value"),
        ("000001", "AB:CD", "endAddress"),
        ("000009", "000001", "endAddress must not come before startAddress"),
        ("000001", "200000", "more than 100000"),
    ],
)
def test_bad_ranges_are_refused(api: pyWATS, start: str, end: str, match: str) -> None:
    with pytest.raises(pywats.ValidationError, match=match):
        api.production.find_serial_numbers_in_range(NUMBERS, start, end)


def test_unknown_type_in_lookups_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.production.find_serial_numbers_in_range("IMEI", "1", "2")
    with pytest.raises(pywats.NotFoundError):
        api.production.find_serial_numbers_by_reference("IMEI", ref_sn="X")
    with pytest.raises(pywats.NotFoundError):
        api.production.export_serial_numbers("IMEI")
    with pytest.raises(pywats.NotFoundError):
        api.production.import_serial_numbers("IMEI", b"000001\n")


@pytest.mark.parametrize("fmt", ["XML", "CSV"])
def test_export_import_round_trip(api: pyWATS, fmt: str) -> None:
    api.production.allocate_serial_numbers(NUMBERS, 3, ref_sn="BOX-1", ref_pn="BOX")
    exported = api.production.export_serial_numbers(NUMBERS, fmt, end_address="000006")
    assert parse_serial_numbers(exported) == [f"{n:06d}" for n in range(1, 7)]
    for mode in ("sync", "async"):
        other = FakeWATS(TOKEN)
        serial_number_state(other).pools[NUMBERS.casefold()].free = []  # an empty pool
        for client in api_for(mode, other):
            client.production.import_serial_numbers(NUMBERS, exported, fmt)
            again = client.production.export_serial_numbers(NUMBERS, fmt)
            assert again == exported
            found = client.production.find_serial_numbers_by_reference(NUMBERS, ref_sn="BOX-1")
            assert [n.serial_number for n in found] == ["000001", "000002", "000003"]
            # The taken ones stay taken: the free ones come out next.
            assert client.production.allocate_serial_numbers(NUMBERS, 4) == [
                "000004",
                "000005",
                "000006",
            ]
        other.close()


def test_import_never_frees_a_taken_number(api: pyWATS) -> None:
    taken = api.production.allocate_serial_numbers(NUMBERS, 1)
    api.production.import_serial_numbers(NUMBERS, b"id,state\r\n000001,Free\r\n")
    assert api.production.find_serial_numbers_in_range(NUMBERS, "000001", "000001")[0].state == (
        "Taken"
    )
    assert taken[0] not in api.production.allocate_serial_numbers(NUMBERS, 5)


def test_import_from_a_path_and_a_file_object(api: pyWATS, fake: FakeWATS, tmp_path: Path) -> None:
    serial_number_state(fake).pools[MACS.casefold()].free = []
    path = tmp_path / "macs.csv"
    path.write_bytes(b"00-1B-C5-0A-10-00\n001bc50a1001\n")
    api.production.import_serial_numbers(MACS, path)
    xml = b'<SerialNumbers><SN id="00:1B:C5:0A:10:02"/></SerialNumbers>'
    api.production.import_serial_numbers(MACS, io.BytesIO(xml))
    assert api.production.allocate_serial_numbers(MACS, 5) == [
        "00:1B:C5:0A:10:00",
        "00:1B:C5:0A:10:01",
        "00:1B:C5:0A:10:02",
    ]


def test_upload_is_multipart_form_data(fake: FakeWATS) -> None:
    seen: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handle_request(request)

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(spy)) as client:
        client.production.import_serial_numbers(NUMBERS, b"020000\n", "CSV")
    [request] = seen
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'filename="serial-number file.csv"' in request.content
    assert b"Content-Type: text/csv" in request.content
    assert serial_number_state(fake).pools[NUMBERS.casefold()].is_free(20_000)


@pytest.mark.parametrize(
    ("data", "fmt", "match"),
    [
        (b"id\r\n000001\r\n12x\r\n", "CSV", "Line 3: '12x' is not a SerialNumber value"),
        (b"000001,Sold\r\n", "CSV", "Line 1: state 'Sold'"),
        (b"000001,Taken,yesterday\r\n", "CSV", "Line 1: 'yesterday' is not a date-time"),
        (b"<SerialNumbers><SN/></SerialNumbers>", "XML", "SN element 1: the id attribute"),
        (b"<SerialNumbers><SN id='1'", "XML", "does not parse"),
        (b"<SerialNumbers/>", "XML", "holds no serial numbers"),
        (b" \n", "CSV", "The file is empty"),
    ],
)
def test_bad_files_are_refused_naming_the_line(
    api: pyWATS, data: bytes, fmt: str, match: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=match):
        api.production.import_serial_numbers(NUMBERS, data, fmt)


def test_emulator_takes_a_raw_file_too(fake: FakeWATS) -> None:
    with httpx.Client(transport=fake, base_url=BASE_URL) as http:
        answer = http.put(
            "/api/Production/SerialNumbers",
            params={"serialNumberType": NUMBERS, "format": "CSV"},
            content=b"020001\n",
            headers={"Authorization": f"Basic {TOKEN}", "Content-Type": "text/csv"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"imported": 1, "free": 1, "taken": 0}


def test_oversize_upload_is_refused_unread(
    api: pyWATS, fake: FakeWATS, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_production_args, "MAX_UPLOAD_BYTES", 10)
    path = tmp_path / "big.csv"
    path.write_bytes(b"000001\n" * 10)
    with pytest.raises(InvalidArgumentError, match="larger than 10 bytes"):
        api.production.import_serial_numbers(NUMBERS, path)
    with pytest.raises(InvalidArgumentError, match="larger than 10 bytes"):
        api.production.import_serial_numbers(NUMBERS, b"0" * 11)
    assert not fake.log


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: p.allocate_serial_numbers(NUMBERS, 0), "quantity must be at least 1"),
        (lambda p: p.allocate_serial_numbers(NUMBERS, "2"), "quantity must be an integer"),
        (lambda p: p.allocate_serial_numbers(NUMBERS, format="JSON"), "XML or CSV"),
        (lambda p: p.allocate_serial_numbers(NUMBERS, only_in_sequence="yes"), "True or False"),
        (lambda p: p.allocate_serial_numbers(7), "serial_number_type must be text"),
        (lambda p: p.find_serial_numbers_by_reference(NUMBERS), "ref_sn, ref_pn or both"),
        (lambda p: p.find_serial_numbers_in_range(NUMBERS, "1", 2), "end_address must be text"),
        (
            lambda p: p.find_serial_numbers_in_range(NUMBERS, "1", "2", start_date="today"),
            "start_date must be a datetime",
        ),
        (lambda p: p.export_serial_numbers(NUMBERS, "PDF"), "XML or CSV"),
        (lambda p: p.import_serial_numbers(NUMBERS, 42), "bytes, a path or a binary file"),
        (lambda p: p.import_serial_numbers(NUMBERS, "/nonexistent/sn.csv"), "cannot read"),
        (lambda p: p.import_serial_numbers(NUMBERS, io.StringIO("1")), "binary mode"),
        (lambda p: p.import_serial_numbers(NUMBERS, b"1", "TXT"), "XML or CSV"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    api: pyWATS, fake: FakeWATS, call: Any, match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        call(api.production)
    assert not fake.log


def test_malformed_take_answer_is_a_named_error() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"<SerialNumbers><SN id=", headers={"content-type": "application/xml"}
        )

    with (
        pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(server)) as client,
        pytest.raises(UnexpectedResponseError, match="does not parse"),
    ):
        client.production.allocate_serial_numbers(NUMBERS)


def test_parse_serial_numbers() -> None:
    assert parse_serial_numbers(b"serialNumber,state\r\nA1,Free\r\n\r\nA2\r\n") == ["A1", "A2"]
    assert parse_serial_numbers("\ufeffA1\nA2\n") == ["A1", "A2"]
    namespaced = (
        b'<?xml version="1.0"?><x:SerialNumbers xmlns:x="urn:x"><x:SN id="7"/></x:SerialNumbers>'
    )
    assert parse_serial_numbers(namespaced) == ["7"]
    assert parse_serial_numbers(b"") == []
    with pytest.raises(InvalidArgumentError):
        parse_serial_numbers(b"<SerialNumbers>")
