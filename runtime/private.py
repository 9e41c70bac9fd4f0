"""Journals and snapshots without personal data, in files only their owner can read.

Rules of this module: what is *written out* (a journal file, a snapshot
file, the output of :func:`redact_journal` or :func:`redact_snapshot`)
holds no value of a ``pii`` field, no keypad key, no task result and nothing
the user said, unless the caller passes ``raw_values=True`` (local
debugging). In memory, a flow's :attr:`~taskchart.runtime.Interpreter.journal`
and :func:`~taskchart.runtime.snapshot` keep the values: a task group needs
them to resume an interrupted task. Files are created with mode 0600.

A redacted journal still replays: each redacted value becomes
``"[redacted]"``, and :mod:`taskchart.runtime.standins` lets the recorded
outcome decide what the value decided (valid or not, repeated right or not).

>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> from taskchart.runtime import Interpreter, ToolCalled
>>> chart = compile_chart(declarative_task("email", fields=[Field("email", pii=True)],
...                                        confirmation=Confirmation.NEVER))
>>> flow = Interpreter(chart, record=True); _ = flow.start()
>>> _ = flow.handle(ToolCalled("update_email", {"email": "ada@example.com"}))
>>> redact_journal(chart, flow.journal)[0]["event"]["arguments"]
{'email': '[redacted]'}
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from taskchart.statecharts import Chart, TaskSpec
from taskchart.statecharts.task import KEYPAD_KEYS

from .interpreter import DEFAULT_REGRESS_TOOL, Interpreter
from .logs import REDACTED, personal_values, scrub
from .results import is_secret
from .snapshots import snapshot

__all__ = [
    "REDACTED",
    "card_data_in",
    "dump_snapshot",
    "personal_fields",
    "private_open",
    "redact_journal",
    "redact_snapshot",
]

#: The mode of every file taskchart writes flow state to.
FILE_MODE = 0o600


def private_open(path: str | Path, *, append: bool = False) -> IO[str]:
    """Open ``path`` for writing text, created (or narrowed to) mode 0600 before any byte."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    with contextlib.suppress(OSError):  # a file system without modes
        os.fchmod(fd, FILE_MODE)  # a file that existed keeps its mode through os.open
    return os.fdopen(fd, "a" if append else "w", encoding="utf-8")


def personal_fields(spec: TaskSpec) -> frozenset[str]:
    """A task's fields whose values are personal: ``pii`` ones and the keypad's field."""
    names = {f.name for f in spec.fields if f.pii}
    if spec.keypad is not None:
        names.add(spec.keypad.field)
    return frozenset(names)


def _tool_arguments(chart: Chart) -> dict[str, dict[str, bool]]:
    """Tool name -> {argument: personal?} over every task offering the tool."""
    out: dict[str, dict[str, bool]] = {}
    for spec in chart.tasks:
        personal = personal_fields(spec)
        for tool in spec.tools:
            args = out.setdefault(tool.name, {})
            for arg, target in tool.arguments.items():
                if target in spec.field_map:
                    args[arg] = args.get(arg, False) or target in personal
    return out


def stand_in_key(chart: Chart) -> str:
    """The keypad key a redacted tone becomes: one that is no task's stop key."""
    stops = {t.keypad.stop_key for t in chart.tasks if t.keypad is not None}
    return next(k for k in KEYPAD_KEYS if k not in stops)


def redact_journal(
    chart: Chart,
    entries: Sequence[Mapping[str, Any]],
    *,
    regress_tool: str = DEFAULT_REGRESS_TOOL,
) -> list[dict[str, Any]]:
    """Journal entries of ``chart`` without personal values (see the module docs).

    Arguments of ``pii`` (or keypad) fields, keypad tones other than the stop
    key, user speech, task results and participants become ``"[redacted]"``;
    empty values stay (they decide a refusal). Free text (a decline reason, a
    close reason) keeps its words but loses emails, digit runs and every
    value redacted elsewhere in the journal. Outcomes and steps are kept.
    """
    tools = _tool_arguments(chart)
    key = stand_in_key(chart)
    words = personal_values([_said(e.get("event"), tools) for e in entries])
    redact = functools.partial(_event, tools=tools, key=key, words=words, regress_tool=regress_tool)
    return [_entry(e, redact) for e in entries]


def _said(event: Any, tools: Mapping[str, Mapping[str, bool]]) -> Any:
    """The personal values an event carries (to scrub from free text elsewhere)."""
    try:
        return _carried(event, tools)
    except Exception:  # keys no check foresaw (their == raises): the entry is held back whole
        return ()


def _carried(event: Any, tools: Mapping[str, Mapping[str, bool]]) -> Any:
    if not isinstance(event, Mapping):
        return ()
    kind = event.get("type")
    if kind == "ToolCalled":
        args, name = event.get("arguments"), event.get("name")
        known = tools.get(name, {}) if isinstance(name, str) else {}
        if isinstance(args, Mapping):
            return [v for k, v in args.items() if known.get(k, True) and k != "reason"]
        return args
    return event.get({"UserSpoke": "text", "TaskReturned": "result"}.get(str(kind), ""), ())


