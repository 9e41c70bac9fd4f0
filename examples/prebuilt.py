"""The LiveKit documentation's prebuilt-task examples on taskchart (only imports changed).

python examples/prebuilt.py console

``ContactAgent`` carries the documentation's tools: ``collect_email``
(GetEmailTask), ``collect_contact_info`` (GetEmailTask with extra
instructions and the ``get_alternate_contact_info`` tool),
``collect_shipping_address`` (GetAddressTask) and ``ask_for_phone_number``
(GetDtmfTask, digits typed or spoken).
"""

from __future__ import annotations

from dataclasses import dataclass

import livekit.agents as agents
from livekit.agents import Agent, RunContext, function_tool
from taskchart.adapters.livekit import GetAddressTask, GetDtmfTask, GetEmailTask


@dataclass
class ContactData:
    alternate_contact_method: str | None = None
    alternate_contact_value: str | None = None


@function_tool()
async def get_alternate_contact_info(
    context: RunContext, contact_method: str, contact_value: str
) -> None:
    """Collect alternative contact information when email isn't available"""
    # Store the alternative contact info
    context.session.userdata.alternate_contact_method = contact_method
    context.session.userdata.alternate_contact_value = contact_value
    await context.session.generate_reply(
        instructions=f"Acknowledge that you've recorded their {contact_method}: {contact_value}. Let them know this will be used for communication instead of email."
    )


class ContactAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You collect contact details for an order.")

    @function_tool()
    async def collect_email(self, context: RunContext) -> str:
        """Collect the user's email address"""
        email_result = await GetEmailTask(chat_ctx=self.chat_ctx)
        print(f"Collected email: {email_result.email_address}")
        return f"Collected email: {email_result.email_address}"

    @function_tool()
    async def collect_contact_info(self, context: RunContext) -> str:
        """Collect email or alternative contact information"""
        email_result = await GetEmailTask(
            chat_ctx=self.chat_ctx,
            extra_instructions="If the user cannot provide an email, call get_alternate_contact_info() instead of decline_email_capture().",
            tools=[get_alternate_contact_info],
        )
        return f"Collected email: {email_result.email_address}"

    @function_tool()
    async def collect_shipping_address(self) -> str:
        """Collect the user's shipping address"""
        address_result = await GetAddressTask(
            chat_ctx=self.chat_ctx,
            extra_instructions="Emphasize that this is for shipping purposes and accuracy is important.",
        )
        return f"Shipping address recorded: {address_result.address}"

    @function_tool
    async def ask_for_phone_number(self, context: RunContext) -> str:
        """Ask user to provide a phone number."""
        result = await GetDtmfTask(
            num_digits=10,
            chat_ctx=self.chat_ctx.copy(exclude_instructions=True, exclude_function_call=True),
            ask_for_confirmation=True,
            extra_instructions=(
                "Let the caller know you'll record their 10-digit phone number "
                "and that they can speak or dial it. Provide an example such as "
                "415 555 0199, then capture the digits."
            ),
        )
        return f"User's phone number is {result.user_input}"


async def entrypoint(ctx: agents.JobContext) -> None:
    session = agents.AgentSession(llm="openai/gpt-4.1-mini", userdata=ContactData())
    await session.start(agent=ContactAgent(), room=ctx.room)


if __name__ == "__main__":
    agents.cli.run_app(agents.WorkerOptions(entrypoint_fnc=entrypoint))
