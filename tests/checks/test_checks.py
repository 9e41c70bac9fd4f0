"""``taskchart check``: the static checks, on good charts and deliberately broken ones."""

from __future__ import annotations

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.adapters.console.targets import load_target
from taskchart.runtime.checks import as_chart, check_chart, reachable_leaves
from taskchart.statecharts import (
    Chart,
    Confirmation,
    Field,
    InputHandler,
    Keypad,
    Tool,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.chart import StateDef, TransitionDef
from taskchart.statecharts.possible import never_fires
from taskchart.statecharts.prebuilt.dtmf import dtmf_spec
from taskchart.statecharts.prebuilt.gallery import GALLERY
from taskchart.statecharts.prebuilt.menu import menu_spec

from .broken import BROKEN, _fresh, rebuild


def codes(chart):  # type: ignore[no-untyped-def]
    return {(f.code, f.severity) for f in check_chart(chart)}


def test_the_interview_has_no_errors_and_two_documented_warnings() -> None:
    findings = check_chart(interview_chart())
    assert [f.severity for f in findings] == ["warning", "warning"]
    assert {f.where for f in findings} == {"intro_task__collecting", "commute_task__collecting"}
    assert all(f.code == "no-escape" for f in findings)


@pytest.mark.parametrize(
    "loaded",
    [
        "examples.email_chart:email_spec",
        "taskchart.adapters.console.interview:interview_chart",
        "taskchart.adapters.console.interview:interview_tasks",
    ],
    indirect=True,
)
def test_prebuilt_charts_and_examples_have_no_errors(loaded: Chart) -> None:
    assert [str(f) for f in check_chart(loaded) if f.severity == "error"] == []


def test_timer_and_decline_make_a_task_escapable() -> None:
    spec = declarative_task("age", fields=[Field("age", int)], no_input_timeout=3.0)
    assert check_chart(compile_chart(spec)) == []
    hand_written = implicit_task("consent", tools=["consent_given"])
    assert check_chart(compile_chart(hand_written)) == []


def never_fires_found(chart: Chart) -> list[tuple[str, str, str]]:
    return [(f.severity, f.where, f.message) for f in check_chart(chart) if f.code == "never-fires"]


def test_a_policy_shapes_the_table_so_nothing_is_reported() -> None:
    """A NEVER-confirmed task has no confirming state: no unreachable state to excuse."""
    chart = compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER)
    )
    assert "n__confirming" not in reachable_leaves(chart)
    assert check_chart(chart) == []


def _with(chart: Chart, at: int, row: TransitionDef, *states: StateDef) -> Chart:
    """``chart`` with one more row (and states) at ``at``: a table edited by hand."""
    rows = list(chart.transitions)
    rows.insert(at, row)
    return rebuild(chart, rows, [*chart.states, *states])


def test_check_reports_a_guard_the_spec_makes_false() -> None:
    never = compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER)
    )
    ask = ("all_fields_collected", "needs_confirmation")
    row = TransitionDef("n__collecting", "n__confirming", "update", ask, ("store",), task="n")
    found = never_fires_found(_with(never, 0, row, StateDef("n__confirming", "n", "atomic")))
    assert found == [
        (
            "error",
            "row 0 (n__collecting -update [all_fields_collected & needs_confirmation]->"
            " n__confirming)",
            "never fires: its guard 'needs_confirmation' never holds for task 'n'",
        )
    ]
    keys = compile_chart(dtmf_spec(4))  # max_retries=0: a short entry fails at once
    retry = ("is_stop_key", "keypad_retries_left")
    row = TransitionDef(
        "dtmf_inputs__collecting",
        "dtmf_inputs__collecting",
        "dtmf",
        retry,
        ("reject_keys",),
        internal=True,
        task="dtmf_inputs",
    )
    ((_, _, message),) = never_fires_found(_with(keys, 0, row))
    assert (
        message == "never fires: its guard 'keypad_retries_left' never holds for task 'dtmf_inputs'"
    )


def test_check_reports_resuming_a_task_that_never_goes_back() -> None:
    chart = compile_chart([implicit_task("consent"), implicit_task("survey")])
    row = TransitionDef("dispatch", "consent__h", None, ("next_resume",), task="consent")
    at = [r.target for r in chart.transitions].index("survey")
    found = never_fires_found(_with(chart, at, row, StateDef("consent__h", "consent", "history")))
    assert [m for _, _, m in found] == [
        "never fires: its guard 'next_resume' never holds for task 'consent'"
    ]


