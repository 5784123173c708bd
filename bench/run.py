"""`make bench`: what each job costs on a large desk, against the honest floor the data sets.

For each size (open tickets), the emulated desk (`bench.desk`) is served on loopback with a
fixed latency per request (an answer goes out that long after its request arrived; the
emulator's own rendering happens within it unless it takes longer), and every job runs once,
alone, on a fresh copy of the desk, as a child process (``python -m jobs run JOB --now ...
--report PATH``, a fresh SQLite ledger, every ticket-changing action switched on, the people
of the desk in ``settings.people``), so its wall time, CPU time and peak RSS are its own.
The ledger holds what any run but the first of a day has in it: Jira's field list and server
info (`jobs.sitecache`), read from the desk before the job starts, and the desk's holidays
(a ledger without them costs two more calls, once a day, and the holidays' computation, once
a month). The job modules are compiled to bytecode first, as the image does. The emulators
record every request; from those records, the run report and the desk itself the benchmark
derives, per job:

- **calls** per system, as the emulators saw them (the job's own counts are cross-checked),
  against **the honest floor**: what the data requires of any program doing the job's work,
  not what this one happens to do:

  * Jira searches: for each question a decision needs, pages of the largest page the search
    endpoint allows for the fields it needs (100 issues with fields; 5,000 for ids only) over
    the tickets that question must read. A ticket is read once a run: a search whose tickets
    were all read by an earlier one (a re-read) is not in the floor. Which tickets a question
    must read, per job:

    - ``unassigned_first_response``: the service desk's open tickets created within
      ``lookback`` and at least the rule's quiet age ago (``first_response - warn_before``:
      no younger ticket can reach a tier on either calendar), counted on the desk;
    - ``config_due_dates``: the config project's open tasks with a Configuration Date, QA Due
      Date or Due Date on or before the desk's today, counted on the desk;
    - the others, the tickets the job's own searches matched: ``onboard_reset_reminder`` and
      ``doc_test_followup`` the On Hold CS tickets and the SS tickets they link to (plus, for
      the latter, those fulfilled within ``fulfilled_lookback``); ``channel_partner_request``
      the open requests and the CS tasks linked to them, named like them or carrying a
      request's trace label; ``approval_reminder`` the open onboarding tickets and the
      approver's tickets since the oldest open ask; ``onboarding_missing_ticket`` the
      onboarding tickets of ``lookback``; ``ticket_hygiene`` every open SS ticket and those
      resolved within ``resolved_lookback`` (its checks compare normalized organization names,
      which JQL cannot); ``sla_report`` the tickets of the week, of the seven weeks before it
      and those open and unassigned at its end. A question that matched nothing costs its
      one call;

  * Jira comment pages: only for a thread longer than a search returns (20), and only where
    a decision needs the rest: ``unassigned_first_response`` for a ticket in a tier with no
    agent reply among the comments the search returned (counted on the desk); the others
    where they read it (an ask, an answer or a customer's reply may be anywhere in it);
  * Jira writes: one call per write that reached Jira, plus one transitions lookup per
    transition (the id depends on the ticket's workflow step);
  * nothing else: no serverInfo, no field list (the ledger has them), no re-read of a ticket
    a search just returned (its comments carry the reply's reference line);
  * Slack: one call per message, update or thread reply, three per file (Slack's upload is
    three requests), one ``users.lookupByEmail`` per distinct address looked up and one
    ``conversations.open`` per distinct DM recipient (the adapter opens the DM; posting to the
    user id would save it);
  * Sheets: the spreadsheet's metadata (the tab's title) and one values read;

- **wall time** against the floor's wall time: the floor's search and comment pages one after
  another × latency, its Jira writes ÷ ``run.max_parallel_writes`` × latency, its Slack calls
  × latency plus the per-channel pacing (one a second after a burst of three), its Sheets
  calls × latency. Target: wall <= 1.3 x that + 0.5 s;
- **CPU seconds** of the job's process (user + system);
- **peak RSS** of the job's process (``os.wait4``, from a small `Launcher`), target < 200 MB;
- **Slack messages**: lines of a job's grouped messages packed for 10, 200 and 2,000 lines,
  against ceil(characters of the lines ÷ what the blocks of one message hold).

Two jobs also run as the plain script a competent engineer would write with the ``jira``
package and ``slack_sdk`` (`bench.peers`), on a fresh copy of the same desk, and the table
gives the project's figures against the script's. Also `python -m jobs list`: CPU seconds,
median of 5, target 0.15 s. Everything goes to ``bench/results.json``; `markdown_table`
renders the README's "Performance" table. The exit code is 1 when a target is missed (the
table says which and why), 0 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
import yaml

from bench.desk import NOW, SHEET_KEY, DeskShape, desk_skeleton, iter_tickets
from bench.indexes import (
    BOUNDS,
    ISSUE_KEY,
    DateOrder,
    IssueKeys,
    TermIndex,
    holds_alone,
    intersection,
    is_broad,
    literal_texts,
    spellings,
    union,
)
from emulators import jql
from emulators.base import Call, Emulator
from emulators.jira import (
    SEARCH_COMMENT_LIMIT,
    SEARCH_MAX_PAGE_IDS_ONLY,
    SEARCH_MAX_PAGE_WITH_FIELDS,
    IssueState,
    JiraEmulator,
    LinkState,
)
from emulators.sheets import SheetsEmulator
from emulators.slack import SlackEmulator
from emulators.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results.json")
SETTINGS = ROOT / "config" / "settings.yaml"
PEERS_DIR = Path(__file__).with_name("peers")

DEFAULT_SIZES = (1_000, 10_000)
FULL_SIZES = (1_000, 10_000, 100_000)
DEFAULT_LATENCY = 0.05
DEFAULT_LATENCY_AT = {100_000: 0.02}
"""At 50 ms the 100,000-ticket run alone would take over 10 minutes (~11,000 calls); at 20 ms
it shows the same calls, RSS and growth and fits, with CPU weighing more in the wall time."""

CALLS_TARGET = 1.05
WALL_FACTOR, WALL_SLACK_SECONDS = 1.3, 0.5
RSS_TARGET_MB = 200.0
LIST_CPU_TARGET = 0.15
PEER_JOBS = ("unassigned_first_response", "onboard_reset_reminder")
PACKED_LINES = (10, 200, 2_000)
COMMENT_PAGE = 100
"""``GET /issue/{key}/comment`` pages at most this many (the emulator's cap, as on Cloud)."""
SLACK_FILE_CALLS = 3
"""files.getUploadURLExternal, the upload itself, files.completeUploadExternal."""
SHEETS_READ_CALLS = 2
"""Spreadsheet metadata (tab index -> title), then the tab's values."""
SLACK_MESSAGE_KINDS = ("slack_post", "slack_update", "slack_dm", "slack_thread_reply")


# -- emulators that measure ------------------------------------------------------------------


class _Timed(Emulator):
    """Adds up the seconds spent answering (injected latency included). Each answer goes out
    the latency after its request arrived (`Emulator.latency_covers_work`): the bench serves
    the desk at a fixed latency per request, as the floor's wall counts it, not latency plus
    the emulator's own rendering (which grows with the page and is no job's cost)."""

    busy_seconds = 0.0
    latency_covers_work = True

    def _dispatch(self, handler: Any) -> None:
        started = time.perf_counter()
        try:
            super()._dispatch(handler)
        finally:
            with self._lock:
                self.busy_seconds += time.perf_counter() - started

    def encode(self, body: Any) -> bytes:
        """The same JSON, encoded by orjson: a search page of 100 issues in 0.7 ms of CPU
        against the standard library's 7, CPU that is the benchmark's, not the job's, taken on
        the cores the job runs on. Text beyond ASCII goes out as UTF-8 (as Jira sends it), not
        escaped; what orjson refuses (a lone surrogate, an integer past 64 bits, a type JSON
        lacks) goes the standard library's way, and fails there as it always did."""
        try:
            return orjson.dumps(body, option=_AS_THE_STANDARD_LIBRARY)
        except TypeError:  # orjson.JSONEncodeError is one
            return super().encode(body)


_AS_THE_STANDARD_LIBRARY = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dataclasses and datetimes are not JSON: the standard library refuses them, so orjson
hands them to it rather than encoding them its own way."""


@dataclass(frozen=True)
class SearchRecord:
    """One search page as the emulator answered it."""

    jql: str
    matched: int
    page_cap: int
    """The largest page the endpoint allows for the fields requested."""
    returned: int
    truncated: tuple[tuple[str, int], ...] = ()
    """(key, comment total) of issues on the page with more comments than the search holds."""
    keys: tuple[str, ...] = ()
    """The issues on the page."""


BODIES_KEPT = 50_000
"""Comment documents kept by text (the desk's filler repeats a few hundred texts)."""


class BenchJira(_Timed, JiraEmulator):
    """The Jira emulator at 100,000 tickets, answering exactly as `JiraEmulator` does.

    Four costs of the plain emulator grow with the desk and would be the benchmark's own,
    not the job's: each search page re-runs its JQL over every issue, rendering an issue's
    links scans every link, loading a link scans every earlier one, and a create scans every
    issue for the project's next number. Here a query's matches are kept until the next
    write, links are indexed by issue, the last number is kept per project, and tickets are
    loaded one at a time from a generator (`load`), so no list of 100,000 ticket dicts is
    held. A query reads only the issues its keys, projects, dates, summary words, people,
    statuses and labels let through (`bench.indexes`, built when the desk is loaded), the
    same condition asked in two orders (a search read from both ends) is read once, each
    user's JSON and each comment text's document are built once, and the JQL emulator
    builds each distinct field value once (`emulators.jql.Named.of`). All of it as Jira
    answers from an index rather than re-reading every issue.
    """

    def __init__(self, desk: dict[str, Any], **kwargs: Any) -> None:
        self.searches: list[SearchRecord] = []
        self._matches: dict[str, list[IssueState]] = {}
        self._where_matches: dict[tuple[Any, datetime], list[IssueState]] = {}
        self._dates: dict[str, DateOrder] = {}
        """Each date field's issues in order of its value (`DateOrder`), from the first load."""
        self._project_sets: dict[frozenset[str], tuple[int, frozenset[str]]] = {}
        self._users_json: dict[tuple[str | None, str, str], dict[str, Any] | None] = {}
        self._bodies: dict[tuple[str, str], Any] = {}
        self._users_known: tuple[int, frozenset[str]] | None = None
        self._summaries = TermIndex("summary", lambda text: jql.text_stems(text or ""))
        self._people = {
            name: TermIndex(name, lambda account: (account,), self._user_aliases)
            for name in ("reporter", "assignee")
        }
        self._statuses = TermIndex("status", lambda status: (status,))
        self._labels = TermIndex(
            "labels", lambda labels: {label.casefold() for label in labels}, as_tuple=True
        )
        self._link_keys: set[tuple[str, str, str]] = set()
        self._links_by_issue: dict[str, list[LinkState]] = {}
        self._last_match = ("", 0)
        self._numbers: dict[str, int] = {}
        super().__init__(desk, **kwargs)

    def load(self, tickets: Iterable[dict[str, Any]]) -> int:
        """Add normalized fixture tickets (each link pointing at a ticket loaded before)."""
        count = 0
        with self._lock:
            for ticket in tickets:
                issue = self._add_ticket(ticket)
                for index in self._indexes():
                    index.add(issue)
                self._add_ticket_links(ticket)
                count += 1
            self._numbers.clear()  # counted again from the loaded issues at the next create
            # Indexed before any search, as Jira's is.
            for index in self._indexes():
                index.written()
                index.changed(self._issues)
            for project in self._projects:
                self._project_keys(frozenset({project}))
            dated = ("created", "updated", "resolved", "duedate")
            for name in (*dated, *(c.name for c in self._custom if c.type == "date")):
                spec = self._jql_field(name)
                if spec is not None and spec.kind in (jql.Kind.DATE, jql.Kind.DATETIME):
                    self._dates[spec.name] = DateOrder(spec)
                    self._dates[spec.name].order(self._issues)
        return count

    def _add_link(self, type_name: str, source: str, target: str) -> None:
        ident = (type_name, source, target)
        if ident in self._link_keys:
            return
        self._link_keys.add(ident)
        link = LinkState(str(self._next_link_id), type_name, source, target)
        self._links.append(link)
        self._next_link_id += 1
        self._links_by_issue.setdefault(source, []).append(link)
        if target != source:
            self._links_by_issue.setdefault(target, []).append(link)

    # The desk's people and its filler comments repeat on every page: each user's JSON and
    # each text's document are built once (a user's until the next write, which may make
    # one; a text is its own key). json.dumps writes a shared value out in full wherever it
    # appears.
    def _user_json(self, account_id: str | None, version: str = "2") -> dict[str, Any] | None:
        kept = (account_id, version, self.base)
        found = self._users_json.get(kept)
        if found is None:
            found = super()._user_json(account_id, version)
            if found is not None:  # an account not there yet may be made by a create
                self._users_json[kept] = found
        return found

    def _body(self, text: str, version: str) -> Any:
        kept = (text, version)
        found = self._bodies.get(kept)
        if found is None:
            found = self._bodies[kept] = super()._body(text, version)
            if len(self._bodies) > BODIES_KEPT:
                self._bodies.clear()  # a run that writes many distinct texts starts over
        return found

    def _links_json(self, issue: IssueState, version: str) -> list[dict[str, Any]]:
        # Render from this issue's links only; handlers run under the emulator's lock, so no
        # other request sees the narrowed list.
        every = self._links
        self._links = self._links_by_issue.get(issue.key, [])
        try:
            return super()._links_json(issue, version)
        finally:
            self._links = every

    def _next_number(self, project: str) -> int:
        # The plain emulator scans every issue for the project's highest number on each
        # create; kept here per project. A number handed out is used: a create that fails
        # after it only skips a key, as Jira's can.
        number = self._numbers.get(project)
        if number is None:
            number = super()._next_number(project) - 1
        self._numbers[project] = number + 1
        return number + 1

    def _run_query(self, text: str) -> list[IssueState]:
        matched = self._matches.get(text)
        if matched is None:
            matched = self._matches[text] = super()._run_query(text)
        self._last_match = (text, len(matched))
        return matched

    def _matching(self, query: Any, predicate: Any, context: Any) -> list[IssueState]:
        # One scan per condition: a search read from both ends asks the same WHERE in two
        # orders, and Jira's index answers both without reading every issue twice.
        kept = (query.where, context.now)
        found = self._where_matches.get(kept)
        if found is None:
            keys = self._narrow(query.where, context)
            every = self._issues
            if keys is None:
                candidates: Iterable[IssueState] = every.values()
            elif len(keys) * 4 > len(every):
                # Most of the desk: read in the desk's order (a set's order would visit the
                # issues at random, several times slower for the interpreter's caches).
                candidates = [i for k, i in every.items() if k in keys]
            else:
                candidates = [every[k] for k in keys if k in every]
            found = self._where_matches[kept] = [i for i in candidates if predicate(i)]
        return found

    def _narrow(self, node: Any, context: Any) -> set[str] | None:
        """The keys of the issues ``node`` can match, None for "any issue": from the keys,
        projects, dates, summary words, people, statuses and labels it names (ANDed: the
        fewest; ORed: all of them, when every part names some). Every candidate still meets
        the whole query; this only leaves out issues no index could let through."""
        lookup = self._lookup(node, context)
        return lookup() if lookup is not None else None

    def _lookup(self, node: Any, context: Any) -> Callable[[], set[str] | None] | None:
        """How an index answers ``node``, or None when none can (found before any is read:
        an OR with one part no index answers reads none of them)."""
        if isinstance(node, jql.Or):
            lookups = [self._lookup(part, context) for part in node.parts]
            if any(lookup is None for lookup in lookups):
                return None
            return lambda: union([lookup() for lookup in lookups if lookup is not None])
        if isinstance(node, jql.And):
            # The narrow indexes first (keys, words, people); the broad ones (a project, the
            # creation date: most of the desk) only while the candidates are still many.
            parts = sorted(node.parts, key=lambda part: is_broad(part, context))
            found = [lookup for part in parts if (lookup := self._lookup(part, context))]
            return (lambda: intersection(found)) if found else None
        if isinstance(node, jql.Clause):
            return self._clause_lookup(node, context)
        return None  # NOT: any issue may match

    def _clause_lookup(self, clause: Any, context: Any) -> Callable[[], set[str] | None] | None:
        spec = context.field(clause.field)
        if spec is None:
            return None
        name = spec.name.casefold()
        texts = literal_texts(clause)
        operand = clause.operand
        if name == "key" and texts is not None:
            if all(ISSUE_KEY.fullmatch(t) for t in texts):
                return lambda: {t.upper() for t in texts}
            return None
        if name == "project" and texts is not None and set(texts) <= set(self._projects):
            return lambda: set(self._project_keys(frozenset(texts)))
        dates = self._dates.get(spec.name)
        if dates is not None and clause.operator in BOUNDS:
            if isinstance(operand, jql.Value | jql.FunctionCall):
                holds = holds_alone(clause, context)
                return lambda: dates.window(clause, holds, self._issues)
            return None
        if name == "summary" and clause.operator == "~" and isinstance(operand, jql.Value):
            asked = jql.TextQuery.parse(operand.text)
            words = [*(s for phrase in asked.phrases for s in phrase), *asked.stems]
            if words:
                return lambda: self._summaries.having_all(words, self._issues)
            return None
        index = self._people.get(name)
        if index is not None and clause.operator in ("=", "in"):
            holds = holds_alone(clause, context)
            named = spellings(clause, context)
            return lambda: index.accepted_by(holds, named, self._issues)
        if name == "labels" and texts is not None:
            # A label matches in any case (the JQL emulator compares them case-folded).
            folded = {text.casefold() for text in texts}
            return lambda: self._labels.having_any(folded, self._issues)
        if name == "status" and clause.operator in ("=", "in"):
            # A few statuses: each is asked whether the clause takes it.
            holds = holds_alone(clause, context)
            return lambda: self._statuses.accepted_by(holds, None, self._issues)
        return None

    def _jql_field(self, name: str) -> jql.FieldSpec | None:
        # The values a query may name, as sets kept or looked up (the plain emulator lists
        # every user's spellings, or every issue's key and id, for each query that names one).
        spec = super()._jql_field(name)
        if spec is None or spec.known is None:
            return spec
        if spec.kind is jql.Kind.USER:
            return dataclasses.replace(spec, known=self._known_users)
        if spec.kind is jql.Kind.KEY:
            return dataclasses.replace(spec, known=lambda: IssueKeys(self._issues))
        return spec

    def _known_users(self) -> frozenset[str]:
        users = self.desk["users"]
        if self._users_known is None or self._users_known[0] != len(users):
            spellings = frozenset(a for u in users for a in self._user_aliases(u["account_id"]))
            self._users_known = (len(users), spellings)
        return self._users_known[1]

    def _indexes(self) -> tuple[TermIndex, ...]:
        return (self._summaries, *self._people.values(), self._statuses, self._labels)

    def _user_aliases(self, account_id: str | None) -> frozenset[str]:
        # The spellings the JQL emulator matches a user by (no write edits a user's name or
        # email: a create only adds an account).
        return self._user_named(account_id).aliases if account_id else frozenset()

    def _project_keys(self, projects: frozenset[str]) -> frozenset[str]:
        """The keys of the issues of ``projects``, kept while no issue is added (issues are
        never removed nor moved between projects here)."""
        kept = self._project_sets.get(projects)
        if kept is None or kept[0] != len(self._issues):
            keys = frozenset(k for k, i in self._issues.items() if i.project in projects)
            kept = self._project_sets[projects] = (len(self._issues), keys)
        return kept[1]

    def _dispatch(self, handler: Any) -> None:
        is_read = handler.command == "GET" or handler.path.split("?")[0].endswith("/search/jql")
        if not is_read:
            with self._lock:
                self._forget_matches()
        super()._dispatch(handler)
        if not is_read:
            with self._lock:
                self._forget_matches()

    def _forget_matches(self) -> None:
        """After a write: any query may match differently (issues' order of creation and
        projects do not change, so those orderings stay)."""
        self._matches.clear()
        self._where_matches.clear()
        self._users_json.clear()  # a write may have made a user (a create's new reporter)
        for index in self._indexes():
            index.written()
        for dates in self._dates.values():
            dates.written()

    def _search_jql(self, request: Any, m: re.Match[str]) -> Any:
        self._last_match = ("", 0)
        response = super()._search_jql(request, m)
        if response.status == 200 and isinstance(response.body, dict):
            issues = response.body.get("issues") or []
            truncated = []
            for issue in issues:
                page = (issue.get("fields") or {}).get("comment")
                if isinstance(page, dict) and page.get("total", 0) > len(page.get("comments", [])):
                    truncated.append((str(issue["key"]), int(page["total"])))
            text, matched = self._last_match
            self.searches.append(
                SearchRecord(
                    jql=text,
                    matched=matched,
                    page_cap=page_cap(request),
                    returned=len(issues),
                    truncated=tuple(truncated),
                    keys=tuple(str(i.get("key")) for i in issues),
                )
            )
        return response


class BenchSlack(_Timed, SlackEmulator):
    pass


class BenchSheets(_Timed, SheetsEmulator):
    pass


def page_cap(request: Any) -> int:
    """The page cap Jira applies to this search: 100 with fields, 5,000 for ids/keys only."""
    if request.method == "POST":
        body = request.json() or {}
        fields, properties = body.get("fields"), body.get("properties")
    else:
        fields, properties = request.query.get("fields"), request.query.get("properties")
    if isinstance(fields, str):
        fields = fields.split(",")
    names = [part.strip() for item in fields or [] for part in str(item).split(",")]
    wanted = [n for n in names if n and n not in ("id", "key")]
    return SEARCH_MAX_PAGE_WITH_FIELDS if wanted or properties else SEARCH_MAX_PAGE_IDS_ONLY


def start_bench_stack(shape: DeskShape, *, now: datetime, latency: float) -> Stack:
    """`emulators.stack.start_stack` for the generated desk, with the measuring emulators."""
    desk = desk_skeleton(shape, now)
    fixed = now.astimezone(UTC)
    jira = BenchJira(desk, latency=latency, clock=lambda: fixed)
    jira.load(iter_tickets(shape, now))
    # The loaded desk (millions of objects at 100,000 tickets) lives as long as the stack:
    # left to the cycle collector, each full collection would walk all of it while every
    # emulator thread waits, a pause in the answers that is the benchmark's, not the job's.
    gc.collect()
    gc.freeze()
    stack = Stack(jira=jira, desk=desk)
    try:
        jira.start()
        stack.slack = BenchSlack(
            list(desk["slack"]["users"]), list(desk["slack"]["channels"]), latency=latency
        )
        stack.slack.start()
        tabs = {key: list(sheet["tabs"]) for key, sheet in desk["sheets"].items()}
        stack.sheets = BenchSheets(tabs, latency=latency)
        stack.sheets.start()
        stack._workdir = Path(tempfile.mkdtemp(prefix="bench-emulators-"))
        stack._service_account_file = Path(stack.sheets.service_account_file(stack._workdir))
    except BaseException:
        stack.stop()
        raise
    return stack


# -- what the desk requires ------------------------------------------------------------------

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_KEY = re.compile(r"\b[A-Z][A-Z0-9_]+-\d+\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")


def question_of(jql: str) -> str:
    """A search's question without its values: ``key in ("SS-1", "SS-2")`` -> ``key in (?)``."""
    shape = _KEY.sub("?", _QUOTED.sub("?", jql))
    return re.sub(r"\s+", " ", _LIST.sub("(?)", shape)).strip()


@dataclass(frozen=True)
class Floor:
    total: int
    parts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DeskFacts:
    """What the desk requires of a job, counted on the desk before the job runs."""

    tickets: frozenset[str] | None = None
    """The tickets its one decision question must read (None: its own searches' tickets)."""
    comment_pages: Mapping[str, int] = field(default_factory=dict)
    """Comment pages a decision needs, by ticket (None in `tickets`: those it read)."""


def search_pages(searches: Sequence[SearchRecord], facts: DeskFacts | None = None) -> int:
    """Per question (JQL shape and page cap), pages of the largest page over the tickets it
    read that no earlier question did; one call for a question that matched nothing; none
    for a re-read. With ``facts.tickets``, the one question's tickets are those instead."""
    if facts is not None and facts.tickets is not None:
        return max(1, math.ceil(len(facts.tickets) / SEARCH_MAX_PAGE_WITH_FIELDS))
    questions: dict[tuple[str, int], set[str]] = {}
    for s in searches:
        questions.setdefault((question_of(s.jql), s.page_cap), set()).update(s.keys)
    seen: set[str] = set()
    pages = 0
    for (_q, cap), keys in questions.items():
        new = keys - seen
        if not keys:
            pages += 1
        elif new:
            pages += math.ceil(len(new) / cap)
        seen |= keys
    return pages


def comment_pages_needed(searches: Sequence[SearchRecord]) -> dict[str, int]:
    """Per ticket a search returned with truncated comments: pages to read the rest."""
    needed: dict[str, int] = {}
    for s in searches:
        for key, total in s.truncated:
            pages = math.ceil(max(0, total - SEARCH_COMMENT_LIMIT) / COMMENT_PAGE)
            needed[key] = max(needed.get(key, 0), pages)
    return needed


def _reached_jira(action: Mapping[str, Any]) -> bool:
    return str(action.get("kind", "")).startswith("jira_") and action.get("status") in (
        "sent",
        "failed",
    )


def jira_write_actions(actions: Sequence[Mapping[str, Any]]) -> int:
    """Jira actions that reached Jira (sent, or failed after trying): one write each."""
    return sum(1 for a in actions if _reached_jira(a))


def transition_lookups(actions: Sequence[Mapping[str, Any]]) -> int:
    """One GET of the ticket's transitions per transition: the id to POST depends on the
    ticket's current workflow step, so it cannot be known (or reused across tickets) unasked."""
    return sum(1 for a in actions if _reached_jira(a) and a.get("kind") == "jira_transition")


def floor_jira(
    searches: Sequence[SearchRecord],
    comment_reads: Mapping[str, int],
    actions: Sequence[Mapping[str, Any]],
    used_jira: bool,
    facts: DeskFacts | None = None,
) -> Floor:
    """The Jira calls the data requires (see the module docstring)."""
    if not used_jira:
        return Floor(0, {})
    if facts is not None and facts.tickets is not None:
        comments = sum(facts.comment_pages.values())
    else:
        needed = comment_pages_needed(searches)
        comments = sum(min(comment_reads.get(k, 0), n) for k, n in needed.items())
    parts = {
        "search": search_pages(searches, facts) if searches or facts else 0,
        "comments": comments,
        "writes": jira_write_actions(actions),
        "transition lookup": transition_lookups(actions),
    }
    return Floor(sum(parts.values()), parts)


def floor_slack(
    actions: Sequence[Mapping[str, Any]], looked_up: Iterable[str], opened: Iterable[str]
) -> Floor:
    """The Slack calls the run's messages require, with each lookup made once."""
    messages = files = 0
    for a in actions:
        if a.get("status") not in ("sent", "failed"):
            continue
        kind = str(a.get("kind", ""))
        if kind == "slack_file":
            files += SLACK_FILE_CALLS
        elif kind.startswith("slack_"):
            messages += 1
    parts = {
        "messages": messages,
        "files": files,
        "lookups": len(set(looked_up)),
        "dm_opens": len(set(opened)),
    }
    return Floor(sum(parts.values()), parts)


def floor_sheets(read_sheet: bool) -> Floor:
    return Floor(SHEETS_READ_CALLS, {"read": SHEETS_READ_CALLS}) if read_sheet else Floor(0)


def paced_seconds(
    per_channel: Mapping[str, int], latency: float, burst: int, interval: float
) -> float:
    """Seconds the messages take on their channels at best: a burst, then one per interval
    (or per latency, whichever is longer), channel by channel (they go one at a time)."""
    total = 0.0
    for count in per_channel.values():
        total += min(count, burst) * latency + max(0, count - burst) * max(interval, latency)
    return total


def floor_wall(
    jira: Floor,
    slack: Floor,
    sheets: Floor,
    per_channel: Mapping[str, int],
    *,
    latency: float,
    parallel_writes: int,
) -> float:
    """The floor's wall time (see the module docstring)."""
    from jobs.adapters.pacing import SLACK_BURST, SLACK_INTERVAL

    reads = jira.parts.get("search", 0) + jira.parts.get("comments", 0)
    writes = jira.parts.get("writes", 0) + jira.parts.get("transition lookup", 0)
    messages = sum(per_channel.values())
    other_slack = max(0, slack.total - messages)
    return (
        reads * latency
        + math.ceil(writes / max(1, parallel_writes)) * latency
        + paced_seconds(per_channel, latency, SLACK_BURST, SLACK_INTERVAL)
        + other_slack * latency
        + sheets.total * latency
    )


def messages_per_channel(actions: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for a in actions:
        if a.get("kind") in SLACK_MESSAGE_KINDS and a.get("status") in ("sent", "failed"):
            counts[str(a.get("target"))] += 1
    return dict(counts)


def desk_facts(stack: Stack, job: str, settings: Path, now: datetime) -> DeskFacts | None:
    """What the desk requires of ``job``'s one question, where the benchmark counts it."""
    jira = stack.jira
    assert isinstance(jira, BenchJira)
    if job == "unassigned_first_response":
        return _unassigned_facts(jira, _job_settings(settings, job), now)
    if job == "config_due_dates":
        return _due_dates_facts(jira, _job_settings(settings, job), now)
    return None


def _job_settings(settings: Path, job: str) -> Any:
    from jobs.registry import entry

    data = yaml.safe_load(settings.read_text())
    return entry(job).config_model().model_validate((data.get("jobs") or {}).get(job) or {})


def _open(jira: BenchJira, issue: IssueState) -> bool:
    return jira._category(issue.project, issue.status) != "done"


def _unassigned_facts(jira: BenchJira, config: Any, now: datetime) -> DeskFacts:
    from jobs.rules.unassigned_first_response import quiet_age

    age = quiet_age(config)
    youngest = now - (age if age is not None else timedelta(0))
    oldest = now - config.lookback.wall
    automation = {a.casefold() for a in config.automation_accounts}
    tickets, pages = set(), {}
    for issue in jira._issues.values():
        if issue.project != "SS" or not _open(jira, issue):
            continue
        if not oldest <= issue.created <= youngest:
            continue
        tickets.add(issue.key)
        if len(issue.comments) <= SEARCH_COMMENT_LIMIT:
            continue
        first = issue.comments[:SEARCH_COMMENT_LIMIT]
        if not any(_agent_reply(jira, issue, c, automation) for c in first):
            rest = len(issue.comments) - SEARCH_COMMENT_LIMIT
            pages[issue.key] = math.ceil(rest / COMMENT_PAGE)
    return DeskFacts(frozenset(tickets), pages)


def _agent_reply(jira: BenchJira, issue: IssueState, comment: Any, automation: set[str]) -> bool:
    """A public comment by an agent who is not the reporter or an automation account."""
    user = jira._users.get(comment.author or "") or {}
    return bool(
        comment.public
        and comment.author is not None
        and comment.author != issue.reporter
        and user.get("kind") == "agent"
        and str(user.get("display_name", "")).casefold() not in automation
    )


def _due_dates_facts(jira: BenchJira, config: Any, now: datetime) -> DeskFacts:
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo("America/New_York")).date()
    tickets = set()
    for issue in jira._issues.values():
        if issue.project != "CS" or issue.issuetype not in config.issue_types:
            continue
        if not _open(jira, issue):
            continue
        dates = (issue.configuration_date, issue.qa_due_date, issue.due_date)
        if any(d is not None and d <= today for d in dates):
            tickets.add(issue.key)
    return DeskFacts(frozenset(tickets))


# -- classifying what the emulators saw ------------------------------------------------------


def jira_category(call: Call) -> str:
    path, method = call.path, call.method
    if path.endswith("/serverInfo"):
        return "serverInfo"
    if path.endswith("/field"):
        return "field"
    if path.endswith("/search/jql"):
        return "search"
    if re.search(r"/issue/[^/]+/comment$", path) and method == "GET":
        return "comments"
    if re.search(r"/issue/[^/]+/transitions$", path) and method == "GET":
        return "transition lookup"
    if path.endswith("/issueLinkType"):
        return "link type lookup"
    if re.search(r"/issue/[^/]+/properties/", path) and method == "PUT":
        return "property write"
    if method in ("POST", "PUT", "DELETE"):
        return "writes"
    return "other reads"


_COMMENTS_OF = re.compile(r"/(?:issue|request)/([^/]+)/comment$")


def jira_breakdown(calls: Sequence[Call]) -> dict[str, int]:
    """Calls by kind; a comment read right before a comment on the same ticket is a check
    for the reply's marker ("re-read before writing")."""
    kinds: Counter[str] = Counter()
    for n, call in enumerate(calls):
        kind = jira_category(call)
        if kind == "comments" and n + 1 < len(calls):
            after = calls[n + 1]
            read = _COMMENTS_OF.search(call.path)
            written = _COMMENTS_OF.search(after.path)
            if after.method == "POST" and read and written and read.group(1) == written.group(1):
                kind = "re-read before writing"
        kinds[kind] += 1
    return dict(kinds)


def comment_reads_by_key(calls: Sequence[Call]) -> dict[str, int]:
    reads: Counter[str] = Counter()
    for call in calls:
        m = re.search(r"/issue/([^/]+)/comment$", call.path)
        if m and call.method == "GET":
            reads[m.group(1)] += 1
    return dict(reads)


def slack_method(call: Call) -> str:
    return call.path.removeprefix("/api/") if call.path.startswith("/api/") else "upload"


def slack_arg(call: Call, name: str) -> str | None:
    if call.query.get(name):
        return call.query[name][-1]
    if isinstance(call.body, dict) and call.body.get(name) is not None:
        value = call.body[name]
        return ",".join(value) if isinstance(value, list) else str(value)
    if isinstance(call.body, str):
        values = parse_qs(call.body).get(name)
        return values[-1] if values else None
    return None


# -- one job, one child process --------------------------------------------------------------


@dataclass
class JobResult:
    size: int
    job: str
    latency: float
    exit_code: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    examined: int
    findings: int
    actions: int
    calls: dict[str, int]
    reported_calls: dict[str, int]
    floor: dict[str, int]
    floor_parts: dict[str, dict[str, int]]
    floor_wall_seconds: float
    jira_by_kind: dict[str, int]
    slack_by_method: dict[str, int]
    issues_read: int
    service_seconds: float = 0.0
    """Seconds the emulators spent answering (the injected latency and their own work, on the
    same processors as the job): not in the floor, shown for what the wall time holds."""
    sheets_token_calls: int = 0
    """OAuth token exchanges: not an API call of the job's counters, but a request all the same."""
    peer: bool = False
    """A plain script's run (`bench.peers`), not the job's."""
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def ratio(self, system: str) -> float | None:
        floor = self.floor.get(system, 0)
        if floor == 0:
            return None if self.calls.get(system, 0) == 0 else math.inf
        return self.calls.get(system, 0) / floor

    @property
    def wall_bound(self) -> float:
        return WALL_FACTOR * self.floor_wall_seconds + WALL_SLACK_SECONDS

    def check(self) -> None:
        failures = []
        if self.exit_code != 0:
            failures.append(f"exit code {self.exit_code}")
        if not self.peer:
            for system, seen in self.calls.items():
                counted = self.reported_calls.get(system)
                if counted is not None and counted != seen:
                    failures.append(
                        f"the run report counts {counted} {system} calls, {seen} were made"
                    )
        for system in ("jira", "slack", "sheets"):
            ratio = self.ratio(system)
            if ratio is not None and ratio > CALLS_TARGET:
                extra = f" ({_excess_text(self)})" if system == "jira" else ""
                failures.append(
                    f"{system} {self.calls[system]} calls > {CALLS_TARGET} x floor "
                    f"{self.floor[system]}{extra}"
                )
        if self.wall_seconds > self.wall_bound:
            failures.append(
                f"wall {self.wall_seconds:.1f} s > {WALL_FACTOR} x {self.floor_wall_seconds:.1f} s"
                f" floor + {WALL_SLACK_SECONDS} s"
            )
        if self.peak_rss_mb >= RSS_TARGET_MB:
            failures.append(f"peak RSS {self.peak_rss_mb:.0f} MB >= {RSS_TARGET_MB:.0f} MB")
        self.failures = failures


def excess(result: JobResult) -> dict[str, int]:
    """Jira calls beyond the floor, by kind (what to fix first)."""
    parts = result.floor_parts.get("jira", {})
    by_kind = dict(result.jira_by_kind)
    justified = {
        "search": parts.get("search", 0),
        "comments": parts.get("comments", 0),
        "writes": parts.get("writes", 0),
        "transition lookup": parts.get("transition lookup", 0),
    }
    over = {kind: count - justified.get(kind, 0) for kind, count in by_kind.items()}
    return {k: v for k, v in sorted(over.items(), key=lambda kv: -kv[1]) if v > 0}


def _excess_text(result: JobResult) -> str:
    return ", ".join(f"+{n} {kind}" for kind, n in excess(result).items()) or "spread thin"


def bench_settings(directory: Path) -> Path:
    """The shipped settings with every ticket-changing action on, people matching the desk."""
    data = yaml.safe_load(SETTINGS.read_text())
    data["templates_dir"] = str(ROOT / "config" / "templates")
    data["actions"] = {key: True for key in data.get("actions") or {}}
    data["people"] = {
        "approver": {
            "name": "David Ellis",
            "email": "david.ellis@goeverbright.example",
            "jira_account_id": "acc-david-ellis",
        },
        "lead": {"name": "Sam Whitaker", "email": "sam.whitaker@goeverbright.example"},
        "qa_assignee": {
            "name": "Cherish Sharma",
            "email": "cherish.sharma@goeverbright.example",
            "jira_account_id": "acc-cherish-sharma",
        },
        "onboarding_reporter": {
            "name": "EverBright Onboarding",
            "email": "onboarding@goeverbright.example",
        },
    }
    data["sheet"] = {**(data.get("sheet") or {}), "source": "google", "key": SHEET_KEY}
    # The Home tabs published after a run are the listener's courtesy, not the job's work
    # (and a run that changes nothing they show publishes none): the rows measure the job.
    data["slack_app"] = {**(data.get("slack_app") or {}), "home_tab": False}
    path = directory / "settings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def child_env(stack: Stack, settings: Path, ledger: Path) -> dict[str, str]:
    own = ("JIRA_", "SLACK_", "SHEETS_", "GOOGLE_", "JOBS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update(stack.env())
    env["JOBS_CONFIG"] = str(settings)
    env["JOBS_LEDGER_URL"] = f"sqlite:///{ledger}"
    return env


def prime_ledger(stack: Stack, ledger: Path, settings: Path, now: datetime) -> None:
    """Write into a new ledger what every run but the first of a day finds there: the Jira
    site's field list and server info, read from the desk here (not the job's calls), and the
    desk's holidays around ``now``."""
    from jobs.adapters.http import CallCounter, RetryBudget
    from jobs.adapters.jira import JiraAdapter
    from jobs.context import kept_holidays
    from jobs.ledger import open_ledger
    from jobs.sitecache import CACHE_JOB, SiteCache

    cache = SiteCache()
    env = stack.env()
    adapter = JiraAdapter.from_env(env, counter=CallCounter(), budget=RetryBudget(), cache=cache)
    adapter.field_ids()  # the field list, after the server info (the client reads it first)
    holidays = (yaml.safe_load(settings.read_text()).get("calendar") or {}).get("holidays") or {}
    if holidays.get("country"):
        for year in range(now.year - 2, now.year + 3):
            kept_holidays(cache)(str(holidays["country"]), holidays.get("subdivision"), year)
    opened = open_ledger(f"sqlite:///{ledger}")
    try:
        opened.remember(CACHE_JOB, cache.take_updates(), now=datetime.now(UTC))
    finally:
        opened.close()


_LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["log"], "wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            job["argv"], cwd=job["cwd"], env=job["env"], stdout=out, stderr=out
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"code": code, "wall": wall, "cpu": cpu, "maxrss_kb": usage.ru_maxrss}),
          flush=True)
