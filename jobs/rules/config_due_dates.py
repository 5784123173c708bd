"""Configuration work on Customer Success tasks that is due today or late.

SOP 002 sets three dates on every configuration (CS) task: the Configuration Date (the
configuration assignee's), the QA Due Date (the QA assignee's) and the Due Date. SOP 004
asks that these tickets "be completed as soon as possible". This rule lists every CS task
that is not done and has one of those dates today or in the past, so the people who own
the dates hear about it once per business day.

Decisions, all from ticket data and an injected ``now``:

- *today* is the desk's local date at ``now``. On a day the desk is closed (weekend,
  holiday) nothing is reported: nobody is there to act, and the next business day's
  digest lists everything anyway.
- *due* when a date is on or before today; *business days late* counts the desk's
  business days after the date up to today (`BusinessCalendar.business_days_between`):
  due Wednesday, today Friday is 2 late; a date on a Saturday is 1 late on Monday.
- one finding per task, its episode today's date, so each task is listed at most once a
  business day (`realert` is None within the episode; a new day is a new episode).
- the organization comes from the Organizations field, else from the task's summary
  (SOP 002: "A New Channel Partner Request for [Org]" is copied into the CS task).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jobs.calendar import BusinessCalendar
from jobs.model import Evaluation, Finding, Person, Severity, Ticket
from jobs.rules.desk import priority_installers

JOB_NAME = "config_due_dates"
RULE_DUE = "config_dates_due"

DATE_FIELDS = (
    ("configuration_date", "Configuration Date"),
    ("qa_due_date", "QA Due Date"),
    ("due_date", "Due Date"),
)
"""(Ticket attribute, label as in Jira), in the order the work happens."""

DEFAULT_ORG_PATTERN = "Request for (?P<org>.+)$"


@dataclass(frozen=True)
class DueDateRules:
    org_pattern: str | None = DEFAULT_ORG_PATTERN
    priority_installers: tuple[str, ...] = ()
    """SOP 004: their work 'takes precedence': marked in the digest."""
    job: str = JOB_NAME


@dataclass(frozen=True)
class DueDate:
    label: str
    day: date
    business_days_late: int

    def describe(self, today: date) -> str:
        if self.day == today:
            return f"{self.label} today"
        # Today is a business day, so a past date is always at least 1 business day late.
        late = self.business_days_late
        unit = "business day" if late == 1 else "business days"
        return f"{self.label} {self.day.isoformat()} ({late} {unit} late)"


def person_facts(person: Person | None) -> dict[str, str | None] | None:
    if person is None:
        return None
    return {
        "name": person.display_name,
        "email": person.email,
        "account_id": person.account_id,
    }


def task_org(task: Ticket, pattern: re.Pattern[str] | None) -> str:
    if task.organization:
        return task.organization
    if pattern is not None:
        match = pattern.search(task.summary.strip())
        if match is not None:
            return (match.groupdict().get("org") or "").strip()
    return ""


def due_dates(task: Ticket, today: date, calendar: BusinessCalendar) -> list[DueDate]:
    """The task's dates that are today or past, with how many business days late each is."""
    found = []
    for attribute, label in DATE_FIELDS:
        day: date | None = getattr(task, attribute)
        if day is not None and day <= today:
            found.append(DueDate(label, day, calendar.business_days_between(day, today)))
    return found


def evaluate_due_dates(
    tasks: Sequence[Ticket],
    now: datetime,
    rules: DueDateRules,
    calendar: BusinessCalendar,
) -> Evaluation:
    today = calendar.local_date(now)
    if not calendar.is_business_day(today):
        return Evaluation(findings=[], examined=len(tasks))
    pattern = re.compile(rules.org_pattern, re.IGNORECASE) if rules.org_pattern else None
    findings: list[Finding] = []
    for task in tasks:
        if task.is_done:
            continue  # the search asks for open tasks; a stale index may still return one
        due = due_dates(task, today, calendar)
        if not due:
            continue
        late = max(d.business_days_late for d in due)
        org = task_org(task, pattern)
        findings.append(
            Finding(
                job=rules.job,
                rule=RULE_DUE,
                item=task.key,
                severity=Severity.BREACH if late > 0 else Severity.WARNING,
                summary=", ".join(d.describe(today) for d in due),
                facts={
                    "today": today.isoformat(),
                    "org": org,
                    "title": task.summary,
                    "status": task.status,
                    "dates": [
                        {
                            "field": d.label,
                            "date": d.day.isoformat(),
                            "business_days_late": d.business_days_late,
                        }
                        for d in due
                    ],
                    "max_business_days_late": late,
                    "assignee": person_facts(task.assignee),
                    "qa_assignee": person_facts(task.qa_assignee),
                    "labels": list(task.labels),
                },
                episode=today.isoformat(),
                url=task.url,
                priority=bool(
                    priority_installers(rules.priority_installers).of((org, *task.organizations))
                ),
                realert=None,
            )
        )
    return Evaluation(findings=findings, examined=len(tasks))
