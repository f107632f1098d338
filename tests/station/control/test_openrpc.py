"""The OpenRPC document and docs/control-api.md: complete, resolvable, and in step with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio

from pywats_station.control import CallContext, ErrorCode, Registry
from pywats_station.control import methods as m
from pywats_station.control._docgen import main as docgen_main
from pywats_station.control._docgen import openrpc_document, update
from pywats_station.control._openrpc import describe_type
from pywats_station.control.roles import Role

from .helpers import TOKEN, make_server, raw_connection

DOC = Path(__file__).resolve().parents[3] / "docs" / "control-api.md"


def refs(value: Any) -> list[str]:
    """Every ``$ref`` anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for item in value.values() for ref in refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in refs(item)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_document_is_json_and_every_reference_resolves() -> None:
    document = openrpc_document()
    assert json.loads(json.dumps(document)) == document
    assert document["openrpc"] == "1.2.6"
    assert document["info"]["title"]
    assert document["info"]["version"]
    all_refs = refs(document)
    assert all_refs
    for ref in all_refs:
        assert isinstance(resolve(document, ref), dict), ref


def test_every_catalogue_method_is_described() -> None:
    document = openrpc_document()
    by_name = {method["name"]: method for method in document["methods"]}
    assert list(by_name) == [spec.name for spec in m.catalogue()]
    for spec in m.catalogue():
        method = by_name[spec.name]
        assert method["summary"] == spec.summary
        assert method["paramStructure"] == "either"
        assert method["x-role"] == spec.role.label
        # Params are listed in field order: that order is the positional order.
        names = [p["name"] for p in method["params"]]
        assert names == [f.encode_name for f in msgspec.structs.fields(spec.params)]
        for param in method["params"]:
            assert set(param) >= {"name", "schema", "required"}
            assert param["description"], (spec.name, param["name"])
        assert set(method["result"]) >= {"name", "schema"}
        error_names = {ref["$ref"].rsplit("/", 1)[1] for ref in method["errors"]}
        unauthorized = spec.role > Role.NONE or ErrorCode.UNAUTHORIZED in spec.errors
        assert ("Unauthorized" in error_names) is unauthorized
        forbidden = spec.role is Role.ADMIN or ErrorCode.FORBIDDEN in spec.errors
        assert ("Forbidden" in error_names) is forbidden
        assert {"RateLimited", "InternalError"} <= error_names
        for code in spec.errors:
            assert any(resolve(document, r["$ref"])["code"] == code for r in method["errors"])


def test_notifications_are_listed_apart_from_methods() -> None:
    document = openrpc_document()
    notes = document["x-notifications"]
    assert [n["name"] for n in notes] == [f"notify.{n.event}" for n in m.notifications()]
    for note, spec in zip(notes, m.notifications(), strict=True):
        assert note["x-notification"] is True
        assert note["x-event"] == spec.event
        assert "result" not in note
        assert [p["name"] for p in note["params"]] == list(spec.payload.__struct_fields__)
    assert not any(method["name"].startswith("notify.") for method in document["methods"])


def test_every_field_of_every_type_is_documented() -> None:
    schemas = openrpc_document()["components"]["schemas"]
    for name, schema in schemas.items():
        assert schema.get("description"), name
        for field, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{field} has no description"


def test_describe_type_reads_google_style_attributes() -> None:
    description, fields = describe_type(m.QueueListParams)
    assert description == "Filter and page the queue."
    assert fields["limit"] == "The most entries to return (1-1000)."
    _, wrapped = describe_type(m.ConfigSetParams)
    assert wrapped["key"].startswith("A TOML path to a field")
    assert wrapped["key"].endswith("use ``pywats-station login``.")
    assert describe_type(msgspec.Struct) == ("", {})


@pytest.mark.trio
async def test_rpc_discover_describes_the_registered_methods() -> None:
    registry = Registry()

    @registry.implement(m.STATION_STATUS)
    async def status(ctx: CallContext, params: m.NoParams) -> m.StationStatus:
        raise NotImplementedError

    from pywats_station.control import ControlServer

    async with raw_connection(ControlServer(registry, token=TOKEN)) as raw:
        reply = await raw.rpc({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})
    names = [method["name"] for method in reply["result"]["methods"]]
    assert names == [spec.name for spec in m.BUILTINS] + ["station.status"]
    assert reply["result"] == registry.openrpc()
    assert registry.openrpc("Other", "9")["info"] == {
        "title": "Other",
        "version": "9",
        "description": registry.openrpc()["info"]["description"],
    }


# --- the document ------------------------------------------------------------------------------


def test_the_committed_document_matches_the_generator() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert update(text) == text, "run: python -m pywats_station.control._docgen"


def test_docgen_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "control-api.md"
    stale = DOC.read_text(encoding="utf-8").replace("| -32010 | NotFound", "| -1 | Nope", 1)
    copy.write_text(stale, encoding="utf-8")
    assert docgen_main(["--check", str(copy)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docgen_main([str(copy)]) == 0
    assert docgen_main(["--check", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    assert docgen_main(["--openrpc"]) == 0
    assert json.loads(capsys.readouterr().out) == openrpc_document()
    with pytest.raises(ValueError, match="no markers"):
        update("no markers here")


def test_the_python_examples_compile() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        compile(block, str(DOC), "exec")


def _exchange() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### A raw exchange", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    return [(line[0], line[2:]) for line in section.splitlines() if line[:1] in "→←"]


def _masked(value: Any) -> Any:
    """A reply with its clock reading replaced, for comparison."""
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {k: "<time>" if k == "time" else _masked(v) for k, v in value.items()}
    return value


@pytest.mark.trio
async def test_the_raw_exchange_in_the_document_is_what_the_server_says() -> None:
    exchange = _exchange()
    assert len(exchange) >= 10
    async with raw_connection(make_server()) as raw:
        for direction, line in exchange:
            if direction == "→":
                await raw.send(line.replace("<token>", TOKEN))
                continue
            with trio.fail_after(5):
                actual = await raw.receive()
            assert _masked(actual) == _masked(json.loads(line)), line
