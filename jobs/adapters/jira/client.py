"""The Jira adapter: requests, retries, paging and writes (parsing is in `parsing`)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
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
    connection_pool,
    parse_retry_after,
)
from jobs.adapters.jira.decode import decode_json
from jobs.adapters.jira.fields import ALWAYS_FIELDS, FieldCatalog, wire_value
from jobs.adapters.jira.parsing import (
    as_int,
    as_name,
    changelog_complete,
    changes_of,
    check_issue,
    parse_comment,
    parse_person,
    parse_ticket,
    too_deep,
)
from jobs.jql import without_order
from jobs.model import Comment, DataProblem, FieldChange, Person, Ticket

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from jobs.config import Settings
    from jobs.sitecache import SiteCache

SYSTEM = "jira"
T = TypeVar("T")

SEARCH_PATH = "/rest/api/3/search/jql"
COMMENT_PAGE_SIZE = 100
COMMENT_READERS = 4
"""Truncated comment threads read side by side: far below Jira Cloud's rate limits, enough to
hide each read's latency behind the others'."""
MAX_SEARCH_PROPERTIES = 5
FIELDS_TTL = timedelta(hours=24)
"""How long the site's field list is trusted between runs (`jobs.sitecache`); a field Jira
says it does not know is looked up again at once."""
SERVER_INFO_TTL = timedelta(hours=24)
FIELD_KEYS = ("id", "key", "name", "untranslatedName", "custom", "schema")
"""What a cached field keeps: enough to resolve names and shape values."""


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
        for prefix in ("https://", "http://"):
            self._session.mount(prefix, connection_pool(SYSTEM))
        send = self._session.send
        on_request = self._on_request

        def counting_send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            on_request()
            return send(request, **kwargs)

        self._session.send = counting_send  # type: ignore[method-assign]


def _environment_once(session: requests.Session, site: str) -> None:
    """Read the environment's proxy and CA bundle for the site once, not on every request.

    requests looks them up in the whole environment twice a call (a fifth of a write's CPU on
    a small desk's host). Every request of this session goes to one site, so the answer is the
    same each time: the proxy the environment names for the site (``no_proxy`` included) and
    the bundle ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` names, each preferred to the
    session's own as requests prefers them. ``.netrc``, the one other thing requests reads
    from the environment, never applies here: the session carries its own credentials.
    """
    from requests.utils import get_environ_proxies

    session.proxies.update(get_environ_proxies(site))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


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
        service_desk_projects: Collection[str] = (),
        configured_fields: Mapping[str, str] | None = None,
        issue_types: Mapping[str, str] | None = None,
        cache: SiteCache | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``service_desk_projects``: keys of the Jira Service Management projects (settings'
        ``desk.service_desk_project``). Internal notes on their tickets go through the JSM
        API; on any other project through the platform API (no extra call to find out).

        ``configured_fields``: our name for a custom field -> its id (settings
        ``jira.fields``), for sites where names are translated or renamed; unconfigured
        fields are found by ``untranslatedName``, then ``name``. ``issue_types``: an issue
        type's English name -> its id (``jira.issue_types``), used by creates; unconfigured
        ones are looked up per project by ``untranslatedName``.

        ``cache``: the site's field list and server info as earlier runs read them
        (`jobs.sitecache`), trusted for `FIELDS_TTL` and `SERVER_INFO_TTL` by ``clock`` (the
        wall clock); without it both are read once per adapter."""
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
        self._fields: FieldCatalog | None = None
        self._fields_cached = False
        """The field list came from the cache: a field Jira does not know means re-reading it."""
        self._cache = cache
        self._clock = clock or (lambda: datetime.now(UTC))
        self._org_ids: dict[str, int] | None = None
        self._request_type_ids: dict[str, str] = {}
        self._service_desks = frozenset(k.upper() for k in service_desk_projects)
        self._configured_fields = dict(configured_fields or {})
        self._issue_types = {k.casefold(): str(v) for k, v in (issue_types or {}).items()}
        self._issue_types_seen: dict[tuple[str, str], str] = {}
        """(project, English name casefolded) -> issue type id, from search results."""
        self.problems: list[DataProblem] = []
        """Tickets a search returned that could not be used; the run report lists them."""
        self.search_clock: datetime | None = None
        """Jira's clock when it answered the latest search's first page (its ``Date``
        header), None when it did not say: what a relative date such as ``-90m`` in that
        search's JQL counted from."""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float = 30.0,
        browse_url: str | None = None,
        service_desk_projects: Collection[str] = (),
        configured_fields: Mapping[str, str] | None = None,
        issue_types: Mapping[str, str] | None = None,
        cache: SiteCache | None = None,
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
            service_desk_projects=service_desk_projects,
            configured_fields=configured_fields,
            issue_types=issue_types,
            cache=cache,
        )

    @classmethod
    def for_desk(
        cls,
        settings: Settings,
        env: Mapping[str, str],
        *,
        counter: CallCounter,
        budget: RetryBudget,
        timeout: float,
        browse_url: str | None = None,
        cache: SiteCache | None = None,
    ) -> JiraAdapter:
        """`from_env` with what the settings say of the site: the service desk project (its
        internal notes go through Service Management), the configured field ids and issue
        type ids."""
        return cls.from_env(
            env,
            counter=counter,
            budget=budget,
            timeout=timeout,
            browse_url=browse_url,
            service_desk_projects=(settings.desk.service_desk_project,),
            configured_fields=settings.jira.fields,
            issue_types=settings.jira.issue_types,
            cache=cache,
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
            client = _CountingJIRA(
                server=self._url,
                basic_auth=(self._email, self._token),
                options={"rest_api_version": "2", "check_update": False},
                max_retries=0,
                timeout=self._timeout,
                get_server_info=False,  # read below, or taken from the cache
                logging=False,
                on_request=lambda: self._counter.add(SYSTEM),
            )
            info = self._cached("server_info", SERVER_INFO_TTL)
            if not isinstance(info, dict):
                info = client.server_info()
                if not isinstance(info, dict):
                    raise PermanentError(SYSTEM, "GET /serverInfo did not answer with an object")
                info = {k: info.get(k) for k in ("deploymentType", "versionNumbers")}
                self._store("server_info", info)
            # deploymentType "Cloud" unlocks the library's Cloud-only methods.
            client.deploymentType = info.get("deploymentType")
            versions = info.get("versionNumbers")
            if isinstance(versions, list) and all(isinstance(v, int) for v in versions):
                client._version = tuple(versions)
            _environment_once(client._session, self._url)
            self._client = client
        return self._client

    def _cache_key(self, name: str) -> str:
        return f"jira {self._url} {name}"

    def _cached(self, name: str, ttl: timedelta) -> Any | None:
        if self._cache is None:
            return None
        return self._cache.get(self._cache_key(name), now=self._clock(), ttl=ttl)

    def _store(self, name: str, value: Any) -> None:
        if self._cache is not None:
            self._cache.put(self._cache_key(name), value, now=self._clock())

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
        except RecursionError:
            # The library decodes its own answers; one nested past what it reads cannot be
            # used (answers this adapter decodes itself are read without recursion).
            error = PermanentError(SYSTEM, f"{what}: Jira's answer nests too deeply to read")
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
        dated: bool = False,
        on_answer: Callable[[bytes], None] | None = None,
    ) -> Callable[[JIRA], Any]:
        """``dated``: note Jira's clock from the answer's ``Date`` header (`search_clock`).
        ``on_answer``: called with a successful answer's bytes before they are decoded."""

        def run(client: JIRA) -> Any:
            response = client._session.request(
                method,
                self._url + path,
                params=dict(params or {}),
                data=json.dumps(body) if body is not None else None,
            )
            if dated:
                self.search_clock = _header_time(response.headers.get("Date"))
            if not response.content:
                return None
            if on_answer is not None and response.ok:
                on_answer(response.content)
            return decode_json(response.content)

        return run

    # -- fields ------------------------------------------------------------------------------
    def _catalog(self) -> FieldCatalog:
        if self._fields is None:
            cached = self._cached("fields", FIELDS_TTL)
            if isinstance(cached, list):
                self._fields = FieldCatalog(cached, self._configured_fields)
                self._fields_cached = True
                return self._fields
            raw = self._call("list fields", lambda c: c.fields())
            if not isinstance(raw, list):
                raise PermanentError(SYSTEM, "GET /field did not answer with a list of fields")
            self._fields = FieldCatalog(raw, self._configured_fields)
            self._fields_cached = False
            self._store(
                "fields",
                [{k: f[k] for k in FIELD_KEYS if k in f} for f in raw if isinstance(f, dict)],
            )
        return self._fields

    def _reread_fields(self) -> bool:
        """Jira does not know a field the cached list named: read the list again. False when
        it was read from Jira in this run already (nothing newer to learn)."""
        if not self._fields_cached:
            return False
        if self._cache is not None:
            self._cache.forget(self._cache_key("fields"))
        self._fields, self._fields_cached = None, False
        self._catalog()
        return True

    def field_ids(self) -> dict[str, str]:
        """Display name (and id) -> field id; fetched once per adapter (or from the cache)."""
        return self._catalog().ids

    def field_type(self, name: str) -> str | None:
        """The type the site's field list gives field ``name`` (``date``, ``datetime``, ...);
        None when the site does not type it. From the same cached list as `field_ids`."""
        kind = self._catalog().schema(self._field_id(name)).get("type")
        return str(kind) if kind is not None else None

    def get_json(self, what: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One ``GET`` of ``path`` (``/rest/...``), decoded, under the shared retry policy and
        error mapping (``what`` names it in errors). For reads no method here covers, such as
        the preflight's (`jobs.doctor`)."""
        return self._call(what, self._request("GET", path, params=params))

    def _field_id(self, name: str) -> str:
        try:
            return self._catalog().resolve(name)
        except PermanentError:
            if not self._reread_fields():
                raise
            return self._catalog().resolve(name)

    # -- search ------------------------------------------------------------------------------
    def search(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        page_size: int = 100,
        properties: Sequence[str] = (),
        expand: Sequence[str] = (),
        comment_text: bool = True,
        any_order: bool = False,
    ) -> Iterator[Ticket]:
        """Tickets matching ``jql``, fetched a page at a time (never all pages in memory).

        ``fields`` are Jira ids or our names for custom fields ("Time to first response"); a
        name the site does not have raises `PermanentError` before any search is sent.
        ``properties``: at most 5 issue property keys (the endpoint's limit). ``expand``:
        e.g. ``("changelog",)`` for `Ticket.changes`; sent as the comma-separated string
        the endpoint takes. ``comment_text``: False for a job that reads who wrote each
        comment and when, never what it says (the bodies are left empty, not converted).
        ``any_order``: for a caller that does not depend on the order of the tickets (the
        JQL's ``ORDER BY`` is replaced): a long search is read from both ends at once.
        """
        if len(properties) > MAX_SEARCH_PROPERTIES:
            raise PermanentError(
                SYSTEM,
                f"search: {len(properties)} issue properties asked for; the search endpoint "
                f"returns at most {MAX_SEARCH_PROPERTIES}",
            )
        asked = [*ALWAYS_FIELDS, *fields]
        wanted, names = self._search_fields(asked)
        expanded = ",".join(dict.fromkeys(e.strip() for e in expand if e.strip()))
        return self._pages(
            jql,
            asked,
            wanted,
            max(1, page_size),
            list(properties),
            names,
            expanded,
            comment_text=comment_text,
            any_order=any_order,
        )

    def _search_fields(self, asked: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        """The ids to ask a search for, and our names for the custom fields a `Ticket` reads."""
        wanted: list[str] = []
        for name in asked:
            fid = self._field_id(name)
            if fid not in wanted:
                wanted.append(fid)
        try:
            names = self._catalog().custom_names()
        except PermanentError:
            if not self._reread_fields():
                raise
            names = self._catalog().custom_names()
        return wanted, names

    def _pages(
        self,
        jql: str,
        asked: list[str],
        field_ids: list[str],
        page_size: int,
        properties: list[str],
        custom: dict[str, str],
        expand: str = "",
        *,
        comment_text: bool = True,
        any_order: bool = False,
    ) -> Iterator[Ticket]:
        def fetch(jql: str, token: str | None, early: EarlyPages | None, dated: bool) -> Page:
            body: dict[str, Any] = {"jql": jql, "fields": field_ids, "maxResults": page_size}
            if properties:
                body["properties"] = properties
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            request = self._request(
                "POST",
                SEARCH_PATH,
                body=body,
                dated=dated,
                on_answer=early.answered if early is not None else None,
            )
            return _checked_page(self._call("search", request))

        def end(jql: str, order: int) -> _SearchEnd:
            return _SearchEnd(
                jql, order, lambda token, early: pool.submit(fetch, jql, token, early, False)
            )

        with_changelog = "changelog" in expand.split(",")
        yielded: set[str] = set()
        """Tickets this search has yielded: `/search/jql` pages are not a snapshot, and a ticket
        updated while the search pages can come back on a later page (or twice in one)."""
        # Each page's token is in its answer: the next page is requested as soon as the
        # answer's bytes are in (`EarlyPages`), while they are decoded and the page before is
        # parsed and consumed, so a large search costs its network time, not network plus
        # decoding plus parsing. Beyond the page consumed: the next one, and at most
        # `PAGES_AHEAD` more asked early.
        #
        # ``any_order``: the search is read by key, from its first ticket up and, once it is
        # `BOTH_ENDS_AFTER` pages long, from its last ticket down too: two chains of pages at
        # once, and it is whole when one end reads a ticket the other has read (`_SearchEnd`).
        base = without_order(jql) if any_order else jql
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="jira-page") as pool:
            first = end(f"{base} ORDER BY key ASC" if any_order else jql, ASCENDING)
            # The first page's answer tells Jira's clock when it read the query (relative
            # dates in it count from then): `search_clock`.
            page = fetch(first.jql, None, None, True)
            if _lacks_fields(page, field_ids) and self._reread_fields():
                # Jira leaves out a field it does not know: the cached field list is out of
                # date (a field was deleted and made again). Asked again with today's ids.
                field_ids, custom = self._search_fields(asked)
                page = fetch(first.jql, None, None, True)
            ends = [first]
            both_tried = False
            current = first
            try:
                while True:
                    keys = _page_keys(page)
                    if any_order:
                        # A ticket this end read before comes back when the search gained a
                        # ticket on the pages it has read: no gap, and no break of its order.
                        current.check_order([k for k in keys if k not in current.keys])
                    met = False
                    if len(ends) == 2 and current in ends:
                        other = ends[0] if current is ends[1] else ends[1]
                        met = current.in_order and current.meets(keys, other)
                        if not met and (
                            not current.in_order
                            or other.read_any(keys)
                            or (current is ends[1] and _next_token(page) is None)
                        ):
                            # Not the two runs from each end that meeting relies on (pages
                            # out of key order, ends touching away from their last pages,
                            # the last ticket down read without meeting the first end): the
                            # first end reads the search to its end alone. What the other
                            # end read is yielded once all the same.
                            log.warning(
                                "search: Jira's pages were not in key order; read from one end only"
                            )
                            ends[1].stop()
                            del ends[1]
                            first.early.limit = PAGES_AHEAD
                    current.recent = set(keys)
                    active = current in ends
                    if active and not met:
                        current.follow(page)
                    for raw in page["issues"]:
                        wrong = check_issue(raw, asked_fields=True)
                        if wrong is not None:
                            # A ticket we cannot read (or cannot even name) must not look
                            # like one that is gone: its open alert would be resolved.
                            raise PermanentError(SYSTEM, f"search: {wrong}")
                        key = raw["key"]
                        if key in current.keys:
                            if current is not first:
                                continue  # the search gained a ticket above the last end
                            self.problems.append(
                                DataProblem(
                                    key,
                                    "the search listed this ticket twice (Jira's pages are "
                                    "not a snapshot); used the first copy",
                                )
                            )
                            continue
                        current.keys.add(key)
                        if key in yielded:
                            continue  # read by the other end: where the two ends meet
                        yielded.add(key)
                        ticket = parse_ticket(
                            raw, custom, self.browse_url, self.problems, comment_text=comment_text
                        )
                        if ticket is None:
                            continue
                        self._remember_issue_type(ticket.project, raw)
                        if with_changelog and not changelog_complete(raw):
                            ticket = dataclasses.replace(ticket, changes=self.changes(ticket.key))
                        yield ticket
                    if met or (active and current.ahead is None):
                        return  # the ends met, or one end read the search to its other end
                    current.pages += 1
                    if any_order and not both_tried and first.in_order:
                        if first.pages >= BOTH_ENDS_AFTER and first.ahead is not None:
                            both_tried = True
                            last = end(f"{base} ORDER BY key DESC", DESCENDING)
                            first.early.limit = last.early.limit = 0
                            last.ahead = pool.submit(fetch, last.jql, None, None, False)
                            ends.append(last)
                    current = _next_answered(ends)
                    page = current.take()
            finally:
                # The search ended, was abandoned or failed: nothing more is asked for, and a
                # page asked for and not yet read is not waited on (a read one cancels no-op).
                for each in ends:
                    each.stop()

    def changes(self, key: str) -> tuple[FieldChange, ...]:
        """Every field change of ``key``, oldest first (``GET /issue/{key}/changelog``, paged);
        a search gives only the latest histories of a long changelog."""
        histories: list[Any] = []
        start = 0
        path = f"/rest/api/2/issue/{_path(key)}/changelog"
        while True:
            page = self._call(
                f"read changelog of {key}",
                self._request("GET", path, params={"startAt": start, "maxResults": 100}),
            )
            values = page.get("values") if isinstance(page, dict) else None
            if not isinstance(values, list):
                raise PermanentError(SYSTEM, f"read changelog of {key}: no list of histories")
            histories.extend(values)
            start += len(values)
            if not values or page.get("isLast", True) is not False:
                break
        return changes_of(histories, self._catalog().custom_names())

    # -- comments ----------------------------------------------------------------------------
    def comments(self, key: str, *, text: bool = True) -> list[Comment]:
        """Every comment of ``key``, oldest first, read now (not from an earlier search);
        ``text=False`` leaves the bodies empty (`parse_comment`)."""
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
            cut: list[int] = []
            out.extend(
                c for c in (parse_comment(i, cut, text=text) for i in items) if c is not None
            )
            if cut:
                self.problems.append(too_deep(key))
            start += len(items)
            total = as_int(page.get("total"))
            if not items or total is None or start >= total:
                return out

    def with_all_comments(self, ticket: Ticket, *, text: bool = True) -> Ticket:
        """The ticket with every comment; reads Jira only if the search truncated them.
        ``text``: as `comments` (False where the search was made with ``comment_text=False``)."""
        if ticket.comments_complete:
            return ticket
        comments = self.comments(ticket.key, text=text)
        return dataclasses.replace(
            ticket,
            comments=tuple(comments),
            comments_total=max(len(comments), ticket.comments_total),
        )

    def with_all_comments_of(self, tickets: Iterable[Ticket], *, text: bool = True) -> list[Ticket]:
        """`with_all_comments` of each ticket, in order (see `with_all_comments_as_read`)."""
        return list(self.with_all_comments_as_read(tickets, text=text))

    def with_all_comments_as_read(
        self,
        tickets: Iterable[Ticket],
        *,
        text: bool = True,
        needed: Callable[[Ticket], bool] | None = None,
    ) -> Iterator[Ticket]:
        """`with_all_comments` of each ticket, in the tickets' order, while they are still
        coming (a search being paged): a truncated thread is read as soon as its ticket is in,
        `COMMENT_READERS` at a time, beside the pages still to come, rather than after the
        last. ``needed``: whether a truncated ticket's other comments can decide anything
        (None: every truncated ticket's can); a ticket it refuses comes out as it is. The
        first error, in the tickets' order, is raised once the reads asked for have ended."""
        read = partial(self.with_all_comments, text=text)
        with ThreadPoolExecutor(max_workers=COMMENT_READERS, thread_name_prefix="comments") as pool:
            coming: deque[Ticket | Future[Ticket]] = deque()
            for ticket in tickets:
                kept = ticket.comments_complete or (needed is not None and not needed(ticket))
                coming.append(ticket if kept else pool.submit(read, ticket))
                while coming and _is_in(coming[0]):
                    yield _ticket(coming.popleft())
            while coming:
                yield _ticket(coming.popleft())

    def is_service_desk(self, key: str) -> bool:
        """Whether ``key`` belongs to one of the configured service desk projects."""
        return key.rsplit("-", 1)[0].upper() in self._service_desks

    def add_internal_comment(self, key: str, body: str) -> Comment:
        """An internal note, never emailed to a customer.

        On a service desk ticket it is a Service Management comment with ``public: false``
        (the way the platform spec's ``jsdPublic`` points to). Elsewhere it is a platform
        comment: such a project has no customers to hide it from, and Jira answers
        ``jsdPublic: true`` there by definition. The ``sd.public.comment`` property is still
        sent, so a service desk project missing from the settings keeps the note internal.
        """
        if self.is_service_desk(key):
            path = f"/rest/servicedeskapi/request/{_path(key)}/comment"
            post = self._request("POST", path, body={"body": body, "public": False})
            return self._post_comment(key, post, expect_public=False)
        path = f"/rest/api/2/issue/{_path(key)}/comment"
        internal = [{"key": "sd.public.comment", "value": {"internal": True}}]
        post = self._request("POST", path, body={"body": body, "properties": internal})
        return self._post_comment(key, post, expect_public=None)

    def add_public_comment(self, key: str, body: str) -> Comment:
        """A reply that reaches the customer by email (Service Management request comment)."""
        path = f"/rest/servicedeskapi/request/{_path(key)}/comment"
        post = self._request("POST", path, body={"body": body, "public": True})
        return self._post_comment(key, post, expect_public=True)

    def _post_comment(
        self, key: str, post: Callable[[JIRA], Any], *, expect_public: bool | None
    ) -> Comment:
        comment = parse_comment(self._call_unrepeatable(f"comment on {key}", post))
        if comment is None:
            raise PermanentError(SYSTEM, f"comment on {key}: the answer was not a comment")
        if expect_public is not None and comment.public != expect_public:
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
                # Posted directly: the library sends the id as a number; the spec's
                # IssueTransition.id is a string.
                path = f"/rest/api/2/issue/{_path(key)}/transitions"
                body = {"transition": {"id": chosen}}
                self._attempt(f"transition {key}", self._request("POST", path, body=body))
                return
            path = f"/rest/api/2/issue/{_path(key)}"
            current = self._attempt(
                f"read status of {key}", self._request("GET", path, params={"fields": "status"})
            )
            fields = current.get("fields") if isinstance(current, dict) else None
            status = as_name((fields or {}).get("status")) if isinstance(fields, dict) else None
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

    def assign(self, key: str, account_id: str) -> None:
        """Assign ``key`` to the account ``account_id`` through Jira's Assign issue
        operation (``PUT /rest/api/3/issue/{key}/assignee``), which needs only the *Assign
        Issues* permission, not *Edit Issues*. Assigning the same person again changes
        nothing, so a retry after a lost answer is harmless."""
        path = f"/rest/api/3/issue/{_path(key)}/assignee"
        self._call(f"assign {key}", self._request("PUT", path, body={"accountId": account_id}))

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
        with self._field_refusal():
            self._call(
                f"edit {key}", self._request("PUT", f"/rest/api/2/issue/{_path(key)}", body=body)
            )

    @contextmanager
    def _field_refusal(self) -> Iterator[None]:
        """A write Jira refuses over a custom field (it does not know it, or it cannot be set)
        fails as it is; the cached field list is dropped, so the next run reads it afresh."""
        try:
            yield
        except PermanentError as exc:
            if exc.status == 400 and "customfield_" in str(exc) and self._cache is not None:
                self._cache.forget(self._cache_key("fields"))
            raise

    def create_issue(self, fields_by_name: Mapping[str, Any]) -> str:
        """Create a ticket and return its key; ``project``/``issuetype`` may be a key/a name.

        The issue type goes by id: names are translated to the account's language, so
        "Task" is not a name a site in another language knows (`issue_type_id`)."""
        wire = self._wire_fields(fields_by_name)
        itype = fields_by_name.get("issuetype")
        if itype is not None and not isinstance(itype, dict):
            project = wire.get("project") or {}
            project_key = str(project.get("key") or project.get("id") or "")
            wire["issuetype"] = {"id": self.issue_type_id(project_key, str(itype))}
        with self._field_refusal():
            issue = self._call_unrepeatable(
                "create issue", lambda c: c.create_issue(fields=wire, prefetch=False)
            )
        key = getattr(issue, "key", None)
        if not isinstance(key, str):
            raise PermanentError(SYSTEM, "create issue: the answer has no key")
        return key

    def _remember_issue_type(self, project: str, raw: Mapping[str, Any]) -> None:
        # A search that asked for issuetype tells which id "Task" has in that project: a
        # create after it needs no createmeta read.
        fields = raw.get("fields")
        itype = fields.get("issuetype") if isinstance(fields, dict) else None
        if isinstance(itype, dict) and isinstance(itype.get("id"), str):
            for name in (itype.get("untranslatedName"), itype.get("name")):
                if isinstance(name, str):
                    self._issue_types_seen.setdefault(
                        (project.upper(), name.casefold()), itype["id"]
                    )

    def issue_type_id(self, project: str, name: str) -> str:
        """The id of issue type ``name`` (its English name, or an id) in ``project``.

        Configured (``jira.issue_types``) first, then one seen in this run's search results,
        then one ``createmeta`` read per project (by ``untranslatedName``, then ``name``)."""
        if name.isdigit():
            return name
        folded = name.casefold()
        if folded in self._issue_types:
            return self._issue_types[folded]
        seen = self._issue_types_seen.get((project.upper(), folded))
        if seen is not None:
            return seen
        offered = [
            str(t.get("untranslatedName") or t.get("name")) for t in self.creatable_types(project)
        ]
        found = self._issue_types_seen.get((project.upper(), folded))
        if found is None:
            raise PermanentError(
                SYSTEM,
                f"{project} has no issue type {name!r} to create; it offers "
                f"{', '.join(offered) or 'none'} (or set jira.issue_types.{name} to its id)",
            )
        return found

    def creatable_types(self, project: str) -> list[dict[str, Any]]:
        """The issue types this account may create in ``project`` (``createmeta``, every page),
        as Jira answers them (``id``, ``name``, ``untranslatedName``...); each is remembered
        for `issue_type_id`."""
        out: list[dict[str, Any]] = []
        start = 0
        path = f"/rest/api/2/issue/createmeta/{_path(project)}/issuetypes"
        while True:
            page = self._call(
                f"list issue types of {project}",
                self._request("GET", path, params={"startAt": start, "maxResults": 200}),
            )
            types = page.get("issueTypes") if isinstance(page, dict) else None
            if not isinstance(types, list):
                raise PermanentError(
                    SYSTEM, f"list issue types of {project}: no issueTypes list in the answer"
                )
            for t in types:
                if not isinstance(t, dict) or not isinstance(t.get("id"), str):
                    continue
                out.append(t)
                for candidate in (t.get("untranslatedName"), t.get("name")):
                    if isinstance(candidate, str):
                        self._issue_types_seen.setdefault(
                            (project.upper(), candidate.casefold()), t["id"]
                        )
            start += len(types)
            total = as_int(page.get("total"))
            if not types or total is None or start >= total:
                return out

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
        """The account with this email address, or with this display name; None if unsure.

        An email is matched only against the addresses Jira shows: Cloud hides them for
        profiles whose privacy settings say so, and the search still returns such people
        (and others whose names match), so a hidden address is no match rather than a guess.
        A name matches a display name exactly (any case), or the only account found.
        """
        query = email_or_query.strip()
        users = self._call(
            f"find user {query}",
            self._request(
                "GET", "/rest/api/2/user/search", params={"query": query, "maxResults": 20}
            ),
        )
        if not isinstance(users, list):
            raise PermanentError(SYSTEM, f"find user {query}: the answer is not a list of users")
        people = [p for p in map(parse_person, users) if p is not None]
        wanted = query.casefold()
        if "@" in query:
            return next((p for p in people if p.email and p.email.casefold() == wanted), None)
        named = [p for p in people if p.display_name and p.display_name.casefold() == wanted]
        if named:
            return named[0]
        return people[0] if len(people) == 1 else None

    # -- value shaping for writes ------------------------------------------------------------
    def _request_type_id(self, value: Any) -> str:
        """A customer request type's id (what Jira takes on write) for its id or its name,
        found with JSM's request type search; a name two service desks share is refused."""
        text = str(value).strip()
        if text.isdigit():
            return text
        folded = text.casefold()
        if folded not in self._request_type_ids:
            found: list[str] = []
            start = 0
            while True:
                page = self._call(
                    f"find request type {text}",
                    self._request(
                        "GET",
                        "/rest/servicedeskapi/requesttype",
                        params={"searchQuery": text, "start": start, "limit": 50},
                    ),
                )
                values = page.get("values") if isinstance(page, dict) else None
                if not isinstance(values, list):
                    raise PermanentError(
                        SYSTEM, f"find request type {text}: no list of request types in answer"
                    )
                found += [
                    str(v["id"])
                    for v in values
                    if isinstance(v, dict)
                    and isinstance(v.get("name"), str)
                    and v["name"].casefold() == folded
                    and isinstance(v.get("id"), str)
                ]
                start += len(values)
                if not values or page.get("isLastPage", True) is not False:
                    break
            if len(set(found)) != 1:
                reason = "none is called that" if not found else "several are called that"
                raise PermanentError(
                    SYSTEM, f"request type {text!r}: {reason}; give the request type's id"
                )
            self._request_type_ids[folded] = found[0]
        return self._request_type_ids[folded]

    def _wire_fields(self, fields_by_name: Mapping[str, Any]) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for name, value in fields_by_name.items():
            fid = self._field_id(name) if name not in ("project", "issuetype") else name
            schema = self._catalog().schema(fid) if fid not in ("project", "issuetype") else {}
            wire[fid] = wire_value(
                fid,
                value,
                schema,
                account_id=self._account_id,
                organization_id=self._organization_id,
                request_type_id=self._request_type_id,
            )
        return wire

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
            org_ids: dict[str, int] = {}
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
                if not isinstance(values, list):
                    raise PermanentError(
                        SYSTEM, "list organizations: the answer has no list of organizations"
                    )
                for org in values:
                    oid = as_int(org.get("id")) if isinstance(org, dict) else None
                    if oid is not None and isinstance(org.get("name"), str) and org["name"]:
                        org_ids.setdefault(org["name"].casefold(), oid)
                start += len(values)
                if not values or page.get("isLastPage", True) is not False:
                    break
            self._org_ids = org_ids
        found = self._org_ids.get(str(value).casefold())
        if found is None:
            raise PermanentError(SYSTEM, f"no Service Management organization named {value!r}")
        return found


def _header_time(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware instant; None when absent or unreadable."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _lacks_fields(page: Mapping[str, Any], field_ids: Sequence[str]) -> bool:
    """Whether the page's first issue lacks a custom field the search asked for (Jira
    answers a field it does not know with nothing at all; an empty one is null)."""
    issues = page.get("issues")
    first = issues[0] if isinstance(issues, list) and issues else None
    fields = first.get("fields") if isinstance(first, dict) else None
    if not isinstance(fields, dict):
        return False
    return any(f.startswith("customfield_") and f not in fields for f in field_ids)


PAGES_AHEAD = 2
"""Search pages requested early (`EarlyPages`) and not yet consumed, at most."""

Page = dict[str, Any]
"""One decoded search answer (`_checked_page`)."""

ASCENDING, DESCENDING = 1, -1

BOTH_ENDS_AFTER = 40
"""Pages a search in any order reads from its first end before its other end starts. Where
the two ends meet, their last pages overlap and one page asked for is not needed: at most
two more calls than reading from one end, under 5% of a search this long (when the site's
pages are not in the order meeting relies on, the pages the last end read are the extra
calls). A shorter search is read from one end."""


def _page_keys(page: Page) -> list[str]:
    issues = page["issues"]
    return [i["key"] for i in issues if isinstance(i, dict) and isinstance(i.get("key"), str)]


class _SearchEnd:
    """One end of a search: its own chain of pages, the keys it has read and, for a search
    read by key (``any_order``), whether they came in its order.

    Read from the first ticket up (`ASCENDING`) and from the last down (`DESCENDING`), each
    end has read a run of the search's tickets from its own end without a gap. When one end
    reads a ticket the other end has read, the two runs touch: every ticket is in one of
    them, and the search is whole. That holds only while each end reads in key order, which
    is checked on every page (`check_order`: each project's issue numbers going up, or
    down), and only for runs that meet at their latest pages (`meets`); the last end must
    meet the first before it reads its own last page. Otherwise the first end reads the
    search to its end alone."""

    def __init__(
        self, jql: str, order: int, request: Callable[[str, EarlyPages], Future[Page]]
    ) -> None:
        self.jql = jql
        self.order = order
        self.early: EarlyPages = EarlyPages(lambda token: request(token, self.early))
        self.ahead: Future[Page] | None = None
        """The request for this end's next page; None once its last page is in."""
        self.tokens: set[str] = set()
        self.keys: set[str] = set()
        self.pages = 0
        self.recent: set[str] = set()
        """The keys of this end's latest page."""
        self.in_order = True
        self._last: dict[str, int] = {}

    def follow(self, page: Page) -> None:
        """Ask for the page after ``page`` (made early or now), unless it was the last."""
        token = _next_token(page)
        if token is not None and token in self.tokens:
            raise PermanentError(
                SYSTEM, "search: Jira returned the same nextPageToken twice; stopped paging"
            )
        self.ahead = None
        if token is not None:
            self.tokens.add(token)
            self.ahead = self.early.take(token)

    def take(self) -> Page:
        if self.ahead is None:
            raise RuntimeError("this end of the search has no page coming")
        return self.ahead.result()

    def check_order(self, keys: Sequence[str]) -> None:
        for key in keys:
            project, _, number = key.rpartition("-")
            if not number.isdigit():
                self.in_order = False
                return
            last = self._last.get(project)
            if last is not None and (int(number) - last) * self.order <= 0:
                self.in_order = False
            self._last[project] = int(number)

    def read_any(self, keys: Sequence[str]) -> bool:
        return any(key in self.keys for key in keys)

    def meets(self, keys: Sequence[str], other: _SearchEnd) -> bool:
        """Whether this end's page (``keys``) reaches the run the ``other`` end has read, the
        way two runs from each end meet: the tickets both read close the page and are all
        on the other end's latest page. Anything else touching the other's run is not the
        order meeting relies on."""
        touching = next((n for n, key in enumerate(keys) if key in other.keys), None)
        if touching is None:
            return False
        both = keys[touching:]
        return all(key in other.keys for key in both) and set(both) <= other.recent

    def stop(self) -> None:
        if self.ahead is not None:
            self.ahead.cancel()
        self.early.stop()


def _is_in(coming: Ticket | Future[Ticket]) -> bool:
    return not isinstance(coming, Future) or coming.done()


def _ticket(coming: Ticket | Future[Ticket]) -> Ticket:
    return coming.result() if isinstance(coming, Future) else coming


def _next_token(page: Page) -> str | None:
    """The token of the page after ``page``; None when it is the last (`_checked_page` has
    made sure a page that is not the last gives one)."""
    return None if page.get("isLast") is True else page.get("nextPageToken")


def _next_answered(ends: Sequence[_SearchEnd]) -> _SearchEnd:
    """The end whose next page is in (the first in ``ends`` if both are), waiting for one."""
    coming = [(e, e.ahead) for e in ends if e.ahead is not None]
    if not coming:
        raise RuntimeError("no end of the search has a page coming")
    if not any(ahead.done() for _, ahead in coming):
        wait([ahead for _, ahead in coming], return_when=FIRST_COMPLETED)
    return next(e for e, ahead in coming if ahead.done())


_NEXT_TOKEN = re.compile(rb'"nextPageToken"\s*:\s*("(?:[^"\\]|\\.)*")')


def peek_next_token(answer: bytes) -> str | None:
    """The ``nextPageToken`` of a search answer, read from its bytes before they are decoded:
    the key's last unescaped occurrence (a token quoted in a ticket's text is escaped there).
    A guess the decoded page confirms: `EarlyPages` uses an early page only for the token
    the page itself gives."""
    at = answer.rfind(b'"nextPageToken"')
    if at < 0:
        return None
    found = _NEXT_TOKEN.match(answer, at)
    if found is None:
        return None
    try:
        token = json.loads(found.group(1))
    except ValueError:
        return None
    return token if isinstance(token, str) and token else None


class EarlyPages:
    """Search pages requested as soon as the page before has arrived, before it is decoded.

    ``answered`` (called with each page's bytes) requests the page its token names, unless
    `PAGES_AHEAD` are already waiting; ``take`` gives the consumer the request for the token
    the decoded page gives, made early or now. A request made for a token that was misread
    is never used (it only costs its call)."""

    def __init__(self, request: Callable[[str], Future[dict[str, Any]]]) -> None:
        self._request = request
        self._lock = threading.Lock()
        self._waiting: dict[str, Future[dict[str, Any]]] = {}
        self.limit = PAGES_AHEAD
        """Pages asked early and not yet taken, at most (0: none asked early)."""
        self._asked: set[str] = set()
        self._stopped = False

    def answered(self, answer: bytes) -> None:
        token = peek_next_token(answer)
        if token is None:
            return
        with self._lock:
            if self._stopped or token in self._asked or len(self._waiting) >= self.limit:
                return
            self._asked.add(token)
            self._waiting[token] = self._request(token)

    def take(self, token: str) -> Future[dict[str, Any]]:
        with self._lock:
            waiting = self._waiting.pop(token, None)
            if waiting is not None:
                return waiting
            self._asked.add(token)
            return self._request(token)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for waiting in self._waiting.values():
                waiting.cancel()
            self._waiting.clear()


def _checked_page(page: Any) -> dict[str, Any]:
    """A search answer the paging can trust: an object with an ``issues`` list, and a
    ``nextPageToken`` whenever it says it is not the last page. Anything else is a read
    failure: read as "no tickets" it would clear every open alert."""
    if not isinstance(page, dict):
        raise PermanentError(SYSTEM, f"search: the answer is {type(page).__name__}, not an object")
    if not isinstance(page.get("issues"), list):
        found = "no issues" if "issues" not in page else type(page["issues"]).__name__
        raise PermanentError(SYSTEM, f"search: the answer has {found} where its issues list goes")
    last = page.get("isLast")
    token = page.get("nextPageToken")
    if last is not None and not isinstance(last, bool):
        raise PermanentError(SYSTEM, f"search: isLast is {last!r}, not true or false")
    if token is not None and (not isinstance(token, str) or not token):
        raise PermanentError(SYSTEM, f"search: nextPageToken is {token!r}, not a token")
    if last is False and token is None:
        raise PermanentError(
            SYSTEM, "search: the answer is not the last page but gives no nextPageToken"
        )
    return page


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


def _path(key: str) -> str:
    return quote(str(key), safe="")
