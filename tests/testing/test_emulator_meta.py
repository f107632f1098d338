"""The emulator's metadata routes: app, auth, system status, System Manager, client registration."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

import pywats
from pywats import RetryPolicy, pyWATS
from pywats.models.app import Level, Process, ProductGroup
from pywats.models.system import ClientLogEntry
from pywats.testing import FakeWATS
from tests.testing.conftest import TOKEN, URL, make_uut

MAC = "4C:5F:70:D6:2F:F4"


@pytest.fixture
def raw(fake_wats: FakeWATS) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=fake_wats, base_url=URL, headers={"Authorization": f"Basic {TOKEN}"}
    ) as http:
        yield http


def codes(processes: list[Process]) -> list[int]:
    return [p.code for p in processes]


# --- app ----------------------------------------------------------------------------------------


def test_version(wats: pyWATS, raw: httpx.Client) -> None:
    assert wats.app.get_version() == "2026.1.5.324"
    assert raw.get("/api/App/Version").content == b'"2026.1.5.324"'  # a JSON string


def test_version_is_settable(wats: pyWATS, fake_wats: FakeWATS) -> None:
    fake_wats.state.version = "2025.3.1.7"

    assert wats.app.get_version() == "2025.3.1.7"


def test_processes_without_filters_are_the_active_test_repair_and_wip_ones(
    wats: pyWATS, fake_wats: FakeWATS
) -> None:
    fake_wats.state.processes.append(
        Process(code=65, name="Old ICT", is_test_operation=True, state=0)
    )
    fake_wats.state.processes.append(Process(code=70, name="Nothing", state=1))

    found = wats.app.get_processes()

    assert codes(found) == [10, 30, 31, 50, 60, 90, 100, 200, 210, 500, 510]
    by_code = {p.code: p for p in found}
    assert by_code[10].name == "SW Debug"
    assert by_code[10].is_test_operation is True
    assert by_code[200].is_wip_operation is True
    assert by_code[500].name == "Repair"
    assert by_code[500].is_repair_operation is True
    assert all(p.state == 1 and p.process_id is not None for p in found)


def test_process_include_flags(wats: pyWATS) -> None:
    assert codes(wats.app.get_processes(include_test_operations=True)) == [
        10,
        30,
        31,
        50,
        60,
        90,
        100,
        210,
    ]
    assert codes(wats.app.get_processes(include_repair_operations=True)) == [500, 510]
    assert codes(wats.app.get_processes(include_wip_operations=True)) == [200]
    assert codes(
        wats.app.get_processes(include_test_operations=True, include_repair_operations=True)
    ) == [10, 30, 31, 50, 60, 90, 100, 210, 500, 510]
    assert codes(
        wats.app.get_processes(include_test_operations=False, include_wip_operations=True)
    ) == [200]


def test_inactive_processes_only_when_asked(wats: pyWATS, fake_wats: FakeWATS) -> None:
    fake_wats.state.processes.append(
        Process(code=65, name="Old ICT", is_test_operation=True, state=0)
    )

    assert 65 not in codes(wats.app.get_processes(include_test_operations=True))
    assert 65 in codes(
        wats.app.get_processes(include_test_operations=True, include_inactive_processes=True)
    )
    assert 65 not in codes(wats.process.get_processes())
    assert 65 in codes(wats.process.get_processes(include_inactive=True))
    old = wats.process.get_process("old ict")
    assert old is not None
    assert old.code == 65
    assert old.active is False


def test_process_domain_conveniences(wats: pyWATS) -> None:
    assert codes(wats.process.get_test_operations()) == [10, 30, 31, 50, 60, 90, 100, 210]
    assert codes(wats.process.get_repair_operations()) == [500, 510]
    process = wats.process.get_process(90)
    assert process is not None
    assert process.name == "Burn In test"
    assert wats.process.get_process(999) is None


def test_bad_boolean_is_400(raw: httpx.Client) -> None:
    answer = raw.get("/api/App/Processes", params={"includeTestOperations": "yes"})

    assert answer.status_code == 400
    assert answer.json() == {"Message": "The value 'yes' is not valid for includeTestOperations."}


def test_state_replaced_from_python_is_served(wats: pyWATS, fake_wats: FakeWATS) -> None:
    fake_wats.state.processes = [
        Process(code=7, name="Flash", is_test_operation=True, state=1),
        Process(code=8, name="Rework", is_repair_operation=True, state=1),
    ]

    assert [(p.code, p.name) for p in wats.app.get_processes()] == [(7, "Flash"), (8, "Rework")]
    # Validation follows the table too: 10 is gone, 7 is a test operation now.
    with pytest.raises(pywats.ValidationError, match="processCode: 10 is not a known process"):
        wats.report.submit_report(make_uut(process_code=10))
    assert wats.report.get_report(
        wats.report.submit_report(make_uut(process_code=7))
    ).process_name == ("Flash")


def test_levels(wats: pyWATS, fake_wats: FakeWATS) -> None:
    assert wats.app.get_levels() == [
        Level(level_id=1, level_name="Default"),
        Level(level_id=2, level_name="Production"),
    ]
    fake_wats.state.levels = [Level(level_id=9, level_name="Only")]
    assert wats.app.get_levels() == [Level(level_id=9, level_name="Only")]


def test_product_groups_with_and_without_filters(wats: pyWATS, fake_wats: FakeWATS) -> None:
    rule = {"partNumber": "PN-%", "revision": "A"}
    fake_wats.state.product_groups = [
        ProductGroup(product_group_id=1, product_group_name="Boards", filters=[rule]),
        ProductGroup(product_group_id=2, product_group_name="Modules", filters=[]),
    ]

    plain = wats.app.get_product_groups()
    detailed = wats.app.get_product_groups(include_filters=True)

    assert [(g.product_group_id, g.product_group_name, g.filters) for g in plain] == [
        (1, "Boards", None),
        (2, "Modules", None),
    ]
    assert [(g.product_group_name, g.filters) for g in detailed] == [
        ("Boards", [rule]),
        ("Modules", []),
    ]


def test_default_product_group(wats: pyWATS) -> None:
    assert wats.app.get_product_groups() == [
        ProductGroup(product_group_id=1, product_group_name="All products")
    ]


def test_system_status(wats: pyWATS, fake_wats: FakeWATS) -> None:
    assert wats.system.get_system_status() == {
        "Database": "OK",
        "Processing": "OK",
        "Storage": "OK",
    }
    fake_wats.state.system_status["Processing"] = "Degraded"
    assert wats.system.get_system_status()["Processing"] == "Degraded"


def test_ping(raw: httpx.Client) -> None:
    answer = raw.get("/api/internal/Client/Ping").json()

    assert answer["ServerName"] == "pywats-emulator"
    server_time = datetime.fromisoformat(answer["ServerTime"])
    assert abs((server_time - datetime.now(UTC)).total_seconds()) < 60


# --- tokens -------------------------------------------------------------------------------------


def test_get_token_mints_a_working_token(wats: pyWATS, fake_wats: FakeWATS) -> None:
    token = wats.auth.get_token("station-7")

    assert token != TOKEN
    assert base64.b64decode(token).decode().startswith("station-7:")
    with pyWATS(URL, token, transport=fake_wats) as station:
        assert station.app.get_version() == "2026.1.5.324"


def test_reset_invalidates_the_previous_token_of_that_identifier(
    wats: pyWATS, fake_wats: FakeWATS
) -> None:
    first = wats.auth.get_token("station-7")
    other = wats.auth.get_token("station-8")
    second = wats.auth.get_token("station-7", reset=True)

    def works(token: str) -> bool:
        with pyWATS(URL, token, transport=fake_wats, retry=RetryPolicy.never()) as api:
            try:
                api.app.get_version()
            except pywats.AuthenticationError:
                return False
            return True

    assert second != first
    assert works(first) is False
    assert works(second) is True
    assert works(other) is True  # another identifier's token is untouched
    assert works(TOKEN) is True  # and so is the caller's


def test_without_reset_tokens_accumulate(wats: pyWATS, fake_wats: FakeWATS) -> None:
    first = wats.auth.get_token("station-7")
    second = wats.auth.get_token("station-7")

    assert first != second
    for token in (first, second):
        with pyWATS(URL, token, transport=fake_wats) as api:
            assert api.app.get_version() == "2026.1.5.324"


def test_get_token_is_never_retried(wats: pyWATS, fake_wats: FakeWATS) -> None:
    fake_wats.faults.errors(503, count=1)

    with pytest.raises(pywats.ServerError):
        wats.auth.get_token("station-7")

    assert [e.status for e in fake_wats.log] == [503]


# --- System Manager -----------------------------------------------------------------------------


def register(raw: httpx.Client, name: str, mac: str | None = MAC, **extra: str) -> httpx.Response:
    params = {"name": name, "location": "Lab", "purpose": "Test", **extra}
    if mac is not None:
        params["mac"] = mac
    return raw.post("/api/internal/Client/Register", params=params)


def test_register_a_client(raw: httpx.Client, fake_wats: FakeWATS) -> None:
    answer = register(raw, "STATION-1")

    assert answer.status_code == 200
    assert answer.json() == {
        "clientId": 1,
        "name": "STATION-1",
        "displayName": "STATION-1",
        "location": "Lab",
        "purpose": "Test",
        "type": 5,
        "clientGroupId": 1,
    }
    assert [c.name for c in fake_wats.state.clients] == ["STATION-1"]


def test_register_again_updates_the_same_client(raw: httpx.Client, wats: pyWATS) -> None:
    register(raw, "STATION-1")
    again = register(raw, "STATION-1", location="Line 2")
    register(raw, "STATION-2", mac="00:11:22:33:44:55")

    assert again.json()["clientId"] == 1
    assert again.json()["location"] == "Line 2"
    assert [(c.client_id, c.name, c.location) for c in wats.system.get_clients()] == [
        (1, "STATION-1", "Line 2"),
        (2, "STATION-2", "Lab"),
    ]


def test_register_needs_a_name(raw: httpx.Client) -> None:
    answer = raw.post("/api/internal/Client/Register", params={"mac": MAC})

    assert answer.status_code == 400
    assert answer.json() == {"Message": "The name parameter is required."}


def test_get_client_by_name_or_identifier(raw: httpx.Client, wats: pyWATS) -> None:
    register(raw, "STATION-1")

    by_name = wats.system.get_client(name="station-1")
    by_mac = wats.system.get_client(identifier=MAC.lower())

    assert by_name == by_mac
    assert by_name.client_id == 1
    assert by_name.purpose == "Test"
    with pytest.raises(pywats.NotFoundError) as info:
        wats.system.get_client(name="STATION-9")
    assert info.value.message == "Client STATION-9 was not found."
    with pytest.raises(pywats.NotFoundError):
        wats.system.get_client(identifier="00:00:00:00:00:00")


def test_get_client_needs_a_key(raw: httpx.Client) -> None:
    answer = raw.get("/api/SystemManager/Client")

    assert answer.status_code == 400
    assert answer.json() == {"Message": "Either name or identifier is required."}


def test_update_a_client(raw: httpx.Client, wats: pyWATS) -> None:
    register(raw, "STATION-1")
    client = wats.system.get_client(name="STATION-1")

    updated = wats.system.update_client(
        msgspec.structs.replace(client, display_name="Station one", location="Line 3")
    )

    assert updated.display_name == "Station one"
    assert updated.location == "Line 3"
    assert updated.purpose == "Test"  # unchanged
    assert wats.system.get_client(name="STATION-1") == updated
    with pytest.raises(pywats.NotFoundError):
        wats.system.update_client(msgspec.structs.replace(client, client_id=99))


def test_client_log(raw: httpx.Client, wats: pyWATS, fake_wats: FakeWATS) -> None:
    register(raw, "STATION-1")
    assert wats.system.get_client_log(MAC) == []

    fake_wats.state.client_log[1] = [
        {
            "clientLogId": 5,
            "clientId": 1,
            "logDate": "2026-01-05T08:00:00Z",
            "userName": "admin",
            "text": "moved to Line 3",
        }
    ]

    assert wats.system.get_client_log(MAC) == [
        ClientLogEntry(
            client_log_id=5,
            client_id=1,
            log_date=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
            user_name="admin",
            text="moved to Line 3",
        )
    ]
    with pytest.raises(pywats.NotFoundError):
        wats.system.get_client_log("00:00:00:00:00:00")


def test_levels_get_and_create(wats: pyWATS) -> None:
    assert wats.system.get_level(["Plant", "Line 1"]) is None

    created = wats.system.create_level(["Plant", "Line 1"])
    again = wats.system.create_level(["Plant", "Line 1"])
    sibling = wats.system.create_level(["Plant", "Line 2"])

    assert created == again == 4
    assert sibling == 5
    assert wats.system.get_level(["Plant", "Line 1"]) == 4
    assert wats.system.get_level(["Plant"]) == 3
    assert wats.system.get_level(["Line 1"]) is None  # paths are from the top
    assert [lv.level_name for lv in wats.app.get_levels()] == [
        "Default",
        "Production",
        "Plant",
        "Line 1",
        "Line 2",
    ]


def test_level_requests_are_checked(raw: httpx.Client) -> None:
    missing = raw.get("/api/SystemManager/Level")
    empty = raw.post("/api/SystemManager/Level", json=[])
    wrong = raw.post("/api/SystemManager/Level", json={"name": "x"})

    assert (missing.status_code, missing.json()) == (
        400,
        {"Message": "The hierarchy parameter is required."},
    )
    assert (empty.status_code, empty.json()) == (
        400,
        {"Message": "The hierarchy must not be empty."},
    )
    assert wrong.status_code == 400
    assert wrong.json()["Message"].startswith("The request is invalid.")


def test_writes_need_a_writing_token(fake_wats: FakeWATS) -> None:
    fake_wats.state.add_token("ro", read_only=True)

    with pyWATS(URL, "ro", transport=fake_wats, retry=RetryPolicy.never()) as reader:
        assert reader.app.get_levels() != []
        with pytest.raises(pywats.AuthorizationError):
            reader.system.create_level(["Plant"])

    assert fake_wats.state.level_id(["Plant"], create=False) is None
