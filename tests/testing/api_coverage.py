"""``docs/api-coverage.md``: the operations of the WATS API pywats covers, from the library itself.

Every operation of every domain of ``pywats.api.DOMAINS`` is built (never sent) with its sample
arguments (:func:`tests.testing.contract.library_calls`), and its request is found in the
server's own API description: the public one, and the internal one for ``/api/internal`` paths.
The page lists, per tag of the public description, each operation with the pywats methods that
call it, or the reason it is left out (:data:`LEFT_OUT_TAGS`, :data:`LEFT_OUT`), with totals.

Commands (from the repository's root)::

    python -m tests.testing.api_coverage             # print the page
    python -m tests.testing.api_coverage --write     # write docs/api-coverage.md
    python -m tests.testing.api_coverage --check     # exit 1 if docs/api-coverage.md is stale

The descriptions are read from ``--openapi DIR``, else ``$PYWATS_OPENAPI_DIR``, else
``../shared/reference/openapi`` (as :mod:`tests.testing.contract` finds them). The page names
no folder of the machine it was made on. ``tests/testing/test_api_coverage.py`` keeps it current.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.testing.contract import (
    INTERNAL,
    OPENAPI,
    PUBLIC,
    Description,
    LibraryCall,
    Operation,
    library_calls,
    path_parameters,
    structure,
)

__all__ = [
    "LEFT_OUT",
    "LEFT_OUT_TAGS",
    "NOT_YET",
    "PAGE",
    "Coverage",
    "Row",
    "coverage",
    "main",
    "match",
    "render",
]

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "api-coverage.md"

PART_2 = "part 2, not yet"
NOT_YET = "not implemented yet"

# Why the operations of a tag that pywats does not call are left out. An entry for a tag whose
# operations are all called fails the test (stale).
LEFT_OUT_TAGS: dict[str, str] = {}

# Why one operation is left out, by ``METHOD /path`` as the public description spells it;
# overrides its tag's reason. An entry for an operation pywats calls fails the test (stale).
LEFT_OUT: dict[str, str] = {}

_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "POST", "PUT", "PATCH", "DELETE"))}


@dataclass(frozen=True, slots=True)
class Row:
    """One operation of the description and what pywats makes of it."""

    tag: str
    operation_id: str
    method: str
    path: str
    methods: tuple[str, ...]  # ``api.domain.name`` of every pywats method that calls it
    reason: str | None  # why it is left out; ``None`` when ``methods`` is not empty

    @property
    def key(self) -> str:
        """``METHOD /path`` as the description spells it."""
        return f"{self.method} {self.path}"

    @property
    def covered(self) -> bool:
        """Whether a pywats method calls the operation."""
        return bool(self.methods)


@dataclass
class Coverage:
    """The public operations, the internal ones pywats calls, and calls not described."""

    public: list[Row] = field(default_factory=list)
    internal: list[Row] = field(default_factory=list)
    undescribed: list[LibraryCall] = field(default_factory=list)

    @property
    def covered(self) -> int:
        """How many public operations pywats calls."""
        return sum(row.covered for row in self.public)

    def tags(self) -> list[str]:
        """The public description's tags, sorted."""
        return sorted({row.tag for row in self.public}, key=str.casefold)


def _tag(op: Operation) -> str:
    tags = op.spec.get("tags") or ["(untagged)"]
    return str(tags[0])


def _sort_key(row: Row) -> tuple[str, str, int]:
    return (row.tag.casefold(), row.path.casefold(), _METHOD_ORDER.get(row.method, 9))


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}/]*)\}", template.rstrip("/"))
    # split() alternates literal text and parameter names.
    regex = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _takes_ids(doc: Description, op: Operation, name: str) -> bool:
    """Whether a path parameter holds ids (a uuid, or named ``id``/``…Id``)."""
    for param in doc.parameters(op, "path"):
        if str(param.get("name")) == name and doc.parameter_schema(param).get("format") == "uuid":
            return True
    return name.lower().endswith("id")


def match(doc: Description, method: str, path: str) -> Operation | None:
    """The operation a concrete request reaches, as the server routes it.

    Where several templates fit (``/Users/{id}`` and ``/Users/userName={userName}``), the one
    with more literal text wins; where they tie (``/api/Asset/{assetId}`` and
    ``/api/Asset/{serialNumber}``), the one whose parameters take what was sent: a uuid goes to
    an id parameter, other text to the other.
    """
    best: tuple[int, int] | None = None
    found: Operation | None = None
    for op in doc.operations:
        if op.method != method.upper():
            continue
        hit = _pattern(op.path).match(path.split("?", 1)[0])
        if hit is None:
            continue
        names = path_parameters(op.path)
        literal = len(re.sub(r"\{[^}/]*\}", "", op.path))
        fits = sum(
            _is_uuid(value) == _takes_ids(doc, op, name)
            for name, value in zip(names, hit.groups(), strict=True)
        )
        if best is None or (literal, fits) > best:
            best, found = (literal, fits), op
    return found


