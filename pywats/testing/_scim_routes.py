"""The emulator's ``scim`` routes:

Users and their provisioning token (tag Scim), SCIM 2.0 as WATS serves it.

How the emulator plays the server (where the description is silent, the choice is named):

* Errors have the server's usual body ``{"Message": …}`` (the description does not say SCIM's
  error schema is used); a second user with a taken ``userName`` (compared without regard to
  case) is a 409, as SCIM has it.
* A delete answers 204 without a body, as SCIM has it (the description documents every answer
  as 200).
* PATCH applies ``replace`` only, on the paths the description lists: ``fullName`` (the
  ``displayName`` and ``name.formatted``), ``familyName``, ``givenName``, ``email`` (the primary
  address), ``roles`` (one of :data:`ROLES`), ``active`` (a bool; ``"true"``/``"false"`` text
  too, as Azure sends it), ``levels`` and ``productGroups`` (``;``-separated names of the
  emulator's levels and product groups, only ever added). Every operation is checked before
  any is applied. Levels and product groups are not part of the SCIM user the routes answer
  with: read them with :meth:`ScimState.restrictions`.
* ``GET Users`` filters with ``attribute op "value"`` (``eq ne co sw ew``, ``pr``) joined by
  ``and``/``or``; without ``count`` it answers every user from ``startIndex``.
* ``GET Token`` answers ``{"token": <JWT>, "expiresUtc": …, "durationDays": …}``; the JWT is
  signed (HS256) with a secret of the emulator's own and is not a credential for its routes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from pywats.models.scim import (
    LIST_RESPONSE_SCHEMA,
    PATCH_OP_SCHEMA,
    USER_SCHEMA,
    PatchOperation,
    ScimEmail,
    ScimMeta,
    ScimName,
    ScimRole,
    ScimUser,
)
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["MAX_TOKEN_DAYS", "ROLES", "ScimState", "add_scim_routes", "scim_state"]

ROLES = ("Administrator", "Manager", "Engineer", "Operator", "Viewer")
"""The role names the emulated server knows."""

MAX_TOKEN_DAYS = 36_500
"""The longest token ``duration`` the emulator issues (100 years), in days."""

_USERS = "/api/SCIM/v2/Users"
_STRING_PATHS = ("fullName", "familyName", "givenName", "roles", "email")
_LIST_PATHS = ("levels", "productGroups")
_PATHS = {p.lower(): p for p in (*_STRING_PATHS, "active", *_LIST_PATHS)}


@dataclass
class ScimState:
    """The emulator's SCIM users (``emu.domain_state("scim", …)``)."""

    users: dict[str, ScimUser] = field(default_factory=dict)  # id (lower case) -> user
    levels: dict[str, set[str]] = field(default_factory=dict)  # id -> level names
    product_groups: dict[str, set[str]] = field(default_factory=dict)  # id -> group names
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self, user_id: str) -> ScimUser:
        """The user with this id, or 404."""
        found = self.users.get(user_id.strip().lower())
        if found is None:
            raise HTTPFailure(404, f"User {user_id} was not found.")
        return found

    def by_name(self, user_name: str) -> ScimUser | None:
        """The user with this ``userName`` (compared without regard to case)."""
        wanted = user_name.casefold()
        return next(
            (u for u in self.users.values() if (u.user_name or "").casefold() == wanted), None
        )

    def restrictions(self, user_id: str) -> tuple[set[str], set[str]]:
        """The level and product group names a user is restricted to (PATCH adds them)."""
        key = user_id.lower()
        return set(self.levels.get(key, ())), set(self.product_groups.get(key, ()))


class _PatchBody(msgspec.Struct):
    """A PatchOp as sent: unlike the client's model, no ``schemas`` unless the body has them."""

    schemas: list[str] = msgspec.field(default_factory=list)
    operations: list[PatchOperation] = msgspec.field(default_factory=list, name="Operations")


def scim_state(emu: FakeWATS) -> ScimState:
    """The emulator's SCIM users."""
    return emu.domain_state("scim", ScimState)


