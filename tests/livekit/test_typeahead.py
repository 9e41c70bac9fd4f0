"""Keypad tones pressed between two tasks reach the next task, in order, in real offline
AgentSessions: right after a task completes, and while a durable group's slow save runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from taskchart.adapters.livekit import MenuResult, MenuTask, TaskGroup
from taskchart.adapters.livekit.testing import OfflineSession
from taskchart.runtime import Clock, SimulatedClock

from examples.bank_ivr_agent import BankIVRAgent

from .prebuilt_helpers import Collector, unscripted
from .test_bank_ivr_session import reads_out, transcript


def two_menus(clock: Clock, **group: Any) -> Callable[[], TaskGroup]:
    def make() -> TaskGroup:
        g = TaskGroup(summarize_chat_ctx=False, **group)
        g.add(
            lambda: MenuTask(prompt="Main menu.", options={"1": "deposits"}, clock=clock),
            id="main",
            description="The main menu",
            routes={"1": "deposits"},
        )
        g.add(
            lambda: MenuTask(
                prompt="Deposits.", options={"1": "balances", "2": "transfers"}, clock=clock
            ),
            id="deposits",
            description="The deposits menu",
        )
        return g

    return make


async def test_a_tone_right_after_a_task_completes_reaches_the_next_task() -> None:
    agent = Collector(two_menus(SimulatedClock()))
    async with unscripted(agent) as offline:
        await offline.dtmf("12", burst=True)  # the second before the group moved on
    assert agent.result.task_results == {
        "main": MenuResult("1", "deposits"),
        "deposits": MenuResult("2", "transfers"),
    }


async def test_the_menu_key_pressed_with_the_pin_reaches_the_main_menu() -> None:
    clock = SimulatedClock()
    agent = BankIVRAgent(clock=clock)
    async with OfflineSession(agent=agent, llm=[reads_out] * 30) as offline:
        await offline.dtmf("10000001")
        await offline.dtmf("00002", burst=True)  # the PIN, and at once 2 for credit cards
        await offline.dtmf("9")
        await offline.dtmf("0")
        said = transcript(offline)
    assert (
        "Credit cards. Press 1 for statement and payment details. Press 9 for the main menu."
        in said
    )
    assert agent.menus is not None and agent.transferred
    assert agent.menus.task_results["cards"] == MenuResult("9", "the main menu")
