"""The reliability harness: an emulated desk per scenario, the CLI in-process, in threads or as
processes, and what the emulators saw, counted per item so duplicates and losses show.

    def test_it_survives(rdesk, reference, figure):
        case = CASES["unassigned"]
        stack = rdesk.start(case)
        stack.jira.inject(SEARCH, status=503, times=2)
        assert rdesk.run_job().code == 0
        assert tally(rdesk.effects(), reference(case)).clean

Each job case reuses the end-to-end fixture of its workflow (``tests/e2e/fixtures``) at the
instant its end-to-end tests use. ``reference(case)`` is what one undisturbed run of the case
does, computed once per session on a desk of its own; a scenario is judged against it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ROOT, deep_merge
from tests.e2e.conftest import Desk
from tests.reliability.figures import (  # noqa: F401 - re-exported: fixture and hooks
    figure,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)

SEARCH = r"/rest/api/\d/search/jql$"
PUBLIC_COMMENT = r"/rest/servicedeskapi/request/[^/]+/comment$"
SHEET_VALUES = r"/v4/spreadsheets/[^/]+/values/"
SHEET_METADATA = r"/v4/spreadsheets/[^/:]+$"
NEXT_RUN = timedelta(minutes=15)
"""The schedule of the busiest job; longer than ledger.claim_ttl (10 m), as in production."""
PROCESS_TIMEOUT = 90
TRACEBACK = "Traceback (most recent call last)"

DEMO_DESK = ROOT / "emulators" / "fixtures" / "demo"
ACTION_SWITCHES = (
    "link_approval_tickets",
    "comment_on_reminder",
    "close_silent_fulfilled",
    "create_cs_tasks",
    "reply_channel_partner",
    "fix_hygiene",
)
FAST: dict[str, Any] = {"run": {"retry_budget": "5s", "http_timeout": "1s"}}
"""Every scenario's settings: enough budget for a short burst of retries, never minutes."""
TIGHT: dict[str, Any] = {"run": {"retry_budget": "0s"}}
"""For faults that do not end: no waiting at all (a ``Retry-After: 0`` is still retried up to
the attempt limit), so an outage fails the run at once instead of after the backoff."""


