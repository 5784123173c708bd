"""The pipeline, stage by stage: a fake job, an in-memory ledger, a fake executor, a fixed clock.

Nothing here talks to Jira or Slack: the executor records what would have been sent and fails
or times out on demand, and the clock moves only when a test moves it.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobs.adapters.http import AdapterError, CredentialError, OutcomeUnknown, PermanentError
from jobs.clock import FixedClock
from jobs.config import JobConfig, load_settings
from jobs.context import RunContext
from jobs.job import Job, JobSpec, Work
from jobs.ledger import open_ledger
from jobs.ledger.base import Ledger, ReadOnlyLedger
from jobs.model import (
    Action,
    ActionKind,
    AlertRecord,
    Comment,
    DataProblem,
    Evaluation,
    Finding,
    IssueLink,
    LinkSpec,
    Notice,
    RecordChange,
    RecordKey,
    RecordStatus,
    Ref,
    Severity,
    StatusCategory,
    Ticket,
)
from jobs.pipeline import Pipeline
from jobs.pipeline.proofs import Verdict, proof_of
from jobs.pipeline.run import LEASE_ALERT, unique
from jobs.pipeline.steps import decode_action, encode_action
from jobs.report import RunReport
from tests.conftest import write_settings

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
JOB = "fake"
CHANNEL = "#support-sla"


class FakeConfig(JobConfig):
    schedule: str = "*/15 * * * *"


# -- the fakes -----------------------------------------------------------------------------------


class FakeJob(Job[list[Finding]]):
    """Findings and actions handed in by the test; what the pipeline gave it is kept."""

    spec = JobSpec(JOB, "A job the test drives", FakeConfig, frozenset({"jira", "slack"}))

    def __init__(
        self,
        findings: Sequence[Finding] = (),
        plan: Callable[[Work[list[Finding]]], list[Action]] | None = None,
        *,
        problems: Sequence[DataProblem] = (),
        memory: Mapping[str, Any] | None = None,
        read_error: AdapterError | None = None,
    ) -> None:
        self.findings = list(findings)
        self.planner = plan or (lambda work: [alert(f) for f in work.fresh])
        self.problems = list(problems)
        self.memory = dict(memory or {})
        self.read_error = read_error
        self.work: Work[list[Finding]] | None = None

    def fetch(self, ctx: RunContext) -> list[Finding]:
        if self.read_error is not None:
            raise self.read_error
        return self.findings

    def evaluate(self, data: list[Finding], ctx: RunContext) -> Evaluation:
        return Evaluation(list(data), problems=self.problems, memory=self.memory)

    def plan(self, work: Work[list[Finding]], ctx: RunContext) -> list[Action]:
        self.work = work
        return self.planner(work)


@dataclass
class FakeExecutor:
    """Records every send; ``fail`` maps (kind, target) to the errors its next sends raise;
    ``tickets`` is what reading Jira returns (any other key reads as a ticket with no
    comments or links, unless it is ``unreadable``); ``on_send`` lets a test act mid-send."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    labelled: dict[str, str] = field(default_factory=dict)
    fail: dict[tuple[str, str], list[Exception]] = field(default_factory=dict)
    sent: list[Action] = field(default_factory=list)
    reads: list[list[str]] = field(default_factory=list)
    on_send: Callable[[Action], None] | None = None
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The pipeline sends Jira writes to different tickets from several threads."""

    def execute(self, action: Action) -> dict[str, Any]:
        with self.lock:
            errors = self.fail.get((str(action.kind), str(action.target)))
            error = errors.pop(0) if errors else None
        if error is not None:
            raise error
        if self.on_send is not None:
            self.on_send(action)
        with self.lock:
            self.sent.append(action)
            self.counter += 1
            counter = self.counter
        if action.kind is ActionKind.JIRA_CREATE:
            return {"key": f"CS-{100 + counter}"}
        if action.kind.is_jira:
            return {}
        return {"channel": "C0CHANNEL", "ts": f"1700000000.{counter:06d}"}

    def read(self, keys: Sequence[str]) -> dict[str, Ticket]:
        self.reads.append(list(keys))
        return {k: self.tickets.get(k) or ticket(k) for k in keys if k not in self.unreadable}

    def created(self, project: str, labels: Sequence[str]) -> dict[str, str]:
        return {label: self.labelled[label] for label in labels if label in self.labelled}

    def kinds(self) -> list[str]:
        return [str(a.kind) for a in self.sent]


class Desk:
    """One ledger, one executor and a clock shared by the runs of a test."""

    def __init__(self, tmp_path: Path, settings: Mapping[str, Any] | None = None) -> None:
        overrides = {"run": {"settle_window": "3m"}, **(settings or {})}
        self.settings = load_settings(
            write_settings(tmp_path, overrides, only_jobs=()), {JOB: FakeConfig}
        )
        self.ledger: Ledger = open_ledger(":memory:")
        self.executor = FakeExecutor()
        self.wall = FixedClock(NOW)

    def run(
        self,
        job: FakeJob,
        *,
        at: datetime = NOW,
        dry_run: bool = False,
        allow_backwards: bool = False,
        run_id: str = "run-1",
    ) -> RunReport:
        ctx = RunContext(
            settings=self.settings,
            job_name=JOB,
            job_config=self.settings.jobs[JOB],
            now=at,
            dry_run=dry_run,
            run_id=run_id,
            env={"JIRA_URL": "https://desk.example.test"},
            ledger=ReadOnlyLedger(self.ledger),
            out=io.StringIO(),
            allow_backwards=allow_backwards,
        )
        if self.wall.now() < at:
            self.wall.set(at)  # the wall clock never runs behind a scheduled run
        self.out = ctx.out
        return Pipeline(job, ctx, self.wall, ledger=self.ledger, executor=self.executor).run()

    def record(self, item: str, alert: str = "present") -> AlertRecord | None:
        key = RecordKey(JOB, alert, item)
        return self.ledger.records(JOB, keys=[key]).get(key)

    def decisions(self, item: str) -> list[tuple[str, str]]:
        return [(d.outcome, d.reason) for d in reversed(self.ledger.history(item))]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    d = Desk(tmp_path)
    yield d
    d.ledger.close()


def finding(
    item: str = "SS-1",
    *,
    rule: str = "present",
    severity: Severity = Severity.WARNING,
    realert: timedelta | None = None,
    alert: str = "",
    reopens: bool = False,
    labels: Sequence[str] = (),
) -> Finding:
    return Finding(
        JOB,
        rule,
        item,
        severity,
        f"{item} needs a look",
        facts={"labels": list(labels)},
        realert=realert,
        alert=alert,
        reopens=reopens,
    )


def alert(f: Finding, **extra: Any) -> Action:
    return Action(ActionKind.SLACK_POST, CHANNEL, [f], text=f"alert {f.item}", **extra)


def reply(f: Finding, marker: str | None = None, **extra: Any) -> Action:
    mark = marker or f"Ref: {f.item} · fake"
    return Action(
        ActionKind.JIRA_PUBLIC_COMMENT, f.item, [f], text=f"Hello\n\n{mark}", marker=mark, **extra
    )


def ticket(
    key: str, *, comments: Sequence[Comment] = (), links: Sequence[IssueLink] = ()
) -> Ticket:
    return Ticket(
        key=key,
        summary="x",
        status="Open",
        status_category=StatusCategory.NEW,
        created=NOW - timedelta(days=1),
        comments=tuple(comments),
        comments_total=len(comments),
        links=tuple(links),
    )


def comment(body: str, *, public: bool = True) -> Comment:
    return Comment(
        id=str(abs(hash(body)) % 10_000), author=None, body=body, created=NOW, public=public
    )


# -- unique: a ticket listed twice ---------------------------------------------------------------


def test_a_ticket_listed_twice_is_acted_on_once_and_reported(desk: Desk) -> None:
    first = finding("SS-1")
    report = desk.run(
        FakeJob(
            [first, replace(first), finding("SS-2")], plan=lambda w: [reply(f) for f in w.fresh]
        )
    )

    assert [str(a.target) for a in desk.executor.sent] == ["SS-1", "SS-2"]
    assert [p.where for p in report.problems] == ["SS-1"]
    assert "2 times" in report.problems[0].message
    assert report.exit_code == 0


def test_unique_keeps_the_first_of_each_record() -> None:
    a, b = finding("SS-1", severity=Severity.WARNING), finding("SS-1", severity=Severity.BREACH)
    kept, problems = unique([a, b, finding("SS-2")])
    assert kept == [a, finding("SS-2")] and len(problems) == 1


# -- silence ---------------------------------------------------------------------------------


def test_a_silenced_finding_is_not_sent_and_the_log_says_who_and_why(desk: Desk) -> None:
    desk.ledger.add_silence(
        "SS-1", job=None, reason="waiting on the customer", author="maya", now=NOW,
        until=NOW + timedelta(hours=4),
    )  # fmt: skip

    desk.run(FakeJob([finding("SS-1"), finding("SS-2", labels=["sla-snooze"]), finding("SS-3")]))

    assert [str(a.target) for a in desk.executor.sent] == [CHANNEL]
    assert desk.executor.sent[0].items == ["SS-3"]
    assert desk.decisions("SS-1")[0][0] == "suppressed_silenced"
    assert "maya: waiting on the customer" in desk.decisions("SS-1")[0][1]
    assert "sla-snooze" in desk.decisions("SS-2")[0][1]


def test_a_dated_snooze_label_silences_until_that_day_in_the_desks_calendar(desk: Desk) -> None:
    """``sla-snooze-until-2026-11-25``: quiet through the day before (desk time), alerting
    again on the day itself; any case, as people type labels."""
    dated = "SLA-Snooze-Until-2026-11-25"
    job = FakeJob([finding("SS-2", labels=[dated])])

    desk.run(job, at=NOW)
    assert desk.executor.sent == []
    assert "until Wed Nov 25" in desk.decisions("SS-2")[0][1]

    desk.run(job, at=datetime(2026, 11, 25, 5, 30, tzinfo=UTC), run_id="run-2")  # 00:30 NY
    assert [a.items for a in desk.executor.sent] == [["SS-2"]]


# -- dedup: records --------------------------------------------------------------------------


def test_a_finding_is_sent_once_per_episode(desk: Desk) -> None:
    desk.run(FakeJob([finding()]))
    desk.run(FakeJob([finding()]), at=NOW + timedelta(days=30), run_id="run-2")

    assert len(desk.executor.sent) == 1
    outcome, reason = desk.decisions("SS-1")[-1]
    assert outcome == "suppressed_duplicate" and "(once: only a higher tier is told)" in reason


@pytest.mark.parametrize(
    ("later", "sent"),
    [(timedelta(hours=22), 1), (timedelta(hours=23, minutes=58), 2), (timedelta(hours=24), 2)],
    ids=["inside-the-window", "within-the-schedule-jitter", "after-the-window"],
)
def test_a_finding_is_sent_again_once_its_realert_window_has_passed(
    desk: Desk, later: timedelta, sent: int
) -> None:
    daily = finding(realert=timedelta(hours=24))
    desk.run(FakeJob([daily]))
    desk.run(FakeJob([daily]), at=NOW + later, run_id="run-2")

    assert len(desk.executor.sent) == sent


def test_a_higher_tier_is_announced_and_a_lower_one_is_not(desk: Desk) -> None:
    tier = lambda s: finding(rule=str(s), severity=s, alert="first_response")  # noqa: E731
    desk.run(FakeJob([tier(Severity.WARNING)]))
    desk.run(FakeJob([tier(Severity.BREACH)]), at=NOW + timedelta(minutes=15), run_id="run-2")
    desk.run(FakeJob([tier(Severity.WARNING)]), at=NOW + timedelta(minutes=30), run_id="run-3")

    assert len(desk.executor.sent) == 2
    record = desk.record("SS-1", "first_response")
    assert record is not None and record.tier is Severity.BREACH
    assert record.first_sent_at == NOW and record.last_sent_at == NOW + timedelta(minutes=15)


def test_a_resolved_alert_that_reopens_starts_a_new_episode(desk: Desk) -> None:
    back = finding(reopens=True)
    desk.run(FakeJob([back]))
    desk.run(FakeJob([]), at=NOW + timedelta(minutes=15), run_id="run-2")  # it cleared
    assert desk.record("SS-1").status is RecordStatus.CLOSED  # type: ignore[union-attr]
    desk.run(FakeJob([back]), at=NOW + timedelta(minutes=30), run_id="run-3")

    assert len(desk.executor.sent) == 2
    record = desk.record("SS-1")
    assert record is not None and record.is_open
    assert record.first_sent_at == NOW + timedelta(minutes=30)


def test_a_record_claimed_by_an_overlapping_run_is_left_to_it(desk: Desk) -> None:
    key = finding().record_key
    assert desk.ledger.claim(
        key, version=0, now=NOW, run_id="other", claim_ttl=timedelta(minutes=10)
    )

    report = desk.run(FakeJob([finding()]))

    assert desk.executor.sent == []
    assert report.suppressed[0]["outcome"] == "suppressed_claimed"


def test_one_run_of_a_job_at_a_time_does_the_work(desk: Desk) -> None:
    """An overlapping run (the same job started twice, a slow run and the next) would split a
    grouped message's records with it and each leave the message to the other."""
    lease = RecordKey(JOB, LEASE_ALERT, "run")
    assert desk.ledger.claim(
        lease, version=0, now=NOW, run_id="other", claim_ttl=timedelta(minutes=10)
    )

    overlapping = desk.run(FakeJob([finding()]))

    assert overlapping.exit_code == 0
    assert "another run of this job is in progress" in overlapping.notes["skipped"]
    assert desk.executor.sent == [] and desk.record("SS-1") is None
    # The other run died holding it: its lease lapses with the claim TTL.
    later = desk.run(FakeJob([finding()]), at=NOW + timedelta(minutes=11), run_id="run-2")
    assert "skipped" not in later.notes and len(desk.executor.sent) == 1


