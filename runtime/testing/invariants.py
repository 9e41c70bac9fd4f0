"""The built-in invariants of the generated machine, checked after every event.

Rules of this file: an invariant holds for every chart (what holds only for
yours is a :meth:`~taskchart.runtime.testing.FlowMachine.flow_invariant`);
it reads the flow and what the machine saw (the events sent, their outcomes
and effects), and fails with an ``AssertionError`` that names what broke.

Theory of operation: :class:`FlowChecks` is the checking half of
:class:`~taskchart.runtime.testing.FlowMachine`. It plays the adapter,
absorbing the effects of every accepted event (completions, the tools last
offered), and checks each outcome (:meth:`FlowChecks._after`: a refusal
changes nothing) and then the flow's state (:meth:`FlowChecks.check_all`:
configuration, results, progress, your invariants, the snapshot round
trip). A refusal skips the state checks: it was just shown to change
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, get_args

from taskchart.statecharts import Chart, Declined, TaskFailure, TaskSpec
from taskchart.statecharts.fields import SHOWN_LIMIT
from taskchart.statecharts.graph import LeafGraph
from taskchart.statecharts.model import gave_up
from taskchart.statecharts.table import FLOW_DONE, FLOW_FAILED

from ..effects import (
    CancelTimer,
    Complete,
    Effect,
    Fail,
    SetTools,
    StartTimer,
    TaskCompleted,
    TaskFailed,
    TaskStarted,
)
from ..events import MODALITIES, Event, TimerFired, ToolCalled, UserSpoke
from ..interpreter import Interpreter
from ..outcome import Accepted, Outcome, RejectCode, Rejected
from .coverage import Coverage
from .observe import Observed, _changed_since, _observe, check_roundtrip

ChartSource = Chart | TaskSpec | Sequence[TaskSpec] | Callable[[], Any]
FlowInvariant = Callable[[Interpreter], None]

_FINALS = (FLOW_DONE, FLOW_FAILED)
#: Every rejection code but ``error`` (an event no check foresaw: a defect to report).
REJECT_CODES = frozenset(get_args(RejectCode)) - {"error"}

#: Longest run of an argument a refusal may quote (longer values are cut).
_ECHO_LIMIT = SHOWN_LIMIT


def _check_not_echoed(flow: Interpreter, event: Event, message: str) -> None:
    """A refusal quotes no argument longer than a few dozen characters in full, and no
    value of a private (``pii``) field at all."""
    if not isinstance(event, ToolCalled) or not isinstance(event.arguments, Mapping):
        return
    tool = owner = None
    if isinstance(event.name, str):  # the first task with a tool of that name owns it
        owner = next((s for s in flow.chart.tasks if s.tool(event.name) is not None), None)
        tool = owner.tool(event.name) if owner is not None else None
    for arg, value in event.arguments.items():
        texts = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        target = tool.arguments.get(arg) if tool is not None and isinstance(arg, str) else None
        field = owner.field_map.get(target) if owner is not None and target else None
        for text in texts:
            assert len(text) <= _ECHO_LIMIT or text not in message, (
                f"a refusal of {event.name!r} quotes a {len(text)}-character argument in full"
            )
            if field is not None and field.pii and len(text.strip()) >= 4:
                assert text.strip() not in message, (
                    f"a refusal of {event.name!r} quotes the private {field.name}"
                )


class FlowChecks:
    """The built-in invariants (see :class:`~taskchart.runtime.testing.FlowMachine`)."""

    chart: ClassVar[Chart]
    user_invariants: ClassVar[list[FlowInvariant]]
    coverage: ClassVar[Coverage]
    restored: ClassVar[set[Any]]
    roundtrip_every: ClassVar[int] = 1
    graph: ClassVar[LeafGraph]  # the chart's leaves and rows
    tool_names: ClassVar[frozenset[str]]  # every tool of every task of the chart
    own_tools: ClassVar[dict[tuple[str, tuple[str, ...], str], bool]]  # checked offers

    flow: Interpreter
    events: int
    completions: int
    completed: dict[str, Any]
    failed: dict[str, Exception]
    open_completion: set[str]  # tasks that completed since they were entered
    offered: tuple[str, ...] | None
    active: str | None = None  # the active task, as the configuration check found it
    tools_checked: tuple[str, ...] | None = None  # the last offer found the task's own
    ended: Complete | Fail | None  # the flow's own end, as announced
    scheduled: set[str]  # timers an adapter performing the effects has running
    after_end: int  # events sent to this flow after it ended
    #: (flow, events handled, observed): the state after the last checked event
    known_state: tuple[Interpreter, int, Observed] | None

    def _absorb(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, TaskStarted):
                self.open_completion.discard(effect.task_id)
            elif isinstance(effect, (TaskCompleted, TaskFailed)):
                tid = effect.task_id
                assert tid not in self.open_completion, f"task {tid!r} completed twice"
                self.open_completion.add(tid)
                self.coverage.states.add(f"{tid}__{_final_of(effect)}")
                if isinstance(effect, TaskCompleted):
                    self.completed[tid] = effect.result
                    self.failed.pop(tid, None)
                else:
                    self.failed[tid] = effect.error
                    self.completed.pop(tid, None)
            elif isinstance(effect, (Complete, Fail)):
                self.completions += 1
                assert self.completions == 1, "the flow completed more than once"
                self.ended = effect
            elif isinstance(effect, SetTools):
                self.offered = effect.tools
            elif isinstance(effect, StartTimer):
                self.scheduled.add(effect.timer_id)
            elif isinstance(effect, CancelTimer):
                self.scheduled.discard(effect.timer_id)

    def _after(
        self,
        event: Event,
        outcome: Outcome,
        before: Observed,
        offered: tuple[str, ...],
        was_done: bool,
        batch: bool = False,
    ) -> None:
        flow = self.flow
        cov = self.coverage
        cov.events += 1
        self.events += 1
        assert isinstance(outcome, (Accepted, Rejected)), outcome
        if isinstance(outcome, Rejected):
            assert outcome.code in REJECT_CODES, f"unexpected rejection {outcome!r}"
            assert outcome.message.strip(), f"a rejection without a message: {outcome!r}"
            _check_not_echoed(flow, event, outcome.message)
            if outcome.code == "unknown_tool":
                assert isinstance(event, ToolCalled), f"{event!r} refused as an unknown tool"
                assert event.name != flow.regress_tool and event.name not in self.tool_names, (
                    f"{event.name!r} is a tool of the chart but was refused as unknown"
                )
            changed = _changed_since(before, flow)
            assert not changed, f"{event!r} was refused but changed {changed}"
            self.known_state = (flow, flow.handled, before)
        else:
            cov.accepted += 1
            if isinstance(event, ToolCalled) and (outcome.step is not None or not batch):
                assert event.name in offered, f"{event.name!r} was accepted but not offered"
            if isinstance(event, TimerFired):
                self.scheduled.discard(event.timer_id)  # the adapter's timer went off
            if outcome.step is not None:
                cov.merge_step(outcome.step.source[-1], outcome.step.event, flow.configuration[-1])
            self._absorb(outcome.effects)
        if was_done:
            self.after_end += 1
        if was_done and not isinstance(event, UserSpoke):
            assert isinstance(outcome, Rejected) and outcome.code == "finished", (
                f"{event!r} after the end was not refused as finished: {outcome!r}"
            )
        if isinstance(event, UserSpoke) and event.modality not in MODALITIES:
            assert isinstance(outcome, Rejected) and outcome.code == "invalid_argument", (
                f"{event!r} has no known modality but got {outcome!r}"
            )
        if not batch:
            assert outcome.ok or outcome.code != "superseded", (
                f"{event!r} was superseded outside a batch"
            )

    def check_all(self) -> None:
        flow = self.flow
        config, done = flow.configuration, flow.done
        self._check_configuration(config, done)
        self._check_results(config, done)
        self._check_progress(config, done)
        _check_handlers(flow)
        for fn in self.user_invariants:
            fn(flow)
        if self.roundtrip_every and self.events % self.roundtrip_every == 0:
            parts = check_roundtrip(flow, self.restored)
            # what the next event starts from: a refusal must leave exactly this
            self.known_state = (flow, flow.handled, _observe(flow, parts))

    def _check_configuration(self, config: tuple[str, ...], done: bool) -> None:
        flow = self.flow
        if len(config) == 1:
            assert config[0] in _FINALS, f"a configuration of one state must be final: {config}"
            assert done and flow.active_task is None
        else:
            assert len(config) == 2, f"more than one active leaf: {config}"
            task, leaf = config
            graph = self.graph
            kinds = graph.kinds
            assert kinds.get(task) == "compound", f"{task!r} is not a task: {config}"
            assert graph.owner.get(leaf) == task and kinds.get(leaf) == "atomic", (
                f"the active leaf {leaf!r} is not an open state of {task!r}"
            )
            assert not done and flow.active_task == task
            self.active = task

    def _check_results(self, config: tuple[str, ...], done: bool) -> None:
        flow = self.flow
        assert (self.completions == 1) == done, (
            f"done={done} but {self.completions} flow completions"
        )
        results = flow.model.results
        if done:
            if flow.result is not None:
                assert config == (FLOW_DONE,), f"a result outside flow_done: {config}"
            ended = self.ended
            if config == (FLOW_DONE,):
                assert isinstance(ended, Complete), f"flow_done, announced by {ended!r}"
                assert ended.result == flow.result, f"{flow.result!r} announced as {ended!r}"
                assert flow.error is None, f"flow_done with the error {flow.error!r}"
            else:
                assert isinstance(ended, Fail), f"flow_failed, announced by {ended!r}"
                assert flow.error is not None and ended.error == flow.error, (
                    f"{flow.error!r} announced as {ended!r}"
                )
                assert flow.result is None
        else:
            assert flow.error is None, f"an error before the end: {flow.error!r}"
            task = self.active  # what _check_configuration found active_task to be
            assert task not in results, f"the active task {task!r} already has a result"
        failed, completed = self.failed, self.completed
        for tid, value in results.items():
            # ``is`` first, as containers compare: the effect usually carries this very object
            if isinstance(value, Exception):  # a TaskFailure or a hand-written task's error
                assert tid in failed, f"{tid!r} has an error but never failed"
                announced = failed[tid]
                assert announced is value or announced == value, (
                    f"{tid!r}: error differs from its effect"
                )
                if isinstance(value, TaskFailure):
                    assert value.task_id == tid, f"{tid!r} holds the failure of {value.task_id!r}"
            else:
                assert tid in completed, f"{tid!r} has a result but never completed"
                announced = completed[tid]
                assert announced is value or announced == value, (
                    f"{tid!r}: result differs from its effect"
                )

    def _check_progress(self, config: tuple[str, ...], done: bool) -> None:
        flow = self.flow
        tools = flow.tools
        timers = flow.timers
        assert tools == (self.offered or ()), f"offered {self.offered}, accepts {tools}"
        assert timers.keys() == self.scheduled, (
            f"timers {sorted(timers)}, but the effects left {sorted(self.scheduled)} running"
        )
        if done:
            assert not tools and not timers, "tools or timers after the end"
            return
        leaf = config[-1]
        spec = self.chart.task_map[config[0]]
        if tools and tools is not self.tools_checked:
            self.tools_checked = tools
            assert self._own_tools(spec, tools, flow.regress_tool), (
                f"{spec.id} offers {tools}: a tool twice, or one that is not its own"
            )
        assert tools or timers or spec.kind == "implicit", (
            f"stuck in {leaf}: no tool offered and no timer running"
        )
        assert self.graph.can_leave(leaf), (
            f"stuck in {leaf}: no event anything can send leaves it (only a session close)"
        )

    def _own_tools(self, spec: TaskSpec, tools: tuple[str, ...], regress: str) -> bool:
        """Each tool offered once, and each the task's own or the regression tool."""
        key = (spec.id, tools, regress)
        known = self.own_tools.get(key)
        if known is None:
            own = {tool.name for tool in spec.tools} | {regress}
            known = self.own_tools[key] = len(set(tools)) == len(tools) and set(tools) <= own
        return known


