"""Stored records: sequence, version and migrations, chart digest, encryption, card data."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from taskchart.adapters.stores import (
    ChartChanged,
    CorruptRecord,
    Migrations,
    SQLiteStore,
    StaleWrite,
    Store,
    VersionMismatch,
)
from taskchart.runtime.digest import chart_digest
from taskchart.runtime.durable import Checkpointer
from taskchart.runtime.store_errors import flow_ref
from taskchart.statecharts import Confirmation, Field, compile_chart, declarative_task
from taskchart.statecharts.prebuilt import gallery

CARD = "4111111111111111"


def _upper(text: str) -> str:
    return text.upper()


def _lower(text: str) -> str:
    return text.lower()


def digest(normalize: Any = _upper, confirmation: Confirmation = Confirmation.NEVER) -> Any:
    spec = declarative_task(
        "name", fields=[Field("name", normalize=normalize)], confirmation=confirmation
    )
    return chart_digest(compile_chart([spec, gallery.email()]))


def link(store: Store, d: Any = None, **options: Any) -> Checkpointer:
    return Checkpointer(store, "room-7/ada", kind="flow", digest=d or digest(), **options)


async def saved(store: Store, state: dict[str, Any], **options: Any) -> Checkpointer:
    writer = link(store, **options)
    assert await writer.open() is None
    await writer.save(lambda: state)
    await writer.close()
    return writer


async def test_a_record_round_trips_with_its_sequence(store: Store) -> None:
    writer = await saved(store, {"values": {"name": "ADA"}})
    reader = link(store)
    loaded = await reader.open()
    assert loaded is not None
    assert (loaded.state, loaded.seq, loaded.version) == ({"values": {"name": "ADA"}}, 1, 1)
    assert reader.seq == writer.seq == 1
    await reader.save(lambda: {"values": {"name": "BOB"}})
    with pytest.raises(StaleWrite):  # the first writer, come back, is stale
        await writer.save(lambda: {"values": {"name": "EVE"}})
    await reader.close()
    loaded = await link(store).open()
    assert loaded is not None and loaded.state == {"values": {"name": "BOB"}}


@pytest.mark.parametrize(
    ("changed", "words"),
    [
        ({"normalize": _lower}, "task 'name': field 'name' changed"),
        (  # a policy that confirms also offers the confirm tool
            {"confirmation": Confirmation.ALWAYS},
            "task 'name': the confirmation policy changed; task 'name': tools changed",
        ),
    ],
)
async def test_a_record_of_another_chart_is_refused_naming_what_changed(
    store: Store, changed: dict[str, Any], words: str
) -> None:
    await saved(store, {"values": {}})
    with pytest.raises(ChartChanged) as info:
        await link(store, digest(**changed)).open()
    ref = flow_ref("room-7/ada")  # the flow id may name the caller: errors show its hash
    assert str(info.value) == f"stored flow {ref} no longer fits the chart: {words}"
    assert ref.isalpha() and len(ref) == 12  # letters only: logs redact digits


async def test_a_record_of_another_task_order_is_refused(store: Store) -> None:
    await saved(store, {})
    spec = declarative_task("name", fields=[Field("name", normalize=_upper)])
    other = chart_digest(compile_chart([gallery.email(), spec]))
    with pytest.raises(ChartChanged, match="the tasks or their order changed"):
        await link(store, other).open()


async def test_a_newer_record_or_a_missing_migration_is_refused(
    make_store: Callable[..., Store],
) -> None:
    await saved(make_store(version=2), {"n": 1})
    with pytest.raises(VersionMismatch, match=r"saved by version 2, newer than this .* 1"):
        await link(make_store(version=1)).open()
    with pytest.raises(VersionMismatch, match="no migration from version 2 to 3"):
        await link(make_store(version=3)).open()


async def test_a_registered_migration_upgrades_the_stored_state(
    make_store: Callable[..., Store],
) -> None:
    await saved(make_store(version=1), {"values": {"full_name": "ADA"}})
    migrations = Migrations()

    @migrations.register(1)
    def rename(state: dict[str, Any]) -> dict[str, Any]:
        return {"values": {"name": state["values"].pop("full_name")}}

    @migrations.register(2)
    def mark(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "v3": True}

    # the chart changed too (its normaliser): the migration vouches for the state
    loaded = await link(make_store(version=3, migrations=migrations), digest(_lower)).open()
    assert loaded is not None and loaded.migrated
    assert loaded.state == {"values": {"name": "ADA"}, "v3": True}


async def test_a_corrupt_row_is_refused_and_nothing_is_restored(store: Store) -> None:
    await store.save("room-7/ada", b"\x00{torn", expected=0)
    with pytest.raises(CorruptRecord, match="is not JSON"):
        await link(store).open()
    record = json.dumps({"format": "taskchart.stored/1", "flow_id": "room-7/ada", "seq": 9})
    await store.save("room-7/ada", record.encode(), expected=1)
    with pytest.raises(CorruptRecord, match="the record's seq does not match its row"):
        await link(store).open()


async def test_records_are_encrypted_with_the_first_key_and_keys_rotate(
    make_store: Callable[..., Store],
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    await saved(make_store(keys=[old]), {"values": {"email": "ada@example.com"}})
    row = await make_store().load("room-7/ada")
    assert row is not None and b"ada@example.com" not in row.data
    with pytest.raises(CorruptRecord, match="is encrypted: pass the keys"):
        await link(make_store()).open()
    with pytest.raises(CorruptRecord, match="cannot be decrypted with the keys given"):
        await link(make_store(keys=[new])).open()
    rotated = link(make_store(keys=[new, old]))  # the new key first, the old one still read
    loaded = await rotated.open()
    assert loaded is not None and loaded.state == {"values": {"email": "ada@example.com"}}
    await rotated.save(lambda: loaded.state)
    await rotated.close()
    reader = link(make_store(keys=[new]))
    loaded = await reader.open()  # the old key is no longer needed
    assert loaded is not None and loaded.state == {"values": {"email": "ada@example.com"}}
    await reader.close()
    with pytest.raises(CorruptRecord):
        await link(make_store(keys=[old])).open()


async def test_card_data_is_never_stored_in_clear(make_store: Callable[..., Store]) -> None:
    state = {"values": {"card_number": CARD}}
    await saved(make_store(), state, secret=True)
    row = await make_store().load("room-7/ada")
    assert row is not None and CARD.encode() not in row.data and b"card_number" not in row.data
    reader = link(make_store())
    loaded = await reader.open()
    assert loaded is not None and loaded.dropped and loaded.state is None
    await reader.close()
    key = Fernet.generate_key()
    await make_store().save("room-7/ada", b"", expected=1, finished=True, retain=0)
    await saved(make_store(keys=[key]), state, secret=True)
    row = await make_store().load("room-7/ada")
    assert row is not None and CARD.encode() not in row.data
    loaded = await link(make_store(keys=[key])).open()
    assert loaded is not None and not loaded.dropped and loaded.state == state


async def test_a_cancelled_save_keeps_the_sequence_of_the_write_it_let_finish(
    store: Store,
) -> None:
    writer = link(store)
    await writer.open()
    await writer.save(lambda: {"values": {"name": "ADA"}})
    real = store.save

    async def slow(*args: Any, **kwargs: Any) -> int:
        await asyncio.sleep(0.2)  # a slow store: the write is under way when cancelled
        return await real(*args, **kwargs)

    store.save = slow  # type: ignore[method-assign]
    pending = asyncio.ensure_future(writer.save(lambda: {"values": {"name": "BOB"}}))
    await asyncio.sleep(0.05)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    store.save = real  # type: ignore[method-assign]
    row = await store.load("room-7/ada")
    assert row is not None and row.seq == writer.seq == 2
    assert await writer.save(lambda: {"values": {"name": "CY"}})  # not stale against itself
    row = await store.load("room-7/ada")
    assert row is not None and row.seq == 3
    await writer.close()


async def test_a_finished_record_of_a_changed_chart_lets_a_new_call_run(store: Store) -> None:
    writer = link(store, digest(_upper))
    await writer.open()
    await writer.save(lambda: {"values": {"name": "ADA"}}, finished=True)
    await writer.close()
    reader = link(store, digest(_lower))  # deployed since: a new call, not the old one
    loaded = await reader.open()
    assert loaded is not None and loaded.finished and loaded.state is None
    assert await reader.save(lambda: {"values": {"name": "bob"}})  # saved over the old
    await reader.close()
    with pytest.raises(ChartChanged):
        await link(store, digest(_upper)).open()  # a running record of another chart still is


async def test_a_worker_that_lost_its_lease_saves_no_more(store: Store) -> None:
    writer = link(store, lease_ttl=0.3)
    await writer.open()
    assert await writer.save(lambda: {"values": {"name": "ADA"}})
    await store.release("room-7/ada", writer.owner)  # it ran out; another worker took it
    assert await store.acquire("room-7/ada", "next-worker", 5.0)
    await asyncio.sleep(0.25)  # the next renewal finds it gone
    assert writer.lease_lost
    with pytest.raises(StaleWrite, match=r"lease of flow [a-p]{12} was lost"):
        await writer.save(lambda: {"values": {"name": "BOB"}})
    row = await store.load("room-7/ada")
    assert row is not None and row.seq == 1
    await writer.close()


async def test_closing_lets_a_renewal_in_flight_finish(store: Store) -> None:
    """A store command cancelled half-way can leave a client's connection pool stuck (a
    cancelled Redis renewal hung a worker for good): closing waits for it instead."""
    renewals: list[str] = []
    renew = store.renew

    async def slow_renew(flow_id: str, owner: str, ttl: float) -> bool:
        renewals.append("started")
        try:
            await asyncio.sleep(0.15)
        except asyncio.CancelledError:
            renewals.append("cancelled")
            raise
        renewals.append("finished")
        return await renew(flow_id, owner, ttl)

    store.renew = slow_renew  # type: ignore[method-assign]
    writer = link(store, lease_ttl=0.15)
    await writer.open()
    while not renewals:  # the first renewal is under way
        await asyncio.sleep(0.01)
    await writer.close()
    assert renewals == ["started", "finished"]
    assert await store.acquire("room-7/ada", "next-worker", 5.0)  # the lease was given back


#: The prebuilt charts' digests as stored by running calls (Python 3.11 bytecode).
PREBUILT_DIGESTS = {
    "get_address_task": "508e5616a61add09",
    "get_credit_card_task": "7b95c415adbf36ef",
    "get_dob_task": "cca5ba87de7d998f",
    "get_dtmf_task": "b2da1ff4bd438a20",
    "get_email_task": "739574e9dec26b03",
    "get_name_task": "e4b21aadfecf2255",
    "get_phone_number_task": "9a7c8fd188bc8525",
    "menu_task": "59e7ca8feb72f6a4",
}


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="digests hash Python 3.11 bytecode")
@pytest.mark.parametrize("name", sorted(PREBUILT_DIGESTS))
def test_a_prebuilt_chart_keeps_its_digest_so_running_calls_resume_after_a_deploy(
    name: str,
) -> None:
    """Code that reads the same may not change a stored flow's digest: a changed digest
    refuses every call in flight when the new version is deployed."""
    chart = compile_chart(gallery.GALLERY[name]())
    assert chart_digest(chart)["chart"] == PREBUILT_DIGESTS[name]


def test_a_link_opened_again_under_a_new_event_loop_keeps_renewing_its_lease(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "flows.db")
    writer = link(store, lease_ttl=0.3)

    async def hold() -> bool:
        """Open, outlive the lease's time (only renewals keep it), ask for it, close."""
        await writer.open()
        await asyncio.sleep(0.5)
        taken = await store.acquire("room-7/ada", "next-worker", 5.0)
        await writer.close()
        return taken

    assert asyncio.run(hold()) is False
    assert asyncio.run(hold()) is False  # the application run again, with the same link
    asyncio.run(store.aclose())
