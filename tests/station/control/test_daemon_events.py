"""The daemon's control channel: events, refusals, TCP, the port file, a port already in use."""

from __future__ import annotations

import json
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
import trio

from pywats.formats import wsjf
from pywats.testing import FakeWATS
from pywats_station.actors.control import port_file
from pywats_station.control import ControlError, ErrorCode, open_control_client
from pywats_station.paths import InstancePaths
from pywats_station.status import status_file
from tests.station.e2e.harness import make_report
from tests.station.queue_files import write_old_entry

from .daemon_helpers import API_TOKEN, running_station, wait_until

pytestmark = pytest.mark.trio


async def collect(events: Any, until: Any, seconds: float = 10.0) -> list[tuple[str, Any]]:
    """Events until ``until(event, payload)`` holds (that one included)."""
    seen: list[tuple[str, Any]] = []
    with trio.fail_after(seconds):
        async for event, payload in events:
            seen.append((event, payload))
            if until(event, payload):
                return seen
    raise AssertionError(f"the subscription ended; seen: {seen}")


async def test_converted_queued_uploaded_in_order(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        wanted = ["file_converted", "report_queued", "report_uploaded", "file_failed"]
        async with client.subscribe(wanted) as events:
            report_id, data = make_report(1)
            (station.inbox / "unit.json").write_bytes(data)
            seen = await collect(events, lambda e, p: e == "report_uploaded")
            assert [e for e, _ in seen] == ["file_converted", "report_queued", "report_uploaded"]
            converted, queued, uploaded = (p for _, p in seen)
            assert converted["converter"] == "wsjf"
            assert converted["path"] == str(station.inbox / "unit.json")
            assert converted["reports"] == [report_id]
            assert queued["report_id"] == uploaded["report_id"] == report_id
            assert queued["source"] == "wsjf:unit.json"
            assert queued["seq"] == uploaded["seq"]
            assert queued["depth"] == 1
            assert uploaded["depth"] == 0
            assert uploaded["attempts"] == 0
            # Which unit: recorded when queued, the same in all three.
            unit = expected_unit(data)
            assert unit["serial_number"] == "E2E-000001"
            assert converted["units"] == [unit]
            assert queued["unit"] == unit
            assert uploaded["unit"] == unit

            (station.inbox / "broken.json").write_text("{not json", encoding="utf-8")
            [(_, failed)] = await collect(events, lambda e, p: e == "file_failed")
            assert failed["converter"] == "wsjf"
            assert failed["path"] == str(station.inbox / "broken.json")
            assert failed["error"]
            assert failed["moved_to"] == str(station.inbox / "Error" / "broken.json")


async def test_rejected_reports_are_announced(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        station.fake.faults.reject_submits("Process 12345 is not a known process")
        async with client.subscribe(["report_rejected"]) as events:
            report_id, data = make_report(2)
            (station.inbox / "bad.json").write_bytes(data)
            [(_, rejected)] = await collect(events, lambda e, p: True)
        assert rejected["report_id"] == report_id
        assert rejected["status"] == 400
        assert "not a known process" in rejected["reason"]
        assert rejected["unit"] == expected_unit(data)


def expected_unit(data: bytes) -> dict[str, Any]:
    """The unit of a report made by ``make_report`` (its WSJF ``data``) as events carry it."""
    report = wsjf.loads(data)
    assert report.start is not None
    return {
        "kind": "uut",
        "part_number": "E2E-PN",
        "serial_number": report.sn,
        "revision": "A",
        "process_code": 10,
        "result": "Passed",
        "start": report.start.isoformat(),
        "station": "E2E",
    }


CSV_CONVERTER = """
[[converters]]
name = "csv"
kind = "csv"
watch = "{watch}"
patterns = ["*.csv"]
settle = 0.05

[converters.arguments]
layout = "units"
part_number = "PSU-12"
process_code = 10
measurements = [
  {{column = "V_5V0", name = "5V rail", low = 4.9, high = 5.1, comp = "GELE", unit = "V"}},
]
"""


async def test_a_file_of_several_reports_names_each_unit_in_order(tmp_path: Path) -> None:
    watch = tmp_path / "csv-in"
    watch.mkdir()
    extra = CSV_CONVERTER.format(watch=watch)
    async with running_station(tmp_path, extra=extra) as station, station.client() as client:
        wanted = ["file_converted", "report_queued", "report_uploaded"]
        async with client.subscribe(wanted) as events:
            rows = ["Serial\tRev\tV_5V0\tResult", "U-3\tB\t5.0\tPASS", "U-1\tB\t5.6\tFAIL"]
            (watch / "line.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
            uploads = 0

            def two_uploaded(event: str, payload: Any) -> bool:
                nonlocal uploads
                uploads += event == "report_uploaded"
                return uploads == 2

            seen = await collect(events, two_uploaded)
        [converted] = [p for e, p in seen if e == "file_converted"]
        queued = [p for e, p in seen if e == "report_queued"]
        uploaded = {p["report_id"]: p["unit"] for e, p in seen if e == "report_uploaded"}
        assert converted["converter"] == "csv"
        # `units` follows `reports`, one for one, in the file's order.
        assert [u["serial_number"] for u in converted["units"]] == ["U-3", "U-1"]
        assert [u["result"] for u in converted["units"]] == ["Passed", "Failed"]
        assert {(u["part_number"], u["revision"], u["station"]) for u in converted["units"]} == {
            ("PSU-12", "B", "unit-station")
        }
        by_id = dict(zip(converted["reports"], converted["units"], strict=True))
        assert {q["report_id"]: q["unit"] for q in queued} == by_id
        assert uploaded == by_id
        # The server got the reports those units name.
        for report_id, unit in by_id.items():
            report = station.fake.get_report(report_id)
            assert report is not None
            assert (report.sn, report.pn) == (unit["serial_number"], unit["part_number"])


async def test_a_hostile_serial_number_is_announced_escaped(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        report = wsjf.loads(make_report(5)[1])
        # Control characters are refused before queueing (XML cannot carry them); a right-to-left
        # override passes validation and would reverse what an operator reads.
        report.sn = "SN-\u202e5-10"
        async with client.subscribe(["report_queued"]) as events:
            (station.inbox / "odd.json").write_bytes(wsjf.dumps(report))
            [(_, queued)] = await collect(events, lambda e, p: True)
        assert queued["unit"]["serial_number"] == "SN-\\u202e5-10"
        page = await client.call("queue.list")
        listed = [e["unit"] for e in page["entries"] if e["report_id"] == queued["report_id"]]
        assert listed in ([], [queued["unit"]])  # [] once uploaded meanwhile


async def test_an_entry_queued_before_units_lists_and_uploads_without_one(
    tmp_path: Path,
) -> None:
    report_id, data = make_report(8)
    fake = FakeWATS(token=API_TOKEN)
    fake.faults.reject_submits("held back by the test")  # dead first: it can be listed

    def old_entry(paths: InstancePaths) -> None:
        write_old_entry(paths.queue_dir, 1, report_id, data)

    async with (
        running_station(tmp_path, fake=fake, prepare=old_entry) as station,
        station.client() as client,
        client.subscribe(["report_rejected", "report_uploaded"]) as events,
    ):
        await wait_until(lambda: station.daemon.queue.stats().dead == 1, what="the dead letter")
        page = await client.call("queue.list")
        [entry] = page["entries"]
        assert (entry["report_id"], entry["source"], entry["unit"]) == (
            report_id,
            "wsjf:old.json",
            None,
        )
        # queue.show reads the unit from the report itself for such an entry.
        shown = await client.call("queue.show", {"entry": report_id})
        assert shown["entry"]["unit"] is None
        assert shown["report"]["serial_number"] == "E2E-000008"

        assert await client.call("queue.retry", {"selector": "dead"}) == {"count": 1}
        seen = await collect(events, lambda e, p: e == "report_uploaded")
        # (Its rejection may have come before the subscription: the daemon uploads at once.)
        assert {(p["report_id"], p["unit"]) for _, p in seen} == {(report_id, None)}
        assert report_id in station.fake.reports


async def test_actor_state_counters_and_log_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the records published are those the daemon's level passes
    wanted = ["actor_state", "counters", "log_record"]
    async with (
        running_station(tmp_path) as station,
        station.client() as client,
        client.subscribe(wanted) as events,
    ):
        await client.call("converters.disable", {"name": "wsjf"})
        path = "station/converters/converter:wsjf"
        seen = await collect(
            events,
            lambda e, p: e == "actor_state" and p["path"] == path and p["state"] == "stopped",
            seconds=5,
        )
        # Polled twice a second: "stopping" may or may not be seen on the way.
        assert seen[-1][1]["previous"] in ("running", "stopping")
        logs = [p for e, p in seen if e == "log_record"]
        assert any("config changed" in p["message"] for p in logs)
        assert not any(p["logger"].startswith("pywats_station.control.") for p in logs)

        (station.inbox / "x.json").write_bytes(make_report(3)[1])
        await client.call("converters.enable", {"name": "wsjf"})
        seen = await collect(
            events, lambda e, p: e == "counters" and p["counters"]["uploaded"] == 1
        )
        totals = seen[-1][1]
        assert totals["counters"]["converted"] == 1
        assert totals["queue"]["depth"] == 0


async def test_refusals_before_authentication(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        async with station.client(token=None) as client:
            assert (await client.call("station.ping"))["authenticated"] is False
            assert (await client.call("rpc.discover"))["openrpc"].startswith("1.2")
            for method in ("station.status", "queue.list", "config.get", "logs.tail"):
                with pytest.raises(ControlError) as caught:
                    await client.call(method)
                assert caught.value.code == ErrorCode.UNAUTHORIZED, method
            with pytest.raises(ControlError) as caught:
                await client.call("auth.login", {"token": "w" * 43})
            assert caught.value.code == ErrorCode.UNAUTHORIZED
            await client.call("auth.login", {"token": station.daemon.control_token})
            assert (await client.call("station.status"))["instance"] == "default"
        with pytest.raises(ControlError) as caught:
            async with station.client(token="w" * 43):
                pass
        assert caught.value.code == ErrorCode.UNAUTHORIZED
        browser = [("Origin", "https://evil.example")]
        with pytest.raises(ControlError) as caught:
            async with station.client(headers=browser):
                pass
        assert caught.value.code == ErrorCode.FORBIDDEN_ORIGIN


async def test_tcp_port_file_and_status_file(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        daemon = station.daemon
        with trio.fail_after(5):
            await daemon.control_settled.wait()
        control = daemon.control
        assert control.state == "listening"
        assert control.port is not None
        assert control.port > 0
        assert control.url == f"ws://127.0.0.1:{control.port}"
        assert port_file(station.paths).read_text() == f"{control.port}\n"

        def written_url() -> object:
            path = status_file(station.paths)
            if not path.exists():
                return None
            # The file is rewritten every 2 s: the first one may predate the bind.
            return json.loads(path.read_text()).get("control", {}).get("url")

        await wait_until(lambda: written_url() == control.url, what="the status file's url")
        async with open_control_client(control.url, token=daemon.control_token) as client:
            status = await client.call("station.status")
            assert status["control_connections"] == 1
        with pytest.raises(ControlError) as caught:
            async with open_control_client(control.url, token="w" * 43):
                pass
        assert caught.value.code == ErrorCode.UNAUTHORIZED
    assert not port_file(station.paths).exists()  # gone with the daemon


async def test_a_port_in_use_is_retried_while_the_station_works(tmp_path: Path) -> None:
    with trio.socket.socket() as blocker:
        await blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        async with running_station(tmp_path, listen=f"127.0.0.1:{port}") as station:
            daemon = station.daemon
            with trio.fail_after(5):
                await daemon.control_settled.wait()
            assert daemon.control.state == "retrying"
            assert daemon.control.error is not None
            assert "in use" in daemon.control.error.lower()
            assert daemon.control.port is None
            assert daemon.tree is not None
            control_node = daemon.tree.statistics().children[0]
            assert (control_node.name, control_node.state) == ("control", "running")
            # The rest of the station does its work meanwhile.
            (station.inbox / "y.json").write_bytes(make_report(4)[1])
            await wait_until(lambda: len(station.fake.reports) == 1, what="an upload")
            blocker.close()
            # (str(): mypy keeps the state narrowed to "retrying" from the assert above.)
            await wait_until(
                lambda: str(daemon.control.state) == "listening", seconds=10, what="the retry"
            )
            assert daemon.control.port == port


async def test_changing_the_listen_address_in_the_file_moves_the_channel(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        daemon = station.daemon
        with trio.fail_after(5):
            await daemon.control_settled.wait()
        old_url = daemon.control.url
        assert old_url is not None
        text = station.config_text().replace('listen = "127.0.0.1:0"', 'listen = "localhost:0"')
        station.paths.config_file.write_text(text, encoding="utf-8")
        await wait_until(
            lambda: daemon.control.state == "listening" and daemon.control.url != old_url,
            what="the channel on its new address",
        )
        assert daemon.control.listen == "localhost:0"


async def test_the_control_section_cannot_be_changed_over_the_channel(tmp_path: Path) -> None:
    """Who reaches the channel, with which rights, is the file owner's decision alone."""
    async with running_station(tmp_path) as station:
        before = station.config_text()
        async with station.client(token=station.daemon.admin_token) as client:
            for key, value in (
                ("control.listen", "0.0.0.0:8765"),
                ("control", {"allow_remote": True}),
                ("control.roots", ["/"]),
            ):
                with pytest.raises(ControlError) as refused:
                    await client.call("config.set", {"key": key, "value": value})
                assert refused.value.code == ErrorCode.VALIDATION_FAILED
                assert "cannot be changed over the control channel" in refused.value.message
        assert station.config_text() == before


async def test_tls_from_the_configuration(tmp_path: Path) -> None:
    from .test_tcp import self_signed

    certs = tmp_path / "certs"
    certs.mkdir()
    cert_file, key_file = self_signed(certs)
    control = f'tls_cert = "{cert_file}"\ntls_key = "{key_file}"\n'
    async with running_station(tmp_path, control=control) as station:
        daemon = station.daemon
        with trio.fail_after(5):
            await daemon.control_settled.wait()
        assert (daemon.control.state, daemon.control.tls) == ("listening", True)
        url = daemon.control.url
        assert url is not None
        assert url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert_file))
        async with open_control_client(url, token=daemon.control_token, ssl_context=context) as c:
            assert (await c.call("station.ping"))["authenticated"] is True
