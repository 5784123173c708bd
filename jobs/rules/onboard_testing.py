"""Onboard testing (SOP 003, part 2): who is testing a document on Onboard.

When a customer wants to test a document on Onboard before it goes live on Engine, CS puts
its CS ticket "On Hold" and support emails "Onboard: Doc ready to test - first email" from
the SS ticket. From then on:

- 3 days without an answer -> "Onboard: Doc ready to test - second email" (the nudge);
- 1 more day without an answer -> an internal comment asks CS to publish on Engine;
- the customer answers -> support relays it to the CS ticket (SOP 2.1) and the sequence stops;
- every Monday, every customer with an outstanding Onboard task gets "Onboard Reset -
  Release tonight" (Onboard is reset on Monday nights);
- once CS published and Jira told the customer, support closes the SS ticket when the
  customer says nothing for 24 hours (part 1).

Two jobs act on it: ``onboard_reset_reminder`` (the Monday reply,
`jobs.rules.onboard_reset_reminder`) and ``doc_test_followup`` (the rest,
`jobs.rules.doc_test_followup`). This module holds what both read: which customers are
testing (an On Hold CS ticket paired with its SS ticket), the settings that say so, and what
every finding about such a task tells of it.

Link semantics. The CS ticket is created from the SS ticket (the "Needs Configuration"
automation, or by hand), and the two are linked. The type and direction of that link differ
between the automation and hand-made links, so a link of any type, in either direction,
counts when its other end is in the service desk project; ``link_types`` narrows it to named
types. One SS ticket may have several CS tickets (one per document): it is one Onboard task.

Who is the customer: `jobs.rules.desk.is_customer` (the SS ticket's reporter, or an account
Jira marks as a customer). Anyone else (agents, automation, apps) is "us". A customer quoting
our email in a reply therefore never counts as us sending it.

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.config import JobConfig
from jobs.model import DataProblem, StatusCategory, Ticket
from jobs.rules.desk import CUSTOMER_ACCOUNT_TYPE, Desk
from jobs.sections import Field

__all__ = [
    "CUSTOMER_ACCOUNT_TYPE",
    "OnboardTask",
    "OnboardTestingConfig",
    "TaskDetail",
    "customer_name",
    "is_document_request",
    "iso_week",
    "key_order",
    "linked_ss_keys",
    "outstanding_tasks",
    "task_fields",
    "tasks_for",
]


class OnboardTestingConfig(JobConfig):
    """What both Onboard testing jobs' settings say about who is testing."""

    on_hold_status: str = "On Hold"
    """CS status that means 'ready to test on Onboard' (SOP 003, 2.1)."""
    link_types: list[str] = Field(default_factory=list)
    """Link types that join a CS ticket to its SS ticket; empty = any type, either direction."""
    document_subjects: list[str] = Field(default_factory=lambda: ["Document Survey"])
    """SS summaries that mark a document request (SOP 003); other On Hold CS tickets (e.g. an
    onboarding waiting for approval, SOP 001) are not Onboard tests. Empty = any ticket."""


def iso_week(now: datetime, calendar: BusinessCalendar) -> str:
    """ISO week in the desk's timezone: a Monday 00:30 in New York is already the new week."""
    year, week, _ = now.astimezone(calendar.tz).isocalendar()
    return f"{year}-W{week:02d}"


def key_order(key: str) -> tuple[str, int]:
    """Tickets in key order: SS-9 before SS-10."""
    project, _, number = key.partition("-")
    return (project, int(number) if number.isdigit() else 0)


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardTask:
    """One customer testing on Onboard: an SS ticket and the On Hold CS ticket(s) linked to it."""

    ss: Ticket
    cs: tuple[Ticket, ...]

    @property
    def cs_keys(self) -> list[str]:
        return [t.key for t in self.cs]


def customer_name(ticket: Ticket) -> str:
    """First name of the reporter for a greeting; '' when unknown or not a name."""
    name = (ticket.reporter.display_name if ticket.reporter else None) or ""
    first = name.strip().split(" ")[0] if name.strip() else ""
    return "" if "@" in first else first


