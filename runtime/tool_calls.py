"""A tool call, resolved against the active task: a chart event and its cleaned arguments.

Rules of this file: nothing changes here. A call is either refused with a
:class:`Rejected` that tells the model what to do instead, or turned into
the chart event its tool sends and the keyword arguments the table's guards
and actions take (field values cleaned by their validators first, the
regression tool's task ids checked against the tasks visited).

Theory of operation: :func:`resolve_tool` finds the tool in the active
task's spec, checks that its event is enabled in the configuration, that
the arguments are the tool's and present, and cleans each value; a
confirmation by repetition carries the repeated values, a decline its
reason. :func:`resolve_regress` does the same for ``out_of_scope``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from taskchart.statecharts import FieldError, TaskSpec
from taskchart.statecharts.chart import ConfigView
from taskchart.statecharts.fields import shown
from taskchart.statecharts.model import TaskFailure
from taskchart.statecharts.table import REGRESS
from taskchart.statecharts.task import CONFIRM, DECLINE, FAIL, UPDATE

from .events import ToolCalled
from .outcome import Rejected

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["free_text", "resolve_regress", "resolve_tool", "unknown_tool"]


def resolve_tool(
    flow: Interpreter, event: ToolCalled, view: ConfigView
) -> tuple[str | None, dict[str, Any]] | Rejected:
    task = view.task
    assert task is not None
    spec = flow.chart.task_map[task]
    args = event.arguments
    if args is None:
        args = {}
    if type(args) is not dict and not isinstance(args, Mapping):  # the ABC check is slow
        return Rejected(
            "invalid_argument", f"{event.name}: arguments must be a JSON object", event.name
        )
    if event.name == flow.regress_tool:
        return resolve_regress(flow, event.name, task, args)
    tool = spec.tool(event.name)
    if tool is None:
        return unknown_tool(flow, event.name)
    if tool.event is None:
        return None, {}
    if tool.event not in view.event_set:
        return Rejected("not_enabled", _not_enabled(flow, spec, tool.event, event.name), event.name)
    known = tool.arguments
    for arg in args:  # a loop: no sets to build when every argument is known
        if arg not in known:
            extra = _listed(set(args) - set(known))
            return Rejected(
                "invalid_argument",
                f"{event.name} got unexpected argument(s) {extra}; "
                f"it takes {sorted(known) or 'no arguments'}",
                event.name,
            )
    if tool.required:
        missing = [a for a in tool.required if args.get(a) in (None, "")]
        if missing:
            return Rejected(
                "invalid_argument", f"{event.name} needs {', '.join(missing)}", event.name
            )
    if tool.event in (UPDATE, CONFIRM) and tool.arguments:
        fields = spec.field_map
        values: dict[str, Any] = {}
        errors: list[str] = []
        for arg, value in args.items():
            if value is None:
                continue
            fname = tool.arguments[arg]
            try:
                values[fname] = fields[fname].clean(value)
            except FieldError as exc:
                errors.append(str(exc))
        if errors:
            return Rejected("invalid_argument", "; ".join(errors), event.name)
        if not values:
            return Rejected(
                "invalid_argument",
                f"{event.name} needs at least one of {', '.join(tool.arguments)}",
                event.name,
            )
        if tool.event == CONFIRM:
            if event.heard is True:  # the adapter saw it read back and answered
                return CONFIRM, {"repeated": values, "heard": True}
            return CONFIRM, {"repeated": values}
        if spec.validate is not None:
            have = flow.model.values[task]
            try:
                checked = spec.validate({**have, **values})
            except (ValueError, TypeError, ArithmeticError) as exc:
                return Rejected("invalid_argument", str(exc), event.name)
            values = {k: v for k, v in checked.items() if k in values or have.get(k, v) != v}
        return UPDATE, {"values": values}
    if tool.event in (DECLINE, FAIL):
        reason = free_text(args.get("reason"))
        if tool.event == DECLINE:
            return DECLINE, {"reason": reason}
        failure = tool.failure or TaskFailure
        return FAIL, {"error": failure(task, reason or f"{event.name} was called")}
    return tool.event, {}


def resolve_regress(
    flow: Interpreter, name: str, task: str, args: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | Rejected:
    extra = set(args) - {"task_ids"}
    if extra:
        return Rejected(
            "invalid_argument",
            f"{name} got unexpected argument(s) {_listed(extra)}; it takes ['task_ids']",
            name,
        )
    targets = flow.regression_targets()
    if not targets:
        return Rejected("not_enabled", "There is no earlier task to go back to yet.", name)
    ids = args.get("task_ids")
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return Rejected(
            "invalid_argument",
            f"{name} needs task_ids: a non-empty list of task ids from {list(targets)}",
            name,
        )
    for tid in ids:
        if tid == task:
            return Rejected(
                "invalid_argument",
                f"{shown(tid)} is the current task; keep collecting it instead of going back.",
                name,
            )
        if tid not in targets:
            known = "unknown task id" if tid not in flow.chart.task_map else "not visited yet"
            return Rejected(
                "invalid_argument",
                f"{shown(tid)}: {known}; tasks you can go back to: {list(targets)}",
                name,
            )
    return REGRESS, {"task_ids": tuple(dict.fromkeys(ids))}


def unknown_tool(flow: Interpreter, name: str) -> Rejected:
    owner = next((t.id for t in flow.chart.tasks if t.tool(name) is not None), None)
    offered = ", ".join(flow.tools) or "none"
    if owner is not None:
        msg = f"{name} belongs to the {owner} task, which is not active. Tools now: {offered}."
        return Rejected("not_enabled", msg, name)
    return Rejected(
        "unknown_tool", f"There is no tool named {shown(name)}. Tools now: {offered}.", name
    )


def _not_enabled(flow: Interpreter, spec: TaskSpec, event: str, tool: str) -> str:
    state = flow.configuration[-1].split("__", 1)[-1]
    offered = ", ".join(flow.tools)
    if event == CONFIRM and state == "collecting":
        return f"There is no {spec.label} to confirm yet: record it first. Tools now: {offered}."
    return f"{tool} is not available while {state} the {spec.label}. Tools now: {offered}."


def free_text(value: Any, limit: int = 500) -> str:
    """A free-text argument as text (a reason, say): cut to ``limit``, never raising."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:limit]
    try:
        return str(value)[:limit]
    except Exception:  # an int past the 4,300-digit limit, a broken __str__
        return shown(value, limit)


def _listed(keys: Iterable[Any]) -> str:
    """Argument names as a list for the model, whatever their type: ``['age', 5]``."""
    return "[" + ", ".join(sorted(shown(k, 60) for k in keys)) + "]"