def test_a_runs_lease_is_given_back_when_it_ends(desk: Desk) -> None:
    desk.run(FakeJob([finding("SS-1")]))
    second = desk.run(FakeJob([finding("SS-2")]), at=NOW + timedelta(minutes=1), run_id="run-2")

    assert "skipped" not in second.notes
    assert [list(a.items) for a in second.actions] == [["SS-2"]]
    lease = RecordKey(JOB, LEASE_ALERT, "run")
    assert desk.ledger.records(JOB, keys=[lease]) == {}  # nothing left behind


def test_the_claims_are_given_back_when_the_run_ends(desk: Desk) -> None:
    desk.executor.fail[("slack_post", CHANNEL)] = [PermanentError("slack", "channel_not_found")]
    first = desk.run(FakeJob([finding()]))
    again = desk.run(FakeJob([finding()]), at=NOW + timedelta(minutes=1), run_id="run-2")

    assert first.exit_code == 1 and again.exit_code == 0
    assert len(desk.executor.sent) == 1
    record = desk.record("SS-1")
    assert record is not None and record.claimed_by is None


# -- chains ----------------------------------------------------------------------------------


def summary_and_chart(f: Finding) -> Action:
    chart = Action(
        ActionKind.SLACK_FILE,
        Ref(0, "channel"),
        [f],
        text="chart",
        thread_ts=Ref(0, "ts"),
        upload=__import__("jobs.model", fromlist=["Upload"]).Upload(b"\x89PNG", "c.png", "Chart"),
    )
    note = Action(
        ActionKind.JIRA_INTERNAL_COMMENT, f.item, [f], text="noted\nRef: n", marker="Ref: n"
    )
    return Action(ActionKind.SLACK_POST, CHANNEL, [f], text="summary", then=(chart, note))


