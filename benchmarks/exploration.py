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
  stable figure).

    python benchmarks/exploration.py [--quick]

The issue's target is 5,000 transitions/s; it is printed, not asserted.
"""

from __future__ import annotations

import sys
import time

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
        cov = report.coverage
        rate = report.transitions_per_second
        print(
            f"  {label:22s} {cov.steps:6d} transitions, {cov.events:6d} events, {cov.runs:5d} "
            f"flows in {report.seconds:5.2f} s: {rate:7.0f} transitions/s "
            f"({rate / bare:.3f} of the bare interpreter's {bare:.0f}/s), "
            f"{cov.events / report.seconds:7.0f} events/s"
        )
    print(f"  target: {TARGET} transitions/s (printed, not asserted)")


if __name__ == "__main__":
    main()
