"""`make bench`: what each job costs on a large desk, against the floor the data allows.

For each size (open tickets), the emulated desk (`bench.desk`) is served on loopback with a
fixed latency per request, and every job runs once, alone, on a fresh copy of the desk, as a
child process (``python -m jobs run JOB --now ... --report PATH``, a fresh SQLite ledger, every
ticket-changing action switched on, the people of the desk in ``settings.people``), so its wall
time and peak RSS are its own. The emulators record every request; from those records and the
run report the benchmark derives:

- **calls** per system, as the emulators saw them (the job's own counts are cross-checked);
- **the minimum** the data requires (`minimum_jira`, `minimum_slack`, `minimum_sheets`):

  * Jira: the client's fixed cost (serverInfo when the library connects, one ``GET /field``),
    plus, per question a job asks, the pages of the largest page the endpoint allows for the
    fields it requested (100; 5,000 for ids only) over the issues that matched, plus comment
    pages only for tickets that came back with more comments than a search returns (20),
    plus one call per Jira write (comment, edit, transition, link, create). Searches that
    differ only in their quoted values or key lists (e.g. ``key in (...)`` chunks) are one
    question, so a per-ticket search loop cannot hide behind its own minimum. The minimum
    trusts each job's choice of JQL: it measures how a question is asked, not whether a
    narrower question would do;
  * Slack: one call per message, update or thread reply, one per DM plus one
    ``users.lookupByEmail`` per distinct address looked up and one ``conversations.open`` per
    distinct DM recipient, three per file (Slack's upload is three requests);
  * Sheets: spreadsheet metadata (the tab's title) and one values read;

- **wall time** against the I/O floor. ``wall / (calls x latency)`` is printed as the issue
  asks; the check uses the emulators' measured service time (the injected latency plus the
  emulators' own work, which a real server folds into its latency):
  wall <= 1.3 x service time + 2 s;
- **Slack messages**: at most one per destination and severity, split only past
  ``run.max_alerts_per_message`` items (never one per ticket);
- **peak RSS** of the job process (``os.wait4``, from a small `Launcher`), against 300 MB.

Also `python -m jobs list` (best of 5) against 0.5 s. Everything goes to ``bench/results.json``;
`markdown_table` renders the README's "Performance" table. The exit code is 1 when a target is
missed (the table says which and why), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

from bench.desk import NOW, SHEET_KEY, DeskShape, desk_skeleton, iter_tickets
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

DEFAULT_SIZES = (1_000, 10_000)
FULL_SIZES = (1_000, 10_000, 100_000)
DEFAULT_LATENCY = 0.05
DEFAULT_LATENCY_AT = {100_000: 0.02}
"""At 50 ms the 100,000-ticket run alone would take over 10 minutes (~11,000 calls); at 20 ms
it shows the same calls, RSS and growth and fits, with CPU weighing more in the wall time."""

JIRA_RATIO_TARGET = 1.1
WALL_FACTOR, WALL_SLACK_SECONDS = 1.3, 2.0
RSS_TARGET_MB = 300.0
LIST_TARGET_SECONDS = 0.5
COMMENT_PAGE = 100
"""``GET /issue/{key}/comment`` pages at most this many (the emulator's cap, as on Cloud)."""
CLIENT_OVERHEAD = ("serverInfo", "field")
"""What the Jira client always costs: the library reads serverInfo when it connects, and the
adapter reads the field list once to resolve custom field names."""
SLACK_FILE_CALLS = 3
"""files.getUploadURLExternal, the upload itself, files.completeUploadExternal."""
SHEETS_READ_CALLS = 2
"""Spreadsheet metadata (tab index -> title), then the tab's values."""


# -- emulators that measure ------------------------------------------------------------------


class _Timed(Emulator):
    """Adds up the seconds spent answering (injected latency included): the job's I/O floor."""

    busy_seconds = 0.0

    def _dispatch(self, handler: Any) -> None:
        started = time.perf_counter()
        try:
            super()._dispatch(handler)
        finally:
            with self._lock:
                self.busy_seconds += time.perf_counter() - started


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


class BenchJira(_Timed, JiraEmulator):
    """The Jira emulator at 100,000 tickets, answering exactly as `JiraEmulator` does.

    Three costs of the plain emulator grow with the desk and would be the benchmark's own,
    not the job's: each search page re-runs its JQL over every issue, rendering an issue's
    links scans every link, and loading a link scans every earlier one. Here a query's
    matches are kept until the next write, links are indexed by issue, and tickets are loaded
    one at a time from a generator (`load`), so no list of 100,000 ticket dicts is held.
    """

    def __init__(self, desk: dict[str, Any], **kwargs: Any) -> None:
        self.searches: list[SearchRecord] = []
        self._matches: dict[str, list[IssueState]] = {}
        self._link_keys: set[tuple[str, str, str]] = set()
        self._links_by_issue: dict[str, list[LinkState]] = {}
        self._last_match = ("", 0)
        super().__init__(desk, **kwargs)

    def load(self, tickets: Iterable[dict[str, Any]]) -> int:
        """Add normalized fixture tickets (each link pointing at a ticket loaded before)."""
        count = 0
        with self._lock:
            for ticket in tickets:
                self._add_ticket(ticket)
                self._add_ticket_links(ticket)
                count += 1
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

    def _links_json(self, issue: IssueState, version: str) -> list[dict[str, Any]]:
        # Render from this issue's links only; handlers run under the emulator's lock, so no
        # other request sees the narrowed list.
        every = self._links
        self._links = self._links_by_issue.get(issue.key, [])
        try:
            return super()._links_json(issue, version)
        finally:
            self._links = every

    def _run_query(self, text: str) -> list[IssueState]:
        matched = self._matches.get(text)
        if matched is None:
            matched = super()._run_query(text)
            self._matches[text] = matched
        self._last_match = (text, len(matched))
        return matched

    def _dispatch(self, handler: Any) -> None:
        is_read = handler.command == "GET" or handler.path.split("?")[0].endswith("/search/jql")
        if not is_read:
            with self._lock:
                self._matches.clear()
        super()._dispatch(handler)
        if not is_read:
            with self._lock:
                self._matches.clear()

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


# -- the minimum the data requires -----------------------------------------------------------

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_KEY = re.compile(r"\b[A-Z][A-Z0-9_]+-\d+\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")


def question_of(jql: str) -> str:
    """A search's question without its values: ``key in ("SS-1", "SS-2")`` -> ``key in (?)``."""
    shape = _KEY.sub("?", _QUOTED.sub("?", jql))
    return re.sub(r"\s+", " ", _LIST.sub("(?)", shape)).strip()


@dataclass(frozen=True)
class Minimum:
    total: int
    parts: dict[str, int] = field(default_factory=dict)


def minimum_search_pages(searches: Sequence[SearchRecord]) -> int:
    """Per question (JQL shape and page cap): pages of the largest page over its matches.

    Each distinct query counts its matches once, however often it was paged or repeated.
    A question with no match still costs its one call.
    """
    matched: dict[tuple[str, int], dict[str, int]] = {}
    for s in searches:
        matched.setdefault((question_of(s.jql), s.page_cap), {}).setdefault(s.jql, s.matched)
    return sum(max(1, math.ceil(sum(texts.values()) / cap)) for (_q, cap), texts in matched.items())


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


def minimum_jira(
    searches: Sequence[SearchRecord],
    comment_reads: Mapping[str, int],
    actions: Sequence[Mapping[str, Any]],
    used_jira: bool,
) -> Minimum:
    """The Jira calls the data requires (see the module docstring)."""
    if not used_jira:
        return Minimum(0, {})
    needed = comment_pages_needed(searches)
    parts = {
        "client": len(CLIENT_OVERHEAD),
        "search": minimum_search_pages(searches) if searches else 0,
        "comments": sum(min(comment_reads.get(k, 0), n) for k, n in needed.items()),
        "writes": jira_write_actions(actions),
        "transition lookup": transition_lookups(actions),
    }
    return Minimum(sum(parts.values()), parts)


def minimum_slack(
    actions: Sequence[Mapping[str, Any]], looked_up: Iterable[str], opened: Iterable[str]
) -> Minimum:
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
    return Minimum(sum(parts.values()), parts)


def minimum_sheets(read_sheet: bool) -> Minimum:
    return Minimum(SHEETS_READ_CALLS, {"read": SHEETS_READ_CALLS}) if read_sheet else Minimum(0)


def allowed_messages(
    actions: Sequence[Mapping[str, Any]],
    severity_of: Mapping[str, set[str]],
    per_message: int,
) -> int:
    """One message per destination and severity, split only past ``per_message`` items."""
    items: dict[tuple[str, str], set[str]] = {}
    targets: set[str] = set()
    for a in actions:
        if a.get("kind") not in ("slack_post", "slack_dm", "slack_thread_reply"):
            continue
        target = str(a.get("target"))
        targets.add(target)
        for item in a.get("items") or []:
            for severity in severity_of.get(item, {"?"}):
                items.setdefault((target, severity), set()).add(item)
    by_target = {t for t, _s in items}
    allowed = sum(math.ceil(len(v) / per_message) for v in items.values())
    return allowed + len(targets - by_target)  # an item-less summary line: one per target


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
    """Calls by kind; a comment read right before a comment on the same ticket is the
    pipeline's check for the reply's marker ("re-read before writing")."""
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
    peak_rss_mb: float
    examined: int
    findings: int
    actions: int
    calls: dict[str, int]
    reported_calls: dict[str, int]
    minimum: dict[str, int]
    minimum_parts: dict[str, dict[str, int]]
    jira_by_kind: dict[str, int]
    slack_by_method: dict[str, int]
    service_seconds: float
    slack_messages: int
    slack_messages_allowed: int
    issues_read: int
    sheets_token_calls: int = 0
    """OAuth token exchanges: not an API call of the job's counters, but a request all the same."""
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def ratio(self, system: str) -> float | None:
        floor = self.minimum.get(system, 0)
        if floor == 0:
            return None if self.calls.get(system, 0) == 0 else math.inf
        return self.calls.get(system, 0) / floor

    @property
    def wall_per_io(self) -> float | None:
        """The issue's figure: wall time / (calls x latency)."""
        floor = self.total_calls * self.latency
        return self.wall_seconds / floor if floor > 0 else None

    def check(self) -> None:
        failures = []
        if self.exit_code != 0:
            failures.append(f"exit code {self.exit_code}")
        for system, seen in self.calls.items():
            counted = self.reported_calls.get(system)
            if counted is not None and counted != seen:
                failures.append(f"the run report counts {counted} {system} calls, {seen} were made")
        jira = self.ratio("jira")
        if jira is not None and jira > JIRA_RATIO_TARGET:
            failures.append(
                f"jira {self.calls['jira']} calls > {JIRA_RATIO_TARGET} x minimum "
                f"{self.minimum['jira']} ({_excess_text(self)})"
            )
        slack = self.ratio("slack")
        if slack is not None and slack > 1.0:
            failures.append(f"slack {self.calls['slack']} calls > minimum {self.minimum['slack']}")
        if self.slack_messages > self.slack_messages_allowed:
            failures.append(
                f"{self.slack_messages} Slack messages > {self.slack_messages_allowed} "
                "(one per destination and severity)"
            )
        bound = WALL_FACTOR * self.service_seconds + WALL_SLACK_SECONDS
        if self.wall_seconds > bound:
            failures.append(
                f"wall {self.wall_seconds:.1f} s > {WALL_FACTOR} x {self.service_seconds:.1f} s "
                f"of I/O + {WALL_SLACK_SECONDS:.0f} s"
            )
        if self.peak_rss_mb >= RSS_TARGET_MB:
            failures.append(f"peak RSS {self.peak_rss_mb:.0f} MB >= {RSS_TARGET_MB:.0f} MB")
        self.failures = failures


def excess(result: JobResult) -> dict[str, int]:
    """Jira calls beyond the minimum, by kind (what to fix first)."""
    parts = result.minimum_parts.get("jira", {})
    by_kind = dict(result.jira_by_kind)
    comments = by_kind.get("comments", 0)
    justified = {
        "serverInfo": 1 if parts else 0,
        "field": 1 if parts else 0,
        "search": parts.get("search", 0),
        "comments": min(comments, parts.get("comments", 0)),
        "re-read before writing": max(0, parts.get("comments", 0) - comments),
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
    print(json.dumps({"code": code, "wall": wall, "maxrss_kb": usage.ru_maxrss}), flush=True)
"""


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

    def run(
        self, argv: Sequence[str], env: Mapping[str, str], log: Path
    ) -> tuple[int, float, float]:
        """(exit code, wall seconds, peak RSS in MB) of one child process."""
        assert self._process.stdin is not None and self._process.stdout is not None
        job = {"argv": list(argv), "cwd": str(ROOT), "env": dict(env), "log": str(log)}
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        return int(answer["code"]), float(answer["wall"]), answer["maxrss_kb"] / 1024.0

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
) -> JobResult:
    jira, slack, sheets = stack.jira, stack.slack, stack.sheets
    assert isinstance(jira, BenchJira) and slack is not None and sheets is not None
    report_path = workdir / f"{size}-{job}.json"
    ledger = workdir / f"{size}-{job}.db"
    env = child_env(stack, workdir / "settings.yaml", ledger)
    marks = (len(jira.calls), len(slack.calls), len(sheets.calls), len(jira.searches))
    busy = jira.busy_seconds + slack.busy_seconds + sheets.busy_seconds
    argv = [sys.executable, "-m", "jobs", "run", job, "--now", now.isoformat()]
    code, wall, rss = launcher.run(
        [*argv, "--report", str(report_path)], env, workdir / f"{size}-{job}.log"
    )
    jira_calls = jira.calls[marks[0] :]
    slack_calls = slack.calls[marks[1] :]
    sheets_calls = [c for c in sheets.calls[marks[2] :] if c.path.startswith("/v4/")]
    token_calls = len(sheets.calls) - marks[2] - len(sheets_calls)
    searches = jira.searches[marks[3] :]
    service = jira.busy_seconds + slack.busy_seconds + sheets.busy_seconds - busy
    report: dict[str, Any] = {}
    if report_path.exists():
        report = json.loads(report_path.read_text())
    actions = list(report.get("actions") or [])
    findings = list(report.get("findings") or [])
    errors = list(report.get("errors") or [])
    if not report:
        tail = (workdir / f"{size}-{job}.log").read_text(errors="replace")[-600:]
        errors.append(f"no report; the job's output ends with: {tail}")

    methods = Counter(slack_method(c) for c in slack_calls)
    looked_up = [
        slack_arg(c, "email") or "?"
        for c in slack_calls
        if slack_method(c) == "users.lookupByEmail"
    ]
    opened = [
        slack_arg(c, "users") or "?" for c in slack_calls if slack_method(c) == "conversations.open"
    ]
    minimum = {
        "jira": minimum_jira(searches, comment_reads_by_key(jira_calls), actions, bool(jira_calls)),
        "slack": minimum_slack(actions, looked_up, opened),
        "sheets": minimum_sheets(bool(sheets_calls)),
    }
    severity_of: dict[str, set[str]] = {}
    for f in findings:
        severity_of.setdefault(str(f["item"]), set()).add(str(f["severity"]))
    per_message = _max_alerts_per_message(workdir / "settings.yaml")
    messages = sum(
        1
        for a in actions
        if a.get("kind") in ("slack_post", "slack_dm", "slack_thread_reply")
        and a.get("status") in ("sent", "failed")
    )
    result = JobResult(
        size=size,
        job=job,
        latency=latency,
        exit_code=code,
        wall_seconds=round(wall, 3),
        peak_rss_mb=round(rss, 1),
        examined=int(report.get("examined") or 0),
        findings=len(findings),
        actions=len(actions),
        calls={"jira": len(jira_calls), "slack": len(slack_calls), "sheets": len(sheets_calls)},
        reported_calls=dict(report.get("api_calls") or {}),
        minimum={k: v.total for k, v in minimum.items()},
        minimum_parts={k: v.parts for k, v in minimum.items()},
        jira_by_kind=jira_breakdown(jira_calls),
        slack_by_method=dict(methods),
        service_seconds=round(service, 3),
        slack_messages=messages,
        slack_messages_allowed=allowed_messages(actions, severity_of, per_message),
        issues_read=sum(s.returned for s in searches),
        sheets_token_calls=token_calls,
        errors=errors,
    )
    result.check()
    return result


def _max_alerts_per_message(settings: Path) -> int:
    data = yaml.safe_load(settings.read_text())
    return int(((data.get("run") or {}).get("max_alerts_per_message")) or 25)


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


def time_jobs_list(repeat: int = 5) -> float:
    """Best wall time of ``python -m jobs list`` (a cold interpreter each time)."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "jobs", "list"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("JOBS_")},
        )
        best = min(best, time.perf_counter() - started)
    return best


# -- output ----------------------------------------------------------------------------------


def _ratio_text(result: JobResult, system: str) -> str:
    calls, floor = result.calls.get(system, 0), result.minimum.get(system, 0)
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
    "jira calls/min",
    "slack calls/min",
    "sheets calls/min",
    "wall s",
    "wall/(calls x lat)",
    "peak RSS MB",
    "result",
)


