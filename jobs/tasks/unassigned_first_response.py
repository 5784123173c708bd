"""Every 15 minutes: unassigned tickets nearing or past the 2 h first response (SOP 004).

Replaces the SOP's "check the Unassigned Queue every 15 mins". One paged search reads the
service desk's unassigned, not-done tickets (with their comments); the rule in
`jobs.rules.unassigned_first_response` says which are in the warning, breach or escalation tier.

Slack, one breach episode per ticket (an episode starts when the ticket first needs an alert and
ends when the alert clears; a ticket that is unassigned again later starts a new one):

- **one root message per episode.** A new alert posts a Block Kit message; when more than
  ``group_threshold`` tickets need a new root in the same run (a Monday-morning backlog), they
  share one grouped message instead (chunks of ``run.max_alerts_per_message``);
- **tier changes edit in place.** warning -> breach -> escalation updates the root (``chat.update``)
  and posts one thread reply that notifies (escalations mention the lead). For a grouped root the
  whole group message is re-rendered with each ticket's current state and updated, and one thread
  reply per tier lists the tickets that moved;
- **clearing edits in place too.** A ticket assigned, answered publicly by an agent, or closed
  since the last run has its line (or message) rewritten to a resolved state ("assigned to Maya
  Patel after 2 h 13 m") without a new notification;
- **nothing new, nothing posted.** Dedup is per (tier, ticket, episode), once ever.

State kept in the ledger (``put_state``), per ticket: the episode, the tier last announced, the
root message's channel and ts, its group if any, when it was first alerted, the rendered card, and
post counts (the figure for the report: 1 root + at most 1 thread reply per tier). A grouped
message has its own state row (``group:<channel>:<ts>``) holding every member's card.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.job import Job, JobSpec
from jobs.model import Action, ActionKind, Evaluation, Finding, Severity, Ticket
from jobs.render.alerts import PRIORITY_MARK, SEVERITY_ICON, human_duration, section_blocks
from jobs.render.slack import (
    MAX_MESSAGE_TEXT,
    Block,
    context,
    escape,
    header,
    link,
    section,
    truncate,
)
from jobs.rules.unassigned_first_response import JOB as JOB_NAME
from jobs.rules.unassigned_first_response import (
    FirstResponsePolicy,
    clearance,
    evaluate_unassigned,
    first_response,
)

if TYPE_CHECKING:
    from jobs.context import RunContext

log = logging.getLogger(__name__)

FIELDS = (
    "summary",
    "status",
    "created",
    "updated",
    "assignee",
    "reporter",
    "priority",
    "labels",
    "comment",
    "Organizations",
)
SLA_FIELD = "Time to first response"
LOOKUP_FIELDS = (
    "summary",
    "status",
    "created",
    "updated",
    "resolutiondate",
    "assignee",
    "reporter",
    "comment",
)
"""What the resolved notice needs about a ticket that left the unassigned set."""
LOOKUP_CHUNK = 100
"""Keys per ``key in (...)`` search; one search in any ordinary run."""
GROUP_PREFIX = "group:"
RESOLVE_ATTEMPTS = 3
"""Runs a resolved notice may fail (e.g. the message was deleted in Slack) before it is dropped."""
SUMMARY_CHARS = 150

TIER_TITLE = {
    Severity.WARNING: "First response due soon",
    Severity.BREACH: "First response overdue",
    Severity.ESCALATION: "First response overdue, escalated",
}
RESOLVED_ICON = ":white_check_mark:"


# -- configuration -----------------------------------------------------------------------------


class UnassignedFirstResponseConfig(JobConfig):
    schedule: str = "*/15 * * * *"
    """SOP: agents 'check the Unassigned Queue every 15 mins'; this job does it for them."""
    jql: str | None = None
    """Scope; default: the service desk project, unassigned, not done, oldest first."""
    first_response: DurationField = parse_duration("2h")
    """SOP: 'All New and Unassigned tickets must be given a first response within 2 hours'."""
    warn_before: DurationField = parse_duration("30m")
    """Warn when less than this is left, so someone acts before the breach."""
    escalate_factor: float = Field(2.0, gt=1.0, le=100.0)
    """Escalate (mentioning ``escalate_to``) at this multiple of ``first_response``."""
    sla_source: Literal["computed", "jira"] = "computed"
    """computed: time since creation on the desk calendar; jira: 'Time to first response' SLA."""
    group_threshold: int = Field(5, ge=1)
    """More new alerts than this in one run share one grouped message."""
    priority_levels: list[str] = Field(default_factory=lambda: ["Highest", "High"])
    """Ticket priorities that mark a priority installer (with settings.priority_installers)."""
    escalate_to: str = "lead"
    """The people role mentioned on escalations (its slack_user, else looked up by email)."""
    channel: str | None = None
    """Slack channel for these alerts; default: desk.alert_channel."""
    automation_accounts: list[str] = Field(default_factory=lambda: ["Automation for Jira"])
    """Authors (account id, email or name) whose public comments are not a first response."""

    @field_validator("first_response", "warn_before")
    @classmethod
    def _wall_clock(cls, value: Any) -> Any:
        if value.is_business:
            raise ValueError(f"{value} is business days; use hours or minutes (e.g. 2h, 30m)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> UnassignedFirstResponseConfig:
        if self.first_response.wall <= timedelta(0):
            raise ValueError("first_response must be more than 0m")
        if self.warn_before.wall >= self.first_response.wall:
            raise ValueError(
                f"warn_before ({self.warn_before}) must be shorter than "
                f"first_response ({self.first_response})"
            )
        return self


SPEC = JobSpec(
    name=JOB_NAME,
    description="Alert before and when unassigned tickets miss the 2 h first response (SOP 004)",
    config_model=UnassignedFirstResponseConfig,
    systems=frozenset({"jira", "slack"}),
)


def default_jql(project: str) -> str:
    from jobs.adapters.jira import jql_quote

    return (
        f"project = {jql_quote(project)} AND assignee IS EMPTY "
        "AND statusCategory != Done ORDER BY created ASC"
    )


def policy_of(
    config: UnassignedFirstResponseConfig, priority_installers: Sequence[str]
) -> FirstResponsePolicy:
    return FirstResponsePolicy(
        first_response=config.first_response.wall,
        warn_before=config.warn_before.wall,
        escalate_factor=config.escalate_factor,
        sla_source=config.sla_source,
        priority_levels=tuple(config.priority_levels),
        priority_installers=tuple(priority_installers),
        automation_accounts=tuple(config.automation_accounts),
    )


# -- what a message shows ------------------------------------------------------------------------


@dataclass
class Card:
    """One ticket as a message shows it; kept in the ledger so a message can be re-rendered."""

    key: str
    url: str | None
    summary: str
    organization: str | None = None
    priority: bool = False
    priority_name: str | None = None
    tier: str | None = None
    status: str = ""
    source: str = "computed"
    resolved: str | None = None

    @classmethod
    def of(cls, finding: Finding) -> Card:
        facts = finding.facts
        return cls(
            key=finding.item,
            url=finding.url,
            summary=str(facts.get("ticket_summary") or ""),
            organization=facts.get("organization"),
            priority=finding.priority,
            priority_name=facts.get("priority_name"),
            tier=finding.rule,
            status=finding.summary,
            source=str(facts.get("source") or "computed"),
        )

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Card:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def severity(self) -> Severity | None:
        return Severity(self.tier) if self.tier else None

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
        mark = PRIORITY_MARK if self.priority and self.resolved is None else ""
        parts = [
            f"{self.icon()} {mark}{self.link()} {escape(truncate(self.summary, SUMMARY_CHARS))}"
        ]
        if self.organization:
            parts.append(escape(self.organization))
        parts.append(escape(self.resolved if self.resolved is not None else self.status))
        return " · ".join(p.strip() for p in parts if p.strip())

    def plain(self) -> str:
        state = self.resolved if self.resolved is not None else self.status
        return escape(f"{self.key} {truncate(self.summary, SUMMARY_CHARS)} ({state})")


def _footer(cards: Sequence[Card], policy: FirstResponsePolicy) -> str:
    """Target and which clock decided (the run report says the same per finding)."""
    sources = sorted({c.source for c in cards}) or ["computed"]
    clock = " + ".join("Jira SLA" if s == "jira" else s for s in sources)
    text = f"Target: first response within {human_duration(policy.first_response)} · clock: {clock}"
    if any(c.priority and c.resolved is None for c in cards):
        text += " · :star: priority installer"
    return text


def single_message(
    card: Card, policy: FirstResponsePolicy, mention: str = ""
) -> tuple[str, list[Block]]:
    """One ticket's root message, in its current state (an alert tier or resolved)."""
    if card.resolved is not None:
        title = (
            f"Resolved (was: {TIER_TITLE[card.severity].lower()})" if card.severity else "Resolved"
        )
    else:
        title = TIER_TITLE[card.severity] if card.severity else "First response"
    mark = PRIORITY_MARK if card.priority and card.resolved is None else ""
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
    if card.resolved is None and card.severity is Severity.ESCALATION and mention:
        blocks.append(section(f"Escalated to {mention}"))
    blocks.append(context([_footer([card], policy)]))
    state = card.resolved if card.resolved is not None else card.status
    summary = escape(truncate(card.summary, 500))
    text = f"{card.icon()} {title}: {escape(card.key)} {summary} ({escape(state)})"
    if card.resolved is None and card.severity is Severity.ESCALATION and mention:
        text += f" {mention}"
    return truncate(text, MAX_MESSAGE_TEXT), blocks


