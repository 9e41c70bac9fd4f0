"""The seed examples as the LiveKit documentation writes them: on LiveKit's own classes.

The files of ``examples/`` differ from the documentation by their taskchart
import line only. :func:`as_documented` loads one with that line put back
(``AgentTask`` from ``livekit.agents``, ``TaskGroup`` from its
``beta.workflows``), so what runs LiveKit's own classes (the testing helpers'
tests, ``benchmarks/taskgroup_session.py --base livekit``) runs the
documentation's code rather than a copy of it. The module is loaded once; its
classes, dataclasses included, are its own (``documented.IntroResults`` is not
``examples.interview.IntroResults``).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from types import ModuleType

#: Where the documentation imports each name the examples take from taskchart.
LIVEKIT_HOME = {"AgentTask": "livekit.agents", "TaskGroup": "livekit.agents.beta.workflows"}

_TASKCHART_IMPORT = re.compile(r"^from taskchart\.adapters\.livekit import (.+)$", re.MULTILINE)


def _livekit_import(match: re.Match[str]) -> str:
    names = [name.strip() for name in match.group(1).split(",")]
    return "\n".join(f"from {LIVEKIT_HOME[name]} import {name}" for name in names)


@cache
def as_documented(example: str) -> ModuleType:
    """``examples/<example>.py`` with LiveKit's ``AgentTask`` and ``TaskGroup`` instead of taskchart's."""
    spec = importlib.util.find_spec(f"examples.{example}")
    assert spec is not None and spec.origin is not None and spec.loader is not None
    source = spec.loader.get_source(spec.name)  # type: ignore[attr-defined]
    source, swapped = _TASKCHART_IMPORT.subn(_livekit_import, source)
    assert swapped == 1, f"examples/{example}.py should import from taskchart in one line"
    module = ModuleType(f"{spec.name}_as_documented")
    module.__file__ = spec.origin
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    return module
