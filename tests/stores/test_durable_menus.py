"""A durable menu group whose menu gave up into the operator: the next worker finishes the
call with the menu's NoMatchError and the chosen options as themselves."""

from __future__ import annotations

import asyncio
from typing import Any

from taskchart.adapters.livekit import (
    AgentTask,
    MenuResult,
    MenuTask,
    NoMatchError,
    TaskGroup,
    function_tool,
)
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.adapters.stores import Store
from taskchart.runtime import SimulatedClock, restore, snapshot
from taskchart.statecharts import NoMatch
from taskchart.statecharts.model import gave_up

from ..livekit.prebuilt_helpers import Collector, by_user_line


async def asked(offline: OfflineSession, words: str) -> None:
    """Wait until the model was asked to say ``words``: the group saved (on the store's
    own threads or sockets, which settling does not wait for) and the next step began."""
    for _ in range(500):
        if offline.llm.requests and words in offline.llm.requests[-1].instructions:
            return
        await asyncio.sleep(0.01)
        await offline.settle()
    raise AssertionError(f"the model was never asked to say {words!r}")


class Operator(AgentTask[str]):
    def __init__(self) -> None:
        super().__init__(instructions="Transfer the caller to an operator.")

    async def on_enter(self) -> None:
        self.session.generate_reply()

    @function_tool
    async def transferred(self) -> None:
        """The caller is now with an operator."""
        self.complete("transferred")


def menus(store: Store) -> tuple[Collector, list[TaskGroup]]:
    made: list[TaskGroup] = []

    def group() -> TaskGroup:
        clock = SimulatedClock()
        exits = {"no_match": "operator", "no_input": "operator"}
        g = TaskGroup(summarize_chat_ctx=False, store=store, flow_id="call-7")
        g.add(
            lambda: MenuTask(
                prompt="Main menu.", options={"1": "deposits", "2": "cards"}, clock=clock
            ),
            id="main",
            description="The main menu",
            routes={"1": "deposits", **exits},
        )
        g.add(
            lambda: MenuTask(
                prompt="Deposits.", options={"1": "balances"}, max_retries=1, clock=clock
            ),
            id="deposits",
            description="The deposits menu",
            routes=exits,
        )
        g.add(Operator, id="operator", description="An operator")
        made.append(g)
        return g

    return Collector(group), made


async def test_a_menu_s_no_match_exit_survives_a_new_worker(store: Store) -> None:
    first, made = menus(store)
    async with OfflineSession(agent=first, llm=by_user_line({})) as offline:
        await asked(offline, "Main menu.")
        await offline.dtmf("1")
        await asked(offline, "Deposits.")
        await offline.dtmf("5")
        await asked(offline, "Sorry, that is not an option.")
        await offline.dtmf("6")  # the deposits menu gives up: the operator takes the call
        await asked(offline, "Transfer the caller to an operator.")
        group = made[0]
        assert group.flow is not None and group.flow.active_task == "operator"
        restored = restore(group.chart, snapshot(group.flow))
    failure = restored.results["deposits"]
    assert type(failure) is NoMatch and gave_up(failure) == "no_match"
    assert restored.model.exited and restored.results["main"] == MenuResult("1", "deposits")
    assert await store.running() == ["call-7"]

    second, _ = menus(store)
    plan: dict[str, Any] = {"thanks": Call("transferred")}
    async with OfflineSession(agent=second, llm=by_user_line(plan)) as offline:
        await asked(offline, "Transfer the caller to an operator.")
        await offline.say("thanks")
    results = second.result.task_results
    assert results["main"] == MenuResult("1", "deposits")
    assert isinstance(results["deposits"], NoMatchError)
    assert results["operator"] == "transferred"
    assert await store.running() == []
