"""Snapshots: a running flow as plain JSON, and back.

A snapshot holds the active configuration, the history of every task, the
collected data, the regression bookkeeping and the pending timers, each
with its deadline on the flow's clock (the restored flow's ``start()``
re-arms them with the time left). Results of a registered type
(:mod:`taskchart.runtime.results`) come back as that type. Restoring
validates all of it against the chart first: a corrupted or foreign snapshot
raises :class:`SnapshotError` and creates nothing.

A snapshot holds the collected values in clear: it is the flow's state, kept
in memory to resume it (a task group resumes an interrupted task from one).
To write one out, use :func:`taskchart.runtime.private.dump_snapshot` or
:func:`~taskchart.runtime.private.redact_snapshot`, which redact personal
values (a redacted snapshot does not restore).

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> from taskchart.runtime import Interpreter, ToolCalled
>>> chart = compile_chart([declarative_task("intro", fields=[Field("name"), Field("intro")])])
>>> flow = Interpreter(chart); _ = flow.start()
>>> _ = flow.handle(ToolCalled("update_intro", {"name": "Ada"}))
>>> again = restore(chart, snapshot(flow))
>>> again.values("intro"), again.configuration == flow.configuration
({'name': 'Ada'}, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, cast

from taskchart.statecharts import Chart, FieldError, TaskFailure
from taskchart.statecharts.fields import shown
from taskchart.statecharts.model import DATA_FIELDS, FAILURE_TYPES, FlowModel
from taskchart.statecharts.table import CONFIRMING, FLOW_DONE, FLOW_FAILED
from taskchart.statecharts.task import KEYPAD_KEYS, Modality, is_modality

from .events import plain_json
from .interpreter import Interpreter
from .results import decode_result, encode_result

__all__ = ["FORMAT", "SnapshotError", "check_snapshot", "restore", "snapshot"]

FORMAT = "taskchart.snapshot/1"


class SnapshotError(ValueError):
    """A snapshot that does not fit the chart (corrupted, foreign or outdated)."""


def snapshot(flow: Interpreter) -> dict[str, Any]:
    """The flow's state as a JSON-compatible dict (see :func:`restore`).

    Every data field of the model (:data:`~taskchart.statecharts.model.DATA_FIELDS`)
    is saved, copied as a checkpoint copies it, except where :data:`_SAVE` says
    how (results as JSON, empty value maps left out); ``plan`` is only set
    inside a step, never at rest.
    """
    model = flow.model
    data: dict[str, Any] = {
        "format": FORMAT,
        "chart": flow.chart.name,
        "tasks": list(model.order),
        "configuration": list(flow.configuration),
        "history": {hid: list(ids) for hid, ids in flow.machine.history.items()},
    }
    fields = vars(model)
    for name, save, copy in _SAVED:
        data[name] = copy(fields[name]) if save is None else save(flow, fields[name])
    deadlines = flow.deadlines
    data["timers"] = {
        tid: {"seconds": seconds, "deadline": deadlines.get(tid)}
        for tid, seconds in flow.timers.items()
    }
    return data


def _save_results(flow: Interpreter, results: Mapping[str, Any]) -> dict[str, Any]:
    saved: dict[str, Any] = {}
    for tid, value in results.items():
        spec = flow.chart.task_map[tid]
        if isinstance(value, Exception):  # a hand-written task's own error: kept as its text
            saved[tid] = {"error": TaskFailure.kept_as(tid, value).to_json()}
        elif spec.kind == "declarative":
            saved[tid] = {"from_values": True}
        else:  # a registered type comes back as itself (taskchart.runtime.results)
            saved[tid] = encode_result(value) or {"value": _plain(value, tid)}
    return saved


_SAVE: dict[str, Callable[[Interpreter, Any], Any]] = {
    "values": lambda flow, values: {t: dict(v) for t, v in values.items() if v},
    "results": _save_results,
}

#: (name, how to save it or None, how to copy it) of each data field a snapshot holds.
_SAVED = tuple((name, _SAVE.get(name), copy) for name, copy in DATA_FIELDS if name != "plan")


def _plain(value: Any, tid: str) -> Any:
    try:
        return plain_json(value)
    except (TypeError, ValueError) as exc:
        raise SnapshotError(
            f"the result of task {tid!r} is not JSON-serialisable ({type(exc).__name__})"
        ) from None


def _expect(cond: bool, message: str, *args: Any) -> None:
    """Raise :class:`SnapshotError` unless ``cond``; ``args`` fill ``message`` only then.

    Each argument is shown capped (:func:`~taskchart.statecharts.fields.shown`): a
    snapshot is untrusted input and may hold anything.
    """
    if not cond:
        _fail(message, *args)


def _fail(message: str, *args: Any) -> NoReturn:
    """Raise :class:`SnapshotError` (what :func:`_expect` does when its condition fails).

    Call it behind a condition of your own when an argument costs something
    to compute (a sorted list): it is then computed only for the message.
    """
    raise SnapshotError(message.format(*map(_Capped, args)) if args else message)


class _Capped:
    """A message argument: its repr and text are cut to a few dozen characters."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return shown(self.value)

    def __str__(self) -> str:
        return self.value if isinstance(self.value, str) and len(self.value) < 60 else repr(self)


