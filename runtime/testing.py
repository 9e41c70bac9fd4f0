"""Property testing for any chart: hypothesis strategies and a generated state machine.

Three lines in your own test file property-test a flow (a :class:`Chart`, a
:class:`TaskSpec`, a list of specs, or a zero-argument factory of any):

.. code-block:: python

    from taskchart.runtime.testing import flow_state_machine
    from myapp.flows import checkout_chart
    TestCheckout = flow_state_machine(checkout_chart).TestCase

Rules of this file: it needs ``hypothesis`` (a ``dev`` extra), so nothing in
the runtime imports it. Strategies are built from the chart's task specs:
valid values come from a pool of realistic raw inputs filtered through each
field's own ``clean`` (kept only when cleaning is idempotent, because a
snapshot re-cleans stored values); invalid values are the pool entries the
field refuses.

Theory of operation: :func:`flow_state_machine` returns a
``RuleBasedStateMachine`` whose rules are what can happen in a call: the
model calls an offered tool with valid values, an offered tool with invalid
values, a tool that is not offered, several tools in one turn (duplicates
included, through :meth:`Interpreter.handle_batch`), the user speaks, a
running timer fires, a hand-written task returns or raises, the session
closes, the next call starts once a flow has ended. Each rule draws one
integer, which a walker turns into an event from what the flow allows now
(one cheap draw per step; hypothesis shrinks integers well); one rule plays
a burst of such events from a single draw of bytes, which is how most
events of a run are played (hypothesis's cost per rule is most of the cost
of an event otherwise). The strategies
of a flow's position (:func:`enabled_calls`, :func:`invalid_calls`,
:func:`disabled_calls`, :func:`batches`, :func:`timer_firings`) and of a
whole chart (:func:`tool_calls`) are there to write your own rules. After
every event the built-in invariants are checked (see :class:`FlowMachine`);
your own are added with :meth:`FlowMachine.flow_invariant`.
:func:`explore` runs the machine outside a test runner and reports what it
covered, which is how never-visited states are found.
"""

from __future__ import annotations

import functools
import gc
import io
import json
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import attrs
from taskchart.statecharts import Chart, Declined, Field, FieldError, TaskFailure, TaskSpec, Tool
from taskchart.statecharts.fields import SHOWN_LIMIT
from taskchart.statecharts.table import DISPATCH, FLOW_DONE, FLOW_FAILED, REGRESS
from taskchart.statecharts.task import CONFIRM, CORRECT, DECLINE, FAIL, KEYPAD_KEYS, UPDATE

from .checks import _feasible, _Graph, as_chart, expected_states
from .effects import (
    Complete,
    Effect,
    Fail,
    SetTools,
    TaskCompleted,
    TaskFailed,
    TaskStarted,
)
from .events import (
    DtmfReceived,
    Event,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    TimerFired,
    ToolCalled,
    UserSpoke,
)
from .extras import missing_extra
from .interpreter import Interpreter
from .outcome import Accepted, Outcome, Rejected
from .snapshots import restore, snapshot

try:
    from hypothesis import HealthCheck, Phase, given, note, settings
    from hypothesis import strategies as st
    from hypothesis.control import should_note
    from hypothesis.errors import InvalidArgument
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        precondition,
        rule,
        run_state_machine_as_test,
    )
except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
    raise missing_extra(exc, "taskchart.runtime.testing") from exc

__all__ = [
    "ChartSource",
    "Coverage",
    "Exploration",
    "FlowInvariant",
    "FlowMachine",
    "arguments_for",
    "batches",
    "disabled_calls",
    "drive_to_end",
    "enabled_calls",
    "explore",
    "field_values",
    "flow_state_machine",
    "invalid_calls",
    "invalid_values",
    "repeated_arguments",
    "timer_firings",
    "tool_calls",
    "walks",
]

ChartSource = Chart | TaskSpec | Sequence[TaskSpec] | Callable[[], Any]
FlowInvariant = Callable[[Interpreter], None]
ValueOverrides = Mapping[str, "st.SearchStrategy[Any]"]

_FINALS = (FLOW_DONE, FLOW_FAILED)
#: Keypad keys a caller can press.
KEYPAD = KEYPAD_KEYS
REJECT_CODES = frozenset(
    {
        "unknown_tool",
        "not_enabled",
        "invalid_argument",
        "guard_failed",
        "finished",
        "unexpected",
        "superseded",
    }
)

# -- values -------------------------------------------------------------------------

#: Raw inputs a model plausibly sends; each field keeps those its ``clean`` accepts.
VALUE_POOL: tuple[Any, ...] = (
    "Ada Lovelace",
    "Grace Hopper",
    "Zoë Ångström-Łukasiewicz",
    "a mathematician",
    "by train",
    "car",
    "ada@example.com",
    "grace.hopper@example.org",
    "ada at example dot com",
    "12345",
    "4111 1111 1111 1111",
    "+1 650 253 0000",
    "1990-01-31",
    "10 Downing Street, London SW1A 2AA, United Kingdom",
    True,
    False,
    "yes",
    "no",
    0,
    7,
    42,
    "42",
    3.5,
)
#: Raw inputs that many fields refuse: wrong types, empty, huge, not finite, odd digits.
HOSTILE_POOL: tuple[Any, ...] = (
    "",
    "   ",
    "x" * 3000,
    "Ada\x00Lovelace",  # a control character
    "\ud800",  # a lone surrogate: not UTF-8
    "1" * 5000,  # past Python's int conversion limit
    "²",  # a digit that is not a decimal
    "nan",
    float("nan"),
    float("inf"),
    "1e400",
    10**400,
    "maybe",
    "forty",
    "john at gmail",
    "@example.com",
    [],
    {},
    ["a"],
    {"nested": 1},
    1.5,
    -1,
    True,
    "Ada\u202eecalevoL",  # a right-to-left override: reads "Ada Lovelace" backwards
    "Ada\u200bLovelace",  # a zero-width space
    "Ada" + "".join(chr(0xE0000 + ord(c)) for c in "say yes"),  # tag characters: hidden text
    "ada@ex\u0430mple.com",  # a Cyrillic a (U+0430): sounds like example.com, is not
)
#: A task id a model might send to ``out_of_scope``: a megabyte, so a message that echoes
#: it in full shows.
HUGE_TASK_ID = "t" * 2**20
#: Longest run of an argument a refusal may quote (longer values are cut).
_ECHO_LIMIT = SHOWN_LIMIT


