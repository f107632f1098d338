"""The daemon's control methods over in-memory streams, against a real daemon in this process."""

from __future__ import annotations

import importlib.resources
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import trio

from pywats.formats import wsjf
from pywats_station.actors import control_converters
from pywats_station.control import ControlError, ErrorCode
from pywats_station.control import methods as m
from pywats_station.converters import Converted
from pywats_station.converters.tryit import try_convert
from pywats_station.queue import EntryState
from tests.station.e2e.harness import make_report

from .daemon_helpers import API_TOKEN, no_secret, running_station, wait_until

pytestmark = pytest.mark.trio


def names(node: dict[str, object]) -> list[str]:
    children = node.get("children") or []
    assert isinstance(children, list)
    return [str(child["name"]) for child in children]


async def test_every_catalogue_method_has_a_handler(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        registry = station.daemon.registry
        assert registry is not None
        assert registry.missing() == []
        assert [spec.name for spec in registry.methods()] == [s.name for s in m.catalogue()]


async def test_station_status_and_tree(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        await wait_until(lambda: station.daemon.runtime.connection.value == "online")
        status = await client.call("station.status", result_type=m.StationStatus)
        assert status.instance == "default"
        assert status.station == "unit-station"
        assert status.connection == "online"
        assert status.server_url == "http://wats.test"
        assert status.server_version
        assert status.queue.depth == 0
        assert status.control_connections == 1
        assert status.uptime >= 0

        tree = await client.call("station.tree")
        assert tree["name"] == "station"
        assert tree["kind"] == "supervisor"
        assert names(tree) == ["control", "connection", "sync", "uploader", "converters", "status"]
        [converters] = [c for c in tree["children"] if c["name"] == "converters"]
        assert converters["kind"] == "supervisor"
        assert names(converters) == ["converter:wsjf"]
        assert converters["children"][0]["state"] == "running"
        assert "traceback" not in str(tree).lower()


async def test_processes_list_is_the_synced_cache(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        await wait_until(lambda: station.daemon.runtime.processes_synced_at is not None)
        result = await client.call("processes.list", result_type=m.ProcessesListResult)
        status = await client.call("station.status", result_type=m.StationStatus)
        assert result.synced_at == status.processes_synced_at
        assert len(result.processes) == status.processes_cached > 0
        # The emulator's own process table, as the server sent it.
        [test_op] = [p for p in result.processes if p.code == 10]
        assert test_op.test
        assert test_op.name
        assert not [p for p in result.processes if p.code == 12345]


async def test_queue_list_show_retry_purge(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        daemon = station.daemon
        await wait_until(lambda: daemon.runtime.connection.value == "online")
        station.fake.faults.reject_submits("Process 12345 is not a known process", count=2)
        reports = [make_report(i) for i in range(3)]
        for n, (_, data) in enumerate(reports):
            (station.inbox / f"r{n}.json").write_bytes(data)
        await wait_until(lambda: daemon.queue.stats().dead == 2, what="two dead letters")
        await wait_until(lambda: len(station.fake.reports) == 1, what="the third uploaded")
        await wait_until(lambda: daemon.queue.stats().depth == 0, what="an idle queue")

        page = await client.call("queue.list", {"state": "dead"}, result_type=m.QueueListResult)
        assert page.total == 2
        assert [e.state for e in page.entries] == ["dead", "dead"]
        assert "not a known process" in (page.entries[0].dead_reason or "")
        assert (page.entries[0].source or "").startswith("wsjf:")
        # Each row names its unit (recorded when queued: no queue.show per row).
        serials = {report_id: f"E2E-{n:06d}" for n, (report_id, _) in enumerate(reports)}
        for entry in page.entries:
            assert entry.unit is not None
            assert (entry.unit.serial_number, entry.unit.part_number, entry.unit.kind) == (
                serials[entry.report_id],
                "E2E-PN",
                "uut",
            )
        everything = await client.call("queue.list", {"limit": 1}, result_type=m.QueueListResult)
        assert (everything.total, len(everything.entries)) == (2, 1)

        first = page.entries[0]
        shown = await client.call("queue.show", {"entry": str(first.seq)})
        assert shown["entry"]["report_id"] == first.report_id
        assert shown["report"]["kind"] == "uut"
        assert shown["report"]["part_number"] == "E2E-PN"
        assert shown["report"]["result"] == "Passed"
        assert shown["report"] == shown["entry"]["unit"]
        by_id = await client.call("queue.show", {"entry": first.report_id})
        assert by_id["entry"]["seq"] == first.seq

        for method, params in [
            ("queue.show", {"entry": "no-such-entry"}),
            ("queue.show", {"entry": "999999"}),
            ("queue.retry", {"selector": "999999"}),
            ("queue.purge", {"selector": "999999"}),
        ]:
            with pytest.raises(ControlError) as caught:
                await client.call(method, params)
            assert caught.value.code == ErrorCode.NOT_FOUND, method

        assert await client.call("queue.verify") == {"ok": 2, "corrupt": 0, "orphans": 0}
        # A flipped byte in the second dead letter: verify sets it aside, the first stays.
        second = daemon.queue.path / "entries"
        [broken] = [f for f in second.glob("*/*.wsjf") if page.entries[1].report_id in f.name]
        broken.write_bytes(broken.read_bytes()[:-2] + b"!}")
        assert await client.call("queue.verify") == {"ok": 1, "corrupt": 1, "orphans": 0}
        assert daemon.queue.stats().corrupt == 1

        retried = await client.call("queue.retry", {"selector": "dead"})
        assert retried == {"count": 1}
        assert daemon.queue.stats().dead == 0
        await wait_until(lambda: len(station.fake.reports) == 2, what="the retried upload")

        station.fake.faults.reject_submits("still wrong", count=1)
        (station.inbox / "again.json").write_bytes(make_report(9)[1])
        await wait_until(lambda: daemon.queue.stats().dead == 1, what="one more dead letter")
        purged = await client.call("queue.purge", {"selector": "dead"})
        assert purged == {"count": 1}
        assert daemon.queue.list(state=EntryState.DEAD) == []


async def test_converters_list_disable_enable_restart(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        daemon = station.daemon
        listed = await client.call("converters.list", result_type=m.ConvertersListResult)
        [info] = listed.converters
        assert (info.name, info.kind, info.type, info.enabled) == ("wsjf", "wsjf", "file", True)
        assert info.state == "running"
        assert info.watch == str(station.inbox)
        assert info.patterns == ["*.json"]

        disabled = await client.call("converters.disable", {"name": "wsjf"})
        assert (disabled["enabled"], disabled["state"]) == (False, "disabled")
        assert daemon.converter_tree is not None
        assert daemon.converter_tree.children == ()
        on_disk = tomllib.loads(station.config_text())
        assert on_disk["converters"][0]["enabled"] is False
        (station.inbox / "waits.json").write_bytes(make_report(1)[1])
        await trio.sleep(0.5)
        assert (station.inbox / "waits.json").exists()  # nobody converts while disabled

        enabled = await client.call("converters.enable", {"name": "wsjf"})
        assert (enabled["enabled"], enabled["state"]) == (True, "running")
        assert tomllib.loads(station.config_text())["converters"][0]["enabled"] is True
        await wait_until(lambda: not (station.inbox / "waits.json").exists(), what="conversion")

        restarted = await client.call("converters.restart", {"name": "wsjf"})
        assert restarted["state"] == "running"
        assert restarted["restarts"] == 1

        for method in ("converters.enable", "converters.disable", "converters.restart"):
            with pytest.raises(ControlError) as caught:
                await client.call(method, {"name": "nope"})
            assert caught.value.code == ErrorCode.NOT_FOUND
        await client.call("converters.disable", {"name": "wsjf"})
        with pytest.raises(ControlError) as caught:
            await client.call("converters.restart", {"name": "wsjf"})
        assert caught.value.code == ErrorCode.CONFLICT


async def test_convert_file_is_a_dry_run(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        daemon = station.daemon
        await client.call("converters.disable", {"name": "wsjf"})  # the actor must not take it
        good = station.inbox / "good.json"
        report_id, data = make_report(7)
        good.write_bytes(data)
        result = await client.call(
            "converters.convert_file", {"path": str(good)}, result_type=m.ConvertFileResult
        )
        assert result.ok is True
        assert result.converter == "wsjf"
        assert result.confidence == 1.0
        [report] = result.reports
        assert report.report_id == report_id
        assert report.header.serial_number == "E2E-000007"
        assert report.steps == 2
        assert report.valid is True
        assert good.read_bytes() == data  # neither moved nor changed
        assert daemon.queue.stats().depth == 0  # nothing queued
        assert daemon.runtime.counters.queued == 0

        broken = station.inbox / "broken.json"
        broken.write_text('{"type": "T", "pn": ', encoding="utf-8")
        failed = await client.call("converters.convert_file", {"path": str(broken)})
        assert failed["ok"] is False
        assert failed["error"]
        assert failed["reports"] == []
        assert broken.exists()

        by_kind = await client.call("converters.convert_file", {"path": str(good), "kind": "wsjf"})
        assert by_kind["ok"] is True

        other = station.inbox / "notes.txt"
        other.write_text("not a report", encoding="utf-8")
        outside = tmp_path / "elsewhere.json"  # not in a converter's folders, no roots declared
        outside.write_bytes(data)
        cases = [
            ({"path": str(tmp_path / "missing.json")}, ErrorCode.NOT_FOUND),
            ({"path": str(good), "converter": "nope"}, ErrorCode.NOT_FOUND),
            ({"path": str(other)}, ErrorCode.VALIDATION_FAILED),  # no converter's patterns
            ({"path": str(outside)}, ErrorCode.FORBIDDEN),
            ({"path": str(good), "kind": "some.module:Converter"}, ErrorCode.INVALID_PARAMS),
        ]
        for params, code in cases:
            with pytest.raises(ControlError) as caught:
                await client.call("converters.convert_file", params)
            assert caught.value.code == code, params


# A real tester's file (shipped for the demo): an ATML 2.02 result with numeric limits and units.
ATML_SAMPLE = "ATML-2.02-[123456789][2-30-27-PM][5-15-2019].XML"


def all_steps(step: dict[str, Any]) -> list[dict[str, Any]]:
    """A WSJF step and every step below it."""
    return [step, *(s for child in step.get("steps") or [] for s in all_steps(child))]


async def test_convert_file_returns_the_whole_report_when_asked(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        await client.call("converters.disable", {"name": "wsjf"})  # the actor must not take it
        sample = station.inbox / "uut.xml"
        source = importlib.resources.files("pywats_station").joinpath("demo_samples", ATML_SAMPLE)
        sample.write_bytes(source.read_bytes())
        params = {"path": str(sample), "kind": "atml"}

        summary = await client.call("converters.convert_file", params)
        assert summary["ok"] is True
        assert summary["reports"][0]["report"] is None  # not asked for: the summary only

        result = await client.call("converters.convert_file", {**params, "include_report": True})
        assert result["ok"] is True
        [converted] = result["reports"]
        report = converted["report"]
        assert isinstance(report, dict)
        # The WSJF object: what the summary says is what it holds.
        assert report["id"] == converted["report_id"]
        assert report["type"] == "T"
        assert (report["sn"], report["pn"]) == (
            converted["header"]["serial_number"],
            converted["header"]["part_number"],
        )
        steps = all_steps(report["root"])
        assert len(steps) == converted["steps"] == 24
        [video] = [s for s in steps if s["name"] == "Video Test"]
        assert video["status"] == "P"
        assert video["numericMeas"] == [
            {
                "status": "P",
                "value": 5.0,
                "unit": "microseconds",
                "compOp": "GTLT",
                "lowLimit": 0.0,
                "highLimit": 10.0,
            }
        ]
        # Exactly the WSJF the station would queue for it: the same file converted here,
        # encoded as the converter actor encodes it (only the id is the conversion's own).
        tried = try_convert(
            sample,
            kind="atml",
            arguments={},
            station=station.daemon.station_info(),
            processes=station.daemon.processes(),
            base_dir=station.paths.config_file.parent,
        )
        assert isinstance(tried.result, Converted)
        [again] = tried.result.reports
        expected = json.loads(wsjf.dumps(again))
        assert {**report, "id": None} == {**expected, "id": None}
        assert sample.read_bytes() == source.read_bytes()  # still a dry run
        assert station.daemon.queue.stats().depth == 0


async def test_convert_file_leaves_out_a_report_too_big_for_one_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control_converters, "REPORT_BUDGET", 1000)  # the sample's WSJF is ~6 kB
    async with running_station(tmp_path) as station, station.client() as client:
        sample = station.inbox / "uut.xml"
        source = importlib.resources.files("pywats_station").joinpath("demo_samples", ATML_SAMPLE)
        sample.write_bytes(source.read_bytes())
        params = {"path": str(sample), "kind": "atml", "include_report": True}
        result = await client.call("converters.convert_file", params)
        assert result["ok"] is True
        [converted] = result["reports"]
        assert converted["report"] is None
        assert converted["steps"] == 24  # the summary is all there
        assert any("left out" in w and converted["report_id"] in w for w in result["warnings"])


async def test_config_get_redacts_and_no_response_carries_the_api_token(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        assert API_TOKEN in station.config_text()  # it is there, in plain text
        whole = await client.call("config.get")
        assert whole["path"] == str(station.paths.config_file)
        assert whole["value"]["server"]["token"] == "***"
        assert no_secret(whole)
        token = await client.call("config.get", {"key": "server.token"})
        assert token["value"] == "***"
        workers = await client.call("config.get", {"key": "queue.upload_workers"})
        assert workers == {"key": "queue.upload_workers", "value": 4, "path": whole["path"]}
        conv = await client.call("config.get", {"key": "converters.wsjf.settle"})
        assert conv["value"] == 0.05
        assert (await client.call("config.get", {"key": "converters.wsjf"}))["value"]["kind"] == (
            "wsjf"
        )
        for key in ("nope", "queue.nope", "converters.nope", "converters.wsjf.nope"):
            with pytest.raises(ControlError) as caught:
                await client.call("config.get", {"key": key})
            assert caught.value.code == ErrorCode.NOT_FOUND, key

        # Whatever a method returns, the token never travels: logged by accident, it is masked.
        logging_token = f"oops, the token is {API_TOKEN}"
        import logging

        logging.getLogger("pywats_station.test").warning(logging_token)
        tail = await client.call("logs.tail", {"lines": 50, "level": "warning"})
        assert no_secret(tail)
        assert any("oops, the token is ***" in r["message"] for r in tail["records"])
        for method in ("station.status", "station.tree", "converters.list", "connection.test"):
            assert no_secret(await client.call(method))


async def test_config_set_validates_persists_and_reloads(tmp_path: Path) -> None:
    async with (
        running_station(tmp_path) as station,
        station.client(token=station.daemon.admin_token) as client,
    ):
        daemon = station.daemon
        result = await client.call("config.set", {"key": "connection.check_interval", "value": 2.5})
        assert result["changed"] == ["connection.check_interval"]
        assert result["saved"] is True
        assert "connection" in result["restarted"]
        assert daemon.config.connection.check_interval == 2.5
        assert tomllib.loads(station.config_text())["connection"]["check_interval"] == 2.5
        assert API_TOKEN in station.config_text()  # the save kept the token it cannot show

        same = await client.call("config.set", {"key": "connection.check_interval", "value": 2.5})
        assert same == {"changed": [], "restarted": [], "saved": False}
        dry = await client.call(
            "config.set", {"key": "sync", "value": {"interval": 600}, "dry_run": True}
        )
        assert (dry["changed"], dry["saved"]) == (["sync.interval"], False)
        assert daemon.config.sync.interval == 3600.0
        section = await client.call("config.set", {"key": "sync", "value": {"interval": 600}})
        assert section["changed"] == ["sync.interval"]
        assert daemon.config.sync.interval == 600

        conv = await client.call("config.set", {"key": "converters.wsjf.settle", "value": 0.2})
        assert conv["changed"] == ["converters.wsjf.settle"]
        assert conv["restarted"] == ["converter:wsjf"]

        refused = [
            ("queue.upload_workers", 0, "queue.upload_workers"),
            ("connection.check_interval", "soon", "connection.check_interval"),
            ("converters.wsjf.post_action", "archive", "converters.wsjf.post_action"),
            ("server.token", "x" * 20, "server.token"),
        ]
        before = station.config_text()
        for key, value, path in refused:
            with pytest.raises(ControlError) as caught:
                await client.call("config.set", {"key": key, "value": value})
            assert caught.value.code == ErrorCode.VALIDATION_FAILED, key
            assert caught.value.data is not None
            assert [p["path"] for p in caught.value.data["problems"]] == [path]
        assert station.config_text() == before  # nothing written
        for key in ("nope.x", "queue.nope", "converters.nope.settle", "schema_version"):
            with pytest.raises(ControlError) as caught:
                await client.call("config.set", {"key": key, "value": 1})
            assert caught.value.code == ErrorCode.NOT_FOUND, key


async def test_config_set_adds_and_removes_a_converter(tmp_path: Path) -> None:
    roots = f'roots = ["{tmp_path}"]'
    async with (
        running_station(tmp_path, control=roots) as station,
        station.client(token=station.daemon.admin_token) as client,
    ):
        watch = tmp_path / "more"
        added = await client.call(
            "config.set",
            {"key": "converters.more", "value": {"kind": "wsjf", "watch": str(watch)}},
        )
        assert added["restarted"] == ["converter:more"]
        assert "converters.more.kind" in added["changed"]
        listed = await client.call("converters.list")
        assert [c["name"] for c in listed["converters"]] == ["wsjf", "more"]
        removed = await client.call("config.set", {"key": "converters.more", "value": None})
        assert removed["restarted"] == ["converter:more"]
        assert [c.name for c in station.daemon.config.converters] == ["wsjf"]


async def test_a_concurrent_edit_is_a_conflict(tmp_path: Path) -> None:
    from pywats_station.actors.control_config import commit_change, plan_change

    async with running_station(tmp_path) as station:
        path, env = station.paths.config_file, station.daemon.env
        change = plan_change(path, env, "sync.interval", 60)
        path.write_text(station.config_text() + "\n# edited meanwhile\n", encoding="utf-8")
        with pytest.raises(ControlError) as caught:
            commit_change(path, env, change)
        assert caught.value.code == ErrorCode.CONFLICT
        assert "edited meanwhile" in station.config_text()


async def test_connection_test_online_and_down(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        ok = await client.call("connection.test", result_type=m.ConnectionTestResult)
        assert ok.url == "http://wats.test"
        assert ok.server_version
        assert ok.latency >= 0
        station.fake.faults.down(60)
        with pytest.raises(ControlError) as caught:
            await client.call("connection.test")
        assert caught.value.code == ErrorCode.STATION_ERROR
        assert caught.value.data is not None
        assert caught.value.data["reason"] == "unreachable"
        station.fake.faults.clear()
        station.fake.state.tokens.clear()  # the server no longer knows our token
        with pytest.raises(ControlError) as caught:
            await client.call("connection.test")
        assert caught.value.data is not None
        assert caught.value.data["reason"] == "auth_failed"
        assert caught.value.data["status"] == 401


async def test_send_test_report_goes_through_the_queue(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        async with client.subscribe(["report_queued", "report_uploaded"]) as events:
            sent = await client.call(
                "reports.send_test", {"serial_number": "SN-1"}, result_type=m.SendTestResult
            )
            assert sent.seq >= 1
            seen = []
            with trio.fail_after(10):
                async for event, payload in events:
                    if payload["report_id"] == sent.report_id:
                        seen.append((event, payload["unit"]))
                    if event == "report_uploaded":
                        break
        assert [event for event, _ in seen] == ["report_queued", "report_uploaded"]
        for _, unit in seen:
            assert unit["serial_number"] == "SN-1"
            assert unit["part_number"] == "PYWATS-TEST"
            assert unit["station"] == "unit-station"
            assert unit["result"] == "Passed"
        assert sent.report_id in station.fake.reports
        assert station.daemon.runtime.counters.queued == 1


async def test_logs_tail_levels_and_limits(tmp_path: Path) -> None:
    import logging

    async with running_station(tmp_path) as station, station.client() as client:
        log = logging.getLogger("pywats_station.test")
        for n in range(5):
            log.error("error %d", n)
        logging.getLogger("pywats_station.control").error("the control logger is not kept")
        tail = await client.call("logs.tail", {"lines": 3, "level": "error"})
        messages = [r["message"] for r in tail["records"]]
        assert messages == ["error 2", "error 3", "error 4"]
        assert all(r["level"] == "error" for r in tail["records"])
        everything = await client.call("logs.tail", {"lines": 5000, "level": "debug"})
        assert not any("control logger" in r["message"] for r in everything["records"])
        with pytest.raises(ControlError) as caught:
            await client.call("logs.tail", {"lines": 0})
        assert caught.value.code == ErrorCode.INVALID_PARAMS


BROKEN = """
[[converters]]
name = "bad"
kind = "no_such_module:Nope"
watch = "{watch}"
"""


async def test_a_broken_converter_is_listed_reloaded_and_fixed(tmp_path: Path) -> None:
    extra = BROKEN.format(watch=tmp_path / "bad")
    async with (
        running_station(tmp_path, extra=extra) as station,
        station.client(token=station.daemon.admin_token) as client,
    ):
        listed = await client.call("converters.list")
        bad = listed["converters"][1]
        assert (bad["name"], bad["state"]) == ("bad", "broken")
        assert "no_such_module" in bad["last_error"]
        again = await client.call("converters.restart", {"name": "bad"})
        assert again["state"] == "broken"  # reloaded, and still broken
        fixed = await client.call("config.set", {"key": "converters.bad.kind", "value": "wsjf"})
        assert fixed["restarted"] == ["converter:bad"]
        assert (await client.call("converters.list"))["converters"][1]["state"] == "running"
