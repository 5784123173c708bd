"""Every 15 minutes: tickets nearing or past the 2 h first response, until an agent replies.

Replaces SOP 004's "check the Unassigned Queue every 15 mins". One paged search reads the
service desk's open tickets of the last ``lookback`` (with their comments); the rule in
`jobs.rules.unassigned_first_response` says which have no public agent reply yet and which
tier they are in (warning, breach, escalation). Assigning a ticket does not answer the
customer: its line then names the assignee, and only a public agent reply, a close or a
silence ends the alert (as JSM's "Time to first response" does).

Slack, one episode per ticket (from its first alert until it is answered or closed):

- **new alerts** are posted as one message per ticket, or, past ``group_threshold`` in one
  run, packed into as few grouped messages as Slack's limits allow;
- **a tier reached** edits the message in place and posts one thread reply per tier that
  mentions the assignee (or ``notify.on_duty`` for an unassigned ticket), shown in the channel
  when there is nobody to mention; the assignee also gets a DM, once per tier;
- **one escalation a run**: every ticket past ``escalate_factor`` × the target goes into one
  message that mentions the lead (``escalate_to``) once;
- **quiet hours** (``notify.quiet_hours``): outside them nobody is mentioned or DMed; the lines
  are still posted (or held, ``notify.outside_hours: hold``) and the held pings go out as one
  summary when the hours start;
- **answered or closed**: the line is rewritten ("answered by Maya Patel after 2 h 13 m"),
  without a new notification; a silenced ticket's line says it is snoozed.

What the pipeline keeps for this job (its alert records): per ticket, the tier announced, the
message it is on, the card that message shows, the DMs sent and the pings held; per Slack
message, its channel and ts, whether it is grouped, and its members.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from jobs.adapters.http import AdapterError, PermanentError
from jobs.ids import random_id
from jobs.job import Job, JobSpec, Work, config_of
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
from jobs.render.pack import pack
from jobs.render.slack import Block, escape
from jobs.render.unassigned_first_response import (
    Card,
    assignee_dm,
    escalation_message,
    group_message,
    held_summary,
    single_message,
    tier_reply,
)
from jobs.rules.unassigned_first_response import (
    JOB_NAME,
    FirstResponseDetail,
    ResolvedDetail,
    UnassignedFirstResponseConfig,
    clearance,
    evaluate_unassigned,
    needs_every_comment,
    quiet_age,
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


SPEC = JobSpec(
    name=JOB_NAME,
    description="Alert when tickets near or miss the 2 h first response, until answered (SOP 004)",
    config_model=UnassignedFirstResponseConfig,
    systems=frozenset({"jira", "slack"}),
)


CLOCK_MARGIN = timedelta(minutes=2)
"""What Jira's clock may differ from ours by: a relative date in the JQL counts from Jira's."""


JQL_ZONE_SLACK = timedelta(hours=12)
"""Jira reads a date-time in the JQL in its API user's timezone (UTC-12 to UTC+14): a UTC wall
time this much earlier than the instant meant is at or before it in every one of them."""


def _scope(project: str, config: UnassignedFirstResponseConfig, ctx: RunContext) -> list[str]:
    """Open tickets created since ``lookback`` before ``now`` (written as a UTC wall time
    `JQL_ZONE_SLACK` earlier, whatever the API user's timezone; the rule keeps exactly the
    ones in scope)."""
    since = (ctx.now - config.lookback.wall - JQL_ZONE_SLACK).astimezone(UTC)
    return [
        f"project = {jql_quote(project)}",
        "statusCategory != Done",
        f"created >= {jql_quote(since.strftime('%Y/%m/%d %H:%M'))}",
    ]


def default_jql(project: str, config: UnassignedFirstResponseConfig, ctx: RunContext) -> str:
    """The scope (`_scope`) and, where the rule allows it, only tickets at least its
    `quiet_age` old (``created <= -Nm``, `quiet_minutes`)."""
    clauses = _scope(project, config, ctx)
    minutes = quiet_minutes(config)
    if minutes:
        clauses.append(f"created <= {jql_quote(f'-{minutes}m')}")
    return " AND ".join(clauses) + " ORDER BY created ASC"


def quiet_minutes(config: UnassignedFirstResponseConfig) -> int:
    """Whole minutes (less `CLOCK_MARGIN`) a ticket is old at least before it can alert, for
    the default search's ``created <= -Nm``; 0 when nothing may be left out."""
    age = quiet_age(config)
    if age is None or config.jql:
        return 0
    return max(0, int((age - CLOCK_MARGIN).total_seconds() // 60))


def younger_than(ctx: RunContext, minutes: int, since: float) -> str:
    """The default search's complement: its scope's tickets created less than ``minutes`` ago
    by Jira's clock, widened by the ``since`` seconds spent since the first search was sent."""
    config = config_of(ctx, UnassignedFirstResponseConfig)
    clauses = _scope(ctx.desk.service_desk_project, config, ctx)
    wider = minutes + int(since // 60) + 1
    clauses.append(f"created > {jql_quote(f'-{wider}m')}")
    return " AND ".join(clauses) + " ORDER BY created ASC"


# -- records -----------------------------------------------------------------------------------

ALERT = "first_response"
"""The record every tier of a ticket's alert shares (the tiers are the findings' rules)."""
MESSAGE = "message"
"""A Slack message's record: where it is, which tickets it shows, single or grouped."""
PINGED_TIERS = (Severity.BREACH, Severity.ESCALATION)


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

    def render(self, config: UnassignedFirstResponseConfig) -> tuple[str, list[Block]]:
        cards = list(self.cards.values())
        if not self.grouped and len(cards) == 1:
            return single_message(cards[0], config)
        return group_message(cards, config)


def _message_of(record: AlertRecord | None) -> str | None:
    message = record.store.get("message") if record is not None else None
    return str(message) if message else None


def _stored_card(record: AlertRecord) -> Card:
    return Card.load(record.store.get("card") or {"key": record.key.item})


# -- the job -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueData:
    tickets: list[Ticket]
    """The open tickets, as the search returned them."""
    gone: Mapping[str, Ticket]
    """Tickets with an open alert that left the search, as they are now (absent: not found).
    Together with ``tickets``, what a resolved line says about how each left its alert."""


@dataclass
class Plan:
    """What this run sends, built up message by message."""

    actions: list[Action] = field(default_factory=list)
    escalated: list[Finding] = field(default_factory=list)
    held: list[Finding] = field(default_factory=list)


class UnassignedFirstResponseJob(Job[QueueData]):
    spec = SPEC

    def __init__(self) -> None:
        self._mentions: dict[str, str] = {}

    # -- configuration helpers ---------------------------------------------------------------
    @staticmethod
    def channel(ctx: RunContext) -> str:
        return config_of(ctx, UnassignedFirstResponseConfig).channel or ctx.alert_channel

    @staticmethod
    def jql(ctx: RunContext) -> str:
        config = config_of(ctx, UnassignedFirstResponseConfig)
        return config.jql or default_jql(ctx.desk.service_desk_project, config, ctx)

    # -- fetch / evaluate ----------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> QueueData:
        config = config_of(ctx, UnassignedFirstResponseConfig)
        fields = list(FIELDS + ((SLA_FIELD,) if config.sla_source == "jira" else ()))
        tickets: dict[str, Ticket] = {}
        unread: list[str] = []
        """Tickets whose comments the search truncated where the rest could decide."""

        def take(ticket: Ticket) -> None:
            if ticket.key in tickets:
                return  # in both searches: read once
            if needs_every_comment(ticket, ctx.now, config, ctx.desk, ctx.calendar):
                unread.append(ticket.key)
            tickets[ticket.key] = ticket

        started = time.monotonic()
        # The rule reads who wrote each comment, when, and whether it is public, never what it
        # says: comments are read without their text (a run holds every ticket of its lookback
        # until it decides, 23,000 with 111,000 comments on the 100k bench desk). The tickets
        # are put in order below, so a long search is read from both ends at once.
        search = ctx.jira.search(
            self.jql(ctx), fields, page_size=100, comment_text=False, any_order=True
        )
        for ticket in search:
            take(ticket)
        minutes = quiet_minutes(config)
        clock = ctx.jira.search_clock
        if minutes and (clock is None or clock < ctx.now - CLOCK_MARGIN):
            # Jira's clock was behind this run's instant (a replay ahead of it), or unknown:
            # `created <= -Nm` may have left out tickets that can alert as of `now`. Ask for
            # the rest (the two searches overlap; a ticket in both is read once).
            rest = younger_than(ctx, minutes, time.monotonic() - started)
            for ticket in ctx.jira.search(rest, fields, page_size=100, comment_text=False):
                take(ticket)
        # The search truncates long comment lists; the rest is read only where it could change
        # the decision (an agent reply among them, for a ticket in a tier), side by side.
        for ticket in ctx.jira.with_all_comments_of([tickets[key] for key in unread], text=False):
            tickets[ticket.key] = ticket
        found_tickets = sorted(tickets.values(), key=lambda t: (t.created, t.key))
        # Tickets with an open alert that are no longer in the search: how they left it is
        # what their resolved line says (one `key in (...)` search).
        open_alerts = ctx.ledger.records(JOB_NAME, open_only=True)
        left = sorted(k.item for k in open_alerts if k.alert == ALERT and k.item not in tickets)
        return QueueData(found_tickets, self._lookup(ctx, left))

    @staticmethod
    def _lookup(ctx: RunContext, keys: list[str]) -> dict[str, Ticket]:
        found: dict[str, Ticket] = {}
        for clause in key_batches(keys, LOOKUP_CHUNK):
            try:
                for ticket in ctx.jira.search(
                    clause, list(LOOKUP_FIELDS), page_size=LOOKUP_CHUNK, comment_text=False
                ):
                    found[ticket.key] = ticket
            except PermanentError as exc:
                # Jira refuses the whole query when one key no longer exists (deleted or moved
                # without a redirect); the line then says the ticket left the queue.
                log.warning("lookup of cleared tickets failed: %s", exc, extra=ctx.extra())
        return found

    def evaluate(self, data: QueueData, ctx: RunContext) -> Evaluation:
        config = config_of(ctx, UnassignedFirstResponseConfig)
        evaluation = evaluate_unassigned(data.tickets, ctx.now, config, ctx.desk, ctx.calendar)
        findings = [
            replace(f, url=f.url or ctx.browse_url(f.item), alert=ALERT, reopens=True)
            for f in evaluation.findings
        ]
        sources: dict[str, int] = {}
        for f in findings:
            source = f.detail_as(FirstResponseDetail).source
            sources[source] = sources.get(source, 0) + 1
        ctx.notes["sla_source"] = {"configured": config.sla_source, "decided": sources}
        return Evaluation(findings, evaluation.problems, evaluation.examined)

    # -- plan ----------------------------------------------------------------------------------
    def plan(self, work: Work[QueueData], ctx: RunContext) -> list[Action]:
        """New roots for new episodes; per message with a change, the thread replies for the
        tiers reached (they notify) and one edit in place; one escalation message; the DMs to
        assignees; after quiet hours, the pings that were held."""
        config = config_of(ctx, UnassignedFirstResponseConfig)
        records = work.records
        quiet = ctx.quiet
        holding = quiet and ctx.settings.notify.outside_hours == "hold"
        plan = Plan()

        new: list[Finding] = []
        rising: dict[str, list[Finding]] = {}
        for finding in work.fresh:
            record = records.get(finding.record_key)
            message = _message_of(record)
            if (
                record is None
                or not record.is_open
                or message is None
                or message_key(message) not in records
            ):
                new.append(finding)
            else:
                rising.setdefault(message, []).append(finding)
        if holding:
            new, rising = [], {}  # nothing is announced until the hours start
        resolved = self._resolved(work, ctx, config)
        changed = self._changed_cards(work)

        self._new_roots(ctx, config, new, plan, quiet)
        for message_id in sorted(set(rising) | set(resolved) | set(changed)):
            self._changes(
                ctx,
                config,
                work,
                message_id,
                rising.get(message_id, []),
                resolved.get(message_id, []),
                plan,
                quiet,
            )
        if not quiet:
            plan.actions += self._dms(ctx, config, work)
            escalated = plan.escalated + _lead_owed(work, plan.escalated)
            held = self._held_pings(ctx, config, work, escalated)
            if held:
                plan.actions.append(held)  # the run's escalations ride in it: one lead ping
            elif escalated:
                plan.actions.append(self._escalation(ctx, config, escalated))
        return plan.actions

    def _resolved(
        self, work: Work[QueueData], ctx: RunContext, config: UnassignedFirstResponseConfig
    ) -> dict[str, list[tuple[AlertRecord, str]]]:
        """Open tickets no finding covers: answered, closed or gone. By message."""
        now_as = {t.key: t for t in work.data.tickets} | dict(work.data.gone)
        resolved: dict[str, list[tuple[AlertRecord, str]]] = {}
        for record in work.resolving:
            if record.key.alert != ALERT:
                continue
            snoozed = work.silenced.get(record.key.item)
            if snoozed is not None:
                text = f"snoozed: {snoozed}"
            else:
                ticket = now_as.get(record.key.item)
                text = clearance(ticket, ctx.now, config, ctx.desk, ctx.calendar).text
            resolved.setdefault(_message_of(record) or "", []).append((record, text))
        return resolved

    @staticmethod
    def _changed_cards(work: Work[QueueData]) -> dict[str, list[Finding]]:
        """Tickets still alerting whose line reads differently now (assigned since, say)."""
        changed: dict[str, list[Finding]] = {}
        for finding in work.active:
            record = work.records.get(finding.record_key)
            message = _message_of(record)
            if record is None or not record.is_open or message is None:
                continue
            if _stored_card(record).state() != Card.of(finding).state():
                changed.setdefault(message, []).append(finding)
        return changed

    def _new_roots(
        self,
        ctx: RunContext,
        config: UnassignedFirstResponseConfig,
        findings: list[Finding],
        plan: Plan,
        quiet: bool,
    ) -> None:
        channel = self.channel(ctx)
        # SOP 004: priority installers take precedence.
        ordered = sorted(findings, key=lambda f: (not f.priority, -f.severity.rank, f.item))
        plan.escalated += [f for f in ordered if f.severity is Severity.ESCALATION]
        if quiet:
            plan.held += [f for f in ordered if f.severity in PINGED_TIERS]
        if not ordered:
            return
        cards = [Card.of(f) for f in ordered]
        grouped = len(ordered) > config.group_threshold
        if grouped:
            probe = [f"• {c.line()}" for c in cards]
            # header, counts, legend and the buttons (a ticket picker) besides the lines
            parts = pack(probe, other_blocks=5, cap=ctx.settings.run.max_alerts_per_message)
        else:
            parts = [[n] for n in range(len(ordered))]
        for part in parts:
            chunk = [ordered[n] for n in part]
            chunk_cards = [cards[n] for n in part]
            if grouped:
                text, blocks = group_message(chunk_cards, config)
            else:
                text, blocks = single_message(chunk_cards[0], config)
            message_id = random_id(16)
            changes = [
                RecordChange(
                    message_key(message_id),
                    store={
                        "channel": Ref(0, "channel"),
                        "ts": Ref(0, "ts"),
                        "grouped": grouped,
                        "members": [c.key for c in chunk_cards],
                    },
                ),
                *(
                    RecordChange(
                        ticket_key(c.key),
                        store={"message": message_id, "card": c.dump(), **_owed(f, quiet)},
                    )
                    for f, c in zip(chunk, chunk_cards, strict=True)
                ),
            ]
            plan.actions.append(
                Action(
                    kind=ActionKind.SLACK_POST,
                    target=channel,
                    findings=chunk,
                    text=text,
                    blocks=blocks,
                    records=tuple(changes),
                )
            )

    def _changes(
        self,
        ctx: RunContext,
        config: UnassignedFirstResponseConfig,
        work: Work[QueueData],
        message_id: str,
        rising: list[Finding],
        resolved: list[tuple[AlertRecord, str]],
        plan: Plan,
        quiet: bool,
    ) -> None:
        """One message's tiers reached and lines resolved: the thread replies that notify,
        then one edit in place that shows every member as it is now."""
        records = work.records
        record = records.get(message_key(message_id)) if message_id else None
        if record is None:
            # The message's record is gone (a ledger restored from an older copy): nothing to
            # edit. A tier reached is announced in a message of its own; a resolved line's
            # record is closed by the pipeline.
            self._new_roots(ctx, config, rising, plan, quiet)
            return
        view = MessageView.load(record, records)
        current = {f.item: f for f in work.active}
        cards = dict(view.cards)
        changes: list[RecordChange] = []
        for key, card in list(cards.items()):
            fresh = current.get(key)
            if fresh is not None and card.is_open:
                cards[key] = Card.of(fresh)  # every open line shows its ticket as it is now
                if cards[key].state() != card.state():
                    changes.append(RecordChange(ticket_key(key), store={"card": cards[key].dump()}))
        resolved_findings = []
        for member, text in resolved:
            card = replace(_stored_card(member), resolved=text)
            cards[member.key.item] = card
            changes.append(RecordChange(member.key, store={"card": card.dump()}, close=True))
            resolved_findings.append(_resolved_finding(member, card, text))
        for finding in rising:
            cards[finding.item] = Card.of(finding)
            store = {"card": cards[finding.item].dump(), **_owed(finding, quiet)}
            changes = [c for c in changes if c.key != finding.record_key]
            changes.append(RecordChange(finding.record_key, store=store))
        plan.escalated += [f for f in rising if f.severity is Severity.ESCALATION]
        if quiet:
            plan.held += [f for f in rising if f.severity in PINGED_TIERS]
        if not any(c.is_open for c in cards.values()):
            changes.append(RecordChange(record.key, close=True))
        text, blocks = replace(view, cards=cards).render(config)
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
        replies = [
            self._tier_reply(ctx, view, tier, [f for f in rising if f.severity is tier], quiet)
            for tier in sorted({f.severity for f in rising}, key=lambda s: -s.rank)
        ]
        if replies:
            # The replies notify; the edit follows them (finished by a later run if it fails),
            # so the message never shows a tier nobody was told about.
            first, *rest = replies
            first.then = (*rest, update)
            plan.actions.append(first)
        else:
            plan.actions.append(update)

    def _tier_reply(
        self,
        ctx: RunContext,
        view: MessageView,
        tier: Severity,
        findings: list[Finding],
        quiet: bool,
    ) -> Action:
        """Breach: mention the assignees (or the on-duty group), or show it in the channel.
        Escalation: the lead hears of it once, in the run's escalation message, not here."""
        mentions: list[str] = []
        if tier is Severity.BREACH and not quiet:
            for finding in findings:
                who = self._assignee_mention(ctx, finding) or self._on_duty(ctx)
                if who and who not in mentions:
                    mentions.append(who)
        text, blocks = tier_reply([Card.of(f) for f in findings], tier, mentions)
        return Action(
            kind=ActionKind.SLACK_THREAD_REPLY,
            target=view.channel,
            thread_ts=view.ts,
            findings=findings,
            text=text,
            blocks=blocks,
            broadcast=tier is Severity.BREACH and not mentions and not quiet,
        )

    def _escalation(
        self, ctx: RunContext, config: UnassignedFirstResponseConfig, findings: list[Finding]
    ) -> Action:
        text, blocks = escalation_message([Card.of(f) for f in findings], config, self.lead(ctx))
        return Action(
            kind=ActionKind.SLACK_POST,
            target=self.channel(ctx),
            findings=findings,
            text=text,
            blocks=blocks,
            records=tuple(RecordChange(f.record_key, store={"lead": None}) for f in findings),
        )

    def _dms(
        self, ctx: RunContext, config: UnassignedFirstResponseConfig, work: Work[QueueData]
    ) -> list[Action]:
        """One DM per assignee listing their tickets that reached a tier since the last DM."""
        if not config.dm_assignee:
            return []
        owed: dict[str, list[tuple[Finding, str]]] = {}
        for finding in work.active:
            contact = _assignee_contact(finding)
            if finding.severity not in PINGED_TIERS or contact is None:
                continue
            email, account = contact
            record = work.records.get(finding.record_key)
            if record is None or not record.is_open and finding not in work.fresh:
                continue
            sent = dict((record.store.get("dms") if record else None) or {})
            if sent.get(str(finding.severity)) != account:
                owed.setdefault(email, []).append((finding, account))
        actions = []
        for email, owed_findings in sorted(owed.items()):
            findings = [f for f, _ in owed_findings]
            text, blocks = assignee_dm([Card.of(f) for f in findings], config)
            changes = []
            for f, account in owed_findings:
                record = work.records.get(f.record_key)
                sent = dict((record.store.get("dms") if record else None) or {})
                changes.append(
                    RecordChange(f.record_key, store={"dms": sent | {str(f.severity): account}})
                )
            actions.append(
                Action(
                    kind=ActionKind.SLACK_DM,
                    target=email,
                    findings=findings,
                    text=text,
                    blocks=blocks,
                    notifies=False,
                    records=tuple(changes),
                )
            )
        return actions

    def _held_pings(
        self,
        ctx: RunContext,
        config: UnassignedFirstResponseConfig,
        work: Work[QueueData],
        escalated: list[Finding],
    ) -> Action | None:
        """The hours have started: one message with every ping held while it was quiet, and
        any escalation of this run (so the lead is pinged once)."""
        current = {f.item: f for f in work.active}
        held = [
            current[key.item]
            for key, record in sorted(work.records.items(), key=lambda kv: kv[0].item)
            if key.alert == ALERT
            and record.is_open
            and record.store.get("held")
            and key.item in current
        ]
        if not held:
            return None
        told = held + [f for f in escalated if f.item not in {h.item for h in held}]
        mentions: list[str] = []
        if any(f.severity is Severity.ESCALATION for f in told) and self.lead(ctx):
            mentions.append(self.lead(ctx))
        for finding in told:
            who = self._assignee_mention(ctx, finding) or self._on_duty(ctx)
            if who and who not in mentions:
                mentions.append(who)
        text, blocks = held_summary([Card.of(f) for f in told], config, mentions)
        return Action(
            kind=ActionKind.SLACK_POST,
            target=self.channel(ctx),
            findings=told,
            text=text,
            blocks=blocks,
            notifies=False,
            records=tuple(
                RecordChange(f.record_key, store={"held": None, "lead": None}) for f in told
            ),
        )

    # -- who is mentioned ------------------------------------------------------------------
    def lead(self, ctx: RunContext) -> str:
        """``<@U...>`` for the escalation contact, a group mention verbatim, else their name."""
        role = config_of(ctx, UnassignedFirstResponseConfig).escalate_to
        if role not in self._mentions:
            self._mentions[role] = _mention_of(ctx, role)
        return self._mentions[role]

    def _on_duty(self, ctx: RunContext) -> str:
        return _slack_mention(ctx.settings.notify.on_duty or "")

    def _assignee_mention(self, ctx: RunContext, finding: Finding) -> str:
        contact = _assignee_contact(finding)
        if contact is None:
            return ""
        email = contact[0]
        key = f"email:{email.casefold()}"
        if key not in self._mentions:
            try:
                user = ctx.slack.user_id(email)
            except AdapterError as exc:
                log.warning("cannot look up an assignee in Slack: %s", exc, extra=ctx.extra())
                user = None
            self._mentions[key] = f"<@{user}>" if user else ""
        return self._mentions[key]


def _assignee_contact(finding: Finding) -> tuple[str, str] | None:
    """(email, account) of the ticket's assignee, whom mentions and DMs reach by email (the
    account: their Jira account id, else the email); None when nobody with an email has it."""
    assignee = finding.detail_as(FirstResponseDetail).assignee
    if assignee is None or not assignee.email:
        return None
    return assignee.email, assignee.account_id or assignee.email


def _owed(finding: Finding, quiet: bool) -> dict[str, Any]:
    """A ping the ticket's record owes until a message delivers it: while quiet, every breach
    and escalation (``held``, told when the hours start); otherwise an escalation's mention of
    the lead (``lead``, told by this run's escalation message). Kept in the record with the
    tier, so a run that dies between the two still tells the lead on the next run."""
    if quiet:
        return {"held": str(finding.severity)} if finding.severity in PINGED_TIERS else {}
    return {"lead": "owed"} if finding.severity is Severity.ESCALATION else {}


def _lead_owed(work: Work[QueueData], escalated: Sequence[Finding]) -> list[Finding]:
    """Tickets an earlier run recorded at escalation but never told the lead about (it died
    before its escalation message, or the message failed), still escalated now."""
    planned = {f.item for f in escalated}
    current = {f.item: f for f in work.active}
    return [
        current[key.item]
        for key, record in sorted(work.records.items(), key=lambda kv: kv[0].item)
        if key.alert == ALERT
        and record.is_open
        and record.store.get("lead") == "owed"
        and key.item in current
        and key.item not in planned
        and current[key.item].severity is Severity.ESCALATION
    ]


def _resolved_finding(record: AlertRecord, card: Card, text: str) -> Finding:
    """What the decision log says about a resolved line (``why`` shows it)."""
    return Finding(
        job=JOB_NAME,
        rule="resolved",
        item=record.key.item,
        severity=Severity.INFO,
        summary=text,
        detail=ResolvedDetail(alerted_tier=record.tier, first_alerted_at=record.first_sent_at),
        url=card.url,
        priority=card.priority,
        alert=ALERT,
    )


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


def _slack_mention(configured: str) -> str:
    """A configured Slack user or group as a mention ('' when it is neither)."""
    configured = configured.strip()
    if configured.startswith("<") and configured.endswith(">"):
        return configured  # a user group (<!subteam^S123>) or a ready-made mention
    if _USER_ID.fullmatch(configured):
        return f"<@{configured}>"
    if _GROUP_ID.fullmatch(configured):
        return f"<!subteam^{configured}>"
    return ""


def _mention_of(ctx: RunContext, role: str) -> str:
    person = ctx.person(role)
    if person is None:
        return ""
    configured = _slack_mention(person.slack_user or "")
    if configured:
        return configured
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
