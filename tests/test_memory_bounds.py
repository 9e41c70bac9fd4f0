"""A long-lived worker does not grow: every cache the runtime keeps is bounded."""

from __future__ import annotations

import gc
import sys

import pytest
from taskchart.runtime import Interpreter, ToolCalled, interpreter, recording
from taskchart.statecharts import Field, compile_chart, declarative_task, engines, implicit_task
from taskchart.statecharts import chart as chart_module
from taskchart.statecharts.prebuilt import dtmf_spec, name_spec


def _one_call(i: int) -> None:
    """A call whose task spec is built for it (as a ``ChartTask`` of a new spec would)."""
    spec = declarative_task("caller", fields=[Field("name")])
    flow = Interpreter(compile_chart(spec))
    flow.start()
    assert flow.handle(ToolCalled("update_caller", {"name": f"Caller {i}"})).ok
    assert flow.result == {"name": f"Caller {i}"}


def test_compile_chart_keeps_the_most_recently_used_charts() -> None:
    first = [implicit_task(f"step_{i}") for i in range(3)]
    kept = compile_chart(first)
    for i in range(chart_module._CACHE_SIZE + 20):
        compile_chart(implicit_task(f"other_{i}"))
        assert compile_chart(first) is kept  # used all along: never evicted
    assert len(chart_module._CACHE) == chart_module._CACHE_SIZE
    old = implicit_task("old")
    evicted = compile_chart(old)
    for i in range(chart_module._CACHE_SIZE):
        compile_chart(implicit_task(f"newer_{i}"))
    rebuilt = compile_chart(old)
    assert rebuilt is not evicted
    assert rebuilt.digest == evicted.digest


def test_a_worker_building_specs_per_call_stops_growing(monkeypatch: pytest.MonkeyPatch) -> None:
    # a suite recording every flow for its journals (TASKCHART_JOURNALS) keeps them on purpose
    monkeypatch.setattr(recording, "RECORDERS", [])
    monkeypatch.setattr(interpreter, "RECORDERS", recording.RECORDERS)
    monkeypatch.setattr(chart_module, "_CACHE_SIZE", 20)
    monkeypatch.setattr(engines, "_PARAMS_SIZE", 200)
    for i in range(60):  # fills both caches
        _one_call(i)
    gc.collect()
    before = sys.getallocatedblocks()
    for i in range(60, 160):
        _one_call(i)
    gc.collect()
    grown = sys.getallocatedblocks() - before
    # one chart and its callables are thousands of blocks: an unbounded cache keeps one per call
    assert grown / 100 < 50, f"{grown / 100:.0f} blocks kept per call"
    assert len(chart_module._CACHE) <= 20
    assert len(engines._PARAMS) <= 200


def test_prebuilt_specs_cache_a_bounded_number_of_option_sets() -> None:
    for i in range(200):
        dtmf_spec(4, dtmf_input_timeout=1.0 + i / 1000)
        name_spec(name_format=f"{{first_name}} ({i})")
    for builder in (dtmf_spec, name_spec):
        info = builder.cache_info()
        assert info.maxsize == 128 and info.currsize == 128
    assert dtmf_spec(4, dtmf_input_timeout=1.199) is dtmf_spec(4, dtmf_input_timeout=1.199)
