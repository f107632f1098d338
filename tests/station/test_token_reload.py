"""A new API token reaches the running daemon without a restart (``login``, ``logout``).

The daemon runs in this process with the emulator as its transport; its configuration holds
the good token in ``server.token``, which a token stored by ``login`` overrides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pywats_station.secrets import delete_token, store_token
from tests.station.control.daemon_helpers import running_station, wait_until
from tests.station.e2e.harness import make_report

pytestmark = pytest.mark.trio


async def test_login_and_logout_change_the_token_of_the_running_daemon(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        daemon = station.daemon

        def state() -> str:
            return daemon.runtime.connection.value

        await wait_until(lambda: state() == "online", what="online with the configured token")
        good = daemon.api_token

        store_token(station.paths, "a-token-the-server-does-not-know")  # `pywats-station login`
        await wait_until(lambda: state() == "auth_failed", seconds=15, what="the new token used")
        assert daemon.api_token == "a-token-the-server-does-not-know"
        report_id, data = make_report(3)
        (station.inbox / "unit.json").write_bytes(data)
        await wait_until(lambda: daemon.queue.depth() == 1, what="the report queued")
        assert report_id not in station.fake.report_ids()  # it waits, it is not lost

        delete_token(station.paths)  # `pywats-station logout`: the configured token again
        await wait_until(lambda: state() == "online", seconds=15, what="the old token back")
        assert daemon.api_token == good
        await wait_until(lambda: report_id in station.fake.report_ids(), what="the upload")
        assert daemon.queue.depth() == 0
