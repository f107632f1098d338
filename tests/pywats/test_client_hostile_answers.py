"""A hostile or broken server cannot crash the client: answers nested to any depth are errors.

msgspec recurses once per nesting level, so ``[[[[…`` a few kilobytes long raised
``RecursionError`` out of a call (which the station's uploader would have treated as a bug).
"""

from __future__ import annotations

import httpx
import pytest

from pywats import pyWATS
from pywats._call import UnexpectedResponseError
from pywats._errors import PyWATSError, ValidationError
from pywats.formats._nesting import MAX_JSON_NESTING


def _api(status: int, body: bytes) -> pyWATS:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return pyWATS("https://wats.example", "token", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize("depth", [MAX_JSON_NESTING + 1, 100_000])
def test_a_deep_answer_is_an_unexpected_response(depth: int) -> None:
    with (
        _api(200, b"[" * depth + b"]" * depth) as api,
        pytest.raises(UnexpectedResponseError, match=r"nests \d+ levels deep"),
    ):
        api.app.get_processes()


def test_a_deep_unterminated_answer_is_an_unexpected_response() -> None:
    with _api(200, b'{"a":' * 50_000) as api, pytest.raises(UnexpectedResponseError):
        api.app.get_version()


def test_a_deep_error_body_still_gives_the_typed_error() -> None:
    with _api(400, b"[" * 100_000) as api, pytest.raises(ValidationError) as caught:
        api.app.get_processes()
    assert isinstance(caught.value, PyWATSError)
    assert len(caught.value.message) <= 1000


def test_an_answer_within_the_limit_still_decodes() -> None:
    with _api(200, b"[]") as api:
        assert api.app.get_processes() == []