"""


@dataclass(frozen=True)
class Ran:
    code: int
    wall: float
    cpu: float
    rss_mb: float


class Launcher:
    """Starts each job process from a small process of its own, started before the desk.

    Linux charges the peak RSS of the process that forks to the child's ``ru_maxrss`` when the
    child execs (``exec_mmap`` keeps the larger of the two), so a job started from the
    benchmark, which holds the emulated desk, would report the desk's size. From this
    launcher (a bare interpreter, about 10 MB) the figure is the job's own.
    """

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: Sequence[str], env: Mapping[str, str], log: Path) -> Ran:
        """Exit code, wall and CPU seconds, and peak RSS in MB of one child process."""
        assert self._process.stdin is not None and self._process.stdout is not None
        job = {"argv": list(argv), "cwd": str(ROOT), "env": dict(env), "log": str(log)}
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        return Ran(
            int(answer["code"]),
            float(answer["wall"]),
            float(answer["cpu"]),
            answer["maxrss_kb"] / 1024.0,
        )

    def own_peak_mb(self) -> float | None:
        """The launcher's own peak RSS: a child's figure can never read below it."""
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024.0 if found else None

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


def run_job(
    stack: Stack,
    launcher: Launcher,
    job: str,
    *,
    size: int,
    latency: float,
    now: datetime,
    workdir: Path,
    peer: bool = False,
) -> JobResult:
    """One run of ``job`` (or, with ``peer``, of its plain script) on ``stack``'s desk."""
    jira, slack, sheets = stack.jira, stack.slack, stack.sheets
    assert isinstance(jira, BenchJira) and slack is not None and sheets is not None
    name = f"{size}-{job}{'-peer' if peer else ''}"
    report_path = workdir / f"{name}.json"
    ledger = workdir / f"{name}.db"
    settings = workdir / "settings.yaml"
    env = child_env(stack, settings, ledger)
    facts = desk_facts(stack, job, settings, now)
    if peer:
        argv = [sys.executable, str(PEERS_DIR / f"{job}.py"), "--now", now.isoformat()]
    else:
        prime_ledger(stack, ledger, settings, now)
        argv = [sys.executable, "-m", "jobs", "run", job, "--now", now.isoformat()]
        argv += ["--report", str(report_path)]
    marks = (len(jira.calls), len(slack.calls), len(sheets.calls), len(jira.searches))
    busy = jira.busy_seconds + slack.busy_seconds + sheets.busy_seconds
    ran = launcher.run(argv, env, workdir / f"{name}.log")
    service = jira.busy_seconds + slack.busy_seconds + sheets.busy_seconds - busy
    jira_calls = jira.calls[marks[0] :]
    slack_calls = slack.calls[marks[1] :]
    sheets_calls = [c for c in sheets.calls[marks[2] :] if c.path.startswith("/v4/")]
    token_calls = len(sheets.calls) - marks[2] - len(sheets_calls)
    searches = jira.searches[marks[3] :]
    report: dict[str, Any] = {}
    if report_path.exists():
        report = json.loads(report_path.read_text())
    actions = list(report.get("actions") or [])
    errors = list(report.get("errors") or [])
    if not report and not peer:
        tail = (workdir / f"{name}.log").read_text(errors="replace")[-600:]
        errors.append(f"no report; the job's output ends with: {tail}")
    if peer:
        actions = peer_actions(jira_calls, slack_calls)

    looked_up = [
        slack_arg(c, "email") or "?"
        for c in slack_calls
        if slack_method(c) == "users.lookupByEmail"
    ]
    opened = [
        slack_arg(c, "users") or "?" for c in slack_calls if slack_method(c) == "conversations.open"
    ]
    floors = {
        "jira": floor_jira(
            searches, comment_reads_by_key(jira_calls), actions, bool(jira_calls), facts
        ),
        "slack": floor_slack(actions, looked_up, opened),
        "sheets": floor_sheets(bool(sheets_calls)),
    }
    per_channel = messages_per_channel(actions)
    result = JobResult(
        size=size,
        job=job,
        latency=latency,
        exit_code=ran.code,
        wall_seconds=round(ran.wall, 3),
        cpu_seconds=round(ran.cpu, 3),
        peak_rss_mb=round(ran.rss_mb, 1),
        examined=int(report.get("examined") or 0),
        findings=len(report.get("findings") or []),
        actions=len(actions),
        calls={"jira": len(jira_calls), "slack": len(slack_calls), "sheets": len(sheets_calls)},
        reported_calls=dict(report.get("api_calls") or {}),
        floor={k: v.total for k, v in floors.items()},
        floor_parts={k: v.parts for k, v in floors.items()},
        floor_wall_seconds=round(
            floor_wall(
                floors["jira"],
                floors["slack"],
                floors["sheets"],
                per_channel,
                latency=latency,
                parallel_writes=_parallel_writes(settings),
            ),
            3,
        ),
        jira_by_kind=jira_breakdown(jira_calls),
        service_seconds=round(service, 3),
        slack_by_method=dict(Counter(slack_method(c) for c in slack_calls)),
        issues_read=sum(s.returned for s in searches),
        sheets_token_calls=token_calls,
        peer=peer,
        errors=errors,
    )
    result.check()
    return result


