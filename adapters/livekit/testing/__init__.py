r"""Offline testing helpers for LiveKit flows: a scripted LLM and an in-process session.

:class:`ScriptedLLM` answers each LLM request of a real ``AgentSession`` with
the next step of a script and fails loudly (:class:`ScriptError`) when a step
calls a tool the request did not offer or when the script runs out.
:class:`OfflineSession` starts the session with no server, network, STT, TTS,
VAD or turn-detector model, and lets the loop settle after every user turn so
code awaiting an ``AgentTask`` or ``TaskGroup`` has resumed before you assert.
Fixtures for pytest: :mod:`taskchart.adapters.livekit.pytest_plugin`.

Layout: :mod:`.script` (the steps of a script and the requests they
answer), :mod:`.scripted` (the scripted ``llm.LLM``), :mod:`.session` (the
offline session and :func:`settle`), :mod:`.fixtures` (the types of the
pytest fixtures).

Example (the test suite runs this block verbatim)::

    import asyncio

    from livekit.agents import Agent
    from taskchart.adapters.livekit import GetEmailTask
    from taskchart.adapters.livekit.testing import Call, OfflineSession, Step


    class Signup(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You sign callers up for the newsletter.")
            self.email: str | None = None

        async def on_enter(self) -> None:
            self.email = (await GetEmailTask(chat_ctx=self.chat_ctx)).email_address
            await self.session.generate_reply(instructions="Thank the caller.")


    async def main() -> None:
        agent = Signup()
        script: list[Step] = [
            "What's your email address?",
            Call("update_email_address", email="ada@example.com"),
            "That's a, d, a at example dot com: right?",
            Call("confirm_email_address"),
            "Thank you, you're signed up!",
        ]
        async with OfflineSession(agent=agent, llm=script) as offline:
            await offline.say("ada at example dot com", modality="audio")
            assert agent.email is None  # heard, not yet confirmed
            assert "confirm_email_address" in offline.llm.requests[-1].tools
            result = await offline.say("yes, that's it", modality="audio")
            result.expect.contains_function_call(name="confirm_email_address")
            assert agent.email == "ada@example.com"
            offline.llm.assert_done()


    asyncio.run(main())
"""

from __future__ import annotations

from taskchart.runtime.extras import missing_extra

try:
    from livekit import agents, rtc  # noqa: F401  (every module of the package needs them)
except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
    raise missing_extra(exc, "taskchart.adapters.livekit.testing") from exc

from . import script
from .fixtures import OfflineSessionFactory, ScriptedLLMFactory
from .script import *  # noqa: F403  (its __all__, added below)
from .scripted import ScriptedLLM
from .session import OfflineSession, settle

__all__ = ["OfflineSession", "OfflineSessionFactory", "ScriptedLLM", "ScriptedLLMFactory", "settle"]
__all__ += script.__all__
