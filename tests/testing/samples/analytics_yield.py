"""Sample arguments for the yield side of ``api.analytics`` and its share of the contract
test's seeded emulator (merged into ``analytics.py`` with the data side's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pywats import pyWATS
from pywats.models.analytics_filter import DateGrouping, WATSFilter
from pywats.models.report import CompOp
from pywats.report_builder import ReportBuilder
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract"]

_FILTER = WATSFilter(part_number="PCBA-%", date_grouping=DateGrouping.DAY, period_count=7)

SAMPLES: dict[str, list[Args]] = {
    "analytics.get_dynamic_yield": [
        ((), {}),
        ((_FILTER,), {"dimensions": "partNumber;period;fpy asc"}),
    ],
    "analytics.get_volume_yield": [((), {"days": 7, "level": 1}), ((_FILTER,), {})],
    "analytics.get_high_volume": [((), {}), ((_FILTER,), {})],
    "analytics.get_worst_yield": [((), {"product_group": "All products"}), ((_FILTER,), {})],
    "analytics.get_high_volume_by_product_group": [((), {})],
    "analytics.get_worst_yield_by_product_group": [((_FILTER,), {})],
    "analytics.get_top_failed": [
        ((), {"part_number": "PCBA-100", "process_code": 50}),
        ((_FILTER,), {}),
    ],
    "analytics.get_oee_analysis": [
        ((), {}),
        ((_FILTER,), {"available_time": [8, 8, 8, 8, 8, 0, 0], "target_output": 100}),
    ],
    "analytics.get_yield_summary": [(("PCBA-100",), {})],
    "analytics.get_station_yield": [(("ST-1",), {})],
}

_PART = "PCBA-CONTRACT"


def _submit(api: pyWATS, sn: str, passed: bool, start: datetime) -> None:
    builder = ReportBuilder.uut(
        pn=_PART,
        sn=sn,
        rev="A",
        process_code=50,
        station="contract-station",
        location="Lab",
        purpose="Production",
        start=start,
    )
    builder.details(exec_time=42.0)
    builder.root.sequence("Power").numeric(
        "3V3", 3.3 if passed else 3.9, CompOp.GELE, low=3.2, high=3.4, unit="V"
    )
    api.report.submit_report(builder.build())


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """A unit passed first time and one failed then passed, an hour ago; requests for every
    yield route."""
    start = datetime.now(UTC) - timedelta(hours=1)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        _submit(api, "C-1", True, start)
        _submit(api, "C-2", False, start)
        _submit(api, "C-2", True, start + timedelta(minutes=5))
    empty = b"{}"
    by_day = json.dumps(
        {"partNumber": _PART, "dateGrouping": 1, "periodCount": 2, "minCount": 1}
    ).encode()
    days = (("days", "7"), ("productGroupId", ""), ("levelId", ""))
    bodies = {
        f"POST /api/App/{name}": (empty, "application/json")
        for name in (
            "DynamicYield",
            "VolumeYield",
            "HighVolume",
            "HighVolumeByProductGroup",
            "WorstYield",
            "WorstYieldByProductGroup",
            "TopFailed",
            "OeeAnalysis",
        )
    }
    probes: dict[str, list[Probe]] = {
        "POST /api/App/DynamicYield": [
            Probe("/api/App/DynamicYield", body=empty),
            Probe(
                "/api/App/DynamicYield",
                (("dimensions", "partNumber;period;fpy asc;unitCount;fpyTrend"),),
                body=by_day,
            ),
            Probe(
                "/api/App/DynamicYield",
                (("dimensions", "partNumber;noSuchKpi"),),
                body=empty,
                expect=400,
                why="an unknown dimension",
            ),
        ],
        "POST /api/App/TopFailed": [
            Probe("/api/App/TopFailed", body=empty),
            Probe("/api/App/TopFailed", body=json.dumps({"yield": 80}).encode()),
        ],
        "GET /api/App/TopFailed": [
            Probe(
                "/api/App/TopFailed",
                (("partNumber", _PART), ("processCode", "50"), ("count", "5"), *days),
            ),
            Probe(
                "/api/App/TopFailed",
                (("partNumber", ""), ("processCode", "999"), ("count", "5"), *days),
                expect=404,
                why="no process 999",
            ),
        ],
        "POST /api/App/OeeAnalysis": [
            Probe("/api/App/OeeAnalysis", (("availableTime", "24,24,24,24,24,24,24"),), empty),
            Probe(
                "/api/App/OeeAnalysis",
                (("availableTime", "8,8,8,8,8,0,0"), ("targetOutput", "100")),
                by_day,
            ),
        ],
    }
    for name in ("VolumeYield", "HighVolume", "WorstYield"):
        probes[f"GET /api/App/{name}"] = [
            Probe(f"/api/App/{name}", days),
            Probe(f"/api/App/{name}", (("days", "1"), ("productGroupId", "1"), ("levelId", ""))),
        ]
    for name in (
        "VolumeYield",
        "HighVolume",
        "WorstYield",
        "HighVolumeByProductGroup",
        "WorstYieldByProductGroup",
    ):
        probes[f"POST /api/App/{name}"] = [
            Probe(f"/api/App/{name}", body=empty),
            Probe(f"/api/App/{name}", body=by_day),
        ]
    return ContractSeed(bodies=bodies, probes=probes)
