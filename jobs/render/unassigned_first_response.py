"""The first-response alert's Slack messages, as an agent reads them in two seconds.

A line names the ticket, its organization and where it stands ("no first response after
2 h 25 m (target 2 h)", "assigned to Maya Patel, still no reply after 2 h 40 m"); a header
counts the tickets by how urgent they are ("3 overdue · 2 due within 30 min"); a context line
says what to do and what the icons mean. Ticket text is escaped; mentions are built here from
ids, never from ticket text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jobs.model import Finding, Severity
from jobs.render.actions import ActionItem, with_actions
from jobs.render.alerts import PRIORITY_MARK, SEVERITY_ICON, section_blocks
from jobs.render.pack import fallback
from jobs.render.slack import Block, context, escape, header, link, section, truncate
from jobs.render.words import human_duration, plural
from jobs.rules.unassigned_first_response import (
    JOB_NAME,
    FirstResponseDetail,
    UnassignedFirstResponseConfig,
    name_of,
)

SUMMARY_CHARS = 150
RESOLVED_ICON = ":white_check_mark:"
TIER_TITLE = {
    Severity.WARNING: "First response due soon",
    Severity.BREACH: "First response overdue",
    Severity.ESCALATION: "First response overdue, escalated",
}
TIER_COUNT = {
    Severity.ESCALATION: "{n} escalated",
    Severity.BREACH: "{n} overdue",
    Severity.WARNING: "{n} due within {warn}",
}
LEGEND = {
    Severity.WARNING: ":warning: due soon",
    Severity.BREACH: ":rotating_light: overdue",
    Severity.ESCALATION: ":fire: overdue {factor}× the target (lead told)",
}
TO_DO = "Reply publicly on the ticket; if nobody has it, assign it to yourself first."


@dataclass(frozen=True)
class Card:
    """One ticket as a message shows it; kept in its record so a message can be re-rendered."""

    key: str
    url: str | None
    summary: str
    organization: str | None = None
    priority: bool = False
    priority_name: str | None = None
    tier: str | None = None
    status: str = ""
    source: str = "computed"
    assignee: str | None = None
    resolved: str | None = None

    @classmethod
    def of(cls, finding: Finding) -> Card:
        detail = finding.detail_as(FirstResponseDetail)
        return cls(
            key=finding.item,
            url=finding.url,
            summary=detail.ticket_summary,
            organization=detail.organization,
            priority=finding.priority,
            priority_name=detail.priority_name,
            tier=str(finding.severity),
            status=finding.summary,
            source=detail.source,
            assignee=name_of(detail.assignee) if detail.assignee is not None else None,
        )

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Card:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("key", "")
        values.setdefault("url", None)
        values.setdefault("summary", "")
        return cls(**values)

    def dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def state(self) -> tuple[Any, ...]:
        """What a reader would see change (not the minutes ticking by)."""
        return (self.tier, self.assignee, self.priority, self.resolved)

    @property
    def severity(self) -> Severity | None:
        return Severity(self.tier) if self.tier else None

    @property
    def is_open(self) -> bool:
        return self.resolved is None

    def link(self) -> str:
        if self.url:
            try:
                return link(self.url, self.key)
            except ValueError:
                pass
        return escape(self.key)

    def icon(self) -> str:
        if self.resolved is not None:
            return RESOLVED_ICON
        return SEVERITY_ICON[self.severity] if self.severity else ""

    def line(self) -> str:
        """`:rotating_light: :star: <url|SS-101> Summary · Org · no first response after 2 h`."""
        mark = PRIORITY_MARK if self.priority and self.is_open else ""
        parts = [
            f"{self.icon()} {mark}{self.link()} {escape(truncate(self.summary, SUMMARY_CHARS))}"
        ]
        if self.organization:
            parts.append(escape(self.organization))
        parts.append(escape(self.resolved if self.resolved is not None else self.status))
        return " · ".join(p.strip() for p in parts if p.strip())

    def short_line(self) -> str:
        """`:star: <url|SS-101> · Org · assigned to …, still no reply after 6 d`: for a message
        that repeats tickets the channel's list already shows in full."""
        mark = PRIORITY_MARK if self.priority and self.is_open else ""
        parts = [f"{mark}{self.link()}"]
        if self.organization:
            parts.append(escape(self.organization))
        parts.append(escape(self.resolved if self.resolved is not None else self.status))
        return " · ".join(p.strip() for p in parts if p.strip())

    def action_item(self) -> ActionItem:
        """What the buttons act on: this ticket; "Assign to me" while nobody has it."""
        return ActionItem(
            job=JOB_NAME,
            item=self.key,
            label=self.key,
            url=self.url,
            assignable=self.assignee is None,
        )

    def plain(self) -> str:
        state = self.resolved if self.resolved is not None else self.status
        return escape(f"{self.key} {truncate(self.summary, SUMMARY_CHARS)} ({state})")