def outstanding_tasks(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    *,
    service_desk_project: str,
    link_types: Sequence[str] = (),
    document_subjects: Sequence[str] = (),
) -> tuple[list[OnboardTask], list[DataProblem]]:
    """Pair the On Hold CS tickets with their linked SS tickets that are not done.

    ``ss_tickets`` is what the one ``key in (...)`` search returned, by key.
    ``document_subjects``: only SS tickets whose summary contains one of these are document
    requests (SOP 003: "Document Survey: <Org Name>"). CS tickets are put On Hold for other
    reasons too — SOP 001 holds the onboarding config ticket while the approver decides — and
    those customers must never get an Onboard email.
    """
    by_ss: dict[str, list[Ticket]] = {}
    problems: list[DataProblem] = []
    for cs in on_hold_cs:
        keys = linked_ss_keys(cs, service_desk_project=service_desk_project, link_types=link_types)
        if not keys:
            problems.append(
                DataProblem(
                    cs.key,
                    f"On Hold but linked to no open {service_desk_project} ticket: "
                    "cannot tell which customer is testing",
                )
            )
        for key in keys:
            by_ss.setdefault(key, []).append(cs)
    tasks = []
    for key in sorted(by_ss, key=key_order):
        ss = ss_tickets.get(key)
        if ss is None:
            problems.append(
                DataProblem(key, f"linked from {', '.join(t.key for t in by_ss[key])}; not found")
            )
            continue
        if ss.is_done or not is_document_request(ss, document_subjects):
            continue
        tasks.append(OnboardTask(ss=ss, cs=tuple(by_ss[key])))
    return tasks, problems


def tasks_for(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    config: OnboardTestingConfig,
    desk: Desk,
) -> tuple[list[OnboardTask], list[DataProblem]]:
    """`outstanding_tasks` as a job's settings and the desk say."""
    return outstanding_tasks(
        on_hold_cs,
        ss_tickets,
        service_desk_project=desk.service_desk_project,
        link_types=config.link_types,
        document_subjects=config.document_subjects,
    )


def is_document_request(ss: Ticket, document_subjects: Sequence[str]) -> bool:
    if not document_subjects:
        return True
    summary = ss.summary.casefold()
    return any(subject.casefold() in summary for subject in document_subjects)


def linked_ss_keys(
    cs: Ticket, *, service_desk_project: str, link_types: Iterable[str] = ()
) -> list[str]:
    """SS tickets a CS ticket links to (any type and direction unless ``link_types``), not done."""
    wanted = {t.casefold() for t in link_types}
    prefix = f"{service_desk_project}-"
    keys: list[str] = []
    for link in cs.links:
        if not link.other_key.startswith(prefix):
            continue
        if wanted and link.type_name.casefold() not in wanted:
            continue
        if link.other_status_category is StatusCategory.DONE:
            continue
        if link.other_key not in keys:
            keys.append(link.other_key)
    return keys


# -- what a finding tells of the task ----------------------------------------------------------


@dataclass(frozen=True)
class TaskDetail:
    """What every finding about an Onboard task says of it. Each rule's detail extends it,
    so the decision log reads ``ss_key``, ``cs_keys``, ``customer``... at its top level, and
    the pipeline finds the snooze label in ``labels``."""

    ss_key: str
    cs_keys: tuple[str, ...]
    summary: str
    """The SS ticket's summary (the request, e.g. "Document Survey: Sunrise Solar Co")."""
    status: str
    customer: str
    """The reporter's first name for a greeting (`customer_name`); '' when unknown."""
    organization: str
    labels: tuple[str, ...]


def task_fields(task: OnboardTask) -> dict[str, Any]:
    """The `TaskDetail` fields of ``task``, for a detail that extends it:
    ``ResetDetail(**task_fields(task), week=..., marker=...)``."""
    ss = task.ss
    return {
        "ss_key": ss.key,
        "cs_keys": tuple(task.cs_keys),
        "summary": ss.summary,
        "status": ss.status,
        "customer": customer_name(ss),
        "organization": ss.organization or "",
        "labels": ss.labels,
    }
