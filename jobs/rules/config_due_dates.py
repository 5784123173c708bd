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
from jobs.config import JobConfig
from jobs.model import Evaluation, Finding, Person, Severity, Ticket
from jobs.rules.desk import Desk
from jobs.sections import Field, field_validator

JOB_NAME = "config_due_dates"
RULE_DUE = "config_dates_due"

DATE_FIELDS = (
    ("configuration_date", "Configuration Date"),
    ("qa_due_date", "QA Due Date"),
    ("due_date", "Due Date"),
)
"""(Ticket attribute, label as in Jira), in the order the work happens."""

DEFAULT_ORG_PATTERN = "Request for (?P<org>.+)$"


class ConfigDueDatesConfig(JobConfig):
    """``jobs.config_due_dates`` in the settings."""

    schedule: str = "0 9-17 * * 1-5"
    """Hourly in business hours; the first run of a business day sends the digest."""
    jql: str | None = None
    """CS tasks to check; null = open tasks of the config project (``issue_types``) with a
    Configuration Date, QA Due Date or Due Date on or before the desk's today (date pickers hold
    a day, so the search is exact). Which dates have come is decided in memory."""
    issue_types: list[str] = Field(default_factory=lambda: ["Task"])
    org_pattern: str | None = DEFAULT_ORG_PATTERN
    """Where the organization is in a CS task's title when its Organizations field is empty
    (SOP 002 copies "A New Channel Partner Request for [Org]" into it); group ``org``."""

    @field_validator("org_pattern")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("issue_types")
    @classmethod
    def _some_types(cls, value: list[str]) -> list[str]:
        if not value or any(not name.strip() for name in value):
            raise ValueError("list at least one issue type (e.g. [Task]); names must not be blank")
        return value


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


@dataclass(frozen=True)
class DueDetail:
    """What a ``config_dates_due`` finding carries for the digest and the decision log."""

    today: date
    org: str
    title: str
    status: str
    dates: tuple[DueDate, ...]
    max_business_days_late: int
    assignee: Person | None
    qa_assignee: Person | None
    labels: tuple[str, ...]


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
    config: ConfigDueDatesConfig,
    desk: Desk,
    calendar: BusinessCalendar,
) -> Evaluation:
    today = calendar.local_date(now)
    if not calendar.is_business_day(today):
        return Evaluation(findings=[], examined=len(tasks))
    pattern = re.compile(config.org_pattern, re.IGNORECASE) if config.org_pattern else None
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
                job=JOB_NAME,
                rule=RULE_DUE,
                item=task.key,
                severity=Severity.BREACH if late > 0 else Severity.WARNING,
                summary=", ".join(d.describe(today) for d in due),
                detail=DueDetail(
                    today=today,
                    org=org,
                    title=task.summary,
                    status=task.status,
                    dates=tuple(due),
                    max_business_days_late=late,
                    assignee=task.assignee,
                    qa_assignee=task.qa_assignee,
                    labels=task.labels,
                ),
                episode=today.isoformat(),
                url=task.url or desk.link(task.key),
                priority=desk.priority_installers.of((org, *task.organizations)) is not None,
                realert=None,
            )
        )
    return Evaluation(findings=findings, examined=len(tasks))