def _entry(
    entry: Mapping[str, Any],
    redact: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """``entry`` with its event redacted by ``redact(event, entry)``."""
    event = entry.get("event")
    if not isinstance(event, Mapping):
        return dict(entry)
    try:
        redacted = redact(event, entry)
    except Exception:  # a value no check foresaw (its == or hash raises): held back whole
        kind = event.get("type")
        redacted = {"type": kind if isinstance(kind, str) else None, "unrecordable": REDACTED}
    return {**entry, "event": redacted}


def _event(
    event: Mapping[str, Any],
    entry: Mapping[str, Any],
    *,
    tools: Mapping[str, Mapping[str, bool]],
    key: str,
    words: list[str],
    regress_tool: str,
) -> dict[str, Any]:
    kind = event.get("type")
    out = dict(event)
    if "unrecordable" in out:
        out["unrecordable"] = REDACTED
    elif kind == "ToolCalled":
        out["arguments"] = _arguments(event, tools, words, regress_tool)
    elif kind == "UserSpoke":
        out["text"] = _whole(event.get("text"))
    elif kind == "DtmfReceived":
        step = entry.get("step")
        guards = step.get("guards") if isinstance(step, Mapping) else None
        if not (isinstance(guards, Mapping) and guards.get("is_stop_key") is True):
            refused = entry.get("code") == "invalid_argument"
            out["digit"] = "?" if refused else key  # the stop key is no entry: it stays
        out["participant"] = _whole(event.get("participant"))
    elif kind == "TaskReturned":
        out["result"] = _whole(event.get("result"))
    elif kind == "TaskRaised":
        text = event.get("error")
        head = text.split(":", 1)[0] if isinstance(text, str) else ""
        out["error"] = f"{head}: {REDACTED}" if head.isidentifier() else REDACTED
    elif kind == "SessionClosed":
        reason = event.get("reason")
        out["reason"] = scrub(reason, words) if isinstance(reason, str) else _whole(reason)
    elif kind not in ("TimerFired", "ModalitySet", "Resumed"):  # those carry nothing personal
        out = {"type": kind, **{k: _whole(v) for k, v in event.items() if k != "type"}}
    return out


def _arguments(
    event: Mapping[str, Any],
    tools: Mapping[str, Mapping[str, bool]],
    words: list[str],
    regress_tool: str,
) -> Any:
    args = event.get("arguments")
    name = event.get("name")
    if not isinstance(args, Mapping):
        return _whole(args)
    known = tools.get(name, {}) if isinstance(name, str) else {}
    out: dict[str, Any] = {}
    for arg, value in args.items():
        if known.get(arg) is False or (name == regress_tool and arg == "task_ids"):
            out[arg] = value  # a field that is not personal, or task ids: replay needs them
        elif arg in known or not isinstance(value, str):
            out[arg] = _whole(value)
        else:  # free text (a reason) or an argument no task knows
            out[arg] = scrub(value, words)
    return out


def _whole(value: Any) -> Any:
    """``value`` redacted whole; absent and empty values stay (they hold nothing)."""
    return value if value is None or (type(value) is str and not value) else REDACTED


def redact_snapshot(chart: Chart, data: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`~taskchart.runtime.snapshot` without personal values (it no longer restores).

    ``pii`` and keypad field values, keypad buffers and task results become
    ``"[redacted]"``; error texts keep their type. The configuration,
    history and bookkeeping stay, so a diagram can still show where the flow is.
    """
    personal = {t.id: personal_fields(t) for t in chart.tasks}
    out = dict(data)
    out["redacted"] = True
    values = data.get("values")
    if isinstance(values, Mapping):
        out["values"] = {
            t: {
                k: _whole(v) if k in personal.get(t, ()) else v
                for k, v in (fields.items() if isinstance(fields, Mapping) else ())
            }
            for t, fields in values.items()
        }
    results = data.get("results")
    if isinstance(results, Mapping):
        out["results"] = {t: _result(r) for t, r in results.items()}
    keys = data.get("keys")
    if isinstance(keys, Mapping):
        out["keys"] = {
            t: [REDACTED] * len(k) if isinstance(k, list) else REDACTED for t, k in keys.items()
        }
    return out


def _result(entry: Any) -> Any:
    if not isinstance(entry, Mapping):
        return REDACTED
    if "value" in entry:
        return {**entry, "value": _whole(entry["value"])}
    error = entry.get("error")
    if isinstance(error, Mapping):
        words = {k: REDACTED for k in ("message", "said") if k in error}  # free text
        return {**entry, "error": {**error, **words}}
    return dict(entry)


def dump_snapshot(flow: Interpreter, path: str | Path, *, raw_values: bool = False) -> None:
    """Write the flow's snapshot as JSON to ``path`` (mode 0600), redacted unless ``raw_values``."""
    data = snapshot(flow)
    if not raw_values:
        data = redact_snapshot(flow.chart, data)
    with private_open(path) as fh:
        json.dump(data, fh, ensure_ascii=False)


def card_data_in(flow: Interpreter) -> bool:
    """Whether ``flow`` holds card data now: a value of a card field
    (:attr:`~taskchart.statecharts.Chart.card_fields`), keypad digits typed so far
    for one, or a result of a type registered secret (a card result). What a
    store without a key must not keep.
    """
    chart, model = flow.chart, flow.model
    for tid, names in chart.card_fields.items():
        if not names:
            continue
        if names & (model.values.get(tid) or {}).keys():
            return True
        keypad = chart.task_map[tid].keypad
        if keypad is not None and keypad.field in names and model.keys.get(tid):
            return True  # digits typed so far for a card field
    return any(is_secret(r) for r in model.results.values())
