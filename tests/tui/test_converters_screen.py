"""The Converters screen through Pilot: the table, actions on a converter, trying a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.tree import TreeNode

from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats_station.actors.control_methods import report_header
from pywats_station.control import ErrorCode
from pywats_station.control import models as m
from pywats_station.control._spec import Params
from pywats_station.control.registry import decode_params
from pywats_station.converters.api import Converted
from pywats_station.converters.tryit import try_convert
from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.screens.converters import ConvertersScreen
from pywats_station.tui.screens.tryfile import (
    TryFileScreen,
    complete_path,
    limits_text,
)
from tests.fixtures import real_file
from tests.tui.fake import FakeLink

pytestmark = pytest.mark.anyio

Pressed = tuple[str, dict[str, Any]]


async def settle(pilot: Pilot[None]) -> None:
    """Let redraws, calls and toasts happen: until the screen shown runs no worker (one of a
    screen under a question waits for the answer, and is not waited for)."""
    await pilot.pause(REDRAW_INTERVAL * 2)
    app = pilot.app
    for _ in range(200):
        if not any(w.is_running and w.node is app.screen for w in app.workers):
            break
        await pilot.pause(0.02)
    await pilot.pause()


def cells(app: StationTui, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(app: StationTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def toasts(app: StationTui) -> list[str]:
    return [n.message for n in app._notifications]


def calls_to(link: FakeLink, prefix: str) -> list[Pressed]:
    return [c for c in link.calls if c[0].startswith(prefix)]


def info(link: FakeLink, name: str, **changes: Any) -> dict[str, Any]:
    """A ``ConverterInfo`` as the daemon answers an action with, checked against its type."""
    found = next(c for c in link.converters if c["name"] == name)
    answer = {**found, **changes}
    msgspec.convert(answer, m.ConverterInfo)
    return answer


def tree_lines(tree: Tree[None]) -> list[str]:
    """Every node's label, depth first, indented by depth."""

    def walk(node: TreeNode[None], depth: int) -> Iterator[str]:
        for child in node.children:
            yield "  " * depth + str(child.label)
            yield from walk(child, depth + 1)

    return list(walk(tree.root, 0))


async def open_screen(pilot: Pilot[None]) -> None:
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConvertersScreen)


# --- the table -------------------------------------------------------------------------------


async def test_table_and_details_of_the_highlighted_converter() -> None:
    link = FakeLink()
    link.converters[0].update(
        refused=2,
        last_refused="x.json is a dangling symbolic link",
        station={"name": "tester-7", "location": "Line 2", "purpose": "Production"},
    )
    msgspec.convert({"converters": link.converters}, m.ConvertersListResult)
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        assert cells(app, "#conv-table") == [
            ["ict", "teradyne_spectrum", "watching", "80", "2", "2"],
            ["fct", "csv", "disabled", "0", "0", "0"],
        ]
        details = text_of(app, "#conv-details")
        for fact in (
            "/srv/ict/in",
            "*.txt",
            "board-17.txt",
            "line 3: not a Spectrum log",
            "x.json is a dangling symbolic link",
            "tester-7 · Line 2 · Production",
            "enabled",
        ):
            assert fact in details
        await pilot.press("down")
        details = text_of(app, "#conv-details")
        assert "fct" in details
        assert "/srv/fct/in" in details
        assert "disabled" in details


async def test_events_update_the_table() -> None:
    link = FakeLink()
    app = StationTui([link])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)
        link.event(
            "file_converted",
            {"converter": "ict", "path": "b.txt", "reports": ["r"], "duration": 0.1},
        )
        await settle(pilot)
        assert cells(app, "#conv-table")[0][3] == "81"
        assert "b.txt" in text_of(app, "#conv-details")
        # Wide: the details stand beside the table.
        table = app.screen.query_one("#conv-table")
        details = app.screen.query_one("#conv-details")
        assert details.region.x >= table.region.right


# --- actions ---------------------------------------------------------------------------------


