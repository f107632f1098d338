"""Contract samples of ``api.workflow`` (a unit's test activity)."""

from __future__ import annotations

from pywats.testing import FakeWATS
from tests.testing.contract import call
from tests.testing.samples import Args, ContractSeed, Probe

SAMPLES: dict[str, list[Args]] = {
    "workflow.start_test": [
        (("SN-1", "PN-1"), {}),
        (("SN-1", "PN-1"), {"operator_name": "op", "station_name": "st", "status": 2}),
    ],
    "workflow.end_test": [
        (("SN-1", "PN-1"), {}),
        (
            ("SN-1", "PN-1"),
            {"passed": False, "operator_name": "op", "station_name": "st", "status": 2},
        ),
    ],
}

_UNIT = (("serialNumber", "WF-1"), ("partNumber", "PN-WF"))


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """A unit with a running test, and a request per route."""
    started = call(fake, "GET", "/api/Workflow/StartTest", _UNIT)
    assert started.status == 200, f"seeding a workflow test: {started}"
    return ContractSeed(
        probes={
            "GET /api/Workflow/StartTest": [
                Probe(
                    "/api/Workflow/StartTest",
                    (("serialNumber", "WF-2"), ("partNumber", "PN-WF"), ("status", "1")),
                ),
                Probe("/api/Workflow/StartTest", _UNIT, why="already running: false"),
            ],
            "GET /api/Workflow/EndTest": [
                Probe(
                    "/api/Workflow/EndTest",
                    (*_UNIT, ("passed", "false"), ("operatorName", "op"), ("stationName", "st")),
                ),
                Probe("/api/Workflow/EndTest", _UNIT, why="ended already: false"),
                Probe(
                    "/api/Workflow/EndTest",
                    (("serialNumber", "WF-9"), ("partNumber", "PN-WF")),
                    expect=404,
                    why="no test was ever started on the unit",
                ),
            ],
        },
    )
