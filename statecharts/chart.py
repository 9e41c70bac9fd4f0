"""A compiled chart: a flow's table (:mod:`.table`) with its callables bound (:mod:`.bindings`).

Rules of this file: the transition table (:attr:`Chart.transitions`) is the
single source of truth; the table engine's lookups, the python-statemachine
class (the reference semantics, built on first use by :mod:`.definition`),
the tool lists, the diagrams and the static checks are all derived from it.
A :class:`Chart` is data plus caches of what each configuration allows
(:class:`ConfigView`); :func:`compile_chart` builds and caches charts.

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> chart = compile_chart([declarative_task("name", fields=[Field("name")])])
>>> sorted({t.event for t in chart.transitions if t.event})[:3]
['confirm', 'correct', 'decline']
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs

from . import task
from .bindings import GuardFn, Hooks, bind_action, bind_guard, chart_hooks
from .definition import CLASS_FLAGS, LENIENT, definition, tasks_by_id
from .engines import LibraryMachine, Machine, Table, TableMachine, call_with
from .model import FlowModel
from .table import (
    DISPATCH,
    FLOW_DONE,
    FLOW_FAILED,
    REGRESS,
    StateDef,
    TransitionDef,
    flow_table,
)
from .task import TaskSpec

if TYPE_CHECKING:  # python-statemachine loads when a flow first runs on it
    from statemachine import StateChart

__all__ = [
    "DISPATCH",
    "FLOW_DONE",
    "FLOW_FAILED",
    "REGRESS",
    "RESERVED_IDS",
    "Chart",
    "StateDef",
    "TransitionDef",
    "compile_chart",
]


@attrs.frozen
class ConfigView:
    """What one configuration allows, computed once per chart and configuration."""

    task: str | None
    events: tuple[str, ...]
    event_set: frozenset[str]
    tools: tuple[str, ...]  # the active task's tools whose events are enabled
    can_regress: bool


ENGINES = ("table", "statemachine")

#: A configuration as a cache key: a set of state ids, or an engine's tuple of them.
ConfigKey = frozenset[str] | tuple[str, ...]


@attrs.frozen(eq=False)
class Chart:
    """A compiled flow: the transition table, its callables and tool tables.

    Build it once per flow definition and create any number of running flows
    from it. Flows run on the table engine (:class:`TableMachine`, the
    default) or on python-statemachine (``engine="statemachine"``, the class
    :attr:`machine_class` built from the same table); both take the same
    callables, and a differential test holds them to the same behaviour.
    """

    name: str
    tasks: tuple[TaskSpec, ...]
    states: tuple[StateDef, ...]
    transitions: tuple[TransitionDef, ...]
    return_exceptions: bool = False
    group: bool = True
    #: Whether python-statemachine's own definition checks run on :attr:`machine_class`.
    strict: bool = True
    row_guards: tuple[tuple[tuple[str, GuardFn], ...], ...] = attrs.field(default=(), repr=False)
    row_actions: tuple[tuple[Callable[..., Any], ...], ...] = attrs.field(default=(), repr=False)
    hooks: Hooks = attrs.field(factory=dict, repr=False)
    # Keyed by frozenset, and by the tuple an engine reports (no set to build per event);
    # ``attrs.evolve(chart, views={})`` resets it (the table, with its rows cache, is rebuilt).
    _views: dict[ConfigKey, ConfigView] = attrs.field(factory=dict, repr=False)
    _initials: dict[str, tuple[FlowModel, tuple[str, ...], tuple[Any, ...]]] = attrs.field(
        factory=dict, repr=False
    )

    @classmethod
    def from_table(
        cls,
        name: str,
        tasks: Sequence[TaskSpec],
        states: Sequence[StateDef],
        rows: Sequence[TransitionDef],
        **options: Any,
    ) -> Chart:
        """A chart of this table, with its guards, actions and hooks resolved."""
        orphans = [r for r in rows if r.actions and r.task is None]
        if orphans:
            raise ValueError(f"rows with actions must belong to a task: {orphans}")
        return cls(
            name,
            tuple(tasks),
            tuple(states),
            tuple(rows),
            row_guards=tuple(tuple((g, bind_guard(g, r.task)) for g in r.guards) for r in rows),
            row_actions=tuple(tuple(bind_action(a, r.task) for a in r.actions) for r in rows),
            hooks=chart_hooks(tasks),
            **options,
        )

    @cached_property
    def machine_class(self) -> type[StateChart[Any]]:
        """The python-statemachine class of this table (built on first use: milliseconds)."""
        states = definition(
            self.states, self.transitions, self.tasks, self.row_guards, self.row_actions, self.hooks
        )
        checks = {} if self.strict else LENIENT
        from statemachine.io import create_machine_class_from_definition

        with _BUILD_LOCK:
            return create_machine_class_from_definition(
                self.name, states=states, **CLASS_FLAGS, **checks
            )

    @cached_property
    def table(self) -> Table:
        """The table engine's lookup tables."""
        return Table.of(
            self.states, self.transitions, self.row_guards, self.row_actions, self.hooks
        )

    @cached_property
    def task_map(self) -> dict[str, TaskSpec]:
        return tasks_by_id(self.tasks)

    @cached_property
    def digest(self) -> str:
        """A short hash of the states and the transition table: equal charts, equal digests."""
        text = repr(
            (
                [(st.id, st.task, st.kind, st.initial) for st in self.states],
                [attrs.astuple(r) for r in self.transitions],
            )
        )
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    @cached_property
    def state_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states if s.kind != "history")

    @cached_property
    def state_map(self) -> dict[str, StateDef]:
        """Every state (history states too) by id."""
        return {s.id: s for s in self.states}

    @cached_property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @cached_property
    def pii_fields(self) -> dict[str, frozenset[str]]:
        """Names of the fields holding personal data, per task (redacted in logs)."""
        return {t.id: frozenset(f.name for f in t.fields if f.pii) for t in self.tasks}

    @cached_property
    def card_fields(self) -> dict[str, frozenset[str]]:
        """Names of the fields holding card data (:attr:`Field.card`), per task: stored only
        sealed under a key, never put into words for the model."""
        return {t.id: frozenset(f.name for f in t.fields if f.card) for t in self.tasks}

    @cached_property
    def holds_card_data(self) -> bool:
        """Whether a task collects card data (:attr:`card_fields`)."""
        return any(self.card_fields.values())

    def new_model(self) -> FlowModel:
        return FlowModel(self.tasks, return_exceptions=self.return_exceptions)

    def new_machine(self, model: FlowModel | None = None, *, engine: str = "table") -> Machine:
        """A running machine in its initial configuration (the first task entered).

        The initial entry is the same for every flow of a chart, so it runs
        once per engine: later machines start in the configuration it
        reached, with the model data and signals it produced.
        """
        model = model or self.new_model()
        template, config, signals = self._initial_entry(engine)
        model.rollback(template.checkpoint())
        model.signals.extend(signals)
        model.state = config if len(config) > 1 else config[0]
        return self.machine_for(model, engine=engine)

    def _initial_entry(self, engine: str) -> tuple[FlowModel, tuple[str, ...], tuple[Any, ...]]:
        """The model data, configuration and signals the initial macrostep produces."""
        cached = self._initials.get(engine)
        if cached is None:
            first = self.new_model()
            if engine == "table":
                table_machine = TableMachine(self.table, first)
                table_machine.enter_initial()
                machine: Machine = table_machine
            else:
                machine = LibraryMachine(self.table, self.machine_class(model=first))
            signals = tuple(first.signals)
            first.signals.clear()
            cached = self._initials[engine] = (first, machine.configuration_values, signals)
        return cached

    def machine_for(
        self,
        model: FlowModel,
        history: Mapping[str, Sequence[str]] | None = None,
        *,
        engine: str = "table",
    ) -> Machine:
        """A machine in the configuration ``model.state`` holds (no entry callbacks run)."""
        if engine == "table":
            return TableMachine(self.table, model, history)
        if engine != "statemachine":
            raise ValueError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
        if isinstance(model.state, tuple):  # the library keeps several states in an OrderedSet
            from statemachine.orderedset import OrderedSet

            model.state = OrderedSet(model.state)
        machine = LibraryMachine(self.table, self.machine_class(model=model))  # fresh: no reuse
        if history:
            machine.history = history
        return machine

    def view(self, configuration: Iterable[str]) -> ConfigView:
        """What a configuration allows: active task, events, tools (cached)."""
        if isinstance(configuration, tuple):
            cached = self._views.get(configuration)
            if cached is None:
                cached = self._views[configuration] = self.view(frozenset(configuration))
            return cached
        key = frozenset(configuration)
        cached = self._views.get(key)
        if cached is None:
            cached = self._views[key] = self._make_view(key)
        return cached

    def _make_view(self, key: frozenset[str]) -> ConfigView:
        task = next((sid for sid in key if sid in self.task_map), None)
        seen: dict[str, None] = {}
        for r in self.transitions:
            if r.source in key and r.event and not r.event.startswith("done."):
                seen[r.event] = None
        events = tuple(seen)
        tools: tuple[str, ...] = ()
        if task is not None:
            spec = self.task_map[task]
            tools = tuple(t.name for t in spec.tools if t.event is None or t.event in seen)
        return ConfigView(task, events, frozenset(events), tools, REGRESS in seen)

    def active_task(self, configuration: Iterable[str]) -> str | None:
        return self.view(configuration).task

    def events_from(self, configuration: Iterable[str]) -> tuple[str, ...]:
        """The events some transition accepts in ``configuration`` (guards ignored)."""
        return self.view(configuration).events

    def candidate_rows(self, configuration: Iterable[str], event: str) -> tuple[int, ...]:
        """Indexes of the rows for ``event`` from ``configuration``, innermost source first."""
        return self.table.candidate_rows(configuration, event)

    def check_guards(
        self, row: int, model: FlowModel, kwargs: Mapping[str, Any]
    ) -> tuple[bool, tuple[tuple[str, bool], ...]]:
        """Evaluate a row's guards in order, stopping at the first false one."""
        results: list[tuple[str, bool]] = []
        for name, fn in self.row_guards[row]:
            ok = bool(call_with(fn, model, kwargs))
            results.append((name, ok))
            if not ok:
                return False, tuple(results)
        return True, tuple(results)