def peer_actions(jira_calls: Sequence[Call], slack_calls: Sequence[Call]) -> list[dict[str, Any]]:
    """A plain script's writes as the run report would list them (it writes no report)."""
    actions: list[dict[str, Any]] = []
    for call in jira_calls:
        if call.method == "POST" and "/comment" in call.path and call.status < 300:
            actions.append({"kind": "jira_public_comment", "status": "sent"})
    for call in slack_calls:
        if slack_method(call) == "chat.postMessage" and call.status < 300:
            target = slack_arg(call, "channel") or "?"
            actions.append({"kind": "slack_post", "status": "sent", "target": target})
    return actions


def _parallel_writes(settings: Path) -> int:
    data = yaml.safe_load(settings.read_text())
    return int(((data.get("run") or {}).get("max_parallel_writes")) or 8)


def desk_info(stack: Stack, shape: DeskShape, latency: float, seconds: float) -> dict[str, Any]:
    issues = stack.jira._issues.values()
    return {
        "open_tickets": shape.open_tickets,
        "tickets": len(issues),
        "comments": sum(len(i.comments) for i in issues),
        "links": len(stack.jira._links),
        "sheet_rows": shape.sheet_rows,
        "latency": latency,
        "build_seconds": round(seconds, 1),
    }


# -- start-up and packing --------------------------------------------------------------------


