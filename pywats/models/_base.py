"""Base Structs for server DTOs (not the WSJF report model)."""

from __future__ import annotations

import msgspec

__all__ = ["Dto"]


class Dto(msgspec.Struct, omit_defaults=True, kw_only=True, rename="camel"):
    """A server DTO with camelCase wire names; unknown members ignored, ``None`` not sent."""
