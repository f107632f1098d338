"""``api.software`` files against the emulator, blocking and async: zip uploads (merge, clean
install, what is refused and why), folder uploads, file attributes, upload sizes."""

from __future__ import annotations

import io
import re
import stat
import struct
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pywats
from pywats import pyWATS
from pywats._upload import multipart_body
from pywats.models.software import FileAttribute, Package, PackageFile, PackageStatus
from pywats.testing import FakeWATS
from pywats.testing._software_routes import software_state
from pywats.testing._software_zip import ZipLimits
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients
from tests.testing.samples.software import zip_of

fake, api = both_clients()

UNKNOWN = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOOL = {"bin/tool.exe": b"MZ tool v1", "bin/lib/helper.dll": b"MZ helper", "cfg/tool.ini": b"[a]"}


@pytest.fixture
def raw(fake: FakeWATS) -> Iterator[httpx.Client]:
    """Plain HTTP to the emulator: what the client's own checks never send."""
    headers = {"Authorization": f"Basic {TOKEN}"}
    with httpx.Client(transport=fake, base_url=BASE_URL, headers=headers) as http:
        yield http


@pytest.fixture
def draft(api: pyWATS) -> Package:
    return api.software.create_package("Tester")


def pid(package: Package) -> uuid.UUID:
    assert package.package_id is not None
    return package.package_id


def listing(api: pyWATS, package: Package) -> dict[str, str | None]:
    """The package's files: path -> attribute."""
    return {f.path: f.attributes for f in api.software.get_package_files(pid(package))}


def by_path(api: pyWATS, package: Package) -> dict[str, PackageFile]:
    return {f.path: f for f in api.software.get_package_files(pid(package))}


def zip_with(name: str, data: bytes = b"x", *, external_attr: int | None = None) -> bytes:
    """A zip of one member named exactly ``name`` (zipfile keeps odd names as given)."""
    info = zipfile.ZipInfo(name)
    if external_attr is not None:
        info.external_attr = external_attr
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, data)
    return buffer.getvalue()


def encrypted(data: bytes) -> bytes:
    """``data`` (a zip) with every member flagged as encrypted, in both of its headers."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        while at >= 0:
            (flags,) = struct.unpack_from("<H", out, at + offset)
            struct.pack_into("<H", out, at + offset, flags | 0x1)
            at = out.find(signature, at + 4)
    return bytes(out)


def assert_message(answer: httpx.Response, match: str) -> None:
    """The answer's ASP.NET-style ``Message`` matches ``match``."""
    message = answer.json()["Message"]
    assert re.search(match, message), message


# --- uploading --------------------------------------------------------------------------------


def test_files_are_listed_as_uploaded(api: pyWATS, fake: FakeWATS, draft: Package) -> None:
    assert api.software.upload_zip(pid(draft), zip_of(TOOL)) is None
    files = api.software.get_package_files(pid(draft))
    assert [(f.package_folder_name, f.name, f.attributes) for f in files] == [
        ("bin", "tool.exe", "None"),
        ("bin/lib", "helper.dll", "None"),
        ("cfg", "tool.ini", "None"),
    ]
    assert all(f.package_file_id for f in files)
    state = software_state(fake)
    assert {f.path: state.file_content(str(f.package_file_id)) for f in files} == TOOL


def test_a_zip_is_taken_from_a_path_or_a_file_object(
    api: pyWATS, draft: Package, tmp_path: Path
) -> None:
    path = tmp_path / "tool.zip"
    path.write_bytes(zip_of({"a/one.txt": b"1"}))
    api.software.upload_zip(pid(draft), path)
    api.software.upload_zip(pid(draft), str(path))
    with (tmp_path / "tool.zip").open("rb") as file:
        api.software.upload_zip(pid(draft), file)
    api.software.upload_zip(pid(draft), io.BytesIO(zip_of({"b/two.txt": b"2"})))
    assert list(listing(api, draft)) == ["a/one.txt", "b/two.txt"]


def test_a_second_zip_is_merged(api: pyWATS, fake: FakeWATS, draft: Package) -> None:
    api.software.upload_zip(pid(draft), zip_of(TOOL))
    before = by_path(api, draft)
    api.software.update_file_attribute(str(before["bin/tool.exe"].package_file_id), "TopLevelFile")
    api.software.upload_zip(pid(draft), zip_of({"BIN/TOOL.EXE": b"MZ v2", "doc/readme": b"r"}))
    after = by_path(api, draft)
    assert list(after) == ["bin/tool.exe", "bin/lib/helper.dll", "cfg/tool.ini", "doc/readme"]
    # The same path (in any letter case) replaces the content; the file keeps id and attribute.
    replaced = after["bin/tool.exe"]
    assert replaced.package_file_id == before["bin/tool.exe"].package_file_id
    assert replaced.attributes == "TopLevelFile"
    assert software_state(fake).file_content(str(replaced.package_file_id)) == b"MZ v2"


