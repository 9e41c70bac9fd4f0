"""Static checks of a compiled chart: defects found by reading the table, not by running it.

Rules of this file: the checks read :attr:`Chart.transitions`, :attr:`Chart.states`
and the task specs only; they never run the chart. Each finding is one
:class:`Finding` with a stable ``code`` (for filtering), a ``severity``
(``"error"`` or ``"warning"``) and the state it is about.

Theory of operation: a configuration at rest is one leaf state (a task's
atomic state, a final, or ``dispatch`` in passing), so the checks work on a
graph of leaves. A row whose source is a task compound applies to each of
its children; entering a compound or its history enters its initial child.
A row *can fire* unless :func:`taskchart.statecharts.possible.never_fires`
decides from the specs that it cannot: nothing sends its event (a task tool
for ``update``/``confirm``/``correct``/``decline``, a timer for ``timeout``
with ``no_input_timeout``, a keypad for ``dtmf``, the task's own code for an
implicit task's ``complete``, session close for ``fail``), a guard the spec
fixes to false (``needs_confirmation`` under ``Confirmation.NEVER``,
``reprompts_left`` with ``max_reprompts=0``, ``keypad_retries_left`` with
``max_retries=0``, ``is_stop_key`` without a stop key, a repetition or
``heard_in_conversation`` without a confirm tool that takes the value,
``regression_targets_visited`` in the first task, ``next_resume`` of a task
that never goes back), or an earlier row of the same source and event that
is always taken first (``needs_confirmation`` is true under ``ALWAYS``;
``all_fields_collected`` holds on every update whose tools require every
field). Other guards are unknown at check time. Tables built by
:func:`~taskchart.statecharts.compile_chart` hold no such row; a table
edited by hand may.

Codes:

=====================  =======  ================================================
``unreachable``        error    no row leads to the state
``dead-end``           error    no final state can be reached from the state
                                (only a session close would end it)
``no-escape``          warning  a collect/confirm state the caller cannot decline
                                and silence never ends (no decline tool, no
                                ``no_input_timeout``)
``unknown-state``      error    a row names a state the chart does not have
``unknown-task``       error    a regression/dispatch/dependency names no task
``unknown-guard``      error    a guard name the model cannot evaluate
``unknown-field``      error    a tool argument or required field that the task
                                does not have
``dead-tool``          warning  a tool whose event no state of its task accepts
``eventless-loop``     error    eventless transitions that cycle forever
``unbounded-timeout``  error    a timeout or no-match that re-prompts forever
                                (no ``reprompts_left``/``no_matches_left``
                                guard)
``double-completion``  error    a row that completes/fails a task without
                                entering one of its final states, or does so
                                twice
``never-fires``        error    a row that can never fire: nothing sends its
                                event, a guard never holds, or an earlier row
                                is always taken first
``no-handler``         warning  a keypad step (it waits for the caller's tones)
                                with no no-input and no no-match handling;
                                only keypad steps: a spoken step's silence is
                                often the model's to handle
``unknown-exit``       error    a handler's exit or a route names no task of
                                the flow
=====================  =======  ================================================

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> chart = compile_chart(declarative_task("name", fields=[Field("name")]))
>>> [f.code for f in check_chart(chart)]
[]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from taskchart.statecharts import Chart, Confirmation, TaskSpec, compile_chart
from taskchart.statecharts.bindings import known_guard
from taskchart.statecharts.graph import LeafGraph, feasible, initial_leaf, never, reach
from taskchart.statecharts.table import DISPATCH, FLOW_DONE, FLOW_FAILED, REGRESS, TransitionDef
from taskchart.statecharts.task import (
    DECLINE,
    FAIL,
    NO_MATCH,
    TIMEOUT,
    UPDATE,
)

__all__ = [
    "CODES",
    "Finding",
    "as_chart",
    "check_chart",
    "expected_states",
    "reachable_leaves",
]

CODES = (
    "unreachable",
    "dead-end",
    "no-escape",
    "unknown-state",
    "unknown-task",
    "unknown-guard",
    "unknown-field",
    "dead-tool",
    "eventless-loop",
    "unbounded-timeout",
    "double-completion",
    "never-fires",
    "no-handler",
    "unknown-exit",
)

#: Events whose rows re-prompt in place, and the counter guard that bounds them.
_LOOP_LIMITS = {TIMEOUT: ("reprompts_left", "timeout"), NO_MATCH: ("no_matches_left", "no-match")}

_ENDING_ACTIONS = ("complete_task", "fail_task", "decline_task", "no_input", "no_match")


@attrs.frozen
class Finding:
    """One defect: ``severity`` is ``"error"`` or ``"warning"``."""

    code: str
    severity: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.code}: {self.where}: {self.message}"


# -- loading what to check ----------------------------------------------------------


def as_chart(obj: Any) -> Chart:
    """A :class:`Chart` from a chart, a task spec, a sequence of specs or a zero-arg factory."""
    if isinstance(obj, Chart):
        return obj
    if isinstance(obj, TaskSpec):
        return compile_chart(obj)
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        if obj and all(isinstance(t, TaskSpec) for t in obj):
            return compile_chart(list(obj))
        raise ValueError("a sequence target must hold TaskSpec objects only")
    if callable(obj):
        return as_chart(obj())
    raise ValueError(
        f"cannot make a chart of {type(obj).__name__}: "
        "expected a Chart, a TaskSpec, a list of TaskSpecs or a zero-argument factory"
    )


def reachable_leaves(chart: Chart, *, policy: bool = False) -> set[str]:
    """Leaf states some path of rows reaches from the initial state.

    With ``policy=True`` only rows that can fire under the task specs count
    (an event something can send, no guard the spec makes false).
    """
    graph = LeafGraph(chart)
    keep: Callable[[TransitionDef], bool] = (
        (lambda r: feasible(chart, r)) if policy else (lambda r: True)
    )
    return reach(graph, [initial_leaf(chart)], keep)


def expected_states(chart: Chart) -> set[str]:
    """States a correct chart for these task specs visits in some run.

    Derived from the specs, not the table, so a table that lost the way into
    a state the spec asks for (a confirmation that never happens) shows up
    as an expected state that runs never visit.
    """
    out = {FLOW_DONE, FLOW_FAILED}
    for spec in chart.tasks:
        t = spec.id
        if spec.kind == "implicit":
            out |= {f"{t}__active", f"{t}__complete", f"{t}__failed"}
            continue
        out |= {f"{t}__collecting", f"{t}__complete", f"{t}__failed"}
        if spec.confirmation is not Confirmation.NEVER:
            out.add(f"{t}__confirming")
        if any(tool.event == DECLINE for tool in spec.tools):
            out.add(f"{t}__declined")
    return out & chart.state_ids


# -- the checks ---------------------------------------------------------------------


def check_chart(chart: Chart) -> list[Finding]:
    """Every finding for ``chart``, errors and warnings, in table order."""
    findings: list[Finding] = []
    graph = LeafGraph(chart)
    findings += _check_names(chart, graph)
    structural = reachable_leaves(chart)
    policy = reachable_leaves(chart, policy=True)
    finals = {leaf for leaf in graph.leaves if graph.kinds[leaf] == "final"}
    for leaf in graph.leaves:
        if leaf not in structural:
            findings.append(Finding("unreachable", "error", leaf, "no transition leads here"))
    for leaf in graph.leaves:
        if leaf not in policy or graph.kinds[leaf] != "atomic":
            continue
        # a way out: reach a final without a session close or going back
        ahead = reach(
            graph,
            [leaf],
            lambda r: feasible(chart, r) and r.event not in (FAIL, REGRESS),
        )
        if not ahead & finals:
            findings.append(
                Finding(
                    "dead-end",
                    "error",
                    leaf,
                    "no final state can be reached from here; only a session close ends it",
                )
            )
    findings += _check_escape(chart, graph, policy)
    findings += _check_eventless_loops(chart, graph)
    findings += _check_rows(chart, graph)
    findings += _check_handlers(chart)
    return findings


def _check_handlers(chart: Chart) -> list[Finding]:
    out: list[Finding] = []
    for spec in chart.tasks:
        if spec.keypad is not None and spec.no_input is None and spec.no_match is None:
            out.append(
                Finding(
                    "no-handler",
                    "warning",
                    spec.id,
                    "waits for the caller's keys with no no_input and no no_match handling "
                    "(silence or a wrong key leaves it to the model); declare them with "
                    "no_input=InputHandler(...) / no_match=InputHandler(...) "
                    "(GetDtmfTask: input_timeout=)",
                )
            )
        for key, target in spec.route_table.items():
            if target not in chart.task_map:
                what = "exit" if key in ("no_input", "no_match") else f"route {key!r}"
                out.append(
                    Finding(
                        "unknown-exit", "error", spec.id, f"its {what} names no task {target!r}"
                    )
                )
    return out


def _check_names(chart: Chart, graph: LeafGraph) -> list[Finding]:
    out: list[Finding] = []
    ids = set(chart.task_map)
    for i, row in enumerate(chart.transitions):
        where = f"row {i} ({row.source} -{row.label}-> {row.target})"
        for sid in (row.source, row.target):
            if sid not in graph.kinds:
                out.append(Finding("unknown-state", "error", where, f"no state {sid!r}"))
        if graph.kinds.get(row.target) == "history" and graph.owner.get(row.target) not in ids:
            out.append(
                Finding("unknown-task", "error", where, f"history of unknown task {row.target!r}")
            )
        if row.source == DISPATCH and row.task is not None and row.task not in ids:
            out.append(Finding("unknown-task", "error", where, f"no task {row.task!r}"))
        for guard in row.guards:
            if not known_guard(guard):
                out.append(
                    Finding("unknown-guard", "error", where, f"the model has no guard {guard!r}")
                )
    for spec in chart.tasks:
        for dep in spec.depends_on:
            if dep not in ids:
                out.append(
                    Finding("unknown-task", "error", spec.id, f"depends on unknown task {dep!r}")
                )
        fields = set(spec.field_map)
        events = {r.event for r in chart.transitions if r.task == spec.id}
        for tool in spec.tools:
            if tool.event == UPDATE:
                unknown = sorted(set(tool.arguments.values()) - fields)
                if unknown:
                    out.append(
                        Finding(
                            "unknown-field",
                            "error",
                            f"{spec.id}.{tool.name}",
                            f"sets fields {unknown} the task does not have",
                        )
                    )
            missing = sorted(set(tool.required) - set(tool.arguments))
            if missing:
                out.append(
                    Finding(
                        "unknown-field",
                        "error",
                        f"{spec.id}.{tool.name}",
                        f"requires arguments {missing} it does not take",
                    )
                )
            if tool.event is not None and tool.event not in events:
                out.append(
                    Finding(
                        "dead-tool",
                        "warning",
                        f"{spec.id}.{tool.name}",
                        f"no state of the task accepts its event {tool.event!r}",
                    )
                )
    return out


def _check_escape(chart: Chart, graph: LeafGraph, policy: set[str]) -> list[Finding]:
    out: list[Finding] = []
    for spec in chart.tasks:
        if spec.kind != "declarative":
            continue
        for state in ("collecting", "confirming"):
            leaf = f"{spec.id}__{state}"
            if leaf not in policy:
                continue
            exits = {
                r.event
                for r in graph.rows_from.get(leaf, ())
                if graph.applies(leaf, r) and feasible(chart, r)
            }
            if DECLINE not in exits and TIMEOUT not in exits:
                out.append(
                    Finding(
                        "no-escape",
                        "warning",
                        leaf,
                        "the caller cannot decline and silence never ends it "
                        "(add a decline tool or a no_input_timeout)",
                    )
                )
    return out


def _check_eventless_loops(chart: Chart, graph: LeafGraph) -> list[Finding]:
    edges: dict[str, set[str]] = {}
    for leaf in graph.leaves:
        for row in graph.rows_from.get(leaf, ()):
            automatic = row.event is None or row.event.startswith("done.state.")
            if automatic and graph.applies(leaf, row) and feasible(chart, row):
                nxt = graph.enter(row.target) if not row.internal else leaf
                if nxt is not None:
                    edges.setdefault(leaf, set()).add(nxt)
    out: list[Finding] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    out.append(
                        Finding(
                            "eventless-loop",
                            "error",
                            nxt,
                            "eventless transitions cycle without input: "
                            + " -> ".join([*cycle, nxt]),
                        )
                    )
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for leaf in graph.leaves:
        if leaf not in state:
            visit(leaf, [])
    return out


def _check_rows(chart: Chart, graph: LeafGraph) -> list[Finding]:
    out: list[Finding] = []
    reasons = never(chart)
    for i, row in enumerate(chart.transitions):
        where = f"row {i} ({row.source} -{row.label}-> {row.target})"
        if i in reasons:
            out.append(Finding("never-fires", "error", where, f"never fires: {reasons[i]}"))
        limit = _LOOP_LIMITS.get(row.event or "")
        if limit is not None and limit[0] not in row.guards:
            stays = row.internal or (
                graph.owner.get(row.target) == row.task
                and (graph.kinds.get(row.target) == "atomic")
            )
            if stays:
                out.append(
                    Finding(
                        "unbounded-timeout",
                        "error",
                        where,
                        f"re-prompts on every {limit[1]} forever: guard it with {limit[0]}",
                    )
                )
        ending = [a for a in row.actions if a in _ENDING_ACTIONS]
        if not ending:
            continue
        target_final = (
            graph.kinds.get(row.target) == "final" and graph.owner.get(row.target) == row.task
        )
        if len(ending) > 1:
            out.append(
                Finding(
                    "double-completion",
                    "error",
                    where,
                    f"ends the task {len(ending)} times in one transition: {ending}",
                )
            )
        if not target_final or row.internal:
            out.append(
                Finding(
                    "double-completion",
                    "error",
                    where,
                    f"{ending[0]} without entering a final state of {row.task!r}: "
                    "the task can complete again",
                )
            )
    return out
