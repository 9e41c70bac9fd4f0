"""Every prebuilt LiveKit task in a real offline session: no personal value where taskchart writes.

What is promised (DESIGN.md, "Private data"), and checked here for
GetEmailTask, GetAddressTask, GetPhoneNumberTask, GetNameTask, GetDOBTask,
GetDtmfTask (keypad tones) and GetCreditCardTask, each completed, declined,
failed (the card restarted) or cut by the session closing, and inside a
TaskGroup with a regression: with structlog configured by the application
(a JSON chain, no redaction processor) or unconfigured with the standard
library at DEBUG, no record of a ``taskchart`` logger shows a collected
value, and the journals of every flow the session ran (written as the
pytest plugin writes them) hold none, in 0600 files. Card numbers and CVVs
are also absent from the conversation the task hands back and from what the
summarizer reads. Email, name, address, phone number and date of birth stay
in the conversation the caller had, as in LiveKit 1.8.9 (the drop-in rule);
what LiveKit itself logs is not taskchart's to promise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from taskchart.adapters.livekit import (
    GetAddressTask,
    GetCardNumberTask,
    GetCreditCardTask,
    GetDOBTask,
    GetDtmfTask,
    GetEmailTask,
    GetNameTask,
    GetPhoneNumberTask,
    GetSecurityCodeTask,
    TaskGroup,
)
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.runtime import SimulatedClock
from taskchart.runtime.interpreter import record_every_flow
from taskchart.runtime.pytest_plugin import write_journals

from ..helpers import logs_captured
from .prebuilt_helpers import Collector, by_user_line, unscripted

CARD, CVV = "4111 1111 1111 1111", "737"

# name -> (factory, user line -> call, lines to complete, decline tool, raw values)
TASKS: dict[str, tuple[Callable[[], Any], dict[str, Any], list[str], str, tuple[str, ...]]] = {
    "email": (
        GetEmailTask,
        {
            "mine": Call("update_email_address", email="ada.quill@example.com"),
            "yes": Call("confirm_email_address"),
        },
        ["mine", "yes"],
        "decline_email_capture",
        ("ada.quill",),
    ),
    "address": (
        GetAddressTask,
        {
            "mine": Call(
                "update_address",
                street_address="450 Quillfeather Lane",
                unit_number="floor 2",
                locality="Salt Lake City UT 84101",
                country="usa",
            ),
            "yes": Call("confirm_address"),
        },
        ["mine", "yes"],
        "decline_address_capture",
        ("Quillfeather", "84101"),
    ),
    "phone": (
        GetPhoneNumberTask,
        {
            "mine": Call("update_phone_number", phone_number="+1 415 555 0132"),
            "yes": Call("confirm_phone_number"),
        },
        ["mine", "yes"],
        "decline_phone_number_capture",
        ("5550132", "555 0132"),
    ),
    "name": (
        lambda: GetNameTask(last_name=True),
        {
            "mine": Call("update_name", first_name="Augusta", last_name="Quillfeather"),
            "yes": Call("confirm_name"),
        },
        ["mine", "yes"],
        "decline_name_capture",
        ("Augusta", "Quillfeather"),
    ),
    "date of birth": (
        GetDOBTask,
        {"mine": Call("update_dob", year=1987, month=6, day=23), "yes": Call("confirm_dob")},
        ["mine", "yes"],
        "decline_dob_capture",
        ("1987",),
    ),
    "credit card": (
        GetCreditCardTask,
        {
            "mine": Call("update_card_number", card_number=CARD),
            "repeat": Call("confirm_card_number", repeated_card_number=CARD),
            "date": Call("update_expiration_date", expiration_month=4, expiration_year=31),
            "date again": Call(
                "confirm_expiration_date", repeated_expiration_month=4, repeated_expiration_year=31
            ),
            "code": Call("update_security_code", security_code=CVV),
            "code again": Call("confirm_security_code", repeated_security_code=CVV),
            "holder": Call("update_name", first_name="Augusta", last_name="Quillfeather"),
            "yes": Call("confirm_name"),
        },
        ["mine", "repeat", "date", "date again", "code", "code again", "holder", "yes"],
        "decline_card_capture",
        ("4111", "1111 1111", CVV, "Quillfeather"),
    ),
}
ENDINGS = ["complete", "decline", "close"]
CASES = [
    *(pytest.param(n, e, id=f"{n}-{e}") for n in TASKS for e in ENDINGS),
    pytest.param("credit card", "fail", id="credit card-fail"),
]
MODES = ["structlog-json", "stdlib-debug"]


@contextlib.contextmanager
def journals(tmp_path: Path) -> Iterator[Callable[[], list[str]]]:
    """Every flow created meanwhile is recorded; yields a function writing and reading them."""
    flows = record_every_flow()

    def written() -> list[str]:
        out = tmp_path / "journals"
        write_journals(flows, out)
        files = sorted(out.iterdir())
        assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files)
        return [p.read_text() for p in files]

    try:
        yield written
    finally:
        record_every_flow(False, flows=flows)


def _clean(text: str) -> str:
    """Chart digests, timestamps and timings: noise a short value can hide in."""
    import re

    return re.sub(r'"(digest|timestamp|ms)": ("[^"]*"|[0-9.]+)', "", text)


def _conversation(items: Any) -> str:
    return " ".join(
        str(getattr(i, "content", "")) + str(getattr(i, "arguments", "")) for i in items
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "ending"), CASES)
async def test_a_prebuilt_task_leaves_no_value_in_logs_or_journals(
    name: str, ending: str, mode: str, tmp_path: Path
) -> None:
    factory, plan, lines, decline, raw = TASKS[name]
    plan = {
        **plan,
        "no thanks": Call(decline, reason="private"),
        "start over": Call("restart_card_collection", reason="another card"),
    }
    with logs_captured(mode, "taskchart") as logged, journals(tmp_path) as written:
        agent = Collector(factory)
        offline = OfflineSession(agent=agent, llm=by_user_line(plan))
        await offline.start()
        try:
            if ending == "complete":
                for line in lines:
                    await offline.say(line, modality="audio")
                assert agent.result is not None
            else:
                await offline.say("mine", modality="audio")
                if ending in ("decline", "fail"):
                    with contextlib.suppress(Exception):  # the turn carries the task's error
                        await offline.say("no thanks" if ending == "decline" else "start over")
                    if ending == "decline":
                        assert agent.error is not None
        finally:
            await offline.aclose()  # "close": the caller hangs up mid-task
        texts = [logged(), *written()]
    assert '"transition"' in texts[0] or '"event": "transition"' in texts[0]
    for text in texts:
        assert not [r for r in raw if r in _clean(text)], text
    if agent.error is not None:
        assert not [r for r in raw if r in str(agent.error)]


async def test_keypad_tones_leave_no_digit_in_logs_or_journals(tmp_path: Path) -> None:
    for mode in MODES:
        with logs_captured(mode, "taskchart") as logged, journals(tmp_path / mode) as written:
            agent = Collector(
                lambda: GetDtmfTask(num_digits=4, max_retries=1, clock=SimulatedClock())
            )
            async with unscripted(agent) as offline:
                await offline.dtmf("98")
                await offline.dtmf("#")  # too few: asked again
                await offline.dtmf("9876")
            assert agent.result is not None and agent.result.user_input == "9 8 7 6"
            texts = [logged(), *written()]
        assert "dtmf" in texts[0]
        for text in texts:
            assert "9 8" not in text and '"9"' not in text and "'9'" not in text, text


def card_then_email() -> Collector:
    """An agent running a group (card, then email) whose caller goes back to give another card."""
    return Collector(
        lambda: (
            TaskGroup(summarize_chat_ctx=True)
            .add(GetCreditCardTask, id="card", description="The card")
            .add(GetEmailTask, id="email", description="The email for the receipt")
        ),
        instructions="You take a payment.",
    )


def _card_steps(suffix: str, number: str) -> dict[str, Call]:
    """What the caller says (the values themselves) -> the model's calls."""
    return {
        f"my card is {number}": Call("update_card_number", card_number=number),
        f"april 31{suffix}": Call("update_expiration_date", expiration_month=4, expiration_year=31),
        f"the code is {CVV}{suffix}": Call("update_security_code", security_code=CVV),
        f"Augusta Quillfeather{suffix}": Call(
            "update_name", first_name="Augusta", last_name="Quillfeather"
        ),
    }