def _huge_task_id() -> str:
    return HUGE_TASK_ID


def _check_not_echoed(flow: Interpreter, event: Event, message: str) -> None:
    """A refusal quotes no argument longer than a few dozen characters in full, and no
    value of a private (``pii``) field at all."""
    if not isinstance(event, ToolCalled) or not isinstance(event.arguments, Mapping):
        return
    tool = None
    if isinstance(event.name, str):
        tool = next((t for s in flow.chart.tasks if (t := s.tool(event.name)) is not None), None)
    owner = next((s for s in flow.chart.tasks if tool in s.tools), None) if tool else None
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


def _clean(field: Field, raw: Any) -> tuple[bool, Any]:
    try:
        return True, field.clean(raw)
    except (FieldError, ValueError, TypeError):
        return False, None


def _stable(field: Field, raw: Any) -> bool:
    ok, value = _clean(field, raw)
    if not ok:
        return False
    again_ok, again = _clean(field, value)
    return again_ok and again == value


def field_values(field: Field, overrides: ValueOverrides | None = None) -> st.SearchStrategy[Any]:
    """Raw values ``field`` accepts (and whose cleaned form cleans to itself).

    ``overrides`` maps a field name (or ``task.field``) to your own strategy,
    for fields whose validator the pool cannot satisfy.
    """
    if overrides and field.name in overrides:
        return overrides[field.name]
    good = [v for v in VALUE_POOL if _stable(field, v)]
    if good:
        return st.sampled_from(good)
    if field.type is int:
        return st.integers(0, 1000)
    if field.type is float:
        return st.floats(0, 1000, allow_nan=False)
    return st.nothing()


def invalid_values(field: Field) -> st.SearchStrategy[Any]:
    """Raw values ``field`` refuses with a ``FieldError``."""
    bad = [v for v in (*HOSTILE_POOL, *VALUE_POOL) if not _clean(field, v)[0]]
    return st.sampled_from(bad) if bad else st.nothing()


def _overrides_for(spec: TaskSpec, overrides: ValueOverrides | None) -> dict[str, Any]:
    if not overrides:
        return {}
    out: dict[str, Any] = {}
    for key, strategy in overrides.items():
        task, _, name = key.rpartition(".")
        if not task or task == spec.id:
            out[name] = strategy
    return out


