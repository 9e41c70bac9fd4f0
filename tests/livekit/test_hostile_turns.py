"""Model turns a production model sends: unparsable arguments, repeated call ids.

Each script runs against LiveKit's own task and taskchart's in a real offline
``AgentSession``; a session that hangs fails the test (``within``) instead of
hanging the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from livekit.agents import function_tool
from livekit.agents.beta import workflows as lk
from taskchart.adapters import livekit as tc
from taskchart.adapters.livekit.testing import Call, OfflineSession

from .prebuilt_helpers import Collector, by_user_line

T = TypeVar("T")
HANG = 20.0  # seconds: far beyond a turn's few milliseconds; only a hang reaches it

TASKS = {"livekit": lk.GetEmailTask, "taskchart": tc.GetEmailTask}


async def within(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, HANG)


async def run_script(factory: Callable[[], Any], plan: dict[str, Any], said: list[str]) -> Any:
    """Say each line, close the session; return (agent, [outputs of each turn])."""
    agent = Collector(factory)
    offline = OfflineSession(agent=agent, llm=by_user_line(plan))
    turns = []
    await within(offline.start())
    try:
        for line in said:
            run = await within(offline.say(line))
            turns.append(
                [
                    (e.item.name, e.item.output, e.item.is_error)
                    for e in run.events
                    if e.type == "function_call_output"
                ]
            )
    finally:
        await within(offline.aclose())
    return agent, turns


@pytest.mark.parametrize("side", TASKS)
@pytest.mark.parametrize("bad", ["[1]", "{not json", '"text"'])
async def test_an_unparsable_call_beside_a_valid_one_gets_livekits_error(
    side: str, bad: str
) -> None:
    plan = {
        "mine": [
            Call("update_email_address", email="ada@example.com"),
            Call("update_email_address", bad),
        ]
    }
    agent, turns = await run_script(TASKS[side], plan, ["mine"])
    assert agent.result.email_address == "ada@example.com"
    outputs = sorted(turns[0], key=lambda o: o[2])
    assert len(outputs) == 2
    assert outputs[1][2] is True
    assert outputs[1][1].startswith("Error parsing arguments for `update_email_address`")


@pytest.mark.parametrize("side", TASKS)
async def test_a_repeated_call_id_is_processed_once(side: str) -> None:
    call = Call("update_email_address", email="ada@example.com").with_call_id("call_retry")
    plan = {"mine": [call, call]}
    agent, turns = await run_script(TASKS[side], plan, ["mine"])
    assert agent.result.email_address == "ada@example.com"
    assert len(turns[0]) == 2


async def test_a_repeated_call_id_in_a_later_turn_gets_the_first_answer() -> None:
    first = Call("update_email_address", email="ada@example.com").with_call_id("call_x")
    other = Call("update_email_address", email="bob@example.com").with_call_id("call_x")
    plan = {"mine": first, "again": first, "changed": other, "yes": Call("confirm_email_address")}
    agent = Collector(tc.GetEmailTask)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn1 = await within(offline.say("mine", modality="audio"))
        turn2 = await within(offline.say("again", modality="audio"))
        turn3 = await within(offline.say("changed", modality="audio"))
        assert outputs_of(turn2) == outputs_of(turn1)  # the same answer, not a second update
        [(tool, output, is_error)] = outputs_of(turn3)
        assert tool == "update_email_address"
        assert is_error and "repeats the id 'call_x'" in output and "not processed" in output
        assert "bob" not in output
        await within(offline.say("yes", modality="audio"))
    assert agent.result.email_address == "ada@example.com"


async def test_a_call_livekit_never_invokes_does_not_hold_up_its_turn() -> None:
    """A mocked chart tool never reaches the chart; the confirmation beside it still runs."""
    from livekit.agents import mock_tools

    mocked: list[str] = []

    def fake_update(raw_arguments: dict[str, str]) -> str:
        mocked.append(raw_arguments["email"])
        return "noted"

    plan = {
        "mine": Call("update_email_address", email="ada@example.com"),
        "yes": [Call("confirm_email_address"), Call("update_email_address", email="x@y.org")],
    }
    agent = Collector(tc.GetEmailTask)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await within(offline.say("mine", modality="audio"))
        task_type = type(offline.session.current_agent)
        mock_tools(task_type, {"update_email_address": fake_update}, session=offline.session)
        turn = await within(offline.say("yes", modality="audio"))
    assert mocked == ["x@y.org"]
    assert dict((n, o) for n, o, _ in outputs_of(turn))["update_email_address"] == "noted"
    assert agent.result.email_address == "ada@example.com"


def outputs_of(run: Any) -> list[tuple[str, str, bool]]:
    return [
        (e.item.name, e.item.output, e.item.is_error)
        for e in run.events
        if e.type == "function_call_output"
    ]


def email_then_name() -> Any:
    group = tc.TaskGroup(summarize_chat_ctx=False)
    group.add(tc.GetEmailTask, id="email_task", description="Collects the email")
    group.add(lambda: tc.GetNameTask(last_name=True), id="name_task", description="The name")
    return group


async def test_going_back_and_answering_in_one_turn_goes_back() -> None:
    name = Call("update_name", first_name="Ada", last_name="Lovelace")
    plan = {
        "ada at example dot com": Call("update_email_address", email="ada@example.com"),
        "I'm Ada Lovelace, and my email is wrong": [
            Call("out_of_scope", task_ids=["email_task"]),
            name,
        ],
        "bob at example dot com": Call("update_email_address", email="bob@example.com"),
        "as I said": name,
    }
    agent = Collector(email_then_name)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await within(offline.say("ada at example dot com"))
        turn = await within(offline.say("I'm Ada Lovelace, and my email is wrong"))
        answers = {n: (o, e) for n, o, e in outputs_of(turn)}
        assert answers["out_of_scope"][1] is False
        output, is_error = answers["update_name"]
        assert is_error and "went back to an earlier task" in output
        assert agent.result is None  # the group did not finish behind the correction
        await within(offline.say("bob at example dot com"))
        await within(offline.say("as I said"))
    results = agent.result.task_results
    assert results["email_task"].email_address == "bob@example.com"
    assert (results["name_task"].first_name, results["name_task"].last_name) == (
        "Ada",
        "Lovelace",
    )


class Intro(tc.AgentTask[str]):
    """A hand-written task: its tool completes it at once."""

    def __init__(self) -> None:
        super().__init__(instructions="Ask what the caller does.")

    async def on_enter(self) -> None:
        self.session.generate_reply()

    @function_tool
    async def record_intro(self, intro: str) -> None:
        """Record what the caller does."""
        self.complete(intro)


def email_then_intros() -> Any:
    group = tc.TaskGroup(summarize_chat_ctx=False)
    group.add(tc.GetEmailTask, id="email_task", description="Collects the email")
    group.add(Intro, id="intro_task", description="What the caller does")
    group.add(Intro, id="outro_task", description="A last word")
    return group


@pytest.mark.parametrize("back_first", [True, False], ids=["back-first", "answer-first"])
async def test_going_back_wins_over_a_hand_written_task_completing_in_the_same_turn(
    back_first: bool,
) -> None:
    back = Call("out_of_scope", task_ids=["email_task"])
    answer = Call("record_intro", intro="mathematician")
    plan = {
        "ada at example dot com": Call("update_email_address", email="ada@example.com"),
        "a mathematician, and my email is wrong": [back, answer] if back_first else [answer, back],
        "bob at example dot com": Call("update_email_address", email="bob@example.com"),
        "as I said": answer,
        "bye": Call("record_intro", intro="bye"),
    }
    agent = Collector(email_then_intros)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await within(offline.say("ada at example dot com"))
        await within(offline.say("a mathematician, and my email is wrong"))
        assert "update_email_address" in offline.llm.requests[-1].tools  # back at the email
        await within(offline.say("bob at example dot com"))
        await within(offline.say("as I said"))
        await within(offline.say("bye"))
    results = agent.result.task_results
    assert results["email_task"].email_address == "bob@example.com"
    assert (results["intro_task"], results["outro_task"]) == ("mathematician", "bye")


async def test_a_going_back_refused_late_runs_the_task_again() -> None:
    """The group re-checks a regression when the task has ended; refused then, the
    interrupted task runs again instead of the group failing."""
    from taskchart.adapters.livekit.group import _OutOfScope

    plan = {
        "ada at example dot com": Call("update_email_address", email="ada@example.com"),
        "Ada Lovelace": Call("update_name", first_name="Ada", last_name="Lovelace"),
    }
    agent = Collector(email_then_name)
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await within(offline.say("ada at example dot com"))
        name_task = offline.session.current_agent
        name_task.complete(_OutOfScope(["no_such_task"]))  # as if accepted, then refused
        await within(offline.settle())
        assert offline.session.current_agent is not name_task  # the name task runs again
        await within(offline.say("Ada Lovelace"))
    results = agent.result.task_results
    assert results["email_task"].email_address == "ada@example.com"
    assert results["name_task"].last_name == "Lovelace"
