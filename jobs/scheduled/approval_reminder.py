"""SOP 001 step 5: remind the approver, tidy up approval tickets, tell support when he answered.

Two searches per run at most: the open onboarding tickets with their comments (the rest of
the comments paged only where the search truncated them), and the tickets the approver
reported recently or that are linked to an onboarding ticket. Everything else is decided in
memory by `jobs.rules.approval_reminder`.

What is sent, each as one chain the pipeline finishes across runs if a step fails or the run
dies half-way (so a step is never lost, and none is done twice):

- a Slack DM to the approver listing the tickets waiting for him (key, organization, how
  long), re-sent at most every ``realert`` per ticket and ask; then one line in the alert
  channel saying he was reminded, and, with ``actions.comment_on_reminder``, an internal
  comment on each ticket recording it. If the DM cannot be sent, the channel is told to
  remind him instead (and the DM is tried again next run);
- an alert with both keys when an approval ticket came in by email and is not linked; with
  ``actions.link_approval_tickets`` the job links it ("duplicates" the onboarding ticket),
  comments on it, closes it and then tells the channel, but only when it names the
  onboarding or CS key: one that names only the organization is left for a person to link;
- once per ticket, "approval answered: the CS ticket can go back to To Do".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobs.config import PersonConfig
from jobs.job import Job, JobSpec, Work, config_of
from jobs.jql import jql_quote
from jobs.model import (
    ALERT_CHANNEL,
    Action,
    ActionKind,
    DataProblem,
    Evaluation,
    Finding,
    LinkSpec,
    Ticket,
)
from jobs.rules.approval_reminder import (
    JOB_NAME,
    RULE_CLOSE,
    RULE_LINK,
    RULE_OVERDUE,
    RULE_RECEIVED,
    RULE_UNLINKED,
    ApprovalData,
    ApprovalReminderConfig,
    ApprovalTicketDetail,
    Approver,
    approval_ticket_marker,
    evaluate,
    find_asks,
    reminder_marker,
    split_onboarding,
)

if TYPE_CHECKING:
    from jobs.context import RunContext

log = logging.getLogger("jobs.approval_reminder")

ONBOARDING_SUMMARY = "EverBright Partner Onboarding"
"""SOP 001 step 1: 'The ticket will always have the subject "EverBright Partner Onboarding"'."""
LINK_TYPE = "Duplicate"
"""Jira's stock type: outward 'duplicates', inward 'is duplicated by'."""
ONBOARDING_FIELDS = (
    "summary",
    "status",
    "created",
    "reporter",
    "labels",
    "comment",
    "issuelinks",
    "Organizations",
)
APPROVER_FIELDS = (
    "summary",
    "description",
    "status",
    "created",
    "reporter",
    "labels",
    "comment",
    "issuelinks",
)
MAX_LINKED_KEYS = 200
"""Linked keys added to the approver search; beyond this only the look-back window counts."""
_JQL_DATE_MARGIN = timedelta(days=1)
"""JQL dates are read in the API user's time zone; a day of margin makes that irrelevant."""


SPEC = JobSpec(
    name=JOB_NAME,
    description="Slack the approver after 24 h without an answer; link approval tickets (SOP 001)",
    config_model=ApprovalReminderConfig,
    systems=frozenset({"jira", "slack"}),
)


@dataclass(frozen=True)
class FetchResult:
    data: ApprovalData
    approver: Approver | None
    problems: tuple[DataProblem, ...] = ()


def approver_of(person: PersonConfig | None, config: ApprovalReminderConfig) -> Approver | None:
    if person is None:
        return None
    return Approver(
        name=person.name,
        email=person.email,
        account_id=person.jira_account_id,
        mention_names=tuple(config.mention_names),
    )


def onboarding_jql(config: ApprovalReminderConfig, service_desk_project: str) -> str:
    if config.jql:
        return config.jql
    project = jql_quote(service_desk_project)
    # `~` is a word search; the inner quotes make it the exact phrase, as Jira reads it.
    phrase = jql_quote(f'"{ONBOARDING_SUMMARY}"')
    return f"project = {project} AND summary ~ {phrase} AND statusCategory != Done ORDER BY key"


def approver_jql(
    service_desk_project: str, approver: Approver, since: datetime, linked_keys: Sequence[str]
) -> str | None:
    """Tickets he reported since ``since`` or linked to an onboarding ticket; None if he has
    neither a Jira account id nor an email to search by."""
    who = approver.account_id or approver.email
    if not who:
        return None
    project = jql_quote(service_desk_project)
    day = (since - _JQL_DATE_MARGIN).date().isoformat()
    window = f"created >= {jql_quote(day)}"
    if linked_keys:
        keys = ", ".join(jql_quote(k) for k in linked_keys)
        window = f"({window} OR key in ({keys}))"
    return f"project = {project} AND reporter = {jql_quote(who)} AND {window} ORDER BY key"


