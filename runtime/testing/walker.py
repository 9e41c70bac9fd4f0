"""The walker: one integer to one event, from what the flow allows now.

Rules of this file: the walker is the one generator of events. It never
draws from hypothesis itself; it reads the flow and an integer, so one
cheap draw per step (or three bytes of a burst) makes an event, and
hypothesis shrinks integers well. The generated machine's rules and walks
call it directly; the public strategies (:mod:`.strategies`) draw the
integer, and the values of fields you gave strategies for (``drawn``), and
hand both to it. Value lists are computed once per chart.

Theory of operation: the integer's low digits choose the kind of event by
weight (progress often, noise sometimes, the end rarely); the rest choose
the tool and the values. A kind the flow cannot take now (a timer when none
runs) falls back to a call or speech. ``valid=True`` asks for what a good
model sends (a confirmation by repetition repeats the stored value).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st
from taskchart.statecharts import Chart, TaskSpec, Tool
from taskchart.statecharts.task import CONFIRM, DECLINE, UPDATE

from ..events import (
    AgentSpeaking,
    DtmfReceived,
    Event,
    NoMatch,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    TimerFired,
    ToolCalled,
    UserAway,
    UserSpeaking,
    UserSpoke,
)
from ..interpreter import Interpreter
from .values import (
    _NONE,
    HUGE_TASK_ID,
    KEYPAD,
    VALUE_POOL,
    ValueOverrides,
    _confirming,
    _first_example,
    _overrides_for,
    _progress_weight,
    invalid_pool,
    repeated_arguments,
    valid_pool,
)

#: Values drawn for fields given a strategy of their own, by (task id, field name).
Drawn = Mapping[tuple[str, str], Any]
#: Tool names a model might invent: internal event names, dunders, empty.
JUNK_TOOLS = ("", "update", "confirm", "regress", "done.state.x", "__init__")
#: What a caller says, or a session's close reason.
TEXTS = ("", "yes", "no", "hm", "caller hung up", *(v for v in VALUE_POOL if isinstance(v, str)))

#: One rule's draw: the walker turns it into an event.
CHOICE = st.integers(0, 2**24 - 1)
#: Events in one ``several_events`` rule, at most (a zero choice ends it early).
BURST = 32


class _Walker:
    """Turn one integer into the next event, from what the flow allows now.

    The integer's low digits choose the kind (weights below), the rest the
    tool and values. Value lists are computed once per chart.
    """

    #: (kind, weight): progress often, noise sometimes, the end rarely.
    KINDS = (
        ("call", 12),
        ("speak", 4),
        ("bad", 1),
        ("disabled", 1),
        ("batch", 1),
        ("timer", 2),
        ("return", 3),
        ("close", 1),
        ("noise", 1),
        ("key", 3),
    )

    def __init__(self, chart: Chart, overrides: ValueOverrides | None) -> None:
        self.chart = chart
        self.good, self.bad = value_lists(chart.tasks, overrides)
        self.kinds = [k for k, w in self.KINDS for _ in range(w)]
        #: (task, offered tools) -> tool names repeated by weight
        self.weighted: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self.all_tools = [(s, t) for s in chart.tasks for t in s.tools if t.event is not None]
        self.every_tool = [(s, t) for s in chart.tasks for t in s.tools]
        self.task_ids = [s.id for s in chart.tasks]
        self.timer_ids = [f"{s.id}.no_input" for s in chart.tasks if s.no_input_timeout is not None]
        self.timer_ids += [f"{s.id}.keys" for s in chart.tasks if s.keypad is not None]

    def pick(self, flow: Interpreter, r: int) -> Event | list[Event]:
        kind = self.kinds[r % len(self.kinds)]
        r //= len(self.kinds)
        task = flow.active_task
        spec = self.chart.task_map[task] if task else None
        if flow.done or spec is None:
            kind = "speak" if kind in ("speak", "call") else "noise"
        if kind == "timer" and spec is not None:  # silences and unmatched turns
            handled = self.caller(spec, r)
            if handled is not None:
                return handled
        if kind == "timer" and not flow.timers:
            kind = "call"
        if kind == "return" and (spec is None or spec.kind != "implicit"):
            kind = "call"
        if kind == "key":
            if spec is not None and spec.keypad is not None:
                return DtmfReceived(KEYPAD[r % len(KEYPAD)])
            kind = "call"
        if kind in ("call", "bad", "batch") and not flow.tools:
            kind = "speak"
        if kind == "call":
            return self.call(flow, r)
        if kind == "batch":
            return self.batch(flow, r)
        if kind == "bad":
            return self.bad_call(flow, r)
        if kind == "disabled":
            return self.disabled_call(flow, r) or UserSpoke("hm", "text")
        if kind == "timer":
            return self.timer(flow, r)
        if kind == "return":
            if r % 10 == 0:
                return TaskRaised(RuntimeError("the task's own code failed"))
            return TaskReturned([None, True, 3, "ok"][r % 4])
        if kind == "close":
            if r % 4 != 0:  # mostly: the flow ends
                return SessionClosed("caller hung up")
            kind = "speak"
        if kind == "speak":
            return UserSpoke("yes", ("text", "audio")[r % 2])
        noise: list[Event] = [
            ToolCalled("no_such_tool", {}),
            ToolCalled("out_of_scope", {"task_ids": ["nope"]}),
            ToolCalled("out_of_scope", {"task_ids": [HUGE_TASK_ID]}),
            TimerFired("bogus"),
            UserSpoke("", "video"),  # type: ignore[arg-type]  # refused: no Modality
            DtmfReceived("12"),  # no keypad sends two keys as one tone
        ]
        if self.all_tools:
            sp, tool = self.all_tools[r % len(self.all_tools)]
            noise.append(ToolCalled(tool.name, self.args(sp, tool, r)))
        return noise[r % len(noise)]

    @staticmethod
    def caller(spec: TaskSpec, r: int) -> Event | None:
        """What a step with handlers hears from the call (None: a timer as before):
        an unmatched turn, the caller away, speech starting or ending."""
        pick = r % 6
        if spec.no_match is not None and pick < 2:
            return NoMatch(("unmatched", "refused")[pick])
        if spec.no_input is not None and pick in (2, 3, 4):
            return (UserAway(), AgentSpeaking(bool(r % 2)), UserSpeaking())[pick - 2]
        return None

    def call(
        self, flow: Interpreter, r: int, drawn: Drawn | None = None, *, valid: bool = False
    ) -> Event:
        """A call of a tool the flow offers now, weighted by what it does."""
        spec = self.chart.task_map[flow.active_task]  # type: ignore[index]
        offered = flow.tools
        names = self.weighted.get((spec.id, offered))
        if names is None:
            names = self.weighted[spec.id, offered] = []
            for name in offered:
                tool = spec.tool(name)
                names += [name] * (_progress_weight(tool) if tool is not None else 1)
        name = names[r % len(names)]
        r //= len(names)
        tool = spec.tool(name)
        if tool is None:  # the regression tool
            targets = flow.regression_targets()
            ids = [targets[r % len(targets)]]
            r //= len(targets)
            if valid and len(targets) > 1 and r % 2:  # two tasks to correct, in some order
                ids.append(targets[(targets.index(ids[0]) + 1 + r // 2) % len(targets)])
                if ids[1] == ids[0]:
                    ids.pop()
            return ToolCalled(name, {"task_ids": ids})
        if tool.event == CONFIRM and tool.arguments and (r % 4 or valid) and _confirming(flow):
            return ToolCalled(name, repeated_arguments(flow, spec, tool))
        if tool.event == CONFIRM and spec.confirm_heard and not _confirming(flow):
            return ToolCalled(name, self.args(spec, tool, r // 2, drawn), heard=bool(r % 2))
        return ToolCalled(name, self.args(spec, tool, r, drawn))

    def batch(self, flow: Interpreter, r: int, drawn: Drawn | None = None) -> list[Event]:
        """Two calls in one model turn: two calls, the same call twice, the two with
        one call id (a retried stream repeats ids), or going back beside an answer."""
        first = self.call(flow, r, drawn)
        targets = flow.regression_targets() if r % 5 == 0 else ()
        if targets:
            back = ToolCalled(flow.regress_tool, {"task_ids": [targets[r // 5 % len(targets)]]})
            return [first, back] if r % 2 else [back, first]
        second = self.call(flow, r // 7, drawn) if r % 2 else first
        if r % 3 == 0 and isinstance(first, ToolCalled) and isinstance(second, ToolCalled):
            return [attrs.evolve(first, call_id="call_0"), attrs.evolve(second, call_id="call_0")]
        return [first, second]

    def disabled_call(self, flow: Interpreter, r: int, drawn: Drawn | None = None) -> Event | None:
        """A well-formed call of a chart tool the flow does not offer now (None: all are)."""
        offered = set(flow.tools)
        pairs = [p for p in self.all_tools if p[1].name not in offered]
        if not pairs:
            return None
        spec, tool = pairs[r % len(pairs)]
        return ToolCalled(tool.name, self.args(spec, tool, r // len(pairs), drawn))

    def args(
        self, spec: TaskSpec, tool: Tool, r: int, drawn: Drawn | None = None
    ) -> dict[str, Any]:
        """Well-formed arguments for ``tool`` (see :func:`tool_arguments`)."""
        return tool_arguments(self.good, spec, tool, r, drawn)

    def bad_call(self, flow: Interpreter, r: int) -> Event:
        """A call the flow must refuse: an unknown argument, a non-object, an invalid value."""
        if flow.active_task is None:
            return self.junk_call(r)
        spec = self.chart.task_map[flow.active_task]
        tools = [spec.tool(n) for n in flow.tools]
        # a hand-written task's own tools take any arguments (LiveKit checks them)
        checked = [n for n, t in zip(flow.tools, tools, strict=True) if t is None or t.event]
        updates = [t for t in tools if t is not None and t.event == UPDATE]
        choice = r % 4
        r //= 4
        if not checked:
            return ToolCalled(f"no_such_tool_{r % 97}", {})
        if choice == 0 or not updates:
            unknown: dict[Any, Any] = {"no_such_argument": "x"}
            if r % 2:  # a key of another type, as no JSON object has but a caller may pass
                unknown[7] = "y"
            return ToolCalled(checked[(r // 2) % len(checked)], unknown)
        tool = updates[r % len(updates)]
        arg, fname = list(tool.arguments.items())[r % len(tool.arguments)]
        bad = self.bad[spec.id, fname]
        if choice == 1 or not bad:
            return ToolCalled(tool.name, "not an object")
        return ToolCalled(tool.name, {arg: bad[r % len(bad)]})

    def junk_call(self, r: int) -> Event:
        """A call of a tool no chart has, with arguments that are not an object."""
        names = [*JUNK_TOOLS, f"no_such_tool_{r % 97}"]
        return ToolCalled(names[r % len(names)], (None, {}, [])[r // len(names) % 3])

    def timer(self, flow: Interpreter, r: int) -> Event:
        """A timer the flow has running fires."""
        timers = sorted(flow.timers)
        return TimerFired(timers[r % len(timers)])

    def anything(self, r: int, drawn: Drawn | None = None) -> Event:
        """Any event, wherever a flow is: a tool call of any task, going back to any
        task (or none, or one with a megabyte id), speech, a timer, a key, a close."""
        kind = r % 7
        r //= 7
        if kind == 0 and self.every_tool:
            spec, tool = self.every_tool[r % len(self.every_tool)]
            return ToolCalled(tool.name, self.args(spec, tool, r // len(self.every_tool), drawn))
        if kind <= 1:
            ids = [*self.task_ids, "nope", HUGE_TASK_ID]
            count = r % 3
            r //= 3
            return ToolCalled(
                "out_of_scope", {"task_ids": [ids[(r >> (8 * i)) % len(ids)] for i in range(count)]}
            )
        if kind == 2:
            return UserSpoke(TEXTS[r % len(TEXTS)], ("text", "audio")[r // len(TEXTS) % 2])
        if kind == 3:
            timers = [*self.timer_ids, "bogus"]
            return TimerFired(timers[r % len(timers)])
        if kind == 4:
            return DtmfReceived(KEYPAD[r % len(KEYPAD)])
        if kind == 5:
            return SessionClosed(TEXTS[r % len(TEXTS)])
        return self.junk_call(r)


def value_lists(
    specs: Iterable[TaskSpec], overrides: ValueOverrides | None
) -> tuple[dict[tuple[str, str], list[Any]], dict[tuple[str, str], list[Any]]]:
    """Valid and invalid raw values of each field of ``specs``, by (task id, field name).

    A field given a strategy of its own has that strategy's first example.
    """
    good: dict[tuple[str, str], list[Any]] = {}
    bad: dict[tuple[str, str], list[Any]] = {}
    for spec in specs:
        own = _overrides_for(spec, overrides)
        for f in spec.fields:
            if f.name in own:
                example = _first_example(own[f.name])
                good[spec.id, f.name] = [] if example is _NONE else [example]
            else:
                good[spec.id, f.name] = valid_pool(f)
            bad[spec.id, f.name] = invalid_pool(f)
    return good, bad


def tool_arguments(
    good: Mapping[tuple[str, str], list[Any]],
    spec: TaskSpec,
    tool: Tool,
    r: int,
    drawn: Drawn | None = None,
) -> dict[str, Any]:
    """Well-formed arguments: valid values of some fields (the required ones always), a
    short reason; a field in ``drawn`` takes the value drawn for it."""
    if tool.event == DECLINE:
        return {a: "I'd rather not say" for a in tool.arguments}
    if tool.event not in (UPDATE, CONFIRM) or not tool.arguments:
        return {}
    pools = good
    if drawn:
        pools = {key: [drawn[key]] if key in drawn else pool for key, pool in good.items()}
    out: dict[str, Any] = {}
    for arg, fname in tool.arguments.items():
        pool = pools[spec.id, fname]
        keep = arg in tool.required or r % 3 != 0
        r //= 3
        if keep and pool:
            out[arg] = pool[r % len(pool)]
            r //= len(pool)
    if not out:  # at least one value
        for arg, fname in tool.arguments.items():
            if pools[spec.id, fname]:
                out[arg] = pools[spec.id, fname][0]
                break
    return out


def _choices(raw: bytes) -> Iterator[int]:
    """Three bytes per choice, up to the first zero choice."""
    for i in range(0, len(raw) - 2, 3):
        choice = int.from_bytes(raw[i : i + 3], "big")
        if not choice:
            return
        yield choice
