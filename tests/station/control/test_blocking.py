"""BlockingClient against a real server running in another thread (as a script would see it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
import trio

from pywats_station.control import (
    BlockingClient,
    ControlConnectionError,
    ControlError,
    ErrorCode,
    Event,
    serve_control,
)
from pywats_station.control import methods as m
from pywats_station.control.hub import ControlHub

from .helpers import TOKEN, make_registry


@dataclass
class Station:
    url: str
    hub: ControlHub
    trio_token: trio.lowlevel.TrioToken

    def publish(self, event: str, payload: Event) -> int:
        """Publish from this (foreign) thread, the documented way."""
        published: int = trio.from_thread.run_sync(
            self.hub.publish, event, payload, trio_token=self.trio_token
        )
        return published


@pytest.fixture
def station() -> Iterator[Station]:
    registry, _ = make_registry()
    hub = ControlHub(registry)
    ready: list[Station] = []
    started = threading.Event()
    stop: list[trio.CancelScope] = []

    async def main() -> None:
        with trio.CancelScope() as scope:
            stop.append(scope)
            async with trio.open_nursery() as nursery:
                port = await nursery.start(
                    partial(serve_control, registry, port=0, token=TOKEN, hub=hub)
                )
                token = trio.lowlevel.current_trio_token()
                ready.append(Station(f"ws://127.0.0.1:{port}", hub, token))
                started.set()

    thread = threading.Thread(target=trio.run, args=(main,))
    thread.start()
    assert started.wait(10)
    yield ready[0]
    trio.from_thread.run_sync(stop[0].cancel, trio_token=ready[0].trio_token)
    thread.join(10)
    assert not thread.is_alive()


def test_calls_results_and_errors(station: Station) -> None:
    with BlockingClient(station.url, TOKEN) as client:
        assert client.call("station.ping")["authenticated"] is True
        page = client.call("queue.list", {"limit": 1}, result_type=m.QueueListResult)
        assert page.entries[0].report_id == "r-1"
        with pytest.raises(ControlError) as error:
            client.call("queue.show", {"entry": "9"})
        assert error.value.code == ErrorCode.NOT_FOUND
        client.notify("station.ping")
        assert client.call("station.ping")["pong"]


def test_calls_from_several_threads(station: Station) -> None:
    results: dict[int, int] = {}
    with BlockingClient(station.url, TOKEN) as client:

        def work(n: int) -> None:
            results[n] = client.call("test.echo", {"value": n, "delay": 0.001})["value"]

        threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {n: n for n in range(20)}


def test_timeout(station: Station) -> None:
    with BlockingClient(station.url, TOKEN, timeout=0.05) as client:
        with pytest.raises(TimeoutError):
            client.call("test.echo", {"value": 1, "delay": 5})
        assert client.call("test.echo", {"value": 2}, timeout=5)["value"] == 2


def test_events(station: Station) -> None:
    with BlockingClient(station.url, TOKEN) as client:
        with client.subscribe(["report_uploaded"]) as events:
            payload = m.ReportUploaded(report_id="r", seq=3, duration=0.1, depth=0)
            assert station.publish("report_uploaded", payload) == 1
            event, received = events.get(timeout=5)
            assert event == "report_uploaded"
            assert received["seq"] == 3
            with pytest.raises(TimeoutError):
                events.get(timeout=0.05)
            station.publish("report_uploaded", payload)
            assert next(iter(events))[0] == "report_uploaded"
        assert client.call("station.ping")["pong"]


def test_refused_and_unreachable(station: Station) -> None:
    with pytest.raises(ControlError) as error, BlockingClient(station.url, "wrong-" + TOKEN):
        pass
    assert error.value.code == ErrorCode.UNAUTHORIZED
    with pytest.raises(ControlConnectionError):
        BlockingClient("ws://127.0.0.1:1", TOKEN, connect_timeout=5).open()


def test_not_open_and_closed() -> None:
    client = BlockingClient("ws://127.0.0.1:1", TOKEN)
    with pytest.raises(ControlConnectionError, match="not connected"):
        client.call("station.ping")
    client.close()  # closing an unopened client is harmless


def test_use_after_close(station: Station) -> None:
    with BlockingClient(station.url, TOKEN) as client:
        client.call("station.ping")
    with pytest.raises(ControlConnectionError):
        client.call("station.ping")
