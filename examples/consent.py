"""CollectConsent from the LiveKit documentation, on taskchart (only imports changed).

python examples/consent.py console
"""

from __future__ import annotations

from livekit import api
from livekit.agents import (
    Agent,
    AgentSession,
    JobContext,
    WorkerOptions,
    cli,
    function_tool,
    get_job_context,
)
from taskchart.adapters.livekit import AgentTask


class CollectConsent(AgentTask[bool]):
    def __init__(self, chat_ctx=None):  # type: ignore[no-untyped-def]
        super().__init__(
            instructions="""Ask for recording consent and get a clear yes or no answer.Be polite and professional.""",
            chat_ctx=chat_ctx,
        )

    async def on_enter(self) -> None:
        await self.session.generate_reply(
            instructions="""Briefly introduce yourself, then ask for permission to record the call for quality assurance and training purposes.Make it clear that they can decline."""
        )

    @function_tool
    async def consent_given(self) -> None:
        """Use this when the user gives consent to record."""
        self.complete(True)

    @function_tool
    async def consent_denied(self) -> None:
        """Use this when the user denies consent to record."""
        self.complete(False)


class CustomerServiceAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are a friendly customer service representative.")

    async def on_enter(self) -> None:
        if await CollectConsent(chat_ctx=self.chat_ctx):
            await self.session.generate_reply(instructions="Offer your assistance to the user.")
        else:
            await self.session.generate_reply(
                instructions="Inform the user that you are unable to proceed and will end the call."
            )
            job_ctx = get_job_context()
            await job_ctx.api.room.delete_room(api.DeleteRoomRequest(room=job_ctx.room.name))


async def entrypoint(ctx: JobContext) -> None:
    session = AgentSession(llm="openai/gpt-4.1-mini")
    await session.start(agent=CustomerServiceAgent(), room=ctx.room)


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
