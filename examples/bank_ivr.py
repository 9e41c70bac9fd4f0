"""A phone bank's IVR as a chart: LiveKit's bank IVR example, rebuilt as one flow.

Authenticate (customer ID, then PIN, both keyed in; a wrong entry is a
no-match, re-prompted a bounded number of times), then a main menu with
submenus where 9 returns to the main menu, each submenu's actions as tasks
that return to their menu, and an operator exit when any step gives up.
Run it offline: ``taskchart demo --flow examples.bank_ivr:bank_ivr_chart
--script examples/bank_ivr_script.txt`` (typed digits are keypad tones,
``...`` is silence).
"""

from __future__ import annotations

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
BALANCES = {"10000001": "checking 2,450 dollars, savings 9,300 dollars"}


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


def _keyed(task: str, digits: int, prompt: str, check: object) -> TaskSpec:
    """A keypad entry checked by the bank: a refused entry is a no-match, asked again."""
    return declarative_task(
        task,
        fields=[Field(task, normalize=check, pii=True)],  # type: ignore[arg-type]
        confirmation=Confirmation.NEVER,
        instructions=f"Say: {prompt}",
        tools=[Tool(f"record_{task}", UPDATE, f"The {task} the caller said", {task: task})],
        keypad=Keypad(num_digits=digits, field=task, stop_key="#"),
        no_input=InputHandler(
            timeout=6.0,
            prompts=[f"Sorry, I didn't hear you. {prompt}"],
            max_retries=1,
            exit="operator",
        ),
        no_match=InputHandler(
            prompts=[f"Sorry, that was not recognized. {prompt}"], max_retries=2, exit="operator"
        ),
    )


def bank_ivr_specs(bank: Bank | None = None) -> list[TaskSpec]:
    """The IVR's tasks, in order: authentication, the menus and their actions, the operator."""
    bank = bank or Bank()
    customer_id = _keyed(
        "customer_id", 8, "Please enter your eight digit customer ID.", bank.known_customer
    )
    pin = _keyed("pin", 4, "Now enter your four digit telephone banking PIN.", bank.right_pin)
    menus = [
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
    ]
    actions = [
        implicit_task(t, instructions=f"Read the caller's {words}.")
        for t, words in (
            ("balances", "account balances"),
            ("transactions", "recent transactions"),
            ("statement", "card statement"),
        )
    ]
    operator = implicit_task("operator", instructions="Transfer the caller to an operator.")
    flow = menu_flow(menus, actions, operator=operator, back_key=None, max_retries=1)
    return [customer_id, pin, *flow]


def bank_ivr_chart() -> Chart:
    """The IVR as one compiled chart (what ``taskchart check``, diagrams and the demo use)."""
    return compile_chart(bank_ivr_specs(), name="BankIVR")