def group_message(
    cards: Sequence[Card], policy: FirstResponsePolicy, mention: str = ""
) -> tuple[str, list[Block]]:
    """Many tickets in one message: open ones first (priority installers, then most urgent)."""
    ordered = sorted(cards, key=_card_order)
    open_cards = [c for c in ordered if c.resolved is None]
    if open_cards:
        noun = "ticket needs" if len(open_cards) == 1 else "tickets need"
        title = f"{len(open_cards)} unassigned {noun} a first response"
        if len(open_cards) < len(cards):
            title += f" ({len(cards) - len(open_cards)} resolved)"
    else:
        title = f"All {len(cards)} tickets have been picked up"
    blocks: list[Block] = [header(title)]
    blocks.extend(section_blocks(f"• {c.line()}" for c in ordered))
    if mention and any(c.severity is Severity.ESCALATION for c in open_cards):
        blocks.append(section(f"Escalated to {mention}"))
    blocks.append(context([_footer(cards, policy)]))
    text = f"{title}: " + ", ".join(c.plain() for c in ordered)
    if mention and any(c.severity is Severity.ESCALATION for c in open_cards):
        text += f" {mention}"
    return truncate(text, MAX_MESSAGE_TEXT), blocks


def tier_reply(cards: Sequence[Card], tier: Severity, mention: str = "") -> tuple[str, list[Block]]:
    """The thread reply that notifies of a tier change (one per tier per message per run)."""
    who = f" {mention}" if tier is Severity.ESCALATION and mention else ""
    if len(cards) == 1:
        card = cards[0]
        body = f"{SEVERITY_ICON[tier]} *{TIER_TITLE[tier]}*{who}\n{card.line()}"
        text = f"{SEVERITY_ICON[tier]} {TIER_TITLE[tier]}: {card.plain()}{who}"
    else:
        body = f"{SEVERITY_ICON[tier]} *{TIER_TITLE[tier]}: {len(cards)} tickets*{who}"
        text = (
            f"{SEVERITY_ICON[tier]} {TIER_TITLE[tier]}: "
            + ", ".join(c.plain() for c in cards)
            + who
        )
    blocks = [section(body)]
    if len(cards) > 1:
        blocks.extend(section_blocks(f"• {c.line()}" for c in sorted(cards, key=_card_order)))
    return truncate(text, MAX_MESSAGE_TEXT), blocks


