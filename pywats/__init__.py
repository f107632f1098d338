"""pywats: a typed client for the WATS test-data server.

Import what you need from here; submodules whose names start with ``_`` are private.
"""

from __future__ import annotations

from pywats._errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    ConnectionError,
    HTTPError,
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
from pywats.models.report import (
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

__all__ = [
    "AsyncWATS",
    "RateLimit",
    "RetryPolicy",
    "pyWATS",
    "AuthenticationError",
    "AuthorizationError",
    "CompOp",
    "ConflictError",
    "ConnectionError",
    "HTTPError",
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
