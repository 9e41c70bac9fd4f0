"""Optional dependencies: the extra that installs each, and one clear error when it is missing.

>>> missing_extra(ModuleNotFoundError("No module named 'hypothesis'", name="hypothesis"),
...               "taskchart.runtime.testing")
ModuleNotFoundError("taskchart.runtime.testing needs hypothesis, an optional dependency: pip install 'taskchart[testing]'")
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint", "missing_extra"]

#: Top-level modules of optional dependencies, and the extra that installs each.
EXTRAS = {"livekit": "livekit", "hypothesis": "testing"}


def install_hint(module: str | None) -> str:
    """``pip install 'taskchart[extra]'`` when ``module`` comes with an extra, else ``""``."""
    extra = EXTRAS.get((module or "").partition(".")[0])
    return f"pip install 'taskchart[{extra}]'" if extra else ""


def missing_extra(exc: ModuleNotFoundError, feature: str) -> ModuleNotFoundError:
    """The error to raise in place of ``exc``: what needs the module and how to get it.

    A module that no extra provides keeps its own error.
    """
    hint = install_hint(exc.name)
    if not hint:
        return exc
    root = (exc.name or "").partition(".")[0]
    return ModuleNotFoundError(
        f"{feature} needs {root}, an optional dependency: {hint}", name=exc.name
    )
