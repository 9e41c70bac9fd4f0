"""A durable AsyncFlow: saved after every accepted event, resumed by the next worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from taskchart.adapters.stores import (
    ChartChanged,
    LeaseHeld,
    Migrations,
    SaveFailed,
    StaleWrite,
    Store,
)
from taskchart.runtime import (
    AsyncFlow,
    DtmfReceived,
    FlowClosed,
    Instruct,
    Interpreter,
    SimulatedClock,
    StartTimer,
    TaskReturned,
    ToolCalled,
    restore,
    snapshot,
)
from taskchart.runtime.results import register_result_type
from taskchart.statecharts import (
    Confirmation,
    Field,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.prebuilt import gallery

FLOW = "room-3/caller-ada"


def intro_chart(normalize: Any = None) -> Any:
    name = declarative_task(
        "name",
        fields=[Field("first", normalize=normalize), Field("last")],
        confirmation=Confirmation.NEVER,
    )
    return compile_chart([name, gallery.email()])


def stored(store: Store, chart: Any = None, **options: Any) -> AsyncFlow:
    """A flow of ``chart`` (the intro chart by default) kept as ``FLOW`` in ``store``."""
    chart = intro_chart() if chart is None else chart
    return AsyncFlow(Interpreter(chart), store=store, flow_id=FLOW, **options)


async def left_after_a_first_name(store: Store) -> None:
    """Store the intro flow as a worker leaves it once the caller gave the first name Ada."""
    async with stored(store) as flow:
        await flow.send(ToolCalled("update_name", {"first": "Ada"}))


async def test_a_flow_resumes_on_the_next_worker_where_it_stood(store: Store) -> None:
    first = stored(store)
    await first.open()
    assert not first.resumed
    assert (await first.send(ToolCalled("update_name", {"first": "Ada"}))).ok
    assert not (await first.send(ToolCalled("update_name", {"first": 3}))).ok  # refused: no save
    row = await store.load(FLOW)
    assert row is not None and row.seq == 2  # the start, then the one accepted event
    await first.aclose()  # the worker goes away; the flow stays stored as running

    told: list[Any] = []
    second = stored(store, on_effect=told.append)
    effects = await second.open()
    assert second.resumed
    assert second.interpreter.values("name") == {"first": "Ada"}
    said = [e.instructions for e in effects if isinstance(e, Instruct)]
    assert said == ["Back to the name. Already collected: first: Ada. Still needed: last."]
    assert told == list(effects)
    assert (await second.send(ToolCalled("update_name", {"last": "Lovelace"}))).ok
    assert (await second.send(ToolCalled("update_email_address", {"email": "ada@example.com"}))).ok
    assert second.interpreter.done and second.interpreter.result is not None
    row = await store.load(FLOW)
    assert row is not None and row.status == "finished"
    assert await store.running() == []
    await second.aclose()


async def test_a_flow_abandoned_mid_call_is_not_resumed_once_its_time_is_over(
    make_store: Callable[..., Store],
) -> None:
    store = make_store(abandon=0.3)
    first = stored(store, lease_ttl=0.2)
    await first.open()
    assert (await first.send(ToolCalled("update_name", {"first": "Ada"}))).ok
    await first.aclose()  # the session closed mid-call; no worker picked it up
    assert await store.running() == [FLOW]
    await asyncio.sleep(0.4)
    assert await store.running() == []
    again = stored(store)
    await again.open()
    assert not again.resumed and again.interpreter.values("name") == {}
    await again.aclose()


async def test_a_second_worker_is_refused_while_the_lease_is_held_then_takes_over(
    store: Store,
) -> None:
    async with stored(store) as flow:
        await flow.send(ToolCalled("update_name", {"first": "Ada"}))
        with pytest.raises(LeaseHeld, match=r"another worker holds flow [a-p]{12}$"):
            await stored(store).open()
    # a worker that died holding the lease: the next one waits until it runs out
    assert await store.acquire(FLOW, "dead-worker", 0.3)
    later = stored(store, lease_wait=3.0)
    await later.open()
    assert later.resumed and later.interpreter.values("name") == {"first": "Ada"}
    await later.aclose()


async def test_a_flow_of_a_changed_chart_is_refused_and_left_as_stored(store: Store) -> None:
    await left_after_a_first_name(store)
    before = await store.load(FLOW)
    changed = stored(store, intro_chart(str.title))
    with pytest.raises(ChartChanged, match="task 'name': field 'first' changed"):
        await changed.open()
    assert await store.load(FLOW) == before  # never half-applied
    again = stored(store)
    await again.open()  # the refusal gave the lease back
    assert again.interpreter.values("name") == {"first": "Ada"}
    await again.aclose()


async def test_a_stale_worker_cannot_overwrite_the_flow(store: Store) -> None:
    stale = stored(store)
    await stale.open()
    await stale.send(ToolCalled("update_name", {"first": "Ada"}))
    link: Any = stale._link
    await store.release(FLOW, link.owner)  # its lease ran out while it was stalled
    fresh = stored(store)
    await fresh.open()
    await fresh.send(ToolCalled("update_name", {"last": "Lovelace"}))
    with pytest.raises(StaleWrite):
        await stale.send(ToolCalled("update_name", {"last": "Byron"}))
    with pytest.raises(StaleWrite):  # and it takes no more events
        await stale.send(ToolCalled("update_email_address", {"email": "a@b.co"}))
    await stale.aclose()
    await fresh.aclose()
    resumed = stored(store)
    await resumed.open()
    assert resumed.interpreter.values("email") == {}
    assert resumed.interpreter.results["name"] == {"first": "Ada", "last": "Lovelace"}
    await resumed.aclose()


@register_result_type
@dataclass
class Commute:
    can_commute: bool
    method: str


async def test_a_hand_written_result_comes_back_as_its_own_type(store: Store) -> None:
    chart = compile_chart([implicit_task("commute"), gallery.email()])
    async with stored(store, chart) as flow:
        await flow.send(TaskReturned(Commute(True, "bike")))
    again = stored(store, chart)
    await again.open()
    assert again.interpreter.results["commute"] == Commute(True, "bike")
    await again.aclose()


async def test_a_restored_dtmf_flow_re_arms_its_inter_key_timer_with_the_time_left() -> None:
    clock = SimulatedClock(start=100.0)
    chart = compile_chart(gallery.dtmf())
    flow = Interpreter(chart, clock=clock.now)
    flow.start()
    flow.handle(DtmfReceived("4"))  # the inter-key timer runs: 4 s
    data = snapshot(flow)
    assert data["timers"] == {"dtmf_inputs.keys": {"seconds": 4.0, "deadline": 104.0}}
    clock.advance(1.5)  # the worker died; another restores 1.5 s later
    again = AsyncFlow(restore(chart, data, clock=clock.now), clock=clock)
    assert again.start() == (StartTimer("dtmf_inputs.keys", 2.5),)
    clock.advance(2.4)
    await asyncio.sleep(0)
    assert not again.interpreter.done
    clock.advance(0.1)  # the timer fires at its deadline: too few digits ends the task
    for _ in range(5):
        await asyncio.sleep(0)
    assert again.interpreter.done
    assert "Expect 10 digits, got 1" in str(again.interpreter.error)
    await again.aclose()


async def test_a_chart_with_a_card_field_is_never_stored_in_clear_even_unmarked(
    store: Store,
) -> None:
    pan = "4111111111111111"
    payment = declarative_task(
        "payment",
        fields=[Field("holder"), Field("pan", card=True)],
        confirmation=Confirmation.NEVER,
    )
    chart = compile_chart([payment, gallery.email()])
    first = stored(store, chart)  # no secret=True given
    await first.open()
    assert (await first.send(ToolCalled("update_payment", {"holder": "Ada", "pan": pan}))).ok
    row = await store.load(FLOW)
    assert row is not None and pan.encode() not in row.data and b"Ada" not in row.data
    await first.aclose()

    second = stored(store, chart)
    await second.open()  # nothing of the card was kept: the payment step starts again
    assert not second.resumed and second.interpreter.values("payment") == {}
    await second.aclose()


async def test_keypad_digits_pending_for_a_card_field_are_never_stored_in_clear(
    store: Store,
) -> None:
    from taskchart.statecharts.task import Keypad

    pan = declarative_task(
        "pan",
        fields=[Field("number", card=True)],
        keypad=Keypad(16, "number"),
        confirmation=Confirmation.NEVER,
    )
    flow = stored(store, compile_chart([pan]))
    await flow.open()
    for digit in "41111111":
        assert (await flow.send(DtmfReceived(digit))).ok
    assert flow.interpreter.model.keys == {"pan": list("41111111")}
    row = await store.load(FLOW)
    assert row is not None and b'"keys"' not in row.data and b'"4","1"' not in row.data
    await flow.aclose()


async def test_sends_racing_on_an_unopened_flow_share_one_opening_and_lose_nothing(
    store: Store,
) -> None:
    await left_after_a_first_name(store)
    second = stored(store)
    a, b = await asyncio.gather(  # nobody opened it: the first send does, the other waits
        second.send(ToolCalled("update_name", {"last": "Lovelace"})),
        second.send(ToolCalled("update_name", {"last": "Byron"})),
    )
    assert a.ok and not b.ok and second.resumed
    assert second.interpreter.results["name"] == {"first": "Ada", "last": "Lovelace"}
    await second.aclose()
    third = stored(store)
    await third.open()
    assert third.interpreter.results["name"] == {"first": "Ada", "last": "Lovelace"}
    await third.aclose()


class Unsaved:
    """A result of a type not registered for snapshots: it cannot be saved."""


async def test_a_save_that_fails_fails_the_send_instead_of_leaving_it_waiting(
    store: Store,
) -> None:
    chart = compile_chart([implicit_task("commute"), gallery.email()])
    flow = stored(store, chart)
    await flow.open()
    with pytest.raises(SaveFailed, match="result of task 'commute' is not JSON-serialisable"):
        await asyncio.wait_for(flow.send(TaskReturned(Unsaved())), 5)
    with pytest.raises(SaveFailed):  # the flow takes no more events: memory and store differ
        await flow.send(ToolCalled("update_email_address", {"email": "a@b.co"}))
    await flow.aclose()
    again = stored(store, chart)
    await again.open()  # the lease was given back; the stored flow is where it was
    assert again.interpreter.active_task == "commute"
    await again.aclose()


async def test_a_flow_that_fails_to_open_gives_back_its_lease_and_stops_its_worker(
    store: Store,
) -> None:
    real = store.load

    async def raced(flow_id: str) -> Any:
        row = await real(flow_id)
        await store.save(flow_id, b"{}", expected=0)  # another worker writes it meanwhile
        return row

    store.load = raced  # type: ignore[method-assign]
    flow = stored(store)
    with pytest.raises(StaleWrite):
        await flow.open()
    store.load = real  # type: ignore[method-assign]
    assert await store.acquire(FLOW, "next-worker", 5.0)  # at once: the lease was given back
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in others if "AsyncFlow" in t.get_coro().__qualname__]  # type: ignore[union-attr]
    with pytest.raises((StaleWrite, FlowClosed)):
        await flow.send(ToolCalled("update_name", {"first": "Ada"}))


def card_chart() -> Any:
    pan = declarative_task(
        "pan",
        fields=[Field("number", card=True), Field("name")],
        confirmation=Confirmation.NEVER,
    )
    return compile_chart([pan])


async def test_a_card_flow_dropped_without_a_key_starts_again_after_an_upgrade(
    make_store: Callable[..., Store],
) -> None:
    async with AsyncFlow(Interpreter(card_chart()), store=make_store(), flow_id=FLOW) as first:
        assert (await first.send(ToolCalled("update_pan", {"number": "4111111111111111"}))).ok
    upgrade = Migrations()

    @upgrade.register(1)
    def _same(state: dict[str, Any]) -> dict[str, Any]:  # written for kept states
        return {**state, "values": dict(state["values"])}

    store = make_store(version=2, migrations=upgrade)
    second = stored(store, card_chart())
    await second.open()  # nothing of the card was kept, so nothing to migrate
    assert second.dropped and not second.resumed and second.interpreter.values("pan") == {}
    await second.aclose()
