"""``api.software`` against the emulator, blocking and async: packages, versions, tags, the
status workflow, deleting, virtual folders. Files and zips: ``test_software_files.py``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

import pywats
from pywats import pyWATS
from pywats.models.software import (
    STATUS_MOVES,
    FileAttribute,
    Package,
    PackageFile,
    PackageStatus,
    PackageTag,
)
from pywats.testing import FakeWATS
from pywats.testing._software_routes import software_state
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients
from tests.testing.samples.software import zip_of

fake, api = both_clients()

DRAFT, PENDING = PackageStatus.DRAFT, PackageStatus.PENDING
RELEASED, REVOKED = PackageStatus.RELEASED, PackageStatus.REVOKED
UNKNOWN = "0f8fad5b-d9cb-469f-a165-70867728950e"
ZIP = zip_of({"bin/tool.exe": b"MZ", "config/tool.ini": b"[tool]\n"})


@pytest.fixture
def raw(fake: FakeWATS) -> Iterator[httpx.Client]:
    """Plain HTTP to the emulator: what the client's own checks never send."""
    headers = {"Authorization": f"Basic {TOKEN}"}
    with httpx.Client(transport=fake, base_url=BASE_URL, headers=headers) as http:
        yield http


def assert_message(answer: httpx.Response, match: str) -> None:
    """The answer's ASP.NET-style ``Message`` matches ``match``."""
    message = answer.json()["Message"]
    assert re.search(match, message), message


def package_id(package: Package) -> uuid.UUID:
    assert package.package_id is not None
    return package.package_id


def in_status(api: pyWATS, name: str, status: PackageStatus, **kwargs: Any) -> Package:
    """A new package (version) walked to ``status`` along the workflow."""
    package = api.software.create_package(name, **kwargs)
    pid = package_id(package)
    path = {
        DRAFT: [],
        PENDING: [PENDING],
        RELEASED: [PENDING, RELEASED],
        REVOKED: [PENDING, RELEASED, REVOKED],
    }[status]
    for step in path:
        package = api.software.set_package_status(pid, step)
    return package


# --- creating and reading ---------------------------------------------------------------------


def test_a_new_package_is_a_draft_version_1(api: pyWATS) -> None:
    package = api.software.create_package(
        "Tester", description="ICT program", tags={"PartNumber": "100200"}, priority=3
    )
    assert package.status is DRAFT
    assert package.version == 1
    assert package.name == "Tester"
    assert package.description == "ICT program"
    assert package.tags == [PackageTag(key="PartNumber", value="100200")]
    assert package.priority == 3
    assert package.install_on_root is False
    assert package.created_by == "api"
    assert package.created is not None
    assert package.released is None
    assert api.software.get_package(package_id(package)) == package


def test_a_name_that_exists_gets_the_next_version(api: pyWATS) -> None:
    first = api.software.create_package("Tester")
    second = api.software.create_package("TESTER")  # names compare case-insensitively
    other = api.software.create_package("Other")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.package_id != second.package_id


def test_new_versions_start_empty(api: pyWATS) -> None:
    first = api.software.create_package("Tester")
    api.software.upload_zip(package_id(first), ZIP)
    second = api.software.create_package("Tester")
    assert api.software.get_package_files(package_id(second)) == []


def test_get_packages_lists_every_version_by_name(api: pyWATS) -> None:
    assert api.software.get_packages() == []
    api.software.create_package("b")
    api.software.create_package("A")
    api.software.create_package("b")
    found = api.software.get_packages()
    assert [(p.name, p.version) for p in found] == [("A", 1), ("b", 1), ("b", 2)]


def test_a_package_can_be_filed_in_a_virtual_folder(api: pyWATS) -> None:
    folders = api.software.get_virtual_folders()
    line = next(f for f in folders if f.name == "Line 1")
    package = api.software.create_package("Tester", virtual_folder_id=str(line.id))
    assert package.virtual_folder_id == line.id


def test_an_unknown_virtual_folder_is_refused(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match=f"virtualFolderId: {UNKNOWN}"):
        api.software.create_package("Tester", virtual_folder_id=UNKNOWN)


def test_virtual_folders_form_one_tree(api: pyWATS) -> None:
    folders = api.software.get_virtual_folders()
    ids = {f.id for f in folders}
    roots = [f for f in folders if f.parent_id is None]
    assert len(roots) == 1
    assert all(f.parent_id in ids for f in folders if f.parent_id is not None)
    assert all(f.name and f.description for f in folders)


