"""Jira Cloud and Jira Service Management through the ``jira`` library (3.10).

What this adapter guarantees to the jobs:

- searches use only ``POST /rest/api/3/search/jql`` with ``nextPageToken`` (Atlassian removed
  ``/rest/api/*/search`` in 2025, see https://developer.atlassian.com/changelog/#CHANGE-2046),
  streamed page by page into `jobs.model.Ticket`;
- custom fields are asked for by display name and resolved to ids with one ``GET /field``;
- every HTTP request is counted (including the library's own serverInfo call and every retry)
  and retried only by the shared policy in `jobs.adapters.http`: the library's retries are off;
- errors are rebuilt from status and Jira's error messages. `jira.exceptions.JIRAError` prints
  the request headers (the Authorization header with the API token), so it is never chained,
  logged or formatted here;
- comment writes are not doubled by a retry: after an ambiguous failure (5xx, timeout) the
  ticket is read again before posting, because a public comment emails the customer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from jira import JIRA
from jira.exceptions import JIRAError
from jira.resilientsession import parse_error_msg

from jobs.adapters.http import (
    AdapterError,
    CallCounter,
    CredentialError,
    OutcomeUnknown,
    PermanentError,
    RetryBudget,
    TransientError,
    call_with_retry,
    parse_retry_after,
)
from jobs.jql import jql_quote  # noqa: F401  (re-exported: callers import it from here)
from jobs.model import (
    Comment,
    DataProblem,
    IssueLink,
    Person,
    SlaCycle,
    SlaField,
    StatusCategory,
    Ticket,
)

SYSTEM = "jira"
T = TypeVar("T")

SEARCH_PATH = "/rest/api/3/search/jql"
COMMENT_PAGE_SIZE = 100
SYSTEM_FIELDS = frozenset(
    {
        "summary",
        "status",
        "created",
        "updated",
        "assignee",
        "reporter",
        "priority",
        "labels",
        "components",
        "comment",
        "issuelinks",
        "description",
        "duedate",
        "resolutiondate",
        "resolution",
        "issuetype",
        "parent",
        "project",
    }
)
ALWAYS_FIELDS = ("summary", "status", "created")
"""A `Ticket` cannot be built without these, whatever the caller asked for."""

ORGANIZATIONS = "Organizations"
REQUEST_TYPE = "Request Type"
FIRST_RESPONSE_SLA = "Time to first response"
CONFIGURATION_DATE = "Configuration Date"
QA_DUE_DATE = "QA Due Date"
QA_ASSIGNEE = "QA Assignee"
CHANNEL = "Channel"


class _CountingJIRA(JIRA):
    """The library's client with every HTTP request it sends counted.

    The session is created inside ``JIRA.__init__``, which also fetches serverInfo right away;
    the basic-auth hook runs between the two, so the counter sees that first call too.
    """

    def __init__(self, *args: Any, on_request: Callable[[], None], **kwargs: Any) -> None:
        self._on_request = on_request
        super().__init__(*args, **kwargs)

    def _create_http_basic_session(self, username: str, password: str) -> None:
        super()._create_http_basic_session(username, password)
        send = self._session.send
        on_request = self._on_request

        def counting_send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            on_request()
            return send(request, **kwargs)

        self._session.send = counting_send  # type: ignore[method-assign]


class JiraAdapter:
    def __init__(
        self,
        url: str,
        email: str,
        token: str,
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float = 30.0,
        browse_url: str | None = None,
    ) -> None:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CredentialError(SYSTEM, "JIRA_URL must be https://<site>.atlassian.net")
        if parts.username or parts.password:
            raise CredentialError(SYSTEM, "JIRA_URL must not carry credentials; use JIRA_EMAIL")
        if not email or not token:
            raise CredentialError(SYSTEM, "JIRA_EMAIL and JIRA_API_TOKEN must not be empty")
        self._url = url.rstrip("/")
        self._email = email
        self._token = token
        self._counter = counter
        self._budget = budget
        self._timeout = timeout
        self._browse = (browse_url or url).rstrip("/")
        self._client: JIRA | None = None
        self._fields: list[dict[str, Any]] | None = None
        self._field_ids: dict[str, str] | None = None
        self._org_ids: dict[str, int] | None = None
        self.problems: list[DataProblem] = []
        """Tickets a search returned that could not be used; the run report lists them."""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float = 30.0,
        browse_url: str | None = None,
    ) -> JiraAdapter:
        names = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN")
        missing = [n for n in names if not (env.get(n) or "").strip()]
        if missing:
            raise CredentialError(
                SYSTEM, f"{', '.join(missing)} not set (see .env.example; an Atlassian API token)"
            )
        return cls(
            env["JIRA_URL"].strip(),
            env["JIRA_EMAIL"].strip(),
            env["JIRA_API_TOKEN"].strip(),
            counter=counter,
            budget=budget,
            timeout=timeout,
            browse_url=browse_url or env.get("JIRA_BROWSE_URL") or None,
        )

    def __repr__(self) -> str:  # never show the token, even in a debugger or a log line
        return f"JiraAdapter(url={self._url!r}, email={self._email!r})"

    def browse_url(self, key: str) -> str:
        return f"{self._browse}/browse/{key}"

    # -- plumbing ----------------------------------------------------------------------------
    def _jira(self) -> JIRA:
        if self._client is None:
            # Built on first use (not in __init__) so `check-config` and dry runs that never
            # touch Jira make no call; a failed build is retried like any other request.
            self._client = _CountingJIRA(
                server=self._url,
                basic_auth=(self._email, self._token),
                options={"rest_api_version": "2", "check_update": False},
                max_retries=0,
                timeout=self._timeout,
                get_server_info=True,  # deploymentType "Cloud" unlocks the Cloud-only methods
                logging=False,
                on_request=lambda: self._counter.add(SYSTEM),
            )
        return self._client

    def _call(self, what: str, fn: Callable[[JIRA], T]) -> T:
        return call_with_retry(SYSTEM, lambda: self._attempt(what, fn), self._budget)

    def _attempt(self, what: str, fn: Callable[[JIRA], T]) -> T:
        error: AdapterError
        try:
            return fn(self._jira())
        except JIRAError as exc:
            error = _from_jira_error(exc, what)
        except (requests.exceptions.JSONDecodeError, json.JSONDecodeError):
            error = TransientError(SYSTEM, f"{what}: Jira answered with malformed JSON")
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            error = TransientError(
                SYSTEM,
                f"{what}: could not reach {urlsplit(self._url).hostname} ({type(exc).__name__})",
            )
        except requests.exceptions.RequestException as exc:
            error = PermanentError(SYSTEM, f"{what}: request failed ({type(exc).__name__})")
        except ValueError:
            error = TransientError(SYSTEM, f"{what}: Jira answered with malformed JSON")
        except (KeyError, TypeError, AttributeError) as exc:
            error = PermanentError(
                SYSTEM, f"{what}: unexpected answer shape ({type(exc).__name__}: {exc})"
            )
        # Raised outside the except blocks so the JIRAError (request headers!) is not chained.
        raise error

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Callable[[JIRA], Any]:
        def run(client: JIRA) -> Any:
            response = client._session.request(
                method,
                self._url + path,
                params=dict(params or {}),
                data=json.dumps(body) if body is not None else None,
            )
            if not response.content:
                return None
            return response.json()

        return run

    # -- fields ------------------------------------------------------------------------------
    def _load_fields(self) -> list[dict[str, Any]]:
        if self._fields is None:
            raw = self._call("list fields", lambda c: c.fields())
            if not isinstance(raw, list):
                raise PermanentError(SYSTEM, "GET /field did not answer with a list of fields")
            self._fields = [f for f in raw if isinstance(f, dict) and f.get("id")]
        return self._fields

    def field_ids(self) -> dict[str, str]:
        """Display name (and id) -> field id; fetched once per adapter."""
        if self._field_ids is None:
            ids: dict[str, str] = {}
            for f in self._load_fields():
                ids.setdefault(str(f["id"]), str(f["id"]))
            for f in self._load_fields():
                if f.get("name"):
                    ids.setdefault(str(f["name"]), str(f["id"]))
            self._field_ids = ids
        return self._field_ids

    def _schema(self, field_id: str) -> dict[str, Any]:
        for f in self._load_fields():
            if f.get("id") == field_id:
                schema = f.get("schema")
                return schema if isinstance(schema, dict) else {}
        return {}

    def _field_id(self, name: str) -> str:
        if name in SYSTEM_FIELDS:
            return name
        ids = self.field_ids()
        if name in ids:
            return ids[name]
        folded = {k.casefold(): v for k, v in ids.items()}
        if name.casefold() in folded:
            return folded[name.casefold()]
        raise PermanentError(
            SYSTEM,
            f"field {name!r} does not exist on this Jira site (GET /rest/api/2/field); "
            "check its display name in Jira's custom field settings",
        )

    def _custom_id(self, name: str) -> str | None:
        return self.field_ids().get(name)

    # -- search ------------------------------------------------------------------------------
    def search(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        page_size: int = 100,
        properties: Sequence[str] = (),
        expand: Sequence[str] = (),
    ) -> Iterator[Ticket]:
        """Tickets matching ``jql``, fetched a page at a time (never all pages in memory).

        ``fields`` are Jira ids or display names ("Time to first response"); a name the site
        does not have raises `PermanentError` before any search is sent. ``expand`` is sent as
        Jira's ``expand`` (e.g. ``("changelog",)``).
        """
        wanted: list[str] = []
        for name in (*ALWAYS_FIELDS, *fields):
            fid = self._field_id(name)
            if fid not in wanted:
                wanted.append(fid)
        names = self._custom_names()
        return self._pages(jql, wanted, max(1, page_size), list(properties), names, list(expand))

    def _custom_names(self) -> dict[str, str]:
        """The custom fields a Ticket is built from, by id -> our name for it."""
        out = {}
        for name in (
            ORGANIZATIONS,
            REQUEST_TYPE,
            FIRST_RESPONSE_SLA,
            CONFIGURATION_DATE,
            QA_DUE_DATE,
            QA_ASSIGNEE,
            CHANNEL,
        ):
            fid = self._custom_id(name)
            if fid:
                out[fid] = name
        return out

    def _pages(
        self,
        jql: str,
        field_ids: list[str],
        page_size: int,
        properties: list[str],
        custom: dict[str, str],
        expand: list[str],
    ) -> Iterator[Ticket]:
        def fetch(token: str | None) -> dict[str, Any]:
            body: dict[str, Any] = {"jql": jql, "fields": field_ids, "maxResults": page_size}
            if properties:
                body["properties"] = properties
            if expand:
                body["expand"] = ",".join(expand)
            if token:
                body["nextPageToken"] = token
            page = self._call("search", self._request("POST", SEARCH_PATH, body=body))
            if not isinstance(page, dict):
                raise PermanentError(SYSTEM, "search: the answer is not a JSON object")
            return page

        def next_token(page: dict[str, Any]) -> str | None:
            token = page.get("nextPageToken")
            if page.get("isLast") is True or not isinstance(token, str) or not token:
                return None
            return token

        # The next page is requested while this one is parsed and consumed, so a large search
        # costs its network time, not network plus parsing. At most two pages are held.
        seen: set[str] = set()
        keys: set[str] = set()
        """Tickets this search has yielded: `/search/jql` pages are not a snapshot, and a ticket
        updated while the search pages can come back on a later page (or twice in one)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jira-page") as pool:
            page = fetch(None)
            while True:
                token = next_token(page)
                if token is not None and token in seen:
                    raise PermanentError(
                        SYSTEM, "search: Jira returned the same nextPageToken twice; stopped paging"
                    )
                if token is not None:
                    seen.add(token)
                ahead: Future[dict[str, Any]] | None = pool.submit(fetch, token) if token else None
                try:
                    for raw in page.get("issues") or []:
                        if isinstance(raw, dict) and raw.get("key"):
                            key = str(raw["key"])
                            if key in keys:
                                self.problems.append(
                                    DataProblem(
                                        key,
                                        "the search listed this ticket twice (Jira's pages are "
                                        "not a snapshot); used the first copy",
                                    )
                                )
                                continue
                            keys.add(key)
                            ticket = self._ticket(raw, custom)
                            if ticket is not None:
                                yield ticket
                except GeneratorExit:
                    if ahead is not None:
                        ahead.cancel()
                    raise
                if ahead is None:
                    return
                page = ahead.result()

    # -- comments ----------------------------------------------------------------------------
    def comments(self, key: str) -> list[Comment]:
        """Every comment of ``key``, oldest first, read now (not from an earlier search)."""
        out: list[Comment] = []
        start = 0
        path = f"/rest/api/2/issue/{_path(key)}/comment"
        while True:
            params = {
                "startAt": start,
                "maxResults": COMMENT_PAGE_SIZE,
                "orderBy": "created",
                "expand": "properties",
            }
            page = self._call(f"read comments of {key}", self._request("GET", path, params=params))
            items = page.get("comments") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise PermanentError(SYSTEM, f"read comments of {key}: no comment list in answer")
            out.extend(c for c in (_comment(i) for i in items) if c is not None)
            start += len(items)
            total = _int(page.get("total"))
            if not items or total is None or start >= total:
                return out

    def with_all_comments(self, ticket: Ticket) -> Ticket:
        """The ticket with every comment; reads Jira only if the search truncated them."""
        if ticket.comments_total <= len(ticket.comments):
            return ticket
        comments = self.comments(ticket.key)
        return dataclasses.replace(
            ticket,
            comments=tuple(comments),
            comments_total=max(len(comments), ticket.comments_total),
        )

    def add_internal_comment(self, key: str, body: str) -> Comment:
        """An internal note (never emailed to the customer), as the library posts it."""

        def post(client: JIRA) -> Any:
            return client.add_comment(key, body, is_internal=True).raw

        return self._post_comment(key, body, False, post)

    def add_public_comment(self, key: str, body: str) -> Comment:
        """A reply that reaches the customer by email (Service Management request comment)."""
        path = f"/rest/servicedeskapi/request/{_path(key)}/comment"
        post = self._request("POST", path, body={"body": body, "public": True})
        return self._post_comment(key, body, True, post)

    def _post_comment(
        self, key: str, body: str, public: bool, post: Callable[[JIRA], Any]
    ) -> Comment:
        comment = _comment(self._call_unrepeatable(f"comment on {key}", post))
        if comment is None:
            raise PermanentError(SYSTEM, f"comment on {key}: the answer was not a comment")
        if comment.public != public:
            raise PermanentError(
                SYSTEM,
                f"comment on {key}: Jira made it {'public' if comment.public else 'internal'}",
            )
        return comment

    def _call_unrepeatable(self, what: str, fn: Callable[[JIRA], T]) -> T:
        """For writes that must not happen twice (comments email people, creates duplicate).

        Only 429 is retried: Jira refused before doing anything. After a 5xx or a dropped
        connection the write may have happened, so the run reports it instead of repeating it;
        the next run reads the ticket again before sending anything.
        """

        def attempt() -> T:
            failure: AdapterError
            try:
                return self._attempt(what, fn)
            except TransientError as exc:
                if exc.status == 429:
                    raise
                reason = str(exc).removeprefix(f"{SYSTEM}: ")
                failure = OutcomeUnknown(
                    SYSTEM, f"{reason} (not retried: it may have gone through)", exc.status
                )
            raise failure

        return call_with_retry(SYSTEM, attempt, self._budget)

    # -- writes ------------------------------------------------------------------------------
    def transition(self, key: str, to_status: str) -> None:
        """Move ``key`` to the status named ``to_status`` (any case) by whichever transition
        leads there. Already there is success (so a retry after a lost answer is harmless);
        no way there is a `PermanentError` naming the statuses that can be reached."""

        def attempt() -> None:
            offered = self._attempt(f"list transitions of {key}", lambda c: c.transitions(key))
            targets: dict[str, str] = {}
            chosen = None
            for t in offered if isinstance(offered, list) else []:
                to = t.get("to") if isinstance(t, dict) else None
                name = to.get("name") if isinstance(to, dict) else None
                if not isinstance(name, str):
                    continue
                targets[name] = str(t.get("name", ""))
                if chosen is None and name.casefold() == to_status.casefold():
                    chosen = str(t.get("id"))
            if chosen is not None:
                transition_id = chosen
                self._attempt(f"transition {key}", lambda c: c.transition_issue(key, transition_id))
                return
            path = f"/rest/api/2/issue/{_path(key)}"
            current = self._attempt(
                f"read status of {key}", self._request("GET", path, params={"fields": "status"})
            )
            fields = current.get("fields") if isinstance(current, dict) else None
            status = _name((fields or {}).get("status")) if isinstance(fields, dict) else None
            if status is not None and status.casefold() == to_status.casefold():
                return
            available = ", ".join(f"{s!r} (via {n!r})" for s, n in sorted(targets.items()))
            raise PermanentError(
                SYSTEM,
                f"{key} cannot move to {to_status!r} from {status!r}; "
                f"its workflow offers: {available or 'no transitions'}",
            )

        call_with_retry(SYSTEM, attempt, self._budget)

    def link(self, *, inward_key: str, outward_key: str, link_type: str) -> None:
        """Link two tickets. Jira's naming: ``inward_key`` reads the type's *outward* phrase,
        e.g. Duplicate with inward_key=approval, outward_key=onboarding gives
        "approval duplicates onboarding"."""
        # POSTed directly: the library first lists every link type on each call (its cache
        # check never hits), doubling the calls for a job that links many tickets.
        body = {
            "type": {"name": link_type},
            "inwardIssue": {"key": inward_key},
            "outwardIssue": {"key": outward_key},
        }
        # Not retried after a 5xx or a timeout: Jira would add a second, identical link.
        self._call_unrepeatable(
            f"link {inward_key} to {outward_key}",
            self._request("POST", "/rest/api/2/issueLink", body=body),
        )

    def set_priority(self, key: str, name: str) -> None:
        self._edit_raw(key, {"fields": {"priority": {"name": name}}})

    def add_labels(self, key: str, labels: Sequence[str]) -> None:
        if labels:
            self._edit_raw(key, {"update": {"labels": [{"add": label} for label in labels]}})

    def edit(self, key: str, fields_by_name: Mapping[str, Any]) -> None:
        """Set fields given by display name or id; plain values are shaped by field type
        (dates, users by account id, email or name, options, organizations by name). A wire
        shape (a dict) passes as is; "Request Type" takes the request type's id, as Jira does."""
        if fields_by_name:
            self._edit_raw(key, {"fields": self._wire_fields(fields_by_name)})

    def _edit_raw(self, key: str, body: dict[str, Any]) -> None:
        self._call(
            f"edit {key}", self._request("PUT", f"/rest/api/2/issue/{_path(key)}", body=body)
        )

    def create_issue(self, fields_by_name: Mapping[str, Any]) -> str:
        """Create a ticket and return its key; ``project``/``issuetype`` may be a key/a name."""
        wire = self._wire_fields(fields_by_name)
        issue = self._call_unrepeatable(
            "create issue", lambda c: c.create_issue(fields=wire, prefetch=False)
        )
        key = getattr(issue, "key", None)
        if not isinstance(key, str):
            raise PermanentError(SYSTEM, "create issue: the answer has no key")
        return key

    def set_property(self, key: str, prop: str, value: Any) -> None:
        self._call(
            f"set property {prop} on {key}", lambda c: c.add_issue_property(key, prop, value)
        )

    def get_property(self, key: str, prop: str) -> Any | None:
        """The property's value; None when it (or the ticket) is not there."""
        try:
            found = self._call(
                f"read property {prop} of {key}", lambda c: c.issue_property(key, prop)
            )
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        raw = getattr(found, "raw", None)
        return raw.get("value") if isinstance(raw, dict) else None

    def find_user(self, email_or_query: str) -> Person | None:
        """The account for an email (exact match preferred) or a name query; None if nobody."""
        users = self._call(
            f"find user {email_or_query}",
            lambda c: c.search_users(query=email_or_query, maxResults=20),
        )
        people = [p for p in (_person(getattr(u, "raw", None)) for u in users) if p is not None]
        wanted = email_or_query.casefold()
        for person in people:
            if person.email and person.email.casefold() == wanted:
                return person
        for person in people:
            if person.display_name and person.display_name.casefold() == wanted:
                return person
        return people[0] if people else None

    # -- value shaping for writes ------------------------------------------------------------
    def _wire_fields(self, fields_by_name: Mapping[str, Any]) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for name, value in fields_by_name.items():
            fid = self._field_id(name) if name not in ("project", "issuetype") else name
            wire[fid] = self._wire_value(fid, value)
        return wire

    def _wire_value(self, fid: str, value: Any) -> Any:
        if value is None or isinstance(value, dict):
            return value
        if fid == "project":
            return {"key": str(value)}
        if fid == "issuetype":
            return {"name": str(value)}
        if fid == "parent":
            return {"key": str(value)}
        schema = self._schema(fid)
        kind, items = schema.get("type"), schema.get("items")
        if kind == "user":
            return {"accountId": self._account_id(value)}
        if kind in ("priority", "resolution"):
            return {"name": str(value)}
        if kind in ("date", "datetime") and isinstance(value, date | datetime):
            return value.isoformat()
        if kind == "option":
            return {"value": str(value)}
        if kind == "array":
            values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
            if items == "option":
                return [v if isinstance(v, dict) else {"value": str(v)} for v in values]
            if items == "component":
                return [v if isinstance(v, dict) else {"name": str(v)} for v in values]
            if items == "sd-customerorganization":
                return [self._organization_id(v) for v in values]
            return [str(v) if not isinstance(v, dict) else v for v in values]
        return value

    def _account_id(self, value: Any) -> str:
        if isinstance(value, Person):
            if value.account_id:
                return value.account_id
            value = value.email or value.display_name or ""
        text = str(value).strip()
        if "@" not in text and not any(ch.isspace() for ch in text):
            return text  # account ids have neither; emails and display names are looked up
        person = self.find_user(text)
        if person is None or not person.account_id:
            raise PermanentError(SYSTEM, f"no Jira account for {text!r}")
        return person.account_id

    def _organization_id(self, value: Any) -> int:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
        if self._org_ids is None:
            self._org_ids = {}
            start = 0
            while True:
                page = self._call(
                    "list organizations",
                    self._request(
                        "GET",
                        "/rest/servicedeskapi/organization",
                        params={"start": start, "limit": 50},
                    ),
                )
                values = page.get("values") if isinstance(page, dict) else None
                for org in values or []:
                    if (
                        isinstance(org, dict)
                        and org.get("name")
                        and _int(org.get("id")) is not None
                    ):
                        self._org_ids[str(org["name"]).casefold()] = int(org["id"])
                start += len(values or [])
                if not values or not isinstance(page, dict) or page.get("isLastPage", True):
                    break
        found = self._org_ids.get(str(value).casefold())
        if found is None:
            raise PermanentError(SYSTEM, f"no Service Management organization named {value!r}")
        return found

    # -- parsing -----------------------------------------------------------------------------
    def _ticket(self, raw: dict[str, Any], custom: dict[str, str]) -> Ticket | None:
        key = str(raw["key"])
        fields = _dict(raw.get("fields"))
        created = _when(fields.get("created"))
        if created is None:
            # Every rule measures from creation: a made-up date would alert on nonsense.
            self.problems.append(
                DataProblem(key, "Jira returned it without a creation date; not evaluated")
            )
            return None
        by_name = {name: fields.get(fid) for fid, name in custom.items()}
        status = _dict(fields.get("status"))
        project = _dict(fields.get("project"))
        comment_page = _dict(fields.get("comment"))
        comments = tuple(c for c in map(_comment, _list(comment_page.get("comments"))) if c)
        total = _int(comment_page.get("total"))
        parent = _dict(fields.get("parent"))
        properties = _dict(raw.get("properties"))
        return Ticket(
            key=key,
            id=str(raw.get("id") or ""),
            summary=_str(fields.get("summary")) or "",
            status=_str(status.get("name")) or "",
            status_category=_category(status.get("statusCategory")),
            created=created,
            project=_str(project.get("key")) or key.rsplit("-", 1)[0],
            issue_type=_name(fields.get("issuetype")),
            description=_text(fields.get("description")),
            updated=_when(fields.get("updated")),
            resolved=_when(fields.get("resolutiondate")),
            assignee=_person(fields.get("assignee")),
            reporter=_person(fields.get("reporter")),
            priority=_name(fields.get("priority")),
            labels=tuple(v for v in _list(fields.get("labels")) if isinstance(v, str)),
            components=tuple(n for n in map(_name, _list(fields.get("components"))) if n),
            organizations=tuple(n for n in map(_name, _list(by_name.get(ORGANIZATIONS))) if n),
            request_type=_request_type(by_name.get(REQUEST_TYPE)),
            channel=tuple(n for n in map(_name, _list(by_name.get(CHANNEL))) if n),
            comments=comments,
            comments_total=max(total if total is not None else len(comments), len(comments)),
            links=tuple(x for x in map(_link, _list(fields.get("issuelinks"))) if x),
            first_response_sla=_sla(by_name.get(FIRST_RESPONSE_SLA), FIRST_RESPONSE_SLA),
            due_date=_day(fields.get("duedate")),
            configuration_date=_day(by_name.get(CONFIGURATION_DATE)),
            qa_due_date=_day(by_name.get(QA_DUE_DATE)),
            qa_assignee=_person(by_name.get(QA_ASSIGNEE)),
            parent_key=_str(parent.get("key")),
            properties=dict(properties),
            url=self.browse_url(key),
        )


