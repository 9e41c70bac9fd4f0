"""The bank IVR agent end to end in a real offline AgentSession: keypad tones, silences on
a simulated clock, the state changes LiveKit emits, and a scripted model that reads out
what it is told to say."""

from __future__ import annotations

import re

from taskchart.adapters.livekit import MenuResult, NoMatchError, menu_group
from taskchart.adapters.livekit.testing import OfflineSession, Request
from taskchart.runtime import SimulatedClock

from examples.bank_ivr import ACTIONS, INPUT_TIMEOUT, OPERATOR, bank_ivr_chart, menu_specs
from examples.bank_ivr_agent import GOODBYE, BankIVRAgent, Operator

from .prebuilt_helpers import elapse

_TOLD = re.compile(r'Say exactly: "(.*?)"|Read the menu to the caller: (.*?) When|Say: (.*)')


def reads_out(request: Request) -> str:
    """The scripted model: it says the last thing its instructions tell it to say."""
    told = _TOLD.findall(request.instructions)
    return next(part for part in told[-1] if part) if told else "How can I help?"


def transcript(offline: OfflineSession) -> list[str]:
    return [
        item.text_content or ""
        for item in offline.session.history.items
        if item.type == "message" and item.role == "assistant"
    ]


async def silence(offline: OfflineSession, clock: SimulatedClock) -> None:
    """The agent speaks its prompt, then the caller says nothing until the timer runs out."""
    await offline.spoke()
    await elapse(offline, clock, INPUT_TIMEOUT)


async def test_a_call_authenticates_navigates_the_menus_and_ends_with_the_operator() -> None:
    clock = SimulatedClock()
    agent = BankIVRAgent(clock=clock)
    async with OfflineSession(agent=agent, llm=[reads_out] * 60) as offline:
        await offline.dtmf("10000001")
        await offline.dtmf("1234")  # not this customer's PIN: asked again
        await offline.dtmf("0000")
        await offline.dtmf("7")  # no option of the main menu: the options again
        await offline.dtmf("1")  # deposit accounts
        await offline.agent_state("speaking")
        await offline.dtmf("1")  # balances, pressed while the menu is still read
        await offline.agent_state("listening")
        await offline.dtmf("9")  # back to the main menu
        await offline.dtmf("2")  # credit cards
        await silence(offline, clock)  # the options again
        await offline.dtmf("1")  # the statement
        await offline.dtmf("9")
        await offline.dtmf("0")  # an operator
        said = transcript(offline)
    assert said == [
        "Please enter your eight digit customer ID.",
        "Now enter your four digit telephone banking PIN.",
        "Sorry, that was not recognized. Now enter your four digit telephone banking PIN.",
        "Thank you, Jordan Carter.",
        "Main menu. Press 1 for deposit accounts. Press 2 for credit cards. "
        "Press 0 for an operator.",
        "Sorry, that is not an option. Press 1 for deposit accounts. "
        "Press 2 for credit cards. Press 0 for an operator.",
        "Deposit accounts. Press 1 for balances. Press 2 for recent transactions. "
        "Press 9 for the main menu.",
        "Checking has 2,450 dollars. Savings has 9,300 dollars.",
        "Deposit accounts. Press 1 for balances. Press 2 for recent transactions. "
        "Press 9 for the main menu.",
        "Main menu. Press 1 for deposit accounts. Press 2 for credit cards. "
        "Press 0 for an operator.",
        "Credit cards. Press 1 for statement and payment details. Press 9 for the main menu.",
        "Sorry, I didn't hear a choice. Credit cards. Press 1 for statement and payment "
        "details. Press 9 for the main menu.",
        "Your card statement balance is 412 dollars, due on the 15th.",
        "Credit cards. Press 1 for statement and payment details. Press 9 for the main menu.",
        "Main menu. Press 1 for deposit accounts. Press 2 for credit cards. "
        "Press 0 for an operator.",
        "Please hold while I transfer you to an operator.",
        GOODBYE,
    ]
    assert agent.menus is not None and agent.transferred
    assert agent.menus.task_results == {
        "main": MenuResult("0", "an operator"),
        "deposits": MenuResult("9", "the main menu"),
        "cards": MenuResult("9", "the main menu"),
        "balances": "balances",
        "statement": "statement",
        "operator": "transferred",
    }


async def test_a_customer_id_refused_through_every_retry_goes_to_the_operator() -> None:
    clock = SimulatedClock()
    agent = BankIVRAgent(clock=clock)
    async with OfflineSession(agent=agent, llm=[reads_out] * 20) as offline:
        await offline.dtmf("99999999")  # no such customer
        await offline.dtmf("12")
        await elapse(offline, clock, 4.0)  # the keypad's pause: an entry cut short
        await offline.dtmf("99999997")  # the last retry, refused too
        said = transcript(offline)
    again = "Sorry, that was not recognized. Please enter your eight digit customer ID."
    assert said == [
        "Please enter your eight digit customer ID.",
        again,
        again,
        "Please hold while I transfer you to an operator.",
        GOODBYE,
    ]
    assert agent.menus is None and agent.transferred and agent.bank.customer is None


async def test_silence_while_authenticating_is_asked_again_then_goes_to_the_operator() -> None:
    clock = SimulatedClock()
    agent = BankIVRAgent(clock=clock)
    async with OfflineSession(agent=agent, llm=[reads_out] * 20) as offline:
        await silence(offline, clock)  # asked again
        await offline.dtmf("10000001")
        await silence(offline, clock)  # the PIN: a silence of its own is asked again
        await silence(offline, clock)  # and the next one ends with the operator
        said = transcript(offline)
    assert said == [
        "Please enter your eight digit customer ID.",
        "Sorry, I didn't hear you. Please enter your eight digit customer ID.",
        "Now enter your four digit telephone banking PIN.",
        "Sorry, I didn't hear you. Now enter your four digit telephone banking PIN.",
        "Please hold while I transfer you to an operator.",
        GOODBYE,
    ]
    assert agent.menus is None and agent.transferred


async def test_a_menu_that_gives_up_hands_the_call_to_the_operator() -> None:
    agent = BankIVRAgent(clock=SimulatedClock())
    async with OfflineSession(agent=agent, llm=[reads_out] * 20) as offline:
        await offline.dtmf("10000002")
        await offline.dtmf("1234")
        await offline.dtmf("7")
        await offline.dtmf("8")  # the second wrong key: the menu gives up
        said = transcript(offline)
    assert said[-2:] == ["Please hold while I transfer you to an operator.", GOODBYE]
    assert agent.menus is not None
    results = agent.menus.task_results
    assert isinstance(results["main"], NoMatchError) and results["operator"] == "transferred"


async def test_the_agent_and_the_chart_run_the_same_menus() -> None:
    tasks = {task: Operator for task in [*ACTIONS, OPERATOR]}
    group = menu_group(menu_specs(), tasks)
    pure = bank_ivr_chart()
    assert [t.id for t in group.chart.tasks] == [t.id for t in pure.tasks][2:]
    for task in group.chart.tasks:
        assert task.route_table == pure.task_map[task.id].route_table
