"""One model turn: the rules for several tool calls in one response.

A model may answer one user turn with several tool calls. The interpreter
processes them as one batch, each event run to completion, one at a time;
this module decides the order, and which calls are not processed at all.
The rules, in this order:

1. **Going back wins.** A turn that calls the regression tool
   (``out_of_scope``) goes back; every other call of that turn is refused,
   saying so. The interrupted task resumes afterwards with what it had
   collected, and the model can make those calls again then.
2. **The caller's last word wins.** For the active task, a decline and a
   value in one turn: the later of the two is processed and the earlier one
   refused, saying so. Calls of the same update tool are merged in order
   into one call (a field given twice takes its last value), processed
   once, and each of them gets that one outcome.
3. **Confirmations go last.** A confirmation in the same turn as a change
   answers a value the user never heard; processed after the change, its
   guard refuses it.

Every other call keeps its place. A plan is pure data: :func:`plan_turn`
reads the chart and the active task, and changes nothing.

>>> from taskchart.statecharts import Field, compile_chart, declarative_task
>>> from taskchart.runtime import ToolCalled
>>> chart = compile_chart(declarative_task("name", fields=[Field("first"), Field("last")]))
>>> steps, refused = plan_turn(chart, "name", [
...     ToolCalled("update_name", {"first": "Ada"}),
...     ToolCalled("decline_name", {"reason": "private"}),
... ])
>>> [(s.indices, s.event.name) for s in steps], sorted(refused)
([((1,), 'decline_name')], [0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from taskchart.statecharts import Chart, TaskSpec
from taskchart.statecharts.task import CONFIRM, DECLINE, UPDATE

from . import messages
from .events import Event, NoMatch, ToolCalled
from .outcome import Accepted, Outcome, Rejected
from .recording import event_name

if TYPE_CHECKING:
    from .interpreter import Interpreter

__all__ = ["TurnStep", "handle_turn", "plan_turn", "unmatched"]


@attrs.frozen
class TurnStep:
    """Process ``event`` once; its outcome answers every call in ``indices``."""

    indices: tuple[int, ...]
    event: Event


def plan_turn(
    chart: Chart,
    task: str | None,
    events: Sequence[Event],
    *,
    regress_tool: str | None = None,
    goes_back: bool = False,
) -> tuple[list[TurnStep], dict[int, Rejected]]:
    """The steps to process, in order, and the refusals of the calls left out.

    ``task`` is the active task. ``goes_back`` says that the turn goes back
    to an earlier task (a call of ``regress_tool`` that will be accepted, or
    one outside ``events``, in a group that runs each task on its own flow).
    """
    spec = chart.task_map.get(task) if task is not None else None
    kinds = [_kind(spec, event, regress_tool) for event in events]
    refused: dict[int, Rejected] = {}
    if goes_back:
        for i, kind in enumerate(kinds):
            if kind != "regress" and isinstance(events[i], ToolCalled):
                refused[i] = Rejected("superseded", messages.GOING_BACK)
        kinds = [k if i not in refused else "refused" for i, k in enumerate(kinds)]
    else:
        updates = [i for i, k in enumerate(kinds) if k == UPDATE]
        declines = [i for i, k in enumerate(kinds) if k == DECLINE]
        label = spec.label if spec is not None else "value"
        if updates and declines:
            if declines[-1] > updates[-1]:
                for i in updates:
                    refused[i] = Rejected("superseded", messages.DECLINED_LATER.format(label=label))
            else:
                for i in declines:
                    refused[i] = Rejected("superseded", messages.GIVEN_LATER.format(label=label))
    steps: list[TurnStep] = []
    confirms: list[TurnStep] = []
    merged: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        if i in refused:
            continue
        if kinds[i] == UPDATE and isinstance(event, ToolCalled):
            merged.setdefault(event.name, []).append(i)
            continue
        (confirms if kinds[i] == CONFIRM else steps).append(TurnStep((i,), event))
    for indices in merged.values():  # each merged update goes where its last call was
        last = events[indices[-1]]
        assert isinstance(last, ToolCalled)
        arguments: dict[object, object] = {}
        for i in indices:
            call = events[i]
            assert isinstance(call, ToolCalled) and isinstance(call.arguments, Mapping)
            arguments.update(call.arguments)
        event = last if len(indices) == 1 else ToolCalled(last.name, arguments, last.call_id)
        at = sum(1 for s in steps if s.indices[-1] < indices[-1])
        steps.insert(at, TurnStep(tuple(indices), event))
    return steps + confirms, refused


def _kind(spec: TaskSpec | None, event: Event, regress_tool: str | None) -> str:
    """``regress``, the event a tool call of the active task sends, or ``other``."""
    if not isinstance(event, ToolCalled) or not isinstance(event.name, str):
        return "other"
    if event.name == regress_tool:
        return "regress"
    found = spec.tool(event.name) if spec is not None else None
    if found is None:
        return "other"
    if found.event == UPDATE and not isinstance(event.arguments, Mapping):
        return "other"  # a malformed update is processed alone, to be refused with its reason
    return str(found.event)


def handle_turn(
    flow: Interpreter, events: Sequence[Event], *, goes_back: bool = False
) -> list[Outcome]:
    """Process one turn's events in ``flow`` by the rules above; outcomes in event order."""
    if isinstance(events, str | bytes) or not isinstance(events, Sequence):
        raise TypeError(
            "handle_batch takes a list of the events of one turn, got "
            f"{type(events).__name__}; use handle() for one event"
        )
    task = None if flow.done else flow.active_task
    goes_back = goes_back or any(_goes_back(flow, event) for event in events)
    steps, refused = plan_turn(
        flow.chart, task, events, regress_tool=flow.regress_tool, goes_back=goes_back
    )
    outcomes: dict[int, Outcome] = {
        i: attrs.evolve(r, event=event_name(events[i])) for i, r in refused.items()
    }
    for step in steps:
        outcome = flow.handle(step.event)
        for i in step.indices:
            outcomes[i] = outcome
    return [outcomes[i] for i in range(len(events))]


def _goes_back(flow: Interpreter, event: Event) -> bool:
    """Whether ``event`` is a call to go back that ``flow`` would accept now."""
    if not isinstance(event, ToolCalled) or event.name != flow.regress_tool or flow.done:
        return False
    if not flow.chart.group or not isinstance(event.arguments, Mapping):
        return False
    try:
        return flow.check_regression(event.arguments.get("task_ids")) is None
    except Exception:  # its own handling refuses it with the reason
        return False


def unmatched(
    flow: Interpreter, calls: Sequence[Event], outcomes: Sequence[Outcome]
) -> NoMatch | None:
    """The no-match a caller's turn counts as, if any, once the model has answered it.

    ``calls`` are the tool calls of the active step the model made in answer
    (``outcomes`` theirs). In a step that declares no-match handling the turn
    is a no-match when the model called none of them (it answered in text
    only), or when none was accepted and the step refused a value the model
    took from the turn (``invalid_argument``).
    """
    task = None if flow.done else flow.active_task
    spec = flow.chart.task_map.get(task) if task is not None else None
    if spec is None or spec.no_match is None:
        return None
    if not calls:
        return NoMatch("unmatched")
    if any(isinstance(o, Accepted) for o in outcomes):
        return None
    if any(isinstance(o, Rejected) and o.code == "invalid_argument" for o in outcomes):
        return NoMatch("refused")
    return None
