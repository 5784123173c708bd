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
``facts["source"]`` which one decided.

What counts as the first response. A *public* comment by someone other than the customer: the
reporter, or an author Jira marks as a customer account. Internal notes are invisible to the
customer, so they answer nothing; app accounts (automation auto-replies) and authors in
``automation_accounts`` do not count either. Closed tickets are out of scope.

Priority installers (SOP: "These tickets ... take precedence over other tickets"): priority
High/Highest, or an organization on the desk's list. Their findings are flagged and sorted first.

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from jobs.calendar import BusinessCalendar
from jobs.model import Comment, DataProblem, Evaluation, Finding, Person, Severity, Ticket
from jobs.render.words import human_duration

JOB = "unassigned_first_response"

SlaSource = Literal["computed", "jira"]
SOURCE_COMPUTED: SlaSource = "computed"
SOURCE_JIRA: SlaSource = "jira"

TIERS = (Severity.WARNING, Severity.BREACH, Severity.ESCALATION)
"""The dedup rule names are these severities' values: one alert per tier per episode."""

CUSTOMER_ACCOUNT_TYPE = "customer"
APP_ACCOUNT_TYPE = "app"

Status = Literal["alert", "quiet", "answered", "paused", "met"]
"""What the rule concluded about a ticket in scope:
``alert`` (a tier applies), ``quiet`` (clock running, nothing due yet), ``answered`` (an agent
replied publicly), ``paused`` (Jira paused the SLA), ``met`` (Jira's SLA completed)."""


ClearanceReason = Literal["answered", "closed", "paused", "met", "gone", "snoozed", "unknown"]


@dataclass(frozen=True)
class FirstResponsePolicy:
    """The SOP's numbers, as the task reads them from settings."""

    first_response: timedelta = timedelta(hours=2)
    warn_before: timedelta = timedelta(minutes=30)
    escalate_factor: float = 2.0
    sla_source: SlaSource = SOURCE_COMPUTED
    priority_levels: tuple[str, ...] = ("Highest", "High")
    priority_installers: tuple[str, ...] = ()
    automation_accounts: tuple[str, ...] = ()
    """Account ids, emails or display names whose public comments are not a first response."""
    job: str = JOB

    def __post_init__(self) -> None:
        if self.first_response <= timedelta(0):
            raise ValueError("first_response must be positive")
        if not timedelta(0) <= self.warn_before < self.first_response:
            raise ValueError("warn_before must be at least 0 and shorter than first_response")
        if self.escalate_factor <= 1:
            raise ValueError("escalate_factor must be more than 1 (escalation comes after breach)")


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
class Clearance:
    """Why an open alert no longer applies, in words for the resolved notice."""

    reason: ClearanceReason
    text: str
    at: datetime | None = None


# -- who answered ------------------------------------------------------------------------------


def _same_person(person: Person | None, names: Iterable[str]) -> bool:
    if person is None:
        return False
    wanted = {n.strip().casefold() for n in names if n.strip()}
    ids = (person.account_id, person.email, person.display_name)
    return any(value and value.strip().casefold() in wanted for value in ids)


def is_customer(author: Person | None, ticket: Ticket) -> bool:
    """The reporter, or an account Jira marks as a customer (when the adapter reads accountType)."""
    if author is None:
        return False
    if ticket.reporter is not None and author.matches(ticket.reporter):
        return True
    return author.account_type == CUSTOMER_ACCOUNT_TYPE


def is_automation(author: Person) -> bool:
    """An app account (an auto-reply rule): its "we got your request" is not a first response."""
    return author.account_type == APP_ACCOUNT_TYPE


def first_response(ticket: Ticket, ignore_authors: Sequence[str] = ()) -> Comment | None:
    """The earliest public comment by an agent (not the customer, an app, or an ignored author).

    A ticket with no reporter has no customer to comment, so any named author's public
    comment counts; an anonymous comment never does.
    """
    replies = [
        c
        for c in ticket.comments
        if c.public
        and c.author is not None
        and not is_customer(c.author, ticket)
        and not is_automation(c.author)
        and not _same_person(c.author, ignore_authors)
    ]
    return min(replies, key=lambda c: c.created, default=None)


def priority_reasons(ticket: Ticket, policy: FirstResponsePolicy) -> tuple[str, ...]:
    """Why a ticket belongs to a priority installer (empty when it does not)."""
    reasons = []
    levels = {p.casefold() for p in policy.priority_levels}
    if ticket.priority and ticket.priority.strip().casefold() in levels:
        reasons.append(f"priority {ticket.priority.strip()}")
    installers = {i.strip().casefold() for i in policy.priority_installers}
    for org in ticket.organizations:
        if org.strip().casefold() in installers:
            reasons.append(f"organization {org.strip()}")
    return tuple(reasons)


