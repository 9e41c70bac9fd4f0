"""Deliberately broken charts: the interview chart with one defect each.

Each is built by editing a compiled chart's table and rebuilding its
python-statemachine class from the edited table (with the library's own
definition checks off), so the interpreter and the machine agree.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
from statemachine.io import create_machine_class_from_definition
from taskchart.adapters.console.interview import interview_tasks
from taskchart.statecharts import Chart, compile_chart
from taskchart.statecharts.chart import _CLASS_FLAGS, StateDef, TransitionDef, _definition, _guard

_COUNT = iter(range(10**6))


def rebuild(
    chart: Chart,
    rows: list[TransitionDef],
    states: list[StateDef] | None = None,
) -> Chart:
    """A chart with ``rows`` (and ``states``) instead of ``chart``'s table."""
    states = list(chart.states if states is None else states)
    row_guards = [tuple((g, _guard(g, r.task)) for g in r.guards) for r in rows]
    definition = _definition(states, rows, chart.tasks, row_guards)
    name = f"Broken{next(_COUNT)}_{chart.name}"
    cls = create_machine_class_from_definition(
        name,
        states=definition,
        validate_disconnected_states=False,
        validate_trap_states=False,
        validate_final_reachability=False,
        **_CLASS_FLAGS,
    )
    return Chart(
        name,
        chart.tasks,
        tuple(states),
        tuple(rows),
        cls,
        return_exceptions=chart.return_exceptions,
        group=chart.group,
        row_guards=tuple(row_guards),
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
    """The email is never read back: the way into ``confirming`` was lost."""
    chart = _fresh()
    rows = [
        r
        for r in chart.transitions
        if not (r.source == "email_task__collecting" and r.target == "email_task__confirming")
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