def table_rows(results: Sequence[JobResult]) -> list[list[str]]:
    rows = []
    for r in results:
        per_io = r.wall_per_io
        rows.append(
            [
                f"{r.size:,}",
                f"{r.latency * 1000:g}",
                r.job,
                str(r.examined),
                str(r.findings),
                _ratio_text(r, "jira"),
                _ratio_text(r, "slack"),
                _ratio_text(r, "sheets"),
                f"{r.wall_seconds:.1f}",
                f"{per_io:.2f}" if per_io is not None else "-",
                f"{r.peak_rss_mb:.0f}",
                "OK" if not r.failures else "FAIL",
            ]
        )
    return rows


def text_table(results: Sequence[JobResult]) -> str:
    rows = [list(COLUMNS), *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Mapping[str, Any] | Sequence[JobResult]) -> str:
    """The README's "Performance" table, from `JobResult`s or a loaded results.json."""
    items = _results_of(results)
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if name == "job" else "---:" for name in COLUMNS) + "|",
    ]
    for row in table_rows(items):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _results_of(results: Mapping[str, Any] | Sequence[JobResult]) -> list[JobResult]:
    if isinstance(results, Mapping):
        loaded = []
        for raw in results.get("jobs") or []:
            known = {k: v for k, v in raw.items() if k in JobResult.__dataclass_fields__}
            loaded.append(JobResult(**known))
        return loaded
    return list(results)


