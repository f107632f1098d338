"""The ATML converter: IEEE 1636.1 test results as NI TestStand writes them (2.02, 5.00, 6.01).

One report per UUT: a 2.02 file is one ``<TestResults>``; a 5.00/6.01 file is a
``<TestResultsCollection>`` with one ``<TestResults>`` per UUT (batch and parallel-socket
executions write several), each converted as soon as it is read. Elements are matched by their
local names, whatever the version's namespaces; ``docs/converters/atml.md`` has the whole
mapping, :mod:`._atml_steps`, :mod:`._atml_values` and :mod:`._atml_emit` the steps.

Header: serial number ``UUT/SerialNumber``; part number the UUT's ``IdentificationNumber``
(``type="Part"`` first; else ``arguments.part_number``); revision ``Identification/Version``
or ``Definition@version`` (else ``arguments.revision``, else ``10`` as WATS's own converter);
operator ``SystemOperator@ID`` (else its ``name``, the batch table's operator,
``arguments.operator``); start ``ResultSet@startDateTime`` with its offset, or as local time in
``arguments.timezone``; duration ``endDateTime`` minus ``startDateTime``; result the
``ResultSet``'s outcome; test socket and batch serial number from ``TSResultSetProperties``.
The station is this station (``ctx.station``); the file's ``TestStation`` is kept as misc info.
ATML has no operation: the sequence file's name stands for it in ``arguments.process_map``,
and the default process is 10, WATS's ATML converter's ``operationTypeCode``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats._errors import ReportInvalidError
from pywats.models.report import AdditionalData, AdditionalDataProperty, UUTReport
from pywats.report_builder import ReportBuilder, UUTBuilder
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Validation,
)
from pywats_station.converters.builtin._atml_emit import add_steps
from pywats_station.converters.builtin._atml_sniff import sniff
from pywats_station.converters.builtin._atml_steps import (
    STEP_TAGS,
    StepSpec,
    error_events,
    read_step,
    sequence_parts,
)
from pywats_station.converters.builtin._atml_values import (
    datum,
    outcome,
    parse_number,
    parse_time,
    prop,
)
from pywats_station.converters.builtin._atml_xml import (
    Node,
    check_encoding,
    namespace_version,
    read_documents,
)
from pywats_station.converters.builtin._budget import OutputBudget, current_budget
from pywats_station.converters.builtin._equipment import EquipmentArguments, resolve_process

__all__ = ["DEFAULT_PROCESS", "DEFAULT_REVISION", "AtmlArguments", "AtmlConverter", "read_atml"]

DEFAULT_PROCESS = 10
"""The process when neither the arguments nor the sequence file name say one: WATS's ATML
converter's ``operationTypeCode``."""

DEFAULT_REVISION = "10"
"""The revision when neither the file nor ``arguments.revision`` has one: WATS's ATML
converter's ``partRevision`` (ATML as TestStand writes it carries no revision)."""

_RESULTS = {"P": "P", "F": "F", "E": "E", "T": "T"}
_MISC_TEXT = 255  # WATS's longest misc info text
_PATH_SPLIT = re.compile(r"[\\/]")
_ROOT_TAGS = ("TestResults", "TestResultsCollection")


class AtmlArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``atml`` converter: the equipment arguments, and ``encoding``.

    ``encoding`` is for files whose XML declaration names the wrong encoding (or none, for
    text that is not UTF-8); a correct declaration or a byte-order mark needs nothing.
    """

    encoding: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.encoding is not None:
            check_encoding(self.encoding)


def _arguments(ctx: ConverterContext) -> AtmlArguments:
    return ctx.arguments if isinstance(ctx.arguments, AtmlArguments) else AtmlArguments()


def read_atml(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert an ATML file into one report per ``<TestResults>``, reading it in chunks.

    A generator: each report is made when its ``<TestResults>`` has been read; every step and
    report is counted against the output budget.

    Raises:
        ConversionError: not ATML test results, not well-formed or cut short, or a value that
            cannot be read; the message names the line (and the element).
    """
    args = _arguments(ctx)
    budget = current_budget()
    batch: Node | None = None
    found = False
    version = "?"
    for document in read_documents(path, args.encoding):
        node = document.node
        if document.kind == "root":
            if node.tag not in _ROOT_TAGS:
                namespace = f" (namespace {node.namespace})" if node.namespace else ""
                raise ConversionError(
                    f"line {node.line}: the root element is <{node.tag}>{namespace}: not ATML "
                    "test results (<TestResults> or <TestResultsCollection>)"
                )
            version = namespace_version(node.namespace) or "?"
        elif document.kind == "batch":
            batch = node
        else:
            found = True
            budget.start_report()
            report = _report(node, batch, version, ctx, args, budget)
            budget.add_report(report, node.line)
            yield report
    if not found:
        raise ConversionError("the ATML document holds no <TestResults> (no UUT)")


