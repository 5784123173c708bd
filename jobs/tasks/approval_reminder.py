"""SOP 001 step 5: remind the approver, tidy up approval tickets, tell support when he answered.

Two searches per run at most: the open onboarding tickets with their comments (the rest of
the comments paged only where the search truncated them), and the tickets the approver
reported recently or that are linked to an onboarding ticket. Everything else is decided in
memory by `jobs.rules.approval_reminder`.

What is sent:

- a Slack DM to the approver listing the tickets waiting for him (key, organization, how
  long), re-sent at most every ``realert`` per ticket and ask; then one line in the alert
  channel saying he was reminded (or that the DM failed and someone must remind him), and,
  with ``actions.comment_on_reminder``, an internal comment on each ticket recording it;
- an alert with both keys when an approval ticket came in by email and is not linked; with
  ``actions.link_approval_tickets`` the job links it ("duplicates" the onboarding ticket),
  comments on it and closes it, but only when it names the onboarding or CS key: one that
  names only the organization is left for a person to link;
- once per ticket, "approval answered: the CS ticket can go back to To Do".

Steps that depend on an earlier send are crash-safe through ledger state written *before*
that send: a reminder's note and comment are owed once the ledger records its DM (state
``<key>#reminder@<instant>``), whichever run gets to them; an approval ticket the job links
(state ``linked_to``) is moved to done only after its explanatory comment is on it, and later
runs finish what an interrupted one left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from jobs.config import JobConfig, PersonConfig
from jobs.durations import Duration, DurationField, parse_duration
from jobs.job import Job, JobSpec
from jobs.model import Action, ActionKind, DataProblem, Evaluation, Finding, Severity, Ticket
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
    RULE_REMINDED,
    RULE_REMINDER_COMMENT,
    RULE_UNLINKED,
    ApprovalData,
    ApprovalRules,
    Approver,
    JobLink,
    SentReminder,
    approval_ticket_marker,
    evaluate,
    find_asks,
    follow_up_episode,
    follow_up_findings,
    has_approval_ticket_comment,
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
    unreadable_states: tuple[str, ...] = ()
    states: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    """The job's ledger states as read at the start of the run."""


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


@dataclass
class _Progress:
    """What this run's sends achieved, filled in by the actions' ``on_done``; read by
    `after_run` to plan the steps that must wait for them."""

    planned: list[Finding] = field(default_factory=list)
    """Reminders planned this run, ordered for the alert."""
    sent: set[str] = field(default_factory=set)
    dm_possible: bool = True
    closing: list[Finding] = field(default_factory=list)
    """Approval tickets to move to done once their comment is posted."""
    commented: set[str] = field(default_factory=set)


