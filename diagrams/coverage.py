"""Coverage of a chart by recorded event logs, and the logs' JSON-lines form.

A log is the :attr:`Interpreter.journal` of a flow run with ``record=True``
(one dict per handled event; accepted ones carry ``step: {event, source,
target, guards}``), written one JSON object per line by ``taskchart.runtime.replay.dump_journal``.
A file may hold several flows: each starts with a header line
``{"format": "taskchart.journal/2", "digest": ...}`` and ends with ``{"end": N}``.
A header names the chart by its digest: a journal of another chart (or of an
earlier version of this one) is refused rather than counted as nothing.

Theory of operation: a step names its event, the configurations before and
after, and the guards the interpreter checked. The row taken is the first
candidate row (innermost source first, as the interpreter tries them) whose
guards were all checked true. When the step leaves the task, the eventless
part of the macrostep is replayed on the table: ``done.state.<task>`` (or the
regression row), then the dispatch row that enters the next task, fresh or
through its history (a task interrupted by a regression resumes).

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> chart = compile_chart([declarative_task("name", fields=[Field("name")],
...                                         confirmation=Confirmation.NEVER)])
>>> step = {"event": "update", "source": ["name", "name__collecting"],
...         "target": ["flow_done"], "guards": {"all_fields_collected": True,
...                                             "needs_confirmation": False}}
>>> cov = Coverage.from_journals(chart, [[{"ok": True, "step": step}]])
>>> cov.states_covered, cov.transitions_covered
(5, 4)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from taskchart.statecharts import Chart
from taskchart.statecharts.journal import FORMAT, parse_lines, split_flows
from taskchart.statecharts.table import DISPATCH, FLOW_DONE, FLOW_FAILED, REGRESS

from .model import initial_leaf

__all__ = ["JOURNAL_FORMAT", "Coverage", "read_journals"]

JOURNAL_FORMAT = FORMAT

Journal = Sequence[Mapping[str, Any]]


def read_journals(
    path: str | Path,
    chart: Chart | None = None,
    *,
    unseal: Callable[[object], str] | None = None,
) -> list[list[dict[str, Any]]]:
    """The flows of a journal file, each a list of its entries (see :mod:`taskchart.statecharts.journal`).

    With ``chart``, a header naming another chart's digest is a ``ValueError``;
    ``unseal`` opens sealed lines (``Sealer(keys).unseal``).
    """
    with open(path, encoding="utf-8") as fh:
        try:
            flows = split_flows(parse_lines(fh, unseal=unseal))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    for flow in flows:
        digest = flow.header.get("digest") if flow.header is not None else None
        if chart is not None and digest is not None and digest != chart.digest:
            assert flow.header is not None
            raise ValueError(
                f"{path}:{flow.line}: a journal of chart {str(flow.header.get('chart'))[:60]!r} "
                f"(digest {str(digest)[:20]}), not of {chart.name!r} (digest {chart.digest}):"
                " pass the chart it was recorded with, or record a new journal"
            )
    return [[dict(entry) for _, entry in flow.entries] for flow in flows]


@attrs.frozen
class Coverage:
    """How often each transition row was taken and each state entered.

    ``rows`` counts by index into :attr:`Chart.transitions`; ``states`` by
    state id (history pseudo-states count when resumed through).
    """

    chart: Chart
    rows: Mapping[int, int]
    states: Mapping[str, int]
    #: regression rows by (row, task gone back to)
    regressions: Mapping[tuple[int, str], int] = attrs.field(factory=dict)

    def edge_count(self, row: int, target_task: str | None = None) -> int:
        """Times a row was taken; for a regression row, times it went to ``target_task``."""
        if target_task is not None:
            return self.regressions.get((row, target_task), 0)
        return self.rows.get(row, 0)

    @classmethod
    def from_journals(cls, chart: Chart, journals: Iterable[Journal]) -> Coverage:
        rows: Counter[int] = Counter()
        states: Counter[str] = Counter()
        regressions: Counter[tuple[int, str]] = Counter()
        for journal in journals:
            _replay(chart, journal, rows, states, regressions)
        return cls(chart, dict(rows), dict(states), dict(regressions))

    @classmethod
    def from_files(
        cls,
        chart: Chart,
        paths: Iterable[str | Path],
        *,
        unseal: Callable[[object], str] | None = None,
    ) -> Coverage:
        journals = [j for p in paths for j in read_journals(p, chart, unseal=unseal)]
        return cls.from_journals(chart, journals)

    # -- figures -------------------------------------------------------------------
    @property
    def drawable_states(self) -> tuple[str, ...]:
        """Every state of the chart, history pseudo-states included."""
        return tuple(s.id for s in self.chart.states)

    @property
    def states_covered(self) -> int:
        return sum(1 for s in self.drawable_states if self.states.get(s))

    @property
    def transitions_covered(self) -> int:
        return sum(1 for i in range(len(self.chart.transitions)) if self.rows.get(i))

    @property
    def states_total(self) -> int:
        return len(self.drawable_states)

    @property
    def transitions_total(self) -> int:
        return len(self.chart.transitions)

    @property
    def percent(self) -> float:
        """States and transitions together, in percent."""
        total = self.states_total + self.transitions_total
        return 100.0 * (self.states_covered + self.transitions_covered) / total if total else 100.0

    def never_taken(self) -> list[int]:
        return [i for i in range(len(self.chart.transitions)) if not self.rows.get(i)]

    def never_entered(self) -> list[str]:
        return [s for s in self.drawable_states if not self.states.get(s)]

    def report(self) -> str:
        """A plain-text summary: percentages, then what was never taken or entered."""

        def pct(a: int, b: int) -> str:
            return f"{a:>4}/{b:<4} {100.0 * a / b if b else 100.0:5.1f}%"

        out = [
            f"chart {self.chart.name}",
            f"  states       {pct(self.states_covered, self.states_total)}",
            f"  transitions  {pct(self.transitions_covered, self.transitions_total)}",
            f"  total        {self.percent:5.1f}%",
        ]
        missing = self.never_taken()
        if missing:
            out.append("never taken:")
            for i in missing:
                r = self.chart.transitions[i]
                out.append(f"  {r.source} -> {r.target}  {r.label.strip() or '(eventless)'}")
        unseen = self.never_entered()
        if unseen:
            out.append("never entered: " + ", ".join(unseen))
        return "\n".join(out)


def _replay(
    chart: Chart,
    journal: Journal,
    rows: Counter[int],
    states: Counter[str],
    regressions: Counter[tuple[int, str]],
) -> None:
    """Count the rows and states one flow's journal went through."""
    table = chart.transitions
    order = [t.id for t in chart.tasks]
    index = {(r.source, r.target, r.event, r.guards): i for i, r in enumerate(table)}
    dispatch_rows = {
        r.target: i for i, r in enumerate(table) if r.source == DISPATCH and r.event is None
    }
    interrupted: list[str] = []
    started = False

    def enter(config: Iterable[str]) -> None:
        for sid in config:
            states[sid] += 1

    def via_dispatch(target: Sequence[str]) -> None:
        states[DISPATCH] += 1
        if not target:
            return
        dest = target[0]
        if dest in (FLOW_DONE, FLOW_FAILED):
            rows[dispatch_rows[dest]] += 1
        elif dest in interrupted:
            interrupted.remove(dest)
            rows[dispatch_rows[f"{dest}__h"]] += 1
            states[f"{dest}__h"] += 1
        else:
            rows[dispatch_rows[dest]] += 1
        enter(target)

    for entry in journal:
        step = entry.get("step")
        if not isinstance(step, Mapping):
            continue
        event = str(step.get("event"))
        source = [str(s) for s in step.get("source", ())]
        target = [str(s) for s in step.get("target", ())]
        checked = step.get("guards") or {}
        if not started:
            started = True
            first = order[0]
            if source == [first, initial_leaf(chart, first)]:
                states[DISPATCH] += 1
                rows[dispatch_rows[first]] += 1
                enter(source)
        row = _row_taken(chart, source, event, checked)
        if row is None:
            continue
        rows[row] += 1
        r = table[row]
        task = source[0] if source else None
        if r.event == REGRESS:
            if task is not None and task not in interrupted:
                interrupted.append(task)
            if target and target[0] in order:
                regressions[(row, target[0])] += 1
            via_dispatch(target)
            continue
        if r.internal:
            continue
        states[r.target] += 1
        if target == source or (target and target[-1] == r.target):
            continue
        # the task reached a final state: done.state.<task>, then dispatch
        if task is not None:
            done = index.get((task, DISPATCH, f"done.state.{task}", ()))
            if done is not None:
                rows[done] += 1
        via_dispatch(target)


def _row_taken(
    chart: Chart, source: Sequence[str], event: str, checked: Mapping[str, Any]
) -> int | None:
    for i in chart.candidate_rows(frozenset(source), event):
        guards = chart.transitions[i].guards
        if any(checked.get(g) is False for g in guards):
            continue  # this row was tried and refused
        return i if all(checked.get(g) is True for g in guards) else None
    return None
