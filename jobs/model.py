"""Typed records that cross the boundary between adapters, rules and the pipeline.

Adapters turn vendor JSON into these; rules read only these; the pipeline turns
`Finding`s into `Action`s. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgent a finding is; ordered from least to most urgent."""

    INFO = "info"
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class StatusCategory(StrEnum):
    """Jira's three status categories; rules test these, never status names."""

    NEW = "new"
    IN_PROGRESS = "indeterminate"
    DONE = "done"


@dataclass(frozen=True)
class Person:
    account_id: str | None
    display_name: str | None = None
    email: str | None = None
    account_type: str | None = None
    """Jira Cloud's accountType: 'atlassian' (staff), 'customer' (portal), 'app' (automation)."""

    def matches(self, other: Person | None) -> bool:
        """Same person if any stable identifier agrees (Cloud hides emails from some callers)."""
        if other is None:
            return False
        if self.account_id and other.account_id:
            return self.account_id == other.account_id
        if self.email and other.email:
            return self.email.casefold() == other.email.casefold()
        return False


@dataclass(frozen=True)
class Comment:
    id: str
    author: Person | None
    body: str
    """Plain text; Jira Cloud mentions read ``[~accountid:ID]`` whatever the API version."""
    created: datetime
    updated: datetime | None = None
    public: bool = True
    """Service Management visibility: False for internal notes (never emailed to the customer)."""


@dataclass(frozen=True)
class IssueLink:
    type_name: str
    direction: str
    """'inward' or 'outward', as seen from the ticket that holds the link."""
    relation: str
    """The phrase for this direction, e.g. 'duplicates' or 'is duplicated by'."""
    other_key: str
    other_summary: str | None = None
    other_status: str | None = None
    other_status_category: StatusCategory | None = None
    other_priority: str | None = None


@dataclass(frozen=True)
class SlaCycle:
    """One cycle of a Jira Service Management SLA field (``ongoingCycle`` / ``completedCycles``)."""

    start: datetime | None
    breached: bool
    paused: bool = False
    within_calendar_hours: bool = True
    goal: timedelta | None = None
    elapsed: timedelta | None = None
    remaining: timedelta | None = None
    breach_time: datetime | None = None
    stop: datetime | None = None


@dataclass(frozen=True)
class SlaField:
    name: str
    ongoing: SlaCycle | None = None
    completed: tuple[SlaCycle, ...] = ()


@dataclass(frozen=True)
class FieldChange:
    """One field's change in a ticket's history (Jira's changelog, ``expand=changelog``).

    Values are the display strings Jira gives (``fromString``/``toString``; for people the
    display name), with the raw ids beside them where Jira has one (``from``/``to``: an
    account id for a person). Reports use these to see a ticket as it stood at an instant.
    """

    at: datetime
    field: str
    """Jira's field name in the changelog: 'assignee', 'status', 'priority', 'labels'..."""
    from_value: str | None = None
    to_value: str | None = None
    from_id: str | None = None
    to_id: str | None = None
    author: Person | None = None


@dataclass(frozen=True)
class Ticket:
    key: str
    summary: str
    status: str
    status_category: StatusCategory
    created: datetime
    project: str = ""
    id: str = ""
    issue_type: str | None = None
    description: str = ""
    updated: datetime | None = None
    resolved: datetime | None = None
    assignee: Person | None = None
    reporter: Person | None = None
    priority: str | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    request_type: str | None = None
    channel: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()
    comments_total: int = 0
    """Comments the ticket has; more than ``len(comments)`` means the search truncated them."""
    links: tuple[IssueLink, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    """Field changes, oldest first; empty unless the search asked for the changelog."""
    first_response_sla: SlaField | None = None
    due_date: date | None = None
    configuration_date: date | None = None
    qa_due_date: date | None = None
    qa_assignee: Person | None = None
    parent_key: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status_category is StatusCategory.DONE

    @property
    def comments_complete(self) -> bool:
        return len(self.comments) >= self.comments_total

    @property
    def organization(self) -> str | None:
        return self.organizations[0] if self.organizations else None


@dataclass(frozen=True)
class SheetRow:
    """One data row of the financier onboarding sheet, by column letter as the SOP says."""

    row_number: int
    """1-based row number as shown in the spreadsheet UI, so people can find it."""
    name: str
    status: str
    values: Mapping[str, str] = field(default_factory=dict)
    """Every cell of the row by column letter, for facts in alerts."""


@dataclass(frozen=True)
class DataProblem:
    """Input we could not use; reported, never turned into a finding."""

    where: str
    message: str


@dataclass(frozen=True)
class Finding:
    """Something a rule decided is worth telling someone about, with the facts that decided it."""

    job: str
    rule: str
    item: str
    """Ticket key or sheet account: what ``jobs why`` looks up."""
    severity: Severity
    summary: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    """JSON-safe values; written to the report and the decision log."""
    episode: str = ""
    """Part of the dedup key: e.g. an ISO week, so a weekly reply is 'once per week'."""
    url: str | None = None
    priority: bool = False
    realert: timedelta | None = None
    """Minimum time between two alerts for the same (job, rule, item, episode); None = once ever."""

    @property
    def dedup_key(self) -> tuple[str, str, str, str]:
        return (self.job, self.rule, self.item, self.episode)


class ActionKind(StrEnum):
    SLACK_POST = "slack_post"
    SLACK_UPDATE = "slack_update"
    SLACK_THREAD_REPLY = "slack_thread_reply"
    SLACK_DM = "slack_dm"
    SLACK_FILE = "slack_file"
    JIRA_PUBLIC_COMMENT = "jira_public_comment"
    JIRA_INTERNAL_COMMENT = "jira_internal_comment"
    JIRA_TRANSITION = "jira_transition"
    JIRA_LINK = "jira_link"
    JIRA_CREATE = "jira_create"
    JIRA_EDIT = "jira_edit"

    @property
    def reaches_customer(self) -> bool:
        return self is ActionKind.JIRA_PUBLIC_COMMENT


@dataclass
class Action:
    """One thing to send or change, covering one or more findings."""

    kind: ActionKind
    target: str
    """Slack channel/user email, or a Jira ticket key."""
    findings: list[Finding]
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    """Kind-specific arguments (thread ts, transition name, link type, fields to set...)."""
    marker: str | None = None
    """For replies that reach a customer: a string whose presence in the ticket's comments
    proves this step was already sent (the ticket is the ground truth, not the ledger)."""
    record_findings: bool = True
    """False for actions that must not mark their findings as alerted (e.g. a resolved notice)."""
    on_done: Callable[[dict[str, Any]], None] | None = None
    """Called with the executor's result after a real send (e.g. to keep a Slack message ts)."""

    @property
    def items(self) -> list[str]:
        return sorted({f.item for f in self.findings})


@dataclass(frozen=True)
class Evaluation:
    """What a rule returns: findings, the input it could not use, and how much it looked at."""

    findings: list[Finding]
    problems: list[DataProblem] = field(default_factory=list)
    examined: int = 0