def add_scim_routes(router: Router) -> None:
    """Register the scim routes on ``router``."""
    router.add("GET", "/api/SCIM/v2/Token", get_token)
    router.add("GET", _USERS, get_users)
    router.add("POST", _USERS, create_user)
    # Before {userId}: its pattern would take "userName=…" for an id.
    router.add("GET", f"{_USERS}/userName={{userName}}", get_user_by_name)
    router.add("GET", f"{_USERS}/{{userId}}", get_user)
    router.add("PATCH", f"{_USERS}/{{userId}}", patch_user)
    router.add("DELETE", f"{_USERS}/{{userId}}", delete_user)


def _now() -> datetime:
    return datetime.now(UTC)


def _int_param(req: Request, name: str) -> int | None:
    value = req.param(name)
    if value is None or not value.strip():
        return None
    try:
        number = int(value)
    except ValueError:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.") from None
    if not -(2**31) <= number < 2**31:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return number


# --- token ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def get_token(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SCIM/v2/Token[?duration=days]``: a signed JWT valid that long (default 90)."""
    days = _int_param(req, "duration")
    days = 90 if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise HTTPFailure(400, f"duration: {days} days; give 1 to {MAX_TOKEN_DAYS} days.")
    issued = _now().replace(microsecond=0)
    expires = issued + timedelta(days=days)
    claims = {
        "iss": "pywats-emulator",
        "aud": "scim",
        "sub": req.user,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": str(uuid.uuid4()),
    }
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    state = scim_state(emu)
    signature = hmac.new(state.secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    token = f"{head}.{body}.{_b64(signature)}"
    return json_response({"token": token, "expiresUtc": expires, "durationDays": days})


# --- filters ----------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')
_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "pr"})


def _attribute(user: ScimUser, name: str) -> list[Any]:
    """The values of a filter attribute of ``user`` (several for ``emails``)."""
    key = name.lower()
    if key in ("emails", "emails.value"):
        return [e.value for e in user.emails or () if e.value is not None]
    if key in ("roles", "roles.value"):
        return [r.value for r in user.roles or () if r.value is not None]
    name_parts = user.name or ScimName()
    values: dict[str, Any] = {
        "id": user.id,
        "username": user.user_name,
        "externalid": user.external_id,
        "displayname": user.display_name,
        "active": user.active,
        "name.formatted": name_parts.formatted,
        "name.familyname": name_parts.family_name,
        "name.givenname": name_parts.given_name,
    }
    if key not in values:
        raise HTTPFailure(400, f"filter: the attribute '{name}' cannot be filtered on.")
    value = values[key]
    return [] if value is None else [value]


