"""Checking what callers pass to ``api.software``, before anything is sent.

A wrong type or a malformed value is an :class:`~pywats.InvalidArgumentError` naming the
argument; values only the server can judge (an unknown id, a move its workflow forbids) are sent
and answered by it.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

import msgspec

from pywats._errors import InvalidArgumentError
from pywats.models.software import FileAttribute, Package, PackageStatus

__all__ = ["Id", "as_enum", "as_file_id", "as_guid", "as_name", "as_version", "encode_package"]

Id = str | uuid.UUID
E = TypeVar("E", PackageStatus, FileAttribute)

_json = msgspec.json.Encoder()


def as_guid(value: object, what: str) -> uuid.UUID:
    """A package or folder id: a :class:`uuid.UUID` or its text (any case, braces allowed)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{what} must be a uuid.UUID or a str, not {type(value).__name__}"
        )
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidArgumentError(f"{what} {value!r} is not a GUID") from None


def as_file_id(value: object) -> str:
    """A package file's id (``PackageFile.package_file_id``: text on the server's side)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"file_id must be a non-empty str, not {value!r}")
    return value.strip()


def as_name(value: object) -> str:
    """A package name: non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"name must be a non-empty str, not {value!r}")
    return value


def as_version(value: object, what: str = "version") -> int:
    """A package version: an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{what} must be an int, not {value!r}")
    return value


def as_enum(value: object, kind: type[E], what: str) -> E:
    """A :class:`PackageStatus` or :class:`FileAttribute`, or its name in any letter case."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        for member in kind:
            if member.value.casefold() == value.strip().casefold():
                return member
    choices = ", ".join(m.value for m in kind)
    raise InvalidArgumentError(f"{what} must be one of {choices}, not {value!r}")


def encode_package(package: object, what: str = "package") -> bytes:
    """A :class:`Package` as JSON, its members' types checked first (a Struct takes any value
    for any member; the server would answer a wrong one with a less helpful 400)."""
    if not isinstance(package, Package):
        raise InvalidArgumentError(f"{what} must be a Package, not {type(package).__name__}")
    try:
        msgspec.convert(msgspec.to_builtins(package), Package)
        return _json.encode(package)
    except (TypeError, ValueError, OverflowError, msgspec.MsgspecError) as exc:
        raise InvalidArgumentError(f"{what} cannot be sent: {exc}") from exc
