"""Menu charts: one menu, and nested menus as a flow (pure runtime, no LiveKit)."""

from __future__ import annotations

import json

import pytest
from taskchart.runtime import (
    AgentSpeaking,
    DtmfReceived,
    Interpreter,
    Outcome,
    SimulatedClock,
    StartTimer,
    TimerFired,
    ToolCalled,
    UserSpeaking,
    restore,
    snapshot,
)
from taskchart.runtime import NoMatch as NoMatchEvent
from taskchart.runtime.checks import check_chart
from taskchart.statecharts import (
    Confirmation,
    Field,
    InputHandler,
    NoInput,
    NoMatch,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts.prebuilt.menu import Menu, MenuResult, menu_flow, menu_spec


def started(chart_specs: object) -> Interpreter:
    flow = Interpreter(compile_chart(chart_specs))  # type: ignore[arg-type]
    flow.start()
    return flow


def silence(flow: Interpreter, task: str) -> Outcome:
    """The prompt ends, then its no-input timer runs out."""
    flow.handle(AgentSpeaking(False))
    return flow.handle(TimerFired(f"{task}.no_input"))


def test_a_wrong_key_counts_and_the_repeat_key_does_not() -> None:
    flow = started(menu_spec("Main.", {"1": "a", "2": "b"}, max_retries=1, repeat_key="#"))
    repeat = flow.handle(DtmfReceived("#"))
    assert repeat.ok and "asked to hear that again" in repeat.message
    assert flow.model.no_matches == {}
    flow.handle(DtmfReceived("7"))
    assert flow.model.no_matches == {"menu": 1} and flow.model.keys == {}
    flow.handle(DtmfReceived("8"))
    assert type(flow.error) is NoMatch


def test_a_spoken_key_that_is_no_option_is_refused_with_the_options() -> None:
    flow = started(menu_spec("Main.", {"1": "a", "2": "b"}))
    refused = flow.handle(ToolCalled("select_option", {"key": "9"}))
    assert not refused.ok and "the options are 1, 2" in refused.message
    assert flow.handle(ToolCalled("select_option", {"key": "2"})).ok
    assert flow.result == MenuResult("2", "b")


def test_menu_keys_are_keypad_keys() -> None:
    with pytest.raises(ValueError, match="single keypad keys"):
        menu_spec("Main.", {"10": "ten"})


def bank_menus() -> list:  # type: ignore[type-arg]
    balances = declarative_task("balances", fields=[Field("account")])
    operator = declarative_task("operator", fields=[Field("note")], confirmation=Confirmation.NEVER)
    menus = [
        Menu("main", "Main menu.", {"1": "deposits", "2": "cards"}, {"1": "deposits"}),
        Menu("deposits", "Deposits.", {"1": "balances", "2": "total"}, {"1": "balances"}),
    ]
    return menu_flow(menus, [balances], operator=operator, max_retries=1)


def test_nested_menus_route_to_submenus_tasks_and_back() -> None:
    flow = started(bank_menus())
    assert check_chart(flow.chart) == []
    flow.handle(DtmfReceived("1"))
    assert flow.active_task == "deposits"
    flow.handle(DtmfReceived("1"))
    assert flow.active_task == "balances"
    flow.handle(ToolCalled("update_balances", {"account": "checking"}))
    assert flow.active_task == "deposits"  # a task returns to its menu
    again = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    again.handle(DtmfReceived("*"))
    assert again.active_task == "main"
    again.handle(DtmfReceived("2"))
    assert again.done and again.results["main"] == MenuResult("2", "cards")


def test_a_nested_menu_that_gives_up_goes_to_the_operator() -> None:
    flow = started(bank_menus())
    flow.handle(DtmfReceived("1"))
    flow.handle(DtmfReceived("5"))
    flow.handle(DtmfReceived("6"))
    assert flow.active_task == "operator"
    flow.handle(ToolCalled("update_operator", {"note": "transferred"}))
    assert flow.done and flow.error is None
    assert type(flow.results["deposits"]) is NoMatch


def test_a_menu_s_failures_of_every_kind_share_one_retry_budget() -> None:
    flow = started(menu_spec("Main.", {"1": "a", "2": "b"}, max_retries=1, input_timeout=5.0))
    flow.handle(DtmfReceived("7"))  # a wrong key: the one re-prompt
    assert flow.model.no_matches == {"menu": 1}
    gave_up = silence(flow, "menu")  # then silence: the budget is spent
    assert gave_up.ok and type(flow.error) is NoInput
    assert flow.model.reprompts == {}


def test_a_silence_then_an_unmatched_answer_gives_up_with_no_match() -> None:
    flow = started(menu_spec("Main.", {"1": "a"}, max_retries=2, input_timeout=5.0))
    silence(flow, "menu")
    flow.handle(NoMatchEvent("unmatched"))
    assert (flow.model.reprompts, flow.model.no_matches) == ({"menu": 1}, {"menu": 1})
    flow.handle(NoMatchEvent("unmatched"))
    assert type(flow.error) is NoMatch


def test_task_handlers_keep_separate_counts() -> None:
    spec = declarative_task(
        "account",
        fields=[Field("number")],
        no_input=InputHandler(timeout=5.0, max_retries=1),
        no_match=InputHandler(max_retries=1),
    )
    flow = started(spec)
    flow.handle(NoMatchEvent("unmatched"))
    silence(flow, "account")
    assert flow.error is None
    assert (flow.model.reprompts, flow.model.no_matches) == ({"account": 1}, {"account": 1})


def test_a_restored_flow_keeps_a_menu_that_gave_up_and_its_exit() -> None:
    flow = started(bank_menus())
    for key in "177":  # deposits, then two wrong keys: the menu gives up
        flow.handle(DtmfReceived(key))
    assert flow.active_task == "operator"
    restored = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    assert type(restored.results["deposits"]) is NoMatch and restored.model.exited
    assert restored.handle(ToolCalled("update_operator", {"note": "transferred"})).ok
    assert restored.result is not None and restored.error is None


def test_a_one_key_menu_has_no_half_typed_entry_and_no_key_pause() -> None:
    chart = compile_chart(menu_spec("Main.", {"1": "a", "2": "b"}))
    keyed = [r for r in chart.transitions if r.event in ("dtmf", "keys_timeout")]
    assert [r.actions for r in keyed if "press_key" in r.actions] == [
        ("press_key", "take_keys", "complete_task")  # a key is the whole entry
    ]
    assert not [r for r in keyed if r.event == "keys_timeout"]
    assert check_chart(chart) == []


def test_no_input_deadline_follows_speech_and_survives_a_restore() -> None:
    clock = SimulatedClock()
    chart = compile_chart(menu_spec("Main menu.", {"1": "a", "2": "b"}, input_timeout=5.0))
    flow = Interpreter(chart, clock=clock.now)
    flow.start()
    clock.advance(1)
    flow.handle(AgentSpeaking(True))
    assert flow.deadlines == {}
    clock.advance(30)
    flow.handle(AgentSpeaking(False))
    assert flow.deadlines == {"menu.no_input": clock.now() + 5.0}
    clock.advance(1)
    again = restore(chart, snapshot(flow), clock=clock.now)
    starts = [e for e in again.start() if isinstance(e, StartTimer)]
    assert [(e.timer_id, e.seconds) for e in starts] == [("menu.no_input", 4.0)]
    flow.handle(UserSpeaking())
    assert flow.timers == {} and flow.deadlines == {}
