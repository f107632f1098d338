"""The predecessor's names (``docs/migrating.md``): each one listed exists, warns once naming the
operation to use, and runs that operation against the emulator, giving what it gives."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
import trio

from pywats import AsyncWATS, CompOp, ReportBuilder, RetryPolicy, UUTReport, _deprecated, pyWATS
from pywats._domain import operation
from pywats._errors import InvalidArgumentError
from pywats.api import DOMAINS
from pywats.odata import F
from pywats.testing import FakeWATS
from tests.doc_examples import ROOT

URL = "http://wats.test"
TOKEN = "test-token"
NOW = datetime.now().astimezone()
MIDNIGHT = datetime.combine(date.today(), time()).astimezone()
FROM, TO = NOW - timedelta(days=4), NOW - timedelta(days=1)
T = F.report_type == "T"
R = F.report_type == "R"


def _unit(sn: str, pn: str, start: datetime, *, passed: bool = True) -> UUTReport:
    uut = ReportBuilder.uut(pn=pn, sn=sn, rev="A", process_code=10, station="ST-1",
                            location="Lab", purpose="Production", start=start)  # fmt: skip
    uut.sub_unit("PCB", pn="PCB-7", sn=f"PCB-{sn}", rev="B")
    uut.root.numeric("V", 1.0 if passed else 9.0, CompOp.GELE, low=0.5, high=1.5, unit="V")
    uut.root.pass_fail("LED", True).attach("led.txt", b"on", "text/plain")
    return uut.build()


TODAYS = _unit("SN-0001", "PN-100", NOW)
OLDER = _unit("SN-0002", "PN-200", NOW - timedelta(days=3), passed=False)
REPAIR = ReportBuilder.uur(process_code=500, station="R-1", location="Lab", repairing=TODAYS)
REPAIR.attach("notes.txt", b"fixed", "text/plain")
REPAIRED = REPAIR.build()


def _process_10_name(api: pyWATS) -> str:
    found = api.process.get_process(10)
    assert found is not None
    assert found.name
    return found.name


Call = Callable[[pyWATS], Any]
# The old name's call, and the same request written as this library writes it.
CASES: dict[str, tuple[Call, Call]] = {
    "api.get_version": (lambda a: a.get_version(), lambda a: a.app.get_version()),
    "api.test_connection": (
        lambda a: a.test_connection(),
        lambda a: bool(a.app.get_version()),
    ),
    "api.report.submit": (
        lambda a: a.report.submit(TODAYS),
        lambda a: a.report.submit_report(TODAYS),
    ),
    "api.report.get_all_attachments": (
        lambda a: a.report.get_all_attachments(str(REPAIRED.id)),
        lambda a: a.report.get_attachments(REPAIRED.id),
    ),
    "api.report.query_uut_headers": (
        lambda a: a.report.query_uut_headers(odata_filter="result eq 'Failed'", top=5),
        lambda a: a.report.query_headers(T & (F.result == "Failed"), top=5),
    ),
    "api.report.query_uur_headers": (
        lambda a: a.report.query_uur_headers(expand=["uurSubUnits"]),
        lambda a: a.report.query_headers(R, expand=["uurSubUnits"]),
    ),
    "api.report.get_headers_by_serial": (
        lambda a: a.report.get_headers_by_serial("SN-0001"),
        lambda a: a.report.query_headers(T & (F.serial_number == "SN-0001")),
    ),
    "api.report.get_headers_by_part_number": (
        lambda a: a.report.get_headers_by_part_number("PN-100", "uur"),
        lambda a: a.report.query_headers(R & (F.part_number == "PN-100")),
    ),
    "api.report.get_headers_by_date_range": (
        # Naive times, as the predecessor's scripts give them: the station's local time.
        lambda a: a.report.get_headers_by_date_range(
            FROM.replace(tzinfo=None), TO.replace(tzinfo=None)
        ),
        lambda a: a.report.query_headers(T & (F.start >= FROM) & (F.start <= TO)),
    ),
    "api.report.get_recent_headers": (
        lambda a: a.report.get_recent_headers(days=7),
        lambda a: a.report.query_headers(T & (F.start >= NOW - timedelta(days=7))),
    ),
    "api.report.get_todays_headers": (
        lambda a: a.report.get_todays_headers(),
        lambda a: a.report.query_headers(T & (F.start >= MIDNIGHT)),
    ),
    "api.report.query_headers_with_subunits": (
        lambda a: a.report.query_headers_with_subunits(),
        lambda a: a.report.query_headers(T, expand=["subUnits"]),
    ),
    "api.report.query_headers_by_subunit_part_number": (
        lambda a: a.report.query_headers_by_subunit_part_number("PCB-7", top=1),
        lambda a: a.report.query_headers(
            T & F.sub_units.any(lambda s: s.part_number == "PCB-7"), top=1, expand=["subUnits"]
        ),
    ),
    "api.report.query_headers_by_subunit_serial": (
        lambda a: a.report.query_headers_by_subunit_serial("PCB-SN-0002"),
        lambda a: a.report.query_headers(
            T & F.sub_units.any(lambda s: s.serial_number == "PCB-SN-0002"), expand=["subUnits"]
        ),
    ),
    "api.process.get_process_by_code": (
        lambda a: a.process.get_process_by_code(10),
        lambda a: a.process.get_process(10),
    ),
    "api.process.get_process_by_name": (
        lambda a: a.process.get_process_by_name(_process_10_name(a).upper()),
        lambda a: a.process.get_process(10),
    ),
}


def _table() -> dict[str, str]:
    """The rows of "Renamed operations": old name -> the operation named in the second column."""
    text = (ROOT / "docs" / "migrating.md").read_text(encoding="utf-8")
    section = text.split("## Renamed operations")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(api\.[\w.]+)\(\)` \| `(api\.[\w.]+)\(", section, re.MULTILINE)
    return dict(rows)


def _implemented() -> set[str]:
    """Every old name the library has: operations with ``replaced_by``, and the client's own."""
    names = {"api.get_version", "api.test_connection"}
    with pyWATS(URL, TOKEN, transport=FakeWATS()) as api:
        for attr in DOMAINS:
            for klass in type(getattr(api, attr)).__mro__:
                for name, value in vars(klass).items():
                    if isinstance(value, operation) and value.replaced_by is not None:
                        names.add(f"api.{attr}.{name}")
    return names


