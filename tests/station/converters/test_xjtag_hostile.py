"""The ``xjtag`` converter on what real stations and hostile hands leave in a watch folder.

Archives cut short (a log still being written), damaged, ZIP bombs, members with path-like,
doubled or encrypted names, missing members, nested archives, huge fields, DOCTYPEs; and what
real stations write that the fixtures do not show: names with spaces and brackets, UTF-16,
several runs per log, failed and errored tests. Every broken input is a ``Failed`` naming the
member and the place, never an exception or half a conversion.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.models.report import UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin._budget import OutputLimits, TooBigForThread
from pywats_station.converters.builtin.xjtag import XjtagConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import real_file
from tests.station.converters.helpers import PROCESSES, make_ctx
from tests.station.converters.test_xjtag import LOG_2018, LOG_2020, WITH_210, XML_2020

RUN = "Run 1.xml"
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def outcome(path: Path, arguments: dict[str, object] | None = None) -> Converted | Failed:
    ctx = make_ctx(XjtagConverter, arguments or {"timezone": "UTC"}, processes=WITH_210)
    result = run_conversion(XjtagConverter(), path, ctx, strict=True)
    assert isinstance(result, Converted | Failed), result
    if isinstance(result, Failed):
        assert not result.reason.startswith("converter "), result.reason  # a crash, not a reason
    return result


def reports(path: Path, arguments: dict[str, object] | None = None) -> list[UUTReport]:
    result = outcome(path, arguments)
    assert isinstance(result, Converted), result
    found = [r for r in result.reports if isinstance(r, UUTReport)]
    for report in found:
        assert report.validate() == []
    return found


def reason(path: Path) -> str:
    result = outcome(path)
    assert isinstance(result, Failed), result
    return result.reason


def members(name: str = LOG_2020) -> dict[str, bytes]:
    """The members of a real log, by name, in archive order."""
    with zipfile.ZipFile(real_file("xjtag", name)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def pack(path: Path, files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def edit_run(path: Path, edit: Callable[[str], str], name: str = LOG_2020) -> Path:
    """A copy of a real log whose ``Run 1.xml`` is edited as text."""
    files = members(name)
    files[RUN] = edit(files[RUN].decode("utf-8-sig")).encode("utf-8-sig")
    return pack(path, files)


def patch_directory(data: bytes, member: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field of ``member``'s central directory entry (``offset`` from its start)."""
    start = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + name_length] == member.encode():
            break
        start = data.index(b"PK\x01\x02", start + 4)
    patched = bytearray(data)
    struct.pack_into(fmt, patched, start + offset, value)
    return bytes(patched)


# --- cut short, damaged, empty ---------------------------------------------------------------


@HYPOTHESIS
@given(fraction=st.floats(0.0, 0.999))
def test_a_log_cut_short_fails_and_never_half_converts(tmp_path: Path, fraction: float) -> None:
    data = real_file("xjtag", LOG_2018).read_bytes()
    path = tmp_path / LOG_2018
    path.write_bytes(data[: int(len(data) * fraction)])
    message = reason(path)
    assert re.search(r"cut short|the file is empty|member '", message), message


def test_a_log_still_being_written_says_so(tmp_path: Path) -> None:
    path = tmp_path / LOG_2018
    path.write_bytes(real_file("xjtag", LOG_2018).read_bytes()[:4118])
    assert reason(path) == (
        "the ZIP archive is cut short or damaged: it ends at byte 4,118 without its central "
        "directory (an XJTAG log still being written, or not an XJTAG log archive)"
    )
    validation = XjtagConverter().validate(path, make_ctx(XjtagConverter, {}))
    assert validation.confidence == 0.5


