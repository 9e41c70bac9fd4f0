"""A recorded interview flow: intro, email (read back, corrected), regression, commute."""

from __future__ import annotations

from typing import Any

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled, UserSpoke
from taskchart.statecharts import Chart


@pytest.fixture
def chart() -> Chart:
    return interview_chart()


def run_interview(chart: Chart, *, finish: bool = True) -> Interpreter:
    flow = Interpreter(chart, record=True)
    flow.start()
    steps: list[Any] = [
        ToolCalled("record_intro", {"name": "Ada", "intro_notes": "mathematician"}),
        ToolCalled("update_email_address", {"email": "ada@example.com"}),
        UserSpoke("that's wrong"),
        ToolCalled("correct_email_address", {}),
        ToolCalled("update_email_address", {"email": "ada.l@example.com"}),
        UserSpoke("yes"),
        ToolCalled("confirm_email_address", {}),
    ]
    if finish:
        steps += [
            ToolCalled("out_of_scope", {"task_ids": ["intro_task"]}),
            ToolCalled("record_intro", {"name": "Ada L", "intro_notes": "mathematician"}),
            ToolCalled(
                "record_commute_flexibility", {"can_commute": True, "commute_method": "bus"}
            ),
        ]
    for event in steps:
        flow.handle(event)
    return flow
