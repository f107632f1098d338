"""Generate the reference parts of ``docs/control-api.md`` from the catalogue and OpenRPC.

The document is prose written by hand with generated sections between markers::

    <!-- generated:methods -->
    ... (replaced on every run) ...
    <!-- end:methods -->

Usage (from the repository root)::

    python -m pywats_station.control._docgen            # rewrite docs/control-api.md in place
    python -m pywats_station.control._docgen --check    # exit 1 if it is out of date
    python -m pywats_station.control._docgen --openrpc  # print the OpenRPC document (JSON)

A test runs the check, so the document cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from pywats._version import __version__
from pywats_station.control import events, methods
from pywats_station.control._openrpc import build_openrpc
from pywats_station.control.protocol import ERRORS
from pywats_station.control.registry import DEFAULT_TITLE

__all__ = ["DOC", "generate", "openrpc_document", "update"]

DOC = Path("docs/control-api.md")
_SECTION = re.compile(r"(<!-- generated:(\w+) -->\n).*?(<!-- end:\2 -->)", re.DOTALL)
_REF = "#/components/schemas/"
_MODULE = "pywats_station.control._docgen"


def openrpc_document() -> dict[str, Any]:
    """The OpenRPC document of the whole catalogue (what ``rpc.discover`` answers)."""
    return build_openrpc(
        methods.catalogue(),
        events.notifications(),
        title=DEFAULT_TITLE,
        version=__version__,
        description="JSON-RPC 2.0 over a websocket; see docs/control-api.md.",
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema as a short type for a table (``integer ≥ 1``, ``QueueEntry[]`` …)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(_REF)
        return f"[{name}](#{_type_anchor(name)})"
    if "anyOf" in schema:
        return " \\| ".join(type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind is None:
        return "any"
    limits = [
        f"{symbol} {schema[key]}"
        for key, symbol in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("minItems", "items ≥"),
            ("maxItems", "items ≤"),
        )
        if key in schema
    ]
    if kind == "array":
        return " ".join([type_of(schema.get("items", {})) + "[]", *limits])
    return " ".join([str(kind), *limits])


def _fields(schema: dict[str, Any]) -> list[str]:
    """A field table for an object schema."""
    properties = schema.get("properties", {})
    if not properties:
        return ["(none)", ""]
    required = set(schema.get("required", ()))
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    for name, prop in properties.items():
        default = "required" if name in required else f"`{json.dumps(prop.get('default'))}`"
        rows.append(
            f"| `{name}` | {type_of(prop)} | {default} | {_cell(prop.get('description', ''))} |"
        )
    return [*rows, ""]


def _section_errors() -> list[str]:
    rows = ["| code | name | message | when |", "|---|---|---|---|"]
    for code, info in ERRORS.items():
        rows.append(f"| {int(code)} | {info.name} | {info.message} | {_cell(info.meaning)} |")
    return rows


def _section_methods(doc: dict[str, Any]) -> list[str]:
    rows = ["| method | role | params | result | summary |", "|---|---|---|---|---|"]
    for method in doc["methods"]:
        params = ", ".join(f"`{p['name']}`" for p in method["params"]) or "—"
        result = type_of(method["result"]["schema"])
        role = method["x-role"]
        rows.append(
            f"| [`{method['name']}`](#{_anchor(method['name'])}) | {role} | {params} "
            f"| {result} | {_cell(method['summary'])} |"
        )
    return rows


def _anchor(name: str) -> str:
    """GitHub's anchor of a method's heading (``### queue.list`` -> ``queuelist``)."""
    return name.replace(".", "")


def _type_anchor(name: str) -> str:
    # An explicit anchor: ``StationStatus`` would otherwise collide with ``station.status``.
    return f"type-{name.lower()}"


def _section_reference(doc: dict[str, Any]) -> list[str]:
    schemas = doc["components"]["schemas"]
    codes = {info.name: int(code) for code, info in ERRORS.items()}
    lines: list[str] = []
    for method in doc["methods"]:
        lines += [f"### {method['name']}", "", method["summary"], ""]
        if method.get("description"):
            lines += [method["description"], ""]
        params_ref = None
        for spec in methods.catalogue():
            if spec.name == method["name"]:
                params_ref = spec.params.__name__
        lines += ["**Params**" + (f" ({params_ref}):" if method["params"] else ": none."), ""]
        if method["params"]:
            lines += _fields(schemas[params_ref])
        lines += [f"**Result**: {type_of(method['result']['schema'])}.", ""]
        lines += [f"**Role**: {method['x-role']}.", ""]
        errors = [ref["$ref"].rsplit("/", 1)[1] for ref in method["errors"]]
        listed = ", ".join(f"{codes[name]} {name}" for name in errors)
        lines += [f"**Errors**: {listed}.", ""]
    return lines[:-1]


def _section_notifications(doc: dict[str, Any]) -> list[str]:
    rows = ["| event | notification | payload | summary |", "|---|---|---|---|"]
    for note in events.notifications():
        rows.append(
            f"| `{note.event}` | `{note.method}` | [{note.payload.__name__}]"
            f"(#{_type_anchor(note.payload.__name__)}) | {_cell(note.summary)} |"
        )
    return rows


def _section_types(doc: dict[str, Any]) -> list[str]:
    """Every result, payload and nested type, alphabetically (params are with their method)."""
    schemas = doc["components"]["schemas"]
    params = {spec.params.__name__ for spec in methods.catalogue()}
    lines: list[str] = []
    for name in sorted(schemas):
        if name in params:
            continue
        schema = schemas[name]
        lines += [f'<a id="{_type_anchor(name)}"></a>', "", f"#### {name}", ""]
        if schema.get("description"):
            lines += [_cell(schema["description"]), ""]
        lines += _fields(schema)
    return lines[:-1]


def generate() -> dict[str, str]:
    """Every generated section's content, by marker name."""
    doc = openrpc_document()
    sections = {
        "errors": _section_errors(),
        "methods": _section_methods(doc),
        "reference": _section_reference(doc),
        "notifications": _section_notifications(doc),
        "types": _section_types(doc),
    }
    return {name: "\n".join(lines) + "\n" for name, lines in sections.items()}


def update(text: str) -> str:
    """``text`` with every generated section replaced by fresh output.

    Raises:
        ValueError: If a section has no markers in ``text`` (or a marker is unknown).
    """
    sections = generate()
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in sections:
            raise ValueError(f"unknown generated section {name!r}")
        found.add(name)
        return match.group(1) + sections[name] + match.group(3)

    result = _SECTION.sub(replace, text)
    missing = sorted(set(sections) - found)
    if missing:
        raise ValueError(f"no markers for the generated sections {missing}")
    return result


def main(argv: list[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m pywats_station.control._docgen")
    parser.add_argument("path", nargs="?", type=Path, default=DOC)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    group.add_argument("--openrpc", action="store_true", help="print the OpenRPC document")
    args = parser.parse_args(argv)
    if args.openrpc:
        json.dump(openrpc_document(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    text = args.path.read_text(encoding="utf-8")
    fresh = update(text)
    if args.check:
        if fresh != text:
            print(f"{args.path} is out of date: run python -m {_MODULE}", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        args.path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
