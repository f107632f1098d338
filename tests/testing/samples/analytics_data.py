"""Contract samples of the data half of ``api.analytics`` (measurements, step analysis, report
lists and histories, repairs) and its share of the contract test's seeded emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pywats import ReportBuilder, pyWATS
from pywats.models.analytics_data import measurement_path
from pywats.models.analytics_filter import Run, WATSFilter
from pywats.models.report import CompOp
from tests.testing.samples import Args, ContractSeed, Probe

if TYPE_CHECKING:
    from pywats.testing import FakeWATS

__all__ = ["SAMPLES", "seed_contract"]

_PN = "CT-DATA-1"
_OPERATION = "PCBA test"
_PATH = measurement_path("MainSequence Callback", "Power", "3V3")
_FILTER = WATSFilter(part_number=_PN, test_operation=_OPERATION)

SAMPLES: dict[str, list[Args]] = {
    "analytics.get_measurements": [((_FILTER,), {}), ((_FILTER, [_PATH]), {})],
    "analytics.get_aggregated_measurements": [((_FILTER, _PATH), {})],
    "analytics.get_test_step_analysis": [((_FILTER,), {})],
    "analytics.get_test_step_analysis_for_operation": [((_PN, _OPERATION), {"run": Run.ALL})],
    "analytics.get_serial_number_history": [((WATSFilter(serial_number="CT-1"),), {})],
    "analytics.get_uut_reports": [((), {}), ((WATSFilter(top_count=5),), {})],
    "analytics.find_uut_reports": [
        ((), {}),
        (
            (),
            {
                "serial_number": "CT-1",
                "part_number": _PN,
                "revision": "A",
                "batch_number": "B1",
                "station_name": "CT-ST",
                "test_operation": _OPERATION,
                "status": "Passed",
                "date_from": datetime(2026, 1, 1, tzinfo=UTC),
                "date_to": datetime(2027, 1, 1, tzinfo=UTC),
                "product_group_id": 1,
                "level_id": [1, 2],
            },
        ),
    ],
    "analytics.get_uur_reports": [((WATSFilter(part_number=_PN),), {})],
    "analytics.get_dynamic_repair": [((), {}), ((None, "repairCode;partNumber desc"), {})],
    "analytics.get_related_repair_history": [
        ((_PN, "A"), {}),
        ((_PN, "A"), {"repair_operation_code": 500, "test_operation_code": 50}),
    ],
}


def _reports(api: pyWATS) -> None:
    """Two units of one part, the first failing and repaired, within the last day."""
    now = datetime.now(UTC)
    for n, value in enumerate((3.1, 3.3), start=1):
        uut = ReportBuilder.uut(
            pn=_PN,
            sn=f"CT-{n}",
            rev="A",
            process_code=50,
            station="CT-ST",
            location="Lab",
            purpose="Production",
            operator="ada",
            start=now - timedelta(hours=3 - n),
        )
        uut.misc_info("Fixture", "F1")
        power = uut.root.sequence("Power")
        power.numeric("3V3", value, CompOp.GELE, low=3.2, high=3.4, unit="V")
        report = uut.build()
        api.report.submit_report(report)
        if report.result == "F":
            step = report.steps()[2]
            repair = ReportBuilder.uur(
                repairing=report, process_code=500, station="CT-REPAIR", location="Lab"
            )
            repair.failure("Component", "Defect component", com_ref="R1", ref_step=step)
            api.report.submit_report(repair.build())


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def seed_contract(fake: FakeWATS) -> ContractSeed:
    """Test and repair reports of one part, and valid requests for every data route."""
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        _reports(api)
    stats = _json({"partNumber": _PN, "testOperation": _OPERATION})
    paths = (("measurementPaths", _PATH),)
    history = _json({"serialNumber": "CT-1"})
    lists = _json({"partNumber": _PN, "topCount": 10})
    repair = _json({"partNumber": _PN, "dimensions": "repairCode;componentRef"})
    bodies = {
        "POST /api/App/Measurements": (stats, "application/json"),
        "POST /api/App/AggregatedMeasurements": (stats, "application/json"),
        "POST /api/App/TestStepAnalysis": (stats, "application/json"),
        "POST /api/App/SerialNumberHistory": (history, "application/json"),
        "POST /api/App/UutReport": (lists, "application/json"),
        "POST /api/App/UurReport": (lists, "application/json"),
        "POST /api/App/DynamicRepair": (repair, "application/json"),
    }
    probes = {
        "POST /api/App/Measurements": [
            Probe("/api/App/Measurements", paths, body=stats),
            Probe("/api/App/Measurements", body=stats),
            Probe(
                "/api/App/Measurements",
                body=b"{}",
                expect=400,
                why="partNumber and testOperation are required",
            ),
        ],
        "POST /api/App/AggregatedMeasurements": [
            Probe("/api/App/AggregatedMeasurements", paths, body=stats),
            Probe("/api/App/AggregatedMeasurements", body=stats),
        ],
        "POST /api/App/TestStepAnalysis": [
            Probe("/api/App/TestStepAnalysis", body=stats),
            Probe(
                "/api/App/TestStepAnalysis",
                body=_json({"partNumber": _PN, "testOperation": "50", "run": -2}),
            ),
        ],
        "POST /api/App/SerialNumberHistory": [Probe("/api/App/SerialNumberHistory", body=history)],
        "GET /api/App/UutReport": [
            Probe("/api/App/UutReport"),
            Probe(
                "/api/App/UutReport",
                (("partNumber", _PN), ("status", "Failed"), ("productGroupId", "1")),
            ),
            Probe(
                "/api/App/UutReport",
                (("levelId", "Production;1"), ("testOperation", "50")),
            ),
            Probe(
                "/api/App/UutReport",
                (("levelId", "x"),),
                expect=404,
                why="no level has that id or name",
            ),
        ],
        "POST /api/App/UutReport": [
            Probe("/api/App/UutReport", body=lists),
            Probe("/api/App/UutReport", body=b"{}"),
        ],
        "POST /api/App/UurReport": [Probe("/api/App/UurReport", body=lists)],
        "POST /api/App/DynamicRepair": [
            Probe("/api/App/DynamicRepair", body=b"{}"),
            Probe("/api/App/DynamicRepair", body=repair),
            Probe(
                "/api/App/DynamicRepair",
                (("dimensions", "repairCount desc;period;referencedStepPath"),),
                body=b"{}",
            ),
        ],
        "GET /api/App/RelatedRepairHistory": [
            Probe("/api/App/RelatedRepairHistory", (("partNumber", _PN), ("revision", "A"))),
            Probe(
                "/api/App/RelatedRepairHistory",
                (
                    ("partNumber", _PN),
                    ("revision", "A"),
                    ("repairOperationCode", "500"),
                    ("testOperationCode", "50"),
                ),
            ),
        ],
    }
    return ContractSeed(bodies=bodies, probes=probes)