#: Names a task id may not take: the chart's own states and events, and the
#: python-statemachine attributes a task compound of that name breaks on the
#: ``statemachine`` engine (``tests/test_engines.py`` tries every public
#: attribute of the installed library and holds this list to what collides).
RESERVED_IDS = frozenset(
    {DISPATCH, FLOW_DONE, FLOW_FAILED, REGRESS, "done", "error"}
    | {
        task.COMPLETE,
        task.CONFIRM,
        task.CORRECT,
        task.DECLINE,
        task.FAIL,
        task.KEY,
        task.KEYS_TIMEOUT,
        task.TIMEOUT,
        task.UPDATE,
    }
    | {
        "configuration",
        "configuration_values",
        "current_state_value",
        "history_values",
        "model",
        "prepare",
        "send",
        "start_configuration_values",
        "states",
        "states_map",
    }
)

_BUILD_LOCK = threading.RLock()
#: Compiled charts by spec objects, least recently used first; a worker that builds
#: specs per call (a ``ChartTask`` of a new spec) keeps only the last ``_CACHE_SIZE``.
_CACHE: OrderedDict[tuple[int | str, ...], tuple[tuple[TaskSpec, ...], Chart]] = OrderedDict()
_CACHE_SIZE = 256


def compile_chart(
    tasks: Sequence[TaskSpec] | TaskSpec,
    *,
    name: str = "",
    return_exceptions: bool = False,
    group: bool | None = None,
) -> Chart:
    """Compile a task, or tasks in order, into a :class:`Chart` (cached per spec objects).

    A single :class:`TaskSpec` makes a task chart whose result is the task's
    result; a sequence makes a group whose result is a ``TaskGroupResult``
    (override with ``group``).
    """
    if group is None:
        group = not isinstance(tasks, TaskSpec)
    tasks = (tasks,) if isinstance(tasks, TaskSpec) else tuple(tasks)
    if not tasks:
        raise ValueError("a chart needs at least one task")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate task ids: {ids}")
    reserved = sorted(set(ids) & RESERVED_IDS)
    if reserved:
        raise ValueError(
            f"task id(s) {reserved} are reserved: every chart has states, events or "
            f"python-statemachine attributes of that name; rename, e.g. {reserved[0]}_task"
        )
    for spec in tasks:
        unknown = set(spec.depends_on) - set(ids[: ids.index(spec.id)])
        if unknown:
            raise ValueError(
                f"task {spec.id!r} depends on {sorted(unknown)}, which are not earlier tasks"
            )
    key: tuple[int | str, ...] = (*map(id, tasks), int(return_exceptions), int(group), name)
    with _BUILD_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit[1]
        states, rows = flow_table(tasks)
        digest = hashlib.sha1("|".join(ids).encode()).hexdigest()[:10]
        chart = Chart.from_table(
            name or f"Flow_{digest}",
            tasks,
            states,
            rows,
            return_exceptions=return_exceptions,
            group=group,
        )
        _CACHE[key] = (tasks, chart)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return chart
