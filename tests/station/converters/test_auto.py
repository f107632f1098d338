"""The ``auto`` converter: one watch folder, each file converted by the built-in that knows it."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import msgspec
import pytest

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats_station.actors.converters import load_one
from pywats_station.cli import main
from pywats_station.config import ConverterConfig
from pywats_station.converters import (
    ConversionResult,
    Converted,
    ConverterConfigError,
    Failed,
    parse_arguments,
)
from pywats_station.converters._placement import convert_builtin
from pywats_station.converters.api import ConverterContext
from pywats_station.converters.builtin._auto_select import candidate_kinds
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.auto import MISC_DESCRIPTION, AutoConverter
from pywats_station.converters.sandbox import ContextData, run_conversion
from tests.station.converters.helpers import DATA, PROCESSES, STATION

UNITS_CSV = "Serial\tV_3V3\tResult\nU-1\t3.31\tPASS\nU-2\t3.50\tFAIL\n"
CSV_ARGS = {
    "layout": "units",
    "part_number": "PSU-12",
    "revision": "A",
    "process_code": 50,
    "measurements": [{"column": "V_3V3", "low": 3.2, "high": 3.4, "comp": "GELE"}],
}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def context(arguments: dict[str, object] | None = None) -> tuple[ConverterContext, Records]:
    records = Records()
    log = logging.Logger("tests.auto")  # not in the hierarchy: records stay here
    log.addHandler(records)
    parsed = parse_arguments(AutoConverter, arguments or {})
    return ConverterContext(STATION, PROCESSES, parsed, log), records


def report_file(folder: Path, name: str = "uut.json", *, agree: bool = True) -> tuple[Path, str]:
    b = ReportBuilder.uut(pn="PN-1", sn="SN-1", rev="A", process_code=50, station="ST",
                          location="L", purpose="Production")  # fmt: skip
    b.root.numeric("3V3", 3.3, CompOp.GELE, low=3.2, high=3.4, unit="V")
    report = b.build()
    if not agree:  # a step whose status is not its measurement's: the live server refuses it
        assert report.root is not None
        assert report.root.steps
        step = report.root.steps[0]
        assert step.numeric_meas
        step.numeric_meas[0].status = "F"
    path = folder / name
    path.write_bytes(wsjf.dumps(report))
    return path, str(report.id)


def converted(result: ConversionResult) -> list[UUTReport | UURReport]:
    assert isinstance(result, Converted), result
    return result.reports


def kind_of(report: UUTReport | UURReport) -> str | None:
    found = [m.text for m in report.misc_infos or () if m.description == MISC_DESCRIPTION]
    assert len(found) == 1
    return found[0]


# --- arguments ---------------------------------------------------------------------------------


def test_every_file_builtin_is_a_candidate_with_its_own_arguments_table() -> None:
    args = parse_arguments(AutoConverter, {})
    assert msgspec.structs.asdict(args)["kinds"] == []
    assert msgspec.structs.asdict(args)["threshold"] == 0.5
    for kind in candidate_kinds():
        assert kind != "auto"
        assert hasattr(args, kind), kind
    assert "auto" not in candidate_kinds()


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        ({"wstf": {"proces": 50}}, "arguments.wstf.proces", "unknown argument"),
        ({"csv": {"layout": "rows"}}, "arguments.csv.layout", "invalid enum value 'rows'"),
        ({"kinds": ["wsjf", "wstff"]}, "arguments.kinds[1]", "invalid enum value 'wstff'"),
        ({"kinds": ["auto"]}, "arguments.kinds[0]", "invalid enum value 'auto'"),
        ({"threshold": 1.5}, "arguments.threshold", "expected `float` <= 1.0"),
        ({"kind": ["wsjf"]}, "arguments.kind", "unknown argument"),
    ],
)
def test_a_wrong_argument_is_named_by_its_key(
    raw: dict[str, object], key: str, problem: str
) -> None:
    with pytest.raises(ConverterConfigError) as caught:
        parse_arguments(AutoConverter, raw)
    assert (caught.value.key, caught.value.problem[: len(problem)]) == (key, problem)


def test_a_typo_in_a_kinds_arguments_breaks_the_converter_at_start(tmp_path: Path) -> None:
    cfg = ConverterConfig(
        name="line-3", kind="auto", watch=str(tmp_path), arguments={"wstf": {"procss": 50}}
    )
    loaded = load_one(cfg, base_dir=tmp_path, station=STATION)
    assert loaded.stats.state == "broken"
    assert loaded.stats.error is not None
    assert loaded.stats.error.startswith("arguments.wstf.procss: unknown argument")


def test_config_check_names_a_kinds_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)
    config = tmp_path / "home" / "config" / "default" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "line-3"
            kind = "auto"
            watch = "{tmp_path / "in"}"

            [converters.arguments]
            kinds = ["wstf", "csv"]
            csv = {{layout = "units", part_numbr = "PSU-12"}}
            """
        ),
        encoding="utf-8",
    )
    assert main(["config", "check"]) == 3
    assert "converters.line-3.arguments.csv.part_numbr: unknown argument" in capsys.readouterr().err


