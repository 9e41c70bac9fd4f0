"""GetCreditCardTask and its steps in real offline sessions, text and audio."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import Agent
from taskchart.adapters import livekit as lk
from taskchart.adapters.livekit.testing import Call, OfflineSession

from .prebuilt_helpers import Collector, by_user_line, outputs

VISA = "4111 1111 1111 1111"
AMEX = "3782 822463 10005"


def card_plan(number: str, code: str, *, audio: bool) -> dict[str, Any]:
    """User lines -> calls; in audio each value is repeated back and confirmed."""
    plan: dict[str, Any] = {
        f"my card is {number}": Call("update_card_number", card_number=number),
        "expires april 31": Call("update_expiration_date", expiration_month=4, expiration_year=31),
        "the code": Call("update_security_code", security_code=code),
        "Ada Lovelace": Call("update_name", first_name="Ada", last_name="Lovelace"),
    }
    if audio:
        plan |= {
            "repeat card": Call("confirm_card_number", repeated_card_number=number),
            "repeat date": Call(
                "confirm_expiration_date", repeated_expiration_month=4, repeated_expiration_year=31
            ),
            "repeat code": Call("confirm_security_code", repeated_security_code=code),
            "yes": Call("confirm_name"),
        }
    return plan


async def collect_card(offline: OfflineSession, *, audio: bool, number: str = "") -> None:
    modality: Any = "audio" if audio else "text"
    lines = [
        f"my card is {number or VISA}",
        "repeat card",
        "expires april 31",
        "repeat date",
        "the code",
    ]
    lines += ["repeat code", "Ada Lovelace", "yes"]
    for line in lines:
        if audio or not line.startswith(("repeat", "yes")):
            await offline.say(line, modality=modality)


@pytest.mark.parametrize("audio", [False, True], ids=["text", "audio"])
async def test_a_card_is_collected_step_by_step(audio: bool) -> None:
    agent = Collector(lk.GetCreditCardTask)
    async with OfflineSession(
        agent=agent, llm=by_user_line(card_plan(VISA, "123", audio=audio))
    ) as offline:
        await collect_card(offline, audio=audio)
        assert agent.result == lk.GetCreditCardResult(
            cardholder_name="Ada Lovelace",
            issuer="Visa",
            card_number="4111111111111111",
            security_code="123",
            expiration_date="04/31",
        )
        assert not any(r.is_summary for r in offline.llm.requests)  # no summarizer saw the card
        # the conversation handed back holds no card number or code
        text = " ".join(
            str(getattr(i, "content", "")) + str(getattr(i, "arguments", ""))
            for i in agent.chat_ctx.items
        )
        assert "my card is [card]" in text  # what the user said, redacted
        assert "4111" not in text and "1111 1111" not in text


async def test_american_express_needs_a_four_digit_code() -> None:
    agent = Collector(lk.GetCreditCardTask)
    plan = card_plan(AMEX, "1234", audio=False)
    plan["three digits"] = Call("update_security_code", security_code="123")
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say(f"my card is {AMEX}")
        await offline.say("expires april 31")
        turn = await offline.say("three digits")
        assert "must have 4 digits" in outputs(turn)["update_security_code"].output
        await offline.say("the code")
        await offline.say("Ada Lovelace")
        assert agent.result.issuer == "American Express"
        assert agent.result.security_code == "1234"


async def test_start_over_collects_a_new_card() -> None:
    agent = Collector(lk.GetCreditCardTask)
    plan = card_plan(VISA, "123", audio=False)
    plan |= {
        "wait, use another card": Call("restart_card_collection", reason="another card"),
        "new card": Call("update_card_number", card_number="5555 5555 5555 4444"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say(f"my card is {VISA}")
        with pytest.raises(
            lk.CardCollectionRestartError
        ):  # the turn's RunResult carries it, as in LiveKit
            await offline.say("wait, use another card")
        assert "update_card_number" in offline.llm.requests[-1].tools  # back at the number
        for line in ["new card", "expires april 31", "the code", "Ada Lovelace"]:
            await offline.say(line)
        assert agent.result.issuer == "Mastercard"
        assert agent.result.card_number == "5555555555554444"


async def test_declining_raises_card_capture_declined() -> None:
    agent = Collector(lk.GetCreditCardTask)
    plan = {"no card": Call("decline_card_capture", reason="pay later")}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        with pytest.raises(lk.CardCaptureDeclinedError):
            await offline.say("no card")
        assert isinstance(agent.error, lk.CardCaptureDeclinedError)
        assert agent.error.reason == "pay later"
        assert str(agent.error) == "couldn't get the card details: pay later"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("4111 1111 1111 1112", "not valid"),
        ("4111 1111", "has 8 digits"),
        ("3782 8224 6310 0003", "American Express card number has 15 digits"),
        ("my card is a visa", "must be digits"),
    ],
)
async def test_a_bad_number_is_refused_without_echoing_it(number: str, message: str) -> None:
    agent = Collector(lk.GetCardNumberTask)
    plan = {"mine": Call("update_card_number", card_number=number)}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("mine")
        out = outputs(turn)["update_card_number"]
        assert out.is_error and message in out.output
        assert "1111" not in out.output and "8224" not in out.output


async def test_a_card_number_sent_as_a_number_is_not_echoed_to_the_model() -> None:
    agent = Collector(lk.GetCardNumberTask)
    plan = {"mine": Call("update_card_number", card_number=4111111111111111)}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("mine")
        out = outputs(turn)["update_card_number"]
        assert out.is_error
        assert out.output == "card_number must be text, got an int (private, not shown)"
        later = offline.llm.requests[-1].chat_ctx.items  # what the model reads next
        assert not any("1111" in str(getattr(i, "output", "")) for i in later)


async def test_a_repeated_number_that_differs_is_refused() -> None:
    agent = Collector(lk.GetCardNumberTask)
    plan = {
        "mine": Call("update_card_number", card_number=VISA),
        "again": Call("confirm_card_number", repeated_card_number="4111 1111 1111 1112"),
        "again, right": Call("confirm_card_number", repeated_card_number="4111-1111-1111-1111"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("mine", modality="audio")
        assert "4111" not in outputs(turn)["update_card_number"].output  # never read back
        turn = await offline.say("again", modality="audio")
        assert outputs(turn)["confirm_card_number"].is_error
        await offline.say("again, right", modality="audio")
        assert agent.result == lk.GetCardNumberResult("Visa", "4111111111111111")


async def test_the_code_length_follows_the_issuer() -> None:
    assert (
        lk.GetSecurityCodeTask(issuer="American Express").spec is not lk.GetSecurityCodeTask().spec
    )


async def test_the_parent_agent_continues_after_the_card() -> None:
    class Checkout(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You check out orders.")
            self.last4: str | None = None

        async def on_enter(self) -> None:
            result = await lk.GetCreditCardTask(chat_ctx=self.chat_ctx)
            self.last4 = result.card_number[-4:]
            await self.session.generate_reply(instructions="Thank the user.")

    agent = Checkout()
    async with OfflineSession(
        agent=agent, llm=by_user_line(card_plan(VISA, "123", audio=False))
    ) as offline:
        await collect_card(offline, audio=False)
        assert agent.last4 == "1111"
        assert offline.llm.requests[-1].tools == []  # the parent has the floor again
