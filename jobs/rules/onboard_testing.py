"""Onboard testing (SOP 003, part 2): who is testing a document on Onboard, and what is due.

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

Link semantics. The CS ticket is created from the SS ticket (the "Needs Configuration"
automation, or by hand), and the two are linked. The type and direction of that link differ
between the automation and hand-made links, so a link of any type, in either direction,
counts when its other end is in the service desk project; ``link_types`` narrows it to named
types. One SS ticket may have several CS tickets (one per document): it is one Onboard task.

Who is the customer. Jira only tells customers from agents through ``accountType``, which is
not always available. The rule: a comment is the customer's when its author is the SS
ticket's reporter, or when Jira marks the author as a customer account. Anyone else (agents,
automation, apps) is "us". A customer quoting our email in a reply therefore never counts as
us sending it.

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.durations import Duration
from jobs.model import (
    Comment,
    DataProblem,
    Evaluation,
    Finding,
    Person,
    Severity,
    StatusCategory,
    Ticket,
)

RESET_JOB = "onboard_reset_reminder"
FOLLOWUP_JOB = "doc_test_followup"

# Rules (the dedup key's second part) in the SOP's words.
RULE_RESET = "onboard_reset"
RULE_SECOND_EMAIL = "second_email"
RULE_PUBLISH = "publish_on_engine"
RULE_CUSTOMER_REPLIED = "customer_replied"
RULE_SILENT_FULFILLED = "silent_fulfilled"
"""Listed in Slack (closing switched off); a separate rule from closing, so switching closing
on later still closes the tickets that were listed before."""
RULE_CLOSE_FULFILLED = "close_silent_fulfilled"

# Steps named in the reference line of what we send.
STEP_RESET = "onboard-reset"
STEP_FIRST_EMAIL = "doc-test-first-email"
STEP_SECOND_EMAIL = "doc-test-second-email"
STEP_PUBLISH = "doc-test-publish"

CUSTOMER_ACCOUNT_TYPE = "customer"
_SEPARATOR = " · "
_EXCERPT = 200


# -- markers ---------------------------------------------------------------------------------


def marker(ticket_key: str, step: str, episode: str = "") -> str:
    """The reference line that ends every reply we send: ``Ref: SS-412 · onboard-reset · 2026-W48``.

    It is plain text on its own line, so it survives Jira's email rendering, and its presence
    in a ticket's comments proves the step was sent (see the pipeline's ground-truth check).
    """
    parts = [ticket_key, step, *([episode] if episode else [])]
    return "Ref: " + _SEPARATOR.join(parts)


def _normalize(text: str) -> str:
    return " ".join(text.split()).casefold()


def has_marker(body: str, mark: str) -> bool:
    """Whitespace- and case-tolerant: an editor may reflow or re-case the reference line."""
    return _normalize(mark) in _normalize(body)


def _has_step(body: str, ticket_key: str, step: str) -> bool:
    pattern = rf"ref:\s*{re.escape(ticket_key.casefold())}\s*·\s*{re.escape(step)}(?![\w-])"
    return re.search(pattern, body.casefold()) is not None


def mentions_any(body: str, texts: Iterable[str]) -> bool:
    normalized = _normalize(body)
    return any(_normalize(t) and _normalize(t) in normalized for t in texts)


def iso_week(now: datetime, calendar: BusinessCalendar) -> str:
    """ISO week in the desk's timezone: a Monday 00:30 in New York is already the new week."""
    year, week, _ = now.astimezone(calendar.tz).isocalendar()
    return f"{year}-W{week:02d}"


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardTask:
    """One customer testing on Onboard: an SS ticket and the On Hold CS ticket(s) linked to it."""

    ss: Ticket
    cs: tuple[Ticket, ...]

    @property
    def cs_keys(self) -> list[str]:
        return [t.key for t in self.cs]


@dataclass(frozen=True)
class Customer:
    """Tells the customer's comments from ours on one SS ticket (see the module docstring)."""

    reporter: Person | None

    def wrote(self, comment: Comment) -> bool:
        author = comment.author
        if author is None:
            return False
        if self.reporter is not None and self.reporter.matches(author):
            return True
        # Person.account_type is filled by adapters that read Jira's accountType; until then
        # only the reporter counts as the customer.
        return getattr(author, "account_type", None) == CUSTOMER_ACCOUNT_TYPE


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
    for key in sorted(by_ss, key=_key_order):
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


