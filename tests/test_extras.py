"""Without the optional dependencies, every feature that needs one says which extra to install."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What a venv with only ``pip install -e .`` lacks (a module set to None cannot be imported).
BARE = "import sys; sys.modules['livekit'] = None; sys.modules['hypothesis'] = None\n"


def bare_python(code: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BARE + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "import taskchart.adapters.livekit.testing",
            "ModuleNotFoundError: taskchart.adapters.livekit.testing needs livekit, an optional "
            "dependency: pip install 'taskchart[livekit]'",
        ),
        (
            "from taskchart.adapters.livekit import GetEmailTask",
            "ModuleNotFoundError: taskchart.adapters.livekit.GetEmailTask needs livekit, an "
            "optional dependency: pip install 'taskchart[livekit]'",
        ),
        (
            "import taskchart.runtime.testing",
            "ModuleNotFoundError: taskchart.runtime.testing needs hypothesis, an optional "
            "dependency: pip install 'taskchart[testing]'",
        ),
    ],
    ids=["livekit-testing", "livekit-task", "generated-tests"],
)
def test_an_import_that_needs_an_extra_names_it(code: str, message: str) -> None:
    proc = bare_python(code)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == message


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "examples.interview:build_group",
            "examples.interview:build_group: importing 'examples.interview' failed: no module "
            "named 'livekit.agents'; install it with: pip install 'taskchart[livekit]'",
        ),
        (
            "taskchart.adapters.livekit:GetEmailTask",
            "taskchart.adapters.livekit:GetEmailTask: taskchart.adapters.livekit.GetEmailTask "
            "needs livekit, an optional dependency: pip install 'taskchart[livekit]'",
        ),
    ],
    ids=["readme-example", "prebuilt-task"],
)
def test_the_command_names_the_extra_a_target_needs(target: str, message: str) -> None:
    proc = bare_python(
        f"sys.argv = ['taskchart', 'check', {target!r}]\n"
        "from taskchart.adapters.console.cli import main; main()"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [message]


def test_the_demo_and_the_core_need_no_extra() -> None:
    script = (ROOT / "examples" / "interview_script.txt").read_text()
    proc = bare_python(
        "sys.argv = ['taskchart', 'demo', '-q']\n"
        "from taskchart.adapters.console.cli import main; main()",
        stdin=script,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"commute_method": "train"' in proc.stdout


def test_the_testing_extra_brings_the_generated_tests_without_the_toolchain() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert sorted(d.split(">")[0] for d in extras["testing"]) == ["hypothesis", "pytest"]
    assert extras["diagrams"] == ["graphviz-pure>=0.2.2"]
    assert not any(d.startswith(("mypy", "ruff")) for d in extras["testing"])