def compile_bytecode() -> None:
    """The job modules as bytecode, as the image ships them (scripts/slim-venv.sh)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "jobs")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def time_jobs_list(launcher: Launcher, workdir: Path, repeat: int = 5) -> dict[str, float]:
    """CPU and wall seconds of ``python -m jobs list`` (a cold interpreter each time), median
    of ``repeat`` after one warm-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBS_")}
    runs = []
    for n in range(repeat + 1):
        ran = launcher.run([sys.executable, "-m", "jobs", "list"], env, workdir / "list.log")
        if ran.code != 0:
            raise RuntimeError(f"python -m jobs list exited {ran.code}")
        if n:
            runs.append(ran)
    return {
        "cpu": round(statistics.median(r.cpu for r in runs), 3),
        "wall": round(statistics.median(r.wall for r in runs), 3),
    }


@dataclass(frozen=True)
class Packing:
    renderer: str
    lines: int
    messages: int
    floor: int


def packing() -> list[Packing]:
    """Grouped messages for 10, 200 and 2,000 lines against the fewest messages the lines'
    characters allow (Slack: 50 blocks, 3,000 characters a section)."""
    from jobs.render.pack import SECTION_LIMIT, pack
    from jobs.render.slack import MAX_BLOCKS

    results = []
    for name, lines_of, other in _renderers():
        for n in PACKED_LINES:
            lines = lines_of(n)
            messages = len(pack(lines, other_blocks=other))
            characters = sum(len(line) + 1 for line in lines)
            floor = max(1, math.ceil(characters / ((MAX_BLOCKS - other) * SECTION_LIMIT)))
            results.append(Packing(name, n, messages, floor))
    return results