def _key_order(key: str) -> tuple[str, int]:
    project, _, number = key.partition("-")
    return (project, int(number) if number.isdigit() else 0)


# -- onboard_reset_reminder ------------------------------------------------------------------


@dataclass(frozen=True)
class ResetPolicy:
    service_desk_project: str = "SS"
    link_types: tuple[str, ...] = ()
    document_subjects: tuple[str, ...] = ("Document Survey",)
    reset_weekday: int | None = 0
    """Onboard is reset on Monday nights: 'Release tonight' is only true on that weekday
    (desk time; 0 = Monday). None sends on any day."""


def _tasks_for(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    policy: ResetPolicy | FollowupPolicy,
) -> tuple[list[OnboardTask], list[DataProblem]]:
    return outstanding_tasks(
        on_hold_cs,
        ss_tickets,
        service_desk_project=policy.service_desk_project,
        link_types=policy.link_types,
        document_subjects=policy.document_subjects,
    )


def evaluate_reset(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    now: datetime,
    policy: ResetPolicy,
    calendar: BusinessCalendar,
) -> Evaluation:
    """One finding per outstanding Onboard task, once per ISO week (the episode)."""
    tasks, problems = _tasks_for(on_hold_cs, ss_tickets, policy)
    local = now.astimezone(calendar.tz)
    if policy.reset_weekday is not None and local.weekday() != policy.reset_weekday:
        day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        problems.append(
            DataProblem(
                "run",
                f"it is {day[local.weekday()]} at the desk, and Onboard is reset on "
                f"{day[policy.reset_weekday]} nights: 'Release tonight' not sent",
            )
        )
        return Evaluation([], problems, examined=len(tasks))
    week = iso_week(now, calendar)
    findings = [
        Finding(
            job=RESET_JOB,
            rule=RULE_RESET,
            item=task.ss.key,
            severity=Severity.INFO,
            summary=f"Onboard Reset reminder for {task.ss.key} ({', '.join(task.cs_keys)} On Hold)",
            facts={
                **_ticket_facts(task),
                "week": week,
                "marker": marker(task.ss.key, STEP_RESET, week),
            },
            episode=week,
            url=task.ss.url,
            realert=None,
        )
        for task in tasks
    ]
    return Evaluation(findings, problems, examined=len(tasks))


# -- doc_test_followup -----------------------------------------------------------------------


@dataclass(frozen=True)
class FollowupPolicy:
    service_desk_project: str = "SS"
    config_project: str = "CS"
    link_types: tuple[str, ...] = ()
    document_subjects: tuple[str, ...] = ("Document Survey",)
    nudge_after: Duration = Duration(wall=timedelta(days=3))
    publish_after: Duration = Duration(wall=timedelta(days=1))
    silent_close_after: Duration = Duration(wall=timedelta(hours=24))
    first_email_texts: tuple[str, ...] = ()
    second_email_texts: tuple[str, ...] = ()
    fulfilled_statuses: tuple[str, ...] = ("Resolved",)
    close_silent_fulfilled: bool = False
    list_again_after: timedelta = timedelta(hours=24)
    """When fulfilled tickets are only listed in Slack, list each again this often until closed."""


@dataclass(frozen=True)
class Cycle:
    """One test cycle on an SS ticket: from a first email to now, as the comments tell it."""

    first_email: Comment
    second_email: Comment | None
    replies: tuple[Comment, ...]
    """Customer comments after the first email, oldest first."""


