"""Property tests: any event sequence keeps the interpreter's promises.

Two charts are exercised: the demo's interview chart (``intro_task``,
``email_task``, ``commute_task``) and a small two-task chart whose tasks set
``no_input_timeout`` so that ``TimerFired`` events take real transitions.

The events are sent through the generated machine of
``taskchart.runtime.testing``, as a user's own tests send them, so every
promise it checks for any chart is checked after every event (see
``FlowMachine``):

* ``handle`` never raises, whatever the event;
* a ``Rejected`` outcome changes nothing (configuration, values, results,
  history, timers, turn counter, modality, tools);
* the flow completes at most once, and after it ended every event but
  ``UserSpoke`` is refused with ``finished``;
* ``flow.result`` is set only in ``flow_done``; results only hold results of
  completed tasks (as announced by ``TaskCompleted``) or failures;
* ``flow.tools`` equals the tools last offered through ``SetTools``; timers
  the interpreter thinks are running are exactly the ones an adapter
  performing its effects would have scheduled;
* a JSON round trip through ``snapshot``/``restore`` gives the same flow.

What these charts promise beyond that is checked as flow invariants of the
same machine (see :func:`checker`): the configuration is a single final
state or exactly ``(task, task__<open state>)``; the group's result holds a
result of the right type for every task; results are what the values build;
tools are offered exactly until the end; the one timer running is the
active task's no-input timer.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from taskchart.adapters.console.interview import (
    CommuteResults,
    EmailResult,
    IntroResults,
    interview_chart,
)
from taskchart.runtime import (
    Accepted,
    AsyncFlow,
    DtmfReceived,
    Event,
    Interpreter,
    Outcome,
    Regressed,
    Rejected,
    SessionClosed,
    SimulatedClock,
    SnapshotError,
    StartTimer,
    TimerFired,
    ToolCalled,
    UserSpoke,
    restore,
    snapshot,
)
from taskchart.runtime.testing import FlowInvariant, FlowMachine, flow_state_machine
from taskchart.statecharts import (
    Chart,
    Declined,
    Field,
    NoInput,
    TaskFailure,
    TaskGroupResult,
    compile_chart,
)
from taskchart.statecharts.task import CONFIRM, CORRECT, DECLINE, UPDATE

from .helpers import TIMER_TASKS, PersonAge, PersonName

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# The hypothesis profile (tests/conftest.py) may ask for more examples
# ("nightly"); never fewer than 200.
EXAMPLES = max(200, settings.default.max_examples)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

REGRESS_TOOL = "out_of_scope"
FINAL_STATES = ("flow_done", "flow_failed")
OPEN_STATES = ("collecting", "confirming", "active")

# -- the charts ---------------------------------------------------------------------

INTERVIEW = interview_chart()
INTERVIEW_RESULT_TYPES = {
    "intro_task": IntroResults,
    "email_task": EmailResult,
    "commute_task": CommuteResults,
}


TIMER_CHART = compile_chart(TIMER_TASKS, name="TimerFlow")
TIMER_RESULT_TYPES = {"name_task": PersonName, "age_task": PersonAge}
TIMER_IDS = ["name_task.no_input", "age_task.no_input"]


def task_ids(chart: Chart) -> list[str]:
    return [t.id for t in chart.tasks]


def all_tool_names(chart: Chart) -> list[str]:
    return [tool.name for t in chart.tasks for tool in t.tools] + [REGRESS_TOOL]


# -- values -------------------------------------------------------------------------

HUGE = "x" * 10_000
VALID_NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Zoë Ångström-Łukasiewicz"]
VALID_TEXT = ["a mathematician", "writes programs for engines", "train", "by bike", "car"]
# Addresses whose normalised form normalises to itself again (see the separate
# email tests below for the ones that do not).
VALID_EMAILS = [
    "ada@example.com",
    "ada at example dot com",
    "grace.hopper@example.org",
    "ada underscore lovelace at example dot org",
    "Alan dot Turing at Example dot co dot uk",
    "my email is ada at example dot com",
]
VALID_BOOLS: list[Any] = [True, False, "yes", "no", "true", "false", "Yeah"]
BAD_EMAILS = ["john at gmail", "not an email", "@example.com", "ada@", "a" * 400]
GARBAGE_TOOL_NAMES = [
    "",
    " ",
    "update",
    "confirm",
    "regress",
    "fail",
    "done.state.intro_task",
    "record_intro ",
    "RECORD_INTRO",
    "out_of_scope_",
    "__init__",
    "tool\x00name",
    "értékelés",
    "update_intro_task",
    "confirm_intro_task",
]
ARGUMENT_NAMES = [
    "name",
    "intro_notes",
    "intro",
    "email",
    "email_address",
    "can_commute",
    "commute_method",
    "reason",
    "task_ids",
    "age",
    "values",
    "error",
    "result",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
hostile_values = st.one_of(
    st.sampled_from(
        ["", "   ", "\n\t", HUGE, " " + HUGE, "\x00", "\u202e\u200b", "😀" * 50, "null", "maybe"]
    ),
    st.text(max_size=50),
    st.integers(),
    st.floats(),
    st.lists(json_scalars, max_size=3),
    st.none(),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    json_values,
)
valid_values = st.sampled_from(
    [*VALID_NAMES, *VALID_TEXT, *VALID_EMAILS, *VALID_BOOLS, *BAD_EMAILS, 42, "42"]
)
any_value = valid_values | hostile_values
non_dict_arguments = st.one_of(
    st.sampled_from(["Ada", "", 5, 0, 1.5, True, [], [{"name": "Ada"}], ["intro_task"]]),
    st.text(max_size=10),
    st.lists(json_scalars, max_size=3),
    st.integers(),
)
any_arguments = st.one_of(
    st.dictionaries(st.sampled_from(ARGUMENT_NAMES) | st.text(max_size=10), any_value, max_size=4),
    st.none(),
    non_dict_arguments,
)


def task_id_arguments(chart: Chart) -> st.SearchStrategy[Any]:
    ids = task_ids(chart)
    candidates = [*ids, "nope", "", "INTRO_TASK", "dispatch", "flow_done", "intro_task__h"]
    return st.one_of(
        st.lists(st.sampled_from(candidates), max_size=4),
        st.lists(st.sampled_from(ids), min_size=1, max_size=2),
        st.sampled_from(candidates),
        st.just([]),
        hostile_values,
    )


def field_values(field: Field) -> st.SearchStrategy[Any]:
    """Valid raw values for ``field`` (what a well-behaved model would send)."""
    if field.normalize is not None and "email" in field.name:
        return st.sampled_from(VALID_EMAILS)
    if field.type is bool:
        return st.sampled_from(VALID_BOOLS)
    if field.type is int:
        return st.integers(0, 120) | st.sampled_from(["42", " 7 ", 33.0])
    return st.sampled_from(VALID_NAMES + VALID_TEXT)


def valid_arguments(
    chart: Chart, tool_name: str, *, non_empty: bool = False
) -> st.SearchStrategy[Any]:
    """Well-formed arguments for ``tool_name`` (the tool may still not be enabled)."""
    if tool_name == REGRESS_TOOL:
        return st.fixed_dictionaries(
            {"task_ids": st.lists(st.sampled_from(task_ids(chart)), min_size=1, max_size=2)}
        )
    for spec in chart.tasks:
        tool = spec.tool(tool_name)
        if tool is None:
            continue
        if tool.event == UPDATE:
            fields = spec.field_map
            optional = {arg: field_values(fields[f]) for arg, f in tool.arguments.items()}
            required = {a: optional.pop(a) for a in tool.required}
            args = st.fixed_dictionaries(required, optional=optional)
            return args.filter(bool) if non_empty else args
        if tool.event == DECLINE:
            return st.fixed_dictionaries(
                {a: st.just("I'd rather not say") for a in tool.required},
                optional={
                    a: st.text(max_size=20) for a in tool.arguments if a not in tool.required
                },
            )
        return st.just({})
    return st.just({})


def canonical_arguments(chart: Chart, tool_name: str) -> dict[str, Any]:
    """One complete, valid argument set for an update tool."""
    for spec in chart.tasks:
        tool = spec.tool(tool_name)
        if tool is None:
            continue
        fields = spec.field_map
        out: dict[str, Any] = {}
        for arg, fname in tool.arguments.items():
            field = fields[fname]
            if field.normalize is not None and "email" in field.name:
                out[arg] = "ada@example.com"
            elif field.type is bool:
                out[arg] = True
            elif field.type is int:
                out[arg] = 42
            else:
                out[arg] = "Ada Lovelace"
        return out
    raise KeyError(tool_name)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a branch with probability proportional to its weight.

    (``st.one_of`` would not do: it drops repeated branches.)
    """
    branches = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(branches).flatmap(lambda strategy: strategy)


