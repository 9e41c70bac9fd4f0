"""``taskchart check``: the static checks, on good charts and deliberately broken ones."""

from __future__ import annotations

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.adapters.console.targets import load_chart, load_target
from taskchart.runtime.checks import as_chart, check_chart, reachable_leaves
from taskchart.statecharts import (
    Confirmation,
    Field,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.chart import TransitionDef

from .broken import BROKEN, _fresh, rebuild


def codes(chart):  # type: ignore[no-untyped-def]
    return {(f.code, f.severity) for f in check_chart(chart)}


def test_the_interview_has_no_errors_and_two_documented_warnings() -> None:
    findings = check_chart(interview_chart())
    assert [f.severity for f in findings] == ["warning", "warning"]
    assert {f.where for f in findings} == {"intro_task__collecting", "commute_task__collecting"}
    assert all(f.code == "no-escape" for f in findings)


@pytest.mark.parametrize(
    "target",
    [
        "examples.email_chart:email_spec",
        "taskchart.adapters.console.interview:interview_chart",
        "taskchart.adapters.console.interview:interview_tasks",
    ],
)
def test_prebuilt_charts_and_examples_have_no_errors(target: str) -> None:
    chart = load_chart(target)
    assert [str(f) for f in check_chart(chart) if f.severity == "error"] == []


def test_timer_and_decline_make_a_task_escapable() -> None:
    spec = declarative_task("age", fields=[Field("age", int)], no_input_timeout=3.0)
    assert check_chart(compile_chart(spec)) == []
    hand_written = implicit_task("consent", tools=["consent_given"])
    assert check_chart(compile_chart(hand_written)) == []


def test_policy_unreachable_states_are_not_reported() -> None:
    """A NEVER-confirmed task's confirming state is unreachable by design, not by mistake."""
    chart = compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER)
    )
    assert "n__confirming" in reachable_leaves(chart)
    assert "n__confirming" not in reachable_leaves(chart, policy=True)
    assert check_chart(chart) == []


def test_confirmation_without_a_confirm_tool_is_a_dead_end() -> None:
    from taskchart.statecharts import Tool

    spec = declarative_task(
        "pin",
        fields=[Field("pin")],
        confirmation=Confirmation.ALWAYS,
        tools=[Tool("update_pin", "update", "", {"pin": "pin"}), Tool("decline_pin", "decline")],
    )
    found = {(f.code, f.where) for f in check_chart(compile_chart(spec))}
    assert ("dead-end", "pin__confirming") not in found  # decline still ends it
    spec = declarative_task(
        "pin2",
        fields=[Field("pin")],
        confirmation=Confirmation.ALWAYS,
        tools=[Tool("update_pin2", "update", "", {"pin": "pin"})],
    )
    found = {(f.code, f.where) for f in check_chart(compile_chart(spec))}
    assert ("dead-end", "pin2__confirming") in found


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_check_finds_each_broken_chart(name: str) -> None:
    factory, code = BROKEN[name]
    assert (code, "error") in codes(factory())
    assert (code, "error") not in codes(interview_chart())


def test_eventless_loop_unknown_state_guard_and_timeout() -> None:
    chart = _fresh()
    rows = list(chart.transitions)
    rows.append(TransitionDef("commute_task__complete", "dispatch", None, task="commute_task"))
    rows.append(TransitionDef("dispatch", "commute_task__complete", None))
    rows.append(
        TransitionDef(
            "intro_task__collecting",
            "intro_task__collecting",
            "timeout",
            internal=True,
            task="intro_task",
        )
    )
    broken = rebuild(chart, rows)
    found = codes(broken)
    assert ("eventless-loop", "error") in found
    assert ("unbounded-timeout", "error") in found
    bad_names = attrs_evolve_rows(
        chart, TransitionDef("intro_task__collecting", "nowhere", "update", ("no_such_guard",))
    )
    found = codes(bad_names)
    assert ("unknown-state", "error") in found
    assert ("unknown-guard", "error") in found


def attrs_evolve_rows(chart, extra):  # type: ignore[no-untyped-def]
    """A chart whose table (not its machine) has one more row: enough for static checks."""
    import attrs

    return attrs.evolve(
        chart,
        transitions=(*chart.transitions, extra),
        row_guards=(*chart.row_guards, ()),
        row_actions=(*chart.row_actions, ()),
        views={},
        rows_cache={},
    )


def test_load_target_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"module:attribute"):
        load_target("no_colon")
    with pytest.raises(ValueError, match="cannot import"):
        load_target("no.such.module:x")
    with pytest.raises(ValueError, match="no attribute"):
        load_target("taskchart.adapters.console.interview:nope")
    with pytest.raises(ValueError, match="cannot make a chart"):
        as_chart(42)
