"""The rule-based machine: what can happen in a call, as hypothesis rules.

Rules of this file: every event goes through :meth:`FlowMachine.send` or
:meth:`FlowMachine.send_batch`, which check the built-in invariants
(:mod:`.invariants`) and yours after it; a rule only chooses the event.

Theory of operation: the rules are what can happen in a call (the model
calls an offered tool, well or badly, or one that is not offered, several
in one turn; the user speaks; a timer fires; a hand-written task returns or
raises; the session closes; the next call starts once a flow has ended).
Each rule draws one integer that the walker (:mod:`.walker`) turns into an
event from what the flow allows now; one rule plays a burst of such events
from a single draw of bytes, which is how most events of a run are played.
At teardown the cooperative driver (:mod:`.driver`) finishes the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.control import should_note
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from taskchart.statecharts import Chart
from taskchart.statecharts.graph import LeafGraph

from ..effects import Complete, Fail
from ..events import (
    DtmfReceived,
    Event,
    Modality,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    TimerFired,
    UserSpoke,
)
from ..interpreter import Interpreter
from ..outcome import Outcome, Rejected
from .coverage import Coverage
from .driver import _values_hint, drive_to_end
from .invariants import FlowChecks, FlowInvariant
from .observe import Observed, _observe
from .values import KEYPAD, ValueOverrides
from .walker import BURST, CHOICE, _choices, _Walker


def _offers_tools(machine: FlowMachine) -> bool:
    return bool(machine.flow.tools)


def _again(step: Callable[..., None]) -> Callable[..., None]:
    """``step`` once more, as a rule of its own named ``<step>_again``: hypothesis has no
    rule weights, so a second rule makes the step twice as likely."""

    def again(self: FlowMachine, **drawn: Any) -> None:
        step(self, **drawn)

    again.__name__ = again.__qualname__ = f"{step.__name__}_again"
    again.__doc__ = f"The same as {step.__name__}: a second rule makes it twice as likely."
    return again


#: What one ``several_events`` rule draws: three bytes per event.
_BURST_BYTES = st.binary(min_size=3 * BURST, max_size=3 * BURST)


class FlowMachine(FlowChecks, RuleBasedStateMachine):
    """A generated state machine over one chart (made by :func:`flow_state_machine`).

    Built-in invariants, checked after every event:

    * ``handle`` never raises; a ``Rejected`` outcome has a known code and a
      message, and changes nothing (configuration, values, results, history,
      timers, turn counter, modality, tools); ``unknown_tool`` only for a name
      no task of the chart has, ``superseded`` only inside a batch, and a
      ``UserSpoke`` of an unknown modality is refused as ``invalid_argument``;
    * exactly one active leaf: a flow final, or a task and one of its own
      open states (``active_task`` names it);
    * the flow completes at most once, and a task completes at most once per
      entry; after the end every event but ``UserSpoke`` is refused;
    * results only in final states: ``flow.result`` only in ``flow_done`` and
      equal to what ``Complete`` announced, ``flow.error`` only in
      ``flow_failed`` and equal to what ``Fail`` announced; the active task
      has no result; every result and error is the one its task's effect
      announced, and a task's failure names that task;
    * no stuck configuration: until the flow ends, the active state has a
      transition to another state on an event something can send (not only
      a session close), and tools or timers are offered;
    * accepted tool calls were offered; the tools equal the last ``SetTools``,
      each once, each the active task's own or the regression tool; the
      running timers are the ones an adapter performing the effects
      (``StartTimer``, ``CancelTimer``, a timer going off) has running;
    * snapshot/restore round-trips (every ``roundtrip_every`` events).

    At teardown (``finish=True``) a cooperative model drives the flow to its
    end, which finds configurations that look alive but cannot finish.
    """

    chart: ClassVar[Chart]
    overrides: ClassVar[ValueOverrides | None] = None
    user_invariants: ClassVar[list[FlowInvariant]]
    coverage: ClassVar[Coverage]
    restored: ClassVar[set[Any]]
    roundtrip_every: ClassVar[int] = 1
    finish: ClassVar[bool] = True
    graph: ClassVar[LeafGraph]  # the chart's leaves and rows
    walker: ClassVar[_Walker]  # turns each rule's integer into an event

    def __init__(self) -> None:
        super().__init__()
        self.events = 0
        try:  # hypothesis keeps notes only when it replays a failure (or is verbose)
            self.noting = should_note()
        except InvalidArgument:  # outside a hypothesis test
            self.noting = False
        self.begin_flow()

    def begin_flow(self) -> None:
        """Start a new flow of the chart (the next call) and check its first configuration."""
        self.flow = Interpreter(self.chart)
        self.completions = 0
        self.completed: dict[str, Any] = {}
        self.failed: dict[str, Exception] = {}
        self.open_completion: set[str] = set()  # tasks that completed since they were entered
        self.offered: tuple[str, ...] | None = None
        self.ended: Complete | Fail | None = None
        self.scheduled: set[str] = set()
        self.after_end = 0  # events sent to this flow after it ended
        #: (flow, events handled, observed): the state after the last checked event
        self.known_state: tuple[Interpreter, int, Observed] | None = None
        self.coverage.runs += 1
        self._absorb(self.flow.start())
        self.coverage.states.update(self.flow.configuration)
        self.check_all()

    # -- user invariants -------------------------------------------------------------
    @classmethod
    def flow_invariant(cls, fn: FlowInvariant) -> FlowInvariant:
        """Decorator: also check ``fn(flow)`` after every event (raise to fail)."""
        cls.user_invariants.append(fn)
        return fn

    # -- sending -------------------------------------------------------------------
    def send(self, event: Event) -> Outcome:
        """Handle ``event`` and check every invariant."""
        flow = self.flow
        known = self.known_state
        if known is not None and known[0] is flow and known[1] == flow.handled:
            before = known[2]  # observed after the last event, nothing handled since
        else:
            before = _observe(flow)
        offered = flow.tools
        was_done = flow.done
        outcome = flow.handle(event)
        if self.noting:
            note(f"{event!r} -> {outcome!r}")
        self._after(event, outcome, before, offered, was_done)
        if outcome.ok:  # a refusal was just shown to change nothing: the invariants still hold
            self.check_all()
        return outcome

    def send_batch(self, events: Sequence[Event]) -> list[Outcome]:
        """Handle one model turn's calls (``handle_batch``), checking each event."""
        flow = self.flow
        checked = flow.handle

        def handle(event: Event) -> Outcome:
            before = _observe(flow)
            offered, was_done = flow.tools, flow.done
            outcome = checked(event)
            if self.noting:
                note(f"(batch) {event!r} -> {outcome!r}")
            self._after(event, outcome, before, offered, was_done, batch=True)
            return outcome

        flow.handle = handle  # type: ignore[method-assign]
        try:
            outcomes = flow.handle_batch(events)
        finally:
            del flow.handle
        assert len(outcomes) == len(events)
        self.check_all()
        return outcomes

    def walk(self, choices: Iterable[int]) -> None:
        """Play one event per choice: the fast, single-draw form of the rules.

        Each integer picks what happens next among what is possible now
        (see :class:`_Walker`); hypothesis shrinks the list to a short,
        readable failing sequence. Once a flow has ended and one more event
        probed its end, the walk goes on with a new flow of the chart (the
        next call), so a long walk covers several calls.
        """
        last = self.play(choices)
        if last % 3 == 1 and not self.flow.done:
            # hang up in a task chosen by the last choice, reached cooperatively,
            # so that every task's session-close ending gets covered
            ids = [t.id for t in self.chart.tasks]
            remaining = ids[ids.index(self.flow.configuration[0]) :]
            target = remaining[(last // 3) % len(remaining)]
            drive_to_end(
                self.flow,
                overrides=self.overrides,
                send=self.send,
                until=lambda f: f.active_task == target,
            )
            if not self.flow.done:
                self.send(SessionClosed("caller hung up"))

    def play(self, choices: Iterable[int]) -> int:
        """Send one walker event per choice (see :meth:`walk`); the last choice, or 0."""
        walker = self.walker
        last = 0
        for r in choices:
            last = r
            if self.flow.done and self.after_end:  # the end was probed: take the next call
                self.begin_flow()
            picked = walker.pick(self.flow, r)
            if isinstance(picked, list):
                self.send_batch(picked)
            else:
                self.send(picked)
        return last

    # -- rules ---------------------------------------------------------------------
    # Each rule draws one integer and the walker turns it into an event from what
    # the flow allows now: one cheap draw per step, which hypothesis shrinks well.
    @precondition(_offers_tools)
    @rule(r=CHOICE)
    def call_offered_tool(self, r: int) -> None:
        self.send(self.walker.call(self.flow, r))

    call_offered_tool_again = precondition(_offers_tools)(rule(r=CHOICE)(_again(call_offered_tool)))

    @rule(modality=st.sampled_from(["text", "audio", "audio"]))
    def user_speaks(self, modality: Modality) -> None:
        turn = self.flow.model.user_turn
        assert self.send(UserSpoke("yes", modality)).ok
        assert self.flow.model.user_turn == turn + 1

    @precondition(_offers_tools)
    @rule(r=CHOICE)
    def call_offered_tool_badly(self, r: int) -> None:
        event = self.walker.bad_call(self.flow, r)
        outcome = self.send(event)
        assert isinstance(outcome, Rejected), f"{event!r} should be refused, got {outcome!r}"

    @precondition(lambda self: bool(self.walker.all_tools))
    @rule(r=CHOICE)
    def call_tool_not_offered(self, r: int) -> None:
        event = self.walker.disabled_call(self.flow, r)
        if event is not None:
            outcome = self.send(event)
            assert isinstance(outcome, Rejected), f"{event!r} was not offered but {outcome!r}"

    @precondition(_offers_tools)
    @rule(r=CHOICE)
    def one_turn_many_calls(self, r: int) -> None:
        self.send_batch(self.walker.batch(self.flow, r))

    @precondition(lambda self: bool(self.flow.timers))
    @rule(r=CHOICE)
    def timer_fires(self, r: int) -> None:
        event = TimerFired(sorted(self.flow.timers)[r % len(self.flow.timers)])
        assert self.send(event).ok, f"{event!r} was running but refused"

    @rule(raw=_BURST_BYTES)
    def several_events(self, raw: bytes) -> None:
        """Up to BURST events of any kind from one draw, as a walk plays them.

        Most of a run's events come this way: one draw of bytes costs
        hypothesis far less than one rule per event, and the shrinker still
        cuts a failing burst short (a zero choice ends it).
        """
        self.play(_choices(raw))

    several_events_again = rule(raw=_BURST_BYTES)(_again(several_events))

    @precondition(lambda self: self.flow.done and self.after_end > 0)
    @rule()
    def next_call(self) -> None:
        """The flow ended and its end was probed: the next call starts a new flow."""
        self.begin_flow()

    @precondition(
        lambda self: (
            not self.flow.done
            and self.chart.task_map[self.flow.configuration[0]].kind == "implicit"
        )
    )
    @rule(result=st.none() | st.booleans() | st.integers(0, 9) | st.text(max_size=8))
    def task_returns(self, result: Any) -> None:
        assert self.send(TaskReturned(result)).ok

    @precondition(
        lambda self: (
            not self.flow.done
            and self.chart.task_map[self.flow.configuration[0]].kind == "implicit"
        )
    )
    @rule(roll=st.integers(0, 9))
    def task_raises(self, roll: int) -> None:
        if roll == 0:
            self.send(TaskRaised(RuntimeError("the task's own code failed")))

    @precondition(lambda self: any(t.keypad is not None for t in self.chart.tasks))
    @rule(key=st.sampled_from(KEYPAD))
    def key_pressed(self, key: str) -> None:
        self.send(DtmfReceived(key))

    @rule(roll=st.integers(0, 19))
    def session_closes(self, roll: int) -> None:
        if roll == 0:  # rarely: it ends the flow
            self.send(SessionClosed("caller hung up"))

    def teardown(self) -> None:
        if not self.finish or self.flow.done:
            return
        before = self.flow.configuration
        ended = drive_to_end(self.flow, overrides=self.overrides, send=self.send)
        assert ended, (
            f"a cooperative model could not finish the flow from {before}: "
            f"stuck in {self.flow.configuration}; {_values_hint(self.flow, self.overrides)}"
        )
