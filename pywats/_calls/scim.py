"""``api.scim``:

Users and their provisioning token (tag Scim).
"""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["ScimDomain"]


class ScimDomain(Domain[ModeT]):
    """Users and their provisioning token (tag Scim)."""
