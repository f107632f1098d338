"""Server metadata: processes (test, repair and WIP operations), levels, product groups, and a
user's common settings."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from pywats.models._base import Dto

__all__ = ["CommonUserSettings", "Level", "Process", "ProductGroup"]


class Process(Dto):
    """A process (operation type): a test, repair or WIP operation, keyed by ``code``.

    ``state`` is 1 for an active process.
    """

    code: int
    name: str | None = None
    description: str | None = None
    is_test_operation: bool = False
    is_repair_operation: bool = False
    is_wip_operation: bool = False
    process_index: int | None = None
    state: int | None = None
    process_id: uuid.UUID | None = msgspec.field(default=None, name="processID")

    @property
    def active(self) -> bool:
        """Whether the process is active (``state`` 1, or not reported)."""
        return self.state in (None, 1)


class Level(Dto):
    """A level (client group in System Manager)."""

    level_id: int
    level_name: str | None = None


class ProductGroup(Dto):
    """A product group; ``filters`` (part number/revision rules) only with ``include_filters``."""

    product_group_id: int
    product_group_name: str | None = None
    filters: list[dict[str, Any]] | None = None


class CommonUserSettings(Dto):
    """A WATS user's common settings (``Configuration.CommonUserSettings``).

    Attributes:
        full_name: the user's name as shown in WATS.
        culture_code: language and formats, e.g. ``en-US``.
        email: the user's e-mail address.
        roles: the names of the user's roles.
        levels: the levels (client groups) the user may see.
        product_groups: the product groups the user may see.
    """

    full_name: str | None = None
    culture_code: str | None = None
    email: str | None = None
    roles: list[str] = msgspec.field(default_factory=list)
    levels: list[str] = msgspec.field(default_factory=list)
    product_groups: list[str] = msgspec.field(default_factory=list)
