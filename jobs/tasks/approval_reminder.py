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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from jobs.config import JobConfig, PersonConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import (
    ALERT_CHANNEL,
    Action,
    ActionKind,
    DataProblem,
    Evaluation,
    Finding,
    LinkSpec,
    Notice,
    Severity,
    Ticket,
)
from jobs.render.alerts import PRIORITY_MARK, grouped_alerts, order_for_alert, ticket_link
from jobs.render.slack import escape, link, section
from jobs.rules.approval_reminder import (
    ANSWER_APPROVAL_TICKET,
    ANSWER_COMMENT,
    ANSWER_COMMENT_ON_LINKED,
    ANSWER_LINKED_TICKET,
    ANSWER_POSSIBLE_APPROVAL_TICKET,
    DEFAULT_ASK_PHRASES,
    MATCHED_BY_KEY,
    RULE_CLOSE,
    RULE_LINK,
    RULE_OVERDUE,
    RULE_RECEIVED,
    RULE_UNLINKED,
    ApprovalData,
    ApprovalRules,
    Approver,
    approval_ticket_marker,
    evaluate,
    find_asks,
    reminder_marker,
    split_onboarding,
)
from jobs.rules.approval_reminder import JOB as JOB_NAME

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
ANSWER_PHRASES = {
    ANSWER_COMMENT: "on the ticket",
    ANSWER_COMMENT_ON_LINKED: "on linked {ticket}",
    ANSWER_LINKED_TICKET: "by linked {ticket}",
    ANSWER_APPROVAL_TICKET: "by email, as {ticket}",
    ANSWER_POSSIBLE_APPROVAL_TICKET: "possibly by email, as {ticket} (names the organization "
    "only: check it and link it)",
}
"""How each kind of answer reads in the support alert; ``{ticket}`` is a link."""
_JQL_DATE_MARGIN = timedelta(days=1)
"""JQL dates are read in the API user's time zone; a day of margin makes that irrelevant."""


