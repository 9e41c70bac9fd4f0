"""``taskchart check --stored STORE_URL TARGET``: which stored running flows the chart can resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

from taskchart.adapters.stores import StoreError, open_store
from taskchart.runtime.digest import chart_digest
from taskchart.statecharts import Chart

__all__ = ["stored_report"]


def stored_report(url: str, chart: Chart, *, version: int = 1) -> tuple[list[str], bool]:
    """One line per running flow in the store at ``url``, and whether every one can resume."""
    return asyncio.run(_report(url, chart, version))


async def _report(url: str, chart: Chart, version: int) -> tuple[list[str], bool]:
    path = url.removeprefix("sqlite://") if url.startswith("sqlite://") else None
    if path is not None and path.startswith("/") and not Path(path).is_file():
        return [f"{url}: no SQLite store there (a check creates none)"], False
    store = open_store(url, version=version)
    digest = chart_digest(chart)
    lines: list[str] = []
    ok = True
    try:
        for flow_id in await store.running():
            row = await store.load(flow_id)
            if row is None:  # finished or deleted meanwhile
                continue
            why = store.records.fits(row, digest)
            ok = ok and not why
            verdict = "can resume" if not why else f"cannot resume: {'; '.join(why)}"
            lines.append(f"{flow_id} (seq {row.seq}): {verdict}")
    except StoreError as exc:
        return [f"{url.split('@')[-1]}: {exc}"], False
    finally:
        await store.aclose()
    if not lines:
        lines.append("no running flows stored")
    return lines, ok
