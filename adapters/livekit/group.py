"""``TaskGroup``: LiveKit's ordered multi-task flow, driven by a group chart.

Same constructor, ``add()`` and result as ``livekit.agents.beta.workflows.
TaskGroup``; the order, the regression bookkeeping and the results live in a
:class:`~taskchart.statecharts.Chart` run by the sans-I/O interpreter:

- ``out_of_scope(task_ids)`` (LiveKit's tool name and description) goes back
  to tasks already visited, offered in the order they were visited. Unknown
  ids, the active task's own id and an empty list get a ``ToolError`` the
  model can act on; nothing changes.
- The targets re-run fresh from their factories in the order requested; the
  interrupted task then runs again: a hand-written task restarts from its
  factory, as in LiveKit; a :class:`ChartTask` resumes with the fields it had
  collected (a value being confirmed is read back again); tasks in between keep their results unless they
  were added with ``depends_on`` a corrected task.
- ``on_task_completed`` fires for every completion, re-runs included; an
  exception it raises counts as the task's (as in LiveKit): it ends the
  group, or takes the task's place in ``task_results`` with
  ``return_exceptions=True``.
- A task that fails ends the group with its exception (or is kept in
  ``task_results`` with ``return_exceptions=True``); a session closed mid-task
  ends it with :class:`~taskchart.statecharts.SessionClosed`.
- With ``store=`` and ``flow_id=`` the group is durable: it takes the flow's
  lease, saves after every accepted event (a tool's answer waits for the
  save) and, started again with the id of a stored running flow (a worker
  restarted, LiveKit dispatched the room again), resumes it: completed
  tasks keep their results (a registered result type comes back as itself),
  a :class:`ChartTask` that was active resumes with the fields it had, and
  the model is told where the call stands. A session that closes leaves the
  flow stored as running, for the next worker; a flow that ends is marked
  finished (:mod:`.durable_group`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Self, Unpack

from livekit.agents import AgentTask as _LiveKitAgentTask
from livekit.agents import llm
from livekit.agents.beta.workflows.task_group import TaskCompletedEvent, TaskGroupResult
from livekit.agents.llm.tool_context import ToolError, ToolFlag, function_tool
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from taskchart.runtime import (
    DEFAULT_REGRESS_TOOL,
    Effect,
    Interpreter,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    TaskStarted,
    ToolCalled,
    snapshot,
)
from taskchart.runtime.digest import chart_digest
from taskchart.runtime.durable import Checkpointer, Durability, StaleWrite, StoreError
from taskchart.runtime.logs import get_logger
from taskchart.statecharts import Chart, TaskFailure, TaskSpec, compile_chart, implicit_task
from taskchart.statecharts.keywords import check_keywords

from . import typed_results  # noqa: F401  # the prebuilt results come back typed
from .chart_task import ChartTask
from .durable_group import open_flow, save
from .errors import livekit_error
from .task import AgentTask, chart_id

__all__ = ["TaskCompletedEvent", "TaskGroup", "TaskGroupResult"]

_log = get_logger("taskchart.adapters.livekit")

_REGRESS_DESCRIPTION = (
    "Call to regress to other tasks according to what the user requested to modify, return the corresponding task ids. "
    'For example, if the user wants to change their email and there is a task with id "email_task" with a description of "Collect the user\'s email", return the id ("get_email_task").'
    "If the user requests to regress to multiple tasks, such as changing their phone number and email, return both task ids in the order they were requested."
    "The following are the IDs and their corresponding task description. "
)


class _OutOfScope(ToolError):
    def __init__(self, chart_ids: Sequence[str]) -> None:
        super().__init__(f"going back to {list(chart_ids)}")
        self.chart_ids = list(chart_ids)


class _Entry:
    __slots__ = ("chart_id", "depends_on", "description", "factory", "id", "routes", "then")

    def __init__(
        self,
        factory: Callable[[], _LiveKitAgentTask[Any]],
        id: str,
        description: str,
        cid: str,
        depends_on: tuple[str, ...],
        routes: dict[str, str] | None = None,
        then: str | None = None,
    ) -> None:
        self.factory = factory
        self.id = id
        self.description = description
        self.chart_id = cid
        self.depends_on = depends_on
        self.routes = routes or {}
        self.then = then


class TaskGroup(AgentTask[TaskGroupResult]):
    """An ordered sequence of tasks sharing one chat context, with regression.

    >>> import asyncio
    >>> async def describe() -> list[str]:
    ...     group = TaskGroup(summarize_chat_ctx=False)
    ...     group.add(lambda: None, id="intro_task", description="Collects name")
    ...     group.add(lambda: None, id="get-email", description="Collects the email")
    ...     return [t.id for t in group.chart.tasks]
    >>> asyncio.run(describe())
    ['intro_task', 'get_email']
    """

    def __init__(
        self,
        *,
        summarize_chat_ctx: bool = True,
        return_exceptions: bool = False,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        on_task_completed: Callable[[TaskCompletedEvent], Coroutine[None, None, None]]
        | None = None,
        **durable: Unpack[Durability],
    ) -> None:
        check_keywords("TaskGroup", durable, Durability)
        super().__init__(instructions="*empty*", chat_ctx=chat_ctx, llm=NOT_GIVEN)
        self._store = durable.get("store")
        self._flow_id = durable.get("flow_id")
        if (self._store is None) != (self._flow_id is None):
            raise ValueError("a durable task group needs both a store and a flow_id")
        self._durable = durable
        self._link: Checkpointer | None = None
        self._saving = asyncio.Lock()
        self._prepared: dict[str, _LiveKitAgentTask[Any]] = {}
        #: Whether the group resumed a stored flow (a call picked up from another worker).
        self.resumed = False
        self._summarize_chat_ctx = summarize_chat_ctx
        self._return_exceptions = return_exceptions
        self._task_completed_callback = on_task_completed
        self._entries: dict[str, _Entry] = {}
        self._chart: Chart | None = None
        self._flow: Interpreter | None = None
        self._current_task: _LiveKitAgentTask[Any] | None = None
        self._current_cid: str | None = None
        self._suspended: dict[str, dict[str, Any]] = {}
        self._task_digests: dict[str, dict[str, str]] = {}
        self._rearm: set[str] = set()
        self._finished = False
        self._going_back: list[str] | None = None

    def add(
        self,
        task_factory: Callable[[], _LiveKitAgentTask[Any]],
        *,
        id: str,
        description: str,
        depends_on: Iterable[str] = (),
        routes: Mapping[str, str] | None = None,
        then: str | None = None,
    ) -> Self:
        """Add a task; ``depends_on`` names earlier tasks whose correction re-runs this one.

        ``routes`` (opt-in) say where the group goes when the task ends: by its
        result's ``key`` (a :class:`MenuTask`'s option), or ``"no_match"`` /
        ``"no_input"`` when it gave up (an operator exit, after which the group
        ends); ``then`` is where it goes after any completion. A task an
        earlier task routes to runs only when routed to.
        """
        if not isinstance(id, str) or not id:
            raise ValueError("a task id must be a non-empty string")
        taken = {e.chart_id for e in self._entries.values() if e.id != id}
        cid = chart_id(id)
        n = 2
        while cid in taken:
            cid, n = f"{chart_id(id)}_{n}", n + 1
        deps = tuple(depends_on)
        unknown = [d for d in deps if d not in self._entries or d == id]
        if unknown:
            raise ValueError(f"task {id!r} depends on {unknown}, which are not earlier tasks")
        self._entries[id] = _Entry(
            task_factory, id, description, cid, deps, dict(routes or {}), then
        )
        self._chart = None
        return self

    @property
    def chart(self) -> Chart:
        """The group chart (one implicit task chart per added task, in order)."""
        if self._chart is None:
            cid = {e.id: e.chart_id for e in self._entries.values()}
            shape = tuple(
                (
                    e.chart_id,
                    e.description,
                    tuple(self._entries[d].chart_id for d in e.depends_on),
                    tuple((k, cid.get(t, t)) for k, t in e.routes.items()),
                    cid.get(e.then, e.then) if e.then is not None else None,
                )
                for e in self._entries.values()
            )
            self._chart = _group_chart(shape, self._return_exceptions)
        return self._chart

    @property
    def flow(self) -> Interpreter | None:
        """The running interpreter (None before the group starts)."""
        return self._flow

    async def on_enter(self) -> None:
        if not self._entries:
            self.complete(TaskGroupResult(task_results={}))
            return
        by_chart = {e.chart_id: e for e in self._entries.values()}
        effects: Sequence[Effect]
        try:
            flow, effects = await self._open(by_chart)
        except StoreError as exc:  # another worker has it, or it no longer fits
            if not self.done():
                self.complete(exc)
            return
        while not flow.done:
            started = next((e for e in effects if isinstance(e, TaskStarted)), None)
            if started is None:  # pragma: no cover - the chart always starts a task
                raise RuntimeError(f"no task started after {effects!r}")
            entry = by_chart[started.task_id]
            effects = await self._run_one(flow, entry, resumed=started.resumed)
            try:
                await self._save()
            except StaleWrite as exc:  # another worker took the call over: this one stops
                if self._link is not None:
                    await self._link.close()  # nor renews a lease it no longer uses
                if not self.done():
                    self.complete(exc)
                return
        if flow.result is None:
            if not self.done():
                self.complete(livekit_error(flow.error or RuntimeError("the task group failed")))
            return
        results = {by_chart[c].id: _raised(r) for c, r in flow.result.task_results.items()}
        if self._summarize_chat_ctx:
            try:
                await self._summarize()
            except Exception as exc:
                if not self.done():
                    self.complete(exc)
                return
        if not self.done():
            self.complete(TaskGroupResult(task_results=results))

    # -- durable groups (:mod:`.durable_group`) ----------------------------------------
    async def _open(self, by_chart: dict[str, _Entry]) -> tuple[Interpreter, Sequence[Effect]]:
        return await open_flow(self, by_chart)

    async def _save(self) -> None:
        await save(self)

    @property
    def store_error(self) -> StoreError | None:
        """Why the group's latest state is only in memory (None: stored, or not durable)."""
        return self._link.error if self._link is not None else None

    async def _run_one(
        self, flow: Interpreter, entry: _Entry, *, resumed: bool
    ) -> Sequence[Effect]:
        saved = self._suspended.pop(entry.chart_id, None)
        try:
            task = self._prepared.pop(entry.chart_id, None) or entry.factory()
            if resumed and saved is not None and isinstance(task, ChartTask):
                rearm = entry.chart_id in self._rearm
                self._rearm.discard(entry.chart_id)
                task.resume(saved, rearm=rearm)  # a declarative task keeps what it had collected
                self._task_digests[entry.chart_id] = chart_digest(task.chart)
            if isinstance(task, ChartTask) and self._link is not None:
                task.on_accepted = self._save
            await task.update_chat_ctx(self.chat_ctx.copy())
            if tool := self._out_of_scope_tool(flow, entry.chart_id):
                await task.update_tools([*task.tools, tool])
                if isinstance(task, ChartTask):
                    task.regression_check = functools.partial(_accepts, flow, by_id=self._by_id())
        except Exception as exc:
            return _effects(flow.handle(TaskRaised(exc)))
        self._current_task = task
        # A call to go back ends the current task; one that arrived after the last
        # task returned (a sibling call completed it in the same turn) goes back
        # before this one starts: going back wins over the other calls of its turn.
        self._current_cid = entry.chart_id
        # a chart task that had ended when the last worker stopped, before the group heard
        ended = resumed and isinstance(task, ChartTask) and task.flow.done
        completed = False  # the task returned a result in this run
        going = None if ended else self._take_going_back()
        if ended:
            assert isinstance(task, ChartTask)
            if task.flow.error is not None:
                return _effects(flow.handle(TaskRaised(task.error_for(task.flow.error))))
            result, completed = task.flow.result, True
        elif going is None:
            try:
                result = await task
            except _OutOfScope as exc:
                going = exc.chart_ids
                self._take_going_back()
            except Exception as exc:
                self._take_going_back()
                if self._session_closing():
                    return _effects(flow.handle(SessionClosed(f"session closed: {exc}")))
                return _effects(flow.handle(TaskRaised(exc)))
            else:
                going = self._take_going_back()
                completed = True
        if going is not None:
            if isinstance(task, ChartTask) and not task.flow.done:
                self._suspended[entry.chart_id] = snapshot(task.flow)
                self._task_digests[entry.chart_id] = chart_digest(task.chart)
            outcome = flow.handle(ToolCalled(DEFAULT_REGRESS_TOOL, {"task_ids": going}))
            if outcome.ok:
                return _effects(outcome)
            if not completed:
                return [TaskStarted(entry.chart_id, resumed=True)]  # refused late: run it again
        self._chat_ctx.merge(task.chat_ctx.copy(), exclude_instructions=True)
        if self._task_completed_callback is not None:
            try:
                await self._task_completed_callback(
                    TaskCompletedEvent(agent_task=task, task_id=entry.id, result=result)
                )
            except Exception as exc:  # LiveKit's rule: the callback's error is the task's
                _log.info("on_task_completed raised", task_id=entry.id, error=type(exc).__name__)
                return _effects(flow.handle(TaskRaised(exc)))
        return _effects(flow.handle(TaskReturned(result)))

    def _take_going_back(self) -> list[str] | None:
        going, self._going_back = self._going_back, None
        return going

    def _by_id(self) -> dict[str, str]:
        return {e.id: e.chart_id for e in self._entries.values()}

    def _session_closing(self) -> bool:
        try:
            closing = getattr(self.session, "_is_closing", None)
            return bool(closing()) if callable(closing) else False
        except RuntimeError:  # no session any more
            return True

    def _out_of_scope_tool(
        self, flow: Interpreter, active: str
    ) -> llm.RawFunctionTool[Any, Any] | None:
        by_chart = {e.chart_id: e for e in self._entries.values()}
        visited = list(flow.regression_targets())
        if not visited:
            return None
        described = {by_chart[c].id: by_chart[c].description for c in visited}
        to_chart = self._by_id()
        group = self

        async def out_of_scope(raw_arguments: dict[str, Any]) -> None:
            ids = raw_arguments.get("task_ids") if isinstance(raw_arguments, dict) else None
            chart_ids = _to_chart_ids(ids, to_chart)
            problem = flow.check_regression(chart_ids)
            if problem is not None:
                raise ToolError(f"unable to regress: {problem}")
            group._going_back = list(chart_ids)
            current = group._current_task
            if current is not None and not current.done():
                # Completed outside this tool's context: LiveKit would otherwise make the
                # internal signal the run's final output and raise it from session.run().
                asyncio.get_running_loop().call_soon(
                    _complete_if_open, current, _OutOfScope(list(chart_ids or ())),
                    context=contextvars.Context(),
                )  # fmt: skip

        schema = {
            "name": DEFAULT_REGRESS_TOOL,
            "description": _REGRESS_DESCRIPTION + json.dumps(described, ensure_ascii=False),
            "parameters": {
                "type": "object",
                "properties": {
                    "task_ids": {
                        "type": "array",
                        "description": "The IDs of the tasks requested",
                        "items": {"type": "string", "enum": list(described)},
                    }
                },
                "required": ["task_ids"],
            },
        }
        return function_tool(out_of_scope, raw_schema=schema, flags=ToolFlag.IGNORE_ON_ENTER)

    async def _summarize(self) -> None:
        session_llm = self.session.llm
        if not isinstance(session_llm, llm.LLM):
            raise TypeError("summarize_chat_ctx needs the session's llm to be an llm.LLM")
        summarized = await self.chat_ctx.copy(
            exclude_instructions=False,
            exclude_handoff=False,
            exclude_config_update=False,
            exclude_empty_message=False,
            exclude_function_call=False,
        )._summarize(llm_v=session_llm, keep_last_turns=0)
        await self.update_chat_ctx(summarized)


