"""``api.app`` and ``api.process``: server version, processes, levels, product groups, a user's
common settings."""

from __future__ import annotations

from pywats._call import Call, Flow, json_call
from pywats._calls._predecessor_process import PredecessorProcessNames
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.models.app import CommonUserSettings, Level, Process, ProductGroup

__all__ = ["AppDomain", "ProcessDomain"]


def _processes_call(
    include_test_operations: bool | None = None,
    include_repair_operations: bool | None = None,
    include_wip_operations: bool | None = None,
    include_inactive_processes: bool | None = None,
) -> Call[list[Process]]:
    return json_call(
        "GET",
        "/api/App/Processes",
        list[Process],
        params={
            "includeTestOperations": include_test_operations,
            "includeRepairOperations": include_repair_operations,
            "includeWipOperations": include_wip_operations,
            "includeInactiveProcesses": include_inactive_processes,
        },
        empty=[],
    )


class AppDomain(Domain[ModeT]):
    """Server metadata."""

    @operation
    def get_version(self) -> Call[str]:
        """The server's version, e.g. ``2026.1.5.324`` (the first part is the release year)."""
        return json_call("GET", "/api/App/Version", str)

    @operation
    def get_processes(
        self,
        *,
        include_test_operations: bool | None = None,
        include_repair_operations: bool | None = None,
        include_wip_operations: bool | None = None,
        include_inactive_processes: bool | None = None,
    ) -> Call[list[Process]]:
        """Processes (operation types). With no filter: the active test, repair and WIP ones."""
        return _processes_call(
            include_test_operations,
            include_repair_operations,
            include_wip_operations,
            include_inactive_processes,
        )

    @operation
    def get_levels(self) -> Call[list[Level]]:
        """Levels (client groups of System Manager)."""
        return json_call("GET", "/api/App/Levels", list[Level], empty=[])

    @operation
    def get_product_groups(self, *, include_filters: bool = False) -> Call[list[ProductGroup]]:
        """Product groups, optionally with their part-number filters."""
        return json_call(
            "GET",
            "/api/App/ProductGroups",
            list[ProductGroup],
            params={"includeFilters": include_filters or None},
            empty=[],
        )

    @operation
    def get_common_user_settings(self, user_name: str) -> Call[CommonUserSettings]:
        """A user's common settings: name, culture, e-mail, roles, levels and product groups.

        Raises:
            NotFoundError: WATS has no user of that name.
            ValidationError: ``user_name`` is empty.
        """
        return json_call(
            "GET",
            "/api/App/CommonUserSettings",
            CommonUserSettings,
            params={"UserName": user_name},
        )


class ProcessDomain(PredecessorProcessNames, Domain[ModeT]):
    """Processes (operation types) with conveniences on top of ``GET /api/App/Processes``."""

    @operation
    def get_processes(self, *, include_inactive: bool = False) -> Call[list[Process]]:
        """Every test, repair and WIP operation (active ones unless ``include_inactive``)."""
        return _processes_call(True, True, True, include_inactive or None)

    @operation
    def get_test_operations(self) -> Flow[list[Process]]:
        """The active test operations."""
        found: list[Process] = yield _processes_call(include_test_operations=True)
        return [p for p in found if p.is_test_operation]

    @operation
    def get_repair_operations(self) -> Flow[list[Process]]:
        """The active repair operations."""
        found: list[Process] = yield _processes_call(include_repair_operations=True)
        return [p for p in found if p.is_repair_operation]

    @operation
    def get_process(self, code_or_name: int | str) -> Flow[Process | None]:
        """The process with this code (int) or name (str, case-insensitive), or ``None``."""
        if isinstance(code_or_name, bool) or not isinstance(code_or_name, int | str):
            raise InvalidArgumentError(
                f"code_or_name must be a process code (int) or name (str), not "
                f"{type(code_or_name).__name__}"
            )
        found: list[Process] = yield _processes_call(True, True, True, True)
        for process in found:
            if isinstance(code_or_name, int):
                if process.code == code_or_name:
                    return process
            elif (process.name or "").casefold() == code_or_name.casefold():
                return process
        return None
