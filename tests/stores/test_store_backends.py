"""Every store: compare-and-set saves, leases, finished flows, private files."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from taskchart.adapters.stores import (
    CorruptRecord,
    SQLiteStore,
    StaleWrite,
    Store,
    StoreUnavailable,
    open_store,
)
from taskchart.runtime.store import StoreBase


async def test_a_save_is_a_compare_and_set_on_the_sequence(store: Store) -> None:
    assert await store.load("room-1/ada") is None
    assert await store.save("room-1/ada", b"one", expected=0) == 1
    assert await store.save("room-1/ada", b"two", expected=1) == 2
    with pytest.raises(StaleWrite, match="expected sequence 1, the store has 2"):
        await store.save("room-1/ada", b"stale", expected=1)  # a writer that missed "two"
    with pytest.raises(StaleWrite):
        await store.save("room-1/ada", b"new flow", expected=0)
    row = await store.load("room-1/ada")
    assert row is not None
    assert (row.seq, row.status, row.data) == (2, "running", b"two")
    assert await store.running() == ["room-1/ada"]


async def test_two_writers_racing_from_one_sequence_leave_one_winner(store: Store) -> None:
    await store.save("f", b"base", expected=0)
    results = await asyncio.gather(
        *(store.save("f", f"w{i}".encode(), expected=1) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if r == 2) == 1
    assert sum(1 for r in results if isinstance(r, StaleWrite)) == 4
    row = await store.load("f")
    assert row is not None and row.seq == 2 and row.data in {f"w{i}".encode() for i in range(5)}


async def test_a_lease_is_held_by_one_owner_until_released_or_expired(store: Store) -> None:
    assert await store.acquire("f", "worker-a", 5.0)
    assert await store.acquire("f", "worker-a", 5.0)  # its own lease again
    assert not await store.acquire("f", "worker-b", 5.0)
    assert await store.renew("f", "worker-a", 5.0)
    assert not await store.renew("f", "worker-b", 5.0)
    await store.release("f", "worker-b")  # not its lease: nothing happens
    assert not await store.acquire("f", "worker-b", 5.0)
    await store.release("f", "worker-a")
    assert await store.acquire("f", "worker-b", 0.2)
    await asyncio.sleep(0.35)  # worker-b died: its lease runs out
    assert not await store.renew("f", "worker-b", 5.0)  # too late: the lease is gone
    assert await store.acquire("f", "worker-c", 5.0)


async def test_a_finished_flow_is_kept_for_its_time_then_gone(store: Store) -> None:
    await store.save("kept", b"a", expected=0)
    await store.save("kept", b"done", expected=1, finished=True, retain=0.3)
    await store.save("gone", b"a", expected=0)
    await store.save("gone", b"done", expected=1, finished=True, retain=0)
    row = await store.load("kept")
    assert row is not None and row.status == "finished"
    assert await store.load("gone") is None
    assert await store.running() == []
    await asyncio.sleep(0.4)
    assert await store.load("kept") is None
    assert await store.save("kept", b"a new call", expected=0) == 1  # the id is free again


async def test_a_running_flow_untouched_for_its_time_is_abandoned(
    make_store: Callable[..., Store],
) -> None:
    store = make_store(abandon=0.3)
    await store.save("left", b"a", expected=0)  # a session closed mid-call, no one came back
    await store.save("busy", b"a", expected=0)
    await asyncio.sleep(0.2)
    await store.save("busy", b"b", expected=1)  # a save keeps a running flow another while
    await asyncio.sleep(0.2)
    assert await store.load("left") is None
    assert await store.running() == ["busy"]
    row = await store.load("busy")
    assert row is not None and (row.seq, row.status) == (2, "running")
    assert await store.save("left", b"a new call", expected=0) == 1  # the id is free again
    await asyncio.sleep(0.4)
    assert await store.running() == []


async def test_running_flows_are_kept_a_day_by_default_or_for_ever(
    make_store: Callable[..., Store],
) -> None:
    assert make_store().records.abandon == 24 * 3600
    store = make_store(abandon=None)
    await store.save("kept", b"a", expected=0)
    assert await store.running() == ["kept"]
    with pytest.raises(ValueError, match="abandon"):
        make_store(abandon=0)


async def test_many_flows_concurrently_lose_nothing(store: Store) -> None:
    async def flow(i: int) -> None:
        for seq in range(5):
            await store.save(f"flow-{i}", f"{i}:{seq}".encode(), expected=seq)

    # more flows at once than a client's connections: they wait for one, none fails
    await asyncio.gather(*(flow(i) for i in range(300)))
    rows = [await store.load(f"flow-{i}") for i in range(300)]
    assert [(r.seq, r.data) for r in rows if r] == [(5, f"{i}:4".encode()) for i in range(300)]


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "flows.db")

    async def write() -> None:
        await store.save("f", b"x", expected=0)
        await store.aclose()

    asyncio.run(write())
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_store_url_names_its_backend(tmp_path: Path) -> None:
    store: Any = open_store(f"sqlite://{tmp_path}/flows.db", version=3)
    assert isinstance(store, SQLiteStore) and store.records.version == 3
    for bad in ("sqlite://flows.db", "postgres://x", "flows.db"):
        with pytest.raises(ValueError, match="store URL"):
            open_store(bad)


async def test_a_finished_flow_kept_for_ever_outlives_the_abandon_time(
    make_store: Callable[..., Store],
) -> None:
    store = make_store(abandon=0.3)
    await store.save("kept", b"a", expected=0)
    await store.save("kept", b"done", expected=1, finished=True, retain=None)
    await asyncio.sleep(0.4)
    row = await store.load("kept")
    assert row is not None and (row.seq, row.status, row.data) == (2, "finished", b"done")


async def put_raw(store: Store, flow_id: str, seq: Any, status: Any, data: Any) -> None:
    """Write a row behind the store's back, as an edit or a torn write would."""
    if isinstance(store, SQLiteStore):
        await store.running()  # the schema
        with sqlite3.connect(store.path) as db:
            db.execute(
                "INSERT INTO taskchart_flows VALUES (?, ?, ?, ?, 0, NULL)",
                (flow_id, seq, status, data),
            )
        return
    fields = {"seq": seq, "status": status, "data": data}
    await store._client.hset(  # type: ignore[attr-defined]
        f"{store.prefix}:flow:{flow_id}",  # type: ignore[attr-defined]
        mapping={k: v for k, v in fields.items() if v is not None},
    )


