"""The ATML converter on the real TestStand files (2.02, 5.00, 6.01) and broken copies of them.

Every value asserted here was read by hand from the file; the comments say where it stands
(line numbers of the fixture). The three files are the same test run written in the three ATML
versions (TestStand's "Computer Motherboard Test" demo, 23 step results, the keyboard test
failing), so they share most expectations. ``equipment-formats.md`` §1.2 lists the same SN, PN,
revision 10, operator, result and start times; the station is this station's (``FCT-1``), not
the file's ``TS-2016-BETA``, which is kept as misc info (the issue's rule for station identity).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pywats.models.report import StepKind, UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin.atml import AtmlConverter
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.sandbox import run_conversion
from tests.doc_examples import blocks
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import enlarger, make_ctx
from tests.station.converters.real_inputs import real_inputs

V202 = "ATML-2.02-[123456789][2-30-27-PM][5-15-2019].XML"
V500 = "ATML-5.00-[2-31-11-PM][5-15-2019].xml"
V601 = "ATML-6.01-[2-31-52-PM][5-15-2019].xml"
# The names the files had where TestStand wrote them (spaces, brackets), before the fixtures
# folder replaced the spaces.
ORIGINAL = {
    V202: "ATML 2.02 [123456789][2 30 27 PM][5 15 2019].XML",
    V500: "ATML 5.00 [2 31 11 PM][5 15 2019].xml",
    V601: "ATML 6.01 [2 31 52 PM][5 15 2019].xml",
}
OSLO = {"timezone": "Europe/Oslo"}  # May 2019: +02:00
CEST = timezone(timedelta(hours=2))


def convert(path: Path, arguments: Mapping[str, object] | None = None) -> list[UUTReport]:
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter, arguments), strict=True)
    assert isinstance(outcome, Converted), outcome
    return [r for r in outcome.reports if isinstance(r, UUTReport)]


def fixture(name: str) -> Path:
    return real_file("atml", name)


# --- the real files -------------------------------------------------------------------------------

# (file, start from ResultSet@startDateTime (line 6 in 2.02, line 8 in 5.00/6.01), duration
# endDateTime - startDateTime, the root's TotalTime (none in 2.02), ATML version)
HEADERS = [
    (V202, datetime(2019, 5, 15, 14, 30, 27, 58000, CEST), 2.17, None, "2.02"),
    (V500, datetime(2019, 5, 15, 14, 31, 11, 452000, CEST), 2.695, 2.6958, "5.00"),
    (V601, datetime(2019, 5, 15, 14, 31, 52, 851000, CEST), 2.127, 2.12798, "6.01"),
]


@pytest.mark.parametrize(("name", "start", "duration", "root_time", "version"), HEADERS)
def test_the_header_of_each_real_file(
    name: str, start: datetime, duration: float, root_time: float | None, version: str
) -> None:
    (report,) = convert(fixture(name), OSLO)
    # <c:SerialNumber>123456789 under <tr:UUT> (2.02 line 391, 5.00 line 809, 6.01 line 403)
    assert report.sn == "123456789"
    # <c:IdentificationNumber number="Ragnar123" type="Part"> (2.02 l. 387, 5.00 l. 805)
    assert report.pn == "Ragnar123"
    # No revision in ATML: 10, as WATS's converter (equipment-formats.md §1.2)
    assert report.rev == "10"
    # <tr:SystemOperator ID="administrator"> (line 4 in 2.02, line 6 in 5.00/6.01)
    assert report.uut is not None
    assert report.uut.user == "administrator"
    # <tr:Outcome value="Failed"/> right under <tr:ResultSet> (line 7 / line 19)
    assert report.result == "F"
    assert report.start == start
    assert report.start.utcoffset() == timedelta(hours=2)
    assert report.uut.exec_time == pytest.approx(duration)
    assert report.process_code == 10  # no operation in ATML: WATS's converter's default
    assert (report.machine_name, report.location, report.purpose) == (
        "FCT-1",
        "Plant A",
        "Production",
    )
    misc = {m.description: m.text for m in report.misc_infos or []}
    assert misc["Test station"] == "TS-2016-BETA"  # <tr:TestStation><c:SerialNumber>
    assert misc["ATML version"] == version
    assert "Model name" not in misc  # <c:ModelName>UNKNOWN</c:ModelName>: TestStand's "none"
    assert report.root is not None
    assert report.root.seq_call is not None
    seq = report.root.seq_call
    # ResultSet@name (2.02: the root TestGroup's name, line 9): the sequence file
    assert seq.name == "Computer Motherboard Test Sequence VIC.seq"
    assert seq.path is not None
    assert seq.path.endswith("\\LabVIEW\\" + seq.name)
    assert report.root.status == "F"
    assert report.root.tot_time == pytest.approx(root_time or duration)


@pytest.mark.parametrize("name", [V202, V500, V601])
def test_the_step_tree_of_each_real_file(name: str) -> None:
    (report,) = convert(fixture(name), OSLO)
    steps = report.steps()
    # 23 step elements (Test, TestGroup, SessionAction) under the root (NumOfResults 23) + root
    assert len(steps) == 24
    assert report.root is not None
    assert report.root.steps is not None
    top = [(s.name, s.group, s.status) for s in report.root.steps]
    assert top == [
        ("Add Partnumber", "S", "D"),  # SessionAction, StepGroup Setup, ActionOutcome Done
        ("Simulation Dialog", "S", "D"),
        ("Turn Vacuum Table On", "S", "D"),
        ("Powerup Test", "M", "P"),
        ("If", "M", "D"),
        ("CPU Test", "M", "P"),  # TestGroup callerName/userDefinedType 'CPU Test'
        ("ROM Test", "M", "P"),
        ("RAM Test", "M", "P"),
        ("Video Test", "M", "P"),
        ("Keyboard Test", "M", "F"),
        ("If", "M", "D"),
        ("CPU Diagnostics", "M", "S"),  # a skipped sequence call (Aborted/Skipped, 6.01 NotStarted)
        ("ROM Diagnostics", "M", "S"),
        ("RAM Diagnostics", "M", "S"),
        ("Video Diagnostics", "M", "S"),
        ("Keyboard Diagnostics", "M", "F"),
        ("End", "M", "D"),
        ("End", "M", "D"),
        ("Turn Vacuum Table Off", "C", "D"),  # StepGroup Cleanup
    ]
    by_name = {s.name: s for s in steps}
    cpu = by_name["CPU Test"]
    assert cpu.kind is StepKind.SEQUENCE_CALL
    assert cpu.seq_call is not None
    assert cpu.seq_call.name == "CPU Test"
    assert [s.name for s in cpu.steps or []] == [
        "Register Test",
        "Instruction Set Test",
        "Cache Test",
        "FPU Test",
    ]
    # Video Test (2.02 line 173, 5.00/6.01 line 184): 5 microseconds, GT 0 AND LT 10
    video = by_name["Video Test"]
    assert video.step_type == "NumericLimitTest"
    (meas,) = video.numeric_meas or []
    assert (meas.value, meas.unit, meas.comp_op, meas.low_limit, meas.high_limit) == (
        5.0,
        "microseconds",
        "GTLT",
        0.0,
        10.0,
    )
    assert meas.status == "P"
    # Keyboard Test (line 210 / 222): 4, SingleLimit GT 5 (no unit) -> Failed
    keyboard = by_name["Keyboard Test"]
    (meas,) = keyboard.numeric_meas or []
    assert (meas.value, meas.unit, meas.comp_op, meas.low_limit, meas.high_limit, meas.status) == (
        4.0,
        None,
        "GT",
        5.0,
        None,
        "F",
    )
    assert keyboard.caused_seq_failure is True  # <ts:StepCausedSequenceFailure value='true'/>
    assert keyboard.caused_uut_failure is True  # the CriticalFailureStack names it too
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == keyboard.id
    # PassFailTest steps without data: their outcome is the measurement
    assert [m.status for m in by_name["Powerup Test"].boolean_meas or []] == ["P"]
    assert [m.status for m in by_name["Keyboard Diagnostics"].boolean_meas or []] == ["F"]
    assert by_name["ROM Diagnostics"].kind is StepKind.GENERIC  # skipped: no measurement
    # <c:Item name="ReportText"> of the If step: {True}
    assert [s.report_text for s in steps if s.name == "If"] == ["{True}", "{True}"]
    assert by_name["Turn Vacuum Table Off"].step_type == "Action"
    assert by_name["Add Partnumber"].step_type == "Statement"
    numeric = [m for s in steps for m in s.numeric_meas or []]
    assert len(numeric) == 2


def test_step_times_of_the_real_files() -> None:
    # 5.00 line 59: Powerup Test starts 14:31:13.996, TotalTime 0.0003478
    (report,) = convert(fixture(V500), OSLO)
    powerup = next(s for s in report.steps() if s.name == "Powerup Test")
    assert powerup.start == datetime(2019, 5, 15, 14, 31, 13, 996000, CEST)
    assert powerup.tot_time == 0.0003478
    assert powerup.ts_guid == "ID#:vmGTqrEX5hGzYpiQlqYQ+D"  # testReferenceID (no ts:StepId)
    # 2.02 has no TotalTime: endDateTime - startDateTime (Keyboard Diagnostics, line 311)
    (old,) = convert(fixture(V202), OSLO)
    diagnostics = next(s for s in old.steps() if s.name == "Keyboard Diagnostics")
    assert diagnostics.tot_time == pytest.approx(0.006)
    assert diagnostics.ts_guid == "ID#:ymGTqrEX5hGzYpiQlqYQ+D"  # <ts:StepId>


def test_the_critical_failure_stack_is_kept_as_additional_data() -> None:
    (report,) = convert(fixture(V500), OSLO)  # line 815
    (stack,) = report.additional_data or []
    assert stack.name == "CriticalFailureStack"
    (entry,) = stack.props or []
    values = {p.name: p.value for p in entry.props or []}
    assert values == {
        "resultID": "69",
        "stepName": "Keyboard Test",
        "sequenceName": "MainSequence",
        "sequenceFileName": "Computer Motherboard Test Sequence VIC.seq",
    }


def test_the_real_files_are_accepted_by_the_emulator_in_strict_mode() -> None:
    from pywats import pyWATS
    from pywats.testing import FakeWATS

    fake = FakeWATS(token="test-token", strict=True)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        processes = api.app.get_processes()
        for name in (V202, V500, V601):
            outcome = run_conversion(
                AtmlConverter(),
                fixture(name),
                make_ctx(AtmlConverter, OSLO, processes=processes),
                strict=True,
            )
            assert isinstance(outcome, Converted), outcome
            for report in outcome.reports:
                assert report.validate() == []
                api.report.submit_report(report)
                stored = fake.get_report(str(report.id))
                assert stored is not None
                assert stored.sn == "123456789"
    fake.close()


@pytest.mark.parametrize("name", [V202, V500, V601])
def test_the_original_file_names_with_spaces_and_brackets(name: str, tmp_path: Path) -> None:
    path = tmp_path / ORIGINAL[name]
    shutil.copyfile(fixture(name), path)
    assert AtmlConverter().matches(path)
    assert AtmlConverter().validate(path, make_ctx(AtmlConverter)).confidence == 1.0
    (report,) = convert(path, OSLO)
    assert report.sn == "123456789"


# --- arguments ------------------------------------------------------------------------------------


def test_the_sequence_file_name_selects_the_process() -> None:
    arguments = {"process_map": {"computer motherboard test sequence vic.seq": "PCBA test"}}
    (report,) = convert(fixture(V601), arguments)
    assert report.process_code == 50


def test_arguments_fill_what_the_file_lacks_and_the_file_wins() -> None:
    arguments = {"process": 50, "revision": "B", "part_number": "X-1", "operator": "eve"}
    (report,) = convert(fixture(V601), arguments)
    assert (report.process_code, report.rev) == (50, "B")  # ATML has neither
    assert report.pn == "Ragnar123"  # the file's
    assert report.uut is not None
    assert report.uut.user == "administrator"


def test_without_a_time_zone_the_start_is_the_stations_local_time() -> None:
    (report,) = convert(fixture(V500))
    assert report.start is not None
    assert report.start.utcoffset() is not None
    assert report.start.replace(tzinfo=None) == datetime(2019, 5, 15, 14, 31, 11, 452000)


def test_an_unknown_process_fails_naming_the_known_ones() -> None:
    outcome = run_conversion(
        AtmlConverter(), fixture(V500), make_ctx(AtmlConverter, {"process": "Burn-in"})
    )
    assert isinstance(outcome, Failed)
    assert "unknown process 'Burn-in'" in outcome.reason


def test_the_documented_configuration_loads(tmp_path: Path) -> None:
    from pywats_station.config import read_config
    from pywats_station.converters.api import parse_arguments

    doc = Path(__file__).resolve().parents[3] / "docs" / "converters" / "atml.md"
    configs = [b for b in blocks(doc) if b.kind == "config"]
    assert configs, "docs/converters/atml.md has no <!-- example: config --> block"
    for number, block in enumerate(configs):
        path = tmp_path / f"config-{number}.toml"
        path.write_text(block.text, encoding="utf-8")
        loaded = read_config(path, env={})
        assert not loaded.warnings
        (converter,) = loaded.config.converters
        assert converter.kind == "atml"
        parse_arguments(BUILTINS["atml"], converter.arguments)


# --- validate() -----------------------------------------------------------------------------------


def test_validate_is_sure_of_every_atml_file_and_of_nothing_else() -> None:
    inputs = [f for f in real_inputs() if not f.folder]
    if not inputs:
        pytest.skip(f"real fixtures not found at {REAL}")
    ctx = make_ctx(AtmlConverter)
    ours = [f for f in inputs if f.format == "atml"]
    assert len(ours) == 3
    for item in inputs:
        found = AtmlConverter().validate(item.path, ctx)
        assert found.message, item.id
        if item.format == "atml":
            assert found.confidence >= 0.9, (item.id, found)
            assert found.preview.serial_number == "123456789"
            assert (found.preview.part_number, found.preview.result) == ("Ragnar123", "F")
        else:
            assert found.confidence <= 0.2, (item.id, found)


def test_validate_reads_only_the_head(tmp_path: Path) -> None:
    # A 1 MB comment after the root's start: validate() still decides from the first bytes.
    text = fixture(V500).read_bytes().decode("latin-1")
    head, sep, rest = text.partition("<tr:Personnel>")
    path = tmp_path / "big.xml"
    path.write_text(head + "<!--" + "x" * (1 << 20) + "-->" + sep + rest, encoding="latin-1")
    found = AtmlConverter().validate(path, make_ctx(AtmlConverter))
    assert found.confidence == 1.0
    assert found.preview.serial_number is None  # the UUT is beyond the head


@pytest.mark.parametrize(
    ("text", "most"),
    [
        ('<?xml version="1.0"?><TestResults/>', 0.5),  # no namespace
        ('<x:TestDescription xmlns:x="urn:IEEE-1671.1:2009:TestDescription"/>', 0.2),
        ('<Reports><Report Type="UUT"/></Reports>', 0.0),  # TestStand's own XML report
        ("SN;PN\n1;2\n", 0.0),
    ],
)
def test_validate_on_lookalikes(tmp_path: Path, text: str, most: float) -> None:
    path = tmp_path / "x.xml"
    path.write_text(text, encoding="utf-8")
    found = AtmlConverter().validate(path, make_ctx(AtmlConverter))
    assert found.confidence == most, found
    assert found.message


# --- what real stations produce -------------------------------------------------------------------


def _variant(tmp_path: Path, data: bytes, name: str = "variant.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _text() -> str:
    return fixture(V500).read_bytes().decode("latin-1")  # declared iso-8859-1


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n").encode("latin-1"), id="crlf"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf-16-bom-old-declaration"),
        pytest.param(
            lambda t: t.replace('"iso-8859-1"', '"UTF-16"').encode("utf-16-le"),
            id="utf-16-declared-no-bom",
        ),
        pytest.param(
            lambda t: b"\xef\xbb\xbf" + t.replace('"iso-8859-1"', '"utf-8"').encode(),
            id="utf-8-bom",
        ),
    ],
)
def test_line_endings_and_encodings_stations_write(tmp_path: Path, encode: object) -> None:
    assert callable(encode)
    path = _variant(tmp_path, encode(_text().replace("Video Test", "Vidéo Tëst")))
    assert AtmlConverter().validate(path, make_ctx(AtmlConverter)).confidence == 1.0
    (report,) = convert(path, OSLO)
    assert "Vidéo Tëst" in [s.name for s in report.steps()]
    assert report.sn == "123456789"


def test_latin_1_text_as_the_declaration_says(tmp_path: Path) -> None:
    # The fixtures declare iso-8859-1: an é is the single byte 0xE9.
    data = _text().replace("Video Test", "Vidéo").encode("latin-1")
    (report,) = convert(_variant(tmp_path, data), OSLO)
    assert "Vidéo" in [s.name for s in report.steps()]


def test_latin_1_text_without_a_declaration_fails_naming_the_byte_unless_told(
    tmp_path: Path,
) -> None:
    text = _text().replace(' encoding="iso-8859-1"', "").replace("Video Test", "Vidéo")
    path = _variant(tmp_path, text.encode("latin-1"))
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter))
    assert isinstance(outcome, Failed)
    assert outcome.reason.startswith("line 184, column 33: byte 0xe9 is not UTF-8 (XML's default)")
    assert "arguments.encoding" in outcome.reason
    (report,) = convert(path, {"encoding": "latin-1"})
    assert "Vidéo" in [s.name for s in report.steps()]


def test_an_unknown_encoding_argument_is_refused_when_the_converter_starts() -> None:
    from pywats_station.converters.api import ConverterConfigError, parse_arguments

    with pytest.raises(ConverterConfigError, match="not a known encoding"):
        parse_arguments(AtmlConverter, {"encoding": "klingon"})


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95, 0.999])
def test_a_file_still_being_written_fails_clearly(tmp_path: Path, cut: float) -> None:
    data = fixture(V500).read_bytes()
    path = _variant(tmp_path, data[: int(len(data) * cut)])
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter))
    assert isinstance(outcome, Failed), outcome
    assert "cut short" in outcome.reason
    assert "line " in outcome.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"   \r\n  ", "line 2, column 3: the file holds no XML element"),
        (b'<?xml version="1.0" encoding="iso-885911"?><a/>', "line 1: the XML declaration names"),
        (b"\x00\x01binary", "line 1, column 1: not well-formed"),
    ],
)
def test_empty_and_non_xml_files(tmp_path: Path, data: bytes, reason: str) -> None:
    outcome = run_conversion(AtmlConverter(), _variant(tmp_path, data), make_ctx(AtmlConverter))
    assert isinstance(outcome, Failed)
    assert outcome.reason.startswith(reason), outcome.reason


def test_a_doctype_is_refused_before_any_entity_is_expanded(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        "<TestResults>&lol2;</TestResults>\n"
    )
    path = _variant(tmp_path, bomb.encode())
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter))
    assert isinstance(outcome, Failed)
    assert outcome.reason.startswith("line 2: the document has a DOCTYPE")
    assert AtmlConverter().validate(path, make_ctx(AtmlConverter)).confidence == 0.1


def test_elements_nested_without_end_fail_at_the_limit(tmp_path: Path) -> None:
    text = _text().replace("<tr:Personnel>", "<a>" * 500 + "</a>" * 500 + "<tr:Personnel>")
    outcome = run_conversion(
        AtmlConverter(), _variant(tmp_path, text.encode("latin-1")), make_ctx(AtmlConverter)
    )
    assert isinstance(outcome, Failed)
    assert "nested more than 128 levels" in outcome.reason
    assert "line 5" in outcome.reason


def test_a_huge_name_fails_naming_the_step(tmp_path: Path) -> None:
    text = _text().replace('name = "Video Test"', f'name = "{"V" * 300_000}"')
    outcome = run_conversion(
        AtmlConverter(), _variant(tmp_path, text.encode("latin-1")), make_ctx(AtmlConverter)
    )
    assert isinstance(outcome, Failed)
    assert "line 184" in outcome.reason


def test_a_missing_serial_number_fails_naming_the_uut(tmp_path: Path) -> None:
    text = _text().replace("<c:SerialNumber>123456789</c:SerialNumber>", "")
    outcome = run_conversion(
        AtmlConverter(), _variant(tmp_path, text.encode("latin-1")), make_ctx(AtmlConverter)
    )
    assert isinstance(outcome, Failed)
    assert outcome.reason == "<TestResults> at line 4: the UUT has no serial number " + (
        "(<UUT>/<SerialNumber>)"
    )


def test_a_missing_part_number_comes_from_the_arguments(tmp_path: Path) -> None:
    text = _text()
    start = text.index("<c:IdentificationNumbers>")
    end = text.index("</c:IdentificationNumbers>") + len("</c:IdentificationNumbers>")
    path = _variant(tmp_path, (text[:start] + text[end:]).encode("latin-1"))
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter))
    assert isinstance(outcome, Failed)
    assert "arguments.part_number" in outcome.reason
    (report,) = convert(path, {"part_number": "MB-100"})
    assert report.pn == "MB-100"


# --- batch and parallel executions: several UUTs in one file --------------------------------------


def _batch_of_two(text: str) -> str:
    """The 5.00 file with its ``TestResults`` twice: the second for socket 1 and another SN."""
    start = text.index("<trc:TestResults ")
    end = text.index("</trc:TestResults>") + len("</trc:TestResults>")
    uut = text[start:end]
    results = "<ts:NumOfResults value = '23'/>"
    second = (
        uut.replace(">123456789<", ">987654321<")
        .replace(results, results + "<ts:TestSocketIndex value='1'/>")
        .replace('<tr:Outcome value="Failed" />', '<tr:Outcome value="Passed" />', 1)
        .replace("4eca009c-770d", "4eca009d-770d")
    )
    first = uut.replace(
        "<ts:NumOfResults value = '23'/>",
        "<ts:NumOfResults value = '23'/><ts:TestSocketIndex value='0'/>"
        "<ts:BatchSerialNumber value='LOT-7'/>",
    )
    return text[:start] + first + "\n" + second + text[end:]


def test_a_batch_file_makes_one_report_per_uut(tmp_path: Path) -> None:
    path = _variant(tmp_path, _batch_of_two(_text()).encode("latin-1"))
    first, second = convert(path, OSLO)
    assert (first.sn, second.sn) == ("123456789", "987654321")
    assert first.uut is not None
    assert second.uut is not None
    assert (first.uut.test_socket_index, second.uut.test_socket_index) == (0, 1)
    assert (first.uut.batch_sn, second.uut.batch_sn) == ("LOT-7", None)
    assert (first.result, second.result) == ("F", "P")  # each UUT's own ResultSet outcome
    assert first.id != second.id
    assert len(first.steps()) == len(second.steps()) == 24


# --- what the UUT and the result set carry besides -----------------------------------------------


def test_the_uuts_additional_data_and_the_fixture_and_comment_it_names(tmp_path: Path) -> None:
    def item(name: str, value: str) -> str:
        return (
            f'<c:Item name="{name}"><c:Datum xsi:type="c:string"><c:Value>{value}</c:Value>'
            "</c:Datum></c:Item>"
        )

    extension = (
        '<c:Extension><ts:TSCollection><c:Item name="AdditionalData">'
        '<c:Collection xsi:type="ts:TS_Collection">'
        + item("UUT_Fixture_ID", "FX-12")
        + item("Comment", "first article")
        + item("Operator note", "re-seated J3")
        + "</c:Collection></c:Item></ts:TSCollection></c:Extension>"
    )
    text = _text().replace("</c:Identification>", "</c:Identification>" + extension)
    (report,) = convert(_variant(tmp_path, text.encode("latin-1")), OSLO)
    assert report.uut is not None
    assert (report.uut.fixture_id, report.uut.comment) == ("FX-12", "first article")
    uut = next(d for d in report.additional_data or [] if d.name == "UUT")
    (data,) = uut.props or []
    assert data.name == "AdditionalData"
    assert [(p.name, p.value) for p in data.props or []] == [
        ("UUT_Fixture_ID", "FX-12"),
        ("Comment", "first article"),
        ("Operator note", "re-seated J3"),
    ]


def test_an_error_of_the_whole_run_is_the_reports_error(tmp_path: Path) -> None:
    # 2.02: the ResultSet holds the root sequence; its own Events carry the run's error.
    events = (
        '<tr:Events><tr:Event ID="Error Message"><tr:Data><c:Datum xsi:type="c:string">'
        "<c:Value>Operator terminated</c:Value></c:Datum></tr:Data></tr:Event></tr:Events>"
    )
    text = fixture(V202).read_bytes().decode("latin-1")
    text = text.replace(
        '<tr:Outcome value="Failed" />', '<tr:Outcome value="Failed" />' + events, 1
    )
    (report,) = convert(_variant(tmp_path, text.encode("latin-1")), OSLO)
    assert report.uut is not None
    assert report.uut.error_message == "Operator terminated"


def test_the_benchmarks_enlarged_files_convert(tmp_path: Path) -> None:
    enlarge = enlarger("atml")

    for name, reports, steps in ((V202, 1, 1 + 23 * 4), (V500, 4, 24), (V601, 4, 24)):
        copy = _variant(tmp_path, enlarge(fixture(name).read_bytes(), 4), name)
        found = convert(copy)
        assert len(found) == reports
        assert len({r.sn for r in found}) == reports
        assert len(found[0].steps()) == steps
