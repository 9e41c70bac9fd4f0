"""Keywords taken as one typed record (``**options: Unpack[SomeTypedDict]``), checked as a call is.

Python refuses an unknown keyword of a function that names its keywords; a
function that takes them as ``**options`` would pass a misspelt one on (or
drop it) in silence. :func:`check_keywords` refuses it the way Python does.

>>> from typing import TypedDict
>>> class Lease(TypedDict, total=False):
...     lease_ttl: float
>>> check_keywords("open", {"lease_tll": 3.0}, Lease)
Traceback (most recent call last):
TypeError: open() got an unexpected keyword argument 'lease_tll'
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["check_keywords"]


def check_keywords(where: str, given: Mapping[str, object], accepted: type) -> None:
    """Raise :class:`TypeError` naming the first keyword of ``given`` the TypedDict
    ``accepted`` does not declare, as a call of ``where`` with that keyword would."""
    known: Mapping[str, object] = accepted.__annotations__  # inherited keys included
    for name in given:
        if name not in known:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