# -- error mapping ---------------------------------------------------------------------------


def _from_jira_error(exc: JIRAError, what: str) -> AdapterError:
    """Status and Jira's own messages only: never ``str(exc)``, which dumps request headers."""
    response = exc.response if isinstance(exc.response, requests.Response) else None
    status = exc.status_code if isinstance(exc.status_code, int) else None
    if status is None and response is not None:
        status = response.status_code
    detail = ""
    if response is not None:
        try:
            detail = parse_error_msg(response)
        except Exception:  # an odd error body must not hide the status
            detail = ""
    elif isinstance(exc.text, str):
        detail = exc.text
    detail = " ".join(detail.split())[:300]
    where = ""
    if response is not None and response.request is not None:
        where = f" ({response.request.method} {urlsplit(str(response.request.url)).path})"
    message = f"{what}{where}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        retry_after = parse_retry_after(
            response.headers.get("Retry-After") if response is not None else None
        )
        return TransientError(SYSTEM, message, status, retry_after)
    if status is not None and status >= 500:
        return TransientError(SYSTEM, message, status)
    if status == 401:
        return CredentialError(
            SYSTEM,
            f"{what}: Jira rejected JIRA_EMAIL/JIRA_API_TOKEN (HTTP 401); check both, and that "
            "the token belongs to that account",
            status,
        )
    if status is None:
        return PermanentError(SYSTEM, f"{what}: {detail or 'the jira library refused the call'}")
    return PermanentError(SYSTEM, message, status)