def find_cycle(ss: Ticket, policy: FollowupPolicy) -> Cycle | None:
    """The latest first email starts the cycle: a new one means a new test round (SOP 2.1.2)."""
    customer = Customer(ss.reporter)
    ours = [c for c in _by_time(ss.comments) if c.public and not customer.wrote(c)]
    firsts = [
        c
        for c in ours
        if _has_step(c.body, ss.key, STEP_FIRST_EMAIL)
        or mentions_any(c.body, policy.first_email_texts)
    ]
    if not firsts:
        return None
    first = firsts[-1]
    later = [c for c in _by_time(ss.comments) if c.public and c.created > first.created]
    second_marker = marker(ss.key, STEP_SECOND_EMAIL, first.id)
    second = next(
        (
            c
            for c in later
            if not customer.wrote(c)
            and (
                has_marker(c.body, second_marker) or mentions_any(c.body, policy.second_email_texts)
            )
        ),
        None,
    )
    replies = tuple(c for c in later if customer.wrote(c))
    return Cycle(first_email=first, second_email=second, replies=replies)


def evaluate_followup(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    now: datetime,
    policy: FollowupPolicy,
    calendar: BusinessCalendar,
) -> Evaluation:
    """The next due step of each test cycle, plus fulfilled tickets gone silent."""
    tasks, problems = _tasks_for(on_hold_cs, ss_tickets, policy)
    findings: list[Finding] = []
    for task in tasks:
        if not task.ss.comments_complete:
            problems.append(
                DataProblem(task.ss.key, "comments could not all be read: follow-up skipped")
            )
            continue
        findings.extend(_followup(task, now, policy, calendar))
    testing = {task.ss.key for task in tasks}
    fulfilled_statuses = {s.casefold() for s in policy.fulfilled_statuses}
    # A ticket still being tested is never "fulfilled", whatever status a desk maps to that.
    fulfilled = [
        t
        for t in ss_tickets.values()
        if t.status.casefold() in fulfilled_statuses and t.key not in testing
    ]
    for ss in sorted(fulfilled, key=lambda t: _key_order(t.key)):
        finding = _silent_fulfilled(ss, now, policy, calendar, problems)
        if finding is not None:
            findings.append(finding)
    return Evaluation(findings, problems, examined=len(tasks) + len(fulfilled))


def _followup(
    task: OnboardTask, now: datetime, policy: FollowupPolicy, calendar: BusinessCalendar
) -> list[Finding]:
    ss = task.ss
    cycle = find_cycle(ss, policy)
    if cycle is None:
        return []  # support has not sent the first email yet: nothing is due from us
    first = cycle.first_email
    base = {
        **_ticket_facts(task),
        "first_email_id": first.id,
        "first_email_at": first.created.isoformat(),
    }
    if cycle.replies:
        reply = cycle.replies[-1]
        return [
            Finding(
                job=FOLLOWUP_JOB,
                rule=RULE_CUSTOMER_REPLIED,
                item=ss.key,
                severity=Severity.WARNING,
                summary=(
                    f"customer replied to 'Doc ready to test': relay it in an internal comment "
                    f"on {', '.join(task.cs_keys)} and move it to ToDo (SOP 2.1)"
                ),
                facts={
                    **base,
                    "reply_id": reply.id,
                    "reply_at": reply.created.isoformat(),
                    "reply_excerpt": _excerpt(reply.body),
                    "second_email_at": _iso(cycle.second_email),
                },
                episode=reply.id,
                url=ss.url,
                realert=None,
            )
        ]
    if cycle.second_email is None:
        due = due_after(first.created, policy.nudge_after, calendar)
        if now < due:
            return []
        return [
            Finding(
                job=FOLLOWUP_JOB,
                rule=RULE_SECOND_EMAIL,
                item=ss.key,
                severity=Severity.INFO,
                summary=f"no answer {policy.nudge_after} after the first email: send the nudge",
                facts={
                    **base,
                    "due_at": due.isoformat(),
                    "nudge_after": str(policy.nudge_after),
                    "marker": marker(ss.key, STEP_SECOND_EMAIL, first.id),
                },
                episode=first.id,
                url=ss.url,
                realert=None,
            )
        ]
    due = due_after(cycle.second_email.created, policy.publish_after, calendar)
    if now < due:
        return []
    publish_marker = marker(ss.key, STEP_PUBLISH, first.id)
    return [
        Finding(
            job=FOLLOWUP_JOB,
            rule=RULE_PUBLISH,
            item=cs.key,
            severity=Severity.INFO,
            summary=f"no answer {policy.publish_after} after the nudge on {ss.key}: publish it",
            facts={
                **base,
                "cs_key": cs.key,
                "second_email_at": cycle.second_email.created.isoformat(),
                "due_at": due.isoformat(),
                "publish_after": str(policy.publish_after),
                "marker": publish_marker,
                "labels": list(cs.labels) + list(ss.labels),
            },
            episode=first.id,
            url=cs.url,
            realert=None,
        )
        for cs in task.cs
        if not any(has_marker(c.body, publish_marker) for c in cs.comments)
    ]


