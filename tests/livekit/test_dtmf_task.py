"""GetDtmfTask with real ``sip_dtmf_received`` room events on a simulated clock."""

from __future__ import annotations

from typing import Any

import pytest
from livekit import rtc
from livekit.rtc._proto import participant_pb2
from taskchart.adapters.livekit import GetDtmfResult, GetDtmfTask, NoInputError, NoMatchError
from taskchart.adapters.livekit.testing import Call, OfflineSession, Request
from taskchart.runtime import SimulatedClock
from taskchart.statecharts import InputHandler, NoInput, NoMatch

from .prebuilt_helpers import Collector, by_user_line, elapse, outputs, unscripted


def participant(identity: str) -> rtc.RemoteParticipant:
    info = participant_pb2.ParticipantInfo(identity=identity, sid=f"PA_{identity}")
    return rtc.RemoteParticipant(participant_pb2.OwnedParticipant(info=info))


def task(clock: SimulatedClock, **kwargs: Any) -> Collector:
    return Collector(lambda: GetDtmfTask(clock=clock, **{"num_digits": 4, **kwargs}))


async def test_tones_complete_the_task_at_the_last_digit() -> None:
    clock = SimulatedClock()
    agent = Collector(lambda: GetDtmfTask(num_digits=10, clock=clock))
    async with unscripted(agent) as offline:
        await offline.dtmf("415555013")
        assert agent.result is None
        await offline.dtmf("2")
        assert agent.result == GetDtmfResult("4 1 5 5 5 5 0 1 3 2")
        assert clock.pending == 0  # no inter-key timer left behind