def failure_notes(results: Sequence[JobResult]) -> list[str]:
    return [f"{r.size:,} {r.job}: {failure}" for r in results for failure in r.failures]


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


# -- main ------------------------------------------------------------------------------------


@dataclass
class Options:
    sizes: tuple[int, ...]
    latency: float
    latency_at: dict[int, float]
    jobs: tuple[str, ...] | None
    out: Path
    keep: bool


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
    return Options(sizes, args.latency, latency_at, jobs, args.out, args.keep)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv, os.environ)
    from jobs.registry import all_jobs

    names = list(options.jobs or all_jobs())
    unknown = sorted(set(names) - set(all_jobs()))
    if unknown:
        print(f"error: unknown job(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    list_seconds = time_jobs_list()
    print(
        f"python -m jobs list: {list_seconds:.3f} s (best of 5, target < {LIST_TARGET_SECONDS} s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    bench_settings(workdir)
    launcher = Launcher()  # before any desk exists: see its docstring
    results: list[JobResult] = []
    sizes_info = []
    try:
        for size in options.sizes:
            latency = options.latency_at.get(size, options.latency)
            shape = DeskShape(open_tickets=size)
            for n, name in enumerate(names):
                # A fresh desk for every job: what one job writes (a reply that makes a
                # thread longer than a search returns, a closed ticket) never moves another
                # job's figures, so runs stay comparable when one job changes.
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
                        stack, launcher, name, size=size, latency=latency, now=NOW, workdir=workdir
                    )
                finally:
                    stack.stop()
                    del stack
                results.append(result)
                status = "OK" if not result.failures else "FAIL"
                print(
                    f"  {name:<28} {status:<4} wall {result.wall_seconds:6.1f} s  "
                    f"calls {result.calls}  min {result.minimum}",
                    flush=True,
                )
    finally:
        launcher_mb = launcher.own_peak_mb()
        launcher.close()
        if options.keep:
            print(f"reports, logs and ledgers kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(text_table(results))
    notes = failure_notes(results)
    list_ok = list_seconds < LIST_TARGET_SECONDS
    print(f"\npython -m jobs list: {list_seconds:.3f} s ({'OK' if list_ok else 'FAIL'})")
    if notes:
        print("\nFailures:")
        for note in notes:
            print(f"  - {note}")
    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "now": NOW.isoformat(),
        "sizes": sizes_info,
        "latency": options.latency,
        "latency_at": {str(k): v for k, v in options.latency_at.items()},
        "targets": {
            "jira_ratio": JIRA_RATIO_TARGET,
            "wall": f"<= {WALL_FACTOR} x service time + {WALL_SLACK_SECONDS} s",
            "peak_rss_mb": RSS_TARGET_MB,
            "jobs_list_seconds": LIST_TARGET_SECONDS,
        },
        "jobs_list_seconds": round(list_seconds, 3),
        "launcher_peak_rss_mb": round(launcher_mb, 1) if launcher_mb else None,
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "jobs": [asdict(r) for r in results],
        "failures": notes,
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {options.out} ({payload['elapsed_seconds']} s)")
    print("\n### Performance table (markdown)\n")
    print(markdown_table(results))
    return 0 if not notes and list_ok else 1


__all__ = [
    "JobResult",
    "Minimum",
    "SearchRecord",
    "main",
    "markdown_table",
    "minimum_jira",
    "minimum_search_pages",
    "minimum_sheets",
    "minimum_slack",
    "question_of",
]


if __name__ == "__main__":
    sys.exit(main())
