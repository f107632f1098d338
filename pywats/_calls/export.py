"""``api.export``:

Exporting reports and data (tag Export).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["ExportDomain"]


class ExportDomain(Domain[ModeT]):
    """Exporting reports and data (tag Export)."""