# -- the job cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobCase:
    name: str
    job: str
    fixtures: tuple[str, ...]
    desk_now: datetime
    """The instant the fixture's relative times are relative to (the emulators' clock)."""
    at: datetime
    """When the scenario's run happens."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    prime: tuple[datetime, ...] = ()
    """Undisturbed runs before the scenario (e.g. to start a grace period)."""


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CASES: dict[str, JobCase] = {
    case.name: case
    for case in (
        # Tuesday 10:00 in New York: two tickets past the 2 h first response, one warning.
        JobCase(
            "unassigned",
            "unassigned_first_response",
            ("unassigned_first_response.yaml",),
            _utc(2026, 11, 24, 15, 0),
            _utc(2026, 11, 24, 15, 0),
        ),
        # Monday 09:00: four customers testing on Onboard get "release tonight" (public replies).
        JobCase(
            "onboard_reset",
            "onboard_reset_reminder",
            ("onboard_testing.yaml",),
            _utc(2026, 11, 23, 14, 0),
            _utc(2026, 11, 23, 14, 0),
        ),
        # A DM to the approver and channel notes (the default: alerting only).
        JobCase(
            "approval",
            "approval_reminder",
            ("approval_reminder.yaml",),
            _utc(2026, 3, 4, 15, 0),
            _utc(2026, 3, 4, 15, 0),
        ),
        # The same with the switches on: approval tickets linked and closed, reminder notes.
        # (Its "not linked" alert is moot once the job has linked the ticket itself.)
        JobCase(
            "approval_acting",
            "approval_reminder",
            ("approval_reminder.yaml",),
            _utc(2026, 3, 4, 15, 0),
            _utc(2026, 3, 4, 15, 0),
            {"actions": {"link_approval_tickets": True, "comment_on_reminder": True}},
        ),
        # CS tasks created and linked, a public reply, grouped alerts.
        JobCase(
            "channel_partner",
            "channel_partner_request",
            ("channel_partner.yaml",),
            _utc(2026, 11, 23, 15, 0),
            _utc(2026, 11, 23, 15, 0),
            {"actions": {"create_cs_tasks": True, "reply_channel_partner": True}},
        ),
        # SOP 003's follow-ups: second emails (public), publish comments on CS tickets.
        JobCase(
            "doc_test",
            "doc_test_followup",
            ("onboard_testing.yaml",),
            _utc(2026, 11, 23, 14, 0),
            _utc(2026, 11, 23, 14, 0),
            {"actions": {"close_silent_fulfilled": True}},
        ),
        # Ticket hygiene fixing what is certain: an edit, then its audit comment, per ticket.
        JobCase(
            "hygiene_fixing",
            "ticket_hygiene",
            ("ticket_hygiene.yaml",),
            _utc(2026, 11, 20, 21, 0),
            _utc(2026, 11, 20, 21, 0),
            {"actions": {"fix_hygiene": True}},
        ),
        # Monday's SLA report: the summary, then the chart in its thread.
        JobCase(
            "sla_report",
            "sla_report",
            ("sla_week.yaml",),
            _utc(2026, 11, 23, 13, 0),
            _utc(2026, 11, 23, 13, 0),
        ),
        # The demo desk at one Monday 10:00 in New York: `run all`, every action switch on.
        JobCase(
            "desk_all",
            "all",
            tuple(str(p) for p in sorted(DEMO_DESK.glob("[1-9]*.yaml"))),
            _utc(2026, 11, 30, 15, 0),
            _utc(2026, 11, 30, 15, 0),
            {"actions": {switch: True for switch in ACTION_SWITCHES}},
            prime=(_utc(2026, 11, 30, 14, 0),),  # the sheet's grace period starts
        ),
        # The sheet: first sightings an hour before, then the alerts once the grace has passed.
        JobCase(
            "onboarding_missing",
            "onboarding_missing_ticket",
            ("onboarding_missing_ticket.yaml",),
            _utc(2026, 11, 24, 15, 0),
            _utc(2026, 11, 24, 16, 0),
            prime=(_utc(2026, 11, 24, 15, 0),),
        ),
    )
}


# -- what happened, counted per item --------------------------------------------------------------

_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_CREATE = re.compile(r"/rest/api/\d/issue$")


@dataclass(frozen=True)
class Baseline:
    """The desk before any run: which tickets, comments, links and statuses were there."""

    keys: tuple[str, ...]
    comments: frozenset[str]
    links: frozenset[str]
    statuses: Mapping[str, str]


def baseline(stack: Any) -> Baseline:
    keys = tuple(t["key"] for t in stack.desk["tickets"])
    return Baseline(
        keys=keys,
        comments=frozenset(c.id for k in keys for c in stack.jira.comments_of(k)),
        links=frozenset(_links(stack, keys)),
        statuses={k: stack.jira.issue(k).status for k in keys},
    )


def _links(stack: Any, keys: tuple[str, ...]) -> list[str]:
    known = set(keys)
    out = []
    for key in keys:
        for link in stack.jira.links_of(key):
            other = link["key"]
            if other in known and other < key:
                continue  # between two known tickets: counted once, from the smaller key
            out.append(f"link {link['type']} {key}~{other if other in known else '(new)'}")
    return out


def _items(text: str, keys: set[str], bold: bool = True) -> set[str]:
    """The tickets (keys) and accounts (bold names) a Slack message speaks of."""
    found = {k for k in _KEY.findall(text) if k in keys}
    if bold:
        found.update(name.strip() for name in _BOLD.findall(text))
    return found or {"(no item)"}


_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_LINK = re.compile(r"<[^<>|]*\|([^<>]*)>")


def _signature(text: str, items: set[str]) -> str:
    """What kind of message: the first three words of its first line without items, links,
    emoji, numbers or plurals ("2 tickets waiting" and "1 ticket waiting" are one kind)."""
    first = _LINK.sub(r"\1", (text or "-").splitlines()[0])
    for item in items:
        first = first.replace(item, " ")
    words = re.findall(r"[a-z]+", _EMOJI.sub(" ", first).lower())
    return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words[:3]) or "-"


def _everything_shown(message: Any) -> str:
    """The fallback text and every text of the blocks: a packed message lists more lines in
    its blocks than its fallback (capped under Slack's 4,000 characters) can name."""
    texts = [message.text or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks or [])
    return "\n".join(texts)


def effects(stack: Any, base: Baseline) -> Counter[str]:
    """Every outward effect since `base`, one count per item per kind of message or per ticket.

    A Slack message counts once for each item it names, so a grouped message split across two
    overlapping runs still tells each item once; Jira effects count per ticket.
    """
    keys = set(base.keys)
    seen: Counter[str] = Counter()
    slack = stack.slack
    for message in list(slack.messages):
        where = (
            slack.channels.get(message.channel) or f"DM {slack.dm_channels.get(message.channel)}"
        )
        kind = "reply" if message.thread_ts and message.thread_ts != message.ts else "root"
        items = _items(message.text, keys) | _items(_everything_shown(message), keys, bold=False)
        items -= {"(no item)"} if len(items) > 1 else set()
        what = _signature(message.text, items)
        for item in sorted(items):
            seen[f"slack {where} {kind} [{what}] {item}"] += 1
    for key in base.keys:
        for comment in stack.jira.comments_of(key):
            if comment.id not in base.comments:
                seen[f"{'public' if comment.public else 'internal'} comment {key}"] += 1
        status = stack.jira.issue(key).status
        if status != base.statuses[key]:
            seen[f"status {key} {status}"] += 1
    for call in stack.jira.calls_to(_CREATE.pattern, "POST"):
        if call.status == 201 and isinstance(call.body, dict):
            seen[f"created {call.body.get('fields', {}).get('summary')}"] += 1
    for link in _links(stack, base.keys):
        if link not in base.links:
            seen[link] += 1
    return seen


@dataclass
class Tally:
    duplicates: list[str]
    lost: list[str]
    repeated_internal: list[str]
    """Slack alerts sent again after a kill between "sent" and "recorded" (at least once)."""
    notices: list[str]
    """Slack messages of a kind the undisturbed run never sends (e.g. "could not DM ...")."""

    @property
    def clean(self) -> bool:
        return not self.duplicates and not self.lost


def tally(got: Counter[str], expected: Counter[str], *, repeats_allowed: bool = False) -> Tally:
    """Duplicates and losses against the undisturbed run; a Slack message of a kind it never
    sends is a notice, while anything unexpected in Jira counts as a duplicate."""
    result = Tally([], [], [], [])
    for effect in sorted(set(got) | set(expected)):
        extra = got[effect] - expected[effect]
        slack = effect.startswith("slack ")
        if extra > 0 and slack and not expected[effect]:
            result.notices.extend([effect] * extra)
        elif extra > 0 and slack and repeats_allowed:
            result.repeated_internal.extend([effect] * extra)
        elif extra > 0:
            result.duplicates.extend([effect] * extra)
        elif extra < 0:
            result.lost.extend([effect] * -extra)
    return result


# -- one run and what it said ---------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    reports: list[dict[str, Any]]

    @property
    def report(self) -> dict[str, Any]:
        assert len(self.reports) == 1, self.describe()
        return self.reports[0]

    def errors(self) -> list[str]:
        """Run errors, failed actions, and the CLI's own ``error:`` lines (exit 2)."""
        lines = []
        for report in self.reports:
            lines.extend(report.get("errors") or [])
            lines.extend(a["error"] for a in report.get("actions") or [] if a.get("error"))
        lines.extend(line for line in self.err.splitlines() if line.startswith("error: "))
        return lines

    def problems(self) -> list[dict[str, Any]]:
        return [p for report in self.reports for p in report.get("data_problems") or []]

    @property
    def traceback(self) -> bool:
        return (
            TRACEBACK in self.err
            or TRACEBACK in self.out
            or any(TRACEBACK in e or "crashed:" in e for e in self.errors())
        )

    def one_line(self) -> bool:
        """Every error is one line, and every data problem is one line naming its place."""
        return all("\n" not in e and e.strip() for e in self.errors()) and all(
            p.get("where") and p.get("message") and "\n" not in p["message"]
            for p in self.problems()
        )

    def sent(self) -> list[dict[str, Any]]:
        return [a for r in self.reports for a in r.get("actions") or [] if a["status"] == "sent"]

    def describe(self) -> str:
        reports = [
            {k: r.get(k) for k in ("job", "exit_code", "errors", "actions", "suppressed")}
            for r in self.reports
        ]
        return f"exit {self.code}\nstderr:\n{self.err[-3000:]}\nreports: {reports}"[:6000]


def _load_reports(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


@dataclass
class Spawned:
    process: subprocess.Popen[str]
    report_path: Path

    def finish(self) -> Outcome:
        try:
            out, err = self.process.communicate(timeout=PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return Outcome(self.process.returncode, out, err, _load_reports(self.report_path))


# -- the desk -------------------------------------------------------------------------------------


def stop_quickly(emulator: Any) -> None:
    """``Emulator.stop`` waits out ``serve_forever``'s half-second poll; a throwaway connection
    wakes the loop at once (as the Jira emulator's own stop does)."""
    server = getattr(emulator, "_server", None)
    if server is None:
        return
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    host, port = server.server_address[:2]
    while stopper.is_alive():
        try:
            socket.create_connection((str(host), int(port)), timeout=0.2).close()
        except OSError:
            pass
        stopper.join(0.01)
    server.server_close()
    emulator._server = None


class _PerThreadStream(io.TextIOBase):
    """``sys.stderr`` for runs in threads: each thread's writes (the CLI's ``error:`` line, the
    log handler it sets up) kept apart, so each run's `Outcome` has its own stderr."""

    def __init__(self, fallback: Any) -> None:
        super().__init__()
        self.fallback = fallback
        self._texts: dict[int, list[str]] = {}
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._texts.setdefault(threading.get_ident(), []).append(text)
        return len(text)

    def text_of_this_thread(self) -> str:
        with self._lock:
            return "".join(self._texts.get(threading.get_ident(), []))

    def isatty(self) -> bool:
        return False


class ReliabilityDesk(Desk):
    """The end-to-end desk with a job case, its baseline, and the three ways to run it."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.case: JobCase | None = None
        self.base: Baseline | None = None
        self._runs = 0

    def start(
        self,
        case: JobCase,
        *,
        settings: Mapping[str, Any] | None = None,
        extra_fixtures: tuple[str | Path, ...] = (),
        ledger_url: str | None = None,
        latency: float = 0.0,
    ) -> Any:
        self.case = case
        merged = deep_merge(deep_merge(FAST, case.settings), settings or {})
        fixtures = (*case.fixtures, *extra_fixtures)
        stack = self(*fixtures, now=case.desk_now, settings=merged, latency=latency)
        if ledger_url:
            self.env["JOBS_LEDGER_URL"] = ledger_url
        self.base = baseline(stack)
        return stack

    def settle(self, settings: Mapping[str, Any] | None = None) -> None:
        """The outage is over: no injected faults, every sheet shared; optionally new settings."""
        for emulator in (self.stack.jira, self.stack.slack, self.stack.sheets):
            if emulator is not None:
                emulator.clear_faults()
        if self.stack.sheets is not None:
            self.stack.sheets.unshared.clear()
        if settings is not None:
            self.configure(settings)

    def configure(self, settings: Mapping[str, Any]) -> None:
        """New settings for the next runs: the case's, with ``settings`` on top."""
        assert self.case is not None
        self.reconfigure(deep_merge(deep_merge(FAST, self.case.settings), settings))

    def prime(self) -> None:
        assert self.case is not None
        for at in self.case.prime:
            primed = self.run_job(at)
            assert primed.code == 0, primed.describe()

    def _report_path(self) -> Path:
        self._runs += 1
        folder = self.tmp_path / "reports"
        folder.mkdir(exist_ok=True)
        return folder / f"run-{self._runs}.json"

    def _args(self, job: str | None, at: datetime | None, extra: tuple[str, ...]) -> list[str]:
        assert self.case is not None
        when = at or self.case.at
        return ["run", job or self.case.job, "--now", when.isoformat(), *extra]

    def run_job(
        self,
        at: datetime | None = None,
        *extra: str,
        job: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        """One run in-process (``python -m jobs run``), with its JSON report."""
        path = self._report_path()
        result = self.run(*self._args(job, at, extra), "--report", str(path), env=env)
        return Outcome(result.code, result.out, result.err, _load_reports(path))

    def run_together(self, at: datetime | None = None, runs: int = 2) -> list[Outcome]:
        """``runs`` runs of the job in threads of this process, released at the same moment."""
        from jobs.cli import main

        barrier = threading.Barrier(runs)
        outcomes: list[Outcome | BaseException | None] = [None] * runs
        paths = [self._report_path() for _ in range(runs)]
        args = self._args(None, at, ())
        stderr = _PerThreadStream(sys.stderr)

        def one(n: int) -> None:
            out = io.StringIO()
            try:
                barrier.wait(30)
                code = main([*args, "--report", str(paths[n])], env=dict(self.env), out=out)
                err = stderr.text_of_this_thread()
                outcomes[n] = Outcome(code, out.getvalue(), err, _load_reports(paths[n]))
            except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
                outcomes[n] = exc

        threads = [threading.Thread(target=one, args=(n,)) for n in range(runs)]
        sys.stderr = stderr  # type: ignore[assignment]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(PROCESS_TIMEOUT)
        finally:
            sys.stderr = stderr.fallback
        for result in outcomes:
            if isinstance(result, BaseException):
                raise result
        assert all(isinstance(r, Outcome) for r in outcomes), "a run did not finish"
        return [r for r in outcomes if isinstance(r, Outcome)]

    def spawn(self, at: datetime | None = None, *extra: str, **env: str) -> Spawned:
        """The CLI as a real process (``python -m jobs run``); ``env`` adds e.g. JOBS_FAILPOINT."""
        path = self._report_path()
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("JOBS_FAILPOINT", "RELIABILITY_FIGURES")
        }
        environment.update(self.env)
        environment.update(env)
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs", *self._args(None, at, extra), "--report", str(path)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Spawned(process, path)

    def effects(self) -> Counter[str]:
        assert self.base is not None
        return effects(self.stack, self.base)

    def ledger_chains(self) -> list[Any]:
        """The unfinished chains of steps the ledger keeps, for every job."""
        from jobs.ledger import open_ledger
        from jobs.registry import all_jobs

        ledger = open_ledger(self.env["JOBS_LEDGER_URL"])
        try:
            return [chain for job in all_jobs() for chain in ledger.chains(job)]
        finally:
            ledger.close()

    def stop(self) -> None:
        if self.stack is not None:
            for emulator in (self.stack.jira, self.stack.slack, self.stack.sheets):
                if emulator is not None:
                    stop_quickly(emulator)
            self.stack.stop()
            self.stack = None


@pytest.fixture
def rdesk(tmp_path: Path) -> Iterator[ReliabilityDesk]:
    desk = ReliabilityDesk(tmp_path)
    yield desk
    desk.stop()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[JobCase], Counter[str]]:
    """What one undisturbed run of a case does (computed once per session, on its own desk)."""
    cache: dict[str, Counter[str]] = {}

    def of(case: JobCase) -> Counter[str]:
        if case.name not in cache:
            desk = ReliabilityDesk(tmp_path_factory.mktemp(f"reference-{case.name}"))
            try:
                desk.start(case)
                desk.prime()
                run = desk.run_job()
                assert run.code == 0, run.describe()
                assert run.sent(), f"{case.name}: the reference run sent nothing"
                cache[case.name] = desk.effects()
            finally:
                desk.stop()
        return Counter(cache[case.name])

    return of


def _before_faults(emulator: Any, hook: Callable[[str, str], None]) -> None:
    """Call ``hook(method, path)`` on every request, in its handler thread, before the
    emulator picks a fault for it (the one place `Emulator` lets a test step in)."""
    take = emulator._take_fault

    def hooked(method: str, path: str, request: Any = None) -> Any:
        hook(method, path)
        return take(method, path, request)

    emulator._take_fault = hooked


def fail_after(emulator: Any, pattern: str, ok: int, **fault: Any) -> None:
    """Let the first ``ok`` requests matching ``pattern`` through, then inject ``fault``
    (e.g. the second page of a search fails). `Emulator.inject` alone hits the first one."""
    times = int(fault.pop("times", 1))
    injected = emulator.inject(pattern, times=0, **fault)
    seen = 0

    def count(method: str, path: str) -> None:
        nonlocal seen
        if re.search(pattern, path):
            seen += 1
            if seen == ok + 1:
                injected.times = times

    _before_faults(emulator, count)


def hold_until_together(emulator: Any, pattern: str, parties: int = 2) -> None:
    """Hold the first request matching ``pattern`` of each of ``parties`` runs until all have
    sent theirs, so runs started at once really overlap (whatever their start-up time)."""
    barrier = threading.Barrier(parties)
    arrived = 0
    lock = threading.Lock()

    def meet(method: str, path: str) -> None:
        nonlocal arrived
        if not re.search(pattern, path):
            return
        with lock:
            arrived += 1
            mine = arrived
        if mine <= parties:
            try:
                barrier.wait(PROCESS_TIMEOUT / 3)
            except threading.BrokenBarrierError:
                pass  # a run never came: the overlap assertion says so

    _before_faults(emulator, meet)


# -- ledgers --------------------------------------------------------------------------------------

POSTGRES_URL_ENV = "JOBS_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    hint = (
        f"{POSTGRES_URL_ENV} is not set; "
        f"run `export {POSTGRES_URL_ENV}=$(scripts/postgres.sh | tail -n 1)`"
    )
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI is set but {hint}: CI must run the PostgreSQL overlap tests")
    pytest.skip(hint)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A ledger URL whose tables live in a fresh schema of their own, dropped afterwards."""
    import psycopg

    base = postgres_base_url()
    schema = f"reliability_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}', safe='')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


LEDGERS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=LEDGERS)
def ledger_url(request: pytest.FixtureRequest) -> str | None:
    """None (the desk's SQLite file) or a PostgreSQL URL with a schema of its own."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


# -- secrets --------------------------------------------------------------------------------------


def secrets_of(stack: Any) -> dict[str, str]:
    """Every credential the desk's emulators hand out, and the encodings they travel in."""
    values = {
        "Jira API token": stack.jira.token,
        "Jira basic auth": base64.b64encode(
            f"{stack.jira.email}:{stack.jira.token}".encode()
        ).decode(),
        "Slack bot token": stack.slack.token,
    }
    key_file = stack.env().get("GOOGLE_SERVICE_ACCOUNT_FILE")
    if key_file:
        info = json.loads(Path(key_file).read_text(encoding="utf-8"))
        values["service account key id"] = info["private_key_id"]
        body = [
            line
            for line in info["private_key"].splitlines()
            if line and not line.startswith("-----")
        ]
        values["service account private key"] = body[len(body) // 2]
    for n, token in enumerate(stack.sheets.tokens):
        values[f"Google access token {n + 1}"] = token
    return values
