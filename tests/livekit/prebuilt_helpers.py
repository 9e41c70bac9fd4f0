"""Run one prebuilt task in a real offline AgentSession, scripted per user line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livekit.agents import Agent
from livekit.agents.llm import ToolError
from taskchart.adapters.livekit.testing import OfflineSession, Request
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
