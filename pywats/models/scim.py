"""SCIM 2.0 users (RFC 7643/7644) as WATS serves them under ``/api/SCIM/v2``.

The server's description types these bodies only as ``object``: the members here are SCIM's
core User schema, its ListResponse and PatchOp messages (``Resources`` and ``Operations`` are
capitalised on the wire), and the provisioning token.
"""

from __future__ import annotations

import base64
import enum
import json
from datetime import UTC, datetime
from typing import Any

import msgspec

from pywats.models._base import Dto

__all__ = [
    "ERROR_SCHEMA",
    "LIST_RESPONSE_SCHEMA",
    "PATCH_OP_SCHEMA",
    "USER_SCHEMA",
    "PatchOp",
    "PatchOperation",
    "ScimEmail",
    "ScimListResponse",
    "ScimMeta",
    "ScimName",
    "ScimPatchRequest",
    "ScimRole",
    "ScimToken",
    "ScimUser",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimName(Dto):
    """A user's name parts."""

    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None


class ScimEmail(Dto):
    """One e-mail address of a user."""

    value: str | None = None
    type: str | None = None
    primary: bool | None = None


class ScimRole(Dto):
    """One role of a user (its WATS role name is ``value``)."""

    value: str | None = None
    display: str | None = None
    type: str | None = None
    primary: bool | None = None


class ScimMeta(Dto):
    """Resource metadata the server keeps (``meta``)."""

    resource_type: str | None = None
    created: datetime | None = None
    last_modified: datetime | None = None
    location: str | None = None
    version: str | None = None


class ScimUser(Dto):
    """A SCIM user.

    Attributes:
        id: the server's id of the user (a GUID; given by the server on create).
        user_name: the unique sign-in name (often an e-mail address).
        external_id: the identity provider's id of the user.
        name: name parts.
        display_name: the name shown in WATS (its "full name").
        active: ``False`` for a deactivated user.
        emails: e-mail addresses.
        roles: WATS roles.
        meta: created/modified times (given by the server).
        schemas: the SCIM schemas the resource follows.
    """

    schemas: list[str] = msgspec.field(default_factory=lambda: [USER_SCHEMA])
    id: str | None = None
    external_id: str | None = None
    user_name: str | None = None
    name: ScimName | None = None
    display_name: str | None = None
    active: bool | None = None
    emails: list[ScimEmail] | None = None
    roles: list[ScimRole] | None = None
    meta: ScimMeta | None = None

    @property
    def email(self) -> str | None:
        """The primary e-mail address (or the first one)."""
        emails = self.emails or []
        primary = next((e for e in emails if e.primary), emails[0] if emails else None)
        return primary.value if primary is not None else None


class ScimListResponse(Dto):
    """One page of users: ``resources`` from the 1-based ``start_index`` of ``total_results``."""

    schemas: list[str] = msgspec.field(default_factory=lambda: [LIST_RESPONSE_SCHEMA])
    total_results: int = 0
    items_per_page: int | None = None
    start_index: int | None = None
    resources: list[ScimUser] = msgspec.field(default_factory=list, name="Resources")


class PatchOp(enum.StrEnum):
    """A SCIM patch operation. WATS applies ``replace`` only."""

    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"


class PatchOperation(Dto):
    """One operation of a patch: ``op`` on ``path`` with ``value``.

    WATS accepts the paths ``fullName``, ``familyName``, ``givenName``, ``roles``, ``email``
    (strings), ``active`` (a bool), ``levels`` and ``productGroups`` (``;``-separated names;
    they only add restrictions).
    """

    op: str
    path: str | None = None
    value: Any = None


class ScimPatchRequest(Dto):
    """A SCIM PatchOp message: the operations to apply to one user, in order."""

    schemas: list[str] = msgspec.field(default_factory=lambda: [PATCH_OP_SCHEMA])
    operations: list[PatchOperation] = msgspec.field(default_factory=list, name="Operations")


def _jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT (not verified: only the server can), or ``None``."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class ScimToken(Dto):
    """A token for automatic user provisioning from Azure (a JSON Web Token).

    Attributes:
        token: the JWT to configure in the identity provider.
        expires_utc: when it expires, if the server said so (see :attr:`expires`).
        duration_days: how many days it is valid, if the server said so.
    """

    token: str
    expires_utc: datetime | None = None
    duration_days: int | None = None

    @property
    def expires(self) -> datetime | None:
        """When the token expires: ``expires_utc``, or else the token's own ``exp`` claim."""
        return self.expires_utc or _jwt_expiry(self.token)
