"""The interview sessions ``taskgroup_session.py`` times, and how each is verified.

An ``Interviewer`` agent awaits the documentation's interview group (taskchart's
or LiveKit's ``TaskGroup``, on either ``AgentTask`` base) in an
:class:`~taskchart.adapters.livekit.testing.OfflineSession`; :func:`run_session`
times one scripted session and :func:`verify` refuses a session that went wrong.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for ``examples``

from livekit.agents import Agent  # noqa: E402
from livekit.agents.beta.workflows import TaskGroup as LiveKitTaskGroup  # noqa: E402
from taskchart.adapters.livekit import TaskCompletedEvent  # noqa: E402
from taskchart.adapters.livekit import TaskGroup as TaskchartTaskGroup  # noqa: E402
from taskchart.adapters.livekit.testing import Call, OfflineSession, Summary  # noqa: E402

from examples.interview import CommuteResults, CommuteTask, IntroResults, IntroTask  # noqa: E402
from tests.livekit.documented import as_documented  # noqa: E402

# -- the conversation ----------------------------------------------------------------
INTRO = {"name": "Ana", "intro_notes": "backend engineer"}
INTRO_FIXED = {"name": "Anna", "intro_notes": "backend engineer"}
COMMUTE = {"can_commute": True, "commute_method": "subway"}
SUMMARY = "Anna, backend engineer, commutes by subway."


def interview_script(*, regress: bool) -> list[Any]:
    """``interview_script(regress=..., summarize=True)`` of the seed-example tests."""
    script: list[Any] = ["Welcome! What's your name?", Call("record_intro", INTRO)]
    if regress:
        script += [
            Call("out_of_scope", task_ids=["intro_task"]),
            "Sure, what's your name?",
            Call("record_intro", INTRO_FIXED),
        ]
    script += [Call("record_commute_flexibility", COMMUTE), Summary(SUMMARY)]
    script.append("Thank you for your time!")
    return script


@dataclass(frozen=True)
class Scenario:
    name: str
    regress: bool
    lines: tuple[str, ...]
    completed: tuple[str, ...]
    results: dict[str, Any]
    candidate: str


SCENARIOS = (
    Scenario(
        "regress",
        True,
        (
            "I'm Ana, a backend engineer",
            "Actually my name is Anna",
            "Anna, backend engineer",
            "Yes, by subway",
        ),
        ("intro_task", "intro_task", "commute_task"),
        {
            "intro_task": IntroResults("Anna", "backend engineer"),
            "commute_task": CommuteResults(True, "subway"),
        },
        "Anna",
    ),
    Scenario(
        "straight",
        False,
        ("I'm Ana, a backend engineer", "Yes, by subway"),
        ("intro_task", "commute_task"),
        {
            "intro_task": IntroResults("Ana", "backend engineer"),
            "commute_task": CommuteResults(True, "subway"),
        },
        "Ana",
    ),
)


# -- the same tasks on LiveKit's plain AgentTask (``--base livekit``) -------------------
documented = as_documented("interview")

BASES: dict[str, tuple[str, type[Any], type[Any]]] = {
    "taskchart": ("taskchart AgentTask (examples/interview.py)", IntroTask, CommuteTask),
    "livekit": (
        "LiveKit's plain AgentTask (examples/interview.py as documented)",
        documented.IntroTask,
        documented.CommuteTask,
    ),
}

VARIANTS: dict[str, tuple[str, type[Any]]] = {
    "taskchart": ("taskchart.adapters.livekit.TaskGroup", TaskchartTaskGroup),
    "livekit": ("livekit.agents.beta.workflows.TaskGroup", LiveKitTaskGroup),
}


def build_group(group_cls: type[Any], intro: type[Any], commute: type[Any], **options: Any) -> Any:
    """``examples.interview.build_group`` with the group class and task classes chosen."""
    task_group = group_cls(**options)
    task_group.add(lambda: intro(), id="intro_task", description="Collects name and introduction")
    task_group.add(
        lambda: commute(), id="commute_task", description="Asks about commute flexibility"
    )
    return task_group


class Interviewer(Agent):
    """``examples.interview.Interviewer``, recording the completions it was told about."""

    def __init__(self, group_cls: type[Any], intro: type[Any], commute: type[Any]) -> None:
        super().__init__(instructions="You are a friendly interviewer.")
        self.group_cls, self.intro, self.commute = group_cls, intro, commute
        self.completed: list[tuple[str, Any]] = []
        self.task_results: dict[str, Any] | None = None
        self.error: Exception | None = None

    async def _on_task_completed(self, ev: TaskCompletedEvent) -> None:
        self.completed.append((ev.task_id, ev.result))

    async def on_enter(self) -> None:
        group = build_group(
            self.group_cls,
            self.intro,
            self.commute,
            chat_ctx=self.chat_ctx,
            summarize_chat_ctx=True,
            on_task_completed=self._on_task_completed,
        )
        try:
            results = await group
        except Exception as exc:
            self.error = exc
            return
        self.task_results = results.task_results
        await self.session.generate_reply(instructions="Thank the candidate and end the interview.")


# -- one session -----------------------------------------------------------------------
class GcTimer:
    """Wall time spent in the garbage collector (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._t0


GC_TIMER = GcTimer()


class BrokenRun(AssertionError):
    """A session did not do what the script says: its time would mean nothing."""


def verify(scenario: Scenario, agent: Interviewer, offline: OfflineSession, variant: str) -> None:
    where = f"{variant} {scenario.name} session"
    if agent.error is not None:
        raise BrokenRun(f"{where}: the group raised {agent.error!r}")
    if repr(agent.task_results) != repr(scenario.results):
        raise BrokenRun(f"{where}: task_results {agent.task_results!r} != {scenario.results!r}")
    order = tuple(tid for tid, _ in agent.completed)
    if order != scenario.completed:
        raise BrokenRun(f"{where}: on_task_completed order {order} != {scenario.completed}")
    first_intro = IntroResults("Ana", "backend engineer")
    expected = [first_intro] * scenario.regress + list(scenario.results.values())
    if repr([r for _, r in agent.completed]) != repr(expected):
        raise BrokenRun(f"{where}: on_task_completed results {agent.completed!r}")
    if getattr(offline.session.userdata, "candidate_name", None) != scenario.candidate:
        raise BrokenRun(f"{where}: userdata {offline.session.userdata!r}")
    texts = [m.text_content or "" for m in agent.chat_ctx.messages()]
    summaries = [t for t in texts if "<chat_history_summary>" in t]
    if len(summaries) != 1 or SUMMARY not in summaries[0]:
        raise BrokenRun(f"{where}: expected one summary in the agent's chat, got {summaries!r}")
    if any(line in texts for line in scenario.lines):
        raise BrokenRun(f"{where}: the group's turns were merged unsummarized")
    offline.llm.assert_done()  # every step used, no ScriptError (also the logged ones)
    offered = [r for r in offline.llm.requests if "out_of_scope" in r.tools]
    if scenario.regress and not offered:
        raise BrokenRun(f"{where}: out_of_scope was never offered")
    me = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    if leftover:
        raise BrokenRun(f"{where}: {len(leftover)} task(s) survived the close: {leftover[:3]}")


@dataclass
class Sample:
    ms: float
    gc_ms: float


async def run_session(
    variant: str, scenario: Scenario, base: str, clock: Callable[[], float]
) -> Sample:
    _, intro, commute = BASES[base]
    agent = Interviewer(VARIANTS[variant][1], intro, commute)
    script = interview_script(regress=scenario.regress)
    gc0 = GC_TIMER.total
    t0 = clock()
    async with OfflineSession(agent=agent, llm=script, userdata=SimpleNamespace()) as offline:
        for line in scenario.lines:
            await offline.say(line)
    t1 = clock()
    gc_s = GC_TIMER.total - gc0
    verify(scenario, agent, offline, variant)
    return Sample((t1 - t0) * 1e3, gc_s * 1e3)


def prepare_gc(mode: str) -> None:
    if mode == "fresh":
        gc.collect()
        gc.freeze()