def _renderers() -> list[tuple[str, Any, int]]:
    """(name, n -> the job's lines for n tickets, blocks a message has besides them)."""
    from jobs.render.unassigned_first_response import Card

    def first_response_lines(n: int) -> list[str]:
        cards = [
            Card(
                key=f"SS-{1000 + i}",
                url=f"https://desk.example/browse/SS-{1000 + i}",
                summary=f"Portal login fails for installer crew {i}",
                organization="Sunrise Solar Co" if i % 7 == 0 else "Harbor Light Electric",
                priority=i % 7 == 0,
                priority_name="High" if i % 7 == 0 else "Medium",
                tier="breach" if i % 3 else "warning",
                status="no first response after 2 h 13 m (target 2 h)",
                assignee="Maya Patel" if i % 2 else None,
            )
            for i in range(n)
        ]
        return [f"• {card.line()}" for card in cards]

    def due_date_lines(n: int) -> list[str]:
        return [
            f"• <https://desk.example/browse/CS-{500 + i}|CS-{500 + i}> *Coastal Sun Power*: "
            f"QA Due Date {i % 5} business days late · assignee <@U0LUIS> · QA <@U0CHERISH>"
            for i in range(n)
        ]

    return [
        ("unassigned_first_response (grouped alert)", first_response_lines, 4),
        ("config_due_dates (digest)", due_date_lines, 2),
    ]


