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
- **nothing new, nothing posted.** A tier is announced once per episode.

What the pipeline keeps for this job (its alert records): per ticket, the tier announced, the
message it is on and the card that message shows; per Slack message, its channel and ts,
whether it is grouped, and its members. The job only says what to send and what each send
changes in those records; a closed record ends the episode, and the ticket's next alert
(``reopens``) starts a new one.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from jobs.adapters.http import PermanentError
from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.jql import jql_quote, key_batches
from jobs.model import (
    Action,
    ActionKind,
    AlertRecord,
    Evaluation,
    Finding,
    RecordChange,
    RecordKey,
    Ref,
    Severity,
    Ticket,
)
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
    Clearance,
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


# -- records -----------------------------------------------------------------------------------

ALERT = "first_response"
"""The record every tier of a ticket's alert shares (the tiers are the findings' rules)."""
MESSAGE = "message"
"""A Slack message's record: where it is, which tickets it shows, single or grouped."""


def message_key(message_id: str) -> RecordKey:
    return RecordKey(JOB_NAME, MESSAGE, message_id)


def ticket_key(key: str) -> RecordKey:
    return RecordKey(JOB_NAME, ALERT, key)


@dataclass(frozen=True)
class MessageView:
    """A message as the ledger remembers it, with each member's card."""

    id: str
    channel: str
    ts: str
    grouped: bool
    cards: dict[str, Card]

    @classmethod
    def load(cls, record: AlertRecord, records: Mapping[RecordKey, AlertRecord]) -> MessageView:
        store = record.store
        cards = {}
        for key in store.get("members") or []:
            member = records.get(ticket_key(str(key)))
            if member is not None and member.store.get("card"):
                cards[str(key)] = Card.load(member.store["card"])
        return cls(
            id=record.key.item,
            channel=str(store.get("channel") or ""),
            ts=str(store.get("ts") or ""),
            grouped=bool(store.get("grouped")),
            cards=cards,
        )

    def render(self, policy: FirstResponsePolicy, mention: str) -> tuple[str, list[Block]]:
        cards = list(self.cards.values())
        if not self.grouped and len(cards) == 1:
            return single_message(cards[0], policy, mention)
        return group_message(cards, policy, mention)


# -- the job -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueData:
    tickets: list[Ticket]
    """The unassigned queue, as the search returned it."""
    gone: Mapping[str, Ticket]
    """Tickets with an open alert that left the queue, as they are now (absent: not found).
    Together with ``tickets``, what a resolved line says about how each left its alert."""


