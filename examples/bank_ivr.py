"""A phone bank's IVR: LiveKit's bank IVR example, its menus and checks as data.

Authenticate (customer ID, then PIN, both keyed in and checked by the mock
bank; a refused entry is asked again ``AUTH_RETRIES`` times, then the caller
goes to the operator), then a main menu with submenus where 9 returns to the
main menu, each submenu's actions as tasks that return to their menu, and an
operator exit when a menu gives up. This module holds what both versions
share (the bank, the entries, the menus and actions) and the pure chart
version, which ``taskchart check``, the diagrams and the console demo use::

    taskchart demo --bank    # the sample call, examples/bank_ivr_script.txt

(typed digits are keypad tones, ``...`` is silence).
:mod:`examples.bank_ivr_agent` is the LiveKit version: an ``Agent`` that
authenticates with ``GetDtmfTask`` and runs the same menus as a ``TaskGroup``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from taskchart.statecharts import (
    Chart,
    Confirmation,
    Field,
    InputHandler,
    Keypad,
    TaskSpec,
    Tool,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.prebuilt.menu import Menu, menu_flow
from taskchart.statecharts.task import UPDATE

#: The demo bank's customers: id -> (PIN, name). Never logged: the fields are private.
CUSTOMERS = {"10000001": ("0000", "Jordan Carter"), "10000002": ("1234", "Riley Martinez")}
#: What each action reads to a customer.
ACCOUNTS = {
    "10000001": {
        "balances": "Checking has 2,450 dollars. Savings has 9,300 dollars.",
        "transactions": "A deposit of 1,200 dollars and a card payment of 86 dollars.",
        "statement": "Your card statement balance is 412 dollars, due on the 15th.",
    },
    "10000002": {
        "balances": "Checking has 310 dollars.",
        "transactions": "No transactions this month.",
        "statement": "Your card statement balance is 0 dollars.",
    },
}

#: Said before an entry is asked again.
REFUSED = "Sorry, that was not recognized. "
#: Re-prompts after an entry the bank refuses; the next refusal goes to the operator.
AUTH_RETRIES = 2
#: Re-prompts of a menu (a wrong key, an unmatched answer or silence) before the operator.
MENU_RETRIES = 1
#: Seconds of silence after a prompt that count as no input.
INPUT_TIMEOUT = 6.0


@dataclass(frozen=True)
class Entry:
    """A keyed entry of the authentication: its task id, number of keys and prompt."""

    task: str
    digits: int
    prompt: str


CUSTOMER_ID = Entry("customer_id", 8, "Please enter your eight digit customer ID.")
PIN = Entry("pin", 4, "Now enter your four digit telephone banking PIN.")

#: The menus: the main menu first; 9 returns to it from a submenu.
MENUS = (
    Menu(
        "main",
        "Main menu.",
        {"1": "deposit accounts", "2": "credit cards", "0": "an operator"},
        {"1": "deposits", "2": "cards", "0": "operator"},
    ),
    Menu(
        "deposits",
        "Deposit accounts.",
        {"1": "balances", "2": "recent transactions", "9": "the main menu"},
        {"1": "balances", "2": "transactions", "9": "main"},
    ),
    Menu(
        "cards",
        "Credit cards.",
        {"1": "statement and payment details", "9": "the main menu"},
        {"1": "statement", "9": "main"},
    ),
)
#: The actions a submenu's options lead to: task id -> what they read.
ACTIONS = {
    "balances": "account balances",
    "transactions": "recent transactions",
    "statement": "card statement",
}
OPERATOR = "operator"


class Bank:
    """The mock bank the IVR checks entries against (the customer being authenticated)."""

    def __init__(self) -> None:
        self.customer: str | None = None

    def known_customer(self, keys: str) -> str:
        entered = "".join(keys.split())
        if entered not in CUSTOMERS:
            raise ValueError("that customer ID was not recognized")
        self.customer = entered
        return entered

    def right_pin(self, keys: str) -> str:
        entered = "".join(keys.split())
        if self.customer is None or CUSTOMERS[self.customer][0] != entered:
            raise ValueError("that PIN does not match the customer ID")
        return entered

    def check(self, entry: Entry) -> Callable[[str], str]:
        """The check of ``entry``: the keys as the bank takes them, or ``ValueError``."""
        return self.known_customer if entry is CUSTOMER_ID else self.right_pin

    def name(self) -> str:
        assert self.customer is not None
        return CUSTOMERS[self.customer][1]

    def read(self, action: str) -> str:
        """What ``action`` reads to the authenticated customer."""
        assert self.customer is not None
        return ACCOUNTS[self.customer][action]


def menu_specs() -> list[TaskSpec]:
    """The menus, their actions and the operator, as one menu flow's tasks (both versions)."""
    actions = [
        implicit_task(t, instructions=f"Read the caller's {words}.") for t, words in ACTIONS.items()
    ]
    operator = implicit_task(OPERATOR, instructions="Transfer the caller to an operator.")
    return menu_flow(
        MENUS,
        actions,
        operator=operator,
        back_key=None,
        max_retries=MENU_RETRIES,
        input_timeout=INPUT_TIMEOUT,
    )


def silence(entry: Entry, *, exit: str | None = None) -> InputHandler:
    """Silence during an entry (both versions): asked once more, then given up (``exit``)."""
    return InputHandler(
        timeout=INPUT_TIMEOUT,
        prompts=[f"Sorry, I didn't hear you. {entry.prompt}"],
        max_retries=1,
        exit=exit,
    )


def _keyed(entry: Entry, check: Callable[[str], str]) -> TaskSpec:
    """A keypad entry checked by the bank: a refused entry is a no-match, asked again."""
    task = entry.task
    return declarative_task(
        task,
        fields=[Field(task, normalize=check, pii=True)],
        confirmation=Confirmation.NEVER,
        instructions=f"Say: {entry.prompt}",
        tools=[Tool(f"record_{task}", UPDATE, f"The {task} the caller said", {task: task})],
        keypad=Keypad(num_digits=entry.digits, field=task, stop_key="#"),
        no_input=silence(entry, exit=OPERATOR),
        no_match=InputHandler(
            prompts=[REFUSED + entry.prompt],
            max_retries=AUTH_RETRIES,
            exit=OPERATOR,
        ),
    )


def bank_ivr_specs(bank: Bank | None = None) -> list[TaskSpec]:
    """The IVR's tasks, in order: authentication, the menus and their actions, the operator."""
    bank = bank or Bank()
    return [_keyed(e, bank.check(e)) for e in (CUSTOMER_ID, PIN)] + menu_specs()


def bank_ivr_chart() -> Chart:
    """The IVR as one compiled chart (what ``taskchart check``, diagrams and the demo use)."""
    return compile_chart(bank_ivr_specs(), name="BankIVR")
