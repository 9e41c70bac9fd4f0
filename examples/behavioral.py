"""Unordered collection from the LiveKit documentation, two ways.

``BehavioralTask`` is the documentation's hand-written task (only its import
lines changed). ``behavioral_spec`` is the same task as a declarative chart:
no ``_check_completion``, the chart completes when every field is in.

    python examples/behavioral.py console
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli, function_tool
from taskchart.adapters.livekit import AgentTask, ChartTask
from taskchart.statecharts import Confirmation, Field, Tool, declarative_task
from taskchart.statecharts.task import UPDATE


@dataclass
class BehavioralResults:
    strengths: str
    weaknesses: str
    work_style: str


class BehavioralTask(AgentTask[BehavioralResults]):
    def __init__(self) -> None:
        super().__init__(instructions="Collect strengths, weaknesses, and work style in any order.")
        self._results = {}  # type: ignore[var-annotated]

    @function_tool()
    async def record_strengths(self, strengths_summary: str):  # type: ignore[no-untyped-def]
        """Record candidate's strengths"""
        self._results["strengths"] = strengths_summary
        self._check_completion()

    @function_tool()
    async def record_weaknesses(self, weaknesses_summary: str):  # type: ignore[no-untyped-def]
        """Record candidate's weaknesses"""
        self._results["weaknesses"] = weaknesses_summary
        self._check_completion()

    @function_tool()
    async def record_work_style(self, work_style: str):  # type: ignore[no-untyped-def]
        """Record candidate's work style"""
        self._results["work_style"] = work_style
        self._check_completion()

    def _check_completion(self):  # type: ignore[no-untyped-def]
        required_keys = {"strengths", "weaknesses", "work_style"}
        if self._results.keys() == required_keys:
            results = BehavioralResults(
                strengths=self._results["strengths"],
                weaknesses=self._results["weaknesses"],
                work_style=self._results["work_style"],
            )
            self.complete(results)
        else:
            self.session.generate_reply(instructions="Continue collecting remaining information.")


behavioral_spec = declarative_task(
    "behavioral",
    BehavioralResults,
    fields=[Field("strengths"), Field("weaknesses"), Field("work_style")],
    confirmation=Confirmation.NEVER,
    instructions="Collect strengths, weaknesses, and work style in any order.",
    tools=[
        Tool(
            "record_strengths",
            UPDATE,
            "Record candidate's strengths",
            {"strengths_summary": "strengths"},
        ),
        Tool(
            "record_weaknesses",
            UPDATE,
            "Record candidate's weaknesses",
            {"weaknesses_summary": "weaknesses"},
        ),
        Tool(
            "record_work_style",
            UPDATE,
            "Record candidate's work style",
            {"work_style": "work_style"},
        ),
    ],
)


class Interviewer(Agent):
    def __init__(self, declarative: bool = False) -> None:
        super().__init__(instructions="You are an interviewer.")
        self.declarative = declarative
        self.results: BehavioralResults | None = None

    async def on_enter(self) -> None:
        task = ChartTask(behavioral_spec) if self.declarative else BehavioralTask()
        self.results = await task
        await self.session.generate_reply(instructions="Thank the candidate.")


async def entrypoint(ctx: JobContext) -> None:
    session = AgentSession(llm="openai/gpt-4.1-mini")
    await session.start(agent=Interviewer(), room=ctx.room)


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
