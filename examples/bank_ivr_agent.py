"""The bank IVR as a LiveKit agent: LiveKit's bank IVR example, run by charts.

:class:`BankIVRAgent` authenticates the caller with ``GetDtmfTask`` (the
customer ID, then the PIN; an entry the mock bank refuses, or one cut
short, is asked again ``AUTH_RETRIES`` times, and silence once, as the chart
does, then the operator takes the call), then runs the menus of :mod:`examples.bank_ivr` (the same specs the
pure chart compiles) as a ``TaskGroup``: a tone selects at once, 9 returns
to the main menu, each action reads the bank's answer and returns to its
menu, and a menu that gives up hands the caller to the operator::

    session = AgentSession(llm=..., stt=..., tts=...)
    await session.start(agent=BankIVRAgent(), room=ctx.room)

``tests/livekit/test_bank_ivr_session.py`` runs it end to end in an offline
session (a scripted model, keypad tones, silences on a simulated clock).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from livekit.agents import Agent
from livekit.agents.llm import ToolError
from taskchart.adapters.livekit import (
    AgentTask,
    GetDtmfTask,
    NoInputError,
    TaskGroup,
    TaskGroupResult,
    menu_group,
)
from taskchart.runtime import Clock

from examples.bank_ivr import (
    ACTIONS,
    AUTH_RETRIES,
    CUSTOMER_ID,
    OPERATOR,
    PIN,
    REFUSED,
    Bank,
    Entry,
    menu_specs,
    silence,
)

__all__ = ["Action", "BankIVRAgent", "Operator"]

GOODBYE = "Thank you for calling. Goodbye."


class Action(AgentTask[str]):
    """An action of a submenu: reads what the bank has for the caller, then returns."""

    def __init__(self, bank: Bank, action: str) -> None:
        super().__init__(instructions=f"Read the caller's {ACTIONS[action]}.")
        self._bank = bank
        self._action = action

    async def on_enter(self) -> None:
        await self.session.say(self._bank.read(self._action))
        self.complete(self._action)


class Operator(AgentTask[str]):
    """Hands the call to a person (here: says so and ends)."""

    def __init__(self) -> None:
        super().__init__(instructions="Transfer the caller to an operator.")

    async def on_enter(self) -> None:
        await self.session.say("Please hold while I transfer you to an operator.")
        self.complete("transferred")


class BankIVRAgent(Agent):
    """The bank's phone line: authentication, then the menus; ``clock`` runs the
    keypad and no-input timers (tests pass a ``SimulatedClock``)."""

    def __init__(self, *, bank: Bank | None = None, clock: Clock | None = None) -> None:
        super().__init__(
            instructions=(
                "You are the automated telephone assistant of a bank. Authenticate "
                "callers, then guide them through the keypad menus."
            )
        )
        self.bank = bank or Bank()
        self.clock = clock
        #: The menus' results once they ended (None: the caller never got past the checks).
        self.menus: TaskGroupResult | None = None
        #: Whether the call ended with the operator.
        self.transferred = False

    async def on_enter(self) -> None:
        if await self._authenticate():
            self.session.say(f"Thank you, {self.bank.name()}.")
            self.menus = await self._menu_group()
            self.transferred = OPERATOR in self.menus.task_results
        else:
            self.transferred = await Operator() == "transferred"
        await self.session.say(GOODBYE)

    async def _authenticate(self) -> bool:
        """The customer ID, then the PIN, each checked by the bank (bounded retries; a
        silence is asked again once, then the caller goes to the operator)."""
        for entry in (CUSTOMER_ID, PIN):
            if not await self._keyed(entry):
                return False
        return True

    async def _keyed(self, entry: Entry) -> bool:
        check = self.bank.check(entry)
        for attempt in range(AUTH_RETRIES + 1):
            prompt = entry.prompt if attempt == 0 else REFUSED + entry.prompt
            try:
                keys = await GetDtmfTask(
                    num_digits=entry.digits,
                    extra_instructions=f"Say: {prompt}",
                    clock=self.clock,
                    no_input=silence(entry),  # LiveKit's would wait for ever
                )
                check(keys.user_input)
            except NoInputError:  # silent through the re-prompt: the operator
                return False
            except (ToolError, ValueError):  # cut short, or refused by the bank
                continue
            return True
        return False

    def _menu_group(self) -> TaskGroup:
        tasks: dict[str, Callable[[], AgentTask[str]]] = {
            action: functools.partial(Action, self.bank, action) for action in ACTIONS
        }
        tasks[OPERATOR] = Operator
        return menu_group(menu_specs(), tasks, clock=self.clock, summarize_chat_ctx=False)
