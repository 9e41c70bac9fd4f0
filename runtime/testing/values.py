"""Values a model sends: the pools, the value strategies and the argument helpers.

Rules of this file: valid values come from a pool of realistic raw inputs
filtered through each field's own ``clean`` (kept only when cleaning is
idempotent, because a snapshot re-cleans stored values); invalid values are
the pool entries the field refuses. ``overrides`` (``values=`` of
:func:`~taskchart.runtime.testing.flow_state_machine`) map a field name, or
``task.field``, to a strategy of your own for fields the pool cannot satisfy.

Theory of operation: the pools are plain tuples, so both the hypothesis
strategies and the walker read them; a strategy given as an override is
sampled once, outside a running test, when only one example is needed
(:func:`_first_example`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from taskchart.statecharts import Field, FieldError, TaskSpec, Tool
from taskchart.statecharts.task import CONFIRM, CORRECT, DECLINE, KEYPAD_KEYS, UPDATE

from ..interpreter import Interpreter

ValueOverrides = Mapping[str, "st.SearchStrategy[Any]"]

#: Keypad keys a caller can press.
KEYPAD = KEYPAD_KEYS

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


def valid_pool(field: Field) -> list[Any]:
    """The pool's raw values ``field`` accepts (and whose cleaned form cleans to itself),
    and the choices its schema lists (a menu's keys)."""
    listed = list(field.schema.get("enum", ())) if field.schema is not None else []
    return [v for v in [*VALUE_POOL, *listed] if _stable(field, v)]


def invalid_pool(field: Field) -> list[Any]:
    """The pool's raw values ``field`` refuses."""
    return [v for v in (*HOSTILE_POOL, *VALUE_POOL) if not _clean(field, v)[0]]


def field_values(field: Field, overrides: ValueOverrides | None = None) -> st.SearchStrategy[Any]:
    """Raw values ``field`` accepts (and whose cleaned form cleans to itself).

    ``overrides`` maps a field name (or ``task.field``) to your own strategy,
    for fields whose validator the pool cannot satisfy.
    """
    if overrides and field.name in overrides:
        return overrides[field.name]
    good = valid_pool(field)
    if good:
        return st.sampled_from(good)
    if field.type is int:
        return st.integers(0, 1000)
    if field.type is float:
        return st.floats(0, 1000, allow_nan=False)
    return st.nothing()


def invalid_values(field: Field) -> st.SearchStrategy[Any]:
    """Raw values ``field`` refuses with a ``FieldError``."""
    bad = invalid_pool(field)
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


def _confirming(flow: Interpreter) -> bool:
    return flow.configuration[-1].endswith("__confirming")


def repeated_arguments(flow: Interpreter, spec: TaskSpec, tool: Tool) -> dict[str, Any]:
    """A confirmation by repetition that repeats what the flow stored (the user got it right)."""
    have = flow.model.values.get(spec.id, {})
    return {arg: have[f] for arg, f in tool.arguments.items() if f in have}


def _progress_weight(tool: Tool) -> int:
    # progress often, correct sometimes, decline (which ends the flow) rarely
    return {UPDATE: 6, CONFIRM: 6, CORRECT: 1, DECLINE: 1}.get(tool.event or "", 2)


_NONE = object()
_EXAMPLES: dict[int, Any] = {}


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
