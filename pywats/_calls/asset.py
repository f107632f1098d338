"""``api.asset``: Assets (fixtures, instruments), counts, calibration, maintenance (tag Asset)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["AssetDomain"]


class AssetDomain(Domain[ModeT]):
    """Assets (fixtures, instruments), counts, calibration, maintenance (tag Asset)."""
