"""Deliberately broken charts: the interview chart with one defect each.

Each is built by editing a compiled chart's table (with python-statemachine's
own definition checks off for its class), so both engines run the edited table.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
from taskchart.adapters.console.interview import interview_tasks
from taskchart.statecharts import Chart, compile_chart
from taskchart.statecharts.chart import StateDef, TransitionDef

_COUNT = iter(range(10**6))


def rebuild(
    chart: Chart,
    rows: list[TransitionDef],
    states: list[StateDef] | None = None,
) -> Chart:
    """A chart with ``rows`` (and ``states``) instead of ``chart``'s table."""
    return Chart.from_table(
        f"Broken{next(_COUNT)}_{chart.name}",
        chart.tasks,
        list(chart.states if states is None else states),
        rows,
        return_exceptions=chart.return_exceptions,
        group=chart.group,
        strict=False,
    )


def _fresh() -> Chart:
    return compile_chart(interview_tasks(), name=f"Interview{next(_COUNT)}")


def dead_end() -> Chart:
    """The email read-back can never be answered: only re-stating the email stays possible."""
    chart = _fresh()
    rows = [
        r
        for r in chart.transitions
        if not (
            r.source == "email_task__confirming" and r.event in ("confirm", "correct", "decline")
        )
    ]
    return rebuild(chart, rows)


def unreachable_state() -> Chart:
    """The email is never read back: an update completes the task instead of ``confirming``."""
    chart = _fresh()
    rows = [
        attrs.evolve(r, target="email_task__complete", actions=(*r.actions, "complete_task"))
        if r.source == "email_task__collecting" and r.target == "email_task__confirming"
        else r
        for r in chart.transitions
    ]
    return rebuild(chart, rows)


def double_completion() -> Chart:
    """A partial intro update already completes the task, which completes again later."""
    chart = _fresh()
    rows = [
        attrs.evolve(r, actions=(*r.actions, "complete_task"))
        if r.source == "intro_task__collecting" and r.internal
        else r
        for r in chart.transitions
    ]
    return rebuild(chart, rows)


BROKEN: dict[str, tuple[Callable[[], Chart], str]] = {
    "dead end": (dead_end, "dead-end"),
    "unreachable state": (unreachable_state, "unreachable"),
    "double completion": (double_completion, "double-completion"),
}
