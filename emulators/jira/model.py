"""The emulated desk's records, constants and wire-format helpers (no HTTP here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from emulators.base import Response

DEFAULT_EMAIL = "agent@example.test"
DEFAULT_TOKEN = "test-jira-token-DO-NOT-LEAK"

SEARCH_DEFAULT_PAGE = 50
SEARCH_MAX_PAGE_WITH_FIELDS = 100
SEARCH_MAX_PAGE_IDS_ONLY = 5000
SEARCH_COMMENT_LIMIT = 20
COMMENT_PAGE_CAP = 100

REMOVED_SEARCH_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED_MESSAGE = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
INVALID_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

CATEGORY_JSON = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
ACCOUNT_TYPES = {"agent": "atlassian", "customer": "customer", "app": "app"}

CF = "com.atlassian.jira.plugin.system.customfieldtypes"
CUSTOM_SCHEMAS = {
    "organizations": {
        "type": "array",
        "items": "sd-customerorganization",
        "custom": "com.atlassian.servicedesk:sd-customer-organizations",
    },
    "request_type": {
        "type": "sd-customerrequesttype",
        "custom": "com.atlassian.servicedesk:vp-origin",
    },
    "sla": {"type": "sd-servicelevelagreement", "custom": "com.atlassian.servicedesk:sd-sla-field"},
    "date": {"type": "date", "custom": f"{CF}:datepicker"},
    "user": {"type": "user", "custom": f"{CF}:userpicker"},
    "options": {"type": "array", "items": "option", "custom": f"{CF}:multicheckboxes"},
    "option": {"type": "option", "custom": f"{CF}:select"},
    "text": {"type": "string", "custom": f"{CF}:textfield"},
}

# (id, name, schema, JQL clause names, navigable)
SYSTEM_FIELDS: list[tuple[str, str, dict[str, Any], list[str], bool]] = [
    ("issuekey", "Key", {}, ["id", "issue", "issuekey", "key"], True),
    ("summary", "Summary", {"type": "string", "system": "summary"}, ["summary"], True),
    (
        "description",
        "Description",
        {"type": "string", "system": "description"},
        ["description"],
        True,
    ),
    ("status", "Status", {"type": "status", "system": "status"}, ["status"], True),
    ("project", "Project", {"type": "project", "system": "project"}, ["project"], True),
    (
        "issuetype",
        "Issue Type",
        {"type": "issuetype", "system": "issuetype"},
        ["issuetype", "type"],
        True,
    ),
    (
        "created",
        "Created",
        {"type": "datetime", "system": "created"},
        ["created", "createdDate"],
        True,
    ),
    (
        "updated",
        "Updated",
        {"type": "datetime", "system": "updated"},
        ["updated", "updatedDate"],
        True,
    ),
    (
        "resolutiondate",
        "Resolved",
        {"type": "datetime", "system": "resolutiondate"},
        ["resolutiondate", "resolved"],
        True,
    ),
    (
        "resolution",
        "Resolution",
        {"type": "resolution", "system": "resolution"},
        ["resolution"],
        True,
    ),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}, ["assignee"], True),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}, ["reporter"], True),
    ("priority", "Priority", {"type": "priority", "system": "priority"}, ["priority"], True),
    (
        "labels",
        "Labels",
        {"type": "array", "items": "string", "system": "labels"},
        ["labels"],
        True,
    ),
    (
        "components",
        "Components",
        {"type": "array", "items": "component", "system": "components"},
        ["component"],
        True,
    ),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}, ["comment"], False),
    (
        "issuelinks",
        "Linked Issues",
        {"type": "array", "items": "issuelinks", "system": "issuelinks"},
        ["issueLink"],
        True,
    ),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}, ["due", "duedate"], True),
    ("parent", "Parent", {"type": "issuelink"}, ["parent"], True),
]
SETTABLE_SYSTEM = {
    "summary",
    "description",
    "assignee",
    "reporter",
    "priority",
    "labels",
    "components",
    "duedate",
    "parent",
    "issuetype",
    "project",
}

# (id number, name, type, IssueState attribute, options)
BUILTIN_CUSTOM_FIELDS: list[tuple[int, str, str, str, list[str]]] = [
    (10002, "Organizations", "organizations", "organizations", []),
    (10010, "Request Type", "request_type", "request_type", []),
    (10030, "Time to first response", "sla", "sla", []),
    (10040, "Configuration Date", "date", "configuration_date", []),
    (10041, "QA Due Date", "date", "qa_due_date", []),
    (10042, "QA Assignee", "user", "qa_assignee", []),
    (10043, "Channel", "options", "channel", ["Phone", "Email", "Chat", "Portal"]),
    (
        10044,
        "Needs Configuration?",
        "option",
        "needs_configuration",
        ["Integrated Finance", "Docs", "Channel Partner"],
    ),
]


class HttpError(Exception):
    """Raised inside a handler to answer with Jira's error shape (ErrorCollection)."""

    def __init__(
        self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.response = Response(
            status, {"errorMessages": list(messages), "errors": dict(errors or {})}
        )


class ServiceDeskError(HttpError):
    """Jira Service Management's own error shape (ErrorResponse): one message and its i18n key."""

    def __init__(self, status: int, message: str, i18n_key: str) -> None:
        Exception.__init__(self, status)
        self.response = Response(status, sd_error(message, i18n_key))


def sd_error(message: str, i18n_key: str) -> dict[str, Any]:
    return {"errorMessage": message, "i18nErrorMessage": {"i18nKey": i18n_key, "parameters": []}}


# -- state ---------------------------------------------------------------------------------


@dataclass
class CommentState:
    id: str
    author: str | None
    """Account id."""
    body: str
    """Wiki text; mentions are ``[~accountid:ID]``."""
    created: datetime
    updated: datetime
    public: bool = True
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class HistoryState:
    """One changelog history: the changes one write (or one fixture entry) made."""

    id: str
    author: str | None
    """Account id; None for a change Jira made itself."""
    created: datetime
    items: list[dict[str, Any]]
    """ChangeDetails as Jira renders them: field, fieldtype, fieldId, from(String), to(String)."""


@dataclass
class LinkState:
    id: str
    type: str
    source: str
    """Key of the issue that reads the outward phrase ('duplicates'); POSTed as inwardIssue."""
    target: str


@dataclass
class IssueState:
    id: str
    key: str
    project: str
    issuetype: str
    summary: str
    status: str
    created: datetime
    updated: datetime
    description: str = ""
    resolved: datetime | None = None
    assignee: str | None = None
    reporter: str | None = None
    priority: str | None = None
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    request_type: str | None = None
    channel: list[str] = field(default_factory=list)
    needs_configuration: str | None = None
    due_date: date | None = None
    configuration_date: date | None = None
    qa_due_date: date | None = None
    qa_assignee: str | None = None
    parent: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    """Values of fixture-declared custom fields, by display name."""
    sla: dict[str, Any] = field(default_factory=dict)
    comments: list[CommentState] = field(default_factory=list)
    history: list[HistoryState] = field(default_factory=list)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])


