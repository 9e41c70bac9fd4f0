"""An unreachable Redis: a clear error from the store, a warning, and the call goes on in memory."""

from __future__ import annotations

import logging

import pytest
from taskchart.adapters.stores import RedisStore, StoreUnavailable
from taskchart.runtime import AsyncFlow, Interpreter, ToolCalled
from taskchart.statecharts import Confirmation, Field, compile_chart, declarative_task

from .conftest import free_port


def name_chart():  # type: ignore[no-untyped-def]
    spec = declarative_task(
        "name", fields=[Field("first"), Field("last")], confirmation=Confirmation.NEVER
    )
    return compile_chart(spec)


async def test_an_unreachable_redis_is_a_clear_error_and_the_call_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.3)
    with pytest.raises(StoreUnavailable, match=r"Redis store unreachable \(ConnectionError\)"):
        await store.load("room-1/ada")
    caplog.set_level(logging.WARNING, logger="taskchart.stores")
    flow = AsyncFlow(Interpreter(name_chart()), store=store, flow_id="room-1/ada")
    await flow.open()
    assert not flow.resumed
    assert (await flow.send(ToolCalled("update_name", {"first": "Ada"}))).ok
    assert (await flow.send(ToolCalled("update_name", {"last": "Lovelace"}))).ok
    assert flow.interpreter.result == {"first": "Ada", "last": "Lovelace"}
    assert isinstance(flow.store_error, StoreUnavailable)
    warnings = [r for r in caplog.records if r.name == "taskchart.stores"]
    assert len(warnings) == 1  # one warning per outage, not one per event
    assert "store_unavailable" in warnings[0].getMessage()
    assert "the call goes on in memory" in warnings[0].getMessage()
    assert "room-1/ada" not in warnings[0].getMessage()  # a flow id may name the caller
    await flow.aclose()
    await store.aclose()
