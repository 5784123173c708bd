"""The follow-up on a document the customer is testing on Onboard (SOP 003), and silent closes.

From the "Onboard: Doc ready to test - first email" found on the SS ticket of an outstanding
Onboard task (`jobs.rules.onboard_testing`):

- ``nudge_after`` (3 days) without an answer -> ``second_email``: the nudge is due;
- ``publish_after`` (1 more day) without an answer -> ``publish_on_engine``: one finding per
  linked CS ticket not yet asked to publish;
- the customer answered -> ``customer_replied``: support relays it to the CS ticket (SOP 2.1)
  and the sequence stops.

The latest first email starts the cycle: a new one means a new test round (SOP 2.1.2), and its
comment id is the episode of every step after it. A first email or a nudge sent by hand (a JSM
canned response) is recognised by its text (``first_email_texts``, ``second_email_texts``);
one this desk sent by its reference line.

And from part 1: an SS document request Jira marked fulfilled, with no word from the customer
for ``silent_close_after`` (24 h), is ``close_silent_fulfilled`` when closing is switched on
(``actions.close_silent_fulfilled``), else ``silent_fulfilled`` (listed in Slack, again every
``realert``).

This module is pure: no adapters, no clock, no I/O. Every function takes ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jobs.calendar import BusinessCalendar
from jobs.durations import Duration, DurationField, parse_duration
from jobs.model import Comment, DataProblem, Evaluation, Finding, Severity, Ticket
from jobs.rules.desk import Desk, has_reference, is_customer, reference, references_step
from jobs.rules.onboard_testing import (
    OnboardTask,
    OnboardTestingConfig,
    TaskDetail,
    is_document_request,
    key_order,
    task_fields,
    tasks_for,
)
from jobs.sections import Field

JOB_NAME = "doc_test_followup"

# Rules (the dedup key's second part) in the SOP's words.
RULE_SECOND_EMAIL = "second_email"
RULE_PUBLISH = "publish_on_engine"
RULE_CUSTOMER_REPLIED = "customer_replied"
RULE_SILENT_FULFILLED = "silent_fulfilled"
"""Listed in Slack (closing switched off); a separate rule from closing, so switching closing
on later still closes the tickets that were listed before."""
RULE_CLOSE_FULFILLED = "close_silent_fulfilled"

# Steps named in the reference line of what we send.
STEP_FIRST_EMAIL = "doc-test-first-email"
STEP_SECOND_EMAIL = "doc-test-second-email"
STEP_PUBLISH = "doc-test-publish"

_EXCERPT = 200


class DocTestFollowupConfig(OnboardTestingConfig):
    """``jobs.doc_test_followup`` in the settings."""

    schedule: str = "0 * * * *"
    nudge_after: DurationField = parse_duration("3d")
    """SOP: 'If they don't respond in 3 days': calendar days, even on a business-hours desk
    (``3bd`` counts business days)."""
    publish_after: DurationField = parse_duration("1d")
    """SOP: 'After one more day, comment on the CS ticket'."""
    silent_close_after: DurationField = parse_duration("24h")
    """SOP part 1: 'If you don't hear back from the customer within 24 hours, close the ticket'."""
    fulfilled_statuses: list[str] = Field(default_factory=lambda: ["Resolved"])
    """SS statuses Jira sets when it tells the customer the request is fulfilled."""
    closed_status: str = "Closed"
    fulfilled_lookback: DurationField = parse_duration("30d")
    """Only fulfilled tickets updated this recently are read (keeps the search small)."""
    first_email_texts: list[str] = Field(
        default_factory=lambda: ["ready to test on Onboard", "Doc ready to test - first email"]
    )
    """How a first email sent by hand (JSM canned response) is recognised: its distinctive text."""
    second_email_texts: list[str] = Field(
        default_factory=lambda: [
            "is still waiting for your review on Onboard",
            "Doc ready to test - second email",
        ]
    )
    """How a nudge sent by hand is recognised, so the job does not send it again."""


# -- details ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepliedDetail(TaskDetail):
    """A ``customer_replied`` finding: what the customer said, for the relay alert."""

    first_email_id: str
    first_email_at: datetime
    reply_id: str
    reply_at: datetime
    reply_excerpt: str
    """The reply on one line, at most 200 characters."""
    second_email_at: datetime | None


@dataclass(frozen=True)
class SecondEmailDetail(TaskDetail):
    """A ``second_email`` finding: the nudge to send."""

    first_email_id: str
    first_email_at: datetime
    due_at: datetime
    nudge_after: str
    """The wait as the settings write it (``3d``)."""
    marker: str
    """The nudge's reference line (``Ref: SS-412 · doc-test-second-email · <first email id>``)."""


