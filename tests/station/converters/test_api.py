"""The converter API: patterns, folder readiness, arguments, thresholds, processes, results."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import msgspec
import pytest

from pywats_station.converters import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterConfigError,
    ConverterContext,
    Failed,
    FileConverter,
    FolderConverter,
    NoArguments,
    ScheduledConverter,
    Skipped,
    Suspended,
    Validation,
    classify_confidence,
    folder_ready,
    parse_arguments,
)
from pywats_station.converters.builtin.csv import CsvConverter
from tests.station.converters.helpers import make_ctx


class JsonOnly(FileConverter):
    name: ClassVar[str] = "json-only"
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "report_*.TXT")

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        return Skipped(reason="test")


class Run(FolderConverter):
    expected: ClassVar[tuple[str, ...]] = ("header.txt", "*.csv")
    min_files: ClassVar[int] = 3

    def convert(self, folder: Path, ctx: ConverterContext) -> ConversionResult:
        return Skipped(reason="test")


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    column: str
    low: float | None = None

    def __post_init__(self) -> None:
        if self.column == "bad":
            raise ValueError("column 'bad' is reserved")


class Args(msgspec.Struct, forbid_unknown_fields=True):
    process: str | int
    count: int = 1
    ratio: float = 0.5
    enabled: bool = True
    mode: Literal["a", "b"] = "a"
    items: list[Inner] = msgspec.field(default_factory=list)


class WithArgs(FileConverter):
    Arguments: ClassVar[type[msgspec.Struct]] = Args

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        return Skipped(reason="test")


# --- patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.json", True),
        ("A.JSON", True),
        ("Report_7.txt", True),
        ("report_7.TXT", True),
        ("a.json.tmp", False),
        ("notes.txt", False),
    ],
)
def test_patterns_match_in_any_case(tmp_path: Path, name: str, expected: bool) -> None:
    converter = JsonOnly()
    path = tmp_path / name
    assert converter.matches(path) is expected
    ctx = make_ctx(JsonOnly)
    assert converter.validate(path, ctx).confidence == (0.5 if expected else 0.0)


def test_default_patterns_match_everything(tmp_path: Path) -> None:
    assert WithArgs.patterns == ("*",)
    assert WithArgs().matches(tmp_path / "anything.bin")


# --- folder readiness -----------------------------------------------------------------------


def test_folder_is_ready_with_its_marker(tmp_path: Path) -> None:
    assert not Run().is_ready(tmp_path)
    (tmp_path / "complete.MARKER").touch()  # any case, like the patterns
    assert Run().is_ready(tmp_path)


def test_folder_needs_min_files_and_every_expected_pattern(tmp_path: Path) -> None:
    run = Run()
    (tmp_path / "header.txt").touch()
    (tmp_path / "a.csv").touch()
    assert not run.is_ready(tmp_path)  # two files, three needed
    (tmp_path / "notes.log").touch()
    assert run.is_ready(tmp_path)
    (tmp_path / "header.txt").unlink()
    (tmp_path / "b.csv").touch()
    assert not run.is_ready(tmp_path)  # three files, but header.txt is missing


def test_sub_directories_do_not_count_as_files(tmp_path: Path) -> None:
    (tmp_path / "header.txt").touch()
    (tmp_path / "a.csv").touch()
    (tmp_path / "sub").mkdir()
    (tmp_path / "x.csv").mkdir()  # a folder that matches a pattern is still no file
    assert not Run().is_ready(tmp_path)
    (tmp_path / "COMPLETE.marker").mkdir()  # nor is a folder named like the marker
    assert not Run().is_ready(tmp_path)


def test_folder_ready_without_a_count_rule_waits_for_the_marker(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").touch()
    assert not folder_ready(tmp_path, marker="DONE", min_files=0)
    assert folder_ready(tmp_path, marker=None, min_files=5)
    assert not folder_ready(tmp_path, marker=None, min_files=6)
    assert not folder_ready(tmp_path / "gone", marker="DONE", min_files=1)


def test_default_folder_converter_waits_for_the_marker(tmp_path: Path) -> None:
    class Plain(FolderConverter):
        def convert(self, folder: Path, ctx: ConverterContext) -> ConversionResult:
            return Skipped(reason="test")

    assert not Plain().is_ready(tmp_path)
    (tmp_path / "data.bin").touch()
    assert not Plain().is_ready(tmp_path)  # files alone do not make a run complete
    (tmp_path / "COMPLETE.marker").touch()
    assert Plain().is_ready(tmp_path)


# --- arguments ------------------------------------------------------------------------------


def test_arguments_are_parsed_with_coercion() -> None:
    raw = {"process": "PCBA test", "count": "5", "ratio": "0.25", "enabled": "false"}
    args = parse_arguments(WithArgs, raw)
    assert args == Args(process="PCBA test", count=5, ratio=0.25, enabled=False)


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        ({"process": 1, "colour": "red"}, "arguments.colour", "unknown argument"),
        ({}, "arguments.process", "is required"),
        ({"process": 1, "count": "many"}, "arguments.count", "expected `int`, got `str`"),
        ({"process": 1, "mode": "c"}, "arguments.mode", "invalid enum value 'c'"),
        ({"process": 1, "items": [{"low": 1}]}, "arguments.items[0].column", "is required"),
        (
            {"process": 1, "items": [{"column": "x", "low": "high"}]},
            "arguments.items[0].low",
            "expected `float | null`",
        ),
        (
            {"process": 1, "items": [{"column": "x", "lo": 1}]},
            "arguments.items[0].lo",
            "unknown argument",
        ),
        ({"process": 1, "items": [{"column": "bad"}]}, "arguments.items[0]", "reserved"),
    ],
)
def test_argument_errors_name_the_key(raw: dict[str, object], key: str, problem: str) -> None:
    with pytest.raises(ConverterConfigError) as caught:
        parse_arguments(WithArgs, raw)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{key}: ")


def test_unknown_argument_lists_the_known_ones() -> None:
    with pytest.raises(ConverterConfigError, match=r"known: process, count, ratio"):
        parse_arguments(WithArgs, {"process": 1, "colour": "red"})


def test_a_converter_without_arguments_refuses_any() -> None:
    assert parse_arguments(JsonOnly, {}) == NoArguments()
    with pytest.raises(ConverterConfigError, match=r"^arguments\.x: unknown argument"):
        parse_arguments(JsonOnly, {"x": 1})


def test_the_example_configuration_arguments_of_the_csv_converter_parse() -> None:
    # As in config-examples/multi-converter.toml.
    raw = {
        "delimiter": ";",
        "encoding": "latin-1",
        "part_number": "PCBA-1001",
        "process_code": 10,
        "skip_rows": 0,
    }
    args = parse_arguments(CsvConverter, raw)
    assert msgspec.structs.asdict(args)["part_number"] == "PCBA-1001"


# --- thresholds and validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "verdict"),
    [(0.0, "reject"), (0.19, "reject"), (0.2, "alarm"), (0.49, "alarm"), (0.5, "ok"), (1.0, "ok")],
)
def test_classify_confidence(confidence: float, verdict: str) -> None:
    v = Validation(confidence=confidence)
    assert classify_confidence(v, alarm=0.5, reject=0.2) == verdict


@pytest.mark.parametrize("confidence", [-0.1, 1.01])
def test_confidence_must_be_between_0_and_1(confidence: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Validation(confidence=confidence)


# --- processes ------------------------------------------------------------------------------


def test_process_code_by_name_in_any_case_or_by_code() -> None:
    ctx = make_ctx(JsonOnly)
    assert ctx.process_code("pcba TEST") == 50
    assert ctx.process_code(" SW Debug ") == 10
    assert ctx.process_code(50) == 50
    assert ctx.process_code("500") == 500


def test_unknown_process_names_the_known_ones() -> None:
    ctx = make_ctx(JsonOnly)
    with pytest.raises(ConversionError, match=r"unknown process 'ICT' \(known: 10 SW Debug, 50"):
        ctx.process_code("ICT")
    with pytest.raises(ConversionError, match="unknown process 77"):
        ctx.process_code(77)
    assert ctx.process_code("ICT", default=60) == 60


def test_offline_station_accepts_codes_but_not_names() -> None:
    ctx = make_ctx(JsonOnly, processes=[])
    assert ctx.process_code(77) == 77
    assert ctx.process_code("77") == 77
    with pytest.raises(ConversionError, match="no process list has been synced"):
        ctx.process_code("PCBA test")


def test_now_is_aware_local_time() -> None:
    now = make_ctx(JsonOnly).now()
    assert now.tzinfo is not None
    assert now.utcoffset() is not None


def test_typed_arguments() -> None:
    ctx = make_ctx(WithArgs, {"process": 10})
    assert ctx.args(Args).process == 10
    with pytest.raises(TypeError, match="not NoArguments"):
        ctx.args(NoArguments)


# --- classes and results --------------------------------------------------------------------


def test_converter_names_default_to_the_class_name() -> None:
    assert JsonOnly.name == "json-only"
    assert Run.name == "Run"

    class Child(JsonOnly):
        pass

    class Base(FileConverter):
        pass

    class Concrete(Base):
        def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
            return Skipped(reason="test")

    assert Child.name == "json-only"  # a name set by hand is inherited
    assert Concrete.name == "Concrete"  # an automatic one is not


def test_scheduled_converter_defaults() -> None:
    class Poll(ScheduledConverter):
        def run(self, ctx: ConverterContext) -> ConversionResult:
            return Converted(reports=[])

    assert Poll.schedule == "every 1h"
    assert Poll.run_at_startup is False
    assert Poll.type == "scheduled"


def test_results_round_trip_as_tagged_json() -> None:
    results: list[ConversionResult] = [
        Converted(reports=[]),
        Skipped(reason="a log file"),
        Suspended(reason="no companion file", retry_after=5.0),
        Failed(reason="line 3: bad"),
    ]
    data = msgspec.json.encode(results)
    assert b'"outcome":"suspended"' in data
    assert msgspec.json.decode(data, type=list[ConversionResult]) == results
