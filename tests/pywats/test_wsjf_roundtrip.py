"""WSJF round trips: the real exports, generated reports, and broken input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from pywats import ReportFormatError, UURReport, UUTReport
from pywats.formats.wsjf import dumps, loads
from tests.fixtures import WSJF_FILES, real_file
from tests.pywats import strategies
from tests.pywats.normalise import normalise

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("name", WSJF_FILES)
def test_real_export_round_trips(name: str) -> None:
    original = real_file("wsjf", name).read_bytes()
    report = loads(original)
    encoded = dumps(report)
    again = loads(encoded)
    assert again == report
    assert type(again) is type(report)
    source_tree = json.loads(original)
    written_tree = json.loads(encoded)
    assert written_tree["type"] == source_tree["type"]  # dumps writes the tag itself
    assert normalise(written_tree) == normalise(source_tree)


def test_real_exports_decode_to_the_expected_kinds() -> None:
    kinds = {name: loads(real_file("wsjf", name).read_bytes()) for name in WSJF_FILES}
    uut = kinds["uut-wsjf-export.json"]
    assert isinstance(uut, UUTReport)
    assert len(uut.steps()) == 186
    example = kinds["new_report_example.json"]
    assert isinstance(example, UUTReport)
    assert len(example.steps()) == 281
    assert isinstance(kinds["uur_example.json"], UURReport)


def test_normalisation_is_not_trivially_true() -> None:
    # Guards the round-trip assertion above: a changed value must be noticed.
    tree = json.loads(real_file("wsjf", "uut-wsjf-export.json").read_bytes())
    changed = json.loads(json.dumps(tree))
    changed["root"]["steps"][0]["name"] += "!"
    assert normalise(changed) != normalise(tree)
    changed = json.loads(json.dumps(tree))
    changed["start"] = "2026-01-30T22:01:41.4717353+01:00"  # one millisecond later
    assert normalise(changed) != normalise(tree)


@_SETTINGS
@given(strategies.reports)
def test_generated_reports_round_trip_and_stay_valid(report: UUTReport | UURReport) -> None:
    assert report.validate() == []
    encoded = dumps(report)
    again = loads(encoded)
    assert again == report
    assert again.validate() == []
    assert dumps(again) == encoded
    tree: dict[str, Any] = json.loads(encoded)
    assert tree["type"] == report.report_type.value
    assert normalise(json.loads(dumps(again))) == normalise(tree)


@_SETTINGS
@given(strategies.uut_reports())
def test_generated_uut_reports_number_their_steps_from_one(report: UUTReport) -> None:
    ids = [step.id for step in report.steps()]
    assert ids == list(range(1, len(ids) + 1))
    failing = [s for s in report.steps() if s.caused_uut_failure]
    assert report.uut is not None
    if report.result == "P":
        assert failing == []
        assert report.uut.step_id_caused_uut_failure is None
    if failing:
        (culprit,) = failing
        assert report.uut.step_id_caused_uut_failure == culprit.id
        assert culprit.status in {"F", "E", "T"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "malformed"),
        (b"", "truncated"),
        (b'{"type": "T", "pn": "x"', "truncated"),
        (b"[1, 2]", "Expected `object`, got `array`"),
        (b'"T"', "Expected `object`, got `str`"),
        (b"{}", "missing required field `type`"),
        (b'{"type": "X", "pn": "x"}', "Invalid value 'X' - at `$.type`"),
        (b'{"type": "T", "processCode": "ten"}', "at `$.processCode`"),
        (b'{"type": "T", "id": "not-a-guid"}', "at `$.id`"),
        (b'{"type": "T", "start": "yesterday"}', "at `$.start`"),
        (b'{"type": "T", "root": {"steps": [{"status": 5}]}}', "at `$.root.steps[0].status`"),
        (b'{"type": "R", "subUnits": {"idx": 0}}', "at `$.subUnits`"),
        (b'{"type": "T", "root": {"numericMeas": [{"value": "5"}]}}', "numericMeas[0].value"),
    ],
)
def test_broken_input_raises_report_format_error(data: bytes, message: str) -> None:
    with pytest.raises(ReportFormatError) as info:
        loads(data)
    assert message in str(info.value)
    assert str(info.value).startswith("invalid WSJF: ")
    assert isinstance(info.value, ValueError)


def test_loads_accepts_text_as_well_as_bytes() -> None:
    original = real_file("wsjf", "uur_example.json").read_text(encoding="utf-8")
    assert loads(original) == loads(original.encode("utf-8"))