GROUP_PLAN = {
    **_card_steps("", "5555 5555 5555 4444"),
    "wrong card": Call("out_of_scope", task_ids=["card"]),
    **_card_steps(" again", CARD),
    "email": Call("update_email_address", email="ada.quill@example.com"),
}
GROUP_LINES = list(GROUP_PLAN)
GROUP_RAW = ("4111", "1111 1111", "5555", CVV, "Augusta", "Quillfeather", "ada.quill")


@pytest.mark.parametrize("mode", MODES)
async def test_a_group_with_a_regression_keeps_card_data_out_of_logs_journals_and_summary(
    mode: str, tmp_path: Path
) -> None:
    with logs_captured(mode, "taskchart") as logged, journals(tmp_path) as written:
        agent = card_then_email()
        async with OfflineSession(agent=agent, llm=by_user_line(GROUP_PLAN)) as offline:
            for line in GROUP_LINES:
                await offline.say(line)
            assert agent.result is not None
            assert agent.result.task_results["card"].card_number == "4111111111111111"
            summaries = [r for r in offline.llm.requests if r.is_summary]
        texts = [logged(), *written()]
    assert "regress" in texts[0]
    for text in texts:
        assert not [r for r in GROUP_RAW if r in _clean(text)], text
    assert len(summaries) == 1
    read = _conversation(summaries[0].chat_ctx.items)
    assert not [r for r in ("4111", "1111 1111", "5555", CVV) if r in read], read


async def test_the_card_task_hands_back_no_card_number_or_code() -> None:
    agent = card_then_email()
    async with OfflineSession(agent=agent, llm=by_user_line(GROUP_PLAN)) as offline:
        for line in GROUP_LINES:
            await offline.say(line)
        assert agent.result is not None
    handed_back = _conversation(agent.chat_ctx.items)
    assert not [r for r in ("4111", "1111 1111", "5555", CVV) if r in handed_back], handed_back


@pytest.mark.parametrize(
    ("factory", "line", "call"),
    [
        pytest.param(
            GetCardNumberTask,
            f"my card is {CARD}",
            Call("update_card_number", card_number=CARD),
            id="card number",
        ),
        pytest.param(
            GetSecurityCodeTask,
            f"the code is {CVV}",
            Call("update_security_code", security_code=CVV),
            id="security code",
        ),
    ],
)
async def test_a_card_step_on_its_own_hands_back_no_card_data(
    factory: Any, line: str, call: Call
) -> None:
    agent = Collector(factory)
    async with OfflineSession(agent=agent, llm=by_user_line({line: call})) as offline:
        await offline.say(line)
        assert agent.result is not None
    handed_back = _conversation(agent.chat_ctx.items)
    assert "4111" not in handed_back and CVV not in handed_back, handed_back