# -- the clock ---------------------------------------------------------------------------------


def computed_clock(
    ticket: Ticket,
    now: datetime,
    policy: FirstResponsePolicy,
    calendar: BusinessCalendar,
    note: str = "",
) -> ResponseClock:
    elapsed = max(calendar.elapsed(ticket.created, now), timedelta(0))
    remaining = policy.first_response - elapsed
    return ResponseClock(
        source=SOURCE_COMPUTED,
        target=policy.first_response,
        elapsed=elapsed,
        remaining=remaining,
        due_at=calendar.add(ticket.created, policy.first_response),
        breached=remaining <= timedelta(0),
        note=note,
    )


def jira_clock(
    ticket: Ticket, now: datetime, policy: FirstResponsePolicy, calendar: BusinessCalendar
) -> ResponseClock:
    """Jira's "Time to first response" as the authority; the computed clock when it is absent."""
    sla = ticket.first_response_sla
    if sla is None:
        return computed_clock(
            ticket, now, policy, calendar, note="no Jira first-response SLA on the ticket"
        )
    cycle = sla.ongoing
    if cycle is None:
        if sla.completed:
            last = sla.completed[-1]
            target = last.goal or policy.first_response
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
        return computed_clock(ticket, now, policy, calendar, note="Jira's SLA has no ongoing cycle")
    target = cycle.goal or policy.first_response
    if cycle.remaining is not None:
        remaining = cycle.remaining
        elapsed = cycle.elapsed if cycle.elapsed is not None else target - remaining
    elif cycle.elapsed is not None:
        elapsed = cycle.elapsed
        remaining = target - elapsed
    else:
        return computed_clock(
            ticket, now, policy, calendar, note="Jira's SLA cycle has no remaining or elapsed time"
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
    ticket: Ticket, now: datetime, policy: FirstResponsePolicy, calendar: BusinessCalendar
) -> ResponseClock:
    if policy.sla_source == SOURCE_JIRA:
        return jira_clock(ticket, now, policy, calendar)
    return computed_clock(ticket, now, policy, calendar)


def tier_of(clock: ResponseClock, policy: FirstResponsePolicy) -> Severity | None:
    """Escalation at factor x target, breach at the target, warning under ``warn_before`` left.

    Boundaries: exactly at the target is a breach; exactly ``warn_before`` left is not yet a
    warning (the SOP's "drops under").
    """
    if clock.elapsed >= clock.target * policy.escalate_factor:
        return Severity.ESCALATION
    if clock.breached:
        return Severity.BREACH
    if clock.remaining < policy.warn_before:
        return Severity.WARNING
    return None


# -- one ticket, all tickets -------------------------------------------------------------------


def assess(
    ticket: Ticket, now: datetime, policy: FirstResponsePolicy, calendar: BusinessCalendar
) -> Assessment:
    clock = response_clock(ticket, now, policy, calendar)
    reasons = priority_reasons(ticket, policy)
    reply = first_response(ticket, policy.automation_accounts)
    if reply is not None:
        return Assessment(ticket, "answered", clock, reply=reply, priority_reasons=reasons)
    if clock.completed:
        return Assessment(ticket, "met", clock, priority_reasons=reasons)
    if clock.paused:
        # A paused SLA (e.g. waiting for the customer) is not running out: nothing to act on.
        return Assessment(ticket, "paused", clock, priority_reasons=reasons)
    tier = tier_of(clock, policy)
    status: Status = "alert" if tier is not None else "quiet"
    return Assessment(ticket, status, clock, tier=tier, priority_reasons=reasons)