def _check_handlers(flow: Interpreter) -> None:
    """Re-prompt counters never pass their limits, and a handler gives up (failing the
    task or taking its exit) exactly when its counter (with ``shared_retries``: the
    step's re-prompts of both kinds) has reached the limit."""
    model = flow.model
    results = model.results
    handled = _handlers(flow.chart)
    for kind, counts in (("no_input", model.reprompts), ("no_match", model.no_matches)):
        mine = handled[kind]
        for tid, count in counts.items():  # a counter of a task without this handler
            assert tid in mine or count == 0, f"{tid}: {count} {kind} re-prompts without a handler"
        for tid, (limit, exit_to) in mine.items():
            count = model.retries_used(tid, kind)  # with shared_retries: both kinds
            assert count <= limit, f"{tid}: {count} {kind} re-prompts, the limit is {limit}"
            if tid not in results or gave_up(results[tid]) != kind:
                continue
            assert count == limit, f"{tid} gave up on {kind} after {count} re-prompts, not {limit}"
            if exit_to in model.tasks:
                assert model.exited and exit_to in model.visited, (
                    f"{tid} gave up on {kind} but the flow did not take its exit to {exit_to!r}"
                )


#: Per chart: for each kind of handler, the tasks having one, with its limit and exit.
_HANDLERS: dict[Chart, dict[str, dict[str, tuple[int, str | None]]]] = {}


def _handlers(chart: Chart) -> dict[str, dict[str, tuple[int, str | None]]]:
    known = _HANDLERS.get(chart)
    if known is None:
        if len(_HANDLERS) > 64:
            _HANDLERS.clear()
        known = _HANDLERS[chart] = {
            kind: {
                spec.id: (handler.max_retries, spec.route_table.get(kind))
                for spec in chart.tasks
                if (handler := spec.handler(kind)) is not None
            }
            for kind in ("no_input", "no_match")
        }
    return known


def _final_of(effect: TaskCompleted | TaskFailed) -> str:
    if isinstance(effect, TaskCompleted):
        return "complete"
    return "declined" if isinstance(effect.error, Declined) else "failed"
