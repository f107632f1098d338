"""Events: subscriptions, fan-out, slow consumers dropped, the publisher never blocked."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from pywats_station.control import ControlConnectionError, ErrorCode, EventsDropped
from pywats_station.control import methods as m
from pywats_station.control.client import open_memory_client

from .helpers import SECRET, TOKEN, make_server, raw_connection, request
from .helpers import error_code as code_of

pytestmark = pytest.mark.trio


def uploaded(seq: int) -> m.ReportUploaded:
    return m.ReportUploaded(report_id=f"r-{seq}", seq=seq, duration=0.5, depth=0)


async def test_subscribe_and_unsubscribe() -> None:
    server = make_server()
    async with raw_connection(server, token=TOKEN) as raw:
        reply = await raw.rpc(request("events.subscribe", {"events": ["report_uploaded"]}))
        assert reply["result"] == {"events": ["report_uploaded"]}
        reply = await raw.rpc(request("events.subscribe", {"events": ["file_failed"]}))
        assert reply["result"] == {"events": ["file_failed", "report_uploaded"]}
        assert server.hub.publish("report_uploaded", uploaded(1)) == 1
        note = await raw.receive()
        assert note == {
            "jsonrpc": "2.0",
            "method": "notify.report_uploaded",
            "params": {
                "report_id": "r-1",
                "seq": 1,
                "attempts": 0,
                "duration": 0.5,
                "depth": 0,
                "unit": None,  # a report queued without its unit recorded
            },
        }
        assert "id" not in note
        reply = await raw.rpc(request("events.unsubscribe", {"events": ["report_uploaded"]}))
        assert reply["result"] == {"events": ["file_failed"]}
        assert server.hub.publish("report_uploaded", uploaded(2)) == 0
        assert (await raw.rpc(request("station.ping", id="after")))["id"] == "after"


async def test_star_subscribes_to_everything_and_unsubscribes_only_itself() -> None:
    server = make_server()
    async with raw_connection(server, token=TOKEN) as raw:
        await raw.rpc(request("events.subscribe", {"events": ["*", "file_failed"]}))
        failed = m.FileFailed(converter="ict", path="/x", error="bad")
        assert server.hub.publish("counters", _counters()) == 1
        assert (await raw.receive())["method"] == "notify.counters"
        reply = await raw.rpc(request("events.unsubscribe", {"events": ["*"]}))
        assert reply["result"] == {"events": ["file_failed"]}
        assert server.hub.publish("counters", _counters()) == 0
        assert server.hub.publish("file_failed", failed) == 1


def _counters() -> m.CountersUpdate:
    stats = m.QueueStats(
        depth=0, queued=0, failed=0, uploading=0, dead=0, corrupt=0, bytes=0, max_bytes=1
    )
    return m.CountersUpdate(time=1.0, counters=m.Counters(), queue=stats)


async def test_subscribe_needs_auth_and_known_events() -> None:
    async with raw_connection(make_server()) as raw:
        reply = await raw.rpc(request("events.subscribe", {"events": ["report_uploaded"]}))
        assert code_of(reply) == ErrorCode.UNAUTHORIZED
        await raw.rpc(request("auth.login", {"token": TOKEN}))
        for events in (["report_uplodaed"], [], ["x" * 500], "report_uploaded", [1]):
            reply = await raw.rpc(request("events.subscribe", {"events": events}))
            assert code_of(reply) == ErrorCode.INVALID_PARAMS, events
            assert reply["error"]["data"]["field"].startswith("events")


async def test_publish_checks_the_event_and_payload() -> None:
    hub = make_server().hub
    with pytest.raises(ValueError, match="not declared"):
        hub.publish("report_upload", uploaded(1))
    with pytest.raises(TypeError, match="ReportUploaded"):
        hub.publish("report_uploaded", m.FileFailed(converter="c", path="p", error="e"))
    assert hub.publish("report_uploaded", uploaded(1)) == 0  # nobody listening: fine


async def test_events_containing_a_secret_are_not_sent() -> None:
    server = make_server()
    async with raw_connection(server, token=TOKEN) as raw:
        await raw.rpc(request("events.subscribe", {"events": ["log_record"]}))
        record = m.LogRecord(time=1.0, level="info", logger="x", message=f"token {SECRET}")
        assert server.hub.publish("log_record", record) == 0
        clean = m.LogRecord(time=1.0, level="info", logger="x", message="fine")
        assert server.hub.publish("log_record", clean) == 1
        assert (await raw.receive())["params"]["message"] == "fine"


async def test_a_slow_subscriber_is_dropped_and_a_fast_one_keeps_receiving(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = make_server(send_queue=4)
    hub = server.hub
    subscribe = request("events.subscribe", {"events": ["report_uploaded"]})
    # lockstep: the slow client's socket buffers nothing, like a TCP peer that stopped reading.
    async with (
        raw_connection(server, token=TOKEN, lockstep=True) as slow,
        open_memory_client(server, token=TOKEN) as fast,
        fast.subscribe(["report_uploaded"], buffer=1000) as events,
    ):
        await slow.rpc(subscribe)  # ... and from now on, it never reads
        assert len(hub.connections()) == 2
        for seq in range(100):
            before = trio.current_time()
            hub.publish("report_uploaded", uploaded(seq))  # sync: it cannot wait for anyone
            assert trio.current_time() == before
            await trio.testing.wait_all_tasks_blocked()  # let the fast client read
        received: list[int] = []
        for _ in range(100):
            event, payload = await events.__anext__()
            assert event == "report_uploaded"
            received.append(payload["seq"])
        assert received == list(range(100))
        connections = hub.connections()
        assert len(connections) == 1
        assert connections[0].subscriptions == ["report_uploaded"]
        assert hub.statistics().dropped_connections == 1
        assert hub.statistics().published == 100


async def test_publishing_to_full_queues_returns_at_once() -> None:
    """A burst bigger than every queue: the publisher is never held up, clients are dropped."""
    server = make_server(send_queue=2)
    hub = server.hub
    async with raw_connection(server, token=TOKEN, lockstep=True) as raw:
        await raw.rpc(request("events.subscribe", {"events": ["*"]}))
        delivered = [hub.publish("report_uploaded", uploaded(n)) for n in range(1000)]
        assert delivered[:2] == [1, 1]
        assert set(delivered[3:]) == {0}  # dropped, then no longer a target
        assert hub.statistics().dropped_connections == 1
        await trio.testing.wait_all_tasks_blocked()
        assert hub.connections() == []


async def test_dropped_client_sees_close_code_1008(autojump_clock: trio.testing.MockClock) -> None:
    server = make_server(send_queue=2)
    async with open_memory_client(server, token=TOKEN) as client:
        subscription = client.subscribe(["report_uploaded"], buffer=1000)
        await subscription.start()
        for n in range(10):  # no checkpoint in between: the queue overflows
            server.hub.publish("report_uploaded", uploaded(n))
        with pytest.raises(ControlConnectionError) as error:
            async for _ in subscription:
                pass
        assert error.value.close_code == 1008
        assert error.value.close_reason == "too slow"
        with pytest.raises(ControlConnectionError):
            await client.call("station.ping")


async def test_client_subscription_overflow_raises_events_dropped() -> None:
    server = make_server()
    async with open_memory_client(server, token=TOKEN) as client:
        async with client.subscribe(["report_uploaded"], buffer=3) as events:
            for n in range(5):
                server.hub.publish("report_uploaded", uploaded(n))
            await client.call("station.ping")  # the notifications have been read by now
            seen = [(await events.__anext__())[1]["seq"] for _ in range(3)]
            assert seen == [0, 1, 2]
            with pytest.raises(EventsDropped):
                await events.__anext__()
        assert (await client.call("station.ping"))["pong"]  # the connection is fine


async def test_client_subscriptions_share_the_connection() -> None:
    server = make_server()
    async with open_memory_client(server, token=TOKEN) as client:
        async with client.subscribe(["report_uploaded"]) as a:
            b = client.subscribe(["report_uploaded", "file_failed"])
            await b.start()
            server.hub.publish("report_uploaded", uploaded(1))
            server.hub.publish("file_failed", m.FileFailed(converter="c", path="p", error="e"))
            assert (await a.__anext__())[0] == "report_uploaded"
            assert [(await b.__anext__())[0] for _ in range(2)] == [
                "report_uploaded",
                "file_failed",
            ]
            await b.aclose()
            # a still needs report_uploaded: only file_failed was unsubscribed on the server.
            assert server.hub.connections()[0].subscriptions == ["report_uploaded"]
            with pytest.raises(StopAsyncIteration):
                await b.__anext__()
        assert server.hub.connections()[0].subscriptions == []


async def test_plain_iteration_subscribes_lazily_and_decode_event_types_it() -> None:
    server = make_server()
    async with open_memory_client(server, token=TOKEN) as client:
        events = client.subscribe(["report_uploaded"])
        async with trio.open_nursery() as nursery:

            async def publish_when_subscribed() -> None:
                await trio.testing.wait_all_tasks_blocked()  # the iteration has subscribed
                assert server.hub.connections()[0].subscriptions == ["report_uploaded"]
                server.hub.publish("report_uploaded", uploaded(5))

            nursery.start_soon(publish_when_subscribed)
            async for event, payload in events:
                typed = m.decode_event(event, payload)
                assert typed == uploaded(5)
                break
        await events.aclose()
    with pytest.raises(TypeError):
        client.subscribe("report_uploaded")
