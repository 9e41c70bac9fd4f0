"""The same scripts against LiveKit 1.8.9's prebuilt tasks and taskchart's: same outcomes.

Each case runs a real offline ``AgentSession`` once with the class from
``livekit.agents.beta.workflows`` and once with taskchart's drop-in, and
compares what user code or the model can observe.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from livekit.agents.beta import workflows as livekit
from livekit.agents.llm import ToolError
from taskchart.adapters import livekit as taskchart
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.runtime import SimulatedClock

from .prebuilt_helpers import Collector, by_user_line, elapse, unscripted

SOURCES = {"livekit": livekit, "taskchart": taskchart}


async def run(
    factory: Callable[[], Any], plan: dict[str, Any], modality: Any = "text"
) -> tuple[Collector, list[dict[str, Any]]]:
    """Say each line of ``plan`` in order; the agent and each turn's tool outputs by name."""
    agent = Collector(factory)
    turns: list[dict[str, Any]] = []
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        for line in plan:
            if line:
                turn = await offline.say(line, modality=modality)
                turns.append(
                    {e.item.name: e.item for e in turn.events if e.type == "function_call_output"}
                )
    return agent, turns


def livekit_fields(result: Any, like: Any) -> dict[str, Any]:
    """``result``'s values of the fields LiveKit's result ``like`` has."""
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(like)}


def address(street: str, unit: str, locality: str, country: str) -> Call:
    """The model's call giving one whole address."""
    return Call(
        "update_address",
        street_address=street,
        unit_number=unit,
        locality=locality,
        country=country,
    )


RESULT_CASES: list[tuple[str, Callable[[Any], Any], Call]] = [
    (
        "email",
        lambda m: m.GetEmailTask(),
        Call("update_email_address", email="Ada.King@Example.com"),
    ),
    (
        "phone",
        lambda m: m.GetPhoneNumberTask(),
        Call("update_phone_number", phone_number="415-555-0199"),
    ),
    (
        "phone+",
        lambda m: m.GetPhoneNumberTask(),
        Call("update_phone_number", phone_number="+1 (415) 555 0199"),
    ),
    (
        "address",
        lambda m: m.GetAddressTask(),
        address(
            "450 South Main St", "Floor 2", "Salt Lake City UT 84101", "United States of America"
        ),
    ),
    (
        "address without unit",
        lambda m: m.GetAddressTask(),
        address("10 Downing Street", "", "London SW1A 2AA", "UK"),
    ),
    (
        "name",
        lambda m: m.GetNameTask(last_name=True),
        Call("update_name", first_name="ada", last_name="lovelace"),
    ),
    ("dob", lambda m: m.GetDOBTask(), Call("update_dob", year=90, month=1, day=15)),
]


@pytest.mark.parametrize(
    ("case", "factory", "update"), RESULT_CASES, ids=[c[0] for c in RESULT_CASES]
)
async def test_result_values_are_livekits(case: str, factory: Any, update: Call) -> None:
    theirs, _ = await run(lambda: factory(livekit), {"mine": update})
    ours, _ = await run(lambda: factory(taskchart), {"mine": update})
    assert theirs.result is not None and ours.result is not None
    assert livekit_fields(ours.result, theirs.result) == dataclasses.asdict(theirs.result)


async def test_normalised_forms_are_extra_attributes() -> None:
    phone, _ = await run(taskchart.GetPhoneNumberTask, {"mine": RESULT_CASES[1][2]})
    assert phone.result == taskchart.GetPhoneNumberResult("4155550199")
    assert phone.result.e164 == "+14155550199"
    email, _ = await run(taskchart.GetEmailTask, {"mine": RESULT_CASES[0][2]})
    assert email.result.email_address == "Ada.King@Example.com"
    assert email.result.normalized == "Ada.King@example.com"
    address, _ = await run(taskchart.GetAddressTask, {"mine": RESULT_CASES[3][2]})
    assert address.result.address == (
        "450 South Main St Floor 2 Salt Lake City UT 84101 United States of America"
    )
    assert address.result.formatted == (
        "450 South Main St, Floor 2, Salt Lake City UT 84101, United States"
    )
    assert (address.result.country, address.result.locality) == (
        "United States",
        "Salt Lake City UT 84101",
    )
    name, _ = await run(
        lambda: taskchart.GetNameTask(last_name=True),
        {"mine": Call("update_name", first_name="m i c h a e l", last_name="o'brien")},
    )
    assert (name.result.first_name, name.result.last_name) == ("m i c h a e l", "o'brien")
    assert name.result.full_name == "Michael O'Brien"
    dob, _ = await run(taskchart.GetDOBTask, {"mine": RESULT_CASES[-1][2]})
    assert dob.result == taskchart.GetDOBResult(date(1990, 1, 15))


