"""The chart a check test names by its ``module:attribute`` target."""

from __future__ import annotations

import pytest
from taskchart.adapters.console.targets import load_chart
from taskchart.statecharts import Chart


@pytest.fixture
def loaded(request: pytest.FixtureRequest) -> Chart:
    """The chart at the target the test is parametrized with (``indirect=True``)."""
    chart: Chart = load_chart(request.param)
    return chart
