"""The offline testing helpers, run against livekit-agents' own AgentTask and TaskGroup."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("livekit.agents")

from livekit import rtc
from livekit.agents import (
    Agent,
    RunContext,
    ToolError,
    function_tool,
    get_job_context,
)
from livekit.agents.beta.workflows import TaskGroup
from livekit.agents.beta.workflows.dtmf_inputs import GetDtmfTask
from livekit.agents.beta.workflows.task_group import TaskCompletedEvent
from taskchart.adapters.livekit import pytest_plugin, testing
from taskchart.adapters.livekit.testing import (
    Call,
    OfflineSession,
    OfflineSessionFactory,
    Request,
    ScriptedLLM,
    ScriptedLLMFactory,
    ScriptError,
    Step,
    Summary,
)

from .documented import as_documented

# --- the seed's recording-consent flow -------------------------------------------------

documented_consent = as_documented("consent")
CollectConsent = documented_consent.CollectConsent


class CustomerServiceAgent(documented_consent.CustomerServiceAgent):  # type: ignore[misc]
    """The documentation's agent, noting the answer, without ending the call (no room)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    async def on_enter(self) -> None:
        consent = await CollectConsent(chat_ctx=self.chat_ctx)
        self.log.append(f"consent={consent}")
        if consent:
            await self.session.generate_reply(instructions="Offer your assistance to the user.")
        else:
            await self.session.generate_reply(
                instructions="Inform the user that you are unable to proceed and will end the call."
            )


CONSENT_TOOLS = ["consent_denied", "consent_given"]


async def test_consent_given_lets_the_parent_continue(
    offline_session: OfflineSessionFactory,
) -> None:
    agent = CustomerServiceAgent()
    script: list[Step] = [
        "Hi! May I record this call?",
        Call("consent_given"),
        "How can I help you today?",
    ]
    offline = await offline_session(agent, script)
    offline.start_run.expect.contains_message(role="assistant")

    result = await offline.say("Yes, that's fine")

    result.expect.next_event().is_function_call(name="consent_given")
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_agent_handoff(new_agent_type=CustomerServiceAgent)
    reply = result.expect.next_event().is_message(role="assistant").event().item
    assert reply.text_content == "How can I help you today?"
    assert agent.log == ["consent=True"]
    requests = offline.llm.requests
    assert [r.tools for r in requests] == [CONSENT_TOOLS, CONSENT_TOOLS, []]
    assert requests[1].user_text == "Yes, that's fine"
    assert "Offer your assistance" in requests[2].instructions
    assert not any(r.is_summary for r in requests)
    offline.llm.assert_done()


async def test_consent_denied() -> None:
    agent = CustomerServiceAgent()
    script: list[Step] = [
        "May I record?",
        Call("consent_denied"),
        "Sorry, I can't continue. Goodbye.",
    ]
    async with OfflineSession(agent=agent, llm=script) as offline:
        result = await offline.say("No, please don't")
        result.expect.contains_function_call(name="consent_denied")
        assert agent.log == ["consent=False"]
        assert "unable to proceed" in offline.llm.requests[-1].instructions
        offline.llm.assert_done()


async def test_a_call_to_a_tool_not_offered_fails_loudly() -> None:
    agent = CustomerServiceAgent()
    async with OfflineSession(agent, ["May I record?", Call("transfer_to_human")]) as offline:
        with pytest.raises(ScriptError) as raised:
            await offline.say("Get me a human")
    message = str(raised.value)
    assert isinstance(raised.value, AssertionError)
    assert "script step 2 calls tool 'transfer_to_human', which was not offered" in message
    assert f"offered tools {CONSENT_TOOLS}" in message
    assert "'Get me a human'" in message
    assert agent.log == []


async def test_an_exhausted_script_fails_loudly() -> None:
    async with OfflineSession(CustomerServiceAgent(), ["May I record?"]) as offline:
        with pytest.raises(ScriptError, match=r"script exhausted after 1 step\(s\)") as raised:
            await offline.say("yes")
    assert f"offered tools {CONSENT_TOOLS}" in str(raised.value)
    with pytest.raises(ScriptError, match="the script failed"):
        offline.llm.assert_done()


class DeclineWithError(CollectConsent):  # type: ignore[misc]
    @function_tool
    async def consent_denied(self) -> None:
        """Use this when the user denies consent to record."""
        self.complete(ToolError("the user declined"))


