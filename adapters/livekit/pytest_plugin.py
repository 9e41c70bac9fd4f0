"""pytest fixtures for offline LiveKit tests (registered as the ``taskchart_livekit`` plugin).

- ``scripted_llm``: a factory, ``scripted_llm(steps, summary=None) -> ScriptedLLM``.
- ``offline_session``: an async factory,
  ``await offline_session(agent, llm, userdata=None, **session_kwargs)``,
  returning a started :class:`~taskchart.adapters.livekit.testing.OfflineSession`;
  every session it started is closed at teardown, and a
  :class:`~taskchart.adapters.livekit.testing.ScriptError` no call surfaced
  fails the teardown.

This module imports livekit only inside the fixtures. The async fixture
needs pytest-asyncio (strict or auto mode).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from livekit.agents import Agent

    from .testing import (
        OfflineSession,
        OfflineSessionFactory,
        Request,
        ScriptedLLM,
        ScriptedLLMFactory,
        Step,
    )

_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(function: _F) -> _F:
    """``pytest_asyncio.fixture`` (works in strict mode too), else ``pytest.fixture``."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - without pytest-asyncio
        return cast(_F, pytest.fixture(function))
    return cast(_F, pytest_asyncio.fixture(function))


__all__ = ["offline_session", "offline_sessions", "scripted_llm"]


@asynccontextmanager
async def offline_sessions() -> AsyncIterator[OfflineSessionFactory]:
    """Yield a factory of started sessions; close them all on exit, then raise leftover failures."""
    from .testing import OfflineSession

    sessions: list[OfflineSession] = []

    async def start(
        agent: Agent,
        llm: ScriptedLLM | Iterable[Step],
        *,
        userdata: Any = None,
        **session_kwargs: Any,
    ) -> OfflineSession:
        session = OfflineSession(agent, llm, userdata=userdata, **session_kwargs)
        sessions.append(session)
        await session.start()
        return session

    try:
        yield start
    finally:
        for session in reversed(sessions):
            await session.aclose()
    for session in sessions:
        session.check()


@pytest.fixture
def scripted_llm() -> ScriptedLLMFactory:
    """Build a :class:`~taskchart.adapters.livekit.testing.ScriptedLLM`."""
    from .testing import ScriptedLLM

    def build(
        steps: Iterable[Step] = (), *, summary: str | Callable[[Request], str] | None = None
    ) -> ScriptedLLM:
        return ScriptedLLM(steps, summary=summary)

    return build


@_async_fixture
async def offline_session() -> AsyncIterator[OfflineSessionFactory]:
    """Start offline sessions; each is closed at teardown."""
    async with offline_sessions() as start:
        yield start
