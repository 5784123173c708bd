"""The pipeline every job runs through, in named stages:

    clock guard -> fetch -> evaluate -> unique -> silence -> dedup (claim) -> resolve
    -> plan -> confirm -> act (chains of steps) -> notices -> record

(with *inhibit* after *silence*).

- *clock guard*: a real run as of an instant earlier than the job's last run (the clock moved
  back) sends nothing;
- *fetch* and *evaluate* belong to the job (adapters, then a pure rule); a failed read ends
  the run before anything is decided, so a broken answer can never look like an all-clear;
- *unique*: a ticket a search returned twice is one finding (and a data problem), never two
  actions;
- *silence*: ledger silences and the snooze label drop findings, logged with the reason;
- *inhibit*: a ticket with an overdue alert of a more urgent job (``notify.inhibit``) is not
  also a to-do line of this one;
- *dedup*: a finding is acted on only if its record says it is fresh (never sent, a higher
  tier, or past its re-alert window), and only by the run that atomically claims the record;
- *resolve*: each open record no finding covers any more is handed to the job with the fresh
  findings (`Work`), which says what resolves it; records it says nothing about are closed;
- *confirm*: before a write whose earlier attempt has an unknown outcome, the pipeline waits
  out the settle window and reads the ticket for the write's proof; a reply's proof is checked
  before its first attempt too (the ticket, not the ledger, is the ground truth);
- *act*: each action and the steps that follow it form a chain, written to the ledger before
  its first non-idempotent write (the intent) and marked step by step, so a chain cut short
  by a failure or a crash resumes next run without repeating a finished step;
- *notices*: lines for grouped messages (what a job did on the desk's behalf) are posted
  once per run, whatever chains they end;
- *record*: records change only after a step succeeded; every candidate gets a line in the
  decision log; what the job asked to remember is written.

A dry run does every read and every decision, prints what would be sent, and writes nothing.
Jobs never write the ledger: they get a read-only view, and everything above is done here.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from jobs import act
from jobs.act import Executor
from jobs.adapters.http import AdapterError, CredentialError, OutcomeUnknown
from jobs.clock import Clock
from jobs.context import RunContext
from jobs.failpoints import failpoint
from jobs.ids import random_id
from jobs.job import Job, Work
from jobs.ledger.base import Chain, Decision, Ledger
from jobs.model import (
    Action,
    ActionKind,
    AlertRecord,
    DataProblem,
    Finding,
    RecordKey,
    RecordStatus,
    Ticket,
)
from jobs.pipeline import records as rec
from jobs.pipeline.proofs import Proof, Verdict, proof_of
from jobs.pipeline.steps import (
    DONE,
    FAILED,
    INFLIGHT,
    PENDING,
    Step,
    UnresolvedRef,
    decode_step,
    encode_action,
    encode_step,
    resolve,
    resolve_records,
)
from jobs.render.templates import TemplateProblem
from jobs.report import ActionRecord, ActionStatus, RunReport
from jobs.sitecache import CACHE_JOB

log = logging.getLogger("jobs.pipeline")

EXIT_CREDENTIALS = 2  # the CLI's "usage, configuration or credential error"
MAX_STEP_ATTEMPTS = 5
"""Runs a follow-up step may fail for good (a deleted Slack message, a ticket moved) before
its chain is given up; the decision log keeps the reason."""
MAX_RESOLVE_ATTEMPTS = 3
"""Runs a resolution may fail before the record is closed without it."""


class ClockMovedBack(Exception):
    """This run is as of an instant well before the job's last run: nothing is sent."""


@dataclass
class ChainRun:
    """A chain as this run works on it: its steps, what they returned, and its records."""

    id: str
    job: str
    steps: list[Step]
    records: tuple[RecordKey, ...]
    created_at: datetime
    otherwise: tuple[Action, ...] = ()
    persisted: bool = False
    resumed: bool = False
    blocked: bool = False
    """Stopped for this run (an unknown outcome, a failure): left for the next run."""
    dropped: bool = False
    """Given up or abandoned: never saved again (a step sent beside the one that failed may
    still finish after it)."""
    encoded: dict[int, tuple[Action, dict[str, Any]]] = field(default_factory=dict, repr=False)
    """Each step's action as the ledger keeps it, encoded once: a chain is saved before and
    after every step, and its actions never change (only the steps' states do)."""
    saved: list[tuple[Step, int, dict[str, Any]]] = field(default_factory=list, repr=False)
    """Each step as last handed to the ledger, with its count of changes then: a step that
    has not changed since is handed over as the same mapping, which the ledger skips. A save
    costs what changed, not a walk over every step's fields (a chain of 400 steps is saved
    about 800 times)."""

    @property
    def position(self) -> int:
        for index, step in enumerate(self.steps):
            if step.status != DONE:
                return index
        return len(self.steps)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [step.result for step in self.steps]

    @property
    def started(self) -> bool:
        return any(step.status == DONE for step in self.steps)

    @property
    def needs_intent(self) -> bool:
        """A chain of several steps, or one with a Jira write, is written to the ledger before
        its first write: a later run must be able to finish it, or to check it happened."""
        return len(self.steps) > 1 or any(step.action.kind.is_jira for step in self.steps)

    def encoded_action(self, step: Step) -> dict[str, Any]:
        known = self.encoded.get(id(step.action))
        if known is None or known[0] is not step.action:
            known = (step.action, encode_action(step.action))
            self.encoded[id(step.action)] = known
        return known[1]

    def to_ledger(self, now: datetime) -> Chain:
        return Chain(
            id=self.id,
            job=self.job,
            records=self.records,
            steps=self._encoded_steps(),
            created_at=self.created_at,
            updated_at=now,
        )

    def _encoded_steps(self) -> tuple[dict[str, Any], ...]:
        saved = self.saved
        del saved[len(self.steps) :]
        for position, step in enumerate(self.steps):
            if position < len(saved):
                known, changes, _ = saved[position]
                if known is step and changes == step.changes:
                    continue
            entry = (step, step.changes, encode_step(step, self.encoded_action(step)))
            if position < len(saved):
                saved[position] = entry
            else:
                saved.append(entry)
        return tuple(encoded for _, _, encoded in saved)


LEASE_ALERT = "_run"
"""The record that says which run of a job is running (see `Pipeline._take_lease`)."""


def _keys_of(action: Action) -> tuple[RecordKey, ...]:
    keys: dict[RecordKey, None] = {}
    for step in action.chain:
        for finding in step.findings:
            keys[finding.record_key] = None
        for change in step.records:
            keys[change.key] = None
    return tuple(keys)


