"""Grouped Slack alerts: one readable message per job run and severity, never one per ticket.

Every job that alerts a channel or a person builds its lines with `finding_line` (or its
own line function) and calls `grouped_alerts`; the lines are packed into as few messages as
Slack's limits allow (`jobs.render.pack`), each with a header that says how many there are
and, when split, which part it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from typing import Any

from jobs.model import Action, ActionKind, Finding, Severity
from jobs.render.actions import ActionItem, Layout, with_actions
from jobs.render.pack import fallback, pack, sections_of
from jobs.render.slack import context, escape, header, link, section

SEVERITY_ICON = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.BREACH: ":rotating_light:",
    Severity.ESCALATION: ":fire:",
}
PRIORITY_MARK = ":star: "


def ticket_link(finding: Finding) -> str:
    return link(finding.url, finding.item) if finding.url else escape(finding.item)


def finding_line(finding: Finding) -> str:
    """`:star: <url|SS-12> summary text` — the summary is ticket text, hence escaped."""
    mark = PRIORITY_MARK if finding.priority else ""
    return f"{mark}{ticket_link(finding)} {escape(finding.summary)}"


def order_for_alert(findings: Iterable[Finding]) -> list[Finding]:
    """Priority installers first (SOP 004: they take precedence), then most urgent, then key."""
    return sorted(findings, key=lambda f: (not f.priority, -f.severity.rank, f.item))


def section_blocks(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Lines in as few section blocks as fit Slack's 3,000-character section limit."""
    return [section("\n".join(part)) for part in sections_of(list(lines))]


def grouped_alerts(
    findings: Sequence[Finding],
    *,
    channel: str,
    title: Callable[[Severity, int], str],
    line: Callable[[Finding], str] = finding_line,
    max_per_message: int | None = None,
    footer: str | None = None,
    kind: ActionKind = ActionKind.SLACK_POST,
    buttons: bool | None = None,
) -> list[Action]:
    """One message per severity (more only past Slack's limits, or ``max_per_message``
    lines), highest severity first. ``buttons`` (default: on a channel post) adds what a
    person can do from Slack: open, snooze, why (`jobs.render.actions`)."""
    with_buttons = kind is ActionKind.SLACK_POST if buttons is None else buttons
    actions: list[Action] = []
    by_severity = sorted(findings, key=lambda f: -f.severity.rank)
    for severity, group in groupby(by_severity, key=lambda f: f.severity):
        ordered = order_for_alert(group)
        lines = [f"• {line(f)}" for f in ordered]
        others = 1 + (1 if footer else 0) + (1 if with_buttons else 0)
        parts = pack(lines, other_blocks=others, cap=max_per_message)
        for part in parts:
            chunk = [ordered[i] for i in part]
            heading = title(severity, len(ordered))
            if len(parts) > 1:
                heading += f" ({part[0] + 1}–{part[-1] + 1} of {len(ordered)})"
            shown = [lines[i] for i in part]
            blocks = [header(heading), *section_blocks(shown)]
            if footer:
                blocks.append(context([footer]))
            if with_buttons:
                blocks = with_actions(blocks, action_items(chunk), layout=layout_for(chunk))
            text = fallback(f"{SEVERITY_ICON[severity]} {escape(heading)}", shown)
            actions.append(
                Action(kind=kind, target=channel, findings=chunk, text=text, blocks=blocks)
            )
    return actions


def action_items(findings: Sequence[Finding], *, assignable: bool = False) -> list[ActionItem]:
    """The items a message's buttons act on: one per finding's item (a sheet account by its
    name as the sheet has it, a ticket by its key)."""
    return [
        ActionItem(
            job=f.job,
            item=f.item,
            label=f.item.removeprefix("sheet:"),
            url=f.url,
            assignable=assignable,
        )
        for f in findings
    ]


def layout_for(items: Sequence[object]) -> Layout:
    """Buttons for a message about one item; a ticket picker beside them for more (the lines
    stay as they are, packed; the picker says which one a click is about)."""
    return "buttons" if len(items) == 1 else "picker"