@functools.lru_cache(maxsize=256)
def _group_chart(
    shape: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...], str | None], ...],
    return_exceptions: bool,
) -> Chart:
    """One compiled chart per group shape (compiling resolves every row's callbacks)."""
    specs: list[TaskSpec] = [
        implicit_task(cid, description=description, depends_on=deps, routes=dict(routes), then=then)
        for cid, description, deps, routes, then in shape
    ]
    return compile_chart(
        specs,
        name=f"TaskGroup_{'_'.join(s.id for s in specs)}"[:120],
        return_exceptions=return_exceptions,
    )


def _to_chart_ids(ids: Any, to_chart: dict[str, str]) -> Any:
    """The model's ``task_ids`` (LiveKit ids, or one id) as chart ids; other shapes as given."""
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list):
        return ids
    return [to_chart.get(t, t) if isinstance(t, str) else t for t in ids]


def _accepts(flow: Interpreter, ids: Any, *, by_id: dict[str, str]) -> bool:
    """Whether ``out_of_scope(task_ids=ids)`` would go back now."""
    return not flow.done and flow.check_regression(_to_chart_ids(ids, by_id)) is None


def _raised(result: Any) -> Any:
    """A result as awaiting code sees it: a failure a restored flow kept (``NoMatch``) as
    the adapter's exception for it (``NoMatchError``), as the task had raised it."""
    if isinstance(result, TaskFailure) and not isinstance(result, ToolError):
        return livekit_error(result)
    return result


def _complete_if_open(task: _LiveKitAgentTask[Any], error: Exception) -> None:
    if not task.done():
        task.complete(error)


def _effects(outcome: Any) -> Sequence[Effect]:
    return outcome.effects if outcome.ok else ()