@dataclass(frozen=True)
class PublishDetail(TaskDetail):
    """A ``publish_on_engine`` finding: the internal comment to post on one CS ticket.
    ``labels`` are the CS ticket's and the SS ticket's (either may carry the snooze label)."""

    first_email_id: str
    first_email_at: datetime
    cs_key: str
    second_email_at: datetime
    due_at: datetime
    publish_after: str
    """The wait as the settings write it (``1d``)."""
    marker: str


@dataclass(frozen=True)
class FulfilledDetail:
    """A ``silent_fulfilled`` or ``close_silent_fulfilled`` finding."""

    ss_key: str
    summary: str
    status: str
    organization: str
    silent_since: datetime
    due_at: datetime
    labels: tuple[str, ...]


# -- the test cycle --------------------------------------------------------------------------


def mentions_any(body: str, texts: Iterable[str]) -> bool:
    normalized = _flat(body)
    return any(_flat(t) and _flat(t) in normalized for t in texts)


@dataclass(frozen=True)
class Cycle:
    """One test cycle on an SS ticket: from a first email to now, as the comments tell it."""

    first_email: Comment
    second_email: Comment | None
    replies: tuple[Comment, ...]
    """Customer comments after the first email, oldest first."""


def find_cycle(ss: Ticket, config: DocTestFollowupConfig) -> Cycle | None:
    """The latest first email starts the cycle: a new one means a new test round (SOP 2.1.2)."""
    ours = [c for c in _by_time(ss.comments) if c.public and not is_customer(c.author, ss)]
    firsts = [
        c
        for c in ours
        if references_step(c.body, ss.key, STEP_FIRST_EMAIL)
        or mentions_any(c.body, config.first_email_texts)
    ]
    if not firsts:
        return None
    first = firsts[-1]
    later = [c for c in _by_time(ss.comments) if c.public and c.created > first.created]
    second_marker = reference(ss.key, STEP_SECOND_EMAIL, first.id)
    second = next(
        (
            c
            for c in later
            if not is_customer(c.author, ss)
            and (
                has_reference(c.body, second_marker)
                or mentions_any(c.body, config.second_email_texts)
            )
        ),
        None,
    )
    replies = tuple(c for c in later if is_customer(c.author, ss))
    return Cycle(first_email=first, second_email=second, replies=replies)


def evaluate_followup(
    on_hold_cs: Sequence[Ticket],
    ss_tickets: Mapping[str, Ticket],
    now: datetime,
    config: DocTestFollowupConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    *,
    close_silent_fulfilled: bool = False,
) -> Evaluation:
    """The next due step of each test cycle, plus fulfilled tickets gone silent.

    ``close_silent_fulfilled``: the desk lets the job close them (``actions`` in the
    settings); otherwise they are listed in Slack every ``realert``.
    """
    tasks, problems = tasks_for(on_hold_cs, ss_tickets, config, desk)
    findings: list[Finding] = []
    for task in tasks:
        if not task.ss.comments_complete:
            problems.append(
                DataProblem(task.ss.key, "comments could not all be read: follow-up skipped")
            )
            continue
        findings.extend(_followup(task, now, config, calendar))
    testing = {task.ss.key for task in tasks}
    fulfilled_statuses = {s.casefold() for s in config.fulfilled_statuses}
    # A ticket still being tested is never "fulfilled", whatever status a desk maps to that.
    fulfilled = [
        t
        for t in ss_tickets.values()
        if t.status.casefold() in fulfilled_statuses and t.key not in testing
    ]
    for ss in sorted(fulfilled, key=lambda t: key_order(t.key)):
        finding = _silent_fulfilled(
            ss, now, config, desk, calendar, problems, close=close_silent_fulfilled
        )
        if finding is not None:
            findings.append(finding)
    return Evaluation(findings, problems, examined=len(tasks) + len(fulfilled))


