"""Hourly: the follow-up on a document the customer is testing on Onboard (SOP 003).

From the "Onboard: Doc ready to test - first email" found on the SS ticket:
- 3 days silent -> public comment "Onboard: Doc ready to test - second email" (the nudge);
- 1 more day silent -> internal comment on the CS ticket: publish the document on Engine;
- the customer replied -> Slack: relay it to the CS ticket (SOP 2.1); the sequence stops.

And from part 1: an SS ticket Jira marked fulfilled, with no word from the customer for 24 h,
is closed when ``actions.close_silent_fulfilled`` is on, else listed in Slack.

Every reply ends with a reference line (``Ref: SS-412 · doc-test-second-email · <first email
id>``) that the pipeline looks for in the ticket before sending, so a rerun, a crash between
sending and recording, or a lost ledger never sends twice. The first email's comment id is
in it, so a new first email (a new test round) starts a new sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, ActionKind, Evaluation, Finding, Severity
from jobs.render.alerts import grouped_alerts
from jobs.render.slack import escape, link
from jobs.render.templates import TemplateSpec
from jobs.render.words import human_duration, plural
from jobs.rules.onboard_testing import (
    FOLLOWUP_JOB,
    RULE_CLOSE_FULFILLED,
    RULE_CUSTOMER_REPLIED,
    RULE_PUBLISH,
    RULE_SECOND_EMAIL,
    RULE_SILENT_FULFILLED,
    FollowupPolicy,
    evaluate_followup,
)
from jobs.tasks.onboard_reset_reminder import (
    CS_FIELDS,
    OnboardData,
    complete_comments,
    keys_clause,
    linked_keys,
    local_date,
    on_hold_jql,
    template_values,
    with_marker,
)

if TYPE_CHECKING:
    from jobs.context import RunContext

SS_FIELDS = (
    "summary",
    "status",
    "reporter",
    "comment",
    "Organizations",
    "labels",
    "issuelinks",
    "resolutiondate",
    "updated",
)

FIRST_EMAIL_TEMPLATE = TemplateSpec(
    "Onboard: Doc ready to test - first email",
    frozenset({"customer_name", "organization", "ticket_key", "request_summary", "marker"}),
)
SECOND_EMAIL_TEMPLATE = TemplateSpec(
    "Onboard: Doc ready to test - second email",
    frozenset(
        {
            "customer_name",
            "organization",
            "ticket_key",
            "request_summary",
            "first_email_date",
            "marker",
        }
    ),
)
PUBLISH_TEMPLATE = TemplateSpec(
    "Onboard: Publish on Engine",
    frozenset(
        {
            "cs_key",
            "ss_key",
            "ss_url",
            "customer_name",
            "organization",
            "first_email_date",
            "second_email_date",
            "marker",
        }
    ),
)


class DocTestFollowupConfig(JobConfig):
    schedule: str = "0 * * * *"
    on_hold_status: str = "On Hold"
    """CS status that means 'ready to test on Onboard' (SOP 003, 2.1)."""
    link_types: list[str] = Field(default_factory=list)
    """Link types that join a CS ticket to its SS ticket; empty = any type, either direction."""
    document_subjects: list[str] = Field(default_factory=lambda: ["Document Survey"])
    """SS summaries that mark a document request (SOP 003); other On Hold CS tickets (e.g. an
    onboarding waiting for approval, SOP 001) are not Onboard tests. Empty = any ticket."""
    nudge_after: DurationField = parse_duration("3d")
    """SOP: 'If they don't respond in 3 days': calendar days, even on a business-hours desk
    (``3bd`` counts business days)."""
    publish_after: DurationField = parse_duration("1d")
    """SOP: 'After one more day, comment on the CS ticket'."""
    silent_close_after: DurationField = parse_duration("24h")
    """SOP part 1: 'If you don't hear back from the customer within 24 hours, close the ticket'."""
    fulfilled_statuses: list[str] = Field(default_factory=lambda: ["Resolved"])
    """SS statuses Jira sets when it tells the customer the request is fulfilled."""
    closed_status: str = "Closed"
    fulfilled_lookback: DurationField = parse_duration("30d")
    """Only fulfilled tickets updated this recently are read (keeps the search small)."""
    first_email_texts: list[str] = Field(
        default_factory=lambda: ["ready to test on Onboard", "Doc ready to test - first email"]
    )
    """How a first email sent by hand (JSM canned response) is recognised: its distinctive text."""
    second_email_texts: list[str] = Field(
        default_factory=lambda: [
            "is still waiting for your review on Onboard",
            "Doc ready to test - second email",
        ]
    )
    """How a nudge sent by hand is recognised, so the job does not send it again."""