class Pipeline:
    def __init__(
        self,
        job: Job[Any],
        ctx: RunContext,
        clock: Clock,
        *,
        ledger: Ledger,
        executor: Executor | None = None,
    ) -> None:
        self.job = job
        self.ctx = ctx
        self.clock = clock
        self.ledger = ledger
        self.executor: Executor = executor or act.LiveExecutor(ctx)
        self.report = RunReport(
            job=job.spec.name,
            run_id=ctx.run_id,
            started_at=clock.now(),
            now=ctx.now,
            dry_run=ctx.dry_run,
        )
        self.decisions: list[Decision] = []
        self.records: dict[RecordKey, AlertRecord] = {}
        self.held: set[RecordKey] = set()
        """Records this run holds a claim on."""
        self.touched: set[RecordKey] = set()
        """Records a step of this run changed."""
        self.attempted: set[RecordKey] = set()
        """Records a step of this run tried to change (sent, failed or found done)."""
        self.notices: list[tuple[ChainRun, int]] = []
        self.tickets: Mapping[str, Ticket] = {}
        self.labelled: Mapping[str, str | None] = {}
        self.silenced: dict[str, str] = {}
        """Items a silence or the snooze label quieted this run, and why (for the job)."""
        self.memory: Mapping[str, Mapping[str, Any] | None] = {}

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> RunReport:
        """Run every stage. Refused credentials end this job (exit code 2) but still record
        what it did send and give back its claims, so a rerun after the fix sends the rest."""
        try:
            self._run()
        except CredentialError as exc:
            self._fail(f"credentials refused: {exc}")
            self.report.exit_code = EXIT_CREDENTIALS
        except ClockMovedBack as exc:
            self._fail(str(exc))
            self.report.exit_code = EXIT_CREDENTIALS
            return self._close_report()
        finally:
            self._release_all()  # whatever happened, nothing stays claimed by this run
            self.job.close()
        self._finish()
        return self._close_report()

    def _run(self) -> None:
        ctx = self.ctx
        if not ctx.dry_run:
            self._guard_clock()
            holder = self._take_lease()
            if holder is not None:
                # Runs that overlap (a slow run and the next one, `run all` started twice) would
                # split a grouped message's records between them and each leave it to the
                # other; one run at a time does what one run does.
                self.report.notes["skipped"] = (
                    f"another run of this job is in progress ({holder}); nothing done"
                )
                log.info("%s: skipped: %s", self.job.spec.name, self.report.notes["skipped"])
                return
        try:
            data = self.job.fetch(ctx)
            evaluation = self.job.evaluate(data, ctx)
        except CredentialError:
            raise
        except AdapterError as exc:
            self._fail(f"read failed: {exc}")
            return
        findings, duplicates = unique(evaluation.findings)
        problems = [*evaluation.problems, *duplicates]
        self.report.examined = evaluation.examined
        self.report.findings = findings
        self.report.problems = problems
        self.tickets = evaluation.tickets
        self.labelled = evaluation.labelled
        self.memory = evaluation.memory
        for problem in problems:
            log.warning("data problem at %s: %s", problem.where, problem.message, extra=ctx.extra())

        job = self.job.spec.name
        self.records = {k: r for k, r in self.ledger.records(job).items() if k.alert != LEASE_ALERT}
        chains = [self._from_ledger(chain) for chain in self.ledger.chains(job)]
        in_progress = {key for chain in chains if not chain.finished for key in chain.records}
        resumed = self._take_over(chains)

        active = self.inhibit(self.silence(findings))
        fresh = self.dedup(active, in_progress)
        resolving = self._resolving(findings, in_progress, problems)
        work = Work(
            fresh=fresh,
            resolving=resolving,
            findings=findings,
            active=active,
            records=self.records,
            silenced=self.silenced,
            data=data,
        )
        try:
            actions = self.job.plan(work, ctx)
        except (AdapterError, TemplateProblem) as exc:
            if isinstance(exc, CredentialError):
                raise
            self._fail(f"planning failed: {exc}")
            actions = []
        started = self._admit(actions)
        self._run_chains(resumed + started)
        self._close_resolved(resolving)
        self._release_uncovered(fresh, actions)

    # -- stages ------------------------------------------------------------------------------
    def _take_lease(self) -> str | None:
        """The job's run lease (a claim like any record's, so a dead run's lapses after
        ``ledger.claim_ttl``). None when this run holds it; else who does."""
        key = RecordKey(self.job.spec.name, LEASE_ALERT, "run")
        current = self.ledger.records(key.job, keys=[key]).get(key)
        claimed = self.ledger.claim(
            key,
            version=current.version if current is not None else 0,
            now=self.ctx.now,
            run_id=self.ctx.run_id,
            claim_ttl=self.ctx.settings.ledger.claim_ttl.wall,
        )
        if claimed:
            self.held.add(key)
            return None
        return "run started less than the claim TTL ago"

    def _guard_clock(self) -> None:
        last = self.ledger.last_run(self.job.spec.name)
        if last is None or self.ctx.allow_backwards:
            return
        if self.ctx.now < last.now - rec.SCHEDULE_JITTER:
            raise ClockMovedBack(
                f"clock moved back: this run is as of {self.ctx.now.isoformat()}, "
                f"{_span(last.now - self.ctx.now)} before the last run "
                f"({last.now.isoformat()}); nothing sent. Rerun with --allow-backwards "
                "if you mean it."
            )

    def silence(self, findings: Iterable[Finding]) -> list[Finding]:
        ctx = self.ctx
        kept = []
        label = ctx.settings.silence_label
        for finding in findings:
            silence = self.ledger.active_silence(finding.job, finding.item, now=ctx.now)
            if silence is not None:
                until = silence.expires.astimezone(self.ctx.calendar.tz)
                self.silenced[finding.item] = (
                    f"by {silence.author} until {until:%a %H:%M}: {silence.reason}"
                )
                self._suppress(
                    finding,
                    "suppressed_silenced",
                    f"silenced until {silence.expires.isoformat()} by {silence.author}: "
                    f"{silence.reason}",
                )
            elif label and (snoozed := self._snooze_label(finding, label)) is not None:
                self.silenced[finding.item] = snoozed
                self._suppress(finding, "suppressed_silenced", f"the ticket's {snoozed}")
            else:
                kept.append(finding)
        return kept

    def _snooze_label(self, finding: Finding, label: str) -> str | None:
        """How the ticket's labels snooze it today, in words; None when they do not: the plain
        label (no end) or ``<label>-until-2026-12-08`` (until that day, the desk's date)."""
        from jobs.item_names import label_silence

        labels = finding.facts.get("labels") or ()
        today = self.ctx.calendar.local_date(self.ctx.now)
        active, until = label_silence(labels, label, today)
        if not active:
            return None
        if until is None:
            return f"{label} label (no end)"
        return f"{label}-until label: until {until:%a %b} {until.day}"

    def inhibit(self, findings: list[Finding]) -> list[Finding]:
        """A ticket another job has an overdue alert open for is not also a to-do line here
        (``notify.inhibit``): people see the one that matters now."""
        job = self.job.spec.name
        muted: dict[str, str] = {}
        rules: dict[str, set[str]] = {}
        for rule in self.ctx.settings.notify.inhibit:
            targets = [t for t in rule.targets if t == job or t.startswith(f"{job}/")]
            if not targets or rule.source == job:
                continue
            tiers = set(rule.tiers)
            open_alerts = self.ledger.records(rule.source, open_only=True)
            for key, record in open_alerts.items():
                if record.tier is not None and str(record.tier) in tiers:
                    muted.setdefault(key.item, f"{rule.source} {record.tier}")
                    rules.setdefault(key.item, set()).update(targets)
        if not muted:
            return findings
        kept = []
        for finding in findings:
            muting = rules.get(finding.item, set())
            if job in muting or f"{job}/{finding.rule}" in muting:
                self._suppress(
                    finding,
                    "suppressed_inhibited",
                    f"the ticket is on a more urgent alert ({muted[finding.item]})",
                )
            else:
                kept.append(finding)
        return kept

    def dedup(self, findings: Iterable[Finding], in_progress: set[RecordKey]) -> list[Finding]:
        ctx = self.ctx
        findings = list(findings)
        why_not: dict[int, tuple[str, str]] = {}
        candidates: dict[RecordKey, int] = {}
        for index, finding in enumerate(findings):
            key = finding.record_key
            if key in in_progress:
                why_not[index] = (
                    "pending",
                    "in progress: an earlier run's steps are being finished",
                )
                continue
            send, why = rec.freshness(finding, self.records.get(key), ctx.now)
            if not send:
                why_not[index] = ("suppressed_duplicate", why)
            elif key in candidates:  # a record is claimed once: the first of its findings
                why_not[index] = ("suppressed_claimed", "claimed by an overlapping run")
            else:
                candidates[key] = index
        # Every candidate's record is claimed in one transaction: on a backlog of thousands,
        # a commit each was most of what deduplication cost.
        claimed = set(candidates) if ctx.dry_run else self._claim_each(candidates)
        if claimed and not ctx.dry_run:
            failpoint("after_claim")
        fresh = []
        for key, index in candidates.items():
            if key in claimed:
                fresh.append(findings[index])
            else:
                why_not[index] = ("suppressed_claimed", "claimed by an overlapping run")
        # Decisions in the order the findings came, as one pass over them would make them.
        for index in sorted(why_not):
            outcome, why = why_not[index]
            self._suppress(findings[index], outcome, why)
        return fresh

    def _resolving(
        self,
        findings: Sequence[Finding],
        in_progress: set[RecordKey],
        problems: Sequence[DataProblem],
    ) -> list[AlertRecord]:
        """Open records that were announced and that no finding covers any more. An item the
        run could not read (a data problem) is not resolved: nothing is known about it."""
        # A silenced finding does not keep its alert open: the silence ends the episode (the
        # job may say so on the message), and the alert starts afresh if it still holds after.
        covered = {f.record_key for f in findings if f.item not in self.silenced}
        unreadable = {p.where for p in problems}
        candidates = [
            r
            for r in self.records.values()
            if r.status is RecordStatus.OPEN
            and r.last_sent_at is not None
            and r.key not in covered
            and r.key not in in_progress
            and r.key.item not in unreadable
        ]
        if self.ctx.dry_run:
            return candidates
        claimed = self._claim_each(r.key for r in candidates)
        return [r for r in candidates if r.key in claimed]

    def _admit(self, actions: Sequence[Action]) -> list[ChainRun]:
        """Each planned action becomes a chain, once every record it works for is claimed."""
        chains = []
        for action in actions:
            keys = _keys_of(action)
            if not self.ctx.dry_run and not self._claim_all(keys):
                for finding in action.findings:
                    self._decide(
                        finding,
                        "suppressed_claimed",
                        "a record it changes is claimed by an overlapping run",
                        None,
                    )
                continue
            chains.append(
                ChainRun(
                    id=random_id(),
                    job=self.job.spec.name,
                    steps=[Step(step) for step in action.chain],
                    records=keys,
                    created_at=self.ctx.now,
                    otherwise=action.otherwise,
                )
            )
        return chains

    # -- chains ------------------------------------------------------------------------------
    def _from_ledger(self, chain: Chain) -> ChainRun:
        return ChainRun(
            id=chain.id,
            job=chain.job,
            steps=[decode_step(step) for step in chain.steps],
            records=chain.records,
            created_at=chain.created_at,
            persisted=True,
            resumed=True,
        )

    def _take_over(self, chains: list[ChainRun]) -> list[ChainRun]:
        """The unfinished chains of earlier runs this run can claim every record of."""
        resumable = []
        for chain in chains:
            unapplied = [s for s in chain.steps if s.status == DONE and not s.applied]
            if chain.finished and not unapplied:
                if not self.ctx.dry_run:
                    self.ledger.delete_chain(chain.id)
                continue
            if self.ctx.dry_run or self._claim_all(chain.records, fresh_read=True):
                if not self.ctx.dry_run:
                    for step in unapplied:
                        # Done by a run that died before it updated the records (its last
                        # step too: a finished chain is deleted only once they are).
                        self._apply(step.action, chain)
                        step.applied = True
                if not chain.finished:
                    resumable.append(chain)
                elif not self.ctx.dry_run:
                    self.ledger.delete_chain(chain.id)
        return resumable

    def _run_chains(self, chains: list[ChainRun]) -> None:
        self._confirm(chains)
        self._advance_all(chains)
        rounds = 0
        while self.notices and rounds < 10:
            rounds += 1
            waiting = {chain.id: chain for chain, _ in self.notices}
            self._send_notices()
            self._advance_all(list(waiting.values()))

    def _advance_all(self, chains: list[ChainRun]) -> None:
        """Every chain as far as it goes this run. Jira writes to different tickets go out
        side by side (`run.max_parallel_writes` in flight; one ticket's writes in order):
        each chain runs until its next step is such a write, the waiting writes are sent
        together, and the chains that wrote go on. Direct messages to different people go
        side by side too (each is its own channel to Slack's pacing, and one person's in
        order); posts to channels stay one at a time, in the plan's order. The ledger is only
        ever written from this thread."""
        width = self.ctx.settings.run.max_parallel_writes
        parallel = not self.ctx.dry_run and width > 1
        live = chains
        while live:
            wave: list[tuple[ChainRun, int]] = []
            wrote: list[ChainRun] = []
            for chain in live:
                while not chain.finished and not chain.blocked:
                    index = chain.position
                    kind = chain.steps[index].action.kind
                    if kind is ActionKind.SLACK_NOTICE:
                        if (chain, index) not in self.notices:
                            self.notices.append((chain, index))
                        break
                    if parallel and (kind.is_jira or kind is ActionKind.SLACK_DM):
                        wave += [(chain, i) for i in _side_by_side(chain, index)]
                        break
                    if wave:
                        # The writes planned before this step go first: the plan's order holds
                        # between chains, only consecutive writes overlap.
                        self._attempt_wave(wave)
                        wrote += _chains_of(wave)
                        wave = []
                    if not self._attempt(chain, index):
                        break
            if wave:
                self._attempt_wave(wave)
                wrote += _chains_of(wave)
            live = wrote

    def _attempt_wave(self, wave: list[tuple[ChainRun, int]]) -> None:
        """The Jira steps in ``wave`` (chain, step index), sent concurrently in batches of
        whole lanes (`_lane_batches`): while one batch is in flight, the batch before it is
        recorded and the next one prepared, so the ledger's writes (all made here, on this
        thread) overlap the network's wait. A credential refusal sends no further batch and
        stops the run once every batch sent is recorded."""
        width = max(1, self.ctx.settings.run.max_parallel_writes)
        refused: CredentialError | None = None
        in_flight: deque[_Batch] = deque()
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="write") as pool:
            for lanes in _lane_batches(wave, self.ctx.alert_channel, width * WAVE_BATCH):
                if refused is not None:
                    break
                try:
                    in_flight.append(self._send_batch(pool, lanes))
                except BaseException:
                    # Preparing failed (the ledger refused an intent, say): the batch already
                    # sent is recorded before the failure goes on, or its sends would count
                    # as unknown next run.
                    self._record_quietly(in_flight)
                    raise
                while len(in_flight) > 1:
                    refused = self._record_batch(in_flight.popleft()) or refused
            while in_flight:
                refused = self._record_batch(in_flight.popleft()) or refused
        if refused is not None:
            raise refused

    def _send_batch(
        self, pool: ThreadPoolExecutor, lanes: list[list[tuple[ChainRun, int]]]
    ) -> _Batch:
        """Prepare each step (a chain blocked or a step done since the wave was formed is
        left), save each chain's intent once, then hand each of ``lanes`` to ``pool``: one
        ticket's writes in order in one worker (Jira limits writes per issue, and a comment
        must follow the edit it explains); different tickets side by side."""
        batch = _Batch()
        positions_by_lane: list[list[int]] = []
        for lane in lanes:
            positions = []
            for chain, index in lane:
                if chain.blocked or chain.steps[index].status == DONE:
                    continue
                action = self._prepare(chain, index, save=False)
                if action is not None:
                    positions.append(len(batch.ready))
                    batch.ready.append((chain, chain.steps[index], action))
            if positions:
                positions_by_lane.append(positions)
        if not batch.ready:
            return batch
        for chain in _chains_of([(chain, 0) for chain, _, _ in batch.ready]):
            if chain.needs_intent:
                self._save(chain)  # the intent: a run killed from here on leaves it for the next
        failpoint("before_send")
        batch.outcomes = [RuntimeError("not run")] * len(batch.ready)

        def run_lane(positions: list[int]) -> None:
            for position in positions:
                try:
                    batch.outcomes[position] = self.executor.execute(batch.ready[position][2])
                except Exception as exc:  # handed to _conclude, which knows each kind
                    batch.outcomes[position] = exc

        batch.lanes = [pool.submit(run_lane, positions) for positions in positions_by_lane]
        return batch

    def _record_quietly(self, in_flight: deque[_Batch]) -> None:
        """Record what is in flight while another failure is on its way out; a failure here
        is logged, not raised over the first one."""
        while in_flight:
            try:
                self._record_batch(in_flight.popleft())
            except Exception as exc:
                log.error("recording sent writes failed: %s", exc, extra=self.ctx.extra())

    def _record_batch(self, batch: _Batch) -> CredentialError | None:
        """Wait for ``batch`` and record each step's outcome; the first credential refusal."""
        for lane in batch.lanes:
            lane.result()
        refused: CredentialError | None = None
        for (chain, step, action), outcome in zip(batch.ready, batch.outcomes, strict=True):
            try:
                self._conclude(chain, step, action, outcome)
            except CredentialError as exc:
                refused = refused or exc
        return refused

    def _confirm(self, chains: list[ChainRun]) -> None:
        """Check each chain's next step against the ticket when it has a proof: always after
        an attempt whose outcome is unknown (once the settle window has passed), and before a
        first attempt of a comment, a link or a create. A step found done lets the chain's
        next step be checked in turn (a task found by its label may be linked already)."""
        for _ in range(3):
            progressed = self._confirm_once(chains)
            chains = [c for c in chains if c.id in progressed and not c.finished]
            if not chains:
                return

    def _confirm_once(self, chains: list[ChainRun]) -> set[str]:
        """One round of checks; the ids of the chains a check found a step done in."""
        checks: list[tuple[ChainRun, Proof, bool]] = []
        for chain in chains:
            index = chain.position
            step = chain.steps[index]
            try:
                action = resolve(step.action, chain.results, self.ctx.alert_channel)
            except UnresolvedRef:
                continue
            proof = proof_of(action)
            unknown = step.status == INFLIGHT
            if proof is None:
                if unknown:
                    # A Slack message has no proof: at least once, by design.
                    step.status = PENDING
                continue
            if unknown or proof.kind in ("comment", "link", "created"):
                checks.append((chain, proof, unknown))
        waiting = [
            (chain, proof)
            for chain, proof, unknown in checks
            if unknown and not self._settled(chain.steps[chain.position])
        ]
        for chain, proof in waiting:
            self._wait_to_settle(chain, proof)
        blocked = {id(chain) for chain, _ in waiting}
        checks = [c for c in checks if id(c[0]) not in blocked]
        if not checks:
            return set()
        # A first attempt's reference line is looked for in the comments the job's own search
        # read seconds ago (with every comment), and a create's trace label in what its search
        # asked Jira for; anything else, and every check after an unknown outcome, reads
        # Jira now.
        known = {k: t for k, t in self.tickets.items() if t.comments_complete}
        keys = sorted(
            {
                p.key
                for _, p, unknown in checks
                if p.key is not None and (unknown or p.kind != "comment" or p.key not in known)
            }
        )
        labels: dict[str, list[str]] = {}
        for _, p, unknown in checks:
            if p.kind == "created" and p.project and p.label:
                if unknown or p.label not in self.labelled:
                    labels.setdefault(p.project, []).append(p.label)
        tickets: dict[str, Ticket] = {}
        created: dict[str, str] = {}
        read_error = None
        try:
            tickets = self.executor.read(keys) if keys else {}
            for project, wanted in labels.items():
                created.update(self.executor.created(project, wanted))
        except CredentialError:
            raise
        except AdapterError as exc:
            read_error = str(exc)
            log.warning("reading tickets to confirm writes failed: %s", exc, extra=self.ctx.extra())
        progressed = set()
        searched = {k: v for k, v in self.labelled.items() if v is not None}
        for chain, proof, unknown in checks:
            step = chain.steps[chain.position]
            seen = tickets if unknown or proof.kind != "comment" else {**known, **tickets}
            verdict, result = proof.check(seen, created if unknown else {**searched, **created})
            if read_error is not None and verdict is not Verdict.FULFILLED:
                verdict = Verdict.UNKNOWN
            if verdict is Verdict.FULFILLED:
                self._done_by_proof(chain, step, proof, result)
                progressed.add(chain.id)
            elif verdict is Verdict.UNKNOWN:
                message = f"verify failed: {read_error or 'the ticket could not be read'}"
                self._block(chain, step, message)
            elif unknown:
                step.status = PENDING  # the settle window passed and it did not happen
        return progressed

    def _settled(self, step: Step) -> bool:
        """Whether an unknown-outcome write is older than the settle window, by the run's own
        time or by the wall clock (a replay with a later ``--now`` is a later run): a write
        the client gave up on can still land, and checking too soon would send it twice."""
        window = self.ctx.settings.run.settle_window.wall
        elapsed = [
            now - datetime.fromisoformat(then)
            for now, then in (
                (self.ctx.now, step.attempted_now),
                (self.clock.now(), step.attempted_at),
            )
            if then
        ]
        return not elapsed or max(elapsed) >= window

    def _advance(self, chain: ChainRun) -> None:
        """Run ``chain``'s steps in order until it ends, waits for a notice, or stops."""
        while not chain.finished and not chain.blocked:
            index = chain.position
            if chain.steps[index].action.kind is ActionKind.SLACK_NOTICE:
                if (chain, index) not in self.notices:
                    self.notices.append((chain, index))
                return
            if not self._attempt(chain, index):
                return

    def _attempt(self, chain: ChainRun, index: int) -> bool:
        """Send one step; True when it is done and the chain may go on."""
        step = chain.steps[index]
        action = self._prepare(chain, index)
        if action is None:
            return step.status == DONE  # a dry run's step, or one that could not be sent
        try:
            outcome: Mapping[str, Any] | Exception = self.executor.execute(action)
        except Exception as exc:
            outcome = exc
        return self._conclude(chain, step, action, outcome)

    def _prepare(self, chain: ChainRun, index: int, *, save: bool = True) -> Action | None:
        """Everything before a step is sent: its reference line checked, its references
        resolved, the intent saved (``save``; else the caller saves it before sending). The
        action to send, or None when there is nothing to send (a dry run prints it; a step
        that cannot be sent is recorded)."""
        ctx = self.ctx
        step = chain.steps[index]
        marker = step.action.marker
        if marker and marker not in step.action.text:
            # Without its reference line a sent reply cannot be recognised later, and a lost
            # ledger would send it again: refuse rather than risk a second email.
            message = f"reference line {marker!r} is missing from the text"
            self._record(step.action, ActionStatus.FAILED, "failed", message, error=message)
            self._abandon(chain, message)
            return None
        if ctx.dry_run:
            # Nothing is sent, so what a step would return is shown by name ("<ts of step 1>").
            try:
                shown = resolve(step.action, chain.results, self.ctx.alert_channel)
            except UnresolvedRef:
                shown = step.action
            self._print(shown, index)
            self._record(shown, ActionStatus.DRY_RUN, "dry_run", "would send")
            step.status, step.result = DONE, act.dry_run_result(shown, index)
            return None
        try:
            action = resolve(step.action, chain.results, self.ctx.alert_channel)
        except UnresolvedRef as exc:
            self._give_up(chain, step, f"cannot send: {exc}")
            return None
        step.status = INFLIGHT
        step.attempts += 1
        step.attempted_at = self.clock.now().isoformat()
        step.attempted_now = ctx.now.isoformat()
        if save:
            if chain.needs_intent:
                self._save(chain)  # the intent: a run killed from here on leaves it for the next
            failpoint("before_send")
        return action

    def _conclude(
        self,
        chain: ChainRun,
        step: Step,
        action: Action,
        outcome: Mapping[str, Any] | Exception,
    ) -> bool:
        """Record what sending ``action`` came to; True when the chain may go on."""
        try:
            if isinstance(outcome, Exception):
                raise outcome
            result = outcome
        except CredentialError as exc:
            step.status = FAILED if not chain.started else PENDING
            self._record(action, ActionStatus.FAILED, "failed", str(exc), error=str(exc))
            self._abandon(chain, str(exc), keep=chain.started)
            raise
        except OutcomeUnknown as exc:
            log.error("action outcome unknown: %s %s: %s", action.kind, action.target, exc)
            step.error = str(exc)
            self._record(action, ActionStatus.FAILED, "failed", str(exc), error=str(exc))
            if chain.persisted:
                self._save(chain)  # still in flight: the next run checks the ticket first
                chain.blocked = True
            else:
                self._abandon(chain, str(exc))
            return False
        except AdapterError as exc:
            log.error("action failed: %s %s: %s", action.kind, action.target, exc)
            step.status, step.error = FAILED, str(exc)
            self._record(action, ActionStatus.FAILED, "failed", str(exc), error=str(exc))
            self._failed_step(chain, step, str(exc))
            return False
        failpoint("after_send")
        self._record(action, ActionStatus.SENT, "sent", "sent")
        self._done(chain, step, action, result)
        return True

    def _done(self, chain: ChainRun, step: Step, action: Action, result: Mapping[str, Any]) -> None:
        """A step happened: say so in the ledger first (a run killed from here on must not
        send it again), then update its records, then go on."""
        step.status, step.result, step.error, step.applied = DONE, dict(result), None, False
        if chain.needs_intent and not chain.finished:
            self._save(chain)
        elif chain.persisted:
            self._save(chain)
        self._apply(action, chain)
        step.applied = True
        failpoint("after_record")
        self._after_step(chain)

    def _send_notices(self) -> None:
        """One message per channel, title and footer for every notice line waiting this run."""
        from jobs.render.notices import notice_messages

        waiting, self.notices = self.notices, []
        groups: dict[tuple[str, str, str], list[tuple[ChainRun, int, Action]]] = {}
        for chain, index in waiting:
            try:
                action = resolve(chain.steps[index].action, chain.results, self.ctx.alert_channel)
            except UnresolvedRef as exc:
                self._give_up(chain, chain.steps[index], f"cannot send: {exc}")
                continue
            assert action.notice is not None
            group = (str(action.target), action.notice.title, action.notice.footer)
            groups.setdefault(group, []).append((chain, index, action))
        for (channel, title, footer), members in groups.items():
            lines = [action for _, _, action in members]
            for message, part in notice_messages(
                channel, title, footer, lines, self.ctx.settings.run.max_alerts_per_message
            ):
                part_members = [members[i] for i in part]
                if self.ctx.dry_run:
                    self._print(message, 0)
                    self._record(message, ActionStatus.DRY_RUN, "dry_run", "would send")
                    for chain, i, _ in part_members:
                        chain.steps[i].status = DONE
                    continue
                for chain, i, _ in part_members:
                    step = chain.steps[i]
                    step.status = INFLIGHT
                    step.attempts += 1
                    step.attempted_at = self.clock.now().isoformat()
                    step.attempted_now = self.ctx.now.isoformat()
                try:
                    result = self.executor.execute(message)
                except CredentialError:
                    raise
                except AdapterError as exc:
                    self._record(message, ActionStatus.FAILED, "failed", str(exc), error=str(exc))
                    for chain, i, _ in part_members:
                        step = chain.steps[i]
                        step.status, step.error = FAILED, str(exc)
                        self._failed_step(chain, step, str(exc))
                    continue
                self._record(message, ActionStatus.SENT, "sent", "sent")
                for chain, i, line in part_members:
                    self._done(chain, chain.steps[i], line, result)

    def _print(self, action: Action, step: int) -> None:
        """A dry run's account of a step: as people will see it, or the exact request."""
        if self.ctx.json_output:
            print(json.dumps(act.payload(action), ensure_ascii=False), file=self.ctx.out)
        else:
            print(act.describe(action, step=step), file=self.ctx.out)

    # -- step outcomes -----------------------------------------------------------------------
    def _done_by_proof(
        self, chain: ChainRun, step: Step, proof: Proof, result: dict[str, Any]
    ) -> None:
        action = resolve(step.action, chain.results, self.ctx.alert_channel)
        reason = f"already on the ticket ({proof.describe()})"
        self._record(action, ActionStatus.SUPPRESSED_DUPLICATE, "suppressed_duplicate", reason)
        if self.ctx.dry_run:
            step.status, step.result = DONE, dict(result)
            return
        self._done(chain, step, action, result)

    def _after_step(self, chain: ChainRun) -> None:
        if self.ctx.dry_run:
            return
        if chain.finished:
            if chain.persisted:
                self.ledger.delete_chain(chain.id)
                chain.persisted = False
        # Unfinished, the chain is saved again before its next send (`_prepare`) or once that
        # is done (`_done`); a run that dies first leaves this step done but not applied,
        # which the next run applies (`_take_over`): saving it here too cost a third write
        # of the whole chain per step.

    def _failed_step(self, chain: ChainRun, step: Step, message: str) -> None:
        """A step failed for good this time. Nothing done yet: the chain goes (and its
        fallback runs); the findings are planned afresh next run. Else it waits for the next
        run, up to `MAX_STEP_ATTEMPTS`."""
        if not chain.started:
            self._abandon(chain, message)
            for fallback in chain.otherwise:
                self._run_fallback(fallback)
            return
        if step.attempts >= MAX_STEP_ATTEMPTS:
            self._give_up(chain, step, f"gave up after {step.attempts} attempts: {message}")
            return
        step.status = PENDING
        chain.blocked = True
        if not self.ctx.dry_run:
            self._save(chain)

    def _run_fallback(self, action: Action) -> None:
        for fallback in self._admit([action]):
            self._advance(fallback)

    def _wait_to_settle(self, chain: ChainRun, proof: Proof) -> None:
        """Too soon to tell whether an earlier attempt landed: neither check nor send now."""
        step = chain.steps[chain.position]
        action = resolve(step.action, chain.results, self.ctx.alert_channel)
        window = self.ctx.settings.run.settle_window
        reason = (
            f"an earlier attempt may still land; {proof.describe()} is checked once the "
            f"settle window ({window}) has passed"
        )
        self.report.actions.append(
            ActionRecord.of(action, ActionStatus.PENDING, reason=reason, text=action.text or None)
        )
        self.attempted.update(_keys_of(action))
        for finding in action.findings:
            self._decide(finding, "pending", reason, f"{action.kind} {_target(action)}")
        chain.blocked = True

    def _block(self, chain: ChainRun, step: Step, message: str) -> None:
        action = resolve(step.action, chain.results, self.ctx.alert_channel)
        self._record(action, ActionStatus.FAILED, "failed", message, error=message)
        chain.blocked = True
        if not chain.persisted and not chain.started:
            self._abandon(chain, message)

    def _abandon(self, chain: ChainRun, message: str, *, keep: bool = False) -> None:
        """Drop a chain that did nothing (its findings are planned afresh next run)."""
        chain.blocked = True
        chain.dropped = not keep
        if self.ctx.dry_run:
            return
        if chain.persisted and not keep:
            self.ledger.delete_chain(chain.id)
            chain.persisted = False
        elif keep:
            self._save(chain)

    def _give_up(self, chain: ChainRun, step: Step, message: str) -> None:
        log.error("giving up %s: %s", step.action.kind, message, extra=self.ctx.extra())
        self._fail(f"{step.action.kind} {_target(step.action)}: {message}")
        for finding in step.action.findings:
            self._decide(finding, "failed", message, f"{step.action.kind}")
        chain.blocked = chain.dropped = True
        if not self.ctx.dry_run and chain.persisted:
            self.ledger.delete_chain(chain.id)
            chain.persisted = False

    def _save(self, chain: ChainRun) -> None:
        if chain.dropped:
            return
        self.ledger.save_chain(chain.to_ledger(self.ctx.now))
        chain.persisted = True

    # -- records -----------------------------------------------------------------------------
    def _claim_all(self, keys: Iterable[RecordKey], *, fresh_read: bool = False) -> bool:
        """Claim every key this run does not hold yet; all or none."""
        wanted = list(dict.fromkeys(k for k in keys if k not in self.held))
        if fresh_read:
            unread = [k for k in wanted if k not in self.records]
            if unread:
                self.records.update(self.ledger.records(unread[0].job, keys=unread))
        got = self._claim_each(wanted)
        if len(got) < len(wanted):
            for taken in got:
                self._release(taken)
            return False
        return True

    def _claim_each(self, keys: Iterable[RecordKey]) -> set[RecordKey]:
        """Claim each of ``keys`` at the version this run read, in one transaction; the keys
        claimed. A key this run holds already is refused like any held claim: callers leave
        those out (`_claim_all`)."""
        versions = {}
        for key in keys:
            record = self.records.get(key)
            versions[key] = record.version if record is not None else 0
        claimed = self.ledger.claim_all(
            versions,
            now=self.ctx.now,
            run_id=self.ctx.run_id,
            claim_ttl=self.ctx.settings.ledger.claim_ttl.wall,
        )
        for key in claimed:
            self.held.add(key)
            if key not in self.records:
                self.records[key] = AlertRecord(key=key, version=1)
        return claimed

    def _release(self, key: RecordKey) -> None:
        if key in self.held:
            self.ledger.release(key, run_id=self.ctx.run_id)
            self.held.discard(key)

    def _release_all(self) -> None:
        """Claims are held to the end of the run (several chains may share a record), then
        given back, in one transaction: what is unfinished is the next run's, from the
        ledger."""
        if self.ctx.dry_run:
            return
        # The run's lease goes in the same transaction: no other run starts while this one
        # still holds records.
        self.ledger.release_all(list(self.held), run_id=self.ctx.run_id)
        self.held.clear()

    def _apply(self, action: Action, chain: ChainRun) -> None:
        """A step succeeded: its findings' records are marked sent (if it notifies), and its
        record changes are made, in the ledger at once."""
        if self.ctx.dry_run:
            return
        now = self.ctx.now
        retention = self.ctx.settings.ledger.retention.wall
        changed: dict[RecordKey, AlertRecord] = {}

        def current(key: RecordKey) -> AlertRecord:
            return changed.get(key) or self.records.get(key) or AlertRecord(key=key)

        if action.notifies:
            for finding in action.findings:
                key = finding.record_key
                changed[key] = rec.after_send(current(key), finding, now)
        for change in resolve_records(action.records, chain.results):
            changed[change.key] = rec.after_change(current(change.key), change, now)
        saved = self.ledger.save_records(
            [(record, rec.keep_until(record, retention)) for record in changed.values()],
            now=now,
            run_id=self.ctx.run_id,
        )
        for record in saved:
            self.touched.add(record.key)
            self.records[record.key] = record

    def _close_resolved(self, resolving: list[AlertRecord]) -> None:
        """Records the job said nothing about are closed; one it tried to resolve and failed
        stays open for the next run, up to `MAX_RESOLVE_ATTEMPTS`."""
        retention = self.ctx.settings.ledger.retention.wall
        saves: list[tuple[AlertRecord, datetime | None]] = []
        for record in resolving:
            key = record.key
            current = self.records.get(key, record)
            if key in self.touched and current.status is not RecordStatus.OPEN:
                self._decide_record(current, "resolved", "resolved")
                continue
            if key in self.touched and current.status is RecordStatus.OPEN:
                continue  # the job kept it open
            attempts = int(current.store.get("resolve_failures") or 0)
            tried = key in self.attempted
            if tried and attempts + 1 < MAX_RESOLVE_ATTEMPTS:
                if not self.ctx.dry_run:
                    failures = {**current.store, "resolve_failures": attempts + 1}
                    saves.append((replace(current, store=failures), None))
                continue
            reason = (
                f"resolved without its update after {attempts + 1} failed runs"
                if tried
                else "no longer found by the rule"
            )
            self._decide_record(current, "resolved", reason)
            if self.ctx.dry_run:
                continue
            done = rec.closed(current, self.ctx.now)
            saves.append((done, rec.keep_until(done, retention)))
        for saved in self.ledger.save_records(saves, now=self.ctx.now, run_id=self.ctx.run_id):
            self.records[saved.key] = saved

    def _release_uncovered(self, fresh: list[Finding], actions: Sequence[Action]) -> None:
        covered = {
            f.record_key for action in actions for step in action.chain for f in step.findings
        }
        for finding in fresh:
            if finding.record_key not in covered:
                self._decide(finding, "suppressed_duplicate", "no action planned for it", None)
                if not self.ctx.dry_run:
                    self._release(finding.record_key)

    # -- report and decisions ----------------------------------------------------------------
    def _record(
        self, action: Action, status: str, outcome: str, reason: str, error: str | None = None
    ) -> None:
        self.report.actions.append(
            ActionRecord.of(action, status, error=error, reason=reason, text=action.text or None)
        )
        self.attempted.update(_keys_of(action))
        for finding in action.findings:
            self._decide(finding, outcome, reason, f"{action.kind} {_target(action)}")

    def _suppress(self, finding: Finding, outcome: str, reason: str) -> None:
        self.report.suppressed.append(
            {"item": finding.item, "rule": finding.rule, "outcome": outcome, "reason": reason}
        )
        self._decide(finding, outcome, reason, None)

    def _decide(self, finding: Finding, outcome: str, reason: str, action: str | None) -> None:
        self.decisions.append(
            Decision(
                at=self.ctx.now,
                run_id=self.ctx.run_id,
                job=finding.job,
                rule=finding.rule,
                item=finding.item,
                episode=finding.episode,
                outcome=outcome,
                reason=reason,
                facts=dict(finding.facts),
                action=action,
            )
        )

    def _decide_record(self, record: AlertRecord, outcome: str, reason: str) -> None:
        self.decisions.append(
            Decision(
                at=self.ctx.now,
                run_id=self.ctx.run_id,
                job=record.key.job,
                rule=record.key.alert,
                item=record.key.item,
                episode=record.key.episode,
                outcome=outcome,
                reason=reason,
                facts={"tier": str(record.tier) if record.tier else None},
            )
        )

    def _fail(self, message: str) -> None:
        log.error(message, extra=self.ctx.extra())
        self.report.errors.append(message)

    def _finish(self) -> None:
        ctx = self.ctx
        if ctx.dry_run:
            return
        learned = ctx.cache.take_updates()
        if learned:
            self.ledger.remember(CACHE_JOB, learned, now=self.clock.now())
        if self.memory and not self.report.errors:
            self.ledger.remember(self.job.spec.name, self.memory, now=ctx.now)
        if self.decisions:
            self.ledger.record_decisions(self.decisions)
        self.ledger.note_run(self.job.spec.name, now=ctx.now, run_id=ctx.run_id)

    def _close_report(self) -> RunReport:
        ctx = self.ctx
        if "jira" in vars(ctx):  # the adapter was used: add the tickets it could not read
            self.report.problems.extend(ctx.jira.problems)
        self.report.api_calls = ctx.counter.as_dict()
        self.report.notes = {**self.report.notes, **ctx.notes}
        self.report.finished_at = self.clock.now()
        if self.report.exit_code != EXIT_CREDENTIALS:
            self.report.exit_code = 1 if self.report.failed else 0
        return self.report


