"""Every benchmark, one table: ``python benchmarks/run.py [--quick]`` writes ``benchmarks/RESULTS.md``.

Each row is a figure of taskchart's, its baseline measured in the same run
(LiveKit's own classes, python-statemachine, a dict FSM, the bare
interpreter, ``import livekit.agents``) and their ratio. Every section runs in
a fresh child process (``--section NAME``), so one cannot warm or configure
another; the sections reuse the other scripts of this folder:
``dispatch.py``, ``prebuilt_session.py``, ``taskgroup_session.py``,
``memory.py``, ``exploration.py``, ``diagram_50.py`` and ``stores.py`` (Redis at
``TASKCHART_REDIS_URL``, or a ``redis-server`` it starts; without either the
Redis rows are left out, saying so).

``--quick`` (about two minutes) is what CI runs, so the benchmarks cannot rot:
it checks that every row is produced and asserts no time. The full run takes
about fifteen minutes; its table is the one committed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

Row = dict[str, Any]


def row(
    what: str,
    figure: float,
    baseline_what: str,
    baseline: float,
    unit: str,
    target: str = "",
    ratio: float | None = None,
) -> Row:
    """One line of the table; the ratio is figure / baseline unless given."""
    if ratio is None:
        ratio = figure / baseline if baseline else float("nan")
    return {
        "what": what,
        "figure": figure,
        "baseline_what": baseline_what,
        "baseline": baseline,
        "unit": unit,
        "ratio": ratio,
        "target": target,
    }


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(a / b for a, b in pairs)


# -- sections ------------------------------------------------------------------------------
def dispatch_rows(quick: bool) -> list[Row]:
    """Per-event cost, paired round by round (``dispatch.py``'s variants and harness)."""
    import dispatch

    rounds, cycles = (8, 15) if quick else (40, 40)
    keys = ("A0", "B", "C")
    overhead = dispatch.harness_overhead()
    for k in keys:  # warm-up
        dispatch.run_round(dispatch.VARIANTS[k][1], 20, [], [[], [], [], []], overhead)
    per_round: dict[str, list[float]] = {k: [] for k in keys}
    for r in range(rounds):
        for k in keys[r % 3 :] + keys[: r % 3]:
            events: list[list[int]] = [[], [], [], []]
            gc.collect()
            gc.disable()
            try:
                dispatch.run_round(dispatch.VARIANTS[k][1], cycles, [], events, overhead)
            finally:
                gc.enable()
            per_round[k].append(statistics.median(sum(c) / 4e3 for c in zip(*events, strict=True)))
    a = per_round["A0"]
    baselines = (
        ("B", "raw python-statemachine send()", "about 0.1x"),
        ("C", "hand-written dict FSM", ""),
    )
    return [
        row(
            "per-event dispatch (email task, table engine)",
            statistics.median(a),
            baseline_what,
            statistics.median(per_round[k]),
            "µs/event",
            target,
            median_ratio(list(zip(a, per_round[k], strict=True))),
        )
        for k, baseline_what, target in baselines
    ]


async def _session_rows(quick: bool) -> list[Row]:
    import interview_sessions as tg
    import prebuilt_session as ps

    rounds = 3 if quick else 30
    clock = time.thread_time  # CPU-bound sessions on this thread: ignores descheduling
    rows: list[Row] = []
    for case in ps.CASES:
        for modality in ("text", "audio"):
            if modality == "audio" and case.confirm is None:
                continue
            for v in ("taskchart", "livekit"):
                await ps.one_session(case, v, modality, clock)
            pairs = []
            for i in range(rounds):
                order = ("taskchart", "livekit") if i % 2 == 0 else ("livekit", "taskchart")
                got = {v: await ps.one_session(case, v, modality, clock) for v in order}
                pairs.append((got["taskchart"] * 1e3, got["livekit"] * 1e3))
            what = f"offline session: {case.name} task, {modality}"
            rows.append(_paired(what, pairs, f"LiveKit's {LIVEKIT_TASKS[case.name]}"))
    for scenario in tg.SCENARIOS:
        for v in ("taskchart", "livekit"):
            await tg.run_session(v, scenario, "taskchart", clock)
        pairs = []
        for i in range(rounds):
            order = ("taskchart", "livekit") if i % 2 == 0 else ("livekit", "taskchart")
            got = {v: await tg.run_session(v, scenario, "taskchart", clock) for v in order}
            pairs.append((got["taskchart"].ms, got["livekit"].ms))
        name = "with a regression" if scenario.regress else "straight"
        what = f"offline session: interview TaskGroup, {name}"
        rows.append(_paired(what, pairs, "LiveKit's TaskGroup, the same tasks"))
    return rows


LIVEKIT_TASKS = {
    "email": "GetEmailTask",
    "address": "GetAddressTask",
    "phone": "GetPhoneNumberTask",
    "name": "GetNameTask",
    "dob": "GetDOBTask",
    "dtmf": "GetDtmfTask",
}


def _paired(what: str, pairs: list[tuple[float, float]], theirs: str) -> Row:
    return row(
        what,
        statistics.median(a for a, _ in pairs),
        theirs,
        statistics.median(b for _, b in pairs),
        "ms/session (CPU)",
        "about 1.0x",
        median_ratio(pairs),
    )


def session_rows(quick: bool) -> list[Row]:
    return asyncio.run(_session_rows(quick))


IMPORT_PROBE = """
import sys, time
import livekit.agents
t0 = time.perf_counter()
exec(sys.argv[1])
print((time.perf_counter() - t0) * 1e3)
"""
LIVEKIT_PROBE = "import time; t0 = time.perf_counter(); import livekit.agents; print((time.perf_counter() - t0) * 1e3)"
OURS = "import taskchart.adapters.livekit as m\nm.GetEmailTask, m.TaskGroup"
THEIRS = "from livekit.agents.beta.workflows import GetEmailTask, TaskGroup"


def import_rows(quick: bool) -> list[Row]:
    """Fastest of several fresh interpreters, with bytecode cached as an installed wheel has it."""
    runs = 1 if quick else 9
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache

        def fastest(*argv: str) -> float:
            times = []
            for _ in range(runs + 1):  # the first run writes the bytecode
                out = subprocess.run(
                    [sys.executable, *argv], env=env, capture_output=True, text=True, check=True
                )
                times.append(float(out.stdout.split()[-1]))
            return min(times[1:])

        livekit = fastest("-c", LIVEKIT_PROBE)
        ours = fastest("-c", IMPORT_PROBE, OURS)
        theirs = fastest("-c", IMPORT_PROBE, THEIRS)
    return [
        row(
            "import taskchart.adapters.livekit, then GetEmailTask and TaskGroup (after livekit.agents)",
            ours,
            "import livekit.agents",
            livekit,
            "ms",
            "under 30 ms",
        ),
        row(
            "the same",
            ours,
            "LiveKit's own line, from livekit.agents.beta.workflows import GetEmailTask, TaskGroup "
            "(after livekit.agents)",
            theirs,
            "ms",
        ),
    ]


def memory_rows(quick: bool) -> list[Row]:
    import memory

    n = 10 if quick else 100
    flows = 1000
    calls = 100 if quick else 10_000
    s = memory.sessions(n, 1 if quick else 3)
    rows = [
        row(
            f"memory per session, {n} concurrent interview-group sessions ({key})",
            s[key]["taskchart"] / 1024,
            "LiveKit's TaskGroup, the same sessions",
            s[key]["livekit"] / 1024,
            "KiB/session",
            "at most 1.05x",
        )
        for key in ("traced", "rss")
    ]
    table, library = memory.flows(flows, "table"), memory.flows(flows, "statemachine")
    rows.append(
        row(
            f"memory per flow, {flows} concurrent sans-I/O interview flows",
            table["bytes"] / 1024,
            "the same flows on python-statemachine",
            library["bytes"] / 1024,
            "KiB/flow",
            "under 10 KB",
        )
    )
    rows.append(
        row(
            f"events/s driving those {flows} flows to the end",
            table["events_per_s"],
            "the same flows on python-statemachine",
            library["events_per_s"],
            "events/s",
        )
    )
    w = memory.worker(calls)
    growth = w["blocks_per_call"]
    rows.append(
        row(
            f"worker growth over {calls} interview-group calls (second half)",
            growth["taskchart sessions"],
            "LiveKit's TaskGroup, the same calls",
            growth["livekit sessions"],
            "blocks/call",
            "no growth",
            float("nan"),
        )
    )
    rows.append(
        row(
            f"worker growth over {calls} email flows, each a new address (second half)",
            growth["email flows"],
            f"caches at the end: {', '.join(f'{k} {v}' for k, v in w['caches'].items())}",
            float("nan"),
            "blocks/call",
            "no growth past 4,096 addresses",
            float("nan"),
        )
    )
    return rows


def exploration_rows(quick: bool) -> list[Row]:
    from exploration import bare_interpreter_rate, recorded_calls, replay_rate
    from taskchart.adapters.console.interview import interview_chart
    from taskchart.runtime.testing import explore

    examples = 50 if quick else 300
    explore(interview_chart, max_examples=10)  # the chart and the caches, untimed
    rows = []
    for label, rules in (("walks of 40 events", False), ("rule-based machine, 40 steps", True)):
        bare = bare_interpreter_rate(200)
        report = explore(interview_chart, max_examples=examples, step_count=40, rules=rules)
        bare = (bare + bare_interpreter_rate(200)) / 2
        with recorded_calls() as calls:  # the same (derandomized) run, to replay its events
            explore(interview_chart, max_examples=examples, step_count=40, rules=rules)
        what = f"generated tests, interview chart, {label} (every check on)"
        rate = report.transitions_per_second
        rows.append(
            row(
                what,
                rate,
                "the bare interpreter on the same chart (update, correct)",
                bare,
                "transitions/s",
                "at least 0.33x",
            )
        )
        rows.append(
            row(
                "the same",
                rate,
                "the bare interpreter replaying the same events, no checks",
                replay_rate(calls),
                "transitions/s",
            )
        )
    return rows


def diagram_rows(quick: bool) -> list[Row]:
    from diagram_50 import N, implicit_specs, timed
    from statemachine.contrib.diagram import DotGraphMachine
    from taskchart.diagrams import to_dot
    from taskchart.statecharts import compile_chart

    rounds = 3 if quick else 10
    build = statistics.median(timed(lambda: compile_chart(implicit_specs()), rounds))
    charts = [compile_chart(implicit_specs()) for _ in range(2 * rounds)]
    fresh = iter(charts)
    library = statistics.median(timed(lambda: next(fresh).machine_class, rounds))
    dot = statistics.median(timed(lambda: to_dot(next(fresh)), rounds))
    classes = [c.machine_class for c in charts[:rounds]]
    built = iter(classes)
    library_dot = statistics.median(
        timed(lambda: DotGraphMachine(next(built))().to_string(), rounds)
    )
    return [
        row(
            f"{N}-task group chart build",
            build,
            "python-statemachine class of the same chart",
            library,
            "ms",
            "under 200 ms",
        ),
        row(
            f"{N}-task group DOT text",
            dot,
            "python-statemachine's own DOT of the same chart",
            library_dot,
            "ms",
            "under 100 ms",
        ),
    ]


def store_rows(quick: bool) -> list[Row]:
    import stores

    rows: list[Row] = []
    for r in asyncio.run(stores.main(quick)):
        rows.append(
            row(
                f"save per accepted event ({r['store']}: snapshot, record, write)",
                r["save_us"],
                "the accepted event itself",
                r["event_us"],
                "µs/save",
            )
        )
        rows.append(
            row(
                f"{r['flows']:,} concurrent durable flows to their end ({r['store']})",
                r["finished"],
                f"events stored {r['events']:,} of {r['expected_events']:,}, "
                f"in {r['seconds']:.2f} s",
                float("nan"),
                "flows finished",
                "every flow and event",
                float("nan"),
            )
        )
        if r["finished"] != r["flows"] or r["events"] != r["expected_events"]:
            raise SystemExit(f"{r['store']}: flows or events were lost")
    return rows


SECTIONS: dict[str, tuple[str, Callable[[bool], list[Row]]]] = {
    "dispatch": ("Per-event dispatch", dispatch_rows),
    "sessions": ("Offline sessions against LiveKit's own tasks", session_rows),
    "import": ("Import time", import_rows),
    "memory": ("Memory", memory_rows),
    "exploration": ("Generated-test throughput", exploration_rows),
    "diagram": ("50-task chart build and DOT", diagram_rows),
    "stores": ("Durable flows (SQLite, Redis)", store_rows),
}


# -- the table -----------------------------------------------------------------------------
def fmt(x: float) -> str:
    if x != x:  # nan
        return ""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) >= 0.01 else f"{x:.3f}"