@HYPOTHESIS
@given(flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(1, 255)), min_size=1))
def test_flipped_bytes_fail_naming_the_member_or_convert(
    tmp_path: Path, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(real_file("xjtag", LOG_2020).read_bytes())
    for fraction, mask in flips:
        data[int(len(data) * fraction)] ^= mask
    path = tmp_path / LOG_2020
    path.write_bytes(bytes(data))
    result = outcome(path)  # a flip in a timestamp or an unused field changes nothing
    if isinstance(result, Failed):
        assert re.search(r"member '|ZIP archive|not an XJTAG log", result.reason), result.reason


def test_a_damaged_member_is_named(tmp_path: Path) -> None:
    data = bytearray(real_file("xjtag", LOG_2020).read_bytes())
    header = data.index(b"PK\x03\x04")  # the first member, Run 1.xml, deflated
    data[header + 30 + len(RUN) + 36 + 1000] ^= 0x10  # inside its compressed data
    path = tmp_path / "damaged.xjlog"
    path.write_bytes(bytes(data))
    assert reason(path).startswith(f"member {RUN!r} cannot be read: ")


@pytest.mark.parametrize(
    ("data", "expected"), [(b"", "the file is empty"), (b" \r\n", "the file holds only blanks")]
)
def test_an_empty_file(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "empty.xjlog"
    path.write_bytes(data)
    assert reason(path) == expected
    assert XjtagConverter().validate(path, make_ctx(XjtagConverter, {})).confidence == 0.0


# --- what an XJTAG log never holds -------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    files = members()
    files[RUN] = b"\0" * (4 << 20)  # 4 MiB of zeros deflate to about 4 kB: over 1000:1
    message = reason(pack(tmp_path / "bomb.xjlog", files))
    assert re.fullmatch(
        rf"member '{RUN}' expands [\d,]+ bytes into 4,194,304, over 1000:1: a ZIP bomb, not an "
        "XJTAG log",
        message,
    ), message


def test_a_member_declared_huge_is_refused_unread(tmp_path: Path) -> None:
    data = pack(tmp_path / "x.xjlog", members()).read_bytes()
    (tmp_path / "x.xjlog").write_bytes(patch_directory(data, RUN, 24, "<I", 3_000_000_000))
    assert reason(tmp_path / "x.xjlog") == (
        f"member {RUN!r} is 3,000,000,000 bytes uncompressed, over the 67,108,864 bytes read of "
        "it: too large for an XJTAG log (a ZIP bomb?)"
    )


def test_a_member_that_lies_about_its_size_is_stopped(tmp_path: Path) -> None:
    data = pack(tmp_path / "x.xjlog", members()).read_bytes()
    (tmp_path / "x.xjlog").write_bytes(patch_directory(data, RUN, 24, "<I", 1000))
    assert reason(tmp_path / "x.xjlog").startswith(f"member {RUN!r} cannot be read: ")


@pytest.mark.parametrize("name", ["../Run 1.xml", "logs/x.txt", "C:x", "..", "a\\b"])
def test_member_names_with_a_path_are_refused(tmp_path: Path, name: str) -> None:
    files = {**members(), name: b"x"}
    assert reason(pack(tmp_path / "x.xjlog", files)) == (
        f"member {name!r} has a path or an odd name; an XJTAG log holds plain file names "
        "only: not an XJTAG log archive"
    )


def test_a_member_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.xjlog"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members().items():
            archive.writestr(name, data)
        archive.writestr("run 1.XML", b"<testrun/>")
    assert reason(path) == (
        "member 'run 1.XML' is in the archive twice (names ignoring case): not an XJTAG log archive"
    )


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    data = pack(tmp_path / "x.xjlog", members()).read_bytes()
    (tmp_path / "x.xjlog").write_bytes(patch_directory(data, RUN, 8, "<H", 0x1))
    assert reason(tmp_path / "x.xjlog") == f"member {RUN!r} is encrypted; XJTAG logs are not"


def test_another_compression_method_is_refused(tmp_path: Path) -> None:
    path = pack(tmp_path / "x.xjlog", members(), method=zipfile.ZIP_BZIP2)
    assert reason(path) == (
        "member 'Info.xml' is compressed with ZIP method 12; XJTAG logs use deflate"
    )


def test_a_missing_run_is_named(tmp_path: Path) -> None:
    files = members()
    files["Info.xml"] = files["Info.xml"].replace(
        b"<TestRunCount>1</TestRunCount>", b"<TestRunCount>2</TestRunCount>"
    )
    assert reason(pack(tmp_path / "x.xjlog", files)) == (
        "the archive has no member 'Run 2.xml', though Info.xml says it holds 2 run(s): cut "
        "short or damaged"
    )
    del files["Info.xml"]
    assert reason(pack(tmp_path / "y.xjlog", files)) == (
        "the archive has no member 'Info.xml': not an XJTAG log archive"
    )


def test_a_nested_archive_is_no_run(tmp_path: Path) -> None:
    files = members()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(RUN, files[RUN])
    files[RUN] = inner.getvalue()
    message = reason(pack(tmp_path / "x.xjlog", files))
    assert message.startswith(f"member {RUN!r}, line 1, column "), message
    assert "not well-formed XML" in message


def test_an_extra_member_is_not_converted_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = {**members(), "notes.zip": b"PK\x05\x06" + b"\0" * 18}
    with caplog.at_level("INFO"):
        (report,) = reports(pack(tmp_path / "x.xjlog", files))
    assert report.sn == "567567"
    assert "members not converted: notes.zip" in caplog.text


def test_a_doctype_is_refused_and_no_entity_expanded(tmp_path: Path) -> None:
    bomb = '<!DOCTYPE testrun [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
    path = edit_run(tmp_path / "x.xjlog", lambda t: t.replace("<testrun ", bomb + "<testrun ", 1))
    message = reason(path)
    assert message.startswith(f"member {RUN!r}, line 2, column "), message
    assert "a DOCTYPE declaration (<!DOCTYPE testrun>) is refused" in message
    export = tmp_path / "export.xml"
    export.write_text(bomb + '<testrun datetime="2020-01-01T00:00:00Z"/>')
    assert "DOCTYPE" in reason(export)


# --- huge fields -----------------------------------------------------------------------------


def test_a_serial_number_too_long_for_wats_fails_naming_the_element(tmp_path: Path) -> None:
    path = edit_run(
        tmp_path / "x.xjlog", lambda t: t.replace("<serial>567567", "<serial>" + "9" * 60)
    )
    assert reason(path) == (
        f"member {RUN!r}, <serial> at line 690, column 5: the serial number is 60 characters "
        "long; WATS takes at most 50"
    )


def test_a_test_name_too_long_fails_naming_the_element(tmp_path: Path) -> None:
    path = edit_run(
        tmp_path / "x.xjlog", lambda t: t.replace('"CheckChain"', '"' + "C" * 300 + '"')
    )
    assert reason(path) == (
        f"member {RUN!r}, <testfunction> at line 23, column 5: the name is 300 characters "
        "long; WATS takes at most 255"
    )


def test_a_huge_output_is_cut_keeping_its_start_and_end(tmp_path: Path) -> None:
    huge = "start\n" + "x" * 3_000_000 + "\nend"
    path = edit_run(tmp_path / "x.xjlog", lambda t: t.replace("Checking the integrity", huge, 1))
    (report,) = reports(path)
    (check,) = [s for s in report.steps() if s.name == "CheckChain"]
    text = check.report_text or ""
    assert len(text) <= 10_000
    assert text.startswith("start\nxxx")
    assert text.endswith("of the JTAG chain.\nCheckChain passed")
    assert re.search(r"\[… [\d,]+ characters left out …\]", text)


def test_reports_over_the_output_budget_fail_while_they_are_built(tmp_path: Path) -> None:
    path = real_file("xjtag", XML_2020)
    ctx = make_ctx(XjtagConverter, {}, processes=WITH_210)
    limits = OutputLimits(max_report_size=5_000, settings="converters.jtag")
    result = run_conversion(XjtagConverter(), path, ctx, limits=limits)
    assert isinstance(result, Failed)
    assert re.fullmatch(
        r"the report is over 5,000 bytes as WSJF by line \d+ \(\d+ steps; conversion stopped "
        r"there\); the server accepts at most 5,000 bytes \(converters.jtag.max_report_size\)",
        result.reason,
    ), result.reason


def test_too_many_elements_or_too_deep_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.xml"
    deep.write_text('<testrun datetime="2020-01-01T00:00:00Z">' + "<a>" * 40)
    assert "nests 33 levels deep (at most 32): not an XJTAG document" in reason(deep)
    many = tmp_path / "many.xml"
    many.write_text('<testrun datetime="2020-01-01T00:00:00Z">' + "<a/>" * 200_001 + "</testrun>")
    assert reason(many).endswith("more than 200,000 elements: not an XJTAG document")


# --- what real stations write that the fixtures do not show --------------------------------------


def test_names_with_spaces_and_brackets(tmp_path: Path) -> None:
    for name in (LOG_2018, XML_2020):
        source = real_file("xjtag", name)
        copy = tmp_path / ("board [A] " + name)
        shutil.copy(source, copy)
        (report,) = reports(copy)
        assert report.sn in ("1234", "567567")
        validation = XjtagConverter().validate(copy, make_ctx(XjtagConverter, {}))
        assert validation.confidence == 1.0
        # A log's runs are not read to validate: the preview comes from the name. An export's
        # <testruninfo> is in its first 64 KiB.
        named = report.sn if name == XML_2020 else f"board [A] {report.sn}"
        assert validation.preview.serial_number == named
    # Names with brackets and spaces inside the run, too.
    path = edit_run(
        tmp_path / "x.xjlog", lambda t: t.replace('"SRAM Test"', '"SRAM [U5] &amp; co"')
    )
    (report,) = reports(path)
    assert report.root is not None
    assert (report.root.steps or [])[3].name == "SRAM [U5] & co"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8"])
def test_an_export_in_utf16_or_without_a_bom_reads_the_same(tmp_path: Path, encoding: str) -> None:
    source = real_file("xjtag", XML_2020)
    text = source.read_bytes().decode("utf-8-sig")
    path = tmp_path / "export.xml"
    path.write_bytes(text.encode(encoding))
    (report,) = reports(path)
    (original,) = reports(source)
    assert report.sn == original.sn
    assert [s.report_text for s in report.steps()] == [s.report_text for s in original.steps()]
    validation = XjtagConverter().validate(path, make_ctx(XjtagConverter, {}))
    assert validation.confidence == 1.0


def test_a_log_with_several_runs_gives_a_report_each(tmp_path: Path) -> None:
    files = members()
    second = files[RUN].replace(b"<serial>567567</serial>", b"<serial>567568</serial>")
    files["Info.xml"] = files["Info.xml"].replace(b"<TestRunCount>1<", b"<TestRunCount>2<")
    files["Run 2.xml"] = second.replace(b"<result>Passed</result>", b"<result>Failed</result>")
    found = reports(pack(tmp_path / "two.xjlog", files))
    assert [(r.sn, r.result) for r in found] == [("567567", "P"), ("567568", "F")]
    assert [[(m.description, m.text) for m in r.misc_infos or [] if m.description == "XJTAG run"]
            for r in found] == [[("XJTAG run", "1 of 2")], [("XJTAG run", "2 of 2")]]  # fmt: skip


def test_a_failed_test_fails_its_group_and_the_report(tmp_path: Path) -> None:
    def fail(text: str) -> str:
        start = text.index('<testfunction name="D2.Test">')
        end = text.index("</testfunction>", start)
        part = text[start:end].replace('<result value="Passed" />', '<result value="Failed" />')
        return text[:start] + part + text[end:]

    (report,) = reports(edit_run(tmp_path / "x.xjlog", fail))
    assert report.result == "F"  # <result>Passed</result> in testruninfo, but D2 failed
    steps = {s.name: s for s in report.steps()}
    assert steps["D2.Test"].status == "F"
    assert [m.status for m in steps["D2.Test"].boolean_meas or []] == ["F"]
    assert steps["LED Tests"].status == "F"
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == steps["D2.Test"].id


@pytest.mark.parametrize(
    ("word", "status", "result"),
    [("Error", "E", "E"), ("Terminated", "T", "T"), ("Interrupted", "U", "P")],
)
def test_other_results_of_a_test(tmp_path: Path, word: str, status: str, result: str) -> None:
    path = edit_run(
        tmp_path / "x.xjlog",
        lambda t: t.replace('<result value="Passed" />', f'<result value="{word}" />', 1),
    )
    (report,) = reports(path)
    (first,) = [s for s in report.steps() if s.name == "NEW_SERIAL_NUMBER"]
    assert (first.step_type, first.status, first.boolean_meas) == ("ET_PFT", status, None)
    assert report.result == result
    if status == "U":
        assert (first.report_text or "").startswith("XJTAG result: Interrupted\n")


def test_an_unknown_run_result_fails_the_unit_and_is_kept(tmp_path: Path) -> None:
    path = edit_run(
        tmp_path / "x.xjlog", lambda t: t.replace("<result>Passed<", "<result>Cancelled by user<")
    )
    (report,) = reports(path)
    assert report.result == "F"
    assert ("XJTAG result", "Cancelled by user") in [
        (m.description, m.text) for m in report.misc_infos or []
    ]


def test_a_run_without_its_serial_or_result_fails_naming_the_element(tmp_path: Path) -> None:
    path = edit_run(tmp_path / "x.xjlog", lambda t: t.replace("<serial>567567</serial>", ""))
    assert reason(path) == (
        f"member {RUN!r}, <testruninfo> at line 687, column 3: no <serial>: the run has no serial"
    )
    path = edit_run(
        tmp_path / "y.xjlog", lambda t: t.replace("<result>Passed</result>", "<result />")
    )
    assert reason(path) == (
        f"member {RUN!r}, <result> at line 693, column 5: the run has no result"
    )
    text = real_file("xjtag", XML_2020).read_text(encoding="utf-8-sig")
    export = tmp_path / "export.xml"
    export.write_text(text[: text.index("<testruninfo>")] + "</testrun>", encoding="utf-8")
    assert reason(export) == (
        "<testrun> at line 2, column 1 has no <testruninfo> (serial number, result): the run is "
        "incomplete"
    )


# --- hypothesis on the runs' XML -------------------------------------------------------------


@HYPOTHESIS
@given(
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.sampled_from(b"<>&\"'/x\0 ]")), max_size=3),
)
def test_a_broken_run_inside_a_sound_archive_fails_naming_the_member(
    tmp_path: Path, cut: float, flips: list[tuple[float, int]]
) -> None:
    files = members(LOG_2018)
    run = bytearray(files[RUN][: int(len(files[RUN]) * cut)])
    for fraction, byte in flips:
        if run:
            run[int(len(run) * fraction)] = byte
    files[RUN] = bytes(run)
    result = outcome(pack(tmp_path / "x.xjlog", files))
    if isinstance(result, Failed):
        assert result.reason.startswith(f"member {RUN!r}"), result.reason