# --- steps ----------------------------------------------------------------------------------


def _read_steps(node: Node, args: EquipmentArguments) -> list[StepSpec]:
    """The step elements under ``node``, read (children first)."""
    specs = []
    for child in node.children:
        if child.tag in STEP_TAGS:
            specs.append(read_step(child, args, _read_steps(child, args)))
    return specs


def _root(result_set: Node) -> Node:
    """The root sequence: the result set itself (5.00, 6.01), or in 2.02, where the result set
    carries no step properties, the one ``TestGroup`` it holds (``MainSequence``)."""
    steps = [c for c in result_set.children if c.tag in STEP_TAGS]
    has_props = result_set.child("Extension", "TSStepProperties") is not None
    if not has_props and len(steps) == 1 and steps[0].tag == "TestGroup":
        return steps[0]
    return result_set


# --- header ---------------------------------------------------------------------------------


def _text(node: Node | None) -> str | None:
    return (node.text or None) if node is not None else None


def _part_number(definition: Node | None) -> tuple[str | None, list[tuple[str, str]]]:
    """The part number and the other identification numbers (type, number)."""
    numbers = definition.child("Identification", "IdentificationNumbers") if definition else None
    found = [
        ((n.get("type") or "Other"), n.get("number") or "")
        for n in (numbers.children if numbers is not None else [])
        if n.get("number")
    ]
    part = next((number for kind, number in found if kind.casefold() == "part"), None)
    part = part or (found[0][1] if found else None)
    rest = [(kind, number) for kind, number in found if number != part]
    return part, rest


def _datum_value(node: Node | None) -> str | None:
    """A TestStand value written as ``value=`` or as text (``TestSocketIndex``)."""
    if node is None:
        return None
    datum_node = node.child("Datum")
    for candidate in (node, datum_node):
        if candidate is not None and candidate.get("value") is not None:
            return candidate.get("value")
    return node.text or None


def _socket(props: Node | None, where: str) -> int | None:
    raw = _datum_value(props.child("TestSocketIndex")) if props is not None else None
    if raw is None:
        return None
    number = parse_number(raw, f"{where}, <TestSocketIndex>")
    if not math.isfinite(number) or not number.is_integer() or abs(number) >= 2**31:
        raise ConversionError(f"{where}: TestSocketIndex {raw!r} is not a whole number")
    return int(number)


