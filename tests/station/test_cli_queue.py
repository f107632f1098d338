"""``pywats-station queue …`` on the queue itself (no daemon): one word per state, text output.

Through a running daemon: ``e2e/test_daemon.py`` and ``e2e/test_cli_e2e.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pywats_station.cli import main
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.queue import ReportQueue
from tests.station.e2e.harness import make_report


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstancePaths:
    """An instance whose queue holds one queued, one retrying and one dead entry."""
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path))
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)
    found = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path)})
    found.config_file.parent.mkdir(parents=True)
    found.config_file.write_text('[station]\nname = "s1"\n', encoding="utf-8")
    with ReportQueue.open(found.queue_dir, fsync=False) as queue:
        entries = [queue.put(*make_report(n), source="test") for n in range(3)]
        queue.fail(queue.start(entries[1]), error="503: try later\nsecond line")
        queue.reject(queue.start(entries[2]), reason="400: unknown process")
    return found


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["queue", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_has_a_header_and_says_retrying(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list")
    header, *rows = out.splitlines()
    assert code == 0
    assert header.split() == ["SEQ", "REPORT", "ID", "STATE", "CREATED", "NOTE"]
    assert [row.split()[2] for row in rows] == ["queued", "retrying", "dead"]
    assert rows[1].endswith("503: try later")  # the first line of the error
    assert "failed" not in out


def test_state_retrying_selects_what_the_queue_calls_failed(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list", "--state", "retrying", "--json")
    [entry] = json.loads(out)
    assert (code, entry["state"]) == (0, "failed")  # JSON: the control API's word
    _, out, _ = run(capsys, "list", "--state", "failed")  # the old word still understood
    assert [row.split()[2] for row in out.splitlines()[1:]] == ["retrying"]
    _, out, _ = run(capsys, "show", str(entry["seq"]))
    assert "state: retrying\n" in out
    _, out, _ = run(capsys, "list", "--state", "retrying")
    assert len(out.splitlines()) == 2


def test_retry_and_purge_take_retrying(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "retry", "retrying")[1] == "1 entry queued again\n"
    assert run(capsys, "list", "--state", "retrying")[1] == "no entries in state retrying\n"
    assert run(capsys, "purge", "dead", "--yes")[1] == "1 entry deleted\n"


def test_verify_prints_text_and_json_on_request(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify")
    assert (code, out) == (
        0,
        "3 entries ok, 0 corrupt (set aside in the queue's corrupt/ folder), "
        "0 orphan files removed\n",
    )
    code, out, _ = run(capsys, "verify", "--json")
    assert (code, json.loads(out)) == (0, {"ok": 3, "corrupt": 0, "orphans": 0})


def test_without_a_daemon_an_invalid_file_cannot_say_where_the_queue_is(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.config_file.write_text("[queue]\npath = 5\n", encoding="utf-8")
    code, out, err = run(capsys, "list")
    assert (code, out) == (3, "")
    assert "queue.path: expected str, got int" in err
    assert "the queue's folder (queue.path) is read from this file" in err
