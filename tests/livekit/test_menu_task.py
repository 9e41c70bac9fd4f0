"""MenuTask and nested menus in a real offline AgentSession: tones, speech, silence, exits."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit import rtc
from livekit.agents import llm
from taskchart.adapters.livekit import (
    AgentTask,
    MenuResult,
    MenuTask,
    NoInputError,
    NoMatchError,
    TaskGroup,
)
from taskchart.adapters.livekit.testing import Call, OfflineSession, ScriptedLLM
from taskchart.runtime import SimulatedClock
from taskchart.statecharts import NoInput, NoMatch

from .prebuilt_helpers import Collector, TimedSession, by_user_line

OPTIONS = {"1": "deposit accounts", "2": "credit cards", "9": "return to the main menu"}


def menu(clock: SimulatedClock, **kwargs: Any) -> Collector:
    return Collector(lambda: MenuTask(prompt="Main menu.", options=OPTIONS, clock=clock, **kwargs))


#: Why the main menu gives up: nothing matched, or nobody answered, through every re-prompt.
NO_MATCH = NoMatch("menu", "nothing the user answered matched")
NO_INPUT = NoInput("menu", "the user did not answer")


def options_read_again(offline: OfflineSession) -> int:
    return sum("Sorry, that is not an option" in r.instructions for r in offline.llm.requests)


async def test_a_tone_selects_at_once() -> None:
    async with TimedSession(menu) as call:
        assert "Press 2 for credit cards." in call.llm.requests[0].instructions
        await call.dtmf("2")
    assert call.agent.result == MenuResult("2", "credit cards")


async def test_a_spoken_choice_goes_through_select_option() -> None:
    plan = {"credit cards please": Call("select_option", key="2")}
    async with TimedSession(menu, plan=plan) as call:
        assert call.llm.requests[0].tools == ["select_option"]
        await call.say("credit cards please")
    assert (call.agent.result.key, call.agent.result.label) == ("2", "credit cards")


async def test_a_wrong_key_reads_the_options_again_then_gives_up() -> None:
    async with TimedSession(menu, max_retries=1) as call:
        await call.dtmf("7")
        assert options_read_again(call) == 1
        assert "Press 1 for deposit accounts." in call.llm.requests[-1].instructions
        await call.dtmf("5")
    assert call.failure(NoMatchError) == NO_MATCH


async def test_max_retries_zero_fails_at_the_first_wrong_key() -> None:
    async with TimedSession(menu, max_retries=0) as call:
        await call.dtmf("#")
        assert options_read_again(call) == 0
    assert call.failure(NoMatchError) == NO_MATCH


async def test_an_unmatched_answer_is_a_no_match_and_a_spoken_wrong_key_too() -> None:
    plan = {"the seventh one": Call("select_option", key="7")}
    async with TimedSession(menu, plan=plan, max_retries=2) as call:
        await call.say("what time is it?")  # the model answers in text only
        await call.say("the seventh one")  # refused: 7 is no option
        assert options_read_again(call) == 2
        await call.dtmf("1")
    assert call.agent.result == MenuResult("1", "deposit accounts")


async def test_silence_after_the_prompt_re_prompts_then_fails_with_no_input() -> None:
    async with TimedSession(menu, max_retries=1, input_timeout=4.0) as call:
        await call.silence(4.0)
        assert "didn't hear a choice" in call.llm.requests[-1].instructions
        await call.silence(4.0)
    assert call.failure(NoInputError) == NO_INPUT


async def test_a_wrong_key_and_a_silence_share_the_budget() -> None:
    async with TimedSession(menu, max_retries=1, input_timeout=4.0) as call:
        await call.dtmf("7")  # the one re-prompt
        assert options_read_again(call) == 1
        await call.silence(4.0)  # the failure after it gives up, with its own kind
    assert call.failure(NoInputError) == NO_INPUT


async def test_a_tone_during_the_prompt_interrupts_it_and_counts() -> None:
    async with TimedSession(menu) as call:
        await call.agent_state("speaking")
        await call.dtmf("9")
        assert call.agent.result == MenuResult("9", "return to the main menu")
        await call.elapse(60.0)  # no no-input timer outlives the task


class Operator(AgentTask[str]):
    def __init__(self) -> None:
        super().__init__(instructions="Transfer the caller to an operator.")

    async def on_enter(self) -> None:
        self.complete("transferred")


class Caller(Collector):
    """Runs a nested menu group: main -> deposits (with * back), operator on giving up."""

    def __init__(self, clock: SimulatedClock) -> None:
        def group() -> TaskGroup:
            g = TaskGroup(summarize_chat_ctx=False)
            exits = {"no_match": "operator", "no_input": "operator"}
            g.add(
                lambda: MenuTask(prompt="Main menu.", options=OPTIONS, max_retries=1, clock=clock),
                id="main",
                description="The main menu",
                routes={"1": "deposits", **exits},
            )
            g.add(
                lambda: MenuTask(
                    prompt="Deposit accounts.",
                    options={"1": "balances", "*": "the previous menu"},
                    max_retries=1,
                    clock=clock,
                ),
                id="deposits",
                description="The deposit accounts menu",
                routes={"*": "main", **exits},
            )
            g.add(Operator, id="operator", description="An operator")
            return g

        super().__init__(group)


async def test_nested_menus_go_back_with_star() -> None:
    async with TimedSession(Caller) as call:
        await call.dtmf("1")
        assert "Deposit accounts." in call.llm.requests[-1].instructions
        await call.dtmf("*")
        assert "Main menu." in call.llm.requests[-1].instructions
        await call.dtmf("2")
    assert call.agent.result.task_results == {
        "main": MenuResult("2", "credit cards"),
        "deposits": MenuResult("*", "the previous menu"),
    }


async def test_an_exhausted_menu_exits_to_the_operator() -> None:
    async with TimedSession(Caller) as call:
        await call.dtmf("1")
        await call.dtmf("5")
        await call.dtmf("6")
    results = call.agent.result.task_results
    assert results["operator"] == "transferred"
    assert isinstance(results["deposits"], NoMatchError)
    assert results["main"] == MenuResult("1", "deposit accounts")


class _HeldLLM(ScriptedLLM):
    """A scripted model whose answer to request ``held`` waits for :attr:`gate`."""

    def __init__(self, steps: list[Any], held: int) -> None:
        super().__init__(steps)
        self.held = held
        self.gate = asyncio.Event()

    def chat(self, **kwargs: Any) -> llm.LLMStream:
        stream = super().chat(**kwargs)
        if len(self.requests) - 1 == self.held:
            run = stream._run

            async def held() -> None:
                await self.gate.wait()
                await run()

            stream._run = held  # type: ignore[method-assign]
        return stream


async def test_an_interrupted_reply_is_not_a_no_match() -> None:
    plan = {"I want the credit cards": Call("select_option", key="2")}
    model = _HeldLLM(by_user_line(plan), held=1)  # the reply to the cut sentence
    async with TimedSession(menu, llm=model, max_retries=0, input_timeout=4.0) as call:
        call._context.run(call.session.run, user_input="I want the")
        await call.settle()
        call._context.run(call.session.interrupt)  # the caller goes on speaking
        await call.settle()
        assert call.agent.error is None
        model.gate.set()
        await call.say("I want the credit cards")
    assert call.agent.result == MenuResult("2", "credit cards")
    assert call.agent.error is None


async def test_a_wrong_key_during_a_reply_is_one_no_match() -> None:
    model = _HeldLLM(by_user_line({}), held=1)  # the reply to "um, hold on" is slow
    async with TimedSession(menu, llm=model, max_retries=1, input_timeout=4.0) as call:
        call._context.run(call.session.run, user_input="um, hold on")
        await call.settle()
        await call.dtmf("7")  # interrupts the reply still on its way
        model.gate.set()
        await call.settle()
        assert call.agent.error is None
        assert options_read_again(call) == 1


async def test_a_tone_that_is_no_key_leaves_the_reply_playing() -> None:
    model = _HeldLLM(by_user_line({}), held=1)  # the reply to "hello" is on its way
    async with TimedSession(menu, llm=model) as call:
        run = call._context.run(call.session.run, user_input="hello")
        await call.settle()
        for digit in ("", "x"):  # malformed SIP tones
            event = rtc.SipDTMF(code=0, digit=digit, participant=None)
            call._context.run(call.room.emit, "sip_dtmf_received", event)
            await call.settle()
        model.gate.set()
        await run
        await call.settle()
    replies = [e.item for e in run.events if e.type == "message"]
    assert [(m.text_content, m.interrupted) for m in replies] == [("Go on.", False)]
