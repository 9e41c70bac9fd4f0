"""Declared no-input and no-match handling: escalating prompts, counters, giving up, exits."""

from __future__ import annotations

import json

import pytest
from taskchart.runtime import (
    AgentSpeaking,
    CancelTimer,
    Instruct,
    Interpreter,
    NoMatch,
    Rejected,
    StartTimer,
    TimerFired,
    ToolCalled,
    UserAway,
    UserSpeaking,
    event_from_json,
)
from taskchart.runtime.outcome import Accepted
from taskchart.runtime.snapshots import restore, snapshot
from taskchart.runtime.turns import unmatched
from taskchart.statecharts import (
    Confirmation,
    Field,
    InputHandler,
    NoInput,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts import NoMatch as NoMatchFailure
from taskchart.statecharts.prebuilt.gallery import GALLERY

from .helpers import SILENCE

UNMATCHED = InputHandler(prompts=["Sorry?", "Your account number, please."], max_retries=1)


def account(**handlers: InputHandler) -> Interpreter:
    spec = declarative_task(
        "account",
        fields=[Field("number", int)],
        confirmation=Confirmation.NEVER,
        **handlers,  # type: ignore[arg-type]
    )
    flow = Interpreter(compile_chart(spec))
    flow.start()
    return flow


def said(outcome: object) -> list[str]:
    assert isinstance(outcome, Accepted), outcome
    return [e.instructions for e in outcome.effects if isinstance(e, Instruct)]


def test_the_short_form_is_a_no_input_handler_and_the_handler_fills_the_short_form() -> None:
    short = declarative_task("a", fields=[Field("a")], no_input_timeout=4.0, max_reprompts=1)
    assert short.no_input == InputHandler(timeout=4.0, max_retries=1)
    long = declarative_task("a", fields=[Field("a")], no_input=SILENCE)
    assert (long.no_input_timeout, long.max_reprompts) == (5.0, 2)
    with pytest.raises(ValueError, match="needs its timeout"):
        declarative_task("a", fields=[Field("a")], no_input=InputHandler())


def test_prebuilt_tasks_declare_no_handler() -> None:
    for name, factory in GALLERY.items():
        if name == "menu_task":  # new, and a menu is made of its handlers
            continue
        made = factory()
        for spec in made if isinstance(made, list) else [made]:
            assert (spec.no_input, spec.no_match, spec.route_table) == (None, None, {})


def test_the_no_input_timer_waits_for_the_prompt_and_stops_when_the_caller_speaks() -> None:
    flow = account(no_input=SILENCE)
    assert flow.timers == {"account.no_input": 5.0}  # armed on entry, as before
    assert flow.handle(AgentSpeaking(True)).effects == (CancelTimer("account.no_input"),)
    assert flow.timers == {}
    assert flow.handle(AgentSpeaking(False)).effects == (StartTimer("account.no_input", 5.0),)
    assert flow.handle(UserSpeaking()).effects == (CancelTimer("account.no_input"),)
    assert flow.handle(UserSpeaking()).effects == ()  # nothing runs: nothing to stop


def test_silence_escalates_through_the_prompts_then_fails_with_no_input() -> None:
    flow = account(no_input=SILENCE)
    first = flow.handle(TimerFired("account.no_input"))
    assert said(first) == ['Say exactly: "Sorry, I didn\'t hear you."']
    assert flow.model.reprompts == {"account": 1}
    flow.handle(AgentSpeaking(False))
    assert said(flow.handle(TimerFired("account.no_input"))) == [
        'Say exactly: "Please say or key in your account number."'
    ]
    assert snapshot(flow)["reprompts"] == {"account": 2}
    flow.handle(AgentSpeaking(False))
    flow.handle(TimerFired("account.no_input"))
    assert flow.done and flow.error == NoInput("account", "the user did not answer")


def test_the_caller_away_counts_as_no_input() -> None:
    flow = account(no_input=SILENCE)
    flow.handle(UserAway())
    assert flow.model.reprompts == {"account": 1}
    outcome = account().handle(UserAway())
    assert isinstance(outcome, Rejected) and outcome.code == "unexpected"


def test_unmatched_turns_escalate_then_fail_with_no_match() -> None:
    flow = account(no_match=UNMATCHED)
    assert said(flow.handle(NoMatch())) == ['Say exactly: "Sorry?"']
    assert flow.model.no_matches == {"account": 1}
    flow.handle(NoMatch("refused"))
    assert flow.done
    assert flow.error == NoMatchFailure("account", "nothing the user answered matched")
    assert type(flow.error) is NoMatchFailure


def test_the_last_prompt_repeats_and_no_prompts_use_the_default_words() -> None:
    flow = account(no_match=InputHandler(prompts=["Once.", "Again."], max_retries=4))
    texts = [said(flow.handle(NoMatch()))[0] for _ in range(4)]
    assert texts == ['Say exactly: "Once."'] + ['Say exactly: "Again."'] * 3
    plain = account(no_match=InputHandler(max_retries=1))
    assert said(plain.handle(NoMatch())) == [
        "The user's answer did not give the account. Ask again for their account."
    ]


def test_counters_reset_when_the_step_completes_and_survive_a_snapshot() -> None:
    flow = account(no_match=UNMATCHED, no_input=SILENCE)
    flow.handle(NoMatch())
    flow.handle(TimerFired("account.no_input"))
    again = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    assert (again.model.no_matches, again.model.reprompts) == ({"account": 1}, {"account": 1})
    assert again.handle(ToolCalled("update_account", {"number": "42"})).ok
    assert (again.model.no_matches, again.model.reprompts) == ({}, {})
    assert again.result == {"number": 42}


def test_max_retries_zero_gives_up_at_the_first_failure() -> None:
    flow = account(no_match=InputHandler(max_retries=0))
    flow.handle(NoMatch())
    assert type(flow.error) is NoMatchFailure


def group_with_operator(exit: str = "operator") -> Interpreter:
    ask = declarative_task(
        "account",
        fields=[Field("number", int)],
        confirmation=Confirmation.NEVER,
        no_match=InputHandler(max_retries=1, exit=exit),
    )
    other = declarative_task("reason", fields=[Field("reason")], confirmation=Confirmation.NEVER)
    operator = declarative_task("operator", fields=[Field("note")], confirmation=Confirmation.NEVER)
    flow = Interpreter(compile_chart([ask, other, operator]))
    flow.start()
    return flow


def test_giving_up_takes_the_declared_exit_and_the_flow_ends_after_it() -> None:
    flow = group_with_operator()
    flow.handle(NoMatch())
    flow.handle(NoMatch())
    assert flow.active_task == "operator" and not flow.done
    assert flow.handle(ToolCalled("update_operator", {"note": "transferred"})).ok
    assert flow.done and flow.error is None
    assert flow.results["account"] == NoMatchFailure("account", "nothing the user answered matched")
    assert flow.results["operator"] == {"note": "transferred"}
    assert "reason" not in flow.results  # the exit ends the flow


def test_an_exit_task_is_not_run_in_order() -> None:
    flow = group_with_operator()
    flow.handle(ToolCalled("update_account", {"number": "7"}))
    flow.handle(ToolCalled("update_reason", {"reason": "lost card"}))
    assert flow.done and set(flow.results) == {"account", "reason"}
    assert restore(flow.chart, json.loads(json.dumps(snapshot(flow)))).done


def test_an_exit_to_no_task_fails_the_task_instead() -> None:
    flow = group_with_operator(exit="nobody")
    flow.handle(NoMatch())
    flow.handle(NoMatch())
    assert flow.done and type(flow.error) is NoMatchFailure


def test_new_events_round_trip_through_json() -> None:
    for event in (AgentSpeaking(True), UserSpeaking(), UserAway(), NoMatch("refused")):
        assert event_from_json(event.to_json()) == event
    with pytest.raises(ValueError, match="speaking must be true or false"):
        event_from_json({"type": "AgentSpeaking", "speaking": "yes"})


def test_a_turn_is_unmatched_without_a_step_tool_or_with_only_a_refused_value() -> None:
    flow = account(no_match=UNMATCHED)
    assert unmatched(flow, [], []) == NoMatch("unmatched")
    call = ToolCalled("update_account", {"number": "many"})
    refused = flow.handle(call)
    assert isinstance(refused, Rejected) and refused.code == "invalid_argument"
    assert unmatched(flow, [call], [refused]) == NoMatch("refused")
    good = ToolCalled("update_account", {"number": "12"})
    assert unmatched(flow, [call, good], [refused, flow.handle(good)]) is None
    assert unmatched(account(), [], []) is None  # no no-match handling declared
