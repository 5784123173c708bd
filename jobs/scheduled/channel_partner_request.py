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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from jobs.config import PersonConfig
from jobs.job import Job, JobSpec, Work, config_of
from jobs.jql import jql_quote
from jobs.model import (
    ALERT_CHANNEL,
    Action,
    ActionKind,
    Evaluation,
    Finding,
    LinkSpec,
    Person,
    Ref,
    StatusCategory,
)
from jobs.render.templates import TemplateSpec
from jobs.rules.channel_partner_request import (
    CS_TASK_PROPERTY,
    JOB_NAME,
    REPLY_TEMPLATE,
    RULE_CREATE,
    RULE_FIELDS,
    RULE_MISSING,
    RULE_REPLY,
    RULE_REPLY_DUE,
    RULE_UNLINKED,
    ChannelPartnerData,
    ChannelPartnerRequestConfig,
    CreateDetail,
    ReplyDetail,
    RequestPeople,
    UnlinkedDetail,
    compile_title_pattern,
    cs_task_fields,
    cs_task_label,
    evaluate_requests,
    has_cs_link,
    request_org,
)
from jobs.scheduled.onboard_reset_reminder import with_marker

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
SEARCHES_AT_ONCE = 4
"""CS task searches read side by side (the main one and the trace-label batches)."""

REPLY_SPEC = TemplateSpec(REPLY_TEMPLATE, frozenset({"customer_name", "org", "ss_key", "marker"}))


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


def _searched(ctx: RunContext, queries: list[str], fields: list[str]) -> list[list[Ticket]]:
    """Each query's tickets, in the order of ``queries``. The queries do not depend on one
    another, so the trace-label batches are read beside the main query, not after it (each
    costs at least one round trip); the first error, in the queries' order, is raised once
    every search has ended."""
    if len(queries) == 1:
        return [list(ctx.jira.search(queries[0], fields))]
    jira = ctx.jira
    with ThreadPoolExecutor(
        max_workers=min(len(queries), SEARCHES_AT_ONCE), thread_name_prefix="cs-search"
    ) as pool:
        return list(pool.map(lambda jql: list(jira.search(jql, fields)), queries))


def _jql_list(values: list[str]) -> str:
    return ", ".join(jql_quote(v) for v in values)


def _person(person: PersonConfig | None) -> Person | None:
    if person is None:
        return None
    return Person(account_id=person.jira_account_id, display_name=person.name, email=person.email)


def people_of(ctx: RunContext) -> RequestPeople:
    """``people.qa_assignee`` and ``people.onboarding_reporter`` from the settings."""
    return RequestPeople(
        qa_assignee=_person(ctx.person("qa_assignee")),
        onboarding_reporter=_person(ctx.person("onboarding_reporter")),
    )


def labelled(labels: Iterable[str], tasks: Iterable[Ticket]) -> dict[str, str | None]:
    """Each trace label searched for -> the oldest task carrying it (any case), or None."""
    carrying: dict[str, list[Ticket]] = {}
    for task in tasks:
        for label in task.labels:
            carrying.setdefault(label.casefold(), []).append(task)
    found: dict[str, str | None] = {}
    for label in labels:
        tasks_with = carrying.get(label.casefold(), [])
        oldest = min(tasks_with, key=lambda t: (t.created, _number(t.key)), default=None)
        found[label] = oldest.key if oldest is not None else None
    return found


