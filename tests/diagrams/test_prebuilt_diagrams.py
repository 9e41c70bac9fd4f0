"""Diagrams of every prebuilt task chart: golden text, parse-back, real Graphviz."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from taskchart.diagrams import render, to_dot, to_mermaid
from taskchart.statecharts import Chart, compile_chart
from taskchart.statecharts.prebuilt.gallery import GALLERY

from .test_diagrams import assert_every_row_is_drawn


@pytest.fixture(params=sorted(GALLERY))
def prebuilt(request: pytest.FixtureRequest) -> Chart:
    return compile_chart(GALLERY[request.param]())


def test_dot_is_golden(prebuilt: Chart, snapshot: SnapshotAssertion) -> None:
    assert to_dot(prebuilt) == snapshot


def test_mermaid_is_golden(prebuilt: Chart, snapshot: SnapshotAssertion) -> None:
    assert to_mermaid(prebuilt) == snapshot


def test_every_row_is_drawn(prebuilt: Chart) -> None:
    assert_every_row_is_drawn(prebuilt)


def test_each_state_shows_the_tools_the_model_may_call_there(prebuilt: Chart) -> None:
    dot = to_dot(prebuilt)
    for spec in prebuilt.tasks:
        for tool in spec.tools:
            assert f"{tool.name}()" in dot


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz dot not installed (CI installs it)"
)
def test_svg_contains_every_state(prebuilt: Chart, tmp_path: Path) -> None:
    svg = render(prebuilt, tmp_path / "task.svg").read_text(encoding="utf-8")
    titles = set(re.findall(r"<title>([^<]+)</title>", svg))
    for s in prebuilt.states:
        expected = f"cluster_{s.id}" if s.kind == "compound" else s.id
        assert expected in titles, s.id
