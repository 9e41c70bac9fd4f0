"""The root folders install as one namespace, from an editable install and from a wheel."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("statecharts", "runtime", "adapters", "diagrams")


def _modules() -> list[str]:
    names: list[str] = []
    for sub in SUBPACKAGES:
        pkg = importlib.import_module(f"taskchart.{sub}")
        names.append(pkg.__name__)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{pkg.__name__}.")]
    return sorted(names)


def test_every_subpackage_imports_from_the_installed_namespace() -> None:
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"taskchart.{sub}")
        assert module.__file__ is not None
    assert "taskchart.runtime.interpreter" in _modules()


def test_no_module_of_the_packages_is_over_500_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for sub in SUBPACKAGES
        for path in (ROOT / sub).rglob("*.py")
    }
    assert lengths["runtime/interpreter.py"] > 100
    assert {path: n for path, n in lengths.items() if n > 500} == {}


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_core_packages_and_the_pytest_plugin_never_import_livekit() -> None:
    code = (
        "import sys, taskchart.statecharts, taskchart.runtime, taskchart.diagrams;"
        "import taskchart.adapters.livekit, taskchart.adapters.livekit.pytest_plugin;"
        "print(sorted(m for m in sys.modules if m.startswith('livekit')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_built_wheel_holds_and_imports_every_subpackage(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("taskchart-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for sub in SUBPACKAGES:
        assert f"taskchart/{sub}/__init__.py" in names
        assert f"taskchart/{sub}/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    code = (
        f"import sys; sys.path.insert(0, {str(target)!r});"
        "import taskchart.runtime as r, taskchart.adapters.console.cli as c;"
        f"assert r.__file__.startswith({str(target)!r}), r.__file__;"
        "sys.argv = ['taskchart', 'demo', '-q'];"
        "c.main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=(ROOT / "examples" / "interview_script.txt").read_text(),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"commute_method": "train"' in proc.stdout


def test_readme_python_example_runs() -> None:
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    flow = namespace["flow"]
    assert flow.result.email_address == "ada@example.com"  # type: ignore[attr-defined]
