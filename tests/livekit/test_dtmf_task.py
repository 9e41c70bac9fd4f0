"""GetDtmfTask with real ``sip_dtmf_received`` room events on a simulated clock."""

from __future__ import annotations

from typing import Any

import pytest
from livekit import rtc
from livekit.rtc._proto import participant_pb2
from taskchart.adapters.livekit import GetDtmfResult, GetDtmfTask, NoInputError, NoMatchError
from taskchart.adapters.livekit.testing import Call, OfflineSession, Request, ScriptedLLM
from taskchart.runtime import SimulatedClock
from taskchart.statecharts import InputHandler, NoInput, NoMatch

from .prebuilt_helpers import Collector, TimedSession, outputs


def participant(identity: str) -> rtc.RemoteParticipant:
    info = participant_pb2.ParticipantInfo(identity=identity, sid=f"PA_{identity}")
    return rtc.RemoteParticipant(participant_pb2.OwnedParticipant(info=info))


def task(clock: SimulatedClock, **kwargs: Any) -> Collector:
    return Collector(lambda: GetDtmfTask(clock=clock, **{"num_digits": 4, **kwargs}))


async def test_tones_complete_the_task_at_the_last_digit() -> None:
    async with TimedSession(task, num_digits=10) as call:
        await call.dtmf("415555013")
        assert call.agent.result is None
        await call.dtmf("2")
        assert call.agent.result == GetDtmfResult("4 1 5 5 5 5 0 1 3 2")
        assert call.clock.pending == 0  # no inter-key timer left behind


@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_confirmation_reads_the_digits_back_and_needs_a_repeat(modality: Any) -> None:
    plan = {
        "yes that's right": Call("confirm_inputs", inputs=["1", "2", "3", "4"]),
    }
    async with TimedSession(task, plan=plan, ask_for_confirmation=True) as call:
        assert "confirm_inputs" in call.llm.requests[0].tools  # LiveKit's one-call protocol
        await call.dtmf("1234")
        readback = call.llm.requests[-1]
        assert "<dtmf_inputs>1 2 3 4</dtmf_inputs>" in readback.instructions
        assert "confirm_inputs" in readback.tools
        assert call.agent.result is None
        await call.say("yes that's right", modality=modality)
        assert call.agent.result == GetDtmfResult("1 2 3 4")


async def test_a_confirmation_with_other_digits_is_refused() -> None:
    plan = {"yes": Call("confirm_inputs", inputs=["1", "2", "3", "5"])}
    async with TimedSession(task, plan=plan, ask_for_confirmation=True) as call:
        await call.dtmf("1234")
        turn = await call.say("yes", modality="audio")
        assert "does not match" in outputs(turn)["confirm_inputs"].output
        assert call.agent.result is None


@pytest.mark.parametrize("end", ["stop key", "pause"])
async def test_with_max_retries_too_few_digits_reprompt(end: str) -> None:
    async with TimedSession(task, max_retries=1) as call:
        await call.dtmf("12")
        before = len(call.llm.requests)
        if end == "stop key":
            await call.dtmf("#")
        else:
            await call.elapse(3.9)
            assert len(call.llm.requests) == before  # the pause is measured between tones
            await call.elapse(0.1)
        assert "expected 4 digits, got 2" in call.llm.requests[-1].instructions
        assert call.agent.result is None and call.agent.error is None
        await call.dtmf("5678")
        assert call.agent.result == GetDtmfResult("5 6 7 8")


async def test_the_pause_restarts_with_every_tone() -> None:
    async with TimedSession(task) as call:
        for key in "123":
            await call.dtmf(key)
            await call.elapse(3.0)  # 9 s in all, but never 4 s between tones
        await call.dtmf("4")
        assert call.agent.result == GetDtmfResult("1 2 3 4")


async def test_tones_from_another_participant_are_ignored() -> None:
    caller, other = participant("caller"), participant("agent-transfer")
    async with TimedSession(task) as call:
        await call.dtmf("12", participant=caller)
        await call.dtmf("99", participant=other)
        await call.dtmf("34", participant=caller)
        assert call.agent.result == GetDtmfResult("1 2 3 4")


async def test_tones_arriving_while_a_reply_is_generated_are_kept() -> None:
    room: list[rtc.Room] = []

    def reply(request: Request) -> str:
        if request.user_text == "hello":  # keys pressed while the model is still answering
            for key in "12":
                room[0].emit("sip_dtmf_received", rtc.SipDTMF(code=int(key), digit=key))
        return "Please enter your code."

    async with TimedSession(task, llm=ScriptedLLM([reply] * 10)) as call:
        room.append(call.room)
        await call.say("hello")
        await call.dtmf("34")
        assert call.agent.result == GetDtmfResult("1 2 3 4")


