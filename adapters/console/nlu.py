"""A deterministic, rule-based stand-in for the model.

It reads one user line and the flow's current configuration, and returns
the tool calls a model would make. It knows the field kinds of declarative
tasks (names, emails, yes/no, free text, means of transport) and a few
phrasings for going back, declining and confirming. It exists so the demo and
tests run with no LLM, no server and no API key.

>>> from taskchart.adapters.console.interview import interview_chart
>>> from taskchart.runtime import Interpreter
>>> flow = Interpreter(interview_chart()); _ = flow.start()
>>> [call] = RuleBasedModel().respond("Hi, I'm Ada Lovelace, a mathematician", flow)
>>> call.name, call.arguments
('record_intro', {'name': 'Ada Lovelace', 'intro_notes': 'a mathematician'})
"""

from __future__ import annotations

import re
from typing import Any

from taskchart.runtime import Interpreter, ToolCalled
from taskchart.statecharts import Field, TaskSpec
from taskchart.statecharts.spoken import parse_yes_no, strip_filler
from taskchart.statecharts.task import CONFIRM, CORRECT, DECLINE, UPDATE

__all__ = ["RuleBasedModel"]

_BACK = re.compile(
    r"\b(go(?:ing)? back|back to|wrong|mistake|change|fix|correct(?:ion)? (?:my|the)|redo)\b", re.I
)
_DECLINE = re.compile(
    r"\b(skip|rather not|don'?t want|do not want|don'?t have|do not have|no thanks|refuse)\b", re.I
)
_NAME = re.compile(
    r"\b(?i:my name is|my name's|name is|i am|i'm|im|call me|this is|it's|it is)\s+"
    r"(?P<name>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,3})"
)
_BARE_NAME = re.compile(r"^(?P<name>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,3})\.?$")
_EMAIL_HINT = re.compile(r"@|\bat\s+\w|\be-?mail\b", re.I)
_EMAIL_LEAD = re.compile(
    r"^.*?\b(?:email(?: address)? is|e-mail is|it's|it is|is|use|try)\s+", re.I | re.S
)
_TRANSPORT = (
    "subway", "metro", "train", "bus", "tram", "car", "drive", "driving", "bike", "bicycle",
    "cycle", "cycling", "walk", "walking", "scooter", "motorbike", "ferry", "carpool", "taxi",
)  # fmt: skip
_TRANSPORT_RE = re.compile(
    r"\b(?:by |take the |ride (?:the |my )?)?(" + "|".join(_TRANSPORT) + r")\b", re.I
)


def _field_kind(f: Field) -> str:
    if f.type is bool:
        return "yes_no"
    name = f.name.lower()
    if "email" in name:
        return "email"
    if name in ("name", "first_name", "full_name", "candidate_name"):
        return "name"
    if "method" in name or "transport" in name:
        return "transport"
    return "text"