def events(chart: Chart, timer_ids: list[str]) -> st.SearchStrategy[Event]:
    """Event sequences' elements: mostly plausible, often hostile, rarely fatal."""
    tools = all_tool_names(chart)
    by_event: dict[str | None, list[str]] = {}
    for spec in chart.tasks:
        for tool in spec.tools:
            by_event.setdefault(tool.event, []).append(tool.name)
    progress = by_event.get(UPDATE, []) * 3 + by_event.get(CONFIRM, []) * 2
    valid_call = st.sampled_from(progress + tools).flatmap(
        lambda n: valid_arguments(chart, n).map(lambda a, n=n: ToolCalled(n, a))
    )
    hostile_call = st.builds(
        ToolCalled,
        st.sampled_from(tools) | st.sampled_from(GARBAGE_TOOL_NAMES) | st.text(max_size=30),
        any_arguments,
    )
    regress_call = st.builds(
        ToolCalled,
        st.just(REGRESS_TOOL),
        st.fixed_dictionaries({"task_ids": task_id_arguments(chart)}) | any_arguments,
    )
    spoke = st.builds(
        UserSpoke,
        st.text(max_size=20),
        st.sampled_from(["text", "audio", "audio", "text", "video", "", "AUDIO"]),
    )
    dtmf = st.builds(DtmfReceived, st.sampled_from(list("0123456789*#")) | st.text(max_size=3))
    timer = st.builds(
        TimerFired,
        st.sampled_from([*timer_ids, "bogus", "", "intro_task.no_input", "name_task"])
        | st.text(max_size=10),
    )
    closed = st.builds(SessionClosed, st.text(max_size=20))
    real_timer = st.sampled_from(timer_ids).map(TimerFired) if timer_ids else timer
    return weighted(
        (12, valid_call),
        (6, spoke),
        (4, hostile_call),
        (3, regress_call),
        (2, real_timer),
        (1, dtmf),
        (1, timer),
        (1, closed),
    )