def test_a_chain_runs_its_steps_in_order_with_what_earlier_steps_returned(desk: Desk) -> None:
    desk.run(FakeJob([finding()], plan=lambda w: [summary_and_chart(f) for f in w.fresh]))

    post, chart, note = desk.executor.sent
    assert (post.kind, chart.kind, note.kind) == (
        "slack_post",
        "slack_file",
        "jira_internal_comment",
    )
    assert chart.target == "C0CHANNEL" and chart.thread_ts == "1700000000.000001"
    assert desk.ledger.chains(JOB) == []


@pytest.mark.parametrize("failing", [1, 2])
def test_a_chain_that_fails_at_a_step_resumes_there_next_run_without_repeating_any(
    desk: Desk, failing: int
) -> None:
    kinds = {1: ("slack_file", "C0CHANNEL"), 2: ("jira_internal_comment", "SS-1")}
    desk.executor.fail[kinds[failing]] = [PermanentError("x", "refused")]
    job = FakeJob([finding()], plan=lambda w: [summary_and_chart(f) for f in w.fresh])

    first = desk.run(job)
    assert first.exit_code == 1
    assert len(desk.executor.sent) == failing
    (chain,) = desk.ledger.chains(JOB)

    # The finding is still there, but the chain is what carries on: no second summary.
    second = desk.run(FakeJob([finding()]), at=NOW + timedelta(minutes=15), run_id="run-2")

    assert second.exit_code == 0
    assert desk.executor.kinds() == ["slack_post", "slack_file", "jira_internal_comment"]
    assert desk.ledger.chains(JOB) == []
    assert chain.id  # it was the ledger's, not the job's, memory


def test_a_chain_finishes_even_once_its_finding_is_gone(desk: Desk) -> None:
    # An edit succeeded and its audit comment failed: the problem it fixed no longer shows.
    f = finding()
    desk.executor.fail[("jira_internal_comment", "SS-1")] = [PermanentError("jira", "HTTP 500")]
    note = Action(
        ActionKind.JIRA_INTERNAL_COMMENT, "SS-1", [f], text="fixed\nRef: h", marker="Ref: h"
    )
    edit = Action(ActionKind.JIRA_EDIT, "SS-1", [f], add_labels=("EB",), then=(note,))
    desk.run(FakeJob([f], plan=lambda w: [edit] if w.fresh else []))

    desk.run(FakeJob([]), at=NOW + timedelta(minutes=15), run_id="run-2")

    assert desk.executor.kinds() == ["jira_edit", "jira_internal_comment"]


class Killed(BaseException):
    """A run dying where no failpoint is: the process is gone, nothing after runs."""


def test_a_chain_whose_last_step_was_sent_but_never_applied_is_applied_before_it_goes(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Killed after the ledger said the audit comment was done, before the records knew: the
    # next run must update the records (or it would plan the edit and comment again).
    f, g = finding("SS-1"), finding("SS-2")
    note = Action(
        ActionKind.JIRA_INTERNAL_COMMENT, "SS-2", [g], text="see SS-1\nRef: h", marker="Ref: h"
    )
    edit = Action(ActionKind.JIRA_EDIT, "SS-1", [f], add_labels=("EB",), then=(note,))
    plan = lambda w: [edit] if w.fresh else []  # noqa: E731
    applied = Pipeline._apply
    calls = []

    def dies_at_the_last(self: Pipeline, action: Action, chain: Any) -> None:
        calls.append(action.kind)
        if len(calls) == 2:
            raise Killed
        applied(self, action, chain)

    monkeypatch.setattr(Pipeline, "_apply", dies_at_the_last)
    with pytest.raises(Killed):
        desk.run(FakeJob([f, g], plan=plan))
    monkeypatch.setattr(Pipeline, "_apply", applied)
    (left,) = desk.ledger.chains(JOB)
    assert [step["status"] for step in left.steps] == ["done", "done"]

    # The dead run's claims (its lease too) lapse after ledger.claim_ttl.
    later = NOW + desk.settings.ledger.claim_ttl.wall + timedelta(minutes=1)
    report = desk.run(FakeJob([f, g], plan=plan), at=later, run_id="run-2")

    assert report.exit_code == 0 and "skipped" not in report.notes
    assert desk.executor.kinds() == ["jira_edit", "jira_internal_comment"]
    assert desk.ledger.chains(JOB) == []
    record = desk.record("SS-2")
    assert record is not None and record.last_sent_at is not None


def test_a_first_step_that_fails_drops_the_chain_and_runs_its_fallback(desk: Desk) -> None:
    f = finding()
    fallback = Action(ActionKind.SLACK_POST, CHANNEL, [f], text="could not DM", notifies=False)
    dm = Action(
        ActionKind.SLACK_DM, "nobody@example.test", [f], text="dm",
        then=(alert(f),), otherwise=(fallback,),
    )  # fmt: skip
    desk.executor.fail[("slack_dm", "nobody@example.test")] = [PermanentError("slack", "no user")]

    report = desk.run(FakeJob([f], plan=lambda w: [dm]))

    assert [a.text for a in desk.executor.sent] == ["could not DM"]
    assert desk.ledger.chains(JOB) == []
    assert desk.record("SS-1") is None  # not counted as sent: the DM is tried again
    assert report.exit_code == 1


def test_a_chain_is_written_before_its_first_jira_write(desk: Desk) -> None:
    seen: list[int] = []
    desk.executor.on_send = lambda action: seen.append(len(desk.ledger.chains(JOB)))
    desk.run(FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh]))

    assert seen == [1]  # the intent was in the ledger while the write was in flight
    assert desk.ledger.chains(JOB) == []


