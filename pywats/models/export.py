"""Exports (tag Export): certificate exports queued on the server and the files they produce.

A certificate export is a background job: ``POST /api/Export/Certificate`` queues it and answers
with the name its file will have; the file (a zip of PDF certificates, one per test report or
one PDF holding them all) appears in ``GET /api/Export/List`` when it is done and is downloaded
with ``GET /api/Export/{fileName}``. Exports belong to the user (or token) that queued them.
"""

from __future__ import annotations

import enum

from pywats.models._base import Dto

__all__ = ["CertificateDimension", "ExportQueued", "NumericFormat"]


class NumericFormat(enum.StrEnum):
    """How numbers are written when the report gives them no format (``numericFormat``)."""

    DEFAULT = "default"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SCIENTIFIC = "scientific"
    GENERAL = "general"
    HEXADECIMAL = "hexadecimal"
    BINARY = "binary"


class CertificateDimension(enum.StrEnum):
    """A detail a certificate can show (``dimensions``, several joined by ``;``)."""

    STATION_DATA = "stationData"
    MISC_INFO = "miscInfo"
    SUB_UNIT_INFO = "subUnitInfo"
    ASSET = "asset"
    BATCH_NUMBER = "batchNumber"
    EXECUTION_TIME = "executionTime"
    TEST_SOCKET_INDEX = "testSocketIndex"
    OPERATOR = "operator"
    ERROR_CODE = "errorCode"
    ERROR_MESSAGE = "errorMessage"
    FIXTURE_ID = "fixtureId"
    TEST_OPERATION = "testOperation"
    REPORT_STATUS = "reportStatus"
    COMMENT = "comment"
    SW_FILENAME = "swFilename"
    SW_VERSION = "swVersion"
    STEP_STATUS = "stepStatus"
    STEP_TIME = "stepTime"
    MEASUREMENT = "measurement"
    UNITS = "units"
    COMP_OPERATOR = "compOperator"
    LOW_LIMIT = "lowLimit"
    HIGH_LIMIT = "highLimit"
    VIEW_STEP_HIERARCHY = "viewStepHierarchy"
    SIGN_CERTIFICATE = "signCertificate"
    XY_GRAPH = "xyGraph"
    PAGE_NUMBERS = "pageNumbers"


class ExportQueued(Dto):
    """The server's answer to a queued export: the name its file will have once done."""

    export_file_name: str | None = None
