"""The leaf graph of a compiled chart: which rows apply to each leaf, and where they lead.

Rules of this file: it reads :attr:`Chart.states`, :attr:`Chart.transitions`
and the task specs only; it never runs the chart. The static checks
(:mod:`taskchart.runtime.checks`) and the generated tests
(:mod:`taskchart.runtime.testing`) both read a chart through it.

Theory of operation: a configuration at rest is one leaf state (a task's
atomic state, a final, or ``dispatch`` in passing). A row whose source is a
task compound applies to each of its children; entering a compound or its
history enters its initial child. A row is *feasible* when something can
send its event (:func:`triggerable`: a task tool, a timer the task sets,
the task's own code, a session close) and no guard the task spec decides
once and for all makes it false (:func:`policy_false`). :func:`reach`
follows the rows a predicate keeps from some leaves.

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> chart = compile_chart(declarative_task("name", fields=[Field("name")]))
>>> graph = LeafGraph(chart)
>>> leaves = reach(graph, [initial_leaf(chart)], lambda row: feasible(chart, row))
>>> sorted(leaf for leaf in leaves if leaf.startswith("name__"))
['name__collecting', 'name__complete', 'name__confirming', 'name__declined', 'name__failed']
>>> graph.can_leave("name__collecting")
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from taskchart.statecharts import Chart, Confirmation
from taskchart.statecharts.table import DISPATCH, REGRESS, TransitionDef
from taskchart.statecharts.task import COMPLETE, CONFIRM, CORRECT, DECLINE, FAIL, TIMEOUT, UPDATE

__all__ = [
    "TOOL_EVENTS",
    "LeafGraph",
    "feasible",
    "initial_leaf",
    "policy_false",
    "reach",
    "triggerable",
]

#: Events a task tool sends.
TOOL_EVENTS = (UPDATE, CONFIRM, CORRECT, DECLINE)


class LeafGraph:
    """Leaves, their parents and which rows apply to each leaf."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.kinds = {s.id: s.kind for s in chart.states}
        self.owner = {s.id: s.task for s in chart.states}
        self.initial_child: dict[str, str] = {}
        for s in chart.states:
            if s.task is not None and s.kind != "compound" and s.initial:
                self.initial_child[s.task] = s.id
        self.leaves = [s.id for s in chart.states if s.kind in ("atomic", "final", "transient")]
        self.rows_from: dict[str, list[TransitionDef]] = {leaf: [] for leaf in self.leaves}
        for row in chart.transitions:
            if row.source in self.rows_from:
                self.rows_from[row.source].append(row)
            elif self.kinds.get(row.source) == "compound":
                for leaf in self.leaves:
                    if self.owner.get(leaf) == row.source and self.kinds[leaf] != "compound":
                        self.rows_from[leaf].append(row)
        self._can_leave: dict[str, bool] = {}

    def enter(self, target: str) -> str | None:
        """The leaf entered by a row targeting ``target`` (None when unknown)."""
        kind = self.kinds.get(target)
        if kind == "compound":
            return self.initial_child.get(target)
        if kind == "history":
            task = self.owner.get(target)
            return self.initial_child.get(task) if task else None
        return target if kind is not None else None

    def applies(self, leaf: str, row: TransitionDef) -> bool:
        """Whether ``row`` can fire while ``leaf`` is the active leaf."""
        is_final = self.kinds.get(leaf) == "final"
        done = row.event is not None and row.event.startswith("done.state.")
        if done:  # completion of a compound: only from one of its finals
            return is_final and row.source == self.owner.get(leaf)
        return not is_final or row.source == leaf

    def can_leave(self, leaf: str) -> bool:
        """Whether a feasible row takes ``leaf`` to another leaf on an event something
        sends, not counting a failure (a session close) or going back."""
        known = self._can_leave.get(leaf)
        if known is None:
            known = self._can_leave[leaf] = any(
                self.applies(leaf, row)
                and row.event not in (FAIL, REGRESS, None)
                and not row.internal
                and feasible(self.chart, row)
                and self.enter(row.target) != leaf
                for row in self.rows_from.get(leaf, ())
            )
        return known


def triggerable(chart: Chart, row: TransitionDef) -> bool:
    event = row.event
    if event is None or event.startswith("done.state."):
        return True
    spec = chart.task_map.get(row.task) if row.task else None
    if event == FAIL:
        return True  # session close (and a hand-written task's error)
    if event == REGRESS:
        return True
    if spec is None:
        return True
    if event in TOOL_EVENTS and spec.kind == "declarative":
        return any(t.event == event for t in spec.tools)
    if event == TIMEOUT:
        return spec.no_input_timeout is not None
    if event == COMPLETE:
        return spec.kind == "implicit"
    return True  # custom events (dtmf, ...) are sent by the runtime


def policy_false(chart: Chart, row: TransitionDef) -> bool:
    """A guard the task spec makes false once and for all."""
    spec = chart.task_map.get(row.task) if row.task else None
    if spec is None:
        return False
    for guard in row.guards:
        if guard == "needs_confirmation" and spec.confirmation is Confirmation.NEVER:
            return True
        if guard == "reprompts_left" and spec.max_reprompts <= 0:
            return True
    return False


def feasible(chart: Chart, row: TransitionDef) -> bool:
    return triggerable(chart, row) and not policy_false(chart, row)


def reach(
    graph: LeafGraph,
    starts: Iterable[str],
    keep: Callable[[TransitionDef], bool],
) -> set[str]:
    seen: set[str] = set()
    todo = [s for s in starts if s in graph.rows_from]
    while todo:
        leaf = todo.pop()
        if leaf in seen:
            continue
        seen.add(leaf)
        for row in graph.rows_from.get(leaf, ()):
            if not graph.applies(leaf, row) or not keep(row):
                continue
            nxt = graph.enter(row.target) if not row.internal else leaf
            if nxt is not None and nxt not in seen:
                todo.append(nxt)
    return seen


def initial_leaf(chart: Chart) -> str:
    return next((s.id for s in chart.states if s.initial and s.task is None), DISPATCH)
