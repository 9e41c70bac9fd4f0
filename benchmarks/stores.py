"""Durable flows: the cost of a save per accepted event, and 1,000 concurrent flows per store.

``python benchmarks/stores.py [--quick]``. For each store (SQLite in a temp
file; Redis at ``TASKCHART_REDIS_URL``, or a ``redis-server`` started on a free
port) it prints the median cost of one accepted event (the interpreter
alone), of saving the flow after it (snapshot, record, write) and their
ratio; then runs 1,000 durable flows at once, each to its end, and counts
the events and finished states the store holds (nothing may be lost).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taskchart.adapters.stores import SQLiteStore, Store, open_store
from taskchart.runtime import AsyncFlow, Interpreter, ToolCalled, snapshot
from taskchart.runtime.digest import chart_digest
from taskchart.runtime.durable import Checkpointer
from taskchart.statecharts import Confirmation, Field, compile_chart, declarative_task

CHART = compile_chart(
    declarative_task(
        "name",
        fields=[Field("first"), Field("middle"), Field("last")],
        confirmation=Confirmation.NEVER,
    )
)
EVENTS = [
    ToolCalled("update_name", {"first": "Ada"}),
    ToolCalled("update_name", {"middle": "King"}),
    ToolCalled("update_name", {"last": "Lovelace"}),
]


def event_cost(n: int) -> float:
    """Seconds per accepted event (an update that leaves the task open)."""
    times = []
    for i in range(n):
        flow = Interpreter(CHART)
        flow.start()
        t0 = time.perf_counter()
        flow.handle(ToolCalled("update_name", {"first": f"Ada{i}"}))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def save_cost(store: Store, n: int) -> float:
    """Seconds per save of a flow's state after an event (snapshot, record, write)."""
    flow = Interpreter(CHART)
    flow.start()
    flow.handle(EVENTS[0])
    link = Checkpointer(
        store, f"bench-save-{time.time_ns()}", kind="flow", digest=chart_digest(CHART)
    )
    await link.open()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await link.save(lambda: snapshot(flow))
        times.append(time.perf_counter() - t0)
    await link.close()
    return statistics.median(times)


async def concurrent(store: Store, flows: int) -> tuple[int, int, float]:
    """Run ``flows`` durable flows at once to their end: (finished rows, events stored, seconds)."""
    prefix = f"bench-{time.time_ns()}"

    async def one(i: int) -> None:
        async with AsyncFlow(Interpreter(CHART), store=store, flow_id=f"{prefix}-{i}") as flow:
            for event in EVENTS:
                outcome = await flow.send(event)
                assert outcome.ok, outcome

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(flows)))
    elapsed = time.perf_counter() - t0
    finished = events = 0
    for i in range(flows):
        row = await store.load(f"{prefix}-{i}")
        if row is not None and row.status == "finished":
            finished += 1
            events += row.seq - 1  # the first save is the flow's start
    return finished, events, elapsed


@contextmanager
def redis_url() -> Iterator[str | None]:
    url = os.environ.get("TASKCHART_REDIS_URL")
    binary = shutil.which("redis-server")
    if url or binary is None:
        yield url
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


async def bench(name: str, make: Callable[[], Store], quick: bool) -> dict[str, Any]:
    n = 200 if quick else 2000
    flows = 1000
    store = make()
    event = event_cost(n)
    save = await save_cost(store, n)
    finished, events, elapsed = await concurrent(store, flows)
    await store.aclose()
    return {
        "store": name,
        "event_us": event * 1e6,
        "save_us": save * 1e6,
        "ratio": save / event,
        "flows": flows,
        "finished": finished,
        "events": events,
        "expected_events": flows * len(EVENTS),
        "seconds": elapsed,
    }


async def main(quick: bool) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await bench("SQLite", lambda: SQLiteStore(Path(tmp) / "f.db"), quick))
    with redis_url() as url:
        if url is None:
            print("Redis: skipped (no TASKCHART_REDIS_URL and no redis-server)", file=sys.stderr)
        else:
            results.append(await bench("Redis", lambda: open_store(url), quick))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (CI)")
    args = parser.parse_args()
    for r in asyncio.run(main(args.quick)):
        print(
            f"{r['store']}: event {r['event_us']:.1f} us, save {r['save_us']:.1f} us "
            f"(x{r['ratio']:.1f} the event); {r['flows']} concurrent flows: "
            f"{r['finished']} finished, {r['events']}/{r['expected_events']} events stored, "
            f"{r['seconds']:.2f} s"
        )
        if r["finished"] != r["flows"] or r["events"] != r["expected_events"]:
            raise SystemExit(f"{r['store']}: flows or events were lost")