def check_snapshot(chart: Chart, data: Any) -> dict[str, Any]:
    """Check that ``data`` is a snapshot of ``chart`` and names only its states; its history.

    The part of :func:`restore`'s checks that a redacted snapshot (the one
    written out) passes too: format, tasks, configuration and history. A
    diagram highlights a snapshot only once it passes.
    """
    _expect(isinstance(data, Mapping), "a snapshot must be a JSON object")
    _expect(
        data.get("format") == FORMAT, "not a {} snapshot: format={!r}", FORMAT, data.get("format")
    )
    _expect(
        data.get("tasks") == chart.task_ids,
        "snapshot of tasks {!r} does not fit this chart's tasks {!r}",
        data.get("tasks"),
        chart.task_ids,
    )
    config = data.get("configuration")
    _check_configuration(chart, config)
    history: dict[str, Any] = _typed(data, "history", dict)
    states = chart.state_map
    for hid, ids in history.items():
        _expect(
            isinstance(hid, str) and hid.endswith("__h") and hid[:-3] in chart.task_map,
            "unknown history state {!r}",
            hid,
        )
        _expect(
            isinstance(ids, list)
            and len(ids) == 1
            and isinstance(ids[0], str)
            and ids[0] in states
            and states[ids[0]].task == hid[:-3]
            and states[ids[0]].kind in ("atomic", "final"),
            "history {!r} must name one state of task {!r}, got {!r}",
            hid,
            hid[:-3],
            ids,
        )
    task_map = chart.task_map
    for key in ("values", "results"):
        entries = _typed(data, key, dict)
        if not all(t in task_map and isinstance(v, dict) for t, v in entries.items()):
            _fail("{} for unknown task(s) or not objects: {!r}", key, sorted(map(str, entries)))
    return history


def restore(chart: Chart, data: Any, **options: Any) -> Interpreter:
    """Rebuild a flow of ``chart`` from :func:`snapshot` output; :class:`SnapshotError` if unfit.

    Each section of the snapshot has its own reader (:data:`_SECTIONS`, in
    order: a later one may rely on an earlier one), then the sections are
    checked against each other and against the configuration.
    """
    _expect(isinstance(data, Mapping), "a snapshot must be a JSON object")
    _expect(
        not data.get("redacted"),
        "a redacted snapshot shows where a flow was; it cannot be restored",
    )
    history = check_snapshot(chart, data)
    config = data["configuration"]
    model = chart.new_model()
    for read in _SECTIONS:
        read(chart, data, model)
    _check_together(chart, model, config)
    timers, deadlines = _read_timers(data)
    model.state = tuple(config) if len(config) > 1 else config[0]
    machine = chart.machine_for(model, history, engine=options.get("engine", "table"))
    return Interpreter.resumed(chart, machine, timers, deadlines=deadlines, **options)


