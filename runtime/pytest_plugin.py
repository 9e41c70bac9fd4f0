"""pytest plugin for property-testing flows (registered as the ``taskchart`` plugin).

Marker: ``@pytest.mark.taskchart_flow(max_examples=50, step_count=30, ...)`` sets
the budget of the fixtures below for one test (keyword arguments are passed
to :func:`~taskchart.runtime.testing.explore`). ``--taskchart-examples N`` on
the command line overrides every budget (a nightly run: a large N), that of
every ``flow_state_machine(chart).TestCase`` included: it sets
``TASKCHART_EXAMPLES`` before the test files are collected.

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

Journals: with the environment variable ``TASKCHART_JOURNALS=DIR`` every flow
the test session creates is recorded, and at the end the journals are written
to ``DIR/<chart digest>.jsonl``, one file per chart; ``taskchart coverage DIR
--chart TARGET`` then reports how much of that chart the test suite covered.
The files are created with mode 0600 and hold no personal value (see
:mod:`taskchart.runtime.private`); ``TASKCHART_JOURNALS_RAW=1`` keeps the
values, for local debugging (card data only in sealed journals). With
``TASKCHART_KEYS`` (Fernet keys, the first one sealing) every line is sealed;
``taskchart replay`` and ``coverage`` open them with the same keys.

This module imports hypothesis only inside the fixtures, so it loads in any
project that installs taskchart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

_FLOWS: pytest.StashKey[list[Any]] = pytest.StashKey()

__all__ = ["explore_flow", "flow_machine", "write_journals"]

MARKER = "taskchart_flow"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--taskchart-examples",
        type=int,
        default=None,
        help="examples for every taskchart_flow exploration (overrides markers)",
    )


JOURNALS_ENV = "TASKCHART_JOURNALS"
RAW_ENV = "TASKCHART_JOURNALS_RAW"


EXAMPLES_ENV = "TASKCHART_EXAMPLES"  # read by taskchart.runtime.testing.flow_state_machine


def pytest_configure(config: pytest.Config) -> None:
    forced = config.getoption("--taskchart-examples", default=None)
    if forced is not None:
        if forced < 1:
            raise pytest.UsageError("--taskchart-examples must be a positive number")
        os.environ[EXAMPLES_ENV] = str(forced)  # TestCase classes are built at collection
    if os.environ.get(JOURNALS_ENV):
        from .interpreter import record_every_flow

        config.stash[_FLOWS] = record_every_flow()
    config.addinivalue_line(
        "markers",
        f"{MARKER}(max_examples=..., step_count=..., **options): budget and options of the "
        "explore_flow / flow_machine fixtures for this test",
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    flows = session.config.stash.get(_FLOWS, None)
    if flows is None:
        return
    from .interpreter import record_every_flow

    record_every_flow(False, flows=flows)
    from .sealing import keys_from_env

    raw = os.environ.get(RAW_ENV, "") not in ("", "0")
    write_journals(flows, Path(os.environ[JOURNALS_ENV]), raw_values=raw, keys=keys_from_env())


def write_journals(
    flows: list[Any], out: Path, *, raw_values: bool = False, keys: Iterable[str | bytes] = ()
) -> None:
    """Write each recorded flow's journal to ``out/<chart digest>.jsonl`` (mode 0600),
    every line sealed with ``keys`` when there are any (:mod:`taskchart.runtime.sealing`)."""
    from .private import private_open
    from .replay import journal_lines, json_line
    from .sealing import Sealer

    keys = tuple(keys)
    seal = Sealer(keys).seal if keys else None
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    try:
        for flow in flows:
            if not flow.journal:
                continue
            digest = flow.chart.digest
            fh = files.get(digest)
            if fh is None:
                fh = files[digest] = private_open(out / f"{digest}.jsonl")
            for _, entry in journal_lines(flow, raw_values=raw_values, sealed=bool(keys)):
                line = json_line(entry)
                fh.write((seal(line) if seal is not None else line) + "\n")
    finally:
        for fh in files.values():
            fh.close()


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
