"""Card numbers and security codes never stay in a conversation GetCreditCardTask hands back.

Every ending (a card, a decline, another step failing, "start over", going
back to the number, the session closing) and every way of saying the number
(digits, spaced, spoken words, in two halves) runs in a real offline session;
the parent's conversation and every later model request, summaries included,
are searched for the digits.
"""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import Agent, llm
from livekit.agents.llm import ToolError
from taskchart.adapters.livekit import (
    GetCardNumberTask,
    GetCreditCardTask,
    GetEmailTask,
    GetSecurityCodeTask,
    TaskGroup,
)
from taskchart.adapters.livekit.testing import Call, OfflineSession, Request
from taskchart.statecharts.prebuilt.card import redact_card_data

from .prebuilt_helpers import Collector, by_user_line

NUMBER = "5555555555554444"  # a Mastercard test number
WORDS = " ".join(["five"] * 12 + ["four"] * 4)
#: How a caller gives the number: the user lines, and what the model passes on.
FORMS: dict[str, tuple[list[str], str]] = {
    "digits": ([f"my card is {NUMBER}"], NUMBER),
    "spaced": (["my card is 5555 5555 5555 4444"], "5555 5555 5555 4444"),
    "words": ([f"my card is {WORDS}"], WORDS),
    "halves": (["the first half is 5555 5555", "and then 5555 4444"], NUMBER),
}
OTHER = "4111 1111 1111 1111"  # the card given after "start over"
#: What must not be left anywhere: the number in any form, the code (739) in any form.
LEAKS = ("5555", "4444", "five five five five", "four four four four", "4111", "1111 1111")
CODE_LEAKS = ("739", "seven three nine")


def text_of(items: list[llm.ChatItem]) -> str:
    """Everything a model could read in ``items``."""
    parts: list[str] = []
    for item in items:
        if item.type == "message":
            parts += [c for c in item.content if isinstance(c, str)]
        elif item.type == "function_call":
            parts.append(item.arguments)
        elif item.type == "function_call_output":
            parts.append(item.output)
    return "\n".join(parts).lower()


def leaked(text: str) -> list[str]:
    return [form for form in (*LEAKS, *CODE_LEAKS) if form in text]


class Checkout(Collector):
    """Awaits ``factory()`` and then speaks again, so the model reads the conversation once more."""

    def __init__(self, factory: Any) -> None:
        super().__init__(factory, instructions="You check out orders.")

    async def on_enter(self) -> None:
        await super().on_enter()
        self.session.generate_reply(instructions="Tell the user what happens next.")


def plan_for(form: str) -> tuple[list[str], dict[str, Any]]:
    """The lines giving the card in ``form``, and the model's answer to every line a test says."""
    lines, argument = FORMS[form]
    plan: dict[str, Any] = {line: "Go on." for line in lines}
    plan[lines[-1]] = Call("update_card_number", card_number=argument)
    plan |= {
        "expires april 31": Call("update_expiration_date", expiration_month=4, expiration_year=31),
        "the code is seven three nine": Call("update_security_code", security_code="739"),
        "Ada Lovelace": Call("update_name", first_name="Ada", last_name="Lovelace"),
        "no, I won't give the code": Call("decline_card_capture", reason="no code"),
        "no, not the code": Call("decline_card_capture", reason="no code"),
        "I won't say my name": Call("decline_name_capture", reason="private"),
        "start over with another card": Call("restart_card_collection", reason="other card"),
        "the other card": Call("update_card_number", card_number=OTHER),
        "fix the number": Call("out_of_scope", task_ids=["card_number_task"]),
        "ada@example.com": Call("update_email_address", email="ada@example.com"),
    }
    return lines, plan


def parent_requests(offline: OfflineSession) -> list[Request]:
    """The model requests made for the parent after the card task, summaries included."""
    return [
        r for r in offline.llm.requests if r.is_summary or "You check out orders." in r.instructions
    ]  # the parent's on_enter awaits the card first: all of them come after it


def assert_nothing_left(agent: Agent, offline: OfflineSession) -> None:
    assert leaked(text_of(agent.chat_ctx.items)) == []
    later = parent_requests(offline)
    assert later, "the parent never asked the model again"
    for request in later:
        assert leaked(text_of(request.chat_ctx.items)) == [], request.describe()


async def say_all(offline: OfflineSession, lines: list[str]) -> None:
    for line in lines:
        await offline.say(line)


