"""What ``import pywats`` offers, and what it must not drag in."""

from __future__ import annotations

import subprocess
import sys

import pywats

EXPORTED = [
    "AsyncWATS",
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
    "RateLimit",
    "RateLimitedError",
    "ReportBuilder",
    "ReportFormatError",
    "ReportInvalidError",
    "ReportResult",
    "RetryPolicy",
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
    "pyWATS",
]


def test_all_is_pinned() -> None:
    assert sorted(pywats.__all__) == EXPORTED
    assert len(pywats.__all__) == len(set(pywats.__all__))


def test_every_exported_name_exists() -> None:
    for name in pywats.__all__:
        assert hasattr(pywats, name), name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from pywats import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == EXPORTED


def test_version_is_a_string() -> None:
    assert isinstance(pywats.__version__, str)
    assert pywats.__version__


def test_import_pulls_in_no_station_or_server_dependencies() -> None:
    code = (
        "import pywats, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'trio','textual','watchfiles','hypercorn','trio_websocket'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
    assert done.stderr == ""
