"""``api.software``:

Software packages for stations: files, zips, status workflow, tags (tag Software).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["SoftwareDomain"]


class SoftwareDomain(Domain[ModeT]):
    """Software packages for stations: files, zips, status workflow, tags (tag Software)."""
