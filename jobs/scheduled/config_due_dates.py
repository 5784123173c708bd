"""config_due_dates: one daily digest of CS tasks whose Configuration, QA or Due Date has come.

One paged search a run: the config project's open tasks with any of the three dates on or
before the desk's today (`tasks_jql`; a date picker holds a day, so no timezone enters). How
many business days late, and whether a date is today or past, is decided in memory on the
desk calendar (`jobs.rules.config_due_dates`).

Sends one Slack message to the alert channel listing each task (key, organization, which
date, how late), mentioning its assignee and QA assignee (looked up by email; the name when
Slack does not know them). Each task is listed once per business day: the finding's episode
is the desk's date, so the hourly runs after the first add only tasks that became due since.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from jobs.config import PersonConfig
from jobs.job import Job, JobSpec, Work, config_of
from jobs.jql import jql_quote
from jobs.model import Action, ActionKind, Evaluation, Person, Ticket
from jobs.rules.config_due_dates import JOB_NAME, ConfigDueDatesConfig, evaluate_due_dates

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

SPEC = JobSpec(
    name=JOB_NAME,
    description="Daily Slack digest of CS tasks whose Configuration/QA/Due Date has come",
    config_model=ConfigDueDatesConfig,
    systems=frozenset({"jira", "slack"}),
)


DATE_FIELDS = ("Configuration Date", "QA Due Date", "duedate")
"""The dates a task is due by, as the search names them (JQL takes ``duedate`` for Due Date)."""


def tasks_jql(
    config: ConfigDueDatesConfig,
    config_project: str,
    today: date,
    with_time: frozenset[str] = frozenset(),
) -> str:
    """Open tasks with a date on or before ``today`` (the desk's date).

    A date picker holds a day, not a moment, so ``< tomorrow`` is exact in any timezone. A
    field in ``with_time`` (a site whose field is a date-time picker, which `doctor` flags)
    is read by Jira in its API user's timezone: two days of slack keep every moment of the
    desk's today whatever that timezone, and the rule decides exactly which are due."""
    if config.jql:
        return config.jql
    types = ", ".join(jql_quote(name) for name in config.issue_types)
    tomorrow = jql_quote((today + timedelta(days=1)).isoformat())
    slack = jql_quote((today + timedelta(days=2)).isoformat())
    dates = " OR ".join(
        f"{jql_quote(name) if ' ' in name else name} < {slack if name in with_time else tomorrow}"
        for name in DATE_FIELDS
    )
    return (
        f"project = {jql_quote(config_project)} AND issuetype in ({types}) AND "
        f"statusCategory != Done AND ({dates}) ORDER BY key"
    )


class Mentions:
    """Slack mentions for people named on tickets: configured Slack ids first, then by email.

    A lookup that fails (Slack down, unknown email) falls back to the escaped name: the digest
    is worth sending without a ping.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.people: list[PersonConfig] = list(ctx.settings.people.values())

    def _configured(self, person: Person) -> PersonConfig | None:
        email = (person.email or "").casefold()
        for configured in self.people:
            if person.account_id and configured.jira_account_id == person.account_id:
                return configured
            if email and (configured.email or "").casefold() == email:
                return configured
        return None

    def __call__(self, person: Person | None) -> str:
        from jobs.adapters.http import AdapterError, CredentialError
        from jobs.render.slack import escape

        if person is None:
            return "_unassigned_"
        configured = self._configured(person)
        if configured is not None and configured.slack_user:
            user = configured.slack_user
            return user if user.startswith("<") else f"<@{user}>"
        email = person.email or (configured.email if configured else None)
        name = person.display_name or (configured.name if configured else None) or email
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
        return escape(str(name or "someone"))


class ConfigDueDatesJob(Job[list[Ticket]]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> list[Ticket]:
        config = config_of(ctx, ConfigDueDatesConfig)
        with_time = frozenset(
            name for name in DATE_FIELDS if ctx.jira.field_type(name) not in (None, "date")
        )
        today = ctx.calendar.local_date(ctx.now)
        jql = tasks_jql(config, ctx.desk.config_project, today, with_time)
        return list(ctx.jira.search(jql, list(TASK_FIELDS)))

    def evaluate(self, data: list[Ticket], ctx: RunContext) -> Evaluation:
        config = config_of(ctx, ConfigDueDatesConfig)
        return evaluate_due_dates(data, ctx.now, config, ctx.desk, ctx.calendar)

    def plan(self, work: Work[list[Ticket]], ctx: RunContext) -> list[Action]:
        from jobs.render.config_due_dates import digest_messages

        cap = ctx.settings.run.max_alerts_per_message
        return [
            Action(
                kind=ActionKind.SLACK_POST,
                target=ctx.alert_channel,
                findings=findings,
                text=text,
                blocks=blocks,
            )
            for findings, text, blocks in digest_messages(work.fresh, Mentions(ctx), cap)
        ]


JOB = ConfigDueDatesJob