# -- output ----------------------------------------------------------------------------------


def _ratio_text(result: JobResult, system: str) -> str:
    calls, floor = result.calls.get(system, 0), result.floor.get(system, 0)
    if calls == 0 and floor == 0:
        return "-"
    ratio = result.ratio(system)
    shown = "inf" if ratio == math.inf else f"{ratio:.2f}"
    return f"{calls}/{floor} ({shown})"


COLUMNS = (
    "size",
    "lat ms",
    "job",
    "examined",
    "findings",
    "jira calls/floor",
    "slack calls/floor",
    "sheets calls/floor",
    "wall s",
    "floor wall s",
    "emulators s",
    "cpu s",
    "peak RSS MB",
    "result",
)


def table_rows(results: Sequence[JobResult]) -> list[list[str]]:
    rows = []
    for r in results:
        rows.append(
            [
                f"{r.size:,}",
                f"{r.latency * 1000:g}",
                r.job + (" (plain script)" if r.peer else ""),
                str(r.examined) if not r.peer else "-",
                str(r.findings) if not r.peer else "-",
                _ratio_text(r, "jira"),
                _ratio_text(r, "slack"),
                _ratio_text(r, "sheets"),
                f"{r.wall_seconds:.1f}",
                f"{r.floor_wall_seconds:.1f}",
                f"{r.service_seconds:.1f}",
                f"{r.cpu_seconds:.2f}",
                f"{r.peak_rss_mb:.0f}",
                "OK" if not r.failures else "FAIL",
            ]
        )
    return rows


