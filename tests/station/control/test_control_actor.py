"""The control actor's pure parts: client URLs, TLS contexts, tree diffs, config edits."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from pywats_station._supervisor import ChildStatistics, SupervisorStatistics
from pywats_station.actors.control import client_url, flatten_tree, tls_context
from pywats_station.actors.control_config import lookup
from pywats_station.config import ControlConfig
from pywats_station.control import ControlError, ErrorCode

from .test_tcp import self_signed


def test_tls_paths_are_relative_to_the_configuration(tmp_path: Path) -> None:
    self_signed(tmp_path)
    config = ControlConfig(tls_cert="cert.pem", tls_key="key.pem")
    assert isinstance(tls_context(config, tmp_path), ssl.SSLContext)
    with pytest.raises(OSError, match="No such file"):
        tls_context(ControlConfig(tls_cert="nope.pem", tls_key="key.pem"), tmp_path)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "ws://127.0.0.1:1"),
        ("0.0.0.0", "ws://127.0.0.1:1"),
        ("::", "ws://[::1]:1"),
        ("::1", "ws://[::1]:1"),
        ("localhost", "ws://localhost:1"),
    ],
)
def test_client_urls(host: str, url: str) -> None:
    assert client_url(host, 1, tls=False) == url
    assert client_url(host, 1, tls=True) == url.replace("ws://", "wss://")


def test_flatten_tree_names_every_node_by_its_path() -> None:
    tree = SupervisorStatistics(
        name="station",
        state="running",
        strategy="one_for_one",
        restarts_in_window=0,
        children=[
            ChildStatistics(name="control", state="running", restart="permanent"),
            SupervisorStatistics(
                name="converters",
                state="running",
                strategy="one_for_one",
                restarts_in_window=0,
                restart="permanent",
                children=[
                    ChildStatistics(
                        name="converter:ict",
                        state="backoff",
                        restart="permanent",
                        restarts=2,
                        last_error="ValueError: boom",
                    )
                ],
            ),
        ],
    )
    assert flatten_tree(tree) == {
        "station": ("running", 0, None),
        "station/control": ("running", 0, None),
        "station/converters": ("running", 0, None),
        "station/converters/converter:ict": ("backoff", 2, "ValueError: boom"),
    }


def test_lookup_by_toml_path_and_converter_name() -> None:
    document = {"queue": {"upload_workers": 4}, "converters": [{"name": "ict", "watch": "/in"}]}
    assert lookup(document, None) is document
    assert lookup(document, "queue.upload_workers") == 4
    assert lookup(document, "converters.ict.watch") == "/in"
    for key in ("queue.x", "converters.nope", "nope", "queue.upload_workers.deeper"):
        with pytest.raises(ControlError) as caught:
            lookup(document, key)
        assert caught.value.code == ErrorCode.NOT_FOUND
