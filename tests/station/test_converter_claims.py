"""Converters of one daemon and their watch folders' claims (the daemon runs in this process).

Two converters configured on one folder: the later one is broken at load, naming the earlier.
One made a duplicate while the daemon runs (enabled later) is refused by the claim, tries again,
and takes over once the holder stops. A claim file someone deletes is claimed again.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pywats_station.actors import converter as converter_module
from pywats_station.actors._folder_claim import CLAIM_FILE
from tests.station.control.daemon_helpers import running_station, wait_until
from tests.station.e2e.harness import make_report

pytestmark = pytest.mark.trio


def second_converter(inbox: Path, *, enabled: bool = True) -> str:
    """A second WSJF converter on the station's inbox (the first is ``wsjf``)."""
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "wsjf-again"
        kind = "wsjf"
        watch = "{inbox}"
        settle = 0.05
        enabled = {"true" if enabled else "false"}
        """
    )


def already_watched(inbox: Path) -> str:
    return (
        f"watch folder {inbox.resolve()} is already watched by converter 'wsjf' of this "
        "station; give each converter its own folder"
    )


async def test_a_second_converter_on_one_folder_is_broken_at_load(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    async with running_station(tmp_path, extra=second_converter(inbox)) as station:
        first = station.daemon.converters["wsjf"].stats
        second = station.daemon.converters["wsjf-again"].stats
        await wait_until(lambda: first.state == "watching", what="the first converter")
        assert (second.state, second.error) == ("broken", already_watched(inbox))
        reports = [make_report(n) for n in range(5)]
        for n, (_, data) in enumerate(reports):
            (inbox / f"unit-{n}.json").write_bytes(data)
        await wait_until(lambda: first.converted == 5, what="five files converted")
        assert second.converted == 0
        assert sorted(station.fake.report_ids()) == sorted(rid for rid, _ in reports)


async def test_a_duplicate_made_at_run_time_waits_for_the_folder_and_takes_it_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(converter_module, "_CLAIM_RETRY", 0.1)
    inbox = tmp_path / "inbox"
    extra = second_converter(inbox, enabled=False)
    async with running_station(tmp_path, extra=extra) as station:
        daemon = station.daemon
        await wait_until(
            lambda: daemon.converters["wsjf"].stats.state == "watching", what="the first"
        )
        await daemon.set_converter_enabled("wsjf-again", True)
        second = daemon.converters["wsjf-again"].stats
        await wait_until(lambda: second.state == "refused", what="the refusal")
        assert second.error == already_watched(inbox)
        logged = [r.message for r in daemon.tail_logs(500, "debug")]
        assert sum(already_watched(inbox) in m for m in logged) == 1  # said once, not at every try

        # The first converter is disabled: its actor ends, its claim with it.
        await daemon.set_converter_enabled("wsjf", False)
        await wait_until(lambda: second.state == "watching", what="the take-over")
        assert second.error is None
        report_id, data = make_report(7)
        (inbox / "after.json").write_bytes(data)
        await wait_until(lambda: second.converted == 1, what="a file converted by the second")
        assert report_id in station.fake.report_ids()


async def test_a_deleted_claim_file_is_claimed_again_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(converter_module, "_RESCAN", 0.2)  # the claim is checked every rescan
    async with running_station(tmp_path) as station:
        stats = station.daemon.converters["wsjf"].stats
        claim_file = station.inbox / CLAIM_FILE
        await wait_until(claim_file.exists, what="the claim")
        claim_file.unlink()  # someone tidying the folder

        def noticed() -> bool:
            logged = [r.message for r in station.daemon.tail_logs(500, "debug")]
            return any("was deleted or replaced by someone" in m for m in logged)

        await wait_until(noticed, what="the lost claim noticed")
        await wait_until(claim_file.exists, what="the folder claimed again")
        await wait_until(lambda: stats.state == "watching", what="watching again")
        tree = station.daemon.converter_statistics()
        assert tree is not None
        [actor] = [c for c in tree.children if c.name == "converter:wsjf"]
        assert actor.restarts == 0
        report_id, data = make_report(3)
        (station.inbox / "unit.json").write_bytes(data)
        await wait_until(lambda: report_id in station.fake.report_ids(), what="the next file")


async def test_the_claim_file_is_never_taken_for_an_input(tmp_path: Path) -> None:
    async with running_station(tmp_path) as station:
        stats = station.daemon.converters["wsjf"].stats
        await wait_until((station.inbox / CLAIM_FILE).exists, what="the claim")
        _, data = make_report(1)
        (station.inbox / "unit.json").write_bytes(data)
        await wait_until(lambda: stats.converted == 1, what="the file")
        assert (stats.failed, stats.refused) == (0, 0)
        assert (station.inbox / CLAIM_FILE).exists()
        assert list((station.inbox / "Error").iterdir()) == []


async def test_a_watch_folder_renamed_away_is_watched_and_claimed_anew_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(converter_module, "_RESCAN", 0.2)
    async with running_station(tmp_path) as station:
        stats = station.daemon.converters["wsjf"].stats
        await wait_until((station.inbox / CLAIM_FILE).exists, what="the claim")
        station.inbox.rename(tmp_path / "inbox-old")
        await wait_until((station.inbox / CLAIM_FILE).exists, what="the new folder claimed")
        await wait_until(lambda: stats.state == "watching", what="watching again")
        tree = station.daemon.converter_statistics()
        assert tree is not None
        [actor] = [c for c in tree.children if c.name == "converter:wsjf"]
        assert actor.restarts == 0  # handled by the watch loop, not by the supervisor
        report_id, data = make_report(5)
        (station.inbox / "unit.json").write_bytes(data)
        await wait_until(lambda: report_id in station.fake.report_ids(), what="the next file")