# -- parsing helpers (every field may be null or oddly typed) ----------------------------------


def _path(key: str) -> str:
    return quote(str(key), safe="")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("name")) or _str(value.get("value"))
    return _str(value)


def _when(value: Any) -> datetime | None:
    """Jira's '2026-11-02T10:00:00.000+0000', or JSM's {epochMillis, iso8601, ...}."""
    if isinstance(value, dict):
        millis = _int(value.get("epochMillis"))
        if millis is not None:
            return datetime.fromtimestamp(millis / 1000, tz=UTC)
        value = value.get("iso8601") or value.get("jira")
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _person(value: Any) -> Person | None:
    if not isinstance(value, dict):
        return None
    account_id = _str(value.get("accountId"))
    email = _str(value.get("emailAddress"))
    if not account_id and not email:
        return None
    return _known_person(
        account_id, _str(value.get("displayName")), email, _str(value.get("accountType"))
    )


@lru_cache(maxsize=4096)
def _known_person(
    account_id: str | None, display_name: str | None, email: str | None, account_type: str | None
) -> Person:
    # The same few agents write most comments: one shared (frozen) record each.
    return Person(account_id, display_name, email, account_type)


def _category(value: Any) -> StatusCategory:
    key = _dict(value).get("key")
    try:
        return StatusCategory(str(key))
    except ValueError:
        return StatusCategory.NEW