def peer_rows(results: Sequence[JobResult]) -> list[list[str]]:
    """Project / plain script, per size and job: calls, wall and CPU."""
    ours = {(r.size, r.job): r for r in results if not r.peer}
    rows = []
    for peer in (r for r in results if r.peer):
        own = ours.get((peer.size, peer.job))
        if own is None:
            continue

        def ratio(a: float, b: float) -> str:
            return f"{a / b:.2f}" if b else "-"

        rows.append(
            [
                f"{peer.size:,}",
                peer.job,
                f"{own.calls['jira']}/{peer.calls['jira']}",
                f"{own.calls['slack']}/{peer.calls['slack']}",
                f"{own.wall_seconds:.1f}/{peer.wall_seconds:.1f} "
                f"({ratio(own.wall_seconds, peer.wall_seconds)})",
                f"{own.cpu_seconds:.2f}/{peer.cpu_seconds:.2f} "
                f"({ratio(own.cpu_seconds, peer.cpu_seconds)})",
            ]
        )
    return rows


PEER_COLUMNS = ("size", "job", "jira calls", "slack calls", "wall s", "cpu s")
PACKING_COLUMNS = ("renderer", "lines", "messages", "floor")


def _text(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    table = [list(columns), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _markdown(columns: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int) -> str:
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(columns))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(results: Sequence[JobResult]) -> str:
    return _text(COLUMNS, table_rows(results))


def markdown_table(results: Mapping[str, Any] | Sequence[JobResult]) -> str:
    """The README's "Performance" table, from `JobResult`s or a loaded results.json."""
    rows = table_rows(_results_of(results))
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if name == "job" else "---:" for name in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def peer_markdown(results: Mapping[str, Any] | Sequence[JobResult]) -> str:
    return _markdown(PEER_COLUMNS, peer_rows(_results_of(results)), 2)


def packing_rows(packed: Sequence[Packing]) -> list[list[str]]:
    return [[p.renderer, f"{p.lines:,}", str(p.messages), str(p.floor)] for p in packed]


def _results_of(results: Mapping[str, Any] | Sequence[JobResult]) -> list[JobResult]:
    if isinstance(results, Mapping):
        loaded = []
        for raw in results.get("jobs") or []:
            known = {k: v for k, v in raw.items() if k in JobResult.__dataclass_fields__}
            loaded.append(JobResult(**known))
        return loaded
    return list(results)


def failure_notes(results: Sequence[JobResult]) -> list[str]:
    return [
        f"{r.size:,} {r.job}{' (plain script)' if r.peer else ''}: {failure}"
        for r in results
        for failure in r.failures
    ]


def cpu_notes(results: Sequence[JobResult]) -> list[str]:
    """The CPU target: at 1,000 tickets, no more than the plain script's."""
    ours = {(r.size, r.job): r for r in results if not r.peer}
    notes = []
    for peer in (r for r in results if r.peer and r.size == 1_000):
        own = ours.get((peer.size, peer.job))
        if own is not None and own.cpu_seconds > peer.cpu_seconds:
            notes.append(
                f"1,000 {peer.job}: cpu {own.cpu_seconds:.2f} s > the plain script's "
                f"{peer.cpu_seconds:.2f} s"
            )
    return notes


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """What the figures ran on: processors, and how busy they were (load averages)."""
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load]}


