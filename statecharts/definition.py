"""The python-statemachine class of a table: the reference semantics, built on first use.

Rules of this file: it reads the table and the bound callables and writes
python-statemachine's dict definition; it never reaches into the library's
private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .bindings import GuardFn, Hooks
from .table import ACTIVE, COLLECTING, StateDef, TransitionDef, sid
from .task import TaskSpec

__all__ = ["CLASS_FLAGS", "LENIENT", "definition", "tasks_by_id"]


def definition(
    states: Sequence[StateDef],
    rows: Sequence[TransitionDef],
    tasks: Sequence[TaskSpec],
    row_guards: Sequence[tuple[tuple[str, GuardFn], ...]],
    row_actions: Sequence[tuple[Callable[..., Any], ...]],
    hooks: Hooks,
) -> dict[str, Any]:
    """The python-statemachine dict definition of a table (the library engine's class)."""
    defs: dict[str, dict[str, Any]] = {}
    by_task: dict[str | None, dict[str, Any]] = {}
    resumable = {s.task for s in states if s.kind == "history"}
    for s in states:
        if s.kind == "history":
            continue
        d: dict[str, Any] = {}
        if s.initial:
            d["initial"] = True
        if s.kind == "final":
            d["final"] = True
        for key, fns in hooks.get(s.id, {}).items():
            d[key] = list(fns)
        if s.kind == "compound":
            d["states"] = {}
            first_child = sid(
                s.id, ACTIVE if tasks_by_id(tasks)[s.id].kind == "implicit" else COLLECTING
            )
            if s.id in resumable:
                d["history"] = {
                    sid(s.id, "h"): {"type": "deep", "transitions": [{"target": first_child}]}
                }
            by_task[s.id] = d
        if s.task is not None and s.kind != "compound":
            by_task[s.task]["states"][s.id] = d
        else:
            defs[s.id] = d
        d.setdefault("on", {})
    index = {sid: d for sid, d in walk(defs)}
    for r, guards, acts in zip(rows, row_guards, row_actions, strict=True):
        row: dict[str, Any] = {"target": r.target}
        if guards:
            conds = [fn for _, fn in guards]
            row["cond"] = conds if len(conds) > 1 else conds[0]
        if acts:
            row["on"] = list(acts) if len(acts) > 1 else acts[0]
        if r.internal:  # targetless: run the actions, exit and enter nothing
            row["target"] = None
        src = index[r.source]
        if r.event is None:
            src.setdefault("transitions", []).append(row)
        else:
            src["on"].setdefault(r.event, []).append(row)
    return defs


def tasks_by_id(tasks: Sequence[TaskSpec]) -> dict[str, TaskSpec]:
    return {t.id: t for t in tasks}


def walk(defs: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for state_id, d in defs.items():
        yield state_id, d
        yield from walk(d.get("states", {}))


CLASS_FLAGS = {
    "allow_event_without_transition": False,
    "catch_errors_as_events": False,
    "enable_self_transition_entries": False,
    "atomic_configuration_update": True,
}


LENIENT = {
    "validate_disconnected_states": False,
    "validate_trap_states": False,
    "validate_final_reachability": False,
}