def evaluate_unassigned(
    tickets: Iterable[Ticket],
    now: datetime,
    policy: FirstResponsePolicy,
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
        if not ticket.comments_complete:
            problems.append(
                DataProblem(
                    ticket.key,
                    f"only {len(ticket.comments)} of {ticket.comments_total} comments were read; "
                    "an agent reply among the others would be missed",
                )
            )
        result = assess(ticket, now, policy, calendar)
        if policy.sla_source == SOURCE_JIRA and result.clock.source == SOURCE_COMPUTED:
            problems.append(
                DataProblem(ticket.key, f"{result.clock.note}; used the computed clock")
            )
        if result.tier is None:
            continue
        found.append((ticket.created, _finding(result, now, policy)))
    # Priority installers first (SOP: they "take precedence"), then most urgent, then oldest.
    found.sort(
        key=lambda pair: (not pair[1].priority, -pair[1].severity.rank, pair[0], pair[1].item)
    )
    return Evaluation(findings=[f for _, f in found], problems=problems, examined=examined)


def _finding(result: Assessment, now: datetime, policy: FirstResponsePolicy) -> Finding:
    ticket, clock, tier = result.ticket, result.clock, result.tier
    assert tier is not None
    return Finding(
        job=policy.job,
        rule=str(tier),
        item=ticket.key,
        severity=tier,
        summary=status_text(tier, clock, policy, ticket.assignee),
        facts=facts_of(result, now, policy),
        url=ticket.url,
        priority=bool(result.priority_reasons),
        realert=None,  # once per tier per episode; the episode is set by the task
    )


def facts_of(result: Assessment, now: datetime, policy: FirstResponsePolicy) -> dict[str, object]:
    ticket, clock = result.ticket, result.clock
    facts: dict[str, object] = {
        "tier": str(result.tier) if result.tier else None,
        "source": clock.source,
        "created": ticket.created.isoformat(),
        "now": now.isoformat(),
        "elapsed_seconds": int(clock.elapsed.total_seconds()),
        "remaining_seconds": int(clock.remaining.total_seconds()),
        "target_seconds": int(clock.target.total_seconds()),
        "warn_before_seconds": int(policy.warn_before.total_seconds()),
        "escalate_factor": policy.escalate_factor,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "ticket_summary": ticket.summary,
        "status": ticket.status,
        "priority_name": ticket.priority,
        "organization": ticket.organization,
        "priority_installer": bool(result.priority_reasons),
        "priority_reasons": list(result.priority_reasons),
        "labels": list(ticket.labels),
        "assignee": _name(ticket.assignee) if ticket.assignee else None,
        "assignee_email": ticket.assignee.email if ticket.assignee else None,
        "assignee_account_id": ticket.assignee.account_id if ticket.assignee else None,
    }
    if clock.note:
        facts["source_note"] = clock.note
    if clock.source == SOURCE_JIRA:
        facts["sla_breached"] = clock.breached
        facts["sla_paused"] = clock.paused
    return facts


# -- words -------------------------------------------------------------------------------------


def status_text(
    tier: Severity,
    clock: ResponseClock,
    policy: FirstResponsePolicy,
    assignee: Person | None = None,
) -> str:
    """'25 m left for a first response (due Tue 14:00)', 'no first response after 2 h 13 m
    (target 2 h)', 'assigned to Maya Patel, still no reply after 2 h 40 m (target 2 h)'."""
    who = f"assigned to {_name(assignee)}" if assignee is not None else ""
    if tier is Severity.WARNING:
        due = f" (due {clock.due_at:%a %H:%M})" if clock.due_at else ""
        left = f"{human_duration(clock.remaining)} left for a first response{due}"
        return f"{who}; {left}" if who else left
    waited = f"after {human_duration(clock.elapsed)} (target {human_duration(clock.target)})"
    text = f"{who}, still no reply {waited}" if who else f"no first response {waited}"
    if tier is Severity.ESCALATION:
        text += f", over {policy.escalate_factor:g}x the target"
    return text


def _name(person: Person | None) -> str:
    if person is None:
        return "someone"
    return person.display_name or person.email or person.account_id or "someone"


def clearance(
    ticket: Ticket | None,
    now: datetime,
    policy: FirstResponsePolicy,
    calendar: BusinessCalendar,
    project: str = "",
) -> Clearance:
    """Why an open alert for ``ticket`` no longer applies: 'answered by Ana after 2 h 13 m'.

    ``ticket`` is its current state (None when the search no longer finds it). Only a public
    agent reply or a close ends the first-response clock (an assignment does not: the
    customer is still waiting). The time is working time from creation to that event.
    """
    if ticket is None:
        where = f"the {project} queue" if project else "the queue"
        return Clearance("gone", f"no longer found in {where}", None)
    reply = first_response(ticket, policy.automation_accounts)
    parts: list[str] = []
    candidates: list[datetime] = []
    reason: ClearanceReason = "unknown"
    if reply is not None:
        parts.append(f"answered by {_name(reply.author)}")
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
    clock = response_clock(ticket, now, policy, calendar)
    if clock.completed:
        return Clearance("met", "first response recorded by Jira's SLA", None)
    if clock.paused:
        return Clearance(
            "paused", f"Jira paused the first-response SLA (status {ticket.status})", None
        )
    return Clearance("unknown", "no longer needs a first-response alert", None)
