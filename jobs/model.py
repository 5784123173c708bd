"""Typed records that cross the boundary between adapters, rules and the pipeline.

Adapters turn vendor JSON into these; rules read only these; the pipeline turns
`Finding`s into `Action`s. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, TypeVar

D = TypeVar("D")


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


# Tickets and what they hold have slots (no per-object __dict__): a run holds every ticket it
# reads until it decides, 23,000 with 111,000 comments for first response on the 100k desk.
@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    author: Person | None
    body: str
    """Plain text; Jira Cloud mentions read ``[~accountid:ID]`` whatever the API version.
    Empty when the read asked for no text (``comment_text=False``: who, when and for whom
    only)."""
    created: datetime
    updated: datetime | None = None
    public: bool = True
    """Service Management visibility: False for internal notes (never emailed to the customer)."""


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class SlaField:
    name: str
    ongoing: SlaCycle | None = None
    completed: tuple[SlaCycle, ...] = ()


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
class SheetTab:
    """One tab of a sheet as people see it: every cell the text the sheet displays (an empty
    cell is ``""``), columns named by their letters (``A``, ``B``, ... ``AA``: the SOP says
    "Column B" and "Column L"), rows by the 1-based number the spreadsheet shows, so an alert
    can say "row 14". Header and blank rows are kept (the rule interprets them); trailing
    empty rows and cells are not, as the Sheets API leaves them out."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    """Row ``n`` is ``rows[n - 1]``, one text per column."""

    @property
    def row_numbers(self) -> range:
        return range(1, len(self.rows) + 1)

    @property
    def empty(self) -> bool:
        """No cell with anything in it (the API leaves out an empty tab's values)."""
        return not self.rows or not self.columns

    def row(self, number: int) -> dict[str, str]:
        """Row ``number``'s cells by column letter."""
        if not 1 <= number <= len(self.rows):
            raise KeyError(f"row {number} is not in the tab (rows 1-{len(self.rows)})")
        return dict(zip(self.columns, self.rows[number - 1], strict=True))

    def cell(self, number: int, column: str) -> str:
        return self.row(number)[column]

    def numbered(self) -> list[tuple[int, dict[str, str]]]:
        """Every row with its number, top to bottom."""
        return [
            (n, dict(zip(self.columns, cells, strict=True))) for n, cells in enumerate(self.rows, 1)
        ]


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
class RecordKey:
    """What one alert record is about: a job's alert for an item (or a group) in an episode."""

    job: str
    alert: str
    """The alert's name: a finding's rule, or the name several rules (tiers) share."""
    item: str
    episode: str = ""

    def __str__(self) -> str:
        episode = f" [{self.episode}]" if self.episode else ""
        return f"{self.job}/{self.alert} {self.item}{episode}"


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
    """Part of the record's key: e.g. an ISO week, so a weekly reply is 'once per week'."""
    url: str | None = None
    priority: bool = False
    realert: timedelta | None = None
    """Minimum time between two sends for the same record; None = once per episode."""
    alert: str = ""
    """The record this finding belongs to, when several rules share one (the tiers of the
    first-response alert); empty = its own rule."""
    reopens: bool = False
    """A record that was resolved (closed) starts a new episode when this finding comes back
    (an alert that fires, clears and fires again), instead of staying sent once and for all."""
    detail: Any = None
    """The rule's typed detail (a frozen dataclass of its own): what the plan and the render
    read. When there is one, ``facts`` is derived from it (the decision log's JSON), always,
    so the two never disagree (also after ``dataclasses.replace``)."""

    def __post_init__(self) -> None:
        if self.detail is not None:
            object.__setattr__(self, "facts", facts_of(self.detail))

    @property
    def record_key(self) -> RecordKey:
        return RecordKey(self.job, self.alert or self.rule, self.item, self.episode)

    def detail_as(self, kind: type[D]) -> D:
        """The detail, typed: the rule that made this finding promised a ``kind``."""
        if not isinstance(self.detail, kind):
            raise TypeError(
                f"{self.job}/{self.rule} {self.item}: detail is "
                f"{type(self.detail).__name__}, not {kind.__name__}"
            )
        return self.detail


def facts_of(detail: Any) -> dict[str, Any]:
    """A typed detail as the decision log stores it: JSON-safe, durations as ``<name>_seconds``
    (what ``why`` shows as "2 h 13 m"), times and dates in ISO form, people as their names and
    ids, tuples as lists, nested details as objects."""
    if not dataclasses.is_dataclass(detail) or isinstance(detail, type):
        raise TypeError(f"a finding's detail is a dataclass, not {type(detail).__name__}")
    facts: dict[str, Any] = {}
    for f in dataclasses.fields(detail):
        value = getattr(detail, f.name)
        if isinstance(value, timedelta):
            facts[f"{f.name}_seconds"] = int(value.total_seconds())
        else:
            facts[f.name] = _json_safe(value)
    return facts


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Person):
        return {"name": value.display_name, "email": value.email, "account_id": value.account_id}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return facts_of(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    return str(value)


class RecordStatus(StrEnum):
    NEW = "new"
    """Claimed by a run that has not sent anything for it yet."""
    OPEN = "open"
    """Sent; the condition still held when last looked at."""
    CLOSED = "closed"
    """Resolved: no finding covered it any more (or its episode is over)."""


@dataclass(frozen=True)
class AlertRecord:
    """The ledger's memory of one alert: what was announced, when, and where it lives now.

    Written by the pipeline only after a send succeeded; jobs read it to plan (edit the
    message in ``store``, announce only a higher tier) and to resolve it.
    """

    key: RecordKey
    status: RecordStatus = RecordStatus.NEW
    tier: Severity | None = None
    """The highest severity announced in this episode."""
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    closed_at: datetime | None = None
    realert: timedelta | None = None
    """The re-alert window in force when it was last sent; None = once per episode."""
    store: Mapping[str, Any] = field(default_factory=dict)
    """What a later step needs: the Slack message (channel, ts), a created issue's key,
    what a message shows. JSON-safe."""
    version: int = 0
    """Bumped on every write; a claim succeeds only on the version the run read."""
    claimed_by: str | None = None
    claimed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is RecordStatus.OPEN


class ActionKind(StrEnum):
    SLACK_POST = "slack_post"
    SLACK_UPDATE = "slack_update"
    SLACK_THREAD_REPLY = "slack_thread_reply"
    SLACK_DM = "slack_dm"
    SLACK_FILE = "slack_file"
    SLACK_NOTICE = "slack_notice"
    """One line of a grouped message the pipeline posts once for every notice of the run."""
    JIRA_PUBLIC_COMMENT = "jira_public_comment"
    JIRA_INTERNAL_COMMENT = "jira_internal_comment"
    JIRA_TRANSITION = "jira_transition"
    JIRA_LINK = "jira_link"
    JIRA_CREATE = "jira_create"
    JIRA_EDIT = "jira_edit"

    @property
    def reaches_customer(self) -> bool:
        return self is ActionKind.JIRA_PUBLIC_COMMENT

    @property
    def is_jira(self) -> bool:
        return self.value.startswith("jira_")


ALERT_CHANNEL = "@alert-channel"
"""An action's target meaning "the desk's alert channel as configured when it is sent": a step
resumed by a later run goes where the settings say then."""


@dataclass(frozen=True)
class Ref:
    """A value an earlier step of the same chain returned, e.g. ``Ref(0, "ts")`` for the
    Slack message a thread reply goes under, ``Ref(0, "key")`` for a created issue."""

    step: int
    field: str


@dataclass(frozen=True)
class LinkSpec:
    """Jira's naming: ``inward_key`` reads the type's outward phrase ("SS-340 duplicates
    SS-301" is Duplicate with inward_key=SS-340, outward_key=SS-301)."""

    inward_key: str | Ref
    outward_key: str | Ref
    link_type: str


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str
    title: str


@dataclass(frozen=True)
class Notice:
    """The grouped message a notice line goes into: one per channel, title and footer a run."""

    title: str
    footer: str = ""


@dataclass(frozen=True)
class RecordChange:
    """What a step changes in a record when it succeeds (values may be `Ref`s)."""

    key: RecordKey
    store: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the record's store; a None value removes the entry."""
    close: bool = False
    reopen: bool = False
    """Keep (or make) the record open without counting a send."""


@dataclass
class Action:
    """One write to the outside world, and what follows from it.

    The common fields say where it goes and what it says; each kind has its own typed fields
    (checked when the action is made). ``then`` lists the steps that run only after this one
    succeeded, in order, with `Ref`s to earlier results; the pipeline records each step, so a
    chain cut short by a failure or a crash resumes where it stopped. ``otherwise`` runs if
    this step fails for good.
    """

    kind: ActionKind
    target: str | Ref
    """Slack channel or user (email or id), a Jira ticket key, or a project (create)."""
    findings: list[Finding] = field(default_factory=list)
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    marker: str | None = None
    """For comments: the reference line whose presence on the ticket proves it was posted
    (the ticket is the ground truth, not the ledger)."""
    thread_ts: str | Ref | None = None
    """Slack post, thread reply or file: the message whose thread it goes in."""
    broadcast: bool = False
    """Slack thread reply: also show it in the channel (``reply_broadcast``)."""
    ts: str | Ref | None = None
    """Slack update: the message to edit."""
    to_status: str | None = None
    link: LinkSpec | None = None
    fields: Mapping[str, Any] | None = None
    """Jira create (every field) or edit (fields to set)."""
    add_labels: tuple[str, ...] = ()
    priority: str | None = None
    upload: Upload | None = None
    trace_label: str | None = None
    """Jira create: a label the new issue carries, by which a later run finds it."""
    notice: Notice | None = None
    text_refs: Mapping[str, Ref] = field(default_factory=dict)
    """Values from earlier steps put into ``text`` where it says ``{name}`` (a created
    issue's key in a notice, say)."""
    then: tuple[Action, ...] = ()
    otherwise: tuple[Action, ...] = ()
    notifies: bool = True
    """Its success counts as telling someone about its findings (their records are marked
    sent); False for steps that only tidy up, e.g. rewriting a resolved message."""
    records: tuple[RecordChange, ...] = ()

    def __post_init__(self) -> None:
        need: dict[ActionKind, tuple[str, ...]] = {
            ActionKind.SLACK_UPDATE: ("ts",),
            ActionKind.SLACK_THREAD_REPLY: ("thread_ts",),
            ActionKind.SLACK_FILE: ("upload",),
            ActionKind.SLACK_NOTICE: ("notice",),
            ActionKind.JIRA_TRANSITION: ("to_status",),
            ActionKind.JIRA_LINK: ("link",),
            ActionKind.JIRA_CREATE: ("fields",),
        }
        missing = [name for name in need.get(self.kind, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} action needs {', '.join(missing)}")
        if self.kind is ActionKind.JIRA_EDIT and not (
            self.fields or self.add_labels or self.priority
        ):
            raise ValueError("a jira_edit action needs fields, add_labels or priority")
        if self.kind is ActionKind.JIRA_CREATE and not self.trace_label:
            raise ValueError("a jira_create action needs a trace_label to be found again")

    @property
    def items(self) -> list[str]:
        return sorted({f.item for f in self.findings})

    @property
    def chain(self) -> tuple[Action, ...]:
        """This step and every step after it."""
        return (self, *self.then)


@dataclass(frozen=True)
class Evaluation:
    """What a rule returns: findings, the input it could not use, and how much it looked at."""

    findings: list[Finding]
    problems: list[DataProblem] = field(default_factory=list)
    examined: int = 0
    memory: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    """What the job wants remembered for the next run, by item (None forgets it); the
    pipeline writes it after a real run."""
    tickets: Mapping[str, Ticket] = field(default_factory=dict)
    """Tickets this run's search read with every comment (the ``comment`` field asked for, the
    rest read where the search cut them), by key: fresh enough to look for a reply's
    reference line in before its first attempt, without reading the ticket again. Only
    comment proofs use them; a ticket whose comments are not all here is read again."""
    labelled: Mapping[str, str | None] = field(default_factory=dict)
    """Trace labels this run's search asked Jira for (any status), each with the oldest issue
    carrying it (None: none does): a create's proof before its first attempt, without a
    search of its own."""
