"""The README's quick start, runnable: build a report, submit it, read and query it back.

It runs against the emulated WATS server in process, so it needs no server. To use a real one,
replace the URL and token and drop ``transport=``.
"""

from __future__ import annotations

from pywats import CompOp, ReportBuilder, pyWATS
from pywats.odata import F
from pywats.testing import FakeWATS


def main() -> None:
    """Build, submit, read back and query one test report."""
    uut = ReportBuilder.uut(
        pn="PN-100",
        sn="SN-0001",
        rev="A",
        process_code=10,
        station="STATION-1",
        location="Lab",
        purpose="Development",
    )
    power = uut.root.sequence("Power")
    power.numeric("Supply voltage", 5.02, CompOp.GELE, low=4.9, high=5.1, unit="V")
    power.numeric("Ripple", 0.08, CompOp.LE, low=0.05, unit="V")  # fails: above its limit
    uut.root.pass_fail("LED", True)
    report = uut.build()

    with pyWATS("https://mycompany.wats.com", "test-token", transport=FakeWATS()) as api:
        report_id = api.report.submit_report(report)
        back = api.report.get_report(report_id)
        print(f"submitted {report_id}: {back.pn} {back.sn} result {back.result}")
        for step in back.steps():
            if step.numeric_meas:
                m = step.numeric_meas[0]
                print(f"  {step.name}: {m.value} {m.unit} {m.comp_op} -> {step.status}")
        for header in api.report.query_headers(F.part_number == "PN-100", expand=["miscInfo"]):
            print(f"header: {header.serial_number} {header.result} run {header.run}")


if __name__ == "__main__":
    main()