ENDINGS = ["card", "declined", "other_step_failed", "start_over", "back_to_the_number", "closed"]


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("form", list(FORMS))
async def test_no_card_data_stays_in_the_parent_conversation(form: str, ending: str) -> None:
    lines, plan = plan_for(form)
    agent = Checkout(GetCreditCardTask)
    async with OfflineSession(agent=agent, llm=by_user_line(plan, 80)) as offline:
        await say_all(offline, lines)
        if ending == "declined":  # at the expiration date, once the number was heard
            with pytest.raises(ToolError):  # the turn's RunResult carries it, as in LiveKit
                await offline.say("no, I won't give the code")
        elif ending == "start_over":
            with pytest.raises(ToolError):
                await offline.say("start over with another card")
            await say_all(offline, ["the other card", "expires april 31"])
            await say_all(offline, ["the code is seven three nine", "Ada Lovelace"])
        elif ending == "back_to_the_number":
            await offline.say("expires april 31")
            await offline.say("fix the number")
            await say_all(offline, ["the other card", "expires april 31"])
            await say_all(offline, ["the code is seven three nine", "Ada Lovelace"])
        elif ending == "closed":
            await say_all(offline, ["expires april 31", "the code is seven three nine"])
            await offline.aclose()
            assert agent.result is None
            assert leaked(text_of(agent.chat_ctx.items)) == []
            return
        elif ending == "other_step_failed":  # the cardholder's name is declined
            await say_all(offline, ["expires april 31", "the code is seven three nine"])
            with pytest.raises(ToolError):
                await offline.say("I won't say my name")
        else:
            await say_all(offline, ["expires april 31", "the code is seven three nine"])
            await offline.say("Ada Lovelace")
        if ending in ("card", "start_over", "back_to_the_number"):
            assert agent.result is not None and agent.error is None
        else:
            assert agent.result is None and agent.error is not None
        assert_nothing_left(agent, offline)


@pytest.mark.parametrize("ending", ["card", "start_over"])
@pytest.mark.parametrize("form", list(FORMS))
async def test_no_card_data_reaches_a_task_group_summary(form: str, ending: str) -> None:
    lines, plan = plan_for(form)

    def group() -> TaskGroup:
        return (
            TaskGroup(summarize_chat_ctx=True)
            .add(GetCreditCardTask, id="card", description="Collects the card")
            .add(GetEmailTask, id="email", description="Collects the email for the receipt")
        )

    agent = Checkout(group)
    async with OfflineSession(agent=agent, llm=by_user_line(plan, 80)) as offline:
        await say_all(offline, lines)
        if ending == "start_over":
            with pytest.raises(ToolError):
                await offline.say("start over with another card")
            await offline.say("the other card")
        await say_all(offline, ["expires april 31", "the code is seven three nine"])
        await say_all(offline, ["Ada Lovelace", "ada@example.com"])
        assert set(agent.result.task_results) == {"card", "email"}
        summaries = [r for r in offline.llm.requests if r.is_summary]
        assert len(summaries) == 1
        assert "ada@example.com" in text_of(summaries[0].chat_ctx.items)  # it did summarize
        assert leaked(text_of(summaries[0].chat_ctx.items)) == []
        email_requests = [r for r in offline.llm.requests if "update_email_address" in r.tools]
        for request in email_requests:  # the next task's model turns
            assert leaked(text_of(request.chat_ctx.items)) == [], request.describe()
        assert_nothing_left(agent, offline)


@pytest.mark.parametrize("declined", [False, True], ids=["collected", "declined"])
@pytest.mark.parametrize("form", list(FORMS))
async def test_a_card_step_awaited_alone_hands_back_no_card_data(form: str, declined: bool) -> None:
    lines, plan = plan_for(form)

    async def both() -> None:
        await GetCardNumberTask()
        await GetSecurityCodeTask()

    agent = Checkout(both)
    async with OfflineSession(agent=agent, llm=by_user_line(plan, 40)) as offline:
        await say_all(offline, lines)
        if declined:
            await offline.say("no, not the code")  # the parent's on_enter catches it
        else:
            await offline.say("the code is seven three nine")
        assert (agent.error is not None) is declined
        assert_nothing_left(agent, offline)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 5555-5555-5555-4444.", "my card is [card]."),
        ("5555 5555 then 5555 4444", "[card] then [card]"),
        (f"it is {WORDS}", "it is [card]"),
        ("the last four are four four four four", "the last four are [card]"),
        ('{"card_number": 5555555555554444}', '{"card_number": [card]}'),
        ("code seven three nine, expiry 04/31", "code [security code], expiry 04/31"),
        ("another card: 4111 1111 1111 1111", "another card: [card]"),  # a card number heard
        ("call me on 650 253 0000 at 9", "call me on 650 253 0000 at 9"),
    ],
)
def test_redaction_finds_every_form(text: str, expected: str) -> None:
    assert redact_card_data(text, [NUMBER], ["739"]) == expected