def linked_keys(tickets: Iterable[Ticket], project: str) -> list[str]:
    """Same-project keys linked to the onboarding tickets: an approval ticket linked long ago
    still answers a later ask, however old it is."""
    own = {t.key for t in tickets}
    prefix = f"{project}-"
    keys = {
        link.other_key
        for t in tickets
        for link in t.links
        if link.other_key.startswith(prefix) and link.other_key not in own
    }
    return sorted(keys, key=_key_number, reverse=True)[:MAX_LINKED_KEYS]


def _key_number(key: str) -> int:
    number = key.rpartition("-")[2]
    return int(number) if number.isdigit() else 0


def _channel_line(ctx: RunContext, findings: list[Finding], lead: str, *, notifies: bool) -> Action:
    from jobs.render.approval_reminder import channel_line

    text, blocks = channel_line(findings, lead, ctx.settings.run.max_alerts_per_message)
    return Action(
        kind=ActionKind.SLACK_POST,
        target=ALERT_CHANNEL,
        findings=findings,
        text=text,
        blocks=blocks,
        notifies=notifies,
    )


def _could_not_dm(
    ctx: RunContext, approver: PersonConfig, findings: list[Finding], *, notifies: bool
) -> Action:
    """Someone must remind him: counts as the reminder only when there is no DM to retry."""
    from jobs.render.approval_reminder import could_not_dm

    return _channel_line(ctx, findings, could_not_dm(approver.name), notifies=notifies)


