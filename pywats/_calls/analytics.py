"""``api.analytics``:

Statistics from the stored reports: yield, top failed, measurements, OEE (tag App).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["AnalyticsDomain"]


class AnalyticsDomain(Domain[ModeT]):
    """Statistics from the stored reports: yield, top failed, measurements, OEE (tag App)."""