def test_check_reports_a_row_an_earlier_one_always_takes_first() -> None:
    always = compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.ALWAYS)
    )
    row = TransitionDef(
        "n__collecting",
        "n__complete",
        "update",
        ("all_fields_collected",),
        ("store", "complete_task"),
        task="n",
    )
    found = never_fires_found(_with(always, 1, row))
    assert found == [
        (
            "error",
            "row 1 (n__collecting -update [all_fields_collected]-> n__complete)",
            "never fires: row 0 (n__collecting -update [all_fields_collected]-> n__confirming)"
            " is always taken first",
        )
    ]


def test_check_reports_an_event_nothing_sends() -> None:
    chart = compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER)
    )
    row = TransitionDef("n__collecting", "n__collecting", "timeout", internal=True, task="n")
    found = never_fires_found(_with(chart, 0, row))
    assert [m for _, _, m in found] == ["never fires: nothing sends 'timeout' to task 'n'"]


SPECS = {
    f"{policy.name} {tools} keypad={keypad} timeout={timeout}": (policy, tools, keypad, timeout)
    for policy in Confirmation
    for tools in ("default", "update only", "repeat to confirm")
    for keypad in (None, Keypad(4, "n"), Keypad(1, "n", stop_key=None, max_retries=1))
    for timeout in (None, 0, 2)
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_compiled_tables_hold_no_row_that_never_fires(name: str) -> None:
    policy, tools, keypad, reprompts = SPECS[name]
    chosen = {
        "default": None,
        "update only": [Tool("update_n", "update", "", {"n": "n"})],
        "repeat to confirm": [
            Tool("update_n", "update", "", {"n": "n"}, ("n",)),
            Tool("confirm_n", "confirm", "", {"n": "n"}, ("n",)),
        ],
    }[tools]
    spec = declarative_task(
        "n",
        fields=[Field("n"), Field("note", required=False)],
        confirmation=policy,
        tools=chosen,
        keypad=keypad,
        no_input_timeout=None if reprompts is None else 3.0,
        max_reprompts=reprompts or 0,
        confirm_heard=tools == "repeat to confirm",
    )
    for chart in (compile_chart(spec), compile_chart([implicit_task("first"), spec])):
        assert never_fires(chart.transitions, chart.tasks) == {}
        assert never_fires_found(chart) == []


@pytest.mark.parametrize("name", [*sorted(GALLERY), "interview"])
def test_prebuilt_tables_hold_no_row_that_never_fires(name: str) -> None:
    chart = interview_chart() if name == "interview" else compile_chart(GALLERY[name]())
    assert never_fires(chart.transitions, chart.tasks) == {}


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
    # before dispatch's last row, which is unguarded: a row after it would never fire
    rows.insert(len(rows) - 2, TransitionDef("dispatch", "commute_task__complete", None))
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


def test_a_no_match_that_re_prompts_without_a_limit_is_unbounded() -> None:
    chart = _fresh()
    row = TransitionDef(
        "intro_task__collecting",
        "intro_task__collecting",
        "no_match",
        internal=True,
        task="intro_task",
    )
    found = check_chart(attrs_evolve_rows(chart, row))
    assert [f.message for f in found if f.code == "unbounded-timeout"] == [
        "re-prompts on every no-match forever: guard it with no_matches_left"
    ]
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


def test_a_keypad_step_without_handling_warns_and_an_exit_to_no_task_is_an_error() -> None:
    found = {(f.code, f.severity, f.where) for f in check_chart(compile_chart(dtmf_spec(4)))}
    assert ("no-handler", "warning", "dtmf_inputs") in found
    assert check_chart(compile_chart(menu_spec("Main.", {"1": "a"}))) == []
    lost = declarative_task(
        "pin", fields=[Field("pin")], no_match=InputHandler(max_retries=1, exit="operator")
    )
    findings = [str(f) for f in check_chart(compile_chart(lost))]
    assert findings == ["error: unknown-exit: pin: its exit names no task 'operator'"]
