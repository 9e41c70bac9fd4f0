"""Memory: per concurrent call (vs LiveKit's own classes), per sans-I/O flow, and over a long-lived worker.

Run ``python benchmarks/memory.py`` (a few minutes) or ``--quick`` (under a
minute). Three measurements, each against a baseline taken in the same run:

* ``sessions``: ``--sessions`` (100) concurrent offline ``AgentSession``s, each
  paused inside the interview ``TaskGroup`` of ``taskgroup_session.py`` (after
  the first user turn; the group has moved on to its second task), with
  taskchart's ``TaskGroup`` and with LiveKit's ``beta.workflows.TaskGroup``.
  Memory per session is what the open sessions hold: tracemalloc's traced
  memory with all of them open minus before, over their count (both variants in
  one process, alternating), and the same as resident memory (RSS), each
  variant in a fresh child process (RSS never shrinks back, so a shared
  process would favour the second variant). Every session then finishes its
  script and is checked (``taskgroup_session.verify``).
* ``flows``: ``--flows`` (1,000) concurrent sans-I/O flows of the interview
  chart (``taskchart.adapters.console.interview``), each started and given its
  first answer, on the table engine and on python-statemachine
  (``engine="statemachine"``, the reference); traced memory per flow, then
  events per second for all of them driven to the end.
* ``worker``: one process running ``--calls`` (10,000) calls one after another:
  the interview group session (taskchart's and LiveKit's), and sans-I/O email
  flows, each with a new address (email validation is memoised: its cache must
  stay bounded: 4,096 addresses). Growth is the interpreter's allocated blocks
  (``sys.getallocatedblocks``) from the middle call to the last, per call; the
  cache sizes are printed.

Nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # ``interview_sessions`` and ``examples``
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import interview_sessions as tg  # noqa: E402
from taskchart.adapters.console.interview import interview_chart  # noqa: E402
from taskchart.adapters.livekit.testing import OfflineSession  # noqa: E402
from taskchart.runtime import Interpreter, ToolCalled, UserSpoke  # noqa: E402
from taskchart.statecharts import compile_chart  # noqa: E402
from taskchart.statecharts.prebuilt import email_spec  # noqa: E402

VARIANTS = ("taskchart", "livekit")
SCENARIO = tg.SCENARIOS[0]  # "regress": four user turns, one regression


def rss() -> int:
    """Resident set size in bytes (Linux), 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


# -- concurrent sessions ------------------------------------------------------------------
async def open_sessions(
    variant: str, n: int, measure: Any
) -> tuple[float, list[tuple[Any, OfflineSession]]]:
    """``n`` sessions of ``variant`` open at once; ``measure()`` before and with all open."""
    _, intro, commute = tg.BASES["taskchart"]
    gc.collect()
    before = measure()
    opened: list[tuple[Any, OfflineSession]] = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(n):
            agent = tg.Interviewer(tg.VARIANTS[variant][1], intro, commute)
            script = tg.interview_script(regress=SCENARIO.regress)
            offline = OfflineSession(agent=agent, llm=script, userdata=SimpleNamespace())
            await stack.enter_async_context(offline)
            await offline.say(SCENARIO.lines[0])
            opened.append((agent, offline))
        gc.collect()
        held = (measure() - before) / n
        for _, offline in opened:
            for line in SCENARIO.lines[1:]:
                await offline.say(line)
    for agent, offline in opened:
        tg.verify(SCENARIO, agent, offline, variant)
    return held, opened


