"""``taskchart check --stored``: the stored running flows, and whether the chart resumes each."""

from __future__ import annotations

import asyncio
from pathlib import Path

from taskchart.adapters.console.cli import app
from taskchart.adapters.stores import SQLiteStore
from taskchart.runtime import AsyncFlow, Interpreter
from taskchart.statecharts import compile_chart
from taskchart.statecharts.prebuilt import email_spec, gallery
from typer.testing import CliRunner

EMAIL = "taskchart.statecharts.prebuilt.gallery:email"


async def store_two_calls(path: Path) -> None:
    store = SQLiteStore(path)
    for flow_id, chart in [
        ("call-a", compile_chart(gallery.email())),
        ("call-b", compile_chart(email_spec(require_confirmation=True))),  # an older chart
    ]:
        flow = AsyncFlow(Interpreter(chart), store=store, flow_id=flow_id)
        await flow.open()  # stored from its start, waiting for the caller
        await flow.aclose()
    await store.aclose()


async def store_no_call(path: Path) -> None:
    store = SQLiteStore(path)
    assert await store.running() == []
    await store.aclose()


def test_check_stored_reports_which_running_flows_the_chart_can_resume(tmp_path: Path) -> None:
    asyncio.run(store_two_calls(tmp_path / "flows.db"))
    url = f"sqlite://{tmp_path}/flows.db"
    cli = CliRunner().invoke(app, ["check", "--stored", url, EMAIL])
    lines = cli.output.splitlines()
    assert f"{EMAIL}: stored call-a (seq 1): can resume" in lines
    assert any(
        line.startswith(f"{EMAIL}: stored call-b (seq 1): cannot resume: ")
        and "the confirmation policy changed" in line
        for line in lines
    ), lines
    assert cli.exit_code == 1
    asyncio.run(store_no_call(tmp_path / "empty.db"))
    ok = CliRunner().invoke(app, ["check", "--stored", f"sqlite://{tmp_path}/empty.db", EMAIL])
    assert f"{EMAIL}: stored no running flows stored" in ok.output.splitlines()
    assert ok.exit_code == 0


def test_the_readme_resume_example_runs() -> None:
    text = (Path(__file__).parents[2] / "README.md").read_text()
    block = text.split("## Resuming calls after a worker restart", 1)[1]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_check_stored_on_a_mistyped_sqlite_path_fails_and_creates_no_file(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path}/flow.db"  # the store is flows.db
    cli = CliRunner().invoke(app, ["check", "--stored", url, EMAIL])
    assert cli.exit_code != 0
    assert f"{url}: no SQLite store there (a check creates none)" in cli.output
    assert not (tmp_path / "flow.db").exists()