def unique(findings: Sequence[Finding]) -> tuple[list[Finding], list[DataProblem]]:
    """The first finding of each record key; a repeated one is a data problem (Jira's search
    pages are not a snapshot: a ticket updated while paging can come back on a later page)."""
    seen: dict[RecordKey, int] = {}
    kept: list[Finding] = []
    for finding in findings:
        key = finding.record_key
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            kept.append(finding)
    problems = [
        DataProblem(
            key.item,
            f"{key.alert} came up {count} times in one run (the search listed the ticket "
            "more than once); acted on once",
        )
        for key, count in seen.items()
        if count > 1
    ]
    return kept, problems


_NOTES = frozenset({ActionKind.JIRA_INTERNAL_COMMENT, ActionKind.JIRA_PUBLIC_COMMENT})


def _side_by_side(chain: ChainRun, index: int) -> list[int]:
    """The steps of ``chain`` that may be sent together, from ``index`` (its next step, a
    Jira write): that step, and when it is a comment, the comments right after it that stand
    alone — each on a ticket none of the others touches, using no earlier step's result (an
    approval reminder's note on each ticket). Anything else (an edit and the comment that
    explains it, a create and its link) waits for the step before it, as planned."""
    picked = [index]
    if chain.steps[index].action.kind not in _NOTES or not chain.started:
        return picked  # a chain's first step decides whether it goes on (or its fallback runs)
    tickets = {_lane_of(chain.steps[index].action)}
    for later in range(index + 1, len(chain.steps)):
        step = chain.steps[later]
        if step.status == DONE:
            continue  # sent by an earlier wave whose neighbour failed
        action = step.action
        lane = _lane_of(action)
        if (
            step.status != PENDING
            or action.kind not in _NOTES
            or not isinstance(action.target, str)
            or lane in tickets
            or _refers(chain.encoded_action(step))
        ):
            break
        picked.append(later)
        tickets.add(lane)
    return picked