@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_spoken_digits_are_normalised_and_must_be_complete(modality: Any) -> None:
    plan = {
        "one two three": Call("record_inputs", inputs=["one two three"]),
        "one two three oh": Call("record_inputs", inputs=["one", "two", "three", "oh"]),
    }
    async with TimedSession(task, plan=plan) as call:
        turn = await call.say("one two three", modality=modality)
        assert "Expected 4 digits, got 3" in outputs(turn)["record_inputs"].output
        await call.say("one two three oh", modality=modality)
        assert call.agent.result == GetDtmfResult("1 2 3 0")


async def test_tones_after_completion_change_nothing() -> None:
    async with TimedSession(task) as call:
        await call.dtmf("12345#")
        assert call.agent.result == GetDtmfResult("1 2 3 4")


def test_num_digits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="num_digits must be greater than 0"):
        GetDtmfTask(num_digits=0)


SILENCE = InputHandler(
    timeout=5.0, prompts=["Sorry, I didn't hear you. Please key in your PIN."], max_retries=1
)


def prompts_heard(offline: OfflineSession) -> list[str]:
    """The re-prompts the model was told to say (the last line of its instructions)."""
    said = [r.instructions.rsplit("\n", 1)[-1] for r in offline.llm.requests]
    return [line for line in said if line.startswith("Say exactly")]


async def test_silence_is_waited_for_by_default_as_in_livekit() -> None:
    async with TimedSession(task) as call:
        await call.spoke()
        await call.user_state("away")
        await call.elapse(600.0)
        assert len(call.llm.requests) == 1 and call.agent.error is None
        await call.dtmf("1234")
    assert call.agent.result == GetDtmfResult("1 2 3 4")


async def test_silence_after_the_prompt_reprompts_then_fails_with_no_input() -> None:
    async with TimedSession(task, no_input=SILENCE) as call:
        await call.agent_state("speaking")  # the prompt plays: silence is not counted yet
        await call.elapse(30.0)
        assert prompts_heard(call) == []
        await call.agent_state("listening")
        await call.elapse(5.0)
        assert prompts_heard(call) == [
            'Say exactly: "Sorry, I didn\'t hear you. Please key in your PIN."'
        ]
        assert call.agent.error is None
        await call.silence(5.0)
    assert call.failure(NoInputError) == NoInput("dtmf_inputs", "the user did not answer")


async def test_a_key_ends_the_silence_and_the_entry_completes_after_a_reprompt() -> None:
    async with TimedSession(task, no_input=InputHandler(timeout=2.0, max_retries=1)) as call:
        await call.silence(2.0)
        assert "said nothing" in call.llm.requests[-1].instructions
        await call.spoke()
        await call.dtmf("1")
        await call.elapse(3.0)  # past the no-input timeout, within the keypad's 4 s pause
        assert call.agent.error is None
        await call.dtmf("234")
    assert call.agent.result == GetDtmfResult("1 2 3 4")


async def test_input_timeout_is_the_short_form_of_no_input() -> None:
    async with TimedSession(task, input_timeout=5.0) as call:
        for _ in range(3):  # two re-prompts, then the task gives up
            await call.silence(5.0)
    assert call.failure(NoInputError) == NoInput("dtmf_inputs", "the user did not answer")
    assert GetDtmfTask(num_digits=4, input_timeout=5.0).spec.no_input == InputHandler(timeout=5.0)


async def test_spoken_digits_that_never_fit_end_with_no_match_when_asked_for() -> None:
    unmatched = InputHandler(prompts=["Please say all four digits."], max_retries=1)
    plan = {
        "one two": Call("record_inputs", inputs=["one two"]),
        "three": Call("record_inputs", inputs=["three"]),
    }
    async with TimedSession(task, plan=plan, no_match=unmatched) as call:
        await call.say("one two")
        assert prompts_heard(call) == ['Say exactly: "Please say all four digits."']
        await call.say("three")
    assert call.failure(NoMatchError) == NoMatch("dtmf_inputs", "nothing the user answered matched")


def test_silence_handling_is_given_once_with_a_timeout_and_no_exit() -> None:
    with pytest.raises(ValueError, match="input_timeout or no_input, not both"):
        GetDtmfTask(num_digits=4, input_timeout=5.0, no_input=SILENCE)
    with pytest.raises(ValueError, match="no_input needs a timeout"):
        GetDtmfTask(num_digits=4, no_input=InputHandler(max_retries=1))
    with pytest.raises(ValueError, match="routes"):
        GetDtmfTask(num_digits=4, no_input=InputHandler(timeout=5.0, exit="operator"))
