"""Hypothesis strategies of events: what can happen at a flow's position, or anywhere.

Rules of this file: a strategy of a flow's position reads the flow once, when
it is built (build it again after the flow moved); a strategy of a chart
(:func:`tool_calls`) ignores where a flow is. They are there to write your
own rules beside the generated ones.

Theory of operation: the calls are built from the task specs' tools and the
value strategies of :mod:`.values`; a tool offered now is weighted by what
it does (progress often, decline rarely).
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st
from taskchart.statecharts import Chart
from taskchart.statecharts.table import REGRESS
from taskchart.statecharts.task import CONFIRM, UPDATE

from ..events import DtmfReceived, Event, SessionClosed, TimerFired, ToolCalled, UserSpoke
from ..interpreter import Interpreter
from .values import (
    HUGE_TASK_ID,
    KEYPAD,
    ValueOverrides,
    _confirming,
    _progress_weight,
    arguments_for,
    invalid_values,
    repeated_arguments,
)


def _huge_task_id() -> str:
    return HUGE_TASK_ID


def enabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A call of a tool the flow offers now, with valid arguments (what a good model sends)."""
    task = flow.active_task
    if task is None or not flow.tools:
        return st.nothing()
    spec = flow.chart.task_map[task]
    names: list[str] = []
    for name in flow.tools:
        tool = spec.tool(name)
        names += [name] * (_progress_weight(tool) if tool is not None else 1)
    targets = flow.regression_targets()

    def call(name: str) -> st.SearchStrategy[Event]:
        tool = spec.tool(name)
        if tool is None:  # the regression tool
            ids = st.lists(st.sampled_from(targets), min_size=1, max_size=2, unique=True)
            return ids.map(lambda ids: ToolCalled(name, {"task_ids": ids}))
        if tool.event == CONFIRM and tool.arguments and _confirming(flow):
            return st.just(ToolCalled(name, repeated_arguments(flow, spec, tool)))
        if tool.event == CONFIRM and spec.confirm_heard:  # a one-call confirmation
            return st.tuples(arguments_for(spec, tool, overrides), st.booleans()).map(
                lambda ah: ToolCalled(name, ah[0], heard=ah[1])
            )
        return arguments_for(spec, tool, overrides).map(lambda a: ToolCalled(name, a))

    return st.sampled_from(names).flatmap(call)


def disabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A well-formed call of a tool of the chart that the flow does not offer now."""
    offered = set(flow.tools)
    pairs = [
        (spec, tool)
        for spec in flow.chart.tasks
        for tool in spec.tools
        if tool.name not in offered and tool.event is not None
    ]
    if not pairs:
        return st.nothing()
    return st.sampled_from(pairs).flatmap(
        lambda p: arguments_for(p[0], p[1], overrides).map(lambda a: ToolCalled(p[1].name, a))
    )


def invalid_calls(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A call the flow must refuse: bad values, unknown arguments, junk, unknown tools."""
    chart = flow.chart
    task = flow.active_task
    junk = st.builds(
        ToolCalled,
        st.sampled_from(["", "update", "confirm", REGRESS, "done.state.x", "__init__"])
        | st.text(max_size=12).map(lambda s: f"no_such_tool_{s}"),
        st.none() | st.just({}) | st.just([]),
    )
    if task is None:
        return junk
    spec = chart.task_map[task]
    branches: list[st.SearchStrategy[Event]] = [junk]
    for tool in spec.tools:
        if tool.name not in flow.tools or tool.event is None:
            continue
        branches.append(st.sampled_from(["Ada", 5, [1]]).map(functools.partial(_call, tool.name)))
        branches.append(st.just(ToolCalled(tool.name, {"no_such_argument": "x"})))
        if tool.event == UPDATE:
            for arg, fname in tool.arguments.items():
                bad = invalid_values(spec.field_map[fname])
                branches.append(bad.map(functools.partial(_call_with, tool.name, arg)))
    return st.one_of(branches)


def _call(name: str, arguments: Any) -> Event:
    return ToolCalled(name, arguments)


def _call_with(name: str, arg: str, value: Any) -> Event:
    return ToolCalled(name, {arg: value})


def timer_firings(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A timer the flow has running fires."""
    if not flow.timers:
        return st.nothing()
    return st.sampled_from(sorted(flow.timers)).map(TimerFired)


def batches(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[list[Event]]:
    """The tool calls of one model turn: two or three, often the same call twice."""
    one = enabled_calls(flow, overrides)
    if flow.active_task is None:
        return st.nothing()
    dup = one.map(lambda e: [e, e])
    mixed = st.lists(one | invalid_calls(flow), min_size=2, max_size=3)
    return dup | mixed


def tool_calls(chart: Chart, overrides: ValueOverrides | None = None) -> st.SearchStrategy[Event]:
    """Any event, independent of where a flow is: tool calls of any task, speech, noise."""
    pairs = [(spec, tool) for spec in chart.tasks for tool in spec.tools]
    call: st.SearchStrategy[Event] = (
        st.sampled_from(pairs).flatmap(
            lambda p: arguments_for(p[0], p[1], overrides).map(lambda a: ToolCalled(p[1].name, a))
        )
        if pairs
        else st.nothing()
    )
    ids = [t.id for t in chart.tasks]
    some_id = st.sampled_from([*ids, "nope"]) | st.builds(_huge_task_id)  # a short repr
    regress = st.lists(some_id, max_size=2).map(
        lambda ids: ToolCalled("out_of_scope", {"task_ids": ids})
    )
    speech = st.builds(UserSpoke, st.text(max_size=10), st.sampled_from(["text", "audio"]))
    timers = [f"{t.id}.no_input" for t in chart.tasks if t.no_input_timeout is not None]
    timers += [f"{t.id}.keys" for t in chart.tasks if t.keypad is not None]
    timer = st.sampled_from([*timers, "bogus"]).map(TimerFired)
    keys = st.sampled_from(KEYPAD).map(DtmfReceived)
    closed = st.builds(SessionClosed, st.text(max_size=8))
    return st.one_of(call, regress, speech, timer, keys, closed)
