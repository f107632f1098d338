"""The Config screen through Pilot, against a configuration file handled by the daemon's own
``config.get``/``config.set`` code (so validation messages and redaction are the real ones)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest
from textual.widgets import DataTable, Input, Static

from pywats_station.actors.control_config import commit_change, lookup, plan_change
from pywats_station.config import config_from_dict, redacted
from pywats_station.control import ControlError, ErrorCode
from pywats_station.control import models as m
from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens.config import (
    ADMIN_HINT,
    ConfigScreen,
    flatten_config,
    parse_value,
    toml_value,
)
from pywats_station.tui.screens.confirm import Confirm
from tests.tui.fake import FakeLink

pytestmark = pytest.mark.anyio

API_TOKEN = "wats-api-token-do-not-show-0123456789"
CONFIG = f"""\
[server]
url = "https://wats.example.com"
token = "{API_TOKEN}"

[station]
name = "ict-01"
location = "Line 3"

[queue]
upload_workers = 4

[[converters]]
name = "ict"
kind = "teradyne_spectrum"
watch = "/srv/ict/in"
arguments = {{ layout = "a", api_key = "converter-secret-0123456789" }}
"""


def serve_config(link: FakeLink, path: Path) -> None:
    """``config.get``/``config.set`` as the daemon answers them, on the file at ``path``."""
    path.write_text(CONFIG)

    def load() -> dict[str, Any]:
        config, _, _ = config_from_dict(tomllib.loads(path.read_text()), env={})
        return redacted(config)

    def get(params: dict[str, Any]) -> dict[str, Any]:
        asked = msgspec.convert(params, m.ConfigGetParams)
        result = {"key": asked.key, "value": lookup(load(), asked.key), "path": str(path)}
        msgspec.convert(result, m.ConfigGetResult)
        return result

    def set_(params: dict[str, Any]) -> dict[str, Any]:
        asked = msgspec.convert(params, m.ConfigSetParams)
        change = plan_change(path, {}, asked.key, asked.value)
        saved = not asked.dry_run and bool(change.changed)
        if saved:
            commit_change(path, {}, change)
        result = {
            "changed": change.changed,
            "restarted": ["uploader"] if saved and asked.key.startswith("queue") else [],
            "saved": saved,
        }
        msgspec.convert(result, m.ConfigSetResult)
        return result

    link.handlers["config.get"] = get
    link.handlers["config.set"] = set_


def rows(app: StationTui) -> dict[str, str]:
    table = app.screen.query_one("#config-table", DataTable)
    cells = (table.get_row_at(i) for i in range(table.row_count))
    return {str(key): str(value) for key, value in cells}


def text_of(app: StationTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def set_calls(link: FakeLink) -> list[dict[str, Any]]:
    return [params for method, params in link.calls if method == "config.set"]


async def settle(pilot: Any) -> None:
    await pilot.pause(REDRAW_INTERVAL * 2)


async def go_to(pilot: Any, app: StationTui, key: str) -> None:
    """Show the config screen and put the cursor on ``key``."""
    await pilot.press("5")
    await settle(pilot)
    keys = list(rows(app))
    await pilot.press(*["down"] * keys.index(key))


async def edit(pilot: Any, text: str) -> None:
    """Replace the edit field's text and submit it."""
    await pilot.press("ctrl+u", *text, "enter")
    await settle(pilot)


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8", 8),
        ("2.5", 2.5),
        ("true", True),
        ('"8"', "8"),
        ('["*.txt", "*.log"]', ["*.txt", "*.log"]),
        ('{name = "x"}', {"name": "x"}),
        ("/srv/ict/in", "/srv/ict/in"),  # not TOML: a plain string
        ("500 MB", "500 MB"),
        ("  Line 4 ", "Line 4"),
        ("", ""),
        ("1979-05-27", "1979-05-27"),  # a TOML date cannot travel as JSON
        ("1\nx = 2", "1\nx = 2"),  # two keys, not a value
    ],
)
def test_parse_value_reads_toml_and_falls_back_to_a_string(text: str, value: Any) -> None:
    assert parse_value(text) == value


def test_toml_value_round_trips_through_parse_value() -> None:
    for value in (8, 2.5, True, 'a "quoted" path', ["*.txt"], {"name": "", "odd key": 1}):
        assert parse_value(toml_value(value)) == value


def test_flatten_config_names_converters_by_name() -> None:
    config, _, _ = config_from_dict(tomllib.loads(CONFIG), env={})
    flat = dict(flatten_config(redacted(config)))
    assert flat["queue.upload_workers"] == 4
    assert flat["converters.ict.watch"] == "/srv/ict/in"
    assert flat["converters.ict.arguments.layout"] == "a"
    assert flat["converters.ict.arguments.api_key"] == "***"
    assert flat["server.token"] == "***"


# --- the screen ------------------------------------------------------------------------------


async def test_shows_the_configuration_without_secrets(tmp_path: Path) -> None:
    link = FakeLink()
    serve_config(link, tmp_path / "config.toml")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, ConfigScreen)
        shown = rows(app)
        assert shown["station.location"] == '"Line 3"'
        assert shown["queue.upload_workers"] == "4"
        assert shown["converters.ict.watch"] == '"/srv/ict/in"'
        assert "hidden" in shown["server.token"]
        assert "hidden" in shown["converters.ict.arguments.api_key"]
        assert not any(API_TOKEN in v or "converter-secret" in v for v in shown.values())
        assert str(tmp_path / "config.toml") in text_of(app, "#config-head")
        # A hidden value is not offered for editing ("***" would be saved as the value).
        keys = list(shown)
        await pilot.press(*["down"] * keys.index("server.token"), "e")
        assert not app.screen.query_one("#config-edit").display


