"""The leaf graph of a compiled chart: which rows apply to each leaf, and where they lead.

Rules of this file: it reads :attr:`Chart.states`, :attr:`Chart.transitions`
and the task specs only; it never runs the chart. The static checks
(:mod:`taskchart.runtime.checks`) and the generated tests
(:mod:`taskchart.runtime.testing`) both read a chart through it.

Theory of operation: a configuration at rest is one leaf state (a task's
atomic state, a final, or ``dispatch`` in passing). A row whose source is a
task compound applies to each of its children; entering a compound or its
history enters its initial child. A row is *feasible* unless
:func:`.possible.never_fires` decides from the specs
that it can never fire (:func:`never` says why). :func:`reach` follows the
rows a predicate keeps from some leaves.

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

import weakref
from collections.abc import Callable, Iterable

from .chart import Chart
from .possible import never_fires
from .table import DISPATCH, REGRESS, TransitionDef
from .task import CONFIRM, CORRECT, DECLINE, FAIL, UPDATE

__all__ = [
    "TOOL_EVENTS",
    "LeafGraph",
    "feasible",
    "initial_leaf",
    "never",
    "reach",
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


def never(chart: Chart) -> dict[int, str]:
    """Why each row of ``chart`` that can never fire cannot, by row index (cached per chart).

    Decided from the specs by :func:`.possible.never_fires`.
    """
    found = _NEVER.get(chart)
    if found is None:
        reasons = never_fires(chart.transitions, chart.tasks)
        found = _NEVER[chart] = (reasons, frozenset(id(chart.transitions[i]) for i in reasons))
    return found[0]


_NEVER: weakref.WeakKeyDictionary[Chart, tuple[dict[int, str], frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)


def feasible(chart: Chart, row: TransitionDef) -> bool:
    """Whether ``row``, one of ``chart``'s rows, can fire in some run."""
    never(chart)
    return id(row) not in _NEVER[chart][1]


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
