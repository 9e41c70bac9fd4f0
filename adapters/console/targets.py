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
import traceback
from collections.abc import Sequence
from typing import Any

import attrs
from taskchart.runtime.checks import as_chart as pure_chart
from taskchart.runtime.extras import install_hint
from taskchart.statecharts import Chart, TaskSpec, compile_chart

__all__ = ["TargetError", "as_chart", "load_chart", "load_target", "missing_extra_hint"]


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
    obj: Any = _import(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from exc
        except ImportError as exc:  # a lazily loaded name whose dependency is missing
            raise TargetError(f"{exc}") from exc
    return obj


def _import(module_name: str) -> Any:
    """Import a target's module; whatever it raises becomes one :class:`TargetError` line."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        hint = missing_extra_hint(exc.name)
        if exc.name and module_name != exc.name and not module_name.startswith(exc.name + "."):
            raise TargetError(
                f"importing {module_name!r} failed: no module named {exc.name!r}; "
                + (hint or "install it")
            ) from exc
        raise TargetError(
            f"cannot import {module_name!r}: no such module (run from the folder that "
            "holds it, or install its package)"
        ) from exc
    except SyntaxError as exc:
        where = f" at {exc.filename}:{exc.lineno}" if exc.filename else ""
        raise TargetError(
            f"{module_name!r} has a syntax error{where} ({exc.msg}): fix the module and try again"
        ) from exc
    except Exception as exc:  # the module's own code raised while importing
        raise TargetError(
            f"importing {module_name!r} raised {_raised(exc)}: fix the module and try again"
        ) from exc


def _raised(exc: BaseException) -> str:
    """``Type: message (file:line)`` of an exception raised by the user's code, on one line."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:199] + "…"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


def missing_extra_hint(module: str | None) -> str:
    """What to install when ``module`` (a missing import) comes with a taskchart extra."""
    hint = install_hint(module)
    return f"install it with: {hint}" if hint else ""


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
            inspect.signature(obj).bind()
        except TypeError as exc:
            raise TargetError(f"{what} is callable but not with zero arguments: {exc}") from exc
        except ValueError:  # no signature to read (a builtin): calling it tells
            pass
        try:
            made = obj()
            if inspect.isawaitable(made) and not _is_group(made):
                made = await made
        except TargetError:
            raise
        except Exception as exc:
            hint = missing_extra_hint(exc.name) if isinstance(exc, ImportError) else ""
            raise TargetError(
                f"the factory raised {_raised(exc)}; " + (hint or "fix it and try again")
            ) from exc
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
        raise TargetError(
            f"drawing a task class needs LiveKit ({exc}); {missing_extra_hint('livekit')}"
        ) from exc
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
