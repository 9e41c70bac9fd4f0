"""The durable side of a :class:`~taskchart.adapters.livekit.TaskGroup`.

Rules of this file: these functions read and write the group's bookkeeping
(its flow, its suspended chart tasks and their digests, its link to the
store) and nothing else; the group calls :func:`open_flow` once when it
starts and :func:`save` after every accepted event. A group without a store
gets a new flow and saves nothing.

Theory of operation: :func:`open_flow` takes the flow's lease through a
:class:`~taskchart.runtime.durable.Checkpointer` and loads the stored record.
A finished record that completed gives its results back (the group does not
run again); a failed one, or none, starts a new flow (and when card data was
dropped for want of a key, the model is told to ask for it again). A running
record is restored whole before anything runs: the group's snapshot, then
every stored chart task checked against its spec's digest now, so a state
that no longer fits is refused naming what changed, never half-applied. The
model is told what is done and what comes now. What is stored
(:func:`stored_state`) is the group's snapshot and the open chart tasks' own,
the active one included even once it ended (the group may not have heard of
it before a crash). A session that closes leaves the flow running for the
next worker; a flow that ends is marked finished and the lease given back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from taskchart.runtime import (
    DEFAULT_REGRESS_TOOL,
    Effect,
    Interpreter,
    TaskStarted,
    messages,
    snapshot,
)
from taskchart.runtime.digest import changes, chart_digest
from taskchart.runtime.durable import (
    ChartChanged,
    Checkpointer,
    CorruptRecord,
    Loaded,
    RecordError,
    checkpointer,
)
from taskchart.runtime.private import card_data_in
from taskchart.runtime.snapshots import SnapshotError, restore
from taskchart.runtime.store_errors import flow_ref
from taskchart.statecharts import SessionClosed as SessionClosedFailure

from .chart_task import ChartTask

if TYPE_CHECKING:
    from .group import TaskGroup, _Entry

__all__ = ["open_flow", "save", "stored_state"]


async def open_flow(
    group: TaskGroup, by_chart: dict[str, _Entry]
) -> tuple[Interpreter, Sequence[Effect]]:
    """The group's flow: resumed from the store when it holds a running one, else new."""
    if group._store is None or group._flow_id is None:
        flow = group._flow = Interpreter(group.chart, regress_tool=DEFAULT_REGRESS_TOOL)
        return flow, flow.start()
    link = group._link = checkpointer(
        group._durable, kind="task_group", digest=chart_digest(group.chart)
    )
    loaded = await link.open()
    try:
        return await _open_loaded(group, link, loaded, by_chart)
    except BaseException:
        await link.close()  # a group that did not open keeps no lease
        raise


async def _open_loaded(
    group: TaskGroup, link: Checkpointer, loaded: Loaded | None, by_chart: dict[str, _Entry]
) -> tuple[Interpreter, Sequence[Effect]]:
    state = loaded.state if loaded is not None else None
    if loaded is not None and loaded.finished and state is not None:
        try:
            ended: Interpreter | None = restore(
                group.chart, state.get("group"), regress_tool=DEFAULT_REGRESS_TOOL
            )
        except SnapshotError:  # a finished record that no longer restores: a new run
            ended = None
        if ended is not None and ended.result is not None:  # it completed: its results
            group._flow, group._finished, group.resumed = ended, True, True
            await link.close()
            return ended, ()
        state = None  # it failed (or started over): a new run
    if state is None:
        flow = group._flow = Interpreter(group.chart, regress_tool=DEFAULT_REGRESS_TOOL)
        effects = flow.start()
        if loaded is not None and loaded.dropped:  # card data was not kept: ask again
            group._chat_ctx.add_message(role="system", content=messages.DETAILS_DROPPED)
        await save(group)
        return flow, effects
    try:
        flow = group._flow = restore(
            group.chart, state.get("group"), regress_tool=DEFAULT_REGRESS_TOOL
        )
        _resume_tasks(group, flow, state, by_chart)
    except SnapshotError as exc:
        raise RecordError(
            f"stored flow {flow_ref(link.flow_id)} cannot be restored: {exc}"
        ) from exc
    group.resumed = True
    active = flow.active_task
    assert active is not None  # a running flow rests in a task
    done = [by_chart[t].description or by_chart[t].id for t in flow.results]
    note = messages.call_resumed(done, by_chart[active].description or by_chart[active].id)
    group._chat_ctx.add_message(role="system", content=note)
    return flow, [TaskStarted(active, resumed=True)]


def _resume_tasks(
    group: TaskGroup, flow: Interpreter, state: dict[str, Any], by_chart: dict[str, _Entry]
) -> None:
    """Check the stored chart tasks against their specs now, before any of them runs."""
    tasks = dict(state.get("tasks") or {})
    for cid, saved in tasks.items():
        entry = by_chart.get(cid)
        if entry is None or not isinstance(saved, dict):
            raise RecordError(f"stored task {cid!r} is not a task of this group")
        task = group._prepared[cid] = entry.factory()
        if not isinstance(task, ChartTask):
            continue
        what = changes(saved.get("digest") or {}, chart_digest(task.chart))
        if what:
            raise ChartChanged(f"{group._flow_id}/{entry.id}", what)
        if not isinstance(saved.get("snapshot"), dict):
            raise CorruptRecord(f"stored task {cid!r} has no snapshot")
        group._suspended[cid] = saved["snapshot"]
        group._rearm.add(cid)


def stored_state(group: TaskGroup) -> dict[str, Any]:
    """What is stored: the group's snapshot and the open chart tasks' own."""
    flow = group._flow
    assert flow is not None
    tasks: dict[str, Any] = {
        cid: {"snapshot": snap, "digest": group._task_digests.get(cid, {})}
        for cid, snap in group._suspended.items()
    }
    current, cid = group._current_task, flow.active_task
    if isinstance(current, ChartTask) and cid is not None and cid == group._current_cid:
        # kept even once it ended: the group may not have heard of it before a crash
        tasks[cid] = {"snapshot": snapshot(current.flow), "digest": chart_digest(current.chart)}
    return {"group": snapshot(flow), "tasks": tasks}


async def save(group: TaskGroup) -> None:
    """Save the group's state (finished once its flow is done); nothing without a store.

    Saves run one at a time and each decides whether the flow is finished when
    its turn comes: a save asked for earlier (a caller's turn, not awaited)
    never writes a finished flow back as running.
    """
    async with group._saving:
        link, flow = group._link, group._flow
        if link is None or flow is None or group._finished:
            return
        if flow.done and isinstance(flow.error, SessionClosedFailure):
            group._finished = True  # the caller may still be there: the next worker resumes
            await link.close()
            return
        group._finished = flow.done
        link.secret = link.secret or _holds_card_data(group)  # once card data, for good
        await link.save(lambda: stored_state(group), finished=flow.done)
        if flow.done:
            await link.close()


def _holds_card_data(group: TaskGroup) -> bool:
    """Whether the state to save holds card data: a card value in the running chart task,
    or a result of a type registered secret (a card result) in the group."""
    current = group._current_task
    if isinstance(current, ChartTask) and card_data_in(current.flow):
        return True
    flow = group._flow
    return flow is not None and card_data_in(flow)
