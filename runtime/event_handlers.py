"""Events to transitions: what the interpreter does with each kind of event.

Rules of this file: :func:`handle_event` is the interpreter's dispatch, one
branch per kind of event, and it keeps the interpreter's contract: it either
takes the event through the chart (through ``flow._send``, which checks the
guards and rolls back a transition that raises) or refuses it with a
:class:`Rejected` saying why, the flow left as it was. Nothing here
performs I/O.

Theory of operation: a caller's turn (:class:`UserSpoke`) and a change of
modality are taken even by a finished flow: they only count turns and set
the modality. Every other kind needs a running flow, and becomes one chart
event: a tool call its resolved tool event, a timer ``timeout`` (or
``keys_timeout`` for a keypad's inter-key timer), a tone ``dtmf``, a
hand-written task's return or exception ``complete`` / ``fail``, the
caller's ``away`` state ``timeout`` and an unmatched turn ``no_match`` (only
where the step declares that handling), a closed session ``fail``. Speech
starts and stops the step's no-input timer without a transition, and
:class:`Resumed` reads the collected values back into instructions.

>>> from taskchart.statecharts import Field, compile_chart, declarative_task
>>> from taskchart.runtime import Interpreter
>>> flow = Interpreter(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> _ = flow.start()
>>> handle_event(flow, events.DtmfReceived("1")).message
'No keypad input is expected now; the tone was ignored.'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskchart.statecharts import SessionClosed as SessionClosedError
from taskchart.statecharts.fields import shown
from taskchart.statecharts.task import (
    COMPLETE,
    FAIL,
    KEYPAD_KEYS,
    KEYS_TIMEOUT,
    NO_MATCH,
    TIMEOUT,
)

from . import events, messages
from .effects import CancelTimer, Effect, Instruct, StartTimer
from .outcome import Accepted, Outcome, Rejected
from .tool_calls import free_text, resolve_tool

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["handle_event"]


def handle_event(flow: Interpreter, event: events.Event) -> Outcome:
    """Take ``event`` through ``flow``'s chart, or refuse it (the interpreter's dispatch)."""
    if isinstance(event, events.UserSpoke):
        return _user_spoke(flow, event)
    if isinstance(event, events.ModalitySet):
        if event.modality not in events.MODALITIES:
            return Rejected("invalid_argument", "modality must be 'text' or 'audio'")
        flow.model.modality = event.modality
        return Accepted()
    if flow.done:
        return Rejected("finished", "This flow has already finished; nothing more to do.")
    if isinstance(event, events.ToolCalled):
        if not isinstance(event.name, str):
            return flow._rejected(
                event,
                Rejected(
                    "unknown_tool",
                    f"Tool names are text, got {shown(event.name, 60)}. "
                    f"Tools now: {', '.join(flow.tools) or 'none'}.",
                ),
            )
        config = flow.machine.configuration_values
        view = flow.chart.view(config)
        resolved = resolve_tool(flow, event, view)
        if isinstance(resolved, Rejected):
            return flow._rejected(event, resolved)
        name, kwargs = resolved
        if name is None:
            return Accepted()
        return flow._send(event, name, kwargs, config, view)
    if isinstance(event, events.TimerFired):
        if not isinstance(event.timer_id, str) or event.timer_id not in flow.timers:
            return flow._rejected(
                event,
                Rejected("unexpected", f"timer {shown(event.timer_id, 60)} is not running", ""),
            )
        name = KEYS_TIMEOUT if event.timer_id.endswith(".keys") else TIMEOUT
        return flow._send(event, name, {})
    if isinstance(event, events.DtmfReceived):
        if not isinstance(event.digit, str) or event.digit not in KEYPAD_KEYS:
            return flow._rejected(
                event,
                Rejected(
                    "invalid_argument",
                    f"A keypad tone is one of 0-9, *, # and A-D, got {shown(event.digit, 20)}.",
                ),
            )
        if "dtmf" not in flow.chart.events_from(flow.machine.configuration_values):
            return flow._rejected(
                event,
                Rejected("unexpected", "No keypad input is expected now; the tone was ignored."),
            )
        return flow._send(event, "dtmf", {"digit": event.digit})
    if isinstance(event, events.TaskReturned | events.TaskRaised):
        task = flow.active_task
        assert task is not None
        if flow.chart.task_map[task].kind != "implicit":
            return flow._rejected(
                event,
                Rejected(
                    "unexpected",
                    f"task {task!r} completes through its fields, not by returning a value",
                ),
            )
        if isinstance(event, events.TaskReturned):
            return flow._send(event, COMPLETE, {"result": event.result})
        return flow._send(event, FAIL, {"error": event.error})
    if isinstance(event, events.AgentSpeaking | events.UserSpeaking):
        return _speech(flow, event)
    if isinstance(event, events.UserAway | events.NoMatch):
        name = TIMEOUT if isinstance(event, events.UserAway) else NO_MATCH
        if name not in flow.chart.events_from(flow.machine.configuration_values):
            what = "no input" if name == TIMEOUT else "no match"
            return flow._rejected(
                event, Rejected("unexpected", f"The step now declares no {what} handling.")
            )
        return flow._send(event, name, {})
    if isinstance(event, events.Resumed):
        return _resumed(flow)
    if isinstance(event, events.SessionClosed):
        task = flow.active_task
        assert task is not None
        reason = free_text(event.reason) or "session closed"
        return flow._send(event, FAIL, {"error": SessionClosedError(task, reason)})
    return Rejected("unexpected", f"unknown event {event!r}")  # pragma: no cover


def _resumed(flow: Interpreter) -> Outcome:
    task = flow.active_task
    assert task is not None
    confirming = flow.configuration[-1].endswith("__confirming")
    if confirming:  # the value is read back again: it needs a fresh answer
        flow.model.readback_turn[task] = flow.model.user_turn
    spec = flow.chart.task_map[task]
    text = messages.resume(spec, flow.model.values[task], confirming=confirming)
    return Accepted((Instruct(text, task),), text)


def _speech(flow: Interpreter, event: events.AgentSpeaking | events.UserSpeaking) -> Outcome:
    """The step's no-input timer starts when the call falls quiet
    (``AgentSpeaking(False)``: the adapter sends it once neither party holds the
    floor) and stops while anyone speaks (no timer: nothing to do); its
    deadline moves with it, as an armed timer's does."""
    task = flow.active_task
    spec = flow.chart.task_map[task] if task else None
    handler = spec.no_input if spec is not None else None
    enabled = flow.chart.events_from(flow.machine.configuration_values)
    if handler is None or handler.timeout is None or TIMEOUT not in enabled:
        return Accepted()
    timer = f"{task}.no_input"
    if isinstance(event, events.AgentSpeaking) and not event.speaking:
        flow.timers[timer] = handler.timeout
        flow.deadlines[timer] = flow.now() + handler.timeout
        return Accepted((StartTimer(timer, handler.timeout),))
    flow.deadlines.pop(timer, None)
    if flow.timers.pop(timer, None) is None:
        return Accepted()
    return Accepted((CancelTimer(timer),))


def _user_spoke(flow: Interpreter, event: events.UserSpoke) -> Outcome:
    if event.modality not in events.MODALITIES:
        return Rejected("invalid_argument", "modality must be 'text' or 'audio'")
    flow.model.user_turn += 1
    flow.model.modality = event.modality
    effects: list[Effect] = [StartTimer(tid, s) for tid, s in flow.timers.items()]
    if effects:
        now = flow.now()
        flow.deadlines = {tid: now + s for tid, s in flow.timers.items()}
    return Accepted(tuple(effects))
