"""The LiveKit documentation's examples on taskchart, in real offline AgentSessions."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from types import SimpleNamespace
from typing import Any

import pytest
from livekit.agents import Agent
from livekit.agents.llm import ToolError
from taskchart.adapters.livekit import (
    AgentTask,
    ChartTask,
    SessionClosedError,
    TaskCompletedEvent,
    TaskGroup,
    TaskGroupResult,
    function_tool,
)
from taskchart.adapters.livekit.testing import Call, OfflineSession, Summary

from examples.behavioral import BehavioralResults, BehavioralTask, behavioral_spec
from examples.behavioral import Interviewer as BehavioralInterviewer
from examples.consent import CollectConsent
from examples.interview import CommuteResults, CommuteTask, Interviewer, IntroResults, IntroTask

from .prebuilt_helpers import Collector, by_user_line

INTRO = {"name": "Ana", "intro_notes": "backend engineer"}
COMMUTE = {"can_commute": True, "commute_method": "subway"}


class ConsentAgent(Agent):
    """The documentation's CustomerServiceAgent, recording what happened."""

    def __init__(self) -> None:
        super().__init__(instructions="You are a friendly customer service representative.")
        self.consent: bool | None = None

    async def on_enter(self) -> None:
        self.consent = await CollectConsent(chat_ctx=self.chat_ctx)
        if self.consent:
            await self.session.generate_reply(instructions="Offer your assistance to the user.")
        else:
            await self.session.generate_reply(instructions="Say you will end the call.")


@pytest.mark.parametrize(("tool", "expected"), [("consent_given", True), ("consent_denied", False)])
async def test_collect_consent_then_the_parent_continues(tool: str, expected: bool) -> None:
    agent = ConsentAgent()
    script = ["May I record this call?", Call(tool), "Parent speaking again."]
    async with OfflineSession(agent=agent, llm=script) as offline:
        result = await offline.say("yes" if expected else "no")
        assert agent.consent is expected
        assert offline.llm.requests[1].tools == ["consent_denied", "consent_given"]
        assert offline.llm.requests[2].tools == []  # the parent agent has the floor again
        result.expect.contains_message(role="assistant")
        offline.llm.assert_done()


async def test_a_second_complete_is_a_clear_tool_error_and_the_first_result_stands() -> None:
    agent = ConsentAgent()
    script = [
        "May I record this call?",
        [Call("consent_given"), Call("consent_denied")],
        "I heard you, thanks.",  # the model answers the tool error
        "Parent speaking again.",
    ]
    async with OfflineSession(agent=agent, llm=script) as offline:
        result = await offline.say("yes... actually no")
        outputs = [e.item for e in result.events if e.type == "function_call_output"]
        errors = [o.output for o in outputs if o.is_error]
        assert agent.consent is True
        assert len(errors) == 1 and "already complete; the first result stands" in errors[0]


@pytest.mark.parametrize("declarative", [False, True])
@pytest.mark.parametrize(
    "order",
    [
        ("record_work_style", "record_strengths", "record_weaknesses"),
        ("record_weaknesses", "record_work_style", "record_strengths"),
    ],
)
async def test_unordered_collection_in_any_order(declarative: bool, order: tuple[str, ...]) -> None:
    calls = {
        "record_strengths": Call("record_strengths", strengths_summary="curious"),
        "record_weaknesses": Call("record_weaknesses", weaknesses_summary="impatient"),
        "record_work_style": Call("record_work_style", work_style="pairs often"),
    }
    plan = {"first": calls[order[0]], "rest": [calls[order[1]], calls[order[2]]]}
    agent = BehavioralInterviewer(declarative=declarative)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("first")
        assert agent.results is None
        await offline.say("rest")
        assert agent.results == BehavioralResults("curious", "impatient", "pairs often")


def interview_script(*, regress: bool, summarize: bool) -> list[Any]:
    # record_intro returns nothing, so the model is not asked to reply after it
    script: list[Any] = ["Welcome! What's your name?", Call("record_intro", INTRO)]
    if regress:
        script += [
            Call("out_of_scope", task_ids=["intro_task"]),
            "Sure, what's your name?",
            Call("record_intro", {"name": "Anna", "intro_notes": "backend engineer"}),
        ]
    script += [Call("record_commute_flexibility", COMMUTE)]
    if summarize:
        script.append(Summary("Anna, backend engineer, commutes by subway."))
    script.append("Thank you for your time!")
    return script


