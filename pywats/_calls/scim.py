"""``api.scim``: users and their provisioning token (tag Scim), as SCIM 2.0 (RFC 7644).

WATS serves SCIM for automatic user provisioning from Azure (Entra ID): users are created,
read, listed a page at a time (1-based ``startIndex``, ``count``), changed with PatchOp
messages and deleted. The server applies ``replace`` operations only, on the paths listed in
:class:`~pywats.models.scim.PatchOperation`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import overload

import httpx
import msgspec

from pywats._call import Call, json_call, segment
from pywats._domain import Async, Domain, ModeT, Sync, operation
from pywats._errors import InvalidArgumentError
from pywats._paging import iterate
from pywats.models.scim import (
    PatchOp,
    PatchOperation,
    ScimListResponse,
    ScimPatchRequest,
    ScimToken,
    ScimUser,
)

__all__ = ["ScimDomain"]

UserId = str | uuid.UUID

_json = msgspec.json.Encoder()
_USERS = "/api/SCIM/v2/Users"


def _int(value: object, name: str, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {value!r}")
    if value < least:
        raise InvalidArgumentError(f"{name} must be at least {least}, not {value}")
    return value


def _user_id(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"user_id must be a non-empty str or uuid, not {value!r}")
    return value


def _users_call(
    scim_filter: str | None, start_index: int | None, count: int | None
) -> Call[ScimListResponse]:
    if scim_filter is not None and not isinstance(scim_filter, str):
        raise InvalidArgumentError(f"filter must be a str, not {type(scim_filter).__name__}")
    return json_call(
        "GET",
        _USERS,
        ScimListResponse,
        params={
            "filter": scim_filter,
            "startIndex": _int(start_index, "start_index", least=1)
            if start_index is not None
            else None,
            "count": _int(count, "count", least=0) if count is not None else None,
        },
        empty=ScimListResponse(),
    )


def _next_start(start: int, page: ScimListResponse) -> int | None:
    """The ``startIndex`` of the page after ``page`` (asked from ``start``), or ``None``."""
    if not page.resources:
        return None
    # Counted from what was asked, not the page's own startIndex: a server echoing a wrong
    # one must not make the loop ask for the same page again.
    following = start + len(page.resources)
    return following if following - 1 < page.total_results else None


def _user_call(
    method: str, path: str, user: ScimUser | ScimPatchRequest | None = None
) -> Call[ScimUser]:
    body: bytes | None = None
    if user is not None:
        try:
            body = _json.encode(user)
        except (TypeError, ValueError, msgspec.EncodeError) as exc:
            raise InvalidArgumentError(f"the request cannot be sent: {exc}") from exc
    return json_call(method, path, ScimUser, raw_body=body)


def _token(response: httpx.Response, call: Call[ScimToken | str]) -> ScimToken:
    value = call.parse(response)
    # The description types the answer as "object": a bare JWT string is taken as well.
    return ScimToken(token=value) if isinstance(value, str) else value


def _patch(operations: ScimPatchRequest | Sequence[PatchOperation]) -> ScimPatchRequest:
    if isinstance(operations, ScimPatchRequest):
        patch = operations
    elif isinstance(operations, Sequence) and not isinstance(operations, str):
        patch = ScimPatchRequest(operations=list(operations))
    else:
        raise InvalidArgumentError(
            f"give a ScimPatchRequest or a list of PatchOperation, not {type(operations).__name__}"
        )
    if not patch.operations:
        raise InvalidArgumentError("the patch has no operations")
    for i, op in enumerate(patch.operations):
        if not isinstance(op, PatchOperation):
            raise InvalidArgumentError(
                f"operations[{i}] must be a PatchOperation, not {type(op).__name__}"
            )
    return patch


class ScimDomain(Domain[ModeT]):
    """Users and their provisioning token (tag Scim)."""

    @operation
    def get_token(self, duration_days: int | None = None) -> Call[ScimToken]:
        """A new JSON Web Token for provisioning users from Azure.

        Args:
            duration_days: days until it expires (the server's default, 90, is recommended).
        """
        call: Call[ScimToken | str] = json_call(
            "GET",
            "/api/SCIM/v2/Token",
            ScimToken | str,
            params={
                "duration": _int(duration_days, "duration_days", least=1)
                if duration_days is not None
                else None
            },
        )
        return Call(
            method="GET", path=call.path, parse=lambda r: _token(r, call), params=call.params
        )

    @operation
    def get_users(
        self,
        start_index: int | None = None,
        count: int | None = None,
        *,
        filter: str | None = None,  # noqa: A002 - SCIM's own name
    ) -> Call[ScimListResponse]:
        """One page of users (SCIM ListResponse); :meth:`iter_users` pages through all.

        Args:
            start_index: the 1-based position of the first user of the page.
            count: at most this many users.
            filter: a SCIM filter, e.g. ``userName eq "ada@example.com"``.
        """
        return _users_call(filter, start_index, count)

    @overload
    def iter_users(
        self: ScimDomain[Sync],
        filter: str | None = None,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[ScimUser]: ...

    @overload
    def iter_users(
        self: ScimDomain[Async],
        filter: str | None = None,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> AsyncIterator[ScimUser]: ...

    def iter_users(
        self,
        filter: str | None = None,  # noqa: A002 - SCIM's own name
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[ScimUser] | AsyncIterator[ScimUser]:
        """Every user (matching ``filter``), fetched a page at a time as the loop needs them.

        ``for user in api.scim.iter_users():`` on ``pyWATS``;
        ``async for user in api.scim.iter_users():`` on ``AsyncWATS``.

        Args:
            page_size: users per request.
            limit: stop after this many users.
        """
        _int(page_size, "page_size", least=1)
        if limit is not None:
            _int(limit, "limit", least=0)
        _users_call(filter, 1, page_size)  # checks the arguments now, not at the first page
        return iterate(self._client, _UserPager(filter, page_size, limit))

    @operation
    def create_user(self, user: ScimUser) -> Call[ScimUser]:
        """Create a user; returns it with its ``id``.

        Raises:
            ConflictError: a user with that ``user_name`` exists.
            ValidationError: ``user_name`` is missing, or a member is of the wrong type.
        """
        if not isinstance(user, ScimUser):
            raise InvalidArgumentError(f"user must be a ScimUser, not {type(user).__name__}")
        if not user.user_name:
            raise InvalidArgumentError("user.user_name is required")
        return _user_call("POST", _USERS, user)

    @operation
    def get_user(self, user_id: UserId) -> Call[ScimUser]:
        """The user with this id.

        Raises:
            NotFoundError: no user has that id.
        """
        return _user_call("GET", f"{_USERS}/{segment(_user_id(user_id))}")

    @operation
    def get_user_by_username(self, username: str) -> Call[ScimUser]:
        """The user with this user name (compared without regard to case).

        Raises:
            NotFoundError: no user has that name.
        """
        if not isinstance(username, str) or not username.strip():
            raise InvalidArgumentError(f"username must be a non-empty str, not {username!r}")
        # The server's route has the literal text "userName=" inside the path.
        return _user_call("GET", f"{_USERS}/userName={segment(username)}")

    @operation
    def update_user(
        self, user_id: UserId, patch: ScimPatchRequest | Sequence[PatchOperation]
    ) -> Call[ScimUser]:
        """Apply SCIM patch operations to a user, in order; returns the changed user.

        Raises:
            NotFoundError: no user has that id.
            ValidationError: an operation the server does not apply (an op other than
                ``replace``, an unknown path, a value of the wrong type, an unknown role).
        """
        return _user_call("PATCH", f"{_USERS}/{segment(_user_id(user_id))}", _patch(patch))

    @operation
    def set_user_active(self, user_id: UserId, active: bool) -> Call[ScimUser]:
        """Activate or deactivate a user; returns the changed user."""
        if not isinstance(active, bool):
            raise InvalidArgumentError(f"active must be a bool, not {active!r}")
        patch = [PatchOperation(op=PatchOp.REPLACE, path="active", value=active)]
        return _user_call("PATCH", f"{_USERS}/{segment(_user_id(user_id))}", _patch(patch))

    @operation
    def deactivate_user(self, user_id: UserId) -> Call[ScimUser]:
        """Deactivate a user (they can no longer sign in); returns the changed user."""
        patch = [PatchOperation(op=PatchOp.REPLACE, path="active", value=False)]
        return _user_call("PATCH", f"{_USERS}/{segment(_user_id(user_id))}", _patch(patch))

    @operation
    def update_display_name(self, user_id: UserId, display_name: str) -> Call[ScimUser]:
        """Change the name WATS shows for a user (its ``fullName``); returns the changed user."""
        if not isinstance(display_name, str) or not display_name.strip():
            raise InvalidArgumentError(
                f"display_name must be a non-empty str, not {display_name!r}"
            )
        patch = [PatchOperation(op=PatchOp.REPLACE, path="fullName", value=display_name)]
        return _user_call("PATCH", f"{_USERS}/{segment(_user_id(user_id))}", _patch(patch))

    @operation
    def delete_user(self, user_id: UserId) -> Call[None]:
        """Delete a user.

        Raises:
            NotFoundError: no user has that id.
        """
        return Call(
            method="DELETE",
            path=f"{_USERS}/{segment(_user_id(user_id))}",
            parse=lambda response: None,
        )


class _UserPager:
    """SCIM pages (``startIndex``, ``count``), up to ``limit`` users."""

    def __init__(self, scim_filter: str | None, page_size: int, limit: int | None) -> None:
        self.filter, self.page_size, self.limit = scim_filter, page_size, limit
        self.start: int | None = 1
        self.seen = 0

    def next_call(self) -> Call[ScimListResponse] | None:
        if self.start is None or (self.limit is not None and self.seen >= self.limit):
            return None
        return _users_call(self.filter, self.start, self.page_size)

    def take(self, page: ScimListResponse) -> list[ScimUser]:
        assert self.start is not None
        users = page.resources
        if self.limit is not None:
            users = users[: max(self.limit - self.seen, 0)]
        self.seen += len(users)
        self.start = _next_start(self.start, page)
        return users
