"""Each queue entry says which unit its report is about, without the report being read again.

The unit is recorded in the entry's header when the report is queued (``put(unit=…)``); an
entry written before that existed (no ``unit`` in its header) must stay readable and deliverable.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats_station.queue import EntryState, ReportQueue, Unit, unit_of
from pywats_station.queue import _store as store
from pywats_station.queue._format import read_payload
from pywats_station.queue._unit import UNIT_TEXT_MAX
from tests.station.queue_files import write_old_entry

NOW = 1_700_000_000.0


def uut(sn: str = "SN-0001", *, pn: str = "PN-7", result: bool = True) -> UUTReport:
    b = ReportBuilder.uut(
        pn=pn,
        sn=sn,
        rev="C",
        process_code=20,
        station="line-3",
        location="Lab",
        purpose="Test",
        start=datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
    )
    b.root.numeric("Voltage", 5.0 if result else 7.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
    return b.build()


def test_unit_of_reads_the_header_of_a_uut_and_a_uur() -> None:
    report = uut(result=False)
    assert unit_of(report) == Unit(
        kind="uut",
        part_number="PN-7",
        serial_number="SN-0001",
        revision="C",
        process_code=20,
        result="Failed",
        start=report.start.isoformat() if report.start else None,
        station="line-3",
    )
    assert unit_of(report).start is not None
    repair = wsjf.loads(
        json.dumps(
            {"type": "R", "id": str(uuid.uuid4()), "pn": "PN-7", "sn": "SN-9", "processCode": 500}
        ).encode()
    )
    assert isinstance(repair, UURReport)
    unit = unit_of(repair)
    assert (unit.kind, unit.serial_number, unit.process_code, unit.result) == (
        "uur",
        "SN-9",
        500,
        None,
    )


@pytest.mark.parametrize(
    ("serial", "shown"),
    [
        ("SN\n001", "SN\\n001"),  # a forged second line
        ("SN\x1b[2J", "SN\\x1b[2J"),  # a terminal escape
        ("SN-\u202e100", "SN-\\u202e100"),  # a right-to-left override
        ("SN-" + os.fsdecode(b"\xff"), "SN-\\xff"),  # an undecodable byte (from a file name)
        ("Prüfling ✓", "Prüfling ✓"),  # any language's letters stay
    ],
)
def test_hostile_texts_are_escaped_as_names_are(tmp_path: Path, serial: str, shown: str) -> None:
    report = uut(sn="placeholder")
    report.sn = serial  # what a user converter may set: anything
    unit = unit_of(report)
    assert unit.serial_number == shown
    with ReportQueue.open(tmp_path / "q") as q:
        # (Not the report's WSJF: one holding a lone surrogate cannot even be encoded.)
        q.put(str(report.id), b"{}", unit=unit, now=NOW)
    [f] = (tmp_path / "q" / "entries").glob("*/*.wsjf")
    f.read_bytes().partition(b"\n")[0].decode("utf-8")  # valid UTF-8: any reader can read it
    with ReportQueue.open(tmp_path / "q") as q:
        [entry] = q.list()
        assert entry.unit is not None
        assert entry.unit.serial_number == shown


def test_a_huge_serial_number_is_cut(tmp_path: Path) -> None:
    report = uut()
    report.sn = "\n" * 10_000
    unit = unit_of(report)
    assert unit.serial_number is not None
    assert len(unit.serial_number) <= UNIT_TEXT_MAX
    assert unit.serial_number.endswith("…")


def test_the_unit_is_kept_in_the_header_and_read_without_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = [uut(f"SN-{n}", result=n != 2) for n in range(3)]
    with ReportQueue.open(tmp_path / "q") as q:
        put = [
            q.put(str(r.id), wsjf.dumps(r), source="wsjf:x.json", unit=unit_of(r), now=NOW)
            for r in reports
        ]
        assert [e.unit for e in put] == [unit_of(r) for r in reports]
    with ReportQueue.open(tmp_path / "q") as q:
        # Listing and showing read headers only: reading a whole payload here fails the test.
        def no_payloads(*args: object) -> object:
            raise AssertionError("a whole report was read")

        monkeypatch.setattr(store, "read_payload", no_payloads)
        listed = q.list()
        assert [e.unit for e in listed] == [unit_of(r) for r in reports]
        assert [e.unit.result for e in listed if e.unit] == ["Passed", "Passed", "Failed"]
        assert q.show(str(put[1].seq)).unit == unit_of(reports[1])
        monkeypatch.undo()
        # Claimed for upload, failed, dead: the unit goes along through every state.
        [(claimed, _)] = q.claim(NOW, 1)
        assert claimed.unit == unit_of(reports[0])
        failed = q.fail(claimed, error="503", now=NOW)
        assert failed.unit == unit_of(reports[0])
        again = q.next_due(NOW + 10**6)
        assert again is not None
        assert (again.seq, again.unit) == (failed.seq, unit_of(reports[0]))
        dead = q.reject(q.start(again), reason="no")
        assert (dead.state, dead.unit) == (EntryState.DEAD, unit_of(reports[0]))
    with ReportQueue.open(tmp_path / "q") as q:  # held entries are rebuilt from the header
        [back] = q.list(state=EntryState.DEAD)
        assert back.unit == unit_of(reports[0])


def test_an_entry_written_before_units_reads_as_none_and_is_delivered(tmp_path: Path) -> None:
    queue_dir = tmp_path / "q"
    report = uut("SN-OLD")
    report_id, data = str(report.id), wsjf.dumps(report)
    write_old_entry(queue_dir, 1, report_id, data)
    with ReportQueue.open(queue_dir) as q:
        [entry] = q.list()
        assert (entry.report_id, entry.source, entry.unit) == (report_id, "wsjf:old.json", None)
        assert q.verify().corrupt == 0
        new = q.put(str(uuid.uuid4()), data, unit=unit_of(report), now=NOW)
        assert [e.unit for e in q.list()] == [None, new.unit]
        [(claimed, payload), _] = q.claim(NOW, 2)
        assert (claimed.unit, payload) == (None, data)


def test_a_header_without_unit_is_what_put_without_one_writes(tmp_path: Path) -> None:
    """Entries queued without a unit stay byte-compatible with a version before units."""
    with ReportQueue.open(tmp_path / "q") as q:
        e = q.put(str(uuid.uuid4()), b"{}", source="s", now=NOW)
    [f] = (tmp_path / "q" / "entries").glob("*/*.wsjf")
    header, _, _ = read_payload(str(f), e.report_id)
    assert b'"unit"' not in f.read_bytes().partition(b"\n")[0]
    assert header.source == "s"


@pytest.mark.parametrize("stored", [b"42", b'{"kind":"robot"}', b'{"serial_number":1}', b"null"])
def test_an_unreadable_unit_is_lost_alone_never_the_entry(tmp_path: Path, stored: bytes) -> None:
    queue_dir = tmp_path / "q"
    report = uut()
    data = wsjf.dumps(report)
    f = write_old_entry(queue_dir, 1, str(report.id), data)
    header, _, payload = f.read_bytes().partition(b"\n")
    f.write_bytes(header[:-1] + b',"unit":' + stored + b"}\n" + payload)
    with ReportQueue.open(queue_dir) as q:
        [entry] = q.list()
        assert entry.unit is None
        assert q.verify().corrupt == 0
        assert q.read(q.start(entry)) == data
