"""What the runtime answers for each event: accepted with effects, or rejected.

A rejection changes nothing; its ``message`` is written for the model (it
becomes the tool's error output).
"""

from __future__ import annotations

from typing import ClassVar, Literal, TypeAlias

import attrs

from .effects import Effect

__all__ = ["Accepted", "Outcome", "RejectCode", "Rejected", "Step"]

RejectCode: TypeAlias = Literal[
    "unknown_tool",
    "not_enabled",
    "invalid_argument",
    "guard_failed",
    "finished",
    "unexpected",
    "superseded",
    "error",
]
"""Why an event was refused (``Rejected.code``)."""


@attrs.frozen
class Step:
    """One transition taken: the event, configurations before and after, guards checked."""

    event: str
    source: tuple[str, ...]
    target: tuple[str, ...]
    guards: tuple[tuple[str, bool], ...] = ()


@attrs.frozen
class Accepted:
    """The event was processed. ``message`` is the tool output for the model."""

    effects: tuple[Effect, ...] = ()
    message: str = ""
    step: Step | None = None

    ok: ClassVar[Literal[True]] = True


@attrs.frozen
class Rejected:
    """The event was refused and nothing changed.

    ``code`` is one of ``unknown_tool``, ``not_enabled``, ``invalid_argument``,
    ``guard_failed``, ``finished``, ``unexpected``, ``superseded`` (another
    call of the same turn took its place: see :mod:`taskchart.runtime.turns`)
    or ``error``. ``event`` names what was refused, the same way for every
    refusal: a tool call's tool name, else the event's type (``UserSpoke``,
    ``DtmfReceived``, ``TimerFired``, ``SessionClosed``, ...).
    """

    code: RejectCode
    message: str
    event: str = ""

    ok: ClassVar[Literal[False]] = False


Outcome = Accepted | Rejected
