"""Guards, actions and state hooks: the callables a table's names stand for.

Rules of this file: one registry (:data:`GUARDS`, :data:`ACTIONS`) maps each
name a table may use to a factory that binds it to a task; the engines, the
static checks and the diagrams all read the names from it. Each callable
declares exactly the keyword names an engine should inject (``model`` plus
event keywords) and carries the table's name.

>>> sorted(GUARDS)[:3]
['all_fields_collected', 'flow_failed', 'heard_in_conversation']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .signals import ArmTimer, DisarmTimer
from .table import ACTIVE, COLLECTING, CONFIRMING, DISPATCH, FLOW_DONE, FLOW_FAILED, sid
from .task import TaskSpec

__all__ = [
    "ACTIONS",
    "ARG_GUARDS",
    "GUARDS",
    "GuardFn",
    "Hooks",
    "bind_action",
    "bind_guard",
    "chart_hooks",
    "known_guard",
]


def _named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = name
    return fn


GuardFn = Callable[..., bool]
Binder = Callable[[Any], Callable[..., Any]]
"""Binds a name to a task id (``None`` outside a task): the callable an engine calls."""

#: Every guard a table may name. Each reads the model only.
GUARDS: dict[str, Binder] = {
    "next_fresh": lambda task: lambda model: model.is_next(task, "fresh"),
    "next_resume": lambda task: lambda model: model.is_next(task, "resume"),
    "flow_failed": lambda task: lambda model: model.flow_failed(),
    "all_fields_collected": lambda task: (
        lambda model, values=None: model.all_fields_collected(task, values)
    ),
    "needs_confirmation": lambda task: lambda model: model.needs_confirmation(task),
    "value_unchanged_since_readback": lambda task: (
        lambda model: model.value_unchanged_since_readback(task)
    ),
    "repetition_matches": lambda task: (
        lambda model, repeated=None: model.repetition_matches(task, repeated)
    ),
    "heard_in_conversation": lambda task: (
        lambda model, heard=False, repeated=None: model.heard_in_conversation(task, heard, repeated)
    ),
    "is_stop_key": lambda task: lambda model, digit="": model.is_stop_key(task, digit),
    "key_completes": lambda task: lambda model, digit="": model.key_completes(task, digit),
    "keypad_retries_left": lambda task: lambda model: model.keypad_retries_left(task),
    "reprompts_left": lambda task: lambda model: model.reprompts_left(task),
    "no_matches_left": lambda task: lambda model: model.no_matches_left(task),
    "keys_refused": lambda task: lambda model, digit="": model.keys_refused(task, digit),
    "is_repeat_key": lambda task: lambda model, digit="": model.is_repeat_key(task, digit),
    "regression_targets_visited": lambda task: (
        lambda model, task_ids=(): model.regression_targets_visited(task, task_ids)
    ),
}

#: Every action a table may name. Each changes the model (and reports signals).
ACTIONS: dict[str, Binder] = {
    "store": lambda task: lambda model, values=None: model.store(task, values),
    "store_heard": lambda task: lambda model, repeated=None: model.store(task, repeated),
    "complete_task": lambda task: lambda model, result=None: model.complete_task(task, result),
    "decline_task": lambda task: (
        lambda model, reason="": model.fail_task(task, reason=reason, kind="declined")
    ),
    "fail_task": lambda task: (
        lambda model, error=None: model.fail_task(
            task, error if isinstance(error, Exception) else None, str(error or "")
        )
    ),
    "no_input": lambda task: lambda model: model.fail_task(task, kind="no_input"),
    "no_match": lambda task: lambda model: model.fail_task(task, kind="no_match"),
    "count_no_match": lambda task: lambda model: model.count_no_match(task),
    "drop_keys": lambda task: lambda model: model.drop_keys(task),
    "repeat_prompt": lambda task: lambda model: model.repeat_prompt(task),
    "press_key": lambda task: lambda model, digit="": model.press_key(task, digit),
    "arm_keys_timer": lambda task: lambda model: model.arm_keys_timer(task),
    "take_keys": lambda task: lambda model: model.take_keys(task),
    "reject_keys": lambda task: lambda model: model.reject_keys(task),
    "fail_keys": lambda task: lambda model: model.fail_keys(task),
    "count_reprompt": lambda task: lambda model: model.count_reprompt(task),
    "begin_regression": lambda task: (
        lambda model, task_ids=(): model.begin_regression(task, task_ids)
    ),
}


#: Guards that take an argument, written ``name:argument`` in a table (``routed:2``).
ARG_GUARDS: dict[str, Callable[[Any, str], Callable[..., Any]]] = {
    "routed": lambda task, key: lambda model: model.routed(task, key),
}


def known_guard(name: str) -> bool:
    """Whether a table may name guard ``name`` (``routed:2`` included)."""
    base, sep, _ = name.partition(":")
    return base in ARG_GUARDS if sep else name in GUARDS


def bind_guard(name: str, task: str | None) -> GuardFn:
    """The guard ``name`` of a row of ``task``; ``ValueError`` for a name no table may use."""
    base, sep, argument = name.partition(":")
    if sep:
        binder = ARG_GUARDS.get(base)
        if binder is None:
            raise ValueError(
                f"unknown guard {name!r}; guards with an argument: {sorted(ARG_GUARDS)}"
            )
        return _named(binder(task, argument), name)
    return _named(_lookup(GUARDS, "guard", name)(task), name)


def bind_action(name: str, task: str | None) -> Callable[..., Any]:
    """The action ``name`` of a row of ``task``; ``ValueError`` for a name no table may use."""
    return _named(_lookup(ACTIONS, "action", name)(task), name)


def _lookup(registry: dict[str, Binder], kind: str, name: str) -> Binder:
    binder = registry.get(name)
    if binder is None:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(sorted(registry))}")
    return binder


def _state_hooks(spec: TaskSpec) -> dict[str, dict[str, list[Callable[..., Any]]]]:
    t = spec.id
    hooks: dict[str, dict[str, list[Callable[..., Any]]]] = {
        t: {"enter": [_named(lambda model: model.enter_task(t), "enter_task")]},
    }
    if spec.kind == "declarative":
        hooks[sid(t, CONFIRMING)] = {"enter": [_named(lambda model: model.readback(t), "readback")]}
    if spec.keypad is not None:
        keys_timer = f"{t}.keys"
        for s in (COLLECTING, CONFIRMING):
            hooks.setdefault(sid(t, s), {}).setdefault("exit", []).append(
                _named(
                    lambda model: model.signals.append(DisarmTimer(keys_timer)),
                    "cancel_keys_timer",
                )
            )
    if spec.no_input is not None and spec.no_input.timeout is not None:
        timer = f"{t}.no_input"
        seconds = spec.no_input.timeout
        for s in (COLLECTING, CONFIRMING) if spec.kind == "declarative" else (ACTIVE,):
            entry = hooks.setdefault(sid(t, s), {})
            entry.setdefault("enter", []).append(
                _named(
                    lambda model: model.signals.append(ArmTimer(timer, seconds)),
                    "start_timer",
                )
            )
            entry.setdefault("exit", []).append(
                _named(lambda model: model.signals.append(DisarmTimer(timer)), "cancel_timer")
            )
    return hooks


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