def render(results: dict[str, list[Row]], header: list[str]) -> str:
    lines = ["# Benchmark results", "", *header, ""]
    lines += [
        "| row | taskchart | baseline (same run) | ratio | target |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for key, (title, _) in SECTIONS.items():
        if key not in results:
            continue
        lines.append(f"| **{title}** | | | | |")
        for r in results.get(key, []):
            base = (
                f"{r['baseline_what']}: {fmt(r['baseline'])}"
                if r["baseline"] == r["baseline"]
                else r["baseline_what"]
            )
            ratio = f"{r['ratio']:.3f}x" if r["ratio"] == r["ratio"] else ""
            lines.append(
                f"| {r['what']} | {fmt(r['figure'])} {r['unit']} | {base} | {ratio} | {r['target']} |"
            )
    lines += [
        "",
        "Ratios are taskchart's figure over the baseline's (paired round by round where both",
        "ran in turns). Session times are CPU time of the thread running the event loop.",
        "Blocks are the interpreter's allocated memory blocks (`sys.getallocatedblocks`).",
        "No time is asserted; a durable flow or event lost fails the run. See each script",
        "in this folder for the method.",
        "",
    ]
    return "\n".join(lines)


def machine(mode: str) -> list[str]:
    import importlib.metadata as md

    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; mode: {mode}",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}",
        f"- livekit-agents {md.version('livekit-agents')}, python-statemachine "
        f"{md.version('python-statemachine')}",
        "- command: `python benchmarks/run.py" + (" --quick`" if mode == "quick" else "`"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs: checks that every row works")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--only", nargs="*", choices=list(SECTIONS), help="run these sections only")
    p.add_argument("--section", choices=list(SECTIONS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.section:  # a child process: one section, as JSON
        print(json.dumps(SECTIONS[args.section][1](args.quick)))
        return 0
    results: dict[str, list[Row]] = {}
    for key in args.only or SECTIONS:
        t0 = time.perf_counter()
        cmd = [sys.executable, __file__, "--section", key] + (["--quick"] if args.quick else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stdout + out.stderr)
            print(f"section {key} failed", file=sys.stderr)
            return 1
        results[key] = json.loads(out.stdout.splitlines()[-1])
        print(f"{SECTIONS[key][0]}: {len(results[key])} rows in {time.perf_counter() - t0:.0f} s")
    text = render(results, machine("quick" if args.quick else "full"))
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
