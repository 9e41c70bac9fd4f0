"""A finished flow's machine serves the next flow of the chart exactly like a new one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.testing import drive_to_end, tool_calls
from taskchart.statecharts import Chart, compile_chart
from taskchart.statecharts.prebuilt.gallery import GALLERY

CHARTS: dict[str, Chart] = {
    "interview": interview_chart(),
    **{name: compile_chart(factory()) for name, factory in GALLERY.items()},
}
VALUES: dict[str, Any] = {"email_address": st.just("ada@example.com")}


def run(flow: Interpreter, events: list[Any]) -> list[Any]:
    flow.start()
    seen = []
    for event in events:
        outcome = flow.handle(event)
        seen.append((outcome.ok, getattr(outcome, "code", None), flow.configuration))
    return [*seen, flow.results, flow.timers]


@pytest.mark.parametrize("name", CHARTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_recycled_machine_behaves_like_a_new_one(name: str, data: st.DataObject) -> None:
    chart = CHARTS[name]
    events = data.draw(st.lists(tool_calls(chart), max_size=15))
    finished = Interpreter(chart)
    finished.start()
    drive_to_end(finished, overrides=VALUES)
    recycled = Interpreter(chart)  # takes the machine the finished flow gave back
    chart._pool.clear()
    fresh = Interpreter(chart)
    assert run(recycled, events) == run(fresh, events)


def test_a_finished_flow_still_answers_after_giving_its_machine_back() -> None:
    chart = CHARTS["get_email_task"]
    flow = Interpreter(chart)
    flow.start()
    assert flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"})).ok
    assert flow.done and chart._pool  # the machine went back to the chart
    nxt = Interpreter(chart)
    nxt.start()
    assert flow.configuration == ("flow_done",)
    assert flow.handle(ToolCalled("update_email_address", {"email": "b@example.com"})).code == (
        "finished"
    )
    assert nxt.configuration == ("email", "email__collecting")
