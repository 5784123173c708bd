"""Ticket hygiene (SOP 004, "First update the essential ticket fields"): what is missing.

Each problem is one finding per (ticket, problem), so ``jobs why SS-123`` shows exactly which
field the digest complained about:

- ``missing_organization``: the Organizations field is empty ("Ensure that the Organization
  field is filled out accordingly");
- ``missing_eb_label``: an EverBright-financing ticket without the ``EB`` label ("If related to
  EverBright financing, add 'EB' to the label field"). EverBright financing is decided only by
  certain signals: the onboarding subject (SOP 000/001: "The ticket will always have the
  subject 'EverBright Partner Onboarding'", replies add ``Re:``) or a configured request type;
- ``missing_channel``: a ticket resolved within the look-back with an empty Channel field
  ("Check the channel field and make sure phone, email, or chat is selected"). Only resolved
  tickets: while a ticket is open the channels used may still change;
- ``priority_not_high``: an open ticket of a priority installer (an organization on the desk's
  list) below High ("your SS ticket priority field will be automatically set once the
  organization name is populated" — when it was not, the digest says so); Highest is high
  enough and is never lowered;
- ``config_ticket_not_high``: an open config (CS) ticket linked to a priority installer's ticket
  not at High ("if you create a linked ticket manually, you'll need to mark it high priority
  manually too"). Its item is the CS key; the digest goes to the SS ticket's assignee.

A closed ticket that duplicates another (an approval that arrived as its own ticket, linked
and closed by SOP 001 step 5) is not checked: the original carries the fields.

Organization and EB-label checks apply to open and recently resolved tickets alike (the weekly
report groups by organization); priority checks only to open tickets, whose order of work they
decide. Findings carry ``fix``: the one change that is certain (the EB label, High priority),
which the task applies when ``actions.fix_hygiene`` is on; a missing Organization or Channel
needs a person and has no fix.

The episode is the desk's local date: each daily digest lists every problem that is still
there, and a second run on the same day stays silent.

This module is pure: no adapters, no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.calendar import BusinessCalendar
from jobs.config import JobConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.model import DataProblem, Evaluation, Finding, Person, Severity, StatusCategory, Ticket
from jobs.rules.desk import Desk
from jobs.sections import Field, field_validator

JOB_NAME = "ticket_hygiene"

MISSING_ORGANIZATION = "missing_organization"
MISSING_EB_LABEL = "missing_eb_label"
MISSING_CHANNEL = "missing_channel"
PRIORITY_NOT_HIGH = "priority_not_high"
CONFIG_TICKET_NOT_HIGH = "config_ticket_not_high"

PROBLEMS = (
    MISSING_ORGANIZATION,
    MISSING_EB_LABEL,
    MISSING_CHANNEL,
    PRIORITY_NOT_HIGH,
    CONFIG_TICKET_NOT_HIGH,
)
"""Rule names, in the order a digest lists a ticket's problems."""


class TicketHygieneConfig(JobConfig):
    """``jobs.ticket_hygiene`` in the settings."""

    schedule: str = "0 16 * * 1-5"
    """Weekdays 16:00 desk time: before the end of the day, while the tickets are fresh."""
    onboarding_subject: str = "EverBright Partner Onboarding"
    """SOP 000/001: onboarding tickets 'will always have the subject' (replies add 'Re:')."""
    eb_request_types: list[str] = Field(default_factory=list)
    """Request types that are always about EverBright financing (need the EB label)."""
    eb_label: str = "EB"
    high_priority: str = "High"
    """The priority a fix sets (SOP 004: priority installers and their config tickets)."""
    higher_priorities: list[str] = Field(default_factory=lambda: ["Highest"])
    """Priorities above ``high_priority``: already fine, never lowered."""
    resolved_lookback: DurationField = parse_duration("7d")
    """Resolved tickets are checked for an empty Channel field this long after resolution."""

    @field_validator("resolved_lookback")
    @classmethod
    def _wall_clock(cls, value: Duration) -> Duration:
        if value.is_business or value.wall <= timedelta(0):
            raise ValueError("use a positive wall-clock duration such as 7d")
        return value

    @field_validator("eb_label", "high_priority")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


@dataclass(frozen=True)
class AddLabels:
    """The certain fix for a missing EB label."""

    add_labels: tuple[str, ...]


@dataclass(frozen=True)
class SetPriority:
    """The certain fix for a priority installer's ticket (or its config ticket) below High."""

    priority: str


Fix = AddLabels | SetPriority
"""The one change that is certain; a missing Organization or Channel needs a person."""


