"""Durable flows: the stored record and one flow's link to its store.

Rules of this module: the runtime does no I/O of its own; a
:class:`~taskchart.runtime.store.Store` (:mod:`taskchart.adapters.stores`
has SQLite and Redis) does. A stored
record is JSON: format, flow id, sequence number, status, the application's
``version``, the chart's digest (:mod:`taskchart.runtime.digest`) and the
state, in clear or sealed with the application's Fernet keys. Card data is
never stored in clear: a ``secret`` flow saved without keys keeps no state
at all, only where it was (``dropped``), and starts that part again.

Theory of operation: :class:`Checkpointer` takes the flow's lease, loads a
running record and checks it (format, sequence, version with migrations,
digest) before anything is restored; every later save is a compare-and-set
on the sequence number, so a stale writer can never overwrite a newer
state. A store that cannot be reached is logged and the call goes on in
memory (:attr:`Checkpointer.error` holds why).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict

import attrs

from .digest import changes
from .logs import get_logger
from .store import Row, Store
from .store_errors import (
    ChartChanged,
    CorruptRecord,
    LeaseHeld,
    RecordError,
    SaveFailed,
    StaleWrite,
    StoreError,
    StoreUnavailable,
    VersionMismatch,
    flow_ref,
)

__all__ = [
    "ABANDON",
    "FORMAT",
    "ChartChanged",
    "Checkpointer",
    "CorruptRecord",
    "Durability",
    "LeaseHeld",
    "Loaded",
    "Migrations",
    "RecordError",
    "Records",
    "Row",
    "SaveFailed",
    "StaleWrite",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "VersionMismatch",
    "checkpointer",
]

FORMAT = "taskchart.stored/1"
DROPPED = "card data is never stored without an encryption key"
#: Seconds a running flow untouched is kept by default (a day): then it counts as abandoned.
ABANDON = 24 * 3600.0
#: Seconds a flow's lease lasts unless renewed, by default.
LEASE_TTL = 15.0
#: How long closing waits, past a lease's time, for a renewal in flight to finish.
_RENEWAL_GRACE = 5.0

_log = get_logger("taskchart.stores")


Migration = Callable[[dict[str, Any]], dict[str, Any]]


class Migrations:
    """An application's steps from one stored version to the next, on the stored state dict.

    >>> migrations = Migrations()
    >>> @migrations.register(1)
    ... def rename(state):
    ...     return {**state, "renamed": True}
    >>> migrations.upgrade({}, 1, 2)
    {'renamed': True}
    """

    def __init__(self) -> None:
        self._steps: dict[int, Migration] = {}

    def register(self, from_version: int) -> Callable[[Migration], Migration]:
        """Decorate ``f(state) -> state`` taking version ``from_version`` to the next."""

        def add(step: Migration) -> Migration:
            self._steps[from_version] = step
            return step

        return add

    def upgrade(self, state: dict[str, Any], old: int, new: int) -> dict[str, Any]:
        for version in range(old, new):
            step = self._steps.get(version)
            if step is None:
                raise VersionMismatch(
                    f"no migration from version {version} to {version + 1} "
                    f"(stored {old}, this application {new})"
                )
            state = step(state)
        return state


@attrs.frozen
class Loaded:
    """A checked record: its state (None when dropped), version and where it came from."""

    state: dict[str, Any] | None
    seq: int
    version: int
    migrated: bool
    dropped: bool
    finished: bool = False


class Records:
    """How records are written and read: the version, the keys and the migrations.

    ``keys`` are Fernet keys, the first one encrypting (the others still
    decrypt, for rotation); with none, states are stored in clear, except
    ``secret`` ones, which are not stored. ``retain``: seconds a finished
    flow is kept (``None``: until deleted; 0: deleted at once). ``abandon``:
    seconds a running flow is kept after its last save (a session closed
    mid-call that no worker picked up); then it is gone, as if never stored
    (``None``: kept until it finishes or is deleted).
    """

    def __init__(
        self,
        *,
        keys: Iterable[str | bytes] = (),
        version: int = 1,
        migrations: Migrations | None = None,
        retain: float | None = 3600.0,
        abandon: float | None = ABANDON,
    ) -> None:
        if abandon is not None and abandon <= 0:
            raise ValueError("abandon is a number of seconds > 0, or None to keep running flows")
        self.keys = tuple(keys)
        self.version = version
        self.migrations = migrations or Migrations()
        self.retain = retain
        self.abandon = abandon
        self._fernet: Any = None
        if self.keys:
            from cryptography.fernet import Fernet, MultiFernet

            self._fernet = MultiFernet([Fernet(k) for k in self.keys])

    @property
    def sealed(self) -> bool:
        return self._fernet is not None

    def encode(
        self,
        flow_id: str,
        seq: int,
        *,
        kind: str,
        digest: Mapping[str, str],
        state: Mapping[str, Any] | None,
        finished: bool = False,
        secret: bool = False,
    ) -> bytes:
        record: dict[str, Any] = {
            "format": FORMAT,
            "flow_id": flow_id,
            "seq": seq,
            "status": "finished" if finished else "running",
            "version": self.version,
            "kind": kind,
            "digest": dict(digest),
            "saved_at": time.time(),
        }
        if state is None or (secret and not self.sealed):
            record["dropped"] = DROPPED if state is not None else "finished"
        elif self._fernet is not None:
            plain = json.dumps(state, separators=(",", ":")).encode()
            record["sealed"] = self._fernet.encrypt(plain).decode("ascii")
        else:
            record["state"] = state
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()

    def header(self, row: Row) -> dict[str, Any]:
        """The record's clear part, checked against its row (:class:`CorruptRecord` if unfit)."""
        try:
            record = json.loads(row.data)
        except (ValueError, UnicodeDecodeError):
            raise CorruptRecord(f"stored flow {flow_ref(row.flow_id)} is not JSON") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise CorruptRecord(f"stored flow {flow_ref(row.flow_id)} is not a {FORMAT} record")
        for key, want in (("flow_id", row.flow_id), ("seq", row.seq), ("status", row.status)):
            if record.get(key) != want:
                raise CorruptRecord(
                    f"stored flow {flow_ref(row.flow_id)}: the record's {key} does not match its row"
                )
        if not isinstance(record.get("version"), int) or not isinstance(record.get("digest"), dict):
            raise CorruptRecord(f"stored flow {flow_ref(row.flow_id)} lacks its version or digest")
        return record

    def decode(self, row: Row, *, kind: str, digest: Mapping[str, str]) -> Loaded:
        """The checked state of ``row`` for a flow of ``kind`` whose chart has ``digest``."""
        record = self.header(row)
        if record.get("kind") != kind:
            raise RecordError(
                f"stored flow {flow_ref(row.flow_id)} is a {record.get('kind')!r}, not a {kind!r}"
            )
        state = self._state(row.flow_id, record)
        version: int = record["version"]
        if version > self.version:
            raise VersionMismatch(
                f"stored flow {flow_ref(row.flow_id)} was saved by version {version}, "
                f"newer than this application's {self.version}"
            )
        migrated = version < self.version
        dropped = record.get("dropped") == DROPPED
        finished = row.status == "finished"
        if migrated:  # the application's migration vouches for the state it returns
            if not dropped:  # nothing was kept to migrate: the flow starts again
                state = self.migrations.upgrade(state or {}, version, self.version)
        else:
            what = changes(record["digest"], digest)
            if what and not finished:
                raise ChartChanged(row.flow_id, what)
            if what:  # a finished call of another chart: a new call runs anew
                state = None
        return Loaded(state, row.seq, version, migrated, dropped, finished)

    def peek(self, row: Row) -> dict[str, Any] | None:
        """The state ``row`` holds, unchecked against any chart (for tools that inspect stores)."""
        return self._state(row.flow_id, self.header(row))

    def fits(self, row: Row, digest: Mapping[str, str]) -> list[str]:
        """Why ``row`` cannot be resumed by a chart with ``digest`` (empty: it can)."""
        try:
            record = self.header(row)
        except RecordError as exc:
            return [str(exc)]
        version = record["version"]
        if version > self.version:
            return [f"saved by version {version}, newer than {self.version}"]
        if version < self.version:
            missing = [v for v in range(version, self.version) if v not in self.migrations._steps]
            return [f"no migration from version {v}" for v in missing]
        return changes(record["digest"], digest)

    def _state(self, flow_id: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
        if "sealed" in record:
            if self._fernet is None:
                raise CorruptRecord(f"stored flow {flow_ref(flow_id)} is encrypted: pass the keys")
            from cryptography.fernet import InvalidToken

            try:
                state = json.loads(self._fernet.decrypt(str(record["sealed"]).encode()))
            except (InvalidToken, ValueError):
                raise CorruptRecord(
                    f"stored flow {flow_ref(flow_id)} cannot be decrypted with the keys given"
                ) from None
        elif "dropped" in record:
            return None
        else:
            state = record.get("state")
        if not isinstance(state, dict):
            raise CorruptRecord(f"stored flow {flow_ref(flow_id)} holds no state object")
        return state


class Durability(TypedDict, total=False):
    """The keywords that make a flow durable: ``store`` and ``flow_id`` (both, or neither);
    ``secret`` for a flow holding card data (stored only under a key); ``lease_ttl`` and
    ``lease_wait`` (see :class:`Checkpointer`)."""

    store: Store | None
    flow_id: str | None
    secret: bool
    lease_ttl: float
    lease_wait: float


def checkpointer(durable: Durability, *, kind: str, digest: Mapping[str, str]) -> Checkpointer:
    """The link to its store of a flow of ``kind`` made durable by ``durable``."""
    store, flow_id = durable.get("store"), durable.get("flow_id")
    if store is None or flow_id is None:
        raise ValueError("a durable flow needs both a store and a flow_id")
    # the link's own defaults stand for what was not given
    given: dict[str, Any] = {k: v for k, v in durable.items() if k not in ("store", "flow_id")}
    return Checkpointer(store, flow_id, kind=kind, digest=digest, **given)


class Checkpointer:
    """One flow's link to a store: its lease, its last sequence number, its saves.

    ``lease_ttl`` seconds a lease lasts unless renewed (every third of it,
    while open); ``lease_wait`` seconds :meth:`open` waits for another
    worker's lease to end before raising :class:`LeaseHeld`.
    """

    def __init__(
        self,
        store: Store,
        flow_id: str,
        *,
        kind: str,
        digest: Mapping[str, str],
        secret: bool = False,
        lease_ttl: float = LEASE_TTL,
        lease_wait: float = 0.0,
        owner: str | None = None,
    ) -> None:
        if not isinstance(flow_id, str) or not flow_id:
            raise ValueError("a flow id must be a non-empty string")
        self.store = store
        self.flow_id = flow_id
        self.kind = kind
        self.digest = dict(digest)
        self.secret = secret
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait
        self.owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.seq = 0
        #: The last store failure while the flow went on in memory (None: all saved).
        self.error: StoreError | None = None
        self.lease_lost = False
        self._leased = False
        self._renewer: asyncio.Task[None] | None = None
        self._stop_renewing: asyncio.Event | None = None  # the renewer's own, set by close
        self._lock = asyncio.Lock()
        self._ref = flow_ref(flow_id)

    async def open(self) -> Loaded | None:
        """Take the lease and load: the checked record of the flow, or None.

        A finished record comes back only when it kept its state (``finished``
        is set then): a caller may take its results instead of running again.

        :class:`LeaseHeld` when another worker keeps the flow past ``lease_wait``;
        :class:`RecordError` when the stored flow cannot be resumed.
        """
        try:
            await self._acquire()
            row = await self.store.load(self.flow_id)
            if row is None:
                return None
            self.seq = row.seq
            loaded = self.store.records.decode(row, kind=self.kind, digest=self.digest)
        except StoreUnavailable as exc:
            self._unavailable(exc, "open")
            return None
        except BaseException:
            await self.close()  # a flow that cannot be resumed keeps no lease
            raise
        _log.info("flow_loaded", flow=self._ref, seq=row.seq, migrated=loaded.migrated)
        return loaded

    async def _acquire(self) -> None:
        deadline = time.monotonic() + self.lease_wait
        while not await self.store.acquire(self.flow_id, self.owner, self.lease_ttl):
            if time.monotonic() >= deadline:
                raise LeaseHeld(f"another worker holds flow {self._ref}")
            await asyncio.sleep(min(0.05, max(0.005, self.lease_ttl / 20)))
        self._leased = True
        if self._renewer is None:
            # One event per renewer, made in the loop it runs in: an event is bound to the
            # loop it first waits in, and a renewer still finishing keeps its own.
            self._stop_renewing = stop = asyncio.Event()
            self._renewer = asyncio.get_running_loop().create_task(self._renew(stop))

    async def _renew(self, stop: asyncio.Event) -> None:
        while True:
            try:  # a wait that close() ends early; a renewal itself is never cancelled
                await asyncio.wait_for(stop.wait(), self.lease_ttl / 3)
                return
            except TimeoutError:
                pass
            try:
                if not await self.store.renew(self.flow_id, self.owner, self.lease_ttl):
                    self.lease_lost = True
                    _log.error("lease_lost", flow=self._ref)
                    return
            except StoreError as exc:
                _log.warning("lease_renewal_failed", flow=self._ref, error=type(exc).__name__)

    async def save(
        self, state: Callable[[], Mapping[str, Any] | None], *, finished: bool = False
    ) -> bool:
        """Save ``state()`` (called once the previous save is done); False if it stayed in memory.

        :class:`StaleWrite` when another worker wrote the flow since.
        """
        async with self._lock:
            if self.lease_lost:  # another worker may run the flow now: it is theirs to save
                raise StaleWrite(f"the lease of flow {self._ref} was lost: the flow is not saved")
            data = self.store.records.encode(
                self.flow_id,
                self.seq + 1,
                kind=self.kind,
                digest=self.digest,
                state=state(),
                finished=finished,
                secret=self.secret,
            )
            write = asyncio.ensure_future(
                self.store.save(
                    self.flow_id,
                    data,
                    expected=self.seq,
                    finished=finished,
                    retain=self.store.records.retain,
                )
            )
            write.add_done_callback(self._written)  # the sequence follows every write done
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                if not write.done():  # the write goes on: the next save waits for it
                    await asyncio.wait([write])
                raise
            except StoreUnavailable as exc:
                self._unavailable(exc, "save")
                return False
            except StaleWrite:
                _log.error("stale_write", flow=self._ref, seq=self.seq)
                raise
            if self.error is not None:
                _log.warning("store_reachable_again", flow=self._ref, seq=self.seq)
                self.error = None
            return True

    def _written(self, write: asyncio.Future[int]) -> None:
        if not write.cancelled() and write.exception() is None:
            self.seq = write.result()

    async def close(self) -> None:
        """Stop renewing and give the lease back (a store that is gone lets it expire)."""
        if self._renewer is not None:
            # A renewal in flight is let finish (the store bounds it): a store command
            # cancelled half-way can leave the client's connection pool waiting for ever.
            renewer, self._renewer = self._renewer, None
            if self._stop_renewing is not None:
                self._stop_renewing.set()
            await asyncio.wait({renewer}, timeout=self.lease_ttl + _RENEWAL_GRACE)
            if not renewer.done():  # a store that does not answer in time: given up on
                renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                if renewer.done():
                    renewer.result()
        if self._leased:
            self._leased = False
            with contextlib.suppress(StoreError):
                await self.store.release(self.flow_id, self.owner)

    def _unavailable(self, exc: StoreUnavailable, during: str) -> None:
        if self.error is None:
            _log.warning(
                "store_unavailable",
                flow=self._ref,
                during=during,
                error=str(exc)[:200],
                effect="the call goes on in memory",
            )
        self.error = exc