class RuleBasedModel:
    """Turns a user line into tool calls for the flow's active task.

    When it answers with words instead of a tool call (nothing to go back
    to, say), :attr:`said` holds the sentence.
    """

    def __init__(self) -> None:
        #: What the model said instead of calling a tool, for the last line (or None).
        self.said: str | None = None

    def respond(self, text: str, flow: Interpreter) -> list[ToolCalled]:
        """The tool calls for ``text``; empty when nothing was understood."""
        self.said = None
        task = flow.active_task
        if task is None:
            return []
        text = strip_filler(text.strip())
        spec = flow.chart.task_map[task]
        state = flow.configuration[-1].rsplit("__", 1)[-1]
        if _BACK.search(text):
            back = self._going_back(text, flow, spec, state)
            if back is not None:
                return back
        if _DECLINE.search(text):
            tool = self._tool(spec, DECLINE, flow)
            if tool is not None:
                return [ToolCalled(tool, {"reason": text})]
        update = self._update(text, spec, flow)
        if state == "confirming":
            if update is not None and self._has_new_value(update, flow, task):
                return [update]
            answer = parse_yes_no(text)
            event = CONFIRM if answer else CORRECT if answer is False else None
            tool = self._tool(spec, event, flow) if event else None
            return [ToolCalled(tool, {})] if tool else []
        return [update] if update is not None else []

    # -- pieces --------------------------------------------------------------------
    def _tool(self, spec: TaskSpec, event: str | None, flow: Interpreter) -> str | None:
        offered = flow.tools
        for tool in spec.tools:
            if tool.event == event and tool.name in offered:
                return tool.name
        return None

    def _going_back(
        self, text: str, flow: Interpreter, spec: TaskSpec, state: str
    ) -> list[ToolCalled] | None:
        """The calls for a line that asks to go back or fix something; None: not that."""
        targets = flow.regression_targets()
        named = self._named_tasks(text, flow)
        for tid in reversed(targets):
            if tid in named and flow.regress_tool in flow.tools:
                return [ToolCalled(flow.regress_tool, {"task_ids": [tid]})]
        if spec.id in named:  # a correction of this task, not a step back
            update = self._update(text, spec, flow)
            if update is not None and self._has_new_value(update, flow, spec.id, valid=True):
                return [update]  # "my email is wrong, it's ..."
            tool = self._tool(spec, CORRECT, flow) if state == "confirming" else None
            if tool is not None:
                return [ToolCalled(tool, {})]
            self.said = f"Sure, what is the right {spec.label}?"
            return []
        later = [t for t in named if t not in targets and t != spec.id]
        if later:
            label = flow.chart.task_map[later[0]].label
            self.said = f"We have not come to the {label} yet; we will, after the {spec.label}."
            return []
        if not re.search(r"\bgo(?:ing)? back\b", text, re.I):
            return None
        if targets and flow.regress_tool in flow.tools:
            return [ToolCalled(flow.regress_tool, {"task_ids": [targets[-1]]})]
        self.said = (
            f"There is nothing to go back to: this is the first step. "
            f"Let's go on with the {spec.label}."
        )
        return []

    def _named_tasks(self, text: str, flow: Interpreter) -> list[str]:
        """The tasks ``text`` names by a field, a word of its subject or its id."""
        lowered = text.lower()
        named: list[str] = []
        for other in flow.chart.tasks:
            words = {f.name.lower().replace("_", " ") for f in other.fields}
            words |= {w for w in other.label.lower().split() if len(w) > 3}
            words |= {other.id.removesuffix("_task").replace("_", " ")}
            if any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words):
                named.append(other.id)
        return named

    def _update(self, text: str, spec: TaskSpec, flow: Interpreter) -> ToolCalled | None:
        tool = next((t for t in spec.tools if t.event == UPDATE and t.name in flow.tools), None)
        if tool is None:
            return None
        fields = spec.field_map
        have = flow.values()
        found: dict[str, Any] = {}
        rest = text
        by_kind: dict[str, list[tuple[str, Field]]] = {}
        for arg, fname in tool.arguments.items():
            by_kind.setdefault(_field_kind(fields[fname]), []).append((arg, fields[fname]))
        for arg, _ in by_kind.get("email", []):
            if _EMAIL_HINT.search(text):
                found[arg] = _EMAIL_LEAD.sub("", text, count=1).strip(" .!")
        for arg, _ in by_kind.get("name", []):
            m = _NAME.search(text) or _BARE_NAME.match(text)
            if m:
                found[arg] = m.group("name")
                rest = (text[: m.start()] + text[m.end() :]).strip(" ,.!;-")
                rest = re.sub(r"^(?:hi|hello|hey)\b[\s,!.]*", "", rest, flags=re.I)
                rest = re.sub(r"^(?:and|,)\s*", "", rest).strip(" ,.!;-")
        for arg, _ in by_kind.get("yes_no", []):
            answer = parse_yes_no(text)
            if answer is not None:
                found[arg] = answer
        for arg, _ in by_kind.get("transport", []):
            m = _TRANSPORT_RE.search(text)
            if m:
                found[arg] = m.group(1).lower()
        for arg, f in by_kind.get("text", []):
            if f.name in have or arg in found:
                continue
            candidate = rest if rest is not text or not found else ""
            if len(candidate.split()) >= 2:
                found[arg] = candidate
        if not found:
            return None
        return ToolCalled(tool.name, found)

    def _has_new_value(
        self, call: ToolCalled, flow: Interpreter, task: str, *, valid: bool = False
    ) -> bool:
        """Whether ``call`` changes a value (``valid``: only by a value the field accepts)."""
        spec = flow.chart.task_map[task]
        tool = spec.tool(call.name)
        assert tool is not None
        current = flow.values(task)
        for arg, raw in call.arguments.items():
            fname = tool.arguments.get(arg, arg)
            try:
                value = spec.field_map[fname].clean(raw)
            except ValueError:
                if valid:
                    continue
                return True  # let the chart explain what is wrong with it
            if current.get(fname) != value:
                return True
        return False
