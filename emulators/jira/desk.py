"""The desk's state, clock, test helpers, authentication and routing."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.base import Emulator, Request, Response
from emulators.fixtures import PEOPLE_FILE, load_desk, normalize_ticket
from emulators.jira.model import (
    BUILTIN_CUSTOM_FIELDS,
    DEFAULT_EMAIL,
    DEFAULT_TOKEN,
    NO_ISSUE,
    NOT_AUTHENTICATED,
    CommentState,
    CustomFieldDef,
    HttpError,
    IssueState,
    LinkState,
    sd_error,
)

API = r"/rest/api/(2|3|latest)"
SERVICE_DESK_API = "/rest/servicedeskapi/"


class JiraDesk(Emulator):
    """State and plumbing; the endpoint groups are mixed in by `JiraEmulator`."""

    default_retry_after = 1.0
    """Jira Cloud's 429s say how long to wait (rate limiting guide: ``Retry-After`` seconds)."""

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

    def now(self) -> datetime:
        moment = self._clock() + self._offset
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def clock_time(self) -> float:
        return self.now().timestamp()

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

    def remove_field(self, name: str) -> None:
        """The site no longer has the custom field with this English name (deleted, say)."""
        with self._lock:
            self._custom = [c for c in self._custom if c.name != name]

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
        self._translations: dict[str, str] = dict(
            (desk.get("site") or {}).get("translations") or {}
        )
        """English name -> the name this account's language shows (custom fields, issue
        types); empty for an English site."""
        self._projects = {p["key"]: p for p in desk["projects"]}
        self._status_ids: dict[str, str] = {}
        self._type_ids: dict[str, str] = {}
        self._type_names: dict[str, str] = {}
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
        self._next_history_id = 10000
        for ticket in desk["tickets"]:
            self._add_ticket(ticket)
        for ticket in desk["tickets"]:
            self._add_ticket_links(ticket)

    def _index_users(self) -> None:
        self._users = {u["account_id"]: u for u in self.desk["users"]}

    def _status_id(self, name: str) -> str:
        return self._status_ids.setdefault(name.casefold(), str(10000 + len(self._status_ids)))

    def _shown(self, name: str) -> str:
        """A name as Jira shows it to the automation account (its language)."""
        return self._translations.get(name, name)

    def _untranslated(self, name: str) -> str | None:
        """The English name for a name shown in the site's language (or an English name)."""
        if name in self._translations:
            return name
        return next((en for en, shown in self._translations.items() if shown == name), None)

    def _type_id(self, name: str) -> str:
        self._type_names.setdefault(name.casefold(), name)
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
        self._load_history(issue, t.get("history") or [])
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

    def _register_routes(self) -> None:
        # Each endpoint group declares ROUTES as (method, pattern, handler name).
        for klass in reversed(type(self).__mro__):
            for method, pattern, handler in klass.__dict__.get("ROUTES", ()):
                path = pattern.replace("{api}", API)
                self.route(method, path, self._guarded(getattr(self, handler)))

    def _guarded(
        self, handler: Callable[[Request, re.Match[str]], Response]
    ) -> Callable[[Request, re.Match[str]], Response]:
        def run(request: Request, match: re.Match[str]) -> Response:
            if not self._authorized(request):
                if request.path.startswith(SERVICE_DESK_API):
                    return Response(401, sd_error(NOT_AUTHENTICATED, "sd.auth.error.notLoggedIn"))
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
        if request.path.startswith(SERVICE_DESK_API):
            message = f"No resource at {request.method} {request.path}"
            return Response(404, sd_error(message, "sd.rest.error.notFound"))
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
