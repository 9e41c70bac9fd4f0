"""The types of the pytest fixtures (:mod:`taskchart.adapters.livekit.pytest_plugin`).

Rules of this file: protocols only, so a test annotates the fixture it takes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from livekit.agents import Agent

from .script import Request, Step
from .scripted import ScriptedLLM
from .session import OfflineSession


class ScriptedLLMFactory(Protocol):
    """The ``scripted_llm`` fixture: builds a :class:`ScriptedLLM`."""

    def __call__(
        self, steps: Iterable[Step] = (), *, summary: str | Callable[[Request], str] | None = None
    ) -> ScriptedLLM: ...


class OfflineSessionFactory(Protocol):
    """The ``offline_session`` fixture: starts an :class:`OfflineSession`, closed at teardown."""

    def __call__(
        self,
        agent: Agent,
        llm: ScriptedLLM | Iterable[Step],
        *,
        userdata: Any = None,
        **session_kwargs: Any,
    ) -> Awaitable[OfflineSession]: ...