def test_a_clean_install_replaces_every_file(api: pyWATS, draft: Package) -> None:
    api.software.upload_zip(pid(draft), zip_of(TOOL))
    api.software.upload_zip(pid(draft), zip_of({"new/only.txt": b"1"}), clean_install=True)
    assert listing(api, draft) == {"new/only.txt": "None"}


def test_the_upload_is_multipart_form_data_with_a_zip_part(draft: Package, fake: FakeWATS) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handle_request(request)

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client:
        client.software.upload_zip(pid(draft), zip_of(TOOL), clean_install=True)
    request = seen[0]
    assert request.url.params["cleanInstall"] == "true"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'Content-Disposition: form-data; name="file"; filename="package.zip"' in body
    assert b"Content-Type: application/zip\r\n\r\nPK" in body


def test_upload_folder_zips_a_local_folder(api: pyWATS, draft: Package, tmp_path: Path) -> None:
    folder = tmp_path / "Sequences"
    (folder / "sub").mkdir(parents=True)
    (folder / "main.seq").write_bytes(b"seq")
    (folder / "sub" / "step.py").write_bytes(b"print()")
    api.software.upload_folder(pid(draft), folder)
    assert list(listing(api, draft)) == ["Sequences/main.seq", "Sequences/sub/step.py"]
    api.software.upload_folder(pid(draft), folder, folder_name="Line1", clean_install=True)
    assert list(listing(api, draft)) == ["Line1/main.seq", "Line1/sub/step.py"]


@pytest.mark.parametrize(("name", "match"), [("a/b", "one plain folder name"), ("..", "plain")])
def test_upload_folder_refuses_a_bad_folder_name(
    api: pyWATS, fake: FakeWATS, draft: Package, tmp_path: Path, name: str, match: str
) -> None:
    fake.log.clear()
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.upload_folder(pid(draft), tmp_path, folder_name=name)
    with pytest.raises(pywats.InvalidArgumentError, match="is not a folder"):
        api.software.upload_folder(pid(draft), tmp_path / "missing")
    assert not fake.log


# --- what the emulator refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (zip_of({"tool.exe": b"MZ"}), r"Zip member 'tool.exe' is at the zip's root"),
        (zip_with("/etc/passwd"), r"Zip member '/etc/passwd' has an absolute path"),
        (zip_with("C:/Windows/x.dll"), r"Zip member 'C:/Windows/x.dll' has an absolute path"),
        (zip_with("a/../../evil.txt"), r"Zip member 'a/../../evil.txt' leaves its folder"),
        (zip_with("a\\..\\..\\evil.txt"), r"leaves its folder"),
        (
            zip_with("a/link", b"/etc", external_attr=(stat.S_IFLNK | 0o777) << 16),
            r"Zip member 'a/link' is a symbolic link",
        ),
        (zip_with("a/bad\x01name"), "control characters"),
        (encrypted(zip_of({"a/secret.txt": b"s"})), r"Zip member 'a/secret.txt' is encrypted"),
        (b"PK\x03\x04 not really a zip", "not a readable zip archive"),
        (b"", "not a readable zip archive"),
    ],
    ids=[
        "root",
        "absolute",
        "drive",
        "dotdot",
        "backslash-dotdot",
        "symlink",
        "control",
        "encrypted",
        "not-zip",
        "empty",
    ],
)
def test_a_dangerous_or_broken_zip_is_refused_naming_the_member(
    api: pyWATS, draft: Package, data: bytes, match: str
) -> None:
    with pytest.raises(pywats.ValidationError, match=match):
        api.software.upload_zip(pid(draft), data)
    assert api.software.get_package_files(pid(draft)) == []


def test_nothing_of_a_refused_zip_is_kept(api: pyWATS, draft: Package) -> None:
    data = zip_of({"a/fine.txt": b"1", "root.txt": b"2"})
    with pytest.raises(pywats.ValidationError, match=r"'root\.txt' is at the zip's root"):
        api.software.upload_zip(pid(draft), data)
    assert api.software.get_package_files(pid(draft)) == []


