"""Every Monday, "Onboard Reset - Release tonight" to every customer testing on Onboard (SOP 003).

Onboard is reset on Monday nights with the weekly release, so a document waiting for review
disappears from it. Each outstanding Onboard task (a CS ticket On Hold for testing, its
linked SS ticket not done) gets one public comment on the SS ticket per ISO week.

Exactly once: the ledger dedups by (ticket, ISO week) and claims atomically, so two pods
never both send; the reply ends with ``Ref: SS-412 · onboard-reset · 2026-W48``, and the
pipeline looks for that line in the ticket's comments before sending (those the search read
seconds before, with every comment; the ticket is read again after an attempt whose outcome is
unknown), so a crash between sending and recording, or a lost ledger, never sends a second
email.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jobs.job import Job, JobSpec, Work, config_of
from jobs.model import Action, ActionKind, Evaluation, Ticket
from jobs.render.templates import TemplateSpec
from jobs.rules.onboard_reset_reminder import (
    JOB_NAME,
    OnboardResetReminderConfig,
    ResetDetail,
    evaluate_reset,
)
from jobs.rules.onboard_testing import TaskDetail

if TYPE_CHECKING:
    from jobs.context import RunContext

CS_FIELDS = ("summary", "status", "issuelinks", "labels")
SS_FIELDS = ("summary", "status", "reporter", "Organizations", "labels", "comment")
"""The comments too: the reply's reference line is looked for in them before it is sent."""

RESET_TEMPLATE = TemplateSpec(
    "Onboard Reset - Release tonight",
    frozenset({"customer_name", "organization", "ticket_key", "request_summary", "marker"}),
)


SPEC = JobSpec(
    name=JOB_NAME,
    description="Mondays: 'Onboard Reset - Release tonight' to customers testing on Onboard",
    config_model=OnboardResetReminderConfig,
    systems=frozenset({"jira"}),
    templates=(RESET_TEMPLATE,),
)


@dataclass(frozen=True)
class OnboardData:
    """The On Hold CS tickets and, by key, the SS tickets they link to (one search each)."""

    on_hold_cs: list[Ticket]
    ss_tickets: Mapping[str, Ticket] = field(default_factory=dict)


def on_hold_jql(ctx: RunContext, on_hold_status: str) -> str:
    from jobs.adapters.jira import jql_quote

    project = ctx.desk.config_project
    return f"project = {jql_quote(project)} AND status = {jql_quote(on_hold_status)} ORDER BY key"


def keys_clause(keys: Iterable[str]) -> str:
    from jobs.adapters.jira import jql_quote

    return f"key in ({', '.join(jql_quote(k) for k in keys)})"


def linked_keys(on_hold_cs: Iterable[Ticket], service_desk_project: str) -> list[str]:
    """Every SS key the On Hold CS tickets link to; the rule decides which of them count."""
    prefix = f"{service_desk_project}-"
    keys = {
        link.other_key for t in on_hold_cs for link in t.links if link.other_key.startswith(prefix)
    }
    return sorted(keys)


def complete_comments(ctx: RunContext, tickets: Iterable[Ticket]) -> dict[str, Ticket]:
    """Search results carry a page of comments; fetch the rest only where it was truncated
    (while the search is still paging, when ``tickets`` is one)."""
    return {t.key: t for t in ctx.jira.with_all_comments_as_read(tickets)}


def template_values(detail: TaskDetail, mark: str) -> dict[str, Any]:
    """What the customer replies' templates say of the task."""
    return {
        "customer_name": detail.customer,
        "organization": detail.organization,
        "ticket_key": detail.ss_key,
        "request_summary": detail.summary,
        "marker": mark,
    }


def with_marker(text: str, mark: str) -> str:
    """A desk may drop ``{{ marker }}`` from its template: the reply must still carry it,
    or a rerun could not tell it was sent."""
    return text if mark in text else f"{text.rstrip()}\n\n{mark}\n"


def local_date(at: datetime, ctx: RunContext) -> str:
    """'Friday, November 20' in the desk's timezone, as a customer reads a date."""
    local = at.astimezone(ctx.calendar.tz)
    return f"{local:%A}, {local:%B} {local.day}"


class OnboardResetReminderJob(Job[OnboardData]):
    spec = SPEC

    def fetch(self, ctx: RunContext) -> OnboardData:
        config = config_of(ctx, OnboardResetReminderConfig)
        on_hold = list(ctx.jira.search(on_hold_jql(ctx, config.on_hold_status), list(CS_FIELDS)))
        keys = linked_keys(on_hold, ctx.desk.service_desk_project)
        if not keys:
            return OnboardData(on_hold)
        # With every comment: the pipeline looks for each reply's reference line in them
        # (this search is seconds old) instead of reading the tickets again.
        found = ctx.jira.search(keys_clause(keys), list(SS_FIELDS))
        return OnboardData(on_hold, complete_comments(ctx, found))

    def evaluate(self, data: OnboardData, ctx: RunContext) -> Evaluation:
        config = config_of(ctx, OnboardResetReminderConfig)
        evaluation = evaluate_reset(
            data.on_hold_cs, data.ss_tickets, ctx.now, config, ctx.desk, ctx.calendar
        )
        return replace(evaluation, tickets=data.ss_tickets)

    def plan(self, work: Work[OnboardData], ctx: RunContext) -> list[Action]:
        actions = []
        for finding in work.fresh:
            detail = finding.detail_as(ResetDetail)
            mark = detail.marker
            text = ctx.templates.render(RESET_TEMPLATE, template_values(detail, mark))
            actions.append(
                Action(
                    kind=ActionKind.JIRA_PUBLIC_COMMENT,
                    target=finding.item,
                    findings=[finding],
                    text=with_marker(text, mark),
                    marker=mark,
                )
            )
        return actions


JOB = OnboardResetReminderJob

__all__ = [
    "JOB",
    "SPEC",
    "OnboardData",
    "OnboardResetReminderConfig",
]