@pytest.mark.parametrize(("seq", "status", "data"), [(1, "bogus", b"x"), ("abc", "running", b"x")])
async def test_a_row_that_is_not_a_record_is_a_corrupt_record(
    store: Store, seq: Any, status: Any, data: Any
) -> None:
    await put_raw(store, "room/ada", seq, status, data)
    with pytest.raises(CorruptRecord, match="is not a record") as raised:
        await store.load("room/ada")
    assert "ada" not in str(raised.value)  # the flow id may name the caller


async def test_a_sqlite_row_holding_text_instead_of_a_blob_is_a_corrupt_record(
    tmp_path: Path,
) -> None:  # SQLite alone tells text from a blob: Redis keeps both as bytes
    store = SQLiteStore(tmp_path / "flows.db")
    await put_raw(store, "room/ada", 1, "running", "text, not bytes")
    with pytest.raises(CorruptRecord, match="is not a record"):
        await store.load("room/ada")
    await store.aclose()


async def test_a_sqlite_file_that_cannot_be_created_is_an_unreachable_store(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "no-such-dir" / "flows.db")
    with pytest.raises(StoreUnavailable, match="No such file or directory"):
        await store.load("room/ada")
    (tmp_path / "no-such-dir").mkdir()  # once it can be, the store works
    assert await store.save("room/ada", b"a", expected=0) == 1
    await store.aclose()


def test_a_store_of_ones_own_needs_only_what_a_durable_flow_calls() -> None:
    """The protocol a third-party store is checked against (mypy) names the methods a flow
    calls, as it did before the backends shared one save: a backend's own write is not one."""
    assert {name for name in vars(Store) if not name.startswith("_")} == {
        "load",
        "save",
        "acquire",
        "renew",
        "release",
        "running",
        "aclose",
    }
    assert Store.__annotations__ == {"records": "Records"}
    assert issubclass(SQLiteStore, StoreBase)
