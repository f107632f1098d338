"""pywats: a typed client for the WATS test-data server.

Import what you need from here; submodules whose names start with ``_`` are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pywats._errors import (
    AuthenticationError,
    AuthorizationError,
    BomFormatError,
    ConflictError,
    ConnectionError,
    HTTPError,
    InvalidArgumentError,
    NotFoundError,
    PyWATSError,
    RateLimitedError,
    ReportFormatError,
    ReportInvalidError,
    ServerError,
    TimeoutError,
    TransportError,
    ValidationError,
)
from pywats._retry import RateLimit, RetryPolicy
from pywats._version import __version__
from pywats.api import AsyncWATS, pyWATS

if TYPE_CHECKING:
    from pywats.models.report import (
        ChartSeries,
        CompOp,
        ReportResult,
        Step,
        StepKind,
        StepStatus,
        UURReport,
        UUTReport,
    )
    from pywats.report_builder import Measure, ReportBuilder, StringMeasure
    from pywats.validation import Problem

# Names whose modules load on first use (PEP 562), so that ``import pywats`` costs little more
# than httpx and msgspec: the report model, its builder and validation are only needed by code
# that builds or reads reports. ``from pywats import UUTReport`` works as before.
_LAZY: dict[str, str] = {
    "ChartSeries": "pywats.models.report",
    "CompOp": "pywats.models.report",
    "ReportResult": "pywats.models.report",
    "Step": "pywats.models.report",
    "StepKind": "pywats.models.report",
    "StepStatus": "pywats.models.report",
    "UURReport": "pywats.models.report",
    "UUTReport": "pywats.models.report",
    "Measure": "pywats.report_builder",
    "ReportBuilder": "pywats.report_builder",
    "StringMeasure": "pywats.report_builder",
    "Problem": "pywats.validation",
}

__all__ = [
    "AsyncWATS",
    "RateLimit",
    "RetryPolicy",
    "pyWATS",
    "AuthenticationError",
    "AuthorizationError",
    "BomFormatError",
    "ChartSeries",
    "CompOp",
    "ConflictError",
    "ConnectionError",
    "HTTPError",
    "InvalidArgumentError",
    "Measure",
    "NotFoundError",
    "Problem",
    "PyWATSError",
    "RateLimitedError",
    "ReportBuilder",
    "ReportFormatError",
    "ReportInvalidError",
    "ReportResult",
    "ServerError",
    "Step",
    "StepKind",
    "StepStatus",
    "StringMeasure",
    "TimeoutError",
    "TransportError",
    "UURReport",
    "UUTReport",
    "ValidationError",
    "__version__",
]

if not TYPE_CHECKING:  # type checkers see the imports above; at run time they load on first use

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'pywats' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # once loaded, an ordinary module attribute
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
