"""No-input and no-match handling bound to a real offline AgentSession's own events."""

from __future__ import annotations

import pytest
from taskchart.adapters.livekit import ChartTask, NoInputError, NoMatchError
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.runtime import SimulatedClock
from taskchart.statecharts import (
    Confirmation,
    Field,
    InputHandler,
    NoInput,
    NoMatch,
    declarative_task,
)

from ..helpers import SILENCE
from .prebuilt_helpers import Collector, TimedSession

UNMATCHED = InputHandler(
    prompts=["Sorry, I didn't get that.", "Please say just your account number."],
    max_retries=2,
)


def account_task(clock: SimulatedClock, **handlers: InputHandler) -> Collector:
    spec = declarative_task(
        "account",
        fields=[Field("number", int)],
        confirmation=Confirmation.NEVER,
        instructions="Ask for the caller's account number.",
        **handlers,  # type: ignore[arg-type]
    )
    return Collector(lambda: ChartTask(spec, clock=clock))


def prompts_heard(offline: OfflineSession) -> list[str]:
    return [r.instructions for r in offline.llm.requests if "Say exactly" in r.instructions]


async def test_silence_after_the_prompt_escalates_then_fails_with_no_input() -> None:
    async with TimedSession(account_task, no_input=SILENCE) as call:
        await call.agent_state("speaking")  # the prompt plays: silence is not counted
        await call.elapse(30.0)
        assert prompts_heard(call) == []
        await call.agent_state("listening")  # the prompt ended: the timer starts
        await call.elapse(4.9)
        assert prompts_heard(call) == []
        await call.elapse(0.1)
        assert prompts_heard(call)[-1].endswith('"Sorry, I didn\'t hear you."')
        await call.spoke()
        await call.user_state("speaking")  # the caller starts to answer: no timer
        await call.elapse(60.0)
        assert len(prompts_heard(call)) == 1
        await call.user_state("listening")
        await call.silence(5.0)
        assert prompts_heard(call)[-1].endswith('"Please say or key in your account number."')
        await call.silence(5.0)
    assert call.failure(NoInputError) == NoInput("account", "the user did not answer")


async def test_the_caller_away_counts_as_no_input() -> None:
    no_input = InputHandler(timeout=5.0, max_retries=1)
    async with TimedSession(account_task, no_input=no_input) as call:
        await call.user_state("away")
        assert "said nothing" in call.llm.requests[-1].instructions
        await call.user_state("listening")
        await call.user_state("away")
    assert call.failure(NoInputError) == NoInput("account", "the user did not answer")


async def test_turns_the_model_answers_without_the_step_tool_escalate_then_fail() -> None:
    async with TimedSession(account_task, no_match=UNMATCHED) as call:
        await call.say("what's the weather like?")  # the model answers in text only
        assert prompts_heard(call)[-1].endswith('"Sorry, I didn\'t get that."')
        await call.say("I like turtles")
        assert prompts_heard(call)[-1].endswith('"Please say just your account number."')
        assert call.agent.error is None
        await call.say("no idea")
    assert call.failure(NoMatchError) == NoMatch("account", "nothing the user answered matched")


async def test_a_refused_value_counts_as_a_no_match() -> None:
    plan = {
        "it's blue": Call("update_account", number="blue"),
        "one two three": Call("update_account", number=123),
    }
    async with TimedSession(account_task, plan=plan, no_match=UNMATCHED) as call:
        await call.say("it's blue")
        assert len(prompts_heard(call)) == 1
        await call.say("one two three")
    assert call.agent.result == {"number": 123}


async def test_a_step_without_handlers_ignores_the_call_events() -> None:
    async with TimedSession(account_task) as call:
        await call.user_state("away")
        await call.say("what?")
        await call.elapse(600.0)
        assert prompts_heard(call) == []
        assert call.agent.error is None and call.agent.result is None


#: name: (state changes of the call, a silence that must not count, the change that makes
#: silence count again, the silence that then fails the step)
PAUSES: dict[str, tuple[list[tuple[str, str]], float, list[tuple[str, str]], float]] = {
    "a_caller_who_barges_in_is_not_timed_while_still_speaking": (
        [
            ("agent", "speaking"),  # the prompt plays
            ("user", "speaking"),  # the caller barges in
            ("agent", "listening"),  # the prompt is cut: the caller still talks
        ],
        30.0,
        [("user", "listening")],  # the caller stops: now silence counts
        4.0,
    ),
    "a_false_start_restarts_the_no_input_timer": (
        [
            ("agent", "speaking"),
            ("agent", "listening"),
            ("user", "speaking"),  # a cough: no words follow
            ("user", "listening"),
        ],
        3.9,
        [],
        0.1,
    ),
    "the_agent_thinking_stops_the_no_input_timer": (
        [
            ("agent", "speaking"),
            ("agent", "listening"),
            ("agent", "thinking"),  # a reply is on its way
        ],
        30.0,
        [("agent", "listening")],  # it came to nothing: silence counts again
        4.0,
    ),
}


async def change(offline: OfflineSession, changes: list[tuple[str, str]]) -> None:
    for who, state in changes:
        await (offline.agent_state if who == "agent" else offline.user_state)(state)


@pytest.mark.parametrize(
    ("before", "not_counted", "after", "counted"), PAUSES.values(), ids=list(PAUSES)
)
async def test_the_no_input_timer_runs_only_while_nobody_holds_the_floor(
    before: list[tuple[str, str]],
    not_counted: float,
    after: list[tuple[str, str]],
    counted: float,
) -> None:
    no_input = InputHandler(timeout=4.0, max_retries=0)
    async with TimedSession(account_task, no_input=no_input) as call:
        await change(call, before)
        await call.elapse(not_counted)
        assert call.agent.error is None and prompts_heard(call) == []
        await change(call, after)
        await call.elapse(counted)
    assert call.failure(NoInputError) == NoInput("account", "the user did not answer")
