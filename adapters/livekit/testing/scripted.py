"""The scripted LLM: an ``llm.LLM`` that answers each request with the next script step.

Rules of this file: a step that calls a tool the request did not offer, a
script that runs out and a summary step where no summary was asked all
raise :class:`~taskchart.adapters.livekit.testing.ScriptError`, kept in
:attr:`ScriptedLLM.failures` as well (LiveKit only logs some errors).

Theory of operation: :meth:`ScriptedLLM.chat` records the request, takes
the next step (LiveKit's summarization requests are answered apart, by the
``summary`` option, unless the next step is a ``Summary``) and returns a
stream that sends the reply's items as chunks (``ChatChunk``), text as content and
each ``Call`` as a ``FunctionToolCall``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Never

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    llm,
)

from .script import (
    SUMMARY_PROMPT,
    Call,
    Request,
    ScriptError,
    Step,
    Summary,
    _check_reply,
    default_summary,
)


class ScriptedLLM(llm.LLM[Never]):
    """An ``llm.LLM`` that answers each request with the next step of a script.

    Every request is recorded in :attr:`requests`. Summarization requests (no
    tools, LiveKit's "Compress older conversation history" prompt) are
    answered with ``summary`` (text, a callable, or :func:`default_summary`)
    without using a step, unless the next step is a :class:`Summary`.
    """

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        summary: str | Callable[[Request], str] | None = None,
    ) -> None:
        super().__init__()
        self.summary = summary
        self.requests: list[Request] = []
        self.failures: list[ScriptError] = []
        """Every :class:`ScriptError` raised so far, also those LiveKit only logged."""
        self._steps: deque[Step] = deque()
        self._used = 0
        self.extend(steps)

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def provider(self) -> str:
        return "taskchart"

    @property
    def remaining(self) -> int:
        """How many script steps are left."""
        return len(self._steps)

    def extend(self, steps: Iterable[Step]) -> None:
        """Append steps to the script."""
        for step in steps:
            if isinstance(step, list):
                _check_reply(step, "script step")
            elif not isinstance(step, str | Call | Summary) and not callable(step):
                raise TypeError(f"not a script step: {step!r}")
            self._steps.append(step)

    def assert_done(self) -> None:
        """Raise :class:`ScriptError` if the script failed or steps were left unused."""
        if self.failures:
            raise ScriptError(f"the script failed: {self.failures[0]}") from self.failures[0]
        if self._steps:
            raise ScriptError(
                f"{len(self._steps)} script step(s) never used after "
                f"{len(self.requests)} request(s): {list(self._steps)!r}"
            )

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        offered = [t for t in tools or [] if isinstance(t, llm.FunctionTool | llm.RawFunctionTool)]
        messages = chat_ctx.messages()
        request = Request(
            index=len(self.requests),
            chat_ctx=chat_ctx.copy(),
            tools=[t.info.name for t in offered],
            tool_choice=tool_choice,
            is_summary=not offered
            and bool(messages)
            and messages[0].role == "system"
            and (messages[0].text_content or "").startswith(SUMMARY_PROMPT),
            parallel_tool_calls=parallel_tool_calls,
            function_tools=offered,
        )
        self.requests.append(request)
        try:
            items = self._answer(request)
        except ScriptError as error:
            self.failures.append(error)
            raise
        return _ScriptedStream(
            self,
            request.index,
            items,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
        )

    def _answer(self, request: Request) -> list[str | Call]:
        next_step = self._steps[0] if self._steps else None
        if request.is_summary and not isinstance(next_step, Summary):
            return [self._summary_text(request)]
        if next_step is None:
            raise ScriptError(f"script exhausted after {self._used} step(s): {request.describe()}")
        step = self._steps.popleft()
        self._used += 1
        where = f"script step {self._used}"
        if isinstance(step, Summary):
            if not request.is_summary:
                raise ScriptError(f"{where} is {step!r}, but {request.describe()}")
            return [step.text]
        if isinstance(step, str | Call | list):
            reply: object = step
        else:
            try:
                reply = step(request)
            except ScriptError:
                raise
            except Exception as error:
                raise ScriptError(f"{where} raised {error!r} for {request.describe()}") from error
        items = _check_reply(reply, where)
        for item in items:
            if isinstance(item, Call):
                if item.name not in request.tools:
                    raise ScriptError(
                        f"{where} calls tool {item.name!r}, which was not offered: "
                        f"{request.describe()}"
                    )
                if request.tool_choice == "none":
                    raise ScriptError(f"{where} calls {item.name!r} but tool_choice is 'none'")
        return items

    def _summary_text(self, request: Request) -> str:
        if self.summary is None:
            return default_summary(request)
        if isinstance(self.summary, str):
            return self.summary
        try:
            text = self.summary(request)
        except Exception as error:
            raise ScriptError(f"the summary callable raised {error!r}") from error
        if not isinstance(text, str):
            raise ScriptError(f"the summary callable returned {text!r}, not a str")
        return text


class _ScriptedStream(llm.LLMStream):
    def __init__(
        self, owner: ScriptedLLM, index: int, items: list[str | Call], **kwargs: Any
    ) -> None:
        super().__init__(owner, **kwargs)
        self._index = index
        self._items = items

    async def _run(self) -> None:
        chunk_id = f"scripted-{self._index}"
        for position, item in enumerate(self._items):
            if isinstance(item, Call):
                call = llm.FunctionToolCall(
                    name=item.name,
                    arguments=item.arguments,
                    call_id=item.call_id or f"call_{self._index}_{position}",
                )
                delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
            else:
                delta = llm.ChoiceDelta(role="assistant", content=item)
            self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=delta))
