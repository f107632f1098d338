"""The yield side of ``api.analytics``: volume and yield, worst yield, dynamic yield, high
volume, top failed steps, OEE (tag App)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["YieldOperations"]


class YieldOperations(Domain[ModeT]):
    """Yield and volume statistics (a part of :class:`~pywats._calls.analytics.AnalyticsDomain`)."""
