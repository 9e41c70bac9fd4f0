"""Compile task specs into a python-statemachine chart, and keep its table.

Rules of this file: the transition table (:attr:`Chart.transitions`) is the
single source of truth; the python-statemachine class, the tool lists, the
diagrams and the static checks are all derived from it. State ids are
prefixed with the task id (``email__collecting``) because python-statemachine
ids are global to a chart.

Theory of operation: every flow, a single task included, is a sequence of
task compounds plus a transient ``dispatch`` state and two finals,
``flow_done`` and ``flow_failed``. A task compound holds the task's own
states and a deep history state, so a task interrupted by a regression
resumes exactly where it was. ``dispatch`` is initial: on entry it plans the
next task, and eventless transitions enter that task fresh or through its
history.

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

from .engines import LibraryMachine, Machine, Table, TableMachine, call_with
from .model import FlowModel
from .task import (
    COMPLETE,
    CONFIRM,
    CORRECT,
    DECLINE,
    FAIL,
    KEY,
    KEYS_TIMEOUT,
    TIMEOUT,
    UPDATE,
    TaskSpec,
)

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

REGRESS = "regress"
DISPATCH = "dispatch"
FLOW_DONE = "flow_done"
FLOW_FAILED = "flow_failed"

#: Task-level states, in drawing order.
COLLECTING, CONFIRMING, ACTIVE = "collecting", "confirming", "active"
COMPLETE_STATE, DECLINED_STATE, FAILED_STATE = "complete", "declined", "failed"


@attrs.frozen
class StateDef:
    """One state of the table: id, owning task (or None), kind."""

    id: str
    task: str | None
    kind: str  # "compound" | "atomic" | "final" | "transient" | "history"
    initial: bool = False


@attrs.frozen
class TransitionDef:
    """One row of the transition table.

    ``event`` is None for eventless transitions. ``guards`` and ``actions``
    are names of :class:`FlowModel` methods, called with the task id.
    ``internal`` rows stay in ``source`` (``target == source``) and run their
    actions without exiting or entering any state.
    """

    source: str
    target: str
    event: str | None
    guards: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    internal: bool = False
    task: str | None = None

    @property
    def label(self) -> str:
        guard = f" [{' & '.join(self.guards)}]" if self.guards else ""
        return f"{self.event or ''}{guard}"


def _sid(task_id: str, state: str) -> str:
    return f"{task_id}__{state}"


def _task_table(spec: TaskSpec, first: bool) -> tuple[list[StateDef], list[TransitionDef]]:
    t = spec.id
    row: Callable[..., TransitionDef] = lambda s, d, e, g=(), a=(), i=False: TransitionDef(  # noqa: E731
        _sid(t, s) if s != t else t, d if d in (DISPATCH,) else _sid(t, d), e, g, a, i, t
    )
    states = [StateDef(t, t, "compound"), StateDef(_sid(t, "h"), t, "history")]
    rows: list[TransitionDef] = []
    if spec.kind == "implicit":
        states += [
            StateDef(_sid(t, ACTIVE), t, "atomic", True),
            StateDef(_sid(t, COMPLETE_STATE), t, "final"),
            StateDef(_sid(t, FAILED_STATE), t, "final"),
        ]
        rows += [
            row(ACTIVE, COMPLETE_STATE, COMPLETE, (), ("complete_task",)),
            row(ACTIVE, FAILED_STATE, FAIL, (), ("fail_task",)),
        ]
        open_states = [ACTIVE]
    else:
        states += [
            StateDef(_sid(t, COLLECTING), t, "atomic", True),
            StateDef(_sid(t, CONFIRMING), t, "atomic"),
            StateDef(_sid(t, COMPLETE_STATE), t, "final"),
            StateDef(_sid(t, DECLINED_STATE), t, "final"),
            StateDef(_sid(t, FAILED_STATE), t, "final"),
        ]
        collected = "all_fields_collected"
        confirmed: tuple[str, ...] = ("value_unchanged_since_readback",)
        if spec.confirms_by_repetition:
            confirmed += ("repetition_matches",)
        rows += [
            row(COLLECTING, CONFIRMING, UPDATE, (collected, "needs_confirmation"), ("store",)),
            row(COLLECTING, COMPLETE_STATE, UPDATE, (collected,), ("store", "complete_task")),
            row(COLLECTING, COLLECTING, UPDATE, (), ("store",), True),
            row(CONFIRMING, CONFIRMING, UPDATE, (), ("store",)),
            row(CONFIRMING, COMPLETE_STATE, CONFIRM, confirmed, ("complete_task",)),
            row(CONFIRMING, COLLECTING, CORRECT),
        ]
        open_states = [COLLECTING, CONFIRMING]
        if spec.keypad is not None:
            rows += _keypad_rows(row)
        for s in open_states:
            rows.append(row(s, DECLINED_STATE, DECLINE, (), ("decline_task",)))
        for s in open_states:
            rows.append(row(s, FAILED_STATE, FAIL, (), ("fail_task",)))
    if spec.no_input_timeout is not None:
        for s in open_states:
            rows.append(row(s, s, TIMEOUT, ("reprompts_left",), ("count_reprompt",), True))
            rows.append(row(s, FAILED_STATE, TIMEOUT, (), ("no_input",)))
    rows.append(TransitionDef(t, DISPATCH, f"done.state.{t}", task=t))
    if not first:
        rows.append(
            TransitionDef(
                t, DISPATCH, REGRESS, ("regression_targets_visited",), ("begin_regression",), task=t
            )
        )
    return states, rows


def _keypad_rows(row: Callable[..., TransitionDef]) -> list[TransitionDef]:
    """Tones fill a key buffer; the last key, the stop key or a pause ends the entry.

    Too few keys re-prompt while retries are left, then fail the task (LiveKit's rule).
    """
    rows: list[TransitionDef] = []
    ends = ("press_key", "take_keys")
    retry = ("keypad_retries_left",)
    stop_retry = ("is_stop_key", *retry)
    rows += [
        row(COLLECTING, COLLECTING, KEY, stop_retry, ("reject_keys",), True),
        row(COLLECTING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)),
        row(COLLECTING, CONFIRMING, KEY, ("key_completes", "needs_confirmation"), ends),
        row(COLLECTING, COMPLETE_STATE, KEY, ("key_completes",), (*ends, "complete_task")),
        row(COLLECTING, COLLECTING, KEY, (), ("press_key", "arm_keys_timer"), True),
        row(COLLECTING, COLLECTING, KEYS_TIMEOUT, retry, ("reject_keys",), True),
        row(COLLECTING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)),
        # a new entry while a value awaits confirmation replaces it (and is read back)
        row(CONFIRMING, CONFIRMING, KEY, stop_retry, ("reject_keys",), True),
        row(CONFIRMING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)),
        row(CONFIRMING, CONFIRMING, KEY, ("key_completes",), ends),
        row(CONFIRMING, CONFIRMING, KEY, (), ("press_key", "arm_keys_timer"), True),
        row(CONFIRMING, CONFIRMING, KEYS_TIMEOUT, retry, ("reject_keys",), True),
        row(CONFIRMING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)),
    ]
    return rows


def _dispatch_rows(order: Sequence[str]) -> list[TransitionDef]:
    rows = [TransitionDef(DISPATCH, FLOW_FAILED, None, ("flow_failed",))]
    for t in order:
        rows.append(TransitionDef(DISPATCH, t, None, (f"next_is_{t}",), task=t))
        rows.append(TransitionDef(DISPATCH, _sid(t, "h"), None, (f"resume_{t}",), task=t))
    rows.append(TransitionDef(DISPATCH, FLOW_DONE, None))
    return rows


# -- turning table rows into python-statemachine callables -----------------------
# Each callable declares exactly the keyword names python-statemachine should
# inject (``model`` plus event keywords), and carries the table's name.


def _named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = name
    return fn


def _guard(name: str, task: str | None) -> Callable[..., Any]:
    if name.startswith("next_is_"):
        tid = name[len("next_is_") :]
        return _named(lambda model: model.is_next(tid, "fresh"), name)
    if name.startswith("resume_"):
        tid = name[len("resume_") :]
        return _named(lambda model: model.is_next(tid, "resume"), name)
    if name == "flow_failed":
        return _named(lambda model: model.flow_failed(), name)
    if name == "all_fields_collected":
        return _named(lambda model, values=None: model.all_fields_collected(task, values), name)
    if name in ("is_stop_key", "key_completes"):
        method_ = getattr(FlowModel, name)
        return _named(lambda model, digit="": method_(model, task, digit), name)
    if name == "repetition_matches":
        return _named(lambda model, repeated=None: model.repetition_matches(task, repeated), name)
    if name == "regression_targets_visited":
        return _named(
            lambda model, task_ids=(): model.regression_targets_visited(task, task_ids), name
        )
    method = getattr(FlowModel, name)
    return _named(lambda model: method(model, task), name)


def _action(name: str, task: str) -> Callable[..., Any]:
    if name == "store":
        return _named(lambda model, values=None: model.store(task, values), name)
    if name == "complete_task":
        return _named(lambda model, result=None: model.complete_task(task, result), name)
    if name == "decline_task":
        return _named(
            lambda model, reason="": model.fail_task(task, reason=reason, kind="declined"), name
        )
    if name == "fail_task":
        return _named(
            lambda model, error=None: model.fail_task(
                task, error if isinstance(error, Exception) else None, str(error or "")
            ),
            name,
        )
    if name == "no_input":
        return _named(lambda model: model.fail_task(task, kind="no_input"), name)
    if name == "press_key":
        return _named(lambda model, digit="": model.press_key(task, digit), name)
    if name == "begin_regression":
        return _named(lambda model, task_ids=(): model.begin_regression(task, task_ids), name)
    method = getattr(FlowModel, name)
    return _named(lambda model: method(model, task), name)


def _state_hooks(spec: TaskSpec) -> dict[str, dict[str, list[Callable[..., Any]]]]:
    t = spec.id
    hooks: dict[str, dict[str, list[Callable[..., Any]]]] = {
        t: {"enter": [_named(lambda model: model.enter_task(t), "enter_task")]},
    }
    if spec.kind == "declarative":
        hooks[_sid(t, CONFIRMING)] = {
            "enter": [_named(lambda model: model.readback(t), "readback")]
        }
    if spec.keypad is not None:
        keys_timer = f"{t}.keys"
        for s in (COLLECTING, CONFIRMING):
            hooks.setdefault(_sid(t, s), {}).setdefault("exit", []).append(
                _named(
                    lambda model: model.signals.append(("cancel_timer", keys_timer)),
                    "cancel_keys_timer",
                )
            )
    if spec.no_input_timeout is not None:
        timer = f"{t}.no_input"
        seconds = spec.no_input_timeout
        for s in (COLLECTING, CONFIRMING) if spec.kind == "declarative" else (ACTIVE,):
            entry = hooks.setdefault(_sid(t, s), {})
            entry.setdefault("enter", []).append(
                _named(
                    lambda model: model.signals.append(("start_timer", timer, seconds)),
                    "start_timer",
                )
            )
            entry.setdefault("exit", []).append(
                _named(lambda model: model.signals.append(("cancel_timer", timer)), "cancel_timer")
            )
    return hooks


GuardFn = Callable[..., bool]


Hooks = dict[str, dict[str, list[Callable[..., Any]]]]


def chart_hooks(tasks: Sequence[TaskSpec]) -> Hooks:
    """Enter and exit callbacks per state id (each takes the model only)."""
    hooks: Hooks = {
        DISPATCH: {"enter": [_named(lambda model: model.plan_next(), "plan_next")]},
        FLOW_DONE: {"enter": [_named(lambda model: model.finish("done"), "finish")]},
        FLOW_FAILED: {"enter": [_named(lambda model: model.finish("failed"), "finish")]},
    }
    for spec in tasks:
        hooks.update(_state_hooks(spec))
    return hooks


def _definition(
    states: Sequence[StateDef],
    rows: Sequence[TransitionDef],
    tasks: Sequence[TaskSpec],
    row_guards: Sequence[tuple[tuple[str, GuardFn], ...]],
    row_actions: Sequence[tuple[Callable[..., Any], ...]],
    hooks: Hooks,
) -> dict[str, Any]:
    """The python-statemachine dict definition of a table (the library engine's class)."""
    defs: dict[str, dict[str, Any]] = {}
    by_task: dict[str | None, dict[str, Any]] = {}
    for s in states:
        if s.kind == "history":
            continue
        d: dict[str, Any] = {}
        if s.initial:
            d["initial"] = True
        if s.kind == "final":
            d["final"] = True
        for key, fns in hooks.get(s.id, {}).items():
            d[key] = list(fns)
        if s.kind == "compound":
            d["states"] = {}
            first_child = _sid(
                s.id, ACTIVE if tasks_by_id(tasks)[s.id].kind == "implicit" else COLLECTING
            )
            d["history"] = {
                _sid(s.id, "h"): {"type": "deep", "transitions": [{"target": first_child}]}
            }
            by_task[s.id] = d
        if s.task is not None and s.kind != "compound":
            by_task[s.task]["states"][s.id] = d
        else:
            defs[s.id] = d
        d.setdefault("on", {})
    index = {sid: d for sid, d in _walk(defs)}
    for r, guards, acts in zip(rows, row_guards, row_actions, strict=True):
        row: dict[str, Any] = {"target": r.target}
        if guards:
            conds = [fn for _, fn in guards]
            row["cond"] = conds if len(conds) > 1 else conds[0]
        if acts:
            row["on"] = list(acts) if len(acts) > 1 else acts[0]
        if r.internal:  # targetless: run the actions, exit and enter nothing
            row["target"] = None
        src = index[r.source]
        if r.event is None:
            src.setdefault("transitions", []).append(row)
        else:
            src["on"].setdefault(r.event, []).append(row)
    return defs


def tasks_by_id(tasks: Sequence[TaskSpec]) -> dict[str, TaskSpec]:
    return {t.id: t for t in tasks}


def _walk(defs: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for sid, d in defs.items():
        yield sid, d
        yield from _walk(d.get("states", {}))


_CLASS_FLAGS = {
    "allow_event_without_transition": False,
    "catch_errors_as_events": False,
    "enable_self_transition_entries": False,
    "atomic_configuration_update": True,
}


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
    # one dict per cache, so that ``attrs.evolve(chart, views={}, rows_cache={})`` resets both.
    _views: dict[ConfigKey, ConfigView] = attrs.field(factory=dict, repr=False)
    _rows_cache: dict[tuple[ConfigKey, str], tuple[int, ...]] = attrs.field(
        factory=dict, repr=False
    )
    _pool: list[StateChart[Any]] = attrs.field(factory=list, repr=False)
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
            row_guards=tuple(tuple((g, _guard(g, r.task)) for g in r.guards) for r in rows),
            row_actions=tuple(tuple(_action(a, r.task or "") for a in r.actions) for r in rows),
            hooks=chart_hooks(tasks),
            **options,
        )

    @cached_property
    def machine_class(self) -> type[StateChart[Any]]:
        """The python-statemachine class of this table (built on first use: milliseconds)."""
        definition = _definition(
            self.states, self.transitions, self.tasks, self.row_guards, self.row_actions, self.hooks
        )
        checks = {} if self.strict else _LENIENT
        from statemachine.io import create_machine_class_from_definition

        with _BUILD_LOCK:
            return create_machine_class_from_definition(
                self.name, states=definition, **_CLASS_FLAGS, **checks
            )

    @cached_property
    def table(self) -> Table:
        """The table engine's lookup tables."""
        return Table.of(self)

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
                table_machine = TableMachine(self, first)
                table_machine.enter_initial()
                machine: Machine = table_machine
            else:
                machine = LibraryMachine(self, self.machine_class(model=first))
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
            return TableMachine(self, model, history)
        if engine != "statemachine":
            raise ValueError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
        if isinstance(model.state, tuple):  # the library keeps several states in an OrderedSet
            from statemachine.orderedset import OrderedSet

            model.state = OrderedSet(model.state)
        inner = None
        while self._pool and inner is None:
            candidate = self._pool.pop()
            if _rebind(candidate, model):
                inner = candidate
        machine = LibraryMachine(self, inner or self.machine_class(model=model))
        if history:
            machine.history = history
        return machine

    def recycle(self, machine: StateChart[Any]) -> None:
        """Take back a python-statemachine machine whose flow is over, for the next flow.

        Building a machine resolves every callback of the chart (most of the
        cost of a new flow); the chart's callbacks read the flow's data only
        through the ``model`` argument, so a machine can serve another model.
        """
        if len(self._pool) < _POOL_SIZE and type(machine) is self.machine_class:
            self._pool.append(machine)

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
        config_key: ConfigKey
        if isinstance(configuration, tuple | frozenset):
            config_key = configuration
        else:
            config_key = frozenset(configuration)
        key = (config_key, event)
        cached = self._rows_cache.get(key)
        if cached is None:
            config = frozenset(config_key)
            depth = {s.id: (2 if s.task and s.kind != "compound" else 1) for s in self.states}
            rows = [
                i for i, r in enumerate(self.transitions) if r.source in config and r.event == event
            ]
            rows.sort(key=lambda i: -depth.get(self.transitions[i].source, 0))
            cached = self._rows_cache[key] = tuple(rows)
        return cached

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


_POOL_SIZE = 8
_LENIENT = {
    "validate_disconnected_states": False,
    "validate_trap_states": False,
    "validate_final_reachability": False,
}


def _rebind(machine: StateChart[Any], model: FlowModel) -> bool:
    """Point a finished machine at a new flow's model (its state is read from the model).

    python-statemachine 3.x keeps the model in the machine and its configuration,
    and stops its engine at the top-level final state; a machine whose engine
    still has work queued is not reused. False when the machine cannot serve.
    """
    try:
        engine = machine._engine
        if not (engine.external_queue.is_empty() and engine.internal_queue.is_empty()):
            return False
        machine.model = model
        machine._config._model = model
        machine.history_values = {}
        engine.running = True
        engine.clear_cache()
        engine._root_parallel_final_pending = None
    except AttributeError:  # another library layout: build machines afresh
        return False
    return True


#: The public attributes of python-statemachine 3.x's ``StateChart`` ("name" aside), listed
#: so that importing this module does not load the library; a test holds the list to it.
_LIBRARY_NAMES = frozenset(
    {
        "TransitionNotAllowed",
        "activate_initial_state",
        "active_listeners",
        "add_listener",
        "allow_event_without_transition",
        "allowed_events",
        "atomic_configuration_update",
        "bind_events_to",
        "cancel_event",
        "catch_errors_as_events",
        "configuration",
        "configuration_values",
        "current_state",
        "current_state_value",
        "enable_self_transition_entries",
        "enabled_events",
        "events",
        "id",
        "is_terminated",
        "prepare",
        "raise_",
        "send",
        "start_configuration_values",
        "states",
        "states_map",
    }
)

#: Names a task id may not take: the chart's own states and events, and the
#: attributes python-statemachine gives every chart (a task compound of that name
#: would shadow them on the ``statemachine`` engine).
RESERVED_IDS = frozenset(
    {DISPATCH, FLOW_DONE, FLOW_FAILED, REGRESS, "done", "error"}
    | {COMPLETE, CONFIRM, CORRECT, DECLINE, FAIL, KEY, KEYS_TIMEOUT, TIMEOUT, UPDATE}
    | _LIBRARY_NAMES
    | {"model", "state", "history_values"}
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
        states: list[StateDef] = [StateDef(DISPATCH, None, "transient", True)]
        rows: list[TransitionDef] = []
        for i, spec in enumerate(tasks):
            s, r = _task_table(spec, first=i == 0)
            states += s
            rows += r
        rows += _dispatch_rows(ids)
        states += [StateDef(FLOW_DONE, None, "final"), StateDef(FLOW_FAILED, None, "final")]
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
