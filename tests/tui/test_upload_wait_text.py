"""The dashboard's server panel says when uploads wait, and for how long."""

from __future__ import annotations

from pywats_station.tui.model import StationModel
from pywats_station.tui.screens.dashboard import server_text

WAIT = {
    "reason": "retry_after",
    "until": 1_000.0,
    "detail": "the server answered 429 with Retry-After: 30 s",
}


def test_the_server_panel_shows_an_upload_wait_until_it_ends() -> None:
    model = StationModel(label="line 1")
    model.status = {"server_url": "http://wats", "connection": "online", "upload_wait": WAIT}
    shown = server_text(model, now=970.0).plain
    assert "uploads wait 30 s: the server answered 429 with Retry-After: 30 s" in shown
    assert "uploads wait" not in server_text(model, now=1_000.0).plain  # over: not shown
    model.status = {"server_url": "http://wats", "connection": "online", "upload_wait": None}
    assert "uploads wait" not in server_text(model, now=970.0).plain
