"""Play a flow in the terminal: the agent side, the user side and every transition.

>>> import io
>>> from taskchart.adapters.console.interview import interview_chart
>>> out = io.StringIO()
>>> runner = ConsoleRunner(interview_chart(), out=out)
>>> runner.run(["I'm Ada Lovelace, a mathematician who loves engines",
...             "ada at example dot com", "yes", "yes, by train"])
True
>>> runner.flow.result.task_results["commute_task"]
CommuteResults(can_commute=True, commute_method='train')
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import attrs
from taskchart.runtime import (
    Accepted,
    Effect,
    Interpreter,
    Outcome,
    SessionClosed,
    ToolCalled,
    UserSpoke,
)
from taskchart.runtime.logs import redact_mapping
from taskchart.statecharts import Chart, TaskFailure

from taskchart import runtime

from .nlu import RuleBasedModel

__all__ = ["ConsoleRunner", "results_json"]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if attrs.has(type(value)):
        return attrs.asdict(value)
    if isinstance(value, TaskFailure):
        return {"error": type(value).__name__, "message": value.message}
    return value


def results_json(flow: Interpreter) -> str:
    """The flow's results (task id -> result) as indented JSON.

    A task that ended without a result shows its error and what it had
    collected, so nothing the user said is lost.
    """
    out: dict[str, Any] = {}
    results = flow.results
    for tid in flow.model.order:
        if tid in results:
            out[tid] = _plain(results[tid])
            if isinstance(results[tid], TaskFailure) and flow.values(tid):
                out[tid]["collected"] = flow.values(tid)
        elif flow.values(tid):  # interrupted by a regression, not finished
            out[tid] = {"collected": flow.values(tid)}
    return json.dumps(out, indent=2)


class ConsoleRunner:
    """Drive ``chart`` from lines of user text with a :class:`RuleBasedModel`."""

    def __init__(
        self,
        chart: Chart,
        *,
        out: TextIO | None = None,
        model: RuleBasedModel | None = None,
        show_transitions: bool = True,
        echo_user: bool = True,
        record: bool = False,
    ) -> None:
        self.flow = Interpreter(chart, record=record)
        self.out = out or sys.stdout
        self.model = model or RuleBasedModel()
        self.show_transitions = show_transitions
        self.echo_user = echo_user
        self._last_instruction = ""
        #: Whether Ctrl-C ended the conversation.
        self.interrupted = False

    def say(self, who: str, text: str) -> None:
        print(f"{who:>6} > {text}", file=self.out)

    def start(self) -> None:
        self._show_effects(self.flow.start())

    def step(self, line: str) -> None:
        """Take one user line through the flow."""
        if self.echo_user:
            self.say("user", line)
        self.flow.handle(UserSpoke(line, "text"))
        calls = self.model.respond(line, self.flow)
        if not calls:
            said = self.model.said
            self.say(
                "agent", said or f"Sorry, I didn't catch that. {self._last_instruction}".strip()
            )
            return
        for call, outcome in zip(calls, self.flow.handle_batch(calls), strict=True):
            self._show_outcome(call, outcome)

    def close(self, reason: str = "input ended") -> None:
        if not self.flow.done:
            outcome = self.flow.handle(SessionClosed(reason))
            if isinstance(outcome, Accepted):
                self._show_effects(outcome.effects)

    def run(self, lines: Iterable[str]) -> bool:
        """Run the whole conversation; True when the flow completed.

        Ctrl-C ends it like ``quit``: the results so far are printed
        (:attr:`interrupted` tells).
        """
        self.start()
        try:
            for raw in lines:
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                if line.lower() in ("quit", "exit", "bye"):
                    if self.echo_user:
                        self.say("user", line)
                    self.close("the user quit")
                    break
                self.step(line)
                if self.flow.done:
                    break
        except KeyboardInterrupt:
            self.interrupted = True
            print(file=self.out)  # end the line the prompt was on
            self.close("the user interrupted")
        self.close()
        completed = self.flow.result is not None
        print("\nresults:", file=self.out)
        print(results_json(self.flow), file=self.out)
        return completed

    # -- printing --------------------------------------------------------------------
    def _show_outcome(self, call: ToolCalled, outcome: Outcome) -> None:
        task = outcome.step.source[0] if isinstance(outcome, Accepted) and outcome.step else None
        pii = set()
        if task in self.flow.chart.task_map:
            spec = self.flow.chart.task_map[task]
            tool = spec.tool(call.name)
            pii = {
                a
                for a, f in (tool.arguments.items() if tool else ())
                if spec.field_map.get(f) and spec.field_map[f].pii
            }
        args = ", ".join(f"{k}={v!r}" for k, v in redact_mapping(call.arguments, pii).items())
        if not isinstance(outcome, Accepted):
            if self.show_transitions:
                print(f"       ✗ {call.name}({args}) rejected: {outcome.code}", file=self.out)
            self.say("agent", outcome.message)
            return
        if self.show_transitions and outcome.step is not None:
            step = outcome.step
            print(
                f"       ⟶ {call.name}({args}): {step.source[-1]} → {step.target[-1]}",
                file=self.out,
            )
        self._show_effects(outcome.effects, fallback=outcome.message)

    def _show_effects(self, effects: Iterable[Effect], fallback: str = "") -> None:
        spoke = False
        for effect in effects:
            if isinstance(effect, runtime.Instruct):
                self._last_instruction = effect.instructions
                self.say("agent", effect.instructions)
                spoke = True
            elif isinstance(effect, runtime.TaskCompleted) and self.show_transitions:
                print(f"       ✓ {effect.task_id} complete", file=self.out)
            elif isinstance(effect, runtime.TaskStarted) and self.show_transitions:
                how = "resumed" if effect.resumed else "started"
                print(f"       ▶ {effect.task_id} {how}", file=self.out)
            elif isinstance(effect, runtime.Regressed) and self.show_transitions:
                print(f"       ↺ back to {', '.join(effect.targets)}", file=self.out)
            elif isinstance(effect, runtime.Complete):
                self.say("agent", "Thank you, that's everything I needed.")
                spoke = True
            elif isinstance(effect, runtime.Fail):
                self.say("agent", f"We could not finish: {effect.error}")
                spoke = True
        if not spoke and fallback:
            self.say("agent", fallback)
