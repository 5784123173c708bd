"""First response (SOP 004): every New and Unassigned ticket is answered within 2 hours.

The SOP has agents poll the Unassigned queue every 15 minutes; this rule replaces the polling.
The clock runs until the customer gets a public reply, as Jira Service Management's "Time to
first response" does: assigning a ticket does not answer the customer, so an assigned ticket
nobody has replied to stays on the alert (its line names the assignee). For each not-done
service desk ticket without an agent's public reply it reads the clock and says which tier
the ticket is in:

- **warning** when less than ``warn_before`` (30 m) is left, so someone acts *before* the breach;
- **breach** when the target (2 h) has passed;
- **escalation** at ``escalate_factor`` (2x) times the target; the task mentions the lead.

The clock. ``computed``: working time since creation on the desk calendar (24x7 by default, as
the SOP states; business hours when configured). ``jira``: Jira Service Management's "Time to
first response" SLA is the authority (its ongoing cycle's remaining time, breached and paused
flags); a ticket without that SLA falls back to the computed clock, and every finding says in
its detail's ``source`` which one decided.

What counts as the first response. A *public* comment by someone other than the customer: the
reporter, or an author Jira marks as a customer account. Internal notes are invisible to the
customer, so they answer nothing; app accounts (automation auto-replies) and authors in
``automation_accounts`` do not count either. Closed tickets are out of scope.

Priority installers (SOP: "These tickets ... take precedence over other tickets"): priority
High/Highest (``priority_levels``), or an organization the desk lists
(`jobs.rules.desk.PriorityInstallers`). Their findings are flagged and sorted first.

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from jobs.calendar import BusinessCalendar
from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.model import Comment, DataProblem, Evaluation, Finding, Person, Severity, Ticket
from jobs.render.words import human_duration
from jobs.rules.desk import Desk, first_response
from jobs.sections import Field, field_validator, model_validator

JOB_NAME = "unassigned_first_response"

SlaSource = Literal["computed", "jira"]
SOURCE_COMPUTED: SlaSource = "computed"
SOURCE_JIRA: SlaSource = "jira"

TIERS = (Severity.WARNING, Severity.BREACH, Severity.ESCALATION)
"""The dedup rule names are these severities' values: one alert per tier per episode."""


Status = Literal["alert", "quiet", "answered", "paused", "met"]
"""What the rule concluded about a ticket in scope:
``alert`` (a tier applies), ``quiet`` (clock running, nothing due yet), ``answered`` (an agent
replied publicly), ``paused`` (Jira paused the SLA), ``met`` (Jira's SLA completed)."""


ClearanceReason = Literal["answered", "closed", "paused", "met", "gone", "snoozed", "unknown"]


class UnassignedFirstResponseConfig(JobConfig):
    """``jobs.unassigned_first_response`` in the settings."""

    schedule: str = "*/15 * * * *"
    """SOP: agents 'check the Unassigned Queue every 15 mins'; this job does it for them."""
    jql: str | None = None
    """Scope; default: the service desk project's open tickets created within ``lookback``,
    oldest first (assigned or not: assigning a ticket does not answer the customer)."""
    lookback: DurationField = parse_duration("14d")
    """How old a ticket may be and still be watched: older unanswered tickets are long past
    every tier, and reading them all every 15 minutes would cost more than it tells."""
    dm_assignee: bool = True
    """DM the agent a ticket is assigned to when it goes overdue and when it escalates."""
    first_response: DurationField = parse_duration("2h")
    """SOP: 'All New and Unassigned tickets must be given a first response within 2 hours'."""
    warn_before: DurationField = parse_duration("30m")
    """Warn when less than this is left, so someone acts before the breach."""
    escalate_factor: float = Field(2.0, gt=1.0, le=100.0)
    """Escalate (mentioning ``escalate_to``) at this multiple of ``first_response``."""
    sla_source: SlaSource = "computed"
    """computed: time since creation on the desk calendar; jira: 'Time to first response' SLA."""
    group_threshold: int = Field(5, ge=1)
    """More new alerts than this in one run share grouped messages (packed as full as Slack's
    limits allow)."""
    priority_levels: list[str] = Field(default_factory=lambda: ["Highest", "High"])
    """Ticket priorities that mark a priority installer (with settings.priority_installers)."""
    escalate_to: str = "lead"
    """The people role mentioned on escalations (its slack_user, else looked up by email)."""
    channel: str | None = None
    """Slack channel for these alerts; default: desk.alert_channel."""
    automation_accounts: list[str] = Field(default_factory=lambda: ["Automation for Jira"])
    """Authors (account id, email or name) whose public comments are not a first response."""

    @field_validator("first_response", "warn_before", "lookback")
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


