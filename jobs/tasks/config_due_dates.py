"""config_due_dates: one daily digest of CS tasks whose Configuration, QA or Due Date has come.

One paged search a run: the config project's open tasks that have any of the three dates.
Whether a date is today or past, and how many business days late, is decided in memory on the
desk calendar (`jobs.rules.config_due_dates`), because JQL's ``startOfDay()`` is the API
user's day, not necessarily the desk's.

Sends one Slack message to the alert channel listing each task (key, organization, which
date, how late), mentioning its assignee and QA assignee (looked up by email; the name when
Slack does not know them). Each task is listed once per business day: the finding's episode
is the desk's date, so the hourly runs after the first add only tasks that became due since.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from jobs.config import JobConfig, PersonConfig
from jobs.job import Job, JobSpec, Work
from jobs.model import Action, ActionKind, Evaluation, Finding, Ticket
from jobs.rules.config_due_dates import DEFAULT_ORG_PATTERN, DueDateRules, evaluate_due_dates
from jobs.rules.config_due_dates import JOB as JOB_NAME

if TYPE_CHECKING:
    from jobs.context import RunContext

log = logging.getLogger(__name__)

TASK_FIELDS = (
    "summary",
    "status",
    "created",
    "issuetype",
    "assignee",
    "labels",
    "Organizations",
    "duedate",
    "Configuration Date",
    "QA Due Date",
    "QA Assignee",
)


class ConfigDueDatesConfig(JobConfig):
    schedule: str = "0 9-17 * * 1-5"
    """Hourly in business hours; the first run of a business day sends the digest."""
    jql: str | None = None
    """CS tasks to check; null = open tasks of the config project (``issue_types``) that have
    a Configuration Date, QA Due Date or Due Date. Which dates have come is decided in memory."""
    issue_types: list[str] = Field(default_factory=lambda: ["Task"])
    org_pattern: str | None = DEFAULT_ORG_PATTERN
    """Where the organization is in a CS task's title when its Organizations field is empty
    (SOP 002 copies "A New Channel Partner Request for [Org]" into it); group ``org``."""

    @field_validator("org_pattern")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("issue_types")
    @classmethod
    def _some_types(cls, value: list[str]) -> list[str]:
        if not value or any(not name.strip() for name in value):
            raise ValueError("list at least one issue type (e.g. [Task]); names must not be blank")
        return value


SPEC = JobSpec(
    name=JOB_NAME,
    description="Daily Slack digest of CS tasks whose Configuration/QA/Due Date has come",
    config_model=ConfigDueDatesConfig,
    systems=frozenset({"jira", "slack"}),
)


def tasks_jql(ctx: RunContext) -> str:
    from jobs.adapters.jira import jql_quote

    config: ConfigDueDatesConfig = ctx.job_config  # type: ignore[assignment]
    if config.jql:
        return config.jql
    project = jql_quote(ctx.settings.desk.config_project)
    types = ", ".join(jql_quote(name) for name in config.issue_types)
    return (
        f"project = {project} AND issuetype in ({types}) AND statusCategory != Done AND "
        '("Configuration Date" is not EMPTY OR "QA Due Date" is not EMPTY OR duedate is not EMPTY) '
        "ORDER BY key"
    )


# -- the message -------------------------------------------------------------------------------


class Mentions:
    """Slack mentions for people named on tickets: configured Slack ids first, then by email.

    A lookup that fails (Slack down, unknown email) falls back to the escaped name: the digest
    is worth sending without a ping.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.people: list[PersonConfig] = list(ctx.settings.people.values())

    def _configured(self, person: dict[str, Any]) -> PersonConfig | None:
        account_id, email = person.get("account_id"), (person.get("email") or "").casefold()
        for configured in self.people:
            if account_id and configured.jira_account_id == account_id:
                return configured
            if email and (configured.email or "").casefold() == email:
                return configured
        return None

    def of(self, person: dict[str, Any] | None) -> str:
        from jobs.adapters.http import AdapterError, CredentialError
        from jobs.render.slack import escape

        if not person:
            return "_unassigned_"
        configured = self._configured(person)
        if configured is not None and configured.slack_user:
            user = configured.slack_user
            return user if user.startswith("<") else f"<@{user}>"
        email = person.get("email") or (configured.email if configured else None)
        name = person.get("name") or (configured.name if configured else None) or email or "someone"
        if email:
            try:
                user_id = self.ctx.slack.user_id(email)
            except CredentialError:
                raise
            except AdapterError as exc:
                log.warning(
                    "Slack lookup for a CS assignee failed: %s", exc, extra=self.ctx.extra()
                )
                user_id = None
            if user_id:
                return f"<@{user_id}>"
        return escape(str(name))