@dataclass(frozen=True)
class Problem:
    """One missing essential field on one ticket, before it becomes a finding."""

    rule: str
    ticket: Ticket
    text: str
    """What the agent reads in the digest: 'no Organization', 'EB label missing (...)'."""
    fix: Fix | None = None
    """The certain change (the EB label, or High priority), if any."""
    fix_target: str | None = None
    """The ticket the fix applies to (the CS key for a linked config ticket)."""
    item: str | None = None


@dataclass(frozen=True)
class HygieneDetail:
    """What every ticket_hygiene finding carries for the digest, the fix and the decision log."""

    ticket: str
    """The SS ticket the digest lists the problem under (also for a linked config ticket)."""
    ticket_summary: str
    problem: str
    status: str
    status_category: StatusCategory
    resolved: datetime | None
    assignee: str | None
    """The assignee's name (or email, or account id), as the digest names them."""
    assignee_email: str | None
    """Where the digest is sent by DM; None when unassigned or Jira hides the email."""
    organizations: tuple[str, ...]
    request_type: str | None
    channel: tuple[str, ...]
    priority_name: str | None
    priority_installer: str | None
    labels: tuple[str, ...]
    fix: Fix | None
    fix_target: str | None


# -- signals -----------------------------------------------------------------------------------


def is_everbright_financing(ticket: Ticket, config: TicketHygieneConfig) -> str | None:
    """Why the ticket is about EverBright financing, or None when nothing certain says so."""
    subject = config.onboarding_subject.strip().casefold()
    if subject and subject in ticket.summary.casefold():
        return f"subject contains {config.onboarding_subject!r}"
    wanted = {t.strip().casefold() for t in config.eb_request_types if t.strip()}
    if ticket.request_type and ticket.request_type.strip().casefold() in wanted:
        return f"request type {ticket.request_type.strip()!r}"
    return None


def _is_high(priority: str | None, config: TicketHygieneConfig) -> bool:
    if priority is None:
        return False
    accepted = {p.strip().casefold() for p in (config.high_priority, *config.higher_priorities)}
    return priority.strip().casefold() in accepted


def _has_label(ticket: Ticket, label: str) -> bool:
    # Jira labels are case-sensitive, but "eb" next to "EB" is a typo, not a missing label.
    return any(existing.casefold() == label.casefold() for existing in ticket.labels)


def closed_as_duplicate(ticket: Ticket) -> bool:
    """The ticket "duplicates" another (a Duplicate link seen from its inward side, which Jira
    serves as ``outwardIssue`` with the type's outward phrase)."""
    return any(
        link.type_name.casefold() == "duplicate" and link.direction == "outward"
        for link in ticket.links
    )


def config_links(ticket: Ticket, config_project: str) -> list[str]:
    """Keys of the config-project tickets linked to ``ticket`` (either direction), in order."""
    prefix = f"{config_project}-"
    return list(
        dict.fromkeys(link.other_key for link in ticket.links if link.other_key.startswith(prefix))
    )


def config_states(
    ticket: Ticket, config_project: str, config_tickets: Mapping[str, Ticket] | None
) -> list[tuple[str, tuple[str | None, bool | None]]]:
    """(key, (priority, done)) of each linked config ticket. Jira's search already returns the
    linked issue's priority and status inside ``issuelinks``, so no second read is needed;
    ``config_tickets``, when given, is read instead (done None = not found there)."""
    states: dict[str, tuple[str | None, bool | None]] = {}
    prefix = f"{config_project}-"
    for link in ticket.links:
        if not link.other_key.startswith(prefix) or link.other_key in states:
            continue
        if config_tickets is None:
            done = link.other_status_category is StatusCategory.DONE
            states[link.other_key] = (link.other_priority, done)
        else:
            cs = config_tickets.get(link.other_key)
            states[link.other_key] = (cs.priority, cs.is_done) if cs else (None, None)
    return list(states.items())


# -- the rule ----------------------------------------------------------------------------------