# -- main ------------------------------------------------------------------------------------


@dataclass
class Options:
    sizes: tuple[int, ...]
    latency: float
    latency_at: dict[int, float]
    jobs: tuple[str, ...] | None
    out: Path
    keep: bool
    peers: bool


def parse_args(argv: Sequence[str] | None, env: Mapping[str, str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        help=f"open tickets per run, comma separated (default {','.join(map(str, DEFAULT_SIZES))};"
        f" BENCH_FULL=1: {','.join(map(str, FULL_SIZES))})",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=DEFAULT_LATENCY,
        help=f"seconds added to every emulated request (default {DEFAULT_LATENCY})",
    )
    parser.add_argument(
        "--latency-at",
        action="append",
        default=None,
        metavar="SIZE=SECONDS",
        help="a different latency for one size (default: 100000=0.02, so the full run "
        "fits in 10 minutes)",
    )
    parser.add_argument("--jobs", help="only these jobs, comma separated (default: every job)")
    parser.add_argument("--no-peers", action="store_true", help="skip the plain scripts")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the reports, logs and ledgers")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    else:
        sizes = FULL_SIZES if env.get("BENCH_FULL") == "1" else DEFAULT_SIZES
    latency_at = dict(DEFAULT_LATENCY_AT) if args.latency_at is None else {}
    for item in args.latency_at or []:
        size, _, seconds = item.partition("=")
        latency_at[int(size.replace("_", ""))] = float(seconds)
    jobs = tuple(j.strip() for j in args.jobs.split(",")) if args.jobs else None
    return Options(sizes, args.latency, latency_at, jobs, args.out, args.keep, not args.no_peers)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv, os.environ)
    from jobs.registry import catalog

    names = list(options.jobs or catalog())
    unknown = sorted(set(names) - set(catalog()))
    if unknown:
        print(f"error: unknown job(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    host = machine()
    print(f"machine: {host['cpus']} processors, load averages {host['load_before']}")
    compile_bytecode()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    bench_settings(workdir)
    launcher = Launcher()  # before any desk exists: see its docstring
    listing = time_jobs_list(launcher, workdir)
    print(
        f"python -m jobs list: cpu {listing['cpu']:.3f} s, wall {listing['wall']:.3f} s "
        f"(median of 5, target cpu <= {LIST_CPU_TARGET} s)"
    )
    packed = packing()
    results: list[JobResult] = []
    sizes_info = []
    try:
        for size in options.sizes:
            latency = options.latency_at.get(size, options.latency)
            shape = DeskShape(open_tickets=size)
            runs = [(name, False) for name in names]
            if options.peers:
                runs += [(name, True) for name in PEER_JOBS if name in names]
            for n, (name, peer) in enumerate(runs):
                # A fresh desk for every run: what one run writes (a reply that makes a
                # thread longer than a search returns, a closed ticket) never moves another
                # run's figures, so runs stay comparable when one job changes.
                built = time.perf_counter()
                stack = start_bench_stack(shape, now=NOW, latency=latency)
                if n == 0:
                    info = desk_info(stack, shape, latency, time.perf_counter() - built)
                    sizes_info.append(info)
                    print(
                        f"\n== {size:,} open tickets ({info['tickets']:,} with the resolved, "
                        f"{info['comments']:,} comments, {info['links']:,} links), latency "
                        f"{latency * 1000:g} ms; desk built in {info['build_seconds']} s =="
                    )
                try:
                    result = run_job(
                        stack,
                        launcher,
                        name,
                        size=size,
                        latency=latency,
                        now=NOW,
                        workdir=workdir,
                        peer=peer,
                    )
                finally:
                    stack.stop()
                    del stack
                    gc.unfreeze()  # the desk frozen at its start may be collected now
                results.append(result)
                status = "OK" if not result.failures else "FAIL"
                shown = name + (" (plain script)" if peer else "")
                print(
                    f"  {shown:<42} {status:<4} wall {result.wall_seconds:6.1f} s "
                    f"(floor {result.floor_wall_seconds:.1f})  cpu {result.cpu_seconds:5.2f} s  "
                    f"calls {result.calls}  floor {result.floor}",
                    flush=True,
                )
    finally:
        launcher_mb = launcher.own_peak_mb()
        launcher.close()
        if options.keep:
            print(f"reports, logs and ledgers kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    host["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(text_table(results))
    if options.peers:
        print("\nThe project against the plain script (project/script):\n")
        print(_text(PEER_COLUMNS, peer_rows(results)))
    print("\nSlack messages for N lines (floor: the lines' characters over what one holds):\n")
    print(_text(PACKING_COLUMNS, packing_rows(packed)))
    notes = failure_notes(results) + cpu_notes(results)
    notes += [
        f"{p.renderer}: {p.lines} lines in {p.messages} messages > floor {p.floor}"
        for p in packed
        if p.messages > p.floor
    ]
    list_ok = listing["cpu"] <= LIST_CPU_TARGET
    if not list_ok:
        notes.append(f"python -m jobs list: cpu {listing['cpu']:.3f} s > {LIST_CPU_TARGET} s")
    print(f"\npython -m jobs list: cpu {listing['cpu']:.3f} s ({'OK' if list_ok else 'FAIL'})")
    if notes:
        print("\nMissed:")
        for note in notes:
            print(f"  - {note}")
    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": host,
        "now": NOW.isoformat(),
        "sizes": sizes_info,
        "latency": options.latency,
        "latency_at": {str(k): v for k, v in options.latency_at.items()},
        "targets": {
            "calls": f"<= {CALLS_TARGET} x the honest floor",
            "wall": f"<= {WALL_FACTOR} x the floor's wall + {WALL_SLACK_SECONDS} s",
            "cpu": "at 1,000 tickets, no more than the plain script's",
            "peak_rss_mb": RSS_TARGET_MB,
            "jobs_list_cpu_seconds": LIST_CPU_TARGET,
        },
        "jobs_list": listing,
        "launcher_peak_rss_mb": round(launcher_mb, 1) if launcher_mb else None,
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "jobs": [asdict(r) for r in results],
        "packing": [asdict(p) for p in packed],
        "missed": notes,
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {options.out} ({payload['elapsed_seconds']} s)")
    print("\n### Performance table (markdown)\n")
    print(markdown_table(results))
    if options.peers:
        print()
        print(peer_markdown(results))
    return 0 if not notes else 1


__all__ = [
    "DeskFacts",
    "Floor",
    "JobResult",
    "SearchRecord",
    "floor_jira",
    "floor_sheets",
    "floor_slack",
    "main",
    "markdown_table",
    "question_of",
    "search_pages",
]


if __name__ == "__main__":
    sys.exit(main())