class ApprovalReminderJob(Job[FetchResult]):
    spec = SPEC

    # -- fetch / evaluate ------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> FetchResult:
        config = config_of(ctx, ApprovalReminderConfig)
        approver = approver_of(ctx.person("approver"), config)
        if approver is None:
            problem = DataProblem(
                "settings.people.approver",
                "no approver configured (name, email, jira_account_id): nothing to check",
            )
            return FetchResult(ApprovalData(()), None, (problem,))
        phrases = tuple(config.ask_phrases)
        project = ctx.desk.service_desk_project
        # Each truncated thread is read while the search is still paging.
        complete = ctx.jira.with_all_comments_of(
            ctx.jira.search(onboarding_jql(config, project), list(ONBOARDING_FIELDS))
        )
        # His "Re: EverBright Partner Onboarding" emails are his tickets: read them with the
        # approver search (it asks for the description), and let their links be followed.
        onboarding, his = split_onboarding(complete, approver, phrases)

        first_asks = [
            asks[0].created for t in onboarding if (asks := find_asks(t, approver, phrases))
        ]
        if not first_asks:
            # Nobody was asked: no answer or approval ticket can matter this run.
            return FetchResult(ApprovalData(tuple(onboarding)), approver)
        # An approval ticket counts only after an ask, so the oldest open ask bounds the search.
        since = max(min(first_asks), ctx.now - config.approver_lookback.wall)
        jql = approver_jql(project, approver, since, linked_keys(onboarding, project))
        problems: tuple[DataProblem, ...] = ()
        approver_tickets: list[Ticket] = []
        if jql is None:
            problems = (
                DataProblem(
                    "settings.people.approver",
                    "no jira_account_id or email: approval tickets he sends cannot be found",
                ),
            )
        else:
            # All their comments: the marker of the job's comment decides what is left to do.
            approver_tickets = ctx.jira.with_all_comments_of(
                ctx.jira.search(jql, list(APPROVER_FIELDS))
            )
        searched = {t.key for t in approver_tickets}
        approver_tickets += [t for t in his if t.key not in searched]
        data = ApprovalData(tuple(onboarding), tuple(approver_tickets))
        return FetchResult(data, approver, problems)

    def evaluate(self, data: FetchResult, ctx: RunContext) -> Evaluation:
        if data.approver is None:
            return Evaluation(findings=[], problems=list(data.problems))
        config = config_of(ctx, ApprovalReminderConfig)
        evaluation = evaluate(
            data.data,
            data.approver,
            ctx.now,
            config,
            ctx.desk,
            ctx.calendar,
            actions=ctx.settings.actions,
        )
        read = (*data.data.onboarding, *data.data.approver_tickets)
        return Evaluation(
            findings=evaluation.findings,
            problems=[*data.problems, *evaluation.problems],
            examined=evaluation.examined,
            # Both searches read every comment: a note's reference line is looked for there.
            tickets={t.key: t for t in read},
        )

    # -- plan ------------------------------------------------------------------------------
    def plan(self, work: Work[FetchResult], ctx: RunContext) -> list[Action]:
        approver = ctx.person("approver")
        if not work.fresh or approver is None:
            return []
        by_rule: dict[str, list[Finding]] = {}
        for finding in work.fresh:
            by_rule.setdefault(finding.rule, []).append(finding)
        actions = self._reminders(by_rule.get(RULE_OVERDUE, []), approver, ctx)
        actions += self._support_alerts(
            by_rule.get(RULE_UNLINKED, []) + by_rule.get(RULE_RECEIVED, []), approver, ctx
        )
        actions += [self._link_and_close(f, approver, ctx) for f in by_rule.get(RULE_LINK, [])]
        actions += [_transition(f, ctx) for f in by_rule.get(RULE_CLOSE, [])]
        return actions

    def _reminders(
        self, overdue: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        """The DM, then the channel line and the optional comments: one chain per DM."""
        from jobs.render.alerts import order_for_alert
        from jobs.render.approval_reminder import reminded, reminder_dms

        if not overdue:
            return []
        ordered = order_for_alert(overdue)
        if not approver.email and not approver.slack_user:
            # No way to reach him: the channel line is the reminder.
            return [_could_not_dm(ctx, approver, ordered, notifies=True)]
        if approver.email:
            target, kind = approver.email, ActionKind.SLACK_DM
        else:
            target, kind = str(approver.slack_user), ActionKind.SLACK_POST
        dms = reminder_dms(
            ordered,
            target=target,
            kind=kind,
            approver_name=approver.name,
            cap=ctx.settings.run.max_alerts_per_message,
        )
        chains = []
        for dm in dms:
            ordered_here = order_for_alert(dm.findings)
            note = reminded(approver.name)
            follow: list[Action] = [_channel_line(ctx, ordered_here, note, notifies=True)]
            if ctx.settings.actions.comment_on_reminder:
                follow += [self._reminder_comment(f, approver, ctx) for f in ordered_here]
            dm.then = tuple(follow)
            # Not counted as the reminder: the DM is tried again next run.
            dm.otherwise = (_could_not_dm(ctx, approver, ordered_here, notifies=False),)
            chains.append(dm)
        return chains

    @staticmethod
    def _support_alerts(
        findings: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        from jobs.render.approval_reminder import support_alerts

        return support_alerts(
            findings,
            channel=ctx.alert_channel,
            approver_name=approver.name,
            desk=ctx.desk,
            cap=ctx.settings.run.max_alerts_per_message,
        )

    @staticmethod
    def _link_and_close(finding: Finding, approver: PersonConfig, ctx: RunContext) -> Action:
        """Link, explain, close, then tell the channel: each step only after the one before."""
        from jobs.render.approval_reminder import link_comment, linked_notice, linked_notices

        approval = finding.item
        onboarding = finding.detail_as(ApprovalTicketDetail).onboarding_ticket
        mark = approval_ticket_marker(approval, onboarding)
        comment = Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=approval,
            findings=[finding],
            text=link_comment(finding, approver.name, mark),
            marker=mark,
        )
        notice = Action(
            kind=ActionKind.SLACK_NOTICE,
            target=ALERT_CHANNEL,
            findings=[finding],
            text=linked_notice(finding, ctx.desk),
            notice=linked_notices(approver.name),
        )
        return Action(
            kind=ActionKind.JIRA_LINK,
            target=approval,
            findings=[finding],
            text=f"{approval} duplicates {onboarding}",
            # Jira's REST quirk: the *inward* issue is the one that reads with the outward
            # phrase, so inward=approval shows "SS-340 duplicates SS-301".
            link=LinkSpec(inward_key=approval, outward_key=onboarding, link_type=LINK_TYPE),
            then=(comment, _transition(finding, ctx), notice),
        )

    @staticmethod
    def _reminder_comment(finding: Finding, approver: PersonConfig, ctx: RunContext) -> Action:
        from jobs.render.approval_reminder import reminder_comment

        mark = reminder_marker(finding.item, ctx.calendar.local_date(ctx.now))
        return Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=finding.item,
            findings=[finding],
            text=reminder_comment(finding, approver.name, mark, ctx.calendar.tz),
            marker=mark,
        )


def _transition(finding: Finding, ctx: RunContext) -> Action:
    status = config_of(ctx, ApprovalReminderConfig).approval_ticket_done_status
    return Action(
        kind=ActionKind.JIRA_TRANSITION,
        target=finding.item,
        findings=[finding],
        text=f"{finding.item} -> {status}",
        to_status=status,
    )


JOB = ApprovalReminderJob

__all__ = ["JOB", "SPEC", "ApprovalReminderConfig", "ApprovalReminderJob", "FetchResult"]
