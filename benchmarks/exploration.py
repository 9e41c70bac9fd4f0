"""Exploration throughput: transitions per second executed by the generated tests.

Runs :func:`taskchart.runtime.testing.explore` on the interview TaskGroup
chart (every built-in invariant on, snapshot/restore round trip after every
accepted event) and prints, for walks of 40 events (the CI budget's
length) and of 100, and for the rule-based machine:

* transitions/s: accepted events that took a chart transition;
* events/s: every event handled (refusals included: most hostile events);
* flows: calls played (a walk goes on with a new flow once one has ended);
* for the rule-based machine (``flow_state_machine(...).TestCase``), one
  hypothesis rule per event or per burst of up to 32 events;
* the ratio to the bare interpreter's transition rate on the same chart,
  measured around each run (the machine's speed drifts: the ratio is the
  stable figure);
* the ratio to the bare interpreter replaying the very events the run sent
  (:func:`replay_rate`): the walks send every kind of event, refusals, new
  flows and batches included, each dearer than the bare loop's update and
  correct, so this is what the checks and hypothesis cost on top of the
  interpreter.

    python benchmarks/exploration.py [--quick]

The issue's target is 5,000 transitions/s; it is printed, not asserted.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Iterator
from typing import Any

from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.testing import explore

TARGET = 5_000


def bare_interpreter_rate(n: int) -> float:
    flow = Interpreter(interview_chart())
    flow.start()
    flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))
    flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"}))
    t0 = time.perf_counter()
    for _ in range(n):
        flow.handle(ToolCalled("correct_email_address", {}))
        flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"}))
    return 2 * n / (time.perf_counter() - t0)


@contextlib.contextmanager
def recorded_calls() -> Iterator[list[list[Any]]]:
    """Every flow started inside, with the events (and batches) handed to it, in order."""
    flows: dict[int, list[Any]] = {}
    handle, batch, start = Interpreter.handle, Interpreter.handle_batch, Interpreter.start
    inside_batch = [0]

    def recording_handle(self: Interpreter, event: Any) -> Any:
        if not inside_batch[0]:
            flows[id(self)].append(event)
        return handle(self, event)

    def recording_batch(self: Interpreter, events: Any) -> Any:
        flows[id(self)].append(list(events))
        inside_batch[0] += 1
        try:
            return batch(self, events)
        finally:
            inside_batch[0] -= 1

    def recording_start(self: Interpreter) -> Any:
        flows[id(self)] = []
        keep.append(self)  # ids stay unique while the run lasts
        return start(self)

    keep: list[Interpreter] = []
    calls: list[list[Any]] = []
    Interpreter.handle, Interpreter.handle_batch = recording_handle, recording_batch  # type: ignore[method-assign]
    Interpreter.start = recording_start  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Interpreter.handle, Interpreter.handle_batch, Interpreter.start = handle, batch, start  # type: ignore[method-assign]
        calls.extend(flows.values())


def replay_rate(calls: list[list[Any]]) -> float:
    """Transitions/s of fresh flows of the interview chart handed ``calls``' events, no checks."""
    chart = interview_chart()
    gc.collect()
    gc.freeze()  # as explore() does
    try:
        steps = 0
        t0 = time.perf_counter()
        for events in calls:
            flow = Interpreter(chart)
            flow.start()
            for event in events:
                outcomes = (
                    flow.handle_batch(event) if isinstance(event, list) else [flow.handle(event)]
                )
                steps += sum(1 for o in outcomes if o.ok and o.step is not None)
        seconds = time.perf_counter() - t0
    finally:
        gc.unfreeze()
    return steps / seconds


def main() -> None:
    quick = "--quick" in sys.argv
    examples = 50 if quick else 300
    explore(interview_chart, max_examples=10)  # build the chart and fill the caches untimed
    print(f"interview chart, {examples} examples per run")
    runs = [("walks of 40 events", False, 40), ("walks of 100 events", False, 100)]
    runs.append(("rule-based, 40 steps", True, 40))
    for label, rules, steps in runs:
        # the bare interpreter just before and after: this machine's speed drifts
        bare = bare_interpreter_rate(200)
        report = explore(interview_chart, max_examples=examples, step_count=steps, rules=rules)
        bare = (bare + bare_interpreter_rate(200)) / 2
        with recorded_calls() as calls:  # the same run again (derandomized), to replay it
            explore(interview_chart, max_examples=examples, step_count=steps, rules=rules)
        same = replay_rate(calls)
        cov = report.coverage
        rate = report.transitions_per_second
        print(
            f"  {label:22s} {cov.steps:6d} transitions, {cov.events:6d} events, {cov.runs:5d} "
            f"flows in {report.seconds:5.2f} s: {rate:7.0f} transitions/s "
            f"({rate / bare:.3f} of the bare interpreter's {bare:.0f}/s, {rate / same:.3f} of "
            f"its {same:.0f}/s on the same events), {cov.events / report.seconds:7.0f} events/s"
        )
    print(f"  target: {TARGET} transitions/s (printed, not asserted)")


if __name__ == "__main__":
    main()
