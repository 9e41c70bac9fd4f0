"""A task's table holds only what its spec lets happen: the policy, tools, timers, keypad."""

from __future__ import annotations

import pytest
from taskchart.runtime import Interpreter, TaskReturned, ToolCalled, UserSpoke
from taskchart.statecharts import (
    Chart,
    Confirmation,
    Field,
    Keypad,
    Tool,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.prebuilt.dtmf import dtmf_spec
from taskchart.statecharts.task import TaskSpec


def edges(chart: Chart, task: str) -> list[str]:
    """The task's rows as ``source -event [guards]-> target`` without the task prefix."""

    def short(state: str) -> str:
        return state.removeprefix(f"{task}__")

    return [
        f"{short(r.source)} -{r.label}-> {short(r.target)}"
        for r in chart.transitions
        if r.task == task and r.source != "dispatch"
    ]


def states(chart: Chart, task: str) -> list[str]:
    return [s.id.removeprefix(f"{task}__") for s in chart.states if s.task == task]


def name_task(confirmation: Confirmation, **options: object) -> Chart:
    return compile_chart(
        declarative_task("n", fields=[Field("n")], confirmation=confirmation, **options)  # type: ignore[arg-type]
    )


#: A task's spec, and the states and rows its table has: exactly these.
SHAPES: dict[str, tuple[TaskSpec, list[str], list[str]]] = {
    "never confirmed: no confirming state and no confirm edge": (
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER),
        ["n", "collecting", "complete", "declined", "failed"],
        [
            "collecting -update [all_fields_collected]-> complete",
            "collecting -decline-> declined",
            "collecting -fail-> failed",
            "n -done.state.n-> dispatch",
        ],
    ),
    "always confirmed: no edge that completes unconfirmed": (
        declarative_task("n", fields=[Field("n")], confirmation=Confirmation.ALWAYS),
        ["n", "collecting", "confirming", "complete", "declined", "failed"],
        [
            "collecting -update [all_fields_collected]-> confirming",
            "confirming -update-> confirming",
            "confirming -confirm [value_unchanged_since_readback]-> complete",
            "confirming -correct-> collecting",
            "collecting -decline-> declined",
            "confirming -decline-> declined",
            "collecting -fail-> failed",
            "confirming -fail-> failed",
            "n -done.state.n-> dispatch",
        ],
    ),
    "rows no tool, timer or retry can fire are left out": (
        declarative_task(
            "code",
            fields=[Field("code")],
            confirmation=Confirmation.ALWAYS,
            tools=[Tool("update_code", "update", "", {"code": "code"}, ("code",))],
            no_input_timeout=5.0,
            max_reprompts=0,
        ),
        ["code", "collecting", "confirming", "complete", "failed"],
        [
            "collecting -update [all_fields_collected]-> confirming",
            "confirming -update-> confirming",
            "collecting -fail-> failed",
            "confirming -fail-> failed",
            "collecting -timeout-> failed",
            "confirming -timeout-> failed",
            "code -done.state.code-> dispatch",
        ],
    ),
}


@pytest.mark.parametrize(("spec", "shape", "rows"), SHAPES.values(), ids=list(SHAPES))
def test_a_table_has_the_states_and_rows_its_spec_lets_happen(
    spec: TaskSpec, shape: list[str], rows: list[str]
) -> None:
    chart = compile_chart(spec)
    assert states(chart, spec.id) == shape
    assert edges(chart, spec.id) == rows


@pytest.mark.parametrize(("modality", "end"), [("text", "flow_done"), ("audio", "n__confirming")])
def test_audio_only_keeps_both_ways_chosen_by_the_modality(modality: str, end: str) -> None:
    chart = name_task(Confirmation.AUDIO_ONLY)
    assert edges(chart, "n")[:2] == [
        "collecting -update [all_fields_collected & needs_confirmation]-> confirming",
        "collecting -update [all_fields_collected]-> complete",
    ]
    flow = Interpreter(chart, modality=modality)
    flow.start()
    flow.handle(UserSpoke("Ada", modality))
    assert flow.handle(ToolCalled("update_n", {"n": "Ada"})).ok
    assert flow.configuration[-1] == end


def test_a_partial_update_stays_only_where_an_update_can_leave_a_field_out() -> None:
    two = compile_chart(declarative_task("p", fields=[Field("first"), Field("last")]))
    assert "collecting -update-> collecting" in edges(two, "p")
    flow = Interpreter(two)
    flow.start()
    assert flow.handle(ToolCalled("update_p", {"first": "Ada"})).ok
    assert flow.configuration == ("p", "p__collecting")
    one = name_task(Confirmation.AUDIO_ONLY)  # its only field: every accepted update sets it
    assert "collecting -update-> collecting" not in edges(one, "n")


def test_keypad_rows_follow_the_retries_the_stop_key_and_the_policy() -> None:
    chart = compile_chart(dtmf_spec(4))  # LiveKit's defaults: no retry, stop at #, no confirmation
    keys = [e for e in edges(chart, "dtmf_inputs") if " -dtmf" in e or " -keys_timeout" in e]
    assert keys == [
        "collecting -dtmf [is_stop_key]-> failed",
        "collecting -dtmf [key_completes]-> complete",
        "collecting -dtmf-> collecting",
        "collecting -keys_timeout-> failed",
    ]
    spec = declarative_task(
        "pin",
        fields=[Field("pin")],
        confirmation=Confirmation.NEVER,
        keypad=Keypad(4, "pin", stop_key=None, max_retries=2),
    )
    keys = [e for e in edges(compile_chart(spec), "pin") if " -dtmf" in e or " -keys_timeout" in e]
    assert keys == [
        "collecting -dtmf [key_completes]-> complete",
        "collecting -dtmf-> collecting",
        "collecting -keys_timeout [keypad_retries_left]-> collecting",
        "collecting -keys_timeout-> failed",
    ]


@pytest.mark.parametrize("engine", ["table", "statemachine"])
def test_only_a_task_that_can_go_back_has_a_history_to_resume(engine: str) -> None:
    chart = compile_chart([implicit_task("consent"), implicit_task("survey")])
    assert [s.id for s in chart.states if s.kind == "history"] == ["survey__h"]
    assert [r.target for r in chart.transitions if "next_resume" in r.guards] == ["survey__h"]
    flow = Interpreter(chart, engine=engine)
    flow.start()
    assert flow.handle(TaskReturned(True)).ok and flow.handle(TaskReturned("fine")).ok
    assert flow.configuration == ("flow_done",)
    assert flow.machine.history == {"survey__h": ("survey__complete",)}
