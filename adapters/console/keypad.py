"""Play a phone flow in the terminal: typed digits are keypad tones, ``...`` is silence.

Each line is one caller action: keys (``1``, ``10000001#``) are tones, an
empty line or ``...`` is silence on a simulated clock (the step's no-input
timer runs out), other text is a turn the model could not map to a tool (a
no-match where the step handles one). Hand-written tasks (a menu's actions,
the operator) say their instructions and return.

>>> import io
>>> from taskchart.statecharts.prebuilt.menu import menu_spec
>>> from taskchart.statecharts import compile_chart
>>> out = io.StringIO()
>>> KeypadRunner(compile_chart(menu_spec("Main.", {"1": "cards"})), out=out).run(["5", "1"])
True
>>> "agent > Say exactly" in out.getvalue()
True
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from taskchart.runtime import (
    AgentSpeaking,
    Complete,
    DtmfReceived,
    Effect,
    Fail,
    Instruct,
    Interpreter,
    NoMatch,
    Outcome,
    SessionClosed,
    SimulatedClock,
    TaskCompleted,
    TaskFailed,
    TaskReturned,
    TaskStarted,
    TimerFired,
    TimerSet,
    UserSpoke,
)
from taskchart.statecharts import Chart
from taskchart.statecharts.task import KEYPAD_KEYS

from .runner import results_json

__all__ = ["KeypadRunner"]


class KeypadRunner:
    """Drive ``chart`` from lines of keys, silences and speech, on a simulated clock."""

    def __init__(
        self, chart: Chart, *, out: TextIO | None = None, show_transitions: bool = True
    ) -> None:
        self.flow = Interpreter(chart)
        self.out = out or sys.stdout
        self.show_transitions = show_transitions
        self.clock = SimulatedClock()
        self.timers = TimerSet(self.clock, lambda tid: self._act(self.flow.handle(TimerFired(tid))))

    def run(self, lines: Iterable[str]) -> bool:
        """Run the call; True when the flow completed."""
        self._show(self.flow.start())
        for raw in lines:
            if self.flow.done:
                break
            line = raw.strip()
            if line.startswith("# ") or line.lower() in ("quit", "bye"):
                continue
            self._prompt_ended()
            if line in ("", "..."):
                self._say("caller", "(silence)")
                running = [s for t, s in self.flow.timers.items() if t.endswith(".no_input")]
                self.clock.advance(max(running, default=1.0))
            elif all(key in KEYPAD_KEYS for key in line):
                self._say("caller", f"(keys {line})")
                for key in line:
                    if not self.flow.done:
                        self._act(self.flow.handle(DtmfReceived(key)))
            else:
                self._say("caller", line)
                self.flow.handle(UserSpoke(line, "audio"))
                self._act(self.flow.handle(NoMatch("unmatched")))
        if not self.flow.done:
            self._act(self.flow.handle(SessionClosed("the caller hung up")))
        self.timers.close()
        print("\nresults:", file=self.out)
        print(self._results(), file=self.out)
        return self.flow.result is not None

    def _results(self) -> str:
        """The results as JSON, private (``pii``) fields redacted: keyed PINs never show."""
        shown = json.loads(results_json(self.flow))
        for tid, fields in self.flow.chart.pii_fields.items():
            entry = shown.get(tid)
            for name in fields:
                for holder in (entry, entry.get("collected") if isinstance(entry, dict) else None):
                    if isinstance(holder, dict) and name in holder:
                        holder[name] = "[redacted]"
        return json.dumps(shown, indent=2)

    def _prompt_ended(self) -> None:
        """The agent has finished speaking: the step's no-input timer starts."""
        if not self.flow.done:
            self._act(self.flow.handle(AgentSpeaking(False)))

    def _act(self, outcome: Outcome) -> None:
        if outcome.ok:
            self._show(outcome.effects)
        elif self.show_transitions:
            print(f"       ✗ {outcome.message}", file=self.out)

    def _show(self, effects: Sequence[Effect]) -> None:
        self.timers.perform_all(effects)
        started: list[str] = []
        for effect in effects:
            if isinstance(effect, Instruct):
                self._say("agent", effect.instructions)
            elif isinstance(effect, TaskStarted):
                if self.show_transitions:
                    print(f"       ▶ {effect.task_id}", file=self.out)
                started.append(effect.task_id)
            elif isinstance(effect, TaskCompleted | TaskFailed) and self.show_transitions:
                how = "complete" if isinstance(effect, TaskCompleted) else "gave up"
                print(f"       ✓ {effect.task_id} {how}", file=self.out)
            elif isinstance(effect, Complete):
                self._say("agent", "Thank you for calling. Goodbye.")
            elif isinstance(effect, Fail):
                self._say("agent", f"We could not finish: {effect.error}")
        for task in started:  # a hand-written task (an action, the operator) runs and returns
            if self.flow.chart.task_map[task].kind == "implicit" and self.flow.active_task == task:
                self._act(self.flow.handle(TaskReturned(None)))

    def _say(self, who: str, text: str) -> None:
        print(f"{who:>6} > {text}", file=self.out)
