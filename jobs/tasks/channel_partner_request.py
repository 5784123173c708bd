"""channel_partner_request: SOP 002's CS task for each channel partner request, then the reply.

Reads (two paged searches a run):
- open SS tickets whose summary has the request's words (``summary_search``), with links,
  comments and the legacy `CS_TASK_PROPERTY` property (free: same search); the title
  pattern decides what is a request;
- CS tasks that are open and linked to one of them or carry the request's words in their
  summary (a hand-made task never linked), or, in any status, carry the `cs_task_label` of a
  request without a linked CS task (a task this job created but never linked). The label
  clause rides in the same search (a further search per 100 labels beyond the first 100).

Acts, each as a chain the pipeline finishes across runs (a failed or interrupted step is
resumed, never repeated):
- by default, one grouped Slack alert per severity: requests without a CS task, CS tasks
  with wrong fields, and requests whose CS work is done so the customer can be told;
- ``actions.create_cs_tasks``: create the CS task (carrying the label ``sla-monitor-SS-x``),
  link it to the request, then a notice line; a task that exists already (labelled for the
  request, in the legacy property, or made by hand with the same title) is linked instead;
- ``actions.reply_channel_partner``: "New Channel Req 2" as a public comment carrying the
  reply marker (added when a desk's template lacks it), then a notice line; only to a reporter
  who is the customer (else support is told to send it from CXone, see the rule's *who gets
  the reply*).

Exactly once, for the CS task: before creating, the pipeline searches the CS project for the
request's label (a task an overlapping or crashed run created), and a create whose outcome
is unknown is confirmed the same way; the link is checked on the request before it is made.
Jira's search index can lag a write by a few seconds; the ledger's claims cover the runs in
between. The notices of one run go out as one grouped message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.job import Job, JobSpec, Work
from jobs.model import (
    ALERT_CHANNEL,
    Action,
    ActionKind,
    Evaluation,
    Finding,
    LinkSpec,
    Notice,
    Person,
    Ref,
    Severity,
    StatusCategory,
)
from jobs.render.templates import TemplateSpec
from jobs.render.words import plural
from jobs.rules.channel_partner_request import (
    CS_TASK_PROPERTY,
    DEFAULT_TITLE_PATTERN,
    REPLY_TEMPLATE,
    RULE_CREATE,
    RULE_FIELDS,
    RULE_MISSING,
    RULE_REPLY,
    RULE_REPLY_DUE,
    RULE_UNLINKED,
    ChannelPartnerData,
    ChannelPartnerRules,
    ExpectedDates,
    compile_title_pattern,
    cs_task_fields,
    cs_task_label,
    evaluate_requests,
    has_cs_link,
    request_org,
)
from jobs.rules.channel_partner_request import (
    JOB as JOB_NAME,
)
from jobs.tasks.onboard_reset_reminder import with_marker

if TYPE_CHECKING:
    from jobs.context import RunContext
    from jobs.model import Ticket

log = logging.getLogger(__name__)

REQUEST_FIELDS = (
    "summary",
    "status",
    "created",
    "description",
    "reporter",
    "labels",
    "Organizations",
    "issuelinks",
    "comment",
)
CS_FIELDS = (
    "summary",
    "status",
    "created",
    "issuetype",
    "priority",
    "description",
    "parent",
    "labels",
    "issuelinks",
    "duedate",
    "Configuration Date",
    "QA Due Date",
    "QA Assignee",
)
JQL_BATCH = 100
"""Values per JQL ``in (...)`` list: keeps each query well inside Jira's limits."""

REPLY_FOOTER = (
    'SOP 002 · check the CS ticket for outstanding issues, then send "New Channel Req 2" '
    "(keep its Ref line: it tells this job the customer was told)"
)
HANDLED_TITLE = "Channel partner requests handled (SOP 002)"
HANDLED_FOOTER = (
    "SOP 002 · done by this job on the desk's behalf: no need to create these tasks or send "
    "these replies by hand"
)
REPLY_SPEC = TemplateSpec(REPLY_TEMPLATE, frozenset({"customer_name", "org", "ss_key", "marker"}))


