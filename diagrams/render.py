"""Write a chart's diagram to a file: DOT, Mermaid, or SVG/PNG/PDF through Graphviz ``dot``.

>>> FORMATS[".mmd"], FORMATS[".svg"]
('mermaid', 'svg')
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taskchart.statecharts import Chart

from .coverage import Coverage
from .dot import to_dot
from .mermaid import to_mermaid

__all__ = [
    "FORMATS",
    "GraphvizNotFoundError",
    "dot_to_image",
    "format_for",
    "graphviz_program",
    "render",
]

FORMATS = {
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "markdown",
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}

#: The comment an SVG made by :func:`render` carries: the hash of its DOT source.
DOT_HASH_PREFIX = "taskchart-dot-sha256:"


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz program ``dot`` is not installed (needed for SVG/PNG/PDF only)."""


def format_for(path: str | Path, format: str | None = None) -> str:
    """The output format: ``format`` if given, else from the file's suffix."""
    if format is not None:
        fmt = "mermaid" if format in ("mmd", "mermaid") else format
        if fmt not in set(FORMATS.values()):
            raise ValueError(
                f"unknown format {format!r}; use one of {sorted(set(FORMATS.values()))}"
            )
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; "
            f"use one of {', '.join(FORMATS)} or --format"
        )
    return FORMATS[suffix]


def graphviz_program(format: str = "svg") -> str:
    """The program that renders DOT: the system ``dot``, else pip's ``graphviz-pure``.

    ``graphviz-pure`` (``pip install 'taskchart[diagrams]'``) is a self-contained
    build of Graphviz with ``dot``'s command line, for machines without
    Graphviz; it writes SVG and PNG but not PDF.
    """
    exe = shutil.which("dot")
    if exe is not None:
        return exe
    for found in (shutil.which(PURE), Path(sys.executable).with_name(PURE)):
        if found and Path(found).is_file() and format != "pdf":
            return str(found)
    raise GraphvizNotFoundError(
        "the Graphviz program 'dot' was not found on PATH; for SVG and PNG run "
        "pip install 'taskchart[diagrams]' (graphviz-pure, a self-contained build), or install "
        "Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
        "it is the one that also writes PDF); .dot and .mmd files need neither"
    )


#: The pip-installable Graphviz build used when the system has no ``dot``.
PURE = "graphviz-pure"


def dot_to_image(dot: str, format: str = "svg") -> bytes:
    """Run Graphviz (``dot -T<format>``, see :func:`graphviz_program`) on DOT text."""
    exe = graphviz_program(format)
    proc = subprocess.run(
        [exe, f"-T{format}"], input=dot.encode(), capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"dot failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout


def render(
    chart: Chart,
    path: str | Path,
    format: str | None = None,
    *,
    snapshot: Mapping[str, Any] | None = None,
    coverage: Coverage | None = None,
) -> Path:
    """Write the diagram of ``chart`` to ``path``; the format follows the suffix unless given."""
    path = Path(path)
    fmt = format_for(path, format)
    if fmt in ("mermaid", "markdown"):
        text = to_mermaid(chart, snapshot=snapshot, coverage=coverage)
        if fmt == "markdown":
            text = f"```mermaid\n{text}```\n"
        path.write_text(text, encoding="utf-8")
        return path
    dot = to_dot(chart, snapshot=snapshot, coverage=coverage)
    if fmt == "dot":
        path.write_text(dot, encoding="utf-8")
        return path
    data = dot_to_image(dot, fmt)
    if fmt == "svg":
        data = _stamp(data, dot)
    path.write_bytes(data)
    return path


def dot_hash(dot: str) -> str:
    return hashlib.sha256(dot.encode()).hexdigest()


def _stamp(svg: bytes, dot: str) -> bytes:
    """Put the DOT source's hash in the SVG, so staleness is checkable without Graphviz."""
    marker = f"<!-- {DOT_HASH_PREFIX}{dot_hash(dot)} -->\n".encode()
    head, sep, rest = svg.partition(b"<svg")
    return head + marker + sep + rest if sep else marker + svg
