"""An MES integration as a script: a product from the ERP, its units built and tested.

Against a WATS server (the emulator over TCP in CI)::

    python -m pywats.testing serve --port 8080 --token T &
    python docs/examples/mes_production_line.py --url http://127.0.0.1:8080 --token T

1. a product with two revisions, and a BOM on the one in production;
2. ten serial numbers taken for the line;
3. a controller registered with two boards as its children, and verified against the BOM;
4. test reports submitted for the controller (with the test fixture they used);
5. the fixture's use counted and its calibration logged.

Each step checks what the server answered and stops with a message if it is not what an MES
would expect, so the script is also a test of the library and the server.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta

from pywats import CompOp, ReportBuilder, pyWATS
from pywats.models.product import BomComponent
from pywats.models.production import Unit, UnitPhase

PRODUCT, BOARD = "CTRL-100", "PCB-200"
FIXTURE = "FIX-ICT-7"


def check(condition: bool, what: str) -> None:
    """Stop the script, saying what was expected, when the server's answer is not it."""
    if not condition:
        sys.exit(f"unexpected: {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("WATS_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--token", default=os.environ.get("WATS_TOKEN", ""))
    args = parser.parse_args(argv)

    with pyWATS(args.url, args.token) as api:
        # 1. The product as the ERP knows it: two revisions, B in production with its BOM.
        api.product.create_product(PRODUCT, name="Motor controller")
        api.product.create_revision(PRODUCT, "A", name="Prototype")
        api.product.create_revision(PRODUCT, "B", name="Production")
        api.product.create_product(BOARD, name="Driver board")
        api.product.create_revision(BOARD, "A")
        api.product.update_bom(PRODUCT, "B", [
            BomComponent(part_number=BOARD, revision="A", quantity=2, reference="J1;J2"),
        ])  # fmt: skip
        revisions = [r.revision for r in api.product.get_product(PRODUCT).revisions or []]
        check(revisions == ["A", "B"], f"two revisions, got {revisions}")
        bom = api.product.get_bom(PRODUCT, "B")
        check([(b.part_number, b.quantity) for b in bom] == [(BOARD, 2)], f"the BOM, got {bom}")
        print(f"product {PRODUCT}: revisions {', '.join(revisions)}; BOM {BOARD} x2")

        # 2. Serial numbers for the line: never handed out twice, in order.
        serials = api.production.allocate_serial_numbers("SerialNumber", 10, station_name="MES")
        check(len(set(serials)) == 10, f"10 distinct serial numbers, got {serials}")
        again = api.production.allocate_serial_numbers("SerialNumber", 1)
        check(again[0] not in serials, f"{again[0]} was handed out twice")
        print(f"serial numbers {serials[0]} … {serials[-1]}")

        # 3. The controller and its two boards, assembled and verified against the BOM.
        box, board_1, board_2 = serials[:3]
        api.production.create_units([
            Unit(serial_number=box, part_number=PRODUCT, revision="B"),
            Unit(serial_number=board_1, part_number=BOARD, revision="A"),
            Unit(serial_number=board_2, part_number=BOARD, revision="A"),
        ])  # fmt: skip
        for board in (board_1, board_2):
            api.production.set_unit_phase(board, BOARD, UnitPhase.FINALIZED)
            api.production.add_child_to_assembly(box, PRODUCT, board, BOARD)
        children = api.production.get_unit(box, PRODUCT).sub_units or []
        check(
            sorted(c.serial_number for c in children) == sorted([board_1, board_2]),
            f"both boards in {box}, got {children}",
        )
        assembly = api.production.verify_assembly(box, PRODUCT)
        check(assembly.valid is True, f"the assembly to match the BOM: {assembly.messages}")
        print(f"unit {box} assembled with {board_1} and {board_2}: matches the BOM")

        # 4. The controller's test reports, with the fixture they were tested in.
        fixture_type = api.asset.create_asset_type(
            "ICT fixture", running_count_limit=1000, calibration_interval=180
        )
        if fixture_type.type_id is None:  # the server gives it; a missing one is its fault
            sys.exit("unexpected: the asset type came back without its id")
        api.asset.create_asset(FIXTURE, fixture_type.type_id, asset_name="ICT fixture 7")
        for run, current in enumerate((1.32, 1.18), start=1):  # the first run fails
            uut = ReportBuilder.uut(
                pn=PRODUCT, sn=box, rev="B", process_code=10, station="ICT-7",
                location="Line 1", purpose="Production",
            )  # fmt: skip
            uut.asset(FIXTURE, usage_count=1)
            # WATS compares LE against the low limit: the current must stay at or under 1.25 A.
            uut.root.numeric("Idle current", current, CompOp.LE, low=1.25, unit="A")
            api.report.submit_report(uut.build())
            print(f"report {run} for {box}: {'Passed' if current <= 1.25 else 'Failed'}")
        grade = api.production.get_unit_grade(box, PRODUCT)
        print(f"unit {box}: {grade.grade} ({grade.status})")

        # 5. The fixture: its use counted (by the reports and by hand), its calibration logged.
        api.asset.increment_count(serial_number=FIXTURE, amount=3)  # three manual cycles
        fixture = api.asset.get_asset_by_serial(FIXTURE)
        check(fixture.total_count == 5, f"2 reports + 3 cycles = 5 uses, got {fixture.total_count}")
        calibrated = datetime.now(UTC).replace(microsecond=0)
        api.asset.record_calibration(serial_number=FIXTURE, date_time=calibrated)
        fixture = api.asset.get_asset_by_serial(FIXTURE)
        due = fixture.next_calibration_date
        check(due == calibrated + timedelta(days=180), f"calibration due in 180 days, got {due}")
        print(f"fixture {FIXTURE}: {fixture.total_count} uses; calibrated, next due {due:%Y-%m-%d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
