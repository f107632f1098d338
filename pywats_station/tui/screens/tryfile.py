"""Try a file: convert one file on the station as a dry run and show the reports it would make.

``converters.convert_file`` queues nothing and moves nothing, so this is safe on a production
station. Each report the station returns is shown as a :class:`~textual.widgets.Tree`: the
header, then the WSJF step tree with each step's status and its measurements (value, unit,
limits). A station whose daemon does not send the report body (``include_report`` is newer than
some daemons) gives the summary only.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from pywats_station.control import ErrorCode
from pywats_station.tui.model import unit_text
from pywats_station.tui.screens.ask import Answer, ask
from pywats_station.tui.widgets import state_text

if TYPE_CHECKING:
    from pywats_station.tui.link import Link

__all__ = [
    "MAX_TREE_NODES",
    "LocalPathSuggester",
    "TryFileScreen",
    "complete_path",
    "fill_report_tree",
    "limits_text",
    "summary_text",
]

MAX_TREE_NODES = 5000
"""Tree nodes built per result at most: a report of 100,000 steps must not freeze the UI."""
MAX_WARNINGS = 6
"""Warnings listed in the summary; the rest are counted."""

STATUS_WORD = {
    "P": "Passed",
    "F": "Failed",
    "S": "Skipped",
    "E": "Error",
    "T": "Terminated",
    "D": "Done",
    "U": "Unknown",
}
"""WSJF status letters (steps, measurements, the report's result) as words."""

_LIMITS = {
    # The same reading of compOp as ``pywats-station convert`` prints (converters.tryit).
    "EQ": "x == {lo}",
    "NE": "x != {lo}",
    "GT": "x > {lo}",
    "GE": "x >= {lo}",
    "LT": "x < {lo}",
    "LE": "x <= {lo}",
    "GTLT": "{lo} < x < {hi}",
    "GTLE": "{lo} < x <= {hi}",
    "GELT": "{lo} <= x < {hi}",
    "GELE": "{lo} <= x <= {hi}",
    "LTGT": "x < {lo} or x > {hi}",
    "LTGE": "x < {lo} or x >= {hi}",
    "LEGT": "x <= {lo} or x > {hi}",
    "LEGE": "x <= {lo} or x >= {hi}",
}


# --- path completion -------------------------------------------------------------------------


def complete_path(value: str) -> str | None:
    """``value`` completed with the first entry of its folder that starts like its last part.

    Folders end in ``/`` so that typing goes on into them. Hidden entries are offered only once
    a ``.`` is typed. None when nothing matches or the folder cannot be read.
    """
    cut = max(value.rfind("/"), value.rfind(os.sep)) + 1
    head, prefix = value[:cut], value[cut:]
    best: str | None = None
    try:
        with os.scandir(head or ".") as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(prefix) or (name.startswith(".") and not prefix):
                    continue
                try:
                    folder = entry.is_dir()
                except OSError:
                    folder = False
                candidate = name + "/" if folder else name
                if best is None or candidate < best:
                    best = candidate
    except OSError:
        return None
    if best is None or best == prefix:
        return None
    return head + best


class LocalPathSuggester(Suggester):
    """Completes the path typed from the folder it names, **on the machine the UI runs on**.

    The file to try is on the station, and the control channel cannot list the station's
    folders. The UI normally runs on the station itself (in a terminal there, or over SSH),
    where this machine's folders are the station's, so completing from the local filesystem
    is right in the normal case. Run from another machine, completions come from the wrong
    disk (or none come); the station still answers for exactly the path typed.
    """

    def __init__(self) -> None:
        # Paths are case sensitive, and a folder's entries change while the UI runs.
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        # A folder on a slow network mount must not stall the UI.
        return await asyncio.to_thread(complete_path, value)


# --- what the result looks like --------------------------------------------------------------


def status_text(status: object) -> Text:
    """A WSJF status letter as its word, in its colour (``P`` → green ``Passed``)."""
    code = "" if status is None else str(status)
    return state_text(STATUS_WORD.get(code, code))


def _num(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?" if value is None else str(value)
    return f"{value:.10g}"


def limits_text(comp_op: object, low: object, high: object) -> str:
    """The limits of a numeric measurement: ``92.9 <= x <= 105.1``; ``log`` for none."""
    template = _LIMITS.get(str(comp_op or "LOG").upper())
    if template is None:
        return "log"
    return template.format(lo=_num(low), hi=_num(high))


def _numeric(meas: dict[str, Any]) -> Text:
    # WSJF writes value; numericValue is read too, for exports that name it so.
    value = meas.get("value", meas.get("numericValue"))
    text = Text(_num(value))
    if meas.get("unit"):
        text.append(f" {meas['unit']}")
    text.append(
        f"  ({limits_text(meas.get('compOp'), meas.get('lowLimit'), meas.get('highLimit'))})"
    )
    return text


def _string(meas: dict[str, Any]) -> Text:
    text = Text(repr(meas.get("value")))
    if meas.get("limit") is not None:
        text.append(f"  (== {meas['limit']!r}, {meas.get('compOp') or 'compare'})")
    else:
        text.append("  (log)")
    return text


def _measurements(step: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for kind in ("numericMeas", "stringMeas", "booleanMeas"):
        found += [(kind, m) for m in step.get(kind) or [] if isinstance(m, dict)]
    # Not in the WSJF models, but some exports write a pass/fail outcome as passFail.
    if isinstance(step.get("passFail"), dict):
        found.append(("booleanMeas", step["passFail"]))
    return found


def _meas_detail(kind: str, meas: dict[str, Any]) -> Text:
    if kind == "numericMeas":
        return _numeric(meas)
    if kind == "stringMeas":
        return _string(meas)
    return Text()


def step_label(step: dict[str, Any]) -> Text:
    """One step in a line: status, name, and its measurement when it has one without a name."""
    text = Text()
    text.append_text(status_text(step.get("status")))
    text.append(f"  {step.get('name') or '(no name)'}")
    measurements = _measurements(step)
    if len(measurements) == 1 and not measurements[0][1].get("name"):
        kind, meas = measurements[0]
        detail = _meas_detail(kind, meas)
        if detail:
            text.append("  ")
            text.append_text(detail)
    loop = step.get("loop")
    if isinstance(loop, dict):
        if loop.get("idx") is None:
            text.append(f"  (loop: {loop.get('num')} iterations, {loop.get('failed') or 0} failed)")
        else:
            text.append(f"  (iteration {loop['idx']})")
    return text


def _header_lines(report: dict[str, Any]) -> Iterator[Text]:
    process = report.get("processCode")
    if report.get("processName"):
        process = f"{process} {report['processName']}"
    fields = (
        ("part", report.get("pn")),
        ("serial", report.get("sn")),
        ("revision", report.get("rev")),
        ("process", process),
        ("result", None),
        ("start", report.get("start")),
        ("station", report.get("machineName")),
    )
    for name, value in fields:
        line = Text(f"{name:<9}", style="bold")
        if name == "result":
            line.append_text(status_text(report.get("result")))
        else:
            line.append("" if value is None else str(value))
        yield line


def _header_title(report: dict[str, Any]) -> Text:
    text = Text("header", style="bold")
    start, station = report.get("start") or "?", report.get("machineName") or "?"
    text.append(f"  start {start} · station {station}", style="dim")
    return text


class _Budget:
    """How many more tree nodes may be built for this result."""

    def __init__(self, nodes: int) -> None:
        self.left = nodes
        self.skipped = 0

    def take(self) -> bool:
        if self.left <= 0:
            self.skipped += 1
            return False
        self.left -= 1
        return True


def _add_step(parent: TreeNode[None], step: dict[str, Any], budget: _Budget) -> None:
    if not budget.take():
        return
    children = [s for s in step.get("steps") or [] if isinstance(s, dict)]
    measurements = _measurements(step)
    named = not (len(measurements) == 1 and not measurements[0][1].get("name"))
    extra = [
        line
        for line in (
            step.get("errorMessage") and Text(f"error: {step['errorMessage']}", style="magenta"),
            step.get("reportText") and Text(str(step["reportText"]), style="dim"),
        )
        if line
    ]
    if not children and not extra and not (named and measurements):
        parent.add_leaf(step_label(step))
        return
    node = parent.add(step_label(step), expand=True)
    for line in extra:
        if budget.take():
            node.add_leaf(line)
    if named:
        for kind, meas in measurements:
            if not budget.take():
                continue
            label = Text("- ")
            label.append_text(status_text(meas.get("status")))
            label.append(f"  {meas.get('name') or '(no name)'}")
            detail = _meas_detail(kind, meas)
            if detail:
                label.append("  ")
                label.append_text(detail)
            node.add_leaf(label)
    for child in children:
        _add_step(node, child, budget)


def _add_repair(node: TreeNode[None], report: dict[str, Any], budget: _Budget) -> None:
    """A repair report (UUR) has no steps: its units and their failures."""
    for unit in report.get("subUnits") or []:
        if not isinstance(unit, dict) or not budget.take():
            continue
        label = f"unit {unit.get('idx', '?')}: {unit.get('partType') or ''} {unit.get('pn')} "
        label += f"sn {unit.get('sn')} rev {unit.get('rev')}"
        sub = node.add(label.replace("  ", " "), expand=True)
        for failure in unit.get("failures") or []:
            if isinstance(failure, dict) and budget.take():
                ref = f" {failure['comRef']}" if failure.get("comRef") else ""
                sub.add_leaf(f"failure {failure.get('category')} / {failure.get('code')}{ref}")


def fill_report_tree(
    tree: Tree[None], result: dict[str, Any], max_nodes: int = MAX_TREE_NODES
) -> None:
    """Show every report of a ``converters.convert_file`` result in ``tree`` (built once)."""
    tree.clear()
    reports = [r for r in result.get("reports") or [] if isinstance(r, dict)]
    budget = _Budget(max_nodes)
    for number, converted in enumerate(reports, 1):
        header = converted.get("header") if isinstance(converted.get("header"), dict) else None
        title = Text(f"report {number} of {len(reports)}", style="bold")
        if unit_text(header):
            title.append(f"  {unit_text(header)}")
        title.append(f"  ({converted.get('steps', 0)} steps)", style="dim")
        node = tree.root.add(title, expand=True)
        problems = [str(p) for p in converted.get("problems") or []]
        if problems or converted.get("valid") is False:
            bad = node.add(
                Text(f"{len(problems)} validation problem(s): it would be refused", style="red"),
                expand=True,
            )
            for problem in problems:
                bad.add_leaf(problem)
        report = converted.get("report")
        if not isinstance(report, dict):
            node.add_leaf(
                Text(
                    "the station sent no report body (its daemon is older): summary only",
                    style="dim",
                )
            )
            continue
        # Collapsed: the title names the unit already, and this line says when and where.
        head = node.add(_header_title(report))
        for line in _header_lines(report):
            head.add_leaf(line)
        if isinstance(report.get("root"), dict):
            _add_step(node, report["root"], budget)
        else:
            _add_repair(node, report, budget)
    if budget.skipped:
        tree.root.add_leaf(
            Text(f"… {budget.skipped} more lines not shown (first {max_nodes})", style="yellow")
        )


def summary_text(result: dict[str, Any]) -> Text:
    """ok or not, the converter, how long it took, the warnings; the station's error text."""
    text = Text()
    if result.get("ok"):
        text.append("converted", style="bold green")
    else:
        text.append("not converted", style="bold red")
    text.append(f" by {result.get('converter', '?')}")
    duration = result.get("duration")
    if isinstance(duration, int | float):
        text.append(f" in {duration:.2f} s")
    confidence = result.get("confidence")
    if isinstance(confidence, int | float):
        text.append(f" · confidence {confidence:.2f}")
    reports = result.get("reports") or []
    if result.get("ok"):
        text.append(f" · {len(reports)} report{'s' if len(reports) != 1 else ''}")
        invalid = sum(1 for r in reports if isinstance(r, dict) and r.get("valid") is False)
        if invalid:
            text.append(f" · {invalid} invalid", style="red")
    if result.get("error"):
        text.append(f"\n{result['error']}", style="red")
    warnings = [str(w) for w in result.get("warnings") or []]
    for warning in warnings[:MAX_WARNINGS]:
        text.append(f"\nwarning: {warning}", style="yellow")
    if len(warnings) > MAX_WARNINGS:
        text.append(f"\n… and {len(warnings) - MAX_WARNINGS} more warnings", style="yellow")
    return text


def _unknown_param(answer: Answer, name: str) -> bool:
    """The station refused ``name`` as an unknown parameter (a daemon older than it)."""
    field = answer.data.get("field") if isinstance(answer.data, dict) else None
    return answer.code == ErrorCode.INVALID_PARAMS and (
        field == name or name in (answer.error or "")
    )


# --- the screen ------------------------------------------------------------------------------


class TryFileScreen(ModalScreen[None]):
    """A path, Enter, and what the converter would make of the file.

    Args:
        link: The station's link (a refusal is shown here, where the user looks).
        station: The station's label, for the title.
        converter: The converter to use.
        folder: Where to start the path (the converter's watch folder).
    """

    DEFAULT_CSS = """
    TryFileScreen {
        align: center middle;
    }
    #try-box {
        width: 100%;
        height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    #try-title {
        height: 1;
    }
    #try-path-row {
        height: 1;
        margin: 1 0;
    }
    #try-path-label {
        width: auto;
    }
    #try-path {
        border: none;
        height: 1;
        padding: 0 1;
        width: 1fr;
    }
    #try-path:focus {
        border: none;
    }
    #try-summary {
        height: auto;
        max-height: 8;
    }
    #try-tree {
        height: 1fr;
        border: round $primary;
    }
    #try-tree:focus {
        border: round $accent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="try.close"),
        Binding("f5", "convert", "Convert (or Enter)", id="try.convert"),
        Binding("f6", "switch_focus", "Path / reports", id="try.focus"),
    ]

    def __init__(self, link: Link, station: str, converter: str, folder: str | None) -> None:
        super().__init__()
        self._link = link
        self._station = station
        self._converter = converter
        self._folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="try-box"):
            title = Text(f"Try a file with converter {self._converter}", style="bold")
            title.append(f" on {self._station}: a dry run, nothing is queued", style="dim")
            yield Static(title, id="try-title")
            start = ""
            if self._folder:
                start = self._folder if self._folder.endswith(("/", "\\")) else self._folder + "/"
            with Horizontal(id="try-path-row"):
                yield Static("path ", id="try-path-label")
                yield Input(
                    start,
                    placeholder="a file on the station",
                    suggester=LocalPathSuggester(),
                    # The watch folder is a start to type on, not a value to replace.
                    select_on_focus=False,
                    id="try-path",
                )
            hint = "Enter converts the file · → takes the completion · F6 to the reports"
            yield Static(Text(hint, style="dim"), id="try-summary")
            tree: Tree[None] = Tree("reports", id="try-tree")
            tree.show_root = False
            yield tree
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#try-tree", Tree).border_title = "Reports"
        self.query_one("#try-path", Input).focus()

    @on(Input.Submitted, "#try-path")
    def _submitted(self) -> None:
        self.action_convert()

    def action_convert(self) -> None:
        path = self.query_one("#try-path", Input).value.strip()
        if not path:
            self.notify("type the path of a file on the station", severity="warning")
            return
        self._convert(path)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_switch_focus(self) -> None:
        path = self.query_one("#try-path", Input)
        (self.query_one("#try-tree", Tree) if path.has_focus else path).focus()

    @work(exclusive=True, group="try-convert")
    async def _convert(self, path: str) -> None:
        summary = self.query_one("#try-summary", Static)
        tree: Tree[None] = self.query_one("#try-tree", Tree)
        summary.update(Text(f"converting {path} …", style="dim"))
        tree.clear()
        params: dict[str, Any] = {"path": path, "converter": self._converter}
        answer = await ask(
            self._link, "converters.convert_file", {**params, "include_report": True}
        )
        if _unknown_param(answer, "include_report"):
            # A daemon older than include_report refuses it: ask for the summary only.
            answer = await ask(self._link, "converters.convert_file", params)
        if not answer.ok:
            self._refused(answer.error or "refused")
            return
        if not isinstance(answer.value, dict):
            self._refused(f"unexpected answer: {answer.value!r}"[:200])
            return
        summary.update(summary_text(answer.value))
        fill_report_tree(tree, answer.value)

    def _refused(self, why: str) -> None:
        text = Text("not converted: ", style="bold red")
        text.append(why)
        self.query_one("#try-summary", Static).update(text)
        self.notify(why, title="converters.convert_file", severity="error", timeout=8)