class _Misc:
    """Misc infos to add, each once, texts cut to what WATS stores."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, description: str, text: str | None) -> None:
        if text and (description, text) not in self.items:
            if len(text) > _MISC_TEXT:
                text = text[: _MISC_TEXT - 1] + "…"
            self.items.append((description, text))


def _report(
    results: Node,
    batch: Node | None,
    version: str,
    ctx: ConverterContext,
    args: EquipmentArguments,
    budget: OutputBudget,
) -> UUTReport:
    where = results.where()
    uut = results.child("UUT")
    definition = uut.child("Definition") if uut is not None else None
    sn = _text(uut.child("SerialNumber")) if uut is not None else None
    if not sn:
        raise ConversionError(f"{where}: the UUT has no serial number (<UUT>/<SerialNumber>)")
    pn, other_numbers = _part_number(definition)
    pn = pn or args.part_number
    if not pn:
        raise ConversionError(
            f"{where}: the UUT has no part number (<IdentificationNumber>); set "
            "arguments.part_number"
        )
    rev = None
    if definition is not None:
        rev = _text(definition.child("Identification", "Version")) or definition.get("version")
    result_set = results.child("ResultSet")
    if result_set is None:
        raise ConversionError(f"{where}: no <ResultSet> (the test's results)")
    start_text = result_set.get("startDateTime")
    if start_text is None and batch is not None:
        table = batch.child("TSBatchTable")
        start_text = table.get("startDateTime") if table is not None else None
    if start_text is None:
        raise ConversionError(f"{result_set.where()}: no startDateTime (when the test started)")
    start = parse_time(start_text, result_set.where(), args)
    root = _root(result_set)
    path, sequence = sequence_parts(root.get("name") or result_set.get("name"))
    if sequence is None and root is not result_set:
        path = path or sequence_parts(result_set.get("name"))[0]
    file_name = _PATH_SPLIT.split(path)[-1] if path else None
    process = resolve_process(ctx, args, file_name, DEFAULT_PROCESS)
    builder = ReportBuilder.uut(
        pn=pn,
        sn=sn,
        rev=rev or args.revision or DEFAULT_REVISION,
        process_code=process,
        station=ctx.station.name,
        location=ctx.station.location,
        purpose=ctx.station.purpose,
        operator=_operator(results, batch) or args.operator,
        start=start,
    )
    root_spec = read_step(root, args, _read_steps(root, args))
    status = outcome(result_set.child("Outcome")) or root_spec.status
    exec_time = root_spec.tot_time
    end_text = result_set.get("endDateTime")
    if end_text is not None:
        elapsed = (parse_time(end_text, result_set.where(), args) - start).total_seconds()
        exec_time = elapsed if elapsed >= 0 else exec_time
    _header(builder, results, result_set, root_spec, batch, exec_time)
    _uut_fields(builder, definition)
    name = file_name or sequence or root_spec.name
    builder.sequence_info(path=path, name=name, version=root_spec.seq_version or "0.0.0")
    if status is not None:
        builder.root.set_status(status)
        if status in _RESULTS:
            builder.result(_RESULTS[status])
    _root_step(builder, root_spec)
    misc = _Misc()
    misc.add("ATML version", version)
    misc.add("TestResults uuid", results.get("uuid"))
    misc.add("Test station", _text(results.child("TestStation", "SerialNumber")))
    program = _text(results.child("TestProgram", "SerialNumber"))
    if program != _text(results.child("TestStation", "SerialNumber")):
        misc.add("Test program", program)
    model = _text(definition.child("Identification", "ModelName")) if definition else None
    if model and model.casefold() != "unknown":  # TestStand's placeholder for "not set"
        misc.add("Model name", model)
    for kind, number in other_numbers:
        misc.add(f"Identification number ({kind})"[:50], number)
    _batch_misc(misc, batch)
    for description, text in misc.items:
        builder.misc_info(description, text)
    add_steps(builder.root, root_spec.children or [], status, budget)
    try:
        report = builder.build()
    except ReportInvalidError as exc:
        raise ConversionError(f"{where} (SN {sn}): the report is not valid: {exc}") from None
    extra = _additional_data(results, definition)
    if extra:
        report = msgspec.structs.replace(report, additional_data=extra)
    return report


def _root_step(builder: UUTBuilder, spec: StepSpec) -> None:
    """What the file says of the root sequence call itself: times, group, texts, data."""
    step = builder.root.step
    step.group = spec.group
    step.start = spec.start
    step.tot_time = spec.tot_time
    step.ts_guid = spec.ts_guid
    step.report_text = spec.report_text
    step.error_code = spec.error_code
    step.error_message = spec.error_message
    if spec.additional:
        step.additional_results = list(spec.additional)


def _operator(results: Node, batch: Node | None) -> str | None:
    operator = results.child("Personnel", "SystemOperator")
    if operator is not None and (operator.get("ID") or operator.get("name")):
        return operator.get("ID") or operator.get("name")
    table = batch.child("TSBatchTable") if batch is not None else None
    return table.get("operator") if table is not None else None


def _header(
    builder: UUTBuilder,
    results: Node,
    result_set: Node,
    root_spec: StepSpec,
    batch: Node | None,
    exec_time: float | None,
) -> None:
    where = results.where()
    props = results.child("Extension", "TSResultSetProperties")
    code, message = error_events(result_set.child("Events"), result_set.where())
    batch_sn = _datum_value(props.child("BatchSerialNumber")) if props is not None else None
    if not batch_sn and batch is not None:
        table = batch.child("TSBatchTable")
        batch_sn = table.get("batchSerialNumber") if table is not None else None
    builder.details(
        exec_time=exec_time,
        batch_sn=batch_sn or None,
        test_socket_index=_socket(props, where),
        error_code=root_spec.error_code if root_spec.error_code is not None else code,
        error_message=root_spec.error_message or message,
    )


# The WATS TestStand add-on's names of UUT fields ATML has no element for, as TestStand may
# write them in the UUT's additional data (any case).
_FIXTURE_ITEMS = frozenset({"uut_fixture_id", "fixtureid", "fixture_id", "fixture"})
_COMMENT_ITEMS = frozenset({"comment", "uut_comment"})


def _uut_fields(builder: UUTBuilder, definition: Node | None) -> None:
    """Fixture and comment from the UUT's additional data, when it names them."""
    extension = definition.child("Extension") if definition is not None else None
    if extension is None:
        return
    fixture = comment = None
    for node in extension.walk():
        name = (node.get("name") or "").casefold() if node.tag == "Item" else ""
        if name in _FIXTURE_ITEMS or name in _COMMENT_ITEMS:
            value = datum(node, node.where()).text
            if value and name in _FIXTURE_ITEMS:
                fixture = fixture or value
            elif value:
                comment = comment or value
    builder.details(fixture_id=fixture, comment=comment)


