"""What a diagram shows, derived from a chart's transition table.

Rules of this file: everything here is computed from :class:`Chart` data
alone (states, transition rows, task specs), so DOT and Mermaid draw the
same thing. No rendering, no I/O.

Theory of operation: a chart is a sequence of task compounds around a
transient ``dispatch`` state. The table's regression row of a task
(``task -> dispatch`` on ``regress``) is drawn as one ``out_of_scope`` edge
to every earlier task, because that is where the model can send the flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from taskchart.statecharts import Chart, StateDef, TaskSpec, TransitionDef
from taskchart.statecharts.table import DISPATCH, REGRESS

__all__ = [
    "REGRESS_TOOL",
    "DrawnEdge",
    "LiveState",
    "Shown",
    "drawn_edges",
    "initial_leaf",
    "short_name",
    "state_tools",
]

#: The tool name the model calls to go back (LiveKit's TaskGroup name).
REGRESS_TOOL = "out_of_scope"


def short_name(state: StateDef) -> str:
    """``email_task__confirming`` -> ``confirming``; history -> ``H*`` (deep history)."""
    if state.kind == "history":
        return "H*"
    if state.task is not None and "__" in state.id:
        return state.id.split("__", 1)[1]
    return state.id


def initial_leaf(chart: Chart, task: str) -> str:
    """The state a task enters first."""
    return next(s.id for s in chart.states if s.task == task and s.initial)


def state_tools(chart: Chart, state: StateDef) -> tuple[str, ...]:
    """Tools offered to the model while ``state`` is the active leaf (regression included)."""
    if state.task is None or state.kind != "atomic":
        return ()
    view = chart.view((state.task, state.id))
    return (*view.tools, REGRESS_TOOL) if view.can_regress else view.tools


@attrs.frozen
class DrawnEdge:
    """One edge of the picture: a table row, or one target of a regression row.

    ``tail``/``head`` are drawn nodes; ``tail_cluster``/``head_cluster`` name
    the task whose box the edge leaves or enters (compound endpoints).
    """

    id: str
    row: int
    tail: str
    head: str
    label: str
    tail_cluster: str | None = None
    head_cluster: str | None = None
    kind: str = "normal"  # normal | internal | regress | done | dispatch | resume


#: Counter guards drawn with their limits: guard -> (handler kind, counter shown).
_LIMITS = {
    "reprompts_left": ("no_input", "reprompts"),
    "no_matches_left": ("no_match", "no_matches"),
}


def _label(r: TransitionDef, chart: Chart | None = None) -> str:
    event = r.event or ""
    if r.event == REGRESS:
        event = REGRESS_TOOL
    spec = chart.task_map.get(r.task) if chart is not None and r.task is not None else None
    guards = " & ".join(_guard(g, spec) for g in r.guards)
    if spec is not None and not r.internal and event in ("timeout", "no_match"):
        handler = spec.handler("no_input" if event == "timeout" else "no_match")
        if handler is not None:  # the handler's giving up, drawn with its limit
            event = f"{event} (gives up after {handler.max_retries})"
    if not guards:
        return event
    return f"{event} [{guards}]".strip()


def _guard(guard: str, spec: TaskSpec | None) -> str:
    """A guard as drawn: a counter with its limit (``reprompts < 2``; a shared budget:
    ``reprompts + no_matches < 2``), else its name."""
    limit = _LIMITS.get(guard)
    handler = spec.handler(limit[0]) if spec is not None and limit is not None else None
    if handler is None or limit is None or spec is None:
        return guard
    counted = "reprompts + no_matches" if spec.shared_retries else limit[1]
    return f"{counted} < {handler.max_retries}"


def drawn_edges(chart: Chart) -> list[DrawnEdge]:
    """Every transition row as edges, in table order (ids ``t<row>`` or ``t<row>_<task>``)."""
    kinds = {s.id: s for s in chart.states}
    order = [t.id for t in chart.tasks]
    final_of = {
        t: next((s.id for s in chart.states if s.task == t and s.id == f"{t}__complete"), None)
        for t in order
    }
    edges: list[DrawnEdge] = []
    for i, r in enumerate(chart.transitions):
        src = kinds[r.source]
        dst = kinds[r.target]
        label = _label(r, chart)
        tail, tail_cluster = r.source, None
        if src.kind == "compound":
            tail_cluster = r.source
            tail = final_of[r.source] or initial_leaf(chart, r.source)
            if r.event == REGRESS:
                tail = initial_leaf(chart, r.source)
                for earlier in order[: order.index(r.source)]:
                    edges.append(
                        DrawnEdge(
                            f"t{i}_{earlier}",
                            i,
                            tail,
                            initial_leaf(chart, earlier),
                            f"{REGRESS_TOOL}({earlier})",
                            tail_cluster,
                            earlier,
                            "regress",
                        )
                    )
                continue
        head, head_cluster = r.target, None
        if dst.kind == "compound":
            head_cluster = r.target
            head = initial_leaf(chart, r.target)
        kind = "normal"
        if r.internal:
            kind = "internal"
        elif r.event is not None and r.event.startswith("done."):
            kind, label = "done", "done"
            if r.guards and r.guards[0].startswith("routed:"):  # a route: its key, or the exit
                key = r.guards[0].partition(":")[2]
                label = f"{key} exit" if key in ("no_input", "no_match") else f"done [{key}]"
        elif r.source == DISPATCH:
            kind = "resume" if dst.kind == "history" else "dispatch"
            if r.target in order:
                label = "next"
            elif dst.kind == "history":
                label = "resume"
        edges.append(DrawnEdge(f"t{i}", i, tail, head, label, tail_cluster, head_cluster, kind))
    return edges


@attrs.frozen
class LiveState:
    """The parts of a runtime snapshot a diagram shows; values are never kept.

    ``fields`` maps task id to the names of the fields collected so far.
    """

    active: frozenset[str]
    fields: Mapping[str, tuple[str, ...]]
    done: frozenset[str]
    failed: frozenset[str]

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> LiveState:
        """Read a ``taskchart.snapshot/1`` dict (see ``taskchart.runtime.snapshots``)."""
        config = data.get("configuration") or []
        values = data.get("values") or {}
        results = data.get("results") or {}
        if not isinstance(config, list) or not isinstance(values, Mapping):
            raise ValueError("not a taskchart snapshot: no configuration/values")
        return cls(
            active=frozenset(str(s) for s in config),
            fields={str(t): tuple(sorted(map(str, v))) for t, v in values.items()},
            done=frozenset(
                str(t) for t, r in results.items() if isinstance(r, Mapping) and "error" not in r
            ),
            failed=frozenset(
                str(t) for t, r in results.items() if isinstance(r, Mapping) and "error" in r
            ),
        )

    @classmethod
    def of(cls, snapshot: Shown) -> LiveState | None:
        """What a diagram highlights: a snapshot dict read, a LiveState as it is, or nothing."""
        return cls.from_snapshot(snapshot) if isinstance(snapshot, Mapping) else snapshot


#: The ``snapshot`` a diagram may highlight: a snapshot dict, a :class:`LiveState` or None.
Shown = Mapping[str, Any] | LiveState | None
