"""Recording flows: journal entries of each event, and which flows are recorded.

Rules of this file: a journal entry is built from an event and its outcome
and never raises (an event whose values JSON cannot hold is named, not
recorded); personal values stay in memory here, and are redacted when a
journal is written out (:mod:`taskchart.runtime.private`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskchart.statecharts.fields import shown

from .events import DtmfReceived, Event, TaskReturned, ToolCalled, UserSpoke
from .outcome import Accepted, Outcome, Step

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["RECORDERS", "carried", "entry", "event_name", "record_every_flow"]

#: Flows created while :func:`record_every_flow` is on (the pytest plugin's journals).
RECORDERS: list[list[Interpreter]] = []


def record_every_flow(
    on: bool = True, *, flows: list[Interpreter] | None = None
) -> list[Interpreter]:
    """Record every flow created from now on into a new list, returned (``on=False``: stop).

    Recorders nest: stopping one (``flows``, by default the newest) leaves the
    others recording, so a test that records its own flows does not end the
    test session's recording.
    """
    if on:
        new: list[Interpreter] = []
        RECORDERS.append(new)
        return new
    target = flows if flows is not None else (RECORDERS[-1] if RECORDERS else None)
    for i, recorder in enumerate(RECORDERS):
        if recorder is target:
            del RECORDERS[i]
            break
    return target if target is not None else []


def entry(event: Event, outcome: Outcome, ms: float) -> dict[str, Any]:
    """The journal entry of ``event`` handled with ``outcome`` in ``ms`` milliseconds."""
    return {
        "event": _recordable(event),
        "ok": outcome.ok,
        "code": None if outcome.ok else outcome.code,
        "step": _step_json(outcome.step) if isinstance(outcome, Accepted) else None,
        "ms": round(ms, 3),
    }


def _step_json(step: Step | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {
        "event": step.event,
        "source": list(step.source),
        "target": list(step.target),
        "guards": dict(step.guards),
    }


def _recordable(event: Event) -> dict[str, Any]:
    """The event's journal form; its type and a note when even that cannot be built."""
    try:
        return event.to_json()
    except Exception:  # a value whose repr raises, say: the flow goes on, unrecorded
        return {"type": type(event).__name__, "unrecordable": shown(event, 200)}


def event_name(event: Event) -> str:
    """What :attr:`Rejected.event` holds: a tool call's tool name, else the event's type."""
    if isinstance(event, ToolCalled) and isinstance(event.name, str):
        return event.name
    return type(event).__name__


def carried(event: Event) -> Any:
    """The values an event carries from the caller or a task (never shown in logs)."""
    if isinstance(event, ToolCalled):
        return event.arguments
    if isinstance(event, DtmfReceived):
        return event.digit
    if isinstance(event, UserSpoke):
        return event.text
    if isinstance(event, TaskReturned):
        return event.result
    return ()