@dataclass(frozen=True)
class ResponseClock:
    """Where one ticket stands against its first-response target."""

    source: SlaSource
    target: timedelta
    elapsed: timedelta
    """Working time counted so far (on the calendar, or as Jira reports it)."""
    remaining: timedelta
    """Target minus elapsed; negative once breached."""
    due_at: datetime | None = None
    """The instant of the breach, in the desk's timezone; None when Jira's clock is paused."""
    breached: bool = False
    paused: bool = False
    completed: bool = False
    """Jira's SLA has no ongoing cycle but a completed one: the first response was given."""
    note: str = ""
    """Why this source decided (e.g. the ticket has no Jira SLA, so the computed clock did)."""


@dataclass(frozen=True)
class Assessment:
    ticket: Ticket
    status: Status
    clock: ResponseClock
    tier: Severity | None = None
    reply: Comment | None = None
    priority_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirstResponseDetail:
    """What a tier's finding carries: the alert's card and DMs read it, and the decision log
    keeps it (``why`` shows it)."""

    tier: Severity
    source: SlaSource
    """Which clock decided: the desk calendar's, or Jira's SLA."""
    created: datetime
    now: datetime
    elapsed: timedelta
    remaining: timedelta
    target: timedelta
    warn_before: timedelta
    escalate_factor: float
    due_at: datetime | None
    ticket_summary: str
    status: str
    priority_name: str | None
    organization: str | None
    priority_installer: bool
    priority_reasons: tuple[str, ...]
    labels: tuple[str, ...]
    """The ticket's labels (a silence label among them silences the alert)."""
    assignee: Person | None
    source_note: str
    """Why this source decided (e.g. no Jira SLA on the ticket); empty when it is the one
    configured and had what it needed."""
    sla_breached: bool | None
    """Jira's breached flag (None when the computed clock decided)."""
    sla_paused: bool | None
    """Jira's paused flag (None when the computed clock decided)."""


@dataclass(frozen=True)
class ResolvedDetail:
    """What the decision log keeps of a line rewritten as resolved."""

    alerted_tier: Severity | None
    first_alerted_at: datetime | None


@dataclass(frozen=True)
class Clearance:
    """Why an open alert no longer applies, in words for the resolved notice."""

    reason: ClearanceReason
    text: str
    at: datetime | None = None


# -- who answered ------------------------------------------------------------------------------


def priority_reasons(
    ticket: Ticket, config: UnassignedFirstResponseConfig, desk: Desk
) -> tuple[str, ...]:
    """Why a ticket belongs to a priority installer (empty when it does not)."""
    reasons = []
    levels = {p.casefold() for p in config.priority_levels}
    if ticket.priority and ticket.priority.strip().casefold() in levels:
        reasons.append(f"priority {ticket.priority.strip()}")
    installer = desk.priority_installers.ticket(ticket)
    if installer:
        reasons.append(f"organization {installer}")
    return tuple(reasons)


# -- the clock ---------------------------------------------------------------------------------


def computed_clock(
    ticket: Ticket,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    calendar: BusinessCalendar,
    note: str = "",
) -> ResponseClock:
    target = config.first_response.wall
    elapsed = max(calendar.elapsed(ticket.created, now), timedelta(0))
    remaining = target - elapsed
    return ResponseClock(
        source=SOURCE_COMPUTED,
        target=target,
        elapsed=elapsed,
        remaining=remaining,
        due_at=calendar.add(ticket.created, target),
        breached=remaining <= timedelta(0),
        note=note,
    )


def jira_clock(
    ticket: Ticket,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    calendar: BusinessCalendar,
) -> ResponseClock:
    """Jira's "Time to first response" as the authority; the computed clock when it is absent."""
    sla = ticket.first_response_sla
    if sla is None:
        return computed_clock(
            ticket, now, config, calendar, note="no Jira first-response SLA on the ticket"
        )
    cycle = sla.ongoing
    if cycle is None:
        if sla.completed:
            last = sla.completed[-1]
            target = last.goal or config.first_response.wall
            elapsed = last.elapsed or timedelta(0)
            return ResponseClock(
                source=SOURCE_JIRA,
                target=target,
                elapsed=elapsed,
                remaining=target - elapsed,
                breached=last.breached,
                completed=True,
                note="Jira's SLA cycle is completed",
            )
        return computed_clock(ticket, now, config, calendar, note="Jira's SLA has no ongoing cycle")
    target = cycle.goal or config.first_response.wall
    if cycle.remaining is not None:
        remaining = cycle.remaining
        elapsed = cycle.elapsed if cycle.elapsed is not None else target - remaining
    elif cycle.elapsed is not None:
        elapsed = cycle.elapsed
        remaining = target - elapsed
    else:
        return computed_clock(
            ticket, now, config, calendar, note="Jira's SLA cycle has no remaining or elapsed time"
        )
    # Jira reports the remaining time as of when it was read; the breach instant follows from
    # it only while the clock runs (a paused SLA has no due time).
    due_at = None
    if not cycle.paused:
        due_at = cycle.breach_time or (now + remaining)
        due_at = due_at.astimezone(calendar.tz)
    return ResponseClock(
        source=SOURCE_JIRA,
        target=target,
        elapsed=elapsed,
        remaining=remaining,
        due_at=due_at,
        breached=cycle.breached or remaining <= timedelta(0),
        paused=cycle.paused,
    )


