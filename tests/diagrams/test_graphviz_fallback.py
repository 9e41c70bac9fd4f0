"""SVG and PNG from pip alone: graphviz-pure stands in where the system has no ``dot``."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from taskchart.diagrams import GraphvizNotFoundError, render
from taskchart.statecharts import Chart

render_module = importlib.import_module("taskchart.diagrams.render")
PURE = Path(sys.executable).with_name("graphviz-pure")
needs_pure = pytest.mark.skipif(
    not PURE.is_file(), reason="graphviz-pure not installed (the dev and diagrams extras)"
)
INTERVIEW = "taskchart.adapters.console.interview:interview_chart"


def _no_system_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dot" else which(name))


@needs_pure
@pytest.mark.parametrize(("suffix", "head"), [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_without_system_dot_the_pip_build_renders(
    chart: Chart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, head: bytes
) -> None:
    _no_system_dot(monkeypatch)
    assert render_module.graphviz_program(suffix[1:]) == str(PURE)
    out = render(chart, tmp_path / f"flow{suffix}")
    data = out.read_bytes()
    assert data.startswith(head)
    if suffix == ".svg":
        assert b"graphviz-pure" in data and b"email_task" in data


@needs_pure
def test_the_system_dot_is_kept_when_present() -> None:
    if shutil.which("dot") is None:
        pytest.skip("no system dot here")
    assert render_module.graphviz_program("svg") == shutil.which("dot")


@needs_pure
def test_pdf_still_needs_the_system_dot(
    chart: Chart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_system_dot(monkeypatch)
    with pytest.raises(GraphvizNotFoundError, match="it is the one that also writes PDF"):
        render(chart, tmp_path / "flow.pdf")


def test_with_neither_the_command_says_how_to_get_one(tmp_path: Path) -> None:
    """The real command, on a PATH without dot and with no graphviz-pure beside python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    code = (
        "import sys, taskchart.diagrams.render;"
        "sys.modules['taskchart.diagrams.render'].PURE = 'no-such-graphviz';"
        f"sys.argv = ['taskchart', 'diagram', {INTERVIEW!r}, '-o', 'flow.svg'];"
        "from taskchart.adapters.console.cli import main; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PATH": str(bin_dir)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "taskchart diagram: the Graphviz program 'dot' was not found on PATH; for SVG and PNG "
        "run pip install 'taskchart[diagrams]' (graphviz-pure, a self-contained build), or "
        "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
        "graphviz; it is the one that also writes PDF); .dot and .mmd files need neither"
    ]
    assert not (tmp_path / "flow.svg").exists()
