"""Stores for durable flows: :class:`SQLiteStore` (one file, no server).

A store keeps one record per flow id (the application's choice, e.g. the
room name and the caller's identity), writes it with a compare-and-set on
its sequence number and leases the flow to one worker at a time. What a
record holds and how it is checked, sealed and migrated is
:mod:`taskchart.runtime.durable`'s. :func:`open_store` opens one from a URL::

    store = open_store("sqlite:///var/lib/agent/flows.db", keys=[FERNET_KEY], version=2)
"""

from __future__ import annotations

from typing import Any

from taskchart.runtime.durable import (
    ChartChanged,
    CorruptRecord,
    LeaseHeld,
    Migrations,
    RecordError,
    Records,
    Row,
    StaleWrite,
    Store,
    StoreError,
    StoreUnavailable,
    VersionMismatch,
)

from .sqlite import SQLiteStore

__all__ = [
    "ChartChanged",
    "CorruptRecord",
    "LeaseHeld",
    "Migrations",
    "RecordError",
    "Records",
    "Row",
    "SQLiteStore",
    "StaleWrite",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "VersionMismatch",
    "open_store",
]


def open_store(url: str, **options: Any) -> Store:
    """A store from ``sqlite:///path``."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path.startswith("/") or len(path) < 2:
            raise ValueError(f"a SQLite store URL is sqlite:///path/to/file.db, not {url!r}")
        return SQLiteStore(path, **options)
    raise ValueError(f"unknown store URL {url!r}: use sqlite:///path")
