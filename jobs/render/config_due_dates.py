"""The config_due_dates digest as Slack shows it: one line per CS task, most late first.

Pure: who a person is in Slack (a mention, or their name) is asked of ``mention``, which the
job builds from the settings and Slack's user lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobs.model import Finding, Person
from jobs.render.alerts import PRIORITY_MARK, section_blocks, ticket_link
from jobs.render.pack import fallback, pack
from jobs.render.slack import Block, context, escape, header
from jobs.render.words import plural
from jobs.rules.config_due_dates import DueDetail

Mention = Callable[[Person | None], str]
"""``<@U…>`` for a person Slack knows, their escaped name otherwise, ``_unassigned_`` for None."""

FOOTER = "Configuration Date, QA Due Date and Due Date on open CS tasks (SOP 002)"


def digest_line(finding: Finding, mention: Mention) -> str:
    """`:star: <url|CS-503> *Coastal Sun Power*: QA Due Date today · assignee @luis · QA
    @cherish`."""
    detail = finding.detail_as(DueDetail)
    mark = PRIORITY_MARK if finding.priority else ""
    where = f" *{escape(detail.org)}*" if detail.org else ""
    return (
        f"{mark}{ticket_link(finding)}{where}: {escape(finding.summary)} "
        f"· assignee {mention(detail.assignee)} · QA {mention(detail.qa_assignee)}"
    )


def in_order(findings: Sequence[Finding]) -> list[Finding]:
    """Priority installers first (SOP 004: they take precedence), then the latest work."""
    return sorted(
        findings,
        key=lambda f: (not f.priority, -f.detail_as(DueDetail).max_business_days_late, f.item),
    )


def digest_messages(
    findings: Sequence[Finding], mention: Mention, cap: int | None = None
) -> list[tuple[list[Finding], str, list[Block]]]:
    """(findings, fallback text, blocks) per message: one message, split only past Slack's
    limits (or ``cap`` lines, when the desk wants shorter messages)."""
    if not findings:
        return []
    ordered = in_order(findings)
    today = ordered[0].detail_as(DueDetail).today.isoformat()
    late = sum(1 for f in ordered if f.detail_as(DueDetail).max_business_days_late > 0)
    every_line = [f"• {digest_line(f, mention)}" for f in ordered]
    parts = pack(every_line, other_blocks=2, cap=cap)
    messages = []
    for part in parts:
        title = f"CS dates due {today}: {plural(len(ordered), 'task')}, {late} late"
        if len(parts) > 1:
            title += f" ({part[0] + 1}–{part[-1] + 1} of {len(ordered)})"
        lines = [every_line[i] for i in part]
        blocks = [header(title), *section_blocks(lines), context([FOOTER])]
        text = fallback(f":calendar: {escape(title)}", lines)
        messages.append(([ordered[i] for i in part], text, blocks))
    return messages
