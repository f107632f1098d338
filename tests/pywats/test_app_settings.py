"""``api.app.get_common_user_settings`` against the emulator, blocking and async."""

from __future__ import annotations

import pytest

import pywats
from pywats import pyWATS
from pywats.models.app import CommonUserSettings
from pywats.testing import FakeWATS
from pywats.testing._meta_routes import user_settings
from tests.pywats.both_clients import both_clients

fake, api = both_clients()


def test_the_token_user_has_default_settings(api: pyWATS, fake: FakeWATS) -> None:
    settings = api.app.get_common_user_settings("API")  # user names ignore case
    assert settings.full_name == "api"
    assert settings.culture_code == "en-US"
    assert settings.roles == ["Administrator"]
    assert settings.levels == [lv.level_name for lv in fake.state.levels]
    assert settings.product_groups == ["All products"]


def test_a_basic_user_is_known(api: pyWATS, fake: FakeWATS) -> None:
    fake.state.users["operator"] = "secret"
    assert api.app.get_common_user_settings("operator").full_name == "operator"


def test_settings_given_to_the_emulator_are_answered(api: pyWATS, fake: FakeWATS) -> None:
    given = CommonUserSettings(
        full_name="Ann Operator",
        culture_code="nb-NO",
        email="ann@example.com",
        roles=["Operator"],
        levels=["Production"],
    )
    user_settings(fake).set("ann", given)
    assert api.app.get_common_user_settings("Ann") == given


def test_an_unknown_user_is_not_found(api: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="User 'nobody' was not found"):
        api.app.get_common_user_settings("nobody")


def test_the_user_name_is_required(api: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="UserName parameter is required"):
        api.app.get_common_user_settings("")


def test_reset_forgets_given_settings(api: pyWATS, fake: FakeWATS) -> None:
    user_settings(fake).set("ann", CommonUserSettings(full_name="Ann"))
    fake.reset()
    with pytest.raises(pywats.NotFoundError):
        api.app.get_common_user_settings("ann")
