"""``api.scim`` against the emulator, blocking and async: users, pages, patches, the token."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

import pywats
from pywats import AsyncWATS, RetryPolicy, pyWATS
from pywats.models.scim import (
    ERROR_SCHEMA,
    LIST_RESPONSE_SCHEMA,
    PATCH_OP_SCHEMA,
    USER_SCHEMA,
    PatchOp,
    PatchOperation,
    ScimEmail,
    ScimName,
    ScimPatchRequest,
    ScimRole,
    ScimToken,
    ScimUser,
)
from pywats.testing import FakeWATS
from pywats.testing._scim_routes import ROLES, scim_state
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

USERS = "/api/SCIM/v2/Users"


def _raw(fake: FakeWATS, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request as a client other than pywats would send it."""
    with httpx.Client(base_url=BASE_URL, transport=fake) as http:
        return http.request(method, path, headers={"Authorization": f"Basic {TOKEN}"}, **kwargs)


def _user(user_name: str, **more: Any) -> ScimUser:
    return ScimUser(user_name=user_name, **more)


def _replace(path: str, value: Any) -> PatchOperation:
    return PatchOperation(op=PatchOp.REPLACE, path=path, value=value)


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# --- token ------------------------------------------------------------------------------------


def test_the_token_is_a_jwt_with_its_expiry(api: pyWATS) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    token = api.scim.get_token()
    head, _, _ = token.token.split(".")
    assert json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["alg"] == "HS256"
    assert token.duration_days == 90
    assert token.expires_utc is not None
    assert before + timedelta(days=90) <= token.expires_utc
    assert token.expires_utc <= datetime.now(UTC) + timedelta(days=90)
    assert _claims(token.token)["exp"] == int(token.expires_utc.timestamp())
    assert _claims(token.token)["sub"] == "api"
    short = api.scim.get_token(30)
    assert short.duration_days == 30
    assert short.token != token.token


@pytest.mark.parametrize("days", [0, -1, "90", 1.5])
def test_a_bad_duration_is_refused_before_sending(api: pyWATS, fake: FakeWATS, days: Any) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match="duration_days"):
        api.scim.get_token(days)
    assert not fake.log


@pytest.mark.parametrize(("days", "status"), [("0", 400), ("36501", 400), ("x", 400), ("1", 200)])
def test_the_server_checks_the_duration(fake: FakeWATS, days: str, status: int) -> None:
    answer = _raw(fake, "GET", "/api/SCIM/v2/Token", params={"duration": days})
    assert answer.status_code == status, answer.text


def test_expiry_is_read_from_the_token_when_the_server_does_not_say() -> None:
    exp = int(datetime(2030, 1, 2, tzinfo=UTC).timestamp())
    body = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    token = ScimToken(token=f"e30.{body}.sig")
    assert token.expires == datetime(2030, 1, 2, tzinfo=UTC)
    assert ScimToken(token="not a jwt").expires is None
    assert ScimToken(token="a.!!!.c").expires is None


