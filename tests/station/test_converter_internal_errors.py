"""A bug anywhere in the handling of one input fails that input alone; the converter goes on.

The daemon runs in this process (tree, queue, converters; the emulator as the client's
transport), so a step of the per-file path can be made to fail the way a bug makes it fail:
here the step that reads the input again for its report ids, and the move to the error folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from pywats_station.actors import _input_pipeline as pipeline_module
from pywats_station.converters._sources import content_key as real_content_key
from pywats_station.converters._sources import to_error as real_to_error
from tests.station.control.daemon_helpers import Station, running_station, wait_until
from tests.station.e2e.harness import make_report

pytestmark = pytest.mark.trio

POISON = "poison.json"


def converter_restarts(station: Station) -> int:
    """How often the supervisor restarted the ``wsjf`` converter's actor."""
    tree = station.daemon.tree_statistics()
    assert tree is not None

    def find(node: Any) -> Any:
        if node.name == "converter:wsjf":
            return node
        for child in getattr(node, "children", []):
            if (found := find(child)) is not None:
                return found
        return None

    actor = find(tree)
    assert actor is not None
    return int(actor.restarts)


def buggy_content_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading ``poison.json`` for its ids fail the way a bug of ours would."""

    def content_key(path: Path, *args: Any) -> str:
        if path.name == POISON:
            raise RuntimeError("a bug of ours")
        return real_content_key(path, *args)

    monkeypatch.setattr(pipeline_module, "content_key", content_key)


def log_messages(station: Station, needle: str) -> list[str]:
    return [r.message for r in station.daemon.tail_logs(2000, "debug") if needle in r.message]


async def test_a_bug_while_handling_one_file_sends_it_to_error_and_the_next_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_station(tmp_path) as station:
        buggy_content_key(monkeypatch)
        poison_id, poison = make_report(1)
        (station.inbox / POISON).write_bytes(poison)
        note = station.inbox / "Error" / f"{POISON}.error.txt"
        await wait_until(note.exists, seconds=15, what="the poison file in Error")
        good_id, good = make_report(2)
        (station.inbox / "good.json").write_bytes(good)
        await wait_until(lambda: good_id in station.fake.report_ids(), what="the next file")
        assert "reason: internal error: RuntimeError: a bug of ours" in note.read_text()
        assert (station.inbox / "Error" / POISON).read_bytes() == poison
        assert poison_id not in station.fake.report_ids()
        assert converter_restarts(station) == 0
        # The traceback is in the log, once.
        [logged] = log_messages(station, f"internal error while handling {POISON}")
        assert "Traceback" in logged
        assert "RuntimeError: a bug of ours" in logged
        stats = station.daemon.converters["wsjf"].stats
        # Counted once its source is tidied, which may come after the upload.
        await wait_until(lambda: stats.converted == 1, what="the next file counted")
        assert (stats.failed, stats.converted) == (1, 1)
        assert stats.last_error is not None
        assert "internal error" in stats.last_error


async def test_when_even_the_move_fails_the_file_is_not_retried_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_station(tmp_path) as station:
        buggy_content_key(monkeypatch)
        moves: list[str] = []

        def to_error(source: Path, *args: Any, **kwargs: Any) -> Path:
            if source.name == POISON:
                moves.append(source.name)
                raise OSError(5, "Input/output error")  # the error folder's share is gone
            return real_to_error(source, *args, **kwargs)

        monkeypatch.setattr(pipeline_module, "to_error", to_error)
        _, poison = make_report(1)
        source = station.inbox / POISON
        source.write_bytes(poison)
        await wait_until(lambda: moves == [POISON], what="the failed move")
        for n in range(3):  # every new file makes the converter look at the folder again
            good_id, good = make_report(10 + n)
            (station.inbox / f"good-{n}.json").write_bytes(good)
            await wait_until(lambda rid=good_id: rid in station.fake.report_ids(), what=f"good-{n}")
        assert moves == [POISON]  # remembered as failed, not tried again in a loop
        assert source.read_bytes() == poison  # left where it was
        assert converter_restarts(station) == 0
        assert len(log_messages(station, f"{POISON} cannot be moved to the error folder")) == 1

        # Once it changes, it is looked at again (and this time the move works).
        monkeypatch.undo()
        _, again = make_report(3)
        source.write_bytes(again + b"\n")
        await wait_until(lambda: not source.exists(), seconds=15, what="the changed file")
        assert converter_restarts(station) == 0


async def test_events_carry_escaped_names(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station, station.client() as client:
        async with client.subscribe(["file_converted", "report_queued"]) as events:
            name = "two\nlines\udcff.json"  # a newline and a byte that is not UTF-8
            report_id, data = make_report(4)
            (station.inbox / name).write_bytes(data)
            seen: dict[str, Any] = {}
            with trio.fail_after(15):
                async for event, payload in events:
                    seen[event] = payload
                    if event == "report_queued":
                        break
        assert seen["file_converted"]["path"] == str(station.inbox / "two\\nlines\\xff.json")
        assert seen["report_queued"]["source"] == "wsjf:two\\nlines\\xff.json"
        assert seen["report_queued"]["report_id"] == report_id
        assert converter_restarts(station) == 0