def _silent_fulfilled(
    ss: Ticket,
    now: datetime,
    policy: FollowupPolicy,
    calendar: BusinessCalendar,
    problems: list[DataProblem],
) -> Finding | None:
    """SOP part 1: Jira told the customer it is fulfilled; 24 h of silence -> close it."""
    # Other requests (e.g. "A New Channel Partner Request for ...") link a CS ticket too,
    # but only SOP 003's document requests close after a day of silence.
    if not is_document_request(ss, policy.document_subjects):
        return None
    if not any(link.other_key.startswith(f"{policy.config_project}-") for link in ss.links):
        return None  # not a document request: other SOPs decide when those close
    if not ss.comments_complete:
        problems.append(DataProblem(ss.key, "comments could not all be read: not closed"))
        return None
    customer = Customer(ss.reporter)
    public = [c for c in _by_time(ss.comments) if c.public]
    if public and customer.wrote(public[-1]):
        return None  # the customer spoke last: someone has to read it, not close it
    candidates = [t for t in (ss.resolved, public[-1].created if public else None) if t]
    if not candidates:
        candidates = [ss.updated] if ss.updated else []
    if not candidates:
        problems.append(DataProblem(ss.key, "fulfilled but no resolution or comment time"))
        return None
    since = max(candidates)
    due = due_after(since, policy.silent_close_after, calendar)
    if now < due:
        return None
    return Finding(
        job=FOLLOWUP_JOB,
        rule=RULE_CLOSE_FULFILLED if policy.close_silent_fulfilled else RULE_SILENT_FULFILLED,
        item=ss.key,
        severity=Severity.INFO,
        summary=f"fulfilled ({ss.status}), customer silent for {policy.silent_close_after}",
        facts={
            "ss_key": ss.key,
            "summary": ss.summary,
            "status": ss.status,
            "organization": ss.organization or "",
            "silent_since": since.isoformat(),
            "due_at": due.isoformat(),
            "labels": list(ss.labels),
        },
        episode=since.isoformat(),
        url=ss.url,
        realert=None if policy.close_silent_fulfilled else policy.list_again_after,
    )


# -- helpers ---------------------------------------------------------------------------------


def due_after(start: datetime, wait: Duration, calendar: BusinessCalendar) -> datetime:
    """When ``wait`` has passed since ``start``, in desk time.

    The SOP's "3 days", "one more day" and "24 hours" are wall-clock time, whatever the
    desk's hours: `BusinessCalendar.add` would count them as working hours on a business
    calendar ("3d" = 72 working hours, about nine business days). Real elapsed time, so
    across a DST change "24h" is 23 or 25 hours of local clock time. Business days
    (``3bd``) are counted on the desk calendar.
    """
    if wait.is_business:
        return calendar.add(start, wait)
    return (start.astimezone(UTC) + wait.wall).astimezone(calendar.tz)


def _by_time(comments: Iterable[Comment]) -> list[Comment]:
    return sorted(comments, key=lambda c: c.created)


def _iso(comment: Comment | None) -> str | None:
    return comment.created.isoformat() if comment else None


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"


def _ticket_facts(task: OnboardTask) -> dict[str, Any]:
    ss = task.ss
    return {
        "ss_key": ss.key,
        "cs_keys": task.cs_keys,
        "summary": ss.summary,
        "status": ss.status,
        "customer": customer_name(ss),
        "organization": ss.organization or "",
        "labels": list(ss.labels),
    }


__all__ = [
    "Customer",
    "Cycle",
    "FollowupPolicy",
    "OnboardTask",
    "ResetPolicy",
    "due_after",
    "evaluate_followup",
    "evaluate_reset",
    "find_cycle",
    "has_marker",
    "iso_week",
    "marker",
    "outstanding_tasks",
]
