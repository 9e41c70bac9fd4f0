"""Signals to effects: one small function per kind of signal, in a table.

Rules of this file: each function reads the flow (its chart, data, result)
and returns the effects a signal asks for; only the timer functions change
anything, the flow's table of running timers. The words come from
:mod:`taskchart.runtime.messages`.

>>> from taskchart.statecharts import Field, compile_chart, declarative_task
>>> from taskchart.statecharts.signals import EnterTask
>>> from taskchart.runtime import Interpreter
>>> flow = Interpreter(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> effects_of(flow, EnterTask("name", resumed=False))
[TaskStarted(task_id='name', resumed=False), Instruct(instructions='Ask the user for their name.', task_id='name')]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from taskchart.statecharts import signals
from taskchart.statecharts.model import TaskFailure

from . import messages
from .effects import (
    CancelTimer,
    Complete,
    Effect,
    Fail,
    Instruct,
    Regressed,
    StartTimer,
    TaskCompleted,
    TaskFailed,
    TaskStarted,
)

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["answer", "effects_of"]


def effects_of(flow: Interpreter, signal: signals.Signal) -> list[Effect]:
    """The effects ``signal`` asks for in ``flow``."""
    return _TABLE[type(signal)](flow, signal)


def _enter(flow: Interpreter, signal: signals.EnterTask) -> list[Effect]:
    spec = flow.chart.task_map[signal.task_id]
    text = messages.ask(spec, resumed=signal.resumed)
    return [TaskStarted(signal.task_id, signal.resumed), Instruct(text, signal.task_id)]


def _read_back(flow: Interpreter, signal: signals.ReadBack) -> list[Effect]:
    spec = flow.chart.task_map[signal.task_id]
    values = flow.model.values[signal.task_id]
    return [Instruct(messages.read_back(spec, values, signal.count), signal.task_id)]


def _keys_short(flow: Interpreter, signal: signals.KeysShort) -> list[Effect]:
    keypad = flow.chart.task_map[signal.task_id].keypad
    assert keypad is not None
    return [Instruct(messages.keys_short(keypad.num_digits, signal.got), signal.task_id)]


def _reprompt(flow: Interpreter, signal: signals.Reprompt) -> list[Effect]:
    spec = flow.chart.task_map[signal.task_id]
    return [Instruct(messages.reprompt(spec, signal.kind, signal.count), signal.task_id)]


def _repeat(flow: Interpreter, signal: signals.Repeat) -> list[Effect]:
    spec = flow.chart.task_map[signal.task_id]
    return [Instruct(messages.repeat(spec), signal.task_id)]


def _task_done(flow: Interpreter, signal: signals.TaskDone) -> list[Effect]:
    result = flow.model.results[signal.task_id]
    if signal.outcome == "complete":
        return [TaskCompleted(signal.task_id, result)]
    return [TaskFailed(signal.task_id, result)]


def _regress(flow: Interpreter, signal: signals.Regress) -> list[Effect]:
    return [Regressed(signal.task_id, signal.targets)]


def _flow_done(flow: Interpreter, signal: signals.FlowDone) -> list[Effect]:
    if signal.outcome == "done":
        return [Complete(flow.result)]
    return [Fail(flow.error or TaskFailure("", "the flow failed"))]


def _arm(flow: Interpreter, signal: signals.ArmTimer) -> list[Effect]:
    flow.timers[signal.timer_id] = signal.seconds
    flow.deadlines[signal.timer_id] = flow.now() + signal.seconds
    return [StartTimer(signal.timer_id, signal.seconds)]


def _disarm(flow: Interpreter, signal: signals.DisarmTimer) -> list[Effect]:
    flow.deadlines.pop(signal.timer_id, None)
    if flow.timers.pop(signal.timer_id, None) is None:
        return []
    return [CancelTimer(signal.timer_id)]


def answer(
    flow: Interpreter,
    name: str,
    kwargs: Mapping[str, Any],
    effects: Sequence[Effect],
    task: str | None,
) -> str:
    """The tool output for an accepted event: what its effects say, or what an update recorded."""
    parts: list[str] = []
    for effect in effects:  # effects are built here, never subclassed: compare types
        if type(effect) is Instruct:
            parts.append(effect.instructions)
        elif type(effect) is TaskCompleted:
            parts.append(messages.task_complete(flow.chart.task_map[effect.task_id]))
        elif type(effect) is TaskFailed:
            parts.append(messages.task_ended(effect.task_id, effect.error))
    if not parts and name == "update" and task is not None:
        spec = flow.chart.task_map[task]
        have = flow.model.values[task]
        missing = [f for f in spec.required_fields if f not in have]
        parts.append(messages.recorded(kwargs["values"], missing))
    return " ".join(parts)


_TABLE: dict[type[Any], Callable[[Interpreter, Any], list[Effect]]] = {
    signals.EnterTask: _enter,
    signals.ReadBack: _read_back,
    signals.KeysShort: _keys_short,
    signals.Reprompt: _reprompt,
    signals.Repeat: _repeat,
    signals.TaskDone: _task_done,
    signals.Regress: _regress,
    signals.FlowDone: _flow_done,
    signals.ArmTimer: _arm,
    signals.DisarmTimer: _disarm,
}