def _refers(encoded: Any) -> bool:
    """Whether an encoded action uses an earlier step's result (a ``$ref`` anywhere)."""
    stack = [encoded]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "$ref" in value:
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


WAVE_BATCH = 4
"""A wave goes out in batches of this many times ``run.max_parallel_writes`` steps: enough to
keep every worker busy while the batch before is recorded, few enough that a run killed
mid-wave leaves little in flight."""


@dataclass
class _Batch:
    """Steps of a wave sent together: each step's chain, step and action, its outcome (once
    its lane has run), and the lanes in flight."""

    ready: list[tuple[ChainRun, Step, Action]] = field(default_factory=list)
    outcomes: list[Mapping[str, Any] | Exception] = field(default_factory=list)
    lanes: list[Future[None]] = field(default_factory=list)


def _lane_batches(
    wave: list[tuple[ChainRun, int]], alert_channel: str, size: int
) -> list[list[list[tuple[ChainRun, int]]]]:
    """``wave`` as batches of about ``size`` steps, each a list of whole lanes in the wave's
    order (so one ticket's writes never overlap across batches). A step's lane is read from
    its action with the references it can resolve already; one it cannot is a lane of its own
    (`_prepare` gives it up)."""
    lanes: dict[str, list[tuple[ChainRun, int]]] = {}
    for chain, index in wave:
        action = chain.steps[index].action
        try:
            lane = _lane_of(resolve(action, chain.results, alert_channel))
        except UnresolvedRef:
            lane = ""
        if not lane.startswith("ticket:") and not lane.startswith("dm:"):
            lane = f"action:{id(action)}"  # the planned action lives on; a resolved copy not
        lanes.setdefault(lane, []).append((chain, index))
    batches: list[list[list[tuple[ChainRun, int]]]] = []
    current: list[list[tuple[ChainRun, int]]] = []
    steps = 0
    for members in lanes.values():
        if current and steps + len(members) > size:
            batches.append(current)
            current, steps = [], 0
        current.append(members)
        steps += len(members)
    if current:
        batches.append(current)
    return batches


def _chains_of(wave: list[tuple[ChainRun, int]]) -> list[ChainRun]:
    seen: dict[str, ChainRun] = {}
    for chain, _ in wave:
        seen.setdefault(chain.id, chain)
    return list(seen.values())


def _lane_of(action: Action) -> str:
    """Writes in one lane go in order: those to one ticket (a link touches two: its inward
    end decides, the ticket the link's comment lands on), direct messages to one person."""
    if action.link is not None:
        return f"ticket:{action.link.inward_key}"
    if action.kind is ActionKind.JIRA_CREATE:
        return f"action:{id(action)}"  # a new ticket: nothing to wait for
    if action.kind is ActionKind.SLACK_DM:
        return f"dm:{_target(action)}"  # one person's messages in order
    if isinstance(action.target, str) and action.target:
        return f"ticket:{action.target}"
    return f"action:{id(action)}"


def _target(action: Action) -> str:
    return act._shown(action.target)


def _span(delta: timedelta) -> str:
    from jobs.render.words import human_duration

    return human_duration(delta)
