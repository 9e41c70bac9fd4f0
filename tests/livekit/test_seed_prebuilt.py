"""The documentation's prebuilt-task examples (examples/prebuilt.py) in real offline sessions."""

from __future__ import annotations

import pytest
from taskchart.adapters.livekit.testing import Call, OfflineSession

from examples.prebuilt import ContactAgent, ContactData

from .prebuilt_helpers import by_user_line, outputs


async def test_collect_email_returns_the_result_to_the_calling_tool() -> None:
    plan = {
        "I'd like updates by email": Call("collect_email"),
        "jane dot doe at gmail dot com": Call(
            "update_email_address", email="jane dot doe at gmail dot com"
        ),
    }
    async with OfflineSession(agent=ContactAgent(), llm=by_user_line(plan)) as offline:
        await offline.say("I'd like updates by email")
        turn = await offline.say("jane dot doe at gmail dot com")
        assert outputs(turn)["collect_email"].output == "Collected email: jane.doe@gmail.com"


async def test_collect_contact_info_takes_an_alternate_contact_instead_of_declining() -> None:
    plan = {
        "how can you reach me?": Call("collect_contact_info"),
        "I have no email, call me at 555 0199": Call(
            "get_alternate_contact_info", contact_method="phone", contact_value="555 0199"
        ),
    }
    userdata = ContactData()
    async with OfflineSession(
        agent=ContactAgent(), llm=by_user_line(plan), userdata=userdata
    ) as offline:
        await offline.say("how can you reach me?")
        task_request = offline.llm.requests[-1]
        assert (
            "call get_alternate_contact_info() instead of decline_email_capture()"
            in task_request.instructions
        )
        assert "get_alternate_contact_info" in task_request.tools
        await offline.say("I have no email, call me at 555 0199")
        assert (userdata.alternate_contact_method, userdata.alternate_contact_value) == (
            "phone",
            "555 0199",
        )


async def test_collect_shipping_address() -> None:
    address = Call(
        "update_address",
        street_address="123 Main Street",
        unit_number="Apartment 4B",
        locality="Springfield IL 62704",
        country="United States",
    )
    plan = {"ship it to my home": Call("collect_shipping_address"), "123 Main Street": address}
    async with OfflineSession(agent=ContactAgent(), llm=by_user_line(plan)) as offline:
        await offline.say("ship it to my home")
        assert "for shipping purposes" in offline.llm.requests[-1].instructions
        turn = await offline.say("123 Main Street")
        assert outputs(turn)["collect_shipping_address"].output == (
            "Shipping address recorded: 123 Main Street Apartment 4B Springfield IL 62704 "
            "United States"
        )


@pytest.mark.parametrize("how", ["dialled", "spoken"])
async def test_ask_for_phone_number_by_keypad_or_voice(how: str) -> None:
    spoken = Call("record_inputs", inputs=["four one five five five five oh one nine nine"])
    plan = {
        "take my number": Call("ask_for_phone_number"),
        "four one five five five five oh one nine nine": spoken,
        "yes": Call("confirm_inputs", inputs=list("4155550199")),
    }
    async with OfflineSession(agent=ContactAgent(), llm=by_user_line(plan)) as offline:
        await offline.say("take my number", modality="audio")
        if how == "dialled":
            await offline.dtmf("4155550199")
        else:
            await offline.say("four one five five five five oh one nine nine", modality="audio")
        assert "4 1 5 5 5 5 0 1 9 9" in offline.llm.requests[-1].instructions + str(
            offline.llm.requests[-1].chat_ctx.items[-1]
        )
        turn = await offline.say("yes", modality="audio")
        assert outputs(turn)["ask_for_phone_number"].output == (
            "User's phone number is 4 1 5 5 5 5 0 1 9 9"
        )


async def test_a_declined_email_inside_a_tool_reaches_the_model_as_a_tool_error() -> None:
    plan = {
        "updates please": Call("collect_email"),
        "no, I won't give it": Call("decline_email_capture", reason="privacy"),
    }
    async with OfflineSession(agent=ContactAgent(), llm=by_user_line(plan)) as offline:
        await offline.say("updates please")
        turn = await offline.say("no, I won't give it")
        out = outputs(turn)["collect_email"]
        assert out.is_error and "couldn't get the email address: privacy" in out.output
