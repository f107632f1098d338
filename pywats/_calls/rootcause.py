"""``api.rootcause``:

Root-cause tickets, their attachments and archive (tag RootCause).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["RootCauseDomain"]


class RootCauseDomain(Domain[ModeT]):
    """Root-cause tickets, their attachments and archive (tag RootCause)."""
