"""A full offline session: taskchart's ``TaskGroup`` vs LiveKit's ``beta.workflows.TaskGroup``.

Run ``python benchmarks/taskgroup_session.py`` (about 20-45 s) or ``--quick``
(under 15 s). Every session is the same scripted conversation, in a real
``AgentSession`` (:class:`~taskchart.adapters.livekit.testing.OfflineSession`,
scripted LLM, no I/O): an ``Interviewer`` agent awaits the documentation's
interview group (``intro_task`` then ``commute_task``, ``summarize_chat_ctx=True``,
an ``on_task_completed`` callback), then thanks the candidate.

Scenarios (``interview_script`` of ``tests/livekit/test_seed_examples.py``):

* ``regress``   4 user turns; during the commute task the user corrects their name,
                the model calls ``out_of_scope(["intro_task"])``, the intro re-runs,
                then the commute task; completions: intro, intro, commute.
* ``straight``  2 user turns, no regression; completions: intro, commute.

Variants, run interleaved in one process and one event loop (each round runs
both variants of each scenario, alternating which goes first: AB, BA, AB, ...):

* ``taskchart`` ``taskchart.adapters.livekit.TaskGroup`` (a group chart run by the
                sans-I/O interpreter).
* ``livekit``   ``livekit.agents.beta.workflows.TaskGroup`` (a list of task ids).

Both groups get the same task classes: by default the unchanged ``IntroTask`` and
``CommuteTask`` of ``examples/interview.py``, whose base is taskchart's
``AgentTask`` (LiveKit's ``AgentTask`` with a final ``complete``); ``--base
livekit`` uses the same file as the documentation writes it, on LiveKit's plain
``AgentTask`` (``tests/livekit/documented.py``).

One session is timed from ``OfflineSession(...)`` to the end of its ``aclose``
(start, every user turn, settle, close). Each session is verified afterwards
(untimed): ``task_results`` equal the expected dataclasses (by ``repr``: the
documented module has dataclasses of its own), ``on_task_completed``
fired in the expected order, the group's summary reached the agent's chat
context, the whole script was used with no script error and no session task
survived the close, so a broken run cannot be timed.

Garbage collection: by default (``--gc fresh``) every session starts with
``gc.collect()`` then ``gc.freeze()`` (untimed), so it pays for collecting its own
garbage but not for the heap earlier sessions left behind; ``--gc natural`` never
intervenes. The gc time inside each session is reported. Nothing here asserts
absolute times: the ratios, paired round by round, are the numbers to read. On a
busy machine, ``--clock cpu`` times with the thread's CPU clock (the sessions
are CPU-bound and run on this thread: no sleeps, no worker threads), which
ignores the time the process was descheduled and narrows the IQRs a lot.

``--profile`` adds cProfile listings of ``--profile-sessions`` sessions of each
variant (``--profile-scenario``, default ``regress``): taskchart's own code by
cumulative and internal time, the python-statemachine calls it makes, internal
time by package, and the functions whose time per session differs most between
the two groups; then the taskchart-only work of one regress session (chart
compile, interpreter start, the events, the ``out_of_scope`` tool) timed
without a profiler, with a fresh chart as today and with a chart compiled once.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import livekit.agents
from interview_sessions import (
    BASES,
    GC_TIMER,
    REPO,
    SCENARIOS,
    VARIANTS,
    BrokenRun,
    Interviewer,
    Sample,
    Scenario,
    build_group,
    interview_script,
    prepare_gc,
    run_session,
    verify,
)
from livekit.agents.beta.workflows import TaskGroup as LiveKitTaskGroup
from taskchart.adapters.livekit import TaskGroup as TaskchartTaskGroup
from taskchart.adapters.livekit.testing import OfflineSession
from timing import add_clock_option, add_size_options, pct, print_head, profile_listing, quartiles

from examples.interview import IntroResults

# -- profiling -----------------------------------------------------------------------
_SITE = "site-packages" + os.sep


def short(path: str) -> str:
    real = os.path.realpath(path)
    if real.startswith(str(REPO) + os.sep):
        return os.path.relpath(real, REPO)
    if _SITE in real:
        return real.split(_SITE, 1)[1]
    return path


#: taskchart's own code (the harness, ``testing.py``, runs in both variants)
TASKCHART_CODE = (
    r"taskchart/(runtime/\w+|statecharts/\w+|adapters/livekit/(group|task|chart_task))\.py"
)
STATEMACHINE = r"site-packages/statemachine/"


def listing(stats: pstats.Stats, sort: str, restrict: tuple[Any, ...], sessions: int) -> str:
    lines = []
    for line in profile_listing(stats, sort, restrict).rstrip().splitlines():
        head, sep, where = line.rpartition(" ")
        if sep and ":" in where and "(" in where and where[0] in "/<~":
            path, _, rest = where.partition(":")
            line = f"{head} {short(path)}:{rest}"
        lines.append(line)
    return "\n".join(lines) + f"\n  ({sessions} sessions; divide by {sessions} for per session)"


async def profile_sessions(
    scenario: Scenario, base: str, sessions: int, gc_mode: str
) -> dict[str, pstats.Stats]:
    profiles = {v: cProfile.Profile() for v in VARIANTS}
    keys = list(VARIANTS)
    for r in range(sessions):
        for v in keys if r % 2 == 0 else keys[::-1]:
            prepare_gc(gc_mode)
            prof = profiles[v]
            _, intro, commute = BASES[base]
            agent = Interviewer(VARIANTS[v][1], intro, commute)
            script = interview_script(regress=scenario.regress)
            prof.enable()
            async with OfflineSession(agent=agent, llm=script, userdata=SimpleNamespace()) as off:
                for line in scenario.lines:
                    await off.say(line)
            prof.disable()
            verify(scenario, agent, off, v)
    return {v: pstats.Stats(p, stream=io.StringIO()) for v, p in profiles.items()}


def package(path: str) -> str:
    """Which code a profiled function belongs to, for the per-package totals."""
    real = os.path.realpath(path) if path[0] == "/" else path
    if real.startswith(str(REPO) + os.sep):
        return "taskchart (testing harness)" if real.endswith("testing.py") else "taskchart"
    if _SITE in real:
        top = real.split(_SITE, 1)[1].split(os.sep)
        if top[0] == "livekit" and len(top) > 1:
            return f"livekit.{top[1].removesuffix('.py')}"
        return top[0].removesuffix(".py")
    if path == "~" or path.startswith("<"):
        return "builtins / generated"
    if os.sep + "asyncio" + os.sep in real:
        return "asyncio"
    return "stdlib (other)"


def print_packages(a: pstats.Stats, b: pstats.Stats, sessions: int, scenario: str) -> None:
    totals: dict[str, list[float]] = {}
    for i, st in enumerate((a, b)):
        for (path, _, _), (_, _, tottime, _, _) in st.stats.items():  # type: ignore[attr-defined]
            totals.setdefault(package(path), [0.0, 0.0])[i] += tottime
    rows = sorted(totals.items(), key=lambda kv: -abs(kv[1][0] - kv[1][1]))
    print(f"\n=== internal time by package, ms per {scenario} session (profiled, so inflated) ===")
    print(f"{'package':<32} {'taskchart':>10} {'livekit':>10} {'difference':>11}")
    for name, (ta, tb) in rows:
        if max(ta, tb) * 1e3 / sessions < 0.05:
            continue
        print(
            f"{name:<32} {ta * 1e3 / sessions:>10.2f} {tb * 1e3 / sessions:>10.2f} "
            f"{(ta - tb) * 1e3 / sessions:>+11.2f}"
        )
    sa = sum(t[0] for t in totals.values()) * 1e3 / sessions
    sb = sum(t[1] for t in totals.values()) * 1e3 / sessions
    print(f"{'total':<32} {sa:>10.2f} {sb:>10.2f} {sa - sb:>+11.2f}")


def print_diff(a: pstats.Stats, b: pstats.Stats, sessions: int, top: int, scenario: str) -> None:
    sa, sb = a.stats, b.stats  # type: ignore[attr-defined]
    empty: tuple[Any, ...] = (0, 0, 0.0, 0.0, {})
    rows = []
    for key in set(sa) | set(sb):
        ca, cb = sa.get(key, empty), sb.get(key, empty)
        rows.append((ca[3] - cb[3], ca[2] - cb[2], ca[1], cb[1], key))
    for label, idx in (("cumulative", 0), ("internal", 1)):
        rows.sort(key=lambda r: -abs(r[idx]))
        print(
            f"\n=== taskchart minus livekit, per {scenario} session, by |{label} time difference| ==="
        )
        print(f"{'d cum ms':>9} {'d tot ms':>9} {'calls tc':>9} {'calls lk':>9}  function")
        for dcum, dtot, na, nb, (path, line, fn) in rows[:top]:
            print(
                f"{dcum * 1e3 / sessions:>9.2f} {dtot * 1e3 / sessions:>9.2f} "
                f"{na / sessions:>9.1f} {nb / sessions:>9.1f}  {short(path)}:{line}({fn})"
            )


def time_taskchart_steps(base: str, n: int, clock: Callable[[], float]) -> None:
    """The group-chart work of one regress session, timed without a profiler.

    ``fresh``: as a session does it today, a new ``TaskGroup`` compiles its chart
    (``group.chart``) and runs a new interpreter on it. ``cached``: the same work on
    one chart compiled beforehand (what a chart cache per group shape would give).
    The events are those ``_run_one`` sends in the regress scenario.
    """
    from taskchart.runtime import DEFAULT_REGRESS_TOOL, Interpreter, TaskReturned, ToolCalled

    _, intro, commute = BASES[base]
    results = SCENARIOS[0].results
    pc = clock
    steps: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        steps.setdefault(name, []).append(seconds * 1e3)

    shared = build_group(TaskchartTaskGroup, intro, commute, summarize_chat_ctx=True).chart
    for mode in ("fresh", "cached"):
        for _ in range(n):
            gc.collect()
            gc.disable()  # as dispatch.py: collect between iterations, none while timing
            t0 = pc()
            group = build_group(TaskchartTaskGroup, intro, commute, summarize_chat_ctx=True)
            t1 = pc()
            chart = group.chart if mode == "fresh" else shared
            t2 = pc()
            flow = Interpreter(chart, regress_tool=DEFAULT_REGRESS_TOOL)
            flow.start()
            t3 = pc()
            ev_s = tool_s = 0.0
            ok = True
            # (active task when _run_one builds the tool, event that ends the task)
            plan: list[tuple[str, Any]] = [
                ("intro_task", TaskReturned(IntroResults("Ana", "backend engineer"))),
                ("commute_task", ToolCalled(DEFAULT_REGRESS_TOOL, {"task_ids": ["intro_task"]})),
                ("intro_task", TaskReturned(results["intro_task"])),
                ("commute_task", TaskReturned(results["commute_task"])),
            ]
            for active, event in plan:
                a = pc()
                tool = group._out_of_scope_tool(flow, active)
                tool_s += pc() - a
                if (tool is None) != (active == "intro_task"):
                    raise BrokenRun(f"out_of_scope offered wrongly in {active}")
                a = pc()
                if isinstance(event, ToolCalled):  # the tool checks first, then the group sends
                    ok &= flow.check_regression(["intro_task"]) is None
                ok &= flow.handle(event).ok
                ev_s += pc() - a
            if not (ok and flow.done and flow.result is not None):
                raise BrokenRun(f"the group chart did not finish: {flow.configuration}")
            gc.enable()
            if flow.result.task_results != results:
                raise BrokenRun(f"the group chart's results: {flow.result.task_results!r}")
            if mode == "fresh":
                add("TaskGroup() + 2 add()", t1 - t0)
                add("fresh: group.chart (compile)", t2 - t1)
            add(f"{mode}: Interpreter() + start()", t3 - t2)
            add(f"{mode}: 4 events + check", ev_s)
            add(f"{mode}: out_of_scope tool x4", tool_s)
    for _ in range(n):
        gc.collect()
        gc.disable()
        t0 = pc()
        build_group(LiveKitTaskGroup, intro, commute, summarize_chat_ctx=True)
        add("(livekit TaskGroup() + 2 add())", pc() - t0)
        gc.enable()

    print(
        f"\n=== taskchart-only work of one regress session, {n} times each, no profiler,"
        " gc off while timing ==="
    )
    for name, values in steps.items():
        med, p95 = statistics.median(values), pct(sorted(values), 0.95)
        print(f"{name:<34} {med:>8.3f} ms median   p95 {p95:>8.3f} ms")
    for mode in ("fresh", "cached"):
        total = sum(statistics.median(v) for k, v in steps.items() if k.startswith(mode))
        print(f"{'sum of ' + mode + ' medians':<34} {total:>8.3f} ms")


# -- main ------------------------------------------------------------------------------
async def bench(args: argparse.Namespace) -> int:
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    keys = list(VARIANTS)
    samples: dict[tuple[str, str], list[Sample]] = {
        (s.name, v): [] for s in SCENARIOS for v in keys
    }
    try:
        from taskchart.statecharts import chart as chart_module

        cache: dict[Any, Any] | None = getattr(chart_module, "_CACHE", None)
    except ImportError:  # pragma: no cover
        cache = None

    started = time.perf_counter()
    gc.callbacks.append(GC_TIMER)
    try:
        for _ in range(args.warmup):  # imports, lazy caches, specialisation: untimed
            for s in SCENARIOS:
                for v in keys:
                    await run_session(v, s, args.base, clock)
        gc.collect()
        cache0 = len(cache) if cache is not None else None
        objects0 = len(gc.get_objects())
        for r in range(args.sessions):
            for s in SCENARIOS:
                for v in keys if r % 2 == 0 else keys[::-1]:
                    prepare_gc(args.gc)
                    samples[s.name, v].append(await run_session(v, s, args.base, clock))
        gc.unfreeze()
        gc.collect()
        objects1 = len(gc.get_objects())
        cache1 = len(cache) if cache is not None else None
    finally:
        gc.callbacks.remove(GC_TIMER)
    elapsed = time.perf_counter() - started

    print(
        f"python {sys.version.split()[0]}, livekit-agents {livekit.agents.__version__}; "
        f"{args.sessions} rounds x {len(SCENARIOS)} scenarios x {len(keys)} variants, "
        f"interleaved (AB, BA, ...), {args.warmup} warm-up round(s); {args.clock} clock; "
        f"gc {args.gc}; {elapsed:.1f} s"
    )
    print(f"tasks: {BASES[args.base][0]}, the same classes for both groups")
    print()
    print_head(
        f"{'scenario':<9} {'variant':<10} {'group class':<40} {'med ms':>8} {'p95 ms':>8} "
        f"{'mean ms':>8} {'gc med':>7} {'n':>4}"
    )
    for s in SCENARIOS:
        for v in keys:
            ms = sorted(x.ms for x in samples[s.name, v])
            gcs = sorted(x.gc_ms for x in samples[s.name, v])
            print(
                f"{s.name:<9} {v:<10} {VARIANTS[v][0]:<40} {pct(ms, 0.5):>8.2f} "
                f"{pct(ms, 0.95):>8.2f} {statistics.fmean(ms):>8.2f} {pct(gcs, 0.5):>7.2f} "
                f"{len(ms):>4}"
            )
    print("  (ms per session, OfflineSession() to the end of aclose; gc med = ms in the collector)")
    print()
    print_head(
        f"{'taskchart/livekit':<17} {'med':>6} {'p95':>6} {'paired ratio [IQR]':>26} "
        f"{'paired diff ms [IQR]':>27}"
    )
    for s in SCENARIOS:
        a = [x.ms for x in samples[s.name, "taskchart"]]
        b = [x.ms for x in samples[s.name, "livekit"]]
        ra, rb = sorted(a), sorted(b)
        med, lo, hi = quartiles([x / y for x, y in zip(a, b, strict=True)])
        dmed, dlo, dhi = quartiles([x - y for x, y in zip(a, b, strict=True)])
        print(
            f"{s.name:<17} {pct(ra, 0.5) / pct(rb, 0.5):>6.3f} {pct(ra, 0.95) / pct(rb, 0.95):>6.3f} "
            f"{med:>12.3f} [{lo:>5.3f} - {hi:>5.3f}] {dmed:>12.2f} [{dlo:>5.2f} - {dhi:>5.2f}]"
        )
    print(
        "  (med, p95: ratio of the two distributions' statistics; paired: median over rounds of"
        " the ratio (difference) of the two sessions of that round, IQR across rounds)"
    )
    n_tc = args.sessions * len(SCENARIOS)
    print()
    print(
        f"heap after {n_tc} timed sessions of each group: {objects1 - objects0:+d} gc-tracked "
        f"objects ({(objects1 - objects0) / n_tc:+.0f} per taskchart session)"
        + (
            f"; taskchart compile_chart cache {cache0} -> {cache1} entries"
            if cache is not None
            else ""
        )
    )

    if args.profile:
        scenario = next(s for s in SCENARIOS if s.name == args.profile_scenario)
        stats = await profile_sessions(scenario, args.base, args.profile_sessions, args.gc)
        n = args.profile_sessions
        tc, lk = stats["taskchart"], stats["livekit"]
        for sort in ("cumulative", "tottime"):
            print(
                f"\n=== cProfile taskchart {scenario.name} sessions: taskchart's own code, by {sort} ==="
            )
            print(listing(tc, sort, (TASKCHART_CODE, args.top), n))
        print(
            f"\n=== cProfile taskchart {scenario.name} sessions: python-statemachine, by cumulative ==="
        )
        print(listing(tc, "cumulative", (STATEMACHINE, args.top), n))
        print_packages(tc, lk, n, scenario.name)
        print_diff(tc, lk, n, args.top, scenario.name)
        time_taskchart_steps(args.base, 50, clock)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_size_options(
        p,
        {
            "sessions": "timed sessions per variant per scenario, one per round"
            " (default 60, quick 12)",
            "warmup": "untimed rounds (default 2, quick 1)",
        },
        quick="a short run (under 15 s)",
    )
    p.add_argument(
        "--base", choices=tuple(BASES), default="taskchart", help="the tasks' base class"
    )
    p.add_argument(
        "--gc",
        choices=("fresh", "natural"),
        default="fresh",
        help="fresh: gc.collect() + gc.freeze() before each session (default); natural: leave gc be",
    )
    add_clock_option(
        p, "wall: perf_counter (default); cpu: thread_time (the session runs on this thread)"
    )
    p.add_argument("--profile", action="store_true", help="also print cProfile listings")
    p.add_argument("--profile-sessions", type=int, default=20)
    p.add_argument("--profile-scenario", choices=[s.name for s in SCENARIOS], default="regress")
    p.add_argument("--top", type=int, default=25, help="lines per profile listing")
    args = p.parse_args(argv)
    args.sessions = args.sessions or (12 if args.quick else 60)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    if args.sessions < 1:
        p.error("--sessions must be at least 1")
    runner: Coroutine[Any, Any, int] = bench(args)
    return asyncio.run(runner)


if __name__ == "__main__":
    raise SystemExit(main())
