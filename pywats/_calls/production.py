"""``api.production``:

Units, assemblies, verification, batches and serial numbers (tag Production).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from pywats._call import Call, UnexpectedResponseError, json_call, segment
from pywats._calls._production_args import (
    int_param,
    no_result,
    text_param,
)
from pywats._calls._serial_numbers import SerialNumberOperations
from pywats._domain import ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep
from pywats.models.production import (
    AssemblyCheck,
    ProductionBatch,
    Unit,
    UnitChange,
    UnitPhase,
    UnitVerificationGrade,
)

__all__ = ["ProductionDomain"]

_encoder = msgspec.json.Encoder()
_saved = msgspec.json.Decoder(list[Unit] | dict[str, Any])


def _units_call(units: Sequence[Unit]) -> Call[list[Unit]]:
    if isinstance(units, Unit) or not isinstance(units, Sequence):
        raise InvalidArgumentError("units must be a list of Unit")
    for i, unit in enumerate(units):
        if not isinstance(unit, Unit):
            raise InvalidArgumentError(f"units[{i}] must be a Unit, not {type(unit).__name__}")
        text_param(f"units[{i}].serial_number", unit.serial_number)
        text_param(f"units[{i}].part_number", unit.part_number)
    sent = list(units)

    def parse(response: httpx.Response) -> list[Unit]:
        # The server describes the answer only as an object: the saved units, or a summary
        # with an error count (seen from servers), or nothing.
        data = response.content
        if not data.strip():
            return sent
        url = str(response.request.url)
        if json_too_deep(data, MAX_JSON_NESTING) is not None:
            raise UnexpectedResponseError("answer nests too deep", method="PUT", url=url)
        try:
            answer = _saved.decode(data)
        except msgspec.DecodeError as exc:
            raise UnexpectedResponseError(
                f"answer is neither units nor a summary: {exc}", method="PUT", url=url
            ) from exc
        if isinstance(answer, list):
            return answer
        errors = answer.get("errorCount") or answer.get("ErrorCount")
        if isinstance(errors, int) and errors > 0:
            raise UnexpectedResponseError(
                f"the server refused {errors} of {len(sent)} units: {answer}",
                method="PUT",
                url=url,
            )
        return sent

    return Call(
        method="PUT",
        path="/api/Production/Units",
        parse=parse,
        content=_encoder.encode(sent),
        content_type="application/json",
    )


def _phase(value: object) -> int:
    if isinstance(value, UnitPhase):
        return int(value)
    if isinstance(value, str):
        wanted = value.strip().replace(" ", "_").upper()
        for phase in UnitPhase:
            if wanted in (phase.name, phase.label.replace(" ", "_").upper()):
                return int(phase)
        raise InvalidArgumentError(f"phase {value!r} is not a unit phase name")
    return int_param("phase", value, minimum=1)


class ProductionDomain(SerialNumberOperations[ModeT]):
    """Units, assemblies, verification, batches and serial numbers (tag Production)."""

    # --- units ----------------------------------------------------------------------------

    @operation
    def get_unit(self, serial_number: str, part_number: str) -> Call[Unit]:
        """A unit with its phase, process, product and children (``sub_units``).

        Raises:
            NotFoundError: no such unit.
        """
        sn = segment(text_param("serial_number", serial_number))
        pn = segment(text_param("part_number", part_number))
        return json_call("GET", f"/api/Production/Unit/{sn}/{pn}", Unit)

    @operation
    def create_units(self, units: Sequence[Unit]) -> Call[list[Unit]]:
        """Add units, or update them (a unit is found by serial and part number).

        Returns the units as the server saved them (or as sent, when the server answers with a
        summary only).

        Raises:
            ValidationError: a unit is invalid (the message names it, e.g. ``units[1]``).
        """
        return _units_call(units)

    @operation
    def update_unit(self, unit: Unit) -> Call[list[Unit]]:
        """Update one unit (the same request as :meth:`create_units` with one unit)."""
        if not isinstance(unit, Unit):
            raise InvalidArgumentError(f"unit must be a Unit, not {type(unit).__name__}")
        return _units_call([unit])

    @operation
    def set_unit_phase(
        self, serial_number: str, part_number: str, phase: UnitPhase | int | str
    ) -> Call[None]:
        """Set a unit's phase (a :class:`UnitPhase`, its id, or its name such as ``Finalized``).

        Raises:
            NotFoundError: no such unit.
            ValidationError: not a phase the server knows.
        """
        return no_result(
            "PUT",
            "/api/Production/SetUnitPhase",
            {
                "serialNumber": text_param("serial_number", serial_number),
                "partNumber": text_param("part_number", part_number, empty=True),
                "phase": _phase(phase),
            },
        )

    @operation
    def set_unit_process(
        self, serial_number: str, part_number: str, process_name: str
    ) -> Call[None]:
        """Set the process (operation) a unit is at, by the process's name.

        Raises:
            NotFoundError: no such unit.
            ValidationError: no process has that name.
        """
        return no_result(
            "PUT",
            "/api/Production/SetUnitProcess",
            {
                "serialNumber": text_param("serial_number", serial_number),
                "partNumber": text_param("part_number", part_number, empty=True),
                "processName": text_param("process_name", process_name),
            },
        )

    # --- unit changes ---------------------------------------------------------------------

    @operation
    def get_unit_changes(self, max_count: int = 100) -> Call[list[UnitChange]]:
        """The oldest ``max_count`` unit changes not yet deleted (parent, part, revision, phase).

        Handle each, then delete it with :meth:`delete_unit_change`.
        """
        return json_call(
            "GET",
            "/api/Production/Units/Changes",
            list[UnitChange],
            params={"maxCount": int_param("max_count", max_count, minimum=1)},
            empty=[],
        )

    @operation
    def delete_unit_change(self, change_id: int) -> Call[None]:
        """Delete a handled unit change.

        Raises:
            NotFoundError: no change has that id (already deleted?).
        """
        change = int_param("change_id", change_id)
        return no_result("DELETE", f"/api/Production/Units/Changes/{change}")

    @operation
    def acknowledge_unit_change(self, change_id: int) -> Call[None]:
        """Mark a unit change handled: the same as :meth:`delete_unit_change`."""
        change = int_param("change_id", change_id)
        return no_result("DELETE", f"/api/Production/Units/Changes/{change}")

    # --- assemblies -----------------------------------------------------------------------

    @operation
    def add_child_to_assembly(
        self,
        parent_serial_number: str,
        parent_part_number: str,
        child_serial_number: str,
        child_part_number: str,
        *,
        check_part_number: str | None = None,
        check_revision: str | None = None,
    ) -> Call[None]:
        """Fit a child unit into a parent unit (create their parent/child relation).

        The server checks that the child has no parent yet, that the parent's box build lists
        the child's part (or ``check_part_number``/``check_revision``, when given, instead),
        that the child is finalized, and that no loop is made. Part numbers may be empty when
        serial numbers are unique across products.

        Raises:
            NotFoundError: no such parent or child unit.
            ValidationError: a rule above is broken (the message says which).
        """
        return no_result(
            "POST",
            "/api/Production/AddChildUnit",
            {
                "parentSerialNumber": text_param("parent_serial_number", parent_serial_number),
                "parentPartNumber": text_param(
                    "parent_part_number", parent_part_number, empty=True
                ),
                "childSerialNumber": text_param("child_serial_number", child_serial_number),
                "childPartNumber": text_param("child_part_number", child_part_number, empty=True),
                # Described as required, and blank means "use the box build".
                "checkPartNumber": text_param(
                    "check_part_number", check_part_number or "", empty=True
                ),
                "checkRevision": text_param("check_revision", check_revision or "", empty=True),
            },
        )

    @operation
    def remove_child_from_assembly(
        self,
        parent_serial_number: str,
        parent_part_number: str,
        child_serial_number: str,
        child_part_number: str,
    ) -> Call[None]:
        """Take a child unit out of its parent (the relation must exist).

        Raises:
            NotFoundError: no such unit.
            ValidationError: the child is not in that parent.
        """
        return no_result(
            "POST",
            "/api/Production/RemoveChildUnit",
            {
                "parentSerialNumber": text_param("parent_serial_number", parent_serial_number),
                "parentPartNumber": text_param(
                    "parent_part_number", parent_part_number, empty=True
                ),
                "childSerialNumber": text_param("child_serial_number", child_serial_number),
                "childPartNumber": text_param("child_part_number", child_part_number, empty=True),
            },
        )

    @operation
    def verify_assembly(
        self, parent_serial_number: str, parent_part_number: str
    ) -> Call[AssemblyCheck]:
        """Check a unit's direct children against its box build (parts, quantities, phases).

        Raises:
            NotFoundError: no such unit.
        """
        return json_call(
            "GET",
            "/api/Production/CheckChildUnits",
            AssemblyCheck,
            params={
                "parentSerialNumber": text_param("parent_serial_number", parent_serial_number),
                "parentPartNumber": text_param(
                    "parent_part_number", parent_part_number, empty=True
                ),
            },
        )

    # --- verification ---------------------------------------------------------------------

    @operation
    def get_unit_grade(
        self, serial_number: str, part_number: str | None = None
    ) -> Call[UnitVerificationGrade]:
        """Grade a unit against its verification rule: results per process, and its assembly.

        Raises:
            NotFoundError: the server knows no such unit.
        """
        return json_call(
            "GET",
            "/api/Production/UnitVerification",
            UnitVerificationGrade,
            params={
                "serialNumber": text_param("serial_number", serial_number),
                "partNumber": None
                if part_number is None
                else text_param("part_number", part_number),
            },
        )

    @operation
    def verify_unit(
        self, serial_number: str, part_number: str | None = None
    ) -> Call[UnitVerificationGrade]:
        """The same as :meth:`get_unit_grade` (the name earlier pyWATS versions used)."""
        return json_call(
            "GET",
            "/api/Production/UnitVerification",
            UnitVerificationGrade,
            params={
                "serialNumber": text_param("serial_number", serial_number),
                "partNumber": None
                if part_number is None
                else text_param("part_number", part_number),
            },
        )

    # --- batches --------------------------------------------------------------------------

    @operation
    def save_batches(self, batches: Sequence[ProductionBatch]) -> Call[None]:
        """Add or update production batches (by batch number)."""
        if isinstance(batches, ProductionBatch) or not isinstance(batches, Sequence):
            raise InvalidArgumentError("batches must be a list of ProductionBatch")
        for i, batch in enumerate(batches):
            if not isinstance(batch, ProductionBatch):
                raise InvalidArgumentError(
                    f"batches[{i}] must be a ProductionBatch, not {type(batch).__name__}"
                )
            text_param(f"batches[{i}].batch_number", batch.batch_number)
        call = no_result("PUT", "/api/Production/Batches")
        return Call(
            method=call.method,
            path=call.path,
            parse=call.parse,
            content=_encoder.encode(list(batches)),
            content_type="application/json",
        )
