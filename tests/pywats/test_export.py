"""``api.export`` against the emulator, blocking and async: certificate exports queued, listed
and downloaded; another user's exports stay hidden; bad input gives named pywats errors."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import pywats
from pywats import CompOp, ReportBuilder, pyWATS
from pywats._errors import InvalidArgumentError
from pywats.models.analytics_filter import WATSFilter
from pywats.models.export import CertificateDimension, NumericFormat
from pywats.testing import FakeWATS
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

_NOW = datetime.now(UTC)


def _submit(api: pyWATS, pn: str, sn: str, value: float, minutes_ago: int = 10) -> None:
    uut = ReportBuilder.uut(
        pn=pn, sn=sn, rev="A", process_code=50, station="EXP-1", location="Lab",
        purpose="Production", operator="ada", start=_NOW - timedelta(minutes=minutes_ago),
    )  # fmt: skip
    uut.root.sequence("Power").numeric("3V3 rail", value, CompOp.GELE, low=3.2, high=3.4, unit="V")
    report = uut.build()
    api.report.submit_report(report)
    if report.result == "F":  # a repair report: never part of a certificate export
        repair = ReportBuilder.uur(
            repairing=report, process_code=500, station="REP-1", location="Lab"
        )
        repair.failure("Component", "Defect", com_ref="R1")
        api.report.submit_report(repair.build())


@pytest.fixture
def reports(api: pyWATS) -> pyWATS:
    """Three test reports of PCB-1 (one failed and repaired) and one of PSU-2."""
    _submit(api, "PCB-1", "SN-1", 3.31, 30)
    _submit(api, "PCB-1", "SN-2", 3.5, 20)
    _submit(api, "PCB-1", "SN-3", 3.25, 10)
    _submit(api, "PSU-2", "SN-9", 3.3, 5)
    return api


@pytest.fixture
def ada(fake: FakeWATS) -> Iterator[pyWATS]:
    """A second user of the same server."""
    fake.state.add_token("ada-token", "ada")
    with pyWATS(BASE_URL, "ada-token", transport=fake) as client:
        yield client


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _only_pdf(api: pyWATS, name: str) -> bytes:
    """The one PDF of an export of one report."""
    archive = _zip(api.export.get_exported_file(name))
    (entry,) = archive.namelist()
    return archive.read(entry)


def _text(pdf: bytes) -> str:
    """The text a PDF of the emulator shows (its string operands, in order)."""
    return "\n".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)\) '", pdf))


def _raw(fake: FakeWATS, method: str, path: str, **kwargs: object) -> httpx.Response:
    with httpx.Client(base_url=BASE_URL, transport=fake) as http:
        return http.request(method, path, headers={"Authorization": f"Basic {TOKEN}"}, **kwargs)  # type: ignore[arg-type]


# --- queue, list, download ----------------------------------------------------------------------


def test_a_queued_export_is_listed_and_downloads_one_pdf_per_test_report(reports: pyWATS) -> None:
    api = reports
    assert api.export.get_export_list() == []
    name = api.export.queue_certificate_export(
        WATSFilter(part_number="PCB-1"), email="qa@example.com"
    )
    assert name.endswith(".zip")
    assert api.export.get_export_list() == [name]
    archive = _zip(api.export.get_exported_file(name))
    names = sorted(archive.namelist())
    assert len(names) == 3  # the three test reports of PCB-1; the repair report is no certificate
    assert all(n.startswith("PCB-1_SN-") and n.endswith(".pdf") for n in names)
    for entry in names:
        pdf = archive.read(entry)
        assert pdf.startswith(b"%PDF-1.4")
        assert pdf.rstrip().endswith(b"%%EOF")
        text = _text(pdf)
        assert "Part number PCB-1  revision A" in text
        assert "Operator ada" in text
    assert "3V3 rail" in _text(archive.read(names[1]))


def test_the_name_downloads_without_its_extension_and_in_any_case(reports: pyWATS) -> None:
    name = reports.export.queue_certificate_export()
    whole = reports.export.get_exported_file(name)
    assert reports.export.get_exported_file(name.removesuffix(".zip")) == whole
    assert reports.export.get_exported_file(name.upper()) == whole


def test_one_pdf_holds_every_certificate_when_not_individual_files(reports: pyWATS) -> None:
    name = reports.export.queue_certificate_export(as_individual_files=False)
    archive = _zip(reports.export.get_exported_file(name))
    assert archive.namelist() == ["Certificates.pdf"]
    pdf = archive.read("Certificates.pdf")
    assert b"/Count 4 " in pdf  # four test reports, a page each
    serials = re.findall(r"Serial number (SN-\d)", _text(pdf))
    assert serials == ["SN-1", "SN-2", "SN-3", "SN-9"]  # oldest first


def test_header_data_only_leaves_the_steps_out(reports: pyWATS) -> None:
    full = reports.export.queue_certificate_export(WATSFilter(serial_number="SN-1"))
    header = reports.export.queue_certificate_export(
        WATSFilter(serial_number="SN-1"), header_data_only=True
    )
    full_pdf, header_pdf = (_only_pdf(reports, name) for name in (full, header))
    assert "3V3 rail" in _text(full_pdf)
    assert "3V3 rail" not in _text(header_pdf)
    assert "Serial number SN-1" in _text(header_pdf)


def test_dimensions_and_numeric_format_shape_the_certificate(reports: pyWATS) -> None:
    name = reports.export.queue_certificate_export(
        WATSFilter(serial_number="SN-1"),
        dimensions=[CertificateDimension.MEASUREMENT, CertificateDimension.UNITS],
        numeric_format=NumericFormat.SCIENTIFIC,
    )
    archive = _zip(reports.export.get_exported_file(name))
    text = _text(archive.read(archive.namelist()[0]))
    assert "3V3 rail  3.310000e+00 V" in text
    assert "Operator" not in text  # not among the dimensions asked for
    assert "GELE" not in text
    both = reports.export.queue_certificate_export(
        WATSFilter(serial_number="SN-1"),
        dimensions="operator;lowLimit;highLimit;measurement",
        numeric_format="decimal",
    )
    archive = _zip(reports.export.get_exported_file(both))
    text = _text(archive.read(archive.namelist()[0]))
    assert "Operator ada" in text
    assert "3V3 rail  3.310 low 3.200 high 3.400" in text


def test_a_product_tag_becomes_the_footer(reports: pyWATS) -> None:
    reports.product.create_product(
        "PCB-1", xml_data='<Root><CertFooter Value="Tested in Lab 3"/></Root>'
    )
    name = reports.export.queue_certificate_export(
        WATSFilter(part_number="PCB-1"), body_footer_tag="CertFooter", document_footer_tag="None"
    )
    archive = _zip(reports.export.get_exported_file(name))
    for entry in archive.namelist():
        assert _text(archive.read(entry)).endswith("Tested in Lab 3")


def test_an_export_of_nothing_is_an_empty_zip(reports: pyWATS) -> None:
    name = reports.export.queue_certificate_export(WATSFilter(part_number="NOPE-%"))
    assert _zip(reports.export.get_exported_file(name)).namelist() == []


def test_top_count_keeps_the_newest(reports: pyWATS) -> None:
    name = reports.export.queue_certificate_export(WATSFilter(top_count=2))
    names = _zip(reports.export.get_exported_file(name)).namelist()
    assert sorted(n.split("_")[1] for n in names) == ["SN-3", "SN-9"]


def test_download_into_a_path_or_a_file_object(reports: pyWATS, tmp_path: Path) -> None:
    name = reports.export.queue_certificate_export()
    whole = reports.export.get_exported_file(name)
    target = tmp_path / "certs.zip"
    assert reports.export.download_exported_file(name, target) == len(whole)
    assert target.read_bytes() == whole
    buffer = io.BytesIO()
    assert reports.export.download_exported_file(name, buffer) == len(whole)
    assert buffer.getvalue() == whole
    with pytest.raises(pywats.NotFoundError):
        reports.export.download_exported_file("missing.zip", tmp_path / "missing.zip")
    assert not (tmp_path / "missing.zip").exists()


def test_exports_of_another_user_are_not_listed_nor_found(reports: pyWATS, ada: pyWATS) -> None:
    mine = reports.export.queue_certificate_export()
    theirs = ada.export.queue_certificate_export(email="ada@example.com")
    assert reports.export.get_export_list() == [mine]
    assert ada.export.get_export_list() == [theirs]
    with pytest.raises(pywats.NotFoundError, match="was not found"):
        ada.export.get_exported_file(mine)
    assert mine != theirs


def test_every_export_has_its_own_name_and_reset_forgets_them(
    reports: pyWATS, fake: FakeWATS
) -> None:
    first = reports.export.queue_certificate_export()
    second = reports.export.queue_certificate_export(header_data_only=True)
    assert first != second
    assert reports.export.get_export_list() == [first, second]
    fake.reset()
    assert reports.export.get_export_list() == []


# --- errors -------------------------------------------------------------------------------------


def test_an_unknown_file_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match=r"'nothing\.zip' was not found"):
        api.export.get_exported_file("nothing.zip")


@pytest.mark.parametrize("name", ["../x.zip", "a/b.zip", "..\\x.zip", "", " ", "..", "a\nb"])
def test_file_names_that_are_paths_are_refused_before_sending(
    api: pyWATS, fake: FakeWATS, name: str
) -> None:
    with pytest.raises(InvalidArgumentError, match="file_name"):
        api.export.get_exported_file(name)
    assert not fake.log  # nothing was sent


def test_the_emulator_refuses_path_separators_itself(fake: FakeWATS) -> None:
    assert _raw(fake, "GET", "/api/Export/..%5Csecret.zip").status_code == 400
    assert _raw(fake, "GET", "/api/Export/..").status_code in (400, 404)
    assert _raw(fake, "GET", "/api/Export/a%2F..%2Fb.zip").status_code in (400, 404)


def test_wrong_arguments_are_refused_before_sending(api: pyWATS, fake: FakeWATS) -> None:
    export = api.export
    with pytest.raises(InvalidArgumentError, match="header_data_only"):
        export.queue_certificate_export(header_data_only="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="numeric_format"):
        export.queue_certificate_export(numeric_format="roman")
    with pytest.raises(InvalidArgumentError, match="dimensions"):
        export.queue_certificate_export(dimensions="operator;colour")
    with pytest.raises(InvalidArgumentError, match="filter must be a WATSFilter"):
        export.queue_certificate_export({"partNumber": "X"})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="topCount"):
        export.queue_certificate_export(WATSFilter(top_count=0))
    with pytest.raises(InvalidArgumentError, match="email"):
        export.queue_certificate_export(email=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="file_name"):
        export.get_exported_file(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="to="):
        export.download_exported_file("x.zip", 42)  # type: ignore[arg-type]
    assert not fake.log


def test_the_emulator_names_what_is_wrong_with_a_queue_request(fake: FakeWATS) -> None:
    path = "/api/Export/Certificate"
    flags = {"headerDataOnly": "false", "asIndividualFiles": "true"}
    missing = _raw(fake, "POST", path, params={"headerDataOnly": "false"}, content=b"{}")
    assert missing.status_code == 400
    assert "asIndividualFiles is required" in missing.json()["Message"]
    bad_flag = _raw(fake, "POST", path, params={**flags, "headerDataOnly": "maybe"}, content=b"{}")
    assert bad_flag.status_code == 400
    no_body = _raw(fake, "POST", path, params=flags)
    assert no_body.status_code == 400
    bad_filter = _raw(fake, "POST", path, params=flags, content=b'{"topCount": "ten"}')
    assert bad_filter.status_code == 400
    assert "topCount" in bad_filter.json()["Message"]
    dimension = _raw(fake, "POST", path, params={**flags, "dimensions": "colour"}, content=b"{}")
    assert dimension.status_code == 400
    assert "'colour' is not supported" in dimension.json()["Message"]
    numeric = _raw(fake, "POST", path, params={**flags, "numericFormat": "roman"}, content=b"{}")
    assert numeric.status_code == 400
    assert "numericFormat" in numeric.json()["Message"]


def test_a_receipt_without_a_file_name_is_an_unexpected_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"something": "else"})

    with (
        pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(pywats.PyWATSError, match="names no file"),
    ):
        client.export.queue_certificate_export()

    def bare(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json="Export_1.zip")

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(bare)) as client:
        assert client.export.queue_certificate_export() == "Export_1.zip"

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[1, 2")

    with (
        pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(broken)) as client,
        pytest.raises(pywats.PyWATSError, match="not an export receipt"),
    ):
        client.export.queue_certificate_export()


def test_what_is_sent_on_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"exportFileName": "E.zip"})

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.export.queue_certificate_export(
            WATSFilter(part_number="PCB-1"),
            header_data_only=True,
            as_individual_files=False,
            dimensions=["Operator", " measurement "],
            numeric_format="HEXADECIMAL",
            email="qa@example.com",
        )
        client.export.get_exported_file("Export 1.zip")
    queued, got = seen
    assert queued.url.path == "/api/Export/Certificate"
    assert dict(queued.url.params) == {
        "headerDataOnly": "true",
        "asIndividualFiles": "false",
        "dimensions": "operator;measurement",
        "numericFormat": "hexadecimal",
        "email": "qa@example.com",
    }
    assert queued.content == b'{"partNumber":"PCB-1"}'
    assert got.url.raw_path == b"/api/Export/Export%201.zip"
