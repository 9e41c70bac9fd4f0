"""The generated machine's built-in invariants find an interpreter that breaks them."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, StartTimer, ToolCalled
from taskchart.runtime.outcome import Accepted, Outcome, RejectCode, Rejected
from taskchart.runtime.testing import explore, flow_state_machine
from taskchart.statecharts import Field, InputHandler, compile_chart, declarative_task


def _explore_with(monkeypatch: pytest.MonkeyPatch, chart: Any, change: Any) -> None:
    real = Interpreter.handle

    def changed(self: Interpreter, event: Any) -> Outcome:
        return change(self, event, real(self, event))

    monkeypatch.setattr(Interpreter, "handle", changed)
    explore(chart, max_examples=100, step_count=40, shrink=False)


TIMED = compile_chart(
    declarative_task("name", fields=[Field("name")], no_input_timeout=5.0, max_reprompts=2)
)


def test_a_timer_that_no_effect_started_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interpreter restarts a timer without telling the adapter (no StartTimer)."""

    def silent(flow: Interpreter, event: Any, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Accepted) and not flow.done:
            kept = tuple(e for e in outcome.effects if not isinstance(e, StartTimer))
            return attrs.evolve(outcome, effects=kept)
        return outcome

    with pytest.raises(AssertionError, match=r"but the effects left \[\] running"):
        _explore_with(monkeypatch, TIMED, silent)


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("unknown_tool", r"is a tool of the chart but was refused as unknown"),
        ("superseded", r"was superseded outside a batch"),
    ],
)
def test_a_not_enabled_tool_refused_with_another_code_is_found(
    monkeypatch: pytest.MonkeyPatch, code: RejectCode, found: str
) -> None:
    """A tool of the chart that is not enabled now refused as unknown, or as superseded
    though it came alone."""

    def recoded(flow: Interpreter, event: Any, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Rejected) and outcome.code == "not_enabled":
            return Rejected(code, outcome.message, outcome.event)
        return outcome

    with pytest.raises(AssertionError, match=found):
        _explore_with(monkeypatch, interview_chart, recoded)


def test_a_tool_offered_twice_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Interpreter.tools

    def doubled(self: Interpreter) -> tuple[str, ...]:
        tools = real.fget(self)  # type: ignore[attr-defined]
        return tools + tools[:1] if self.active_task == "email_task" else tools

    monkeypatch.setattr(Interpreter, "tools", property(doubled))
    machine = flow_state_machine(interview_chart)
    flow = machine()
    with pytest.raises(AssertionError, match=r"email_task offers .*a tool twice"):
        flow.send(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))


UNMATCHED = compile_chart(
    [
        declarative_task(
            "account",
            fields=[Field("number", int)],
            no_match=InputHandler(prompts=["Sorry?"], max_retries=1),
        ),
        declarative_task("name", fields=[Field("name")]),
    ]
)


@pytest.mark.parametrize(
    ("task", "count", "found"),
    [
        ("name", 1, r"name: 1 no_match re-prompts without a handler"),
        ("account", 2, r"account: 2 no_match re-prompts, the limit is 1"),
    ],
)
def test_a_re_prompt_counter_out_of_bounds_is_found(
    monkeypatch: pytest.MonkeyPatch, task: str, count: int, found: str
) -> None:
    """The interpreter counts a no-match for a step that has no handler for it, or past
    the handler's limit."""

    def miscounted(flow: Interpreter, event: Any, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Accepted) and flow.active_task == task:
            flow.model.no_matches[task] = count
        return outcome

    with pytest.raises(AssertionError, match=found):
        _explore_with(monkeypatch, UNMATCHED, miscounted)


def test_a_refusal_that_quotes_a_private_value_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interpreter's refusals quote what the model sent, private fields included."""

    def echoing(flow: Interpreter, event: Any, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Rejected) and isinstance(event, ToolCalled):
            sent = event.arguments if isinstance(event.arguments, dict) else {}
            quoted = " ".join(v for v in sent.values() if isinstance(v, str) and len(v) < 40)
            return Rejected(outcome.code, f"{outcome.message} (got {quoted})", outcome.event)
        return outcome

    private = compile_chart(declarative_task("name", fields=[Field("name", pii=True)]))
    with pytest.raises(AssertionError, match=r"a refusal of 'update_name' quotes the private name"):
        _explore_with(monkeypatch, private, echoing)