@dataclass
class CustomFieldDef:
    number: int
    name: str
    type: str
    attr: str | None
    options: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"customfield_{self.number}"

    @property
    def clause_names(self) -> list[str]:
        names = [f"cf[{self.number}]", self.name]
        if self.type == "request_type":
            names.append("Customer Request Type")
        return names

    def get(self, issue: IssueState) -> Any:
        if self.attr:
            return getattr(issue, self.attr)
        return issue.custom.get(self.name, [] if self.type == "options" else None)

    def set(self, issue: IssueState, value: Any) -> None:
        if self.attr:
            setattr(issue, self.attr, value)
        else:
            issue.custom[self.name] = value


def jira_time(moment: datetime) -> str:
    """'2026-11-02T10:00:00.000+0000'. ``isoformat`` of a UTC moment ends in '+00:00' and
    truncates to milliseconds as Jira does; it is several times cheaper than ``strftime``,
    and a search page formats hundreds of these."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "+0000"


def _duration_friendly(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    text = " ".join(p for p in (f"{hours}h" if hours else "", f"{mins}m" if mins else "") if p)
    text = text or "0m"
    return f"-{text}" if delta.total_seconds() < 0 else text


def duration_json(delta: timedelta) -> dict[str, Any]:
    return {"millis": int(delta.total_seconds() * 1000), "friendly": _duration_friendly(delta)}


def sd_time(moment: datetime) -> dict[str, Any]:
    """Jira Service Management's date shape (SLA cycles, servicedeskapi comments)."""
    moment = moment.astimezone(UTC)
    return {
        "iso8601": moment.isoformat(timespec="seconds")[:-6] + "+0000",
        "jira": jira_time(moment),
        "friendly": moment.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": int(moment.timestamp() * 1000),
    }


def split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def int_arg(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpError(400, [f"The value '{value}' is not valid for {name}."]) from None