class ApprovalReminderConfig(JobConfig):
    schedule: str = "0 * * * *"
    """Hourly: a reminder goes out within the hour after the 24 hours are up."""
    remind_after: DurationField = parse_duration("24h")
    """SOP 001 step 5: 'slack David for an update within 24 hours if we don't hear back'."""
    realert: DurationField = parse_duration("24h")
    """At most one reminder per ticket per this long while he has not answered."""
    use_business_calendar: bool = False
    """False: wall-clock hours, as the SOP says. True: count working time on the desk calendar."""
    jql: str | None = None
    """Onboarding tickets to watch; null = SS tickets titled 'EverBright Partner Onboarding'
    that are not done."""
    approver_lookback: DurationField = parse_duration("14d")
    """How far back to look for tickets the approver opened by email (approval tickets)."""
    mention_names: list[str] = Field(default_factory=list)
    """Extra names that count as mentioning the approver in an ask (his people.approver name,
    email and Jira account mention always do), e.g. ["Dave Ellis"]."""
    approval_ticket_done_status: str = "Closed"
    """Status an approval ticket is moved to once linked as a duplicate."""
    ask_phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_ASK_PHRASES))
    """Words of the approval question, any case. An internal note tagging the approver is an
    ask only if it contains one (SOP 001 also tags him in "complete and live" and customer
    communication notes); an email ticket from him naming only the organization counts as
    a possible answer only if it contains one."""

    @field_validator("approver_lookback")
    @classmethod
    def _wall_lookback(cls, value: Duration) -> Duration:
        if value.is_business or value.wall <= timedelta(0):
            raise ValueError(f"{value} is not a look-back window; use days, e.g. 14d")
        return value

    @field_validator("mention_names")
    @classmethod
    def _no_blank_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("names must not be blank (a blank name would match every comment)")
        return value

    @field_validator("ask_phrases")
    @classmethod
    def _usable_phrases(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one phrase, e.g. approv: with none, nothing is an ask")
        if any(not phrase.strip() for phrase in value):
            raise ValueError("phrases must not be blank (a blank phrase would match every note)")
        return value


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


def _config(ctx: RunContext) -> ApprovalReminderConfig:
    config = ctx.job_config
    assert isinstance(config, ApprovalReminderConfig)
    return config


def _wall(duration: Duration) -> timedelta:
    return duration.wall if not duration.is_business else timedelta(days=duration.business_days)


def approver_of(person: PersonConfig | None, config: ApprovalReminderConfig) -> Approver | None:
    if person is None:
        return None
    return Approver(
        name=person.name,
        email=person.email,
        account_id=person.jira_account_id,
        mention_names=tuple(config.mention_names),
    )


def onboarding_jql(ctx: RunContext) -> str:
    from jobs.adapters.jira import jql_quote

    config = _config(ctx)
    if config.jql:
        return config.jql
    project = jql_quote(ctx.settings.desk.service_desk_project)
    # `~` is a word search; the inner quotes make it the exact phrase, as Jira reads it.
    phrase = jql_quote(f'"{ONBOARDING_SUMMARY}"')
    return f"project = {project} AND summary ~ {phrase} AND statusCategory != Done ORDER BY key"


def approver_jql(
    ctx: RunContext, approver: Approver, since: datetime, linked_keys: Sequence[str]
) -> str | None:
    """Tickets he reported since ``since`` or linked to an onboarding ticket; None if he has
    neither a Jira account id nor an email to search by."""
    from jobs.adapters.jira import jql_quote

    who = approver.account_id or approver.email
    if not who:
        return None
    project = jql_quote(ctx.settings.desk.service_desk_project)
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


# -- messages ---------------------------------------------------------------------------------


def _org(finding: Finding) -> str:
    return str(finding.facts.get("organization") or "(no organization)")


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def _head(finding: Finding) -> str:
    """The ticket link, starred for a priority installer (SOP 004: they take precedence)."""
    return f"{PRIORITY_MARK if finding.priority else ''}{ticket_link(finding)}"


def dm_line(finding: Finding) -> str:
    asked_by = finding.facts.get("asked_by") or "support"
    return (
        f"{_head(finding)} {escape(_org(finding))}: asked "
        f"{escape(finding.facts['waiting'])} ago by {escape(str(asked_by))}"
    )


def channel_ticket(finding: Finding) -> str:
    return f"{_head(finding)} ({escape(_org(finding))}, {escape(finding.facts['waiting'])})"


def _channel_line(ctx: RunContext, findings: list[Finding], text: str, *, notifies: bool) -> Action:
    limit = ctx.settings.run.max_alerts_per_message or len(findings)
    shown = ", ".join(channel_ticket(f) for f in findings[:limit])
    more = f" and {len(findings) - limit} more" if len(findings) > limit else ""
    line = f"{text} {shown}{more}"
    return Action(
        kind=ActionKind.SLACK_POST,
        target=ALERT_CHANNEL,
        findings=findings,
        text=line,
        blocks=[section(line)],
        notifies=notifies,
    )


def _could_not_dm(
    ctx: RunContext, approver: PersonConfig, findings: list[Finding], *, notifies: bool
) -> Action:
    """Someone must remind him: counts as the reminder only when there is no DM to retry."""
    text = f":warning: Could not DM {escape(approver.name)}; remind him about approval for"
    return _channel_line(ctx, findings, text, notifies=notifies)


class ApprovalReminderJob(Job[FetchResult]):
    spec = SPEC

    # -- fetch / evaluate ------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> FetchResult:
        config = _config(ctx)
        approver = approver_of(ctx.person("approver"), config)
        if approver is None:
            problem = DataProblem(
                "settings.people.approver",
                "no approver configured (name, email, jira_account_id): nothing to check",
            )
            return FetchResult(ApprovalData(()), None, (problem,))
        phrases = tuple(config.ask_phrases)
        found = list(ctx.jira.search(onboarding_jql(ctx), list(ONBOARDING_FIELDS)))
        complete = [t if t.comments_complete else ctx.jira.with_all_comments(t) for t in found]
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
        project = ctx.settings.desk.service_desk_project
        jql = approver_jql(ctx, approver, since, linked_keys(onboarding, project))
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
            approver_tickets = [
                t if t.comments_complete else ctx.jira.with_all_comments(t)
                for t in ctx.jira.search(jql, list(APPROVER_FIELDS))
            ]
        searched = {t.key for t in approver_tickets}
        approver_tickets += [t for t in his if t.key not in searched]
        data = ApprovalData(tuple(onboarding), tuple(approver_tickets))
        return FetchResult(data, approver, problems)

    def evaluate(self, data: FetchResult, ctx: RunContext) -> Evaluation:
        if data.approver is None:
            return Evaluation(findings=[], problems=list(data.problems))
        evaluation = evaluate(data.data, data.approver, ctx.now, rules_of(ctx), ctx.calendar)
        findings = [
            f if f.url else replace(f, url=ctx.browse_url(f.item)) for f in evaluation.findings
        ]
        return Evaluation(
            findings=findings,
            problems=[*data.problems, *evaluation.problems],
            examined=evaluation.examined,
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
        if not overdue:
            return []
        ordered = order_for_alert(overdue)
        if not approver.email and not approver.slack_user:
            # No way to reach him: the channel line is the reminder.
            return [_could_not_dm(ctx, approver, ordered, notifies=True)]
        first = _first_name(approver.name)
        if approver.email:
            target, kind = approver.email, ActionKind.SLACK_DM
        else:
            target, kind = str(approver.slack_user), ActionKind.SLACK_POST
        dms = grouped_alerts(
            ordered,
            channel=target,
            title=lambda _s, n: (
                f"{n} onboarding ticket{'s' if n != 1 else ''} waiting for your approval"
            ),
            line=dm_line,
            max_per_message=ctx.settings.run.max_alerts_per_message,
            footer=(
                f"Hi {escape(first)}, support asked whether these are approved to push live. "
                "Reply with a comment on the ticket, or by email naming the ticket key."
            ),
            kind=kind,
        )
        chains = []
        for dm in dms:
            reminded = order_for_alert(dm.findings)
            note = f":bell: Reminded {escape(approver.name)} by Slack DM about approval for"
            follow: list[Action] = [_channel_line(ctx, reminded, note, notifies=True)]
            if ctx.settings.actions.comment_on_reminder:
                follow += [self._reminder_comment(f, approver, ctx) for f in reminded]
            dm.then = tuple(follow)
            # Not counted as the reminder: the DM is tried again next run.
            dm.otherwise = (_could_not_dm(ctx, approver, reminded, notifies=False),)
            chains.append(dm)
        return chains

    def _support_alerts(
        self, findings: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        name = approver.name

        def title(severity: Severity, count: int) -> str:
            plural = "s" if count != 1 else ""
            if severity is Severity.WARNING:
                return f"{count} approval ticket{plural} from {name} not linked to onboarding"
            return f"{count} onboarding ticket{plural} answered by {name}"

        def line(finding: Finding) -> str:
            facts = finding.facts
            if finding.rule == RULE_UNLINKED:
                onboarding = str(facts["onboarding_ticket"])
                target = link(ctx.browse_url(onboarding), onboarding)
                if facts["matched_by"] != MATCHED_BY_KEY:
                    todo = "if it is his approval, link it as a duplicate and close it by hand"
                else:
                    todo = "link it as a duplicate and close it"
                return (
                    f"{_head(finding)} names {target} ({escape(_org(finding))}, "
                    f"by {escape(str(facts['matched_by']))}): {todo}"
                )
            cs = [str(k) for k in facts.get("cs_to_move") or []]
            cs_text = ", ".join(link(ctx.browse_url(k), k) for k in cs)
            where = str(facts["answer_ticket"])
            how = ANSWER_PHRASES.get(str(facts["answer_kind"]), "{ticket}").format(
                ticket=link(ctx.browse_url(where), where)
            )
            excerpt = str(facts.get("answer_excerpt") or "")
            quote = f" “{escape(excerpt)}”" if excerpt else ""
            move = (
                f"if approved, move {cs_text} back to To Do"
                if cs_text
                else "if approved, move its CS ticket (none linked) back to To Do"
            )
            return (
                f"{_head(finding)} {escape(_org(finding))}: {escape(name)} answered "
                f"{how}{quote} → {move}"
            )

        actions = grouped_alerts(
            findings,
            channel=ctx.alert_channel,
            title=title,
            line=line,
            max_per_message=ctx.settings.run.max_alerts_per_message,
        )
        return actions

    @staticmethod
    def _link_and_close(finding: Finding, approver: PersonConfig, ctx: RunContext) -> Action:
        """Link, explain, close, then tell the channel: each step only after the one before."""
        approval, onboarding = finding.item, str(finding.facts["onboarding_ticket"])
        mark = approval_ticket_marker(approval, onboarding)
        org = _org(finding)
        text = (
            f"{approver.name}'s answer about {onboarding} ({org}) arrived as this separate "
            f"ticket. Following SOP 001 step 5 it is linked to {onboarding} as a duplicate and "
            f"closed; continue on {onboarding}.\n\n{mark}\n"
        )
        comment = Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=approval,
            findings=[finding],
            text=text,
            marker=mark,
        )
        notice = Action(
            kind=ActionKind.SLACK_NOTICE,
            target=ALERT_CHANNEL,
            findings=[finding],
            text=(
                f"{_head(finding)} names {link(ctx.browse_url(onboarding), onboarding)} "
                f"({escape(org)}, by key): linked it as a duplicate and closed it"
            ),
            notice=Notice(
                f"Approval tickets from {approver.name} linked and closed",
                "SOP 001 step 5 · done by this job on the desk's behalf",
            ),
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

    def _reminder_comment(
        self, finding: Finding, approver: PersonConfig, ctx: RunContext
    ) -> Action:
        day = ctx.calendar.local_date(ctx.now)
        mark = reminder_marker(finding.item, day)
        asked = datetime.fromisoformat(str(finding.facts["asked_at"])).astimezone(ctx.calendar.tz)
        text = (
            f"Approval reminder sent to {approver.name} on Slack: no answer "
            f"{finding.facts['waiting']} after the internal comment of "
            f"{asked:%Y-%m-%d %H:%M %Z} asking whether the products are approved to push live."
            f"\n\n{mark}\n"
        )
        return Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=finding.item,
            findings=[finding],
            text=text,
            marker=mark,
        )


def _transition(finding: Finding, ctx: RunContext) -> Action:
    status = _config(ctx).approval_ticket_done_status
    return Action(
        kind=ActionKind.JIRA_TRANSITION,
        target=finding.item,
        findings=[finding],
        text=f"{finding.item} -> {status}",
        to_status=status,
    )


# -- settings ----------------------------------------------------------------------------------


def rules_of(ctx: RunContext) -> ApprovalRules:
    config = _config(ctx)
    return ApprovalRules(
        remind_after=config.remind_after,
        realert=_wall(config.realert),
        use_business_calendar=config.use_business_calendar,
        config_project=ctx.settings.desk.config_project,
        link_approval_tickets=ctx.settings.actions.link_approval_tickets,
        priority_installers=tuple(ctx.settings.priority_installers),
        ask_phrases=tuple(config.ask_phrases),
        comment_on_reminder=ctx.settings.actions.comment_on_reminder,
    )


JOB = ApprovalReminderJob

__all__ = ["JOB", "SPEC", "ApprovalReminderConfig", "ApprovalReminderJob", "FetchResult"]
