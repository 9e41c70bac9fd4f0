"""Observing a flow: fingerprints of its state, what changed, the snapshot round trip.

Rules of this file: equal means the same state by :func:`_state_of`
(configuration, history, timers, tools, every model attribute, values and
results); fingerprints only ever confirm equality, ``==`` decides a
difference, so only a real difference fails a check.

Theory of operation: a flow's state is cut into parts as ``restore``
rebuilds it (:func:`_state_parts`), each part pickled by one reused fast
pickler into bytes. A refused event must leave every part as it was
(:func:`_observe`, :func:`_changed_since`); a flow whose every part already
round-tripped through a snapshot is not restored again
(:func:`check_roundtrip`).
"""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

from taskchart.statecharts import TaskFailure

from ..interpreter import Interpreter
from ..snapshots import restore, snapshot


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


def _state_parts(flow: Interpreter) -> tuple[list[Any], list[tuple[Any, str]]]:
    """A flow's state (what :func:`_state_of` names) cut as ``restore`` rebuilds it, as keys.

    ``restore`` rebuilds each field's value from its own snapshot entry, each
    stored result (an error, a hand-written task's value) from its own, and
    the rest (the shape) without looking at any value; a declarative task's
    result it derives from the task's values. So the parts are the shape
    (configuration, history, timers, tools, the model's bookkeeping, which
    fields and results the tasks hold), one part per field value, one per
    stored result; and, apart, one per derived result (with the values it was
    built from). The user turn counts only relative to the read-back turns
    (flows that differ only in how many turns ago things happened restore
    alike). Read straight from the flow: this runs after every event.
    """
    model = vars(flow.model).copy()
    values, results = model.pop("values"), model.pop("results")
    del model["tasks"]
    turn = model["user_turn"]
    model["user_turn"] = 0
    model["readback_turn"] = {t: n >= turn for t, n in model["readback_turn"].items()}
    task_map = flow.chart.task_map
    fingerprint = _fingerprint
    parts: list[Any] = [None]
    derived: list[tuple[Any, str]] = []
    holders: list[tuple[str, tuple[str, ...], str]] = []
    for tid, fields in values.items():
        for name, value in fields.items():
            if type(value) in _PLAIN:
                parts.append(("value", tid, name, type(value), value))
            else:
                parts.append(fingerprint(("value", tid, name, value)))
        if tid in results:
            result = results[tid]
            if isinstance(result, Exception):
                if not isinstance(result, TaskFailure):  # snapshotted as a TaskFailure
                    result = TaskFailure.kept_as(tid, result)
            elif task_map[tid].kind == "declarative":
                derived.append((fingerprint(("derived", tid, fields, result)), tid))
                holders.append((tid, tuple(fields), "derived"))
                continue
            parts.append(fingerprint(("result", tid, result)))
            holders.append((tid, tuple(fields), "stored"))
        elif fields:
            holders.append((tid, tuple(fields), ""))
    parts[0] = fingerprint(
        (
            flow.configuration,
            flow.machine.history,
            flow.timers,
            flow.tools,
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
        restored, derived = _state_parts(flow)
        parts = restored + [key for key, _ in derived]
    model = flow.model
    return parts, (model.user_turn, model.readback_turn.copy())


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
    parts, derived = _state_parts(flow)
    keys = parts + [key for key, _ in derived]
    if verified is not None and verified.issuperset(parts):
        for key, tid in derived:
            if key not in verified:
                built = flow.chart.task_map[tid].build_result(flow.model.values[tid])
                result = flow.model.results[tid]
                assert result == built, (
                    f"the result of {tid} is {result!r}, its values build {built!r}"
                )
                verified.add(key)
        return keys
    data = snapshot(flow)
    again = restore(flow.chart, json.loads(json.dumps(data)))
    restored, their_derived = _state_parts(again)
    if restored + [key for key, _ in their_derived] != keys:
        mine, theirs = _state_of(flow), _state_of(again)
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