SPEC = JobSpec(
    name=FOLLOWUP_JOB,
    description="Hourly: 'Doc ready to test' nudge, publish request, relay alert, silent closes",
    config_model=DocTestFollowupConfig,
    systems=frozenset({"jira", "slack"}),
    templates=(FIRST_EMAIL_TEMPLATE, SECOND_EMAIL_TEMPLATE, PUBLISH_TEMPLATE),
)


def _config(ctx: RunContext) -> DocTestFollowupConfig:
    config = ctx.job_config
    assert isinstance(config, DocTestFollowupConfig)
    return config


def ss_jql(ctx: RunContext, keys: list[str], config: DocTestFollowupConfig) -> str:
    """One search for both questions: the linked SS tickets, and recently fulfilled ones."""
    from jobs.adapters.jira import jql_quote

    project = f"project = {jql_quote(ctx.settings.desk.service_desk_project)}"
    statuses = ", ".join(jql_quote(s) for s in config.fulfilled_statuses)
    # An absolute date from the run's `now` (not Jira's '-30d'), so a replay with --now reads
    # what that run read; a day of slack covers Jira reading the date in its own timezone.
    since = (ctx.now - config.fulfilled_lookback.wall - timedelta(days=1)).date().isoformat()
    fulfilled = f"status in ({statuses}) AND updated >= {jql_quote(since)}" if statuses else ""
    wanted = [c for c in (keys_clause(keys) if keys else "", fulfilled) if c]
    if not wanted:
        return ""
    either = " OR ".join(f"({c})" for c in wanted)
    return f"{project} AND ({either}) ORDER BY key"