def _load(folder: Path, name: str) -> Description:
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} not found in {folder} (give --openapi DIR or set PYWATS_OPENAPI_DIR)"
        )
    return Description(json.loads(path.read_text(encoding="utf-8")), name)


def coverage(folder: Path = OPENAPI, calls: Sequence[LibraryCall] | None = None) -> Coverage:
    """What pywats covers of the descriptions in ``folder``.

    Args:
        calls: the library's requests (default: :func:`library_calls`).

    Raises:
        FileNotFoundError: a description is not in ``folder``.
        LookupError: an operation of the library has no sample arguments.
    """
    docs = {PUBLIC: _load(folder, PUBLIC), INTERNAL: _load(folder, INTERNAL)}
    used: dict[tuple[str, str], set[str]] = {}  # (doc name, operation key) -> pywats methods
    found = Coverage()
    for call in library_calls() if calls is None else calls:
        name = INTERNAL if structure(call.path).startswith("/api/internal/") else PUBLIC
        op = match(docs[name], call.method, call.path)
        if op is None:
            found.undescribed.append(call)
        else:
            used.setdefault((name, op.key), set()).add(f"api.{call.operation}")
    for op in docs[PUBLIC].operations:
        methods = tuple(sorted(used.get((PUBLIC, op.key), ())))
        reason = None if methods else LEFT_OUT.get(op.key, LEFT_OUT_TAGS.get(_tag(op), NOT_YET))
        found.public.append(Row(_tag(op), op.operation_id, op.method, op.path, methods, reason))
    for op in docs[INTERNAL].operations:
        methods = tuple(sorted(used.get((INTERNAL, op.key), ())))
        if methods:
            found.internal.append(Row(_tag(op), op.operation_id, op.method, op.path, methods, None))
    found.public.sort(key=_sort_key)
    found.internal.sort(key=_sort_key)
    return found


def _pywats_cell(row: Row) -> str:
    if row.covered:
        return ", ".join(f"`{m}`" for m in row.methods)
    return f"— {row.reason}"


def _table(rows: Sequence[Row], *, with_tag: bool = False) -> list[str]:
    columns = ["operation", "request", "pywats"]
    if with_tag:
        columns.insert(0, "tag")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row.operation_id, f"`{row.key}`", _pywats_cell(row)]
        if with_tag:
            cells.insert(0, row.tag)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "-"


def render(found: Coverage) -> str:
    """The Markdown page."""
    total = len(found.public)
    lines = [
        "# API coverage",
        "",
        "Which operations of the WATS server's REST API pywats calls, by tag of the server's",
        "own API description (its public file; the internal operations pywats calls are listed",
        "at the end): each operation with the pywats methods that send it, or why it is left out.",
        "",
        "Generated from the library (every operation of every domain, built with sample",
        "arguments; a method that sends several requests counts for its first): do not edit this",
        "page, run `python -m tests.testing.api_coverage --write`.",
        "`tests/testing/test_api_coverage.py` fails when the page is not what that writes, when",
        "pywats sends a request the description does not have, and when fewer operations are",
        "covered than it records.",
        "",
        "## Totals",
        "",
        "| tag | operations | covered | left out | covered share |",
        "|---|---|---|---|---|",
    ]
    for tag in found.tags():
        rows = [row for row in found.public if row.tag == tag]
        covered = sum(row.covered for row in rows)
        lines.append(
            f"| [{tag}](#{tag.lower()}) | {len(rows)} | {covered} | {len(rows) - covered} "
            f"| {_share(covered, len(rows))} |"
        )
    lines.append(
        f"| **all** | **{total}** | **{found.covered}** | **{total - found.covered}** "
        f"| **{_share(found.covered, total)}** |"
    )
    for tag in found.tags():
        lines += ["", f"## {tag}", ""]
        lines += _table([row for row in found.public if row.tag == tag])
    lines += [
        "",
        "## Internal operations",
        "",
        "Operations under `/api/internal` that pywats calls (the internal description; the server",
        "may change them without notice).",
        "",
    ]
    lines += _table(found.internal, with_tag=True) if found.internal else ["None."]
    if found.undescribed:
        lines += ["", "## Requests the description does not have", ""]
        lines += [f"* `api.{c.operation}`: `{c.method} {c.path}`" for c in found.undescribed]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print, write or check the page; 0 when done (or current), 1 when stale, 2 on errors."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.testing.api_coverage", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--openapi",
        type=Path,
        default=OPENAPI,
        metavar="DIR",
        help="folder of the OpenAPI descriptions (default: $PYWATS_OPENAPI_DIR or "
        "../shared/reference/openapi)",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {PAGE.name}")
    action.add_argument("--check", action="store_true", help=f"exit 1 if {PAGE.name} is stale")
    args = parser.parse_args(argv)
    try:
        page = render(coverage(args.openapi))
    except (FileNotFoundError, LookupError) as exc:
        print(f"api_coverage: {exc}", file=sys.stderr)
        return 2
    if args.write:
        PAGE.write_text(page, encoding="utf-8")
        return 0
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.is_file() else ""
        if current != page:
            print(f"{PAGE.name} is stale: run python -m tests.testing.api_coverage --write")
            return 1
        return 0
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