class ChannelPartnerRequestConfig(JobConfig):
    schedule: str = "*/15 * * * *"
    title_pattern: str = DEFAULT_TITLE_PATTERN
    """SOP 002: 'The ticket subject line will read: A New Channel Partner Request for [org]'.
    A regular expression (case-insensitive); its ``org`` group names the organization."""
    summary_search: str = "New Channel Partner Request"
    """Words every request's summary contains: the JQL text search that narrows the read."""
    grace: DurationField = parse_duration("1h")
    """Time for an agent to create (or fix) the CS task by hand before support is alerted."""
    onboarding_epic: str = "CS-1"
    """Key of the 'Configuration Partner/Product Onboarding' epic: the CS task's parent."""
    cs_issue_type: str = "Task"
    cs_priority: str = "High"
    link_type: str = "Relates"
    due_business_days: int = Field(3, ge=0, le=60)
    configuration_business_days: int = Field(2, ge=0, le=60)
    qa_business_days: int = Field(3, ge=0, le=60)

    @field_validator("title_pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("onboarding_epic")
    @classmethod
    def _issue_key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]+-\d+", value):
            raise ValueError(f"{value!r} is not an issue key (e.g. CS-1)")
        return value

    @field_validator("grace")
    @classmethod
    def _wall_clock(cls, value: Any) -> Any:
        if value.is_business:
            raise ValueError("grace is a time (e.g. 1h), not business days")
        return value

    @field_validator("summary_search")
    @classmethod
    def _words(cls, value: str) -> str:
        if not re.search(r"\w", value):
            raise ValueError("summary_search needs at least one word")
        return value


SPEC = JobSpec(
    name=JOB_NAME,
    description="SOP 002: a CS task for each channel partner request, then the customer reply",
    config_model=ChannelPartnerRequestConfig,
    systems=frozenset({"jira", "slack"}),
    templates=(REPLY_SPEC,),
)


def _jql_words(text: str) -> str:
    # JQL's text search treats - + & | ! ( ) { } [ ] ^ ~ * ? \ : " as operators; the words alone
    # say the same thing and cannot break the query.
    return " ".join(re.findall(r"\w+", text))


def _batches(values: list[str]) -> list[list[str]]:
    return [values[i : i + JQL_BATCH] for i in range(0, len(values), JQL_BATCH)]


def _jql_list(values: list[str]) -> str:
    from jobs.adapters.jira import jql_quote

    return ", ".join(jql_quote(v) for v in values)


def rules_from(ctx: RunContext) -> ChannelPartnerRules:
    cfg: ChannelPartnerRequestConfig = ctx.job_config  # type: ignore[assignment]
    qa = ctx.person("qa_assignee")
    onboarding = ctx.person("onboarding_reporter")
    return ChannelPartnerRules(
        title_pattern=cfg.title_pattern,
        grace=cfg.grace.wall,
        config_project=ctx.settings.desk.config_project,
        onboarding_epic=cfg.onboarding_epic,
        issue_type=cfg.cs_issue_type,
        priority=cfg.cs_priority,
        qa_assignee=(
            Person(account_id=qa.jira_account_id, display_name=qa.name, email=qa.email)
            if qa is not None
            else None
        ),
        due_business_days=cfg.due_business_days,
        configuration_business_days=cfg.configuration_business_days,
        qa_business_days=cfg.qa_business_days,
        create_cs_tasks=ctx.settings.actions.create_cs_tasks,
        reply_channel_partner=ctx.settings.actions.reply_channel_partner,
        realert=cfg.realert.wall,
        priority_installers=tuple(ctx.settings.priority_installers),
        onboarding_reporter=(
            Person(
                account_id=onboarding.jira_account_id,
                display_name=onboarding.name,
                email=onboarding.email,
            )
            if onboarding is not None
            else None
        ),
    )


def _alert_line(finding: Finding) -> str:
    from jobs.render.alerts import PRIORITY_MARK, ticket_link
    from jobs.render.slack import escape

    mark = PRIORITY_MARK if finding.priority else ""
    if finding.rule == RULE_FIELDS:
        return f"{mark}{ticket_link(finding)} {escape(finding.summary)}"
    org = str(finding.facts.get("org") or "")
    return f"{mark}{ticket_link(finding)} *{escape(org)}*: {escape(finding.summary)}"


def _task_footer(cfg: ChannelPartnerRequestConfig) -> str:
    return (
        f"SOP 002 · the CS task: {cfg.cs_issue_type}, {cfg.cs_priority}, parent "
        f"{cfg.onboarding_epic}, QA Assignee, Due Date {cfg.due_business_days} / Configuration "
        f"Date {cfg.configuration_business_days} / QA Due Date {cfg.qa_business_days} business "
        "days out, linked to the request"
    )


