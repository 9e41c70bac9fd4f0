"""Store fixtures: every store test runs against SQLite (a temp file) and a real redis-server.

Redis: ``TASKCHART_REDIS_URL`` (``.ci/run`` starts a server and sets it), else a
``redis-server`` started here on a free port; with neither the Redis tests
skip, saying why, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from taskchart.adapters.stores import SQLiteStore, Store

NO_REDIS = (
    "no Redis: set TASKCHART_REDIS_URL or install redis-server (apt-get install redis-server)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A reachable Redis server's URL for the whole session."""
    url = os.environ.get("TASKCHART_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(NO_REDIS)
        pytest.skip(NO_REDIS)
    server, port = _start_redis(binary)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _start_redis(binary: str) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server of this session's own on a free port.

    A free port may be taken by another process's server between the probe and
    the start (test sessions run side by side): ours then exits, and the one
    that answers is checked to be ours by its process id before it is used.
    """
    import redis

    for _ in range(5):
        port = free_port()
        server = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while server.poll() is None and time.monotonic() < deadline:
            try:
                client = redis.Redis(port=port, socket_timeout=0.5)
                pid = client.info("server")["process_id"]
                client.close()
            except redis.RedisError:
                time.sleep(0.02)
                continue
            if pid == server.pid:
                return server, port
            break  # another process's server holds the port
        server.terminate()
        server.wait(timeout=10)
    pytest.fail("redis-server did not start")


def sqlite_factory(path: Path) -> Callable[..., Store]:
    return lambda **options: SQLiteStore(path, **options)


def redis_factory(url: str) -> Callable[..., Store]:
    from taskchart.adapters.stores import RedisStore

    prefix = f"test-{uuid.uuid4().hex[:10]}"  # each test its own keys
    return lambda **options: RedisStore(url, prefix=prefix, **options)


@pytest.fixture(params=["sqlite", "redis"])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[..., Store]]:
    """A factory of stores of one kind sharing one place (a file, a Redis key prefix)."""
    if request.param == "sqlite":
        factory = sqlite_factory(tmp_path / "flows.db")
    else:
        factory = redis_factory(request.getfixturevalue("redis_url"))
    made: list[Store] = []

    def make(**options: Any) -> Store:
        store = factory(**options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store()