def _followup(
    task: OnboardTask, now: datetime, config: DocTestFollowupConfig, calendar: BusinessCalendar
) -> list[Finding]:
    ss = task.ss
    cycle = find_cycle(ss, config)
    if cycle is None:
        return []  # support has not sent the first email yet: nothing is due from us
    first = cycle.first_email
    if cycle.replies:
        reply = cycle.replies[-1]
        return [
            Finding(
                job=JOB_NAME,
                rule=RULE_CUSTOMER_REPLIED,
                item=ss.key,
                severity=Severity.WARNING,
                summary=(
                    f"customer replied to 'Doc ready to test': relay it in an internal comment "
                    f"on {', '.join(task.cs_keys)} and move it to ToDo (SOP 2.1)"
                ),
                detail=RepliedDetail(
                    **task_fields(task),
                    first_email_id=first.id,
                    first_email_at=first.created,
                    reply_id=reply.id,
                    reply_at=reply.created,
                    reply_excerpt=_excerpt(reply.body),
                    second_email_at=cycle.second_email.created if cycle.second_email else None,
                ),
                episode=reply.id,
                url=ss.url,
                realert=None,
            )
        ]
    if cycle.second_email is None:
        due = due_after(first.created, config.nudge_after, calendar)
        if now < due:
            return []
        return [
            Finding(
                job=JOB_NAME,
                rule=RULE_SECOND_EMAIL,
                item=ss.key,
                severity=Severity.INFO,
                summary=f"no answer {config.nudge_after} after the first email: send the nudge",
                detail=SecondEmailDetail(
                    **task_fields(task),
                    first_email_id=first.id,
                    first_email_at=first.created,
                    due_at=due,
                    nudge_after=str(config.nudge_after),
                    marker=reference(ss.key, STEP_SECOND_EMAIL, first.id),
                ),
                episode=first.id,
                url=ss.url,
                realert=None,
            )
        ]
    second_at = cycle.second_email.created
    due = due_after(second_at, config.publish_after, calendar)
    if now < due:
        return []
    publish_marker = reference(ss.key, STEP_PUBLISH, first.id)
    return [
        Finding(
            job=JOB_NAME,
            rule=RULE_PUBLISH,
            item=cs.key,
            severity=Severity.INFO,
            summary=f"no answer {config.publish_after} after the nudge on {ss.key}: publish it",
            detail=PublishDetail(
                **(task_fields(task) | {"labels": cs.labels + ss.labels}),
                first_email_id=first.id,
                first_email_at=first.created,
                cs_key=cs.key,
                second_email_at=second_at,
                due_at=due,
                publish_after=str(config.publish_after),
                marker=publish_marker,
            ),
            episode=first.id,
            url=cs.url,
            realert=None,
        )
        for cs in task.cs
        if not any(has_reference(c.body, publish_marker) for c in cs.comments)
    ]


def _silent_fulfilled(
    ss: Ticket,
    now: datetime,
    config: DocTestFollowupConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    problems: list[DataProblem],
    *,
    close: bool,
) -> Finding | None:
    """SOP part 1: Jira told the customer it is fulfilled; 24 h of silence -> close it."""
    # Other requests (e.g. "A New Channel Partner Request for ...") link a CS ticket too,
    # but only SOP 003's document requests close after a day of silence.
    if not is_document_request(ss, config.document_subjects):
        return None
    if not any(link.other_key.startswith(f"{desk.config_project}-") for link in ss.links):
        return None  # not a document request: other SOPs decide when those close
    if not ss.comments_complete:
        problems.append(DataProblem(ss.key, "comments could not all be read: not closed"))
        return None
    public = [c for c in _by_time(ss.comments) if c.public]
    if public and is_customer(public[-1].author, ss):
        return None  # the customer spoke last: someone has to read it, not close it
    candidates = [t for t in (ss.resolved, public[-1].created if public else None) if t]
    if not candidates:
        candidates = [ss.updated] if ss.updated else []
    if not candidates:
        problems.append(DataProblem(ss.key, "fulfilled but no resolution or comment time"))
        return None
    since = max(candidates)
    due = due_after(since, config.silent_close_after, calendar)
    if now < due:
        return None
    return Finding(
        job=JOB_NAME,
        rule=RULE_CLOSE_FULFILLED if close else RULE_SILENT_FULFILLED,
        item=ss.key,
        severity=Severity.INFO,
        summary=f"fulfilled ({ss.status}), customer silent for {config.silent_close_after}",
        detail=FulfilledDetail(
            ss_key=ss.key,
            summary=ss.summary,
            status=ss.status,
            organization=ss.organization or "",
            silent_since=since,
            due_at=due,
            labels=ss.labels,
        ),
        episode=since.isoformat(),
        url=ss.url,
        realert=None if close else list_again_after(config),
    )


# -- helpers ---------------------------------------------------------------------------------


def list_again_after(config: DocTestFollowupConfig) -> timedelta:
    """When fulfilled tickets are only listed in Slack, each is listed again this often
    until closed: the job's ``realert`` (24 h unless it says otherwise)."""
    return config.realert.wall or timedelta(hours=24)


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


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def _by_time(comments: Iterable[Comment]) -> list[Comment]:
    return sorted(comments, key=lambda c: c.created)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"
