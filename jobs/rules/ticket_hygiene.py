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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.model import DataProblem, Evaluation, Finding, Person, Severity, StatusCategory, Ticket

JOB = "ticket_hygiene"

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


def _fallback_normalize(name: str) -> str:
    return " ".join(name.split()).casefold()


def _name_normalizer() -> Callable[[str], str]:
    # The desk's shared name normalizer (suffixes like "LLC", punctuation) when it is present;
    # otherwise case- and whitespace-insensitive comparison.
    try:
        from jobs.rules.names import normalize_name
    except ImportError:
        return _fallback_normalize
    return normalize_name


@dataclass(frozen=True)
class HygienePolicy:
    """The SOP's values, as the task reads them from settings."""

    onboarding_subject: str = "EverBright Partner Onboarding"
    eb_request_types: tuple[str, ...] = ()
    eb_label: str = "EB"
    high_priority: str = "High"
    higher_priorities: tuple[str, ...] = ("Highest",)
    """Priorities above ``high_priority``: already high enough, never lowered by a fix."""
    priority_installers: tuple[str, ...] = ()
    resolved_lookback: timedelta = timedelta(days=7)
    config_project: str = "CS"
    job: str = JOB


@dataclass(frozen=True)
class Problem:
    """One missing essential field on one ticket, before it becomes a finding."""

    rule: str
    ticket: Ticket
    text: str
    """What the agent reads in the digest: 'no Organization', 'EB label missing (...)'."""
    fix: Mapping[str, Any] | None = None
    """The certain change (``{"add_labels": ["EB"]}`` or ``{"priority": "High"}``), if any."""
    fix_target: str | None = None
    """The ticket the fix applies to (the CS key for a linked config ticket)."""
    item: str | None = None


# -- signals -----------------------------------------------------------------------------------


def is_everbright_financing(ticket: Ticket, policy: HygienePolicy) -> str | None:
    """Why the ticket is about EverBright financing, or None when nothing certain says so."""
    subject = policy.onboarding_subject.strip().casefold()
    if subject and subject in ticket.summary.casefold():
        return f"subject contains {policy.onboarding_subject!r}"
    wanted = {t.strip().casefold() for t in policy.eb_request_types if t.strip()}
    if ticket.request_type and ticket.request_type.strip().casefold() in wanted:
        return f"request type {ticket.request_type.strip()!r}"
    return None


def priority_installer(
    ticket: Ticket, policy: HygienePolicy, normalize: Callable[[str], str] | None = None
) -> str | None:
    """The ticket's organization that is on the priority installers list, if any."""
    norm = normalize or _name_normalizer()
    listed = {norm(name) for name in policy.priority_installers if name.strip()}
    for org in ticket.organizations:
        if org.strip() and norm(org) in listed:
            return org.strip()
    return None


def _is_high(priority: str | None, policy: HygienePolicy) -> bool:
    if priority is None:
        return False
    accepted = {p.strip().casefold() for p in (policy.high_priority, *policy.higher_priorities)}
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
    ticket: Ticket, policy: HygienePolicy, config_tickets: Mapping[str, Ticket] | None
) -> list[tuple[str, tuple[str | None, bool | None]]]:
    """(key, (priority, done)) of each linked config ticket. Jira's search already returns the
    linked issue's priority and status inside ``issuelinks``, so no second read is needed;
    ``config_tickets``, when given, is read instead (done None = not found there)."""
    states: dict[str, tuple[str | None, bool | None]] = {}
    prefix = f"{policy.config_project}-"
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
    policy: HygienePolicy,
    config_tickets: Mapping[str, Ticket] | None,
    normalize: Callable[[str], str],
) -> tuple[list[Problem], list[DataProblem]]:
    found: list[Problem] = []
    data: list[DataProblem] = []
    recently_resolved = ticket.is_done and (
        ticket.resolved is None or ticket.resolved >= now - policy.resolved_lookback
    )
    if ticket.is_done and not recently_resolved:
        return found, data  # resolved before the look-back: nobody edits those any more
    if ticket.is_done and closed_as_duplicate(ticket):
        return found, data  # its fields live on the ticket it duplicates (SOP 001 step 5)

    if not any(org.strip() for org in ticket.organizations):
        found.append(Problem(MISSING_ORGANIZATION, ticket, "no Organization"))

    why_eb = is_everbright_financing(ticket, policy)
    if why_eb and not _has_label(ticket, policy.eb_label):
        found.append(
            Problem(
                MISSING_EB_LABEL,
                ticket,
                f"{policy.eb_label} label missing (EverBright financing: {why_eb})",
                fix={"add_labels": [policy.eb_label]},
                fix_target=ticket.key,
            )
        )

    if recently_resolved and not any(ch.strip() for ch in ticket.channel):
        found.append(Problem(MISSING_CHANNEL, ticket, "resolved with an empty Channel field"))

    installer = priority_installer(ticket, policy, normalize)
    if installer and not ticket.is_done:
        if not _is_high(ticket.priority, policy):
            found.append(
                Problem(
                    PRIORITY_NOT_HIGH,
                    ticket,
                    f"priority {ticket.priority or 'empty'}, not {policy.high_priority} "
                    f"(priority installer {installer})",
                    fix={"priority": policy.high_priority},
                    fix_target=ticket.key,
                )
            )
        for cs_key, (cs_priority, cs_done) in config_states(ticket, policy, config_tickets):
            if cs_done is None:
                data.append(
                    DataProblem(
                        cs_key,
                        f"linked from {ticket.key} but not found by the config-ticket search; "
                        "its priority was not checked",
                    )
                )
                continue
            if cs_done or _is_high(cs_priority, policy):
                continue
            found.append(
                Problem(
                    CONFIG_TICKET_NOT_HIGH,
                    ticket,
                    f"linked config ticket {cs_key} at {cs_priority or 'no priority'}, not "
                    f"{policy.high_priority} (priority installer {installer})",
                    fix={"priority": policy.high_priority},
                    fix_target=cs_key,
                    item=cs_key,
                )
            )
    return found, data


