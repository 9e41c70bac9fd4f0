"""The interview TaskGroup of the LiveKit documentation, on taskchart.

Only the import lines differ from the documentation. Run it as a worker with
an LLM (LiveKit inference or a plugin) and LiveKit credentials::

    python examples/interview.py console

The tests run the same classes offline with a scripted LLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import livekit.agents as agents
from livekit.agents import Agent, RunContext, function_tool
from taskchart.adapters.livekit import AgentTask, TaskGroup


@dataclass
class IntroResults:
    name: str
    intro: str


@dataclass
class CommuteResults:
    can_commute: bool
    commute_method: str


class IntroTask(AgentTask[IntroResults]):
    def __init__(self) -> None:
        super().__init__(
            instructions="Welcome the candidate and collect their name and introduction."
        )

    async def on_enter(self) -> None:
        await self.session.generate_reply(
            instructions="Welcome the candidate and gather their name."
        )

    @function_tool()
    async def record_intro(self, context: RunContext, name: str, intro_notes: str) -> None:
        """Record the candidate's name and introduction"""
        context.session.userdata.candidate_name = name
        results = IntroResults(name=name, intro=intro_notes)
        self.complete(results)


class CommuteTask(AgentTask[CommuteResults]):
    def __init__(self) -> None:
        super().__init__(instructions="Ask about the candidate's ability to commute to the office.")

    @function_tool()
    async def record_commute_flexibility(
        self, context: RunContext, can_commute: bool, commute_method: str
    ) -> None:
        """Record commute flexibility and transportation method"""
        results = CommuteResults(can_commute=can_commute, commute_method=commute_method)
        self.complete(results)


def build_group(**options: object) -> TaskGroup:
    """The documentation's interview group (``options`` go to ``TaskGroup``)."""
    task_group = TaskGroup(**options)  # type: ignore[arg-type]
    task_group.add(
        lambda: IntroTask(), id="intro_task", description="Collects name and introduction"
    )
    task_group.add(
        lambda: CommuteTask(), id="commute_task", description="Asks about commute flexibility"
    )
    return task_group


class Interviewer(Agent):
    """Runs the interview group, then thanks the candidate."""

    def __init__(self, **group_options: object) -> None:
        super().__init__(instructions="You are a friendly interviewer.")
        self.group_options = group_options
        self.task_results: dict[str, object] | None = None
        self.error: Exception | None = None

    async def on_enter(self) -> None:
        try:
            results = await build_group(chat_ctx=self.chat_ctx, **self.group_options)
        except Exception as exc:  # e.g. the session closed mid-interview
            self.error = exc
            return
        self.task_results = results.task_results
        await self.session.generate_reply(instructions="Thank the candidate and end the interview.")


async def entrypoint(ctx: agents.JobContext) -> None:
    session = agents.AgentSession(llm="openai/gpt-4.1-mini", userdata=SimpleNamespace())
    await session.start(agent=Interviewer(), room=ctx.room)


if __name__ == "__main__":
    agents.cli.run_app(agents.WorkerOptions(entrypoint_fnc=entrypoint))
