"""Deterministic replay: re-run a recorded event log against a chart, with no LLM.

A log is JSON lines. Each line is either a journal entry of an
``Interpreter(record=True)`` (``{"event": {...}, "ok": ..., "code": ...,
"step": {...}, "ms": ...}``) or a bare event (``{"type": "ToolCalled", ...}``,
no expectation). A journal written by :func:`dump_journal` starts each flow
with a header ``{"format": "taskchart.journal/2", "chart": ..., "digest": ...,
"modality": ..., "values": "redacted"}`` and ends it with ``{"end": N}``, N
the number of its entries: a file cut short, or a file that is not a journal,
is refused instead of replaying as a shorter call. (``taskchart.journal/1``
files, which have no end record, still read.) The header sets the starting
modality and says whether personal values were redacted (the default of
:func:`journal_lines` and :func:`dump_journal`; ``raw_values=True`` keeps
them, for local debugging). A redacted journal replays with the recorded
outcomes standing in for the values (:mod:`taskchart.runtime.standins`).
A file may hold several flows (the pytest plugin's journals):
:func:`split_flows` separates them and :func:`replay_flow` replays one.

Replay feeds the events to a fresh flow and compares each outcome with the
recorded one: accepted or refused, the refusal code, the transition's source
and target configurations. The first entry that differs is the divergence:
the chart changed since the call was recorded.

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> from taskchart.runtime import ToolCalled
>>> chart = compile_chart(declarative_task("name", fields=[Field("name")],
...                                        confirmation=Confirmation.NEVER))
>>> flow = Interpreter(chart, record=True); _ = flow.start()
>>> _ = flow.handle(ToolCalled("update_name", {"name": "Ada"}))
>>> report = replay(chart, journal_lines(flow))
>>> report.ok, report.configuration
(True, ('flow_done',))
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
from taskchart.statecharts import Chart
from taskchart.statecharts.fields import CARD_FIELDS, shown
from taskchart.statecharts.journal import FORMAT, RecordedFlow, parse_lines, split_flows
from taskchart.statecharts.task import Modality

from .events import event_from_json
from .interpreter import Interpreter
from .logs import get_logger
from .outcome import Accepted
from .private import private_open, redact_journal
from .results import is_secret
from .sealing import Sealer
from .standins import Recording, value_blind_flow

__all__ = [
    "FORMAT",
    "Divergence",
    "RecordedFlow",
    "ReplayReport",
    "ReplayStep",
    "dump_journal",
    "holds_card_data",
    "journal_lines",
    "read_log",
    "replay",
    "replay_flow",
    "split_flows",
]

_log = get_logger("taskchart.runtime.replay")

#: Why a raw journal was written redacted.
CARD_IN_CLEAR = "card data is never written in clear: seal the journal (keys=) to keep raw values"


@attrs.frozen
class ReplayStep:
    """One replayed event: what the chart did now."""

    index: int
    line: int
    event: Mapping[str, Any]
    ok: bool
    code: str | None
    source: tuple[str, ...] | None
    target: tuple[str, ...] | None
    trigger: str | None


@attrs.frozen
class Divergence:
    """The first entry whose outcome differs from the recording."""

    index: int
    line: int
    event: Mapping[str, Any]
    expected: str
    actual: str

    def __str__(self) -> str:
        event = self.event if isinstance(self.event, Mapping) else {}
        kind = shown(event.get("type", "?"), 40).strip("'")
        name = shown(event.get("name") or event.get("timer_id") or "", 60).strip("'")
        return (
            f"line {self.line}: event #{self.index} {kind} {name}".rstrip()
            + f" diverges: recorded {self.expected}, now {self.actual}"
        )


@attrs.frozen
class ReplayReport:
    """The outcome of :func:`replay`."""

    steps: tuple[ReplayStep, ...]
    divergence: Divergence | None
    configuration: tuple[str, ...]
    done: bool
    results: Mapping[str, Any]
    result: Any
    error: Exception | None

    @property
    def ok(self) -> bool:
        return self.divergence is None


def read_log(
    path: str | Path, *, keys: Iterable[str | bytes] = ()
) -> list[tuple[int, dict[str, Any]]]:
    """Parse a JSON-lines log into ``(line number, object)``; ``ValueError`` if malformed.

    ``keys`` open a sealed journal (:mod:`taskchart.runtime.sealing`).
    """
    keys = tuple(keys)
    unseal = Sealer(keys).unseal if keys else None
    with open(path, encoding="utf-8") as fh:
        return parse_lines(fh, unseal=unseal)


def journal_lines(
    flow: Interpreter,
    *,
    modality: Modality | None = None,
    raw_values: bool = False,
    sealed: bool = False,
) -> list[tuple[int, dict[str, Any]]]:
    """A recorded flow's journal as numbered log entries (header first).

    Personal values are redacted (:func:`~taskchart.runtime.private.redact_journal`)
    unless ``raw_values``. Card data is never written in clear: a flow that
    holds some keeps its raw values only in a ``sealed`` journal.
    """
    if flow.journal is None:
        raise ValueError("the flow was not recorded: create it with Interpreter(..., record=True)")
    if raw_values and not sealed and holds_card_data(flow):
        _log.warning("raw_journal_refused", chart=flow.chart.name, reason=CARD_IN_CLEAR)
        raw_values = False
    header = {
        "format": FORMAT,
        "chart": flow.chart.name,
        "digest": flow.chart.digest,
        "modality": modality or "text",
        "values": "raw" if raw_values else "redacted",
    }
    entries = (
        flow.journal
        if raw_values
        else redact_journal(flow.chart, flow.journal, regress_tool=flow.regress_tool)
    )
    return list(enumerate([header, *entries, {"end": len(entries)}], 1))


def dump_journal(
    flow: Interpreter,
    path: str | Path,
    *,
    modality: Modality | None = None,
    append: bool = False,
    raw_values: bool = False,
    keys: Iterable[str | bytes] = (),
) -> None:
    """Write a recorded flow's journal as a JSON-lines log that :func:`replay` reads.

    The file is created with mode 0600 and holds no personal value unless
    ``raw_values``. With ``append`` the flow is added after the flows already
    in the file (a header line starts each); coverage reads such files whole.
    With ``keys`` (Fernet keys, the first one sealing) every line is sealed
    (:mod:`taskchart.runtime.sealing`); :func:`read_log` opens it with them.
    """
    keys = tuple(keys)
    seal = Sealer(keys).seal if keys else None
    lines = journal_lines(flow, modality=modality, raw_values=raw_values, sealed=bool(keys))
    with private_open(path, append=append) as fh:
        for _, entry in lines:
            line = json_line(entry)
            fh.write((seal(line) if seal is not None else line) + "\n")


def holds_card_data(flow: Interpreter) -> bool:
    """Whether the flow's journal can hold card data: a task has a card field
    (:attr:`~taskchart.statecharts.Field.card`) or a result is card data."""
    if flow.chart.holds_card_data:
        return True
    return any(_card_result(r) for r in flow.model.results.values())


def _card_result(result: Any) -> bool:
    """A result registered secret, or one with a card field (a card step's own result)."""
    if is_secret(result):
        return True
    if isinstance(result, Mapping):
        return any(k in CARD_FIELDS for k in result)
    if attrs.has(type(result)):
        return any(a.name in CARD_FIELDS for a in attrs.fields(type(result)))
    if dataclasses.is_dataclass(result):
        return any(f.name in CARD_FIELDS for f in dataclasses.fields(result))
    return False


def json_line(entry: Mapping[str, Any]) -> str:
    """A journal entry as one JSON line, whatever values it holds."""
    try:
        return json.dumps(entry, default=shown)
    except (TypeError, ValueError):  # an int too long, a key JSON has no form for
        event = entry.get("event")
        kind = event.get("type") if isinstance(event, Mapping) else None
        note = {"type": kind, "unrecordable": shown(event, 200)}
        return json.dumps({**entry, "event": note}, default=shown)


def _describe(ok: bool, code: Any, step: Any) -> str:
    if not ok:
        return f"refused ({code if isinstance(code, str) else shown(code, 60)})"
    if step is None:
        return "accepted (no transition)"
    source = _ids(step.get("source")) if isinstance(step, Mapping) else None
    target = _ids(step.get("target")) if isinstance(step, Mapping) else None
    if source is None or target is None:
        return f"a malformed recorded step {shown(step, 80)}"
    return f"{step.get('event')}: {'/'.join(source)} -> {'/'.join(target)}"


def _ids(value: Any) -> list[str] | None:
    """State ids as recorded (a list of strings), or None when they are not."""
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    return None


def replay(
    chart: Chart,
    entries: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    modality: Modality | None = None,
    stop_at_divergence: bool = True,
) -> ReplayReport:
    """Re-run ``entries`` (from :func:`read_log`, one flow) against ``chart``.

    ``ValueError`` when the entries are not one whole flow (see
    :func:`split_flows`; replay the flows of a longer file one by one with
    :func:`replay_flow`).
    """
    flows = split_flows(entries)
    if len(flows) > 1:
        starts = ", ".join(str(f.line) for f in flows[:5])
        raise ValueError(
            f"holds {len(flows)} flows (starting at lines {starts}"
            f"{', ...' if len(flows) > 5 else ''}): replay one at a time "
            "(split_flows() and replay_flow(), or taskchart replay --flow N)"
        )
    return replay_flow(chart, flows[0], modality=modality, stop_at_divergence=stop_at_divergence)


def replay_flow(
    chart: Chart,
    one: RecordedFlow,
    *,
    modality: Modality | None = None,
    stop_at_divergence: bool = True,
) -> ReplayReport:
    """Re-run one flow of a log (from :func:`split_flows`) against ``chart``."""
    pending = one.entries
    start_modality = modality or one.modality
    redacted = one.redacted
    recording: Recording | None = None
    if redacted:  # the recorded outcomes stand in for the values
        flow, recording = value_blind_flow(chart, modality=start_modality or "text")
    else:
        flow = Interpreter(chart, modality=start_modality or "text")
    flow.start()
    steps: list[ReplayStep] = []
    divergence: Divergence | None = None
    for index, (n, obj) in enumerate(pending, 1):
        recorded = "event" in obj and "ok" in obj
        data = obj["event"] if recorded else obj
        try:
            event = event_from_json(data)
        except ValueError as exc:
            divergence = divergence or Divergence(index, n, data, "a replayable event", str(exc))
            break
        if recording is not None:
            recording.entry = obj if recorded else None
        outcome = flow.handle(event)
        code = None if outcome.ok else outcome.code
        step = outcome.step if isinstance(outcome, Accepted) else None
        step_json = (
            {"event": step.event, "source": list(step.source), "target": list(step.target)}
            if step is not None
            else None
        )
        steps.append(
            ReplayStep(
                index,
                n,
                data,
                outcome.ok,
                code,
                step.source if step else None,
                step.target if step else None,
                step.event if step else None,
            )
        )
        if recorded and divergence is None:
            want_step = obj.get("step")
            want = _describe(bool(obj["ok"]), obj.get("code"), want_step)
            have = _describe(outcome.ok, code, step_json)
            if want != have:
                divergence = Divergence(index, n, data, want, have)
                if stop_at_divergence:
                    break
    return ReplayReport(
        tuple(steps),
        divergence,
        flow.configuration,
        flow.done,
        flow.results,
        flow.result,
        flow.error,
    )