@HYPOTHESIS
@given(cut=st.floats(0.0, 0.999), flip=st.tuples(st.floats(0.0, 0.999), st.integers(1, 255)))
def test_a_broken_export_fails_naming_the_place(
    tmp_path: Path, cut: float, flip: tuple[float, int]
) -> None:
    data = bytearray(real_file("xjtag", XML_2020).read_bytes())
    data[int(len(data) * flip[0])] ^= flip[1]
    path = tmp_path / XML_2020
    path.write_bytes(bytes(data[: int(len(data) * cut)]))
    result = outcome(path)
    assert isinstance(result, Failed)  # cut anywhere, the run is incomplete
    assert re.search(r"line \d+|<\w|empty|blanks|holds no|not an XJTAG", result.reason), (
        result.reason
    )


# --- what the page says ------------------------------------------------------------------------


def test_the_messages_the_page_quotes_are_the_converters(tmp_path: Path) -> None:
    from tests.station.converters.test_xjtag import PAGE

    files = members(LOG_2018)
    run = files[RUN]
    produced = []
    cut = tmp_path / "cut.xjlog"
    cut.write_bytes(real_file("xjtag", LOG_2018).read_bytes()[:4118])
    produced.append(reason(cut))
    damaged = bytearray(pack(tmp_path / "stored.xjlog", files, zipfile.ZIP_STORED).read_bytes())
    damaged[damaged.index(b"<testgroup") + 5] ^= 1
    (tmp_path / "damaged.xjlog").write_bytes(bytes(damaged))
    produced.append(reason(tmp_path / "damaged.xjlog"))
    lines = run.split(b"\r\n")
    short = {**files, RUN: b"\r\n".join(lines[:429]) + b"\r\n"}
    produced.append(reason(pack(tmp_path / "short.xjlog", short)))
    no_serial = {**files, RUN: run.replace(b"<serial>1234</serial>", b"")}
    produced.append(reason(pack(tmp_path / "no-serial.xjlog", no_serial)))
    two = {
        **files,
        "Info.xml": files["Info.xml"].replace(b">1</TestRunCount>", b">2</TestRunCount>"),
    }
    produced.append(reason(pack(tmp_path / "two.xjlog", two)))
    page = " ".join(PAGE.read_text(encoding="utf-8").split())
    for message in produced:
        assert f"`{message}`" in page, message


