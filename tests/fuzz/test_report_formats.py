"""WSJF and WSXF decoders (and the WSBF bill of materials reader) on anything at all.

A station decodes whatever lands in a watch folder and whatever an MES tool sends: a decoder
either returns a report or raises its named error (:class:`~pywats.ReportFormatError`,
:class:`~pywats.BomFormatError`), never another exception, never a hang. A report it returns can
be validated and written back (or refused by name). Inputs: raw bytes, JSON values shaped like
reports, and valid generated reports broken by :mod:`tests.fuzz._mutate`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pywats._errors import BomFormatError, ReportFormatError
from pywats.formats import wsbf, wsjf, wsxf
from pywats.models.report import UURReport, UUTReport
from pywats.validation import validate_report
from tests.fuzz._mutate import EDITS, Edit, apply
from tests.fuzz._profile import fuzz, no_hang
from tests.pywats import strategies

# Member names a report decoder looks at, so generated objects reach past the first check.
_KEYS = st.sampled_from(
    [
        "id",
        "type",
        "pn",
        "sn",
        "rev",
        "processCode",
        "result",
        "start",
        "startUTC",
        "root",
        "steps",
        "stepType",
        "status",
        "group",
        "numericMeas",
        "booleanMeas",
        "stringMeas",
        "seqCall",
        "chart",
        "uut",
        "uur",
        "miscInfos",
        "subUnits",
        "binaryData",
        "additionalData",
        "value",
        "compOp",
        "lowLimit",
        "highLimit",
        "name",
    ]
) | st.text(max_size=8)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["T", "R", "P", "F", "S", "E", "Passed", "2024-01-01T00:00:00Z", ""])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=30,
)


def _decoded_report_is_usable(report: UUTReport | UURReport) -> None:
    """What a caller does next with a decoded report must not raise anything unnamed."""
    assert isinstance(report, UUTReport | UURReport)
    validate_report(report)
    with contextlib.suppress(ReportFormatError):  # e.g. nested too deep to write: by name
        wsjf.dumps(report)


def _load_wsjf(data: bytes | str) -> None:
    with no_hang():
        try:
            report = wsjf.loads(data)
        except ReportFormatError as exc:
            reason = str(exc)
        else:
            _decoded_report_is_usable(report)
            return
    assert reason.startswith("invalid WSJF"), reason


def _load_wsxf(data: bytes | str) -> None:
    with no_hang():
        try:
            reports = wsxf.loads_all(data)
        except ReportFormatError as exc:
            reason = str(exc)
        else:
            for report in reports:
                _decoded_report_is_usable(report)
            return
    assert reason.strip(), "an empty reason"


@fuzz(ci_examples=150)
@given(data=st.binary(max_size=512))
@example(data=b"")
@example(data=b"\xef\xbb\xbf{}")
@example(data=b'{"type":"T","root":' * 200)
def test_wsjf_any_bytes(data: bytes) -> None:
    _load_wsjf(data)


@fuzz(ci_examples=150)
@given(value=_JSON)
@example(value={"type": "T", "root": {"stepType": "SequenceCall", "steps": [{}]}})
@example(value={"type": "R", "uur": None})
def test_wsjf_any_json_value(value: Any) -> None:
    _load_wsjf(json.dumps(value))


@fuzz(ci_examples=60)
@given(report=strategies.reports, edits=EDITS)
def test_wsjf_broken_reports(report: UUTReport | UURReport, edits: list[Edit]) -> None:
    _load_wsjf(apply(wsjf.dumps(report), edits))


@fuzz(ci_examples=150)
@given(data=st.binary(max_size=512) | st.text(max_size=256))
@example(data=b"<Reports/>")
@example(data=b"<?xml version='1.0' encoding='uAf-8'?><Reports/>")
@example(data=b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'>]><Reports>&a;</Reports>")
@example(data="<Reports>" * 3000)
def test_wsxf_any_input(data: bytes | str) -> None:
    _load_wsxf(data)


@fuzz(ci_examples=60)
@given(report=strategies.uut_reports(), edits=EDITS)
def test_wsxf_broken_reports(report: UUTReport, edits: list[Edit]) -> None:
    try:
        data = wsxf.dumps(report)
    except ReportFormatError:
        return  # a report WSXF cannot carry (it says so): nothing to break
    _load_wsxf(apply(data, edits))


_BOM = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<BOM xmlns="http://wats.virinco.com/schemas/WATS/wsbf" Partnumber="PN-1" Revision="A">'
    b'<Component Number="C1" Rev="A" Qty="2" Desc="cap" Ref="C1,C2"/></BOM>'
)


@fuzz(ci_examples=100)
@given(edits=EDITS)
def test_wsbf_broken_documents(edits: list[Edit]) -> None:
    with no_hang():
        try:
            bom = wsbf.loads(apply(_BOM, edits))
        except BomFormatError as exc:
            reason = str(exc)
        else:
            with contextlib.suppress(BomFormatError):
                wsbf.dumps(bom)
            return
    assert reason.strip(), "an empty reason"


# --- findings of the fuzz runs, kept as regression tests ------------------------------------

# An XML declaration naming an encoding Python has no codec for (a byte flipped in "utf-8"), a
# codec that is not a text encoding, or one expat cannot feed: ElementTree raised LookupError,
# ValueError or UnicodeError out of the decoder instead of a format error.
_ENCODINGS = ["uAf-8", "x", "rot13", "base64", "utf-32", "idna"]


def _declaring(encoding: str, root: str) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?><{root}/>'.encode("ascii")


@pytest.mark.parametrize("encoding", _ENCODINGS)
def test_an_unreadable_declared_encoding_is_a_wsxf_format_error(encoding: str) -> None:
    with pytest.raises(ReportFormatError, match="encoding"):
        wsxf.loads(_declaring(encoding, "Reports"))


@pytest.mark.parametrize("encoding", _ENCODINGS)
def test_an_unreadable_declared_encoding_is_a_wsbf_format_error(encoding: str) -> None:
    with pytest.raises(BomFormatError, match="encoding"):
        wsbf.loads(_declaring(encoding, "BOM"))