def test_a_bare_token_string_is_accepted() -> None:
    """The description types the answer as "object": a server answering a string works too."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json="header.payload.signature")

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client:
        assert client.scim.get_token() == ScimToken(token="header.payload.signature")


# --- users ------------------------------------------------------------------------------------


def test_a_created_user_is_found_by_id_and_user_name(api: pyWATS) -> None:
    created = api.scim.create_user(
        _user(
            "ada@example.com",
            external_id="aad-1",
            display_name="Ada",
            name=ScimName(given_name="Ada", family_name="Lovelace"),
            emails=[ScimEmail(value="ada@example.com", type="work", primary=True)],
            roles=[ScimRole(value="Engineer")],
        )
    )
    assert created.id is not None
    assert created.schemas == [USER_SCHEMA]
    assert created.active is True
    assert created.meta is not None
    assert created.meta.resource_type == "User"
    assert created.meta.location == f"{USERS}/{created.id}"
    assert created.email == "ada@example.com"
    assert api.scim.get_user(created.id) == created
    assert api.scim.get_user(created.id.upper()) == created
    assert api.scim.get_user_by_username("ADA@Example.com") == created


def test_a_user_name_with_odd_characters_is_found(api: pyWATS) -> None:
    created = api.scim.create_user(_user("o'brien+test 1@example.com"))
    assert api.scim.get_user_by_username("o'brien+test 1@example.com") == created


def test_a_taken_user_name_is_a_conflict(api: pyWATS) -> None:
    api.scim.create_user(_user("ada@example.com"))
    with pytest.raises(pywats.ConflictError, match=r"userName 'ADA@example\.com' already exists"):
        api.scim.create_user(_user("ADA@example.com"))
    assert api.scim.get_users().total_results == 1


def test_an_inactive_user_can_be_created(api: pyWATS) -> None:
    assert api.scim.create_user(_user("ghost@example.com", active=False)).active is False


@pytest.mark.parametrize(
    ("user", "match"),
    [
        (_user(""), "user_name is required"),
        (ScimUser(), "user_name is required"),
        ({"userName": "x"}, "must be a ScimUser"),
    ],
)
def test_create_refuses_bad_users_before_sending(
    api: pyWATS, fake: FakeWATS, user: Any, match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        api.scim.create_user(user)
    assert not fake.log


def test_the_server_names_a_bad_new_user(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError, match=r"roles\[0\]: the role 'Pilot' was not found"):
        api.scim.create_user(_user("x@example.com", roles=[ScimRole(value="Pilot")]))
    with pytest.raises(pywats.ValidationError, match=r"got `int` - at `\$.active`"):
        api.scim.create_user(_user("x@example.com", active=1))
    assert _raw(fake, "POST", USERS, json={}).json() == {"Message": "userName is required."}


def test_unknown_users_are_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="was not found"):
        api.scim.get_user("6b1d7c34-0d3e-4d43-9d53-3a2f9c0c1f2e")
    with pytest.raises(pywats.NotFoundError, match="userName 'nobody' was not found"):
        api.scim.get_user_by_username("nobody")
    with pytest.raises(pywats.NotFoundError):
        api.scim.delete_user("6b1d7c34-0d3e-4d43-9d53-3a2f9c0c1f2e")
    with pytest.raises(pywats.NotFoundError):
        api.scim.deactivate_user("not-even-a-guid")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda scim: scim.get_user(""), "user_id must be a non-empty str"),
        (lambda scim: scim.get_user(42), "user_id must be a non-empty str"),
        (lambda scim: scim.get_user_by_username(" "), "username must be a non-empty str"),
        (lambda scim: scim.delete_user(None), "user_id must be a non-empty str"),
        (lambda scim: scim.set_user_active("u", "no"), "active must be a bool"),
        (lambda scim: scim.update_display_name("u", ""), "display_name must be a non-empty"),
        (lambda scim: scim.update_user("u", []), "the patch has no operations"),
        (lambda scim: scim.update_user("u", "active=false"), "give a ScimPatchRequest"),
        (lambda scim: scim.update_user("u", [{"op": "replace"}]), r"operations\[0\] must be"),
        (lambda scim: scim.get_users(0), "start_index must be at least 1"),
        (lambda scim: scim.get_users(1, -1), "count must be at least 0"),
        (lambda scim: scim.get_users(filter=5), "filter must be a str"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    api: pyWATS, fake: FakeWATS, call: Callable[[Any], Any], match: str
) -> None:
    with pytest.raises(pywats.InvalidArgumentError, match=match):
        call(api.scim)
    assert not fake.log


def test_a_deleted_user_is_gone(api: pyWATS) -> None:
    user = api.scim.create_user(_user("ada@example.com"))
    assert user.id is not None
    assert api.scim.delete_user(user.id) is None
    with pytest.raises(pywats.NotFoundError):
        api.scim.get_user(user.id)
    with pytest.raises(pywats.NotFoundError):
        api.scim.get_user_by_username("ada@example.com")
    with pytest.raises(pywats.NotFoundError):
        api.scim.delete_user(user.id)
    again = api.scim.create_user(_user("ada@example.com"))  # the name is free again
    assert again.id != user.id


# --- pages ------------------------------------------------------------------------------------


def _seven(api: pyWATS) -> list[str]:
    names = [f"user{i}@example.com" for i in range(7)]
    for name in names:
        api.scim.create_user(_user(name, active=not name.startswith("user6")))
    return names


def test_users_come_a_page_at_a_time(api: pyWATS) -> None:
    names = _seven(api)
    everyone = api.scim.get_users()
    assert (everyone.total_results, everyone.items_per_page, everyone.start_index) == (7, 7, 1)
    assert everyone.schemas == [LIST_RESPONSE_SCHEMA]
    first = api.scim.get_users(1, 3)
    assert [u.user_name for u in first.resources] == names[:3]
    assert (first.total_results, first.items_per_page, first.start_index) == (7, 3, 1)
    last = api.scim.get_users(7, 3)
    assert [u.user_name for u in last.resources] == names[6:]
    assert api.scim.get_users(8, 3).resources == []
    assert api.scim.get_users(1, 0).resources == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"startIndex": "0", "count": "2"}, (1, 2)),  # below 1 is taken as 1 (RFC 7644)
        ({"startIndex": "-5"}, (1, 7)),
        ({"count": "-1"}, (1, 0)),  # a negative count is taken as 0
    ],
)
def test_the_server_reads_paging_as_scim_says(
    api: pyWATS, fake: FakeWATS, query: dict[str, str], expected: tuple[int, int]
) -> None:
    _seven(api)
    body = _raw(fake, "GET", USERS, params=query).json()
    assert (body["startIndex"], body["itemsPerPage"]) == expected


def _user_gets(fake: FakeWATS) -> int:
    return sum(1 for e in fake.log if e.method == "GET" and e.path == USERS)


def test_iter_users_pages_as_the_loop_goes(fake: FakeWATS) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        names = _seven(client)
        users = client.scim.iter_users(page_size=3)
        assert _user_gets(fake) == 0  # nothing is fetched before the loop asks
        assert next(users).user_name == names[0]
        assert _user_gets(fake) == 1
        assert [u.user_name for u in users] == names[1:]
        assert _user_gets(fake) == 3
        assert [u.user_name for u in client.scim.iter_users(page_size=3, limit=4)] == names[:4]
        assert _user_gets(fake) == 5
        active = client.scim.iter_users("active eq true", page_size=2)
        assert [u.user_name for u in active] == names[:6]


@pytest.mark.parametrize("backend", ["trio", "asyncio"])
def test_iter_users_async(fake: FakeWATS, backend: str) -> None:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        names = _seven(client)

    async def collect() -> list[str | None]:
        async with AsyncWATS(BASE_URL, TOKEN, transport=fake) as client:
            return [u.user_name async for u in client.scim.iter_users(page_size=2, limit=5)]

    assert anyio.run(collect, backend=backend) == names[:5]
    assert _user_gets(fake) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"page_size": 0}, "page_size"), ({"limit": -1}, "limit"), ({"filter": 3}, "filter")],
)
def test_iter_users_refuses_bad_arguments_at_once(
    fake: FakeWATS, kwargs: dict[str, Any], match: str
) -> None:
    with (
        pyWATS(BASE_URL, TOKEN, transport=fake) as client,
        pytest.raises(pywats.InvalidArgumentError, match=match),
    ):
        client.scim.iter_users(**kwargs)
    assert not fake.log


def _list_server(users: int, *, honour_paging: bool, echo_start: int | None = None) -> Any:
    everyone = [{"id": str(i), "userName": f"u{i}"} for i in range(users)]
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url.params))
        start = int(request.url.params.get("startIndex", "1"))
        count = int(request.url.params.get("count", "100"))
        page = everyone[start - 1 : start - 1 + count] if honour_paging else everyone
        return httpx.Response(
            200,
            json={
                "totalResults": users,
                "startIndex": echo_start if echo_start is not None else start,
                "Resources": page,
            },
        )

    return handler, asked


@pytest.mark.parametrize(
    ("honour", "echo", "requests"), [(True, None, 3), (False, None, 1), (True, 1, 3)]
)
def test_iter_users_ends_with_any_server(honour: bool, echo: int | None, requests: int) -> None:
    """A server that ignores ``count``, or echoes a wrong ``startIndex``, gives no duplicates."""
    handler, asked = _list_server(5, honour_paging=honour, echo_start=echo)
    transport = httpx.MockTransport(handler)
    with pyWATS(BASE_URL, TOKEN, transport=transport, retry=RetryPolicy.never()) as client:
        names = [u.user_name for u in client.scim.iter_users(page_size=2)]
    assert names == [f"u{i}" for i in range(5)]
    assert len(asked) == requests


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "ADA@example.com"', ["ada@example.com"]),
        ('externalId eq "aad-2"', ["bob@example.com"]),
        ("active eq false", ["bob@example.com"]),
        ('userName sw "b"', ["bob@example.com"]),
        ('userName ew "example.com" and active eq true', ["ada@example.com"]),
        ('emails co "corp"', ["cy@example.org"]),
        (
            'displayName eq "Ada" or userName eq "bob@example.com"',
            ["ada@example.com", "bob@example.com"],
        ),
        ("externalId pr", ["ada@example.com", "bob@example.com"]),
        ('name.familyName eq "lovelace"', ["ada@example.com"]),
        ('userName ne "ada@example.com"', ["bob@example.com", "cy@example.org"]),
    ],
)
def test_filters(api: pyWATS, text: str, expected: list[str]) -> None:
    api.scim.create_user(
        _user(
            "ada@example.com",
            external_id="aad-1",
            display_name="Ada",
            name=ScimName(family_name="Lovelace"),
        )
    )
    api.scim.create_user(_user("bob@example.com", external_id="aad-2", active=False))
    api.scim.create_user(_user("cy@example.org", emails=[ScimEmail(value="cy@corp.example")]))
    found = api.scim.get_users(filter=text)
    assert [u.user_name for u in found.resources] == expected
    assert found.total_results == len(expected)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('password eq "x"', "the attribute 'password' cannot be filtered on"),
        ('userName gt "a"', "'gt' is not an operator"),
        ("userName eq", "is incomplete"),
        ("userName eq ada", "must be quoted"),
        ('userName eq "a" nor active eq true', "expected 'and' or 'or'"),
        ('userName eq "a" and', "is incomplete"),
    ],
)
def test_bad_filters_are_named(api: pyWATS, text: str, match: str) -> None:
    api.scim.create_user(_user("ada@example.com"))
    with pytest.raises(pywats.ValidationError, match=match):
        api.scim.get_users(filter=text)


# --- patch ------------------------------------------------------------------------------------


@pytest.fixture
def ada(fake: FakeWATS) -> ScimUser:
    with pyWATS(BASE_URL, TOKEN, transport=fake) as client:
        return client.scim.create_user(
            _user(
                "ada@example.com",
                display_name="Ada",
                name=ScimName(given_name="Ada", family_name="Byron"),
                emails=[
                    ScimEmail(value="ada@home.example", type="home"),
                    ScimEmail(value="ada@example.com", type="work", primary=True),
                ],
            )
        )


def test_replace_operations_change_the_user(api: pyWATS, ada: ScimUser) -> None:
    assert ada.id is not None
    changed = api.scim.update_user(
        ada.id,
        [
            _replace("fullName", "Ada Lovelace"),
            _replace("familyName", "Lovelace"),
            _replace("givenName", "Augusta Ada"),
            _replace("email", "ada@lovelace.example"),
            _replace("roles", "engineer"),
            _replace("active", False),
        ],
    )
    assert changed.display_name == "Ada Lovelace"
    assert changed.name == ScimName(
        formatted="Ada Lovelace", family_name="Lovelace", given_name="Augusta Ada"
    )
    assert [e.value for e in changed.emails or ()] == ["ada@home.example", "ada@lovelace.example"]
    assert changed.roles == [ScimRole(value="Engineer", primary=True)]
    assert changed.active is False
    assert changed.meta is not None
    assert ada.meta is not None
    assert changed.meta.created == ada.meta.created
    assert changed.meta.last_modified is not None
    assert ada.meta.last_modified is not None
    assert changed.meta.last_modified >= ada.meta.last_modified
    assert api.scim.get_user(ada.id) == changed


def test_conveniences(api: pyWATS, ada: ScimUser) -> None:
    assert ada.id is not None
    assert api.scim.deactivate_user(ada.id).active is False
    assert api.scim.set_user_active(ada.id, True).active is True
    assert api.scim.update_display_name(ada.id, "Countess").display_name == "Countess"
    patch = ScimPatchRequest(operations=[_replace("active", "False")])  # as Azure sends it
    assert api.scim.update_user(ada.id, patch).active is False


def test_an_email_is_added_to_a_user_without_one(api: pyWATS) -> None:
    user = api.scim.create_user(_user("bob@example.com"))
    assert user.id is not None
    changed = api.scim.update_user(user.id, [_replace("email", "bob@corp.example")])
    assert changed.emails == [ScimEmail(value="bob@corp.example", type="work", primary=True)]


def test_levels_and_product_groups_only_add(api: pyWATS, fake: FakeWATS, ada: ScimUser) -> None:
    assert ada.id is not None
    api.scim.update_user(ada.id, [_replace("levels", "Default"), _replace("productGroups", "")])
    api.scim.update_user(
        ada.id,
        [_replace("levels", "production; DEFAULT"), _replace("productGroups", "All products")],
    )
    assert scim_state(fake).restrictions(ada.id) == ({"Default", "Production"}, {"All products"})


@pytest.mark.parametrize(
    ("operation", "match"),
    [
        (
            PatchOperation(op="add", path="active", value=False),
            r"Operations\[1\].op: only 'replace'",
        ),
        (PatchOperation(op="remove", path="email"), "only 'replace' is supported, not 'remove'"),
        (_replace("nickName", "x"), r"Operations\[1\].path: 'nickName' is not supported"),
        (
            PatchOperation(op="replace", value={"active": False}),
            r"Operations\[1\].path is required",
        ),
        (_replace("active", "maybe"), "active must be a boolean"),
        (_replace("fullName", 5), "fullName must be a string"),
        (_replace("roles", "Pilot"), "the role 'Pilot' was not found"),
        (_replace("levels", "Default;Mars"), "no level named Mars"),
        (_replace("productGroups", "Nope"), "no product group named Nope"),
    ],
)
def test_refused_operations_change_nothing(
    api: pyWATS, fake: FakeWATS, ada: ScimUser, operation: PatchOperation, match: str
) -> None:
    assert ada.id is not None
    with pytest.raises(pywats.ValidationError, match=match):
        api.scim.update_user(ada.id, [_replace("fullName", "Changed"), operation])
    assert api.scim.get_user(ada.id) == ada
    assert scim_state(fake).restrictions(ada.id) == (set(), set())


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            {"Operations": [{"op": "replace", "path": "active", "value": False}]},
            "schemas must hold",
        ),
        ({"schemas": [PATCH_OP_SCHEMA], "Operations": []}, "Operations is required"),
        ({"schemas": [PATCH_OP_SCHEMA], "Operations": [{}]}, "missing required field `op`"),
    ],
)
def test_the_server_wants_a_patch_op(
    fake: FakeWATS, ada: ScimUser, body: dict[str, Any], match: str
) -> None:
    answer = _raw(fake, "PATCH", f"{USERS}/{ada.id}", json=body)
    assert answer.status_code == 400
    assert match in answer.json()["Message"]


def test_a_patch_of_an_unknown_user_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError):
        api.scim.update_user("6b1d7c34-0d3e-4d43-9d53-3a2f9c0c1f2e", [_replace("active", False)])


def test_every_role_the_emulator_knows_can_be_given(api: pyWATS, ada: ScimUser) -> None:
    assert ada.id is not None
    for role in ROLES:
        assert api.scim.update_user(ada.id, [_replace("roles", role)]).roles == [
            ScimRole(value=role, primary=True)
        ]


# --- errors in SCIM's own shape ---------------------------------------------------------------


def test_an_error_in_scims_schema_is_read() -> None:
    """A server answering with SCIM's error schema (RFC 7644 §3.12) still gives its message."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"schemas": [ERROR_SCHEMA], "status": "409", "scimType": "uniqueness",
                "detail": "userName is taken"}  # fmt: skip
        return httpx.Response(409, json=body, headers={"Content-Type": "application/scim+json"})

    with (
        pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(pywats.ConflictError, match="userName is taken"),
    ):
        client.scim.create_user(_user("ada@example.com"))


def test_a_user_the_server_sends_with_members_we_do_not_know() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"id": "7", "userName": "ada", "urn:ietf:params:scim:schemas:extension:x": {}},
        )

    with pyWATS(BASE_URL, TOKEN, transport=httpx.MockTransport(handler)) as client:
        assert client.scim.get_user("7") == ScimUser(id="7", user_name="ada")