def order(cards: Sequence[Card]) -> list[Card]:
    """Open before resolved; priority installers first (SOP 004), then the most urgent."""

    def key(card: Card) -> tuple[bool, bool, int, str]:
        rank = card.severity.rank if card.severity else 0
        return (card.resolved is not None, not card.priority, -rank, card.key)

    return sorted(cards, key=key)


def counts(cards: Sequence[Card], config: UnassignedFirstResponseConfig) -> str:
    """'1 escalated · 2 overdue · 3 due within 30 m' for the open cards."""
    tiers = Counter(c.severity for c in cards if c.is_open and c.severity)
    warn = human_duration(config.warn_before.wall)
    return " · ".join(
        TIER_COUNT[tier].format(n=tiers[tier], warn=warn)
        for tier in (Severity.ESCALATION, Severity.BREACH, Severity.WARNING)
        if tiers[tier]
    )


def legend(cards: Sequence[Card], config: UnassignedFirstResponseConfig) -> str:
    """What the icons in these cards mean, the target, and which clock decided."""
    shown = {c.severity for c in cards if c.is_open and c.severity}
    parts = [
        LEGEND[tier].format(factor=f"{config.escalate_factor:g}")
        for tier in (Severity.WARNING, Severity.BREACH, Severity.ESCALATION)
        if tier in shown
    ]
    if any(c.priority and c.is_open for c in cards):
        parts.append(":star: priority installer")
    if any(not c.is_open for c in cards):
        parts.append(f"{RESOLVED_ICON} answered or closed")
    sources = sorted({c.source for c in cards}) or ["computed"]
    clock = " and ".join("Jira's SLA" if s == "jira" else "the desk calendar" for s in sources)
    target = f"Target: a public reply within {human_duration(config.first_response.wall)} ({clock})"
    return " · ".join([*parts, target])


def single_message(card: Card, config: UnassignedFirstResponseConfig) -> tuple[str, list[Block]]:
    """One ticket's root message, in its current state (a tier, or resolved)."""
    if card.resolved is not None:
        was = f" (was: {TIER_TITLE[card.severity].lower()})" if card.severity else ""
        title = f"Resolved{was}"
    else:
        title = TIER_TITLE[card.severity] if card.severity else "First response"
    mark = PRIORITY_MARK if card.priority and card.is_open else ""
    blocks: list[Block] = [
        section(
            f"{card.icon()} *{title}*\n{mark}{card.link()} {escape(truncate(card.summary, 500))}"
        )
    ]
    details = []
    if card.organization:
        details.append(f"*Organization:* {escape(card.organization)}")
    if card.priority_name:
        details.append(f"*Priority:* {escape(card.priority_name)}")
    details.append(escape(card.resolved if card.resolved is not None else card.status))
    blocks.append(context(details))
    notes = [TO_DO] if card.is_open else []
    blocks.append(context([*notes, legend([card], config)]))
    if card.is_open:
        blocks = with_actions(blocks, [card.action_item()], layout="buttons")
    state = card.resolved if card.resolved is not None else card.status
    summary = escape(truncate(card.summary, 500))
    text = f"{card.icon()} {title}: {escape(card.key)} {summary} ({escape(state)})"
    return fallback(text, []), blocks