def test_a_member_twice_is_refused(api: pyWATS, draft: Package) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/x.txt", b"1")
        archive.writestr("A/X.TXT", b"2")
    with pytest.raises(pywats.ValidationError, match=r"'A/X\.TXT' is in the zip twice"):
        api.software.upload_zip(pid(draft), buffer.getvalue())


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    api: pyWATS, fake: FakeWATS, draft: Package
) -> None:
    state = software_state(fake)
    state.zip_limits = ZipLimits(max_unpacked=10_000, max_ratio=50, ratio_floor=1_000)
    zeros = zip_of({"a/zeros.bin": bytes(5_000)})  # compresses far beyond 50:1
    with pytest.raises(pywats.ValidationError, match=r"'a/zeros.bin' expands \d+ times"):
        api.software.upload_zip(pid(draft), zeros)
    big = zip_of({"a/one.bin": b"1" * 900, "a/two.bin": bytes(range(256)) * 40})
    with pytest.raises(pywats.ValidationError, match=r"more than 10,000 bytes \(at member"):
        api.software.upload_zip(pid(draft), big)
    state.zip_limits = ZipLimits(max_members=2)
    many = zip_of({f"a/{i}.txt": b"" for i in range(3)})
    with pytest.raises(pywats.ValidationError, match="The zip has 3 members; at most 2"):
        api.software.upload_zip(pid(draft), many)
    assert api.software.get_package_files(pid(draft)) == []


@pytest.mark.parametrize("status", [PackageStatus.PENDING, PackageStatus.RELEASED])
def test_only_a_draft_takes_files(api: pyWATS, draft: Package, status: PackageStatus) -> None:
    api.software.upload_zip(pid(draft), zip_of(TOOL))
    file_id = str(api.software.get_package_files(pid(draft))[0].package_file_id)
    api.software.submit_for_review(pid(draft))
    if status is PackageStatus.RELEASED:
        api.software.release_package(pid(draft))
    with pytest.raises(pywats.ValidationError, match=f"is {status.value}; only a Draft"):
        api.software.upload_zip(pid(draft), zip_of({"x/y": b"1"}))
    with pytest.raises(pywats.ValidationError, match="file attributes can change"):
        api.software.update_file_attribute(file_id, FileAttribute.EXECUTE_ONCE)
    assert set(listing(api, draft).values()) == {"None"}


def test_upload_to_an_unknown_package_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.software.upload_zip(UNKNOWN, zip_of(TOOL))


def test_files_of_an_unknown_package_are_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.software.get_package_files(UNKNOWN)
    with pytest.raises(pywats.InvalidArgumentError, match="package_id"):
        api.software.get_package_files("bin/tool.exe")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (42, "the zip file must be bytes, a path or a binary file object, not int"),
        (io.StringIO("PK"), "open it with 'rb'"),
        ("/no/such/file.zip", "is not a file"),
    ],
)
def test_a_zip_that_cannot_be_read_is_refused_before_sending(
    api: pyWATS, fake: FakeWATS, draft: Package, source: Any, match: str
) -> None:
    fake.log.clear()
    if isinstance(source, io.StringIO):
        source.seek(0)  # shared by the sync and the async run
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.software.upload_zip(pid(draft), source)
    assert not fake.log


def test_a_zip_over_max_size_is_refused_before_sending(
    api: pyWATS, fake: FakeWATS, draft: Package, tmp_path: Path
) -> None:
    fake.log.clear()
    data = zip_of(TOOL)
    path = tmp_path / "big.zip"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        with pytest.raises(pywats.InvalidArgumentError, match="100 bytes"):
            api.software.upload_zip(pid(draft), source, max_size=100)
    with pytest.raises(pywats.InvalidArgumentError, match="with its form-data framing"):
        api.software.upload_zip(pid(draft), data, max_size=len(data))
    assert not fake.log


def test_a_zip_over_the_servers_limit_is_a_413(draft: Package, fake: FakeWATS) -> None:
    fake.max_body = 1_000
    client = pyWATS(BASE_URL, TOKEN, transport=fake, retry=pywats.RetryPolicy.never())
    with client, pytest.raises(pywats.HTTPError) as caught:
        client.software.upload_zip(pid(draft), bytes(2_000), max_size=None)
    assert caught.value.status == 413
    assert "too large" in caught.value.message


# --- the multipart body, on the wire ---------------------------------------------------------


