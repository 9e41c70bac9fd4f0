"""Regenerate the repository's committed diagrams: ``python -m examples.generate_diagrams``.

Repository tooling, not part of the library: it draws the prebuilt flows and
the examples (which the wheel does not ship) with the public diagram API.

Writes ``diagrams/generated/<name>.{dot,svg,mmd}`` for every flow in
:data:`FLOWS`. ``--check`` writes nothing and exits 1 when a file is out of
date (the test suite runs the same check). The SVG carries the hash of its
DOT source, so the check needs no Graphviz and ignores its version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from taskchart.diagrams.dot import to_dot
from taskchart.diagrams.mermaid import to_mermaid
from taskchart.diagrams.render import DOT_HASH_PREFIX, dot_hash, render
from taskchart.statecharts import Chart
from taskchart.statecharts.prebuilt.gallery import GALLERY

__all__ = ["FLOWS", "OUT", "generate", "stale"]

OUT = Path(__file__).resolve().parents[1] / "diagrams" / "generated"

#: name -> TARGET of the flows drawn in the repository.
FLOWS = {
    "interview": "taskchart.adapters.console.interview:interview_chart",
    "interview_group": "examples.interview:build_group",
    "bank_ivr": "examples.bank_ivr:bank_ivr_chart",
    **{
        name: f"taskchart.statecharts.prebuilt.gallery:{factory.__name__}"
        for name, factory in GALLERY.items()
    },
}


def _load(target: str) -> Chart:
    # TARGETs may name LiveKit task groups: the console adapter's loader builds them.
    from taskchart.adapters.console.targets import load_chart

    return load_chart(target)


def stale(out: Path = OUT) -> list[str]:
    """Files that are missing or do not match the code."""
    bad: list[str] = []
    for name, target in FLOWS.items():
        chart = _load(target)
        dot = to_dot(chart)
        expected = {f"{name}.dot": dot, f"{name}.mmd": to_mermaid(chart)}
        for fname, text in expected.items():
            path = out / fname
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                bad.append(fname)
        svg = out / f"{name}.svg"
        if not svg.exists() or f"{DOT_HASH_PREFIX}{dot_hash(dot)}" not in svg.read_text("utf-8"):
            bad.append(svg.name)
    return bad


def generate(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, target in FLOWS.items():
        chart = _load(target)
        for suffix in (".dot", ".mmd", ".svg"):
            written.append(render(chart, out / f"{name}{suffix}"))
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        bad = stale()
        for fname in bad:
            print(f"out of date: {OUT / fname}")
        if bad:
            print("run: python -m examples.generate_diagrams")
        return 1 if bad else 0
    for path in generate():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
