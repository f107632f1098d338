"""The OData ``$filter`` builder ``pywats.odata.F``."""

from __future__ import annotations

import re
import typing
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import msgspec
import pytest

import pywats
from pywats._errors import InvalidArgumentError
from pywats.models.report_query import ReportHeader
from pywats.odata import (
    Collection,
    Entity,
    Expr,
    F,
    Field,
    HeaderAssetFields,
    HeaderAttachmentFields,
    HeaderFields,
    HeaderMiscInfoFields,
    HeaderSubUnitFields,
    UURHeaderAttachmentFields,
    UURHeaderSubUnitFields,
    literal,
)
from pywats.testing import FakeWATS

A = F.serial_number == "SN-1"
B = F.part_number == "PN-1"
C = F.process_code == 50


# --- fields and comparisons -------------------------------------------------------------------


def test_attribute_names_are_sent_camel_case() -> None:
    assert str(F.serial_number == "x") == "serialNumber eq 'x'"
    assert str(F.uur_sub_units == "x") == "uurSubUnits eq 'x'"
    assert str(F.result == "x") == "result eq 'x'"
    assert str(F("startUTC") == "x") == "startUTC eq 'x'"
    assert str(F("Serial_Number") == "x") == "Serial_Number eq 'x'"


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (F.process_code == 50, "processCode eq 50"),
        (F.process_code != 50, "processCode ne 50"),
        (F.execution_time > 1.5, "executionTime gt 1.5"),
        (F.execution_time >= 0.25, "executionTime ge 0.25"),
        (F.run < 3, "run lt 3"),
        (F.run <= -3, "run le -3"),
        (F.measures_deleted == True, "measuresDeleted eq true"),  # noqa: E712
        (F.measures_deleted != False, "measuresDeleted ne false"),  # noqa: E712
        (F.comment == None, "comment eq null"),  # noqa: E711
        (F.comment != None, "comment ne null"),  # noqa: E711
        (F.result == "Passed", "result eq 'Passed'"),
        (F.result != "Passed", "result ne 'Passed'"),
        (F.serial_number > "SN-100", "serialNumber gt 'SN-100'"),
    ],
)
def test_comparisons(expr: Expr, text: str) -> None:
    assert isinstance(expr, Expr)
    assert str(expr) == text
    assert repr(expr) == f"Expr({text!r})"


def test_fields_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(F.serial_number)


def test_dunder_attributes_are_not_fields() -> None:
    with pytest.raises(AttributeError):
        F.__wrapped__  # noqa: B018
    assert isinstance(F.anything, Field)


# --- literals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (3.25, "3.25"),
        (1e-7, "1e-07"),
        ("", "''"),
        ("O'Brien", "'O''Brien'"),
        ("''", "''''''"),
        ("a ' b '' c", "'a '' b '''' c'"),
        ("ünïcode & ?", "'ünïcode & ?'"),
        (date(2026, 1, 31), "2026-01-31"),
        (
            uuid.UUID("5F0C6B2E-8D4A-4A53-9A59-2F1D0C1E7B10"),
            "5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10",
        ),
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00Z"),
        (datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC), "2026-01-31T23:59:59Z"),
        (datetime(2026, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=2))), "2026-01-01T00:30:00Z"),
        (
            datetime(2025, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2026-01-01T00:00:00Z",
        ),
    ],
)
def test_literal(value: object, text: str) -> None:
    assert literal(value) == text  # type: ignore[arg-type]


def test_quotes_are_escaped_in_comparisons_and_functions() -> None:
    assert str(F.serial_number == "it's") == "serialNumber eq 'it''s'"
    assert str(F.comment.contains("don't")) == "contains(comment,'don''t')"
    assert str(F.serial_number.in_(["a'b", "c"])) == "serialNumber in ('a''b','c')"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        literal(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        F.start >= datetime(2026, 1, 1)  # noqa: B015


def test_datetime_range_filter() -> None:
    expr = (F.start >= datetime(2026, 1, 1, tzinfo=UTC)) & (
        F.start <= datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)
    )
    assert str(expr) == "start ge 2026-01-01T00:00:00Z and start le 2026-01-31T23:59:59Z"