def response_clock(
    ticket: Ticket,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    calendar: BusinessCalendar,
) -> ResponseClock:
    if config.sla_source == SOURCE_JIRA:
        return jira_clock(ticket, now, config, calendar)
    return computed_clock(ticket, now, config, calendar)


def tier_of(clock: ResponseClock, config: UnassignedFirstResponseConfig) -> Severity | None:
    """Escalation at factor x target, breach at the target, warning under ``warn_before`` left.

    Boundaries: exactly at the target is a breach; exactly ``warn_before`` left is not yet a
    warning (the SOP's "drops under").
    """
    if clock.elapsed >= clock.target * config.escalate_factor:
        return Severity.ESCALATION
    if clock.breached:
        return Severity.BREACH
    if clock.remaining < config.warn_before.wall:
        return Severity.WARNING
    return None


# -- one ticket, all tickets -------------------------------------------------------------------


def assess(
    ticket: Ticket,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Assessment:
    clock = response_clock(ticket, now, config, calendar)
    reasons = priority_reasons(ticket, config, desk)
    reply = first_response(ticket, config.automation_accounts)
    if reply is not None:
        return Assessment(ticket, "answered", clock, reply=reply, priority_reasons=reasons)
    if clock.completed:
        return Assessment(ticket, "met", clock, priority_reasons=reasons)
    if clock.paused:
        # A paused SLA (e.g. waiting for the customer) is not running out: nothing to act on.
        return Assessment(ticket, "paused", clock, priority_reasons=reasons)
    tier = tier_of(clock, config)
    status: Status = "alert" if tier is not None else "quiet"
    return Assessment(ticket, status, clock, tier=tier, priority_reasons=reasons)


def quiet_age(config: UnassignedFirstResponseConfig) -> timedelta | None:
    """How old a ticket is at least before any tier can apply to it, on either calendar: the
    computed clock counts at most the wall time since creation (a business calendar counts
    less), and the first tier, the warning, needs less than ``warn_before`` left of
    ``first_response``. A search may leave out younger tickets (see
    `tests/unit/test_unassigned_first_response_scope.py`). None when Jira's SLA decides: its
    goal is Jira's, and may be shorter than ours."""
    if config.sla_source == SOURCE_JIRA:
        return None
    return config.first_response.wall - config.warn_before.wall


def needs_every_comment(
    ticket: Ticket,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> bool:
    """Whether the comments a search left out could change the decision: only an agent's
    reply among them could, and only for a ticket in a tier without one among those read."""
    if ticket.comments_complete or ticket.is_done:
        return False
    return assess(ticket, now, config, desk, calendar).tier is not None


def evaluate_unassigned(
    tickets: Iterable[Ticket],
    now: datetime,
    config: UnassignedFirstResponseConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Evaluation:
    """One finding per ticket in a tier (rule = the tier), priority installers first."""
    found: list[tuple[datetime, Finding]] = []
    problems: list[DataProblem] = []
    examined = 0
    for ticket in tickets:
        examined += 1
        if ticket.is_done:
            continue  # out of scope; the search should not have returned it
        result = assess(ticket, now, config, desk, calendar)
        if not ticket.comments_complete and result.tier is not None:
            problems.append(
                DataProblem(
                    ticket.key,
                    f"only {len(ticket.comments)} of {ticket.comments_total} comments were read; "
                    "an agent reply among the others would be missed",
                )
            )
        if config.sla_source == SOURCE_JIRA and result.clock.source == SOURCE_COMPUTED:
            problems.append(
                DataProblem(ticket.key, f"{result.clock.note}; used the computed clock")
            )
        if result.tier is None:
            continue
        found.append((ticket.created, _finding(result, now, config)))
    # Priority installers first (SOP: they "take precedence"), then most urgent, then oldest.
    found.sort(
        key=lambda pair: (not pair[1].priority, -pair[1].severity.rank, pair[0], pair[1].item)
    )
    return Evaluation(findings=[f for _, f in found], problems=problems, examined=examined)


def _finding(result: Assessment, now: datetime, config: UnassignedFirstResponseConfig) -> Finding:
    ticket, clock, tier = result.ticket, result.clock, result.tier
    assert tier is not None
    return Finding(
        job=JOB_NAME,
        rule=str(tier),
        item=ticket.key,
        severity=tier,
        summary=status_text(tier, clock, config, ticket.assignee),
        detail=detail_of(result, tier, now, config),
        url=ticket.url,
        priority=bool(result.priority_reasons),
        realert=None,  # once per tier per episode; the episode is set by the task
    )


def detail_of(
    result: Assessment, tier: Severity, now: datetime, config: UnassignedFirstResponseConfig
) -> FirstResponseDetail:
    ticket, clock = result.ticket, result.clock
    jira = clock.source == SOURCE_JIRA
    return FirstResponseDetail(
        tier=tier,
        source=clock.source,
        created=ticket.created,
        now=now,
        elapsed=clock.elapsed,
        remaining=clock.remaining,
        target=clock.target,
        warn_before=config.warn_before.wall,
        escalate_factor=config.escalate_factor,
        due_at=clock.due_at,
        ticket_summary=ticket.summary,
        status=ticket.status,
        priority_name=ticket.priority,
        organization=ticket.organization,
        priority_installer=bool(result.priority_reasons),
        priority_reasons=result.priority_reasons,
        labels=ticket.labels,
        assignee=ticket.assignee,
        source_note=clock.note,
        sla_breached=clock.breached if jira else None,
        sla_paused=clock.paused if jira else None,
    )


# -- words -------------------------------------------------------------------------------------


def status_text(
    tier: Severity,
    clock: ResponseClock,
    config: UnassignedFirstResponseConfig,
    assignee: Person | None = None,
) -> str:
    """'25 m left for a first response (due Tue 14:00)', 'no first response after 2 h 13 m
    (target 2 h)', 'assigned to Maya Patel, still no reply after 2 h 40 m (target 2 h)'."""
    who = f"assigned to {name_of(assignee)}" if assignee is not None else ""
    if tier is Severity.WARNING:
        due = f" (due {clock.due_at:%a %H:%M})" if clock.due_at else ""
        left = f"{human_duration(clock.remaining)} left for a first response{due}"
        return f"{who}; {left}" if who else left
    waited = f"after {human_duration(clock.elapsed)} (target {human_duration(clock.target)})"
    text = f"{who}, still no reply {waited}" if who else f"no first response {waited}"
    if tier is Severity.ESCALATION:
        text += f", over {config.escalate_factor:g}x the target"
    return text


def name_of(person: Person | None) -> str:
    """How a line names a person: their display name, else email, else account id."""
    if person is None:
        return "someone"
    return person.display_name or person.email or person.account_id or "someone"


def clearance(
    ticket: Ticket | None,
    now: datetime,
    config: UnassignedFirstResponseConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Clearance:
    """Why an open alert for ``ticket`` no longer applies: 'answered by Ana after 2 h 13 m'.

    ``ticket`` is its current state (None when the search no longer finds it). Only a public
    agent reply or a close ends the first-response clock (an assignment does not: the
    customer is still waiting). The time is working time from creation to that event.
    """
    if ticket is None:
        project = desk.service_desk_project
        where = f"the {project} queue" if project else "the queue"
        return Clearance("gone", f"no longer found in {where}", None)
    reply = first_response(ticket, config.automation_accounts)
    parts: list[str] = []
    candidates: list[datetime] = []
    reason: ClearanceReason = "unknown"
    if reply is not None:
        parts.append(f"answered by {name_of(reply.author)}")
        reason = "answered"
        candidates.append(reply.created)
    if ticket.is_done:
        parts.append(f"closed ({ticket.status})")
        reason = "closed" if reason == "unknown" else reason
        if ticket.resolved is not None:
            candidates.append(ticket.resolved)
        elif ticket.updated is not None:
            candidates.append(ticket.updated)
    if parts:
        at = min(candidates, default=now)
        at = min(max(at, ticket.created), now)
        took = max(calendar.elapsed(ticket.created, at), timedelta(0))
        return Clearance(reason, f"{', '.join(parts)} after {human_duration(took)}", at)
    clock = response_clock(ticket, now, config, calendar)
    if clock.completed:
        return Clearance("met", "first response recorded by Jira's SLA", None)
    if clock.paused:
        return Clearance(
            "paused", f"Jira paused the first-response SLA (status {ticket.status})", None
        )
    return Clearance("unknown", "no longer needs a first-response alert", None)
