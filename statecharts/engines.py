"""Engines that run a chart's transition table: the table engine and python-statemachine.

Rules of this file: both engines take a :class:`Table` (the transition rows
with their bound guards, actions and enter/exit hooks), never the chart, and expose
the same small surface (:class:`Machine`): the configuration (ancestors
first, stored in ``model.state`` as python-statemachine does), the deep
history of every task as state ids, ``take(row, kwargs)`` for a transition
whose guards the caller already checked, and ``send(event, **kwargs)``.
Neither catches exceptions: a raising callback leaves the caller to roll
back (the interpreter does).

Theory of operation of the table engine: a chart is two levels deep (top
level: ``dispatch``, one compound per task, the two flow finals; each task
compound: its atomic and final states plus a deep history state), so a
transition's domain is either its task compound (a move between siblings) or
the top level. A microstep exits the active states inside the domain,
innermost first (a task compound records its history as it is exited), runs
the row's actions, then enters the target: a compound through its initial
child, a history state through what it recorded or its default (the initial
child). Entering a task's final state queues ``done.state.<task>``; a
macrostep then takes eventless rows (``dispatch``'s) before queued internal
events, as SCXML does, until neither is left. This is what python-statemachine
does for these charts (checked event by event against it in
``tests/test_engines.py``) at a fraction of the cost: no callback resolution
or dependency injection at run time, and the candidate rows of a
configuration are cached.

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> chart = compile_chart([declarative_task(t, fields=[Field(t)], confirmation=Confirmation.NEVER)
...                        for t in ("name", "city")])
>>> machine = chart.new_machine()
>>> machine.configuration_values
('name', 'name__collecting')
>>> machine.send("update", values={"name": "Ada"}), machine.configuration_values
(True, ('city', 'city__collecting'))
>>> machine.send("update", values={"city": "Paris"})
True
>>> machine.configuration_values, machine.history
(('flow_done',), {'city__h': ('city__complete',)})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .table import StateDef, TransitionDef

if TYPE_CHECKING:
    from statemachine import StateChart

    from .model import FlowModel

__all__ = ["LibraryMachine", "Machine", "Table", "TableMachine", "call_with"]

History = dict[str, tuple[str, ...]]


class Machine(Protocol):
    """What the runtime needs from an engine running one flow."""

    @property
    def model(self) -> FlowModel: ...

    @property
    def configuration_values(self) -> tuple[str, ...]: ...

    @property
    def history(self) -> History: ...

    @history.setter
    def history(self, value: Mapping[str, Sequence[str]]) -> None: ...

    def take(self, row: int, kwargs: Mapping[str, Any]) -> None: ...

    def send(self, event: str, **kwargs: Any) -> bool: ...

    def release(self) -> None: ...


Hook = Callable[["FlowModel"], Any]


@attrs.frozen
class Table:
    """A chart's table arranged for lookups: parents, initial children, hooks, rows by source."""

    parent: dict[str, str | None]
    initial: str
    initial_child: dict[str, str]
    history_id: dict[str, str]  # task compound -> its history state
    history_of: dict[str, str]  # history state -> its task compound
    finals: frozenset[str]
    top_finals: frozenset[str]
    enter: dict[str, tuple[Hook, ...]]
    exit: dict[str, tuple[Hook, ...]]
    eventless: dict[str, tuple[int, ...]]
    actions: tuple[tuple[Callable[..., Any], ...], ...]
    transitions: tuple[TransitionDef, ...] = ()
    row_guards: tuple[tuple[tuple[str, Callable[..., bool]], ...], ...] = ()
    #: the innermost source's depth per state (2 inside a task, 1 at the top)
    depth: dict[str, int] = attrs.field(factory=dict)
    #: :meth:`candidate_rows` by (configuration tuple or frozenset, event), filled as asked:
    #: the interpreter's hot path reads it before calling the method.
    row_cache: dict[tuple[Any, str], tuple[int, ...]] = attrs.field(factory=dict, repr=False)
    #: :meth:`eventless_from` by configuration, filled as asked
    eventless_cache: dict[tuple[str, ...], tuple[int, ...]] = attrs.field(factory=dict, repr=False)
    #: :meth:`plan` by (row, configuration), filled as transitions are taken
    plans: dict[tuple[int, tuple[str, ...]], Plan] = attrs.field(factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        states: Sequence[StateDef],
        transitions: Sequence[TransitionDef],
        row_guards: Sequence[tuple[tuple[str, Callable[..., bool]], ...]],
        row_actions: Sequence[tuple[Callable[..., Any], ...]],
        hooks: Mapping[str, Mapping[str, Sequence[Hook]]],
    ) -> Table:
        """The lookups of a table with its bound guards, actions and hooks."""
        parent: dict[str, str | None] = {}
        initial_child: dict[str, str] = {}
        history_id: dict[str, str] = {}
        initial = ""
        for s in states:
            inner = s.task is not None and s.kind != "compound"
            parent[s.id] = s.task if inner else None
            if s.kind == "history" and s.task is not None:
                history_id[s.task] = s.id
            elif s.initial and inner and s.task is not None:
                initial_child[s.task] = s.id
            elif s.initial and not inner:
                initial = s.id
        finals = frozenset(s.id for s in states if s.kind == "final")
        eventless: dict[str, list[int]] = {}
        for i, r in enumerate(transitions):
            if r.event is None:
                eventless.setdefault(r.source, []).append(i)
        return cls(
            parent=parent,
            initial=initial,
            initial_child=initial_child,
            history_id=history_id,
            history_of={h: t for t, h in history_id.items()},
            finals=finals,
            top_finals=frozenset(f for f in finals if parent.get(f) is None),
            enter={k: tuple(v.get("enter", ())) for k, v in hooks.items()},
            exit={k: tuple(v.get("exit", ())) for k, v in hooks.items()},
            eventless={k: tuple(v) for k, v in eventless.items()},
            actions=tuple(row_actions),
            transitions=tuple(transitions),
            row_guards=tuple(row_guards),
            depth={s.id: (2 if s.task and s.kind != "compound" else 1) for s in states},
        )

    def candidate_rows(self, configuration: Iterable[str], event: str) -> tuple[int, ...]:
        """Indexes of the rows for ``event`` from ``configuration``, innermost source first."""
        key = (
            configuration
            if isinstance(configuration, tuple | frozenset)
            else frozenset(configuration),
            event,
        )
        cached = self.row_cache.get(key)
        if cached is None:
            config = frozenset(key[0])
            rows = [
                i for i, r in enumerate(self.transitions) if r.source in config and r.event == event
            ]
            rows.sort(key=lambda i: -self.depth.get(self.transitions[i].source, 0))
            cached = self.row_cache[key] = tuple(rows)
        return cached

    def eventless_from(self, configuration: tuple[str, ...]) -> tuple[int, ...]:
        """The eventless rows of ``configuration``'s states, outermost state first (cached)."""
        cached = self.eventless_cache.get(configuration)
        if cached is None:
            cached = self.eventless_cache[configuration] = tuple(
                row for state in configuration for row in self.eventless.get(state, ())
            )
        return cached

    def plan(self, row: int, before: tuple[str, ...]) -> Plan:
        """What taking external row ``row`` from ``before`` exits and enters (cached)."""
        key = (row, before)
        cached = self.plans.get(key)
        if cached is None:
            cached = self.plans[key] = self._plan(row, before)
        return cached

    def _plan(self, row: int, before: tuple[str, ...]) -> Plan:
        r = self.transitions[row]
        target = r.target
        parent = self.parent
        task = self.history_of.get(target)  # a history target: its task compound
        into = task or parent.get(target)
        domain = parent.get(r.source)
        if domain is None or domain != into:
            domain = None
        config = list(before)
        exits: list[tuple[str | None, tuple[str, ...], tuple[Hook, ...]]] = []
        for state in reversed(before):
            if domain is not None and parent.get(state) != domain:
                continue
            recorded = tuple(s for s in before if parent.get(s) == state)
            exits.append((self.history_id.get(state), recorded, self.exit.get(state, ())))
            config.remove(state)
        entering: tuple[str, ...] | None
        if task is not None:  # what a history state enters is read when it is entered
            entering = None
        elif target in self.initial_child:
            entering = (target, self.initial_child[target])
        else:
            up = parent.get(target)
            entering = (up, target) if up is not None and up not in config else (target,)
        return Plan(tuple(exits), tuple(config), entering, target, task)