async def test_a_refused_value_is_shown_under_the_field_and_the_edit_stays(
    tmp_path: Path,
) -> None:
    link = FakeLink()
    serve_config(link, tmp_path / "config.toml")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "queue.upload_workers")
        await pilot.press("e")
        field = app.screen.query_one("#config-input", Input)
        assert field.value == "4"
        await edit(pilot, "0")
        assert set_calls(link) == [{"key": "queue.upload_workers", "value": 0, "dry_run": True}]
        message = text_of(app, "#config-message")
        assert "must be 1-64; got 0" in message
        assert app.screen.query_one("#config-edit").display
        assert app.focused is field
        assert not isinstance(app.screen, Confirm)
        # A string where a number belongs: refused in place too.
        await edit(pilot, "many")
        assert set_calls(link)[-1]["value"] == "many"
        assert "expected int" in text_of(app, "#config-message")
        # A refusal with no problems list (another code) is shown in place as well.
        link.refuse("config.set", ErrorCode.INVALID_PARAMS, "invalid params: bad value")
        await edit(pilot, "5")
        assert "invalid params: bad value" in text_of(app, "#config-message")
        await pilot.press("escape")
        assert not app.screen.query_one("#config-edit").display
        assert all(call.get("dry_run") for call in set_calls(link))


async def test_a_refused_section_is_shown_in_place(tmp_path: Path) -> None:
    link = FakeLink()
    serve_config(link, tmp_path / "config.toml")
    app = StationTui([link])
    async with app.run_test(size=(120, 40)) as pilot:
        await go_to(pilot, app, "control.listen")
        await pilot.press("enter")  # Enter on a row edits it too
        await edit(pilot, '"0.0.0.0:8765"')
        assert "cannot be changed over the control channel" in text_of(app, "#config-message")


async def test_edit_shows_the_change_and_saves_only_on_yes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    link = FakeLink()
    serve_config(link, path)
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "queue.upload_workers")
        await pilot.press("e")
        await edit(pilot, "8")
        assert isinstance(app.screen, Confirm)
        detail = str(app.screen.query_one("#confirm-detail", Static).render())
        assert "old: 4" in detail
        assert "new: 8" in detail
        assert "changes: queue.upload_workers" in detail
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConfigScreen)
        assert [c.get("dry_run") for c in set_calls(link)] == [True]
        assert "not saved" in text_of(app, "#config-message")
        assert "upload_workers = 4" in path.read_text()
        # Again, and yes this time.
        await edit(pilot, "8")
        await pilot.press("y")
        await settle(pilot)
        assert set_calls(link)[-1] == {"key": "queue.upload_workers", "value": 8}
        assert "upload_workers = 8" in path.read_text()
        assert not app.screen.query_one("#config-edit").display
        assert rows(app)["queue.upload_workers"] == "8"  # read again after saving
        assert [method for method, _ in link.calls].count("config.get") >= 2


async def test_a_size_typed_without_quotes_is_saved_as_a_string(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    link = FakeLink()
    serve_config(link, path)
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "queue.max_bytes")
        await pilot.press("e")
        await edit(pilot, "2 GiB")
        assert isinstance(app.screen, Confirm)
        assert 'new: "2 GiB"' in str(app.screen.query_one("#confirm-detail", Static).render())
        await pilot.press("y")
        await settle(pilot)
        assert rows(app)["queue.max_bytes"] == '"2 GiB"'


async def test_a_save_that_fails_keeps_the_edit_open(tmp_path: Path) -> None:
    link = FakeLink()
    serve_config(link, tmp_path / "config.toml")
    dry_run = link.handlers["config.set"]

    def conflict(params: dict[str, Any]) -> Any:
        if params.get("dry_run"):
            return dry_run(params)
        raise ControlError(ErrorCode.CONFLICT, "config.toml changed on disk meanwhile")

    link.handlers["config.set"] = conflict
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "station.location")
        await pilot.press("e")
        await edit(pilot, "Line 4")
        await pilot.press("y")
        await settle(pilot)
        assert "changed on disk meanwhile" in text_of(app, "#config-message")
        assert app.screen.query_one("#config-edit").display


async def test_operator_sees_the_configuration_but_cannot_edit(tmp_path: Path) -> None:
    link = FakeLink(role="operator")
    serve_config(link, tmp_path / "config.toml")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "queue.upload_workers")
        assert rows(app)["queue.upload_workers"] == "4"
        assert ADMIN_HINT in text_of(app, "#config-head")
        edit_key = app.screen.active_bindings["e"]
        assert not edit_key.enabled  # greyed out in the footer
        await pilot.press("e", "enter")
        await settle(pilot)
        assert not app.screen.query_one("#config-edit").display
        assert set_calls(link) == []


async def test_a_lost_link_keeps_the_last_configuration(tmp_path: Path) -> None:
    link = FakeLink()
    serve_config(link, tmp_path / "config.toml")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to(pilot, app, "queue.upload_workers")
        link.go_down()
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert rows(app)["queue.upload_workers"] == "4"
        assert "not connected" in text_of(app, "#config-head")
        await pilot.press("e")
        await edit(pilot, "8")
        assert "not connected" in text_of(app, "#config-message")
        # Back online: the configuration is read again (it may have changed meanwhile).
        (tmp_path / "config.toml").write_text(
            CONFIG.replace("upload_workers = 4", "upload_workers = 6")
        )
        link.go_online()
        await settle(pilot)
        assert rows(app)["queue.upload_workers"] == "6"
        assert "not connected" not in text_of(app, "#config-head")