async def test_enable_and_restart_send_their_calls_and_show_the_answer() -> None:
    link = FakeLink()
    link.handlers["converters.enable"] = lambda p: info(
        link, p["name"], enabled=True, state="watching"
    )
    link.handlers["converters.restart"] = lambda p: info(link, p["name"], state="starting")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("down", "e")
        await settle(pilot)
        assert calls_to(link, "converters.") == [("converters.enable", {"name": "fct"})]
        # The answer shows at once, before any snapshot.
        assert cells(app, "#conv-table")[1][2] == "watching"
        assert any("fct enabled" in t for t in toasts(app))
        await pilot.press("up", "r")
        await settle(pilot)
        assert calls_to(link, "converters.")[-1] == ("converters.restart", {"name": "ict"})
        assert cells(app, "#conv-table")[0][2] == "starting"
        assert any("ict restarted" in t for t in toasts(app))


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_disable_asks_first(answer: str) -> None:
    link = FakeLink()
    link.handlers["converters.disable"] = lambda p: info(
        link, p["name"], enabled=False, state="disabled"
    )
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert calls_to(link, "converters.") == []
        await pilot.press(answer)
        await settle(pilot)
        assert isinstance(app.screen, ConvertersScreen)
        if answer == "y":
            assert calls_to(link, "converters.") == [("converters.disable", {"name": "ict"})]
            assert cells(app, "#conv-table")[0][2] == "disabled"
        else:
            assert calls_to(link, "converters.") == []
            assert cells(app, "#conv-table")[0][2] == "watching"


async def test_a_refusal_is_shown_and_the_screen_goes_on() -> None:
    link = FakeLink(role="operator")
    link.refuse("converters.enable", ErrorCode.FORBIDDEN, "forbidden: needs admin")
    link.handlers["converters.restart"] = lambda p: info(link, p["name"], state="starting")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert any("needs admin" in t for t in toasts(app))
        assert isinstance(app.screen, ConvertersScreen)
        assert cells(app, "#conv-table")[0][2] == "watching"
        await pilot.press("r")
        await settle(pilot)
        assert calls_to(link, "converters.")[-1] == ("converters.restart", {"name": "ict"})


async def test_a_lost_link_during_an_action_is_a_toast() -> None:
    link = FakeLink()
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        link.go_down()
        await pilot.press("r")
        await settle(pilot)
        assert any("not connected" in t for t in toasts(app))
        assert cells(app, "#conv-table")[0][0] == "ict"


# --- try a file ------------------------------------------------------------------------------


def wire(report: UUTReport | UURReport) -> dict[str, Any]:
    """One ``ConvertedReport`` as the daemon builds it, with the report body
    (``include_report``)."""
    problems = [str(p) for p in report.validate(server_rules=False)]
    converted = m.ConvertedReport(
        report_id=str(report.id),
        header=report_header(report),
        steps=len(report.steps()),
        valid=not problems,
        problems=problems,
    )
    # The body as the daemon sends it: encoded as the queue stores it, then decoded.
    body = msgspec.json.decode(wsjf.dumps(report))
    return {**msgspec.to_builtins(converted), "report": body}


def real_conversion(path: Path, kind: str) -> dict[str, Any]:
    """A ``converters.convert_file`` result from converting a real file with a built-in."""
    tried = try_convert(path, kind=kind)
    assert isinstance(tried.result, Converted)
    result = {
        "ok": True,
        "converter": "ict",
        "reports": [wire(r) for r in tried.result.reports],
        "confidence": tried.validation.confidence if tried.validation else None,
        "warnings": [],
        "error": None,
        "duration": 0.25,
    }
    msgspec.convert(result, m.ConvertFileResult)
    return result


async def type_path(pilot: Pilot[None], text: str) -> None:
    for char in text:
        await pilot.press(char)