def post_zip(raw: httpx.Client, package: Package, body: bytes, content_type: str) -> httpx.Response:
    return raw.post(
        f"/api/Software/Package/UploadZip/{package.package_id}",
        content=body,
        headers={"Content-Type": content_type},
    )


MULTIPART_B = "multipart/form-data; boundary=b"


def test_a_zip_sent_raw_is_refused(raw: httpx.Client, draft: Package) -> None:
    answer = post_zip(raw, draft, zip_of(TOOL), "application/zip")
    assert answer.status_code == 400
    assert_message(answer, "must be multipart/form-data with one application/zip file")


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        (b"--b\r\n\r\nx\r\n--b--\r\n", MULTIPART_B, "has no file"),
        (b"--b\r\nno end of headers", MULTIPART_B, "without its closing boundary"),
        (b"x", "multipart/form-data", "no valid boundary"),
        (b"x", f"multipart/form-data; boundary={'b' * 71}", "no valid boundary"),
        (b"no boundary here", MULTIPART_B, "does not start with its boundary"),
        (b"--b\r\nbroken header\r\n\r\nx\r\n--b--", MULTIPART_B, "not 'Name: value'"),
    ],
)
def test_a_malformed_multipart_body_is_refused(
    raw: httpx.Client, draft: Package, body: bytes, content_type: str, match: str
) -> None:
    answer = post_zip(raw, draft, body, content_type)
    assert answer.status_code == 400
    assert_message(answer, match)


def test_the_part_must_be_a_zip(raw: httpx.Client, draft: Package) -> None:
    body, content_type = multipart_body("file", "tool.bin", zip_of(TOOL))
    answer = post_zip(raw, draft, body, content_type)
    assert answer.status_code == 400
    assert_message(answer, "content type 'application/octet-stream'; it must be application/zip")


def test_one_zip_at_a_time(raw: httpx.Client, draft: Package) -> None:
    part = (
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.zip"\r\n'
        b"Content-Type: application/zip\r\n\r\n" + zip_of(TOOL) + b"\r\n"
    )
    answer = post_zip(raw, draft, part + part + b"--b--\r\n", MULTIPART_B)
    assert answer.status_code == 400
    assert_message(answer, "The request has 2 files")


def test_clean_install_must_be_a_boolean(raw: httpx.Client, draft: Package) -> None:
    body, content_type = multipart_body("file", "t.zip", zip_of(TOOL))
    answer = raw.post(
        f"/api/Software/Package/UploadZip/{draft.package_id}",
        params={"cleanInstall": "maybe"},
        content=body,
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == 400
    assert_message(answer, "not valid for cleanInstall")


# --- file attributes --------------------------------------------------------------------------


@pytest.mark.parametrize("attribute", list(FileAttribute))
def test_every_attribute_can_be_set(api: pyWATS, draft: Package, attribute: FileAttribute) -> None:
    api.software.upload_zip(pid(draft), zip_of(TOOL))
    file = by_path(api, draft)["cfg/tool.ini"]
    assert api.software.update_file_attribute(str(file.package_file_id), attribute) is None
    changed = by_path(api, draft)
    assert changed["cfg/tool.ini"].attribute is attribute
    assert changed["bin/tool.exe"].attributes == "None"


def test_attributes_are_read_in_any_case(raw: httpx.Client, api: pyWATS, draft: Package) -> None:
    api.software.upload_zip(pid(draft), zip_of(TOOL))
    file_id = by_path(api, draft)["bin/tool.exe"].package_file_id
    path = f"/api/Software/Package/FileAttribute/{file_id}"
    assert raw.post(path, params={"attribute": "executeoncepERversion"}).status_code == 200
    assert by_path(api, draft)["bin/tool.exe"].attributes == "ExecuteOncePerVersion"
    answer = raw.post(path, params={"attribute": "Hidden"})
    assert answer.status_code == 400
    assert_message(answer, "attribute: 'Hidden' is not a file attribute")
    assert_message(raw.post(path), "The attribute parameter is required")


def test_an_attribute_of_an_unknown_file_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="Software package file nope was not found"):
        api.software.update_file_attribute("nope", FileAttribute.TOP_LEVEL_FILE)


@pytest.mark.parametrize(("file_id", "attribute"), [("f", "Hidden"), ("", "None"), (3, "None")])
def test_a_bad_attribute_is_refused_before_sending(
    api: pyWATS, fake: FakeWATS, file_id: Any, attribute: Any
) -> None:
    with pytest.raises(pywats.InvalidArgumentError):
        api.software.update_file_attribute(file_id, attribute)
    assert not fake.log