def _number(key: str) -> int:
    tail = key.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class ChannelPartnerRequestJob(Job[ChannelPartnerData]):
    spec = SPEC

    # -- read ------------------------------------------------------------------------------
    def fetch(self, ctx: RunContext) -> ChannelPartnerData:
        cfg = config_of(ctx, ChannelPartnerRequestConfig)
        desk = ctx.desk
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
        cs_tasks = {t.key: t for found in _searched(ctx, queries, list(CS_FIELDS)) for t in found}
        return ChannelPartnerData(requests=requests, cs_tasks=cs_tasks, labels_searched=labels)

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
        evaluation = evaluate_requests(
            data,
            ctx.now,
            config_of(ctx, ChannelPartnerRequestConfig),
            ctx.desk,
            ctx.calendar,
            people=people_of(ctx),
            actions=ctx.settings.actions,
        )
        # What the searches just read answers the proofs of a first reply (the requests'
        # comments, read in full where the reply is due) and of a first create (the tasks
        # carrying each trace label): nothing is read again before either.
        return replace(
            evaluation,
            tickets={t.key: t for t in data.requests},
            labelled=labelled(data.labels_searched, data.cs_tasks.values()),
        )

    # -- act -------------------------------------------------------------------------------
    def plan(self, work: Work[ChannelPartnerData], ctx: RunContext) -> list[Action]:
        from jobs.render.channel_partner_request import alerts, linked

        cfg = config_of(ctx, ChannelPartnerRequestConfig)
        creating = ctx.settings.actions.create_cs_tasks
        requests = {t.key: t for t in work.data.requests}
        to_alert: list[Finding] = []
        actions: list[Action] = []
        for finding in work.fresh:
            if finding.rule == RULE_CREATE and finding.item in requests:
                actions.append(self._create(ctx, requests[finding.item], finding))
            elif (
                finding.rule == RULE_UNLINKED
                and creating
                and (cs_key := finding.detail_as(UnlinkedDetail).cs_key)
            ):
                link = self._link(ctx, finding, cs_key)
                link.then = (_notice(finding, linked(cs_key)),)
                actions.append(link)
            elif finding.rule == RULE_REPLY:
                actions.append(self._reply(ctx, finding))
            elif finding.rule in (RULE_MISSING, RULE_FIELDS, RULE_REPLY_DUE, RULE_UNLINKED):
                to_alert.append(finding)
        cap = ctx.settings.run.max_alerts_per_message
        actions.extend(alerts(to_alert, channel=ctx.alert_channel, config=cfg, cap=cap))
        return actions

    def _create(self, ctx: RunContext, ticket: Ticket, finding: Finding) -> Action:
        """Create, link the new task (its key comes from the create), then tell the channel."""
        from jobs.render.channel_partner_request import created

        cfg = config_of(ctx, ChannelPartnerRequestConfig)
        dates = finding.detail_as(CreateDetail).expected
        fields = cs_task_fields(
            ticket.summary,
            ticket.description,
            dates,
            cfg,
            ctx.desk,
            people_of(ctx),
            request_key=ticket.key,
        )
        link = self._link(ctx, finding, Ref(0, "key"))
        link.notifies = False
        return Action(
            kind=ActionKind.JIRA_CREATE,
            target=ctx.desk.config_project,
            findings=[finding],
            text=f"CS task for {ticket.key}: {fields['summary']}",
            fields={k: v for k, v in fields.items() if k != "project"},
            trace_label=cs_task_label(ticket.key),
            then=(link, _notice(finding, created(dates.due.isoformat()), Ref(0, "key"))),
        )

    def _link(self, ctx: RunContext, finding: Finding, cs_key: str | Ref) -> Action:
        cfg = config_of(ctx, ChannelPartnerRequestConfig)
        return Action(
            kind=ActionKind.JIRA_LINK,
            target=finding.item,
            findings=[finding],
            link=LinkSpec(inward_key=cs_key, outward_key=finding.item, link_type=cfg.link_type),
        )

    def _reply(self, ctx: RunContext, finding: Finding) -> Action:
        from jobs.render.channel_partner_request import REPLIED

        reply = finding.detail_as(ReplyDetail)
        text = ctx.templates.render(
            REPLY_SPEC,
            {
                "customer_name": reply.greeting_name or "there",
                "org": reply.org or "your organization",
                "ss_key": finding.item,
                "marker": reply.marker,
            },
        )
        return Action(
            kind=ActionKind.JIRA_PUBLIC_COMMENT,
            target=finding.item,
            findings=[finding],
            # A desk template without the Ref line would leave no proof on the ticket: a lost
            # ledger would then send the customer the same email again.
            text=with_marker(text, reply.marker),
            marker=reply.marker,
            then=(_notice(finding, REPLIED),),
        )


def _notice(finding: Finding, what: str, cs_key: Ref | None = None) -> Action:
    """A line in the grouped "requests handled" message (`jobs.render.channel_partner_request`).

    ``what`` may say ``{key}``: the key the create step returned, filled in when it is sent.
    """
    from jobs.render.channel_partner_request import HANDLED, notice_line

    return Action(
        kind=ActionKind.SLACK_NOTICE,
        target=ALERT_CHANNEL,
        findings=[finding],
        text=notice_line(finding, what),
        notice=HANDLED,
        text_refs={"key": cs_key} if cs_key is not None else {},
        notifies=False,
    )


JOB = ChannelPartnerRequestJob
