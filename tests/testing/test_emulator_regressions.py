"""Regression tests for emulator bugs found by the first test pass."""

from __future__ import annotations

import gc
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import pytest

from pywats import pyWATS
from pywats.models.report import Asset
from pywats.testing import FakeWATS
from pywats.testing.pytest_plugin import start_emulator
from tests.testing.conftest import ATTACHMENT_BYTES, TOKEN, URL, make_uut


# Bug 1 - pywats/testing/__main__.py:52: `except OSError` never sees the bind error, which trio
# wraps in an ExceptionGroup: a traceback instead of "cannot serve on HOST:PORT: …".
@pytest.mark.e2e
def test_cli_on_a_port_in_use_says_so_readably() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pywats.testing", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: " in result.stderr
    assert "Traceback" not in result.stderr


# Bug 2 - pywats/testing/_report_routes.py get_attachment (and _headers.build_header): step ids
# are assigned on export only, so a report sent without step ids shows its attachment at step 3
# but GET /api/Report/Attachment?stepId=3 is 404, and the header's attachments[].stepId is null.
def test_attachment_by_the_step_id_the_server_gave(fake_wats: FakeWATS) -> None:
    with pyWATS(URL, TOKEN, transport=fake_wats) as api:
        report_id = api.report.submit_report(make_uut(step_ids=False))
        back = api.report.get_report(report_id)
        step_id = next(s.id for s in back.steps() if s.attachment is not None)
        assert step_id == 3
        [header] = api.report.query_headers(expand=["attachments"])

        assert [a.step_id for a in header.attachments or ()] == [3]
        assert api.report.get_attachment(report_id, step_id=3) == ATTACHMENT_BYTES


# Bug 3 - pywats/testing/_meta_routes.py get_token: the token's owner comes from an
# `x-emulator-user` header (default "api"), not from the caller's identity, so a reset by
# another user revokes the default test-token (and mints a token for user "api").
def test_get_token_reset_only_touches_the_callers_tokens(fake_wats: FakeWATS) -> None:
    fake_wats.state.add_token("alice-token", "alice")
    with httpx.Client(transport=fake_wats, base_url=URL) as http:
        minted = http.get(
            "/api/Auth/GetToken",
            params={"reset": "true"},
            headers={"Authorization": "Basic alice-token"},
        )
        still = http.get("/api/App/Version", headers={"Authorization": f"Basic {TOKEN}"})

    assert minted.status_code == 200
    assert fake_wats.state.tokens[minted.json()].user == "alice"
    assert still.status_code == 200


# Bug 4 - pywats/testing/pytest_plugin.py EmulatorProcess.stop(): the stdout pipe opened by
# start_emulator() is never closed; its ResourceWarning becomes an error under the project's
# filterwarnings = error (in whichever test runs next, so every `wats_server` user is hit).
@pytest.mark.e2e
def test_stopping_the_emulator_leaks_nothing() -> None:
    server = start_emulator()
    assert server.stop() == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del server
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# Bug 5 - pywats/testing/_emulator.py _index(): asset counters are not rebuilt from a data_dir,
# so after a restart assetStats restart from zero.
def test_asset_counts_survive_a_restart(tmp_path: Path) -> None:
    report = make_uut()
    report.assets = [Asset(asset_sn="PROBE-1", usage_count=3)]
    first = FakeWATS(TOKEN, data_dir=tmp_path)
    with pyWATS(URL, TOKEN, transport=first) as api:
        api.report.submit_report(report)
    first.close()

    second = FakeWATS(TOKEN, data_dir=tmp_path)
    with pyWATS(URL, TOKEN, transport=second) as api:
        stats = api.report.get_report(report.id).asset_stats
    second.close()

    assert [(s.asset_sn, s.running_count, s.total_count) for s in stats or ()] == [
        ("PROBE-1", 3, 3)
    ]


# Bug 6 - pywats/testing/_emulator.py submitted_ids(): a dropped submit was stored (the
# receiveCount counts it) but is missing from submitted_ids(), documented as "ids of reports
# accepted so far (re-submits repeat)".
def test_submitted_ids_count_a_dropped_but_stored_submit(fake_wats: FakeWATS) -> None:
    fake_wats.faults.drop(count=1)
    report = make_uut()
    with pyWATS(URL, TOKEN, transport=fake_wats) as api:
        api.client._sleep = lambda delay: None
        api.report.submit_report(report)
        [header] = api.report.query_headers()

    assert header.receive_count == 2
    assert fake_wats.submitted_ids() == [str(report.id), str(report.id)]


# Doc mismatch 1 - pywats/testing/_faults.py module docstring: "checked in this order: down,
# drop, 429, 5xx, latency, submit rejection; the first that applies wins". Faults.decide()
# actually takes them in the order they were added.
def test_drop_wins_over_an_earlier_added_error(fake_wats: FakeWATS) -> None:
    fake_wats.faults.errors(503, count=1)
    fake_wats.faults.drop(count=1)
    with (
        httpx.Client(
            transport=fake_wats, base_url=URL, headers={"Authorization": f"Basic {TOKEN}"}
        ) as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.get("/api/App/Version")


# Doc mismatch 2 - docs/testing-with-the-emulator.md "Each fault can be limited with count=,
# fraction= and match=": a `down` fault ignores all three (Faults.decide checks only its kind).
def test_down_respects_match(fake_wats: FakeWATS) -> None:
    from pywats.testing import Fault

    fake_wats.faults.add(Fault(kind="down", seconds=60, match="/api/App/Version"))
    with httpx.Client(
        transport=fake_wats, base_url=URL, headers={"Authorization": f"Basic {TOKEN}"}
    ) as http:
        assert http.get("/api/App/Levels").status_code == 200