class CarefulAgent(Agent):
    def __init__(self, *, says_goodbye: bool) -> None:
        super().__init__(instructions="You handle refusals.")
        self.says_goodbye = says_goodbye
        self.log: list[str] = []

    async def on_enter(self) -> None:
        try:
            await DeclineWithError()
        except ToolError as error:
            self.log.append(error.message)
        if self.says_goodbye:
            await self.session.generate_reply(instructions="Say goodbye.")


@pytest.mark.parametrize("says_goodbye", [True, False])
async def test_an_exception_given_to_complete_reaches_say_unless_the_parent_speaks(
    says_goodbye: bool,
) -> None:
    agent = CarefulAgent(says_goodbye=says_goodbye)
    script: list[Step] = ["May I record?", Call("consent_denied"), "Goodbye."]
    async with OfflineSession(agent, script[: 3 if says_goodbye else 2]) as offline:
        if says_goodbye:
            await offline.say("no")
        else:  # LiveKit makes the task's exception the turn's final output
            with pytest.raises(ToolError, match="the user declined"):
                await offline.say("no")
    assert agent.log == ["the user declined"]  # the awaiting code saw it either way
    offline.llm.assert_done()


# --- the seed's interview TaskGroup ---------------------------------------------------


interview = as_documented("interview")
IntroTask, CommuteTask = interview.IntroTask, interview.CommuteTask