def offered_call(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A valid call of a tool the flow offers now (what a well-behaved model sends)."""
    chart = flow.chart

    def call(name: str) -> st.SearchStrategy[Event]:
        if name == REGRESS_TOOL:
            targets = st.lists(
                st.sampled_from(flow.regression_targets()), min_size=1, max_size=2, unique=True
            )
            return targets.map(lambda ids: ToolCalled(REGRESS_TOOL, {"task_ids": ids}))
        return valid_arguments(chart, name, non_empty=True).map(lambda a: ToolCalled(name, a))

    spec = chart.task_map[flow.active_task]  # type: ignore[index]
    # progress often, go back and correct sometimes, decline (which ends the flow) rarely
    weights = {UPDATE: 5, CONFIRM: 6, CORRECT: 1, DECLINE: 1}
    kinds = {t.name: t.event for t in spec.tools}
    names = [n for n in flow.tools for _ in range(weights.get(kinds.get(n), 2))]
    return st.sampled_from(names).flatmap(call)


@st.composite
def guided_sequences(draw: st.DrawFn, chart: Chart, timer_ids: list[str]) -> list[Event]:
    """Event sequences that follow the flow: offered tools and user turns, mixed with noise.

    The flow is simulated while drawing, so sequences reach deep states
    (later tasks, read-backs, regressions, completion).
    """
    flow = Interpreter(chart)
    flow.start()
    noise = events(chart, timer_ids)
    speech = st.builds(UserSpoke, st.just("yes"), st.sampled_from(["text", "audio"]))
    out: list[Event] = []
    after_end = 0
    for _ in range(draw(st.integers(0, 40))):
        if flow.done:
            after_end += 1
            if after_end > 3:
                break
            strategy = noise
        else:
            strategy = weighted((6, offered_call(flow)), (3, speech), (3, noise))
        event = draw(strategy)
        flow.handle(event)
        out.append(event)
    return out


def sequences(chart: Chart, timer_ids: list[str]) -> st.SearchStrategy[list[Event]]:
    return weighted(
        (3, guided_sequences(chart, timer_ids)),
        (1, st.lists(events(chart, timer_ids), max_size=50)),
    )


# -- the checker --------------------------------------------------------------------
#
# The generated machine of taskchart.runtime.testing checks every promise that holds
# for any chart after each event it sends (see FlowMachine); what these two charts
# promise beyond that is written below as flow invariants of the same machine.

OPEN_LEAVES = {
    f"{task}__{state}"
    for chart in (INTERVIEW, TIMER_CHART)
    for task in task_ids(chart)
    for state in OPEN_STATES
}


def open_states_only(flow: Interpreter) -> None:
    """A task's active leaf is one of its open states: collecting, confirming, active."""
    config = flow.configuration
    if len(config) == 2:
        assert config[0] in task_ids(flow.chart) and config[1] in OPEN_LEAVES, config


def results_match_values(flow: Interpreter) -> None:
    """A task's result is what its values build; a failure names its task."""
    for tid, value in flow.results.items():
        if isinstance(value, TaskFailure):
            assert value.task_id == tid
        else:
            assert value == flow.chart.task_map[tid].build_result(flow.values(tid)), (tid, value)
    if flow.configuration == ("flow_failed",):
        assert isinstance(flow.error, TaskFailure), flow.error


def tools_until_the_end(flow: Interpreter) -> None:
    """Some tool is offered exactly until the flow ends."""
    assert (not flow.tools) == flow.done, (flow.tools, flow.configuration)


def no_input_timer_only(flow: Interpreter) -> None:
    """The one timer running is the active task's no-input timer, when it sets one."""
    if flow.done:
        return
    spec = flow.chart.task_map[flow.active_task]  # type: ignore[index]
    expected = {f"{spec.id}.no_input"} if spec.no_input_timeout is not None else set()
    assert set(flow.timers) == expected, flow.timers


def result_types(types: dict[str, type]) -> FlowInvariant:
    """The group's result holds every task's result, in task order, of its own type."""

    def check(flow: Interpreter) -> None:
        if flow.configuration == ("flow_done",):
            result = flow.result
            assert isinstance(result, TaskGroupResult)
            assert list(result.task_results) == task_ids(flow.chart)
            for tid, value in result.task_results.items():
                assert type(value) is types[tid], (tid, value)

    return check


def checker(chart: Chart, types: dict[str, type], *, roundtrip: bool = True) -> type[FlowMachine]:
    """The generated machine of ``chart`` with these charts' invariants, to send events by hand."""
    invariants = [
        open_states_only,
        results_match_values,
        tools_until_the_end,
        no_input_timer_only,
        result_types(types),
    ]
    return flow_state_machine(chart, invariants=invariants, roundtrip_every=int(roundtrip))


CHECKERS = {
    (chart.name, roundtrip): checker(chart, types, roundtrip=roundtrip)
    for chart, types in ((INTERVIEW, INTERVIEW_RESULT_TYPES), (TIMER_CHART, TIMER_RESULT_TYPES))
    for roundtrip in (True, False)
}


def run(chart: Chart, evs: list[Event], *, roundtrip: bool = True) -> FlowMachine:
    """A new flow of ``chart`` sent ``evs``, every invariant checked after each."""
    machine = CHECKERS[chart.name, roundtrip]()
    for event in evs:
        machine.send(event)
    return machine


def replay(chart: Chart, evs: list[Event]) -> Interpreter:
    """Feed ``evs`` to a new flow without checking (the invariant tests do that)."""
    flow = Interpreter(chart)
    flow.start()
    for event in evs:
        flow.handle(event)
    return flow


# -- the event-sequence properties --------------------------------------------------


@SETTINGS
@given(sequences(INTERVIEW, []))
def test_interview_invariants_hold_for_any_event_sequence(evs: list[Event]) -> None:
    checker = run(INTERVIEW, evs)
    # after the end, every tool is refused with "finished"
    if checker.flow.done:
        for name in all_tool_names(INTERVIEW):
            outcome = checker.send(ToolCalled(name, canonical_or_empty(name)))
            assert isinstance(outcome, Rejected) and outcome.code == "finished"


@SETTINGS
@given(sequences(TIMER_CHART, TIMER_IDS))
def test_timer_chart_invariants_hold_for_any_event_sequence(evs: list[Event]) -> None:
    run(TIMER_CHART, evs)


def canonical_or_empty(name: str) -> dict[str, Any]:
    try:
        return canonical_arguments(INTERVIEW, name)
    except KeyError:
        return {}


@SETTINGS
@given(sequences(TIMER_CHART, TIMER_IDS))
def test_silence_ends_the_task_after_its_reprompts(evs: list[Event]) -> None:
    """From any state, timeouts alone fail the active task after max_reprompts + 1."""
    checker = run(TIMER_CHART, evs, roundtrip=False)
    flow = checker.flow
    if flow.done:
        return  # nothing left to time out (covered by the other tests)
    task = flow.active_task
    assert task is not None
    spec = TIMER_CHART.task_map[task]
    left = spec.max_reprompts - flow.model.reprompts.get(task, 0)
    for _ in range(left):
        outcome = checker.send(TimerFired(f"{task}.no_input"))
        assert outcome.ok and flow.active_task == task
        assert any(isinstance(e, StartTimer) for e in outcome.effects), "timer not restarted"
    outcome = checker.send(TimerFired(f"{task}.no_input"))
    assert outcome.ok
    assert flow.configuration == ("flow_failed",)
    assert flow.error == NoInput(task, "the user did not answer")


@SETTINGS
@given(sequences(INTERVIEW, []), st.lists(events(INTERVIEW, []), max_size=15))
def test_restored_flow_behaves_like_the_original(prefix: list[Event], rest: list[Event]) -> None:
    original = replay(INTERVIEW, prefix)
    if original.done:
        return  # finished flows: test_restored_finished_flow_stays_finished
    twin = restore(INTERVIEW, json.loads(json.dumps(snapshot(original))))
    for event in rest:
        a, b = original.handle(event), twin.handle(event)
        assert a == b, (event, a, b)
        assert twin.configuration == original.configuration
        assert twin.results == original.results
        assert twin.tools == original.tools
        assert twin.done == original.done


@functools.cache
def _finished_flows() -> dict[str, Interpreter]:
    flows: dict[str, Interpreter] = {}

    def new() -> Interpreter:
        flow = Interpreter(INTERVIEW)
        flow.start()
        return flow

    flow = new()
    drive_to_completion(flow)
    flows["completed"] = flow

    flow = new()
    flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))
    flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"}))
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["intro_task"]}))
    drive_to_completion(flow)
    flows["completed after going back"] = flow

    flow = new()
    flow.handle(SessionClosed("bye"))
    flows["session closed in the first task"] = flow

    flow = new()
    flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))
    flow.handle(ToolCalled("decline_email_capture", {"reason": "no email"}))
    flows["declined"] = flow

    flow = Interpreter(TIMER_CHART)
    flow.start()
    for _ in range(3):
        flow.handle(TimerFired("name_task.no_input"))
    flows["no input"] = flow
    for name, flow in flows.items():
        assert flow.done, name
    return flows


