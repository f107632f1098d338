"""Shared fixtures and report builders for the emulator's tests.

``pytest_plugins`` is only allowed in the rootdir conftest, so the plugin's fixtures are imported
here instead (pytest finds fixtures by name in a conftest's namespace).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pywats import RetryPolicy, pyWATS
from pywats.models.report import (
    Attachment,
    BinaryData,
    Failure,
    MiscInfo,
    NumericMeasurement,
    SequenceCall,
    Step,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)
from pywats.testing import FakeWATS
from pywats.testing.pytest_plugin import (  # noqa: F401 - fixtures, found by name
    async_wats,
    fake_wats,
    wats,
    wats_server,
)

URL = "http://wats.test"
TOKEN = "test-token"
ATTACHMENT_BYTES = b"line 1\nline 2\n"
BLOB_BYTES = b"\x89PNG\r\n\x1a\nnot really a picture"
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    """Base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def make_uut(
    *,
    sn: str = "SN-1",
    pn: str = "PN-1",
    result: str = "P",
    process_code: int = 10,
    start: datetime = START,
    step_ids: bool = True,
    misc: list[MiscInfo] | None = None,
) -> UUTReport:
    """A small valid test report: a root sequence, a numeric step, a step with an attachment."""
    voltage = Step(
        id=2 if step_ids else None,
        group="M",
        step_type="ET_NLT",
        name="Voltage",
        status="P",
        numeric_meas=[
            NumericMeasurement(
                status="P", value=5.0, unit="V", comp_op="GELE", low_limit=4.5, high_limit=5.5
            )
        ],
    )
    log = Step(
        id=3 if step_ids else None,
        group="M",
        step_type="Action",
        name="Save log",
        status="D",
        attachment=Attachment(
            name="log.txt", content_type="text/plain", data=b64(ATTACHMENT_BYTES)
        ),
    )
    root = Step(
        id=1 if step_ids else None,
        group="M",
        step_type="SequenceCall",
        name="MainSequence Callback",
        status="P" if result == "P" else "F",
        seq_call=SequenceCall(path="C:\\seq\\main.seq", name="main.seq", version="1.0.0"),
        steps=[voltage, log],
    )
    return UUTReport(
        pn=pn,
        sn=sn,
        rev="A",
        process_code=process_code,
        result=result,
        machine_name="STATION-1",
        location="Lab",
        purpose="Development",
        start=start,
        uut=UUTInfo(user="operator"),
        root=root,
        misc_infos=misc if misc is not None else [MiscInfo(description="Firmware", text="1.2.3")],
    )


def make_uur(
    ref_uut: uuid.UUID | None,
    *,
    process_code: int = 500,
    sub_units: list[SubUnit] | None = None,
    blob_id: uuid.UUID | None = None,
) -> UURReport:
    """A small repair report for ``ref_uut``; with ``blob_id``, one binaryData item."""
    units = sub_units
    if units is None:
        units = [
            SubUnit(
                idx=0,
                part_type="Main",
                pn="PN-1",
                sn="SN-1",
                rev="A",
                failures=[Failure(category="Component", code="Burned Component", com_ref="U1")],
            )
        ]
    blobs = None
    if blob_id is not None:
        blobs = [
            BinaryData(id=blob_id, name="photo.png", content_type="image/png", data=b64(BLOB_BYTES))
        ]
    return UURReport(
        pn="PN-1",
        sn="SN-1",
        rev="A",
        process_code=process_code,
        result="P",
        machine_name="REPAIR-1",
        location="Lab",
        purpose="Repair",
        start=datetime(2026, 1, 2, 9, 30, tzinfo=UTC),
        uur=UURInfo(user="technician", process_code=10, ref_uut=ref_uut),
        sub_units=units,
        binary_data=blobs,
    )


@pytest.fixture
def strict_fake() -> Iterator[FakeWATS]:
    """An in-process emulator validating like the live server."""
    emulator = FakeWATS(TOKEN, strict=True)
    yield emulator
    emulator.close()


@pytest.fixture
def strict_wats(strict_fake: FakeWATS) -> Iterator[pyWATS]:
    """A blocking client on ``strict_fake`` that never retries."""
    with pyWATS(URL, TOKEN, transport=strict_fake, retry=RetryPolicy.never()) as api:
        yield api