def group_message(
    cards: Sequence[Card], config: UnassignedFirstResponseConfig
) -> tuple[str, list[Block]]:
    """Many tickets in one message: open ones first (priority installers, then most urgent)."""
    ordered = order(cards)
    open_cards = [c for c in ordered if c.is_open]
    if open_cards:
        title = f"{plural(len(open_cards), 'ticket needs', 'tickets need')} a first response"
        done = len(cards) - len(open_cards)
        if done:
            title += f" ({done} resolved)"
    else:
        title = f"All {len(cards)} tickets have been answered or closed"
    lines = [f"• {c.line()}" for c in ordered]
    blocks: list[Block] = [header(title)]
    tally = counts(ordered, config)
    if tally:
        blocks.append(section(f"*{tally}*"))
    blocks.extend(section_blocks(lines))
    notes = [TO_DO] if open_cards else []
    blocks.append(context([*notes, legend(ordered, config)]))
    items = [c.action_item() for c in open_cards]
    blocks = with_actions(blocks, items, layout="buttons" if len(items) == 1 else "picker")
    summary = f"{title}: {tally}" if tally else title
    return fallback(escape(summary), [c.plain() for c in ordered]), blocks


def tier_reply(
    cards: Sequence[Card], tier: Severity, mentions: Sequence[str] = ()
) -> tuple[str, list[Block]]:
    """The thread reply for a tier some of a message's tickets reached this run."""
    who = f" {' '.join(mentions)}" if mentions else ""
    ordered = order(cards)
    if len(ordered) == 1:
        body = f"{SEVERITY_ICON[tier]} *{TIER_TITLE[tier]}*{who}\n{ordered[0].line()}"
        blocks = [section(body)]
    else:
        body = f"{SEVERITY_ICON[tier]} *{TIER_TITLE[tier]}: {len(ordered)} tickets*{who}"
        blocks = [section(body), *section_blocks(f"• {c.line()}" for c in ordered)]
    text = f"{SEVERITY_ICON[tier]} {TIER_TITLE[tier]}: " + ", ".join(c.plain() for c in ordered)
    return fallback(text + who, []), blocks


def escalation_message(
    cards: Sequence[Card], config: UnassignedFirstResponseConfig, lead: str
) -> tuple[str, list[Block]]:
    """The run's one escalation: every ticket that went past the escalation point, one ping."""
    ordered = order(cards)
    factor = f"{config.escalate_factor:g}"
    target = human_duration(config.first_response.wall)
    title = (
        f":fire: *{plural(len(ordered), 'ticket')} without a first response after "
        f"{factor}× the {target} target* {lead}".rstrip()
    )
    lines = [f"• {c.short_line()}" for c in ordered]
    blocks = [
        section(title),
        *section_blocks(lines),
        context(["Please make sure each gets a public reply now, or take it yourself."]),
    ]
    summary = f":fire: {plural(len(ordered), 'ticket')} escalated {lead}".rstrip()
    return fallback(summary, [c.plain() for c in ordered]), blocks


def assignee_dm(
    cards: Sequence[Card], config: UnassignedFirstResponseConfig
) -> tuple[str, list[Block]]:
    """A DM to the agent a ticket is assigned to, when it reaches a tier nobody replied by."""
    ordered = order(cards)
    target = human_duration(config.first_response.wall)
    title = (
        f"{plural(len(ordered), 'ticket')} assigned to you "
        f"{'is' if len(ordered) == 1 else 'are'} still waiting for a first reply "
        f"(target {target})"
    )
    lines = [f"• {c.line()}" for c in ordered]
    blocks = [
        header(title),
        *section_blocks(lines),
        context(["The customer sees nothing until a public reply: reply on the ticket now."]),
    ]
    return fallback(escape(title), [c.plain() for c in ordered]), blocks


def held_summary(
    cards: Sequence[Card], config: UnassignedFirstResponseConfig, mentions: Sequence[str]
) -> tuple[str, list[Block]]:
    """After quiet hours: what went overdue meanwhile, with the pings that were held."""
    ordered = order(cards)
    tally = counts(ordered, config)
    who = " ".join(mentions)
    title = f":sunrise: While nobody was pinged: {tally or plural(len(ordered), 'ticket')}"
    lines = [f"• {c.line()}" for c in ordered]
    blocks = [
        section(f"*{title}* {who}".rstrip()),
        *section_blocks(lines),
        context([TO_DO, legend(ordered, config)]),
    ]
    return fallback(f"{title} {who}".rstrip(), [c.plain() for c in ordered]), blocks


def resolved_card(card: Card, text: str) -> Card:
    return replace(card, resolved=text)
