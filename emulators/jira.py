"""A Jira Cloud + Jira Service Management emulator on loopback.

It answers the REST endpoints our jobs use with the shapes Atlassian documents, so the adapter is
tested against the contract and not against our own idea of it:

- ``/rest/api/{2,3}``: serverInfo (deploymentType "Cloud"), myself, field, user/search, user,
  project, priority, issueLinkType, issue (GET/PUT/POST), issue/{key}/transitions,
  issue/{key}/comment, issue/{key}/properties, issueLink, and ``search/jql`` (GET and POST).
  v2 bodies are wiki text with ``[~accountid:ID]`` mentions; v3 bodies are ADF documents.
  Both versions accept either on write.
- ``/rest/servicedeskapi``: request/{key}/comment (GET/POST) and organization.
- The removed ``/rest/api/{2,3,latest}/search`` answers 410 with Atlassian's migration message.

``search/jql`` pages with an opaque ``nextPageToken`` and never returns a total (as on Cloud).
Page caps chosen here (Jira documents only that it "may return fewer"): ``maxResults`` defaults to
50 and is capped at 100 when any field other than id/key (or any property) is requested, at 5000
for id/key only.
A query without a restriction is refused like Cloud's "Unbounded JQL queries are not allowed
here". Without ``fields`` only id and key come back, as on the new endpoint. The ``comment``
field in search results holds at most 20 comments (the oldest) with ``total``, so clients must
page ``/comment`` for the rest; ``GET /comment`` pages at most 100 per request.

JQL (see `emulators.jql`) knows: project, key/issuekey/id, parent, issuetype/type, status,
statusCategory, assignee, reporter, priority, labels, component, resolution (``Unresolved``),
summary, description, comment, text, created, updated, resolved/resolutiondate, due/duedate,
organization(s), and every custom field by name or ``cf[id]`` ("Request Type",
"Time to first response" with breached()/running()/paused()/completed()/remaining("1h")...).
Any other field is refused with Jira's "Field 'x' does not exist" 400, never ignored.

"Time to first response" is computed as JSM would with a 24x7 calendar: it starts at creation,
completes at the first public comment by an agent (or at resolution), breaches after its goal
(2h per the SOP, or the fixture's ``sla.first_response.goal``) and is frozen while the fixture
says it is paused. Only service desk projects have it.

Every ``/rest`` call needs HTTP basic auth with the configured email and API token, else 401.
State is plain Python; tests read it with `issue`, `comments_of`, `links_of` and move the
injected clock with `advance`. Faults (429, 5xx, malformed JSON, resets) come from
`Emulator.inject`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from emulators import jql
from emulators.adf import adf_to_text, text_to_adf
from emulators.base import Emulator, Request, Response
from emulators.fixtures import PEOPLE_FILE, load_desk, normalize_ticket

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
    """Raised inside a handler to answer with Jira's error shape."""

    def __init__(
        self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.response = Response(
            status, {"errorMessages": list(messages), "errors": dict(errors or {})}
        )


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
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _duration_friendly(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    text = " ".join(p for p in (f"{hours}h" if hours else "", f"{mins}m" if mins else "") if p)
    text = text or "0m"
    return f"-{text}" if delta.total_seconds() < 0 else text


def _duration_json(delta: timedelta) -> dict[str, Any]:
    return {"millis": int(delta.total_seconds() * 1000), "friendly": _duration_friendly(delta)}


def _sd_time(moment: datetime) -> dict[str, Any]:
    """Jira Service Management's date shape (SLA cycles, servicedeskapi comments)."""
    moment = moment.astimezone(UTC)
    return {
        "iso8601": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "jira": jira_time(moment),
        "friendly": moment.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": int(moment.timestamp() * 1000),
    }


def _split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _int(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpError(400, [f"The value '{value}' is not valid for {name}."]) from None


class JiraEmulator(Emulator):
    name = "jira"

    def __init__(
        self,
        desk: dict[str, Any] | None = None,
        *,
        email: str = DEFAULT_EMAIL,
        token: str = DEFAULT_TOKEN,
        latency: float = 0.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(latency=latency)
        self.email = email
        self.token = token
        self._clock = clock or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        if desk is None:
            desk = load_desk(PEOPLE_FILE, self.now())
        self.desk = desk
        self._load(desk)
        self._register_routes()

    # -- clock and test helpers ------------------------------------------------------------
    def now(self) -> datetime:
        moment = self._clock() + self._offset
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move the emulator's clock (SLA timers, `updated` of later writes) forward."""
        with self._lock:
            self._offset += delta
            return self.now()

    def touch(self, key: str, at: datetime | None = None) -> None:
        with self._lock:
            self._get(key).updated = at or self.now()

    def issue(self, key: str) -> IssueState:
        with self._lock:
            return self._get(key)

    def comments_of(self, key: str) -> list[CommentState]:
        with self._lock:
            return list(self._get(key).comments)

    def links_of(self, key: str) -> list[dict[str, str]]:
        """Links seen from ``key``: type, direction (outward: key reads the outward phrase), key."""
        with self._lock:
            out = []
            for link in self._links:
                if link.source == key:
                    out.append({"type": link.type, "direction": "outward", "key": link.target})
                elif link.target == key:
                    out.append({"type": link.type, "direction": "inward", "key": link.source})
            return out

    def add_issue(self, **fields: Any) -> str:
        """Add a ticket written like a fixture ticket (relative times allowed); returns its key."""
        with self._lock:
            project = str(fields.get("project") or str(fields.get("key") or "SS-0").split("-")[0])
            if not fields.get("key"):
                fields["key"] = f"{project}-{self._next_number(project)}"
            if fields["key"] in self._issues:
                raise ValueError(f"issue {fields['key']} already exists")
            for link in fields.get("links") or []:
                if link.get("key") not in self._issues:
                    raise ValueError(f"link target {link.get('key')} does not exist")
            ticket = normalize_ticket(dict(fields), self.desk, self.now())
            self._index_users()
            self._add_ticket(ticket)
            self._add_ticket_links(ticket)
            return ticket["key"]

    def _load(self, desk: dict[str, Any]) -> None:
        self._users: dict[str, dict[str, Any]] = {}
        self._index_users()
        self._myself = next(
            (
                u
                for u in desk["users"]
                if (u.get("email") or "").casefold() == self.email.casefold()
            ),
            None,
        )
        if self._myself is None:
            self._myself = {
                "account_id": "acc-support-automation",
                "display_name": "Support Automation",
                "email": self.email,
                "slack_id": None,
                "kind": "agent",
                "time_zone": "UTC",
            }
            desk["users"].append(self._myself)
            self._index_users()
        self._projects = {p["key"]: p for p in desk["projects"]}
        self._status_ids: dict[str, str] = {}
        self._type_ids: dict[str, str] = {}
        self._component_ids: dict[str, str] = {}
        self._request_type_ids: dict[str, str] = {}
        self._request_type_names: dict[str, str] = {}
        for project in desk["projects"]:
            for status in project["statuses"]:
                self._status_id(status["name"])
            for itype in project["issue_types"]:
                self._type_id(itype)
            for rtype in project["request_types"]:
                self._request_type_id(rtype)
            for component in project["components"]:
                self._component_id(component)
        self._orgs = {o["name"]: o["id"] for o in desk["organizations"]}
        self._link_types = list(desk["link_types"])
        self._custom = [
            CustomFieldDef(n, name, ftype, attr, list(opts))
            for n, name, ftype, attr, opts in BUILTIN_CUSTOM_FIELDS
        ]
        for i, extra in enumerate(desk["custom_fields"]):
            self._custom.append(
                CustomFieldDef(
                    10100 + i, extra["name"], extra["type"], None, list(extra["options"])
                )
            )
        self._issues: dict[str, IssueState] = {}
        self._links: list[LinkState] = []
        self._next_issue_id = 10000
        self._next_comment_id = 10000
        self._next_link_id = 10000
        for ticket in desk["tickets"]:
            self._add_ticket(ticket)
        for ticket in desk["tickets"]:
            self._add_ticket_links(ticket)

    def _index_users(self) -> None:
        self._users = {u["account_id"]: u for u in self.desk["users"]}

    def _status_id(self, name: str) -> str:
        return self._status_ids.setdefault(name.casefold(), str(10000 + len(self._status_ids)))

    def _type_id(self, name: str) -> str:
        return self._type_ids.setdefault(name.casefold(), str(10001 + len(self._type_ids)))

    def _component_id(self, name: str) -> str:
        return self._component_ids.setdefault(
            name.casefold(), str(10000 + len(self._component_ids))
        )

    def _request_type_id(self, name: str) -> str:
        self._request_type_names.setdefault(name.casefold(), name)
        return self._request_type_ids.setdefault(
            name.casefold(), str(1 + len(self._request_type_ids))
        )

    def _custom_by_attr(self, attr: str) -> CustomFieldDef:
        return next(c for c in self._custom if c.attr == attr)

    def _add_ticket(self, t: dict[str, Any]) -> IssueState:
        issue = IssueState(
            id=str(self._next_issue_id),
            key=t["key"],
            project=t["project"],
            issuetype=t["issuetype"],
            summary=t["summary"],
            description=t["description"],
            status=t["status"],
            created=t["created"],
            updated=t["updated"],
            resolved=t["resolved"],
            assignee=t["assignee"],
            reporter=t["reporter"],
            priority=t["priority"],
            labels=list(t["labels"]),
            components=list(t["components"]),
            organizations=list(t["organizations"]),
            request_type=t["request_type"],
            channel=list(t["channel"]),
            needs_configuration=t["needs_configuration"],
            due_date=t["due_date"],
            configuration_date=t["configuration_date"],
            qa_due_date=t["qa_due_date"],
            qa_assignee=t["qa_assignee"],
            parent=t["parent"],
            properties=dict(t["properties"]),
            custom=dict(t["custom"]),
            sla=dict(t["sla"]),
        )
        self._next_issue_id += 1
        self._type_id(issue.issuetype)
        for component in issue.components:
            self._component_id(component)
        if issue.request_type:
            self._request_type_id(issue.request_type)
        for org in issue.organizations:
            if org not in self._orgs:
                self._orgs[org] = str(len(self._orgs) + 1)
        # Fixtures may use channel/select values the built-in option lists lack; keep them valid.
        for attr, values in (
            ("channel", issue.channel),
            (
                "needs_configuration",
                [issue.needs_configuration] if issue.needs_configuration else [],
            ),
        ):
            options = self._custom_by_attr(attr).options
            options.extend(v for v in values if v not in options)
        for c in t["comments"]:
            issue.comments.append(
                CommentState(
                    id=self._new_comment_id(),
                    author=c["author"],
                    body=c["body"],
                    created=c["created"],
                    updated=c["created"],
                    public=c["public"],
                    properties={} if c["public"] else {"sd.public.comment": {"internal": True}},
                )
            )
        self._issues[issue.key] = issue
        return issue

    def _add_ticket_links(self, t: dict[str, Any]) -> None:
        for link in t["links"]:
            if link["direction"] == "outward":
                self._add_link(link["type"], t["key"], link["key"])
            else:
                self._add_link(link["type"], link["key"], t["key"])

    def _add_link(self, type_name: str, source: str, target: str) -> None:
        for existing in self._links:
            if (existing.type, existing.source, existing.target) == (type_name, source, target):
                return
        self._links.append(LinkState(str(self._next_link_id), type_name, source, target))
        self._next_link_id += 1

    def _new_comment_id(self) -> str:
        self._next_comment_id += 1
        return str(self._next_comment_id)

    def _next_number(self, project: str) -> int:
        numbers = [i.number for i in self._issues.values() if i.project == project]
        return max(numbers, default=0) + 1

    def _get(self, key_or_id: str) -> IssueState:
        issue = self._issues.get(key_or_id.upper())
        if issue is None:
            issue = next((i for i in self._issues.values() if i.id == key_or_id), None)
        if issue is None:
            raise HttpError(404, [NO_ISSUE])
        return issue

    # -- routes ----------------------------------------------------------------------------
    def _register_routes(self) -> None:
        api = r"/rest/api/(2|3|latest)"
        routes: list[tuple[str, str, Callable[[Request, re.Match[str]], Response]]] = [
            ("GET", rf"{api}/serverInfo", self._server_info),
            ("GET", rf"{api}/myself", self._get_myself),
            ("GET", rf"{api}/field", self._get_fields),
            ("GET", rf"{api}/user/search", self._user_search),
            ("GET", rf"{api}/user", self._get_user),
            ("GET", rf"{api}/priority", self._get_priorities),
            ("GET", rf"{api}/project", self._get_projects),
            ("GET", rf"{api}/project/([^/]+)", self._get_project),
            ("GET", rf"{api}/issueLinkType", self._get_link_types),
            ("POST", rf"{api}/issueLink", self._post_link),
            ("GET", rf"{api}/search", self._removed_search),
            ("POST", rf"{api}/search", self._removed_search),
            ("GET", rf"{api}/search/jql", self._search_jql),
            ("POST", rf"{api}/search/jql", self._search_jql),
            ("POST", rf"{api}/issue", self._create_issue),
            ("GET", rf"{api}/issue/([^/]+)", self._get_issue),
            ("PUT", rf"{api}/issue/([^/]+)", self._edit_issue),
            ("GET", rf"{api}/issue/([^/]+)/transitions", self._get_transitions),
            ("POST", rf"{api}/issue/([^/]+)/transitions", self._do_transition),
            ("GET", rf"{api}/issue/([^/]+)/comment", self._get_comments),
            ("POST", rf"{api}/issue/([^/]+)/comment", self._post_comment),
            ("GET", rf"{api}/issue/([^/]+)/properties", self._list_properties),
            ("GET", rf"{api}/issue/([^/]+)/properties/([^/]+)", self._get_property),
            ("PUT", rf"{api}/issue/([^/]+)/properties/([^/]+)", self._put_property),
            ("DELETE", rf"{api}/issue/([^/]+)/properties/([^/]+)", self._delete_property),
            ("GET", r"/rest/servicedeskapi/request/([^/]+)/comment", self._sd_get_comments),
            ("POST", r"/rest/servicedeskapi/request/([^/]+)/comment", self._sd_post_comment),
            ("GET", r"/rest/servicedeskapi/organization", self._sd_organizations),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, self._guarded(handler))

    def _guarded(
        self, handler: Callable[[Request, re.Match[str]], Response]
    ) -> Callable[[Request, re.Match[str]], Response]:
        def run(request: Request, match: re.Match[str]) -> Response:
            if not self._authorized(request):
                return Response(401, {"errorMessages": [NOT_AUTHENTICATED], "errors": {}})
            try:
                return handler(request, match)
            except HttpError as exc:
                return exc.response

        return run

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.email}:{self.token}"

    def not_found(self, request: Request) -> Response:
        return Response(
            404,
            {"errorMessages": [f"No resource at {request.method} {request.path}"], "errors": {}},
        )

    def fault_body(self, status: int) -> Any:
        messages = {
            429: "Rate limit exceeded.",
            500: "Internal server error.",
            502: "Bad gateway.",
            503: "Service unavailable.",
        }
        return {"errorMessages": [messages.get(status, f"HTTP {status}")], "errors": {}}

    # -- rendering -------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.url if self._server is not None else "http://jira.emulator.invalid"

    def _user_json(self, account_id: str | None, version: str = "2") -> dict[str, Any] | None:
        if not account_id:
            return None
        user = self._users.get(account_id)
        if user is None:
            return None
        out: dict[str, Any] = {
            "self": f"{self.base}/rest/api/{version}/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": ACCOUNT_TYPES[user["kind"]],
            "avatarUrls": {"48x48": f"{self.base}/avatar/{account_id}.png"},
            "displayName": user["display_name"],
            "active": True,
            "timeZone": user.get("time_zone") or "UTC",
        }
        if user.get("email"):
            out["emailAddress"] = user["email"]
        return out

    def _category(self, project: str, status: str) -> str:
        for s in self._projects[project]["statuses"]:
            if s["name"].casefold() == status.casefold():
                return str(s["category"])
        return "indeterminate"

    def _status_json(self, project: str, status: str, version: str) -> dict[str, Any]:
        category = CATEGORY_JSON[self._category(project, status)]
        return {
            "self": f"{self.base}/rest/api/{version}/status/{self._status_id(status)}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status,
            "id": self._status_id(status),
            "statusCategory": {
                "self": f"{self.base}/rest/api/{version}/statuscategory/{category['id']}",
                **category,
            },
        }

    def _priority_json(self, name: str | None, version: str) -> dict[str, Any] | None:
        if not name:
            return None
        pid = str(PRIORITIES.index(name) + 1) if name in PRIORITIES else "3"
        return {
            "self": f"{self.base}/rest/api/{version}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def _issuetype_json(self, name: str, version: str) -> dict[str, Any]:
        tid = self._type_id(name)
        return {
            "self": f"{self.base}/rest/api/{version}/issuetype/{tid}",
            "id": tid,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{tid}.svg",
            "name": name,
            "subtask": False,
            "hierarchyLevel": 1 if name == "Epic" else 0,
        }

    def _project_json(self, key: str, version: str) -> dict[str, Any]:
        project = self._projects[key]
        pid = str(10000 + list(self._projects).index(key))
        return {
            "self": f"{self.base}/rest/api/{version}/project/{pid}",
            "id": pid,
            "key": key,
            "name": project["name"],
            "projectTypeKey": project["type"],
            "simplified": False,
        }

    def _body(self, text: str, version: str) -> Any:
        if version == "3":
            return text_to_adf(text, lambda aid: (self._users.get(aid) or {}).get("display_name"))
        return text

    def _comment_json(
        self, issue: IssueState, c: CommentState, version: str, with_properties: bool = False
    ) -> dict[str, Any]:
        author = self._user_json(c.author, version)
        out: dict[str, Any] = {
            "self": f"{self.base}/rest/api/{version}/issue/{issue.id}/comment/{c.id}",
            "id": c.id,
            "author": author,
            "body": self._body(c.body, version),
            "updateAuthor": author,
            "created": jira_time(c.created),
            "updated": jira_time(c.updated),
            "jsdPublic": c.public,
        }
        if with_properties:
            out["properties"] = [{"key": k, "value": v} for k, v in c.properties.items()]
        return out

    def _brief_issue(self, key: str, version: str) -> dict[str, Any]:
        other = self._issues[key]
        return {
            "id": other.id,
            "key": other.key,
            "self": f"{self.base}/rest/api/{version}/issue/{other.id}",
            "fields": {
                "summary": other.summary,
                "status": self._status_json(other.project, other.status, version),
                "priority": self._priority_json(other.priority, version),
                "issuetype": self._issuetype_json(other.issuetype, version),
            },
        }

    def _link_type_json(self, name: str, version: str) -> dict[str, Any]:
        index, lt = next((i, t) for i, t in enumerate(self._link_types) if t["name"] == name)
        lid = str(10000 + index)
        return {
            "id": lid,
            "name": lt["name"],
            "inward": lt["inward"],
            "outward": lt["outward"],
            "self": f"{self.base}/rest/api/{version}/issueLinkType/{lid}",
        }

    def _links_json(self, issue: IssueState, version: str) -> list[dict[str, Any]]:
        out = []
        for link in self._links:
            if issue.key not in (link.source, link.target):
                continue
            entry: dict[str, Any] = {
                "id": link.id,
                "self": f"{self.base}/rest/api/{version}/issueLink/{link.id}",
                "type": self._link_type_json(link.type, version),
            }
            # The source reads the outward phrase, so it sees the other end as `outwardIssue`.
            if link.source == issue.key:
                entry["outwardIssue"] = self._brief_issue(link.target, version)
            else:
                entry["inwardIssue"] = self._brief_issue(link.source, version)
            out.append(entry)
        return out

    def _first_response_stop(self, issue: IssueState) -> datetime | None:
        """SLA stop: the first public comment by an agent, or resolution, whichever came first."""
        stops = [
            c.created
            for c in issue.comments
            if c.public and (self._users.get(c.author or "") or {}).get("kind") == "agent"
        ]
        if issue.resolved:
            stops.append(issue.resolved)
        return min(stops) if stops else None

    def _sla_state(self, issue: IssueState) -> jql.SlaState | None:
        if self._projects[issue.project]["type"] != "service_desk":
            return None
        cfg = issue.sla.get("first_response") or {}
        goal: timedelta = cfg.get("goal") or timedelta(hours=2)
        stop = self._first_response_stop(issue)
        if stop is not None:
            elapsed = stop - issue.created
            return jql.SlaState(
                running=False,
                paused=False,
                breached=elapsed > goal,
                completed=True,
                ever_breached=elapsed > goal,
                remaining=goal - elapsed,
                elapsed=elapsed,
            )
        now = self.now()
        end = now
        if cfg.get("paused"):
            end = min(max(cfg.get("paused_at") or issue.updated, issue.created), now)
        elapsed = end - issue.created
        return jql.SlaState(
            running=not cfg.get("paused"),
            paused=bool(cfg.get("paused")),
            breached=elapsed > goal,
            completed=False,
            ever_breached=elapsed > goal,
            remaining=goal - elapsed,
            elapsed=elapsed,
        )

    def _sla_json(self, issue: IssueState, definition: CustomFieldDef) -> dict[str, Any] | None:
        state = self._sla_state(issue)
        if state is None:
            return None
        cfg = issue.sla.get("first_response") or {}
        goal: timedelta = cfg.get("goal") or timedelta(hours=2)
        out: dict[str, Any] = {
            "id": "1",
            "name": definition.name,
            "_links": {"self": f"{self.base}/rest/servicedeskapi/request/{issue.id}/sla/1"},
            "completedCycles": [],
            "slaDisplayFormat": "NEW_SLA_FORMAT",
        }
        cycle: dict[str, Any] = {
            "startTime": _sd_time(issue.created),
            "breached": state.breached,
            "goalDuration": _duration_json(goal),
            "elapsedTime": _duration_json(state.elapsed),
            "remainingTime": _duration_json(state.remaining or timedelta(0)),
        }
        if state.completed:
            stop = self._first_response_stop(issue)
            assert stop is not None
            cycle["stopTime"] = _sd_time(stop)
            cycle["breachTime"] = _sd_time(issue.created + goal)
            out["completedCycles"] = [cycle]
        else:
            # JSM only promises a breach time while the clock runs.
            if not state.paused:
                cycle["breachTime"] = _sd_time(issue.created + goal)
            cycle["paused"] = state.paused
            cycle["withinCalendarHours"] = True
            out["ongoingCycle"] = cycle
        return out

    def _custom_json(self, issue: IssueState, cf: CustomFieldDef, version: str) -> Any:
        value = cf.get(issue)
        if cf.type == "organizations":
            org_base = f"{self.base}/rest/servicedeskapi/organization"
            return [
                {
                    "id": self._orgs.get(name, "0"),
                    "name": name,
                    "_links": {"self": f"{org_base}/{self._orgs.get(name)}"},
                }
                for name in value or []
            ]
        if cf.type == "request_type":
            if not value:
                return None
            rid = self._request_type_id(value)
            return {
                "_links": {
                    "jiraRest": f"{self.base}/rest/api/2/issue/{issue.id}",
                    "web": f"{self.base}/servicedesk/customer/portal/1/{issue.key}",
                    "self": f"{self.base}/rest/servicedeskapi/request/{issue.id}",
                },
                "requestType": {
                    "_expands": ["field"],
                    "id": rid,
                    "_links": {
                        "self": f"{self.base}/rest/servicedeskapi/servicedesk/1/requesttype/{rid}"
                    },
                    "name": value,
                    "description": "",
                    "helpText": "",
                    "serviceDeskId": "1",
                    "portalId": "1",
                    "groupIds": [],
                },
                "currentStatus": {
                    "status": issue.status,
                    "statusCategory": self._category(issue.project, issue.status).upper(),
                    "statusDate": _sd_time(issue.updated),
                },
            }
        if cf.type == "sla":
            return self._sla_json(issue, cf)
        if cf.type == "date":
            return value.isoformat() if value else None
        if cf.type == "user":
            return self._user_json(value, version)
        if cf.type == "options":
            return [self._option_json(cf, v, version) for v in value] if value else None
        if cf.type == "option":
            return self._option_json(cf, value, version) if value else None
        return value

    def _option_json(self, cf: CustomFieldDef, value: str, version: str) -> dict[str, Any]:
        oid = str(cf.number * 10 + (cf.options.index(value) if value in cf.options else 0))
        return {
            "self": f"{self.base}/rest/api/{version}/customFieldOption/{oid}",
            "value": value,
            "id": oid,
        }

    def _field_value(
        self, issue: IssueState, fid: str, version: str, comment_limit: int | None
    ) -> Any:
        if fid == "summary":
            return issue.summary
        if fid == "description":
            return self._body(issue.description, version) if issue.description else None
        if fid == "status":
            return self._status_json(issue.project, issue.status, version)
        if fid == "project":
            return self._project_json(issue.project, version)
        if fid == "issuetype":
            return self._issuetype_json(issue.issuetype, version)
        if fid in ("created", "updated"):
            return jira_time(getattr(issue, fid))
        if fid == "resolutiondate":
            return jira_time(issue.resolved) if issue.resolved else None
        if fid == "resolution":
            if not issue.resolved:
                return None
            return {
                "self": f"{self.base}/rest/api/{version}/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": "Done",
            }
        if fid in ("assignee", "reporter"):
            return self._user_json(getattr(issue, fid), version)
        if fid == "priority":
            return self._priority_json(issue.priority, version)
        if fid == "labels":
            return list(issue.labels)
        if fid == "components":
            return [
                {
                    "self": f"{self.base}/rest/api/{version}/component/{self._component_id(c)}",
                    "id": self._component_id(c),
                    "name": c,
                }
                for c in issue.components
            ]
        if fid == "comment":
            total = len(issue.comments)
            shown = issue.comments if comment_limit is None else issue.comments[:comment_limit]
            return {
                "comments": [self._comment_json(issue, c, version) for c in shown],
                "self": f"{self.base}/rest/api/{version}/issue/{issue.id}/comment",
                "maxResults": comment_limit if comment_limit is not None else total,
                "total": total,
                "startAt": 0,
            }
        if fid == "issuelinks":
            return self._links_json(issue, version)
        if fid == "duedate":
            return issue.due_date.isoformat() if issue.due_date else None
        if fid == "parent":
            return (
                self._brief_issue(issue.parent, version) if issue.parent in self._issues else None
            )
        cf = self._custom_by_id(fid)
        if cf is not None:
            return self._custom_json(issue, cf, version)
        return None

    def _custom_by_id(self, fid: str) -> CustomFieldDef | None:
        return next((c for c in self._custom if c.id == fid), None)

    def _all_field_ids(self, navigable_only: bool = False) -> list[str]:
        ids = [
            fid
            for fid, _n, _s, _c, nav in SYSTEM_FIELDS
            if fid != "issuekey" and (nav or not navigable_only)
        ]
        return ids + [c.id for c in self._custom]

    def _resolve_field_name(self, name: str) -> str | None:
        folded = name.casefold()
        for fid, fname, _schema, clauses, _nav in SYSTEM_FIELDS:
            if folded in (fid.casefold(), fname.casefold(), *(c.casefold() for c in clauses)):
                return "key" if fid == "issuekey" else fid
        for cf in self._custom:
            if folded in (cf.id.casefold(), *(c.casefold() for c in cf.clause_names)):
                return cf.id
        return None

    def _select_fields(self, requested: list[str] | None, default: str) -> list[str]:
        """Jira's ``fields`` parameter: ids or names, ``*all``, ``*navigable``, ``-field``."""
        items = requested if requested is not None else [default]
        chosen: list[str] = []
        excluded: set[str] = set()
        for item in items:
            item = item.strip()
            if not item:
                continue
            if item == "*all":
                chosen.extend(self._all_field_ids())
            elif item == "*navigable":
                chosen.extend(self._all_field_ids(navigable_only=True))
            elif item.startswith("-"):
                fid = self._resolve_field_name(item[1:])
                if fid:
                    excluded.add(fid)
            else:
                fid = self._resolve_field_name(item)
                if fid and fid not in ("key", "id"):
                    chosen.append(fid)
        seen: list[str] = []
        for fid in chosen:
            if fid not in excluded and fid not in seen:
                seen.append(fid)
        return seen

    def _issue_json(
        self,
        issue: IssueState,
        version: str,
        field_ids: list[str],
        properties: list[str] | None = None,
        expand: str = "",
        comment_limit: int | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.base}/rest/api/{version}/issue/{issue.id}",
            "key": issue.key,
        }
        if field_ids:
            out["fields"] = {
                fid: self._field_value(issue, fid, version, comment_limit) for fid in field_ids
            }
        if properties:
            wanted = (
                list(issue.properties)
                if "*all" in properties
                else [p for p in properties if p in issue.properties]
            )
            out["properties"] = {p: issue.properties[p] for p in wanted}
        if "names" in expand.split(","):
            out["names"] = self._names(field_ids)
        return out

    def _names(self, field_ids: list[str]) -> dict[str, str]:
        names = {fid: fname for fid, fname, *_ in SYSTEM_FIELDS}
        names.update({c.id: c.name for c in self._custom})
        return {fid: names.get(fid, fid) for fid in field_ids}

    # -- handlers: site ----------------------------------------------------------------------
    def _server_info(self, request: Request, m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "baseUrl": self.base,
                "displayUrl": self.base,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100290,
                "buildDate": "2026-01-01T00:00:00.000+0000",
                "serverTime": jira_time(self.now()),
                "scmInfo": "emulator",
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            },
        )

    def _get_myself(self, request: Request, m: re.Match[str]) -> Response:
        assert self._myself is not None
        return Response(200, self._user_json(self._myself["account_id"], m.group(1)))

    def _get_fields(self, request: Request, m: re.Match[str]) -> Response:
        out = []
        for fid, name, schema, clauses, navigable in SYSTEM_FIELDS:
            entry: dict[str, Any] = {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": fid in SETTABLE_SYSTEM,
                "navigable": navigable,
                "searchable": True,
                "clauseNames": clauses,
            }
            if schema:
                entry["schema"] = schema
            out.append(entry)
        for cf in self._custom:
            out.append(
                {
                    "id": cf.id,
                    "key": cf.id,
                    "name": cf.name,
                    "untranslatedName": cf.name,
                    "custom": True,
                    "orderable": cf.type != "sla",
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": cf.clause_names,
                    "schema": {**CUSTOM_SCHEMAS[cf.type], "customId": cf.number},
                }
            )
        return Response(200, out)

    def _user_search(self, request: Request, m: re.Match[str]) -> Response:
        query = (request.arg("query") or request.arg("username") or "").strip()
        account_id = request.arg("accountId")
        if not query and not account_id:
            raise HttpError(
                400,
                ["One of 'query' or 'accountId' or 'property' query parameters must be provided."],
            )
        start = _int(request.arg("startAt"), 0, "startAt")
        limit = _int(request.arg("maxResults"), 50, "maxResults")
        folded = query.casefold()
        found = []
        for user in self.desk["users"]:
            if account_id and user["account_id"] != account_id:
                continue
            if folded:
                email = (user.get("email") or "").casefold()
                words = user["display_name"].casefold().split()
                if not (
                    email.startswith(folded)
                    or user["display_name"].casefold().startswith(folded)
                    or any(w.startswith(folded) for w in words)
                ):
                    continue
            found.append(self._user_json(user["account_id"], m.group(1)))
        return Response(200, found[start : start + limit])

    def _get_user(self, request: Request, m: re.Match[str]) -> Response:
        user = self._user_json(request.arg("accountId"), m.group(1))
        if user is None:
            raise HttpError(
                404, ["Specified user does not exist or you do not have required permissions"]
            )
        return Response(200, user)

    def _get_priorities(self, request: Request, m: re.Match[str]) -> Response:
        return Response(200, [self._priority_json(p, m.group(1)) for p in PRIORITIES])

    def _get_projects(self, request: Request, m: re.Match[str]) -> Response:
        return Response(200, [self._project_json(k, m.group(1)) for k in self._projects])

    def _get_project(self, request: Request, m: re.Match[str]) -> Response:
        ref = m.group(2)
        for key in self._projects:
            if ref.upper() == key or self._project_json(key, "2")["id"] == ref:
                return Response(200, self._project_json(key, m.group(1)))
        raise HttpError(404, [f"No project could be found with key '{ref}'."])

    def _get_link_types(self, request: Request, m: re.Match[str]) -> Response:
        return Response(
            200,
            {
                "issueLinkTypes": [
                    self._link_type_json(t["name"], m.group(1)) for t in self._link_types
                ]
            },
        )

    # -- handlers: search --------------------------------------------------------------------
    def _removed_search(self, request: Request, m: re.Match[str]) -> Response:
        raise HttpError(410, [REMOVED_SEARCH_MESSAGE])

    def _jql_context(self) -> jql.Context:
        assert self._myself is not None
        return jql.Context(
            now=self.now(), current_user=self._myself["account_id"], field=self._jql_field
        )

    def _jql_field(self, name: str) -> jql.FieldSpec | None:
        folded = name.casefold()
        K = jql.Kind
        N = jql.Named

        def user_values(attr: str) -> Callable[[IssueState], list[jql.Named]]:
            def get(issue: IssueState) -> list[jql.Named]:
                account_id = getattr(issue, attr)
                return [self._user_named(account_id)] if account_id else []

            return get

        def known_users() -> list[str]:
            return [
                a for u in self.desk["users"] for a in self._user_named(u["account_id"]).aliases
            ]

        if folded == "project":
            return jql.FieldSpec(
                "project",
                K.NAME,
                lambda i: [
                    N.of(
                        i.project,
                        self._projects[i.project]["name"],
                        self._project_json(i.project, "2")["id"],
                    )
                ],
                known=lambda: [
                    a
                    for k in self._projects
                    for a in (
                        k.casefold(),
                        self._projects[k]["name"].casefold(),
                        self._project_json(k, "2")["id"],
                    )
                ],
            )
        if folded in ("key", "issuekey", "issue", "id"):
            return jql.FieldSpec(
                "key",
                K.KEY,
                lambda i: [N.of(i.key, i.id, sort=(i.project, i.number))],
                known=lambda: [a for i in self._issues.values() for a in (i.key.casefold(), i.id)],
            )
        if folded == "parent":
            return jql.FieldSpec(
                "parent",
                K.KEY,
                lambda i: [self._key_named(i.parent)] if i.parent in self._issues else [],
                known=lambda: [a for i in self._issues.values() for a in (i.key.casefold(), i.id)],
            )
        if folded in ("issuetype", "type"):
            return jql.FieldSpec(
                "issuetype",
                K.NAME,
                lambda i: [N.of(i.issuetype, self._type_id(i.issuetype))],
                known=lambda: [a for n, tid in self._type_ids.items() for a in (n, tid)],
            )
        if folded == "status":
            return jql.FieldSpec(
                "status",
                K.NAME,
                lambda i: [N.of(i.status, self._status_id(i.status))],
                known=lambda: [a for n, sid in self._status_ids.items() for a in (n, sid)],
            )
        if folded == "statuscategory":
            return jql.FieldSpec(
                "statusCategory",
                K.NAME,
                lambda i: [self._category_named(self._category(i.project, i.status))],
                known=lambda: [a for c in CATEGORY_JSON for a in self._category_named(c).aliases],
            )
        if folded in ("assignee", "reporter"):
            return jql.FieldSpec(folded, K.USER, user_values(folded), known=known_users)
        if folded == "priority":
            return jql.FieldSpec(
                "priority",
                K.NAME,
                lambda i: (
                    [
                        N.of(
                            i.priority,
                            str(PRIORITIES.index(i.priority) + 1),
                            sort=len(PRIORITIES) - PRIORITIES.index(i.priority),
                        )
                    ]
                    if i.priority in PRIORITIES
                    else []
                ),
                known=lambda: [
                    a for n, p in enumerate(PRIORITIES, 1) for a in (p.casefold(), str(n))
                ],
            )
        if folded == "labels":
            return jql.FieldSpec("labels", K.NAME, lambda i: [N.of(label) for label in i.labels])
        if folded == "component":
            return jql.FieldSpec(
                "component",
                K.NAME,
                lambda i: [N.of(c, self._component_id(c)) for c in i.components],
            )
        if folded == "resolution":
            return jql.FieldSpec(
                "resolution",
                K.NAME,
                lambda i: [N.of("Done", "10000")] if i.resolved else [],
                known=lambda: ["done", "10000", "unresolved"],
                empty_aliases=frozenset({"unresolved"}),
            )
        if folded in ("summary", "description"):
            return jql.FieldSpec(
                folded, K.TEXT, lambda i: [getattr(i, folded)] if getattr(i, folded) else []
            )
        if folded == "comment":
            return jql.FieldSpec("comment", K.TEXT, lambda i: [c.body for c in i.comments])
        if folded == "text":
            return jql.FieldSpec(
                "text",
                K.TEXT,
                lambda i: (
                    [i.summary, i.description, *(c.body for c in i.comments)]
                    + [str(v) for cf in self._custom if cf.type == "text" and (v := cf.get(i))]
                ),
            )
        if folded in ("created", "createddate", "updated", "updateddate"):
            attr = "created" if folded.startswith("created") else "updated"
            return jql.FieldSpec(attr, K.DATETIME, lambda i: [getattr(i, attr)])
        if folded in ("resolved", "resolutiondate"):
            return jql.FieldSpec(
                "resolved", K.DATETIME, lambda i: [i.resolved] if i.resolved else []
            )
        if folded in ("due", "duedate"):
            return jql.FieldSpec("due", K.DATE, lambda i: [i.due_date] if i.due_date else [])
        if folded == "organization":
            folded = "organizations"
        cf = next(
            (c for c in self._custom if folded in (c.id, *(n.casefold() for n in c.clause_names))),
            None,
        )
        if cf is None:
            return None
        return self._custom_jql_field(cf, known_users)

    def _custom_jql_field(
        self, cf: CustomFieldDef, known_users: Callable[[], list[str]]
    ) -> jql.FieldSpec:
        K = jql.Kind
        N = jql.Named
        if cf.type == "organizations":
            return jql.FieldSpec(
                cf.name,
                K.NAME,
                lambda i: [N.of(o, self._orgs.get(o)) for o in cf.get(i) or []],
                known=lambda: [a for o, oid in self._orgs.items() for a in (o.casefold(), oid)],
            )
        if cf.type == "request_type":
            return jql.FieldSpec(
                cf.name,
                K.NAME,
                lambda i: [self._request_type_named(cf.get(i))] if cf.get(i) else [],
                known=lambda: [
                    a for n in self._request_type_ids for a in self._request_type_named(n).aliases
                ],
            )
        if cf.type == "sla":
            return jql.FieldSpec(
                cf.name, K.SLA, lambda i: [s] if (s := self._sla_state(i)) is not None else []
            )
        if cf.type == "date":
            return jql.FieldSpec(cf.name, K.DATE, lambda i: [v] if (v := cf.get(i)) else [])
        if cf.type == "user":
            return jql.FieldSpec(
                cf.name,
                K.USER,
                lambda i: [self._user_named(v)] if (v := cf.get(i)) else [],
                known=known_users,
            )
        if cf.type in ("options", "option"):

            def option_values(i: IssueState) -> list[jql.Named]:
                value = cf.get(i)
                values = value if isinstance(value, list) else ([value] if value else [])
                return [N.of(v, self._option_json(cf, v, "2")["id"]) for v in values]

            return jql.FieldSpec(
                cf.name,
                K.NAME,
                option_values,
                known=lambda: [
                    a
                    for o in cf.options
                    for a in (o.casefold(), self._option_json(cf, o, "2")["id"])
                ],
            )
        return jql.FieldSpec(cf.name, K.TEXT, lambda i: [str(v)] if (v := cf.get(i)) else [])

    def _user_named(self, account_id: str) -> jql.Named:
        user = self._users.get(account_id) or {}
        return jql.Named.of(
            account_id,
            user.get("email"),
            user.get("display_name"),
            sort=(user.get("display_name") or account_id).casefold(),
        )

    def _key_named(self, key: str | None) -> jql.Named:
        issue = self._issues[key or ""]
        return jql.Named.of(issue.key, issue.id, sort=(issue.project, issue.number))

    def _category_named(self, category: str) -> jql.Named:
        c = CATEGORY_JSON[category]
        return jql.Named.of(c["key"], c["name"], str(c["id"]), sort=c["id"])

    def _request_type_named(self, name: str) -> jql.Named:
        rid = self._request_type_id(name)
        project = next(
            (p["key"] for p in self.desk["projects"] if name in p["request_types"]), "SS"
        )
        return jql.Named.of(name, rid, f"{project.lower()}/{rid}")

    def _run_query(self, text: str) -> list[IssueState]:
        try:
            query = jql.parse(text)
            if query.where is None:
                raise HttpError(400, [UNBOUNDED_MESSAGE])
            predicate, sort = jql.compile_query(query, self._jql_context())
            matched = [i for i in self._issues.values() if predicate(i)]
        except jql.JqlError as exc:
            raise HttpError(400, [f"Error in the JQL Query: {exc}"]) from None
        if not query.order_by:
            # No ORDER BY: newest first, a stable order so that pages do not overlap.
            return sorted(matched, key=lambda i: int(i.id), reverse=True)
        return sort(sorted(matched, key=lambda i: int(i.id)))

    @staticmethod
    def _token(offset: int, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        raw = json.dumps({"o": offset, "q": digest}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _offset_from(token: str, text: str) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            offset = int(data["o"])
            digest = str(data["q"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise HttpError(400, ["The provided nextPageToken is invalid."]) from None
        if digest != hashlib.sha256(text.encode()).hexdigest()[:16] or offset < 0:
            raise HttpError(400, ["The provided nextPageToken does not belong to this JQL query."])
        return offset

    def _search_jql(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        if request.method == "POST":
            try:
                body = request.json() or {}
            except ValueError:
                raise HttpError(
                    400,
                    ["Invalid request payload. Refer to the REST API documentation and try again."],
                ) from None
            if not isinstance(body, dict):
                raise HttpError(
                    400,
                    ["Invalid request payload. Refer to the REST API documentation and try again."],
                )
            text = str(body.get("jql") or "")
            fields = body.get("fields")
            if isinstance(fields, str):
                fields = fields.split(",")
            expand = body.get("expand") or ""
            if isinstance(expand, list):
                expand = ",".join(expand)
            properties = body.get("properties") or []
            if isinstance(properties, str):
                properties = properties.split(",")
            max_results = body.get("maxResults")
            token = body.get("nextPageToken")
        else:
            text = request.arg("jql") or ""
            fields = _split_csv(request.query.get("fields")) if "fields" in request.query else None
            expand = request.arg("expand") or ""
            properties = _split_csv(request.query.get("properties"))
            max_results = request.arg("maxResults")
            token = request.arg("nextPageToken")
        field_ids = self._select_fields(fields, default="id")
        requested = _int(max_results, SEARCH_DEFAULT_PAGE, "maxResults")
        cap = SEARCH_MAX_PAGE_WITH_FIELDS if field_ids or properties else SEARCH_MAX_PAGE_IDS_ONLY
        page_size = max(1, min(requested, cap))
        matched = self._run_query(text)
        offset = self._offset_from(str(token), text) if token else 0
        page = matched[offset : offset + page_size]
        issues = [
            self._issue_json(i, version, field_ids, list(properties), "", SEARCH_COMMENT_LIMIT)
            for i in page
        ]
        out: dict[str, Any] = {"issues": issues}
        if offset + page_size < len(matched):
            out["nextPageToken"] = self._token(offset + page_size, text)
            out["isLast"] = False
        else:
            out["isLast"] = True
        if "names" in str(expand).split(","):
            out["names"] = self._names(field_ids)
        return Response(200, out)

    # -- handlers: issues ----------------------------------------------------------------------
    def _get_issue(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        fields = _split_csv(request.query.get("fields")) if "fields" in request.query else None
        field_ids = self._select_fields(fields, default="*all")
        properties = _split_csv(request.query.get("properties"))
        return Response(
            200,
            self._issue_json(issue, version, field_ids, properties, request.arg("expand") or ""),
        )

    def _payload(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise HttpError(400, ["Unexpected character in the request body: not JSON."]) from None
        if not isinstance(body, dict):
            raise HttpError(400, ["The request body must be a JSON object."])
        return body

    def _create_issue(self, request: Request, m: re.Match[str]) -> Response:
        body = self._payload(request)
        fields = body.get("fields") or {}
        errors: dict[str, str] = {}
        project = self._ref_project(fields.get("project"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        itype = self._ref_issuetype(fields.get("issuetype"), project)
        if itype is None:
            errors["issuetype"] = "Specify an issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        if errors:
            raise HttpError(400, [], errors)
        assert project is not None and itype is not None
        now = self.now()
        issue = IssueState(
            id=str(self._next_issue_id),
            key=f"{project}-{self._next_number(project)}",
            project=project,
            issuetype=itype,
            summary="",
            status=self._projects[project]["initial_status"],
            created=now,
            updated=now,
            reporter=self._myself["account_id"] if self._myself else None,
        )
        rest = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        self._apply_fields(issue, rest, body.get("update") or {})
        self._next_issue_id += 1
        self._issues[issue.key] = issue
        version = "3" if m.group(1) == "3" else "2"
        return Response(
            201,
            {
                "id": issue.id,
                "key": issue.key,
                "self": f"{self.base}/rest/api/{version}/issue/{issue.id}",
            },
        )

    def _edit_issue(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        body = self._payload(request)
        self._apply_fields(issue, body.get("fields") or {}, body.get("update") or {})
        issue.updated = self.now()
        return Response(204)

    def _ref_project(self, ref: Any) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("key") or ref.get("id")
        for key in self._projects:
            if ref is not None and str(ref).upper() in (key, self._project_json(key, "2")["id"]):
                return key
        return None

    def _ref_issuetype(self, ref: Any, project: str | None) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("name") or ref.get("id")
        if ref is None or project is None:
            return None
        for name in self._projects[project]["issue_types"]:
            if str(ref).casefold() in (name.casefold(), self._type_id(name)):
                return name
        return None

    def _ref_user(self, ref: Any) -> str | None:
        if isinstance(ref, dict):
            ref = ref.get("accountId") or ref.get("id")
        if ref is None:
            return None
        if str(ref) in self._users:
            return str(ref)
        raise ValueError("Specified user does not exist or you do not have required permissions")

    def _apply_fields(
        self, issue: IssueState, fields: dict[str, Any], update: dict[str, Any]
    ) -> None:
        """Validate everything first, then write, so a 400 leaves the issue untouched."""
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise HttpError(400, ["`fields` and `update` must be JSON objects."])
        errors: dict[str, str] = {}
        writes: list[tuple[str, Any]] = []
        comments: list[str] = []
        for fid, value in fields.items():
            try:
                writes.append((fid, self._parse_field(fid, value, issue)))
            except ValueError as exc:
                errors[fid] = str(exc)
        for fid, ops in update.items():
            if not isinstance(ops, list):
                errors[fid] = "Operations must be a list."
                continue
            if fid == "comment":
                for op in ops:
                    body = (op.get("add") or {}).get("body") if isinstance(op, dict) else None
                    if body is None:
                        errors[fid] = "Only 'add' is supported for comments."
                    else:
                        comments.append(adf_to_text(body))
                continue
            try:
                writes.append((fid, self._apply_ops(fid, ops, issue, fields)))
            except ValueError as exc:
                errors[fid] = str(exc)
        if errors:
            raise HttpError(400, [], errors)
        for fid, value in writes:
            self._write_field(issue, fid, value)
        for body in comments:
            self._add_comment(issue, body, public=True)

    def _apply_ops(
        self, fid: str, ops: list[Any], issue: IssueState, fields: dict[str, Any]
    ) -> Any:
        if fid in fields:
            raise ValueError(f"Field '{fid}' cannot be both in `fields` and `update`.")
        if fid in ("labels", "components"):
            current = list(getattr(issue, fid))
            for op in ops:
                if not isinstance(op, dict) or len(op) != 1:
                    raise ValueError("Each operation must be one of add, remove or set.")
                verb, operand = next(iter(op.items()))
                if verb == "set":
                    current = list(self._parse_field(fid, operand, issue))
                elif verb in ("add", "remove"):
                    (item,) = self._parse_field(fid, [operand], issue)
                    if verb == "add" and item not in current:
                        current.append(item)
                    if verb == "remove" and item in current:
                        current.remove(item)
                else:
                    raise ValueError(f"Operation '{verb}' is not supported for '{fid}'.")
            return current
        value: Any = None
        for op in ops:
            if not isinstance(op, dict) or "set" not in op:
                raise ValueError(f"Only 'set' is supported for '{fid}'.")
            value = self._parse_field(fid, op["set"], issue)
        return value

    def _parse_field(self, fid: str, value: Any, issue: IssueState) -> Any:
        """Wire value -> stored value; raises ValueError with Jira's per-field message."""
        if fid == "summary":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("You must specify a summary of the issue.")
            if "\n" in value or "\r" in value:
                raise ValueError("The summary is invalid because it contains newline characters.")
            return value
        if fid == "description":
            return adf_to_text(value)
        if fid in ("assignee", "reporter"):
            return self._ref_user(value)
        if fid == "priority":
            ref = value.get("name") or value.get("id") if isinstance(value, dict) else value
            for n, p in enumerate(PRIORITIES, 1):
                if ref is not None and str(ref).casefold() in (p.casefold(), str(n)):
                    return p
            raise ValueError("The priority selected is invalid.")
        if fid == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("Labels must be a list of strings.")
            for label in value:
                if not label or any(ch.isspace() for ch in label):
                    raise ValueError(f"The label '{label}' contains spaces which is invalid.")
            return list(value)
        if fid == "components":
            if not isinstance(value, list):
                raise ValueError("Components must be a list.")
            names = []
            for item in value:
                name = item.get("name") if isinstance(item, dict) else item
                if isinstance(item, dict) and not name and item.get("id"):
                    name = next(
                        (n for n, cid in self._component_ids.items() if cid == str(item["id"])),
                        None,
                    )
                if not name:
                    raise ValueError("Component name or id is required.")
                names.append(str(name))
            return names
        if fid == "duedate":
            return self._parse_date(value)
        if fid == "parent":
            ref = value.get("key") or value.get("id") if isinstance(value, dict) else value
            if ref is None:
                return None
            try:
                return self._get(str(ref)).key
            except HttpError:
                raise ValueError(f"Could not find issue by id or key: {ref}") from None
        if fid == "issuetype":
            itype = self._ref_issuetype(value, issue.project)
            if itype is None:
                raise ValueError("The issue type selected is invalid.")
            return itype
        cf = self._custom_by_id(fid)
        if cf is None:
            raise ValueError(
                f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        return self._parse_custom(cf, value)

    @staticmethod
    def _parse_date(value: Any) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"Error parsing date string: {value}") from None

    def _parse_custom(self, cf: CustomFieldDef, value: Any) -> Any:
        if cf.type == "sla":
            raise ValueError(
                f"Field '{cf.id}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        if cf.type == "date":
            return self._parse_date(value)
        if cf.type == "user":
            return self._ref_user(value)
        if cf.type == "text":
            return None if value is None else adf_to_text(value)
        if cf.type == "organizations":
            names = []
            for item in value or []:
                ref = (item.get("id") or item.get("name")) if isinstance(item, dict) else item
                found = next((n for n, oid in self._orgs.items() if str(ref) in (oid, n)), None)
                if found is None:
                    raise ValueError(f"Organization '{ref}' does not exist.")
                names.append(found)
            return names
        if cf.type == "request_type":
            if value in (None, ""):
                return None
            ref = (value.get("id") or value.get("name")) if isinstance(value, dict) else value
            for display in self._request_type_names.values():
                if str(ref).casefold() in self._request_type_named(display).aliases:
                    return display
            raise ValueError(f"The request type '{ref}' does not exist.")
        if cf.type == "option":
            if value is None:
                return None
            return self._parse_option(cf, value)
        if cf.type == "options":
            if value is None:
                return []
            if not isinstance(value, list):
                raise ValueError("Specify the values as a list of options.")
            return [self._parse_option(cf, v) for v in value]
        return value

    def _parse_option(self, cf: CustomFieldDef, value: Any) -> str:
        if isinstance(value, dict):
            if value.get("value") is not None:
                ref = str(value["value"])
            else:
                ref = str(value.get("id"))
                for option in cf.options:
                    if self._option_json(cf, option, "2")["id"] == ref:
                        return option
        else:
            ref = str(value)
        if ref in cf.options:
            return ref
        raise ValueError(f"Option value '{ref}' is not valid")

    def _write_field(self, issue: IssueState, fid: str, value: Any) -> None:
        attr = {"duedate": "due_date", "issuetype": "issuetype"}.get(fid, fid)
        if fid in SETTABLE_SYSTEM:
            setattr(issue, attr, value)
            if fid == "components":
                for c in value:
                    self._component_id(c)
            return
        cf = self._custom_by_id(fid)
        assert cf is not None
        cf.set(issue, value)

    # -- handlers: transitions, links, properties ----------------------------------------------
    def _available_transitions(self, issue: IssueState) -> list[dict[str, Any]]:
        project = self._projects[issue.project]
        return [
            t
            for t in project["transitions"]
            if not t["from"] or issue.status.casefold() in (s.casefold() for s in t["from"])
        ]

    def _get_transitions(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        wanted = request.arg("transitionId")
        out = []
        for t in self._available_transitions(issue):
            if wanted and t["id"] != wanted:
                continue
            out.append(
                {
                    "id": t["id"],
                    "name": t["name"],
                    "to": self._status_json(issue.project, t["to"], version),
                    "hasScreen": False,
                    "isGlobal": not t["from"],
                    "isInitial": False,
                    "isAvailable": True,
                    "isConditional": False,
                    "isLooped": False,
                }
            )
        return Response(200, {"expand": "transitions", "transitions": out})

    def _do_transition(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        body = self._payload(request)
        ref = (
            (body.get("transition") or {}).get("id")
            if isinstance(body.get("transition"), dict)
            else None
        )
        transition = next(
            (t for t in self._available_transitions(issue) if str(ref) == t["id"]), None
        )
        if transition is None:
            raise HttpError(400, [f"Transition id '{ref}' is not valid for this issue."])
        self._apply_fields(issue, body.get("fields") or {}, body.get("update") or {})
        was_done = self._category(issue.project, issue.status) == "done"
        issue.status = transition["to"]
        now = self.now()
        is_done = self._category(issue.project, issue.status) == "done"
        if is_done and not was_done:
            issue.resolved = now
        elif was_done and not is_done:
            issue.resolved = None
        issue.updated = now
        return Response(204)

    def _post_link(self, request: Request, m: re.Match[str]) -> Response:
        body = self._payload(request)
        ref = body.get("type") or {}
        name = ref.get("name") or ref.get("id") if isinstance(ref, dict) else None
        found = next(
            (
                t["name"]
                for t in self._link_types
                if name is not None
                and str(name).casefold()
                in (t["name"].casefold(), self._link_type_json(t["name"], "2")["id"])
            ),
            None,
        )
        if found is None:
            raise HttpError(404, [f"No issue link type with name '{name}' found."])
        keys = []
        for side in ("inwardIssue", "outwardIssue"):
            issue_ref = body.get(side) or {}
            issue_key = (
                issue_ref.get("key") or issue_ref.get("id") if isinstance(issue_ref, dict) else None
            )
            if not issue_key:
                raise HttpError(400, [f"{side} is required."])
            keys.append(self._get(str(issue_key)).key)
        # Jira makes the POSTed inwardIssue the link's source: it reads the outward phrase.
        self._add_link(found, keys[0], keys[1])
        comment = body.get("comment")
        if isinstance(comment, dict) and comment.get("body"):
            self._add_comment(self._issues[keys[0]], adf_to_text(comment["body"]), public=False)
        now = self.now()
        for key in keys:
            self._issues[key].updated = now
        return Response(201)

    def _list_properties(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        base = f"{self.base}/rest/api/{m.group(1)}/issue/{issue.id}/properties"
        return Response(
            200, {"keys": [{"self": f"{base}/{k}", "key": k} for k in issue.properties]}
        )

    def _get_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        key = m.group(3)
        if key not in issue.properties:
            raise HttpError(404, [f"The property with key '{key}' does not exist."])
        return Response(200, {"key": key, "value": issue.properties[key]})

    def _put_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        key = m.group(3)
        if len(key) > 255:
            raise HttpError(400, ["The property key cannot be longer than 255 characters."])
        if len(request.body) > 32768:
            raise HttpError(400, ["The property value cannot be longer than 32768 bytes."])
        try:
            value = request.json()
        except ValueError:
            raise HttpError(
                400, ["The property value has to be a valid, non-empty JSON."]
            ) from None
        created = key not in issue.properties
        issue.properties[key] = value
        return Response(201 if created else 200)

    def _delete_property(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._get(m.group(2))
        if issue.properties.pop(m.group(3), None) is None:
            raise HttpError(404, [f"The property with key '{m.group(3)}' does not exist."])
        return Response(204)

    # -- handlers: comments --------------------------------------------------------------------
    def _add_comment(self, issue: IssueState, body: str, *, public: bool) -> CommentState:
        assert self._myself is not None
        now = self.now()
        comment = CommentState(
            id=self._new_comment_id(),
            author=self._myself["account_id"],
            body=body,
            created=now,
            updated=now,
            public=public,
            properties={} if public else {"sd.public.comment": {"internal": True}},
        )
        issue.comments.append(comment)
        issue.updated = now
        return comment

    def _get_comments(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        start = max(0, _int(request.arg("startAt"), 0, "startAt"))
        limit = max(
            1,
            min(_int(request.arg("maxResults"), COMMENT_PAGE_CAP, "maxResults"), COMMENT_PAGE_CAP),
        )
        ordered = list(issue.comments)
        if (request.arg("orderBy") or "").startswith("-"):
            ordered.reverse()
        with_properties = "properties" in (request.arg("expand") or "").split(",")
        page = ordered[start : start + limit]
        return Response(
            200,
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(ordered),
                "comments": [self._comment_json(issue, c, version, with_properties) for c in page],
            },
        )

    def _post_comment(self, request: Request, m: re.Match[str]) -> Response:
        version = "3" if m.group(1) == "3" else "2"
        issue = self._get(m.group(2))
        body = self._payload(request)
        text = adf_to_text(body.get("body"))
        if not text.strip():
            raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
        internal = False
        for prop in body.get("properties") or []:
            if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
                internal = bool((prop.get("value") or {}).get("internal"))
        comment = self._add_comment(issue, text, public=not internal)
        return Response(201, self._comment_json(issue, comment, version, with_properties=True))

    def _sd_issue(self, ref: str) -> IssueState:
        try:
            issue = self._get(ref)
        except HttpError:
            issue = None
        if issue is None or self._projects[issue.project]["type"] != "service_desk":
            raise HttpError(
                404, ["Request does not exist or you do not have permission to see it."]
            )
        return issue

    def _sd_comment_json(self, issue: IssueState, c: CommentState) -> dict[str, Any]:
        user = self._users.get(c.author or "") or {}
        author = {
            "accountId": c.author,
            "displayName": user.get("display_name"),
            "active": True,
            "timeZone": user.get("time_zone") or "UTC",
            "_links": {"self": f"{self.base}/rest/api/2/user?accountId={c.author}"},
        }
        if user.get("email"):
            author["emailAddress"] = user["email"]
        return {
            "_expands": ["attachment", "renderedBody"],
            "id": c.id,
            "body": c.body,
            "public": c.public,
            "author": author,
            "created": _sd_time(c.created),
            "_links": {
                "self": f"{self.base}/rest/servicedeskapi/request/{issue.id}/comment/{c.id}"
            },
        }

    def _sd_post_comment(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._sd_issue(m.group(1))
        body = self._payload(request)
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            return Response(
                400,
                {
                    "errorMessage": "The comment body must not be empty.",
                    "i18nErrorMessage": {"i18nKey": "sd.comment.body.empty", "parameters": []},
                },
            )
        public = body.get("public", True)
        if not isinstance(public, bool):
            return Response(
                400,
                {
                    "errorMessage": "'public' must be true or false.",
                    "i18nErrorMessage": {"i18nKey": "sd.comment.public.invalid", "parameters": []},
                },
            )
        comment = self._add_comment(issue, text, public=public)
        return Response(201, self._sd_comment_json(issue, comment))

    def _sd_get_comments(self, request: Request, m: re.Match[str]) -> Response:
        issue = self._sd_issue(m.group(1))
        start = max(0, _int(request.arg("start"), 0, "start"))
        limit = max(1, min(_int(request.arg("limit"), 50, "limit"), 100))
        show_public = (request.arg("public") or "true").lower() != "false"
        show_internal = (request.arg("internal") or "true").lower() != "false"
        chosen = [c for c in issue.comments if (show_public if c.public else show_internal)]
        page = chosen[start : start + limit]
        base = f"{self.base}/rest/servicedeskapi/request/{issue.id}/comment"
        return Response(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + len(page) >= len(chosen),
                "_links": {"base": self.base, "context": "", "self": base},
                "values": [self._sd_comment_json(issue, c) for c in page],
            },
        )

    def _sd_organizations(self, request: Request, m: re.Match[str]) -> Response:
        start = max(0, _int(request.arg("start"), 0, "start"))
        limit = max(1, min(_int(request.arg("limit"), 50, "limit"), 100))
        orgs = sorted(self._orgs.items(), key=lambda kv: int(kv[1]) if kv[1].isdigit() else 0)
        page = orgs[start : start + limit]
        return Response(
            200,
            {
                "_expands": [],
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + len(page) >= len(orgs),
                "_links": {
                    "base": self.base,
                    "context": "",
                    "self": f"{self.base}/rest/servicedeskapi/organization",
                },
                "values": [
                    {
                        "id": oid,
                        "name": name,
                        "_links": {"self": f"{self.base}/rest/servicedeskapi/organization/{oid}"},
                    }
                    for name, oid in page
                ],
            },
        )