class ApprovalReminderJob(Job):
    spec = SPEC

    def __init__(self) -> None:
        self._progress = _Progress()

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
        states = ctx.ledger.open_states(JOB_NAME)
        linked_by_job = job_links(states)
        reminders, unreadable = sent_reminders(ctx, states)
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
            data = ApprovalData(tuple(onboarding), linked_by_job=linked_by_job, reminders=reminders)
            return FetchResult(data, approver, unreadable_states=unreadable, states=states)
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
        data = ApprovalData(tuple(onboarding), tuple(approver_tickets), linked_by_job, reminders)
        return FetchResult(data, approver, problems, unreadable, states)

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
    def plan(self, findings: list[Finding], ctx: RunContext) -> list[Action]:
        approver = ctx.person("approver")
        if not findings or approver is None:
            return []
        by_rule: dict[str, list[Finding]] = {}
        for finding in findings:
            by_rule.setdefault(finding.rule, []).append(finding)
        actions = self._reminder_dms(by_rule.get(RULE_OVERDUE, []), approver, ctx)
        actions += self._support_alerts(
            by_rule.get(RULE_UNLINKED, []) + by_rule.get(RULE_RECEIVED, []), approver, ctx
        )
        actions += [self._link(f, ctx) for f in by_rule.get(RULE_LINK, [])]
        for finding in by_rule.get(RULE_CLOSE, []):
            actions += self._close(finding, approver, ctx)
        # Follow-ups of reminders sent by earlier runs that did not get to them.
        actions += self._follow_ups(
            by_rule.get(RULE_REMINDED, []) + by_rule.get(RULE_REMINDER_COMMENT, []),
            approver,
            ctx,
        )
        return actions

    def _reminder_dms(
        self, overdue: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        self._progress.planned = order_for_alert(overdue)
        if not overdue:
            return []
        if not approver.email and not approver.slack_user:
            # No way to reach him: the channel line is the reminder, and it is what gets recorded.
            self._progress.dm_possible = False
            return [self._could_not_dm(ctx, approver, self._progress.planned, record=True)]
        first = _first_name(approver.name)
        if approver.email:
            target, kind = approver.email, ActionKind.SLACK_DM
        else:
            target, kind = str(approver.slack_user), ActionKind.SLACK_POST
        actions = grouped_alerts(
            overdue,
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
        for action in actions:
            action.on_done = self._remember_sent(action.findings)
        if not ctx.dry_run:
            # Before the send: a run killed right after the DM is recorded never reaches its
            # note and comment, and this state is how the next run learns they are owed.
            for finding in overdue:
                reminder = reminder_of(finding, ctx)
                ctx.ledger.put_state(
                    JOB_NAME,
                    reminder_state_item(reminder),
                    reminder_state(reminder),
                    now=ctx.now,
                )
        return actions

    def _remember_sent(self, findings: list[Finding]) -> Callable[[dict[str, Any]], None]:
        def done(_result: dict[str, Any]) -> None:
            self._progress.sent.update(f.item for f in findings)

        return done

    @staticmethod
    def _channel_line(ctx: RunContext, findings: list[Finding], text: str, record: bool) -> Action:
        limit = ctx.settings.run.max_alerts_per_message
        shown = ", ".join(channel_ticket(f) for f in findings[:limit])
        more = f" and {len(findings) - limit} more" if len(findings) > limit else ""
        line = f"{text} {shown}{more}"
        return Action(
            kind=ActionKind.SLACK_POST,
            target=ctx.alert_channel,
            findings=findings,
            text=line,
            blocks=[section(line)],
            record_findings=record,
        )

    def _reminded(self, ctx: RunContext, approver: PersonConfig, notes: list[Finding]) -> Action:
        """The line in the alert channel saying he was reminded (its own finding per DM)."""
        text = f":bell: Reminded {escape(approver.name)} by Slack DM about approval for"
        return self._channel_line(ctx, notes, text, record=True)

    def _could_not_dm(
        self, ctx: RunContext, approver: PersonConfig, failed: list[Finding], *, record: bool
    ) -> Action:
        """Someone must remind him: recorded only when there is no DM to retry."""
        text = f":warning: Could not DM {escape(approver.name)}; remind him about approval for"
        return self._channel_line(ctx, failed, text, record=record)

    def _support_alerts(
        self, findings: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        linking = ctx.settings.actions.link_approval_tickets
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
                elif linking:
                    todo = "linking it as a duplicate and closing it"
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

        return grouped_alerts(
            findings,
            channel=ctx.alert_channel,
            title=title,
            line=line,
            max_per_message=ctx.settings.run.max_alerts_per_message,
        )

    @staticmethod
    def _link(finding: Finding, ctx: RunContext) -> Action:
        approval, onboarding = finding.item, str(finding.facts["onboarding_ticket"])
        if not ctx.dry_run and not finding.facts.get("approval_done"):
            # Written before the link: if the run dies or a later step fails after it, the
            # next run must still know this link is the job's own and finish closing the ticket.
            state = link_state(ctx.ledger.get_state(JOB_NAME, approval), finding, ctx.now)
            ctx.ledger.put_state(JOB_NAME, approval, state, now=ctx.now)
        return Action(
            kind=ActionKind.JIRA_LINK,
            target=approval,
            findings=[finding],
            text=f"{approval} duplicates {onboarding}",
            # Jira's REST quirk: the *inward* issue is the one that reads with the outward
            # phrase, so inward=approval shows "SS-340 duplicates SS-301".
            payload={"inward_key": approval, "outward_key": onboarding, "link_type": LINK_TYPE},
        )

    def _close(self, finding: Finding, approver: PersonConfig, ctx: RunContext) -> list[Action]:
        """The explanatory comment now; the transition in `after_run`, once it is posted."""
        approval = finding.item
        if finding.facts.get("comment_on_ticket"):
            return [] if finding.facts.get("approval_done") else [_transition(finding, ctx)]
        onboarding = [str(k) for k in finding.facts["onboarding_tickets"]]
        mark = approval_ticket_marker(approval, onboarding[0])
        org = _org(finding)
        text = (
            f"{approver.name}'s answer about {', '.join(onboarding)} ({org}) arrived as this "
            f"separate ticket. Following SOP 001 step 5 it is linked to {onboarding[0]} as a "
            f"duplicate and closed; continue on {onboarding[0]}.\n\n{mark}\n"
        )
        if not finding.facts.get("approval_done"):
            self._progress.closing.append(finding)

        def commented(_result: dict[str, Any]) -> None:
            self._progress.commented.add(approval)

        return [
            Action(
                kind=ActionKind.JIRA_INTERNAL_COMMENT,
                target=approval,
                findings=[finding],
                text=text,
                marker=mark,
                on_done=commented,
            )
        ]

    def _follow_ups(
        self, findings: list[Finding], approver: PersonConfig, ctx: RunContext
    ) -> list[Action]:
        notes = order_for_alert([f for f in findings if f.rule == RULE_REMINDED])
        actions = [self._reminded(ctx, approver, notes)] if notes else []
        actions += [
            self._reminder_comment(f, approver, ctx)
            for f in findings
            if f.rule == RULE_REMINDER_COMMENT
        ]
        return actions

    # -- after the sends -------------------------------------------------------------------
    def after_run(self, ctx: RunContext, data: Any, evaluation: Evaluation) -> list[Action]:
        actions: list[Action] = []
        approver = ctx.person("approver")
        planned = self._progress.planned
        if approver is not None and planned and self._progress.dm_possible:
            sent = [f for f in planned if ctx.dry_run or f.item in self._progress.sent]
            failed = [f for f in planned if f not in sent]
            follow_ups = _claimed(ctx, [fu for f in sent for fu in _follow_ups_of(f, ctx)])
            actions += self._follow_ups(follow_ups, approver, ctx)
            if failed:
                # Not recorded: the DM itself is retried next run.
                actions.insert(0, self._could_not_dm(ctx, approver, failed, record=False))
        actions += [
            _transition(f, ctx)
            for f in self._progress.closing
            if ctx.dry_run or f.item in self._progress.commented
        ]
        if isinstance(data, FetchResult) and not ctx.dry_run:
            _forget_settled(ctx, data)
        return actions

    def _reminder_comment(
        self, finding: Finding, approver: PersonConfig, ctx: RunContext
    ) -> Action:
        day = date.fromisoformat(str(finding.facts["reminder_day"]))
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
        payload={"to_status": status},
    )


def _follow_ups_of(finding: Finding, ctx: RunContext) -> list[Finding]:
    """The note and comment owed for a reminder this run has just sent."""
    reminder = replace(reminder_of(finding, ctx), dm_recorded_at=ctx.now)
    owed = reminder.owed(ctx.now, ctx.settings.actions.comment_on_reminder)
    return follow_up_findings(reminder, owed, rules_of(ctx))


def _claimed(ctx: RunContext, findings: list[Finding]) -> list[Finding]:
    """The follow-ups this run may send. A run overlapping this one may have found the state
    written before the DM and be sending them already: the ledger claim decides, as the
    pipeline's dedup does for findings. A claim of a send that then fails lapses after
    ``ledger.claim_ttl``, and a later run sends it."""
    if ctx.dry_run:
        return findings
    ttl = ctx.settings.ledger.claim_ttl.wall
    return [
        f
        for f in findings
        if ctx.ledger.claim(
            f.job,
            f.rule,
            f.item,
            f.episode,
            now=ctx.now,
            realert=f.realert,
            run_id=ctx.run_id,
            claim_ttl=ttl,
        )
    ]


def _forget_settled(ctx: RunContext, fetched: FetchResult) -> None:
    """Drop the ledger states nothing more will come of (as they were read at the start)."""
    data = fetched.data
    switch = ctx.settings.actions.comment_on_reminder
    ttl = ctx.settings.ledger.claim_ttl.wall
    for reminder in data.reminders:
        if reminder.settled(ctx.now, switch, ttl):
            ctx.ledger.put_state(JOB_NAME, reminder_state_item(reminder), None, now=ctx.now)
    for item in fetched.unreadable_states:
        ctx.ledger.put_state(JOB_NAME, item, None, now=ctx.now)
    tickets = {t.key: t for t in data.approver_tickets}
    lookback = _config(ctx).approver_lookback.wall
    for key in data.linked_by_job:
        ticket = tickets.get(key)
        if ticket is not None:
            finished = ticket.is_done and has_approval_ticket_comment(ticket)
        else:
            # Not among his recent or linked tickets any more: nothing left to find it by.
            at = _state_time(fetched.states.get(key, {}).get("at"))
            finished = at is None or ctx.now - at > lookback
        if finished:
            ctx.ledger.put_state(JOB_NAME, key, None, now=ctx.now)


# -- ledger state ------------------------------------------------------------------------------


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


def _state_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def link_state(previous: dict[str, Any] | None, finding: Finding, now: datetime) -> dict[str, Any]:
    """The ledger state of an approval ticket the job links: the first onboarding ticket it is
    linked to, and every key it named (a ticket naming several keys gets several links)."""
    onboarding = str(finding.facts["onboarding_ticket"])
    named = [onboarding, *[str(k) for k in finding.facts.get("cs_tickets") or []]]
    if previous and previous.get("linked_to"):
        named = [*[str(k) for k in previous.get("named_keys") or []], *named]
        return previous | {"named_keys": sorted(set(named))}
    return {
        "linked_to": onboarding,
        "named_keys": sorted(set(named)),
        "organization": finding.facts.get("organization"),
        "at": now.isoformat(),
    }


def job_links(states: dict[str, dict[str, Any]]) -> dict[str, JobLink]:
    return {
        key: JobLink(
            approval_key=key,
            onboarding_key=str(state["linked_to"]),
            named_keys=tuple(str(k) for k in state.get("named_keys") or ()),
            organization=state.get("organization"),
        )
        for key, state in states.items()
        if state.get("linked_to")
    }


def reminder_of(finding: Finding, ctx: RunContext) -> SentReminder:
    """The reminder this run sends for an overdue finding, as its ledger state describes it."""
    return SentReminder(
        ticket_key=finding.item,
        episode=finding.episode,
        planned_at=ctx.now,
        day=ctx.now.astimezone(ctx.calendar.tz).date(),
        facts=dict(finding.facts),
        url=finding.url,
        priority=finding.priority,
        wants_comment=ctx.settings.actions.comment_on_reminder,
    )


def reminder_state_item(reminder: SentReminder) -> str:
    """One ledger state per reminder sent, so a new one never overwrites one still owed."""
    at = reminder.planned_at.astimezone(UTC).isoformat(timespec="microseconds")
    return f"{reminder.ticket_key}#reminder@{at}"


def reminder_state(reminder: SentReminder) -> dict[str, Any]:
    return {
        "reminder": {
            "ticket": reminder.ticket_key,
            "episode": reminder.episode,
            "planned_at": reminder.planned_at.isoformat(timespec="microseconds"),
            "day": reminder.day.isoformat(),
            "wants_comment": reminder.wants_comment,
            "url": reminder.url,
            "priority": reminder.priority,
            "facts": dict(reminder.facts),
        }
    }


def sent_reminders(
    ctx: RunContext, states: dict[str, dict[str, Any]]
) -> tuple[tuple[SentReminder, ...], tuple[str, ...]]:
    """The reminders of earlier runs, with what the ledger recorded of their DM, note and
    comment; and the items of states too damaged to read (dropped after the run)."""
    reminders: list[SentReminder] = []
    unreadable: list[str] = []
    for item, state in sorted(states.items()):
        if "reminder" not in state:
            continue
        try:
            raw = state["reminder"]
            reminder = SentReminder(
                ticket_key=str(raw["ticket"]),
                episode=str(raw["episode"]),
                planned_at=datetime.fromisoformat(raw["planned_at"]),
                day=date.fromisoformat(raw["day"]),
                facts=dict(raw.get("facts") or {}),
                url=raw.get("url"),
                priority=bool(raw.get("priority")),
                wants_comment=bool(raw.get("wants_comment")),
            )
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable reminder state %s: dropped", item, extra=ctx.extra())
            unreadable.append(item)
            continue
        key, episode = reminder.ticket_key, reminder.episode
        follow_up = follow_up_episode(episode, reminder.planned_at)
        reminders.append(
            replace(
                reminder,
                dm_recorded_at=ctx.ledger.last_sent(JOB_NAME, RULE_OVERDUE, key, episode),
                note_recorded=ctx.ledger.last_sent(JOB_NAME, RULE_REMINDED, key, follow_up)
                is not None,
                comment_recorded=reminder.wants_comment
                and ctx.ledger.last_sent(JOB_NAME, RULE_REMINDER_COMMENT, key, follow_up)
                is not None,
            )
        )
    return tuple(reminders), tuple(unreadable)


JOB = ApprovalReminderJob

__all__ = ["JOB", "SPEC", "ApprovalReminderConfig", "ApprovalReminderJob", "FetchResult"]