def test_workflow_instructions_is_livekits_class() -> None:
    assert taskchart.WorkflowInstructions is livekit.WorkflowInstructions
    assert "WorkflowInstructions" in taskchart.__all__


PERSONA = "You are Max, the assistant of a courier company."
EXTRA = "Mention that the parcel ships tomorrow."


@pytest.mark.parametrize("source", ["livekit", "taskchart"])
@pytest.mark.parametrize("task", ["GetEmailTask", "GetAddressTask"])
@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_workflow_instructions_keep_their_persona_and_extra(
    source: str, task: str, modality: str
) -> None:
    module = SOURCES[source]
    given = module.WorkflowInstructions(persona=PERSONA, extra=EXTRA)
    agent = Collector(lambda: getattr(module, task)(instructions=given))
    async with unscripted(agent) as offline:
        await offline.say("hello", modality=modality)
        system = offline.llm.requests[-1].chat_ctx.messages()[0].text_content or ""
    assert system.startswith(PERSONA)
    assert system.rstrip().endswith(EXTRA)
    assert "You are only a single step" not in system  # the default persona is replaced


@pytest.mark.parametrize("source", ["livekit", "taskchart"])
async def test_workflow_instructions_without_persona_keep_the_default_one(source: str) -> None:
    module = SOURCES[source]
    given = module.WorkflowInstructions(extra=EXTRA)
    agent = Collector(lambda: module.GetEmailTask(instructions=given))
    async with unscripted(agent) as offline:
        system = offline.llm.requests[0].chat_ctx.messages()[0].text_content or ""
    assert system.startswith(
        "You are only a single step in a broader system, responsible solely for capturing an "
        "email address."
    )
    assert system.rstrip().endswith(EXTRA)


@pytest.mark.parametrize("source", ["livekit", "taskchart"])
async def test_plain_instructions_are_used_as_given_and_extra_instructions_ignored(
    source: str,
) -> None:
    module = SOURCES[source]
    agent = Collector(
        lambda: module.GetAddressTask(instructions="Collect the address.", extra_instructions=EXTRA)
    )
    async with unscripted(agent) as offline:
        system = offline.llm.requests[0].chat_ctx.messages()[0].text_content or ""
    assert system == "Collect the address."


READBACK_CASES: list[tuple[str, Callable[[Any], Any], list[Call]]] = [
    (
        "email",
        lambda m: m.GetEmailTask(),
        [Call("update_email_address", email=e) for e in ("ada@example.com", "ad@example.com")],
    ),
    (
        "email spelled",
        lambda m: m.GetEmailTask(verify_spelling=True),
        [Call("update_email_address", email=e) for e in ("ada@example.com", "ad@example.com")],
    ),
    (
        "name",
        lambda m: m.GetNameTask(last_name=True),
        [Call("update_name", first_name=f, last_name="Lovelace") for f in ("Ada", "Adda")],
    ),
    (
        "phone",
        lambda m: m.GetPhoneNumberTask(),
        [Call("update_phone_number", phone_number=n) for n in ("4155550199", "4155550198")],
    ),
    (
        "address",
        lambda m: m.GetAddressTask(),
        [
            Call(
                "update_address",
                street_address="450 South Main St",
                unit_number=unit,
                locality="Salt Lake City UT 84101",
                country="United States",
            )
            for unit in ("", "Floor 2")
        ],
    ),
    (
        "dob",
        lambda m: m.GetDOBTask(),
        [Call("update_dob", year=90, month=1, day=d) for d in (15, 16)],
    ),
]


@pytest.mark.parametrize(
    ("case", "factory", "updates"), READBACK_CASES, ids=[c[0] for c in READBACK_CASES]
)
async def test_every_read_back_after_the_first_is_spelled_as_in_livekit(
    case: str, factory: Any, updates: list[Call]
) -> None:
    plan = {"first": updates[0], "no": updates[1], "still no": updates[0]}
    texts = {}
    for source, module in SOURCES.items():
        agent, turns = await run(functools.partial(factory, module), plan, modality="audio")
        assert agent.result is None  # each value waits for a confirmation
        texts[source] = [turn[updates[0].name].output for turn in turns]
    assert texts["taskchart"] == texts["livekit"]
    first, second, third = texts["taskchart"]
    spelled = ("character by character", "letter by letter", "digit by digit", "one part at a")
    assert any(s in second for s in spelled) and any(s in third for s in spelled)
    assert any(s in first for s in spelled) == (case == "email spelled")


