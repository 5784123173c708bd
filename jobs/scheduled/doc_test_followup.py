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
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from jobs.job import Job, JobSpec, Work, config_of
from jobs.model import Action, ActionKind, Evaluation, Finding, Severity
from jobs.render.alerts import grouped_alerts
from jobs.render.templates import TemplateSpec
from jobs.rules.doc_test_followup import (
    JOB_NAME,
    RULE_CLOSE_FULFILLED,
    RULE_CUSTOMER_REPLIED,
    RULE_PUBLISH,
    RULE_SECOND_EMAIL,
    RULE_SILENT_FULFILLED,
    DocTestFollowupConfig,
    PublishDetail,
    SecondEmailDetail,
    evaluate_followup,
)
from jobs.scheduled.onboard_reset_reminder import (
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


SPEC = JobSpec(
    name=JOB_NAME,
    description="Hourly: 'Doc ready to test' nudge, publish request, relay alert, silent closes",
    config_model=DocTestFollowupConfig,
    systems=frozenset({"jira", "slack"}),
    templates=(FIRST_EMAIL_TEMPLATE, SECOND_EMAIL_TEMPLATE, PUBLISH_TEMPLATE),
)


def ss_jql(ctx: RunContext, keys: list[str], config: DocTestFollowupConfig) -> str:
    """One search for both questions: the linked SS tickets, and recently fulfilled ones."""
    from jobs.adapters.jira import jql_quote

    project = f"project = {jql_quote(ctx.desk.service_desk_project)}"
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
        config = config_of(ctx, DocTestFollowupConfig)
        fields = [*CS_FIELDS, "comment"]  # the publish step's marker lives in CS comments
        on_hold = list(ctx.jira.search(on_hold_jql(ctx, config.on_hold_status), fields))
        keys = linked_keys(on_hold, ctx.desk.service_desk_project)
        jql = ss_jql(ctx, keys, config)
        found = list(ctx.jira.search(jql, list(SS_FIELDS))) if jql else []
        cs = complete_comments(ctx, on_hold)
        return OnboardData(
            on_hold_cs=[cs[t.key] for t in on_hold], ss_tickets=complete_comments(ctx, found)
        )

    def evaluate(self, data: OnboardData, ctx: RunContext) -> Evaluation:
        evaluation = evaluate_followup(
            data.on_hold_cs,
            data.ss_tickets,
            ctx.now,
            config_of(ctx, DocTestFollowupConfig),
            ctx.desk,
            ctx.calendar,
            close_silent_fulfilled=ctx.settings.actions.close_silent_fulfilled,
        )
        # Both searches read every comment: the replies' and the publish request's reference
        # lines are looked for in them, not read again.
        read = {t.key: t for t in data.on_hold_cs} | dict(data.ss_tickets)
        return replace(evaluation, tickets=read)

    def plan(self, work: Work[OnboardData], ctx: RunContext) -> list[Action]:
        from jobs.render.doc_test_followup import (
            replied_line,
            replied_title,
            silent_line,
            silent_title,
        )

        by_rule: dict[str, list[Finding]] = {}
        for finding in work.fresh:
            by_rule.setdefault(finding.rule, []).append(finding)
        actions = [self._second_email(f, ctx) for f in by_rule.get(RULE_SECOND_EMAIL, [])]
        actions += [self._publish(f, ctx) for f in by_rule.get(RULE_PUBLISH, [])]
        actions += self._alerts(
            by_rule.get(RULE_CUSTOMER_REPLIED, []),
            ctx,
            replied_title,
            replied_line(ctx.now, ctx.browse_url),
        )
        actions += [self._close(f, ctx) for f in by_rule.get(RULE_CLOSE_FULFILLED, [])]
        actions += self._alerts(
            by_rule.get(RULE_SILENT_FULFILLED, []),
            ctx,
            silent_title,
            silent_line(ctx.now, ctx.browse_url),
        )
        return actions

    # -- actions -----------------------------------------------------------------------------
    def _second_email(self, finding: Finding, ctx: RunContext) -> Action:
        detail = finding.detail_as(SecondEmailDetail)
        mark = detail.marker
        values = template_values(detail, mark)
        values["first_email_date"] = local_date(detail.first_email_at, ctx)
        text = ctx.templates.render(SECOND_EMAIL_TEMPLATE, values)
        return Action(
            kind=ActionKind.JIRA_PUBLIC_COMMENT,
            target=finding.item,
            findings=[finding],
            text=with_marker(text, mark),
            marker=mark,
        )

    def _publish(self, finding: Finding, ctx: RunContext) -> Action:
        detail = finding.detail_as(PublishDetail)
        mark = detail.marker
        text = ctx.templates.render(
            PUBLISH_TEMPLATE,
            {
                "cs_key": detail.cs_key,
                "ss_key": detail.ss_key,
                "ss_url": ctx.browse_url(detail.ss_key),
                "customer_name": detail.customer,
                "organization": detail.organization,
                "first_email_date": local_date(detail.first_email_at, ctx),
                "second_email_date": local_date(detail.second_email_at, ctx),
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
            to_status=config_of(ctx, DocTestFollowupConfig).closed_status,
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


JOB = DocTestFollowupJob
