"""The log ring buffer: bounded, thread-safe, no feedback from the control logger, no secrets."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator

import msgspec
import pytest
import trio

from pywats_station.control.events import LogRecord
from pywats_station.logbuffer import LogBuffer, level_name

SECRET = "the-api-token-123456"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("pywats_station.test_logbuffer")
    log.setLevel(logging.DEBUG)
    yield log
    log.handlers.clear()
    log.setLevel(logging.NOTSET)


def attach(log: logging.Logger, **options: object) -> LogBuffer:
    buffer = LogBuffer(**options)  # type: ignore[arg-type]
    log.addHandler(buffer)
    return buffer


def test_keeps_the_latest_records_oldest_first(logger: logging.Logger) -> None:
    buffer = attach(logger, capacity=3)
    for n in range(5):
        logger.info("record %d", n)
    assert [r.message for r in buffer.tail(10)] == ["record 2", "record 3", "record 4"]
    assert [r.message for r in buffer.tail(2)] == ["record 3", "record 4"]
    assert len(buffer) == 3
    with pytest.raises(ValueError, match="capacity"):
        LogBuffer(capacity=0)


def test_a_message_quoting_an_undecodable_file_name_can_still_be_sent(
    logger: logging.Logger,
) -> None:
    buffer = attach(logger)
    name = os.fsdecode(b"bad\xff.json")  # as Python gives a name that is not UTF-8
    logger.warning("cannot read %s", name)
    [record] = buffer.tail(1)
    assert record.message == "cannot read bad\\udcff.json"
    assert b"bad\\\\udcff.json" in msgspec.json.encode(record)  # the event's JSON


def test_levels_and_tracebacks(logger: logging.Logger) -> None:
    buffer = attach(logger)
    logger.debug("quiet")
    logger.warning("loud")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    assert [r.level for r in buffer.tail(10)] == ["debug", "warning", "error"]
    assert buffer.tail(10, "warning")[0].message == "loud"
    failed = buffer.tail(1)[0]
    assert failed.message.startswith("failed\nTraceback")
    assert "RuntimeError: boom" in failed.message
    assert failed.logger == "pywats_station.test_logbuffer"
    assert [level_name(n) for n in (5, 10, 25, 30, 45, 50, 60)] == [
        "debug",
        "debug",
        "info",
        "warning",
        "error",
        "critical",
        "critical",
    ]


def test_the_control_logger_is_never_kept() -> None:
    buffer = LogBuffer()
    for name in ("pywats_station.control", "pywats_station.control.client"):
        record = logging.LogRecord(name, logging.ERROR, __file__, 1, "dropped", None, None)
        buffer.handle(record)
    kept = logging.LogRecord("pywats_station.controller", logging.ERROR, __file__, 1, "x", (), None)
    buffer.handle(kept)
    assert [r.logger for r in buffer.tail()] == ["pywats_station.controller"]


def test_secrets_are_masked(logger: logging.Logger) -> None:
    buffer = attach(logger, secrets=[SECRET, "short"])
    logger.warning("sending %s to the server", SECRET)
    logger.warning("a short word stays")
    buffer.add_secrets(["another-secret-value"])
    logger.warning("another-secret-value")
    assert [r.message for r in buffer.tail()] == [
        "sending *** to the server",
        "a short word stays",
        "***",
    ]


def test_a_broken_format_does_not_break_the_caller(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = attach(logger)
    monkeypatch.setattr(logging, "raiseExceptions", False)
    logger.warning("%d apples", "three")
    logger.warning("fine")
    assert [r.message for r in buffer.tail()] == ["fine"]


def test_records_from_threads_are_published_on_the_loop(logger: logging.Logger) -> None:
    buffer = attach(logger)
    published: list[tuple[str, bool]] = []

    async def main() -> None:
        loop_thread = threading.get_ident()

        def publish(record: LogRecord) -> None:
            published.append((record.message, threading.get_ident() == loop_thread))

        buffer.attach(trio.lowlevel.current_trio_token(), publish)

        def work(n: int) -> None:
            for i in range(50):
                logger.info("thread %d record %d", n, i)

        async with trio.open_nursery() as nursery:
            for n in range(4):
                nursery.start_soon(trio.to_thread.run_sync, work, n)
        logger.info("from the loop")
        await trio.sleep(0.05)  # run_sync_soon callbacks run at the next checkpoints
        buffer.detach()
        logger.info("after detach")

    trio.run(main)
    assert len(published) == 201
    assert all(on_loop for _, on_loop in published)
    assert len(buffer.tail(1000)) == 202  # kept even when nobody publishes
