"""``RedisStore``: durable flows in Redis, shared by every worker (the ``redis`` asyncio client).

Rules of this file: a flow is one hash (``seq``, ``status``, ``data``); a
save is one Lua script, so the compare-and-set on ``seq`` and the write are
atomic on the server and a worker killed mid-call leaves the old state or
the new one. The lease is a key set with ``SET NX PX`` (its owner as value),
renewed and released by scripts that check the owner. Running flows are
kept in a set. A finished flow's hash expires ``retain`` seconds after it
finished, a running one's ``abandon`` seconds after its last save (the
running set forgets it when next listed). A server that cannot be reached raises
:class:`~taskchart.runtime.durable.StoreUnavailable` after ``timeout``.
"""

from __future__ import annotations

import time
from typing import Any, Unpack

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskchart.runtime.durable import Records
from taskchart.runtime.store import RecordOptions, Row, Status, StoreBase, stored_row
from taskchart.runtime.store_errors import StaleWrite, StoreUnavailable
from taskchart.statecharts.keywords import check_keywords

__all__ = ["RedisStore"]

# KEYS: flow hash, running set. ARGV: expected seq, data, status, keep ms (-1: keep, 0: delete),
# flow id, now
_SAVE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
local seq = current + 1
redis.call('HSET', KEYS[1], 'seq', seq, 'status', ARGV[3], 'data', ARGV[2], 'updated', ARGV[6])
if ARGV[3] == 'running' then redis.call('SADD', KEYS[2], ARGV[5])
else redis.call('SREM', KEYS[2], ARGV[5]) end
local keep = tonumber(ARGV[4])
if keep == 0 then redis.call('DEL', KEYS[1])
elseif keep > 0 then redis.call('PEXPIRE', KEYS[1], keep)
else redis.call('PERSIST', KEYS[1]) end
return {1, seq}
"""
# KEYS: running set. ARGV: the flow key prefix. Members whose flow expired leave the set.
_RUNNING = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then table.insert(out, id)
  else redis.call('SREM', KEYS[1], id) end
end
return out
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore(StoreBase):
    """Flows in the Redis database at ``url``, keys under ``prefix``.

    ``keys``, ``version``, ``migrations``, ``retain``, ``abandon`` shape the records
    (:class:`~taskchart.runtime.durable.Records`); ``timeout`` bounds every
    connection and command, so an unreachable server is an error, not a hang;
    at most ``max_connections`` are open, more callers wait for one.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "taskchart",
        timeout: float = 2.0,
        max_connections: int = 64,
        **records: Unpack[RecordOptions],
    ) -> None:
        check_keywords("RedisStore", records, RecordOptions)
        self.url = url
        self.records = Records(**records)
        self.prefix = prefix
        # a blocking pool: a burst of flows waits for a connection instead of failing
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._client: Any = aioredis.Redis(connection_pool=pool)
        self._save = self._client.register_script(_SAVE)
        self._renew = self._client.register_script(_RENEW)
        self._release = self._client.register_script(_RELEASE)
        self._running_script = self._client.register_script(_RUNNING)

    def _flow(self, flow_id: str) -> str:
        return f"{self.prefix}:flow:{flow_id}"

    def _lease(self, flow_id: str) -> str:
        return f"{self.prefix}:lease:{flow_id}"

    @property
    def _running(self) -> str:
        return f"{self.prefix}:running"

    async def load(self, flow_id: str) -> Row | None:
        found = await self._call(self._client.hmget(self._flow(flow_id), "seq", "status", "data"))
        seq, status, data = found
        if seq is None or data is None:
            return None
        return stored_row(flow_id, seq, status, bytes(data))

    async def write(
        self, flow_id: str, data: bytes, expected: int, status: Status, keep: float | None
    ) -> int:
        keep_ms = -1 if keep is None else int(keep * 1000)
        if status == "running" and keep is not None:
            keep_ms = max(1, keep_ms)  # a running flow is never deleted by its save
        self._during_write()
        done, seq = await self._call(
            self._save(
                keys=[self._flow(flow_id), self._running],
                args=[expected, data, status, keep_ms, flow_id, time.time()],
            )
        )
        if not done:
            raise StaleWrite(f"save expected sequence {expected}, the store has {seq or 'no row'}")
        return int(seq)

    async def acquire(self, flow_id: str, owner: str, ttl: float) -> bool:
        key, ms = self._lease(flow_id), max(1, int(ttl * 1000))
        if await self._call(self._client.set(key, owner, nx=True, px=ms)):
            return True
        return bool(await self._call(self._renew(keys=[key], args=[owner, ms])))

    async def renew(self, flow_id: str, owner: str, ttl: float) -> bool:
        ms = max(1, int(ttl * 1000))
        return bool(await self._call(self._renew(keys=[self._lease(flow_id)], args=[owner, ms])))

    async def release(self, flow_id: str, owner: str) -> None:
        await self._call(self._release(keys=[self._lease(flow_id)], args=[owner]))

    async def running(self) -> list[str]:
        members = await self._call(
            self._running_script(keys=[self._running], args=[self._flow("")])
        )
        return sorted(m.decode() for m in members)

    async def delete(self, flow_id: str) -> None:
        """Forget a flow (its record and lease), whatever its state."""
        await self._call(self._client.delete(self._flow(flow_id), self._lease(flow_id)))
        await self._call(self._client.srem(self._running, flow_id))

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._client.connection_pool.disconnect()

    def _during_write(self) -> None:
        """Called just before a save's script is sent (a test pauses here)."""

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(f"Redis store unreachable ({type(exc).__name__})") from exc
        except RedisError as exc:
            raise StoreUnavailable(f"Redis store failed ({type(exc).__name__})") from exc

    def __repr__(self) -> str:
        return f"RedisStore({self.url.split('@')[-1]!r})"