async def traced_per_session(n: int, repeats: int) -> dict[str, float]:
    """Traced bytes per open session of each variant, the median of ``repeats`` (alternating)."""
    for variant in VARIANTS:  # imports and caches, untraced
        await open_sessions(variant, 2, lambda: 0)
    samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(repeats):
        for variant in VARIANTS if r % 2 == 0 else VARIANTS[::-1]:
            tracemalloc.start()
            try:
                held, _ = await open_sessions(
                    variant, n, lambda: tracemalloc.get_traced_memory()[0]
                )
            finally:
                tracemalloc.stop()
            samples[variant].append(held)
    return {v: sorted(xs)[len(xs) // 2] for v, xs in samples.items()}


async def rss_per_session(variant: str, n: int) -> float:
    await open_sessions(variant, 2, lambda: 0)
    held, _ = await open_sessions(variant, n, rss)
    return held


def rss_in_child(variant: str, n: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", variant, "--sessions", str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout.splitlines()[-1])["rss"])


def sessions(n: int, repeats: int) -> dict[str, Any]:
    traced = asyncio.run(traced_per_session(n, repeats))
    resident = {v: rss_in_child(v, n) for v in VARIANTS}
    return {"n": n, "traced": traced, "rss": resident}


# -- sans-I/O flows -----------------------------------------------------------------------
INTRO = ToolCalled("record_intro", {"name": "Ada", "intro_notes": "engineer"})
REST = (
    ToolCalled("update_email_address", {"email": "ada@example.com"}),
    UserSpoke("yes, that's right"),  # the read-back was heard
    ToolCalled("confirm_email_address", {}),
    ToolCalled("record_commute_flexibility", {"can_commute": True, "commute_method": "bike"}),
)


def flows(n: int, engine: str) -> dict[str, float]:
    """Traced bytes per open flow (started, first answer given), then events/s to the end."""
    chart = interview_chart()
    warm = Interpreter(chart, engine=engine)
    warm.start()
    for event in (INTRO, *REST):
        warm.handle(event)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    opened = []
    for _ in range(n):
        flow = Interpreter(chart, engine=engine)
        flow.start()
        flow.handle(INTRO)
        opened.append(flow)
    gc.collect()
    per_flow = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    t0 = time.perf_counter()
    for flow in opened:
        for event in REST:
            flow.handle(event)
    seconds = time.perf_counter() - t0
    if any(not f.done or f.result is None for f in opened):
        raise AssertionError(f"{engine}: a flow did not complete")
    return {"bytes": per_flow, "events_per_s": n * len(REST) / seconds}


# -- a long-lived worker -------------------------------------------------------------------
def _cache_sizes() -> dict[str, int]:
    from taskchart.statecharts import chart as chart_module
    from taskchart.statecharts import engines, spoken

    return {
        "compile_chart": len(chart_module._CACHE),
        "call_with params": len(engines._PARAMS),
        "email validation": spoken._normalize_email.cache_info().currsize,
    }


async def _session_calls(variant: str, calls: int) -> list[int]:
    marks = []
    for i in range(calls):
        await tg.run_session(variant, SCENARIO, "taskchart", time.perf_counter)
        if i + 1 in (calls // 2, calls):
            gc.collect()
            marks.append(sys.getallocatedblocks())
    return marks


def _email_calls(calls: int) -> list[int]:
    chart = compile_chart(email_spec())
    marks = []
    for i in range(calls):
        flow = Interpreter(chart)
        flow.start()
        flow.handle(ToolCalled("update_email_address", {"email": f"caller.{i}@example.com"}))
        if flow.result is None or flow.result.email_address != f"caller.{i}@example.com":
            raise AssertionError(f"email call {i}: {flow.result!r}")
        if i + 1 in (calls // 2, calls):
            gc.collect()
            marks.append(sys.getallocatedblocks())
    return marks


def worker(calls: int) -> dict[str, Any]:
    growth: dict[str, float] = {}
    span = calls - calls // 2
    for variant in VARIANTS:
        first, last = asyncio.run(_session_calls(variant, calls))
        growth[f"{variant} sessions"] = (last - first) / span
    first, last = _email_calls(calls)
    growth["email flows"] = (last - first) / span
    return {"calls": calls, "blocks_per_call": growth, "caches": _cache_sizes()}


# -- main ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--sessions", type=int, default=None, help="concurrent sessions (100; quick 20)")
    p.add_argument("--flows", type=int, default=1000, help="concurrent sans-I/O flows")
    p.add_argument("--calls", type=int, default=None, help="worker calls (10,000; quick 200)")
    p.add_argument("--rss-child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    n = args.sessions or (20 if args.quick else 100)
    if args.rss_child:
        print(json.dumps({"rss": asyncio.run(rss_per_session(args.rss_child, n))}))
        return 0
    calls = args.calls or (200 if args.quick else 10_000)

    s = sessions(n, 1 if args.quick else 3)
    print(f"{n} concurrent interview-group sessions, KiB per session (taskchart / LiveKit):")
    for key in ("traced", "rss"):
        a, b = s[key]["taskchart"], s[key]["livekit"]
        print(f"  {key:<7} {a / 1024:8.1f} / {b / 1024:8.1f}   ratio {a / b:.3f}")
    print(f"{args.flows} concurrent sans-I/O interview flows:")
    for engine in ("table", "statemachine"):
        f = flows(args.flows, engine)
        print(
            f"  {engine:<12} {f['bytes'] / 1024:6.2f} KiB/flow  {f['events_per_s']:9.0f} events/s"
        )
    w = worker(calls)
    print(f"worker of {calls} calls one after another, allocated blocks per call (second half):")
    for key, value in w["blocks_per_call"].items():
        print(f"  {key:<20} {value:+.3f}")
    print(f"  caches: {w['caches']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