def _card_order(card: Card) -> tuple[bool, bool, int, str]:
    rank = card.severity.rank if card.severity else 0
    return (card.resolved is not None, not card.priority, -rank, card.key)


# -- per-run bookkeeping -------------------------------------------------------------------------


@dataclass
class TicketState:
    """The ledger row of one ticket with an open alert."""

    episode: str
    tier: str
    channel: str
    ts: str
    card: Card
    group: str | None = None
    first_alerted_at: str = ""
    posts: dict[str, Any] = field(default_factory=lambda: {"root": 0, "replies": {}})
    resolve_attempts: int = 0

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> TicketState | None:
        try:
            return cls(
                episode=str(data["episode"]),
                tier=str(data["tier"]),
                channel=str(data["channel"]),
                ts=str(data["ts"]),
                card=Card.load(data.get("card") or {"key": "", "url": None, "summary": ""}),
                group=data.get("group"),
                first_alerted_at=str(data.get("first_alerted_at") or ""),
                posts=dict(data.get("posts") or {"root": 0, "replies": {}}),
                resolve_attempts=int(data.get("resolve_attempts") or 0),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def dump(self) -> dict[str, Any]:
        return {
            "episode": self.episode,
            "tier": self.tier,
            "channel": self.channel,
            "ts": self.ts,
            "card": self.card.dump(),
            "group": self.group,
            "first_alerted_at": self.first_alerted_at,
            "posts": self.posts,
            "resolve_attempts": self.resolve_attempts,
        }


def _opened(
    ctx: RunContext, finding: Finding, card: Card, channel: str, ts: str, group: str | None = None
) -> TicketState:
    """The state of a ticket whose episode just got its root message (alone or in a group)."""
    return TicketState(
        episode=finding.episode,
        tier=finding.rule,
        channel=channel,
        ts=ts,
        card=card,
        group=group,
        first_alerted_at=ctx.now.isoformat(),
        posts={"root": 1, "replies": {}},
    )


def group_id(channel: str, ts: str) -> str:
    return f"{GROUP_PREFIX}{channel}:{ts}"


def _tier_rank(tier: str | None) -> int:
    return Severity(tier).rank if tier else -1


# -- the job -------------------------------------------------------------------------------------


class UnassignedFirstResponseJob(Job):
    spec = SPEC

    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}
        self._current: dict[str, Finding] = {}
        self._mention: str | None = None

    # -- configuration helpers ---------------------------------------------------------------
    @staticmethod
    def config(ctx: RunContext) -> UnassignedFirstResponseConfig:
        assert isinstance(ctx.job_config, UnassignedFirstResponseConfig)
        return ctx.job_config

    def policy(self, ctx: RunContext) -> FirstResponsePolicy:
        return policy_of(self.config(ctx), ctx.settings.priority_installers)

    def channel(self, ctx: RunContext) -> str:
        return self.config(ctx).channel or ctx.alert_channel

    def jql(self, ctx: RunContext) -> str:
        return self.config(ctx).jql or default_jql(ctx.settings.desk.service_desk_project)

    # -- fetch / evaluate ----------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> list[Ticket]:
        cfg = self.config(ctx)
        fields = FIELDS + ((SLA_FIELD,) if cfg.sla_source == "jira" else ())
        tickets = []
        ignore = tuple(cfg.automation_accounts)
        for ticket in ctx.jira.search(self.jql(ctx), list(fields), page_size=100):
            # The search truncates long comment lists; read the rest only where an agent reply
            # among them would change the answer (no agent reply in what we have).
            if not ticket.comments_complete and first_response(ticket, ignore) is None:
                ticket = ctx.jira.with_all_comments(ticket)
            tickets.append(ticket)
        return tickets

    def evaluate(self, data: list[Ticket], ctx: RunContext) -> Evaluation:
        evaluation = evaluate_unassigned(data, ctx.now, self.policy(ctx), ctx.calendar)
        self._states = ctx.ledger.open_states(JOB_NAME)
        findings = []
        for finding in evaluation.findings:
            state = TicketState.load(self._states.get(finding.item) or {})
            facts = dict(finding.facts)
            if state is not None:
                facts["episode_posts"] = state.posts
                facts["alerted_tier"] = state.tier
            findings.append(
                replace(
                    finding,
                    episode=self._episode(ctx, finding.item, state),
                    url=finding.url or ctx.browse_url(finding.item),
                    facts=facts,
                )
            )
        self._current = {f.item: f for f in findings}
        sources: dict[str, int] = {}
        for f in findings:
            sources[str(f.facts["source"])] = sources.get(str(f.facts["source"]), 0) + 1
        ctx.notes["sla_source"] = {"configured": self.config(ctx).sla_source, "decided": sources}
        return Evaluation(findings, evaluation.problems, evaluation.examined)

    @staticmethod
    def _episode(ctx: RunContext, key: str, state: TicketState | None) -> str:
        """The open alert's episode, else when this run first saw the ticket needing one.

        ``first_seen`` is written atomically in the ledger, so two overlapping runs agree on
        the episode and the pipeline's claim lets only one of them post the root message.
        """
        if state is not None:
            return state.episode
        if ctx.dry_run:
            return ctx.now.isoformat()
        return ctx.ledger.first_seen(JOB_NAME, key, now=ctx.now).isoformat()

    # -- plan: new roots and tier changes --------------------------------------------------------
    def plan(self, findings: list[Finding], ctx: RunContext) -> list[Action]:
        policy = self.policy(ctx)
        new_roots: list[Finding] = []
        single_ups: list[tuple[Finding, TicketState]] = []
        group_ups: dict[str, list[tuple[Finding, TicketState]]] = {}
        for finding in findings:
            state = TicketState.load(self._states.get(finding.item) or {})
            if state is None or state.episode != finding.episode:
                new_roots.append(finding)
            elif _tier_rank(finding.rule) > _tier_rank(state.tier):
                if state.group:
                    group_ups.setdefault(state.group, []).append((finding, state))
                else:
                    single_ups.append((finding, state))
            # else: already announced at this tier or higher; the pipeline logs it as covered.
        actions = self._new_roots(ctx, policy, new_roots)
        for finding, state in single_ups:
            actions.extend(self._single_tier_change(ctx, policy, finding, state))
        for gid, members in group_ups.items():
            actions.extend(self._group_tier_change(ctx, policy, gid, members))
        return actions

    def _new_roots(
        self, ctx: RunContext, policy: FirstResponsePolicy, findings: list[Finding]
    ) -> list[Action]:
        channel = self.channel(ctx)
        ordered = sorted(
            findings, key=lambda f: (not f.priority, -f.severity.rank, f.item)
        )  # SOP: priority installers take precedence
        cfg = self.config(ctx)
        escalating = any(f.severity is Severity.ESCALATION for f in ordered)
        mention = self.mention(ctx) if escalating else ""
        actions = []
        if len(ordered) <= cfg.group_threshold:
            for finding in ordered:
                card = Card.of(finding)
                text, blocks = single_message(card, policy, mention)
                actions.append(
                    Action(
                        kind=ActionKind.SLACK_POST,
                        target=channel,
                        findings=[finding],
                        text=text,
                        blocks=blocks,
                        on_done=self._remember_single(ctx, finding, card),
                    )
                )
            return actions
        size = ctx.settings.run.max_alerts_per_message
        for start in range(0, len(ordered), size):
            chunk = ordered[start : start + size]
            cards = [Card.of(f) for f in chunk]
            text, blocks = group_message(cards, policy, mention)
            actions.append(
                Action(
                    kind=ActionKind.SLACK_POST,
                    target=channel,
                    findings=chunk,
                    text=text,
                    blocks=blocks,
                    on_done=self._remember_group(ctx, chunk, cards),
                )
            )
        return actions

    def _single_tier_change(
        self, ctx: RunContext, policy: FirstResponsePolicy, finding: Finding, state: TicketState
    ) -> list[Action]:
        card = Card.of(finding)
        tier = finding.severity
        mention = self.mention(ctx) if tier is Severity.ESCALATION else ""
        text, blocks = single_message(card, policy, mention)
        reply_text, reply_blocks = tier_reply([card], tier, mention)
        return [
            Action(
                kind=ActionKind.SLACK_UPDATE,
                target=state.channel,
                findings=[finding],
                text=text,
                blocks=blocks,
                payload={"channel": state.channel, "ts": state.ts},
                record_findings=False,  # the thread reply below is what announces the tier
            ),
            Action(
                kind=ActionKind.SLACK_THREAD_REPLY,
                target=state.channel,
                findings=[finding],
                text=reply_text,
                blocks=reply_blocks,
                payload={"thread_ts": state.ts},
                on_done=self._remember_tier(ctx, [(finding, state)], card_of={finding.item: card}),
            ),
        ]

    def _group_tier_change(
        self,
        ctx: RunContext,
        policy: FirstResponsePolicy,
        gid: str,
        members: list[tuple[Finding, TicketState]],
    ) -> list[Action]:
        group = self._group(ctx, gid)
        changed = {f.item: Card.of(f) for f, _ in members}
        escalating = any(f.severity is Severity.ESCALATION for f, _ in members)
        mention = self.mention(ctx) if escalating else ""
        findings = [f for f, _ in members]
        actions = []
        if group is not None:
            channel, ts = str(group["channel"]), str(group["ts"])
            cards = self._group_cards(group)
            cards.update(changed)
            text, blocks = group_message(list(cards.values()), policy, mention)
            actions.append(
                Action(
                    kind=ActionKind.SLACK_UPDATE,
                    target=channel,
                    findings=findings,
                    text=text,
                    blocks=blocks,
                    payload={"channel": channel, "ts": ts},
                    record_findings=False,
                )
            )
        else:
            # The group's row is gone (ledger restored from an older copy): re-rendering would
            # drop the other tickets from the message, so only the thread reply announces it.
            channel, ts = members[0][1].channel, members[0][1].ts
        for tier in sorted({f.severity for f in findings}, key=lambda s: -s.rank):
            in_tier = [(f, s) for f, s in members if f.severity is tier]
            reply_text, reply_blocks = tier_reply(
                [changed[f.item] for f, _ in in_tier], tier, mention
            )
            actions.append(
                Action(
                    kind=ActionKind.SLACK_THREAD_REPLY,
                    target=channel,
                    findings=[f for f, _ in in_tier],
                    text=reply_text,
                    blocks=reply_blocks,
                    payload={"thread_ts": ts},
                    on_done=self._remember_tier(ctx, in_tier, card_of=changed, gid=gid),
                )
            )
        return actions

    # -- state after a real send (never in a dry run: the pipeline calls on_done only then) ---
    def _remember_single(
        self, ctx: RunContext, finding: Finding, card: Card
    ) -> Callable[[dict[str, Any]], None]:
        def done(result: dict[str, Any]) -> None:
            channel, ts = str(result["channel"]), str(result["ts"])
            self._keep(ctx, finding.item, _opened(ctx, finding, card, channel, ts).dump())

        return done

    def _remember_group(
        self, ctx: RunContext, findings: list[Finding], cards: list[Card]
    ) -> Callable[[dict[str, Any]], None]:
        def done(result: dict[str, Any]) -> None:
            channel, ts = str(result["channel"]), str(result["ts"])
            gid = group_id(channel, ts)
            group = {
                "channel": channel,
                "ts": ts,
                "created_at": ctx.now.isoformat(),
                "members": {c.key: c.dump() for c in cards},
            }
            self._keep(ctx, gid, group)
            for finding, card in zip(findings, cards, strict=True):
                state = _opened(ctx, finding, card, channel, ts, group=gid)
                self._keep(ctx, finding.item, state.dump())

        return done

    def _remember_tier(
        self,
        ctx: RunContext,
        members: list[tuple[Finding, TicketState]],
        card_of: Mapping[str, Card],
        gid: str | None = None,
    ) -> Callable[[dict[str, Any]], None]:
        def done(result: dict[str, Any]) -> None:
            for finding, state in members:
                replies = dict(state.posts.get("replies") or {})
                replies[finding.rule] = int(replies.get(finding.rule, 0)) + 1
                updated = replace(
                    state,
                    tier=finding.rule,
                    card=card_of[finding.item],
                    posts={**state.posts, "replies": replies},
                )
                self._keep(ctx, finding.item, updated.dump())
            if gid is not None:
                group = self._group(ctx, gid)
                if group is not None:
                    members_cards = dict(group.get("members") or {})
                    for finding, _ in members:
                        members_cards[finding.item] = card_of[finding.item].dump()
                    group = {**group, "members": members_cards}
                    self._keep(ctx, gid, group)

        return done

    def _group(self, ctx: RunContext, gid: str) -> dict[str, Any] | None:
        group = self._states.get(gid)
        if group is None:
            group = ctx.ledger.get_state(JOB_NAME, gid)
        return dict(group) if group else None

    def _group_cards(self, group: Mapping[str, Any]) -> dict[str, Card]:
        """Every member's card: the fresh one for tickets still alerting, else the stored one."""
        cards = {}
        for key, data in (group.get("members") or {}).items():
            current = self._current.get(key)
            stored = Card.load(data)
            if current is not None and stored.resolved is None:
                cards[key] = Card.of(current)
            else:
                cards[key] = stored
        return cards

    # -- the escalation contact --------------------------------------------------------------
    def mention(self, ctx: RunContext) -> str:
        """``<@U...>`` for the escalation contact, a group mention verbatim, else their name."""
        if self._mention is None:
            self._mention = _mention_of(ctx, self.config(ctx).escalate_to)
        return self._mention

    # -- after the run: resolved notices -------------------------------------------------------
    def after_run(self, ctx: RunContext, data: Any, evaluation: Evaluation) -> list[Action]:
        # A dry run wrote nothing, so what evaluate read is still the truth.
        states = dict(self._states) if ctx.dry_run else ctx.ledger.open_states(JOB_NAME)
        alerting = {f.item for f in evaluation.findings}
        cleared: dict[str, TicketState] = {}
        for key, raw in states.items():
            if key.startswith(GROUP_PREFIX) or key in alerting:
                continue
            state = TicketState.load(raw)
            if state is None:
                log.warning("dropping unreadable state for %s: %r", key, raw, extra=ctx.extra())
                if not ctx.dry_run:
                    ctx.ledger.put_state(JOB_NAME, key, None, now=ctx.now)
                continue
            cleared[key] = state
        if not cleared:
            return []
        tickets = {t.key: t for t in (data or [])}
        missing = [k for k in cleared if k not in tickets]
        tickets.update(self._lookup(ctx, missing))
        policy = self.policy(ctx)
        project = ctx.settings.desk.service_desk_project
        resolved: dict[str, tuple[TicketState, Finding]] = {}
        for key, state in sorted(cleared.items()):
            if state.resolve_attempts >= RESOLVE_ATTEMPTS:
                log.warning(
                    "giving up the resolved notice for %s after %d failed runs",
                    key,
                    state.resolve_attempts,
                    extra=ctx.extra(),
                )
                if not ctx.dry_run:
                    self._forget(ctx, key)
                continue
            why = clearance(tickets.get(key), ctx.now, policy, ctx.calendar, project=project)
            finding = Finding(
                job=JOB_NAME,
                rule="resolved",
                item=key,
                severity=Severity.INFO,
                summary=why.text,
                facts={
                    "reason": why.reason,
                    "at": why.at.isoformat() if why.at else None,
                    "alerted_tier": state.tier,
                    "first_alerted_at": state.first_alerted_at,
                    "episode_posts": state.posts,
                    "grouped": state.group is not None,
                },
                episode=state.episode,
                url=state.card.url,
                priority=state.card.priority,
            )
            resolved[key] = (state, finding)
            if not ctx.dry_run:
                bumped = replace(state, resolve_attempts=state.resolve_attempts + 1)
                ctx.ledger.put_state(JOB_NAME, key, bumped.dump(), now=ctx.now)
        return self._resolution_actions(ctx, policy, resolved)

    def _lookup(self, ctx: RunContext, keys: list[str]) -> dict[str, Ticket]:
        """Current state of tickets that left the unassigned set: one ``key in (...)`` search."""
        from jobs.adapters.http import PermanentError
        from jobs.adapters.jira import jql_quote

        found: dict[str, Ticket] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            jql = f"key in ({', '.join(jql_quote(k) for k in chunk)})"
            try:
                for ticket in ctx.jira.search(jql, list(LOOKUP_FIELDS), page_size=LOOKUP_CHUNK):
                    found[ticket.key] = ticket
            except PermanentError as exc:
                # Jira refuses the whole query when one key no longer exists (deleted or moved
                # without a redirect); the notice then says the ticket left the queue.
                log.warning("lookup of cleared tickets failed: %s", exc, extra=ctx.extra())
        return found

    def _resolution_actions(
        self,
        ctx: RunContext,
        policy: FirstResponsePolicy,
        resolved: Mapping[str, tuple[TicketState, Finding]],
    ) -> list[Action]:
        actions = []
        by_group: dict[str, list[tuple[TicketState, Finding]]] = {}
        for key, (state, finding) in resolved.items():
            if state.group:
                by_group.setdefault(state.group, []).append((state, finding))
                continue
            card = replace(state.card, resolved=finding.summary)
            text, blocks = single_message(card, policy)
            actions.append(
                Action(
                    kind=ActionKind.SLACK_UPDATE,
                    target=state.channel,
                    findings=[finding],
                    text=text,
                    blocks=blocks,
                    payload={"channel": state.channel, "ts": state.ts},
                    record_findings=False,
                    on_done=self._forget_after(ctx, [key]),
                )
            )
        for gid, members in by_group.items():
            group = self._group(ctx, gid)
            if group is None:
                state = members[0][0]
                group = {"channel": state.channel, "ts": state.ts, "members": {}}
            cards = self._group_cards(group)
            for state, finding in members:
                cards[finding.item] = replace(state.card, resolved=finding.summary)
            still_open = any(c.resolved is None for c in cards.values())
            mention = (
                self.mention(ctx)
                if any(
                    c.resolved is None and c.severity is Severity.ESCALATION for c in cards.values()
                )
                else ""
            )
            text, blocks = group_message(list(cards.values()), policy, mention)
            keys = [f.item for _, f in members]
            actions.append(
                Action(
                    kind=ActionKind.SLACK_UPDATE,
                    target=str(group["channel"]),
                    findings=[f for _, f in members],
                    text=text,
                    blocks=blocks,
                    payload={"channel": str(group["channel"]), "ts": str(group["ts"])},
                    record_findings=False,
                    on_done=self._forget_after(
                        ctx,
                        keys,
                        gid=gid,
                        group={**group, "members": {k: c.dump() for k, c in cards.items()}}
                        if still_open
                        else None,
                    ),
                )
            )
        return actions

    def _forget_after(
        self,
        ctx: RunContext,
        keys: list[str],
        gid: str | None = None,
        group: dict[str, Any] | None = None,
    ) -> Callable[[dict[str, Any]], None]:
        def done(result: dict[str, Any]) -> None:
            for key in keys:
                self._forget(ctx, key)
            if gid is not None:
                # The group row lives while any member is open, so later updates can re-render it.
                self._keep(ctx, gid, group)

        return done

    def _keep(self, ctx: RunContext, item: str, state: dict[str, Any] | None) -> None:
        """Write a state row and this run's copy of it together, so they never disagree
        (None deletes both)."""
        ctx.ledger.put_state(JOB_NAME, item, state, now=ctx.now)
        if state is None:
            self._states.pop(item, None)
        else:
            self._states[item] = state

    def _forget(self, ctx: RunContext, key: str) -> None:
        ctx.ledger.put_state(JOB_NAME, key, None, now=ctx.now)
        ctx.ledger.forget_first_seen(JOB_NAME, key)
        self._states.pop(key, None)


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


def _mention_of(ctx: RunContext, role: str) -> str:
    from jobs.adapters.http import AdapterError

    person = ctx.person(role)
    if person is None:
        return ""
    configured = (person.slack_user or "").strip()
    if configured.startswith("<") and configured.endswith(">"):
        return configured  # a user group (<!subteam^S123>) or a ready-made mention
    if _USER_ID.fullmatch(configured):
        return f"<@{configured}>"
    if _GROUP_ID.fullmatch(configured):
        return f"<!subteam^{configured}>"
    if person.email:
        try:
            user = ctx.slack.user_id(person.email)
        except AdapterError as exc:
            log.warning("cannot look up %s in Slack: %s", role, exc, extra=ctx.extra())
            user = None
        if user:
            return f"<@{user}>"
    return escape(person.name)


JOB = UnassignedFirstResponseJob
