"""Uploads from a path or a seekable file are streamed: sent in chunks of at most
``pywats._body.CHUNK`` bytes with a ``Content-Length``, never read whole into memory, read again
from the file when a retry sends them again; the server receives every byte."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from pywats import AsyncWATS, InvalidArgumentError, NotFoundError, RetryPolicy, pyWATS
from pywats._body import CHUNK
from pywats.testing import FakeWATS
from pywats.testing._faults import Fault
from pywats.testing._software_routes import software_state

TOKEN = "stream-token"
SIZE = 3 * CHUNK + 12_345  # several chunks and a short last one


class Recording(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator behind a transport that notes how each request body arrived."""

    def __init__(self, fake: FakeWATS) -> None:
        self.fake = fake
        self.bodies: list[tuple[bool, list[int]]] = []  # (streamed, the chunks' sizes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        streamed = not isinstance(request.stream, httpx.ByteStream)
        chunks = list(request.stream)  # type: ignore[arg-type]
        self.bodies.append((streamed, [len(c) for c in chunks]))
        return self.fake.handle_request(_rebuilt(request, b"".join(chunks)))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        streamed = not isinstance(request.stream, httpx.ByteStream)
        chunks = [chunk async for chunk in request.stream]  # type: ignore[union-attr]
        self.bodies.append((streamed, [len(c) for c in chunks]))
        return await self.fake.handle_async_request(_rebuilt(request, b"".join(chunks)))


def _rebuilt(request: httpx.Request, body: bytes) -> httpx.Request:
    return httpx.Request(request.method, request.url, headers=request.headers, content=body)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "scope capture.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


@pytest.fixture
def fake() -> Iterator[FakeWATS]:
    emulator = FakeWATS(TOKEN)
    yield emulator
    emulator.close()


@pytest.mark.parametrize("as_file_object", [False, True])
def test_an_attachment_from_a_path_or_file_is_sent_in_chunks(
    fake: FakeWATS, big_file: Path, as_file_object: bool
) -> None:
    transport = Recording(fake)
    with pyWATS("http://wats.test", TOKEN, transport=transport) as api:
        if as_file_object:
            with big_file.open("rb") as handle:
                attachment = api.rootcause.upload_attachment(handle)
        else:
            attachment = api.rootcause.upload_attachment(big_file)
        assert api.rootcause.get_attachment(attachment) == big_file.read_bytes()
    streamed, sizes = transport.bodies[0]
    assert streamed
    assert max(sizes) <= CHUNK
    assert sum(sizes) > SIZE  # the file and its form-data framing


def test_bytes_are_still_sent_as_bytes(fake: FakeWATS) -> None:
    transport = Recording(fake)
    with pyWATS("http://wats.test", TOKEN, transport=transport) as api:
        attachment = api.rootcause.upload_attachment(b"small", "note.txt")
        assert api.rootcause.get_attachment(attachment) == b"small"
    assert transport.bodies[0][0] is False


def test_the_async_client_streams_too(fake: FakeWATS, big_file: Path) -> None:
    transport = Recording(fake)

    async def main() -> bytes:
        async with AsyncWATS("http://wats.test", TOKEN, transport=transport) as api:
            attachment = await api.rootcause.upload_attachment(big_file)
            return await api.rootcause.get_attachment(attachment)

    assert trio.run(main) == big_file.read_bytes()
    streamed, sizes = transport.bodies[0]
    assert streamed
    assert max(sizes) <= CHUNK


def test_a_retry_reads_the_file_again(fake: FakeWATS, big_file: Path) -> None:
    """The first answer is lost: the zip goes again, whole, from the file."""
    transport = Recording(fake)
    with pyWATS("http://wats.test", TOKEN, transport=transport, retry=RetryPolicy()) as api:
        package = api.software.create_package("Streamed")
        zipped = big_file.with_suffix(".zip")
        _write_zip(zipped, big_file)
        fake.faults.add(Fault(kind="drop", count=1, match="UploadZip"))
        api.software.upload_zip(package.package_id, zipped)  # type: ignore[arg-type]
        files = api.software.get_package_files(package.package_id)  # type: ignore[arg-type]
    uploads = [sum(sizes) for streamed, sizes in transport.bodies if streamed]
    assert len(uploads) == 2
    assert uploads[0] == uploads[1] > zipped.stat().st_size
    [stored] = files
    assert stored.path == f"tools/{big_file.name}"
    assert software_state(fake).file_content(str(stored.package_file_id)) == big_file.read_bytes()


def test_a_file_that_shrinks_while_sent_is_an_error_naming_it(
    fake: FakeWATS, tmp_path: Path
) -> None:
    class Shrinking(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            data = super().read(size)
            return data[: len(data) // 2] if len(data) > 1000 else data

    source = Shrinking(os.urandom(SIZE))
    source.name = "cut.bin"
    transport = Recording(fake)
    with (
        pyWATS("http://wats.test", TOKEN, transport=transport) as api,
        pytest.raises(InvalidArgumentError, match="the attachment became shorter"),
    ):
        api.rootcause.upload_attachment(source)


def _write_zip(zipped: Path, member: Path) -> None:
    import zipfile

    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_STORED) as archive:
        archive.write(member, f"tools/{member.name}")


# --- downloads ---------------------------------------------------------------------------


def test_a_download_to_a_path_is_written_in_chunks_then_put_in_place(
    fake: FakeWATS, big_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "copy.bin"
    with pyWATS("http://wats.test", TOKEN, transport=fake) as api:
        attachment = api.rootcause.upload_attachment(big_file)
        assert api.rootcause.download_attachment(attachment, target) == SIZE
    assert target.read_bytes() == big_file.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.bin", big_file.name]


def test_a_download_into_a_file_object_and_async(fake: FakeWATS, big_file: Path) -> None:
    into = io.BytesIO(b"old content that is longer than nothing")

    async def main() -> int:
        async with AsyncWATS("http://wats.test", TOKEN, transport=fake) as api:
            attachment = await api.rootcause.upload_attachment(big_file)
            return await api.rootcause.download_attachment(attachment, into)

    assert trio.run(main) == SIZE
    assert into.getvalue() == big_file.read_bytes()


def test_a_failed_download_leaves_no_file(fake: FakeWATS, tmp_path: Path) -> None:
    target = tmp_path / "never.bin"
    with (
        pyWATS("http://wats.test", TOKEN, transport=fake) as api,
        pytest.raises(NotFoundError),
    ):
        api.rootcause.download_attachment("00000000-0000-0000-0000-000000000001", target)
    assert list(tmp_path.iterdir()) == []


def test_a_download_cut_short_is_tried_again_from_the_start(
    fake: FakeWATS, big_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "copy.bin"
    with pyWATS("http://wats.test", TOKEN, transport=fake, retry=RetryPolicy()) as api:
        attachment = api.rootcause.upload_attachment(big_file)
        fake.faults.add(Fault(kind="drop", count=1, match="RootCause/Attachment"))
        assert api.rootcause.download_attachment(attachment, target) == SIZE
    assert target.read_bytes() == big_file.read_bytes()


def test_a_download_needs_a_path_or_a_file(fake: FakeWATS) -> None:
    with (
        pyWATS("http://wats.test", TOKEN, transport=fake) as api,
        pytest.raises(InvalidArgumentError, match="to= must be a path or a binary file object"),
    ):
        api.report.download_attachments("33a2d408-3fc8-480b-b554-6866c77fd91c", 42)  # type: ignore[arg-type]
