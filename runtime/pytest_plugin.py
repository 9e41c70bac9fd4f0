"""pytest plugin for property-testing flows (registered as the ``taskchart`` plugin).

Marker: ``@pytest.mark.taskchart_flow(max_examples=50, step_count=30, ...)`` sets
the budget of the fixtures below for one test (keyword arguments are passed
to :func:`~taskchart.runtime.testing.explore`). ``--taskchart-examples N`` on
the command line overrides every budget (a nightly run: a large N).

Fixtures:

- ``explore_flow``: ``explore_flow(chart_or_factory, **options) -> Exploration``
  runs generated event sequences with every built-in invariant and returns
  coverage and speed; it raises the first invariant that fails.
- ``flow_machine``: ``flow_machine(chart_or_factory, **options)`` is
  :func:`~taskchart.runtime.testing.flow_state_machine` with the marker's budget.

>>> # in a test file
>>> # @pytest.mark.taskchart_flow(max_examples=200)
>>> # def test_checkout_flow(explore_flow):
>>> #     assert not explore_flow(checkout_chart).unvisited

This module imports hypothesis only inside the fixtures, so it loads in any
project that installs taskchart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["explore_flow", "flow_machine"]

MARKER = "taskchart_flow"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--taskchart-examples",
        type=int,
        default=None,
        help="examples for every taskchart_flow exploration (overrides markers)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(max_examples=..., step_count=..., **options): budget and options of the "
        "explore_flow / flow_machine fixtures for this test",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        options.update(marker.kwargs)
    forced = request.config.getoption("--taskchart-examples", default=None)
    if forced:
        options["max_examples"] = forced
    return options


@pytest.fixture
def explore_flow(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Explore a chart with generated event sequences (see the module docs)."""
    from .testing import explore

    defaults = _options(request)

    def run(chart: Any, **options: Any) -> Any:
        return explore(chart, **{**defaults, **options})

    return run


@pytest.fixture
def flow_machine(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Build a generated ``RuleBasedStateMachine`` class with the marker's budget."""
    from .testing import flow_state_machine

    defaults = _options(request)
    for key in ("derandomize", "rules"):
        defaults.pop(key, None)

    def build(chart: Any, **options: Any) -> Any:
        return flow_state_machine(chart, **{**defaults, **options})

    return build