def dtmf_task(source: str, **kwargs: Any) -> Callable[[], Any]:
    if source == "livekit":
        return lambda: livekit.GetDtmfTask(num_digits=4, **kwargs)
    return lambda: taskchart.GetDtmfTask(num_digits=4, clock=SimulatedClock(), **kwargs)


@pytest.mark.parametrize("confirm", [False, True])
async def test_a_short_keypad_entry_fails_with_livekits_tool_error(confirm: bool) -> None:
    errors = {}
    for source in SOURCES:
        agent = Collector(dtmf_task(source, ask_for_confirmation=confirm))
        async with unscripted(agent) as offline:
            await offline.dtmf("12#")
        assert agent.result is None and agent.error is not None
        errors[source] = agent.error
    assert isinstance(errors["taskchart"], ToolError)
    assert str(errors["taskchart"]) == str(errors["livekit"])
    assert str(errors["livekit"]) == "Digits input not fully received. Expect 4 digits, got 2"


async def test_a_short_keypad_entry_after_the_pause_fails_too() -> None:
    clock = SimulatedClock()
    agent = Collector(lambda: taskchart.GetDtmfTask(num_digits=4, clock=clock))
    async with unscripted(agent) as offline:
        await offline.dtmf("123")
        await elapse(offline, clock, 4.0)
    assert isinstance(agent.error, ToolError)
    assert str(agent.error) == "Digits input not fully received. Expect 4 digits, got 3"


async def test_max_retries_reprompts_a_short_entry_that_many_times() -> None:
    clock = SimulatedClock()
    agent = Collector(lambda: taskchart.GetDtmfTask(num_digits=4, clock=clock, max_retries=1))
    async with unscripted(agent) as offline:
        await offline.dtmf("12#")
        assert agent.error is None
        assert "expected 4 digits, got 2" in offline.llm.requests[-1].instructions
        await offline.dtmf("1")
        await elapse(offline, clock, 4.0)
    assert str(agent.error) == "Digits input not fully received. Expect 4 digits, got 1"


@pytest.mark.parametrize("modality", ["text", "audio"])
async def test_spoken_digits_confirmed_in_one_call_as_in_livekit(modality: Any) -> None:
    """LiveKit's protocol: the model reads the digits back, the caller says yes, and one
    ``confirm_inputs`` call completes the task."""
    plan = {
        "four one five five": "I heard four, one, five, five. Is that right?",
        "yes": Call("confirm_inputs", inputs=["4", "1", "5", "5"]),
    }
    results, offered = {}, {}
    for source in SOURCES:
        agent = Collector(dtmf_task(source, ask_for_confirmation=True))
        async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
            offered[source] = offline.llm.requests[0].tools
            await offline.say("four one five five", modality=modality)
            await offline.say("yes", modality=modality)
        results[source] = agent.result.user_input
    assert results == {"livekit": "4 1 5 5", "taskchart": "4 1 5 5"}
    assert "confirm_inputs" in offered["livekit"] and "confirm_inputs" in offered["taskchart"]


async def test_a_one_call_confirmation_of_digits_nobody_read_back_is_refused() -> None:
    """The deliberate difference: LiveKit completes; taskchart asks for the read-back first,
    then takes the same single call."""
    plan = {
        "four one five five": Call("confirm_inputs", inputs=["4", "1", "5", "5"]),
        "what?": "Let me read that back: 4 1 5 5. Correct?",
        "yes": Call("confirm_inputs", inputs=["4", "1", "5", "5"]),
    }
    agent = Collector(dtmf_task("taskchart", ask_for_confirmation=True))
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        turn = await offline.say("four one five five", modality="audio")
        [output] = [e.item for e in turn.events if e.type == "function_call_output"]
        assert output.is_error and "Read the digits back to the user" in output.output
        assert agent.result is None
        await offline.say("what?", modality="audio")
        await offline.say("yes", modality="audio")
    assert agent.result.user_input == "4 1 5 5"


async def test_a_one_call_confirmation_of_other_digits_than_read_back_is_refused() -> None:
    plan = {
        "four one five five": "I heard 4 1 5 5, right?",
        "yes": Call("confirm_inputs", inputs=["4", "1", "5", "6"]),
    }
    agent = Collector(dtmf_task("taskchart", ask_for_confirmation=True))
    async with OfflineSession(agent=agent, llm=by_user_line(plan)) as offline:
        await offline.say("four one five five", modality="audio")
        turn = await offline.say("yes", modality="audio")
        [output] = [e.item for e in turn.events if e.type == "function_call_output"]
        assert output.is_error and agent.result is None