# --- boolean operators and precedence -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (A & B, "serialNumber eq 'SN-1' and partNumber eq 'PN-1'"),
        (A | B, "serialNumber eq 'SN-1' or partNumber eq 'PN-1'"),
        (A & B & C, "serialNumber eq 'SN-1' and partNumber eq 'PN-1' and processCode eq 50"),
        (A | B | C, "serialNumber eq 'SN-1' or partNumber eq 'PN-1' or processCode eq 50"),
        (A & (B & C), "serialNumber eq 'SN-1' and partNumber eq 'PN-1' and processCode eq 50"),
        # `and` binds tighter than `or`: no parentheses needed...
        (A & B | C, "serialNumber eq 'SN-1' and partNumber eq 'PN-1' or processCode eq 50"),
        (A | B & C, "serialNumber eq 'SN-1' or partNumber eq 'PN-1' and processCode eq 50"),
        # ...but an `or` inside an `and` needs them.
        ((A | B) & C, "(serialNumber eq 'SN-1' or partNumber eq 'PN-1') and processCode eq 50"),
        (A & (B | C), "serialNumber eq 'SN-1' and (partNumber eq 'PN-1' or processCode eq 50)"),
        (
            (A | B) & (B | C),
            "(serialNumber eq 'SN-1' or partNumber eq 'PN-1') and "
            "(partNumber eq 'PN-1' or processCode eq 50)",
        ),
        (~A, "not (serialNumber eq 'SN-1')"),
        (~(A & B), "not (serialNumber eq 'SN-1' and partNumber eq 'PN-1')"),
        (~(A | B), "not (serialNumber eq 'SN-1' or partNumber eq 'PN-1')"),
        (~A & B, "not (serialNumber eq 'SN-1') and partNumber eq 'PN-1'"),
        (
            ~(A | B) & C,
            "not (serialNumber eq 'SN-1' or partNumber eq 'PN-1') and processCode eq 50",
        ),
        (~~A, "not (not (serialNumber eq 'SN-1'))"),
    ],
)
def test_boolean_operators(expr: Expr, text: str) -> None:
    assert str(expr) == text


def test_combining_does_not_change_the_operands() -> None:
    left = A | B
    _ = left & C
    assert str(left) == "serialNumber eq 'SN-1' or partNumber eq 'PN-1'"


def test_bool_of_an_expression_raises() -> None:
    with pytest.raises(TypeError, match="&"):
        bool(A)
    with pytest.raises(TypeError):
        _ = A and B
    with pytest.raises(TypeError):
        _ = A or B
    with pytest.raises(TypeError):
        _ = not A


# --- in, string functions, any ------------------------------------------------------------------


def test_in() -> None:
    assert str(F.process_code.in_([10, 50, 90])) == "processCode in (10,50,90)"
    assert str(F.result.in_(("Failed", "Error"))) == "result in ('Failed','Error')"
    assert str(F.process_code.in_([10])) == "processCode in (10)"
    with pytest.raises(ValueError, match="at least one"):
        F.process_code.in_([])


def test_string_functions() -> None:
    assert str(F.serial_number.contains("42")) == "contains(serialNumber,'42')"
    assert str(F.serial_number.startswith("SN-")) == "startswith(serialNumber,'SN-')"
    assert str(F.part_number.endswith("-A")) == "endswith(partNumber,'-A')"
    assert str(F.serial_number.startswith("SN-") & ~F.serial_number.endswith("X")) == (
        "startswith(serialNumber,'SN-') and not (endswith(serialNumber,'X'))"
    )


def test_any() -> None:
    assert str(F.sub_units.any(lambda s: s.part_number == "PCB-7")) == (
        "subUnits/any(s: s/partNumber eq 'PCB-7')"
    )
    assert (
        str(
            F.uur_sub_units.any(
                lambda u: (u.serial_number == "Y") | (u.part_number == "Z"), var="u"
            )
        )
        == "uurSubUnits/any(u: u/serialNumber eq 'Y' or u/partNumber eq 'Z')"
    )
    assert str(F.misc_info.any(lambda m: (m.description == "FW") & m.value.startswith("1."))) == (
        "miscInfo/any(s: s/description eq 'FW' and startswith(s/value,'1.'))"
    )
    assert str(F.sub_units.any(lambda s: s("PartType") == "PCB")) == (
        "subUnits/any(s: s/PartType eq 'PCB')"
    )


