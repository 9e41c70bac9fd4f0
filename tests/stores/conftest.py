"""Store fixtures: every store test runs against SQLite (a temp file) and a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from taskchart.adapters.stores import SQLiteStore, Store


@pytest.fixture(params=["sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
    """A factory of stores of one kind sharing one place (a file, a Redis database)."""
    if request.param == "sqlite":
        return lambda **options: SQLiteStore(tmp_path / "flows.db", **options)
    raise AssertionError(request.param)  # pragma: no cover


@pytest.fixture
async def store(make_store: Callable[..., Any]) -> AsyncIterator[Store]:
    made = make_store()
    yield made
    await made.aclose()
