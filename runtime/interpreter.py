"""The sans-I/O interpreter: events in, effects out.

Rules of this file: :meth:`Interpreter.handle` is synchronous and atomic.
It either takes the event through the chart and returns :class:`Accepted`
with the effects to perform, or returns :class:`Rejected` and leaves the
configuration, history and data exactly as they were. It never performs I/O
and never raises for bad input.

Theory of operation: each kind of event becomes a chart event in
:mod:`~taskchart.runtime.event_handlers`; a tool call is resolved against the
active task's tool table into a chart event plus cleaned keyword arguments
(field values pass their validators first). The candidate rows of the transition table are
checked here, so a refused event never reaches the engine and the refusal
can say which guard failed. An accepted event is taken by the engine (the
table engine by default, python-statemachine when asked); the model's
signals become effects, and the tool list is re-offered when it changed.

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> from taskchart.runtime import ToolCalled
>>> chart = compile_chart(declarative_task("name", fields=[Field("name")],
...                                        confirmation=Confirmation.NEVER))
>>> flow = Interpreter(chart)
>>> [type(e).__name__ for e in flow.start()]
['TaskStarted', 'Instruct', 'SetTools']
>>> flow.handle(ToolCalled("update_name", {"name": "Ada"})).ok
True
>>> flow.result
{'name': 'Ada'}
>>> flow.handle(ToolCalled("update_name", {"name": "Bob"})).code
'finished'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
from taskchart.statecharts import Chart, TaskGroupResult
from taskchart.statecharts.chart import FLOW_DONE, FLOW_FAILED, ConfigView
from taskchart.statecharts.engines import Machine
from taskchart.statecharts.fields import shown
from taskchart.statecharts.model import FlowModel

from . import messages
from .effects import Effect, SetTools, StartTimer
from .event_handlers import handle_event
from .events import (
    MODALITIES,
    Event,
    Modality,
)
from .logs import RedactingLogger, get_logger, personal_values
from .outcome import Accepted, Outcome, Rejected, Step
from .recording import RECORDERS, carried, entry, event_name, record_every_flow
from .signal_effects import answer, effects_of
from .tool_calls import resolve_regress
from .turns import handle_turn

__all__ = ["DEFAULT_REGRESS_TOOL", "Interpreter", "record_every_flow"]

_FINALS = frozenset({FLOW_DONE, FLOW_FAILED})

#: The regression tool's name, the same as LiveKit's TaskGroup.
DEFAULT_REGRESS_TOOL = "out_of_scope"


class Interpreter:
    """Run one flow of a compiled :class:`Chart`.

    ``engine`` picks what runs the chart's table: ``"table"`` (the default,
    :class:`~taskchart.statecharts.engines.TableMachine`) or
    ``"statemachine"`` (python-statemachine, the same behaviour, slower).
    ``modality`` is the input modality until a :class:`UserSpoke` says
    otherwise; in ``"audio"`` the ``AUDIO_ONLY`` confirmation policy asks for
    a read-back. ``record=True`` keeps every event and outcome in
    :attr:`journal` (raw values, for replay and coverage). ``clock`` gives
    the time timers' deadlines are kept on (default ``time.time``: a
    snapshot's deadlines then hold across processes).
    """

    def __init__(
        self,
        chart: Chart,
        *,
        modality: Modality = "text",
        regress_tool: str = DEFAULT_REGRESS_TOOL,
        logger: Any = None,
        record: bool = False,
        engine: str = "table",
        clock: Callable[[], float] | None = None,
        _machine: Machine | None = None,
    ) -> None:
        if modality not in MODALITIES:
            raise ValueError(f"modality must be 'text' or 'audio', got {shown(modality, 40)}")
        if not isinstance(chart, Chart):
            raise TypeError(
                f"Interpreter runs a compiled Chart, got {type(chart).__name__}: "
                "pass compile_chart(spec) (or compile_chart([spec, ...]) for a group)"
            )
        self.chart = chart
        self.regress_tool = regress_tool
        pii = chart.pii_fields
        #: Every record is redacted, whatever ``logger`` is: ``pii`` fields by name.
        self.log = RedactingLogger(
            logger if logger is not None else get_logger("taskchart.runtime"),
            frozenset().union(*pii.values()),
        )
        if RECORDERS:
            record = True
            for recorder in RECORDERS:
                recorder.append(self)
        self.journal: list[dict[str, Any]] | None = [] if record else None
        self.timers: dict[str, float] = {}
        #: When each running timer runs out, on :attr:`now`.
        self.deadlines: dict[str, float] = {}
        self.now: Callable[[], float] = clock or time.time
        self._rearm = False
        self._offered: tuple[str, ...] | None = None
        self._tools: tuple[str, ...] | None = None
        #: Events handled so far (accepted or refused).
        self.handled = 0
        if _machine is None:
            model = chart.new_model()
            model.modality = modality
            self.machine: Machine = chart.new_machine(model, engine=engine)
        else:
            self.machine = _machine
        self.engine = engine
        self.model: FlowModel = self.machine.model
        self._pii = pii

    @classmethod
    def resumed(
        cls,
        chart: Chart,
        machine: Machine,
        timers: Mapping[str, float],
        *,
        deadlines: Mapping[str, float] | None = None,
        **options: Any,
    ) -> Interpreter:
        """A flow continuing on ``machine`` (already in its configuration) with ``timers``.

        What :func:`~taskchart.runtime.snapshots.restore` builds once it has
        checked a snapshot; :meth:`from_snapshot` is the usual way in. Its
        :meth:`start` re-arms the timers with the time left to their
        ``deadlines`` (a timer without one gets its whole duration).
        """
        flow = cls(chart, _machine=machine, **options)
        flow.timers = dict(timers)
        now = flow.now()
        flow.deadlines = {t: (deadlines or {}).get(t, now + s) for t, s in timers.items()}
        flow._offered = flow.tools  # the model was offered these before the snapshot
        flow._rearm = True
        return flow

    @classmethod
    def from_snapshot(cls, chart: Chart, data: Any, **options: Any) -> Interpreter:
        """The flow a :func:`~taskchart.runtime.snapshots.snapshot` saved (``SnapshotError`` if unfit)."""
        from .snapshots import restore

        return restore(chart, data, **options)

    # -- reading the flow ----------------------------------------------------------
    @property
    def configuration(self) -> tuple[str, ...]:
        """Active state ids, ancestors first."""
        return self.machine.configuration_values

    @property
    def active_task(self) -> str | None:
        return self.chart.active_task(self.machine.configuration_values)

    @property
    def done(self) -> bool:
        """Whether the flow rests in ``flow_done`` or ``flow_failed`` (restored flows too)."""
        state = self.model.state
        return isinstance(state, str) and state in _FINALS

    @property
    def results(self) -> dict[str, Any]:
        """Results so far, keyed by task id, in task order.

        A task that completed maps to its result (the task's result class, or
        what a hand-written task returned). A task that ended without one maps
        to why: a :class:`~taskchart.statecharts.TaskFailure` (``Declined``,
        ``NoInput``, ``SessionClosed``, ``StartOver``) or the exception a
        hand-written task raised; ``isinstance(r, Exception)`` tells them
        apart. :attr:`result` is set only when the flow completed.
        """
        return {t: self.model.results[t] for t in self.model.order if t in self.model.results}

    @property
    def result(self) -> Any:
        """The flow's result once it completed successfully, else ``None``."""
        if not self.done or self.model.failed_task is not None:
            return None
        if self.chart.group:
            return TaskGroupResult(self.results)
        return self.model.results.get(self.model.order[0])

    @property
    def error(self) -> Exception | None:
        failed = self.model.failed_task
        return self.model.results.get(failed) if failed else None

    def values(self, task_id: str | None = None) -> dict[str, Any]:
        """Field values collected so far by ``task_id`` (default: the active task)."""
        tid = task_id or self.active_task
        return dict(self.model.values.get(tid, {})) if tid else {}

    @property
    def tools(self) -> tuple[str, ...]:
        """Tool names offered to the model in the current configuration."""
        tools = self._tools
        if tools is None:  # kept until the next transition
            tools = self._tools = self._tools_in(self.chart.view(self.machine.configuration_values))
        return tools

    def _tools_in(self, view: ConfigView) -> tuple[str, ...]:
        if view.can_regress and self._can_go_back(view.task):
            return (*view.tools, self.regress_tool)
        return view.tools

    def _can_go_back(self, task: str | None) -> bool:
        """Whether :meth:`regression_targets` is not empty (without building it: every event)."""
        if task is None:
            return False
        order = self.model.order
        visited = self.model.visited
        return any(tid in visited for tid in order[: order.index(task)])

    def check_regression(self, task_ids: Any) -> str | None:
        """Why going back to ``task_ids`` is refused now, or None when it would be accepted."""
        if self.done:
            return "This flow has already finished; nothing more to do."
        task = self.active_task
        assert task is not None
        resolved = resolve_regress(self, self.regress_tool, task, {"task_ids": task_ids})
        return resolved.message if isinstance(resolved, Rejected) else None

    def regression_targets(self) -> tuple[str, ...]:
        """Task ids the caller may go back to now: visited tasks before the active one.

        Going "back" to a later task the caller left unfinished would skip the
        rest of this one and drop what that task had collected, so it is not
        offered.
        """
        task = self.active_task
        if task is None:
            return ()
        position = self.model.order.index(task)
        visited = set(self.model.visited)
        return tuple(t for t in self.model.order[:position] if t in visited)

    # -- driving the flow ----------------------------------------------------------
    def start(self) -> tuple[Effect, ...]:
        """Effects of entering the initial configuration (call once, first).

        A restored flow (:meth:`resumed`) enters nothing: its effects start
        the pending timers again with the time left to each deadline.
        """
        if self._rearm:
            self._rearm = False
            return self.rearm()
        effects = self._drain()
        self._offer(effects)
        return tuple(effects)

    def rearm(self) -> tuple[Effect, ...]:
        """A :class:`StartTimer` for each running timer, for the time left to its deadline."""
        now = self.now()
        return tuple(
            StartTimer(tid, max(0.0, self.deadlines.get(tid, now + s) - now))
            for tid, s in self.timers.items()
        )

    def handle(self, event: Event) -> Outcome:
        """Process one event to completion: ``Accepted``, or ``Rejected`` saying why.

        It does not raise: an event no check foresaw (a value whose ``==`` or
        ``repr`` raises, say) is refused with code ``error`` and leaves the
        flow as it was.
        """
        self.handled += 1
        if self.journal is None:
            return self._guarded(event)
        t0 = time.perf_counter()
        outcome = self._guarded(event)
        if self.journal is not None:
            self.journal.append(entry(event, outcome, (time.perf_counter() - t0) * 1000))
        return outcome

    def handle_batch(self, events: Sequence[Event], *, goes_back: bool = False) -> list[Outcome]:
        """Process the tool calls of one model turn by the one-turn rules.

        Going back wins, the caller's last word wins, confirmations go last
        (:mod:`taskchart.runtime.turns`). ``goes_back`` says the turn goes
        back through a tool handled outside this flow (a group's). Outcomes
        are returned in the order of ``events``.
        """
        return handle_turn(self, events, goes_back=goes_back)

    # -- internals -----------------------------------------------------------------
    def _guarded(self, event: Event) -> Outcome:
        # What the checks did not foresee, before any change or inside a transition
        # (which _send rolls back), is refused here rather than raised at the caller.
        try:
            outcome = handle_event(self, event)
        except Exception as exc:
            self.log.warning("event_failed", trigger=type(event).__name__, error=type(exc).__name__)
            outcome = Rejected(
                "error", f"{type(event).__name__} could not be handled ({type(exc).__name__})"
            )
        if isinstance(outcome, Rejected):  # named one way, whatever refused it
            name = event_name(event)
            if outcome.event != name:
                outcome = attrs.evolve(outcome, event=name)
        return outcome

    def _send(
        self,
        event: Event,
        name: str,
        kwargs: dict[str, Any],
        config: tuple[str, ...] | None = None,
        view: ConfigView | None = None,
    ) -> Outcome:
        if config is None or view is None:
            config = self.machine.configuration_values
            view = self.chart.view(config)
        table = self.chart.table
        rows = table.row_cache.get((config, name))
        if rows is None:
            rows = table.candidate_rows(config, name)
        if not rows:
            return self._rejected(
                event, Rejected("not_enabled", f"{name} is not possible now", name)
            )
        checked: dict[str, bool] = {}
        row_guards = table.row_guards
        for row in rows:
            if not row_guards[row]:
                break
            ok, results = self.chart.check_guards(row, self.model, kwargs)
            for guard, passed in results:
                checked.setdefault(guard, passed)
            if ok:
                break
        else:
            failed = next(g for g, passed in checked.items() if not passed)
            task = view.task
            label = self.chart.task_map[task].label if task else "value"
            hint = messages.GUARD_HINTS.get(
                failed, f"{name} is not possible now ({failed} is false)."
            )
            return self._rejected(
                event, Rejected("guard_failed", hint.format(label=label), name), checked.items()
            )
        source = config
        saved = self.model.checkpoint()
        history = self.machine.history  # a copy already
        state = self.model.state
        timers = self.timers.copy()
        deadlines = self.deadlines.copy()
        self._tools = None
        try:
            self.machine.take(row, kwargs)
            effects = self._drain()
        except Exception as exc:  # a validator, a result type or a callback raised
            self.model.rollback(saved)
            self.model.state = state
            self.machine.history = history
            self.timers = timers
            self.deadlines = deadlines
            self._tools = None
            return self._rejected(
                event, Rejected("error", f"{name} failed: {shown(exc, 300)}", name), checked.items()
            )
        self._offer(effects)
        step = Step(name, source, self.machine.configuration_values, tuple(checked.items()))
        if self.done:
            self.machine.release()
        if self.log.is_enabled_for(logging.INFO):
            self.log.info(
                "transition",
                trigger=name,
                source=source,
                target=step.target,
                guards=checked,
                args=kwargs,
                scrub=self._personal(view.task, kwargs.get("digit"), kwargs.get("result")),
            )
        return Accepted(tuple(effects), answer(self, name, kwargs, effects, view.task), step)

    def _personal(self, task: str | None, *carried: Any) -> list[str]:
        """Values a record must not show: ``carried`` and the task's stored ``pii`` values."""
        stored = self.model.values.get(task, {}) if task else {}
        pii = self._pii.get(task or "", frozenset())
        return personal_values([*carried, *(v for k, v in stored.items() if k in pii)])

    def _rejected(
        self, event: Event, rejected: Rejected, guards: Iterable[tuple[str, bool]] = ()
    ) -> Rejected:
        if not self.log.is_enabled_for(logging.INFO):
            return rejected
        self.log.info(
            "rejected",
            trigger=type(event).__name__,
            name=rejected.event,
            code=rejected.code,
            reason=rejected.message,
            configuration=self.configuration,
            guards=dict(guards),
            scrub=self._personal(self.active_task, carried(event)),
        )
        return rejected

    def _drain(self) -> list[Effect]:
        signals = self.model.signals
        if not signals:
            return []
        effects: list[Effect] = []
        for signal in signals:
            effects.extend(effects_of(self, signal))
        signals.clear()
        return effects

    def _offer(self, effects: list[Effect]) -> None:
        tools = self.tools
        if tools != self._offered:
            self._offered = tools
            effects.append(SetTools(tools))