class DocTestFollowupJob(Job[OnboardData]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> OnboardData:
        config = _config(ctx)
        fields = [*CS_FIELDS, "comment"]  # the publish step's marker lives in CS comments
        on_hold = list(ctx.jira.search(on_hold_jql(ctx, config.on_hold_status), fields))
        keys = linked_keys(on_hold, ctx.settings.desk.service_desk_project)
        jql = ss_jql(ctx, keys, config)
        found = list(ctx.jira.search(jql, list(SS_FIELDS))) if jql else []
        cs = complete_comments(ctx, on_hold)
        return OnboardData(
            on_hold_cs=[cs[t.key] for t in on_hold], ss_tickets=complete_comments(ctx, found)
        )

    def evaluate(self, data: OnboardData, ctx: RunContext) -> Evaluation:
        config = _config(ctx)
        policy = FollowupPolicy(
            service_desk_project=ctx.settings.desk.service_desk_project,
            config_project=ctx.settings.desk.config_project,
            link_types=tuple(config.link_types),
            document_subjects=tuple(config.document_subjects),
            nudge_after=config.nudge_after,
            publish_after=config.publish_after,
            silent_close_after=config.silent_close_after,
            first_email_texts=tuple(config.first_email_texts),
            second_email_texts=tuple(config.second_email_texts),
            fulfilled_statuses=tuple(config.fulfilled_statuses),
            close_silent_fulfilled=ctx.settings.actions.close_silent_fulfilled,
            list_again_after=config.realert.wall or timedelta(hours=24),
        )
        return evaluate_followup(data.on_hold_cs, data.ss_tickets, ctx.now, policy, ctx.calendar)

    def plan(self, work: Work[OnboardData], ctx: RunContext) -> list[Action]:
        by_rule: dict[str, list[Finding]] = {}
        for finding in work.fresh:
            by_rule.setdefault(finding.rule, []).append(finding)
        actions = [self._second_email(f, ctx) for f in by_rule.get(RULE_SECOND_EMAIL, [])]
        actions += [self._publish(f, ctx) for f in by_rule.get(RULE_PUBLISH, [])]
        actions += self._alerts(
            by_rule.get(RULE_CUSTOMER_REPLIED, []),
            ctx,
            lambda s, n: (
                f"{plural(n, 'customer')} answered 'Doc ready to test': relay to the CS ticket"
            ),
            self._reply_line(ctx),
        )
        actions += [self._close(f, ctx) for f in by_rule.get(RULE_CLOSE_FULFILLED, [])]
        actions += self._alerts(
            by_rule.get(RULE_SILENT_FULFILLED, []),
            ctx,
            lambda s, n: f"{plural(n, 'fulfilled ticket')} with no customer reply: close them",
            self._silent_line(ctx),
        )
        return actions

    # -- actions -----------------------------------------------------------------------------
    def _second_email(self, finding: Finding, ctx: RunContext) -> Action:
        mark = finding.facts["marker"]
        values = template_values(finding.facts, mark)
        values["first_email_date"] = local_date(_instant(finding.facts["first_email_at"]), ctx)
        text = ctx.templates.render(SECOND_EMAIL_TEMPLATE, values)
        return Action(
            kind=ActionKind.JIRA_PUBLIC_COMMENT,
            target=finding.item,
            findings=[finding],
            text=with_marker(text, mark),
            marker=mark,
        )

    def _publish(self, finding: Finding, ctx: RunContext) -> Action:
        facts = finding.facts
        mark = facts["marker"]
        text = ctx.templates.render(
            PUBLISH_TEMPLATE,
            {
                "cs_key": facts["cs_key"],
                "ss_key": facts["ss_key"],
                "ss_url": ctx.browse_url(facts["ss_key"]),
                "customer_name": facts.get("customer") or "",
                "organization": facts.get("organization") or "",
                "first_email_date": local_date(_instant(facts["first_email_at"]), ctx),
                "second_email_date": local_date(_instant(facts["second_email_at"]), ctx),
                "marker": mark,
            },
        )
        return Action(
            kind=ActionKind.JIRA_INTERNAL_COMMENT,
            target=finding.item,
            findings=[finding],
            text=with_marker(text, mark),
            marker=mark,
        )

    def _close(self, finding: Finding, ctx: RunContext) -> Action:
        return Action(
            kind=ActionKind.JIRA_TRANSITION,
            target=finding.item,
            findings=[finding],
            to_status=_config(ctx).closed_status,
        )

    def _alerts(
        self,
        findings: list[Finding],
        ctx: RunContext,
        title: Callable[[Severity, int], str],
        line: Callable[[Finding], str],
    ) -> list[Action]:
        if not findings:
            return []
        return grouped_alerts(
            findings,
            channel=ctx.alert_channel,
            title=title,
            line=line,
            max_per_message=ctx.settings.run.max_alerts_per_message,
        )

    @staticmethod
    def _ticket(finding: Finding, key: str, ctx: RunContext) -> str:
        url = finding.url if finding.item == key and finding.url else ctx.browse_url(key)
        return link(url, key)

    def _reply_line(self, ctx: RunContext) -> Callable[[Finding], str]:
        def line(finding: Finding) -> str:
            facts = finding.facts
            org = f" ({escape(facts['organization'])})" if facts.get("organization") else ""
            ago = human_duration(ctx.now - _instant(facts["reply_at"]))
            cs = ", ".join(self._ticket(finding, k, ctx) for k in facts["cs_keys"])
            return (
                f"{self._ticket(finding, finding.item, ctx)}{org} replied {ago} ago: "
                f"“{escape(facts['reply_excerpt'])}” → internal comment on {cs}, then To Do"
            )

        return line

    def _silent_line(self, ctx: RunContext) -> Callable[[Finding], str]:
        def line(finding: Finding) -> str:
            facts = finding.facts
            org = f" ({escape(facts['organization'])})" if facts.get("organization") else ""
            quiet = human_duration(ctx.now - _instant(facts["silent_since"]))
            return (
                f"{self._ticket(finding, finding.item, ctx)}{org} {escape(facts['status'])}, "
                f"no reply for {quiet}: {escape(facts['summary'])}"
            )

        return line


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


JOB = DocTestFollowupJob