class Interviewer(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are an interviewer.")
        self.completed: list[str] = []
        self.results: dict[str, Any] = {}

    async def on_enter(self) -> None:
        async def on_task_completed(event: TaskCompletedEvent) -> None:
            self.completed.append(event.task_id)

        group = TaskGroup(chat_ctx=self.chat_ctx, on_task_completed=on_task_completed)
        group.add(
            lambda: IntroTask(), id="intro_task", description="Collects name and introduction"
        )
        group.add(
            lambda: CommuteTask(), id="commute_task", description="Asks about commute flexibility"
        )
        self.results = (await group).task_results
        await self.session.generate_reply(instructions="Thank the candidate.")


def out_of_scope_targets(request: Request) -> list[str] | None:
    if "out_of_scope" not in request.tools:
        return None
    parameters = request.schema("out_of_scope")["function"]["parameters"]
    targets: list[str] = parameters["properties"]["task_ids"]["items"]["enum"]
    return targets


ANNA = interview.IntroResults(name="Anna", intro="backend engineer")
SUBWAY = interview.CommuteResults(can_commute=True, commute_method="subway")


def summary_of(agent: Agent) -> str:
    (summary,) = [
        m.text_content or "" for m in agent.chat_ctx.messages() if m.extra.get("is_summary")
    ]
    return summary


async def test_task_group_summary_is_answered_and_regression_reruns_the_intro(
    offline_session: OfflineSessionFactory, scripted_llm: ScriptedLLMFactory
) -> None:
    agent = Interviewer()
    llm = scripted_llm(
        [
            "Welcome! What's your name?",
            Call("record_intro", name="Ana", intro_notes="backend engineer"),
            Call("out_of_scope", task_ids=["intro_task"]),
            "Sure, what's your name?",
            Call("record_intro", name="Anna", intro_notes="backend engineer"),
            Call("record_commute_flexibility", can_commute=True, commute_method="subway"),
            "Thanks, Anna!",
        ]
    )
    offline = await offline_session(agent, llm, userdata=SimpleNamespace())
    await offline.say("I'm Ana, backend engineer")
    await offline.say("Actually my name is Anna, not Ana")
    await offline.say("Anna, backend engineer")
    await offline.say("Yes, by subway")

    assert agent.completed == ["intro_task", "intro_task", "commute_task"]
    assert agent.results == {"intro_task": ANNA, "commute_task": SUBWAY}
    assert offline.session.userdata.candidate_name == "Anna"
    summaries = [r for r in llm.requests if r.is_summary]
    assert len(summaries) == 1 and summaries[0].tools == []
    assert summaries[0].instructions.startswith(testing.SUMMARY_PROMPT)
    expected = (
        'The user said: "I\'m Ana, backend engineer"; "Actually my name is Anna, not Ana"; '
        '"Anna, backend engineer"; "Yes, by subway"'
    )
    assert expected in summary_of(agent)
    assert [out_of_scope_targets(r) for r in llm.requests if not r.is_summary] == [
        None,  # the intro's on_enter: nothing to go back to yet
        None,
        ["intro_task"],  # commute may go back to the intro
        None,  # the intro re-runs: its on_enter reply
        ["commute_task"],  # then the user's turn, with the visited commute task
        ["intro_task"],  # commute re-runs
        None,  # the interviewer, after the group
    ]
    assert "Thank the candidate" in llm.requests[-1].instructions
    llm.assert_done()


@pytest.mark.parametrize("explicit", [True, False], ids=["Summary-step", "summary-kwarg"])
async def test_task_group_summary_text_can_be_scripted(explicit: bool) -> None:
    text = "Anna, backend engineer, commutes by subway."
    steps: list[Step] = [
        "Welcome! What's your name?",
        Call("record_intro", name="Anna", intro_notes="backend engineer"),
        Call("record_commute_flexibility", can_commute=True, commute_method="subway"),
        "Thanks, Anna!",
    ]
    if explicit:
        steps.insert(3, Summary(text))
    llm = ScriptedLLM(steps, summary=None if explicit else text)
    agent = Interviewer()
    async with OfflineSession(agent, llm, userdata=SimpleNamespace()) as offline:
        await offline.say("I'm Anna, backend engineer")
        await offline.say("Yes, by subway")
    assert agent.results == {"intro_task": ANNA, "commute_task": SUBWAY}
    assert text in summary_of(agent)
    llm.assert_done()


async def test_a_summary_step_for_an_ordinary_request_fails_loudly() -> None:
    before = asyncio.all_tasks()
    offline = OfflineSession(CustomerServiceAgent(), [Summary("nope")])
    with pytest.raises(ScriptError, match=r"step 1 is Summary\(text='nope'\), but LLM request #0"):
        await offline.start()  # the first agent's on_enter already fails
    assert asyncio.all_tasks() - before == set()  # a failed start closes the session


# --- DTMF, audio, scripting details -----------------------------------------------------


class Keypad(Agent):
    """Listens to keypad tones on the job's room, as telephony agents do."""

    def __init__(self) -> None:
        super().__init__(instructions="You run a phone menu.")
        self.tones: list[tuple[str, int, rtc.RemoteParticipant | None]] = []

    async def on_enter(self) -> None:
        get_job_context().room.on("sip_dtmf_received", self._on_dtmf)

    async def on_exit(self) -> None:
        get_job_context().room.off("sip_dtmf_received", self._on_dtmf)

    def _on_dtmf(self, event: rtc.SipDTMF) -> None:
        self.tones.append((event.digit, event.code, event.participant))
        if event.digit == "#":
            dialed = "".join(digit for digit, _, _ in self.tones[:-1])
            self.session.generate_reply(instructions=f"The caller dialed {dialed}.")


async def test_dtmf_reaches_a_room_listener(offline_session: OfflineSessionFactory) -> None:
    agent = Keypad()
    offline = await offline_session(agent, ["You dialed one two three."])
    assert get_job_context(required=False) is None  # only the session's tasks see it
    await offline.dtmf("12")
    await offline.dtmf("3#")
    assert agent.tones == [("1", 1, None), ("2", 2, None), ("3", 3, None), ("#", 11, None)]
    assert offline.llm.requests[-1].instructions.endswith("The caller dialed 123.")
    offline.llm.assert_done()
    with pytest.raises(ValueError, match="not DTMF keys"):
        await offline.dtmf("1x")


async def test_a_script_failure_off_any_turn_surfaces_at_the_next_call() -> None:
    async with OfflineSession(Keypad(), []) as offline:
        with pytest.raises(ScriptError, match="script exhausted"):
            await offline.dtmf("#")  # the reply is generated outside any user turn


class PinCaller(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You verify callers.")
        self.pin: str | None = None

    async def on_enter(self) -> None:
        self.pin = (await GetDtmfTask(num_digits=4)).user_input
        await self.session.generate_reply(instructions="Thank the caller.")


async def test_dtmf_completes_livekits_get_dtmf_task() -> None:
    agent = PinCaller()
    async with OfflineSession(agent, ["Please dial your PIN.", "Thank you!"]) as offline:
        await offline.dtmf("4155#")
    assert agent.pin == "4 1 5 5"
    assert offline.llm.requests[0].tool_choice == "none"
    offline.llm.assert_done()


class ModalityProbe(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You note how the user talks.")
        self.seen: list[str] = []

    @function_tool
    async def note_modality(self, context: RunContext[Any]) -> str:
        """Note how the user spoke."""
        self.seen.append(context.speech_handle.input_details.modality)
        return "noted"


async def test_the_audio_modality_reaches_tools() -> None:
    agent = ModalityProbe()
    script: list[Step] = [Call("note_modality"), "Noted.", Call("note_modality"), "Noted again."]
    async with OfflineSession(agent, script) as offline:
        await offline.say("hello", modality="audio")
        await offline.say("hello")
    assert agent.seen == ["audio", "text"]


async def test_callable_steps_see_the_request_and_several_calls_share_a_turn() -> None:
    agent = ModalityProbe()

    def both(request: Request) -> testing.Reply:
        assert request.tools == ["note_modality"]
        assert request.schema("note_modality")["function"]["description"]
        return ["Let me note that twice.", Call("note_modality"), Call("note_modality", {})]

    async with OfflineSession(agent, [both, "Done."]) as offline:
        result = await offline.say("twice please")
    result.expect.contains_message(role="assistant")
    assert agent.seen == ["text", "text"]
    with pytest.raises(KeyError, match=r"offered tools: \['note_modality'\]"):
        offline.llm.requests[0].schema("nope")


def test_call_and_step_validation() -> None:
    assert Call("record_intro", name="Ana").args == {"name": "Ana"}
    assert Call("f", {"a": 1}) == Call("f", a=1)
    assert Call("f", '{"a": ').arguments == '{"a": '
    with pytest.raises(TypeError):
        Call("f", "{}", a=1)
    with pytest.raises(TypeError, match="not a script step"):
        ScriptedLLM([{"text": "hi"}])  # type: ignore[list-item]
    llm = ScriptedLLM(["hi", Call("f")])
    assert llm.remaining == 2
    with pytest.raises(ScriptError, match="2 script step"):
        llm.assert_done()


# --- lifecycle, fixtures, docs -------------------------------------------------------------


@pytest.mark.parametrize("mid_task", [True, False], ids=["mid-task", "after-flow"])
async def test_close_leaves_no_session_task(mid_task: bool) -> None:
    before = asyncio.all_tasks()
    agent = CustomerServiceAgent()
    script: list[Step] = ["May I record?"]
    if not mid_task:
        script += [Call("consent_given"), "Welcome."]
    offline = OfflineSession(agent, script)
    await offline.start()
    if not mid_task:
        await offline.say("yes")
    assert asyncio.all_tasks() - before
    await offline.aclose()
    await offline.aclose()  # idempotent
    assert asyncio.all_tasks() - before == set()
    with pytest.raises(RuntimeError, match="not running"):
        await offline.say("hello?")


async def test_the_session_fixture_closes_everything_and_reports_leftover_failures() -> None:
    before = asyncio.all_tasks()
    with pytest.raises(ScriptError, match="script exhausted"):
        async with pytest_plugin.offline_sessions() as start:
            first = await start(CustomerServiceAgent(), ["May I record?"])
            second = await start(Keypad(), [])
            second.room.emit("sip_dtmf_received", rtc.SipDTMF(code=11, digit="#"))
            await testing.settle()  # the failure is recorded but nobody checked it
    assert first.session.current_agent is not None
    assert asyncio.all_tasks() - before == set()


def test_the_plugin_imports_without_livekit() -> None:
    spec = importlib.util.find_spec("taskchart.adapters.livekit.pytest_plugin")
    assert spec is not None and spec.origin is not None
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        sys.modules["livekit"] = None  # as if not installed
        spec = importlib.util.spec_from_file_location("plugin", {spec.origin!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert callable(module.scripted_llm) and callable(module.offline_session)
        assert not [m for m in sys.modules if m.startswith("livekit.")]
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_the_module_docstring_example_runs() -> None:
    doc = testing.__doc__
    assert doc is not None
    example = textwrap.dedent(doc.split("::\n", 1)[1])
    assert "asyncio.run(main())" in example
    exec(compile(example, "testing.__doc__", "exec"), {"__name__": "docstring_example"})
