"""Each prebuilt task in a full offline session: taskchart's vs LiveKit's ``beta.workflows``.

Run ``python benchmarks/prebuilt_session.py`` (about a minute) or ``--quick``.
For every task, the same scripted conversation runs in a real ``AgentSession``
(:class:`~taskchart.adapters.livekit.testing.OfflineSession`, scripted LLM, no
I/O): an agent awaits the task in ``on_enter``; the user gives the value (text:
one turn, the task completes on the update) or, in audio, gives it and then
confirms the read-back (two turns). One session is timed from
``OfflineSession(...)`` to the end of its ``aclose``; each session's result is
checked afterwards (untimed), so a broken run cannot be timed.

The two variants run interleaved in one process and event loop, alternating
which goes first; every session starts after ``gc.collect(); gc.freeze()``.
``--clock cpu`` (default) times with the thread's CPU clock, which ignores time
the process was descheduled on a busy machine; ``--clock wall`` uses wall time.
Printed per task and modality: median and p95 per session of each variant and
the median of the per-round ratios taskchart/LiveKit. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent
from livekit.agents.beta import workflows as lk
from livekit.agents.llm import ToolError
from taskchart.adapters import livekit as tc
from taskchart.adapters.livekit.testing import Call, OfflineSession, Request


@dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    update: Call
    confirm: str | None  # the confirm tool, or None when the task has no audio confirmation
    check: Callable[[Any], bool]


ADDRESS = Call(
    "update_address",
    street_address="5 Rue de l'Ancienne Comedie",
    unit_number="",
    locality="75006 Paris",
    country="France",
)

CASES = [
    Case(
        "email",
        tc.GetEmailTask,
        lk.GetEmailTask,
        Call("update_email_address", email="ada@example.com"),
        "confirm_email_address",
        lambda r: r.email_address == "ada@example.com",
    ),
    Case(
        "address",
        tc.GetAddressTask,
        lk.GetAddressTask,
        ADDRESS,
        "confirm_address",
        lambda r: "Paris" in r.address,
    ),
    Case(
        "phone",
        tc.GetPhoneNumberTask,
        lk.GetPhoneNumberTask,
        Call("update_phone_number", phone_number="+14155550132"),
        "confirm_phone_number",
        lambda r: r.phone_number.endswith("4155550132"),
    ),
    Case(
        "name",
        lambda: tc.GetNameTask(last_name=True),
        lambda: lk.GetNameTask(last_name=True),
        Call("update_name", first_name="Ada", last_name="Lovelace"),
        "confirm_name",
        lambda r: (r.first_name, r.last_name) == ("Ada", "Lovelace"),
    ),
    Case(
        "dob",
        tc.GetDOBTask,
        lk.GetDOBTask,
        Call("update_dob", year=1990, month=1, day=15),
        "confirm_dob",
        lambda r: r.date_of_birth.year == 1990,
    ),
    Case(
        "dtmf",
        lambda: tc.GetDtmfTask(num_digits=4),
        lambda: lk.GetDtmfTask(num_digits=4),
        Call("record_inputs", inputs=["1", "2", "3", "4"]),
        None,
        lambda r: r.user_input == "1 2 3 4",
    ),
]


class Collector(Agent):
    def __init__(self, factory: Callable[[], Any]) -> None:
        super().__init__(instructions="You help the caller.")
        self.factory = factory
        self.result: Any = None

    async def on_enter(self) -> None:
        try:
            self.result = await self.factory()
        except ToolError as exc:
            self.result = exc


def script(plan: dict[str, Any]) -> list[Any]:
    used: set[str] = set()

    def step(request: Request) -> Any:
        line = request.user_text or ""
        if line in plan and line not in used:
            used.add(line)
            return plan[line]
        return "Go on."

    return [step] * 12


async def one_session(case: Case, variant: str, modality: Any, clock: Callable[[], float]) -> float:
    factory = case.ours if variant == "taskchart" else case.theirs
    agent = Collector(factory)
    turns = ["mine"] if modality == "text" else ["mine", "yes"]
    plan: dict[str, Any] = {"mine": case.update}
    if case.confirm:
        plan["yes"] = Call(case.confirm)
    gc.collect()
    gc.freeze()
    t0 = clock()
    offline = OfflineSession(agent=agent, llm=script(plan))
    await offline.start()
    for line in turns:
        await offline.say(line, modality=modality)
    await offline.aclose()
    elapsed = clock() - t0
    gc.unfreeze()
    if agent.result is None or isinstance(agent.result, Exception) or not case.check(agent.result):
        raise AssertionError(f"{variant} {case.name} {modality}: result {agent.result!r}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main(rounds: int, clock: Callable[[], float]) -> None:
    print(f"{rounds} rounds per task and modality, interleaved; times in ms per session")
    print(
        f"{'task':<8} {'modality':<6} {'taskchart med/p95':>20} {'LiveKit med/p95':>18} {'ratio':>6}"
    )
    for case in CASES:
        for modality in ("text", "audio"):
            if modality == "audio" and case.confirm is None:
                continue
            for variant in ("taskchart", "livekit"):  # warm up both, untimed
                await one_session(case, variant, modality, clock)
            ours: list[float] = []
            theirs: list[float] = []
            ratios: list[float] = []
            for i in range(rounds):
                order = ("taskchart", "livekit") if i % 2 == 0 else ("livekit", "taskchart")
                got = {v: await one_session(case, v, modality, clock) for v in order}
                ours.append(got["taskchart"])
                theirs.append(got["livekit"])
                ratios.append(got["taskchart"] / got["livekit"])
            a = f"{statistics.median(ours) * 1e3:.2f}/{p95(ours) * 1e3:.2f}"
            b = f"{statistics.median(theirs) * 1e3:.2f}/{p95(theirs) * 1e3:.2f}"
            print(f"{case.name:<8} {modality:<6} {a:>20} {b:>18} {statistics.median(ratios):>6.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="10 rounds")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    asyncio.run(main(10 if args.quick else args.rounds, clock))
    sys.exit(0)