def evaluate_hygiene(
    tickets: Iterable[Ticket],
    now: datetime,
    policy: HygienePolicy,
    calendar: BusinessCalendar,
    config_tickets: Mapping[str, Ticket] | None = None,
) -> Evaluation:
    """One finding per (ticket, problem); episode = the desk's local date."""
    normalize = _name_normalizer()
    episode = calendar.local_date(now).isoformat()
    findings: list[Finding] = []
    problems: list[DataProblem] = []
    examined = 0
    reported_config: set[str] = set()
    for ticket in tickets:
        examined += 1
        found, data = problems_of(ticket, now, policy, config_tickets, normalize)
        problems.extend(data)
        installer = priority_installer(ticket, policy, normalize)
        for problem in found:
            if problem.rule == CONFIG_TICKET_NOT_HIGH:
                # A config ticket linked from two SS tickets is one problem, told once.
                if problem.item in reported_config:
                    continue
                reported_config.add(str(problem.item))
            findings.append(_finding(problem, episode, policy, installer))
    order = {rule: n for n, rule in enumerate(PROBLEMS)}
    findings.sort(key=lambda f: (f.facts["ticket"], order[f.rule], f.item))
    return Evaluation(findings=findings, problems=problems, examined=examined)


def _finding(
    problem: Problem, episode: str, policy: HygienePolicy, installer: str | None
) -> Finding:
    ticket = problem.ticket
    return Finding(
        job=policy.job,
        rule=problem.rule,
        item=problem.item or ticket.key,
        severity=Severity.WARNING,
        summary=problem.text,
        facts=facts_of(problem, installer),
        episode=episode,
        url=ticket.url,
        priority=installer is not None,
        realert=None,  # once per local day: the episode changes every day
    )


def facts_of(problem: Problem, installer: str | None) -> dict[str, Any]:
    ticket = problem.ticket
    return {
        "ticket": ticket.key,
        "ticket_summary": ticket.summary,
        "problem": problem.text,
        "status": ticket.status,
        "status_category": str(ticket.status_category),
        "resolved": ticket.resolved.isoformat() if ticket.resolved else None,
        "assignee": _name(ticket.assignee),
        "assignee_email": ticket.assignee.email if ticket.assignee else None,
        "organizations": list(ticket.organizations),
        "request_type": ticket.request_type,
        "channel": list(ticket.channel),
        "priority_name": ticket.priority,
        "priority_installer": installer,
        "labels": list(ticket.labels),
        "fix": dict(problem.fix) if problem.fix else None,
        "fix_target": problem.fix_target,
    }


def _name(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.email or person.account_id


def by_assignee(findings: Sequence[Finding]) -> dict[str | None, list[Finding]]:
    """Findings grouped by the assignee's email (None: unassigned, or the email is hidden)."""
    groups: dict[str | None, list[Finding]] = {}
    for finding in findings:
        email = finding.facts.get("assignee_email")
        key = email.strip().casefold() if isinstance(email, str) and email.strip() else None
        groups.setdefault(key, []).append(finding)
    return groups
