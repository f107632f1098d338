"""Typed models of the WATS API, one module per domain."""

from __future__ import annotations

from pywats.models.report import *  # noqa: F403
from pywats.models.report import __all__ as _report_all

__all__ = list(_report_all)