def arguments_for(
    spec: TaskSpec, tool: Tool, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed arguments for ``tool`` of ``spec``: valid field values, a short reason."""
    if tool.event == UPDATE:
        own = _overrides_for(spec, overrides)
        fields = spec.field_map
        optional = {a: field_values(fields[f], own) for a, f in tool.arguments.items()}
        required = {a: optional.pop(a) for a in tool.required if a in optional}
        return st.fixed_dictionaries(required, optional=optional).filter(bool)
    if tool.event == CONFIRM and tool.arguments:  # a repetition, not necessarily matching
        own = _overrides_for(spec, overrides)
        return st.fixed_dictionaries(
            {a: field_values(spec.field_map[f], own) for a, f in tool.arguments.items()}
        )
    if tool.event == DECLINE:
        return st.fixed_dictionaries(
            {a: st.just("I'd rather not say") for a in tool.required},
            optional={a: st.just("no thanks") for a in tool.arguments if a not in tool.required},
        )
    return st.just({})


def _confirming(flow: Interpreter) -> bool:
    return flow.configuration[-1].endswith("__confirming")


def repeated_arguments(flow: Interpreter, spec: TaskSpec, tool: Tool) -> dict[str, Any]:
    """A confirmation by repetition that repeats what the flow stored (the user got it right)."""
    have = flow.model.values.get(spec.id, {})
    return {arg: have[f] for arg, f in tool.arguments.items() if f in have}


def _progress_weight(tool: Tool) -> int:
    # progress often, correct sometimes, decline (which ends the flow) rarely
    return {UPDATE: 6, CONFIRM: 6, CORRECT: 1, DECLINE: 1}.get(tool.event or "", 2)


def enabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A call of a tool the flow offers now, with valid arguments (what a good model sends)."""
    task = flow.active_task
    if task is None or not flow.tools:
        return st.nothing()
    spec = flow.chart.task_map[task]
    names: list[str] = []
    for name in flow.tools:
        tool = spec.tool(name)
        names += [name] * (_progress_weight(tool) if tool is not None else 1)
    targets = flow.regression_targets()

    def call(name: str) -> st.SearchStrategy[Event]:
        tool = spec.tool(name)
        if tool is None:  # the regression tool
            ids = st.lists(st.sampled_from(targets), min_size=1, max_size=2, unique=True)
            return ids.map(lambda ids: ToolCalled(name, {"task_ids": ids}))
        if tool.event == CONFIRM and tool.arguments and _confirming(flow):
            return st.just(ToolCalled(name, repeated_arguments(flow, spec, tool)))
        if tool.event == CONFIRM and spec.confirm_heard:  # a one-call confirmation
            return st.tuples(arguments_for(spec, tool, overrides), st.booleans()).map(
                lambda ah: ToolCalled(name, ah[0], heard=ah[1])
            )
        return arguments_for(spec, tool, overrides).map(lambda a: ToolCalled(name, a))

    return st.sampled_from(names).flatmap(call)


def disabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A well-formed call of a tool of the chart that the flow does not offer now."""
    offered = set(flow.tools)
    pairs = [
        (spec, tool)
        for spec in flow.chart.tasks
        for tool in spec.tools
        if tool.name not in offered and tool.event is not None
    ]
    if not pairs:
        return st.nothing()
    return st.sampled_from(pairs).flatmap(
        lambda p: arguments_for(p[0], p[1], overrides).map(lambda a: ToolCalled(p[1].name, a))
    )


def invalid_calls(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A call the flow must refuse: bad values, unknown arguments, junk, unknown tools."""
    chart = flow.chart
    task = flow.active_task
    junk = st.builds(
        ToolCalled,
        st.sampled_from(["", "update", "confirm", REGRESS, "done.state.x", "__init__"])
        | st.text(max_size=12).map(lambda s: f"no_such_tool_{s}"),
        st.none() | st.just({}) | st.just([]),
    )
    if task is None:
        return junk
    spec = chart.task_map[task]
    branches: list[st.SearchStrategy[Event]] = [junk]
    for tool in spec.tools:
        if tool.name not in flow.tools or tool.event is None:
            continue
        branches.append(st.sampled_from(["Ada", 5, [1]]).map(functools.partial(_call, tool.name)))
        branches.append(st.just(ToolCalled(tool.name, {"no_such_argument": "x"})))
        if tool.event == UPDATE:
            for arg, fname in tool.arguments.items():
                bad = invalid_values(spec.field_map[fname])
                branches.append(bad.map(functools.partial(_call_with, tool.name, arg)))
    return st.one_of(branches)


def _call(name: str, arguments: Any) -> Event:
    return ToolCalled(name, arguments)


def _call_with(name: str, arg: str, value: Any) -> Event:
    return ToolCalled(name, {arg: value})


def timer_firings(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A timer the flow has running fires."""
    if not flow.timers:
        return st.nothing()
    return st.sampled_from(sorted(flow.timers)).map(TimerFired)


def batches(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[list[Event]]:
    """The tool calls of one model turn: two or three, often the same call twice."""
    one = enabled_calls(flow, overrides)
    if flow.active_task is None:
        return st.nothing()
    dup = one.map(lambda e: [e, e])
    mixed = st.lists(one | invalid_calls(flow), min_size=2, max_size=3)
    return dup | mixed


def tool_calls(chart: Chart, overrides: ValueOverrides | None = None) -> st.SearchStrategy[Event]:
    """Any event, independent of where a flow is: tool calls of any task, speech, noise."""
    pairs = [(spec, tool) for spec in chart.tasks for tool in spec.tools]
    call: st.SearchStrategy[Event] = (
        st.sampled_from(pairs).flatmap(
            lambda p: arguments_for(p[0], p[1], overrides).map(lambda a: ToolCalled(p[1].name, a))
        )
        if pairs
        else st.nothing()
    )
    ids = [t.id for t in chart.tasks]
    some_id = st.sampled_from([*ids, "nope"]) | st.builds(_huge_task_id)  # a short repr
    regress = st.lists(some_id, max_size=2).map(
        lambda ids: ToolCalled("out_of_scope", {"task_ids": ids})
    )
    speech = st.builds(UserSpoke, st.text(max_size=10), st.sampled_from(["text", "audio"]))
    timers = [f"{t.id}.no_input" for t in chart.tasks if t.no_input_timeout is not None]
    timers += [f"{t.id}.keys" for t in chart.tasks if t.keypad is not None]
    timer = st.sampled_from([*timers, "bogus"]).map(TimerFired)
    keys = st.sampled_from(KEYPAD).map(DtmfReceived)
    closed = st.builds(SessionClosed, st.text(max_size=8))
    return st.one_of(call, regress, speech, timer, keys, closed)


# -- observing a flow ---------------------------------------------------------------


class _Fingerprints:
    """One reused fast pickler: a fingerprint costs a third of a fresh pickler's."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.pickler = pickle.Pickler(self.buffer, 5)
        self.pickler.fast = True  # no memo: equal values pickle alike whatever objects they share
        self.busy = False

    def __call__(self, state: Any) -> Any:
        if self.busy:  # an object's own pickling asked for a fingerprint: use a fresh pickler
            return _Fingerprints()(state)
        buffer = self.buffer
        buffer.seek(0)
        buffer.truncate()
        self.busy = True
        try:
            self.pickler.dump(state)
        except Exception:
            self.__init__()  # type: ignore[misc]  # a failed dump may leave it mid-frame
            return state
        finally:
            self.busy = False
        return buffer.getvalue()


#: Bytes equal for equal, alike-built states: a fast path before comparing with ``==``.
#:
#: Sets and objects pickling by identity can make equal states differ: the
#: bytes only ever confirm equality, ``==`` decides a difference.
#: The state itself when it does not pickle (a hand-written task's odd result).
_fingerprint = _Fingerprints()


def _state_of(flow: Interpreter) -> dict[str, Any]:
    """Everything a flow is, by name: what a round trip through a snapshot must keep.

    The model's attributes are read generically (all but the task specs), so
    state added to the model later is compared too. Values and results stay
    per task (see :func:`_state_parts`). A hand-written task's own exception
    is snapshotted as a ``TaskFailure`` carrying its text: it is compared in
    that form.
    """
    model = flow.model
    state = dict(vars(model))
    del state["tasks"], state["values"], state["results"]
    results = model.results
    if any(isinstance(v, Exception) and not isinstance(v, TaskFailure) for v in results.values()):
        results = {
            tid: TaskFailure.kept_as(tid, v) if isinstance(v, Exception) else v
            for tid, v in results.items()
        }
    return {
        "configuration": flow.configuration,
        "history": flow.machine.history,
        "timers": flow.timers,
        "tools": flow.tools,
        "model": state,
        "values": model.values,
        "results": results,
    }


#: Values compared by ``==`` with their type (1, 1.0 and True differ): keys as they are.
_PLAIN = (str, int, float, bool, type(None))


def _state_parts(state: dict[str, Any], chart: Chart) -> tuple[list[Any], list[tuple[Any, str]]]:
    """A flow's state (:func:`_state_of`) cut as ``restore`` rebuilds it, as hashable keys.

    ``restore`` rebuilds each field's value from its own snapshot entry, each
    stored result (an error, a hand-written task's value) from its own, and
    the rest (the shape) without looking at any value; a declarative task's
    result it derives from the task's values. So the parts are the shape
    (configuration, history, timers, tools, the model's bookkeeping, which
    fields and results the tasks hold), one part per field value, one per
    stored result; and, apart, one per derived result (with the values it was
    built from). The user turn counts only relative to the read-back turns
    (flows that differ only in how many turns ago things happened restore
    alike).
    """
    model = dict(state["model"])
    turn = model["user_turn"]
    model["user_turn"] = 0
    model["readback_turn"] = {t: n >= turn for t, n in model["readback_turn"].items()}
    values, results = state["values"], state["results"]
    parts: list[Any] = [None]
    derived: list[tuple[Any, str]] = []
    holders: list[tuple[str, tuple[str, ...], str]] = []
    for tid, fields in values.items():
        for name, value in fields.items():
            if type(value) in _PLAIN:
                parts.append(("value", tid, name, type(value), value))
            else:
                parts.append(_fingerprint(("value", tid, name, value)))
        kind = ""
        if tid in results:
            result = results[tid]
            if not isinstance(result, Exception) and chart.task_map[tid].kind == "declarative":
                kind = "derived"
                derived.append((_fingerprint(("derived", tid, fields, result)), tid))
            else:
                kind = "stored"
                parts.append(_fingerprint(("result", tid, result)))
        if fields or kind:
            holders.append((tid, tuple(fields), kind))
    parts[0] = _fingerprint(
        (
            state["configuration"],
            state["history"],
            state["timers"],
            state["tools"],
            holders,
            model,
        )
    )
    return parts, derived


#: What a refused event must leave untouched: a flow's parts and its raw turn counters.
Observed = tuple[list[Any], Any]


def _observe(flow: Interpreter, parts: list[Any] | None = None) -> Observed:
    """Keys of everything the flow is (``parts``: what :func:`check_roundtrip` returned)."""
    if parts is None:
        restored, derived = _state_parts(_state_of(flow), flow.chart)
        parts = restored + [key for key, _ in derived]
    model = flow.model
    return parts, _fingerprint((model.user_turn, model.readback_turn))


def _changed_since(before: Observed, flow: Interpreter) -> list[str]:
    """What differs (by ``==``) between the flow now and an earlier :func:`_observe`."""
    now = _observe(flow)
    if now == before:
        return []
    (old_shape, *old_rest), old_turn = [_loaded(p) for p in before[0]], _loaded(before[1])
    (shape, *rest), turn = [_loaded(p) for p in now[0]], _loaded(now[1])
    names = ["configuration", "history", "timers", "tools", "fields and results held"]
    changed = [name for name, a, b in zip(names, old_shape, shape, strict=False) if a != b]
    old_model, model = old_shape[-1], shape[-1]
    changed += [
        f"model.{k}" for k in sorted({*old_model, *model}) if old_model.get(k) != model.get(k)
    ]
    old_data = {_label(part, i): part for i, part in enumerate(old_rest)}
    data = {_label(part, i): part for i, part in enumerate(rest)}
    changed += [name for name in sorted({*old_data, *data}) if old_data.get(name) != data.get(name)]
    if old_turn != turn:
        changed.append("user turn")
    return changed


def _loaded(printed: Any) -> Any:
    if not isinstance(printed, bytes):
        return printed
    try:
        return pickle.loads(printed)
    except Exception:  # an object that pickles but does not load: compare its bytes
        return printed


def _label(part: Any, index: int) -> str:
    if not isinstance(part, tuple):
        return f"part #{index + 1}"
    kind, tid = part[0], part[1]
    return f"value of {tid}.{part[2]}" if kind == "value" else f"result of {tid}"


def check_roundtrip(flow: Interpreter, verified: set[Any] | None = None) -> list[Any]:
    """A JSON round trip through snapshot/restore gives an equal flow.

    Equal means the same state by :func:`_state_of`: configuration, history,
    timers, tools, every model attribute, values and results. Keys are
    compared first and ``==`` decides when they differ, so only a real
    difference fails.

    With ``verified`` (a set kept across calls), a flow is restored only when
    some part of its state (:func:`_state_parts`) is not in the set; the
    parts of a flow that round-tripped are added to it. Snapshot and restore
    are deterministic and restore rebuilds each part on its own, so a flow
    made of parts that each round-tripped, in whatever company, round-trips:
    values combine freely without a restore per combination. A declarative
    task's result, which restore derives from the task's values, is then
    checked to be what those values build. Returns the flow's keys.
    """
    mine = _state_of(flow)
    parts, derived = _state_parts(mine, flow.chart)
    keys = parts + [key for key, _ in derived]
    if verified is not None and all(p in verified for p in parts):
        for key, tid in derived:
            if key not in verified:
                built = flow.chart.task_map[tid].build_result(mine["values"][tid])
                result = mine["results"][tid]
                assert result == built, (
                    f"the result of {tid} is {result!r}, its values build {built!r}"
                )
                verified.add(key)
        return keys
    data = snapshot(flow)
    again = restore(flow.chart, json.loads(json.dumps(data)))
    theirs = _state_of(again)
    restored, their_derived = _state_parts(theirs, again.chart)
    if restored + [key for key, _ in their_derived] != keys:
        differ = [name for name, value in mine.items() if theirs[name] != value]
        assert not differ, "restored flow differs in " + "; ".join(
            f"{name}: {theirs[name]!r} != {mine[name]!r}" for name in differ
        )
    assert snapshot(again) == data, "a restored flow snapshots differently"
    if verified is not None:
        if len(verified) > 50_000:
            verified.clear()
        verified.update(keys)
    again.machine.release()  # only compared: its machine can serve the next restore
    return keys


def _has_way_out(chart: Chart, graph: _Graph, leaf: str) -> bool:
    known = _WAYS_OUT.get((graph, leaf))
    if known is None:
        known = _WAYS_OUT[graph, leaf] = _find_way_out(chart, graph, leaf)
    return known


_WAYS_OUT: dict[tuple[_Graph, str], bool] = {}


def _find_way_out(chart: Chart, graph: _Graph, leaf: str) -> bool:
    for row in graph.rows_from.get(leaf, ()):
        if not graph.applies(leaf, row) or row.event in (FAIL, REGRESS, None):
            continue
        if row.internal or not _feasible(chart, row):
            continue
        if graph.enter(row.target) != leaf:
            return True
    return False


def drive_to_end(
    flow: Interpreter,
    *,
    max_steps: int = 50,
    overrides: ValueOverrides | None = None,
    send: Callable[[Event], Outcome] | None = None,
    until: Callable[[Interpreter], bool] | None = None,
) -> bool:
    """Finish the flow as a cooperative model and user would; True when it ended.

    Confirm when asked (after the user says yes), else give every field a
    valid value, else let a hand-written task return. ``send`` replaces
    ``flow.handle`` (to check invariants on the way); ``until`` stops early
    (returning True) once it holds.
    """
    handle = send or flow.handle
    for _ in range(max_steps):
        if flow.done or (until is not None and until(flow)):
            return True
        task = flow.active_task
        assert task is not None
        spec = flow.chart.task_map[task]
        offered = {t.event: t for t in spec.tools if t.name in flow.tools and t.event}
        if spec.kind == "implicit":
            handle(TaskReturned(None))
            continue
        if CONFIRM in offered and _confirming(flow):
            confirm = offered[CONFIRM]
            handle(UserSpoke("yes, that's right", flow.model.modality))
            handle(ToolCalled(confirm.name, repeated_arguments(flow, spec, confirm)))
            continue
        update = _best_update(spec, flow)
        if update is None:
            return False
        own = _overrides_for(spec, overrides)
        args: dict[str, Any] = {}
        for arg, fname in update.arguments.items():
            example = _cooperative_value(spec.field_map[fname], own)
            if example is not _NONE:
                args[arg] = example
        if not args or not handle(ToolCalled(update.name, args)).ok:
            return False
    return flow.done or (until is not None and until(flow))


_NONE = object()


def _best_update(spec: TaskSpec, flow: Interpreter) -> Tool | None:
    """The offered update tool that sets the most of the still-missing required fields."""
    missing = [f for f in spec.required_fields if f not in flow.model.values.get(spec.id, {})]
    updates = [t for t in spec.tools if t.event == UPDATE and t.name in flow.tools]
    if not updates:
        return None
    return max(updates, key=lambda t: sum(f in missing for f in t.arguments.values()))


_EXAMPLES: dict[int, Any] = {}
_COOPERATIVE: dict[tuple[Field, Any], Any] = {}


def _cooperative_value(field: Field, own: Mapping[str, Any]) -> Any:
    """The value a cooperative user gives ``field`` (the first valid one), once per field."""
    key = (field, own.get(field.name))
    value = _COOPERATIVE.get(key, _NONE)
    if value is _NONE:
        value = _COOPERATIVE[key] = _first_example(field_values(field, own))
    return value


def _first_example(strategy: st.SearchStrategy[Any]) -> Any:
    # sampled_from exposes its elements; anything else: ask hypothesis for one example
    # (outside a running test only: flow_state_machine asks early and keeps it here)
    elements = getattr(strategy, "elements", None)
    if elements:
        return elements[0]
    hit = _EXAMPLES.get(id(strategy), _NONE)
    if hit is not _NONE:
        return hit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NonInteractiveExampleWarning: used once, on purpose
            value = strategy.example()
    except Exception:
        return _NONE
    _EXAMPLES[id(strategy)] = value
    return value


# -- coverage -----------------------------------------------------------------------


@attrs.define
class Coverage:
    """What runs of a generated machine did: states, transitions, counts."""

    states: set[str] = attrs.field(factory=set)
    transitions: set[tuple[str, str, str]] = attrs.field(factory=set)
    events: int = 0
    accepted: int = 0
    steps: int = 0  # transitions taken (accepted events with a chart step)
    runs: int = 0

    def merge_step(self, source: str, event: str, target: str) -> None:
        self.states.add(target)
        self.transitions.add((source, event, target))
        self.steps += 1


@attrs.frozen
class Exploration:
    """The result of :func:`explore`."""

    chart: Chart
    coverage: Coverage
    seconds: float
    unvisited: tuple[str, ...]

    @property
    def transitions_per_second(self) -> float:
        return self.coverage.steps / self.seconds if self.seconds else 0.0


# -- the generated machine ----------------------------------------------------------


#: One rule's draw: the walker turns it into an event.
CHOICE = st.integers(0, 2**24 - 1)
#: Events in one ``several_events`` rule, at most (a zero choice ends it early).
BURST = 32


class FlowMachine(RuleBasedStateMachine):
    """A generated state machine over one chart (made by :func:`flow_state_machine`).

    Built-in invariants, checked after every event:

    * ``handle`` never raises; a ``Rejected`` outcome has a known code and a
      message, and changes nothing (configuration, values, results, history,
      timers, turn counter, modality, tools);
    * exactly one active leaf: a flow final, or a task and one of its own
      open states;
    * the flow completes at most once, and a task completes at most once per
      entry; after the end every event but ``UserSpoke`` is refused;
    * results only in final states: ``flow.result`` only in ``flow_done``, the
      active task has no result, every result was announced by the effects;
    * no stuck configuration: until the flow ends, the active state has a
      transition to another state on an event something can send (not only
      a session close), and tools or timers are offered;
    * accepted tool calls were offered; the tools equal the last ``SetTools``;
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
    graph: ClassVar[_Graph]  # the chart's leaves and rows
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
    def _absorb(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, TaskStarted):
                self.open_completion.discard(effect.task_id)
            elif isinstance(effect, TaskCompleted | TaskFailed):
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
            elif isinstance(effect, Complete | Fail):
                self.completions += 1
                assert self.completions == 1, "the flow completed more than once"
            elif isinstance(effect, SetTools):
                self.offered = effect.tools

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
            self._after(event, outcome, before, offered, was_done)
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

    def _after(
        self,
        event: Event,
        outcome: Outcome,
        before: Observed,
        offered: tuple[str, ...],
        was_done: bool,
    ) -> None:
        flow = self.flow
        cov = self.coverage
        cov.events += 1
        self.events += 1
        assert isinstance(outcome, Accepted | Rejected), outcome
        if isinstance(outcome, Rejected):
            assert outcome.code in REJECT_CODES, f"unexpected rejection {outcome!r}"
            assert outcome.message.strip(), f"a rejection without a message: {outcome!r}"
            _check_not_echoed(flow, event, outcome.message)
            changed = _changed_since(before, flow)
            assert not changed, f"{event!r} was refused but changed {changed}"
            self.known_state = (flow, flow.handled, before)
        else:
            cov.accepted += 1
            if isinstance(event, ToolCalled) and outcome.step is not None:
                assert event.name in offered, f"{event.name!r} was accepted but not offered"
            if outcome.step is not None:
                cov.merge_step(outcome.step.source[-1], outcome.step.event, flow.configuration[-1])
            self._absorb(outcome.effects)
        if was_done:
            self.after_end += 1
        if was_done and not isinstance(event, UserSpoke):
            assert isinstance(outcome, Rejected) and outcome.code == "finished", (
                f"{event!r} after the end was not refused as finished: {outcome!r}"
            )

    def check_all(self) -> None:
        flow = self.flow
        self._check_configuration()
        self._check_results()
        self._check_progress()
        for fn in self.user_invariants:
            fn(flow)
        if self.roundtrip_every and self.events % self.roundtrip_every == 0:
            parts = check_roundtrip(flow, self.restored)
            # what the next event starts from: a refusal must leave exactly this
            self.known_state = (flow, flow.handled, _observe(flow, parts))

    def _check_configuration(self) -> None:
        flow = self.flow
        config = flow.configuration
        kinds = self.graph.kinds
        owner = self.graph.owner
        if len(config) == 1:
            assert config[0] in _FINALS, f"a configuration of one state must be final: {config}"
            assert flow.done
        else:
            assert len(config) == 2, f"more than one active leaf: {config}"
            task, leaf = config
            assert kinds.get(task) == "compound", f"{task!r} is not a task: {config}"
            assert owner.get(leaf) == task and kinds.get(leaf) == "atomic", (
                f"the active leaf {leaf!r} is not an open state of {task!r}"
            )
            assert not flow.done

    def _check_results(self) -> None:
        flow = self.flow
        done = flow.done
        assert (self.completions == 1) == done, (
            f"done={done} but {self.completions} flow completions"
        )
        results = flow.model.results
        if done:
            config = flow.configuration
            if flow.result is not None:
                assert config == (FLOW_DONE,), f"a result outside flow_done: {config}"
        else:
            task = flow.active_task
            assert task not in results, f"the active task {task!r} already has a result"
        for tid, value in results.items():
            if isinstance(value, TaskFailure | Exception):
                assert tid in self.failed, f"{tid!r} has an error but never failed"
            else:
                assert tid in self.completed, f"{tid!r} has a result but never completed"
                assert self.completed[tid] == value, f"{tid!r}: result differs from its effect"

    def _check_progress(self) -> None:
        flow = self.flow
        tools = flow.tools
        assert tools == (self.offered or ()), f"offered {self.offered}, accepts {tools}"
        if flow.done:
            assert not tools and not flow.timers, "tools or timers after the end"
            return
        leaf = flow.configuration[-1]
        spec = self.chart.task_map[flow.configuration[0]]
        assert tools or flow.timers or spec.kind == "implicit", (
            f"stuck in {leaf}: no tool offered and no timer running"
        )
        assert _has_way_out(self.chart, self.graph, leaf), (
            f"stuck in {leaf}: no event anything can send leaves it (only a session close)"
        )

    # -- rules ---------------------------------------------------------------------
    # Each rule draws one integer and the walker turns it into an event from what
    # the flow allows now: one cheap draw per step, which hypothesis shrinks well.
    @precondition(lambda self: bool(self.flow.tools))
    @rule(r=CHOICE)
    def call_offered_tool(self, r: int) -> None:
        self.send(self.walker.call(self.flow, r))

    @precondition(lambda self: bool(self.flow.tools))
    @rule(r=CHOICE)
    def call_offered_tool_again(self, r: int) -> None:
        """The same as call_offered_tool: a second rule makes progress twice as likely."""
        self.send(self.walker.call(self.flow, r))

    @rule(modality=st.sampled_from(["text", "audio", "audio"]))
    def user_speaks(self, modality: str) -> None:
        turn = self.flow.model.user_turn
        assert self.send(UserSpoke("yes", modality)).ok
        assert self.flow.model.user_turn == turn + 1

    @precondition(lambda self: bool(self.flow.tools))
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

    @precondition(lambda self: bool(self.flow.tools))
    @rule(r=CHOICE)
    def one_turn_many_calls(self, r: int) -> None:
        self.send_batch(self.walker.batch(self.flow, r))

    @precondition(lambda self: bool(self.flow.timers))
    @rule(r=CHOICE)
    def timer_fires(self, r: int) -> None:
        event = TimerFired(sorted(self.flow.timers)[r % len(self.flow.timers)])
        assert self.send(event).ok, f"{event!r} was running but refused"

    @rule(raw=st.binary(min_size=3 * BURST, max_size=3 * BURST))
    def several_events(self, raw: bytes) -> None:
        """Up to BURST events of any kind from one draw, as a walk plays them.

        Most of a run's events come this way: one draw of bytes costs
        hypothesis far less than one rule per event, and the shrinker still
        cuts a failing burst short (a zero choice ends it).
        """
        self.play(_choices(raw))

    @rule(raw=st.binary(min_size=3 * BURST, max_size=3 * BURST))
    def several_events_again(self, raw: bytes) -> None:
        """The same as several_events: a second rule makes bursts twice as likely."""
        self.play(_choices(raw))

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


def _values_hint(flow: Interpreter, overrides: ValueOverrides | None) -> str:
    """Which fields no built-in value satisfies, and how to give them values."""
    task = flow.active_task
    lacking: list[str] = []
    if task is not None:
        spec = flow.chart.task_map[task]
        own = _overrides_for(spec, overrides)
        lacking = [
            f"{task}.{name}"
            for name in spec.required_fields
            if _cooperative_value(spec.field_map[name], own) is _NONE
        ]
    if lacking:
        example = lacking[0]
        return (
            f"no built-in value is valid for {', '.join(lacking)}: pass values="
            f"{{{example!r}: st.sampled_from([...])}} (hypothesis strategies of valid values) "
            "to flow_state_machine"
        )
    return (
        "if a field needs values of a format of your own, pass values={'task.field': "
        "strategy} to flow_state_machine"
    )


class _Walker:
    """Turn one integer into the next event, from what the flow allows now.

    The integer's low digits choose the kind (weights below), the rest the
    tool and values. Value lists are computed once per chart.
    """

    #: (kind, weight): progress often, noise sometimes, the end rarely.
    KINDS = (
        ("call", 12),
        ("speak", 4),
        ("bad", 1),
        ("disabled", 1),
        ("batch", 1),
        ("timer", 2),
        ("return", 3),
        ("close", 1),
        ("noise", 1),
        ("key", 3),
    )

    def __init__(self, chart: Chart, overrides: ValueOverrides | None) -> None:
        self.chart = chart
        self.good: dict[tuple[str, str], list[Any]] = {}
        self.bad: dict[tuple[str, str], list[Any]] = {}
        for spec in chart.tasks:
            own = _overrides_for(spec, overrides)
            for f in spec.fields:
                if f.name in own:
                    example = _first_example(own[f.name])
                    self.good[spec.id, f.name] = [] if example is _NONE else [example]
                else:
                    self.good[spec.id, f.name] = [v for v in VALUE_POOL if _stable(f, v)]
                self.bad[spec.id, f.name] = [
                    v for v in (*HOSTILE_POOL, *VALUE_POOL) if not _clean(f, v)[0]
                ]
        self.kinds = [k for k, w in self.KINDS for _ in range(w)]
        #: (task, offered tools) -> tool names repeated by weight
        self.weighted: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self.all_tools = [(s, t) for s in chart.tasks for t in s.tools if t.event is not None]

    def pick(self, flow: Interpreter, r: int) -> Event | list[Event]:
        kind = self.kinds[r % len(self.kinds)]
        r //= len(self.kinds)
        task = flow.active_task
        spec = self.chart.task_map[task] if task else None
        if flow.done or spec is None:
            kind = "speak" if kind in ("speak", "call") else "noise"
        if kind == "timer" and not flow.timers:
            kind = "call"
        if kind == "return" and (spec is None or spec.kind != "implicit"):
            kind = "call"
        if kind == "key":
            if spec is not None and spec.keypad is not None:
                return DtmfReceived(KEYPAD[r % len(KEYPAD)])
            kind = "call"
        if kind in ("call", "bad", "batch") and not flow.tools:
            kind = "speak"
        if kind == "call":
            return self.call(flow, r)
        if kind == "batch":
            return self.batch(flow, r)
        if kind == "bad":
            return self.bad_call(flow, r)
        if kind == "disabled":
            return self.disabled_call(flow, r) or UserSpoke("hm", "text")
        if kind == "timer":
            timers = sorted(flow.timers)
            return TimerFired(timers[r % len(timers)])
        if kind == "return":
            if r % 10 == 0:
                return TaskRaised(RuntimeError("the task's own code failed"))
            return TaskReturned([None, True, 3, "ok"][r % 4])
        if kind == "close":
            if r % 4 != 0:  # mostly: the flow ends
                return SessionClosed("caller hung up")
            kind = "speak"
        if kind == "speak":
            return UserSpoke("yes", ("text", "audio")[r % 2])
        noise: list[Event] = [
            ToolCalled("no_such_tool", {}),
            ToolCalled("out_of_scope", {"task_ids": ["nope"]}),
            ToolCalled("out_of_scope", {"task_ids": [HUGE_TASK_ID]}),
            TimerFired("bogus"),
            UserSpoke("", "video"),
            DtmfReceived("12"),  # no keypad sends two keys as one tone
        ]
        if self.all_tools:
            sp, tool = self.all_tools[r % len(self.all_tools)]
            noise.append(ToolCalled(tool.name, self.args(sp, tool, r)))
        return noise[r % len(noise)]

    def call(self, flow: Interpreter, r: int) -> Event:
        spec = self.chart.task_map[flow.active_task]  # type: ignore[index]
        offered = flow.tools
        names = self.weighted.get((spec.id, offered))
        if names is None:
            names = self.weighted[spec.id, offered] = []
            for name in offered:
                tool = spec.tool(name)
                names += [name] * (_progress_weight(tool) if tool is not None else 1)
        name = names[r % len(names)]
        r //= len(names)
        tool = spec.tool(name)
        if tool is None:  # the regression tool
            targets = flow.regression_targets()
            return ToolCalled(name, {"task_ids": [targets[r % len(targets)]]})
        if tool.event == CONFIRM and tool.arguments and r % 4 and _confirming(flow):
            return ToolCalled(name, repeated_arguments(flow, spec, tool))
        if tool.event == CONFIRM and spec.confirm_heard and not _confirming(flow):
            return ToolCalled(name, self.args(spec, tool, r // 2), heard=bool(r % 2))
        return ToolCalled(name, self.args(spec, tool, r))

    def batch(self, flow: Interpreter, r: int) -> list[Event]:
        """Two calls in one model turn: two calls, the same call twice, the two with
        one call id (a retried stream repeats ids), or going back beside an answer."""
        first = self.call(flow, r)
        targets = flow.regression_targets() if r % 5 == 0 else ()
        if targets:
            back = ToolCalled(flow.regress_tool, {"task_ids": [targets[r // 5 % len(targets)]]})
            return [first, back] if r % 2 else [back, first]
        second = self.call(flow, r // 7) if r % 2 else first
        if r % 3 == 0 and isinstance(first, ToolCalled) and isinstance(second, ToolCalled):
            return [attrs.evolve(first, call_id="call_0"), attrs.evolve(second, call_id="call_0")]
        return [first, second]

    def disabled_call(self, flow: Interpreter, r: int) -> Event | None:
        """A well-formed call of a chart tool the flow does not offer now (None: all are)."""
        offered = set(flow.tools)
        pairs = [p for p in self.all_tools if p[1].name not in offered]
        if not pairs:
            return None
        spec, tool = pairs[r % len(pairs)]
        return ToolCalled(tool.name, self.args(spec, tool, r // len(pairs)))

    def args(self, spec: TaskSpec, tool: Tool, r: int) -> dict[str, Any]:
        if tool.event == DECLINE:
            return {a: "I'd rather not say" for a in tool.arguments}
        if tool.event not in (UPDATE, CONFIRM) or not tool.arguments:
            return {}
        out: dict[str, Any] = {}
        for arg, fname in tool.arguments.items():
            good = self.good[spec.id, fname]
            keep = arg in tool.required or r % 3 != 0
            r //= 3
            if keep and good:
                out[arg] = good[r % len(good)]
                r //= len(good)
        if not out:  # at least one value
            for arg, fname in tool.arguments.items():
                if self.good[spec.id, fname]:
                    out[arg] = self.good[spec.id, fname][0]
                    break
        return out

    def bad_call(self, flow: Interpreter, r: int) -> Event:
        """A call the flow must refuse: an unknown argument, a non-object, an invalid value."""
        spec = self.chart.task_map[flow.active_task]  # type: ignore[index]
        tools = [spec.tool(n) for n in flow.tools]
        # a hand-written task's own tools take any arguments (LiveKit checks them)
        checked = [n for n, t in zip(flow.tools, tools, strict=True) if t is None or t.event]
        updates = [t for t in tools if t is not None and t.event == UPDATE]
        choice = r % 4
        r //= 4
        if not checked:
            return ToolCalled(f"no_such_tool_{r % 97}", {})
        if choice == 0 or not updates:
            unknown: dict[Any, Any] = {"no_such_argument": "x"}
            if r % 2:  # a key of another type, as no JSON object has but a caller may pass
                unknown[7] = "y"
            return ToolCalled(checked[(r // 2) % len(checked)], unknown)
        tool = updates[r % len(updates)]
        arg, fname = list(tool.arguments.items())[r % len(tool.arguments)]
        bad = self.bad[spec.id, fname]
        if choice == 1 or not bad:
            return ToolCalled(tool.name, "not an object")
        return ToolCalled(tool.name, {arg: bad[r % len(bad)]})


def _final_of(effect: TaskCompleted | TaskFailed) -> str:
    if isinstance(effect, TaskCompleted):
        return "complete"
    return "declined" if isinstance(effect.error, Declined) else "failed"


def flow_state_machine(
    chart_factory: ChartSource,
    *,
    invariants: Iterable[FlowInvariant] = (),
    values: ValueOverrides | None = None,
    max_examples: int | None = None,
    step_count: int = 30,
    roundtrip_every: int = 1,
    finish: bool = True,
    noise: bool = True,
) -> type[FlowMachine]:
    """A hypothesis ``RuleBasedStateMachine`` class testing ``chart_factory``'s chart.

    ``invariants`` (or ``@Machine.flow_invariant``) are called with the
    :class:`Interpreter` after every event. ``values`` gives strategies for
    fields the built-in value pool cannot satisfy (``{"task.field": st...}``).
    ``max_examples`` overrides the loaded hypothesis profile for this
    machine's ``TestCase``, and the environment variable
    ``TASKCHART_EXAMPLES=N`` (set by pytest's ``--taskchart-examples N``)
    overrides both. ``noise`` adds a rule sending arbitrary events
    (any task's tools, speech, unknown timers, session close).
    """
    chart = as_chart(chart_factory)
    for strategy in (values or {}).values():  # now, while hypothesis allows example()
        _first_example(strategy)
    attrs_: dict[str, Any] = {
        "chart": chart,
        "overrides": values,
        "user_invariants": list(invariants),
        "coverage": Coverage(),
        "graph": _Graph(chart),
        "walker": _Walker(chart, values),
        "restored": set(),
        "roundtrip_every": roundtrip_every,
        "finish": finish,
    }
    if noise:
        attrs_["anything"] = rule(event=tool_calls(chart, values))(_anything)
    cls: type[FlowMachine] = type(f"{chart.name}Machine", (FlowMachine,), attrs_)
    default = settings.default
    forced = forced_examples()
    cls.TestCase.settings = settings(
        max_examples=forced
        if forced is not None
        else max_examples
        if max_examples is not None
        else (default.max_examples if default is not None else 100),
        stateful_step_count=step_count,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    return cls


#: The environment variable that sets every generated TestCase's number of examples.
EXAMPLES_ENV = "TASKCHART_EXAMPLES"


def forced_examples() -> int | None:
    """``TASKCHART_EXAMPLES`` as a positive number of examples, or None when unset."""
    raw = os.environ.get(EXAMPLES_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{EXAMPLES_ENV} must be a positive whole number, got {raw[:20]!r}")
    return value


def _anything(self: FlowMachine, event: Event) -> None:
    self.send(event)


def explore(
    chart_factory: ChartSource | type[FlowMachine],
    *,
    max_examples: int = 100,
    step_count: int = 30,
    derandomize: bool = True,
    rules: bool = False,
    shrink: bool = True,
    **options: Any,
) -> Exploration:
    """Run generated event sequences against the chart; report coverage and speed.

    By default each example is one hypothesis draw of ``step_count``
    integers played through :meth:`FlowMachine.walk` (fast: the interpreter
    and the invariants dominate the cost). ``rules=True`` runs the
    rule-based machine instead (one hypothesis rule per event, slower).
    ``shrink=False`` reports the first failure as found (faster, longer).
    Raises what the machine raises when an invariant fails. ``unvisited``
    lists the states the task specs ask for that no run entered.
    """
    if isinstance(chart_factory, type) and issubclass(chart_factory, FlowMachine):
        machine = chart_factory
    else:
        machine = flow_state_machine(chart_factory, step_count=step_count, **options)
    machine.coverage = Coverage()
    config = settings(
        max_examples=max_examples,
        stateful_step_count=step_count,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=list(Phase) if shrink else [p for p in Phase if p is not Phase.shrink],
    )
    t0 = time.perf_counter()
    # Objects alive now (modules, charts, hypothesis's own state) are not garbage:
    # keep the collector from re-scanning them on every collection of the run
    # (that tripled the cost of an event inside hypothesis).
    gc.freeze()
    try:
        if rules:
            run_state_machine_as_test(machine, settings=config)  # type: ignore[no-untyped-call, unused-ignore]
        else:
            walks(machine, step_count=step_count, settings=config)()
    finally:
        gc.unfreeze()
    seconds = time.perf_counter() - t0
    cov = machine.coverage
    unvisited = tuple(sorted(expected_states(machine.chart) - cov.states - {DISPATCH}))
    return Exploration(machine.chart, cov, seconds, unvisited)


def _choices(raw: bytes) -> Iterator[int]:
    """Three bytes per choice, up to the first zero choice."""
    for i in range(0, len(raw) - 2, 3):
        choice = int.from_bytes(raw[i : i + 3], "big")
        if not choice:
            return
        yield choice


def walks(
    machine: type[FlowMachine], *, step_count: int = 30, settings: settings | None = None
) -> Callable[[], None]:
    """A hypothesis test (call it) playing choice lists through ``machine.walk``."""

    # One draw of bytes, three per choice: hypothesis's cost per example does not
    # grow with the walk's length, as it does with a list of integers. A walk
    # is step_count events long unless a zero choice ends it: the shrinker
    # shortens a failing walk by zeroing its tail.
    @given(st.binary(min_size=3 * step_count, max_size=3 * step_count))
    def walk(raw: bytes) -> None:
        m = machine()
        m.walk(_choices(raw))
        m.teardown()

    return settings(walk) if settings is not None else walk
