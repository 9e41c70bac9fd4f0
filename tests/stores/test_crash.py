"""Crash tests: a real worker process per trial, killed (SIGKILL) mid-call, another finishes the call.

Each trial kills the worker at a random save (after it, or inside its write),
starts a new worker with the same flow id, and checks that every event the
store holds is applied exactly once (the tool calls the store had committed
plus those the second worker made are the whole call, in order) and that the
results are right. Workers fork from a server that preloaded LiveKit, so a
trial costs tens of milliseconds, not an interpreter start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from taskchart.adapters.stores import Store, open_store
from taskchart.statecharts.prebuilt.card import GetCreditCardResult

from examples.interview import CommuteResults, IntroResults

from . import crash_worker
from .crash_worker import PLAN

TRIALS = int(os.environ.get("TASKCHART_CRASH_TRIALS", "50"))
KEY = Fernet.generate_key()
EXPECTED = (
    {
        "intro_task": IntroResults("Ada", "a mathematician"),
        "commute_task": CommuteResults(True, "bike"),
    },
    GetCreditCardResult(
        cardholder_name="Ada Lovelace",
        issuer="Visa",
        card_number="4111111111111111",
        security_code="123",
        expiration_date="04/31",
    ),
)
#: Chart task id -> the tool call that completes it.
TOOLS = {
    "intro_task": "record_intro",
    "commute_task": "record_commute_flexibility",
    "card_number_task": "update_card_number",
    "expiration_date_task": "update_expiration_date",
    "security_code_task": "update_security_code",
    "cardholder_name_task": "update_name",
}


@pytest.fixture(scope="module")
def forkserver() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.stores.crash_worker"])
    return context


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/flows.db"
    else:
        yield request.getfixturevalue("redis_url")


class Worker:
    def __init__(self, context: Any, url: str, flow_id: str, kill_at: int, during: bool) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=crash_worker.work, args=(url, flow_id, KEY, kill_at, during, child)
        )
        self.process.start()
        child.close()

    def message(self, timeout: float = 60.0) -> tuple[Any, ...]:
        if not self.conn.poll(timeout):
            self.kill()
            raise AssertionError("the worker said nothing in time")
        message: tuple[Any, ...] = self.conn.recv()
        return message

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        assert self.process.exitcode == -signal.SIGKILL

    def finish(self) -> tuple[Any, ...]:
        message = self.message()
        self.process.join(timeout=30)
        return message


def committed(url: str, flow_id: str) -> list[str]:
    """The tool calls the stored flows reflect, in call order."""

    async def read() -> list[str]:
        store: Store = open_store(url, keys=[KEY])
        done: list[str] = []
        for part in ("interview", "card"):
            row = await store.load(f"{flow_id}/{part}")
            state = store.records.peek(row) if row is not None else None
            if state is None:
                continue
            ended = set(state["group"]["results"])
            for cid, task in state["tasks"].items():  # a chart task that ended, unheard of
                if task["snapshot"]["configuration"] == ["flow_done"]:
                    ended.add(cid)
            done += [TOOLS[t] for t in TOOLS if t in ended]
        await store.aclose()
        return done

    return asyncio.run(read())


def trial(context: Any, url: str, kill_at: int, during: bool) -> int | None:
    """One crash and recovery; the saves of a call that ended before ``kill_at`` (None: killed).

    A call's save count varies a little (a caller turn the model has nothing to
    answer yet is saved too), so a kill point drawn from another run may lie past
    the end of this one.
    """
    flow_id = f"call-{uuid.uuid4().hex[:8]}"
    first = Worker(context, url, flow_id, kill_at, during)
    said = first.message()
    if said[0] == "done":
        first.process.join(timeout=30)
        assert said[1] == [name for name, _ in PLAN] and said[2] == EXPECTED, said
        assert said[3] < kill_at, said
        return int(said[3])
    assert said == ("kill me", kill_at), said
    first.kill()
    before = committed(url, flow_id)
    said = Worker(context, url, flow_id, 0, False).finish()
    assert said[0] == "done", said
    _, made, results, _, refused = said
    assert before + made == [name for name, _ in PLAN], (kill_at, during, before, made, refused)
    assert results == EXPECTED
    return None


def test_crashed_workers_lose_and_repeat_nothing(forkserver: Any, store_url: str) -> None:
    kind, made, results, saves, _ = Worker(
        forkserver, store_url, f"call-whole-{uuid.uuid4().hex[:8]}", 0, False
    ).finish()
    assert (kind, made, results) == ("done", [name for name, _ in PLAN], EXPECTED)
    rng = random.Random(store_url[:5])
    kills = attempts = 0
    while kills < TRIALS:
        attempts += 1
        assert attempts <= 2 * TRIALS, f"only {kills} of {attempts} calls lasted to their kill"
        kill_at = rng.randint(1, saves)
        ended = trial(forkserver, store_url, kill_at, during=kills % 3 == 0)
        if ended is None:
            kills += 1
        else:  # the kill point was past this call's end: draw within what calls reach
            saves = min(saves, ended)


def test_a_second_worker_takes_the_call_over_when_the_lease_expires(
    forkserver: Any, redis_url: str
) -> None:
    flow_id = f"call-{uuid.uuid4().hex[:8]}"
    first = Worker(forkserver, redis_url, flow_id, 6, False)
    assert first.message() == ("kill me", 6)
    second = Worker(forkserver, redis_url, flow_id, 0, False)  # waits on the lease
    assert not second.conn.poll(crash_worker.LEASE * 2)  # the first one still holds it
    before = committed(redis_url, flow_id)
    first.kill()
    kind, made, results, _, _ = second.finish()
    assert kind == "done" and results == EXPECTED
    assert before + made == [name for name, _ in PLAN]