async def test_try_a_file_shows_the_steps_and_measurements() -> None:
    result = real_conversion(real_file("teradyne-gr228x", "43420_BIO2.LOG"), "teradyne_gr228x")
    link = FakeLink()
    link.handlers["converters.convert_file"] = lambda p: result
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TryFileScreen)
        path = app.screen.query_one("#try-path", Input)
        assert path.value == "/srv/ict/in/"  # the converter's watch folder
        await type_path(pilot, "43420_BIO2.LOG")
        await pilot.press("enter")
        await settle(pilot)
        assert calls_to(link, "converters.convert_file") == [
            (
                "converters.convert_file",
                {"path": "/srv/ict/in/43420_BIO2.LOG", "converter": "ict", "include_report": True},
            )
        ]
        summary = text_of(app, "#try-summary")
        assert "converted by ict in 0.25 s" in summary
        assert "3 reports" in summary
        lines = tree_lines(app.screen.query_one("#try-tree", Tree))
        text = "\n".join(lines)
        assert "report 2 of 3  SN 24422984989544535753 · PN 43420 rev 1 · op 10 · Failed" in text
        # The header, then the steps with status, value, unit and limits.
        assert any(line.strip() == "part     43420" for line in lines)
        assert any(line.strip() == "result   Failed" for line in lines)
        assert "Passed  R508(R)  100.20007 kΩ  (92.919 <= x <= 105.131)" in text
        assert "Passed  C206(CP)  10.212763 nF  (7.999999 <= x <= 12.000001)" in text
        assert "Passed  R402(R)  45.131532 MΩ  (x >= 0.5)" in text
        assert "Failed  OPENS test, failed" in text
        # Steps hang under their sequence.
        group = next(i for i, line in enumerate(lines) if line.endswith("R-Group1"))
        r508 = next(i for i, line in enumerate(lines) if "R508(R)" in line)
        assert group < r508
        assert lines[r508].index("P") > lines[group].index("P")
        await pilot.press("escape")
        assert isinstance(app.screen, ConvertersScreen)


async def test_try_a_file_with_named_measurements_and_loops() -> None:
    # The WSJF export of a real WATS server: multi-numeric steps, strings, loops.
    result = real_conversion(real_file("wsjf", "uut-wsjf-export.json"), "wsjf")
    link = FakeLink()
    link.handlers["converters.convert_file"] = lambda p: result
    app = StationTui([link])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot)
        await pilot.press("t", "x", "enter")
        await settle(pilot)
        text = "\n".join(tree_lines(app.screen.query_one("#try-tree", Tree)))
        assert "Failed  SingleEQFail  500 V  (x == 501)" in text
        assert "Passed  SingleGELTPass  500 V  (500 <= x < 501)" in text
        assert "Passed  SingleLog  10 A  (log)" in text
        assert "- Passed" in text  # the named measurements of a multi-numeric step
        assert "(loop:" in text


async def test_try_a_file_without_report_bodies_shows_the_summary() -> None:
    result = real_conversion(real_file("teradyne-gr228x", "43420_BIO2.LOG"), "teradyne_gr228x")
    for converted in result["reports"]:
        del converted["report"]  # a daemon without include_report
    result["warnings"] = ["confidence 0.40 is below the alarm threshold 0.50: flagged"]
    link = FakeLink()
    link.handlers["converters.convert_file"] = lambda p: result
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t", "x", "enter")
        await settle(pilot)
        assert "warning: confidence 0.40" in text_of(app, "#try-summary")
        text = "\n".join(tree_lines(app.screen.query_one("#try-tree", Tree)))
        assert "report 1 of 3" in text
        assert "summary only" in text
        assert "R508" not in text


class OlderConvertFileParams(Params, kw_only=True):
    """``converters.convert_file``'s params before ``include_report``."""

    path: str
    converter: str | None = None
    kind: str | None = None


