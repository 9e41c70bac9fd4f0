"""Every word the model reads from the runtime: instructions, read-backs, answers, hints.

Rules of this file: text only, built from a task's spec, its collected values
and counts; no chart state is read or changed here. The interpreter, the
one-turn rules and the LiveKit adapter all take their words from here, so a
prompt is changed in one place. Refusals of bad input that name a field's
rule come from the field's own validator (:mod:`taskchart.statecharts.fields`).

>>> from taskchart.statecharts import Field, declarative_task
>>> spec = declarative_task("name", fields=[Field("first"), Field("last")])
>>> recorded(["first"], ["last"])
'Recorded first. Still needed: last.'
>>> resume(spec, {"first": "Ada"}, confirming=False)
'Back to the name. Already collected: first: Ada. Still needed: last.'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from taskchart.statecharts import TaskSpec
from taskchart.statecharts.fields import CARD_FIELDS

__all__ = [
    "CARD_FIELDS",
    "DECLINED_LATER",
    "DETAILS_DROPPED",
    "GIVEN_LATER",
    "GOING_BACK",
    "GUARD_HINTS",
    "ask",
    "call_resumed",
    "keys_short",
    "read_back",
    "recorded",
    "repeat",
    "reprompt",
    "resume",
    "task_complete",
    "task_ended",
]

#: Why a guard refused a call, said so the model can act on it ({label}: the task's subject).
GUARD_HINTS = {
    "value_unchanged_since_readback": (
        "Read the {label} back to the user and wait for their answer before confirming; "
        "a confirmation must answer the value the user last heard."
    ),
    "regression_targets_visited": "You can only go back to a task the user has already done.",
    "heard_in_conversation": (
        "Read the {label} back to the user and wait for their answer before confirming "
        "them; a confirmation must answer what the user heard."
    ),
    "repetition_matches": (
        "The repeated {label} does not match the one given before; ask the user to try again."
    ),
}

# -- a call resumed by another worker (taskchart.runtime.durable) ----------------------
DETAILS_DROPPED = (
    "The call was interrupted and has resumed. The card details the caller gave before were "
    "not kept (card data is never stored without an encryption key): say so briefly and ask "
    "for them again."
)


def call_resumed(done: Iterable[str], now: str | None) -> str:
    """What the model is told when a stored call resumes: what is done, what comes now."""
    finished = ", ".join(done)
    text = "The call was interrupted and has resumed where it stood."
    if finished:
        text += f" Already done: {finished}."
    if now:
        text += f" Now: {now}; do not ask again for what is already done."
    return text


# -- the one-turn rules (taskchart.runtime.turns) ------------------------------------
GOING_BACK = (
    "Not processed: in this turn you also went back to an earlier task. This task "
    "resumes afterwards with what it had; make this call again then if it still applies."
)
DECLINED_LATER = (
    "Not processed: a later call in this turn declines the {label}, and the caller's "
    "last word stands."
)
GIVEN_LATER = (
    "Not processed: a later call in this turn gives the {label}, and the caller's last word stands."
)


def ask(spec: TaskSpec, *, resumed: bool) -> str:
    """The instructions a task starts (or resumes) with."""
    text = spec.instructions or f"Ask the user for their {spec.label}."
    if resumed:
        return f"Resume collecting the {spec.label} where you left off. {text}"
    return text


def read_back(spec: TaskSpec, values: Mapping[str, Any], count: int) -> str:
    """The read-back instruction; every one after the first is spelled where the task says how."""
    words = spec.spelled_readback if count > 1 and spec.spelled_readback else spec.readback
    if words is not None:
        return words(values)
    return f"Read the {spec.label} back to the user ({_listed(values)}) and ask them to confirm."


def keys_short(need: int, got: int) -> str:
    return (
        f"Digits input not fully received: expected {need} digits, got {got}. "
        f"Ask the caller to enter all {need} digits again."
    )


def reprompt(spec: TaskSpec, kind: str = "no_input", count: int = 1) -> str:
    """Re-prompt ``count`` after silence (``no_input``) or an unusable answer (``no_match``):
    the handler's prompt for that attempt, said as given, or the default words."""
    handler = spec.handler(kind)
    prompt = handler.prompt(count) if handler is not None else None
    if prompt is not None:
        return f'Say exactly: "{prompt}"'
    if kind == "no_match":
        return f"The user's answer did not give the {spec.label}. Ask again for their {spec.label}."
    return f"The user said nothing. Ask again for their {spec.label}."


def repeat(spec: TaskSpec) -> str:
    """The caller asked to hear the prompt again."""
    return f"The user asked to hear that again. {ask(spec, resumed=False)}"


def task_complete(spec: TaskSpec) -> str:
    return f"The {spec.label} is complete."


def task_ended(task_id: str, error: object) -> str:
    return f"Task {task_id} ended: {error}."


def recorded(names: Iterable[str], missing: Iterable[str]) -> str:
    """The answer to an update that leaves the task open."""
    text = f"Recorded {', '.join(names)}."
    still = ", ".join(missing)
    return f"{text} Still needed: {still}." if still else text


def resume(spec: TaskSpec, values: Mapping[str, Any], *, confirming: bool) -> str:
    """What a task says when the caller comes back to it after correcting an earlier one
    (or when another worker picks the call up).

    A value being confirmed is read back again the task's own way (a card
    step asks the caller to repeat it); card data is never spelled out.

    >>> from taskchart.statecharts import Field, declarative_task
    >>> card = declarative_task("card", fields=[Field("card_number"), Field("security_code")])
    >>> resume(card, {"card_number": "4111 1111 1111 4242"}, confirming=False)
    'Back to the card. Already collected: card_number: card ending 4242. Still needed: security_code.'
    """
    if confirming:
        if spec.readback is not None:
            return f"Back to the {spec.label}. {spec.readback(values)}"
        return (
            f"Back to the {spec.label}. Read it back to the user ({_listed(values, spec)}) "
            "and ask them to confirm."
        )
    missing = [f for f in spec.required_fields if f not in values]
    have = f" Already collected: {_listed(values, spec)}." if values else ""
    return f"Back to the {spec.label}.{have} Still needed: {', '.join(missing)}."


def _listed(values: Mapping[str, Any], spec: TaskSpec | None = None) -> str:
    return ", ".join(f"{k}: {_masked(spec, k, v)}" for k, v in values.items())


def _masked(spec: TaskSpec | None, name: str, value: Any) -> Any:
    """``value`` as the model may read it: card data masked (a card number shows its last
    four digits, as a caller hears it said back), anything else as it is."""
    if spec is None:  # a read-back: the caller confirms the value itself
        return value
    field = spec.field_map.get(name)
    if not (field.card if field is not None else name in CARD_FIELDS):
        return value
    digits = "".join(c for c in str(value) if c.isdigit())
    if len(digits) >= 12:  # a card number: its last four, as a caller hears it said back
        return f"card ending {digits[-4:]}"
    return "given (not repeated here)"