@attrs.frozen
class Plan:
    """An external transition from one configuration: the states it exits (innermost
    first, with the history each records and its exit hooks), those it keeps, and those it
    enters (``None`` for a history target: read from the history when it is taken)."""

    exits: tuple[tuple[str | None, tuple[str, ...], tuple[Hook, ...]], ...]
    kept: tuple[str, ...]
    entering: tuple[str, ...] | None
    target: str
    task: str | None  # the history target's task compound


_PARAMS: dict[Callable[..., Any], tuple[str, ...]] = {}
_PARAMS_SIZE = 8192


def call_with(fn: Callable[..., Any], model: FlowModel, kwargs: Mapping[str, Any]) -> Any:
    """Call a guard or action with ``model`` and the event keywords it declares."""
    params = _PARAMS.get(fn)
    if params is None:
        if len(_PARAMS) >= _PARAMS_SIZE:  # every chart brings new callables: stay bounded
            _PARAMS.clear()
        code = fn.__code__
        params = _PARAMS[fn] = tuple(
            n for n in code.co_varnames[: code.co_argcount] if n != "model"
        )
    if not params:
        return fn(model)
    return fn(model, **{n: kwargs[n] for n in params if n in kwargs})


class TableMachine:
    """The table engine: runs one flow of ``chart`` on its transition table directly."""

    __slots__ = ("_config", "_history", "_seen", "_table", "model")

    def __init__(
        self, table: Table, model: FlowModel, history: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.model = model
        self._table = table
        self._history: History = {k: tuple(v) for k, v in (history or {}).items()}
        self._seen: Any = _UNSEEN  # the model.state the cached configuration was read from
        self._config: tuple[str, ...] = ()

    @property
    def configuration_values(self) -> tuple[str, ...]:
        state = self.model.state
        if state is self._seen:
            return self._config
        self._seen = state
        if state is None:
            self._config = ()
        else:
            self._config = (state,) if isinstance(state, str) else tuple(state)
        return self._config

    @property
    def history(self) -> History:
        """Recorded history per history state (a copy)."""
        return dict(self._history)

    @history.setter
    def history(self, value: Mapping[str, Sequence[str]]) -> None:
        self._history = {k: tuple(v) for k, v in value.items()}

    def release(self) -> None:
        """Nothing to give back: a table machine is a few references."""

    def enter_initial(self) -> None:
        """Enter the chart's initial state and run the macrostep that follows."""
        config: list[str] = []
        pending: list[str] = []
        self._enter_states([self._table.initial], config, pending)
        self._store(config)
        self._settle(pending)

    def send(self, event: str, **kwargs: Any) -> bool:
        """Take the first row for ``event`` whose guards pass; False when none does."""
        row = self._select(event, kwargs)
        if row is None:
            return False
        self.take(row, kwargs)
        return True

    def take(self, row: int, kwargs: Mapping[str, Any]) -> None:
        """Take row ``row`` (its guards already passed) and run the macrostep to its end."""
        pending: list[str] = []
        self._microstep(row, kwargs, pending)
        self._settle(pending)

    # -- internals -------------------------------------------------------------------
    def _select(self, event: str, kwargs: Mapping[str, Any]) -> int | None:
        table = self._table
        for row in table.candidate_rows(self.configuration_values, event):
            if _passes(table.row_guards[row], self.model, kwargs):
                return row
        return None

    def _settle(self, pending: list[str]) -> None:
        table = self._table
        while True:
            config = self.configuration_values
            if config and config[0] in table.top_finals:
                return
            row = None
            eventless = table.eventless_cache.get(config)
            if eventless is None:
                eventless = table.eventless_from(config)
            for candidate in eventless:
                if _passes(table.row_guards[candidate], self.model, _NO_ARGS):
                    row = candidate
                    break
            if row is None:
                if not pending:
                    return
                row = self._select(f"done.state.{pending.pop(0)}", _NO_ARGS)
                if row is None:
                    continue
            self._microstep(row, _NO_ARGS, pending)

    def _microstep(self, row: int, kwargs: Mapping[str, Any], pending: list[str]) -> None:
        table = self._table
        if table.transitions[row].internal:
            self._act(row, kwargs)
            return
        plan = table.plan(row, self.configuration_values)
        model = self.model
        for history, recorded, hooks in plan.exits:
            if history is not None:
                self._history[history] = recorded
            for hook in hooks:
                hook(model)
        self._act(row, kwargs)
        config = list(plan.kept)
        entering = plan.entering
        if entering is None:
            task = plan.task
            assert task is not None
            entering = ((task,) if task not in config else ()) + (
                self._history.get(plan.target) or (table.initial_child[task],)
            )
        self._enter_states(entering, config, pending)
        self._store(config)

    def _enter_states(self, states: Sequence[str], config: list[str], pending: list[str]) -> None:
        table = self._table
        for state in states:
            config.append(state)
            for hook in table.enter.get(state, ()):
                hook(self.model)
            if state in table.finals:
                up = table.parent.get(state)
                if up is not None:
                    pending.append(up)

    def _act(self, row: int, kwargs: Mapping[str, Any]) -> None:
        for fn in self._table.actions[row]:
            call_with(fn, self.model, kwargs)

    def _store(self, config: list[str]) -> None:
        self.model.state = config[0] if len(config) == 1 else tuple(config)


_NO_ARGS: Mapping[str, Any] = {}
_UNSEEN = object()


def _passes(
    guards: tuple[tuple[str, Callable[..., Any]], ...], model: FlowModel, kwargs: Mapping[str, Any]
) -> bool:
    return all(call_with(fn, model, kwargs) for _, fn in guards)


class LibraryMachine:
    """python-statemachine running one flow (``engine="statemachine"``), behind :class:`Machine`.

    Once released (the flow is over), its machine goes back to the chart's
    pool and the configuration and history it ended with stay readable.
    """

    __slots__ = ("_final", "_table", "inner", "model")

    def __init__(self, table: Table, inner: StateChart[Any]) -> None:
        self._table = table
        self.inner: StateChart[Any] | None = inner
        self.model: FlowModel = inner.model
        self._final: tuple[tuple[str, ...], History] | None = None

    @property
    def configuration_values(self) -> tuple[str, ...]:
        if self.inner is None:
            assert self._final is not None
            return self._final[0]
        return tuple(self.inner.configuration_values)

    @property
    def history(self) -> History:
        if self.inner is None:
            assert self._final is not None
            return dict(self._final[1])
        return {h: tuple(s.id for s in states) for h, states in self.inner.history_values.items()}

    @history.setter
    def history(self, value: Mapping[str, Sequence[str]]) -> None:
        inner = self.inner
        assert inner is not None, "a released machine cannot change"
        inner.history_values = {h: [getattr(inner, sid) for sid in ids] for h, ids in value.items()}

    def take(self, row: int, kwargs: Mapping[str, Any]) -> None:
        event = self._table.transitions[row].event
        assert event is not None
        self.send(event, **kwargs)

    def send(self, event: str, **kwargs: Any) -> bool:
        inner = self.inner
        assert inner is not None, "a released machine cannot change"
        try:
            inner.send(event, **kwargs)
        except inner.TransitionNotAllowed:
            return False
        return True

    def release(self) -> None:
        if self.inner is None:
            return
        self._final = (self.configuration_values, self.history)
        self.inner = None
