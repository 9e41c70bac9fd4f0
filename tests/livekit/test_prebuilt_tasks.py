"""The prebuilt tasks in real offline AgentSessions, in text and audio modality."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from livekit.agents import Agent, RunContext, function_tool
from taskchart.adapters import livekit as lk
from taskchart.adapters.livekit.testing import Call, OfflineSession

from .prebuilt_helpers import Collector, by_user_line, outputs

EMAIL = Call("update_email_address", email="ada at example dot com")
ADDRESS = Call(
    "update_address",
    street_address="450 South Main Street",
    unit_number="floor two",
    locality="Salt Lake City UT 84101",
    country="usa",
)
PHONE = Call("update_phone_number", phone_number="four one five, five five five, oh one three two")
NAME = Call("update_name", first_name="ada", last_name="lovelace")
DOB = Call("update_dob", year=90, month=1, day=15)

CASES: list[tuple[Any, Call, str, Any]] = [
    (lk.GetEmailTask, EMAIL, "confirm_email_address", lk.GetEmailResult("ada@example.com")),
    (
        lk.GetAddressTask,
        ADDRESS,
        "confirm_address",
        lk.GetAddressResult("450 South Main Street floor two Salt Lake City UT 84101 usa"),
    ),
    (lk.GetPhoneNumberTask, PHONE, "confirm_phone_number", lk.GetPhoneNumberResult("4155550132")),
    (
        lambda: lk.GetNameTask(last_name=True),
        NAME,
        "confirm_name",
        lk.GetNameResult("ada", None, "lovelace"),
    ),
    (lk.GetDOBTask, DOB, "confirm_dob", lk.GetDOBResult(date(1990, 1, 15))),
]
IDS = ["email", "address", "phone", "name", "dob"]


@pytest.mark.parametrize(("factory", "update", "confirm", "expected"), CASES, ids=IDS)
async def test_text_input_completes_on_the_update(
    factory: Any, update: Call, confirm: str, expected: Any
) -> None:
    agent = Collector(factory)
    async with OfflineSession(agent=agent, llm=by_user_line({"mine": update})) as offline:
        first = offline.llm.requests[0].tools
        assert confirm not in first and update.name in first  # nothing to confirm yet
        await offline.say("mine")
        assert agent.result == expected


@pytest.mark.parametrize(("factory", "update", "confirm", "expected"), CASES, ids=IDS)
async def test_audio_input_is_read_back_and_confirmed(
    factory: Any, update: Call, confirm: str, expected: Any
) -> None:
    agent = Collector(factory)
    plan = {"mine": update, "yes": Call(confirm)}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("mine", modality="audio")
        assert "prompt the user for confirmation" in outputs(turn)[update.name].output.lower()
        assert agent.result is None
        assert confirm in offline.llm.requests[-1].tools
        await offline.say("yes", modality="audio")
        assert agent.result == expected


@pytest.mark.parametrize(
    ("factory", "update", "decline", "words"),
    [
        (lk.GetEmailTask, EMAIL, "decline_email_capture", "email address"),
        (lk.GetAddressTask, ADDRESS, "decline_address_capture", "address"),
        (lk.GetPhoneNumberTask, PHONE, "decline_phone_number_capture", "phone number"),
        (lk.GetNameTask, NAME, "decline_name_capture", "name"),
        (lk.GetDOBTask, DOB, "decline_dob_capture", "date of birth"),
    ],
    ids=IDS,
)
async def test_decline_raises_a_typed_catchable_error(
    factory: Any, update: Call, decline: str, words: str
) -> None:
    agent = Collector(factory)
    plan = {"no thanks": Call(decline, reason="private")}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        assert decline not in offline.llm.requests[0].tools  # not on the entry reply
        with pytest.raises(lk.DeclinedError):  # the turn's RunResult carries it too, as in LiveKit
            await offline.say("no thanks")
        assert isinstance(agent.error, lk.DeclinedError)
        assert str(agent.error) == f"couldn't get the {words}: private"
        assert agent.result is None


async def test_a_change_after_the_read_back_needs_a_new_confirmation() -> None:
    agent = Collector(lk.GetEmailTask)
    new = Call("update_email_address", email="bob@example.com")
    plan = {
        "ada at example dot com": EMAIL,
        "no, bob at example.com": [Call("confirm_email_address"), new],
        "yes": Call("confirm_email_address"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("ada at example dot com", modality="audio")
        turn = await offline.say("no, bob at example.com", modality="audio")
        assert outputs(turn)["confirm_email_address"].is_error
        assert agent.result is None  # never the value the user just rejected
        await offline.say("yes", modality="audio")
        assert agent.result == lk.GetEmailResult("bob@example.com")


@pytest.mark.parametrize(
    ("require", "modality", "confirms"),
    [(True, "text", True), (False, "audio", False), (None, "text", False), (None, "audio", True)],
)
async def test_require_confirmation_overrides_the_modality(
    require: bool | None, modality: Any, confirms: bool
) -> None:
    kwargs = {} if require is None else {"require_confirmation": require}
    agent = Collector(lambda: lk.GetEmailTask(**kwargs))
    plan = {"mine": EMAIL, "yes": Call("confirm_email_address")}
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("mine", modality=modality)
        assert (agent.result is None) is confirms
        if confirms:
            await offline.say("yes", modality=modality)
        assert agent.result == lk.GetEmailResult("ada@example.com")


async def test_verify_spelling_spells_the_read_back_even_in_text() -> None:
    agent = Collector(lambda: lk.GetEmailTask(verify_spelling=True))
    plan = {
        "mine": Call("update_email_address", email="ab@cd.io"),
        "yes": Call("confirm_email_address"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("mine")
        assert "a b @ c d . i o" in outputs(turn)["update_email_address"].output
        await offline.say("yes")
        assert agent.result == lk.GetEmailResult("ab@cd.io")


async def test_a_value_prefilled_from_a_voice_call_still_needs_confirmation() -> None:
    class Parent(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You take orders.")
            self.email: str | None = None

        @function_tool()
        async def collect_email(self, context: RunContext) -> str:
            """Collect the user's email address."""
            result = await lk.GetEmailTask(chat_ctx=self.chat_ctx)
            self.email = result.email_address
            return f"Collected email: {result.email_address}"

    agent = Parent()
    plan = {
        "my email is ada at example dot com, note it": Call("collect_email"),
        "yes": Call("confirm_email_address"),
    }
    script = by_user_line(plan)
    prefilled = [False]

    def step(request: Any) -> Any:  # the task's entry reply records the value it already heard
        if "update_email_address" in request.tools and not prefilled[0]:
            prefilled[0] = True
            return EMAIL
        return script.pop(0)(request)

    async with OfflineSession(agent=agent, llm=[step] * 30) as offline:
        await offline.say("my email is ada at example dot com, note it", modality="audio")
        assert prefilled[0] and agent.email is None  # read back, not taken silently
        await offline.say("yes", modality="audio")
        assert agent.email == "ada@example.com"