@pytest.mark.parametrize(
    "name",
    [
        "completed",
        "completed after going back",
        "session closed in the first task",
        "declined",
        "no input",
    ],
)
def test_restored_finished_flow_stays_finished(name: str) -> None:
    """A snapshot of a finished flow restores to a finished flow with the same outcome."""
    flow = _finished_flows()[name]
    again = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    assert again.configuration == flow.configuration
    assert again.done is True
    assert again.result == flow.result
    assert again.error == flow.error
    assert again.tools == ()
    for event in (ToolCalled("record_intro", {"name": "Ada"}), SessionClosed()):
        outcome = again.handle(event)
        assert isinstance(outcome, Rejected) and outcome.code == "finished", outcome


# -- restore of damaged snapshots ---------------------------------------------------


def _base_snapshots() -> list[dict[str, Any]]:
    out = []
    flow = Interpreter(INTERVIEW)
    flow.start()
    out.append(snapshot(flow))
    flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))
    flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"}))
    out.append(snapshot(flow))
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["intro_task"]}))
    out.append(snapshot(flow))
    return out


BASE_SNAPSHOTS = _base_snapshots()
SNAPSHOT_WORDS = st.sampled_from(
    [
        "intro_task",
        "email_task",
        "commute_task",
        "intro_task__h",
        "email_task__confirming",
        "intro_task__complete",
        "email_address",
        "error",
        "from_values",
        "value",
        "type",
        "Declined",
    ]
)
snapshot_values = st.recursive(
    json_scalars | SNAPSHOT_WORDS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5) | SNAPSHOT_WORDS, inner, max_size=3)
    ),
    max_leaves=8,
)


