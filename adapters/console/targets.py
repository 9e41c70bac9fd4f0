"""Resolve a command-line TARGET (``module:attribute``) to a :class:`Chart`.

One loader for every command (diagram, coverage, check, replay) and for the
generated diagrams.

The attribute may be a Chart, a TaskSpec, a sequence of specs, a
hand-written task class (drawn with its implicit chart and its tool names),
a TaskGroup, or a zero-argument factory returning any of these. LiveKit
objects are built inside a running asyncio loop, as LiveKit requires.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

import attrs
from taskchart.runtime.checks import as_chart as pure_chart
from taskchart.statecharts import Chart, TaskSpec, compile_chart

__all__ = ["TargetError", "as_chart", "load_chart", "load_target"]


class TargetError(ValueError):
    """A TARGET that does not name something drawable."""


def load_chart(target: str) -> Chart:
    """Import ``module:attribute`` (the current directory is importable) and make a chart."""
    return asyncio.run(_as_chart_async(load_target(target), target))


def load_target(target: str) -> Any:
    """Import ``module:attribute`` and return the attribute; :class:`TargetError` if unfit."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"TARGET must look like module:attribute, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(f"cannot import {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from exc
    return obj


def as_chart(obj: Any) -> Chart:
    """Make a chart of a drawable object (see the module docstring)."""
    return asyncio.run(_as_chart_async(obj, repr(obj)))


async def _as_chart_async(obj: Any, what: str, depth: int = 0) -> Chart:
    if isinstance(obj, Chart | TaskSpec) or (
        isinstance(obj, Sequence) and obj and all(isinstance(o, TaskSpec) for o in obj)
    ):
        return pure_chart(obj)
    if _is_group(obj):
        return _group_chart(obj)
    if isinstance(obj, type):
        return compile_chart(_livekit_spec(obj), group=False)
    if callable(obj) and depth == 0:
        try:
            made = obj()
        except TypeError as exc:
            raise TargetError(f"{what} is callable but not with zero arguments: {exc}") from exc
        if inspect.isawaitable(made) and not _is_group(made):
            made = await made
        return await _as_chart_async(made, what, depth + 1)
    raise TargetError(
        f"{what} is a {type(obj).__name__}: expected a Chart, TaskSpec(s), a task class, "
        "a TaskGroup or a zero-argument factory of one"
    )


def _is_group(obj: Any) -> bool:
    return isinstance(getattr(type(obj), "chart", None), property) and not isinstance(obj, type)


def _livekit_spec(cls: type[Any] | Any, **kw: Any) -> TaskSpec:
    try:
        from taskchart.adapters.livekit import task_spec
    except ImportError as exc:  # pragma: no cover - LiveKit is an optional extra
        raise TargetError(f"drawing a task class needs LiveKit: {exc}") from exc
    return task_spec(cls, **kw)


def _group_chart(group: Any) -> Chart:
    """A TaskGroup's chart, with each task's tool names (its factory is called once)."""
    chart: Chart = group.chart
    entries = getattr(group, "_entries", None)
    if not isinstance(entries, dict):
        return chart
    specs: list[TaskSpec] = []
    for spec, entry in zip(chart.tasks, entries.values(), strict=True):
        try:
            task = entry.factory()
            drawn = _livekit_spec(task, id=spec.id, description=spec.description)
        except Exception:  # a factory that needs a session: draw without tool names
            specs.append(spec)
            continue
        specs.append(attrs.evolve(drawn, depends_on=spec.depends_on))
    return compile_chart(specs, name=chart.name)
