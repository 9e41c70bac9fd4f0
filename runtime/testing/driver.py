"""A cooperative model and user: drive a flow to its end.

Rules of this file: the driver only sends what a good model sends (offered
tools with valid values, a yes before a confirmation), so a flow it cannot
finish is stuck, not unlucky.

Theory of operation: at each step it confirms when the flow asks, else
calls the offered update tool that sets the most missing required fields
with each field's first valid value, else lets a hand-written task return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from taskchart.statecharts import Field, TaskSpec, Tool
from taskchart.statecharts.task import CONFIRM, UPDATE

from ..events import Event, TaskReturned, ToolCalled, UserSpoke
from ..interpreter import Interpreter
from ..outcome import Outcome
from .values import (
    _NONE,
    ValueOverrides,
    _confirming,
    _first_example,
    _overrides_for,
    field_values,
    repeated_arguments,
)


def drive_to_end(
    flow: Interpreter,
    *,
    max_steps: int = 50,
    overrides: ValueOverrides | None = None,
    send: Callable[[Event], Outcome] | None = None,
    until: Callable[[Interpreter], bool] | None = None,
) -> bool:
    """Finish the flow as a cooperative model and user would; True when it ended.

    Confirm when asked (after the user says yes), else give every field a
    valid value, else let a hand-written task return. ``send`` replaces
    ``flow.handle`` (to check invariants on the way); ``until`` stops early
    (returning True) once it holds.
    """
    handle = send or flow.handle
    for _ in range(max_steps):
        if flow.done or (until is not None and until(flow)):
            return True
        task = flow.active_task
        assert task is not None
        spec = flow.chart.task_map[task]
        offered = {t.event: t for t in spec.tools if t.name in flow.tools and t.event}
        if spec.kind == "implicit":
            handle(TaskReturned(None))
            continue
        if CONFIRM in offered and _confirming(flow):
            confirm = offered[CONFIRM]
            handle(UserSpoke("yes, that's right", flow.model.modality))
            handle(ToolCalled(confirm.name, repeated_arguments(flow, spec, confirm)))
            continue
        update = _best_update(spec, flow)
        if update is None:
            return False
        own = _overrides_for(spec, overrides)
        args: dict[str, Any] = {}
        for arg, fname in update.arguments.items():
            example = _cooperative_value(spec.field_map[fname], own)
            if example is not _NONE:
                args[arg] = example
        if not args or not handle(ToolCalled(update.name, args)).ok:
            return False
    return flow.done or (until is not None and until(flow))


def _best_update(spec: TaskSpec, flow: Interpreter) -> Tool | None:
    """The offered update tool that sets the most of the still-missing required fields."""
    missing = [f for f in spec.required_fields if f not in flow.model.values.get(spec.id, {})]
    updates = [t for t in spec.tools if t.event == UPDATE and t.name in flow.tools]
    if not updates:
        return None
    return max(updates, key=lambda t: sum(f in missing for f in t.arguments.values()))


_COOPERATIVE: dict[tuple[Field, Any], Any] = {}


def _cooperative_value(field: Field, own: Mapping[str, Any]) -> Any:
    """The value a cooperative user gives ``field`` (the first valid one), once per field."""
    key = (field, own.get(field.name))
    value = _COOPERATIVE.get(key, _NONE)
    if value is _NONE:
        value = _COOPERATIVE[key] = _first_example(field_values(field, own))
    return value


def _values_hint(flow: Interpreter, overrides: ValueOverrides | None) -> str:
    """Which fields no built-in value satisfies, and how to give them values."""
    task = flow.active_task
    lacking: list[str] = []
    if task is not None:
        spec = flow.chart.task_map[task]
        own = _overrides_for(spec, overrides)
        lacking = [
            f"{task}.{name}"
            for name in spec.required_fields
            if _cooperative_value(spec.field_map[name], own) is _NONE
        ]
    if lacking:
        example = lacking[0]
        return (
            f"no built-in value is valid for {', '.join(lacking)}: pass values="
            f"{{{example!r}: st.sampled_from([...])}} (hypothesis strategies of valid values) "
            "to flow_state_machine"
        )
    return (
        "if a field needs values of a format of your own, pass values={'task.field': "
        "strategy} to flow_state_machine"
    )
