"""Software distribution: packages, their files and tags, virtual folders (tag Software).

A package is a named, versioned set of files that stations download. It walks a status
workflow, enforced by the server::

    Draft -> Pending -> Released -> Revoked
      ^        |
      +--------+   (Pending may go back to Draft)

Only a Draft package may change its content (details, files); a Pending or Released one only its
status and tags. Only a Draft or Revoked package may be deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import msgspec

from pywats.models._base import Dto

__all__ = [
    "STATUS_MOVES",
    "FileAttribute",
    "Package",
    "PackageFile",
    "PackageStatus",
    "PackageTag",
    "VirtualFolder",
    "tags_from",
]


class PackageStatus(StrEnum):
    """Where a package is in its workflow (the server's words)."""

    DRAFT = "Draft"
    PENDING = "Pending"
    RELEASED = "Released"
    REVOKED = "Revoked"


STATUS_MOVES: Mapping[PackageStatus, frozenset[PackageStatus]] = {
    PackageStatus.DRAFT: frozenset({PackageStatus.PENDING}),
    PackageStatus.PENDING: frozenset({PackageStatus.DRAFT, PackageStatus.RELEASED}),
    PackageStatus.RELEASED: frozenset({PackageStatus.REVOKED}),
    PackageStatus.REVOKED: frozenset(),
}
"""The status changes the server allows: from a status to the statuses it may go to."""


class FileAttribute(StrEnum):
    """What a station does with a package file once it is installed."""

    NONE = "None"
    """Nothing: the file is copied."""
    EXECUTE_ONCE = "ExecuteOnce"
    """Run the file the first time the package is installed on the computer."""
    EXECUTE_ALWAYS = "ExecuteAlways"
    """Run the file every time the package is checked or updated."""
    TOP_LEVEL_FILE = "TopLevelFile"
    """An entry point (a TestStand sequence file a test environment starts by itself)."""
    OVERWRITE_NEVER = "OverwriteNever"
    """Never overwrite the file once it exists (a station's own configuration)."""
    OVERWRITE_ON_NEW_PACKAGE_VERSION = "OverwriteOnNewPackageVersion"
    """Overwrite the file only when a new package version is installed."""
    EXECUTE_ONCE_PER_VERSION = "ExecuteOncePerVersion"
    """Run the file once for each new package version."""


class PackageTag(Dto):
    """One tag of a package: stations find packages by tag (``PartNumber`` = ``100200``).

    The tag's name (``key``) is compared case-sensitively, its value case-insensitively.
    """

    key: str | None = None
    value: str | None = None
    change: int | None = None  # the server's change-tracking enum (0-6); not needed to tag


def tags_from(tags: Mapping[str, str] | list[PackageTag] | None) -> list[PackageTag] | None:
    """Tags as the server takes them, from a ``{name: value}`` mapping or a list of tags."""
    if tags is None:
        return None
    if isinstance(tags, Mapping):
        return [PackageTag(key=key, value=value) for key, value in tags.items()]
    return list(tags)


class Package(Dto):
    """A software package: one version of a named set of files.

    ``package_id`` names this version; (``name``, ``version``) does too. A new package with the
    name of an existing one is its next version.

    Attributes:
        install_on_root: install the files straight into the stations' software root folder,
            not into a folder named after the package.
        priority: the order stations install packages in.
        virtual_folder_id: the virtual folder (:class:`VirtualFolder`) the package is filed in.
        released, released_by / revoked, revoked_by: when and by whom it was released/revoked.
    """

    package_id: uuid.UUID | None = None
    name: str | None = None
    install_on_root: bool | None = None
    version: int | None = None
    description: str | None = None
    root_directory: str | None = None
    tags: list[PackageTag] | None = None
    status: PackageStatus | None = None
    priority: int | None = None
    virtual_folder_id: uuid.UUID | None = None
    created: datetime | None = None
    created_by: str | None = None
    modified: datetime | None = None
    modified_by: str | None = None
    released: datetime | None = None
    released_by: str | None = None
    revoked: datetime | None = None
    revoked_by: str | None = None

    def tag(self, key: str) -> str | None:
        """The value of the tag named ``key`` (case-sensitive, as the server compares), or
        ``None``."""
        for tag in self.tags or ():
            if tag.key == key:
                return tag.value
        return None

    @property
    def tag_map(self) -> dict[str, str | None]:
        """The tags as a ``{name: value}`` dict."""
        return {tag.key: tag.value for tag in self.tags or () if tag.key is not None}


class PackageFile(Dto):
    """One file of a package (its description only; the content is not part of it).

    Attributes:
        package_file_id: the file's id (for :meth:`~pywats._calls.software.SoftwareDomain.
            update_file_attribute`).
        name: the file name.
        package_folder_name: the folder inside the package the file is in.
        attributes: what stations do with the file (a :class:`FileAttribute` value).
    """

    package_file_id: str | None = None
    name: str | None = None
    package_folder_name: str | None = None
    attributes: str | None = None
    # The server's one PascalCase member of this DTO.
    description: str | None = msgspec.field(default=None, name="Description")

    @property
    def path(self) -> str:
        """``folder/name``: where the file lands inside the package."""
        folder = (self.package_folder_name or "").strip("/")
        return f"{folder}/{self.name}" if folder else self.name or ""

    @property
    def attribute(self) -> FileAttribute | None:
        """``attributes`` as a :class:`FileAttribute` (``None`` when absent or not one)."""
        for known in FileAttribute:
            if (self.attributes or "").casefold() == known.value.casefold():
                return known
        return None


class VirtualFolder(Dto):
    """A folder of the Production Manager's package tree (packages are filed in them)."""

    id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    name: str | None = None
    description: str | None = None