class UnassignedFirstResponseJob(Job[QueueData]):
    spec = SPEC

    def __init__(self) -> None:
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
    def fetch(self, ctx: RunContext) -> QueueData:
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
        # Tickets with an open alert that are no longer in the queue: how they left it is what
        # their resolved line says (one `key in (...)` search).
        in_queue = {t.key for t in tickets}
        open_alerts = ctx.ledger.records(JOB_NAME, open_only=True)
        left = sorted(k.item for k in open_alerts if k.alert == ALERT and k.item not in in_queue)
        return QueueData(tickets, self._lookup(ctx, left))

    @staticmethod
    def _lookup(ctx: RunContext, keys: list[str]) -> dict[str, Ticket]:
        found: dict[str, Ticket] = {}
        for clause in key_batches(keys, LOOKUP_CHUNK):
            try:
                for ticket in ctx.jira.search(clause, list(LOOKUP_FIELDS), page_size=LOOKUP_CHUNK):
                    found[ticket.key] = ticket
            except PermanentError as exc:
                # Jira refuses the whole query when one key no longer exists (deleted or moved
                # without a redirect); the line then says the ticket left the queue.
                log.warning("lookup of cleared tickets failed: %s", exc, extra=ctx.extra())
        return found

    def evaluate(self, data: QueueData, ctx: RunContext) -> Evaluation:
        evaluation = evaluate_unassigned(data.tickets, ctx.now, self.policy(ctx), ctx.calendar)
        findings = [
            replace(f, url=f.url or ctx.browse_url(f.item), alert=ALERT, reopens=True)
            for f in evaluation.findings
        ]
        sources: dict[str, int] = {}
        for f in findings:
            sources[str(f.facts["source"])] = sources.get(str(f.facts["source"]), 0) + 1
        ctx.notes["sla_source"] = {"configured": self.config(ctx).sla_source, "decided": sources}
        return Evaluation(findings, evaluation.problems, evaluation.examined)

    # -- plan ----------------------------------------------------------------------------------
    def plan(self, work: Work[QueueData], ctx: RunContext) -> list[Action]:
        """New roots for new episodes; for every message with a change, one edit in place,
        and one thread reply per tier that rose (which is what notifies)."""
        policy = self.policy(ctx)
        records = work.records
        new_roots: list[Finding] = []
        rising: dict[str, list[Finding]] = {}
        for finding in work.fresh:
            record = records.get(finding.record_key)
            message = _message_of(record)
            if record is None or not record.is_open or message is None:
                new_roots.append(finding)
            else:
                rising.setdefault(message, []).append(finding)
        resolved: dict[str, list[tuple[AlertRecord, Clearance]]] = {}
        project = ctx.settings.desk.service_desk_project
        now_as = {t.key: t for t in work.data.tickets} | dict(work.data.gone)
        for record in work.resolving:
            message = _message_of(record)
            ticket = now_as.get(record.key.item)
            why = clearance(ticket, ctx.now, policy, ctx.calendar, project=project)
            resolved.setdefault(message or "", []).append((record, why))
        actions = self._new_roots(ctx, policy, new_roots)
        for message_id in sorted(set(rising) | set(resolved)):
            actions += self._changes(
                ctx,
                policy,
                work,
                message_id,
                rising.get(message_id, []),
                resolved.get(message_id, []),
            )
        return actions

    def _new_roots(
        self, ctx: RunContext, policy: FirstResponsePolicy, findings: list[Finding]
    ) -> list[Action]:
        channel = self.channel(ctx)
        ordered = sorted(
            findings, key=lambda f: (not f.priority, -f.severity.rank, f.item)
        )  # SOP: priority installers take precedence
        escalating = any(f.severity is Severity.ESCALATION for f in ordered)
        mention = self.mention(ctx) if escalating else ""
        if len(ordered) <= self.config(ctx).group_threshold:
            chunks = [[f] for f in ordered]
            grouped = False
        else:
            size = ctx.settings.run.max_alerts_per_message
            chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
            grouped = True
        actions = []
        for chunk in chunks:
            cards = [Card.of(f) for f in chunk]
            if grouped:
                text, blocks = group_message(cards, policy, mention)
            else:
                text, blocks = single_message(cards[0], policy, mention)
            message_id = uuid.uuid4().hex[:16]
            changes = [
                RecordChange(
                    message_key(message_id),
                    store={
                        "channel": Ref(0, "channel"),
                        "ts": Ref(0, "ts"),
                        "grouped": grouped,
                        "members": [c.key for c in cards],
                    },
                ),
                *(
                    RecordChange(ticket_key(c.key), store={"message": message_id, "card": c.dump()})
                    for c in cards
                ),
            ]
            actions.append(
                Action(
                    kind=ActionKind.SLACK_POST,
                    target=channel,
                    findings=chunk,
                    text=text,
                    blocks=blocks,
                    records=tuple(changes),
                )
            )
        return actions

    def _changes(
        self,
        ctx: RunContext,
        policy: FirstResponsePolicy,
        work: Work[QueueData],
        message_id: str,
        rising: list[Finding],
        resolved: list[tuple[AlertRecord, Clearance]],
    ) -> list[Action]:
        """One message's tier changes and resolved lines: the thread replies that notify, and
        one edit in place that shows every member as it is now."""
        records = work.records
        record = records.get(message_key(message_id)) if message_id else None
        current = {f.item: f for f in work.findings}
        changes: list[RecordChange] = []
        resolved_findings: list[Finding] = []
        for member, why in resolved:
            stored = Card.load(
                member.store.get("card") or {"key": member.key.item, "url": None, "summary": ""}
            )
            card = replace(stored, resolved=why.text)
            changes.append(RecordChange(member.key, store={"card": card.dump()}, close=True))
            resolved_findings.append(_resolved_finding(member, card, why))
        changed_cards = {f.item: Card.of(f) for f in rising}
        changes += [
            RecordChange(ticket_key(key), store={"card": card.dump()})
            for key, card in changed_cards.items()
        ]
        if record is None:
            # The message's record is gone (a ledger restored from an older copy): nothing to
            # edit. A tier change is announced in a message of its own; a resolved line's
            # record is closed by the pipeline (nothing resolves it here).
            return self._new_roots(ctx, policy, rising)
        view = MessageView.load(record, records)
        cards = dict(view.cards)
        for key, card in list(cards.items()):
            fresh = current.get(key)
            if fresh is not None and card.resolved is None:
                cards[key] = Card.of(fresh)  # every open line shows its ticket as it is now
        cards.update(changed_cards)
        for member, _why in resolved:
            cards[member.key.item] = Card.load(
                next(c.store["card"] for c in changes if c.key == member.key)
            )
        still_open = any(c.resolved is None for c in cards.values())
        escalated = any(
            c.resolved is None and c.severity is Severity.ESCALATION for c in cards.values()
        )
        mention = self.mention(ctx) if escalated else ""
        text, blocks = replace(view, cards=cards).render(policy, mention)
        if not still_open:
            changes.append(RecordChange(record.key, close=True))
        update = Action(
            kind=ActionKind.SLACK_UPDATE,
            target=view.channel,
            ts=view.ts,
            findings=resolved_findings,
            text=text,
            blocks=blocks,
            notifies=False,
            records=tuple(changes),
        )
        actions: list[Action] = []
        replies: list[Action] = []
        for tier in sorted({f.severity for f in rising}, key=lambda s: -s.rank):
            in_tier = [f for f in rising if f.severity is tier]
            who = self.mention(ctx) if tier is Severity.ESCALATION else ""
            reply_text, reply_blocks = tier_reply(
                [changed_cards[f.item] for f in in_tier], tier, who
            )
            replies.append(
                Action(
                    kind=ActionKind.SLACK_THREAD_REPLY,
                    target=view.channel,
                    thread_ts=view.ts,
                    findings=in_tier,
                    text=reply_text,
                    blocks=reply_blocks,
                )
            )
        if replies:
            # The replies notify; the edit follows them (and is finished by a later run if it
            # fails), so the message never shows a tier nobody was told about.
            first, *rest = replies
            first.then = (*rest, update)
            actions.append(first)
        else:
            actions.append(update)
        return actions

    # -- the escalation contact --------------------------------------------------------------
    def mention(self, ctx: RunContext) -> str:
        """``<@U...>`` for the escalation contact, a group mention verbatim, else their name."""
        if self._mention is None:
            self._mention = _mention_of(ctx, self.config(ctx).escalate_to)
        return self._mention


def _message_of(record: AlertRecord | None) -> str | None:
    if record is None:
        return None
    message = record.store.get("message")
    return str(message) if message else None


def _resolved_finding(record: AlertRecord, card: Card, why: Clearance) -> Finding:
    """What the decision log says about a resolved line ("why" shows it)."""
    return Finding(
        job=JOB_NAME,
        rule="resolved",
        item=record.key.item,
        severity=Severity.INFO,
        summary=why.text,
        facts={
            "reason": why.reason,
            "at": why.at.isoformat() if why.at else None,
            "alerted_tier": str(record.tier) if record.tier else None,
            "first_alerted_at": record.first_sent_at.isoformat() if record.first_sent_at else None,
        },
        url=card.url,
        priority=card.priority,
        alert=ALERT,
    )


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
