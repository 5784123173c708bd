"""channel_partner_request: SOP 002's CS task for each channel partner request, then the reply.

Reads (two paged searches a run, plus one re-check when it is about to create):
- open SS tickets whose summary has the request's words (``summary_search``), with links,
  comments and the legacy `CS_TASK_PROPERTY` property (free: same search); the title
  pattern decides what is a request;
- CS tasks that are open and linked to one of them or carry the request's words in their
  summary (a hand-made task never linked), or, in any status, carry the `cs_task_label` of a
  request without a linked CS task (a task this job created but never linked). The label
  clause rides in the same search (a further search per 100 labels beyond the first 100).

Acts:
- by default, one grouped Slack alert per severity: requests without a CS task, CS tasks
  with wrong fields, and requests whose CS work is done so the customer can be told;
- ``actions.create_cs_tasks``: creates the CS task and links it (see *Exactly once*);
- ``actions.reply_channel_partner``: sends "New Channel Req 2" as a public comment, carrying
  the reply marker (added when a desk's template lacks it), so the pipeline's marker check
  makes it once even across a lost ledger; only to a reporter who is the customer (else
  support is told to send it from CXone, see the rule's *who gets the reply*);
- after either, one grouped "requests handled" message in the alert channel (see *Told*).

Exactly once, for the CS task. Jira, not the ledger, is the ground truth:
1. the pipeline's claim on ``(job, cs_task_create, SS-x)`` keeps two overlapping runs from
   both planning a creation;
2. `plan` re-reads the requests and the CS tasks labelled for them (one search:
   ``key in (...) OR (project = CS AND labels in (...))``) right before creating, and skips
   any request that meanwhile got a CS link, or links the task labelled for it;
3. the create call itself sets the label ``sla-monitor-SS-x`` on the new task, so from the
   moment the task exists it names its request, at no extra call (no property write, no
   read-back); `after_run` then links the new task (a separate, recorded action);
4. the next run turns a request without a link but with a task labelled for it (a run that
   crashed between create and link), with the legacy property, or with exactly one open,
   unlinked CS task of the same title (made by hand), into ``cs_task_unlinked``, which links
   that task instead of creating a second one.
Jira's search index can lag a write by a few seconds; step 4 happens a scheduled run later,
and steps 1 and 2 cover the runs in between.

Told, at least once. Each step the job takes (a task created, a task linked, a reply sent) is an
`Announcement` in the ledger's item state (``handled:SS-x:...``) from the moment the write
succeeds until a Slack post naming it succeeds; every run posts all that are pending in one
grouped message, so a failed post is told by the next run. A link to an existing task and a
reply are also kept as an *intent* just before the write: a run killed between the write and
its record leaves the intent, and a run started a claim TTL later confirms it on the ticket
(the link, the reply's marker in a public comment) and tells it, or drops it. Overlapping runs
see each other's announcements; a ledger claim on ``(job, requests_handled, SS-x, step)``
decides which one posts it, and the pipeline records it as sent. A failed post's claim lives
until the claim TTL (10 m) ends, so the next *scheduled* run retries it, not an immediate rerun.
A dry run reads the pending announcements and writes none.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from jobs.config import JobConfig
from jobs.durations import DurationField, parse_duration
from jobs.job import Job, JobSpec
from jobs.model import Action, ActionKind, Evaluation, Finding, Person, Severity, StatusCategory
from jobs.render.templates import TemplateSpec
from jobs.rules.channel_partner_request import (
    CS_TASK_PROPERTY,
    DEFAULT_TITLE_PATTERN,
    EVENT_CREATED,
    EVENT_LINKED,
    EVENT_REPLIED,
    REPLY_TEMPLATE,
    RULE_CREATE,
    RULE_FIELDS,
    RULE_HANDLED,
    RULE_MISSING,
    RULE_REPLY,
    RULE_REPLY_DUE,
    RULE_UNLINKED,
    Announcement,
    ChannelPartnerData,
    ChannelPartnerRules,
    ExpectedDates,
    compile_title_pattern,
    cs_task_fields,
    cs_task_label,
    evaluate_requests,
    has_cs_link,
    intent_confirmed,
    request_org,
    sort_announcements,
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
RECHECK_FIELDS = ("summary", "description", "created", "labels", "issuelinks")
JQL_BATCH = 100
"""Values per JQL ``in (...)`` list: keeps each query well inside Jira's limits."""
NEW_TASK = "(the new CS task)"
"""Shown in a dry run where the key of a task that would be created goes."""