async def test_an_older_daemon_refusing_include_report_is_asked_again_without() -> None:
    result = {"ok": True, "converter": "ict", "reports": [], "duration": 0.01}
    msgspec.convert(result, m.ConvertFileResult)
    link = FakeLink()

    def older_daemon(params: dict[str, Any]) -> dict[str, Any]:
        decode_params(OlderConvertFileParams, params)  # refuses as the daemon's registry does
        return result

    link.handlers["converters.convert_file"] = older_daemon
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t", "x", "enter")
        await settle(pilot)
        assert [p for _, p in calls_to(link, "converters.convert_file")] == [
            {"path": "/srv/ict/in/x", "converter": "ict", "include_report": True},
            {"path": "/srv/ict/in/x", "converter": "ict"},
        ]
        assert "converted by ict" in text_of(app, "#try-summary")
        assert not any("include_report" in t for t in toasts(app))


async def test_a_failed_conversion_shows_the_error() -> None:
    result = {
        "ok": False,
        "converter": "ict",
        "error": "line 3: not a Spectrum log (expected PROGRAM_NAME)",
        "duration": 0.02,
    }
    msgspec.convert(result, m.ConvertFileResult)
    link = FakeLink()
    link.handlers["converters.convert_file"] = lambda p: result
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t", "b", "enter")
        await settle(pilot)
        summary = text_of(app, "#try-summary")
        assert "not converted by ict" in summary
        assert "line 3: not a Spectrum log (expected PROGRAM_NAME)" in summary
        assert tree_lines(app.screen.query_one("#try-tree", Tree)) == []


async def test_a_missing_file_is_said_in_place() -> None:
    link = FakeLink()
    link.refuse("converters.convert_file", ErrorCode.NOT_FOUND, "/srv/ict/in/nope does not exist")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t", *"nope", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TryFileScreen)
        assert "not converted: /srv/ict/in/nope does not exist" in text_of(app, "#try-summary")
        # The path can be corrected and tried again.
        link.handlers["converters.convert_file"] = lambda p: {
            "ok": True,
            "converter": "ict",
            "duration": 0.0,
        }
        await pilot.press("backspace", "enter")
        await settle(pilot)
        assert calls_to(link, "converters.convert_file")[-1][1]["path"] == "/srv/ict/in/nop"
        assert "converted by ict" in text_of(app, "#try-summary")


async def test_the_path_completes_from_the_local_folder(tmp_path: Path) -> None:
    (tmp_path / "board-17.log").write_text("x")
    (tmp_path / "board-18.log").write_text("x")
    (tmp_path / "archive").mkdir()
    link = FakeLink()
    link.converters[0]["watch"] = str(tmp_path)
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot)
        await pilot.press("t")
        await type_path(pilot, "bo")
        await pilot.pause(0.2)
        await pilot.press("right")  # takes the completion
        path = app.screen.query_one("#try-path", Input)
        assert path.value == f"{tmp_path}/board-17.log"
        for _ in "7.log":
            await pilot.press("backspace")
        await type_path(pilot, "8")
        await pilot.pause(0.2)
        await pilot.press("right")
        assert path.value == f"{tmp_path}/board-18.log"


def test_complete_path(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "dump.txt").write_text("")
    (tmp_path / ".hidden").write_text("")
    assert complete_path(f"{tmp_path}/d") == f"{tmp_path}/data/"
    assert complete_path(f"{tmp_path}/du") == f"{tmp_path}/dump.txt"
    assert complete_path(f"{tmp_path}/dump.txt") is None
    assert complete_path(f"{tmp_path}/x") is None
    assert complete_path(f"{tmp_path}/.h") == f"{tmp_path}/.hidden"
    assert complete_path(f"{tmp_path}/") == f"{tmp_path}/data/"  # hidden ones need a dot
    assert complete_path(f"{tmp_path}/nowhere/a") is None


def test_limits_read_as_the_cli_reads_them() -> None:
    assert limits_text("GELE", 1.0, 2.5) == "1 <= x <= 2.5"
    assert limits_text("GT", 100.0, None) == "x > 100"
    assert limits_text("LOG", None, None) == "log"
    assert limits_text(None, None, None) == "log"
    assert limits_text("LTGT", 1, 2) == "x < 1 or x > 2"