def test_get_package_of_an_unknown_id_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match=f"Software package {UNKNOWN} was not found"):
        api.software.get_package(UNKNOWN)


@pytest.mark.parametrize("bad", ["not-a-guid", 42, None])
def test_a_package_id_that_is_no_guid_is_refused_before_sending(
    api: pyWATS, fake: FakeWATS, bad: Any
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match="package_id"):
        api.software.get_package(bad)
    assert not fake.log


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "name must be a non-empty str"),
        ({"name": 7}, "name must be a non-empty str"),
        (
            {"name": "x", "priority": "high"},
            r"Expected `int \| null`, got `str` - at `\$.priority`",
        ),
        ({"name": "x", "description": 5}, r"\$.description"),
        ({"name": "x", "tags": 5}, "tags must be a dict or a list"),
        ({"name": "x", "tags": {"k": 1}}, r"\$.tags\[0\].value"),
        ({"name": "x", "virtual_folder_id": "folder"}, "virtual_folder_id 'folder' is not a GUID"),
        ({"name": "x", "install_on_root": object()}, "cannot be sent"),
    ],
)
def test_create_package_with_bad_arguments_sends_nothing(
    api: pyWATS, fake: FakeWATS, kwargs: dict[str, Any], match: str
) -> None:
    kwargs = dict(kwargs)  # the parameters are shared by the sync and the async run
    name = kwargs.pop("name")
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.create_package(name, **kwargs)
    assert not fake.log


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "The request body is required"),
        (b"{}", "name: a software package needs a name"),
        (b'{"name": "  "}', "name: a software package needs a name"),
        (b'{"name": 5}', r"Expected `str \| null`, got `int` - at `\$.name`"),
        (b'{"name": "x", "tags": [{"value": "v"}]}', r"tags\[0\].key: a tag needs a name"),
        (b'{"name": "x", "tags": [{"key": "a=b"}]}', r"tags\[0\].key: a tag name cannot contain"),
        (b'{"name": "x", "virtualFolderId": "nope"}', "virtualFolderId: 'nope' is not a GUID"),
        (b"[1, 2]", "The software package is invalid"),
    ],
)
def test_the_server_names_what_is_wrong_in_a_new_package(
    raw: httpx.Client, body: bytes, match: str
) -> None:
    answer = raw.post("/api/Software/Package", content=body)
    assert answer.status_code == 400
    assert_message(answer, match)


# --- by name and by tag -----------------------------------------------------------------------


def test_by_name_is_the_highest_version_in_the_status(api: pyWATS) -> None:
    in_status(api, "Tester", RELEASED)
    second = in_status(api, "Tester", RELEASED)
    in_status(api, "Tester", DRAFT)  # version 3: not released
    found = api.software.get_package_by_name("tester")  # Released by default
    assert found == api.software.get_package(package_id(second))
    assert found.version == 2
    assert api.software.get_released_package("Tester") == found
    assert api.software.get_package_by_name("Tester", "draft").version == 3
    assert api.software.get_package_by_name("Tester", RELEASED, version=1).version == 1


def test_by_name_of_a_version_in_another_status_is_not_found(api: pyWATS) -> None:
    in_status(api, "Tester", PENDING)
    with pytest.raises(pywats.NotFoundError, match="No Released version 1 of Tester"):
        api.software.get_package_by_name("Tester", RELEASED, version=1)
    with pytest.raises(pywats.NotFoundError, match="No Released Tester"):
        api.software.get_released_package("Tester")


