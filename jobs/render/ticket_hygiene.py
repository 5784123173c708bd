"""The ticket_hygiene digest as Slack shows it: one DM per assignee listing their tickets and
what each is missing, and the channel's summary (counts per assignee, and the tickets nobody
can be messaged about).

Pure: each function returns (findings, fallback text, blocks) per message; the job says where
each goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from jobs.model import Finding
from jobs.render.alerts import section_blocks
from jobs.render.pack import fallback, pack
from jobs.render.slack import Block, context, escape, header, link, section
from jobs.render.words import plural
from jobs.rules.ticket_hygiene import (
    PROBLEMS,
    AddLabels,
    Fix,
    HygieneDetail,
    SetPriority,
    key_order,
)

SOP_FOOTER = (
    "SOP 004: first update the essential ticket fields (Organization, EB label for EverBright "
    "financing, Channel, High priority for priority installers)."
)

Message = tuple[list[Finding], str, list[Block]]
"""The findings a message covers, its fallback text and its blocks."""


def by_ticket(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """The findings of each SS ticket, in SOP order; priority installers' tickets first
    (SOP 004: they take precedence), then by key."""
    order = {rule: n for n, rule in enumerate(PROBLEMS)}
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.detail_as(HygieneDetail).ticket, []).append(finding)
    for group in groups.values():
        group.sort(key=lambda f: (order.get(f.rule, len(order)), f.item))
    return sorted(groups.items(), key=lambda kv: (not kv[1][0].priority, key_order(kv[0])))


def fix_words(fix: Fix | None, target: str, ticket: str) -> str:
    """`adding label EB`, `setting priority to High on CS-701`."""
    # In progress, not done: the digest goes out before Jira has answered the edit.
    if fix is None:
        return ""
    where = "" if target == ticket else f" on {target}"
    if isinstance(fix, AddLabels) and fix.add_labels:
        return f"adding label {', '.join(fix.add_labels)}{where}"
    if isinstance(fix, SetPriority) and fix.priority:
        return f"setting priority to {fix.priority}{where}"
    return ""


def ticket_line(key: str, findings: Sequence[Finding], fixing: bool) -> str:
    """`:star: <url|SS-701> summary — no Organization; EB label missing (...)`, all escaped."""
    first = findings[0]
    mark = ":star: " if first.priority else ""
    ref = link(first.url, key) if first.url else escape(key)
    problems = "; ".join(escape(f.summary) for f in findings)
    summary = first.detail_as(HygieneDetail).ticket_summary
    line = f"{mark}{ref} {escape(summary)} — {problems}"
    if fixing:
        fixed = []
        for f in findings:
            detail = f.detail_as(HygieneDetail)
            fixed.append(fix_words(detail.fix, detail.fix_target or key, key))
        fixed = [w for w in fixed if w]
        if fixed:
            line += f" _(fixing: {escape('; '.join(fixed))})_"
    return line


def _chunks(
    groups: list[tuple[str, list[Finding]]],
    lines: list[str],
    cap: int | None,
    other_blocks: int,
) -> list[list[tuple[str, list[Finding]]]]:
    """The tickets of each message: as many as Slack's limits allow (or ``cap``)."""
    parts = pack(lines, other_blocks=other_blocks, cap=cap) if lines else [[]]
    return [[groups[i] for i in part] for part in parts]


def digest_messages(findings: Sequence[Finding], fixing: bool, cap: int | None) -> list[Message]:
    """One assignee's DM (split only past ``cap`` tickets or Slack's limits)."""
    tickets = by_ticket(findings)
    every_line = [f"• {ticket_line(key, group, fixing)}" for key, group in tickets]
    chunks = _chunks(tickets, every_line, cap, 2)
    messages: list[Message] = []
    for n, chunk in enumerate(chunks, start=1):
        verb = "is" if len(tickets) == 1 else "are"
        title = f"Ticket hygiene: {plural(len(tickets), 'ticket')} of yours {verb} missing fields"
        if len(chunks) > 1:
            title += f" ({n}/{len(chunks)})"
        lines = [f"• {ticket_line(key, group, fixing)}" for key, group in chunk]
        blocks = [header(title), *section_blocks(lines), context([escape(SOP_FOOTER)])]
        text = fallback(escape(title), lines)
        messages.append(([f for _, group in chunk for f in group], text, blocks))
    return messages


def why_no_dm(finding: Finding) -> str:
    detail = finding.detail_as(HygieneDetail)
    who = detail.assignee
    if not who:
        return "unassigned"
    if not detail.assignee_email:
        return f"assignee {escape(who)}: Jira hides the email"
    return f"assignee {escape(who)}: no Slack account with that email"


def summary_messages(
    groups: Mapping[str | None, list[Finding]], fixing: bool, cap: int | None
) -> list[Message]:
    """The channel's summary line; it lists (and covers) the tickets no DM can reach
    (``groups[None]``)."""
    everything = [f for group in groups.values() for f in group]
    tickets = {f.detail_as(HygieneDetail).ticket for f in everything}
    counts: dict[str, set[str]] = {}
    for email, group in groups.items():
        if email is None:
            continue
        name = group[0].detail_as(HygieneDetail).assignee or email
        counts.setdefault(name, set()).update(f.detail_as(HygieneDetail).ticket for f in group)
    nobody = by_ticket(groups.get(None, []))
    title = (
        f"Ticket hygiene: {plural(len(everything), 'problem')} on {plural(len(tickets), 'ticket')}"
    )
    parts = [f"{escape(name)} {len(keys)}" for name, keys in sorted(counts.items())]
    if nobody:
        parts.append(f"no DM possible {len(nobody)}")
    summary = "; ".join(parts)
    nobody_lines = [
        f"• {ticket_line(key, group, fixing)} ({why_no_dm(group[0])})" for key, group in nobody
    ]
    chunks = _chunks(nobody, nobody_lines, cap, 4)
    messages: list[Message] = []
    for n, chunk in enumerate(chunks, start=1):
        heading = title if len(chunks) == 1 else f"{title} ({n}/{len(chunks)})"
        lines = []
        for key, group in chunk:
            lines.append(f"• {ticket_line(key, group, fixing)} ({why_no_dm(group[0])})")
        blocks = [
            header(heading),
            section(f"Sent to assignees by DM: {summary}" if summary else " "),
        ]
        if lines:
            blocks += [section("*Nobody could be messaged about these:*"), *section_blocks(lines)]
        blocks.append(context([escape(SOP_FOOTER)]))
        text = fallback(f"{escape(heading)} — {summary}", lines)
        messages.append(([f for _, group in chunk for f in group], text, blocks))
    return messages
