"""A chart's content digest: what a stored flow must still agree with to be resumed.

Rules of this module: the digest is a map of named parts to short hashes, so
a mismatch can say *what* changed: the task order, a task's kind, a field
(its type, flags or normaliser), the confirmation policy, the tools, the
validator, the result type, the keypad. Wording (instructions, descriptions,
read-back texts) is left out: rewording a prompt does not strand running
calls. Every attribute of a task spec is covered, also ones added later;
code is fingerprinted by its bytecode, constants and closure values, so an
edited normaliser changes the digest (so may a new Python version).

>>> from taskchart.statecharts import Field, compile_chart, declarative_task
>>> old = chart_digest(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> new = chart_digest(compile_chart(declarative_task("name", fields=[Field("name", int)])))
>>> changes(old, new)
["task 'name': field 'name' changed"]
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import types
import weakref
from collections.abc import Mapping
from typing import Any

import attrs
from taskchart.statecharts import Chart, TaskSpec

__all__ = ["changes", "chart_digest"]

#: Task attributes that are wording only: changing them keeps stored flows resumable.
WORDING = frozenset({"instructions", "description", "subject", "readback", "spelled_readback"})

_CACHE: weakref.WeakKeyDictionary[Chart, dict[str, str]] = weakref.WeakKeyDictionary()


def chart_digest(chart: Chart) -> dict[str, str]:
    """Part name -> short hash, plus ``"chart"``: the hash of every part."""
    try:
        return _CACHE[chart]
    except (KeyError, TypeError):
        pass
    parts = {"order": _hash(chart.task_ids), "return_exceptions": _hash(chart.return_exceptions)}
    for spec in chart.tasks:
        parts.update(_task_parts(spec))
    parts["chart"] = _hash(sorted(parts.items()))
    with contextlib.suppress(TypeError):  # a chart that cannot be weakly referenced
        _CACHE[chart] = parts
    return parts


def _task_parts(spec: TaskSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for attribute in attrs.fields(type(spec)):
        name = attribute.name
        if name in WORDING or name == "id":
            continue
        value = getattr(spec, name)
        if name == "fields":
            for field in value:
                out[f"{spec.id}.field.{field.name}"] = _hash(_describe(field))
            out[f"{spec.id}.fields"] = _hash([f.name for f in value])
        else:
            out[f"{spec.id}.{name}"] = _hash(_describe(value))
    return out


def changes(stored: Mapping[str, Any], current: Mapping[str, str]) -> list[str]:
    """What differs between a stored digest and the current one, in words (empty: the same)."""
    if stored.get("chart") == current.get("chart"):
        return []
    said: list[str] = []
    if stored.get("order") != current.get("order"):
        said.append("the tasks or their order changed")
    tasks = {k.split(".", 1)[0] for k in (*stored, *current) if "." in k}
    for task in sorted(tasks):
        mine = {k: v for k, v in current.items() if k.startswith(f"{task}.")}
        theirs = {k: v for k, v in stored.items() if k.startswith(f"{task}.")}
        if not mine or not theirs:
            said.append(f"task {task!r} was {'added' if mine else 'removed'}")
            continue
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                said.append(f"task {task!r}: {_words(key.split('.', 1)[1])} changed")
    if stored.get("return_exceptions") != current.get("return_exceptions"):
        said.append("return_exceptions changed")
    return said or ["the chart changed"]


def _words(part: str) -> str:
    if part.startswith("field."):
        return f"field {part[6:]!r}"
    return {
        "fields": "the field list",
        "confirmation": "the confirmation policy",
        "validate": "the validator",
        "result": "the result type",
    }.get(part, part.replace("_", " "))


def _hash(value: Any) -> str:
    return hashlib.sha256(repr(value).encode("utf-8", "backslashreplace")).hexdigest()[:16]


def _describe(value: Any, depth: int = 0) -> Any:
    """A stable, printable description of ``value`` (no memory addresses)."""
    if depth > 6:
        return "..."
    if value is None or isinstance(value, str | int | float | bool | bytes):
        return value
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, type):
        return _type(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_describe(v, depth + 1) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return sorted((repr(k), _describe(v, depth + 1)) for k, v in value.items())
    if attrs.has(type(value)):
        return [_type(type(value))] + [
            (a.name, _describe(getattr(value, a.name), depth + 1))
            for a in attrs.fields(type(value))
        ]
    if isinstance(value, types.FunctionType | types.MethodType) or callable(value):
        return _code(value, depth)
    return _type(type(value))


def _type(cls: type[Any]) -> str:
    name = f"{cls.__module__}:{cls.__qualname__}"
    if dataclasses.is_dataclass(cls):
        return f"{name}({', '.join(f.name for f in dataclasses.fields(cls))})"
    if attrs.has(cls):
        return f"{name}({', '.join(a.name for a in attrs.fields(cls))})"
    return name


def _code(function: Any, depth: int) -> Any:
    func = getattr(function, "__func__", function)
    if hasattr(func, "func") and hasattr(func, "args"):  # functools.partial
        return ["partial", _code(func.func, depth + 1), _describe(func.args, depth + 1)]
    code = getattr(func, "__code__", None)
    name = getattr(func, "__qualname__", type(func).__qualname__)
    if code is None:
        return ["callable", getattr(func, "__module__", ""), name]
    cells = [_describe(_cell(c), depth + 1) for c in func.__closure__ or ()]
    return ["code", name, _code_object(code), cells]


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _code_object(code: types.CodeType) -> Any:
    consts = [_code_object(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return [code.co_code.hex(), consts, list(code.co_names)]
