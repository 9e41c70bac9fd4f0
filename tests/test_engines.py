"""The table engine and python-statemachine run every chart alike, event by event.

The runtime's default engine (:class:`TableMachine`) executes the chart's
transition table directly; ``engine="statemachine"`` runs the same table on
python-statemachine. Generated walks (the explorer's event picker: enabled
tools with valid and invalid values, batches, timers, tones, regressions,
returns, session close) are played into both, and everything observable must
match after every event: outcome, effects, configuration, history, data,
snapshot.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.events import Event
from taskchart.runtime.outcome import Outcome
from taskchart.runtime.snapshots import SnapshotError, restore, snapshot
from taskchart.runtime.testing import drive_to_end, tool_calls
from taskchart.runtime.testing.walker import _Walker
from taskchart.statecharts import (
    Chart,
    Confirmation,
    Field,
    InputHandler,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts.prebuilt.gallery import GALLERY
from taskchart.statecharts.prebuilt.menu import Menu, menu_flow

from tests.checks.broken import BROKEN


def _handlers_chart() -> Chart:
    """Silence and no-match handling with escalating prompts and an operator exit."""
    ask = declarative_task(
        "account",
        fields=[Field("number", int)],
        no_input=InputHandler(timeout=5.0, prompts=["Sorry?", "Key it in."], exit="operator"),
        no_match=InputHandler(max_retries=1),
    )
    reason = declarative_task(
        "reason",
        fields=[Field("reason")],
        confirmation=Confirmation.NEVER,
        no_match=InputHandler(max_retries=0, exit="operator"),
    )
    operator = declarative_task("operator", fields=[Field("note")], confirmation=Confirmation.NEVER)
    return compile_chart([ask, reason, operator])


def _menus_chart() -> Chart:
    """Nested menus: submenus, a task that returns to its menu, * back, # repeat, an operator."""
    balances = declarative_task("balances", fields=[Field("account")])
    operator = declarative_task("operator", fields=[Field("note")], confirmation=Confirmation.NEVER)
    menus = [
        Menu("main", "Main menu.", {"1": "deposits", "2": "cards"}, {"1": "deposits"}),
        Menu("deposits", "Deposits.", {"1": "balances", "2": "total"}, {"1": "balances"}),
    ]
    return compile_chart(menu_flow(menus, [balances], operator=operator, max_retries=1))


CHARTS: dict[str, Chart] = {
    "interview": interview_chart(),
    "handlers": _handlers_chart(),
    "menus": _menus_chart(),
    **{name: compile_chart(factory()) for name, factory in GALLERY.items()},
}
VALUES: dict[str, Any] = {"email_address": st.just("ada@example.com")}


def observed(flow: Interpreter) -> dict[str, Any]:
    try:
        snap: Any = snapshot(flow)
    except SnapshotError as exc:  # a hand-written result that is not JSON
        snap = str(exc)
    return {
        "configuration": flow.configuration,
        "history": flow.machine.history,
        "tools": flow.tools,
        "timers": dict(flow.timers),
        "results": repr(flow.results),
        "done": flow.done,
        "snapshot": snap,
    }


class Twins:
    """One flow per engine, fed the same events."""

    def __init__(self, chart: Chart) -> None:
        frozen = lambda: 1000.0  # noqa: E731 - one clock, so their timers' deadlines agree
        self.table = Interpreter(chart, clock=frozen)
        self.library = Interpreter(chart, engine="statemachine", clock=frozen)
        assert repr(self.table.start()) == repr(self.library.start())
        self.same()

    def same(self) -> None:
        assert observed(self.table) == observed(self.library)

    def handle(self, event: Event | list[Event]) -> Outcome:
        if isinstance(event, list):
            mine = self.table.handle_batch(event)
            theirs = self.library.handle_batch(event)
            assert repr(mine) == repr(theirs)
            self.same()
            return mine[-1]
        outcome = self.table.handle(event)
        assert repr(outcome) == repr(self.library.handle(event)), event
        self.same()
        return outcome