def problems_of(
    ticket: Ticket,
    now: datetime,
    config: TicketHygieneConfig,
    desk: Desk,
    config_tickets: Mapping[str, Ticket] | None,
) -> tuple[list[Problem], list[DataProblem]]:
    found: list[Problem] = []
    data: list[DataProblem] = []
    recently_resolved = ticket.is_done and (
        ticket.resolved is None or ticket.resolved >= now - config.resolved_lookback.wall
    )
    if ticket.is_done and not recently_resolved:
        return found, data  # resolved before the look-back: nobody edits those any more
    if ticket.is_done and closed_as_duplicate(ticket):
        return found, data  # its fields live on the ticket it duplicates (SOP 001 step 5)

    if not any(org.strip() for org in ticket.organizations):
        found.append(Problem(MISSING_ORGANIZATION, ticket, "no Organization"))

    why_eb = is_everbright_financing(ticket, config)
    if why_eb and not _has_label(ticket, config.eb_label):
        found.append(
            Problem(
                MISSING_EB_LABEL,
                ticket,
                f"{config.eb_label} label missing (EverBright financing: {why_eb})",
                fix=AddLabels((config.eb_label,)),
                fix_target=ticket.key,
            )
        )

    if recently_resolved and not any(ch.strip() for ch in ticket.channel):
        found.append(Problem(MISSING_CHANNEL, ticket, "resolved with an empty Channel field"))

    installer = desk.priority_installers.ticket(ticket)
    if installer and not ticket.is_done:
        if not _is_high(ticket.priority, config):
            found.append(
                Problem(
                    PRIORITY_NOT_HIGH,
                    ticket,
                    f"priority {ticket.priority or 'empty'}, not {config.high_priority} "
                    f"(priority installer {installer})",
                    fix=SetPriority(config.high_priority),
                    fix_target=ticket.key,
                )
            )
        for cs_key, (cs_priority, cs_done) in config_states(
            ticket, desk.config_project, config_tickets
        ):
            if cs_done is None:
                data.append(
                    DataProblem(
                        cs_key,
                        f"linked from {ticket.key} but not found by the config-ticket search; "
                        "its priority was not checked",
                    )
                )
                continue
            if cs_done or _is_high(cs_priority, config):
                continue
            found.append(
                Problem(
                    CONFIG_TICKET_NOT_HIGH,
                    ticket,
                    f"linked config ticket {cs_key} at {cs_priority or 'no priority'}, not "
                    f"{config.high_priority} (priority installer {installer})",
                    fix=SetPriority(config.high_priority),
                    fix_target=cs_key,
                    item=cs_key,
                )
            )
    return found, data


def evaluate_hygiene(
    tickets: Iterable[Ticket],
    now: datetime,
    config: TicketHygieneConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    config_tickets: Mapping[str, Ticket] | None = None,
) -> Evaluation:
    """One finding per (ticket, problem); episode = the desk's local date."""
    episode = calendar.local_date(now).isoformat()
    findings: list[Finding] = []
    problems: list[DataProblem] = []
    examined = 0
    reported_config: set[str] = set()
    for ticket in tickets:
        examined += 1
        found, data = problems_of(ticket, now, config, desk, config_tickets)
        problems.extend(data)
        installer = desk.priority_installers.ticket(ticket)
        for problem in found:
            if problem.rule == CONFIG_TICKET_NOT_HIGH:
                # A config ticket linked from two SS tickets is one problem, told once.
                if problem.item in reported_config:
                    continue
                reported_config.add(str(problem.item))
            findings.append(_finding(problem, episode, installer))
    order = {rule: n for n, rule in enumerate(PROBLEMS)}
    findings.sort(key=lambda f: (f.detail_as(HygieneDetail).ticket, order[f.rule], f.item))
    return Evaluation(findings=findings, problems=problems, examined=examined)


def _finding(problem: Problem, episode: str, installer: str | None) -> Finding:
    ticket = problem.ticket
    return Finding(
        job=JOB_NAME,
        rule=problem.rule,
        item=problem.item or ticket.key,
        severity=Severity.WARNING,
        summary=problem.text,
        detail=detail_of(problem, installer),
        episode=episode,
        url=ticket.url,
        priority=installer is not None,
        realert=None,  # once per local day: the episode changes every day
    )


def detail_of(problem: Problem, installer: str | None) -> HygieneDetail:
    ticket = problem.ticket
    return HygieneDetail(
        ticket=ticket.key,
        ticket_summary=ticket.summary,
        problem=problem.text,
        status=ticket.status,
        status_category=ticket.status_category,
        resolved=ticket.resolved,
        assignee=_name(ticket.assignee),
        assignee_email=ticket.assignee.email if ticket.assignee else None,
        organizations=ticket.organizations,
        request_type=ticket.request_type,
        channel=ticket.channel,
        priority_name=ticket.priority,
        priority_installer=installer,
        labels=ticket.labels,
        fix=problem.fix,
        fix_target=problem.fix_target,
    )


def _name(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.email or person.account_id


def by_assignee(findings: Sequence[Finding]) -> dict[str | None, list[Finding]]:
    """Findings grouped by the assignee's email (None: unassigned, or the email is hidden)."""
    groups: dict[str | None, list[Finding]] = {}
    for finding in findings:
        email = finding.detail_as(HygieneDetail).assignee_email
        key = email.strip().casefold() if email and email.strip() else None
        groups.setdefault(key, []).append(finding)
    return groups


def key_order(key: str) -> tuple[str, int]:
    """Tickets in key order: SS-9 before SS-10."""
    project, _, number = key.partition("-")
    return (project, int(number)) if number.isdigit() else (key, 0)