# -- writes side by side ---------------------------------------------------------------------


class InFlight:
    """Counts the sends in flight, overall and per ticket, while each takes a moment."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.most = 0
        self.most_per_ticket = 0
        self.order: list[str] = []

    def __call__(self, action: Action) -> None:
        key = str(action.target)
        with self.lock:
            self.now[key] = self.now.get(key, 0) + 1
            self.most = max(self.most, sum(self.now.values()))
            self.most_per_ticket = max(self.most_per_ticket, self.now[key])
            self.order.append(f"{key} {action.text.splitlines()[0]}")
        time.sleep(0.05)
        with self.lock:
            self.now[key] -= 1


def notes(f: Finding, *texts: str) -> Action:
    """Internal notes on ``f``'s ticket, one after another in one chain."""
    chain: tuple[Action, ...] = ()
    for text in reversed(texts):
        mark = f"Ref: {f.item} · {text}"
        chain = (
            Action(
                ActionKind.JIRA_INTERNAL_COMMENT, f.item, [f], text=f"{text}\n{mark}",
                marker=mark, then=chain,
            ),
        )  # fmt: skip
    return chain[0]


def test_jira_writes_to_different_tickets_go_out_side_by_side(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    findings = [finding(f"SS-{n}") for n in range(1, 13)]

    report = desk.run(FakeJob(findings, plan=lambda w: [reply(f) for f in w.fresh]))

    assert report.exit_code == 0
    assert len(desk.executor.sent) == 12
    assert flight.most == 8  # run.max_parallel_writes, by default
    assert desk.ledger.chains(JOB) == []
    assert all(desk.record(f.item) is not None for f in findings)


def sent_recorded(record: AlertRecord | None) -> bool:
    """The ledger says the write was sent (a claim alone makes a record with no send)."""
    return record is not None and record.last_sent_at is not None


def test_a_large_wave_is_recorded_while_its_next_batch_is_in_flight(desk: Desk) -> None:
    """Writes go out in batches (4 x run.max_parallel_writes): the first batch's outcomes are
    written to the ledger while the second batch is on the network, not after every write of
    the wave. Here the second batch's sends wait until the first batch's records are there:
    recorded only after the whole wave, they would never be."""
    findings = [finding(f"SS-{n}") for n in range(1, 41)]
    first = {f.item for f in findings[:32]}
    saw_first_recorded: list[bool] = []
    flight = InFlight()

    def second_batch_waits_for_the_first(action: Action) -> None:
        flight(action)
        if str(action.target) in first:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(sent_recorded(desk.record(item)) for item in first):
                saw_first_recorded.append(True)
                return
            time.sleep(0.01)
        saw_first_recorded.append(False)

    desk.executor.on_send = second_batch_waits_for_the_first
    report = desk.run(FakeJob(findings, plan=lambda w: [reply(f) for f in w.fresh]))

    assert report.exit_code == 0 and len(desk.executor.sent) == 40
    assert saw_first_recorded == [True] * 8
    assert flight.most <= 8 and flight.most_per_ticket == 1
    assert all(sent_recorded(desk.record(f.item)) for f in findings)
    assert desk.ledger.chains(JOB) == []


def test_a_ledger_failure_preparing_a_batch_still_records_the_batch_sent(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second batch's intent cannot be saved (the ledger refuses a write) while the first
    batch is on the network: the first batch's sends are recorded before the run fails, so
    the next run does not take them for writes of unknown outcome."""
    import sqlite3

    findings = [finding(f"SS-{n}") for n in range(1, 41)]
    saves = 0
    real_save = desk.ledger.save_chain

    def refuses_the_33rd(chain: Any) -> None:
        nonlocal saves
        saves += 1
        if saves == 33:  # the first intent of the second batch
            raise sqlite3.OperationalError("database is locked")
        real_save(chain)

    monkeypatch.setattr(desk.ledger, "save_chain", refuses_the_33rd)
    try:
        desk.run(FakeJob(findings, plan=lambda w: [reply(f) for f in w.fresh]))
    except sqlite3.OperationalError:
        pass  # how the run reports it is not the point here

    assert len(desk.executor.sent) == 32
    assert all(sent_recorded(desk.record(f.item)) for f in findings[:32])
    assert not any(sent_recorded(desk.record(f.item)) for f in findings[32:])


def test_one_tickets_writes_go_in_order_one_at_a_time(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    one, two = finding("SS-1", rule="first"), finding("SS-1", rule="second")
    other = finding("SS-2")

    desk.run(
        FakeJob(
            [one, two, other],
            plan=lambda w: [notes(one, "a", "b"), notes(two, "c"), notes(other, "d", "e")],
        )
    )

    assert flight.most_per_ticket == 1
    mine = [o for o in flight.order if o.startswith("SS-1 ")]
    assert mine.index("SS-1 a") < mine.index("SS-1 b")  # a chain's steps stay in order
    assert sorted(mine) == ["SS-1 a", "SS-1 b", "SS-1 c"]
    assert len(flight.order) == 5


def dm(f: Finding, person: str, text: str) -> Action:
    return Action(ActionKind.SLACK_DM, person, [f], text=text)


def post(f: Finding, text: str) -> Action:
    return Action(ActionKind.SLACK_POST, "#support-sla", [f], text=text)


def test_direct_messages_to_different_people_go_out_side_by_side(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    findings = [finding(f"SS-{n}") for n in range(1, 6)]

    report = desk.run(
        FakeJob(findings, plan=lambda w: [dm(f, f"agent{n}@example.test", f"dm {n}")
                                          for n, f in enumerate(w.fresh)])
    )  # fmt: skip

    assert report.exit_code == 0
    assert len(desk.executor.sent) == 5
    assert flight.most == 5 and flight.most_per_ticket == 1
    assert desk.ledger.chains(JOB) == []


def test_one_persons_messages_and_channel_posts_keep_the_plans_order(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    a, b, c, d = (finding(f"SS-{n}") for n in range(1, 5))

    desk.run(
        FakeJob(
            [a, b, c, d],
            plan=lambda w: [
                dm(a, "lead@example.test", "first"),
                dm(b, "lead@example.test", "second"),
                post(c, "one"),
                post(d, "two"),
            ],
        )
    )

    assert flight.most == 1  # one person, then one channel: nothing overlaps
    assert flight.order == [
        "lead@example.test first",
        "lead@example.test second",
        "#support-sla one",
        "#support-sla two",
    ]


def reminder_chain(findings: Sequence[Finding]) -> Action:
    """A Slack DM, then a note on each finding's ticket (the approval reminder's shape)."""
    notes_after = tuple(
        Action(
            ActionKind.JIRA_INTERNAL_COMMENT, f.item, [f], text=f"reminded\nRef: {f.item} · r",
            marker=f"Ref: {f.item} · r",
        )
        for f in findings
    )  # fmt: skip
    return Action(ActionKind.SLACK_DM, "approver@example.test", list(findings), text="dm",
                  then=notes_after)  # fmt: skip


def test_a_chains_notes_on_different_tickets_go_out_side_by_side(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    findings = [finding(f"SS-{n}") for n in range(1, 13)]

    report = desk.run(FakeJob(findings, plan=lambda w: [reminder_chain(w.fresh)]))

    assert report.exit_code == 0
    assert desk.executor.kinds() == ["slack_dm"] + ["jira_internal_comment"] * 12
    assert flight.most == 8 and flight.most_per_ticket == 1
    assert desk.ledger.chains(JOB) == []


def test_a_long_chain_costs_ledger_writes_in_proportion_to_its_length(desk: Desk) -> None:
    """A chain is saved before and after each step; each save writes the steps that changed,
    not the whole chain (hundreds of reminder notes would otherwise cost their square)."""
    written: list[int] = []
    desk.ledger._conn.set_trace_callback(lambda sql: written.append(len(sql)))  # type: ignore[attr-defined]
    sizes = []
    for count in (20, 80):
        findings = [finding(f"SS-{count * 1000 + n}") for n in range(1, count + 1)]
        written.clear()
        report = desk.run(
            FakeJob(findings, plan=lambda w: [reminder_chain(w.fresh)]), run_id=f"run-{count}"
        )
        assert report.exit_code == 0 and len(desk.executor.sent) >= count
        assert desk.ledger.chains(JOB) == []
        sizes.append(sum(written))
    # Four times the steps, about four times the text written (the square would be sixteen).
    assert sizes[1] < 5 * sizes[0], sizes


def test_a_note_that_fails_beside_others_is_the_only_one_sent_again(desk: Desk) -> None:
    findings = [finding(f"SS-{n}") for n in range(1, 6)]
    desk.executor.fail[("jira_internal_comment", "SS-3")] = [PermanentError("jira", "HTTP 500")]

    first = desk.run(FakeJob(findings, plan=lambda w: [reminder_chain(w.fresh)]))

    assert first.exit_code == 1
    sent = [str(a.target) for a in desk.executor.sent]
    assert sorted(sent) == ["SS-1", "SS-2", "SS-4", "SS-5", "approver@example.test"]
    (left,) = desk.ledger.chains(JOB)
    assert [step["status"] for step in left.steps] == [
        "done", "done", "done", "pending", "done", "done",
    ]  # fmt: skip

    later = NOW + timedelta(minutes=15)
    second = desk.run(FakeJob(findings), at=later, run_id="run-2")

    assert second.exit_code == 0
    assert [str(a.target) for a in desk.executor.sent][len(sent) :] == ["SS-3"]
    assert desk.ledger.chains(JOB) == []


def test_a_note_given_up_beside_others_that_finish_leaves_no_chain_behind(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs.pipeline.run.MAX_STEP_ATTEMPTS", 1)
    findings = [finding(f"SS-{n}") for n in range(1, 6)]
    desk.executor.fail[("jira_internal_comment", "SS-3")] = [PermanentError("jira", "HTTP 400")]

    report = desk.run(FakeJob(findings, plan=lambda w: [reminder_chain(w.fresh)]))

    assert report.exit_code == 1
    assert sorted(str(a.target) for a in desk.executor.sent if a.kind.is_jira) == [
        "SS-1", "SS-2", "SS-4", "SS-5",
    ]  # fmt: skip
    assert desk.ledger.chains(JOB) == []  # given up: not saved again by the notes beside it


def test_an_edit_and_the_note_that_explains_it_stay_one_after_the_other(desk: Desk) -> None:
    flight = InFlight()
    desk.executor.on_send = flight
    f, g = finding("SS-1"), finding("SS-2")
    note = Action(ActionKind.JIRA_INTERNAL_COMMENT, "SS-2", [g], text="x\nRef: x", marker="Ref: x")
    edit = Action(ActionKind.JIRA_EDIT, "SS-1", [f], add_labels=("EB",), then=(note,))
    desk.executor.fail[("jira_edit", "SS-1")] = [PermanentError("jira", "HTTP 400")]

    desk.run(FakeJob([f, g], plan=lambda w: [edit] if w.fresh else []))

    assert desk.executor.kinds() == []  # the edit failed: its note is not sent
    assert flight.most <= 1


def test_one_write_at_a_time_when_the_desk_says_so(tmp_path: Path) -> None:
    desk = Desk(tmp_path, {"run": {"settle_window": "3m", "max_parallel_writes": 1}})
    flight = InFlight()
    desk.executor.on_send = flight
    findings = [finding(f"SS-{n}") for n in range(1, 5)]

    desk.run(FakeJob(findings, plan=lambda w: [reply(f) for f in w.fresh]))

    assert flight.most == 1 and len(desk.executor.sent) == 4


def test_a_credential_refusal_in_a_wave_records_the_others_then_stops_the_run(
    desk: Desk,
) -> None:
    findings = [finding(f"SS-{n}") for n in range(1, 5)]
    refusal = CredentialError("jira", "HTTP 401: the API token was revoked")
    desk.executor.fail[("jira_public_comment", "SS-3")] = [refusal]

    report = desk.run(FakeJob(findings, plan=lambda w: [reply(f) for f in w.fresh]))

    assert report.exit_code != 0
    assert any("credentials refused" in e for e in report.errors), report.errors
    sent = sorted(str(a.target) for a in desk.executor.sent)
    assert sent == ["SS-1", "SS-2", "SS-4"]
    # What went out is on record, so the next run does not send it again.
    assert [desk.record(k) is not None for k in ("SS-1", "SS-2", "SS-3", "SS-4")] == [
        True,
        True,
        False,
        True,
    ]


def test_a_chain_survives_a_round_trip_through_the_ledger() -> None:
    f = finding(realert=timedelta(hours=2), alert="first_response", reopens=True)
    action = Action(
        ActionKind.JIRA_LINK, "SS-1", [f], link=LinkSpec(Ref(0, "key"), "SS-1", "Relates"),
        records=(RecordChange(RecordKey(JOB, "message", "m1"), store={"ts": Ref(1, "ts")}),),
        text_refs={"key": Ref(0, "key")}, notice=Notice("Handled", "footer"),
    )  # fmt: skip
    back = decode_action(encode_action(action))
    assert back == replace(action, then=(), otherwise=())


# -- intents: unknown outcomes and the settle window --------------------------------------------


def timed_out() -> OutcomeUnknown:
    return OutcomeUnknown(
        "jira", "comment on SS-1: timed out (not retried: it may have gone through)"
    )


def test_an_unknown_outcome_is_neither_checked_nor_sent_again_before_it_settles(
    desk: Desk,
) -> None:
    desk.executor.fail[("jira_public_comment", "SS-1")] = [timed_out()]
    job = FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh])

    first = desk.run(job)
    desk.executor.reads.clear()
    desk.wall.advance(timedelta(seconds=5))
    again = desk.run(job, at=NOW, run_id="run-2")  # the operator reruns at once

    assert first.exit_code == 1 and again.exit_code == 0
    assert desk.executor.sent == [] and desk.executor.reads == []
    assert again.actions[0].status == "pending"
    assert "settle window" in desk.decisions("SS-1")[-1][1]


@pytest.mark.parametrize("landed", [True, False], ids=["it-landed", "it-did-not"])
def test_after_the_settle_window_the_ticket_decides_whether_to_send_again(
    desk: Desk, landed: bool
) -> None:
    desk.executor.fail[("jira_public_comment", "SS-1")] = [timed_out()]
    job = FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh])
    desk.run(job)
    desk.executor.reads.clear()
    if landed:  # the slow write reached Jira after the client gave up
        desk.executor.tickets["SS-1"] = ticket(
            "SS-1", comments=[comment("Hello\n\nRef: SS-1 · fake")]
        )
    else:
        desk.executor.tickets["SS-1"] = ticket("SS-1")

    later = desk.run(job, at=NOW + timedelta(minutes=15), run_id="run-2")

    assert desk.executor.reads == [["SS-1"]]
    assert len(desk.executor.sent) == (0 if landed else 1)
    status = "suppressed_duplicate" if landed else "sent"
    assert [a.status for a in later.actions] == [status]
    record = desk.record("SS-1")
    assert record is not None and record.last_sent_at is not None
    assert desk.ledger.chains(JOB) == []


def test_a_kill_between_send_and_record_is_confirmed_on_the_ticket_not_repeated(
    desk: Desk,
) -> None:
    class Killed(BaseException):
        pass

    def die(action: Action) -> None:
        desk.executor.tickets["SS-1"] = ticket("SS-1", comments=[comment(action.text)])
        raise Killed

    desk.executor.on_send = die
    with pytest.raises(Killed):
        desk.run(FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh]))
    desk.executor.on_send = None

    later = desk.run(
        FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh]),
        at=NOW + timedelta(minutes=15),
        run_id="run-2",
    )

    assert desk.executor.sent == []
    assert [a.status for a in later.actions] == ["suppressed_duplicate"]


def test_a_reply_already_on_the_ticket_is_never_sent_again(desk: Desk) -> None:
    # A lost ledger: only the ticket knows. An internal draft with the same line does not count.
    desk.executor.tickets = {
        "SS-1": ticket("SS-1", comments=[comment("Hi\nRef: SS-1 · fake")]),
        "SS-2": ticket("SS-2", comments=[comment("draft\nRef: SS-2 · fake", public=False)]),
    }
    report = desk.run(
        FakeJob([finding("SS-1"), finding("SS-2")], plan=lambda w: [reply(f) for f in w.fresh])
    )

    assert [str(a.target) for a in desk.executor.sent] == ["SS-2"]
    assert desk.executor.reads == [["SS-1", "SS-2"]]  # one read for every reply of the run
    assert "already on the ticket" in report.actions[0].reason  # type: ignore[operator]


def test_a_reply_whose_ticket_cannot_be_read_is_not_sent(desk: Desk) -> None:
    desk.executor.unreadable.add("SS-1")
    report = desk.run(FakeJob([finding()], plan=lambda w: [reply(f) for f in w.fresh]))

    assert desk.executor.sent == []
    assert report.exit_code == 1 and "verify failed" in (report.actions[0].error or "")


def test_a_reply_without_its_reference_line_is_refused(desk: Desk) -> None:
    f = finding()
    bad = Action(ActionKind.JIRA_PUBLIC_COMMENT, "SS-1", [f], text="Hello", marker="Ref: SS-1")

    report = desk.run(FakeJob([f], plan=lambda w: [bad]))

    assert desk.executor.sent == [] and report.exit_code == 1


def test_a_task_an_earlier_run_created_is_linked_not_created_again(desk: Desk) -> None:
    f = finding()
    link = Action(
        ActionKind.JIRA_LINK, "SS-1", [f], link=LinkSpec(Ref(0, "key"), "SS-1", "Relates")
    )
    create = Action(
        ActionKind.JIRA_CREATE,
        "CS",
        [f],
        fields={"summary": "x"},
        trace_label="sla-monitor-SS-1",
        then=(link,),
    )
    desk.executor.labelled["sla-monitor-SS-1"] = "CS-77"
    desk.executor.tickets["SS-1"] = ticket("SS-1")

    desk.run(FakeJob([f], plan=lambda w: [create]))

    (link,) = desk.executor.sent
    assert link.kind is ActionKind.JIRA_LINK and link.link is not None
    assert link.link.inward_key == "CS-77"


def test_a_link_already_made_is_not_made_twice(desk: Desk) -> None:
    f = finding()
    link = Action(ActionKind.JIRA_LINK, "SS-1", [f], link=LinkSpec("CS-9", "SS-1", "Relates"))
    desk.executor.tickets["CS-9"] = ticket(
        "CS-9", links=[IssueLink("Relates", "outward", "relates to", "SS-1")]
    )

    desk.run(FakeJob([f], plan=lambda w: [link]))

    assert desk.executor.sent == []


# -- proofs ----------------------------------------------------------------------------------

MARK = "Ref: SS-500 · new-channel-req-2"
REPLY = Action(ActionKind.JIRA_PUBLIC_COMMENT, "SS-500", text=f"Hi\n{MARK}", marker=MARK)
LINK = Action(ActionKind.JIRA_LINK, "SS-500", link=LinkSpec("SS-500", "CS-41", "Relates"))


def replied(body: str, *, public: bool = True) -> Ticket:
    return ticket("SS-500", comments=[comment(body, public=public)])


def linked(other: str) -> Ticket:
    return ticket("SS-500", links=[IssueLink("Relates", "inward", "relates to", other)])


PROOF_CASES = [  # fmt: skip
    ("the marker in a public comment", REPLY, replied(f"Hi\n{MARK}"), Verdict.FULFILLED),
    (
        "the marker only in an internal draft",
        REPLY,
        replied(MARK, public=False),
        Verdict.NOT_FULFILLED,
    ),
    (
        "another request's marker",
        REPLY,
        replied("Ref: SS-5000 · new-channel-req-2"),
        Verdict.NOT_FULFILLED,
    ),
    ("no comment at all", REPLY, ticket("SS-500"), Verdict.NOT_FULFILLED),
    ("linked to the task", LINK, linked("CS-41"), Verdict.FULFILLED),
    ("linked to another task", LINK, linked("CS-4"), Verdict.NOT_FULFILLED),
    ("the ticket is gone", LINK, None, Verdict.UNKNOWN),
]


@pytest.mark.parametrize(
    ("case", "action", "found", "verdict"), PROOF_CASES, ids=[c[0] for c in PROOF_CASES]
)
def test_a_proof_is_read_only_from_the_ticket(
    case: str, action: Action, found: Ticket | None, verdict: Verdict
) -> None:
    proof = proof_of(action)
    assert proof is not None
    tickets = {found.key: found} if found is not None else {}
    assert proof.check(tickets, {})[0] is verdict, case


def test_slack_messages_have_no_proof() -> None:
    assert proof_of(alert(finding())) is None


# -- resolution ------------------------------------------------------------------------------


def test_an_open_record_no_finding_covers_is_handed_to_the_job_then_closed(desk: Desk) -> None:
    desk.run(FakeJob([finding("SS-1"), finding("SS-2")]))
    resolver = FakeJob([finding("SS-2")], plan=lambda w: [])

    desk.run(resolver, at=NOW + timedelta(minutes=15), run_id="run-2")

    assert resolver.work is not None
    assert [r.key.item for r in resolver.work.resolving] == ["SS-1"]
    assert desk.record("SS-1").status is RecordStatus.CLOSED  # type: ignore[union-attr]
    assert desk.record("SS-2").is_open  # type: ignore[union-attr]
    assert desk.decisions("SS-1")[-1] == ("resolved", "no longer found by the rule")


def test_a_resolution_the_job_sends_closes_the_record_once_it_is_sent(desk: Desk) -> None:
    desk.run(FakeJob([finding()]))

    def rewrite(work: Work[list[Finding]]) -> list[Action]:
        return [
            Action(
                ActionKind.SLACK_UPDATE,
                "C0CHANNEL",
                ts="1700000000.000001",
                text="resolved",
                notifies=False,
                records=(RecordChange(r.key, close=True),),
            )  # fmt: skip
            for r in work.resolving
        ]

    desk.executor.fail[("slack_update", "C0CHANNEL")] = [
        PermanentError("slack", "message_not_found")
    ]
    desk.run(FakeJob([], plan=rewrite), at=NOW + timedelta(minutes=15), run_id="run-2")
    assert desk.record("SS-1").is_open  # type: ignore[union-attr]  # tried again next run

    desk.run(FakeJob([], plan=rewrite), at=NOW + timedelta(minutes=30), run_id="run-3")
    assert desk.record("SS-1").status is RecordStatus.CLOSED  # type: ignore[union-attr]
    assert [a.kind for a in desk.executor.sent] == ["slack_post", "slack_update"]


def test_a_resolution_that_keeps_failing_is_given_up(desk: Desk) -> None:
    desk.run(FakeJob([finding()]))
    update = lambda w: [  # noqa: E731
        Action(ActionKind.SLACK_UPDATE, "C0CHANNEL", ts="1", text="resolved", notifies=False,
               records=(RecordChange(r.key, close=True),))
        for r in w.resolving
    ]  # fmt: skip
    desk.executor.fail[("slack_update", "C0CHANNEL")] = [
        PermanentError("slack", "message_not_found") for _ in range(5)
    ]
    for n in range(1, 4):
        desk.run(FakeJob([], plan=update), at=NOW + n * timedelta(minutes=15), run_id=f"run-{n}")

    assert desk.record("SS-1").status is RecordStatus.CLOSED  # type: ignore[union-attr]
    assert "3 failed runs" in desk.decisions("SS-1")[-1][1]


def test_an_item_the_run_could_not_read_is_not_resolved(desk: Desk) -> None:
    desk.run(FakeJob([finding()]))
    unreadable = [DataProblem("SS-1", "Jira returned it without a creation date")]

    desk.run(FakeJob([], problems=unreadable), at=NOW + timedelta(minutes=15), run_id="run-2")

    assert desk.record("SS-1").is_open  # type: ignore[union-attr]


def test_a_failed_read_resolves_nothing_and_fails_the_run(desk: Desk) -> None:
    desk.run(FakeJob([finding()]))
    broken = FakeJob(read_error=PermanentError("jira", "search: malformed answer"))

    report = desk.run(broken, at=NOW + timedelta(minutes=15), run_id="run-2")

    assert report.exit_code == 1 and "read failed" in report.errors[0]
    assert desk.record("SS-1").is_open  # type: ignore[union-attr]
    assert broken.work is None


# -- notices ---------------------------------------------------------------------------------


def notice(f: Finding) -> Action:
    return Action(
        ActionKind.SLACK_NOTICE, CHANNEL, [f], text=f"did {f.item}",
        notice=Notice("Handled", "footer"), notifies=False,
    )  # fmt: skip


def test_the_notices_of_a_run_go_out_as_one_message(desk: Desk) -> None:
    def plan(work: Work[list[Finding]]) -> list[Action]:
        return [reply(f, then=(notice(f),)) for f in work.fresh]

    for key in ("SS-1", "SS-2", "SS-3"):
        desk.executor.tickets[key] = ticket(key)
    desk.run(FakeJob([finding("SS-1"), finding("SS-2"), finding("SS-3")], plan=plan))

    posts = [a for a in desk.executor.sent if a.kind is ActionKind.SLACK_POST]
    assert len(posts) == 1
    assert all(f"did SS-{n}" in posts[0].text for n in (1, 2, 3))


def test_a_notice_that_failed_goes_out_with_the_next_runs_and_never_twice(desk: Desk) -> None:
    desk.executor.tickets["SS-1"] = ticket("SS-1")
    desk.executor.fail[("slack_post", CHANNEL)] = [PermanentError("slack", "channel_not_found")]
    desk.run(FakeJob([finding()], plan=lambda w: [reply(f, then=(notice(f),)) for f in w.fresh]))

    desk.run(FakeJob([]), at=NOW + timedelta(minutes=15), run_id="run-2")
    desk.run(FakeJob([]), at=NOW + timedelta(minutes=30), run_id="run-3")

    assert desk.executor.kinds() == ["jira_public_comment", "slack_post"]


# -- the clock guard -------------------------------------------------------------------------


def test_a_run_as_of_an_instant_well_before_the_last_one_sends_nothing(desk: Desk) -> None:
    desk.run(FakeJob([finding("SS-1")]))

    report = desk.run(FakeJob([finding("SS-2")]), at=NOW - timedelta(days=7), run_id="run-2")

    assert report.exit_code == 2 and "clock moved back" in report.errors[0]
    assert len(desk.executor.sent) == 1


def test_a_few_seconds_of_schedule_jitter_are_not_a_clock_moved_back(desk: Desk) -> None:
    desk.run(FakeJob([finding("SS-1")]))
    report = desk.run(FakeJob([finding("SS-2")]), at=NOW - timedelta(seconds=30), run_id="run-2")
    assert report.exit_code == 0 and len(desk.executor.sent) == 2


def test_an_operator_may_replay_an_earlier_instant_on_purpose(desk: Desk) -> None:
    desk.run(FakeJob([finding("SS-1")]))
    report = desk.run(
        FakeJob([finding("SS-2")]), at=NOW - timedelta(days=7), run_id="run-2", allow_backwards=True
    )
    assert report.exit_code == 0 and len(desk.executor.sent) == 2
    last = desk.ledger.last_run(JOB)
    assert last is not None and last.now == NOW  # a replay does not move the guard back


# -- dry run and memory ----------------------------------------------------------------------


def test_a_dry_run_decides_everything_and_writes_nothing(desk: Desk) -> None:
    job = FakeJob(
        [finding("SS-1"), finding("SS-2")],
        plan=lambda w: [summary_and_chart(f) for f in w.fresh],
        memory={"SS-1": {"seen": NOW.isoformat()}},
    )

    report = desk.run(job, dry_run=True)

    assert desk.executor.sent == []
    assert desk.ledger.counts() == {
        "alerts": 0, "chains": 0, "chain_steps": 0, "item_state": 0, "runs": 0, "decisions": 0,
        "silences": 0,
    }  # fmt: skip
    assert [a.status for a in report.actions] == ["dry_run"] * 6
    printed = desk.out.getvalue()  # type: ignore[attr-defined]
    assert "then [slack_file] -> #support-sla" in printed and "<ts of step 1>" in printed


def test_the_jobs_memory_is_written_after_a_real_run(desk: Desk) -> None:
    desk.run(FakeJob([], memory={"sheet:acme": {"first_seen_approved": NOW.isoformat()}}))
    assert desk.ledger.memory(JOB) == {"sheet:acme": {"first_seen_approved": NOW.isoformat()}}

    desk.run(FakeJob([], memory={"sheet:acme": None}), at=NOW + timedelta(hours=1), run_id="r2")
    assert desk.ledger.memory(JOB) == {}


# -- nothing grows forever -------------------------------------------------------------------


def test_the_ledger_stays_the_same_size_over_a_simulated_year(tmp_path: Path) -> None:
    """A year of daily runs: every day twenty new tickets fire for three days (some re-alerted
    daily, some told once, some that come back), some with a reply and a notice, and a silence
    a week. With each run pruning as the command line does, the ledger holds what the last
    weeks need, not what the year did."""
    keep = timedelta(days=30)
    desk = Desk(tmp_path, {"ledger": {"retention": "30d"}})

    def findings_of(day: int) -> list[Finding]:
        alive = [f"SS-{d * 20 + i}" for d in range(max(0, day - 2), day + 1) for i in range(20)]
        kinds = [
            {"realert": timedelta(hours=24)},
            {"realert": None},
            {"realert": None, "reopens": True},
        ]
        return [finding(key, **kinds[n % 3]) for n, key in enumerate(alive)]

    def plan(work: Work[list[Finding]]) -> list[Action]:
        return [
            reply(f, then=(notice(f),)) if f.item.endswith("7") else alert(f) for f in work.fresh
        ]

    sizes: dict[int, dict[str, int]] = {}
    try:
        for day in range(365):
            at = NOW + timedelta(days=day)
            if day % 7 == 0:
                desk.ledger.add_silence(
                    f"SS-{day * 20}", job=None, reason="x", author="ops", now=at,
                    until=at + timedelta(days=1),
                )  # fmt: skip
            report = desk.run(FakeJob(findings_of(day), plan=plan), at=at, run_id=f"run-{day}")
            assert report.exit_code == 0, report.errors
            desk.ledger.prune(now=at, keep=keep)
            sizes[day] = desk.ledger.counts()
    finally:
        desk.ledger.close()

    for table in sizes[364]:
        settled, end = sizes[90][table], sizes[364][table]
        assert end <= settled * 1.1 + 2, (table, sizes[90], sizes[364])
    assert sizes[364]["chains"] == 0


def test_a_chain_hands_the_ledger_a_new_mapping_exactly_for_each_step_that_changed() -> None:
    # The ledger writes only the steps handed over as new mappings (`Ledger.save_chain`): a
    # change missed here is a state lost at a crash, a change invented is a write wasted.
    from jobs.pipeline.run import ChainRun
    from jobs.pipeline.steps import DONE, INFLIGHT, Step

    actions = [Action(ActionKind.SLACK_POST, CHANNEL, [], text=f"step {n}") for n in range(4)]
    chain = ChainRun(
        id="c1",
        job="sample",
        steps=[Step(action) for action in actions],
        records=(),
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    first = chain.to_ledger(now).steps
    assert chain.to_ledger(now).steps == first
    assert all(a is b for a, b in zip(chain.to_ledger(now).steps, first, strict=True))

    chain.steps[1].status = INFLIGHT
    chain.steps[1].attempts += 1
    chain.steps[3].result = {"ts": "1.2"}
    second = chain.to_ledger(now).steps
    assert [a is b for a, b in zip(second, first, strict=True)] == [True, False, True, False]
    assert second[1]["status"] == INFLIGHT and second[1]["attempts"] == 1
    assert second[3]["result"] == {"ts": "1.2"}

    # Set to the value it had: still a change to hand over (the ledger compares the states).
    chain.steps[0].status = chain.steps[0].status
    # A step replaced by another at its position is new, even with the same fields.
    chain.steps[2] = Step(actions[2])
    chain.steps[2].status = DONE
    third = chain.to_ledger(now).steps
    assert [a is b for a, b in zip(third, second, strict=True)] == [False, True, False, True]
    assert third[2]["status"] == DONE

    del chain.steps[3]
    assert len(chain.to_ledger(now).steps) == 3