def _alert_title(severity: Severity, count: int) -> str:
    if severity is Severity.INFO:
        return f"Channel partner requests: {count} ready for the customer reply"
    return f"Channel partner requests: {plural(count, 'CS task')} missing or incomplete"


def _dates_from(facts: dict[str, Any]) -> ExpectedDates:
    expected = facts["expected"]
    return ExpectedDates(
        due=date.fromisoformat(expected["duedate"]),
        configuration=date.fromisoformat(expected["Configuration Date"]),
        qa_due=date.fromisoformat(expected["QA Due Date"]),
    )


class ChannelPartnerRequestJob(Job[ChannelPartnerData]):
    spec = SPEC

    # -- read ------------------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> ChannelPartnerData:
        from jobs.adapters.jira import jql_quote

        cfg: ChannelPartnerRequestConfig = ctx.job_config  # type: ignore[assignment]
        desk = ctx.settings.desk
        words = jql_quote(_jql_words(cfg.summary_search))
        pattern = compile_title_pattern(cfg.title_pattern)
        requests_jql = (
            f"project = {jql_quote(desk.service_desk_project)} AND statusCategory != Done "
            f"AND summary ~ {words} ORDER BY created ASC"
        )
        requests = []
        for ticket in ctx.jira.search(
            requests_jql, list(REQUEST_FIELDS), properties=(CS_TASK_PROPERTY,)
        ):
            if request_org(ticket, pattern) is None:
                continue
            requests.append(self._complete(ctx, ticket, desk.config_project))
        if not requests:
            return ChannelPartnerData(requests=[], cs_tasks={})

        linked = sorted(
            {
                link.other_key
                for ticket in requests
                for link in ticket.links
                if link.other_key.startswith(f"{desk.config_project}-")
                and link.other_status_category is not StatusCategory.DONE
            }
        )
        # Only a request without a linked CS task can have one this job created and never linked.
        labels = [cs_task_label(t.key) for t in requests if not has_cs_link(t, desk.config_project)]
        batches = _batches(labels)
        project = jql_quote(desk.config_project)
        scope = f"summary ~ {words}"
        if linked:
            scope = f"({scope} OR key in ({_jql_list(linked)}))"
        scope = f"statusCategory != Done AND {scope}"
        if batches:
            # Any status: a task closed before anyone linked it is still the request's task.
            scope = f"(({scope}) OR labels in ({_jql_list(batches[0])}))"
        queries = [f"project = {project} AND {scope} ORDER BY created ASC"]
        queries += [
            f"project = {project} AND labels in ({_jql_list(batch)}) ORDER BY created ASC"
            for batch in batches[1:]
        ]
        cs_tasks = {t.key: t for jql in queries for t in ctx.jira.search(jql, list(CS_FIELDS))}
        return ChannelPartnerData(requests=requests, cs_tasks=cs_tasks)

    @staticmethod
    def _complete(ctx: RunContext, ticket: Ticket, cs_project: str) -> Ticket:
        """All comments, but only where they decide something: a request whose CS work is done
        (is the reply already there?). The search returns at most a page of comments."""
        if ticket.comments_complete:
            return ticket
        cs_links = [link for link in ticket.links if link.other_key.startswith(f"{cs_project}-")]
        if cs_links and all(link.other_status_category is StatusCategory.DONE for link in cs_links):
            return ctx.jira.with_all_comments(ticket)
        return ticket

    def evaluate(self, data: ChannelPartnerData, ctx: RunContext) -> Evaluation:
        evaluation = evaluate_requests(data, ctx.now, rules_from(ctx), ctx.calendar)
        findings = [
            f if f.url else replace(f, url=ctx.browse_url(f.item)) for f in evaluation.findings
        ]
        return replace(evaluation, findings=findings)

    # -- act -------------------------------------------------------------------------------
    def plan(self, work: Work[ChannelPartnerData], ctx: RunContext) -> list[Action]:
        from jobs.render.alerts import grouped_alerts

        rules = rules_from(ctx)
        requests = {t.key: t for t in work.data.requests}
        alerts: list[Finding] = []
        actions: list[Action] = []
        for finding in work.fresh:
            if finding.rule == RULE_CREATE and finding.item in requests:
                actions.append(self._create(ctx, requests[finding.item], finding, rules))
            elif (
                finding.rule == RULE_UNLINKED
                and rules.create_cs_tasks
                and finding.facts.get("cs_key")
            ):
                cs_key = str(finding.facts["cs_key"])
                link = self._link(ctx, finding, cs_key)
                what = f"linked {cs_key}, created earlier but never linked"
                link.then = (_notice(finding, what),)
                actions.append(link)
            elif finding.rule == RULE_REPLY:
                actions.append(self._reply(ctx, finding))
            elif finding.rule in (RULE_MISSING, RULE_FIELDS, RULE_REPLY_DUE, RULE_UNLINKED):
                alerts.append(finding)
        cfg: ChannelPartnerRequestConfig = ctx.job_config  # type: ignore[assignment]
        for group, footer in (
            ([f for f in alerts if f.severity is not Severity.INFO], _task_footer(cfg)),
            ([f for f in alerts if f.severity is Severity.INFO], REPLY_FOOTER),
        ):
            actions.extend(
                grouped_alerts(
                    group,
                    channel=ctx.alert_channel,
                    title=_alert_title,
                    line=_alert_line,
                    max_per_message=ctx.settings.run.max_alerts_per_message,
                    footer=footer,
                )
            )
        return actions

    def _create(
        self, ctx: RunContext, ticket: Ticket, finding: Finding, rules: ChannelPartnerRules
    ) -> Action:
        """Create, link the new task (its key comes from the create), then tell the channel."""
        dates = _dates_from(dict(finding.facts))
        fields = cs_task_fields(
            ticket.summary, ticket.description, dates, rules, request_key=ticket.key
        )
        link = self._link(ctx, finding, Ref(0, "key"))
        link.notifies = False
        due = dates.due.isoformat()
        return Action(
            kind=ActionKind.JIRA_CREATE,
            target=rules.config_project,
            findings=[finding],
            text=f"CS task for {ticket.key}: {fields['summary']}",
            fields={k: v for k, v in fields.items() if k != "project"},
            trace_label=cs_task_label(ticket.key),
            then=(link, _notice(finding, "created {key} (due " + due + ")", Ref(0, "key"))),
        )

    def _link(self, ctx: RunContext, finding: Finding, cs_key: str | Ref) -> Action:
        cfg: ChannelPartnerRequestConfig = ctx.job_config  # type: ignore[assignment]
        return Action(
            kind=ActionKind.JIRA_LINK,
            target=finding.item,
            findings=[finding],
            link=LinkSpec(inward_key=cs_key, outward_key=finding.item, link_type=cfg.link_type),
        )

    def _reply(self, ctx: RunContext, finding: Finding) -> Action:
        facts = finding.facts
        marker = str(facts["marker"])
        text = ctx.templates.render(
            REPLY_SPEC,
            {
                "customer_name": str(facts.get("greeting_name") or "") or "there",
                "org": facts.get("org") or "your organization",
                "ss_key": finding.item,
                "marker": marker,
            },
        )
        return Action(
            kind=ActionKind.JIRA_PUBLIC_COMMENT,
            target=finding.item,
            findings=[finding],
            # A desk template without the Ref line would leave no proof on the ticket: a lost
            # ledger would then send the customer the same email again.
            text=with_marker(text, marker),
            marker=marker,
            then=(_notice(finding, f'sent "{REPLY_TEMPLATE}" to the customer'),),
        )


def _notice(finding: Finding, what: str, cs_key: Ref | None = None) -> Action:
    """The line in the grouped "requests handled" message: `*Org*: created CS-9 (due ...)`.

    ``what`` may say ``{key}``: the key the create step returned, filled in when it is sent.
    """
    from jobs.render.alerts import PRIORITY_MARK, ticket_link
    from jobs.render.slack import escape

    mark = PRIORITY_MARK if finding.priority else ""
    org = str(finding.facts.get("org") or "")
    return Action(
        kind=ActionKind.SLACK_NOTICE,
        target=ALERT_CHANNEL,
        findings=[finding],
        text=f"{mark}{ticket_link(finding)} *{escape(org)}*: {escape(what)}",
        notice=Notice(HANDLED_TITLE, HANDLED_FOOTER),
        text_refs={"key": cs_key} if cs_key is not None else {},
        notifies=False,
    )


JOB = ChannelPartnerRequestJob
