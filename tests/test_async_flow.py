"""The asyncio front: one event at a time, safe cancellation, timers on a simulated clock."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from taskchart.runtime import (
    AsyncFlow,
    Complete,
    EffectFailed,
    Fail,
    FlowClosed,
    Instruct,
    Interpreter,
    SimulatedClock,
    StartTimer,
    TimerFired,
    ToolCalled,
    UserSpoke,
)
from taskchart.statecharts import Confirmation, Field, NoInput, compile_chart, declarative_task


def name_chart(timeout: float | None = None):  # type: ignore[no-untyped-def]
    spec = declarative_task(
        "name",
        fields=[Field("first"), Field("last")],
        confirmation=Confirmation.NEVER,
        no_input_timeout=timeout,
        max_reprompts=2,
    )
    return compile_chart(spec)


async def test_concurrent_sends_are_processed_one_at_a_time_in_order() -> None:
    async with AsyncFlow(Interpreter(name_chart())) as flow:
        outcomes = await asyncio.gather(
            flow.send(ToolCalled("update_name", {"first": "Ada"})),
            flow.send(ToolCalled("update_name", {"last": "Lovelace"})),
            flow.send(ToolCalled("update_name", {"last": "Byron"})),
        )
        assert [o.ok for o in outcomes] == [True, True, False]
        assert outcomes[2].code == "finished"  # type: ignore[union-attr]
        assert flow.interpreter.result == {"first": "Ada", "last": "Lovelace"}


async def test_cancelling_a_sender_does_not_corrupt_the_chart() -> None:
    async with AsyncFlow(Interpreter(name_chart())) as flow:
        task = asyncio.ensure_future(flow.send(ToolCalled("update_name", {"first": "Ada"})))
        await asyncio.sleep(0)
        task.cancel()
        outcome = await flow.send(ToolCalled("update_name", {"last": "Lovelace"}))
        assert outcome.ok
        assert flow.interpreter.configuration == ("flow_done",)
        assert flow.interpreter.result == {"first": "Ada", "last": "Lovelace"}


async def test_no_input_timer_reprompts_then_fails_on_a_simulated_clock() -> None:
    clock = SimulatedClock()
    seen: list[object] = []
    flow = AsyncFlow(Interpreter(name_chart(timeout=5.0)), clock=clock, on_effect=seen.append)

    def reprompts() -> int:
        return sum(isinstance(e, Instruct) and "said nothing" in e.instructions for e in seen)

    async def advance(seconds: float) -> None:
        clock.advance(seconds)
        for _ in range(3):  # let the worker take the TimerFired event
            await asyncio.sleep(0)

    effects = flow.start()
    assert StartTimer("name.no_input", 5.0) in effects
    await advance(4.9)
    assert reprompts() == 0
    await advance(0.1)
    assert reprompts() == 1
    await flow.send(UserSpoke("um", "text"))  # speaking restarts the timer
    await advance(4.0)
    assert reprompts() == 1
    await advance(1.0)
    assert reprompts() == 2
    assert flow.interpreter.configuration == ("name", "name__collecting")
    await advance(5.0)  # no re-prompt left: the task fails
    interp = flow.interpreter
    assert interp.configuration == ("flow_failed",)
    assert isinstance(interp.error, NoInput)
    assert any(isinstance(e, Fail) for e in seen)
    assert clock.pending == 0  # no timer left running
    await flow.aclose()


async def test_a_stale_timer_is_rejected_and_changes_nothing() -> None:
    interp = Interpreter(name_chart(timeout=5.0))
    interp.start()
    interp.handle(ToolCalled("update_name", {"first": "Ada"}))
    before = interp.configuration, interp.values()
    outcome = interp.handle(TimerFired("other.timer"))
    assert not outcome.ok and outcome.code == "unexpected"  # type: ignore[union-attr]
    assert (interp.configuration, interp.values()) == before


async def test_closed_flow_refuses_new_events() -> None:
    flow = AsyncFlow(Interpreter(name_chart()))
    flow.start()
    await flow.aclose()
    try:
        await flow.send(ToolCalled("update_name", {"first": "Ada"}))
    except RuntimeError as exc:
        assert "closed" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a closed flow accepted an event")


class Boom(Exception):
    pass


async def test_an_on_effect_callback_that_raises_fails_that_send_not_the_flow() -> None:
    performed: list[str] = []

    def on_effect(effect: object) -> None:
        if isinstance(effect, Complete):
            raise Boom("the adapter broke")
        performed.append(type(effect).__name__)

    flow = AsyncFlow(Interpreter(name_chart()), on_effect=on_effect)
    flow.start()
    assert (await flow.send(ToolCalled("update_name", {"first": "Ada"}))).ok
    with pytest.raises(EffectFailed) as failed:
        await asyncio.wait_for(flow.send(ToolCalled("update_name", {"last": "L"})), 5)
    assert isinstance(failed.value.__cause__, Boom)
    assert "on_effect raised Boom performing Complete" in str(failed.value)
    assert [o.ok for o in failed.value.outcomes] == [True]  # the event itself was processed
    assert performed[-2:] == ["TaskCompleted", "SetTools"]  # and every other effect performed
    assert flow.interpreter.result == {"first": "Ada", "last": "L"}
    # the worker lives on: the next event is answered
    late = await asyncio.wait_for(flow.send(ToolCalled("update_name", {"last": "M"})), 5)
    assert not late.ok and late.code == "finished"  # type: ignore[union-attr]
    await asyncio.wait_for(flow.aclose(), 5)


async def test_a_worker_cancelled_from_outside_fails_sends_and_aclose_returns() -> None:
    flow = AsyncFlow(Interpreter(name_chart()))
    flow.start()
    assert flow._worker is not None
    pending = asyncio.ensure_future(flow.send(ToolCalled("update_name", {"first": "Ada"})))
    flow._worker.cancel()
    with pytest.raises(FlowClosed, match="worker stopped"):
        await asyncio.wait_for(pending, 5)
    with pytest.raises(FlowClosed, match="worker stopped"):
        await asyncio.wait_for(flow.send(ToolCalled("update_name", {"last": "L"})), 5)
    await asyncio.wait_for(flow.aclose(), 5)
    assert flow.interpreter.configuration[-1] == "name__collecting"  # nothing half-done


async def test_a_timer_whose_effect_callback_raises_is_logged_and_the_flow_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SimulatedClock()
    calls: list[object] = []

    def on_effect(effect: object) -> None:
        calls.append(effect)
        if isinstance(effect, Instruct) and len(calls) > 3:
            raise Boom("speaker unplugged")

    flow = AsyncFlow(Interpreter(name_chart(timeout=5.0)), clock=clock, on_effect=on_effect)
    flow.start()
    with caplog.at_level("ERROR", logger="taskchart.runtime"):
        clock.advance(5.0)  # no input: the reprompt's Instruct raises in on_effect
        outcome = await asyncio.wait_for(flow.send(ToolCalled("update_name", {"first": "A"})), 5)
    assert outcome.ok
    assert flow.interpreter.model.reprompts["name"] == 1
    [record] = [r for r in caplog.records if "effect_failed" in r.getMessage()]
    assert '"effect": "Instruct"' in record.getMessage() and "Boom" in record.getMessage()
    await asyncio.wait_for(flow.aclose(), 5)


@given(
    batches=st.lists(
        st.lists(
            st.sampled_from(
                [
                    ToolCalled("update_name", {"first": "Ada"}),
                    ToolCalled("update_name", {"last": "Lovelace"}),
                    ToolCalled("update_name", {"first": 7}),
                    ToolCalled("update_name", [1]),
                    ToolCalled("decline_name", {"reason": "no"}),
                    ToolCalled("confirm_name", {}),
                    ToolCalled("update_name", {"first": "Bo"}, call_id="c1"),
                    UserSpoke("yes"),
                ]
            ),
            min_size=1,
            max_size=3,
        ),
        max_size=6,
    ),
    raising=st.sets(st.sampled_from(["Instruct", "SetTools", "Complete", "Fail", "StartTimer"])),
)
@settings(max_examples=60, deadline=None)
def test_raising_callbacks_never_hang_and_never_change_the_flow(
    batches: list[list[object]], raising: set[str]
) -> None:
    """Whatever effects ``on_effect`` fails on, every send ends and the chart is the
    same as one fed the same events with no callback at all."""

    def on_effect(effect: object) -> None:
        if type(effect).__name__ in raising:
            raise Boom(type(effect).__name__)

    async def main() -> tuple[tuple[str, ...], object]:
        flow = AsyncFlow(Interpreter(name_chart(timeout=5.0)), on_effect=on_effect)
        with contextlib.suppress(EffectFailed):  # the start's effects may fail too
            flow.start()
        for batch in batches:
            try:
                await asyncio.wait_for(flow.send_batch(batch), 5)  # type: ignore[arg-type]
            except EffectFailed as failed:
                assert isinstance(failed.__cause__, Boom)
        await asyncio.wait_for(flow.aclose(), 5)
        return flow.interpreter.configuration, flow.interpreter.result

    plain = Interpreter(name_chart(timeout=5.0))
    plain.start()
    for batch in batches:
        plain.handle_batch(batch)  # type: ignore[arg-type]
    assert asyncio.run(main()) == (plain.configuration, plain.result)


def test_recorders_nest_so_an_inner_one_does_not_end_the_outer_one() -> None:
    from taskchart.runtime.interpreter import record_every_flow

    outer = record_every_flow()
    inner = record_every_flow()
    first = Interpreter(name_chart())
    record_every_flow(False, flows=inner)
    second = Interpreter(name_chart())
    record_every_flow(False, flows=outer)
    third = Interpreter(name_chart())
    assert inner == [first] and outer == [first, second]  # and not ``third``
    assert third not in outer