def digest_line(finding: Finding, mentions: Mentions) -> str:
    from jobs.render.alerts import PRIORITY_MARK, ticket_link
    from jobs.render.slack import escape

    facts = finding.facts
    mark = PRIORITY_MARK if finding.priority else ""
    org = str(facts.get("org") or "")
    where = f" *{escape(org)}*" if org else ""
    assignee = mentions.of(facts.get("assignee"))
    qa = mentions.of(facts.get("qa_assignee"))
    return (
        f"{mark}{ticket_link(finding)}{where}: {escape(finding.summary)} "
        f"· assignee {assignee} · QA {qa}"
    )


def digest_actions(findings: list[Finding], ctx: RunContext) -> list[Action]:
    """One message (split only past Slack's limits), most late first."""
    from jobs.render.alerts import section_blocks
    from jobs.render.pack import fallback, pack
    from jobs.render.slack import context, escape, header

    if not findings:
        return []
    mentions = Mentions(ctx)
    # Priority installers first (SOP 004: they take precedence), then the latest work.
    ordered = sorted(
        findings,
        key=lambda f: (not f.priority, -int(f.facts.get("max_business_days_late", 0)), f.item),
    )
    today = str(ordered[0].facts.get("today") or "")
    late = sum(1 for f in ordered if int(f.facts.get("max_business_days_late", 0)) > 0)
    every_line = [f"• {digest_line(f, mentions)}" for f in ordered]
    parts = pack(every_line, other_blocks=2, cap=ctx.settings.run.max_alerts_per_message)
    actions = []
    for part in parts:
        chunk = [ordered[i] for i in part]
        tasks = "task" if len(ordered) == 1 else "tasks"
        title = f"CS dates due {today}: {len(ordered)} {tasks}, {late} late"
        if len(parts) > 1:
            title += f" ({part[0] + 1}–{part[-1] + 1} of {len(ordered)})"
        lines = [every_line[i] for i in part]
        blocks = [
            header(title),
            *section_blocks(lines),
            context(["Configuration Date, QA Due Date and Due Date on open CS tasks (SOP 002)"]),
        ]
        actions.append(
            Action(
                kind=ActionKind.SLACK_POST,
                target=ctx.alert_channel,
                findings=chunk,
                text=fallback(f":calendar: {escape(title)}", lines),
                blocks=blocks,
            )
        )
    return actions


class ConfigDueDatesJob(Job[list[Ticket]]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> list[Ticket]:
        return list(ctx.jira.search(tasks_jql(ctx), list(TASK_FIELDS)))

    def evaluate(self, data: list[Ticket], ctx: RunContext) -> Evaluation:
        config: ConfigDueDatesConfig = ctx.job_config  # type: ignore[assignment]
        rules = DueDateRules(
            org_pattern=config.org_pattern,
            priority_installers=tuple(ctx.settings.priority_installers),
        )
        evaluation = evaluate_due_dates(data, ctx.now, rules, ctx.calendar)
        findings = [
            f if f.url else replace(f, url=ctx.browse_url(f.item)) for f in evaluation.findings
        ]
        return replace(evaluation, findings=findings)

    def plan(self, work: Work[list[Ticket]], ctx: RunContext) -> list[Action]:
        return digest_actions(work.fresh, ctx)


JOB = ConfigDueDatesJob