def _compare(values: list[Any], op: str, operand: Any) -> bool:
    if op == "pr":
        return bool(values)
    results = []
    for value in values:
        if isinstance(value, bool) or isinstance(operand, bool) or operand is None:
            results.append(value == operand if op in ("eq", "ne") else False)
            continue
        a, b = str(value).casefold(), str(operand).casefold()
        results.append(
            {"eq": a == b, "ne": a == b, "co": b in a, "sw": a.startswith(b), "ew": a.endswith(b)}[
                op
            ]
        )
    if op == "ne":
        return not any(results)
    return any(results)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """The words of a filter, each with whether it was quoted."""
    out: list[tuple[str, bool]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            out.append((re.sub(r"\\(.)", r"\1", quoted), True))
        elif bare is not None:
            out.append((bare, False))
        position = match.end()
    return out


def _operand(word: str, quoted: bool) -> Any:
    if quoted:
        return word
    lowered = word.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    raise HTTPFailure(400, f'filter: the value {word} must be quoted ("…"), true, false or null.')


def _user_filter(text: str) -> list[list[tuple[str, str, Any]]]:
    """A filter as OR-ed groups of AND-ed ``(attribute, op, operand)`` comparisons."""
    words = _tokens(text)
    groups: list[list[tuple[str, str, Any]]] = [[]]
    i = 0
    while i < len(words):
        if len(words) - i < 2:
            raise HTTPFailure(400, f"filter: '{text}' is incomplete.")
        (attribute, _), (op, _) = words[i], words[i + 1]
        op = op.lower()
        if op not in _OPS:
            raise HTTPFailure(
                400, f"filter: '{op}' is not an operator this server supports (eq ne co sw ew pr)."
            )
        if op == "pr":
            groups[-1].append((attribute, op, None))
            i += 2
        else:
            if len(words) - i < 3:
                raise HTTPFailure(400, f"filter: '{text}' is incomplete.")
            groups[-1].append((attribute, op, _operand(*words[i + 2])))
            i += 3
        if i < len(words):
            joiner = words[i][0].lower()
            if joiner == "or":
                groups.append([])
            elif joiner != "and":
                raise HTTPFailure(400, f"filter: expected 'and' or 'or', not '{words[i][0]}'.")
            i += 1
            if i == len(words):
                raise HTTPFailure(400, f"filter: '{text}' is incomplete.")
    return groups


def _matches(user: ScimUser, groups: list[list[tuple[str, str, Any]]]) -> bool:
    return any(
        all(_compare(_attribute(user, a), op, operand) for a, op, operand in group)
        for group in groups
    )


# --- users ------------------------------------------------------------------------------------


def get_users(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/SCIM/v2/Users[?filter=&startIndex=&count=]``: a SCIM ListResponse."""
    start = _int_param(req, "startIndex")
    count = _int_param(req, "count")
    text = req.param("filter")
    groups = _user_filter(text) if text and text.strip() else None
    start = max(start or 1, 1)  # RFC 7644 §3.4.2.4: less than 1 is taken as 1
    state = scim_state(emu)
    with state.lock:
        users = list(state.users.values())
        if groups is not None:
            users = [u for u in users if _matches(u, groups)]
    page = users[start - 1 :]
    if count is not None:
        page = page[: max(count, 0)]  # a negative count is taken as 0
    return json_response(
        {
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": len(users),
            "itemsPerPage": len(page),
            "startIndex": start,
            "Resources": page,
        }
    )


def _check_roles(roles: list[ScimRole] | None, where: str) -> None:
    known = {r.casefold() for r in ROLES}
    for i, role in enumerate(roles or ()):
        if (role.value or "").casefold() not in known:
            raise HTTPFailure(400, f"{where}[{i}]: the role '{role.value}' was not found.")


def create_user(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/SCIM/v2/Users``: the new user with its id (409 for a taken userName)."""
    new = decode_json(req.body, ScimUser)
    if not new.user_name or not new.user_name.strip():
        raise HTTPFailure(400, "userName is required.")
    _check_roles(new.roles, "roles")
    state = scim_state(emu)
    with state.lock:
        if state.by_name(new.user_name) is not None:
            raise HTTPFailure(409, f"A user with userName '{new.user_name}' already exists.")
        user_id = str(uuid.uuid4())
        now = _now()
        user = msgspec.structs.replace(
            new,
            schemas=[USER_SCHEMA],
            id=user_id,
            active=True if new.active is None else new.active,
            meta=ScimMeta(
                resource_type="User",
                created=now,
                last_modified=now,
                location=f"{_USERS}/{user_id}",
            ),
        )
        state.users[user_id] = user
        return json_response(user)


def get_user(emu: FakeWATS, req: Request, userId: str) -> Response:
    """``GET /api/SCIM/v2/Users/{id}``."""
    state = scim_state(emu)
    with state.lock:
        return json_response(state.user(userId))


def get_user_by_name(emu: FakeWATS, req: Request, userName: str) -> Response:
    """``GET /api/SCIM/v2/Users/userName={userName}``."""
    state = scim_state(emu)
    with state.lock:
        found = state.by_name(userName)
    if found is None:
        raise HTTPFailure(404, f"User with userName '{userName}' was not found.")
    return json_response(found)


def delete_user(emu: FakeWATS, req: Request, userId: str) -> Response:
    """``DELETE /api/SCIM/v2/Users/{id}``: 204."""
    state = scim_state(emu)
    with state.lock:
        user = state.user(userId)
        key = (user.id or "").lower()
        del state.users[key]
        state.levels.pop(key, None)
        state.product_groups.pop(key, None)
    return Response(status=204, body=b"", content_type="text/plain; charset=utf-8")


# --- patch ------------------------------------------------------------------------------------


def _names(value: str, known: list[str], where: str, what: str) -> set[str]:
    names = {n.strip() for n in value.split(";") if n.strip()}
    by_fold = {k.casefold(): k for k in known}
    unknown = sorted(n for n in names if n.casefold() not in by_fold)
    if unknown:
        raise HTTPFailure(400, f"{where}: no {what} named {', '.join(unknown)}.")
    return {by_fold[n.casefold()] for n in names}


def _checked(emu: FakeWATS, i: int, operation: PatchOperation) -> tuple[str, str | bool | set[str]]:
    """One operation's path and value, checked as the server checks them."""
    where = f"Operations[{i}]"
    if (operation.op or "").lower() != "replace":
        raise HTTPFailure(400, f"{where}.op: only 'replace' is supported, not '{operation.op}'.")
    if not operation.path:
        raise HTTPFailure(400, f"{where}.path is required.")
    path = _PATHS.get(operation.path.lower())
    if path is None:
        raise HTTPFailure(
            400,
            f"{where}.path: '{operation.path}' is not supported; use one of "
            + ", ".join(_PATHS.values())
            + ".",
        )
    value = operation.value
    if path == "active":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return path, value.lower() == "true"
        if not isinstance(value, bool):
            raise HTTPFailure(400, f"{where}.value: active must be a boolean, not {value!r}.")
        return path, value
    if not isinstance(value, str):
        raise HTTPFailure(400, f"{where}.value: {path} must be a string, not {value!r}.")
    if path == "roles":
        _check_roles([ScimRole(value=value)], f"{where}.value")
        return path, next(r for r in ROLES if r.casefold() == value.casefold())
    if path == "levels":
        return path, _names(value, [lv.level_name or "" for lv in emu.state.levels], where, "level")
    if path == "productGroups":
        groups = [g.product_group_name or "" for g in emu.state.product_groups]
        return path, _names(value, groups, where, "product group")
    return path, value


def _applied(user: ScimUser, path: str, value: str | bool | set[str]) -> ScimUser:
    name = user.name or ScimName()
    if path == "active":
        return msgspec.structs.replace(user, active=bool(value))
    assert isinstance(value, str)
    if path == "fullName":
        return msgspec.structs.replace(
            user, display_name=value, name=msgspec.structs.replace(name, formatted=value)
        )
    if path == "familyName":
        return msgspec.structs.replace(user, name=msgspec.structs.replace(name, family_name=value))
    if path == "givenName":
        return msgspec.structs.replace(user, name=msgspec.structs.replace(name, given_name=value))
    if path == "roles":
        return msgspec.structs.replace(user, roles=[ScimRole(value=value, primary=True)])
    # email: the primary address (the first one when none is primary) gets the new value
    emails = list(user.emails or ())
    at = next((k for k, e in enumerate(emails) if e.primary), 0 if emails else None)
    if at is None:
        emails = [ScimEmail(value=value, type="work", primary=True)]
    else:
        emails[at] = msgspec.structs.replace(emails[at], value=value)
    return msgspec.structs.replace(user, emails=emails)


def patch_user(emu: FakeWATS, req: Request, userId: str) -> Response:
    """``PATCH /api/SCIM/v2/Users/{id}`` with a PatchOp: the changed user."""
    patch = decode_json(req.body, _PatchBody)
    if PATCH_OP_SCHEMA not in patch.schemas:
        raise HTTPFailure(400, f"schemas must hold '{PATCH_OP_SCHEMA}'.")
    if not patch.operations:
        raise HTTPFailure(400, "Operations is required: give at least one operation.")
    state = scim_state(emu)
    with state.lock:
        user = state.user(userId)
        changes = [_checked(emu, i, op) for i, op in enumerate(patch.operations)]
        key = (user.id or "").lower()
        for path, value in changes:
            if isinstance(value, set):
                target = state.levels if path == "levels" else state.product_groups
                target.setdefault(key, set()).update(value)
            else:
                user = _applied(user, path, value)
        meta = user.meta or ScimMeta(resource_type="User")
        user = msgspec.structs.replace(
            user, meta=msgspec.structs.replace(meta, last_modified=_now())
        )
        state.users[key] = user
        return json_response(user)
