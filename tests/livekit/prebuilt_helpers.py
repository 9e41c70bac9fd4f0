"""Run one prebuilt task in a real offline AgentSession, scripted per user line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livekit.agents import Agent
from livekit.agents.llm import ToolError
from taskchart.adapters.livekit import TaskFailedError
from taskchart.adapters.livekit.testing import OfflineSession, Request, ScriptedLLM
from taskchart.runtime import SimulatedClock


class Collector(Agent):
    """An agent whose ``on_enter`` awaits one task and keeps its result or error."""

    def __init__(
        self, factory: Callable[[], Any], instructions: str = "You help the caller."
    ) -> None:
        super().__init__(instructions=instructions)
        self.factory = factory
        self.result: Any = None
        self.error: ToolError | None = None

    async def on_enter(self) -> None:
        try:
            self.result = await self.factory()
        except ToolError as exc:
            self.error = exc


def by_user_line(plan: dict[str, Any], steps: int = 40) -> list[Any]:
    """Answer each user line once with ``plan[line]`` (first request: key ``""``), else text."""
    used: set[str] = set()

    def step(request: Request) -> Any:
        line = request.user_text or ""
        if line in plan and line not in used and not request.is_summary:
            used.add(line)
            return plan[line]
        return "Go on."

    return [step] * steps


def outputs(run: Any) -> dict[str, Any]:
    """Tool outputs of one turn, by tool name (the last one wins)."""
    return {e.item.name: e.item for e in run.events if e.type == "function_call_output"}


async def elapse(offline: OfflineSession, clock: SimulatedClock, seconds: float) -> None:
    """Let ``seconds`` pass on the simulated clock, then let the session act on what fired."""
    clock.advance(seconds)
    await offline.settle()


def unscripted(agent: Agent) -> OfflineSession:
    """A session whose model calls no tool: it answers every user line in text."""
    return OfflineSession(agent=agent, llm=by_user_line({}))


class TimedSession(OfflineSession):
    """One task's :class:`Collector` in an offline session on its own simulated clock.

    ``make(clock, **options)`` builds the agent; the model answers the user lines
    of ``plan`` with their steps and every other line in text (``llm`` replaces it).
    """

    agent: Collector

    def __init__(
        self,
        make: Callable[..., Collector],
        /,
        *,
        plan: dict[str, Any] | None = None,
        llm: ScriptedLLM | None = None,
        **options: Any,
    ) -> None:
        self.clock = SimulatedClock()
        super().__init__(agent=make(self.clock, **options), llm=llm or by_user_line(plan or {}))

    async def elapse(self, seconds: float) -> None:
        """Let ``seconds`` pass on the clock, then let the session act on what fired."""
        await elapse(self, self.clock, seconds)

    async def silence(self, seconds: float) -> None:
        """A prompt plays to its end, then nobody speaks for ``seconds``."""
        await self.spoke()
        await self.elapse(seconds)

    def failure(self, kind: type[TaskFailedError]) -> Exception | None:
        """Why the task gave up, if it raised a ``kind`` (else ``None``)."""
        error = self.agent.error
        return error.failure if isinstance(error, kind) else None
