"""Every error of the real ``taskchart`` command: one line saying what to do, exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, UserSpoke
from taskchart.runtime.private import dump_snapshot
from taskchart.runtime.replay import dump_journal
from taskchart.statecharts import compile_chart
from taskchart.statecharts.prebuilt.gallery import email

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "interview_script.txt"
INTERVIEW = "taskchart.adapters.console.interview:interview_chart"
EMAIL = "taskchart.statecharts.prebuilt.gallery:email"
TASKCHART = str(Path(sys.executable).with_name("taskchart"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TASKCHART, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The error line, after checking it is one line, exit 2 and no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_version_and_python_dash_m() -> None:
    from importlib.metadata import version

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout == f"taskchart {version('taskchart')}\n"
    module = subprocess.run(
        [sys.executable, "-m", "taskchart", "check", INTERVIEW],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert module.returncode == 0, module.stderr
    assert f"{INTERVIEW}: warning: no-escape" in module.stdout


def test_a_script_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_bytes(b"I'm Ada\n\xff\xfe caf\xe9\n")
    line = one_line_error(run("demo", "--script", str(script)))
    assert line == (
        f"cannot read script {script}: not UTF-8 text (byte 0xff at offset 8); "
        "save it as UTF-8 and try again"
    )


@pytest.mark.parametrize(
    ("journal", "expected"),
    [
        ("missing/call.jsonl", "folder {tmp}/missing does not exist; create it first"),
        (".", "it is a directory; give a file name"),
    ],
    ids=["no-folder", "a-directory"],
)
def test_the_journal_path_is_checked_before_the_call(
    tmp_path: Path, journal: str, expected: str
) -> None:
    path = tmp_path / journal
    proc = run("demo", "-q", "--script", str(SCRIPT), "--journal", str(path))
    line = one_line_error(proc)
    assert line == f"cannot write journal {path}: " + expected.format(tmp=tmp_path)
    assert proc.stdout == ""  # the call never started


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (
            'raise RuntimeError("no database")\n',
            "m:x",
            "m:x: importing 'm' raised RuntimeError: no database at {tmp}/m.py:1: "
            "fix the module and try again",
        ),
        (
            "def (\n",
            "m:x",
            "m:x: 'm' has a syntax error at {tmp}/m.py:1 (invalid syntax): "
            "fix the module and try again",
        ),
        (
            'def make():\n    raise KeyError("tasks")\n',
            "m:make",
            "m:make: the factory raised KeyError: 'tasks' at {tmp}/m.py:2; fix it and try again",
        ),
        (
            "import livekit_missing_for_test\n",
            "m:x",
            "m:x: importing 'm' failed: no module named 'livekit_missing_for_test'; install it",
        ),
        (
            "x = 1\n",
            "nowhere:x",
            "nowhere:x: cannot import 'nowhere': no such module (run from the folder that holds "
            "it, or install its package)",
        ),
    ],
    ids=["raises", "syntax-error", "factory-raises", "missing-dependency", "missing-module"],
)
@pytest.mark.parametrize("command", ["check", "diagram", "coverage", "replay"])
def test_a_target_that_fails_to_load_is_one_line(
    tmp_path: Path, command: str, source: str, target: str, expected: str
) -> None:
    (tmp_path / "m.py").write_text(source)
    log = tmp_path / "call.jsonl"
    log.write_text("")
    args = {
        "check": ["check", target],
        "diagram": ["diagram", target, "-o", "x.dot"],
        "coverage": ["coverage", str(log), "--chart", target],
        "replay": ["replay", str(log), "--chart", target],
    }[command]
    line = one_line_error(run(*args, cwd=tmp_path))
    message = expected.format(tmp=tmp_path)
    if command in ("diagram", "coverage"):
        message = f"taskchart {command}: " + message.split(": ", 1)[1]
    assert line == message


def _snapshot(tmp_path: Path, chart_name: str) -> Path:
    chart = interview_chart() if chart_name == "interview" else compile_chart(email())
    flow = Interpreter(chart)
    flow.start()
    path = tmp_path / f"{chart_name}.json"
    dump_snapshot(flow, path)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "not a taskchart.snapshot/1 snapshot: format=None"),
        (
            "interview:configuration=['intro_task', 'intro_task__nowhere']",
            "configuration names unknown states ['intro_task__nowhere']",
        ),
        (
            "email",
            "snapshot of tasks ['email'] does not fit this chart's tasks "
            "['intro_task', 'email_task', 'commute_task']",
        ),
        ("[1, 2]", "a snapshot must be a JSON object"),
    ],
    ids=["empty", "no-such-state", "another-chart", "not-an-object"],
)
def test_diagram_checks_the_snapshot_as_restore_does(
    tmp_path: Path, data: object, expected: str
) -> None:
    if data == "email":
        path = _snapshot(tmp_path, "email")
    elif isinstance(data, str) and data.startswith("interview:"):
        path = _snapshot(tmp_path, "interview")
        snap = json.loads(path.read_text())
        snap["configuration"] = ["intro_task", "intro_task__nowhere"]
        path.write_text(json.dumps(snap))
    else:
        path = tmp_path / "snap.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data))
    proc = run("diagram", INTERVIEW, "-o", str(tmp_path / "x.dot"), "--snapshot", str(path))
    line = one_line_error(proc)
    assert line == f"taskchart diagram: {path} is not a snapshot of this chart: {expected}"
    assert not (tmp_path / "x.dot").exists()


def test_diagram_draws_a_redacted_snapshot_of_its_chart(tmp_path: Path) -> None:
    path = _snapshot(tmp_path, "interview")
    proc = run("diagram", INTERVIEW, "-o", str(tmp_path / "x.dot"), "--snapshot", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "intro_task__collecting" in (tmp_path / "x.dot").read_text()


def _journal(tmp_path: Path, name: str = "call.jsonl", flows: int = 1) -> Path:
    log = tmp_path / name
    for _ in range(flows):
        flow = Interpreter(interview_chart(), record=True)
        flow.start()
        flow.handle(UserSpoke("hello", "text"))
        dump_journal(flow, log, append=True)
    return log


def test_coverage_refuses_a_journal_of_another_chart(tmp_path: Path) -> None:
    log = _journal(tmp_path)
    line = one_line_error(run("coverage", str(log), "--chart", EMAIL))
    digest = interview_chart().digest
    assert line.startswith(
        f"taskchart coverage: {log}:1: a journal of chart 'InterviewFlow' (digest {digest}), "
        "not of 'Flow_"
    )
    assert line.endswith("pass the chart it was recorded with, or record a new journal")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty: a journal holds a header and the events of a flow"),
        ('{"name": "Ada"}\n', "line 1: not a taskchart journal line (keys: 'name')"),
        ("cut", "the flow that starts at line 1 has no end record (the file ends there)"),
        ("end-miscounts", "line 3: the end record counts 5 entries but the flow"),
        ("after-end", "line 4: an entry after the end of the flow that starts at line 1"),
    ],
    ids=["empty", "not-a-journal", "cut-short", "end-miscounts", "after-end"],
)
def test_replay_refuses_what_is_not_one_whole_journal(
    tmp_path: Path, content: str, expected: str
) -> None:
    log = _journal(tmp_path)
    lines = log.read_text().splitlines()
    assert json.loads(lines[-1]) == {"end": 1}
    if content == "cut":  # cut at a line boundary
        log.write_text("\n".join(lines[:2]) + "\n")
    elif content == "end-miscounts":
        log.write_text("\n".join([*lines[:2], '{"end": 5}']) + "\n")
    elif content == "after-end":
        log.write_text("\n".join([*lines, lines[1]]) + "\n")
    else:
        log.write_text(content)
    line = one_line_error(run("replay", str(log), "--chart", INTERVIEW))
    assert line.startswith(f"{log}: {expected}"), line


def test_replay_reads_a_file_of_several_flows(tmp_path: Path) -> None:
    log = _journal(tmp_path, flows=3)
    proc = run("replay", str(log), "--chart", INTERVIEW)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "flow 1 (line 1): ok; final intro_task/intro_task__collecting",
        "flow 2 (line 4): ok; final intro_task/intro_task__collecting",
        "flow 3 (line 7): ok; final intro_task/intro_task__collecting",
        "3 flows, 0 diverged",
    ]
    one = run("replay", str(log), "--chart", INTERVIEW, "--flow", "2")
    assert one.returncode == 0 and one.stdout.startswith("#1 UserSpoke: accepted\n")
    line = one_line_error(run("replay", str(log), "--chart", INTERVIEW, "--flow", "4"))
    assert line == f"{log}: holds 3 flow(s), so there is no flow 4: pick --flow 1 to 3"


def test_an_old_journal_without_end_record_still_replays(tmp_path: Path) -> None:
    log = _journal(tmp_path)
    header, event, _end = log.read_text().splitlines()
    old = json.loads(header) | {"format": "taskchart.journal/1"}
    log.write_text(json.dumps(old) + "\n" + event + "\n")
    proc = run("replay", "-q", str(log), "--chart", INTERVIEW)
    assert proc.returncode == 0, proc.stderr


def test_an_error_no_command_foresaw_is_one_line_too(tmp_path: Path) -> None:
    code = (
        "import sys; import taskchart.adapters.console.commands as c\n"
        "def boom(*a, **k): raise OSError('disk on fire')\n"
        "c.check_chart = boom\n"
        f"sys.argv = ['taskchart', 'check', {INTERVIEW!r}]\n"
        "from taskchart.adapters.console.cli import main; main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    line = one_line_error(proc)
    assert line == (
        "taskchart: unexpected OSError: disk on fire (TASKCHART_DEBUG=1 shows the traceback)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("check",), "taskchart: Missing argument 'TARGET'. (see taskchart check --help)"),
        (("nosuch",), "taskchart: No such command 'nosuch'. (see taskchart --help)"),
        (
            ("check", "--bogus", "x"),
            "taskchart: No such option: --bogus (see taskchart check --help)",
        ),
    ],
    ids=["missing argument", "unknown command", "unknown option"],
)
def test_a_usage_error_is_one_line_too(args: tuple[str, ...], expected: str) -> None:
    assert one_line_error(run(*args)) == expected


def test_replay_refuses_an_unknown_modality_in_one_line(tmp_path: Path) -> None:
    log = _journal(tmp_path)
    line = one_line_error(run("replay", str(log), "--chart", INTERVIEW, "--modality", "video"))
    assert line == f"{log}: modality must be 'text' or 'audio', got 'video'"
    audio = run("replay", "-q", str(log), "--chart", INTERVIEW, "--modality", "audio")
    assert audio.returncode == 0, audio.stderr
