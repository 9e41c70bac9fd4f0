"""A worker process for the crash tests: the interview group, then the card task, on a store.

It runs a real offline ``AgentSession`` whose scripted model calls, in each
request, the next tool of :data:`PLAN` that is offered. ``kill_at=n`` makes
it stop at its n-th save, after it (``during=False``) or inside its write
(``during=True``), tell the parent, and wait to be killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import Any

from livekit.agents import Agent
from taskchart.adapters.livekit import GetCreditCardTask
from taskchart.adapters.livekit.testing import Call, OfflineSession, Request, ScriptedLLM
from taskchart.adapters.stores import RedisStore, SQLiteStore, Store

from examples.interview import build_group

LEASE = 0.25
PLAN: list[tuple[str, dict[str, Any]]] = [
    ("record_intro", {"name": "Ada", "intro_notes": "a mathematician"}),
    ("record_commute_flexibility", {"can_commute": True, "commute_method": "bike"}),
    ("update_card_number", {"card_number": "4111 1111 1111 1111"}),
    ("update_expiration_date", {"expiration_month": 4, "expiration_year": 31}),
    ("update_security_code", {"security_code": "123"}),
    ("update_name", {"first_name": "Ada", "last_name": "Lovelace"}),
]


def probe(base: type[Any]) -> type[Any]:
    """``base`` (a store class) that counts its saves and stops at the chosen one."""

    class Probe(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, kill_at: int, during: bool, conn: Connection, **kw: Any):
            super().__init__(*args, **kw)
            self.saves, self.kill_at, self.during, self.conn = 0, kill_at, during, conn
            self._pause = False

        async def save(self, *args: Any, **kw: Any) -> int:
            self.saves += 1
            hit = self.saves == self.kill_at
            self._pause = hit and self.during
            seq = await super().save(*args, **kw)
            if hit:  # the save is done: the call stops here (the lease is still renewed)
                self.conn.send(("kill me", self.saves))
                await asyncio.sleep(60)
            return int(seq)

        def _during_write(self) -> None:
            if self._pause:  # inside the write (SQLite: in its transaction)
                self._stop()

        def _stop(self) -> None:
            self.conn.send(("kill me", self.saves))
            time.sleep(60)  # the whole process stops, mid-write

    return Probe


class Call_(Agent):
    """The call: the interview group, then the card."""

    def __init__(self, store: Store, flow_id: str) -> None:
        super().__init__(instructions="You run the call.")
        self.store, self.flow_id = store, flow_id
        self.results: Any = None
        self.error: BaseException | None = None

    async def on_enter(self) -> None:
        try:
            await self._call()
        except Exception as exc:  # the call cannot go on (a lost lease, say): said to the parent
            self.error = exc

    async def _call(self) -> None:
        durable = {"store": self.store, "lease_ttl": LEASE, "lease_wait": 30.0}
        group = build_group(
            chat_ctx=self.chat_ctx,
            summarize_chat_ctx=False,
            flow_id=f"{self.flow_id}/interview",
            **durable,
        )
        interview = await group
        card = await GetCreditCardTask(
            chat_ctx=self.chat_ctx, flow_id=f"{self.flow_id}/card", **durable
        )
        self.results = (interview.task_results, card)


def work(url: str, flow_id: str, key: bytes, kill_at: int, during: bool, conn: Connection) -> None:
    """The worker process's entry point."""
    try:
        asyncio.run(_work(url, flow_id, key, kill_at, during, conn))
    except BaseException as exc:  # said, not left for the parent to wait out
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        raise


async def _work(
    url: str, flow_id: str, key: bytes, kill_at: int, during: bool, conn: Connection
) -> None:
    base = SQLiteStore if url.startswith("sqlite://") else RedisStore
    where = url.removeprefix("sqlite://") if base is SQLiteStore else url
    store = probe(base)(where, keys=[key], kill_at=kill_at, during=during, conn=conn)
    made: list[str] = []

    def step(request: Request) -> Any:
        if request.is_summary:
            return "A summary."
        for name, arguments in PLAN:
            if name in request.tools:
                made.append(name)
                return Call(name, arguments)
        return "Go on."

    agent = Call_(store, flow_id)
    model = ScriptedLLM([step] * 1000)
    deadline = time.monotonic() + 30
    async with OfflineSession(agent=agent, llm=model, userdata=SimpleNamespace()) as offline:
        while agent.results is None and agent.error is None and time.monotonic() < deadline:
            calls = len(made)
            with contextlib.suppress(RuntimeError):  # between two agents (a handover): not now
                await offline.say("go on")
            if len(made) == calls:  # nothing to do yet (waiting on a lease)
                await asyncio.sleep(0.02)
        accepted = [
            item.name
            for item in offline.session.history.items
            if item.type == "function_call_output" and not item.is_error
        ]
        refused = [
            (item.name, item.output)
            for item in offline.session.history.items
            if item.type == "function_call_output" and item.is_error
        ]
    await store.aclose()
    if agent.error is not None:
        conn.send(("failed", f"{type(agent.error).__name__}: {agent.error}"))
        return
    conn.send(("done", accepted, agent.results, store.saves, refused))