def _batch_misc(misc: _Misc, batch: Node | None) -> None:
    table = batch.child("TSBatchTable") if batch is not None else None
    if table is not None:
        misc.add("Batch station", table.get("stationID"))


def _value_node(item: Node) -> Node | None:
    return next(
        (c for c in item.children if c.tag in ("Datum", "Collection", "IndexedArray")), None
    )


def _additional_data(results: Node, definition: Node | None) -> list[AdditionalData]:
    """The UUT's TestStand collections (``AdditionalData``…) and the critical failure stack."""
    extra = []
    extension = definition.child("Extension") if definition is not None else None
    if extension is not None:
        # TestStand wraps the UUT's data in a TSCollection (or a Collection) of named items.
        props = [
            prop(item.get("name") or f"[{number}]", _value_node(item))
            for holder in extension.children
            for number, item in enumerate(holder.all("Item"))
        ]
        if props:
            extra.append(AdditionalData(name="UUT", props=props))
    stack = results.child("Extension", "TSResultSetProperties", "CriticalFailureStack")
    if stack is not None and stack.children:
        entries = [
            AdditionalDataProperty(
                name=f"[{number}]",
                type="Obj",
                props=[
                    AdditionalDataProperty(name=key, type="String", value=value)
                    for key, value in entry.attrs.items()
                ],
            )
            for number, entry in enumerate(stack.children)
        ]
        extra.append(AdditionalData(name="CriticalFailureStack", props=entries))
    return extra


# --- the converter --------------------------------------------------------------------------


class AtmlConverter(FileConverter):
    """ATML test results (IEEE 1636.1, as NI TestStand writes them): one report per UUT."""

    name: ClassVar[str] = "atml"
    description: ClassVar[str] = "ATML test results (IEEE 1636.1) from NI TestStand"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml",)
    Arguments: ClassVar[type[msgspec.Struct]] = AtmlArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """Rate the file by its first bytes (see :func:`._atml_sniff.sniff`)."""
        return sniff(path, _arguments(ctx).encoding)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per ``<TestResults>`` of the file."""
        return Converted(reports=list(read_atml(path, ctx)))
