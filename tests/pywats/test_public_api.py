"""What ``import pywats`` offers, and what it must not drag in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pywats

EXPORTED = [
    "AsyncWATS",
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


def _modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}; import sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: list[str] = json.loads(done.stdout)
    return found


def test_import_loads_nothing_but_pywats_beyond_httpx_and_msgspec() -> None:
    """Domains, the report model, the builder and XML load on first use (bench/import_time.py)."""
    floor = set(_modules_after("import httpx, msgspec"))
    extra = sorted(set(_modules_after("import pywats")) - floor)
    assert [m for m in extra if m.split(".")[0] != "pywats"] == []
    assert set(extra) <= {
        "pywats",
        "pywats._call",
        "pywats._client",
        "pywats._errors",
        "pywats._retry",
        "pywats._version",
        "pywats.api",
        "pywats.formats",
        "pywats.formats._nesting",
    }, extra


@pytest.mark.parametrize("name", ["UUTReport", "CompOp", "ReportBuilder", "Problem"])
def test_lazy_names_import_from_a_fresh_interpreter(name: str) -> None:
    loaded = _modules_after(f"from pywats import {name}")
    assert "pywats.models.report" in loaded


def test_lazy_names_are_the_modules_own_objects() -> None:
    from pywats.models.report import UUTReport
    from pywats.report_builder import ReportBuilder
    from pywats.validation import Problem

    assert pywats.UUTReport is UUTReport
    assert pywats.ReportBuilder is ReportBuilder
    assert pywats.Problem is Problem


def test_dir_lists_every_exported_name() -> None:
    assert set(EXPORTED) <= set(dir(pywats))


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        _ = pywats.NoSuchThing  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from pywats import NoSuchThing", {})