@pytest.mark.parametrize("summarize", [True, False])
async def test_interview_group_with_a_regression(summarize: bool) -> None:
    seen: list[tuple[str, Any]] = []

    async def on_done(ev: TaskCompletedEvent) -> None:
        seen.append((ev.task_id, ev.result))

    agent = Interviewer(summarize_chat_ctx=summarize, on_task_completed=on_done)
    script = interview_script(regress=True, summarize=summarize)
    async with OfflineSession(agent=agent, llm=script, userdata=SimpleNamespace()) as offline:
        await offline.say("I'm Ana, a backend engineer")
        await offline.say("Actually my name is Anna")
        offer = next(r for r in offline.llm.requests if r.user_text == "Actually my name is Anna")
        enum = offer.schema("out_of_scope")["function"]["parameters"]["properties"]["task_ids"]
        assert enum["items"]["enum"] == ["intro_task"]
        assert "out_of_scope" not in offline.llm.requests[-1].tools  # intro is first again
        await offline.say("Anna, backend engineer")
        await offline.say("Yes, by subway")
        assert [tid for tid, _ in seen] == ["intro_task", "intro_task", "commute_task"]
        assert agent.task_results == {
            "intro_task": IntroResults("Anna", "backend engineer"),
            "commute_task": CommuteResults(True, "subway"),
        }
        assert offline.session.userdata.candidate_name == "Anna"
        texts = [m.text_content or "" for m in agent.chat_ctx.messages()]
        summaries = [t for t in texts if "<chat_history_summary>" in t]
        if summarize:
            assert len(summaries) == 1 and "commutes by subway" in summaries[0]
            assert "Actually my name is Anna" not in texts
        else:
            assert summaries == [] and "Actually my name is Anna" in texts
        offline.llm.assert_done()


class AskTask(AgentTask[str]):
    """A hand-written task that asks for one thing and records it with one tool,
    ``record_<what>``; the group tests below run three of them."""

    def __init__(self, what: str) -> None:
        async def record(value: str) -> None:
            self.complete(value)

        tool = function_tool(record, name=f"record_{what}", description=f"Record the {what}.")
        super().__init__(instructions=f"Ask the caller's {what}.", tools=[tool])


class GroupAgent(Agent):
    def __init__(self, **options: Any) -> None:
        super().__init__(instructions="You run a sign-up.")
        self.options = options
        self.seen: list[str] = []
        self.results: dict[str, Any] | None = None
        self.error: BaseException | None = None

    async def on_enter(self) -> None:
        async def on_done(ev: TaskCompletedEvent) -> None:
            self.seen.append(ev.task_id)
            if ev.task_id == self.options.get("raise_after"):
                raise KnownCaller(ev.result)

        group = self.options.get("group_cls", TaskGroup)(
            summarize_chat_ctx=False,
            on_task_completed=on_done,
            return_exceptions=self.options.get("return_exceptions", False),
        )
        name, city, email = self.options.get("ids", ("name", "city", "email"))
        group.add(functools.partial(AskTask, "name"), id=name, description="Collects the name")
        group.add(functools.partial(AskTask, "city"), id=city, description="Collects the city")
        group.add(functools.partial(AskTask, "email"), id=email, description="Collects the email")
        try:
            result = await group
        except BaseException as exc:
            self.error = exc
            return
        assert isinstance(result, TaskGroupResult)
        self.results = result.task_results
        await self.session.generate_reply(instructions="Say goodbye.")


