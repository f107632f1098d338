"""Pilot tests of pywats-tui against a scripted station (tests/tui/fake.py)."""

from __future__ import annotations

import os

# No blinking cursor or animation: what a test sees does not depend on when it looks.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio only
