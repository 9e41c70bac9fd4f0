"""Making a machine class of a chart, and running it outside a test runner.

Rules of this file: :func:`flow_state_machine` builds the chart, its graph
and its walker once, per machine class; the settings of the class's
``TestCase`` come from its arguments, the loaded hypothesis profile and
``TASKCHART_EXAMPLES``, in that order of precedence from last to first.

Theory of operation: :func:`walks` is the fast form of a run: one
hypothesis draw of bytes per example, played as a walk of ``step_count``
events (:meth:`FlowMachine.walk`). :func:`explore` runs walks (or the
rule-based machine) with fixed settings and reports what the runs covered.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test
from taskchart.statecharts.graph import LeafGraph
from taskchart.statecharts.table import DISPATCH

from ..checks import as_chart, expected_states
from ..events import Event
from .coverage import Coverage, Exploration
from .invariants import ChartSource, FlowInvariant
from .machine import FlowMachine
from .strategies import tool_calls, walker_for
from .values import ValueOverrides, _first_example
from .walker import _choices


def flow_state_machine(
    chart_factory: ChartSource,
    *,
    invariants: Iterable[FlowInvariant] = (),
    values: ValueOverrides | None = None,
    max_examples: int | None = None,
    step_count: int = 30,
    roundtrip_every: int = 1,
    finish: bool = True,
    noise: bool = True,
) -> type[FlowMachine]:
    """A hypothesis ``RuleBasedStateMachine`` class testing ``chart_factory``'s chart.

    ``invariants`` (or ``@Machine.flow_invariant``) are called with the
    :class:`Interpreter` after every event. ``values`` gives strategies for
    fields the built-in value pool cannot satisfy (``{"task.field": st...}``).
    ``max_examples`` overrides the loaded hypothesis profile for this
    machine's ``TestCase``, and the environment variable
    ``TASKCHART_EXAMPLES=N`` (set by pytest's ``--taskchart-examples N``)
    overrides both. ``noise`` adds a rule sending arbitrary events
    (any task's tools, speech, unknown timers, session close).
    """
    chart = as_chart(chart_factory)
    for strategy in (values or {}).values():  # now, while hypothesis allows example()
        _first_example(strategy)
    attrs_: dict[str, Any] = {
        "chart": chart,
        "overrides": values,
        "user_invariants": list(invariants),
        "coverage": Coverage(),
        "graph": LeafGraph(chart),
        "tool_names": frozenset(tool.name for spec in chart.tasks for tool in spec.tools),
        "own_tools": {},
        "walker": walker_for(chart, values),
        "restored": set(),
        "roundtrip_every": roundtrip_every,
        "finish": finish,
    }
    if noise:
        attrs_["anything"] = rule(event=tool_calls(chart, values))(_anything)
    cls: type[FlowMachine] = type(f"{chart.name}Machine", (FlowMachine,), attrs_)
    default = settings.default
    forced = forced_examples()
    examples = forced if forced is not None else max_examples
    if examples is None:
        examples = default.max_examples if default is not None else 100
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    cls.TestCase.settings = _run_settings(examples, step_count, suppress_health_check=slow)
    return cls


def _run_settings(max_examples: int, step_count: int, **more: Any) -> settings:
    """The settings of a generated test: no deadline (a flow's speed is not under test)."""
    return settings(
        max_examples=max_examples, stateful_step_count=step_count, deadline=None, **more
    )


#: The environment variable that sets every generated TestCase's number of examples.
EXAMPLES_ENV = "TASKCHART_EXAMPLES"


def forced_examples() -> int | None:
    """``TASKCHART_EXAMPLES`` as a positive number of examples, or None when unset."""
    raw = os.environ.get(EXAMPLES_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{EXAMPLES_ENV} must be a positive whole number, got {raw[:20]!r}")
    return value


def _anything(self: FlowMachine, event: Event) -> None:
    """Any event, wherever the flow is (the ``noise`` rule)."""
    self.send(event)


def explore(
    chart_factory: ChartSource | type[FlowMachine],
    *,
    max_examples: int = 100,
    step_count: int = 30,
    derandomize: bool = True,
    rules: bool = False,
    shrink: bool = True,
    **options: Any,
) -> Exploration:
    """Run generated event sequences against the chart; report coverage and speed.

    By default each example is one hypothesis draw of ``step_count``
    integers played through :meth:`FlowMachine.walk` (fast: the interpreter
    and the invariants dominate the cost). ``rules=True`` runs the
    rule-based machine instead (one hypothesis rule per event, slower).
    ``shrink=False`` reports the first failure as found (faster, longer).
    Raises what the machine raises when an invariant fails. ``unvisited``
    lists the states the task specs ask for that no run entered.
    """
    if isinstance(chart_factory, type) and issubclass(chart_factory, FlowMachine):
        machine = chart_factory
    else:
        machine = flow_state_machine(chart_factory, step_count=step_count, **options)
    machine.coverage = Coverage()
    phases = list(Phase) if shrink else [p for p in Phase if p is not Phase.shrink]
    config = _run_settings(
        max_examples,
        step_count,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=phases,
    )
    t0 = time.perf_counter()
    # Objects alive now (modules, charts, hypothesis's own state) are not garbage:
    # keep the collector from re-scanning them on every collection of the run
    # (that tripled the cost of an event inside hypothesis).
    gc.freeze()
    try:
        if rules:
            run_state_machine_as_test(machine, settings=config)  # type: ignore[no-untyped-call, unused-ignore]
        else:
            walks(machine, step_count=step_count, settings=config)()
    finally:
        gc.unfreeze()
    seconds = time.perf_counter() - t0
    cov = machine.coverage
    unvisited = tuple(sorted(expected_states(machine.chart) - cov.states - {DISPATCH}))
    return Exploration(machine.chart, cov, seconds, unvisited)


def walks(
    machine: type[FlowMachine], *, step_count: int = 30, settings: settings | None = None
) -> Callable[[], None]:
    """A hypothesis test (call it) playing choice lists through ``machine.walk``."""

    # One draw of bytes, three per choice: hypothesis's cost per example does not
    # grow with the walk's length, as it does with a list of integers. A walk
    # is step_count events long unless a zero choice ends it: the shrinker
    # shortens a failing walk by zeroing its tail.
    @given(st.binary(min_size=3 * step_count, max_size=3 * step_count))
    def walk(raw: bytes) -> None:
        m = machine()
        m.walk(_choices(raw))
        m.teardown()

    return settings(walk) if settings is not None else walk
