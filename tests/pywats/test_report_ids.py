"""Report ids are :class:`uuid.UUID` in everything the library returns; text is accepted too.

A script compares what ``submit_report`` returned with ``report.id`` and ``header.uuid``: the
three must be equal, whichever way the script got them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import trio

from pywats import AsyncWATS, CompOp, ReportBuilder, RetryPolicy, UUTReport, pyWATS
from pywats._errors import InvalidArgumentError
from pywats.formats import wsjf, wsxf
from pywats.odata import F
from pywats.testing import FakeWATS

URL = "http://wats.test"
TOKEN = "test-token"


def built(sn: str = "SN-1", report_id: str | uuid.UUID | None = None) -> UUTReport:
    uut = ReportBuilder.uut(pn="PN-1", sn=sn, rev="A", process_code=10, station="ST-1",
                            location="Lab", purpose="Development", report_id=report_id)  # fmt: skip
    uut.root.numeric("V", 1.0, CompOp.GELE, low=0.5, high=1.5, unit="V")
    return uut.build()


@pytest.fixture
def fake() -> Iterator[FakeWATS]:
    emulator = FakeWATS(token=TOKEN)
    yield emulator
    emulator.close()


@pytest.fixture
def api(fake: FakeWATS) -> Iterator[pyWATS]:
    with pyWATS(URL, TOKEN, transport=fake, retry=RetryPolicy.never()) as client:
        yield client


def test_submit_report_returns_the_reports_own_id(api: pyWATS) -> None:
    report = built()

    rid = api.report.submit_report(report)
    [header] = api.report.query_headers(F.serial_number == "SN-1")

    assert isinstance(rid, uuid.UUID)
    assert rid == report.id == header.uuid
    assert api.report.get_report(rid).id == rid


def test_the_async_client_returns_the_same_type() -> None:
    report = built()

    async def main() -> uuid.UUID:
        async with AsyncWATS(URL, TOKEN, transport=FakeWATS(token=TOKEN)) as api:
            return await api.report.submit_report(report)

    assert trio.run(main) == report.id


def test_the_receipt_and_the_xml_submit_give_uuids(api: pyWATS) -> None:
    report = built()

    receipt = api.report.submit_wsjf(wsjf.dumps(report))
    xml_id = api.report.submit_report_xml(wsxf.dumps(built("SN-2")))

    assert receipt.stored_id == report.id
    assert isinstance(xml_id, uuid.UUID)


@pytest.mark.parametrize(
    "text",
    [
        "{rid}",
        "{rid_upper}",
        "{{{rid}}}",  # braces, as .NET writes a Guid
        " {rid} ",
    ],
)
def test_ids_are_accepted_as_text_in_any_usual_form(api: pyWATS, text: str) -> None:
    report = built()
    rid = api.report.submit_report(report)
    given = text.format(rid=rid, rid_upper=str(rid).upper())

    assert api.report.get_report(given).id == rid
    assert api.report.get_report_xml(given).startswith(b"<?xml")


def test_a_malformed_id_fails_before_anything_is_sent(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(InvalidArgumentError, match="'SN-1' is not a UUID") as info:
        api.report.get_report("SN-1")
    assert isinstance(info.value, ValueError)
    assert not fake.log


def test_the_builder_takes_a_report_id_as_text() -> None:
    rid = uuid.uuid4()
    assert built(report_id=str(rid).upper()).id == rid
    with pytest.raises(ValueError, match="report_id 'x' is not a UUID"):
        built(report_id="x")


def test_the_emulator_finds_a_report_by_the_returned_id(api: pyWATS, fake: FakeWATS) -> None:
    rid = api.report.submit_report(built())

    stored = fake.get_report(rid)

    assert stored is not None
    assert stored.id == rid
    assert fake.get_report(str(rid).upper()) is not None
    assert fake.get_report("not-an-id") is None