@pytest.fixture
def api() -> Iterator[pyWATS]:
    fake = FakeWATS(token=TOKEN)
    with pyWATS(URL, TOKEN, transport=fake, retry=RetryPolicy.never()) as client:
        for report in (TODAYS, OLDER, REPAIRED):
            client.report.submit_report(report)
        yield client
    fake.close()


@pytest.fixture(autouse=True)
def _warn_anew() -> Iterator[None]:
    _deprecated._forget()  # each test sees each name's first warning
    yield
    _deprecated._forget()


def test_the_table_lists_every_alias_and_only_them() -> None:
    assert set(_table()) == set(CASES) == _implemented()
    assert 15 <= len(CASES) <= 25


@pytest.mark.parametrize("old", sorted(CASES))
def test_an_alias_warns_once_and_runs_the_operation_it_names(old: str, api: pyWATS) -> None:
    run_old, run_new = CASES[old]
    new = _table()[old]
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")  # so only the alias's own "once" holds a second back
        first = run_old(api)
        second = run_old(api)
    [warning] = warned
    assert warning.category is DeprecationWarning
    assert str(warning.message).startswith(f"{old}() is deprecated; use {new}")
    assert str(warning.message).endswith("(see docs/migrating.md)")
    assert warning.filename == __file__, "the warning points at the script's line"
    expected = run_new(api)
    assert first == second == expected
    if isinstance(expected, list):  # a query: the seeded reports are there to be found
        assert expected, f"{old}: the comparison found nothing"


def test_aliases_work_on_the_async_client() -> None:
    async def main() -> tuple[bool, list[Any]]:
        async with AsyncWATS(URL, TOKEN, transport=FakeWATS(token=TOKEN)) as api:
            await api.report.submit_report(TODAYS)
            return await api.test_connection(), await api.report.get_headers_by_serial("SN-0001")

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        connected, headers = trio.run(main)
    assert [str(w.message).split("()")[0] for w in warned] == [
        "api.test_connection",
        "api.report.get_headers_by_serial",
    ]
    assert connected is True
    assert [h.uuid for h in headers] == [TODAYS.id]


def test_test_connection_is_false_when_the_server_cannot_be_reached() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport = httpx.MockTransport(refuse)
    with (
        pyWATS(URL, TOKEN, transport=transport, retry=RetryPolicy.never()) as api,
        pytest.warns(DeprecationWarning, match=r"api\.test_connection\(\) is deprecated"),
    ):
        assert api.test_connection() is False


def test_an_unknown_report_type_is_refused(api: pyWATS) -> None:
    with (
        pytest.warns(DeprecationWarning, match=r"get_headers_by_serial\(\) is deprecated"),
        pytest.raises(InvalidArgumentError, match="report_type 'both' is not 'uut' or 'uur'"),
    ):
        api.report.get_headers_by_serial("SN-0001", "both")


def test_the_old_names_say_what_they_are_in_help(api: pyWATS) -> None:
    assert (api.report.query_uut_headers.__doc__ or "").startswith("Deprecated:")
    assert (pyWATS.test_connection.__doc__ or "").startswith("Deprecated:")