def test_by_name_of_an_unknown_name_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="No software package is named Nope"):
        api.software.get_package_by_name("Nope")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("",), "name must be a non-empty str"),
        (("Tester", "Shipped"), "status must be one of Draft, Pending, Released, Revoked"),
        (("Tester", RELEASED, "2"), "version must be an int"),
        (("Tester", RELEASED, True), "version must be an int"),
    ],
)
def test_by_name_with_bad_arguments_sends_nothing(
    api: pyWATS, fake: FakeWATS, args: tuple[Any, ...], match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.get_package_by_name(*args)
    assert not fake.log


def test_by_name_with_a_status_the_server_does_not_know_finds_nothing(
    api: pyWATS, raw: httpx.Client
) -> None:
    in_status(api, "Tester", RELEASED)
    answer = raw.get("/api/Software/PackageByName", params={"name": "Tester", "status": "Gone"})
    assert answer.status_code == 404
    assert_message(answer, "statuses: Draft, Pending, Released, Revoked")
    answer = raw.get("/api/Software/PackageByName", params={"name": "Tester"})
    assert answer.status_code == 400
    assert_message(answer, "The status parameter is required")


def test_by_tag_compares_the_name_exactly_and_the_value_in_any_case(api: pyWATS) -> None:
    wanted = in_status(api, "A", RELEASED, tags={"PartNumber": "pcb-1"})
    in_status(api, "B", RELEASED, tags={"partnumber": "PCB-1"})  # another tag name
    in_status(api, "C", DRAFT, tags={"PartNumber": "PCB-1"})  # not released
    in_status(api, "D", RELEASED, tags={"PartNumber": "PCB-2"})
    found = api.software.get_packages_by_tag("PartNumber", "PCB-1")
    assert found == [wanted]
    drafts = api.software.get_packages_by_tag("PartNumber", "PCB-1", status="Draft")
    assert [p.name for p in drafts] == ["C"]
    assert api.software.get_packages_by_tag("Station", "x") == []


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("a=b", "c"), "tag must be a tag's name, without '='"),
        (("", "c"), "tag must be a tag's name"),
        (("Line", 1), "value must be a str"),
        (("Line", "1", "Live"), "status must be one of"),
    ],
)
def test_by_tag_with_bad_arguments_sends_nothing(
    api: pyWATS, fake: FakeWATS, args: tuple[Any, ...], match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.get_packages_by_tag(*args)
    assert not fake.log


def test_by_tag_on_the_wire(api: pyWATS, raw: httpx.Client) -> None:
    in_status(api, "A", RELEASED, tags={"Line": ""})
    # A tag without '=' has an empty value; a status the server does not know matches nothing.
    query = {"tag": "Line", "status": "Released"}
    assert [p["name"] for p in raw.get("/api/Software/PackagesByTag", params=query).json()] == ["A"]
    query = {"tag": "Line=", "status": "Shipped"}
    assert raw.get("/api/Software/PackagesByTag", params=query).json() == []
    answer = raw.get("/api/Software/PackagesByTag", params={"status": "Released"})
    assert answer.status_code == 400
    assert_message(answer, "The tag parameter is required")


# --- the status workflow ----------------------------------------------------------------------


def test_the_workflow_from_draft_to_revoked(api: pyWATS) -> None:
    package = api.software.create_package("Tester")
    pid = package_id(package)
    assert api.software.submit_for_review(pid).status is PENDING
    assert api.software.return_to_draft(pid).status is DRAFT
    assert api.software.submit_for_review(pid).status is PENDING
    released = api.software.release_package(pid)
    assert released.status is RELEASED
    assert released.released is not None
    assert released.released_by == "api"
    assert released.revoked is None
    revoked = api.software.revoke_package(pid)
    assert revoked.status is REVOKED
    assert revoked.revoked is not None
    assert revoked.revoked_by == "api"
    assert revoked.released == released.released
    assert api.software.get_package(pid) == revoked


ILLEGAL = [
    (start, goal)
    for start in PackageStatus
    for goal in PackageStatus
    if goal not in STATUS_MOVES[start]
]


@pytest.mark.parametrize(("start", "goal"), ILLEGAL, ids=[f"{a}-{b}" for a, b in ILLEGAL])
def test_an_illegal_move_names_both_statuses(
    api: pyWATS, start: PackageStatus, goal: PackageStatus
) -> None:
    package = in_status(api, "Tester", start)
    with pytest.raises(pywats.ValidationError) as caught:
        api.software.set_package_status(package_id(package), goal)
    assert f"is {start.value}; it cannot go to {goal.value}" in caught.value.message
    assert api.software.get_package(package_id(package)).status is start


def test_the_server_allows_exactly_the_described_moves() -> None:
    moves = {(a.value, b.value) for a, bs in STATUS_MOVES.items() for b in bs}
    assert moves == {
        ("Draft", "Pending"),
        ("Pending", "Draft"),
        ("Pending", "Released"),
        ("Released", "Revoked"),
    }


def test_status_of_an_unknown_package_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.software.release_package(UNKNOWN)


def test_an_unknown_status_is_refused(api: pyWATS, fake: FakeWATS, raw: httpx.Client) -> None:
    package = api.software.create_package("Tester")
    fake.log.clear()
    with pytest.raises(pywats.InvalidArgumentError, match="status must be one of"):
        api.software.set_package_status(package_id(package), "Approved")
    assert not fake.log
    path = f"/api/Software/PackageStatus/{package.package_id}"
    answer = raw.post(path, params={"status": "Approved"})
    assert answer.status_code == 400
    assert_message(answer, "status: 'Approved' is not a package status")
    assert raw.post(path, params={"status": "pending"}).json()["status"] == "Pending"


# --- updating ---------------------------------------------------------------------------------


def test_a_draft_is_overwritten_by_an_update(api: pyWATS) -> None:
    package = api.software.create_package("Tester", description="old", priority=2)
    changed = msgspec.structs.replace(
        package,
        description="new",
        install_on_root=True,
        root_directory="Tester",
        tags=[PackageTag(key="Line", value="2")],
    )
    stored = api.software.update_package(changed)
    assert stored.description == "new"
    assert stored.install_on_root is True
    assert stored.root_directory == "Tester"
    assert stored.tag("Line") == "2"
    assert stored.priority == 2
    assert stored.modified is not None
    assert package.modified is not None
    assert stored.modified >= package.modified
    # Overwritten: what the update leaves out is gone.
    bare = api.software.update_package(Package(package_id=package.package_id, name="Tester"))
    assert (bare.description, bare.tags, bare.priority) == (None, [], 0)


def test_a_released_package_changes_only_its_tags_and_status(api: pyWATS) -> None:
    package = in_status(api, "Tester", RELEASED, description="v1")
    retagged = msgspec.structs.replace(package, tags=[PackageTag(key="Line", value="3")])
    assert api.software.update_package(retagged).tag_map == {"Line": "3"}
    with pytest.raises(pywats.ValidationError) as caught:
        api.software.update_package(msgspec.structs.replace(package, description="v2", priority=9))
    assert "is Released: only its status and tags can change, not description, priority" in (
        caught.value.message
    )
    revoked = api.software.update_package(msgspec.structs.replace(retagged, status=REVOKED))
    assert revoked.status is REVOKED
    assert revoked.revoked_by == "api"


def test_an_update_follows_the_workflow(api: pyWATS) -> None:
    package = api.software.create_package("Tester")
    with pytest.raises(pywats.ValidationError, match="is Draft; it cannot go to Released"):
        api.software.update_package(msgspec.structs.replace(package, status=RELEASED))
    moved = api.software.update_package(msgspec.structs.replace(package, status=PENDING))
    assert moved.status is PENDING


def test_an_update_may_not_take_the_name_of_another_version(api: pyWATS) -> None:
    api.software.create_package("Other")
    package = api.software.create_package("Tester")
    with pytest.raises(pywats.ValidationError, match="version 1 of Other exists already"):
        api.software.update_package(msgspec.structs.replace(package, name="Other"))


def test_update_of_an_unknown_package_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.software.update_package(Package(package_id=uuid.UUID(UNKNOWN), name="x"))


@pytest.mark.parametrize(
    ("package", "match"),
    [
        (Package(name="x"), "package_id is not set"),
        ("not a package", "package must be a Package"),
        (msgspec.structs.replace(Package(package_id=uuid.uuid4()), priority="1"), r"\$.priority"),
    ],
)
def test_update_with_bad_arguments_sends_nothing(
    api: pyWATS, fake: FakeWATS, package: Any, match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.update_package(package)
    assert not fake.log


def test_tags_may_come_as_package_info_xml(api: pyWATS, raw: httpx.Client) -> None:
    package = api.software.create_package("Tester")
    path = f"/api/Software/Package/{package.package_id}"
    body = {"name": "Tester", "tags": "<PackageInfo><Line>1</Line><Site>Oslo</Site></PackageInfo>"}
    assert raw.put(path, json=body).status_code == 200
    assert api.software.get_package(package_id(package)).tag_map == {"Line": "1", "Site": "Oslo"}
    body["tags"] = '<!DOCTYPE x [<!ENTITY a "b">]><PackageInfo/>'
    answer = raw.put(path, json=body)
    assert answer.status_code == 400
    assert_message(answer, "may not declare a DOCTYPE")
    body["tags"] = "<Other/>"
    assert_message(raw.put(path, json=body), "root must be <PackageInfo>")


def test_a_put_without_a_body_is_refused(raw: httpx.Client) -> None:
    answer = raw.put(f"/api/Software/Package/{UNKNOWN}")
    assert answer.status_code == 400
    assert_message(answer, "The request body is required")


# --- deleting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [DRAFT, REVOKED])
def test_a_draft_or_revoked_package_is_deleted_with_its_files(
    api: pyWATS, fake: FakeWATS, status: PackageStatus
) -> None:
    package = api.software.create_package("Tester")
    api.software.upload_zip(package_id(package), ZIP)
    package = in_status_from(api, package, status)
    assert api.software.delete_package(package_id(package)) is None
    assert api.software.get_packages() == []
    assert software_state(fake).files == {}
    with pytest.raises(pywats.NotFoundError):
        api.software.get_package(package_id(package))


def in_status_from(api: pyWATS, package: Package, status: PackageStatus) -> Package:
    if status is REVOKED:
        for step in (PENDING, RELEASED, REVOKED):
            package = api.software.set_package_status(package_id(package), step)
    return package


@pytest.mark.parametrize("status", [PENDING, RELEASED])
def test_a_pending_or_released_package_is_not_deleted(api: pyWATS, status: PackageStatus) -> None:
    package = in_status(api, "Tester", status)
    with pytest.raises(pywats.ValidationError) as caught:
        api.software.delete_package(package_id(package))
    assert f"is {status.value}; only a Draft or Revoked package can be deleted" in (
        caught.value.message
    )
    assert api.software.get_packages() == [package]


def test_delete_of_an_unknown_package_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.software.delete_package(UNKNOWN)


def test_delete_by_name_deletes_that_version(api: pyWATS, raw: httpx.Client) -> None:
    api.software.create_package("Tester")
    second = api.software.create_package("Tester")
    api.software.delete_package_by_name("tester", 1)
    assert api.software.get_packages() == [second]
    answer = raw.delete("/api/Software/PackageByName", params={"name": "Tester", "version": 2})
    assert answer.status_code == 204
    assert api.software.get_packages() == []


def test_delete_by_name_of_a_released_version_is_refused(api: pyWATS) -> None:
    in_status(api, "Tester", RELEASED)
    with pytest.raises(pywats.ValidationError, match="is Released"):
        api.software.delete_package_by_name("Tester", 1)


def test_delete_by_name_of_an_unknown_version_is_not_found(api: pyWATS) -> None:
    api.software.create_package("Tester")
    with pytest.raises(pywats.NotFoundError, match="Version 2 of software package Tester"):
        api.software.delete_package_by_name("Tester", 2)


@pytest.mark.parametrize(("name", "version"), [("Tester", "1"), ("", 1), ("Tester", None)])
def test_delete_by_name_with_bad_arguments_sends_nothing(
    api: pyWATS, fake: FakeWATS, name: Any, version: Any
) -> None:
    with pytest.raises(pywats.InvalidArgumentError):
        api.software.delete_package_by_name(name, version)
    assert not fake.log


# --- the emulator and the models ------------------------------------------------------------


def test_reset_forgets_the_packages(api: pyWATS, fake: FakeWATS) -> None:
    api.software.create_package("Tester")
    fake.reset()
    assert api.software.get_packages() == []


def test_a_single_package_answer_is_read_as_a_list() -> None:
    # The description types the list answers as one Package; a server answering so is read.
    one = {"packageId": UNKNOWN, "name": "Tester", "status": "Released"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=one)

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client:
        found = client.software.get_packages()
    assert [(p.name, p.status) for p in found] == [("Tester", RELEASED)]


def test_package_helpers() -> None:
    package = Package(tags=[PackageTag(key="Line", value="1"), PackageTag(key="line", value="2")])
    assert package.tag("Line") == "1"
    assert package.tag("LINE") is None
    assert package.tag_map == {"Line": "1", "line": "2"}
    file = PackageFile(name="a.exe", package_folder_name="bin/x", attributes="topLevelFile")
    assert file.path == "bin/x/a.exe"
    assert file.attribute is FileAttribute.TOP_LEVEL_FILE
    assert PackageFile(name="a", attributes="Unheard").attribute is None
    wire = msgspec.json.decode(msgspec.json.encode(PackageFile(description="d")))
    assert wire == {"Description": "d"}  # the DTO's one PascalCase member