@pytest.mark.parametrize("name", CHARTS)
@settings(max_examples=60, deadline=None)
@given(choices=st.lists(st.integers(0, 2**24 - 1), max_size=30))
def test_both_engines_take_every_walk_alike(name: str, choices: list[int]) -> None:
    chart = CHARTS[name]
    walker = _Walker(chart, VALUES)
    twins = Twins(chart)
    for r in choices:
        twins.handle(walker.pick(twins.table, r))
    drive_to_end(twins.table, overrides=VALUES, send=twins.handle)
    assert twins.table.done == twins.library.done


@pytest.mark.parametrize("name", ["interview", "get_credit_card_task", "get_dtmf_task"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_both_engines_refuse_and_accept_arbitrary_events_alike(
    name: str, data: st.DataObject
) -> None:
    chart = CHARTS[name]
    twins = Twins(chart)
    for event in data.draw(st.lists(tool_calls(chart, VALUES), max_size=20)):
        twins.handle(event)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_both_engines_run_a_broken_chart_alike(broken: str) -> None:
    chart = BROKEN[broken][0]()
    twins = Twins(chart)
    walker = _Walker(chart, VALUES)
    for r in range(0, 2**20, 7919):
        twins.handle(walker.pick(twins.table, r))


@pytest.mark.parametrize("name", ["interview", "get_address_task"])
def test_a_snapshot_restores_on_either_engine(name: str) -> None:
    chart = CHARTS[name]
    flow = Interpreter(chart)
    flow.start()
    drive_to_end(flow, overrides=VALUES, until=lambda f: len(f.model.visited) > 1)
    data = snapshot(flow)
    for engine in ("table", "statemachine"):
        again = restore(chart, data, engine=engine)
        assert again.engine == engine
        assert snapshot(again) == data
        assert drive_to_end(again, overrides=VALUES) and again.done


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine 'fast'"):
        Interpreter(CHARTS["interview"], engine="fast")


# -- python-statemachine machines are pooled per chart ---------------------------------


def run(flow: Interpreter, events: list[Any]) -> list[Any]:
    flow.start()
    seen = []
    for event in events:
        outcome = flow.handle(event)
        seen.append((outcome.ok, getattr(outcome, "code", None), flow.configuration))
    return [*seen, flow.results, flow.timers]


def test_a_finished_flow_still_answers_after_giving_its_machine_back() -> None:
    chart = CHARTS["get_email_task"]
    flow = Interpreter(chart, engine="statemachine")
    flow.start()
    assert flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"})).ok
    assert flow.done and flow.machine.inner is None  # the machine was let go
    nxt = Interpreter(chart, engine="statemachine")
    nxt.start()
    assert flow.configuration == ("flow_done",)
    assert flow.handle(ToolCalled("update_email_address", {"email": "b@example.com"})).code == (
        "finished"
    )
    assert nxt.configuration == ("email", "email__collecting")


def _library_names() -> list[str]:
    from statemachine import StateChart

    return sorted({n for n in dir(StateChart) if not n.startswith("_")} | {"model", "state"})


@pytest.mark.parametrize("name", _library_names())
def test_reserved_ids_hold_exactly_the_library_names_that_collide(name: str) -> None:
    """A task id that is a python-statemachine attribute works on both engines, unless
    it is reserved; a reserved one really breaks the ``statemachine`` engine."""
    import taskchart.statecharts.chart as chart_module

    first = declarative_task("first", fields=[Field("y")], confirmation=Confirmation.NEVER)
    named = declarative_task(name, fields=[Field("x")], confirmation=Confirmation.NEVER)
    reserved = chart_module.RESERVED_IDS
    chart_module.RESERVED_IDS = frozenset()
    try:
        outcomes = []
        for engine in ("table", "statemachine"):
            flow = Interpreter(compile_chart([first, named]), engine=engine)
            flow.start()
            flow.handle(ToolCalled("update_first", {"y": "1"}))
            flow.handle(ToolCalled(f"update_{name}", {"x": "2"}))
            outcomes.append((flow.configuration, flow.results))
        works = (
            outcomes[0] == outcomes[1] == (("flow_done",), {"first": {"y": "1"}, name: {"x": "2"}})
        )
    except Exception:
        works = False
    finally:
        chart_module.RESERVED_IDS = reserved
    assert works == (name not in reserved)