def _read_timers(data: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """Each timer's duration and deadline (on the flow's clock); a bare number is a duration."""
    timers: dict[str, float] = {}
    deadlines: dict[str, float] = {}
    seconds: Any
    deadline: Any
    for tid, entry in _typed(data, "timers", dict).items():
        seconds, deadline = (
            (entry.get("seconds"), entry.get("deadline"))
            if isinstance(entry, dict)
            else (entry, None)
        )
        _expect(
            _finite(seconds) and seconds > 0 and (deadline is None or _finite(deadline)),
            "timers must map ids to positive seconds and a deadline (or null): {!r}",
            tid,
        )
        timers[tid] = float(seconds)
        if deadline is not None:
            deadlines[tid] = float(deadline)
    return timers, deadlines


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < 2**53 if isinstance(value, int) else math.isfinite(value)


def _read_values(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    for tid, fields in _typed(data, "values", dict).items():
        _expect(
            tid in chart.task_map and isinstance(fields, dict), "values for unknown task {!r}", tid
        )
        spec_fields = chart.task_map[tid].field_map
        for name, value in fields.items():
            _expect(name in spec_fields, "task {!r} has no field {!r}", tid, name)
            try:
                model.values[tid][name] = spec_fields[name].clean(value)
            except FieldError as exc:  # its text names the rule, a private value never
                raise SnapshotError(f"stored value of {tid}.{name} is invalid: {exc}") from None


def _read_task_lists(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    for key in ("visited", "interrupted", "queue"):
        ids = _typed(data, key, list)
        _expect(
            all(isinstance(i, str) and i in chart.task_map for i in ids),
            "{} names unknown tasks: {!r}",
            key,
            ids,
        )
        _expect(len(set(ids)) == len(ids), "{} names a task twice: {!r}", key, ids)
        setattr(model, key, list(ids))
    stuck = [t for t in model.interrupted if f"{t}__h" not in chart.state_map]
    _expect(not stuck, "interrupted names {!r}, which never goes back (no history)", stuck)


def _read_results(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    active = _active(data["configuration"])
    for tid, entry in _typed(data, "results", dict).items():
        _expect(
            tid in chart.task_map and isinstance(entry, dict), "result for unknown task {!r}", tid
        )
        _expect(tid != active, "the active task {!r} cannot have a result yet", tid)
        model.results[tid] = _result(chart, model.values.get(tid, {}), tid, entry)


def _read_counters(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    model.user_turn = _int(data.get("user_turn"), "user_turn")
    task_map = chart.task_map
    for key in ("readback_turn", "readbacks", "reprompts", "no_matches", "keypad_retries"):
        counts = _typed(data, key, dict)
        if not all(k in task_map for k in counts):
            _fail("{} names unknown tasks: {!r}", key, sorted(counts))
        setattr(model, key, {k: _int(v, key) for k, v in counts.items()})


def _read_keys(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    keys = data.get("keys", {})
    _expect(
        isinstance(keys, dict)
        and all(
            t in chart.task_map
            and (keypad := chart.task_map[t].keypad) is not None
            and isinstance(k, list)
            and len(k) < keypad.num_digits
            and all(isinstance(d, str) and d in KEYPAD_KEYS for d in k)
            for t, k in keys.items()
        ),
        "bad keypad buffer: each task with a keypad holds fewer keys than it collects, "
        "each one of 0-9, *, # and A-D",
    )
    model.keys = {t: list(k) for t, k in keys.items()}


def _read_flags(chart: Chart, data: Mapping[str, Any], model: FlowModel) -> None:
    modality = data.get("modality")
    _expect(is_modality(modality), "bad modality {!r}", modality)
    model.modality = cast(Modality, modality)
    closed = data.get("closed", False)
    _expect(isinstance(closed, bool), "closed must be true or false, got {!r}", closed)
    model.closed = closed
    failed = data.get("failed_task")
    _expect(failed is None or failed in model.order, "unknown failed_task {!r}", failed)
    model.failed_task = failed
    exited = data.get("exited", False)
    _expect(isinstance(exited, bool), "exited must be true or false, got {!r}", exited)
    model.exited = exited


#: The readers of a snapshot's sections, in order (results need the values).
_SECTIONS: tuple[Callable[[Chart, Mapping[str, Any], FlowModel], None], ...] = (
    _read_values,
    _read_task_lists,
    _read_results,
    _read_counters,
    _read_keys,
    _read_flags,
)


def _active(config: list[str]) -> str | None:
    return config[0] if len(config) > 1 else None


def _check_together(chart: Chart, model: FlowModel, config: list[str]) -> None:
    """What no section shows alone: the sections fit each other and the configuration."""
    active = _active(config)
    # the tasks still to redo after a regression; the active one was taken from it
    _expect(active not in model.queue, "queue names the active task {!r}", active)
    if active is not None and config[1] == f"{active}__{CONFIRMING}":  # reached with every field
        have = model.values[active]
        missing = [f for f in chart.task_map[active].required_fields if f not in have]
        _expect(not missing, "task {!r} is confirming without {}", active, missing)
    _check_visited(model, active)
    failed = model.failed_task
    _expect(
        failed is None or config == [FLOW_FAILED],
        "failed_task {!r} in a flow that has not failed",
        failed,
    )
    _expect(
        failed is not None or config != [FLOW_FAILED],
        "a failed flow must name its failed_task",
    )
    missing = [t for t in model.order if t not in model.results and t not in model.on_demand]
    if model.exited:  # a handler's exit ends the flow once its task is done
        missing = []
    _expect(
        config != [FLOW_DONE] or not missing,
        "a finished flow lacks the results of {!r}",
        missing,
    )


def _check_visited(model: FlowModel, active: str | None) -> None:
    """The active task, the tasks with a result and the interrupted ones were all entered."""
    entered = set(model.visited)
    unvisited = [
        t
        for t in model.order
        if t not in entered and (t == active or t in model.results or t in model.interrupted)
    ]
    _expect(
        not unvisited,
        "visited lacks {!r}: the active task, every task with a result and every "
        "interrupted task must have been visited",
        unvisited,
    )


def _typed(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key, kind())
    _expect(isinstance(value, kind), "{} must be a {}", key, kind.__name__)
    return value


def _int(value: Any, key: str) -> int:
    _expect(
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53,
        "bad {}",  # counters; 2**53: what every JSON reader keeps exact
        key,
    )
    return int(value)


def _check_configuration(chart: Chart, config: Any) -> None:
    _expect(
        isinstance(config, list) and bool(config) and all(isinstance(s, str) for s in config),
        "configuration must be a non-empty list of state ids",
    )
    unknown = [s for s in config if s not in chart.state_ids]
    _expect(not unknown, "configuration names unknown states {!r}", unknown)
    kinds = chart.state_map
    if len(config) == 1:
        only = kinds[config[0]]
        _expect(
            only.task is None and only.kind == "final",
            "configuration {!r} is not a valid resting configuration",
            config,
        )
        return
    _expect(len(config) == 2, "configuration {!r} must be a task and one of its states", config)
    task, leaf = config
    _expect(
        kinds[task].kind == "compound" and kinds[leaf].task == task and leaf != task,
        "configuration {!r} must be a task followed by one of its own states",
        config,
    )
    _expect(
        kinds[leaf].kind == "atomic",
        "configuration {!r} rests in a final state, which a flow never does",
        config,
    )


def _result(chart: Chart, values: Mapping[str, Any], tid: str, entry: Mapping[str, Any]) -> Any:
    spec = chart.task_map[tid]
    if "error" in entry:
        err = entry["error"]
        _expect(isinstance(err, dict), "bad error for {!r}", tid)
        kind = err.get("type")
        cls = FAILURE_TYPES.get(kind) if isinstance(kind, str) else None
        _expect(cls is not None, "unknown error type {!r}", err.get("type"))
        assert cls is not None
        own = err.get("task_id", tid)  # a step's own id (a card step's, in its group)
        _expect(isinstance(own, str) and len(own) <= 300, "bad task_id of {!r}'s error", tid)
        failure = cls(own, str(err.get("message", "")))
        raised_as, said = err.get("raised_as"), err.get("said")
        _expect(
            raised_as is None or (isinstance(raised_as, str) and len(raised_as) <= 300),
            "raised_as of {!r} must be a class name",
            tid,
        )
        _expect(said is None or isinstance(said, str), "said of {!r} must be text", tid)
        failure.raised_as = raised_as  # the adapter raises that class again,
        failure.said = said  # in the words it had
        return failure
    if entry.get("from_values"):
        _expect(spec.kind == "declarative", "task {!r} cannot rebuild its result from values", tid)
        missing = [f for f in spec.required_fields if f not in values]
        _expect(not missing, "result of {!r} lacks fields {}", tid, missing)
        try:
            return spec.build_result(values)
        except Exception as exc:
            raise SnapshotError(
                f"cannot rebuild the result of {tid!r} ({type(exc).__name__})"
            ) from None
    _expect("value" in entry, "result entry of {!r} has no value", tid)
    if "type" in entry:
        try:
            return decode_result(entry)
        except Exception as exc:  # not registered, or its fields no longer fit the type
            raise SnapshotError(
                f"cannot rebuild the result of {tid!r} as {shown(entry['type'], 80)} "
                f"({type(exc).__name__})"
            ) from None
    return entry["value"]