REPLY_FOOTER = (
    'SOP 002 · check the CS ticket for outstanding issues, then send "New Channel Req 2" '
    "(keep its Ref line: it tells this job the customer was told)"
)
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
    return f"Channel partner requests: {count} CS task(s) missing or incomplete"


def _dates_from(facts: dict[str, Any]) -> ExpectedDates:
    expected = facts["expected"]
    return ExpectedDates(
        due=date.fromisoformat(expected["duedate"]),
        configuration=date.fromisoformat(expected["Configuration Date"]),
        qa_due=date.fromisoformat(expected["QA Due Date"]),
    )


class ChannelPartnerRequestJob(Job):
    spec = SPEC

    def __init__(self) -> None:
        self._created: dict[str, str] = {}
        """SS key -> key of the CS task this run created (filled by the create's on_done)."""
        self._to_link: list[Finding] = []
        self._planned: list[Announcement] = []
        """What this run's links and replies will announce once they succeed (a dry run shows
        them as they are; a real run keeps them in the ledger, see `_expect`)."""

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
    def plan(self, findings: list[Finding], ctx: RunContext) -> list[Action]:
        from jobs.render.alerts import grouped_alerts

        rules = rules_from(ctx)
        alerts: list[Finding] = []
        creates: list[Finding] = []
        actions: list[Action] = []
        for finding in findings:
            if finding.rule == RULE_CREATE:
                creates.append(finding)
            elif (
                finding.rule == RULE_UNLINKED
                and rules.create_cs_tasks
                and finding.facts.get("cs_key")
            ):
                cs_key = str(finding.facts["cs_key"])
                actions.append(self._relink(ctx, finding, cs_key))
            elif finding.rule == RULE_REPLY:
                actions.append(self._reply(ctx, finding))
            elif finding.rule in (RULE_MISSING, RULE_FIELDS, RULE_REPLY_DUE, RULE_UNLINKED):
                alerts.append(finding)
        if creates:
            actions = self._creations(ctx, creates, rules) + actions
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

    def _creations(
        self, ctx: RunContext, findings: list[Finding], rules: ChannelPartnerRules
    ) -> list[Action]:
        """Re-read the requests and the tasks labelled for them right before creating (the
        ground truth), then create, or link what an overlapping or crashed run created."""
        from jobs.adapters.http import AdapterError, CredentialError
        from jobs.adapters.jira import jql_quote

        project = jql_quote(rules.config_project)
        fresh: dict[str, Ticket] = {}
        try:
            for keys in _batches(sorted({f.item for f in findings})):
                labels = [cs_task_label(k) for k in keys]
                jql = (
                    f"key in ({_jql_list(keys)}) "
                    f"OR (project = {project} AND labels in ({_jql_list(labels)}))"
                )
                fresh.update(
                    (t.key, t)
                    for t in ctx.jira.search(
                        jql, list(RECHECK_FIELDS), properties=(CS_TASK_PROPERTY,)
                    )
                )
        except CredentialError:
            raise
        except AdapterError as exc:
            # Not knowing whether a task exists is no reason to risk a second one: next run.
            log.warning("re-check before creating CS tasks failed: %s", exc, extra=ctx.extra())
            return []
        prefix = f"{rules.config_project}-"
        by_label: dict[str, str] = {}
        for task in sorted(fresh.values(), key=lambda t: (t.created, t.key)):
            if task.key.startswith(prefix):
                for label in task.labels:
                    by_label.setdefault(label.casefold(), task.key)
        actions: list[Action] = []
        for finding in findings:
            ticket = fresh.get(finding.item)
            if ticket is None:
                continue
            if has_cs_link(ticket, rules.config_project):
                continue  # linked meanwhile, by a person or an overlapping run
            existing = by_label.get(cs_task_label(ticket.key).casefold())
            recorded = ticket.properties.get(CS_TASK_PROPERTY)
            if existing is None and isinstance(recorded, dict) and recorded.get("key"):
                existing = str(recorded["key"])  # written by an earlier version of the job
            if existing is not None:
                actions.append(self._relink(ctx, finding, existing))
                continue
            actions.append(self._create(ctx, ticket, finding, rules))
        return actions

    def _create(
        self, ctx: RunContext, ticket: Ticket, finding: Finding, rules: ChannelPartnerRules
    ) -> Action:
        dates = _dates_from(dict(finding.facts))
        fields = cs_task_fields(
            ticket.summary, ticket.description, dates, rules, request_key=ticket.key
        )
        action = Action(
            kind=ActionKind.JIRA_CREATE,
            target=rules.config_project,
            findings=[finding],
            text=f"CS task for {ticket.key}: {fields['summary']}",
            payload={"fields": fields, "for": ticket.key},
        )
        self._to_link.append(finding)

        def created(result: dict[str, Any]) -> None:
            # Nothing to write back to Jira: the label the create call set is the trace a crash
            # between here and the link leaves for the next run.
            new_key = str(result["key"])
            self._created[ticket.key] = new_key
            self._confirm(
                ctx,
                self._announcement(ctx, finding, EVENT_CREATED, new_key, due=dates.due.isoformat()),
            )

        action.on_done = created
        return action

    def _relink(self, ctx: RunContext, finding: Finding, cs_key: str) -> Action:
        """Link a task created earlier (by a run that crashed, or by hand) but never linked."""
        link = self._link(ctx, finding.item, cs_key, finding)
        announcement = self._expect(ctx, self._announcement(ctx, finding, EVENT_LINKED, cs_key))
        link.on_done = lambda _result: self._confirm(ctx, announcement)
        return link

    def _link(self, ctx: RunContext, ss_key: str, cs_key: str, finding: Finding) -> Action:
        cfg: ChannelPartnerRequestConfig = ctx.job_config  # type: ignore[assignment]
        return Action(
            kind=ActionKind.JIRA_LINK,
            target=ss_key,
            findings=[finding],
            payload={"inward_key": cs_key, "outward_key": ss_key, "link_type": cfg.link_type},
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
        action = Action(
            kind=ActionKind.JIRA_PUBLIC_COMMENT,
            target=finding.item,
            findings=[finding],
            # A desk template without the Ref line would leave no proof on the ticket: a lost
            # ledger would then send the customer the same email again.
            text=with_marker(text, marker),
            marker=marker,
        )
        announcement = self._expect(ctx, self._announcement(ctx, finding, EVENT_REPLIED))
        action.on_done = lambda _result: self._confirm(ctx, announcement)
        return action

    def after_run(self, ctx: RunContext, data: Any, evaluation: Evaluation) -> list[Action]:
        """Link each CS task this run created to its request (a dry run shows the link too), then
        tell the alert channel what the job did: this run, and any earlier run whose notice
        never went out."""
        actions = []
        for finding in self._to_link:
            new_key = self._created.get(finding.item)
            if new_key is None and not ctx.dry_run:
                continue  # the create failed: nothing to link; the next run tries again
            link = self._link(ctx, finding.item, new_key or NEW_TASK, finding)
            link.record_findings = False  # already recorded by the create
            actions.append(link)
        return actions + self._notices(ctx, data)

    # -- what the team hears ---------------------------------------------------------------
    @staticmethod
    def _announcement(
        ctx: RunContext,
        finding: Finding,
        event: str,
        cs_key: str | None = None,
        *,
        due: str = "",
    ) -> Announcement:
        return Announcement(
            event=event,
            ss_key=finding.item,
            org=str(finding.facts.get("org") or ""),
            url=finding.url,
            cs_key=cs_key,
            due=due or None,
            priority=finding.priority,
            done=False,
            run_id=ctx.run_id,
            at=ctx.now.isoformat(),
        )

    def _expect(self, ctx: RunContext, announcement: Announcement) -> Announcement:
        """Keep the intent right before the write: a run killed between the write and its
        record leaves it, and a later run confirms it against the ticket (or drops it)."""
        self._planned.append(announcement)
        if not ctx.dry_run:
            ctx.ledger.put_state(
                JOB_NAME, announcement.state_item, announcement.to_state(), now=ctx.now
            )
        return announcement

    @staticmethod
    def _confirm(ctx: RunContext, announcement: Announcement) -> None:
        """The write succeeded: the announcement is due until a post of it succeeds."""
        if ctx.dry_run:
            return
        done = replace(announcement, done=True)
        ctx.ledger.put_state(JOB_NAME, done.state_item, done.to_state(), now=ctx.now)

    def _notices(self, ctx: RunContext, data: Any) -> list[Action]:
        """One grouped message (split only past ``max_alerts_per_message``) of every step taken
        on the desk's behalf and not yet told; each message forgets its announcements once it
        is posted, so a failed post is tried again by the next run."""
        from jobs.render.alerts import grouped_alerts

        if ctx.dry_run:
            announcements = self._dry_run_announcements(ctx)
        else:
            announcements = self._due_announcements(ctx, data)
        by_key = {(a.ss_key, a.episode): a for a in announcements}
        announcements = list(by_key.values())
        if not announcements:
            return []
        actions = grouped_alerts(
            [_handled_finding(a) for a in announcements],
            channel=ctx.alert_channel,
            title=_handled_title,
            line=_handled_line,
            max_per_message=ctx.settings.run.max_alerts_per_message,
            footer=HANDLED_FOOTER,
        )
        for action in actions:
            # Recorded as sent (by the pipeline) and forgotten only once the post succeeded.
            items = [by_key[(f.item, f.episode)].state_item for f in action.findings]
            action.on_done = lambda _result, items=items: self._forget(ctx, items)
        return actions

    def _dry_run_announcements(self, ctx: RunContext) -> list[Announcement]:
        """What a real run would tell: what earlier runs left untold, and this run's steps."""
        pending = sort_announcements(
            ctx.ledger.open_states(JOB_NAME),
            run_id=ctx.run_id,
            now=ctx.now,
            lease=ctx.settings.ledger.claim_ttl.wall,
        )
        created = [
            self._announcement(
                ctx, f, EVENT_CREATED, due=str(f.facts.get("expected", {}).get("duedate") or "")
            )
            for f in self._to_link
        ]
        return pending.ready + created + self._planned

    def _due_announcements(self, ctx: RunContext, data: Any) -> list[Announcement]:
        lease = ctx.settings.ledger.claim_ttl.wall
        pending = sort_announcements(
            ctx.ledger.open_states(JOB_NAME), run_id=ctx.run_id, now=ctx.now, lease=lease
        )
        for item in pending.unreadable:
            log.warning("dropping unreadable announcement %s", item, extra=ctx.extra())
            ctx.ledger.put_state(JOB_NAME, item, None, now=ctx.now)
        ready = pending.ready + self._verified(ctx, data, pending.to_verify)
        return [a for a in ready if self._claim(ctx, a, lease)]

    def _verified(
        self, ctx: RunContext, data: Any, intents: list[Announcement]
    ) -> list[Announcement]:
        """Intents a dead or failed run left: confirmed by the ticket (the step happened, so it
        is told), dropped otherwise (it did not; the rule asks for it again if still due)."""
        from jobs.adapters.http import AdapterError, CredentialError
        from jobs.adapters.jira import jql_quote

        if not intents:
            return []
        requests = data.requests if isinstance(data, ChannelPartnerData) else []
        replied = {a.ss_key for a in intents if a.event == EVENT_REPLIED}
        tickets = {t.key: t for t in requests if t.comments_complete or t.key not in replied}
        unread = sorted({a.ss_key for a in intents} - set(tickets))
        read_failed = False
        try:
            # A request closed since (or replied to, with more comments than a search page)
            # is not in this run's data: one search for all of them.
            for keys in _batches(unread):
                jql = f"key in ({', '.join(jql_quote(k) for k in keys)})"
                for found in ctx.jira.search(jql, ["comment", "issuelinks"]):
                    tickets[found.key] = ctx.jira.with_all_comments(found)
        except CredentialError:
            raise
        except AdapterError as exc:
            log.warning("could not confirm announcements: %s", exc, extra=ctx.extra())
            read_failed = True
        confirmed = []
        for intent in intents:
            ticket = tickets.get(intent.ss_key)
            if ticket is None and read_failed:
                continue  # unknown: the next run asks again
            if intent_confirmed(intent, ticket):
                done = replace(intent, done=True)
                ctx.ledger.put_state(JOB_NAME, done.state_item, done.to_state(), now=ctx.now)
                confirmed.append(done)
                continue
            current = Announcement.from_state(
                ctx.ledger.get_state(JOB_NAME, intent.state_item) or {}
            )
            if current is None or not current.done:
                ctx.ledger.put_state(JOB_NAME, intent.state_item, None, now=ctx.now)
        return confirmed

    @staticmethod
    def _claim(ctx: RunContext, announcement: Announcement, lease: timedelta) -> bool:
        """Whether this run posts it: two overlapping runs both see every announcement."""
        key = (JOB_NAME, RULE_HANDLED, announcement.ss_key, announcement.episode)
        if ctx.ledger.claim(*key, now=ctx.now, realert=None, run_id=ctx.run_id, claim_ttl=lease):
            return True
        if ctx.ledger.last_sent(*key) is not None:
            # Posted by a run that stopped before forgetting it.
            ctx.ledger.put_state(JOB_NAME, announcement.state_item, None, now=ctx.now)
        return False  # else an overlapping run is posting it (or a failed post's claim lives on)

    @staticmethod
    def _forget(ctx: RunContext, items: list[str]) -> None:
        for item in items:
            ctx.ledger.put_state(JOB_NAME, item, None, now=ctx.now)


def _handled_finding(announcement: Announcement) -> Finding:
    return Finding(
        job=JOB_NAME,
        rule=RULE_HANDLED,
        item=announcement.ss_key,
        severity=Severity.INFO,
        summary=_handled_summary(announcement),
        facts=announcement.to_state(),
        episode=announcement.episode,
        url=announcement.url,
        priority=announcement.priority,
        realert=None,
    )


def _handled_summary(announcement: Announcement) -> str:
    if announcement.event == EVENT_CREATED:
        due = f" (due {announcement.due})" if announcement.due else ""
        return f"created {announcement.cs_key or NEW_TASK}{due}"
    if announcement.event == EVENT_LINKED:
        return f"linked {announcement.cs_key}, created earlier but never linked"
    return f'sent "{REPLY_TEMPLATE}" to the customer'


def _handled_line(finding: Finding) -> str:
    from jobs.render.alerts import PRIORITY_MARK, ticket_link
    from jobs.render.slack import escape

    mark = PRIORITY_MARK if finding.priority else ""
    org = str(finding.facts.get("org") or "")
    return f"{mark}{ticket_link(finding)} *{escape(org)}*: {escape(finding.summary)}"


def _handled_title(severity: Severity, count: int) -> str:
    return "Channel partner requests handled (SOP 002)"


JOB = ChannelPartnerRequestJob
