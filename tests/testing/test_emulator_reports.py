"""The emulator's report routes, in process, through the real client (``transport=fake``)."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

import pywats
from pywats import RetryPolicy, pyWATS
from pywats.formats import wsjf, wsxf
from pywats.models.report import MiscInfo, RefUUR, SubUnit, UURReport, UUTReport
from pywats.models.report_query import ReportHeader
from pywats.odata import F
from pywats.testing import FakeWATS
from tests.fixtures import WSJF_FILES, real_file
from tests.pywats.normalise import normalise
from tests.testing.conftest import (
    ATTACHMENT_BYTES,
    BLOB_BYTES,
    TOKEN,
    URL,
    make_uur,
    make_uut,
)

FAT = "uut-wsjf-export.json"
FAT_ID = "33a2d408-3fc8-480b-b554-6866c77fd91c"
WSXF_EXPORT = "uut-wsxf-export.xml"
DENIED = {"Message": "Authorization has been denied for this request."}


def fixture_bytes(name: str) -> bytes:
    return real_file("wsjf", name).read_bytes()


def as_json_tree(report: UUTReport | UURReport) -> object:
    """The report as the library would write it, decoded to plain JSON values."""
    return msgspec.json.decode(wsjf.dumps(report))


@pytest.fixture
def raw(fake_wats: FakeWATS) -> Iterator[httpx.Client]:
    """A plain httpx client on the emulator, authorised (no pyWATS in between)."""
    with httpx.Client(
        transport=fake_wats, base_url=URL, headers={"Authorization": f"Basic {TOKEN}"}
    ) as client:
        yield client


# --- round trips of the real exports ------------------------------------------------------------


@pytest.mark.parametrize("name", WSJF_FILES)
def test_real_export_submitted_as_is_reads_back_equal(
    name: str, wats: pyWATS, fake_wats: FakeWATS
) -> None:
    data = fixture_bytes(name)
    source_id = json.loads(data)["id"]

    receipt = wats.report.submit_wsjf(data)

    assert receipt.stored_id == uuid.UUID(source_id)
    assert str(receipt.id) == source_id
    assert fake_wats.report_ids() == [source_id]
    back = wats.report.get_report(source_id)
    assert normalise(json.loads(data)) == normalise(as_json_tree(back))


@pytest.mark.parametrize("name", WSJF_FILES)
def test_real_export_submitted_as_model_reads_back_equal(name: str, wats: pyWATS) -> None:
    data = fixture_bytes(name)
    report = wsjf.loads(data)

    # The FAT export breaks the server rules; the lenient emulator accepts it anyway, so skip
    # the client's own check to reach the server.
    report_id = wats.report.submit_report(report, validate=False)

    assert report_id == report.id
    back = wats.report.get_report(report_id)
    assert type(back) is type(report)
    assert normalise(json.loads(data)) == normalise(as_json_tree(back))


def test_lenient_accepts_every_real_export(wats: pyWATS, fake_wats: FakeWATS) -> None:
    assert fake_wats.strict is False
    for name in WSJF_FILES:
        wats.report.submit_wsjf(fixture_bytes(name))
    wats.report.submit_report_xml(fixture_bytes(WSXF_EXPORT))  # the FAT report again, as XML

    assert sorted(fake_wats.report_ids()) == sorted(
        json.loads(fixture_bytes(name))["id"] for name in WSJF_FILES
    )
    # The UUR's refUUT is not stored: lenient mode does not care.
    uur = wats.report.get_report("83ac0b8e-b575-4004-94de-f905774c3ed8")
    assert isinstance(uur, UURReport)
    assert uur.uur is not None
    assert str(uur.uur.ref_uut) not in fake_wats.reports


def test_resubmit_keeps_one_report_counts_receives_and_keeps_run(
    wats: pyWATS, fake_wats: FakeWATS
) -> None:
    data = fixture_bytes(FAT)

    first = wats.report.submit_wsjf(data)
    [before] = wats.report.query_headers(expand=["subUnits", "miscInfo"])
    second = wats.report.submit_wsjf(data)
    headers = wats.report.query_headers(expand=["subUnits", "miscInfo"])

    assert first.stored_id == second.stored_id == uuid.UUID(FAT_ID)
    assert len(fake_wats.reports) == 1
    assert len(headers) == 1
    [after] = headers
    assert (before.receive_count, after.receive_count) == (1, 2)
    assert before.run == after.run == 1
    assert after.time_stamp is not None
    assert before.time_stamp is not None
    assert after.time_stamp > before.time_stamp
    assert [m.description for m in after.misc_info or ()] == [
        m.description for m in wsjf.loads(data).misc_infos or ()
    ]
    assert [u.part_type for u in after.sub_units or ()] == ["PCBA", "MODULE"]


def test_a_new_report_of_the_same_unit_gets_the_next_run(wats: pyWATS) -> None:
    first = wats.report.submit_report(make_uut(result="F"))
    second = wats.report.submit_report(make_uut(result="P", start=datetime(2026, 1, 3, tzinfo=UTC)))
    third = wats.report.submit_report(make_uut(result="P", start=datetime(2026, 1, 4, tzinfo=UTC)))

    runs = {h.uuid: (h.run, h.passed_in_run) for h in wats.report.query_headers()}
    assert runs == {first: (1, None), second: (2, 2), third: (3, 2)}


def test_wsxf_submit_and_read_back(wats: pyWATS, fake_wats: FakeWATS) -> None:
    xml = fixture_bytes(WSXF_EXPORT)

    report_id = wats.report.submit_report_xml(xml)

    assert report_id == uuid.UUID(FAT_ID)
    assert report_id is not None
    stored = fake_wats.get_report(report_id)
    assert isinstance(stored, UUTReport)
    assert len(stored.steps()) == 186
    back_xml = wats.report.get_report_xml(report_id)
    assert back_xml.startswith(b"<?xml")
    assert normalise(msgspec.to_builtins(wsxf.loads(back_xml))) == normalise(
        msgspec.to_builtins(wsxf.loads(xml))
    )
    # The same report read as WSJF equals its real JSON twin.
    assert normalise(as_json_tree(wats.report.get_report(report_id))) == normalise(
        msgspec.to_builtins(wsjf.loads(fixture_bytes(FAT)))
    )


def test_wsxf_get_answers_xml(raw: httpx.Client) -> None:
    raw.post(
        "/api/Report/WSXF",
        content=fixture_bytes(WSXF_EXPORT),
        headers={"Content-Type": "application/xml"},
    ).raise_for_status()

    answer = raw.get(f"/api/Report/Wsxf/{FAT_ID}")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert b'ID="33A2D408-3FC8-480B-B554-6866C77FD91C"' in answer.content


# --- strict validation --------------------------------------------------------------------------

# Verbatim samples from wats-api.md §2.3 (each one line of the server's message).
SAMPLE_LINES = (
    "root -> step Pass/Fail tests -> step SinglePassDone: Status cannot be different from "
    "measurement status.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop: endingIndex is "
    "required to be the same as highest index.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop -> Index 1: step "
    "NumericStep2 in Summary step requires a match.",
    "root -> step Loops -> step GenericStepLoopSequence -> loop GenericStepLoop -> Index 0: "
    "stepType is required to match Summary step.",
    "root -> step Loops -> step StringValueStepLoopSequence -> loop StringValueStepLoop -> Index 1 "
    "-> stringMeas : compOp is required to match Summary step.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop2 -> Index 2 -> "
    "step StringStep -> stringMeas : limit is required to match Summary step.",
    "root -> step Loops -> step SequenceCallLoopSequence -> step SequenceCallLoop2 -> step "
    "PassFailStep: Status cannot be different from measurement status.",
)

# The line counts of §2.3, by reason.
RULE_COUNTS = {
    "endingIndex is required to be the same as highest index.": 14,
    "num is required to be one more than endingIndex.": 14,
    "numericMeas is required to match Summary step.": 6,
    "stepType is required to match Summary step.": 5,
    "limit is required to match Summary step.": 5,
    "step <name> in Summary step requires a match.": 3,
    "Status cannot be different from measurement status.": 2,
    "compOp is required to match Summary step.": 1,
}


def reason(line: str) -> str:
    text = line.rsplit(": ", 1)[1]
    return re.sub(r"^step \S+ in Summary", "step <name> in Summary", text)


def test_strict_rejects_the_fat_export_with_the_documented_lines(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_wsjf(fixture_bytes(FAT))

    assert info.value.status == 400
    message = info.value.message
    lines = message.split("\r\n")
    assert len(lines) == 50
    assert not message.endswith("\r\n")
    assert all("\n" not in line and "\r" not in line and line for line in lines)
    for sample in SAMPLE_LINES:
        assert sample in lines
    assert Counter(reason(line) for line in lines) == RULE_COUNTS
    assert all(line.startswith("root -> step ") for line in lines)
    assert len(strict_fake.reports) == 0


def test_strict_rejection_body_is_an_aspnet_message(strict_fake: FakeWATS) -> None:
    with httpx.Client(transport=strict_fake, base_url=URL) as client:
        answer = client.post(
            "/api/Report/WSJF",
            content=fixture_bytes(FAT),
            headers={"Authorization": f"Basic {TOKEN}", "Content-Type": "application/json"},
        )

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert list(body) == ["Message"]
    assert body["Message"].count("\r\n") == 49


def test_client_side_validation_names_the_same_problems(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    report = wsjf.loads(fixture_bytes(FAT))
    with pytest.raises(pywats.ValidationError) as server:
        strict_wats.report.submit_report(report, validate=False)

    with pytest.raises(pywats.ReportInvalidError) as client:
        strict_wats.report.submit_report(report)

    assert [str(p) for p in client.value.problems] == server.value.message.split("\r\n")
    assert len(strict_fake.log) == 1  # the client-side check sent nothing


def test_strict_accepts_a_uur_once_its_uut_is_stored(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    data = fixture_bytes("uur_example.json")
    ref = wsjf.loads(data)
    assert isinstance(ref, UURReport)
    assert ref.uur is not None
    assert ref.uur.ref_uut is not None
    uut = make_uut(process_code=90)
    uut.id = ref.uur.ref_uut
    strict_wats.report.submit_report(uut)

    receipt = strict_wats.report.submit_wsjf(data)

    assert receipt.stored_id == ref.id
    assert sorted(strict_fake.report_ids()) == sorted([str(ref.id), str(uut.id)])


def test_strict_rejects_an_unknown_process_code(strict_wats: pyWATS, strict_fake: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(make_uut(process_code=77), validate=False)

    assert info.value.message == "processCode: 77 is not a known process."
    assert len(strict_fake.reports) == 0


def test_strict_rejects_a_uut_with_a_repair_process(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(make_uut(process_code=500), validate=False)

    assert info.value.message == "processCode: 500 (Repair) is not a test operation."
    assert len(strict_fake.reports) == 0


def test_strict_rejects_a_uur_with_a_test_process(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(make_uur(None, process_code=10), validate=False)

    assert info.value.message == "processCode: 10 (SW Debug) is not a repair operation."
    assert len(strict_fake.reports) == 0


def test_strict_rejects_a_uur_whose_ref_uut_is_unknown_then_accepts_it(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    uut = make_uut()
    uur = make_uur(uut.id)

    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(uur, validate=False)

    assert info.value.message == (f"uur.refUUT: the referenced test report {uut.id} was not found.")
    assert len(strict_fake.reports) == 0
    strict_wats.report.submit_report(uut)
    assert strict_wats.report.submit_report(uur) == uur.id
    assert len(strict_fake.reports) == 2


def test_strict_rejects_a_uur_without_its_main_unit(
    strict_wats: pyWATS, strict_fake: FakeWATS
) -> None:
    uur = make_uur(None, sub_units=[SubUnit(idx=1, pn="PCB-1", sn="PCB-SN-1", rev="B")])

    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(uur, validate=False)

    assert info.value.message == (
        "subUnits: a repair report needs exactly one sub-unit with idx 0 (the repaired unit)"
    )
    assert len(strict_fake.reports) == 0


def test_lenient_rejects_what_no_server_accepts(wats: pyWATS, fake_wats: FakeWATS) -> None:
    # Process checks and structural rules are always on (wats-api.md §6.2).
    with pytest.raises(pywats.ValidationError) as info:
        wats.report.submit_report(make_uut(process_code=77), validate=False)

    assert info.value.message == "processCode: 77 is not a known process."
    assert len(fake_wats.reports) == 0


def test_several_problems_come_as_several_lines(strict_wats: pyWATS) -> None:
    report = make_uut(process_code=77)
    report.machine_name = ""

    with pytest.raises(pywats.ValidationError) as info:
        strict_wats.report.submit_report(report, validate=False)

    assert info.value.message.split("\r\n") == [
        "machineName: is required and must not be empty",
        "processCode: 77 is not a known process.",
    ]


@pytest.mark.parametrize(
    ("path", "body", "start"),
    [
        ("/api/Report/WSJF", b"{not json", "invalid WSJF: JSON is malformed"),
        ("/api/Report/WSJF", b"[]", "invalid WSJF: Expected `object`, got `array`"),
        ("/api/Report/WSJF", b'{"type": "X"}', "invalid WSJF: Invalid value 'X'"),
        ("/api/Report/WSXF", b"<Reports", "WSXF is not well-formed XML"),
    ],
)
def test_malformed_documents_are_400_with_a_message(
    path: str, body: bytes, start: str, raw: httpx.Client, fake_wats: FakeWATS
) -> None:
    answer = raw.post(path, content=body)

    assert answer.status_code == 400
    assert answer.json()["Message"].startswith(start)
    assert len(fake_wats.reports) == 0


def test_malformed_json_through_the_library(wats: pyWATS, fake_wats: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError) as info:
        wats.report.submit_wsjf(b'{"type": "T", "id": ')

    assert info.value.status == 400
    assert info.value.message.startswith("invalid WSJF")
    assert len(fake_wats.log) == 1  # a 400 is not retried


# --- header query -------------------------------------------------------------------------------


@pytest.fixture
def twelve(wats: pyWATS) -> list[UUTReport]:
    """Twelve stored UUTs, SN-00 … SN-11, an hour apart; every third one failed."""
    reports = []
    for i in range(12):
        report = make_uut(
            sn=f"SN-{i:02d}",
            pn="PN-A" if i < 6 else "PN-B",
            result="F" if i % 3 == 0 else "P",
            start=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i),
            misc=[MiscInfo(description="Slot", text=f"slot-{i % 4}")],
        )
        wats.report.submit_report(report)
        reports.append(report)
    return reports


def serials(headers: list[ReportHeader]) -> list[str | None]:
    return [h.serial_number for h in headers]


def test_header_query_returns_ten_newest_by_default(wats: pyWATS, twelve: list[UUTReport]) -> None:
    headers = wats.report.query_headers()

    assert serials(headers) == [f"SN-{i:02d}" for i in range(11, 1, -1)]
    assert headers[0].result == "Passed"
    assert headers[1].result == "Passed"
    assert headers[2].result == "Failed"  # SN-09: full words in headers
    assert headers[0].report_type == "T"
    assert headers[0].process_name == "SW Debug"
    assert headers[0].sw_filename == "main.seq"
    assert headers[0].misc_info is None  # not expanded


def test_header_query_filters(wats: pyWATS, twelve: list[UUTReport]) -> None:
    failed = wats.report.query_headers(F.result == "Failed", top=100)
    assert serials(failed) == ["SN-09", "SN-06", "SN-03", "SN-00"]

    both = wats.report.query_headers((F.result == "Failed") & (F.part_number == "PN-B"), top=100)
    assert serials(both) == ["SN-09", "SN-06"]

    since = wats.report.query_headers(
        F.start >= datetime(2026, 1, 1, 9, tzinfo=UTC), orderby="start", top=100
    )
    assert serials(since) == ["SN-09", "SN-10", "SN-11"]

    either = wats.report.query_headers(
        F.serial_number.in_(["SN-01", "SN-04"]) | F.serial_number.endswith("11"), top=100
    )
    assert serials(either) == ["SN-11", "SN-04", "SN-01"]

    by_misc = wats.report.query_headers(
        F.misc_info.any(lambda m: m.value == "slot-3"), orderby="serialNumber", top=100
    )
    assert serials(by_misc) == ["SN-03", "SN-07", "SN-11"]

    assert wats.report.query_headers(F.serial_number == "nope") == []


def test_header_query_orderby_skip_top(wats: pyWATS, twelve: list[UUTReport]) -> None:
    page = wats.report.query_headers(orderby="serialNumber", skip=2, top=3)
    assert serials(page) == ["SN-02", "SN-03", "SN-04"]

    newest_processed = wats.report.query_headers(orderby="timestamp desc", top=2)
    assert serials(newest_processed) == ["SN-11", "SN-10"]

    everything = wats.report.query_all_headers(page_size=5, orderby="start")
    assert serials(everything) == [f"SN-{i:02d}" for i in range(12)]


def test_header_query_select(wats: pyWATS, raw: httpx.Client, twelve: list[UUTReport]) -> None:
    rows = raw.get(
        "/api/Report/Query/Header", params={"$select": "uuid,serialNumber", "$top": "2"}
    ).json()
    [header] = wats.report.query_headers(top=1, select=["uuid", "serialNumber"])

    assert rows == [
        {"uuid": str(twelve[11].id), "serialNumber": "SN-11"},
        {"uuid": str(twelve[10].id), "serialNumber": "SN-10"},
    ]
    assert (header.uuid, header.serial_number, header.part_number) == (
        twelve[11].id,
        "SN-11",
        None,
    )


def test_header_query_bad_options_are_400(raw: httpx.Client, twelve: list[UUTReport]) -> None:
    answer = raw.get("/api/Report/Query/Header", params={"$orderby": "partNumber"})
    assert answer.status_code == 400
    assert answer.json()["Message"].startswith("The query specified in the URI is not valid.")

    answer = raw.get("/api/Report/Query/Header", params={"$filter": "serialNumber eq"})
    assert answer.status_code == 400

    answer = raw.get("/api/Report/Query/Header", params={"$top": "10001"})
    assert answer.status_code == 400
    assert "$top must be an integer between 0 and 10000" in answer.json()["Message"]


def test_header_query_expand_names_ignore_case(raw: httpx.Client, twelve: list[UUTReport]) -> None:
    plain = raw.get("/api/Report/Query/Header", params={"$top": "1"}).json()
    upper = raw.get(
        "/api/Report/Query/Header", params={"$top": "1", "$expand": "MISCINFO,SubUnits"}
    ).json()

    assert "miscInfo" not in plain[0]
    assert upper[0]["miscInfo"] == [{"description": "Slot", "value": "slot-3"}]
    assert upper[0]["subUnits"] == []
    assert "attachments" not in upper[0]


def test_header_query_expand_through_the_library(wats: pyWATS, twelve: list[UUTReport]) -> None:
    [header] = wats.report.query_headers(top=1, expand=["Attachments", "miscinfo"])

    assert header.misc_info is not None
    assert header.misc_info[0].value == "slot-3"
    assert header.attachments is not None
    assert [(a.step_id, a.filename) for a in header.attachments] == [(3, "log.txt")]


def test_header_query_report_type_parameter(wats: pyWATS, raw: httpx.Client) -> None:
    uut = make_uut()
    wats.report.submit_report(uut)
    uur = make_uur(uut.id)
    wats.report.submit_report(uur)

    repairs = raw.get("/api/Report/Query/Header", params={"reportType": "R"}).json()
    tests = raw.get("/api/Report/Query/Header", params={"reporttype": "U"}).json()
    by_filter = wats.report.query_headers(F.report_type == "R")

    assert [r["uuid"] for r in repairs] == [str(uur.id)]
    assert repairs[0]["referencedUut"] == str(uut.id)
    assert [r["uuid"] for r in tests] == [str(uut.id)]
    assert [str(h.uuid) for h in by_filter] == [str(uur.id)]


def test_header_by_misc_info(wats: pyWATS, twelve: list[UUTReport]) -> None:
    found = wats.report.query_headers_by_misc_info(description="slot", data="SLOT-1")

    assert sorted(r.serial_number or "" for r in found) == ["SN-01", "SN-05", "SN-09"]
    row = next(r for r in found if r.serial_number == "SN-09")
    assert str(row.uuid) == str(twelve[9].id)
    assert row.result == "Failed"
    assert row.process_code == 10
    assert row.process_name == "SW Debug"
    assert [(m.description, m.data) for m in row.misc_data or ()] == [("Slot", "slot-1")]

    one = wats.report.query_headers_by_misc_info(serial_number="sn-05", process_code=10)
    assert [r.serial_number for r in one] == ["SN-05"]
    assert wats.report.query_headers_by_misc_info(serial_number="SN-05", process_code=50) == []
    assert wats.report.query_headers_by_misc_info(description="Slot", data="slot-9") == []


# --- attachments, certificate, detail levels, refUURs ---------------------------------------------


def test_step_attachment_by_step_id(wats: pyWATS) -> None:
    uut = make_uut()
    report_id = wats.report.submit_report(uut)

    assert wats.report.get_attachment(report_id, step_id=3) == ATTACHMENT_BYTES
    with pytest.raises(pywats.NotFoundError) as info:
        wats.report.get_attachment(report_id, step_id=2)  # a step without attachment
    assert info.value.message == "Attachment was not found."


def test_repair_binary_data_by_attachment_id(wats: pyWATS) -> None:
    uut = make_uut()
    wats.report.submit_report(uut)
    blob_id = uuid.uuid4()
    uur = make_uur(uut.id, blob_id=blob_id)
    report_id = wats.report.submit_report(uur)

    assert wats.report.get_attachment(report_id, attachment_id=blob_id) == BLOB_BYTES
    with pytest.raises(pywats.NotFoundError):
        wats.report.get_attachment(report_id, attachment_id=uuid.uuid4())
    [header] = wats.report.query_headers(F.report_type == "R", expand=["uurAttachments"])
    assert [(a.id, a.filename) for a in header.uur_attachments or ()] == [(blob_id, "photo.png")]


def test_attachments_zip(wats: pyWATS) -> None:
    uut = make_uut()
    wats.report.submit_report(uut)
    uur = make_uur(uut.id, blob_id=uuid.uuid4())
    wats.report.submit_report(uur)

    with zipfile.ZipFile(io.BytesIO(wats.report.get_attachments(uut.id))) as archive:
        assert archive.namelist() == ["log.txt"]
        assert archive.read("log.txt") == ATTACHMENT_BYTES
    with zipfile.ZipFile(io.BytesIO(wats.report.get_attachments(uur.id))) as archive:
        assert archive.namelist() == ["photo.png"]
        assert archive.read("photo.png") == BLOB_BYTES


def test_attachment_of_an_unknown_report_is_404(wats: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        wats.report.get_attachment(uuid.uuid4(), step_id=1)
    with pytest.raises(pywats.NotFoundError):
        wats.report.get_attachments(uuid.uuid4())


def test_certificate_is_a_pdf(wats: pyWATS) -> None:
    uut = make_uut(sn="CERT-SN-42")
    wats.report.submit_report(uut)

    pdf = wats.report.get_certificate(uut.id)

    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"CERT-SN-42" in pdf


def test_detail_level_0_is_identifying_data_only(wats: pyWATS) -> None:
    wats.report.submit_wsjf(fixture_bytes(FAT))

    slim = wats.report.get_report(FAT_ID, detail_level=0)

    assert isinstance(slim, UUTReport)
    assert (str(slim.id), slim.pn, slim.sn, slim.rev, slim.process_code, slim.result) == (
        FAT_ID,
        "FATPartNo",
        "FATTest-325",
        "Rev1",
        10,
        "F",
    )
    assert slim.start is not None
    assert slim.start_utc is not None
    assert slim.root is None
    assert slim.uut is None
    assert slim.misc_infos is None
    assert slim.sub_units is None


def test_detail_levels_trim_steps_and_charts(wats: pyWATS) -> None:
    wats.report.submit_wsjf(fixture_bytes(FAT))

    def charts(report: UUTReport | UURReport) -> int:
        assert isinstance(report, UUTReport)
        return sum(1 for s in report.steps() if s.chart is not None)

    full = wats.report.get_report(FAT_ID)
    no_charts = wats.report.get_report(FAT_ID, include_chartdata=False)
    level4 = wats.report.get_report(FAT_ID, detail_level=4)
    level3 = wats.report.get_report(FAT_ID, detail_level=3)

    assert charts(full) == 2
    assert charts(no_charts) == 0
    assert charts(level4) == 0
    assert isinstance(no_charts, UUTReport)
    assert len(no_charts.steps()) == 186
    chart_steps = [s for s in no_charts.steps() if s.step_type == "WATS_XYGMNLT"]
    assert len(chart_steps) == 2
    assert all(s.numeric_meas for s in chart_steps)  # only the chart went
    assert isinstance(level3, UUTReport)
    assert level3.root is None
    assert level3.uut is not None
    assert level3.uut.user == "FATOperator"
    assert len(level3.misc_infos or ()) == 3


def test_bad_detail_level_is_400(raw: httpx.Client, wats: pyWATS) -> None:
    wats.report.submit_wsjf(fixture_bytes(FAT))

    answer = raw.get(f"/api/Report/Wsjf/{FAT_ID}", params={"detailLevel": "8"})

    assert answer.status_code == 400
    assert answer.json() == {"Message": "detailLevel must be between 0 and 7."}


def test_include_attachments_false_drops_attachments(wats: pyWATS) -> None:
    uut = make_uut()
    wats.report.submit_report(uut)
    uur = make_uur(uut.id, blob_id=uuid.uuid4())
    wats.report.submit_report(uur)

    plain_uut = wats.report.get_report(uut.id, include_attachments=False)
    plain_uur = wats.report.get_report(uur.id, include_attachments=False)
    full_uur = wats.report.get_report(uur.id)

    assert isinstance(plain_uut, UUTReport)
    assert [s.name for s in plain_uut.steps() if s.attachment is not None] == []
    assert plain_uur.binary_data is None
    assert [b.name for b in full_uur.binary_data or ()] == ["photo.png"]


def test_uut_lists_the_repairs_that_reference_it(wats: pyWATS) -> None:
    uut = make_uut(result="F")
    wats.report.submit_report(uut)
    before = wats.report.get_report(uut.id)
    uur = make_uur(uut.id)
    wats.report.submit_report(uur)

    after = wats.report.get_report(uut.id)

    assert isinstance(before, UUTReport)
    assert before.uut is not None
    assert before.uut.ref_uurs is None
    assert isinstance(after, UUTReport)
    assert after.uut is not None
    assert after.uut.ref_uurs == [RefUUR(id=uur.id, start=datetime(2026, 1, 2, 9, 30, tzinfo=UTC))]


def test_read_back_fills_what_the_server_fills(wats: pyWATS) -> None:
    report = make_uut(step_ids=False)
    assert report.process_name is None
    assert report.start_utc is None
    wats.report.submit_report(report)

    back = wats.report.get_report(report.id)

    assert isinstance(back, UUTReport)
    assert back.process_name == "SW Debug"
    assert back.start_utc == report.start
    assert [s.id for s in back.steps()] == [1, 2, 3]


# --- routing, errors, authorisation --------------------------------------------------------------


def test_routes_and_query_keys_ignore_case(raw: httpx.Client, fake_wats: FakeWATS) -> None:
    data = fixture_bytes("uur_example.json")
    report_id = json.loads(data)["id"]

    posted = raw.post("/API/report/wsjf", content=data)
    slim = raw.get(f"/api/REPORT/WSJF/{report_id.upper()}", params={"DetailLevel": "0"})
    headers = raw.get("/api/report/query/HEADER", params={"$TOP": "1"})

    assert posted.status_code == 200
    assert posted.json() == {"ID": report_id, "uuid": report_id, "Report_ID": 1}
    assert slim.status_code == 200
    assert set(slim.json()) == {
        "type",
        "id",
        "pn",
        "sn",
        "rev",
        "processCode",
        "result",
        "start",
        "startUTC",
    }
    assert headers.status_code == 200
    assert [h["uuid"] for h in headers.json()] == [report_id]


def test_unknown_report_is_404(wats: pyWATS, raw: httpx.Client) -> None:
    missing = uuid.uuid4()

    with pytest.raises(pywats.NotFoundError) as info:
        wats.report.get_report(missing)

    assert info.value.status == 404
    assert info.value.message == f"Report {missing} was not found."
    assert raw.get("/api/Report/Wsjf/not-a-guid").status_code == 404
    assert raw.get(f"/api/Report/Certificate/{missing}").status_code == 404


def test_unknown_route_is_404(raw: httpx.Client) -> None:
    answer = raw.get("/api/Report/Nothing")

    assert answer.status_code == 404
    assert answer.json() == {
        "Message": "No HTTP resource was found that matches the request URI '/api/Report/Nothing'."
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/Report/WSJF"),
        ("DELETE", f"/api/Report/Wsjf/{FAT_ID}"),
        ("POST", "/api/App/Version"),
    ],
)
def test_wrong_method_is_405(method: str, path: str, raw: httpx.Client) -> None:
    answer = raw.request(method, path)

    assert answer.status_code == 405
    assert answer.json() == {
        "Message": f"The requested resource does not support http method '{method}'."
    }


@pytest.mark.parametrize(
    "authorization", [None, "Basic wrong-token", f"Bearer {TOKEN}", "Basic ", TOKEN]
)
def test_missing_or_wrong_credentials_are_401(
    authorization: str | None, fake_wats: FakeWATS
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with httpx.Client(transport=fake_wats, base_url=URL, headers=headers) as client:
        answers = [
            client.get("/api/App/Version"),
            client.post("/api/Report/WSJF", content=fixture_bytes("uur_example.json")),
            client.get("/api/Report/Nowhere"),
        ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.json() == DENIED for a in answers)
    assert len(fake_wats.reports) == 0


def test_wrong_token_through_the_library(fake_wats: FakeWATS) -> None:
    with (
        pyWATS(URL, "wrong", transport=fake_wats, retry=RetryPolicy(base_delay=0)) as api,
        pytest.raises(pywats.AuthenticationError) as info,
    ):
        api.app.get_version()

    assert info.value.status == 401
    assert info.value.message == DENIED["Message"]
    assert len(fake_wats.log) == 1  # 401 is not retried


def test_basic_user_password(fake_wats: FakeWATS) -> None:
    fake_wats.state.users["alice"] = "secret"

    with pyWATS(URL, username="alice", password="secret", transport=fake_wats) as api:
        assert api.app.get_version() == "2026.1.5.324"
    with (
        pyWATS(URL, username="alice", password="wrong", transport=fake_wats) as api,
        pytest.raises(pywats.AuthenticationError),
    ):
        api.app.get_version()


def test_read_only_token_may_read_but_not_write(wats: pyWATS, fake_wats: FakeWATS) -> None:
    report = make_uut()
    wats.report.submit_report(report)
    fake_wats.state.add_token("ro", read_only=True)

    with pyWATS(URL, "ro", transport=fake_wats, retry=RetryPolicy.never()) as reader:
        assert reader.report.get_report(report.id).sn == "SN-1"
        with pytest.raises(pywats.AuthorizationError) as info:
            reader.report.submit_report(make_uut(sn="SN-2"))

    assert info.value.status == 403
    assert info.value.message == "The token does not have permission to change data."
    assert fake_wats.report_ids() == [str(report.id)]