async def test_repeated_and_chained_regressions_keep_untouched_results() -> None:
    agent = GroupAgent()
    plan = {
        "Ada": Call("record_name", value="Ada"),
        "Paris": Call("record_city", value="Paris"),
        "my city is wrong": Call("out_of_scope", task_ids=["city"]),  # from email to city
        "and my name too": Call("out_of_scope", task_ids=["name"]),  # chained: city to name
        "Augusta": Call("record_name", value="Augusta"),
        "Lyon": Call("record_city", value="Lyon"),
        "name again": Call("out_of_scope", task_ids=["name"]),  # repeated
        "Ada King": Call("record_name", value="Ada King"),
        "ada@example.com": Call("record_email", value="ada@example.com"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        for line in plan:
            await offline.say(line)
        assert agent.results == {"name": "Ada King", "city": "Lyon", "email": "ada@example.com"}
        assert agent.seen == ["name", "city", "name", "city", "name", "email"]


async def test_task_ids_the_chart_reserves_or_cannot_spell_work_as_given() -> None:
    # "update" names a chart event and "my city" is no identifier: the group runs
    # them under chart-safe ids and speaks of them by the ids they were given
    agent = GroupAgent(ids=("update", "my city", "email"))
    plan = {
        "Ada": Call("record_name", value="Ada"),
        "Paris": Call("record_city", value="Paris"),
        "my name is wrong": Call("out_of_scope", task_ids=["update"]),
        "Augusta": Call("record_name", value="Augusta"),
        "ada@example.com": Call("record_email", value="ada@example.com"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        for line in plan:
            await offline.say(line)
        assert agent.results == {
            "update": "Augusta",
            "my city": "Paris",
            "email": "ada@example.com",
        }
        assert agent.seen == ["update", "my city", "update", "email"]


@pytest.mark.parametrize(
    ("task_ids", "fragment"),
    [
        (["nope"], "'nope': unknown task id"),
        (["email"], "'email' is the current task"),
        ([], "needs task_ids: a non-empty list"),
        ("name", None),  # a bare string is taken as one id
    ],
)
async def test_bad_regression_targets_get_a_tool_error_and_change_nothing(
    task_ids: Any, fragment: str | None
) -> None:
    agent = GroupAgent()
    plan = {
        "Ada": Call("record_name", value="Ada"),
        "Paris": Call("record_city", value="Paris"),
        "go back somewhere": Call("out_of_scope", task_ids=task_ids),
        "ada@example.com": Call("record_email", value="ada@example.com"),
        "Bea": Call("record_name", value="Bea"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("Ada")
        await offline.say("Paris")
        result = await offline.say("go back somewhere")
        outputs = [e.item for e in result.events if e.type == "function_call_output"]
        assert len(outputs) == 1
        if fragment is None:
            assert not outputs[0].is_error
            await offline.say("Bea")
            await offline.say("ada@example.com")
            assert agent.results == {"name": "Bea", "city": "Paris", "email": "ada@example.com"}
            return
        assert outputs[0].is_error and fragment in outputs[0].output
        await offline.say("ada@example.com")
        assert agent.results == {"name": "Ada", "city": "Paris", "email": "ada@example.com"}
        assert agent.seen == ["name", "city", "email"]


class KnownCaller(Exception):
    """What LiveKit's healthcare example raises from on_task_completed to stop early."""


@pytest.mark.parametrize("return_exceptions", [False, True])
@pytest.mark.parametrize("source", ["livekit", "taskchart"])
async def test_an_exception_from_on_task_completed_is_the_tasks_as_in_livekit(
    source: str, return_exceptions: bool
) -> None:
    from livekit.agents.beta.workflows import TaskGroup as LiveKitTaskGroup

    group_cls = LiveKitTaskGroup if source == "livekit" else TaskGroup
    agent = GroupAgent(raise_after="name", group_cls=group_cls, return_exceptions=return_exceptions)
    plan = {
        "Ada": Call("record_name", value="Ada"),
        "Oslo": Call("record_city", value="Oslo"),
        "a@b.co": Call("record_email", value="a@b.co"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        for line in plan if return_exceptions else ["Ada"]:
            with contextlib.suppress(KnownCaller):  # LiveKit re-raises it from run()
                await offline.say(line)
        await offline.settle()
        if return_exceptions:  # the exception takes the task's place; the group goes on
            assert agent.error is None and agent.results is not None
            assert isinstance(agent.results["name"], KnownCaller)
            assert {k: v for k, v in agent.results.items() if k != "name"} == {
                "city": "Oslo",
                "email": "a@b.co",
            }
            assert agent.seen == ["name", "city", "email"]
        else:  # the group ends with it: the awaiting code receives it
            assert isinstance(agent.error, KnownCaller) and agent.error.args == ("Ada",)
            assert agent.results is None and agent.seen == ["name"]


class FailingCity(AskTask):
    def __init__(self) -> None:
        super().__init__("city")

    @function_tool
    async def no_city(self) -> None:
        """The caller has no city."""
        self.complete(ToolError("the caller has no city"))


@pytest.mark.parametrize("return_exceptions", [False, True])
async def test_a_failing_task_propagates_or_is_returned(return_exceptions: bool) -> None:
    agent = GroupAgent(return_exceptions=return_exceptions)

    async def on_enter() -> None:  # GroupAgent's flow with a city task that fails
        group = TaskGroup(summarize_chat_ctx=False, return_exceptions=return_exceptions)
        group.add(functools.partial(AskTask, "name"), id="name", description="Collects the name")
        group.add(FailingCity, id="city", description="Collects the city")
        group.add(functools.partial(AskTask, "email"), id="email", description="Collects the email")
        try:
            agent.results = (await group).task_results
        except ToolError as exc:
            agent.error = exc

    agent.on_enter = on_enter  # type: ignore[method-assign]
    plan = {
        "Ada": Call("record_name", value="Ada"),
        "I have no city": Call("no_city"),
        "a@b.co": Call("record_email", value="a@b.co"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("Ada")
        with contextlib.suppress(ToolError):  # LiveKit re-raises a task's error from run()
            await offline.say("I have no city")
        await offline.settle()
        if return_exceptions:
            await offline.say("a@b.co")
            assert agent.results is not None
            assert agent.results["name"] == "Ada" and agent.results["email"] == "a@b.co"
            assert isinstance(agent.results["city"], ToolError)
        else:
            assert agent.results is None
            assert isinstance(agent.error, ToolError) and "no city" in str(agent.error)


async def test_closing_the_session_mid_task_ends_the_awaiting_code_cleanly() -> None:
    agent = GroupAgent()
    script = ["Name?", Call("record_name", value="Ada"), "City?"]
    offline = OfflineSession(agent=agent, llm=script)
    await offline.start()
    await offline.say("Ada")
    await offline.aclose()
    for _ in range(20):
        await asyncio.sleep(0)
    assert isinstance(agent.error, SessionClosedError)
    assert isinstance(agent.error, ToolError)  # what LiveKit code already catches
    assert "cancelled" in str(agent.error)
    assert agent.results is None
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftover == []


async def test_declarative_chart_task_refuses_a_stale_confirmation_in_one_turn() -> None:
    from examples.email_chart import email_spec

    class Parent(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="parent")
            self.result: Any = None

        async def on_enter(self) -> None:
            self.result = await ChartTask(email_spec, chat_ctx=self.chat_ctx)

    agent = Parent()
    script = [
        "What's your email?",
        Call("update_email", email_address="ada at example dot com"),
        "I heard ada@example.com, right?",
        [Call("confirm_email"), Call("update_email", email_address="bob@example.com")],
        "Got bob@example.com, correct?",
        Call("confirm_email"),
    ]
    async with OfflineSession(agent=agent, llm=script) as offline:
        first = offline.llm.requests[0]
        assert first.tools == ["update_email", "decline_email"]  # nothing to confirm yet
        await offline.say("ada at example dot com", modality="audio")
        turn = await offline.say("no, bob at example dot com", modality="audio")
        outputs = {e.item.name: e.item for e in turn.events if e.type == "function_call_output"}
        assert outputs["confirm_email"].is_error
        assert "wait for their answer" in outputs["confirm_email"].output
        assert agent.result is None
        await offline.say("yes", modality="audio")
        assert agent.result.email_address == "bob@example.com"


_ = (IntroTask, CommuteTask, BehavioralTask, behavioral_spec)  # the examples' public names


@pytest.mark.parametrize("source", ["taskchart", "livekit"])
async def test_get_email_task_runs_inside_a_taskchart_group_with_a_custom_task(source: str) -> None:
    """The documentation's group with GetEmailTask: ours, and LiveKit's own inside our group."""
    if source == "livekit":
        from livekit.agents.beta.workflows import GetEmailResult, GetEmailTask
    else:
        from taskchart.adapters.livekit import GetEmailResult, GetEmailTask

    agent = Collector(
        lambda: (
            TaskGroup(summarize_chat_ctx=False)
            .add(
                lambda: GetEmailTask(), id="get_email_task", description="Collects the user's email"
            )
            .add(
                lambda: CommuteTask(),
                id="get_commute_task",
                description="Records the user's commute flexibility",
            )
        ),
        instructions="You sign people up.",
    )
    plan = {
        "john.doe@gmail.com": Call("update_email_address", email="john.doe@gmail.com"),
        "yes, by subway": Call("record_commute_flexibility", COMMUTE),
        "wait, my email is wrong": Call("out_of_scope", task_ids=["get_email_task"]),
        "jane.doe@gmail.com": Call("update_email_address", email="jane.doe@gmail.com"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("john.doe@gmail.com")
        await offline.say("wait, my email is wrong")
        await offline.say("jane.doe@gmail.com")
        await offline.say("yes, by subway")
        assert agent.result.task_results == {
            "get_email_task": GetEmailResult(email_address="jane.doe@gmail.com"),
            "get_commute_task": CommuteResults(can_commute=True, commute_method="subway"),
        }


async def test_a_declarative_task_interrupted_by_a_regression_resumes_with_its_fields() -> None:
    from examples.email_chart import EmailResult, email_spec

    agent = Collector(
        lambda: (
            TaskGroup(summarize_chat_ctx=False)
            .add(IntroTask, id="intro_task", description="Collects name and introduction")
            .add(lambda: ChartTask(email_spec), id="email_task", description="Collects email")
        ),
        instructions="You sign people up.",
    )
    plan = {
        "I'm Ana, an engineer": Call("record_intro", INTRO),
        "ada at example dot com": Call("update_email", email_address="ada at example dot com"),
        "wait, my name is wrong": Call("out_of_scope", task_ids=["intro_task"]),
        "Anna, an engineer": Call("record_intro", {"name": "Anna", "intro_notes": "engineer"}),
        "yes, that's right": Call("confirm_email"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan), userdata=SimpleNamespace()) as o:
        await o.say("I'm Ana, an engineer")
        await o.say("ada at example dot com", modality="audio")
        await o.say("wait, my name is wrong", modality="audio")
        await o.say("Anna, an engineer", modality="audio")
        resumed = o.llm.requests[-1]
        assert "Back to the email address" in resumed.instructions
        assert "ada@example.com" in resumed.instructions  # kept, and read back again
        assert "confirm_email" in resumed.tools
        await o.say("yes, that's right", modality="audio")
        assert agent.result.task_results == {
            "intro_task": IntroResults("Anna", "engineer"),
            "email_task": EmailResult("ada@example.com"),
        }


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (Call("update_email", email_address=5), "email_address must be text"),
        (Call("update_email", email_address="john at gmail"), "not a valid email address"),
        (Call("update_email", email="x@y.co"), "unexpected argument(s) ['email']"),
        # truncated JSON: LiveKit repairs it to an empty value, which the field refuses
        (Call("update_email", '{"email_address": '), "email_address must not be empty"),
    ],
)
async def test_chart_task_refuses_malformed_arguments_and_keeps_collecting(
    call: Call, fragment: str
) -> None:
    from examples.email_chart import EmailResult, email_spec

    class Parent(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="parent")
            self.task: ChartTask[Any] | None = None
            self.result: Any = None

        async def on_enter(self) -> None:
            self.task = ChartTask(email_spec, chat_ctx=self.chat_ctx)
            self.result = await self.task

    agent = Parent()
    plan = {"bad": call, "good": Call("update_email", email_address="ada@example.com")}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("bad")
        outputs = [e.item for e in turn.events if e.type == "function_call_output"]
        assert len(outputs) == 1 and outputs[0].is_error and fragment in outputs[0].output
        assert agent.task is not None
        assert agent.task.flow.configuration == ("email", "email__collecting")
        assert agent.task.flow.values() == {}
        await offline.say("good")
        assert agent.result == EmailResult("ada@example.com")
