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

    from livekit.agents import Agent, AgentTask, function_tool
    from taskchart.adapters.livekit.testing import Call, OfflineSession, Step


    class CollectConsent(AgentTask[bool]):
        def __init__(self) -> None:
            super().__init__(instructions="Ask for recording consent.")

        async def on_enter(self) -> None:
            await self.session.generate_reply(instructions="Ask to record the call.")

        @function_tool
        async def consent_given(self) -> None:
            '''The user agrees to be recorded.'''
            self.complete(True)


    class Receptionist(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You are a receptionist.")
            self.consent: bool | None = None

        async def on_enter(self) -> None:
            self.consent = await CollectConsent()
            await self.session.generate_reply(instructions="Offer your help.")


    async def main() -> None:
        agent = Receptionist()
        script: list[Step] = ["May I record this call?", Call("consent_given"), "Hi!"]
        async with OfflineSession(agent=agent, llm=script) as offline:
            result = await offline.say("Yes, that's fine")
            result.expect.next_event().is_function_call(name="consent_given")
            assert agent.consent is True
            assert offline.llm.requests[1].tools == ["consent_given"]
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
