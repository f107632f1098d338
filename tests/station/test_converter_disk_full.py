"""A converter whose reports cannot be written to the queue (disk full) loses nothing.

The daemon runs in this process (tree, queue, converters; the emulator as the client's
transport), so the queue's ``put`` can be made to fail the way a full disk makes it fail.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import trio

from tests.station.control.daemon_helpers import running_station, wait_until
from tests.station.e2e.harness import make_report

pytestmark = pytest.mark.trio


async def test_a_file_whose_reports_cannot_be_queued_stays_and_is_converted_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_station(tmp_path) as station:
        queue = station.daemon.queue
        refused: list[str] = []

        def disk_full(report_id: str, *args: object, **kwargs: object) -> None:
            refused.append(report_id)
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(queue, "put", disk_full)
        report_id, data = make_report(5)
        source = station.inbox / "unit.json"
        source.write_bytes(data)
        await wait_until(lambda: refused == [report_id], what="the refused put")
        await trio.sleep(1.0)  # whatever the converter does next, it does it now
        assert source.read_bytes() == data  # left where it was: the only copy
        error = station.inbox / "Error"
        assert not error.exists() or list(error.iterdir()) == []
        assert queue.depth() == 0
        assert report_id not in station.fake.report_ids()

        monkeypatch.undo()  # room on the disk again
        await wait_until(
            lambda: report_id in station.fake.report_ids(), seconds=15, what="the retry"
        )
        assert not source.exists()
        assert (station.inbox / "Done" / "unit.json").read_bytes() == data
        assert refused == [report_id]  # tried again after its pause, not in a tight loop
