"""``SQLiteStore``: durable flows in one SQLite file (standard library, WAL, no server).

Rules of this file: one row per flow (sequence number, status, record) and
one lease row per flow (owner, expiry on the wall clock). A row expires
``retain`` seconds after its flow finished, or ``abandon`` seconds after
its last save while running; an expired row is never loaded and is deleted
by the next :meth:`~SQLiteStore.running` or new save of its id. Every write is one
``BEGIN IMMEDIATE`` transaction: a process killed at any point leaves the
previous state or the new one, never a torn row. Calls run on a worker
thread, one at a time per store (sqlite3 connections are not shared across
threads at once); several processes share the file through SQLite's locks.
The file (and its WAL) is created mode 0600.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, Unpack

from taskchart.runtime.durable import Records
from taskchart.runtime.store import RecordOptions, Row, Status, StoreBase, stored_row
from taskchart.runtime.store_errors import StaleWrite, StoreUnavailable
from taskchart.statecharts.keywords import check_keywords

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS taskchart_flows (
    flow_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    data BLOB NOT NULL,
    updated REAL NOT NULL,
    expires REAL
);
CREATE INDEX IF NOT EXISTS taskchart_flows_expires ON taskchart_flows (expires)
    WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS taskchart_leases (
    flow_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
"""


class SQLiteStore(StoreBase):
    """Flows in the SQLite file ``path``; ``keys``, ``version``, ``migrations``, ``retain``,
    ``abandon`` shape the records (:class:`~taskchart.runtime.durable.Records`).

    ``synchronous`` is SQLite's setting: ``"NORMAL"`` (the default) survives a
    killed process, ``"FULL"`` also a power cut, at an fsync per save.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        timeout: float = 30.0,
        **records: Unpack[RecordOptions],
    ) -> None:
        check_keywords("SQLiteStore", records, RecordOptions)
        self.path = Path(path)
        self.records = Records(**records)
        self._synchronous = synchronous
        self._timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # -- the Store protocol ---------------------------------------------------------
    async def load(self, flow_id: str) -> Row | None:
        def load(db: sqlite3.Connection) -> Row | None:
            found = db.execute(
                "SELECT seq, status, data FROM taskchart_flows WHERE flow_id = ?"
                " AND (expires IS NULL OR expires > ?)",
                (flow_id, time.time()),
            ).fetchone()
            if found is None:
                return None
            return stored_row(flow_id, *found)

        return await self._run(load)

    async def write(
        self, flow_id: str, data: bytes, expected: int, status: Status, keep: float | None
    ) -> int:
        def write(db: sqlite3.Connection) -> int:
            now = time.time()
            expires = now + keep if keep is not None else None
            db.execute("BEGIN IMMEDIATE")
            try:
                if expected == 0:
                    db.execute(  # a finished row past its time no longer holds the id
                        "DELETE FROM taskchart_flows WHERE flow_id = ? AND expires <= ?",
                        (flow_id, now),
                    )
                    cursor = db.execute(
                        "INSERT INTO taskchart_flows (flow_id, seq, status, data, updated, expires)"
                        " VALUES (?, 1, ?, ?, ?, ?) ON CONFLICT (flow_id) DO NOTHING",
                        (flow_id, status, data, now, expires),
                    )
                else:
                    cursor = db.execute(
                        "UPDATE taskchart_flows SET seq = seq + 1, status = ?, data = ?,"
                        " updated = ?, expires = ? WHERE flow_id = ? AND seq = ?",
                        (status, data, now, expires, flow_id, expected),
                    )
                if cursor.rowcount != 1:
                    found = db.execute(
                        "SELECT seq FROM taskchart_flows WHERE flow_id = ?", (flow_id,)
                    ).fetchone()
                    raise StaleWrite(
                        f"save expected sequence {expected}, the store has "
                        f"{found[0] if found else 'no row'}"
                    )
                self._during_write()
                if keep == 0:
                    db.execute("DELETE FROM taskchart_flows WHERE flow_id = ?", (flow_id,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return expected + 1

        return await self._run(write)

    async def acquire(self, flow_id: str, owner: str, ttl: float) -> bool:
        def acquire(db: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = db.execute(
                "INSERT INTO taskchart_leases (flow_id, owner, until) VALUES (?, ?, ?)"
                " ON CONFLICT (flow_id) DO UPDATE SET owner = excluded.owner,"
                " until = excluded.until WHERE taskchart_leases.until <= ?"
                " OR taskchart_leases.owner = excluded.owner",
                (flow_id, owner, now + ttl, now),
            )
            return cursor.rowcount == 1

        return await self._run(acquire)

    async def renew(self, flow_id: str, owner: str, ttl: float) -> bool:
        def renew(db: sqlite3.Connection) -> bool:
            now = time.time()  # a lease that ran out is gone, as in Redis
            cursor = db.execute(
                "UPDATE taskchart_leases SET until = ? WHERE flow_id = ? AND owner = ?"
                " AND until > ?",
                (now + ttl, flow_id, owner, now),
            )
            return cursor.rowcount == 1

        return await self._run(renew)

    async def release(self, flow_id: str, owner: str) -> None:
        def release(db: sqlite3.Connection) -> None:
            db.execute(
                "DELETE FROM taskchart_leases WHERE flow_id = ? AND owner = ?", (flow_id, owner)
            )

        await self._run(release)

    async def running(self) -> list[str]:
        def running(db: sqlite3.Connection) -> list[str]:
            db.execute(
                "DELETE FROM taskchart_flows WHERE expires IS NOT NULL AND expires <= ?",
                (time.time(),),
            )
            rows = db.execute(
                "SELECT flow_id FROM taskchart_flows WHERE status = 'running' ORDER BY flow_id"
            )
            return [r[0] for r in rows]

        return await self._run(running)

    async def delete(self, flow_id: str) -> None:
        """Forget a flow (its row and lease), whatever its state."""

        def delete(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM taskchart_flows WHERE flow_id = ?", (flow_id,))
            db.execute("DELETE FROM taskchart_leases WHERE flow_id = ?", (flow_id,))

        await self._run(delete)

    async def aclose(self) -> None:
        def close(_: sqlite3.Connection) -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        if self._conn is not None:
            await self._run(close)

    # -- internals ------------------------------------------------------------------
    def _during_write(self) -> None:
        """Called inside a save's transaction, before it commits (a test pauses here)."""

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._locked, work)

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return work(self._connect())
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite store {self.path.name!r}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                if not self.path.exists():  # created private before SQLite writes a byte
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError as exc:  # a missing directory, no permission: as unreachable
                raise StoreUnavailable(
                    f"SQLite store {self.path.name!r}: {exc.strerror or type(exc).__name__}"
                ) from exc
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {self._sync_mode()}")
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()  # half-opened: the next call tries again from the start
                raise
            self._conn = conn
        return self._conn

    def _sync_mode(self) -> str:
        mode = self._synchronous.upper()
        if mode not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {mode!r}")
        return mode

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
