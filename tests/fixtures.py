"""Access to the real equipment files and WATS exports in ``../shared/fixtures/real/``.

Tests reach them only through :func:`real_file`/:func:`real_dir`, which skip with a clear message
when the folder is absent, so the project still tests where ``../shared`` is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real"
REAL = Path(os.environ.get("PYWATS_REAL_FIXTURES", _DEFAULT))

WSJF_FILES = ("uut-wsjf-export.json", "new_report_example.json", "uur_example.json")


def real_dir(*parts: str) -> Path:
    """Return a folder of real fixtures, or skip the test when it is not there."""
    path = REAL.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"real fixtures not found at {path} (set PYWATS_REAL_FIXTURES)")
    return path


def real_file(*parts: str) -> Path:
    """Return one real fixture file, or skip the test when it is not there."""
    path = REAL.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real fixture not found at {path} (set PYWATS_REAL_FIXTURES)")
    return path
