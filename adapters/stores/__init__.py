"""Stores for durable flows: :class:`SQLiteStore` (one file, no server) and :class:`RedisStore`.

A store keeps one record per flow id (the application's choice, e.g. the
room name and the caller's identity), writes it with a compare-and-set on
its sequence number and leases the flow to one worker at a time. What a
record holds and how it is checked, sealed and migrated is
:mod:`taskchart.runtime.durable`'s. :func:`open_store` opens one from a URL::

    store = open_store("sqlite:///var/lib/agent/flows.db", keys=[FERNET_KEY], version=2)
    store = open_store("redis://localhost:6379/0")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskchart.runtime import store_errors
from taskchart.runtime.durable import Migrations, Records
from taskchart.runtime.store import Row, Store
from taskchart.runtime.store_errors import *  # noqa: F403  (what a store raises)

from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .redis import RedisStore

__all__ = ["Migrations", "Records", "RedisStore", "Row", "SQLiteStore", "Store", "open_store"]
__all__ += store_errors.__all__


def __getattr__(name: str) -> Any:
    if name == "RedisStore":  # imports the redis client only when asked for
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(name)


def open_store(url: str, **options: Any) -> Store:
    """A store from ``sqlite:///path`` (``sqlite:///:memory:`` is not durable) or ``redis://...``."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path.startswith("/") or len(path) < 2:
            raise ValueError(f"a SQLite store URL is sqlite:///path/to/file.db, not {url!r}")
        return SQLiteStore(path, **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        redis_store: Store = RedisStore(url, **options)
        return redis_store
    raise ValueError(f"unknown store URL {url!r}: use sqlite:///path or redis://host:port/db")
