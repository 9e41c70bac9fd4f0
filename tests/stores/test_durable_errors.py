"""A restored group hands awaiting code the exception class the live run raised: a card
step's decline is a ``CardCaptureDeclinedError`` again on the next worker, not a plain
``DeclinedError``."""

from __future__ import annotations

import json
from typing import Any

from taskchart.adapters.livekit import (
    CardCaptureDeclinedError,
    GetCardNumberTask,
    TaskGroup,
    register_error_type,
)
from taskchart.adapters.livekit.errors import TaskFailedError, livekit_error
from taskchart.adapters.livekit.testing import Call, OfflineSession
from taskchart.adapters.stores import Store
from taskchart.runtime import restore, snapshot
from taskchart.statecharts import Declined, NoInput

from ..livekit.prebuilt_helpers import Collector, by_user_line
from .test_durable_menus import Operator, asked

DECLINE = {"no card": Call("decline_card_capture", reason="I'll pay at the door")}


def checkout(store: Store | None, made: list[TaskGroup]) -> Collector:
    """A card number (its failure kept), then an operator who takes the payment."""

    def group() -> TaskGroup:
        g = TaskGroup(
            summarize_chat_ctx=False,
            return_exceptions=True,
            store=store,
            flow_id="call-3" if store is not None else None,
        )
        g.add(GetCardNumberTask, id="card", description="The card number")
        g.add(Operator, id="operator", description="An operator")
        made.append(g)
        return g

    return Collector(group)


def assert_card_declined(error: Any) -> None:
    assert type(error) is CardCaptureDeclinedError
    assert error.reason == "I'll pay at the door"
    assert str(error) == "couldn't get the card details: I'll pay at the door"
    assert type(error.failure) is Declined and error.failure.message == "I'll pay at the door"


async def test_a_snapshot_keeps_the_adapter_error_class_of_a_failure() -> None:
    made: list[TaskGroup] = []
    async with OfflineSession(agent=checkout(None, made), llm=by_user_line(DECLINE)) as offline:
        await offline.say("no card")
        await asked(offline, "Transfer the caller to an operator.")
        flow = made[0].flow
        assert flow is not None
        assert_card_declined(flow.results["card"])  # the live run's exception
        restored = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    kept = restored.results["card"]
    assert type(kept) is Declined and kept.raised_as == (
        "taskchart.adapters.livekit.card:CardCaptureDeclinedError"
    )
    assert_card_declined(livekit_error(kept))


async def test_a_card_decline_is_the_card_error_again_on_the_next_worker(store: Store) -> None:
    made: list[TaskGroup] = []
    async with OfflineSession(agent=checkout(store, made), llm=by_user_line(DECLINE)) as offline:
        await offline.say("no card")
        await asked(offline, "Transfer the caller to an operator.")
    assert await store.running() == ["call-3"]  # the worker went away with the operator

    second = checkout(store, made)
    plan = {"thanks": Call("transferred")}
    async with OfflineSession(agent=second, llm=by_user_line(plan)) as offline:
        await asked(offline, "Transfer the caller to an operator.")
        await offline.say("thanks")
    assert made[-1].resumed
    results = second.result.task_results
    assert_card_declined(results["card"])
    assert results["operator"] == "transferred"


class LineBusyError(TaskFailedError):
    """An application's own failure error, from an ``error_for`` override."""


def test_an_unregistered_class_falls_back_to_the_failure_s_own_error() -> None:
    kept = NoInput("pin", "the user did not answer")
    kept.raised_as = f"{__name__}:LineBusyError"
    assert type(livekit_error(kept)).__name__ == "NoInputError"
    register_error_type(LineBusyError)
    again = livekit_error(kept)
    assert type(again) is LineBusyError and again.failure is kept


async def test_a_restored_decline_reads_as_the_live_one_and_names_the_same_step() -> None:
    from taskchart.adapters.livekit import DeclinedError, GetEmailTask

    made: list[TaskGroup] = []

    def group() -> TaskGroup:
        g = TaskGroup(summarize_chat_ctx=False, return_exceptions=True)
        g.add(GetEmailTask, id="email", description="The email address")
        g.add(Operator, id="operator", description="An operator")
        made.append(g)
        return g

    plan = {"no email": Call("decline_email_capture", reason="I'd rather not say")}
    async with OfflineSession(agent=Collector(group), llm=by_user_line(plan)) as offline:
        await offline.say("no email")
        await asked(offline, "Transfer the caller to an operator.")
        flow = made[0].flow
        assert flow is not None
        live = livekit_error(flow.results["email"])
        restored = restore(flow.chart, json.loads(json.dumps(snapshot(flow))))
    again = livekit_error(restored.results["email"])
    assert type(live) is type(again) is DeclinedError
    assert str(again) == str(live) == "couldn't get the email address: I'd rather not say"
    assert again.failure == live.failure and again.failure.task_id == live.failure.task_id