def springfield(country: str) -> Call:
    """An address call whose country is the one to check."""
    return Call(
        "update_address",
        street_address="1 Main St",
        unit_number="",
        locality="Springfield",
        country=country,
    )


@pytest.mark.parametrize(
    ("factory", "call", "message"),
    [
        (lk.GetEmailTask, Call("update_email_address", email="not an email"), "email"),
        (
            lk.GetAddressTask,
            springfield("usa"),
            "ZIP code",
        ),
        (
            lk.GetAddressTask,
            springfield("Atlantis"),
            "not a country",
        ),
        (
            lk.GetPhoneNumberTask,
            Call("update_phone_number", phone_number="12"),
            "not a valid phone",
        ),
        (lk.GetNameTask, Call("update_name", first_name="null"), "not a name"),
        (lk.GetNameTask, Call("update_name", first_name="4111 1111"), "contains no letters"),
        (lk.GetDOBTask, Call("update_dob", year=2090, month=1, day=1), "in the future"),
        (lk.GetDOBTask, Call("update_dob", year=1990, month=2, day=30), "Invalid date"),
        (lk.GetDOBTask, Call("update_dob", year="nineteen", month=2, day=3), "whole number"),
        (
            lk.GetNameTask,
            Call("update_name", first_name="Ada\u202eecalevoL"),
            "first_name contains an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)",
        ),
        (
            lk.GetNameTask,
            Call("update_name", first_name="Ada" + "".join(chr(0xE0000 + ord(c)) for c in "hi")),
            "first_name contains an invisible character (U+E0068 TAG LATIN SMALL LETTER H)",
        ),
        (
            lk.GetEmailTask,
            Call("update_email_address", email="ada@ex\u0430mple.com"),
            "The email's domain mixes Cyrillic and Latin letters",
        ),
    ],
)
async def test_invalid_values_get_an_actionable_error_and_the_task_goes_on(
    factory: Any, call: Call, message: str
) -> None:
    agent = Collector(factory)
    async with OfflineSession(agent=agent, llm=by_user_line({"mine": call})) as offline:
        turn = await offline.say("mine")
        out = outputs(turn)[call.name]
        assert out.is_error and message in out.output
        assert agent.result is None and agent.error is None