def test_pathological_html_and_heads_cost_one_pass(tmp_path: Path) -> None:
    """Patterns that would rescan the rest for every start (quadratic) finish at once here."""
    text = real_file("xjtag", XML_2020).read_text(encoding="utf-8-sig")
    rows = "<tr " * 250_000 + "<td " * 250_000  # 2 MB of rows and cells never closed
    links = "ShowFullConnTestOutput('" * 40_000
    text = text.replace("<table class", f"{rows}<table class", 1)
    text = text.replace("Checking the integrity", links, 1)
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    (report,) = reports(path)
    assert report.sn == "567567"
    head = tmp_path / "head.xml"
    head.write_text("<?x?>" * 13_000 + "<testrun datetime='x'>")
    assert XjtagConverter().validate(head, make_ctx(XjtagConverter, {})).confidence == 0.9


def test_a_log_that_expands_beyond_the_daemons_share_goes_to_a_child(tmp_path: Path) -> None:
    """8 kB on disk, 80 kB expanded: over a 20 kB thread limit, the station uses a child."""
    ctx = make_ctx(XjtagConverter, {}, processes=WITH_210)
    log = real_file("xjtag", LOG_2018)
    with pytest.raises(TooBigForThread, match=r"the archive expands to 79.8 kB"):
        run_conversion(XjtagConverter(), log, ctx, thread_limit=20_000)
    assert isinstance(run_conversion(XjtagConverter(), log, ctx, thread_limit=200_000), Converted)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_a_log_whose_run_is_utf16(tmp_path: Path, encoding: str) -> None:
    files = members(LOG_2018)
    text = files[RUN].decode("utf-8-sig").replace('encoding="utf-8"', f'encoding="{encoding}"')
    files[RUN] = text.encode(encoding)
    (report,) = reports(pack(tmp_path / "utf16.xjlog", files))
    assert report.sn == "1234"
    files[RUN] = files[RUN][:-1]  # cut inside its last character
    assert reason(pack(tmp_path / "cut.xjlog", files)) == (
        f"member {RUN!r}, line 694, column 10: not UTF-16 (truncated data): the file is cut "
        "short inside a character, or damaged"
    )


