"""Typed fields of a declarative task: what the model must collect.

A field turns a raw tool argument (whatever JSON the model sent) into a clean,
typed value, or raises :class:`FieldError` with a message the model can act
on. Nothing here performs I/O.

>>> f = Field("can_commute", bool, description="whether the candidate can commute")
>>> f.clean("yes")
True
>>> Field("age", int).clean("forty")
Traceback (most recent call last):
...
taskchart.statecharts.fields.FieldError: age must be a whole number, got 'forty'
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .spoofing import invisible_character

__all__ = [
    "CARD_FIELDS",
    "MAX_LIST_LENGTH",
    "MAX_TEXT_LENGTH",
    "SHOWN_LIMIT",
    "Field",
    "FieldError",
    "shown",
]

#: Field names that are card data whether or not the field says ``card=True``
#: (LiveKit's card steps use them), so a card task written by hand is covered too.
CARD_FIELDS = frozenset({"card_number", "security_code", "expiration_month", "expiration_year"})

#: Longest text value a field accepts; longer input is rejected, not truncated.
MAX_TEXT_LENGTH = 2000
#: Most characters of a value that a message echoes.
SHOWN_LIMIT = 60

_TRUE = frozenset({"true", "yes", "y", "1", "yeah", "yep", "sure"})
_FALSE = frozenset({"false", "no", "n", "0", "nope", "nah"})
_TYPE_WORDS: dict[type, str] = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    list: "a list",
}

#: Most items a list field accepts.
MAX_LIST_LENGTH = 100
#: Control characters (tabs and line breaks aside) and lone surrogates, which UTF-8
#: cannot carry: text with them is refused, not stored and sent on to speech or logs.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: A whole number as text: one optional sign, then decimal digits (\\d: of any script).
_WHOLE = re.compile(r"[+-]?\d+")
#: Most digits a whole number accepts (Python refuses to convert past 4,300).
_MAX_DIGITS = 100
_TOO_LONG = 10**_MAX_DIGITS
#: Integers from here on count as infinite (near 2**1024, float() raises OverflowError).
_NO_FLOAT = 2**1023


class FieldError(ValueError):
    """A value a field cannot accept; ``str(err)`` is meant for the model."""


def shown(value: object, limit: int = SHOWN_LIMIT, *, pii: bool = False) -> str:
    """How a message names a value: ``repr(value)`` cut to ``limit`` characters.

    A private (``pii``) value is never shown, only its type; a value whose
    repr fails gets a placeholder.

    >>> shown("x" * 100, 10), shown(4111111111111111, pii=True)
    ("'xxxxxx...", 'an int (private, not shown)')
    """
    kind = type(value).__name__
    if pii:
        return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} (private, not shown)"
    try:
        text = repr(value)
    except Exception:  # an int past Python's 4,300-digit limit, a broken __repr__
        return f"<a {kind} that cannot be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@attrs.frozen
class Field:
    """One value a task collects.

    ``normalize`` receives the type-checked value and returns the value to
    store, or raises ``ValueError`` with a reason the model can relay.
    ``pii`` marks the value for redaction in logs, snapshots shown to people
    and diagrams. ``card`` marks card data (it implies ``pii``): never put into
    words for the model, never stored or journaled in clear (a store without an
    encryption key keeps none of it); a field named as in :data:`CARD_FIELDS`
    is card data too. ``allow_empty`` lets a text field hold ``""`` (an address
    without a unit number); ``schema`` overrides the JSON schema the tool
    shows the model for this field (the items of a list, an enum).
    """

    name: str
    type: type = str
    description: str = ""
    required: bool = True
    normalize: Callable[[Any], Any] | None = None
    pii: bool = False
    allow_empty: bool = False
    schema: Mapping[str, Any] | None = attrs.field(default=None, eq=False)
    card: bool = False

    def __attrs_post_init__(self) -> None:
        if self.card or self.name in CARD_FIELDS:
            object.__setattr__(self, "card", True)  # frozen: set once, here
            object.__setattr__(self, "pii", True)
        if not self.name.isidentifier():
            raise ValueError(f"field name {self.name!r} must be a Python identifier")
        if self.type not in _TYPE_WORDS:
            raise TypeError(f"field {self.name!r}: unsupported type {self.type!r}")

    @property
    def json_type(self) -> str:
        """The JSON-schema type name of this field."""
        return {str: "string", bool: "boolean", int: "integer", float: "number", list: "array"}[
            self.type
        ]

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of this field as a tool argument."""
        schema: dict[str, Any] = {"type": self.json_type}
        if self.description:
            schema["description"] = self.description
        if self.schema is not None:
            schema.update(self.schema)
        return schema

    def clean(self, raw: object) -> Any:
        """Return the typed, normalised value or raise :class:`FieldError`."""
        try:
            value = self._coerce(raw)
        except FieldError:
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:  # an input no check foresaw
            why = type(exc).__name__ if self.pii else shown(exc)
            raise FieldError(f"{self.name} cannot be read ({why})") from self._cause(exc)
        if self.normalize is not None:
            try:
                value = self.normalize(value)
            except FieldError as exc:
                raise FieldError(self._unquoted(str(exc), value)) from self._cause(exc)
            except (ValueError, TypeError) as exc:
                message = f"{self.name}: {self._unquoted(str(exc), value)}"
                raise FieldError(message) from self._cause(exc)
        return value

    def _cause(self, exc: Exception) -> Exception | None:
        """The error to chain: none for a private value (a traceback would print it)."""
        return None if self.pii else exc

    def _unquoted(self, message: str, value: object) -> str:
        """A validator's message without a private value in it (quoted or not)."""
        if not self.pii:
            return message
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                for form in (text, " ".join(text.split())):
                    if len(form) >= 2:
                        for quoted in (repr(form), f"'{form}'", f'"{form}"', form):
                            message = message.replace(quoted, "the value")
        return message

    def _coerce(self, raw: object) -> Any:
        expected = _TYPE_WORDS[self.type]
        if self.type is str:
            if not isinstance(raw, str):
                raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
            text = raw.strip()
            if not text and not self.allow_empty:
                raise FieldError(f"{self.name} must not be empty")
            if len(text) > MAX_TEXT_LENGTH:
                raise FieldError(f"{self.name} is too long ({len(text)} characters)")
            bad = _NOT_TEXT.search(text)
            if bad is not None:
                code = f"U+{ord(bad.group()):04X}"
                raise FieldError(f"{self.name} contains a character that is not text ({code})")
            hidden = None if text.isascii() else invisible_character(text)
            if hidden is not None:
                raise FieldError(
                    f"{self.name} contains an invisible character ({hidden}), which could hide "
                    "or reorder what it says; pass the value without it"
                )
            return text
        if self.type is list:
            if isinstance(raw, str):  # one item said as text
                raw = [raw]
            if not isinstance(raw, list | tuple):
                raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
            if len(raw) > MAX_LIST_LENGTH:
                raise FieldError(f"{self.name} is too long ({len(raw)} items)")
            return list(raw)
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
        if isinstance(raw, bool):
            raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
        if self.type is int:
            if isinstance(raw, int):
                if abs(raw) >= _TOO_LONG:  # str() of it could raise
                    raise FieldError(f"{self.name} is too long (over {_MAX_DIGITS} digits)")
                return raw
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            # decimal digits of any script ("١٢٣" is 123), not every digit ("²")
            if isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
                if len(raw.strip()) > _MAX_DIGITS:
                    raise FieldError(f"{self.name} is too long (over {_MAX_DIGITS} digits)")
                return int(raw.strip())
            raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
        number: float | None = None
        if isinstance(raw, int | float):
            number = float(raw) if not isinstance(raw, int) or abs(raw) < _NO_FLOAT else math.inf
        elif isinstance(raw, str) and len(raw) <= MAX_TEXT_LENGTH:
            with contextlib.suppress(ValueError):  # not a number: refused below
                number = float(raw.strip())
        if number is None:
            raise FieldError(f"{self.name} must be {expected}, got {shown(raw, pii=self.pii)}")
        if not math.isfinite(number):  # nan and inf: no caller means them, JSON cannot hold them
            raise FieldError(f"{self.name} must be a finite number, got {shown(raw, pii=self.pii)}")
        return number
