"""Task results as typed JSON: a registry of result types, so a stored result comes back as itself.

Rules of this module: only registered types are rebuilt (a stored type name
never imports anything); a dataclass or attrs class is stored as its fields,
any other type needs its own ``encode``/``decode``. A type registered
``secret`` (card data) is what a store without an encryption key drops.

>>> from dataclasses import dataclass
>>> @register_result_type
... @dataclass
... class Commute:
...     can_commute: bool
>>> entry = encode_result(Commute(True)); entry["type"].endswith("Commute"), entry["value"]
(True, {'can_commute': True})
>>> decode_result(entry)
Commute(can_commute=True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from .events import plain_json

__all__ = [
    "decode_result",
    "encode_result",
    "is_secret",
    "register_result_type",
    "registered",
    "type_name",
]

T = TypeVar("T")


@attrs.frozen
class _Codec:
    cls: type[Any]
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    secret: bool


_CODECS: dict[str, _Codec] = {}


def type_name(cls: type[Any]) -> str:
    """``module:qualname``, the key a result type is stored under."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register_result_type(
    cls: type[T] | None = None,
    *,
    encode: Callable[[T], Any] | None = None,
    decode: Callable[[Any], T] | None = None,
    secret: bool = False,
) -> Any:
    """Register ``cls`` (also as a class decorator, with or without options).

    A dataclass or attrs class needs no ``encode``/``decode``: its fields are
    stored (each plain JSON) and passed back to its constructor.
    """

    def add(kind: type[T]) -> type[T]:
        if (encode is None or decode is None) and not (
            dataclasses.is_dataclass(kind) or attrs.has(kind)
        ):
            raise TypeError(
                f"{kind.__qualname__} is neither a dataclass nor an attrs class: "
                "pass encode= and decode="
            )
        enc: Callable[[Any], Any] = encode or plain_json
        dec: Callable[[Any], Any] = decode or (lambda fields: kind(**fields))
        _CODECS[type_name(kind)] = _Codec(kind, enc, dec, secret)
        return kind

    return add if cls is None else add(cls)


def registered(cls: type[Any]) -> bool:
    codec = _CODECS.get(type_name(cls))
    return codec is not None and codec.cls is cls


def encode_result(value: Any) -> dict[str, Any] | None:
    """``{"type": name, "value": json}`` for a value of a registered type, else None."""
    codec = _CODECS.get(type_name(type(value)))
    if codec is None or codec.cls is not type(value):
        return None
    return {"type": type_name(type(value)), "value": codec.encode(value)}


def decode_result(entry: Mapping[str, Any]) -> Any:
    """The value :func:`encode_result` stored; ``LookupError`` for a type not registered here."""
    name = entry.get("type")
    codec = _CODECS.get(name) if isinstance(name, str) else None
    if codec is None:
        raise LookupError(f"result type {name!r} is not registered in this process")
    return codec.decode(entry.get("value"))


def is_secret(value: Any) -> bool:
    """Whether ``value``'s type was registered ``secret`` (card data)."""
    codec = _CODECS.get(type_name(type(value)))
    return codec is not None and codec.secret
