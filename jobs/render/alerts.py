"""Grouped Slack alerts: one readable message per job run and severity, never one per ticket.

Every job that alerts a channel or a person builds its lines with `finding_line` (or its
own line function) and calls `grouped_alerts`; long lists are split into several messages
of at most ``max_per_message`` lines so no message hits Block Kit's 50-block limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from itertools import groupby
from typing import Any

from jobs.model import Action, ActionKind, Finding, Severity
from jobs.render.slack import context, escape, header, link, section, truncate

SEVERITY_ICON = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.BREACH: ":rotating_light:",
    Severity.ESCALATION: ":fire:",
}
PRIORITY_MARK = ":star: "


def human_duration(delta: timedelta) -> str:
    """'2 h 13 m', '45 m', '3 d 4 h': what a person reads in an alert."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    return f"{minutes} m"


def ticket_link(finding: Finding) -> str:
    return link(finding.url, finding.item) if finding.url else escape(finding.item)


def finding_line(finding: Finding) -> str:
    """`:star: <url|SS-12> summary text` — the summary is ticket text, hence escaped."""
    mark = PRIORITY_MARK if finding.priority else ""
    return f"{mark}{ticket_link(finding)} {escape(finding.summary)}"


def order_for_alert(findings: Iterable[Finding]) -> list[Finding]:
    """Priority installers first (SOP 004: they take precedence), then most urgent, then key."""
    return sorted(findings, key=lambda f: (not f.priority, -f.severity.rank, f.item))


def section_blocks(lines: Iterable[str], limit: int = 2900) -> list[dict[str, Any]]:
    """Pack lines into as few section blocks as fit Slack's 3000-character section limit."""
    blocks: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    for text in lines:
        text = truncate(text, limit)  # never cuts inside a link or an entity
        if current and size + len(text) + 1 > limit:
            blocks.append(section("\n".join(current)))
            current, size = [], 0
        current.append(text)
        size += len(text) + 1
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def grouped_alerts(
    findings: Sequence[Finding],
    *,
    channel: str,
    title: Callable[[Severity, int], str],
    line: Callable[[Finding], str] = finding_line,
    max_per_message: int = 25,
    footer: str | None = None,
    kind: ActionKind = ActionKind.SLACK_POST,
) -> list[Action]:
    """One Action per severity (split in chunks of ``max_per_message``), highest severity first."""
    actions: list[Action] = []
    by_severity = sorted(findings, key=lambda f: -f.severity.rank)
    for severity, group in groupby(by_severity, key=lambda f: f.severity):
        ordered = order_for_alert(group)
        for start in range(0, len(ordered), max_per_message):
            chunk = ordered[start : start + max_per_message]
            heading = title(severity, len(ordered))
            if len(ordered) > max_per_message:
                heading += f" ({start + 1}-{start + len(chunk)} of {len(ordered)})"
            lines = [line(f) for f in chunk]
            blocks = [header(heading), *section_blocks(f"• {text}" for text in lines)]
            if footer:
                blocks.append(context([footer]))
            text = f"{SEVERITY_ICON[severity]} {heading}\n" + "\n".join(f"- {t}" for t in lines)
            actions.append(
                Action(kind=kind, target=channel, findings=chunk, text=text, blocks=blocks)
            )
    return actions