@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_confirmation_reads_the_digits_back_and_needs_a_repeat(modality: Any) -> None:
    clock = SimulatedClock()
    agent = task(clock, ask_for_confirmation=True)
    plan = {
        "yes that's right": Call("confirm_inputs", inputs=["1", "2", "3", "4"]),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        assert "confirm_inputs" in offline.llm.requests[0].tools  # LiveKit's one-call protocol
        await offline.dtmf("1234")
        readback = offline.llm.requests[-1]
        assert "<dtmf_inputs>1 2 3 4</dtmf_inputs>" in readback.instructions
        assert "confirm_inputs" in readback.tools
        assert agent.result is None
        await offline.say("yes that's right", modality=modality)
        assert agent.result == GetDtmfResult("1 2 3 4")


async def test_a_confirmation_with_other_digits_is_refused() -> None:
    clock = SimulatedClock()
    agent = task(clock, ask_for_confirmation=True)
    plan = {"yes": Call("confirm_inputs", inputs=["1", "2", "3", "5"])}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.dtmf("1234")
        turn = await offline.say("yes", modality="audio")
        assert "does not match" in outputs(turn)["confirm_inputs"].output
        assert agent.result is None


@pytest.mark.parametrize("end", ["stop key", "pause"])
async def test_with_max_retries_too_few_digits_reprompt(end: str) -> None:
    clock = SimulatedClock()
    agent = task(clock, max_retries=1)
    async with unscripted(agent) as offline:
        await offline.dtmf("12")
        before = len(offline.llm.requests)
        if end == "stop key":
            await offline.dtmf("#")
        else:
            await elapse(offline, clock, 3.9)
            assert len(offline.llm.requests) == before  # the pause is measured between tones
            await elapse(offline, clock, 0.1)
        assert "expected 4 digits, got 2" in offline.llm.requests[-1].instructions
        assert agent.result is None and agent.error is None
        await offline.dtmf("5678")
        assert agent.result == GetDtmfResult("5 6 7 8")


async def test_the_pause_restarts_with_every_tone() -> None:
    clock = SimulatedClock()
    agent = task(clock)
    async with unscripted(agent) as offline:
        for key in "123":
            await offline.dtmf(key)
            await elapse(offline, clock, 3.0)  # 9 s in all, but never 4 s between tones
        await offline.dtmf("4")
        assert agent.result == GetDtmfResult("1 2 3 4")


async def test_tones_from_another_participant_are_ignored() -> None:
    clock = SimulatedClock()
    agent = task(clock)
    caller, other = participant("caller"), participant("agent-transfer")
    async with unscripted(agent) as offline:
        await offline.dtmf("12", participant=caller)
        await offline.dtmf("99", participant=other)
        await offline.dtmf("34", participant=caller)
        assert agent.result == GetDtmfResult("1 2 3 4")


async def test_tones_arriving_while_a_reply_is_generated_are_kept() -> None:
    clock = SimulatedClock()
    agent = task(clock)
    room: list[rtc.Room] = []

    def reply(request: Request) -> str:
        if request.user_text == "hello":  # keys pressed while the model is still answering
            for key in "12":
                room[0].emit("sip_dtmf_received", rtc.SipDTMF(code=int(key), digit=key))
        return "Please enter your code."

    async with OfflineSession(agent=agent, llm=[reply] * 10) as offline:
        room.append(offline.room)
        await offline.say("hello")
        await offline.dtmf("34")
        assert agent.result == GetDtmfResult("1 2 3 4")


@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_spoken_digits_are_normalised_and_must_be_complete(modality: Any) -> None:
    clock = SimulatedClock()
    agent = task(clock)
    plan = {
        "one two three": Call("record_inputs", inputs=["one two three"]),
        "one two three oh": Call("record_inputs", inputs=["one", "two", "three", "oh"]),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("one two three", modality=modality)
        assert "Expected 4 digits, got 3" in outputs(turn)["record_inputs"].output
        await offline.say("one two three oh", modality=modality)
        assert agent.result == GetDtmfResult("1 2 3 0")


async def test_tones_after_completion_change_nothing() -> None:
    clock = SimulatedClock()
    agent = task(clock)
    async with unscripted(agent) as offline:
        await offline.dtmf("12345#")
        assert agent.result == GetDtmfResult("1 2 3 4")


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
    clock = SimulatedClock()
    agent = task(clock)
    async with unscripted(agent) as offline:
        await offline.spoke()
        await offline.user_state("away")
        await elapse(offline, clock, 600.0)
        assert len(offline.llm.requests) == 1 and agent.error is None
        await offline.dtmf("1234")
    assert agent.result == GetDtmfResult("1 2 3 4")


async def test_silence_after_the_prompt_reprompts_then_fails_with_no_input() -> None:
    clock = SimulatedClock()
    agent = task(clock, no_input=SILENCE)
    async with unscripted(agent) as offline:
        await offline.agent_state("speaking")  # the prompt plays: silence is not counted yet
        await elapse(offline, clock, 30.0)
        assert prompts_heard(offline) == []
        await offline.agent_state("listening")
        await elapse(offline, clock, 5.0)
        assert prompts_heard(offline) == [
            'Say exactly: "Sorry, I didn\'t hear you. Please key in your PIN."'
        ]
        assert agent.error is None
        await offline.spoke()
        await elapse(offline, clock, 5.0)
    assert isinstance(agent.error, NoInputError)
    assert agent.error.failure == NoInput("dtmf_inputs", "the user did not answer")


async def test_a_key_ends_the_silence_and_the_entry_completes_after_a_reprompt() -> None:
    clock = SimulatedClock()
    agent = task(clock, no_input=InputHandler(timeout=2.0, max_retries=1))
    async with unscripted(agent) as offline:
        await offline.spoke()
        await elapse(offline, clock, 2.0)
        assert "said nothing" in offline.llm.requests[-1].instructions
        await offline.spoke()
        await offline.dtmf("1")
        await elapse(
            offline, clock, 3.0
        )  # past the no-input timeout, within the keypad's 4 s pause
        assert agent.error is None
        await offline.dtmf("234")
    assert agent.result == GetDtmfResult("1 2 3 4")


async def test_input_timeout_is_the_short_form_of_no_input() -> None:
    clock = SimulatedClock()
    agent = task(clock, input_timeout=5.0)
    async with unscripted(agent) as offline:
        for _ in range(3):  # two re-prompts, then the task gives up
            await offline.spoke()
            await elapse(offline, clock, 5.0)
    assert isinstance(agent.error, NoInputError)
    assert GetDtmfTask(num_digits=4, input_timeout=5.0).spec.no_input == InputHandler(timeout=5.0)


async def test_spoken_digits_that_never_fit_end_with_no_match_when_asked_for() -> None:
    clock = SimulatedClock()
    unmatched = InputHandler(prompts=["Please say all four digits."], max_retries=1)
    agent = task(clock, no_match=unmatched)
    plan = {
        "one two": Call("record_inputs", inputs=["one two"]),
        "three": Call("record_inputs", inputs=["three"]),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("one two")
        assert prompts_heard(offline) == ['Say exactly: "Please say all four digits."']
        await offline.say("three")
    assert isinstance(agent.error, NoMatchError)
    assert agent.error.failure == NoMatch("dtmf_inputs", "nothing the user answered matched")


def test_silence_handling_is_given_once_with_a_timeout_and_no_exit() -> None:
    with pytest.raises(ValueError, match="input_timeout or no_input, not both"):
        GetDtmfTask(num_digits=4, input_timeout=5.0, no_input=SILENCE)
    with pytest.raises(ValueError, match="no_input needs a timeout"):
        GetDtmfTask(num_digits=4, no_input=InputHandler(max_retries=1))
    with pytest.raises(ValueError, match="routes"):
        GetDtmfTask(num_digits=4, no_input=InputHandler(timeout=5.0, exit="operator"))