@SETTINGS
@given(
    st.sampled_from(BASE_SNAPSHOTS),
    st.lists(
        st.tuples(
            st.sampled_from(sorted(BASE_SNAPSHOTS[0])),
            st.sampled_from(["replace", "set_item", "append"]),
            st.text(max_size=5) | SNAPSHOT_WORDS,
            snapshot_values,
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_restore_refuses_damaged_snapshots_with_snapshot_error(
    base: dict[str, Any], damage: list[tuple[str, str, str, Any]]
) -> None:
    """Damaging any key either still restores or raises SnapshotError, nothing else."""
    data = json.loads(json.dumps(base))
    for key, op, sub, value in damage:
        target = data.get(key)
        if op == "set_item" and isinstance(target, dict):
            target[sub] = value
        elif op == "append" and isinstance(target, list):
            target.append(value)
        else:
            data[key] = value
    try:
        flow = restore(INTERVIEW, data)
    except SnapshotError as exc:
        assert str(exc)
        return
    # what restores must be a well-formed, usable flow
    assert len(flow.configuration) in (1, 2)
    for event in (UserSpoke("hello"), ToolCalled("record_intro", {"name": "Ada"}), SessionClosed()):
        assert isinstance(flow.handle(event), Accepted | Rejected)


# -- typed email addresses ----------------------------------------------------------


def _email_flow() -> Interpreter:
    flow = Interpreter(INTERVIEW)
    flow.start()
    assert flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"})).ok
    return flow


local_parts = st.from_regex(r"[a-z]{1,8}([._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
local_words = st.sampled_from(["so", "well", "like", "um", "five", "twenty", "email", "ada"])


@SETTINGS
@given(
    st.one_of(
        local_parts,
        st.tuples(local_words, st.sampled_from([".", "-", "_", ""]), local_parts).map("".join),
    )
)
def test_a_typed_address_is_stored_as_typed_and_survives_restore(local: str) -> None:
    address = f"{local}@example.com"
    flow = _email_flow()
    outcome = flow.handle(ToolCalled("update_email_address", {"email": address}))
    assert outcome.ok, outcome
    assert flow.values("email_task") == {"email_address": address}
    again = restore(INTERVIEW, json.loads(json.dumps(snapshot(flow))))
    assert again.values("email_task") == flow.values("email_task")


def test_an_address_in_angle_brackets_survives_restore() -> None:
    flow = _email_flow()
    assert flow.handle(ToolCalled("update_email_address", {"email": "<so.ada@example.com>"})).ok
    stored = flow.values("email_task")
    again = restore(INTERVIEW, json.loads(json.dumps(snapshot(flow))))
    assert again.values("email_task") == stored


# -- driving the flow to its end ------------------------------------------------------


def drive_to_completion(flow: Interpreter, max_steps: int = 30) -> int:
    """Greedy, always-valid model: confirm when asked, else give every field."""
    chart = flow.chart
    steps = 0
    while not flow.done:
        assert steps < max_steps, f"not done after {max_steps} steps: {flow.configuration}"
        spec = chart.task_map[flow.active_task]  # type: ignore[index]
        tools = {t.name: t for t in spec.tools if t.name in flow.tools}
        confirm = next((t for t in tools.values() if t.event == CONFIRM), None)
        update = next((t for t in tools.values() if t.event == UPDATE), None)
        if confirm is not None:
            assert flow.handle(UserSpoke("yes, that's right")).ok
            outcome = flow.handle(ToolCalled(confirm.name, {}))
        else:
            assert update is not None, flow.tools
            outcome = flow.handle(ToolCalled(update.name, canonical_arguments(chart, update.name)))
        assert outcome.ok, outcome
        steps += 1
    return steps


def test_greedy_driver_completes_the_interview_from_the_start() -> None:
    flow = Interpreter(INTERVIEW, modality="audio")
    flow.start()
    steps = drive_to_completion(flow)
    assert steps == 4  # intro, email update, email confirm, commute
    assert flow.configuration == ("flow_done",)
    assert flow.result == TaskGroupResult(
        {
            "intro_task": IntroResults("Ada Lovelace", "Ada Lovelace"),
            "email_task": EmailResult("ada@example.com"),
            "commute_task": CommuteResults(True, "Ada Lovelace"),
        }
    )


@SETTINGS
@given(sequences(INTERVIEW, []))
def test_greedy_driver_completes_from_any_reachable_state(evs: list[Event]) -> None:
    flow = replay(INTERVIEW, evs)
    if flow.configuration == ("flow_failed",):
        return  # a failed flow stays failed
    drive_to_completion(flow, max_steps=30)
    assert flow.configuration == ("flow_done",)
    assert flow.result is not None
    assert set(flow.result.task_results) == set(INTERVIEW_RESULT_TYPES)


@SETTINGS
@given(sequences(TIMER_CHART, TIMER_IDS))
def test_greedy_driver_completes_the_timer_chart_from_any_reachable_state(
    evs: list[Event],
) -> None:
    flow = replay(TIMER_CHART, evs)
    if flow.configuration == ("flow_failed",):
        return
    drive_to_completion(flow, max_steps=30)
    assert flow.configuration == ("flow_done",)
    assert flow.result is not None
    assert {k: type(v) for k, v in flow.result.task_results.items()} == TIMER_RESULT_TYPES


async def test_silent_user_fails_the_timer_chart_with_no_input() -> None:
    """Through AsyncFlow and a simulated clock: 3 timeouts of 5 s end name_task."""
    clock = SimulatedClock()
    seen: list[Any] = []
    async with AsyncFlow(Interpreter(TIMER_CHART), clock=clock, on_effect=seen.append) as flow:
        seconds = 0
        while not flow.interpreter.done and seconds < 30:
            clock.advance(1.0)
            seconds += 1
            for _ in range(5):
                await asyncio.sleep(0)
        assert flow.interpreter.configuration == ("flow_failed",)
        assert seconds == 15
        assert flow.interpreter.error == NoInput("name_task", "the user did not answer")
        assert sum(isinstance(e, StartTimer) for e in seen) == 3
        assert clock.pending == 0


# -- a rule-based model that follows the offered tools ------------------------------


class InterviewModel(RuleBasedStateMachine):
    """A well-behaved model: it calls only offered tools, with valid values.

    Hostile events are mixed in; at teardown a greedy model finishes the job.
    """

    def __init__(self) -> None:
        super().__init__()
        self.checker = CHECKERS[INTERVIEW.name, False]()
        self.flow = self.checker.flow
        self.heard = False  # the user spoke since the last read-back

    # helpers
    def send(self, event: Event) -> Outcome:
        outcome = self.checker.send(event)
        if isinstance(event, UserSpoke):
            if outcome.ok:
                self.heard = True
        elif outcome.ok and self.flow.configuration[-1].endswith("__confirming"):
            self.heard = False  # the value was (re-)read back
        return outcome

    def offered(self, event: str) -> list[str]:
        if self.flow.done:
            return []
        spec = INTERVIEW.task_map[self.flow.active_task]  # type: ignore[index]
        return [t.name for t in spec.tools if t.event == event and t.name in self.flow.tools]

    # rules
    @precondition(lambda self: bool(self.offered(UPDATE)))
    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self.offered(UPDATE)))
        args = data.draw(valid_arguments(INTERVIEW, name, non_empty=True))
        task = self.flow.active_task
        outcome = self.send(ToolCalled(name, args))
        assert isinstance(outcome, Accepted), outcome
        assert outcome.step is not None and outcome.step.event == "update"
        if self.flow.active_task == task:
            tool = INTERVIEW.task_map[task].tool(name)  # type: ignore[index]
            assert tool is not None
            for arg in args:
                assert tool.arguments[arg] in self.flow.values(task)

    @rule(text=st.text(max_size=20), modality=st.sampled_from(["text", "audio"]))
    def user_speaks(self, text: str, modality: str) -> None:
        turn = self.flow.model.user_turn
        assert self.send(UserSpoke(text, modality)).ok
        assert self.flow.model.user_turn == turn + 1

    @precondition(lambda self: bool(self.offered(CONFIRM)))
    @rule()
    def confirm(self) -> None:
        (name,) = self.offered(CONFIRM)
        task = self.flow.active_task
        heard = self.heard
        value = self.flow.values(task)
        outcome = self.send(ToolCalled(name, {}))
        if heard:
            assert isinstance(outcome, Accepted), outcome
            assert self.flow.results[task] == EmailResult(**value)  # type: ignore[index]
        else:
            assert isinstance(outcome, Rejected) and outcome.code == "guard_failed", outcome

    @precondition(lambda self: bool(self.offered(CORRECT)))
    @rule()
    def correct(self) -> None:
        (name,) = self.offered(CORRECT)
        task = self.flow.active_task
        assert self.send(ToolCalled(name, {})).ok
        assert self.flow.configuration == (task, f"{task}__collecting")
        assert not self.offered(CONFIRM)

    @precondition(lambda self: REGRESS_TOOL in self.flow.tools)
    @rule(data=st.data())
    def go_back(self, data: st.DataObject) -> None:
        targets = data.draw(
            st.lists(
                st.sampled_from(self.flow.regression_targets()), min_size=1, max_size=2, unique=True
            )
        )
        task = self.flow.active_task
        outcome = self.send(ToolCalled(REGRESS_TOOL, {"task_ids": targets}))
        assert isinstance(outcome, Accepted), outcome
        assert Regressed(task, tuple(targets)) in outcome.effects  # type: ignore[arg-type]
        assert self.flow.active_task == targets[0]
        for tid in targets:
            assert tid not in self.flow.results

    @precondition(lambda self: bool(self.offered(DECLINE)))
    @rule(roll=st.integers(0, 9))
    def decline(self, roll: int) -> None:
        if roll:  # decline rarely, so that most runs can complete
            return
        (name,) = self.offered(DECLINE)
        task = self.flow.active_task
        assert self.send(ToolCalled(name, {"reason": "no thanks"})).ok
        assert self.flow.configuration == ("flow_failed",)
        assert self.flow.error == Declined(task, "no thanks")  # type: ignore[arg-type]

    @rule(event=events(INTERVIEW, []))
    def anything(self, event: Event) -> None:
        self.send(event)

    @invariant()
    def invariants_hold(self) -> None:
        self.checker.check_all()

    def teardown(self) -> None:
        if self.flow.configuration != ("flow_failed",):
            drive_to_completion(self.flow, max_steps=30)
            assert self.flow.configuration == ("flow_done",)


InterviewModel.TestCase.settings = settings(
    max_examples=max(100, settings.default.max_examples // 2),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestInterviewModel = InterviewModel.TestCase


def test_well_behaved_model_runs_do_complete() -> None:
    """The rule-based model (without hostile events) reaches flow_done in some runs."""
    completed = 0

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(st.data())
    def one_run(data: st.DataObject) -> None:
        nonlocal completed
        model = InterviewModel()
        for _ in range(25):
            rules = [model.user_speaks]
            if model.offered(UPDATE):
                rules.append(model.update)
            if model.offered(CONFIRM):
                rules.append(model.confirm)
            if REGRESS_TOOL in model.flow.tools:
                rules.append(model.go_back)
            if model.flow.done:
                break
            chosen = data.draw(st.sampled_from(rules))
            if chosen == model.user_speaks:
                model.user_speaks("yes", "audio")
            elif chosen in (model.update, model.go_back):
                chosen(data)
            else:
                chosen()
            model.checker.check_all()
        if model.flow.configuration == ("flow_done",):
            completed += 1

    one_run()
    assert completed >= 1
