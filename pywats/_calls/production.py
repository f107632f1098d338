"""``api.production``:

Units, assemblies, verification, batches and serial numbers (tag Production).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["ProductionDomain"]


class ProductionDomain(Domain[ModeT]):
    """Units, assemblies, verification, batches and serial numbers (tag Production)."""