# --- choosing and converting -----------------------------------------------------------------


def test_each_file_is_converted_by_the_kind_that_recognises_it(tmp_path: Path) -> None:
    ctx, records = context({"csv": CSV_ARGS})
    auto = AutoConverter()
    json_path, report_id = report_file(tmp_path)
    csv_path = tmp_path / "line [7].tsv"
    csv_path.write_text(UNITS_CSV, encoding="utf-8")
    cases = [(json_path, "wsjf", 1), (DATA / "wstf_multi.txt", "wstf", 2), (csv_path, "csv", 2)]
    for path, kind, count in cases:
        validation = auto.validate(path, ctx)
        assert validation.confidence >= 0.5
        assert validation.message is not None
        assert validation.message.split(":")[0] == kind
        reports = converted(run_conversion(auto, path, ctx))
        assert len(reports) == count
        assert {kind_of(r) for r in reports} == {kind}
        assert f"{path.name}: read as {kind} (confidence " in "\n".join(records.lines)
    assert str(converted(run_conversion(auto, json_path, ctx))[0].id) == report_id


def test_ids_of_other_kinds_come_from_the_content(tmp_path: Path) -> None:
    """Converted twice (a crash before the post action), a file makes the same reports."""
    ctx, _ = context()
    auto = AutoConverter()
    first = [r.id for r in converted(run_conversion(auto, DATA / "wstf_multi.txt", ctx))]
    copy = tmp_path / "again.txt"
    copy.write_bytes((DATA / "wstf_multi.txt").read_bytes())
    again = [r.id for r in converted(run_conversion(AutoConverter(), copy, ctx))]
    assert first == again
    assert len(set(first)) == 2
    copy.write_bytes(copy.read_bytes().replace(b"SN-1001", b"SN-1003"))
    changed = [r.id for r in converted(run_conversion(auto, copy, ctx))]
    assert not set(changed) & set(first)


def test_a_file_no_candidate_recognises_fails_naming_the_best_guess(tmp_path: Path) -> None:
    ctx, _ = context()
    auto = AutoConverter()
    path = tmp_path / "notes.txt"
    path.write_text("Shift notes\nfixture 7 cleaned\n", encoding="utf-8")
    validation = auto.validate(path, ctx)
    assert validation.confidence < 0.5
    result = run_conversion(auto, path, ctx)
    assert isinstance(result, Failed)
    assert result.reason.startswith("no converter recognises this file; best guess: ")
    assert validation.message == result.reason


def test_only_the_kinds_given_are_candidates(tmp_path: Path) -> None:
    path, _ = report_file(tmp_path)
    ctx, _ = context({"kinds": ["wstf", "csv"]})
    result = run_conversion(AutoConverter(), path, ctx)
    assert isinstance(result, Failed)
    assert result.reason.startswith("no converter recognises this file; best guess: wstf at 0.00")


def test_the_kinds_own_arguments_are_used(tmp_path: Path) -> None:
    """Without its column mapping the csv converter cannot claim the file; with it, it can."""
    path = tmp_path / "line.tsv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    bare, _ = context()
    assert isinstance(run_conversion(AutoConverter(), path, bare), Failed)
    mapped, _ = context({"csv": CSV_ARGS})
    reports = converted(run_conversion(AutoConverter(), path, mapped))
    assert [r.pn for r in reports] == ["PSU-12", "PSU-12"]


def test_a_failure_of_the_chosen_kind_says_which_kind_failed(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes((DATA / "wstf_multi.txt").read_bytes().split(b"--Step-Data-End--")[0])
    ctx, _ = context()
    result = run_conversion(AutoConverter(), path, ctx)
    assert isinstance(result, Failed)
    assert result.reason.startswith("wstf: the file ends at line ")


def test_the_strict_argument_of_the_chosen_kind_applies(tmp_path: Path) -> None:
    path, _ = report_file(tmp_path, agree=False)
    lenient, _ = context()
    assert isinstance(run_conversion(AutoConverter(), path, lenient), Converted)
    strict, _ = context({"wsjf": {"strict": True}})
    result = run_conversion(AutoConverter(), path, strict)
    assert isinstance(result, Failed)
    assert result.reason.startswith("invalid report: report 1 of 1 (sn 'SN-1'): ")


def test_a_big_file_is_chosen_and_converted_in_a_child_process(tmp_path: Path) -> None:
    """Above child_process_above the daemon converts in a child: it parses the same arguments
    (a table per kind) and chooses the same way."""
    path = tmp_path / "line.tsv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    ctx, _ = context({"csv": CSV_ARGS})
    data = ContextData(station=STATION, processes=PROCESSES, arguments={"csv": CSV_ARGS})
    result = convert_builtin(
        AutoConverter(), "auto", path, ctx, data, limits=OutputLimits(), child_above=0
    )
    reports = converted(result)
    assert {kind_of(r) for r in reports} == {"csv"}
    assert [r.sn for r in reports] == ["U-1", "U-2"]