def test_any_combines_as_an_atom() -> None:
    has_pcb = F.sub_units.any(lambda s: (s.part_number == "P") | (s.part_number == "Q"))
    assert str(has_pcb & A) == (
        "subUnits/any(s: s/partNumber eq 'P' or s/partNumber eq 'Q') and serialNumber eq 'SN-1'"
    )
    assert str(A | has_pcb) == (
        "serialNumber eq 'SN-1' or subUnits/any(s: s/partNumber eq 'P' or s/partNumber eq 'Q')"
    )


def test_docstring_examples() -> None:
    assert str((F.part_number == "PN-1") & (F.result != "Passed")) == (
        "partNumber eq 'PN-1' and result ne 'Passed'"
    )
    assert (
        str(F.serial_number.startswith("SN-") | F.sub_units.any(lambda s: s.part_number == "PCB-7"))
        == "startswith(serialNumber,'SN-') or subUnits/any(s: s/partNumber eq 'PCB-7')"
    )


# --- the header's fields: named, listed, checked -------------------------------------------------


ENTITIES: list[type[Entity]] = [
    HeaderFields,
    HeaderSubUnitFields,
    HeaderMiscInfoFields,
    HeaderAssetFields,
    HeaderAttachmentFields,
    UURHeaderSubUnitFields,
    UURHeaderAttachmentFields,
]


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.__name__)
def test_declared_fields_are_the_models_fields(entity: type[Entity]) -> None:
    # Editors and mypy read the annotations; the check reads the model: they must agree.
    hints = {
        name: hint
        for name, hint in typing.get_type_hints(entity).items()
        if typing.get_origin(hint) is not typing.ClassVar
    }
    model = {f.name: f.type for f in msgspec.structs.fields(entity._model)}
    assert hints.keys() == model.keys()
    for name, hint in hints.items():
        if typing.get_origin(hint) is Collection:
            (element,) = typing.get_args(hint)
            assert entity._elements[name] is element
            assert element._model in typing.get_args(typing.get_args(model[name])[0])
        else:
            assert hint is Field, name
            assert name not in entity._elements


def test_f_lists_the_header_fields() -> None:
    names = dir(F)
    for field in msgspec.structs.fields(ReportHeader):
        assert field.name in names
    assert isinstance(F.serial_number, Field)
    assert isinstance(F.sub_units, Collection)
    assert "serial_number" in repr(F)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            F.serial_nubmer == "SN-1",
            "ReportHeader has no field serial_nubmer (did you mean serial_number?)",
        ),
        (
            F.sub_units.any(lambda s: s.part_numbr == "PCB"),
            "HeaderSubUnit has no field part_numbr (did you mean part_number?)",
        ),
        (
            (F.result == "Failed") & ~F.procces_code.in_([10]),
            "no field procces_code (did you mean process_code?)",
        ),
        (F.result.any(lambda r: r.x == 1), "result is not a collection"),
    ],
)
def test_a_report_query_naming_an_unknown_field_fails_before_sending(
    expr: Expr, message: str
) -> None:
    fake = FakeWATS()
    with pywats.pyWATS("http://wats.test", "test-token", transport=fake) as api:
        with pytest.raises(InvalidArgumentError, match=re.escape(message)) as info:
            api.report.query_headers(expr)
        with pytest.raises(InvalidArgumentError):
            api.report.query_all_headers(expr)
    assert not fake.log
    if "not a collection" not in message:
        assert "its fields: " in str(info.value)
        assert isinstance(info.value, ValueError)


def test_names_given_as_written_are_sent_unchecked() -> None:
    fake = FakeWATS()
    with pywats.pyWATS("http://wats.test", "test-token", transport=fake) as api:
        assert api.report.query_headers(F("serialNumber") == "x") == []
        with pytest.raises(pywats.ValidationError, match="unknown property 'serialNubmer'"):
            api.report.query_headers(F("serialNubmer") == "x")  # the server's to judge
    assert len(fake.log) == 2


def test_fields_of_other_entities_still_build() -> None:
    # Other domains' queries (assets, products) build their filters with F too.
    assert str(F.type_id == 3) == "typeId eq 3"
    assert str(F.category.any(lambda c: c.name == "x")) == "category/any(s: s/name eq 'x')"
