"""Per-event dispatch cost: taskchart's Interpreter vs raw python-statemachine vs a dict FSM.

Run ``python benchmarks/dispatch.py`` (about 30-60 s) or ``--quick`` (a few
seconds). Every variant drives the same email-task cycle, once per fresh
instance:

1. ``update`` with an address     (collecting -> confirming, read-back)
2. ``update`` with another one    (confirming -> confirming, read-back again)
3. the user speaks                (``user_turn += 1``; no transition)
4. ``confirm``                    (confirming -> complete -> dispatch -> flow_done)

Variants (``dispatch_variants.py``; run interleaved, round by round, in a rotating order):

* ``A``     ``Interpreter.handle(ToolCalled(...))``; the field has the spoken-email
            normaliser (email-validator), so argument validation is inside the timing.
* ``A0``    the same without a normaliser (the field is a plain ``str``):
            apples to apples with ``B``, which is sent already-clean values.
* ``A-log`` ``A`` with the runtime's default logging (structlog NOT configured:
            records go through stdlib logging, which drops INFO). The other ``A``
            variants run with ``structlog.configure(wrapper_class=
            make_filtering_bound_logger(WARNING))``, which is configured at start.
* ``A-sm``  ``A0`` with ``engine="statemachine"``: the interpreter driving
            python-statemachine instead of its table engine.
* ``B``     raw ``machine.send(event, **kwargs)`` on the chart's python-statemachine
            class (``chart.new_machine(engine="statemachine").inner``);
            ``model.user_turn += 1`` for step 3.
* ``C``     a hand-written FSM: a dict ``{(state, event): target}`` with the same
            guards and actions written inline.

Only the events are timed per event; construction (``Interpreter(chart)`` plus
``start()``, ``chart.new_machine(...)``, ``DictFSM()``) is timed separately. The
harness overhead (two ``perf_counter_ns`` calls and a ``functools.partial``
call) is measured and subtracted. The garbage collector is disabled while a
round is timed and run between rounds (``--keep-gc`` leaves it on).
Nothing here asserts absolute times: the numbers depend on the machine.

``--profile`` adds cProfile listings (events only, no construction) of
``A``, ``A0`` and ``B``, whole and restricted to code outside python-statemachine.
On a busy machine, ``--clock cpu`` times with the thread's CPU clock instead of
the wall clock; the ratios, paired round by round, are the numbers to read.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from dispatch_variants import VARIANTS, Variant
from timing import add_clock_option, add_size_options, pct, print_head, profile_listing

PC = time.perf_counter_ns
EVENT_NAMES = ("update#1", "update#2", "user_spoke", "confirm")


# -- measuring -----------------------------------------------------------------------
def _noop() -> None:
    return None


def timed(step: Callable[[], Any]) -> tuple[Any, int]:
    """``step()``'s result and the nanoseconds between the two clock reads around it."""
    t0 = PC()
    result = step()
    t1 = PC()
    return result, t1 - t0


def harness_overhead(n: int = 20000) -> int:
    """Median ns of the timing harness itself (two clock reads and a partial call)."""
    step = functools.partial(_noop)
    return int(statistics.median(timed(step)[1] for _ in range(n)))


def run_round(
    variant: Variant, cycles: int, construct: list[int], events: list[list[int]], overhead: int
) -> None:
    make, bind, check = variant
    for _ in range(cycles):
        obj, ns = timed(make)
        construct.append(ns - overhead)
        results = []
        for step, times in zip(bind(obj), events, strict=True):
            result, ns = timed(step)
            times.append(ns - overhead)
            results.append(result)
        check(obj, results)


def summarise(construct: list[int], events: list[list[int]]) -> dict[str, float]:
    us = 1e-3
    pooled = sorted(x * us for ev in events for x in ev)
    per_cycle = sorted(sum(c) * us / 4 for c in zip(*events, strict=True))
    cons = sorted(x * us for x in construct)
    out = {
        "construct_med": pct(cons, 0.5),
        "construct_p95": pct(cons, 0.95),
        "event_med": pct(pooled, 0.5),
        "event_p95": pct(pooled, 0.95),
        "cycle_mean_med": pct(per_cycle, 0.5),
        "n": len(per_cycle),
    }
    for name, ev in zip(EVENT_NAMES, events, strict=True):
        s = sorted(x * us for x in ev)
        out[name] = pct(s, 0.5)
        out[name + "_p95"] = pct(s, 0.95)
    return out


