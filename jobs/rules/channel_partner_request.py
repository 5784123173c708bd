"""SOP 002: a channel partner request on the SS queue gets a Customer Success task, then a reply.

    The ticket subject line will read: A New Channel Partner Request for [org] ...
    Create a CS ticket: Project: Customer Success, Issue Type: Task, QA Assignee: Cherish
    Sharma, Parent: Configuration Partner/Product Onboarding, Priority: High, Summary: copy
    the title from the SS ticket, Description: paste the Jotform table ...
    Set the Due Date 3 business days out, the Configuration Date 2 business days out, and
    the QA Due Date 3 business days out.
    Once the configuration work has been completed, the configuration assignee will close
    the CS ticket. ... refer to the CS ticket to confirm that the entire request was
    completed and there are no outstanding issues before replying to the customer ...
    using the quick reply named as "New Channel Req 2".

Decisions, all from ticket data and an injected ``now``:

- *a request* is an open SS ticket whose summary matches ``title_pattern``; its ``org``
  group names the organization (else the ticket's Organizations field).
- *the dates* count business days on the desk calendar from the SS ticket's ``created``
  date **in the desk's timezone**: a request that came in Friday 20:00 local counts from
  that Friday (Friday + 3 is Wednesday), one that came in Saturday counts from Saturday
  (+ 1 is Monday). The form was submitted that day; moving the clock to the next opening
  would give the configuration team a day the SOP does not. A holiday inside the window
  pushes each date one business day further.
- *its CS task* is any ticket of the config project linked to the request. A request
  without one gets `RULE_MISSING` after ``grace`` (time for an agent to create it by
  hand), or `RULE_CREATE` at once when ``actions.create_cs_tasks`` is on.
- *recovering a half-done creation*: the job creates each CS task with the label
  `cs_task_label` (``sla-monitor-SS-500``) in the create call itself, so the task carries
  its request's name from the moment it exists, at no extra call. A request with no link
  but a CS task with its label (a run that crashed between create and link, in any status),
  or with the legacy `CS_TASK_PROPERTY` an earlier version of the job wrote, or with
  exactly one open, unlabelled, unlinked CS task of the same summary created after it (a
  task made by hand), gets `RULE_UNLINKED` instead of a second task.
- *wrong fields*: a linked CS task that is not done, ``grace`` after it was created, is
  checked field by field against the SOP (`check_cs_task`); each difference is named. A
  date counted from the CS task's own created date is also accepted: an agent who creates
  the task the next morning counts "3 business days out" from that morning.
- *reply due*: every linked CS task is done and no *public* comment on the SS ticket
  carries the reply's marker (`reply_marker`; the template puts it on its last line, so an
  agent who sends the canned text by hand also counts). An internal comment never reached
  the customer, so an agent's draft holding the Ref line does not count. `RULE_REPLY_DUE`
  tells support (the SOP asks a person to check the CS ticket for outstanding issues
  first); with ``actions.reply_channel_partner`` `RULE_REPLY` sends the reply itself, once.
- *who gets the reply*: a public comment emails the ticket's reporter, but SOP 002 writes
  to "the customer from the form". The job sends only when the reporter is a Jira customer
  account (``accountType`` "customer"; unknown counts as not) and not the onboarding
  automation account that files requests for the form (`reply_blocker`). Otherwise it
  falls back to `RULE_REPLY_DUE`, naming why, so support sends it from CXone by hand.
- *what the team is told*: each step the job takes ends with a notice line in the alert
  channel (the job's chain; the pipeline posts it, and a later run if that post failed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from jobs.calendar import BusinessCalendar
from jobs.config import ActionsConfig, JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.model import (
    DataProblem,
    Evaluation,
    Finding,
    Person,
    Severity,
    StatusCategory,
    Ticket,
)
from jobs.render.words import human_duration
from jobs.rules.desk import CUSTOMER_ACCOUNT_TYPE, Desk, reference
from jobs.rules.onboard_testing import customer_name
from jobs.sections import Field, field_validator

JOB_NAME = "channel_partner_request"

RULE_MISSING = "cs_task_missing"
"""No linked CS task ``grace`` after the request came in: tell support (again every ``realert``)."""
RULE_CREATE = "cs_task_create"
"""No linked CS task and ``actions.create_cs_tasks`` is on: create it and link it."""
RULE_UNLINKED = "cs_task_unlinked"
"""A CS task for the request exists (its label, the legacy property or the same summary) but
is not linked to it."""
RULE_FIELDS = "cs_task_fields"
"""The linked CS task has missing or wrong fields (the finding's item is the CS key)."""
RULE_REPLY_DUE = "customer_reply_due"
"""The CS work is done and the customer has not been told: tell support."""
RULE_REPLY = "customer_reply"
"""The CS work is done: send "New Channel Req 2" (``actions.reply_channel_partner``), once."""

CS_TASK_LABEL_PREFIX = "sla-monitor-"
"""Start of the label every CS task the job creates carries: ``sla-monitor-SS-500``."""
CS_TASK_PROPERTY = "sla-monitor.cs-task"
"""Legacy: issue property on the SS ticket, ``{"key": "CS-12"}``, that earlier versions of the
job wrote after creating the CS task (one call more per task). Still honoured, because it is
read in the same search as the requests; no longer written."""
REPLY_TAG = "new-channel-req-2"
REPLY_TEMPLATE = "New Channel Req 2"

DEFAULT_TITLE_PATTERN = "A New Channel Partner Request for (?P<org>.+)"

FIELD_DUE = "duedate"
FIELD_CONFIGURATION = "Configuration Date"
FIELD_QA_DUE = "QA Due Date"
DATE_LABELS = {
    FIELD_DUE: "Due Date",
    FIELD_CONFIGURATION: "Configuration Date",
    FIELD_QA_DUE: "QA Due Date",
}


_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")


def cs_task_label(ss_key: str) -> str:
    """The label that names the request a CS task was created for: ``sla-monitor-SS-500``.

    Jira refuses a label with a space (and JQL would need it quoted): an issue key has none,
    so anything else is refused here rather than sent.
    """
    if not _ISSUE_KEY.fullmatch(ss_key):
        raise ValueError(
            f"{ss_key!r} is not a Jira issue key; cannot name a CS task label after it"
        )
    return f"{CS_TASK_LABEL_PREFIX}{ss_key}"


def reply_marker(ss_key: str) -> str:
    """The last line of the "New Channel Req 2" reply, proof on the ticket that it was sent:
    ``Ref: SS-500 · new-channel-req-2``."""
    return reference(ss_key, REPLY_TAG)


# -- inputs --------------------------------------------------------------------------------


class ChannelPartnerRequestConfig(JobConfig):
    """``jobs.channel_partner_request`` in the settings."""

    schedule: str = "*/15 * * * *"
    title_pattern: str = DEFAULT_TITLE_PATTERN
    """SOP 002: 'The ticket subject line will read: A New Channel Partner Request for [org]'.
    A regular expression (case-insensitive); its ``org`` group names the organization."""
    summary_search: str = "New Channel Partner Request"
    """Words every request's summary contains: the JQL text search that narrows the read."""
    grace: DurationField = parse_duration("1h")
    """Time for an agent to create (or fix) the CS task by hand before support is alerted."""
    onboarding_epic: str = "CS-1"
    """Key of the 'Configuration Partner/Product Onboarding' epic: the CS task's parent."""
    cs_issue_type: str = "Task"
    cs_priority: str = "High"
    link_type: str = "Relates"
    due_business_days: int = Field(default=3, ge=0, le=60)
    configuration_business_days: int = Field(default=2, ge=0, le=60)
    qa_business_days: int = Field(default=3, ge=0, le=60)

    @field_validator("title_pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("onboarding_epic")
    @classmethod
    def _issue_key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]+-\d+", value):
            raise ValueError(f"{value!r} is not an issue key (e.g. CS-1)")
        return value

    @field_validator("grace")
    @classmethod
    def _wall_clock(cls, value: Any) -> Any:
        if value.is_business:
            raise ValueError("grace is a time (e.g. 1h), not business days")
        return value

    @field_validator("summary_search")
    @classmethod
    def _words(cls, value: str) -> str:
        if not re.search(r"\w", value):
            raise ValueError("summary_search needs at least one word")
        return value


@dataclass(frozen=True)
class RequestPeople:
    """The people SOP 002 names, from ``settings.people``."""

    qa_assignee: Person | None = None
    """``qa_assignee``: every CS task's QA Assignee."""
    onboarding_reporter: Person | None = None
    """``onboarding_reporter``: the automation account that files tickets for forms, never the
    customer to email."""


@dataclass(frozen=True)
class ChannelPartnerData:
    """What ``fetch`` read.

    ``requests``: open SS tickets whose summary looks like a request (all comments read).
    ``cs_tasks``: open CS tasks by key: those linked to a request, and those whose summary
    looks like a request (candidates for a task created but never linked).
    """

    requests: Sequence[Ticket]
    cs_tasks: Mapping[str, Ticket]
    labels_searched: Sequence[str] = ()
    """The trace labels ``cs_tasks`` were searched for (any status): a task carrying one is
    among them."""


@dataclass(frozen=True)
class ExpectedDates:
    due: date
    configuration: date
    qa_due: date

    def by_field(self) -> dict[str, date]:
        return {
            FIELD_DUE: self.due,
            FIELD_CONFIGURATION: self.configuration,
            FIELD_QA_DUE: self.qa_due,
        }


# -- what the findings carry ------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDetail:
    """What every finding of the job carries about its request (the SS ticket)."""

    ss_key: str
    org: str
    title: str
    created: datetime
    created_local_date: date
    """The day the business days are counted from (the desk's date of ``created``)."""
    labels: tuple[str, ...]
    """The snooze label keeps the job's hands off the request (and, for a CS task finding,
    off the task: the labels of both)."""


@dataclass(frozen=True)
class MissingDetail(RequestDetail):
    """``cs_task_missing``: the dates to set on the task an agent creates."""

    expected: ExpectedDates
    age: timedelta


@dataclass(frozen=True)
class CreateDetail(RequestDetail):
    """``cs_task_create``: the task's dates."""

    expected: ExpectedDates


@dataclass(frozen=True)
class UnlinkedDetail(RequestDetail):
    """``cs_task_unlinked``: a CS task made for the request but not linked to it."""

    cs_key: str | None
    """The task to link; None when it is not certain which (support links it by hand)."""
    candidates: tuple[str, ...]
    source: str
    """How it was found: ``label``, ``property`` or ``summary``."""


@dataclass(frozen=True)
class FieldsDetail(RequestDetail):
    """``cs_task_fields`` (the finding's item is the CS task): what differs from SOP 002."""

    cs_key: str
    problems: tuple[str, ...]
    expected: ExpectedDates


@dataclass(frozen=True)
class ReplyDetail(RequestDetail):
    """``customer_reply``: the CS work is done; the "New Channel Req 2" reply to send."""

    cs_keys: tuple[str, ...]
    marker: str
    customer: str
    greeting_name: str
    """"Alex" for "Hi Alex,"; empty when only an email address is known ("Hi there,")."""


@dataclass(frozen=True)
class ReplyDueDetail(ReplyDetail):
    """``customer_reply_due``: the same, for support to send; with why the job cannot."""

    reply_by_hand: str | None


# -- pure helpers ----------------------------------------------------------------------------


def expected_dates(
    created: datetime, config: ChannelPartnerRequestConfig, calendar: BusinessCalendar
) -> ExpectedDates:
    """The SOP's dates, counted in business days from `created`'s local date (see module doc)."""
    start = calendar.local_date(created)
    return ExpectedDates(
        due=calendar.add_business_days(start, config.due_business_days),
        configuration=calendar.add_business_days(start, config.configuration_business_days),
        qa_due=calendar.add_business_days(start, config.qa_business_days),
    )


def request_org(ticket: Ticket, pattern: re.Pattern[str]) -> str | None:
    """The organization named in the title, else the Organizations field; None = not a request."""
    match = pattern.search(ticket.summary.strip())
    if match is None:
        return None
    named = match.groupdict().get("org")
    org = (named or "").strip() or ticket.organization or ""
    return org


def compile_title_pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


def cs_task_fields(
    summary: str,
    description: str,
    dates: ExpectedDates,
    config: ChannelPartnerRequestConfig,
    desk: Desk,
    people: RequestPeople,
    *,
    request_key: str,
) -> dict[str, Any]:
    """The CS task the SOP describes, as field names -> values (JSON-safe, for the create call).

    User and parent values are given as plain identifiers (account id, issue key); the
    Jira adapter turns names into field ids and values into the shapes Jira wants. The
    label `cs_task_label` is set in the same call: a run that dies before linking leaves a
    task the next run can find by it.
    """
    fields: dict[str, Any] = {
        "project": desk.config_project,
        "issuetype": config.cs_issue_type,
        "priority": config.cs_priority,
        "summary": summary.strip(),
        "description": description,
        "parent": config.onboarding_epic,
        FIELD_DUE: dates.due.isoformat(),
        FIELD_CONFIGURATION: dates.configuration.isoformat(),
        FIELD_QA_DUE: dates.qa_due.isoformat(),
        "labels": [cs_task_label(request_key)],
    }
    qa = people.qa_assignee
    if qa is not None and (qa.account_id or qa.email):
        fields["QA Assignee"] = qa.account_id or qa.email
    return fields


def _same_person(expected: Person, actual: Person | None) -> bool:
    if actual is None:
        return False
    if expected.matches(actual):
        return True
    # Only when no stable identifier can decide: Cloud may hide emails, fixtures omit ids.
    comparable = (expected.account_id and actual.account_id) or (expected.email and actual.email)
    if comparable:
        return False
    return bool(
        expected.display_name
        and actual.display_name
        and expected.display_name.casefold() == actual.display_name.casefold()
    )


def _person_name(person: Person | None) -> str:
    if person is None:
        return "nobody"
    return person.display_name or person.email or person.account_id or "someone"


def reply_blocker(reporter: Person | None, onboarding_reporter: Person | None) -> str | None:
    """Why a public comment would not reach the customer who sent the form; None = it would.

    Jira emails a public comment to the reporter, whoever that is: the onboarding automation
    account or an agent would get "Hi EverBright, ..." and the customer nothing.
    """
    if reporter is None:
        return "the ticket has no reporter to email"
    if onboarding_reporter is not None and onboarding_reporter.matches(reporter):
        return f"the reporter is the onboarding automation account ({_person_name(reporter)})"
    if reporter.account_type is None:
        return f"Jira did not say whether the reporter ({_person_name(reporter)}) is a customer"
    if reporter.account_type != CUSTOMER_ACCOUNT_TYPE:
        return (
            f"the reporter ({_person_name(reporter)}) is not a customer account "
            f"(Jira account type {reporter.account_type!r})"
        )
    return None


def _person_id(person: Person | None) -> str:
    if person is None:
        return "nobody"
    if person.account_id:
        return f"account {person.account_id}"
    return person.email or "no account"


def check_cs_task(
    task: Ticket,
    request: Ticket,
    config: ChannelPartnerRequestConfig,
    desk: Desk,
    people: RequestPeople,
    calendar: BusinessCalendar,
) -> list[str]:
    """Every way `task` differs from the CS task SOP 002 describes, one phrase each."""
    problems: list[str] = []
    project, issue_type, priority = desk.config_project, config.cs_issue_type, config.cs_priority
    if task.project and task.project != project:
        problems.append(f"Project is {task.project}, expected {project}")
    if (task.issue_type or "").casefold() != issue_type.casefold():
        problems.append(f"Issue Type is {task.issue_type or 'missing'}, expected {issue_type}")
    if (task.priority or "").casefold() != priority.casefold():
        problems.append(f"Priority is {task.priority or 'missing'}, expected {priority}")
    if _norm_summary(task.summary) != _norm_summary(request.summary):
        problems.append(f"Summary differs from {request.key}'s title")
    if not task.description.strip():
        problems.append(f"Description is empty (paste the Jotform table from {request.key})")
    epic = config.onboarding_epic
    if task.parent_key is None:
        problems.append(f"Parent is missing, expected {epic}")
    elif task.parent_key != epic:
        problems.append(f"Parent is {task.parent_key}, expected {epic}")
    qa = people.qa_assignee
    if qa is not None and not _same_person(qa, task.qa_assignee):
        if task.qa_assignee is None:
            problems.append(f"QA Assignee is missing, expected {_person_name(qa)}")
        else:
            actual, wanted = _person_name(task.qa_assignee), _person_name(qa)
            if actual.casefold() == wanted.casefold():
                # Same name, another account: say which, or the message reads as nonsense.
                actual += f" ({_person_id(task.qa_assignee)})"
                wanted += f" ({_person_id(qa)})"
            problems.append(f"QA Assignee is {actual}, expected {wanted}")
    from_request = expected_dates(request.created, config, calendar).by_field()
    from_task = expected_dates(task.created, config, calendar).by_field()
    dates = {
        FIELD_DUE: task.due_date,
        FIELD_CONFIGURATION: task.configuration_date,
        FIELD_QA_DUE: task.qa_due_date,
    }
    for name, value in dates.items():
        label = DATE_LABELS[name]
        if value is None:
            problems.append(f"{label} is missing, expected {from_request[name].isoformat()}")
        elif value not in (from_request[name], from_task[name]):
            problems.append(
                f"{label} is {value.isoformat()}, expected {from_request[name].isoformat()}"
            )
    return problems


# -- links, labels, properties and orphans -------------------------------------------------


def _cs_links(ticket: Ticket, project: str) -> list[Any]:
    prefix = f"{project}-"
    return [link for link in ticket.links if link.other_key.startswith(prefix)]


def has_cs_link(ticket: Ticket, config_project: str) -> bool:
    """Whether the request is linked to any ticket of the config project (its CS task)."""
    return bool(_cs_links(ticket, config_project))


def _property_key(ticket: Ticket) -> str | None:
    value = ticket.properties.get(CS_TASK_PROPERTY)
    if isinstance(value, Mapping):
        key = value.get("key")
        return str(key) if key else None
    return None


def _norm_summary(text: str) -> str:
    return " ".join(text.split()).casefold()


def _labelled(cs_tasks: Mapping[str, Ticket]) -> dict[str, list[Ticket]]:
    """CS tasks by the request their `cs_task_label` names (casefolded label), oldest first."""
    found: dict[str, list[Ticket]] = {}
    for task in sorted(cs_tasks.values(), key=lambda t: (t.created, t.key)):
        for label in task.labels:
            if label.casefold().startswith(CS_TASK_LABEL_PREFIX):
                found.setdefault(label.casefold(), []).append(task)
    return found


def _labelled_for(request: Ticket, labelled: Mapping[str, list[Ticket]]) -> list[Ticket]:
    return labelled.get(cs_task_label(request.key).casefold(), [])


def _orphans(
    cs_tasks: Mapping[str, Ticket], request_projects: set[str], claimed: set[str]
) -> dict[str, list[Ticket]]:
    """Open CS tasks linked to no request, recorded on none and labelled for none (those belong
    to the request they name), by their normalized summary: candidates for a hand-made task."""
    prefixes = tuple(f"{p}-" for p in request_projects)
    found: dict[str, list[Ticket]] = {}
    for task in cs_tasks.values():
        if task.key in claimed or task.is_done:
            continue
        if any(label.casefold().startswith(CS_TASK_LABEL_PREFIX) for label in task.labels):
            continue
        if prefixes and any(link.other_key.startswith(prefixes) for link in task.links):
            continue
        found.setdefault(_norm_summary(task.summary), []).append(task)
    return found


# -- the rule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """One request as the rule sees it, and how to make a finding about it."""

    ticket: Ticket
    org: str
    dates: ExpectedDates
    local_date: date
    url: str | None
    priority: bool = False

    def about(self) -> dict[str, Any]:
        """The `RequestDetail` fields of the request."""
        return {
            "ss_key": self.ticket.key,
            "org": self.org,
            "title": self.ticket.summary,
            "created": self.ticket.created,
            "created_local_date": self.local_date,
            "labels": self.ticket.labels,
        }

    def finding(
        self,
        rule: str,
        severity: Severity,
        summary: str,
        detail: RequestDetail,
        *,
        episode: str = "",
        realert: timedelta | None,
    ) -> Finding:
        return Finding(
            job=JOB_NAME,
            rule=rule,
            item=self.ticket.key,
            severity=severity,
            summary=summary,
            detail=detail,
            episode=episode,
            url=self.url,
            priority=self.priority,
            realert=realert,
        )


def evaluate_requests(
    data: ChannelPartnerData,
    now: datetime,
    config: ChannelPartnerRequestConfig,
    desk: Desk,
    calendar: BusinessCalendar,
    *,
    people: RequestPeople,
    actions: ActionsConfig,
) -> Evaluation:
    """``actions.create_cs_tasks`` and ``actions.reply_channel_partner`` decide whether the job
    creates the task and sends the reply, or support is told to."""
    pattern = compile_title_pattern(config.title_pattern)
    findings: list[Finding] = []
    problems: list[DataProblem] = []
    requests: list[_Request] = []
    for ticket in data.requests:
        org = request_org(ticket, pattern)
        if org is None:
            continue  # the text search is fuzzy; the title pattern decides
        dates = expected_dates(ticket.created, config, calendar)
        priority = bool(desk.priority_installers.of((org, *ticket.organizations)))
        url = ticket.url or desk.link(ticket.key)
        local = calendar.local_date(ticket.created)
        requests.append(_Request(ticket, org, dates, local, url, priority))

    labelled = _labelled(data.cs_tasks)
    claimed = {key for r in requests if (key := _property_key(r.ticket))}
    orphans = _orphans(data.cs_tasks, {r.ticket.key.split("-")[0] for r in requests}, claimed)
    waiting: dict[str, int] = {}
    for request in requests:
        if (
            not _cs_links(request.ticket, desk.config_project)
            and not _labelled_for(request.ticket, labelled)
            and not _property_key(request.ticket)
        ):
            summary = _norm_summary(request.ticket.summary)
            waiting[summary] = waiting.get(summary, 0) + 1

    realert = config.realert.wall
    for request in requests:
        links = _cs_links(request.ticket, desk.config_project)
        if not links:
            found = _without_task(
                request, now, config, calendar, labelled, orphans, waiting, actions=actions
            )
            findings.extend([found] if found else [])
            continue
        open_keys = [
            link.other_key
            for link in links
            if link.other_status_category is not StatusCategory.DONE
        ]
        for key in open_keys:
            task = data.cs_tasks.get(key)
            if task is None:
                problems.append(
                    DataProblem(
                        request.ticket.key, f"linked CS task {key} was not found by the CS search"
                    )
                )
                continue
            wrong = check_cs_task(task, request.ticket, config, desk, people, calendar)
            if wrong and calendar.elapsed(task.created, now) >= config.grace.wall:
                findings.append(_fields_finding(request, task, wrong, desk, realert))
        if not open_keys:
            reply = _reply(
                request,
                sorted({link.other_key for link in links}),
                problems,
                realert,
                people=people,
                actions=actions,
            )
            findings.extend([reply] if reply else [])
    return Evaluation(findings=findings, problems=problems, examined=len(requests))


def _fields_finding(
    request: _Request, task: Ticket, wrong: list[str], desk: Desk, realert: timedelta
) -> Finding:
    return Finding(
        job=JOB_NAME,
        rule=RULE_FIELDS,
        item=task.key,
        severity=Severity.WARNING,
        summary=f"for {request.ticket.key} ({request.org}): " + "; ".join(wrong),
        detail=FieldsDetail(
            **(request.about() | {"labels": tuple(sorted({*request.ticket.labels, *task.labels}))}),
            cs_key=task.key,
            problems=tuple(wrong),
            expected=request.dates,
        ),
        url=task.url or desk.link(task.key),
        priority=request.priority,
        realert=realert,
    )


def _reply(
    request: _Request,
    done_keys: list[str],
    problems: list[DataProblem],
    realert: timedelta,
    *,
    people: RequestPeople,
    actions: ActionsConfig,
) -> Finding | None:
    """Every linked CS task is done: the customer is told once (marker on the SS ticket)."""
    ticket = request.ticket
    if not ticket.comments_complete:
        problems.append(
            DataProblem(
                ticket.key, "comments were truncated; cannot tell whether the reply was sent"
            )
        )
        return None
    marker = reply_marker(ticket.key)
    # Only what the customer received counts: an internal draft with the Ref line is not it.
    if any(comment.public and marker in comment.body for comment in ticket.comments):
        return None
    reply: dict[str, Any] = {
        "cs_keys": tuple(done_keys),
        "marker": marker,
        "customer": _person_name(ticket.reporter),
        # "Hi Alex," — never "Hi alex@greenlight.example,": Cloud customers' display names are
        # often their email address ('' then, and the reply says "Hi there,").
        "greeting_name": customer_name(ticket),
    }
    done = ", ".join(done_keys)
    blocker = reply_blocker(ticket.reporter, people.onboarding_reporter)
    if actions.reply_channel_partner and blocker is None:
        return request.finding(
            RULE_REPLY,
            Severity.INFO,
            f'{done} done: replying "{REPLY_TEMPLATE}" to the customer',
            ReplyDetail(**request.about(), **reply),
            realert=None,
        )
    summary = f'{done} done: check it for outstanding issues, then reply "{REPLY_TEMPLATE}"'
    if blocker is not None:
        # SOP 002: the reply is an outbound CXone email to the customer named on the form.
        summary += f" from CXone to the customer on the form ({blocker})"
    return request.finding(
        RULE_REPLY_DUE,
        Severity.INFO,
        summary,
        ReplyDueDetail(**request.about(), **reply, reply_by_hand=blocker),
        realert=realert,
    )


def _without_task(
    request: _Request,
    now: datetime,
    config: ChannelPartnerRequestConfig,
    calendar: BusinessCalendar,
    labelled: Mapping[str, list[Ticket]],
    orphans: Mapping[str, list[Ticket]],
    waiting: Mapping[str, int],
    *,
    actions: ActionsConfig,
) -> Finding | None:
    """A request with no linked CS task: recover a half-done creation, create one, or alert."""
    ticket, dates = request.ticket, request.dates
    realert = config.realert.wall
    # The label names this request: whatever the task's status or title now, it is the one
    # the job created for it. Two would mean an earlier bug: link the oldest, name them all.
    with_label = [task.key for task in _labelled_for(ticket, labelled)]
    if with_label:
        return request.finding(
            RULE_UNLINKED,
            Severity.WARNING,
            f"{', '.join(with_label)} {'was' if len(with_label) == 1 else 'were'} created for "
            "this request but not linked to it",
            UnlinkedDetail(
                **request.about(),
                cs_key=with_label[0],
                candidates=tuple(with_label),
                source="label",
            ),
            episode=with_label[0],
            realert=realert,
        )
    from_property = _property_key(ticket)
    if from_property is not None:
        return request.finding(
            RULE_UNLINKED,
            Severity.WARNING,
            f"{from_property} was created for this request but is not linked to it",
            UnlinkedDetail(
                **request.about(),
                cs_key=from_property,
                candidates=(from_property,),
                source="property",
            ),
            episode=from_property,
            realert=realert,
        )
    summary = _norm_summary(ticket.summary)
    # A task made for this request cannot be older than it; a day of slack for clock skew.
    candidates = sorted(
        task.key
        for task in orphans.get(summary, [])
        if task.created >= ticket.created - timedelta(days=1)
    )
    if candidates:
        # Linked automatically only when unambiguous: one such task, one such request.
        certain = len(candidates) == 1 and waiting.get(summary, 0) == 1
        return request.finding(
            RULE_UNLINKED,
            Severity.WARNING,
            f"{', '.join(candidates)} looks like the CS task for this request but is not linked",
            UnlinkedDetail(
                **request.about(),
                cs_key=candidates[0] if certain else None,
                candidates=tuple(candidates),
                source="summary",
            ),
            episode=",".join(candidates),
            realert=realert,
        )
    if actions.create_cs_tasks:
        return request.finding(
            RULE_CREATE,
            Severity.INFO,
            f"creating its CS task (due {dates.due.isoformat()})",
            CreateDetail(**request.about(), expected=dates),
            realert=realert,
        )
    age = calendar.elapsed(ticket.created, now)
    if age < config.grace.wall:
        return None
    return request.finding(
        RULE_MISSING,
        Severity.WARNING,
        f"no CS task linked after {human_duration(age)} (create it: due {dates.due.isoformat()}, "
        f"configuration {dates.configuration.isoformat()}, QA {dates.qa_due.isoformat()})",
        MissingDetail(**request.about(), expected=dates, age=age),
        realert=realert,
    )
