"""Durable LiveKit task groups: a call picked up by the next worker, in real offline sessions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from cryptography.fernet import Fernet
from taskchart.adapters.livekit import GetCreditCardResult, GetCreditCardTask
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.adapters.stores import Migrations, Store
from taskchart.runtime import messages

from examples.interview import CommuteResults, Interviewer, IntroResults

from ..livekit.prebuilt_helpers import Collector, by_user_line

INTRO = {"name": "Ada", "intro_notes": "a mathematician"}
AMEX = "3782 822463 10005"


def system_notes(request: Any) -> list[str]:
    return [m.text_content or "" for m in request.chat_ctx.messages() if m.role == "system"]


async def test_an_interview_resumes_on_a_new_worker_with_typed_results(store: Store) -> None:
    first = Interviewer(summarize_chat_ctx=False, store=store, flow_id="room-9/ada")
    script: list[Any] = ["Welcome! What's your name?", Call("record_intro", INTRO)]
    async with OfflineSession(agent=first, llm=script, userdata=SimpleNamespace()) as offline:
        await offline.say("I'm Ada, a mathematician")
    assert await store.running() == ["room-9/ada"]  # the worker went away mid-call

    second = Interviewer(summarize_chat_ctx=False, store=store, flow_id="room-9/ada")
    script = [Call("record_commute_flexibility", can_commute=True, commute_method="bike"), "Bye!"]
    async with OfflineSession(agent=second, llm=script, userdata=SimpleNamespace()) as offline:
        await offline.say("Yes, I come by bike")
        request = offline.llm.requests[0]
        # the interview resumed at the commute; the intro can still be corrected
        assert request.tools == ["record_commute_flexibility", "out_of_scope"]
        assert messages.call_resumed(
            ["Collects name and introduction"], "Asks about commute flexibility"
        ) in system_notes(request)
        offline.llm.assert_done()
    assert second.task_results == {
        "intro_task": IntroResults("Ada", "a mathematician"),  # itself, not a dict
        "commute_task": CommuteResults(True, "bike"),
    }
    assert await store.running() == []
    row = await store.load("room-9/ada")
    assert row is not None and row.status == "finished"


def card_plan() -> dict[str, Any]:
    return {
        "my card": Call("update_card_number", card_number=AMEX),
        "expires april 31": Call("update_expiration_date", expiration_month=4, expiration_year=31),
        "three digits": Call("update_security_code", security_code="123"),
        "the code": Call("update_security_code", security_code="1234"),
        "Ada Lovelace": Call("update_name", first_name="Ada", last_name="Lovelace"),
    }


async def test_a_card_resumes_sealed_under_a_key_with_its_issuer(
    make_store: Callable[..., Store],
) -> None:
    key = Fernet.generate_key()
    first = Collector(lambda: GetCreditCardTask(store=make_store(keys=[key]), flow_id="c1"))
    async with OfflineSession(agent=first, llm=by_user_line(card_plan())) as offline:
        await offline.say("my card")
        await offline.say("expires april 31")
    row = await make_store().load("c1")
    assert row is not None and b"378282246310005" not in row.data and b"Lovelace" not in row.data

    second = Collector(lambda: GetCreditCardTask(store=make_store(keys=[key]), flow_id="c1"))
    async with OfflineSession(agent=second, llm=by_user_line(card_plan())) as offline:
        await offline.say("three digits")  # the issuer came back with the number: 4 digits
        assert "update_security_code" in offline.llm.requests[-1].tools
        await offline.say("the code")
        await offline.say("Ada Lovelace")
    assert second.result == GetCreditCardResult(
        cardholder_name="Ada Lovelace",
        issuer="American Express",
        card_number="378282246310005",
        security_code="1234",
        expiration_date="04/31",
    )


async def test_without_a_key_no_card_data_is_stored_and_the_card_is_asked_again(
    store: Store,
) -> None:
    first = Collector(lambda: GetCreditCardTask(store=store, flow_id="c2"))
    async with OfflineSession(agent=first, llm=by_user_line(card_plan())) as offline:
        await offline.say("my card")
        await offline.say("expires april 31")
    row = await store.load("c2")
    assert row is not None and b"378282246310005" not in row.data
    stored = json.loads(row.data)
    assert "state" not in stored and "sealed" not in stored and stored["dropped"]

    second = Collector(lambda: GetCreditCardTask(store=store, flow_id="c2"))
    async with OfflineSession(agent=second, llm=by_user_line(card_plan())) as offline:
        await offline.say("my card")
        first_request = offline.llm.requests[0]
        assert "update_card_number" in first_request.tools  # back at the number
        assert messages.DETAILS_DROPPED in system_notes(first_request)
        for line in ["expires april 31", "the code", "Ada Lovelace"]:
            await offline.say(line)
    assert second.result is not None and second.result.card_number == "378282246310005"


def model_text(request: Any) -> str:
    """What the model read in ``request``, but the caller's own words and tool calls.

    Those LiveKit itself sends (the caller said the card, the model passed it to a
    tool); what the runtime writes (instructions, tool answers, notes) is the rest.
    """
    parts: list[str] = []
    for item in request.chat_ctx.items:
        if item.type == "message" and item.role != "user":
            parts += [c for c in item.content if isinstance(c, str)]
        elif item.type == "function_call_output":
            parts.append(item.output)
    return "\n".join(parts)


async def test_a_card_resumed_while_confirming_is_never_put_into_words_for_the_model(
    make_store: Callable[..., Store],
) -> None:
    key = Fernet.generate_key()
    plan = card_plan() | {"again": Call("confirm_card_number", repeated_card_number=AMEX)}
    first = Collector(lambda: GetCreditCardTask(store=make_store(keys=[key]), flow_id="c3"))
    async with OfflineSession(agent=first, llm=by_user_line(plan)) as offline:
        await offline.say("my card", modality="audio")  # confirmed by repetition: it waits
        assert "confirm_card_number" in offline.llm.requests[-1].tools

    second = Collector(lambda: GetCreditCardTask(store=make_store(keys=[key]), flow_id="c3"))
    async with OfflineSession(agent=second, llm=by_user_line(plan)) as offline:
        resumed = offline.llm.requests[0]  # the resumed step's first words
        assert "confirm_card_number" in resumed.tools
        assert "ask them to repeat it" in model_text(resumed)
        await offline.say("again", modality="audio")  # the caller repeats it: confirmed
        assert "update_expiration_date" in offline.llm.requests[-1].tools
        said = [model_text(r) for r in offline.llm.requests]
    assert len(said) >= 3
    assert [text for text in said if "378282246310005" in text or "822463" in text] == []


async def test_a_caller_turn_is_saved_before_any_tool_is_called(
    make_store: Callable[..., Store],
) -> None:
    key = Fernet.generate_key()
    store = make_store(keys=[key])
    group = Collector(lambda: GetCreditCardTask(store=store, flow_id="c4"))

    async def stored_turns() -> Any:
        row = await store.load("c4")
        assert row is not None
        state = json.loads(Fernet(key).decrypt(json.loads(row.data)["sealed"]))
        return state["tasks"]["card_number_task"]["snapshot"]["user_turn"]

    async with OfflineSession(agent=group, llm=by_user_line(card_plan())) as offline:
        await offline.say("hello?")  # the model answers in words: no tool call, no event
        await offline.say("is anyone there?")
        for _ in range(100):  # the save runs beside the reply: wait for it, not for a tool
            if await stored_turns() == 2:
                break
            await asyncio.sleep(0.02)
        assert await stored_turns() == 2


async def test_a_group_whose_chart_task_collects_card_data_stores_none_of_it_without_a_key(
    store: Store,
) -> None:
    from taskchart.adapters.livekit import ChartTask, TaskGroup
    from taskchart.statecharts import Confirmation, Field, declarative_task

    payment = declarative_task(
        "payment",
        fields=[Field("holder"), Field("pan", card=True), Field("postcode")],
        confirmation=Confirmation.NEVER,
    )

    def group() -> TaskGroup:  # the application never says the group holds card data
        made = TaskGroup(summarize_chat_ctx=False, store=store, flow_id="room-4/ada")
        return made.add(lambda: ChartTask(payment), id="payment", description="Takes a payment")

    plan = {"": Call("update_payment", holder="Ada", pan="4111 1111 1111 1111")}
    async with OfflineSession(agent=Collector(group), llm=by_user_line(plan)) as offline:
        await offline.say("my card")
    row = await store.load("room-4/ada")
    assert row is not None and row.status == "running"
    assert b"4111" not in row.data and b"Ada" not in row.data and b"dropped" in row.data


async def test_a_group_that_another_worker_overtook_gives_back_its_lease(
    make_store: Callable[..., Store],
) -> None:
    store = make_store()
    agent = Interviewer(summarize_chat_ctx=False, store=store, flow_id="room-9/ada")
    script: list[Any] = ["Welcome! What's your name?", Call("record_intro", INTRO), "ok"]
    async with OfflineSession(agent=agent, llm=script, userdata=SimpleNamespace()) as offline:
        row = await store.load("room-9/ada")
        assert row is not None
        other = make_store()  # another worker writes the flow meanwhile
        await other.save("room-9/ada", row.data, expected=row.seq)
        await offline.say("I'm Ada, a mathematician")
        assert await other.acquire("room-9/ada", "next-worker", 5.0)  # at once, not at expiry
        renewing = [t for t in asyncio.all_tasks() if "_renew" in t.get_coro().__qualname__]  # type: ignore[union-attr]
        assert renewing == []


async def test_a_finished_group_that_no_longer_restores_runs_anew(
    make_store: Callable[..., Store],
) -> None:
    first = Interviewer(summarize_chat_ctx=False, store=make_store(), flow_id="room-9/ada")
    script: list[Any] = [
        "Welcome!",
        Call("record_intro", INTRO),
        Call("record_commute_flexibility", can_commute=True, commute_method="bike"),
        "Bye!",
    ]
    async with OfflineSession(agent=first, llm=script, userdata=SimpleNamespace()) as offline:
        await offline.say("I'm Ada, a mathematician")
        await offline.say("Yes, by bike")
    row = await make_store().load("room-9/ada")
    assert row is not None and row.status == "finished"
    upgrade = Migrations()

    @upgrade.register(1)
    def _rename(state: dict[str, Any]) -> dict[str, Any]:  # written for running states
        return {"group": {**state["group"], "tasks": ["intro_task"]}, "tasks": {}}

    store = make_store(version=2, migrations=upgrade)
    second = Interviewer(summarize_chat_ctx=False, store=store, flow_id="room-9/ada")
    async with OfflineSession(
        agent=second, llm=["Hi, what's your name?", "And you are?"], userdata=None
    ) as offline:
        await offline.say("hello")
        assert "record_intro" in offline.llm.requests[-1].tools  # a new interview


async def test_a_stored_chart_task_without_its_snapshot_is_a_corrupt_record(
    store: Store,
) -> None:
    from livekit.agents import Agent
    from taskchart.adapters.livekit import ChartTask, TaskGroup
    from taskchart.adapters.stores import CorruptRecord
    from taskchart.statecharts import Confirmation, Field, declarative_task

    contact = declarative_task(
        "contact", fields=[Field("holder"), Field("postcode")], confirmation=Confirmation.NEVER
    )

    def group() -> TaskGroup:
        made = TaskGroup(summarize_chat_ctx=False, store=store, flow_id="room-4/ada")
        return made.add(lambda: ChartTask(contact), id="contact", description="Takes a contact")

    plan = {"": Call("update_contact", holder="Ada")}
    async with OfflineSession(agent=Collector(group), llm=by_user_line(plan)) as offline:
        await offline.say("I'm Ada")
    row = await store.load("room-4/ada")
    assert row is not None
    record = json.loads(row.data)
    assert list(record["state"]["tasks"]) == ["contact"]
    del record["state"]["tasks"]["contact"]["snapshot"]  # an edit, or a torn write
    record["seq"] = row.seq + 1
    await store.save("room-4/ada", json.dumps(record).encode(), expected=row.seq)

    class Keeper(Agent):
        error: BaseException | None = None

        async def on_enter(self) -> None:
            try:
                await group()
            except Exception as exc:
                Keeper.error = exc

    async with OfflineSession(agent=Keeper(instructions="Help."), llm=by_user_line({})) as o:
        await o.say("hello")
    assert isinstance(Keeper.error, CorruptRecord)
    assert "stored task 'contact' has no snapshot" in str(Keeper.error)
    assert await store.acquire("room-4/ada", "next-worker", 5.0)  # no lease kept
