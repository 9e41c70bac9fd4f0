"""The public strategies of a flow's position generate what they promise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, Rejected, ToolCalled
from taskchart.runtime.testing import (
    batches,
    disabled_calls,
    enabled_calls,
    invalid_calls,
    timer_firings,
)
from taskchart.statecharts import Field, compile_chart, declarative_task

VALUES = {"email_address": st.just("ada@example.com")}


def at_email() -> Interpreter:
    flow = Interpreter(interview_chart())
    flow.start()
    assert flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"})).ok
    return flow


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_enabled_calls_are_accepted_and_the_others_refused(data: st.DataObject) -> None:
    flow = at_email()
    assert flow.handle(data.draw(enabled_calls(flow, VALUES))).ok
    flow = at_email()
    assert isinstance(flow.handle(data.draw(invalid_calls(flow))), Rejected)
    assert isinstance(flow.handle(data.draw(disabled_calls(flow, VALUES))), Rejected)
    turn = data.draw(batches(flow, VALUES))
    assert len(turn) >= 1 and all(isinstance(e, ToolCalled) for e in turn)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_timer_firings_name_a_running_timer(data: st.DataObject) -> None:
    chart = compile_chart(declarative_task("name", fields=[Field("name")], no_input_timeout=5))
    flow = Interpreter(chart)
    flow.start()
    event = data.draw(timer_firings(flow))
    assert event.timer_id in flow.timers and flow.handle(event).ok


def test_calls_draw_the_values_of_a_strategy_of_your_own() -> None:
    """A field's own strategy is drawn from inside a running test, not sampled once."""
    seen: set[str] = set()
    emails = st.from_regex(r"[a-z]{3,8}@example\.com", fullmatch=True)

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(data=st.data())
    def calls(data: st.DataObject) -> None:
        flow = at_email()
        event = data.draw(enabled_calls(flow, {"email_address": emails}))
        assert isinstance(event, ToolCalled) and flow.handle(event).ok
        if event.name == "update_email_address":
            seen.add(event.arguments["email"])

    calls()
    assert len(seen) > 5
    assert all(e.endswith("@example.com") for e in seen)
