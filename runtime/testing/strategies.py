"""Hypothesis strategies of events: what can happen at a flow's position, or anywhere.

Rules of this file: a strategy of a flow's position reads the flow once, when
it is built (build it again after the flow moved); a strategy of a chart
(:func:`tool_calls`) ignores where a flow is. They are there to write your
own rules beside the generated ones, and they make the very events the
generated machine sends: each draws an integer, and a value for each field
you gave a strategy of your own, and the walker (:mod:`.walker`) turns them
into the event.

Theory of operation: one walker per chart and ``values`` mapping (kept for
the last few used); a strategy is ``st.tuples(CHOICE, drawn).map(...)`` of
one of its methods, so hypothesis shrinks the integer, and the drawn values,
towards the walker's first choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st
from taskchart.statecharts import Chart, TaskSpec, Tool

from ..events import Event
from ..interpreter import Interpreter
from .values import ValueOverrides, _overrides_for
from .walker import CHOICE, Drawn, _Walker, tool_arguments, value_lists

_WALKERS: dict[tuple[Chart, int], tuple[ValueOverrides | None, _Walker]] = {}


def walker_for(chart: Chart, overrides: ValueOverrides | None = None) -> _Walker:
    """The walker of ``chart`` with these value strategies (built once, kept for reuse)."""
    key = (chart, id(overrides))
    kept = _WALKERS.get(key)
    if kept is None or kept[0] is not overrides:
        if len(_WALKERS) >= 32:
            _WALKERS.clear()
        kept = _WALKERS[key] = (overrides, _Walker(chart, overrides))
    return kept[1]


def drawn_values(
    specs: Iterable[TaskSpec], overrides: ValueOverrides | None
) -> st.SearchStrategy[Drawn]:
    """One value from each strategy of your own that a field of ``specs`` has."""
    fields = {
        (spec.id, name): strategy
        for spec in specs
        for name, strategy in _overrides_for(spec, overrides).items()
        if name in spec.field_map
    }
    return st.fixed_dictionaries(fields) if fields else st.just({})


def _walked(
    make: Callable[[int, Drawn], Any], specs: Iterable[TaskSpec], overrides: ValueOverrides | None
) -> st.SearchStrategy[Any]:
    return st.tuples(CHOICE, drawn_values(specs, overrides)).map(lambda rd: make(*rd))


def arguments_for(
    spec: TaskSpec, tool: Tool, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed arguments for ``tool`` of ``spec``: valid field values, a short reason."""
    good, _ = value_lists([spec], overrides)
    return _walked(lambda r, drawn: tool_arguments(good, spec, tool, r, drawn), [spec], overrides)


def enabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A call of a tool the flow offers now, with valid arguments (what a good model sends)."""
    task = flow.active_task
    if task is None or not flow.tools:
        return st.nothing()
    walker = walker_for(flow.chart, overrides)
    spec = flow.chart.task_map[task]
    return _walked(lambda r, drawn: walker.call(flow, r, drawn, valid=True), [spec], overrides)


def disabled_calls(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[Event]:
    """A well-formed call of a tool of the chart that the flow does not offer now."""
    walker = walker_for(flow.chart, overrides)
    offered = set(flow.tools)
    if all(tool.name in offered for _, tool in walker.all_tools):
        return st.nothing()

    def call(r: int, drawn: Drawn) -> Event:
        event = walker.disabled_call(flow, r, drawn)
        assert event is not None
        return event

    return _walked(call, flow.chart.tasks, overrides)


def invalid_calls(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A call the flow must refuse: bad values, unknown arguments, junk, unknown tools."""
    walker = walker_for(flow.chart)
    junk = CHOICE.map(walker.junk_call)
    if flow.active_task is None or not flow.tools:
        return junk
    return CHOICE.map(lambda r: walker.bad_call(flow, r)) | junk


def timer_firings(flow: Interpreter) -> st.SearchStrategy[Event]:
    """A timer the flow has running fires."""
    if not flow.timers:
        return st.nothing()
    walker = walker_for(flow.chart)
    return CHOICE.map(lambda r: walker.timer(flow, r))


def batches(
    flow: Interpreter, overrides: ValueOverrides | None = None
) -> st.SearchStrategy[list[Event]]:
    """The tool calls of one model turn: two calls, often the same call twice."""
    task = flow.active_task
    if task is None or not flow.tools:
        return st.nothing()
    walker = walker_for(flow.chart, overrides)
    spec = flow.chart.task_map[task]
    return _walked(lambda r, drawn: walker.batch(flow, r, drawn), [spec], overrides)


def tool_calls(chart: Chart, overrides: ValueOverrides | None = None) -> st.SearchStrategy[Event]:
    """Any event, independent of where a flow is: tool calls of any task, speech, noise."""
    walker = walker_for(chart, overrides)
    return _walked(walker.anything, chart.tasks, overrides)