async def test_dob_reads_two_digit_years_and_takes_an_optional_time() -> None:
    agent = Collector(lambda: lk.GetDOBTask(include_time=True))
    plan = {
        "born 5/3/05 at 7:30": [
            Call("update_time", hour=7, minute=30),
            Call("update_dob", year=5, month=3, day=5),
        ],
        "yes": Call("confirm_dob"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("born 5/3/05 at 7:30", modality="audio")
        await offline.say("yes", modality="audio")
        assert agent.result == lk.GetDOBResult(date(2005, 3, 5), time(7, 30))


async def test_name_collects_the_flagged_parts_and_spells_them_back() -> None:
    agent = Collector(
        lambda: lk.GetNameTask(middle_name=True, last_name=True, verify_spelling=True)
    )
    plan = {
        "ada lovelace": Call("update_name", first_name="Ada", last_name="Lovelace"),
        "middle is king": Call(
            "update_name", first_name="Ada", middle_name="King", last_name="Lovelace"
        ),
        "yes": Call("confirm_name"),
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("ada lovelace")
        assert "middle_name" in outputs(turn)["update_name"].output  # still needed
        turn = await offline.say("middle is king")
        assert "A d a K i n g L o v e l a c e" in outputs(turn)["update_name"].output
        await offline.say("yes")
        assert agent.result == lk.GetNameResult("Ada", "King", "Lovelace")


noted: list[str] = []


@function_tool()
async def get_alternate_contact_info(
    context: RunContext, contact_method: str, contact_value: str
) -> None:
    """Collect alternative contact information when email isn't available"""
    noted.append(f"{contact_method}: {contact_value}")


async def test_extra_instructions_and_tools_are_added() -> None:
    noted.clear()

    agent = Collector(
        lambda: lk.GetAddressTask(
            extra_instructions="Emphasize that this is for shipping purposes.",
            tools=[get_alternate_contact_info],
        )
    )
    plan = {
        "call me": Call("get_alternate_contact_info", contact_method="phone", contact_value="555")
    }
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        first = offline.llm.requests[0]
        assert "for shipping purposes" in first.instructions
        assert "get_alternate_contact_info" in first.tools
        await offline.say("call me")
        assert noted == ["phone: 555"]
        assert agent.result is None  # the address task goes on


@pytest.mark.parametrize("factory", [lk.GetEmailTask, lambda: lk.GetNameTask(last_name=True)])
async def test_closing_the_session_mid_task_ends_the_awaiting_code(factory: Any) -> None:
    import asyncio

    agent = Collector(factory)
    plan = {"mine": EMAIL if factory is lk.GetEmailTask else NAME}
    offline = OfflineSession(agent=agent, llm=by_user_line(plan))
    await offline.start()
    await offline.say("mine", modality="audio")  # read back, waiting for the confirmation
    assert agent.result is None
    before = {t for t in asyncio.all_tasks() if not t.done()}
    await offline.aclose()
    assert agent.result is None
    left = {t for t in asyncio.all_tasks() if not t.done()} - before
    assert not left  # nothing the task started is still running
