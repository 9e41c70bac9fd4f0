"""Journals sealed at rest with the application's Fernet keys.

Rules of this module: a sealed journal is still JSON lines, one
``{"sealed": TOKEN}`` per line, TOKEN the line's text encrypted with the
first key (``cryptography``'s Fernet; the other keys still open lines, for
rotation, as the store's records do). Nothing of a sealed line is readable
without a key, the header included. Reading needs the keys: a sealed line
read without them, or with none that opens it, is a ``ValueError`` that
says so, never a silent skip.

Keys come from the application (``keys=``), from ``TASKCHART_KEYS`` (keys
separated by commas or spaces, the first sealing) or from a key file (one
key per line, as ``taskchart replay --key-file`` reads). The same keys a
store's :class:`~taskchart.runtime.durable.Records` take serve here.

>>> from cryptography.fernet import Fernet
>>> sealer = Sealer([Fernet.generate_key()])
>>> line = sealer.seal('{"end": 0}')
>>> line.startswith('{"sealed": ') and sealer.unseal(json.loads(line)["sealed"])
'{"end": 0}'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["KEYS_ENV", "Sealer", "journal_keys", "keys_from_env", "read_key_file"]

#: The environment variable holding the journal keys (the first one seals).
KEYS_ENV = "TASKCHART_KEYS"


def keys_from_env() -> tuple[str, ...]:
    """The keys in ``TASKCHART_KEYS`` (none when it is unset or empty)."""
    return tuple(os.environ.get(KEYS_ENV, "").replace(",", " ").split())


def read_key_file(path: str | Path) -> tuple[str, ...]:
    """The keys in a file, one a line (blank lines and ``#`` comments skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    keys = tuple(s.strip() for s in lines if s.strip() and not s.strip().startswith("#"))
    if not keys:
        raise ValueError(f"{path} holds no key")
    return keys


def journal_keys(key_file: str | Path | None = None) -> tuple[str, ...]:
    """The keys of ``key_file`` when given, else those of ``TASKCHART_KEYS``."""
    return read_key_file(key_file) if key_file is not None else keys_from_env()


class Sealer:
    """Seal and open journal lines with Fernet ``keys`` (the first one seals)."""

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        self.keys = tuple(keys)
        if not self.keys:
            raise ValueError("sealing needs at least one Fernet key")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in self.keys])
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"not a Fernet key ({type(exc).__name__}): make one with "
                "cryptography.fernet.Fernet.generate_key()"
            ) from None

    def seal(self, line: str) -> str:
        """``line`` as a sealed journal line."""
        token = self._fernet.encrypt(line.encode("utf-8")).decode("ascii")
        return json.dumps({"sealed": token})

    def unseal(self, token: object) -> str:
        """The text of a sealed line's ``token``; ``ValueError`` if no key opens it."""
        from cryptography.fernet import InvalidToken

        if not isinstance(token, str):
            raise ValueError("a sealed line holds a text token")
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise ValueError("sealed with a key that is not among the given ones") from None
