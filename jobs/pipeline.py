"""The pipeline every job runs through, in named stages:

    fetch -> evaluate -> silence -> dedup (claim) -> plan -> act -> record

- *fetch* and *evaluate* belong to the job (adapters, then a pure rule);
- *silence*: ledger silences and the snooze label drop findings, logged with the reason;
- *dedup*: a finding is sent only if its re-alert window has passed, and only by the run that
  atomically claims it in the ledger, so two overlapping runs never both send;
- *act*: each action is executed once; replies that reach a customer are first checked against
  the ticket's own comments (the ground truth, not the ledger) for the step's marker;
- *record*: sent findings are marked in the ledger only after the send succeeded, so a failed
  or interrupted send is retried next run; every candidate gets a line in the decision log.

A dry run does every read and every decision, prints what would be sent, and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from jobs import act
from jobs.adapters.http import AdapterError, CredentialError
from jobs.clock import Clock
from jobs.context import RunContext
from jobs.failpoints import failpoint
from jobs.job import Job
from jobs.ledger.base import Decision
from jobs.model import Action, Finding
from jobs.render.templates import TemplateProblem
from jobs.report import ActionRecord, ActionStatus, RunReport

log = logging.getLogger("jobs.pipeline")


EXIT_CREDENTIALS = 2  # the CLI's "usage, configuration or credential error"
GROUND_TRUTH_BATCH = 100  # keys per `key in (...)` search: one page of the search endpoint

# Cron starts a job a few seconds early or late; without this tolerance a 24 h re-alert on an
# hourly job run 2 s early would slip by a whole hour every day.
SCHEDULE_JITTER = timedelta(minutes=2)


def _with_jitter(realert: timedelta | None) -> timedelta | None:
    if realert is None:
        return None
    return max(timedelta(0), realert - SCHEDULE_JITTER) if realert > SCHEDULE_JITTER else realert


def _ago(then: datetime, now: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m ago" if minutes >= 60 else f"{minutes}m ago"


class Pipeline:
    def __init__(self, job: Job, ctx: RunContext, clock: Clock) -> None:
        self.job = job
        self.ctx = ctx
        self.clock = clock
        self.report = RunReport(
            job=job.spec.name,
            run_id=ctx.run_id,
            started_at=clock.now(),
            now=ctx.now,
            dry_run=ctx.dry_run,
        )
        self.decisions: list[Decision] = []
        self.claimed: set[tuple[str, str, str, str]] = set()
        self.comments_read: dict[str, list[tuple[str, bool]]] = {}
        """(body, public) of comments read this run, by ticket, for the marker check."""

    # -- stages ------------------------------------------------------------------------------
    def run(self) -> RunReport:
        """Run every stage. Refused credentials end this job (exit code 2) but still release
        its claims and record what it did send, so a rerun after the fix sends the rest."""
        try:
            return self._run()
        except CredentialError as exc:
            self._fail(f"credentials refused: {exc}")
            report = self._finish()
            report.exit_code = EXIT_CREDENTIALS
            return report

    def _run(self) -> RunReport:
        ctx = self.ctx
        try:
            data = self.job.fetch(ctx)
            evaluation = self.job.evaluate(data, ctx)
        except CredentialError:
            raise
        except AdapterError as exc:
            self._fail(f"read failed: {exc}")
            return self._finish()
        self.report.examined = evaluation.examined
        self.report.findings = list(evaluation.findings)
        self.report.problems = list(evaluation.problems)
        for problem in evaluation.problems:
            log.warning("data problem at %s: %s", problem.where, problem.message, extra=ctx.extra())

        fresh = self.dedup(self.silence(evaluation.findings))
        try:
            actions = self.job.plan(fresh, ctx)
        except (AdapterError, TemplateProblem) as exc:
            self._fail(f"planning failed: {exc}")
            actions = []
        covered = self.act(actions)
        self._release_uncovered(fresh, covered)
        try:
            self.act(self.job.after_run(ctx, data, evaluation))
        except (AdapterError, TemplateProblem) as exc:
            self._fail(f"follow-up failed: {exc}")
        return self._finish()

    def silence(self, findings: Iterable[Finding]) -> list[Finding]:
        ctx = self.ctx
        kept = []
        label = ctx.settings.silence_label
        for finding in findings:
            silence = ctx.ledger.active_silence(finding.job, finding.item, now=ctx.now)
            if silence is not None:
                self._suppress(
                    finding,
                    "suppressed_silenced",
                    f"silenced until {silence.expires.isoformat()} by {silence.author}: "
                    f"{silence.reason}",
                )
            elif label and label in finding.facts.get("labels", ()):
                self._suppress(finding, "suppressed_silenced", f"ticket has the {label!r} label")
            else:
                kept.append(finding)
        return kept

    def dedup(self, findings: Iterable[Finding]) -> list[Finding]:
        ctx = self.ctx
        claim_ttl = ctx.settings.ledger.claim_ttl.wall
        fresh = []
        for finding in findings:
            job, rule, item, episode = finding.dedup_key
            realert = _with_jitter(finding.realert)
            last = ctx.ledger.last_sent(job, rule, item, episode)
            if last is not None and (realert is None or ctx.now - last < realert):
                window = "once" if finding.realert is None else f"re-alert after {finding.realert}"
                self._suppress(
                    finding,
                    "suppressed_duplicate",
                    f"already sent {_ago(last, ctx.now)} ({window})",
                )
                continue
            if ctx.dry_run:
                fresh.append(finding)
                continue
            if ctx.ledger.claim(
                job,
                rule,
                item,
                episode,
                now=ctx.now,
                realert=realert,
                run_id=ctx.run_id,
                claim_ttl=claim_ttl,
            ):
                self.claimed.add(finding.dedup_key)
                failpoint("after_claim")
                fresh.append(finding)
            else:
                self._suppress(finding, "suppressed_claimed", "claimed by an overlapping run")
        return fresh

    def act(self, actions: Iterable[Action]) -> set[tuple[str, str, str, str]]:
        covered: set[tuple[str, str, str, str]] = set()
        actions = list(actions)
        if not self.ctx.dry_run:
            self._read_ground_truth(actions)
        for action in actions:
            covered.update(f.dedup_key for f in action.findings)
            if self.ctx.dry_run:
                print(act.describe(action), file=self.ctx.out)
                self._record(action, ActionStatus.DRY_RUN, "dry_run", "would send")
                continue
            if action.marker and action.marker not in action.text:
                # Without its reference line a sent reply cannot be recognised later, and a lost
                # ledger would send it again: refuse rather than risk a second email.
                message = f"reference line {action.marker!r} is missing from the text"
                self._record(action, ActionStatus.FAILED, "failed", message, error=message)
                self._release(action.findings)
                continue
            if action.marker and self._already_on_ticket(action):
                continue
            try:
                result = act.execute(self.ctx, action)
            except CredentialError:
                raise
            except AdapterError as exc:
                log.error("action failed: %s %s: %s", action.kind, action.target, exc)
                self._record(action, ActionStatus.FAILED, "failed", str(exc), error=str(exc))
                self._release(action.findings, failed=True)
                continue
            failpoint("after_send")
            self._record(action, ActionStatus.SENT, "sent", "sent")
            self._mark_sent(action)
            failpoint("after_record")
            if action.on_done is not None:
                try:
                    action.on_done(result)
                except AdapterError as exc:
                    # The send happened and is recorded; only the follow-up bookkeeping failed.
                    self._fail(f"after {action.kind} {action.target}: {exc}")
        return covered

    # -- helpers -----------------------------------------------------------------------------
    def _read_ground_truth(self, actions: list[Action]) -> None:
        """Read the comments of every ticket about to get a marked comment, with one search per
        100 tickets instead of one read per ticket; tickets the search does not return (or a
        failed search) fall back to a read of their own in `_already_on_ticket`."""
        from jobs.adapters.jira import jql_quote

        keys = sorted({a.target for a in actions if a.marker} - set(self.comments_read))
        for start in range(0, len(keys), GROUND_TRUTH_BATCH):
            chunk = keys[start : start + GROUND_TRUTH_BATCH]
            jql = f"key in ({', '.join(jql_quote(k) for k in chunk)})"
            try:
                for ticket in self.ctx.jira.search(jql, ["comment"]):
                    complete = self.ctx.jira.with_all_comments(ticket)
                    self.comments_read[ticket.key] = [(c.body, c.public) for c in complete.comments]
            except AdapterError as exc:
                log.warning("batched comment read failed, reading one by one: %s", exc)

    def _already_on_ticket(self, action: Action) -> bool:
        """Ground truth for replies: if the step's marker is already in the ticket, it was sent
        (by a run that crashed before recording, or with a ledger that was since lost)."""
        assert action.marker is not None
        comments = self.comments_read.get(action.target)
        if comments is None:
            try:
                comments = [(c.body, c.public) for c in self.ctx.jira.comments(action.target)]
            except AdapterError as exc:
                # Cannot prove it was not sent: do not risk a second email. Retry next run.
                self._record(
                    action, ActionStatus.FAILED, "failed", f"verify failed: {exc}", error=str(exc)
                )
                self._release(action.findings)
                return True
        # A reply reaches the customer only as a public comment: the same reference in an
        # internal note (an agent's draft, a quote) does not prove the customer got it.
        public_only = action.kind.reaches_customer
        if any(action.marker in body for body, public in comments if public or not public_only):
            self._record(
                action,
                ActionStatus.SUPPRESSED_DUPLICATE,
                "suppressed_duplicate",
                "already on the ticket (marker found in its comments)",
            )
            self._mark_sent(action)
            return True
        return False

    def _mark_sent(self, action: Action) -> None:
        if not action.record_findings:
            return
        for finding in action.findings:
            job, rule, item, episode = finding.dedup_key
            self.ctx.ledger.mark_sent(
                job, rule, item, episode, now=self.ctx.now, run_id=self.ctx.run_id
            )
            self.claimed.discard(finding.dedup_key)

    def _release(self, findings: Iterable[Finding], *, failed: bool = False) -> None:
        """Give back this run's claims so the next run may retry. After a failed send every
        finding of the action is released, including claims a job took itself in
        ``after_run`` (the ledger only ever clears this run's own claim)."""
        for finding in findings:
            if failed or finding.dedup_key in self.claimed:
                job, rule, item, episode = finding.dedup_key
                self.ctx.ledger.release(job, rule, item, episode, run_id=self.ctx.run_id)
                self.claimed.discard(finding.dedup_key)

    def _release_uncovered(self, fresh: list[Finding], covered: set[Any]) -> None:
        uncovered = [f for f in fresh if f.dedup_key not in covered]
        for finding in uncovered:
            self._decide(
                finding, "suppressed_duplicate", "no action planned for this finding", None
            )
        self._release(uncovered)

    def _record(
        self, action: Action, status: str, outcome: str, reason: str, error: str | None = None
    ) -> None:
        self.report.actions.append(
            ActionRecord.of(action, status, error=error, reason=reason, text=action.text or None)
        )
        for finding in action.findings:
            self._decide(finding, outcome, reason, f"{action.kind} {action.target}")

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

    def _fail(self, message: str) -> None:
        log.error(message, extra=self.ctx.extra())
        self.report.errors.append(message)

    def _finish(self) -> RunReport:
        ctx = self.ctx
        self._release(
            [f for f in self.report.findings if f.dedup_key in self.claimed]
        )  # anything still claimed was not sent: let the next run try
        if not ctx.dry_run and self.decisions:
            ctx.ledger.record_decisions(self.decisions)
        if "jira" in vars(ctx):  # the adapter was used: add the tickets it could not read
            self.report.problems.extend(ctx.jira.problems)
        self.report.api_calls = ctx.counter.as_dict()
        self.report.notes = dict(ctx.notes)
        self.report.finished_at = self.clock.now()
        self.report.exit_code = 1 if self.report.failed else 0
        return self.report