def _text(value: Any) -> str:
    """A v2 string as is; a v3 ADF document flattened, mentions as ``[~accountid:ID]``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    kind = value.get("type")
    # Leaves first: they are most of a document, and need no child list.
    if kind == "text":
        return str(value.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    attrs = _dict(value.get("attrs"))
    if kind == "mention":
        return f"[~accountid:{attrs.get('id', '')}]"
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard"):
        return str(attrs.get("url") or "")
    children = [c for c in _list(value.get("content")) if isinstance(c, dict)]
    if kind == "doc":
        return "\n\n".join(t for t in map(_text, children) if t)
    if kind in ("bulletList", "orderedList"):
        marks = ["-" if kind == "bulletList" else f"{i}." for i in range(1, len(children) + 1)]
        return "\n".join(f"{m} {_text(c)}" for m, c in zip(marks, children, strict=True))
    if kind == "listItem":
        return "\n".join(map(_text, children))
    return "".join(map(_text, children))


def _comment(raw: Any) -> Comment | None:
    """A platform comment (``jsdPublic``) or a Service Management one (``public``)."""
    if not isinstance(raw, dict) or raw.get("id") is None:
        return None
    public = raw.get("jsdPublic", raw.get("public"))
    if not isinstance(public, bool):
        public = True
        for prop in _list(raw.get("properties")):
            if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
                value = _dict(prop.get("value"))
                public = not bool(value.get("internal"))
    created = _when(raw.get("created")) or datetime(1970, 1, 1, tzinfo=UTC)
    return Comment(
        id=str(raw["id"]),
        author=_person(raw.get("author")),
        body=_text(raw.get("body")),
        created=created,
        updated=_when(raw.get("updated")),
        public=public,
    )


def _link(raw: Any) -> IssueLink | None:
    if not isinstance(raw, dict):
        return None
    ltype = _dict(raw.get("type"))
    for direction in ("outward", "inward"):
        other = raw.get(f"{direction}Issue")
        if isinstance(other, dict) and _str(other.get("key")):
            fields = _dict(other.get("fields"))
            status = _dict(fields.get("status"))
            category = status.get("statusCategory")
            return IssueLink(
                type_name=_str(ltype.get("name")) or "",
                direction=direction,
                relation=_str(ltype.get(direction)) or "",
                other_key=str(other["key"]),
                other_summary=_str(fields.get("summary")),
                other_status=_str(status.get("name")),
                other_status_category=_category(category) if isinstance(category, dict) else None,
                other_priority=_str(_dict(fields.get("priority")).get("name")),
            )
    return None


def _request_type(value: Any) -> str | None:
    if isinstance(value, dict):
        inner = value.get("requestType")
        return _name(inner) if isinstance(inner, dict) else _name(value)
    return _str(value)


def _millis(value: Any) -> timedelta | None:
    millis = _int(value.get("millis")) if isinstance(value, dict) else None
    return timedelta(milliseconds=millis) if millis is not None else None


def _cycle(raw: Any) -> SlaCycle | None:
    if not isinstance(raw, dict):
        return None
    return SlaCycle(
        start=_when(raw.get("startTime")),
        breached=raw.get("breached") is True,
        paused=raw.get("paused") is True,
        within_calendar_hours=raw.get("withinCalendarHours") is not False,
        goal=_millis(raw.get("goalDuration")),
        elapsed=_millis(raw.get("elapsedTime")),
        remaining=_millis(raw.get("remainingTime")),
        breach_time=_when(raw.get("breachTime")),
        stop=_when(raw.get("stopTime")),
    )


def _sla(raw: Any, name: str) -> SlaField | None:
    if not isinstance(raw, dict):
        return None
    completed = tuple(c for c in map(_cycle, _list(raw.get("completedCycles"))) if c)
    return SlaField(
        name=_str(raw.get("name")) or name,
        ongoing=_cycle(raw.get("ongoingCycle")),
        completed=completed,
    )