def profile_variant(key: str, cycles: int) -> pstats.Stats:
    """cProfile of the events of ``cycles`` cycles (construction not profiled, gc as when timed)."""
    make, bind, check = VARIANTS[key][1]
    prof = cProfile.Profile()
    gc.collect()
    gc.disable()
    try:
        for i in range(cycles):
            obj = make()
            steps = bind(obj)
            prof.enable()
            results = [s() for s in steps]
            prof.disable()
            check(obj, results)
            if i % 100 == 99:
                gc.collect()
    finally:
        gc.enable()
    return pstats.Stats(prof, stream=io.StringIO())


#: pstats restriction: every function not defined inside python-statemachine,
#: i.e. what the runtime adds on top of ``machine.send`` (and the callbacks the
#: machine calls back into, which B runs too).
OUTSIDE_STATEMACHINE = r"^(?!.*site-packages/statemachine/)"


def print_profile(key: str, cycles: int, top: int) -> None:
    stats = profile_variant(key, cycles)
    listings = [
        ("tottime", (top,), "all functions"),
        ("cumulative", (top,), "all functions"),
        ("tottime", (OUTSIDE_STATEMACHINE, top), "outside python-statemachine"),
        ("cumulative", (OUTSIDE_STATEMACHINE, top), "outside python-statemachine"),
    ]
    for sort, restrictions, what in listings:
        body = profile_listing(stats, sort, restrictions)
        print(
            f"\n=== cProfile {key} ({VARIANTS[key][0]}): events of {cycles} cycles, "
            f"{what}, by {sort} ==="
        )
        print(body.rstrip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_options(
        p,
        {
            "rounds": "interleaved rounds (default 50, quick 10)",
            "cycles": "cycles per variant per round (default 40, quick 15)",
        },
        quick="a short run (under 10 s)",
    )
    p.add_argument(
        "--keep-gc", action="store_true", help="leave the garbage collector on while timing"
    )
    add_clock_option(
        p,
        "wall: perf_counter_ns (default); cpu: thread_time_ns, which ignores time the"
        " process was descheduled on a busy machine (about 1 µs per read, so C is imprecise)",
    )
    p.add_argument(
        "--profile", action="store_true", help="also print cProfile listings of A, A0 and B"
    )
    p.add_argument("--profile-cycles", type=int, default=1000)
    p.add_argument("--top", type=int, default=15, help="lines per profile listing")
    args = p.parse_args(argv)
    rounds = args.rounds or (10 if args.quick else 50)
    cycles = args.cycles or (15 if args.quick else 40)
    global PC
    PC = time.perf_counter_ns if args.clock == "wall" else time.thread_time_ns

    keys = list(VARIANTS)
    started = time.perf_counter()
    overhead = harness_overhead()
    construct: dict[str, list[int]] = {k: [] for k in keys}
    events: dict[str, list[list[int]]] = {k: [[], [], [], []] for k in keys}
    bounds: dict[str, list[int]] = {k: [0] for k in keys}

    # Warm up every variant (caches, specialisation) untimed.
    scratch_c: list[int] = []
    for k in keys:
        run_round(VARIANTS[k][1], max(20, cycles // 5), scratch_c, [[], [], [], []], overhead)

    gc_was = gc.isenabled()
    for r in range(rounds):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]  # rotate: ABCDE, BCDEA, ...
        for k in order:
            gc.collect()
            if not args.keep_gc:
                gc.disable()
            try:
                run_round(VARIANTS[k][1], cycles, construct[k], events[k], overhead)
            finally:
                if gc_was:
                    gc.enable()
            bounds[k].append(len(construct[k]))
    elapsed = time.perf_counter() - started

    res = {k: summarise(construct[k], events[k]) for k in keys}
    print(
        f"python {sys.version.split()[0]}, {rounds} rounds x {cycles} cycles x 4 events per variant "
        f"(interleaved), {args.clock} clock, harness overhead {overhead} ns subtracted, gc "
        f"{'on' if args.keep_gc else 'off'} while timing, {elapsed:.1f} s"
    )
    print()
    print_head(
        f"{'variant':<7} {'what':<38} {'construct':>10} {'event med':>10} {'event p95':>10} "
        f"{'mean/event':>11}"
    )
    for k in keys:
        s = res[k]
        print(
            f"{k:<7} {VARIANTS[k][0]:<38} {s['construct_med']:>10.2f} {s['event_med']:>10.2f} "
            f"{s['event_p95']:>10.2f} {s['cycle_mean_med']:>11.2f}"
        )
    print(
        "  (µs; construct = Interpreter()+start() / new_machine() / DictFSM(), median;"
        " event med/p95 pooled over the 4 events;\n"
        "   mean/event = median over cycles of (sum of the 4 event times)/4)"
    )
    print()
    head2 = f"{'variant':<7} " + " ".join(f"{n:>17}" for n in EVENT_NAMES)
    print_head(head2, "   (per event: median / p95, µs)")
    for k in keys:
        s = res[k]
        cells = " ".join(f"{s[n]:>8.2f} /{s[n + '_p95']:>7.2f}" for n in EVENT_NAMES)
        print(f"{k:<7} {cells}")
    print()

    def ratio(a: str, b: str, field: str) -> float:
        return res[a][field] / res[b][field]

    # Paired by round: variants of one round ran seconds apart, so the ratio of
    # their round medians cancels most of the drift of a shared, noisy machine.
    round_med: dict[str, list[float]] = {}
    for k in keys:
        per_cycle = [sum(c) / 4 for c in zip(*events[k], strict=True)]
        edges = bounds[k]
        round_med[k] = [
            statistics.median(per_cycle[edges[i] : edges[i + 1]]) for i in range(rounds)
        ]

    def paired(a: str, b: str) -> tuple[float, float, float]:
        rs = sorted(x / y for x, y in zip(round_med[a], round_med[b], strict=True))
        return pct(rs, 0.5), pct(rs, 0.25), pct(rs, 0.75)

    pairs = [
        ("A", "B"),
        ("A0", "B"),
        ("A-log", "B"),
        ("A", "C"),
        ("A0", "C"),
        ("B", "C"),
        ("A-log", "A"),
        ("A", "A0"),
        ("A0", "A-sm"),
    ]
    print(
        f"{'ratio':<10} {'event med':>10} {'event p95':>10} {'mean/event':>11} "
        f"{'paired mean/event [IQR]':>26} {'construct':>10}"
    )
    for a, b in pairs:
        med, lo, hi = paired(a, b)
        print(
            f"{a + '/' + b:<10} {ratio(a, b, 'event_med'):>10.2f} {ratio(a, b, 'event_p95'):>10.2f} "
            f"{ratio(a, b, 'cycle_mean_med'):>11.2f} {med:>12.2f} [{lo:>5.2f} - {hi:>5.2f}] "
            f"{ratio(a, b, 'construct_med'):>10.2f}"
        )
    print(
        "  (paired = median over rounds of the ratio of the two variants' round medians of"
        " mean/event; IQR across rounds)"
    )
    print()
    norm_cost = res["A"]["cycle_mean_med"] - res["A0"]["cycle_mean_med"]
    log_cost = res["A-log"]["cycle_mean_med"] - res["A"]["cycle_mean_med"]
    over_raw = res["A0"]["cycle_mean_med"] - res["B"]["cycle_mean_med"]
    engine_gain = res["A-sm"]["cycle_mean_med"] - res["A0"]["cycle_mean_med"]
    print(
        f"per event (mean/event): normaliser {norm_cost:+.2f} µs, default logging vs filtered "
        f"structlog {log_cost:+.2f} µs, runtime minus raw python-statemachine send (A0-B) "
        f"{over_raw:+.2f} µs, statemachine engine minus table engine (A-sm - A0) "
        f"{engine_gain:+.2f} µs"
    )

    if args.profile:
        for key in ("A", "A0", "B"):
            print_profile(key, args.profile_cycles, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