@pytest.mark.parametrize(
    ("size", "attached"),
    [(136_000, "10199_637280009689789873.zip"), (150_000, None), (17 << 20, None)],
)
def test_connection_test_data_over_100_kb(tmp_path: Path, size: int, attached: str | None) -> None:
    files = members()
    blob = "10199_637280009689789873"
    if size == 150_000:  # random bytes do not zip
        files[blob] = random.Random(7).randbytes(size)
    else:  # the real data repeated zips well
        files[blob] = (files[blob] * (size // len(files[blob]) + 1))[:size]
    (report,) = reports(pack(tmp_path / "x.xjlog", files))
    (conntest,) = [s for s in report.steps() if s.name == "CONNTEST"]
    if attached is not None:
        assert conntest.attachment is not None
        assert (conntest.attachment.name, conntest.attachment.content_type) == (
            attached,
            "application/zip",
        )
    else:
        assert conntest.attachment is None
        assert (conntest.report_text or "").endswith(
            f"connection test data {blob!r} ({size:,} bytes) not attached: "
            + ("too big" if size > 1 << 20 else "over 100 KB even zipped")
        )


def test_a_broken_file_is_said_broken_before_the_process_is_looked_up(tmp_path: Path) -> None:
    path = edit_run(tmp_path / "x.xjlog", lambda t: t.replace("<serial>567567</serial>", ""))
    ctx = make_ctx(XjtagConverter, {}, processes=PROCESSES)  # 210 unknown to this server
    result = run_conversion(XjtagConverter(), path, ctx)
    assert isinstance(result, Failed)
    assert result.reason.endswith("no <serial>: the run has no serial")
